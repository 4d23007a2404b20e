/*
 * spool: the local append-only file that holds what the writer could not put into Postgres.
 * Each record is one queued event with its market's ticker (registry indices do not survive a
 * restart): a length, the fixed fields, the ticker and the event's data. A batch is appended and
 * fdatasync'ed before its events leave the queue. A record cut short by a crash is ignored when
 * the file is read back. The writer replays the whole file, then truncates it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coll.h"
#include "log.h"

struct rec_head {
	uint32_t len;        /* bytes after this field */
	uint8_t kind, side, flag, pad;
	int32_t market;
	int64_t ts, a, b, c;
	uint32_t ticker_len, data_len;
};

static int fd = -1;
static char *path;

/* Opens the file, creating it when create is set. Returns 0 or -1 (logged unless absent). */
static int
spool_open(bool create)
{
	if (fd >= 0)
		return 0;
	fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC | (create ? O_CREAT : 0), 0600);
	if (fd < 0 && (create || errno != ENOENT))
		log_error("cannot open the spool file %s", path);
	return fd >= 0 ? 0 : -1;
}

int
coll_spool_open(const char *p)
{
	if ((path = strdup(p)) == NULL)
		return -1;
	/* the file is created only when something must be spooled: a daemon whose working
	 * directory is not writable still runs while Postgres is up */
	spool_open(false);
	return 0;
}

void
coll_spool_close(void)
{
	if (fd >= 0)
		close(fd);
	fd = -1;
	free(path);
	path = NULL;
}

bool
coll_spool_pending(void)
{
	struct stat st;

	return fd >= 0 && fstat(fd, &st) == 0 && st.st_size > 0;
}

/* The size of an event's data, 0 when it has none. */
static size_t
data_len(const struct coll_ev *ev)
{
	const struct coll_levels *lv;

	if (ev->data == NULL)
		return 0;
	if (ev->kind != COLL_EV_CHECKPOINT)
		return strlen(ev->data) + 1;
	lv = ev->data;
	return sizeof(*lv) + (lv->n_yes + lv->n_no) * sizeof(lv->lv[0]);
}

static int
write_all(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
coll_spool_append(const struct coll_ev *ev, size_t n, const char *(*ticker_of)(int32_t))
{
	char *buf;
	size_t total = 0, len = 0;
	int rc = -1;

	if (spool_open(true) != 0)
		return -1;
	/* one buffer for the whole batch, one write, one fdatasync */
	for (size_t i = 0; i < n; i++) {
		const char *t = ticker_of(ev[i].market);

		total += sizeof(struct rec_head) + (t != NULL ? strlen(t) : 0) + data_len(&ev[i]);
	}
	if ((buf = malloc(total + 1)) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *t = ticker_of(ev[i].market);
		size_t tl = t != NULL ? strlen(t) : 0, dl = data_len(&ev[i]);
		size_t need = sizeof(struct rec_head) + tl + dl;
		struct rec_head h = { .len = (uint32_t)(need - sizeof(uint32_t)), .kind = ev[i].kind,
		    .side = ev[i].side, .flag = ev[i].flag, .market = ev[i].market, .ts = ev[i].ts,
		    .a = ev[i].a, .b = ev[i].b, .c = ev[i].c, .ticker_len = (uint32_t)tl,
		    .data_len = (uint32_t)dl };

		memcpy(buf + len, &h, sizeof(h));
		if (tl > 0)
			memcpy(buf + len + sizeof(h), t, tl);
		if (dl > 0)
			memcpy(buf + len + sizeof(h) + tl, ev[i].data, dl);
		len += need;
	}
	if (write_all(buf, len) != 0 || fdatasync(fd) != 0) {
		log_error("cannot write the spool file");
		goto out;
	}
	rc = 0;
out:
	free(buf);
	return rc;
}

int
coll_spool_read(struct coll_spooled **out, size_t *n)
{
	struct coll_spooled *v = NULL;
	size_t nv = 0, cv = 0, off = 0;
	struct stat st;
	char *buf = NULL;
	int rc = -1;

	*out = NULL;
	*n = 0;
	if (fd < 0 || fstat(fd, &st) != 0)
		return -1;
	if (st.st_size == 0)
		return 0;
	if ((buf = malloc((size_t)st.st_size)) == NULL ||
	    pread(fd, buf, (size_t)st.st_size, 0) != st.st_size)
		goto out;
	while (off + sizeof(struct rec_head) <= (size_t)st.st_size) {
		struct rec_head h;
		struct coll_spooled *s;

		memcpy(&h, buf + off, sizeof(h));
		if (off + sizeof(uint32_t) + h.len > (size_t)st.st_size ||
		    sizeof(h) + h.ticker_len + h.data_len != h.len + sizeof(uint32_t) ||
		    (h.ticker_len == 0 && h.kind != COLL_EV_MARK) ||
		    h.ticker_len >= KMSG_TICKER_MAX) {
			log_warnx("the spool file ends with a partial record (%zu bytes ignored)",
			    (size_t)st.st_size - off);
			break;
		}
		if (nv == cv) {
			size_t c = cv == 0 ? 4096 : cv * 2;
			struct coll_spooled *p = realloc(v, c * sizeof(*p));

			if (p == NULL)
				goto out;
			v = p;
			cv = c;
		}
		s = &v[nv];
		memset(s, 0, sizeof(*s));
		s->ev = (struct coll_ev){ .kind = h.kind, .side = h.side, .flag = h.flag,
		    .market = h.market, .ts = h.ts, .a = h.a, .b = h.b, .c = h.c };
		memcpy(s->ticker, buf + off + sizeof(h), h.ticker_len);
		if (h.data_len > 0) {
			if ((s->ev.data = malloc(h.data_len)) == NULL)
				goto out;
			memcpy(s->ev.data, buf + off + sizeof(h) + h.ticker_len, h.data_len);
		}
		nv++;
		off += sizeof(uint32_t) + h.len;
	}
	rc = 0;
out:
	free(buf);
	if (rc != 0) {
		for (size_t i = 0; i < nv; i++)
			free(v[i].ev.data);
		free(v);
		return -1;
	}
	*out = v;
	*n = nv;
	return 0;
}

int
coll_spool_truncate(void)
{
	if (fd < 0 || ftruncate(fd, 0) != 0 || fdatasync(fd) != 0) {
		log_error("cannot truncate the spool file");
		return -1;
	}
	return 0;
}
