/*
 * Nonce-count replay table: see replay.h for the contract.
 *
 * Each stripe is a small closed world: a preallocated entry array, a
 * power-of-two bucket array of chain heads (entry indices), and a free
 * list threaded through the same `next` field.  The stripe is picked by
 * the low 6 bits of the keyed hash, the bucket by the bits above, so
 * the two choices are independent.
 *
 * Window: bit d of `window` set means nc == hi - d was seen (bit 0 is hi
 * itself, always set).  An nc more than REPLAY_WINDOW - 1 below hi
 * cannot be told apart from a replay and is refused (fail closed).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "auth/replay.h"
#include "core/hash.h"

#define REPLAY_STRIPES	64
#define NIL		UINT32_MAX

struct replay_entry {
	uint64_t	hash;
	int64_t		expires;
	uint64_t	window;
	uint32_t	hi;
	uint32_t	next;		/* chain, or free list */
	uint8_t		keylen;
	uint8_t		key[REPLAY_NONCE_MAX];
};

struct replay_stripe {
	pthread_mutex_t		 lock;
	uint32_t		*buckets;
	struct replay_entry	*e;
	uint32_t		 free;
	uint32_t		 count;
	/* No entry expires before this (a lower bound): spares a sweep
	 * that could not free anything. */
	int64_t			 min_expires;
	int			 lock_ok;
} __attribute__((aligned(64)));

struct replay {
	uint32_t		per_stripe;
	uint32_t		nbuckets;	/* power of two */
	struct replay_stripe	s[REPLAY_STRIPES];
};

const char *
replay_status_name(enum replay_status s)
{
	switch (s) {
	case REPLAY_OK:		return "ok";
	case REPLAY_REPLAYED:	return "replayed";
	case REPLAY_FULL:	return "full";
	case REPLAY_INVALID:	return "invalid";
	default:		return "unknown";
	}
}

int
replay_new(size_t capacity, struct replay **ret)
{
	struct replay *r;
	uint32_t per, nb = 1;

	if (capacity == 0 || capacity > REPLAY_CAPACITY_MAX || ret == NULL)
		return -EINVAL;
	per = (uint32_t)((capacity + REPLAY_STRIPES - 1) / REPLAY_STRIPES);
	while (nb < per)
		nb <<= 1;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return -ENOMEM;
	r->per_stripe = per;
	r->nbuckets = nb;
	for (size_t i = 0; i < REPLAY_STRIPES; i++) {
		struct replay_stripe *s = &r->s[i];

		if (pthread_mutex_init(&s->lock, NULL) != 0) {
			replay_free(r);
			return -ENOMEM;
		}
		s->lock_ok = 1;
		s->buckets = malloc(nb * sizeof(*s->buckets));
		s->e = calloc(per, sizeof(*s->e));
		if (s->buckets == NULL || s->e == NULL) {
			replay_free(r);
			return -ENOMEM;
		}
		for (uint32_t b = 0; b < nb; b++)
			s->buckets[b] = NIL;
		for (uint32_t k = 0; k < per; k++)
			s->e[k].next = k + 1 < per ? k + 1 : NIL;
		s->free = 0;
		s->min_expires = INT64_MAX;
	}
	*ret = r;
	return 0;
}

void
replay_free(struct replay *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < REPLAY_STRIPES; i++) {
		free(r->s[i].buckets);
		free(r->s[i].e);
		if (r->s[i].lock_ok)
			pthread_mutex_destroy(&r->s[i].lock);
	}
	free(r);
}

/* Move every entry with now > expires to the free list.  Lock held. */
static void
stripe_evict_expired(struct replay *r, struct replay_stripe *s, int64_t now)
{
	int64_t min = INT64_MAX;

	if (now <= s->min_expires)
		return;
	for (uint32_t b = 0; b < r->nbuckets; b++) {
		uint32_t *pp = &s->buckets[b];

		while (*pp != NIL) {
			struct replay_entry *e = &s->e[*pp];
			uint32_t idx = *pp;

			if (now > e->expires) {
				*pp = e->next;
				e->next = s->free;
				s->free = idx;
				s->count--;
				continue;
			}
			if (e->expires < min)
				min = e->expires;
			pp = &e->next;
		}
	}
	s->min_expires = min;
}

/* Apply nc to an existing entry's window.  Lock held. */
static enum replay_status
entry_update(struct replay_entry *e, uint32_t nc)
{
	uint32_t d;

	if (nc > e->hi) {
		d = nc - e->hi;
		e->window = d >= REPLAY_WINDOW ? 1 : (e->window << d) | 1;
		e->hi = nc;
		return REPLAY_OK;
	}
	d = e->hi - nc;
	if (d >= REPLAY_WINDOW || (e->window & (UINT64_C(1) << d)) != 0)
		return REPLAY_REPLAYED;
	e->window |= UINT64_C(1) << d;
	return REPLAY_OK;
}

enum replay_status
replay_check_and_set(struct replay *r, struct slice nonce, uint32_t nc,
    int64_t now, int64_t expires)
{
	struct replay_stripe *s;
	struct replay_entry *e = NULL;
	enum replay_status st;
	uint64_t h;
	uint32_t b, idx;

	if (r == NULL || nonce.len == 0 || nonce.len > REPLAY_NONCE_MAX ||
	    nc == 0 || now > expires)
		return REPLAY_INVALID;
	h = sw_hash(nonce.p, nonce.len);
	s = &r->s[h % REPLAY_STRIPES];
	b = (uint32_t)(h / REPLAY_STRIPES) & (r->nbuckets - 1);

	pthread_mutex_lock(&s->lock);
	for (idx = s->buckets[b]; idx != NIL; idx = s->e[idx].next) {
		e = &s->e[idx];
		if (e->hash == h && e->keylen == nonce.len &&
		    memcmp(e->key, nonce.p, nonce.len) == 0)
			break;
	}
	if (idx != NIL) {
		/* Same nonce, same expiry, unless the ttl was reloaded:
		 * keep the later one so the entry outlives the nonce. */
		if (expires > e->expires)
			e->expires = expires;
		st = entry_update(e, nc);
		pthread_mutex_unlock(&s->lock);
		return st;
	}
	if (s->free == NIL)
		stripe_evict_expired(r, s, now);
	if (s->free == NIL) {
		pthread_mutex_unlock(&s->lock);
		return REPLAY_FULL;
	}
	idx = s->free;
	e = &s->e[idx];
	s->free = e->next;
	e->hash = h;
	e->expires = expires;
	e->window = 1;
	e->hi = nc;
	e->keylen = (uint8_t)nonce.len;
	memcpy(e->key, nonce.p, nonce.len);
	e->next = s->buckets[b];
	s->buckets[b] = idx;
	s->count++;
	if (expires < s->min_expires)
		s->min_expires = expires;
	pthread_mutex_unlock(&s->lock);
	return REPLAY_OK;
}

size_t
replay_count(struct replay *r)
{
	size_t n = 0;

	if (r == NULL)
		return 0;
	for (size_t i = 0; i < REPLAY_STRIPES; i++) {
		pthread_mutex_lock(&r->s[i].lock);
		n += r->s[i].count;
		pthread_mutex_unlock(&r->s[i].lock);
	}
	return n;
}
