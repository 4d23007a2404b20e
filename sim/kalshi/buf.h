/*
 * buf: a growable byte buffer for building outgoing JSON text. The buffer owns its memory;
 * sim_buf_free releases it. On allocation failure the buffer is marked failed and later appends
 * do nothing, so callers check failed once at the end.
 */
#ifndef KBOOK_SIM_BUF_H
#define KBOOK_SIM_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct sim_buf {
	char *p;
	size_t len, cap;
	bool failed;
};

void sim_buf_reset(struct sim_buf *b);
void sim_buf_free(struct sim_buf *b);
void sim_buf_add(struct sim_buf *b, const char *s, size_t n);
void sim_buf_str(struct sim_buf *b, const char *s);
void sim_buf_printf(struct sim_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string, quotes included, escaping as log_json_escape does. */
void sim_buf_json_str(struct sim_buf *b, const char *s);

#endif
