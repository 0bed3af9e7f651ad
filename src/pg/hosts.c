/* SPDX-License-Identifier: Apache-2.0 */
/* hosts: see hosts.h. The lists are kept as libpq parsed them (comma-separated) and rotated
 * as text: the conninfo's own host, hostaddr and port, each starting at the same entry. */
#include "pg/hosts.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

enum { HOSTS_HOST, HOSTS_HOSTADDR, HOSTS_PORT, HOSTS_LISTS };
static const char *const hosts_keys[HOSTS_LISTS] = { "host", "hostaddr", "port" };

struct db_hosts {
	char *list[HOSTS_LISTS];    /* as in the conninfo; NULL when not set */
	char *rotated[HOSTS_LISTS]; /* starting at first; NULL while first is 0 */
	int n;			    /* hosts in the list */
	int first;
	int connect_timeout_s; /* 0: not set */
};

static int items(const char *list)
{
	int n = 1;
	for (const char *p = list; *p; p++)
		n += *p == ',';
	return n;
}

/* The i-th comma-separated item of list, copied into out (of len bytes). */
static void item(const char *list, int i, char *out, size_t len)
{
	while (i-- > 0 && (list = strchr(list, ',')) != NULL)
		list++;
	size_t n = list ? strcspn(list, ",") : 0;
	if (n >= len)
		n = len - 1;
	memcpy(out, list ? list : "", n);
	out[n] = '\0';
}

/* list from its item first on, then its first items: "c,a,b" for "a,b,c" and 2. */
static char *rotate(const char *list, int first)
{
	const char *cut = list;
	for (int i = 0; i < first && cut; i++)
		cut = strchr(cut, ',') ? strchr(cut, ',') + 1 : NULL;
	if (cut == NULL || cut == list)
		return strdup(list);
	size_t tail = strlen(cut), head = (size_t)(cut - list) - 1;
	char *out = malloc(tail + 1 + head + 1);
	if (out == NULL)
		return NULL;
	memcpy(out, cut, tail);
	out[tail] = ',';
	memcpy(out + tail + 1, list, head);
	out[tail + 1 + head] = '\0';
	return out;
}

static bool hosts_parse(struct db_hosts *h, const char *conninfo)
{
	PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
	bool ok = true;
	if (opts == NULL)
		return true; /* hookgated's start-up check reports a bad conninfo */
	for (PQconninfoOption *o = opts; o->keyword; o++) {
		if (o->val == NULL || o->val[0] == '\0')
			continue;
		if (strcmp(o->keyword, "connect_timeout") == 0)
			h->connect_timeout_s = atoi(o->val);
		for (int k = 0; k < HOSTS_LISTS; k++) {
			if (strcmp(o->keyword, hosts_keys[k]) == 0 &&
			    !(h->list[k] = strdup(o->val)))
				ok = false;
		}
	}
	PQconninfoFree(opts);
	return ok;
}

struct db_hosts *db_hosts_new(const char *conninfo)
{
	struct db_hosts *h = calloc(1, sizeof(*h));
	if (h == NULL)
		return NULL;
	if (!hosts_parse(h, conninfo)) {
		db_hosts_free(h);
		return NULL;
	}
	h->n = h->list[HOSTS_HOST]	 ? items(h->list[HOSTS_HOST])
	       : h->list[HOSTS_HOSTADDR] ? items(h->list[HOSTS_HOSTADDR])
					 : 1;
	return h;
}

void db_hosts_free(struct db_hosts *h)
{
	if (h == NULL)
		return;
	for (int k = 0; k < HOSTS_LISTS; k++) {
		free(h->list[k]);
		free(h->rotated[k]);
	}
	free(h);
}

int db_hosts_connect_timeout_ms(const struct db_hosts *h, int dflt_ms)
{
	if (h->connect_timeout_s <= 0)
		return dflt_ms;
	return (h->connect_timeout_s < 2 ? 2 : h->connect_timeout_s) * 1000;
}

/* Whether entry i of the list is host:port. A list of one port applies to every host. */
static bool hosts_match(const struct db_hosts *h, int i, const char *host, const char *port)
{
	char got[256];
	bool named = false;
	for (int k = HOSTS_HOST; k <= HOSTS_HOSTADDR; k++) {
		if (h->list[k] == NULL)
			continue;
		item(h->list[k], i, got, sizeof(got));
		named = named || strcmp(got, host) == 0;
	}
	if (!named || h->list[HOSTS_PORT] == NULL || port == NULL)
		return named;
	item(h->list[HOSTS_PORT], items(h->list[HOSTS_PORT]) == 1 ? 0 : i, got, sizeof(got));
	return strcmp(got, port) == 0;
}

bool db_hosts_skip(struct db_hosts *h, const char *host, const char *port)
{
	int i;
	if (h->n < 2 || host == NULL)
		return false;
	/* The attempt goes through the list in its current order: look from its start. */
	for (i = 0; i < h->n && !hosts_match(h, (h->first + i) % h->n, host, port); i++)
		;
	if (i == h->n)
		return false;
	int first = (h->first + i + 1) % h->n;
	bool ok = true;
	for (int k = 0; k < HOSTS_LISTS; k++) {
		free(h->rotated[k]);
		h->rotated[k] = NULL;
		/* A single port applies to every host: nothing to turn. */
		if (first != 0 && h->list[k] && items(h->list[k]) == h->n)
			ok = (h->rotated[k] = rotate(h->list[k], first)) != NULL && ok;
	}
	h->first = first;
	if (!ok) { /* out of memory: the conninfo's order, rather than lists out of step */
		for (int k = 0; k < HOSTS_LISTS; k++) {
			free(h->rotated[k]);
			h->rotated[k] = NULL;
		}
		h->first = 0;
	}
	return ok;
}

int db_hosts_params(const struct db_hosts *h, const char *keys[3], const char *values[3])
{
	int n = 0;
	for (int k = 0; k < HOSTS_LISTS; k++) {
		if (h->rotated[k] == NULL)
			continue;
		keys[n] = hosts_keys[k];
		values[n++] = h->rotated[k];
	}
	return n;
}
