/*
 * Unit tests for src/policy/ban.c: escalation arithmetic, host and
 * prefix bans, expiry and strike memory through the sweep, the allow
 * list (at ban time, at check time, after a swap), store loading,
 * capacity at and over its bound, listing, and four threads checking,
 * banning, unbanning and sweeping at once.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "policy/ban.h"

#define MIN		(60ULL * 1000)
#define HOUR		(60 * MIN)
#define T0		1700000000000ULL	/* a wall clock in ms */

static union sw_addr
A(const char *s)
{
	union sw_addr a;

	if (sw_addr_parse(s, 5060, &a) != 0)
		fail_msg("bad address in test: %s", s);
	return a;
}

static struct cidr
P(const char *s)
{
	struct cidr c;

	if (cidr_parse_cstr(s, &c, NULL, NULL) != 0)
		fail_msg("bad prefix in test: %s", s);
	return c;
}

static struct ban_table *
table(uint32_t cap, uint32_t stripes, const struct acl *allow)
{
	struct ban_conf c = { .capacity = cap, .stripes = stripes,
	    .allow = allow };
	struct ban_table *t = NULL;

	assert_int_equal(ban_new(&c, &t), 0);
	return t;
}

static struct ban_evidence
EV(enum ban_reason r)
{
	struct ban_evidence ev;

	memset(&ev, 0, sizeof(ev));
	ev.reason = r;
	ev.count = 1;
	return ev;
}

static int
banned(struct ban_table *t, const char *addr, uint64_t now)
{
	union sw_addr a = A(addr);

	return ban_check(t, &a, now, NULL);
}

static int
ban(struct ban_table *t, const char *key, enum ban_reason r, uint64_t now,
    struct ban_entry *e)
{
	struct cidr c = P(key);
	struct ban_evidence ev = EV(r);

	return ban_add(t, &c, &ev, now, e);
}

static void
bad_conf(void **state)
{
	struct ban_conf c = { .capacity = 0 };
	struct ban_table *t = NULL;

	(void)state;
	assert_int_equal(ban_new(&c, &t), -EINVAL);
	c.capacity = BAN_MAX_CAPACITY + 1;
	assert_int_equal(ban_new(&c, &t), -EINVAL);
	c.capacity = 10;
	c.stripes = 6;
	assert_int_equal(ban_new(&c, &t), -EINVAL);
	assert_null(t);
	ban_free(NULL);
}

static void
names(void **state)
{
	(void)state;
	assert_string_equal(ban_reason_name(BAN_R_MANUAL), "manual");
	assert_string_equal(ban_reason_name(BAN_R_AUTH_FAILURES),
	    "auth_failures");
	assert_string_equal(ban_reason_name(BAN_R_RATE_LIMIT), "rate_limit");
	assert_string_equal(ban_reason_name(BAN_R_SCANNER), "scanner");
	assert_string_equal(ban_reason_name(BAN_R_SCANNER_BEHAVIOUR),
	    "scanner_behaviour");
	assert_string_equal(ban_reason_name(BAN_R_BRUTEFORCE), "bruteforce");
	assert_string_equal(ban_reason_name(BAN_R_MALFORMED), "malformed");
	assert_string_equal(ban_reason_name(BAN_R_CLUSTER), "cluster");
	assert_string_equal(ban_reason_name(BAN_R_NONE), "none");
	assert_string_equal(ban_reason_name(BAN_R_MAX), "unknown");
	for (unsigned r = BAN_R_MANUAL; r < BAN_R_MAX; r++)
		assert_int_equal(ban_reason_from_name(slice_cstr(
		    ban_reason_name((enum ban_reason)r))), r);
	assert_int_equal(ban_reason_from_name(slice_cstr("none")), BAN_R_NONE);
	assert_int_equal(ban_reason_from_name(slice_cstr("Manual")),
	    BAN_R_NONE);
	assert_string_equal(ban_state_name(BAN_S_ACTIVE), "active");
	assert_string_equal(ban_state_name(BAN_S_REMEMBERED), "remembered");
	assert_string_equal(ban_state_name(BAN_S_MAX), "unknown");
}

