/*
 * Unit tests for src/auth/replay.c: the sliding window, bounds,
 * eviction, fail-closed when full, and many threads at once (run this
 * binary under TSan too: see the report in the commit message).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <pthread.h>
#include <string.h>

#include <cmocka.h>

#include "auth/replay.h"

#define S(x)	slice_cstr(x)

static const int64_t T0 = 1700000000;
static const int64_t EXP = 1700000300;

static void
test_window(void **state)
{
	struct replay *r;

	(void)state;
	assert_int_equal(replay_new(100, &r), 0);
	assert_int_equal(replay_check_and_set(r, S("n1"), 1, T0, EXP),
	    REPLAY_OK);
	assert_int_equal(replay_check_and_set(r, S("n1"), 1, T0, EXP),
	    REPLAY_REPLAYED);
	assert_int_equal(replay_check_and_set(r, S("n1"), 2, T0, EXP),
	    REPLAY_OK);
	/* UDP reordering: 5 arrives before 3 and 4 */
	assert_int_equal(replay_check_and_set(r, S("n1"), 5, T0, EXP),
	    REPLAY_OK);
	assert_int_equal(replay_check_and_set(r, S("n1"), 4, T0, EXP),
	    REPLAY_OK);
	assert_int_equal(replay_check_and_set(r, S("n1"), 3, T0, EXP),
	    REPLAY_OK);
	for (uint32_t nc = 1; nc <= 5; nc++)
		assert_int_equal(replay_check_and_set(r, S("n1"), nc, T0, EXP),
		    REPLAY_REPLAYED);
	/* the window edge: hi - 63 still tracked, hi - 64 refused */
	assert_int_equal(replay_check_and_set(r, S("n1"), 200, T0, EXP),
	    REPLAY_OK);
	assert_int_equal(replay_check_and_set(r, S("n1"), 137, T0, EXP),
	    REPLAY_OK);
	assert_int_equal(replay_check_and_set(r, S("n1"), 137, T0, EXP),
	    REPLAY_REPLAYED);
	assert_int_equal(replay_check_and_set(r, S("n1"), 136, T0, EXP),
	    REPLAY_REPLAYED);
	/* a shift of exactly 63 keeps the oldest bit, 64 drops all */
	assert_int_equal(replay_check_and_set(r, S("n1"), 263, T0, EXP),
	    REPLAY_OK);
	assert_int_equal(replay_check_and_set(r, S("n1"), 200, T0, EXP),
	    REPLAY_REPLAYED);
	assert_int_equal(replay_check_and_set(r, S("n1"), 201, T0, EXP),
	    REPLAY_OK);
	assert_int_equal(replay_check_and_set(r, S("n1"), 1000, T0, EXP),
	    REPLAY_OK);
	assert_int_equal(replay_check_and_set(r, S("n1"), 999, T0, EXP),
	    REPLAY_OK);
	assert_int_equal(replay_check_and_set(r, S("n1"), 263, T0, EXP),
	    REPLAY_REPLAYED);
	/* the top of the range */
	assert_int_equal(replay_check_and_set(r, S("n1"), UINT32_MAX, T0, EXP),
	    REPLAY_OK);
	assert_int_equal(replay_check_and_set(r, S("n1"), UINT32_MAX, T0, EXP),
	    REPLAY_REPLAYED);
	assert_int_equal(replay_check_and_set(r, S("n1"), UINT32_MAX - 1, T0,
	    EXP), REPLAY_OK);

	/* other nonces are independent; the key is exact bytes */
	assert_int_equal(replay_check_and_set(r, S("n2"), 1, T0, EXP),
	    REPLAY_OK);
	assert_int_equal(replay_check_and_set(r, S("N1"), 1, T0, EXP),
	    REPLAY_OK);
	assert_int_equal(replay_check_and_set(r, S("n1 "), 1, T0, EXP),
	    REPLAY_OK);
	assert_int_equal(replay_count(r), 4);
	replay_free(r);
}

static void
test_invalid(void **state)
{
	struct replay *r;
	char big[REPLAY_NONCE_MAX + 1];

	(void)state;
	assert_int_equal(replay_new(0, &r), -EINVAL);
	assert_int_equal(replay_new((size_t)REPLAY_CAPACITY_MAX + 1, &r),
	    -EINVAL);
	assert_int_equal(replay_new(10, NULL), -EINVAL);
	replay_free(NULL);
	assert_int_equal(replay_new(10, &r), 0);
	memset(big, 'x', sizeof(big));
	assert_int_equal(replay_check_and_set(r, SLICE_NULL, 1, T0, EXP),
	    REPLAY_INVALID);
	assert_int_equal(replay_check_and_set(r, slice_make(big,
	    REPLAY_NONCE_MAX + 1), 1, T0, EXP), REPLAY_INVALID);
	assert_int_equal(replay_check_and_set(r, slice_make(big,
	    REPLAY_NONCE_MAX), 1, T0, EXP), REPLAY_OK);
	assert_int_equal(replay_check_and_set(r, S("n"), 0, T0, EXP),
	    REPLAY_INVALID);
	assert_int_equal(replay_check_and_set(r, S("n"), 1, EXP + 1, EXP),
	    REPLAY_INVALID);
	assert_int_equal(replay_check_and_set(r, S("n"), 1, EXP, EXP),
	    REPLAY_OK);
	assert_int_equal(replay_check_and_set(NULL, S("n"), 1, T0, EXP),
	    REPLAY_INVALID);
	assert_string_equal(replay_status_name(REPLAY_OK), "ok");
	assert_string_equal(replay_status_name(REPLAY_REPLAYED), "replayed");
	assert_string_equal(replay_status_name(REPLAY_FULL), "full");
	assert_string_equal(replay_status_name(REPLAY_INVALID), "invalid");
	assert_string_equal(replay_status_name(REPLAY_STATUS_MAX), "unknown");
	replay_free(r);
}

