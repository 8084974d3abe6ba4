/*
 * Unit tests for src/media/srtp_ctx.c.
 *
 * Packets: OUT -> IN round trips for every suite over several SSRCs and
 * a sequence wrap (ROC), tampering, replay, a wrong key, SRTCP, short
 * and malformed input (heap blocks of exactly the input's size, so ASan
 * sees any over-read of ours), room checks, the SSRC bound, and interop
 * both ways with a libsrtp session whose policy is written out field by
 * field here, so a wrong setter in the wrapper cannot hide; what
 * srtp_ctx OUT protects must also equal libsrtp's bytes (AES-CM runs
 * on media/srtp_cm, tested against libsrtp at length in test_srtp_cm).
 * SDES: key generation, the a=crypto value we write (RFC 4568's example
 * key), and srtp_crypto_check() on lines sdp_parse() read from bodies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <pthread.h>

#include <cmocka.h>
#include <srtp2/srtp.h>
#include <srtp2/crypto_types.h>

#include "media/srtp_ctx.h"
#include "sip/sdp.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#define RTP_LEN		172	/* 12-byte header + 20 ms of G.711 */
#define ROOM		(1500 + SRTP_CTX_MAX_TRAILER)
#define RFC_KEY		"WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"

struct suite_case {
	enum sdp_suite	suite;
	size_t		key_len;
	size_t		rtp_tag;
	size_t		rtcp_tag;	/* + 4 bytes of SRTCP index */
};

static const struct suite_case suites[] = {
	{ SDP_SUITE_AES_CM_128_HMAC_SHA1_80, 30, 10, 10 },
	{ SDP_SUITE_AES_CM_128_HMAC_SHA1_32, 30, 4, 10 },
	{ SDP_SUITE_AES_256_CM_HMAC_SHA1_80, 46, 10, 10 },
	{ SDP_SUITE_AES_256_CM_HMAC_SHA1_32, 46, 4, 10 },
	{ SDP_SUITE_AEAD_AES_128_GCM, 28, 16, 16 },
	{ SDP_SUITE_AEAD_AES_256_GCM, 44, 16, 16 },
};

static struct sdp S;		/* large: shared */

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* An RTP packet of len bytes with a payload that depends on all inputs. */
static void
make_rtp(uint8_t *p, size_t len, uint32_t ssrc, uint16_t seq, uint32_t ts)
{
	p[0] = 0x80;
	p[1] = 0;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	put32(p + 4, ts);
	put32(p + 8, ssrc);
	for (size_t i = 12; i < len; i++)
		p[i] = (uint8_t)(i * 7 + seq + ssrc);
}

/* A receiver report with one report block. */
static size_t
make_rtcp(uint8_t *p, uint32_t ssrc, uint32_t n)
{
	memset(p, 0, 32);
	p[0] = 0x81;
	p[1] = 201;
	p[3] = 7;		/* length in words - 1 */
	put32(p + 4, ssrc);
	put32(p + 8, 0xabcdef01u);
	put32(p + 12, n);
	return 32;
}

static void
new_pair(const struct suite_case *sc, struct srtp_ctx **out,
    struct srtp_ctx **in)
{
	uint8_t key[SDP_MAX_KEY];
	size_t n;

	assert_int_equal(srtp_key_gen(sc->suite, key, sizeof(key), &n), 0);
	assert_int_equal(n, sc->key_len);
	assert_int_equal(srtp_ctx_new(sc->suite, key, n, SRTP_CTX_OUT, out),
	    0);
	assert_int_equal(srtp_ctx_new(sc->suite, key, n, SRTP_CTX_IN, in), 0);
}

/* Run f once per suite with a fresh OUT/IN pair on one key. */
static void
each_suite(void (*f)(const struct suite_case *, struct srtp_ctx *,
    struct srtp_ctx *))
{
	for (size_t k = 0; k < nitems(suites); k++) {
		struct srtp_ctx *out, *in;

		new_pair(&suites[k], &out, &in);
		f(&suites[k], out, in);
		srtp_ctx_free(out);
		srtp_ctx_free(in);
	}
}

