/*
 * SRTP and SRTCP with AES counter mode and HMAC-SHA1 (RFC 3711; RFC 6188
 * for AES-256) on OpenSSL, for media/srtp_ctx.
 *
 * Owns: the key derivation (RFC 3711 4.3, KDR 0), the per-SSRC state of
 * a context (packet index and ROC guess, the 128-packet replay windows,
 * the SRTCP index we send) in a fixed table of SRTP_CTX_MAX_SSRC
 * entries, and the per-packet transforms.  Behaves as libsrtp 2.5 does
 * with a template stream for any SSRC: the same index guess, the same
 * replay windows, the same bytes on the wire (tests/unit/media/
 * test_srtp_cm.c holds the proof against libsrtp as the peer).
 *
 * Deliberately not here: AEAD suites (libsrtp serves them through
 * srtp_ctx), MKI, key lifetimes, KDR other than 0, bounds checks of the
 * RTP header (srtp_ctx does them and passes the header length), and the
 * mapping of suites to tag lengths.
 */
#ifndef SW_MEDIA_SRTP_CM_H
#define SW_MEDIA_SRTP_CM_H

#include <stddef.h>
#include <stdint.h>

#define SRTP_CM_SALT_LEN	14	/* master and session salt, bytes */
#define SRTP_CM_AUTH_KEY_LEN	20	/* HMAC-SHA1 session key, bytes */
#define SRTP_CM_MAX_TAG		10	/* the longest tag: 80 bits */
#define SRTP_CM_INDEX_LEN	4	/* SRTCP E flag and index */

/* RFC 3711 4.3.2 labels, 0x00..0x05 */
enum srtp_cm_label {
	SRTP_CM_LABEL_RTP_ENC = 0,
	SRTP_CM_LABEL_RTP_AUTH,
	SRTP_CM_LABEL_RTP_SALT,
	SRTP_CM_LABEL_RTCP_ENC,
	SRTP_CM_LABEL_RTCP_AUTH,
	SRTP_CM_LABEL_RTCP_SALT,
	SRTP_CM_LABEL__MAX
};

struct srtp_cm;

/*
 * A context keyed with master key||salt in key_salt[0..key_len + 14),
 * key_len 16 (AES-128) or 32 (AES-256); rtp_tag and rtcp_tag are the
 * tag lengths in bytes, 4 or 10.  Session keys are derived here and
 * our copies wiped; the caller keeps and wipes its own.  Writes *ret
 * only on success.  Returns 0, -EINVAL, -ENOMEM or -EIO (OpenSSL).
 */
int	srtp_cm_new(const uint8_t *key_salt, size_t key_len, size_t rtp_tag,
	    size_t rtcp_tag, struct srtp_cm **ret);

/* NULL is fine.  Wipes the session keys and states. */
void	srtp_cm_free(struct srtp_cm *c);

/*
 * The transforms, in place on pkt[0..*len).  The caller has checked
 * what srtp_ctx_rtp()/srtp_ctx_rtcp() document: version 2, *len at
 * most SRTP_CTX_MAX_PKT, hlen the RTP header length (CSRCs, extension)
 * within *len, on protect room for SRTP_CTX_MAX_TRAILER after *len, on
 * unprotect the tag (and SRTCP index) after the header.  A violated
 * contract gives -EINVAL, never a read past it.
 * Returns 0 with *len updated, -EBADMSG (tag, or SRTCP E flag clear),
 * -EALREADY (replay, too old, or an index protected before), -ENOSPC
 * (a new SSRC with the table full), -EIO (OpenSSL, SRTCP index
 * exhausted).  An SSRC takes a table entry on protect as soon as it
 * is seen, on unprotect only once a packet of it authenticated.
 */
int	srtp_cm_rtp_protect(struct srtp_cm *c, uint8_t *pkt, size_t *len,
	    size_t hlen);
int	srtp_cm_rtp_unprotect(struct srtp_cm *c, uint8_t *pkt, size_t *len,
	    size_t hlen);
int	srtp_cm_rtcp_protect(struct srtp_cm *c, uint8_t *pkt, size_t *len);
int	srtp_cm_rtcp_unprotect(struct srtp_cm *c, uint8_t *pkt, size_t *len);

/*
 * The AES-CM keystream (RFC 3711 4.1.1) from the 16-byte counter block
 * iv under key[0..key_len) (16 or 32), len bytes into out; the counter
 * steps in its last 16 bits, as SRTP uses it.  Returns 0, -EINVAL
 * (key_len, or len above 2^16 blocks) or -EIO.  Exposed for the RFC
 * 3711 B.2 test vector.
 */
int	srtp_cm_keystream(const uint8_t *key, size_t key_len,
	    const uint8_t iv[16], uint8_t *out, size_t len);

/*
 * The key derivation PRF (RFC 3711 4.3.1 and 4.3.3, KDR 0): len bytes
 * for label under master key[0..key_len) and the 14-byte master salt.
 * Returns 0, -EINVAL or -EIO.  Key material: the caller wipes out.
 */
int	srtp_cm_kdf(const uint8_t *key, size_t key_len,
	    const uint8_t salt[SRTP_CM_SALT_LEN], enum srtp_cm_label label,
	    uint8_t *out, size_t len);

#endif
