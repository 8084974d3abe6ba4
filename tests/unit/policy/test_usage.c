/*
 * Unit tests for src/policy/usage.c (FRAUD2): each limit admits up to
 * its value and refuses the next call with that limit's verdict;
 * emergency calls are counted but never refused; a new minute or day
 * starts its counters at 0; release, load, reset, get and collect do
 * what usage.h says; the striped locks lose no count under threads;
 * usage_day() follows the local calendar day.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/hash.h"
#include "policy/usage.h"

/* 2023-11-14 22:14:00 UTC, the start of a minute. */
#define T0	((int64_t)1700000040)
#define D0	((int64_t)19675)

static struct usage_table *tab;

static void
noop_fn(void *arg, const struct store_usage *u)
{
	(void)arg;
	(void)u;
}

static void
no_ghost_fn(void *arg, const struct store_usage *u)
{
	(void)arg;
	assert_string_not_equal(u->account, "ghost@x");
}

static int
setup(void **state)
{
	(void)state;
	return usage_new(0, &tab) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	usage_free(tab);
	tab = NULL;
	return 0;
}

static uint32_t
admit(const char *acct, const struct usage_limits *lim, int64_t now,
    int64_t day, bool exempt, int want)
{
	uint32_t value = 12345;
	int r = usage_admit(tab, acct, lim, now, day, exempt, &value);

	if (r != want)
		fail_msg("%s at %lld day %lld: verdict %d, want %d (value %u)",
		    acct, (long long)now, (long long)day, r, want, value);
	if (r == USAGE_OK && value != 0)
		fail_msg("%s: USAGE_OK with value %u", acct, value);
	return value;
}

static struct store_usage
get(const char *acct, int64_t now, int64_t day)
{
	struct store_usage u;

	usage_get(tab, acct, now, day, &u);
	return u;
}

static void
test_concurrent(void **state)
{
	const struct usage_limits lim = { .concurrent = 2 };
	struct store_usage u;

	(void)state;
	admit("a@x", &lim, T0, D0, false, USAGE_OK);
	admit("a@x", &lim, T0, D0, false, USAGE_OK);
	assert_int_equal(admit("a@x", &lim, T0, D0, false, USAGE_CONCURRENT),
	    2);
	assert_int_equal(admit("a@x", &lim, T0 + 1, D0, false,
	    USAGE_CONCURRENT), 2);
	u = get("a@x", T0 + 1, D0);
	assert_string_equal(u.account, "a@x");
	assert_int_equal(u.active, 2);
	assert_int_equal(u.calls_minute, 2);
	assert_int_equal(u.calls_day, 2);
	assert_int_equal(u.blocked_day, 2);
	assert_int_equal(u.updated, T0 + 1);
	/* one ends: room for one more */
	usage_release(tab, "a@x", 10, D0);
	admit("a@x", &lim, T0 + 2, D0, false, USAGE_OK);
	admit("a@x", &lim, T0 + 2, D0, false, USAGE_CONCURRENT);
	/* other accounts have their own counters */
	admit("b@x", &lim, T0 + 2, D0, false, USAGE_OK);
	assert_int_equal(get("b@x", T0 + 2, D0).active, 1);
	assert_int_equal(get("a@x", T0 + 2, D0).active, 2);
}

static void
test_per_minute(void **state)
{
	const struct usage_limits lim = { .per_minute = 3 };
	struct store_usage u;

	(void)state;
	for (int i = 0; i < 3; i++) {
		admit("a@x", &lim, T0 + i * 10, D0, false, USAGE_OK);
		usage_release(tab, "a@x", 0, D0);
	}
	assert_int_equal(admit("a@x", &lim, T0 + 30, D0, false,
	    USAGE_PER_MINUTE), 3);
	/* the last second of the same minute */
	assert_int_equal(admit("a@x", &lim, T0 + 59, D0, false,
	    USAGE_PER_MINUTE), 3);
	/* a new minute starts at 0, the day goes on */
	admit("a@x", &lim, T0 + 60, D0, false, USAGE_OK);
	u = get("a@x", T0 + 60, D0);
	assert_int_equal(u.calls_minute, 1);
	assert_int_equal(u.calls_day, 4);
	assert_int_equal(u.blocked_day, 2);
	assert_int_equal(u.minute, (T0 + 60) / 60);
	assert_int_equal(u.active, 1);
	/* a minute later still: get shows 0 this minute, keeps the day */
	u = get("a@x", T0 + 185, D0);
	assert_int_equal(u.calls_minute, 0);
	assert_int_equal(u.calls_day, 4);
	/* ... without changing the entry */
	assert_int_equal(get("a@x", T0 + 60, D0).calls_minute, 1);
}

