/*
 * The SIP message parser: start line, header framing (with folding),
 * decoding and validation of every header we interpret, body framing.
 * This is the security boundary, so it is strict: a message that is
 * not exactly well-formed in the parts we act on is refused with a
 * reason that names the defect, and nothing here ever forwards.
 * Header values we do not interpret are carried as opaque slices but
 * must still be free of control characters.
 */
#include <stdio.h>

#include "core/num.h"
#include "sip/hdr.h"
#include "sip/parse.h"

/* "Bad X", "Missing X", "Duplicate X" for every known header, built
 * once so each refusal can name its header with a static string. */
#define REASON_MAX	48
static char reason_bad[SIP_H__MAX][REASON_MAX];
static char reason_missing[SIP_H__MAX][REASON_MAX];
static char reason_dup[SIP_H__MAX][REASON_MAX];

__attribute__((constructor)) static void
reasons_build(void)
{
	for (int id = 1; id < SIP_H__MAX; id++) {
		const char *n = sip_hdr_name((enum sip_hdr_id)id);

		snprintf(reason_bad[id], REASON_MAX, "Bad %s", n);
		snprintf(reason_missing[id], REASON_MAX, "Missing %s", n);
		snprintf(reason_dup[id], REASON_MAX, "Duplicate %s", n);
	}
}

static ssize_t
fail(struct sip_perr *err, uint16_t status, const char *reason, size_t off,
    int code)
{
	if (err != NULL) {
		err->status = status;
		err->reason = reason;
		err->off = off;
		err->invalid = 0;
	}
	return -code;
}

/* Well-formed, but a sanity check failed: 400, sip_perr.invalid. */
static ssize_t
invalid(struct sip_perr *err, const char *reason, size_t off)
{
	ssize_t r = fail(err, 400, reason, off, SBC_EPARSE);

	if (err != NULL)
		err->invalid = 1;
	return r;
}

#define FAIL(st, why, off)	fail(reterr, (st), (why), (off), SBC_EPARSE)
#define FAIL_INVALID(why, off)	invalid(reterr, (why), (off))
#define FAIL_LIMIT(st, why, off) fail(reterr, (st), (why), (off), SBC_ELIMIT)

size_t
sip_skip_crlf(const uint8_t *buf, size_t len)
{
	size_t n = 0;

	while (n < len && (buf[n] == '\r' || buf[n] == '\n'))
		n++;
	return n;
}

/* Headers whose decoders understand quoted strings; only there may a
 * control character appear, and only as a quoted-pair. */
static int
hdr_has_quoted(enum sip_hdr_id id)
{
	switch (id) {
	case SIP_H_FROM: case SIP_H_TO: case SIP_H_CONTACT: case SIP_H_ROUTE:
	case SIP_H_RECORD_ROUTE: case SIP_H_REPLY_TO: case SIP_H_REFER_TO:
	case SIP_H_REFERRED_BY: case SIP_H_P_ASSERTED_IDENTITY:
	case SIP_H_P_PREFERRED_IDENTITY: case SIP_H_DIVERSION:
	case SIP_H_HISTORY_INFO: case SIP_H_PATH: case SIP_H_AUTHORIZATION:
	case SIP_H_PROXY_AUTHORIZATION: case SIP_H_WWW_AUTHENTICATE:
	case SIP_H_PROXY_AUTHENTICATE: case SIP_H_VIA:
		return 1;
	default:
		return 0;
	}
}

/* Name-addr lists where every element must use angle brackets. */
static int
hdr_needs_brackets(enum sip_hdr_id id)
{
	return id == SIP_H_ROUTE || id == SIP_H_RECORD_ROUTE ||
	    id == SIP_H_PATH;
}

/* delta-seconds [ comment ] *( SEMI param ); the comment only where
 * the grammar has one (Retry-After). */
static int
delta_params_ok(struct slice v, int comment)
{
	struct slice digits, n, pv;
	uint32_t x;
	int r;

	slice_skip_lws(&v);
	digits = slice_span(&v, CT_DIGIT);
	if (digits.len == 0 || digits.len > 10 ||
	    parse_u32(digits, UINT32_MAX, &x) < 0)
		return 0;
	if (comment) {
		struct slice t = v;

		slice_skip_lws(&t);
		if (slice_peek(t) == '(') {
			if (sip_comment_take(&t, 0) < 0)
				return 0;
			v = t;
		}
	}
	while ((r = sip_param_next(&v, &n, &pv)) > 0)
		;
	slice_skip_lws(&v);
	return r == 0 && v.len == 0;
}

