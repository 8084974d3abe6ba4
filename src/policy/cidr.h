/*
 * CIDR prefixes for the protection tables: parse, format, compare and
 * the one address normalization every policy table shares.
 *
 * An IPv4-mapped IPv6 address (::ffff:a.b.c.d, what a dual-stack socket
 * reports for an IPv4 peer) is IPv4 everywhere in policy/: a deny of
 * 192.0.2.0/24 must not be bypassed by reaching a [::] listener.  So
 * cidr_addr_norm() maps such addresses to IPv4, and cidr_parse() turns
 * a mapped prefix of length >= 96 into the IPv4 prefix it denotes.
 *
 * Deliberately not here: prefix tables (acl.c), DNS names, zone ids
 * ("fe80::1%eth0" is rejected), address ranges ("a-b").
 */
#ifndef SW_POLICY_CIDR_H
#define SW_POLICY_CIDR_H

#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/slice.h"

/*
 * A prefix.  The address is in network byte order, IPv4 in a[0..4)
 * with a[4..16) zero; every bit past plen is zero, so two equal
 * prefixes compare equal with memcmp() of the whole struct.
 */
struct cidr {
	uint8_t		af;		/* AF_INET or AF_INET6 */
	uint8_t		plen;		/* 0..32 or 0..128 */
	uint8_t		a[16];
};

/* "ffff:...:255.255.255.255/128" plus NUL */
#define CIDR_STRLEN	(46 + 4)
/* Longest text cidr_parse() looks at. */
#define CIDR_TEXT_MAX	64

/* Flags cidr_parse() reports for the config checker to warn about. */
enum {
	CIDR_F_BARE	= 1u << 0,	/* no "/len": a host prefix */
	CIDR_F_HOSTBITS	= 1u << 1,	/* bits past plen were set and cleared */
	CIDR_F_V4MAPPED	= 1u << 2,	/* ::ffff:0:0/96 prefix turned IPv4 */
};

/*
 * Parse "192.0.2.0/24", "2001:db8::/32" or a bare address (a /32 or
 * /128).  The whole slice must be the prefix: no white space, no
 * brackets, no zone id, no NUL; the length is 1-3 decimal digits
 * without a leading zero.  Host bits are accepted and cleared
 * (CIDR_F_HOSTBITS).  *ret and *ret_flags (may be NULL) are written
 * only on success.
 * Returns 0, or -SBC_EPARSE (bad address or syntax) or -SBC_ELIMIT
 * (length beyond the family's width, or text longer than
 * CIDR_TEXT_MAX); *reterr_why (may be NULL) then names the problem.
 */
int		 cidr_parse(struct slice s, struct cidr *ret, unsigned *ret_flags,
		    const char **reterr_why);
/* Same for a NUL-terminated string. */
int		 cidr_parse_cstr(const char *s, struct cidr *ret,
		    unsigned *ret_flags, const char **reterr_why);

/*
 * Canonical text, always with "/len": "192.0.2.0/24", "2001:db8::/32".
 * Writes at most cap bytes including the NUL; returns the length, or
 * -SBC_ELIMIT when it does not fit (buf then holds "").
 */
int		 cidr_format(const struct cidr *c, char *buf, size_t cap);

/*
 * The normalized key of a peer address: writes the address bytes to
 * ret[16] (IPv4 in ret[0..4), rest zero; mapped IPv6 becomes IPv4) and
 * returns AF_INET or AF_INET6, or -EAFNOSUPPORT for any other family.
 */
int		 cidr_addr_norm(const union sw_addr *a, uint8_t ret[16]);

/*
 * The prefix of length plen that contains a (normalized as above).
 * Returns 0, -EAFNOSUPPORT, or -EINVAL when plen exceeds the width.
 */
int		 cidr_from_addr(const union sw_addr *a, unsigned plen,
		    struct cidr *ret);
/* The prefix's network address as a socket address (port 0). */
void		 cidr_to_addr(const struct cidr *c, union sw_addr *ret);

/* Width of the family in bits: 32, 128, or 0 for anything else. */
unsigned	 cidr_width(int af);
/* 1 when c covers a, 0 otherwise (other family, unsupported address). */
int		 cidr_contains(const struct cidr *c, const union sw_addr *a);
/* 1 when outer covers all of inner (same family, shorter or equal). */
int		 cidr_covers(const struct cidr *outer, const struct cidr *inner);
int		 cidr_eq(const struct cidr *x, const struct cidr *y);
/* Clear the bits past plen of a[16]. */
void		 cidr_mask_bytes(uint8_t a[16], unsigned plen);

#endif