static void
escalation_arithmetic(void **state)
{
	struct ban_table *t = table(8, 1, NULL);
	struct ban_conf c = { .capacity = 8 };
	static const uint64_t want[] = {
		0, 5 * MIN, 20 * MIN, 80 * MIN, 320 * MIN, 1280 * MIN,
		24 * HOUR, 24 * HOUR,
	};

	(void)state;
	for (uint32_t s = 1; s < sizeof(want) / sizeof(want[0]); s++)
		assert_int_equal(ban_duration(t, s), want[s]);
	assert_int_equal(ban_duration(t, 0), 5 * MIN);
	assert_int_equal(ban_duration(t, 1000), 24 * HOUR);
	assert_int_equal(ban_duration(t, UINT32_MAX), 24 * HOUR);
	ban_free(t);

	/* Flat. */
	c.factor = 1;
	c.first_ms = 7 * MIN;
	assert_int_equal(ban_new(&c, &t), 0);
	assert_int_equal(ban_duration(t, 50), 7 * MIN);
	ban_free(t);
	/* first above max is max. */
	c.factor = 3;
	c.first_ms = 2 * HOUR;
	c.max_ms = HOUR;
	assert_int_equal(ban_new(&c, &t), 0);
	assert_int_equal(ban_duration(t, 1), HOUR);
	/* a reload's new escalation: the next ban's length, 0 = default */
	ban_set_escalation(t, 2 * MIN, 2, 10 * MIN);
	assert_int_equal(ban_duration(t, 1), 2 * MIN);
	assert_int_equal(ban_duration(t, 3), 8 * MIN);
	assert_int_equal(ban_duration(t, 4), 10 * MIN);
	ban_set_escalation(t, 0, 0, 0);
	assert_int_equal(ban_duration(t, 2), 20 * MIN);
	ban_free(t);
	/* Products that would overflow stop at max. */
	c.first_ms = 1ULL << 61;
	c.max_ms = UINT64_MAX - 1;
	c.factor = 16;
	assert_int_equal(ban_new(&c, &t), 0);
	assert_int_equal(ban_duration(t, 1), 1ULL << 61);
	assert_int_equal(ban_duration(t, 2), UINT64_MAX - 1);
	assert_int_equal(ban_duration(t, 3), UINT64_MAX - 1);
	ban_free(t);
	/* Exactly at max on the way. */
	c.first_ms = 1000;
	c.factor = 10;
	c.max_ms = 100000;
	assert_int_equal(ban_new(&c, &t), 0);
	assert_int_equal(ban_duration(t, 2), 10000);
	assert_int_equal(ban_duration(t, 3), 100000);
	assert_int_equal(ban_duration(t, 4), 100000);
	ban_free(t);
}

static void
host_ban_and_expiry(void **state)
{
	struct ban_table *t = table(64, 4, NULL);
	struct ban_entry e;
	struct ban_hit hit;
	union sw_addr a = A("192.0.2.10");

	(void)state;
	assert_int_equal(banned(t, "192.0.2.10", T0), 0);
	assert_int_equal(ban(t, "192.0.2.10", BAN_R_RATE_LIMIT, T0, &e), 0);
	assert_int_equal(e.strikes, 1);
	assert_int_equal(e.since_ms, T0);
	assert_int_equal(e.until_ms, T0 + 5 * MIN);
	assert_int_equal(e.reason, BAN_R_RATE_LIMIT);
	assert_int_equal(e.first_seen_ms, T0);
	assert_int_equal(e.count, 1);

	memset(&hit, 0, sizeof(hit));
	sw_addr_set_port(&a, 1);
	assert_int_equal(ban_check(t, &a, T0 + 1, &hit), 1);
	assert_int_equal(hit.reason, BAN_R_RATE_LIMIT);
	assert_int_equal(hit.until_ms, T0 + 5 * MIN);
	assert_int_equal(hit.strikes, 1);
	assert_int_equal(hit.key.plen, 32);
	/* Mapped IPv6 is the same source. */
	assert_int_equal(banned(t, "::ffff:192.0.2.10", T0 + 1), 1);
	assert_int_equal(banned(t, "192.0.2.11", T0 + 1), 0);
	assert_int_equal(banned(t, "2001:db8::1", T0 + 1), 0);
	/* The last banned ms, then free. */
	assert_int_equal(banned(t, "192.0.2.10", T0 + 5 * MIN - 1), 1);
	assert_int_equal(banned(t, "192.0.2.10", T0 + 5 * MIN), 0);
	/* Hits are counted. */
	assert_int_equal(ban_get(t, &e.key, T0, &e, NULL), 0);
	assert_int_equal(e.hits, 3);
	ban_free(t);
}

static void
strikes_escalate_and_are_forgotten(void **state)
{
	struct ban_table *t = table(64, 4, NULL);
	struct ban_swept out[4];
	struct ban_entry e;
	enum ban_state st;
	uint64_t now = T0;
	static const uint64_t dur[] = {
		5 * MIN, 20 * MIN, 80 * MIN, 320 * MIN, 1280 * MIN, 24 * HOUR,
		24 * HOUR,
	};

	(void)state;
	for (uint32_t s = 0; s < 7; s++) {
		assert_int_equal(ban(t, "198.51.100.7", BAN_R_SCANNER, now,
		    &e), 0);
		assert_int_equal(e.strikes, s + 1);
		assert_int_equal(e.until_ms - e.since_ms, dur[s]);
		now = e.until_ms;
		/* The sweep sees the end once. */
		assert_int_equal(ban_sweep(t, now - 1, out, 4), 0);
		assert_int_equal(ban_sweep(t, now, out, 4), 1);
		assert_int_equal(out[0].what, BAN_SW_EXPIRED);
		assert_int_equal(out[0].e.strikes, s + 1);
		assert_int_equal(ban_sweep(t, now, out, 4), 0);
		assert_int_equal(ban_get(t, &e.key, now, &e, &st), 0);
		assert_int_equal(st, BAN_S_REMEMBERED);
		/* Come back a little before forget runs out. */
		now += 24 * HOUR - 1;
	}
	/* Wait out the memory: the entry is forgotten and the next ban
	 * is a first one again. */
	now += 1;
	assert_int_equal(ban_sweep(t, now, out, 4), 1);
	assert_int_equal(out[0].what, BAN_SW_FORGOTTEN);
	assert_int_equal(ban_get(t, &e.key, now, &e, &st), -SBC_ENOTFOUND);
	assert_int_equal(ban(t, "198.51.100.7", BAN_R_SCANNER, now, &e), 0);
	assert_int_equal(e.strikes, 1);

	/* Without a sweep in between the strike still counts... */
	now = e.until_ms + 10;
	assert_int_equal(ban(t, "198.51.100.7", BAN_R_SCANNER, now, &e), 0);
	assert_int_equal(e.strikes, 2);
	/* ... and a lapse without a sweep resets it. */
	now = e.until_ms + 24 * HOUR;
	assert_int_equal(ban(t, "198.51.100.7", BAN_R_SCANNER, now, &e), 0);
	assert_int_equal(e.strikes, 1);
	ban_free(t);
}

