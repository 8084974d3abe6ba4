/*
 * The alert engine (see alert.h, docs/alerts.md).
 *
 * Owns: the per-window counters and top-k tables, the rules and their
 * raised/cleared states, the (account, country) set, the alert.*
 * events, the webhook payload and its delivery thread.  Does not own:
 * the baseline arithmetic (baseline.c), the event stream (evlog.c),
 * the store (rows go through the writer).
 *
 * Locking: a->mtx guards what producers touch: the current window, the
 * country set and the pending new-country list; a producer holds it for
 * a few counter updates and linear scans of fixed tables.  The closed
 * window, the baselines and the alert states belong to the main thread
 * (alert_tick) and need no lock.  a->conf_mtx guards the rules (a->conf,
 * a->hours): alert_tick holds it throughout, alert_reconf() to swap
 * them.  a->dq_mtx guards the delivery queue and the webhook settings
 * the delivery thread reads (a->wh).  a->hist_mtx guards what the
 * control thread reads (the alert history and the rate history).
 * Order: conf_mtx, then any of mtx, dq_mtx, hist_mtx, each alone.
 * Events are emitted with only conf_mtx held: evlog calls alert_feed()
 * back, which takes mtx.
 */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "core/hash.h"
#include "core/log.h"
#include "obs/alert.h"
#include "obs/baseline.h"
#include "obs/evlog.h"
#include "store/store.h"
#include "store/writer.h"

#define ALERT_BACKOFF_MAX_MS	30000
#define ALERT_KV_LIST		120	/* "a=n,b=n" evidence in an event */
#define ALERT_SRC_KEY		17	/* family byte, then 4 or 16 bytes */

enum alert_rule {
	RULE_RATIO = 0,
	RULE_LIMIT,
	RULE_OFF_HOURS,
	RULE_NEW_COUNTRY,
	RULE_MAX
};

static const char *const rule_names[RULE_MAX] = {
	[RULE_RATIO] = "ratio",
	[RULE_LIMIT] = "limit",
	[RULE_OFF_HOURS] = "off_hours",
	[RULE_NEW_COUNTRY] = "new_country",
};

static const char *const metric_names[ALERT_M_MAX] = {
	[ALERT_M_REG_ATTEMPTS] = "reg_attempts",
	[ALERT_M_REG_FAILURES] = "reg_failures",
	[ALERT_M_AUTH_FAILURES] = "auth_failures",
	[ALERT_M_INVITE_ATTEMPTS] = "invite_attempts",
	[ALERT_M_INVITE_FAILURES] = "invite_failures",
	[ALERT_M_CALLS_OUT] = "calls_out",
	[ALERT_M_CALLS_INTL] = "calls_international",
	[ALERT_M_CALLS_ACCOUNT] = "calls_per_account",
	[ALERT_M_CALLS_OFF_HOURS] = "calls_off_hours",
};

/* Space-saving top-k (Metwally et al.): a key that is not tracked takes
 * the place of the smallest, whose count it inherits plus one, so any
 * key with more than count/ALERT_TOPK_TRACK is always in the table and
 * a count is over by at most the smallest one's. */
struct topk_ent {
	uint64_t	count;
	uint8_t		klen;
	uint8_t		key[ALERT_KEY_MAX];
};

struct topk {
	size_t		n;
	struct topk_ent	e[ALERT_TOPK_TRACK];
};

struct window {
	int64_t		start_ms, end_ms;
	int		partial;	/* began before the engine started */
	uint64_t	count[ALERT_M_MAX];
	struct topk	src[ALERT_M_MAX];
	struct topk	acct[ALERT_M_MAX];
};

struct cpair {
	uint8_t		used;
	char		cc[4];
	char		account[ALERT_KEY_MAX + 1];
};

struct newcountry {
	char		account[ALERT_KEY_MAX + 1];
	char		cc[4];
	char		to[24];
	uint8_t		src[ALERT_SRC_KEY];
	uint8_t		srclen;
};

struct gstate {
	uint8_t		raised;
	int64_t		last_ms;
};

struct kstate {
	uint8_t		used, raised, hit;
	uint8_t		rule, metric;
	char		key[ALERT_KEY_MAX + 1];
	int64_t		last_ms;
};

/* An alert raised or cleared, as `sipwall alerts` shows it. */
struct hist {
	int64_t		at_ms;
	uint8_t		rule, metric, cleared, active;
	uint8_t		has_baseline, nsrc, nacct, has_window;
	char		account[ALERT_KEY_MAX + 1];	/* "": none */
	char		cc[4];
	char		to[24];
	uint64_t	value, limit;
	double		baseline;
	uint32_t	window_s;
	int64_t		window_start, window_end;
	struct topk_ent	src[ALERT_HIST_TOP], acct[ALERT_HIST_TOP];
};

/* A metric's closed windows, for `sipwall rates`. */
struct rate_pt {
	int64_t		t;		/* window start, ms */
	uint64_t	count;
	double		baseline;
	uint8_t		has_baseline;
};

struct rate_ring {
	struct rate_pt	p[ALERT_RATE_HISTORY];
	size_t		head, n;	/* oldest at p[head] */
};

/* The webhook as the delivery thread uses it. */
struct webhook {
	char		url[CONF_URL_MAX + 1];	/* "": none */
	uint32_t	timeout_ms;
	uint32_t	retries;
};

/* One alert (or its end) on its way out, built by the main thread. */
struct alert_rec {
	enum alert_rule		 rule;
	enum alert_metric	 metric;
	int			 cleared;
	const char		*account;	/* NULL: not about one */
	const char		*cc;		/* new_country */
	const char		*to;		/* new_country: the number */
	uint64_t		 value;
	double			 baseline;
	int			 has_baseline;
	uint64_t		 limit;
	const struct window	*w;		/* evidence, or NULL */
	const uint8_t		*src;		/* new_country: the caller */
	size_t			 srclen;
	int64_t			 now_ms;
};

struct alert {
	pthread_mutex_t		 conf_mtx;	/* conf, hours */
	struct conf_alerts	 conf;
	struct conf_hours	 hours[CONF_MAX_HOURS];
	char			 home_cc[4];
	char			 node[SECEVENT_MAX_NODE + 1];
	struct evlog		*ev;
	struct store_writer	*wr;

	pthread_mutex_t		 mtx;
	struct window		*cur;		/* producers count here */
	struct cpair		*pairs;		/* 2 * ALERT_COUNTRY_PAIRS slots */
	size_t			 npairs;
	struct newcountry	 pend[ALERT_PENDING_NEW];
	size_t			 npend;
	_Atomic int		 off_hours;

	/* main thread */
	struct window		*closed;
	struct baseline		 bl;
	struct gstate		 g[RULE_MAX][ALERT_M_MAX];
	struct kstate		 ks[ALERT_KEYS];
	struct newcountry	 work[ALERT_PENDING_NEW];

	/* delivery */
	alert_post_fn		 post;
	void			*post_arg;
	uint32_t		 backoff_ms;
	int			 curl_init;
	int			 thr_started;
	pthread_t		 thr;
	pthread_mutex_t		 dq_mtx;
	pthread_cond_t		 dq_cond;	/* work, stop, drained */
	char			*dq[ALERT_QUEUE_LEN];
	size_t			 dq_head, dq_n;
	int			 dq_busy;	/* the head is being delivered */
	int			 stopping;
	struct webhook		 wh;

	/* OPS1: what the control thread reads */
	pthread_mutex_t		 hist_mtx;
	struct hist		 hist[ALERT_HISTORY];
	size_t			 hist_head, hist_n;	/* oldest first */
	struct rate_ring	 rate[ALERT_M_MAX];
	double			 cur_bl[ALERT_M_MAX];	/* current window's */
	uint8_t			 cur_has_bl[ALERT_M_MAX];