static void
test_per_day(void **state)
{
	const struct usage_limits lim = { .per_day = 3, .per_minute = 100 };
	struct store_usage u;

	(void)state;
	for (int i = 0; i < 3; i++) {
		admit("a@x", &lim, T0 + i * 600, D0, false, USAGE_OK);
		usage_release(tab, "a@x", 30, D0);
	}
	assert_int_equal(admit("a@x", &lim, T0 + 3600, D0, false,
	    USAGE_PER_DAY), 3);
	u = get("a@x", T0 + 3600, D0);
	assert_int_equal(u.calls_day, 3);
	assert_int_equal(u.seconds_day, 90);
	assert_int_equal(u.blocked_day, 1);
	/* a new day: every day counter starts at 0 */
	admit("a@x", &lim, T0 + 7200, D0 + 1, false, USAGE_OK);
	u = get("a@x", T0 + 7200, D0 + 1);
	assert_int_equal(u.day, D0 + 1);
	assert_int_equal(u.calls_day, 1);
	assert_int_equal(u.seconds_day, 0);
	assert_int_equal(u.blocked_day, 0);
	assert_int_equal(u.calls_minute, 1);
	assert_int_equal(u.active, 1);
	/* get of a later day shows zeros and keeps the calls up */
	u = get("a@x", T0 + 90000, D0 + 2);
	assert_int_equal(u.calls_day, 0);
	assert_int_equal(u.active, 1);
}

static void
test_minutes(void **state)
{
	const struct usage_limits lim = { .minutes_per_day = 2 };
	struct store_usage u;

	(void)state;
	assert_int_equal(usage_seconds_left(tab, "a@x", &lim, D0), 120);
	admit("a@x", &lim, T0, D0, false, USAGE_OK);
	assert_int_equal(usage_seconds_left(tab, "a@x", &lim, D0), 120);
	usage_release(tab, "a@x", 90, D0);
	assert_int_equal(usage_seconds_left(tab, "a@x", &lim, D0), 30);
	admit("a@x", &lim, T0 + 100, D0, false, USAGE_OK);
	usage_release(tab, "a@x", 30, D0);
	assert_int_equal(usage_seconds_left(tab, "a@x", &lim, D0), 0);
	u = get("a@x", T0 + 200, D0);
	assert_int_equal(u.seconds_day, 120);
	assert_int_equal(u.active, 0);
	assert_int_equal(admit("a@x", &lim, T0 + 200, D0, false,
	    USAGE_MINUTES), 2);
	/* past the limit: seconds left stays 0, minutes round up */
	admit("b@x", &lim, T0, D0, false, USAGE_OK);
	usage_release(tab, "b@x", 121, D0);
	assert_int_equal(usage_seconds_left(tab, "b@x", &lim, D0), 0);
	assert_int_equal(admit("b@x", &lim, T0 + 300, D0, false,
	    USAGE_MINUTES), 3);
	/* tomorrow: the whole allowance again */
	assert_int_equal(usage_seconds_left(tab, "a@x", &lim, D0 + 1), 120);
	admit("a@x", &lim, T0 + 86400, D0 + 1, false, USAGE_OK);
	/* no minutes limit: unlimited */
	assert_int_equal(usage_seconds_left(tab, "a@x",
	    &(struct usage_limits){ .concurrent = 1 }, D0), UINT32_MAX);
	/* seconds saturate rather than wrap */
	usage_release(tab, "a@x", UINT32_MAX, D0 + 1);
	usage_release(tab, "a@x", UINT32_MAX, D0 + 1);
	assert_int_equal(get("a@x", T0 + 86400, D0 + 1).seconds_day,
	    UINT32_MAX);
	assert_int_equal(usage_seconds_left(tab, "a@x", &lim, D0 + 1), 0);
}

