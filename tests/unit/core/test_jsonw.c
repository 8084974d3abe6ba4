/*
 * Unit tests for src/core/jsonw.c: structure, escaping of hostile
 * bytes, the bound (never a byte past cap, sticky overflow), misuse.
 * Every document written here is parsed back with jansson.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/err.h"
#include "core/jsonw.h"

/* Parse s as JSON; fail the test with jansson's message if invalid. */
static json_t *
parse_ok(const char *s, size_t len)
{
	json_error_t e;
	json_t *j = json_loadb(s, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);

	if (j == NULL)
		fail_msg("invalid JSON (%s at %d): %.*s", e.text, e.position,
		    (int)len, s);
	return j;
}

/* Write one string value, return the document (static buffer). */
static const char *
one_string(const void *p, size_t n, ssize_t *ret_len)
{
	static char buf[65536];
	struct jsonw w;

	jsonw_init(&w, buf, sizeof(buf));
	jsonw_strn(&w, p, n);
	*ret_len = jsonw_finish(&w);
	assert_true(*ret_len > 0);
	return buf;
}

static void
write_sample_doc(struct jsonw *w)
{
	jsonw_obj_begin(w);
	jsonw_kv_int(w, "i", -42);
	jsonw_kv_uint(w, "u", 4294967296ULL);
	jsonw_kv_int(w, "min", LLONG_MIN);
	jsonw_kv_bool(w, "t", 1);
	jsonw_kv_bool(w, "f", 0);
	jsonw_kv_null(w, "n");
	jsonw_kv_str(w, "s", "hello");
	jsonw_kv_str(w, "null_str", NULL);
	jsonw_key(w, "a");
	jsonw_arr_begin(w);
	jsonw_int(w, 1);
	jsonw_str(w, "two");
	jsonw_obj_begin(w);
	jsonw_obj_end(w);
	jsonw_arr_begin(w);
	jsonw_arr_end(w);
	jsonw_null(w);
	jsonw_arr_end(w);
	jsonw_key(w, "o");
	jsonw_obj_begin(w);
	jsonw_kv_strn(w, "k", "x\"y", 3);
	jsonw_obj_end(w);
	jsonw_obj_end(w);
}

static void
test_structure_roundtrip(void **state)
{
	char buf[1024];
	struct jsonw w;
	ssize_t n;
	json_t *j, *a;

	(void)state;
	jsonw_init(&w, buf, sizeof(buf));
	write_sample_doc(&w);
	n = jsonw_finish(&w);
	assert_true(n > 0);
	assert_int_equal(strlen(buf), (size_t)n);
	j = parse_ok(buf, (size_t)n);
	assert_int_equal(json_integer_value(json_object_get(j, "i")), -42);
	assert_int_equal(json_integer_value(json_object_get(j, "min")),
	    LLONG_MIN);
	assert_true(json_is_true(json_object_get(j, "t")));
	assert_true(json_is_false(json_object_get(j, "f")));
	assert_true(json_is_null(json_object_get(j, "n")));
	assert_true(json_is_null(json_object_get(j, "null_str")));
	assert_string_equal(json_string_value(json_object_get(j, "s")), "hello");
	a = json_object_get(j, "a");
	assert_int_equal(json_array_size(a), 5);
	assert_string_equal(json_string_value(json_array_get(a, 1)), "two");
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(j, "o"), "k")), "x\"y");
	assert_int_equal(json_integer_value(json_object_get(j, "u")),
	    4294967296LL);
	json_decref(j);

	/* jansson has no unsigned 64-bit: check the text */
	jsonw_init(&w, buf, sizeof(buf));
	jsonw_uint(&w, ULLONG_MAX);
	assert_int_equal(jsonw_finish(&w), 20);
	assert_string_equal(buf, "18446744073709551615");
}

