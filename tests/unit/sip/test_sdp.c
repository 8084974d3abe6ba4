/*
 * Unit tests for src/sip/sdp.c: phone-style offers, every error path,
 * limits at and over their bound, and every prefix of valid bodies.
 * Each body is parsed from a heap copy of exactly its length so that
 * ASan reports any read past the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sip/sdp.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* Large; one shared instance. */
static struct sdp S;
static struct sdp_err E;
static uint8_t *body;		/* heap copy of the body under test */
static size_t body_len;

/* Replace the body under test by a copy of p[0..n) in a buffer of size n. */
static const uint8_t *
guard_copy(const void *p, size_t n)
{
	free(body);
	body = malloc(n > 0 ? n : 1);
	assert_non_null(body);
	if (n > 0)
		memcpy(body, p, n);
	body_len = n;
	return body;
}

/* The body as written, with every "\n" made "\r\n" (what phones send). */
static const uint8_t *
crlf_copy(const char *s, size_t *ret_len)
{
	size_t n = 0, o = 0;
	uint8_t *tmp;
	const uint8_t *r;

	for (const char *q = s; *q != '\0'; q++)
		n += *q == '\n' ? 2 : 1;
	tmp = malloc(n > 0 ? n : 1);
	assert_non_null(tmp);
	for (const char *q = s; *q != '\0'; q++) {
		if (*q == '\n')
			tmp[o++] = '\r';
		tmp[o++] = (uint8_t)*q;
	}
	r = guard_copy(tmp, n);
	free(tmp);
	*ret_len = n;
	return r;
}

static int
parse_lim(const char *s, const struct sdp_limits *lim)
{
	size_t n;
	const uint8_t *p = crlf_copy(s, &n);

	memset(&E, 0, sizeof(E));
	return sdp_parse(p, n, lim, &S, &E);
}

static int
parse(const char *s)
{
	return parse_lim(s, &sdp_limits_default);
}

/* Exactly these bytes, no CRLF conversion. */
static int
parse_raw(const void *p, size_t n)
{
	const uint8_t *b = guard_copy(p, n);

	memset(&E, 0, sizeof(E));
	return sdp_parse(b, n, &sdp_limits_default, &S, &E);
}

static void
assert_slice_equal(struct slice s, const char *want)
{
	size_t n = strlen(want);

	if (s.len != n || (n > 0 && memcmp(s.p, want, n) != 0)) {
		print_error("slice \"%.*s\" (len %zu) != \"%s\"\n",
		    (int)s.len, s.p != NULL ? (const char *)s.p : "", s.len,
		    want);
		fail();
	}
}

static void
assert_ok(const char *s)
{
	int r = parse(s);

	if (r != 0) {
		print_error("unexpected error %d: %s at %zu\n", r,
		    E.reason != NULL ? E.reason : "(null)", E.off);
		fail();
	}
}

static void
assert_err_lim(const char *s, const struct sdp_limits *lim, int code,
    const char *reason)
{
	int r = parse_lim(s, lim);

	if (r != -code || E.reason == NULL || strcmp(E.reason, reason) != 0) {
		print_error("got %d \"%s\", want %d \"%s\"\n", r,
		    E.reason != NULL ? E.reason : "(null)", -code, reason);
		fail();
	}
	assert_true(E.off <= body_len);
}

static void
assert_err(const char *s, int code, const char *reason)
{
	assert_err_lim(s, &sdp_limits_default, code, reason);
}

/* Offset of the first occurrence of needle in the body under test. */
static size_t
body_off(const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; i + n <= body_len; i++)
		if (memcmp(body + i, needle, n) == 0)
			return i;
	fail_msg("\"%s\" not in body", needle);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	free(body);
	body = NULL;
	return 0;
}

#define HEAD \
	"v=0\n" \
	"o=- 1 1 IN IP4 192.0.2.1\n" \
	"s=-\n" \
	"c=IN IP4 192.0.2.1\n" \
	"t=0 0\n"
#define AUDIO	HEAD "m=audio 4000 RTP/AVP 0 8 101\n"

#define KEY30	"WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"
#define KEY30B	"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVpbXF1e"
#define KEY29	"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVpbXF0="
#define KEY28	"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVpbXA=="
#define KEY28U	"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVpbXA"
#define KEY44	"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVpbXF1eX2BhYmNkZWZnaGlqa2w="
#define KEY46	"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVpbXF1eX2BhYmNkZWZnaGlqa2xtbg=="

static const char asterisk_offer[] =
    "v=0\n"
    "o=- 1426166539 1426166540 IN IP4 192.0.2.10\n"
    "s=Asterisk\n"
    "c=IN IP4 192.0.2.10\n"
    "t=0 0\n"
    "m=audio 10000 RTP/AVP 0 8 3 101\n"
    "a=rtpmap:0 PCMU/8000\n"
    "a=rtpmap:8 PCMA/8000\n"
    "a=rtpmap:3 GSM/8000\n"
    "a=rtpmap:101 telephone-event/8000\n"
    "a=fmtp:101 0-16\n"
    "a=ptime:20\n"
    "a=maxptime:150\n"
    "a=sendrecv\n";

static const char freeswitch_offer[] =
    "v=0\n"
    "o=FreeSWITCH 1701190382 1701190383 IN IP4 203.0.113.5\n"
    "s=FreeSWITCH\n"
    "c=IN IP4 203.0.113.5\n"
    "t=0 0\n"
    "m=audio 26732 RTP/SAVP 102 9 0 8 101\n"
    "a=rtpmap:102 opus/48000/2\n"
    "a=fmtp:102 useinbandfec=1; maxaveragebitrate=30000; ptime=20\n"
    "a=rtpmap:9 G722/8000\n"
    "a=rtpmap:0 PCMU/8000\n"
    "a=rtpmap:8 PCMA/8000\n"
    "a=rtpmap:101 telephone-event/8000\n"
    "a=fmtp:101 0-16\n"
    "a=crypto:1 AEAD_AES_128_GCM inline:" KEY28 "\n"
    "a=crypto:2 AES_CM_256_HMAC_SHA1_80 inline:" KEY46 "\n"
    "a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "\n"
    "a=crypto:4 AES_CM_128_HMAC_SHA1_32 inline:" KEY30B "\n"
    "a=ptime:20\n";

static const char polycom_offer[] =
    "v=0\n"
    "o=- 1700000100 1700000100 IN IP4 10.1.2.31\n"
    "s=Polycom IP Phone\n"
    "c=IN IP4 10.1.2.31\n"
    "t=0 0\n"
    "a=sendrecv\n"
    "m=audio 2226 RTP/SAVP 9 102 0 8 18 127\n"
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
    "a=rtcp-rsize\n";

static const char webrtc_offer[] =
    "v=0\n"
    "o=- 3865452384857839393 2 IN IP4 127.0.0.1\n"
    "s=-\n"
    "t=0 0\n"
    "a=group:BUNDLE 0 1\n"
    "a=msid-semantic: WMS stream0\n"
    "a=fingerprint:sha-256 D1:2C:BE:AD:C4:F6:64:5C:25:16:11:9C:AF:E7:0F:73:79:36:4E:9C:1E:15:54:39:0C:06:8B:ED:96:86:00:39\n"
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
    "a=sendrecv\n"
    "a=rtcp-mux\n"
    "a=rtpmap:111 opus/48000/2\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\n"
    "a=rtpmap:0 PCMU/8000\n"
    "a=rtpmap:126 telephone-event/8000\n"
    "m=application 54400 UDP/DTLS/SCTP webrtc-datachannel\n"
    "c=IN IP6 2001:db8::141\n"
    "a=ice-ufrag:EsAw\n"
    "a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\n"
    "a=setup:actpass\n"
    "a=mid:1\n"
    "a=sctp-port:5000\n";

static const char *const samples[] = {
	asterisk_offer, freeswitch_offer, polycom_offer, yealink_offer,
	baresip_offer, webrtc_offer,
};

/* ---------------------------------------------------------------- */
/* Valid bodies                                                      */

static void
asterisk_basic(void **state)
{
	const struct sdp_media *m;
	const struct sdp_conn *c;

	(void)state;
	assert_ok(asterisk_offer);
	assert_slice_equal(S.origin.username, "-");
	assert_slice_equal(S.origin.sess_id, "1426166539");
	assert_int_equal(S.origin.sess_version, 1426166540u);
	assert_slice_equal(S.origin.addr, "192.0.2.10");
	assert_slice_equal(S.name, "Asterisk");
	assert_int_equal(S.conn.af, SDP_AF_IP4);
	assert_int_equal(S.ntimes, 1);
	assert_int_equal(S.t_start, 0);
	assert_int_equal(S.nmedia, 1);
	m = &S.media[0];
	assert_int_equal(m->type, SDP_MEDIA_AUDIO);
	assert_int_equal(m->port, 10000);
	assert_int_equal(m->nports, 1);
	assert_int_equal(m->proto_id, SDP_PROTO_RTP_AVP);
	assert_true(m->rtp);
	assert_int_equal(m->nfmts, 4);
	assert_int_equal(m->fmts[3].pt, 101);
	assert_slice_equal(m->fmts[3].rtpmap.encoding, "telephone-event");
	assert_int_equal(m->fmts[3].rtpmap.clock, 8000);
	assert_slice_equal(m->fmts[3].fmtp, "0-16");
	assert_false(slice_set(m->fmts[0].fmtp));
	assert_int_equal(m->ptime, 20);
	assert_int_equal(m->maxptime, 150);
	assert_int_equal(m->dir, SDP_DIR_SENDRECV);
	assert_int_equal(m->attrs.n, 8);
	assert_false(m->has_rtcp);
	c = sdp_media_conn(&S, 0);
	assert_ptr_equal(c, &S.conn);
	assert_slice_equal(c->addr, "192.0.2.10");
	assert_false(c->multicast);
	assert_false(c->unspec);
}

