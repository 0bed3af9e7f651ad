/* SPDX-License-Identifier: Apache-2.0 */
/* master: see master.h.
 *
 * Signals are blocked for the whole life of the master and taken synchronously with
 * sigtimedwait(): the loop wakes on a signal or every tick, acts on it, then reaps every exited
 * child. Nothing runs inside a signal handler, so nothing can be interrupted half-way. */
#include "daemon/master.h"
#include "daemon/check.h"
#include "daemon/notify.h"
#include "core/config.h"
#include "core/crypto.h"
#include "proc/listener.h"
#include "core/log.h"
#include "proc/proctitle.h"
#include "proc/metrics.h"
#include "proc/ratelimit.h"
#include "core/redact.h"
#include "core/schema.h"
#include "proc/roles.h"
#include "lib/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#define MASTER_TICK_MS 100
#define RESPAWN_QUICK_MS 1000 /* a worker that dies sooner counts as a crash loop */
#define RESPAWN_BACKOFF_MAX_MS 10000
#define QUIT_WAIT_MS 1000
#define RATELIMIT_SLOTS 65536
#define REVOKE_BUDGET_SLOTS 4096 /* client addresses reporting leaked tokens */
/* Metrics slots (about 1.5 KiB each, touched only when taken): room for the master and
 * several generations of the largest configuration during reloads; a dead process's slot is
 * taken over by the next process. */
#define METRICS_SLOTS 1024

/* One process of a role (roles.h); the table of slots is rebuilt from the roles on a reload. */
struct master_slot {
	const struct role *role;
	int index;    /* 1..N in a numbered role, else 0 */
	pid_t pid;    /* 0 while waiting to be (re)spawned */
	bool spawned; /* a process of this slot ran before: the next one is a restart */
	bool up;      /* its current process reported that it serves (ready pipe) */
	int64_t started_ms;
	int quick_deaths;
	int64_t respawn_at_ms;
};

struct master {
	struct hg_config cfg;
	const char *config_path;
	int listen_fds[ROLE_LISTENERS]; /* by enum role_listener; -1 for none */
	int alive_pipe[2];  /* workers hold the read end: EOF tells them the master died */
	int ready_pipe[2];  /* workers write their pid once they serve; non-blocking both ends */
	bool ready_pending; /* the service manager waits for this generation's READY=1 */
	struct master_slot *slots;
	int nslots;
	/* Token buckets shared by every webhook worker, of every generation: made before the
	 * first fork so that a reload keeps the buckets. */
	struct ratelimit *ratelimit;
	/* Likewise for the reports of leaked tokens, keyed by client address (webhook/revoke.h). */
	struct ratelimit *revoke_budget;
	/* This hookgated among the nodes that share the rate limits (housekeeping/rate_shares.h):
	 * made with the table, so that a reload keeps it. */
	int64_t node_id;
	/* The metrics every process writes and the metrics role sums; made before the first
	 * fork for the same reason, and so that a restarted worker adds to its totals. */
	struct metrics *metrics;
	pid_t *retiring; /* the previous generation, draining after a reload */
	int nretiring;
	bool stopping;
	int64_t stop_deadline_ms;
	sigset_t signals;
};

/* Start-up failures: one line on stderr (and in the log when it is not stderr), exit 1. */
__attribute__((noreturn, format(printf, 1, 2))) static void die(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	int len = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	redact_secrets(msg, len >= (int)sizeof(msg)); /* as log_msg does */
	fprintf(stderr, "hookgated: %s\n", msg);
	if (!log_to_stderr())
		log_error("%s", msg);
	exit(1);
}

static int pg_schema_version(PGconn *pg, char *err, size_t errlen)
{
	PGresult *res =
		PQexecParams(pg, "SELECT coalesce(max(version), 0) FROM hookgate.schema_migrations",
			     0, NULL, NULL, NULL, NULL, 0);
	int version = -1;
	if (PQresultStatus(res) == PGRES_TUPLES_OK) {
		version = atoi(PQgetvalue(res, 0, 0));
	} else {
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		/* undefined_table / invalid_schema_name: nothing was ever migrated */
		if (state && (strcmp(state, "42P01") == 0 || strcmp(state, "3F000") == 0))
			version = 0;
		else
			snprintf(err, errlen, "%s", PQerrorMessage(pg));
	}
	PQclear(res);
	return version;
}