static void
test_escape_exact(void **state)
{
	static const struct {
		const char	*in;
		size_t		 len;
		const char	*out;
	} cases[] = {
		{ "plain", 5, "\"plain\"" },
		{ "q\"b\\s/", 6, "\"q\\\"b\\\\s/\"" },
		{ "\b\f\n\r\t", 5, "\"\\b\\f\\n\\r\\t\"" },
		{ "a\0b", 3, "\"a\\u0000b\"" },
		{ "\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\"" },
		{ "\xff", 1, "\"\\u00ff\"" },
		{ "\xc3\xa9t\xc3\xa9", 5, "\"\xc3\xa9t\xc3\xa9\"" },	/* été */
		{ "\xe2\x82\xac", 3, "\"\xe2\x82\xac\"" },		/* € */
		{ "\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\"" },	/* emoji */
		{ "\xc0\x80", 2, "\"\\u00c0\\u0080\"" },		/* overlong NUL */
		{ "\xe0\x80\xaf", 3, "\"\\u00e0\\u0080\\u00af\"" },	/* overlong / */
		{ "\xed\xa0\x80", 3, "\"\\u00ed\\u00a0\\u0080\"" },	/* surrogate */
		{ "\xf4\x90\x80\x80", 4,
		    "\"\\u00f4\\u0090\\u0080\\u0080\"" },		/* > U+10FFFF */
		{ "\xf5", 1, "\"\\u00f5\"" },
		{ "\xe2\x82", 2, "\"\\u00e2\\u0082\"" },		/* cut € */
		{ "\x80x", 2, "\"\\u0080x\"" },			/* lone cont */
		{ "\xc2\x85", 2, "\"\\u0085\"" },			/* C1 NEL */
		{ "\xc2\x9b", 2, "\"\\u009b\"" },			/* C1 CSI */
		{ "\xc2\xa0", 2, "\"\xc2\xa0\"" },			/* NBSP ok */
		{ "\xe2\x80\xa8", 3, "\"\\u2028\"" },
		{ "\xe2\x80\xa9", 3, "\"\\u2029\"" },
		{ "\xe2\x80\xae", 3, "\"\\u202e\"" },			/* RLO */
		{ "\xe2\x81\xa6", 3, "\"\\u2066\"" },
		{ "\xe2\x81\xa9", 3, "\"\\u2069\"" },
		{ "\xe2\x80\xa7", 3, "\"\xe2\x80\xa7\"" },		/* U+2027 ok */
	};
	ssize_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *out = one_string(cases[i].in, cases[i].len, &n);

		if (strcmp(out, cases[i].out) != 0)
			fail_msg("case %zu: got %s want %s", i, out,
			    cases[i].out);
		json_decref(parse_ok(out, (size_t)n));
	}
}

static void
test_escape_decodes_back(void **state)
{
	ssize_t n;
	const char *out;
	json_t *j;

	(void)state;
	/* invalid bytes come back as U+00XX, NUL survives */
	out = one_string("a\0\xff", 3, &n);
	j = parse_ok(out, (size_t)n);
	assert_int_equal(json_string_length(j), 1 + 1 + 2);
	assert_memory_equal(json_string_value(j), "a\0\xc3\xbf", 4);
	json_decref(j);
}

/* Random bytes, biased to the interesting ones: always valid JSON. */
static void
test_escape_random(void **state)
{
	static const uint8_t pool[] = { 0x00, 0x01, 0x1f, ' ', '"', '\\',
	    'a', 0x7f, 0x80, 0x9f, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xe2, 0xed,
	    0xef, 0xf0, 0xf4, 0xf5, 0xff, 0xa0, 0x81, 0xa8 };
	uint8_t in[64];
	unsigned seed = 12345;
	ssize_t n;

	(void)state;
	for (int iter = 0; iter < 20000; iter++) {
		size_t len = (size_t)(rand_r(&seed) % sizeof(in));

		for (size_t i = 0; i < len; i++)
			in[i] = (iter & 1) ? (uint8_t)rand_r(&seed) :
			    pool[rand_r(&seed) % sizeof(pool)];
		const char *out = one_string(in, len, &n);

		json_decref(parse_ok(out, (size_t)n));
	}
}

static void
test_bound_every_cap(void **state)
{
	char ref[1024], buf[1024 + 16];
	struct jsonw w;
	ssize_t full, n;

	(void)state;
	jsonw_init(&w, ref, sizeof(ref));
	write_sample_doc(&w);
	full = jsonw_finish(&w);
	assert_true(full > 0);

	for (size_t cap = 0; cap <= (size_t)full + 1; cap++) {
		memset(buf, 'Z', sizeof(buf));
		jsonw_init(&w, buf, cap);
		write_sample_doc(&w);
		n = jsonw_finish(&w);
		/* nothing past cap, ever */
		for (size_t i = cap; i < sizeof(buf); i++)
			assert_int_equal(buf[i], 'Z');
		if (cap <= (size_t)full) {
			assert_int_equal(n, -SBC_ELIMIT);
			assert_int_equal(w.err, JSONW_EOVERFLOW);
			if (cap > 0)	/* still a C string */
				assert_non_null(memchr(buf, '\0', cap));
		} else {
			assert_int_equal(n, full);
			assert_string_equal(buf, ref);
		}
	}
}

