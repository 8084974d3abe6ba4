/*
 * Unit tests for src/policy/acl.c: the documented semantics case by
 * case, the trie against a brute-force reference on thousands of
 * seeded random prefixes and addresses (IPv4 and IPv6), limits at and
 * over ACL_MAX_PREFIXES, and lock-free readers on four threads.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "policy/acl.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

static uint64_t rng;

static uint64_t
rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

static struct cidr
P(const char *s)
{
	struct cidr c;

	if (cidr_parse_cstr(s, &c, NULL, NULL) != 0)
		fail_msg("bad prefix in test: %s", s);
	return c;
}

static union sw_addr
A(const char *s)
{
	union sw_addr a;

	if (sw_addr_parse(s, 5060, &a) != 0)
		fail_msg("bad address in test: %s", s);
	return a;
}

static struct acl *
build(const char **allow, size_t na, const char **deny, size_t nd)
{
	struct cidr al[16], de[16];
	struct acl *acl = NULL;

	assert_true(na <= 16 && nd <= 16);
	for (size_t i = 0; i < na; i++)
		al[i] = P(allow[i]);
	for (size_t i = 0; i < nd; i++)
		de[i] = P(deny[i]);
	assert_int_equal(acl_build(al, na, de, nd, &acl), 0);
	assert_non_null(acl);
	return acl;
}

static void
expect(const struct acl *acl, const char *addr, enum acl_verdict v,
    enum acl_why why, const char *prefix, int index)
{
	union sw_addr a = A(addr);
	struct acl_match m;
	char buf[CIDR_STRLEN];

	memset(&m, 0x5a, sizeof(m));
	if (acl_check(acl, &a, &m) != v || m.verdict != v || m.why != why)
		fail_msg("%s: verdict %d why %s, want %d %s", addr,
		    m.verdict, acl_why_name(m.why), v, acl_why_name(why));
	assert_int_equal(m.index, index);
	if (prefix == NULL) {
		assert_int_equal(m.prefix.af, 0);
		assert_int_equal(m.prefix.plen, 0);
	} else {
		assert_true(cidr_format(&m.prefix, buf, sizeof(buf)) > 0);
		assert_string_equal(buf, prefix);
	}
	/* A NULL out-param is fine. */
	assert_int_equal(acl_check(acl, &a, NULL), v);
}

static void
empty_allows_all(void **state)
{
	struct acl *acl = build(NULL, 0, NULL, 0);

	(void)state;
	expect(acl, "192.0.2.1", ACL_ALLOW, ACL_W_DEFAULT_ALLOW, NULL, -1);
	expect(acl, "2001:db8::1", ACL_ALLOW, ACL_W_DEFAULT_ALLOW, NULL, -1);
	assert_int_equal(acl_count(acl), 0);
	assert_int_equal(acl_nodes(acl), 0);
	acl_free(acl);
	acl_free(NULL);
}

static void
longest_prefix_decides(void **state)
{
	const char *allow[] = { "10.1.0.0/16", "10.1.2.0/24" };
	const char *deny[] = { "10.0.0.0/8", "10.1.2.128/25" };
	struct acl *acl = build(allow, 2, deny, 2);

	(void)state;
	expect(acl, "10.1.2.3", ACL_ALLOW, ACL_W_ALLOW_PREFIX,
	    "10.1.2.0/24", 1);
	expect(acl, "10.1.9.9", ACL_ALLOW, ACL_W_ALLOW_PREFIX,
	    "10.1.0.0/16", 0);
	expect(acl, "10.1.2.200", ACL_DENY, ACL_W_DENY_PREFIX,
	    "10.1.2.128/25", 1);
	expect(acl, "10.2.3.4", ACL_DENY, ACL_W_DENY_PREFIX, "10.0.0.0/8", 0);
	/* Allow list not empty: everything else is denied. */
	expect(acl, "192.0.2.1", ACL_DENY, ACL_W_DEFAULT_DENY, NULL, -1);
	/* ... including the family the lists do not mention. */
	expect(acl, "2001:db8::1", ACL_DENY, ACL_W_DEFAULT_DENY, NULL, -1);
	assert_int_equal(acl_count(acl), 4);
	acl_free(acl);
}