static int
token_params_ok(struct slice v)
{
	struct slice n, pv;
	int r;

	slice_skip_lws(&v);
	if (slice_span(&v, CT_TOKEN).len == 0)
		return 0;
	while ((r = sip_param_next(&v, &n, &pv)) > 0)
		;
	slice_skip_lws(&v);
	return r == 0 && v.len == 0;
}

static int
number_ok(struct slice v, uint32_t max, uint32_t *ret)
{
	uint32_t x;

	if (v.len == 0 || v.len > 10 || parse_u32(v, max, &x) < 0)
		return 0;
	if (ret != NULL)
		*ret = x;
	return 1;
}

/* RAck = response-num LWS CSeq-num LWS Method */
static int
rack_ok(struct slice v)
{
	struct slice d = slice_span(&v, CT_DIGIT);
	uint32_t x;
	struct slice method;

	if (!number_ok(d, UINT32_MAX, &x) || slice_skip_lws(&v) == 0)
		return 0;
	return sip_cseq_parse(v, &x, &method) == 0;
}

/*
 * RFC 3261 25.1 / RFC 7616: in Digest credentials and challenges these
 * values are quoted-strings; a bare token is a different (and to some
 * peers ambiguous) message, so it is refused.
 */
static int
digest_quoting_ok(const struct sip_auth *a, unsigned id)
{
	static const char *const cred[] = { "username", "realm", "nonce",
	    "uri", "response", "cnonce", "opaque", NULL };
	static const char *const chal[] = { "realm", "nonce", "opaque",
	    "domain", "qop", NULL };
	const char *const *must;

	if (id == SIP_H_AUTHENTICATION_INFO ||
	    !slice_eq_lit_ci(a->scheme, "Digest"))
		return 1;
	must = (id == SIP_H_AUTHORIZATION || id == SIP_H_PROXY_AUTHORIZATION) ?
	    cred : chal;
	for (size_t i = 0; i < a->nparams; i++)
		for (const char *const *m = must; *m != NULL; m++)
			if (slice_eq_cstr_ci(a->name[i], *m) && !a->quoted[i])
				return 0;
	return 1;
}

/*
 * Decode and validate one header value; updates the message's
 * decoded fields.  Returns 0, or a reason (static) on failure with
 * *ret_status set.
 */
