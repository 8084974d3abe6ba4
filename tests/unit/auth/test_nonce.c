/*
 * Unit tests for src/auth/nonce.c: format, expiry and skew, binding to
 * realm and source, tampering, strict decoding, and the secret file.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth/nonce.h"
#include "guard.h"

#define S(x)	slice_cstr(x)

static const uint8_t secret[NONCE_SECRET_LEN] = {
	0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
	13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28,
};
static const uint8_t ip4[4] = { 198, 51, 100, 7 };
static const uint8_t ip4b[4] = { 198, 51, 100, 8 };
static const uint8_t ip6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const int64_t T0 = 1700000000;

static void
test_format_and_ok(void **state)
{
	struct nonce_ctx ctx;
	char a[NONCE_BUF], b[NONCE_BUF];
	int64_t exp = 0;

	(void)state;
	assert_int_equal(nonce_ctx_init(&ctx, secret, 300, 0), 0);
	assert_int_equal(nonce_make(&ctx, T0, S("r"), NULL, 0, a, sizeof(a)),
	    NONCE_LEN);
	assert_int_equal(strlen(a), NONCE_LEN);
	for (size_t i = 0; i < NONCE_LEN; i++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789-_", a[i]));
	assert_int_equal(nonce_check(&ctx, T0, S(a), S("r"), NULL, 0, &exp),
	    NONCE_OK);
	assert_int_equal(exp, T0 + 300);
	/* the random part makes every nonce different */
	assert_int_equal(nonce_make(&ctx, T0, S("r"), NULL, 0, b, sizeof(b)),
	    NONCE_LEN);
	assert_string_not_equal(a, b);
	/* the issue time is readable: the first 8 bytes, big-endian */
	assert_memory_equal(a, "AAAAAGVT8", 9);	/* 1700000000 = 0x6553f100 */
	nonce_ctx_clear(&ctx);
	for (size_t i = 0; i < sizeof(ctx.secret); i++)
		assert_int_equal(ctx.secret[i], 0);
}

static void
test_expiry_and_skew(void **state)
{
	struct nonce_ctx ctx;
	char n[NONCE_BUF];
	int64_t exp = 0;

	(void)state;
	assert_int_equal(nonce_ctx_init(&ctx, secret, 60, 0), 0);
	assert_int_equal(nonce_make(&ctx, T0, S("r"), NULL, 0, n, sizeof(n)),
	    NONCE_LEN);
	assert_int_equal(nonce_check(&ctx, T0 + 60, S(n), S("r"), NULL, 0,
	    NULL), NONCE_OK);
	assert_int_equal(nonce_check(&ctx, T0 + 61, S(n), S("r"), NULL, 0,
	    &exp), NONCE_STALE);
	assert_int_equal(exp, T0 + 60);	/* still reported for stale */
	assert_int_equal(nonce_check(&ctx, T0 + 100000, S(n), S("r"), NULL, 0,
	    NULL), NONCE_STALE);
	/* issued "in the future": small skew between nodes is fine */
	assert_int_equal(nonce_check(&ctx, T0 - NONCE_MAX_SKEW, S(n), S("r"),
	    NULL, 0, NULL), NONCE_OK);
	assert_int_equal(nonce_check(&ctx, T0 - NONCE_MAX_SKEW - 1, S(n),
	    S("r"), NULL, 0, NULL), NONCE_STALE);
	assert_int_equal(nonce_check(&ctx, INT64_MIN, S(n), S("r"), NULL, 0,
	    NULL), NONCE_STALE);
	assert_int_equal(nonce_check(&ctx, INT64_MAX, S(n), S("r"), NULL, 0,
	    NULL), NONCE_STALE);
	/* a longer ttl after a reload accepts the same nonce again */
	assert_int_equal(nonce_ctx_init(&ctx, secret, 120, 0), 0);
	assert_int_equal(nonce_check(&ctx, T0 + 100, S(n), S("r"), NULL, 0,
	    NULL), NONCE_OK);
}

