/*
 * Digest authentication, server side: see digest.h for the contract.
 *
 * Hashes come from OpenSSL 3 EVP, fetched once (pthread_once) and then
 * shared read-only by every thread.  Every buffer that held an HA1 or
 * an expected response is wiped before it goes out of scope: an HA1 is
 * as good as the password for this realm.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/digest.h"
#include "auth/nonce.h"
#include "auth/replay.h"

static const char *const reason_names[DIGEST_REASON_MAX] = {
	[DIGEST_OK]			= "ok",
	[DIGEST_E_MISSING_PARAM]	= "missing_param",
	[DIGEST_E_BAD_USERNAME]		= "bad_username",
	[DIGEST_E_USERHASH]		= "userhash_unsupported",
	[DIGEST_E_BAD_ALGORITHM]	= "bad_algorithm",
	[DIGEST_E_ALG_NOT_OFFERED]	= "algorithm_not_offered",
	[DIGEST_E_QOP_REQUIRED]		= "qop_required",
	[DIGEST_E_QOP_AUTH_INT]		= "qop_auth_int",
	[DIGEST_E_BAD_QOP]		= "bad_qop",
	[DIGEST_E_BAD_NC]		= "bad_nc",
	[DIGEST_E_BAD_CNONCE]		= "bad_cnonce",
	[DIGEST_E_BAD_NONCE]		= "bad_nonce",
	[DIGEST_E_REALM_MISMATCH]	= "realm_mismatch",
	[DIGEST_E_URI_MISMATCH]		= "uri_mismatch",
	[DIGEST_E_OPAQUE_MISMATCH]	= "opaque_mismatch",
	[DIGEST_E_MALFORMED_RESPONSE]	= "malformed_response",
	[DIGEST_E_NONCE_INVALID]	= "nonce_invalid",
	[DIGEST_E_NONCE_STALE]		= "nonce_stale",
	[DIGEST_E_UNKNOWN_USER]		= "unknown_user",
	[DIGEST_E_NO_HA1]		= "no_ha1_for_algorithm",
	[DIGEST_E_BAD_RESPONSE]		= "bad_response",
	[DIGEST_E_REPLAY]		= "replay",
	[DIGEST_E_REPLAY_FULL]		= "replay_table_full",
	[DIGEST_E_INTERNAL]		= "internal_error",
};

static const struct {
	const char	*name;
	const char	*ossl;		/* OpenSSL 3 fetch name */
	size_t		 hexlen;
} algs[DIGEST_ALG_MAX] = {
	[DIGEST_ALG_MD5]	= { "MD5",		"MD5",		32 },
	[DIGEST_ALG_SHA256]	= { "SHA-256",		"SHA2-256",	64 },
	[DIGEST_ALG_SHA512_256]	= { "SHA-512-256",	"SHA2-512/256",	64 },
};

static pthread_once_t	 md_once = PTHREAD_ONCE_INIT;
static EVP_MD		*md_tab[DIGEST_ALG_MAX];	/* NULL: unavailable */

static const char hexdigits[] = "0123456789abcdef";

static void
md_fetch_all(void)
{
	for (size_t i = 0; i < DIGEST_ALG_MAX; i++)
		md_tab[i] = EVP_MD_fetch(NULL, algs[i].ossl, NULL);
}

static const EVP_MD *
md_get(enum digest_alg a)
{
	if ((unsigned)a >= DIGEST_ALG_MAX)
		return NULL;
	if (pthread_once(&md_once, md_fetch_all) != 0)
		return NULL;
	return md_tab[a];
}

const char *
digest_reason_name(enum digest_reason r)
{
	if ((unsigned)r >= DIGEST_REASON_MAX || reason_names[r] == NULL)
		return "unknown";
	return reason_names[r];
}

int
digest_reason_is_stale(enum digest_reason r)
{
	return r == DIGEST_E_NONCE_STALE || r == DIGEST_E_REPLAY ||
	    r == DIGEST_E_REPLAY_FULL;
}

const char *
digest_alg_name(enum digest_alg a)
{
	return (unsigned)a < DIGEST_ALG_MAX ? algs[a].name : NULL;
}

size_t
digest_alg_hexlen(enum digest_alg a)
{
	return (unsigned)a < DIGEST_ALG_MAX ? algs[a].hexlen : 0;
}

