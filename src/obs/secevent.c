/*
 * Security event taxonomy and JSON form (see secevent.h, docs/events.md).
 *
 * Owns: the type table, field order and bounds, credential redaction of
 * wire samples.  Does not own: time sources other than CLOCK_REALTIME,
 * queues, sinks.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/jsonw.h"
#include "core/log.h"
#include "obs/secevent.h"

static const struct secevent_info secevent_table[SECEV_TYPE_MAX] = {
#define SECEV_INFO_(e, id, name, sev, cls, fl)				\
	[SECEV_##e] = { SECEV_##e, id, name, sev, SECEV_CLASS_##cls, fl },
	SECEVENT_TYPES(SECEV_INFO_)
#undef SECEV_INFO_
};

/* Names an extra field may not take: the schema's own fields. */
static const char *const secevent_reserved[] = {
	"v", "ts", "id", "type", "class", "sev", "node", "src", "sport",
	"transport", "listener", "zone", "reason", "status", "method",
	"call_id", "account", "user_agent", "detail", "sample", "suppressed",
	"counters", "truncated",
};

static const char *const secevent_class_names[SECEV_CLASS_MAX] = {
	[SECEV_CLASS_SIGNALING] = "signaling",
	[SECEV_CLASS_AUTH] = "auth",
	[SECEV_CLASS_PROTECTION] = "protection",
	[SECEV_CLASS_FRAUD] = "fraud",
	[SECEV_CLASS_MEDIA] = "media",
	[SECEV_CLASS_TLS] = "tls",
	[SECEV_CLASS_ADMIN] = "admin",
	[SECEV_CLASS_SYSTEM] = "system",
};

const struct secevent_info *
secevent_info(enum secevent_type type)
{
	if ((unsigned)type >= SECEV_TYPE_MAX)
		return NULL;
	return &secevent_table[type];
}

const char *
secevent_type_name(enum secevent_type type)
{
	const struct secevent_info *in = secevent_info(type);

	return in != NULL ? in->name : "unknown";
}

int
secevent_type_id(enum secevent_type type)
{
	const struct secevent_info *in = secevent_info(type);

	return in != NULL ? in->id : -1;
}

int
secevent_type_sev(enum secevent_type type)
{
	const struct secevent_info *in = secevent_info(type);

	return in != NULL ? in->sev : -1;
}

enum secevent_type
secevent_type_lookup(const char *name)
{
	if (name == NULL)
		return SECEV_TYPE_MAX;
	for (int t = 0; t < SECEV_TYPE_MAX; t++)
		if (strcmp(secevent_table[t].name, name) == 0)
			return (enum secevent_type)t;
	return SECEV_TYPE_MAX;
}

enum secevent_type
secevent_type_by_id(int id)
{
	for (int t = 0; t < SECEV_TYPE_MAX; t++)
		if (secevent_table[t].id == id)
			return (enum secevent_type)t;
	return SECEV_TYPE_MAX;
}

const char *
secevent_class_name(enum secevent_class cls)
{
	if ((unsigned)cls >= SECEV_CLASS_MAX || secevent_class_names[cls] == NULL)
		return "unknown";
	return secevent_class_names[cls];
}

const char *
secevent_sev_name(int sev)
{
	static const char *const names[] = {
		"emerg", "alert", "crit", "err", "warning", "notice", "info",
		"debug",
	};

	return sev >= 0 && sev <= 7 ? names[sev] : "unknown";
}

void
secevent_init(struct secevent *ev, enum secevent_type type)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
}

/* Extra keys: [a-z][a-z0-9_]{0,31}, not a schema field. */
static int
secevent_key_ok(const char *k)
{
	size_t n;

	if (k == NULL || k[0] < 'a' || k[0] > 'z')
		return 0;
	for (n = 0; k[n] != '\0'; n++) {
		if (n >= SECEVENT_MAX_KEY)
			return 0;
		if (!((k[n] >= 'a' && k[n] <= 'z') ||
		    (k[n] >= '0' && k[n] <= '9') || k[n] == '_'))
			return 0;
	}
	for (size_t i = 0; i < sizeof(secevent_reserved) /
	    sizeof(secevent_reserved[0]); i++)
		if (strcmp(k, secevent_reserved[i]) == 0)
			return 0;
	return 1;
}

/* Counter keys: [a-z0-9_.]{1,48} (type names are counter keys). */
static int
secevent_ctr_key_ok(const char *k)
{
	size_t n;

	if (k == NULL || k[0] == '\0')
		return 0;
	for (n = 0; k[n] != '\0'; n++) {
		if (n >= SECEVENT_MAX_CTR_KEY)
			return 0;
		if (!((k[n] >= 'a' && k[n] <= 'z') ||
		    (k[n] >= '0' && k[n] <= '9') || k[n] == '_' || k[n] == '.'))
			return 0;
	}
	return 1;
}