static const char *
hdr_decode(struct sip_msg *m, const struct sip_hdr *h,
    const struct sip_limits *lim, uint16_t *ret_status)
{
	struct slice cur = h->value, tmp;
	struct sip_nameaddr na;
	struct sip_via via;
	int r, n;

	*ret_status = 400;
	switch ((enum sip_hdr_id)h->id) {
	case SIP_H_VIA:
		n = 0;
		while ((r = sip_via_next(&cur, &via)) > 0) {
			if (++m->nvia > lim->max_via) {
				*ret_status = 513;
				return "Too Many Via Headers";
			}
			if (m->nvia == 1)
				m->via1 = via;
			n++;
		}
		if (r < 0 || n == 0)
			break;
		return NULL;
	case SIP_H_FROM:
		if (sip_nameaddr_parse(cur, lim, &m->from) < 0)
			break;
		return NULL;
	case SIP_H_TO:
		if (sip_nameaddr_parse(cur, lim, &m->to) < 0)
			break;
		return NULL;
	case SIP_H_CALL_ID:
		if (sip_callid_check(cur) < 0)
			break;
		m->call_id = cur;
		return NULL;
	case SIP_H_CSEQ:
		if (sip_cseq_parse(cur, &m->cseq, &m->cseq_method_s) < 0)
			break;
		m->cseq_method = (uint8_t)sip_method_lookup(m->cseq_method_s);
		return NULL;
	case SIP_H_MAX_FORWARDS:
		if (!number_ok(cur, SIP_MAX_FORWARDS, &m->max_forwards))
			break;
		m->flags |= SIP_MSG_HAS_MF;
		return NULL;
	case SIP_H_CONTENT_LENGTH: {
		uint32_t cl;

		if (!number_ok(cur, UINT32_MAX, &cl))
			break;
		m->content_length = cl;
		m->flags |= SIP_MSG_HAS_CL;
		return NULL;
	}
	case SIP_H_CONTENT_TYPE:
		if (sip_ctype_parse(cur, &m->content_type, &tmp) < 0)
			break;
		return NULL;
	case SIP_H_EXPIRES:
		if (!number_ok(cur, UINT32_MAX, &m->expires))
			break;
		m->flags |= SIP_MSG_HAS_EXPIRES;
		return NULL;
	case SIP_H_MIN_EXPIRES:
	case SIP_H_RSEQ:
		if (!number_ok(cur, UINT32_MAX, NULL))
			break;
		return NULL;
	case SIP_H_RACK:
		if (!rack_ok(cur))
			break;
		return NULL;
	case SIP_H_SESSION_EXPIRES:
	case SIP_H_MIN_SE:
	case SIP_H_RETRY_AFTER:
		if (!delta_params_ok(cur, h->id == SIP_H_RETRY_AFTER))
			break;
		return NULL;
	case SIP_H_EVENT:
	case SIP_H_SUBSCRIPTION_STATE:
	case SIP_H_CONTENT_DISPOSITION:
		if (!token_params_ok(cur))
			break;
		return NULL;
	case SIP_H_CONTACT: {
		unsigned count = 0, star = 0;

		while ((r = sip_nameaddr_next(&cur, lim, 1, &na)) > 0) {
			if (++count > SIP_MAX_LIST) {
				*ret_status = 513;
				return "Too Many Contacts";
			}
			star |= na.star;
		}
		if (r < 0 || count == 0)
			break;
		/* "*" stands alone: one element in one Contact field */
		if (star && (count > 1 || m->count[SIP_H_CONTACT] > 1))
			break;
		return NULL;
	}
	case SIP_H_ROUTE:
	case SIP_H_RECORD_ROUTE:
	case SIP_H_PATH:
	case SIP_H_REPLY_TO:
	case SIP_H_REFER_TO:
	case SIP_H_REFERRED_BY:
	case SIP_H_P_ASSERTED_IDENTITY:
	case SIP_H_P_PREFERRED_IDENTITY:
	case SIP_H_DIVERSION:
	case SIP_H_HISTORY_INFO: {
		unsigned count = 0;

		while ((r = sip_nameaddr_next(&cur, lim, 0, &na)) > 0) {
			if (++count > SIP_MAX_LIST) {
				*ret_status = 513;
				return "Too Many Values";
			}
			if (hdr_needs_brackets((enum sip_hdr_id)h->id) &&
			    !na.bracketed)
				break;
			if (sip_hdr_is_singleton((enum sip_hdr_id)h->id) &&
			    count > 1)
				break;
		}
		if (r != 0 || count == 0)
			break;
		return NULL;
	}
	case SIP_H_AUTHORIZATION:
	case SIP_H_PROXY_AUTHORIZATION:
	case SIP_H_WWW_AUTHENTICATE:
	case SIP_H_PROXY_AUTHENTICATE:
	case SIP_H_AUTHENTICATION_INFO: {
		struct sip_auth a;

		r = h->id == SIP_H_AUTHENTICATION_INFO ?
		    sip_auth_params_parse(cur, &a) : sip_auth_parse(cur, &a);
		if (r < 0 || !digest_quoting_ok(&a, h->id))
			break;
		return NULL;
	}
	case SIP_H_ALLOW:
	case SIP_H_SUPPORTED:
	case SIP_H_UNSUPPORTED:
	case SIP_H_REQUIRE:
	case SIP_H_PROXY_REQUIRE:
	case SIP_H_ALLOW_EVENTS:
	case SIP_H_CONTENT_ENCODING:
	case SIP_H_CONTENT_LANGUAGE: {
		unsigned count = 0;

		while ((r = sip_token_next(&cur, &tmp)) > 0)
			if (++count > SIP_MAX_LIST) {
				*ret_status = 513;
				return "Too Many Values";
			}
		if (r < 0)
			break;
		/* Require and Proxy-Require need at least one option-tag */
		if (count == 0 && (h->id == SIP_H_REQUIRE ||
		    h->id == SIP_H_PROXY_REQUIRE ||
		    h->id == SIP_H_CONTENT_ENCODING))
			break;
		return NULL;
	}
	default:
		return NULL;
	}
	return reason_bad[h->id];
}

/* SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT; 0 ok, 505 other version,
 * -1 not a version at all. */
static int
version_check(struct slice v)
{
	struct slice d;

	if (v.len < 4 || !slice_eq_ci(slice_sub(v, 0, 4), SLICE_LIT("SIP/")))
		return -1;
	slice_skip(&v, 4);
	d = slice_span(&v, CT_DIGIT);
	if (d.len == 0 || !slice_eat(&v, '.'))
		return -1;
	{
		struct slice minor = slice_span(&v, CT_DIGIT);

		if (minor.len == 0 || v.len != 0)
			return -1;
		if (!slice_eq(d, SLICE_LIT("2")) ||
		    !slice_eq(minor, SLICE_LIT("0")))
			return 505;
	}
	return 0;
}

static ssize_t
request_line(struct sip_msg *m, struct slice line, const struct sip_limits *lim,
    struct sip_perr *reterr)
{
	const uint8_t *base = m->buf;
	struct slice s = line, uri, ver;
	ssize_t sp;
	int r;

	m->is_request = 1;
	m->method_s = slice_span(&s, CT_TOKEN);
	if (m->method_s.len == 0 || !slice_eat(&s, ' '))
		return FAIL(400, "Bad Request Line", (size_t)(s.p - base));
	if (m->method_s.len > SIP_MAX_METHOD)
		return FAIL(400, "Bad Method", 0);
	m->method = (uint8_t)sip_method_lookup(m->method_s);
	sp = slice_find(s, ' ');
	if (sp <= 0)
		return FAIL(400, "Bad Request Line", (size_t)(s.p - base));
	slice_take(&s, (size_t)sp, &uri);
	slice_skip(&s, 1);
	ver = s;
	/* One SP between elements and none at the end (RFC 4475 lwsstart,
	 * trws): a second SP lands in the version or the URI. */
	if (slice_find(ver, ' ') >= 0 || slice_find(ver, '\t') >= 0)
		return FAIL(400, "Bad Request Line", (size_t)(ver.p - base));
	if ((r = version_check(ver)) != 0)
		return r == 505 ?
		    FAIL(505, "Version Not Supported", (size_t)(ver.p - base)) :
		    FAIL(400, "Bad SIP Version", (size_t)(ver.p - base));
	if (uri.len > lim->max_uri)
		return FAIL_LIMIT(414, "Request-URI Too Long",
		    (size_t)(uri.p - base));
	if (sip_uri_parse(uri, lim, &m->ruri) < 0)
		return FAIL(400, "Bad Request-URI", (size_t)(uri.p - base));
	if (m->ruri.scheme == SIP_URI_OTHER)
		return FAIL(416, "Unsupported URI Scheme",
		    (size_t)(uri.p - base));
	/* RFC 3261 19.1.1: no headers component in a Request-URI */
	if (slice_set(m->ruri.headers))
		return FAIL(400, "Bad Request-URI", (size_t)(uri.p - base));
	return 0;
}

static ssize_t
status_line(struct sip_msg *m, struct slice line, struct sip_perr *reterr)
{
	const uint8_t *base = m->buf;
	struct slice s = line, ver, code;
	ssize_t sp = slice_find(s, ' ');
	uint32_t st;
	int r;

	if (sp < 0)
		return FAIL(400, "Bad Status Line", 0);
	slice_take(&s, (size_t)sp, &ver);
	slice_skip(&s, 1);
	if ((r = version_check(ver)) != 0)
		return r == 505 ? FAIL(505, "Version Not Supported", 0) :
		    FAIL(400, "Bad SIP Version", 0);
	code = slice_span(&s, CT_DIGIT);
	if (code.len != 3 || parse_u32(code, 699, &st) < 0 || st < 100)
		return FAIL(400, "Bad Status Code", (size_t)(code.p - base));
	/* Reason-Phrase may be empty; the SP before it is tolerated missing */
	if (s.len > 0 && !slice_eat(&s, ' '))
		return FAIL(400, "Bad Status Line", (size_t)(s.p - base));
	for (size_t i = 0; i < s.len; i++)
		if (!ctype_is(s.p[i], CT_TEXT) && s.p[i] != '\t')
			return FAIL(400, "Bad Reason Phrase",
			    (size_t)(s.p + i - base));
	m->status = (uint16_t)st;
	m->reason = s;
	return 0;
}

