/*
 * Unit tests for src/conf/confdiff.c and conf_print_flat(): what a
 * reload sees as changed, which changes are live and which need a
 * restart, and that a secret never shows in a diff.
 */
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

#define BASE \
	"version: 1\n" \
	"listen:\n" \
	"  - address: 127.0.0.1\n" \
	"    port: %u\n" \
	"    zone: z\n" \
	"zones:\n" \
	"  - name: z\n" \
	"    rate_limits:\n" \
	"      source: { rate: %u/s, burst: 60 }\n" \
	"%s"

static const uint8_t key[CONF_FP_KEY_LEN] = { 1, 2, 3 };

static struct sw_conf *
load(unsigned port, unsigned rate, const char *tail)
{
	struct conf_diag diag;
	struct sw_conf *c = NULL;
	char buf[4096];
	int n = snprintf(buf, sizeof(buf), BASE, port, rate, tail);

	conf_diag_init(&diag);
	if (conf_load_buf("t.yaml", buf, (size_t)n, &c, &diag) < 0) {
		conf_diag_print(stderr, &diag);
		fail_msg("config did not load");
	}
	return c;
}

typedef int conf_printer(FILE *, const struct sw_conf *, const uint8_t *);

static char *
print_mem(conf_printer *print, const struct sw_conf *c, const uint8_t *k)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(print(f, c, k), 0);
	fclose(f);
	return buf;
}

static char *
flat(const struct sw_conf *c, const uint8_t *k)
{
	return print_mem(conf_print_flat, c, k);
}

/* Diff a and b; returns the diff text, the counts and restart names. */
static char *
diff(const struct sw_conf *a, const struct sw_conf *b,
    struct conf_diff_count *cnt, char *restart, size_t rcap)
{
	char *fa = flat(a, key), *fb = flat(b, key), *d = NULL;

	assert_int_equal(conf_diff(fa, fb, &d, cnt, restart, rcap), 0);
	free(fa);
	free(fb);
	assert_non_null(d);
	return d;
}

static void
test_flat_form(void **state)
{
	struct sw_conf *c = load(5060, 20, "");
	char *f = flat(c, NULL);

	(void)state;
	assert_non_null(strstr(f, "\nlisten[0].port: 5060\n"));
	assert_non_null(strstr(f, "\nzones[0].rate_limits.source.rate: 20/s\n"));
	assert_non_null(strstr(f, "\nzones[0].allow: []\n"));
	assert_non_null(strstr(f, "\nnode.name: "));
	/* every line is "path: value" */
	for (char *p = f; *p != '\0'; p = strchr(p, '\n') + 1) {
		char *nl = strchr(p, '\n');
		char *sep = strstr(p, ": ");

		assert_non_null(nl);
		assert_true(sep != NULL && sep < nl);
	}
	free(f);
	conf_free(c);
}

static void
test_identical(void **state)
{
	struct sw_conf *a = load(5060, 20, ""), *b = load(5060, 20, "");
	struct conf_diff_count cnt;
	char restart[128];
	char *d = diff(a, b, &cnt, restart, sizeof(restart));

	(void)state;
	assert_int_equal(cnt.changed, 0);
	assert_int_equal(cnt.restart, 0);
	assert_string_equal(d, "");
	assert_string_equal(restart, "");
	free(d);
	conf_free(a);
	conf_free(b);
}

static void
test_live_change(void **state)
{
	struct sw_conf *a = load(5060, 20, ""), *b = load(5060, 5,
	    "bans:\n  never: [10.1.0.0/16]\n"
	    "policy:\n  max_redirects: 1\n");
	struct conf_diff_count cnt;
	char restart[128];
	char *d = diff(a, b, &cnt, restart, sizeof(restart));

	(void)state;
	assert_non_null(strstr(d,
	    "~ zones[0].rate_limits.source.rate: 20/s -> 5/s\n"));
	assert_non_null(strstr(d, "+ bans.never[0]: 10.1.0.0/16\n"));
	assert_non_null(strstr(d, "- bans.never: []\n"));
	assert_non_null(strstr(d, "~ policy.max_redirects: 2 -> 1\n"));
	assert_int_equal(cnt.changed, 4);
	assert_int_equal(cnt.restart, 0);
	assert_string_equal(restart, "");
	free(d);
	conf_free(a);
	conf_free(b);
}

static void
test_restart_change(void **state)
{
	struct sw_conf *a = load(5060, 20, ""), *b = load(5070, 10,
	    "sip:\n  timers:\n    t1: 1s\n");
	struct conf_diff_count cnt;
	char restart[128];
	char *d = diff(a, b, &cnt, restart, sizeof(restart));

	(void)state;
	assert_int_equal(cnt.changed, 3);
	assert_int_equal(cnt.restart, 2);
	assert_non_null(strstr(restart, "listen[0].port"));
	assert_non_null(strstr(restart, "sip.timers.t1"));
	assert_null(strstr(restart, "rate_limits"));
	free(d);
	conf_free(a);
	conf_free(b);
}

static void
test_restart_names_bounded(void **state)
{
	struct conf_diff_count cnt;
	char restart[64], *d = NULL;
	char a[2048] = "", b[2048] = "";

	(void)state;
	for (int i = 0; i < 20; i++) {
		char line[64];

		snprintf(line, sizeof(line), "sip.k%02d: 1\n", i);
		strcat(a, line);
		snprintf(line, sizeof(line), "sip.k%02d: 2\n", i);
		strcat(b, line);
	}
	assert_int_equal(conf_diff(a, b, &d, &cnt, restart, sizeof(restart)),
	    0);
	assert_int_equal(cnt.changed, 20);
	assert_int_equal(cnt.restart, 20);
	assert_true(strlen(restart) < sizeof(restart));
	assert_non_null(strstr(restart, "sip.k00"));
	free(d);
}

