/*
 * log: one JSON object per line on stderr. Each line is formatted into a stack buffer and
 * written with a single write(2), so lines from the processes of one pool never interleave.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "utf8.h"

static const char *log_prog = "kbook";
static enum log_level log_threshold = LOG_LVL_INFO;

static const char *const log_names[] = {
	[LOG_LVL_DEBUG] = "debug",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_WARN] = "warn",
	[LOG_LVL_ERROR] = "error",
};

void
log_init(const char *prog, enum log_level level)
{
	log_prog = prog;
	log_threshold = level;
}

void
log_set_level(enum log_level level)
{
	log_threshold = level;
}

int
log_level_parse(const char *s, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++) {
		if (strcmp(s, log_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

size_t
log_json_escape(char *out, size_t cap, const char *s)
{
	size_t o = 0;
	const unsigned char *p = (const unsigned char *)s;

	if (cap == 0)
		return 0;
	while (*p != '\0') {
		char tmp[8];
		const char *piece = tmp;
		size_t n;

		if (*p == '"' || *p == '\\') {
			piece = *p == '"' ? "\\\"" : "\\\\";
			n = 2;
			p++;
		} else if (*p == '\n') {
			piece = "\\n";
			n = 2;
			p++;
		} else if (*p == '\t') {
			piece = "\\t";
			n = 2;
			p++;
		} else if (*p < 0x20 || *p == 0x7F) {
			n = (size_t)snprintf(tmp, sizeof(tmp), "\\u%04x", *p);
			p++;
		} else if ((n = utf8_len(p)) == 0) {
			piece = "\\ufffd";
			n = 6;
			p++;
		} else {
			piece = (const char *)p;
			p += n;
		}
		if (o + n >= cap)
			break;
		memcpy(out + o, piece, n);
		o += n;
	}
	out[o] = '\0';
	return o;
}

void
log_vmsg(enum log_level level, int errnum, const char *fmt, va_list ap)
{
	char msg[2048], esc[4096], line[8192], when[40];
	struct timeval tv;
	struct tm tm;
	int n;

	if (level < log_threshold)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_json_escape(esc, sizeof(esc), msg);
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line),
	    "{\"ts\":\"%s.%06ldZ\",\"level\":\"%s\",\"prog\":\"%s\",\"pid\":%ld,\"msg\":\"%s\"",
	    when, (long)tv.tv_usec, log_names[level], log_prog, (long)getpid(), esc);
	if (errnum != 0 && n > 0 && (size_t)n < sizeof(line)) {
		char eesc[256];

		log_json_escape(eesc, sizeof(eesc), strerror(errnum));
		n += snprintf(line + n, sizeof(line) - (size_t)n, ",\"errno\":\"%s\"", eesc);
	}
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 3)
		n = (int)sizeof(line) - 3;
	line[n++] = '}';
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

void
log_msg(enum log_level level, int errnum, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	log_vmsg(level, errnum, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LVL_ERROR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
