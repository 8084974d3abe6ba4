/*
 * Unit tests for src/policy/ratelimit.c: exact token arithmetic on a
 * synthetic clock, the excess window, key builders, capacity at and
 * over its bound with both eviction kinds, CLOCK's second chance, and
 * four threads hammering one table.
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

#include "policy/ratelimit.h"

static union sw_addr
A(const char *s)
{
	union sw_addr a;

	if (sw_addr_parse(s, 5060, &a) != 0)
		fail_msg("bad address in test: %s", s);
	return a;
}

static struct rl_table *
table(uint32_t cap, uint32_t stripes, uint32_t window)
{
	struct rl_conf c = { .capacity = cap, .stripes = stripes,
	    .window_ms = window };
	struct rl_table *t = NULL;

	assert_int_equal(rl_new(&c, &t), 0);
	return t;
}

static struct rl_key
K(const char *addr)
{
	union sw_addr a = A(addr);
	struct rl_key k;

	assert_int_equal(rl_key_src(&k, &a), 0);
	return k;
}

static void
bad_conf(void **state)
{
	struct rl_conf c = { .capacity = 0 };
	struct rl_table *t = NULL;

	(void)state;
	assert_int_equal(rl_new(&c, &t), -EINVAL);
	c.capacity = RL_MAX_CAPACITY + 1;
	assert_int_equal(rl_new(&c, &t), -EINVAL);
	c.capacity = 10;
	c.stripes = 3;
	assert_int_equal(rl_new(&c, &t), -EINVAL);
	c.stripes = RL_MAX_STRIPES * 2;
	assert_int_equal(rl_new(&c, &t), -EINVAL);
	assert_null(t);
	rl_free(NULL);
}

static void
exact_arithmetic(void **state)
{
	struct rl_table *t = table(16, 1, 0);
	struct rl_rate r = RL_RATE(10, 5);
	struct rl_key k = K("192.0.2.1");
	struct rl_result res;

	(void)state;
	assert_int_equal(r.rate_milli, 10000);
	/* A new key starts full: five at once. */
	for (int i = 0; i < 5; i++) {
		assert_int_equal(rl_check(t, &k, &r, 1000, &res), 1);
		assert_int_equal(res.fresh, i == 0);
		assert_int_equal(res.tokens, 4 - i);
		assert_int_equal(res.retry_ms, 0);
		assert_int_equal(res.excess, 0);
	}
	/* Empty: one token takes exactly 100 ms at 10/s. */
	assert_int_equal(rl_check(t, &k, &r, 1000, &res), 0);
	assert_int_equal(res.retry_ms, 100);
	assert_int_equal(res.excess, 1);
	assert_int_equal(rl_check(t, &k, &r, 1099, &res), 0);
	assert_int_equal(res.retry_ms, 1);
	assert_int_equal(res.excess, 2);
	assert_int_equal(rl_check(t, &k, &r, 1100, &res), 1);
	assert_int_equal(res.tokens, 0);
	/* 0.99 tokens after 99 ms is not enough; 250 ms give 2.5. */
	assert_int_equal(rl_check(t, &k, &r, 1199, &res), 0);
	assert_int_equal(rl_check(t, &k, &r, 1449, &res), 1);
	assert_int_equal(res.tokens, 2);	/* 0.99 + 2.5 - 1 = 2.49 */
	assert_int_equal(rl_check(t, &k, &r, 1449, &res), 1);
	assert_int_equal(rl_check(t, &k, &r, 1449, &res), 1);
	assert_int_equal(res.tokens, 0);	/* 0.49 */
	assert_int_equal(rl_check(t, &k, &r, 1449, &res), 0);
	assert_int_equal(res.retry_ms, 51);	/* 0.51 missing */
	/* A long pause refills to the burst, not beyond. */
	assert_int_equal(rl_check(t, &k, &r, 1000000, &res), 1);
	assert_int_equal(res.tokens, 4);
	rl_free(t);
}

