/*
 * SRTP/SRTCP contexts on media/srtp_cm (the AES-CM suites) and libsrtp2
 * (AEAD), and the SDES glue around them.
 *
 * Owns: the suite table (which engine, libsrtp policy setters, tag
 * lengths), the checks done before either engine sees a packet, the
 * mapping of libsrtp status codes to errno values, the SSRC bound on
 * libsrtp sessions (srtp_cm keeps its own, the same), key generation,
 * the a=crypto value we write and the check of one we receive.
 *
 * Why two engines: Debian's libsrtp2 is built on NSS, whose HMAC-SHA1
 * per packet bounds AES-CM to about 380k packets a second on a core;
 * srtp_cm does the same transform on OpenSSL several times faster and
 * is proven byte-identical to libsrtp by its tests.  GCM on libsrtp is
 * fast enough and stays there.
 *
 * libsrtp is trusted with the cryptography, not with bounds: it reads
 * the RTP header's CSRC count and extension length and, on unprotect,
 * the tag from the end of the packet, and a system libsrtp is not
 * sanitizer-instrumented, so every length it will use is checked here
 * first (rtp_hdr_len(), the tag and SRTCP index).  Its output room is
 * its own documented contract (SRTP_MAX_TRAILER_LEN), not the few
 * bytes a protect really adds.
 *
 * Deliberately not here: DTLS-SRTP keying; MKI, key lifetimes, KDR and
 * FEC (srtp_crypto_check refuses them, or accepts only the values that
 * change nothing); suite choice; logging.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <srtp2/srtp.h>

#include "core/num.h"
#include "core/slice.h"
#include "media/rtp_stats.h"
#include "media/srtp_cm.h"
#include "media/srtp_ctx.h"

#define RTCP_HDR_LEN		8
#define SRTCP_INDEX_LEN		4	/* E flag and 31-bit index */
#define B64_LEN(n)		(4 * (((n) + 2) / 3))

#if SRTP_CTX_MAX_TRAILER < SRTP_MAX_TRAILER_LEN + SRTCP_INDEX_LEN
#error "SRTP_CTX_MAX_TRAILER is below what libsrtp may write"
#endif

struct srtp_ctx {
	struct srtp_cm	*cm;		/* AES-CM suites, else: */
	srtp_t		 s;		/* AEAD suites */
	uint8_t		 dir;		/* enum srtp_ctx_dir */
	uint8_t		 rtp_tag;	/* bytes of tag on SRTP */
	uint8_t		 rtcp_tag;	/* bytes of tag on SRTCP */
	size_t		 nssrc;
	size_t		 last;		/* the last SSRC matched */
	uint32_t	 ssrc[SRTP_CTX_MAX_SSRC];	/* network order */
};

typedef void	srtp_policy_fn(srtp_crypto_policy_t *);

/*
 * RTCP keeps an 80-bit tag under the _32 suites (RFC 4568 6.2.2, RFC
 * 6188 2): the short tag is a concession to RTP payload size only.
 * GCM is RFC 7714's 16-byte tag for both.
 */
static const struct suite_policy {
	uint8_t		 suite;		/* enum sdp_suite */
	uint8_t		 cm_key;	/* AES key bytes on srtp_cm; 0: libsrtp */
	uint8_t		 rtp_tag;
	uint8_t		 rtcp_tag;
	srtp_policy_fn	*rtp;
	srtp_policy_fn	*rtcp;
} suite_policies[] = {
	{ SDP_SUITE_AES_CM_128_HMAC_SHA1_80, 16, 10, 10,
	    srtp_crypto_policy_set_rtp_default,
	    srtp_crypto_policy_set_rtcp_default },
	{ SDP_SUITE_AES_CM_128_HMAC_SHA1_32, 16, 4, 10,
	    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32,
	    srtp_crypto_policy_set_rtcp_default },
	{ SDP_SUITE_AES_256_CM_HMAC_SHA1_80, 32, 10, 10,
	    srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80,
	    srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80 },
	{ SDP_SUITE_AES_256_CM_HMAC_SHA1_32, 32, 4, 10,
	    srtp_crypto_policy_set_aes_cm_256_hmac_sha1_32,
	    srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80 },
	{ SDP_SUITE_AEAD_AES_128_GCM, 0, 16, 16,
	    srtp_crypto_policy_set_aes_gcm_128_16_auth,
	    srtp_crypto_policy_set_aes_gcm_128_16_auth },
	{ SDP_SUITE_AEAD_AES_256_GCM, 0, 16, 16,
	    srtp_crypto_policy_set_aes_gcm_256_16_auth,
	    srtp_crypto_policy_set_aes_gcm_256_16_auth },
};

