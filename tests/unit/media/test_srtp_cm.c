/*
 * Unit tests for src/media/srtp_cm.c.
 *
 * Known answers: RFC 3711 B.2 (the AES-CM keystream, the whole 65282
 * block segment) and B.3 (key derivation of the RTP cipher key, salt
 * and auth key).
 * Byte identity with libsrtp2 as the peer, for each AES-CM suite: the
 * same random packets (payload 0..1200 bytes, CSRCs, header extensions,
 * padding bit, eight SSRCs starting at random sequence numbers, some
 * just below the wrap and one that strides over several ROCs, holes,
 * packets held back and delivered late, replays, reused sequence
 * numbers) are protected by a hand-made libsrtp session and by
 * srtp_cm and must match byte for byte, and both receivers (libsrtp
 * and srtp_cm) must give the same verdict on each delivery; the same
 * for SRTCP.  Then tampering, replay, a wrong key or salt, the SRTCP E
 * flag, the SSRC table, and the caller's contract.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <errno.h>

#include <cmocka.h>
#include <srtp2/srtp.h>
#include <srtp2/crypto_types.h>

#include "media/rtp_stats.h"
#include "media/srtp_cm.h"
#include "media/srtp_ctx.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#define BUF		2048	/* largest generated packet plus trailer */
#define MAX_PAYLOAD	1200
#define NSRC		8	/* SSRCs per identity run */
#define NHELD		4	/* packets held back for late delivery */

struct cm_suite {
	const char	*name;
	size_t		 key_len;	/* AES key; a 14-byte salt follows */
	size_t		 rtp_tag;
	size_t		 rtcp_tag;
	srtp_cipher_type_id_t cipher;
};

static const struct cm_suite suites[] = {
	{ "AES_CM_128_HMAC_SHA1_80", 16, 10, 10, SRTP_AES_ICM_128 },
	{ "AES_CM_128_HMAC_SHA1_32", 16, 4, 10, SRTP_AES_ICM_128 },
	{ "AES_256_CM_HMAC_SHA1_80", 32, 10, 10, SRTP_AES_ICM_256 },
	{ "AES_256_CM_HMAC_SHA1_32", 32, 4, 10, SRTP_AES_ICM_256 },
};

/* 31 random bits; main() seeds once, so a run is reproducible. */
static uint32_t
rnd(void)
{
	return (uint32_t)random();
}

static void
rnd_fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