static void
fractional_and_zero_rates(void **state)
{
	struct rl_table *t = table(16, 1, 0);
	struct rl_rate half = RL_RATE(0.5, 1), none = RL_RATE(0, 2);
	struct rl_rate zero_burst = RL_RATE(100, 0);
	struct rl_key k1 = K("192.0.2.1"), k2 = K("192.0.2.2");
	struct rl_key k3 = K("192.0.2.3");
	struct rl_result res;

	(void)state;
	assert_int_equal(half.rate_milli, 500);
	assert_int_equal(RL_RATE(0.29, 1).rate_milli, 290);
	assert_int_equal(RL_RATE(0.001, 1).rate_milli, 1);
	assert_int_equal(RL_RATE(4000000, 1).rate_milli, 4000000000u);
	assert_int_equal(rl_check(t, &k1, &half, 0, &res), 1);
	assert_int_equal(rl_check(t, &k1, &half, 1999, &res), 0);
	assert_int_equal(res.retry_ms, 1);
	assert_int_equal(rl_check(t, &k1, &half, 2000, &res), 1);

	/* Rate 0: the burst, then never again. */
	assert_int_equal(rl_check(t, &k2, &none, 0, &res), 1);
	assert_int_equal(rl_check(t, &k2, &none, 0, &res), 1);
	assert_int_equal(rl_check(t, &k2, &none, 1u << 30, &res), 0);
	assert_int_equal(res.retry_ms, UINT32_MAX);

	/* Burst 0 disables the key. */
	assert_int_equal(rl_check(t, &k3, &zero_burst, 0, &res), 0);
	assert_int_equal(rl_check(t, &k3, &zero_burst, 100000, &res), 0);
	rl_free(t);
}

static void
cost_and_burst_changes(void **state)
{
	struct rl_table *t = table(16, 1, 0);
	struct rl_rate r = RL_RATE(1, 10), small = RL_RATE(1, 3);
	struct rl_key k = K("2001:db8::1");
	struct rl_result res;

	(void)state;
	assert_int_equal(rl_take(t, &k, &r, 11, 0, &res), 0);
	assert_int_equal(res.retry_ms, UINT32_MAX);	/* never fits */
	assert_int_equal(rl_take(t, &k, &r, 10, 0, &res), 1);
	assert_int_equal(res.tokens, 0);
	assert_int_equal(rl_take(t, &k, &r, 0, 0, &res), 1);
	assert_int_equal(rl_take(t, &k, &r, 4, 1000, &res), 0);
	assert_int_equal(res.retry_ms, 3000);
	/* Lowering the burst clamps what is stored. */
	assert_int_equal(rl_take(t, &k, &r, 0, 9000, &res), 1);
	assert_int_equal(res.tokens, 9);
	assert_int_equal(rl_take(t, &k, &small, 0, 9000, &res), 1);
	assert_int_equal(res.tokens, 3);
	rl_free(t);
}

static void
clock_edges(void **state)
{
	struct rl_table *t = table(16, 1, 0);
	struct rl_rate r = RL_RATE(1000000, 2);
	struct rl_key k = K("192.0.2.9");
	struct rl_result res;
	uint64_t big = UINT64_MAX - 10;

	(void)state;
	assert_int_equal(rl_check(t, &k, &r, 5000, &res), 1);
	assert_int_equal(rl_check(t, &k, &r, 5000, &res), 1);
	/* A clock that goes back adds nothing and breaks nothing. */
	assert_int_equal(rl_check(t, &k, &r, 10, &res), 0);
	assert_int_equal(rl_check(t, &k, &r, 4999, &res), 0);
	/* Huge steps do not overflow. */
	assert_int_equal(rl_check(t, &k, &r, big, &res), 1);
	assert_int_equal(res.tokens, 1);
	assert_int_equal(rl_check(t, &k, &r, big, &res), 1);
	assert_int_equal(rl_check(t, &k, &r, big, &res), 0);
	assert_int_equal(rl_check(t, &k, &r, UINT64_MAX, &res), 1);
	rl_free(t);
}