/* The cmocka test f: f_one over every suite. */
#define SUITE_TEST(f)							\
	static void							\
	f(void **state)							\
	{								\
		(void)state;						\
		each_suite(f##_one);					\
	}

static void
suites_supported(void **state)
{
	(void)state;
	for (size_t i = 0; i < nitems(suites); i++) {
		assert_true(srtp_ctx_suite_ok(suites[i].suite));
		assert_int_equal(sdp_suite_key_len(suites[i].suite),
		    suites[i].key_len);
	}
	assert_false(srtp_ctx_suite_ok(SDP_SUITE_UNKNOWN));
	assert_false(srtp_ctx_suite_ok(SDP_SUITE_F8_128_HMAC_SHA1_80));
	assert_false(srtp_ctx_suite_ok(SDP_SUITE_AES_192_CM_HMAC_SHA1_80));
	assert_false(srtp_ctx_suite_ok(SDP_SUITE_AEAD_AES_128_GCM_8));
	assert_false(srtp_ctx_suite_ok(SDP_SUITE__MAX));
}

static void *
init_thread(void *arg)
{
	(void)arg;
	return (void *)(intptr_t)srtp_ctx_global_init();
}

static void
global_init_many(void **state)
{
	pthread_t t[4];
	void *rc;

	(void)state;
	for (size_t i = 0; i < nitems(t); i++)
		assert_int_equal(pthread_create(&t[i], NULL, init_thread,
		    NULL), 0);
	for (size_t i = 0; i < nitems(t); i++) {
		assert_int_equal(pthread_join(t[i], &rc), 0);
		assert_int_equal((intptr_t)rc, 0);
	}
	assert_int_equal(srtp_ctx_global_init(), 0);
}

static void
new_bad_args(void **state)
{
	uint8_t key[SDP_MAX_KEY] = { 1 };
	struct srtp_ctx *c = (struct srtp_ctx *)&c;

	(void)state;
	assert_int_equal(srtp_ctx_new(SDP_SUITE_AES_CM_128_HMAC_SHA1_80, key,
	    29, SRTP_CTX_IN, &c), -EINVAL);
	assert_int_equal(srtp_ctx_new(SDP_SUITE_AES_CM_128_HMAC_SHA1_80, key,
	    46, SRTP_CTX_IN, &c), -EINVAL);
	assert_int_equal(srtp_ctx_new(SDP_SUITE_AEAD_AES_128_GCM, key, 30,
	    SRTP_CTX_IN, &c), -EINVAL);
	assert_int_equal(srtp_ctx_new(SDP_SUITE_F8_128_HMAC_SHA1_80, key, 30,
	    SRTP_CTX_IN, &c), -EINVAL);
	assert_int_equal(srtp_ctx_new(SDP_SUITE_UNKNOWN, key, 0, SRTP_CTX_IN,
	    &c), -EINVAL);
	assert_int_equal(srtp_ctx_new(SDP_SUITE_AES_CM_128_HMAC_SHA1_80, NULL,
	    30, SRTP_CTX_IN, &c), -EINVAL);
	assert_int_equal(srtp_ctx_new(SDP_SUITE_AES_CM_128_HMAC_SHA1_80, key,
	    30, SRTP_CTX__MAX, &c), -EINVAL);
	assert_ptr_equal(c, (struct srtp_ctx *)&c);	/* untouched */
	srtp_ctx_free(NULL);
}

/*
 * Every suite: 5 SSRCs interleaved, each from near the top of the
 * sequence space through the wrap, so the receiver must guess the ROC.
 * Also a gap of 1000 (still inside libsrtp's index guess) and a
 * packet reordered within the replay window.
 */
static void
round_trip_one(const struct suite_case *sc, struct srtp_ctx *out,
    struct srtp_ctx *in)
{
	uint8_t p[ROOM], orig[RTP_LEN], late[ROOM];
	size_t n, late_len = 0;

	for (uint32_t i = 0; i < 1500; i++) {
		uint32_t ssrc = 0x1000u + i % 5;
		uint16_t seq = (uint16_t)(65000 + (ssrc & 0xf) * 7 +
		    i / 5 +
		    (i / 5 >= 250 ? 1000 : 0));
		size_t plen = 12 + i % 161;

		make_rtp(orig, plen, ssrc, seq, i * 160);
		memcpy(p, orig, plen);
		n = plen;
		assert_int_equal(srtp_ctx_rtp(out, p, &n, sizeof(p)),
		    0);
		assert_int_equal(n, plen + sc->rtp_tag);
		assert_memory_equal(p, orig, 12);	/* header clear */
		if (plen >= 28)
			assert_memory_not_equal(p + 12, orig + 12,
			    16);
		if (i == 700) {
			/* hold one back: it arrives after 705, 710 */
			memcpy(late, p, n);
			late_len = n;
			continue;
		}
		assert_int_equal(srtp_ctx_rtp(in, p, &n, sizeof(p)),
		    0);
		assert_int_equal(n, plen);
		assert_memory_equal(p, orig, plen);
		if (i == 710) {
			assert_int_equal(srtp_ctx_rtp(in, late,
			    &late_len, sizeof(late)), 0);
			assert_int_equal(late_len, 12 + 700 % 161);
		}
	}
}
SUITE_TEST(round_trip)

/* Protect one packet and hand back its protected form. */
static size_t
protect_rtp(struct srtp_ctx *out, uint8_t *p, uint32_t ssrc, uint16_t seq)
{
	size_t n = RTP_LEN;

	make_rtp(p, RTP_LEN, ssrc, seq, seq * 160u);
	assert_int_equal(srtp_ctx_rtp(out, p, &n, ROOM), 0);
	return n;
}

static void
tamper_replay_one(const struct suite_case *sc, struct srtp_ctx *out,
    struct srtp_ctx *in)
{
	uint8_t p[ROOM], q[ROOM];
	size_t n, m;

	n = protect_rtp(out, p, 0xfeed, 10);

	/* every bit of payload and tag, one at a time */
	for (size_t bit = 12 * 8; bit < n * 8; bit += 3) {
		memcpy(q, p, n);
		q[bit / 8] ^= (uint8_t)(1u << bit % 8);
		m = n;
		assert_int_equal(srtp_ctx_rtp(in, q, &m, sizeof(q)),
		    -EBADMSG);
	}
	/* and the header, which is authenticated too */
	memcpy(q, p, n);
	q[1] ^= 1;		/* payload type */
	m = n;
	assert_int_equal(srtp_ctx_rtp(in, q, &m, sizeof(q)), -EBADMSG);

	/* the failures left no trace: the real one still goes */
	memcpy(q, p, n);
	m = n;
	assert_int_equal(srtp_ctx_rtp(in, q, &m, sizeof(q)), 0);
	/* but only once */
	memcpy(q, p, n);
	m = n;
	assert_int_equal(srtp_ctx_rtp(in, q, &m, sizeof(q)),
	    -EALREADY);

	/* far older than the 128-packet window */
	n = protect_rtp(out, p, 0xfeed, 20);
	memcpy(q, p, n);
	for (uint16_t s = 21; s < 400; s++) {
		m = protect_rtp(out, p, 0xfeed, s);
		assert_int_equal(srtp_ctx_rtp(in, p, &m, sizeof(p)),
		    0);
	}
	assert_int_equal(srtp_ctx_rtp(in, q, &n, sizeof(q)),
	    -EALREADY);

	/* OUT refuses to reuse a sequence number's keystream */
	make_rtp(p, RTP_LEN, 0xfeed, 100, 0);
	n = RTP_LEN;
	assert_int_equal(srtp_ctx_rtp(out, p, &n, sizeof(p)),
	    -EALREADY);
}
SUITE_TEST(tamper_replay)

static void
wrong_key_one(const struct suite_case *sc, struct srtp_ctx *out,
    struct srtp_ctx *in)
{
	struct srtp_ctx *out2, *in2;
	uint8_t p[ROOM], key[SDP_MAX_KEY];
	size_t n, klen;

	/* another key altogether */
	new_pair(sc, &out2, &in2);
	n = protect_rtp(out, p, 1, 1);
	assert_int_equal(srtp_ctx_rtp(in2, p, &n, sizeof(p)), -EBADMSG);
	srtp_ctx_free(out2);
	srtp_ctx_free(in2);

	/* the same key with a single bit of the salt changed */
	assert_int_equal(srtp_key_gen(sc->suite, key, sizeof(key), &klen), 0);
	assert_int_equal(srtp_ctx_new(sc->suite, key, klen, SRTP_CTX_OUT,
	    &out2), 0);
	key[klen - 1] ^= 1;
	assert_int_equal(srtp_ctx_new(sc->suite, key, klen, SRTP_CTX_IN,
	    &in2), 0);
	n = protect_rtp(out2, p, 1, 1);
	assert_int_equal(srtp_ctx_rtp(in2, p, &n, sizeof(p)), -EBADMSG);
	srtp_ctx_free(out2);
	srtp_ctx_free(in2);
}
SUITE_TEST(wrong_key)

static void
rtcp_round_trip_one(const struct suite_case *sc, struct srtp_ctx *out,
    struct srtp_ctx *in)
{
	uint8_t p[ROOM], q[ROOM], orig[64];
	size_t n, m, olen, idx;

	for (uint32_t i = 0; i < 50; i++) {
		olen = make_rtcp(orig, 0x2000u + i % 3, i);
		memcpy(p, orig, olen);
		n = olen;
		assert_int_equal(srtp_ctx_rtcp(out, p, &n, sizeof(p)),
		    0);
		assert_int_equal(n, olen + 4 + sc->rtcp_tag);
		/* SRTCP encrypts all after the first 8 bytes */
		assert_memory_equal(p, orig, 8);
		assert_memory_not_equal(p + 8, orig + 8, 8);
		/* E flag and index: after the tag with AEAD (7714) */
		idx = sc->rtcp_tag == 16 ? n - 4 : olen;
		assert_true(p[idx] & 0x80);
		assert_int_equal(p[idx + 3], i / 3 + 1);	/* per SSRC */

		memcpy(q, p, n);
		q[n - 1] ^= 0x40;			/* tag */
		m = n;
		assert_int_equal(srtp_ctx_rtcp(in, q, &m, sizeof(q)),
		    -EBADMSG);
		memcpy(q, p, n);
		q[10] ^= 0x01;				/* body */
		m = n;
		assert_int_equal(srtp_ctx_rtcp(in, q, &m, sizeof(q)),
		    -EBADMSG);
		memcpy(q, p, n);
		/*
		 * the index, forward: an index already seen would be
		 * refused as a replay before the tag is checked
		 */
		q[idx + 1] ^= 0x01;
		m = n;
		assert_int_equal(srtp_ctx_rtcp(in, q, &m, sizeof(q)),
		    -EBADMSG);
		memcpy(q, p, n);
		q[idx] &= 0x7f;	/* "not encrypted": a downgrade */
		m = n;
		assert_int_equal(srtp_ctx_rtcp(in, q, &m, sizeof(q)),
		    -EBADMSG);

		memcpy(q, p, n);
		assert_int_equal(srtp_ctx_rtcp(in, p, &n, sizeof(p)),
		    0);
		assert_int_equal(n, olen);
		assert_memory_equal(p, orig, olen);
		m = olen + 4 + sc->rtcp_tag;
		assert_int_equal(srtp_ctx_rtcp(in, q, &m, sizeof(q)),
		    -EALREADY);
	}
}
SUITE_TEST(rtcp_round_trip)

/* f on a heap copy of exactly len bytes (cap len + extra). */
static int
on_heap(int (*f)(struct srtp_ctx *, uint8_t *, size_t *, size_t),
    struct srtp_ctx *c, const uint8_t *src, size_t len, size_t extra)
{
	uint8_t *p = malloc(len + extra > 0 ? len + extra : 1);
	size_t n = len;
	int rc;

	assert_non_null(p);
	if (len > 0)
		memcpy(p, src, len);
	rc = f(c, p, &n, len + extra);
	free(p);
	return rc;
}

static void
short_and_malformed_one(const struct suite_case *sc, struct srtp_ctx *out,
    struct srtp_ctx *in)
{
	uint8_t p[ROOM];
	size_t n;

	n = protect_rtp(out, p, 7, 7);
	for (size_t len = 0; len < 12; len++) {
		assert_int_equal(on_heap(srtp_ctx_rtp, in, p, len, 0),
		    -EINVAL);
		assert_int_equal(on_heap(srtp_ctx_rtp, out, p, len,
		    SRTP_CTX_MAX_TRAILER), -EINVAL);
	}
	/* IN: a header without its tag */
	for (size_t len = 12; len < 12 + sc->rtp_tag; len++)
		assert_int_equal(on_heap(srtp_ctx_rtp, in, p, len, 0),
		    -EINVAL);
	/* every cut of a real packet fails cleanly */
	for (size_t len = 12 + sc->rtp_tag; len < n; len++) {
		int rc = on_heap(srtp_ctx_rtp, in, p, len, 0);

		assert_true(rc == -EBADMSG || rc == -EINVAL);
	}

	/* CSRCs or an extension past the end */
	p[0] = 0x8f;
	assert_int_equal(on_heap(srtp_ctx_rtp, in, p, 12 + 56, 0),
	    -EINVAL);
	assert_int_equal(on_heap(srtp_ctx_rtp, out, p, 12 + 59,
	    SRTP_CTX_MAX_TRAILER), -EINVAL);
	p[0] = 0x90;
	p[14] = 0;
	p[15] = 40;		/* 160 bytes of extension */
	assert_int_equal(on_heap(srtp_ctx_rtp, in, p, 100, 0),
	    -EINVAL);
	assert_int_equal(on_heap(srtp_ctx_rtp, out, p, 100,
	    SRTP_CTX_MAX_TRAILER), -EINVAL);
	/* an extension that fits but leaves no room for a tag */
	assert_int_equal(on_heap(srtp_ctx_rtp, in, p, 176 + 1, 0),
	    -EINVAL);
	p[0] = 0x40;		/* version 1 */
	assert_int_equal(on_heap(srtp_ctx_rtp, in, p, n, 0), -EINVAL);
	assert_int_equal(on_heap(srtp_ctx_rtcp, in, p, n, 0),
	    -EINVAL);

	/* RTCP: header, then index and tag on IN */
	make_rtcp(p, 9, 9);
	for (size_t len = 0; len < 8; len++)
		assert_int_equal(on_heap(srtp_ctx_rtcp, out, p, len,
		    SRTP_CTX_MAX_TRAILER), -EINVAL);
	for (size_t len = 0; len < 8 + 4 + sc->rtcp_tag; len++)
		assert_int_equal(on_heap(srtp_ctx_rtcp, in, p, len, 0),
		    -EINVAL);
	/* garbage of every length up to 64 never crashes */
	for (size_t len = 0; len < 64; len++) {
		memset(p, (int)(len * 37), 64);
		p[0] = 0x80 | (uint8_t)(len & 0x3f);
		(void)on_heap(srtp_ctx_rtp, in, p, len, 0);
		(void)on_heap(srtp_ctx_rtcp, in, p, len, 0);
	}

	/* NULLs */
	n = 20;
	assert_int_equal(srtp_ctx_rtp(NULL, p, &n, 200), -EINVAL);
	assert_int_equal(srtp_ctx_rtp(in, NULL, &n, 200), -EINVAL);
	assert_int_equal(srtp_ctx_rtp(in, p, NULL, 200), -EINVAL);
	assert_int_equal(srtp_ctx_rtcp(NULL, p, &n, 200), -EINVAL);
	/* too long for UDP */
	n = SRTP_CTX_MAX_PKT + 1;
	assert_int_equal(srtp_ctx_rtp(in, p, &n, SIZE_MAX), -EINVAL);
}
SUITE_TEST(short_and_malformed)

static void
no_room_one(const struct suite_case *sc, struct srtp_ctx *out,
    struct srtp_ctx *in)
{
	uint8_t p[ROOM];
	size_t n;

	make_rtp(p, RTP_LEN, 5, 5, 5);
	n = RTP_LEN;
	assert_int_equal(srtp_ctx_rtp(out, p, &n,
	    RTP_LEN + SRTP_CTX_MAX_TRAILER - 1), -ENOSPC);
	assert_int_equal(n, RTP_LEN);
	make_rtcp(p, 5, 5);
	n = 32;
	assert_int_equal(srtp_ctx_rtcp(out, p, &n,
	    32 + SRTP_CTX_MAX_TRAILER - 1), -ENOSPC);
	/* exactly enough */
	assert_int_equal(srtp_ctx_rtcp(out, p, &n, 32 + SRTP_CTX_MAX_TRAILER),
	    0);
	make_rtp(p, RTP_LEN, 5, 5, 5);
	n = RTP_LEN;
	assert_int_equal(srtp_ctx_rtp(out, p, &n,
	    RTP_LEN + SRTP_CTX_MAX_TRAILER), 0);
	/* IN needs no room, but cap below the length is a caller bug */
	assert_int_equal(srtp_ctx_rtp(in, p, &n, n - 1), -EINVAL);
	assert_int_equal(srtp_ctx_rtp(in, p, &n, n), 0);
}
SUITE_TEST(no_room)

static void
ssrc_bound_one(const struct suite_case *sc, struct srtp_ctx *out,
    struct srtp_ctx *in)
{
	uint8_t p[ROOM];
	size_t n;

	/* forged packets with new SSRCs do not use up the table */
	for (uint32_t i = 0; i < 3 * SRTP_CTX_MAX_SSRC; i++) {
		make_rtp(p, RTP_LEN + 10, 0x9000 + i, 1, 1);
		n = RTP_LEN + 10;
		assert_int_equal(srtp_ctx_rtp(in, p, &n, sizeof(p)), -EBADMSG);
	}
	for (uint32_t i = 0; i < SRTP_CTX_MAX_SSRC; i++) {
		n = protect_rtp(out, p, 0x100 + i, 1);
		assert_int_equal(srtp_ctx_rtp(in, p, &n, sizeof(p)), 0);
	}
	make_rtp(p, RTP_LEN, 0x100 + SRTP_CTX_MAX_SSRC, 1, 1);
	n = RTP_LEN;
	assert_int_equal(srtp_ctx_rtp(out, p, &n, sizeof(p)), -ENOSPC);
	make_rtcp(p, 0x100 + SRTP_CTX_MAX_SSRC, 1);
	n = 32;
	assert_int_equal(srtp_ctx_rtcp(out, p, &n, sizeof(p)), -ENOSPC);
	/* the known ones go on, RTCP shares their streams */
	for (uint32_t i = 0; i < SRTP_CTX_MAX_SSRC; i++) {
		n = protect_rtp(out, p, 0x100 + i, 2);
		assert_int_equal(srtp_ctx_rtp(in, p, &n, sizeof(p)), 0);
		n = make_rtcp(p, 0x100 + i, 2);
		assert_int_equal(srtp_ctx_rtcp(out, p, &n, sizeof(p)), 0);
		assert_int_equal(srtp_ctx_rtcp(in, p, &n, sizeof(p)), 0);
	}
}
SUITE_TEST(ssrc_bound)

/* ---------------------------------------------------------------- */
/* Interop with a hand-made libsrtp session                          */

/* RFC 3711, 6188 and 7714 as libsrtp's fields, written out. */
static const struct hand_suite {
	enum sdp_suite	suite;
	srtp_cipher_type_id_t cipher;
	int		key_len;	/* key + salt */
	srtp_auth_type_id_t auth;
	int		auth_key_len;
	int		rtp_tag;
	int		rtcp_tag;
} hand_suites[] = {
	{ SDP_SUITE_AES_CM_128_HMAC_SHA1_80, SRTP_AES_ICM_128, 16 + 14,
	    SRTP_HMAC_SHA1, 20, 10, 10 },
	{ SDP_SUITE_AES_CM_128_HMAC_SHA1_32, SRTP_AES_ICM_128, 16 + 14,
	    SRTP_HMAC_SHA1, 20, 4, 10 },	/* RTCP keeps 80 bits */
	{ SDP_SUITE_AES_256_CM_HMAC_SHA1_80, SRTP_AES_ICM_256, 32 + 14,
	    SRTP_HMAC_SHA1, 20, 10, 10 },
	{ SDP_SUITE_AES_256_CM_HMAC_SHA1_32, SRTP_AES_ICM_256, 32 + 14,
	    SRTP_HMAC_SHA1, 20, 4, 10 },
	{ SDP_SUITE_AEAD_AES_128_GCM, SRTP_AES_GCM_128, 16 + 12,
	    SRTP_NULL_AUTH, 0, 16, 16 },
	{ SDP_SUITE_AEAD_AES_256_GCM, SRTP_AES_GCM_256, 32 + 12,
	    SRTP_NULL_AUTH, 0, 16, 16 },
};

static void
hand_policy(enum sdp_suite s, srtp_crypto_policy_t *rtp,
    srtp_crypto_policy_t *rtcp)
{
	const struct hand_suite *h = NULL;

	for (size_t i = 0; i < nitems(hand_suites); i++)
		if (hand_suites[i].suite == s)
			h = &hand_suites[i];
	assert_non_null(h);
	memset(rtp, 0, sizeof(*rtp));
	rtp->cipher_type = h->cipher;
	rtp->cipher_key_len = h->key_len;
	rtp->auth_type = h->auth;
	rtp->auth_key_len = h->auth_key_len;
	rtp->sec_serv = sec_serv_conf_and_auth;
	*rtcp = *rtp;
	rtp->auth_tag_len = h->rtp_tag;
	rtcp->auth_tag_len = h->rtcp_tag;
}

static srtp_t
hand_session(enum sdp_suite s, uint8_t *key, srtp_ssrc_type_t type,
    uint32_t ssrc)
{
	srtp_policy_t pol;
	srtp_t sess;

	memset(&pol, 0, sizeof(pol));
	hand_policy(s, &pol.rtp, &pol.rtcp);
	pol.ssrc.type = type;
	pol.ssrc.value = ssrc;
	pol.key = key;
	pol.window_size = 128;
	assert_int_equal(srtp_create(&sess, &pol), srtp_err_status_ok);
	return sess;
}

static void
interop(void **state)
{
	(void)state;
	assert_int_equal(srtp_ctx_global_init(), 0);
	for (size_t k = 0; k < nitems(suites); k++) {
		const struct suite_case *sc = &suites[k];
		uint8_t key[SDP_MAX_KEY], p[ROOM], orig[RTP_LEN];
		struct srtp_ctx *in, *out;
		srtp_t raw_out, raw_in, raw_ref;
		uint8_t ref[ROOM];
		size_t klen, n;
		int ilen;

		assert_int_equal(srtp_key_gen(sc->suite, key, sizeof(key),
		    &klen), 0);
		raw_out = hand_session(sc->suite, key, ssrc_specific, 0x4242);
		raw_in = hand_session(sc->suite, key, ssrc_specific, 0x4343);
		/* protects what srtp_ctx OUT protects, to compare bytes */
		raw_ref = hand_session(sc->suite, key, ssrc_specific, 0x4343);
		assert_int_equal(srtp_ctx_new(sc->suite, key, klen,
		    SRTP_CTX_IN, &in), 0);
		assert_int_equal(srtp_ctx_new(sc->suite, key, klen,
		    SRTP_CTX_OUT, &out), 0);
		for (uint16_t seq = 65530; seq != 30; seq++) {
			/* raw libsrtp -> srtp_ctx IN */
			make_rtp(orig, RTP_LEN, 0x4242, seq, seq);
			memcpy(p, orig, RTP_LEN);
			ilen = RTP_LEN;
			assert_int_equal(srtp_protect(raw_out, p, &ilen), 0);
			assert_int_equal(ilen, RTP_LEN + (int)sc->rtp_tag);
			n = (size_t)ilen;
			assert_int_equal(srtp_ctx_rtp(in, p, &n, sizeof(p)), 0);
			assert_int_equal(n, RTP_LEN);
			assert_memory_equal(p, orig, RTP_LEN);

			/* srtp_ctx OUT -> raw libsrtp */
			make_rtp(orig, RTP_LEN, 0x4343, seq, seq);
			memcpy(p, orig, RTP_LEN);
			memcpy(ref, orig, RTP_LEN);
			n = RTP_LEN;
			assert_int_equal(srtp_ctx_rtp(out, p, &n, sizeof(p)),
			    0);
			ilen = RTP_LEN;
			assert_int_equal(srtp_protect(raw_ref, ref, &ilen), 0);
			assert_int_equal(n, (size_t)ilen);
			assert_memory_equal(p, ref, n);
			ilen = (int)n;
			assert_int_equal(srtp_unprotect(raw_in, p, &ilen), 0);
			assert_int_equal(ilen, RTP_LEN);
			assert_memory_equal(p, orig, RTP_LEN);

			/* and SRTCP both ways */
			n = make_rtcp(orig, 0x4242, seq);
			memcpy(p, orig, n);
			ilen = (int)n;
			assert_int_equal(srtp_protect_rtcp(raw_out, p, &ilen),
			    0);
			n = (size_t)ilen;
			assert_int_equal(srtp_ctx_rtcp(in, p, &n, sizeof(p)),
			    0);
			assert_memory_equal(p, orig, n);
			n = make_rtcp(orig, 0x4343, seq);
			memcpy(p, orig, n);
			memcpy(ref, orig, n);
			ilen = (int)n;
			assert_int_equal(srtp_protect_rtcp(raw_ref, ref, &ilen),
			    0);
			assert_int_equal(srtp_ctx_rtcp(out, p, &n, sizeof(p)),
			    0);
			assert_int_equal(n, (size_t)ilen);
			assert_memory_equal(p, ref, n);
			ilen = (int)n;
			assert_int_equal(srtp_unprotect_rtcp(raw_in, p, &ilen),
			    0);
			assert_int_equal(ilen, 32);
			assert_memory_equal(p, orig, 32);
		}
		srtp_dealloc(raw_out);
		srtp_dealloc(raw_in);
		srtp_dealloc(raw_ref);
		srtp_ctx_free(in);
		srtp_ctx_free(out);
	}
}

/* ---------------------------------------------------------------- */
/* SDES                                                              */

static void
key_gen(void **state)
{
	(void)state;
	for (size_t k = 0; k < nitems(suites); k++) {
		uint8_t a[SDP_MAX_KEY + 1], b[SDP_MAX_KEY + 1];
		size_t na = 0, nb = 0;

		memset(a, 0xee, sizeof(a));
		assert_int_equal(srtp_key_gen(suites[k].suite, a,
		    suites[k].key_len, &na), 0);
		assert_int_equal(srtp_key_gen(suites[k].suite, b, sizeof(b),
		    &nb), 0);
		assert_int_equal(na, suites[k].key_len);
		assert_int_equal(nb, suites[k].key_len);
		assert_memory_not_equal(a, b, na);
		assert_int_equal(a[na], 0xee);	/* nothing past it */
		assert_int_equal(srtp_key_gen(suites[k].suite, a,
		    suites[k].key_len - 1, &na), -EINVAL);
	}
	assert_int_equal(srtp_key_gen(SDP_SUITE_F8_128_HMAC_SHA1_80,
	    (uint8_t[64]){ 0 }, 64, &(size_t){ 0 }), -EINVAL);
	assert_int_equal(srtp_key_gen(SDP_SUITE_UNKNOWN,
	    (uint8_t[64]){ 0 }, 64, &(size_t){ 0 }), -EINVAL);
}

/* Parse a one-section body with the given a=crypto lines. */
static const struct sdp_crypto *
parse_crypto(const char *lines, size_t idx)
{
	static char body[2048];
	struct sdp_err err = { NULL, 0 };
	size_t cursor = 0;
	const struct sdp_crypto *cr = NULL;
	int n;

	n = snprintf(body, sizeof(body), "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n"
	    "s=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
	    "m=audio 4000 RTP/SAVP 0\r\n%s", lines);
	assert_true(n > 0 && (size_t)n < sizeof(body));
	if (sdp_parse((const uint8_t *)body, (size_t)n, NULL, &S, &err) != 0)
		fail_msg("sdp_parse: %s at %zu in\n%s", err.reason, err.off,
		    body);
	for (size_t i = 0; i <= idx; i++)
		cr = sdp_media_crypto_next(&S, 0, &cursor);
	assert_non_null(cr);
	return cr;
}

static void
crypto_value_exact(void **state)
{
	const struct sdp_crypto *cr;
	uint8_t key[SDP_MAX_KEY];
	char out[SDP_MAX_KEY * 2 + 64], line[256];
	size_t klen = 0;
	int n;

	(void)state;
	/* RFC 4568's example key, through the parser and back */
	cr = parse_crypto("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"
	    RFC_KEY "\r\n", 0);
	assert_null(srtp_crypto_check(cr, key, sizeof(key), &klen));
	assert_int_equal(klen, 30);
	assert_memory_equal(key, "YS___semctl () {\t220;}\n}\nunles", 30);
	n = srtp_crypto_value(1, SDP_SUITE_AES_CM_128_HMAC_SHA1_80, key,
	    klen, out, sizeof(out));
	assert_string_equal(out, "1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY);
	assert_int_equal(n, (int)strlen(out));

	/* exactly enough room, and one byte less */
	assert_int_equal(srtp_crypto_value(1, SDP_SUITE_AES_CM_128_HMAC_SHA1_80,
	    key, klen, out, (size_t)n + 1), n);
	assert_int_equal(srtp_crypto_value(1, SDP_SUITE_AES_CM_128_HMAC_SHA1_80,
	    key, klen, out, (size_t)n), -ENOSPC);
	for (int i = 0; i < n; i++)
		assert_int_equal(out[i], 0);		/* no key left */
	assert_int_equal(srtp_crypto_value(1, SDP_SUITE_AES_CM_128_HMAC_SHA1_80,
	    key, klen, out, 0), -ENOSPC);

	/* bad arguments */
	assert_int_equal(srtp_crypto_value(1000000000u,
	    SDP_SUITE_AES_CM_128_HMAC_SHA1_80, key, klen, out, sizeof(out)),
	    -EINVAL);
	assert_int_equal(srtp_crypto_value(999999999u,
	    SDP_SUITE_AES_CM_128_HMAC_SHA1_80, key, klen, out, sizeof(out)),
	    9 + 1 + 23 + 8 + 40);
	assert_int_equal(srtp_crypto_value(1, SDP_SUITE_AEAD_AES_128_GCM,
	    key, klen, out, sizeof(out)), -EINVAL);
	assert_int_equal(srtp_crypto_value(1, SDP_SUITE_F8_128_HMAC_SHA1_80,
	    key, klen, out, sizeof(out)), -EINVAL);

	/* every suite: our value parses and checks back to the same key */
	for (size_t k = 0; k < nitems(suites); k++) {
		uint8_t gen[SDP_MAX_KEY], back[SDP_MAX_KEY];
		size_t glen, blen;

		assert_int_equal(srtp_key_gen(suites[k].suite, gen,
		    sizeof(gen), &glen), 0);
		n = srtp_crypto_value(7, suites[k].suite, gen, glen, out,
		    sizeof(out));
		assert_true(n > 0 && n <= 256);
		snprintf(line, sizeof(line), "a=crypto:%s\r\n", out);
		cr = parse_crypto(line, 0);
		assert_int_equal(cr->tag, 7);
		assert_int_equal(cr->suite, suites[k].suite);
		assert_null(srtp_crypto_check(cr, back, sizeof(back), &blen));
		assert_int_equal(blen, glen);
		assert_memory_equal(back, gen, glen);
	}
	/* GCM-128: 28 bytes end in "==" */
	memset(key, 0xff, 28);
	n = srtp_crypto_value(2, SDP_SUITE_AEAD_AES_128_GCM, key, 28, out,
	    sizeof(out));
	assert_string_equal(out, "2 AEAD_AES_128_GCM inline:"
	    "/////////////////////////////////////w==");
}

static void
crypto_check_reasons(void **state)
{
	static const struct {
		const char	*params;	/* after the key */
		const char	*why;
	} t[] = {
		{ "", NULL },
		{ "|2^31", NULL },
		{ "|2^20", NULL },
		{ "|1048576", NULL },
		{ "|2^48 KDR=0", NULL },
		{ " WSH=64 WSH=128", NULL },
		{ " FEC_ORDER=FEC_SRTP", NULL },
		{ " -X_VENDOR=1  -Y", NULL },
		{ "|2^19", "lifetime too short" },
		{ "|1048575", "lifetime too short" },
		{ "|1", "lifetime too short" },
		{ "|2^20|1:4", "MKI not supported" },
		{ "|1:1", "MKI not supported" },
		{ " UNENCRYPTED_SRTP", "UNENCRYPTED_SRTP" },
		{ " UNENCRYPTED_SRTCP", "UNENCRYPTED_SRTCP" },
		{ " UNAUTHENTICATED_SRTP", "UNAUTHENTICATED_SRTP" },
		{ " WSH=128 unencrypted_srtp", "UNENCRYPTED_SRTP" },
		{ " KDR=1", "KDR not supported" },
		{ " KDR=24", "KDR not supported" },
		{ " KDR=25", "bad session parameter" },
		{ " KDR=", "bad session parameter" },
		{ " WSH=63", "bad session parameter" },
		{ " WSH=x", "bad session parameter" },
		{ " FEC_ORDER=SRTP_FEC", "FEC not supported" },
		{ " FEC_ORDER=X", "bad session parameter" },
		{ " FEC_KEY=inline:" RFC_KEY, "FEC not supported" },
		{ " FOO", "unknown session parameter" },
		{ " -OK FOO=1", "unknown session parameter" },
	};
	char line[512];
	const struct sdp_crypto *cr;
	struct sdp_crypto hand;
	uint8_t key[SDP_MAX_KEY];
	size_t klen;

	(void)state;
	for (size_t i = 0; i < nitems(t); i++) {
		const char *why;

		snprintf(line, sizeof(line),
		    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:%s%s\r\n",
		    RFC_KEY, t[i].params);
		cr = parse_crypto(line, 0);
		why = srtp_crypto_check(cr, NULL, 0, NULL);
		if (why == NULL ? t[i].why != NULL :
		    t[i].why == NULL || strcmp(why, t[i].why) != 0)
			fail_msg("%s: %s, want %s", line, why ? why : "ok",
			    t[i].why ? t[i].why : "ok");
	}

	cr = parse_crypto("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"
	    RFC_KEY "|2^20|1:4;inline:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVpbXF1e"
	    "|2^20|2:4\r\n", 0);
	assert_int_equal(cr->nkeys, 2);
	assert_string_equal(srtp_crypto_check(cr, NULL, 0, NULL),
	    "several keys");

	/* suites the parser knows but we do not key */
	cr = parse_crypto("a=crypto:1 F8_128_HMAC_SHA1_80 inline:" RFC_KEY
	    "\r\na=crypto:2 AES_192_CM_HMAC_SHA1_80 inline:"
	    "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVpbXF1eX2BhYmNkZWY=\r\n"
	    "a=crypto:3 FANCY_NEW_SUITE inline:" RFC_KEY "\r\n", 0);
	assert_string_equal(srtp_crypto_check(cr, NULL, 0, NULL),
	    "unsupported suite");
	cr = sdp_media_crypto_next(&S, 0, &(size_t){ 1 });
	assert_int_equal(cr->suite, SDP_SUITE_AES_192_CM_HMAC_SHA1_80);
	assert_string_equal(srtp_crypto_check(cr, NULL, 0, NULL),
	    "unsupported suite");
	cr = sdp_media_crypto_next(&S, 0, &(size_t){ 2 });
	assert_int_equal(cr->suite, SDP_SUITE_UNKNOWN);
	assert_string_equal(srtp_crypto_check(cr, NULL, 0, NULL),
	    "unsupported suite");

	/* key length: the parser refuses it, so build the line by hand */
	cr = parse_crypto("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY
	    "\r\n", 0);
	hand = *cr;
	hand.suite = SDP_SUITE_AEAD_AES_128_GCM;
	assert_string_equal(srtp_crypto_check(&hand, NULL, 0, NULL),
	    "key length");
	hand = *cr;
	hand.key.key_salt.len -= 4;
	assert_string_equal(srtp_crypto_check(&hand, NULL, 0, NULL),
	    "key length");
	/* or the caller's buffer is short */
	assert_string_equal(srtp_crypto_check(cr, key, 29, &klen),
	    "key length");
	assert_null(srtp_crypto_check(cr, key, 30, &klen));
	assert_int_equal(klen, 30);
	assert_non_null(srtp_crypto_check(NULL, NULL, 0, NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(suites_supported),
		cmocka_unit_test(global_init_many),
		cmocka_unit_test(new_bad_args),
		cmocka_unit_test(round_trip),
		cmocka_unit_test(tamper_replay),
		cmocka_unit_test(wrong_key),
		cmocka_unit_test(rtcp_round_trip),
		cmocka_unit_test(short_and_malformed),
		cmocka_unit_test(no_room),
		cmocka_unit_test(ssrc_bound),
		cmocka_unit_test(interop),
		cmocka_unit_test(key_gen),
		cmocka_unit_test(crypto_value_exact),
		cmocka_unit_test(crypto_check_reasons),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
