/*
 * Validation and canonical forms of the values the store keeps:
 * addresses and prefixes (ban keys, account allow lists), names, and
 * free text (bounded, no control characters, well-formed UTF-8).
 * Pure functions; nothing here touches the database.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/ctype.h"
#include "core/utf8.h"
#include "store/store_int.h"

/* A control character text must not hold ('\n' and '\t' in lines). */
static bool
is_control(uint8_t c, bool lines)
{
	if (lines && (c == '\n' || c == '\t'))
		return false;
	return c < 0x20 || c == 0x7f;
}

static bool
text_ok(const char *s, size_t max, bool required, bool lines)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t n, i = 0;

	if (s == NULL)
		return false;
	n = strnlen(s, max + 1);
	if (n > max || (required && n == 0))
		return false;
	while (i < n) {
		size_t l;

		if (is_control(p[i], lines))
			return false;
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((l = utf8_seq_len(p + i, n - i)) == 0)
			return false;
		/* C1 controls (U+0080..U+009F) act as terminal escapes too. */
		if (p[i] == 0xc2 && p[i + 1] < 0xa0)
			return false;
		i += l;
	}
	return true;
}

bool
store_text_ok(const char *s, size_t max, bool required)
{
	return text_ok(s, max, required, false);
}

bool
store_lines_ok(const char *s, size_t max)
{
	return text_ok(s, max, false, true);
}

void
store_text_scrub(char *s, bool lines)
{
	uint8_t *p = (uint8_t *)s;
	size_t n = strlen(s), i = 0, l;

	while (i < n) {
		if (p[i] < 0x80) {
			if (is_control(p[i], lines))
				p[i] = '?';
			i++;
		} else if ((l = utf8_seq_len(p + i, n - i)) == 0 ||
		    (p[i] == 0xc2 && p[i + 1] < 0xa0)) {
			/* The rest of a C1 sequence is a stray byte next. */
			p[i++] = '?';
		} else
			i += l;
	}
}

bool
store_username_valid(const char *u)
{
	size_t n = 0;

	if (u == NULL)
		return false;
	for (; u[n] != '\0'; n++) {
		if (n >= STORE_USERNAME_MAX)
			return false;
		if (!ctype_is((uint8_t)u[n], CT_UNRESERVED | CT_USER_UNRES))
			return false;
	}
	return n > 0;
}

int
store_domain_canon(const char *d, char *ret, size_t cap)
{
	size_t n;

	if (d == NULL || (n = strnlen(d, STORE_DOMAIN_MAX + 1)) == 0 ||
	    n > STORE_DOMAIN_MAX || n >= cap)
		return -EINVAL;
	if (d[0] == '[') {
		/* An IPv6 reference: "[2001:db8::1]". */
		char tmp[INET6_ADDRSTRLEN];
		struct in6_addr a6;

		if (n < 4 || d[n - 1] != ']' || n - 2 >= sizeof(tmp))
			return -EINVAL;
		memcpy(tmp, d + 1, n - 2);
		tmp[n - 2] = '\0';
		if (inet_pton(AF_INET6, tmp, &a6) != 1)
			return -EINVAL;
		for (size_t i = 0; i < n; i++)
			ret[i] = (char)ctype_lower((uint8_t)d[i]);
		ret[n] = '\0';
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)d[i];

		if (!ctype_is(c, CT_HOST))
			return -EINVAL;
		ret[i] = (char)ctype_lower(c);
	}
	ret[n] = '\0';
	if (ret[0] == '.' || ret[0] == '-' || strstr(ret, "..") != NULL)
		return -EINVAL;
	return 0;
}

bool
store_group_valid(const char *g)
{
	size_t n = 0;

	if (g == NULL)
		return false;
	for (; g[n] != '\0'; n++) {
		uint8_t c = (uint8_t)g[n];

		if (n >= STORE_GROUP_MAX)
			return false;
		if (!ctype_is(c, CT_ALNUM) && c != '_' && c != '.' && c != '-')
			return false;
	}
	return n > 0;
}

bool
store_reason_valid(const char *reason)
{
	size_t n = 0;

	if (reason == NULL)
		return false;
	for (; reason[n] != '\0'; n++) {
		char c = reason[n];

		if (n >= STORE_REASON_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '_'))
			return false;
	}
	return n > 0;
}

/* --- addresses and prefixes ------------------------------------------------ */

struct pfx {
	int		family;
	uint8_t		a[16];
	unsigned	len;		/* prefix length */
};

/*
 * Parse "ADDR" or "ADDR/LEN" (decimal LEN, no sign, no leading zeros),
 * fold IPv4-mapped IPv6 into IPv4 and refuse set host bits.
 */