	_Atomic uint64_t	 st_windows, st_raised, st_cleared, st_delivered;
	_Atomic uint64_t	 st_failed, st_queue_full, st_nc_lost;
};

static void	stat_inc(_Atomic uint64_t *c);

const char *
alert_metric_name(enum alert_metric m)
{
	return (unsigned)m < ALERT_M_MAX ? metric_names[m] : NULL;
}

/*
 * E.164 country codes are prefix-free: 1 and 7 have one digit, these
 * have two (bit d of two_digit[f]: the code "fd"), the others three.
 */
static const uint16_t two_digit[10] = {
	[2] = 0x081,	/* 20 27 */
	[3] = 0x25f,	/* 30-34 36 39 */
	[4] = 0x3fb,	/* 40 41 43-49 */
	[5] = 0x1fe,	/* 51-58 */
	[6] = 0x07f,	/* 60-66 */
	[8] = 0x056,	/* 81 82 84 86 */
	[9] = 0x13f,	/* 90-95 98 */
};

int
alert_country_of(const char *d, char ret_cc[4])
{
	size_t n;

	if (d == NULL || d[0] < '1' || d[0] > '9')
		return -EINVAL;
	if (d[0] == '1' || d[0] == '7')
		n = 1;
	else if (d[1] < '0' || d[1] > '9')
		return -EINVAL;
	else if (two_digit[d[0] - '0'] & (1u << (d[1] - '0')))
		n = 2;
	else if (d[2] < '0' || d[2] > '9')
		return -EINVAL;
	else
		n = 3;
	memcpy(ret_cc, d, n);
	ret_cc[n] = '\0';
	return 0;
}

/*
 * Feeding (any thread)
 */

static void
topk_add(struct topk *t, const uint8_t *key, size_t klen)
{
	struct topk_ent *min = NULL;

	if (klen == 0)
		return;
	for (size_t i = 0; i < t->n; i++) {
		struct topk_ent *e = &t->e[i];

		if (e->klen == klen && memcmp(e->key, key, klen) == 0) {
			e->count++;
			return;
		}
		if (min == NULL || e->count < min->count)
			min = e;
	}
	if (t->n < ALERT_TOPK_TRACK) {
		min = &t->e[t->n++];
		min->count = 0;
	}
	min->klen = (uint8_t)klen;
	memcpy(min->key, key, klen);
	min->count++;
}

static size_t
src_key(const union sw_addr *a, uint8_t key[ALERT_SRC_KEY])
{
	if (a == NULL)
		return 0;
	if (a->sa.sa_family == AF_INET) {
		key[0] = 4;
		memcpy(key + 1, &a->sin.sin_addr, 4);
		return 5;
	}
	if (a->sa.sa_family == AF_INET6) {
		key[0] = 6;
		memcpy(key + 1, &a->sin6.sin6_addr, 16);
		return 17;
	}
	return 0;
}

/* A peer-controlled name as printable ASCII ('?' for anything else). */
static size_t
name_key(struct slice s, char *key, size_t cap)
{
	size_t n = s.len < cap - 1 ? s.len : cap - 1;

	for (size_t i = 0; i < n; i++)
		key[i] = s.p[i] > 0x20 && s.p[i] < 0x7f ? (char)s.p[i] : '?';
	key[n] = '\0';
	return n;
}

static const struct secevent_kv *
kv_find(const struct secevent *ev, const char *k)
{
	for (size_t i = 0; i < ev->nkv && i < SECEVENT_MAX_KV; i++)
		if (ev->kv[i].k != NULL && !ev->kv[i].is_int &&
		    strcmp(ev->kv[i].k, k) == 0)
			return &ev->kv[i];
	return NULL;
}

static bool
kv_is(const struct secevent *ev, const char *k, const char *v)
{
	const struct secevent_kv *kv = kv_find(ev, k);

	return kv != NULL && slice_eq(kv->s, slice_cstr(v));
}

static bool
is_register(const struct secevent *ev)
{
	return slice_eq(ev->method, slice_cstr("REGISTER"));
}

#define BIT(m)	(1u << (m))

/* Which metrics ev counts in; 0: none. */
static unsigned
event_metrics(const struct secevent *ev)
{
	unsigned b = 0;

	/* an expired nonce is routine, not a failure */
	if (ev->type == SECEV_AUTH_NONCE_REJECTED && ev->reason != NULL &&
	    strstr(ev->reason, "stale") != NULL)
		return 0;
	switch (ev->type) {
	case SECEV_AUTH_OK:
		return is_register(ev) ? BIT(ALERT_M_REG_ATTEMPTS) : 0;
	case SECEV_AUTH_NONCE_REJECTED:
	case SECEV_AUTH_FAILED:
	case SECEV_AUTH_UNKNOWN_ACCOUNT:
	case SECEV_AUTH_SOURCE_DENIED:
	case SECEV_AUTH_ACCOUNT_DISABLED:
	case SECEV_AUTH_SCHEME_DENIED:
	case SECEV_AUTH_TRUNK_UNKNOWN:
		b = BIT(ALERT_M_AUTH_FAILURES);
		if (is_register(ev))
			b |= BIT(ALERT_M_REG_ATTEMPTS) | BIT(ALERT_M_REG_FAILURES);
		return b;
	case SECEV_AUTH_CONTACT_LIMIT:
		return BIT(ALERT_M_REG_ATTEMPTS) | BIT(ALERT_M_REG_FAILURES);
	case SECEV_CALL_ATTEMPT:
		b = BIT(ALERT_M_INVITE_ATTEMPTS);
		if (kv_is(ev, "direction", "outbound") ||
		    kv_is(ev, "direction", "trunk_out")) {
			b |= BIT(ALERT_M_CALLS_OUT);
			if (ev->account.len > 0)
				b |= BIT(ALERT_M_CALLS_ACCOUNT);
		}
		return b;
	case SECEV_CALL_BLOCKED:
	case SECEV_FRAUD_LIMIT:
		return BIT(ALERT_M_INVITE_ATTEMPTS) | BIT(ALERT_M_INVITE_FAILURES);
	case SECEV_CALL_FAILED:
		return BIT(ALERT_M_INVITE_FAILURES);
	default:
		return 0;
	}
}

/* The pair's slot, or the empty slot where it goes; NULL: table full. */
static struct cpair *
pair_find(struct alert *a, const char *account, const char *cc)
{
	size_t cap = 2 * ALERT_COUNTRY_PAIRS, alen = strlen(account);
	uint8_t k[ALERT_KEY_MAX + 4];
	size_t i;

	memcpy(k, account, alen);
	memcpy(k + alen, cc, strlen(cc) + 1);
	i = (size_t)(sw_hash(k, alen + strlen(cc) + 1) % cap);
	for (size_t probe = 0; probe < cap; probe++, i = (i + 1) % cap) {
		struct cpair *p = &a->pairs[i];

		if (!p->used || (strcmp(p->cc, cc) == 0 &&
		    strcmp(p->account, account) == 0))
			return p;
	}
	return NULL;
}

/* Learn (account, cc); 1 when it is new.  Under a->mtx. */
static int
pair_learn(struct alert *a, const char *account, const char *cc)
{
	struct cpair *p = pair_find(a, account, cc);

	if (p != NULL && p->used)
		return 0;
	if (p == NULL || a->npairs >= ALERT_COUNTRY_PAIRS) {
		stat_inc(&a->st_nc_lost);
		return 0;	/* full: no alert, nothing learned */
	}
	p->used = 1;
	snprintf(p->cc, sizeof(p->cc), "%s", cc);
	snprintf(p->account, sizeof(p->account), "%s", account);
	a->npairs++;
	return 1;
}