static void
excess_window(void **state)
{
	struct rl_table *t = table(16, 1, 10000);
	struct rl_rate r = RL_RATE(0, 1);
	struct rl_key k = K("192.0.2.1");
	struct rl_result res;

	(void)state;
	assert_int_equal(rl_check(t, &k, &r, 0, &res), 1);
	for (uint32_t i = 1; i <= 50; i++) {
		assert_int_equal(rl_check(t, &k, &r, 100 * i, &res), 0);
		assert_int_equal(res.excess, i);
	}
	/* The window started at the first excess (100 ms): it ends at
	 * 10100, and the count starts over. */
	assert_int_equal(rl_check(t, &k, &r, 10099, &res), 0);
	assert_int_equal(res.excess, 51);
	assert_int_equal(rl_check(t, &k, &r, 10100, &res), 0);
	assert_int_equal(res.excess, 1);
	/* An allowed event reports the window's count too. */
	rl_free(t);

	t = table(16, 1, 1000);
	r = RL_RATE(1, 1);
	assert_int_equal(rl_check(t, &k, &r, 0, &res), 1);
	assert_int_equal(rl_check(t, &k, &r, 10, &res), 0);
	assert_int_equal(rl_check(t, &k, &r, 20, &res), 0);
	assert_int_equal(rl_check(t, &k, &r, 1000, &res), 1);
	assert_int_equal(res.excess, 2);
	assert_int_equal(rl_check(t, &k, &r, 1010, &res), 0);
	assert_int_equal(res.excess, 1);	/* 1010 - 10 >= 1000 */
	rl_free(t);
}

static void
key_builders(void **state)
{
	union sw_addr a = A("192.0.2.1"), b = A("192.0.2.200");
	union sw_addr m = A("::ffff:192.0.2.1"), c = A("192.0.3.1");
	union sw_addr v6a = A("2001:db8:0:1::1"), v6b = A("2001:db8:0:1:ffff::9");
	union sw_addr v6c = A("2001:db8:0:2::1"), bad;
	struct rl_key k1, k2;
	char longacct[200];

	(void)state;
	/* Source: ports ignored, mapped IPv6 is IPv4. */
	rl_key_src(&k1, &a);
	sw_addr_set_port(&m, 1234);
	rl_key_src(&k2, &m);
	assert_int_equal(k1.len, k2.len);
	assert_memory_equal(k1.b, k2.b, k1.len);
	rl_key_src(&k2, &b);
	assert_memory_not_equal(k1.b, k2.b, k1.len);
	/* Prefix: /24 and /64. */
	rl_key_prefix(&k1, &a);
	rl_key_prefix(&k2, &b);
	assert_memory_equal(k1.b, k2.b, k1.len);
	rl_key_prefix(&k2, &c);
	assert_memory_not_equal(k1.b, k2.b, k1.len);
	rl_key_prefix(&k1, &v6a);
	rl_key_prefix(&k2, &v6b);
	assert_int_equal(k1.len, 18);
	assert_memory_equal(k1.b, k2.b, k1.len);
	rl_key_prefix(&k2, &v6c);
	assert_memory_not_equal(k1.b, k2.b, k1.len);
	/* Kinds never collide: the same address, different kinds. */
	rl_key_src(&k1, &a);
	rl_key_prefix(&k2, &a);
	assert_int_not_equal(k1.b[0], k2.b[0]);

	/* Accounts inline when short, hashed when long. */
	rl_key_account(&k1, slice_cstr("alice@example.com"));
	rl_key_account(&k2, slice_cstr("alice@example.org"));
	assert_int_equal(k1.len, 2 + 1 + 17);
	assert_false(k1.len == k2.len &&
	    memcmp(k1.b, k2.b, k1.len) == 0);
	memset(longacct, 'x', sizeof(longacct));
	rl_key_account(&k1, slice_make(longacct, sizeof(longacct)));
	assert_int_equal(k1.len, 1 + 1 + 8);
	assert_int_equal(k1.b[1], 1);
	longacct[199] = 'y';
	rl_key_account(&k2, slice_make(longacct, sizeof(longacct)));
	assert_memory_not_equal(k1.b, k2.b, k1.len);
	/* The longest account that still fits inline with IPv6. */
	assert_int_equal(rl_key_src_account(&k1, &v6a,
	    slice_make(longacct, RL_KEY_MAX - 18 - 2)), 0);
	assert_int_equal(k1.len, RL_KEY_MAX);
	assert_int_equal(rl_key_src_account(&k1, &v6a,
	    slice_make(longacct, RL_KEY_MAX - 18 - 1)), 0);
	assert_int_equal(k1.len, 18 + 1 + 8);

	rl_key_src_method(&k1, &a, slice_cstr("INVITE"));
	rl_key_src_method(&k2, &a, slice_cstr("REGISTER"));
	assert_int_not_equal(k1.len, k2.len);
	rl_key_src_account(&k2, &a, slice_cstr("INVITE"));
	assert_int_not_equal(k1.b[0], k2.b[0]);

	memset(&bad, 0, sizeof(bad));
	bad.sa.sa_family = AF_UNIX;
	assert_int_equal(rl_key_src(&k1, &bad), -EAFNOSUPPORT);
	assert_int_equal(rl_key_src_account(&k1, &bad, SLICE_NULL),
	    -EAFNOSUPPORT);
	assert_int_equal(rl_key_src_method(&k1, &bad, SLICE_NULL),
	    -EAFNOSUPPORT);
}