static void
unhex(const char *s, uint8_t *out, size_t n)
{
	assert_int_equal(strlen(s), 2 * n);
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static void
assert_hex(const uint8_t *got, const char *want)
{
	uint8_t w[128];
	size_t n = strlen(want) / 2;

	assert_true(n <= sizeof(w));
	unhex(want, w, n);
	assert_memory_equal(got, w, n);
}

/* ---------------------------------------------------------------- */
/* RFC 3711 Appendix B                                               */

static void
rfc3711_b2_keystream(void **state)
{
	static const size_t blocks = 65282;	/* the RFC's segment */
	uint8_t key[16], iv[16];
	uint8_t *ks = malloc(blocks * 16);

	(void)state;
	assert_non_null(ks);
	unhex("2B7E151628AED2A6ABF7158809CF4F3C", key, sizeof(key));
	unhex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000", iv, sizeof(iv));
	assert_int_equal(srtp_cm_keystream(key, sizeof(key), iv, ks,
	    blocks * 16), 0);
	assert_hex(ks, "E03EAD0935C95E80E166B16DD92B4EB4"
	    "D23513162B02D0F72A43A2FE4A5F97AB"
	    "41E95B3BB0A2E8DD477901E4FCA894C0");
	assert_hex(ks + 0xfeff * 16, "EC8CDF7398607CB0F2D21675EA9EA1E4"
	    "362B7C3C6773516318A077D7FC5073AE"
	    "6A2CC3787889374FBEB4C81B17BA6C44");
	/* a short tail is the front of the same keystream */
	assert_int_equal(srtp_cm_keystream(key, sizeof(key), iv, ks, 5), 0);
	assert_hex(ks, "E03EAD0935");
	/* past the 16-bit counter, and bad keys */
	assert_int_equal(srtp_cm_keystream(key, sizeof(key), iv, ks,
	    (65536 * 16) + 1), -EINVAL);
	assert_int_equal(srtp_cm_keystream(key, 24, iv, ks, 16), -EINVAL);
	assert_int_equal(srtp_cm_keystream(NULL, 16, iv, ks, 16), -EINVAL);
	free(ks);
}

static void
rfc3711_b3_kdf(void **state)
{
	uint8_t key[16], salt[14], out[94];

	(void)state;
	unhex("E1F97A0D3E018BE0D64FA32C06DE4139", key, sizeof(key));
	unhex("0EC675AD498AFEEBB6960B3AABE6", salt, sizeof(salt));

	assert_int_equal(srtp_cm_kdf(key, 16, salt, SRTP_CM_LABEL_RTP_ENC,
	    out, 16), 0);
	assert_hex(out, "C61E7A93744F39EE10734AFE3FF7A087");
	assert_int_equal(srtp_cm_kdf(key, 16, salt, SRTP_CM_LABEL_RTP_SALT,
	    out, 14), 0);
	assert_hex(out, "30CBBC08863D8C85D49DB34A9AE1");
	/* the RFC shows 94 bytes of the auth label's output */
	assert_int_equal(srtp_cm_kdf(key, 16, salt, SRTP_CM_LABEL_RTP_AUTH,
	    out, 94), 0);
	assert_hex(out, "CEBE321F6FF7716B6FD4AB49AF256A15"
	    "6D38BAA48F0A0ACF3C34E2359E6CDBCE"
	    "E049646C43D9327AD175578EF7227098"
	    "6371C10C9A369AC2F94A8C5FBCDDDC25"
	    "6D6E919A48B610EF17C2041E47403576"
	    "6B68642C59BBFC2F34DB60DBDFB2");

	assert_int_equal(srtp_cm_kdf(key, 16, salt, SRTP_CM_LABEL__MAX, out,
	    16), -EINVAL);
	assert_int_equal(srtp_cm_kdf(key, 16, NULL, SRTP_CM_LABEL_RTP_ENC,
	    out, 16), -EINVAL);
	assert_int_equal(srtp_cm_kdf(key, 15, salt, SRTP_CM_LABEL_RTP_ENC,
	    out, 16), -EINVAL);
}

/* ---------------------------------------------------------------- */
/* libsrtp as the peer                                               */

/* A libsrtp session for suite s, its policy written out field by field. */
static srtp_t
peer_new(const struct cm_suite *s, const uint8_t *key_salt,
    srtp_ssrc_type_t type)
{
	uint8_t key[32 + SRTP_CM_SALT_LEN];
	srtp_policy_t pol;
	srtp_t sess;

	memset(&pol, 0, sizeof(pol));
	pol.rtp.cipher_type = s->cipher;
	pol.rtp.cipher_key_len = (int)(s->key_len + SRTP_CM_SALT_LEN);
	pol.rtp.auth_type = SRTP_HMAC_SHA1;
	pol.rtp.auth_key_len = SRTP_CM_AUTH_KEY_LEN;
	pol.rtp.sec_serv = sec_serv_conf_and_auth;
	pol.rtcp = pol.rtp;
	pol.rtp.auth_tag_len = (int)s->rtp_tag;
	pol.rtcp.auth_tag_len = (int)s->rtcp_tag;
	pol.ssrc.type = type;
	memcpy(key, key_salt, s->key_len + SRTP_CM_SALT_LEN);
	pol.key = key;
	pol.window_size = 128;
	pol.allow_repeat_tx = 0;
	assert_int_equal(srtp_create(&sess, &pol), srtp_err_status_ok);
	return sess;
}

/* libsrtp's verdict as srtp_cm spells it. */
static int
peer_errno(srtp_err_status_t st)
{
	switch (st) {
	case srtp_err_status_ok:
		return 0;
	case srtp_err_status_auth_fail:
	case srtp_err_status_cant_check:
		return -EBADMSG;
	case srtp_err_status_replay_fail:
	case srtp_err_status_replay_old:
		return -EALREADY;
	default:
		fail_msg("libsrtp status %d", (int)st);
		return -EIO;
	}
}

/* Both senders and both receivers of one suite, on one key. */
struct pair {
	srtp_t		 peer_out, peer_in;
	struct srtp_cm	*out, *in;
	unsigned	 ok, refused, late_ok, late_old;
};

static void
pair_init(struct pair *pp, const struct cm_suite *s)
{
	uint8_t key[32 + SRTP_CM_SALT_LEN];
	size_t klen = s->key_len + SRTP_CM_SALT_LEN;

	memset(pp, 0, sizeof(*pp));
	rnd_fill(key, klen);
	pp->peer_out = peer_new(s, key, ssrc_any_outbound);
	pp->peer_in = peer_new(s, key, ssrc_any_inbound);
	assert_int_equal(srtp_cm_new(key, s->key_len, s->rtp_tag, s->rtcp_tag,
	    &pp->out), 0);
	assert_int_equal(srtp_cm_new(key, s->key_len, s->rtp_tag, s->rtcp_tag,
	    &pp->in), 0);
}

static void
pair_clear(struct pair *pp)
{
	srtp_dealloc(pp->peer_out);
	srtp_dealloc(pp->peer_in);
	srtp_cm_free(pp->out);
	srtp_cm_free(pp->in);
}

/*
 * One step (protect by the senders, or unprotect by the receivers) on
 * copies of pkt[0..len): libsrtp and srtp_cm give the same verdict,
 * and on success the same bytes, left in ret[0..*ret_len).
 */
static int
both(struct pair *pp, bool protect, bool rtcp, const uint8_t *pkt,
    size_t len, size_t hlen, uint8_t *ret, size_t *ret_len)
{
	srtp_t peer = protect ? pp->peer_out : pp->peer_in;
	struct srtp_cm *c = protect ? pp->out : pp->in;
	uint8_t a[BUF];
	int alen = (int)len, ra, rb;
	size_t blen = len;

	memcpy(a, pkt, len);
	memcpy(ret, pkt, len);
	if (protect) {
		ra = peer_errno(rtcp ? srtp_protect_rtcp(peer, a, &alen) :
		    srtp_protect(peer, a, &alen));
		rb = rtcp ? srtp_cm_rtcp_protect(c, ret, &blen) :
		    srtp_cm_rtp_protect(c, ret, &blen, hlen);
	} else {
		ra = peer_errno(rtcp ? srtp_unprotect_rtcp(peer, a, &alen) :
		    srtp_unprotect(peer, a, &alen));
		rb = rtcp ? srtp_cm_rtcp_unprotect(c, ret, &blen) :
		    srtp_cm_rtp_unprotect(c, ret, &blen, hlen);
	}
	assert_int_equal(ra, rb);
	if (ra != 0)
		return ra;
	assert_int_equal((size_t)alen, blen);
	assert_memory_equal(a, ret, blen);
	*ret_len = blen;
	return 0;
}

/* Deliver pkt to both receivers: on success, plain[0..plen) back. */
static int
unprotect_both(struct pair *pp, const uint8_t *pkt, size_t len, size_t hlen,
    bool rtcp, const uint8_t *plain, size_t plen)
{
	uint8_t b[BUF];
	size_t n = 0;
	int r = both(pp, false, rtcp, pkt, len, hlen, b, &n);

	if (r == 0) {
		assert_int_equal(n, plen);
		assert_memory_equal(b, plain, plen);
	}
	return r;
}

struct src {
	uint32_t	 ssrc;
	uint16_t	 seq;
	bool		 started;
	unsigned	 wraps;		/* forward steps across 65535 */
};

/*
 * The next sequence number of source k: sources 0..3 start just below
 * the wrap, the others anywhere; source 7 strides up to 30000 at a
 * time (several ROCs in a run), the rest mostly by one with holes.
 * One in 32 goes back up to 200: a hole filled, a reuse, or too old;
 * but not below 0 before the first wrap: libsrtp (so srtp_cm) takes
 * the index of a stream below 2^15 to be in ROC 0, so that packet
 * would be a jump forward, and held back at one receiver the two
 * would no longer agree on the ROC.
 */
static uint16_t
next_seq(struct src *s, size_t k)
{
	uint16_t prev;

	if (!s->started) {
		s->started = true;
		s->seq = (uint16_t)(k < 4 ? 65535 - rnd() % 300 : rnd());
		return s->seq;
	}
	if (rnd() % 32 == 0 && (s->wraps > 0 || s->seq >= 200))
		return (uint16_t)(s->seq - rnd() % 200);
	prev = s->seq;
	if (k == 7)
		s->seq = (uint16_t)(s->seq + 1 + rnd() % 30000);
	else
		s->seq = (uint16_t)(s->seq + (rnd() % 16 == 0 ?
		    2 + rnd() % 40 : 1));
	if (s->seq < prev)
		s->wraps++;
	return s->seq;
}

static void
put32(uint8_t *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, sizeof(v));
}

