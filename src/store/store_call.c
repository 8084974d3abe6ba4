/*
 * The calls table: one record per call attempt (CDRs, OBS3): who,
 * where from and to, zones and target, times, outcome and SIP status,
 * the policy verdicts, the encryption and the media quality of both
 * legs.  The daemon writes each row whole (through the writer) when a
 * call is answered, while it is up and when it ends; at start it marks
 * the rows a previous process left active as lost, and it prunes old
 * records.  The CLI lists them (sipwall calls).
 *
 * Not here: what a call is, when it ended or what its outcome was (the
 * daemon decides and passes them), rating or export of CDRs.
 *
 * Text from the network (Call-ID, From/To users, a target naming the
 * callee) is scrubbed rather than refused on write, so that a hostile
 * header cannot keep its call out of the records; everything read back
 * is validated again, so that a row edited by hand cannot make the CLI
 * print control sequences or overrun a field.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "store/store_int.h"

/* Columns of CALL_COLS (store_sqlite.c); a leg's nine follow LEG_A/LEG_B. */
enum {
	COL_CALL_ID = 0,
	COL_STARTED,
	COL_ACCOUNT,
	COL_FROM,
	COL_TO,
	COL_DIRECTION,
	COL_SRC,
	COL_ANSWERED,
	COL_ENDED,
	COL_STATUS,
	COL_REASON,
	COL_STATE,
	COL_ANCHORED,
	COL_LEG_A,
	COL_LEG_B = COL_LEG_A + 9,
	COL_ZONE_A = COL_LEG_B + 9,
	COL_ZONE_B,
	COL_TARGET,
	COL_OUTCOME,
	COL_VERDICTS,
	COL_ENC_A,
	COL_ENC_B,
	COL_MAX
};

/* 1..STORE_CALL_DIR_MAX bytes of [a-z0-9_]. */
static bool
direction_ok(const char *d)
{
	size_t n = 0;

	for (; d[n] != '\0'; n++) {
		if (n >= STORE_CALL_DIR_MAX)
			return false;
		if (!((d[n] >= 'a' && d[n] <= 'z') ||
		    (d[n] >= '0' && d[n] <= '9') || d[n] == '_'))
			return false;
	}
	return n > 0;
}

static bool
state_ok(const char *s)
{
	return strcmp(s, STORE_CALL_ACTIVE) == 0 ||
	    strcmp(s, STORE_CALL_ENDED) == 0 || strcmp(s, STORE_CALL_LOST) == 0;
}

bool
store_call_outcome_valid(const char *s)
{
	return s != NULL && (s[0] == '\0' ||
	    strcmp(s, STORE_CALL_ANSWERED) == 0 ||
	    strcmp(s, STORE_CALL_REFUSED) == 0 ||
	    strcmp(s, STORE_CALL_FAILED) == 0 ||
	    strcmp(s, STORE_CALL_CANCELLED) == 0);
}

/* The rules every row obeys, on write (after scrubbing) and on read. */
static bool
call_ok(const struct store_call *c)
{
	return store_text_ok(c->call_id, STORE_CALL_ID_MAX, true) &&
	    store_text_ok(c->account, STORE_CALL_USER_MAX, false) &&
	    store_text_ok(c->from_user, STORE_CALL_USER_MAX, false) &&
	    store_text_ok(c->to_user, STORE_CALL_USER_MAX, false) &&
	    direction_ok(c->direction) &&
	    store_text_ok(c->src, STORE_CALL_SRC_MAX, false) &&
	    store_text_ok(c->reason, STORE_CALL_REASON_MAX, false) &&
	    state_ok(c->state) &&
	    c->started_ms >= 0 && c->answered_ms >= 0 && c->ended_ms >= 0 &&
	    c->status <= STORE_CALL_STATUS_MAX && c->anchored <= 1 &&
	    store_text_ok(c->zone_a, STORE_CALL_ZONE_MAX, false) &&
	    store_text_ok(c->zone_b, STORE_CALL_ZONE_MAX, false) &&
	    store_text_ok(c->target, STORE_CALL_TARGET_MAX, false) &&
	    store_call_outcome_valid(c->outcome) &&
	    store_text_ok(c->verdicts, STORE_CALL_VERDICTS_MAX, false) &&
	    store_text_ok(c->enc[0], STORE_CALL_ENC_MAX, false) &&
	    store_text_ok(c->enc[1], STORE_CALL_ENC_MAX, false);
}

