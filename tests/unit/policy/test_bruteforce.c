/*
 * Unit tests for src/policy/bruteforce.c: the sliding window bucket by
 * bucket on a synthetic clock, locking and unlocking, distinct-source
 * counting, trusted sources, capacity at and over its bound (idle and
 * active eviction, locked entries kept), and four threads failing
 * against one account.
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

#include <cmocka.h>

#include "policy/bruteforce.h"

#define ACCT	slice_cstr("100@example.com")

static union sw_addr
A(const char *s)
{
	union sw_addr a;

	if (sw_addr_parse(s, 5060, &a) != 0)
		fail_msg("bad address in test: %s", s);
	return a;
}

static union sw_addr
An(uint32_t i)
{
	union sw_addr a;

	memset(&a, 0, sizeof(a));
	a.sin.sin_family = AF_INET;
	a.sin.sin_addr.s_addr = htonl(0xc6336400u + i);
	return a;
}

/* Window 10 s in 1 s buckets, lock after 5 failures for 60 s. */
static struct bf_table *
table(uint32_t cap, uint32_t stripes, uint32_t threshold)
{
	struct bf_conf c = { .capacity = cap, .stripes = stripes,
	    .window_ms = 10000, .threshold = threshold, .lock_ms = 60000,
	    .trust_ms = 3600000 };
	struct bf_table *t = NULL;

	assert_int_equal(bf_new(&c, &t), 0);
	return t;
}

static void
bad_conf(void **state)
{
	struct bf_conf c = { .capacity = 0 };
	struct bf_table *t = NULL;

	(void)state;
	assert_int_equal(bf_new(&c, &t), -EINVAL);
	c.capacity = BF_MAX_CAPACITY + 1;
	assert_int_equal(bf_new(&c, &t), -EINVAL);
	c.capacity = 10;
	c.window_ms = BF_BUCKETS - 1;
	assert_int_equal(bf_new(&c, &t), -EINVAL);
	c.window_ms = 0;
	c.stripes = 5;
	assert_int_equal(bf_new(&c, &t), -EINVAL);
	assert_null(t);
	/* Defaults. */
	c.stripes = 0;
	assert_int_equal(bf_new(&c, &t), 0);
	bf_free(t);
	bf_free(NULL);
}

static void
lock_at_threshold(void **state)
{
	struct bf_table *t = table(16, 1, 5);
	union sw_addr a = A("192.0.2.1");
	struct bf_result r;
	uint64_t until = 0;

	(void)state;
	for (uint32_t i = 1; i <= 4; i++) {
		assert_int_equal(bf_failure(t, ACCT, &a, 1000 * i, &r), 0);
		assert_int_equal(r.failures, i);
		assert_int_equal(r.sources, 1);
		assert_false(r.locked || r.locked_now);
		assert_int_equal(r.total, i);
	}
	assert_int_equal(bf_is_locked(t, ACCT, 4000, NULL), 0);
	assert_int_equal(bf_failure(t, ACCT, &a, 5000, &r), 1);
	assert_true(r.locked && r.locked_now);
	assert_int_equal(r.failures, 5);
	assert_int_equal(r.locked_until, 65000);
	assert_int_equal(r.locks, 1);
	assert_int_equal(bf_is_locked(t, ACCT, 5000, &until), 1);
	assert_int_equal(until, 65000);
	assert_int_equal(bf_is_locked(t, ACCT, 64999, NULL), 1);
	assert_int_equal(bf_is_locked(t, ACCT, 65000, NULL), 0);
	/* Failures during the lock are counted, in a new window. */
	assert_int_equal(bf_failure(t, ACCT, &a, 6000, &r), 1);
	assert_false(r.locked_now);
	assert_int_equal(r.failures, 1);
	assert_int_equal(r.total, 6);
	/* After the lock a fresh threshold is needed. */
	assert_int_equal(bf_failure(t, ACCT, &a, 70000, &r), 0);
	assert_int_equal(r.failures, 1);
	/* Other accounts are not affected. */
	assert_int_equal(bf_is_locked(t, slice_cstr("101@example.com"), 5000,
	    NULL), 0);
	bf_free(t);
}

