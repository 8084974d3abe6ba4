/*
 * Unit tests for src/store/store_usage.c: the usage counters of the
 * fraud limits (put/get/list round trip, replacing a row, validation),
 * the operator's reset (counters zeroed in one transaction with the
 * queued request, gen.resets bumped, seen by another connection), the
 * request listing and reset_done (also from inside the listing, as the
 * daemon does it), the tables' CHECKs, and the migration of a version
 * 2 store to version 3.
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

#define MD5A	"0123456789abcdef0123456789abcdef"
#define SHAA	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

#include "tmpstore.h"

static void
usage_init(struct store_usage *u, const char *account)
{
	size_t n = strlen(account);

	memset(u, 0, sizeof(*u));
	assert_true(n < sizeof(u->account));
	memcpy(u->account, account, n + 1);
	u->minute = 29000000;
	u->calls_minute = 4;
	u->day = 20150;
	u->calls_day = 17;
	u->seconds_day = 3599;
	u->blocked_day = 2;
	u->active = 1;
	u->updated = 1740000000;
}

static uint64_t
gen_of(struct store *st, enum store_gen_kind kind)
{
	uint64_t g = UINT64_MAX;

	assert_int_equal(store_gen(st, kind, &g), 0);
	return g;
}

struct seen {
	int	n;
	int	stop_at;
	char	account[8][STORE_AOR_MAX + 1];
	int64_t	at[8];
	struct store_usage u[8];
};

static int
collect_usage(void *arg, const struct store_usage *u)
{
	struct seen *c = arg;

	if (c->n < 8)
		c->u[c->n] = *u;
	c->n++;
	return c->stop_at > 0 && c->n == c->stop_at ? 9 : 0;
}

static int
collect_reset(void *arg, const char *account, int64_t at)
{
	struct seen *c = arg;

	if (c->n < 8) {
		snprintf(c->account[c->n], sizeof(c->account[0]), "%s",
		    account);
		c->at[c->n] = at;
	}
	c->n++;
	return c->stop_at > 0 && c->n == c->stop_at ? 9 : 0;
}

static void
test_usage_round_trip(void **state)
{
	struct store *st = open_ok();
	struct store_usage u, g;
	struct seen c = { 0 };
	uint64_t ga = gen_of(st, STORE_GEN_ACCOUNTS);

	assert_int_equal(store_usage_get(st, "alice@example.com", &g), -ENOENT);
	usage_init(&u, "bob@example.com");
	assert_int_equal(store_usage_put(st, &u), 0);
	usage_init(&u, "alice@example.com");
	u.calls_day = UINT32_MAX;		/* the whole range fits */
	assert_int_equal(store_usage_put(st, &u), 0);
	assert_int_equal(store_usage_get(st, "alice@example.com", &g), 0);
	assert_memory_equal(&g, &u, sizeof(u));

	/* Put replaces the row. */
	u.minute++;
	u.calls_minute = 1;
	u.calls_day = 18;
	u.active = 0;
	u.updated += 60;
	assert_int_equal(store_usage_put(st, &u), 0);
	assert_int_equal(store_usage_get(st, "alice@example.com", &g), 0);
	assert_memory_equal(&g, &u, sizeof(u));
	assert_int_equal(raw_int("SELECT count(*) FROM usage"), 2);

	assert_int_equal(store_usage_list(st, collect_usage, &c), 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.u[0].account, "alice@example.com");
	assert_int_equal(c.u[0].calls_day, 18);
	assert_string_equal(c.u[1].account, "bob@example.com");
	assert_int_equal(c.u[1].seconds_day, 3599);
	assert_int_equal(c.u[1].blocked_day, 2);
	assert_int_equal(c.u[1].active, 1);
	/* A callback's non-zero value stops the walk and is returned. */
	memset(&c, 0, sizeof(c));
	c.stop_at = 1;
	assert_int_equal(store_usage_list(st, collect_usage, &c), 9);
	assert_int_equal(c.n, 1);
	assert_int_equal(store_usage_list(st, NULL, NULL), -EINVAL);

	/* Counters are not account changes: no reload for the daemon. */
	assert_int_equal(gen_of(st, STORE_GEN_ACCOUNTS), ga);
	assert_int_equal(gen_of(st, STORE_GEN_RESETS), 0);
	store_close(st);
}