/*
 * Regression: the minutes a USAGE_MINUTES refusal reports were
 * (seconds_day + 59) / 60 in 32 bits, which wrapped once seconds_day
 * had saturated near UINT32_MAX: 0 minutes reported.
 * Unreachable from policy_release() today (monotonic clock); fixed
 * by computing in 64 bits.
 */
static void
test_fixed_minutes_value(void **state)
{
	const struct usage_limits lim = { .minutes_per_day = 1 };
	uint32_t v = 0;

	(void)state;
	admit("a@x", &lim, T0, D0, false, USAGE_OK);
	usage_release(tab, "a@x", UINT32_MAX, D0);
	assert_int_equal(usage_admit(tab, "a@x", &lim, T0, D0, false, &v),
	    USAGE_MINUTES);
	assert_int_equal(v, UINT32_MAX / 60 + 1);
}

/* The first limit hit is the one reported, in the order of usage.h. */
static void
test_order(void **state)
{
	const struct usage_limits all1 = { 1, 1, 1, 1 };
	const struct usage_limits none = { 0, 0, 0, 0 };

	(void)state;
	admit("a@x", &all1, T0, D0, false, USAGE_OK);
	admit("a@x", &all1, T0, D0, false, USAGE_CONCURRENT);
	usage_release(tab, "a@x", 0, D0);
	admit("a@x", &all1, T0, D0, false, USAGE_PER_MINUTE);
	admit("a@x", &all1, T0 + 60, D0, false, USAGE_PER_DAY);
	admit("a@x", &(struct usage_limits){ .minutes_per_day = 1,
	    .per_day = 5 }, T0 + 60, D0, false, USAGE_OK);
	usage_release(tab, "a@x", 60, D0);
	admit("a@x", &(struct usage_limits){ .minutes_per_day = 1,
	    .per_day = 5 }, T0 + 120, D0, false, USAGE_MINUTES);
	/* no limit at all */
	for (int i = 0; i < 1000; i++)
		admit("b@x", &none, T0, D0, false, USAGE_OK);
	assert_int_equal(get("b@x", T0, D0).active, 1000);
}

/* An emergency call is counted but never refused. */
static void
test_exempt(void **state)
{
	const struct usage_limits lim = { 1, 1, 1, 1 };
	struct store_usage u;

	(void)state;
	admit("a@x", &lim, T0, D0, false, USAGE_OK);
	usage_release(tab, "a@x", 600, D0);
	admit("a@x", &lim, T0, D0, false, USAGE_PER_MINUTE);
	for (int i = 0; i < 5; i++)
		admit("a@x", &lim, T0, D0, true, USAGE_OK);
	u = get("a@x", T0, D0);
	assert_int_equal(u.active, 5);
	assert_int_equal(u.calls_minute, 6);
	assert_int_equal(u.calls_day, 6);
	assert_int_equal(u.blocked_day, 1);
	admit("a@x", &lim, T0, D0, false, USAGE_CONCURRENT);
	/* an account's first call may be an emergency call */
	admit("new@x", &lim, T0, D0, true, USAGE_OK);
	assert_int_equal(get("new@x", T0, D0).calls_day, 1);
}