/* Full: refuse (never accept unchecked); expired entries make room. */
static void
test_full_and_evict(void **state)
{
	struct replay *r;
	char key[32];
	int ok = 0, full = 0;

	(void)state;
	assert_int_equal(replay_new(128, &r), 0);	/* 2 per stripe */
	for (int i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "nonce-%d", i);
		switch (replay_check_and_set(r, S(key), 1, T0, EXP + i % 2)) {
		case REPLAY_OK:
			ok++;
			break;
		case REPLAY_FULL:
			full++;
			break;
		default:
			fail_msg("unexpected status for %s", key);
		}
	}
	assert_int_equal(ok, 128);
	assert_int_equal(full, 1000 - 128);
	assert_int_equal(replay_count(r), 128);
	/* an entry already in the table is still checked when full */
	assert_int_equal(replay_check_and_set(r, S("nonce-0"), 1, T0, EXP),
	    REPLAY_REPLAYED);
	assert_int_equal(replay_check_and_set(r, S("nonce-0"), 2, T0, EXP),
	    REPLAY_OK);

	/* at EXP + 1 the even ones (expiring at EXP) may go */
	ok = 0;
	for (int i = 1000; i < 3000; i++) {
		snprintf(key, sizeof(key), "nonce-%d", i);
		if (replay_check_and_set(r, S(key), 1, EXP + 1, EXP + 300) ==
		    REPLAY_OK)
			ok++;
	}
	assert_true(ok > 0 && ok <= 128);
	assert_int_equal(replay_count(r), 128);
	/* much later, everything may go */
	ok = 0;
	for (int i = 3000; i < 6000; i++) {
		snprintf(key, sizeof(key), "nonce-%d", i);
		if (replay_check_and_set(r, S(key), 1, EXP + 1000, EXP + 2000)
		    == REPLAY_OK)
			ok++;
	}
	assert_int_equal(ok, 128);
	replay_free(r);
}

/*
 * Many threads race on the same nonces with the same nc values: every
 * (nonce, nc) must be accepted exactly once in total.
 */
#define NTHREADS	8
#define NNONCES		50
#define NNC		200

static struct replay *shared;
static atomic_int accepted[NNONCES][NNC + 1];
static atomic_int fulls;

static void *
racer(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	char key[32];

	for (int round = 0; round < NNONCES * NNC; round++) {
		unsigned n, nc;

		seed = seed * 1103515245u + 12345u;
		n = (seed >> 16) % NNONCES;
		seed = seed * 1103515245u + 12345u;
		/* mostly increasing, sometimes a little behind: reordering */
		nc = 1 + (unsigned)((round / NNONCES + (seed >> 16) % 8) % NNC);
		snprintf(key, sizeof(key), "shared-nonce-%u", n);
		switch (replay_check_and_set(shared, S(key), nc, T0, EXP)) {
		case REPLAY_OK:
			atomic_fetch_add(&accepted[n][nc], 1);
			break;
		case REPLAY_FULL:
			atomic_fetch_add(&fulls, 1);
			break;
		default:
			break;
		}
		/* and a private nonce per thread, to mix stripes */
		snprintf(key, sizeof(key), "own-%u-%d", (unsigned)(uintptr_t)arg,
		    round % 97);
		(void)replay_check_and_set(shared, S(key), 1 + round / 97, T0,
		    EXP);
	}
	return NULL;
}

static void
test_threads(void **state)
{
	pthread_t t[NTHREADS];
	int total = 0;

	(void)state;
	assert_int_equal(replay_new(64 * 64, &shared), 0);
	for (uintptr_t i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, racer,
		    (void *)(i + 1)), 0);
	for (int i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	assert_int_equal(atomic_load(&fulls), 0);
	for (int n = 0; n < NNONCES; n++)
		for (int nc = 0; nc <= NNC; nc++) {
			int a = atomic_load(&accepted[n][nc]);

			assert_true(a <= 1);
			total += a;
		}
	assert_true(total > 0);
	assert_true(replay_count(shared) <= 64 * 64);
	replay_free(shared);
	shared = NULL;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_full_and_evict),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