void
alert_feed(struct alert *a, const struct secevent *ev)
{
	uint8_t sk[ALERT_SRC_KEY];
	char acct[ALERT_KEY_MAX + 1], cc[4] = "";
	const struct secevent_kv *e164 = NULL;
	size_t sklen, aklen;
	unsigned bits;
	int intl = 0;

	if (a == NULL || ev == NULL || (bits = event_metrics(ev)) == 0)
		return;
	sklen = src_key(ev->src, sk);
	aklen = name_key(ev->account, acct, sizeof(acct));
	if ((bits & BIT(ALERT_M_CALLS_OUT)) &&
	    (e164 = kv_find(ev, "e164")) != NULL && e164->s.len > 1 &&
	    e164->s.p[0] == '+') {
		char d[24];

		name_key(slice_sub(e164->s, 1, e164->s.len - 1), d, sizeof(d));
		if (alert_country_of(d, cc) == 0 &&
		    strcmp(cc, a->home_cc) != 0) {
			bits |= BIT(ALERT_M_CALLS_INTL);
			intl = 1;
		}
	}
	if ((bits & BIT(ALERT_M_CALLS_OUT)) &&
	    atomic_load_explicit(&a->off_hours, memory_order_relaxed))
		bits |= BIT(ALERT_M_CALLS_OFF_HOURS);

	pthread_mutex_lock(&a->mtx);
	for (unsigned m = 0; m < ALERT_M_MAX; m++) {
		if (!(bits & BIT(m)))
			continue;
		a->cur->count[m]++;
		topk_add(&a->cur->src[m], sk, sklen);
		topk_add(&a->cur->acct[m], (const uint8_t *)acct, aklen);
	}
	/* with the pending list full, the pair is left unlearned: its
	 * next call, after the next tick, alerts */
	if (intl && aklen > 0 && a->npend < ALERT_PENDING_NEW &&
	    pair_learn(a, acct, cc)) {
		struct newcountry *n = &a->pend[a->npend++];

		memcpy(n->account, acct, aklen + 1);
		memcpy(n->cc, cc, sizeof(n->cc));
		name_key(e164->s, n->to, sizeof(n->to));
		memcpy(n->src, sk, sklen);
		n->srclen = (uint8_t)sklen;
	}
	pthread_mutex_unlock(&a->mtx);
}

void
alert_feed_hook(void *arg, const struct secevent *ev)
{
	alert_feed(arg, ev);
}

/*
 * Evidence
 */

static void
stat_inc(_Atomic uint64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

static int
ent_cmp(const void *x, const void *y)
{
	const struct topk_ent *a = x, *b = y;

	return a->count < b->count ? 1 : a->count > b->count ? -1 : 0;
}

/* The biggest first, at most ALERT_TOPK of them; returns how many. */
static size_t
topk_sorted(const struct topk *t, struct topk_ent out[ALERT_TOPK_TRACK])
{
	memcpy(out, t->e, t->n * sizeof(out[0]));
	qsort(out, t->n, sizeof(out[0]), ent_cmp);
	return t->n < ALERT_TOPK ? t->n : ALERT_TOPK;
}

static const char *
src_str(const uint8_t *key, size_t klen, char *buf, size_t cap)
{
	union sw_addr a;

	memset(&a, 0, sizeof(a));
	if (klen == 5 && key[0] == 4) {
		a.sin.sin_family = AF_INET;
		memcpy(&a.sin.sin_addr, key + 1, 4);
	} else if (klen == 17 && key[0] == 6) {
		a.sin6.sin6_family = AF_INET6;
		memcpy(&a.sin6.sin6_addr, key + 1, 16);
	} else {
		snprintf(buf, cap, "-");
		return buf;
	}
	return sw_addr_ip_str(&a, buf, cap);
}

static const char *
ent_name(const struct topk_ent *e, int is_src, char *buf, size_t cap)
{
	if (is_src)
		return src_str(e->key, e->klen, buf, cap);
	snprintf(buf, cap, "%.*s", (int)e->klen, (const char *)e->key);
	return buf;
}

/* "a=n,b=n" of whole entries that fit in buf[0..cap). */
static void
topk_list(const struct topk *t, int is_src, char *buf, size_t cap)
{
	struct topk_ent s[ALERT_TOPK_TRACK];
	char name[SW_ADDR_STRLEN + ALERT_KEY_MAX], item[160];
	size_t n = topk_sorted(t, s), len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(item, sizeof(item), "%s%s=%llu",
		    len > 0 ? "," : "", ent_name(&s[i], is_src, name,
		    sizeof(name)), (unsigned long long)s[i].count);

		if (w < 0 || (size_t)w >= cap - len)
			break;
		memcpy(buf + len, item, (size_t)w + 1);
		len += (size_t)w;
	}
}

static json_t *
topk_json(const struct topk *t, int is_src)
{
	struct topk_ent s[ALERT_TOPK_TRACK];
	char name[SW_ADDR_STRLEN + ALERT_KEY_MAX];
	size_t n = topk_sorted(t, s);
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < n; i++)
		json_array_append_new(arr, json_pack("{s:s, s:I}",
		    is_src ? "src" : "account", ent_name(&s[i], is_src, name,
		    sizeof(name)), "count", (json_int_t)s[i].count));
	return arr;
}

/* The busiest account of a topk table, or NULL. */
static const struct topk_ent *
topk_max(const struct topk *t)
{
	const struct topk_ent *best = NULL;

	for (size_t i = 0; i < t->n; i++)
		if (best == NULL || t->e[i].count > best->count)
			best = &t->e[i];
	return best;
}

/* A metric's value in window w: its count, or for calls_per_account
 * the most calls of one account. */
static uint64_t
window_value(const struct window *w, int m)
{
	const struct topk_ent *e;

	if (m != ALERT_M_CALLS_ACCOUNT)
		return w->count[m];
	return (e = topk_max(&w->acct[m])) != NULL ? e->count : 0;
}

static const char *
iso_ms(int64_t ms, char *buf, size_t cap)
{
	struct timespec ts = { .tv_sec = (time_t)(ms / 1000),
	    .tv_nsec = (long)(ms % 1000) * 1000000 };

	return log_time_iso(&ts, buf, cap);
}

/* The webhook body of r: a heap string, or NULL. */
static char *
payload(const struct alert *a, const struct alert_rec *r)
{
	char t[LOG_TIME_LEN], name[SW_ADDR_STRLEN];
	json_t *o = json_object(), *c;
	char *s;

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "v", json_integer(1));
	json_object_set_new(o, "type", json_string(r->cleared ?
	    "alert.cleared" : "alert.raised"));
	json_object_set_new(o, "id", json_integer(secevent_type_id(
	    r->cleared ? SECEV_ALERT_CLEARED : SECEV_ALERT_RAISED)));
	json_object_set_new(o, "ts", json_string(iso_ms(r->now_ms, t,
	    sizeof(t))));
	json_object_set_new(o, "node", json_string(a->node));
	json_object_set_new(o, "rule", json_string(rule_names[r->rule]));
	json_object_set_new(o, "metric", json_string(metric_names[r->metric]));
	if (r->account != NULL)
		json_object_set_new(o, "account", json_string(r->account));
	if (r->cc != NULL) {
		char cc[8];

		snprintf(cc, sizeof(cc), "+%s", r->cc);
		json_object_set_new(o, "country", json_string(cc));
		json_object_set_new(o, "to", json_string(r->to));
	}
	json_object_set_new(o, "value", json_integer((json_int_t)r->value));
	json_object_set_new(o, "baseline", r->has_baseline ?
	    json_real(r->baseline) : json_null());
	json_object_set_new(o, "limit", r->limit > 0 ?
	    json_integer((json_int_t)r->limit) : json_null());
	json_object_set_new(o, "factor", json_integer(a->conf.factor));
	json_object_set_new(o, "window_s", json_integer(
	    a->conf.window_ms / 1000));
	if (r->w != NULL) {
		json_object_set_new(o, "window_start", json_string(iso_ms(
		    r->w->start_ms, t, sizeof(t))));
		json_object_set_new(o, "window_end", json_string(iso_ms(
		    r->w->end_ms, t, sizeof(t))));
		if ((c = json_object()) != NULL)
			for (int m = 0; m < ALERT_M_MAX; m++)
				json_object_set_new(c, metric_names[m],
				    json_integer((json_int_t)window_value(
				    r->w, m)));
		json_object_set_new(o, "counters", c);
		json_object_set_new(o, "top_sources",
		    topk_json(&r->w->src[r->metric], 1));
		json_object_set_new(o, "top_accounts",
		    topk_json(&r->w->acct[r->metric], 0));
	} else if (r->srclen > 0) {
		json_object_set_new(o, "top_sources", json_pack("[{s:s, s:i}]",
		    "src", src_str(r->src, r->srclen, name, sizeof(name)),
		    "count", 1));
	}
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s != NULL && strlen(s) > ALERT_BODY_MAX) {
		free(s);
		s = NULL;
	}
	return s;
}