static int
secevent_add(struct secevent *ev, const char *k, struct secevent_kv kv)
{
	if (!secevent_key_ok(k))
		return -EINVAL;
	if (ev->nkv >= SECEVENT_MAX_KV)
		return -SBC_EFULL;
	kv.k = k;
	ev->kv[ev->nkv++] = kv;
	return 0;
}

int
secevent_add_str(struct secevent *ev, const char *k, const char *s)
{
	return secevent_add(ev, k, (struct secevent_kv){
	    .s = s != NULL ? slice_cstr(s) : SLICE_NULL });
}

int
secevent_add_slice(struct secevent *ev, const char *k, struct slice s)
{
	return secevent_add(ev, k, (struct secevent_kv){ .s = s });
}

int
secevent_add_int(struct secevent *ev, const char *k, long long v)
{
	return secevent_add(ev, k, (struct secevent_kv){ .i = v, .is_int = 1 });
}

/*
 * Credential redaction.  Works on bytes, case-insensitively, without
 * trusting the sample to be a well-formed message: a value that runs to
 * the end of the window is redacted to the end.
 */

static int
rd_namechar(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Every pattern starts with one of these letters (any case). */
static int
rd_first(uint8_t c)
{
	switch (ctype_lower(c)) {
	case 'b': case 'c': case 'i': case 'n': case 'p': case 'r': case 's':
		return 1;
	default:
		return 0;
	}
}

/* c is one of the bytes of set (NUL never is, unlike with strchr). */
static int
rd_in(const char *set, uint8_t c)
{
	return c != 0 && strchr(set, c) != NULL;
}

static int
rd_lws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct rd_word {
	const char	*s;
	size_t		 len;
};

#define RD_WORD(w)	{ w, sizeof(w) - 1 }

/* Does p[0..n) start with w (case-insensitive; w is lower case)? */
static int
rd_starts(const uint8_t *p, size_t n, const struct rd_word *w)
{
	if (n < w->len)
		return 0;
	for (size_t i = 0; i < w->len; i++)
		if (ctype_lower(p[i]) != (uint8_t)w->s[i])
			return 0;
	return 1;
}

/*
 * "name LWS* = LWS*" for a secret parameter name; returns the length up
 * to the value, or 0.
 */
static size_t
rd_secret_param(const uint8_t *p, size_t n)
{
	static const struct rd_word names[] = {
		RD_WORD("response"), RD_WORD("nonce"), RD_WORD("cnonce"),
		RD_WORD("nextnonce"), RD_WORD("rspauth"), RD_WORD("password"),
		RD_WORD("passwd"), RD_WORD("pwd"), RD_WORD("secret"),
	};
	size_t i, l;

	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		if (!rd_starts(p, n, &names[k]))
			continue;
		l = names[k].len;
		if (l < n && rd_namechar(p[l]))
			continue;	/* a longer name */
		i = l;
		while (i < n && rd_lws(p[i]))
			i++;
		if (i >= n || p[i] != '=')
			continue;
		i++;
		while (i < n && rd_lws(p[i]))
			i++;
		return i;
	}
	return 0;
}

/* "Basic SP+" / "Bearer SP+"; returns the length up to the credential. */
static size_t
rd_auth_scheme(const uint8_t *p, size_t n)
{
	static const struct rd_word names[] = {
		RD_WORD("basic"), RD_WORD("bearer"),
	};
	size_t i, l;

	for (size_t k = 0; k < 2; k++) {
		if (!rd_starts(p, n, &names[k]))
			continue;
		l = names[k].len;
		if (l >= n || (p[l] != ' ' && p[l] != '\t'))
			continue;
		i = l;
		while (i < n && (p[i] == ' ' || p[i] == '\t'))
			i++;
		return i;
	}
	return 0;
}

/*
 * "sip:user:" or "sips:user:" followed by a password and '@': returns
 * the length up to the password and sets *ret_pwlen; or 0.
 */
static size_t
rd_uri_password(const uint8_t *p, size_t n, size_t *ret_pwlen)
{
	size_t i, j;

	static const struct rd_word sip = RD_WORD("sip:"),
	    sips = RD_WORD("sips:");

	if (rd_starts(p, n, &sip))
		i = 4;
	else if (rd_starts(p, n, &sips))
		i = 5;
	else
		return 0;
	while (i < n && !rd_in("@:;?>< \t\r\n\",", p[i]))
		i++;
	if (i >= n || p[i] != ':')
		return 0;
	i++;
	for (j = i; j < n; j++) {
		if (p[j] == '@') {
			*ret_pwlen = j - i;
			return i;
		}
		if (rd_in(";?><[] \t\r\n\",/", p[j]))
			return 0;
	}
	/* window ends inside what may be a password: redact it */
	*ret_pwlen = n - i;
	return i;
}

