/*
 * SDP parser (RFC 8866) for the SBC: one pass over the lines of a body,
 * each line split into fields with slices, every number through
 * parse_u32/parse_u64 and every count against struct sdp_limits.
 *
 * Owns: line framing (CRLF or LF), the session/media structure, and the
 * grammar of the fields and attributes listed in sdp.h.  Attribute
 * names are matched ASCII case-insensitively so that no case variant
 * of a=crypto or a=rtcp slips past validation to an endpoint that
 * would honour it.  Ambiguous repeats that would make us and the
 * endpoint disagree (two directions, two rtpmaps for one payload
 * type, two c= in one section, reused crypto tags or mids) are refused.
 *
 * Deliberately not here: r=/z=/k= grammar (ignored), ICE candidate
 * grammar (media/), and any policy on what is acceptable media.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/num.h"
#include "sip/sdp.h"

const struct sdp_limits sdp_limits_default = {
	.max_body	= 32768,
	.max_lines	= 1024,
	.max_line	= 2048,
	.max_media	= SDP_MAX_MEDIA,
	.max_attrs	= SDP_MAX_ATTRS,
	.max_fmts	= SDP_MAX_FMTS,
	.max_crypto	= SDP_MAX_CRYPTO,
	.max_bw		= SDP_MAX_BW,
};

#define SDP_IP6_MAXLEN	45	/* INET6_ADDRSTRLEN - 1 */

struct sdp_ctx {
	const uint8_t		*buf;
	size_t			 len;
	struct sdp_limits	 lim;
	struct sdp		*sdp;
	struct sdp_media	*m;		/* current media section or NULL */
	struct sdp_err		*err;
	uint8_t			 seen_v;
	uint8_t			 seen_o;
	uint8_t			 seen_s;
};

enum sdp_attr_id {
	SDP_A_OTHER = 0,
	SDP_A_SENDRECV,
	SDP_A_SENDONLY,
	SDP_A_RECVONLY,
	SDP_A_INACTIVE,
	SDP_A_RTPMAP,
	SDP_A_FMTP,
	SDP_A_CRYPTO,
	SDP_A_RTCP,
	SDP_A_RTCP_MUX,
	SDP_A_PTIME,
	SDP_A_MAXPTIME,
	SDP_A_MID,
	SDP_A_ICE_UFRAG,
	SDP_A_ICE_PWD,
	SDP_A_ICE_LITE,
	SDP_A_CANDIDATE,
	SDP_A_FINGERPRINT,
	SDP_A_SETUP,
	SDP_A__MAX
};

static const char *const sdp_attr_names[SDP_A__MAX] = {
	[SDP_A_SENDRECV]	= "sendrecv",
	[SDP_A_SENDONLY]	= "sendonly",
	[SDP_A_RECVONLY]	= "recvonly",
	[SDP_A_INACTIVE]	= "inactive",
	[SDP_A_RTPMAP]		= "rtpmap",
	[SDP_A_FMTP]		= "fmtp",
	[SDP_A_CRYPTO]		= "crypto",
	[SDP_A_RTCP]		= "rtcp",
	[SDP_A_RTCP_MUX]	= "rtcp-mux",
	[SDP_A_PTIME]		= "ptime",
	[SDP_A_MAXPTIME]	= "maxptime",
	[SDP_A_MID]		= "mid",
	[SDP_A_ICE_UFRAG]	= "ice-ufrag",
	[SDP_A_ICE_PWD]		= "ice-pwd",
	[SDP_A_ICE_LITE]	= "ice-lite",
	[SDP_A_CANDIDATE]	= "candidate",
	[SDP_A_FINGERPRINT]	= "fingerprint",
	[SDP_A_SETUP]		= "setup",
};

static const char *const sdp_dir_names[SDP_DIR__MAX] = {
	[SDP_DIR_UNSET]		= "unset",
	[SDP_DIR_SENDRECV]	= "sendrecv",
	[SDP_DIR_SENDONLY]	= "sendonly",
	[SDP_DIR_RECVONLY]	= "recvonly",
	[SDP_DIR_INACTIVE]	= "inactive",
};

static const char *const sdp_media_names[SDP_MEDIA__MAX] = {
	[SDP_MEDIA_AUDIO]	= "audio",
	[SDP_MEDIA_VIDEO]	= "video",
	[SDP_MEDIA_TEXT]	= "text",
	[SDP_MEDIA_APPLICATION]	= "application",
	[SDP_MEDIA_MESSAGE]	= "message",
	[SDP_MEDIA_IMAGE]	= "image",
};

static const char *const sdp_proto_names[SDP_PROTO__MAX] = {
	[SDP_PROTO_RTP_AVP]		= "RTP/AVP",
	[SDP_PROTO_RTP_AVPF]		= "RTP/AVPF",
	[SDP_PROTO_RTP_SAVP]		= "RTP/SAVP",
	[SDP_PROTO_RTP_SAVPF]		= "RTP/SAVPF",
	[SDP_PROTO_UDP_TLS_RTP_SAVP]	= "UDP/TLS/RTP/SAVP",
	[SDP_PROTO_UDP_TLS_RTP_SAVPF]	= "UDP/TLS/RTP/SAVPF",
	[SDP_PROTO_UDPTL]		= "udptl",
	[SDP_PROTO_UDP_DTLS_SCTP]	= "UDP/DTLS/SCTP",
};

static const struct {
	const char	*name;
	size_t		 key_len;	/* master key + master salt, bytes */
} sdp_suites[SDP_SUITE__MAX] = {
	[SDP_SUITE_UNKNOWN]			= { "unknown", 0 },
	[SDP_SUITE_AES_CM_128_HMAC_SHA1_80]	= { "AES_CM_128_HMAC_SHA1_80", 30 },
	[SDP_SUITE_AES_CM_128_HMAC_SHA1_32]	= { "AES_CM_128_HMAC_SHA1_32", 30 },
	[SDP_SUITE_F8_128_HMAC_SHA1_80]		= { "F8_128_HMAC_SHA1_80", 30 },
	[SDP_SUITE_AES_192_CM_HMAC_SHA1_80]	= { "AES_192_CM_HMAC_SHA1_80", 38 },
	[SDP_SUITE_AES_192_CM_HMAC_SHA1_32]	= { "AES_192_CM_HMAC_SHA1_32", 38 },
	[SDP_SUITE_AES_256_CM_HMAC_SHA1_80]	= { "AES_256_CM_HMAC_SHA1_80", 46 },
	[SDP_SUITE_AES_256_CM_HMAC_SHA1_32]	= { "AES_256_CM_HMAC_SHA1_32", 46 },
	[SDP_SUITE_AEAD_AES_128_GCM]		= { "AEAD_AES_128_GCM", 28 },
	[SDP_SUITE_AEAD_AES_256_GCM]		= { "AEAD_AES_256_GCM", 44 },
	[SDP_SUITE_AEAD_AES_128_GCM_8]		= { "AEAD_AES_128_GCM_8", 28 },
	[SDP_SUITE_AEAD_AES_256_GCM_8]		= { "AEAD_AES_256_GCM_8", 44 },
};