static void
freeswitch_opus_and_crypto(void **state)
{
	const struct sdp_media *m;
	const struct sdp_crypto *cr;
	size_t cur = 0, n = 0;

	(void)state;
	assert_ok(freeswitch_offer);
	m = &S.media[0];
	assert_int_equal(m->proto_id, SDP_PROTO_RTP_SAVP);
	assert_slice_equal(m->fmts[0].rtpmap.encoding, "opus");
	assert_int_equal(m->fmts[0].rtpmap.clock, 48000);
	assert_int_equal(m->fmts[0].rtpmap.channels, 2);
	assert_slice_equal(m->fmts[0].fmtp,
	    "useinbandfec=1; maxaveragebitrate=30000; ptime=20");
	assert_int_equal(m->ncrypto, 4);
	while ((cr = sdp_media_crypto_next(&S, 0, &cur)) != NULL) {
		assert_int_equal(cr->tag, n + 1);
		assert_int_equal(cr->nkeys, 1);
		n++;
	}
	assert_int_equal(n, 4);
	assert_int_equal(m->crypto[0].suite, SDP_SUITE_AEAD_AES_128_GCM);
	assert_slice_equal(m->crypto[0].key.key_salt, KEY28);
	/* FreeSWITCH spelling of the RFC 6188 suite */
	assert_int_equal(m->crypto[1].suite, SDP_SUITE_AES_256_CM_HMAC_SHA1_80);
	assert_slice_equal(m->crypto[1].suite_name, "AES_CM_256_HMAC_SHA1_80");
	assert_int_equal(m->crypto[2].suite, SDP_SUITE_AES_CM_128_HMAC_SHA1_80);
	assert_int_equal(m->crypto[3].suite, SDP_SUITE_AES_CM_128_HMAC_SHA1_32);
	assert_int_equal(m->dir, SDP_DIR_UNSET);
	assert_int_equal(sdp_media_dir(&S, 0), SDP_DIR_SENDRECV);
}

static void
polycom_session_dir_and_lifetime(void **state)
{
	const struct sdp_media *m;
	struct sdp_rtpmap rm;

	(void)state;
	assert_ok(polycom_offer);
	assert_int_equal(S.dir, SDP_DIR_SENDRECV);
	m = &S.media[0];
	assert_int_equal(m->ncrypto, 2);
	assert_slice_equal(m->crypto[0].key.lifetime, "2^31");
	assert_false(slice_set(m->crypto[0].key.mki));
	assert_slice_equal(m->crypto[0].key_params, "inline:" KEY30 "|2^31");
	assert_int_equal(m->crypto[0].session_params.len, 0);
	assert_slice_equal(m->crypto[1].session_params, "UNENCRYPTED_SRTCP");
	assert_int_equal(sdp_media_rtpmap(&S, 0, 102, &rm), 0);
	assert_slice_equal(rm.encoding, "G7221");
	assert_int_equal(rm.clock, 16000);
	assert_slice_equal(m->fmts[4].fmtp, "annexb=no");
}

static void
yealink_lf_only_two_media(void **state)
{
	const struct sdp_media *v;

	(void)state;
	/* As written: bare LF line endings. */
	assert_int_equal(parse_raw(yealink_offer, strlen(yealink_offer)), 0);
	assert_int_equal(S.nmedia, 2);
	v = &S.media[1];
	assert_int_equal(v->type, SDP_MEDIA_VIDEO);
	assert_int_equal(v->nbw, 1);
	assert_slice_equal(v->bw[0].type, "AS");
	assert_int_equal(v->bw[0].value, 2048);
	assert_slice_equal(v->fmts[0].fmtp,
	    "profile-level-id=42801F;packetization-mode=1");
	assert_int_equal(sdp_media_dir(&S, 1), SDP_DIR_SENDRECV);
	/* fmtp before its rtpmap is fine */
	assert_slice_equal(S.media[0].fmts[4].fmtp, "0-15");
	assert_true(S.media[0].fmts[4].has_rtpmap);
}

static void
baresip_rtcp_mux(void **state)
{
	const struct sdp_media *m;
	const struct sdp_attr *a;
	size_t cur = 0;

	(void)state;
	assert_ok(baresip_offer);
	m = &S.media[0];
	assert_true(m->rtcp_mux);
	assert_true(m->has_rtcp);
	assert_int_equal(m->rtcp_port, 10218);
	assert_int_equal(m->rtcp_conn.af, SDP_AF_NONE);
	a = sdp_attr_next(&m->attrs, "rtcp-rsize", &cur);
	assert_non_null(a);
	assert_false(slice_set(a->value));
	cur = 0;
	a = sdp_attr_next(&m->attrs, "label", &cur);
	assert_non_null(a);
	assert_slice_equal(a->value, "1");
}

static void
webrtc_ice_dtls(void **state)
{
	const struct sdp_media *a, *d;
	const struct sdp_attr *at;
	size_t cur = 0, n = 0;

	(void)state;
	assert_ok(webrtc_offer);
	assert_int_equal(S.conn.af, SDP_AF_NONE);
	assert_int_equal(S.nfingerprints, 1);
	assert_int_equal(S.nmedia, 2);
	a = &S.media[0];
	assert_int_equal(a->proto_id, SDP_PROTO_UDP_TLS_RTP_SAVPF);
	assert_slice_equal(a->ice_ufrag, "EsAw");
	assert_slice_equal(a->ice_pwd, "P2uYro0UCOQ4zxjKXaWCBui1");
	assert_slice_equal(a->setup, "actpass");
	assert_slice_equal(a->mid, "0");
	assert_int_equal(a->ncandidates, 2);
	assert_int_equal(a->nfingerprints, 1);
	assert_true(a->fingerprint.len > 64);
	assert_int_equal(a->rtcp_port, 9);
	assert_int_equal(a->rtcp_conn.af, SDP_AF_IP4);
	assert_true(a->rtcp_conn.unspec);
	while ((at = sdp_attr_next(&a->attrs, "candidate", &cur)) != NULL)
		n++;
	assert_int_equal(n, 2);
	d = &S.media[1];
	assert_int_equal(d->proto_id, SDP_PROTO_UDP_DTLS_SCTP);
	assert_false(d->rtp);
	assert_slice_equal(d->fmts[0].fmt, "webrtc-datachannel");
	assert_int_equal(sdp_media_conn(&S, 1)->af, SDP_AF_IP6);
	assert_null(sdp_media_fmt(&S, 1, 0));
	cur = 0;
	at = sdp_attr_next(&S.attrs, "group", &cur);
	assert_non_null(at);
	assert_slice_equal(at->value, "BUNDLE 0 1");
}

static void
ipv6_connection(void **state)
{
	static const char *const good[] = {
		"2001:db8::10", "::1", "::", "fe80::1:2:3:4", "1:2:3:4:5:6:7:8",
		"::ffff:192.0.2.1", "1:2:3:4:5:6:1.2.3.4", "2001:DB8::A",
		"1::", "1:2:3:4:5:6:7::", "ff02::1",
	};
	char buf[512];

	(void)state;
	for (size_t i = 0; i < nitems(good); i++) {
		snprintf(buf, sizeof(buf), "v=0\no=- 1 1 IN IP6 %s\ns=-\n"
		    "c=IN IP6 %s\nt=0 0\nm=audio 4000 RTP/AVP 0\n", good[i],
		    good[i]);
		assert_ok(buf);
		assert_int_equal(S.conn.af, SDP_AF_IP6);
		assert_slice_equal(S.conn.addr, good[i]);
	}
	assert_ok("v=0\no=- 1 1 IN IP6 ::1\ns=-\nc=IN IP6 ::\nt=0 0\n");
	assert_true(S.conn.unspec);
	assert_ok("v=0\no=- 1 1 IN IP6 ::1\ns=-\nc=IN IP6 ff0e::1\nt=0 0\n");
	assert_true(S.conn.multicast);
	assert_ok("v=0\no=- 1 1 IN IP6 ::1\ns=-\nc=IN IP6 ::ff00:1\nt=0 0\n");
	assert_false(S.conn.multicast);
}

static void
ipv4_multicast_suffix(void **state)
{
	(void)state;
	assert_ok(HEAD "m=audio 49170/2 RTP/AVP 0\nc=IN IP4 233.252.0.1/127/3\n");
	assert_int_equal(S.media[0].nports, 2);
	assert_int_equal(S.media[0].conn.ttl, 127);
	assert_int_equal(S.media[0].conn.count, 3);
	assert_true(S.media[0].conn.multicast);
	assert_slice_equal(S.media[0].conn.addr, "233.252.0.1");
	assert_ok(HEAD "m=audio 4000 RTP/AVP 0\nc=IN IP4 224.2.1.1/0\n");
	assert_int_equal(S.media[0].conn.ttl, 0);
	assert_int_equal(S.media[0].conn.count, 1);
}

static void
hold_styles(void **state)
{
	(void)state;
	assert_ok("v=0\no=- 1 2 IN IP4 192.0.2.1\ns=-\nc=IN IP4 0.0.0.0\n"
	    "t=0 0\nm=audio 4000 RTP/AVP 0\na=inactive\n");
	assert_true(sdp_media_conn(&S, 0)->unspec);
	assert_int_equal(sdp_media_dir(&S, 0), SDP_DIR_INACTIVE);
	assert_ok(AUDIO "a=sendonly\n");
	assert_false(sdp_media_conn(&S, 0)->unspec);
	assert_int_equal(sdp_media_dir(&S, 0), SDP_DIR_SENDONLY);
	assert_ok(AUDIO "a=recvonly\n");
	assert_int_equal(sdp_media_dir(&S, 0), SDP_DIR_RECVONLY);
}