static void
merge_into_active_ban(void **state)
{
	struct ban_table *t = table(64, 4, NULL);
	struct ban_evidence ev = EV(BAN_R_AUTH_FAILURES);
	struct cidr k = P("203.0.113.5");
	struct ban_entry e;
	struct ban_stats st;

	(void)state;
	ev.count = 10;
	ev.first_seen_ms = T0 - 1000;
	ev.last_seen_ms = T0 - 10;
	assert_int_equal(ban_add(t, &k, &ev, T0, &e), 0);
	assert_int_equal(e.first_seen_ms, T0 - 1000);
	assert_int_equal(e.last_seen_ms, T0 - 10);
	ev.count = 5;
	ev.last_seen_ms = T0 + 100;
	ev.reason = BAN_R_RATE_LIMIT;
	assert_int_equal(ban_add(t, &k, &ev, T0 + 100, &e), 1);
	assert_int_equal(e.count, 15);
	assert_int_equal(e.last_seen_ms, T0 + 100);
	assert_int_equal(e.first_seen_ms, T0 - 1000);
	assert_int_equal(e.reason, BAN_R_AUTH_FAILURES);
	assert_int_equal(e.until_ms, T0 + 5 * MIN);
	assert_int_equal(e.strikes, 1);
	/* An operator's longer ban extends it and names the reason. */
	ev = EV(BAN_R_MANUAL);
	ev.duration_ms = 7 * 24 * HOUR;
	assert_int_equal(ban_add(t, &k, &ev, T0 + 200, &e), 1);
	assert_int_equal(e.until_ms, T0 + 200 + 7 * 24 * HOUR);
	assert_int_equal(e.reason, BAN_R_MANUAL);
	/* A shorter fixed one does not shorten it. */
	ev.duration_ms = MIN;
	ev.reason = BAN_R_CLUSTER;
	assert_int_equal(ban_add(t, &k, &ev, T0 + 300, &e), 1);
	assert_int_equal(e.until_ms, T0 + 200 + 7 * 24 * HOUR);
	assert_int_equal(e.reason, BAN_R_MANUAL);
	/* Forever is forever. */
	ev.duration_ms = BAN_FOREVER;
	assert_int_equal(ban_add(t, &k, &ev, T0 + 400, &e), 1);
	assert_int_equal(e.until_ms, BAN_FOREVER);
	assert_int_equal(banned(t, "203.0.113.5", UINT64_MAX - 1), 1);
	ban_stats(t, &st);
	assert_int_equal(st.added, 1);
	assert_int_equal(st.merged, 4);
	assert_int_equal(st.active, 1);
	ban_free(t);
}

static void
evidence_copies_are_bounded(void **state)
{
	struct ban_table *t = table(8, 1, NULL);
	struct ban_evidence ev = EV(BAN_R_SCANNER);
	struct cidr k = P("192.0.2.1");
	struct ban_entry e;
	uint8_t big[1000];
	char origin[100];

	(void)state;
	memset(big, 'A', sizeof(big));
	big[BAN_SAMPLE_MAX - 1] = 'Z';
	memset(origin, 'n', sizeof(origin) - 1);
	origin[sizeof(origin) - 1] = '\0';
	ev.sample = slice_make(big, sizeof(big));
	ev.origin = origin;
	assert_int_equal(ban_add(t, &k, &ev, T0, &e), 0);
	assert_int_equal(e.sample_len, BAN_SAMPLE_MAX);
	assert_int_equal(e.sample[BAN_SAMPLE_MAX - 1], 'Z');
	assert_int_equal(strlen(e.origin), BAN_ORIGIN_MAX - 1);
	ev.sample = slice_cstr("INVITE sip:100@x");
	ev.origin = "node-b";
	k = P("192.0.2.2");
	assert_int_equal(ban_add(t, &k, &ev, T0, &e), 0);
	assert_int_equal(e.sample_len, 16);
	assert_memory_equal(e.sample, "INVITE sip:100@x", 16);
	assert_string_equal(e.origin, "node-b");
	ban_free(t);
}

