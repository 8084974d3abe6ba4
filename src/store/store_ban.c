/*
 * Bans and their strike history (PROT3).  A ban is keyed by the
 * canonical form of an address or prefix, carries a stable reason code,
 * its evidence as a compact JSON object and the node that decided it.
 * Escalation policy (how long the next ban lasts) is not decided here:
 * the store only remembers strikes, also after a ban expired.
 */
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "store/store_int.h"

static int
key_canon(const char *in, char ret[STORE_BAN_KEY_MAX + 1])
{
	return store_ban_key_canon(in, ret, STORE_BAN_KEY_MAX + 1, NULL, NULL);
}

/* A compact JSON object (no control characters, so no newlines). */
static bool
evidence_ok(const char *ev)
{
	json_error_t err;
	json_t *j;
	bool ok;

	if (!store_text_ok(ev, STORE_EVIDENCE_MAX, false))
		return false;
	if (ev[0] == '\0')
		return true;
	j = json_loads(ev, JSON_REJECT_DUPLICATES, &err);
	ok = j != NULL && json_is_object(j);
	json_decref(j);
	return ok;
}

static bool
origin_ok(const char *o)
{
	if (o == NULL)
		return false;
	for (size_t n = 0; o[n] != '\0'; n++) {
		char c = o[n];

		if (n >= STORE_ORIGIN_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static int
ban_read(sqlite3_stmt *s, struct store_ban *b)
{
	int64_t v;
	int r;

	memset(b, 0, sizeof(*b));
	if ((r = store_col_text(s, 0, b->key, sizeof(b->key))) < 0 ||
	    (r = store_col_text(s, 1, b->reason, sizeof(b->reason))) < 0 ||
	    (r = store_col_text(s, 5, b->evidence, sizeof(b->evidence))) < 0 ||
	    (r = store_col_text(s, 6, b->origin, sizeof(b->origin))) < 0)
		return r;
	b->since = sqlite3_column_int64(s, 2);
	b->until = sqlite3_column_int64(s, 3);
	if ((v = sqlite3_column_int64(s, 4)) < 1 || v > UINT32_MAX)
		return -EBADMSG;
	b->strikes = (uint32_t)v;
	return 0;
}

int
store_ban_put(struct store *st, const struct store_ban *b)
{
	char key[STORE_BAN_KEY_MAX + 1];
	sqlite3_stmt *s;
	int r;

	if (b == NULL || key_canon(b->key, key) < 0 ||
	    !store_reason_valid(b->reason) || b->since < 0 || b->until < 0 ||
	    (b->until == 0 && strcmp(b->reason, STORE_BAN_REASON_MANUAL) != 0) ||
	    (b->until != 0 && b->until < b->since) ||
	    b->strikes < 1 || !evidence_ok(b->evidence) || !origin_ok(b->origin))
		return -EINVAL;
	if ((r = store_stmt(st, SQL_BAN_PUT, &s)) < 0)
		return r;
	if ((r = store_bind_text(s, 1, key)) < 0 ||
	    (r = store_bind_text(s, 2, b->reason)) < 0 ||
	    (r = store_err(sqlite3_bind_int64(s, 3, b->since))) < 0 ||
	    (r = store_err(sqlite3_bind_int64(s, 4, b->until))) < 0 ||
	    (r = store_err(sqlite3_bind_int64(s, 5, b->strikes))) < 0 ||
	    (r = store_bind_text(s, 6, b->evidence[0] != '\0' ?
	    b->evidence : "{}")) < 0 ||
	    (r = store_bind_text(s, 7, b->origin)) < 0) {
		store_stmt_done(s);
		return r;
	}
	return store_step_done(s);
}

int
store_ban_get(struct store *st, const char *key_in, struct store_ban *ret_b)
{
	char key[STORE_BAN_KEY_MAX + 1];
	struct store_ban b;
	sqlite3_stmt *s;
	int r, rc;

	if (key_canon(key_in, key) < 0)
		return -EINVAL;
	if ((r = store_stmt(st, SQL_BAN_GET, &s)) < 0)
		return r;
	if ((r = store_bind_text(s, 1, key)) < 0)
		goto out;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		if ((r = ban_read(s, &b)) == 0)
			*ret_b = b;
	} else if (rc == SQLITE_DONE)
		r = -ENOENT;
	else
		r = store_err(sqlite3_extended_errcode(st->db));
out:
	store_stmt_done(s);
	return r;
}

int
store_ban_delete(struct store *st, const char *key_in)
{
	char key[STORE_BAN_KEY_MAX + 1];
	sqlite3_stmt *s;
	int r;

	if (key_canon(key_in, key) < 0)
		return -EINVAL;
	if ((r = store_stmt(st, SQL_BAN_DELETE, &s)) < 0)
		return r;
	if ((r = store_bind_text(s, 1, key)) < 0) {
		store_stmt_done(s);
		return r;
	}
	if ((r = store_step_done(s)) < 0)
		return r;
	return sqlite3_changes64(st->db) > 0 ? 0 : -ENOENT;
}

static int
ban_walk(struct store *st, sqlite3_stmt *s, store_ban_fn fn, void *arg)
{
	struct store_ban b;
	int r, rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((r = ban_read(s, &b)) < 0 || (r = fn(arg, &b)) != 0)
			goto out;
	}
	r = rc == SQLITE_DONE ? 0 : store_err(sqlite3_extended_errcode(st->db));
out:
	store_stmt_done(s);
	return r;
}

int
store_ban_list(struct store *st, store_ban_fn fn, void *arg)
{
	sqlite3_stmt *s;
	int r;

	if (fn == NULL)
		return -EINVAL;
	if ((r = store_stmt(st, SQL_BAN_LIST, &s)) < 0)
		return r;
	return ban_walk(st, s, fn, arg);
}

int
store_ban_load_active(struct store *st, int64_t now, store_ban_fn fn,
    void *arg)
{
	sqlite3_stmt *s;
	int r;

	if (fn == NULL)
		return -EINVAL;
	if ((r = store_stmt(st, SQL_BAN_ACTIVE, &s)) < 0)
		return r;
	if ((r = store_err(sqlite3_bind_int64(s, 1, now))) < 0) {
		store_stmt_done(s);
		return r;
	}
	return ban_walk(st, s, fn, arg);
}

int
store_ban_delete_expired(struct store *st, int64_t now, unsigned *ret_n)
{
	return store_exec_i64(st, SQL_BAN_DELETE_EXPIRED, now, ret_n);
}

int
store_ban_history_get(struct store *st, const char *key_in,
    uint32_t *ret_strikes, int64_t *ret_last)
{
	char key[STORE_BAN_KEY_MAX + 1];
	sqlite3_stmt *s;
	int r, rc;

	if (key_canon(key_in, key) < 0)
		return -EINVAL;
	if ((r = store_stmt(st, SQL_HIST_GET, &s)) < 0)
		return r;
	if ((r = store_bind_text(s, 1, key)) < 0)
		goto out;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		int64_t v = sqlite3_column_int64(s, 0);

		if (v < 0 || v > UINT32_MAX) {
			r = -EBADMSG;
			goto out;
		}
		if (ret_strikes != NULL)
			*ret_strikes = (uint32_t)v;
		if (ret_last != NULL)
			*ret_last = sqlite3_column_int64(s, 1);
	} else if (rc == SQLITE_DONE)
		r = -ENOENT;
	else
		r = store_err(sqlite3_extended_errcode(st->db));
out:
	store_stmt_done(s);
	return r;
}

