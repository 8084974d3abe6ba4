/*
 * Token buckets in a striped, fixed-capacity table (see ratelimit.h
 * for the arithmetic, the locking and the eviction rule).
 */
#include <errno.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "policy/cidr.h"
#include "policy/ptab.h"
#include "policy/ratelimit.h"

struct rl_entry {
	uint64_t	utokens;	/* micro-tokens at last_ms */
	uint64_t	last_ms;
	uint64_t	full_ms;	/* when the bucket is full again */
	uint64_t	excess_start;	/* start of the excess window */
	uint32_t	excess;
	uint8_t		ref;		/* CLOCK reference bit */
	uint8_t		klen;
	uint8_t		key[RL_KEY_MAX];
};

struct rl_stripe {
	alignas(64) pthread_mutex_t mu;
	struct ptab	 idx;
	struct rl_entry	*e;
	uint32_t	 hand;
	struct rl_stats	 st;
};

struct rl_table {
	struct rl_stripe *s;
	uint32_t	  nstripes;
	unsigned	  shift;	/* 64 - log2(nstripes) */
	uint32_t	  per_stripe;
	uint32_t	  window_ms;
};

int
rl_new(const struct rl_conf *conf, struct rl_table **ret_tbl)
{
	struct rl_table *t;
	uint32_t ns = conf->stripes ? conf->stripes : RL_DEFAULT_STRIPES;
	unsigned bits = 0;
	int r;

	if (conf->capacity == 0 || conf->capacity > RL_MAX_CAPACITY ||
	    ns > RL_MAX_STRIPES || (ns & (ns - 1)) != 0)
		return -EINVAL;
	/* Every stripe gets at least one slot. */
	while (ns > conf->capacity)
		ns >>= 1;
	while ((1u << bits) < ns)
		bits++;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -ENOMEM;
	t->nstripes = ns;
	t->shift = 64 - bits;
	t->per_stripe = (conf->capacity + ns - 1) / ns;
	t->window_ms = conf->window_ms ? conf->window_ms : RL_DEFAULT_WINDOW_MS;
	t->s = aligned_alloc(alignof(struct rl_stripe), ns * sizeof(*t->s));
	if (t->s == NULL) {
		free(t);
		return -ENOMEM;
	}
	memset(t->s, 0, ns * sizeof(*t->s));
	for (uint32_t i = 0; i < ns; i++)
		pthread_mutex_init(&t->s[i].mu, NULL);
	for (uint32_t i = 0; i < ns; i++) {
		struct rl_stripe *s = &t->s[i];

		s->st.capacity = t->per_stripe;
		if ((r = ptab_init(&s->idx, t->per_stripe)) < 0 ||
		    (s->e = calloc(t->per_stripe, sizeof(*s->e))) == NULL) {
			rl_free(t);
			return r < 0 ? r : -ENOMEM;
		}
	}
	*ret_tbl = t;
	return 0;
}

void
rl_free(struct rl_table *t)
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

/* --- keys --- */

static int
key_addr(struct rl_key *k, enum rl_kind kind, const union sw_addr *a,
    unsigned plen4, unsigned plen6)
{
	uint8_t b[16];
	int af;

	if ((af = cidr_addr_norm(a, b)) < 0)
		return af;
	k->b[0] = (uint8_t)kind;
	if (af == AF_INET) {
		cidr_mask_bytes(b, plen4);
		k->b[1] = 4;
		memcpy(k->b + 2, b, 4);
		k->len = 6;
	} else {
		cidr_mask_bytes(b, plen6);
		k->b[1] = 6;
		memcpy(k->b + 2, b, 16);
		k->len = 18;
	}
	return 0;
}

/* Append s inline (tag 0, length, bytes) or as its hash (tag 1). */
static void
key_append(struct rl_key *k, struct slice s)
{
	size_t room = RL_KEY_MAX - k->len;

	if (s.len + 2 <= room) {
		k->b[k->len++] = 0;
		k->b[k->len++] = (uint8_t)s.len;
		if (s.len > 0)
			memcpy(k->b + k->len, s.p, s.len);
		k->len = (uint8_t)(k->len + s.len);
	} else {
		uint64_t h = sw_hash(s.p, s.len);

		k->b[k->len++] = 1;
		for (int i = 0; i < 8; i++)
			k->b[k->len++] = (uint8_t)(h >> (8 * i));
	}
}