static void
session_direction_inherited(void **state)
{
	(void)state;
	assert_ok(HEAD "a=sendonly\nm=audio 4000 RTP/AVP 0\n"
	    "m=video 4002 RTP/AVP 31\na=inactive\nm=audio 4004 RTP/AVP 8\n");
	assert_int_equal(sdp_media_dir(&S, 0), SDP_DIR_SENDONLY);
	assert_int_equal(sdp_media_dir(&S, 1), SDP_DIR_INACTIVE);
	assert_int_equal(sdp_media_dir(&S, 2), SDP_DIR_SENDONLY);
	assert_int_equal(sdp_media_dir(&S, 3), SDP_DIR_UNSET);
	assert_string_equal(sdp_dir_name(SDP_DIR_INACTIVE), "inactive");
	assert_string_equal(sdp_dir_name((enum sdp_dir)99), "unset");
}

static void
media_conn_overrides_session(void **state)
{
	(void)state;
	assert_ok(HEAD "m=audio 4000 RTP/AVP 0\nc=IN IP4 198.51.100.9\n"
	    "m=audio 4002 RTP/AVP 0\n");
	assert_slice_equal(sdp_media_conn(&S, 0)->addr, "198.51.100.9");
	assert_slice_equal(sdp_media_conn(&S, 1)->addr, "192.0.2.1");
	assert_null(sdp_media_conn(&S, 2));
	/* every media with its own c= and none at session level */
	assert_ok("v=0\no=- 1 1 IN IP4 h.example\ns=-\nt=0 0\n"
	    "m=audio 4000 RTP/AVP 0\nc=IN IP4 198.51.100.9\n");
	assert_slice_equal(S.origin.addr, "h.example");
	assert_int_equal(S.conn.af, SDP_AF_NONE);
}

static void
rtcp_attribute_forms(void **state)
{
	(void)state;
	assert_ok(AUDIO "a=rtcp:53020 IN IP4 126.16.64.4\n");
	assert_int_equal(S.media[0].rtcp_port, 53020);
	assert_slice_equal(S.media[0].rtcp_conn.addr, "126.16.64.4");
	assert_ok(AUDIO "a=rtcp:53020 IN IP6 2001:db8::7\n");
	assert_int_equal(S.media[0].rtcp_conn.af, SDP_AF_IP6);
	assert_ok(AUDIO "a=rtcp:4001\n");
	assert_int_equal(S.media[0].rtcp_port, 4001);
}

static void
non_rtp_media(void **state)
{
	(void)state;
	assert_ok(HEAD "m=image 4446 udptl t38\na=T38FaxVersion:0\n"
	    "a=T38FaxMaxDatagram:400\n");
	assert_int_equal(S.media[0].type, SDP_MEDIA_IMAGE);
	assert_int_equal(S.media[0].proto_id, SDP_PROTO_UDPTL);
	assert_false(S.media[0].rtp);
	assert_slice_equal(S.media[0].fmts[0].fmt, "t38");
	assert_ok(HEAD "m=message 2855 TCP/MSRP *\na=path:msrp://h/x;tcp\n");
	assert_int_equal(S.media[0].type, SDP_MEDIA_MESSAGE);
	assert_int_equal(S.media[0].proto_id, SDP_PROTO_OTHER);
	assert_slice_equal(S.media[0].fmts[0].fmt, "*");
	/* fmtp on a non-RTP format is matched by name */
	assert_ok(HEAD "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\n"
	    "a=fmtp:webrtc-datachannel max-message-size=65536\n");
	assert_slice_equal(S.media[0].fmts[0].fmtp, "max-message-size=65536");
}

static void
rejected_stream(void **state)
{
	(void)state;
	/* port 0: no formats and no c= needed */
	assert_ok("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\n"
	    "m=video 0 RTP/AVP\n");
	assert_int_equal(S.media[0].port, 0);
	assert_int_equal(S.media[0].nfmts, 0);
	assert_null(sdp_media_conn(&S, 0));
}

static void
static_and_dynamic_rtpmap(void **state)
{
	struct sdp_rtpmap rm;

	(void)state;
	assert_ok(HEAD "m=audio 4000 RTP/AVP 0 18 96 97 10\n"
	    "a=rtpmap:96 opus/48000/2\n");
	assert_int_equal(sdp_media_rtpmap(&S, 0, 0, &rm), 0);
	assert_slice_equal(rm.encoding, "PCMU");
	assert_int_equal(rm.clock, 8000);
	assert_int_equal(sdp_media_rtpmap(&S, 0, 18, &rm), 0);
	assert_slice_equal(rm.encoding, "G729");
	assert_int_equal(sdp_media_rtpmap(&S, 0, 10, &rm), 0);
	assert_int_equal(rm.channels, 2);
	assert_int_equal(sdp_media_rtpmap(&S, 0, 96, &rm), 0);
	assert_slice_equal(rm.encoding, "opus");
	assert_int_equal(rm.channels, 2);
	/* dynamic without rtpmap, and not on the m= line */
	assert_int_equal(sdp_media_rtpmap(&S, 0, 97, &rm), -SBC_ENOTFOUND);
	assert_int_equal(sdp_media_rtpmap(&S, 0, 8, &rm), -SBC_ENOTFOUND);
	assert_int_equal(sdp_media_rtpmap(&S, 1, 0, &rm), -SBC_ENOTFOUND);
	assert_non_null(sdp_media_fmt(&S, 0, 97));
	assert_null(sdp_media_fmt(&S, 0, 8));
}

static void
rtpmap_for_unlisted_pt_kept_generic(void **state)
{
	(void)state;
	assert_ok(AUDIO "a=rtpmap:99 foo/8000\n");
	assert_int_equal(S.media[0].attrs.n, 1);
	for (size_t i = 0; i < S.media[0].nfmts; i++)
		assert_false(S.media[0].fmts[i].has_rtpmap);
	/* session-level rtpmap/crypto are kept, not decoded */
	assert_ok(HEAD "a=rtpmap:0 PCMU/8000\na=crypto:x\n"
	    "m=audio 4000 RTP/AVP 0\n");
	assert_int_equal(S.attrs.n, 2);
	assert_false(S.media[0].fmts[0].has_rtpmap);
}

static void
crypto_aead_and_padding(void **state)
{
	const struct sdp_media *m;
	uint8_t key[SDP_MAX_KEY];
	size_t klen;

	(void)state;
	assert_ok(HEAD "m=audio 4000 RTP/SAVP 0\n"
	    "a=crypto:1 AEAD_AES_128_GCM inline:" KEY28 "\n"
	    "a=crypto:2 AEAD_AES_128_GCM inline:" KEY28U "\n"
	    "a=crypto:3 AEAD_AES_256_GCM inline:" KEY44 "\n"
	    "a=crypto:4 AES_256_CM_HMAC_SHA1_32 inline:" KEY46 "\n"
	    "a=crypto:5 F8_128_HMAC_SHA1_80 inline:" KEY30 "\n");
	m = &S.media[0];
	assert_int_equal(m->ncrypto, 5);
	assert_int_equal(m->crypto[2].suite, SDP_SUITE_AEAD_AES_256_GCM);
	assert_int_equal(sdp_crypto_key_decode(m->crypto[0].key.key_salt, key,
	    sizeof(key), &klen), 0);
	assert_int_equal(klen, 28);
	assert_int_equal(key[0], 'A');
	assert_int_equal(key[27], 'A' + 27);
	assert_int_equal(sdp_crypto_key_decode(m->crypto[1].key.key_salt, key,
	    sizeof(key), &klen), 0);
	assert_int_equal(klen, 28);
	assert_int_equal(key[27], 'A' + 27);
	assert_int_equal(sdp_crypto_key_decode(m->crypto[1].key.key_salt, key,
	    27, &klen), -SBC_ELIMIT);
	assert_int_equal(sdp_crypto_key_decode(SLICE_LIT("QQ=A"), key,
	    sizeof(key), &klen), -SBC_EPARSE);
	assert_int_equal(sdp_suite_key_len(SDP_SUITE_AEAD_AES_128_GCM), 28);
	assert_int_equal(sdp_suite_key_len(SDP_SUITE_AES_CM_128_HMAC_SHA1_80),
	    30);
	assert_int_equal(sdp_suite_key_len(SDP_SUITE_UNKNOWN), 0);
	assert_int_equal(sdp_suite_key_len((enum sdp_suite)99), 0);
	/* the two non-alphanumeric base64 digits */
	assert_int_equal(sdp_crypto_key_decode(
	    SLICE_LIT("+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/"), key,
	    sizeof(key), &klen), 0);
	assert_int_equal(klen, 30);
	assert_int_equal(key[0], 0xfb);
	assert_int_equal(key[1], 0xff);
	assert_int_equal(key[29], 0xbf);
	assert_string_equal(sdp_suite_name(SDP_SUITE_AEAD_AES_256_GCM),
	    "AEAD_AES_256_GCM");
	assert_string_equal(sdp_suite_name((enum sdp_suite)200), "unknown");
}