/* A reload's new threshold and lock length count from the next failure. */
static void
limits_changed_live(void **state)
{
	struct bf_table *t = table(16, 1, 5);
	union sw_addr a = A("192.0.2.1");
	struct bf_result r;

	(void)state;
	assert_int_equal(bf_failure(t, ACCT, &a, 1000, &r), 0);
	assert_int_equal(bf_failure(t, ACCT, &a, 2000, &r), 0);
	bf_set_limits(t, 3, 10000);
	assert_int_equal(bf_failure(t, ACCT, &a, 3000, &r), 1);
	assert_true(r.locked_now);
	assert_int_equal(r.locked_until, 13000);
	/* 0: the defaults */
	bf_set_limits(t, 0, 0);
	for (uint32_t i = 1; i < BF_DEFAULT_THRESHOLD; i++)
		assert_int_equal(bf_failure(t, slice_cstr("7@x"), &a,
		    20000 + i, &r), 0);
	assert_int_equal(bf_failure(t, slice_cstr("7@x"), &a, 21000, &r), 1);
	assert_int_equal(r.locked_until, 21000 + BF_DEFAULT_LOCK_MS);
	bf_free(t);
}

static void
window_slides_by_bucket(void **state)
{
	struct bf_table *t = table(16, 1, 5);
	union sw_addr a = A("192.0.2.1");
	struct bf_result r;

	(void)state;
	/* Four failures in bucket 0 ([0, 1000)). */
	for (int i = 0; i < 4; i++)
		bf_failure(t, ACCT, &a, 999, &r);
	/* Bucket 9 still sees bucket 0: the fifth locks. */
	assert_int_equal(bf_failure(t, ACCT, &a, 9999, &r), 1);
	bf_free(t);

	t = table(16, 1, 5);
	for (int i = 0; i < 4; i++)
		bf_failure(t, ACCT, &a, 999, &r);
	/* Bucket 10 does not: bucket 0 has left the window. */
	assert_int_equal(bf_failure(t, ACCT, &a, 10000, &r), 0);
	assert_int_equal(r.failures, 1);
	/* Spread over the window: one a second, five in any ten. */
	bf_free(t);

	t = table(16, 1, 5);
	for (uint64_t s = 0; s < 100; s += 3) {
		assert_int_equal(bf_failure(t, ACCT, &a, s * 1000, &r), 0);
		assert_true(r.failures <= 4);
	}
	/* A long silence empties everything. */
	assert_int_equal(bf_failure(t, ACCT, &a, 10000000, &r), 0);
	assert_int_equal(r.failures, 1);
	/* A clock that goes back counts in the newest bucket. */
	assert_int_equal(bf_failure(t, ACCT, &a, 5, &r), 0);
	assert_int_equal(r.failures, 2);
	bf_free(t);
}

static void
distinct_sources(void **state)
{
	struct bf_table *t = table(16, 1, 1000);
	union sw_addr v6a = A("2001:db8:0:1::1"), v6b = A("2001:db8:0:1::2");
	union sw_addr v6c = A("2001:db8:0:2::1"), a;
	struct bf_result r;

	(void)state;
	for (uint32_t i = 0; i < 5; i++) {
		a = An(i);
		bf_failure(t, ACCT, &a, 100, &r);
		assert_int_equal(r.sources, i + 1);
	}
	/* The same source again does not count twice. */
	a = An(2);
	bf_failure(t, ACCT, &a, 100, &r);
	assert_int_equal(r.sources, 5);
	assert_int_equal(r.failures, 6);
	/* IPv6: one /64 is one source. */
	bf_failure(t, ACCT, &v6a, 100, &r);
	bf_failure(t, ACCT, &v6b, 100, &r);
	assert_int_equal(r.sources, 6);
	bf_failure(t, ACCT, &v6c, 100, &r);
	assert_int_equal(r.sources, 7);
	/* Saturates at BF_SOURCES. */
	for (uint32_t i = 100; i < 140; i++) {
		a = An(i);
		bf_failure(t, ACCT, &a, 200, &r);
	}
	assert_int_equal(r.sources, BF_SOURCES);
	/* Sources seen only before the window are not counted. */
	a = An(500);
	bf_failure(t, ACCT, &a, 10200, &r);
	assert_int_equal(r.sources, 1);
	assert_int_equal(r.failures, 1);
	bf_free(t);

	/* Only the stalest source is replaced when the set is full. */
	t = table(16, 1, 1000);
	for (uint32_t i = 0; i < BF_SOURCES; i++) {
		a = An(i);
		bf_failure(t, ACCT, &a, 1000 * (i / 2), &r);
	}
	assert_int_equal(r.sources, BF_SOURCES);
	/* At 10000 the sources last seen at 0 are out of the window. */
	a = An(99);
	bf_failure(t, ACCT, &a, 10000, &r);
	assert_int_equal(r.sources, BF_SOURCES - 2 + 1);
	bf_free(t);
}

