#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "sip/location.h"

#define LOC_STRIPES	64
#define LOC_EXPIRE_BATCH 64
#define LOC_WALK_BATCH	64	/* slots per stripe lock in loc_walk() */

struct loc_aor {
	struct loc_aor	*next;
	uint64_t	 hash;
	char		 aor[LOC_AOR_MAX + 1];
	size_t		 n;
	struct binding	*b;		/* LOC_MAX_BINDINGS entries */
};

struct loc_stripe {
	pthread_mutex_t	 mu;
	struct loc_aor	**buckets;
	size_t		 naors;
	size_t		 nbindings;
} __attribute__((aligned(64)));

struct loc_table {
	size_t		 nbuckets;
	struct loc_stripe s[LOC_STRIPES];
};

int
loc_aor(struct slice user, struct slice domain, char out[LOC_AOR_MAX + 1])
{
	size_t n = 0;

	if (user.len + domain.len + 1 > LOC_AOR_MAX)
		return -SBC_ELIMIT;
	memcpy(out, user.p, user.len);
	n = user.len;
	out[n++] = '@';
	for (size_t i = 0; i < domain.len; i++)
		out[n++] = (char)ctype_lower(domain.p[i]);
	out[n] = '\0';
	return 0;
}

int
loc_new(size_t expected, struct loc_table **ret)
{
	struct loc_table *t = calloc(1, sizeof(*t));
	size_t nb = 16;

	if (t == NULL)
		return -ENOMEM;
	while (nb * LOC_STRIPES < expected && nb < (1u << 20))
		nb <<= 1;
	t->nbuckets = nb;
	for (size_t i = 0; i < LOC_STRIPES; i++) {
		pthread_mutex_init(&t->s[i].mu, NULL);
		if ((t->s[i].buckets = calloc(nb, sizeof(void *))) == NULL) {
			loc_free(t);
			return -ENOMEM;
		}
	}
	*ret = t;
	return 0;
}

static void
aor_free(struct loc_aor *a)
{
	free(a->b);
	free(a);
}

void
loc_free(struct loc_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < LOC_STRIPES; i++) {
		if (t->s[i].buckets != NULL)
			for (size_t j = 0; j < t->nbuckets; j++) {
				struct loc_aor *a = t->s[i].buckets[j], *next;

				for (; a != NULL; a = next) {
					next = a->next;
					aor_free(a);
				}
			}
		free(t->s[i].buckets);
		pthread_mutex_destroy(&t->s[i].mu);
	}
	free(t);
}

static struct loc_stripe *
stripe_of(struct loc_table *t, const char *aor, uint64_t *ret_h)
{
	uint64_t h = sw_hash(aor, strlen(aor));

	*ret_h = h;
	return &t->s[h % LOC_STRIPES];
}

/* The link pointing at aor's entry (or at the NULL ending its chain);
 * the stripe's lock must be held. */
static struct loc_aor **
find(struct loc_table *t, struct loc_stripe *s, uint64_t h, const char *aor)
{
	struct loc_aor **pp = &s->buckets[(h / LOC_STRIPES) &
	    (t->nbuckets - 1)];

	for (; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->hash == h && strcmp((*pp)->aor, aor) == 0)
			break;
	return pp;
}

static void
count(struct loc_stripe *s, size_t before, size_t after)
{
	s->nbindings = s->nbindings - before + after;
}

int
loc_update(struct loc_table *t, const char *aor, loc_update_fn *fn, void *arg)
{
	struct loc_stripe *s;
	struct loc_aor **pp, *a;
	uint64_t h;
	size_t before;
	int r;

	if (strlen(aor) > LOC_AOR_MAX)
		return -SBC_ELIMIT;
	s = stripe_of(t, aor, &h);
	pthread_mutex_lock(&s->mu);
	pp = find(t, s, h, aor);
	if ((a = *pp) == NULL) {
		if ((a = calloc(1, sizeof(*a))) == NULL ||
		    (a->b = calloc(LOC_MAX_BINDINGS, sizeof(*a->b))) == NULL) {
			free(a);
			pthread_mutex_unlock(&s->mu);
			return -ENOMEM;
		}
		a->hash = h;
		memcpy(a->aor, aor, strlen(aor) + 1);
		*pp = a;
		s->naors++;
	}
	before = a->n;
	r = fn(a->b, &a->n, arg);
	if (a->n > LOC_MAX_BINDINGS)
		a->n = LOC_MAX_BINDINGS;	/* fn broke its contract */
	count(s, before, a->n);
	if (a->n == 0) {
		*pp = a->next;
		aor_free(a);
		s->naors--;
	}
	pthread_mutex_unlock(&s->mu);
	return r;
}