static void
bad_keys_and_reasons(void **state)
{
	struct ban_table *t = table(8, 1, NULL);
	struct ban_evidence ev = EV(BAN_R_SCANNER);
	struct cidr k;
	union sw_addr a;

	(void)state;
	k = P("10.0.0.0/7");
	assert_int_equal(ban_add(t, &k, &ev, T0, NULL), -EINVAL);
	k = P("2001::/15");
	assert_int_equal(ban_add(t, &k, &ev, T0, NULL), -EINVAL);
	k = P("10.0.0.0/8");
	assert_int_equal(ban_add(t, &k, &ev, T0, NULL), 0);
	memset(&k, 0, sizeof(k));
	k.af = AF_INET;
	k.plen = 40;
	assert_int_equal(ban_add(t, &k, &ev, T0, NULL), -EINVAL);
	k.af = 0;
	k.plen = 32;
	assert_int_equal(ban_add(t, &k, &ev, T0, NULL), -EINVAL);
	k = P("192.0.2.1");
	ev.reason = BAN_R_NONE;
	assert_int_equal(ban_add(t, &k, &ev, T0, NULL), -EINVAL);
	ev.reason = BAN_R_MAX;
	assert_int_equal(ban_add(t, &k, &ev, T0, NULL), -EINVAL);
	/* Host bits in a key are cleared. */
	ev.reason = BAN_R_MANUAL;
	k = P("192.0.3.0/24");
	k.a[3] = 77;
	assert_int_equal(ban_add(t, &k, &ev, T0, NULL), 0);
	assert_int_equal(banned(t, "192.0.3.1", T0), 1);
	k = P("192.0.3.0/24");
	assert_int_equal(ban_get(t, &k, T0, NULL, NULL), 0);
	memset(&a, 0, sizeof(a));
	a.sa.sa_family = AF_UNIX;
	assert_int_equal(ban_check(t, &a, T0, NULL), 0);
	ban_free(t);
}

static void
prefix_bans(void **state)
{
	struct ban_table *t = table(64, 4, NULL);
	struct ban_hit hit;
	union sw_addr a = A("192.0.2.77");
	struct cidr k;

	(void)state;
	assert_int_equal(ban(t, "192.0.2.0/24", BAN_R_SCANNER, T0, NULL), 0);
	assert_int_equal(ban(t, "2001:db8:1:2::/64", BAN_R_SCANNER, T0, NULL),
	    0);
	assert_int_equal(ban(t, "198.18.0.0/15", BAN_R_MANUAL, T0, NULL), 0);
	assert_int_equal(banned(t, "192.0.2.1", T0), 1);
	assert_int_equal(banned(t, "192.0.3.1", T0), 0);
	assert_int_equal(banned(t, "2001:db8:1:2:ffff::1", T0), 1);
	assert_int_equal(banned(t, "2001:db8:1:3::1", T0), 0);
	assert_int_equal(banned(t, "198.19.255.255", T0), 1);
	assert_int_equal(banned(t, "198.20.0.0", T0), 0);
	/* A host ban inside a banned prefix: the host answers first. */
	assert_int_equal(ban(t, "192.0.2.77", BAN_R_AUTH_FAILURES, T0, NULL),
	    0);
	assert_int_equal(ban_check(t, &a, T0, &hit), 1);
	assert_int_equal(hit.key.plen, 32);
	assert_int_equal(hit.reason, BAN_R_AUTH_FAILURES);
	/* Unban the prefix: the host stays, its neighbours go free. */
	k = P("192.0.2.0/24");
	assert_int_equal(ban_remove(t, &k, NULL), 0);
	assert_int_equal(ban_remove(t, &k, NULL), -SBC_ENOTFOUND);
	assert_int_equal(banned(t, "192.0.2.77", T0), 1);
	assert_int_equal(banned(t, "192.0.2.78", T0), 0);
	/* And with the host gone, nothing of it is left. */
	k = P("192.0.2.77");
	assert_int_equal(ban_remove(t, &k, NULL), 0);
	assert_int_equal(banned(t, "192.0.2.77", T0), 0);
	assert_int_equal(banned(t, "198.18.1.1", T0), 1);
	ban_free(t);
}