static bool
leg_ok(const struct store_call_media *m)
{
	return m->packets <= INT64_MAX && m->bytes <= INT64_MAX &&
	    m->ooo <= INT64_MAX && m->auth_failed <= INT64_MAX &&
	    m->foreign <= INT64_MAX && m->srtp <= 1 && m->has_media <= 1;
}

/* Each char array holds its NUL: never read past one. */
static bool
terminated(const struct store_call *c)
{
#define T(f)	(memchr(c->f, '\0', sizeof(c->f)) != NULL)
	return T(call_id) && T(account) && T(from_user) && T(to_user) &&
	    T(direction) && T(src) && T(reason) && T(state) && T(zone_a) &&
	    T(zone_b) && T(target) && T(outcome) && T(verdicts) &&
	    T(enc[0]) && T(enc[1]);
#undef T
}

static int
bind_leg(sqlite3_stmt *s, int idx, const struct store_call_media *m)
{
	const int64_t v[] = {
		(int64_t)m->packets, (int64_t)m->bytes, m->lost,
		(int64_t)m->jitter_us, (int64_t)m->ooo,
		(int64_t)m->auth_failed, (int64_t)m->foreign, m->srtp,
		m->has_media,
	};
	int r;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if ((r = store_err(sqlite3_bind_int64(s, idx + (int)i,
		    v[i]))) < 0)
			return r;
	return 0;
}

int
store_call_put(struct store *st, const struct store_call *c)
{
	struct store_call t;
	sqlite3_stmt *s;
	int r;

	if (c == NULL || !terminated(c))
		return -EINVAL;
	t = *c;
	store_text_scrub(t.call_id, false);
	store_text_scrub(t.from_user, false);
	store_text_scrub(t.to_user, false);
	store_text_scrub(t.target, false);	/* may name the callee */
	if (!call_ok(&t) || !leg_ok(&t.leg[0]) || !leg_ok(&t.leg[1]))
		return -EINVAL;
	if ((r = store_stmt(st, SQL_CALL_PUT, &s)) < 0)
		return r;
	/* Bind indices are column numbers + 1. */
	if ((r = store_bind_text(s, COL_CALL_ID + 1, t.call_id)) < 0 ||
	    (r = store_err(sqlite3_bind_int64(s, COL_STARTED + 1,
	    t.started_ms))) < 0 ||
	    (r = store_bind_text(s, COL_ACCOUNT + 1, t.account)) < 0 ||
	    (r = store_bind_text(s, COL_FROM + 1, t.from_user)) < 0 ||
	    (r = store_bind_text(s, COL_TO + 1, t.to_user)) < 0 ||
	    (r = store_bind_text(s, COL_DIRECTION + 1, t.direction)) < 0 ||
	    (r = store_bind_text(s, COL_SRC + 1, t.src)) < 0 ||
	    (r = store_err(sqlite3_bind_int64(s, COL_ANSWERED + 1,
	    t.answered_ms))) < 0 ||
	    (r = store_err(sqlite3_bind_int64(s, COL_ENDED + 1,
	    t.ended_ms))) < 0 ||
	    (r = store_err(sqlite3_bind_int(s, COL_STATUS + 1,
	    t.status))) < 0 ||
	    (r = store_bind_text(s, COL_REASON + 1, t.reason)) < 0 ||
	    (r = store_bind_text(s, COL_STATE + 1, t.state)) < 0 ||
	    (r = store_err(sqlite3_bind_int(s, COL_ANCHORED + 1,
	    t.anchored))) < 0 ||
	    (r = bind_leg(s, COL_LEG_A + 1, &t.leg[0])) < 0 ||
	    (r = bind_leg(s, COL_LEG_B + 1, &t.leg[1])) < 0 ||
	    (r = store_bind_text(s, COL_ZONE_A + 1, t.zone_a)) < 0 ||
	    (r = store_bind_text(s, COL_ZONE_B + 1, t.zone_b)) < 0 ||
	    (r = store_bind_text(s, COL_TARGET + 1, t.target)) < 0 ||
	    (r = store_bind_text(s, COL_OUTCOME + 1, t.outcome)) < 0 ||
	    (r = store_bind_text(s, COL_VERDICTS + 1, t.verdicts)) < 0 ||
	    (r = store_bind_text(s, COL_ENC_A + 1, t.enc[0])) < 0 ||
	    (r = store_bind_text(s, COL_ENC_B + 1, t.enc[1])) < 0) {
		store_stmt_done(s);
		return r;
	}
	/* t is on the stack: the statement is done before we return. */
	return store_step_done(s);
}

