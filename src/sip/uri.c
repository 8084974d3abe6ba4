/*
 * URIs (RFC 3261 19.1, RFC 3966 tel, RFC 5118 IPv6 references) and
 * hosts.  Everything returned points into the input; nothing is
 * unescaped in place (sip_unescape copies when a caller needs it).
 * Deliberately strict: a URI we cannot classify exactly is refused,
 * because later stages route and match on these fields.
 */
#include <arpa/inet.h>

#include "core/num.h"
#include "sip/hdr.h"

/* A %XX escape starts at s.p[i]. */
static int
is_escape(struct slice s, size_t i)
{
	return s.p[i] == '%' && i + 2 < s.len &&
	    ctype_is(s.p[i + 1], CT_HEX) && ctype_is(s.p[i + 2], CT_HEX);
}

/*
 * True when every byte of s is in cls or is a %XX escape.
 * allow_empty decides whether "" passes.
 */
static int
chars_ok(struct slice s, unsigned cls, int allow_empty)
{
	if (s.len == 0)
		return allow_empty;
	for (size_t i = 0; i < s.len; i++) {
		if (ctype_is(s.p[i], cls))
			continue;
		if (is_escape(s, i)) {
			i += 2;
			continue;
		}
		return 0;
	}
	return 1;
}

ssize_t
sip_unescape(struct slice s, uint8_t *dst, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < s.len; i++) {
		uint8_t c = s.p[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= s.len)
				return -SBC_EPARSE;
			hi = ctype_hexval(s.p[i + 1]);
			lo = ctype_hexval(s.p[i + 2]);
			if (hi < 0 || lo < 0)
				return -SBC_EPARSE;
			c = (uint8_t)(hi << 4 | lo);
			i += 2;
		}
		if (n >= cap)
			return -SBC_ELIMIT;
		dst[n++] = c;
	}
	return (ssize_t)n;
}

static int
ipv4_check(struct slice s)
{
	unsigned parts = 0;

	while (parts < 4) {
		struct slice d = slice_span(&s, CT_DIGIT);
		uint32_t v;

		if (d.len == 0 || d.len > 3 || parse_u32(d, 255, &v) < 0)
			return 0;
		parts++;
		if (parts < 4 && !slice_eat(&s, '.'))
			return 0;
	}
	return s.len == 0;
}

static int
ipv6_check(struct slice s)
{
	char buf[INET6_ADDRSTRLEN + 1];
	struct in6_addr a;

	if (s.len == 0 || s.len >= sizeof(buf))
		return 0;
	for (size_t i = 0; i < s.len; i++)
		if (!ctype_is(s.p[i], CT_HEX) && s.p[i] != ':' &&
		    s.p[i] != '.')
			return 0;
	slice_to_cstr(s, buf, sizeof(buf));
	return inet_pton(AF_INET6, buf, &a) == 1;
}

/*
 * hostname = *( domainlabel "." ) toplabel [ "." ]
 * domainlabel = alphanum / alphanum *( alphanum / "-" ) alphanum
 * toplabel = ALPHA / ALPHA *( alphanum / "-" ) alphanum
 */
static int
hostname_check(struct slice s)
{
	struct slice label = SLICE_NULL;

	if (s.len == 0 || s.len > 255)
		return 0;
	if (s.p[s.len - 1] == '.')
		s.len--;
	if (s.len == 0)			/* "." alone names no host */
		return 0;
	while (s.len > 0) {
		ssize_t dot = slice_find(s, '.');
		size_t n = dot < 0 ? s.len : (size_t)dot;

		slice_take(&s, n, &label);
		if (label.len == 0 || label.len > 63)
			return 0;
		if (!ctype_is(label.p[0], CT_ALNUM) ||
		    !ctype_is(label.p[label.len - 1], CT_ALNUM))
			return 0;
		for (size_t i = 0; i < label.len; i++)
			if (!ctype_is(label.p[i], CT_ALNUM) &&
			    label.p[i] != '-')
				return 0;
		if (dot >= 0) {
			slice_skip(&s, 1);
			if (s.len == 0)		/* "a..": empty label */
				return 0;
		}
	}
	return ctype_is(label.p[0], CT_ALPHA);
}