static void
allow_list_wins(void **state)
{
	struct cidr al[2] = { P("192.0.2.10"), P("10.1.0.0/16") };
	struct cidr al2[1] = { P("198.51.100.5") };
	struct acl *allow, *allow2;
	struct ban_table *t;
	struct ban_swept out[8];
	struct ban_stats st;
	size_t n;

	(void)state;
	assert_int_equal(acl_build(al, 2, NULL, 0, &allow), 0);
	assert_int_equal(acl_build(al2, 1, NULL, 0, &allow2), 0);
	t = table(64, 4, allow);
	/* Never banned itself... */
	assert_int_equal(ban(t, "192.0.2.10", BAN_R_RATE_LIMIT, T0, NULL),
	    -EPERM);
	assert_int_equal(ban(t, "10.1.2.0/24", BAN_R_RATE_LIMIT, T0, NULL),
	    -EPERM);
	/* ... nor by the prefix around it. */
	assert_int_equal(ban(t, "192.0.2.0/24", BAN_R_SCANNER, T0, NULL), 0);
	assert_int_equal(banned(t, "192.0.2.10", T0), 0);
	assert_int_equal(banned(t, "::ffff:192.0.2.10", T0), 0);
	assert_int_equal(banned(t, "192.0.2.11", T0), 1);
	/* A prefix only partly allow-listed can be banned. */
	assert_int_equal(ban(t, "10.0.0.0/8", BAN_R_MANUAL, T0, NULL), 0);
	assert_int_equal(banned(t, "10.2.1.1", T0), 1);
	assert_int_equal(banned(t, "10.1.1.1", T0), 0);
	assert_int_equal(ban(t, "198.51.100.5", BAN_R_SCANNER, T0, NULL), 0);
	assert_int_equal(banned(t, "198.51.100.5", T0), 1);
	ban_stats(t, &st);
	assert_int_equal(st.refused_allowlisted, 2);
	assert_int_equal(st.allowlist_overrides, 3);

	/* A new list covering a banned host: the sweep lifts it. */
	assert_ptr_equal(ban_set_allowlist(t, allow2), allow);
	acl_free(allow);
	assert_int_equal(banned(t, "198.51.100.5", T0), 0);
	n = ban_sweep(t, T0 + 1, out, 8);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].what, BAN_SW_ALLOWLISTED);
	assert_int_equal(out[0].e.key.plen, 32);
	assert_int_equal(ban_sweep(t, T0 + 2, out, 8), 0);
	/* The old list's host is no longer protected. */
	assert_int_equal(banned(t, "192.0.2.10", T0 + 2), 1);
	assert_ptr_equal(ban_set_allowlist(t, NULL), allow2);
	acl_free(allow2);
	ban_free(t);
}

static void
capacity_and_recycling(void **state)
{
	enum { CAP = 50 };
	struct ban_table *t = table(CAP, 1, NULL);
	struct ban_evidence ev = EV(BAN_R_RATE_LIMIT);
	struct ban_swept out[CAP];
	struct ban_entry e;
	struct ban_stats st;
	struct cidr k;

	(void)state;
	memset(&k, 0, sizeof(k));
	k.af = AF_INET;
	k.plen = 32;
	/* At capacity. */
	for (uint32_t i = 0; i < CAP; i++) {
		k.a[3] = (uint8_t)i;
		assert_int_equal(ban_add(t, &k, &ev, T0 + i, NULL), 0);
	}
	ban_stats(t, &st);
	assert_int_equal(st.active, CAP);
	assert_int_equal(st.capacity, CAP);
	/* Over: refused and counted, nothing else lost. */
	k.a[3] = 200;
	assert_int_equal(ban_add(t, &k, &ev, T0 + 100, NULL), -SBC_EFULL);
	ban_stats(t, &st);
	assert_int_equal(st.refused_full, 1);
	assert_int_equal(st.active, CAP);
	/* Ended but not swept: still not recyclable (its end has to be
	 * reported). */
	assert_int_equal(ban_add(t, &k, &ev, T0 + 6 * MIN, NULL), -SBC_EFULL);
	/* Swept: remembered entries give way, the oldest first. */
	assert_int_equal(ban_sweep(t, T0 + 6 * MIN, out, CAP), CAP);
	assert_int_equal(ban_add(t, &k, &ev, T0 + 6 * MIN, &e), 0);
	assert_int_equal(e.strikes, 1);
	ban_stats(t, &st);
	assert_int_equal(st.recycled, 1);
	assert_int_equal(st.active, 1);
	assert_int_equal(st.remembered, CAP - 1);
	k.a[3] = 0;
	assert_int_equal(ban_get(t, &k, T0, NULL, NULL), -SBC_ENOTFOUND);
	k.a[3] = 1;
	assert_int_equal(ban_get(t, &k, T0, NULL, NULL), 0);
	/* A remembered key comes back with its strike. */
	assert_int_equal(ban_add(t, &k, &ev, T0 + 7 * MIN, &e), 0);
	assert_int_equal(e.strikes, 2);
	ban_free(t);
}