/*
 * Delivery thread
 */

/* scheme://host[:port] of url: no user information, path or query,
 * which may hold a token. */
static void
url_target(const char *url, char *buf, size_t cap)
{
	const char *p = strstr(url, "://"), *h, *e, *at;

	if (p == NULL) {
		snprintf(buf, cap, "-");
		return;
	}
	h = p + 3;
	e = h + strcspn(h, "/?#");
	at = memchr(h, '@', (size_t)(e - h));
	if (at != NULL)
		h = at + 1;
	snprintf(buf, cap, "%.*s://%.*s", (int)(p - url), url, (int)(e - h),
	    h);
}

static void
delivery_failed(struct alert *a, const char *reason, int result,
    unsigned attempts, size_t n)
{
	struct secevent ev;
	char target[SECEVENT_MAX_KV_STR];

	pthread_mutex_lock(&a->dq_mtx);
	url_target(a->wh.url, target, sizeof(target));
	pthread_mutex_unlock(&a->dq_mtx);
	secevent_init(&ev, SECEV_ALERT_DELIVERY_FAILED);
	ev.reason = reason;
	ev.detail = result < 0 ? strerror(-result) : NULL;
	secevent_add_str(&ev, "target", target);
	secevent_add_int(&ev, "attempts", attempts);
	if (result > 0)
		secevent_add_int(&ev, "http_status", result);
	if (n > 1)
		secevent_add_int(&ev, "count", (long long)n);
	evlog_emit(a->ev, &ev);
}

struct curl_sink {
	size_t	n;
};

/* The receiver's answer is not read, only bounded. */
static size_t
curl_discard(char *p, size_t size, size_t nmemb, void *arg)
{
	struct curl_sink *s = arg;

	s->n += size * nmemb;
	return s->n > 65536 ? 0 : size * nmemb;
}

static int
curl_post(void *arg, const char *url, const char *body, size_t len,
    uint32_t timeout_ms)
{
	struct curl_slist *hdr, *h2;
	struct curl_sink sink = { 0 };
	long code = 0;
	CURLcode rc;
	CURL *c;

	if ((c = curl_easy_init()) == NULL)
		return -ENOMEM;
	hdr = curl_slist_append(NULL, "Content-Type: application/json");
	/* no "Expect: 100-continue" round trip before the body */
	if (hdr != NULL && (h2 = curl_slist_append(hdr, "Expect:")) != NULL)
		hdr = h2;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "sipwall-alert/1");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curl_discard);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	curl_slist_free_all(hdr);
	if (rc == CURLE_OPERATION_TIMEDOUT)
		return -ETIMEDOUT;
	if (rc == CURLE_COULDNT_CONNECT)
		return -ECONNREFUSED;
	if (rc != CURLE_OK)
		return -EIO;
	return code >= 200 && code < 300 ? 0 : (int)(code > 0 ? code : 999);
}

/* CLOCK_MONOTONIC (dq_cond's clock) ms from now. */
static struct timespec
deadline(uint32_t ms)
{
	struct timespec dl;

	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += ms / 1000;
	dl.tv_nsec += (long)(ms % 1000) * 1000000;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	return dl;
}

/* Wait ms or until stopping, dq_mtx held; 1: stopping. */
static int
dq_sleep(struct alert *a, uint32_t ms)
{
	struct timespec dl = deadline(ms);

	while (!a->stopping &&
	    pthread_cond_timedwait(&a->dq_cond, &a->dq_mtx, &dl) != ETIMEDOUT)
		;
	return a->stopping;
}

static void *
deliver_main(void *arg)
{
	struct alert *a = arg;
	struct webhook wh;
	char *body;
	unsigned attempts;
	size_t left;
	int r = 0;

	log_set_thread("alert");
	pthread_mutex_lock(&a->dq_mtx);
	for (;;) {
		while (a->dq_n == 0 && !a->stopping)
			pthread_cond_wait(&a->dq_cond, &a->dq_mtx);
		if (a->stopping)
			break;
		body = a->dq[a->dq_head];
		a->dq_busy = 1;
		/* a reload may change the webhook: this alert goes where
		 * the settings pointed when its first attempt began */
		wh = a->wh;
		for (attempts = 1;; attempts++) {
			uint32_t delay;

			pthread_mutex_unlock(&a->dq_mtx);
			r = wh.url[0] == '\0' ? -EDESTADDRREQ : a->post(
			    a->post_arg, wh.url, body, strlen(body),
			    wh.timeout_ms);
			pthread_mutex_lock(&a->dq_mtx);
			if (r == 0 || attempts > wh.retries || a->stopping ||
			    wh.url[0] == '\0')
				break;
			delay = a->backoff_ms;
			for (unsigned i = 1; i < attempts &&
			    delay < ALERT_BACKOFF_MAX_MS; i++)
				delay *= 2;
			if (delay > ALERT_BACKOFF_MAX_MS)
				delay = ALERT_BACKOFF_MAX_MS;
			if (dq_sleep(a, delay))
				break;
		}
		a->dq[a->dq_head] = NULL;
		a->dq_head = (a->dq_head + 1) % ALERT_QUEUE_LEN;
		a->dq_n--;
		pthread_mutex_unlock(&a->dq_mtx);
		free(body);
		if (r == 0)
			stat_inc(&a->st_delivered);
		else {
			stat_inc(&a->st_failed);
			delivery_failed(a, r > 0 ? "http_status" :
			    r == -ETIMEDOUT ? "timeout" : "unreachable", r,
			    attempts, 1);
		}
		pthread_mutex_lock(&a->dq_mtx);
		a->dq_busy = 0;		/* reported: alert_drain may return */
		pthread_cond_broadcast(&a->dq_cond);
	}
	/* stopping: what is still queued is given up, and said so */
	left = a->dq_n;
	while (a->dq_n > 0) {
		free(a->dq[a->dq_head]);
		a->dq[a->dq_head] = NULL;
		a->dq_head = (a->dq_head + 1) % ALERT_QUEUE_LEN;
		a->dq_n--;
	}
	pthread_mutex_unlock(&a->dq_mtx);
	if (left > 0) {
		atomic_fetch_add_explicit(&a->st_failed, left,
		    memory_order_relaxed);
		delivery_failed(a, "shutdown", 0, 0, left);
	}
	return NULL;
}

static void
enqueue(struct alert *a, char *body)
{
	int full;

	pthread_mutex_lock(&a->dq_mtx);
	full = a->dq_n >= ALERT_QUEUE_LEN || a->stopping;
	if (!full) {
		a->dq[(a->dq_head + a->dq_n) % ALERT_QUEUE_LEN] = body;
		a->dq_n++;
		pthread_cond_broadcast(&a->dq_cond);
	}
	pthread_mutex_unlock(&a->dq_mtx);
	if (full) {
		free(body);
		stat_inc(&a->st_queue_full);
		delivery_failed(a, "queue_full", 0, 0, 1);
	}
}