static void
deny_wins_at_equal_prefix(void **state)
{
	const char *allow[] = { "10.0.0.0/8", "2001:db8::/32", "192.0.2.7" };
	const char *deny[] = { "10.0.0.0/8", "2001:db8::/32", "192.0.2.7/32" };
	struct acl *acl = build(allow, 3, deny, 3);

	(void)state;
	expect(acl, "10.9.9.9", ACL_DENY, ACL_W_DENY_PREFIX, "10.0.0.0/8", 0);
	expect(acl, "2001:db8::9", ACL_DENY, ACL_W_DENY_PREFIX,
	    "2001:db8::/32", 1);
	expect(acl, "192.0.2.7", ACL_DENY, ACL_W_DENY_PREFIX,
	    "192.0.2.7/32", 2);
	acl_free(acl);
}

static void
deny_only_list(void **state)
{
	const char *deny[] = { "198.51.100.0/24", "2001:db8:bad::/48" };
	struct acl *acl = build(NULL, 0, deny, 2);

	(void)state;
	expect(acl, "198.51.100.9", ACL_DENY, ACL_W_DENY_PREFIX,
	    "198.51.100.0/24", 0);
	expect(acl, "198.51.101.9", ACL_ALLOW, ACL_W_DEFAULT_ALLOW, NULL, -1);
	expect(acl, "2001:db8:bad::1", ACL_DENY, ACL_W_DENY_PREFIX,
	    "2001:db8:bad::/48", 1);
	expect(acl, "2001:db8:bae::1", ACL_ALLOW, ACL_W_DEFAULT_ALLOW,
	    NULL, -1);
	acl_free(acl);
}

static void
zero_length_and_hosts(void **state)
{
	const char *allow[] = { "0.0.0.0/0", "::/0" };
	const char *deny[] = { "203.0.113.5", "2001:db8::5", "203.0.113.0/31" };
	struct acl *acl = build(allow, 2, deny, 3);

	(void)state;
	expect(acl, "203.0.113.5", ACL_DENY, ACL_W_DENY_PREFIX,
	    "203.0.113.5/32", 0);
	expect(acl, "203.0.113.1", ACL_DENY, ACL_W_DENY_PREFIX,
	    "203.0.113.0/31", 2);
	expect(acl, "203.0.113.4", ACL_ALLOW, ACL_W_ALLOW_PREFIX,
	    "0.0.0.0/0", 0);
	expect(acl, "2001:db8::5", ACL_DENY, ACL_W_DENY_PREFIX,
	    "2001:db8::5/128", 1);
	expect(acl, "2001:db8::4", ACL_ALLOW, ACL_W_ALLOW_PREFIX, "::/0", 1);
	acl_free(acl);
}

static void
duplicates_keep_first_index(void **state)
{
	const char *allow[] = { "192.0.2.0/24", "192.0.2.0/24", "192.0.2.9/24" };
	struct acl *acl = build(allow, 3, NULL, 0);

	(void)state;
	/* 192.0.2.9/24 has host bits: it is the same prefix again. */
	expect(acl, "192.0.2.1", ACL_ALLOW, ACL_W_ALLOW_PREFIX,
	    "192.0.2.0/24", 0);
	assert_int_equal(acl_nodes(acl), 1);
	acl_free(acl);
}

static void
mapped_addresses_are_ipv4(void **state)
{
	const char *deny[] = { "192.0.2.0/24", "::ffff:198.51.100.0/120" };
	struct acl *acl = build(NULL, 0, deny, 2);

	(void)state;
	expect(acl, "::ffff:192.0.2.1", ACL_DENY, ACL_W_DENY_PREFIX,
	    "192.0.2.0/24", 0);
	expect(acl, "198.51.100.1", ACL_DENY, ACL_W_DENY_PREFIX,
	    "198.51.100.0/24", 1);
	expect(acl, "::ffff:192.0.3.1", ACL_ALLOW, ACL_W_DEFAULT_ALLOW,
	    NULL, -1);
	acl_free(acl);
}