/* Blocking libpq is fine here: the master has no event loop and nothing runs yet. */
static void master_check_database(const struct hg_config *cfg)
{
	const char *keys[] = { "connect_timeout", "dbname", NULL };
	const char *values[] = { "5", cfg->conninfo, NULL };
	char err[512] = "";

	PGconn *pg = PQconnectdbParams(keys, values, 1);
	if (PQstatus(pg) != CONNECTION_OK) {
		snprintf(err, sizeof(err), "%s", PQerrorMessage(pg));
		PQfinish(pg);
		err[strcspn(err, "\n")] = '\0';
		die("cannot connect to PostgreSQL: %s", err);
	}
	int version = pg_schema_version(pg, err, sizeof(err));
	PQfinish(pg);
	err[strcspn(err, "\n")] = '\0';
	if (version < 0)
		die("cannot read the schema version: %s", err);
	if (version < HG_SCHEMA_VERSION)
		die("database schema is not migrated (version %d, need %d); run hookgatectl "
		    "migrate",
		    version, HG_SCHEMA_VERSION);
}

static void slot_title(const struct master_slot *slot, char *buf, size_t len)
{
	role_title(slot->role, slot->index, buf, len);
}

/* In the child: undo what only the master needs, then run the worker. */
__attribute__((noreturn)) static void master_child(struct master *m, struct master_slot *slot)
{
	char role[48], title[64];
	sigset_t none;

	close(m->alive_pipe[1]);
	close(m->ready_pipe[0]);
	if (m->metrics != NULL && !metrics_attach(m->metrics))
		log_warn("no free metrics slot: this process's counts are not exposed");
	/* Until the worker's loop takes them as events, SIGUSR1 and SIGHUP would kill it by their
	 * default action: a log rotation at the moment of a respawn must not. */
	signal(SIGUSR1, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	slot_title(slot, role, sizeof(role));
	snprintf(title, sizeof(title), "hookgated: %s", role);
	proctitle_set(title);
	log_set_role(role);
	const struct role_args args = {
		.cfg = &m->cfg,
		.index = slot->index,
		.listen_fd = m->listen_fds[slot->role->listener],
		.parent_fd = m->alive_pipe[0],
		.ready_fd = m->ready_pipe[1],
		.ratelimit = m->ratelimit,
		.revoke_budget = m->revoke_budget,
		.node_id = m->node_id,
		.restarted = slot->spawned,
	};
	int status = slot->role->main(&args);
	free(m->slots);
	free(m->retiring);
	cfg_free(&m->cfg);
	log_close();
	exit(status);
}

static void master_spawn(struct master *m, struct master_slot *slot)
{
	char role[48];
	slot_title(slot, role, sizeof(role));
	pid_t pid = fork();
	if (pid < 0) {
		log_error("cannot start %s: fork(): %s", role, strerror(errno));
		slot->respawn_at_ms = clock_mono_ms() + RESPAWN_BACKOFF_MAX_MS / 10;
		return;
	}
	if (pid == 0)
		master_child(m, slot);
	slot->pid = pid;
	slot->up = false;
	slot->spawned = true;
	slot->started_ms = clock_mono_ms();
	slot->respawn_at_ms = 0;
	log_debug("started %s (pid %d)", role, (int)pid);
}

/* One slot per process each role asks for, in the order of the role table. */
static bool master_make_slots(struct master *m)
{
	int n = 0;
	for (size_t r = 0; r < roles_count; r++)
		n += roles[r].count(&m->cfg);
	struct master_slot *slots = calloc((size_t)n, sizeof(*slots));
	if (slots == NULL)
		return false;
	struct master_slot *slot = slots;
	for (size_t r = 0; r < roles_count; r++) {
		int count = roles[r].count(&m->cfg);
		for (int i = 1; i <= count; i++, slot++) {
			slot->role = &roles[r];
			slot->index = roles[r].numbered ? i : 0;
		}
	}
	free(m->slots);
	m->slots = slots;
	m->nslots = n;
	return true;
}

static void describe_exit(int status, char *buf, size_t len)
{
	if (WIFSIGNALED(status))
		snprintf(buf, len, "was killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
}

/* Crash loops back off (100 ms, 200 ms, … 10 s); a worker that ran a while comes back at once. */
static void slot_died(struct master *m, struct master_slot *slot, int status)
{
	char role[48], how[64];
	int64_t now = clock_mono_ms();

	slot_title(slot, role, sizeof(role));
	describe_exit(status, how, sizeof(how));
	slot->pid = 0;
	if (m->stopping) {
		log_info("%s %s", role, how);
		return;
	}
	slot->quick_deaths = now - slot->started_ms < RESPAWN_QUICK_MS ? slot->quick_deaths + 1 : 0;
	int64_t delay = 0;
	if (slot->quick_deaths > 0) {
		delay = 100LL << (slot->quick_deaths > 7 ? 7 : slot->quick_deaths - 1);
		if (delay > RESPAWN_BACKOFF_MAX_MS)
			delay = RESPAWN_BACKOFF_MAX_MS;
	}
	slot->respawn_at_ms = now + delay;
	metrics_restart((int)(slot->role - roles));
	log_warn("%s %s; restarting it%s", role, how, delay ? " after a back-off" : "");
}

static bool forget_retiring(struct master *m, pid_t pid)
{
	for (int i = 0; i < m->nretiring; i++) {
		if (m->retiring[i] == pid) {
			m->retiring[i] = m->retiring[--m->nretiring];
			return true;
		}
	}
	return false;
}

static void master_reap(struct master *m)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (forget_retiring(m, pid))
			continue;
		for (int i = 0; i < m->nslots; i++) {
			if (m->slots[i].pid == pid) {
				slot_died(m, &m->slots[i], status);
				break;
			}
		}
	}
}