static void
test_release(void **state)
{
	const struct usage_limits lim = { 0 };
	struct store_usage u;

	(void)state;
	admit("a@x", &lim, T0, D0, false, USAGE_OK);
	admit("a@x", &lim, T0, D0, false, USAGE_OK);
	usage_release(tab, "a@x", 5, D0);
	u = get("a@x", T0, D0);
	assert_int_equal(u.active, 1);
	assert_int_equal(u.seconds_day, 5);
	usage_release(tab, "a@x", 7, D0);
	usage_release(tab, "a@x", 11, D0);	/* one too many: stays 0 */
	u = get("a@x", T0, D0);
	assert_int_equal(u.active, 0);
	assert_int_equal(u.seconds_day, 23);
	assert_int_equal(u.calls_day, 2);
	/* a call of yesterday ending today counts today */
	admit("b@x", &lim, T0, D0, false, USAGE_OK);
	usage_release(tab, "b@x", 50, D0);
	admit("b@x", &lim, T0 + 100, D0, false, USAGE_OK);
	usage_release(tab, "b@x", 40, D0 + 1);
	u = get("b@x", T0 + 86400, D0 + 1);
	assert_int_equal(u.active, 0);
	assert_int_equal(u.seconds_day, 40);
	assert_int_equal(u.calls_day, 0);
	/* an account never seen: nothing made */
	usage_release(tab, "ghost@x", 60, D0);
	usage_reset(tab, "ghost@x");
	assert_int_equal(usage_collect(tab, no_ghost_fn, NULL), 2);
	u = get("ghost@x", T0, D0);
	assert_int_equal(u.seconds_day, 0);
}

static void
test_get_unknown(void **state)
{
	struct store_usage u, zero;
	char *longname;

	(void)state;
	memset(&u, 0xa5, sizeof(u));
	usage_get(tab, "nobody@x", T0, D0, &u);
	memset(&zero, 0, sizeof(zero));
	snprintf(zero.account, sizeof(zero.account), "nobody@x");
	assert_memory_equal(&u, &zero, sizeof(u));
	/* a name too long for a row: no entry, no name, no overflow */
	assert_non_null(longname = malloc(STORE_AOR_MAX + 2));
	memset(longname, 'a', STORE_AOR_MAX + 1);
	longname[STORE_AOR_MAX + 1] = '\0';
	usage_get(tab, longname, T0, D0, &u);
	assert_string_equal(u.account, "");
	assert_int_equal(usage_admit(tab, longname,
	    &(struct usage_limits){ 0 }, T0, D0, false, &(uint32_t){ 0 }),
	    -ENOMEM);
	/* exactly STORE_AOR_MAX is fine */
	longname[STORE_AOR_MAX] = '\0';
	admit(longname, &(struct usage_limits){ 0 }, T0, D0, false, USAGE_OK);
	assert_int_equal(get(longname, T0, D0).calls_day, 1);
	free(longname);
}

static void
test_load_reset(void **state)
{
	const struct usage_limits lim = { .per_day = 8, .per_minute = 3 };
	struct store_usage row, u;

	(void)state;
	memset(&row, 0, sizeof(row));
	snprintf(row.account, sizeof(row.account), "a@x");
	row.minute = T0 / 60;
	row.calls_minute = 2;
	row.day = D0;
	row.calls_day = 7;
	row.seconds_day = 300;
	row.blocked_day = 4;
	row.active = 5;			/* calls up before a restart */
	row.updated = T0 - 10;
	assert_int_equal(usage_load(tab, &row), 0);
	u = get("a@x", T0, D0);
	assert_int_equal(u.active, 0);
	assert_int_equal(u.calls_minute, 2);
	assert_int_equal(u.calls_day, 7);
	assert_int_equal(u.seconds_day, 300);
	assert_int_equal(u.blocked_day, 4);
	assert_int_equal(u.updated, T0 - 10);
	/* loaded rows are what the store has: nothing to write back */
	assert_int_equal(usage_collect(tab, noop_fn, NULL), 0);
	/* the loaded counters count */
	admit("a@x", &lim, T0, D0, false, USAGE_OK);
	assert_int_equal(admit("a@x", &lim, T0 + 1, D0, false,
	    USAGE_PER_MINUTE), 3);
	assert_int_equal(admit("a@x", &lim, T0 + 60, D0, false,
	    USAGE_PER_DAY), 8);
	/* a row of yesterday: today starts at 0 */
	snprintf(row.account, sizeof(row.account), "b@x");
	row.day = D0 - 1;
	row.minute = T0 / 60 - 1440;
	assert_int_equal(usage_load(tab, &row), 0);
	u = get("b@x", T0, D0);
	assert_int_equal(u.calls_day, 0);
	assert_int_equal(u.calls_minute, 0);
	/* load over an existing entry replaces it, active back to 0 */
	admit("c@x", &lim, T0, D0, false, USAGE_OK);
	snprintf(row.account, sizeof(row.account), "c@x");
	row.day = D0;
	row.minute = T0 / 60;
	assert_int_equal(usage_load(tab, &row), 0);
	assert_int_equal(get("c@x", T0, D0).active, 0);
	assert_int_equal(get("c@x", T0, D0).calls_day, 7);

	/* reset: every counter but active */
	admit("d@x", &lim, T0, D0, false, USAGE_OK);
	admit("d@x", &lim, T0, D0, false, USAGE_OK);
	usage_release(tab, "d@x", 100, D0);
	admit("d@x", &(struct usage_limits){ .per_day = 1 }, T0, D0, false,
	    USAGE_PER_DAY);
	usage_reset(tab, "d@x");
	u = get("d@x", T0, D0);
	assert_int_equal(u.active, 1);
	assert_int_equal(u.calls_minute, 0);
	assert_int_equal(u.calls_day, 0);
	assert_int_equal(u.seconds_day, 0);
	assert_int_equal(u.blocked_day, 0);
	admit("d@x", &(struct usage_limits){ .per_day = 1 }, T0, D0, false,
	    USAGE_OK);
	usage_reset(tab, "a@x");
	admit("a@x", &lim, T0 + 60, D0, false, USAGE_OK);
}

