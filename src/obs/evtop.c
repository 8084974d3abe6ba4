/*
 * Top offenders (see evtop.h).
 *
 * Each key keeps its counts in a ring of EVTOP_BUCKETS buckets, the
 * newest being bucket `base` (absolute: ms / EVTOP_BUCKET_MS); a count
 * moves the ring forward, clearing the buckets it skips, and a reader
 * sums the buckets that are both in the ring and in its window, so
 * reading changes nothing.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "obs/evtop.h"

#define B	EVTOP_BUCKETS

struct reason {
	char		name[EVTOP_REASON_MAX + 1];	/* "": free */
	uint32_t	cnt[B];
};

struct key {
	uint8_t		used;
	char		name[EVTOP_KEY_MAX + 1];
	uint64_t	h;		/* of name */
	int64_t		base;		/* absolute bucket of cnt[base % B] */
	int64_t		last_ms;
	uint64_t	sum;		/* of tot[]: the whole ring */
	uint32_t	tot[B];
	struct reason	r[EVTOP_REASONS + 1];	/* the last: "other" */
};

struct table {
	struct key	k[EVTOP_KEYS];
};

struct evtop {
	pthread_mutex_t	mu;
	struct table	src, acct;
};

int
evtop_new(struct evtop **ret)
{
	struct evtop *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -ENOMEM;
	pthread_mutex_init(&t->mu, NULL);
	*ret = t;
	return 0;
}

void
evtop_free(struct evtop *t)
{
	if (t == NULL)
		return;
	pthread_mutex_destroy(&t->mu);
	free(t);
}

int
evtop_is_offence(const struct evring_ev *ev)
{
	int cls = ev->id / 100;

	if (ev->sev > 4 || cls < 1 || cls > 6)
		return 0;
	switch (ev->id) {
	case 121:	/* route.target_down: our core */
	case 123:	/* trunk.registered */
	case 124:	/* trunk.reg_failed: our trunk */
	case 211:	/* auth.upstream_failed: our credentials upstream */
	case 505:	/* media.ports_exhausted */
	case 602:	/* tls.cert_expiring: our certificate */
		return 0;
	default:
		return 1;
	}
}

/* Move k's ring forward to bucket b. */
static void
advance(struct key *k, int64_t b)
{
	int64_t steps = b - k->base;

	if (steps <= 0)
		return;
	if (steps > B)
		steps = B;
	for (int64_t a = b - steps + 1; a <= b; a++) {
		size_t s = (size_t)(a % B);

		k->sum -= k->tot[s];
		k->tot[s] = 0;
		for (size_t i = 0; i <= EVTOP_REASONS; i++)
			k->r[i].cnt[s] = 0;
	}
	k->base = b;
}

/* The sum of cnt over the nb buckets up to cur (what of them k holds). */
static uint64_t
window_sum(const struct key *k, const uint32_t cnt[B], int64_t cur,
    int64_t nb)
{
	int64_t lo = cur - nb + 1, hi = cur < k->base ? cur : k->base;
	uint64_t sum = 0;

	if (lo < k->base - B + 1)
		lo = k->base - B + 1;
	if (lo < 0)
		lo = 0;
	for (int64_t a = lo; a <= hi; a++)
		sum += cnt[(size_t)(a % B)];
	return sum;
}

static void
add_sat(uint32_t *c, uint64_t n)
{
	*c = n > UINT32_MAX - *c ? UINT32_MAX : *c + (uint32_t)n;
}

/*
 * The key named name, made (in a free place, or the smallest's) if
 * needed.  The smallest is judged by the sum of its whole ring, 0 when
 * all of it is older than the window: a key not counted for a while
 * may look bigger than it is, by what its oldest buckets held, which
 * errs on the side of keeping an offender.  Called for every offence,
 * so one pass over the table, no per-bucket work.
 */
static struct key *
key_get(struct table *t, const char *name, int64_t b)
{
	struct key *free_k = NULL, *min = NULL;
	uint64_t min_sum = UINT64_MAX, h = sw_hash(name, strlen(name));

	for (size_t i = 0; i < EVTOP_KEYS; i++) {
		struct key *k = &t->k[i];
		uint64_t s;

		if (!k->used) {
			if (free_k == NULL)
				free_k = k;
			continue;
		}
		if (k->h == h && strcmp(k->name, name) == 0)
			return k;
		if (free_k == NULL && (s = k->base <= b - B ? 0 : k->sum) <
		    min_sum) {
			min_sum = s;
			min = k;
		}
	}
	if (free_k == NULL)
		free_k = min;
	memset(free_k, 0, sizeof(*free_k));
	free_k->used = 1;
	free_k->h = h;
	free_k->base = b;
	snprintf(free_k->name, sizeof(free_k->name), "%s", name);
	return free_k;
}

