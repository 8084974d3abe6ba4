/*
 * Unit tests for src/store/store_config.c: the history of config
 * changes (add/list round trip, newest first, the limit, a callback
 * stopping the walk), validation on write and the bounds (the longest
 * summary and diff that fit, one byte more refused), the scrubbing of
 * summary and diff (newlines and tabs stay in a diff), the rows kept
 * (STORE_CONFIG_KEEP), the table's CHECKs, and rows edited by hand
 * refused on read (-EBADMSG, no crash).
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
#include <sqlite3.h>

#include "store/store.h"
#include "store/store_int.h"

#define T0	1740000000000LL		/* unix ms */

#include "tmpstore.h"

/* Run sql on a connection of its own; the SQLite result code. */
static int
raw_exec(const char *sql)
{
	sqlite3 *db;
	int rc;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc;
}

/* What a walk saw: the rows copied, the diffs too (they are borrowed). */
struct seen {
	int				n;
	int				stop_at;
	struct store_config_change	c[8];
	char				*diff[8];
};

static int
collect(const struct store_config_change *c, void *arg)
{
	struct seen *s = arg;

	assert_int_equal(strlen(c->diff), c->diff_len);
	if (s->n < 8) {
		s->c[s->n] = *c;
		s->diff[s->n] = strdup(c->diff);
		s->c[s->n].diff = s->diff[s->n];
	}
	s->n++;
	return s->stop_at > 0 && s->n == s->stop_at ? 7 : 0;
}

static void
seen_free(struct seen *s)
{
	for (int i = 0; i < 8; i++)
		free(s->diff[i]);
	memset(s, 0, sizeof(*s));
}

static int
list(struct store *st, size_t max, struct seen *s)
{
	seen_free(s);
	return store_config_changes_list(st, max, collect, s);
}

