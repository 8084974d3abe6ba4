/*
 * SDP rewriting for media anchoring: one pass over the lines of a body
 * that sdp_parse() accepted, each line copied, replaced or dropped, the
 * result written through a bounded wbuf into the caller's buffer.
 *
 * Owns: the rules listed above sdp_rewrite() in sdp_rewrite.h, the
 * address scrubber that backs them up, and sdp_media_remote().
 *
 * The rules name what we know carries an address (c=, o=, a=rtcp, ICE
 * candidates); the scrubber catches what we cannot name (a cname of
 * "user@10.0.0.7", an e= line, a vendor attribute) by dropping any
 * optional line with an IPv4- or IPv6-looking literal in it.  It errs on
 * the side of dropping: losing a version string in an x- attribute
 * costs nothing, leaking an inside address is what SIG5 forbids.
 *
 * Deliberately not here: any decision on what to offer or accept; the
 * caller (sip/ via the media session) fills struct sdp_rewrite.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/wbuf.h"
#include "media/sdp_rewrite.h"

#define MAX_HOST	253	/* longest DNS name we bother scrubbing */

struct rw_ctx {
	const struct sdp		*in;
	const struct sdp_rewrite	*rw;
	struct wbuf			 w;
	const char			*user;
	const char			*ipver;		/* "IP4" or "IP6" */
	const char			*unspec;	/* "0.0.0.0" or "::" */
	char				 addr[INET6_ADDRSTRLEN];
	struct slice			 host;		/* o= name, or empty */
	/* current media section */
	const struct sdp_media		*m;
	const struct sdp_rewrite_media	*rm;
	size_t				 nattrs;	/* a= lines written */
	bool				 c_pending;	/* needs a c= we add */
	bool				 rtcp_done;
	bool				 crypto_done;
};

/* ---------------------------------------------------------------- */
/* Address scrubber                                                  */

static int
ip_ch(uint8_t ch)
{
	return ctype_is(ch, CT_HEX) || ch == ':' || ch == '.';
}

/*
 * Four '.'-separated digit groups in a row.  The outer two may be glued
 * to more digits ("x10.0.0.17" hides 10.0.0.1 as well), so only the
 * inner two are held to 1-3 digits.  Octet values are not checked: a
 * false positive only drops an optional line.
 */
static int
run_has_ip4(const uint8_t *p, size_t n)
{
	size_t chain = 0, glen = 0;

	for (size_t i = 0; i <= n; i++) {
		uint8_t ch = i < n ? p[i] : 0;

		if (ctype_is(ch, CT_DIGIT)) {
			glen++;
			continue;
		}
		if (glen == 0)
			chain = 0;
		else if (chain == 0)
			chain = 1;
		else if (chain < 3)
			chain = glen <= 3 ? chain + 1 : 1;
		else
			return 1;
		if (ch != '.')
			chain = 0;
		glen = 0;
	}
	return 0;
}

/*
 * An IPv6 literal either has "::" or eight ':'-separated groups; with
 * an embedded dotted quad, that quad is caught by run_has_ip4().  As
 * above, only the inner groups are held to their 1-4 hex digits.
 */
static int
run_has_ip6(const uint8_t *p, size_t n)
{
	size_t chain = 0, glen = 0;
	bool dot = false;

	for (size_t i = 0; i + 1 < n; i++)
		if (p[i] == ':' && p[i + 1] == ':')
			return 1;
	for (size_t i = 0; i <= n; i++) {
		uint8_t ch = i < n ? p[i] : 0;

		if (ch != ':' && i < n) {
			glen++;
			dot |= ch == '.';
			continue;
		}
		if (glen == 0)
			chain = 0;
		else if (chain == 0)
			chain = 1;
		else if (chain < 7)
			chain = glen <= 4 && !dot ? chain + 1 : 1;
		else
			return 1;
		glen = 0;
		dot = false;
	}
	return 0;
}

/* Does s contain anything that looks like an IPv4 or IPv6 literal? */
static int
text_has_ip(struct slice s)
{
	size_t i = 0;

	while (i < s.len) {
		size_t j = i;

		if (!ip_ch(s.p[i])) {
			i++;
			continue;
		}
		while (j < s.len && ip_ch(s.p[j]))
			j++;
		if (run_has_ip4(s.p + i, j - i) || run_has_ip6(s.p + i, j - i))
			return 1;
		i = j;
	}
	return 0;
}

static int
label_ch(uint8_t ch)
{
	return ctype_is(ch, CT_ALNUM) || ch == '-';
}