static struct rl_key
Kn(uint32_t i)
{
	union sw_addr a;
	struct rl_key k;

	memset(&a, 0, sizeof(a));
	a.sin.sin_family = AF_INET;
	a.sin.sin_addr.s_addr = htonl(0x0a000000u + i);
	rl_key_src(&k, &a);
	return k;
}

static void
capacity_active_eviction(void **state)
{
	enum { CAP = 64 };
	struct rl_table *t = table(CAP, 1, 0);
	struct rl_rate slow = RL_RATE(0.001, 10);
	struct rl_result res;
	struct rl_stats st;
	struct rl_key k;

	(void)state;
	/* At capacity: every key has its own bucket. */
	for (uint32_t i = 0; i < CAP; i++) {
		k = Kn(i);
		assert_int_equal(rl_check(t, &k, &slow, 0, &res), 1);
		assert_int_equal(res.fresh, 1);
	}
	rl_stats(t, &st);
	assert_int_equal(st.entries, CAP);
	assert_int_equal(st.capacity, CAP);
	assert_int_equal(st.inserted, CAP);
	assert_int_equal(st.evicted_idle + st.evicted_active, 0);
	for (uint32_t i = 0; i < CAP; i++) {
		k = Kn(i);
		assert_int_equal(rl_check(t, &k, &slow, 1, &res), 1);
		assert_int_equal(res.fresh, 0);
		assert_int_equal(res.tokens, 8);
	}
	/* Over: one more key evicts one entry, none of them idle. */
	k = Kn(CAP);
	assert_int_equal(rl_check(t, &k, &slow, 2, &res), 1);
	assert_int_equal(res.fresh, 1);
	rl_stats(t, &st);
	assert_int_equal(st.entries, CAP);
	assert_int_equal(st.evicted_active, 1);
	assert_int_equal(st.evicted_idle, 0);
	/* The hand cleared every bit and took slot 0 (key 0); the last
	 * key is still there, key 0 comes back as a new one. */
	k = Kn(CAP - 1);
	rl_check(t, &k, &slow, 3, &res);
	assert_int_equal(res.fresh, 0);
	assert_int_equal(res.tokens, 7);
	k = Kn(0);
	rl_check(t, &k, &slow, 3, &res);
	assert_int_equal(res.fresh, 1);
	assert_int_equal(res.tokens, 9);
	rl_free(t);
}

static void
capacity_idle_eviction(void **state)
{
	enum { CAP = 32 };
	struct rl_table *t = table(CAP, 1, 100);
	struct rl_rate fast = RL_RATE(1000, 5);
	struct rl_result res;
	struct rl_stats st;
	struct rl_key k;

	(void)state;
	for (uint32_t i = 0; i < CAP; i++) {
		k = Kn(i);
		assert_int_equal(rl_check(t, &k, &fast, 0, &res), 1);
		/* Referenced twice: only idleness can evict them. */
		assert_int_equal(rl_check(t, &k, &fast, 0, &res), 1);
	}
	/* 1000/s refills two tokens in 2 ms; the excess window of 100 ms
	 * has nothing in it. */
	for (uint32_t i = 0; i < 10; i++) {
		k = Kn(CAP + i);
		assert_int_equal(rl_check(t, &k, &fast, 10, &res), 1);
	}
	rl_stats(t, &st);
	assert_int_equal(st.evicted_idle, 10);
	assert_int_equal(st.evicted_active, 0);
	assert_int_equal(st.entries, CAP);
	rl_free(t);
}

