/*
 * The evidence ring (see evring.h).
 *
 * Layout: the lines sit back to back in one byte buffer used as a FIFO
 * (a line never wraps: one that does not fit before the end goes to
 * the start, and the bytes left at the end wait for the head to pass);
 * a parallel circular index holds, per line, its place and what queries
 * match on.  The oldest line is always the one the index's head names,
 * so evicting is moving the head.
 */
#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/hash.h"
#include "core/num.h"
#include "obs/evring.h"
#include "obs/secevent.h"

struct ent {
	int64_t		ms;
	uint64_t	cid;		/* hash of the Call-ID; 0: none */
	uint32_t	off, len;	/* the line, no '\n' */
	uint16_t	sport;
	uint8_t		sev;
	uint8_t		fam;		/* 0, 4 or 6 */
	uint8_t		addr[16];
};

struct evring {
	pthread_mutex_t	 mu;
	char		*data;
	size_t		 cap;
	size_t		 tail;		/* where the next line goes */
	size_t		 bytes;		/* of lines held */
	struct ent	*e;
	size_t		 ecap, head, n;	/* the oldest is e[head] */
	uint64_t	 added, evicted, rejected;
};

static const char *const sev_names[] = { "emerg", "alert", "crit", "err",
    "warning", "notice", "info", "debug" };

int
evring_sev_of(const char *name)
{
	for (size_t i = 0; name != NULL && i < 8; i++)
		if (strcmp(name, sev_names[i]) == 0)
			return (int)i;
	return -1;
}

int
evring_new(size_t data_max, struct evring **ret)
{
	struct evring *r;

	if (data_max == 0)
		data_max = EVRING_DEFAULT_BYTES;
	if (data_max < EVRING_MIN_BYTES || data_max > EVRING_MAX_BYTES)
		return -EINVAL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return -ENOMEM;
	r->cap = data_max;
	r->ecap = data_max / EVRING_MIN_LINE;
	if ((r->data = malloc(r->cap)) == NULL ||
	    (r->e = calloc(r->ecap, sizeof(*r->e))) == NULL) {
		free(r->data);
		free(r);
		return -ENOMEM;
	}
	pthread_mutex_init(&r->mu, NULL);
	*ret = r;
	return 0;
}

void
evring_free(struct evring *r)
{
	if (r == NULL)
		return;
	pthread_mutex_destroy(&r->mu);
	free(r->data);
	free(r->e);
	free(r);
}

/* ---- reading a line ---- */

/* n digits at s as a number; -1 when one is not a digit. */
static int
digits(const char *s, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* "2026-11-26T17:25:33.123Z" (docs/events.md) as ms since the epoch. */
static int
parse_ts(const char *s, int64_t *ret)
{
	struct tm tm;
	int y, mo, d, h, mi, se, ms;
	time_t t;

	if (s == NULL || strlen(s) != 24 || s[4] != '-' || s[7] != '-' ||
	    s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != '.' ||
	    s[23] != 'Z')
		return -EINVAL;
	y = digits(s, 4);
	mo = digits(s + 5, 2);
	d = digits(s + 8, 2);
	h = digits(s + 11, 2);
	mi = digits(s + 14, 2);
	se = digits(s + 17, 2);
	ms = digits(s + 20, 3);
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 ||
	    h > 23 || mi < 0 || mi > 59 || se < 0 || se > 60 || ms < 0)
		return -EINVAL;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -EINVAL;
	*ret = (int64_t)t * 1000 + ms;
	return 0;
}

static const char *
ostr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

