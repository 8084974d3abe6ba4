/*
 * Unit tests for src/auth/digest.c: the RFC test vectors, every reason
 * code, equal-work verification for unknown users, the whole
 * authenticate path with real nonces and a real replay table, and the
 * challenge builder.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "auth/digest.h"
#include "auth/nonce.h"
#include "auth/replay.h"
#include "guard.h"

#define S(x)	slice_cstr(x)

static const uint8_t fake_key[DIGEST_FAKE_KEY_LEN] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
};

/* RFC 7616 3.9.1 */
#define R7616_NONCE	"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
#define R7616_CNONCE	"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
#define R7616_OPAQUE	"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
#define R7616_REALM	"http-auth@example.org"
#define R7616_MD5	"8ca523f5e9506fed4657c9700eebdbec"
#define R7616_SHA256	"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
#define R7616_HA1_MD5	"3d78807defe7de2157e2b0b6573a855f"
#define R7616_HA1_SHA256 "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232"

static struct digest_cred
cred_7616(const char *alg, const char *response)
{
	struct digest_cred c = {
		.username = S("Mufasa"),
		.realm = S(R7616_REALM),
		.nonce = S(R7616_NONCE),
		.uri = S("/dir/index.html"),
		.response = S(response),
		.algorithm = alg != NULL ? S(alg) : SLICE_NULL,
		.cnonce = S(R7616_CNONCE),
		.nc = S("00000001"),
		.qop = S("auth"),
		.opaque = S(R7616_OPAQUE),
		.method = S("GET"),
	};

	return c;
}

static const struct digest_expect x7616 = {
	.realm = SLICE_LIT(R7616_REALM),
	.uri = SLICE_LIT("/dir/index.html"),
	.opaque = SLICE_LIT(R7616_OPAQUE),
	.algs = DIGEST_ALG_BIT(DIGEST_ALG_MD5) |
	    DIGEST_ALG_BIT(DIGEST_ALG_SHA256) |
	    DIGEST_ALG_BIT(DIGEST_ALG_SHA512_256),
};

static void
test_rfc7616_vectors(void **state)
{
	struct digest_cred c = cred_7616("MD5", R7616_MD5);
	char ha1[DIGEST_HEX_BUF], resp[DIGEST_HEX_BUF];

	(void)state;
	assert_int_equal(digest_ha1(DIGEST_ALG_MD5, S("Mufasa"),
	    S(R7616_REALM), S("Circle of Life"), ha1), 0);
	assert_string_equal(ha1, R7616_HA1_MD5);
	assert_int_equal(digest_response(DIGEST_ALG_MD5, S(ha1), &c, resp), 0);
	assert_string_equal(resp, R7616_MD5);

	c = cred_7616("SHA-256", R7616_SHA256);
	assert_int_equal(digest_ha1(DIGEST_ALG_SHA256, S("Mufasa"),
	    S(R7616_REALM), S("Circle of Life"), ha1), 0);
	assert_string_equal(ha1, R7616_HA1_SHA256);
	assert_int_equal(digest_response(DIGEST_ALG_SHA256, S(ha1), &c, resp),
	    0);
	assert_string_equal(resp, R7616_SHA256);
}

/* RFC 2617 3.5 (the password there is "Circle Of Life"). */
static void
test_rfc2617_vector(void **state)
{
	struct digest_cred c = {
		.username = S("Mufasa"), .realm = S("testrealm@host.com"),
		.nonce = S("dcd98b7102dd2f0e8b11d0f600bfb0c093"),
		.uri = S("/dir/index.html"), .qop = S("auth"),
		.nc = S("00000001"), .cnonce = S("0a4f113b"),
		.response = S("6629fae49393a05397450978507c4ef1"),
		.method = S("GET"),
	};
	const struct digest_expect x = { .realm = S("testrealm@host.com") };
	struct digest_parsed p;
	struct digest_ha1 h = { { NULL } };
	char ha1[DIGEST_HEX_BUF], resp[DIGEST_HEX_BUF];

	(void)state;
	assert_int_equal(digest_ha1(DIGEST_ALG_MD5, c.username, c.realm,
	    S("Circle Of Life"), ha1), 0);
	assert_int_equal(digest_response(DIGEST_ALG_MD5, S(ha1), &c, resp), 0);
	assert_string_equal(resp, "6629fae49393a05397450978507c4ef1");
	/* and the verifier agrees, algorithm absent meaning MD5 */
	assert_int_equal(digest_cred_check(&c, &x, &p), DIGEST_OK);
	assert_int_equal(p.alg, DIGEST_ALG_MD5);
	assert_int_equal(p.nc, 1);
	h.hex[DIGEST_ALG_MD5] = ha1;
	assert_int_equal(digest_verify(&c, &p, &h, fake_key), DIGEST_OK);
}

