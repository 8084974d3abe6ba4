/*
 * Unit tests for src/media/sdp_rewrite.c: exact output for a few
 * phone-style bodies, invariants for many (every real-phone body here,
 * every parser corpus file, every parseable prefix of a few), argument
 * errors, the address scrubber, and sdp_media_remote().
 *
 * The invariants: the output reparses with the production limits, has
 * as many m= lines with the same formats, carries our o=, c=, ports,
 * rtcp and crypto and nothing of ICE or DTLS, uses CRLF only, and no
 * address of the input (o=, c=, a=rtcp, candidates) is left in it.
 * Output buffers are heap blocks of exactly cap bytes, so ASan sees a
 * write past cap; a canary checks the same without ASan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <errno.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "media/sdp_rewrite.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#define OUR4	"198.51.100.200"
#define OUR6	"2001:db8:ffff::200"
#define KEY30	"WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"
#define KEY30B	"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVpbXF1e"
#define KEY28	"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVpbXA=="
#define KEY46	"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVpbXF1eX2BhYmNkZWZnaGlqa2xtbg=="
#define OUR_CRYPTO	"1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30B

/* Large; shared instances. */
static struct sdp S;		/* the input */
static struct sdp O;		/* the output, reparsed */
static uint8_t *body;		/* heap copy of the input, exactly its size */
static size_t body_len;
static uint8_t *out;		/* heap output buffer, exactly out_cap */
static size_t out_cap;

static int
teardown(void **state)
{
	(void)state;
	free(body);
	free(out);
	body = out = NULL;
	return 0;
}

/* The body as written with every "\n" made "\r\n" when crlf. */
static void
set_body(const char *s, int crlf)
{
	size_t n = 0, o = 0;

	for (const char *q = s; *q != '\0'; q++)
		n += *q == '\n' && crlf ? 2 : 1;
	free(body);
	body = malloc(n > 0 ? n : 1);
	assert_non_null(body);
	for (const char *q = s; *q != '\0'; q++) {
		if (*q == '\n' && crlf)
			body[o++] = '\r';
		body[o++] = (uint8_t)*q;
	}
	body_len = n;
}

static void
set_body_raw(const void *p, size_t n)
{
	free(body);
	body = malloc(n > 0 ? n : 1);
	assert_non_null(body);
	if (n > 0)
		memcpy(body, p, n);
	body_len = n;
}

static void
parse_body(void)
{
	struct sdp_err e = { NULL, 0 };
	int r = sdp_parse(body, body_len, &sdp_limits_default, &S, &e);

	if (r != 0)
		fail_msg("input does not parse: %s at %zu", e.reason, e.off);
}

static uint8_t *
out_alloc(size_t cap)
{
	free(out);
	out = malloc(cap > 0 ? cap : 1);
	assert_non_null(out);
	out_cap = cap;
	return out;
}

/* ---------------------------------------------------------------- */
/* Rewrite settings                                                  */

enum mode {
	MODE_RTP = 0,		/* plain RTP on our side */
	MODE_SRTP,		/* SDES on our side */
	MODE_MUX,		/* RTP, rtcp_port = port */
	MODE_ODD_RTCP,		/* SRTP, rtcp_port far from port + 1 */
	MODE_REJECT_ALL,
	MODE__MAX
};

static int
proto_rtp_family(uint8_t id)
{
	switch (id) {
	case SDP_PROTO_RTP_AVP: case SDP_PROTO_RTP_AVPF:
	case SDP_PROTO_RTP_SAVP: case SDP_PROTO_RTP_SAVPF:
	case SDP_PROTO_UDP_TLS_RTP_SAVP: case SDP_PROTO_UDP_TLS_RTP_SAVPF:
		return 1;
	default:
		return 0;
	}
}

/* What a media session would ask for this input. */
static void
rw_for(const struct sdp *in, struct sdp_rewrite *rw, int v6, enum mode mode)
{
	memset(rw, 0, sizeof(*rw));
	rw->addr = v6 ? OUR6 : OUR4;
	rw->origin_user = "sipwall";
	rw->sess_id = 4242;
	rw->sess_version = 7;
	rw->nmedia = in->nmedia;
	for (size_t i = 0; i < in->nmedia; i++) {
		const struct sdp_media *m = &in->media[i];
		struct sdp_rewrite_media *rm = &rw->media[i];

		rm->port = (uint16_t)(40000 + 2 * i);
		if (mode == MODE_REJECT_ALL || m->nfmts == 0)
			continue;
		if (proto_rtp_family(m->proto_id)) {
			rm->keep = true;
			rm->proto = mode == MODE_SRTP || mode == MODE_ODD_RTCP ?
			    SDP_RW_PROTO_SRTP : SDP_RW_PROTO_RTP;
			if (rm->proto == SDP_RW_PROTO_SRTP)
				rm->crypto = OUR_CRYPTO;
			if (mode == MODE_MUX)
				rm->rtcp_port = rm->port;
			if (mode == MODE_ODD_RTCP)
				rm->rtcp_port = (uint16_t)(50001 + i);
		} else if (m->proto_id == SDP_PROTO_UDPTL)
			rm->keep = true;	/* T.38 relayed as is */
		/* MSRP, data channels, unknown protos: rejected */
	}
}

/* ---------------------------------------------------------------- */
/* Invariants                                                        */

static int
slice_is(struct slice s, const char *want)
{
	return s.len == strlen(want) && memcmp(s.p, want, s.len) == 0;
}

/* Case-insensitive substring search in a NUL-free buffer. */
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

static int
is_unspec(struct slice a)
{
	return slice_is(a, "0.0.0.0") || slice_is(a, "::");
}

/* Every address the input names: o= (if a literal), c=, a=rtcp, ICE. */
static size_t
input_addrs(const struct sdp *in, struct slice *v, size_t cap)
{
	size_t n = 0;

#define ADD(s) do {							\
	if (n < cap && (s).len > 0 && !is_unspec(s))			\
		v[n++] = (s);						\
} while (0)
	if (slice_find(in->origin.addr, '.') >= 0 ||
	    slice_find(in->origin.addr, ':') >= 0)
		ADD(in->origin.addr);
	if (in->conn.af != SDP_AF_NONE)
		ADD(in->conn.addr);
	for (size_t i = 0; i < in->nmedia; i++) {
		const struct sdp_media *m = &in->media[i];
		size_t cur = 0;
		const struct sdp_attr *a;

		if (m->conn.af != SDP_AF_NONE)
			ADD(m->conn.addr);
		if (m->rtcp_conn.af != SDP_AF_NONE)
			ADD(m->rtcp_conn.addr);
		/* candidate: fnd comp transport prio ADDR port typ t [raddr A] */
		while ((a = sdp_attr_next(&m->attrs, "candidate", &cur)) !=
		    NULL) {
			struct slice f = a->value, tok;
			int k = 0, raddr = 0;

			while (f.len > 0) {
				ssize_t sp = slice_find(f, ' ');
				size_t tl = sp < 0 ? f.len : (size_t)sp;

				tok = slice_sub(f, 0, tl);
				f = slice_sub(f, tl + (sp >= 0), f.len);
				if (tok.len == 0)
					continue;
				/* literals only: a cut body ends in "19" */
				if ((++k == 5 || raddr) &&
				    (slice_find(tok, '.') >= 0 ||
				    slice_find(tok, ':') >= 0))
					ADD(tok);
				raddr = slice_is(tok, "raddr");
			}
		}
	}
#undef ADD
	return n;
}

static void
check_crlf(const uint8_t *p, size_t n)
{
	assert_true(n >= 2);
	assert_memory_equal(p + n - 2, "\r\n", 2);
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n')
			assert_true(i > 0 && p[i - 1] == '\r');
		if (p[i] == '\r')
			assert_true(i + 1 < n && p[i + 1] == '\n');
		assert_true(p[i] != '\0');
		/* no blank line */
		if (p[i] == '\n' && i + 2 < n)
			assert_true(p[i + 1] != '\r');
	}
}

/* The input address must not appear once our own address is masked. */
static void
check_no_leak(const struct sdp *in, const char *ours, const uint8_t *p,
    size_t n)
{
	struct slice addrs[256];
	size_t na = input_addrs(in, addrs, nitems(addrs));
	size_t ol = strlen(ours);
	uint8_t *m = malloc(n);

	assert_non_null(m);
	memcpy(m, p, n);
	for (size_t i = 0; i + ol <= n; i++)
		if (memcmp(m + i, ours, ol) == 0)
			memset(m + i, '#', ol);
	for (size_t k = 0; k < na; k++)
		if (contains_ci(m, n, addrs[k])) {
			print_error("input address %.*s leaked into:\n%.*s\n",
			    (int)addrs[k].len, (const char *)addrs[k].p,
			    (int)n, (const char *)p);
			free(m);
			fail();
		}
	free(m);
}