int
alert_drain(struct alert *a, uint32_t timeout_ms)
{
	struct timespec dl;
	int r = 0;

	if (a == NULL || !a->thr_started)
		return 0;
	dl = deadline(timeout_ms);
	pthread_mutex_lock(&a->dq_mtx);
	while ((a->dq_n > 0 || a->dq_busy) && r != ETIMEDOUT)
		r = pthread_cond_timedwait(&a->dq_cond, &a->dq_mtx, &dl);
	r = a->dq_n > 0 || a->dq_busy ? -ETIMEDOUT : 0;
	pthread_mutex_unlock(&a->dq_mtx);
	return r;
}

/*
 * Evaluation (main thread)
 */

/* The newest ALERT_HIST_TOP entries of t, biggest first, into out. */
static uint8_t
hist_top(const struct topk *t, struct topk_ent out[ALERT_HIST_TOP])
{
	struct topk_ent s[ALERT_TOPK_TRACK];
	size_t n = topk_sorted(t, s);

	if (n > ALERT_HIST_TOP)
		n = ALERT_HIST_TOP;
	memcpy(out, s, n * sizeof(out[0]));
	return (uint8_t)n;
}

static bool
same_key(const struct hist *h, const struct alert_rec *r)
{
	return h->rule == r->rule && h->metric == r->metric &&
	    strcmp(h->account, r->account != NULL ? r->account : "") == 0;
}

/* Keep r for `sipwall alerts`; a clearing ends the alert it clears. */
static void
remember(struct alert *a, const struct alert_rec *r)
{
	struct hist *h;

	pthread_mutex_lock(&a->hist_mtx);
	for (size_t i = 0; i < a->hist_n; i++) {
		struct hist *o = &a->hist[(a->hist_head + i) % ALERT_HISTORY];

		/* a raising (or its reminder) is over once cleared or
		 * raised again */
		if (o->active && same_key(o, r))
			o->active = 0;
	}
	if (a->hist_n == ALERT_HISTORY) {
		a->hist_head = (a->hist_head + 1) % ALERT_HISTORY;
		a->hist_n--;
	}
	h = &a->hist[(a->hist_head + a->hist_n++) % ALERT_HISTORY];
	memset(h, 0, sizeof(*h));
	h->at_ms = r->now_ms;
	h->rule = (uint8_t)r->rule;
	h->metric = (uint8_t)r->metric;
	h->cleared = r->cleared != 0;
	h->active = !r->cleared;
	if (r->account != NULL)
		snprintf(h->account, sizeof(h->account), "%s", r->account);
	if (r->cc != NULL)
		snprintf(h->cc, sizeof(h->cc), "%s", r->cc);
	if (r->to != NULL)
		snprintf(h->to, sizeof(h->to), "%s", r->to);
	h->value = r->value;
	h->limit = r->limit;
	h->baseline = r->baseline;
	h->has_baseline = r->has_baseline != 0;
	h->window_s = a->conf.window_ms / 1000;
	if (r->w != NULL) {
		h->has_window = 1;
		h->window_start = r->w->start_ms;
		h->window_end = r->w->end_ms;
		h->nsrc = hist_top(&r->w->src[r->metric], h->src);
		h->nacct = hist_top(&r->w->acct[r->metric], h->acct);
	} else if (r->srclen > 0 && r->srclen <= ALERT_SRC_KEY) {
		h->nsrc = 1;
		h->src[0].count = 1;
		h->src[0].klen = (uint8_t)r->srclen;
		memcpy(h->src[0].key, r->src, r->srclen);
	}
	pthread_mutex_unlock(&a->hist_mtx);
}

/* The webhook POST of r, when there is a webhook. */
static void
post_rec(struct alert *a, const struct alert_rec *r)
{
	char *body;

	if (a->conf.webhook[0] == '\0' || !a->thr_started)
		return;
	if ((body = payload(a, r)) == NULL) {
		delivery_failed(a, "payload", -ENOMEM, 0, 1);
		return;
	}
	enqueue(a, body);
}

static void
emit(struct alert *a, const struct alert_rec *r)
{
	struct secevent_counter ctr[ALERT_M_MAX];
	struct secevent ev;
	char bl[32], srcs[ALERT_KV_LIST], accts[ALERT_KV_LIST], cc[8];

	remember(a, r);
	secevent_init(&ev, r->cleared ? SECEV_ALERT_CLEARED :
	    SECEV_ALERT_RAISED);
	ev.reason = rule_names[r->rule];
	if (r->account != NULL)
		ev.account = slice_cstr(r->account);
	secevent_add_str(&ev, "metric", metric_names[r->metric]);
	if (r->cleared) {
		stat_inc(&a->st_cleared);
		evlog_emit(a->ev, &ev);
		/* the receiver that paged someone hears the end too */
		post_rec(a, r);
		return;
	}
	stat_inc(&a->st_raised);
	if (r->cc != NULL) {
		snprintf(cc, sizeof(cc), "+%s", r->cc);
		secevent_add_str(&ev, "country", cc);
	}
	secevent_add_int(&ev, "value", (long long)r->value);
	if (r->has_baseline) {
		snprintf(bl, sizeof(bl), "%.2f", r->baseline);
		secevent_add_str(&ev, "baseline", bl);
	}
	if (r->limit > 0)
		secevent_add_int(&ev, "limit", (long long)r->limit);
	secevent_add_int(&ev, "window_s", a->conf.window_ms / 1000);
	if (r->w != NULL) {
		for (int m = 0; m < ALERT_M_MAX; m++) {
			ctr[m].k = metric_names[m];
			ctr[m].v = window_value(r->w, m);
		}
		ev.counters = ctr;
		ev.ncounters = ALERT_M_MAX;
		topk_list(&r->w->src[r->metric], 1, srcs, sizeof(srcs));
		topk_list(&r->w->acct[r->metric], 0, accts, sizeof(accts));
		if (srcs[0] != '\0')
			secevent_add_str(&ev, "top_sources", srcs);
		if (accts[0] != '\0')
			secevent_add_str(&ev, "top_accounts", accts);
	} else if (r->srclen > 0) {
		src_str(r->src, r->srclen, srcs, sizeof(srcs));
		secevent_add_str(&ev, "top_sources", srcs);
	}
	evlog_emit(a->ev, &ev);
	post_rec(a, r);
}

/* A rule's verdict on a global (rule, metric) state. */
static void
judge(struct alert *a, struct alert_rec *r, int active)
{
	struct gstate *g = &a->g[r->rule][r->metric];

	if (active) {
		if (!g->raised || r->now_ms - g->last_ms >= ALERT_REMIND_MS) {
			g->raised = 1;
			g->last_ms = r->now_ms;
			emit(a, r);
		}
	} else if (g->raised) {
		g->raised = 0;
		r->cleared = 1;
		emit(a, r);
	}
}

/* The same for a rule about one account (active only). */
static void
judge_key(struct alert *a, struct alert_rec *r, const char *key)
{
	struct kstate *k, *free_k = NULL, *old = NULL;

	for (size_t i = 0; i < ALERT_KEYS; i++) {
		k = &a->ks[i];
		if (!k->used) {
			if (free_k == NULL)
				free_k = k;
			continue;
		}
		if (k->rule == r->rule && k->metric == r->metric &&
		    strcmp(k->key, key) == 0)
			goto found;
		if (old == NULL || k->last_ms < old->last_ms)
			old = k;
	}
	/* full: the state raised longest ago gives way (it may raise
	 * again, once, if it is still on) */
	k = free_k != NULL ? free_k : old;
	memset(k, 0, sizeof(*k));
	k->used = 1;
	k->rule = (uint8_t)r->rule;
	k->metric = (uint8_t)r->metric;
	snprintf(k->key, sizeof(k->key), "%s", key);
found:
	k->hit = 1;
	if (!k->raised || r->now_ms - k->last_ms >= ALERT_REMIND_MS) {
		k->raised = 1;
		k->last_ms = r->now_ms;
		r->account = k->key;
		emit(a, r);
	}
}