/* RFC 2069 form (no qop): computed, never accepted. */
static void
test_rfc2069_form(void **state)
{
	struct digest_cred c = {
		.username = S("Mufasa"), .realm = S("testrealm@host.com"),
		.nonce = S("dcd98b7102dd2f0e8b11d0f600bfb0c093"),
		.uri = S("/dir/index.html"), .method = S("GET"),
		.response = S("1949323746fe6a43ef61f9606e7febea"),
	};
	const struct digest_expect x = { .realm = S("testrealm@host.com") };
	struct digest_parsed p;
	char ha1[DIGEST_HEX_BUF], resp[DIGEST_HEX_BUF];

	(void)state;
	assert_int_equal(digest_ha1(DIGEST_ALG_MD5, c.username, c.realm,
	    S("CircleOfLife"), ha1), 0);
	assert_int_equal(digest_response(DIGEST_ALG_MD5, S(ha1), &c, resp), 0);
	assert_string_equal(resp, "1949323746fe6a43ef61f9606e7febea");
	assert_int_equal(digest_cred_check(&c, &x, &p), DIGEST_E_QOP_REQUIRED);
}

/* RFC 7616 3.9.2 with erratum 4897 (the RFC's own response is not of
 * its inputs): SHA-512-256 and a UTF-8 username. */
static void
test_rfc7616_sha512_256(void **state)
{
	struct digest_cred c = {
		.username = S("J\xc3\xa4s\xc3\xb8n Doe"),
		.realm = S("api@example.org"),
		.nonce = S("5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK"),
		.uri = S("/doe.json"), .qop = S("auth"), .nc = S("00000001"),
		.cnonce = S("NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v"),
		.algorithm = S("SHA-512-256"), .method = S("GET"),
		.response = S("3798d4131c277846293534c3edc11bd8"
		    "a5e4cdcbff78b05db9d95eeb1cec68a5"),
	};
	const struct digest_expect x = {
		.realm = S("api@example.org"),
		.algs = DIGEST_ALG_BIT(DIGEST_ALG_SHA512_256),
	};
	struct digest_parsed p;
	struct digest_ha1 h = { { NULL } };
	char ha1[DIGEST_HEX_BUF], resp[DIGEST_HEX_BUF];

	(void)state;
	assert_int_equal(digest_ha1(DIGEST_ALG_SHA512_256, c.username, c.realm,
	    S("Secret, or not?"), ha1), 0);
	assert_int_equal(digest_response(DIGEST_ALG_SHA512_256, S(ha1), &c,
	    resp), 0);
	assert_string_equal(resp, "3798d4131c277846293534c3edc11bd8"
	    "a5e4cdcbff78b05db9d95eeb1cec68a5");
	assert_int_equal(digest_cred_check(&c, &x, &p), DIGEST_OK);
	assert_int_equal(p.alg, DIGEST_ALG_SHA512_256);
	h.hex[DIGEST_ALG_SHA512_256] = ha1;
	assert_int_equal(digest_verify(&c, &p, &h, fake_key), DIGEST_OK);
	/* default offer is MD5 + SHA-256 only */
	assert_int_equal(digest_cred_check(&c,
	    &(struct digest_expect){ .realm = S("api@example.org") }, &p),
	    DIGEST_E_ALG_NOT_OFFERED);
}

static void
test_alg_names(void **state)
{
	enum digest_alg a;

	(void)state;
	assert_int_equal(digest_alg_parse(S("md5"), &a), 0);
	assert_int_equal(a, DIGEST_ALG_MD5);
	assert_int_equal(digest_alg_parse(S("sha-256"), &a), 0);
	assert_int_equal(a, DIGEST_ALG_SHA256);
	assert_int_equal(digest_alg_parse(S("SHA-512-256"), &a), 0);
	assert_int_equal(a, DIGEST_ALG_SHA512_256);
	assert_int_equal(digest_alg_parse(S("MD5-sess"), &a), -ENOTSUP);
	assert_int_equal(digest_alg_parse(S("SHA-256-SESS"), &a), -ENOTSUP);
	assert_int_equal(digest_alg_parse(S("SHA-512-256-sess"), &a), -ENOTSUP);
	assert_int_equal(digest_alg_parse(S("SHA256"), &a), -SBC_EPARSE);
	assert_int_equal(digest_alg_parse(S("MD5-"), &a), -SBC_EPARSE);
	assert_int_equal(digest_alg_parse(S(""), &a), -SBC_EPARSE);
	assert_string_equal(digest_alg_name(DIGEST_ALG_SHA256), "SHA-256");
	assert_null(digest_alg_name(DIGEST_ALG_MAX));
	assert_int_equal(digest_alg_hexlen(DIGEST_ALG_MD5), 32);
	assert_int_equal(digest_alg_hexlen(DIGEST_ALG_SHA512_256), 64);
	assert_int_equal(digest_alg_hexlen(DIGEST_ALG_MAX), 0);
}