static void
check_conn_ours(const struct sdp_conn *c, int v6, int in_unspec)
{
	assert_int_equal(c->af, v6 ? SDP_AF_IP6 : SDP_AF_IP4);
	if (in_unspec)
		assert_true(c->unspec);
	else
		assert_true(slice_is(c->addr, v6 ? OUR6 : OUR4));
}

/* Names we drop must not reach the other leg at any level. */
static void
check_dropped_attrs(const struct sdp_attrs *a)
{
	static const char *const gone[] = {
		"candidate", "remote-candidates", "end-of-candidates",
		"fingerprint", "setup", "tls-id", "key-mgmt", "bundle-only",
	};

	for (size_t i = 0; i < a->n; i++) {
		for (size_t k = 0; k < nitems(gone); k++)
			assert_false(slice_eq_cstr_ci(a->v[i].name, gone[k]));
		assert_false(slice_starts_ci(a->v[i].name,
		    SLICE_LIT("ice-")));
	}
}

/*
 * Rewrite S (parsed from body) with rw into an exact-size buffer, check
 * every invariant and the -ENOSPC contract.  Returns the output length.
 */
static size_t
rewrite_checked(const struct sdp_rewrite *rw, int v6)
{
	struct sdp_err e = { NULL, 0 };
	size_t big = 2 * body_len + 4096, n;
	ssize_t r;
	uint8_t *canary;

	out_alloc(big);
	r = sdp_rewrite(&S, rw, out, big);
	if (r < 0)
		fail_msg("sdp_rewrite: %zd", r);
	n = (size_t)r;
	assert_true(n <= big);
	check_crlf(out, n);
	check_no_leak(&S, rw->addr, out, n);

	/* The exact size works; one byte less never writes past cap. */
	{
		uint8_t *copy = malloc(n);

		assert_non_null(copy);
		memcpy(copy, out, n);
		out_alloc(n);
		assert_int_equal(sdp_rewrite(&S, rw, out, n), (ssize_t)n);
		assert_memory_equal(out, copy, n);
		for (size_t cap = 0; cap < n; cap += cap < 64 ? 1 : 97) {
			out_alloc(cap);
			assert_int_equal(sdp_rewrite(&S, rw, out, cap),
			    -ENOSPC);
		}
		out_alloc(n - 1);
		assert_int_equal(sdp_rewrite(&S, rw, out, n - 1), -ENOSPC);
		canary = malloc(n + 64);
		assert_non_null(canary);
		memset(canary, 0xa5, n + 64);
		assert_int_equal(sdp_rewrite(&S, rw, canary, n / 2), -ENOSPC);
		for (size_t i = n / 2; i < n + 64; i++)
			assert_int_equal(canary[i], 0xa5);
		free(canary);
		out_alloc(n);
		memcpy(out, copy, n);
		free(copy);
	}

	if (sdp_parse(out, n, &sdp_limits_default, &O, &e) != 0)
		fail_msg("output does not reparse: %s at %zu:\n%.*s", e.reason,
		    e.off, (int)n, (const char *)out);
	assert_true(slice_is(O.origin.username, rw->origin_user));
	assert_int_equal(O.origin.sess_version, rw->sess_version);
	assert_true(slice_is(O.origin.addr, rw->addr));
	assert_int_equal(O.nmedia, S.nmedia);
	if (S.conn.af != SDP_AF_NONE)
		check_conn_ours(&O.conn, v6, S.conn.unspec);
	else
		assert_int_equal(O.conn.af, SDP_AF_NONE);
	assert_false(slice_set(O.ice_ufrag) || slice_set(O.fingerprint) ||
	    slice_set(O.setup) || O.ice_lite);
	check_dropped_attrs(&O.attrs);
	for (size_t i = 0; i < S.nmedia; i++) {
		const struct sdp_media *im = &S.media[i], *om = &O.media[i];
		const struct sdp_rewrite_media *rm = &rw->media[i];
		const struct sdp_conn *ic = sdp_media_conn(&S, i);

		assert_true(slice_eq(im->media, om->media));
		assert_int_equal(om->nports, 1);
		assert_int_equal(im->nfmts, om->nfmts);
		for (size_t k = 0; k < im->nfmts; k++)
			assert_true(slice_eq(im->fmts[k].fmt, om->fmts[k].fmt));
		assert_int_equal(om->ncandidates, 0);
		assert_false(slice_set(om->ice_ufrag) ||
		    slice_set(om->ice_pwd) || slice_set(om->fingerprint) ||
		    slice_set(om->setup));
		check_dropped_attrs(&om->attrs);
		assert_int_equal(om->rtcp_mux, im->rtcp_mux);
		if (!rm->keep) {
			assert_int_equal(om->port, 0);
			assert_int_equal(om->ncrypto, 0);
			assert_false(om->has_rtcp);
			continue;
		}
		assert_int_equal(om->port, rm->port);
		check_conn_ours(sdp_media_conn(&O, i), v6,
		    ic != NULL && ic->unspec);
		if (om->conn.af != SDP_AF_NONE && im->conn.af == SDP_AF_NONE)
			assert_int_equal(S.conn.af, SDP_AF_NONE); /* added */
		if (rm->crypto != NULL) {
			char want[SDP_RW_MAX_CRYPTO + 16];

			snprintf(want, sizeof(want), "\r\na=crypto:%s\r\n",
			    rm->crypto);
			assert_int_equal(om->ncrypto, 1);
			assert_true(contains_ci(out, n, slice_cstr(want)));
		} else
			assert_int_equal(om->ncrypto, 0);
		if (rm->proto == SDP_RW_PROTO_SRTP)
			assert_true(om->proto_id == SDP_PROTO_RTP_SAVP ||
			    om->proto_id == SDP_PROTO_RTP_SAVPF);
		if (rm->proto == SDP_RW_PROTO_RTP)
			assert_true(om->proto_id == SDP_PROTO_RTP_AVP ||
			    om->proto_id == SDP_PROTO_RTP_AVPF);
		if (rm->proto == SDP_RW_PROTO_KEEP)
			assert_true(slice_eq(im->proto, om->proto));
		if (om->has_rtcp) {
			assert_int_equal(om->rtcp_conn.af, SDP_AF_NONE);
			assert_int_equal(om->rtcp_port, rm->rtcp_port != 0 ?
			    rm->rtcp_port : rm->port + 1);
		} else
			assert_true(rm->rtcp_port == 0 ||
			    rm->rtcp_port == rm->port + 1);
		if (im->has_rtcp)
			assert_true(om->has_rtcp);
		assert_int_equal(sdp_media_dir(&O, i), sdp_media_dir(&S, i));
	}
	return n;
}

/* Every mode and both families on the current body. */
static void
check_all_modes(void)
{
	struct sdp_rewrite rw;

	parse_body();
	for (int v6 = 0; v6 <= 1; v6++)
		for (int mode = 0; mode < MODE__MAX; mode++) {
			rw_for(&S, &rw, v6, (enum mode)mode);
			(void)rewrite_checked(&rw, v6);
		}
}

/* ---------------------------------------------------------------- */
/* Real-phone bodies                                                 */

static const char baresip_offer[] =
    "v=0\n"
    "o=- 1588364520 2116402446 IN IP4 192.168.0.2\n"
    "s=-\n"
    "c=IN IP4 192.168.0.2\n"
    "t=0 0\n"
    "m=audio 10218 RTP/AVP 96 9 0 101\n"
    "b=AS:64\n"
    "a=rtpmap:96 opus/48000/2\n"
    "a=fmtp:96 stereo=1;sprop-stereo=1\n"
    "a=rtpmap:9 G722/8000\n"
    "a=rtpmap:0 PCMU/8000\n"
    "a=rtpmap:101 telephone-event/8000\n"
    "a=fmtp:101 0-15\n"
    "a=rtcp-mux\n"
    "a=rtcp:10218\n"
    "a=sendrecv\n"
    "a=label:1\n"
    "a=rtcp-rsize\n"
    "a=ssrc:3236428473 cname:alice@192.168.0.2\n";