/*
 * Find the end of one header field starting at buf[pos], folds
 * included: the CR of the first CRLF not followed by SP/HT.  Every CR
 * must be followed by LF; other bytes are judged by value_ok().
 * Returns the offset of that CR, -1 incomplete, or < -1 with *why set.
 */
static ssize_t
field_end(const uint8_t *buf, size_t len, size_t pos, size_t max,
    const char **why, size_t *ret_bad)
{
	size_t i = pos, end = len - pos > max + 2 ? pos + max + 2 : len;

	for (;;) {
		const uint8_t *cr = memchr(buf + i, '\r', end - i);
		size_t c;

		if (cr == NULL) {
			if (end < len) {
				*why = "Header Too Long";
				*ret_bad = pos;
				return -3;
			}
			return -1;
		}
		c = (size_t)(cr - buf);
		if (c + 1 >= len)
			return -1;
		if (buf[c + 1] != '\n') {
			*why = "Bad Line Ending";
			*ret_bad = c;
			return -2;
		}
		if (c + 2 >= len)
			return -1;
		if (buf[c + 2] != ' ' && buf[c + 2] != '\t') {
			if (c - pos > max) {
				*why = "Header Too Long";
				*ret_bad = pos;
				return -3;
			}
			return (ssize_t)c;
		}
		i = c + 3;		/* a fold: the field goes on */
		if (i >= end)
			return end < len ? (*why = "Header Too Long",
			    *ret_bad = pos, -3) : -1;
	}
}

#define ONES	0x0101010101010101ULL
#define HIGHS	0x8080808080808080ULL

/* Any byte < 0x20 or == 0x7f in the word?  (bytes >= 0x80 never hit) */
static inline int
word_has_ctl(uint64_t x)
{
	uint64_t lt = (x - ONES * 0x20) & ~x & HIGHS;
	uint64_t del = x ^ (ONES * 0x7f);

	return (lt | ((del - ONES) & ~del & HIGHS)) != 0;
}

/*
 * A header value holds no control characters but HT and the CR LF of a
 * fold (field_end checked those CRs); where quoted strings are allowed,
 * a control may also follow a backslash (quoted-pair).
 * Returns NULL, or the reason the value is refused.
 */
static const char *
value_ok(struct slice v, int quoted)
{
	size_t i = 0;

	while (i < v.len) {
		uint8_t c;

		if (i + 8 <= v.len) {
			uint64_t x;

			memcpy(&x, v.p + i, 8);
			if (!word_has_ctl(x)) {
				i += 8;
				continue;
			}
		}
		c = v.p[i];
		if ((c >= 0x20 && c != 0x7f) || c == '\t' || c == '\r' ||
		    (c == '\n' && i > 0 && v.p[i - 1] == '\r')) {
			i++;
			continue;
		}
		if (c == '\n')
			return "Bad Line Ending";
		if (!quoted || i == 0 || v.p[i - 1] != '\\')
			return "Control Character In Header";
		i++;
	}
	return NULL;
}

ssize_t
sip_msg_parse(const uint8_t *buf, size_t len, const struct sip_limits *lim,
    unsigned flags, struct sip_msg *m, struct sip_hdr *hdrs, size_t hdrs_cap,
    struct sip_perr *reterr)
{
	int stream = (flags & SIP_PARSE_STREAM) != 0;
	size_t max = stream ? lim->max_msg_stream : lim->max_msg;
	size_t pos, eol, avail, cap = hdrs_cap;
	struct slice line;
	const char *why;
	ssize_t r;

	memset(m, 0, sizeof(*m));
	m->buf = buf;
	m->hdrs = hdrs;
	m->max_forwards = 70;
	if (cap > lim->max_hdrs)
		cap = lim->max_hdrs;
	if (!stream && len > max)
		return FAIL_LIMIT(513, "Message Too Large", max);

