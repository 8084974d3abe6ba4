/*
 * HTTP/SIP Digest authentication, server side (RFC 7616, RFC 8760,
 * RFC 3261 22.4): HA1 and response computation for MD5, SHA-256 and
 * SHA-512-256, strict validation of a client's credentials with a
 * precise reason code, constant-time verification that costs the same
 * for known and unknown users (AUTH4), and the challenge header value.
 *
 * Owns: the arithmetic and the policy of what a credential must look
 * like.  Does not own: parsing the Authorization header (sip/ fills
 * struct digest_cred from it), the account table (account.c), nonces
 * (nonce.c), nonce-count replay state (replay.c), or what goes on the
 * wire (the daemon; it must answer an unknown user and a wrong password
 * with byte-identical responses).
 *
 * Policy: qop=auth is required; RFC 2069 credentials (no qop), auth-int,
 * the -sess algorithms and userhash are refused, each with its own
 * reason.  Library code: nothing is logged, reasons are returned.
 */
#ifndef SW_AUTH_DIGEST_H
#define SW_AUTH_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "core/slice.h"
#include "core/wbuf.h"

struct nonce_ctx;
struct replay;

enum digest_alg {
	DIGEST_ALG_MD5 = 0,
	DIGEST_ALG_SHA256,
	DIGEST_ALG_SHA512_256,
	DIGEST_ALG_MAX
};

#define DIGEST_ALG_BIT(a)	(1u << (a))
#define DIGEST_ALGS_DEFAULT	(DIGEST_ALG_BIT(DIGEST_ALG_MD5) | \
				 DIGEST_ALG_BIT(DIGEST_ALG_SHA256))

/* Limits on what a client may send (before authentication: tight). */
#define DIGEST_USER_MAX		64
#define DIGEST_REALM_MAX	128
#define DIGEST_NONCE_MAX	128
#define DIGEST_URI_MAX		1024
#define DIGEST_CNONCE_MAX	64
#define DIGEST_OPAQUE_MAX	128
#define DIGEST_METHOD_MAX	32
#define DIGEST_NC_LEN		8	/* exactly 8 hex digits */

#define DIGEST_HEX_MAX		64	/* longest hash, in hex digits */
#define DIGEST_HEX_BUF		(DIGEST_HEX_MAX + 1)
#define DIGEST_FAKE_KEY_LEN	32

/*
 * Every outcome of digest validation and verification, used as the
 * "reason" of security events (digest_reason_name()).  Only
 * DIGEST_OK authenticates.
 */
enum digest_reason {
	DIGEST_OK = 0,
	DIGEST_E_MISSING_PARAM,		/* username/realm/nonce/uri/response/method absent */
	DIGEST_E_BAD_USERNAME,		/* empty, > DIGEST_USER_MAX, CTL, '"' or '\' */
	DIGEST_E_USERHASH,		/* userhash=true (RFC 7616 3.4.4): unsupported */
	DIGEST_E_BAD_ALGORITHM,		/* unknown or a -sess variant */
	DIGEST_E_ALG_NOT_OFFERED,	/* known, but not enabled here */
	DIGEST_E_QOP_REQUIRED,		/* no qop: RFC 2069 credentials refused */
	DIGEST_E_QOP_AUTH_INT,		/* qop=auth-int: never offered */
	DIGEST_E_BAD_QOP,		/* any other qop value */
	DIGEST_E_BAD_NC,		/* nc absent, not 8 hex digits, or zero */
	DIGEST_E_BAD_CNONCE,		/* absent, empty, > DIGEST_CNONCE_MAX, CTL/'"'/'\' */
	DIGEST_E_BAD_NONCE,		/* empty or > DIGEST_NONCE_MAX */
	DIGEST_E_REALM_MISMATCH,	/* realm is not exactly ours */
	DIGEST_E_URI_MISMATCH,		/* uri is not the Request-URI */
	DIGEST_E_OPAQUE_MISMATCH,	/* opaque is not the one we sent */
	DIGEST_E_MALFORMED_RESPONSE,	/* response is not 32/64 hex digits */
	DIGEST_E_NONCE_INVALID,		/* nonce not ours (MAC, encoding, source) */
	DIGEST_E_NONCE_STALE,		/* ours, expired, and the response was right */
	DIGEST_E_UNKNOWN_USER,		/* no such account (same work, same answer) */
	DIGEST_E_NO_HA1,		/* account has no HA1 for this algorithm */
	DIGEST_E_BAD_RESPONSE,		/* wrong password */
	DIGEST_E_REPLAY,		/* nonce count already seen */
	DIGEST_E_REPLAY_FULL,		/* replay table full: fail closed */
	DIGEST_E_INTERNAL,		/* crypto library failure: fail closed */
	DIGEST_REASON_MAX
};

