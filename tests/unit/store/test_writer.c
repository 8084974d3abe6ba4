/*
 * Unit tests for src/store/writer.c: every operation type, completion
 * after COMMIT and in submission order, batching by size and by delay,
 * one failing operation failing alone, a failed transaction failing
 * all, the full queue (-SBC_EFULL without waiting), draining on stop,
 * -ESHUTDOWN while stopping, a CLI-like connection writing at the same
 * time as the writer (no SQLITE_BUSY surfaces), and durability: a child
 * process killed with SIGKILL right after its done callbacks ran loses
 * none of the acknowledged rows.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/err.h"
#include "store/store.h"
#include "store/writer.h"

#define MD5A	"0123456789abcdef0123456789abcdef"
#define SHAA	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define MAXOPS	8192

#define TMPSTORE_NO_SQLITE	/* no raw_int(): sqlite3.h is not here */
#include "tmpstore.h"

/* What the done callbacks saw; written on the writer thread. */
static struct {
	pthread_mutex_t	mtx;
	int		n;
	int		next;		/* index expected next */
	bool		out_of_order;
	int		result[MAXOPS];
	struct store	*check;		/* connection to look from, or NULL */
	int		not_visible;	/* done before the row was committed */
} tally = { .mtx = PTHREAD_MUTEX_INITIALIZER };

