/*
 * Internals shared by the store_*.c files: the connection struct, the
 * table of cached statements and small helpers.  Not for other
 * modules; tests may use it to build old schema versions.
 */
#ifndef SW_STORE_STORE_INT_H
#define SW_STORE_STORE_INT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* Every SQL statement the store runs more than once; prepared lazily. */
enum store_sql {
	SQL_BEGIN = 0,
	SQL_COMMIT,
	SQL_ROLLBACK,
	SQL_SAVEPOINT,
	SQL_RELEASE,
	SQL_ROLLBACK_TO,
	SQL_DATA_VERSION,
	SQL_META_GET,
	SQL_META_SET,
	SQL_META_INSERT_IGNORE,

	SQL_ACC_INSERT,
	SQL_ACC_GET,
	SQL_ACC_LIST,
	SQL_ACC_UPDATE,
	SQL_ACC_SET_ENABLED,
	SQL_ACC_SET_HA1,
	SQL_ACC_SET_LOCKED,
	SQL_ACC_DELETE,

	SQL_REG_UPSERT,
	SQL_REG_DELETE,
	SQL_REG_DELETE_AOR,
	SQL_REG_LIST_AOR,
	SQL_REG_LIST_ALL,
	SQL_REG_LOAD,
	SQL_REG_DELETE_EXPIRED,
	SQL_REG_COUNT,

	SQL_BAN_PUT,
	SQL_BAN_GET,
	SQL_BAN_DELETE,
	SQL_BAN_LIST,
	SQL_BAN_ACTIVE,
	SQL_BAN_DELETE_EXPIRED,
	SQL_HIST_GET,
	SQL_HIST_PUT,
	SQL_HIST_PRUNE,
	SQL_HIST_SINCE,

	SQL_USAGE_PUT,
	SQL_USAGE_GET,
	SQL_USAGE_LIST,
	SQL_USAGE_ZERO,
	SQL_USAGE_RESET_ADD,
	SQL_USAGE_RESETS,
	SQL_USAGE_RESET_DONE,

	SQL_CALL_PUT,
	SQL_CALL_LIST,
	SQL_CALL_LIST_ACTIVE,
	SQL_CALL_MARK_LOST,
	SQL_CALL_PRUNE,

	SQL_BASELINE_PUT,
	SQL_BASELINE_LIST,
	SQL_COUNTRY_ADD,
	SQL_COUNTRY_LIST,

	SQL_CONFIG_ADD,
	SQL_CONFIG_PRUNE,
	SQL_CONFIG_LIST,
	SQL_MAX
};

struct store {
	sqlite3		*db;
	sqlite3_stmt	*stmt[SQL_MAX];
	unsigned	 tx_depth;	/* 0: autocommit; 1: BEGIN; >1: savepoints */
	int64_t		 data_version;	/* last PRAGMA data_version seen */
	int		 schema_version;
};

/* SQL text of each statement (store_sqlite.c). */
extern const char *const store_sql_text[SQL_MAX];

/* Map a SQLite result code to a negative errno. */
int	store_err(int rc);

/*
 * The cached statement id, prepared on first use, reset and with no
 * bindings.  -EBUSY when it is in use further up the stack (a list
 * callback calling the same list function).
 */
int	store_stmt(struct store *st, enum store_sql id, sqlite3_stmt **ret);
/* Reset and clear the bindings of a statement got from store_stmt(). */
void	store_stmt_done(sqlite3_stmt *s);
/* Step s once, expecting SQLITE_DONE; resets s.  0 or -errno. */
int	store_step_done(sqlite3_stmt *s);

/*
 * Run statement id with one integer bound to ?1, expecting no rows;
 * the number of rows it changed goes to *ret_n (may be NULL).
 */
int	store_exec_i64(struct store *st, enum store_sql id, int64_t v,
	    unsigned *ret_n);

/*
 * Run statement id (no bindings) and call row(s, arg) for each row;
 * a non-zero return stops the walk and is returned.  0 at the end, or
 * a negative errno.
 */
int	store_walk(struct store *st, enum store_sql id,
	    int (*row)(sqlite3_stmt *s, void *arg), void *arg);

/* Copy text column col into ret[0..cap); -EBADMSG if NULL or too long. */
int	store_col_text(sqlite3_stmt *s, int col, char *ret, size_t cap);

/*
 * True when s is at most max bytes, not empty if required, and free of
 * control characters (C0 and DEL) so that it can be printed safely.
 */
bool	store_text_ok(const char *s, size_t max, bool required);
/* The same for text of several lines: '\n' and '\t' are allowed. */
bool	store_lines_ok(const char *s, size_t max);
/*
 * Replace what store_text_ok() (with lines: store_lines_ok()) refuses
 * -- C0 and C1 controls, DEL, bytes that are not well-formed UTF-8 --
 * by '?', byte for byte: the length stays.
 */
void	store_text_scrub(char *s, bool lines);

/* Bind text (must stay valid until the statement is done). */
int	store_bind_text(sqlite3_stmt *s, int idx, const char *v);

/*
 * Run the schema script that takes version `from` to `from + 1`
 * (0 <= from < STORE_SCHEMA_VERSION) on a raw connection; the caller
 * holds the transaction.  0 or -errno.
 */
int	store_migrate_step(sqlite3 *db, int from);

#endif
