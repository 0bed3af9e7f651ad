/* SPDX-License-Identifier: Apache-2.0 */
/* log: leveled log lines with a UTC timestamp, the process role and pid, as text or JSON;
 * tokens and appkeys in a line are replaced (redact.h), and each line is made one line
 * (log_clean) before it is written. */
#include "core/log.h"
#include "core/fdio.h"
#include "core/redact.h"
#include "lib/utf8.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

enum log_target { LOG_TARGET_STDERR, LOG_TARGET_SYSLOG, LOG_TARGET_FILE };

/* A message and each field value are cleaned into this much; a line of LOG_MAX_FIELDS fields
 * then fits in LOG_LINE_MAX even with every character JSON-escaped. */
#define LOG_MSG_MAX 2048
#define LOG_VALUE_MAX 512
#define LOG_LINE_MAX (2 * LOG_MSG_MAX + LOG_MAX_FIELDS * (2 * LOG_VALUE_MAX + 48) + 256)

static struct {
	enum log_target target;
	enum log_level level;
	enum log_format format;
	bool journald; /* stderr is read by journald: "<N>" prefix, no time of ours */
	char path[1024];
	int fd;
	char role[48];
	char ident[64]; /* openlog keeps the pointer */
	char node[64];	/* node.name, checked by config: no escapes needed */
} logger = {
	LOG_TARGET_STDERR, LOG_LEVEL_INFO, LOG_FORMAT_TEXT, false, "", -1, "hookgate", "", ""
};

static const char *const level_names[] = { "error", "warn", "info", "debug" };
static const int syslog_prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

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

bool log_format_parse(const char *name, enum log_format *out)
{
	if (strcmp(name, "text") == 0)
		*out = LOG_FORMAT_TEXT;
	else if (strcmp(name, "json") == 0)
		*out = LOG_FORMAT_JSON;
	else
		return false;
	return true;
}

bool log_facility_parse(const char *name, int *out)
{
	static const struct {
		const char *name;
		int value;
	} names[] = {
		{ "daemon", LOG_DAEMON }, { "user", LOG_USER },	    { "local0", LOG_LOCAL0 },
		{ "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
		{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
		{ "local7", LOG_LOCAL7 },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i].name) == 0) {
			*out = names[i].value;
			return true;
		}
	}
	return false;
}