static void
sweep_in_pieces(void **state)
{
	struct ban_table *t = table(256, 8, NULL);
	struct ban_swept out[7];
	struct cidr k;
	struct ban_evidence ev = EV(BAN_R_SCANNER);
	size_t n, total = 0, calls = 0;
	uint8_t seen[100];

	(void)state;
	memset(seen, 0, sizeof(seen));
	memset(&k, 0, sizeof(k));
	k.af = AF_INET;
	k.plen = 32;
	k.a[0] = 10;
	for (uint32_t i = 0; i < 100; i++) {
		k.a[3] = (uint8_t)i;
		assert_int_equal(ban_add(t, &k, &ev, T0, NULL), 0);
	}
	do {
		n = ban_sweep(t, T0 + 5 * MIN, out, 7);
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(out[i].what, BAN_SW_EXPIRED);
			assert_int_equal(seen[out[i].e.key.a[3]], 0);
			seen[out[i].e.key.a[3]] = 1;
		}
		total += n;
		calls++;
	} while (n == 7);
	assert_int_equal(total, 100);
	assert_int_equal(calls, 15);
	/* Then the forgetting, in pieces too. */
	total = 0;
	while ((n = ban_sweep(t, T0 + 5 * MIN + 24 * HOUR, out, 7)) > 0) {
		for (size_t i = 0; i < n; i++)
			assert_int_equal(out[i].what, BAN_SW_FORGOTTEN);
		total += n;
	}
	assert_int_equal(total, 100);
	assert_int_equal(ban_sweep(t, UINT64_MAX, out, 7), 0);
	assert_int_equal(ban_sweep(t, UINT64_MAX, out, 0), 0);
	ban_free(t);
}

static void
load_from_store(void **state)
{
	struct cidr al[1] = { P("192.0.2.99") };
	struct acl *allow;
	struct ban_table *t;
	struct ban_entry e, got;
	struct ban_swept out[4];
	enum ban_state st;

	(void)state;
	assert_int_equal(acl_build(al, 1, NULL, 0, &allow), 0);
	t = table(16, 2, allow);
	memset(&e, 0, sizeof(e));
	e.key = P("192.0.2.1");
	e.reason = BAN_R_BRUTEFORCE;
	e.strikes = 3;
	e.since_ms = T0 - HOUR;
	e.until_ms = T0 + HOUR;
	e.count = 42;
	e.hits = 999;
	memcpy(e.origin, "node-a", 7);
	e.sample_len = 3;
	memcpy(e.sample, "abc", 3);
	assert_int_equal(ban_load(t, &e, T0), 0);
	assert_int_equal(banned(t, "192.0.2.1", T0), 1);
	assert_int_equal(ban_get(t, &e.key, T0, &got, &st), 0);
	assert_int_equal(st, BAN_S_ACTIVE);
	assert_int_equal(got.strikes, 3);
	assert_int_equal(got.count, 42);
	assert_int_equal(got.hits, 1);		/* reset, then one check */
	assert_string_equal(got.origin, "node-a");
	assert_memory_equal(got.sample, "abc", 3);

	/* Ended while we were down, memory still fresh: remembered,
	 * reported by the sweep, and the next ban is strike 3. */
	e.key = P("192.0.2.2");
	e.strikes = 2;
	e.until_ms = T0 - HOUR;
	assert_int_equal(ban_load(t, &e, T0), 0);
	assert_int_equal(banned(t, "192.0.2.2", T0), 0);
	assert_int_equal(ban_sweep(t, T0, out, 4), 1);
	assert_int_equal(out[0].what, BAN_SW_EXPIRED);
	assert_int_equal(ban(t, "192.0.2.2", BAN_R_SCANNER, T0, &got), 0);
	assert_int_equal(got.strikes, 3);
	assert_int_equal(got.until_ms - T0, 80 * MIN);

	/* Memory lapsed: skipped. */
	e.key = P("192.0.2.3");
	e.until_ms = T0 - 25 * HOUR;
	assert_int_equal(ban_load(t, &e, T0), 1);
	assert_int_equal(ban_get(t, &e.key, T0, NULL, NULL), -SBC_ENOTFOUND);
	/* Allow-listed meanwhile: refused. */
	e.key = P("192.0.2.99");
	e.until_ms = T0 + HOUR;
	assert_int_equal(ban_load(t, &e, T0), -EPERM);
	/* Bad rows: no reason for a ban in force. */
	e.key = P("192.0.2.4");
	e.reason = BAN_R_NONE;
	assert_int_equal(ban_load(t, &e, T0), -EINVAL);
	/* Strike history alone needs none: the next ban escalates. */
	e.until_ms = T0 - 2 * HOUR;
	e.strikes = 4;
	assert_int_equal(ban_load(t, &e, T0), 0);
	assert_int_equal(banned(t, "192.0.2.4", T0), 0);
	assert_int_equal(ban_get(t, &e.key, T0, NULL, &st), 0);
	assert_int_equal(st, BAN_S_REMEMBERED);
	assert_int_equal(ban_sweep(t, T0, out, 4), 0);
	assert_int_equal(ban(t, "192.0.2.4", BAN_R_RATE_LIMIT, T0, &got), 0);
	assert_int_equal(got.strikes, 5);
	assert_int_equal(got.until_ms - T0, 1280 * MIN);
	e.until_ms = T0 + HOUR;
	e.reason = BAN_R_MAX;
	assert_int_equal(ban_load(t, &e, T0), -EINVAL);
	e.reason = BAN_R_MANUAL;
	e.sample_len = BAN_SAMPLE_MAX + 1;
	assert_int_equal(ban_load(t, &e, T0), -EINVAL);
	/* A second load of a key replaces it. */
	e.sample_len = 0;
	e.key = P("192.0.2.1");
	e.strikes = 0;
	e.until_ms = T0 + 2 * HOUR;
	assert_int_equal(ban_load(t, &e, T0), 0);
	assert_int_equal(ban_get(t, &e.key, T0, &got, NULL), 0);
	assert_int_equal(got.strikes, 1);
	assert_int_equal(got.until_ms, T0 + 2 * HOUR);
	ban_free(t);
	acl_free(allow);
}