static void
test_usage_validation(void **state)
{
	struct store *st = open_ok();
	struct store_usage u, g;
	char longer[STORE_AOR_MAX + 2];

	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';

	usage_init(&u, "");
	assert_int_equal(store_usage_put(st, &u), -EINVAL);
	usage_init(&u, "al\nice@example.com");
	assert_int_equal(store_usage_put(st, &u), -EINVAL);
	usage_init(&u, "al\x7fice@example.com");
	assert_int_equal(store_usage_put(st, &u), -EINVAL);
	/* Shorter than any "u@d": refused by the table's CHECK. */
	usage_init(&u, "ab");
	assert_int_equal(store_usage_put(st, &u), -EINVAL);
	/* No NUL inside the field: refused without reading past it. */
	usage_init(&u, "alice@example.com");
	memset(u.account, 'a', sizeof(u.account));
	assert_int_equal(store_usage_put(st, &u), -EINVAL);
	usage_init(&u, "alice@example.com");
	u.minute = -1;
	assert_int_equal(store_usage_put(st, &u), -EINVAL);
	usage_init(&u, "alice@example.com");
	u.day = -1;
	assert_int_equal(store_usage_put(st, &u), -EINVAL);
	usage_init(&u, "alice@example.com");
	u.updated = -1;
	assert_int_equal(store_usage_put(st, &u), -EINVAL);
	assert_int_equal(store_usage_put(st, NULL), -EINVAL);

	/* The longest account that fits is fine. */
	usage_init(&u, "x");
	memset(u.account, 'b', STORE_AOR_MAX);
	u.account[STORE_AOR_MAX] = '\0';
	assert_int_equal(store_usage_put(st, &u), 0);
	assert_int_equal(store_usage_get(st, u.account, &g), 0);

	assert_int_equal(store_usage_get(st, longer, &g), -EINVAL);
	assert_int_equal(store_usage_get(st, "", &g), -EINVAL);
	assert_int_equal(store_usage_get(st, NULL, &g), -EINVAL);
	assert_int_equal(store_usage_get(st, "a\tb@c", &g), -EINVAL);
	assert_int_equal(store_usage_get(st, "alice@example.com", NULL),
	    -EINVAL);
	assert_int_equal(store_usage_reset(st, "", 10), -EINVAL);
	assert_int_equal(store_usage_reset(st, longer, 10), -EINVAL);
	assert_int_equal(store_usage_reset(st, "a\rb@c", 10), -EINVAL);
	assert_int_equal(store_usage_reset(st, "alice@example.com", -1),
	    -EINVAL);
	assert_int_equal(store_usage_reset_done(st, "", 10), -EINVAL);
	assert_int_equal(store_usage_reset_done(st, NULL, 10), -EINVAL);
	assert_int_equal(store_usage_resets(st, NULL, NULL), -EINVAL);
	/* Nothing was written by the refusals. */
	assert_int_equal(raw_int("SELECT count(*) FROM usage"), 1);
	assert_int_equal(raw_int("SELECT count(*) FROM usage_resets"), 0);
	assert_int_equal(gen_of(st, STORE_GEN_RESETS), 0);
	store_close(st);
}