int
digest_alg_parse(struct slice s, enum digest_alg *ret)
{
	static const struct slice sess = SLICE_LIT("-sess");

	for (size_t i = 0; i < DIGEST_ALG_MAX; i++) {
		struct slice name = slice_cstr(algs[i].name);

		if (slice_eq_ci(s, name)) {
			*ret = (enum digest_alg)i;
			return 0;
		}
		if (s.len == name.len + sess.len && slice_starts_ci(s, name) &&
		    slice_eq_ci(slice_sub(s, name.len, sess.len), sess))
			return -ENOTSUP;
	}
	return -SBC_EPARSE;
}

/* Lowercase hex of d[0..n) into out (2n digits + NUL). */
static void
hex_encode(const uint8_t *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexdigits[d[i] >> 4];
		out[2 * i + 1] = hexdigits[d[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

static int
is_hex(struct slice s)
{
	for (size_t i = 0; i < s.len; i++)
		if (!ctype_is(s.p[i], CT_HEX))
			return 0;
	return 1;
}

/*
 * Can s be used as is inside a quoted-string, and is it what the client
 * hashed?  The SIP parser leaves quoted-pair escapes in place, so a
 * backslash would make us hash different bytes than the client did;
 * refuse it (and '"' and controls) rather than guess.
 */
static int
qs_safe(struct slice s)
{
	for (size_t i = 0; i < s.len; i++) {
		uint8_t c = s.p[i];

		if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
			return 0;
	}
	return 1;
}

/*
 * H(parts[0] ":" parts[1] ":" ... ) as lowercase hex into out.
 * 0, -EINVAL, -ENOTSUP (hash unavailable), -ENOMEM or -EIO.
 */
static int
hash_hex(enum digest_alg alg, const struct slice *parts, size_t n,
    char out[DIGEST_HEX_BUF])
{
	const EVP_MD *md = md_get(alg);
	EVP_MD_CTX *ctx;
	uint8_t d[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	int ok;

	if ((unsigned)alg >= DIGEST_ALG_MAX)
		return -EINVAL;
	if (md == NULL)
		return -ENOTSUP;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -ENOMEM;
	ok = EVP_DigestInit_ex2(ctx, md, NULL);
	for (size_t i = 0; ok && i < n; i++) {
		if (i > 0)
			ok = EVP_DigestUpdate(ctx, ":", 1);
		if (ok && parts[i].len > 0)
			ok = EVP_DigestUpdate(ctx, parts[i].p, parts[i].len);
	}
	if (ok)
		ok = EVP_DigestFinal_ex(ctx, d, &dlen);
	EVP_MD_CTX_free(ctx);
	if (!ok || (size_t)dlen * 2 != algs[alg].hexlen) {
		explicit_bzero(d, sizeof(d));
		return -EIO;
	}
	hex_encode(d, dlen, out);
	explicit_bzero(d, sizeof(d));
	return 0;
}

int
digest_ha1(enum digest_alg alg, struct slice username, struct slice realm,
    struct slice password, char out[DIGEST_HEX_BUF])
{
	const struct slice parts[3] = { username, realm, password };

	return hash_hex(alg, parts, 3, out);
}

int
digest_response(enum digest_alg alg, struct slice ha1_hex,
    const struct digest_cred *c, char out[DIGEST_HEX_BUF])
{
	const struct slice a2[2] = { c->method, c->uri };
	char ha2[DIGEST_HEX_BUF];
	int r;

	if ((r = hash_hex(alg, a2, 2, ha2)) < 0)
		return r;
	if (slice_set(c->qop)) {
		const struct slice parts[6] = {
			ha1_hex, c->nonce, c->nc, c->cnonce, c->qop,
			slice_make(ha2, algs[alg].hexlen),
		};

		r = hash_hex(alg, parts, 6, out);
	} else {
		const struct slice parts[3] = {
			ha1_hex, c->nonce, slice_make(ha2, algs[alg].hexlen),
		};

		r = hash_hex(alg, parts, 3, out);
	}
	explicit_bzero(ha2, sizeof(ha2));
	return r;
}

/* The host[:port] of a sip:/sips: URI: after the scheme and any
 * userinfo, up to the first ';' or '?'. */
static struct slice
uri_hostport(struct slice u)
{
	ssize_t at;
	size_t end = 0;

	if (slice_starts_ci(u, slice_cstr("sip:")))
		slice_skip(&u, 4);
	else if (slice_starts_ci(u, slice_cstr("sips:")))
		slice_skip(&u, 5);
	else
		return slice_make(NULL, 0);
	while (end < u.len && u.p[end] != ';' && u.p[end] != '?')
		end++;
	u = slice_sub(u, 0, end);
	if ((at = slice_find(u, '@')) >= 0)
		slice_skip(&u, (size_t)at + 1);
	return u;
}

/*
 * Some clients (SIPp among them) put the server's host:port rather
 * than the whole Request-URI in the digest uri.  That still names the
 * server the credentials were made for, so it is accepted; a uri for
 * another host is not.
 */
static int
same_hostport(struct slice a, struct slice b)
{
	struct slice ha = uri_hostport(a), hb = uri_hostport(b);

	return ha.len > 0 && slice_eq_ci(ha, hb);
}

/* A tel: Request-URI names no server; such clients put ours. */
static int
names_here(struct slice a, const struct digest_expect *x)
{
	struct slice h = uri_hostport(a);

	return slice_set(x->here) && slice_starts_ci(x->uri,
	    slice_cstr("tel:")) && h.len > 0 && slice_find(a, '@') < 0 &&
	    slice_eq_ci(h, x->here);
}

enum digest_reason
digest_cred_check(const struct digest_cred *c, const struct digest_expect *x,
    struct digest_parsed *ret)
{
	enum digest_alg alg = DIGEST_ALG_MD5;
	unsigned allowed = x->algs != 0 ? x->algs : DIGEST_ALGS_DEFAULT;
	uint32_t nc = 0;
	struct slice m = c->method;

	if (!slice_set(c->username) || !slice_set(c->realm) ||
	    !slice_set(c->nonce) || !slice_set(c->uri) ||
	    !slice_set(c->response) || m.len == 0)
		return DIGEST_E_MISSING_PARAM;
	if (m.len > DIGEST_METHOD_MAX || slice_span(&m, CT_TOKEN).len !=
	    c->method.len)
		return DIGEST_E_MISSING_PARAM;

	/* RFC 7616 3.4.4: userhash=false is the default and harmless. */
	if (slice_set(c->userhash) && !slice_eq_lit_ci(c->userhash, "false"))
		return DIGEST_E_USERHASH;

	/* RFC 7616 3.3: no algorithm parameter means MD5. */
	if (slice_set(c->algorithm)) {
		int r = digest_alg_parse(c->algorithm, &alg);

		if (r < 0)
			return DIGEST_E_BAD_ALGORITHM;
	}
	if ((allowed & DIGEST_ALG_BIT(alg)) == 0)
		return DIGEST_E_ALG_NOT_OFFERED;

	/* We always offer qop="auth"; without qop there is no nc, no
	 * cnonce and so no replay protection (RFC 2069 compatibility). */
	if (!slice_set(c->qop))
		return DIGEST_E_QOP_REQUIRED;
	if (slice_eq_lit_ci(c->qop, "auth-int"))
		return DIGEST_E_QOP_AUTH_INT;
	if (!slice_eq_lit_ci(c->qop, "auth"))
		return DIGEST_E_BAD_QOP;

	if (c->nc.len != DIGEST_NC_LEN || !is_hex(c->nc))
		return DIGEST_E_BAD_NC;
	for (size_t i = 0; i < DIGEST_NC_LEN; i++)
		nc = (nc << 4) | (uint32_t)ctype_hexval(c->nc.p[i]);
	if (nc == 0)
		return DIGEST_E_BAD_NC;

	if (c->cnonce.len == 0 || c->cnonce.len > DIGEST_CNONCE_MAX ||
	    !qs_safe(c->cnonce))
		return DIGEST_E_BAD_CNONCE;

	if (c->username.len == 0 || c->username.len > DIGEST_USER_MAX ||
	    !qs_safe(c->username))
		return DIGEST_E_BAD_USERNAME;

	if (c->nonce.len == 0 || c->nonce.len > DIGEST_NONCE_MAX ||
	    !qs_safe(c->nonce))
		return DIGEST_E_BAD_NONCE;

	if (x->realm.len == 0 || !slice_eq(c->realm, x->realm))
		return DIGEST_E_REALM_MISMATCH;

	if (c->uri.len == 0 || c->uri.len > DIGEST_URI_MAX ||
	    !qs_safe(c->uri) ||
	    (slice_set(x->uri) && !slice_eq(c->uri, x->uri) &&
	    !same_hostport(c->uri, x->uri) && !names_here(c->uri, x)))
		return DIGEST_E_URI_MISMATCH;

	if (slice_set(x->opaque) &&
	    (!slice_set(c->opaque) || !slice_eq(c->opaque, x->opaque)))
		return DIGEST_E_OPAQUE_MISMATCH;

	if (c->response.len != algs[alg].hexlen || !is_hex(c->response))
		return DIGEST_E_MALFORMED_RESPONSE;

	ret->alg = alg;
	ret->nc = nc;
	ret->expires = 0;
	return DIGEST_OK;
}

int
digest_fake_ha1(const uint8_t key[DIGEST_FAKE_KEY_LEN], struct slice username,
    struct slice realm, enum digest_alg alg, char out[DIGEST_HEX_BUF])
{
	static const char label[] = "sipwall fake HA1 v1";
	uint8_t msg[sizeof(label) + 1 + 2 + DIGEST_REALM_MAX + 2 +
	    DIGEST_USER_MAX];
	uint8_t mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	const EVP_MD *md = md_get(DIGEST_ALG_SHA256);
	size_t n = 0;

	if (key == NULL || (unsigned)alg >= DIGEST_ALG_MAX ||
	    username.len > DIGEST_USER_MAX || realm.len > DIGEST_REALM_MAX)
		return -EINVAL;
	if (md == NULL)
		return -ENOTSUP;
	/* Length-prefixed fields: ("a:b", "c") and ("a", "b:c") differ. */
	memcpy(msg, label, sizeof(label));
	n = sizeof(label);
	msg[n++] = (uint8_t)alg;
	msg[n++] = (uint8_t)(realm.len >> 8);
	msg[n++] = (uint8_t)realm.len;
	if (realm.len > 0)
		memcpy(msg + n, realm.p, realm.len);
	n += realm.len;
	msg[n++] = (uint8_t)(username.len >> 8);
	msg[n++] = (uint8_t)username.len;
	if (username.len > 0)
		memcpy(msg + n, username.p, username.len);
	n += username.len;
	if (HMAC(md, key, DIGEST_FAKE_KEY_LEN, msg, n, mac, &maclen) == NULL ||
	    (size_t)maclen * 2 < algs[alg].hexlen) {
		explicit_bzero(mac, sizeof(mac));
		return -EIO;
	}
	hex_encode(mac, algs[alg].hexlen / 2, out);
	explicit_bzero(mac, sizeof(mac));
	return 0;
}

enum digest_reason
digest_verify(const struct digest_cred *c, const struct digest_parsed *p,
    const struct digest_ha1 *ha1, const uint8_t fake_key[DIGEST_FAKE_KEY_LEN])
{
	char fake[DIGEST_HEX_BUF], stored[DIGEST_HEX_BUF];
	char use[DIGEST_HEX_BUF], expect[DIGEST_HEX_BUF], got[DIGEST_HEX_BUF];
	const char *src = NULL;
	size_t hexlen = digest_alg_hexlen(p->alg);
	unsigned known, have, valid = 1;
	uint8_t mask;
	int eq, r;

	if (hexlen == 0 || c->response.len != hexlen)
		return DIGEST_E_INTERNAL;
	/* Always derived, so an unknown user costs what a known one does. */
	if (digest_fake_ha1(fake_key, c->username, c->realm, p->alg, fake) < 0)
		return DIGEST_E_INTERNAL;

	known = ha1 != NULL;
	if (known)
		src = ha1->hex[p->alg];
	have = src != NULL;
	/* Normalise the stored value into a fixed buffer; the zero buffer
	 * stands in when there is none, so the loops run the same. */
	memset(stored, '0', hexlen);
	for (size_t i = 0; i < hexlen; i++) {
		uint8_t ch = have ? (uint8_t)src[i] : (uint8_t)'0';

		if (!ctype_is(ch, CT_HEX)) {
			valid = 0;
			break;		/* also stops at a short string's NUL */
		}
		stored[i] = (char)ctype_lower(ch);
	}
	if (have && valid && src[hexlen] != '\0')
		valid = 0;
	have = have && valid;

	mask = (uint8_t)(0u - (have & 1u));
	for (size_t i = 0; i < hexlen; i++)
		use[i] = (char)(((uint8_t)stored[i] & mask) |
		    ((uint8_t)fake[i] & (uint8_t)~mask));
	use[hexlen] = '\0';

	r = digest_response(p->alg, slice_make(use, hexlen), c, expect);
	for (size_t i = 0; i < hexlen; i++)
		got[i] = (char)ctype_lower(c->response.p[i]);
	eq = r == 0 && CRYPTO_memcmp(expect, got, hexlen) == 0;

	explicit_bzero(fake, sizeof(fake));
	explicit_bzero(stored, sizeof(stored));
	explicit_bzero(use, sizeof(use));
	explicit_bzero(expect, sizeof(expect));
	if (r < 0)
		return DIGEST_E_INTERNAL;
	if (!known)
		return DIGEST_E_UNKNOWN_USER;
	if (!have)
		return DIGEST_E_NO_HA1;
	return eq ? DIGEST_OK : DIGEST_E_BAD_RESPONSE;
}

enum digest_reason
digest_authenticate(const struct digest_verifier *v,
    const struct digest_expect *x, const struct digest_cred *c,
    const struct digest_ha1 *ha1, int64_t now, const void *src,
    size_t src_len, struct digest_parsed *ret)
{
	struct digest_parsed p;
	enum digest_reason dr;
	enum nonce_status ns;
	int64_t expires = 0;

	if (v == NULL || v->nonce == NULL || v->replay == NULL ||
	    v->fake_key == NULL)
		return DIGEST_E_INTERNAL;
	if ((dr = digest_cred_check(c, x, &p)) != DIGEST_OK)
		return dr;
	ns = nonce_check(v->nonce, now, c->nonce, x->realm, src, src_len,
	    &expires);
	if (ns != NONCE_OK && ns != NONCE_STALE)
		return DIGEST_E_NONCE_INVALID;
	if ((dr = digest_verify(c, &p, ha1, v->fake_key)) != DIGEST_OK)
		return dr;
	/* RFC 7616 3.3: stale=true only when the digest itself was right. */
	if (ns == NONCE_STALE)
		return DIGEST_E_NONCE_STALE;
	switch (replay_check_and_set(v->replay, c->nonce, p.nc, now,
	    expires)) {
	case REPLAY_OK:
		break;
	case REPLAY_REPLAYED:
		return DIGEST_E_REPLAY;
	case REPLAY_FULL:
		return DIGEST_E_REPLAY_FULL;
	default:
		return DIGEST_E_INTERNAL;
	}
	p.expires = expires;
	*ret = p;
	return DIGEST_OK;
}

/* A value we put in a quoted-string: non-empty, bounded, no escapes. */
static int
challenge_value_ok(struct slice s, size_t max)
{
	return s.len > 0 && s.len <= max && qs_safe(s);
}

int
digest_challenge_build(struct wbuf *w, const struct digest_challenge *ch)
{
	if ((unsigned)ch->alg >= DIGEST_ALG_MAX)
		return -EINVAL;
	if (!challenge_value_ok(ch->realm, DIGEST_REALM_MAX) ||
	    !challenge_value_ok(ch->nonce, DIGEST_NONCE_MAX) ||
	    (slice_set(ch->opaque) &&
	    !challenge_value_ok(ch->opaque, DIGEST_OPAQUE_MAX)))
		return -SBC_EPARSE;
	wbuf_str(w, "Digest realm=\"");
	wbuf_slice(w, ch->realm);
	wbuf_str(w, "\", nonce=\"");
	wbuf_slice(w, ch->nonce);
	wbuf_str(w, "\"");
	if (slice_set(ch->opaque)) {
		wbuf_str(w, ", opaque=\"");
		wbuf_slice(w, ch->opaque);
		wbuf_str(w, "\"");
	}
	wbuf_str(w, ", algorithm=");
	wbuf_str(w, algs[ch->alg].name);
	wbuf_str(w, ", qop=\"auth\"");
	if (ch->stale)
		wbuf_str(w, ", stale=true");
	return w->overflow ? -SBC_ELIMIT : 0;
}
