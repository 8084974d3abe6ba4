/*
 * SRTP and SRTCP (RFC 3711, RFC 7714) for one direction of one leg,
 * keyed by SDES (RFC 4568): the AES-CM suites on media/srtp_cm
 * (OpenSSL), the AEAD suites on libsrtp2, the same behaviour on both.
 *
 * Owns: the libsrtp policy for each suite we accept, the in-place
 * protect/unprotect calls with their bounds checks and error mapping,
 * our key generation, the a=crypto value we write, and the check of an
 * a=crypto line an endpoint sent.  A context holds one libsrtp session
 * for RTP and RTCP, any SSRC, with replay protection on (libsrtp's
 * default window of 128), used by one thread at a time.
 *
 * Deliberately not here: choosing a suite or a crypto line (policy/
 * and the media session decide), DTLS-SRTP, MKI and key lifetimes
 * (refused in SDP, so never needed), rekeying (a new offer/answer makes
 * a new context), and logging: errors are returned, the caller counts.
 */
#ifndef SW_MEDIA_SRTP_CTX_H
#define SW_MEDIA_SRTP_CTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sip/sdp.h"

/*
 * Bytes of room a protect may add: libsrtp's SRTP_MAX_TRAILER_LEN (a
 * 16-byte tag and a 128-byte MKI, 144) plus the 4-byte SRTCP index.
 */
#define SRTP_CTX_MAX_TRAILER	148

/* Largest packet accepted on either side: what UDP can carry. */
#define SRTP_CTX_MAX_PKT	65535

/*
 * Distinct SSRCs one context serves.  libsrtp allocates a stream per
 * SSRC and finds it by a list walk, so a sender spraying SSRCs (an
 * endpoint on the plain side needs no key to do it) would grow memory
 * and per-packet cost without bound.  A call uses one to a few; a new
 * SSRC beyond this is refused with -ENOSPC.
 */
#define SRTP_CTX_MAX_SSRC	32

/*
 * Shortest key lifetime (RFC 4568 6.1, in packets) srtp_crypto_check
 * accepts: 2^20 is the RFC's own example and lasts 5.8 hours of 20 ms
 * audio.  Shorter keys would need a rekey within an ordinary call.
 */
#define SRTP_CTX_MIN_LIFETIME	(1ull << 20)

enum srtp_ctx_dir {
	SRTP_CTX_IN = 0,	/* unprotect what an endpoint sent */
	SRTP_CTX_OUT,		/* protect what we send */
	SRTP_CTX__MAX
};

struct srtp_ctx;

/*
 * Initialise libsrtp once per process (pthread_once); safe to call
 * many times from many threads.  srtp_ctx_new() calls it too, but the
 * daemon should call it at startup, before the sandbox: it also keeps
 * one idle libsrtp session for the life of the process, which keeps
 * libsrtp's crypto backend (NSS on Debian) loaded, so that later
 * contexts neither load it again (about 1 ms each) nor open files.
 * Returns 0, or -EIO when libsrtp failed to start (also on every later
 * call).
 */
int	srtp_ctx_global_init(void);

/*
 * Suites we can key: AES_CM_128_HMAC_SHA1_80 and _32, AES_256_CM_
 * HMAC_SHA1_80 and _32 (RFC 6188), AEAD_AES_128_GCM and AEAD_AES_256_GCM
 * (RFC 7714, 16-byte tags).  Not F8, AES-192 or the 8-byte-tag GCM
 * variants: no SDES peer we know offers them.
 */
bool	srtp_ctx_suite_ok(enum sdp_suite s);

/*
 * A context for suite keyed with key_salt[0..len), len ==
 * sdp_suite_key_len(suite).  The key is copied into libsrtp's session
 * keys and our copy wiped; the caller keeps and wipes its own.
 * Writes *ret only on success.  Returns 0, -EINVAL (suite or len),
 * -ENOMEM, or -EIO (any other libsrtp error).
 */
int	srtp_ctx_new(enum sdp_suite suite, const uint8_t *key_salt,
	    size_t len, enum srtp_ctx_dir dir, struct srtp_ctx **ret);

/* NULL is fine.  libsrtp wipes its keys when it frees the session. */
void	srtp_ctx_free(struct srtp_ctx *c);

