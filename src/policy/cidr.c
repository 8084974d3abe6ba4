/*
 * CIDR prefixes: text <-> struct cidr, and address normalization.
 * The address itself goes through inet_pton(), which is strict in
 * glibc (dotted quad only, no leading zeros, no zone ids); everything
 * around it (length, NULs, separators) is checked here first.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "policy/cidr.h"

static const uint8_t v4mapped_pfx[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
};

unsigned
cidr_width(int af)
{
	if (af == AF_INET)
		return 32;
	if (af == AF_INET6)
		return 128;
	return 0;
}

void
cidr_mask_bytes(uint8_t a[16], unsigned plen)
{
	unsigned full = plen / 8, rem = plen % 8;

	if (plen >= 128)
		return;
	if (rem != 0) {
		a[full] &= (uint8_t)(0xff00u >> rem);
		full++;
	}
	memset(a + full, 0, 16 - full);
}

static int
parse_plen(struct slice s, unsigned *ret)
{
	unsigned v = 0;

	if (s.len == 0 || s.len > 3)
		return -SBC_EPARSE;
	if (s.len > 1 && s.p[0] == '0')
		return -SBC_EPARSE;
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return -SBC_EPARSE;
		v = v * 10 + (unsigned)(s.p[i] - '0');
	}
	*ret = v;
	return 0;
}

int
cidr_parse(struct slice s, struct cidr *ret, unsigned *ret_flags,
    const char **reterr_why)
{
	char text[CIDR_TEXT_MAX + 1];
	struct slice ip = s, len = SLICE_NULL;
	struct cidr c;
	unsigned flags = 0, plen = 0, width;
	uint8_t before[16];
	ssize_t slash;
	const char *why;
	int r = -SBC_EPARSE;

	memset(&c, 0, sizeof(c));
	if (s.len == 0) {
		why = "empty prefix";
		goto err;
	}
	if (s.len > CIDR_TEXT_MAX) {
		why = "prefix text too long";
		r = -SBC_ELIMIT;
		goto err;
	}
	if (memchr(s.p, '\0', s.len) != NULL) {
		why = "NUL byte in prefix";
		goto err;
	}
	if ((slash = slice_find(s, '/')) >= 0) {
		ip = slice_sub(s, 0, (size_t)slash);
		len = slice_sub(s, (size_t)slash + 1, s.len);
		if (parse_plen(len, &plen) < 0) {
			why = "prefix length is not a number (1-3 digits, "
			    "no leading zero)";
			goto err;
		}
	} else
		flags |= CIDR_F_BARE;
	if (ip.len == 0) {
		why = "missing address";
		goto err;
	}
	memcpy(text, ip.p, ip.len);
	text[ip.len] = '\0';
	if (memchr(ip.p, ':', ip.len) != NULL) {
		if (inet_pton(AF_INET6, text, c.a) != 1) {
			why = "not an IPv6 address";
			goto err;
		}
		c.af = AF_INET6;
	} else {
		if (inet_pton(AF_INET, text, c.a) != 1) {
			why = "not an IPv4 address";
			goto err;
		}
		c.af = AF_INET;
	}
	width = cidr_width(c.af);
	if (flags & CIDR_F_BARE)
		plen = width;
	if (plen > width) {
		why = c.af == AF_INET ? "prefix length above 32" :
		    "prefix length above 128";
		r = -SBC_ELIMIT;
		goto err;
	}
	memcpy(before, c.a, sizeof(before));
	cidr_mask_bytes(c.a, plen);
	if (memcmp(before, c.a, sizeof(before)) != 0)
		flags |= CIDR_F_HOSTBITS;
	if (c.af == AF_INET6 && plen >= 96 &&
	    memcmp(c.a, v4mapped_pfx, sizeof(v4mapped_pfx)) == 0) {
		memmove(c.a, c.a + 12, 4);
		memset(c.a + 4, 0, 12);
		c.af = AF_INET;
		plen -= 96;
		flags |= CIDR_F_V4MAPPED;
	}
	c.plen = (uint8_t)plen;
	*ret = c;
	if (ret_flags != NULL)
		*ret_flags = flags;
	return 0;
err:
	if (reterr_why != NULL)
		*reterr_why = why;
	return r;
}

int
cidr_parse_cstr(const char *s, struct cidr *ret, unsigned *ret_flags,
    const char **reterr_why)
{
	return cidr_parse(slice_cstr(s), ret, ret_flags, reterr_why);
}

int
cidr_format(const struct cidr *c, char *buf, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];
	int n;

	if (cap == 0)
		return -SBC_ELIMIT;
	buf[0] = '\0';
	if (cidr_width(c->af) == 0 ||
	    inet_ntop(c->af, c->a, ip, sizeof(ip)) == NULL)
		return -SBC_EPARSE;
	n = snprintf(buf, cap, "%s/%u", ip, c->plen);
	if (n < 0 || (size_t)n >= cap) {
		buf[0] = '\0';
		return -SBC_ELIMIT;
	}
	return n;
}

int
cidr_addr_norm(const union sw_addr *a, uint8_t ret[16])
{
	if (a->sa.sa_family == AF_INET) {
		memcpy(ret, &a->sin.sin_addr, 4);
		memset(ret + 4, 0, 12);
		return AF_INET;
	}
	if (a->sa.sa_family == AF_INET6) {
		const uint8_t *b = a->sin6.sin6_addr.s6_addr;

		if (memcmp(b, v4mapped_pfx, sizeof(v4mapped_pfx)) == 0) {
			memcpy(ret, b + 12, 4);
			memset(ret + 4, 0, 12);
			return AF_INET;
		}
		memcpy(ret, b, 16);
		return AF_INET6;
	}
	return -EAFNOSUPPORT;
}

int
cidr_from_addr(const union sw_addr *a, unsigned plen, struct cidr *ret)
{
	struct cidr c;
	int af;

	memset(&c, 0, sizeof(c));
	if ((af = cidr_addr_norm(a, c.a)) < 0)
		return af;
	if (plen > cidr_width(af))
		return -EINVAL;
	c.af = (uint8_t)af;
	c.plen = (uint8_t)plen;
	cidr_mask_bytes(c.a, plen);
	*ret = c;
	return 0;
}

void
cidr_to_addr(const struct cidr *c, union sw_addr *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (c->af == AF_INET6) {
		ret->sin6.sin6_family = AF_INET6;
		memcpy(&ret->sin6.sin6_addr, c->a, 16);
	} else {
		ret->sin.sin_family = AF_INET;
		memcpy(&ret->sin.sin_addr, c->a, 4);
	}
}

/* 1 when the first plen bits of x and y agree. */
static int
bits_eq(const uint8_t *x, const uint8_t *y, unsigned plen)
{
	unsigned full = plen / 8, rem = plen % 8;

	if (full > 0 && memcmp(x, y, full) != 0)
		return 0;
	if (rem != 0) {
		uint8_t m = (uint8_t)(0xff00u >> rem);

		return ((x[full] ^ y[full]) & m) == 0;
	}
	return 1;
}

int
cidr_contains(const struct cidr *c, const union sw_addr *a)
{
	uint8_t b[16];
	int af;

	if ((af = cidr_addr_norm(a, b)) < 0 || af != c->af)
		return 0;
	return bits_eq(c->a, b, c->plen);
}

int
cidr_covers(const struct cidr *outer, const struct cidr *inner)
{
	return outer->af == inner->af && outer->plen <= inner->plen &&
	    bits_eq(outer->a, inner->a, outer->plen);
}

int
cidr_eq(const struct cidr *x, const struct cidr *y)
{
	return x->af == y->af && x->plen == y->plen &&
	    memcmp(x->a, y->a, sizeof(x->a)) == 0;
}
