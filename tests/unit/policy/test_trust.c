/* policy/trust.c: distinct accounts per source, expiry, eviction. */
#include <setjmp.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "core/hash.h"
#include "policy/trust.h"

static union sw_addr
ip(const char *s)
{
	union sw_addr a;

	assert_int_equal(sw_addr_parse(s, 5060, &a), 0);
	return a;
}

static void
test_unknown_source_has_no_trust(void **state)
{
	struct trust_table *t;
	union sw_addr a = ip("192.0.2.1");

	(void)state;
	assert_int_equal(trust_new(1024, 60000, &t), 0);
	assert_int_equal(trust_accounts(t, &a, 1000), 0);
	trust_free(t);
}

static void
test_counts_distinct_accounts(void **state)
{
	struct trust_table *t;
	union sw_addr a = ip("192.0.2.1"), b = ip("192.0.2.2");
	char name[32];

	(void)state;
	assert_int_equal(trust_new(1024, 60000, &t), 0);
	trust_note(t, &a, SLICE_LIT("alice"), 1000);
	trust_note(t, &a, SLICE_LIT("alice"), 1001);
	assert_int_equal(trust_accounts(t, &a, 1002), 1);
	/* the port is not part of the source: a NAT's phones share it */
	b = ip("192.0.2.1");
	sw_addr_set_port(&b, 40000);
	trust_note(t, &b, SLICE_LIT("bob"), 1003);
	assert_int_equal(trust_accounts(t, &a, 1004), 2);
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "phone%03d", i);
		trust_note(t, &a, slice_cstr(name), 2000);
	}
	/* capped, and an office of 200 gets the cap */
	assert_int_equal(trust_accounts(t, &a, 2001), TRUST_MAX_MULT);
	b = ip("192.0.2.2");
	assert_int_equal(trust_accounts(t, &b, 2001), 0);
	trust_free(t);
}

static void
test_estimate_is_close_for_small_offices(void **state)
{
	struct trust_table *t;
	union sw_addr a = ip("2001:db8::7");
	char name[32];
	unsigned n;

	(void)state;
	assert_int_equal(trust_new(1024, 60000, &t), 0);
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "ext%d", 100 + i);
		trust_note(t, &a, slice_cstr(name), 10);
	}
	n = trust_accounts(t, &a, 11);
	assert_in_range(n, 14, 28);
	trust_free(t);
}

static void
test_trust_expires(void **state)
{
	struct trust_table *t;
	union sw_addr a = ip("198.51.100.9");

	(void)state;
	assert_int_equal(trust_new(1024, 5000, &t), 0);
	trust_note(t, &a, SLICE_LIT("alice"), 1000);
	assert_int_equal(trust_accounts(t, &a, 6000), 1);
	assert_int_equal(trust_accounts(t, &a, 6001), 0);
	/* a new note after expiry starts from scratch */
	trust_note(t, &a, SLICE_LIT("bob"), 7000);
	assert_int_equal(trust_accounts(t, &a, 7001), 1);
	trust_free(t);
}

static void
test_full_table_evicts_stalest(void **state)
{
	struct trust_table *t;
	union sw_addr a;
	char s[32];
	unsigned kept = 0;

	(void)state;
	assert_int_equal(trust_new(16, 1000000, &t), 0);
	/* far more sources than slots: no failure, bounded memory */
	for (int i = 0; i < 20000; i++) {
		snprintf(s, sizeof(s), "10.%d.%d.%d", (i >> 16) & 255,
		    (i >> 8) & 255, i & 255);
		a = ip(s);
		trust_note(t, &a, SLICE_LIT("x"), (uint64_t)i + 1);
	}
	/* the newest sources survive */
	for (int i = 19990; i < 20000; i++) {
		snprintf(s, sizeof(s), "10.%d.%d.%d", (i >> 16) & 255,
		    (i >> 8) & 255, i & 255);
		a = ip(s);
		kept += trust_accounts(t, &a, 20001) == 1;
	}
	assert_int_equal(kept, 10);
	trust_free(t);
}

static void
test_bad_arguments(void **state)
{
	struct trust_table *t;

	(void)state;
	assert_int_equal(trust_new(0, 1000, &t), -EINVAL);
	assert_int_equal(trust_new(16, 0, &t), -EINVAL);
	assert_int_equal(trust_new(TRUST_MAX_CAPACITY + 1, 1000, &t), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_source_has_no_trust),
		cmocka_unit_test(test_counts_distinct_accounts),
		cmocka_unit_test(test_estimate_is_close_for_small_offices),
		cmocka_unit_test(test_trust_expires),
		cmocka_unit_test(test_full_table_evicts_stalest),
		cmocka_unit_test(test_bad_arguments),
	};

	/* a fixed key: with a random one, two account names share one of
	 * the 64 bits about 1.6% of the time and the exact counts above
	 * would flap (the estimate is exact only without collisions) */
	{
		static const uint8_t key[16] = "trust-unit-test";

		sw_hash_set_key(key);
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
