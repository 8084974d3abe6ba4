/*
 * Unit tests for src/store/store_baseline.c: baselines and the countries
 * of accounts (round trip, replace, validation on the way in and out),
 * the tables' CHECKs, and the migration of a version 4 store to 5.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/store.h"
#include "store/store_int.h"

#include "tmpstore.h"

static void
raw_exec(const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

struct rows {
	size_t			n;
	struct store_baseline	b[8];
	char			acct[8][64];
	char			cc[8][4];
	int64_t			first[8];
};

static int
collect(void *arg, const struct store_baseline *b)
{
	struct rows *r = arg;

	if (r->n < 8)
		r->b[r->n++] = *b;
	return 0;
}

static int
collect_cc(void *arg, const char *account, const char *cc, int64_t first)
{
	struct rows *r = arg;

	if (r->n < 8) {
		snprintf(r->acct[r->n], sizeof(r->acct[0]), "%s", account);
		snprintf(r->cc[r->n], sizeof(r->cc[0]), "%s", cc);
		r->first[r->n++] = first;
	}
	return 0;
}

static void
bl(struct store_baseline *b, const char *metric, uint32_t slot, double v)
{
	memset(b, 0, sizeof(*b));
	snprintf(b->metric, sizeof(b->metric), "%s", metric);
	b->slot = slot;
	b->value = v;
	b->samples = 7;
	b->updated = 1000;
}

static void
test_baseline_round_trip(void **state)
{
	struct store *st = open_ok();
	struct store_baseline b;
	struct rows r = { 0 };

	bl(&b, "reg_failures", 167, 2.5);
	assert_int_equal(store_baseline_put(st, &b), 0);
	bl(&b, "auth_failures", 0, 0);
	assert_int_equal(store_baseline_put(st, &b), 0);
	bl(&b, "reg_failures", 167, 3.25);	/* replaces */
	b.samples = 8;
	assert_int_equal(store_baseline_put(st, &b), 0);
	assert_int_equal(store_baseline_list(st, collect, &r), 0);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.b[0].metric, "auth_failures");
	assert_string_equal(r.b[1].metric, "reg_failures");
	assert_int_equal(r.b[1].slot, 167);
	assert_true(r.b[1].value == 3.25);
	assert_int_equal(r.b[1].samples, 8);
	assert_int_equal(r.b[1].updated, 1000);

	/* refused: bad names, slots, values */
	bl(&b, "Reg", 0, 1);
	assert_int_equal(store_baseline_put(st, &b), -EINVAL);
	bl(&b, "", 0, 1);
	assert_int_equal(store_baseline_put(st, &b), -EINVAL);
	bl(&b, "x", 168, 1);
	assert_int_equal(store_baseline_put(st, &b), -EINVAL);
	bl(&b, "x", 0, -1);
	assert_int_equal(store_baseline_put(st, &b), -EINVAL);
	bl(&b, "x", 0, NAN);
	assert_int_equal(store_baseline_put(st, &b), -EINVAL);
	bl(&b, "x", 0, INFINITY);
	assert_int_equal(store_baseline_put(st, &b), -EINVAL);
	assert_int_equal(store_baseline_list(st, NULL, NULL), -EINVAL);
	store_close(st);

	/* a row edited by hand that breaks the rules stops the walk */
	raw_exec("INSERT INTO baselines (metric, slot, value, samples, updated)"
	    " VALUES ('bad-name', 1, 1.0, 1, 1)");
	st = open_ok();
	r.n = 0;
	assert_int_equal(store_baseline_list(st, collect, &r), -EBADMSG);
	store_close(st);
}

static void
test_countries(void **state)
{
	struct store *st = open_ok();
	struct rows r = { 0 };

	assert_int_equal(store_country_add(st, "1001", "44", 10), 0);
	assert_int_equal(store_country_add(st, "1001", "44", 20), 0); /* kept */
	assert_int_equal(store_country_add(st, "1001", "1", 30), 0);
	assert_int_equal(store_country_add(st, "1002", "353", 40), 0);
	assert_int_equal(store_country_add(st, "1002", "3530", 40), -EINVAL);
	assert_int_equal(store_country_add(st, "1002", "4a", 40), -EINVAL);
	assert_int_equal(store_country_add(st, "", "44", 40), -EINVAL);
	assert_int_equal(store_country_add(st, "a\nb", "44", 40), -EINVAL);
	assert_int_equal(store_country_add(st, "1002", "44", -1), -EINVAL);
	assert_int_equal(store_country_list(st, collect_cc, &r), 0);
	assert_int_equal(r.n, 3);
	assert_string_equal(r.acct[0], "1001");
	assert_string_equal(r.cc[0], "1");
	assert_string_equal(r.cc[1], "44");
	assert_int_equal(r.first[1], 10);
	assert_string_equal(r.acct[2], "1002");
	store_close(st);
}

static void
test_table_checks(void **state)
{
	struct store *st = open_ok();
	sqlite3 *db;
	static const char *const bad[] = {
		"INSERT INTO baselines (metric, slot, value, updated) "
		    "VALUES ('m', 168, 1.0, 1)",
		"INSERT INTO baselines (metric, slot, value, updated) "
		    "VALUES ('m', 1, -1.0, 1)",
		"INSERT INTO baselines (metric, slot, value, updated) "
		    "VALUES ('m', 1, 'x', 1)",
		"INSERT INTO baselines (metric, slot, value, updated) "
		    "VALUES ('', 1, 1.0, 1)",
		"INSERT INTO alert_countries (account, cc, first_seen) "
		    "VALUES ('a', '1234', 1)",
		"INSERT INTO alert_countries (account, cc, first_seen) "
		    "VALUES ('', '1', 1)",
	};

	store_close(st);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_not_equal(sqlite3_exec(db, bad[i], NULL, NULL, NULL),
		    SQLITE_OK);
	sqlite3_close(db);
}

static void
test_migrate_from_v4(void **state)
{
	struct store_baseline b;
	struct store *st;
	struct rows r = { 0 };

	/* A version 4 store with a call record, as the previous sipwall
	 * left it. */
	old_store(4, "INSERT INTO calls (call_id, started_ms, direction) "
	    "VALUES ('c1', 5, 'outbound');");
	assert_int_equal(raw_int("PRAGMA user_version"), 4);
	assert_int_equal(raw_int("SELECT count(*) FROM sqlite_schema "
	    "WHERE name IN ('baselines', 'alert_countries')"), 0);

	st = open_ok();
	assert_int_equal(store_schema_version(st), STORE_SCHEMA_VERSION);
	assert_int_equal(raw_int("PRAGMA user_version"), STORE_SCHEMA_VERSION);
	assert_int_equal(raw_int("SELECT count(*) FROM calls"), 1);
	bl(&b, "calls_out", 3, 1.0);
	assert_int_equal(store_baseline_put(st, &b), 0);
	store_close(st);
	assert_int_equal(raw_int("SELECT count(*) FROM pragma_table_list "
	    "WHERE name IN ('baselines', 'alert_countries') AND strict = 1"),
	    2);
	/* Reopening a current store migrates nothing and keeps the row. */
	st = open_ok();
	assert_int_equal(store_baseline_list(st, collect, &r), 0);
	assert_int_equal(r.n, 1);
	store_close(st);
}

int
main(void)
{
#define T(f)	TMPSTORE_TEST(f)
	const struct CMUnitTest tests[] = {
		T(test_baseline_round_trip),
		T(test_countries),
		T(test_table_checks),
		T(test_migrate_from_v4),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
