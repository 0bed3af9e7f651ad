/* SPDX-License-Identifier: Apache-2.0 */
/* admin_pwcheck: see admin/pwcheck.h.
 *
 * Why threads here and nowhere else: everything else the admin worker does waits on I/O and
 * fits the event loop, but a password check is pure CPU. Run inline, each login attempt would
 * freeze the loop for ~100 ms (every session check, token list and healthz of the worker
 * behind it), and a burst of bad logins would freeze it for seconds. So a small fixed pool of
 * threads takes jobs from a mutex-protected queue; a finished job's pointer is written to a
 * pipe, which the loop watches like any other fd. Nothing but the job itself crosses threads:
 * the threads never touch libevent, the request or the database. The queue is bounded so that
 * a flood of logins gets 503 instead of unbounded memory (each check holds 32 MiB), and each
 * client's share of it too, so that one client's flood leaves room for the others. */
#include "admin/pwcheck.h"
#include "core/crypto.h"
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include <openssl/crypto.h>

struct pwcheck_job {
	TAILQ_ENTRY(pwcheck_job) next;
	int64_t key;
	char *password;
	char *stored; /* NULL: unknown user */
	bool verified;
	admin_pwcheck_cb cb;
	void *arg;
};
TAILQ_HEAD(pwcheck_queue, pwcheck_job);

/* How many outstanding jobs a key has; n == 0: a free entry. */
struct pwcheck_holder {
	int64_t key;
	int n;
};

struct admin_pwcheck {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct pwcheck_queue queue; /* waiting for a thread */
	int outstanding;	    /* submitted and not yet delivered */
	int max_pending;
	int max_per_key;
	struct pwcheck_holder *holders; /* max_pending entries: a key per outstanding job at most */
	bool stopping;
	pthread_t *threads;
	int nthreads;
	int pipe_rd, pipe_wr;
	struct event *ev;
};

static void job_free(struct pwcheck_job *job)
{
	if (job->password) {
		OPENSSL_cleanse(job->password, strlen(job->password));
		free(job->password);
	}
	free(job->stored);
	free(job);
}

/* Under the lock: the entry of key, else a free one (NULL when none is). */
static struct pwcheck_holder *pwcheck_holder(struct admin_pwcheck *pc, int64_t key)
{
	struct pwcheck_holder *free_entry = NULL;

	for (int i = 0; i < pc->max_pending; i++) {
		struct pwcheck_holder *h = &pc->holders[i];
		if (h->n > 0 && h->key == key)
			return h;
		if (h->n == 0 && free_entry == NULL)
			free_entry = h;
	}
	return free_entry;
}

static void *pwcheck_thread(void *arg)
{
	struct admin_pwcheck *pc = arg;

	for (;;) {
		pthread_mutex_lock(&pc->lock);
		while (!pc->stopping && TAILQ_EMPTY(&pc->queue))
			pthread_cond_wait(&pc->wake, &pc->lock);
		struct pwcheck_job *job = pc->stopping ? NULL : TAILQ_FIRST(&pc->queue);
		if (job)
			TAILQ_REMOVE(&pc->queue, job, next);
		pthread_mutex_unlock(&pc->lock);
		if (job == NULL)
			return NULL;
		job->verified = crypto_password_verify(job->password, job->stored);
		/* A pointer is far below PIPE_BUF, so the write is atomic; the pipe holds far more
		 * pointers than max_pending, so it never blocks for long. */
		ssize_t n;
		do {
			n = write(pc->pipe_wr, &job, sizeof(job));
		} while (n < 0 && errno == EINTR);
		if (n != (ssize_t)sizeof(job))
			log_error("password check: cannot hand a result back: %s", strerror(errno));
	}
}

static void deliver(struct admin_pwcheck *pc, struct pwcheck_job *job, bool cancelled)
{
	pthread_mutex_lock(&pc->lock);
	pc->outstanding--;
	pwcheck_holder(pc, job->key)->n--;
	pthread_mutex_unlock(&pc->lock);
	job->cb(job->verified && !cancelled, cancelled, job->arg);
	job_free(job);
}

static void pwcheck_ready_cb(evutil_socket_t fd, short what, void *arg)
{
	struct admin_pwcheck *pc = arg;
	struct pwcheck_job *job;
	(void)what;

	while (read(fd, &job, sizeof(job)) == (ssize_t)sizeof(job))
		deliver(pc, job, false);
}

