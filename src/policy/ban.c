/*
 * The ban table (see ban.h for the rules).  Layout: power-of-two
 * stripes chosen by the top bits of the keyed hash of the normalized
 * struct cidr key; each stripe is a ptab plus a slot array under one
 * writer-preferring rwlock.  Besides the stripes, a bitmap per family
 * tells ban_check() which prefix lengths any entry uses; the per-length
 * counts behind it change only under the meta mutex (ban, unban,
 * sweep: never the packet path), and a bit is set before the entry it
 * stands for becomes visible and cleared after the last such entry is
 * gone, so a reader never skips a length that holds a ban.
 */
#include <errno.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "policy/ban.h"
#include "policy/ptab.h"

struct ban_slot {
	struct ban_entry	e;		/* e.hits unused: see hits */
	_Atomic uint64_t	hits;
	uint8_t			state;		/* enum ban_state */
};

struct stripe_stats {
	uint64_t	added, escalated, merged, refused_full, recycled;
	uint64_t	expired, forgotten;
};

struct ban_stripe {
	alignas(64) pthread_rwlock_t lk;
	struct ptab		 idx;
	struct ban_slot		*v;
	uint64_t		 next_due;	/* earliest until / forget */
	uint64_t		 allow_gen;	/* allow list seen by sweep */
	uint32_t		 nactive;
	struct stripe_stats	 st;
	_Atomic uint64_t	 hits;
};

struct ban_table {
	struct ban_stripe	*s;
	uint32_t		 nstripes;
	unsigned		 shift;
	uint32_t		 per_stripe;
	/* escalation: a reload may change it (ban_set_escalation) */
	_Atomic uint64_t	 first_ms, max_ms;
	_Atomic uint32_t	 factor;
	uint64_t		 forget_ms;
	_Atomic(const struct acl *) allow;
	_Atomic uint64_t	 allow_gen;
	_Atomic uint64_t	 overrides;
	_Atomic uint64_t	 refused_allow;
	pthread_mutex_t		 meta;
	uint32_t		 plen_count[2][129];
	_Atomic uint64_t	 inuse[2][3];	/* bit plen set: in use */
};

static const char *const reason_names[BAN_R_MAX] = {
	[BAN_R_NONE]			= "none",
	[BAN_R_MANUAL]			= "manual",
	[BAN_R_AUTH_FAILURES]		= "auth_failures",
	[BAN_R_RATE_LIMIT]		= "rate_limit",
	[BAN_R_SCANNER]			= "scanner",
	[BAN_R_SCANNER_BEHAVIOUR]	= "scanner_behaviour",
	[BAN_R_BRUTEFORCE]		= "bruteforce",
	[BAN_R_MALFORMED]		= "malformed",
	[BAN_R_CLUSTER]			= "cluster",
};

const char *
ban_reason_name(enum ban_reason r)
{
	if ((unsigned)r >= BAN_R_MAX)
		return "unknown";
	return reason_names[r];
}

enum ban_reason
ban_reason_from_name(struct slice name)
{
	for (unsigned r = BAN_R_MANUAL; r < BAN_R_MAX; r++)
		if (slice_eq(name, slice_cstr(reason_names[r])))
			return (enum ban_reason)r;
	return BAN_R_NONE;
}

const char *
ban_state_name(enum ban_state s)
{
	switch (s) {
	case BAN_S_ACTIVE:	return "active";
	case BAN_S_REMEMBERED:	return "remembered";
	case BAN_S_MAX:		break;
	}
	return "unknown";
}

static uint64_t
add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