static void
load_capacity(void **state)
{
	struct ban_table *t = table(4, 1, NULL);
	struct ban_entry e;

	(void)state;
	memset(&e, 0, sizeof(e));
	e.reason = BAN_R_MANUAL;
	e.until_ms = T0 + HOUR;
	for (uint8_t i = 0; i < 4; i++) {
		e.key = P("192.0.2.0");
		e.key.a[3] = i;
		assert_int_equal(ban_load(t, &e, T0), 0);
	}
	e.key.a[3] = 9;
	assert_int_equal(ban_load(t, &e, T0), -SBC_EFULL);
	ban_free(t);
}

struct lister {
	struct ban_table *t;
	unsigned	  active, remembered, calls, stop_at;
};

static int
list_fn(void *arg, const struct ban_entry *e, enum ban_state st)
{
	struct lister *l = arg;

	l->calls++;
	if (st == BAN_S_ACTIVE)
		l->active++;
	else
		l->remembered++;
	/* The callback may call into the table. */
	assert_int_equal(ban_get(l->t, &e->key, T0, NULL, NULL), 0);
	return l->calls == l->stop_at ? 7 : 0;
}

static void
listing(void **state)
{
	struct ban_table *t = table(256, 8, NULL);
	struct ban_swept out[64];
	struct lister l;
	struct cidr k;
	struct ban_evidence ev = EV(BAN_R_MANUAL);

	(void)state;
	memset(&k, 0, sizeof(k));
	k.af = AF_INET6;
	k.plen = 128;
	k.a[0] = 0x20;
	for (uint8_t i = 0; i < 30; i++) {
		k.a[15] = i;
		ev.duration_ms = i < 10 ? MIN : HOUR;
		assert_int_equal(ban_add(t, &k, &ev, T0, NULL), 0);
	}
	assert_int_equal(ban_sweep(t, T0 + MIN, out, 64), 10);
	memset(&l, 0, sizeof(l));
	l.t = t;
	assert_int_equal(ban_foreach(t, T0 + MIN, list_fn, &l), 0);
	assert_int_equal(l.active, 20);
	assert_int_equal(l.remembered, 10);
	memset(&l, 0, sizeof(l));
	l.t = t;
	l.stop_at = 12;
	assert_int_equal(ban_foreach(t, T0 + MIN, list_fn, &l), 7);
	assert_int_equal(l.calls, 12);
	ban_free(t);
}

/* --- four threads --- */

#define THREADS		4
#define CHECKS		50000

struct worker {
	struct ban_table *t;
	int		  id;
	uint64_t	  now;
	unsigned long	  errors;
	unsigned long	  ops;
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct ban_evidence ev = EV(BAN_R_RATE_LIMIT);
	struct ban_swept out[16];
	union sw_addr a;
	struct cidr k;
	uint32_t x = (uint32_t)w->id * 2654435761u + 1;

	memset(&a, 0, sizeof(a));
	a.sin.sin_family = AF_INET;
	for (uint32_t i = 0; i < CHECKS; i++) {
		x = x * 1664525u + 1013904223u;
		/* Permanent bans on the 256 hosts of 10.0.0.0/24 and on
		 * 10.1.0.0/16 must always be seen, whatever the churn does
		 * to the other lengths; 10.2.x.x is never banned. */
		a.sin.sin_addr.s_addr = htonl(0x0a000000u | (x >> 24));
		if (!ban_check(w->t, &a, w->now, NULL))
			w->errors++;
		a.sin.sin_addr.s_addr = htonl(0x0a010000u | (x >> 16));
		if (!ban_check(w->t, &a, w->now, NULL))
			w->errors++;
		a.sin.sin_addr.s_addr = htonl(0x0a020000u | (x >> 16));
		if (ban_check(w->t, &a, w->now, NULL))
			w->errors++;
		/* Churn in 172.16/12, including prefix bans of lengths
		 * that come and go, and sweeps. */
		memset(&k, 0, sizeof(k));
		k.af = AF_INET;
		k.a[0] = 172;
		k.a[1] = (uint8_t)(16 + (x >> 28));
		k.a[2] = (uint8_t)(x >> 8);
		k.a[3] = (uint8_t)(x >> 16);
		k.plen = (uint8_t)(i % 3 == 0 ? 20 + (x >> 29) : 32);
		cidr_mask_bytes(k.a, k.plen);
		switch (i % 8) {
		case 0: case 1: case 2: case 3:
			(void)ban_add(w->t, &k, &ev, w->now, NULL);
			break;
		case 4:
			(void)ban_remove(w->t, &k, NULL);
			break;
		case 5:
			if (w->id == 0)
				(void)ban_sweep(w->t, w->now + 6 * MIN, out,
				    16);
			break;
		default:
			a.sin.sin_addr.s_addr = htonl(0xac100000u | x >> 12);
			(void)ban_check(w->t, &a, w->now, NULL);
			break;
		}
		w->ops++;
	}
	return NULL;
}

