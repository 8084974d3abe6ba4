/*
 * Credentials done right (AUTH2): a password strength check with a
 * precise reason, a generator whose output always passes it, and the
 * HA1 values that are all we ever store.
 *
 * Owns: the password policy and the embedded list of known-weak
 * passwords (weak_passwords.h).  Does not own: storage (store/ keeps
 * the HA1s and a keyed fingerprint that detects reuse across
 * accounts), prompting, or reporting.
 *
 * Passwords: these functions read the caller's buffer and never copy it
 * anywhere but into stack buffers they wipe (explicit_bzero) before
 * returning.  The caller owns the password and must wipe it after use
 * too:  explicit_bzero(pw, sizeof(pw))  — memset may be optimised away.
 */
#ifndef SW_AUTH_CREDS_H
#define SW_AUTH_CREDS_H

#include <stddef.h>

#include "core/slice.h"

#define CREDS_PW_MIN		12
#define CREDS_PW_MAX		128
#define CREDS_GEN_DEFAULT	20
#define CREDS_RUN_MIN		4	/* sequences/keyboard runs/repeats this long */

enum creds_reason {
	CREDS_OK = 0,
	CREDS_E_SHORT,		/* fewer than CREDS_PW_MIN characters */
	CREDS_E_LONG,		/* more than CREDS_PW_MAX bytes */
	CREDS_E_CHARSET,	/* control characters, or not valid UTF-8 */
	CREDS_E_COMMON,		/* is (or contains) a known weak/default password */
	CREDS_E_USERNAME,	/* contains the username (case-insensitive) */
	CREDS_E_DOMAIN,		/* contains the domain or its first label */
	CREDS_E_REPEAT,		/* one character repeated CREDS_RUN_MIN times */
	CREDS_E_SEQUENCE,	/* "1234", "abcd", "9876", "dcba" ... */
	CREDS_E_KEYBOARD,	/* "qwer", "asdf", "zxcv", "poiu" ... */
	CREDS_E_CLASSES,	/* fewer than 3 of: lower, upper, digit, other */
	CREDS_REASON_MAX
};

/* "ok", "too_short", ...: stable names for events and the CLI. */
const char	*creds_reason_name(enum creds_reason r);
/* A sentence for a human: "is shorter than 12 characters". */
const char	*creds_reason_text(enum creds_reason r);

/*
 * Judge pw for the account user@domain (either may be empty).  Checks
 * run in the order of the enum, the first failure is returned.  Letters
 * are compared ASCII-case-insensitively; bytes >= 0x80 count as "other".
 */
enum creds_reason creds_check_password(struct slice user, struct slice domain,
	    struct slice pw);

/*
 * A random password of len characters (0: CREDS_GEN_DEFAULT; at least
 * 16, at most CREDS_PW_MAX) into out[0..cap), NUL-terminated, from an
 * alphabet without look-alikes (no 0/O/o, 1/l/I/i) and with symbols that
 * need no quoting in YAML, URIs or phone web forms; it starts with a
 * letter and holds every class.  Drawn by getrandom(2) with rejection
 * sampling (no modulo bias); retried until creds_check_password() says
 * CREDS_OK.  Returns the length, -EINVAL, -SBC_ELIMIT (cap) or -errno.
 * The caller wipes out after use.
 */
int	creds_generate_password(char *out, size_t cap, size_t len);

/* HA1 values to store for one password. */
struct ha1_set {
	char	md5[33];
	char	sha256[65];
};

/*
 * MD5 and SHA-256 HA1 (digest_ha1()) of user:realm:pw into *out;
 * lowercase hex.  0, or a negative errno (out is then wiped).
 */
int	creds_ha1_all(struct slice user, struct slice realm, struct slice pw,
	    struct ha1_set *out);

#endif
