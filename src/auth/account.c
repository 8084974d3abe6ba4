#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "auth/account.h"
#include "core/hash.h"

#define ACCT_STRIPES	64

struct acct_node {
	struct acct_node	*next;
	uint64_t		 hash;
	uint64_t		 gen;		/* last sync that listed it */
	struct account_info	 a;
};

struct acct_stripe {
	pthread_rwlock_t	 lock;
	struct acct_node	**b;
} __attribute__((aligned(64)));

struct acct_table {
	size_t			 nbuckets;	/* per stripe, power of two */
	size_t			 count;
	uint64_t		 gen;
	struct acct_stripe	 s[ACCT_STRIPES];
};

static uint64_t
acct_hash(struct slice user, struct slice domain)
{
	uint8_t key[ACCT_USER_MAX + ACCT_DOMAIN_MAX + 2];
	size_t n = 0;

	/* user parts are case-sensitive, domains are not (RFC 3261 19.1.4) */
	memcpy(key, user.p, user.len);
	n = user.len;
	key[n++] = '@';
	for (size_t i = 0; i < domain.len; i++)
		key[n++] = ctype_lower(domain.p[i]);
	return sw_hash(key, n);
}

int
acct_table_new(size_t expected, struct acct_table **ret)
{
	struct acct_table *t = calloc(1, sizeof(*t));
	size_t nb = 16;

	if (t == NULL)
		return -ENOMEM;
	while (nb * ACCT_STRIPES < expected && nb < (1u << 20))
		nb <<= 1;
	t->nbuckets = nb;
	for (size_t i = 0; i < ACCT_STRIPES; i++) {
		pthread_rwlock_init(&t->s[i].lock, NULL);
		if ((t->s[i].b = calloc(nb, sizeof(*t->s[i].b))) == NULL) {
			acct_table_free(t);
			return -ENOMEM;
		}
	}
	*ret = t;
	return 0;
}

void
acct_table_free(struct acct_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < ACCT_STRIPES; i++) {
		if (t->s[i].b != NULL)
			for (size_t j = 0; j < t->nbuckets; j++) {
				struct acct_node *n = t->s[i].b[j], *next;

				for (; n != NULL; n = next) {
					next = n->next;
					explicit_bzero(&n->a, sizeof(n->a));
					free(n);
				}
			}
		free(t->s[i].b);
		pthread_rwlock_destroy(&t->s[i].lock);
	}
	free(t);
}

static struct acct_node **
slot(struct acct_table *t, uint64_t h, struct acct_stripe **ret_s)
{
	struct acct_stripe *s = &t->s[h % ACCT_STRIPES];

	*ret_s = s;
	return &s->b[(h / ACCT_STRIPES) & (t->nbuckets - 1)];
}

static int
node_is(const struct acct_node *n, uint64_t h, struct slice user,
    struct slice domain)
{
	return n->hash == h && slice_eq(slice_cstr(n->a.username), user) &&
	    slice_eq_ci(slice_cstr(n->a.domain), domain);
}

int
acct_lookup(struct acct_table *t, struct slice user, struct slice domain,
    struct account_info *ret)
{
	struct acct_stripe *s;
	struct acct_node **pp, *n;
	uint64_t h;
	int r = -ENOENT;

	if (user.len == 0 || user.len > ACCT_USER_MAX ||
	    domain.len > ACCT_DOMAIN_MAX)
		return -ENOENT;
	h = acct_hash(user, domain);
	pp = slot(t, h, &s);
	pthread_rwlock_rdlock(&s->lock);
	for (n = *pp; n != NULL; n = n->next)
		if (node_is(n, h, user, domain)) {
			*ret = n->a;
			r = 0;
			break;
		}
	pthread_rwlock_unlock(&s->lock);
	return r;
}

size_t
acct_table_sync(struct acct_table *t, const struct account_info *infos,
    size_t n)
{
	uint64_t gen = ++t->gen;
	size_t changed = 0;

	for (size_t i = 0; i < n; i++) {
		const struct account_info *a = &infos[i];
		struct slice u = slice_cstr(a->username), d = slice_cstr(a->domain);
		uint64_t h = acct_hash(u, d);
		struct acct_stripe *s;
		struct acct_node **pp = slot(t, h, &s), *node;

		pthread_rwlock_wrlock(&s->lock);
		for (node = *pp; node != NULL; node = node->next)
			if (node_is(node, h, u, d))
				break;
		if (node == NULL && (node = calloc(1, sizeof(*node))) != NULL) {
			node->hash = h;
			node->next = *pp;
			*pp = node;
			t->count++;
			changed++;
		} else if (node != NULL &&
		    memcmp(&node->a, a, sizeof(*a)) != 0)
			changed++;
		if (node != NULL) {
			node->a = *a;
			node->gen = gen;
		}
		pthread_rwlock_unlock(&s->lock);
	}
	/* sweep what this sync did not list */
	for (size_t i = 0; i < ACCT_STRIPES; i++) {
		struct acct_stripe *s = &t->s[i];

		pthread_rwlock_wrlock(&s->lock);
		for (size_t j = 0; j < t->nbuckets; j++) {
			struct acct_node **pp = &s->b[j], *node;

			while ((node = *pp) != NULL) {
				if (node->gen == gen) {
					pp = &node->next;
					continue;
				}
				*pp = node->next;
				explicit_bzero(&node->a, sizeof(node->a));
				free(node);
				t->count--;
				changed++;
			}
		}
		pthread_rwlock_unlock(&s->lock);
	}
	return changed;
}

size_t
acct_table_count(struct acct_table *t)
{
	return t->count;
}

int
acct_source_allowed(const struct account_info *a, const union sw_addr *src)
{
	if (a->ncidrs == 0)
		return 1;
	for (size_t i = 0; i < a->ncidrs; i++)
		if (sw_addr_in_prefix(src, &a->cidrs[i].addr, a->cidrs[i].plen))
			return 1;
	return 0;
}