static const char baresip_srtp_offer[] =
    "v=0\n"
    "o=- 1207271950 3897442375 IN IP6 2001:db8:1:2::17\n"
    "s=-\n"
    "c=IN IP6 2001:db8:1:2::17\n"
    "t=0 0\n"
    "m=audio 10412 RTP/SAVP 0 8 101\n"
    "a=rtpmap:0 PCMU/8000\n"
    "a=rtpmap:8 PCMA/8000\n"
    "a=rtpmap:101 telephone-event/8000\n"
    "a=fmtp:101 0-15\n"
    "a=sendrecv\n"
    "a=label:1\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "\n"
    "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:" KEY30B "\n"
    "a=crypto:3 AEAD_AES_128_GCM inline:" KEY28 "\n";

static const char linphone_offer[] =
    "v=0\n"
    "o=alice 3131 2557 IN IP4 192.168.1.23\n"
    "s=Talk\n"
    "c=IN IP4 192.168.1.23\n"
    "t=0 0\n"
    "a=ice-pwd:31ec21eb38b2ec6d36e8dc7b\n"
    "a=ice-ufrag:7a3e5c0a\n"
    "a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics\n"
    "a=record:off\n"
    "m=audio 7078 RTP/AVP 96 97 98 0 8 18 101 99 100\n"
    "a=rtpmap:96 opus/48000/2\n"
    "a=fmtp:96 useinbandfec=1\n"
    "a=rtpmap:97 speex/16000\n"
    "a=fmtp:97 vbr=on\n"
    "a=rtpmap:98 speex/8000\n"
    "a=fmtp:98 vbr=on\n"
    "a=fmtp:18 annexb=yes\n"
    "a=rtpmap:101 telephone-event/48000\n"
    "a=rtpmap:99 telephone-event/16000\n"
    "a=rtpmap:100 telephone-event/8000\n"
    "a=rtcp:7079\n"
    "a=candidate:1 1 UDP 2130706431 192.168.1.23 7078 typ host\n"
    "a=candidate:1 2 UDP 2130706430 192.168.1.23 7079 typ host\n"
    "a=candidate:2 1 UDP 1694498815 203.0.113.23 40586 typ srflx raddr 192.168.1.23 rport 7078\n"
    "a=candidate:2 2 UDP 1694498814 203.0.113.23 40587 typ srflx raddr 192.168.1.23 rport 7079\n"
    "a=rtcp-fb:* trr-int 1000\n"
    "a=rtcp-fb:* ccm tmmbr\n"
    "m=video 9078 RTP/AVPF 96 97\n"
    "a=rtpmap:96 VP8/90000\n"
    "a=rtpmap:97 H264/90000\n"
    "a=fmtp:97 profile-level-id=42801F\n"
    "a=rtcp:9079\n"
    "a=candidate:1 1 UDP 2130706431 192.168.1.23 9078 typ host\n"
    "a=candidate:2 1 UDP 1694498815 203.0.113.23 40588 typ srflx raddr 192.168.1.23 rport 9078\n"
    "a=rtcp-fb:* nack pli\n"
    "a=rtcp-fb:* ccm fir\n";

static const char zoiper_offer[] =
    "v=0\n"
    "o=Z 1608292844058 1 IN IP4 10.20.30.64\n"
    "s=Z\n"
    "c=IN IP4 10.20.30.64\n"
    "t=0 0\n"
    "m=audio 52686 RTP/AVP 106 9 98 101 0 8 3\n"
    "a=rtpmap:106 opus/48000/2\n"
    "a=fmtp:106 sprop-maxcapturerate=16000; minptime=20; useinbandfec=1\n"
    "a=rtpmap:98 telephone-event/48000\n"
    "a=fmtp:98 0-16\n"
    "a=rtpmap:101 telephone-event/8000\n"
    "a=fmtp:101 0-16\n"
    "a=sendrecv\n"
    "a=rtcp-mux\n";

static const char polycom_offer[] =
    "v=0\n"
    "o=- 1700000100 1700000100 IN IP4 10.1.2.31\n"
    "s=Polycom IP Phone\n"
    "c=IN IP4 10.1.2.31\n"
    "t=0 0\n"
    "a=sendrecv\n"
    "m=audio 2226 RTP/SAVP 9 102 0 8 18 127\n"
    "a=rtcp-xr:rcvr-rtt=all voip-metrics\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "|2^31\n"
    "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:" KEY30B "|2^31 UNENCRYPTED_SRTCP\n"
    "a=rtpmap:9 G722/8000\n"
    "a=rtpmap:102 G7221/16000\n"
    "a=fmtp:102 bitrate=32000\n"
    "a=rtpmap:0 PCMU/8000\n"
    "a=rtpmap:8 PCMA/8000\n"
    "a=rtpmap:18 G729/8000\n"
    "a=fmtp:18 annexb=no\n"
    "a=rtpmap:127 telephone-event/8000\n";

/* Yealink writes bare LF; kept so in yealink_lf_in_crlf_out. */
static const char yealink_offer[] =
    "v=0\n"
    "o=- 20044 20044 IN IP4 192.168.1.55\n"
    "s=SDP data\n"
    "c=IN IP4 192.168.1.55\n"
    "t=0 0\n"
    "m=audio 11786 RTP/AVP 0 8 18 9 101\n"
    "a=rtpmap:0 PCMU/8000\n"
    "a=rtpmap:8 PCMA/8000\n"
    "a=rtpmap:18 G729/8000\n"
    "a=fmtp:18 annexb=no\n"
    "a=rtpmap:9 G722/8000\n"
    "a=fmtp:101 0-15\n"
    "a=rtpmap:101 telephone-event/8000\n"
    "a=ptime:20\n"
    "a=sendrecv\n"
    "m=video 11788 RTP/AVP 99\n"
    "b=AS:2048\n"
    "a=rtpmap:99 H264/90000\n"
    "a=fmtp:99 profile-level-id=42801F;packetization-mode=1\n"
    "a=rtcp-fb:* nack pli\n";

static const char asterisk_answer[] =
    "v=0\n"
    "o=- 1426166539 1426166541 IN IP4 192.0.2.10\n"
    "s=Asterisk\n"
    "c=IN IP4 192.0.2.10\n"
    "t=0 0\n"
    "m=audio 17442 RTP/AVP 0 101\n"
    "a=rtpmap:0 PCMU/8000\n"
    "a=rtpmap:101 telephone-event/8000\n"
    "a=fmtp:101 0-16\n"
    "a=ptime:20\n"
    "a=maxptime:150\n"
    "a=sendrecv\n"
    "m=video 0 RTP/AVP 99\n";

static const char freeswitch_answer[] =
    "v=0\n"
    "o=FreeSWITCH 1701190382 1701190384 IN IP4 203.0.113.5\n"
    "s=FreeSWITCH\n"
    "c=IN IP4 203.0.113.5\n"
    "t=0 0\n"
    "m=audio 26732 RTP/SAVP 0 101\n"
    "a=rtpmap:0 PCMU/8000\n"
    "a=rtpmap:101 telephone-event/8000\n"
    "a=fmtp:101 0-16\n"
    "a=ptime:20\n"
    "a=sendrecv\n"
    "a=rtcp:26733 IN IP4 203.0.113.5\n"
    "a=crypto:3 AES_CM_256_HMAC_SHA1_80 inline:" KEY46 "\n";

static const char webrtc_offer[] =
    "v=0\n"
    "o=- 3865452384857839393 2 IN IP4 127.0.0.1\n"
    "s=-\n"
    "t=0 0\n"
    "a=group:BUNDLE 0 1\n"
    "a=msid-semantic: WMS stream0\n"
    "a=fingerprint:sha-256 D1:2C:BE:AD:C4:F6:64:5C:25:16:11:9C:AF:E7:0F:73:79:36:4E:9C:1E:15:54:39:0C:06:8B:ED:96:86:00:39\n"
    "a=ice-lite\n"
    "m=audio 54400 UDP/TLS/RTP/SAVPF 111 0 126\n"
    "c=IN IP4 203.0.113.141\n"
    "a=rtcp:9 IN IP4 0.0.0.0\n"
    "a=candidate:1467250027 1 udp 2122260223 192.168.0.196 54400 typ host generation 0\n"
    "a=candidate:2789543829 1 udp 1686052607 203.0.113.141 54400 typ srflx raddr 192.168.0.196 rport 54400\n"
    "a=ice-ufrag:EsAw\n"
    "a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\n"
    "a=ice-options:trickle\n"
    "a=fingerprint:sha-256 D1:2C:BE:AD:C4:F6:64:5C:25:16:11:9C:AF:E7:0F:73:79:36:4E:9C:1E:15:54:39:0C:06:8B:ED:96:86:00:39\n"
    "a=setup:actpass\n"
    "a=mid:0\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\n"
    "a=sendrecv\n"
    "a=rtcp-mux\n"
    "a=rtpmap:111 opus/48000/2\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\n"
    "a=rtpmap:0 PCMU/8000\n"
    "a=rtpmap:126 telephone-event/8000\n"
    "a=end-of-candidates\n"
    "m=application 54400 UDP/DTLS/SCTP webrtc-datachannel\n"
    "c=IN IP6 2001:db8::141\n"
    "a=ice-ufrag:EsAw\n"
    "a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\n"
    "a=setup:actpass\n"
    "a=mid:1\n"
    "a=sctp-port:5000\n";

