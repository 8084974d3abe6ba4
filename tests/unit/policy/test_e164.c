/* Dialled numbers to E.164 (e164.c): every way of writing the same
 * destination meets the same rule; what is not a dial string is
 * refused rather than guessed at. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "policy/e164.h"

struct vec {
	const char	*in;
	int		 kind;		/* or -errno */
	const char	*out;
};

static void
check(const struct e164_plan *p, const struct vec *v, size_t n)
{
	char out[E164_MAX_DIGITS + 1];

	for (size_t i = 0; i < n; i++) {
		int r = e164_normalize(p, slice_cstr(v[i].in), out);

		if (r != v[i].kind)
			fail_msg("'%s': kind %d, want %d (out '%s')", v[i].in, r,
			    v[i].kind, out);
		if (r > 0 && strcmp(out, v[i].out) != 0)
			fail_msg("'%s': '%s', want '%s'", v[i].in, out,
			    v[i].out);
	}
}

static void
test_germany(void **state)
{
	struct e164_plan p;
	static const struct vec v[] = {
		/* one premium-rate destination, many spellings */
		{ "+882123456", E164_NUMBER, "882123456" },
		{ "00882123456", E164_NUMBER, "882123456" },
		{ "00 882 123-456", E164_NUMBER, "882123456" },
		{ "%2B882123456", E164_NUMBER, "882123456" },
		{ "%30%30882123456", E164_NUMBER, "882123456" },
		{ "(00)882.123.456", E164_NUMBER, "882123456" },
		/* national: trunk prefix 0 becomes the country code */
		{ "030123456", E164_NUMBER, "4930123456" },
		{ "0900-1234567", E164_NUMBER, "499001234567" },
		/* without a prefix, long: a national significant number */
		{ "30123456", E164_NUMBER, "4930123456" },
		/* extensions and feature codes */
		{ "2000", E164_EXTENSION, "2000" },
		{ "110", E164_EXTENSION, "110" },
		{ "*99#", E164_SERVICE, "*99#" },
	};

	(void)state;
	e164_plan_europe(&p, "49");
	check(&p, v, sizeof(v) / sizeof(v[0]));
}

static void
test_nanp(void **state)
{
	struct e164_plan p;
	static const struct vec v[] = {
		{ "011442071234567", E164_NUMBER, "442071234567" },
		{ "+44 20 7123 4567", E164_NUMBER, "442071234567" },
		/* the one-ring area codes look domestic */
		{ "1-268-555-0100", E164_NUMBER, "12685550100" },
		{ "2685550100", E164_NUMBER, "12685550100" },
		{ "(268) 555-0100", E164_NUMBER, "12685550100" },
		{ "+1 268 555 0100", E164_NUMBER, "12685550100" },
		/* a 4-digit extension that starts like the trunk prefix */
		{ "1234", E164_EXTENSION, "1234" },
		{ "911", E164_EXTENSION, "911" },
	};

	(void)state;
	e164_plan_nanp(&p);
	check(&p, v, sizeof(v) / sizeof(v[0]));
}

static void
test_refused(void **state)
{
	struct e164_plan p;
	static const struct vec v[] = {
		{ "", -EINVAL, NULL },
		{ "+", -EINVAL, NULL },
		{ "---", -EINVAL, NULL },
		{ "alice", -EINVAL, NULL },
		{ "12+34", -EINVAL, NULL },
		{ "00%2", -EINVAL, NULL },
		{ "00%zz1", -EINVAL, NULL },
		{ "00%41", -EINVAL, NULL },		/* 'A' */
		{ "+1234567890123456", -E2BIG, NULL },	/* 16 digits */
		{ "001234567890123456", -E2BIG, NULL },
		{ "0%00", -EINVAL, NULL },		/* NUL */
	};

	(void)state;
	e164_plan_europe(&p, "49");
	check(&p, v, sizeof(v) / sizeof(v[0]));
}

static void
test_bounds(void **state)
{
	struct e164_plan p;
	char in[400], out[E164_MAX_DIGITS + 1];

	(void)state;
	e164_plan_europe(&p, "49");
	/* separators do not let a long string through */
	memset(in, '-', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	in[0] = '1';
	assert_int_equal(e164_normalize(&p, slice_cstr(in), out), -EINVAL);
	/* 15 digits exactly is fine */
	assert_int_equal(e164_normalize(&p, slice_cstr("+123456789012345"),
	    out), E164_NUMBER);
	assert_string_equal(out, "123456789012345");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_germany),
		cmocka_unit_test(test_nanp),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
