/*
 * log: structured logging, one JSON object per line on stderr.
 *
 * Every line is {"ts":"<RFC 3339 UTC, microseconds>","level":"...","prog":"...","pid":N,"msg":"..."}
 * plus "errno" text for the *_errno variants (OpenBSD log_warn style). Lines below the
 * configured level are skipped before any formatting (redis style). log_fatal exits(1).
 */
#ifndef KBOOK_LOG_H
#define KBOOK_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_DEBUG, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERROR };

/* prog is borrowed and must outlive every later call (a string literal). */
void log_init(const char *prog, enum log_level level);
void log_set_level(enum log_level level);
/* Parses "debug", "info", "warn" or "error"; returns -1 on anything else. */
int log_level_parse(const char *s, enum log_level *out);

void log_msg(enum log_level level, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vmsg(enum log_level level, int errnum, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#define log_debug(...) log_msg(LOG_LVL_DEBUG, 0, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, 0, __VA_ARGS__)
#define log_warnx(...) log_msg(LOG_LVL_WARN, 0, __VA_ARGS__)
#define log_errorx(...) log_msg(LOG_LVL_ERROR, 0, __VA_ARGS__)
/* The errno variants append strerror(errno) as the "errno" field. */
#define log_warn(...)  log_msg(LOG_LVL_WARN, errno, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LVL_ERROR, errno, __VA_ARGS__)

/*
 * Writes s as the body of a JSON string (no quotes) into out, escaping quotes, backslashes,
 * control characters and invalid UTF-8 (as U+FFFD). Returns the length written, always
 * NUL-terminated, truncated to fit cap. Exposed for tests.
 */
size_t log_json_escape(char *out, size_t cap, const char *s);

#endif