static void
four_threads(void **state)
{
	struct ban_table *t = table(2048, 16, NULL);
	struct ban_evidence ev = EV(BAN_R_MANUAL);
	struct worker w[THREADS];
	pthread_t th[THREADS];
	struct ban_stats st;
	struct cidr k;

	(void)state;
	ev.duration_ms = BAN_FOREVER;
	memset(&k, 0, sizeof(k));
	k.af = AF_INET;
	k.a[0] = 10;
	k.plen = 32;
	for (uint32_t i = 0; i < 256; i++) {
		k.a[3] = (uint8_t)i;
		assert_int_equal(ban_add(t, &k, &ev, T0, NULL), 0);
	}
	k = P("10.1.0.0/16");
	assert_int_equal(ban_add(t, &k, &ev, T0, NULL), 0);
	for (int i = 0; i < THREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].t = t;
		w[i].id = i;
		w[i].now = T0;
		assert_int_equal(pthread_create(&th[i], NULL, worker_main,
		    &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].errors, 0);
		assert_int_equal(w[i].ops, CHECKS);
	}
	ban_stats(t, &st);
	assert_true(st.active + st.remembered <= st.capacity);
	assert_true(st.active >= 257);
	assert_true(st.added > 257);
	ban_free(t);
}

/* Not a test of speed: SW_BENCH=1 prints ns per check. */
static void
bench(void **state)
{
	struct ban_table *t = table(1 << 16, 64, NULL);
	struct ban_evidence ev = EV(BAN_R_RATE_LIMIT);
	struct timespec t0, t1;
	union sw_addr *q;
	struct cidr k;
	uint64_t sink = 0;
	double ns;
	enum { NQ = 4096, REP = 500 };

	(void)state;
	if (getenv("SW_BENCH") == NULL) {
		ban_free(t);
		skip();
	}
	q = calloc(NQ, sizeof(*q));
	assert_non_null(q);
	for (uint32_t i = 0; i < NQ; i++) {
		q[i].sin.sin_family = AF_INET;
		q[i].sin.sin_addr.s_addr = htonl(0xc6336400u + i * 977u);
	}
#define RUN(label) do {							\
	clock_gettime(CLOCK_MONOTONIC, &t0);				\
	for (int rep = 0; rep < REP; rep++)				\
		for (uint32_t i = 0; i < NQ; i++)			\
			sink += (uint64_t)ban_check(t, &q[i], T0, NULL);\
	clock_gettime(CLOCK_MONOTONIC, &t1);				\
	ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 +			\
	    (double)(t1.tv_nsec - t0.tv_nsec)) / ((double)REP * NQ);	\
	printf("bench: ban_check %s: %.1f ns/op (%lu)\n", label, ns,	\
	    (unsigned long)sink);					\
} while (0)
	RUN("miss, empty table");
	/* 10,000 host bans elsewhere: one probe per check. */
	memset(&k, 0, sizeof(k));
	k.af = AF_INET;
	k.plen = 32;
	for (uint32_t i = 0; i < 10000; i++) {
		uint32_t x = htonl(0x0b000000u + i * 7u);

		memcpy(k.a, &x, 4);
		ban_add(t, &k, &ev, T0, NULL);
	}
	RUN("miss, 10k host bans");
	/* Plus /24 bans elsewhere: two probes per check. */
	k.plen = 24;
	for (uint32_t i = 0; i < 1000; i++) {
		uint32_t x = htonl(0x0c000000u + (i << 8));

		memcpy(k.a, &x, 4);
		ban_add(t, &k, &ev, T0, NULL);
	}
	RUN("miss, 10k host + 1k /24 bans");
	/* Every query address banned: hit on the first probe. */
	k.plen = 32;
	for (uint32_t i = 0; i < NQ; i++) {
		memcpy(k.a, &q[i].sin.sin_addr, 4);
		ban_add(t, &k, &ev, T0, NULL);
	}
	RUN("hit (host)");
#undef RUN
	free(q);
	ban_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bad_conf),
		cmocka_unit_test(names),
		cmocka_unit_test(escalation_arithmetic),
		cmocka_unit_test(host_ban_and_expiry),
		cmocka_unit_test(strikes_escalate_and_are_forgotten),
		cmocka_unit_test(merge_into_active_ban),
		cmocka_unit_test(evidence_copies_are_bounded),
		cmocka_unit_test(bad_keys_and_reasons),
		cmocka_unit_test(prefix_bans),
		cmocka_unit_test(allow_list_wins),
		cmocka_unit_test(capacity_and_recycling),
		cmocka_unit_test(sweep_in_pieces),
		cmocka_unit_test(load_from_store),
		cmocka_unit_test(load_capacity),
		cmocka_unit_test(listing),
		cmocka_unit_test(four_threads),
		cmocka_unit_test(bench),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