bool log_journald_stream(int fd, const char *journal_stream)
{
	unsigned long long dev, ino;
	int end = 0;
	struct stat st;

	if (journal_stream == NULL ||
	    sscanf(journal_stream, "%llu:%llu%n", &dev, &ino, &end) != 2 ||
	    journal_stream[end] != '\0' || fstat(fd, &st) != 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

static int open_file(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

static enum log_target target_of(const char *target)
{
	if (strcmp(target, "syslog") == 0)
		return LOG_TARGET_SYSLOG;
	return strcmp(target, "stderr") == 0 ? LOG_TARGET_STDERR : LOG_TARGET_FILE;
}

bool log_open(const struct log_options *opt)
{
	int fd = -1;
	enum log_target kind = target_of(opt->target);

	if (kind == LOG_TARGET_FILE) {
		if (strlen(opt->target) >= sizeof(logger.path)) {
			errno = ENAMETOOLONG;
			return false;
		}
		fd = open_file(opt->target);
		if (fd < 0)
			return false;
	}
	log_close();
	logger.target = kind;
	logger.level = opt->level;
	logger.format = opt->format;
	logger.fd = fd;
	logger.journald = kind == LOG_TARGET_STDERR &&
			  log_journald_stream(STDERR_FILENO, getenv("JOURNAL_STREAM"));
	if (kind == LOG_TARGET_FILE)
		snprintf(logger.path, sizeof(logger.path), "%s", opt->target);
	if (kind == LOG_TARGET_SYSLOG) {
		snprintf(logger.ident, sizeof(logger.ident), "%s",
			 opt->syslog_ident ? opt->syslog_ident : "hookgated");
		openlog(logger.ident, LOG_PID | LOG_NDELAY, opt->syslog_facility);
	}
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
	logger.journald = false;
}

void log_set_role(const char *role)
{
	snprintf(logger.role, sizeof(logger.role), "%s", role);
}

void log_set_node(const char *node)
{
	snprintf(logger.node, sizeof(logger.node), "%s", node ? node : "");
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

bool log_limit_pass(struct log_limit *l, int64_t now_ms, uint64_t units, uint64_t *skipped,
		    uint64_t *skipped_units)
{
	if (l->next_ms != 0 && now_ms < l->next_ms) {
		l->skipped++;
		l->skipped_units += units;
		return false;
	}
	*skipped = l->skipped;
	*skipped_units = l->skipped_units;
	l->skipped = l->skipped_units = 0;
	l->next_ms = now_ms + l->interval_ms;
	return true;
}

/* ---- one line ------------------------------------------------------------------------ */

/* The bytes of in that make the cleaned line: how many to take and what to write. A line
 * break with the blanks around it is one space (libpq ends lines with "\n" and indents the
 * next with a tab). */
static size_t clean_step(const unsigned char *in, char *esc, size_t *esclen)
{
	uint32_t cp;
	size_t n;

	if (*in == '\n' || *in == '\r') {
		n = 0;
		while (in[n] == '\n' || in[n] == '\r' || in[n] == ' ' || in[n] == '\t')
			n++;
		esc[0] = ' ';
		*esclen = 1;
		return n;
	}
	n = *in < 0x80 ? 1 : utf8_decode(in, strnlen((const char *)in, 4), &cp);
	if (n == 0 || *in < 0x20 || *in == 0x7f) {
		*esclen = (size_t)snprintf(esc, 5, "\\x%02X", *in);
		return 1;
	}
	memcpy(esc, in, n);
	*esclen = n;
	return n;
}

size_t log_clean(char *out, size_t outlen, const char *in)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t end = strlen(in), used = 0;

	while (end > 0 && strchr(" \t\r\n", in[end - 1]) != NULL)
		end--;
	while ((size_t)((const char *)p - in) < end) {
		char esc[5];
		size_t esclen, take = clean_step(p, esc, &esclen);

		if (used + esclen >= outlen)
			break;
		memcpy(out + used, esc, esclen);
		used += esclen;
		p += take;
	}
	out[used] = '\0';
	return used;
}

/* Appends to a buffer that keeps room for a line's closing characters: an append that does not
 * fit whole is dropped, and so is everything after it. */
struct line_buf {
	char *p;
	size_t len, cap;
	bool full;
};

static void put(struct line_buf *b, const char *s, size_t n)
{
	if (b->full || b->len + n > b->cap) {
		b->full = true;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void puts_(struct line_buf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* s as a JSON string at tmp (room for 2 * strlen(s) + 2); s is clean (no control characters),
 * so only '"' and '\' need escapes. Returns the length. */
static size_t json_str(char *tmp, const char *s)
{
	size_t n = 0;

	tmp[n++] = '"';
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			tmp[n++] = '\\';
		tmp[n++] = *s;
	}
	tmp[n++] = '"';
	return n;
}

static void put_json_str(struct line_buf *b, const char *s)
{
	char tmp[2 * LOG_MSG_MAX + 2];
	put(b, tmp, json_str(tmp, s));
}

/* sep "key":"value" as one piece, so that a line cut to fit never ends inside a member. */
static void put_json_member(struct line_buf *b, const char *sep, const char *key, const char *value)
{
	char tmp[2 * LOG_MSG_MAX + 2 * 64 + 8];
	size_t n = strlen(sep);

	if (strlen(key) > 63)
		return;
	memcpy(tmp, sep, n);
	n += json_str(tmp + n, key);
	tmp[n++] = ':';
	n += json_str(tmp + n, value);
	put(b, tmp, n);
}

/* A text field value: bare when it holds no blank, '"' or '\', else quoted with escapes. */
static void put_text_value(struct line_buf *b, const char *s)
{
	if (*s != '\0' && strpbrk(s, " \"\\") == NULL) {
		puts_(b, s);
		return;
	}
	put_json_str(b, s);
}

/* "role: message key=value…": a text line after its time, pid and level (syslog's whole). */
static void render_text_body(struct line_buf *b, const struct log_record *rec)
{
	puts_(b, rec->role);
	put(b, ": ", 2);
	puts_(b, rec->message);
	for (size_t i = 0; i < rec->nfields; i++) {
		if (!rec->fields[i].text_too)
			continue;
		put(b, " ", 1);
		puts_(b, rec->fields[i].key);
		put(b, "=", 1);
		put_text_value(b, rec->fields[i].value);
	}
}

static void render_text(struct line_buf *b, const char *prefix, const struct log_record *rec)
{
	char head[96];

	snprintf(head, sizeof(head), "%s%s%s[%d] %s ", prefix, rec->time ? rec->time : "",
		 rec->time ? " " : "", rec->pid, level_names[rec->level]);
	puts_(b, head);
	render_text_body(b, rec);
}

static void render_json(struct line_buf *b, const char *prefix, const struct log_record *rec)
{
	char pid[32];

	puts_(b, prefix);
	put(b, "{", 1);
	if (rec->time)
		put_json_member(b, "", "time", rec->time);
	put_json_member(b, rec->time ? "," : "", "level", level_names[rec->level]);
	if (rec->node != NULL && rec->node[0] != '\0')
		put_json_member(b, ",", "node", rec->node);
	put_json_member(b, ",", "role", rec->role);
	snprintf(pid, sizeof(pid), ",\"pid\":%d", rec->pid);
	puts_(b, pid);
	put_json_member(b, ",", "message", rec->message);
	for (size_t i = 0; i < rec->nfields; i++)
		put_json_member(b, ",", rec->fields[i].key, rec->fields[i].value);
}

size_t log_render(char *out, size_t outlen, enum log_format format, const char *prefix,
		  const struct log_record *rec)
{
	/* Room for the closing "}\n" (or "\n") and the NUL whatever was cut. */
	struct line_buf b = { out, 0, outlen - 3, false };

	if (format == LOG_FORMAT_JSON)
		render_json(&b, prefix, rec);
	else
		render_text(&b, prefix, rec);
	b.full = false;
	b.cap = outlen - 1;
	if (format == LOG_FORMAT_JSON)
		put(&b, "}", 1);
	put(&b, "\n", 1);
	out[b.len] = '\0';
	return b.len;
}

/* ---- writing ------------------------------------------------------------------------- */

static void format_time(char *buf, size_t len)
{
	struct timeval tv;
	struct tm tm;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03dZ", (int)(tv.tv_usec / 1000));
}

/* syslog stamps and names lines itself: it gets the body (text) or the object (JSON). */
static void write_syslog(const struct log_record *rec, char *line)
{
	struct line_buf b = { line, 0, LOG_LINE_MAX - 1, false };

	if (logger.format == LOG_FORMAT_JSON) {
		b.len = log_render(line, LOG_LINE_MAX, LOG_FORMAT_JSON, "", rec) - 1;
	} else {
		render_text_body(&b, rec);
	}
	line[b.len] = '\0';
	syslog(syslog_prio[rec->level], "%s", line);
}

static void write_record(struct log_record *rec)
{
	static char line[LOG_LINE_MAX];
	char time[40], prefix[8] = "";

	if (logger.target == LOG_TARGET_SYSLOG) {
		write_syslog(rec, line);
		return;
	}
	if (logger.journald) {
		snprintf(prefix, sizeof(prefix), "<%d>", syslog_prio[rec->level]);
	} else {
		format_time(time, sizeof(time));
		rec->time = time;
	}
	size_t n = log_render(line, sizeof(line), logger.format, prefix, rec);
	/* One write(2) per line so that lines of concurrent workers never interleave; a line that
	 * cannot be written has nowhere else to go. */
	(void)fdio_write_all(logger.target == LOG_TARGET_FILE ? logger.fd : STDERR_FILENO, line, n);
}

/* Whatever a caller passes, no token or appkey reaches a log: the text is redacted before it
 * is cleaned (a cut word that could be part of a secret goes too). */
static void clean_redacted(char *out, size_t outlen, char *text, bool truncated)
{
	redact_secrets(text, truncated);
	log_clean(out, outlen, text);
}

__attribute__((format(printf, 4, 0))) static void log_vfields(enum log_level level,
							      const struct log_field *fields,
							      size_t nfields, const char *fmt,
							      va_list ap)
{
	char raw[LOG_MSG_MAX], msg[LOG_MSG_MAX], values[LOG_MAX_FIELDS][LOG_VALUE_MAX];
	struct log_field clean[LOG_MAX_FIELDS];
	size_t n = 0;

	int len = vsnprintf(raw, sizeof(raw), fmt, ap);
	clean_redacted(msg, sizeof(msg), raw, len >= (int)sizeof(raw));
	for (size_t i = 0; i < nfields && n < LOG_MAX_FIELDS; i++) {
		if (fields[i].value == NULL)
			continue;
		snprintf(raw, sizeof(values[n]), "%s", fields[i].value);
		clean_redacted(values[n], sizeof(values[n]), raw,
			       strlen(fields[i].value) >= sizeof(values[n]));
		clean[n] = (struct log_field){ fields[i].key, values[n], fields[i].text_too };
		n++;
	}
	struct log_record rec = { NULL, (int)getpid(), level, logger.role,
				  msg,	clean,	       n,     logger.node };
	write_record(&rec);
}

void log_fields(enum log_level level, const struct log_field *fields, size_t nfields,
		const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(level))
		return;
	int saved_errno = errno;
	va_start(ap, fmt);
	log_vfields(level, fields, nfields, fmt, ap);
	va_end(ap);
	errno = saved_errno;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(level))
		return;
	int saved_errno = errno;
	va_start(ap, fmt);
	log_vfields(level, NULL, 0, fmt, ap);
	va_end(ap);
	errno = saved_errno;
}
