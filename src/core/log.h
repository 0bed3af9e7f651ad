/* log: the one place that formats and writes log lines (stderr, syslog or a file).
 * Every process calls log_open once; log_reopen re-opens a file target after SIGUSR1.
 * Callers never pass tokens, passwords, codes or cookies to it; should a token or an appkey
 * come in anyway (a client writing one into a path or a header), every line is redacted. */
#ifndef HG_LOG_H
#define HG_LOG_H

#include <stdbool.h>

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* target: "stderr", "syslog" or a file path.  Returns false (errno set) if the file cannot be
 * opened. */
bool log_open(const char *target, enum log_level level);
bool log_reopen(void);
void log_close(void);
/* The role shown in every line, e.g. "master" or "webhook worker 2". */
void log_set_role(const char *role);
void log_set_level(enum log_level level);
bool log_level_parse(const char *name, enum log_level *out);
bool log_enabled(enum log_level level);
/* True when lines go to stderr (so a caller printing to stderr itself need not log too). */
bool log_to_stderr(void);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
