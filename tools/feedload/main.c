/*
 * kbook-feedload: the load client of the feed benchmark (scripts/bench/50-feed.sh). One thread,
 * one libwebsockets 4.1.6 client loop driving many websockets to kbook-feedd (through nginx):
 * CONNS connections each subscribed to PER random markets of a ticker file, plus ALL connections
 * subscribed to every market (in subscriptions of 250). It parses only what it measures (no JSON
 * library on the hot path, so the client is not what limits the rate) and, after WARMUP seconds
 * with every connection subscribed, measures for SECONDS:
 *
 *   latency  receive time (CLOCK_REALTIME) minus the delta's msg.ts_ms, the exchange's time of
 *            the change: for kalshi-sim the instant it applied the change and queued the delta
 *            (ms, truncated: the figure overstates the latency by 0..1 ms); split at the
 *            message's top-level ts (the collector's receive time, us) into sim to collector
 *            and collector to client (group commit, NOTIFY, feedd, nginx, this client);
 *   seq      per connection and sid, Kalshi's seq must go up by one: a jump counts the skipped
 *            messages as lost, a step back or a repeat counts as reordered;
 *   drops    connections closed by the server or never established; error messages (25 is the
 *            slow-client drop).
 *
 * The loop is libev's (epoll) through lws's event-lib support, not lws's own poll(): with 1 001
 * sockets, poll() scanning every one of them at each wake-up was most of the client's CPU, on the
 * same two cores as the stack it measures.
 *
 * Prints one JSON line. Usage:
 *   kbook-feedload --url ws://HOST:PORT/PATH --key KEY --tickers FILE [--conns N] [--per N]
 *                  [--all N] [--warmup S] [--seconds S] [--seed N] [--ramp N]
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/resource.h>

#include <ev.h>

#include <libwebsockets.h>

#define LOAD_SIDS 16
#define LOAD_SUB_CHUNK 250
#define LOAD_HIST 100000          /* 0.1 ms buckets up to 10 s */
#define LOAD_BUCKET(us) ((us) / 100 < LOAD_HIST ? (us) / 100 : LOAD_HIST)

struct load_conn {
	struct lws *wsi;
	int *tickers;                 /* indexes into load_tickers */
	int n_tickers;
	int cmds_sent, n_cmds;
	int subscribed;               /* "subscribed" replies */
	int64_t last_seq[LOAD_SIDS + 1];
	char *rx;
	size_t rx_len, rx_cap;
	bool established, closed;
};

static struct {
	const char *host, *path, *key, *tickers_file;
	int port, conns, per, all, warmup, seconds, ramp;
	unsigned seed;
} opt = { .conns = 1000, .per = 10, .all = 1, .warmup = 5, .seconds = 20, .seed = 1, .ramp = 50 };

static char **load_tickers;
static int load_n_tickers;
static struct load_conn *conns;
static int n_conns;
static struct lws_context *ctx;

static struct {
	uint64_t msgs, deltas, snapshots, errors, err25, lost, reordered, refused, closed;
	uint64_t hist[LOAD_HIST + 1];
	uint64_t hist_up[LOAD_HIST + 1];   /* ts_ms to our ts: the sim's send, the collector's receive */
	uint64_t hist_down[LOAD_HIST + 1]; /* our ts to the client: commit, NOTIFY, feedd, nginx */
	uint64_t window_msgs, window_deltas;
	int64_t lat_max_us;
	int64_t sec_max_us, sec_deltas; /* this second's, for FEEDLOAD_DEBUG */
	int64_t sec_max_up_us, sec_max_down_us;
} st;
static bool measuring, done;
static lws_sorted_usec_list_t load_sul;
static struct ev_loop *loop;

static int64_t
load_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The integer after "key" in s (len bytes), or -1. */
static int64_t
load_int(const char *s, const char *key)
{
	const char *p = strstr(s, key);

	if (p == NULL)
		return -1;
	return strtoll(p + strlen(key), NULL, 10);
}