/* Addresses in every place we know of, several of them odd. */
static const char tricky_offer[] =
    "v=0\n"
    "o=- 77 78 IN IP6 2001:DB8:aa::7\n"
    "s=Call from 10.9.8.7\n"
    "i=via pbx at fd00::1\n"
    "u=http://10.9.8.7/info\n"
    "e=ops@10.9.8.7\n"
    "t=0 0\n"
    "a=rtcp:5000 IN IP4 10.9.8.6\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "\n"
    "a=x-nat:10.9.8.5\n"
    "k=clear:secret\n"
    "x=unknown 10.9.8.4\n"
    "m=audio 4000 RTP/AVP 0\n"
    "i=main audio\n"
    "c=IN IP6 fd00:0:0:0:0:0:0:2\n"
    "b=AS:64\n"
    "a=rtcp:4001 IN IP6 FD00::3\n"
    "a=x-relay:ip=fd00:0:0:0:0:0:0:4;port=9\n"
    "a=x-version:1.2.3.4\n"
    "a=ssrc:1 cname:user@[fd00::5]\n"
    "a=remote-candidates:1 10.9.8.3 4000\n"
    "m=audio 4002 RTP/AVP 8\n"
    "c=IN IP4 10.9.8.2\n"
    "a=rtcp:4003 IN IP4 10.9.8.1\n"
    "m=video 0 RTP/AVP 31\n";

static const char hold_offer[] =
    "v=0\n"
    "o=- 20044 20045 IN IP4 192.168.1.55\n"
    "s=SDP data\n"
    "c=IN IP4 0.0.0.0\n"
    "t=0 0\n"
    "m=audio 11786 RTP/AVP 0 8 101\n"
    "a=rtpmap:101 telephone-event/8000\n"
    "a=fmtp:101 0-15\n"
    "a=inactive\n"
    "m=audio 11790 RTP/AVP 0\n"
    "c=IN IP4 192.168.1.56\n"
    "a=sendonly\n";

static const char ipv6_hold_offer[] =
    "v=0\n"
    "o=- 77 78 IN IP6 ::1\n"
    "s= \n"
    "c=IN IP6 ::\n"
    "t=0 0\n"
    "a=recvonly\n"
    "m=audio 4000 RTP/AVP 0\n"
    "m=video 4002 RTP/AVP 31\n"
    "a=sendrecv\n";

/* Media-level c= only, one per section, and one section without any. */
static const char media_c_only[] =
    "v=0\n"
    "o=carol 1 1 IN IP4 pbx1.corp.example\n"
    "s=-\n"
    "t=0 0\n"
    "m=audio 6000 RTP/AVP 0\n"
    "c=IN IP4 172.16.5.1\n"
    "a=ssrc:77 cname:carol@pbx1.corp.example\n"
    "m=video 6002 RTP/AVP 96\n"
    "c=IN IP4 172.16.5.2\n"
    "a=rtpmap:96 VP8/90000\n"
    "m=audio 0 RTP/AVP 8\n"
    "i=spare\n"
    "a=inactive\n";

static const char t38_reinvite[] =
    "v=0\n"
    "o=- 1426166539 1426166541 IN IP4 192.0.2.10\n"
    "s=Asterisk\n"
    "c=IN IP4 192.0.2.10\n"
    "t=0 0\n"
    "m=image 4446 udptl t38\n"
    "a=T38FaxVersion:0\n"
    "a=T38MaxBitRate:14400\n"
    "a=T38FaxRateManagement:transferredTCF\n"
    "a=T38FaxMaxDatagram:400\n"
    "a=T38FaxUdpEC:t38UDPRedundancy\n";

static const char multicast_offer[] =
    "v=0\n"
    "o=- 2890844526 2890842807 IN IP4 192.0.2.1\n"
    "s=Multicast session\n"
    "c=IN IP4 233.252.0.1/127/3\n"
    "t=2873397496 2873404696\n"
    "r=7d 1h 0 25h\n"
    "b=CT:128\n"
    "a=recvonly\n"
    "m=audio 49170/2 RTP/AVP 0\n"
    "m=video 51372 RTP/AVP 99\n"
    "a=rtpmap:99 h263-1998/90000\n";

static const char msrp_offer[] =
    "v=0\n"
    "o=- 3600 3600 IN IP4 192.0.2.80\n"
    "s=-\n"
    "c=IN IP4 192.0.2.80\n"
    "t=0 0\n"
    "m=message 2855 TCP/MSRP *\n"
    "a=accept-types:text/plain message/cpim\n"
    "a=path:msrp://192.0.2.80:2855/s111271;tcp\n"
    "a=setup:passive\n"
    "m=audio 2856 RTP/AVP 0\n";

static const char *const samples[] = {
	baresip_offer, baresip_srtp_offer, linphone_offer, zoiper_offer,
	polycom_offer, yealink_offer, asterisk_answer, freeswitch_answer,
	webrtc_offer, tricky_offer, hold_offer, ipv6_hold_offer, media_c_only,
	t38_reinvite, multicast_offer, msrp_offer,
};

/* ---------------------------------------------------------------- */
/* Exact output                                                      */

static void
assert_out(ssize_t r, const char *want)
{
	size_t n = strlen(want);

	if (r < 0)
		fail_msg("sdp_rewrite: %zd", r);
	if ((size_t)r != n || memcmp(out, want, n) != 0) {
		print_error("got (%zd bytes):\n%.*s\nwant (%zu bytes):\n%s\n",
		    r, (int)r, (const char *)out, n, want);
		fail();
	}
}

static ssize_t
rewrite_exact(const struct sdp_rewrite *rw)
{
	out_alloc(8192);
	return sdp_rewrite(&S, rw, out, out_cap);
}

static void
exact_baresip_rtp_to_srtp(void **state)
{
	struct sdp_rewrite rw;

	(void)state;
	set_body(baresip_offer, 1);
	parse_body();
	rw_for(&S, &rw, 0, MODE_SRTP);
	rw.media[0].rtcp_port = rw.media[0].port;	/* it muxes */
	assert_out(rewrite_exact(&rw),
	    "v=0\r\n"
	    "o=sipwall 4242 7 IN IP4 " OUR4 "\r\n"
	    "s=-\r\n"
	    "c=IN IP4 " OUR4 "\r\n"
	    "t=0 0\r\n"
	    "m=audio 40000 RTP/SAVP 96 9 0 101\r\n"
	    "b=AS:64\r\n"
	    "a=rtpmap:96 opus/48000/2\r\n"
	    "a=fmtp:96 stereo=1;sprop-stereo=1\r\n"
	    "a=rtpmap:9 G722/8000\r\n"
	    "a=rtpmap:0 PCMU/8000\r\n"
	    "a=rtpmap:101 telephone-event/8000\r\n"
	    "a=fmtp:101 0-15\r\n"
	    "a=rtcp-mux\r\n"
	    "a=rtcp:40000\r\n"
	    "a=sendrecv\r\n"
	    "a=label:1\r\n"
	    "a=rtcp-rsize\r\n"
	    "a=crypto:" OUR_CRYPTO "\r\n");
}

