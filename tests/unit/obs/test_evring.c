/*
 * Unit tests for src/obs/evring.c: reading event lines (made by
 * secevent_format, as the event log writes them), the byte budget and
 * the index bound with eviction of the oldest, lines that wrap around
 * the end of the buffer, matching by address with and without a port
 * (IPv4, IPv6), by Call-ID (exact, not a prefix), severity, the bound
 * on an answer (the newest kept, oldest first), what an operator may
 * type as an address, and batches with lines that are no events.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/hash.h"
#include "obs/evring.h"
#include "obs/secevent.h"

#define T0	INT64_C(1795392000000)	/* 2026-11-23 00:00:00 UTC */

/* One event line: type, source ip:port (NULL: none), Call-ID, a sample
 * of pad bytes, at T0 + n ms. */
static size_t
line(char *buf, size_t cap, enum secevent_type type, const char *ip,
    uint16_t port, const char *call_id, size_t pad, int64_t n)
{
	static char sample[SECEVENT_MAX_SAMPLE];
	struct secevent ev;
	union sw_addr a;
	int len;

	secevent_init(&ev, type);
	ev.ts.tv_sec = (time_t)((T0 + n) / 1000);
	ev.ts.tv_nsec = (long)((T0 + n) % 1000) * 1000000;
	if (ip != NULL) {
		assert_int_equal(sw_addr_parse(ip, port, &a), 0);
		ev.src = &a;
	}
	if (call_id != NULL)
		ev.call_id = slice_cstr(call_id);
	ev.reason = "test";
	ev.account = slice_cstr("1001");
	if (pad > sizeof(sample))
		pad = sizeof(sample);
	memset(sample, 'x', pad);
	if (pad > 0)
		ev.sample = slice_make(sample, pad);
	secevent_add_int(&ev, "n", (long long)n);
	len = secevent_format(&ev, "edge-1", buf, cap);
	assert_true(len > 0);
	return (size_t)len;
}

static void
add(struct evring *r, enum secevent_type type, const char *ip, uint16_t port,
    const char *call_id, size_t pad, int64_t n)
{
	char buf[SECEVENT_LINE_MAX];
	size_t len = line(buf, sizeof(buf), type, ip, port, call_id, pad, n);

	assert_int_equal(evring_feed(r, buf, len, NULL, NULL), 1);
}

/* The events matching q (at most max), as a new array. */
static json_t *
ask(struct evring *r, const struct evring_query *q, size_t max,
    struct evring_result *res)
{
	json_t *a = json_array();

	assert_int_equal(evring_collect(r, q, max, 1u << 30, a, res), 0);
	assert_int_equal(json_array_size(a), res->returned);
	return a;
}

static long long
num_of(const json_t *a, size_t i)
{
	return json_integer_value(json_object_get(json_array_get(a, i), "n"));
}

static struct evring_query
by_src(const char *text)
{
	struct evring_query q;

	memset(&q, 0, sizeof(q));
	q.max_sev = 7;
	assert_int_equal(evring_query_src(text, &q), 0);
	return q;
}