int
sip_host_check(struct slice host, uint8_t *ret_type)
{
	if (host.len >= 2 && host.p[0] == '[') {
		if (host.p[host.len - 1] != ']' ||
		    !ipv6_check(slice_sub(host, 1, host.len - 2)))
			return -SBC_EPARSE;
		*ret_type = SIP_HOST_IPV6;
		return 0;
	}
	if (ipv4_check(host)) {
		*ret_type = SIP_HOST_IPV4;
		return 0;
	}
	if (hostname_check(host)) {
		*ret_type = SIP_HOST_DOMAIN;
		return 0;
	}
	return -SBC_EPARSE;
}

int
sip_hostport_parse(struct slice s, struct sip_hostport *ret)
{
	struct sip_hostport hp = { 0 };
	size_t hlen;

	if (s.len == 0)
		return -SBC_EPARSE;
	if (s.p[0] == '[') {
		ssize_t close = slice_find(s, ']');

		if (close < 0)
			return -SBC_EPARSE;
		hlen = (size_t)close + 1;
	} else {
		ssize_t colon = slice_find(s, ':');

		hlen = colon < 0 ? s.len : (size_t)colon;
	}
	slice_take(&s, hlen, &hp.host);
	if (sip_host_check(hp.host, &hp.type) < 0)
		return -SBC_EPARSE;
	if (slice_eat(&s, ':')) {
		uint32_t port;

		if (s.len == 0 || s.len > 5 || parse_u32(s, 65535, &port) < 0 ||
		    port == 0)
			return -SBC_EPARSE;
		hp.port = (uint16_t)port;
	} else if (s.len != 0)
		return -SBC_EPARSE;
	*ret = hp;
	return 0;
}

/* uri-parameters: *( ";" pname [ "=" pvalue ] ), no white space. */
static int
uri_params_parse(struct slice p, struct sip_uri *u)
{
	unsigned n = 0;

	while (p.len > 0) {
		struct slice name, value = SLICE_NULL, param;
		ssize_t semi, eq;

		if (!slice_eat(&p, ';'))
			return -SBC_EPARSE;
		semi = slice_find(p, ';');
		slice_take(&p, semi < 0 ? p.len : (size_t)semi, &param);
		if (++n > SIP_MAX_PARAMS)
			return -SBC_ELIMIT;
		eq = slice_find(param, '=');
		if (eq >= 0) {
			name = slice_sub(param, 0, (size_t)eq);
			value = slice_sub(param, (size_t)eq + 1, param.len);
			if (!chars_ok(value, CT_UNRESERVED | CT_PARAM_UNRES, 0))
				return -SBC_EPARSE;
		} else
			name = param;
		if (!chars_ok(name, CT_UNRESERVED | CT_PARAM_UNRES, 0))
			return -SBC_EPARSE;
		if (slice_eq_lit_ci(name, "transport"))
			u->transport = value;
		else if (slice_eq_lit_ci(name, "user"))
			u->user_param = value;
		else if (slice_eq_lit_ci(name, "maddr"))
			u->maddr = value;
		else if (slice_eq_lit_ci(name, "lr"))
			u->lr = 1;
	}
	u->nparams = (uint8_t)n;
	return 0;
}

/* headers = "?" header *( "&" header ); header = hname "=" hvalue */
static int
uri_headers_check(struct slice h)
{
	unsigned n = 0;

	while (h.len > 0) {
		ssize_t amp = slice_find(h, '&'), eq;
		struct slice one;

		slice_take(&h, amp < 0 ? h.len : (size_t)amp, &one);
		if (amp >= 0) {
			slice_skip(&h, 1);
			if (h.len == 0)
				return -SBC_EPARSE;
		}
		if (++n > SIP_MAX_PARAMS)
			return -SBC_ELIMIT;
		eq = slice_find(one, '=');
		if (eq <= 0)
			return -SBC_EPARSE;
		if (!chars_ok(slice_sub(one, 0, (size_t)eq),
		    CT_UNRESERVED | CT_HNV_UNRES, 0) ||
		    !chars_ok(slice_sub(one, (size_t)eq + 1, one.len),
		    CT_UNRESERVED | CT_HNV_UNRES, 1))
			return -SBC_EPARSE;
	}
	return 0;
}

