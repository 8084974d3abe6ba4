/*
 * A store file in a fresh temporary directory per test, shared by the
 * store unit tests: the cmocka fixtures tmpstore_setup() and
 * tmpstore_teardown(), open_ok() (STORE_CREATE, must succeed) and
 * raw_int() (the first column of the first row of sql, on a read-only
 * connection of its own; -1 when there is no row), old_store() (a
 * store at an older schema version, store_int.h's store_migrate_step).
 *
 * Include after <cmocka.h>, <sqlite3.h> and "store/store.h" (without
 * sqlite3.h, define TMPSTORE_NO_SQLITE first: no raw_int()).  Every
 * helper is static inline, so a test file pays only for what it uses.
 */
#ifndef SW_TESTS_STORE_TMPSTORE_H
#define SW_TESTS_STORE_TMPSTORE_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[PATH_MAX], path[PATH_MAX + 16];

/* A cmocka test of f with a fresh store directory around it. */
#define TMPSTORE_TEST(f) \
	cmocka_unit_test_setup_teardown(f, tmpstore_setup, tmpstore_teardown)

static inline int
tmpstore_setup(void **state)
{
	const char *tmp = getenv("TMPDIR");

	(void)state;
	snprintf(dir, sizeof(dir), "%s/sw-store-XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/t.db", dir);
	return 0;
}

static inline int
tmpstore_teardown(void **state)
{
	char p[PATH_MAX + 32];

	(void)state;
	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
	rmdir(dir);
	return 0;
}

static inline struct store *
open_ok(void)
{
	struct store *st = NULL;

	assert_int_equal(store_open(path, STORE_CREATE, &st), 0);
	assert_non_null(st);
	return st;
}

#ifndef TMPSTORE_NO_SQLITE
static inline int64_t
raw_int(const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	int64_t v = -1;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/*
 * A store at schema version `version`, as an older sipwall left it,
 * with the rows of sql (may be NULL) written in the same transaction.
 */
static inline void
old_store(int version, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL),
	    SQLITE_OK);
	for (int v = 0; v < version; v++)
		assert_int_equal(store_migrate_step(db, v), 0);
	if (sql != NULL)
		assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL),
		    SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
}
#endif

#endif
