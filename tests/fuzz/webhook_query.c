/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the webhook call's head checks (src/webhook/request.c): the route, the query string
 * (percent-decoding, zapikey and appkey), the content type and Idempotency-Key. The input is
 * "PATH\nQUERY\nCONTENT-TYPE"; missing parts are absent (NULL). */
#include "fuzz.h"

#include "core/token.h"
#include "core/redact.h"
#include "webhook/request.h"

#include <stdbool.h>

static bool name_chars(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

static void check_route(const char *path)
{
	struct webhook_route r;
	bool found = webhook_route_parse(path, &r);
	size_t n = strlen(r.target);

	FUZZ_CHECK(!(found && r.bad_encoding));
	if (!found || !r.name_valid) {
		FUZZ_CHECK(n == 0);
		return;
	}
	FUZZ_CHECK((int)r.module >= MODULE_CHANNEL && r.module <= MODULE_EXTENSION);
	FUZZ_CHECK(!redact_has_secret(r.target));
	if (r.module == MODULE_EXTENSION)
		FUZZ_CHECK(n == TOKEN_APP_ID_LEN && strncmp(r.target, "app_", 4) == 0);
	else
		FUZZ_CHECK(n >= 1 && n <= MODULE_NAME_MAX && name_chars(r.target));
}

static void check_query(const char *query)
{
	struct webhook_query q;
	if (webhook_query_parse(query, &q) != WEBHOOK_QUERY_OK) {
		FUZZ_CHECK(q.reason != NULL && *q.reason);
		return;
	}
	FUZZ_CHECK(!q.has_zapikey || (q.zapikey_len == strlen(q.zapikey) &&
				      q.zapikey_len <= WEBHOOK_QUERY_VALUE_MAX));
	FUZZ_CHECK(!q.has_appkey ||
		   (q.appkey_len == strlen(q.appkey) && q.appkey_len <= WEBHOOK_QUERY_VALUE_MAX));
}

static void check_idempotency_key(const char *key)
{
	if (!webhook_idempotency_key_valid(key))
		return;
	size_t n = strlen(key);
	FUZZ_CHECK(n >= 1 && n <= WEBHOOK_IDEM_KEY_MAX && key[0] != ' ' && key[n - 1] != ' ');
	for (const char *p = key; *p; p++)
		FUZZ_CHECK(*p >= 0x20 && *p <= 0x7e);
}

/* The head decides a refusal exactly when one of its parts is refused. */
static void check_body_needed(const char *path, const char *query, const char *ctype)
{
	struct webhook_route r;
	struct webhook_query q;
	FUZZ_CHECK(!webhook_body_needed(false, path, query, NULL, ctype));
	if (!webhook_body_needed(true, path, query, NULL, ctype))
		return;
	FUZZ_CHECK(webhook_route_parse(path, &r) && r.name_valid);
	FUZZ_CHECK(webhook_query_parse(query, &q) == WEBHOOK_QUERY_OK && q.has_zapikey);
	FUZZ_CHECK(token_check_format(q.zapikey, q.zapikey_len));
	FUZZ_CHECK(webhook_body_kind_accepted(r.module, webhook_content_type(ctype)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	char *path = text, *query = strchr(path, '\n'), *ctype = NULL;

	if (query) {
		*query++ = '\0';
		if ((ctype = strchr(query, '\n')) != NULL)
			*ctype++ = '\0';
	}
	check_route(path);
	check_query(query);
	FUZZ_CHECK(webhook_content_type(ctype) <= WEBHOOK_BODY_OTHER);
	check_idempotency_key(path);
	check_body_needed(path, query, ctype);
	free(text);
	return 0;
}