int
rl_key_src(struct rl_key *k, const union sw_addr *a)
{
	return key_addr(k, RL_K_SRC, a, 32, 128);
}

int
rl_key_prefix(struct rl_key *k, const union sw_addr *a)
{
	return key_addr(k, RL_K_PREFIX, a, RL_PREFIX4, RL_PREFIX6);
}

int
rl_key_account(struct rl_key *k, struct slice account)
{
	k->b[0] = RL_K_ACCOUNT;
	k->len = 1;
	key_append(k, account);
	return 0;
}

int
rl_key_src_account(struct rl_key *k, const union sw_addr *a,
    struct slice account)
{
	int r;

	if ((r = key_addr(k, RL_K_SRC_ACCOUNT, a, 32, 128)) < 0)
		return r;
	key_append(k, account);
	return 0;
}

int
rl_key_src_method(struct rl_key *k, const union sw_addr *a,
    struct slice method)
{
	int r;

	if ((r = key_addr(k, RL_K_SRC_METHOD, a, 32, 128)) < 0)
		return r;
	key_append(k, method);
	return 0;
}

/* --- buckets --- */

static uint64_t
bucket_cap(const struct rl_rate *rate)
{
	return (uint64_t)rate->burst * RL_UTOKEN;
}

/* ms until the bucket holds need micro-tokens more; UINT64_MAX never. */
static uint64_t
ms_for(uint64_t need, uint32_t rate_milli)
{
	if (need == 0)
		return 0;
	if (rate_milli == 0)
		return UINT64_MAX;
	return (need + rate_milli - 1) / rate_milli;
}

static void
refill(struct rl_entry *e, const struct rl_rate *rate, uint64_t now)
{
	uint64_t cap = bucket_cap(rate), dt;

	if (e->utokens > cap)		/* the burst was lowered */
		e->utokens = cap;
	if (now <= e->last_ms)
		return;
	dt = now - e->last_ms;
	e->last_ms = now;
	if (rate->rate_milli == 0 || e->utokens == cap)
		return;
	if (dt >= ms_for(cap - e->utokens, rate->rate_milli))
		e->utokens = cap;
	else
		e->utokens += (uint64_t)rate->rate_milli * dt;
}

static int
entry_idle(const struct rl_entry *e, uint64_t now, uint32_t window)
{
	return now >= e->full_ms && (e->excess == 0 ||
	    (now >= e->excess_start && now - e->excess_start >= window));
}

/* Pick a victim slot in a full stripe; see ratelimit.h. */
static uint32_t
clock_victim(struct rl_stripe *s, uint64_t now, uint32_t window)
{
	uint32_t cap = s->idx.cap;

	for (uint64_t step = 0; step < 2 * (uint64_t)cap + 1; step++) {
		uint32_t i = s->hand;
		struct rl_entry *e = &s->e[i];

		s->hand = i + 1 < cap ? i + 1 : 0;
		if (entry_idle(e, now, window)) {
			s->st.evicted_idle++;
			return i;
		}
		if (!e->ref) {
			s->st.evicted_active++;
			return i;
		}
		e->ref = 0;
	}
	/* Unreachable: the first round clears every bit. */
	s->st.evicted_active++;
	return s->hand;
}

static struct rl_stripe *
stripe_of(struct rl_table *t, uint64_t h)
{
	return &t->s[t->nstripes > 1 ? h >> t->shift : 0];
}

static uint32_t
find(struct rl_stripe *s, const struct rl_key *k, uint64_t h)
{
	uint32_t i;

	for (i = ptab_first(&s->idx, h); i != PTAB_NIL;
	    i = ptab_next(&s->idx, i, h))
		if (s->e[i].klen == k->len &&
		    memcmp(s->e[i].key, k->b, k->len) == 0)
			break;
	return i;
}

