/* SPDX-License-Identifier: Apache-2.0 */
/* delivery items: one delivery (a message to a destination) held in memory, the two FIFOs of
 * each destination (first attempts, retries) and the per-destination state they hang off, kept
 * in a small hash table. */
#include "delivery/worker_int.h"

#include <stdlib.h>
#include <string.h>

struct dest_state *dw_dest_state(struct delivery *dw, int64_t id)
{
	struct dest_state **b = &dw->buckets[(uint64_t)id % DEST_BUCKETS];
	for (struct dest_state *s = *b; s; s = s->next)
		if (s->id == id)
			return s;
	struct dest_state *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->id = id;
	s->next = *b;
	*b = s;
	return s;
}

/* ---- items and their FIFOs ----------------------------------------------------------------- */

void dw_item_free(struct delivery *dw, struct delivery_item *it)
{
	dw->items--;
	if (!it->first)
		dw->retry_items--;
	if (it->pos && it->pos->item == it)
		it->pos->item = NULL;
	for (size_t i = 0; i < sizeof(it->headers) / sizeof(it->headers[0]); i++)
		free(it->headers[i]);
	free(it->module);
	free(it->target);
	free(it->token_id);
	free(it->content_type);
	free(it->body);
	free(it);
}

/* From a row of delivery_take or delivery_claim; cols: message_id, destination_id, module,
 * target, token_public_id, content_type, body. */
struct delivery_item *dw_item_new(struct delivery *dw, PGresult *res, int r, const int cols[7],
				  bool first)
{
	struct delivery_item *it = calloc(1, sizeof(*it));
	if (it == NULL)
		return NULL;
	dw->items++;
	it->dw = dw;
	it->first = first;
	if (!first)
		dw->retry_items++;
	it->message_id = strtoll(PQgetvalue(res, r, cols[0]), NULL, 10);
	it->destination_id = strtoll(PQgetvalue(res, r, cols[1]), NULL, 10);
	it->module = strdup(PQgetvalue(res, r, cols[2]));
	it->target = strdup(PQgetvalue(res, r, cols[3]));
	it->token_id = strdup(PQgetvalue(res, r, cols[4]));
	it->content_type = strdup(PQgetvalue(res, r, cols[5]));
	it->body_len = (size_t)PQgetlength(res, r, cols[6]);
	it->body = malloc(it->body_len + 1);
	it->ds = dw_dest_state(dw, it->destination_id);
	if (!it->module || !it->target || !it->token_id || !it->content_type || !it->body ||
	    !it->ds) {
		dw_item_free(dw, it);
		return NULL;
	}
	memcpy(it->body, PQgetvalue(res, r, cols[6]), it->body_len + 1);
	return it;
}

void dw_fifo_push(struct delivery_item **head, struct delivery_item **tail,
		  struct delivery_item *it)
{
	it->next = NULL;
	if (*tail)
		(*tail)->next = it;
	else
		*head = it;
	*tail = it;
}

struct delivery_item *dw_fifo_pop(struct delivery_item **head, struct delivery_item **tail)
{
	struct delivery_item *it = *head;
	if (it) {
		*head = it->next;
		if (*head == NULL)
			*tail = NULL;
	}
	return it;
}

/* Takes it out of its destination's first-attempt FIFO. */
void dw_fifo_remove_first(struct dest_state *ds, struct delivery_item *it)
{
	struct delivery_item *prev = NULL;
	for (struct delivery_item *x = ds->first_head; x; prev = x, x = x->next) {
		if (x != it)
			continue;
		if (prev)
			prev->next = x->next;
		else
			ds->first_head = x->next;
		if (ds->first_tail == x)
			ds->first_tail = prev;
		ds->firsts--;
		return;
	}
}

void dw_free_dest_states(struct delivery *dw)
{
	for (int b = 0; b < DEST_BUCKETS; b++) {
		while (dw->buckets[b]) {
			struct dest_state *ds = dw->buckets[b];
			dw->buckets[b] = ds->next;
			struct delivery_item *it;
			while ((it = dw_fifo_pop(&ds->first_head, &ds->first_tail)) != NULL)
				dw_item_free(dw, it);
			while ((it = dw_fifo_pop(&ds->retry_head, &ds->retry_tail)) != NULL)
				dw_item_free(dw, it);
			free(ds);
		}
	}
}