static void master_respawn_due(struct master *m)
{
	int64_t now = clock_mono_ms();
	if (m->stopping)
		return;
	for (int i = 0; i < m->nslots; i++) {
		struct master_slot *slot = &m->slots[i];
		if (slot->pid == 0 && slot->respawn_at_ms <= now)
			master_spawn(m, slot);
	}
}

static int master_children(const struct master *m)
{
	int n = m->nretiring;
	for (int i = 0; i < m->nslots; i++)
		n += m->slots[i].pid != 0;
	return n;
}

static void master_signal_all(struct master *m, int sig)
{
	for (int i = 0; i < m->nslots; i++)
		if (m->slots[i].pid)
			kill(m->slots[i].pid, sig);
	for (int i = 0; i < m->nretiring; i++)
		kill(m->retiring[i], sig);
}

/* The old generation drains (SIGTERM) while the new one already accepts from the same
 * sockets, so no accepted connection is dropped. */
static bool master_retire_all(struct master *m)
{
	pid_t *list = realloc(m->retiring, (size_t)(m->nretiring + m->nslots) * sizeof(pid_t));
	if (list == NULL)
		return false;
	m->retiring = list;
	for (int i = 0; i < m->nslots; i++) {
		if (m->slots[i].pid) {
			kill(m->slots[i].pid, SIGTERM);
			m->retiring[m->nretiring++] = m->slots[i].pid;
			m->slots[i].pid = 0;
		}
	}
	return true;
}

/* Says nothing itself: at start-up the failure is one line on stderr (die), on a reload a
 * line in the log still open. */
static bool master_apply_log(const struct hg_config *cfg, const char *target)
{
	const struct log_options opt = { target ? target : cfg->log_file,
					 (enum log_level)cfg->log_level,
					 (enum log_format)cfg->log_format, cfg->log_syslog_facility,
					 cfg->log_syslog_ident };
	return log_open(&opt);
}

static void master_reload(struct master *m)
{
	struct hg_config next;
	char err[1024], keys[256];

	log_info("SIGHUP: reloading %s", m->config_path);
	/* Until the new generation reports up (or the reload fails and the old one stays). */
	notify_reloading();
	m->ready_pending = true;
	if (!cfg_load(m->config_path, &next, err, sizeof(err))) {
		log_error("reload failed: %s; keeping the current configuration", err);
		return;
	}
	if (cfg_unreloadable_changes(&m->cfg, &next, keys, sizeof(keys)) > 0) {
		log_error("reload failed: %s cannot change without a restart; keeping the current "
			  "configuration",
			  keys);
		cfg_free(&next);
		return;
	}
	if (!master_apply_log(&next, NULL)) {
		log_error("cannot open log file %s: %s; logging on to %s", next.log_file,
			  strerror(errno), m->cfg.log_file);
		master_apply_log(&m->cfg, NULL);
	}
	if (!master_retire_all(m)) {
		log_error("reload failed: out of memory");
		cfg_free(&next);
		return;
	}
	cfg_free(&m->cfg);
	m->cfg = next;
	if (!master_make_slots(m))
		log_error("out of memory while rebuilding the worker table");
	master_respawn_due(m);
	log_info("configuration reloaded; workers replaced");
}

