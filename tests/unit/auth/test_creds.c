/*
 * Unit tests for src/auth/creds.c: one case (or more) per reason,
 * passwords that must pass, the generator, and the HA1 set.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "auth/creds.h"
#include "auth/digest.h"

#define S(x)	slice_cstr(x)

static enum creds_reason
chk(const char *user, const char *domain, const char *pw)
{
	return creds_check_password(S(user), S(domain), S(pw));
}

static void
test_reasons(void **state)
{
	char big[CREDS_PW_MAX + 2];

	(void)state;
	/* good ones */
	assert_int_equal(chk("alice", "example.com", "Vq7#mR2-kXp9"), CREDS_OK);
	assert_int_equal(chk("100", "pbx.example.com", "hT8.wQ3~zN6_bY"),
	    CREDS_OK);
	assert_int_equal(chk("", "", "correct Horse battery St4ple"),
	    CREDS_OK);
	/* multibyte letters count as "other" and as one character each */
	assert_int_equal(chk("bob", "x.org",
	    "gr\xc3\xbc\xc3\x9f Gott 9x mal"), CREDS_OK);

	/* LONG, CHARSET, SHORT */
	memset(big, 'a', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(chk("u", "d", big), CREDS_E_LONG);
	assert_int_equal(chk("u", "d", "Vq7#mR2-kXp9\n"), CREDS_E_CHARSET);
	assert_int_equal(chk("u", "d", "Vq7#mR2-kXp9\x7f"), CREDS_E_CHARSET);
	assert_int_equal(chk("u", "d", "Vq7#mR2-kXp\xc3"), CREDS_E_CHARSET);
	assert_int_equal(chk("u", "d", "Vq7#mR2-kXp\xc0\xaf"),
	    CREDS_E_CHARSET);	/* overlong '/' */
	assert_int_equal(chk("u", "d", "Vq7#mR2-kXp"), CREDS_E_SHORT);
	assert_int_equal(chk("u", "d", ""), CREDS_E_SHORT);
	assert_int_equal(chk("u", "d", "1234"), CREDS_E_SHORT);
	/* 11 characters in 13 bytes is still short */
	assert_int_equal(chk("u", "d", "Vq7#mR2-k\xc3\xa9p"), CREDS_E_SHORT);

	/* COMMON: whole, inside, with case and substitutions */
	assert_int_equal(chk("u", "d", "administrator"), CREDS_E_COMMON);
	assert_int_equal(chk("u", "d", "Password2024!"), CREDS_E_COMMON);
	assert_int_equal(chk("u", "d", "P@ssw0rd-Xk9z"), CREDS_E_COMMON);
	assert_int_equal(chk("u", "d", "My-Asterisk-99"), CREDS_E_COMMON);
	assert_int_equal(chk("u", "d", "FreePBX#2023x"), CREDS_E_COMMON);
	assert_int_equal(chk("u", "d", "xTrustNo1-Q7z"), CREDS_E_COMMON);
	assert_int_equal(chk("u", "d", "Ch4ngeMe!Zq7w"), CREDS_E_COMMON);
	assert_int_equal(chk("u", "d", "1234567890123"), CREDS_E_COMMON);

	/* USERNAME (3+ characters), case-insensitive, substitutions */
	assert_int_equal(chk("alice", "d", "xAlice-Q7z#Wm"), CREDS_E_USERNAME);
	assert_int_equal(chk("alice", "d", "x@L1CE-Q7z#Wm"), CREDS_E_USERNAME);
	assert_int_equal(chk("4711", "d", "Zq#w4711-Rnbv"), CREDS_E_USERNAME);
	assert_int_equal(chk("ab", "d", "ab-Zq#w9-Rnbv"), CREDS_OK);

	/* DOMAIN: whole, or a label of 4+ characters but the last */
	assert_int_equal(chk("u", "acme.example", "Zq#w9-acme.example"),
	    CREDS_E_DOMAIN);
	assert_int_equal(chk("u", "sip.ACMEcorp.com", "Zq#w9-AcmeCorp"),
	    CREDS_E_DOMAIN);
	assert_int_equal(chk("u", "sip.acmecorp.com", "Zq#w9-sip-Rnbv"),
	    CREDS_OK);		/* "sip" alone is too short to mean it */
	assert_int_equal(chk("u", "x.info", "Zq#w9-info-Rnbv"), CREDS_OK);

	/* REPEAT */
	assert_int_equal(chk("u", "d", "Zq#w9-Rnbvvvv"), CREDS_E_REPEAT);
	assert_int_equal(chk("u", "d", "Zq#w9-RnbvVvV"), CREDS_E_REPEAT);
	assert_int_equal(chk("u", "d", "Zq#w9-Rnbvvv7"), CREDS_OK);

	/* SEQUENCE: digits and letters, both directions */
	assert_int_equal(chk("u", "d", "Zq#w-abcd-R9n"), CREDS_E_SEQUENCE);
	assert_int_equal(chk("u", "d", "Zq#w-9876-Rnb"), CREDS_E_SEQUENCE);
	assert_int_equal(chk("u", "d", "Zq#w-MNOP-r9n"), CREDS_E_SEQUENCE);
	assert_int_equal(chk("u", "d", "Zq#w-4567-Rnb"), CREDS_E_SEQUENCE);
	assert_int_equal(chk("u", "d", "Zq#w-abc9-Rnb"), CREDS_OK);

	/* KEYBOARD: rows, reversed, AZERTY, columns, keypad */
	assert_int_equal(chk("u", "d", "Zq#9-wert-Rnb"), CREDS_E_KEYBOARD);
	assert_int_equal(chk("u", "d", "Zq#9-lkjh-Rnb"), CREDS_E_KEYBOARD);
	assert_int_equal(chk("u", "d", "Zq#9-Azer-Rnb"), CREDS_E_KEYBOARD);
	assert_int_equal(chk("u", "d", "Zn#9-1qaz-Rnb"), CREDS_E_KEYBOARD);
	assert_int_equal(chk("u", "d", "Zq#w-2580-Rnb"), CREDS_E_KEYBOARD);
	assert_int_equal(chk("u", "d", "Zq#w-7890-Rnb"), CREDS_E_KEYBOARD);

	/* CLASSES */
	assert_int_equal(chk("u", "d", "zqwmrnbvkxtp"), CREDS_E_CLASSES);
	assert_int_equal(chk("u", "d", "zqwmrnbvkxtp9"), CREDS_E_CLASSES);
	assert_int_equal(chk("u", "d", "zqwmrnbvkxtp9Z"), CREDS_OK);
	assert_int_equal(chk("u", "d", "zqwmrnbvkxtp-9"), CREDS_OK);
	assert_int_equal(chk("u", "d", "ZQWMRNBVKXTP-9"), CREDS_OK);
}