/* One whole message (NUL-terminated). */
static void
load_message(struct load_conn *c, const char *m)
{
	const char *type = strstr(m, "\"type\":\"");
	int64_t sid, seq;

	if (type == NULL)
		return;
	type += 8;
	if (measuring)
		st.window_msgs++;
	st.msgs++;
	if (strncmp(type, "subscribed", 10) == 0) {
		c->subscribed++;
		return;
	}
	if (strncmp(type, "error", 5) == 0) {
		st.errors++;
		if (load_int(m, "\"code\":") == 25)
			st.err25++;
		return;
	}
	sid = load_int(m, "\"sid\":");
	seq = load_int(m, "\"seq\":");
	if (sid >= 1 && sid <= LOAD_SIDS && seq >= 1) {
		int64_t want = c->last_seq[sid] + 1;

		if (seq > want)
			st.lost += (uint64_t)(seq - want);
		else if (seq < want)
			st.reordered++;
		if (seq >= want)
			c->last_seq[sid] = seq;
	}
	if (strncmp(type, "orderbook_snapshot", 18) == 0) {
		st.snapshots++;
		return;
	}
	if (strncmp(type, "orderbook_delta", 15) == 0) {
		int64_t ms = load_int(m, "\"ts_ms\":"), ts = load_int(m, "\"ts\":"), lat, up, down;

		st.deltas++;
		if (!measuring || ms < 0)
			return;
		st.window_deltas++;
		lat = load_now_us() - ms * 1000;
		if (lat < 0)
			lat = 0;
		if (lat > st.lat_max_us)
			st.lat_max_us = lat;
		if (lat > st.sec_max_us)
			st.sec_max_us = lat;
		st.sec_deltas++;
		st.hist[LOAD_BUCKET(lat)]++;
		/* the split at the collector's receive time (the message's top-level ts, in us) */
		up = ts >= 0 && ts >= ms * 1000 ? ts - ms * 1000 : 0;
		down = lat > up ? lat - up : 0;
		st.hist_up[LOAD_BUCKET(up)]++;
		st.hist_down[LOAD_BUCKET(down)]++;
		if (up > st.sec_max_up_us)
			st.sec_max_up_us = up;
		if (down > st.sec_max_down_us)
			st.sec_max_down_us = down;
	}
}

/* The subscribe command number k of c into buf; returns its length. */
static int
load_command(const struct load_conn *c, int k, char *buf, size_t cap)
{
	int first = k * LOAD_SUB_CHUNK, last = first + LOAD_SUB_CHUNK, n;

	if (last > c->n_tickers)
		last = c->n_tickers;
	n = snprintf(buf, cap, "{\"id\":%d,\"cmd\":\"subscribe\",\"params\":{\"channels\":"
	    "[\"orderbook_delta\"],\"market_tickers\":[", k + 1);
	for (int i = first; i < last && (size_t)n < cap; i++)
		n += snprintf(buf + n, cap - (size_t)n, "%s\"%s\"", i == first ? "" : ",",
		    load_tickers[c->tickers[i]]);
	if ((size_t)n < cap)
		n += snprintf(buf + n, cap - (size_t)n, "]}}");
	return (size_t)n < cap ? n : -1;
}

static int
load_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct load_conn *c = lws_get_opaque_user_data(wsi);
	static unsigned char buf[LWS_PRE + 65536];
	char *n;
	int k;

	(void)user;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
		unsigned char **p = in, *end = *p + len;

		if (lws_add_http_header_by_name(wsi, (const unsigned char *)"x-api-key:",
		    (const unsigned char *)opt.key, (int)strlen(opt.key), p, end))
			return -1;
		return 0;
	}
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		c->established = true;
		lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (c->cmds_sent >= c->n_cmds)
			return 0;
		if ((k = load_command(c, c->cmds_sent, (char *)buf + LWS_PRE, sizeof(buf) - LWS_PRE)) < 0 ||
		    lws_write(wsi, buf + LWS_PRE, (size_t)k, LWS_WRITE_TEXT) < k)
			return -1;
		if (++c->cmds_sent < c->n_cmds)
			lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (c->rx_len + len + 1 > c->rx_cap) {
			size_t cap = (c->rx_len + len + 1) * 2;

			if ((n = realloc(c->rx, cap)) == NULL)
				return -1;
			c->rx = n;
			c->rx_cap = cap;
		}
		memcpy(c->rx + c->rx_len, in, len);
		c->rx_len += len;
		if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) > 0)
			return 0;
		c->rx[c->rx_len] = '\0';
		load_message(c, c->rx);
		c->rx_len = 0;
		return 0;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (c != NULL && !c->closed) {
			c->closed = true;
			st.refused++;
			fprintf(stderr, "kbook-feedload: connection refused: %s\n",
			    in != NULL ? (const char *)in : "?");
		}
		return 0;
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (c != NULL && !c->closed) {
			c->closed = true;
			if (!done)
				st.closed++;
		}
		return 0;
	default:
		return 0;
	}
}

