/*
 * libFuzzer target for sdp_rewrite() and sdp_media_remote().  Every body
 * that sdp_parse() accepts (production limits) is rewritten with
 * settings drawn from a hash of the input, so a corpus file always
 * replays the same way.  Beyond "no crash" it asserts the contract:
 *  - nothing is written at or past cap (canary), and a cap one byte
 *    short, or any smaller, gives -ENOSPC;
 *  - the output uses CRLF only and reparses (with the SDP_MAX_*
 *    ceilings: our lines may be a little longer than the input's);
 *  - same m= count, media and formats; our ports, o= and c= (or the
 *    unspecified address for a hold); at most our one a=crypto; no
 *    ICE or DTLS attribute; a=rtcp without an address;
 *  - no address of the input (o= literal, c=, a=rtcp) survives;
 *  - sdp_media_remote() converts every address the parser accepted.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media/sdp_rewrite.h"

#include "fuzz_check.h"

#define OUR4		"198.51.100.200"
#define OUR6		"2001:db8:ffff::200"
#define OUR_CRYPTO	"7 AES_CM_128_HMAC_SHA1_80 " \
			"inline:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVpbXF1e"
#define CANARY		64

/* About 90 KiB each: kept off the stack. */
static struct sdp in, re;
static uint8_t outbuf[2 * SDP_MAX_BODY + CANARY];
static uint8_t copy[2 * SDP_MAX_BODY];

static const struct sdp_limits ceilings = {
	.max_body	= SDP_MAX_BODY,
	.max_lines	= SDP_MAX_LINES,
	.max_line	= SDP_MAX_LINE,
	.max_media	= SDP_MAX_MEDIA,
	.max_attrs	= SDP_MAX_ATTRS,
	.max_fmts	= SDP_MAX_FMTS,
	.max_crypto	= SDP_MAX_CRYPTO,
	.max_bw		= SDP_MAX_BW,
};

static uint64_t
next(uint64_t *s)		/* splitmix64 */
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int
rtp_family(uint8_t id)
{
	return id == SDP_PROTO_RTP_AVP || id == SDP_PROTO_RTP_AVPF ||
	    id == SDP_PROTO_RTP_SAVP || id == SDP_PROTO_RTP_SAVPF ||
	    id == SDP_PROTO_UDP_TLS_RTP_SAVP ||
	    id == SDP_PROTO_UDP_TLS_RTP_SAVPF;
}

/* Settings a media session could ask for; always valid ones. */
static void
settings(const uint8_t *data, size_t size, struct sdp_rewrite *rw)
{
	uint64_t s = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < size; i++)
		s = (s ^ data[i]) * 0x100000001b3ull;
	memset(rw, 0, sizeof(*rw));
	rw->addr = next(&s) & 1 ? OUR6 : OUR4;
	rw->origin_user = "sbc";
	rw->sess_id = next(&s);
	rw->sess_version = next(&s);
	rw->nmedia = in.nmedia;
	for (size_t i = 0; i < in.nmedia; i++) {
		const struct sdp_media *m = &in.media[i];
		struct sdp_rewrite_media *rm = &rw->media[i];
		uint64_t r = next(&s);
		int dtls = m->proto_id == SDP_PROTO_UDP_TLS_RTP_SAVP ||
		    m->proto_id == SDP_PROTO_UDP_TLS_RTP_SAVPF;
		int savp = m->proto_id == SDP_PROTO_RTP_SAVP ||
		    m->proto_id == SDP_PROTO_RTP_SAVPF;

		rm->keep = m->nfmts > 0 && (r & 3) != 0;
		rm->port = (uint16_t)(1 + (r >> 8) % 65535);
		switch ((r >> 32) & 3) {
		case 0: rm->rtcp_port = 0; break;
		case 1: rm->rtcp_port = rm->port; break;
		default: rm->rtcp_port = (uint16_t)(1 + (r >> 40) % 65535);
		}
		if (rm->port == UINT16_MAX && rm->rtcp_port == 0)
			rm->rtcp_port = rm->port;
		rm->proto = SDP_RW_PROTO_KEEP;
		if (rtp_family(m->proto_id) && (dtls || (r & 4) != 0))
			rm->proto = (r & 8) != 0 ? SDP_RW_PROTO_SRTP :
			    SDP_RW_PROTO_RTP;
		if (rm->proto == SDP_RW_PROTO_SRTP ||
		    (rm->proto == SDP_RW_PROTO_KEEP && savp) || (r & 16) != 0)
			rm->crypto = OUR_CRYPTO;
	}
}

static int
contains_ci(const uint8_t *h, size_t hn, struct slice needle)
{
	if (needle.len == 0 || needle.len > hn)
		return 0;
	for (size_t i = 0; i + needle.len <= hn; i++)
		if (slice_eq_ci(slice_make(h + i, needle.len), needle))
			return 1;
	return 0;
}