static int
setup(void **state)
{
	if (tmpstore_setup(state) < 0)
		return -1;
	pthread_mutex_lock(&tally.mtx);
	tally.n = 0;
	tally.next = 0;
	tally.out_of_order = false;
	tally.check = NULL;
	tally.not_visible = 0;
	for (int i = 0; i < MAXOPS; i++)
		tally.result[i] = 1;
	pthread_mutex_unlock(&tally.mtx);
	return 0;
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
	    .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void
aor_of(int i, char *buf, size_t cap)
{
	snprintf(buf, cap, "u%d@example.com", i);
}

static void
on_done(void *arg, int result)
{
	int i = (int)(intptr_t)arg;

	pthread_mutex_lock(&tally.mtx);
	if (i != tally.next)
		tally.out_of_order = true;
	tally.next = i + 1;
	if (i >= 0 && i < MAXOPS)
		tally.result[i] = result;
	if (tally.check != NULL && result == 0) {
		char aor[64];
		unsigned n = 0;

		/* The row must be visible to another connection already. */
		aor_of(i, aor, sizeof(aor));
		if (store_reg_count(tally.check, aor, 0, &n) != 0 || n != 1)
			tally.not_visible++;
	}
	tally.n++;
	pthread_mutex_unlock(&tally.mtx);
}

static void
reg_op(struct store_wop *op, int i)
{
	memset(op, 0, sizeof(*op));
	op->type = STORE_WOP_REG_UPSERT;
	op->done = on_done;
	op->arg = (void *)(intptr_t)i;
	aor_of(i, op->u.reg.aor, sizeof(op->u.reg.aor));
	snprintf(op->u.reg.contact, sizeof(op->u.reg.contact),
	    "sip:u%d@192.0.2.1:5060", i);
	strcpy(op->u.reg.source, "192.0.2.1");
	op->u.reg.sport = 5060;
	strcpy(op->u.reg.transport, "udp");
	op->u.reg.expires = 4000000000LL;
	op->u.reg.updated = 1;
}

static struct store_writer *
start(unsigned delay_ms, unsigned batch_max, size_t capacity)
{
	struct store_writer_conf c;
	struct store_writer *w = NULL;
	char msg[256];

	store_writer_conf_init(&c, path);
	c.delay_ms = delay_ms;
	if (batch_max > 0)
		c.batch_max = batch_max;
	if (capacity > 0)
		c.capacity = capacity;
	assert_int_equal(store_writer_start(&c, &w, msg, sizeof(msg)), 0);
	assert_non_null(w);
	return w;
}

static unsigned
count_regs(void)
{
	struct store *st;
	unsigned n = 0;

	assert_int_equal(store_open(path, 0, &st), 0);
	for (int i = 0; i < MAXOPS; i++) {
		char aor[64];
		unsigned k = 0;

		aor_of(i, aor, sizeof(aor));
		assert_int_equal(store_reg_count(st, aor, 0, &k), 0);
		n += k;
	}
	store_close(st);
	return n;
}

static void
test_writer_basic(void **state)
{
	struct store_writer *w = start(STORE_WRITER_DELAY_MS, 0, 0);
	struct store_writer_stats s;
	struct store_wop op;

	for (int i = 0; i < 100; i++) {
		reg_op(&op, i);
		assert_int_equal(store_writer_submit(w, &op), 0);
	}
	store_writer_sync(w);
	assert_int_equal(tally.n, 100);
	assert_false(tally.out_of_order);
	for (int i = 0; i < 100; i++)
		assert_int_equal(tally.result[i], 0);
	store_writer_stats(w, &s);
	assert_int_equal(s.queued, 100);
	assert_int_equal(s.committed, 100);
	assert_int_equal(s.failures, 0);
	assert_int_equal(s.rejected, 0);
	assert_int_equal(s.depth, 0);
	assert_true(s.batches >= 1 && s.batches <= 100);
	assert_true(s.max_batch >= 1 && s.max_batch <= STORE_WRITER_BATCH);
	assert_int_equal(s.batch_failures, 0);
	assert_true(s.max_depth >= 1);
	store_writer_stop(w);
	store_writer_stop(NULL);
	assert_int_equal(count_regs(), 100);
}

static void
test_writer_done_after_commit_in_order(void **state)
{
	struct store_writer *w = start(1, 16, 0);
	struct store *check;
	struct store_wop op;

	/* Handed to the writer thread's callbacks while we wait in sync. */
	assert_int_equal(store_open(path, 0, &check), 0);
	tally.check = check;
	for (int i = 0; i < 300; i++) {
		reg_op(&op, i);
		assert_int_equal(store_writer_submit(w, &op), 0);
	}
	store_writer_sync(w);
	assert_int_equal(tally.n, 300);
	assert_false(tally.out_of_order);
	assert_int_equal(tally.not_visible, 0);
	tally.check = NULL;
	store_close(check);
	store_writer_stop(w);
}

static void
test_writer_batching(void **state)
{
	struct store_writer *w;
	struct store_writer_stats s;
	struct store_wop op;

	/* By delay: everything submitted within the delay is one batch. */
	w = start(200, 1000, 0);
	for (int i = 0; i < 50; i++) {
		reg_op(&op, i);
		assert_int_equal(store_writer_submit(w, &op), 0);
	}
	store_writer_sync(w);
	store_writer_stats(w, &s);
	assert_true(s.batches <= 2);
	assert_true(s.max_batch >= 25);
	assert_int_equal(s.committed, 50);
	store_writer_stop(w);

	/* By size: a full batch does not wait for the (long) delay. */
	tmpstore_teardown(state);
	setup(state);
	w = start(STORE_WRITER_DELAY_MAX_MS, 10, 0);
	for (int i = 0; i < 100; i++) {
		reg_op(&op, i);
		assert_int_equal(store_writer_submit(w, &op), 0);
	}
	store_writer_sync(w);
	store_writer_stats(w, &s);
	assert_int_equal(s.max_batch, 10);
	assert_int_equal(s.batches, 10);
	assert_int_equal(s.committed, 100);
	assert_false(tally.out_of_order);
	store_writer_stop(w);
	assert_int_equal(count_regs(), 100);
}

static void
test_writer_failed_op_fails_alone(void **state)
{
	struct store_writer *w = start(50, 0, 0);
	struct store_writer_stats s;
	struct store_wop op;

	reg_op(&op, 0);
	assert_int_equal(store_writer_submit(w, &op), 0);
	reg_op(&op, 1);
	strcpy(op.u.reg.transport, "sctp");	/* not a SIP transport of ours */
	assert_int_equal(store_writer_submit(w, &op), 0);
	reg_op(&op, 2);
	assert_int_equal(store_writer_submit(w, &op), 0);
	memset(&op, 0, sizeof(op));
	op.type = STORE_WOP_REG_DELETE;
	op.done = on_done;
	op.arg = (void *)(intptr_t)3;
	strcpy(op.u.reg_del.aor, "nobody@example.com");
	strcpy(op.u.reg_del.contact, "sip:nobody@192.0.2.1");
	assert_int_equal(store_writer_submit(w, &op), 0);
	reg_op(&op, 4);
	assert_int_equal(store_writer_submit(w, &op), 0);
	store_writer_sync(w);
	assert_int_equal(tally.result[0], 0);
	assert_int_equal(tally.result[1], -EINVAL);
	assert_int_equal(tally.result[2], 0);
	assert_int_equal(tally.result[3], -ENOENT);
	assert_int_equal(tally.result[4], 0);
	store_writer_stats(w, &s);
	assert_int_equal(s.committed, 3);
	assert_int_equal(s.failures, 2);
	assert_int_equal(s.batch_failures, 0);
	store_writer_stop(w);
	assert_int_equal(count_regs(), 3);
}

/* A generic op that holds the writer until released. */
static struct {
	pthread_mutex_t	mtx;
	pthread_cond_t	cv;
	bool		started;
	bool		release;
} blk = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false };