/* Spellings in the wild of the RFC 6188 suites. */
static const struct {
	const char	*name;
	uint8_t		 suite;
} sdp_suite_aliases[] = {
	{ "AES_CM_192_HMAC_SHA1_80", SDP_SUITE_AES_192_CM_HMAC_SHA1_80 },
	{ "AES_CM_192_HMAC_SHA1_32", SDP_SUITE_AES_192_CM_HMAC_SHA1_32 },
	{ "AES_CM_256_HMAC_SHA1_80", SDP_SUITE_AES_256_CM_HMAC_SHA1_80 },
	{ "AES_CM_256_HMAC_SHA1_32", SDP_SUITE_AES_256_CM_HMAC_SHA1_32 },
};

/* RFC 3551 table 4 and 5: payload types with a static meaning. */
static const struct {
	uint8_t		 pt;
	const char	*enc;
	uint32_t	 clock;
	uint32_t	 channels;
} sdp_static_pts[] = {
	{ 0, "PCMU", 8000, 0 },		{ 3, "GSM", 8000, 0 },
	{ 4, "G723", 8000, 0 },		{ 5, "DVI4", 8000, 0 },
	{ 6, "DVI4", 16000, 0 },	{ 7, "LPC", 8000, 0 },
	{ 8, "PCMA", 8000, 0 },		{ 9, "G722", 8000, 0 },
	{ 10, "L16", 44100, 2 },	{ 11, "L16", 44100, 0 },
	{ 12, "QCELP", 8000, 0 },	{ 13, "CN", 8000, 0 },
	{ 14, "MPA", 90000, 0 },	{ 15, "G728", 8000, 0 },
	{ 16, "DVI4", 11025, 0 },	{ 17, "DVI4", 22050, 0 },
	{ 18, "G729", 8000, 0 },	{ 25, "CelB", 90000, 0 },
	{ 26, "JPEG", 90000, 0 },	{ 28, "nv", 90000, 0 },
	{ 31, "H261", 90000, 0 },	{ 32, "MPV", 90000, 0 },
	{ 33, "MP2T", 90000, 0 },	{ 34, "H263", 90000, 0 },
};

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * Record the first defect and return it negated.  at points into buf
 * (or is NULL for "the start"); the offset is clamped to len so that
 * callers can always index with it.
 */
static int
sdp_fail(struct sdp_ctx *c, int code, const char *reason, const uint8_t *at)
{
	size_t off = 0;

	if (at != NULL && c->buf != NULL && at >= c->buf)
		off = (size_t)(at - c->buf);
	if (off > c->len)
		off = c->len;
	if (c->err != NULL) {
		c->err->reason = reason;
		c->err->off = off;
	}
	return -code;
}

#define FAIL(c, reason, at)	sdp_fail((c), SBC_EPARSE, (reason), (at))
#define FAIL_LIMIT(c, reason, at) sdp_fail((c), SBC_ELIMIT, (reason), (at))

/* token-char of RFC 8866 section 9; wider than the SIP token. */
static int
sdp_tokch(uint8_t ch)
{
	return ch == 0x21 || (ch >= 0x23 && ch <= 0x27) ||
	    ch == 0x2a || ch == 0x2b || ch == 0x2d || ch == 0x2e ||
	    (ch >= 0x30 && ch <= 0x39) || (ch >= 0x41 && ch <= 0x5a) ||
	    (ch >= 0x5e && ch <= 0x7e);
}

static int
sdp_is_token(struct slice s)
{
	if (s.len == 0)
		return 0;
	for (size_t i = 0; i < s.len; i++)
		if (!sdp_tokch(s.p[i]))
			return 0;
	return 1;
}

/* Non-empty and every byte in cls. */
static int
all_cls(struct slice s, unsigned cls)
{
	if (s.len == 0)
		return 0;
	for (size_t i = 0; i < s.len; i++)
		if (!ctype_is(s.p[i], cls))
			return 0;
	return 1;
}

static void
ws_skip(struct slice *s)
{
	while (s->len > 0 && ctype_is(s->p[0], CT_WS)) {
		s->p++;
		s->len--;
	}
}

static void
ws_rtrim(struct slice *s)
{
	while (s->len > 0 && ctype_is(s->p[s->len - 1], CT_WS))
		s->len--;
}

/*
 * Next SP/HT-separated field of *cur.  RFC 8866 separates fields by one
 * SP; stacks that double it or pad the end are common enough that a
 * run of white space is accepted instead.  Returns 1 with a non-empty
 * *ret, 0 when nothing is left.
 */
static int
field_next(struct slice *cur, struct slice *ret)
{
	size_t n = 0;

	ws_skip(cur);
	if (cur->len == 0)
		return 0;
	while (n < cur->len && !ctype_is(cur->p[n], CT_WS))
		n++;
	(void)slice_take(cur, n, ret);
	return 1;
}

static int
fields_done(struct slice cur)
{
	ws_skip(&cur);
	return cur.len == 0;
}

/*
 * Split *s at the first ch: *ret_head gets what precedes it, *s what
 * follows.  Without ch, *ret_head is all of *s and *s becomes empty.
 * Returns 1 when ch was found.
 */
static int
split_at(struct slice *s, uint8_t ch, struct slice *ret_head)
{
	ssize_t i = slice_find(*s, ch);

	if (i < 0) {
		*ret_head = *s;
		if (s->len > 0) {	/* never offset a NULL slice */
			s->p += s->len;
			s->len = 0;
		}
		return 0;
	}
	(void)slice_take(s, (size_t)i, ret_head);
	(void)slice_skip(s, 1);
	return 1;
}

/*
 * Dotted quad, exactly four decimal octets without leading zeros
 * (which some stacks read as octal).
 */
static int
ip4_parse(struct slice s, uint8_t ret_oct[4])
{
	for (int k = 0; k < 4; k++) {
		struct slice d;
		uint32_t v;

		if (k > 0 && !slice_eat(&s, '.'))
			return -SBC_EPARSE;
		d = slice_span(&s, CT_DIGIT);
		if (d.len == 0 || d.len > 3 || (d.len > 1 && d.p[0] == '0'))
			return -SBC_EPARSE;
		if (parse_u32(d, 255, &v) < 0)
			return -SBC_EPARSE;
		ret_oct[k] = (uint8_t)v;
	}
	return s.len == 0 ? 0 : -SBC_EPARSE;
}

/*
 * RFC 4291 2.2 text form: eight groups of 1-4 hex digits, at most one
 * "::", optionally ending in a dotted quad.  No zone index, no brackets.
 */
