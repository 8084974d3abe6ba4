/*
 * Unit tests for src/obs/secevent.c: the taxonomy's invariants, the JSON
 * form of every type (parsed back with jansson), hostile wire bytes,
 * bounds, credential redaction of samples, extra fields.
 */
#include <errno.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/err.h"
#include "obs/secevent.h"

static char line[SECEVENT_LINE_MAX];

/* Format ev, check it is exactly one JSON line, return the object. */
static json_t *
format_parse(const struct secevent *ev, const char *node)
{
	json_error_t e;
	json_t *j;
	int n;

	n = secevent_format(ev, node, line, sizeof(line));
	if (n <= 0)
		fail_msg("secevent_format: %d", n);
	assert_int_equal(strlen(line), (size_t)n);
	assert_int_equal(line[n - 1], '\n');
	/* one line: no raw newline or CR anywhere else */
	assert_null(memchr(line, '\n', (size_t)n - 1));
	assert_null(memchr(line, '\r', (size_t)n));
	j = json_loadb(line, (size_t)n, JSON_ALLOW_NUL, &e);
	if (j == NULL)
		fail_msg("invalid JSON (%s at %d): %s", e.text, e.position, line);
	assert_true(json_is_object(j));
	return j;
}

static const char *
jstr(json_t *j, const char *k)
{
	json_t *v = json_object_get(j, k);

	if (!json_is_string(v))
		fail_msg("field %s missing or not a string in %s", k, line);
	return json_string_value(v);
}

static long long
jint(json_t *j, const char *k)
{
	json_t *v = json_object_get(j, k);

	if (!json_is_integer(v))
		fail_msg("field %s missing or not an integer in %s", k, line);
	return json_integer_value(v);
}

static void
test_taxonomy_invariants(void **state)
{
	regex_t re;

	(void)state;
	assert_int_equal(regcomp(&re, "^[a-z]+(_[a-z]+)*\\.[a-z]+(_[a-z]+)*$",
	    REG_EXTENDED | REG_NOSUB), 0);
	for (int t = 0; t < SECEV_TYPE_MAX; t++) {
		const struct secevent_info *in = secevent_info(t);

		assert_non_null(in);
		assert_int_equal(in->type, t);
		assert_non_null(in->name);
		if (regexec(&re, in->name, 0, NULL, 0) != 0)
			fail_msg("bad type name %s", in->name);
		assert_true(strlen(in->name) <= 32);	/* RFC 5424 MSGID */
		assert_true(in->sev >= 0 && in->sev <= 7);
		/* the hundred of the ID is the class */
		assert_int_equal(in->id / 100, (int)in->cls);
		assert_true(in->id >= 100 && in->id <= 899);
		for (int u = 0; u < t; u++) {
			const struct secevent_info *o = secevent_info(u);

			if (o->id == in->id || strcmp(o->name, in->name) == 0)
				fail_msg("duplicate %d %s", in->id, in->name);
			/* IDs ascend with the enum: new types go at the end
			 * of their class, never renumbered */
			assert_true(o->id < in->id);
		}
		assert_int_equal(secevent_type_lookup(in->name), t);
		assert_int_equal(secevent_type_by_id(in->id), t);
		assert_string_equal(secevent_type_name(t), in->name);
		assert_int_equal(secevent_type_id(t), in->id);
		assert_int_equal(secevent_type_sev(t), in->sev);
		assert_string_not_equal(secevent_class_name(in->cls), "unknown");
	}
	regfree(&re);
	assert_int_equal(secevent_type_lookup("no.such"), SECEV_TYPE_MAX);
	assert_int_equal(secevent_type_lookup(NULL), SECEV_TYPE_MAX);
	assert_int_equal(secevent_type_by_id(999), SECEV_TYPE_MAX);
	assert_null(secevent_info(SECEV_TYPE_MAX));
	assert_int_equal(secevent_type_id(SECEV_TYPE_MAX), -1);
	assert_string_equal(secevent_sev_name(LOG_WARNING), "warning");
	assert_string_equal(secevent_sev_name(LOG_ERR), "err");
	assert_string_equal(secevent_sev_name(9), "unknown");
}