size_t
loc_get(struct loc_table *t, const char *aor, int64_t now, struct binding *out,
    size_t cap)
{
	struct loc_stripe *s;
	struct loc_aor **pp;
	uint64_t h;
	size_t k = 0;

	s = stripe_of(t, aor, &h);
	pthread_mutex_lock(&s->mu);
	pp = find(t, s, h, aor);
	if (*pp != NULL)
		for (size_t i = 0; i < (*pp)->n && k < cap; i++)
			if ((*pp)->b[i].expires > now)
				out[k++] = (*pp)->b[i];
	pthread_mutex_unlock(&s->mu);
	return k;
}

struct restore_arg {
	const struct binding *b;
};

static int
restore_fn(struct binding *b, size_t *n, void *arg)
{
	const struct binding *nb = ((struct restore_arg *)arg)->b;

	for (size_t i = 0; i < *n; i++)
		if (strcmp(b[i].contact, nb->contact) == 0) {
			b[i] = *nb;
			return 0;
		}
	if (*n >= LOC_MAX_BINDINGS)
		return -SBC_EFULL;
	b[(*n)++] = *nb;
	return 0;
}

int
loc_restore(struct loc_table *t, const char *aor, const struct binding *b)
{
	struct restore_arg a = { b };

	return loc_update(t, aor, restore_fn, &a);
}

size_t
loc_expire(struct loc_table *t, int64_t now,
    void (*cb)(void *arg, const char *aor, const struct binding *b), void *arg)
{
	static __thread struct {
		char		aor[LOC_AOR_MAX + 1];
		struct binding	b;
	} gone[LOC_EXPIRE_BATCH];
	size_t total = 0;

	for (size_t i = 0; i < LOC_STRIPES; i++) {
		struct loc_stripe *s = &t->s[i];
		size_t j = 0;

		/* In batches: callbacks run without the lock held. */
		while (j < t->nbuckets) {
			size_t ngone = 0;

			pthread_mutex_lock(&s->mu);
			for (; j < t->nbuckets && ngone < LOC_EXPIRE_BATCH -
			    LOC_MAX_BINDINGS; j++) {
				struct loc_aor **pp = &s->buckets[j], *a;

				while ((a = *pp) != NULL) {
					size_t k = 0, before = a->n;

					for (size_t m = 0; m < a->n; m++) {
						if (a->b[m].expires > now) {
							a->b[k++] = a->b[m];
							continue;
						}
						memcpy(gone[ngone].aor, a->aor,
						    sizeof(a->aor));
						gone[ngone++].b = a->b[m];
					}
					a->n = k;
					count(s, before, k);
					if (k == 0) {
						*pp = a->next;
						aor_free(a);
						s->naors--;
					} else
						pp = &a->next;
				}
			}
			pthread_mutex_unlock(&s->mu);
			for (size_t g = 0; g < ngone; g++)
				if (cb != NULL)
					cb(arg, gone[g].aor, &gone[g].b);
			total += ngone;
		}
	}
	return total;
}

size_t
loc_slots(const struct loc_table *t)
{
	return LOC_STRIPES * t->nbuckets;
}

/* Visit one bucket from binding number cur->skip on; stripe locked. */
static int
walk_bucket(struct loc_aor *a, struct loc_cursor *cur, loc_walk_fn *fn,
    void *arg)
{
	size_t idx = 0;

	for (; a != NULL; a = a->next)
		for (size_t m = 0; m < a->n; m++, idx++) {
			if (idx < cur->skip)
				continue;
			if (fn(arg, a->aor, &a->b[m]) < 0) {
				cur->skip = idx;
				return 1;
			}
		}
	cur->skip = 0;
	return 0;
}

int
loc_walk(struct loc_table *t, struct loc_cursor *cur, size_t end,
    loc_walk_fn *fn, void *arg)
{
	if (end > loc_slots(t))
		end = loc_slots(t);
	while (cur->slot < end) {
		struct loc_stripe *s = &t->s[cur->slot / t->nbuckets];
		size_t stripe_end = (cur->slot / t->nbuckets + 1) * t->nbuckets;
		size_t batch = 0;
		int stopped = 0;

		pthread_mutex_lock(&s->mu);
		while (cur->slot < end && cur->slot < stripe_end &&
		    batch++ < LOC_WALK_BATCH) {
			if ((stopped = walk_bucket(s->buckets[cur->slot %
			    t->nbuckets], cur, fn, arg)) != 0)
				break;
			cur->slot++;
		}
		pthread_mutex_unlock(&s->mu);
		if (stopped)
			return 1;
	}
	return 0;
}

size_t
loc_count_aors(struct loc_table *t)
{
	size_t n = 0;

	for (size_t i = 0; i < LOC_STRIPES; i++) {
		pthread_mutex_lock(&t->s[i].mu);
		n += t->s[i].naors;
		pthread_mutex_unlock(&t->s[i].mu);
	}
	return n;
}

size_t
loc_count_bindings(struct loc_table *t)
{
	size_t n = 0;

	for (size_t i = 0; i < LOC_STRIPES; i++) {
		pthread_mutex_lock(&t->s[i].mu);
		n += t->s[i].nbindings;
		pthread_mutex_unlock(&t->s[i].mu);
	}
	return n;
}
