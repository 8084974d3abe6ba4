/*
 * Per-account failure windows and locks (see bruteforce.h).  Bucket and
 * source tags are 32-bit bucket numbers; an entry untouched for a whole
 * window is wiped on its next use, so every stored tag is within
 * BF_BUCKETS of the current one and 32-bit differences are exact.
 */
#include <errno.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "policy/bruteforce.h"
#include "policy/cidr.h"
#include "policy/ptab.h"

struct bf_src {
	uint32_t	h;		/* low bits of the keyed hash */
	uint32_t	tag;		/* bucket number last seen */
};

struct bf_trust {
	uint64_t	h;
	uint64_t	last_ms;	/* 0: empty */
};

struct bf_entry {
	uint64_t	last_epoch;	/* bucket number of the last failure */
	uint64_t	locked_until;
	uint64_t	total;
	uint32_t	cnt[BF_BUCKETS];
	uint32_t	tag[BF_BUCKETS];
	struct bf_src	src[BF_SOURCES];
	uint32_t	nsrc;
	uint32_t	locks;
	struct bf_trust	trust[BF_TRUSTED];
	uint8_t		ref;
	uint8_t		klen;
	uint8_t		key[BF_KEY_MAX];
};

struct bf_stripe {
	alignas(64) pthread_mutex_t mu;
	struct ptab	 idx;
	struct bf_entry	*e;
	uint32_t	 hand;
	uint64_t	 failures, locks, evicted, refused;
};

struct bf_table {
	struct bf_stripe *s;
	uint32_t	  nstripes;
	unsigned	  shift;
	uint32_t	  per_stripe;
	uint32_t	  bucket_ms;
	_Atomic uint32_t  threshold;	/* bf_set_limits */
	_Atomic uint32_t  lock_ms;
	uint64_t	  trust_ms;
};

int
bf_new(const struct bf_conf *conf, struct bf_table **ret_tbl)
{
	struct bf_table *t;
	uint32_t ns = conf->stripes ? conf->stripes : BF_DEFAULT_STRIPES;
	uint32_t window = conf->window_ms ? conf->window_ms :
	    BF_DEFAULT_WINDOW_MS;
	unsigned bits = 0;
	int r = 0;

	if (conf->capacity == 0 || conf->capacity > BF_MAX_CAPACITY ||
	    ns > BF_MAX_STRIPES || (ns & (ns - 1)) != 0 ||
	    window < BF_BUCKETS)
		return -EINVAL;
	while (ns > conf->capacity)
		ns >>= 1;
	while ((1u << bits) < ns)
		bits++;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -ENOMEM;
	t->nstripes = ns;
	t->shift = 64 - bits;
	t->per_stripe = (conf->capacity + ns - 1) / ns;
	t->bucket_ms = (window + BF_BUCKETS - 1) / BF_BUCKETS;
	t->threshold = conf->threshold ? conf->threshold :
	    BF_DEFAULT_THRESHOLD;
	t->lock_ms = conf->lock_ms ? conf->lock_ms : BF_DEFAULT_LOCK_MS;
	t->trust_ms = conf->trust_ms ? conf->trust_ms : BF_DEFAULT_TRUST_MS;
	t->s = aligned_alloc(alignof(struct bf_stripe), ns * sizeof(*t->s));
	if (t->s == NULL) {
		free(t);
		return -ENOMEM;
	}
	memset(t->s, 0, ns * sizeof(*t->s));
	for (uint32_t i = 0; i < ns; i++)
		pthread_mutex_init(&t->s[i].mu, NULL);
	for (uint32_t i = 0; i < ns; i++) {
		struct bf_stripe *s = &t->s[i];

		if ((r = ptab_init(&s->idx, t->per_stripe)) < 0 ||
		    (s->e = calloc(t->per_stripe, sizeof(*s->e))) == NULL) {
			bf_free(t);
			return r < 0 ? r : -ENOMEM;
		}
	}
	*ret_tbl = t;
	return 0;
}

void
bf_set_limits(struct bf_table *t, uint32_t threshold, uint32_t lock_ms)
{
	atomic_store_explicit(&t->threshold, threshold ? threshold :
	    BF_DEFAULT_THRESHOLD, memory_order_relaxed);
	atomic_store_explicit(&t->lock_ms, lock_ms ? lock_ms :
	    BF_DEFAULT_LOCK_MS, memory_order_relaxed);
}