/* The catalogue names from DESIGN.md OBS1 exist with these IDs. */
static void
test_catalogue_ids(void **state)
{
	static const struct { const char *name; int id; } want[] = {
		{ "sip.malformed", 100 }, { "sip.oversized", 101 },
		{ "transport.error", 110 }, { "transport.conn_limit", 111 },
		{ "auth.ok", 200 }, { "auth.failed", 202 },
		{ "auth.unknown_account", 203 }, { "acl.denied", 300 },
		{ "rate.limited", 310 }, { "ban.added", 320 },
		{ "ban.removed", 321 }, { "scanner.detected", 330 },
		{ "account.locked", 340 }, { "call.attempt", 400 },
		{ "call.blocked", 401 }, { "call.answered", 402 },
		{ "call.ended", 403 }, { "diversion.refused", 420 },
		{ "media.timeout", 500 }, { "media.one_way", 501 },
		{ "media.foreign_source", 502 }, { "srtp.auth_failed", 510 },
		{ "srtp.fallback", 512 }, { "tls.handshake_failed", 600 },
		{ "config.changed", 701 }, { "admin.action", 710 },
		{ "alert.raised", 800 }, { "events.suppressed", 890 },
		{ "events.dropped", 891 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		enum secevent_type t = secevent_type_lookup(want[i].name);

		if (t == SECEV_TYPE_MAX)
			fail_msg("missing type %s", want[i].name);
		assert_int_equal(secevent_type_id(t), want[i].id);
	}
}

static void
test_every_type_full(void **state)
{
	union sw_addr src;
	struct secevent_counter ctr[2] = { { "auth_failed", 12 },
	    { "sip.malformed", 3 } };
	struct secevent ev;
	json_t *j;

	(void)state;
	assert_int_equal(sw_addr_parse("192.0.2.1", 5060, &src), 0);
	for (int t = 0; t < SECEV_TYPE_MAX; t++) {
		const struct secevent_info *in = secevent_info(t);

		secevent_init(&ev, t);
		ev.ts.tv_sec = 1795713933;	/* 2026-11-26T17:25:33Z */
		ev.ts.tv_nsec = 123456789;
		ev.src = &src;
		ev.transport = "udp";
		ev.listener = "udp:127.0.0.1:5060";
		ev.zone = "internet";
		ev.reason = "Bad CSeq";
		ev.status = 400;
		ev.method = SLICE_LIT("INVITE");
		ev.call_id = SLICE_LIT("abc@192.0.2.1");
		ev.account = SLICE_LIT("1001");
		ev.user_agent = SLICE_LIT("friendly-scanner");
		ev.sample = SLICE_LIT("INVITE sip:1001@x SIP/2.0\r\n");
		ev.detail = "free text";
		ev.suppressed = 7;
		ev.counters = ctr;
		ev.ncounters = 2;
		assert_int_equal(secevent_add_str(&ev, "to", "+4930123"), 0);
		assert_int_equal(secevent_add_int(&ev, "duration_s", 300), 0);
		j = format_parse(&ev, "edge-1");
		assert_int_equal(jint(j, "v"), 1);
		assert_string_equal(jstr(j, "ts"), "2026-11-26T17:25:33.123Z");
		assert_int_equal(jint(j, "id"), in->id);
		assert_string_equal(jstr(j, "type"), in->name);
		assert_string_equal(jstr(j, "class"),
		    secevent_class_name(in->cls));
		assert_string_equal(jstr(j, "sev"), secevent_sev_name(in->sev));
		assert_string_equal(jstr(j, "node"), "edge-1");
		assert_string_equal(jstr(j, "src"), "192.0.2.1");
		assert_int_equal(jint(j, "sport"), 5060);
		assert_string_equal(jstr(j, "transport"), "udp");
		assert_string_equal(jstr(j, "listener"), "udp:127.0.0.1:5060");
		assert_string_equal(jstr(j, "zone"), "internet");
		assert_string_equal(jstr(j, "reason"), "Bad CSeq");
		assert_int_equal(jint(j, "status"), 400);
		assert_string_equal(jstr(j, "method"), "INVITE");
		assert_string_equal(jstr(j, "call_id"), "abc@192.0.2.1");
		assert_string_equal(jstr(j, "account"), "1001");
		assert_string_equal(jstr(j, "user_agent"), "friendly-scanner");
		assert_string_equal(jstr(j, "sample"),
		    "INVITE sip:1001@x SIP/2.0\r\n");
		assert_string_equal(jstr(j, "detail"), "free text");
		assert_int_equal(jint(j, "suppressed"), 7);
		assert_int_equal(jint(json_object_get(j, "counters"),
		    "auth_failed"), 12);
		assert_int_equal(jint(json_object_get(j, "counters"),
		    "sip.malformed"), 3);
		assert_string_equal(jstr(j, "to"), "+4930123");
		assert_int_equal(jint(j, "duration_s"), 300);
		assert_null(json_object_get(j, "truncated"));
		/* the fixed prefix other tools may rely on */
		assert_memory_equal(line, "{\"v\":1,\"ts\":\"", 13);
		json_decref(j);
	}
}

static void
test_minimal_event(void **state)
{
	struct secevent ev;
	json_t *j;

	(void)state;
	secevent_init(&ev, SECEV_CONFIG_CHANGED);
	j = format_parse(&ev, NULL);
	/* only the mandatory fields; ts is "now" */
	assert_int_equal(json_object_size(j), 6);
	assert_int_equal(jint(j, "id"), 701);
	assert_int_equal(strlen(jstr(j, "ts")), 24);
	assert_null(json_object_get(j, "src"));
	assert_null(json_object_get(j, "status"));
	json_decref(j);

	/* a present but empty slice is written as "" */
	ev.account = slice_make("", 0);
	j = format_parse(&ev, NULL);
	assert_string_equal(jstr(j, "account"), "");
	json_decref(j);
}

static void
test_ipv6_source(void **state)
{
	union sw_addr src;
	struct secevent ev;
	json_t *j;

	(void)state;
	assert_int_equal(sw_addr_parse("2001:db8::1", 5061, &src), 0);
	secevent_init(&ev, SECEV_TLS_HANDSHAKE_FAILED);
	ev.src = &src;
	ev.transport = "tls";
	j = format_parse(&ev, "n");
	assert_string_equal(jstr(j, "src"), "2001:db8::1");
	assert_int_equal(jint(j, "sport"), 5061);
	json_decref(j);
}

static void
test_hostile_bytes(void **state)
{
	static const char ua[] = "evil\"ua\\\n{\"type\":\"auth.ok\"}\r\0\xff\x1b[2J";
	struct secevent ev;
	json_t *j;
	const char *s;

	(void)state;
	secevent_init(&ev, SECEV_SCANNER_DETECTED);
	ev.user_agent = slice_make(ua, sizeof(ua) - 1);
	ev.call_id = slice_make("\n\n\n", 3);
	ev.method = slice_make("\xc0\xaf", 2);
	ev.detail = "a\tb";
	j = format_parse(&ev, "node\"x");
	/* the injected type did not take */
	assert_string_equal(jstr(j, "type"), "scanner.detected");
	s = json_string_value(json_object_get(j, "user_agent"));
	assert_int_equal(json_string_length(json_object_get(j, "user_agent")),
	    sizeof(ua) - 1 + 1);	/* 0xff became U+00FF: 2 bytes */
	assert_memory_equal(s, "evil\"ua\\\n{\"type\":\"auth.ok\"}\r\0\xc3\xbf\x1b[2J",
	    sizeof(ua));
	assert_string_equal(jstr(j, "call_id"), "\n\n\n");
	assert_string_equal(jstr(j, "node"), "node\"x");
	/* escape forms on the wire */
	assert_non_null(strstr(line, "\\u0000\\u00ff\\u001b[2J"));
	assert_non_null(strstr(line, "\"method\":\"\\u00c0\\u00af\""));
	json_decref(j);
}

static void
test_long_strings_truncated(void **state)
{
	static char big[100000];
	struct secevent ev;
	json_t *j;

	(void)state;
	memset(big, 'A', sizeof(big) - 1);
	secevent_init(&ev, SECEV_SIP_OVERSIZED);
	ev.user_agent = slice_make(big, sizeof(big) - 1);
	ev.call_id = slice_make(big, sizeof(big) - 1);
	ev.account = slice_make(big, sizeof(big) - 1);
	ev.method = slice_make(big, sizeof(big) - 1);
	ev.sample = slice_make(big, sizeof(big) - 1);
	ev.detail = big;
	ev.reason = big;
	ev.listener = big;
	ev.zone = big;
	ev.transport = big;
	secevent_add_slice(&ev, "hdr", slice_make(big, sizeof(big) - 1));
	j = format_parse(&ev, big);
	assert_int_equal(strlen(jstr(j, "user_agent")), SECEVENT_MAX_UA + 3);
	assert_int_equal(strlen(jstr(j, "call_id")), SECEVENT_MAX_CALL_ID + 3);
	assert_int_equal(strlen(jstr(j, "account")), SECEVENT_MAX_ACCOUNT + 3);
	assert_int_equal(strlen(jstr(j, "method")), SECEVENT_MAX_METHOD + 3);
	assert_int_equal(strlen(jstr(j, "sample")), SECEVENT_MAX_SAMPLE + 3);
	assert_int_equal(strlen(jstr(j, "detail")), SECEVENT_MAX_DETAIL + 3);
	assert_int_equal(strlen(jstr(j, "reason")), SECEVENT_MAX_REASON + 3);
	assert_int_equal(strlen(jstr(j, "node")), SECEVENT_MAX_NODE + 3);
	assert_int_equal(strlen(jstr(j, "hdr")), SECEVENT_MAX_KV_STR + 3);
	assert_string_equal(jstr(j, "user_agent") + SECEVENT_MAX_UA, "...");
	json_decref(j);
}

/*
 * Every bounded field at its limit and every byte escaped six-fold:
 * still fits SECEVENT_LINE_MAX without dropping anything.
 */
static void
test_worst_case_fits(void **state)
{
	static char ctl[4096];
	static const char *keys[SECEVENT_MAX_KV] = { "k_aaaaaaaaaaaaaaaaaaaaaaaaaaaaa1",
	    "k_aaaaaaaaaaaaaaaaaaaaaaaaaaaaa2", "k_aaaaaaaaaaaaaaaaaaaaaaaaaaaaa3",
	    "k_aaaaaaaaaaaaaaaaaaaaaaaaaaaaa4", "k_aaaaaaaaaaaaaaaaaaaaaaaaaaaaa5",
	    "k_aaaaaaaaaaaaaaaaaaaaaaaaaaaaa6", "k_aaaaaaaaaaaaaaaaaaaaaaaaaaaaa7",
	    "k_aaaaaaaaaaaaaaaaaaaaaaaaaaaaa8" };
	union sw_addr src;
	struct secevent ev;
	json_t *j;
	struct slice s;

	(void)state;
	memset(ctl, 0x01, sizeof(ctl) - 1);
	s = slice_make(ctl, sizeof(ctl) - 1);
	assert_int_equal(sw_addr_parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	    65535, &src), 0);
	secevent_init(&ev, SECEV_AUTH_UNKNOWN_ACCOUNT);
	ev.src = &src;
	ev.transport = ev.listener = ev.zone = ev.reason = ev.detail = ctl;
	ev.status = 999;
	ev.method = ev.call_id = ev.account = ev.user_agent = ev.sample = s;
	ev.suppressed = UINT64_MAX;	/* written as INT64_MAX */
	for (int i = 0; i < SECEVENT_MAX_KV; i++)
		assert_int_equal(secevent_add_slice(&ev, keys[i], s), 0);
	j = format_parse(&ev, ctl);
	assert_null(json_object_get(j, "truncated"));
	assert_non_null(json_object_get(j, keys[SECEVENT_MAX_KV - 1]));
	json_decref(j);
}