/* Integer column col in [lo, hi] into *ret; -EBADMSG otherwise. */
static int
col_range(sqlite3_stmt *s, int col, int64_t lo, int64_t hi, int64_t *ret)
{
	int64_t v;

	if (sqlite3_column_type(s, col) != SQLITE_INTEGER)
		return -EBADMSG;
	v = sqlite3_column_int64(s, col);
	if (v < lo || v > hi)
		return -EBADMSG;
	*ret = v;
	return 0;
}

static int
leg_read(sqlite3_stmt *s, int col, struct store_call_media *m)
{
	/* Bounds of the nine columns, in CALL_LEG_COLS order. */
	static const int64_t lo[9] = { 0, 0, INT64_MIN, 0, 0, 0, 0, 0, 0 };
	static const int64_t hi[9] = {
		INT64_MAX, INT64_MAX, INT64_MAX, UINT32_MAX, INT64_MAX,
		INT64_MAX, INT64_MAX, 1, 1,
	};
	int64_t v[9];
	int r;

	for (int i = 0; i < 9; i++)
		if ((r = col_range(s, col + i, lo[i], hi[i], &v[i])) < 0)
			return r;
	m->packets = (uint64_t)v[0];
	m->bytes = (uint64_t)v[1];
	m->lost = v[2];
	m->jitter_us = (uint32_t)v[3];
	m->ooo = (uint64_t)v[4];
	m->auth_failed = (uint64_t)v[5];
	m->foreign = (uint64_t)v[6];
	m->srtp = (uint8_t)v[7];
	m->has_media = (uint8_t)v[8];
	return 0;
}

