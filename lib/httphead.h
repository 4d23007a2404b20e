/*
 * httphead: the head of an HTTP/1.1 request as it arrives on a socket, read before any HTTP
 * library sees it. kbook-feedd reads a websocket handshake's head itself so that it can check
 * the API key on its query thread while the event loop goes on, then hands the socket and the
 * bytes read to libwebsockets (feedd/accept.c). Pure parsing, no I/O: unit-tested and fuzzed
 * (tests/fuzz/fuzz_httphead.c).
 *
 * Every function reads a head of len bytes (it need not be NUL-terminated) and never reads past
 * it. Header names compare case-insensitively; obsolete line folding is not supported (a line
 * starting with a blank is no header).
 */
#ifndef KBOOK_HTTPHEAD_H
#define KBOOK_HTTPHEAD_H

#include <stddef.h>

/* The length of the head in buf up to and including its blank line (CRLF CRLF, or LF LF), or 0
 * while it is not complete. */
size_t httphead_end(const char *buf, size_t len);

/*
 * Copies the request target's path (before any '?') and query (after it, "" when none) into
 * path and query (caps with the NUL), as sent (not decoded). Returns 0, or -1 when the request
 * line is malformed or a part does not fit.
 */
int httphead_target(const char *head, size_t len, char *path, size_t pcap, char *query,
    size_t qcap);

/*
 * Copies the value of the first header called name (without the colon), blanks around it
 * trimmed, into out (cap with the NUL). Returns 1 when found, 0 when absent, -1 when its value
 * does not fit or holds a NUL.
 */
int httphead_header(const char *head, size_t len, const char *name, char *out, size_t cap);

#endif