static void
test_lean_fallback(void **state)
{
	static char big[300];
	char small[700];
	struct secevent ev;
	json_error_t e;
	json_t *j;
	int n;

	(void)state;
	memset(big, 0x02, sizeof(big) - 1);
	secevent_init(&ev, SECEV_SIP_MALFORMED);
	ev.reason = "Bad CSeq";
	ev.sample = slice_make(big, sizeof(big) - 1);
	ev.detail = big;
	/* the full event needs ~3.5 KB; 700 bytes hold the lean one */
	n = secevent_format(&ev, "edge-1", small, sizeof(small));
	assert_true(n > 0);
	j = json_loadb(small, (size_t)n, 0, &e);
	assert_non_null(j);
	assert_true(json_is_true(json_object_get(j, "truncated")));
	assert_null(json_object_get(j, "sample"));
	assert_null(json_object_get(j, "detail"));
	assert_string_equal(json_string_value(json_object_get(j, "reason")),
	    "Bad CSeq");
	json_decref(j);

	/* too small for anything */
	n = secevent_format(&ev, "edge-1", small, 40);
	assert_int_equal(n, -SBC_ELIMIT);
	assert_string_equal(small, "");
	/* unknown type */
	ev.type = SECEV_TYPE_MAX;
	assert_int_equal(secevent_format(&ev, NULL, small, sizeof(small)),
	    -EINVAL);
}