/* Per-account states that were not hit this window are over. */
static void
sweep_keys(struct alert *a, int64_t now_ms)
{
	for (size_t i = 0; i < ALERT_KEYS; i++) {
		struct kstate *k = &a->ks[i];
		struct alert_rec r;

		if (!k->used)
			continue;
		if (!k->hit) {
			memset(&r, 0, sizeof(r));
			r.rule = (enum alert_rule)k->rule;
			r.metric = (enum alert_metric)k->metric;
			r.cleared = 1;
			r.account = k->key;
			r.now_ms = now_ms;
			emit(a, &r);
			k->used = 0;
			continue;
		}
		k->hit = 0;
	}
}

static uint32_t
metric_limit(const struct conf_alerts *c, enum alert_metric m)
{
	switch (m) {
	case ALERT_M_REG_FAILURES:
		return c->reg_failures;
	case ALERT_M_AUTH_FAILURES:
		return c->auth_failures;
	case ALERT_M_INVITE_FAILURES:
		return c->invite_failures;
	case ALERT_M_CALLS_OUT:
		return c->calls_out;
	case ALERT_M_CALLS_INTL:
		return c->calls_international;
	default:
		return 0;
	}
}

/* A closed window's count of m and the baseline it was held against. */
static void
rate_push(struct alert *a, int m, int64_t t, uint64_t count, double b,
    int has_b)
{
	struct rate_ring *rr = &a->rate[m];

	if (rr->n == ALERT_RATE_HISTORY) {
		rr->head = (rr->head + 1) % ALERT_RATE_HISTORY;
		rr->n--;
	}
	rr->p[(rr->head + rr->n++) % ALERT_RATE_HISTORY] = (struct rate_pt){
		.t = t, .count = count, .baseline = b,
		.has_baseline = (uint8_t)(has_b != 0) };
}

/* The baselines the window now open will be held against. */
static void
cur_baselines(struct alert *a)
{
	int slot = baseline_slot_of((time_t)(a->cur->start_ms / 1000));
	double b[ALERT_M_MAX] = { 0 };
	uint8_t has[ALERT_M_MAX] = { 0 };

	for (int m = 0; m < ALERT_M_BASELINED; m++)
		has[m] = baseline_get(&a->bl, (size_t)m, slot, &b[m]) == 0;
	pthread_mutex_lock(&a->hist_mtx);
	memcpy(a->cur_bl, b, sizeof(b));
	memcpy(a->cur_has_bl, has, sizeof(has));
	pthread_mutex_unlock(&a->hist_mtx);
}

static void
evaluate(struct alert *a, const struct window *w, int64_t now_ms)
{
	const struct conf_alerts *c = &a->conf;
	int slot = baseline_slot_of((time_t)(w->start_ms / 1000));
	char top[ALERT_KEY_MAX + 1];
	double bls[ALERT_M_MAX] = { 0 };
	int hasb[ALERT_M_MAX] = { 0 };
	int on = c->enabled;	/* off by a reload: learn, raise nothing */

	for (int m = 0; m < ALERT_M_BASELINED; m++) {
		struct alert_rec r;
		uint64_t x = window_value(w, m);
		uint32_t lim = metric_limit(c, (enum alert_metric)m);
		double b = 0, thr;
		int has_b, active;

		memset(&r, 0, sizeof(r));
		r.metric = (enum alert_metric)m;
		r.w = w;
		r.now_ms = now_ms;
		top[0] = '\0';
		if (m == ALERT_M_CALLS_ACCOUNT && x > 0) {
			const struct topk_ent *e = topk_max(&w->acct[m]);

			snprintf(top, sizeof(top), "%.*s", (int)e->klen,
			    (const char *)e->key);
		}
		r.value = x;

		/* (a) ratio against the hour-of-week baseline */
		has_b = baseline_get(&a->bl, (size_t)m, slot, &b) == 0;
		bls[m] = b;
		hasb[m] = has_b;
		thr = (double)c->factor * b;
		active = on && has_b && x >= c->min_count && (double)x > thr;
		r.rule = RULE_RATIO;
		r.baseline = b;
		r.has_baseline = has_b;
		r.limit = has_b ? (uint64_t)floor(thr) + 1 : 0;
		if (r.limit < c->min_count)
			r.limit = c->min_count;
		r.account = top[0] != '\0' ? top : NULL;
		judge(a, &r, active);

		/* (b) absolute limits */
		r.rule = RULE_LIMIT;
		r.cleared = 0;
		r.has_baseline = 0;
		r.account = NULL;
		if (m == ALERT_M_CALLS_ACCOUNT) {
			for (size_t i = 0; on && c->calls_per_account > 0 &&
			    i < w->acct[m].n; i++) {
				const struct topk_ent *e = &w->acct[m].e[i];
				char key[ALERT_KEY_MAX + 1];

				if (e->count <= c->calls_per_account)
					continue;
				snprintf(key, sizeof(key), "%.*s",
				    (int)e->klen, (const char *)e->key);
				r.value = e->count;
				r.limit = c->calls_per_account;
				judge_key(a, &r, key);
			}
		} else {
			r.limit = lim;
			judge(a, &r, on && lim > 0 && x > lim);
		}

		/* learn; while the ratio alert is on, at most twice the
		 * baseline, so an attack does not teach us it is normal */
		if (!w->partial && slot >= 0) {
			double learn = (double)x;

			if (a->g[RULE_RATIO][m].raised && has_b &&
			    learn > 2 * b + 1)
				learn = 2 * b + 1;
			baseline_learn(&a->bl, (size_t)m, slot, learn);
		}
	}
	sweep_keys(a, now_ms);

	/* (d) calls outside business hours (and the end of such an
	 * alert when a reload turned the rule off) */
	if ((on && c->nhours > 0 && c->off_hours_calls > 0) ||
	    a->g[RULE_OFF_HOURS][ALERT_M_CALLS_OFF_HOURS].raised) {
		struct alert_rec r;

		memset(&r, 0, sizeof(r));
		r.rule = RULE_OFF_HOURS;
		r.metric = ALERT_M_CALLS_OFF_HOURS;
		r.w = w;
		r.now_ms = now_ms;
		r.value = w->count[ALERT_M_CALLS_OFF_HOURS];
		r.limit = c->off_hours_calls;
		judge(a, &r, on && c->nhours > 0 && c->off_hours_calls > 0 &&
		    r.value > c->off_hours_calls);
	}
	pthread_mutex_lock(&a->hist_mtx);
	for (int m = 0; m < ALERT_M_MAX; m++)
		rate_push(a, m, w->start_ms, window_value(w, m), bls[m],
		    hasb[m]);
	pthread_mutex_unlock(&a->hist_mtx);
	stat_inc(&a->st_windows);
	(void)baseline_save(&a->bl, a->wr, now_ms / 1000);
}

struct country_row {
	char	account[ALERT_KEY_MAX + 1];
	char	cc[4];
	int64_t	first;
};

static int
country_write(struct store *st, void *arg)
{
	struct country_row *row = arg;

	return store_country_add(st, row->account, row->cc, row->first);
}

static void
country_done(void *arg, int result)
{
	free(arg);
}