/* A random RTP packet; *ret_hlen its header length. */
static size_t
gen_rtp(uint8_t *p, uint32_t ssrc, uint16_t seq, size_t *ret_hlen)
{
	unsigned cc = rnd() % 4 == 0 ? rnd() % 16 : 0;
	bool x = rnd() % 3 == 0;
	size_t n = 12, pay = rnd() % (MAX_PAYLOAD + 1), hlen;

	p[0] = (uint8_t)(0x80 | (x ? 0x10 : 0) |
	    (rnd() % 8 == 0 ? 0x20 : 0) | cc);
	p[1] = (uint8_t)rnd();
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	put32(p + 4, rnd());
	put32(p + 8, ssrc);
	rnd_fill(p + n, cc * 4);
	n += cc * 4;
	if (x) {
		size_t words = rnd() % 11;

		rnd_fill(p + n, 2);
		p[n + 2] = 0;
		p[n + 3] = (uint8_t)words;
		rnd_fill(p + n + 4, words * 4);
		n += 4 + words * 4;
	}
	rnd_fill(p + n, pay);
	assert_int_equal(rtp_hdr_len(p, n + pay, &hlen), 0);
	assert_int_equal(hlen, n);
	*ret_hlen = n;
	return n + pay;
}

/* A random RTCP compound: header, then 0..1200 bytes. */
static size_t
gen_rtcp(uint8_t *p, uint32_t ssrc)
{
	size_t words = rnd() % (MAX_PAYLOAD / 4 + 1);

	p[0] = (uint8_t)(0x80 | rnd() % 32);
	p[1] = (uint8_t)(200 + rnd() % 5);
	p[2] = (uint8_t)((words + 1) >> 8);
	p[3] = (uint8_t)(words + 1);
	put32(p + 4, ssrc);
	rnd_fill(p + 8, words * 4);
	return 8 + words * 4;
}