static int
ip6_parse(struct slice s, int *ret_mcast, int *ret_unspec)
{
	size_t i = 0, ngroups = 0;
	uint32_t first = 0;
	int dcolon = 0, nonzero = 0;

	if (s.len < 2 || s.len > SDP_IP6_MAXLEN)
		return -SBC_EPARSE;
	if (s.p[0] == ':') {
		if (s.p[1] != ':')
			return -SBC_EPARSE;
		dcolon = 1;
		i = 2;
	}
	while (i < s.len) {
		size_t start = i;
		uint32_t v = 0;

		while (i < s.len && i - start < 4 && ctype_is(s.p[i], CT_HEX))
			v = v * 16 + (uint32_t)ctype_hexval(s.p[i++]);
		if (i < s.len && s.p[i] == '.') {
			uint8_t oct[4];

			if (ngroups > 6 || ip4_parse(slice_make(s.p + start,
			    s.len - start), oct) < 0)
				return -SBC_EPARSE;
			nonzero |= (oct[0] | oct[1] | oct[2] | oct[3]) != 0;
			ngroups += 2;
			break;
		}
		if (i == start)
			return -SBC_EPARSE;
		if (start == 0)
			first = v;
		nonzero |= v != 0;
		if (++ngroups > 8)
			return -SBC_EPARSE;
		if (i == s.len)
			break;
		if (s.p[i++] != ':' || i == s.len)
			return -SBC_EPARSE;
		if (s.p[i] == ':') {
			if (dcolon)
				return -SBC_EPARSE;
			dcolon = 1;
			i++;
		}
	}
	if (dcolon ? ngroups > 7 : ngroups != 8)
		return -SBC_EPARSE;
	*ret_mcast = (first >> 8) == 0xff;
	*ret_unspec = !nonzero;
	return 0;
}

static int
addrtype_af(struct slice s)
{
	if (slice_eq_cstr_ci(s, "IP4"))
		return SDP_AF_IP4;
	if (slice_eq_cstr_ci(s, "IP6"))
		return SDP_AF_IP6;
	return SDP_AF_NONE;
}

/*
 * connection-address of the given family into *ret.  A "/ttl[/count]"
 * suffix is accepted only when allow_suffix and only for IPv4
 * multicast (RFC 8866 5.7); the IPv6 "/count" form is refused, as an
 * SBC relays to one address, never to a range of groups.
 */
static int
conn_addr_parse(int af, struct slice a, int allow_suffix,
    struct sdp_conn *ret)
{
	struct sdp_conn cn;
	struct slice host, ttl_s, count_s;
	int mcast = 0, unspec = 0, has_suffix, has_count;

	memset(&cn, 0, sizeof(cn));
	has_suffix = split_at(&a, '/', &host);
	if (af == SDP_AF_IP4) {
		uint8_t oct[4];

		if (ip4_parse(host, oct) < 0)
			return -SBC_EPARSE;
		mcast = oct[0] >= 224 && oct[0] <= 239;
		unspec = (oct[0] | oct[1] | oct[2] | oct[3]) == 0;
	} else if (af == SDP_AF_IP6) {
		if (ip6_parse(host, &mcast, &unspec) < 0)
			return -SBC_EPARSE;
	} else
		return -SBC_EPARSE;
	cn.count = 1;
	if (has_suffix) {
		if (!allow_suffix || af != SDP_AF_IP4 || !mcast)
			return -SBC_EPARSE;
		has_count = split_at(&a, '/', &ttl_s);
		if (parse_u32(ttl_s, 255, &cn.ttl) < 0)
			return -SBC_EPARSE;
		if (has_count) {
			count_s = a;
			if (parse_u32(count_s, 255, &cn.count) < 0 ||
			    cn.count == 0)
				return -SBC_EPARSE;
		}
	}
	cn.addr = host;
	cn.af = (uint8_t)af;
	cn.multicast = (uint8_t)mcast;
	cn.unspec = (uint8_t)unspec;
	*ret = cn;
	return 0;
}

/* v=0 and nothing else. */
static int
sdp_line_v(struct sdp_ctx *c, struct slice v)
{
	ws_rtrim(&v);
	if (!slice_eq(v, SLICE_LIT("0")))
		return FAIL(c, "Bad SDP v= line", v.p);
	c->seen_v = 1;
	return 0;
}

/* o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address> */
static int
sdp_line_o(struct sdp_ctx *c, struct slice v)
{
	struct sdp_origin *o = &c->sdp->origin;
	struct slice cur = v;
	int af, mcast, unspec;
	uint8_t oct[4];

	if (c->seen_o)
		return FAIL(c, "Duplicate SDP o= line", v.p);
	if (!field_next(&cur, &o->username) ||
	    !field_next(&cur, &o->sess_id) ||
	    !field_next(&cur, &o->sess_version_s) ||
	    !field_next(&cur, &o->nettype) ||
	    !field_next(&cur, &o->addrtype) ||
	    !field_next(&cur, &o->addr) || !fields_done(cur))
		return FAIL(c, "Bad SDP o= line", v.p);
	/* non-ws-string: visible bytes only, no controls for logs to trip on */
	if (!all_cls(o->username, CT_TEXT))
		return FAIL(c, "Bad SDP o= username", o->username.p);
	if (!all_cls(o->sess_id, CT_DIGIT))
		return FAIL(c, "Bad SDP o= session id", o->sess_id.p);
	if (parse_u64(o->sess_version_s, UINT64_MAX, &o->sess_version) < 0)
		return FAIL(c, "Bad SDP o= session version",
		    o->sess_version_s.p);
	if (!slice_eq_cstr_ci(o->nettype, "IN"))
		return FAIL(c, "Bad SDP o= network type", o->nettype.p);
	if ((af = addrtype_af(o->addrtype)) == SDP_AF_NONE)
		return FAIL(c, "Bad SDP o= address type", o->addrtype.p);
	/*
	 * The origin address is only an identifier (RFC 8866 5.2), so a
	 * host name is fine; what it may not be is arbitrary bytes.
	 */
	if (!(af == SDP_AF_IP4 && ip4_parse(o->addr, oct) == 0) &&
	    !(af == SDP_AF_IP6 && ip6_parse(o->addr, &mcast, &unspec) == 0) &&
	    !all_cls(o->addr, CT_HOST))
		return FAIL(c, "Bad SDP o= address", o->addr.p);
	c->seen_o = 1;
	return 0;
}

/* c=<nettype> <addrtype> <connection-address>, once per section. */
static int
sdp_line_c(struct sdp_ctx *c, struct slice v)
{
	struct sdp_conn *cn = c->m != NULL ? &c->m->conn : &c->sdp->conn;
	struct slice cur = v, nettype, addrtype, addr;
	int af;

	if (cn->af != SDP_AF_NONE)
		return FAIL(c, "Duplicate SDP c= line", v.p);
	if (!field_next(&cur, &nettype) || !field_next(&cur, &addrtype) ||
	    !field_next(&cur, &addr) || !fields_done(cur))
		return FAIL(c, "Bad SDP c= line", v.p);
	if (!slice_eq_cstr_ci(nettype, "IN"))
		return FAIL(c, "Bad SDP c= network type", nettype.p);
	if ((af = addrtype_af(addrtype)) == SDP_AF_NONE)
		return FAIL(c, "Bad SDP c= address type", addrtype.p);
	if (conn_addr_parse(af, addr, 1, cn) < 0)
		return FAIL(c, "Bad SDP c= address", addr.p);
	return 0;
}