/*
 * What the rewriter promises to remove everywhere: IP literals, and o=
 * host names with a dot and a letter (single labels only as words).
 */
static int
must_vanish(struct slice a)
{
	union sw_addr sa;
	int alpha = 0;

	if (a.len == 0 || slice_eq_lit_ci(a, "0.0.0.0") ||
	    slice_eq_lit_ci(a, "::"))
		return 0;
	if (sw_addr_parse_slice(a, 0, &sa) == 0)
		return 1;
	for (size_t i = 0; i < a.len; i++)
		alpha |= ctype_is(a.p[i], CT_ALPHA);
	return alpha && slice_find(a, '.') >= 0 && a.len <= 253;
}

static void
check_no_leak(struct slice a, const char *ours, size_t n)
{
	size_t ol = strlen(ours);

	if (!must_vanish(a))
		return;
	memcpy(copy, outbuf, n);
	for (size_t i = 0; i + ol <= n; i++)
		if (memcmp(copy + i, ours, ol) == 0)
			memset(copy + i, '#', ol);
	if (contains_ci(copy, n, a)) {
		fprintf(stderr, "leaked %.*s\n", SLICE_ARG(a));
		CHECK(0);
	}
}

static void
check_ours(const struct sdp_conn *c, const char *ours, int hold)
{
	CHECK(c != NULL);
	CHECK(c->af == (strchr(ours, ':') != NULL ? SDP_AF_IP6 : SDP_AF_IP4));
	if (hold)
		CHECK(c->unspec);
	else
		CHECK(slice_eq(c->addr, slice_cstr(ours)));
}

static void
check_attrs(const struct sdp_attrs *a)
{
	static const char *const gone[] = {
		"candidate", "remote-candidates", "end-of-candidates",
		"fingerprint", "setup", "tls-id", "key-mgmt", "bundle-only",
	};

	for (size_t i = 0; i < a->n; i++) {
		for (size_t k = 0; k < sizeof(gone) / sizeof(gone[0]); k++)
			CHECK(!slice_eq_cstr_ci(a->v[i].name, gone[k]));
		CHECK(!slice_starts_ci(a->v[i].name, SLICE_LIT("ice-")));
	}
}

static void
check_output(const struct sdp_rewrite *rw, size_t n)
{
	struct sdp_err err = { NULL, 0 };

	CHECK(n >= 2 && outbuf[n - 2] == '\r' && outbuf[n - 1] == '\n');
	for (size_t i = 0; i < n; i++) {
		if (outbuf[i] == '\n')
			CHECK(i > 0 && outbuf[i - 1] == '\r');
		if (outbuf[i] == '\r')
			CHECK(i + 1 < n && outbuf[i + 1] == '\n');
	}
	if (sdp_parse(outbuf, n, &ceilings, &re, &err) != 0) {
		fprintf(stderr, "reparse: %s at %zu\n%.*s\n", err.reason,
		    err.off, (int)n, (const char *)outbuf);
		CHECK(0);
	}
	CHECK(re.nmedia == in.nmedia);
	CHECK(slice_eq(re.origin.addr, slice_cstr(rw->addr)));
	CHECK(slice_eq(re.origin.username, slice_cstr(rw->origin_user)));
	CHECK(re.origin.sess_version == rw->sess_version);
	if (in.conn.af != SDP_AF_NONE)
		check_ours(&re.conn, rw->addr, in.conn.unspec);
	CHECK(!slice_set(re.ice_ufrag) && !slice_set(re.ice_pwd) &&
	    !slice_set(re.fingerprint) && !slice_set(re.setup) &&
	    !re.ice_lite);
	check_attrs(&re.attrs);
	for (size_t i = 0; i < in.nmedia; i++) {
		const struct sdp_media *im = &in.media[i], *om = &re.media[i];
		const struct sdp_rewrite_media *rm = &rw->media[i];
		const struct sdp_conn *ic = sdp_media_conn(&in, i);

		CHECK(slice_eq(im->media, om->media));
		CHECK(im->nfmts == om->nfmts && om->nports == 1);
		for (size_t k = 0; k < im->nfmts; k++)
			CHECK(slice_eq(im->fmts[k].fmt, om->fmts[k].fmt));
		CHECK(om->ncandidates == 0 && !slice_set(om->ice_ufrag) &&
		    !slice_set(om->ice_pwd) && !slice_set(om->fingerprint) &&
		    !slice_set(om->setup));
		check_attrs(&om->attrs);
		CHECK(om->rtcp_mux == im->rtcp_mux);
		CHECK(sdp_media_dir(&re, i) == sdp_media_dir(&in, i));
		if (om->conn.af != SDP_AF_NONE || in.conn.af != SDP_AF_NONE)
			check_ours(sdp_media_conn(&re, i), rw->addr,
			    ic != NULL && ic->unspec);
		if (!rm->keep) {
			CHECK(om->port == 0 && om->ncrypto == 0 &&
			    !om->has_rtcp);
			continue;
		}
		CHECK(om->port == rm->port);
		CHECK(sdp_media_conn(&re, i) != NULL);
		CHECK(om->ncrypto == (rm->crypto != NULL));
		if (rm->crypto != NULL)
			CHECK(om->crypto[0].tag == 7);
		if (om->has_rtcp) {
			CHECK(om->rtcp_conn.af == SDP_AF_NONE);
			CHECK(om->rtcp_port == (rm->rtcp_port != 0 ?
			    rm->rtcp_port : rm->port + 1));
		} else
			CHECK(rm->rtcp_port == 0 ||
			    rm->rtcp_port == rm->port + 1);
		CHECK(!im->has_rtcp || om->has_rtcp);
		if (rm->proto == SDP_RW_PROTO_KEEP)
			CHECK(slice_eq(im->proto, om->proto));
		else if (rm->proto == SDP_RW_PROTO_SRTP)
			CHECK(om->proto_id == SDP_PROTO_RTP_SAVP ||
			    om->proto_id == SDP_PROTO_RTP_SAVPF);
		else
			CHECK(om->proto_id == SDP_PROTO_RTP_AVP ||
			    om->proto_id == SDP_PROTO_RTP_AVPF);
	}

	check_no_leak(in.origin.addr, rw->addr, n);
	check_no_leak(in.conn.addr, rw->addr, n);
	for (size_t i = 0; i < in.nmedia; i++) {
		check_no_leak(in.media[i].conn.addr, rw->addr, n);
		check_no_leak(in.media[i].rtcp_conn.addr, rw->addr, n);
	}
}