static void
test_usage_reset(void **state)
{
	struct store *st = open_ok();
	struct store_usage u, g;
	struct seen c = { 0 };

	usage_init(&u, "alice@example.com");
	assert_int_equal(store_usage_put(st, &u), 0);
	assert_int_equal(store_usage_reset(st, "alice@example.com",
	    1740000500), 0);
	assert_int_equal(store_usage_get(st, "alice@example.com", &g), 0);
	assert_int_equal(g.calls_minute, 0);
	assert_int_equal(g.calls_day, 0);
	assert_int_equal(g.seconds_day, 0);
	assert_int_equal(g.blocked_day, 0);
	assert_int_equal(g.active, 0);
	/* The windows stay. */
	assert_int_equal(g.minute, u.minute);
	assert_int_equal(g.day, u.day);
	assert_int_equal(g.updated, 1740000500);
	assert_int_equal(gen_of(st, STORE_GEN_RESETS), 1);

	/* No row: no row made, the request is queued all the same. */
	assert_int_equal(store_usage_reset(st, "bob@example.com", 1740000400),
	    0);
	assert_int_equal(store_usage_get(st, "bob@example.com", &g), -ENOENT);
	assert_int_equal(gen_of(st, STORE_GEN_RESETS), 2);
	/* The same request twice is one request and one bump. */
	assert_int_equal(store_usage_reset(st, "bob@example.com", 1740000400),
	    0);
	assert_int_equal(gen_of(st, STORE_GEN_RESETS), 2);
	assert_int_equal(store_usage_reset(st, "alice@example.com",
	    1740000600), 0);
	assert_int_equal(gen_of(st, STORE_GEN_RESETS), 3);

	/* Oldest first. */
	assert_int_equal(store_usage_resets(st, collect_reset, &c), 0);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.account[0], "bob@example.com");
	assert_int_equal(c.at[0], 1740000400);
	assert_string_equal(c.account[1], "alice@example.com");
	assert_int_equal(c.at[1], 1740000500);
	assert_string_equal(c.account[2], "alice@example.com");
	assert_int_equal(c.at[2], 1740000600);
	memset(&c, 0, sizeof(c));
	c.stop_at = 2;
	assert_int_equal(store_usage_resets(st, collect_reset, &c), 9);
	assert_int_equal(c.n, 2);

	/* What the daemon does after applying them. */
	assert_int_equal(store_usage_reset_done(st, "alice@example.com",
	    1740000500), 0);
	assert_int_equal(store_usage_reset_done(st, "alice@example.com",
	    1740000500), -ENOENT);
	assert_int_equal(store_usage_reset_done(st, "bob@example.com", 1),
	    -ENOENT);
	assert_int_equal(store_usage_reset_done(st, "bob@example.com",
	    1740000400), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_usage_resets(st, collect_reset, &c), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.at[0], 1740000600);
	/* Deleting a request is not a new one. */
	assert_int_equal(gen_of(st, STORE_GEN_RESETS), 3);
	store_close(st);
}

struct applier {
	struct store	*st;
	int		 n;
	int		 failed;
};

static int
apply_reset(void *arg, const char *account, int64_t at)
{
	struct applier *ap = arg;

	ap->n++;
	if (store_usage_reset_done(ap->st, account, at) != 0)
		ap->failed++;
	return 0;
}

/*
 * The daemon deletes each request from inside the listing callback;
 * the walk must still see every request once, and leave none behind.
 */
static void
test_usage_reset_done_while_listing(void **state)
{
	struct store *st = open_ok();
	struct applier ap = { .st = st };
	char acc[32];

	for (int i = 0; i < 20; i++) {
		snprintf(acc, sizeof(acc), "u%02d@example.com", i);
		assert_int_equal(store_usage_reset(st, acc, 100 + i % 3), 0);
	}
	assert_int_equal(store_usage_resets(st, apply_reset, &ap), 0);
	assert_int_equal(ap.n, 20);
	assert_int_equal(ap.failed, 0);
	assert_int_equal(raw_int("SELECT count(*) FROM usage_resets"), 0);
	store_close(st);
}

/* A reset inside the caller's transaction goes with it. */
static void
test_usage_reset_nested_rollback(void **state)
{
	struct store *st = open_ok();
	struct store_usage u, g;

	usage_init(&u, "alice@example.com");
	assert_int_equal(store_usage_put(st, &u), 0);
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_usage_reset(st, "alice@example.com", 100), 0);
	assert_int_equal(store_rollback(st), 0);
	assert_int_equal(store_usage_get(st, "alice@example.com", &g), 0);
	assert_int_equal(g.calls_day, u.calls_day);
	assert_int_equal(raw_int("SELECT count(*) FROM usage_resets"), 0);
	assert_int_equal(gen_of(st, STORE_GEN_RESETS), 0);
	store_close(st);
}