static void
test_parse(void **state)
{
	char buf[SECEVENT_LINE_MAX];
	struct evring_ev ev;
	json_t *o;
	size_t len;

	(void)state;
	len = line(buf, sizeof(buf), SECEV_AUTH_FAILED, "192.0.2.1", 5062,
	    "abc@host", 10, 123);
	assert_int_equal(evring_parse(buf, len, &ev, &o), 0);
	assert_int_equal(ev.ms, T0 + 123);
	assert_int_equal(ev.id, 202);
	assert_int_equal(ev.sev, 4);
	assert_string_equal(ev.type, "auth.failed");
	assert_int_equal(ev.src.sa.sa_family, AF_INET);
	assert_int_equal(sw_addr_port(&ev.src), 5062);
	assert_string_equal(ev.call_id, "abc@host");
	assert_string_equal(ev.account, "1001");
	assert_string_equal(ev.reason, "test");
	assert_int_equal(ev.suppressed, 0);
	json_decref(o);

	/* not events */
	assert_int_equal(evring_parse("", 0, &ev, &o), -EINVAL);
	assert_int_equal(evring_parse("not json", 8, &ev, &o), -EINVAL);
	assert_int_equal(evring_parse("[1]", 3, &ev, &o), -EINVAL);
	assert_int_equal(evring_parse("{\"v\":1}", 7, &ev, &o), -EINVAL);
	{
		static const char bad_ts[] = "{\"v\":1,\"ts\":\"yesterday\","
		    "\"id\":202,\"type\":\"auth.failed\",\"sev\":\"warning\"}";
		static const char bad_sev[] = "{\"v\":1,\"ts\":"
		    "\"2026-11-23T00:00:00.000Z\",\"id\":202,\"type\":"
		    "\"auth.failed\",\"sev\":\"loud\"}";
		static const char ok[] = "{\"v\":1,\"ts\":"
		    "\"2026-11-23T00:00:00.000Z\",\"id\":202,\"type\":"
		    "\"auth.failed\",\"sev\":\"warning\",\"suppressed\":7}\n";

		assert_int_equal(evring_parse(bad_ts, strlen(bad_ts), &ev, &o),
		    -EINVAL);
		assert_int_equal(evring_parse(bad_sev, strlen(bad_sev), &ev,
		    &o), -EINVAL);
		assert_int_equal(evring_parse(ok, strlen(ok), &ev, &o), 0);
		assert_int_equal(ev.ms, T0);
		assert_int_equal(ev.suppressed, 7);
		assert_int_equal(ev.src.sa.sa_family, 0);
		assert_null(ev.call_id);
		json_decref(o);
	}
	assert_int_equal(evring_sev_of("debug"), 7);
	assert_int_equal(evring_sev_of("emerg"), 0);
	assert_int_equal(evring_sev_of("Warning"), -1);
}

static void
test_budget_and_eviction(void **state)
{
	struct evring_stats st;
	struct evring_result res;
	struct evring_query q = { .by = EVRING_BY_ANY, .max_sev = 7 };
	struct evring *r;
	json_t *a;

	(void)state;
	assert_int_equal(evring_new(1000, &r), -EINVAL);
	assert_int_equal(evring_new(EVRING_MIN_BYTES, &r), 0);
	/* ~450-byte lines, 1000 of them: far over 64 KiB */
	for (int64_t i = 0; i < 1000; i++)
		add(r, SECEV_SIP_MALFORMED, "192.0.2.9", 5060, NULL, 200, i);
	evring_get_stats(r, &st);
	assert_true(st.bytes <= EVRING_MIN_BYTES);
	assert_true(st.events > 100 && st.events < 200);
	assert_int_equal(st.added, 1000);
	assert_int_equal(st.evicted, 1000 - st.events);
	assert_int_equal(st.newest_ms, T0 + 999);
	assert_int_equal(st.oldest_ms, T0 + 1000 - (int64_t)st.events);

	/* what is held is the newest, whole, in order */
	a = ask(r, &q, 100000, &res);
	assert_int_equal(res.scanned, st.events);
	assert_int_equal(res.returned, st.events);
	assert_false(res.truncated);
	assert_int_equal(res.oldest_ms, st.oldest_ms);
	assert_int_equal(res.evicted, st.evicted);
	for (size_t i = 0; i < json_array_size(a); i++)
		assert_int_equal(num_of(a, i), 1000 - (long long)st.events +
		    (long long)i);
	json_decref(a);

	/* the index bound: one entry per 128 bytes of budget, even for
	 * lines shorter than that (none is: they are still bounded) */
	for (int64_t i = 0; i < 2000; i++)
		add(r, SECEV_AUTH_OK, NULL, 0, NULL, 0, 1000 + i);
	evring_get_stats(r, &st);
	assert_true(st.events <= EVRING_MIN_BYTES / EVRING_MIN_LINE);
	assert_true(st.bytes <= EVRING_MIN_BYTES);
	assert_int_equal(st.newest_ms, T0 + 2999);

	/* a line longer than an event can be is refused */
	{
		char *big = malloc(SECEVENT_LINE_MAX + 10);
		struct evring_ev ev;

		memset(&ev, 0, sizeof(ev));
		memset(big, 'a', SECEVENT_LINE_MAX + 10);
		assert_int_equal(evring_add(r, big, SECEVENT_LINE_MAX + 10,
		    &ev), -E2BIG);
		free(big);
	}
	evring_free(r);
	evring_free(NULL);
}

/* Lines of varying length wrap around the end of the buffer many
 * times; every line held stays whole and in order. */