static void
test_config_round_trip(void **state)
{
	static const char diff[] =
	    "--- sipwall.yaml (running)\n"
	    "+++ sipwall.yaml (new)\n"
	    "@@ -3,1 +3,1 @@\n"
	    "-  workers: 2\n"
	    "+  workers: 4\n"
	    "\tindented by a tab\n";
	struct store *st = open_ok();
	struct seen s = { 0 };

	assert_int_equal(list(st, 0, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(store_config_change_add(st, T0, "sighup",
	    STORE_CONFIG_APPLIED, "node.workers: 2 -> 4", diff), 0);
	assert_int_equal(store_config_change_add(st, T0 + 10, "ctl:uid=0",
	    STORE_CONFIG_REFUSED, "sipwall.yaml:3:12: not a number", ""), 0);
	assert_int_equal(store_config_change_add(st, T0 + 5, "admin:ops",
	    STORE_CONFIG_APPLIED, "", "x"), 0);

	/* Newest first (by id: the order they were added in). */
	assert_int_equal(list(st, 0, &s), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.c[0].actor, "admin:ops");
	assert_int_equal(s.c[0].at_ms, T0 + 5);
	assert_string_equal(s.c[0].summary, "");
	assert_string_equal(s.c[0].diff, "x");
	assert_string_equal(s.c[1].actor, "ctl:uid=0");
	assert_string_equal(s.c[1].result, STORE_CONFIG_REFUSED);
	assert_string_equal(s.c[1].summary, "sipwall.yaml:3:12: not a number");
	assert_int_equal(s.c[1].diff_len, 0);
	assert_string_equal(s.c[2].actor, "sighup");
	assert_string_equal(s.c[2].result, STORE_CONFIG_APPLIED);
	assert_int_equal(s.c[2].at_ms, T0);
	assert_string_equal(s.c[2].diff, diff);
	assert_int_equal(s.c[2].diff_len, sizeof(diff) - 1);
	assert_true(s.c[0].id > s.c[1].id && s.c[1].id > s.c[2].id);

	/* The limit, and a callback that stops the walk. */
	assert_int_equal(list(st, 2, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.c[1].actor, "ctl:uid=0");
	assert_int_equal(list(st, SIZE_MAX, &s), 0);
	assert_int_equal(s.n, 3);
	seen_free(&s);
	s.stop_at = 2;
	assert_int_equal(store_config_changes_list(st, 0, collect, &s), 7);
	assert_int_equal(s.n, 2);
	seen_free(&s);
	assert_int_equal(store_config_changes_list(st, 0, NULL, NULL), -EINVAL);
	store_close(st);
}

static void
test_config_validation_and_bounds(void **state)
{
	struct store *st = open_ok();
	char *big = malloc(STORE_CONFIG_DIFF_MAX + 2);
	char sum[STORE_CONFIG_SUMMARY_MAX + 2], actor[STORE_CONFIG_ACTOR_MAX + 2];
	struct seen s = { 0 };

	assert_non_null(big);
	memset(big, 'd', STORE_CONFIG_DIFF_MAX + 1);
	big[STORE_CONFIG_DIFF_MAX + 1] = '\0';
	memset(sum, 's', sizeof(sum) - 1);
	sum[sizeof(sum) - 1] = '\0';
	memset(actor, 'a', sizeof(actor) - 1);
	actor[sizeof(actor) - 1] = '\0';

#define BAD(at, a, r, su, d) \
	assert_int_equal(store_config_change_add(st, at, a, r, su, d), -EINVAL)
	BAD(-1, "sighup", "applied", "", "");
	BAD(T0, NULL, "applied", "", "");
	BAD(T0, "", "applied", "", "");
	BAD(T0, actor, "applied", "", "");		/* one byte too long */
	BAD(T0, "sig\nhup", "applied", "", "");
	BAD(T0, "sig\x1b[2Jhup", "applied", "", "");
	BAD(T0, "sighup", NULL, "", "");
	BAD(T0, "sighup", "", "", "");
	BAD(T0, "sighup", "Applied", "", "");
	BAD(T0, "sighup", "failed", "", "");
	BAD(T0, "sighup", "applied", NULL, "");
	BAD(T0, "sighup", "applied", "", NULL);
	BAD(T0, "sighup", "applied", sum, "");		/* one byte too long */
	BAD(T0, "sighup", "applied", "", big);		/* one byte too long */
#undef BAD
	assert_int_equal(raw_int("SELECT count(*) FROM config_changes"), 0);

	/* The longest that fit. */
	big[STORE_CONFIG_DIFF_MAX] = '\0';
	sum[STORE_CONFIG_SUMMARY_MAX] = '\0';
	actor[STORE_CONFIG_ACTOR_MAX] = '\0';
	assert_int_equal(store_config_change_add(st, 0, actor,
	    STORE_CONFIG_APPLIED, sum, big), 0);
	assert_int_equal(list(st, 0, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.c[0].diff_len, STORE_CONFIG_DIFF_MAX);
	assert_int_equal(strlen(s.c[0].summary), STORE_CONFIG_SUMMARY_MAX);
	assert_int_equal(strlen(s.c[0].actor), STORE_CONFIG_ACTOR_MAX);
	assert_int_equal(s.c[0].at_ms, 0);
	seen_free(&s);
	free(big);
	store_close(st);
}

/* A stray byte in a config file does not lose the record. */
static void
test_config_scrubs_summary_and_diff(void **state)
{
	struct store *st = open_ok();
	struct seen s = { 0 };

	assert_int_equal(store_config_change_add(st, T0, "sighup",
	    STORE_CONFIG_REFUSED, "line 1\nline\x1b[2J 2\xff",
	    "-a: 1\n+a: \x1b]0;pwned\x07\n\t+b: J\xc3\xbcrgen\xc2\x85\n"), 0);
	assert_int_equal(list(st, 0, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.c[0].summary, "line 1?line?[2J 2?");
	assert_string_equal(s.c[0].diff,
	    "-a: 1\n+a: ?]0;pwned?\n\t+b: J\xc3\xbcrgen??\n");
	seen_free(&s);
	store_close(st);
}

static void
test_config_keeps_the_last_rows(void **state)
{
	struct store *st = open_ok();
	struct seen s = { 0 };
	char sum[32];

	for (int i = 0; i < STORE_CONFIG_KEEP + 5; i++) {
		snprintf(sum, sizeof(sum), "change %d", i);
		assert_int_equal(store_config_change_add(st, T0 + i, "sighup",
		    STORE_CONFIG_APPLIED, sum, ""), 0);
	}
	assert_int_equal(raw_int("SELECT count(*) FROM config_changes"),
	    STORE_CONFIG_KEEP);
	assert_int_equal(raw_int("SELECT min(at_ms) FROM config_changes"),
	    T0 + 5);
	assert_int_equal(list(st, 1, &s), 0);
	snprintf(sum, sizeof(sum), "change %d", STORE_CONFIG_KEEP + 4);
	assert_string_equal(s.c[0].summary, sum);
	seen_free(&s);
	/* Inside a transaction of the caller's, as a savepoint. */
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_config_change_add(st, T0, "sighup",
	    STORE_CONFIG_APPLIED, "in a transaction", ""), 0);
	assert_int_equal(store_rollback(st), 0);
	assert_int_equal(raw_int("SELECT count(*) FROM config_changes "
	    "WHERE summary = 'in a transaction'"), 0);
	store_close(st);
}

#define CFG_ROW "INSERT INTO config_changes (at_ms, actor, result, " \
	"summary, diff) "

static void
test_config_table_checks(void **state)
{
	static const char *const bad[] = {
		CFG_ROW "VALUES (-1, 'a', 'applied', '', '')",
		CFG_ROW "VALUES (1, '', 'applied', '', '')",
		CFG_ROW "VALUES (1, printf('%.128c', 'a'), 'applied', '', '')",
		CFG_ROW "VALUES (1, 'a', 'maybe', '', '')",
		CFG_ROW "VALUES (1, 'a', 'applied', printf('%.1024c', 's'), '')",
		CFG_ROW "VALUES (1, 'a', 'applied', '', "
		    "printf('%.262145c', 'd'))",
		CFG_ROW "VALUES (1, 'a', 'applied', NULL, '')",
		CFG_ROW "VALUES (1, 'a', 'applied', '', NULL)",
		CFG_ROW "VALUES ('soon', 'a', 'applied', '', '')",
	};

	store_close(open_ok());
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_not_equal(raw_exec(bad[i]), SQLITE_OK);
	assert_int_equal(raw_exec(CFG_ROW "VALUES (1, printf('%.127c', 'a'), "
	    "'refused', printf('%.1023c', 's'), printf('%.262144c', 'd'))"),
	    SQLITE_OK);
	assert_int_equal(raw_int("SELECT count(*) FROM pragma_table_list "
	    "WHERE name = 'config_changes' AND strict = 1"), 1);
}

/* What a hand edit with the CHECKs off can write is never printed. */
static void
test_config_corrupt_rows_refused(void **state)
{
	static const char *const bad[] = {
		CFG_ROW "VALUES (1, 'a\x1b[31m', 'applied', '', '')",
		CFG_ROW "VALUES (1, 'a', 'applied', 'x\ny', '')",
		CFG_ROW "VALUES (1, 'a', 'applied', '', 'x\x1b[2J')",
		CFG_ROW "VALUES (1, 'a', 'applied', '', "
		    "CAST(x'41ff42' AS TEXT))",
		CFG_ROW "VALUES (1, 'a', 'applied', '', "
		    "CAST(x'410042' AS TEXT))",
		/* With the CHECKs off. */
		CFG_ROW "VALUES (1, 'a', 'bogus', '', '')",
		CFG_ROW "VALUES (-5, 'a', 'applied', '', '')",
		CFG_ROW "VALUES (1, '', 'applied', '', '')",
		CFG_ROW "VALUES (1, 'a', 'applied', printf('%.2000c', 's'), '')",
		CFG_ROW "VALUES (1, 'a', 'applied', '', "
		    "printf('%.262145c', 'd'))",
	};
	struct store *st = open_ok();
	struct seen s = { 0 };
	char sql[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(raw_exec("DELETE FROM config_changes"),
		    SQLITE_OK);
		snprintf(sql, sizeof(sql), "PRAGMA ignore_check_constraints "
		    "= ON; %s", bad[i]);
		assert_int_equal(raw_exec(sql), SQLITE_OK);
		/* The bad row is the oldest: the good one was seen first. */
		assert_int_equal(store_config_change_add(st, T0, "sighup",
		    STORE_CONFIG_APPLIED, "good", ""), 0);
		assert_int_equal(list(st, 0, &s), -EBADMSG);
		assert_int_equal(s.n, 1);
		assert_string_equal(s.c[0].summary, "good");
		/* A limit that stops before it is fine. */
		assert_int_equal(list(st, 1, &s), 0);
	}
	seen_free(&s);
	store_close(st);
}

int
main(void)
{
#define T(f)	TMPSTORE_TEST(f)
	const struct CMUnitTest tests[] = {
		T(test_config_round_trip),
		T(test_config_validation_and_bounds),
		T(test_config_scrubs_summary_and_diff),
		T(test_config_keeps_the_last_rows),
		T(test_config_table_checks),
		T(test_config_corrupt_rows_refused),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
