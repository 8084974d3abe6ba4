/*
 * Unit tests for src/admin/ctl_proto.c: what a request line may be,
 * answers both ways, and the argument helpers.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "admin/ctl_proto.h"

/* Parse a C string; the code (0 or negative). */
static int
parse(const char *s, struct ctl_req *r)
{
	const char *why = NULL;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = ctl_req_parse(s, strlen(s), r, &why);
	if (rc < 0)
		assert_non_null(why);
	return rc;
}

static void
test_req_valid(void **state)
{
	struct ctl_req r;

	(void)state;
	assert_int_equal(parse("{\"cmd\":\"status\"}", &r), 0);
	assert_string_equal(r.cmd, "status");
	assert_true(json_is_object(r.args));
	assert_int_equal(json_object_size(r.args), 0);
	ctl_req_clear(&r);

	assert_int_equal(parse("{\"args\":{\"key\":\"192.0.2.1\"},"
	    "\"cmd\":\"ban\"}\r", &r), 0);
	assert_string_equal(r.cmd, "ban");
	assert_string_equal(json_string_value(json_object_get(r.args, "key")),
	    "192.0.2.1");
	ctl_req_clear(&r);

	assert_int_equal(parse(" { \"cmd\" : \"lockdown\", \"args\": "
	    "{\"on\": true} } ", &r), 0);
	assert_string_equal(r.cmd, "lockdown");
	ctl_req_clear(&r);
}

static void
test_req_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"status",
		"not json at all",
		"[\"status\"]",
		"\"status\"",
		"{}",
		"{\"cmd\":1}",
		"{\"cmd\":\"\"}",
		"{\"cmd\":\"Status\"}",
		"{\"cmd\":\"st atus\"}",
		"{\"cmd\":\"status;rm\"}",
		"{\"cmd\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",	/* 33 */
		"{\"cmd\":\"status\",\"args\":[]}",
		"{\"cmd\":\"status\",\"args\":\"x\"}",
		"{\"cmd\":\"status\",\"extra\":1}",
		"{\"cmd\":\"status\",\"cmd\":\"reload\"}",
		"{\"cmd\":\"status\"} {\"cmd\":\"reload\"}",
		"{\"cmd\":\"status\"",
		"{\"cmd\":\"sta\\u0000tus\"}",
	};
	struct ctl_req r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse(bad[i], &r);

		if (rc != -CTL_E_BAD_REQUEST)
			fail_msg("accepted or wrong code %d: %s", rc, bad[i]);
	}
}

static void
test_req_embedded_nul(void **state)
{
	static const char s[] = "{\"cmd\":\"status\"}\0{\"cmd\":\"reload\"}";
	struct ctl_req r;
	const char *why = NULL;

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(ctl_req_parse(s, sizeof(s) - 1, &r, &why),
	    -CTL_E_BAD_REQUEST);
}

static void
test_req_too_long(void **state)
{
	size_t n = CTL_LINE_MAX + 10;
	char *s = malloc(n);
	struct ctl_req r;
	const char *why = NULL;

	(void)state;
	assert_non_null(s);
	memset(s, ' ', n);
	memcpy(s, "{\"cmd\":\"status\"}", 16);
	assert_int_equal(ctl_req_parse(s, n, &r, &why), -CTL_E_TOO_LONG);
	/* just under the bound: fine (whitespace is JSON) */
	assert_int_equal(ctl_req_parse(s, CTL_LINE_MAX - 1, &r, &why), 0);
	ctl_req_clear(&r);
	free(s);
}

static void
test_req_format_roundtrip(void **state)
{
	json_t *a = json_pack("{s:s, s:i}", "key", "2001:db8::/48", "for_s",
	    3600);
	char *line = ctl_req_format("ban", a);
	struct ctl_req r;
	size_t n;

	(void)state;
	assert_non_null(line);
	n = strlen(line);
	assert_true(n > 0 && line[n - 1] == '\n');
	assert_null(memchr(line, '\n', n - 1));
	memset(&r, 0, sizeof(r));
	{
		const char *why;

		assert_int_equal(ctl_req_parse(line, n - 1, &r, &why), 0);
	}
	assert_string_equal(r.cmd, "ban");
	assert_true(json_equal(r.args, a));
	ctl_req_clear(&r);
	free(line);
	json_decref(a);

	line = ctl_req_format("status", NULL);
	assert_string_equal(line, "{\"cmd\":\"status\",\"args\":{}}\n");
	free(line);
}