struct seen {
	size_t			 n;
	struct store_usage	 u[16];
};

static void
collect_fn(void *arg, const struct store_usage *u)
{
	struct seen *s = arg;

	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->u[i].account, u->account) == 0)
			fail_msg("%s collected twice", u->account);
	assert_true(s->n < 16);
	s->u[s->n++] = *u;
}

static const struct store_usage *
seen_find(const struct seen *s, const char *acct)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->u[i].account, acct) == 0)
			return &s->u[i];
	return NULL;
}

static void
test_collect(void **state)
{
	const struct usage_limits lim = { .concurrent = 1 };
	struct seen s = { 0 };

	(void)state;
	assert_int_equal(usage_collect(tab, collect_fn, &s), 0);
	admit("a@x", &lim, T0, D0, false, USAGE_OK);
	admit("a@x", &lim, T0, D0, false, USAGE_CONCURRENT);
	admit("b@x", &lim, T0, D0, false, USAGE_OK);
	usage_release(tab, "b@x", 42, D0);
	admit("c@x", &lim, T0, D0, false, USAGE_OK);
	assert_int_equal(usage_collect(tab, collect_fn, &s), 3);
	assert_int_equal(s.n, 3);
	assert_non_null(seen_find(&s, "a@x"));
	assert_int_equal(seen_find(&s, "a@x")->active, 1);
	assert_int_equal(seen_find(&s, "a@x")->blocked_day, 1);
	assert_int_equal(seen_find(&s, "b@x")->seconds_day, 42);
	assert_int_equal(seen_find(&s, "b@x")->active, 0);
	assert_int_equal(seen_find(&s, "c@x")->calls_day, 1);
	/* nothing changed since */
	s.n = 0;
	assert_int_equal(usage_collect(tab, collect_fn, &s), 0);
	/* get and seconds_left change nothing */
	(void)get("a@x", T0, D0);
	(void)usage_seconds_left(tab, "a@x",
	    &(struct usage_limits){ .minutes_per_day = 1 }, D0);
	assert_int_equal(usage_collect(tab, collect_fn, &s), 0);
	/* each of release, reset, admit marks its entry */
	usage_release(tab, "a@x", 1, D0);
	usage_reset(tab, "b@x");
	assert_int_equal(usage_collect(tab, collect_fn, &s), 2);
	assert_int_equal(seen_find(&s, "a@x")->active, 0);
	assert_int_equal(seen_find(&s, "b@x")->seconds_day, 0);
	s.n = 0;
	admit("c@x", &lim, T0, D0, false, USAGE_CONCURRENT);
	assert_int_equal(usage_collect(tab, collect_fn, &s), 1);
	assert_string_equal(s.u[0].account, "c@x");
}

