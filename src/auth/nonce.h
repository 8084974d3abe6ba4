/*
 * Stateless digest nonces (AUTH1).  A nonce is the base64url encoding
 * (no padding, 43 characters) of 32 bytes:
 *
 *   issue time, seconds, 8 bytes big-endian | 8 random bytes |
 *   HMAC-SHA256(secret, time | random | realm [| client address])[0..16)
 *
 * so any worker thread (and, with a shared secret, any cluster node or
 * a restarted daemon) can check a nonce without remembering it.
 * Nonce-count replay is replay.c's job, not this file's.
 *
 * Owns: the format, the check and the secret file.  Does not own: the
 * clock (callers pass `now`) or the choice of ttl (conf).  Library
 * code: returns errors, never logs.
 */
#ifndef SW_AUTH_NONCE_H
#define SW_AUTH_NONCE_H

#include <stddef.h>
#include <stdint.h>

#include "core/slice.h"

#define NONCE_SECRET_LEN	32
#define NONCE_RAW_LEN		32	/* time 8 + random 8 + mac 16 */
#define NONCE_LEN		43	/* base64url of NONCE_RAW_LEN, no '=' */
#define NONCE_BUF		(NONCE_LEN + 1)
#define NONCE_SRC_MAX		16	/* IPv6 address bytes */
#define NONCE_REALM_MAX		255
#define NONCE_MAX_SKEW		5	/* seconds a nonce may come from the future */
#define NONCE_TTL_MAX		86400

struct nonce_ctx {
	uint8_t		secret[NONCE_SECRET_LEN];
	uint32_t	ttl;		/* seconds */
	int		bind_source;	/* MAC covers the client's address */
};

enum nonce_status {
	NONCE_OK = 0,
	NONCE_STALE,		/* our MAC, but older than ttl or from the future */
	NONCE_INVALID,		/* bad length/encoding/MAC, or another source */
	NONCE_STATUS_MAX
};

/* "ok", "stale", "invalid". */
const char	*nonce_status_name(enum nonce_status s);

/*
 * Copy the secret into ctx.  ttl 1..NONCE_TTL_MAX seconds.
 * 0 or -EINVAL.  nonce_ctx_clear() wipes it.
 */
int	nonce_ctx_init(struct nonce_ctx *ctx,
	    const uint8_t secret[NONCE_SECRET_LEN], uint32_t ttl_seconds,
	    int bind_source);
void	nonce_ctx_clear(struct nonce_ctx *ctx);

/*
 * Make a nonce issued at now for realm (and src[0..src_len) when the
 * context binds the source; src_len <= NONCE_SRC_MAX) into out, NUL-
 * terminated; cap >= NONCE_BUF.  Returns NONCE_LEN, -EINVAL (bad
 * arguments, realm too long), -SBC_ELIMIT (cap), or -errno/-EIO when
 * random bytes or the MAC cannot be had (fail closed: no nonce).
 */
int	nonce_make(const struct nonce_ctx *ctx, int64_t now, struct slice realm,
	    const void *src, size_t src_len, char *out, size_t cap);

/*
 * Check a nonce a client sent back.  Anything malformed is
 * NONCE_INVALID, never a crash.  The MAC is compared in constant time;
 * staleness is judged only after the MAC matched.  When the MAC matched
 * (OK or STALE) and ret_expires is not NULL, *ret_expires = issue time
 * + ttl (the replay entry's lifetime).
 */
enum nonce_status nonce_check(const struct nonce_ctx *ctx, int64_t now,
	    struct slice nonce, struct slice realm, const void *src,
	    size_t src_len, int64_t *ret_expires);

/* NONCE_SECRET_LEN bytes from getrandom(2).  0 or -errno. */
int	nonce_secret_generate(uint8_t secret[NONCE_SECRET_LEN]);

/*
 * Load the secret from path, or create it if it does not exist (random
 * bytes written to a temporary file with mode 0600, fsync'd, then
 * linked into place so a concurrent creator never sees a partial file
 * and never clobbers an existing one).  An existing file must be a
 * regular file (symlinks are not followed) of exactly NONCE_SECRET_LEN
 * bytes, owned by us or root, with no group/other permission bits.
 * Returns 0, or -errno with *reterr_why (may be NULL) set to a static
 * explanation for the caller to log, e.g. "has group/other permissions
 * (chmod 600)".  The secret is wiped from every temporary buffer.
 */
int	nonce_secret_load_or_create(const char *path,
	    uint8_t secret[NONCE_SECRET_LEN], const char **reterr_why);

#endif