static void
exact_polycom_srtp_to_rtp(void **state)
{
	struct sdp_rewrite rw;

	(void)state;
	set_body(polycom_offer, 1);
	parse_body();
	rw_for(&S, &rw, 0, MODE_RTP);
	assert_out(rewrite_exact(&rw),
	    "v=0\r\n"
	    "o=sipwall 4242 7 IN IP4 " OUR4 "\r\n"
	    "s=Polycom IP Phone\r\n"
	    "c=IN IP4 " OUR4 "\r\n"
	    "t=0 0\r\n"
	    "a=sendrecv\r\n"
	    "m=audio 40000 RTP/AVP 9 102 0 8 18 127\r\n"
	    "a=rtcp-xr:rcvr-rtt=all voip-metrics\r\n"
	    "a=rtpmap:9 G722/8000\r\n"
	    "a=rtpmap:102 G7221/16000\r\n"
	    "a=fmtp:102 bitrate=32000\r\n"
	    "a=rtpmap:0 PCMU/8000\r\n"
	    "a=rtpmap:8 PCMA/8000\r\n"
	    "a=rtpmap:18 G729/8000\r\n"
	    "a=fmtp:18 annexb=no\r\n"
	    "a=rtpmap:127 telephone-event/8000\r\n");
}

/* SRTP both legs: their three keys give way to our one, in place. */
static void
exact_baresip_srtp_rekeyed_v6(void **state)
{
	struct sdp_rewrite rw;

	(void)state;
	set_body(baresip_srtp_offer, 0);
	parse_body();
	rw_for(&S, &rw, 1, MODE_SRTP);
	assert_out(rewrite_exact(&rw),
	    "v=0\r\n"
	    "o=sipwall 4242 7 IN IP6 " OUR6 "\r\n"
	    "s=-\r\n"
	    "c=IN IP6 " OUR6 "\r\n"
	    "t=0 0\r\n"
	    "m=audio 40000 RTP/SAVP 0 8 101\r\n"
	    "a=rtpmap:0 PCMU/8000\r\n"
	    "a=rtpmap:8 PCMA/8000\r\n"
	    "a=rtpmap:101 telephone-event/8000\r\n"
	    "a=fmtp:101 0-15\r\n"
	    "a=sendrecv\r\n"
	    "a=label:1\r\n"
	    "a=crypto:" OUR_CRYPTO "\r\n");
}

static void
exact_freeswitch_answer(void **state)
{
	struct sdp_rewrite rw;

	(void)state;
	set_body(freeswitch_answer, 1);
	parse_body();
	rw_for(&S, &rw, 0, MODE_RTP);
	assert_out(rewrite_exact(&rw),
	    "v=0\r\n"
	    "o=sipwall 4242 7 IN IP4 " OUR4 "\r\n"
	    "s=FreeSWITCH\r\n"
	    "c=IN IP4 " OUR4 "\r\n"
	    "t=0 0\r\n"
	    "m=audio 40000 RTP/AVP 0 101\r\n"
	    "a=rtpmap:0 PCMU/8000\r\n"
	    "a=rtpmap:101 telephone-event/8000\r\n"
	    "a=fmtp:101 0-16\r\n"
	    "a=ptime:20\r\n"
	    "a=sendrecv\r\n"
	    "a=rtcp:40001\r\n");
}

static void
exact_webrtc_to_sdes(void **state)
{
	struct sdp_rewrite rw;

	(void)state;
	set_body(webrtc_offer, 1);
	parse_body();
	rw_for(&S, &rw, 0, MODE_SRTP);
	rw.media[0].rtcp_port = rw.media[0].port;
	assert_false(rw.media[1].keep);		/* data channel */
	assert_out(rewrite_exact(&rw),
	    "v=0\r\n"
	    "o=sipwall 4242 7 IN IP4 " OUR4 "\r\n"
	    "s=-\r\n"
	    "t=0 0\r\n"
	    "a=msid-semantic: WMS stream0\r\n"
	    "m=audio 40000 RTP/SAVPF 111 0 126\r\n"
	    "c=IN IP4 " OUR4 "\r\n"
	    "a=rtcp:40000\r\n"
	    "a=mid:0\r\n"
	    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
	    "a=sendrecv\r\n"
	    "a=rtcp-mux\r\n"
	    "a=rtpmap:111 opus/48000/2\r\n"
	    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
	    "a=rtpmap:0 PCMU/8000\r\n"
	    "a=rtpmap:126 telephone-event/8000\r\n"
	    "a=crypto:" OUR_CRYPTO "\r\n"
	    "m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\n"
	    "c=IN IP4 " OUR4 "\r\n"
	    "a=mid:1\r\n"
	    "a=sctp-port:5000\r\n");
}

static void
exact_tricky(void **state)
{
	struct sdp_rewrite rw;

	(void)state;
	set_body(tricky_offer, 0);
	parse_body();
	rw_for(&S, &rw, 0, MODE_RTP);
	rw.media[1].rtcp_port = 40003;
	rw.media[2].keep = true;	/* was rejected: gets a c= */
	rw.media[2].port = 40004;
	assert_out(rewrite_exact(&rw),
	    "v=0\r\n"
	    "o=sipwall 4242 7 IN IP4 " OUR4 "\r\n"
	    "s=-\r\n"
	    "t=0 0\r\n"
	    "m=audio 40000 RTP/AVP 0\r\n"
	    "i=main audio\r\n"
	    "c=IN IP4 " OUR4 "\r\n"
	    "b=AS:64\r\n"
	    "a=rtcp:40001\r\n"
	    "m=audio 40002 RTP/AVP 8\r\n"
	    "c=IN IP4 " OUR4 "\r\n"
	    "a=rtcp:40003\r\n"
	    "m=video 40004 RTP/AVP 31\r\n"
	    "c=IN IP4 " OUR4 "\r\n");
	/* and with a non-standard RTCP port on a section that had none */
	rw.media[2].rtcp_port = 40100;
	assert_out(rewrite_exact(&rw),
	    "v=0\r\n"
	    "o=sipwall 4242 7 IN IP4 " OUR4 "\r\n"
	    "s=-\r\n"
	    "t=0 0\r\n"
	    "m=audio 40000 RTP/AVP 0\r\n"
	    "i=main audio\r\n"
	    "c=IN IP4 " OUR4 "\r\n"
	    "b=AS:64\r\n"
	    "a=rtcp:40001\r\n"
	    "m=audio 40002 RTP/AVP 8\r\n"
	    "c=IN IP4 " OUR4 "\r\n"
	    "a=rtcp:40003\r\n"
	    "m=video 40004 RTP/AVP 31\r\n"
	    "c=IN IP4 " OUR4 "\r\n"
	    "a=rtcp:40100\r\n");
}

/* RFC 3264 8.4 hold: 0.0.0.0 stays a hold, in our family. */
static void
exact_hold(void **state)
{
	struct sdp_rewrite rw;

	(void)state;
	set_body(hold_offer, 1);
	parse_body();
	rw_for(&S, &rw, 0, MODE_RTP);
	assert_out(rewrite_exact(&rw),
	    "v=0\r\n"
	    "o=sipwall 4242 7 IN IP4 " OUR4 "\r\n"
	    "s=SDP data\r\n"
	    "c=IN IP4 0.0.0.0\r\n"
	    "t=0 0\r\n"
	    "m=audio 40000 RTP/AVP 0 8 101\r\n"
	    "a=rtpmap:101 telephone-event/8000\r\n"
	    "a=fmtp:101 0-15\r\n"
	    "a=inactive\r\n"
	    "m=audio 40002 RTP/AVP 0\r\n"
	    "c=IN IP4 " OUR4 "\r\n"
	    "a=sendonly\r\n");
	rw_for(&S, &rw, 1, MODE_RTP);
	assert_out(rewrite_exact(&rw),
	    "v=0\r\n"
	    "o=sipwall 4242 7 IN IP6 " OUR6 "\r\n"
	    "s=SDP data\r\n"
	    "c=IN IP6 ::\r\n"
	    "t=0 0\r\n"
	    "m=audio 40000 RTP/AVP 0 8 101\r\n"
	    "a=rtpmap:101 telephone-event/8000\r\n"
	    "a=fmtp:101 0-15\r\n"
	    "a=inactive\r\n"
	    "m=audio 40002 RTP/AVP 0\r\n"
	    "c=IN IP6 " OUR6 "\r\n"
	    "a=sendonly\r\n");
	set_body(ipv6_hold_offer, 0);
	parse_body();
	rw_for(&S, &rw, 0, MODE_MUX);
	assert_out(rewrite_exact(&rw),
	    "v=0\r\n"
	    "o=sipwall 4242 7 IN IP4 " OUR4 "\r\n"
	    "s= \r\n"
	    "c=IN IP4 0.0.0.0\r\n"
	    "t=0 0\r\n"
	    "a=recvonly\r\n"
	    "m=audio 40000 RTP/AVP 0\r\n"
	    "a=rtcp:40000\r\n"
	    "m=video 40002 RTP/AVP 31\r\n"
	    "a=sendrecv\r\n"
	    "a=rtcp:40002\r\n");
}