/* Many accounts: collect sees each exactly once. */
static void
count_fn(void *arg, const struct store_usage *u)
{
	uint8_t *hits = arg;
	unsigned i;

	assert_int_equal(sscanf(u->account, "user%u@x", &i), 1);
	assert_true(i < 5000);
	hits[i]++;
	assert_int_equal(u->calls_day, 1 + i % 3);
}

static void
test_collect_many(void **state)
{
	static uint8_t hits[5000];
	const struct usage_limits lim = { 0 };
	char acct[32];

	(void)state;
	for (unsigned i = 0; i < 5000; i++) {
		snprintf(acct, sizeof(acct), "user%u@x", i);
		for (unsigned k = 0; k <= i % 3; k++)
			admit(acct, &lim, T0, D0, false, USAGE_OK);
	}
	memset(hits, 0, sizeof(hits));
	assert_int_equal(usage_collect(tab, count_fn, hits), 5000);
	for (unsigned i = 0; i < 5000; i++)
		assert_int_equal(hits[i], 1);
	assert_int_equal(usage_collect(tab, count_fn, hits), 0);
}

#define NTHREADS	4
#define NITER		10000
#define NACCT		3

static const char *const accts[NACCT] = { "t0@x", "t1@x", "t2@x" };

struct worker {
	pthread_t	 th;
	int		 id;
	bool		 limited;	/* concurrent 2 on every account */
	uint32_t	 ok[NACCT], refused[NACCT];
	int		 err;
};

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	const struct usage_limits lim = { .concurrent = w->limited ? 2 : 0 };

	for (int i = 0; i < NITER; i++) {
		int a = (w->id + i) % NACCT;
		uint32_t v;
		int r = usage_admit(tab, accts[a], &lim, T0, D0, false, &v);

		if (r == USAGE_OK) {
			w->ok[a]++;
			usage_release(tab, accts[a], 1, D0);
		} else if (r == USAGE_CONCURRENT && v >= 2)
			w->refused[a]++;
		else
			w->err++;
	}
	return NULL;
}

static void *
collector_run(void *arg)
{
	atomic_bool *stop = arg;

	while (!atomic_load(stop))
		(void)usage_collect(tab, noop_fn, NULL);
	return NULL;
}

static void
threads(bool limited)
{
	struct worker w[NTHREADS];
	pthread_t col;
	atomic_bool stop = false;

	memset(w, 0, sizeof(w));
	assert_int_equal(pthread_create(&col, NULL, collector_run,
	    &stop), 0);
	for (int t = 0; t < NTHREADS; t++) {
		w[t].id = t;
		w[t].limited = limited;
		assert_int_equal(pthread_create(&w[t].th, NULL, worker_run,
		    &w[t]), 0);
	}
	for (int t = 0; t < NTHREADS; t++) {
		assert_int_equal(pthread_join(w[t].th, NULL), 0);
		assert_int_equal(w[t].err, 0);
	}
	atomic_store(&stop, true);
	assert_int_equal(pthread_join(col, NULL), 0);
	for (int a = 0; a < NACCT; a++) {
		struct store_usage u = get(accts[a], T0, D0);
		uint32_t ok = 0, refused = 0, calls = 0;

		for (int t = 0; t < NTHREADS; t++) {
			ok += w[t].ok[a];
			refused += w[t].refused[a];
		}
		/* thread t calls account a (i + t) % 3 == a times */
		for (int t = 0; t < NTHREADS; t++)
			calls += (uint32_t)((NITER + NACCT - 1 -
			    ((a - t) % NACCT + NACCT) % NACCT) / NACCT);
		assert_int_equal(ok + refused, calls);
		assert_int_equal(u.active, 0);
		assert_int_equal(u.calls_day, ok);
		assert_int_equal(u.calls_minute, ok);
		assert_int_equal(u.seconds_day, ok);
		assert_int_equal(u.blocked_day, refused);
		if (!limited)
			assert_int_equal(refused, 0);
	}
	(void)usage_collect(tab, noop_fn, NULL);
}