/*
 * host (ASCII case-insensitive) in s.  A dotted name is looked for
 * anywhere ("carol@pbx1.corp.example.net" names it too); a single label
 * ("localhost", "pbx1") only as a whole DNS label (so "pbx1.corp" and
 * "@pbx1" match, "mypbx1" does not), or a short one would drop every
 * line that happens to contain its letters.
 */
static int
text_has_host(struct slice s, struct slice host)
{
	bool word = slice_find(host, '.') < 0;

	if (host.len == 0 || host.len > s.len)
		return 0;
	for (size_t i = 0; i + host.len <= s.len; i++) {
		if (word && i > 0 && label_ch(s.p[i - 1]))
			continue;
		if (word && i + host.len < s.len && label_ch(s.p[i + host.len]))
			continue;
		if (slice_eq_ci(slice_make(s.p + i, host.len), host))
			return 1;
	}
	return 0;
}

/* v: a line's value, without its "x=" */
static int
leaks(const struct rw_ctx *c, struct slice v)
{
	return text_has_ip(v) || text_has_host(v, c->host);
}

/* ---------------------------------------------------------------- */
/* Output                                                            */

/*
 * printf into the output.  Not wbuf_fmt(): vsnprintf wants room for a
 * NUL, so a line that fills the buffer exactly would count as overflow
 * and the exact-size buffer the caller measured would not do.  Our
 * formatted lines are short (o= is the longest but for a=crypto).
 */
__attribute__((format(printf, 2, 3))) static void
put_fmt(struct rw_ctx *c, const char *fmt, ...)
{
	char tmp[SDP_RW_MAX_CRYPTO + 64];
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= sizeof(tmp)) {
		c->w.overflow = 1;	/* cannot happen with checked inputs */
		return;
	}
	wbuf_put(&c->w, tmp, (size_t)r);
}

static void
put_line(struct rw_ctx *c, struct slice line)
{
	wbuf_slice(&c->w, line);
	wbuf_put(&c->w, "\r\n", 2);
}

/* Optional line: copied unless it would leak. */
static void
put_scrubbed(struct rw_ctx *c, struct slice line)
{
	if (!leaks(c, slice_sub(line, 2, line.len - 2)))
		put_line(c, line);
}

static void
put_c(struct rw_ctx *c, bool unspec)
{
	/*
	 * c=0.0.0.0 is the RFC 2543 hold that RFC 3264 8.4 still asks
	 * answerers to honour: it says "do not send", it names no one.
	 * It stays a hold, in our address family.
	 */
	put_fmt(c, "c=IN %s %s\r\n", c->ipver,
	    unspec ? c->unspec : c->addr);
}

static int
count_attr(struct rw_ctx *c)
{
	if (++c->nattrs > SDP_MAX_ATTRS)
		return -EMSGSIZE;
	return 0;
}

static int
put_rtcp(struct rw_ctx *c)
{
	uint32_t port = c->rm->rtcp_port != 0 ? c->rm->rtcp_port :
	    (uint32_t)c->rm->port + 1;

	put_fmt(c, "a=rtcp:%" PRIu32 "\r\n", port);
	c->rtcp_done = true;
	return count_attr(c);
}

static int
put_crypto(struct rw_ctx *c)
{
	put_fmt(c, "a=crypto:%s\r\n", c->rm->crypto);
	c->crypto_done = true;
	return count_attr(c);
}

/* ---------------------------------------------------------------- */
/* Rules                                                             */

enum rw_attr {
	RW_A_COPY = 0,
	RW_A_DROP,
	RW_A_RTCP,
	RW_A_CRYPTO,
	RW_A__MAX
};

/* Dropped wherever they appear: we terminate ICE, DTLS and keys. */
static const char *const rw_drop_names[] = {
	"candidate", "remote-candidates", "end-of-candidates",
	"fingerprint", "setup", "tls-id", "key-mgmt", "bundle-only",
};

static enum rw_attr
attr_class(struct slice name, struct slice val)
{
	if (slice_eq_lit_ci(name, "rtcp"))
		return RW_A_RTCP;
	if (slice_eq_lit_ci(name, "crypto"))
		return RW_A_CRYPTO;
	if (slice_starts_ci(name, SLICE_LIT("ice-")))
		return RW_A_DROP;
	for (size_t i = 0; i < sizeof(rw_drop_names) / sizeof(rw_drop_names[0]);
	    i++)
		if (slice_eq_cstr_ci(name, rw_drop_names[i]))
			return RW_A_DROP;
	/* a=group:BUNDLE <mids>; other groups (LS, FID) are harmless. */
	while (val.len > 0 && ctype_is(val.p[0], CT_WS)) {
		val.p++;
		val.len--;
	}
	if (slice_eq_lit_ci(name, "group") &&
	    slice_starts_ci(val, SLICE_LIT("BUNDLE")) &&
	    (val.len == 6 || ctype_is(val.p[6], CT_WS)))
		return RW_A_DROP;
	return RW_A_COPY;
}