static int
call_read(sqlite3_stmt *s, struct store_call *c)
{
	int64_t status, anchored;
	int r;

	memset(c, 0, sizeof(*c));
	if (sqlite3_column_count(s) != COL_MAX)
		return -EBADMSG;
	if ((r = store_col_text(s, COL_CALL_ID, c->call_id,
	    sizeof(c->call_id))) < 0 ||
	    (r = store_col_text(s, COL_ACCOUNT, c->account,
	    sizeof(c->account))) < 0 ||
	    (r = store_col_text(s, COL_FROM, c->from_user,
	    sizeof(c->from_user))) < 0 ||
	    (r = store_col_text(s, COL_TO, c->to_user,
	    sizeof(c->to_user))) < 0 ||
	    (r = store_col_text(s, COL_DIRECTION, c->direction,
	    sizeof(c->direction))) < 0 ||
	    (r = store_col_text(s, COL_SRC, c->src, sizeof(c->src))) < 0 ||
	    (r = store_col_text(s, COL_REASON, c->reason,
	    sizeof(c->reason))) < 0 ||
	    (r = store_col_text(s, COL_STATE, c->state,
	    sizeof(c->state))) < 0 ||
	    (r = store_col_text(s, COL_ZONE_A, c->zone_a,
	    sizeof(c->zone_a))) < 0 ||
	    (r = store_col_text(s, COL_ZONE_B, c->zone_b,
	    sizeof(c->zone_b))) < 0 ||
	    (r = store_col_text(s, COL_TARGET, c->target,
	    sizeof(c->target))) < 0 ||
	    (r = store_col_text(s, COL_OUTCOME, c->outcome,
	    sizeof(c->outcome))) < 0 ||
	    (r = store_col_text(s, COL_VERDICTS, c->verdicts,
	    sizeof(c->verdicts))) < 0 ||
	    (r = store_col_text(s, COL_ENC_A, c->enc[0],
	    sizeof(c->enc[0]))) < 0 ||
	    (r = store_col_text(s, COL_ENC_B, c->enc[1],
	    sizeof(c->enc[1]))) < 0 ||
	    (r = col_range(s, COL_STARTED, 0, INT64_MAX, &c->started_ms)) < 0 ||
	    (r = col_range(s, COL_ANSWERED, 0, INT64_MAX,
	    &c->answered_ms)) < 0 ||
	    (r = col_range(s, COL_ENDED, 0, INT64_MAX, &c->ended_ms)) < 0 ||
	    (r = col_range(s, COL_STATUS, 0, STORE_CALL_STATUS_MAX,
	    &status)) < 0 ||
	    (r = col_range(s, COL_ANCHORED, 0, 1, &anchored)) < 0 ||
	    (r = leg_read(s, COL_LEG_A, &c->leg[0])) < 0 ||
	    (r = leg_read(s, COL_LEG_B, &c->leg[1])) < 0)
		return r;
	c->status = (uint16_t)status;
	c->anchored = (uint8_t)anchored;
	return call_ok(c) ? 0 : -EBADMSG;
}

int
store_call_list_outcome(struct store *st, bool active_only,
    const char *outcome, size_t limit, store_call_fn fn, void *arg)
{
	struct store_call c;
	sqlite3_stmt *s;
	int r, rc;

	if (fn == NULL || (outcome != NULL &&
	    !store_call_outcome_valid(outcome)))
		return -EINVAL;
	if ((r = store_stmt(st, active_only ? SQL_CALL_LIST_ACTIVE :
	    SQL_CALL_LIST, &s)) < 0)
		return r;
	/* An unbound ?2 is NULL: any outcome. */
	if ((r = store_err(sqlite3_bind_int64(s, 1, limit == 0 ||
	    limit > INT64_MAX ? -1 : (int64_t)limit))) < 0 ||
	    (outcome != NULL && (r = store_bind_text(s, 2, outcome)) < 0))
		goto out;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((r = call_read(s, &c)) < 0 || (r = fn(&c, arg)) != 0)
			goto out;
	}
	r = rc == SQLITE_DONE ? 0 : store_err(sqlite3_extended_errcode(st->db));
out:
	store_stmt_done(s);
	return r;
}

int
store_call_list(struct store *st, bool active_only, size_t limit,
    store_call_fn fn, void *arg)
{
	return store_call_list_outcome(st, active_only, NULL, limit, fn, arg);
}

/* The rows the last statement changed, as the int the API returns. */
static int
changes(struct store *st)
{
	int64_t n = sqlite3_changes64(st->db);

	return n > INT_MAX ? INT_MAX : (int)n;
}

int
store_call_mark_lost(struct store *st)
{
	sqlite3_stmt *s;
	int r;

	if ((r = store_stmt(st, SQL_CALL_MARK_LOST, &s)) < 0 ||
	    (r = store_step_done(s)) < 0)
		return r;
	return changes(st);
}

int
store_call_prune(struct store *st, int64_t before_ms)
{
	int r;

	if ((r = store_exec_i64(st, SQL_CALL_PRUNE, before_ms, NULL)) < 0)
		return r;
	return changes(st);
}
