/*
 * Unit tests for src/policy/ptab.c: the slot index under every table
 * in policy/.  Filled to capacity and over, chains of equal hashes,
 * deletion from every chain position, and a seeded random workload
 * checked against a plain array.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy/ptab.h"

static uint64_t rng = 88172645463325252ULL;

static uint64_t
rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

static void
bad_init(void **state)
{
	struct ptab t;

	(void)state;
	assert_int_equal(ptab_init(&t, 0), -EINVAL);
	assert_int_equal(ptab_init(&t, PTAB_MAX_CAP + 1), -EINVAL);
	ptab_clear(&t);
}

static void
fill_to_capacity_and_over(void **state)
{
	struct ptab t;
	uint32_t s;

	(void)state;
	assert_int_equal(ptab_init(&t, 100), 0);
	for (uint32_t i = 0; i < 100; i++) {
		s = ptab_add(&t, i * 0x9e3779b97f4a7c15ULL);
		/* A fresh table hands out slots in order. */
		assert_int_equal(s, i);
		assert_true(ptab_live(&t, s));
	}
	assert_true(ptab_full(&t));
	assert_int_equal(t.used, 100);
	assert_int_equal(ptab_add(&t, 12345), PTAB_NIL);
	assert_int_equal(t.used, 100);
	for (uint32_t i = 0; i < 100; i++)
		assert_int_equal(ptab_first(&t, i * 0x9e3779b97f4a7c15ULL), i);
	ptab_del(&t, 42);
	assert_false(ptab_live(&t, 42));
	assert_false(ptab_full(&t));
	assert_int_equal(ptab_first(&t, 42 * 0x9e3779b97f4a7c15ULL), PTAB_NIL);
	/* The freed slot is the next one handed out. */
	assert_int_equal(ptab_add(&t, 7), 42);
	/* Deleting a free or out-of-range slot is a no-op. */
	ptab_del(&t, 1000);
	ptab_del(&t, PTAB_NIL);
	assert_int_equal(t.used, 100);
	ptab_reset(&t);
	assert_int_equal(t.used, 0);
	assert_int_equal(ptab_first(&t, 7), PTAB_NIL);
	ptab_clear(&t);
	ptab_clear(&t);
}

static void
equal_hashes_chain(void **state)
{
	struct ptab t;
	uint32_t s[5], n, i;

	(void)state;
	assert_int_equal(ptab_init(&t, 8), 0);
	for (i = 0; i < 5; i++)
		s[i] = ptab_add(&t, 77);
	/* Another hash in the same bucket (mask 7) is skipped. */
	ptab_add(&t, 77 + 8);
	for (int del = 0; del < 5; del++) {
		n = 0;
		for (i = ptab_first(&t, 77); i != PTAB_NIL;
		    i = ptab_next(&t, i, 77))
			n++;
		assert_int_equal(n, 5 - del);
		/* Tail, middle and head positions in turn (slots 0, 3,
		 * 1, 4, 2; the chain lists the newest first). */
		ptab_del(&t, s[(del * 3) % 5]);
	}
	assert_int_equal(ptab_first(&t, 77), PTAB_NIL);
	assert_int_not_equal(ptab_first(&t, 85), PTAB_NIL);
	ptab_clear(&t);
}

static void
random_against_array(void **state)
{
	enum { CAP = 257, KEYS = 600 };
	struct ptab t;
	uint64_t slot_key[CAP];
	int present[KEYS];
	uint32_t s;

	(void)state;
	memset(present, 0, sizeof(present));
	assert_int_equal(ptab_init(&t, CAP), 0);
	for (int step = 0; step < 200000; step++) {
		int k = (int)(rnd() % KEYS);
		/* Few distinct hashes: long chains and shared buckets. */
		uint64_t h = (uint64_t)(k % 97) * 1024;

		s = PTAB_NIL;
		for (uint32_t i = ptab_first(&t, h); i != PTAB_NIL;
		    i = ptab_next(&t, i, h))
			if (slot_key[i] == (uint64_t)k)
				s = i;
		assert_int_equal(s != PTAB_NIL, present[k]);
		if (s != PTAB_NIL && rnd() % 2) {
			ptab_del(&t, s);
			present[k] = 0;
		} else if (s == PTAB_NIL) {
			s = ptab_add(&t, h);
			if (s == PTAB_NIL) {
				assert_true(ptab_full(&t));
				continue;
			}
			slot_key[s] = (uint64_t)k;
			present[k] = 1;
		}
		if (step % 1000 == 0) {
			uint32_t live = 0;

			for (uint32_t i = 0; i < CAP; i++)
				live += ptab_live(&t, i);
			assert_int_equal(live, t.used);
		}
	}
	ptab_clear(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bad_init),
		cmocka_unit_test(fill_to_capacity_and_over),
		cmocka_unit_test(equal_hashes_chain),
		cmocka_unit_test(random_against_array),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