/* One a= line; v is its value after "a=". */
static int
rw_attr(struct rw_ctx *c, struct slice line, struct slice v)
{
	struct slice name = v, val = SLICE_NULL;
	ssize_t colon;

	/* Split as sdp_parse() does, so we classify what it decoded. */
	if ((colon = slice_find(v, ':')) >= 0) {
		name = slice_sub(v, 0, (size_t)colon);
		val = slice_sub(v, (size_t)colon + 1,
		    v.len - (size_t)colon - 1);
	} else
		while (name.len > 0 && ctype_is(name.p[name.len - 1], CT_WS))
			name.len--;

	switch (attr_class(name, val)) {
	case RW_A_DROP:
		return 0;
	case RW_A_RTCP:
		/* At session level it means nothing and may hold an address. */
		if (c->m == NULL || !c->rm->keep || c->rtcp_done)
			return 0;
		return put_rtcp(c);
	case RW_A_CRYPTO:
		/* At session level it means nothing and holds a key. */
		if (c->m == NULL || !c->rm->keep || c->rm->crypto == NULL ||
		    c->crypto_done)
			return 0;
		return put_crypto(c);
	default:
		break;
	}
	if (leaks(c, v))
		return 0;
	put_line(c, line);
	return count_attr(c);
}

/* The proto to write for a section, or NULL to copy the input's. */
static const char *
proto_out(const struct sdp_media *m, const struct sdp_rewrite_media *rm)
{
	static const char *const names[2][2] = {
		{ "RTP/AVP", "RTP/AVPF" },
		{ "RTP/SAVP", "RTP/SAVPF" },
	};
	int fb;

	switch (m->proto_id) {
	case SDP_PROTO_RTP_AVP:
	case SDP_PROTO_RTP_SAVP:
	case SDP_PROTO_UDP_TLS_RTP_SAVP:
		fb = 0;
		break;
	case SDP_PROTO_RTP_AVPF:
	case SDP_PROTO_RTP_SAVPF:
	case SDP_PROTO_UDP_TLS_RTP_SAVPF:
		fb = 1;
		break;
	default:
		return NULL;
	}
	switch (rm->proto) {
	case SDP_RW_PROTO_RTP:
		return names[0][fb];
	case SDP_RW_PROTO_SRTP:
		return names[1][fb];
	default:
		return NULL;
	}
}

/* "m=<media> <port> <proto> <fmt>..." with single spaces. */
static int
rw_m(struct rw_ctx *c)
{
	const struct sdp_media *m = c->m;
	const char *proto = proto_out(m, c->rm);

	/* We cannot drop an m= line, only refuse to send it. */
	if (leaks(c, m->media) || (proto == NULL && leaks(c, m->proto)))
		return -EBADMSG;
	for (size_t k = 0; k < m->nfmts; k++)
		if (leaks(c, m->fmts[k].fmt))
			return -EBADMSG;

	wbuf_str(&c->w, "m=");
	wbuf_slice(&c->w, m->media);
	put_fmt(c, " %u ", c->rm->keep ? (unsigned)c->rm->port : 0u);
	if (proto != NULL)
		wbuf_str(&c->w, proto);
	else
		wbuf_slice(&c->w, m->proto);
	for (size_t k = 0; k < m->nfmts; k++) {
		wbuf_byte(&c->w, ' ');
		wbuf_slice(&c->w, m->fmts[k].fmt);
	}
	wbuf_put(&c->w, "\r\n", 2);
	return 0;
}

/* End of media section: what it still lacks. */
static int
rw_section_end(struct rw_ctx *c)
{
	const struct sdp_rewrite_media *rm = c->rm;
	uint32_t rtp = rm->port;
	int r;

	if (c->c_pending) {
		put_c(c, false);
		c->c_pending = false;
	}
	if (!rm->keep)
		return 0;
	if (!c->rtcp_done && rm->rtcp_port != 0 && rm->rtcp_port != rtp + 1 &&
	    (r = put_rtcp(c)) < 0)
		return r;
	if (!c->crypto_done && rm->crypto != NULL && (r = put_crypto(c)) < 0)
		return r;
	return 0;
}

static void
rw_section_begin(struct rw_ctx *c, size_t i)
{
	const struct sdp *in = c->in;

	c->m = &in->media[i];
	c->rm = &c->rw->media[i];
	c->nattrs = 0;
	c->rtcp_done = false;
	c->crypto_done = false;
	/* A kept section must have an address (sdp_parse insists). */
	c->c_pending = c->rm->keep && c->m->conn.af == SDP_AF_NONE &&
	    in->conn.af == SDP_AF_NONE;
}