static struct reason *
reason_get(struct key *k, const char *type)
{
	struct reason *spare = NULL;

	for (size_t i = 0; i < EVTOP_REASONS; i++)
		if (k->r[i].name[0] != '\0' && strcmp(k->r[i].name, type) == 0)
			return &k->r[i];
	/* a new kind: a free place, or one with nothing left in the ring */
	for (size_t i = 0; i < EVTOP_REASONS && spare == NULL; i++)
		if (k->r[i].name[0] == '\0' ||
		    window_sum(k, k->r[i].cnt, k->base, B) == 0)
			spare = &k->r[i];
	if (spare == NULL || strlen(type) > EVTOP_REASON_MAX)
		return &k->r[EVTOP_REASONS];
	memset(spare, 0, sizeof(*spare));
	memcpy(spare->name, type, strlen(type) + 1);
	return spare;
}

static void
count(struct table *t, const char *name, const struct evring_ev *ev,
    uint64_t n)
{
	int64_t b = ev->ms / EVTOP_BUCKET_MS;
	struct key *k = key_get(t, name, b);
	size_t s;

	if (b <= k->base - B)
		return;		/* older than the ring */
	advance(k, b);
	s = (size_t)(b % B);
	n = n > UINT32_MAX - k->tot[s] ? UINT32_MAX - k->tot[s] : n;
	k->tot[s] += (uint32_t)n;
	k->sum += n;
	add_sat(&reason_get(k, ev->type)->cnt[s], n);
	if (ev->ms > k->last_ms)
		k->last_ms = ev->ms;
}

/* A peer's account name as printable ASCII ('?' for anything else). */
static void
name_of(const char *s, char *buf, size_t cap)
{
	size_t n = 0;

	for (; s[n] != '\0' && n + 1 < cap; n++)
		buf[n] = s[n] > 0x20 && s[n] < 0x7f ? s[n] : '?';
	buf[n] = '\0';
}

void
evtop_feed(struct evtop *t, const struct evring_ev *ev)
{
	char name[EVTOP_KEY_MAX + 1];
	uint64_t n = 1 + ev->suppressed;

	if (t == NULL || ev->ms < 0 || ev->type == NULL ||
	    !evtop_is_offence(ev))
		return;
	pthread_mutex_lock(&t->mu);
	if (ev->src.sa.sa_family == AF_INET ||
	    ev->src.sa.sa_family == AF_INET6)
		count(&t->src, sw_addr_ip_str(&ev->src, name, sizeof(name)),
		    ev, n);
	if (ev->account != NULL && ev->account[0] != '\0') {
		name_of(ev->account, name, sizeof(name));
		count(&t->acct, name, ev, n);
	}
	pthread_mutex_unlock(&t->mu);
}

struct rank {
	const struct key	*k;
	uint64_t		 n;
};

static int
rank_cmp(const void *x, const void *y)
{
	const struct rank *a = x, *b = y;

	if (a->n != b->n)
		return a->n < b->n ? 1 : -1;
	return strcmp(a->k->name, b->k->name);
}

static json_t *
table_json(const struct table *t, const char *what, int64_t cur, int64_t nb,
    size_t max)
{
	struct rank rk[EVTOP_KEYS];
	size_t n = 0;
	json_t *arr = json_array();

	if (arr == NULL)
		return NULL;
	for (size_t i = 0; i < EVTOP_KEYS; i++) {
		const struct key *k = &t->k[i];
		uint64_t s;

		if (k->used && (s = window_sum(k, k->tot, cur, nb)) > 0)
			rk[n++] = (struct rank){ .k = k, .n = s };
	}
	qsort(rk, n, sizeof(rk[0]), rank_cmp);
	for (size_t i = 0; i < n && i < max; i++) {
		const struct key *k = rk[i].k;
		json_t *rs = json_object(), *o;

		for (size_t j = 0; rs != NULL && j <= EVTOP_REASONS; j++) {
			uint64_t c = window_sum(k, k->r[j].cnt, cur, nb);

			if (c > 0)
				json_object_set_new(rs, j < EVTOP_REASONS ?
				    k->r[j].name : "other",
				    json_integer((json_int_t)c));
		}
		o = json_pack("{s:s, s:I, s:o*, s:I}", what, k->name,
		    "count", (json_int_t)rk[i].n, "reasons", rs,
		    "last_ms", (json_int_t)k->last_ms);
		if (o == NULL || json_array_append_new(arr, o) < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

json_t *
evtop_json(struct evtop *t, int64_t now_ms, unsigned window_s, size_t n)
{
	int64_t cur = now_ms / EVTOP_BUCKET_MS;
	int64_t nb = ((int64_t)window_s * 1000 + EVTOP_BUCKET_MS - 1) /
	    EVTOP_BUCKET_MS;
	json_t *src, *acct;

	if (nb < 1)
		nb = 1;
	if (nb > B)
		nb = B;
	if (n > EVTOP_KEYS)
		n = EVTOP_KEYS;
	pthread_mutex_lock(&t->mu);
	src = table_json(&t->src, "src", cur, nb, n);
	acct = table_json(&t->acct, "account", cur, nb, n);
	pthread_mutex_unlock(&t->mu);
	if (src == NULL || acct == NULL) {
		json_decref(src);
		json_decref(acct);
		return NULL;
	}
	return json_pack("{s:I, s:o, s:o}", "window_s",
	    (json_int_t)(nb * EVTOP_BUCKET_MS / 1000), "sources", src,
	    "accounts", acct);
}