/*
 * Credentials as sent by the client, one slice per parameter with the
 * quotes stripped (p == NULL: absent; p != NULL, len 0: present but
 * empty).  method is the request method (the CSeq method for ACK and
 * CANCEL), filled by the SIP layer, not by the client's header.
 */
struct digest_cred {
	struct slice	username;
	struct slice	realm;
	struct slice	nonce;
	struct slice	uri;
	struct slice	response;
	struct slice	algorithm;
	struct slice	cnonce;
	struct slice	nc;
	struct slice	qop;
	struct slice	opaque;
	struct slice	userhash;
	struct slice	method;
};

/* What the credentials must match. */
struct digest_expect {
	struct slice	realm;		/* ours; compared byte for byte */
	struct slice	uri;		/* Request-URI as received; unset: not checked */
	/* host:port the request reached (may be unset): with a tel:
	 * Request-URI, clients that name the server put "sip:" this */
	struct slice	here;
	struct slice	opaque;		/* what we sent; unset: not checked */
	unsigned	algs;		/* DIGEST_ALG_BIT() set; 0: DIGEST_ALGS_DEFAULT */
};

/* Decoded from valid credentials. */
struct digest_parsed {
	enum digest_alg	alg;
	uint32_t	nc;		/* nonce count, >= 1 */
	int64_t		expires;	/* nonce expiry (digest_authenticate only) */
};

/* Stored HA1 values of an account, lowercase hex, by algorithm; NULL: none. */
struct digest_ha1 {
	const char	*hex[DIGEST_ALG_MAX];
};

/* "ok", "missing_param", ...: stable names for events; never NULL. */
const char	*digest_reason_name(enum digest_reason r);
/* Reasons that the client should be re-challenged with stale=true:
 * its password was right (nonce expired, replay table full, nc repeat). */
int		 digest_reason_is_stale(enum digest_reason r);

/* "MD5", "SHA-256", "SHA-512-256"; NULL when out of range. */
const char	*digest_alg_name(enum digest_alg a);
/* Hex digits of a hash: 32 or 64; 0 when out of range. */
size_t		 digest_alg_hexlen(enum digest_alg a);
/*
 * Token as in the algorithm parameter (case-insensitive).  Returns 0,
 * -SBC_EPARSE for an unknown name, -ENOTSUP for a -sess variant.
 */
int		 digest_alg_parse(struct slice s, enum digest_alg *ret);

/*
 * HA1 = H(username ":" realm ":" password) as lowercase hex into
 * out[0..DIGEST_HEX_BUF), NUL-terminated.  The password is only read;
 * the caller wipes its copy.  0, -EINVAL (bad alg), -ENOTSUP (the
 * crypto library lacks the hash, e.g. MD5 under FIPS) or -EIO.
 */
int	digest_ha1(enum digest_alg alg, struct slice username,
	    struct slice realm, struct slice password, char out[DIGEST_HEX_BUF]);

/*
 * The response a client with HA1 ha1_hex would send for c:
 *   qop set:   H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" H(method ":" uri))
 *   qop unset: H(HA1 ":" nonce ":" H(method ":" uri))          (RFC 2069)
 * Fields are used as given (no validation: see digest_cred_check()).
 * Used by the verifier and by tests and outbound registration (AUTH5).
 * Same returns as digest_ha1().
 */