static void
test_threads(void **state)
{
	(void)state;
	threads(false);
}

static void
test_threads_limited(void **state)
{
	(void)state;
	threads(true);
}

static void
set_tz(const char *tz)
{
	if (tz != NULL)
		setenv("TZ", tz, 1);
	else
		unsetenv("TZ");
	tzset();
}

static void
test_day(void **state)
{
	const char *old = getenv("TZ");
	char *saved = old != NULL ? strdup(old) : NULL;
	/* Central Europe with its summer time, from the rule, so that no
	 * tz database is needed */
	static const char *const zones[] = {
		"UTC0", "XXX-10", "XXX+11", "CET-1CEST,M3.5.0,M10.5.0/3",
		"EST5EDT,M3.2.0,M11.1.0",
	};

	(void)state;
	set_tz("UTC0");
	assert_int_equal(usage_day(0), 0);
	assert_int_equal(usage_day(86399), 0);
	assert_int_equal(usage_day(86400), 1);
	assert_int_equal(usage_day(-1), -1);
	assert_int_equal(usage_day(-86400), -1);
	assert_int_equal(usage_day(-86401), -2);
	assert_int_equal(usage_day(T0), D0);
	/* UTC+10: the day starts at 14:00 UTC */
	set_tz("XXX-10");
	assert_int_equal(usage_day(50399), 0);
	assert_int_equal(usage_day(50400), 1);
	assert_int_equal(usage_day(-36000), 0);
	assert_int_equal(usage_day(-36001), -1);
	/* UTC-11 */
	set_tz("XXX+11");
	assert_int_equal(usage_day(39599), -1);
	assert_int_equal(usage_day(39600), 0);

	/* over a year in every zone: never back, one day at a time, and a
	 * new day exactly when the local calendar date changes */
	for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
		int64_t prev_day = 0;
		struct tm prev_tm = { 0 };

		set_tz(zones[z]);
		for (int64_t t = 1704067200 - 86400; t < 1735689600 + 86400;
		    t += 577) {
			time_t tt = (time_t)t;
			struct tm tm;
			int64_t d = usage_day(t);

			assert_non_null(localtime_r(&tt, &tm));
			if (t != 1704067200 - 86400) {
				bool same = tm.tm_year == prev_tm.tm_year &&
				    tm.tm_yday == prev_tm.tm_yday;

				if (d < prev_day || d > prev_day + 1 ||
				    same != (d == prev_day))
					fail_msg("TZ %s at %lld: day %lld "
					    "after %lld (same date %d)",
					    zones[z], (long long)t,
					    (long long)d, (long long)prev_day,
					    same);
			}
			prev_day = d;
			prev_tm = tm;
		}
		/* two times of one local day, the first and last second */
		{
			time_t tt = (time_t)T0;
			struct tm tm;
			time_t start, end;

			assert_non_null(localtime_r(&tt, &tm));
			tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
			tm.tm_isdst = -1;
			start = mktime(&tm);
			tm.tm_mday++;
			tm.tm_isdst = -1;
			end = mktime(&tm) - 1;
			assert_int_equal(usage_day(start), usage_day(end));
			assert_int_equal(usage_day(start), usage_day(T0));
			assert_int_equal(usage_day(start - 1) + 1,
			    usage_day(start));
			assert_int_equal(usage_day(end + 1),
			    usage_day(end) + 1);
		}
	}
	set_tz(saved);
	free(saved);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_concurrent, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_per_minute, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_per_day, setup, teardown),
		cmocka_unit_test_setup_teardown(test_minutes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exempt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_unknown, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_reset, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_collect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_collect_many, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads_limited, setup,
		    teardown),
		cmocka_unit_test(test_day),
		cmocka_unit_test_setup_teardown(test_fixed_minutes_value,
		    setup, teardown),
	};
	static const uint8_t key[16] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	sw_hash_set_key(key);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