static void
trusted_sources_pass_a_lock(void **state)
{
	/* A lock longer than the trust, to see the trust run out. */
	struct bf_conf c = { .capacity = 16, .window_ms = 10000,
	    .threshold = 3, .lock_ms = 36000000, .trust_ms = 3600000 };
	struct bf_table *t = NULL;
	union sw_addr office = A("192.0.2.50"), bot = A("203.0.113.1");
	union sw_addr office6 = A("2001:db8::50"), office6b = A("2001:db8::51");
	struct bf_result r;

	(void)state;
	assert_int_equal(bf_new(&c, &t), 0);
	assert_int_equal(bf_success(t, ACCT, &office, 1000), 0);
	assert_int_equal(bf_success(t, ACCT, &office6, 1000), 0);
	for (int i = 0; i < 3; i++)
		bf_failure(t, ACCT, &bot, 2000, &r);
	assert_true(r.locked_now);
	assert_int_equal(bf_is_locked(t, ACCT, 2000, NULL), 1);
	assert_int_equal(bf_is_locked_src(t, ACCT, &bot, 2000, NULL), 1);
	assert_int_equal(bf_is_locked_src(t, ACCT, &office, 2000, NULL), 0);
	assert_int_equal(bf_is_locked_src(t, ACCT, &office6, 2000, NULL), 0);
	/* Trust is per host, not per /64. */
	assert_int_equal(bf_is_locked_src(t, ACCT, &office6b, 2000, NULL), 1);
	/* Trust runs out after trust_ms. */
	assert_int_equal(bf_is_locked_src(t, ACCT, &office, 1000 + 3600000,
	    NULL), 1);
	/* BF_TRUSTED slots: the least recently trusted makes room. */
	for (uint32_t i = 0; i < BF_TRUSTED; i++) {
		union sw_addr x = An(i);

		bf_success(t, ACCT, &x, 3000 + i);
	}
	assert_int_equal(bf_is_locked_src(t, ACCT, &office, 4000, NULL), 1);
	{
		union sw_addr x = An(0);

		assert_int_equal(bf_is_locked_src(t, ACCT, &x, 4000, NULL),
		    0);
	}
	bf_free(t);
}