/* sdp_media_remote agrees with what the parser accepted. */
static void
check_remote(void)
{
	struct sdp_media_remote r;

	for (size_t i = 0; i < in.nmedia; i++) {
		const struct sdp_media *m = &in.media[i];
		const struct sdp_conn *c = sdp_media_conn(&in, i);
		int rc = sdp_media_remote(&in, i, &r);

		if (m->port == 0 || c == NULL) {
			CHECK(rc == -ENOENT);
			continue;
		}
		CHECK(rc == 0);
		CHECK(sw_addr_port(&r.rtp) == m->port);
		CHECK(sw_addr_family(&r.rtp) ==
		    (c->af == SDP_AF_IP6 ? AF_INET6 : AF_INET));
		CHECK(r.hold == c->unspec && r.multicast == c->multicast);
		CHECK(r.rtcp_mux == m->rtcp_mux);
		if (m->has_rtcp)
			CHECK(sw_addr_port(&r.rtcp_nomux) == m->rtcp_port);
		if (m->rtcp_mux)
			CHECK(sw_addr_eq(&r.rtcp, &r.rtp));
		else
			CHECK(sw_addr_eq(&r.rtcp, &r.rtcp_nomux));
	}
	CHECK(sdp_media_remote(&in, in.nmedia, &r) == -EINVAL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sdp_rewrite rw;
	size_t n, small;
	ssize_t r;

	if (size > SDP_MAX_BODY)
		return 0;
	if (sdp_parse(data, size, &sdp_limits_default, &in, NULL) != 0)
		return 0;
	check_remote();
	settings(data, size, &rw);

	memset(outbuf, 0xa5, sizeof(outbuf));
	r = sdp_rewrite(&in, &rw, outbuf, sizeof(outbuf) - CANARY);
	for (size_t i = sizeof(outbuf) - CANARY; i < sizeof(outbuf); i++)
		CHECK(outbuf[i] == 0xa5);
	if (r < 0) {
		/* an m= token that looks like an address; 64 a= lines + ours */
		CHECK(r == -EBADMSG || r == -EMSGSIZE);
		return 0;
	}
	n = (size_t)r;
	CHECK(n <= sizeof(outbuf) - CANARY);
	check_output(&rw, n);

	/* Too small, by one byte or by a lot: -ENOSPC, nothing past cap. */
	small = (size_t)(rw.sess_id % n);
	for (int k = 0; k < 2; k++) {
		size_t cap = k == 0 ? n - 1 : small;

		memset(outbuf, 0xa5, cap + CANARY);
		CHECK(sdp_rewrite(&in, &rw, outbuf, cap) == -ENOSPC);
		for (size_t i = cap; i < cap + CANARY; i++)
			CHECK(outbuf[i] == 0xa5);
	}
	return 0;
}
