/*
 * libFuzzer target for media/rtp_stats and media/srtp_ctx: what a media
 * port receives from anyone on the network.
 *
 * The input is one packet and, read again, a sequence of packets, each
 * a 1-byte length and that many bytes (the last one takes what is
 * left).  For each:
 *  - rtp_parse(): on success hdr_len + payload_len <= len, the header
 *    fields match the bytes, and rtp_hdr_len() agrees; rtp_is_rtcp()
 *    never also claims a packet whose payload type is not 64..95;
 *  - rtp_stats_rtp() on every parsed packet, with arrival times drawn
 *    from the input: the counters add up (packets, bytes, lost within
 *    expected, ooo + dup never past packets);
 *  - srtp_ctx_rtp()/srtp_ctx_rtcp() IN (unprotect) on copies with
 *    SRTP_CTX_MAX_TRAILER of room, under AES_CM_128_HMAC_SHA1_80 and
 *    AEAD_AES_128_GCM with fixed keys: only the documented errors, a
 *    shorter result on success, never a crash or a write past cap;
 *  - OUT then IN round trip of each valid packet with a fresh key pair:
 *    protect succeeds or says -EALREADY/-ENOSPC, and what it protected
 *    unprotects to the same bytes;
 *  - and the same round trip through a raw libsrtp session pair on the
 *    same key (AES-CM runs on media/srtp_cm, not libsrtp): the same
 *    verdict, the same protected bytes, the same verdict on unprotect,
 *    whatever headers and sequence orders the input makes.  libsrtp
 *    only sees what srtp_ctx's bounds checks passed.
 * Contexts are made and freed per input, so replay state never leaks
 * from one input to the next and a replay of a corpus file is exact.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <srtp2/srtp.h>

#include "media/rtp_stats.h"
#include "media/srtp_ctx.h"

#include "fuzz_check.h"

#define MAX_INPUT	(SRTP_CTX_MAX_PKT + 1)
#define CANARY		16

/* RFC 4568's example key, and one for GCM; the seeds use them too. */
static const uint8_t key_cm[30] = "YS___semctl () {\t220;}\n}\nunles";
static const uint8_t key_gcm[28] = "sipwall fuzz gcm key+salt!!!";

static uint8_t buf[MAX_INPUT + SRTP_CTX_MAX_TRAILER + CANARY];
static uint8_t orig[MAX_INPUT];
static uint8_t ref[MAX_INPUT + SRTP_CTX_MAX_TRAILER];

/* The libsrtp peers of ctx[2] and ctx[3] (AES_CM_128_HMAC_SHA1_32). */
static srtp_t ref_out, ref_in;

static void
check_err(int r)
{
	CHECK(r == 0 || r == -EBADMSG || r == -EALREADY || r == -EINVAL ||
	    r == -ENOSPC);
}

/* Unprotect a copy of p under c; the canary past cap must survive. */
static void
unprotect(struct srtp_ctx *c, const uint8_t *p, size_t len, int rtcp)
{
	size_t cap = len + SRTP_CTX_MAX_TRAILER, n = len;
	int r;

	if (len > 0)
		memcpy(buf, p, len);
	memset(buf + cap, 0xa5, CANARY);
	r = rtcp ? srtp_ctx_rtcp(c, buf, &n, cap) :
	    srtp_ctx_rtp(c, buf, &n, cap);
	check_err(r);
	if (r == 0)
		CHECK(n < len);
	else
		CHECK(n == len);
	for (size_t i = 0; i < CANARY; i++)
		CHECK(buf[cap + i] == 0xa5);
}

static srtp_t
ref_session(srtp_ssrc_type_t type)
{
	uint8_t key[sizeof(key_cm)];
	srtp_policy_t pol;
	srtp_t s;

	memset(&pol, 0, sizeof(pol));
	srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&pol.rtp);
	srtp_crypto_policy_set_rtcp_default(&pol.rtcp);
	pol.ssrc.type = type;
	memcpy(key, key_cm, sizeof(key));
	pol.key = key;
	pol.window_size = 128;
	CHECK(srtp_create(&s, &pol) == srtp_err_status_ok);
	return s;
}

/* Whether libsrtp's status st is the verdict r of srtp_ctx. */
static int
same_verdict(int r, srtp_err_status_t st)
{
	if (r == -EALREADY)
		return st == srtp_err_status_replay_fail ||
		    st == srtp_err_status_replay_old;
	if (r == -EBADMSG)
		return st == srtp_err_status_auth_fail ||
		    st == srtp_err_status_cant_check;
	return r == 0 && st == srtp_err_status_ok;
}

/*
 * Protect a copy with out, unprotect with in: same bytes back; and the
 * libsrtp pair agrees on every step.
 */