static int
rw_line(struct rw_ctx *c, struct slice line, size_t *sec)
{
	struct slice v = slice_sub(line, 2, line.len - 2);
	const struct sdp_conn *cn;
	uint8_t type = line.p[0];
	int r;

	if (type == 'm') {
		if (c->m != NULL && (r = rw_section_end(c)) < 0)
			return r;
		if (*sec >= c->in->nmedia)
			return -EINVAL;	/* in is not this body's parse */
		rw_section_begin(c, (*sec)++);
		return rw_m(c);
	}
	/* RFC 8866 order: m= i= c= b= k= a=; our c= goes after i=. */
	if (c->c_pending && type != 'i') {
		put_c(c, false);
		c->c_pending = false;
	}
	switch (type) {
	case 'v':
	case 't':
		put_line(c, line);	/* grammar-checked: digits only */
		return 0;
	case 'o':
		put_fmt(c, "o=%s %" PRIu64 " %" PRIu64 " IN %s %s\r\n",
		    c->user, c->rw->sess_id, c->rw->sess_version, c->ipver,
		    c->addr);
		return 0;
	case 's':
		if (leaks(c, v))
			wbuf_str(&c->w, "s=-\r\n");
		else
			put_line(c, line);
		return 0;
	case 'c':
		cn = c->m != NULL ? &c->m->conn : &c->in->conn;
		put_c(c, cn->unspec);
		return 0;
	case 'a':
		return rw_attr(c, line, v);
	case 'b': case 'i': case 'u': case 'e': case 'p': case 'r': case 'z':
		put_scrubbed(c, line);
		return 0;
	default:
		/* k= (obsolete, a key) and unknown types: nothing to relay. */
		return 0;
	}
}

/* ---------------------------------------------------------------- */
/* Arguments                                                         */

static int
rw_setup_addr(struct rw_ctx *c, const char *addr)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (addr == NULL || strnlen(addr, INET6_ADDRSTRLEN) >= INET6_ADDRSTRLEN)
		return -EINVAL;
	if (inet_pton(AF_INET, addr, &a4) == 1) {
		uint32_t h = ntohl(a4.s_addr);

		/* ours must be a unicast address someone can send to */
		if (h == 0 || (h >> 28) == 0xe || h == 0xffffffffu)
			return -EINVAL;
		c->ipver = "IP4";
		c->unspec = "0.0.0.0";
		if (inet_ntop(AF_INET, &a4, c->addr, sizeof(c->addr)) == NULL)
			return -EINVAL;
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &a6) == 1) {
		if (IN6_IS_ADDR_UNSPECIFIED(&a6) || IN6_IS_ADDR_MULTICAST(&a6))
			return -EINVAL;
		c->ipver = "IP6";
		c->unspec = "::";
		if (inet_ntop(AF_INET6, &a6, c->addr, sizeof(c->addr)) == NULL)
			return -EINVAL;
		return 0;
	}
	return -EINVAL;
}