void
bf_free(struct bf_table *t)
{
	if (t == NULL)
		return;
	for (uint32_t i = 0; i < t->nstripes; i++) {
		ptab_clear(&t->s[i].idx);
		free(t->s[i].e);
		pthread_mutex_destroy(&t->s[i].mu);
	}
	free(t->s);
	free(t);
}

static struct bf_stripe *
stripe_of(struct bf_table *t, uint64_t h)
{
	return &t->s[t->nstripes > 1 ? h >> t->shift : 0];
}

static uint32_t
find(const struct bf_stripe *s, struct slice k, uint64_t h)
{
	uint32_t i;

	for (i = ptab_first(&s->idx, h); i != PTAB_NIL;
	    i = ptab_next(&s->idx, i, h))
		if (s->e[i].klen == k.len &&
		    memcmp(s->e[i].key, k.p, k.len) == 0)
			break;
	return i;
}

/* Failures in the window ending with bucket ep. */
static uint32_t
window_sum(const struct bf_entry *e, uint64_t ep)
{
	uint64_t sum = 0;

	if (ep < e->last_epoch)
		ep = e->last_epoch;
	if (ep - e->last_epoch >= BF_BUCKETS)
		return 0;
	for (unsigned b = 0; b < BF_BUCKETS; b++)
		if ((uint32_t)((uint32_t)ep - e->tag[b]) < BF_BUCKETS)
			sum += e->cnt[b];
	return sum > UINT32_MAX ? UINT32_MAX : (uint32_t)sum;
}

static uint32_t
window_sources(const struct bf_entry *e, uint64_t ep)
{
	uint32_t n = 0;

	if (ep < e->last_epoch)
		ep = e->last_epoch;
	if (ep - e->last_epoch >= BF_BUCKETS)
		return 0;
	for (uint32_t i = 0; i < e->nsrc; i++)
		if ((uint32_t)((uint32_t)ep - e->src[i].tag) < BF_BUCKETS)
			n++;
	return n;
}

static void
window_clear(struct bf_entry *e)
{
	memset(e->cnt, 0, sizeof(e->cnt));
	memset(e->tag, 0, sizeof(e->tag));
	memset(e->src, 0, sizeof(e->src));
	e->nsrc = 0;
}

static int
trusted_any(const struct bf_entry *e, uint64_t now, uint64_t trust_ms)
{
	for (unsigned i = 0; i < BF_TRUSTED; i++)
		if (e->trust[i].last_ms != 0 && now >= e->trust[i].last_ms &&
		    now - e->trust[i].last_ms < trust_ms)
			return 1;
	return 0;
}

static int
entry_idle(const struct bf_table *t, const struct bf_entry *e, uint64_t now)
{
	return e->locked_until <= now &&
	    window_sum(e, now / t->bucket_ms) == 0 &&
	    !trusted_any(e, now, t->trust_ms);
}

/* Room in a full stripe; PTAB_NIL when every entry is locked. */
static uint32_t
clock_victim(struct bf_table *t, struct bf_stripe *s, uint64_t now)
{
	uint32_t cap = s->idx.cap;

	for (uint64_t step = 0; step < 2 * (uint64_t)cap; step++) {
		uint32_t i = s->hand;
		struct bf_entry *e = &s->e[i];

		s->hand = i + 1 < cap ? i + 1 : 0;
		if (e->locked_until > now)
			continue;
		if (entry_idle(t, e, now) || !e->ref)
			return i;
		e->ref = 0;
	}
	return PTAB_NIL;
}

/* Find or add account's entry (stripe lock held). */
static struct bf_entry *
get(struct bf_table *t, struct bf_stripe *s, struct slice account,
    uint64_t h, uint64_t now, int add)
{
	struct bf_entry *e;
	uint32_t i;

	if ((i = find(s, account, h)) != PTAB_NIL) {
		s->e[i].ref = 1;
		return &s->e[i];
	}
	if (!add)
		return NULL;
	if (ptab_full(&s->idx)) {
		if ((i = clock_victim(t, s, now)) == PTAB_NIL)
			return NULL;
		ptab_del(&s->idx, i);
		s->evicted++;
	}
	i = ptab_add(&s->idx, h);
	e = &s->e[i];
	memset(e, 0, sizeof(*e));
	e->klen = (uint8_t)account.len;
	memcpy(e->key, account.p, account.len);
	return e;
}