/* b=<bwtype>:<bandwidth> */
static int
sdp_line_b(struct sdp_ctx *c, struct slice v)
{
	size_t *nbw = c->m != NULL ? &c->m->nbw : &c->sdp->nbw;
	struct sdp_bw *bw = c->m != NULL ? c->m->bw : c->sdp->bw;
	struct slice type, val = v;

	if (*nbw >= c->lim.max_bw)
		return FAIL_LIMIT(c, "Too many SDP b= lines", v.p);
	ws_rtrim(&val);
	if (!split_at(&val, ':', &type) || !sdp_is_token(type) ||
	    parse_u32(val, UINT32_MAX, &bw[*nbw].value) < 0)
		return FAIL(c, "Bad SDP b= line", v.p);
	bw[*nbw].type = type;
	(*nbw)++;
	return 0;
}

/* t=<start-time> <stop-time>; NTP seconds. */
static int
sdp_line_t(struct sdp_ctx *c, struct slice v)
{
	struct slice cur = v, start, stop;
	uint64_t t0, t1;

	if (!field_next(&cur, &start) || !field_next(&cur, &stop) ||
	    !fields_done(cur) || parse_u64(start, UINT64_MAX, &t0) < 0 ||
	    parse_u64(stop, UINT64_MAX, &t1) < 0)
		return FAIL(c, "Bad SDP t= line", v.p);
	if (c->sdp->ntimes++ == 0) {
		c->sdp->t_start = t0;
		c->sdp->t_stop = t1;
	}
	return 0;
}

static int
media_lookup(struct slice s)
{
	for (int i = 1; i < SDP_MEDIA__MAX; i++)
		if (slice_eq_cstr_ci(s, sdp_media_names[i]))
			return i;
	return SDP_MEDIA_OTHER;
}

static int
proto_lookup(struct slice s)
{
	for (int i = 1; i < SDP_PROTO__MAX; i++)
		if (slice_eq_cstr_ci(s, sdp_proto_names[i]))
			return i;
	return SDP_PROTO_OTHER;
}

/* proto = token *("/" token); *ret_rtp when one component is "RTP". */
static int
proto_check(struct slice s, int *ret_rtp)
{
	struct slice part;
	int more, rtp = 0;

	do {
		more = split_at(&s, '/', &part);
		if (!sdp_is_token(part))
			return -SBC_EPARSE;
		if (slice_eq_cstr_ci(part, "RTP"))
			rtp = 1;
	} while (more);
	*ret_rtp = rtp;
	return 0;
}

/*
 * m=<media> <port>[/<number of ports>] <proto> <fmt> ...
 * Opens a new media section; everything up to the next m= belongs to it.
 */
static int
sdp_line_m(struct sdp_ctx *c, struct slice line, struct slice v)
{
	struct sdp *sdp = c->sdp;
	struct sdp_media *m;
	struct slice cur = v, port_s, count_s, f;
	uint32_t port, pt;
	int rtp, has_count;

	if (sdp->nmedia >= c->lim.max_media)
		return FAIL_LIMIT(c, "Too many SDP media sections", line.p);
	if (c->m == NULL)
		sdp->raw_session = slice_make(c->buf, (size_t)(line.p - c->buf));
	else
		c->m->raw.len = (size_t)(line.p - c->m->raw.p);
	m = &sdp->media[sdp->nmedia++];
	memset(m, 0, sizeof(*m));
	c->m = m;
	m->raw = slice_make(line.p, line.len);

	if (!field_next(&cur, &m->media) || !field_next(&cur, &port_s) ||
	    !field_next(&cur, &m->proto))
		return FAIL(c, "Bad SDP m= line", v.p);
	if (!sdp_is_token(m->media))
		return FAIL(c, "Bad SDP m= media type", m->media.p);
	m->type = (uint8_t)media_lookup(m->media);

	has_count = split_at(&port_s, '/', &f);
	if (parse_u32(f, 65535, &port) < 0)
		return FAIL(c, "Bad SDP m= port", f.p);
	m->port = (uint16_t)port;
	m->nports = 1;
	if (has_count) {
		count_s = port_s;
		if (parse_u32(count_s, 65535, &m->nports) < 0 ||
		    m->nports == 0)
			return FAIL(c, "Bad SDP m= port count", count_s.p);
	}

	if (proto_check(m->proto, &rtp) < 0)
		return FAIL(c, "Bad SDP m= proto", m->proto.p);
	m->rtp = (uint8_t)rtp;
	m->proto_id = (uint8_t)proto_lookup(m->proto);

	while (field_next(&cur, &f)) {
		struct sdp_fmt *fm;

		if (m->nfmts >= c->lim.max_fmts)
			return FAIL_LIMIT(c, "Too many SDP m= formats", f.p);
		if (!sdp_is_token(f))
			return FAIL(c, "Bad SDP m= format", f.p);
		pt = 0;
		if (m->rtp && parse_u32(f, SDP_MAX_PT, &pt) < 0)
			return FAIL(c, "Bad SDP m= payload type", f.p);
		/* A repeat would leave rtpmap/fmtp ambiguous. */
		for (size_t i = 0; i < m->nfmts; i++)
			if (m->rtp ? m->fmts[i].pt == pt :
			    slice_eq(m->fmts[i].fmt, f))
				return FAIL(c, "Duplicate SDP m= format", f.p);
		fm = &m->fmts[m->nfmts++];
		memset(fm, 0, sizeof(*fm));
		fm->fmt = f;
		fm->pt = (uint8_t)pt;
	}
	/* A rejected stream (port 0) carries no meaningful formats. */
	if (m->nfmts == 0 && m->port != 0)
		return FAIL(c, "Missing SDP m= formats", v.p);
	return 0;
}

static struct sdp_fmt *
media_fmt_by_pt(struct sdp_media *m, uint32_t pt)
{
	if (!m->rtp)
		return NULL;
	for (size_t i = 0; i < m->nfmts; i++)
		if (m->fmts[i].pt == pt)
			return &m->fmts[i];
	return NULL;
}

/*
 * a=rtpmap:<payload type> <encoding name>/<clock rate>[/<params>]
 * An rtpmap for a payload type not on the m= line is kept only as a
 * generic attribute: it names nothing we will relay.
 */