static void
crypto_mki_multikey(void **state)
{
	const struct sdp_crypto *cr;
	struct sdp_crypto_key k;
	struct slice cur;

	(void)state;
	/* RFC 4568 section 9.2 example */
	assert_ok(HEAD "m=audio 49170 RTP/SAVP 0\n"
	    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "|2^20|1:4;"
	    "inline:" KEY30B "|2^20|2:4 FEC_ORDER=FEC_SRTP\n");
	cr = &S.media[0].crypto[0];
	assert_int_equal(cr->nkeys, 2);
	assert_slice_equal(cr->key.mki, "1");
	assert_int_equal(cr->key.mki_len, 4);
	assert_slice_equal(cr->key.lifetime, "2^20");
	assert_slice_equal(cr->session_params, "FEC_ORDER=FEC_SRTP");
	cur = cr->key_params;
	assert_int_equal(sdp_crypto_key_next(&cur, &k), 1);
	assert_slice_equal(k.key_salt, KEY30);
	assert_int_equal(sdp_crypto_key_next(&cur, &k), 1);
	assert_slice_equal(k.key_salt, KEY30B);
	assert_slice_equal(k.mki, "2");
	assert_int_equal(sdp_crypto_key_next(&cur, &k), 0);
	/* MKI without lifetime, decimal lifetime */
	assert_ok(HEAD "m=audio 49170 RTP/SAVP 0\n"
	    "a=crypto:7 AES_CM_128_HMAC_SHA1_32 inline:" KEY30 "|1:1\n"
	    "a=crypto:8 AES_CM_128_HMAC_SHA1_32 inline:" KEY30 "|1048576\n");
	assert_int_equal(S.media[0].crypto[0].key.mki_len, 1);
	assert_false(slice_set(S.media[0].crypto[0].key.lifetime));
	assert_slice_equal(S.media[0].crypto[1].key.lifetime, "1048576");
}

static void
crypto_unknown_suite_kept(void **state)
{
	(void)state;
	assert_ok(HEAD "m=audio 4000 RTP/SAVP 0\n"
	    "a=crypto:1 NULL_HMAC_SHA1_80 inline:QUJD\n");
	assert_int_equal(S.media[0].crypto[0].suite, SDP_SUITE_UNKNOWN);
	assert_slice_equal(S.media[0].crypto[0].suite_name,
	    "NULL_HMAC_SHA1_80");
}

static void
tolerated_whitespace_and_endings(void **state)
{
	static const char lf_trailing[] =
	    "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\n"
	    "t=0 0\nm=audio  4000 RTP/AVP 0  8 \na=rtpmap:0 PCMU/8000 \n"
	    "a=ptime:20 \na=sendrecv \n";
	static const char no_final_eol[] =
	    "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
	    "t=0 0\r\nm=audio 4000 RTP/AVP 0";
	static const char trailing_blank[] =
	    "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
	    "t=0 0\r\n\r\n\n";
	static const char mixed[] =
	    "v=0\r\no=- 1 1 IN IP4 192.0.2.1\ns=-\r\nc=IN IP4 192.0.2.1\n"
	    "t=0 0\r\n";

	(void)state;
	assert_int_equal(parse_raw(lf_trailing, strlen(lf_trailing)), 0);
	assert_int_equal(S.media[0].nfmts, 2);
	assert_int_equal(S.media[0].ptime, 20);
	assert_int_equal(S.media[0].dir, SDP_DIR_SENDRECV);
	assert_true(S.media[0].fmts[0].has_rtpmap);
	assert_int_equal(parse_raw(no_final_eol, strlen(no_final_eol)), 0);
	assert_int_equal(S.media[0].fmts[0].pt, 0);
	assert_int_equal(S.media[0].raw.len, strlen("m=audio 4000 RTP/AVP 0"));
	assert_int_equal(parse_raw(trailing_blank, strlen(trailing_blank)), 0);
	assert_int_equal(parse_raw(mixed, strlen(mixed)), 0);
	/* s= may be empty or a single space */
	assert_ok("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=\nt=0 0\n");
	assert_int_equal(S.name.len, 0);
	assert_ok("v=0\no=- 1 1 IN IP4 192.0.2.1\ns= \nt=0 0\n");
	assert_slice_equal(S.name, " ");
}

static void
unknown_lines_and_attrs_ignored(void **state)
{
	(void)state;
	assert_ok("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\ni=info\n"
	    "u=http://x.example/\ne=a@b.example\np=+1 555\n"
	    "c=IN IP4 192.0.2.1\nb=CT:128\nt=0 0\nr=7d 1h 0 25h\n"
	    "z=2882844526 -1h\nk=clear:secret\nx=whatever\n"
	    "a=tool:libfoo\nm=audio 4000 RTP/AVP 0\ni=media info\n"
	    "k=prompt\ny=also ignored\nb=TIAS:64000\nb=AS:64\n"
	    "a=x-custom:1 2 3\na=flag\n");
	assert_slice_equal(S.info, "info");
	assert_int_equal(S.nbw, 1);
	assert_int_equal(S.bw[0].value, 128);
	assert_int_equal(S.media[0].nbw, 2);
	assert_slice_equal(S.media[0].bw[0].type, "TIAS");
	assert_int_equal(S.media[0].attrs.n, 2);
	assert_slice_equal(S.media[0].attrs.v[0].value, "1 2 3");
	assert_slice_equal(S.attrs.v[0].name, "tool");
}