static void
test_reason_names(void **state)
{
	(void)state;
	for (int i = 0; i < DIGEST_REASON_MAX; i++) {
		const char *n = digest_reason_name((enum digest_reason)i);

		assert_non_null(n);
		assert_string_not_equal(n, "unknown");
		for (int j = 0; j < i; j++)
			assert_string_not_equal(n,
			    digest_reason_name((enum digest_reason)j));
	}
	assert_string_equal(digest_reason_name(DIGEST_REASON_MAX), "unknown");
	assert_string_equal(digest_reason_name(DIGEST_E_BAD_RESPONSE),
	    "bad_response");
	assert_true(digest_reason_is_stale(DIGEST_E_NONCE_STALE));
	assert_true(digest_reason_is_stale(DIGEST_E_REPLAY_FULL));
	assert_true(digest_reason_is_stale(DIGEST_E_REPLAY));
	assert_false(digest_reason_is_stale(DIGEST_E_BAD_RESPONSE));
	assert_false(digest_reason_is_stale(DIGEST_E_UNKNOWN_USER));
	assert_false(digest_reason_is_stale(DIGEST_OK));
}

static enum digest_reason
check(const struct digest_cred *c)
{
	struct digest_parsed p;

	return digest_cred_check(c, &x7616, &p);
}