static int
blocker(struct store *st, void *arg)
{
	pthread_mutex_lock(&blk.mtx);
	blk.started = true;
	pthread_cond_broadcast(&blk.cv);
	while (!blk.release)
		pthread_cond_wait(&blk.cv, &blk.mtx);
	pthread_mutex_unlock(&blk.mtx);
	return store_meta_set(st, "blocker", "ran");
}

static void
blocker_reset(void)
{
	pthread_mutex_lock(&blk.mtx);
	blk.started = false;
	blk.release = false;
	pthread_mutex_unlock(&blk.mtx);
}

static void
blocker_wait_started(void)
{
	pthread_mutex_lock(&blk.mtx);
	while (!blk.started)
		pthread_cond_wait(&blk.cv, &blk.mtx);
	pthread_mutex_unlock(&blk.mtx);
}

static void
blocker_release(void)
{
	pthread_mutex_lock(&blk.mtx);
	blk.release = true;
	pthread_cond_broadcast(&blk.cv);
	pthread_mutex_unlock(&blk.mtx);
}

static void
generic_op(struct store_wop *op, int i, store_writer_fn fn)
{
	memset(op, 0, sizeof(*op));
	op->type = STORE_WOP_GENERIC;
	op->done = on_done;
	op->arg = (void *)(intptr_t)i;
	op->u.fn = fn;
}

