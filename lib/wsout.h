/*
 * wsout: a websocket server's outgoing messages gathered into one write.
 *
 * libwebsockets sends one frame per lws_write, and a WRITEABLE callback may write only while the
 * socket takes more (lws_send_pipe_choked, itself a poll()); at thousands of small messages a
 * second that is a send() per message for us and a read per message for nginx and the client.
 * wsout frames the messages itself (RFC 6455 section 5.2: FIN set, the opcode, the payload length
 * unmasked, as a server sends; no extension is negotiated by kbook's servers) into one buffer,
 * and hands the frames to lws as raw bytes: LWS_WRITE_HTTP on a websocket connection is written
 * as is (libwebsockets 4.1 roles/ws/ops-ws.c, "send_raw"), and a part the kernel does not take is
 * kept by lws and sent before anything else. The messages a client receives are unchanged.
 */
#ifndef KBOOK_WSOUT_H
#define KBOOK_WSOUT_H

#include <stddef.h>

#include <libwebsockets.h>

enum wsout_opcode {
	WSOUT_TEXT = 0x1,
	WSOUT_PING = 0x9,
};

struct wsout {
	unsigned char *buf;
	size_t len, cap;
};

/* Bytes of the header of a frame of n payload bytes (2, 4 or 10). */
size_t wsout_header_len(size_t n);
/* Writes the header of a final, unmasked frame into h (wsout_header_len(n) bytes). */
size_t wsout_header(unsigned char *h, enum wsout_opcode op, size_t n);
/* Appends one frame. Returns -1 when out of memory (o unchanged). */
int wsout_frame(struct wsout *o, enum wsout_opcode op, const void *payload, size_t n);
/* Writes everything gathered in one lws_write and empties o. Returns -1 when lws fails. */
int wsout_write(struct wsout *o, struct lws *wsi);
void wsout_free(struct wsout *o);

#endif