static pthread_once_t	srtp_once = PTHREAD_ONCE_INIT;
static int		srtp_init_rc = -EIO;
static srtp_t		srtp_keeper;	/* idle; see below */

/*
 * Debian's libsrtp2 is built on NSS, whose cipher setup brings NSS up
 * (NSS_InitContext: dlopen of the softokn, reading its config) when no
 * NSS context exists and takes it down again at the last dealloc: about
 * 1 ms per srtp_create(), and file access a sandbox may forbid.  One
 * idle session held for the life of the process keeps NSS up, so a
 * context costs about 20 us.  With another crypto backend it is merely
 * a few hundred idle bytes.
 */
static void
srtp_once_init(void)
{
	srtp_policy_t pol;
	uint8_t key[SRTP_AES_ICM_128_KEY_LEN_WSALT] = { 0 };

	if (srtp_init() != srtp_err_status_ok)
		return;
	memset(&pol, 0, sizeof(pol));
	srtp_crypto_policy_set_rtp_default(&pol.rtp);
	srtp_crypto_policy_set_rtcp_default(&pol.rtcp);
	pol.ssrc.type = ssrc_any_inbound;
	pol.key = key;
	if (srtp_create(&srtp_keeper, &pol) != srtp_err_status_ok)
		return;
	srtp_init_rc = 0;
}

int
srtp_ctx_global_init(void)
{
	if (pthread_once(&srtp_once, srtp_once_init) != 0)
		return -EIO;
	return srtp_init_rc;
}

static const struct suite_policy *
suite_policy(enum sdp_suite s)
{
	for (size_t i = 0; i < sizeof(suite_policies) /
	    sizeof(suite_policies[0]); i++)
		if (suite_policies[i].suite == s)
			return &suite_policies[i];
	return NULL;
}

bool
srtp_ctx_suite_ok(enum sdp_suite s)
{
	return suite_policy(s) != NULL;
}

int
srtp_ctx_new(enum sdp_suite suite, const uint8_t *key_salt, size_t len,
    enum srtp_ctx_dir dir, struct srtp_ctx **ret)
{
	const struct suite_policy *sp = suite_policy(suite);
	srtp_policy_t pol;
	struct srtp_ctx *c;
	uint8_t key[SDP_MAX_KEY];
	srtp_err_status_t st;
	int r;

	if (sp == NULL || key_salt == NULL ||
	    len != sdp_suite_key_len(suite) || len > sizeof(key) ||
	    (dir != SRTP_CTX_IN && dir != SRTP_CTX_OUT) || ret == NULL)
		return -EINVAL;
	if ((r = srtp_ctx_global_init()) < 0)
		return r;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -ENOMEM;
	c->dir = (uint8_t)dir;
	c->rtp_tag = sp->rtp_tag;
	c->rtcp_tag = sp->rtcp_tag;
	if (sp->cm_key != 0) {
		if ((r = srtp_cm_new(key_salt, sp->cm_key, sp->rtp_tag,
		    sp->rtcp_tag, &c->cm)) < 0) {
			srtp_ctx_free(c);
			return r;
		}
		*ret = c;
		return 0;
	}

	memset(&pol, 0, sizeof(pol));
	sp->rtp(&pol.rtp);
	sp->rtcp(&pol.rtcp);
	pol.ssrc.type = dir == SRTP_CTX_IN ? ssrc_any_inbound :
	    ssrc_any_outbound;
	/* libsrtp takes a non-const key; hand it a copy we wipe */
	memcpy(key, key_salt, len);
	pol.key = key;
	pol.window_size = 0;		/* libsrtp's default, 128 */
	pol.allow_repeat_tx = 0;	/* no keystream reuse on OUT */
	pol.next = NULL;
	st = srtp_create(&c->s, &pol);
	explicit_bzero(key, sizeof(key));
	explicit_bzero(&pol, sizeof(pol));
	if (st != srtp_err_status_ok) {
		c->s = NULL;
		srtp_ctx_free(c);
		return st == srtp_err_status_alloc_fail ? -ENOMEM : -EIO;
	}
	*ret = c;
	return 0;
}