static void
test_secret_fingerprint(void **state)
{
	struct sw_conf *a = load(5060, 20, ""), *b = load(5060, 20, "");
	struct conf_diff_count cnt;
	char restart[128], *d, *fa;

	(void)state;
	for (int i = 0; i < 2; i++) {
		struct sw_conf *c = i ? b : a;

		c->ntrunks = 1;
		snprintf(c->trunks[0].name, sizeof(c->trunks[0].name), "carrier");
		snprintf(c->trunks[0].password, sizeof(c->trunks[0].password),
		    "%s", i ? "hunter2-NEW" : "hunter2-OLD");
	}
	fa = flat(a, key);
	assert_null(strstr(fa, "hunter2"));
	assert_non_null(strstr(fa, "trunks[0].password: \"******** ("));
	free(fa);
	d = diff(a, b, &cnt, restart, sizeof(restart));
	assert_int_equal(cnt.changed, 1);
	assert_int_equal(cnt.restart, 1);
	assert_null(strstr(d, "hunter2"));
	assert_non_null(strstr(d, "~ trunks[0].password: "));
	free(d);
	/* without a key the secret cannot even be compared */
	fa = flat(a, NULL);
	assert_non_null(strstr(fa, "trunks[0].password: \"********\"\n"));
	free(fa);
	conf_free(a);
	conf_free(b);
}

static char *
files(const struct sw_conf *c)
{
	return print_mem(conf_print_files, c, key);
}

/* The list file by its contents: the same path, other bytes, a change. */
static void
test_file_contents(void **state)
{
	char path[] = "/tmp/sipwall-confdiff-XXXXXX", tail[128], *t;
	struct sw_conf *c;
	int fd = mkstemp(path);
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_non_null(f = fopen(path, "w"));
	fputs("882|irsf|test|test\n", f);
	fclose(f);
	snprintf(tail, sizeof(tail), "policy:\n  high_risk_file: %s\n", path);
	c = load(5060, 20, tail);
	t = files(c);
	assert_string_equal(t, "policy.high_risk_file.contents: sha256:"
	    "6a07e2f186c10d7704877b857fe5837515d87d20c665bb1d4f3907dbf938af3a"
	    "\n");
	free(t);
	assert_non_null(f = fopen(path, "a"));
	fputs("4420|test|test|test\n", f);
	fclose(f);
	t = files(c);
	assert_non_null(strstr(t, "sha256:"));
	assert_null(strstr(t, "6a07e2f1"));
	free(t);
	unlink(path);
	t = files(c);
	assert_string_equal(t, "policy.high_risk_file.contents: unreadable: "
	    "No such file or directory\n");
	free(t);
	conf_free(c);
	/* no list named: nothing to compare (the built-in one is code) */
	c = load(5060, 20, "");
	t = files(c);
	assert_string_equal(t, "");
	free(t);
	conf_free(c);
}

static void
test_hot_paths(void **state)
{
	static const struct {
		const char	*path;
		int		 hot;
	} cases[] = {
		{ "zones[0].allow", 1 },
		{ "zones[12].allow[3]", 1 },
		{ "zones[0].rate_limits.methods[1].b.rate", 1 },
		{ "zones[0].srtp", 1 },
		{ "zones[0].name", 0 },
		{ "zones[0].trust", 0 },
		{ "zones[0].media_address", 0 },
		{ "zones[x].allow", 0 },
		{ "zones[].allow", 0 },
		{ "zones.allow", 0 },
		{ "policy", 1 },
		{ "policy.groups[2].hours[0]", 1 },
		{ "policyx", 0 },
		{ "alerts.window", 0 },
		{ "alerts.enabled", 1 },
		{ "alerts.factor", 1 },
		{ "alerts.hours[1]", 1 },
		{ "alerts.webhook", 1 },
		{ "dialplan.country_code", 0 },
		{ "dialplan.emergency[1]", 1 },
		{ "bans.never[0]", 1 },
		{ "bans.first", 1 },
		{ "bans.forget", 0 },
		{ "scanner.signatures.contents", 1 },
		{ "scanner.window", 0 },
		{ "scanner.sweep", 1 },
		{ "bruteforce.failures", 1 },
		{ "bruteforce.window", 0 },
		{ "calls.max_calls", 0 },
		{ "calls.max_duration", 1 },
		{ "listen[0].port", 0 },
		/* a renewed certificate is live, moving it is not */
		{ "listen[1].tls.cert.contents", 1 },
		{ "listen[1].tls.key.contents", 1 },
		{ "listen[0].tls.ca.contents", 1 },
		{ "listen[1].tls.cert", 0 },
		{ "listen[1].tls.key", 0 },
		{ "listen[0].tls.min_version", 0 },
		{ "listen[0].tls.cert.contentsx", 0 },
		{ "trunks[3].tls_ca.contents", 1 },
		{ "trunks[3].tls_ca", 0 },
		{ "core.targets[0].tls_ca.contents", 1 },
		{ "core.targets[0].tls_ca", 0 },
		{ "", 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (conf_path_is_hot(cases[i].path, strlen(cases[i].path)) !=
		    cases[i].hot)
			fail_msg("%s: expected %s", cases[i].path,
			    cases[i].hot ? "live" : "restart");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flat_form),
		cmocka_unit_test(test_identical),
		cmocka_unit_test(test_live_change),
		cmocka_unit_test(test_restart_change),
		cmocka_unit_test(test_restart_names_bounded),
		cmocka_unit_test(test_secret_fingerprint),
		cmocka_unit_test(test_hot_paths),
		cmocka_unit_test(test_file_contents),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
