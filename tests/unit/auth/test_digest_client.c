/* sipwall answering a provider's challenge (digest_client.c), checked
 * against the worked examples of RFC 2617 (MD5) and RFC 7616 (SHA-256)
 * and against our own verifier. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "auth/digest.h"
#include "auth/digest_client.h"
#include "core/err.h"

static struct digest_answer_in
rfc_in(const char *challenge, const char *pw, const char *cnonce)
{
	struct digest_answer_in in;

	memset(&in, 0, sizeof(in));
	in.challenge = slice_cstr(challenge);
	in.username = slice_cstr("Mufasa");
	in.password = slice_cstr(pw);
	in.method = slice_cstr("GET");
	in.uri = slice_cstr("/dir/index.html");
	in.nc = 1;
	in.cnonce = slice_cstr(cnonce);
	return in;
}

static void
test_rfc2617_md5(void **state)
{
	struct digest_answer_in in = rfc_in("Digest realm=\"testrealm@host.com\", "
	    "qop=\"auth,auth-int\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
	    "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"", "Circle Of Life",
	    "0a4f113b");
	char out[1024];

	(void)state;
	assert_int_equal(digest_client_answer(&in, out, sizeof(out)), 0);
	assert_non_null(strstr(out,
	    "response=\"6629fae49393a05397450978507c4ef1\""));
	assert_non_null(strstr(out, "qop=auth, nc=00000001, cnonce=\"0a4f113b\""));
	assert_non_null(strstr(out, "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""));
	assert_non_null(strstr(out, "algorithm=MD5"));
}

static void
test_rfc7616_sha256(void **state)
{
	struct digest_answer_in in = rfc_in("Digest realm=\"http-auth@example.org\", "
	    "qop=\"auth, auth-int\", algorithm=SHA-256, "
	    "nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "
	    "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"",
	    "Circle of Life", "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ");
	char out[1024];

	(void)state;
	assert_int_equal(digest_client_answer(&in, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "response=\"753927fa0e85d155564e2e272a28d18"
	    "02ca10daf4496794697cf8db5856cb6c1\""));
	assert_non_null(strstr(out, "algorithm=SHA-256"));
}

static void
test_refused_challenges(void **state)
{
	static const char *bad[] = {
		"Basic realm=\"x\"",
		"Digest realm=\"x\", nonce=\"n\", algorithm=MD4",
		"Digest realm=\"x\", nonce=\"n\", qop=\"auth-int\"",
		"Digest nonce=\"n\"",
		"Digest realm=\"x\"",
		"",
	};
	char out[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct digest_answer_in in = rfc_in(bad[i], "pw", "c");

		assert_int_equal(digest_client_answer(&in, out, sizeof(out)),
		    -EINVAL);
	}
}

static void
test_short_buffer(void **state)
{
	struct digest_answer_in in = rfc_in("Digest realm=\"r\", nonce=\"n\"",
	    "pw", "c");
	char out[40];

	(void)state;
	assert_int_equal(digest_client_answer(&in, out, sizeof(out)),
	    -SBC_ELIMIT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc2617_md5),
		cmocka_unit_test(test_rfc7616_sha256),
		cmocka_unit_test(test_refused_challenges),
		cmocka_unit_test(test_short_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