static void
test_reason_strings(void **state)
{
	(void)state;
	for (int i = 0; i < CREDS_REASON_MAX; i++) {
		assert_non_null(creds_reason_name((enum creds_reason)i));
		assert_non_null(creds_reason_text((enum creds_reason)i));
		assert_string_not_equal(creds_reason_name((enum creds_reason)i),
		    "unknown");
		for (int j = 0; j < i; j++)
			assert_string_not_equal(
			    creds_reason_name((enum creds_reason)i),
			    creds_reason_name((enum creds_reason)j));
	}
	assert_string_equal(creds_reason_name(CREDS_E_SHORT), "too_short");
	assert_string_equal(creds_reason_name(CREDS_REASON_MAX), "unknown");
	assert_non_null(creds_reason_text(CREDS_REASON_MAX));
}

static void
test_generate(void **state)
{
	static const char alphabet[] =
	    "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789-_.~";
	char pw[CREDS_PW_MAX + 1], prev[CREDS_PW_MAX + 1] = "";

	(void)state;
	for (int i = 0; i < 1000; i++) {
		size_t len = i % 3 == 0 ? 0 : 16 + (size_t)i % 50;
		size_t want = len == 0 ? CREDS_GEN_DEFAULT : len;

		assert_int_equal(creds_generate_password(pw, sizeof(pw), len),
		    (int)want);
		assert_int_equal(strlen(pw), want);
		assert_int_equal(strspn(pw, alphabet), want);
		assert_true((pw[0] >= 'A' && pw[0] <= 'Z') ||
		    (pw[0] >= 'a' && pw[0] <= 'z'));
		assert_int_equal(creds_check_password(SLICE_NULL, SLICE_NULL,
		    S(pw)), CREDS_OK);
		assert_non_null(strpbrk(pw, "abcdefghjkmnpqrstuvwxyz"));
		assert_non_null(strpbrk(pw, "ABCDEFGHJKLMNPQRSTUVWXYZ"));
		assert_non_null(strpbrk(pw, "23456789"));
		assert_non_null(strpbrk(pw, "-_.~"));
		assert_string_not_equal(pw, prev);
		memcpy(prev, pw, sizeof(prev));
	}
	assert_int_equal(creds_generate_password(pw, sizeof(pw), CREDS_PW_MAX),
	    CREDS_PW_MAX);
	assert_int_equal(creds_generate_password(pw, sizeof(pw), 15), -EINVAL);
	assert_int_equal(creds_generate_password(pw, sizeof(pw),
	    CREDS_PW_MAX + 1), -EINVAL);
	assert_int_equal(creds_generate_password(pw, 20, 20), -SBC_ELIMIT);
	assert_int_equal(creds_generate_password(pw, 21, 20), 20);
	assert_int_equal(creds_generate_password(NULL, 21, 20), -EINVAL);
	explicit_bzero(pw, sizeof(pw));
	explicit_bzero(prev, sizeof(prev));
}

static void
test_ha1_all(void **state)
{
	struct ha1_set h;

	(void)state;
	assert_int_equal(creds_ha1_all(S("Mufasa"), S("http-auth@example.org"),
	    S("Circle of Life"), &h), 0);
	assert_string_equal(h.md5, "3d78807defe7de2157e2b0b6573a855f");
	assert_string_equal(h.sha256, "7987c64c30e25f1b74be53f966b49b90"
	    "f2808aa92faf9a00262392d7b4794232");
	assert_int_equal(creds_ha1_all(S(""), S("r"), S("p"), &h), -EINVAL);
	assert_int_equal(h.md5[0], '\0');	/* wiped on failure */
	assert_int_equal(creds_ha1_all(S("u"), S(""), S("p"), &h), -EINVAL);
	assert_int_equal(creds_ha1_all(S("u"), S("r"), S("p"), NULL), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reasons),
		cmocka_unit_test(test_reason_strings),
		cmocka_unit_test(test_generate),
		cmocka_unit_test(test_ha1_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
