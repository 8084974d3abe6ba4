/*
 * Unit tests for src/policy/cidr.c: parsing (good, normalized, bad,
 * every prefix of the input against a guard page), formatting and a
 * seeded random round trip, and the address helpers.
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

#include "guard.h"
#include "policy/cidr.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
rnd(void)
{
	/* xorshift64*: reproducible across runs and libcs. */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

static int
parse(const char *s, struct cidr *c, unsigned *flags)
{
	const char *why = NULL;
	const uint8_t *p = guard_copy(s, strlen(s));
	int r = cidr_parse(slice_make(p, strlen(s)), c, flags, &why);

	if (r < 0)
		assert_non_null(why);
	return r;
}

static void
assert_text(const struct cidr *c, const char *want)
{
	char buf[CIDR_STRLEN];

	assert_int_equal(cidr_format(c, buf, sizeof(buf)), (int)strlen(want));
	assert_string_equal(buf, want);
}

static void
good_prefixes(void **state)
{
	static const struct {
		const char *in, *out;
		unsigned flags;
	} v[] = {
		{ "192.0.2.0/24", "192.0.2.0/24", 0 },
		{ "192.0.2.1", "192.0.2.1/32", CIDR_F_BARE },
		{ "0.0.0.0/0", "0.0.0.0/0", 0 },
		{ "10.1.2.3/8", "10.0.0.0/8", CIDR_F_HOSTBITS },
		{ "255.255.255.255/31", "255.255.255.254/31", CIDR_F_HOSTBITS },
		{ "1.2.3.4/0", "0.0.0.0/0", CIDR_F_HOSTBITS },
		{ "2001:db8::/32", "2001:db8::/32", 0 },
		{ "2001:DB8::/32", "2001:db8::/32", 0 },
		{ "::/0", "::/0", 0 },
		{ "2001:db8::1", "2001:db8::1/128", CIDR_F_BARE },
		{ "2001:db8::1/64", "2001:db8::/64", CIDR_F_HOSTBITS },
		{ "2001:db8:ffff::/33", "2001:db8:8000::/33", CIDR_F_HOSTBITS },
		{ "::ffff:192.0.2.0/120", "192.0.2.0/24", CIDR_F_V4MAPPED },
		{ "::ffff:192.0.2.1", "192.0.2.1/32",
		    CIDR_F_V4MAPPED | CIDR_F_BARE },
		{ "::ffff:0:0/96", "0.0.0.0/0", CIDR_F_V4MAPPED },
		{ "::ffff:0:0/95", "::fffe:0:0/95", CIDR_F_HOSTBITS },
		{ "1.2.3.4/9", "1.0.0.0/9", CIDR_F_HOSTBITS },
		{ "128.0.0.0/1", "128.0.0.0/1", 0 },
	};
	struct cidr c, c2;
	unsigned flags;

	(void)state;
	for (size_t i = 0; i < nitems(v); i++) {
		flags = 99;
		assert_int_equal(parse(v[i].in, &c, &flags), 0);
		assert_int_equal(flags, v[i].flags);
		assert_text(&c, v[i].out);
		/* The canonical text parses back to the same prefix. */
		assert_int_equal(parse(v[i].out, &c2, &flags), 0);
		assert_true(cidr_eq(&c, &c2));
		assert_memory_equal(&c, &c2, sizeof(c));
	}
}

