/*
 * The config_changes table (OPS3): the history of config reloads,
 * applied or refused, with who asked, a summary and the diff.  The
 * daemon's main thread writes a row synchronously on its own
 * connection when a reload ends; `sipwall config history` lists them.
 *
 * Not here: what changed or whether a reload may be applied (the
 * daemon computes the summary and the diff), and redaction of secrets
 * in the diff (the caller's job: the store keeps what it is given).
 *
 * summary and diff are scrubbed rather than refused (a stray byte in a
 * config file must not lose the record of the reload); everything read
 * back is validated again, so that a row edited by hand cannot make
 * the CLI print control sequences.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

static bool
result_ok(const char *r)
{
	return r != NULL && (strcmp(r, STORE_CONFIG_APPLIED) == 0 ||
	    strcmp(r, STORE_CONFIG_REFUSED) == 0);
}

/* A copy of s (at most max bytes, else NULL) scrubbed; free() it. */
static char *
scrubbed(const char *s, size_t max, bool lines)
{
	size_t n = strnlen(s, max + 1);
	char *t;

	if (n > max || (t = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(t, s, n + 1);
	store_text_scrub(t, lines);
	return t;
}

int
store_config_change_add(struct store *st, int64_t at_ms, const char *actor,
    const char *result, const char *summary, const char *diff)
{
	char *sum = NULL, *d = NULL;
	sqlite3_stmt *s;
	int r;

	if (at_ms < 0 || !store_text_ok(actor, STORE_CONFIG_ACTOR_MAX, true) ||
	    !result_ok(result) || summary == NULL || diff == NULL ||
	    strnlen(summary, STORE_CONFIG_SUMMARY_MAX + 1) >
	    STORE_CONFIG_SUMMARY_MAX ||
	    strnlen(diff, STORE_CONFIG_DIFF_MAX + 1) > STORE_CONFIG_DIFF_MAX)
		return -EINVAL;
	sum = scrubbed(summary, STORE_CONFIG_SUMMARY_MAX, false);
	d = scrubbed(diff, STORE_CONFIG_DIFF_MAX, true);
	if (sum == NULL || d == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = store_begin(st)) < 0)
		goto out;
	if ((r = store_stmt(st, SQL_CONFIG_ADD, &s)) < 0)
		goto fail;
	if ((r = store_err(sqlite3_bind_int64(s, 1, at_ms))) < 0 ||
	    (r = store_bind_text(s, 2, actor)) < 0 ||
	    (r = store_bind_text(s, 3, result)) < 0 ||
	    (r = store_bind_text(s, 4, sum)) < 0 ||
	    (r = store_bind_text(s, 5, d)) < 0) {
		store_stmt_done(s);
		goto fail;
	}
	if ((r = store_step_done(s)) < 0 ||
	    (r = store_exec_i64(st, SQL_CONFIG_PRUNE, STORE_CONFIG_KEEP,
	    NULL)) < 0)
		goto fail;
	r = store_commit(st);
	goto out;
fail:
	store_rollback(st);
out:
	free(sum);
	free(d);
	return r;
}

/* One row into c (diff borrowed from s); -EBADMSG when out of bounds. */
static int
change_read(sqlite3_stmt *s, struct store_config_change *c)
{
	const char *diff;
	int n, r;

	memset(c, 0, sizeof(*c));
	if (sqlite3_column_type(s, 0) != SQLITE_INTEGER ||
	    sqlite3_column_type(s, 1) != SQLITE_INTEGER)
		return -EBADMSG;
	c->id = sqlite3_column_int64(s, 0);
	c->at_ms = sqlite3_column_int64(s, 1);
	if ((r = store_col_text(s, 2, c->actor, sizeof(c->actor))) < 0 ||
	    (r = store_col_text(s, 3, c->result, sizeof(c->result))) < 0 ||
	    (r = store_col_text(s, 4, c->summary, sizeof(c->summary))) < 0)
		return r;
	diff = (const char *)sqlite3_column_text(s, 5);
	n = sqlite3_column_bytes(s, 5);
	if (diff == NULL || n < 0 || (size_t)n > STORE_CONFIG_DIFF_MAX ||
	    strlen(diff) != (size_t)n || !store_lines_ok(diff,
	    STORE_CONFIG_DIFF_MAX))
		return -EBADMSG;
	c->diff = diff;
	c->diff_len = (size_t)n;
	if (c->at_ms < 0 || !store_text_ok(c->actor, STORE_CONFIG_ACTOR_MAX,
	    true) || !result_ok(c->result) ||
	    !store_text_ok(c->summary, STORE_CONFIG_SUMMARY_MAX, false))
		return -EBADMSG;
	return 0;
}

int
store_config_changes_list(struct store *st, size_t max,
    store_config_change_fn fn, void *arg)
{
	struct store_config_change c;
	sqlite3_stmt *s;
	int r, rc;

	if (fn == NULL)
		return -EINVAL;
	if ((r = store_stmt(st, SQL_CONFIG_LIST, &s)) < 0)
		return r;
	/* LIMIT -1 is no limit. */
	if ((r = store_err(sqlite3_bind_int64(s, 1, max == 0 ||
	    max > INT64_MAX ? -1 : (int64_t)max))) < 0)
		goto out;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((r = change_read(s, &c)) < 0 || (r = fn(&c, arg)) != 0)
			goto out;
	}
	r = rc == SQLITE_DONE ? 0 : store_err(sqlite3_extended_errcode(st->db));
out:
	store_stmt_done(s);
	return r;
}