static void
test_resp_roundtrip(void **state)
{
	json_t *res = json_pack("{s:i, s:s}", "ended", 2, "note",
	    "line\nbreak \xc3\xa9");
	json_t *got = NULL;
	char err[128];
	char *line = ctl_resp_ok(res);
	size_t n;

	(void)state;
	assert_non_null(line);
	n = strlen(line);
	/* a newline in a value never breaks the framing */
	assert_null(memchr(line, '\n', n - 1));
	assert_int_equal(ctl_resp_parse(line, n, &got, err, sizeof(err)), 0);
	assert_true(json_equal(got, res));
	json_decref(got);
	free(line);
	json_decref(res);

	line = ctl_resp_ok(NULL);
	assert_string_equal(line, "{\"ok\":true,\"result\":null}\n");
	assert_int_equal(ctl_resp_parse(line, strlen(line), &got, err,
	    sizeof(err)), 0);
	assert_true(json_is_null(got));
	json_decref(got);
	free(line);

	line = ctl_resp_err(CTL_E_NOT_FOUND, "no such ban");
	assert_string_equal(line,
	    "{\"ok\":false,\"error\":\"no such ban\",\"code\":404}\n");
	assert_int_equal(ctl_resp_parse(line, strlen(line), &got, err,
	    sizeof(err)), CTL_E_NOT_FOUND);
	assert_string_equal(err, "no such ban");
	free(line);

	assert_int_equal(ctl_resp_parse("garbage", 7, &got, err, sizeof(err)),
	    -1);
	assert_int_equal(ctl_resp_parse("{\"ok\":1}", 8, &got, err,
	    sizeof(err)), -1);
	/* a missing or silly code is still an error */
	assert_int_equal(ctl_resp_parse("{\"ok\":false,\"code\":99999}", 25,
	    &got, err, sizeof(err)), CTL_E_INTERNAL);
}

static void
test_args(void **state)
{
	json_t *a = json_pack("{s:s, s:s, s:s, s:b, s:i, s:i, s:i, s:s}",
	    "user", "alice", "empty", "", "ctl", "a\tb", "on", 1, "n", 42,
	    "neg", -1, "big", 1000, "long", "abcdef");
	const char *s = NULL;
	long long v = 0;

	(void)state;
	assert_int_equal(ctl_arg_str(a, "user", 16, &s), 0);
	assert_string_equal(s, "alice");
	assert_int_equal(ctl_arg_str(a, "none", 16, &s), -ENOENT);
	assert_int_equal(ctl_arg_str(a, "empty", 16, &s), -EINVAL);
	assert_int_equal(ctl_arg_str(a, "ctl", 16, &s), -EINVAL);
	assert_int_equal(ctl_arg_str(a, "n", 16, &s), -EINVAL);
	assert_int_equal(ctl_arg_str(a, "long", 5, &s), -EINVAL);
	assert_int_equal(ctl_arg_bool(a, "on"), 1);
	assert_int_equal(ctl_arg_bool(a, "none"), -ENOENT);
	assert_int_equal(ctl_arg_bool(a, "user"), -EINVAL);
	assert_int_equal(ctl_arg_uint(a, "n", 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(ctl_arg_uint(a, "neg", 100, &v), -EINVAL);
	assert_int_equal(ctl_arg_uint(a, "big", 100, &v), -EINVAL);
	assert_int_equal(ctl_arg_uint(a, "user", 100, &v), -EINVAL);
	assert_int_equal(ctl_arg_uint(a, "none", 100, &v), -ENOENT);
	json_decref(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_req_valid),
		cmocka_unit_test(test_req_refused),
		cmocka_unit_test(test_req_embedded_nul),
		cmocka_unit_test(test_req_too_long),
		cmocka_unit_test(test_req_format_roundtrip),
		cmocka_unit_test(test_resp_roundtrip),
		cmocka_unit_test(test_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