/* One mutation per reason code that digest_cred_check() returns. */
static void
test_check_reasons(void **state)
{
	struct digest_cred c;
	char longbuf[2048];

	(void)state;
	c = cred_7616("MD5", R7616_MD5);
	assert_int_equal(check(&c), DIGEST_OK);

	/* MISSING_PARAM: each required parameter */
	c = cred_7616("MD5", R7616_MD5); c.username = SLICE_NULL;
	assert_int_equal(check(&c), DIGEST_E_MISSING_PARAM);
	c = cred_7616("MD5", R7616_MD5); c.realm = SLICE_NULL;
	assert_int_equal(check(&c), DIGEST_E_MISSING_PARAM);
	c = cred_7616("MD5", R7616_MD5); c.nonce = SLICE_NULL;
	assert_int_equal(check(&c), DIGEST_E_MISSING_PARAM);
	c = cred_7616("MD5", R7616_MD5); c.uri = SLICE_NULL;
	assert_int_equal(check(&c), DIGEST_E_MISSING_PARAM);
	c = cred_7616("MD5", R7616_MD5); c.response = SLICE_NULL;
	assert_int_equal(check(&c), DIGEST_E_MISSING_PARAM);
	c = cred_7616("MD5", R7616_MD5); c.method = SLICE_NULL;
	assert_int_equal(check(&c), DIGEST_E_MISSING_PARAM);
	c = cred_7616("MD5", R7616_MD5); c.method = S("GE T");
	assert_int_equal(check(&c), DIGEST_E_MISSING_PARAM);

	/* USERHASH */
	c = cred_7616("MD5", R7616_MD5); c.userhash = S("true");
	assert_int_equal(check(&c), DIGEST_E_USERHASH);
	c = cred_7616("MD5", R7616_MD5); c.userhash = S("FALSE");
	assert_int_equal(check(&c), DIGEST_OK);

	/* BAD_ALGORITHM, ALG_NOT_OFFERED, absent = MD5 */
	c = cred_7616("MD5-sess", R7616_MD5);
	assert_int_equal(check(&c), DIGEST_E_BAD_ALGORITHM);
	c = cred_7616("SHA-1", R7616_MD5);
	assert_int_equal(check(&c), DIGEST_E_BAD_ALGORITHM);
	c = cred_7616("", R7616_MD5);
	assert_int_equal(check(&c), DIGEST_E_BAD_ALGORITHM);
	c = cred_7616(NULL, R7616_MD5);
	assert_int_equal(check(&c), DIGEST_OK);
	{
		struct digest_expect x = x7616;
		struct digest_parsed p;

		x.algs = DIGEST_ALG_BIT(DIGEST_ALG_SHA256);
		assert_int_equal(digest_cred_check(&c, &x, &p),
		    DIGEST_E_ALG_NOT_OFFERED);
	}

	/* QOP_REQUIRED, QOP_AUTH_INT, BAD_QOP */
	c = cred_7616("MD5", R7616_MD5); c.qop = SLICE_NULL;
	assert_int_equal(check(&c), DIGEST_E_QOP_REQUIRED);
	c = cred_7616("MD5", R7616_MD5); c.qop = S("auth-int");
	assert_int_equal(check(&c), DIGEST_E_QOP_AUTH_INT);
	c = cred_7616("MD5", R7616_MD5); c.qop = S("auth,auth-int");
	assert_int_equal(check(&c), DIGEST_E_BAD_QOP);
	c = cred_7616("MD5", R7616_MD5); c.qop = S("");
	assert_int_equal(check(&c), DIGEST_E_BAD_QOP);

	/* BAD_NC: svcrack-style credentials carry qop but no nc/cnonce */
	c = cred_7616("MD5", R7616_MD5); c.nc = SLICE_NULL;
	assert_int_equal(check(&c), DIGEST_E_BAD_NC);
	c = cred_7616("MD5", R7616_MD5); c.nc = S("1");
	assert_int_equal(check(&c), DIGEST_E_BAD_NC);
	c = cred_7616("MD5", R7616_MD5); c.nc = S("000000001");
	assert_int_equal(check(&c), DIGEST_E_BAD_NC);
	c = cred_7616("MD5", R7616_MD5); c.nc = S("0000000g");
	assert_int_equal(check(&c), DIGEST_E_BAD_NC);
	c = cred_7616("MD5", R7616_MD5); c.nc = S("00000000");
	assert_int_equal(check(&c), DIGEST_E_BAD_NC);
	c = cred_7616("MD5", R7616_MD5); c.nc = S("FFFFFFFF");
	{
		struct digest_parsed p;

		assert_int_equal(digest_cred_check(&c, &x7616, &p), DIGEST_OK);
		assert_int_equal(p.nc, 0xffffffffu);
	}

	/* BAD_CNONCE */
	c = cred_7616("MD5", R7616_MD5); c.cnonce = SLICE_NULL;
	assert_int_equal(check(&c), DIGEST_E_BAD_CNONCE);
	c = cred_7616("MD5", R7616_MD5); c.cnonce = S("");
	assert_int_equal(check(&c), DIGEST_E_BAD_CNONCE);
	memset(longbuf, 'a', sizeof(longbuf));
	c.cnonce = slice_make(longbuf, DIGEST_CNONCE_MAX);
	assert_int_equal(check(&c), DIGEST_OK);
	c.cnonce = slice_make(longbuf, DIGEST_CNONCE_MAX + 1);
	assert_int_equal(check(&c), DIGEST_E_BAD_CNONCE);
	c.cnonce = S("ab\\\"c");
	assert_int_equal(check(&c), DIGEST_E_BAD_CNONCE);

	/* BAD_USERNAME */
	c = cred_7616("MD5", R7616_MD5); c.username = S("");
	assert_int_equal(check(&c), DIGEST_E_BAD_USERNAME);
	c.username = slice_make(longbuf, DIGEST_USER_MAX + 1);
	assert_int_equal(check(&c), DIGEST_E_BAD_USERNAME);
	c.username = S("al\\\"ice");
	assert_int_equal(check(&c), DIGEST_E_BAD_USERNAME);
	c.username = S("al\x01ice");
	assert_int_equal(check(&c), DIGEST_E_BAD_USERNAME);
	c.username = slice_make(longbuf, DIGEST_USER_MAX);
	assert_int_equal(check(&c), DIGEST_OK);

	/* BAD_NONCE */
	c = cred_7616("MD5", R7616_MD5); c.nonce = S("");
	assert_int_equal(check(&c), DIGEST_E_BAD_NONCE);
	c.nonce = slice_make(longbuf, DIGEST_NONCE_MAX + 1);
	assert_int_equal(check(&c), DIGEST_E_BAD_NONCE);

	/* REALM_MISMATCH: exact bytes, case included */
	c = cred_7616("MD5", R7616_MD5); c.realm = S("HTTP-auth@example.org");
	assert_int_equal(check(&c), DIGEST_E_REALM_MISMATCH);
	c.realm = S("");
	assert_int_equal(check(&c), DIGEST_E_REALM_MISMATCH);
	c.realm = S(R7616_REALM " ");
	assert_int_equal(check(&c), DIGEST_E_REALM_MISMATCH);

	/* URI_MISMATCH */
	c = cred_7616("MD5", R7616_MD5); c.uri = S("/dir/index.htm");
	assert_int_equal(check(&c), DIGEST_E_URI_MISMATCH);
	c.uri = S("");
	assert_int_equal(check(&c), DIGEST_E_URI_MISMATCH);
	{
		struct digest_expect x = x7616;
		struct digest_parsed p;

		x.uri = SLICE_NULL;	/* not checked against the R-URI ... */
		c.uri = S("sip:anything");
		assert_int_equal(digest_cred_check(&c, &x, &p), DIGEST_OK);
		c.uri = slice_make(longbuf, DIGEST_URI_MAX + 1);
		assert_int_equal(digest_cred_check(&c, &x, &p),	/* ... but bounded */
		    DIGEST_E_URI_MISMATCH);
	}

	/* OPAQUE_MISMATCH */
	c = cred_7616("MD5", R7616_MD5); c.opaque = SLICE_NULL;
	assert_int_equal(check(&c), DIGEST_E_OPAQUE_MISMATCH);
	c.opaque = S("other");
	assert_int_equal(check(&c), DIGEST_E_OPAQUE_MISMATCH);

	/* MALFORMED_RESPONSE: length must match the algorithm */
	c = cred_7616("MD5", R7616_SHA256);
	assert_int_equal(check(&c), DIGEST_E_MALFORMED_RESPONSE);
	c = cred_7616("SHA-256", R7616_MD5);
	assert_int_equal(check(&c), DIGEST_E_MALFORMED_RESPONSE);
	c = cred_7616("MD5", "8ca523f5e9506fed4657c9700eebdbeg");
	assert_int_equal(check(&c), DIGEST_E_MALFORMED_RESPONSE);
	c = cred_7616("MD5", "");
	assert_int_equal(check(&c), DIGEST_E_MALFORMED_RESPONSE);
	c = cred_7616("MD5", "8CA523F5E9506FED4657C9700EEBDBEC");
	assert_int_equal(check(&c), DIGEST_OK);
}