static void
test_kv_rules(void **state)
{
	struct secevent ev;
	json_t *j;

	(void)state;
	secevent_init(&ev, SECEV_BAN_ADDED);
	assert_int_equal(secevent_add_str(&ev, "type", "x"), -EINVAL);
	assert_int_equal(secevent_add_str(&ev, "src", "x"), -EINVAL);
	assert_int_equal(secevent_add_str(&ev, "Bad", "x"), -EINVAL);
	assert_int_equal(secevent_add_str(&ev, "1abc", "x"), -EINVAL);
	assert_int_equal(secevent_add_str(&ev, "a-b", "x"), -EINVAL);
	assert_int_equal(secevent_add_str(&ev, "", "x"), -EINVAL);
	assert_int_equal(secevent_add_str(&ev, NULL, "x"), -EINVAL);
	assert_int_equal(secevent_add_str(&ev,
	    "a23456789012345678901234567890123", "x"), -EINVAL);
	assert_int_equal(secevent_add_str(&ev,
	    "a2345678901234567890123456789012", "x"), 0);
	for (int i = 1; i < SECEVENT_MAX_KV; i++)
		assert_int_equal(secevent_add_int(&ev, "until", i), 0);
	assert_int_equal(secevent_add_int(&ev, "strikes", 1), -SBC_EFULL);
	assert_int_equal(ev.nkv, SECEVENT_MAX_KV);
	/* a key filled in by hand that breaks the rules is skipped */
	ev.kv[2].k = "reason";
	ev.kv[3].k = "has space";
	/* NULL string value is null */
	ev.kv[4] = (struct secevent_kv){ .k = "null_value" };
	j = format_parse(&ev, NULL);
	/* duplicates are written once (the first) */
	assert_int_equal(jint(j, "until"), 1);
	assert_null(json_object_get(j, "has space"));
	assert_null(json_object_get(j, "reason"));
	assert_true(json_is_null(json_object_get(j, "null_value")));
	assert_string_equal(jstr(j, "a2345678901234567890123456789012"), "x");
	json_decref(j);
}

