#include "core/num.h"

int
parse_u64(struct slice s, uint64_t max, uint64_t *ret)
{
	uint64_t v = 0, lim10 = max / 10;
	unsigned lastd = (unsigned)(max % 10);

	if (s.len == 0)
		return -SBC_EPARSE;
	for (size_t i = 0; i < s.len; i++) {
		unsigned d;

		if (!ctype_is(s.p[i], CT_DIGIT))
			return -SBC_EPARSE;
		d = (unsigned)(s.p[i] - '0');
		/* v * 10 + d <= max, decided without dividing per digit */
		if (v > lim10 || (v == lim10 && d > lastd))
			return -SBC_ELIMIT;
		v = v * 10 + d;
	}
	*ret = v;
	return 0;
}

int
parse_u32(struct slice s, uint32_t max, uint32_t *ret)
{
	uint64_t v;
	int r;

	if ((r = parse_u64(s, max, &v)) < 0)
		return r;
	*ret = (uint32_t)v;
	return 0;
}

int
take_u32(struct slice *s, uint32_t max, uint32_t *ret)
{
	struct slice digits = slice_span(s, CT_DIGIT);

	return parse_u32(digits, max, ret);
}