/* An o= host name is scrubbed from the rest of the body too. */
static void
exact_media_c_only_and_host(void **state)
{
	struct sdp_rewrite rw;

	(void)state;
	set_body(media_c_only, 1);
	parse_body();
	rw_for(&S, &rw, 0, MODE_RTP);
	rw.media[2].keep = true;
	rw.media[2].port = 40004;
	assert_out(rewrite_exact(&rw),
	    "v=0\r\n"
	    "o=sipwall 4242 7 IN IP4 " OUR4 "\r\n"
	    "s=-\r\n"
	    "t=0 0\r\n"
	    "m=audio 40000 RTP/AVP 0\r\n"
	    "c=IN IP4 " OUR4 "\r\n"
	    "m=video 40002 RTP/AVP 96\r\n"
	    "c=IN IP4 " OUR4 "\r\n"
	    "a=rtpmap:96 VP8/90000\r\n"
	    "m=audio 40004 RTP/AVP 8\r\n"
	    "i=spare\r\n"
	    "c=IN IP4 " OUR4 "\r\n"
	    "a=inactive\r\n");
	/* rejected again: port 0, no c= needed, none added */
	rw.media[2].keep = false;
	assert_out(rewrite_exact(&rw),
	    "v=0\r\n"
	    "o=sipwall 4242 7 IN IP4 " OUR4 "\r\n"
	    "s=-\r\n"
	    "t=0 0\r\n"
	    "m=audio 40000 RTP/AVP 0\r\n"
	    "c=IN IP4 " OUR4 "\r\n"
	    "m=video 40002 RTP/AVP 96\r\n"
	    "c=IN IP4 " OUR4 "\r\n"
	    "a=rtpmap:96 VP8/90000\r\n"
	    "m=audio 0 RTP/AVP 8\r\n"
	    "i=spare\r\n"
	    "a=inactive\r\n");
}

/* Multicast c= and a port count: one unicast stream of ours. */
static void
exact_multicast_and_port_count(void **state)
{
	struct sdp_rewrite rw;

	(void)state;
	set_body(multicast_offer, 1);
	parse_body();
	rw_for(&S, &rw, 0, MODE_RTP);
	assert_out(rewrite_exact(&rw),
	    "v=0\r\n"
	    "o=sipwall 4242 7 IN IP4 " OUR4 "\r\n"
	    "s=Multicast session\r\n"
	    "c=IN IP4 " OUR4 "\r\n"
	    "t=2873397496 2873404696\r\n"
	    "r=7d 1h 0 25h\r\n"
	    "b=CT:128\r\n"
	    "a=recvonly\r\n"
	    "m=audio 40000 RTP/AVP 0\r\n"
	    "m=video 40002 RTP/AVP 99\r\n"
	    "a=rtpmap:99 h263-1998/90000\r\n");
}

/* T.38 and MSRP keep their proto; MSRP rejected, its path scrubbed. */
static void
exact_non_rtp(void **state)
{
	struct sdp_rewrite rw;

	(void)state;
	set_body(t38_reinvite, 1);
	parse_body();
	rw_for(&S, &rw, 0, MODE_SRTP);
	assert_null(rw.media[0].crypto);
	assert_out(rewrite_exact(&rw),
	    "v=0\r\n"
	    "o=sipwall 4242 7 IN IP4 " OUR4 "\r\n"
	    "s=Asterisk\r\n"
	    "c=IN IP4 " OUR4 "\r\n"
	    "t=0 0\r\n"
	    "m=image 40000 udptl t38\r\n"
	    "a=T38FaxVersion:0\r\n"
	    "a=T38MaxBitRate:14400\r\n"
	    "a=T38FaxRateManagement:transferredTCF\r\n"
	    "a=T38FaxMaxDatagram:400\r\n"
	    "a=T38FaxUdpEC:t38UDPRedundancy\r\n");
	set_body(msrp_offer, 1);
	parse_body();
	rw_for(&S, &rw, 0, MODE_RTP);
	assert_out(rewrite_exact(&rw),
	    "v=0\r\n"
	    "o=sipwall 4242 7 IN IP4 " OUR4 "\r\n"
	    "s=-\r\n"
	    "c=IN IP4 " OUR4 "\r\n"
	    "t=0 0\r\n"
	    "m=message 0 TCP/MSRP *\r\n"
	    "a=accept-types:text/plain message/cpim\r\n"
	    "m=audio 40002 RTP/AVP 0\r\n");
}

/* Bare LF in, CRLF out; trailing blank lines and a missing last LF. */
static void
line_endings(void **state)
{
	struct sdp_rewrite rw;
	static const char want[] =
	    "v=0\r\n"
	    "o=- 4242 7 IN IP4 " OUR4 "\r\n"
	    "s=-\r\n"
	    "c=IN IP4 " OUR4 "\r\n"
	    "t=0 0\r\n"
	    "m=audio 40000 RTP/AVP 0\r\n"
	    "a=sendrecv\r\n";
	static const char *const bodies[] = {
	    "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\n"
	    "t=0 0\nm=audio 4000 RTP/AVP 0\na=sendrecv\n",
	    "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\n"
	    "t=0 0\nm=audio 4000 RTP/AVP 0\na=sendrecv",
	    "v=0\r\no=- 1 1 IN IP4 192.0.2.1\ns=-\r\nc=IN IP4 192.0.2.1\n"
	    "t=0 0\nm=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n\r\n\n",
	};

	(void)state;
	for (size_t i = 0; i < nitems(bodies); i++) {
		set_body(bodies[i], 0);
		parse_body();
		rw_for(&S, &rw, 0, MODE_RTP);
		rw.origin_user = NULL;
		assert_out(rewrite_exact(&rw), want);
	}
	set_body(yealink_offer, 0);
	check_all_modes();
}

/* ---------------------------------------------------------------- */
/* Invariants over many bodies                                       */

static void
invariants_samples(void **state)
{
	(void)state;
	for (size_t i = 0; i < nitems(samples); i++) {
		set_body(samples[i], 1);
		check_all_modes();
		set_body(samples[i], 0);
		check_all_modes();
	}
}

/* Every prefix that still parses rewrites cleanly too. */
static void
invariants_prefixes(void **state)
{
	static const char *const some[] = {
		linphone_offer, webrtc_offer, tricky_offer, media_c_only,
	};
	struct sdp_rewrite rw;
	char *full;
	size_t n;

	(void)state;
	for (size_t s = 0; s < nitems(some); s++) {
		set_body(some[s], 1);
		n = body_len;
		full = malloc(n);
		assert_non_null(full);
		memcpy(full, body, n);
		for (size_t cut = 1; cut <= n; cut++) {
			set_body_raw(full, cut);
			if (sdp_parse(body, body_len, NULL, &S, NULL) != 0)
				continue;
			rw_for(&S, &rw, (int)(cut & 1), (enum mode)(cut %
			    MODE__MAX));
			(void)rewrite_checked(&rw, (int)(cut & 1));
		}
		free(full);
	}
}

static void
invariants_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t seen = 0;

	if (d == NULL)
		fail_msg("%s: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		char path[4096];
		uint8_t buf[SDP_MAX_BODY];
		FILE *f;
		size_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((f = fopen(path, "rb")) == NULL)
			continue;
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		set_body_raw(buf, n);
		if (sdp_parse(body, body_len, NULL, &S, NULL) != 0)
			continue;
		check_all_modes();
		seen++;
	}
	closedir(d);
	assert_true(seen > 0);
}

/* The parser's and our own corpora: real bodies from many stacks. */
static void
invariants_corpora(void **state)
{
	const char *root = getenv("SW_SOURCE_ROOT");
	char dir[4096];

	(void)state;
	if (root == NULL)
		skip();
	snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/sdp", root);
	invariants_dir(dir);
	snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/sdp_rewrite", root);
	invariants_dir(dir);
}

/* ---------------------------------------------------------------- */
/* Errors                                                            */