int
evring_parse(const char *buf, size_t len, struct evring_ev *ret,
    json_t **ret_obj)
{
	struct evring_ev ev;
	json_t *o, *v;
	const char *src;
	long long id, port = 0;

	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len == 0 || len > SECEVENT_LINE_MAX ||
	    (o = json_loadb(buf, len, 0, NULL)) == NULL)
		return -EINVAL;
	memset(&ev, 0, sizeof(ev));
	if (!json_is_object(o) || parse_ts(ostr(o, "ts"), &ev.ms) < 0 ||
	    !json_is_integer(v = json_object_get(o, "id")) ||
	    (id = json_integer_value(v)) < 100 || id > 899 ||
	    (ev.type = ostr(o, "type")) == NULL ||
	    (ev.sev = evring_sev_of(ostr(o, "sev"))) < 0)
		goto bad;
	ev.id = (int)id;
	if ((v = json_object_get(o, "sport")) != NULL) {
		port = json_integer_value(v);
		if (!json_is_integer(v) || port < 0 || port > 65535)
			goto bad;
	}
	if ((src = ostr(o, "src")) != NULL &&
	    sw_addr_parse(src, (uint16_t)port, &ev.src) < 0)
		memset(&ev.src, 0, sizeof(ev.src));
	ev.call_id = ostr(o, "call_id");
	ev.account = ostr(o, "account");
	ev.reason = ostr(o, "reason");
	if (json_is_integer(v = json_object_get(o, "suppressed")) &&
	    json_integer_value(v) > 0)
		ev.suppressed = (uint64_t)json_integer_value(v);
	*ret = ev;
	*ret_obj = o;
	return 0;
bad:
	json_decref(o);
	return -EINVAL;
}

/*
 * The same fields without building a JSON tree: evring_feed() reads
 * every event the daemon writes (tens of thousands a second under a
 * registration load), and a jansson parse of each cost the control
 * thread about a tenth of a core.  Our own writer makes the lines
 * (secevent.c): one flat object, keys without escapes.  A wanted string
 * with an escape in it, or anything unexpected, gives -EAGAIN and the
 * caller parses the line with evring_parse() instead.
 */
struct scan_str {
	const char	*key;
	size_t		 off;	/* into struct evring_scratch */
	size_t		 cap;
};

#define SCAN_STR(f) { #f, offsetof(struct evring_scratch, f), \
	sizeof(((struct evring_scratch *)0)->f) }

static const struct scan_str scan_strs[] = {
	SCAN_STR(ts), SCAN_STR(type), SCAN_STR(sev), SCAN_STR(src),
	SCAN_STR(call_id), SCAN_STR(account), SCAN_STR(reason),
};

static const char *
ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return p;
}

/* p at '"': past the closing quote, or NULL; *esc set on a backslash. */
static const char *
str_end(const char *p, const char *e, int *esc)
{
	for (p++; p < e; p++) {
		if (*p == '\\') {
			*esc = 1;
			if (++p == e)
				return NULL;
		} else if (*p == '"') {
			return p + 1;
		}
	}
	return NULL;
}

/* Past one value of any kind (nested ones by depth), or NULL. */
static const char *
value_end(const char *p, const char *e)
{
	int depth = 0, esc = 0;

	do {
		if (p >= e)
			return NULL;
		if (*p == '"') {
			if ((p = str_end(p, e, &esc)) == NULL)
				return NULL;
			continue;
		}
		if (*p == '{' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ']')
			depth--;
		else if (depth == 0) {
			/* a number, true, false or null */
			while (p < e && *p != ',' && *p != '}' && *p != ']' &&
			    *p != ' ')
				p++;
			return p;
		}
		p++;
	} while (depth > 0);
	return depth == 0 ? p : NULL;
}

static int
int_of(const char *p, const char *end, long long *ret)
{
	long long v = 0;

	if (p == end || end - p > 18)
		return -1;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	*ret = v;
	return 0;
}

int
evring_scan(const char *buf, size_t len, struct evring_ev *ret,
    struct evring_scratch *sc)
{
	const char *p = buf, *e = buf + len;
	long long id = -1, port = 0, supp = 0;
	unsigned seen = 0;	/* fields read: one read twice is jansson's */
	struct evring_ev ev;

