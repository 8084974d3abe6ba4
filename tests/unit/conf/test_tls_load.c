/*
 * Unit tests for src/conf/tls_load.c: it loads the files a TLS
 * listener names, relative to the config's directory, and points every
 * failure at its key.  (The `tls:` keys themselves: test_conf.c.)
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf/conf.h"
#include "conf/tls_load.h"
#include "sip/tls.h"
#include "../sip/tls_certs.h"

#define NAME	"t.yaml"

static struct certs C;
static struct conf_diag diag;

/* A TLS listener (line 3) with `tls` lines from line 7 on, a zone. */
#define TLS_HEAD \
	"version: 1\n" \
	"listen:\n" \
	"  - transport: tls\n" \
	"    address: 127.0.0.1\n" \
	"    zone: z\n" \
	"    tls:\n"
#define ZONES	"zones:\n  - name: z\n"

static void
dump_diag(void)
{
	for (size_t i = 0; i < diag.n; i++)
		print_message("  diag[%zu] %s\n", i, diag.e[i].text);
}

/* Write a config file into the certs directory; its path. */
static const char *
write_conf(const char *tls_lines)
{
	static char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/t.yaml", C.dir);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, TLS_HEAD "%s  - transport: udp\n    address: 127.0.0.1\n"
	    "    zone: z\n" ZONES, tls_lines);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* Load path and its TLS files: 0 (ctx filled) or the one error. */
static int
load_files(const char *path, const char *want_suffix)
{
	struct tls_ctx *ctx[CONF_MAX_LISTEN] = { NULL };
	struct sw_conf *c = NULL;
	char want[CONF_DIAG_LEN];
	int r;

	conf_diag_init(&diag);
	assert_int_equal(conf_load(path, &c, &diag), 0);
	assert_string_equal(c->dir, C.dir);
	r = conf_tls_load(c, path, ctx, &diag);
	if (want_suffix == NULL) {
		if (r != 0)
			dump_diag();
		assert_int_equal(r, 0);
		assert_non_null(ctx[0]);
		assert_null(ctx[1]);	/* the UDP listener */
	} else {
		snprintf(want, sizeof(want), "%s:%s", path, want_suffix);
		assert_int_equal(r, -EINVAL);
		for (size_t i = 0; i < CONF_MAX_LISTEN; i++)
			assert_null(ctx[i]);
		if (diag.n != 1 || strcmp(diag.e[0].text, want) != 0) {
			print_message("want %s\n", want);
			dump_diag();
			fail();
		}
	}
	conf_tls_free(ctx);
	conf_free(c);
	return r;
}

static void
tls_files_relative_to_the_config(void **state)
{
	char want[3 * PATH_MAX];

	(void)state;
	/* relative names: in the config's directory, not the cwd */
	load_files(write_conf("      cert: srv.pem\n      key: srv.key\n"
	    "      ca: ca.pem\n      verify_client: true\n"), NULL);
	snprintf(want, sizeof(want), "7:13: listen[0].tls.cert: cannot read "
	    "the certificate %s/missing.pem: No such file or directory", C.dir);
	load_files(write_conf("      cert: missing.pem\n      key: srv.key\n"),
	    want);
	snprintf(want, sizeof(want), "8:12: listen[0].tls.key: the key in "
	    "%s/stray.key does not match the certificate in %s/srv.pem", C.dir,
	    C.dir);
	load_files(write_conf("      cert: srv.pem\n      key: stray.key\n"),
	    want);
	snprintf(want, sizeof(want), "7:13: listen[0].tls.cert: no PEM "
	    "certificate in %s/garbage.pem (no start line)", C.dir);
	load_files(write_conf("      cert: garbage.pem\n      key: srv.key\n"),
	    want);
	load_files(write_conf("      cert: srv.pem\n      key: srv.key\n"
	    "      ciphers: AES256-SHA\n"), "9:16: listen[0].tls.ciphers: "
	    "'AES256-SHA' selects AES256-SHA, which is not an AEAD suite with "
	    "ECDHE or DHE key exchange (allowed: ECDHE/DHE with AES-GCM, "
	    "AES-CCM or CHACHA20-POLY1305)");
	/* an absolute path is taken as it is */
	snprintf(want, sizeof(want), "      cert: %s\n      key: %s\n",
	    C.srv_cert, C.srv_key);
	load_files(write_conf(want), NULL);
}

static void
path_resolve(void **state)
{
	struct sw_conf c;
	char buf[64];

	(void)state;
	memset(&c, 0, sizeof(c));
	snprintf(c.dir, sizeof(c.dir), ".");
	assert_int_equal(conf_path_resolve(&c, "a.pem", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "a.pem");
	snprintf(c.dir, sizeof(c.dir), "/etc/sipwall");
	assert_int_equal(conf_path_resolve(&c, "a.pem", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/etc/sipwall/a.pem");
	assert_int_equal(conf_path_resolve(&c, "/x/a.pem", buf, sizeof(buf)),
	    0);
	assert_string_equal(buf, "/x/a.pem");
	snprintf(c.dir, sizeof(c.dir), "/");
	assert_int_equal(conf_path_resolve(&c, "a.pem", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/a.pem");
	assert_int_equal(conf_path_resolve(&c, "a-very-long-name-that-does-"
	    "not-fit-in-the-buffer-at-all.pem", buf, 16), -ENAMETOOLONG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tls_files_relative_to_the_config),
		cmocka_unit_test(path_resolve),
	};
	int r;

	if (certs_make_all(&C) < 0)
		return 1;
	r = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(write_conf(""));
	certs_remove(&C);
	return r;
}