static void
bad_input(void **state)
{
	struct cidr c[2];
	struct acl *acl = NULL;
	union sw_addr a;
	struct acl_match m;

	(void)state;
	memset(c, 0, sizeof(c));
	c[0] = P("10.0.0.0/8");
	c[1].af = AF_INET;
	c[1].plen = 33;
	assert_int_equal(acl_build(c, 2, NULL, 0, &acl), -EINVAL);
	c[1].af = 0;
	c[1].plen = 0;
	assert_int_equal(acl_build(NULL, 0, c, 2, &acl), -EINVAL);
	assert_null(acl);

	acl = build(NULL, 0, NULL, 0);
	memset(&a, 0, sizeof(a));
	a.sa.sa_family = AF_UNIX;
	assert_int_equal(acl_check(acl, &a, &m), ACL_DENY);
	assert_int_equal(m.why, ACL_W_BAD_ADDR);
	assert_int_equal(m.index, -1);
	c[1].af = 0;
	assert_int_equal(acl_check_cidr(acl, &c[1], &m), ACL_DENY);
	assert_int_equal(m.why, ACL_W_BAD_ADDR);
	acl_free(acl);
	assert_string_equal(acl_why_name(ACL_W_DENY_PREFIX), "deny_prefix");
	assert_string_equal(acl_why_name(ACL_W_MAX), "unknown");
}

static void
check_cidr(void **state)
{
	const char *allow[] = { "10.0.0.0/8", "10.1.0.0/16" };
	const char *deny[] = { "10.1.2.0/24" };
	struct acl *acl = build(allow, 2, deny, 1);
	struct acl_match m;
	struct cidr c;

	(void)state;
	c = P("10.1.0.0/16");
	assert_int_equal(acl_check_cidr(acl, &c, &m), ACL_ALLOW);
	assert_int_equal(m.prefix.plen, 16);
	c = P("10.1.2.0/23");
	assert_int_equal(acl_check_cidr(acl, &c, &m), ACL_ALLOW);
	assert_int_equal(m.prefix.plen, 16);
	c = P("10.1.2.0/24");
	assert_int_equal(acl_check_cidr(acl, &c, &m), ACL_DENY);
	assert_int_equal(m.why, ACL_W_DENY_PREFIX);
	c = P("10.0.0.0/7");
	assert_int_equal(acl_check_cidr(acl, &c, &m), ACL_DENY);
	assert_int_equal(m.why, ACL_W_DEFAULT_DENY);
	acl_free(acl);
}

/* --- the reference --- */

struct ref {
	struct cidr	*allow, *deny;
	size_t		 na, nd;
};

/* Does c cover the first maxlen bits of b?  Written bit by bit on
 * purpose, independent of the code under test. */
static int
covers_bytes(const struct cidr *c, int af, const uint8_t *b, unsigned maxlen)
{
	if (c->af != af || c->plen > maxlen)
		return 0;
	for (unsigned i = 0; i < c->plen; i++) {
		unsigned m = 0x80u >> (i % 8);

		if ((c->a[i / 8] & m) != (b[i / 8] & m))
			return 0;
	}
	return 1;
}

/* The semantics written out naively. */
static struct acl_match
ref_check(const struct ref *r, int af, const uint8_t *b, unsigned maxlen)
{
	struct acl_match m;
	int best = -1, best_deny = 0, best_idx = -1;

	memset(&m, 0, sizeof(m));
	for (size_t i = 0; i < r->na; i++)
		if (covers_bytes(&r->allow[i], af, b, maxlen) &&
		    (int)r->allow[i].plen > best) {
			best = r->allow[i].plen;
			best_idx = (int)i;
			best_deny = 0;
		}
	for (size_t i = 0; i < r->nd; i++)
		if (covers_bytes(&r->deny[i], af, b, maxlen) &&
		    ((int)r->deny[i].plen > best ||
		    ((int)r->deny[i].plen == best && !best_deny))) {
			best = r->deny[i].plen;
			best_idx = (int)i;
			best_deny = 1;
		}
	m.index = best_idx;
	if (best < 0) {
		m.verdict = r->na == 0 ? ACL_ALLOW : ACL_DENY;
		m.why = r->na == 0 ? ACL_W_DEFAULT_ALLOW : ACL_W_DEFAULT_DENY;
		return m;
	}
	m.verdict = best_deny ? ACL_DENY : ACL_ALLOW;
	m.why = best_deny ? ACL_W_DENY_PREFIX : ACL_W_ALLOW_PREFIX;
	m.prefix = best_deny ? r->deny[best_idx] : r->allow[best_idx];
	return m;
}