	if (len > 0 && buf[len - 1] == '\n')
		e--;
	memset(sc, 0, sizeof(*sc));
	p = ws(p, e);
	if (p == e || *p != '{')
		return -EAGAIN;
	for (p = ws(p + 1, e); p < e && *p != '}';) {
		const char *k, *ke, *v, *ve;
		int esc = 0;

		if (*p != '"' || (ke = str_end(p, e, &esc)) == NULL || esc)
			return -EAGAIN;
		k = p + 1;
		p = ws(ke, e);
		if (p == e || *p != ':')
			return -EAGAIN;
		v = ws(p + 1, e);
		if ((ve = value_end(v, e)) == NULL)
			return -EAGAIN;
		ke--;		/* the key's closing quote */
		{
			static const char *const ints[] = { "id", "sport",
			    "suppressed" };
			long long *dst[] = { &id, &port, &supp };

			for (size_t i = 0; i < 3; i++) {
				if ((size_t)(ke - k) != strlen(ints[i]) ||
				    memcmp(k, ints[i], (size_t)(ke - k)) != 0)
					continue;
				if ((seen & (1u << i)) ||
				    int_of(v, ve, dst[i]) < 0)
					return -EAGAIN;
				seen |= 1u << i;
			}
		}
		for (size_t i = 0; i < sizeof(scan_strs) / sizeof(scan_strs[0]);
		    i++) {
			const struct scan_str *s = &scan_strs[i];
			size_t n;

			if ((size_t)(ke - k) != strlen(s->key) ||
			    memcmp(k, s->key, (size_t)(ke - k)) != 0)
				continue;
			if (seen & (8u << i))
				return -EAGAIN;
			seen |= 8u << i;
			esc = 0;
			if (*v != '"' || str_end(v, e, &esc) != ve || esc ||
			    (n = (size_t)(ve - v) - 2) >= s->cap)
				return -EAGAIN;
			memcpy((char *)sc + s->off, v + 1, n);
			break;
		}
		p = ws(ve, e);
		if (p < e && *p == ',')
			p = ws(p + 1, e);
		else if (p < e && *p != '}')
			return -EAGAIN;
	}
	if (p == e || ws(p + 1, e) != e)
		return -EAGAIN;
	memset(&ev, 0, sizeof(ev));
	if (parse_ts(sc->ts, &ev.ms) < 0 || id < 100 || id > 899 ||
	    sc->type[0] == '\0' || (ev.sev = evring_sev_of(sc->sev)) < 0 ||
	    port > 65535)
		return -EAGAIN;
	ev.id = (int)id;
	ev.type = sc->type;
	if (sc->src[0] != '\0' &&
	    sw_addr_parse(sc->src, (uint16_t)port, &ev.src) < 0)
		memset(&ev.src, 0, sizeof(ev.src));
	ev.call_id = sc->call_id[0] != '\0' ? sc->call_id : NULL;
	ev.account = sc->account[0] != '\0' ? sc->account : NULL;
	ev.reason = sc->reason[0] != '\0' ? sc->reason : NULL;
	ev.suppressed = supp > 0 ? (uint64_t)supp : 0;
	*ret = ev;
	return 0;
}

/* ---- keeping it ---- */

/* Family 4 or 6 and the address bytes of a; 0 when neither. */
static uint8_t
addr_key(const union sw_addr *a, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (a->sa.sa_family == AF_INET) {
		memcpy(addr, &a->sin.sin_addr, 4);
		return 4;
	}
	if (a->sa.sa_family == AF_INET6) {
		memcpy(addr, &a->sin6.sin6_addr, 16);
		return 6;
	}
	return 0;
}

static uint64_t
cid_hash(const char *call_id)
{
	uint64_t h;

	if (call_id == NULL || call_id[0] == '\0')
		return 0;
	h = sw_hash(call_id, strlen(call_id));
	return h != 0 ? h : 1;
}

/* Where a line of len bytes goes without touching a line held; 0 when
 * it does not fit now. */