struct rd_out {
	uint8_t	*p;
	size_t	 cap, len;
};

static void
rd_put(struct rd_out *o, const uint8_t *p, size_t n)
{
	if (n > o->cap - o->len)
		n = o->cap - o->len;
	memcpy(o->p + o->len, p, n);
	o->len += n;
}

size_t
secevent_redact(struct slice sample, uint8_t *dst, size_t cap)
{
	struct rd_out o = { .p = dst, .cap = cap, .len = 0 };
	const uint8_t *p = sample.p;
	size_t n, i = 0, m, pw;

	if (p == NULL || cap == 0)
		return 0;
	n = utf8_cut(p, sample.len, SECEVENT_MAX_SAMPLE);
	while (i < n) {
		int boundary = rd_first(p[i]) &&
		    (i == 0 || !rd_namechar(p[i - 1]));

		if (boundary && (m = rd_secret_param(p + i, n - i)) > 0) {
			rd_put(&o, p + i, m);
			i += m;
			if (i < n && p[i] == '"') {
				rd_put(&o, (const uint8_t *)"\"***", 4);
				for (i++; i < n && p[i] != '"'; i++)
					if (p[i] == '\\')
						i++;
				if (i < n) {
					rd_put(&o, (const uint8_t *)"\"", 1);
					i++;
				}
			} else {
				rd_put(&o, (const uint8_t *)"***", 3);
				while (i < n && !rd_in(",;& \t\r\n", p[i]))
					i++;
			}
			continue;
		}
		/* SDES keys (RFC 4568 a=crypto "inline:KEY||SALT|...") */
		if (boundary && n - i >= 7 &&
		    slice_eq_ci(slice_make(p + i, 7), slice_cstr("inline:"))) {
			rd_put(&o, p + i, 7);
			rd_put(&o, (const uint8_t *)"***", 3);
			for (i += 7; i < n && !rd_in("|; \t\r\n", p[i]); i++)
				;
			continue;
		}
		if (boundary && (m = rd_auth_scheme(p + i, n - i)) > 0) {
			rd_put(&o, p + i, m);
			rd_put(&o, (const uint8_t *)"***", 3);
			for (i += m; i < n && !rd_in(", \t\r\n", p[i]); i++)
				;
			continue;
		}
		if (boundary && (m = rd_uri_password(p + i, n - i, &pw)) > 0) {
			rd_put(&o, p + i, m);
			rd_put(&o, (const uint8_t *)"***", 3);
			i += m + pw;
			continue;
		}
		/* copy up to the next place where a pattern may start */
		m = i + 1;
		while (m < n && !rd_first(p[m]))
			m++;
		rd_put(&o, p + i, m - i);
		i = m;
	}
	return o.len;
}

/* Bounded string field from a C string (may be NULL: omitted). */
static void
fmt_cstr(struct jsonw *w, const char *k, const char *s, size_t max)
{
	if (s == NULL)
		return;
	jsonw_key(w, k);
	jsonw_strn_trunc(w, s, strnlen(s, max + 1), max);
}

static void
fmt_slice(struct jsonw *w, const char *k, struct slice s, size_t max)
{
	if (!slice_set(s))
		return;
	jsonw_key(w, k);
	jsonw_strn_trunc(w, s.p, s.len, max);
}

static void
fmt_ts(struct jsonw *w, const struct timespec *tsp)
{
	struct timespec ts = *tsp;
	char b[LOG_TIME_LEN];

	if (ts.tv_sec == 0 && ts.tv_nsec == 0)
		clock_gettime(CLOCK_REALTIME, &ts);
	jsonw_kv_str(w, "ts", log_time_iso(&ts, b, sizeof(b)));
}

static void
fmt_src(struct jsonw *w, const union sw_addr *src)
{
	char ip[INET6_ADDRSTRLEN];

	if (src == NULL || (src->sa.sa_family != AF_INET &&
	    src->sa.sa_family != AF_INET6))
		return;
	jsonw_kv_str(w, "src", sw_addr_ip_str(src, ip, sizeof(ip)));
	jsonw_kv_uint(w, "sport", sw_addr_port(src));
}

/* Counts are clamped to 2^63-1 so that every JSON reader takes them. */
static uint64_t
clamp63(uint64_t v)
{
	return v > INT64_MAX ? INT64_MAX : v;
}

