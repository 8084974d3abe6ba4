/*
 * Header value decoders.  Values come from the head parser already
 * framed; any CR LF left inside is a fold followed by white space, so
 * LWS here covers SP, HT, CR and LF.  RFC 3261 separators carry
 * optional white space on both sides (SEMI, EQUAL, COMMA, SLASH,
 * COLON); LAQUOT/RAQUOT only outside the brackets.
 */
#include "core/num.h"
#include "core/utf8.h"
#include "sip/hdr.h"

int
sip_quoted_take(struct slice *cur, struct slice *ret_inner)
{
	struct slice s = *cur;
	size_t i;

	if (!slice_eat(&s, '"'))
		return -SBC_EPARSE;
	for (i = 0; i < s.len; i++) {
		uint8_t c = s.p[i];

		if (c == '"') {
			if (ret_inner != NULL)
				*ret_inner = slice_sub(s, 0, i);
			slice_skip(&s, i + 1);
			*cur = s;
			return 0;
		}
		if (c == '\\') {
			/* quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F) */
			if (i + 1 >= s.len || s.p[i + 1] == '\r' ||
			    s.p[i + 1] == '\n' || s.p[i + 1] > 0x7f)
				return -SBC_EPARSE;
			i++;
			continue;
		}
		if (c < 0x20 && !ctype_is(c, CT_LWS))
			return -SBC_EPARSE;
		if (c == 0x7f)
			return -SBC_EPARSE;
		if (c >= 0x80) {	/* UTF8-NONASCII: well-formed only */
			size_t n = utf8_seq_len(s.p + i, s.len - i);

			if (n == 0)
				return -SBC_EPARSE;
			i += n - 1;
		}
	}
	return -SBC_EPARSE;		/* unterminated */
}

int
sip_comment_take(struct slice *cur, unsigned depth)
{
	struct slice s = *cur;

	if (depth > 8 || !slice_eat(&s, '('))
		return -SBC_EPARSE;
	while (s.len > 0) {
		uint8_t c = s.p[0];

		if (c == ')') {
			slice_skip(&s, 1);
			*cur = s;
			return 0;
		}
		if (c == '(') {
			if (sip_comment_take(&s, depth + 1) < 0)
				return -SBC_EPARSE;
			continue;
		}
		if (c == '\\') {
			if (s.len < 2 || s.p[1] == '\r' || s.p[1] == '\n' ||
			    s.p[1] > 0x7f)
				return -SBC_EPARSE;
			slice_skip(&s, 2);
			continue;
		}
		if (c >= 0x80) {
			size_t n = utf8_seq_len(s.p, s.len);

			if (n == 0)
				return -SBC_EPARSE;
			slice_skip(&s, n);
			continue;
		}
		if ((c < 0x20 && !ctype_is(c, CT_LWS)) || c == 0x7f)
			return -SBC_EPARSE;
		slice_skip(&s, 1);
	}
	return -SBC_EPARSE;
}

/* gen-value = token / host / quoted-string */
static int
gen_value_take(struct slice *cur, struct slice *ret)
{
	struct slice start = *cur;
	size_t n = 0;

	if (slice_peek(*cur) == '"') {
		if (sip_quoted_take(cur, NULL) < 0)
			return -SBC_EPARSE;
		*ret = slice_sub(start, 0, start.len - cur->len);
		return 0;
	}
	while (n < cur->len && (ctype_is(cur->p[n], CT_TOKEN) ||
	    cur->p[n] == ':' || cur->p[n] == '[' || cur->p[n] == ']'))
		n++;
	if (n == 0)
		return -SBC_EPARSE;
	slice_take(cur, n, ret);
	return 0;
}

int
sip_param_next(struct slice *cur, struct slice *ret_name,
    struct slice *ret_value)
{
	struct slice s = *cur, name, value = SLICE_NULL;