/* Source identity: the host, or for IPv6 its prefix of length plen6. */
static uint64_t
src_hash(const union sw_addr *src, unsigned plen6)
{
	struct cidr c;
	uint8_t b[16];
	int af;

	memset(&c, 0, sizeof(c));
	if ((af = cidr_addr_norm(src, b)) > 0)
		cidr_from_addr(src, af == AF_INET ? 32 : plen6, &c);
	return sw_hash(&c, sizeof(c));
}

static void
fill(const struct bf_table *t, const struct bf_entry *e, uint64_t now,
    struct bf_result *r)
{
	uint64_t ep = now / t->bucket_ms;

	r->locked = e->locked_until > now;
	r->locked_until = r->locked ? e->locked_until : 0;
	r->failures = window_sum(e, ep);
	r->sources = window_sources(e, ep);
	r->locks = e->locks;
	r->total = e->total;
}

int
bf_failure(struct bf_table *t, struct slice account,
    const union sw_addr *src, uint64_t now_ms, struct bf_result *ret)
{
	uint64_t h, ep = now_ms / t->bucket_ms;
	uint32_t sh, b, oldest;
	struct bf_stripe *s;
	struct bf_entry *e;
	struct bf_result res;
	unsigned i;

	if (account.len == 0 || account.len > BF_KEY_MAX)
		return -SBC_ELIMIT;
	h = sw_hash(account.p, account.len);
	sh = (uint32_t)src_hash(src, 64);
	s = stripe_of(t, h);
	memset(&res, 0, sizeof(res));
	pthread_mutex_lock(&s->mu);
	if ((e = get(t, s, account, h, now_ms, 1)) == NULL) {
		s->refused++;
		pthread_mutex_unlock(&s->mu);
		return -SBC_EFULL;
	}
	if (ep < e->last_epoch)		/* clock went back: stay put */
		ep = e->last_epoch;
	if (ep - e->last_epoch >= BF_BUCKETS)
		window_clear(e);
	e->last_epoch = ep;
	b = (uint32_t)(ep % BF_BUCKETS);
	if (e->tag[b] != (uint32_t)ep || e->cnt[b] == 0) {
		e->tag[b] = (uint32_t)ep;
		e->cnt[b] = 0;
	}
	if (e->cnt[b] < UINT32_MAX)
		e->cnt[b]++;
	e->total++;
	s->failures++;
	/* Distinct sources: refresh, add, or replace the stalest. */
	for (i = 0; i < e->nsrc; i++)
		if (e->src[i].h == sh)
			break;
	if (i == e->nsrc && e->nsrc < BF_SOURCES)
		e->nsrc++;
	else if (i == e->nsrc) {
		oldest = 0;
		for (i = 1; i < e->nsrc; i++)
			if ((uint32_t)((uint32_t)ep - e->src[i].tag) >
			    (uint32_t)((uint32_t)ep - e->src[oldest].tag))
				oldest = i;
		i = oldest;
	}
	e->src[i].h = sh;
	e->src[i].tag = (uint32_t)ep;
	fill(t, e, now_ms, &res);
	if (!res.locked && res.failures >= atomic_load_explicit(&t->threshold,
	    memory_order_relaxed)) {
		e->locked_until = now_ms + atomic_load_explicit(&t->lock_ms,
		    memory_order_relaxed);
		e->locks++;
		s->locks++;
		fill(t, e, now_ms, &res);
		res.locked_now = 1;
		/* The evidence goes out in this result; the window starts
		 * over so the lock's end needs a new threshold. */
		window_clear(e);
	}
	pthread_mutex_unlock(&s->mu);
	if (ret != NULL)
		*ret = res;
	return res.locked;
}

int
bf_success(struct bf_table *t, struct slice account,
    const union sw_addr *src, uint64_t now_ms)
{
	struct bf_stripe *s;
	struct bf_entry *e;
	uint64_t h, sh;
	unsigned i, slot = 0;

	if (account.len == 0 || account.len > BF_KEY_MAX)
		return -SBC_ELIMIT;
	h = sw_hash(account.p, account.len);
	sh = src_hash(src, 128);
	s = stripe_of(t, h);
	pthread_mutex_lock(&s->mu);
	if ((e = get(t, s, account, h, now_ms, 1)) == NULL) {
		s->refused++;
		pthread_mutex_unlock(&s->mu);
		return -SBC_EFULL;
	}
	/* Same source again, else the least recently trusted slot. */
	for (i = 0; i < BF_TRUSTED; i++) {
		if (e->trust[i].last_ms != 0 && e->trust[i].h == sh) {
			slot = i;
			break;
		}
		if (e->trust[i].last_ms < e->trust[slot].last_ms)
			slot = i;
	}
	e->trust[slot].h = sh;
	e->trust[slot].last_ms = now_ms ? now_ms : 1;
	pthread_mutex_unlock(&s->mu);
	return 0;
}