static void
round_trip(struct srtp_ctx *out, struct srtp_ctx *in, const uint8_t *p,
    size_t len, int rtcp)
{
	size_t cap = len + SRTP_CTX_MAX_TRAILER, n = len;
	srtp_err_status_t st;
	int r, rn = (int)len;

	if (len > 0) {
		memcpy(buf, p, len);
		memcpy(orig, p, len);
		memcpy(ref, p, len);
	}
	memset(buf + cap, 0xa5, CANARY);
	r = rtcp ? srtp_ctx_rtcp(out, buf, &n, cap) :
	    srtp_ctx_rtp(out, buf, &n, cap);
	check_err(r);
	for (size_t i = 0; i < CANARY; i++)
		CHECK(buf[cap + i] == 0xa5);
	/* -EINVAL: not for libsrtp's eyes; -ENOSPC: it has no SSRC cap */
	if (r != 0 && r != -EALREADY)
		return;
	st = rtcp ? srtp_protect_rtcp(ref_out, ref, &rn) :
	    srtp_protect(ref_out, ref, &rn);
	CHECK(same_verdict(r, st));
	if (r != 0)
		return;
	CHECK(n > len && n <= cap);
	CHECK((size_t)rn == n && memcmp(buf, ref, n) == 0);
	r = rtcp ? srtp_ctx_rtcp(in, buf, &n, cap) :
	    srtp_ctx_rtp(in, buf, &n, cap);
	if (r != 0) {
		fprintf(stderr, "round trip: %d\n", r);
		CHECK(0);
	}
	CHECK(n == len);
	CHECK(memcmp(buf, orig, len) == 0);
	st = rtcp ? srtp_unprotect_rtcp(ref_in, ref, &rn) :
	    srtp_unprotect(ref_in, ref, &rn);
	CHECK(st == srtp_err_status_ok && (size_t)rn == len &&
	    memcmp(ref, orig, len) == 0);
}

static void
one_packet(struct rtp_stats *st, struct srtp_ctx **ctx, const uint8_t *p,
    size_t len, uint64_t at)
{
	struct rtp_hdr h;
	size_t hl;
	int parsed = rtp_parse(p, len, &h) == 0;

	if (parsed) {
		CHECK(h.hdr_len >= 12 && h.hdr_len + h.payload_len <= len);
		CHECK(h.seq == (p[2] << 8 | p[3]));
		CHECK(h.ssrc == ((uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 |
		    (uint32_t)p[10] << 8 | p[11]));
		CHECK(h.cc == (p[0] & 0x0f) && h.pt == (p[1] & 0x7f));
		CHECK(rtp_hdr_len(p, len, &hl) == 0 && hl == h.hdr_len);
		rtp_stats_rtp(st, &h, len, at);
	}
	if (rtp_is_rtcp(p, len))
		CHECK((p[1] & 0x7f) >= 64 && (p[1] & 0x7f) < 96);

	unprotect(ctx[0], p, len, 0);
	unprotect(ctx[0], p, len, 1);
	unprotect(ctx[1], p, len, 0);
	unprotect(ctx[1], p, len, 1);
	round_trip(ctx[2], ctx[3], p, len, rtp_is_rtcp(p, len));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct srtp_ctx *ctx[4] = { NULL };
	struct rtp_stats st;
	uint64_t at = 1000000;
	size_t off = 0;

	if (size > MAX_INPUT - 1)
		return 0;
	CHECK(srtp_ctx_new(SDP_SUITE_AES_CM_128_HMAC_SHA1_80, key_cm,
	    sizeof(key_cm), SRTP_CTX_IN, &ctx[0]) == 0);
	CHECK(srtp_ctx_new(SDP_SUITE_AEAD_AES_128_GCM, key_gcm,
	    sizeof(key_gcm), SRTP_CTX_IN, &ctx[1]) == 0);
	CHECK(srtp_ctx_new(SDP_SUITE_AES_CM_128_HMAC_SHA1_32, key_cm,
	    sizeof(key_cm), SRTP_CTX_OUT, &ctx[2]) == 0);
	CHECK(srtp_ctx_new(SDP_SUITE_AES_CM_128_HMAC_SHA1_32, key_cm,
	    sizeof(key_cm), SRTP_CTX_IN, &ctx[3]) == 0);
	ref_out = ref_session(ssrc_any_outbound);
	ref_in = ref_session(ssrc_any_inbound);
	rtp_stats_init(&st, size > 0 ? (uint32_t)data[0] * 1000 : 0);

	/* the whole input as one packet */
	one_packet(&st, ctx, data, size, at);

	/* then as a sequence of length-prefixed packets */
	while (off < size) {
		size_t n = data[off++];

		if (n > size - off)
			n = size - off;
		/* arrival: 20 ms plus a wobble from the length byte */
		at += 20000 + (uint64_t)n * 97;
		one_packet(&st, ctx, data + off, n, at);
		off += n;
	}

	CHECK(st.ooo + st.dup <= st.packets);
	CHECK(st.received + st.received_before <= st.packets);
	CHECK(rtp_stats_lost(&st) <= (int64_t)rtp_stats_expected(&st));
	CHECK(st.bytes <= (uint64_t)st.packets * size);
	(void)rtp_stats_jitter_us(&st);
	(void)rtp_stats_jitter_ts(&st);
	for (size_t i = 0; i < 4; i++)
		srtp_ctx_free(ctx[i]);
	srtp_dealloc(ref_out);
	srtp_dealloc(ref_in);
	return 0;
}