static void
test_binding(void **state)
{
	struct nonce_ctx bound, loose, other;
	uint8_t secret2[NONCE_SECRET_LEN];
	char n[NONCE_BUF], m[NONCE_BUF];

	(void)state;
	memcpy(secret2, secret, sizeof(secret2));
	secret2[31] ^= 0x80;
	assert_int_equal(nonce_ctx_init(&bound, secret, 300, 1), 0);
	assert_int_equal(nonce_ctx_init(&loose, secret, 300, 0), 0);
	assert_int_equal(nonce_ctx_init(&other, secret2, 300, 0), 0);

	assert_int_equal(nonce_make(&bound, T0, S("r"), ip4, 4, n, sizeof(n)),
	    NONCE_LEN);
	assert_int_equal(nonce_check(&bound, T0, S(n), S("r"), ip4, 4, NULL),
	    NONCE_OK);
	assert_int_equal(nonce_check(&bound, T0, S(n), S("r"), ip4b, 4, NULL),
	    NONCE_INVALID);
	assert_int_equal(nonce_check(&bound, T0, S(n), S("r"), ip6, 16, NULL),
	    NONCE_INVALID);
	assert_int_equal(nonce_check(&bound, T0, S(n), S("r"), NULL, 0, NULL),
	    NONCE_INVALID);
	assert_int_equal(nonce_check(&bound, T0, S(n), S("R"), ip4, 4, NULL),
	    NONCE_INVALID);
	/* binding is part of the MAC: an unbound checker refuses it */
	assert_int_equal(nonce_check(&loose, T0, S(n), S("r"), ip4, 4, NULL),
	    NONCE_INVALID);

	/* unbound: any source, but still the realm and the secret */
	assert_int_equal(nonce_make(&loose, T0, S("r"), ip4, 4, m, sizeof(m)),
	    NONCE_LEN);
	assert_int_equal(nonce_check(&loose, T0, S(m), S("r"), ip4b, 4, NULL),
	    NONCE_OK);
	assert_int_equal(nonce_check(&loose, T0, S(m), S("r"), NULL, 0, NULL),
	    NONCE_OK);
	assert_int_equal(nonce_check(&loose, T0, S(m), S("r2"), NULL, 0, NULL),
	    NONCE_INVALID);
	assert_int_equal(nonce_check(&other, T0, S(m), S("r"), NULL, 0, NULL),
	    NONCE_INVALID);
	/* IPv6 */
	assert_int_equal(nonce_make(&bound, T0, S("r"), ip6, 16, n, sizeof(n)),
	    NONCE_LEN);
	assert_int_equal(nonce_check(&bound, T0, S(n), S("r"), ip6, 16, NULL),
	    NONCE_OK);
}

/* Any change to any character, and every prefix, is INVALID. */
static void
test_tamper(void **state)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_+/=. ";
	struct nonce_ctx ctx;
	char n[NONCE_BUF], t[NONCE_BUF];
	int ok = 0;

	(void)state;
	assert_int_equal(nonce_ctx_init(&ctx, secret, 300, 0), 0);
	assert_int_equal(nonce_make(&ctx, T0, S("r"), NULL, 0, n, sizeof(n)),
	    NONCE_LEN);
	for (size_t i = 0; i < NONCE_LEN; i++)
		for (size_t k = 0; k < sizeof(alphabet) - 1; k++) {
			memcpy(t, n, sizeof(t));
			t[i] = alphabet[k];
			if (t[i] == n[i])
				continue;
			assert_int_equal(nonce_check(&ctx, T0, S(t), S("r"),
			    NULL, 0, NULL), NONCE_INVALID);
			ok++;
		}
	assert_true(ok > 40 * 60);
	for (size_t cut = 0; cut <= NONCE_LEN + 1; cut++) {
		char longer[NONCE_BUF + 1];
		const uint8_t *g;

		memcpy(longer, n, NONCE_LEN);
		longer[NONCE_LEN] = 'A';
		g = guard_copy(longer, cut);
		assert_int_equal(nonce_check(&ctx, T0, slice_make(g, cut),
		    S("r"), NULL, 0, NULL), cut == NONCE_LEN ? NONCE_OK :
		    NONCE_INVALID);
	}
	assert_int_equal(nonce_check(&ctx, T0, SLICE_NULL, S("r"), NULL, 0,
	    NULL), NONCE_INVALID);
}

/* The last character carries 2 pad bits: only one spelling is valid. */
static void
test_canonical(void **state)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	struct nonce_ctx ctx;
	char n[NONCE_BUF], t[NONCE_BUF];
	int valid = 0;

	(void)state;
	assert_int_equal(nonce_ctx_init(&ctx, secret, 300, 0), 0);
	assert_int_equal(nonce_make(&ctx, T0, S("r"), NULL, 0, n, sizeof(n)),
	    NONCE_LEN);
	for (size_t k = 0; k < 64; k++) {
		memcpy(t, n, sizeof(t));
		t[NONCE_LEN - 1] = alphabet[k];
		if (nonce_check(&ctx, T0, S(t), S("r"), NULL, 0, NULL) ==
		    NONCE_OK)
			valid++;
	}
	assert_int_equal(valid, 1);
}

