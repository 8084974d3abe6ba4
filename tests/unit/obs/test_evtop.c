/*
 * Unit tests for src/obs/evtop.c: what counts as an offence, counts
 * per source and account with their kinds (and what the event log
 * suppressed), the sliding window, and the bound on keys: a crowd of
 * one-off sources does not push out the heavy offender.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/hash.h"
#include "obs/evtop.h"
#include "obs/secevent.h"

#define T0	INT64_C(1795392000000)

static struct evring_ev
ev_of(enum secevent_type t, const char *ip, const char *account, int64_t ms)
{
	struct evring_ev ev;

	memset(&ev, 0, sizeof(ev));
	ev.ms = ms;
	ev.id = secevent_type_id(t);
	ev.sev = secevent_type_sev(t);
	ev.type = secevent_type_name(t);
	if (ip != NULL)
		assert_int_equal(sw_addr_parse(ip, 5060, &ev.src), 0);
	ev.account = account;
	return ev;
}

static void
feed(struct evtop *t, enum secevent_type type, const char *ip,
    const char *account, int64_t ms, int n)
{
	struct evring_ev ev = ev_of(type, ip, account, ms);

	for (int i = 0; i < n; i++)
		evtop_feed(t, &ev);
}

static const json_t *
nth(const json_t *top, const char *list, size_t i)
{
	return json_array_get(json_object_get(top, list), i);
}

static long long
inum(const json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static void
test_offences(void **state)
{
	struct evring_ev ev;

	(void)state;
	ev = ev_of(SECEV_AUTH_FAILED, "192.0.2.1", "1001", T0);
	assert_true(evtop_is_offence(&ev));
	ev = ev_of(SECEV_SCANNER_DETECTED, "192.0.2.1", NULL, T0);
	assert_true(evtop_is_offence(&ev));
	ev = ev_of(SECEV_ACCOUNT_LOCKED, NULL, "1001", T0);
	assert_true(evtop_is_offence(&ev));
	/* routine, or about our own side */
	ev = ev_of(SECEV_AUTH_OK, "192.0.2.1", "1001", T0);
	assert_false(evtop_is_offence(&ev));
	ev = ev_of(SECEV_AUTH_CHALLENGE, "192.0.2.1", "1001", T0);
	assert_false(evtop_is_offence(&ev));
	ev = ev_of(SECEV_ROUTE_TARGET_DOWN, "192.0.2.1", NULL, T0);
	assert_false(evtop_is_offence(&ev));
	ev = ev_of(SECEV_TRUNK_REG_FAILED, "192.0.2.1", NULL, T0);
	assert_false(evtop_is_offence(&ev));
	ev = ev_of(SECEV_ALERT_RAISED, NULL, NULL, T0);
	assert_false(evtop_is_offence(&ev));
	ev = ev_of(SECEV_ADMIN_DENIED, NULL, NULL, T0);
	assert_false(evtop_is_offence(&ev));
}

static void
test_counts_and_reasons(void **state)
{
	struct evring_ev ev;
	struct evtop *t;
	const json_t *x;
	json_t *top;

	(void)state;
	assert_int_equal(evtop_new(&t), 0);
	feed(t, SECEV_AUTH_FAILED, "192.0.2.5", "1001", T0, 30);
	feed(t, SECEV_AUTH_UNKNOWN_ACCOUNT, "192.0.2.5", "admin", T0 + 1, 5);
	feed(t, SECEV_AUTH_FAILED, "192.0.2.6", "1001", T0 + 2, 10);
	feed(t, SECEV_AUTH_OK, "192.0.2.7", "1002", T0 + 3, 50);  /* not */
	/* one written event standing for 20 the log suppressed */
	ev = ev_of(SECEV_SCANNER_DETECTED, "2001:db8::9", NULL, T0 + 4);
	ev.suppressed = 20;
	evtop_feed(t, &ev);

	top = evtop_json(t, T0 + 1000, 600, 10);
	assert_non_null(top);
	assert_int_equal(inum(top, "window_s"), 600);
	assert_int_equal(json_array_size(json_object_get(top, "sources")), 3);
	x = nth(top, "sources", 0);
	assert_string_equal(json_string_value(json_object_get(x, "src")),
	    "192.0.2.5");
	assert_int_equal(inum(x, "count"), 35);
	assert_int_equal(inum(json_object_get(x, "reasons"), "auth.failed"),
	    30);
	assert_int_equal(inum(json_object_get(x, "reasons"),
	    "auth.unknown_account"), 5);
	assert_int_equal(inum(x, "last_ms"), T0 + 1);
	x = nth(top, "sources", 1);
	assert_string_equal(json_string_value(json_object_get(x, "src")),
	    "2001:db8::9");
	assert_int_equal(inum(x, "count"), 21);
	x = nth(top, "accounts", 0);
	assert_string_equal(json_string_value(json_object_get(x,
	    "account")), "1001");
	assert_int_equal(inum(x, "count"), 40);
	assert_int_equal(json_array_size(json_object_get(top, "accounts")), 2);
	json_decref(top);

	/* n bounds the lists */
	top = evtop_json(t, T0 + 1000, 600, 1);
	assert_int_equal(json_array_size(json_object_get(top, "sources")), 1);
	json_decref(top);
	evtop_free(t);
	evtop_free(NULL);
}