static void
test_writer_queue_full(void **state)
{
	struct store_writer *w = start(0, 0, 4);
	struct store_writer_stats s;
	struct store_wop op;
	struct timespec t0, t1;

	blocker_reset();
	generic_op(&op, 0, blocker);
	assert_int_equal(store_writer_submit(w, &op), 0);
	blocker_wait_started();
	/* The blocker holds its slot: three more fill the queue. */
	for (int i = 1; i < 4; i++) {
		reg_op(&op, i);
		assert_int_equal(store_writer_submit(w, &op), 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	reg_op(&op, 4);
	assert_int_equal(store_writer_submit(w, &op), -SBC_EFULL);
	assert_int_equal(store_writer_submit(w, &op), -SBC_EFULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* Refused at once, not after waiting for the writer. */
	assert_true((t1.tv_sec - t0.tv_sec) * 1000000000L +
	    (t1.tv_nsec - t0.tv_nsec) < 100000000L);
	store_writer_stats(w, &s);
	assert_int_equal(s.rejected, 2);
	assert_int_equal(s.depth, 4);
	assert_int_equal(s.queued, 4);
	blocker_release();
	store_writer_sync(w);
	assert_int_equal(tally.n, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(tally.result[i], 0);
	assert_int_equal(tally.result[4], 1);	/* never called */
	/* Room again. */
	assert_int_equal(store_writer_submit(w, &op), 0);
	store_writer_sync(w);
	assert_int_equal(tally.result[4], 0);
	store_writer_stats(w, &s);
	assert_int_equal(s.max_depth, 4);
	assert_int_equal(s.depth, 0);
	store_writer_stop(w);
}

static void
test_writer_stop_drains(void **state)
{
	struct store_writer *w = start(STORE_WRITER_DELAY_MAX_MS, 0, 0);
	struct store_wop op;

	for (int i = 0; i < 500; i++) {
		reg_op(&op, i);
		assert_int_equal(store_writer_submit(w, &op), 0);
	}
	/* Stopping does not wait out the delay, and runs everything. */
	store_writer_stop(w);
	assert_int_equal(tally.n, 500);
	assert_false(tally.out_of_order);
	assert_int_equal(count_regs(), 500);
}

static struct store_writer *stop_w;
static int resubmit_result = 1;

static void *
stop_thread(void *arg)
{
	store_writer_stop(stop_w);
	return NULL;
}

static void
resubmit_done(void *arg, int result)
{
	struct store_wop op;

	reg_op(&op, 99);
	resubmit_result = store_writer_submit(stop_w, &op);
	on_done(arg, result);
}

static void
test_writer_shutdown_rejects(void **state)
{
	struct store_wop op;
	pthread_t t;

	stop_w = start(0, 0, 0);
	blocker_reset();
	generic_op(&op, 0, blocker);
	op.done = resubmit_done;
	assert_int_equal(store_writer_submit(stop_w, &op), 0);
	blocker_wait_started();
	reg_op(&op, 1);
	assert_int_equal(store_writer_submit(stop_w, &op), 0);
	assert_int_equal(pthread_create(&t, NULL, stop_thread, NULL), 0);
	sleep_ms(100);		/* let stop set its flag */
	blocker_release();
	pthread_join(t, NULL);
	/* Accepted before stop: ran.  Submitted while stopping: refused. */
	assert_int_equal(resubmit_result, -ESHUTDOWN);
	assert_int_equal(tally.n, 2);
	assert_int_equal(tally.result[0], 0);
	assert_int_equal(tally.result[1], 0);
}

static int
generic_meta(struct store *st, void *arg)
{
	return store_meta_set(st, "generic", "yes");
}

static void
test_writer_op_types(void **state)
{
	struct store_writer *w = start(0, 0, 0);
	struct store_account a;
	struct store_ban b;
	struct store_usage u;
	struct store_wop op;
	struct store *st;
	uint32_t strikes = 0;
	int64_t last = 0;
	char v[16];
	unsigned n;
	int i = 0;

	assert_int_equal(store_open(path, 0, &st), 0);
	memset(&a, 0, sizeof(a));
	strcpy(a.username, "alice");
	strcpy(a.domain, "example.com");
	strcpy(a.ha1_md5, MD5A);
	strcpy(a.ha1_sha256, SHAA);
	a.enabled = true;
	assert_int_equal(store_account_add(st, &a, NULL), 0);

	reg_op(&op, i++);
	strcpy(op.u.reg.contact, "sip:a@192.0.2.1");
	assert_int_equal(store_writer_submit(w, &op), 0);
	reg_op(&op, i++);
	strcpy(op.u.reg.contact, "sip:b@192.0.2.1");
	assert_int_equal(store_writer_submit(w, &op), 0);
	reg_op(&op, i++);
	strcpy(op.u.reg.contact, "sip:c@192.0.2.1");
	assert_int_equal(store_writer_submit(w, &op), 0);
	memset(&op, 0, sizeof(op));
	op.type = STORE_WOP_REG_DELETE;
	op.done = on_done;
	op.arg = (void *)(intptr_t)i++;
	strcpy(op.u.reg_del.aor, "u0@example.com");
	strcpy(op.u.reg_del.contact, "sip:a@192.0.2.1");
	assert_int_equal(store_writer_submit(w, &op), 0);
	store_writer_sync(w);
	assert_int_equal(store_reg_count(st, "u0@example.com", 0, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_reg_count(st, "u1@example.com", 0, &n), 0);
	assert_int_equal(n, 1);

	memset(&op, 0, sizeof(op));
	op.type = STORE_WOP_REG_DELETE_AOR;
	op.done = on_done;
	op.arg = (void *)(intptr_t)i++;
	strcpy(op.u.reg_del.aor, "u1@example.com");
	assert_int_equal(store_writer_submit(w, &op), 0);

	memset(&op, 0, sizeof(op));
	op.type = STORE_WOP_BAN_PUT;
	op.done = on_done;
	op.arg = (void *)(intptr_t)i++;
	strcpy(op.u.ban.key, "192.0.2.66");
	strcpy(op.u.ban.reason, "scanner");
	op.u.ban.since = 10;
	op.u.ban.until = 4000000000LL;
	op.u.ban.strikes = 1;
	strcpy(op.u.ban.evidence, "{\"ua\":\"friendly-scanner\"}");
	strcpy(op.u.ban.origin, "node-1");
	assert_int_equal(store_writer_submit(w, &op), 0);
	memcpy(op.u.ban.key, "192.0.2.67", 11);
	op.arg = (void *)(intptr_t)i++;
	assert_int_equal(store_writer_submit(w, &op), 0);

	memset(&op, 0, sizeof(op));
	op.type = STORE_WOP_BAN_DELETE;
	op.done = on_done;
	op.arg = (void *)(intptr_t)i++;
	strcpy(op.u.ban_del.key, "192.0.2.67");
	assert_int_equal(store_writer_submit(w, &op), 0);

	memset(&op, 0, sizeof(op));
	op.type = STORE_WOP_BAN_HISTORY_PUT;
	op.done = on_done;
	op.arg = (void *)(intptr_t)i++;
	strcpy(op.u.hist.key, "192.0.2.66");
	op.u.hist.strikes = 4;
	op.u.hist.last = 77;
	assert_int_equal(store_writer_submit(w, &op), 0);

	memset(&op, 0, sizeof(op));
	op.type = STORE_WOP_ACCOUNT_LOCK;
	op.done = on_done;
	op.arg = (void *)(intptr_t)i++;
	strcpy(op.u.lock.username, "alice");
	strcpy(op.u.lock.domain, "example.com");
	op.u.lock.until = 12345;
	assert_int_equal(store_writer_submit(w, &op), 0);

	memset(&op, 0, sizeof(op));
	op.type = STORE_WOP_USAGE_PUT;
	op.done = on_done;
	op.arg = (void *)(intptr_t)i++;
	strcpy(op.u.usage.account, "alice@example.com");
	op.u.usage.minute = 29000000;
	op.u.usage.calls_minute = 3;
	op.u.usage.day = 20150;
	op.u.usage.calls_day = 9;
	op.u.usage.seconds_day = 125;
	op.u.usage.blocked_day = 2;
	op.u.usage.active = 1;
	op.u.usage.updated = 1740000000;
	assert_int_equal(store_writer_submit(w, &op), 0);

	generic_op(&op, i++, generic_meta);
	assert_int_equal(store_writer_submit(w, &op), 0);
	/* Without done: fine too. */
	generic_op(&op, 0, generic_meta);
	op.done = NULL;
	assert_int_equal(store_writer_submit(w, &op), 0);

	/* Refused at once: no done will come. */
	memset(&op, 0, sizeof(op));
	op.type = STORE_WOP_MAX;
	assert_int_equal(store_writer_submit(w, &op), -EINVAL);
	op.type = 0;
	assert_int_equal(store_writer_submit(w, &op), -EINVAL);
	op.type = STORE_WOP_GENERIC;
	assert_int_equal(store_writer_submit(w, &op), -EINVAL);
	assert_int_equal(store_writer_submit(w, NULL), -EINVAL);

	store_writer_sync(w);
	assert_int_equal(tally.n, i);
	assert_false(tally.out_of_order);
	for (int k = 0; k < i; k++)
		assert_int_equal(tally.result[k], 0);

	assert_int_equal(store_reg_count(st, "u1@example.com", 0, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_reg_count(st, "u2@example.com", 0, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_ban_get(st, "192.0.2.66", &b), 0);
	assert_string_equal(b.evidence, "{\"ua\":\"friendly-scanner\"}");
	assert_int_equal(store_ban_get(st, "192.0.2.67", &b), -ENOENT);
	assert_int_equal(store_ban_history_get(st, "192.0.2.66", &strikes,
	    &last), 0);
	assert_int_equal(strikes, 4);
	assert_int_equal(last, 77);
	assert_int_equal(store_account_get(st, "alice", "example.com", &a), 0);
	assert_int_equal(a.locked_until, 12345);
	assert_int_equal(store_usage_get(st, "alice@example.com", &u), 0);
	assert_int_equal(u.calls_minute, 3);
	assert_int_equal(u.calls_day, 9);
	assert_int_equal(u.seconds_day, 125);
	assert_int_equal(u.blocked_day, 2);
	assert_int_equal(u.active, 1);
	assert_int_equal(u.day, 20150);
	assert_int_equal(store_meta_get(st, "generic", v, sizeof(v)), 0);
	assert_string_equal(v, "yes");
	store_close(st);
	store_writer_stop(w);
}

static void
test_writer_transaction_failure(void **state)
{
	struct store_writer *w = start(50, 0, 0);	/* one batch for both */
	struct store_writer_stats s;
	struct store_wop op;
	struct store *cli;

	/* Another process holds the write lock longer than the busy timeout. */
	assert_int_equal(store_open(path, 0, &cli), 0);
	assert_int_equal(store_begin(cli), 0);
	assert_int_equal(store_meta_set(cli, "hold", "1"), 0);
	reg_op(&op, 0);
	assert_int_equal(store_writer_submit(w, &op), 0);
	reg_op(&op, 1);
	assert_int_equal(store_writer_submit(w, &op), 0);
	store_writer_sync(w);
	assert_int_equal(tally.result[0], -EBUSY);
	assert_int_equal(tally.result[1], -EBUSY);
	store_writer_stats(w, &s);
	assert_int_equal(s.batch_failures, s.batches);
	assert_int_equal(s.failures, 2);
	assert_int_equal(s.committed, 0);
	assert_int_equal(store_rollback(cli), 0);
	/* The writer works again once the lock is gone. */
	reg_op(&op, 2);
	assert_int_equal(store_writer_submit(w, &op), 0);
	store_writer_sync(w);
	assert_int_equal(tally.result[2], 0);
	store_close(cli);
	store_writer_stop(w);
	assert_int_equal(count_regs(), 1);
}

/* --- concurrency with a CLI-like connection ----------------------------------- */

#define CONC_REGS	3000
#define CONC_ACCOUNTS	300

static void *
producer(void *arg)
{
	struct store_writer *w = arg;
	struct store_wop op;

	for (int i = 0; i < CONC_REGS; i++) {
		int r;

		reg_op(&op, i);
		while ((r = store_writer_submit(w, &op)) == -SBC_EFULL)
			sleep_ms(1);	/* the test sheds nothing */
		if (r != 0)
			return (void *)1;
		if (i % 100 == 0)
			sleep_ms(1);
	}
	return NULL;
}

static void
test_writer_concurrent_with_cli(void **state)
{
	struct store_writer *w = start(1, 32, 256);
	struct store_writer_stats s;
	struct store_account a;
	struct store_ban b;
	struct store *cli;
	pthread_t t;
	void *pr;
	int busy = 0;

	assert_int_equal(store_open(path, 0, &cli), 0);
	assert_int_equal(pthread_create(&t, NULL, producer, w), 0);
	for (int i = 0; i < CONC_ACCOUNTS; i++) {
		int r;

		memset(&a, 0, sizeof(a));
		snprintf(a.username, sizeof(a.username), "cli%d", i);
		strcpy(a.domain, "example.com");
		strcpy(a.ha1_md5, MD5A);
		strcpy(a.ha1_sha256, SHAA);
		a.enabled = true;
		/* Like `sipwall account add`: its own transaction. */
		if ((r = store_begin(cli)) == 0) {
			r = store_account_add(cli, &a, NULL);
			if (r == 0)
				r = store_commit(cli);
			else
				store_rollback(cli);
		}
		if (r == -EBUSY)
			busy++;
		assert_int_equal(r, 0);
		memset(&b, 0, sizeof(b));
		snprintf(b.key, sizeof(b.key), "198.51.100.%d", i % 256);
		strcpy(b.reason, "manual");
		b.since = 1;
		b.strikes = 1;
		assert_int_equal(store_ban_put(cli, &b), 0);
	}
	pthread_join(t, &pr);
	assert_null(pr);
	store_writer_sync(w);
	store_writer_stats(w, &s);
	assert_int_equal(busy, 0);
	assert_int_equal(s.committed, CONC_REGS);
	assert_int_equal(s.failures, 0);
	assert_int_equal(s.batch_failures, 0);
	assert_false(tally.out_of_order);
	store_close(cli);
	store_writer_stop(w);
	assert_int_equal(count_regs(), CONC_REGS);
}

/* --- durability ------------------------------------------------------------------ */

static int ack_fd = -1;

static void
ack_done(void *arg, int result)
{
	int32_t i = (int32_t)(intptr_t)arg;

	if (result == 0 && write(ack_fd, &i, sizeof(i)) != sizeof(i))
		_exit(3);
}

/* Child: submit forever; acknowledge each committed op on the pipe. */
static void
child_main(void)
{
	struct store_writer_conf c;
	struct store_writer *w;
	struct store_wop op;

	store_writer_conf_init(&c, path);
	c.delay_ms = 1;
	c.batch_max = 16;
	if (store_writer_start(&c, &w, NULL, 0) != 0)
		_exit(2);
	for (int i = 0; i < MAXOPS; i++) {
		reg_op(&op, i);
		op.done = ack_done;
		while (store_writer_submit(w, &op) == -SBC_EFULL)
			sleep_ms(1);
		if (i % 8 == 0)
			sleep_ms(1);
	}
	sleep(30);		/* killed long before, normally */
	_exit(4);
}

static void
test_writer_durable_after_kill9(void **state)
{
	int fds[2], status, acked[MAXOPS] = { 0 }, nacked = 0;
	struct store *st;
	int32_t i;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		ack_fd = fds[1];
		child_main();
		_exit(0);
	}
	close(fds[1]);
	/* Kill it right after it acknowledged enough. */
	while (nacked < 200 && read(fds[0], &i, sizeof(i)) == sizeof(i)) {
		assert_true(i >= 0 && i < MAXOPS);
		acked[i] = 1;
		nacked++;
	}
	assert_int_equal(kill(pid, SIGKILL), 0);
	/* Acknowledgements written before it died count too. */
	while (read(fds[0], &i, sizeof(i)) == sizeof(i)) {
		assert_true(i >= 0 && i < MAXOPS);
		acked[i] = 1;
		nacked++;
	}
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	assert_true(nacked >= 200);

	/* Every acknowledged registration survived (recovered from the WAL). */
	assert_int_equal(store_open(path, 0, &st), 0);
	for (int k = 0; k < MAXOPS; k++) {
		char aor[64];
		unsigned n = 0;

		if (!acked[k])
			continue;
		aor_of(k, aor, sizeof(aor));
		assert_int_equal(store_reg_count(st, aor, 0, &n), 0);
		if (n != 1)
			fail_msg("acknowledged registration %d lost", k);
	}
	store_close(st);
}

static void
test_writer_start_errors(void **state)
{
	struct store_writer_conf c;
	struct store_writer *w = NULL;
	char msg[256], p[PATH_MAX + 32];

	store_writer_conf_init(&c, path);
	c.capacity = 0;
	assert_int_equal(store_writer_start(&c, &w, msg, sizeof(msg)), -EINVAL);
	store_writer_conf_init(&c, path);
	c.batch_max = STORE_WRITER_BATCH_MAX + 1;
	assert_int_equal(store_writer_start(&c, &w, msg, sizeof(msg)), -EINVAL);
	store_writer_conf_init(&c, path);
	c.delay_ms = STORE_WRITER_DELAY_MAX_MS + 1;
	assert_int_equal(store_writer_start(&c, &w, NULL, 0), -EINVAL);
	assert_int_equal(store_writer_start(NULL, &w, NULL, 0), -EINVAL);
	snprintf(p, sizeof(p), "%s/missing/w.db", dir);
	store_writer_conf_init(&c, p);
	assert_int_equal(store_writer_start(&c, &w, msg, sizeof(msg)), -ENOENT);
	assert_true(strlen(msg) > 0);
	assert_null(w);
}

int
main(void)
{
#define T(f)	cmocka_unit_test_setup_teardown(f, setup, tmpstore_teardown)
	const struct CMUnitTest tests[] = {
		T(test_writer_basic),
		T(test_writer_done_after_commit_in_order),
		T(test_writer_batching),
		T(test_writer_failed_op_fails_alone),
		T(test_writer_queue_full),
		T(test_writer_stop_drains),
		T(test_writer_shutdown_rejects),
		T(test_writer_op_types),
		T(test_writer_transaction_failure),
		T(test_writer_concurrent_with_cli),
		T(test_writer_durable_after_kill9),
		T(test_writer_start_errors),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