static int
sip_uri_parse_sip(struct slice rest, struct sip_uri *u)
{
	ssize_t at = slice_find(rest, '@');
	size_t hplen = 0;
	struct slice hp;

	if (at >= 0) {
		struct slice ui;
		ssize_t colon;

		slice_take(&rest, (size_t)at, &ui);
		slice_skip(&rest, 1);
		colon = slice_find(ui, ':');
		if (colon >= 0) {
			u->user = slice_sub(ui, 0, (size_t)colon);
			u->password = slice_sub(ui, (size_t)colon + 1, ui.len);
			if (!chars_ok(u->password, CT_UNRESERVED | CT_PASS_UNRES,
			    1))
				return -SBC_EPARSE;
		} else
			u->user = ui;
		if (!chars_ok(u->user, CT_UNRESERVED | CT_USER_UNRES, 0))
			return -SBC_EPARSE;
	}
	/* hostport ends at ';' or '?', but not inside an IPv6 reference. */
	if (rest.len > 0 && rest.p[0] == '[') {
		ssize_t close = slice_find(rest, ']');

		if (close < 0)
			return -SBC_EPARSE;
		hplen = (size_t)close + 1;
	}
	while (hplen < rest.len && rest.p[hplen] != ';' && rest.p[hplen] != '?')
		hplen++;
	slice_take(&rest, hplen, &hp);
	if (sip_hostport_parse(hp, &u->hp) < 0)
		return -SBC_EPARSE;
	{
		ssize_t q = slice_find(rest, '?');

		u->params = slice_sub(rest, 0, q < 0 ? rest.len : (size_t)q);
		if (q >= 0) {
			u->headers = slice_sub(rest, (size_t)q + 1, rest.len);
			if (u->headers.len == 0 ||
			    uri_headers_check(u->headers) < 0)
				return -SBC_EPARSE;
		}
	}
	return uri_params_parse(u->params, u);
}

/*
 * RFC 3966: global-number-digits = "+" *phonedigit DIGIT *phonedigit
 * local-number-digits = *phonedigit-hex (HEXDIG / "*" / "#") *phonedigit-hex
 * We accept a local number without phone-context: real PBXs send it.
 */
static int
sip_uri_parse_tel(struct slice rest, struct sip_uri *u)
{
	ssize_t semi = slice_find(rest, ';');
	struct slice num;
	int global, digits = 0;

	slice_take(&rest, semi < 0 ? rest.len : (size_t)semi, &num);
	if (num.len == 0)
		return -SBC_EPARSE;
	global = num.p[0] == '+';
	for (size_t i = global ? 1 : 0; i < num.len; i++) {
		uint8_t c = num.p[i];

		if (ctype_is(c, CT_DIGIT) ||
		    (!global && (ctype_is(c, CT_HEX) || c == '*' || c == '#')))
			digits++;
		else if (c != '-' && c != '.' && c != '(' && c != ')')
			return -SBC_EPARSE;
	}
	if (digits == 0)
		return -SBC_EPARSE;
	u->user = num;
	u->params = rest;
	return uri_params_parse(rest, u);
}

/* absoluteURI we only carry: scheme ":" 1*uric */
static int
sip_uri_parse_other(struct slice rest)
{
	return chars_ok(rest, CT_UNRESERVED | CT_RESERVED, 0) ? 0 :
	    -SBC_EPARSE;
}

int
sip_uri_parse(struct slice s, const struct sip_limits *lim,
    struct sip_uri *ret)
{
	struct sip_uri u = { 0 };
	ssize_t colon;
	int r;

	if (s.len > lim->max_uri)
		return -SBC_ELIMIT;
	colon = slice_find(s, ':');
	if (colon <= 0)
		return -SBC_EPARSE;
	u.raw = s;
	u.scheme_s = slice_sub(s, 0, (size_t)colon);
	if (!ctype_is(u.scheme_s.p[0], CT_ALPHA))
		return -SBC_EPARSE;
	for (size_t i = 1; i < u.scheme_s.len; i++) {
		uint8_t c = u.scheme_s.p[i];

		if (!ctype_is(c, CT_ALNUM) && c != '+' && c != '-' && c != '.')
			return -SBC_EPARSE;
	}
	slice_skip(&s, (size_t)colon + 1);
	if (slice_eq_lit_ci(u.scheme_s, "sip")) {
		u.scheme = SIP_URI_SIP;
		r = sip_uri_parse_sip(s, &u);
	} else if (slice_eq_lit_ci(u.scheme_s, "sips")) {
		u.scheme = SIP_URI_SIPS;
		r = sip_uri_parse_sip(s, &u);
	} else if (slice_eq_lit_ci(u.scheme_s, "tel")) {
		u.scheme = SIP_URI_TEL;
		r = sip_uri_parse_tel(s, &u);
	} else {
		u.scheme = SIP_URI_OTHER;
		r = sip_uri_parse_other(s);
	}
	if (r < 0)
		return r;
	*ret = u;
	return 0;
}
