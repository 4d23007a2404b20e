/*
 * kmsg: see kmsg.h. json-c parses the frame; fixed-point fields are read from the JSON text of
 * the value: a string's contents, or a number's original spelling (json-c keeps it for doubles
 * and prints integers exactly), so "0.96" and 0.96 give the same micro-dollars and no value ever
 * passes through a double.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "fixed.h"
#include "kmsg.h"

/* Maximum nesting: Kalshi messages are 4 deep; lifecycle metadata a little more. */
#define KMSG_DEPTH 16

static const struct {
	const char *name;
	enum kmsg_type type;
} kmsg_types[] = {
	{ "orderbook_snapshot", KMSG_SNAPSHOT },
	{ "orderbook_delta", KMSG_DELTA },
	{ "subscribed", KMSG_SUBSCRIBED },
	{ "ok", KMSG_OK },
	{ "unsubscribed", KMSG_UNSUBSCRIBED },
	{ "error", KMSG_ERROR },
	{ "market_lifecycle_v2", KMSG_LIFECYCLE },
	{ "multivariate_market_lifecycle", KMSG_LIFECYCLE },
};

/* The text of a string or number value, borrowed from v; NULL for other types. */
static const char *
num_text(struct json_object *v, size_t *len)
{
	const char *s;

	switch (json_object_get_type(v)) {
	case json_type_string:
		*len = (size_t)json_object_get_string_len(v);
		return json_object_get_string(v);
	case json_type_int:
	case json_type_double:
		s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
		*len = strlen(s);
		return s;
	default:
		return NULL;
	}
}

