/*
 * The access-list trie.  Keys are 128-bit (two uint64_t, IPv4 in the
 * top 32 bits of hi) so one walk serves both families; each family has
 * its own root.  Every node carries its full key and length, and the
 * key of a node is a prefix of the keys below it, so a lookup checks
 * each node on its path against the address, remembers the deepest
 * listed one that matches and stops at the first that does not.
 * Internal "glue" nodes (created where two keys diverge) are not
 * listed.  n prefixes make at most 2n nodes, so the node array is
 * sized once and never moves.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/acl.h"

#define NIL		UINT32_MAX

enum {
	N_ALLOW	= 1u << 0,
	N_DENY	= 1u << 1,
};

struct node {
	uint64_t	hi, lo;
	uint32_t	child[2];
	int32_t		allow_idx;
	int32_t		deny_idx;
	uint8_t		len;
	uint8_t		flags;
};

struct acl {
	struct node	*n;
	uint32_t	 nn, cap;
	uint32_t	 root[2];	/* [0] IPv4, [1] IPv6 */
	size_t		 nallow, ndeny;
};

struct key {
	uint64_t	hi, lo;
};

static uint64_t
load_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static void
store_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static struct key
key_of(const uint8_t a[16])
{
	return (struct key){ .hi = load_be64(a), .lo = load_be64(a + 8) };
}

static unsigned
key_bit(struct key k, unsigned i)
{
	if (i < 64)
		return (unsigned)(k.hi >> (63 - i)) & 1;
	return (unsigned)(k.lo >> (127 - i)) & 1;
}

static struct key
key_mask(struct key k, unsigned len)
{
	if (len == 0)
		return (struct key){ 0, 0 };
	if (len < 64)
		return (struct key){ k.hi & ~(UINT64_MAX >> len), 0 };
	if (len == 64)
		return (struct key){ k.hi, 0 };
	if (len < 128)
		return (struct key){ k.hi, k.lo & ~(UINT64_MAX >> (len - 64)) };
	return k;
}

/* Number of leading bits x and y share, at most max. */
static unsigned
key_common(struct key x, struct key y, unsigned max)
{
	uint64_t d;
	unsigned n;

	if ((d = x.hi ^ y.hi) != 0)
		n = (unsigned)__builtin_clzll(d);
	else if ((d = x.lo ^ y.lo) != 0)
		n = 64 + (unsigned)__builtin_clzll(d);
	else
		n = 128;
	return n < max ? n : max;
}

/* 1 when the first n->len bits of k are n's key. */
static inline int
node_match(const struct node *n, uint64_t hi, uint64_t lo)
{
	unsigned len = n->len;

	if (len <= 64)
		return len == 0 || ((hi ^ n->hi) >> (64 - len)) == 0;
	return hi == n->hi && ((lo ^ n->lo) >> (128 - len)) == 0;
}

static uint32_t
node_new(struct acl *t, struct key k, unsigned len)
{
	struct node *n = &t->n[t->nn];

	k = key_mask(k, len);
	n->hi = k.hi;
	n->lo = k.lo;
	n->len = (uint8_t)len;
	n->child[0] = n->child[1] = NIL;
	n->allow_idx = n->deny_idx = -1;
	n->flags = 0;
	return t->nn++;
}

static void
node_list(struct node *n, int deny, int32_t idx)
{
	if (deny) {
		if (!(n->flags & N_DENY))
			n->deny_idx = idx;
		n->flags |= N_DENY;
	} else {
		if (!(n->flags & N_ALLOW))
			n->allow_idx = idx;
		n->flags |= N_ALLOW;
	}
}

