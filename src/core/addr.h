/*
 * Socket addresses (IPv4 and IPv6) as one small value type, with the
 * formatting every log line and event needs.
 */
#ifndef SW_CORE_ADDR_H
#define SW_CORE_ADDR_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/slice.h"

union sw_addr {
	struct sockaddr		sa;
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;
};

/* "[ffff:...:ffff]:65535" plus NUL */
#define SW_ADDR_STRLEN	(INET6_ADDRSTRLEN + 8)

/* Parse a numeric IPv4 or IPv6 address (no brackets) with a port. */
int		 sw_addr_parse(const char *ip, uint16_t port, union sw_addr *ret);
/* Same from a slice; IPv6 may be in brackets. */
int		 sw_addr_parse_slice(struct slice ip, uint16_t port, union sw_addr *ret);
socklen_t	 sw_addr_len(const union sw_addr *a);
int		 sw_addr_family(const union sw_addr *a);
uint16_t	 sw_addr_port(const union sw_addr *a);
void		 sw_addr_set_port(union sw_addr *a, uint16_t port);
/* Address only, no port: "192.0.2.1" or "2001:db8::1". Returns buf. */
const char	*sw_addr_ip_str(const union sw_addr *a, char *buf, size_t cap);
/* "192.0.2.1:5060" or "[2001:db8::1]:5060". Returns buf. */
const char	*sw_addr_str(const union sw_addr *a, char *buf, size_t cap);
/* Compare address and port. */
int		 sw_addr_eq(const union sw_addr *a, const union sw_addr *b);
/* Compare address only. */
int		 sw_addr_eq_ip(const union sw_addr *a, const union sw_addr *b);
/* Is a inside the prefix net/plen (same family)? */
int		 sw_addr_in_prefix(const union sw_addr *a, const union sw_addr *net,
		    unsigned plen);
/* 0.0.0.0 or :: (a wildcard bind, never a peer). */
int		 sw_addr_is_any(const union sw_addr *a);
/* Hash of address and port, keyed per process against collision floods. */
uint64_t	 sw_addr_hash(const union sw_addr *a, int with_port);

#endif