static int
room(const struct evring *r, size_t len, size_t *ret_off)
{
	size_t h;

	if (r->n == 0) {
		*ret_off = 0;
		return len <= r->cap;
	}
	if (r->n == r->ecap)
		return 0;
	h = r->e[r->head].off;
	if (r->tail > h) {		/* held: [h, tail) */
		if (len <= r->cap - r->tail) {
			*ret_off = r->tail;
			return 1;
		}
		if (len <= h) {
			*ret_off = 0;
			return 1;
		}
		return 0;
	}
	/* held: [h, end) and [0, tail); tail == h is full */
	if (len <= h - r->tail) {
		*ret_off = r->tail;
		return 1;
	}
	return 0;
}

static void
evict_one(struct evring *r)
{
	r->bytes -= r->e[r->head].len;
	r->head = (r->head + 1) % r->ecap;
	r->n--;
	r->evicted++;
	if (r->n == 0)
		r->tail = 0;
}

int
evring_add(struct evring *r, const char *buf, size_t len,
    const struct evring_ev *ev)
{
	struct ent *e;
	size_t off = 0;

	if (len > 0 && buf[len - 1] == '\n')
		len--;
	pthread_mutex_lock(&r->mu);
	if (len == 0 || len > SECEVENT_LINE_MAX) {
		r->rejected++;
		pthread_mutex_unlock(&r->mu);
		return -E2BIG;
	}
	/* terminates: an empty ring has room for any line (len <= cap) */
	while (!room(r, len, &off))
		evict_one(r);
	memcpy(r->data + off, buf, len);
	e = &r->e[(r->head + r->n) % r->ecap];
	memset(e, 0, sizeof(*e));
	e->ms = ev->ms;
	e->cid = cid_hash(ev->call_id);
	e->off = (uint32_t)off;
	e->len = (uint32_t)len;
	e->sev = (uint8_t)ev->sev;
	e->fam = addr_key(&ev->src, e->addr);
	e->sport = e->fam != 0 ? sw_addr_port(&ev->src) : 0;
	r->n++;
	r->tail = off + len;
	r->bytes += len;
	r->added++;
	pthread_mutex_unlock(&r->mu);
	return 0;
}

size_t
evring_feed(struct evring *r, const char *data, size_t len,
    evring_ev_fn *fn, void *arg)
{
	size_t kept = 0;

	while (len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t n = nl != NULL ? (size_t)(nl - data) : len;
		struct evring_ev ev;
		struct evring_scratch sc;
		json_t *o = NULL;

		if (n > 0 && (evring_scan(data, n, &ev, &sc) == 0 ||
		    evring_parse(data, n, &ev, &o) == 0)) {
			if (evring_add(r, data, n, &ev) == 0)
				kept++;
			if (fn != NULL)
				fn(arg, &ev);
			json_decref(o);
		} else if (n > 0) {
			pthread_mutex_lock(&r->mu);
			r->rejected++;
			pthread_mutex_unlock(&r->mu);
		}
		if (nl == NULL)
			break;
		data += n + 1;
		len -= n + 1;
	}
	return kept;
}

/* ---- asking it ---- */

int
evring_query_src(const char *text, struct evring_query *q)
{
	char ip[INET6_ADDRSTRLEN + 1];
	const char *start = text, *port = NULL, *c;
	size_t n = strlen(text), iplen = n;
	uint32_t pv = 0;
	union sw_addr a;

	if (n == 0 || n > INET6_ADDRSTRLEN + 8)
		return -EINVAL;
	if (text[0] == '[') {
		const char *e = strchr(text, ']');

		if (e == NULL)
			return -EINVAL;
		start = text + 1;
		iplen = (size_t)(e - start);
		if (e[1] == ':')
			port = e + 2;
		else if (e[1] != '\0')
			return -EINVAL;
	} else if ((c = strchr(text, ':')) != NULL &&
	    strchr(c + 1, ':') == NULL) {
		/* one colon: IPv4 and a port (IPv6 has at least two) */
		iplen = (size_t)(c - text);
		port = c + 1;
	}
	if (iplen == 0 || iplen >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, start, iplen);
	ip[iplen] = '\0';
	if (port != NULL && (parse_u32(slice_cstr(port), 65535, &pv) < 0 ||
	    pv == 0))
		return -EINVAL;
	if (sw_addr_parse(ip, (uint16_t)pv, &a) < 0)
		return -EINVAL;
	/* an IPv6 address in brackets, or an IPv4 one, only */
	if (text[0] == '[' && a.sa.sa_family != AF_INET6)
		return -EINVAL;
	q->by = EVRING_BY_SRC;
	q->src = a;
	return 0;
}