	/* Start line: no folding, bounded by the URI limit. */
	for (eol = 0; eol < len && buf[eol] != '\n'; eol++)
		if (eol > lim->max_uri + 64)
			return buf[0] == 'S' ?
			    FAIL_LIMIT(513, "Status Line Too Long", 0) :
			    FAIL_LIMIT(414, "Request-URI Too Long", 0);
	if (eol >= len)
		return stream ? 0 : FAIL(400, "Incomplete Message", len);
	if (eol == 0 || buf[eol - 1] != '\r')
		return FAIL(400, "Bad Line Ending", eol);
	line = slice_make(buf, eol - 1);
	for (size_t i = 0; i < line.len; i++)
		if (line.p[i] < 0x20 && line.p[i] != '\t')
			return FAIL(400, "Bad Start Line", i);
	if (line.len >= 4 && slice_eq_ci(slice_sub(line, 0, 4),
	    SLICE_LIT("SIP/")))
		r = status_line(m, line, reterr);
	else
		r = request_line(m, line, lim, reterr);
	if (r < 0)
		return r;

	/* Header fields. */
	pos = eol + 1;
	for (;;) {
		struct sip_hdr *h;
		struct slice f, name, value;
		ssize_t end;
		size_t bad = 0;

		if (pos >= len || (buf[pos] == '\r' && pos + 1 >= len))
			return stream && len < max ? 0 :
			    FAIL(400, "Incomplete Message", len);
		if (buf[pos] == '\r') {
			if (buf[pos + 1] != '\n')
				return FAIL(400, "Bad Line Ending", pos);
			pos += 2;
			break;
		}
		if (buf[pos] == ' ' || buf[pos] == '\t')
			return FAIL(400, "Bad Header Folding", pos);
		end = field_end(buf, len, pos, lim->max_line, &why, &bad);
		if (end == -1)
			return stream && len < max ? 0 :
			    (len >= max ? FAIL_LIMIT(513, "Message Too Large",
			    max) : FAIL(400, "Incomplete Message", len));
		if (end < -1)
			return end == -3 ? FAIL_LIMIT(513, why, bad) :
			    FAIL(400, why, bad);
		f = slice_make(buf + pos, (size_t)end - pos);
		name = slice_span(&f, CT_TOKEN);
		if (name.len == 0)
			return FAIL(400, "Bad Header Name", pos);
		while (f.len > 0 && (f.p[0] == ' ' || f.p[0] == '\t'))
			slice_skip(&f, 1);
		if (!slice_eat(&f, ':'))
			return FAIL(400, "Bad Header Name", pos);
		value = slice_trim_lws(f);
		if (m->nhdrs >= cap)
			return FAIL_LIMIT(513, "Too Many Headers", pos);
		h = &hdrs[m->nhdrs];
		h->name = name;
		h->value = value;
		h->id = (uint16_t)sip_hdr_lookup(name);
		if (name.len == 1)
			m->flags |= SIP_MSG_COMPACT_SEEN;
		if ((why = value_ok(value,
		    hdr_has_quoted((enum sip_hdr_id)h->id))) != NULL)
			return FAIL(400, why, pos);
		if (h->id != SIP_H_OTHER) {
			uint16_t st;

			if (m->count[h->id]++ == 0)
				m->first[h->id] = (uint16_t)(m->nhdrs + 1);
			else if (sip_hdr_is_singleton((enum sip_hdr_id)h->id))
				return FAIL_INVALID(reason_dup[h->id], pos);
			if ((why = hdr_decode(m, h, lim, &st)) != NULL)
				return fail(reterr, st, why,
				    (size_t)(value.p - buf),
				    st == 513 ? SBC_ELIMIT : SBC_EPARSE);
		}
		m->nhdrs++;
		pos = (size_t)end + 2;
		if (pos > max)
			return FAIL_LIMIT(513, "Message Too Large", max);
	}
	m->head_len = pos;