void
srtp_ctx_free(struct srtp_ctx *c)
{
	if (c == NULL)
		return;
	srtp_cm_free(c->cm);
	if (c->s != NULL)
		srtp_dealloc(c->s);
	explicit_bzero(c, sizeof(*c));
	free(c);
}

/* ---------------------------------------------------------------- */
/* Packets                                                           */

/*
 * Whether ssrc (as on the wire) has a libsrtp stream of ours.  The last
 * match is tried first: packets come in runs of one SSRC.
 */
static bool
ssrc_known(struct srtp_ctx *c, uint32_t ssrc)
{
	if (c->nssrc > 0 && c->ssrc[c->last] == ssrc)
		return true;
	for (size_t i = 0; i < c->nssrc; i++)
		if (c->ssrc[i] == ssrc) {
			c->last = i;
			return true;
		}
	return false;
}

static void
ssrc_add(struct srtp_ctx *c, uint32_t ssrc)
{
	c->last = c->nssrc;
	c->ssrc[c->nssrc++] = ssrc;
}

static int
srtp_errno(const struct srtp_ctx *c, srtp_err_status_t st)
{
	switch (st) {
	case srtp_err_status_ok:
		return 0;
	case srtp_err_status_auth_fail:
		return -EBADMSG;
	case srtp_err_status_cipher_fail:
		/* an AEAD backend reports a bad GCM tag as this */
		return c->dir == SRTP_CTX_IN ? -EBADMSG : -EIO;
	case srtp_err_status_cant_check:
		/* SRTCP with the E flag clear where we encrypt: a downgrade */
		return c->dir == SRTP_CTX_IN ? -EBADMSG : -EIO;
	case srtp_err_status_replay_fail:
	case srtp_err_status_replay_old:
	case srtp_err_status_pkt_idx_old:
		return -EALREADY;
	case srtp_err_status_bad_param:
		return -EINVAL;
	case srtp_err_status_alloc_fail:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

/*
 * The checks common to RTP and RTCP: cap, sizes, room.  min is the
 * smallest packet libsrtp may be handed in this direction.
 */
static int
pkt_check(const struct srtp_ctx *c, const uint8_t *pkt, size_t len,
    size_t cap, size_t min)
{
	if (c == NULL || pkt == NULL || cap < len || len < min ||
	    len > SRTP_CTX_MAX_PKT)
		return -EINVAL;
	if (pkt[0] >> 6 != RTP_VERSION)
		return -EINVAL;
	if (c->dir == SRTP_CTX_OUT && cap - len < SRTP_CTX_MAX_TRAILER)
		return -ENOSPC;
	return 0;
}

/* Run libsrtp on a checked packet and keep the SSRC table right. */
static int
pkt_run(struct srtp_ctx *c, uint8_t *pkt, size_t *len, uint32_t ssrc,
    bool rtcp)
{
	srtp_err_status_t st;
	bool known = ssrc_known(c, ssrc);
	int n = (int)*len;	/* <= SRTP_CTX_MAX_PKT, checked */

	if (!known && c->nssrc >= SRTP_CTX_MAX_SSRC)
		return -ENOSPC;
	if (c->dir == SRTP_CTX_OUT)
		st = rtcp ? srtp_protect_rtcp(c->s, pkt, &n) :
		    srtp_protect(c->s, pkt, &n);
	else
		st = rtcp ? srtp_unprotect_rtcp(c->s, pkt, &n) :
		    srtp_unprotect(c->s, pkt, &n);
	/*
	 * libsrtp makes the stream of a new SSRC before protecting (so
	 * count it whatever the outcome), but on unprotect only once the
	 * packet authenticated: a forger cannot fill the table.
	 */
	if (!known && (c->dir == SRTP_CTX_OUT || st == srtp_err_status_ok))
		ssrc_add(c, ssrc);
	if (st != srtp_err_status_ok)
		return srtp_errno(c, st);
	if (n < 0 || (size_t)n > *len + SRTP_CTX_MAX_TRAILER)
		return -EIO;	/* cannot happen; pass on no bad length */
	*len = (size_t)n;
	return 0;
}

int
srtp_ctx_rtp(struct srtp_ctx *c, uint8_t *pkt, size_t *len, size_t cap)
{
	size_t hlen, min;
	uint32_t ssrc;
	int r;

	if (len == NULL)
		return -EINVAL;
	min = RTP_HDR_LEN;
	if (c != NULL && c->dir == SRTP_CTX_IN)
		min += c->rtp_tag;
	if ((r = pkt_check(c, pkt, *len, cap, min)) < 0)
		return r;
	/* CSRCs and extension inside the packet, and on IN the tag after */
	if (rtp_hdr_len(pkt, *len, &hlen) < 0)
		return -EINVAL;
	if (c->dir == SRTP_CTX_IN && *len - hlen < c->rtp_tag)
		return -EINVAL;
	if (c->cm != NULL)
		return c->dir == SRTP_CTX_OUT ?
		    srtp_cm_rtp_protect(c->cm, pkt, len, hlen) :
		    srtp_cm_rtp_unprotect(c->cm, pkt, len, hlen);
	memcpy(&ssrc, pkt + 8, sizeof(ssrc));
	return pkt_run(c, pkt, len, ssrc, false);
}

int
srtp_ctx_rtcp(struct srtp_ctx *c, uint8_t *pkt, size_t *len, size_t cap)
{
	size_t min;
	uint32_t ssrc;
	int r;

	if (len == NULL)
		return -EINVAL;
	min = RTCP_HDR_LEN;
	if (c != NULL && c->dir == SRTP_CTX_IN)
		min += SRTCP_INDEX_LEN + c->rtcp_tag;
	if ((r = pkt_check(c, pkt, *len, cap, min)) < 0)
		return r;
	if (c->cm != NULL)
		return c->dir == SRTP_CTX_OUT ?
		    srtp_cm_rtcp_protect(c->cm, pkt, len) :
		    srtp_cm_rtcp_unprotect(c->cm, pkt, len);
	memcpy(&ssrc, pkt + 4, sizeof(ssrc));
	return pkt_run(c, pkt, len, ssrc, true);
}

/* ---------------------------------------------------------------- */
/* Keys and SDES                                                     */

int
srtp_key_gen(enum sdp_suite suite, uint8_t *dst, size_t cap,
    size_t *ret_len)
{
	size_t n = sdp_suite_key_len(suite);

	if (!srtp_ctx_suite_ok(suite) || dst == NULL || cap < n ||
	    ret_len == NULL)
		return -EINVAL;
	if (RAND_bytes(dst, (int)n) != 1) {
		explicit_bzero(dst, n);
		return -EIO;
	}
	*ret_len = n;
	return 0;
}

int
srtp_crypto_value(unsigned tag, enum sdp_suite suite,
    const uint8_t *key_salt, size_t len, char *out, size_t cap)
{
	char b64[B64_LEN(SDP_MAX_KEY) + 1];
	int n;

	if (tag > SDP_MAX_CRYPTO_TAG || !srtp_ctx_suite_ok(suite) ||
	    key_salt == NULL || len != sdp_suite_key_len(suite) ||
	    len > SDP_MAX_KEY || out == NULL)
		return -EINVAL;
	/* standard alphabet with '=' padding, as RFC 4568 9.1 asks */
	EVP_EncodeBlock((unsigned char *)b64, key_salt, (int)len);
	n = snprintf(out, cap, "%u %s inline:%s", tag, sdp_suite_name(suite),
	    b64);
	explicit_bzero(b64, sizeof(b64));
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= cap) {
		/* a truncated value still holds part of the key */
		explicit_bzero(out, cap);
		return -ENOSPC;
	}
	return n;
}

/* lifetime = ["2^"] 1*DIGIT, as sip/sdp.c validated it. */
static const char *
lifetime_check(struct slice s)
{
	uint64_t v;
	uint32_t e;

	if (!slice_set(s))
		return NULL;		/* absent: the suite's maximum */
	if (s.len >= 2 && s.p[0] == '2' && s.p[1] == '^') {
		if (parse_u32(slice_sub(s, 2, s.len - 2), 64, &e) < 0)
			return "bad lifetime";
		return e < 20 ? "lifetime too short" : NULL;
	}
	if (parse_u64(s, UINT64_MAX, &v) < 0)
		return "bad lifetime";
	return v < SRTP_CTX_MIN_LIFETIME ? "lifetime too short" : NULL;
}

/* The value after "NAME=" when tok starts with it (any case). */
static bool
param_value(struct slice tok, const char *name, struct slice *ret)
{
	struct slice pfx = slice_cstr(name);

	if (!slice_starts_ci(tok, pfx))
		return false;
	*ret = slice_sub(tok, pfx.len, tok.len - pfx.len);
	return true;
}

/* One session parameter (RFC 4568 6.3): NULL when acceptable. */
static const char *
session_param_check(struct slice tok)
{
	static const char *const weak[] = {
		"UNENCRYPTED_SRTP", "UNENCRYPTED_SRTCP",
		"UNAUTHENTICATED_SRTP",
	};
	struct slice v;
	uint32_t n;

	for (size_t i = 0; i < sizeof(weak) / sizeof(weak[0]); i++)
		if (slice_eq_cstr_ci(tok, weak[i]))
			return weak[i];
	if (param_value(tok, "KDR=", &v)) {
		if (parse_u32(v, 24, &n) < 0)
			return "bad session parameter";
		/* a rekey every 2^n packets: libsrtp derives once only */
		return n != 0 ? "KDR not supported" : NULL;
	}
	if (param_value(tok, "WSH=", &v)) {
		/* RFC 4568 6.3.5: at least 64 */
		if (parse_u32(v, UINT32_MAX, &n) < 0 || n < 64)
			return "bad session parameter";
		return NULL;
	}
	if (param_value(tok, "FEC_ORDER=", &v)) {
		if (slice_eq_cstr_ci(v, "FEC_SRTP"))
			return NULL;
		if (slice_eq_cstr_ci(v, "SRTP_FEC"))
			return "FEC not supported";
		return "bad session parameter";
	}
	if (param_value(tok, "FEC_KEY=", &v))
		return "FEC not supported";
	/* RFC 4568 6.3.7: a leading '-' marks an optional extension */
	if (tok.p[0] == '-')
		return NULL;
	return "unknown session parameter";
}

static const char *
session_check(struct slice s)
{
	const char *why;
	struct slice tok;
	size_t n;

	for (;;) {
		slice_span(&s, CT_WS);
		if (s.len == 0)
			return NULL;
		for (n = 0; n < s.len && !ctype_is(s.p[n], CT_WS); n++)
			;
		slice_take(&s, n, &tok);
		if ((why = session_param_check(tok)) != NULL)
			return why;
	}
}

const char *
srtp_crypto_check(const struct sdp_crypto *cr, uint8_t *key_out,
    size_t cap, size_t *key_len)
{
	uint8_t key[SDP_MAX_KEY];
	const char *why;
	size_t n = 0;

	if (cr == NULL)
		return "no crypto line";
	if (!srtp_ctx_suite_ok(cr->suite))
		return "unsupported suite";
	if (cr->nkeys > 1)
		return "several keys";
	if (cr->key.mki_len != 0 || slice_set(cr->key.mki))
		return "MKI not supported";
	if ((why = lifetime_check(cr->key.lifetime)) != NULL)
		return why;
	if ((why = session_check(cr->session_params)) != NULL)
		return why;
	if (cr->nkeys == 0 ||
	    sdp_crypto_key_decode(cr->key.key_salt, key, sizeof(key), &n) < 0 ||
	    n != sdp_suite_key_len(cr->suite) ||
	    (key_out != NULL && (cap < n || key_len == NULL))) {
		explicit_bzero(key, sizeof(key));
		return "key length";
	}
	if (key_out != NULL) {
		memcpy(key_out, key, n);
		*key_len = n;
	}
	explicit_bzero(key, sizeof(key));
	return NULL;
}