/* SIGUSR1, after logrotate moved the file: every process re-opens it by its path, and the
 * workers go on serving (a reload would replace them). A file that cannot be re-opened keeps
 * the old one, so no line is lost. */
static void master_reopen_log(struct master *m)
{
	if (log_reopen())
		log_info("SIGUSR1: log file reopened");
	else
		log_error("SIGUSR1: cannot reopen log file %s: %s; logging on to the old file",
			  m->cfg.log_file, strerror(errno));
	master_signal_all(m, SIGUSR1);
}

static void master_stop(struct master *m, int sig)
{
	if (!m->stopping)
		notify_stopping();
	if (sig == SIGQUIT) {
		log_info("SIGQUIT: stopping now");
		master_signal_all(m, SIGQUIT);
		m->stop_deadline_ms = clock_mono_ms() + QUIT_WAIT_MS;
	} else {
		log_info("%s: stopping gracefully", sig == SIGINT ? "SIGINT" : "SIGTERM");
		master_signal_all(m, SIGTERM);
		if (!m->stopping)
			m->stop_deadline_ms = clock_mono_ms() + m->cfg.shutdown_timeout_ms + 1000;
	}
	m->stopping = true;
}

static void master_handle(struct master *m, int sig)
{
	switch (sig) {
	case SIGHUP:
		if (!m->stopping)
			master_reload(m);
		break;
	case SIGUSR1:
		master_reopen_log(m);
		break;
	case SIGTERM:
	case SIGINT:
	case SIGQUIT:
		master_stop(m, sig);
		break;
	default: /* SIGCHLD and ticks: reaping below */
		break;
	}
}

/* The pids the workers wrote once they served (worker_report_ready). A pid no slot holds any
 * more (a worker that died or was retired since) is ignored. */
static void master_read_ready(struct master *m)
{
	pid_t pids[64];
	ssize_t n;
	while ((n = read(m->ready_pipe[0], pids, sizeof(pids))) > 0) {
		for (size_t k = 0; k < (size_t)n / sizeof(pid_t); k++)
			for (int i = 0; i < m->nslots; i++)
				if (m->slots[i].pid == pids[k])
					m->slots[i].up = true;
	}
}

/* READY=1 once every process of the current generation serves: at start-up that is when
 * dependants may rely on the listeners being answered, after a reload when the new
 * configuration is in force. A failed reload keeps the old generation, which is up. The pipe
 * is emptied every tick, so that reports of respawned workers never pile up in it. */
static void master_notify_when_up(struct master *m)
{
	master_read_ready(m);
	if (!m->ready_pending || m->stopping)
		return;
	for (int i = 0; i < m->nslots; i++)
		if (!m->slots[i].up)
			return;
	m->ready_pending = false;
	notify_ready();
	log_debug("every worker serves; told the service manager");
}

static void master_loop(struct master *m)
{
	const struct timespec tick = { 0, MASTER_TICK_MS * 1000000L };
	for (;;) {
		int sig = sigtimedwait(&m->signals, NULL, &tick);
		if (sig > 0)
			master_handle(m, sig);
		master_reap(m);
		if (m->stopping && master_children(m) == 0)
			return;
		if (m->stopping && clock_mono_ms() > m->stop_deadline_ms) {
			log_warn("workers did not stop in time; killing them");
			master_signal_all(m, SIGKILL);
			m->stop_deadline_ms = clock_mono_ms() + QUIT_WAIT_MS;
		}
		master_respawn_due(m);
		master_notify_when_up(m);
	}
}

/* Without --foreground: detach once every start-up check has passed, so failures still reach
 * the terminal. Logging to stderr would go nowhere afterwards, so it moves to syslog. */
static void master_detach(struct master *m)
{
	if (strcmp(m->cfg.log_file, "stderr") == 0) {
		fprintf(stderr,
			"hookgated: log.file is stderr; logging to syslog while detached\n");
		master_apply_log(&m->cfg, "syslog");
	}
	pid_t pid = fork();
	if (pid < 0)
		die("cannot detach: fork(): %s", strerror(errno));
	if (pid > 0)
		_exit(0);
	setsid();
	int fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
}