static void
bad_arguments(void **state)
{
	struct sdp_rewrite rw, good;
	static const char *const bad_addr[] = {
		"10.0.0.256", "0.0.0.0", "224.0.0.1", "255.255.255.255",
		"::", "ff02::1", "fe80::1%eth0", "[2001:db8::1]", "host",
		"010.0.0.1", "", " 10.0.0.1",
		"2001:0db8:0000:0000:0000:0000:0000:0001x",
	};

	(void)state;
	set_body(linphone_offer, 1);
	parse_body();
	rw_for(&S, &good, 0, MODE_RTP);
	out_alloc(8192);
	assert_true(sdp_rewrite(&S, &good, out, out_cap) > 0);
	assert_int_equal(sdp_rewrite(NULL, &good, out, out_cap), -EINVAL);
	assert_int_equal(sdp_rewrite(&S, NULL, out, out_cap), -EINVAL);
	assert_int_equal(sdp_rewrite(&S, &good, NULL, 0), -EINVAL);

#define BAD(expr) do {							\
	rw = good;							\
	expr;								\
	assert_int_equal(sdp_rewrite(&S, &rw, out, out_cap), -EINVAL);	\
} while (0)
	BAD(rw.nmedia = 1);
	BAD(rw.nmedia = 3);
	BAD(rw.addr = NULL);
	for (size_t i = 0; i < nitems(bad_addr); i++)
		BAD(rw.addr = bad_addr[i]);
	BAD(rw.origin_user = "");
	BAD(rw.origin_user = "a b");
	BAD(rw.origin_user = "a\r\nb");
	BAD(rw.origin_user = "0123456789012345678901234567890123456789"
	    "0123456789012345678901234");
	BAD(rw.media[0].crypto = "1 AES_CM_128_HMAC_SHA1_80 inline:x\r\n"
	    "a=crypto:2 x");
	BAD(rw.media[0].crypto = "");
	BAD(rw.media[0].port = 0);
	BAD(rw.media[0].port = 65535);
	BAD(rw.media[0].proto = SDP_RW_PROTO__MAX);
	BAD(rw.media[0].proto = SDP_RW_PROTO_SRTP);	/* without a key */
#undef BAD
	/* 65535 is fine with an explicit RTCP port or muxed */
	rw = good;
	rw.media[0].port = 65535;
	rw.media[0].rtcp_port = 65535;
	assert_true(sdp_rewrite(&S, &rw, out, out_cap) > 0);
	/* a rejected stream ignores port, rtcp and proto */
	rw = good;
	rw.media[0].keep = false;
	rw.media[0].port = 0;
	rw.media[0].proto = SDP_RW_PROTO_SRTP;
	assert_true(sdp_rewrite(&S, &rw, out, out_cap) > 0);

	/* SRTP/RTP on a non-RTP proto; SAVP kept without a key; DTLS kept */
	set_body(t38_reinvite, 1);
	parse_body();
	rw_for(&S, &rw, 0, MODE_RTP);
	rw.media[0].proto = SDP_RW_PROTO_RTP;
	assert_int_equal(sdp_rewrite(&S, &rw, out, out_cap), -EINVAL);
	rw.media[0].keep = false;
	assert_true(sdp_rewrite(&S, &rw, out, out_cap) > 0);
	set_body(polycom_offer, 1);
	parse_body();
	rw_for(&S, &rw, 0, MODE_RTP);
	rw.media[0].proto = SDP_RW_PROTO_KEEP;
	assert_int_equal(sdp_rewrite(&S, &rw, out, out_cap), -EINVAL);
	rw.media[0].crypto = OUR_CRYPTO;
	assert_true(sdp_rewrite(&S, &rw, out, out_cap) > 0);
	set_body(webrtc_offer, 1);
	parse_body();
	rw_for(&S, &rw, 0, MODE_SRTP);
	rw.media[0].proto = SDP_RW_PROTO_KEEP;
	assert_int_equal(sdp_rewrite(&S, &rw, out, out_cap), -EINVAL);
	/* keep on a port-0 m= line without formats */
	set_body("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\n"
	    "t=0 0\nm=audio 0 RTP/AVP\n", 1);
	parse_body();
	rw_for(&S, &rw, 0, MODE_RTP);
	assert_false(rw.media[0].keep);
	assert_true(sdp_rewrite(&S, &rw, out, out_cap) > 0);
	rw.media[0].keep = true;
	assert_int_equal(sdp_rewrite(&S, &rw, out, out_cap), -EINVAL);
}

/* An m= line that itself names an address cannot be hidden: refused. */
static void
address_in_m_line(void **state)
{
	static const char *const bodies[] = {
		"v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\n"
		"t=0 0\nm=application 9 foo 192.0.2.1\n",
		"v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\n"
		"t=0 0\nm=10.1.1.1 9 RTP/AVP 0\n",
		"v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\n"
		"t=0 0\nm=image 9 udptl/10.1.1.1 t38\n",
		"v=0\no=- 1 1 IN IP4 pbx.example\ns=-\nc=IN IP4 192.0.2.1\n"
		"t=0 0\nm=application 9 foo pbx.example\n",
	};
	struct sdp_rewrite rw;

	(void)state;
	for (size_t i = 0; i < nitems(bodies); i++) {
		set_body(bodies[i], 1);
		parse_body();
		rw_for(&S, &rw, 0, MODE_RTP);
		rw.media[0].keep = true;
		out_alloc(4096);
		assert_int_equal(sdp_rewrite(&S, &rw, out, out_cap),
		    -EBADMSG);
		rw.media[0].keep = false;	/* still on the line */
		assert_int_equal(sdp_rewrite(&S, &rw, out, out_cap),
		    -EBADMSG);
	}
}

/* 64 a= lines the input may have; ours on top must not overflow them. */
static void
attribute_ceiling(void **state)
{
	char buf[8192];
	size_t n;
	struct sdp_rewrite rw;

	(void)state;
	n = (size_t)snprintf(buf, sizeof(buf), "v=0\no=- 1 1 IN IP4 "
	    "192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n"
	    "m=audio 4000 RTP/AVP 0\n");
	for (int i = 0; i < SDP_MAX_ATTRS; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
		    "a=x-%d:%d\n", i, i);
	set_body(buf, 1);
	parse_body();
	assert_int_equal(S.media[0].attrs.n, SDP_MAX_ATTRS);
	rw_for(&S, &rw, 0, MODE_RTP);
	out_alloc(16384);
	assert_true(sdp_rewrite(&S, &rw, out, out_cap) > 0);
	rw.media[0].rtcp_port = 4444;
	assert_int_equal(sdp_rewrite(&S, &rw, out, out_cap), -EMSGSIZE);
	rw_for(&S, &rw, 0, MODE_SRTP);
	assert_int_equal(sdp_rewrite(&S, &rw, out, out_cap), -EMSGSIZE);
}

/* What the scrubber drops and, as important, what it keeps. */
static void
scrubber(void **state)
{
	static const struct {
		const char	*line;
		int		 kept;
	} cases[] = {
		{ "a=ssrc:1 cname:bob@192.168.7.7", 0 },
		{ "a=ssrc:1 cname:bob@[fe80::7]", 0 },
		{ "a=x-a:2001:db8:0:0:0:0:0:7", 0 },
		{ "a=x-a:x2001:db8:0:0:0:0:0:7y", 0 },
		{ "a=x-a:::ffff:10.0.0.1", 0 },
		{ "a=x-a:10.0.0.1:5060", 0 },
		{ "a=x-a:a10.0.0.12b", 0 },
		{ "a=x-a:1234.5.6.7890", 0 },
		{ "a=x-ver:1.2.3.4", 0 },
		{ "a=x-host:INSIDE.corp.example", 0 },
		{ "a=x-host:inside.corp.example:5060", 0 },
		{ "a=x-a:0.0.0.0", 0 },
		{ "a=x-a:1.2.3", 1 },
		{ "a=x-a:1..2.3.4", 1 },
		{ "a=x-a:1.2222.3.4", 1 },
		{ "a=x-host:notinside.corp.example", 0 },
		{ "a=x-host:inside.corp.examples", 0 },
		{ "a=x-host:inside.corp", 1 },
		{ "a=x-a:aa:bb:cc:dd:ee:ff", 1 },
		{ "a=x-z:1:2:3:4:5:6:77777:8", 1 },
		{ "a=x-a:1:2:3:4:5:6:77777:8", 0 },	/* a:1:..:6:7777 */
		{ "a=x-time:12:34:56.789", 1 },
		{ "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01", 1 },
		{ "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level", 1 },
		{ "a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics", 1 },
		{ "a=fmtp:96 profile-level-id=42e01f;level-asymmetry-allowed=1", 1 },
		{ "a=msid:{6f1c1a1e-1f3e-4b2a-9c7d-123456789abc} {0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0}", 1 },
		{ "a=group:LS 0 1", 1 },
		{ "a=group:BUNDLE 0 1", 0 },
		{ "a=group:BUNDLEX 0 1", 1 },
		{ "a=group: bundle 0", 0 },
		{ "a=ICE-Ufrag:abcd", 0 },
		{ "a=ice-mismatch", 0 },
		{ "a=Candidate:1 1 udp 1 x.local 9 typ host", 0 },
		{ "a=Fingerprint:sha-1 AB:CD", 0 },
		{ "a=tls-id:abc", 0 },
		{ "a=key-mgmt:mikey AQAFgM0X", 0 },
		{ "a=zrtp-hash:1.10 abc", 1 },
	};
	char buf[512];
	struct sdp_rewrite rw;
	ssize_t r;

	(void)state;
	for (size_t i = 0; i < nitems(cases); i++) {
		for (int level = 0; level < 2; level++) {
			snprintf(buf, sizeof(buf), "v=0\n"
			    "o=- 1 1 IN IP4 inside.corp.example\ns=-\n"
			    "c=IN IP4 192.0.2.1\nt=0 0\n%s%s\n%s",
			    level == 0 ? "" : "m=audio 4000 RTP/AVP 0\n",
			    cases[i].line,
			    level == 0 ? "m=audio 4000 RTP/AVP 0\n" : "");
			set_body(buf, 1);
			parse_body();
			rw_for(&S, &rw, 0, MODE_RTP);
			out_alloc(4096);
			r = sdp_rewrite(&S, &rw, out, out_cap);
			assert_true(r > 0);
			if (contains_ci(out, (size_t)r,
			    slice_cstr(cases[i].line)) != cases[i].kept) {
				print_error("\"%s\" at %s level: kept %d\n",
				    cases[i].line, level ? "media" :
				    "session", !cases[i].kept);
				fail();
			}
		}
	}
}