int	digest_response(enum digest_alg alg, struct slice ha1_hex,
	    const struct digest_cred *c, char out[DIGEST_HEX_BUF]);

/*
 * Validate c against the policy above and x.  Does no hashing, so its
 * cost does not depend on the user.  Checks run in a fixed order and
 * the first failure is returned; on DIGEST_OK *ret holds alg and nc.
 */
enum digest_reason digest_cred_check(const struct digest_cred *c,
	    const struct digest_expect *x, struct digest_parsed *ret);

/*
 * Pseudo-HA1 for a user we do not have: HMAC-SHA256 under key of
 * (alg, realm, username), truncated to the algorithm's length, as
 * lowercase hex.  Deterministic for a key; reveals nothing.  key is any
 * DIGEST_FAKE_KEY_LEN random bytes the daemon keeps (it need not
 * persist).  0 or -EINVAL/-EIO.
 */
int	digest_fake_ha1(const uint8_t key[DIGEST_FAKE_KEY_LEN],
	    struct slice username, struct slice realm, enum digest_alg alg,
	    char out[DIGEST_HEX_BUF]);

/*
 * Verify the response of credentials that passed digest_cred_check().
 * ha1 is the account's stored HA1s, or NULL for an unknown user.  The
 * work is the same either way: the fake HA1 is always derived, the HA1
 * to use is selected without a branch, the expected response is always
 * computed and compared with CRYPTO_memcmp.  Returns DIGEST_OK,
 * DIGEST_E_UNKNOWN_USER, DIGEST_E_NO_HA1, DIGEST_E_BAD_RESPONSE or
 * DIGEST_E_INTERNAL.
 */
enum digest_reason digest_verify(const struct digest_cred *c,
	    const struct digest_parsed *p, const struct digest_ha1 *ha1,
	    const uint8_t fake_key[DIGEST_FAKE_KEY_LEN]);

/* State the verifier needs; all shared by the worker threads (read-only
 * except the replay table, which locks itself). */
struct digest_verifier {
	const struct nonce_ctx	*nonce;
	struct replay		*replay;
	const uint8_t		*fake_key;	/* DIGEST_FAKE_KEY_LEN bytes */
};

/*
 * The whole server-side check in the one safe order:
 *   1. digest_cred_check()              (format and policy; no hashing)
 *   2. nonce_check() against x->realm and the source address
 *        invalid -> DIGEST_E_NONCE_INVALID (no hashing: not user-dependent)
 *   3. digest_verify()                  (equal work, known or not)
 *        a right response on a stale nonce -> DIGEST_E_NONCE_STALE
 *   4. replay_check_and_set()           (only after a right response, so
 *        nobody without the password can burn a client's nonce counts
 *        or fill the table)
 * src/src_len is the client's address as bytes (4 or 16), used only if
 * the nonce context binds nonces to the source.  On DIGEST_OK *ret holds
 * alg, nc and the nonce's expiry.
 */
enum digest_reason digest_authenticate(const struct digest_verifier *v,
	    const struct digest_expect *x, const struct digest_cred *c,
	    const struct digest_ha1 *ha1, int64_t now, const void *src,
	    size_t src_len, struct digest_parsed *ret);

/* A challenge to send (WWW-Authenticate / Proxy-Authenticate value). */
struct digest_challenge {
	struct slice	realm;
	struct slice	nonce;
	struct slice	opaque;		/* unset: no opaque parameter */
	enum digest_alg	alg;
	int		stale;
};

/*
 * Append `Digest realm="R", nonce="N"[, opaque="O"], algorithm=A,
 * qop="auth"[, stale=true]` to w.  RFC 8760 asks for one challenge per
 * algorithm, most preferred first: call once per header.  Returns 0,
 * -SBC_EPARSE when realm, nonce or opaque cannot be a quoted-string
 * without escapes ('"', '\', CTL) or is empty/too long, -EINVAL for a
 * bad algorithm, -SBC_ELIMIT when w overflowed.
 */
int	digest_challenge_build(struct wbuf *w, const struct digest_challenge *ch);

#endif