static void
attribute_names_case_insensitive(void **state)
{
	(void)state;
	assert_ok(AUDIO "a=RTPMAP:101 telephone-event/8000\na=SendOnly\n"
	    "a=Crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "\n");
	assert_true(S.media[0].fmts[2].has_rtpmap);
	assert_int_equal(S.media[0].dir, SDP_DIR_SENDONLY);
	assert_int_equal(S.media[0].ncrypto, 1);
	/* ... so a case variant cannot smuggle a bad key past us */
	assert_err(AUDIO "a=CRYPTO:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY29
	    "\n", SBC_EPARSE, "Bad SDP crypto key length");
	/* nettype and addrtype too */
	assert_ok("v=0\no=- 1 1 in ip4 192.0.2.1\ns=-\nc=in ip4 192.0.2.1\n"
	    "t=0 0\n");
}

static void
raw_sections_tile_body(void **state)
{
	size_t at;

	(void)state;
	assert_ok(yealink_offer);
	assert_ptr_equal(S.raw_session.p, body);
	assert_int_equal(S.raw_session.len, body_off("m=audio"));
	at = S.raw_session.len;
	for (size_t i = 0; i < S.nmedia; i++) {
		assert_ptr_equal(S.media[i].raw.p, body + at);
		at += S.media[i].raw.len;
	}
	assert_int_equal(at, body_len);
	assert_int_equal(S.media[1].raw.p - body, body_off("m=video"));
	assert_ok(HEAD);
	assert_int_equal(S.raw_session.len, body_len);
}

static void
null_limits_mean_defaults(void **state)
{
	size_t n;
	const uint8_t *p = crlf_copy(asterisk_offer, &n);

	(void)state;
	assert_int_equal(sdp_parse(p, n, NULL, &S, NULL), 0);
	assert_int_equal(S.nmedia, 1);
	/* reterr may be NULL on failure too */
	assert_int_equal(sdp_parse(p, 3, NULL, &S, NULL), -SBC_EPARSE);
}

static void
accessors_out_of_range(void **state)
{
	struct sdp_rtpmap rm;
	size_t cur = 0;

	(void)state;
	assert_ok(asterisk_offer);
	assert_null(sdp_media_conn(&S, 1));
	assert_int_equal(sdp_media_dir(&S, 5), SDP_DIR_UNSET);
	assert_null(sdp_media_fmt(&S, 1, 0));
	assert_int_equal(sdp_media_rtpmap(&S, 9, 0, &rm), -SBC_ENOTFOUND);
	assert_null(sdp_media_crypto_next(&S, 0, &cur));
	assert_null(sdp_media_crypto_next(&S, 3, &cur));
	cur = 0;
	assert_null(sdp_attr_next(&S.media[0].attrs, "candidate", &cur));
	assert_int_equal(cur, S.media[0].attrs.n);
}

/* ---------------------------------------------------------------- */
/* Framing and structure errors                                      */

static void
err_framing(void **state)
{
	static const char bare_cr[] = "v=0\ro=- 1 1 IN IP4 192.0.2.1\r\n";
	static const char nul[] = "v=0\r\ns=a\0b\r\n";
	static const char blank_mid[] = "v=0\r\n\r\no=- 1 1 IN IP4 1.2.3.4\r\n";
	static const char cr_end[] = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r";

	(void)state;
	assert_int_equal(parse_raw("", 0), -SBC_EPARSE);
	assert_string_equal(E.reason, "Empty SDP body");
	assert_int_equal(parse_raw(bare_cr, sizeof(bare_cr) - 1), -SBC_EPARSE);
	assert_string_equal(E.reason, "Bad SDP line ending");
	assert_int_equal(E.off, 3);
	assert_int_equal(parse_raw(nul, sizeof(nul) - 1), -SBC_EPARSE);
	assert_string_equal(E.reason, "Bad SDP character");
	assert_int_equal(E.off, 8);
	assert_int_equal(parse_raw(blank_mid, sizeof(blank_mid) - 1),
	    -SBC_EPARSE);
	assert_string_equal(E.reason, "Empty SDP line");
	assert_int_equal(E.off, 5);
	assert_int_equal(parse_raw(cr_end, sizeof(cr_end) - 1), -SBC_EPARSE);
	assert_string_equal(E.reason, "Bad SDP line ending");
	assert_int_equal(parse_raw("\r\n\r\n", 4), -SBC_EPARSE);
	assert_string_equal(E.reason, "SDP must start with v=");
}

static void
err_line_shape(void **state)
{
	(void)state;
	assert_err("v=0\nfoo\n", SBC_EPARSE, "Bad SDP line");
	assert_int_equal(E.off, 5);	/* after "v=0\r\n" */
	assert_err("v=0\no =- 1 1 IN IP4 1.2.3.4\n", SBC_EPARSE, "Bad SDP line");
	assert_err("v=0\nx\n", SBC_EPARSE, "Bad SDP line");
	assert_err("v=0\nO=- 1 1 IN IP4 1.2.3.4\n", SBC_EPARSE,
	    "Bad SDP line type");
	assert_err("v=0\n1=x\n", SBC_EPARSE, "Bad SDP line type");
	assert_err("V=0\n", SBC_EPARSE, "Bad SDP line type");
}

static void
err_version(void **state)
{
	(void)state;
	assert_err("o=- 1 1 IN IP4 1.2.3.4\nv=0\n", SBC_EPARSE,
	    "SDP must start with v=");
	assert_err("v=1\n", SBC_EPARSE, "Bad SDP v= line");
	assert_err("v=00\n", SBC_EPARSE, "Bad SDP v= line");
	assert_err("v=\n", SBC_EPARSE, "Bad SDP v= line");
	assert_err(HEAD "v=0\n", SBC_EPARSE, "Duplicate SDP v= line");
}

static void
err_missing_mandatory(void **state)
{
	(void)state;
	assert_err("v=0\ns=-\nt=0 0\n", SBC_EPARSE, "Missing SDP o= line");
	assert_err("v=0\no=- 1 1 IN IP4 1.2.3.4\nt=0 0\n", SBC_EPARSE,
	    "Missing SDP s= line");
	assert_err("v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\n", SBC_EPARSE,
	    "Missing SDP t= line");
	assert_err("v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nt=0 0\n"
	    "m=audio 4000 RTP/AVP 0\n", SBC_EPARSE, "Missing SDP c= line");
	assert_int_equal(E.off, body_off("m=audio"));
	assert_err("v=0\n", SBC_EPARSE, "Missing SDP o= line");
}

static void
err_duplicates_session(void **state)
{
	(void)state;
	assert_err(HEAD "o=- 1 1 IN IP4 1.2.3.4\n", SBC_EPARSE,
	    "Duplicate SDP o= line");
	assert_err(HEAD "s=again\n", SBC_EPARSE, "Duplicate SDP s= line");
	assert_err(HEAD "c=IN IP4 1.2.3.4\n", SBC_EPARSE,
	    "Duplicate SDP c= line");
	assert_err(AUDIO "c=IN IP4 1.2.3.4\nc=IN IP4 1.2.3.5\n", SBC_EPARSE,
	    "Duplicate SDP c= line");
}

static void
err_session_line_in_media(void **state)
{
	static const char *const lines[] = {
		"t=1 2", "s=x", "o=- 1 1 IN IP4 1.2.3.4", "v=9", "u=x",
		"e=x", "p=x", "r=x", "z=x",
	};
	char buf[256];

	(void)state;
	for (size_t i = 0; i < nitems(lines); i++) {
		snprintf(buf, sizeof(buf), AUDIO "%s\n", lines[i]);
		assert_err(buf, SBC_EPARSE, "SDP session line in media section");
		assert_int_equal(E.off, body_off(lines[i]));
	}
}

static void
err_origin(void **state)
{
	(void)state;
	assert_err("v=0\no=- 1 1 IN IP4\n", SBC_EPARSE, "Bad SDP o= line");
	assert_err("v=0\no=- 1 1 IN IP4 1.2.3.4 extra\n", SBC_EPARSE,
	    "Bad SDP o= line");
	assert_err("v=0\no=a\x01b 1 1 IN IP4 1.2.3.4\n", SBC_EPARSE,
	    "Bad SDP o= username");
	assert_err("v=0\no=- 1x 1 IN IP4 1.2.3.4\n", SBC_EPARSE,
	    "Bad SDP o= session id");
	assert_err("v=0\no=- 1 -1 IN IP4 1.2.3.4\n", SBC_EPARSE,
	    "Bad SDP o= session version");
	assert_err("v=0\no=- 1 18446744073709551616 IN IP4 1.2.3.4\n",
	    SBC_EPARSE, "Bad SDP o= session version");
	assert_err("v=0\no=- 1 1 ATM IP4 1.2.3.4\n", SBC_EPARSE,
	    "Bad SDP o= network type");
	assert_err("v=0\no=- 1 1 IN IPX 1.2.3.4\n", SBC_EPARSE,
	    "Bad SDP o= address type");
	assert_err("v=0\no=- 1 1 IN IP4 a_b\n", SBC_EPARSE,
	    "Bad SDP o= address");
	assert_ok("v=0\no=- 1 18446744073709551615 IN IP4 1.2.3.4\ns=-\n"
	    "t=0 0\n");
	assert_true(S.origin.sess_version == UINT64_MAX);
}

static void
err_connection(void **state)
{
	(void)state;
	assert_err(HEAD "m=audio 4000 RTP/AVP 0\nc=IN IP4\n", SBC_EPARSE,
	    "Bad SDP c= line");
	assert_err(HEAD "m=audio 4000 RTP/AVP 0\nc=IN IP4 1.2.3.4 x\n",
	    SBC_EPARSE, "Bad SDP c= line");
	assert_err(HEAD "m=audio 4000 RTP/AVP 0\nc=ATM NSAP 1.2.3.4\n",
	    SBC_EPARSE, "Bad SDP c= network type");
	assert_err(HEAD "m=audio 4000 RTP/AVP 0\nc=IN IP5 1.2.3.4\n",
	    SBC_EPARSE, "Bad SDP c= address type");
	/* address of the wrong family */
	assert_err(HEAD "m=audio 4000 RTP/AVP 0\nc=IN IP4 ::1\n",
	    SBC_EPARSE, "Bad SDP c= address");
	assert_err(HEAD "m=audio 4000 RTP/AVP 0\nc=IN IP6 1.2.3.4\n",
	    SBC_EPARSE, "Bad SDP c= address");
	assert_int_equal(E.off, body_off("1.2.3.4\r\n"));
}

static void
err_connection_addresses(void **state)
{
	static const char *const bad4[] = {
		"256.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.04",
		"1..3.4", "1.2.3.", ".1.2.3", "1.2.3.4a", "1.2.3.-4",
		"1234.1.1.1", "host.example.com", "1.2.3.4/32", "1.2.3.4/",
		"224.1.1.1/256", "224.1.1.1/1/0", "224.1.1.1/1/2/3",
		"224.1.1.1/x", "224.1.1.1//2", "0x7f.0.0.1",
	};
	static const char *const bad6[] = {
		":", ":1", "1:", "1:::2", "1::2::3", "12345::1", "::g",
		"1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "::ffff:1.2.3",
		"::ffff:256.1.1.1", "1:2:3:4:5:6:7:1.2.3.4", "fe80::1%eth0",
		"[::1]", "2001:db8::1/64", "ff02::1/2", "::1.2.3.4:1",
		"1:2:3:4:5:6:7:8::", "0000000000000000000000000000000000000000000001",
	};
	char buf[512];

	(void)state;
	for (size_t i = 0; i < nitems(bad4); i++) {
		snprintf(buf, sizeof(buf), HEAD "m=audio 4000 RTP/AVP 0\n"
		    "c=IN IP4 %s\n", bad4[i]);
		assert_err(buf, SBC_EPARSE, "Bad SDP c= address");
	}
	for (size_t i = 0; i < nitems(bad6); i++) {
		snprintf(buf, sizeof(buf), HEAD "m=audio 4000 RTP/AVP 0\n"
		    "c=IN IP6 %s\n", bad6[i]);
		assert_err(buf, SBC_EPARSE, "Bad SDP c= address");
	}
}

static void
err_time_and_bandwidth(void **state)
{
	(void)state;
	assert_err("v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nt=0\n", SBC_EPARSE,
	    "Bad SDP t= line");
	assert_err("v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nt=0 x\n", SBC_EPARSE,
	    "Bad SDP t= line");
	assert_err("v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nt=0 0 0\n", SBC_EPARSE,
	    "Bad SDP t= line");
	assert_err(HEAD "b=AS\n", SBC_EPARSE, "Bad SDP b= line");
	assert_err(HEAD "b=:64\n", SBC_EPARSE, "Bad SDP b= line");
	assert_err(HEAD "b=AS:-1\n", SBC_EPARSE, "Bad SDP b= line");
	assert_err(HEAD "b=AS:4294967296\n", SBC_EPARSE, "Bad SDP b= line");
	assert_ok(HEAD "t=1 2\n");
	assert_int_equal(S.ntimes, 2);
	assert_int_equal(S.t_start, 0);
}

/* ---------------------------------------------------------------- */
/* m= errors                                                         */

static void
err_media_line(void **state)
{
	(void)state;
	assert_err(HEAD "m=audio 4000\n", SBC_EPARSE, "Bad SDP m= line");
	assert_err(HEAD "m=\n", SBC_EPARSE, "Bad SDP m= line");
	assert_err(HEAD "m=au:dio 4000 RTP/AVP 0\n", SBC_EPARSE,
	    "Bad SDP m= media type");
	assert_err(HEAD "m=audio 4000 RTP//AVP 0\n", SBC_EPARSE,
	    "Bad SDP m= proto");
	assert_err(HEAD "m=audio 4000 /AVP 0\n", SBC_EPARSE,
	    "Bad SDP m= proto");
	assert_err(HEAD "m=audio 4000 RTP/AVP\n", SBC_EPARSE,
	    "Missing SDP m= formats");
}

static void
err_media_port(void **state)
{
	static const char *const bad[] = {
		"65536", "-1", "x", "4000x", "", "99999999999999999999",
	};
	char buf[256];

	(void)state;
	for (size_t i = 0; i < nitems(bad); i++) {
		snprintf(buf, sizeof(buf), HEAD "m=audio %s/2 RTP/AVP 0\n",
		    bad[i]);
		assert_err(buf, SBC_EPARSE, "Bad SDP m= port");
		assert_int_equal(E.off, body_off("m=audio") + 8);
	}
	assert_err(HEAD "m=audio 4000/0 RTP/AVP 0\n", SBC_EPARSE,
	    "Bad SDP m= port count");
	assert_err(HEAD "m=audio 4000/ RTP/AVP 0\n", SBC_EPARSE,
	    "Bad SDP m= port count");
	assert_err(HEAD "m=audio 4000/2/2 RTP/AVP 0\n", SBC_EPARSE,
	    "Bad SDP m= port count");
	assert_ok(HEAD "m=audio 65535 RTP/AVP 0\n");
	assert_int_equal(S.media[0].port, 65535);
}

static void
err_media_formats(void **state)
{
	(void)state;
	assert_err(HEAD "m=audio 4000 RTP/AVP 0 128\n", SBC_EPARSE,
	    "Bad SDP m= payload type");
	assert_int_equal(E.off, body_off("128"));
	assert_err(HEAD "m=audio 4000 RTP/AVP 0 PCMU\n", SBC_EPARSE,
	    "Bad SDP m= payload type");
	assert_err(HEAD "m=audio 4000 RTP/AVP 0 8 0\n", SBC_EPARSE,
	    "Duplicate SDP m= format");
	assert_err(HEAD "m=audio 4000 RTP/AVP 08 8\n", SBC_EPARSE,
	    "Duplicate SDP m= format");
	assert_err(HEAD "m=image 4000 udptl t38 t38\n", SBC_EPARSE,
	    "Duplicate SDP m= format");
	assert_err(HEAD "m=image 4000 udptl t3:8\n", SBC_EPARSE,
	    "Bad SDP m= format");
	assert_ok(HEAD "m=audio 4000 RTP/AVP 127\n");
}

/* ---------------------------------------------------------------- */
/* Attribute errors                                                  */

static void
err_attribute_name(void **state)
{
	(void)state;
	assert_err(AUDIO "a=\n", SBC_EPARSE, "Bad SDP attribute name");
	assert_err(AUDIO "a=:x\n", SBC_EPARSE, "Bad SDP attribute name");
	assert_err(AUDIO "a=na me\n", SBC_EPARSE, "Bad SDP attribute name");
	assert_err(HEAD "a=(x):1\n", SBC_EPARSE, "Bad SDP attribute name");
}

static void
err_rtpmap(void **state)
{
	(void)state;
	assert_err(AUDIO "a=rtpmap:101\n", SBC_EPARSE, "Bad SDP rtpmap");
	assert_err(AUDIO "a=rtpmap:101 telephone-event/8000 x\n", SBC_EPARSE,
	    "Bad SDP rtpmap");
	assert_err(AUDIO "a=rtpmap:128 foo/8000\n", SBC_EPARSE,
	    "Bad SDP rtpmap payload type");
	assert_err(AUDIO "a=rtpmap:x foo/8000\n", SBC_EPARSE,
	    "Bad SDP rtpmap payload type");
	assert_err(AUDIO "a=rtpmap:101 telephone-event\n", SBC_EPARSE,
	    "Bad SDP rtpmap encoding");
	assert_err(AUDIO "a=rtpmap:101 /8000\n", SBC_EPARSE,
	    "Bad SDP rtpmap encoding");
	assert_err(AUDIO "a=rtpmap:101 te/0\n", SBC_EPARSE,
	    "Bad SDP rtpmap clock rate");
	assert_err(AUDIO "a=rtpmap:101 te/\n", SBC_EPARSE,
	    "Bad SDP rtpmap clock rate");
	assert_err(AUDIO "a=rtpmap:101 te/4294967296\n", SBC_EPARSE,
	    "Bad SDP rtpmap clock rate");
	assert_err(AUDIO "a=rtpmap:101 opus/48000/0\n", SBC_EPARSE,
	    "Bad SDP rtpmap channels");
	assert_err(AUDIO "a=rtpmap:101 opus/48000/2/1\n", SBC_EPARSE,
	    "Bad SDP rtpmap channels");
	assert_err(AUDIO "a=rtpmap:101 a/8000\na=rtpmap:101 b/8000\n",
	    SBC_EPARSE, "Duplicate SDP rtpmap");
}

static void
err_fmtp(void **state)
{
	(void)state;
	assert_err(AUDIO "a=fmtp:\n", SBC_EPARSE, "Bad SDP fmtp");
	assert_err(AUDIO "a=fmtp:x 0-16\n", SBC_EPARSE,
	    "Bad SDP fmtp payload type");
	assert_err(AUDIO "a=fmtp:300 0-16\n", SBC_EPARSE,
	    "Bad SDP fmtp payload type");
	assert_err(AUDIO "a=fmtp:101 0-16\na=fmtp:101 0-15\n", SBC_EPARSE,
	    "Duplicate SDP fmtp");
	assert_ok(AUDIO "a=fmtp:101\n");
	assert_true(slice_set(S.media[0].fmts[2].fmtp));
	assert_int_equal(S.media[0].fmts[2].fmtp.len, 0);
}

static void
err_crypto_syntax(void **state)
{
#define SAVP	HEAD "m=audio 4000 RTP/SAVP 0\n"
	(void)state;
	assert_err(SAVP "a=crypto:1 AES_CM_128_HMAC_SHA1_80\n", SBC_EPARSE,
	    "Bad SDP crypto attribute");
	assert_err(SAVP "a=crypto:\n", SBC_EPARSE, "Bad SDP crypto attribute");
	assert_err(SAVP "a=crypto:x AES_CM_128_HMAC_SHA1_80 inline:" KEY30
	    "\n", SBC_EPARSE, "Bad SDP crypto tag");
	assert_err(SAVP "a=crypto:1000000000 AES_CM_128_HMAC_SHA1_80 inline:"
	    KEY30 "\n", SBC_EPARSE, "Bad SDP crypto tag");
	assert_err(SAVP "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30
	    "\na=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:" KEY30 "\n",
	    SBC_EPARSE, "Duplicate SDP crypto tag");
	assert_err(SAVP "a=crypto:1 AES-CM inline:" KEY30 "\n", SBC_EPARSE,
	    "Bad SDP crypto suite");
	assert_err(SAVP "a=crypto:1 AES_CM_128_HMAC_SHA1_80 uri:" KEY30 "\n",
	    SBC_EPARSE, "Bad SDP crypto key");
	assert_err(SAVP "a=crypto:1 AES_CM_128_HMAC_SHA1_80 " KEY30 "\n",
	    SBC_EPARSE, "Bad SDP crypto key");
	assert_err(SAVP "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:\n",
	    SBC_EPARSE, "Bad SDP crypto key");
	assert_err(SAVP "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"
	    "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubG!z\n", SBC_EPARSE,
	    "Bad SDP crypto key");
	assert_err(SAVP "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:QQ=A"
	    "\n", SBC_EPARSE, "Bad SDP crypto key");
	assert_err(SAVP "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30
	    ";\n", SBC_EPARSE, "Bad SDP crypto key");
	assert_err(SAVP "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30
	    "|\n", SBC_EPARSE, "Bad SDP crypto key");
#undef SAVP
}

static void
err_crypto_key_length(void **state)
{
#define SAVP	HEAD "m=audio 4000 RTP/SAVP 0\n"
	(void)state;
	assert_err(SAVP "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY29
	    "\n", SBC_EPARSE, "Bad SDP crypto key length");
	assert_int_equal(E.off, body_off(KEY29));
	assert_err(SAVP "a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:" KEY28
	    "\n", SBC_EPARSE, "Bad SDP crypto key length");
	assert_err(SAVP "a=crypto:1 AEAD_AES_128_GCM inline:" KEY30 "\n",
	    SBC_EPARSE, "Bad SDP crypto key length");
	assert_err(SAVP "a=crypto:1 AEAD_AES_256_GCM inline:" KEY46 "\n",
	    SBC_EPARSE, "Bad SDP crypto key length");
	assert_err(SAVP "a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:" KEY44
	    "\n", SBC_EPARSE, "Bad SDP crypto key length");
	/* the second key of a line is checked too */
	assert_err(SAVP "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30
	    "|1:4;inline:" KEY29 "|2:4\n", SBC_EPARSE,
	    "Bad SDP crypto key length");
#undef SAVP
}

static void
err_crypto_lifetime_mki(void **state)
{
#define CR	HEAD "m=audio 4000 RTP/SAVP 0\n" \
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30
	(void)state;
	assert_err(CR "|2^0\n", SBC_EPARSE, "Bad SDP crypto key");
	assert_err(CR "|2^65\n", SBC_EPARSE, "Bad SDP crypto key");
	assert_err(CR "|2^\n", SBC_EPARSE, "Bad SDP crypto key");
	assert_err(CR "|0\n", SBC_EPARSE, "Bad SDP crypto key");
	assert_err(CR "|x\n", SBC_EPARSE, "Bad SDP crypto key");
	assert_err(CR "|2^20|2^20\n", SBC_EPARSE, "Bad SDP crypto key");
	assert_err(CR "|1:4|2^20\n", SBC_EPARSE, "Bad SDP crypto key");
	assert_err(CR "|1:0\n", SBC_EPARSE, "Bad SDP crypto key");
	assert_err(CR "|1:129\n", SBC_EPARSE, "Bad SDP crypto key");
	assert_err(CR "|:4\n", SBC_EPARSE, "Bad SDP crypto key");
	assert_err(CR "|256:1\n", SBC_EPARSE, "Bad SDP crypto key");
	assert_err(CR "|1:4|2:4\n", SBC_EPARSE, "Bad SDP crypto key");
	/* several keys need an MKI each, of one length */
	assert_err(CR ";inline:" KEY30 "\n", SBC_EPARSE, "Bad SDP crypto MKI");
	assert_err(CR "|1:4;inline:" KEY30 "|2:2\n", SBC_EPARSE,
	    "Bad SDP crypto MKI");
	assert_ok(CR "|255:1\n");
	assert_ok(CR "|1:128\n");
#undef CR
}

static void
err_rtcp(void **state)
{
	(void)state;
	assert_err(AUDIO "a=rtcp:\n", SBC_EPARSE, "Bad SDP rtcp port");
	assert_err(AUDIO "a=rtcp:65536\n", SBC_EPARSE, "Bad SDP rtcp port");
	assert_err(AUDIO "a=rtcp:x IN IP4 1.2.3.4\n", SBC_EPARSE,
	    "Bad SDP rtcp port");
	assert_err(AUDIO "a=rtcp:4001 IN IP4\n", SBC_EPARSE,
	    "Bad SDP rtcp attribute");
	assert_err(AUDIO "a=rtcp:4001 IN\n", SBC_EPARSE,
	    "Bad SDP rtcp attribute");
	assert_err(AUDIO "a=rtcp:4001 ATM IP4 1.2.3.4\n", SBC_EPARSE,
	    "Bad SDP rtcp attribute");
	assert_err(AUDIO "a=rtcp:4001 IN IP4 1.2.3.4 x\n", SBC_EPARSE,
	    "Bad SDP rtcp attribute");
	assert_err(AUDIO "a=rtcp:4001 IN IP4 224.1.1.1/3\n", SBC_EPARSE,
	    "Bad SDP rtcp address");
	assert_err(AUDIO "a=rtcp:4001 IN IP4 1.2.3.256\n", SBC_EPARSE,
	    "Bad SDP rtcp address");
	assert_err(AUDIO "a=rtcp:4001\na=rtcp:4003\n", SBC_EPARSE,
	    "Duplicate SDP rtcp attribute");
}

static void
err_ptime(void **state)
{
	(void)state;
	assert_err(AUDIO "a=ptime:0\n", SBC_EPARSE, "Bad SDP ptime");
	assert_err(AUDIO "a=ptime:20.5\n", SBC_EPARSE, "Bad SDP ptime");
	assert_err(AUDIO "a=ptime:\n", SBC_EPARSE, "Bad SDP ptime");
	assert_err(AUDIO "a=ptime\n", SBC_EPARSE, "Bad SDP ptime");
	assert_err(AUDIO "a=ptime:10001\n", SBC_EPARSE, "Bad SDP ptime");
	assert_err(AUDIO "a=maxptime:x\n", SBC_EPARSE, "Bad SDP maxptime");
	assert_err(AUDIO "a=ptime:20\na=ptime:30\n", SBC_EPARSE,
	    "Duplicate SDP ptime");
	assert_err(AUDIO "a=maxptime:20\na=maxptime:30\n", SBC_EPARSE,
	    "Duplicate SDP maxptime");
	/* at session level it is only kept */
	assert_ok(HEAD "a=ptime:0\nm=audio 4000 RTP/AVP 0\n");
	assert_int_equal(S.media[0].ptime, 0);
}

static void
err_direction(void **state)
{
	(void)state;
	assert_err(AUDIO "a=sendonly\na=recvonly\n", SBC_EPARSE,
	    "Duplicate SDP direction attribute");
	assert_err(HEAD "a=sendonly\na=sendonly\n", SBC_EPARSE,
	    "Duplicate SDP direction attribute");
	assert_err(AUDIO "a=inactive:1\n", SBC_EPARSE,
	    "Bad SDP direction attribute");
	/* session and media each may have one */
	assert_ok(HEAD "a=sendonly\nm=audio 4000 RTP/AVP 0\na=recvonly\n");
}

static void
err_mid_ice_dtls(void **state)
{
	(void)state;
	assert_err(AUDIO "a=mid:\n", SBC_EPARSE, "Bad SDP mid");
	assert_err(AUDIO "a=mid:a b\n", SBC_EPARSE, "Bad SDP mid");
	assert_err(AUDIO "a=mid:0\na=mid:1\n", SBC_EPARSE, "Duplicate SDP mid");
	assert_err(AUDIO "a=mid:0\nm=video 4002 RTP/AVP 31\na=mid:0\n",
	    SBC_EPARSE, "Duplicate SDP mid");
	assert_err(AUDIO "a=ice-ufrag:a b\n", SBC_EPARSE, "Bad SDP ice-ufrag");
	assert_err(AUDIO "a=ice-ufrag:\n", SBC_EPARSE, "Bad SDP ice-ufrag");
	assert_err(AUDIO "a=ice-ufrag:abcd\na=ice-ufrag:efgh\n", SBC_EPARSE,
	    "Duplicate SDP ice-ufrag");
	assert_err(HEAD "a=ice-pwd:bad;pwd\n", SBC_EPARSE, "Bad SDP ice-pwd");
	assert_err(AUDIO "a=ice-pwd:abcd\na=ice-pwd:abcd\n", SBC_EPARSE,
	    "Duplicate SDP ice-pwd");
	assert_err(AUDIO "a=setup:maybe\n", SBC_EPARSE, "Bad SDP setup");
	assert_err(AUDIO "a=setup:active\na=setup:passive\n", SBC_EPARSE,
	    "Duplicate SDP setup");
	assert_err(AUDIO "a=fingerprint:sha-256\n", SBC_EPARSE,
	    "Bad SDP fingerprint");
	assert_err(AUDIO "a=fingerprint:sha-256 ZZ:00\n", SBC_EPARSE,
	    "Bad SDP fingerprint");
	assert_err(AUDIO "a=candidate:\n", SBC_EPARSE, "Bad SDP candidate");
	/* two fingerprints with different hashes are fine */
	assert_ok(AUDIO "a=fingerprint:sha-256 AB:CD\n"
	    "a=fingerprint:sha-1 EF:01\n");
	assert_int_equal(S.media[0].nfingerprints, 2);
	assert_slice_equal(S.media[0].fingerprint, "sha-256 AB:CD");
	assert_ok(HEAD "a=ice-lite\na=ice-ufrag:abcd\n");
	assert_true(S.ice_lite);
	assert_slice_equal(S.ice_ufrag, "abcd");
}

/* ---------------------------------------------------------------- */
/* Limits                                                            */

/* Append fmt-formatted text to buf[0..cap) at *len. */
__attribute__((format(printf, 4, 5))) static void
cat(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *len, cap - *len, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < cap - *len);
	*len += (size_t)n;
}