static int
insert(struct acl *t, const struct cidr *c, int deny, int32_t idx)
{
	struct key k, nk;
	uint32_t *slot, ni, fresh, glue;
	unsigned width = cidr_width(c->af), len = c->plen, d;
	struct node *n;

	if (width == 0 || len > width)
		return -EINVAL;
	k = key_mask(key_of(c->a), len);
	if (c->af == AF_INET)
		k.hi &= 0xffffffff00000000ULL, k.lo = 0;
	slot = &t->root[c->af == AF_INET6];
	for (;;) {
		if (*slot == NIL) {
			fresh = node_new(t, k, len);
			node_list(&t->n[fresh], deny, idx);
			*slot = fresh;
			return 0;
		}
		ni = *slot;
		n = &t->n[ni];
		nk = (struct key){ n->hi, n->lo };
		d = key_common(nk, k, n->len < len ? n->len : len);
		if (d == n->len && d == len) {
			node_list(n, deny, idx);
			return 0;
		}
		if (d == n->len) {
			/* n is a proper prefix of c: go down. */
			slot = &n->child[key_bit(k, n->len)];
			continue;
		}
		if (d == len) {
			/* c is a proper prefix of n: c goes above n. */
			fresh = node_new(t, k, len);
			node_list(&t->n[fresh], deny, idx);
			t->n[fresh].child[key_bit(nk, len)] = ni;
			*slot = fresh;
			return 0;
		}
		/* They diverge at bit d: a glue node holds both. */
		glue = node_new(t, k, d);
		fresh = node_new(t, k, len);
		node_list(&t->n[fresh], deny, idx);
		t->n[glue].child[key_bit(k, d)] = fresh;
		t->n[glue].child[key_bit(nk, d)] = ni;
		*slot = glue;
		return 0;
	}
}

int
acl_build(const struct cidr *allow, size_t nallow, const struct cidr *deny,
    size_t ndeny, struct acl **ret_acl)
{
	struct acl *t;
	size_t total = nallow + ndeny;
	int r;

	if (nallow > ACL_MAX_PREFIXES || ndeny > ACL_MAX_PREFIXES ||
	    total > ACL_MAX_PREFIXES)
		return -SBC_ELIMIT;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -ENOMEM;
	t->root[0] = t->root[1] = NIL;
	t->cap = (uint32_t)(2 * total + 1);
	if ((t->n = calloc(t->cap, sizeof(*t->n))) == NULL) {
		free(t);
		return -ENOMEM;
	}
	t->nallow = nallow;
	t->ndeny = ndeny;
	for (size_t i = 0; i < nallow; i++)
		if ((r = insert(t, &allow[i], 0, (int32_t)i)) < 0)
			goto fail;
	for (size_t i = 0; i < ndeny; i++)
		if ((r = insert(t, &deny[i], 1, (int32_t)i)) < 0)
			goto fail;
	*ret_acl = t;
	return 0;
fail:
	acl_free(t);
	return r;
}

void
acl_free(struct acl *acl)
{
	if (acl == NULL)
		return;
	free(acl->n);
	free(acl);
}

/* Deepest listed node on the path of (hi, lo) no longer than maxlen. */
static const struct node *
lookup(const struct acl *t, int v6, uint64_t hi, uint64_t lo,
    unsigned maxlen)
{
	const struct node *best = NULL, *n;
	uint32_t i = t->root[v6];

	while (i != NIL) {
		n = &t->n[i];
		if (n->len > maxlen || !node_match(n, hi, lo))
			break;
		if (n->flags != 0)
			best = n;
		if (n->len >= 128)
			break;
		i = n->child[n->len < 64 ? (hi >> (63 - n->len)) & 1 :
		    (lo >> (127 - n->len)) & 1];
	}
	return best;
}

static enum acl_verdict
decide(const struct acl *t, const struct node *n, int af,
    struct acl_match *ret_m)
{
	struct acl_match m;