/* verify: right, wrong, unknown, no HA1 for the algorithm, case. */
static void
test_verify(void **state)
{
	struct digest_cred c;
	struct digest_parsed p;
	struct digest_ha1 h = { { R7616_HA1_MD5, R7616_HA1_SHA256, NULL } };
	struct digest_ha1 upper = { { "3D78807DEFE7DE2157E2B0B6573A855F",
	    NULL, NULL } };
	struct digest_ha1 shortha1 = { { "3d78807d", NULL, NULL } };
	struct digest_ha1 longha1 = { { R7616_HA1_MD5 "0", NULL, NULL } };

	(void)state;
	c = cred_7616("MD5", R7616_MD5);
	assert_int_equal(digest_cred_check(&c, &x7616, &p), DIGEST_OK);
	assert_int_equal(digest_verify(&c, &p, &h, fake_key), DIGEST_OK);
	assert_int_equal(digest_verify(&c, &p, &upper, fake_key), DIGEST_OK);
	assert_int_equal(digest_verify(&c, &p, NULL, fake_key),
	    DIGEST_E_UNKNOWN_USER);
	assert_int_equal(digest_verify(&c, &p, &shortha1, fake_key),
	    DIGEST_E_NO_HA1);
	assert_int_equal(digest_verify(&c, &p, &longha1, fake_key),
	    DIGEST_E_NO_HA1);

	c = cred_7616("SHA-256", R7616_SHA256);
	assert_int_equal(digest_cred_check(&c, &x7616, &p), DIGEST_OK);
	assert_int_equal(digest_verify(&c, &p, &h, fake_key), DIGEST_OK);
	assert_int_equal(digest_verify(&c, &p, &upper, fake_key),
	    DIGEST_E_NO_HA1);

	/* wrong password: one digit off */
	c = cred_7616("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf"
	    "4496794697cf8db5856cb6c2");
	assert_int_equal(digest_cred_check(&c, &x7616, &p), DIGEST_OK);
	assert_int_equal(digest_verify(&c, &p, &h, fake_key),
	    DIGEST_E_BAD_RESPONSE);
	/* the right response for another method does not carry over */
	c = cred_7616("SHA-256", R7616_SHA256);
	c.method = S("POST");
	assert_int_equal(digest_verify(&c, &p, &h, fake_key),
	    DIGEST_E_BAD_RESPONSE);
}

/*
 * AUTH4: the unknown user's path derives a fake HA1 and computes a
 * response with it; a client that somehow sent exactly that response
 * must still be refused.
 */
static void
test_fake_ha1(void **state)
{
	char a[DIGEST_HEX_BUF], b[DIGEST_HEX_BUF], resp[DIGEST_HEX_BUF];
	uint8_t key2[DIGEST_FAKE_KEY_LEN];
	struct digest_cred c;
	struct digest_parsed p;

	(void)state;
	assert_int_equal(digest_fake_ha1(fake_key, S("bob"), S("r"),
	    DIGEST_ALG_MD5, a), 0);
	assert_int_equal(strlen(a), 32);
	assert_int_equal(digest_fake_ha1(fake_key, S("bob"), S("r"),
	    DIGEST_ALG_MD5, b), 0);
	assert_string_equal(a, b);			/* deterministic */
	assert_int_equal(digest_fake_ha1(fake_key, S("bob"), S("r"),
	    DIGEST_ALG_SHA256, b), 0);
	assert_int_equal(strlen(b), 64);
	assert_memory_not_equal(a, b, 32);		/* per algorithm */
	assert_int_equal(digest_fake_ha1(fake_key, S("bo"), S("br"),
	    DIGEST_ALG_MD5, b), 0);
	assert_string_not_equal(a, b);			/* length-prefixed */
	memcpy(key2, fake_key, sizeof(key2));
	key2[0] ^= 1;
	assert_int_equal(digest_fake_ha1(key2, S("bob"), S("r"),
	    DIGEST_ALG_MD5, b), 0);
	assert_string_not_equal(a, b);			/* per key */
	for (size_t i = 0; i < 32; i++)
		assert_true(strchr("0123456789abcdef", a[i]) != NULL);

	assert_int_equal(digest_fake_ha1(NULL, S("bob"), S("r"),
	    DIGEST_ALG_MD5, b), -EINVAL);
	assert_int_equal(digest_fake_ha1(fake_key, S("bob"), S("r"),
	    DIGEST_ALG_MAX, b), -EINVAL);

	/* a response made with the fake HA1 is still "unknown user" */
	c = cred_7616("MD5", R7616_MD5);
	assert_int_equal(digest_fake_ha1(fake_key, c.username, c.realm,
	    DIGEST_ALG_MD5, a), 0);
	assert_int_equal(digest_response(DIGEST_ALG_MD5, S(a), &c, resp), 0);
	c.response = S(resp);
	assert_int_equal(digest_cred_check(&c, &x7616, &p), DIGEST_OK);
	assert_int_equal(digest_verify(&c, &p, NULL, fake_key),
	    DIGEST_E_UNKNOWN_USER);
}