static int
locked(struct bf_table *t, struct slice account, const union sw_addr *src,
    uint64_t now_ms, uint64_t *ret_until)
{
	struct bf_stripe *s;
	struct bf_entry *e;
	uint64_t h, sh = 0, until = 0;
	int r = 0;

	if (account.len == 0 || account.len > BF_KEY_MAX)
		return 0;
	h = sw_hash(account.p, account.len);
	if (src != NULL)
		sh = src_hash(src, 128);
	s = stripe_of(t, h);
	pthread_mutex_lock(&s->mu);
	if ((e = get(t, s, account, h, now_ms, 0)) != NULL &&
	    e->locked_until > now_ms) {
		r = 1;
		until = e->locked_until;
		for (unsigned i = 0; src != NULL && i < BF_TRUSTED; i++)
			if (e->trust[i].last_ms != 0 && e->trust[i].h == sh &&
			    now_ms >= e->trust[i].last_ms &&
			    now_ms - e->trust[i].last_ms < t->trust_ms)
				r = 0;
	}
	pthread_mutex_unlock(&s->mu);
	if (r && ret_until != NULL)
		*ret_until = until;
	return r;
}

int
bf_is_locked(struct bf_table *t, struct slice account, uint64_t now_ms,
    uint64_t *ret_until)
{
	return locked(t, account, NULL, now_ms, ret_until);
}

int
bf_is_locked_src(struct bf_table *t, struct slice account,
    const union sw_addr *src, uint64_t now_ms, uint64_t *ret_until)
{
	return locked(t, account, src, now_ms, ret_until);
}

int
bf_unlock(struct bf_table *t, struct slice account)
{
	struct bf_stripe *s;
	struct bf_entry *e;
	uint64_t h;

	if (account.len == 0 || account.len > BF_KEY_MAX)
		return -SBC_ENOTFOUND;
	h = sw_hash(account.p, account.len);
	s = stripe_of(t, h);
	pthread_mutex_lock(&s->mu);
	if ((e = get(t, s, account, h, 0, 0)) != NULL) {
		e->locked_until = 0;
		window_clear(e);
	}
	pthread_mutex_unlock(&s->mu);
	return e != NULL ? 0 : -SBC_ENOTFOUND;
}

int
bf_foreach_locked(struct bf_table *t, uint64_t now_ms, bf_locked_fn *fn,
    void *arg)
{
	uint8_t key[BF_KEY_MAX];
	struct bf_result res;
	size_t klen;
	int r;

	for (uint32_t si = 0; si < t->nstripes; si++) {
		struct bf_stripe *s = &t->s[si];

		for (uint32_t i = 0; i < s->idx.cap; i++) {
			int hit = 0;

			pthread_mutex_lock(&s->mu);
			if (ptab_live(&s->idx, i) &&
			    s->e[i].locked_until > now_ms) {
				hit = 1;
				memset(&res, 0, sizeof(res));
				fill(t, &s->e[i], now_ms, &res);
				klen = s->e[i].klen;
				memcpy(key, s->e[i].key, klen);
			}
			pthread_mutex_unlock(&s->mu);
			if (hit && (r = fn(arg, slice_make(key, klen),
			    &res)) != 0)
				return r;
		}
	}
	return 0;
}

void
bf_stats(struct bf_table *t, uint64_t now_ms, struct bf_stats *ret)
{
	struct bf_stats sum;

	memset(&sum, 0, sizeof(sum));
	for (uint32_t si = 0; si < t->nstripes; si++) {
		struct bf_stripe *s = &t->s[si];

		pthread_mutex_lock(&s->mu);
		sum.failures += s->failures;
		sum.locks += s->locks;
		sum.evicted += s->evicted;
		sum.refused_full += s->refused;
		sum.entries += s->idx.used;
		sum.capacity += s->idx.cap;
		for (uint32_t i = 0; i < s->idx.cap; i++)
			if (ptab_live(&s->idx, i) &&
			    s->e[i].locked_until > now_ms)
				sum.locked++;
		pthread_mutex_unlock(&s->mu);
	}
	*ret = sum;
}