static void
second_chance(void **state)
{
	struct rl_table *t = table(4, 1, 0);
	struct rl_rate slow = RL_RATE(0.001, 10);
	struct rl_result res;
	struct rl_key k;

	(void)state;
	for (uint32_t i = 0; i < 4; i++) {
		k = Kn(i);
		rl_check(t, &k, &slow, 0, NULL);
	}
	/* 0 and 1 are used again: their reference bits go up. */
	k = Kn(0);
	rl_check(t, &k, &slow, 0, NULL);
	k = Kn(1);
	rl_check(t, &k, &slow, 0, NULL);
	/* A new key: the hand passes 0 and 1 (clearing) and takes 2. */
	k = Kn(4);
	rl_check(t, &k, &slow, 0, &res);
	assert_int_equal(res.fresh, 1);
	k = Kn(0);
	rl_check(t, &k, &slow, 0, &res);
	assert_int_equal(res.fresh, 0);
	k = Kn(1);
	rl_check(t, &k, &slow, 0, &res);
	assert_int_equal(res.fresh, 0);
	k = Kn(3);
	rl_check(t, &k, &slow, 0, &res);
	assert_int_equal(res.fresh, 0);
	k = Kn(2);
	rl_check(t, &k, &slow, 0, &res);
	assert_int_equal(res.fresh, 1);
	rl_free(t);
}

static void
one_off_flood_spares_regulars(void **state)
{
	struct rl_table *t = table(64, 1, 0);
	struct rl_rate slow = RL_RATE(0.001, 1000000);
	struct rl_result res;
	struct rl_key k;
	uint32_t lost = 0;

	(void)state;
	/* 8 regulars talk once per 8 flood packets from new sources. */
	for (uint32_t round = 0; round < 2000; round++) {
		for (uint32_t r = 0; r < 8; r++) {
			k = Kn(r);
			rl_check(t, &k, &slow, round, &res);
			if (round > 0 && res.fresh)
				lost++;
		}
		for (uint32_t f = 0; f < 8; f++) {
			k = Kn(1000 + round * 8 + f);
			rl_check(t, &k, &slow, round, NULL);
		}
	}
	assert_int_equal(lost, 0);
	rl_free(t);
}

static void
forget(void **state)
{
	struct rl_table *t = table(8, 1, 0);
	struct rl_rate r = RL_RATE(1, 1);
	struct rl_key k = K("192.0.2.1");
	struct rl_result res;

	(void)state;
	assert_int_equal(rl_forget(t, &k), 0);
	rl_check(t, &k, &r, 0, NULL);
	assert_int_equal(rl_check(t, &k, &r, 0, NULL), 0);
	assert_int_equal(rl_forget(t, &k), 1);
	assert_int_equal(rl_check(t, &k, &r, 0, &res), 1);
	assert_int_equal(res.fresh, 1);
	rl_free(t);
}

static void
stripes_split_capacity(void **state)
{
	struct rl_table *t = table(1000, 64, 0);
	struct rl_stats st;
	struct rl_table *tiny = table(3, 64, 0);

	(void)state;
	rl_stats(t, &st);
	assert_int_equal(st.capacity, 64 * 16);	/* 1000/64 rounded up */
	/* Fewer entries than stripes: stripes shrink to fit. */
	rl_stats(tiny, &st);
	assert_int_equal(st.capacity, 4);	/* 2 stripes of 2 */
	rl_free(t);
	rl_free(tiny);
}

/* --- four threads --- */

#define THREADS		4
#define OPS		100000

struct worker {
	struct rl_table	*exact;		/* no eviction: counts are exact */
	struct rl_table	*churn;		/* constant eviction */
	uint32_t	 id;
	uint64_t	 shared_allowed;
	uint64_t	 own_allowed;
	uint64_t	 ops;
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct rl_rate shared = RL_RATE(0, 5000), own = RL_RATE(0, 100);
	struct rl_rate churn = RL_RATE(5, 3);
	struct rl_key ks = K("198.51.100.1"), k;
	uint32_t x = w->id * 7919 + 1;