/* The whole path: nonce, verify, replay, stale, full. */
static void
test_authenticate(void **state)
{
	uint8_t secret[NONCE_SECRET_LEN] = { 42 };
	struct nonce_ctx nctx;
	struct replay *rp;
	struct digest_verifier v;
	struct digest_parsed p;
	char ha1[DIGEST_HEX_BUF], resp[DIGEST_HEX_BUF], nonce[NONCE_BUF];
	const struct digest_expect x = {
		.realm = S("sip.example.com"), .uri = S("sip:sip.example.com"),
	};
	struct digest_ha1 h = { { NULL } };
	struct digest_cred c = {
		.username = S("alice"), .realm = S("sip.example.com"),
		.uri = S("sip:sip.example.com"), .qop = S("auth"),
		.cnonce = S("deadbeef"), .algorithm = S("SHA-256"),
		.method = S("REGISTER"),
	};
	const uint8_t ip[4] = { 192, 0, 2, 1 };
	int64_t now = 1700000000;
	char ncbuf[9];

	(void)state;
	assert_int_equal(nonce_ctx_init(&nctx, secret, 300, 1), 0);
	assert_int_equal(replay_new(1024, &rp), 0);
	v = (struct digest_verifier){ .nonce = &nctx, .replay = rp,
	    .fake_key = fake_key };
	assert_int_equal(digest_ha1(DIGEST_ALG_SHA256, c.username, c.realm,
	    S("Tr0ub4dor&3-horse"), ha1), 0);
	h.hex[DIGEST_ALG_SHA256] = ha1;
	assert_int_equal(nonce_make(&nctx, now, x.realm, ip, sizeof(ip), nonce,
	    sizeof(nonce)), NONCE_LEN);
	c.nonce = S(nonce);

#define SIGN(ncv) do {							\
	snprintf(ncbuf, sizeof(ncbuf), "%08x", (unsigned)(ncv));	\
	c.nc = S(ncbuf);						\
	c.response = SLICE_NULL;					\
	assert_int_equal(digest_response(DIGEST_ALG_SHA256, S(ha1), &c,	\
	    resp), 0);							\
	c.response = S(resp);						\
} while (0)

	SIGN(1);
	assert_int_equal(digest_authenticate(&v, &x, &c, &h, now + 1, ip,
	    sizeof(ip), &p), DIGEST_OK);
	assert_int_equal(p.alg, DIGEST_ALG_SHA256);
	assert_int_equal(p.nc, 1);
	assert_int_equal(p.expires, now + 300);
	/* the same nc again: replay (answered stale=true) */
	assert_int_equal(digest_authenticate(&v, &x, &c, &h, now + 2, ip,
	    sizeof(ip), &p), DIGEST_E_REPLAY);
	SIGN(3);
	assert_int_equal(digest_authenticate(&v, &x, &c, &h, now + 2, ip,
	    sizeof(ip), &p), DIGEST_OK);
	SIGN(2);	/* reordered: still fine, once */
	assert_int_equal(digest_authenticate(&v, &x, &c, &h, now + 2, ip,
	    sizeof(ip), &p), DIGEST_OK);
	assert_int_equal(digest_authenticate(&v, &x, &c, &h, now + 2, ip,
	    sizeof(ip), &p), DIGEST_E_REPLAY);

	/* unknown user and wrong password: refused, nc not burnt */
	SIGN(4);
	assert_int_equal(digest_authenticate(&v, &x, &c, NULL, now + 3, ip,
	    sizeof(ip), &p), DIGEST_E_UNKNOWN_USER);
	resp[0] = resp[0] == '0' ? '1' : '0';
	assert_int_equal(digest_authenticate(&v, &x, &c, &h, now + 3, ip,
	    sizeof(ip), &p), DIGEST_E_BAD_RESPONSE);
	SIGN(4);
	assert_int_equal(digest_authenticate(&v, &x, &c, &h, now + 3, ip,
	    sizeof(ip), &p), DIGEST_OK);

	/* another source address: the nonce is not valid there */
	{
		const uint8_t ip2[4] = { 192, 0, 2, 2 };

		SIGN(5);
		assert_int_equal(digest_authenticate(&v, &x, &c, &h, now + 3,
		    ip2, sizeof(ip2), &p), DIGEST_E_NONCE_INVALID);
	}
	/* a nonce we never made */
	c.nonce = S("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	SIGN(1);
	assert_int_equal(digest_authenticate(&v, &x, &c, &h, now + 3, ip,
	    sizeof(ip), &p), DIGEST_E_NONCE_INVALID);
	c.nonce = S(nonce);

	/* stale: right password -> NONCE_STALE; wrong -> BAD_RESPONSE */
	SIGN(6);
	assert_int_equal(digest_authenticate(&v, &x, &c, &h, now + 301, ip,
	    sizeof(ip), &p), DIGEST_E_NONCE_STALE);
	resp[0] = resp[0] == '0' ? '1' : '0';
	assert_int_equal(digest_authenticate(&v, &x, &c, &h, now + 301, ip,
	    sizeof(ip), &p), DIGEST_E_BAD_RESPONSE);
	SIGN(6);
	assert_int_equal(digest_authenticate(&v, &x, &c, NULL, now + 301, ip,
	    sizeof(ip), &p), DIGEST_E_UNKNOWN_USER);

	/* account without an HA1 for the algorithm */
	{
		struct digest_ha1 md5only = { { R7616_HA1_MD5, NULL, NULL } };

		assert_int_equal(digest_authenticate(&v, &x, &c, &md5only,
		    now + 4, ip, sizeof(ip), &p), DIGEST_E_NO_HA1);
	}

	/* format errors come first, before any nonce or hash work */
	c.qop = SLICE_NULL;
	assert_int_equal(digest_authenticate(&v, &x, &c, &h, now + 4, ip,
	    sizeof(ip), &p), DIGEST_E_QOP_REQUIRED);
	c.qop = S("auth");

	/* an incomplete verifier fails closed */
	v.replay = NULL;
	assert_int_equal(digest_authenticate(&v, &x, &c, &h, now + 4, ip,
	    sizeof(ip), &p), DIGEST_E_INTERNAL);
	replay_free(rp);

	/* REPLAY_FULL: 64 stripes of one entry each cannot hold 65 nonces */
	assert_int_equal(replay_new(1, &rp), 0);
	v.replay = rp;
	{
		int full = 0, ok = 0;

		for (int i = 0; i < 65; i++) {
			assert_int_equal(nonce_make(&nctx, now, x.realm, ip,
			    sizeof(ip), nonce, sizeof(nonce)), NONCE_LEN);
			c.nonce = S(nonce);
			SIGN(1);
			switch (digest_authenticate(&v, &x, &c, &h, now, ip,
			    sizeof(ip), &p)) {
			case DIGEST_OK:
				ok++;
				break;
			case DIGEST_E_REPLAY_FULL:
				full++;
				break;
			default:
				fail_msg("unexpected reason");
			}
		}
		assert_true(full >= 1);
		assert_true(ok >= 1 && ok <= 64);
		/* after the nonces expire, room again */
		assert_int_equal(nonce_make(&nctx, now + 400, x.realm, ip,
		    sizeof(ip), nonce, sizeof(nonce)), NONCE_LEN);
		c.nonce = S(nonce);
		SIGN(1);
		assert_int_equal(digest_authenticate(&v, &x, &c, &h, now + 400,
		    ip, sizeof(ip), &p), DIGEST_OK);
	}
#undef SIGN
	replay_free(rp);
	nonce_ctx_clear(&nctx);
}