static void
unlock_and_keys(void **state)
{
	struct bf_table *t = table(16, 1, 2);
	union sw_addr a = A("192.0.2.1");
	struct bf_result r;
	uint8_t big[BF_KEY_MAX + 1];

	(void)state;
	assert_int_equal(bf_unlock(t, ACCT), -SBC_ENOTFOUND);
	bf_failure(t, ACCT, &a, 0, &r);
	bf_failure(t, ACCT, &a, 0, &r);
	assert_int_equal(bf_is_locked(t, ACCT, 1, NULL), 1);
	assert_int_equal(bf_unlock(t, ACCT), 0);
	assert_int_equal(bf_is_locked(t, ACCT, 1, NULL), 0);
	assert_int_equal(bf_failure(t, ACCT, &a, 2, &r), 0);
	assert_int_equal(r.failures, 1);
	assert_int_equal(r.locks, 1);

	memset(big, 'u', sizeof(big));
	assert_int_equal(bf_failure(t, SLICE_NULL, &a, 0, &r), -SBC_ELIMIT);
	assert_int_equal(bf_failure(t, slice_make(big, sizeof(big)), &a, 0,
	    &r), -SBC_ELIMIT);
	assert_int_equal(bf_failure(t, slice_make(big, BF_KEY_MAX), &a, 0,
	    &r), 0);
	assert_int_equal(bf_success(t, slice_make(big, sizeof(big)), &a, 0),
	    -SBC_ELIMIT);
	assert_int_equal(bf_is_locked(t, slice_make(big, sizeof(big)), 0,
	    NULL), 0);
	assert_int_equal(bf_unlock(t, SLICE_NULL), -SBC_ENOTFOUND);
	/* Keys are exact bytes. */
	assert_int_equal(bf_is_locked(t, slice_cstr("100@EXAMPLE.COM"), 1,
	    NULL), 0);
	bf_free(t);
}

struct lister {
	unsigned	n, stop_at;
	char		last[BF_KEY_MAX + 1];
};

static int
list_fn(void *arg, struct slice account, const struct bf_result *r)
{
	struct lister *l = arg;

	assert_true(r->locked);
	slice_to_cstr(account, l->last, sizeof(l->last));
	l->n++;
	return l->n == l->stop_at ? 9 : 0;
}

static void
listing_and_stats(void **state)
{
	struct bf_table *t = table(64, 4, 1);
	union sw_addr a = A("192.0.2.1");
	struct bf_stats st;
	struct lister l;
	char name[32];

	(void)state;
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "%d@example.com", 100 + i);
		bf_failure(t, slice_cstr(name), &a, i < 6 ? 0 : 100000, NULL);
	}
	memset(&l, 0, sizeof(l));
	assert_int_equal(bf_foreach_locked(t, 1000, list_fn, &l), 0);
	assert_int_equal(l.n, 10);
	memset(&l, 0, sizeof(l));
	/* At 60000 the first six locks have ended. */
	assert_int_equal(bf_foreach_locked(t, 100000, list_fn, &l), 0);
	assert_int_equal(l.n, 4);
	assert_true(strcmp(l.last, "106@example.com") >= 0);
	memset(&l, 0, sizeof(l));
	l.stop_at = 2;
	assert_int_equal(bf_foreach_locked(t, 1000, list_fn, &l), 9);
	assert_int_equal(l.n, 2);
	bf_stats(t, 1000, &st);
	assert_int_equal(st.failures, 10);
	assert_int_equal(st.locks, 10);
	assert_int_equal(st.locked, 10);
	assert_int_equal(st.entries, 10);
	assert_int_equal(st.capacity, 64);
	bf_free(t);
}