	if (ret_m == NULL) {
		/* The packet path usually wants only the verdict. */
		if (n == NULL)
			return t->nallow == 0 ? ACL_ALLOW : ACL_DENY;
		return (n->flags & N_DENY) ? ACL_DENY : ACL_ALLOW;
	}
	memset(&m, 0, sizeof(m));
	m.index = -1;
	if (n == NULL) {
		if (t->nallow == 0) {
			m.verdict = ACL_ALLOW;
			m.why = ACL_W_DEFAULT_ALLOW;
		} else {
			m.verdict = ACL_DENY;
			m.why = ACL_W_DEFAULT_DENY;
		}
	} else {
		if (n->flags & N_DENY) {
			m.verdict = ACL_DENY;
			m.why = ACL_W_DENY_PREFIX;
			m.index = n->deny_idx;
		} else {
			m.verdict = ACL_ALLOW;
			m.why = ACL_W_ALLOW_PREFIX;
			m.index = n->allow_idx;
		}
		m.prefix.af = (uint8_t)af;
		m.prefix.plen = n->len;
		store_be64(m.prefix.a, n->hi);
		store_be64(m.prefix.a + 8, n->lo);
	}
	*ret_m = m;
	return m.verdict;
}

static enum acl_verdict
bad_addr(struct acl_match *ret_m)
{
	if (ret_m != NULL) {
		memset(ret_m, 0, sizeof(*ret_m));
		ret_m->verdict = ACL_DENY;
		ret_m->why = ACL_W_BAD_ADDR;
		ret_m->index = -1;
	}
	return ACL_DENY;
}

enum acl_verdict
acl_check(const struct acl *acl, const union sw_addr *a,
    struct acl_match *ret_m)
{
	const struct node *n;
	uint64_t hi, lo = 0;
	const uint8_t *b;

	switch (a->sa.sa_family) {
	case AF_INET:
		/* s_addr is in network order: its first byte is the top. */
		b = (const uint8_t *)&a->sin.sin_addr;
		hi = (uint64_t)b[0] << 56 | (uint64_t)b[1] << 48 |
		    (uint64_t)b[2] << 40 | (uint64_t)b[3] << 32;
		n = lookup(acl, 0, hi, 0, 32);
		return decide(acl, n, AF_INET, ret_m);
	case AF_INET6:
		b = a->sin6.sin6_addr.s6_addr;
		hi = load_be64(b);
		lo = load_be64(b + 8);
		if (hi == 0 && (lo >> 32) == 0xffff) {
			/* IPv4-mapped: decide as IPv4. */
			n = lookup(acl, 0, lo << 32, 0, 32);
			return decide(acl, n, AF_INET, ret_m);
		}
		n = lookup(acl, 1, hi, lo, 128);
		return decide(acl, n, AF_INET6, ret_m);
	default:
		return bad_addr(ret_m);
	}
}

enum acl_verdict
acl_check_cidr(const struct acl *acl, const struct cidr *c,
    struct acl_match *ret_m)
{
	unsigned width = cidr_width(c->af);
	struct key k;

	if (width == 0 || c->plen > width)
		return bad_addr(ret_m);
	k = key_of(c->a);
	return decide(acl, lookup(acl, c->af == AF_INET6, k.hi, k.lo, c->plen),
	    c->af, ret_m);
}

size_t
acl_count(const struct acl *acl)
{
	return acl->nallow + acl->ndeny;
}

size_t
acl_nodes(const struct acl *acl)
{
	return acl->nn;
}

size_t
acl_memory(const struct acl *acl)
{
	return sizeof(*acl) + (size_t)acl->cap * sizeof(*acl->n);
}

const char *
acl_why_name(enum acl_why why)
{
	switch (why) {
	case ACL_W_DENY_PREFIX:		return "deny_prefix";
	case ACL_W_ALLOW_PREFIX:	return "allow_prefix";
	case ACL_W_DEFAULT_ALLOW:	return "default_allow";
	case ACL_W_DEFAULT_DENY:	return "default_deny";
	case ACL_W_BAD_ADDR:		return "bad_address";
	case ACL_W_MAX:			break;
	}
	return "unknown";
}
