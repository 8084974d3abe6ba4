/*
 * Unit tests for src/store/store_call.c: the call records (put/list
 * round trip, replacing a row, a Call-ID reused at another start time,
 * newest-first order, limit, active_only, a callback stopping the
 * walk), validation on write and the scrubbing of network text,
 * mark_lost and prune, the writer's STORE_WOP_CALL_PUT, the table's
 * CHECKs, rows edited by hand refused on read (-EBADMSG, no crash),
 * the migration of a version 3 store to version 4; the CDR fields of
 * schema 6 (zones, target, outcome, verdicts, encryption of each leg,
 * the duration column), the outcome filter, and the migration of a
 * version 5 store to 6 that keeps and completes the rows.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
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
#include "store/writer.h"

#define MD5A	"0123456789abcdef0123456789abcdef"
#define SHAA	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define T0	1740000000000LL		/* a start time, unix ms */

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

/* An answered outbound call with media on both legs. */
static void
call_init(struct store_call *c, const char *call_id, int64_t started,
    const char *state)
{
	memset(c, 0, sizeof(*c));
	assert_true(strlen(call_id) < sizeof(c->call_id));
	strcpy(c->call_id, call_id);
	strcpy(c->account, "alice");
	strcpy(c->from_user, "alice");
	strcpy(c->to_user, "+4930123456");
	strcpy(c->direction, "outbound");
	strcpy(c->src, "[2001:db8::7]:5062");
	c->started_ms = started;
	c->answered_ms = started + 2500;
	strcpy(c->state, state);
	if (strcmp(state, STORE_CALL_ACTIVE) != 0) {
		c->ended_ms = started + 65000;
		c->status = 200;
		strcpy(c->reason, "bye");
	}
	c->anchored = 1;
	/* Field by field: the memset zeroed the padding, keep it so. */
	c->leg[0].packets = 3250;
	c->leg[0].bytes = 559000;
	c->leg[0].ooo = 3;
	c->leg[0].auth_failed = 1;
	c->leg[0].foreign = 2;
	c->leg[0].lost = 12;
	c->leg[0].jitter_us = 4100;
	c->leg[0].srtp = 1;
	c->leg[0].has_media = 1;
	c->leg[1].packets = 3240;
	c->leg[1].bytes = 557280;
	c->leg[1].lost = -2;			/* duplicates */
	c->leg[1].jitter_us = UINT32_MAX;	/* the whole range fits */
	c->leg[1].has_media = 1;
}

struct seen {
	int			n;
	int			stop_at;
	struct store_call	c[8];
};

static int
collect(const struct store_call *c, void *arg)
{
	struct seen *s = arg;

	if (s->n < 8)
		s->c[s->n] = *c;
	s->n++;
	return s->stop_at > 0 && s->n == s->stop_at ? 9 : 0;
}

static int
list(struct store *st, bool active_only, size_t limit, struct seen *s)
{
	memset(s, 0, sizeof(*s));
	return store_call_list(st, active_only, limit, collect, s);
}

static void
test_call_round_trip(void **state)
{
	struct store *st = open_ok();
	struct store_call c, d;
	struct seen s;

	assert_int_equal(list(st, false, 0, &s), 0);
	assert_int_equal(s.n, 0);
	call_init(&c, "a84b4c76e66710@pc33.example.com", T0, STORE_CALL_ACTIVE);
	c.answered_ms = 0;
	assert_int_equal(store_call_put(st, &c), 0);
	assert_int_equal(list(st, false, 0, &s), 0);
	assert_int_equal(s.n, 1);
	assert_memory_equal(&s.c[0], &c, sizeof(c));

	/* Answered, then ended: put replaces the row (call_id, start). */
	c.answered_ms = T0 + 2500;
	assert_int_equal(store_call_put(st, &c), 0);
	c.ended_ms = T0 + 65000;
	c.status = 200;
	strcpy(c.reason, "bye");
	strcpy(c.state, STORE_CALL_ENDED);
	c.leg[0].packets = INT64_MAX;		/* the whole range fits */
	c.leg[0].lost = INT64_MIN;
	assert_int_equal(store_call_put(st, &c), 0);
	assert_int_equal(list(st, false, 0, &s), 0);
	assert_int_equal(s.n, 1);
	assert_memory_equal(&s.c[0], &c, sizeof(c));
	assert_int_equal(raw_int("SELECT count(*) FROM calls"), 1);

	/* The same Call-ID at another start time is another call. */
	call_init(&d, c.call_id, T0 + 1, STORE_CALL_ACTIVE);
	d.leg[1].has_media = 0;
	/* Whole fields: the bytes after a NUL are not kept. */
	memset(d.account, 0, sizeof(d.account));
	memset(d.src, 0, sizeof(d.src));
	assert_int_equal(store_call_put(st, &d), 0);
	assert_int_equal(list(st, false, 0, &s), 0);
	assert_int_equal(s.n, 2);
	assert_memory_equal(&s.c[0], &d, sizeof(d));
	assert_memory_equal(&s.c[1], &c, sizeof(c));
	store_close(st);
}