/* The daemon's view: the CLI's reset is a change, and a new gen. */
static void
test_usage_reset_seen_by_other_connection(void **state)
{
	struct store *daemon = open_ok(), *cli = open_ok();
	uint64_t before = gen_of(daemon, STORE_GEN_RESETS);
	bool changed = true;

	assert_int_equal(store_changed(daemon, &changed), 0);
	assert_false(changed);
	assert_int_equal(store_usage_reset(cli, "alice@example.com", 42), 0);
	assert_int_equal(store_changed(daemon, &changed), 0);
	assert_true(changed);
	assert_int_equal(gen_of(daemon, STORE_GEN_RESETS), before + 1);
	store_close(cli);
	store_close(daemon);
}

static void
test_usage_migrate_from_v2(void **state)
{
	struct store_account a;
	struct store_usage u;
	struct store *st;

	/* A version 2 store with rows, as the previous sipwall left it. */
	old_store(2,
	    "INSERT INTO accounts (username, domain, ha1_md5, ha1_sha256, "
	    "created, locked_until) VALUES ('bob', 'example.com', '" MD5A
	    "', '" SHAA "', 42, 99);");
	assert_int_equal(raw_int("PRAGMA user_version"), 2);
	assert_int_equal(raw_int("SELECT count(*) FROM sqlite_schema "
	    "WHERE name IN ('usage', 'usage_resets')"), 0);

	st = open_ok();
	assert_int_equal(store_schema_version(st), STORE_SCHEMA_VERSION);
	assert_int_equal(raw_int("PRAGMA user_version"),
	    STORE_SCHEMA_VERSION);
	assert_int_equal(store_account_get(st, "bob", "example.com", &a), 0);
	assert_int_equal(a.locked_until, 99);
	assert_int_equal(gen_of(st, STORE_GEN_ACCOUNTS), 1);
	assert_int_equal(gen_of(st, STORE_GEN_RESETS), 0);
	assert_int_equal(store_usage_get(st, "bob@example.com", &u), -ENOENT);
	assert_int_equal(store_usage_reset(st, "bob@example.com", 7), 0);
	assert_int_equal(gen_of(st, STORE_GEN_RESETS), 1);
	store_close(st);
	/* The new tables are STRICT, with their bounds. */
	assert_int_equal(raw_int("SELECT count(*) FROM pragma_table_list "
	    "WHERE name IN ('usage', 'usage_resets') AND strict = 1"), 2);
	/* Reopening a current store migrates nothing. */
	st = open_ok();
	assert_int_equal(gen_of(st, STORE_GEN_RESETS), 1);
	store_close(st);
}

/* Rows written by hand (sqlite3(1)) stay within the struct's bounds. */
static void
test_usage_table_checks(void **state)
{
	struct store *st = open_ok();
	sqlite3 *db;
	static const char *const bad[] = {
		"INSERT INTO usage (account, minute, day, calls_day, updated) "
		    "VALUES ('a@b', 1, 1, 4294967296, 1)",
		"INSERT INTO usage (account, minute, day, active, updated) "
		    "VALUES ('a@b', 1, 1, -1, 1)",
		"INSERT INTO usage (account, minute, day, updated) "
		    "VALUES ('a@b', -5, 1, 1)",
		"INSERT INTO usage (account, minute, day, updated) "
		    "VALUES ('a@b', 'x', 1, 1)",
		"INSERT INTO usage_resets (account, at) VALUES ('a', 1)",
		"INSERT INTO usage_resets (account, at) VALUES ('a@b', -1)",
	};

	store_close(st);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_not_equal(sqlite3_exec(db, bad[i], NULL, NULL, NULL),
		    SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO usage (account, minute, "
	    "day, calls_day, updated) VALUES ('a@b', 1, 1, 4294967295, 1)",
	    NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

int
main(void)
{
#define T(f)	TMPSTORE_TEST(f)
	const struct CMUnitTest tests[] = {
		T(test_usage_round_trip),
		T(test_usage_validation),
		T(test_usage_reset),
		T(test_usage_reset_done_while_listing),
		T(test_usage_reset_nested_rollback),
		T(test_usage_reset_seen_by_other_connection),
		T(test_usage_migrate_from_v2),
		T(test_usage_table_checks),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
