/*
 * libFuzzer target for cidr_parse().  Beyond "no crash" it asserts the
 * contract: on success the prefix is normalized (known family, length
 * within the width, no bit past it), the flags are known ones, the
 * canonical text parses back to the same prefix with no flags, the
 * prefix contains its own network address, and an acl built from it
 * decides that address by it; on failure the out-params are untouched
 * and a reason is given.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/acl.h"
#include "policy/cidr.h"

#include "fuzz_check.h"


static void
check_ok(const struct cidr *c, unsigned flags)
{
	unsigned width = cidr_width(c->af);
	char text[CIDR_STRLEN], small[CIDR_STRLEN];
	struct cidr back, masked;
	struct acl_match m;
	union sw_addr a;
	struct acl *acl;
	unsigned bflags = 99;
	int n;

	CHECK(width == 32 || width == 128);
	CHECK(c->plen <= width);
	masked = *c;
	cidr_mask_bytes(masked.a, c->plen);
	CHECK(memcmp(&masked, c, sizeof(*c)) == 0);
	if (c->af == AF_INET)
		for (int i = 4; i < 16; i++)
			CHECK(c->a[i] == 0);
	CHECK((flags & ~(unsigned)(CIDR_F_BARE | CIDR_F_HOSTBITS |
	    CIDR_F_V4MAPPED)) == 0);
	if (flags & CIDR_F_BARE)
		CHECK(c->plen == width);

	n = cidr_format(c, text, sizeof(text));
	CHECK(n > 0 && (size_t)n < sizeof(text) && strlen(text) == (size_t)n);
	CHECK(cidr_parse_cstr(text, &back, &bflags, NULL) == 0);
	CHECK(bflags == 0);
	CHECK(memcmp(&back, c, sizeof(*c)) == 0);
	/* Every buffer too small fails cleanly. */
	for (size_t cap = 0; cap <= (size_t)n; cap++) {
		memset(small, 'x', sizeof(small));
		CHECK(cidr_format(c, small, cap) == -SBC_ELIMIT);
		if (cap > 0)
			CHECK(small[0] == '\0');
		CHECK(cap >= sizeof(small) || small[cap] == 'x' || cap == 0);
	}

	cidr_to_addr(c, &a);
	CHECK(cidr_contains(c, &a));
	CHECK(acl_build(NULL, 0, c, 1, &acl) == 0);
	CHECK(acl_check(acl, &a, &m) == ACL_DENY);
	CHECK(m.why == ACL_W_DENY_PREFIX && m.index == 0);
	CHECK(cidr_eq(&m.prefix, c));
	acl_free(acl);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cidr c, before;
	unsigned flags = 12345;
	const char *why = NULL;
	int r;

	if (size > 4 * CIDR_TEXT_MAX)
		return 0;
	memset(&c, 0xa5, sizeof(c));
	before = c;
	r = cidr_parse(slice_make(data, size), &c, &flags, &why);
	if (r == 0) {
		CHECK(size > 0 && size <= CIDR_TEXT_MAX);
		check_ok(&c, flags);
	} else {
		CHECK(r == -SBC_EPARSE || r == -SBC_ELIMIT);
		CHECK(why != NULL && strlen(why) > 0);
		CHECK(memcmp(&c, &before, sizeof(c)) == 0);
		CHECK(flags == 12345);
	}
	return 0;
}