	for (uint32_t i = 0; i < OPS; i++) {
		x = x * 1664525u + 1013904223u;
		switch (i % 4) {
		case 0:
			/* One key for everybody: exactly its burst gets
			 * through in total. */
			if (rl_check(w->exact, &ks, &shared, i, NULL))
				w->shared_allowed++;
			break;
		case 1:
			k = Kn(1u << 20 | w->id);
			if (rl_check(w->exact, &k, &own, i, NULL))
				w->own_allowed++;
			break;
		default:
			k = Kn(x % 5000);
			rl_check(w->churn, &k, &churn, i, NULL);
			break;
		}
		w->ops++;
	}
	return NULL;
}

static void
four_threads(void **state)
{
	struct rl_table *exact = table(64, 4, 0), *churn = table(512, 8, 0);
	struct worker w[THREADS];
	pthread_t th[THREADS];
	struct rl_stats st, st2;
	uint64_t shared = 0, ops = 0;

	(void)state;
	for (uint32_t i = 0; i < THREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].exact = exact;
		w[i].churn = churn;
		w[i].id = i;
		assert_int_equal(pthread_create(&th[i], NULL, worker_main,
		    &w[i]), 0);
	}
	for (uint32_t i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		shared += w[i].shared_allowed;
		ops += w[i].ops;
		assert_int_equal(w[i].own_allowed, 100);
	}
	assert_int_equal(ops, (uint64_t)THREADS * OPS);
	assert_int_equal(shared, 5000);
	rl_stats(exact, &st);
	rl_stats(churn, &st2);
	assert_int_equal(st.checks + st2.checks, ops);
	assert_int_equal(st.allowed + st.denied, st.checks);
	assert_int_equal(st.evicted_idle + st.evicted_active, 0);
	assert_int_equal(st2.allowed + st2.denied, st2.checks);
	assert_true(st2.entries <= st2.capacity);
	assert_true(st2.evicted_idle + st2.evicted_active > 0);
	assert_int_equal(st2.inserted - st2.entries,
	    st2.evicted_idle + st2.evicted_active);
	rl_free(exact);
	rl_free(churn);
}

/* Not a test of speed: SW_BENCH=1 prints ns per check. */
static void
bench(void **state)
{
	struct rl_table *t = table(1 << 16, 64, 0);
	struct rl_rate r = RL_RATE(1000000, 1000);
	struct timespec t0, t1;
	struct rl_key *keys;
	uint64_t sink = 0;
	double ns;
	enum { NK = 10000, N = 2000000 };

	(void)state;
	if (getenv("SW_BENCH") == NULL) {
		rl_free(t);
		skip();
	}
	keys = calloc(NK, sizeof(*keys));
	assert_non_null(keys);
	for (uint32_t i = 0; i < NK; i++)
		keys[i] = Kn(i * 2654435761u);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint32_t i = 0; i < N; i++)
		sink += (uint64_t)rl_check(t, &keys[0], &r, i / 1000, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 +
	    (double)(t1.tv_nsec - t0.tv_nsec)) / N;
	printf("bench: rl_check one key: %.1f ns/op (%lu)\n", ns,
	    (unsigned long)sink);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint32_t i = 0; i < N; i++)
		sink += (uint64_t)rl_check(t, &keys[i % NK], &r, i / 1000,
		    NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 +
	    (double)(t1.tv_nsec - t0.tv_nsec)) / N;
	printf("bench: rl_check %d keys: %.1f ns/op (%lu)\n", NK, ns,
	    (unsigned long)sink);
	free(keys);
	rl_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bad_conf),
		cmocka_unit_test(exact_arithmetic),
		cmocka_unit_test(fractional_and_zero_rates),
		cmocka_unit_test(cost_and_burst_changes),
		cmocka_unit_test(clock_edges),
		cmocka_unit_test(excess_window),
		cmocka_unit_test(key_builders),
		cmocka_unit_test(capacity_active_eviction),
		cmocka_unit_test(capacity_idle_eviction),
		cmocka_unit_test(second_chance),
		cmocka_unit_test(one_off_flood_spares_regulars),
		cmocka_unit_test(forget),
		cmocka_unit_test(stripes_split_capacity),
		cmocka_unit_test(four_threads),
		cmocka_unit_test(bench),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