static void
test_challenge(void **state)
{
	char buf[512];
	struct wbuf w;
	struct digest_challenge ch = {
		.realm = S("sip.example.com"), .nonce = S("abc"),
		.alg = DIGEST_ALG_SHA256,
	};

	(void)state;
	wbuf_init(&w, buf, sizeof(buf));
	assert_int_equal(digest_challenge_build(&w, &ch), 0);
	assert_int_equal(w.n, strlen("Digest realm=\"sip.example.com\", "
	    "nonce=\"abc\", algorithm=SHA-256, qop=\"auth\""));
	assert_memory_equal(buf, "Digest realm=\"sip.example.com\", "
	    "nonce=\"abc\", algorithm=SHA-256, qop=\"auth\"", w.n);

	ch.opaque = S("xyz");
	ch.stale = 1;
	ch.alg = DIGEST_ALG_MD5;
	wbuf_init(&w, buf, sizeof(buf));
	assert_int_equal(digest_challenge_build(&w, &ch), 0);
	buf[w.n] = '\0';
	assert_string_equal(buf, "Digest realm=\"sip.example.com\", "
	    "nonce=\"abc\", opaque=\"xyz\", algorithm=MD5, qop=\"auth\", "
	    "stale=true");

	/* every too-small buffer overflows cleanly */
	for (size_t cap = 0; cap < strlen(buf); cap++) {
		char small[512];

		wbuf_init(&w, small, cap);
		assert_int_equal(digest_challenge_build(&w, &ch), -SBC_ELIMIT);
		assert_true(w.n <= cap);
	}

	wbuf_init(&w, buf, sizeof(buf));
	ch.realm = S("a\"b");
	assert_int_equal(digest_challenge_build(&w, &ch), -SBC_EPARSE);
	ch.realm = S("a\\b");
	assert_int_equal(digest_challenge_build(&w, &ch), -SBC_EPARSE);
	ch.realm = S("");
	assert_int_equal(digest_challenge_build(&w, &ch), -SBC_EPARSE);
	ch.realm = S("r");
	ch.nonce = S("n\r\n");
	assert_int_equal(digest_challenge_build(&w, &ch), -SBC_EPARSE);
	ch.nonce = S("n");
	ch.opaque = S("o\"");
	assert_int_equal(digest_challenge_build(&w, &ch), -SBC_EPARSE);
	ch.opaque = SLICE_NULL;
	ch.alg = DIGEST_ALG_MAX;
	assert_int_equal(digest_challenge_build(&w, &ch), -EINVAL);
	assert_int_equal(w.n, 0);
}