static void
random_bytes(uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)rnd();
}

/* A prefix near one of the bases, so prefixes nest and overlap. */
static struct cidr
random_prefix(int af, uint8_t bases[][16], size_t nbases)
{
	unsigned width = af == AF_INET ? 32 : 128;
	struct cidr c;

	memset(&c, 0, sizeof(c));
	c.af = (uint8_t)af;
	memcpy(c.a, bases[rnd() % nbases], width / 8);
	/* Flip a few bits somewhere. */
	for (int k = (int)(rnd() % 3); k > 0; k--) {
		unsigned bit = (unsigned)(rnd() % width);

		c.a[bit / 8] ^= (uint8_t)(0x80u >> (bit % 8));
	}
	/* Mostly long, sometimes down to width / 4 (a /8 or a /32): short
	 * enough to nest deeply, long enough that random addresses still
	 * miss now and then (/0 and friends are in the case tests). */
	c.plen = (uint8_t)(rnd() % 8 == 0 ?
	    width / 4 + rnd() % (width - width / 4 + 1) :
	    width / 2 + rnd() % (width - width / 2 + 1));
	cidr_mask_bytes(c.a, c.plen);
	return c;
}

static void
against_reference(int af, uint64_t seed, size_t na, size_t nd, size_t nq)
{
	unsigned width = af == AF_INET ? 32 : 128;
	uint8_t bases[32][16];
	struct ref r;
	struct acl *acl;
	struct acl_match got, want;
	union sw_addr a;
	struct cidr q;
	char w1[CIDR_STRLEN], w2[CIDR_STRLEN];
	size_t why[ACL_W_MAX];

	memset(why, 0, sizeof(why));
	rng = seed;
	memset(bases, 0, sizeof(bases));
	for (size_t i = 0; i < nitems(bases); i++) {
		random_bytes(bases[i], width / 8);
		/* Keep IPv6 bases out of ::ffff:0:0/96. */
		if (af == AF_INET6)
			bases[i][0] |= 0x20;
	}
	r.na = na;
	r.nd = nd;
	r.allow = calloc(na + 1, sizeof(*r.allow));
	r.deny = calloc(nd + 1, sizeof(*r.deny));
	assert_non_null(r.allow);
	assert_non_null(r.deny);
	for (size_t i = 0; i < na; i++)
		r.allow[i] = random_prefix(af, bases, nitems(bases));
	for (size_t i = 0; i < nd; i++)
		r.deny[i] = random_prefix(af, bases, nitems(bases));
	assert_int_equal(acl_build(r.allow, na, r.deny, nd, &acl), 0);
	assert_true(acl_nodes(acl) <= 2 * (na + nd));

	for (size_t i = 0; i < nq; i++) {
		struct cidr near;

		/* Half near a base (hits), half anywhere (mostly misses). */
		if (i % 2 == 0) {
			uint8_t keep[16], noise[16];

			near = random_prefix(af, bases, nitems(bases));
			memset(keep, 0xff, sizeof(keep));
			cidr_mask_bytes(keep, near.plen);
			memset(noise, 0, sizeof(noise));
			random_bytes(noise, width / 8);
			for (int j = 0; j < 16; j++)
				q.a[j] = (uint8_t)((near.a[j] & keep[j]) |
				    (noise[j] & ~keep[j]));
		} else {
			memset(q.a, 0, sizeof(q.a));
			random_bytes(q.a, width / 8);
			if (af == AF_INET6)
				q.a[0] |= 0x20;
		}
		q.af = (uint8_t)af;
		q.plen = (uint8_t)width;
		cidr_to_addr(&q, &a);
		want = ref_check(&r, af, q.a, width);
		why[want.why]++;
		acl_check(acl, &a, &got);
		if (got.verdict != want.verdict || got.why != want.why ||
		    got.index != want.index ||
		    !cidr_eq(&got.prefix, &want.prefix)) {
			cidr_format(&got.prefix, w1, sizeof(w1));
			cidr_format(&want.prefix, w2, sizeof(w2));
			fail_msg("query %zu: got %s %s #%d, want %s %s #%d", i,
			    acl_why_name(got.why), w1, got.index,
			    acl_why_name(want.why), w2, want.index);
		}
		/* And as a prefix of random length. */
		q.plen = (uint8_t)(rnd() % (width + 1));
		cidr_mask_bytes(q.a, q.plen);
		want = ref_check(&r, af, q.a, q.plen);
		acl_check_cidr(acl, &q, &got);
		assert_int_equal(got.verdict, want.verdict);
		assert_int_equal(got.why, want.why);
		assert_int_equal(got.index, want.index);
	}
	/* The workload exercised every outcome, not just misses. */
	if (na > 10)
		assert_true(why[ACL_W_ALLOW_PREFIX] > nq / 20);
	if (nd > 10)
		assert_true(why[ACL_W_DENY_PREFIX] > nq / 20);
	assert_true(why[na ? ACL_W_DEFAULT_DENY : ACL_W_DEFAULT_ALLOW] > 0);
	acl_free(acl);
	free(r.allow);
	free(r.deny);
}

