/* SPDX-License-Identifier: Apache-2.0 */
/* log: the one place that formats and writes log lines (stderr, syslog or a file), as text or
 * as one JSON object per line. Every event is one line: a multi-line message (libpq's) is
 * folded and control characters are escaped, so that a line can neither be split nor forged.
 * Every process calls log_open once; log_reopen re-opens a file target after SIGUSR1.
 * Callers never pass tokens, passwords, codes or cookies to it; should a token or an appkey
 * come in anyway (a client writing one into a path or a header), every line is redacted. */
#ifndef HG_LOG_H
#define HG_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

struct log_options {
	const char *target; /* "stderr", "syslog" or a file path */
	enum log_level level;
	enum log_format format;
	int syslog_facility;	  /* LOG_DAEMON, LOG_LOCAL0… (syslog.h) */
	const char *syslog_ident; /* NULL: "hookgated" */
};

/* Returns false (errno set) if the file cannot be opened. On stderr, a stream that journald
 * reads (JOURNAL_STREAM names stderr's device and inode) gets a "<N>" priority prefix on every
 * line and no time of our own (journald stamps each line). */
bool log_open(const struct log_options *opt);
bool log_reopen(void);
void log_close(void);
/* The role shown in every line, e.g. "master" or "webhook worker 2". */
void log_set_role(const char *role);
/* The node (node.name) a JSON line names in "node"; the master sets it before it forks, so
 * every process has it. Text lines leave it out: their format is fixed, and a node's lines
 * usually go to that node's own file or journal. */
void log_set_node(const char *node);
void log_set_level(enum log_level level);
bool log_level_parse(const char *name, enum log_level *out);
/* "text" or "json". */
bool log_format_parse(const char *name, enum log_format *out);
/* "daemon", "user" or "local0" to "local7", as syslog.h's LOG_* value. */
bool log_facility_parse(const char *name, int *out);
bool log_enabled(enum log_level level);
/* True when lines go to stderr (so a caller printing to stderr itself need not log too). */
bool log_to_stderr(void);

/* A named value of a line: in JSON a member of its own; in text " key=value" after the message,
 * unless text_too is false (the message already says it in words). */
struct log_field {
	const char *key; /* [a-z_]: a constant of the caller */
	const char *value;
	bool text_too;
};
#define LOG_MAX_FIELDS 16

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* log_msg with fields (at most LOG_MAX_FIELDS; NULL values are left out). */
void log_fields(enum log_level level, const struct log_field *fields, size_t nfields,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

/* ---- the pieces, for the tests ---------------------------------------------------------- */

/* Copies in to out (outlen > 0) as one line: line breaks with the blanks around them become
 * one space, trailing ones go, other control characters and bytes that are not UTF-8 become
 * "\xHH". Cut (never inside an escape or a character) to fit; returns the length. */
size_t log_clean(char *out, size_t outlen, const char *in);

/* One event as written: time is "2026-12-05T05:14:51.380Z" or NULL (journald stamps lines). */
struct log_record {
	const char *time;
	int pid;
	enum log_level level;
	const char *role;
	const char *message; /* clean (log_clean) */
	const struct log_field *fields;
	size_t nfields;
	const char *node; /* NULL or "": no "node" member */
};
/* The line for rec, "\n" included, in out (outlen >= 64); prefix is "<N>" for journald or "".
 * Returns the length; a line cut to fit still ends with "\n" (and in JSON, still parses). */
size_t log_render(char *out, size_t outlen, enum log_format format, const char *prefix,
		  const struct log_record *rec);

/* Whether journal_stream ("DEV:INODE", JOURNAL_STREAM's value, may be NULL) names fd. */
bool log_journald_stream(int fd, const char *journal_stream);

/* A line that may repeat at a high rate (a dead database fails every batch): at most one per
 * interval_ms. log_limit_pass says whether to write one now (now_ms monotonic); when it does,
 * *skipped and *skipped_units are what was held back since the last one (events, and what they
 * were about, e.g. calls), and are reset. */
struct log_limit {
	int64_t interval_ms;
	int64_t next_ms;
	uint64_t skipped, skipped_units;
};
bool log_limit_pass(struct log_limit *l, int64_t now_ms, uint64_t units, uint64_t *skipped,
		    uint64_t *skipped_units);

#endif