int
store_ban_history_put(struct store *st, const char *key_in, uint32_t strikes,
    int64_t last)
{
	char key[STORE_BAN_KEY_MAX + 1];
	sqlite3_stmt *s;
	int r;

	if (key_canon(key_in, key) < 0 || last < 0)
		return -EINVAL;
	if ((r = store_stmt(st, SQL_HIST_PUT, &s)) < 0)
		return r;
	if ((r = store_bind_text(s, 1, key)) < 0 ||
	    (r = store_err(sqlite3_bind_int64(s, 2, strikes))) < 0 ||
	    (r = store_err(sqlite3_bind_int64(s, 3, last))) < 0) {
		store_stmt_done(s);
		return r;
	}
	return store_step_done(s);
}

int
store_ban_history_prune(struct store *st, int64_t before, unsigned *ret_n)
{
	sqlite3_stmt *s;
	int r;

	if ((r = store_stmt(st, SQL_HIST_PRUNE, &s)) < 0)
		return r;
	if ((r = store_err(sqlite3_bind_int64(s, 1, before))) < 0) {
		store_stmt_done(s);
		return r;
	}
	if ((r = store_step_done(s)) < 0)
		return r;
	if (ret_n != NULL)
		*ret_n = (unsigned)sqlite3_changes64(st->db);
	return 0;
}

int
store_ban_history_list(struct store *st, int64_t since, store_hist_fn fn,
    void *arg)
{
	char key[STORE_BAN_KEY_MAX + 1];
	sqlite3_stmt *s;
	int r, rc;

	if (fn == NULL)
		return -EINVAL;
	if ((r = store_stmt(st, SQL_HIST_SINCE, &s)) < 0)
		return r;
	if ((r = store_err(sqlite3_bind_int64(s, 1, since))) < 0)
		goto out;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t v = sqlite3_column_int64(s, 1);

		if (store_col_text(s, 0, key, sizeof(key)) < 0 || v < 1 ||
		    v > UINT32_MAX)
			continue;	/* a damaged row teaches nothing */
		if ((r = fn(arg, key, (uint32_t)v,
		    sqlite3_column_int64(s, 2))) != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		r = store_err(sqlite3_extended_errcode(st->db));
out:
	store_stmt_done(s);
	return r;
}