/* (c) first calls to a new country, as they come (each pair once). */
static void
new_countries(struct alert *a, int64_t now_ms)
{
	size_t n;

	pthread_mutex_lock(&a->mtx);
	n = a->npend;
	memcpy(a->work, a->pend, n * sizeof(a->work[0]));
	a->npend = 0;
	pthread_mutex_unlock(&a->mtx);

	for (size_t i = 0; i < n; i++) {
		struct newcountry *nc = &a->work[i];
		struct country_row *row;
		struct store_wop op;

		if (a->conf.new_country && a->conf.enabled) {
			struct alert_rec r;

			memset(&r, 0, sizeof(r));
			r.rule = RULE_NEW_COUNTRY;
			r.metric = ALERT_M_CALLS_INTL;
			r.account = nc->account;
			r.cc = nc->cc;
			r.to = nc->to;
			r.value = 1;
			r.src = nc->src;
			r.srclen = nc->srclen;
			r.now_ms = now_ms;
			emit(a, &r);
		}
		if (a->wr == NULL || (row = calloc(1, sizeof(*row))) == NULL)
			continue;
		memcpy(row->account, nc->account, sizeof(row->account));
		memcpy(row->cc, nc->cc, sizeof(row->cc));
		row->first = now_ms / 1000;
		memset(&op, 0, sizeof(op));
		op.type = STORE_WOP_GENERIC;
		op.u.fn = country_write;
		op.arg = row;
		op.done = country_done;
		if (store_writer_submit(a->wr, &op) < 0)
			free(row);
	}
}

/* Is the local time tm inside the business hours? */
static bool
in_hours(const struct conf_hours *h, size_t n, const struct tm *tm)
{
	unsigned today = (unsigned)(tm->tm_wday + 6) % 7;
	unsigned now = (unsigned)(tm->tm_hour * 60 + tm->tm_min);

	for (size_t i = 0; i < n; i++) {
		unsigned end = h[i].to > h[i].from ? h[i].to : h[i].to + 1440u;

		/* a window that began today, or yesterday and runs past
		 * midnight (then "now" is 1440 minutes later than it) */
		if ((h[i].days & (1u << today)) && now >= h[i].from &&
		    now < end)
			return true;
		if ((h[i].days & (1u << ((today + 6) % 7))) &&
		    now + 1440u < end)
			return true;
	}
	return false;
}

/* The window now_ms is in; partial: it is not counted whole. */
static void
window_start(struct window *w, int64_t now_ms, uint32_t window_ms,
    int partial)
{
	memset(w, 0, sizeof(*w));
	w->start_ms = now_ms - now_ms % (int64_t)window_ms;
	w->end_ms = w->start_ms + (int64_t)window_ms;
	w->partial = partial;
}

void
alert_tick(struct alert *a, int64_t now_ms)
{
	struct window *w;
	time_t now = (time_t)(now_ms / 1000);
	struct tm tm;

	if (a == NULL)
		return;
	pthread_mutex_lock(&a->conf_mtx);
	if (a->conf.nhours > 0 && localtime_r(&now, &tm) != NULL)
		atomic_store_explicit(&a->off_hours,
		    !in_hours(a->hours, a->conf.nhours, &tm),
		    memory_order_relaxed);
	else if (a->conf.nhours == 0)
		atomic_store_explicit(&a->off_hours, 0, memory_order_relaxed);
	new_countries(a, now_ms);
	if (now_ms < a->cur->end_ms) {
		pthread_mutex_unlock(&a->conf_mtx);
		return;
	}

	pthread_mutex_lock(&a->mtx);
	w = a->cur;
	a->cur = a->closed;
	window_start(a->cur, now_ms, a->conf.window_ms, 0);
	a->closed = w;
	pthread_mutex_unlock(&a->mtx);
	/* a tick that came a window late (a stopped process, a clock
	 * step) closes a window that counted for longer: not learned */
	if (now_ms >= w->end_ms + (int64_t)a->conf.window_ms)
		w->partial = 1;
	evaluate(a, w, now_ms);
	cur_baselines(a);
	pthread_mutex_unlock(&a->conf_mtx);
}

/*
 * Life cycle
 */

static int
country_load(void *arg, const char *account, const char *cc, int64_t first)
{
	struct alert *a = arg;

	if (strlen(account) <= ALERT_KEY_MAX && strlen(cc) < 4)
		(void)pair_learn(a, account, cc);
	return 0;
}

static void
webhook_of(const struct conf_alerts *c, struct webhook *ret)
{
	memset(ret, 0, sizeof(*ret));
	snprintf(ret->url, sizeof(ret->url), "%s", c->webhook);
	ret->timeout_ms = c->webhook_timeout_ms;
	ret->retries = c->retries;
}

/* libcurl (unless the caller posts) and the delivery thread, which
 * takes no signals.  0 or -errno. */
static int
delivery_start(struct alert *a)
{
	sigset_t all, old;
	int r;

	if (a->thr_started)
		return 0;
	if (a->post == curl_post && !a->curl_init) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return -ENOMEM;
		a->curl_init = 1;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&a->thr, NULL, deliver_main, a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0)
		return -r;
	a->thr_started = 1;
	return 0;
}

/* Business hours of c into ret; 0 or -EINVAL (logged). */
static int
hours_of(const struct conf_alerts *c, struct conf_hours *ret)
{
	char why[128];

	for (size_t i = 0; i < c->nhours; i++)
		if (conf_hours_parse(c->hours[i], &ret[i], why,
		    sizeof(why)) < 0) {
			log_warnx("alerts: hours \"%s\": %s", c->hours[i],
			    why);
			return -EINVAL;
		}
	return 0;
}

int
alert_new(const struct alert_opts *o, int64_t now_ms, struct alert **ret)
{
	struct alert *a;
	pthread_condattr_t ca;
	int r;

	if (o == NULL || o->conf == NULL || o->conf->window_ms < 1000 ||
	    o->conf->nhours > CONF_MAX_HOURS)
		return -EINVAL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return -ENOMEM;
	pthread_mutex_init(&a->mtx, NULL);
	pthread_mutex_init(&a->dq_mtx, NULL);
	pthread_mutex_init(&a->conf_mtx, NULL);
	pthread_mutex_init(&a->hist_mtx, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&a->dq_cond, &ca);
	pthread_condattr_destroy(&ca);
	a->conf = *o->conf;
	webhook_of(&a->conf, &a->wh);
	a->ev = o->ev;
	a->wr = o->wr;
	snprintf(a->home_cc, sizeof(a->home_cc), "%s",
	    o->country_code != NULL ? o->country_code : "");
	snprintf(a->node, sizeof(a->node), "%s", o->node != NULL ? o->node :
	    "");
	a->post = o->post != NULL ? o->post : curl_post;
	a->post_arg = o->post_arg;
	a->backoff_ms = o->backoff_ms > 0 ? o->backoff_ms : ALERT_BACKOFF_MS;
	if ((r = hours_of(&a->conf, a->hours)) < 0)
		goto fail;
	if ((r = baseline_init(&a->bl, a->conf.window_ms, metric_names,
	    ALERT_M_BASELINED)) < 0)
		goto fail;
	a->cur = calloc(1, sizeof(*a->cur));
	a->closed = calloc(1, sizeof(*a->closed));
	a->pairs = calloc(2 * ALERT_COUNTRY_PAIRS, sizeof(*a->pairs));
	if (a->cur == NULL || a->closed == NULL || a->pairs == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	/* the first window began before us: it is not learned */
	window_start(a->cur, now_ms, a->conf.window_ms,
	    now_ms % (int64_t)a->conf.window_ms != 0);
	if (o->st != NULL && ((r = baseline_load(&a->bl, o->st)) < 0 ||
	    (r = store_country_list(o->st, country_load, a)) < 0)) {
		log_warnx("alerts: loading what was learned: %s",
		    store_strerror(r));
		goto fail;
	}
	cur_baselines(a);
	if (a->conf.webhook[0] != '\0' && (r = delivery_start(a)) < 0)
		goto fail;
	*ret = a;
	return 0;
fail:
	alert_free(a);
	return r;
}

int
alert_reconf(struct alert *a, const struct conf_alerts *c)
{
	struct conf_hours hours[CONF_MAX_HOURS];
	struct webhook wh;
	int r = 0;

	if (a == NULL || c == NULL || c->window_ms < 1000 ||
	    c->nhours > CONF_MAX_HOURS)
		return -EINVAL;
	/* counts and baselines are per window: a new length needs a
	 * restart (window_ms is never written after alert_new) */
	if (c->window_ms != a->conf.window_ms)
		return -EBUSY;
	memset(hours, 0, sizeof(hours));
	if (hours_of(c, hours) < 0)
		return -EINVAL;
	webhook_of(c, &wh);
	pthread_mutex_lock(&a->conf_mtx);
	/* a webhook where there was none: the thread comes first, so
	 * that no alert finds a queue nobody empties */
	if (wh.url[0] != '\0')
		r = delivery_start(a);
	if (r == 0) {
		a->conf = *c;
		memcpy(a->hours, hours, sizeof(a->hours));
		pthread_mutex_lock(&a->dq_mtx);
		a->wh = wh;
		pthread_mutex_unlock(&a->dq_mtx);
	}
	pthread_mutex_unlock(&a->conf_mtx);
	return r;
}

void
alert_get_stats(struct alert *a, struct alert_stats *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (a == NULL)
		return;
	ret->windows = atomic_load(&a->st_windows);
	ret->raised = atomic_load(&a->st_raised);
	ret->cleared = atomic_load(&a->st_cleared);
	ret->delivered = atomic_load(&a->st_delivered);
	ret->delivery_failed = atomic_load(&a->st_failed);
	ret->queue_full = atomic_load(&a->st_queue_full);
	ret->new_country_lost = atomic_load(&a->st_nc_lost);
}

/*
 * OPS1: what the control thread reads
 */

static json_t *
hist_top_json(const struct topk_ent *e, size_t n, int is_src)
{
	char name[SW_ADDR_STRLEN + ALERT_KEY_MAX];
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < n; i++)
		json_array_append_new(arr, json_pack("{s:s, s:I}",
		    is_src ? "src" : "account", ent_name(&e[i], is_src, name,
		    sizeof(name)), "count", (json_int_t)e[i].count));
	return arr;
}