static int
sdp_attr_rtpmap(struct sdp_ctx *c, struct slice v)
{
	struct sdp_rtpmap rm;
	struct sdp_fmt *fm;
	struct slice cur = v, pt_s, spec, clock_s;
	uint32_t pt;

	memset(&rm, 0, sizeof(rm));
	if (!field_next(&cur, &pt_s) || !field_next(&cur, &spec) ||
	    !fields_done(cur))
		return FAIL(c, "Bad SDP rtpmap", v.p);
	if (parse_u32(pt_s, SDP_MAX_PT, &pt) < 0)
		return FAIL(c, "Bad SDP rtpmap payload type", pt_s.p);
	if (!split_at(&spec, '/', &rm.encoding) || !sdp_is_token(rm.encoding))
		return FAIL(c, "Bad SDP rtpmap encoding", v.p);
	if (split_at(&spec, '/', &clock_s)) {
		if (parse_u32(spec, 255, &rm.channels) < 0 ||
		    rm.channels == 0)
			return FAIL(c, "Bad SDP rtpmap channels", spec.p);
	}
	if (parse_u32(clock_s, UINT32_MAX, &rm.clock) < 0 || rm.clock == 0)
		return FAIL(c, "Bad SDP rtpmap clock rate", clock_s.p);
	rm.pt = (uint8_t)pt;
	if ((fm = media_fmt_by_pt(c->m, pt)) == NULL)
		return 0;
	if (fm->has_rtpmap)
		return FAIL(c, "Duplicate SDP rtpmap", v.p);
	fm->rtpmap = rm;
	fm->has_rtpmap = 1;
	return 0;
}

/* a=fmtp:<format> <format specific parameters> */
static int
sdp_attr_fmtp(struct sdp_ctx *c, struct slice v)
{
	struct sdp_media *m = c->m;
	struct sdp_fmt *fm = NULL;
	struct slice cur = v, f;
	uint32_t pt;

	if (!field_next(&cur, &f) || !sdp_is_token(f))
		return FAIL(c, "Bad SDP fmtp", v.p);
	if (m->rtp) {
		if (parse_u32(f, SDP_MAX_PT, &pt) < 0)
			return FAIL(c, "Bad SDP fmtp payload type", f.p);
		fm = media_fmt_by_pt(m, pt);
	} else {
		for (size_t i = 0; i < m->nfmts && fm == NULL; i++)
			if (slice_eq(m->fmts[i].fmt, f))
				fm = &m->fmts[i];
	}
	if (fm == NULL)
		return 0;
	if (slice_set(fm->fmtp))
		return FAIL(c, "Duplicate SDP fmtp", v.p);
	ws_skip(&cur);
	ws_rtrim(&cur);
	fm->fmtp = cur;
	return 0;
}

/*
 * Decoded length of base64 text (RFC 4648 alphabet), padded or not;
 * -1 when it is not base64.  Trailing bits are not checked.
 */