static void
capacity(void **state)
{
	enum { CAP = 32 };
	struct bf_table *t = table(CAP, 1, 1000);
	union sw_addr a = A("192.0.2.1");
	struct bf_stats st;
	struct bf_result r;
	char name[32];

	(void)state;
	/* At capacity. */
	for (int i = 0; i < CAP; i++) {
		snprintf(name, sizeof(name), "u%d", i);
		assert_int_equal(bf_failure(t, slice_cstr(name), &a, 0, &r),
		    0);
	}
	bf_stats(t, 0, &st);
	assert_int_equal(st.entries, CAP);
	assert_int_equal(st.evicted, 0);
	/* Over, all active: CLOCK takes the first unreferenced. */
	assert_int_equal(bf_failure(t, slice_cstr("new0"), &a, 0, &r), 0);
	bf_stats(t, 0, &st);
	assert_int_equal(st.evicted, 1);
	assert_int_equal(st.entries, CAP);
	/* u0 was the victim; it starts from scratch. */
	bf_failure(t, slice_cstr("u0"), &a, 0, &r);
	assert_int_equal(r.failures, 1);
	assert_int_equal(r.total, 1);
	/* Idle entries go first: after the window everything is idle
	 * except what was touched since. */
	bf_failure(t, slice_cstr("u5"), &a, 20000, &r);
	bf_failure(t, slice_cstr("u5"), &a, 20000, &r);
	for (int i = 0; i < CAP - 1; i++) {
		snprintf(name, sizeof(name), "late%d", i);
		assert_int_equal(bf_failure(t, slice_cstr(name), &a, 20000,
		    &r), 0);
	}
	bf_failure(t, slice_cstr("u5"), &a, 20000, &r);
	assert_int_equal(r.failures, 3);
	bf_free(t);

	/* Locked entries are never evicted: when only they remain, new
	 * failures are refused. */
	t = table(CAP, 1, 1);
	for (int i = 0; i < CAP; i++) {
		snprintf(name, sizeof(name), "u%d", i);
		assert_int_equal(bf_failure(t, slice_cstr(name), &a, 0, &r),
		    1);
	}
	assert_int_equal(bf_failure(t, slice_cstr("x"), &a, 1, &r),
	    -SBC_EFULL);
	assert_int_equal(bf_success(t, slice_cstr("x"), &a, 1), -SBC_EFULL);
	bf_stats(t, 1, &st);
	assert_int_equal(st.refused_full, 2);
	assert_int_equal(st.locked, CAP);
	for (int i = 0; i < CAP; i++) {
		snprintf(name, sizeof(name), "u%d", i);
		assert_int_equal(bf_is_locked(t, slice_cstr(name), 1, NULL),
		    1);
	}
	/* Once the locks end there is room again. */
	assert_int_equal(bf_failure(t, slice_cstr("x"), &a, 60000, &r), 1);
	bf_free(t);
}

/* --- four threads --- */

#define THREADS		4
#define OPS		50000

struct worker {
	struct bf_table	*t;
	uint32_t	 id;
	unsigned	 locked_now;
	unsigned	 errors;
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct bf_result r;
	union sw_addr a = An(w->id);
	char name[32];

	for (uint32_t i = 0; i < OPS; i++) {
		if (bf_failure(w->t, ACCT, &a, 1000, &r) < 0)
			w->errors++;
		if (r.locked_now)
			w->locked_now++;
		/* Plus churn over many accounts. */
		snprintf(name, sizeof(name), "c%u", (i * 7919 + w->id) % 3000);
		bf_failure(w->t, slice_cstr(name), &a, 1000 + i, NULL);
		if (i % 16 == 0)
			bf_success(w->t, slice_cstr(name), &a, 1000 + i);
		(void)bf_is_locked_src(w->t, ACCT, &a, 1000, NULL);
	}
	return NULL;
}

static void
four_threads(void **state)
{
	struct bf_table *t = table(1024, 8, 100);
	struct worker w[THREADS];
	pthread_t th[THREADS];
	struct bf_result r;
	union sw_addr a = An(99);
	unsigned locks = 0;

	(void)state;
	for (uint32_t i = 0; i < THREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].t = t;
		w[i].id = i;
		assert_int_equal(pthread_create(&th[i], NULL, worker_main,
		    &w[i]), 0);
	}
	for (uint32_t i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].errors, 0);
		locks += w[i].locked_now;
	}
	/* One lock for the shared account, seen by exactly one thread;
	 * every failure counted. */
	assert_int_equal(locks, 1);
	assert_int_equal(bf_failure(t, ACCT, &a, 1000, &r), 1);
	assert_int_equal(r.total, (uint64_t)THREADS * OPS + 1);
	assert_int_equal(r.locks, 1);
	assert_int_equal(r.sources, THREADS + 1);
	bf_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bad_conf),
		cmocka_unit_test(lock_at_threshold),
		cmocka_unit_test(limits_changed_live),
		cmocka_unit_test(window_slides_by_bucket),
		cmocka_unit_test(distinct_sources),
		cmocka_unit_test(trusted_sources_pass_a_lock),
		cmocka_unit_test(unlock_and_keys),
		cmocka_unit_test(listing_and_stats),
		cmocka_unit_test(capacity),
		cmocka_unit_test(four_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