static void
test_wrap_integrity(void **state)
{
	struct evring_query q = { .by = EVRING_BY_ANY, .max_sev = 7 };
	struct evring_result res;
	struct evring *r;
	json_t *a;

	(void)state;
	assert_int_equal(evring_new(EVRING_MIN_BYTES, &r), 0);
	for (int64_t i = 0; i < 5000; i++) {
		add(r, SECEV_SCANNER_DETECTED, "198.51.100.7", 5060, "w@x",
		    (size_t)(i * 37 % 256), i);
		if (i % 499 == 0) {
			a = ask(r, &q, 100000, &res);
			for (size_t j = 0; j < json_array_size(a); j++)
				assert_int_equal(num_of(a, j), i + 1 -
				    (long long)json_array_size(a) +
				    (long long)j);
			json_decref(a);
		}
	}
	evring_free(r);
}

static void
test_match_src(void **state)
{
	struct evring_result res;
	struct evring_query q;
	struct evring *r;
	json_t *a;

	(void)state;
	assert_int_equal(evring_new(0, &r), 0);
	add(r, SECEV_AUTH_FAILED, "192.0.2.1", 5060, "c1", 0, 1);
	add(r, SECEV_AUTH_FAILED, "192.0.2.1", 5070, "c2", 0, 2);
	add(r, SECEV_AUTH_FAILED, "192.0.2.11", 5060, "c3", 0, 3);
	add(r, SECEV_AUTH_FAILED, "2001:db8::1", 5060, "c4", 0, 4);
	add(r, SECEV_AUTH_FAILED, "2001:db8::1", 5999, "c5", 0, 5);
	add(r, SECEV_AUTH_FAILED, "2001:db8::10", 5060, "c6", 0, 6);
	add(r, SECEV_CONFIG_LOADED, NULL, 0, NULL, 0, 7);
	add(r, SECEV_BAN_ADDED, "192.0.2.1", 0, NULL, 0, 8);

	/* IPv4 without a port: every event of the address, not .11 */
	q = by_src("192.0.2.1");
	a = ask(r, &q, 100, &res);
	assert_int_equal(json_array_size(a), 3);
	assert_int_equal(num_of(a, 0), 1);
	assert_int_equal(num_of(a, 1), 2);
	assert_int_equal(num_of(a, 2), 8);
	assert_int_equal(res.scanned, 8);
	json_decref(a);
	/* with a port: that port only */
	q = by_src("192.0.2.1:5070");
	a = ask(r, &q, 100, &res);
	assert_int_equal(json_array_size(a), 1);
	assert_int_equal(num_of(a, 0), 2);
	json_decref(a);
	/* IPv6, bare, in brackets, with a port */
	q = by_src("2001:db8::1");
	a = ask(r, &q, 100, &res);
	assert_int_equal(json_array_size(a), 2);
	json_decref(a);
	q = by_src("[2001:DB8::1]");
	a = ask(r, &q, 100, &res);
	assert_int_equal(json_array_size(a), 2);
	json_decref(a);
	q = by_src("[2001:db8::1]:5999");
	a = ask(r, &q, 100, &res);
	assert_int_equal(json_array_size(a), 1);
	assert_int_equal(num_of(a, 0), 5);
	json_decref(a);
	/* nobody */
	q = by_src("203.0.113.1");
	a = ask(r, &q, 100, &res);
	assert_int_equal(json_array_size(a), 0);
	assert_false(res.truncated);
	json_decref(a);
	evring_free(r);
}

static void
test_match_call_id_and_severity(void **state)
{
	struct evring_result res;
	struct evring_query q;
	struct evring *r;
	json_t *a;

	(void)state;
	assert_int_equal(evring_new(0, &r), 0);
	add(r, SECEV_CALL_ATTEMPT, "192.0.2.1", 5060, "abc@h", 0, 1);
	add(r, SECEV_CALL_ATTEMPT, "192.0.2.1", 5060, "abc@h2", 0, 2);
	add(r, SECEV_CALL_BLOCKED, "192.0.2.2", 5060, "abc@h", 0, 3);
	add(r, SECEV_CALL_ENDED, "192.0.2.1", 5060, "ab", 0, 4);

	memset(&q, 0, sizeof(q));
	q.by = EVRING_BY_CALL_ID;
	q.max_sev = 7;
	snprintf(q.call_id, sizeof(q.call_id), "abc@h");
	a = ask(r, &q, 100, &res);
	assert_int_equal(json_array_size(a), 2);
	assert_int_equal(num_of(a, 0), 1);
	assert_int_equal(num_of(a, 1), 3);
	json_decref(a);
	/* not a prefix match */
	snprintf(q.call_id, sizeof(q.call_id), "abc");
	a = ask(r, &q, 100, &res);
	assert_int_equal(json_array_size(a), 0);
	json_decref(a);
	/* warning or worse: only call.blocked (4) */
	memset(&q, 0, sizeof(q));
	q.by = EVRING_BY_ANY;
	q.max_sev = 4;
	a = ask(r, &q, 100, &res);
	assert_int_equal(json_array_size(a), 1);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(a, 0), "type")), "call.blocked");
	json_decref(a);
	evring_free(r);
}