static void
reference_v4(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 3; seed++)
		against_reference(AF_INET, seed * 7919, 1500, 1500, 3000);
	/* Deny only, and tiny tables. */
	against_reference(AF_INET, 11, 0, 2000, 3000);
	against_reference(AF_INET, 12, 1, 1, 2000);
}

static void
reference_v6(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 3; seed++)
		against_reference(AF_INET6, seed * 104729, 1500, 1500, 3000);
	against_reference(AF_INET6, 21, 2000, 0, 3000);
}

static void
capacity(void **state)
{
	struct cidr *v, one = P("10.0.0.0/8");
	struct acl *acl = NULL;
	union sw_addr a;
	struct acl_match m;

	(void)state;
	/* Over: refused before anything is read. */
	assert_int_equal(acl_build(&one, ACL_MAX_PREFIXES + 1, NULL, 0, &acl),
	    -SBC_ELIMIT);
	assert_int_equal(acl_build(&one, ACL_MAX_PREFIXES, &one, 1, &acl),
	    -SBC_ELIMIT);
	assert_null(acl);
	/* At: every one of them is found. */
	v = calloc(ACL_MAX_PREFIXES, sizeof(*v));
	assert_non_null(v);
	for (uint32_t i = 0; i < ACL_MAX_PREFIXES; i++) {
		uint32_t x = i * 2654435761u;

		v[i].af = AF_INET;
		v[i].plen = 32;
		memcpy(v[i].a, &x, 4);
	}
	assert_int_equal(acl_build(v, ACL_MAX_PREFIXES / 2,
	    v + ACL_MAX_PREFIXES / 2, ACL_MAX_PREFIXES / 2, &acl), 0);
	assert_int_equal(acl_count(acl), ACL_MAX_PREFIXES);
	assert_true(acl_memory(acl) > 0);
	for (uint32_t i = 0; i < ACL_MAX_PREFIXES; i += 997) {
		cidr_to_addr(&v[i], &a);
		acl_check(acl, &a, &m);
		assert_int_equal(m.why, i < ACL_MAX_PREFIXES / 2 ?
		    ACL_W_ALLOW_PREFIX : ACL_W_DENY_PREFIX);
		assert_int_equal(m.index, (int)(i % (ACL_MAX_PREFIXES / 2)));
	}
	acl_free(acl);
	free(v);
}

struct reader {
	const struct acl	*acl;
	unsigned		 seed;
	unsigned long		 allowed, denied;
};