static void
limit_media(void **state)
{
	static char buf[8192];
	struct sdp_limits lim = sdp_limits_default;
	size_t len = 0;

	(void)state;
	cat(buf, sizeof(buf), &len, HEAD);
	for (int i = 0; i < SDP_MAX_MEDIA; i++)
		cat(buf, sizeof(buf), &len, "m=audio %d RTP/AVP 0\n",
		    4000 + 2 * i);
	assert_ok(buf);
	assert_int_equal(S.nmedia, SDP_MAX_MEDIA);
	cat(buf, sizeof(buf), &len, "m=audio 5000 RTP/AVP 0\n");
	assert_err(buf, SBC_ELIMIT, "Too many SDP media sections");
	assert_int_equal(E.off, body_off("m=audio 5000"));
	/* a configured limit above the ceiling is clamped */
	lim.max_media = 1000;
	assert_err_lim(buf, &lim, SBC_ELIMIT, "Too many SDP media sections");
	/* and a lower one applies */
	lim.max_media = 2;
	assert_err_lim(AUDIO "m=video 0 RTP/AVP 31\nm=text 0 RTP/AVP 98\n",
	    &lim, SBC_ELIMIT, "Too many SDP media sections");
	assert_int_equal(parse_lim(AUDIO "m=video 0 RTP/AVP 31\n", &lim), 0);
}