/* Checker and verifier never read past a slice (guard pages). */
static void
test_guarded_slices(void **state)
{
	struct digest_cred c = cred_7616("MD5", R7616_MD5);
	struct digest_parsed p;
	struct digest_ha1 h = { { R7616_HA1_MD5, NULL, NULL } };
	const uint8_t *g;

	(void)state;
	g = guard_copy(R7616_MD5, 32);
	c.response = slice_make(g, 32);
	assert_int_equal(digest_cred_check(&c, &x7616, &p), DIGEST_OK);
	assert_int_equal(digest_verify(&c, &p, &h, fake_key), DIGEST_OK);
	for (size_t cut = 0; cut < 8; cut++) {
		g = guard_copy("00000001", cut);
		c.nc = slice_make(g, cut);
		assert_int_equal(digest_cred_check(&c, &x7616, &p),
		    DIGEST_E_BAD_NC);
	}
}

/*
 * Worker threads share the nonce context, the fake key and the replay
 * table: they race on one nonce with the same nc values, and each nc
 * must authenticate exactly once.  (Also run under TSan by hand.)
 */
#define TH_N	4
#define TH_NC	64

static struct {
	struct digest_verifier	 v;
	struct digest_expect	 x;
	char			 nonce[NONCE_BUF];
	char			 ha1[DIGEST_HEX_BUF];
	int			 wins[TH_NC + 1];
	pthread_mutex_t		 lock;
} th;

static void *
th_worker(void *arg)
{
	struct digest_cred c = {
		.username = S("alice"), .realm = S("sip.example.com"),
		.uri = S("sip:sip.example.com"), .qop = S("auth"),
		.cnonce = S("c0ffee"), .algorithm = S("MD5"),
		.method = S("REGISTER"), .nonce = S(th.nonce),
	};
	struct digest_ha1 h = { { th.ha1, NULL, NULL } };
	struct digest_parsed p;
	char ncbuf[9], resp[DIGEST_HEX_BUF];

	(void)arg;
	for (unsigned nc = 1; nc <= TH_NC; nc++) {
		enum digest_reason r;

		snprintf(ncbuf, sizeof(ncbuf), "%08x", nc);
		c.nc = S(ncbuf);
		if (digest_response(DIGEST_ALG_MD5, S(th.ha1), &c, resp) != 0)
			return (void *)1;
		c.response = S(resp);
		r = digest_authenticate(&th.v, &th.x, &c, &h, 1700000001, NULL,
		    0, &p);
		if (r == DIGEST_OK) {
			pthread_mutex_lock(&th.lock);
			th.wins[nc]++;
			pthread_mutex_unlock(&th.lock);
		} else if (r != DIGEST_E_REPLAY)
			return (void *)2;
		/* and an unknown user in between, on the same nonce */
		if (digest_authenticate(&th.v, &th.x, &c, NULL, 1700000001,
		    NULL, 0, &p) != DIGEST_E_UNKNOWN_USER)
			return (void *)3;
	}
	return NULL;
}

static void
test_threads(void **state)
{
	uint8_t secret[NONCE_SECRET_LEN] = { 9 };
	struct nonce_ctx nctx;
	struct replay *rp;
	pthread_t t[TH_N];

	(void)state;
	assert_int_equal(nonce_ctx_init(&nctx, secret, 300, 0), 0);
	assert_int_equal(replay_new(256, &rp), 0);
	th.v = (struct digest_verifier){ .nonce = &nctx, .replay = rp,
	    .fake_key = fake_key };
	th.x = (struct digest_expect){ .realm = S("sip.example.com") };
	pthread_mutex_init(&th.lock, NULL);
	assert_int_equal(nonce_make(&nctx, 1700000000, th.x.realm, NULL, 0,
	    th.nonce, sizeof(th.nonce)), NONCE_LEN);
	assert_int_equal(digest_ha1(DIGEST_ALG_MD5, S("alice"),
	    S("sip.example.com"), S("Zq#w9-Rnbv-x7"), th.ha1), 0);
	for (int i = 0; i < TH_N; i++)
		assert_int_equal(pthread_create(&t[i], NULL, th_worker, NULL),
		    0);
	for (int i = 0; i < TH_N; i++) {
		void *ret;

		assert_int_equal(pthread_join(t[i], &ret), 0);
		assert_null(ret);
	}
	for (int nc = 1; nc <= TH_NC; nc++)
		assert_int_equal(th.wins[nc], 1);
	pthread_mutex_destroy(&th.lock);
	replay_free(rp);
	nonce_ctx_clear(&nctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7616_vectors),
		cmocka_unit_test(test_rfc2617_vector),
		cmocka_unit_test(test_rfc2069_form),
		cmocka_unit_test(test_rfc7616_sha512_256),
		cmocka_unit_test(test_alg_names),
		cmocka_unit_test(test_reason_names),
		cmocka_unit_test(test_check_reasons),
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_fake_ha1),
		cmocka_unit_test(test_authenticate),
		cmocka_unit_test(test_challenge),
		cmocka_unit_test(test_guarded_slices),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