/* Each worker holds up to a few thousand connections; the usual soft limit of 1024 file
 * descriptors would make accept() fail long before. Raise it to the hard limit. */
static void master_raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			log_warn("cannot raise the open-file limit: %s", strerror(errno));
	}
}

static void master_setup(struct master *m, const char *config_path, bool foreground)
{
	char err[1024];

	m->config_path = config_path;
	if (!cfg_load(config_path, &m->cfg, err, sizeof(err)))
		die("%s", err);
	if (!master_apply_log(&m->cfg, NULL))
		die("cannot open log file %s: %s", m->cfg.log_file, strerror(errno));
	log_set_role("master");
	log_set_node(m->cfg.node_name);
	master_raise_nofile();
	if (!check_files(&m->cfg, err, sizeof(err)))
		die("%s", err);
	m->listen_fds[ROLE_LISTENER_WEBHOOK] = listener_open(m->cfg.listen, err, sizeof(err));
	if (m->listen_fds[ROLE_LISTENER_WEBHOOK] < 0)
		die("%s", err);
	m->listen_fds[ROLE_LISTENER_ADMIN] = listener_open(m->cfg.admin_listen, err, sizeof(err));
	if (m->listen_fds[ROLE_LISTENER_ADMIN] < 0)
		die("%s", err);
	if (m->cfg.metrics_listen != NULL) {
		m->listen_fds[ROLE_LISTENER_METRICS] =
			listener_open(m->cfg.metrics_listen, err, sizeof(err));
		if (m->listen_fds[ROLE_LISTENER_METRICS] < 0)
			die("%s", err);
	}
	master_check_database(&m->cfg);
	if (!foreground)
		master_detach(m);
	if (pipe2(m->alive_pipe, O_CLOEXEC) < 0 || pipe2(m->ready_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		die("pipe(): %s", strerror(errno));
	m->ready_pending = true;
	if (!master_make_slots(m))
		die("out of memory");
	m->ratelimit = ratelimit_create(RATELIMIT_SLOTS);
	m->revoke_budget = ratelimit_create(REVOKE_BUDGET_SLOTS);
	if (m->ratelimit == NULL || m->revoke_budget == NULL)
		die("cannot create the shared rate-limit tables: %s", strerror(errno));
	uint64_t id;
	if (!crypto_random(&id, sizeof(id)))
		die("cannot draw a random node id");
	m->node_id = (int64_t)(id >> 1); /* a positive bigint */
	m->metrics = metrics_create(METRICS_SLOTS);
	if (m->metrics == NULL || !metrics_attach(m->metrics))
		die("cannot create the shared metrics region: %s", strerror(errno));
}

int master_run(const char *config_path, bool foreground)
{
	struct master m = { .listen_fds = { -1, -1, -1, -1 } };

	master_setup(&m, config_path, foreground);
	sigemptyset(&m.signals);
	sigaddset(&m.signals, SIGCHLD);
	sigaddset(&m.signals, SIGHUP);
	sigaddset(&m.signals, SIGTERM);
	sigaddset(&m.signals, SIGINT);
	sigaddset(&m.signals, SIGQUIT);
	sigaddset(&m.signals, SIGUSR1);
	sigprocmask(SIG_BLOCK, &m.signals, NULL);
	signal(SIGPIPE, SIG_IGN);
	proctitle_set("hookgated: master");
	log_info("hookgated %s started as node %s: webhooks on %s, admin on %s, %d webhook "
		 "worker(s)",
		 PACKAGE_VERSION, m.cfg.node_name, m.cfg.listen, m.cfg.admin_listen, m.cfg.workers);
	master_respawn_due(&m);
	master_loop(&m);
	log_info("stopped");
	close(m.alive_pipe[0]);
	close(m.alive_pipe[1]);
	close(m.ready_pipe[0]);
	close(m.ready_pipe[1]);
	close(m.listen_fds[ROLE_LISTENER_WEBHOOK]);
	close(m.listen_fds[ROLE_LISTENER_ADMIN]);
	if (m.listen_fds[ROLE_LISTENER_METRICS] >= 0)
		close(m.listen_fds[ROLE_LISTENER_METRICS]);
	metrics_destroy(m.metrics);
	free(m.slots);
	free(m.retiring);
	ratelimit_destroy(m.ratelimit);
	ratelimit_destroy(m.revoke_budget);
	cfg_free(&m.cfg);
	log_close();
	return 0;
}