static json_t *
hist_json(const struct alert *a, const struct hist *h)
{
	char key[ALERT_KEY_MAX + 32], cc[8];
	json_t *o;

	snprintf(key, sizeof(key), "%s%s%s", metric_names[h->metric],
	    h->account[0] != '\0' ? ":" : "", h->account);
	o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:o, s:o, s:i, s:I, s:b}",
	    "rule", rule_names[h->rule], "metric", metric_names[h->metric],
	    "key", key, "event", h->cleared ? "cleared" : "raised",
	    "count", (json_int_t)h->value,
	    "baseline", h->has_baseline ? json_real(h->baseline) : json_null(),
	    "limit", h->limit > 0 ? json_integer((json_int_t)h->limit) :
	    json_null(), "window_s", (int)h->window_s,
	    "at", (json_int_t)h->at_ms, "active", h->active != 0);
	if (o == NULL)
		return NULL;
	if (h->account[0] != '\0')
		json_object_set_new(o, "account", json_string(h->account));
	if (h->cc[0] != '\0') {
		snprintf(cc, sizeof(cc), "+%s", h->cc);
		json_object_set_new(o, "country", json_string(cc));
		json_object_set_new(o, "to", json_string(h->to));
	}
	if (h->has_window) {
		json_object_set_new(o, "window_start",
		    json_integer((json_int_t)h->window_start));
		json_object_set_new(o, "window_end",
		    json_integer((json_int_t)h->window_end));
	}
	json_object_set_new(o, "top_sources", hist_top_json(h->src, h->nsrc,
	    1));
	json_object_set_new(o, "top_accounts", hist_top_json(h->acct,
	    h->nacct, 0));
	(void)a;
	return o;
}

int
alert_enabled(struct alert *a)
{
	int on;

	if (a == NULL)
		return 0;
	pthread_mutex_lock(&a->conf_mtx);
	on = a->conf.enabled;
	pthread_mutex_unlock(&a->conf_mtx);
	return on;
}

json_t *
alert_alerts_json(struct alert *a, size_t max)
{
	json_t *arr = json_array();
	size_t start;

	if (arr == NULL)
		return NULL;
	if (a != NULL) {
		pthread_mutex_lock(&a->hist_mtx);
		start = a->hist_n > max ? a->hist_n - max : 0;
		for (size_t i = start; i < a->hist_n; i++)
			json_array_append_new(arr, hist_json(a, &a->hist[
			    (a->hist_head + i) % ALERT_HISTORY]));
		pthread_mutex_unlock(&a->hist_mtx);
	}
	return json_pack("{s:o, s:b, s:I, s:I}", "alerts", arr,
	    "enabled", alert_enabled(a),
	    "raised", (json_int_t)(a != NULL ? atomic_load(&a->st_raised) : 0),
	    "cleared", (json_int_t)(a != NULL ? atomic_load(&a->st_cleared) :
	    0));
}

json_t *
alert_rates_json(struct alert *a)
{
	uint64_t cur[ALERT_M_MAX];
	int64_t start;
	json_t *arr = json_array();

	if (arr == NULL || a == NULL)
		return json_pack("{s:o}", "rates", arr);
	pthread_mutex_lock(&a->mtx);
	for (int m = 0; m < ALERT_M_MAX; m++)
		cur[m] = window_value(a->cur, m);
	start = a->cur->start_ms;
	pthread_mutex_unlock(&a->mtx);
	pthread_mutex_lock(&a->hist_mtx);
	for (int m = 0; m < ALERT_M_MAX; m++) {
		const struct rate_ring *rr = &a->rate[m];
		json_t *h = json_array();

		for (size_t i = 0; h != NULL && i < rr->n; i++) {
			const struct rate_pt *p = &rr->p[(rr->head + i) %
			    ALERT_RATE_HISTORY];

			json_array_append_new(h, json_pack("{s:I, s:I, s:o}",
			    "t", (json_int_t)p->t, "count",
			    (json_int_t)p->count, "baseline", p->has_baseline ?
			    json_real(p->baseline) : json_null()));
		}
		json_array_append_new(arr, json_pack("{s:s, s:i, s:I, s:I, "
		    "s:o, s:o*}", "metric", metric_names[m], "window_s",
		    (int)(a->conf.window_ms / 1000), "window_start",
		    (json_int_t)start, "current", (json_int_t)cur[m],
		    "baseline", a->cur_has_bl[m] ? json_real(a->cur_bl[m]) :
		    json_null(), "history", h));
	}
	pthread_mutex_unlock(&a->hist_mtx);
	return json_pack("{s:o}", "rates", arr);
}

void
alert_free(struct alert *a)
{
	if (a == NULL)
		return;
	if (a->thr_started) {
		pthread_mutex_lock(&a->dq_mtx);
		a->stopping = 1;
		pthread_cond_broadcast(&a->dq_cond);
		pthread_mutex_unlock(&a->dq_mtx);
		pthread_join(a->thr, NULL);
	}
	for (size_t i = 0; i < ALERT_QUEUE_LEN; i++)
		free(a->dq[i]);
	if (a->curl_init)
		curl_global_cleanup();
	pthread_cond_destroy(&a->dq_cond);
	pthread_mutex_destroy(&a->dq_mtx);
	pthread_mutex_destroy(&a->mtx);
	pthread_mutex_destroy(&a->conf_mtx);
	pthread_mutex_destroy(&a->hist_mtx);
	free(a->cur);
	free(a->closed);
	free(a->pairs);
	free(a);
}