	slice_skip_lws(&s);
	if (s.len == 0 || s.p[0] == ',')
		return 0;
	if (!slice_eat(&s, ';'))
		return -SBC_EPARSE;
	slice_skip_lws(&s);
	name = slice_span(&s, CT_TOKEN);
	if (name.len == 0)
		return -SBC_EPARSE;
	{
		struct slice t = s;

		slice_skip_lws(&t);
		if (slice_eat(&t, '=')) {
			slice_skip_lws(&t);
			if (gen_value_take(&t, &value) < 0)
				return -SBC_EPARSE;
			s = t;
		}
	}
	*ret_name = name;
	*ret_value = value;
	*cur = s;
	return 1;
}

int
sip_param_find(struct slice params, const char *name, struct slice *ret_value)
{
	struct slice n, v;
	unsigned count = 0;
	int r;

	while ((r = sip_param_next(&params, &n, &v)) > 0) {
		if (++count > SIP_MAX_PARAMS)
			return -SBC_ELIMIT;
		if (slice_eq_cstr_ci(n, name)) {
			*ret_value = v;
			return 1;
		}
	}
	return r;
}

/* After an element: end of value, or a COMMA that must be followed by more. */
static int
list_sep(struct slice *cur)
{
	slice_skip_lws(cur);
	if (cur->len == 0)
		return 0;
	if (!slice_eat(cur, ','))
		return -SBC_EPARSE;
	slice_skip_lws(cur);
	if (cur->len == 0)
		return -SBC_EPARSE;	/* trailing comma */
	return 0;
}

/* Skip optional white space, then one separator byte, then white space. */
static int
sep_take(struct slice *cur, uint8_t c)
{
	slice_skip_lws(cur);
	if (!slice_eat(cur, c))
		return -SBC_EPARSE;
	slice_skip_lws(cur);
	return 0;
}

static int
ip_literal_ok(struct slice v)
{
	uint8_t t;

	/* received = IPv4address / IPv6address; tolerate the brackets
	 * some stacks add (RFC 5118 4.5). */
	if (sip_host_check(v, &t) == 0)
		return t == SIP_HOST_IPV4 || t == SIP_HOST_IPV6;
	if (v.len > 0 && v.p[0] != '[') {
		uint8_t buf[64];

		if (v.len + 2 > sizeof(buf))
			return 0;
		buf[0] = '[';
		memcpy(buf + 1, v.p, v.len);
		buf[v.len + 1] = ']';
		return sip_host_check(slice_make(buf, v.len + 2), &t) == 0 &&
		    t == SIP_HOST_IPV6;
	}
	return 0;
}