static void
bad_prefixes(void **state)
{
	static const struct {
		const char *in;
		int r;
	} v[] = {
		{ "", -SBC_EPARSE },
		{ "/24", -SBC_EPARSE },
		{ "192.0.2.0/", -SBC_EPARSE },
		{ "192.0.2.0/33", -SBC_ELIMIT },
		{ "192.0.2.0/999", -SBC_ELIMIT },
		{ "192.0.2.0/1000", -SBC_EPARSE },
		{ "2001:db8::/129", -SBC_ELIMIT },
		{ "192.0.2.0/024", -SBC_EPARSE },
		{ "192.0.2.0/00", -SBC_EPARSE },
		{ "192.0.2.0/+4", -SBC_EPARSE },
		{ "192.0.2.0/-1", -SBC_EPARSE },
		{ "192.0.2.0/2 4", -SBC_EPARSE },
		{ " 192.0.2.0/24", -SBC_EPARSE },
		{ "192.0.2.0/24 ", -SBC_EPARSE },
		{ "192.0.2", -SBC_EPARSE },
		{ "192.0.2.256", -SBC_EPARSE },
		{ "01.2.3.4", -SBC_EPARSE },
		{ "1.2.3.4.5", -SBC_EPARSE },
		{ "0x1.2.3.4", -SBC_EPARSE },
		{ "[2001:db8::]/32", -SBC_EPARSE },
		{ "fe80::1%eth0", -SBC_EPARSE },
		{ "fe80::1%eth0/64", -SBC_EPARSE },
		{ "192.0.2.0/24/8", -SBC_EPARSE },
		{ "2001:db8:::/32", -SBC_EPARSE },
		{ "2001:db8::g/32", -SBC_EPARSE },
		{ "localhost", -SBC_EPARSE },
		{ "abc/8", -SBC_EPARSE },
		{ "1.2.3.4-1.2.3.9", -SBC_EPARSE },
		{ "1:2:3:4:5:6:7:8:9", -SBC_EPARSE },
		{ "1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc"
		    ":dddd/128", -SBC_ELIMIT },
	};
	struct cidr c, keep;
	unsigned flags = 77;

	(void)state;
	memset(&keep, 0xa5, sizeof(keep));
	for (size_t i = 0; i < nitems(v); i++) {
		c = keep;
		assert_int_equal(parse(v[i].in, &c, &flags), v[i].r);
		/* Out-params are written only on success. */
		assert_memory_equal(&c, &keep, sizeof(c));
		assert_int_equal(flags, 77);
	}
}

static void
embedded_nul(void **state)
{
	static const char a[] = "10.0.0.1\0junk";
	static const char b[] = "10.0.0.0/8\0";
	struct cidr c;

	(void)state;
	assert_int_equal(cidr_parse(slice_make(a, sizeof(a) - 1), &c, NULL,
	    NULL), -SBC_EPARSE);
	assert_int_equal(cidr_parse(slice_make(b, sizeof(b) - 1), &c, NULL,
	    NULL), -SBC_EPARSE);
	assert_int_equal(cidr_parse(SLICE_NULL, &c, NULL, NULL), -SBC_EPARSE);
}

static void
every_prefix_is_safe(void **state)
{
	static const char *in[] = {
		"2001:db8:1:2::/64", "192.0.2.128/25", "::ffff:10.0.0.0/104",
	};
	struct cidr c;

	(void)state;
	for (size_t k = 0; k < nitems(in); k++)
		for (size_t cut = 0; cut <= strlen(in[k]); cut++) {
			const uint8_t *p = guard_copy(in[k], cut);
			int r = cidr_parse(slice_make(p, cut), &c, NULL, NULL);

			assert_true(r == 0 || r == -SBC_EPARSE ||
			    r == -SBC_ELIMIT);
		}
}