static void *
reader_main(void *arg)
{
	struct reader *rd = arg;
	union sw_addr a;
	uint32_t x = rd->seed;

	memset(&a, 0, sizeof(a));
	a.sin.sin_family = AF_INET;
	for (int i = 0; i < 200000; i++) {
		x = x * 1664525u + 1013904223u;
		a.sin.sin_addr.s_addr = x;
		if (acl_check(rd->acl, &a, NULL) == ACL_ALLOW)
			rd->allowed++;
		else
			rd->denied++;
	}
	return NULL;
}

static void
concurrent_readers(void **state)
{
	const char *allow[] = { "0.0.0.0/1" };
	const char *deny[] = { "0.0.0.0/2" };
	struct acl *acl = build(allow, 1, deny, 1);
	struct reader rd[4];
	pthread_t th[4];

	(void)state;
	for (int i = 0; i < 4; i++) {
		memset(&rd[i], 0, sizeof(rd[i]));
		rd[i].acl = acl;
		rd[i].seed = (unsigned)i + 1;
		assert_int_equal(pthread_create(&th[i], NULL, reader_main,
		    &rd[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(rd[i].allowed + rd[i].denied, 200000);
		/* A quarter of the space is allowed. */
		assert_true(rd[i].allowed > 40000 && rd[i].allowed < 60000);
	}
	acl_free(acl);
}

/* Not a test of speed (nothing is asserted); run by hand with
 * SW_BENCH=1 to print ns per lookup. */
static void
bench_one(size_t n)
{
	struct cidr *v;
	struct acl *acl;
	union sw_addr *q;
	struct timespec t0, t1;
	size_t nq = 1 << 16;
	unsigned long sink = 0;
	double ns;

	rng = 42;
	v = calloc(n, sizeof(*v));
	q = calloc(nq, sizeof(*q));
	assert_non_null(v);
	assert_non_null(q);
	for (size_t i = 0; i < n; i++) {
		uint32_t x = (uint32_t)rnd();

		v[i].af = AF_INET;
		v[i].plen = (uint8_t)(16 + rnd() % 17);
		memcpy(v[i].a, &x, 4);
		cidr_mask_bytes(v[i].a, v[i].plen);
	}
	for (size_t i = 0; i < nq; i++) {
		q[i].sin.sin_family = AF_INET;
		if (i % 2)
			memcpy(&q[i].sin.sin_addr, v[rnd() % n].a, 4);
		else
			q[i].sin.sin_addr.s_addr = (uint32_t)rnd();
	}
	assert_int_equal(acl_build(v, n / 2, v + n / 2, n - n / 2, &acl), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int rep = 0; rep < 50; rep++)
		for (size_t i = 0; i < nq; i++)
			sink += acl_check(acl, &q[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 +
	    (double)(t1.tv_nsec - t0.tv_nsec)) / (50.0 * (double)nq);
	printf("bench: acl_check v4, %6zu prefixes (%zu nodes): %.1f ns/op "
	    "(%lu)\n", n, acl_nodes(acl), ns, sink);
	acl_free(acl);
	free(v);
	free(q);
}

static void
bench(void **state)
{
	(void)state;
	if (getenv("SW_BENCH") == NULL)
		skip();
	bench_one(16);
	bench_one(1000);
	bench_one(10000);
	bench_one(100000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(empty_allows_all),
		cmocka_unit_test(longest_prefix_decides),
		cmocka_unit_test(deny_wins_at_equal_prefix),
		cmocka_unit_test(deny_only_list),
		cmocka_unit_test(zero_length_and_hosts),
		cmocka_unit_test(duplicates_keep_first_index),
		cmocka_unit_test(mapped_addresses_are_ipv4),
		cmocka_unit_test(bad_input),
		cmocka_unit_test(check_cidr),
		cmocka_unit_test(reference_v4),
		cmocka_unit_test(reference_v6),
		cmocka_unit_test(capacity),
		cmocka_unit_test(concurrent_readers),
		cmocka_unit_test(bench),
	};

	/* SW_TEST_FILTER=name runs one test (cmocka's own filter). */
	if (getenv("SW_TEST_FILTER") != NULL)
		cmocka_set_test_filter(getenv("SW_TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