static void
limit_attrs(void **state)
{
	static char buf[8192];
	size_t len = 0;

	(void)state;
	cat(buf, sizeof(buf), &len, AUDIO);
	for (int i = 0; i < SDP_MAX_ATTRS; i++)
		cat(buf, sizeof(buf), &len, "a=x-%d:v\n", i);
	assert_ok(buf);
	assert_int_equal(S.media[0].attrs.n, SDP_MAX_ATTRS);
	cat(buf, sizeof(buf), &len, "a=sendrecv\n");
	assert_err(buf, SBC_ELIMIT, "Too many SDP attributes");
	assert_int_equal(E.off, body_off("sendrecv"));
	/* the session level has its own budget */
	len = 0;
	cat(buf, sizeof(buf), &len, HEAD);
	for (int i = 0; i <= SDP_MAX_ATTRS; i++)
		cat(buf, sizeof(buf), &len, "a=y-%d\n", i);
	assert_err(buf, SBC_ELIMIT, "Too many SDP attributes");
}

static void
limit_fmts(void **state)
{
	static char buf[4096];
	size_t len = 0;

	(void)state;
	cat(buf, sizeof(buf), &len, HEAD "m=audio 4000 RTP/AVP");
	for (int i = 0; i < SDP_MAX_FMTS; i++)
		cat(buf, sizeof(buf), &len, " %d", 96 + i);
	cat(buf, sizeof(buf), &len, "\n");
	assert_ok(buf);
	assert_int_equal(S.media[0].nfmts, SDP_MAX_FMTS);
	len -= 1;
	cat(buf, sizeof(buf), &len, " 0\n");
	assert_err(buf, SBC_ELIMIT, "Too many SDP m= formats");
}