static int
b64_val(uint8_t ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

static ssize_t
b64_declen(struct slice s)
{
	size_t n = s.len, pad = 0;

	while (pad < 2 && n > 0 && s.p[n - 1] == '=') {
		n--;
		pad++;
	}
	if (n == 0 || (pad > 0 && s.len % 4 != 0) || n % 4 == 1)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (b64_val(s.p[i]) < 0)
			return -1;
	return (ssize_t)(n / 4 * 3 + (n % 4 != 0 ? n % 4 - 1 : 0));
}

int
sdp_crypto_key_decode(struct slice key_salt, uint8_t *dst, size_t cap,
    size_t *ret_len)
{
	ssize_t dlen = b64_declen(key_salt);
	uint32_t acc = 0;
	size_t o = 0;
	unsigned bits = 0;

	if (dlen < 0)
		return -SBC_EPARSE;
	if ((size_t)dlen > cap)
		return -SBC_ELIMIT;
	for (size_t i = 0; i < key_salt.len; i++) {
		int d = b64_val(key_salt.p[i]);

		if (d < 0)
			break;		/* padding; validated above */
		acc = (acc << 6) | (uint32_t)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o < (size_t)dlen)
				dst[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	*ret_len = o;
	return 0;
}

/* lifetime = ["2^"] 1*(DIGIT); a power of two or a plain count. */
static int
lifetime_check(struct slice s)
{
	uint64_t v;
	uint32_t e;

	if (s.len >= 2 && s.p[0] == '2' && s.p[1] == '^') {
		if (parse_u32(slice_sub(s, 2, s.len - 2), 64, &e) < 0 ||
		    e == 0)
			return -SBC_EPARSE;
		return 0;
	}
	if (parse_u64(s, UINT64_MAX, &v) < 0 || v == 0)
		return -SBC_EPARSE;
	return 0;
}

/* mki = mki-value ":" mki-length; the value must fit in length bytes. */
static int
mki_parse(struct slice s, struct sdp_crypto_key *k)
{
	struct slice val;
	uint64_t v;

	if (!split_at(&s, ':', &val) || parse_u64(val, UINT64_MAX, &v) < 0 ||
	    parse_u32(s, SDP_MAX_MKI_LEN, &k->mki_len) < 0 ||
	    k->mki_len == 0)
		return -SBC_EPARSE;
	if (k->mki_len < 8 && v >> (8 * k->mki_len) != 0)
		return -SBC_EPARSE;
	k->mki = val;
	return 0;
}

int
sdp_crypto_key_next(struct slice *cur, struct sdp_crypto_key *ret)
{
	struct sdp_crypto_key k;
	struct slice kp, method, part;
	int more;

	if (cur->len == 0)
		return 0;
	/* "a;b;" would otherwise end silently after b. */
	if (split_at(cur, ';', &kp) && cur->len == 0)
		return -SBC_EPARSE;
	memset(&k, 0, sizeof(k));
	if (!split_at(&kp, ':', &method) ||
	    !slice_eq_cstr_ci(method, "inline"))
		return -SBC_EPARSE;
	more = split_at(&kp, '|', &k.key_salt);
	if (b64_declen(k.key_salt) < 0)
		return -SBC_EPARSE;
	/* key-salt ["|" lifetime] ["|" mki]: only MKI has a ':'. */
	while (more) {
		more = split_at(&kp, '|', &part);
		if (slice_set(k.mki))
			return -SBC_EPARSE;
		if (slice_find(part, ':') >= 0) {
			if (mki_parse(part, &k) < 0)
				return -SBC_EPARSE;
		} else {
			if (slice_set(k.lifetime) || lifetime_check(part) < 0)
				return -SBC_EPARSE;
			k.lifetime = part;
		}
	}
	*ret = k;
	return 1;
}

size_t
sdp_suite_key_len(enum sdp_suite suite)
{
	if ((unsigned)suite >= SDP_SUITE__MAX)
		return 0;
	return sdp_suites[suite].key_len;
}

const char *
sdp_suite_name(enum sdp_suite suite)
{
	if ((unsigned)suite >= SDP_SUITE__MAX)
		return "unknown";
	return sdp_suites[suite].name;
}

static int
suite_lookup(struct slice s)
{
	for (int i = 1; i < SDP_SUITE__MAX; i++)
		if (slice_eq_cstr_ci(s, sdp_suites[i].name))
			return i;
	for (size_t i = 0; i < nitems(sdp_suite_aliases); i++)
		if (slice_eq_cstr_ci(s, sdp_suite_aliases[i].name))
			return sdp_suite_aliases[i].suite;
	return SDP_SUITE_UNKNOWN;
}

/*
 * a=crypto:<tag> <crypto-suite> <key-params> [<session-params>]
 * (RFC 4568 9.1).  Every key of a known suite must decode to exactly
 * the suite's key||salt length: a short key is a weak or broken key.
 */
static int
sdp_attr_crypto(struct sdp_ctx *c, struct slice v)
{
	struct sdp_media *m = c->m;
	struct sdp_crypto *cr;
	struct sdp_crypto_key key;
	struct slice cur = v, tag_s, suite, kp, kcur;
	uint32_t tag, mki_len = 0;
	size_t klen, nkeys = 0;
	int r;

	if (m->ncrypto >= c->lim.max_crypto)
		return FAIL_LIMIT(c, "Too many SDP crypto attributes", v.p);
	if (!field_next(&cur, &tag_s) || !field_next(&cur, &suite) ||
	    !field_next(&cur, &kp))
		return FAIL(c, "Bad SDP crypto attribute", v.p);
	if (parse_u32(tag_s, SDP_MAX_CRYPTO_TAG, &tag) < 0)
		return FAIL(c, "Bad SDP crypto tag", tag_s.p);
	for (size_t i = 0; i < m->ncrypto; i++)
		if (m->crypto[i].tag == tag)
			return FAIL(c, "Duplicate SDP crypto tag", tag_s.p);
	for (size_t i = 0; i < suite.len; i++)
		if (!ctype_is(suite.p[i], CT_ALNUM) && suite.p[i] != '_')
			return FAIL(c, "Bad SDP crypto suite", suite.p);

	cr = &m->crypto[m->ncrypto];
	memset(cr, 0, sizeof(*cr));
	cr->tag = tag;
	cr->suite = (uint8_t)suite_lookup(suite);
	cr->suite_name = suite;
	cr->key_params = kp;
	klen = sdp_suite_key_len(cr->suite);
	kcur = kp;
	while ((r = sdp_crypto_key_next(&kcur, &key)) > 0) {
		if (klen != 0 && b64_declen(key.key_salt) != (ssize_t)klen)
			return FAIL(c, "Bad SDP crypto key length",
			    key.key_salt.p);
		/*
		 * Several keys are told apart only by their MKI, so each
		 * needs one, all of the same length (RFC 4568 6.1).
		 */
		if (nkeys == 0) {
			cr->key = key;
			mki_len = key.mki_len;
		} else if (mki_len == 0 || key.mki_len != mki_len)
			return FAIL(c, "Bad SDP crypto MKI", kp.p);
		nkeys++;
	}
	if (r < 0)
		return FAIL(c, "Bad SDP crypto key", kp.p);
	cr->nkeys = nkeys;
	ws_skip(&cur);
	ws_rtrim(&cur);
	cr->session_params = cur;
	m->ncrypto++;
	return 0;
}

/* a=rtcp:<port> [<nettype> <addrtype> <connection-address>] (RFC 3605) */
static int
sdp_attr_rtcp(struct sdp_ctx *c, struct slice v)
{
	struct sdp_media *m = c->m;
	struct slice cur = v, port_s, nettype, addrtype, addr;
	uint32_t port;
	int af;

	if (m->has_rtcp)
		return FAIL(c, "Duplicate SDP rtcp attribute", v.p);
	if (!field_next(&cur, &port_s) || parse_u32(port_s, 65535, &port) < 0)
		return FAIL(c, "Bad SDP rtcp port", v.p);
	if (field_next(&cur, &nettype)) {
		if (!field_next(&cur, &addrtype) ||
		    !field_next(&cur, &addr) || !fields_done(cur) ||
		    !slice_eq_cstr_ci(nettype, "IN") ||
		    (af = addrtype_af(addrtype)) == SDP_AF_NONE)
			return FAIL(c, "Bad SDP rtcp attribute", v.p);
		if (conn_addr_parse(af, addr, 0, &m->rtcp_conn) < 0)
			return FAIL(c, "Bad SDP rtcp address", addr.p);
	}
	m->rtcp_port = (uint16_t)port;
	m->has_rtcp = 1;
	return 0;
}

/* ice-char = ALPHA / DIGIT / "+" / "/" (RFC 8839 5.4) */
static int
ice_chars_ok(struct slice s)
{
	if (s.len == 0 || s.len > SDP_MAX_ICE_CHARS)
		return 0;
	for (size_t i = 0; i < s.len; i++)
		if (!ctype_is(s.p[i], CT_ALNUM) && s.p[i] != '+' &&
		    s.p[i] != '/')
			return 0;
	return 1;
}

/* "<hash-func> <hex>:<hex>..." (RFC 8122 5) */
static int
fingerprint_ok(struct slice v)
{
	struct slice cur = v, hash, fp;

	if (!field_next(&cur, &hash) || !field_next(&cur, &fp) ||
	    !fields_done(cur) || !sdp_is_token(hash))
		return 0;
	for (size_t i = 0; i < fp.len; i++)
		if (!ctype_is(fp.p[i], CT_HEX) && fp.p[i] != ':')
			return 0;
	return 1;
}

static int
attr_lookup(struct slice name)
{
	for (int i = 1; i < SDP_A__MAX; i++)
		if (slice_eq_cstr_ci(name, sdp_attr_names[i]))
			return i;
	return SDP_A_OTHER;
}

/* Single-valued slice attribute: refuse a second one. */
static int
set_once(struct sdp_ctx *c, struct slice *dst, struct slice v,
    const char *dup_reason)
{
	if (slice_set(*dst))
		return FAIL(c, dup_reason, v.p);
	*dst = v;
	return 0;
}

/*
 * a=<attribute>[:<value>].  Every line is kept in the section's attrs;
 * the ones in sdp.h are decoded too.  Media-only attributes at session
 * level are kept but not decoded, as RFC 8866 gives them no meaning
 * there.
 */
static int
sdp_line_a(struct sdp_ctx *c, struct slice v)
{
	struct sdp *sdp = c->sdp;
	struct sdp_media *m = c->m;
	struct sdp_attrs *as = m != NULL ? &m->attrs : &sdp->attrs;
	struct slice name, val = SLICE_NULL, sv;
	ssize_t colon;
	uint8_t *dirp = m != NULL ? &m->dir : &sdp->dir;
	int id;

	if ((colon = slice_find(v, ':')) >= 0) {
		name = slice_sub(v, 0, (size_t)colon);
		val = slice_sub(v, (size_t)colon + 1, v.len - (size_t)colon - 1);
	} else {
		name = v;
		ws_rtrim(&name);	/* "a=rtcp-mux " */
	}
	if (!sdp_is_token(name))
		return FAIL(c, "Bad SDP attribute name", v.p);
	if (as->n >= c->lim.max_attrs)
		return FAIL_LIMIT(c, "Too many SDP attributes", v.p);
	as->v[as->n++] = (struct sdp_attr){ .name = name, .value = val };

	id = attr_lookup(name);
	/*
	 * Decoders see the value without trailing white space; a missing
	 * value reads as empty, placed after the name so errors point
	 * into the line.
	 */
	sv = slice_set(val) ? val : slice_make(name.p + name.len, 0);
	ws_rtrim(&sv);
	switch (id) {
	case SDP_A_SENDRECV:
	case SDP_A_SENDONLY:
	case SDP_A_RECVONLY:
	case SDP_A_INACTIVE:
		if (slice_set(val))
			return FAIL(c, "Bad SDP direction attribute", v.p);
		if (*dirp != SDP_DIR_UNSET)
			return FAIL(c, "Duplicate SDP direction attribute", v.p);
		/* The attribute ids follow the enum sdp_dir order. */
		*dirp = (uint8_t)(SDP_DIR_SENDRECV + (id - SDP_A_SENDRECV));
		return 0;
	case SDP_A_ICE_UFRAG:
		if (!ice_chars_ok(sv))
			return FAIL(c, "Bad SDP ice-ufrag", v.p);
		return set_once(c, m != NULL ? &m->ice_ufrag : &sdp->ice_ufrag,
		    sv, "Duplicate SDP ice-ufrag");
	case SDP_A_ICE_PWD:
		if (!ice_chars_ok(sv))
			return FAIL(c, "Bad SDP ice-pwd", v.p);
		return set_once(c, m != NULL ? &m->ice_pwd : &sdp->ice_pwd,
		    sv, "Duplicate SDP ice-pwd");
	case SDP_A_FINGERPRINT:
		/* One per hash function is allowed (RFC 8122 5). */
		if (!fingerprint_ok(sv))
			return FAIL(c, "Bad SDP fingerprint", v.p);
		if (m != NULL) {
			if (m->nfingerprints++ == 0)
				m->fingerprint = sv;
		} else if (sdp->nfingerprints++ == 0)
			sdp->fingerprint = sv;
		return 0;
	case SDP_A_SETUP:
		if (!slice_eq_cstr_ci(sv, "active") &&
		    !slice_eq_cstr_ci(sv, "passive") &&
		    !slice_eq_cstr_ci(sv, "actpass") &&
		    !slice_eq_cstr_ci(sv, "holdconn"))
			return FAIL(c, "Bad SDP setup", v.p);
		return set_once(c, m != NULL ? &m->setup : &sdp->setup, sv,
		    "Duplicate SDP setup");
	case SDP_A_ICE_LITE:
		if (m == NULL)
			sdp->ice_lite = 1;
		return 0;
	default:
		break;
	}
	if (m == NULL)
		return 0;

	switch (id) {
	case SDP_A_RTPMAP:
		return sdp_attr_rtpmap(c, sv);
	case SDP_A_FMTP:
		return sdp_attr_fmtp(c, sv);
	case SDP_A_CRYPTO:
		return sdp_attr_crypto(c, sv);
	case SDP_A_RTCP:
		return sdp_attr_rtcp(c, sv);
	case SDP_A_RTCP_MUX:
		m->rtcp_mux = 1;
		return 0;
	case SDP_A_PTIME:
	case SDP_A_MAXPTIME: {
		uint32_t *dst = id == SDP_A_PTIME ? &m->ptime : &m->maxptime;
		uint32_t ms;

		if (parse_u32(sv, SDP_MAX_PTIME, &ms) < 0 || ms == 0)
			return FAIL(c, id == SDP_A_PTIME ? "Bad SDP ptime" :
			    "Bad SDP maxptime", v.p);
		if (*dst != 0)
			return FAIL(c, id == SDP_A_PTIME ?
			    "Duplicate SDP ptime" : "Duplicate SDP maxptime",
			    v.p);
		*dst = ms;
		return 0;
	}
	case SDP_A_MID:
		/* identification-tag = token, unique in the body (RFC 5888) */
		if (!sdp_is_token(sv))
			return FAIL(c, "Bad SDP mid", v.p);
		if (slice_set(m->mid))
			return FAIL(c, "Duplicate SDP mid", v.p);
		for (size_t i = 0; i < sdp->nmedia; i++)
			if (slice_eq(sdp->media[i].mid, sv))
				return FAIL(c, "Duplicate SDP mid", v.p);
		m->mid = sv;
		return 0;
	case SDP_A_CANDIDATE:
		if (sv.len == 0)
			return FAIL(c, "Bad SDP candidate", v.p);
		m->ncandidates++;
		return 0;
	default:
		return 0;
	}
}

/* Dispatch one non-empty line "<type>=<value>". */
static int
sdp_line(struct sdp_ctx *c, struct slice line)
{
	struct slice v;
	uint8_t type;

	if (line.len < 2 || line.p[1] != '=')
		return FAIL(c, "Bad SDP line", line.p);
	type = line.p[0];
	if (type < 'a' || type > 'z')
		return FAIL(c, "Bad SDP line type", line.p);
	v = slice_sub(line, 2, line.len - 2);

	if (!c->seen_v) {
		if (type != 'v')
			return FAIL(c, "SDP must start with v=", line.p);
		return sdp_line_v(c, v);
	}
	switch (type) {
	case 'm':
		return sdp_line_m(c, line, v);
	case 'c':
		return sdp_line_c(c, v);
	case 'b':
		return sdp_line_b(c, v);
	case 'a':
		return sdp_line_a(c, v);
	case 'i':
		if (c->m == NULL && !slice_set(c->sdp->info))
			c->sdp->info = v;
		return 0;
	case 'k':
		return 0;	/* obsolete (RFC 8866 5.12); never trusted */
	case 'v': case 'o': case 's': case 'u': case 'e': case 'p':
	case 't': case 'r': case 'z':
		/* The session part cannot resume after the first m=. */
		if (c->m != NULL)
			return FAIL(c, "SDP session line in media section",
			    line.p);
		break;
	default:
		return 0;	/* unknown types are ignored (RFC 8866 5) */
	}

	switch (type) {
	case 'v':
		return FAIL(c, "Duplicate SDP v= line", line.p);
	case 'o':
		return sdp_line_o(c, v);
	case 's':
		if (c->seen_s)
			return FAIL(c, "Duplicate SDP s= line", line.p);
		c->seen_s = 1;
		c->sdp->name = v;
		return 0;
	case 't':
		return sdp_line_t(c, v);
	default:
		return 0;	/* u= e= p= r= z=: informational */
	}
}

/* Checks that need the whole body. */
static int
sdp_finish(struct sdp_ctx *c)
{
	struct sdp *sdp = c->sdp;
	const uint8_t *end = c->buf + c->len;

	if (c->m == NULL)
		sdp->raw_session = slice_make(c->buf, c->len);
	else
		c->m->raw.len = (size_t)(end - c->m->raw.p);
	if (!c->seen_v)
		return FAIL(c, "SDP must start with v=", c->buf);
	if (!c->seen_o)
		return FAIL(c, "Missing SDP o= line", end);
	if (!c->seen_s)
		return FAIL(c, "Missing SDP s= line", end);
	if (sdp->ntimes == 0)
		return FAIL(c, "Missing SDP t= line", end);
	for (size_t i = 0; i < sdp->nmedia; i++) {
		const struct sdp_media *m = &sdp->media[i];

		if (m->port != 0 && m->conn.af == SDP_AF_NONE &&
		    sdp->conn.af == SDP_AF_NONE)
			return FAIL(c, "Missing SDP c= line", m->raw.p);
	}
	return 0;
}

static size_t
clamp(size_t v, size_t max)
{
	return v < max ? v : max;
}

int
sdp_parse(const uint8_t *buf, size_t len, const struct sdp_limits *lim,
    struct sdp *sdp, struct sdp_err *reterr)
{
	struct sdp_ctx c;
	const uint8_t *blank = NULL;
	size_t pos = 0, nlines = 0;
	int r;

	if (lim == NULL)
		lim = &sdp_limits_default;
	memset(&c, 0, sizeof(c));
	c.buf = buf;
	c.len = len;
	c.sdp = sdp;
	c.err = reterr;
	c.lim.max_body = clamp(lim->max_body, SDP_MAX_BODY);
	c.lim.max_lines = clamp(lim->max_lines, SDP_MAX_LINES);
	c.lim.max_line = clamp(lim->max_line, SDP_MAX_LINE);
	c.lim.max_media = clamp(lim->max_media, SDP_MAX_MEDIA);
	c.lim.max_attrs = clamp(lim->max_attrs, SDP_MAX_ATTRS);
	c.lim.max_fmts = clamp(lim->max_fmts, SDP_MAX_FMTS);
	c.lim.max_crypto = clamp(lim->max_crypto, SDP_MAX_CRYPTO);
	c.lim.max_bw = clamp(lim->max_bw, SDP_MAX_BW);

	/* Only the session part; media sections are cleared as opened. */
	memset(sdp, 0, offsetof(struct sdp, media));
	sdp->buf = buf;
	sdp->len = len;

	if (len > c.lim.max_body)
		return FAIL_LIMIT(&c, "SDP body too large", buf + c.lim.max_body);
	if (len == 0 || buf == NULL)
		return FAIL(&c, "Empty SDP body", NULL);

	while (pos < len) {
		const uint8_t *lp = buf + pos, *nl;
		size_t rest = len - pos, win, llen, next;

		/* Look no further than the longest line we would accept. */
		win = rest < c.lim.max_line + 2 ? rest : c.lim.max_line + 2;
		nl = memchr(lp, '\n', win);
		if (nl == NULL) {
			if (win < rest)
				return FAIL_LIMIT(&c, "SDP line too long", lp);
			llen = next = rest;	/* last line, no ending */
		} else {
			llen = (size_t)(nl - lp);
			next = llen + 1;
			if (llen > 0 && lp[llen - 1] == '\r')
				llen--;
		}
		if (llen > c.lim.max_line)
			return FAIL_LIMIT(&c, "SDP line too long", lp);
		if (++nlines > c.lim.max_lines)
			return FAIL_LIMIT(&c, "Too many SDP lines", lp);
		pos += next;
		if (llen == 0) {
			/* Tolerated only as trailing padding. */
			if (blank == NULL)
				blank = lp;
			continue;
		}
		if (blank != NULL)
			return FAIL(&c, "Empty SDP line", blank);
		if (memchr(lp, '\r', llen) != NULL)
			return FAIL(&c, "Bad SDP line ending",
			    (const uint8_t *)memchr(lp, '\r', llen));
		if (memchr(lp, '\0', llen) != NULL)
			return FAIL(&c, "Bad SDP character",
			    (const uint8_t *)memchr(lp, '\0', llen));
		if ((r = sdp_line(&c, slice_make(lp, llen))) < 0)
			return r;
	}
	return sdp_finish(&c);
}

const struct sdp_conn *
sdp_media_conn(const struct sdp *sdp, size_t i)
{
	if (i >= sdp->nmedia)
		return NULL;
	if (sdp->media[i].conn.af != SDP_AF_NONE)
		return &sdp->media[i].conn;
	if (sdp->conn.af != SDP_AF_NONE)
		return &sdp->conn;
	return NULL;
}

enum sdp_dir
sdp_media_dir(const struct sdp *sdp, size_t i)
{
	if (i >= sdp->nmedia)
		return SDP_DIR_UNSET;
	if (sdp->media[i].dir != SDP_DIR_UNSET)
		return (enum sdp_dir)sdp->media[i].dir;
	if (sdp->dir != SDP_DIR_UNSET)
		return (enum sdp_dir)sdp->dir;
	return SDP_DIR_SENDRECV;
}

const struct sdp_fmt *
sdp_media_fmt(const struct sdp *sdp, size_t i, uint8_t pt)
{
	const struct sdp_media *m;

	if (i >= sdp->nmedia)
		return NULL;
	m = &sdp->media[i];
	if (!m->rtp)
		return NULL;
	for (size_t k = 0; k < m->nfmts; k++)
		if (m->fmts[k].pt == pt)
			return &m->fmts[k];
	return NULL;
}

int
sdp_media_rtpmap(const struct sdp *sdp, size_t i, uint8_t pt,
    struct sdp_rtpmap *ret)
{
	const struct sdp_fmt *fm;

	if ((fm = sdp_media_fmt(sdp, i, pt)) == NULL)
		return -SBC_ENOTFOUND;
	if (fm->has_rtpmap) {
		*ret = fm->rtpmap;
		return 0;
	}
	for (size_t k = 0; k < nitems(sdp_static_pts); k++) {
		if (sdp_static_pts[k].pt != pt)
			continue;
		ret->encoding = slice_cstr(sdp_static_pts[k].enc);
		ret->clock = sdp_static_pts[k].clock;
		ret->channels = sdp_static_pts[k].channels;
		ret->pt = pt;
		return 0;
	}
	return -SBC_ENOTFOUND;
}

const struct sdp_crypto *
sdp_media_crypto_next(const struct sdp *sdp, size_t i, size_t *cursor)
{
	const struct sdp_media *m;

	if (i >= sdp->nmedia)
		return NULL;
	m = &sdp->media[i];
	if (*cursor >= m->ncrypto)
		return NULL;
	return &m->crypto[(*cursor)++];
}

const struct sdp_attr *
sdp_attr_next(const struct sdp_attrs *a, const char *name, size_t *cursor)
{
	struct slice want = slice_cstr(name);

	for (size_t i = *cursor; i < a->n; i++) {
		if (slice_eq_ci(a->v[i].name, want)) {
			*cursor = i + 1;
			return &a->v[i];
		}
	}
	*cursor = a->n;
	return NULL;
}

const char *
sdp_dir_name(enum sdp_dir dir)
{
	if ((unsigned)dir >= SDP_DIR__MAX)
		return "unset";
	return sdp_dir_names[dir];
}