/*
 * Protect (OUT) or unprotect (IN) the packet pkt[0..*len) in place;
 * cap is the room at pkt.  OUT needs cap >= *len + SRTP_CTX_MAX_TRAILER
 * (libsrtp's own contract, although a protect adds only a tag, plus
 * the SRTCP index); IN needs cap >= *len and shrinks the packet.
 * The RTP header (CSRCs, extension) and, on IN, the tag (and SRTCP
 * index) must lie within *len: we check before libsrtp reads.
 * Returns 0 with *len updated, or
 *   -EBADMSG   authentication failed (IN);
 *   -EALREADY  a replayed packet, or one older than the replay window
 *              (IN), or a sequence number protected before (OUT: a
 *              repeated keystream would be a weakness, so it is
 *              refused; the caller drops the packet);
 *   -EINVAL    too short or malformed (not version 2, header past
 *              *len, longer than SRTP_CTX_MAX_PKT), or cap < *len;
 *   -ENOSPC    no room for the trailer (OUT), or a new SSRC when
 *              SRTP_CTX_MAX_SSRC are in use;
 *   -EIO       any other libsrtp failure.
 * pkt holds junk after a failed IN or OUT call: drop the packet.
 */
int	srtp_ctx_rtp(struct srtp_ctx *c, uint8_t *pkt, size_t *len,
	    size_t cap);
int	srtp_ctx_rtcp(struct srtp_ctx *c, uint8_t *pkt, size_t *len,
	    size_t cap);

/*
 * A fresh key||salt for suite from OpenSSL's RAND_bytes into
 * dst[0..cap).  Key material: the caller wipes dst after use.
 * Returns 0 and *ret_len, -EINVAL (suite unsupported or cap too small),
 * or -EIO (no randomness).
 */
int	srtp_key_gen(enum sdp_suite suite, uint8_t *dst, size_t cap,
	    size_t *ret_len);

/*
 * The a=crypto value "TAG SUITE inline:BASE64(key||salt)" (RFC 4568 9.1;
 * no lifetime, no MKI, no session parameters), NUL-terminated in
 * out[0..cap).  At most SDP_RW_MAX_CRYPTO bytes for every suite here.
 * Returns its length, -EINVAL (tag above SDP_MAX_CRYPTO_TAG, suite not
 * srtp_ctx_suite_ok(), len not its key length), or -ENOSPC.
 */
int	srtp_crypto_value(unsigned tag, enum sdp_suite suite,
	    const uint8_t *key_salt, size_t len, char *out, size_t cap);

/*
 * Whether an offered or answered a=crypto line (from sdp_parse) can be
 * used.  Returns NULL if so, else a short static reason:
 *   "unsupported suite"          not srtp_ctx_suite_ok();
 *   "several keys"               more than one key-param;
 *   "MKI not supported"          the key has an MKI;
 *   "key length"                 key||salt is not the suite's length;
 *   "lifetime too short"         below SRTP_CTX_MIN_LIFETIME;
 *   "UNENCRYPTED_SRTP", "UNENCRYPTED_SRTCP", "UNAUTHENTICATED_SRTP"
 *                                they weaken the session;
 *   "KDR not supported"          a KDR other than 0 (we derive once);
 *   "FEC not supported"          FEC_KEY, or FEC_ORDER=SRTP_FEC: we
 *                                relay no FEC stream to key apart;
 *   "bad session parameter"      a malformed KDR, WSH or FEC_ORDER;
 *   "unknown session parameter"  any other, unless it starts with '-'
 *                                (RFC 4568 6.3.7: optional, ignored).
 * Accepted and ignored: KDR=0, WSH=<n> with n >= 64 (a hint for the
 * receiver's window; libsrtp uses 128), FEC_ORDER=FEC_SRTP (the
 * default).  With key_out not NULL, the decoded key||salt is written
 * to key_out[0..cap) and *key_len set on success; cap too small gives
 * "key length".  Key material: the caller wipes key_out.
 */
const char *srtp_crypto_check(const struct sdp_crypto *cr, uint8_t *key_out,
	    size_t cap, size_t *key_len);

#endif