static void
test_counter_rules(void **state)
{
	struct secevent_counter ctr[] = { { "ok.key_1", 1 }, { "Bad", 2 },
	    { "", 3 }, { NULL, 4 }, { "ok.key_1", 5 }, { "max", UINT64_MAX } };
	struct secevent ev;
	json_t *j, *c;

	(void)state;
	secevent_init(&ev, SECEV_EVENTS_SUPPRESSED);
	ev.counters = ctr;
	ev.ncounters = sizeof(ctr) / sizeof(ctr[0]);
	j = format_parse(&ev, NULL);
	c = json_object_get(j, "counters");
	assert_int_equal(json_object_size(c), 2);
	assert_int_equal(jint(c, "ok.key_1"), 1);
	/* clamped to what every JSON reader takes */
	assert_int_equal(jint(c, "max"), INT64_MAX);
	json_decref(j);
}

/* Redaction: nothing secret survives, the rest does. */
static const char *
redact_str(const char *in, size_t len)
{
	static char out[2 * SECEVENT_MAX_SAMPLE + 1];
	size_t n = secevent_redact(slice_make(in, len), (uint8_t *)out,
	    sizeof(out) - 1);

	out[n] = '\0';
	return out;
}

static void
test_redact_digest(void **state)
{
	static const char msg[] =
	    "REGISTER sip:example.com SIP/2.0\r\n"
	    "Authorization: Digest username=\"1001\", realm=\"example.com\", "
	    "nonce=\"abc123secret\", uri=\"sip:example.com\", "
	    "response=\"d41d8cd98f00b204e9800998ecf8427e\", algorithm=MD5, "
	    "cnonce=\"0a4f113b\", qop=auth, nc=00000001\r\n\r\n";
	const char *r;

	(void)state;
	r = redact_str(msg, sizeof(msg) - 1);
	assert_null(strstr(r, "abc123secret"));
	assert_null(strstr(r, "d41d8cd98f00b204e9800998ecf8427e"));
	assert_null(strstr(r, "0a4f113b"));
	assert_non_null(strstr(r, "nonce=\"***\""));
	assert_non_null(strstr(r, "response=\"***\""));
	assert_non_null(strstr(r, "cnonce=\"***\""));
	/* evidence that is not secret is kept */
	assert_non_null(strstr(r, "username=\"1001\""));
	assert_non_null(strstr(r, "realm=\"example.com\""));
	assert_non_null(strstr(r, "nc=00000001"));
}