static int
matches(const struct evring_query *q, const struct ent *e, uint8_t qfam,
    const uint8_t qaddr[16], uint16_t qport, uint64_t qcid)
{
	if (e->sev > q->max_sev)
		return 0;
	switch (q->by) {
	case EVRING_BY_SRC:
		return e->fam == qfam && memcmp(e->addr, qaddr, 16) == 0 &&
		    (qport == 0 || e->sport == qport);
	case EVRING_BY_CALL_ID:
		return e->cid == qcid;
	default:
		return 1;
	}
}

int
evring_collect(struct evring *r, const struct evring_query *q, size_t max,
    size_t max_bytes, json_t *arr, struct evring_result *ret)
{
	json_t **pick = NULL;
	uint8_t qaddr[16], qfam = addr_key(&q->src, qaddr);
	uint16_t qport = qfam != 0 ? sw_addr_port(&q->src) : 0;
	uint64_t qcid = cid_hash(q->call_id);
	size_t npick = 0, bytes = 0;
	int full = max == 0, rc = 0;

	memset(ret, 0, sizeof(*ret));
	if ((q->by == EVRING_BY_SRC && qfam == 0) ||
	    (q->by == EVRING_BY_CALL_ID && qcid == 0))
		return 0;	/* nothing can match */
	if (max > 0 && (pick = calloc(max, sizeof(*pick))) == NULL)
		return -ENOMEM;
	pthread_mutex_lock(&r->mu);
	ret->scanned = r->n;
	ret->oldest_ms = r->n > 0 ? r->e[r->head].ms : 0;
	ret->evicted = r->evicted;
	/* newest first, so that a cut keeps the latest */
	for (size_t i = r->n; i-- > 0;) {
		const struct ent *e = &r->e[(r->head + i) % r->ecap];
		json_t *o;

		if (!matches(q, e, qfam, qaddr, qport, qcid))
			continue;
		if (full || bytes + e->len > max_bytes) {
			full = 1;
			ret->matched++;		/* by its hash for a Call-ID */
			continue;
		}
		if ((o = json_loadb(r->data + e->off, e->len, 0, NULL)) == NULL)
			continue;
		if (q->by == EVRING_BY_CALL_ID && (ostr(o, "call_id") == NULL ||
		    strcmp(ostr(o, "call_id"), q->call_id) != 0)) {
			json_decref(o);		/* a hash collision */
			continue;
		}
		ret->matched++;
		pick[npick++] = o;
		bytes += e->len;
		full = npick == max;
	}
	pthread_mutex_unlock(&r->mu);
	for (size_t i = npick; i-- > 0;) {
		if (rc == 0 && json_array_append_new(arr, pick[i]) == 0)
			ret->returned++;
		else {
			if (rc == 0)
				rc = -ENOMEM;	/* append_new took pick[i] */
			else
				json_decref(pick[i]);
		}
	}
	free(pick);
	ret->truncated = ret->matched > ret->returned;
	return rc;
}

void
evring_get_stats(struct evring *r, struct evring_stats *ret)
{
	memset(ret, 0, sizeof(*ret));
	pthread_mutex_lock(&r->mu);
	ret->events = r->n;
	ret->bytes = r->bytes;
	ret->budget = r->cap;
	ret->added = r->added;
	ret->evicted = r->evicted;
	ret->rejected = r->rejected;
	if (r->n > 0) {
		ret->oldest_ms = r->e[r->head].ms;
		ret->newest_ms = r->e[(r->head + r->n - 1) % r->ecap].ms;
	}
	pthread_mutex_unlock(&r->mu);
}