int
sip_via_next(struct slice *cur, struct sip_via *ret)
{
	struct slice s = *cur, host, name, value;
	struct sip_via v = { 0 };
	const uint8_t *start;
	unsigned nparams = 0;
	size_t n;
	int r;

	slice_skip_lws(&s);
	if (s.len == 0)
		return 0;
	start = s.p;
	v.proto = slice_span(&s, CT_TOKEN);
	if (v.proto.len == 0 || sep_take(&s, '/') < 0)
		return -SBC_EPARSE;
	v.version = slice_span(&s, CT_TOKEN);
	if (v.version.len == 0 || sep_take(&s, '/') < 0)
		return -SBC_EPARSE;
	v.transport_s = slice_span(&s, CT_TOKEN);
	if (v.transport_s.len == 0)
		return -SBC_EPARSE;
	v.transport = (uint8_t)sip_transport_lookup(v.transport_s);
	if (slice_skip_lws(&s) == 0)
		return -SBC_EPARSE;
	/* sent-by = host [ COLON port ] */
	n = 0;
	if (slice_peek(s) == '[') {
		ssize_t close = slice_find(s, ']');

		if (close < 0)
			return -SBC_EPARSE;
		n = (size_t)close + 1;
	} else
		while (n < s.len && ctype_is(s.p[n], CT_HOST))
			n++;
	slice_take(&s, n, &host);
	if (sip_host_check(host, &v.sent_by.type) < 0)
		return -SBC_EPARSE;
	v.sent_by.host = host;
	{
		struct slice t = s;
		uint32_t port;

		slice_skip_lws(&t);
		if (slice_eat(&t, ':')) {
			struct slice digits;

			slice_skip_lws(&t);
			digits = slice_span(&t, CT_DIGIT);
			if (digits.len == 0 || digits.len > 5 ||
			    parse_u32(digits, 65535, &port) < 0 || port == 0)
				return -SBC_EPARSE;
			v.sent_by.port = (uint16_t)port;
			s = t;
		}
	}
	v.params = s;
	while ((r = sip_param_next(&s, &name, &value)) > 0) {
		if (++nparams > SIP_MAX_PARAMS)
			return -SBC_ELIMIT;
		if (slice_eq_lit_ci(name, "branch")) {
			if (value.len == 0 || value.len > SIP_MAX_BRANCH ||
			    value.p[0] == '"' || slice_set(v.branch))
				return -SBC_EPARSE;
			v.branch = value;
		} else if (slice_eq_lit_ci(name, "received")) {
			if (!ip_literal_ok(value))
				return -SBC_EPARSE;
			v.received = value;
		} else if (slice_eq_lit_ci(name, "maddr")) {
			uint8_t t;

			if (sip_host_check(value, &t) < 0)
				return -SBC_EPARSE;
			v.maddr = value;
		} else if (slice_eq_lit_ci(name, "ttl")) {
			uint32_t ttl;

			if (value.len > 3 || parse_u32(value, 255, &ttl) < 0)
				return -SBC_EPARSE;
			v.ttl = (uint8_t)ttl;
			v.ttl_set = 1;
		} else if (slice_eq_lit_ci(name, "rport")) {
			uint32_t port;

			if (slice_set(value) && (value.len > 5 ||
			    parse_u32(value, 65535, &port) < 0))
				return -SBC_EPARSE;
			v.has_rport = 1;
			v.rport = value;
		}
	}
	if (r < 0)
		return r;
	v.params.len = (size_t)(s.p - v.params.p);
	v.raw = slice_make(start, (size_t)(s.p - start));
	if (list_sep(&s) < 0)
		return -SBC_EPARSE;
	*ret = v;
	*cur = s;
	return 1;
}

/* display-name = *(token LWS) / quoted-string, followed by LAQUOT. */
static int
display_take(struct slice *cur, struct slice *ret)
{
	struct slice s = *cur;
	const uint8_t *start = s.p;

	if (slice_peek(s) == '"') {
		if (sip_quoted_take(&s, NULL) < 0)
			return -SBC_EPARSE;
		*ret = slice_make(start, (size_t)(s.p - start));
		slice_skip_lws(&s);
		*cur = s;
		return 1;
	}
	/* A run of tokens and white space is a display name only when a
	 * '<' follows; otherwise this is an addr-spec. */
	while (s.len > 0 && (ctype_is(s.p[0], CT_TOKEN) ||
	    ctype_is(s.p[0], CT_LWS)))
		slice_skip(&s, 1);
	if (slice_peek(s) != '<')
		return 0;
	*ret = slice_trim_lws(slice_make(start, (size_t)(s.p - start)));
	*cur = s;
	return 1;
}

static int
qvalue_ok(struct slice q)
{
	/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) */
	if (q.len == 0 || q.len > 5 || (q.p[0] != '0' && q.p[0] != '1'))
		return 0;
	if (q.len == 1)
		return 1;
	if (q.p[1] != '.')
		return 0;
	for (size_t i = 2; i < q.len; i++)
		if (!ctype_is(q.p[i], CT_DIGIT) || (q.p[0] == '1' && q.p[i] != '0'))
			return 0;
	return 1;
}