static void
test_redact_variants(void **state)
{
	static const struct { const char *in, *out; } cases[] = {
		/* token values, odd case, spaces around '=' */
		{ "Proxy-Authorization: Digest RESPONSE = abcdef,NONCE=xyz\r\n",
		  "Proxy-Authorization: Digest RESPONSE = ***,NONCE=***\r\n" },
		/* escaped quote inside a quoted value */
		{ "response=\"a\\\"b\", x=1", "response=\"***\", x=1" },
		/* unterminated quoted value runs to the end */
		{ "nonce=\"abcdef", "nonce=\"***" },
		/* other names that merely contain the word are kept */
		{ "xresponse=1;responsex=2;nonce_count=3",
		  "xresponse=1;responsex=2;nonce_count=3" },
		/* Basic and Bearer credentials */
		{ "Authorization: Basic dXNlcjpwYXNz\r\n",
		  "Authorization: Basic ***\r\n" },
		{ "Authorization: bearer eyJhbGciOi.x.y, realm=a",
		  "Authorization: bearer ***, realm=a" },
		/* passwords in SIP URIs */
		{ "To: <sip:alice:s3cret@example.com>",
		  "To: <sip:alice:***@example.com>" },
		{ "INVITE sips:bob:pw@10.0.0.1:5061 SIP/2.0",
		  "INVITE sips:bob:***@10.0.0.1:5061 SIP/2.0" },
		/* SDES keys in SDP (RFC 4568), with lifetime and MKI */
		{ "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCk"
		  "gewkyMjA7fQp9CnVubGVz|2^20|1:4\r\nm=",
		  "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:***|2^20|1:4\r\nm=" },
		{ "INLINE:abc;inline:def ", "INLINE:***;inline:*** " },
		/* the word inside another is kept */
		{ "xinline:abc", "xinline:abc" },
		/* host:port is not userinfo */
		{ "Contact: <sip:10.0.0.1:5060;transport=udp>",
		  "Contact: <sip:10.0.0.1:5060;transport=udp>" },
		{ "sip:alice@host:5060", "sip:alice@host:5060" },
		/* at the end of the window a possible password is redacted */
		{ "From: sip:alice:hunt", "From: sip:alice:***" },
		/* generic password parameters */
		{ "password=hunter2&secret=\"x\"", "password=***&secret=\"***\"" },
		{ "", "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *r = redact_str(cases[i].in, strlen(cases[i].in));

		if (strcmp(r, cases[i].out) != 0)
			fail_msg("case %zu: got '%s' want '%s'", i, r,
			    cases[i].out);
	}
}

/* NUL bytes do not end a secret early (strchr would say they do). */
static void
test_redact_nul(void **state)
{
	static const char in[] = "response=ab\0SECRET, sip:u:pw\0X@h";
	char out[2 * SECEVENT_MAX_SAMPLE];
	size_t n;

	(void)state;
	n = secevent_redact(slice_make(in, sizeof(in) - 1), (uint8_t *)out,
	    sizeof(out));
	assert_null(memmem(out, n, "SECRET", 6));
	assert_null(memmem(out, n, "pw", 2));
	assert_non_null(memmem(out, n, "sip:u:***@h", 11));
}

/*
 * Random samples salted with secrets: whatever surrounds them, a marked
 * secret value never survives, and the output stays within its bound.
 */
static void
test_redact_random(void **state)
{
	static const char *const pre[] = { "response=", "nonce=\"",
	    "CNONCE = ", "Basic ", "sip:user:", "password=", "rspauth=\"" };
	static const char alpha[] = "ab, ;=\"\r\n:@<>sipSIPnonceresponse\\\0\xff";
	uint8_t in[SECEVENT_MAX_SAMPLE], out[2 * SECEVENT_MAX_SAMPLE];
	unsigned seed = 777;

	(void)state;
	for (int iter = 0; iter < 20000; iter++) {
		size_t len = 0, n, at;
		const char *p = pre[rand_r(&seed) % 7];

		/* noise, then prefix + "QQQQ" secret + terminator, noise */
		at = (size_t)rand_r(&seed) % 100;
		while (len < at)
			in[len++] = (uint8_t)alpha[rand_r(&seed) %
			    (sizeof(alpha) - 1)];
		if (len > 0 && ((in[len - 1] | 0x20) >= 'a' &&
		    (in[len - 1] | 0x20) <= 'z'))
			in[len++] = ' ';	/* keep a word boundary */
		memcpy(in + len, p, strlen(p));
		len += strlen(p);
		memcpy(in + len, "QQQQ", 4);
		len += 4;
		in[len++] = (uint8_t)(strchr(p, '"') ? '"' : (strncmp(p, "sip",
		    3) == 0 ? '@' : ','));
		while (len < sizeof(in) - 10 && rand_r(&seed) % 8 != 0)
			in[len++] = (uint8_t)alpha[rand_r(&seed) %
			    (sizeof(alpha) - 1)];
		n = secevent_redact(slice_make(in, len), out, sizeof(out));
		assert_true(n <= sizeof(out));
		if (memmem(out, n, "QQQQ", 4) != NULL)
			fail_msg("secret survived after '%s' (iter %d)", p, iter);
	}
}

static void
test_sample_in_event(void **state)
{
	static char msg[1024];
	struct secevent ev;
	json_t *j;
	const char *s;
	int n;

	(void)state;
	n = snprintf(msg, sizeof(msg),
	    "REGISTER sip:x SIP/2.0\r\nAuthorization: Digest username=\"u\", "
	    "response=\"SECRETSECRET\"\r\n%0600d", 0);
	secevent_init(&ev, SECEV_AUTH_FAILED);
	ev.sample = slice_make(msg, (size_t)n);
	j = format_parse(&ev, NULL);
	s = jstr(j, "sample");
	assert_null(strstr(s, "SECRETSECRET"));
	assert_null(strstr(line, "SECRETSECRET"));
	assert_non_null(strstr(s, "response=\"***\""));
	/* cut: at most SECEVENT_MAX_SAMPLE input bytes plus "..." */
	assert_true(strlen(s) <= SECEVENT_MAX_SAMPLE + 3);
	assert_string_equal(s + strlen(s) - 3, "...");
	json_decref(j);

	/* a secret that straddles the window edge is still redacted */
	memset(msg, 'x', sizeof(msg));
	memcpy(msg + SECEVENT_MAX_SAMPLE - 12, "response=\"SECRETSECRET\"", 23);
	ev.sample = slice_make(msg, sizeof(msg));
	j = format_parse(&ev, NULL);
	assert_null(strstr(line, "SECR"));
	json_decref(j);
}

/*
 * docs/events.md lists every type with the same ID, name, severity and
 * rate-limit flag as the code (path in argv[1]; skipped without it).
 */
static const char *docs_path;

static void
test_docs_table(void **state)
{
	static char doc[262144];
	FILE *f;
	size_t n;

	(void)state;
	if (docs_path == NULL)
		skip();
	f = fopen(docs_path, "r");
	if (f == NULL)
		fail_msg("cannot open %s", docs_path);
	n = fread(doc, 1, sizeof(doc) - 1, f);
	fclose(f);
	doc[n] = '\0';
	for (int t = 0; t < SECEV_TYPE_MAX; t++) {
		const struct secevent_info *in = secevent_info(t);
		char row[160];

		snprintf(row, sizeof(row), "\n| %d | `%s` | %s (%d) | %s |",
		    in->id, in->name, secevent_sev_name(in->sev), in->sev,
		    (in->flags & SECEV_F_UNLIMITED) ? "no" : "yes");
		if (strstr(doc, row) == NULL)
			fail_msg("docs/events.md has no row starting %s", row + 1);
	}
	assert_non_null(strstr(doc, "\"v\":1"));
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_taxonomy_invariants),
		cmocka_unit_test(test_catalogue_ids),
		cmocka_unit_test(test_every_type_full),
		cmocka_unit_test(test_minimal_event),
		cmocka_unit_test(test_ipv6_source),
		cmocka_unit_test(test_hostile_bytes),
		cmocka_unit_test(test_long_strings_truncated),
		cmocka_unit_test(test_worst_case_fits),
		cmocka_unit_test(test_lean_fallback),
		cmocka_unit_test(test_kv_rules),
		cmocka_unit_test(test_counter_rules),
		cmocka_unit_test(test_redact_digest),
		cmocka_unit_test(test_redact_variants),
		cmocka_unit_test(test_redact_nul),
		cmocka_unit_test(test_redact_random),
		cmocka_unit_test(test_sample_in_event),
		cmocka_unit_test(test_docs_table),
	};

	if (argc > 1)
		docs_path = argv[1];

	return cmocka_run_group_tests(tests, NULL, NULL);
}
