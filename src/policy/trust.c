#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "policy/cidr.h"
#include "policy/trust.h"

#define TRUST_STRIPES	64u
#define TRUST_PROBE	8u

struct trust_slot {
	uint8_t		a[16];
	uint8_t		af;		/* 0: empty */
	uint64_t	seen;		/* bitmap of account hashes */
	uint64_t	last_ms;
};

struct trust_stripe {
	pthread_mutex_t	mu;
	struct trust_slot *slots;
} __attribute__((aligned(64)));

struct trust_table {
	size_t		per_stripe;	/* power of two */
	uint64_t	ttl_ms;
	struct trust_stripe st[TRUST_STRIPES];
};

int
trust_new(size_t capacity, uint64_t ttl_ms, struct trust_table **ret)
{
	struct trust_table *t;
	size_t per = 16;

	if (capacity == 0 || capacity > TRUST_MAX_CAPACITY || ttl_ms == 0)
		return -EINVAL;
	while (per * TRUST_STRIPES < capacity)
		per <<= 1;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -ENOMEM;
	t->per_stripe = per;
	t->ttl_ms = ttl_ms;
	for (size_t i = 0; i < TRUST_STRIPES; i++) {
		pthread_mutex_init(&t->st[i].mu, NULL);
		if ((t->st[i].slots = calloc(per, sizeof(struct trust_slot))) ==
		    NULL) {
			trust_free(t);
			return -ENOMEM;
		}
	}
	*ret = t;
	return 0;
}

void
trust_free(struct trust_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < TRUST_STRIPES; i++) {
		pthread_mutex_destroy(&t->st[i].mu);
		free(t->st[i].slots);
	}
	free(t);
}

static struct trust_stripe *
stripe_of(struct trust_table *t, const uint8_t a[16], uint8_t af,
    size_t *ret_i0)
{
	uint64_t h = sw_hash(a, 16) ^ af;

	*ret_i0 = (size_t)(h >> 6) & (t->per_stripe - 1);
	return &t->st[h & (TRUST_STRIPES - 1)];
}

/* Under s->mu: the slot of a in its window, or NULL and *ret_victim
 * (may be NULL) the slot to reuse: an empty one, else the stalest. */
static struct trust_slot *
find(struct trust_table *t, struct trust_stripe *s, size_t i0,
    const uint8_t a[16], uint8_t af, struct trust_slot **ret_victim)
{
	struct trust_slot *victim = NULL;

	for (size_t k = 0; k < TRUST_PROBE; k++) {
		struct trust_slot *e = &s->slots[(i0 + k) & (t->per_stripe - 1)];

		if (e->af == af && memcmp(e->a, a, 16) == 0)
			return e;
		if (victim == NULL || (victim->af != 0 &&
		    (e->af == 0 || e->last_ms < victim->last_ms)))
			victim = e;
	}
	if (ret_victim != NULL)
		*ret_victim = victim;
	return NULL;
}

void
trust_note(struct trust_table *t, const union sw_addr *src,
    struct slice account, uint64_t now_ms)
{
	struct trust_stripe *s;
	struct trust_slot *e, *victim = NULL;
	uint8_t a[16];
	int af = cidr_addr_norm(src, a);
	size_t i0;

	if (af < 0)
		return;
	s = stripe_of(t, a, (uint8_t)af, &i0);
	pthread_mutex_lock(&s->mu);
	if ((e = find(t, s, i0, a, (uint8_t)af, &victim)) == NULL) {
		e = victim;
		memcpy(e->a, a, 16);
		e->af = (uint8_t)af;
		e->seen = 0;
	} else if (now_ms - e->last_ms > t->ttl_ms)
		e->seen = 0;
	e->seen |= 1ull << (sw_hash(account.p, account.len) & 63);
	e->last_ms = now_ms;
	pthread_mutex_unlock(&s->mu);
}

unsigned
trust_accounts(struct trust_table *t, const union sw_addr *src,
    uint64_t now_ms)
{
	struct trust_stripe *s;
	struct trust_slot *e;
	uint8_t a[16];
	uint64_t seen = 0, last = 0;
	int af = cidr_addr_norm(src, a), zero;
	size_t i0;
	double est;

	if (af < 0)
		return 0;
	s = stripe_of(t, a, (uint8_t)af, &i0);
	pthread_mutex_lock(&s->mu);
	if ((e = find(t, s, i0, a, (uint8_t)af, NULL)) != NULL) {
		seen = e->seen;
		last = e->last_ms;
	}
	pthread_mutex_unlock(&s->mu);
	if (seen == 0 || now_ms - last > t->ttl_ms)
		return 0;
	/* linear counting: n ~ -m ln(V), V the fraction of zero bits */
	zero = 64 - __builtin_popcountll(seen);
	est = zero == 0 ? TRUST_MAX_MULT : -64.0 * log(zero / 64.0);
	if (est < 1.0)
		est = 1.0;
	return est >= TRUST_MAX_MULT ? TRUST_MAX_MULT : (unsigned)(est + 0.5);
}