static const struct lws_protocols load_protocols[] = {
	{ "feedload", load_callback, 0, 65536, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

static int
load_read_tickers(void)
{
	FILE *f = fopen(opt.tickers_file, "r");
	char line[256];
	int cap = 0;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0')
			continue;
		if (load_n_tickers == cap) {
			char **t;

			cap = cap != 0 ? cap * 2 : 1024;
			if ((t = realloc(load_tickers, (size_t)cap * sizeof(*t))) == NULL)
				break;
			load_tickers = t;
		}
		if ((load_tickers[load_n_tickers] = strdup(line)) == NULL)
			break;
		load_n_tickers++;
	}
	fclose(f);
	return load_n_tickers > 0 ? 0 : -1;
}

/* Picks c's tickers: all of them, or per distinct random ones. */
static int
load_pick(struct load_conn *c, bool all)
{
	c->n_tickers = all ? load_n_tickers : (opt.per < load_n_tickers ? opt.per : load_n_tickers);
	if ((c->tickers = calloc((size_t)c->n_tickers, sizeof(int))) == NULL)
		return -1;
	for (int i = 0; i < c->n_tickers; i++) {
		bool dup;

		if (all) {
			c->tickers[i] = i;
			continue;
		}
		do {
			c->tickers[i] = (int)((unsigned)rand() % (unsigned)load_n_tickers);
			dup = false;
			for (int j = 0; j < i; j++)
				dup |= c->tickers[j] == c->tickers[i];
		} while (dup);
	}
	c->n_cmds = (c->n_tickers + LOAD_SUB_CHUNK - 1) / LOAD_SUB_CHUNK;
	return c->n_cmds <= LOAD_SIDS ? 0 : -1;
}

static int
load_connect(struct load_conn *c)
{
	struct lws_client_connect_info i;

	memset(&i, 0, sizeof(i));
	i.context = ctx;
	i.address = opt.host;
	i.port = opt.port;
	i.path = opt.path;
	i.host = opt.host;
	i.origin = opt.host;
	i.local_protocol_name = "feedload";
	i.opaque_user_data = c;
	i.pwsi = &c->wsi;
	return lws_client_connect_via_info(&i) != NULL ? 0 : -1;
}

static int
load_parse_url(const char *url)
{
	static char host[256];
	const char *p, *slash;
	char *end;
	long port;

	if (strncmp(url, "ws://", 5) != 0)
		return -1;
	p = url + 5;
	slash = strchr(p, '/');
	if (slash == NULL || strchr(p, ':') == NULL || strchr(p, ':') > slash)
		return -1;
	snprintf(host, sizeof(host), "%.*s", (int)(strchr(p, ':') - p), p);
	port = strtol(strchr(p, ':') + 1, &end, 10);
	if (end != slash || port < 1 || port > 65535)
		return -1;
	opt.host = host;
	opt.port = (int)port;
	opt.path = slash;
	return 0;
}

static double
load_quantile(const uint64_t *hist, double q, uint64_t total)
{
	uint64_t acc = 0;

	for (int i = 0; i <= LOAD_HIST; i++) {
		acc += hist[i];
		if (total > 0 && (double)acc >= q * (double)total)
			return (i + 1) / 10.0;
	}
	return 0;
}

static void
load_usage(void)
{
	fprintf(stderr, "usage: kbook-feedload --url ws://HOST:PORT/PATH --key KEY --tickers FILE"
	    " [--conns N] [--per N] [--all N] [--warmup S] [--seconds S] [--seed N] [--ramp N]\n");
}

/* The run's state, advanced by load_tick. */
static int64_t t_subscribed, t_start, t0, last_connect, last_debug;
static int next_conn;

/*
 * Every 20 ms: connects in steps of --ramp (50) every 20 ms, then waits until every connection is
 * subscribed, warms up, measures, and stops the loop at the end.
 */
static void
load_tick(lws_sorted_usec_list_t *sul)
{
	int64_t now = load_now_us();
	int established = 0, subscribed = 0;

	if (next_conn < n_conns && now - last_connect >= 20000) {
		for (int k = 0; k < opt.ramp && next_conn < n_conns; k++, next_conn++)
			if (load_connect(&conns[next_conn]) != 0) {
				conns[next_conn].closed = true;
				st.refused++;
			}
		last_connect = now;
	}
	for (int i = 0; i < n_conns; i++) {
		established += conns[i].established;
		subscribed += conns[i].established && conns[i].subscribed >= conns[i].n_cmds;
	}
	if (getenv("FEEDLOAD_DEBUG") != NULL && now / 1000000 != last_debug) {
		last_debug = now / 1000000;
		fprintf(stderr, "kbook-feedload: started %d established %d subscribed %d refused %"
		    PRIu64 " closed %" PRIu64 "; last second: %" PRId64 " deltas measured, latency max %"
		    PRId64 " ms (sim to collector %" PRId64 ", collector to client %" PRId64 ")\n",
		    next_conn, established, subscribed, st.refused, st.closed, st.sec_deltas,
		    st.sec_max_us / 1000, st.sec_max_up_us / 1000, st.sec_max_down_us / 1000);
		st.sec_max_us = st.sec_deltas = st.sec_max_up_us = st.sec_max_down_us = 0;
	}
	if (t_start == 0)
		t_start = now;
	/* everything subscribed, or 120 s gone: measure what is there (the JSON says how many) */
	if (t_subscribed == 0 && next_conn == n_conns &&
	    (subscribed + (int)(st.refused + st.closed) >= n_conns || now - t_start > 120000000)) {
		t_subscribed = now;
		fprintf(stderr, "kbook-feedload: %d connections subscribed\n", subscribed);
	}
	if (t_subscribed != 0 && !measuring && t0 == 0 && now >= t_subscribed + opt.warmup * 1000000LL) {
		measuring = true;
		t0 = now;
		fprintf(stderr, "kbook-feedload: measuring\n");
		st.lost = st.reordered = 0;
	}
	if (measuring && now >= t0 + opt.seconds * 1000000LL) {
		measuring = false;
		done = true;
	}
	if (done)
		ev_break(loop, EVBREAK_ALL);
	else
		lws_sul_schedule(ctx, 0, sul, load_tick, 20 * LWS_US_PER_MS);
}

int
main(int argc, char **argv)
{
	struct lws_context_creation_info info;
	struct rlimit rl;
	void *foreign[1];
	int64_t t1;
	double secs;
	int established, subscribed;

	for (int i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];

		if (strcmp(k, "--url") == 0 && load_parse_url(v) == 0)
			continue;
		if (strcmp(k, "--key") == 0)
			opt.key = v;
		else if (strcmp(k, "--tickers") == 0)
			opt.tickers_file = v;
		else if (strcmp(k, "--conns") == 0)
			opt.conns = atoi(v);
		else if (strcmp(k, "--per") == 0)
			opt.per = atoi(v);
		else if (strcmp(k, "--all") == 0)
			opt.all = atoi(v);
		else if (strcmp(k, "--warmup") == 0)
			opt.warmup = atoi(v);
		else if (strcmp(k, "--seconds") == 0)
			opt.seconds = atoi(v);
		else if (strcmp(k, "--ramp") == 0)
			opt.ramp = atoi(v);
		else if (strcmp(k, "--seed") == 0)
			opt.seed = (unsigned)atoi(v);
		else {
			load_usage();
			return 2;
		}
	}
	if (argc % 2 == 0 || opt.host == NULL || opt.key == NULL || opt.tickers_file == NULL ||
	    opt.conns < 0 || opt.all < 0 || opt.per < 1 || opt.seconds < 1 || opt.ramp < 1) {
		load_usage();
		return 2;
	}
	if (load_read_tickers() != 0) {
		fprintf(stderr, "kbook-feedload: no tickers in %s\n", opt.tickers_file);
		return 1;
	}
	srand(opt.seed);
	n_conns = opt.conns + opt.all;
	if ((conns = calloc((size_t)n_conns, sizeof(*conns))) == NULL)
		return 1;
	for (int i = 0; i < n_conns; i++)
		if (load_pick(&conns[i], i >= opt.conns) != 0) {
			fprintf(stderr, "kbook-feedload: too many markets for one connection\n");
			return 1;
		}
	signal(SIGPIPE, SIG_IGN);
	lws_set_log_level(getenv("FEEDLOAD_DEBUG") != NULL ? LLL_ERR | LLL_WARN : LLL_ERR, NULL);
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = load_protocols;
	/*
	 * lws sizes its descriptor table from RLIMIT_NOFILE: raised to the hard limit, and checked.
	 * (Not fd_limit_per_thread: with it set, lws 4.1 finds the connection of each event by a
	 * linear search of the whole table, 4 % of a core at 1 001 connections.)
	 */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < (rlim_t)n_conns + 64) {
		fprintf(stderr, "kbook-feedload: %d connections need a descriptor limit (ulimit -n) of at"
		    " least %d\n", n_conns, n_conns + 64);
		return 1;
	}
	if ((loop = ev_loop_new(EVFLAG_AUTO)) == NULL)
		return 1;
	foreign[0] = loop;
	info.options = LWS_SERVER_OPTION_LIBEV;
	info.foreign_loops = foreign;
	if ((ctx = lws_create_context(&info)) == NULL)
		return 1;
	lws_sul_schedule(ctx, 0, &load_sul, load_tick, 20 * LWS_US_PER_MS);
	ev_run(loop, 0);
	t1 = load_now_us();
	secs = (double)(t1 - t0) / 1e6;
	established = subscribed = 0;
	for (int i = 0; i < n_conns; i++) {
		established += conns[i].established;
		subscribed += conns[i].established && conns[i].subscribed >= conns[i].n_cmds;
	}
	printf("{\"connections\":%d,\"established\":%d,\"subscribed\":%d,\"seconds\":%.1f,\"messages\":%" PRIu64
	    ",\"msgs_per_s\":%.0f,\"deltas_per_s\":%.0f,\"latency_ms\":{\"p50\":%.1f,\"p99\":%.1f,"
	    "\"p999\":%.1f,\"max\":%.1f},\"sim_to_collector_ms\":{\"p50\":%.1f,\"p99\":%.1f},"
	    "\"collector_to_client_ms\":{\"p50\":%.1f,\"p99\":%.1f},\"lost\":%" PRIu64 ",\"reordered\":%" PRIu64
	    ",\"errors\":%" PRIu64 ",\"error25\":%" PRIu64 ",\"refused\":%" PRIu64
	    ",\"closed_by_server\":%" PRIu64 ",\"snapshots\":%" PRIu64 "}\n",
	    n_conns, established, subscribed, secs, st.window_msgs,
	    (double)st.window_msgs / secs, (double)st.window_deltas / secs,
	    load_quantile(st.hist, 0.5, st.window_deltas), load_quantile(st.hist, 0.99, st.window_deltas),
	    load_quantile(st.hist, 0.999, st.window_deltas), (double)st.lat_max_us / 1000.0,
	    load_quantile(st.hist_up, 0.5, st.window_deltas),
	    load_quantile(st.hist_up, 0.99, st.window_deltas),
	    load_quantile(st.hist_down, 0.5, st.window_deltas),
	    load_quantile(st.hist_down, 0.99, st.window_deltas), st.lost, st.reordered,
	    st.errors, st.err25, st.refused, st.closed, st.snapshots);
	lws_context_destroy(ctx);
	ev_loop_destroy(loop);
	for (int i = 0; i < n_conns; i++) {
		free(conns[i].tickers);
		free(conns[i].rx);
	}
	free(conns);
	for (int i = 0; i < load_n_tickers; i++)
		free(load_tickers[i]);
	free(load_tickers);
	return 0;
}