static void
test_window_slides(void **state)
{
	struct evtop *t;
	json_t *top;

	(void)state;
	assert_int_equal(evtop_new(&t), 0);
	feed(t, SECEV_RATE_FLOOD, "192.0.2.1", NULL, T0, 7);
	feed(t, SECEV_RATE_FLOOD, "192.0.2.1", NULL, T0 + 300000, 3);
	/* both in the 10 minutes */
	top = evtop_json(t, T0 + 300000, 600, 10);
	assert_int_equal(inum(nth(top, "sources", 0), "count"), 10);
	json_decref(top);
	/* the last minute only (whole buckets of 20 s) */
	top = evtop_json(t, T0 + 300000, 60, 10);
	assert_int_equal(inum(top, "window_s"), 60);
	assert_int_equal(inum(nth(top, "sources", 0), "count"), 3);
	json_decref(top);
	/* 11 minutes on, the first burst is out */
	top = evtop_json(t, T0 + 660000, 600, 10);
	assert_int_equal(inum(nth(top, "sources", 0), "count"), 3);
	json_decref(top);
	/* 20 minutes on, nothing */
	top = evtop_json(t, T0 + 1200000, 600, 10);
	assert_int_equal(json_array_size(json_object_get(top, "sources")), 0);
	json_decref(top);
	/* a source coming back after a long while starts from zero */
	feed(t, SECEV_RATE_FLOOD, "192.0.2.1", NULL, T0 + 1200000, 1);
	top = evtop_json(t, T0 + 1200000, 600, 10);
	assert_int_equal(inum(nth(top, "sources", 0), "count"), 1);
	json_decref(top);
	evtop_free(t);
}

static void
test_bounded_keys(void **state)
{
	char ip[32], name[80];
	struct evtop *t;
	json_t *top;

	(void)state;
	assert_int_equal(evtop_new(&t), 0);
	feed(t, SECEV_AUTH_FAILED, "203.0.113.66", "victim", T0, 100);
	/* ten times as many one-off sources as the table holds */
	for (int i = 0; i < 10 * EVTOP_KEYS; i++) {
		snprintf(ip, sizeof(ip), "10.%d.%d.%d", i >> 16 & 255,
		    i >> 8 & 255, i & 255);
		snprintf(name, sizeof(name), "user%d", i);
		feed(t, SECEV_AUTH_UNKNOWN_ACCOUNT, ip, name, T0 + 1, 1);
	}
	top = evtop_json(t, T0 + 2, 600, EVTOP_KEYS);
	assert_int_equal(json_array_size(json_object_get(top, "sources")),
	    EVTOP_KEYS);
	assert_string_equal(json_string_value(json_object_get(nth(top,
	    "sources", 0), "src")), "203.0.113.66");
	assert_int_equal(inum(nth(top, "sources", 0), "count"), 100);
	assert_string_equal(json_string_value(json_object_get(nth(top,
	    "accounts", 0), "account")), "victim");
	json_decref(top);

	/* more kinds than a key keeps: the rest is "other" */
	for (int k = 0; k < EVTOP_REASONS + 3; k++) {
		struct evring_ev ev = ev_of(SECEV_AUTH_FAILED, "192.0.2.200",
		    NULL, T0 + 3);

		snprintf(name, sizeof(name), "kind.%d", k);
		ev.type = name;
		evtop_feed(t, &ev);
	}
	top = evtop_json(t, T0 + 4, 600, EVTOP_KEYS);
	for (size_t i = 0; i < json_array_size(json_object_get(top,
	    "sources")); i++) {
		const json_t *x = nth(top, "sources", i);

		if (strcmp(json_string_value(json_object_get(x, "src")),
		    "192.0.2.200") != 0)
			continue;
		assert_int_equal(inum(x, "count"), EVTOP_REASONS + 3);
		assert_int_equal(json_object_size(json_object_get(x,
		    "reasons")), EVTOP_REASONS + 1);
		assert_int_equal(inum(json_object_get(x, "reasons"), "other"),
		    3);
	}
	json_decref(top);

	/* a peer's account name is printable when shown */
	feed(t, SECEV_AUTH_FAILED, "192.0.2.201", "a\x1b[31mb", T0 + 5, 500);
	top = evtop_json(t, T0 + 6, 600, 1);
	assert_string_equal(json_string_value(json_object_get(nth(top,
	    "accounts", 0), "account")), "a?[31mb");
	json_decref(top);
	evtop_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offences),
		cmocka_unit_test(test_counts_and_reasons),
		cmocka_unit_test(test_window_slides),
		cmocka_unit_test(test_bounded_keys),
	};

	if (sw_hash_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