static void
fmt_extras(struct jsonw *w, const struct secevent *ev)
{
	size_t nkv = ev->nkv < SECEVENT_MAX_KV ? ev->nkv : SECEVENT_MAX_KV;
	size_t nctr = ev->ncounters < SECEVENT_MAX_COUNTERS ? ev->ncounters :
	    SECEVENT_MAX_COUNTERS;

	fmt_cstr(w, "detail", ev->detail, SECEVENT_MAX_DETAIL);
	if (ev->counters != NULL && nctr > 0) {
		jsonw_key(w, "counters");
		jsonw_obj_begin(w);
		for (size_t i = 0; i < nctr; i++) {
			const struct secevent_counter *c = &ev->counters[i];
			int dup = 0;

			if (!secevent_ctr_key_ok(c->k))
				continue;
			for (size_t j = 0; j < i && !dup; j++)
				dup = secevent_ctr_key_ok(ev->counters[j].k) &&
				    strcmp(ev->counters[j].k, c->k) == 0;
			if (dup)
				continue;
			jsonw_kv_uint(w, c->k, clamp63(c->v));
		}
		jsonw_obj_end(w);
	}
	for (size_t i = 0; i < nkv; i++) {
		const struct secevent_kv *kv = &ev->kv[i];
		int dup = 0;

		if (!secevent_key_ok(kv->k))
			continue;
		for (size_t j = 0; j < i && !dup; j++)
			dup = secevent_key_ok(ev->kv[j].k) &&
			    strcmp(ev->kv[j].k, kv->k) == 0;
		if (dup)
			continue;
		jsonw_key(w, kv->k);
		if (kv->is_int)
			jsonw_int(w, kv->i);
		else if (!slice_set(kv->s))
			jsonw_null(w);
		else
			jsonw_strn_trunc(w, kv->s.p, kv->s.len,
			    SECEVENT_MAX_KV_STR);
	}
	if (slice_set(ev->sample)) {
		uint8_t red[2 * SECEVENT_MAX_SAMPLE];
		size_t rn = secevent_redact(ev->sample, red, sizeof(red));

		jsonw_key(w, "sample");
		if (ev->sample.len > SECEVENT_MAX_SAMPLE)
			jsonw_strn_ellipsis(w, red, rn);
		else
			jsonw_strn(w, red, rn);
	}
}

static ssize_t
fmt_event(const struct secevent *ev, const struct secevent_info *in,
    const char *node, char *buf, size_t cap, int lean)
{
	struct jsonw w;

	jsonw_init(&w, buf, cap);
	jsonw_obj_begin(&w);
	jsonw_kv_int(&w, "v", SECEVENT_VERSION);
	fmt_ts(&w, &ev->ts);
	jsonw_kv_int(&w, "id", in->id);
	jsonw_kv_str(&w, "type", in->name);
	jsonw_kv_str(&w, "class", secevent_class_name(in->cls));
	jsonw_kv_str(&w, "sev", secevent_sev_name(in->sev));
	fmt_cstr(&w, "node", node, SECEVENT_MAX_NODE);
	fmt_src(&w, ev->src);
	fmt_cstr(&w, "transport", ev->transport, SECEVENT_MAX_SHORT);
	fmt_cstr(&w, "listener", ev->listener, SECEVENT_MAX_LISTENER);
	fmt_cstr(&w, "zone", ev->zone, SECEVENT_MAX_SHORT);
	fmt_cstr(&w, "reason", ev->reason, SECEVENT_MAX_REASON);
	if (ev->status > 0)
		jsonw_kv_int(&w, "status", ev->status);
	fmt_slice(&w, "method", ev->method, SECEVENT_MAX_METHOD);
	fmt_slice(&w, "call_id", ev->call_id, SECEVENT_MAX_CALL_ID);
	fmt_slice(&w, "account", ev->account, SECEVENT_MAX_ACCOUNT);
	fmt_slice(&w, "user_agent", ev->user_agent, SECEVENT_MAX_UA);
	if (ev->suppressed > 0)
		jsonw_kv_uint(&w, "suppressed", clamp63(ev->suppressed));
	if (lean)
		jsonw_kv_bool(&w, "truncated", 1);
	else
		fmt_extras(&w, ev);
	jsonw_obj_end(&w);
	jsonw_raw_tail(&w, "\n", 1);
	return jsonw_finish(&w);
}

int
secevent_format(const struct secevent *ev, const char *node, char *buf,
    size_t cap)
{
	const struct secevent_info *in = secevent_info(ev->type);
	ssize_t r;

	if (in == NULL || in->name == NULL)
		return -EINVAL;
	r = fmt_event(ev, in, node, buf, cap, 0);
	if (r == -SBC_ELIMIT)
		r = fmt_event(ev, in, node, buf, cap, 1);
	if (r < 0 && cap > 0)
		buf[0] = '\0';
	return (int)r;
}