	/* Mandatory headers (RFC 3261 8.1.1); Max-Forwards may be absent,
	 * old UAs omit it and we add it when we forward. */
	{
		static const enum sip_hdr_id must[] = { SIP_H_VIA, SIP_H_FROM,
		    SIP_H_TO, SIP_H_CALL_ID, SIP_H_CSEQ };

		for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++)
			if (m->first[must[i]] == 0)
				return FAIL_INVALID(reason_missing[must[i]],
				    m->head_len);
	}
	if (m->is_request && !slice_eq(m->cseq_method_s, m->method_s))
		return FAIL_INVALID("CSeq Method Mismatch",
		    (size_t)(m->cseq_method_s.p - buf));
	if (!slice_eq_ci(m->via1.proto, SLICE_LIT("SIP")) ||
	    !slice_eq(m->via1.version, SLICE_LIT("2.0")))
		return FAIL(400, reason_bad[SIP_H_VIA],
		    (size_t)(m->via1.raw.p - buf));
	/* A branch that is only the cookie (RFC 4475 badbranch) identifies
	 * nothing: match such requests the RFC 2543 way. */
	if (!slice_starts_ci(m->via1.branch, SLICE_LIT("z9hG4bK")) ||
	    m->via1.branch.len == 7)
		m->flags |= SIP_MSG_NO_COOKIE;

	/* Body framing (RFC 3261 18.3). */
	avail = len - m->head_len;
	if (stream) {
		if (!(m->flags & SIP_MSG_HAS_CL))
			return FAIL_INVALID("Missing Content-Length",
			    m->head_len);
		if (m->content_length > lim->max_body ||
		    m->content_length > max - m->head_len)
			return FAIL_LIMIT(513, "Body Too Large", m->head_len);
		if (avail < m->content_length) {
			m->len = m->head_len + m->content_length;
			return 0;
		}
	} else if (m->flags & SIP_MSG_HAS_CL) {
		if (m->content_length > avail)
			return FAIL_INVALID("Body Shorter Than Content-Length",
			    len);
		if (m->content_length < avail)
			m->flags |= SIP_MSG_TRUNCATED;
	} else
		m->content_length = avail;
	if (m->content_length > lim->max_body)
		return FAIL_LIMIT(513, "Body Too Large", m->head_len);
	m->body = slice_make(buf + m->head_len, m->content_length);
	m->len = m->head_len + m->content_length;
	if (m->body.len > 0 && m->first[SIP_H_CONTENT_TYPE] == 0)
		return FAIL_INVALID("Missing Content-Type", m->head_len);
	return (ssize_t)m->len;
}

/*
 * Framing for stream transports without a full parse: find the end of
 * the head, then the Content-Length field(s), walking header fields
 * (folds included) exactly as sip_msg_parse does, so both agree on
 * where a message ends.  Two Content-Length fields are refused here:
 * disagreeing framers are how request smuggling starts.
 */
ssize_t
sip_stream_frame(const uint8_t *buf, size_t len, const struct sip_limits *lim,
    size_t *scan_from, struct sip_perr *reterr)
{
	size_t max = lim->max_msg_stream, head_len = 0, i, cl_count = 0;
	uint64_t cl = 0;
	size_t from = *scan_from > 3 ? *scan_from - 3 : 0;

	for (i = from; i + 3 < len; i++)
		if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' &&
		    buf[i + 3] == '\n') {
			head_len = i + 4;
			break;
		}
	if (head_len == 0) {
		*scan_from = len;
		if (len >= max)
			return FAIL_LIMIT(513, "Message Too Large", max);
		return 0;
	}
	if (head_len > max)
		return FAIL_LIMIT(513, "Message Too Large", max);
	/* walk fields: start after the first line */
	for (i = 0; i < head_len && buf[i] != '\n'; i++)
		;
	i++;
	while (i + 2 <= head_len - 2) {
		size_t start = i, end;
		struct slice name, value;

		/* field end: CRLF not followed by SP/HT */
		for (end = i; end + 2 < head_len; end++)
			if (buf[end] == '\r' && buf[end + 1] == '\n' &&
			    buf[end + 2] != ' ' && buf[end + 2] != '\t')
				break;
		i = end + 2;
		name = slice_make(buf + start, end - start);
		value = name;
		name = slice_span(&value, CT_TOKEN);
		while (value.len > 0 && (value.p[0] == ' ' ||
		    value.p[0] == '\t'))
			slice_skip(&value, 1);
		if (!slice_eat(&value, ':'))
			continue;	/* the parser will name this defect */
		if (sip_hdr_lookup(name) != SIP_H_CONTENT_LENGTH)
			continue;
		value = slice_trim_lws(value);
		if (++cl_count > 1)
			return FAIL_INVALID("Duplicate Content-Length", start);
		if (value.len == 0 || value.len > 10 ||
		    parse_u64(value, UINT32_MAX, &cl) < 0)
			return FAIL(400, "Bad Content-Length", start);
	}
	if (cl_count == 0)
		return FAIL_INVALID("Missing Content-Length", head_len);
	if (cl > lim->max_body || cl > max - head_len)
		return FAIL_LIMIT(513, "Body Too Large", head_len);
	return (ssize_t)(head_len + cl);
}
