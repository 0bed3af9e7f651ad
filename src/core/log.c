/* log: leveled log lines with a UTC timestamp, the process role and pid; tokens and appkeys
 * in a line are replaced (redact.h) before it is written. */
#include "core/log.h"
#include "core/fdio.h"
#include "core/redact.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

enum log_target { LOG_TARGET_STDERR, LOG_TARGET_SYSLOG, LOG_TARGET_FILE };

static struct {
	enum log_target target;
	enum log_level level;
	char path[1024];
	int fd;
	char role[48];
} logger = { LOG_TARGET_STDERR, LOG_LEVEL_INFO, "", -1, "hookgate" };

static const char *const level_names[] = { "error", "warn", "info", "debug" };

bool log_level_parse(const char *name, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return true;
		}
	}
	return false;
}

static int open_file(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

bool log_open(const char *target, enum log_level level)
{
	int fd = -1;
	enum log_target kind = LOG_TARGET_STDERR;

	if (strcmp(target, "syslog") == 0) {
		kind = LOG_TARGET_SYSLOG;
	} else if (strcmp(target, "stderr") != 0) {
		if (strlen(target) >= sizeof(logger.path)) {
			errno = ENAMETOOLONG;
			return false;
		}
		fd = open_file(target);
		if (fd < 0)
			return false;
		kind = LOG_TARGET_FILE;
	}
	log_close();
	logger.target = kind;
	logger.level = level;
	logger.fd = fd;
	if (kind == LOG_TARGET_FILE)
		snprintf(logger.path, sizeof(logger.path), "%s", target);
	if (kind == LOG_TARGET_SYSLOG)
		openlog("hookgated", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	return true;
}

/* A log file moved away by logrotate is re-created on SIGUSR1 (every process re-opens it by
 * its path); on failure we keep the old fd so that lines are never silently dropped. */
bool log_reopen(void)
{
	if (logger.target != LOG_TARGET_FILE)
		return true;
	int fd = open_file(logger.path);
	if (fd < 0)
		return false;
	close(logger.fd);
	logger.fd = fd;
	return true;
}

void log_close(void)
{
	if (logger.target == LOG_TARGET_FILE && logger.fd >= 0)
		close(logger.fd);
	if (logger.target == LOG_TARGET_SYSLOG)
		closelog();
	logger.fd = -1;
	logger.target = LOG_TARGET_STDERR;
}

void log_set_role(const char *role)
{
	snprintf(logger.role, sizeof(logger.role), "%s", role);
}

void log_set_level(enum log_level level)
{
	logger.level = level;
}

bool log_to_stderr(void)
{
	return logger.target == LOG_TARGET_STDERR;
}

bool log_enabled(enum log_level level)
{
	return level <= logger.level;
}

static size_t format_time(char *buf, size_t len)
{
	struct timeval tv;
	struct tm tm;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	return n + (size_t)snprintf(buf + n, len - n, ".%03dZ", (int)(tv.tv_usec / 1000));
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const int syslog_prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char msg[2048];
	va_list ap;

	if (!log_enabled(level))
		return;
	int saved_errno = errno;
	va_start(ap, fmt);
	int len = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Whatever a caller passes, no token or appkey reaches a log. */
	redact_secrets(msg, len >= (int)sizeof(msg));
	if (logger.target == LOG_TARGET_SYSLOG) {
		syslog(syslog_prio[level], "%s: %s", logger.role, msg);
		errno = saved_errno;
		return;
	}
	/* One write(2) per line so that lines of concurrent workers never interleave. */
	char line[2300];
	size_t n = format_time(line, sizeof(line));
	int m = snprintf(line + n, sizeof(line) - n, " [%d] %s %s: %s\n", (int)getpid(),
			 level_names[level], logger.role, msg);
	if (m > 0)
		n = n + (size_t)m < sizeof(line) ? n + (size_t)m : sizeof(line) - 1;
	if (n == sizeof(line) - 1)
		line[n - 1] = '\n';
	/* A line that cannot be written has nowhere else to go. */
	(void)fdio_write_all(logger.target == LOG_TARGET_FILE ? logger.fd : STDERR_FILENO, line, n);
	errno = saved_errno;
}