static bool pwcheck_start_threads(struct admin_pwcheck *pc, int threads)
{
	sigset_t all, old;

	/* The threads inherit a mask that blocks every signal, so signals keep reaching the
	 * loop's thread, where libevent turns them into callbacks. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (int i = 0; i < threads; i++) {
		if (pthread_create(&pc->threads[i], NULL, pwcheck_thread, pc) != 0)
			break;
		pc->nthreads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return pc->nthreads == threads;
}

struct admin_pwcheck *admin_pwcheck_new(struct event_base *base, int threads, int max_pending,
					int max_per_key)
{
	struct admin_pwcheck *pc = calloc(1, sizeof(*pc));
	int fds[2];

	if (pc == NULL)
		return NULL;
	pthread_mutex_init(&pc->lock, NULL);
	pthread_cond_init(&pc->wake, NULL);
	TAILQ_INIT(&pc->queue);
	pc->max_pending = max_pending;
	pc->max_per_key = max_per_key;
	pc->pipe_rd = pc->pipe_wr = -1;
	pc->threads = calloc((size_t)threads, sizeof(*pc->threads));
	pc->holders = calloc((size_t)max_pending, sizeof(*pc->holders));
	if (pc->threads == NULL || pc->holders == NULL || pipe(fds) != 0) {
		admin_pwcheck_free(pc);
		return NULL;
	}
	pc->pipe_rd = fds[0];
	pc->pipe_wr = fds[1];
	fcntl(pc->pipe_rd, F_SETFL, fcntl(pc->pipe_rd, F_GETFL) | O_NONBLOCK);
	fcntl(pc->pipe_rd, F_SETFD, FD_CLOEXEC);
	fcntl(pc->pipe_wr, F_SETFD, FD_CLOEXEC);
	pc->ev = event_new(base, pc->pipe_rd, EV_READ | EV_PERSIST, pwcheck_ready_cb, pc);
	if (pc->ev == NULL || event_add(pc->ev, NULL) != 0 || !pwcheck_start_threads(pc, threads)) {
		admin_pwcheck_free(pc);
		return NULL;
	}
	return pc;
}

enum admin_pwcheck_submitted admin_pwcheck_submit(struct admin_pwcheck *pc, int64_t key,
						  const char *password, const char *stored,
						  admin_pwcheck_cb cb, void *arg)
{
	struct pwcheck_job *job = calloc(1, sizeof(*job));
	enum admin_pwcheck_submitted r = ADMIN_PWCHECK_QUEUED;

	if (job == NULL)
		return ADMIN_PWCHECK_NOMEM;
	job->key = key;
	job->password = strdup(password);
	job->stored = stored ? strdup(stored) : NULL;
	job->cb = cb;
	job->arg = arg;
	if (job->password == NULL || (stored && job->stored == NULL)) {
		job_free(job);
		return ADMIN_PWCHECK_NOMEM;
	}
	pthread_mutex_lock(&pc->lock);
	/* Every key with outstanding jobs has an entry, so one is free while there is room. */
	struct pwcheck_holder *h = pwcheck_holder(pc, key);
	if (h && h->n >= pc->max_per_key)
		r = ADMIN_PWCHECK_KEY_FULL;
	else if (h == NULL || pc->outstanding >= pc->max_pending)
		r = ADMIN_PWCHECK_FULL;
	if (r == ADMIN_PWCHECK_QUEUED) {
		h->key = key;
		h->n++;
		pc->outstanding++;
		TAILQ_INSERT_TAIL(&pc->queue, job, next);
		pthread_cond_signal(&pc->wake);
	}
	pthread_mutex_unlock(&pc->lock);
	if (r != ADMIN_PWCHECK_QUEUED)
		job_free(job);
	return r;
}

void admin_pwcheck_free(struct admin_pwcheck *pc)
{
	struct pwcheck_job *job;

	if (pc == NULL)
		return;
	pthread_mutex_lock(&pc->lock);
	pc->stopping = true;
	pthread_cond_broadcast(&pc->wake);
	pthread_mutex_unlock(&pc->lock);
	for (int i = 0; i < pc->nthreads; i++)
		pthread_join(pc->threads[i], NULL);
	/* No thread runs any more: finished jobs sit in the pipe, the others in the queue. */
	while (pc->pipe_rd >= 0 && read(pc->pipe_rd, &job, sizeof(job)) == (ssize_t)sizeof(job))
		deliver(pc, job, true);
	while ((job = TAILQ_FIRST(&pc->queue)) != NULL) {
		TAILQ_REMOVE(&pc->queue, job, next);
		deliver(pc, job, true);
	}
	if (pc->ev)
		event_free(pc->ev);
	if (pc->pipe_rd >= 0)
		close(pc->pipe_rd);
	if (pc->pipe_wr >= 0)
		close(pc->pipe_wr);
	free(pc->threads);
	free(pc->holders);
	pthread_cond_destroy(&pc->wake);
	pthread_mutex_destroy(&pc->lock);
	free(pc);
}