static void
test_answer_bounds(void **state)
{
	struct evring_query q = { .by = EVRING_BY_ANY, .max_sev = 7 };
	struct evring_result res;
	struct evring *r;
	json_t *a;

	(void)state;
	assert_int_equal(evring_new(0, &r), 0);
	for (int64_t i = 0; i < 50; i++)
		add(r, SECEV_RATE_LIMITED, "192.0.2.3", 5060, NULL, 0, i);
	/* the newest 10, oldest first */
	a = ask(r, &q, 10, &res);
	assert_int_equal(json_array_size(a), 10);
	assert_int_equal(num_of(a, 0), 40);
	assert_int_equal(num_of(a, 9), 49);
	assert_int_equal(res.matched, 50);
	assert_true(res.truncated);
	json_decref(a);
	/* a byte bound cuts the same way */
	a = json_array();
	assert_int_equal(evring_collect(r, &q, 100, 1000, a, &res), 0);
	assert_true(json_array_size(a) >= 1 && json_array_size(a) < 10);
	assert_int_equal(num_of(a, json_array_size(a) - 1), 49);
	assert_true(res.truncated);
	json_decref(a);
	/* no query can match an empty address or Call-ID */
	memset(&q, 0, sizeof(q));
	q.by = EVRING_BY_CALL_ID;
	q.max_sev = 7;
	a = ask(r, &q, 10, &res);
	assert_int_equal(json_array_size(a), 0);
	json_decref(a);
	evring_free(r);
}

static void
test_query_src_forms(void **state)
{
	static const char *const ok[] = { "192.0.2.1", "192.0.2.1:5060",
	    "2001:db8::1", "[2001:db8::1]", "[2001:db8::1]:5061", "::1",
	    "[::ffff:192.0.2.1]:1" };
	static const char *const bad[] = { "", "abc@host", "192.0.2.1:",
	    "192.0.2.1:0", "192.0.2.1:65536", "192.0.2.1:50x", "[192.0.2.1]",
	    "[2001:db8::1", "[2001:db8::1]x", "[2001:db8::1]:", "host:5060",
	    "192.0.2.300", "1a2b3c4d5e6f@10.0.0.1",
	    "0123456789012345678901234567890123456789012345678901234567890" };
	struct evring_query q;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		memset(&q, 0, sizeof(q));
		assert_int_equal(evring_query_src(ok[i], &q), 0);
		assert_int_equal(q.by, EVRING_BY_SRC);
	}
	q = by_src("192.0.2.1:5060");
	assert_int_equal(sw_addr_port(&q.src), 5060);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&q, 0, sizeof(q));
		if (evring_query_src(bad[i], &q) != -EINVAL)
			fail_msg("'%s' taken for an address", bad[i]);
		assert_int_equal(q.by, EVRING_BY_ANY);
	}
}

static int nseen;

static void
seen(void *arg, const struct evring_ev *ev)
{
	(void)arg;
	assert_non_null(ev->type);
	nseen++;
}

static void
test_feed_batches(void **state)
{
	char batch[4 * SECEVENT_LINE_MAX];
	struct evring_stats st;
	struct evring *r;
	size_t len = 0;

	(void)state;
	assert_int_equal(evring_new(0, &r), 0);
	len += line(batch + len, sizeof(batch) - len, SECEV_AUTH_FAILED,
	    "192.0.2.1", 5060, NULL, 0, 1);
	memcpy(batch + len, "garbage\n\n", 9);
	len += 9;
	len += line(batch + len, sizeof(batch) - len, SECEV_AUTH_FAILED,
	    "192.0.2.2", 5060, NULL, 0, 2);
	nseen = 0;
	assert_int_equal(evring_feed(r, batch, len, seen, NULL), 2);
	assert_int_equal(nseen, 2);
	evring_get_stats(r, &st);
	assert_int_equal(st.events, 2);
	assert_int_equal(st.rejected, 1);
	evring_free(r);
}