static void
format_limits(void **state)
{
	struct cidr c;
	char buf[CIDR_STRLEN];

	(void)state;
	assert_int_equal(cidr_parse_cstr("192.0.2.0/24", &c, NULL, NULL), 0);
	/* "192.0.2.0/24" is 12 bytes: 13 fit, 12 do not. */
	assert_int_equal(cidr_format(&c, buf, 13), 12);
	assert_int_equal(cidr_format(&c, buf, 12), -SBC_ELIMIT);
	assert_string_equal(buf, "");
	assert_int_equal(cidr_format(&c, buf, 0), -SBC_ELIMIT);
	/* The longest text fits CIDR_STRLEN. */
	assert_int_equal(cidr_parse_cstr(
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/128", &c, NULL, NULL), 0);
	assert_true(cidr_format(&c, buf, sizeof(buf)) > 0);
	c.af = 0;
	assert_int_equal(cidr_format(&c, buf, sizeof(buf)), -SBC_EPARSE);
}

static void
random_round_trip(void **state)
{
	char buf[CIDR_STRLEN];
	struct cidr c, back;
	unsigned flags;

	(void)state;
	for (int i = 0; i < 20000; i++) {
		uint64_t x = rnd(), y = rnd();

		memset(&c, 0, sizeof(c));
		if (i & 1) {
			c.af = AF_INET6;
			memcpy(c.a, &x, 8);
			memcpy(c.a + 8, &y, 8);
			c.plen = (uint8_t)(rnd() % 129);
			/* Keep out of ::ffff:0:0/96, which turns IPv4. */
			if (c.plen >= 96 && c.a[0] == 0)
				c.a[0] = 0x20;
		} else {
			c.af = AF_INET;
			memcpy(c.a, &x, 4);
			c.plen = (uint8_t)(rnd() % 33);
		}
		cidr_mask_bytes(c.a, c.plen);
		assert_true(cidr_format(&c, buf, sizeof(buf)) > 0);
		assert_int_equal(cidr_parse_cstr(buf, &back, &flags, NULL), 0);
		assert_int_equal(flags, 0);
		assert_memory_equal(&c, &back, sizeof(c));
	}
}

static void
mask_bytes(void **state)
{
	uint8_t a[16];

	(void)state;
	memset(a, 0xff, sizeof(a));
	cidr_mask_bytes(a, 12);
	assert_int_equal(a[0], 0xff);
	assert_int_equal(a[1], 0xf0);
	for (int i = 2; i < 16; i++)
		assert_int_equal(a[i], 0);
	memset(a, 0xff, sizeof(a));
	cidr_mask_bytes(a, 128);
	assert_int_equal(a[15], 0xff);
	cidr_mask_bytes(a, 0);
	for (int i = 0; i < 16; i++)
		assert_int_equal(a[i], 0);
}

static void
address_helpers(void **state)
{
	union sw_addr a, m, bad;
	struct cidr c, host, net;
	uint8_t b[16];

	(void)state;
	assert_int_equal(sw_addr_parse("192.0.2.77", 5060, &a), 0);
	assert_int_equal(sw_addr_parse("::ffff:192.0.2.77", 5060, &m), 0);
	assert_int_equal(cidr_addr_norm(&a, b), AF_INET);
	assert_int_equal(b[3], 77);
	assert_int_equal(cidr_addr_norm(&m, b), AF_INET);
	assert_int_equal(b[3], 77);
	assert_int_equal(b[4], 0);

	assert_int_equal(cidr_from_addr(&m, 24, &net), 0);
	assert_text(&net, "192.0.2.0/24");
	assert_int_equal(cidr_from_addr(&a, 32, &host), 0);
	assert_text(&host, "192.0.2.77/32");
	assert_int_equal(cidr_from_addr(&a, 33, &c), -EINVAL);
	assert_true(cidr_contains(&net, &a));
	assert_true(cidr_contains(&net, &m));
	assert_true(cidr_covers(&net, &host));
	assert_false(cidr_covers(&host, &net));
	assert_true(cidr_covers(&net, &net));

	assert_int_equal(cidr_parse_cstr("192.0.3.0/24", &c, NULL, NULL), 0);
	assert_false(cidr_contains(&c, &a));
	assert_false(cidr_covers(&c, &host));
	assert_int_equal(cidr_parse_cstr("::/0", &c, NULL, NULL), 0);
	/* Mapped addresses are IPv4: ::/0 does not cover them. */
	assert_false(cidr_contains(&c, &m));

	assert_int_equal(sw_addr_parse("2001:db8::5", 0, &a), 0);
	assert_true(cidr_contains(&c, &a));
	assert_int_equal(cidr_from_addr(&a, 64, &c), 0);
	assert_text(&c, "2001:db8::/64");
	cidr_to_addr(&c, &m);
	assert_int_equal(sw_addr_family(&m), AF_INET6);
	assert_true(cidr_contains(&c, &m));

	memset(&bad, 0, sizeof(bad));
	bad.sa.sa_family = AF_UNIX;
	assert_int_equal(cidr_addr_norm(&bad, b), -EAFNOSUPPORT);
	assert_int_equal(cidr_from_addr(&bad, 0, &c), -EAFNOSUPPORT);
	assert_false(cidr_contains(&c, &bad));
	assert_int_equal(cidr_width(AF_UNIX), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_prefixes),
		cmocka_unit_test(bad_prefixes),
		cmocka_unit_test(embedded_nul),
		cmocka_unit_test(every_prefix_is_safe),
		cmocka_unit_test(format_limits),
		cmocka_unit_test(random_round_trip),
		cmocka_unit_test(mask_bytes),
		cmocka_unit_test(address_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