int
rl_take(struct rl_table *t, const struct rl_key *k,
    const struct rl_rate *rate, uint32_t cost, uint64_t now_ms,
    struct rl_result *ret)
{
	uint64_t h = sw_hash(k->b, k->len), ucost, wait;
	struct rl_stripe *s = stripe_of(t, h);
	struct rl_result res;
	struct rl_entry *e;
	uint32_t i;

	memset(&res, 0, sizeof(res));
	ucost = (uint64_t)cost * RL_UTOKEN;
	pthread_mutex_lock(&s->mu);
	s->st.checks++;
	if ((i = find(s, k, h)) != PTAB_NIL) {
		e = &s->e[i];
		e->ref = 1;
		refill(e, rate, now_ms);
	} else {
		if (ptab_full(&s->idx))
			ptab_del(&s->idx, clock_victim(s, now_ms, t->window_ms));
		i = ptab_add(&s->idx, h);
		e = &s->e[i];
		memset(e, 0, sizeof(*e));
		e->klen = k->len;
		memcpy(e->key, k->b, k->len);
		e->utokens = bucket_cap(rate);
		e->last_ms = now_ms;
		s->st.inserted++;
		res.fresh = 1;
	}
	if (e->excess != 0 && now_ms >= e->excess_start &&
	    now_ms - e->excess_start >= t->window_ms)
		e->excess = 0;
	if (e->utokens >= ucost && ucost <= bucket_cap(rate)) {
		e->utokens -= ucost;
		res.allowed = 1;
		s->st.allowed++;
	} else {
		if (e->excess == 0)
			e->excess_start = now_ms;
		if (e->excess < UINT32_MAX)
			e->excess++;
		s->st.denied++;
		wait = ucost > bucket_cap(rate) ? UINT64_MAX :
		    ms_for(ucost - e->utokens, rate->rate_milli);
		res.retry_ms = wait > UINT32_MAX ? UINT32_MAX : (uint32_t)wait;
	}
	res.excess = e->excess;
	res.tokens = (uint32_t)(e->utokens / RL_UTOKEN);
	wait = ms_for(bucket_cap(rate) - e->utokens, rate->rate_milli);
	e->full_ms = wait > UINT64_MAX - now_ms ? UINT64_MAX : now_ms + wait;
	pthread_mutex_unlock(&s->mu);
	if (ret != NULL)
		*ret = res;
	return res.allowed;
}

void
rl_give(struct rl_table *t, const struct rl_key *k, const struct rl_rate *rate,
    uint32_t n, uint64_t now_ms)
{
	uint64_t h = sw_hash(k->b, k->len), cap = bucket_cap(rate);
	struct rl_stripe *s = stripe_of(t, h);
	struct rl_entry *e;
	uint32_t i;

	pthread_mutex_lock(&s->mu);
	if ((i = find(s, k, h)) != PTAB_NIL) {
		e = &s->e[i];
		refill(e, rate, now_ms);
		e->utokens += (uint64_t)n * RL_UTOKEN;
		if (e->utokens > cap)
			e->utokens = cap;
	}
	pthread_mutex_unlock(&s->mu);
}

int
rl_forget(struct rl_table *t, const struct rl_key *k)
{
	uint64_t h = sw_hash(k->b, k->len);
	struct rl_stripe *s = stripe_of(t, h);
	uint32_t i;

	pthread_mutex_lock(&s->mu);
	if ((i = find(s, k, h)) != PTAB_NIL)
		ptab_del(&s->idx, i);
	pthread_mutex_unlock(&s->mu);
	return i != PTAB_NIL;
}

void
rl_stats(struct rl_table *t, struct rl_stats *ret)
{
	struct rl_stats sum;

	memset(&sum, 0, sizeof(sum));
	for (uint32_t i = 0; i < t->nstripes; i++) {
		struct rl_stripe *s = &t->s[i];

		pthread_mutex_lock(&s->mu);
		sum.checks += s->st.checks;
		sum.allowed += s->st.allowed;
		sum.denied += s->st.denied;
		sum.inserted += s->st.inserted;
		sum.evicted_idle += s->st.evicted_idle;
		sum.evicted_active += s->st.evicted_active;
		sum.capacity += s->st.capacity;
		sum.entries += s->idx.used;
		pthread_mutex_unlock(&s->mu);
	}
	*ret = sum;
}