int
sip_nameaddr_next(struct slice *cur, const struct sip_limits *lim,
    int allow_star, struct sip_nameaddr *ret)
{
	struct slice s = *cur, uri, name, value;
	struct sip_nameaddr na = { 0 };
	const uint8_t *start;
	unsigned nparams = 0;
	int r;

	slice_skip_lws(&s);
	if (s.len == 0)
		return 0;
	start = s.p;
	if (allow_star && s.p[0] == '*') {
		struct slice t = s;

		slice_skip(&t, 1);
		slice_skip_lws(&t);
		if (t.len == 0 || t.p[0] == ',' || t.p[0] == ';') {
			na.star = 1;
			s = t;
			goto params;
		}
	}
	if ((r = display_take(&s, &na.display)) < 0)
		return r;
	if (slice_eat(&s, '<')) {
		ssize_t close = slice_find(s, '>');

		if (close < 0)
			return -SBC_EPARSE;
		slice_take(&s, (size_t)close, &uri);
		slice_skip(&s, 1);
		na.bracketed = 1;
	} else {
		size_t n = 0;

		if (r == 1)		/* quoted display without '<' */
			return -SBC_EPARSE;
		/* addr-spec: the URI cannot hold ';' ',' '?' or LWS here */
		while (n < s.len && s.p[n] != ';' && s.p[n] != ',' &&
		    s.p[n] != '?' && !ctype_is(s.p[n], CT_LWS))
			n++;
		slice_take(&s, n, &uri);
	}
	if ((r = sip_uri_parse(uri, lim, &na.uri)) < 0)
		return r;
params:
	na.params = s;
	while ((r = sip_param_next(&s, &name, &value)) > 0) {
		if (++nparams > SIP_MAX_PARAMS)
			return -SBC_ELIMIT;
		if (slice_eq_lit_ci(name, "tag")) {
			if (value.len == 0 || value.len > SIP_MAX_TAG ||
			    value.p[0] == '"' || na.has_tag)
				return -SBC_EPARSE;
			na.tag = value;
			na.has_tag = 1;
		} else if (slice_eq_lit_ci(name, "expires")) {
			if (parse_u32(value, UINT32_MAX, &na.expires) < 0)
				return -SBC_EPARSE;
			na.has_expires = 1;
		} else if (slice_eq_lit_ci(name, "q")) {
			if (!qvalue_ok(value))
				return -SBC_EPARSE;
			na.q = value;
		}
	}
	if (r < 0)
		return r;
	na.params.len = (size_t)(s.p - na.params.p);
	na.raw = slice_make(start, (size_t)(s.p - start));
	if (list_sep(&s) < 0)
		return -SBC_EPARSE;
	*ret = na;
	*cur = s;
	return 1;
}

int
sip_nameaddr_parse(struct slice s, const struct sip_limits *lim,
    struct sip_nameaddr *ret)
{
	struct sip_nameaddr na;
	int r;

	if ((r = sip_nameaddr_next(&s, lim, 0, &na)) < 0)
		return r;
	if (r == 0 || s.len != 0)	/* empty, or a second element */
		return -SBC_EPARSE;
	*ret = na;
	return 0;
}

int
sip_cseq_parse(struct slice s, uint32_t *ret_num, struct slice *ret_method)
{
	struct slice digits, method;
	uint32_t n;

	slice_skip_lws(&s);
	digits = slice_span(&s, CT_DIGIT);
	if (digits.len == 0 || digits.len > 10 ||
	    parse_u32(digits, SIP_MAX_CSEQ, &n) < 0)
		return -SBC_EPARSE;
	if (slice_skip_lws(&s) == 0)
		return -SBC_EPARSE;
	method = slice_span(&s, CT_TOKEN);
	if (method.len == 0 || method.len > SIP_MAX_METHOD)
		return -SBC_EPARSE;
	slice_skip_lws(&s);
	if (s.len != 0)
		return -SBC_EPARSE;
	*ret_num = n;
	*ret_method = method;
	return 0;
}

int
sip_token_next(struct slice *cur, struct slice *ret_token)
{
	struct slice s = *cur, tok;

	slice_skip_lws(&s);
	if (s.len == 0)
		return 0;
	tok = slice_span(&s, CT_TOKEN);
	if (tok.len == 0 || list_sep(&s) < 0)
		return -SBC_EPARSE;
	*ret_token = tok;
	*cur = s;
	return 1;
}