/* A single-label o= host is scrubbed as a whole word only. */
static void
scrubber_single_label_host(void **state)
{
	struct sdp_rewrite rw;

	(void)state;
	set_body("v=0\no=- 1 1 IN IP4 pbx1\ns=-\nc=IN IP4 192.0.2.1\n"
	    "t=0 0\nm=audio 4000 RTP/AVP 0\n"
	    "a=x-a:pbx1\na=x-b:user@PBX1\na=x-c:pbx12\na=x-d:mypbx1\n"
	    "a=x-e:pbx1.corp\n", 1);
	parse_body();
	rw_for(&S, &rw, 0, MODE_RTP);
	assert_out(rewrite_exact(&rw),
	    "v=0\r\n"
	    "o=sipwall 4242 7 IN IP4 " OUR4 "\r\n"
	    "s=-\r\n"
	    "c=IN IP4 " OUR4 "\r\n"
	    "t=0 0\r\n"
	    "m=audio 40000 RTP/AVP 0\r\n"
	    "a=x-c:pbx12\r\n"
	    "a=x-d:mypbx1\r\n");
}

/* ---------------------------------------------------------------- */
/* sdp_media_remote                                                  */

static void
assert_addr(const union sw_addr *a, const char *ip, uint16_t port)
{
	char buf[SW_ADDR_STRLEN];

	sw_addr_ip_str(a, buf, sizeof(buf));
	if (strcmp(buf, ip) != 0 || sw_addr_port(a) != port) {
		print_error("%s port %u, want %s port %u\n", buf,
		    sw_addr_port(a), ip, port);
		fail();
	}
}

static void
media_remote(void **state)
{
	struct sdp_media_remote r;

	(void)state;
	/* session c=, a=rtcp-mux and a=rtcp port */
	set_body(baresip_offer, 1);
	parse_body();
	assert_int_equal(sdp_media_remote(&S, 0, &r), 0);
	assert_addr(&r.rtp, "192.168.0.2", 10218);
	assert_addr(&r.rtcp, "192.168.0.2", 10218);
	assert_addr(&r.rtcp_nomux, "192.168.0.2", 10218);
	assert_true(r.rtcp_mux);
	assert_false(r.hold || r.multicast);
	assert_int_equal(sdp_media_remote(&S, 1, &r), -EINVAL);
	assert_int_equal(sdp_media_remote(NULL, 0, &r), -EINVAL);
	assert_int_equal(sdp_media_remote(&S, 0, NULL), -EINVAL);

	/* RFC 3605: a=rtcp with its own address; port + 1 otherwise */
	set_body(tricky_offer, 1);
	parse_body();
	assert_int_equal(sdp_media_remote(&S, 0, &r), 0);
	assert_addr(&r.rtp, "fd00::2", 4000);
	assert_addr(&r.rtcp, "fd00::3", 4001);
	assert_false(r.rtcp_mux);
	assert_int_equal(sdp_media_remote(&S, 1, &r), 0);
	assert_addr(&r.rtp, "10.9.8.2", 4002);
	assert_addr(&r.rtcp, "10.9.8.1", 4003);
	assert_int_equal(sdp_media_remote(&S, 2, &r), -ENOENT);

	/* media-level c= over the session's; no a=rtcp: port + 1 */
	set_body(hold_offer, 1);
	parse_body();
	assert_int_equal(sdp_media_remote(&S, 0, &r), 0);
	assert_addr(&r.rtp, "0.0.0.0", 11786);
	assert_addr(&r.rtcp, "0.0.0.0", 11787);
	assert_true(r.hold);
	assert_int_equal(sdp_media_remote(&S, 1, &r), 0);
	assert_addr(&r.rtp, "192.168.1.56", 11790);
	assert_addr(&r.rtcp, "192.168.1.56", 11791);
	assert_false(r.hold);

	/* a=rtcp port without address; mux offered but kept apart */
	set_body(webrtc_offer, 1);
	parse_body();
	assert_int_equal(sdp_media_remote(&S, 0, &r), 0);
	assert_addr(&r.rtp, "203.0.113.141", 54400);
	assert_addr(&r.rtcp, "203.0.113.141", 54400);
	assert_addr(&r.rtcp_nomux, "0.0.0.0", 9);
	assert_int_equal(sdp_media_remote(&S, 1, &r), 0);
	assert_addr(&r.rtp, "2001:db8::141", 54400);
	assert_addr(&r.rtcp, "2001:db8::141", 54401);

	set_body(multicast_offer, 1);
	parse_body();
	assert_int_equal(sdp_media_remote(&S, 0, &r), 0);
	assert_addr(&r.rtp, "233.252.0.1", 49170);
	assert_true(r.multicast);

	set_body(ipv6_hold_offer, 1);
	parse_body();
	assert_int_equal(sdp_media_remote(&S, 1, &r), 0);
	assert_addr(&r.rtp, "::", 4002);
	assert_true(r.hold);

	/* RTP on 65535 without a=rtcp: no RTCP port to derive */
	set_body("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\n"
	    "t=0 0\nm=audio 65535 RTP/AVP 0\n", 1);
	parse_body();
	assert_int_equal(sdp_media_remote(&S, 0, &r), 0);
	assert_addr(&r.rtcp, "192.0.2.1", 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(exact_baresip_rtp_to_srtp, teardown),
		cmocka_unit_test_teardown(exact_polycom_srtp_to_rtp, teardown),
		cmocka_unit_test_teardown(exact_baresip_srtp_rekeyed_v6,
		    teardown),
		cmocka_unit_test_teardown(exact_freeswitch_answer, teardown),
		cmocka_unit_test_teardown(exact_webrtc_to_sdes, teardown),
		cmocka_unit_test_teardown(exact_tricky, teardown),
		cmocka_unit_test_teardown(exact_hold, teardown),
		cmocka_unit_test_teardown(exact_media_c_only_and_host,
		    teardown),
		cmocka_unit_test_teardown(exact_multicast_and_port_count,
		    teardown),
		cmocka_unit_test_teardown(exact_non_rtp, teardown),
		cmocka_unit_test_teardown(line_endings, teardown),
		cmocka_unit_test_teardown(invariants_samples, teardown),
		cmocka_unit_test_teardown(invariants_prefixes, teardown),
		cmocka_unit_test_teardown(invariants_corpora, teardown),
		cmocka_unit_test_teardown(bad_arguments, teardown),
		cmocka_unit_test_teardown(address_in_m_line, teardown),
		cmocka_unit_test_teardown(attribute_ceiling, teardown),
		cmocka_unit_test_teardown(scrubber, teardown),
		cmocka_unit_test_teardown(scrubber_single_label_host, teardown),
		cmocka_unit_test_teardown(media_remote, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