/* evring_scan() reads what evring_parse() reads, or says -EAGAIN. */
static void
same_as_parse(const char *buf, size_t len)
{
	struct evring_ev a, b;
	struct evring_scratch sc;
	json_t *o;

	assert_int_equal(evring_scan(buf, len, &a, &sc), 0);
	assert_int_equal(evring_parse(buf, len, &b, &o), 0);
	assert_int_equal(a.ms, b.ms);
	assert_int_equal(a.id, b.id);
	assert_int_equal(a.sev, b.sev);
	assert_string_equal(a.type, b.type);
	assert_true(sw_addr_eq(&a.src, &b.src) ||
	    (a.src.sa.sa_family == 0 && b.src.sa.sa_family == 0));
	assert_true((a.call_id == NULL && b.call_id == NULL) ||
	    strcmp(a.call_id, b.call_id) == 0);
	assert_true((a.account == NULL && b.account == NULL) ||
	    strcmp(a.account, b.account) == 0);
	assert_true((a.reason == NULL && b.reason == NULL) ||
	    strcmp(a.reason, b.reason) == 0);
	assert_int_equal(a.suppressed, b.suppressed);
	json_decref(o);
}

static void
test_scan(void **state)
{
	static const char nested[] = "{\"v\":1,\"ts\":"
	    "\"2026-11-23T00:00:00.250Z\",\"id\":402,\"type\":\"call.ended\","
	    "\"sev\":\"info\",\"src\":\"2001:db8::7\",\"sport\":5060,"
	    "\"counters\":{\"a.packets\":10,\"x\":[1,{\"y\":\"}\"}]},"
	    "\"call_id\":\"c1@h\",\"detail\":\"a \\\"quoted\\\" }\","
	    "\"suppressed\":3}\n";
	static const char escaped[] = "{\"v\":1,\"ts\":"
	    "\"2026-11-23T00:00:00.000Z\",\"id\":202,\"type\":\"auth.failed\","
	    "\"sev\":\"warning\",\"account\":\"a\\\"b\"}";
	static const char *const bad[] = {
		"", "[1]", "{", "{\"id\":", "{\"id\":202", "{\"id\":-1}",
		"{\"v\":1} trailing", "{\"k\" 1}", "not json",
	};
	char buf[SECEVENT_LINE_MAX];
	struct evring_ev ev;
	struct evring_scratch sc;
	size_t len;

	(void)state;
	len = line(buf, sizeof(buf), SECEV_AUTH_FAILED, "192.0.2.1", 5062,
	    "abc@host", 10, 123);
	same_as_parse(buf, len);
	len = line(buf, sizeof(buf), SECEV_BAN_ADDED, "2001:db8::1", 0, NULL,
	    0, 7);
	same_as_parse(buf, len);
	same_as_parse(nested, strlen(nested));
	assert_int_equal(evring_scan(nested, strlen(nested), &ev, &sc), 0);
	assert_int_equal(ev.suppressed, 3);
	assert_int_equal(sw_addr_port(&ev.src), 5060);
	/* an escape in a field it reads: left to evring_parse() */
	assert_int_equal(evring_scan(escaped, strlen(escaped), &ev, &sc),
	    -EAGAIN);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(evring_scan(bad[i], strlen(bad[i]), &ev, &sc),
		    -EAGAIN);
	/* a string longer than its scratch room */
	{
		char big[600];
		int n = snprintf(big, sizeof(big), "{\"ts\":"
		    "\"2026-11-23T00:00:00.000Z\",\"id\":202,\"type\":\"%0300d\","
		    "\"sev\":\"warning\"}", 0);

		assert_int_equal(evring_scan(big, (size_t)n, &ev, &sc), -EAGAIN);
	}
	/* the fallback still keeps the escaped line */
	{
		struct evring *r;

		assert_int_equal(evring_new(1 << 16, &r), 0);
		assert_int_equal(evring_feed(r, escaped, strlen(escaped), NULL,
		    NULL), 1);
		evring_free(r);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_scan),
		cmocka_unit_test(test_budget_and_eviction),
		cmocka_unit_test(test_wrap_integrity),
		cmocka_unit_test(test_match_src),
		cmocka_unit_test(test_match_call_id_and_severity),
		cmocka_unit_test(test_answer_bounds),
		cmocka_unit_test(test_query_src_forms),
		cmocka_unit_test(test_feed_batches),
	};

	if (sw_hash_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