struct held {
	uint8_t		 pkt[BUF];
	uint8_t		 plain[BUF];
	size_t		 len, plen, hlen;
	unsigned	 due;		/* delivered after packet due */
	bool		 used;
};

static struct held held[NHELD];

/* A late packet: accepted or refused as old, by both receivers. */
static void
deliver_late(struct pair *pp, struct held *h, bool rtcp)
{
	int r = unprotect_both(pp, h->pkt, h->len, h->hlen, rtcp, h->plain,
	    h->plen);

	assert_true(r == 0 || r == -EALREADY);
	if (r == 0)
		pp->late_ok++;
	else
		pp->late_old++;
	h->used = false;
}

/*
 * npkt packets of suite s through both senders and both receivers.
 * Slot 0 holds a packet for 2000 packets (some 250 of its SSRC: past
 * the replay window), the others for up to 8 (reordered within it).
 */
static void
identity_run(const struct cm_suite *s, bool rtcp, unsigned npkt)
{
	struct src src[NSRC];
	struct pair pp;
	uint8_t plain[BUF], pkt[BUF];
	size_t plen, hlen = 0, n = 0;

	pair_init(&pp, s);
	memset(held, 0, sizeof(held));
	for (size_t k = 0; k < NSRC; k++)
		src[k] = (struct src){ .ssrc = rnd() };
	for (unsigned i = 0; i < npkt; i++) {
		size_t k = rnd() % NSRC;
		struct held *h = &held[rnd() % NHELD];

		if (rtcp)
			plen = gen_rtcp(plain, src[k].ssrc);
		else
			plen = gen_rtp(plain, src[k].ssrc,
			    next_seq(&src[k], k), &hlen);
		if (both(&pp, true, rtcp, plain, plen, hlen, pkt, &n) < 0) {
			/* only a sequence number protected before */
			assert_false(rtcp);
			pp.refused++;
			continue;
		}
		/*
		 * not the strider: one stride held back makes the next a
		 * double one, past what any receiver's ROC guess can span
		 */
		if (!h->used && k != 7 && rnd() % 8 == 0) {
			memcpy(h->pkt, pkt, n);
			memcpy(h->plain, plain, plen);
			h->len = n;
			h->plen = plen;
			h->hlen = hlen;
			h->due = i + (h == &held[0] ? 2000 : 1 + rnd() % 8);
			h->used = true;
			continue;
		}
		assert_int_equal(unprotect_both(&pp, pkt, n, hlen, rtcp, plain,
		    plen), 0);
		pp.ok++;
		if (rnd() % 32 == 0)
			assert_int_equal(unprotect_both(&pp, pkt, n, hlen, rtcp,
			    plain, plen), -EALREADY);
		for (size_t j = 0; j < NHELD; j++)
			if (held[j].used && i >= held[j].due)
				deliver_late(&pp, &held[j], rtcp);
	}
	for (size_t j = 0; j < NHELD; j++)
		if (held[j].used)
			deliver_late(&pp, &held[j], rtcp);
	print_message("%s %s: %u same, %u refused alike, late: %u ok, %u "
	    "old\n", s->name, rtcp ? "SRTCP" : "SRTP", pp.ok, pp.refused,
	    pp.late_ok, pp.late_old);
	/* the run went through each path */
	assert_true(pp.ok > npkt / 2 && pp.late_ok > 0 && pp.late_old > 0);
	if (!rtcp) {
		/* reuses refused; the ROC stepped, the strider's often */
		assert_true(pp.refused > 0);
		for (size_t k = 0; k < 4; k++)
			assert_int_equal(src[k].wraps, 1);
		assert_true(src[7].wraps >= 10);
	}
	pair_clear(&pp);
}