static void
test_bad_args(void **state)
{
	struct nonce_ctx ctx;
	char n[NONCE_BUF];
	char realm[NONCE_REALM_MAX + 2];

	(void)state;
	assert_int_equal(nonce_ctx_init(&ctx, secret, 0, 0), -EINVAL);
	assert_int_equal(nonce_ctx_init(&ctx, secret, NONCE_TTL_MAX + 1, 0),
	    -EINVAL);
	assert_int_equal(nonce_ctx_init(NULL, secret, 10, 0), -EINVAL);
	assert_int_equal(nonce_ctx_init(&ctx, NULL, 10, 0), -EINVAL);
	assert_int_equal(nonce_ctx_init(&ctx, secret, 10, 1), 0);
	assert_int_equal(nonce_make(&ctx, T0, S("r"), ip4, 4, n, NONCE_LEN),
	    -SBC_ELIMIT);
	assert_int_equal(nonce_make(&ctx, T0, S("r"), NULL, 0, n, sizeof(n)),
	    -EINVAL);
	assert_int_equal(nonce_make(&ctx, T0, S("r"), ip4, NONCE_SRC_MAX + 1,
	    n, sizeof(n)), -EINVAL);
	assert_int_equal(nonce_make(&ctx, -1, S("r"), ip4, 4, n, sizeof(n)),
	    -EINVAL);
	memset(realm, 'x', sizeof(realm));
	assert_int_equal(nonce_make(&ctx, T0, slice_make(realm,
	    NONCE_REALM_MAX + 1), ip4, 4, n, sizeof(n)), -EINVAL);
	assert_int_equal(nonce_make(&ctx, T0, slice_make(realm,
	    NONCE_REALM_MAX), ip4, 4, n, sizeof(n)), NONCE_LEN);
	assert_int_equal(nonce_check(&ctx, T0, S(n), slice_make(realm,
	    NONCE_REALM_MAX), ip4, 4, NULL), NONCE_OK);
	assert_int_equal(nonce_check(NULL, T0, S(n), S("r"), ip4, 4, NULL),
	    NONCE_INVALID);
	assert_string_equal(nonce_status_name(NONCE_OK), "ok");
	assert_string_equal(nonce_status_name(NONCE_STALE), "stale");
	assert_string_equal(nonce_status_name(NONCE_INVALID), "invalid");
	assert_string_equal(nonce_status_name(NONCE_STATUS_MAX), "unknown");
}

static char tmpdir[64];

static int
mk_tmpdir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sw-nonce-XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
rm_tmpdir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void
test_secret_file(void **state)
{
	uint8_t a[NONCE_SECRET_LEN], b[NONCE_SECRET_LEN], zero[NONCE_SECRET_LEN];
	char path[128], other[128];
	const char *why = NULL;
	struct stat st;

	(void)state;
	memset(zero, 0, sizeof(zero));
	snprintf(path, sizeof(path), "%s/nonce.key", tmpdir);
	/* created: 0600, 32 bytes, no temporary left behind */
	assert_int_equal(nonce_secret_load_or_create(path, a, &why), 0);
	assert_null(why);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, NONCE_SECRET_LEN);
	assert_memory_not_equal(a, zero, sizeof(a));
	{
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "test $(ls '%s' | wc -l) -eq 1",
		    tmpdir);
		assert_int_equal(system(cmd), 0);
	}
	/* loaded: the same secret, so nonces survive a restart */
	assert_int_equal(nonce_secret_load_or_create(path, b, &why), 0);
	assert_memory_equal(a, b, sizeof(a));

	/* group/other permission bits are refused */
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(nonce_secret_load_or_create(path, b, &why), -EPERM);
	assert_non_null(why);
	assert_non_null(strstr(why, "chmod 600"));
	assert_int_equal(chmod(path, 0604), 0);
	assert_int_equal(nonce_secret_load_or_create(path, b, NULL), -EPERM);
	assert_int_equal(chmod(path, 0400), 0);	/* read-only is fine */
	assert_int_equal(nonce_secret_load_or_create(path, b, &why), 0);

	/* wrong size */
	snprintf(other, sizeof(other), "%s/short.key", tmpdir);
	write_file(other, a, 31, 0600);
	assert_int_equal(nonce_secret_load_or_create(other, b, &why), -EINVAL);
	assert_non_null(strstr(why, "32 bytes"));
	write_file(other, zero, 0, 0600);
	assert_int_equal(nonce_secret_load_or_create(other, b, &why), -EINVAL);

	/* a symlink is not followed, a directory is not a file */
	snprintf(other, sizeof(other), "%s/link.key", tmpdir);
	assert_int_equal(symlink(path, other), 0);
	assert_int_equal(nonce_secret_load_or_create(other, b, &why), -ELOOP);
	assert_non_null(strstr(why, "symbolic link"));
	snprintf(other, sizeof(other), "%s/dir.key", tmpdir);
	assert_int_equal(mkdir(other, 0700), 0);
	assert_int_equal(nonce_secret_load_or_create(other, b, &why), -EINVAL);
	assert_non_null(strstr(why, "regular file"));

	/* a directory that does not exist */
	snprintf(other, sizeof(other), "%s/nope/nonce.key", tmpdir);
	assert_int_equal(nonce_secret_load_or_create(other, b, &why), -ENOENT);
	assert_non_null(why);
	assert_int_equal(nonce_secret_load_or_create("", b, &why), -EINVAL);
	assert_int_equal(nonce_secret_load_or_create(NULL, b, &why), -EINVAL);

	/* a fresh secret from getrandom */
	assert_int_equal(nonce_secret_generate(a), 0);
	assert_int_equal(nonce_secret_generate(b), 0);
	assert_memory_not_equal(a, b, sizeof(a));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_and_ok),
		cmocka_unit_test(test_expiry_and_skew),
		cmocka_unit_test(test_binding),
		cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test_setup_teardown(test_secret_file, mk_tmpdir,
		    rm_tmpdir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
