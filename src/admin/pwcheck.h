/* SPDX-License-Identifier: Apache-2.0 */
/* admin_pwcheck: password verification off the admin worker's event loop. scrypt costs about
 * 100 ms of CPU and 32 MiB per check; a few threads run it and hand each result back to the
 * loop through a pipe. The only threads in hookgated. */
#ifndef HG_ADMIN_PWCHECK_H
#define HG_ADMIN_PWCHECK_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

struct admin_pwcheck;

/* Runs on the loop. cancelled: the worker is shutting down and the request is gone, so the
 * callee only frees its state. */
typedef void (*admin_pwcheck_cb)(bool verified, bool cancelled, void *arg);

enum admin_pwcheck_submitted {
	ADMIN_PWCHECK_QUEUED,
	ADMIN_PWCHECK_KEY_FULL, /* max_per_key of the checks in the queue are this key's */
	ADMIN_PWCHECK_FULL,	/* max_pending checks wait or run */
	ADMIN_PWCHECK_NOMEM,
};

/* threads verifications at a time, at most max_pending waiting or running, of which at most
 * max_per_key submitted with one key (the client address's), so that one client cannot fill
 * the queue. */
struct admin_pwcheck *admin_pwcheck_new(struct event_base *base, int threads, int max_pending,
					int max_per_key);
/* Copies password and stored (NULL for an unknown user: the same work is done, the answer is
 * false). Unless QUEUED, cb is never called. */
enum admin_pwcheck_submitted admin_pwcheck_submit(struct admin_pwcheck *pc, int64_t key,
						  const char *password, const char *stored,
						  admin_pwcheck_cb cb, void *arg);
/* Joins the threads; every job not delivered yet gets cb(false, true, arg). */
void admin_pwcheck_free(struct admin_pwcheck *pc);

#endif