int
ban_new(const struct ban_conf *conf, struct ban_table **ret_tbl)
{
	struct ban_table *t;
	pthread_rwlockattr_t ra;
	uint32_t ns = conf->stripes ? conf->stripes : BAN_DEFAULT_STRIPES;
	unsigned bits = 0;
	int r = 0;

	if (conf->capacity == 0 || conf->capacity > BAN_MAX_CAPACITY ||
	    ns > BAN_MAX_STRIPES || (ns & (ns - 1)) != 0)
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
	t->first_ms = conf->first_ms ? conf->first_ms : BAN_DEFAULT_FIRST_MS;
	t->factor = conf->factor ? conf->factor : BAN_DEFAULT_FACTOR;
	t->max_ms = conf->max_ms ? conf->max_ms : BAN_DEFAULT_MAX_MS;
	t->forget_ms = conf->forget_ms ? conf->forget_ms :
	    BAN_DEFAULT_FORGET_MS;
	atomic_init(&t->allow, conf->allow);
	pthread_mutex_init(&t->meta, NULL);
	t->s = aligned_alloc(alignof(struct ban_stripe), ns * sizeof(*t->s));
	if (t->s == NULL) {
		pthread_mutex_destroy(&t->meta);
		free(t);
		return -ENOMEM;
	}
	memset(t->s, 0, ns * sizeof(*t->s));
	pthread_rwlockattr_init(&ra);
	/* Readers are every packet; let the rare writer through. */
	pthread_rwlockattr_setkind_np(&ra,
	    PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	for (uint32_t i = 0; i < ns; i++)
		pthread_rwlock_init(&t->s[i].lk, &ra);
	pthread_rwlockattr_destroy(&ra);
	for (uint32_t i = 0; i < ns; i++) {
		struct ban_stripe *s = &t->s[i];

		if ((r = ptab_init(&s->idx, t->per_stripe)) < 0 ||
		    (s->v = calloc(t->per_stripe, sizeof(*s->v))) == NULL) {
			ban_free(t);
			return r < 0 ? r : -ENOMEM;
		}
		s->next_due = UINT64_MAX;
	}
	*ret_tbl = t;
	return 0;
}

void
ban_free(struct ban_table *t)
{
	if (t == NULL)
		return;
	for (uint32_t i = 0; i < t->nstripes; i++) {
		ptab_clear(&t->s[i].idx);
		free(t->s[i].v);
		pthread_rwlock_destroy(&t->s[i].lk);
	}
	free(t->s);
	pthread_mutex_destroy(&t->meta);
	free(t);
}

void
ban_set_escalation(struct ban_table *t, uint64_t first_ms, uint32_t factor,
    uint64_t max_ms)
{
	atomic_store_explicit(&t->first_ms, first_ms ? first_ms :
	    BAN_DEFAULT_FIRST_MS, memory_order_relaxed);
	atomic_store_explicit(&t->factor, factor ? factor :
	    BAN_DEFAULT_FACTOR, memory_order_relaxed);
	atomic_store_explicit(&t->max_ms, max_ms ? max_ms :
	    BAN_DEFAULT_MAX_MS, memory_order_relaxed);
}

uint64_t
ban_duration(const struct ban_table *t, uint32_t strikes)
{
	/* one read of each: a reload in between mixes two valid sets */
	uint64_t d = atomic_load_explicit(&t->first_ms, memory_order_relaxed);
	uint64_t max = atomic_load_explicit(&t->max_ms, memory_order_relaxed);
	uint32_t f = atomic_load_explicit(&t->factor, memory_order_relaxed);

	if (d >= max)
		return max;
	for (uint32_t i = 1; i < strikes && f > 1; i++) {
		if (d > max / f)
			return max;
		d *= f;
		if (d >= max)
			return max;
	}
	return d;
}

/* --- keys, stripes, the length bitmap --- */

/* Only the bytes that can be non-zero: SipHash is the biggest part of
 * a probe, and 6 bytes take one block where 18 take three. */
static uint64_t
key_hash(const struct cidr *k)
{
	return sw_hash(k, k->af == AF_INET ? 2 + 4 : sizeof(*k));
}

static struct ban_stripe *
stripe_of(struct ban_table *t, uint64_t h)
{
	return &t->s[t->nstripes > 1 ? h >> t->shift : 0];
}

static uint32_t
find(const struct ban_stripe *s, const struct cidr *k, uint64_t h)
{
	uint32_t i;

	for (i = ptab_first(&s->idx, h); i != PTAB_NIL;
	    i = ptab_next(&s->idx, i, h))
		if (memcmp(&s->v[i].e.key, k, sizeof(*k)) == 0)
			break;
	return i;
}

static void
plen_ref(struct ban_table *t, const struct cidr *k, int delta)
{
	int f = k->af == AF_INET6;
	uint32_t *c = &t->plen_count[f][k->plen];
	uint64_t bit = 1ULL << (k->plen % 64);

	pthread_mutex_lock(&t->meta);
	if (delta > 0) {
		if ((*c)++ == 0)
			atomic_fetch_or_explicit(&t->inuse[f][k->plen / 64],
			    bit, memory_order_release);
	} else if (*c > 0) {
		if (--(*c) == 0)
			atomic_fetch_and_explicit(&t->inuse[f][k->plen / 64],
			    ~bit, memory_order_release);
	}
	pthread_mutex_unlock(&t->meta);
}

/* Normalize a caller's key: known family, length in range, host bits
 * cleared, every byte past the family's width zero. */
static int
key_norm(const struct cidr *in, struct cidr *out)
{
	unsigned w = cidr_width(in->af);
	unsigned min = in->af == AF_INET ? BAN_MIN_PLEN4 : BAN_MIN_PLEN6;

	if (w == 0 || in->plen > w || in->plen < min)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->af = in->af;
	out->plen = in->plen;
	memcpy(out->a, in->a, w / 8);
	cidr_mask_bytes(out->a, out->plen);
	return 0;
}

static int
allowlisted(const struct acl *allow, const struct cidr *k)
{
	struct acl_match m;

	if (allow == NULL)
		return 0;
	acl_check_cidr(allow, k, &m);
	return m.why == ACL_W_ALLOW_PREFIX;
}

static void
slot_copy(const struct ban_slot *v, struct ban_entry *ret)
{
	*ret = v->e;
	ret->hits = atomic_load_explicit(&v->hits, memory_order_relaxed);
}

static void
set_evidence(struct ban_entry *e, const struct ban_evidence *ev,
    uint64_t now)
{
	size_t n = ev->sample.len < BAN_SAMPLE_MAX ? ev->sample.len :
	    BAN_SAMPLE_MAX;

	e->reason = ev->reason;
	e->count = ev->count;
	e->first_seen_ms = ev->first_seen_ms ? ev->first_seen_ms : now;
	e->last_seen_ms = ev->last_seen_ms ? ev->last_seen_ms : now;
	e->sample_len = (uint16_t)n;
	memset(e->sample, 0, sizeof(e->sample));
	if (n > 0)
		memcpy(e->sample, ev->sample.p, n);
	memset(e->origin, 0, sizeof(e->origin));
	if (ev->origin != NULL) {
		size_t o = strnlen(ev->origin, BAN_ORIGIN_MAX - 1);

		memcpy(e->origin, ev->origin, o);
	}
}

/*
 * Room in a full stripe: give up the remembered entry closest to being
 * forgotten.  Active bans are never dropped, and neither are bans that
 * ended but were not swept yet (their end still has to be reported).
 */
static uint32_t
recycle(struct ban_table *t, struct ban_stripe *s)
{
	uint32_t best = PTAB_NIL;
	uint64_t best_at = UINT64_MAX, at;

	for (uint32_t i = 0; i < s->idx.cap; i++) {
		if (!ptab_live(&s->idx, i) || s->v[i].state != BAN_S_REMEMBERED)
			continue;
		at = add_sat(s->v[i].e.until_ms, t->forget_ms);
		if (best == PTAB_NIL || at < best_at) {
			best = i;
			best_at = at;
		}
	}
	if (best != PTAB_NIL) {
		plen_ref(t, &s->v[best].e.key, -1);
		ptab_del(&s->idx, best);
		s->st.recycled++;
	}
	return best;
}

/* Take a slot for k (write lock held).  PTAB_NIL when full. */
static uint32_t
slot_new(struct ban_table *t, struct ban_stripe *s, const struct cidr *k,
    uint64_t h)
{
	uint32_t i;

	if (ptab_full(&s->idx) && recycle(t, s) == PTAB_NIL)
		return PTAB_NIL;
	/* The bit goes up before the entry can be found. */
	plen_ref(t, k, +1);
	i = ptab_add(&s->idx, h);
	memset(&s->v[i].e, 0, sizeof(s->v[i].e));
	atomic_store_explicit(&s->v[i].hits, 0, memory_order_relaxed);
	s->v[i].e.key = *k;
	s->v[i].state = BAN_S_REMEMBERED;
	return i;
}

static void
slot_del(struct ban_table *t, struct ban_stripe *s, uint32_t i)
{
	struct cidr k = s->v[i].e.key;

	if (s->v[i].state == BAN_S_ACTIVE)
		s->nactive--;
	ptab_del(&s->idx, i);
	/* And comes down after the entry is gone. */
	plen_ref(t, &k, -1);
}

static void
due(struct ban_stripe *s, uint64_t at)
{
	if (at < s->next_due)
		s->next_due = at;
}

/* --- the packet path --- */

/*
 * Look up a's prefix of length plen.  Returns 1 banned, 0 not there or
 * not active, -1 banned but a is allow-listed (the answer for a then is
 * "not banned" whatever other lengths hold).
 */
static int
probe(struct ban_table *t, const union sw_addr *a, int af,
    const uint8_t b[16], unsigned plen, uint64_t now,
    struct ban_hit *ret_hit)
{
	const struct acl *allow;
	struct ban_stripe *s;
	struct ban_slot *v;
	struct acl_match m;
	struct cidr k;
	uint64_t h;
	uint32_t i;
	int hit = 0;

	memset(&k, 0, sizeof(k));
	k.af = (uint8_t)af;
	k.plen = (uint8_t)plen;
	memcpy(k.a, b, af == AF_INET ? 4 : 16);
	cidr_mask_bytes(k.a, plen);
	h = key_hash(&k);
	s = stripe_of(t, h);
	pthread_rwlock_rdlock(&s->lk);
	if ((i = find(s, &k, h)) == PTAB_NIL)
		goto out;
	v = &s->v[i];
	if (v->state != BAN_S_ACTIVE || v->e.until_ms <= now)
		goto out;
	allow = atomic_load_explicit(&t->allow, memory_order_acquire);
	if (allow != NULL && acl_check(allow, a, &m) == ACL_ALLOW &&
	    m.why == ACL_W_ALLOW_PREFIX) {
		atomic_fetch_add_explicit(&t->overrides, 1,
		    memory_order_relaxed);
		hit = -1;
		goto out;
	}
	hit = 1;
	atomic_fetch_add_explicit(&v->hits, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->hits, 1, memory_order_relaxed);
	if (ret_hit != NULL) {
		ret_hit->key = v->e.key;
		ret_hit->reason = v->e.reason;
		ret_hit->strikes = v->e.strikes;
		ret_hit->until_ms = v->e.until_ms;
	}
out:
	pthread_rwlock_unlock(&s->lk);
	return hit;
}

int
ban_check(struct ban_table *t, const union sw_addr *a, uint64_t now_ms,
    struct ban_hit *ret_hit)
{
	uint8_t b[16];
	unsigned width, plen;
	uint64_t bits;
	int af, f, r;

	if ((af = cidr_addr_norm(a, b)) < 0)
		return 0;
	f = af == AF_INET6;
	width = f ? 128 : 32;
	/* Longest length first: a host ban is the more specific answer. */
	for (int w = 2; w >= 0; w--) {
		bits = atomic_load_explicit(&t->inuse[f][w],
		    memory_order_acquire);
		while (bits != 0) {
			unsigned top = 63 - (unsigned)__builtin_clzll(bits);

			bits &= ~(1ULL << top);
			plen = (unsigned)w * 64 + top;
			if (plen > width)
				continue;
			if ((r = probe(t, a, af, b, plen, now_ms,
			    ret_hit)) != 0)
				return r > 0;
		}
	}
	return 0;
}

/* --- writers --- */

int
ban_add(struct ban_table *t, const struct cidr *key,
    const struct ban_evidence *ev, uint64_t now_ms, struct ban_entry *ret_e)
{
	struct ban_stripe *s;
	struct ban_entry *e;
	struct cidr k;
	uint64_t h, until, dur;
	uint32_t i, strikes = 1;
	int r = 0;

	if (key_norm(key, &k) < 0 || ev->reason <= BAN_R_NONE ||
	    ev->reason >= BAN_R_MAX)
		return -EINVAL;
	if (allowlisted(atomic_load_explicit(&t->allow, memory_order_acquire),
	    &k)) {
		atomic_fetch_add_explicit(&t->refused_allow, 1,
		    memory_order_relaxed);
		return -EPERM;
	}
	h = key_hash(&k);
	s = stripe_of(t, h);
	pthread_rwlock_wrlock(&s->lk);
	if ((i = find(s, &k, h)) != PTAB_NIL) {
		e = &s->v[i].e;
		if (s->v[i].state == BAN_S_ACTIVE && e->until_ms > now_ms) {
			/* Still banned: add the evidence, maybe extend. */
			e->count = e->count > UINT32_MAX - ev->count ?
			    UINT32_MAX : e->count + ev->count;
			until = ev->last_seen_ms ? ev->last_seen_ms : now_ms;
			if (until > e->last_seen_ms)
				e->last_seen_ms = until;
			if (e->sample_len == 0 && ev->sample.len > 0) {
				e->sample_len = (uint16_t)(ev->sample.len <
				    BAN_SAMPLE_MAX ? ev->sample.len :
				    BAN_SAMPLE_MAX);
				memcpy(e->sample, ev->sample.p, e->sample_len);
			}
			if (ev->duration_ms != 0) {
				until = add_sat(now_ms, ev->duration_ms);
				if (until > e->until_ms) {
					e->until_ms = until;
					e->reason = ev->reason;
				}
			}
			s->st.merged++;
			r = 1;
			goto out;
		}
		/* Ended (swept or not): one more strike, unless the
		 * memory of the last one has lapsed. */
		if (add_sat(e->until_ms, t->forget_ms) > now_ms)
			strikes = e->strikes < UINT32_MAX ? e->strikes + 1 :
			    UINT32_MAX;
		if (s->v[i].state == BAN_S_ACTIVE)
			s->nactive--;	/* counted again below */
	} else if ((i = slot_new(t, s, &k, h)) == PTAB_NIL) {
		s->st.refused_full++;
		r = -SBC_EFULL;
		goto out;
	}
	e = &s->v[i].e;
	set_evidence(e, ev, now_ms);
	dur = ev->duration_ms ? ev->duration_ms : ban_duration(t, strikes);
	e->strikes = strikes;
	e->since_ms = now_ms;
	e->until_ms = add_sat(now_ms, dur);
	s->v[i].state = BAN_S_ACTIVE;
	s->nactive++;
	s->st.added++;
	if (strikes > 1)
		s->st.escalated++;
	due(s, e->until_ms);
out:
	if (ret_e != NULL && r >= 0)
		slot_copy(&s->v[i], ret_e);
	pthread_rwlock_unlock(&s->lk);
	return r;
}

int
ban_load(struct ban_table *t, const struct ban_entry *in, uint64_t now_ms)
{
	struct ban_stripe *s;
	struct ban_slot *v;
	struct cidr k;
	uint64_t h;
	uint32_t i;
	int r = 0;

	/* A row of strike history alone (ban over) may have no reason. */
	if (key_norm(&in->key, &k) < 0 || in->reason < BAN_R_NONE ||
	    in->reason >= BAN_R_MAX || in->sample_len > BAN_SAMPLE_MAX ||
	    (in->reason == BAN_R_NONE && in->until_ms > now_ms))
		return -EINVAL;
	if (add_sat(in->until_ms, t->forget_ms) <= now_ms)
		return 1;
	if (allowlisted(atomic_load_explicit(&t->allow, memory_order_acquire),
	    &k)) {
		atomic_fetch_add_explicit(&t->refused_allow, 1,
		    memory_order_relaxed);
		return -EPERM;
	}
	h = key_hash(&k);
	s = stripe_of(t, h);
	pthread_rwlock_wrlock(&s->lk);
	if ((i = find(s, &k, h)) == PTAB_NIL &&
	    (i = slot_new(t, s, &k, h)) == PTAB_NIL) {
		s->st.refused_full++;
		r = -SBC_EFULL;
		goto out;
	}
	v = &s->v[i];
	if (v->state == BAN_S_ACTIVE)
		s->nactive--;
	v->e = *in;
	v->e.key = k;
	v->e.hits = 0;
	v->e.origin[BAN_ORIGIN_MAX - 1] = '\0';
	if (v->e.strikes == 0)
		v->e.strikes = 1;
	atomic_store_explicit(&v->hits, 0, memory_order_relaxed);
	if (in->reason == BAN_R_NONE) {
		/* Strike history only: nothing to report. */
		v->state = BAN_S_REMEMBERED;
		due(s, add_sat(v->e.until_ms, t->forget_ms));
	} else {
		/* A ban that ended while we were down is reported by the
		 * next sweep like any other, so the store row and the
		 * event follow one path. */
		v->state = BAN_S_ACTIVE;
		s->nactive++;
		due(s, v->e.until_ms);
	}
out:
	pthread_rwlock_unlock(&s->lk);
	return r;
}

int
ban_remove(struct ban_table *t, const struct cidr *key,
    struct ban_entry *ret_e)
{
	struct ban_stripe *s;
	struct cidr k;
	uint64_t h;
	uint32_t i;

	if (key_norm(key, &k) < 0)
		return -SBC_ENOTFOUND;
	h = key_hash(&k);
	s = stripe_of(t, h);
	pthread_rwlock_wrlock(&s->lk);
	if ((i = find(s, &k, h)) != PTAB_NIL) {
		if (ret_e != NULL)
			slot_copy(&s->v[i], ret_e);
		slot_del(t, s, i);
	}
	pthread_rwlock_unlock(&s->lk);
	return i != PTAB_NIL ? 0 : -SBC_ENOTFOUND;
}

static enum ban_state
state_at(const struct ban_slot *v, uint64_t now)
{
	return v->state == BAN_S_ACTIVE && v->e.until_ms > now ?
	    BAN_S_ACTIVE : BAN_S_REMEMBERED;
}

int
ban_get(struct ban_table *t, const struct cidr *key, uint64_t now_ms,
    struct ban_entry *ret_e, enum ban_state *ret_state)
{
	struct ban_stripe *s;
	struct cidr k;
	uint64_t h;
	uint32_t i;

	if (key_norm(key, &k) < 0)
		return -SBC_ENOTFOUND;
	h = key_hash(&k);
	s = stripe_of(t, h);
	pthread_rwlock_rdlock(&s->lk);
	if ((i = find(s, &k, h)) != PTAB_NIL) {
		if (ret_e != NULL)
			slot_copy(&s->v[i], ret_e);
		if (ret_state != NULL)
			*ret_state = state_at(&s->v[i], now_ms);
	}
	pthread_rwlock_unlock(&s->lk);
	return i != PTAB_NIL ? 0 : -SBC_ENOTFOUND;
}

static void
emit(struct ban_swept *out, size_t *n, enum ban_sweep_what what,
    const struct ban_slot *v)
{
	out[*n].what = what;
	slot_copy(v, &out[*n].e);
	(*n)++;
}

size_t
ban_sweep(struct ban_table *t, uint64_t now_ms, struct ban_swept *out,
    size_t cap)
{
	const struct acl *allow;
	uint64_t gen, next, forget_at;
	size_t n = 0;
	int stopped = 0;

	/* Generation first: seeing a new generation guarantees seeing its
	 * list (stored before the generation moved); the other way round a
	 * stripe could be marked up to date after a look at the old list. */
	gen = atomic_load_explicit(&t->allow_gen, memory_order_acquire);
	allow = atomic_load_explicit(&t->allow, memory_order_acquire);
	for (uint32_t si = 0; si < t->nstripes && !stopped; si++) {
		struct ban_stripe *s = &t->s[si];

		pthread_rwlock_wrlock(&s->lk);
		if (s->next_due > now_ms && s->allow_gen == gen) {
			pthread_rwlock_unlock(&s->lk);
			continue;
		}
		next = UINT64_MAX;
		for (uint32_t i = 0; i < s->idx.cap; i++) {
			struct ban_slot *v = &s->v[i];

			if (!ptab_live(&s->idx, i))
				continue;
			if (n == cap) {
				stopped = 1;
				break;
			}
			forget_at = add_sat(v->e.until_ms, t->forget_ms);
			if (v->state == BAN_S_ACTIVE &&
			    allowlisted(allow, &v->e.key)) {
				emit(out, &n, BAN_SW_ALLOWLISTED, v);
				slot_del(t, s, i);
			} else if (v->state == BAN_S_ACTIVE &&
			    v->e.until_ms <= now_ms) {
				emit(out, &n, BAN_SW_EXPIRED, v);
				v->state = BAN_S_REMEMBERED;
				s->nactive--;
				s->st.expired++;
				next = forget_at < next ? forget_at : next;
			} else if (v->state == BAN_S_ACTIVE) {
				next = v->e.until_ms < next ?
				    v->e.until_ms : next;
			} else if (forget_at <= now_ms) {
				emit(out, &n, BAN_SW_FORGOTTEN, v);
				slot_del(t, s, i);
				s->st.forgotten++;
			} else
				next = forget_at < next ? forget_at : next;
		}
		/* Cut short: come back to this stripe next time. */
		s->next_due = stopped ? 0 : next;
		if (!stopped)
			s->allow_gen = gen;
		pthread_rwlock_unlock(&s->lk);
	}
	return n;
}

int
ban_foreach(struct ban_table *t, uint64_t now_ms, ban_foreach_fn *fn,
    void *arg)
{
	enum { BATCH = 8 };
	struct ban_entry batch[BATCH];
	enum ban_state st[BATCH];
	int r;

	for (uint32_t si = 0; si < t->nstripes; si++) {
		struct ban_stripe *s = &t->s[si];
		uint32_t i = 0, nb;

		while (i < s->idx.cap) {
			nb = 0;
			pthread_rwlock_rdlock(&s->lk);
			for (; i < s->idx.cap && nb < BATCH; i++) {
				if (!ptab_live(&s->idx, i))
					continue;
				slot_copy(&s->v[i], &batch[nb]);
				st[nb++] = state_at(&s->v[i], now_ms);
			}
			pthread_rwlock_unlock(&s->lk);
			for (uint32_t j = 0; j < nb; j++)
				if ((r = fn(arg, &batch[j], st[j])) != 0)
					return r;
		}
	}
	return 0;
}

const struct acl *
ban_set_allowlist(struct ban_table *t, const struct acl *allow)
{
	const struct acl *old;

	old = atomic_exchange_explicit(&t->allow, allow, memory_order_acq_rel);
	atomic_fetch_add_explicit(&t->allow_gen, 1, memory_order_release);
	return old;
}

void
ban_stats(struct ban_table *t, struct ban_stats *ret)
{
	struct ban_stats sum;

	memset(&sum, 0, sizeof(sum));
	for (uint32_t i = 0; i < t->nstripes; i++) {
		struct ban_stripe *s = &t->s[i];

		pthread_rwlock_rdlock(&s->lk);
		sum.active += s->nactive;
		sum.remembered += s->idx.used - s->nactive;
		sum.capacity += s->idx.cap;
		sum.added += s->st.added;
		sum.escalated += s->st.escalated;
		sum.merged += s->st.merged;
		sum.refused_full += s->st.refused_full;
		sum.recycled += s->st.recycled;
		sum.expired += s->st.expired;
		sum.forgotten += s->st.forgotten;
		pthread_rwlock_unlock(&s->lk);
		sum.hits += atomic_load_explicit(&s->hits,
		    memory_order_relaxed);
	}
	sum.allowlist_overrides = atomic_load_explicit(&t->overrides,
	    memory_order_relaxed);
	sum.refused_allowlisted = atomic_load_explicit(&t->refused_allow,
	    memory_order_relaxed);
	*ret = sum;
}
