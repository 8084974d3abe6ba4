/*
 * libFuzzer target for e164_normalize().  Beyond "no crash": a number
 * is 1..15 digits, an extension at most ext_max digits, a service code
 * holds '*' or '#'; and normalizing is idempotent in the sense that
 * "+" followed by a number normalizes to that same number.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/e164.h"

#include "fuzz_check.h"


static void
one(const struct e164_plan *p, const uint8_t *data, size_t size)
{
	char out[E164_MAX_DIGITS + 1], again[E164_MAX_DIGITS + 1];
	char plus[E164_MAX_DIGITS + 2];
	size_t n;
	int r = e164_normalize(p, slice_make(data, size), out);

	if (r < 0) {
		CHECK(r == -EINVAL || r == -E2BIG);
		return;
	}
	n = strlen(out);
	CHECK(n >= 1 && n <= E164_MAX_DIGITS);
	switch (r) {
	case E164_NUMBER:
		CHECK(strspn(out, "0123456789") == n);
		snprintf(plus, sizeof(plus), "+%s", out);
		CHECK(e164_normalize(p, slice_cstr(plus), again) ==
		    E164_NUMBER);
		CHECK(strcmp(out, again) == 0);
		break;
	case E164_EXTENSION:
		CHECK(n <= p->ext_max);
		CHECK(strspn(out, "0123456789") == n);
		break;
	case E164_SERVICE:
		CHECK(strpbrk(out, "*#") != NULL);
		break;
	default:
		CHECK(0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct e164_plan p;

	e164_plan_nanp(&p);
	one(&p, data, size);
	e164_plan_europe(&p, "49");
	one(&p, data, size);
	return 0;
}