static void
test_overflow_is_sticky(void **state)
{
	char buf[8];
	struct jsonw w;

	(void)state;
	jsonw_init(&w, buf, sizeof(buf));
	jsonw_arr_begin(&w);
	jsonw_str(&w, "this does not fit");
	assert_int_equal(w.err, JSONW_EOVERFLOW);
	/* a small value would fit now, but the error sticks */
	jsonw_int(&w, 1);
	jsonw_arr_end(&w);
	assert_int_equal(jsonw_finish(&w), -SBC_ELIMIT);
	assert_true(strlen(buf) < sizeof(buf));
}

static void
test_misuse(void **state)
{
	char buf[256];
	struct jsonw w;

	(void)state;
	/* value without a key */
	jsonw_init(&w, buf, sizeof(buf));
	jsonw_obj_begin(&w);
	jsonw_int(&w, 1);
	jsonw_obj_end(&w);
	assert_int_equal(jsonw_finish(&w), -EINVAL);
	/* key inside an array */
	jsonw_init(&w, buf, sizeof(buf));
	jsonw_arr_begin(&w);
	jsonw_key(&w, "k");
	jsonw_arr_end(&w);
	assert_int_equal(jsonw_finish(&w), -EINVAL);
	/* key without a value */
	jsonw_init(&w, buf, sizeof(buf));
	jsonw_obj_begin(&w);
	jsonw_key(&w, "k");
	jsonw_obj_end(&w);
	assert_int_equal(jsonw_finish(&w), -EINVAL);
	/* mismatched close */
	jsonw_init(&w, buf, sizeof(buf));
	jsonw_obj_begin(&w);
	jsonw_arr_end(&w);
	assert_int_equal(jsonw_finish(&w), -EINVAL);
	/* unclosed */
	jsonw_init(&w, buf, sizeof(buf));
	jsonw_arr_begin(&w);
	assert_int_equal(jsonw_finish(&w), -EINVAL);
	/* close at top level */
	jsonw_init(&w, buf, sizeof(buf));
	jsonw_obj_end(&w);
	assert_int_equal(jsonw_finish(&w), -EINVAL);
	/* two top-level values */
	jsonw_init(&w, buf, sizeof(buf));
	jsonw_int(&w, 1);
	jsonw_int(&w, 2);
	assert_int_equal(jsonw_finish(&w), -EINVAL);
	/* nothing written */
	jsonw_init(&w, buf, sizeof(buf));
	assert_int_equal(jsonw_finish(&w), -EINVAL);
	/* tail before the value is complete */
	jsonw_init(&w, buf, sizeof(buf));
	jsonw_obj_begin(&w);
	jsonw_raw_tail(&w, "\n", 1);
	assert_int_equal(jsonw_finish(&w), -EINVAL);
	/* NULL key */
	jsonw_init(&w, buf, sizeof(buf));
	jsonw_obj_begin(&w);
	jsonw_key(&w, NULL);
	assert_int_equal(jsonw_finish(&w), -EINVAL);
}

static void
test_depth_limit(void **state)
{
	char buf[256];
	struct jsonw w;
	ssize_t n;

	(void)state;
	jsonw_init(&w, buf, sizeof(buf));
	for (int i = 0; i < JSONW_MAX_DEPTH; i++)
		jsonw_arr_begin(&w);
	for (int i = 0; i < JSONW_MAX_DEPTH; i++)
		jsonw_arr_end(&w);
	n = jsonw_finish(&w);
	assert_int_equal(n, 2 * JSONW_MAX_DEPTH);
	json_decref(parse_ok(buf, (size_t)n));

	jsonw_init(&w, buf, sizeof(buf));
	for (int i = 0; i <= JSONW_MAX_DEPTH; i++)
		jsonw_arr_begin(&w);
	assert_int_equal(w.err, JSONW_ESTATE);
	assert_int_equal(jsonw_finish(&w), -EINVAL);
}

