#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/addr.h"
#include "core/hash.h"

int
sw_addr_parse(const char *ip, uint16_t port, union sw_addr *ret)
{
	union sw_addr a;

	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, ip, &a.sin.sin_addr) == 1) {
		a.sin.sin_family = AF_INET;
		a.sin.sin_port = htons(port);
	} else if (inet_pton(AF_INET6, ip, &a.sin6.sin6_addr) == 1) {
		a.sin6.sin6_family = AF_INET6;
		a.sin6.sin6_port = htons(port);
	} else
		return -EINVAL;
	*ret = a;
	return 0;
}

int
sw_addr_parse_slice(struct slice ip, uint16_t port, union sw_addr *ret)
{
	char buf[INET6_ADDRSTRLEN + 1];

	if (ip.len >= 2 && ip.p[0] == '[' && ip.p[ip.len - 1] == ']')
		ip = slice_sub(ip, 1, ip.len - 2);
	if (slice_to_cstr(ip, buf, sizeof(buf)) < 0)
		return -EINVAL;
	return sw_addr_parse(buf, port, ret);
}

socklen_t
sw_addr_len(const union sw_addr *a)
{
	return a->sa.sa_family == AF_INET6 ? sizeof(a->sin6) : sizeof(a->sin);
}

int
sw_addr_family(const union sw_addr *a)
{
	return a->sa.sa_family;
}

uint16_t
sw_addr_port(const union sw_addr *a)
{
	return ntohs(a->sa.sa_family == AF_INET6 ? a->sin6.sin6_port :
	    a->sin.sin_port);
}

void
sw_addr_set_port(union sw_addr *a, uint16_t port)
{
	if (a->sa.sa_family == AF_INET6)
		a->sin6.sin6_port = htons(port);
	else
		a->sin.sin_port = htons(port);
}

const char *
sw_addr_ip_str(const union sw_addr *a, char *buf, size_t cap)
{
	const void *src = a->sa.sa_family == AF_INET6 ?
	    (const void *)&a->sin6.sin6_addr : (const void *)&a->sin.sin_addr;

	if (inet_ntop(a->sa.sa_family, src, buf, (socklen_t)cap) == NULL)
		snprintf(buf, cap, "?");
	return buf;
}

const char *
sw_addr_str(const union sw_addr *a, char *buf, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];

	sw_addr_ip_str(a, ip, sizeof(ip));
	if (a->sa.sa_family == AF_INET6)
		snprintf(buf, cap, "[%s]:%u", ip, sw_addr_port(a));
	else
		snprintf(buf, cap, "%s:%u", ip, sw_addr_port(a));
	return buf;
}

int
sw_addr_eq_ip(const union sw_addr *a, const union sw_addr *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return 0;
	if (a->sa.sa_family == AF_INET6)
		return memcmp(&a->sin6.sin6_addr, &b->sin6.sin6_addr, 16) == 0;
	return a->sin.sin_addr.s_addr == b->sin.sin_addr.s_addr;
}

int
sw_addr_eq(const union sw_addr *a, const union sw_addr *b)
{
	return sw_addr_eq_ip(a, b) && sw_addr_port(a) == sw_addr_port(b);
}

int
sw_addr_in_prefix(const union sw_addr *a, const union sw_addr *net,
    unsigned plen)
{
	const uint8_t *p, *q;
	unsigned full, rest;

	if (a->sa.sa_family != net->sa.sa_family)
		return 0;
	if (a->sa.sa_family == AF_INET6) {
		p = a->sin6.sin6_addr.s6_addr;
		q = net->sin6.sin6_addr.s6_addr;
		if (plen > 128)
			plen = 128;
	} else {
		p = (const uint8_t *)&a->sin.sin_addr;
		q = (const uint8_t *)&net->sin.sin_addr;
		if (plen > 32)
			plen = 32;
	}
	full = plen / 8;
	rest = plen % 8;
	if (memcmp(p, q, full) != 0)
		return 0;
	return rest == 0 || ((p[full] ^ q[full]) & (uint8_t)(0xff00u >> rest)) == 0;
}

uint64_t
sw_addr_hash(const union sw_addr *a, int with_port)
{
	uint8_t key[19];
	size_t n;

	if (a->sa.sa_family == AF_INET6) {
		memcpy(key, &a->sin6.sin6_addr, 16);
		n = 16;
	} else {
		memcpy(key, &a->sin.sin_addr, 4);
		n = 4;
	}
	key[n++] = (uint8_t)a->sa.sa_family;
	if (with_port) {
		uint16_t p = sw_addr_port(a);

		key[n++] = (uint8_t)(p >> 8);
		key[n++] = (uint8_t)p;
	}
	return sw_hash(key, n);
}

int
sw_addr_is_any(const union sw_addr *a)
{
	if (a->sa.sa_family == AF_INET)
		return a->sin.sin_addr.s_addr == htonl(INADDR_ANY);
	if (a->sa.sa_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&a->sin6.sin6_addr);
	return 0;
}