/* An optional int64 member: -1 when absent; false when present with another type. */
static bool
get_int(struct json_object *o, const char *key, int64_t *out)
{
	struct json_object *v;

	*out = -1;
	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return true;
	if (!json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return true;
}

/* Copies an optional string member into buf; false when present and not a string or too long. */
static bool
get_str(struct json_object *o, const char *key, char *buf, size_t cap)
{
	struct json_object *v;
	size_t n;

	buf[0] = '\0';
	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return true;
	if (!json_object_is_type(v, json_type_string))
		return false;
	n = (size_t)json_object_get_string_len(v);
	if (n >= cap || memchr(json_object_get_string(v), '\0', n) != NULL)
		return false;
	memcpy(buf, json_object_get_string(v), n + 1);
	return true;
}

/* Parses one snapshot side (absent or null = empty). Caller frees *out. */
static enum kmsg_err
parse_side(struct json_object *msg, const char *key, struct book_level **out, size_t *n)
{
	struct json_object *arr;
	size_t len;

	*out = NULL;
	*n = 0;
	if (!json_object_object_get_ex(msg, key, &arr) || arr == NULL)
		return KMSG_OKAY;
	if (!json_object_is_type(arr, json_type_array))
		return KMSG_EFIELD;
	len = json_object_array_length(arr);
	if (len == 0)
		return KMSG_OKAY;
	if ((*out = calloc(len, sizeof(**out))) == NULL)
		return KMSG_ENOMEM;
	for (size_t i = 0; i < len; i++) {
		struct json_object *lv = json_object_array_get_idx(arr, i);
		const char *ps, *ss;
		size_t pl, sl;

		if (!json_object_is_type(lv, json_type_array) || json_object_array_length(lv) != 2)
			return KMSG_EFIELD;
		ps = num_text(json_object_array_get_idx(lv, 0), &pl);
		ss = num_text(json_object_array_get_idx(lv, 1), &sl);
		if (ps == NULL || ss == NULL)
			return KMSG_EFIELD;
		if (fx_parse_price(ps, pl, &(*out)[i].price) != FX_OK)
			return KMSG_EPRICE;
		if (fx_parse_size(ss, sl, &(*out)[i].size) != FX_OK || (*out)[i].size <= 0)
			return KMSG_ESIZE;
		(*n)++;
	}
	return KMSG_OKAY;
}

static enum kmsg_err
parse_snapshot(struct json_object *msg, struct kmsg *m)
{
	enum kmsg_err err;

	if ((err = parse_side(msg, "yes_dollars_fp", &m->yes, &m->n_yes)) != KMSG_OKAY)
		return err;
	return parse_side(msg, "no_dollars_fp", &m->no, &m->n_no);
}

static enum kmsg_err
parse_delta(struct json_object *msg, struct kmsg *m)
{
	struct json_object *v;
	const char *s;
	size_t len;

	if (!json_object_object_get_ex(msg, "side", &v) || !json_object_is_type(v, json_type_string))
		return KMSG_EFIELD;
	if (strcmp(json_object_get_string(v), "yes") == 0)
		m->side = BOOK_YES;
	else if (strcmp(json_object_get_string(v), "no") == 0)
		m->side = BOOK_NO;
	else
		return KMSG_EFIELD;
	if (!json_object_object_get_ex(msg, "price_dollars", &v) || (s = num_text(v, &len)) == NULL)
		return KMSG_EFIELD;
	if (fx_parse_price(s, len, &m->price) != FX_OK)
		return KMSG_EPRICE;
	if (!json_object_object_get_ex(msg, "delta_fp", &v) || (s = num_text(v, &len)) == NULL)
		return KMSG_EFIELD;
	if (fx_parse_size(s, len, &m->delta) != FX_OK)
		return KMSG_ESIZE;
	if (!get_int(msg, "ts_ms", &m->ts_ms))
		return KMSG_EFIELD;
	return KMSG_OKAY;
}

/* Fills the type-specific part of m from the "msg" member. */
static enum kmsg_err
parse_body(struct json_object *msg, struct kmsg *m)
{
	bool is_obj = msg != NULL && json_object_is_type(msg, json_type_object);

	switch (m->type) {
	case KMSG_SNAPSHOT:
	case KMSG_DELTA:
		if (!is_obj || !get_str(msg, "market_ticker", m->ticker, sizeof(m->ticker)) ||
		    m->ticker[0] == '\0' || m->sid < 0 || m->seq < 0)
			return KMSG_EFIELD;
		return m->type == KMSG_SNAPSHOT ? parse_snapshot(msg, m) : parse_delta(msg, m);
	case KMSG_SUBSCRIBED:
		if (!is_obj || !get_str(msg, "channel", m->channel, sizeof(m->channel)) ||
		    !get_int(msg, "sid", &m->sid) || m->sid < 0)
			return KMSG_EFIELD;
		return KMSG_OKAY;
	case KMSG_ERROR:
		if (!is_obj || !get_int(msg, "code", &m->code) || m->code < 0)
			return KMSG_EFIELD;
		if (!get_str(msg, "market_ticker", m->ticker, sizeof(m->ticker)))
			m->ticker[0] = '\0';
		return KMSG_OKAY;
	case KMSG_LIFECYCLE:
		if (!is_obj || !get_str(msg, "market_ticker", m->ticker, sizeof(m->ticker)) ||
		    m->ticker[0] == '\0' || !get_str(msg, "event_type", m->event_type, sizeof(m->event_type)))
			return KMSG_EFIELD;
		m->payload = msg;
		return KMSG_OKAY;
	case KMSG_OK:
	case KMSG_UNSUBSCRIBED:
	case KMSG_OTHER:
		return KMSG_OKAY;
	}
	return KMSG_OKAY;
}

/*
 * The fast path for the frame that is nearly all of the traffic, an orderbook_delta: a scanner of
 * strict, plain JSON (an object whose "msg" member is an object; scalar members otherwise;
 * strings of printable ASCII without escapes; numbers by the JSON grammar) that reads exactly
 * the members the json-c path reads, the same way. On anything else (another type, an escape, a
 * byte outside printable ASCII in a string, a nested array, a duplicate member it reads, a value
 * of another type, a field lib/fixed refuses, trailing bytes) it returns false with *m untouched
 * beyond its defaults, and the frame takes the json-c path: so the two agree on every frame the
 * fast one accepts (tests/unit/test_kmsg.c and tests/fuzz/fuzz_kmsg.c compare them).
 */
struct scan {
	const char *p, *end;
};

static void
scan_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static bool
scan_lit(struct scan *s, char c)
{
	scan_ws(s);
	if (s->p >= s->end || *s->p != c)
		return false;
	s->p++;
	return true;
}

/* A plain string: *str, *len borrowed from the buffer (without the quotes). */
static bool
scan_str(struct scan *s, const char **str, size_t *len)
{
	const char *q;

	if (!scan_lit(s, '"'))
		return false;
	for (q = s->p; q < s->end && *q != '"'; q++)
		if ((unsigned char)*q < 0x20 || (unsigned char)*q > 0x7e || *q == '\\')
			return false;
	if (q >= s->end)
		return false;
	*str = s->p;
	*len = (size_t)(q - s->p);
	s->p = q + 1;
	return true;
}

/* A number by the JSON grammar; *is_int when it has no fraction and no exponent. */
static bool
scan_num(struct scan *s, const char **str, size_t *len, bool *is_int)
{
	const char *q;

	scan_ws(s);
	q = s->p;
	*is_int = true;
	if (q < s->end && *q == '-')
		q++;
	if (q < s->end && *q == '0') {
		q++;
	} else if (q < s->end && *q >= '1' && *q <= '9') {
		while (q < s->end && *q >= '0' && *q <= '9')
			q++;
	} else {
		return false;
	}
	if (q < s->end && *q == '.') {
		*is_int = false;
		if (++q >= s->end || *q < '0' || *q > '9')
			return false;
		while (q < s->end && *q >= '0' && *q <= '9')
			q++;
	}
	if (q < s->end && (*q == 'e' || *q == 'E')) {
		*is_int = false;
		if (++q < s->end && (*q == '+' || *q == '-'))
			q++;
		if (q >= s->end || *q < '0' || *q > '9')
			return false;
		while (q < s->end && *q >= '0' && *q <= '9')
			q++;
	}
	*str = s->p;
	*len = (size_t)(q - s->p);
	s->p = q;
	return true;
}

/* A small non-negative integer (what json-c reads as an int64 the same way), else false. */
static bool
scan_int(struct scan *s, int64_t *out)
{
	const char *t;
	size_t n;
	bool is_int;
	int64_t v = 0;

	if (!scan_num(s, &t, &n, &is_int) || !is_int || n > 18 || t[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (t[i] - '0');
	*out = v;
	return true;
}

/* Skips a scalar value (string, number, true, false, null). */
static bool
scan_skip(struct scan *s)
{
	const char *t;
	size_t n;
	bool is_int;

	scan_ws(s);
	if (s->p >= s->end)
		return false;
	if (*s->p == '"')
		return scan_str(s, &t, &n);
	for (size_t i = 0; i < 3; i++) {
		static const char *const words[] = { "true", "false", "null" };
		size_t wl = strlen(words[i]);

		if ((size_t)(s->end - s->p) >= wl && memcmp(s->p, words[i], wl) == 0) {
			s->p += wl;
			return true;
		}
	}
	return scan_num(s, &t, &n, &is_int);
}

/*
 * A price or size: a plain string, or a number's text. json-c prints an integer back in its own
 * form: "-0" and integers past 18 digits are left to it.
 */
static bool
scan_numtext(struct scan *s, const char **t, size_t *n)
{
	bool is_int;

	scan_ws(s);
	if (s->p < s->end && *s->p == '"')
		return scan_str(s, t, n);
	return scan_num(s, t, n, &is_int) &&
	    !(is_int && (*n > 18 || (*n == 2 && (*t)[0] == '-' && (*t)[1] == '0')));
}

static bool
key_is(const char *k, size_t n, const char *want)
{
	return strlen(want) == n && memcmp(k, want, n) == 0;
}

/* The "msg" object of a delta. */
static bool
fast_delta_msg(struct scan *s, struct kmsg *m)
{
	const char *k, *t, *price = NULL, *size = NULL;
	size_t kn, n, price_n = 0, size_n = 0;
	unsigned seen = 0;
	bool first = true;

	if (!scan_lit(s, '{'))
		return false;
	for (;;) {
		unsigned bit;

		if (first && scan_lit(s, '}'))
			break;
		if (!scan_str(s, &k, &kn) || !scan_lit(s, ':'))
			return false;
		bit = key_is(k, kn, "market_ticker") ? 1u : key_is(k, kn, "side") ? 2u :
		    key_is(k, kn, "price_dollars") ? 4u : key_is(k, kn, "delta_fp") ? 8u :
		    key_is(k, kn, "ts_ms") ? 16u : 0u;
		if ((seen & bit) != 0)
			return false;
		seen |= bit;
		switch (bit) {
		case 1:
			if (!scan_str(s, &t, &n) || n == 0 || n >= sizeof(m->ticker))
				return false;
			memcpy(m->ticker, t, n);
			m->ticker[n] = '\0';
			break;
		case 2:
			if (!scan_str(s, &t, &n))
				return false;
			if (key_is(t, n, "yes"))
				m->side = BOOK_YES;
			else if (key_is(t, n, "no"))
				m->side = BOOK_NO;
			else
				return false;
			break;
		case 4:
			if (!scan_numtext(s, &price, &price_n))
				return false;
			break;
		case 8:
			if (!scan_numtext(s, &size, &size_n))
				return false;
			break;
		case 16:
			if (!scan_int(s, &m->ts_ms))
				return false;
			break;
		default:
			if (!scan_skip(s))
				return false;
		}
		first = false;
		if (scan_lit(s, '}'))
			break;
		if (!scan_lit(s, ','))
			return false;
	}
	return (seen & 15u) == 15u && fx_parse_price(price, price_n, &m->price) == FX_OK &&
	    fx_parse_size(size, size_n, &m->delta) == FX_OK;
}

static bool
fast_delta(const char *buf, size_t len, struct kmsg *m)
{
	struct scan s = { buf, buf + len };
	const char *k, *t;
	size_t kn, n;
	unsigned seen = 0;
	bool first = true;

	if (!scan_lit(&s, '{'))
		return false;
	for (;;) {
		unsigned bit;

		if (first && scan_lit(&s, '}'))
			return false;
		if (!scan_str(&s, &k, &kn) || !scan_lit(&s, ':'))
			return false;
		bit = key_is(k, kn, "type") ? 1u : key_is(k, kn, "id") ? 2u : key_is(k, kn, "sid") ? 4u :
		    key_is(k, kn, "seq") ? 8u : key_is(k, kn, "msg") ? 16u : 0u;
		if ((seen & bit) != 0)
			return false;
		seen |= bit;
		switch (bit) {
		case 1:
			if (!scan_str(&s, &t, &n) || !key_is(t, n, "orderbook_delta"))
				return false;
			break;
		case 2:
			if (!scan_int(&s, &m->id))
				return false;
			break;
		case 4:
			if (!scan_int(&s, &m->sid))
				return false;
			break;
		case 8:
			if (!scan_int(&s, &m->seq))
				return false;
			break;
		case 16:
			if (!fast_delta_msg(&s, m))
				return false;
			break;
		default:
			if (!scan_skip(&s))
				return false;
		}
		first = false;
		if (scan_lit(&s, '}'))
			break;
		if (!scan_lit(&s, ','))
			return false;
	}
	scan_ws(&s);
	if (s.p != s.end || (seen & (1u | 4u | 8u | 16u)) != (1u | 4u | 8u | 16u))
		return false;
	m->type = KMSG_DELTA;
	return true;
}

/* Resets *out to the defaults of an unparsed message. */
static void
kmsg_init(struct kmsg *out)
{
	memset(out, 0, sizeof(*out));
	out->id = out->sid = out->seq = out->ts_ms = out->code = -1;
}

enum kmsg_err
kmsg_parse(const char *buf, size_t len, struct kmsg *out)
{
	if (len <= (size_t)INT32_MAX && memchr(buf, '\0', len) == NULL) {
		kmsg_init(out);
		if (fast_delta(buf, len, out))
			return KMSG_OKAY;
	}
	return kmsg_parse_json(buf, len, out);
}

enum kmsg_err
kmsg_parse_json(const char *buf, size_t len, struct kmsg *out)
{
	struct json_tokener *tok = NULL;
	struct json_object *root = NULL, *v, *msg = NULL;
	enum kmsg_err err = KMSG_EJSON;
	size_t end;

	kmsg_init(out);
	if (len > (size_t)INT32_MAX || memchr(buf, '\0', len) != NULL)
		goto out;
	if ((tok = json_tokener_new_ex(KMSG_DEPTH)) == NULL) {
		err = KMSG_ENOMEM;
		goto out;
	}
	root = json_tokener_parse_ex(tok, buf, (int)len);
	if (root == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(root, json_type_object))
		goto out;
	for (end = json_tokener_get_parse_end(tok); end < len; end++)
		if (strchr(" \t\r\n", buf[end]) == NULL)
			goto out;
	err = KMSG_ETYPE;
	if (!json_object_object_get_ex(root, "type", &v) || !json_object_is_type(v, json_type_string))
		goto out;
	out->type = KMSG_OTHER;
	for (size_t i = 0; i < sizeof(kmsg_types) / sizeof(kmsg_types[0]); i++)
		if (strcmp(json_object_get_string(v), kmsg_types[i].name) == 0)
			out->type = kmsg_types[i].type;
	err = KMSG_EFIELD;
	if (!get_int(root, "id", &out->id) || !get_int(root, "sid", &out->sid) ||
	    !get_int(root, "seq", &out->seq))
		goto out;
	json_object_object_get_ex(root, "msg", &msg);
	if ((err = parse_body(msg, out)) != KMSG_OKAY)
		goto out;
	out->root = root;
	root = NULL;
out:
	if (err != KMSG_OKAY) {
		free(out->yes);
		free(out->no);
		out->yes = out->no = NULL;
		out->n_yes = out->n_no = 0;
		out->payload = NULL;
	}
	json_object_put(root);
	if (tok != NULL)
		json_tokener_free(tok);
	return err;
}

void
kmsg_free(struct kmsg *m)
{
	free(m->yes);
	free(m->no);
	json_object_put(m->root);
	m->yes = m->no = NULL;
	m->n_yes = m->n_no = 0;
	m->root = m->payload = NULL;
}

const char *
kmsg_strerror(enum kmsg_err err)
{
	switch (err) {
	case KMSG_OKAY:
		return "ok";
	case KMSG_EJSON:
		return "not a JSON object";
	case KMSG_ETYPE:
		return "no message type";
	case KMSG_EFIELD:
		return "a field is missing or has the wrong type";
	case KMSG_EPRICE:
		return "malformed price";
	case KMSG_ESIZE:
		return "malformed size";
	case KMSG_ENOMEM:
		return "out of memory";
	}
	return "unknown error";
}

enum kmsg_seq
kmsg_seq_check(int64_t *last, int64_t seq)
{
	enum kmsg_seq r;

	if (seq <= *last)
		return KMSG_SEQ_DUP;
	r = seq == *last + 1 ? KMSG_SEQ_NEXT : KMSG_SEQ_GAP;
	*last = seq;
	return r;
}