static void
test_raw_tail(void **state)
{
	char buf[64];
	struct jsonw w;

	(void)state;
	jsonw_init(&w, buf, sizeof(buf));
	jsonw_obj_begin(&w);
	jsonw_kv_int(&w, "a", 1);
	jsonw_obj_end(&w);
	jsonw_raw_tail(&w, "\n", 1);
	assert_int_equal(jsonw_finish(&w), 8);
	assert_string_equal(buf, "{\"a\":1}\n");
}

static void
test_truncation(void **state)
{
	char big[1000], buf[4096];
	struct jsonw w;
	ssize_t n;
	json_t *j;

	(void)state;
	memset(big, 'x', sizeof(big));
	jsonw_init(&w, buf, sizeof(buf));
	assert_int_equal(jsonw_strn_trunc(&w, big, sizeof(big), 10), 1);
	n = jsonw_finish(&w);
	assert_string_equal(buf, "\"xxxxxxxxxx...\"");
	assert_int_equal(n, 15);

	/* short strings are untouched */
	jsonw_init(&w, buf, sizeof(buf));
	assert_int_equal(jsonw_strn_trunc(&w, "abc", 3, 3), 0);
	assert_string_equal(buf, "\"abc\"");

	/* never cut a UTF-8 character: "aé€" cut at 4 bytes keeps "aé" */
	jsonw_init(&w, buf, sizeof(buf));
	jsonw_strn_trunc(&w, "a\xc3\xa9\xe2\x82\xac", 6, 4);
	n = jsonw_finish(&w);
	assert_string_equal(buf, "\"a\xc3\xa9...\"");
	j = parse_ok(buf, (size_t)n);
	json_decref(j);

	/* invalid bytes count one each */
	jsonw_init(&w, buf, sizeof(buf));
	jsonw_strn_trunc(&w, "\xff\xff\xff", 3, 2);
	assert_string_equal(buf, "\"\\u00ff\\u00ff...\"");
}

static void
test_utf8_helpers(void **state)
{
	(void)state;
	assert_int_equal(utf8_seq_len((const uint8_t *)"a", 1), 1);
	assert_int_equal(utf8_seq_len((const uint8_t *)"\xc3\xa9", 2), 2);
	assert_int_equal(utf8_seq_len((const uint8_t *)"\xc3\xa9", 1), 0);
	assert_int_equal(utf8_seq_len((const uint8_t *)"\xc1\xbf", 2), 0);
	assert_int_equal(utf8_seq_len((const uint8_t *)"\xef\xbf\xbf", 3), 3);
	assert_int_equal(utf8_seq_len((const uint8_t *)"\xf4\x8f\xbf\xbf", 4),
	    4);
	assert_int_equal(utf8_seq_len((const uint8_t *)"", 0), 0);
	assert_int_equal(utf8_cut((const uint8_t *)"ab\xe2\x82\xac", 5, 4), 2);
	assert_int_equal(utf8_cut((const uint8_t *)"ab\xe2\x82\xac", 5, 5), 5);
	assert_int_equal(utf8_cut((const uint8_t *)"abc", 3, 10), 3);
}

static void
test_keys_are_escaped(void **state)
{
	char buf[128];
	struct jsonw w;
	ssize_t n;
	json_t *j;

	(void)state;
	jsonw_init(&w, buf, sizeof(buf));
	jsonw_obj_begin(&w);
	jsonw_kv_int(&w, "a\"b\n", 1);
	jsonw_obj_end(&w);
	n = jsonw_finish(&w);
	assert_true(n > 0);
	j = parse_ok(buf, (size_t)n);
	assert_int_equal(json_integer_value(json_object_get(j, "a\"b\n")), 1);
	json_decref(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_structure_roundtrip),
		cmocka_unit_test(test_escape_exact),
		cmocka_unit_test(test_escape_decodes_back),
		cmocka_unit_test(test_escape_random),
		cmocka_unit_test(test_bound_every_cap),
		cmocka_unit_test(test_overflow_is_sticky),
		cmocka_unit_test(test_misuse),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_raw_tail),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_utf8_helpers),
		cmocka_unit_test(test_keys_are_escaped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