static void
test_call_list_order_limit_active(void **state)
{
	struct store *st = open_ok();
	struct store_call c;
	struct seen s;
	static const struct {
		const char	*id;
		int64_t		 started;
		const char	*state;
	} rows[] = {
		{ "c1", T0 + 100, STORE_CALL_ENDED },
		{ "c2", T0 + 400, STORE_CALL_ACTIVE },
		{ "c3", T0 + 300, STORE_CALL_LOST },
		{ "c4", T0 + 200, STORE_CALL_ACTIVE },
		{ "c5", T0 + 400, STORE_CALL_ENDED },	/* same start as c2 */
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		call_init(&c, rows[i].id, rows[i].started, rows[i].state);
		assert_int_equal(store_call_put(st, &c), 0);
	}
	/* Newest first; equal starts by call_id, descending. */
	assert_int_equal(list(st, false, 0, &s), 0);
	assert_int_equal(s.n, 5);
	assert_string_equal(s.c[0].call_id, "c5");
	assert_string_equal(s.c[1].call_id, "c2");
	assert_string_equal(s.c[2].call_id, "c3");
	assert_string_equal(s.c[3].call_id, "c4");
	assert_string_equal(s.c[4].call_id, "c1");
	assert_int_equal(list(st, false, 2, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.c[1].call_id, "c2");
	assert_int_equal(list(st, false, SIZE_MAX, &s), 0);
	assert_int_equal(s.n, 5);

	assert_int_equal(list(st, true, 0, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.c[0].call_id, "c2");
	assert_string_equal(s.c[1].call_id, "c4");
	assert_int_equal(list(st, true, 1, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.c[0].call_id, "c2");

	/* A callback's non-zero value stops the walk and is returned. */
	memset(&s, 0, sizeof(s));
	s.stop_at = 3;
	assert_int_equal(store_call_list(st, false, 0, collect, &s), 9);
	assert_int_equal(s.n, 3);
	assert_int_equal(store_call_list(st, false, 0, NULL, NULL), -EINVAL);
	store_close(st);
}

static void
test_call_validation(void **state)
{
	struct store *st = open_ok();
	struct store_call c;

#define BAD(stmt) do {							\
	call_init(&c, "x1", T0, STORE_CALL_ENDED);			\
	stmt;								\
	assert_int_equal(store_call_put(st, &c), -EINVAL);		\
} while (0)
	BAD(c.call_id[0] = '\0');
	BAD(memset(c.call_id, 'a', sizeof(c.call_id)));	/* no NUL */
	BAD(memset(c.account, 'a', sizeof(c.account)));
	BAD(memset(c.from_user, 'a', sizeof(c.from_user)));
	BAD(memset(c.to_user, 'a', sizeof(c.to_user)));
	BAD(memset(c.direction, 'a', sizeof(c.direction)));
	BAD(memset(c.src, 'a', sizeof(c.src)));
	BAD(memset(c.reason, 'a', sizeof(c.reason)));
	BAD(memset(c.state, 'a', sizeof(c.state)));
	BAD(c.direction[0] = '\0');
	BAD(strcpy(c.direction, "Outbound"));
	BAD(strcpy(c.direction, "out bound"));
	BAD(strcpy(c.state, "gone"));
	BAD(c.state[0] = '\0');
	BAD(strcpy(c.account, "al\x1bice"));
	BAD(strcpy(c.src, "192.0.2.1:5060\n"));
	BAD(strcpy(c.reason, "bye\x7f"));
	BAD(c.started_ms = -1);
	BAD(c.answered_ms = -1);
	BAD(c.ended_ms = INT64_MIN);
	BAD(c.status = 1000);
	BAD(c.anchored = 2);
	BAD(c.leg[0].srtp = 2);
	BAD(c.leg[1].has_media = 255);
	BAD(c.leg[0].packets = (uint64_t)INT64_MAX + 1);
	BAD(c.leg[1].bytes = UINT64_MAX);
	BAD(c.leg[0].ooo = UINT64_MAX);
	BAD(c.leg[1].auth_failed = UINT64_MAX);
	BAD(c.leg[0].foreign = UINT64_MAX);
#undef BAD
	assert_int_equal(store_call_put(st, NULL), -EINVAL);
	/* Nothing was written by the refusals. */
	assert_int_equal(raw_int("SELECT count(*) FROM calls"), 0);

	/* The longest values that fit are fine. */
	call_init(&c, "x", T0, STORE_CALL_LOST);
	memset(c.call_id, 'i', STORE_CALL_ID_MAX);
	c.call_id[STORE_CALL_ID_MAX] = '\0';
	memset(c.from_user, 'f', STORE_CALL_USER_MAX);
	c.from_user[STORE_CALL_USER_MAX] = '\0';
	memset(c.direction, 'd', STORE_CALL_DIR_MAX);
	c.direction[STORE_CALL_DIR_MAX] = '\0';
	memset(c.reason, 'r', STORE_CALL_REASON_MAX);
	c.reason[STORE_CALL_REASON_MAX] = '\0';
	c.status = STORE_CALL_STATUS_MAX;
	c.started_ms = 0;
	assert_int_equal(store_call_put(st, &c), 0);
	assert_int_equal(raw_int("SELECT count(*) FROM calls"), 1);
	store_close(st);
}

/* Network text is scrubbed, not refused: the call is recorded. */
static void
test_call_scrubs_network_text(void **state)
{
	struct store *st = open_ok();
	struct store_call c;
	struct seen s;

	call_init(&c, "evil\x1b[2J\r\n@x", T0, STORE_CALL_ENDED);
	/* A u-umlaut stays; a stray byte, a C1 control go. */
	strcpy(c.from_user, "J\xc3\xbcrgen\xff\xc2\x85");
	/* An overlong '/', DEL. */
	strcpy(c.to_user, "\xe0\x80\xaf\x7f");
	assert_int_equal(store_call_put(st, &c), 0);
	assert_int_equal(list(st, false, 0, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.c[0].call_id, "evil?[2J??@x");
	assert_string_equal(s.c[0].from_user, "J\xc3\xbcrgen???");
	assert_string_equal(s.c[0].to_user, "????");
	/* The caller's struct is not touched. */
	assert_string_equal(c.to_user, "\xe0\x80\xaf\x7f");
	store_close(st);
}

static void
test_call_mark_lost_and_prune(void **state)
{
	struct store *st = open_ok();
	struct store_call c;
	struct seen s;

	assert_int_equal(store_call_mark_lost(st), 0);
	assert_int_equal(store_call_prune(st, T0 + 1000), 0);

	call_init(&c, "old-ended", T0, STORE_CALL_ENDED);
	assert_int_equal(store_call_put(st, &c), 0);
	call_init(&c, "old-active", T0 + 1, STORE_CALL_ACTIVE);
	assert_int_equal(store_call_put(st, &c), 0);
	call_init(&c, "old-active2", T0 + 2, STORE_CALL_ACTIVE);
	c.answered_ms = 0;
	assert_int_equal(store_call_put(st, &c), 0);
	call_init(&c, "new-ended", T0 + 5000, STORE_CALL_ENDED);
	assert_int_equal(store_call_put(st, &c), 0);
	call_init(&c, "new-active", T0 + 5001, STORE_CALL_ACTIVE);
	assert_int_equal(store_call_put(st, &c), 0);

	/* Active rows are never pruned. */
	assert_int_equal(store_call_prune(st, T0 + 1000), 1);
	assert_int_equal(raw_int("SELECT count(*) FROM calls "
	    "WHERE call_id = 'old-ended'"), 0);
	assert_int_equal(raw_int("SELECT count(*) FROM calls"), 4);

	assert_int_equal(store_call_mark_lost(st), 3);
	assert_int_equal(store_call_mark_lost(st), 0);
	assert_int_equal(list(st, true, 0, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(list(st, false, 0, &s), 0);
	assert_int_equal(s.n, 4);
	for (int i = 0; i < s.n; i++) {
		if (strcmp(s.c[i].call_id, "new-ended") == 0) {
			assert_string_equal(s.c[i].state, STORE_CALL_ENDED);
			continue;
		}
		assert_string_equal(s.c[i].state, STORE_CALL_LOST);
		assert_int_equal(s.c[i].ended_ms, 0);
		assert_int_equal(s.c[i].status, 0);
	}
	/* Lost rows are pruned like ended ones; the bound is exclusive. */
	assert_int_equal(store_call_prune(st, T0 + 1), 0);
	assert_int_equal(store_call_prune(st, T0 + 5001), 3);
	assert_int_equal(list(st, false, 0, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.c[0].call_id, "new-active");
	assert_int_equal(store_call_prune(st, INT64_MAX), 1);
	assert_int_equal(raw_int("SELECT count(*) FROM calls"), 0);
	store_close(st);
}

static struct {
	pthread_mutex_t	mtx;
	int		n;
	int		result[4];
} done_seen = { .mtx = PTHREAD_MUTEX_INITIALIZER };

static void
on_done(void *arg, int result)
{
	pthread_mutex_lock(&done_seen.mtx);
	if (done_seen.n < 4)
		done_seen.result[done_seen.n] = result;
	done_seen.n++;
	pthread_mutex_unlock(&done_seen.mtx);
}

static void
test_call_through_the_writer(void **state)
{
	struct store_writer_conf conf;
	struct store_writer *w = NULL;
	struct store_wop op;
	struct store *st;
	struct seen s;
	char msg[256];

	done_seen.n = 0;
	store_writer_conf_init(&conf, path);
	assert_int_equal(store_writer_start(&conf, &w, msg, sizeof(msg)), 0);

	memset(&op, 0, sizeof(op));
	op.type = STORE_WOP_CALL_PUT;
	op.done = on_done;
	call_init(&op.u.call, "w1", T0, STORE_CALL_ACTIVE);
	assert_int_equal(store_writer_submit(w, &op), 0);
	/* The op is a copy: changing ours now changes nothing queued. */
	strcpy(op.u.call.state, STORE_CALL_ENDED);
	op.u.call.ended_ms = T0 + 9000;
	assert_int_equal(store_writer_submit(w, &op), 0);
	strcpy(op.u.call.state, "bogus");	/* fails alone */
	assert_int_equal(store_writer_submit(w, &op), 0);
	store_writer_sync(w);
	assert_int_equal(done_seen.n, 3);
	assert_int_equal(done_seen.result[0], 0);
	assert_int_equal(done_seen.result[1], 0);
	assert_int_equal(done_seen.result[2], -EINVAL);
	store_writer_stop(w);

	st = open_ok();
	assert_int_equal(list(st, false, 0, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.c[0].call_id, "w1");
	assert_string_equal(s.c[0].state, STORE_CALL_ENDED);
	assert_int_equal(s.c[0].ended_ms, T0 + 9000);
	assert_int_equal(s.c[0].leg[0].jitter_us, 4100);
	store_close(st);
}

#define CALL_ROW_COLS \
	"INSERT INTO calls (call_id, started_ms, account, from_user, " \
	"to_user, direction, src, state, a_srtp, a_media, b_lost, " \
	"b_jitter_us, status) "

/* Rows written by hand (sqlite3(1)) stay within the struct's bounds. */
static void
test_call_table_checks(void **state)
{
	static const char *const bad[] = {
		CALL_ROW_COLS "VALUES ('', 1, '', '', '', 'inbound', '', "
		    "'ended', 0, 0, 0, 0, 0)",
		CALL_ROW_COLS "VALUES ('x', -1, '', '', '', 'inbound', '', "
		    "'ended', 0, 0, 0, 0, 0)",
		CALL_ROW_COLS "VALUES ('x', 1, '', '', '', '', '', "
		    "'ended', 0, 0, 0, 0, 0)",
		CALL_ROW_COLS "VALUES ('x', 1, '', '', '', 'inbound', '', "
		    "'zombie', 0, 0, 0, 0, 0)",
		CALL_ROW_COLS "VALUES ('x', 1, '', '', '', 'inbound', '', "
		    "'ended', 2, 0, 0, 0, 0)",
		CALL_ROW_COLS "VALUES ('x', 1, '', '', '', 'inbound', '', "
		    "'ended', 0, 0, 0, 4294967296, 0)",
		CALL_ROW_COLS "VALUES ('x', 1, '', '', '', 'inbound', '', "
		    "'ended', 0, 0, 0, 0, 1000)",
		CALL_ROW_COLS "VALUES ('x', 1, 'a', '', '', 'inbound', '', "
		    "'ended', 0, 0, 'many', 0, 0)",
		CALL_ROW_COLS "VALUES ('x', 1, printf('%.65c', 'a'), '', '', "
		    "'inbound', '', 'ended', 0, 0, 0, 0, 0)",
	};

	store_close(open_ok());
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_not_equal(raw_exec(bad[i]), SQLITE_OK);
	assert_int_equal(raw_exec(CALL_ROW_COLS "VALUES ('x', 1, '', '', '', "
	    "'inbound', '', 'lost', 1, 1, -5, 4294967295, 487)"), SQLITE_OK);
	assert_int_equal(raw_int("SELECT count(*) FROM pragma_table_list "
	    "WHERE name = 'calls' AND strict = 1"), 1);
}

/*
 * What the CHECKs let through (control characters, invalid UTF-8) and
 * what a hand edit with the CHECKs off can write: every such row stops
 * the listing with -EBADMSG, whichever field is wrong.
 */
static void
test_call_corrupt_rows_refused(void **state)
{
	static const char *const bad[] = {
		CALL_ROW_COLS "VALUES ('x\x1b[31m', 1, '', '', '', 'inbound', "
		    "'', 'active', 0, 0, 0, 0, 0)",
		CALL_ROW_COLS "VALUES ('x', 1, '', 'a\nb', '', 'inbound', '', "
		    "'active', 0, 0, 0, 0, 0)",
		CALL_ROW_COLS "VALUES ('x', 1, '', '', "
		    "CAST(x'41ff42' AS TEXT), 'inbound', '', 'active', "
		    "0, 0, 0, 0, 0)",
		CALL_ROW_COLS "VALUES ('x', 1, '', '', '', 'in-bound', '', "
		    "'active', 0, 0, 0, 0, 0)",
		CALL_ROW_COLS "VALUES ('x', 1, '', '', '', 'inbound', "
		    "'1.2.3.4\x9b', 'active', 0, 0, 0, 0, 0)",
		/* With the CHECKs off. */
		CALL_ROW_COLS "VALUES ('x', 1, '', printf('%.200c', 'a'), '', "
		    "'inbound', '', 'active', 0, 0, 0, 0, 0)",
		CALL_ROW_COLS "VALUES (printf('%.129c', 'i'), 1, '', '', '', "
		    "'inbound', '', 'active', 0, 0, 0, 0, 0)",
		CALL_ROW_COLS "VALUES ('x', 1, '', '', '', 'inbound', '', "
		    "'activ', 0, 0, 0, 0, 0)",
		CALL_ROW_COLS "VALUES ('x', 1, '', '', '', 'inbound', '', "
		    "'active', 7, 0, 0, 0, 0)",
		CALL_ROW_COLS "VALUES ('x', 1, '', '', '', 'inbound', '', "
		    "'active', 0, 0, 0, -1, 0)",
		CALL_ROW_COLS "VALUES ('x', 1, '', '', '', 'inbound', '', "
		    "'active', 0, 0, 0, 0, 70000)",
		CALL_ROW_COLS "VALUES ('x', -7, '', '', '', 'inbound', '', "
		    "'active', 0, 0, 0, 0, 0)",
		CALL_ROW_COLS "VALUES ('x', 1, '', '', '', '', '', "
		    "'active', 0, 0, 0, 0, 0)",
	};
	struct store *st;
	struct store_call c;
	struct seen s;
	char sql[1024];

	st = open_ok();
	call_init(&c, "good", T0, STORE_CALL_ACTIVE);
	assert_int_equal(store_call_put(st, &c), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(sql, sizeof(sql), "PRAGMA ignore_check_constraints "
		    "= ON; DELETE FROM calls WHERE call_id <> 'good'; %s",
		    bad[i]);
		assert_int_equal(raw_exec(sql), SQLITE_OK);
		assert_int_equal(raw_int("SELECT count(*) FROM calls"), 2);
		/* The bad row is the oldest: "good" was seen first. */
		assert_int_equal(list(st, false, 0, &s), -EBADMSG);
		assert_int_equal(s.n, 1);
		/* Only active rows are read for the active list. */
		if (strstr(bad[i], "'active'") != NULL)
			assert_int_equal(list(st, true, 0, &s), -EBADMSG);
		else
			assert_int_equal(list(st, true, 0, &s), 0);
		/* Rows before it, within the limit, still list. */
		assert_int_equal(list(st, false, 1, &s), 0);
		assert_int_equal(s.n, 1);
	}
	store_close(st);
}

static void
test_call_migrate_from_v3(void **state)
{
	struct store_account a;
	struct store_usage u;
	struct store_call c;
	struct store *st;
	struct seen s;

	/* A version 3 store with rows, as the previous sipwall left it. */
	old_store(3,
	    "INSERT INTO accounts (username, domain, ha1_md5, ha1_sha256, "
	    "created, locked_until) VALUES ('bob', 'example.com', '" MD5A
	    "', '" SHAA "', 42, 99);"
	    "INSERT INTO usage (account, minute, day, calls_day, updated) "
	    "VALUES ('bob@example.com', 5, 6, 7, 8);"
	    "INSERT INTO usage_resets (account, at) "
	    "VALUES ('bob@example.com', 9);");
	assert_int_equal(raw_int("PRAGMA user_version"), 3);
	assert_int_equal(raw_int("SELECT count(*) FROM sqlite_schema "
	    "WHERE name = 'calls'"), 0);

	st = open_ok();
	assert_int_equal(store_schema_version(st), STORE_SCHEMA_VERSION);
	assert_int_equal(raw_int("PRAGMA user_version"), STORE_SCHEMA_VERSION);
	assert_int_equal(store_account_get(st, "bob", "example.com", &a), 0);
	assert_int_equal(a.locked_until, 99);
	assert_int_equal(store_usage_get(st, "bob@example.com", &u), 0);
	assert_int_equal(u.calls_day, 7);
	assert_int_equal(raw_int("SELECT count(*) FROM usage_resets"), 1);
	assert_int_equal(list(st, false, 0, &s), 0);
	assert_int_equal(s.n, 0);
	call_init(&c, "m1", T0, STORE_CALL_ACTIVE);
	assert_int_equal(store_call_put(st, &c), 0);
	store_close(st);
	assert_int_equal(raw_int("SELECT count(*) FROM sqlite_schema "
	    "WHERE type = 'index' AND name IN ('calls_started', "
	    "'calls_active')"), 2);
	/* Reopening a current store migrates nothing and keeps the row. */
	st = open_ok();
	assert_int_equal(list(st, false, 0, &s), 0);
	assert_int_equal(s.n, 1);
	store_close(st);
}

/* The CDR fields of an answered SRTP call. */
static void
cdr_init(struct store_call *c, const char *call_id, int64_t started,
    const char *outcome)
{
	call_init(c, call_id, started, STORE_CALL_ENDED);
	strcpy(c->zone_a, "internet");
	strcpy(c->zone_b, "core");
	strcpy(c->target, "core:[2001:db8::10]:5060");
	strcpy(c->outcome, outcome);
	strcpy(c->verdicts, "auth:digest,dest:domestic,limit:ok,"
	    "srtp:require,media:anchored");
	strcpy(c->enc[0], "AES_CM_128_HMAC_SHA1_80");
	strcpy(c->enc[1], "rtp");
}

static void
test_call_cdr_fields_round_trip(void **state)
{
	struct store *st = open_ok();
	struct store_call c, d;
	struct seen s;

	cdr_init(&c, "cdr1", T0, STORE_CALL_ANSWERED);
	assert_int_equal(store_call_put(st, &c), 0);
	/* The longest values that fit. */
	cdr_init(&d, "cdr2", T0 + 1, STORE_CALL_REFUSED);
	memset(d.zone_a, 'z', STORE_CALL_ZONE_MAX);
	memset(d.zone_b, 'y', STORE_CALL_ZONE_MAX);
	memset(d.target, 't', STORE_CALL_TARGET_MAX);
	memset(d.verdicts, 'v', STORE_CALL_VERDICTS_MAX);
	memset(d.enc[0], 'e', STORE_CALL_ENC_MAX);
	memset(d.enc[1], 'f', STORE_CALL_ENC_MAX);
	d.answered_ms = 0;
	d.status = 403;
	strcpy(d.reason, "high_risk");
	assert_int_equal(store_call_put(st, &d), 0);
	assert_int_equal(list(st, false, 0, &s), 0);
	assert_int_equal(s.n, 2);
	assert_memory_equal(&s.c[0], &d, sizeof(d));
	assert_memory_equal(&s.c[1], &c, sizeof(c));
	assert_string_equal(s.c[1].enc[0], "AES_CM_128_HMAC_SHA1_80");
	assert_string_equal(s.c[1].outcome, "answered");

	/* The duration column: answered to ended, else 0. */
	assert_int_equal(raw_int("SELECT duration_ms FROM calls "
	    "WHERE call_id = 'cdr1'"), 65000 - 2500);
	assert_int_equal(raw_int("SELECT duration_ms FROM calls "
	    "WHERE call_id = 'cdr2'"), 0);
	cdr_init(&c, "cdr3", T0 + 2, STORE_CALL_ANSWERED);
	strcpy(c.state, STORE_CALL_ACTIVE);
	c.ended_ms = 0;
	assert_int_equal(store_call_put(st, &c), 0);
	assert_int_equal(raw_int("SELECT duration_ms FROM calls "
	    "WHERE call_id = 'cdr3'"), 0);

	/* The target may name the callee: scrubbed like the users. */
	cdr_init(&c, "cdr4", T0 + 3, STORE_CALL_FAILED);
	strcpy(c.target, "user:\x1b[2J");
	assert_int_equal(store_call_put(st, &c), 0);
	assert_int_equal(list(st, false, 1, &s), 0);
	assert_string_equal(s.c[0].target, "user:?[2J");
	store_close(st);
}

static void
test_call_cdr_validation(void **state)
{
	struct store *st = open_ok();
	struct store_call c;

#define BAD(stmt) do {							\
	cdr_init(&c, "x1", T0, STORE_CALL_ANSWERED);			\
	stmt;								\
	assert_int_equal(store_call_put(st, &c), -EINVAL);		\
} while (0)
	BAD(strcpy(c.outcome, "bogus"));
	BAD(strcpy(c.outcome, "Answered"));
	BAD(strcpy(c.outcome, "lost"));
	BAD(memset(c.outcome, 'a', sizeof(c.outcome)));	/* no NUL */
	BAD(memset(c.zone_a, 'a', sizeof(c.zone_a)));
	BAD(memset(c.zone_b, 'a', sizeof(c.zone_b)));
	BAD(memset(c.target, 'a', sizeof(c.target)));
	BAD(memset(c.verdicts, 'a', sizeof(c.verdicts)));
	BAD(memset(c.enc[0], 'a', sizeof(c.enc[0])));
	BAD(memset(c.enc[1], 'a', sizeof(c.enc[1])));
	BAD(strcpy(c.zone_a, "in\tternet"));
	BAD(strcpy(c.verdicts, "auth:digest\n"));
	BAD(strcpy(c.enc[1], "rtp\x7f"));
#undef BAD
	assert_int_equal(raw_int("SELECT count(*) FROM calls"), 0);
	/* Every outcome of the set, and "" (undecided). */
	for (size_t i = 0; i < 5; i++) {
		static const char *const oc[] = { "", STORE_CALL_ANSWERED,
		    STORE_CALL_REFUSED, STORE_CALL_FAILED,
		    STORE_CALL_CANCELLED };
		char id[8];

		snprintf(id, sizeof(id), "o%zu", i);
		cdr_init(&c, id, T0 + (int64_t)i, oc[i]);
		assert_true(store_call_outcome_valid(oc[i]));
		assert_int_equal(store_call_put(st, &c), 0);
	}
	assert_false(store_call_outcome_valid(NULL));
	assert_false(store_call_outcome_valid("answered "));
	assert_int_equal(raw_int("SELECT count(*) FROM calls"), 5);
	store_close(st);
}

static void
test_call_outcome_filter(void **state)
{
	struct store *st = open_ok();
	struct store_call c;
	struct seen s;
	static const struct {
		const char	*id, *outcome, *state;
	} rows[] = {
		{ "f1", STORE_CALL_ANSWERED, STORE_CALL_ENDED },
		{ "f2", STORE_CALL_REFUSED, STORE_CALL_ENDED },
		{ "f3", STORE_CALL_FAILED, STORE_CALL_ENDED },
		{ "f4", STORE_CALL_ANSWERED, STORE_CALL_ACTIVE },
		{ "f5", STORE_CALL_CANCELLED, STORE_CALL_ENDED },
		{ "f6", STORE_CALL_REFUSED, STORE_CALL_ENDED },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		cdr_init(&c, rows[i].id, T0 + (int64_t)i, rows[i].outcome);
		strcpy(c.state, rows[i].state);
		assert_int_equal(store_call_put(st, &c), 0);
	}
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_call_list_outcome(st, false,
	    STORE_CALL_REFUSED, 0, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.c[0].call_id, "f6");
	assert_string_equal(s.c[1].call_id, "f2");
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_call_list_outcome(st, false,
	    STORE_CALL_REFUSED, 1, collect, &s), 0);
	assert_int_equal(s.n, 1);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_call_list_outcome(st, false,
	    STORE_CALL_ANSWERED, 0, collect, &s), 0);
	assert_int_equal(s.n, 2);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_call_list_outcome(st, true,
	    STORE_CALL_ANSWERED, 0, collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.c[0].call_id, "f4");
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_call_list_outcome(st, true,
	    STORE_CALL_FAILED, 0, collect, &s), 0);
	assert_int_equal(s.n, 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_call_list_outcome(st, false, NULL, 0, collect,
	    &s), 0);
	assert_int_equal(s.n, 6);
	assert_int_equal(store_call_list_outcome(st, false, "lost", 0,
	    collect, &s), -EINVAL);
	/* The statement is fine for the next caller (no binding left). */
	assert_int_equal(list(st, false, 0, &s), 0);
	assert_int_equal(s.n, 6);
	store_close(st);
}

#define CDR_ROW_COLS \
	"INSERT INTO calls (call_id, started_ms, direction, state, zone_a, " \
	"zone_b, target, outcome, verdicts, enc_a, enc_b) "

static void
test_call_cdr_checks(void **state)
{
	static const char *const bad[] = {
		CDR_ROW_COLS "VALUES ('x', 1, 'inbound', 'ended', '', '', '', "
		    "'bogus', '', '', '')",
		CDR_ROW_COLS "VALUES ('x', 1, 'inbound', 'ended', '', '', '', "
		    "'lost', '', '', '')",
		CDR_ROW_COLS "VALUES ('x', 1, 'inbound', 'ended', "
		    "printf('%.32c', 'z'), '', '', '', '', '', '')",
		CDR_ROW_COLS "VALUES ('x', 1, 'inbound', 'ended', '', "
		    "printf('%.32c', 'z'), '', '', '', '', '')",
		CDR_ROW_COLS "VALUES ('x', 1, 'inbound', 'ended', '', '', "
		    "printf('%.64c', 't'), '', '', '', '')",
		CDR_ROW_COLS "VALUES ('x', 1, 'inbound', 'ended', '', '', '', "
		    "'', printf('%.256c', 'v'), '', '')",
		CDR_ROW_COLS "VALUES ('x', 1, 'inbound', 'ended', '', '', '', "
		    "'', '', printf('%.32c', 'e'), '')",
		CDR_ROW_COLS "VALUES ('x', 1, 'inbound', 'ended', '', '', '', "
		    "'', '', '', printf('%.32c', 'e'))",
		CDR_ROW_COLS "VALUES ('x', 1, 'inbound', 'ended', '', '', '', "
		    "NULL, '', '', '')",
		/* The duration is computed, never written. */
		("INSERT INTO calls (call_id, started_ms, direction, "
		    "duration_ms) VALUES ('x', 1, 'inbound', 5)"),
	};

	store_close(open_ok());
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_not_equal(raw_exec(bad[i]), SQLITE_OK);
	assert_int_equal(raw_exec(CDR_ROW_COLS "VALUES ('x', 1, 'inbound', "
	    "'ended', printf('%.31c', 'z'), '', printf('%.63c', 't'), "
	    "'cancelled', printf('%.255c', 'v'), printf('%.31c', 'e'), "
	    "'rtp')"), SQLITE_OK);
	assert_int_equal(raw_int("SELECT count(*) FROM calls"), 1);
}

/* A row edited by hand with the CHECKs off is refused on read. */
static void
test_call_cdr_corrupt_rows_refused(void **state)
{
	static const char *const bad[] = {
		"UPDATE calls SET outcome = 'bogus' WHERE call_id = 'bad'",
		"UPDATE calls SET zone_a = 'in\x1b[31m' WHERE call_id = 'bad'",
		"UPDATE calls SET verdicts = 'a\nb' WHERE call_id = 'bad'",
		"UPDATE calls SET enc_b = printf('%.40c', 'e') "
		    "WHERE call_id = 'bad'",
		"UPDATE calls SET target = CAST(x'41ff42' AS TEXT) "
		    "WHERE call_id = 'bad'",
	};
	struct store *st = open_ok();
	struct store_call c;
	struct seen s;
	char sql[512];

	cdr_init(&c, "good", T0, STORE_CALL_ANSWERED);
	assert_int_equal(store_call_put(st, &c), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cdr_init(&c, "bad", T0 - 1, STORE_CALL_FAILED);
		assert_int_equal(store_call_put(st, &c), 0);
		snprintf(sql, sizeof(sql), "PRAGMA ignore_check_constraints "
		    "= ON; %s", bad[i]);
		assert_int_equal(raw_exec(sql), SQLITE_OK);
		assert_int_equal(list(st, false, 0, &s), -EBADMSG);
		assert_int_equal(s.n, 1);
		assert_int_equal(raw_exec("DELETE FROM calls "
		    "WHERE call_id = 'bad'"), SQLITE_OK);
	}
	store_close(st);
}

static void
test_call_migrate_from_v5(void **state)
{
	struct store_call c;
	struct store *st;
	struct seen s;

	/* A version 5 store with the rows sipwall wrote then: answered
	 * and ended with SRTP on the caller's leg, cancelled, failed,
	 * lost before an answer, active and answered. */
	old_store(5,
	    "INSERT INTO calls (call_id, started_ms, account, direction, "
	    "answered_ms, ended_ms, status, reason, state, anchored, "
	    "a_packets, a_srtp, a_media, b_packets, b_media) VALUES "
	    "('v-ans', 1000, 'alice', 'outbound', 3000, 63000, 200, 'bye', "
	    "'ended', 1, 50, 1, 1, 49, 1),"
	    "('v-cancel', 2000, 'alice', 'outbound', 0, 4000, 487, 'cancel', "
	    "'ended', 1, 3, 0, 1, 0, 0),"
	    "('v-fail', 3000, '', 'inbound', 0, 5000, 486, 'rejected', "
	    "'ended', 0, 0, 0, 0, 0, 0),"
	    "('v-lost', 4000, '', 'trunk_in', 0, 0, 0, '', 'lost', 0, 0, 0, "
	    "0, 0, 0),"
	    "('v-up', 5000, 'bob', 'outbound', 6000, 0, 0, '', 'active', 1, "
	    "9, 0, 1, 8, 1);");
	assert_int_equal(raw_int("PRAGMA user_version"), 5);
	assert_int_equal(raw_int("SELECT count(*) FROM sqlite_schema "
	    "WHERE name = 'config_changes'"), 0);

	st = open_ok();
	assert_int_equal(store_schema_version(st), 6);
	assert_int_equal(raw_int("PRAGMA user_version"), 6);
	assert_int_equal(list(st, false, 0, &s), 0);
	assert_int_equal(s.n, 5);
	/* Newest first: v-up, v-lost, v-fail, v-cancel, v-ans. */
	assert_string_equal(s.c[0].call_id, "v-up");
	assert_string_equal(s.c[0].outcome, STORE_CALL_ANSWERED);
	assert_string_equal(s.c[0].enc[0], "rtp");
	assert_string_equal(s.c[0].enc[1], "rtp");
	assert_string_equal(s.c[0].state, STORE_CALL_ACTIVE);
	assert_string_equal(s.c[1].call_id, "v-lost");
	assert_string_equal(s.c[1].outcome, "");
	assert_string_equal(s.c[1].enc[0], "");
	assert_string_equal(s.c[2].call_id, "v-fail");
	assert_string_equal(s.c[2].outcome, STORE_CALL_FAILED);
	assert_int_equal(s.c[2].status, 486);
	assert_string_equal(s.c[3].call_id, "v-cancel");
	assert_string_equal(s.c[3].outcome, STORE_CALL_CANCELLED);
	assert_string_equal(s.c[3].enc[0], "rtp");
	assert_string_equal(s.c[3].enc[1], "");
	assert_string_equal(s.c[4].call_id, "v-ans");
	assert_string_equal(s.c[4].outcome, STORE_CALL_ANSWERED);
	assert_string_equal(s.c[4].enc[0], "srtp");
	assert_string_equal(s.c[4].enc[1], "rtp");
	assert_string_equal(s.c[4].account, "alice");
	assert_int_equal(s.c[4].leg[0].packets, 50);
	assert_string_equal(s.c[4].zone_a, "");
	assert_string_equal(s.c[4].target, "");
	assert_string_equal(s.c[4].verdicts, "");
	assert_int_equal(raw_int("SELECT duration_ms FROM calls "
	    "WHERE call_id = 'v-ans'"), 60000);
	/* The old rows are kept and new ones carry every field. */
	cdr_init(&c, "v-new", 7000, STORE_CALL_REFUSED);
	assert_int_equal(store_call_put(st, &c), 0);
	assert_int_equal(store_config_change_add(st, 8000, "sighup",
	    STORE_CONFIG_APPLIED, "ok", ""), 0);
	store_close(st);
	assert_int_equal(raw_int("SELECT count(*) FROM calls"), 6);
	assert_int_equal(raw_int("SELECT count(*) FROM pragma_table_list "
	    "WHERE name IN ('calls', 'config_changes') AND strict = 1"), 2);
	assert_int_equal(raw_int("SELECT count(*) FROM sqlite_schema "
	    "WHERE type = 'index' AND name IN ('calls_started', "
	    "'calls_active')"), 2);
	/* Reopening a current store migrates nothing and keeps the rows. */
	st = open_ok();
	assert_int_equal(list(st, false, 0, &s), 0);
	assert_int_equal(s.n, 6);
	store_close(st);
}

int
main(void)
{
#define T(f)	TMPSTORE_TEST(f)
	const struct CMUnitTest tests[] = {
		T(test_call_round_trip),
		T(test_call_list_order_limit_active),
		T(test_call_validation),
		T(test_call_scrubs_network_text),
		T(test_call_mark_lost_and_prune),
		T(test_call_through_the_writer),
		T(test_call_table_checks),
		T(test_call_corrupt_rows_refused),
		T(test_call_migrate_from_v3),
		T(test_call_cdr_fields_round_trip),
		T(test_call_cdr_validation),
		T(test_call_outcome_filter),
		T(test_call_cdr_checks),
		T(test_call_cdr_corrupt_rows_refused),
		T(test_call_migrate_from_v5),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