int
sip_callid_check(struct slice s)
{
	size_t at = 0;

	if (s.len == 0 || s.len > SIP_MAX_CALLID)
		return -SBC_EPARSE;
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] == '@') {
			/* word "@" word: exactly one '@', not at either end */
			if (at != 0 || i == 0 || i + 1 == s.len)
				return -SBC_EPARSE;
			at = i;
			continue;
		}
		if (!ctype_is(s.p[i], CT_WORD))
			return -SBC_EPARSE;
	}
	return 0;
}

int
sip_ctype_parse(struct slice s, struct slice *ret_type,
    struct slice *ret_params)
{
	struct slice type, sub, name, value;
	const uint8_t *start;
	unsigned nparams = 0;
	int r;

	slice_skip_lws(&s);
	start = s.p;
	type = slice_span(&s, CT_TOKEN);
	if (type.len == 0 || sep_take(&s, '/') < 0)
		return -SBC_EPARSE;
	sub = slice_span(&s, CT_TOKEN);
	if (sub.len == 0)
		return -SBC_EPARSE;
	*ret_type = slice_make(start, (size_t)(sub.p + sub.len - start));
	*ret_params = s;
	while ((r = sip_param_next(&s, &name, &value)) > 0) {
		if (++nparams > SIP_MAX_PARAMS)
			return -SBC_ELIMIT;
		if (!slice_set(value))	/* m-parameter needs a value */
			return -SBC_EPARSE;
	}
	if (r < 0)
		return r;
	slice_skip_lws(&s);
	return s.len == 0 ? 0 : -SBC_EPARSE;
}

/* auth-param *(COMMA auth-param), auth-param = name EQUAL (token / quoted) */
static int
auth_params_take(struct slice s, struct sip_auth *a)
{
	while (s.len > 0) {
		struct slice name, value;
		uint8_t quoted = 0;

		name = slice_span(&s, CT_TOKEN);
		if (name.len == 0 || sep_take(&s, '=') < 0)
			return -SBC_EPARSE;
		if (slice_peek(s) == '"') {
			if (sip_quoted_take(&s, &value) < 0)
				return -SBC_EPARSE;
			quoted = 1;
		} else {
			value = slice_span(&s, CT_TOKEN);
			if (value.len == 0)
				return -SBC_EPARSE;
		}
		if (a->nparams >= SIP_AUTH_MAX_PARAMS)
			return -SBC_ELIMIT;
		/* A repeated parameter makes the credentials ambiguous. */
		for (size_t i = 0; i < a->nparams; i++)
			if (slice_eq_ci(a->name[i], name))
				return -SBC_EPARSE;
		a->name[a->nparams] = name;
		a->value[a->nparams] = value;
		a->quoted[a->nparams] = quoted;
		a->nparams++;
		if (list_sep(&s) < 0)
			return -SBC_EPARSE;
	}
	return 0;
}

int
sip_auth_parse(struct slice s, struct sip_auth *ret)
{
	struct sip_auth a = { 0 };
	int r;

	slice_skip_lws(&s);
	a.scheme = slice_span(&s, CT_TOKEN);
	if (a.scheme.len == 0)
		return -SBC_EPARSE;
	if (slice_skip_lws(&s) == 0 && s.len != 0)
		return -SBC_EPARSE;
	if ((r = auth_params_take(s, &a)) < 0)
		return r;
	if (a.nparams == 0)	/* RFC 3261 25.1: at least one auth-param */
		return -SBC_EPARSE;
	*ret = a;
	return 0;
}

int
sip_auth_params_parse(struct slice s, struct sip_auth *ret)
{
	struct sip_auth a = { 0 };
	int r;

	slice_skip_lws(&s);
	if ((r = auth_params_take(s, &a)) < 0)
		return r;
	*ret = a;
	return 0;
}

struct slice
sip_auth_param(const struct sip_auth *a, const char *name)
{
	for (size_t i = 0; i < a->nparams; i++)
		if (slice_eq_cstr_ci(a->name[i], name))
			return a->value[i];
	return SLICE_NULL;
}