static int
pfx_parse(const char *in, struct pfx *ret)
{
	char buf[STORE_CIDR_MAX + 1];
	const char *slash;
	unsigned maxlen, len = 0;
	bool has_len = false;
	size_t n;

	if (in == NULL || (n = strnlen(in, sizeof(buf))) == 0 ||
	    n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, in, n + 1);
	if ((slash = strchr(buf, '/')) != NULL) {
		const char *p = slash + 1;
		size_t digits = strlen(p);

		if (digits == 0 || digits > 3 || (digits > 1 && p[0] == '0'))
			return -EINVAL;
		for (; *p != '\0'; p++) {
			if (*p < '0' || *p > '9')
				return -EINVAL;
			len = len * 10 + (unsigned)(*p - '0');
		}
		has_len = true;
		buf[slash - buf] = '\0';
	}
	memset(ret, 0, sizeof(*ret));
	if (strchr(buf, ':') != NULL) {
		static const uint8_t mapped[12] = {
			0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
		};

		if (inet_pton(AF_INET6, buf, ret->a) != 1)
			return -EINVAL;
		ret->family = AF_INET6;
		maxlen = 128;
		if (!has_len)
			len = 128;
		if (len > maxlen)
			return -EINVAL;
		if (memcmp(ret->a, mapped, sizeof(mapped)) == 0 && len >= 96) {
			memmove(ret->a, ret->a + 12, 4);
			memset(ret->a + 4, 0, 12);
			ret->family = AF_INET;
			len -= 96;
			maxlen = 32;
		}
	} else {
		if (inet_pton(AF_INET, buf, ret->a) != 1)
			return -EINVAL;
		ret->family = AF_INET;
		maxlen = 32;
		if (!has_len)
			len = 32;
		if (len > maxlen)
			return -EINVAL;
	}
	/* Host bits must be zero: "10.0.0.1/8" is most likely a typo. */
	for (unsigned bit = len; bit < maxlen; bit++)
		if (ret->a[bit / 8] & (0x80u >> (bit % 8)))
			return -EINVAL;
	ret->len = len;
	return 0;
}

static int
pfx_format(const struct pfx *p, bool bare_if_full, char *ret, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];
	unsigned full = p->family == AF_INET ? 32 : 128;
	int n;

	if (inet_ntop(p->family, p->a, ip, sizeof(ip)) == NULL)
		return -EINVAL;
	if (bare_if_full && p->len == full)
		n = snprintf(ret, cap, "%s", ip);
	else
		n = snprintf(ret, cap, "%s/%u", ip, p->len);
	if (n < 0 || (size_t)n >= cap)
		return -EINVAL;
	return 0;
}

int
store_ban_key_canon(const char *in, char *ret, size_t cap,
    unsigned *ret_prefix, int *ret_family)
{
	struct pfx p;
	int r;

	if ((r = pfx_parse(in, &p)) < 0 ||
	    (r = pfx_format(&p, true, ret, cap)) < 0)
		return r;
	if (ret_prefix != NULL)
		*ret_prefix = p.len;
	if (ret_family != NULL)
		*ret_family = p.family;
	return 0;
}

int
store_cidr_canon(const char *in, char *ret, size_t cap)
{
	struct pfx p;
	int r;

	if ((r = pfx_parse(in, &p)) < 0)
		return r;
	return pfx_format(&p, false, ret, cap);
}

int
store_cidrs_canon(const char *in, char *ret, size_t cap)
{
	char item[STORE_CIDR_MAX + 1], canon[STORE_CIDR_MAX + 1];
	char out[STORE_CIDRS_MAX + 1];
	size_t outlen = 0, count = 0;
	const char *p = in;

	if (in == NULL || cap == 0)
		return -EINVAL;
	out[0] = '\0';
	for (;;) {
		size_t n;

		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		n = strcspn(p, " ");
		if (n >= sizeof(item))
			return -EINVAL;
		memcpy(item, p, n);
		item[n] = '\0';
		p += n;
		if (store_cidr_canon(item, canon, sizeof(canon)) < 0)
			return -EINVAL;
		/* Skip duplicates: compare whole words of out. */
		{
			bool dup = false;
			size_t cl = strlen(canon);

			for (const char *q = out; *q != '\0'; ) {
				size_t wl = strcspn(q, " ");

				if (wl == cl && memcmp(q, canon, cl) == 0)
					dup = true;
				q += wl;
				if (*q == ' ')
					q++;
			}
			if (dup)
				continue;
			if (++count > STORE_MAX_CIDRS)
				return -EINVAL;
			if (outlen + (outlen > 0) + cl >= sizeof(out))
				return -EINVAL;
			if (outlen > 0)
				out[outlen++] = ' ';
			memcpy(out + outlen, canon, cl + 1);
			outlen += cl;
		}
	}
	if (outlen >= cap)
		return -EINVAL;
	memcpy(ret, out, outlen + 1);
	return 0;
}