static void
identity_srtp(void **state)
{
	(void)state;
	for (size_t k = 0; k < nitems(suites); k++)
		identity_run(&suites[k], false, 6000);
}

static void
identity_srtcp(void **state)
{
	(void)state;
	for (size_t k = 0; k < nitems(suites); k++)
		identity_run(&suites[k], true, 3000);
}

/* ---------------------------------------------------------------- */
/* Failures                                                          */

/* A fixed 172-byte packet of ssrc/seq, protected by out. */
static size_t
protect_one(struct srtp_cm *out, uint8_t *p, uint32_t ssrc, uint16_t seq)
{
	size_t n = 172;

	memset(p, 0x5a, n);
	p[0] = 0x80;
	p[1] = 0;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	put32(p + 8, ssrc);
	assert_int_equal(srtp_cm_rtp_protect(out, p, &n, 12), 0);
	return n;
}

static size_t
protect_rtcp_one(struct srtp_cm *out, uint8_t *p, uint32_t ssrc)
{
	size_t n = 32;

	memset(p, 0x33, n);
	p[0] = 0x81;
	p[1] = 201;
	p[2] = 0;
	p[3] = 7;
	put32(p + 4, ssrc);
	assert_int_equal(srtp_cm_rtcp_protect(out, p, &n), 0);
	return n;
}

