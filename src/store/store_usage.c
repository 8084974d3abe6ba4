/*
 * The usage counters of the fraud limits (FRAUD2) and the operator's
 * reset requests.  A row is a snapshot the daemon wrote (through the
 * writer) of one account's minute and day; the store does not decide
 * whether a minute or day has passed, nor count anything itself: the
 * daemon and the CLI compare minute/day with their own clock.
 *
 * The account is kept as given ("username@domain", domain lowercase by
 * the callers' convention): it is a key, not parsed here, so only what
 * makes it safe to store and print is checked.
 */
#include <errno.h>
#include <string.h>

#include "store/store_int.h"

/* Non-empty, at most STORE_AOR_MAX bytes, printable. */
static bool
account_ok(const char *account)
{
	return store_text_ok(account, STORE_AOR_MAX, true);
}

static int
col_u32(sqlite3_stmt *s, int col, uint32_t *ret)
{
	int64_t v = sqlite3_column_int64(s, col);

	if (v < 0 || v > UINT32_MAX)
		return -EBADMSG;
	*ret = (uint32_t)v;
	return 0;
}

static int
usage_read(sqlite3_stmt *s, struct store_usage *u)
{
	int r;

	memset(u, 0, sizeof(*u));
	if ((r = store_col_text(s, 0, u->account, sizeof(u->account))) < 0 ||
	    (r = col_u32(s, 2, &u->calls_minute)) < 0 ||
	    (r = col_u32(s, 4, &u->calls_day)) < 0 ||
	    (r = col_u32(s, 5, &u->seconds_day)) < 0 ||
	    (r = col_u32(s, 6, &u->blocked_day)) < 0 ||
	    (r = col_u32(s, 7, &u->active)) < 0)
		return r;
	u->minute = sqlite3_column_int64(s, 1);
	u->day = sqlite3_column_int64(s, 3);
	u->updated = sqlite3_column_int64(s, 8);
	return 0;
}

int
store_usage_put(struct store *st, const struct store_usage *u)
{
	sqlite3_stmt *s;
	int r;

	/* The account field must hold its NUL: never read past it. */
	if (u == NULL || memchr(u->account, '\0', sizeof(u->account)) == NULL ||
	    !account_ok(u->account) || u->minute < 0 || u->day < 0 ||
	    u->updated < 0)
		return -EINVAL;
	if ((r = store_stmt(st, SQL_USAGE_PUT, &s)) < 0)
		return r;
	if ((r = store_bind_text(s, 1, u->account)) < 0 ||
	    (r = store_err(sqlite3_bind_int64(s, 2, u->minute))) < 0 ||
	    (r = store_err(sqlite3_bind_int64(s, 3, u->calls_minute))) < 0 ||
	    (r = store_err(sqlite3_bind_int64(s, 4, u->day))) < 0 ||
	    (r = store_err(sqlite3_bind_int64(s, 5, u->calls_day))) < 0 ||
	    (r = store_err(sqlite3_bind_int64(s, 6, u->seconds_day))) < 0 ||
	    (r = store_err(sqlite3_bind_int64(s, 7, u->blocked_day))) < 0 ||
	    (r = store_err(sqlite3_bind_int64(s, 8, u->active))) < 0 ||
	    (r = store_err(sqlite3_bind_int64(s, 9, u->updated))) < 0) {
		store_stmt_done(s);
		return r;
	}
	return store_step_done(s);
}

int
store_usage_get(struct store *st, const char *account,
    struct store_usage *ret_u)
{
	struct store_usage u;
	sqlite3_stmt *s;
	int r, rc;

	if (!account_ok(account) || ret_u == NULL)
		return -EINVAL;
	if ((r = store_stmt(st, SQL_USAGE_GET, &s)) < 0)
		return r;
	if ((r = store_bind_text(s, 1, account)) < 0)
		goto out;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		if ((r = usage_read(s, &u)) == 0)
			*ret_u = u;
	} else if (rc == SQLITE_DONE)
		r = -ENOENT;
	else
		r = store_err(sqlite3_extended_errcode(st->db));
out:
	store_stmt_done(s);
	return r;
}

int
store_usage_list(struct store *st, store_usage_fn fn, void *arg)
{
	struct store_usage u;
	sqlite3_stmt *s;
	int r, rc;

	if (fn == NULL)
		return -EINVAL;
	if ((r = store_stmt(st, SQL_USAGE_LIST, &s)) < 0)
		return r;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((r = usage_read(s, &u)) < 0 || (r = fn(arg, &u)) != 0)
			goto out;
	}
	r = rc == SQLITE_DONE ? 0 : store_err(sqlite3_extended_errcode(st->db));
out:
	store_stmt_done(s);
	return r;
}

/* Run id with (account, at) bound to ?1, ?2; *ret_n rows changed. */
static int
exec_account_i64(struct store *st, enum store_sql id, const char *account,
    int64_t at, unsigned *ret_n)
{
	sqlite3_stmt *s;
	int r;

	if ((r = store_stmt(st, id, &s)) < 0)
		return r;
	if ((r = store_bind_text(s, 1, account)) < 0 ||
	    (r = store_err(sqlite3_bind_int64(s, 2, at))) < 0) {
		store_stmt_done(s);
		return r;
	}
	if ((r = store_step_done(s)) < 0)
		return r;
	if (ret_n != NULL)
		*ret_n = (unsigned)sqlite3_changes64(st->db);
	return 0;
}

/*
 * Zeroing the row and queueing the request go together: a daemon that
 * saw the request but a row still full (or the reverse) would disagree
 * with what the operator was told.  active goes to 0 as well, unlike
 * in the daemon's own reset: without a daemon no call is up (it starts
 * at 0), and a running one rewrites the row with its real count once
 * it applied the request.
 */
int
store_usage_reset(struct store *st, const char *account, int64_t now)
{
	int r;

	if (!account_ok(account) || now < 0)
		return -EINVAL;
	if ((r = store_begin(st)) < 0)
		return r;
	if ((r = exec_account_i64(st, SQL_USAGE_ZERO, account, now,
	    NULL)) < 0 ||
	    (r = exec_account_i64(st, SQL_USAGE_RESET_ADD, account, now,
	    NULL)) < 0 ||
	    (r = store_commit(st)) < 0) {
		store_rollback(st);
		return r;
	}
	return 0;
}

/*
 * Oldest first.  The daemon deletes each request (reset_done) from
 * inside fn: the ORDER BY is served by a sort that reads every row
 * before the first callback, so the deletes do not disturb the walk
 * (tested; an index on "at" would change that).
 */
int
store_usage_resets(struct store *st, store_reset_fn fn, void *arg)
{
	char account[STORE_AOR_MAX + 1];
	sqlite3_stmt *s;
	int r, rc;

	if (fn == NULL)
		return -EINVAL;
	if ((r = store_stmt(st, SQL_USAGE_RESETS, &s)) < 0)
		return r;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((r = store_col_text(s, 0, account, sizeof(account))) < 0 ||
		    (r = fn(arg, account, sqlite3_column_int64(s, 1))) != 0)
			goto out;
	}
	r = rc == SQLITE_DONE ? 0 : store_err(sqlite3_extended_errcode(st->db));
out:
	store_stmt_done(s);
	return r;
}

int
store_usage_reset_done(struct store *st, const char *account, int64_t at)
{
	unsigned n = 0;
	int r;

	if (!account_ok(account))
		return -EINVAL;
	if ((r = exec_account_i64(st, SQL_USAGE_RESET_DONE, account, at,
	    &n)) < 0)
		return r;
	return n > 0 ? 0 : -ENOENT;
}