static void
limit_crypto(void **state)
{
	static char buf[4096];
	size_t len = 0;

	(void)state;
	cat(buf, sizeof(buf), &len, HEAD "m=audio 4000 RTP/SAVP 0\n");
	for (int i = 0; i < SDP_MAX_CRYPTO; i++)
		cat(buf, sizeof(buf), &len,
		    "a=crypto:%d AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "\n",
		    i + 1);
	assert_ok(buf);
	assert_int_equal(S.media[0].ncrypto, SDP_MAX_CRYPTO);
	cat(buf, sizeof(buf), &len,
	    "a=crypto:99 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "\n");
	assert_err(buf, SBC_ELIMIT, "Too many SDP crypto attributes");
}

static void
limit_bw(void **state)
{
	static char buf[1024];
	size_t len = 0;

	(void)state;
	cat(buf, sizeof(buf), &len, HEAD);
	for (int i = 0; i < SDP_MAX_BW; i++)
		cat(buf, sizeof(buf), &len, "b=X%d:1\n", i);
	assert_ok(buf);
	cat(buf, sizeof(buf), &len, "b=AS:1\n");
	assert_err(buf, SBC_ELIMIT, "Too many SDP b= lines");
}

static void
limit_lines(void **state)
{
	struct sdp_limits lim = sdp_limits_default;

	(void)state;
	lim.max_lines = 5;
	assert_int_equal(parse_lim(HEAD, &lim), 0);
	assert_err_lim(HEAD "a=x\n", &lim, SBC_ELIMIT, "Too many SDP lines");
	/* trailing blank lines count too */
	assert_err_lim(HEAD "\n", &lim, SBC_ELIMIT, "Too many SDP lines");
}

static void
limit_line_length(void **state)
{
	static char buf[4096], line[2100];
	struct sdp_limits lim = sdp_limits_default;
	size_t n;

	(void)state;
	lim.max_line = 100;
	/* "a=x:" plus padding to exactly max_line bytes */
	n = lim.max_line - 4;
	memset(line, 'v', n);
	line[n] = '\0';
	snprintf(buf, sizeof(buf), HEAD "a=x:%s\n", line);
	assert_int_equal(parse_lim(buf, &lim), 0);
	assert_int_equal(S.attrs.v[0].value.len, n);
	/* same as the last line without a line ending */
	assert_int_equal(sdp_parse(body, body_len - 2, &lim, &S, &E), 0);
	line[n] = 'v';
	line[n + 1] = '\0';
	snprintf(buf, sizeof(buf), HEAD "a=x:%s\n", line);
	assert_err_lim(buf, &lim, SBC_ELIMIT, "SDP line too long");
	assert_int_equal(E.off, body_off("a=x:"));
	/* LF-only: the same bound */
	assert_int_equal(parse_raw(buf, strlen(buf)), 0);
	assert_int_equal(sdp_parse(body, body_len, &lim, &S, &E), -SBC_ELIMIT);
	/* the unterminated last line too */
	assert_int_equal(sdp_parse(body, body_len - 1, &lim, &S, &E),
	    -SBC_ELIMIT);
	assert_string_equal(E.reason, "SDP line too long");
}

static void
limit_body(void **state)
{
	struct sdp_limits lim = sdp_limits_default;
	size_t n;

	(void)state;
	(void)crlf_copy(asterisk_offer, &n);
	lim.max_body = n;
	assert_int_equal(sdp_parse(body, n, &lim, &S, &E), 0);
	lim.max_body = n - 1;
	assert_int_equal(sdp_parse(body, n, &lim, &S, &E), -SBC_ELIMIT);
	assert_string_equal(E.reason, "SDP body too large");
	assert_true(E.off <= n);
}

/* ---------------------------------------------------------------- */
/* Robustness                                                        */

static void
every_prefix_is_safe(void **state)
{
	(void)state;
	for (size_t k = 0; k < nitems(samples); k++) {
		size_t n;
		const uint8_t *full = crlf_copy(samples[k], &n);
		uint8_t *copy = malloc(n);

		assert_non_null(copy);
		memcpy(copy, full, n);
		for (size_t cut = 0; cut <= n; cut++) {
			const uint8_t *p = guard_copy(copy, cut);
			int r;

			memset(&E, 0, sizeof(E));
			r = sdp_parse(p, cut, &sdp_limits_default, &S, &E);
			assert_true(r == 0 || r == -SBC_EPARSE ||
			    r == -SBC_ELIMIT);
			if (r < 0)
				assert_true(E.reason != NULL && E.off <= cut);
		}
		assert_int_equal(sdp_parse(body, n, NULL, &S, &E), 0);
		free(copy);
		/* and LF-only */
		n = strlen(samples[k]);
		for (size_t cut = 0; cut <= n; cut++) {
			const uint8_t *p = guard_copy(samples[k], cut);
			int r = sdp_parse(p, cut, NULL, &S, &E);

			assert_true(r == 0 || r == -SBC_EPARSE);
		}
	}
}

static void
every_byte_mutation_is_safe(void **state)
{
	static const uint8_t subst[] = {
		0, '\r', '\n', ' ', '/', ':', '=', '|', ';', '9', 'z', 0xff,
	};
	size_t n;
	const uint8_t *full;
	uint8_t *copy;

	(void)state;
	full = crlf_copy(freeswitch_offer, &n);
	copy = malloc(n);
	assert_non_null(copy);
	memcpy(copy, full, n);
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < nitems(subst); k++) {
			uint8_t save = copy[i];
			const uint8_t *p;
			int r;

			copy[i] = subst[k];
			p = guard_copy(copy, n);
			r = sdp_parse(p, n, NULL, &S, &E);
			assert_true(r == 0 || r == -SBC_EPARSE ||
			    r == -SBC_ELIMIT);
			if (r < 0)
				assert_true(E.off <= n);
			copy[i] = save;
		}
	}
	free(copy);
}

static void
input_is_never_written(void **state)
{
	size_t n;
	const uint8_t *p;
	uint8_t *before;

	(void)state;
	p = crlf_copy(webrtc_offer, &n);
	before = malloc(n);
	assert_non_null(before);
	memcpy(before, p, n);
	assert_int_equal(sdp_parse(p, n, NULL, &S, &E), 0);
	assert_memory_equal(before, p, n);
	free(before);
}

static void
reparse_clears_previous_state(void **state)
{
	(void)state;
	assert_ok(webrtc_offer);
	assert_ok(HEAD "m=audio 4000 RTP/AVP 0\n");
	assert_int_equal(S.nmedia, 1);
	assert_int_equal(S.nfingerprints, 0);
	assert_int_equal(S.attrs.n, 0);
	assert_int_equal(S.media[0].attrs.n, 0);
	assert_int_equal(S.media[0].ncandidates, 0);
	assert_false(slice_set(S.media[0].mid));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(asterisk_basic),
		cmocka_unit_test(freeswitch_opus_and_crypto),
		cmocka_unit_test(polycom_session_dir_and_lifetime),
		cmocka_unit_test(yealink_lf_only_two_media),
		cmocka_unit_test(baresip_rtcp_mux),
		cmocka_unit_test(webrtc_ice_dtls),
		cmocka_unit_test(ipv6_connection),
		cmocka_unit_test(ipv4_multicast_suffix),
		cmocka_unit_test(hold_styles),
		cmocka_unit_test(session_direction_inherited),
		cmocka_unit_test(media_conn_overrides_session),
		cmocka_unit_test(rtcp_attribute_forms),
		cmocka_unit_test(non_rtp_media),
		cmocka_unit_test(rejected_stream),
		cmocka_unit_test(static_and_dynamic_rtpmap),
		cmocka_unit_test(rtpmap_for_unlisted_pt_kept_generic),
		cmocka_unit_test(crypto_aead_and_padding),
		cmocka_unit_test(crypto_mki_multikey),
		cmocka_unit_test(crypto_unknown_suite_kept),
		cmocka_unit_test(tolerated_whitespace_and_endings),
		cmocka_unit_test(unknown_lines_and_attrs_ignored),
		cmocka_unit_test(attribute_names_case_insensitive),
		cmocka_unit_test(raw_sections_tile_body),
		cmocka_unit_test(null_limits_mean_defaults),
		cmocka_unit_test(accessors_out_of_range),
		cmocka_unit_test(err_framing),
		cmocka_unit_test(err_line_shape),
		cmocka_unit_test(err_version),
		cmocka_unit_test(err_missing_mandatory),
		cmocka_unit_test(err_duplicates_session),
		cmocka_unit_test(err_session_line_in_media),
		cmocka_unit_test(err_origin),
		cmocka_unit_test(err_connection),
		cmocka_unit_test(err_connection_addresses),
		cmocka_unit_test(err_time_and_bandwidth),
		cmocka_unit_test(err_media_line),
		cmocka_unit_test(err_media_port),
		cmocka_unit_test(err_media_formats),
		cmocka_unit_test(err_attribute_name),
		cmocka_unit_test(err_rtpmap),
		cmocka_unit_test(err_fmtp),
		cmocka_unit_test(err_crypto_syntax),
		cmocka_unit_test(err_crypto_key_length),
		cmocka_unit_test(err_crypto_lifetime_mki),
		cmocka_unit_test(err_rtcp),
		cmocka_unit_test(err_ptime),
		cmocka_unit_test(err_direction),
		cmocka_unit_test(err_mid_ice_dtls),
		cmocka_unit_test(limit_media),
		cmocka_unit_test(limit_attrs),
		cmocka_unit_test(limit_fmts),
		cmocka_unit_test(limit_crypto),
		cmocka_unit_test(limit_bw),
		cmocka_unit_test(limit_lines),
		cmocka_unit_test(limit_line_length),
		cmocka_unit_test(limit_body),
		cmocka_unit_test(every_prefix_is_safe),
		cmocka_unit_test(every_byte_mutation_is_safe),
		cmocka_unit_test(input_is_never_written),
		cmocka_unit_test(reparse_clears_previous_state),
	};

	return cmocka_run_group_tests_name("sip_sdp", tests, NULL, teardown);
}