static void
tamper_replay(void **state)
{
	(void)state;
	for (size_t k = 0; k < nitems(suites); k++) {
		const struct cm_suite *s = &suites[k];
		uint8_t p[BUF], q[BUF];
		struct pair pp;
		size_t n, m;

		pair_init(&pp, s);
		n = protect_one(pp.out, p, 0xfeed, 10);
		for (size_t bit = 0; bit < n * 8; bit += 5) {
			memcpy(q, p, n);
			q[bit / 8] ^= (uint8_t)(1u << bit % 8);
			m = n;
			if (bit / 8 == 0)
				continue;	/* flags: another hlen */
			assert_int_equal(srtp_cm_rtp_unprotect(pp.in, q, &m,
			    12), -EBADMSG);
		}
		memcpy(q, p, n);
		m = n;
		assert_int_equal(srtp_cm_rtp_unprotect(pp.in, q, &m, 12), 0);
		assert_int_equal(m, 172);
		memcpy(q, p, n);
		m = n;
		assert_int_equal(srtp_cm_rtp_unprotect(pp.in, q, &m, 12),
		    -EALREADY);

		/* SRTCP: tag, body, index, E flag, then the real one once */
		n = protect_rtcp_one(pp.out, p, 0xfeed);
		assert_int_equal(n, 32 + 4 + s->rtcp_tag);
		assert_int_equal(p[32], 0x80);	/* E, index 1 */
		assert_int_equal(p[35], 1);
		for (size_t off = 0; off < n; off++) {
			memcpy(q, p, n);
			q[off] ^= 0x04;
			m = n;
			assert_int_equal(srtp_cm_rtcp_unprotect(pp.in, q, &m),
			    -EBADMSG);
		}
		memcpy(q, p, n);
		q[32] &= 0x7f;		/* "not encrypted": a downgrade */
		m = n;
		assert_int_equal(srtp_cm_rtcp_unprotect(pp.in, q, &m), -EBADMSG);
		memcpy(q, p, n);
		m = n;
		assert_int_equal(srtp_cm_rtcp_unprotect(pp.in, q, &m), 0);
		assert_int_equal(m, 32);
		memcpy(q, p, n);
		m = n;
		assert_int_equal(srtp_cm_rtcp_unprotect(pp.in, q, &m),
		    -EALREADY);
		pair_clear(&pp);
	}
}

static void
wrong_key(void **state)
{
	(void)state;
	for (size_t k = 0; k < nitems(suites); k++) {
		const struct cm_suite *s = &suites[k];
		size_t klen = s->key_len + SRTP_CM_SALT_LEN;
		uint8_t key[32 + SRTP_CM_SALT_LEN], p[BUF];
		struct srtp_cm *out, *in;
		size_t n;

		rnd_fill(key, klen);
		assert_int_equal(srtp_cm_new(key, s->key_len, s->rtp_tag,
		    s->rtcp_tag, &out), 0);
		/* a bit of the key, then a bit of the salt */
		for (size_t flip = 0; flip < 2; flip++) {
			size_t at = flip == 0 ? 3 : klen - 1;

			key[at] ^= 0x10;
			assert_int_equal(srtp_cm_new(key, s->key_len,
			    s->rtp_tag, s->rtcp_tag, &in), 0);
			key[at] ^= 0x10;
			n = protect_one(out, p, 1, (uint16_t)(1 + flip));
			assert_int_equal(srtp_cm_rtp_unprotect(in, p, &n, 12),
			    -EBADMSG);
			n = protect_rtcp_one(out, p, 1);
			assert_int_equal(srtp_cm_rtcp_unprotect(in, p, &n),
			    -EBADMSG);
			srtp_cm_free(in);
		}
		srtp_cm_free(out);
	}
}

