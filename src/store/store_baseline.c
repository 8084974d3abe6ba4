/*
 * What the alert engine learned (OBS4, FRAUD4): the baselines table
 * (an EWMA per metric and hour of the week) and the alert_countries
 * table (the countries each account called).  The daemon writes rows
 * through the writer and loads them all at start.
 *
 * Not here: how a baseline is learned or used (obs/baseline.c), what a
 * country is (obs/alert.c); the store only checks that what it keeps
 * is well formed, on the way in and on the way out, so that a row
 * edited by hand cannot feed the engine a NaN or an unprintable name.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "store/store_int.h"

#define BASELINE_VALUE_MAX	1e15	/* the table's CHECK */

/* 1..STORE_METRIC_MAX bytes of [a-z0-9_]. */
static bool
metric_ok(const char *m)
{
	size_t n = 0;

	for (; m[n] != '\0'; n++)
		if (n >= STORE_METRIC_MAX || !((m[n] >= 'a' && m[n] <= 'z') ||
		    (m[n] >= '0' && m[n] <= '9') || m[n] == '_'))
			return false;
	return n > 0;
}

/* 1..STORE_CC_MAX digits. */
static bool
cc_ok(const char *cc)
{
	size_t n = 0;

	for (; cc[n] != '\0'; n++)
		if (n >= STORE_CC_MAX || cc[n] < '0' || cc[n] > '9')
			return false;
	return n > 0;
}

static bool
baseline_ok(const struct store_baseline *b)
{
	return memchr(b->metric, '\0', sizeof(b->metric)) != NULL &&
	    metric_ok(b->metric) && b->slot < STORE_BASELINE_SLOTS &&
	    isfinite(b->value) && b->value >= 0 &&
	    b->value < BASELINE_VALUE_MAX && b->updated >= 0;
}

int
store_baseline_put(struct store *st, const struct store_baseline *b)
{
	sqlite3_stmt *s;
	int r;

	if (b == NULL || !baseline_ok(b))
		return -EINVAL;
	if ((r = store_stmt(st, SQL_BASELINE_PUT, &s)) < 0)
		return r;
	if ((r = store_bind_text(s, 1, b->metric)) < 0 ||
	    (r = store_err(sqlite3_bind_int64(s, 2, b->slot))) < 0 ||
	    (r = store_err(sqlite3_bind_double(s, 3, b->value))) < 0 ||
	    (r = store_err(sqlite3_bind_int64(s, 4, b->samples))) < 0 ||
	    (r = store_err(sqlite3_bind_int64(s, 5, b->updated))) < 0) {
		store_stmt_done(s);
		return r;
	}
	return store_step_done(s);
}

struct walk {
	store_baseline_fn	 bfn;
	store_country_fn	 cfn;
	void			*arg;
};

/* One row of SQL_BASELINE_LIST, checked again: it may be hand-made. */
static int
baseline_row(sqlite3_stmt *s, void *arg)
{
	struct walk *w = arg;
	struct store_baseline b;
	int64_t slot = sqlite3_column_int64(s, 1);
	int64_t n = sqlite3_column_int64(s, 3);
	int r;

	memset(&b, 0, sizeof(b));
	if ((r = store_col_text(s, 0, b.metric, sizeof(b.metric))) < 0)
		return r;
	if (slot < 0 || slot >= STORE_BASELINE_SLOTS || n < 0 ||
	    n > UINT32_MAX)
		return -EBADMSG;
	b.slot = (uint32_t)slot;
	b.value = sqlite3_column_double(s, 2);
	b.samples = (uint32_t)n;
	b.updated = sqlite3_column_int64(s, 4);
	if (!baseline_ok(&b))
		return -EBADMSG;
	return w->bfn(w->arg, &b);
}

int
store_baseline_list(struct store *st, store_baseline_fn fn, void *arg)
{
	struct walk w = { .bfn = fn, .arg = arg };

	if (fn == NULL)
		return -EINVAL;
	return store_walk(st, SQL_BASELINE_LIST, baseline_row, &w);
}

int
store_country_add(struct store *st, const char *account, const char *cc,
    int64_t first)
{
	sqlite3_stmt *s;
	int r;

	if (account == NULL || cc == NULL ||
	    !store_text_ok(account, STORE_AOR_MAX, true) || !cc_ok(cc) ||
	    first < 0)
		return -EINVAL;
	if ((r = store_stmt(st, SQL_COUNTRY_ADD, &s)) < 0)
		return r;
	if ((r = store_bind_text(s, 1, account)) < 0 ||
	    (r = store_bind_text(s, 2, cc)) < 0 ||
	    (r = store_err(sqlite3_bind_int64(s, 3, first))) < 0) {
		store_stmt_done(s);
		return r;
	}
	return store_step_done(s);
}

static int
country_row(sqlite3_stmt *s, void *arg)
{
	struct walk *w = arg;
	char account[STORE_AOR_MAX + 1], cc[STORE_CC_MAX + 1];
	int r;

	if ((r = store_col_text(s, 0, account, sizeof(account))) < 0 ||
	    (r = store_col_text(s, 1, cc, sizeof(cc))) < 0)
		return r;
	if (!store_text_ok(account, STORE_AOR_MAX, true) || !cc_ok(cc))
		return -EBADMSG;
	return w->cfn(w->arg, account, cc, sqlite3_column_int64(s, 2));
}

int
store_country_list(struct store *st, store_country_fn fn, void *arg)
{
	struct walk w = { .cfn = fn, .arg = arg };

	if (fn == NULL)
		return -EINVAL;
	return store_walk(st, SQL_COUNTRY_LIST, country_row, &w);
}