/* NUL-terminated, 1..max bytes, each in [lo, 0x7e]. */
static int
str_ok(const char *s, size_t max, uint8_t lo)
{
	size_t n;

	if (s == NULL || (n = strnlen(s, max + 1)) == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((uint8_t)s[i] < lo || (uint8_t)s[i] > 0x7e)
			return 0;
	return 1;
}

static int
rw_check_media(const struct sdp_media *m, const struct sdp_rewrite_media *rm)
{
	const char *proto;
	bool dtls, savp;

	if (rm->proto >= SDP_RW_PROTO__MAX)
		return -EINVAL;
	if (rm->crypto != NULL && !str_ok(rm->crypto, SDP_RW_MAX_CRYPTO, 0x20))
		return -EINVAL;
	if (!rm->keep)
		return 0;	/* port 0: the rest is moot */
	if (rm->port == 0 || m->nfmts == 0)
		return -EINVAL;
	if (rm->rtcp_port == 0 && rm->port == UINT16_MAX)
		return -EINVAL;
	proto = proto_out(m, rm);
	if (rm->proto != SDP_RW_PROTO_KEEP && proto == NULL)
		return -EINVAL;		/* RTP/SRTP asked of udptl, MSRP... */
	dtls = m->proto_id == SDP_PROTO_UDP_TLS_RTP_SAVP ||
	    m->proto_id == SDP_PROTO_UDP_TLS_RTP_SAVPF;
	if (proto == NULL && dtls)
		return -EINVAL;		/* we drop its fingerprint and setup */
	savp = proto != NULL ? rm->proto == SDP_RW_PROTO_SRTP :
	    m->proto_id == SDP_PROTO_RTP_SAVP ||
	    m->proto_id == SDP_PROTO_RTP_SAVPF;
	if (savp && rm->crypto == NULL)
		return -EINVAL;		/* SDES without a key */
	return 0;
}

static int
rw_setup(struct rw_ctx *c, const struct sdp *in, const struct sdp_rewrite *rw)
{
	struct slice oa = in->origin.addr;
	int r;

	if (in->buf == NULL || in->nmedia > SDP_MAX_MEDIA ||
	    rw->nmedia != in->nmedia)
		return -EINVAL;
	if ((r = rw_setup_addr(c, rw->addr)) < 0)
		return r;
	c->user = rw->origin_user != NULL ? rw->origin_user : "-";
	if (!str_ok(c->user, SDP_RW_MAX_USER, 0x21))
		return -EINVAL;
	for (size_t i = 0; i < in->nmedia; i++)
		if ((r = rw_check_media(&in->media[i], &rw->media[i])) < 0)
			return r;
	/*
	 * An o= host name ("pbx1.corp.example") is topology too.  IP
	 * literals are the scrubber's; names without a letter ("-", "1")
	 * would only drop lines for nothing.
	 */
	if (oa.len <= MAX_HOST && !text_has_ip(oa))
		for (size_t i = 0; i < oa.len; i++)
			if (ctype_is(oa.p[i], CT_ALPHA)) {
				c->host = oa;
				break;
			}
	return 0;
}

ssize_t
sdp_rewrite(const struct sdp *in, const struct sdp_rewrite *rw, uint8_t *out,
    size_t cap)
{
	struct rw_ctx c;
	size_t pos = 0, sec = 0;
	int r;

	if (in == NULL || rw == NULL || out == NULL)
		return -EINVAL;
	memset(&c, 0, sizeof(c));
	c.in = in;
	c.rw = rw;
	if ((r = rw_setup(&c, in, rw)) < 0)
		return r;
	wbuf_init(&c.w, out, cap);

	/* The same framing as sdp_parse(): LF or CRLF, blank lines last. */
	while (pos < in->len) {
		const uint8_t *lp = in->buf + pos, *nl;
		size_t llen;

		nl = memchr(lp, '\n', in->len - pos);
		llen = nl != NULL ? (size_t)(nl - lp) : in->len - pos;
		pos += nl != NULL ? llen + 1 : llen;
		if (llen > 0 && lp[llen - 1] == '\r')
			llen--;
		if (llen < 2)
			continue;	/* blank: trailing padding only */
		if ((r = rw_line(&c, slice_make(lp, llen), &sec)) < 0)
			return r;
	}
	if (c.m != NULL && (r = rw_section_end(&c)) < 0)
		return r;
	if (sec != in->nmedia)
		return -EINVAL;
	if (c.w.overflow)
		return -ENOSPC;
	return (ssize_t)c.w.n;
}

/* ---------------------------------------------------------------- */
/* Where to send                                                     */

int
sdp_media_remote(const struct sdp *s, size_t i, struct sdp_media_remote *ret)
{
	struct sdp_media_remote r;
	const struct sdp_media *m;
	const struct sdp_conn *cn;

	if (s == NULL || ret == NULL || i >= s->nmedia)
		return -EINVAL;
	m = &s->media[i];
	if (m->port == 0 || (cn = sdp_media_conn(s, i)) == NULL)
		return -ENOENT;
	memset(&r, 0, sizeof(r));
	if (sw_addr_parse_slice(cn->addr, m->port, &r.rtp) < 0)
		return -EINVAL;
	r.rtcp_nomux = r.rtp;
	if (m->has_rtcp) {
		/* RFC 3605: the port, and an address when one is given */
		if (m->rtcp_conn.af != SDP_AF_NONE &&
		    sw_addr_parse_slice(m->rtcp_conn.addr, m->rtcp_port,
		    &r.rtcp_nomux) < 0)
			return -EINVAL;
		sw_addr_set_port(&r.rtcp_nomux, m->rtcp_port);
	} else
		sw_addr_set_port(&r.rtcp_nomux, m->port < UINT16_MAX ?
		    (uint16_t)(m->port + 1) : 0);
	r.rtcp = m->rtcp_mux ? r.rtp : r.rtcp_nomux;
	r.rtcp_mux = m->rtcp_mux;
	r.hold = cn->unspec;
	r.multicast = cn->multicast;
	*ret = r;
	return 0;
}