static void
ssrc_table(void **state)
{
	const struct cm_suite *s = &suites[0];
	uint8_t p[BUF];
	struct pair pp;
	size_t n;

	(void)state;
	pair_init(&pp, s);
	/* forgeries under new SSRCs take no entry */
	for (uint32_t i = 0; i < 3 * SRTP_CTX_MAX_SSRC; i++) {
		n = protect_one(pp.out, p, 0x5000, (uint16_t)i);
		put32(p + 8, 0x9000 + i);
		assert_int_equal(srtp_cm_rtp_unprotect(pp.in, p, &n, 12),
		    -EBADMSG);
	}
	pair_clear(&pp);
	pair_init(&pp, s);
	for (uint32_t i = 0; i < SRTP_CTX_MAX_SSRC; i++) {
		n = protect_one(pp.out, p, 0x100 + i, 1);
		assert_int_equal(srtp_cm_rtp_unprotect(pp.in, p, &n, 12), 0);
	}
	/* full: a new SSRC is refused both ways, for RTP and RTCP */
	memset(p, 0, 64);
	p[0] = 0x80;
	put32(p + 8, 0x100 + SRTP_CTX_MAX_SSRC);
	n = 40;
	assert_int_equal(srtp_cm_rtp_protect(pp.out, p, &n, 12), -ENOSPC);
	assert_int_equal(srtp_cm_rtp_unprotect(pp.in, p, &n, 12), -ENOSPC);
	put32(p + 4, 0x100 + SRTP_CTX_MAX_SSRC);
	assert_int_equal(srtp_cm_rtcp_protect(pp.out, p, &n), -ENOSPC);
	assert_int_equal(srtp_cm_rtcp_unprotect(pp.in, p, &n), -ENOSPC);
	/* the known ones go on; RTCP shares their entries */
	for (uint32_t i = 0; i < SRTP_CTX_MAX_SSRC; i++) {
		n = protect_one(pp.out, p, 0x100 + i, 2);
		assert_int_equal(srtp_cm_rtp_unprotect(pp.in, p, &n, 12), 0);
		n = protect_rtcp_one(pp.out, p, 0x100 + i);
		assert_int_equal(srtp_cm_rtcp_unprotect(pp.in, p, &n), 0);
	}
	pair_clear(&pp);
}

static void
contract(void **state)
{
	uint8_t key[46] = { 1 }, p[BUF] = { 0x80 };
	struct srtp_cm *c = (struct srtp_cm *)&c;
	size_t n;

	(void)state;
	assert_int_equal(srtp_cm_new(key, 24, 10, 10, &c), -EINVAL);
	assert_int_equal(srtp_cm_new(key, 16, 8, 10, &c), -EINVAL);
	assert_int_equal(srtp_cm_new(key, 16, 10, 16, &c), -EINVAL);
	assert_int_equal(srtp_cm_new(NULL, 16, 10, 10, &c), -EINVAL);
	assert_int_equal(srtp_cm_new(key, 16, 10, 10, NULL), -EINVAL);
	assert_ptr_equal(c, (struct srtp_cm *)&c);	/* untouched */
	srtp_cm_free(NULL);

	assert_int_equal(srtp_cm_new(key, 16, 10, 10, &c), 0);
	n = 40;
	assert_int_equal(srtp_cm_rtp_protect(c, p, &n, 11), -EINVAL);
	assert_int_equal(srtp_cm_rtp_protect(c, p, &n, 41), -EINVAL);
	assert_int_equal(srtp_cm_rtp_protect(NULL, p, &n, 12), -EINVAL);
	assert_int_equal(srtp_cm_rtp_unprotect(c, p, &n, 31), -EINVAL);
	n = 21;
	assert_int_equal(srtp_cm_rtp_unprotect(c, p, &n, 12), -EINVAL);
	n = 3;
	assert_int_equal(srtp_cm_rtp_unprotect(c, p, &n, 12), -EINVAL);
	n = 7;
	assert_int_equal(srtp_cm_rtcp_protect(c, p, &n), -EINVAL);
	n = 8 + 4 + 10 - 1;
	assert_int_equal(srtp_cm_rtcp_unprotect(c, p, &n), -EINVAL);
	n = SRTP_CTX_MAX_PKT + 1;
	assert_int_equal(srtp_cm_rtcp_protect(c, p, &n), -EINVAL);
	assert_int_equal(srtp_cm_rtcp_unprotect(c, NULL, &n), -EINVAL);
	assert_int_equal(srtp_cm_rtcp_unprotect(c, p, NULL), -EINVAL);
	srtp_cm_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc3711_b2_keystream),
		cmocka_unit_test(rfc3711_b3_kdf),
		cmocka_unit_test(identity_srtp),
		cmocka_unit_test(identity_srtcp),
		cmocka_unit_test(tamper_replay),
		cmocka_unit_test(wrong_key),
		cmocka_unit_test(ssrc_table),
		cmocka_unit_test(contract),
	};

	/* libsrtp's own srtp_init(), once */
	if (srtp_ctx_global_init() != 0)
		return 1;
	srandom(3711);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
