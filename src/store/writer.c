/*
 * The store writer thread (see writer.h for the contract).
 *
 * The queue is a ring of struct store_wop under one mutex.  Producers
 * copy into the free part and never wait for anything but that mutex,
 * which nobody holds across disk I/O.  The writer is the only
 * consumer: it looks at the `count` slots from `head`, executes up to
 * batch_max of them in place (producers only ever write outside
 * [head, head + count)), then frees the slots and calls the done
 * callbacks, so a callback that submits finds room.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "core/log.h"
#include "store/store_int.h"
#include "store/writer.h"

struct done_rec {
	store_writer_done_fn	done;
	void			*arg;
	int			 result;
};

struct store_writer {
	pthread_t		 thread;
	pthread_mutex_t		 mtx;
	pthread_cond_t		 cv_work;	/* writer: work or stop */
	pthread_cond_t		 cv_done;	/* store_writer_sync() */
	struct store_wop	*ring;
	size_t			 cap;
	size_t			 head;
	size_t			 count;		/* queued + in flight */
	uint64_t		 seq_accepted;	/* ops ever accepted */
	uint64_t		 seq_done;	/* ops whose done returned */
	bool			 stopping;
	struct store		*st;
	struct done_rec		*batch;		/* batch_max entries */
	struct store_writer_conf conf;
	struct store_writer_stats stats;
};

void
store_writer_conf_init(struct store_writer_conf *c, const char *path)
{
	memset(c, 0, sizeof(*c));
	c->path = path;
	c->flags = STORE_CREATE | STORE_SYNC_FULL;
	c->capacity = STORE_WRITER_CAPACITY;
	c->batch_max = STORE_WRITER_BATCH;
	c->delay_ms = STORE_WRITER_DELAY_MS;
}

static uint64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Execute one operation with the writer's connection. */
static int
wop_exec(struct store *st, const struct store_wop *op)
{
	switch (op->type) {
	case STORE_WOP_REG_UPSERT:
		return store_reg_upsert(st, &op->u.reg);
	case STORE_WOP_REG_DELETE:
		return store_reg_delete(st, op->u.reg_del.aor,
		    op->u.reg_del.contact);
	case STORE_WOP_REG_DELETE_AOR:
		return store_reg_delete_aor(st, op->u.reg_del.aor, NULL);
	case STORE_WOP_BAN_PUT:
		return store_ban_put(st, &op->u.ban);
	case STORE_WOP_BAN_DELETE:
		return store_ban_delete(st, op->u.ban_del.key);
	case STORE_WOP_BAN_HISTORY_PUT:
		return store_ban_history_put(st, op->u.hist.key,
		    op->u.hist.strikes, op->u.hist.last);
	case STORE_WOP_ACCOUNT_LOCK:
		return store_account_set_locked_until(st, op->u.lock.username,
		    op->u.lock.domain, op->u.lock.until);
	case STORE_WOP_GENERIC:
		return op->u.fn != NULL ? op->u.fn(st, op->arg) : -EINVAL;
	case STORE_WOP_USAGE_PUT:
		return store_usage_put(st, &op->u.usage);
	case STORE_WOP_CALL_PUT:
		return store_call_put(st, &op->u.call);
	default:
		return -EINVAL;
	}
}

/*
 * Run ring[head .. head + n) in one transaction, each op in a
 * savepoint; fill w->batch with the results.  Returns true when the
 * transaction committed.
 */
static bool
run_batch(struct store_writer *w, size_t head, size_t n)
{
	struct store *st = w->st;
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		const struct store_wop *op = &w->ring[(head + i) % w->cap];

		w->batch[i] = (struct done_rec){ .done = op->done,
		    .arg = op->arg, .result = 0 };
	}
	if ((r = store_begin(st)) < 0)
		goto fail;
	for (i = 0; i < n; i++) {
		const struct store_wop *op = &w->ring[(head + i) % w->cap];

		/* SQLite rolls the whole transaction back on some errors. */
		if (st->tx_depth != 1 || sqlite3_get_autocommit(st->db)) {
			r = -EIO;
			goto fail;
		}
		if ((r = store_begin(st)) < 0) {
			w->batch[i].result = r;
			continue;
		}
		if ((r = wop_exec(st, op)) < 0) {
			w->batch[i].result = r;
			if (store_rollback(st) < 0) {
				r = -EIO;
				goto fail;
			}
		} else if ((r = store_commit(st)) < 0) {
			w->batch[i].result = r;
			store_rollback(st);
		}
	}
	if ((r = store_commit(st)) < 0)
		goto fail;
	return true;
fail:
	store_rollback(st);
	/* Nothing of this batch is in the store: every op failed. */
	for (i = 0; i < n; i++)
		if (w->batch[i].result == 0)
			w->batch[i].result = r;
	return false;
}

static void *
writer_main(void *arg)
{
	struct store_writer *w = arg;
	struct timespec deadline;
	uint64_t t0, us;
	size_t n, i;
	bool ok;

	log_set_thread("store");
	pthread_mutex_lock(&w->mtx);
	for (;;) {
		while (w->count == 0 && !w->stopping)
			pthread_cond_wait(&w->cv_work, &w->mtx);
		if (w->count == 0)
			break;		/* stopping and drained */
		if (w->conf.delay_ms > 0 && !w->stopping &&
		    w->count < w->conf.batch_max) {
			/* Gather: more ops make the one transaction cheaper. */
			clock_gettime(CLOCK_MONOTONIC, &deadline);
			deadline.tv_nsec += (long)(w->conf.delay_ms % 1000) * 1000000L;
			deadline.tv_sec += w->conf.delay_ms / 1000 +
			    deadline.tv_nsec / 1000000000L;
			deadline.tv_nsec %= 1000000000L;
			while (!w->stopping && w->count < w->conf.batch_max)
				if (pthread_cond_timedwait(&w->cv_work, &w->mtx,
				    &deadline) == ETIMEDOUT)
					break;
		}
		n = w->count < w->conf.batch_max ? w->count : w->conf.batch_max;
		pthread_mutex_unlock(&w->mtx);

		t0 = mono_us();
		ok = run_batch(w, w->head, n);
		us = mono_us() - t0;

		pthread_mutex_lock(&w->mtx);
		w->head = (w->head + n) % w->cap;
		w->count -= n;
		w->stats.batches++;
		if (!ok)
			w->stats.batch_failures++;
		if (n > w->stats.max_batch)
			w->stats.max_batch = (uint32_t)n;
		if (us > w->stats.max_batch_us)
			w->stats.max_batch_us = us;
		for (i = 0; i < n; i++) {
			if (w->batch[i].result == 0)
				w->stats.committed++;
			else
				w->stats.failures++;
		}
		pthread_mutex_unlock(&w->mtx);

		/* After COMMIT, in order, without the lock. */
		for (i = 0; i < n; i++)
			if (w->batch[i].done != NULL)
				w->batch[i].done(w->batch[i].arg,
				    w->batch[i].result);

		pthread_mutex_lock(&w->mtx);
		w->seq_done += n;
		pthread_cond_broadcast(&w->cv_done);
	}
	pthread_mutex_unlock(&w->mtx);
	return NULL;
}

static void
writer_free(struct store_writer *w)
{
	if (w == NULL)
		return;
	store_close(w->st);
	free(w->ring);
	free(w->batch);
	free((char *)w->conf.path);
	pthread_cond_destroy(&w->cv_work);
	pthread_cond_destroy(&w->cv_done);
	pthread_mutex_destroy(&w->mtx);
	free(w);
}

int
store_writer_start(const struct store_writer_conf *c,
    struct store_writer **ret_w, char *msg, size_t cap)
{
	struct store_writer *w;
	pthread_condattr_t ca;
	sigset_t all, old;
	int r;

	if (msg != NULL && cap > 0)
		msg[0] = '\0';
	if (c == NULL || c->path == NULL || c->capacity == 0 ||
	    c->capacity > STORE_WRITER_CAPACITY_MAX || c->batch_max == 0 ||
	    c->batch_max > STORE_WRITER_BATCH_MAX ||
	    c->delay_ms > STORE_WRITER_DELAY_MAX_MS) {
		if (msg != NULL)
			snprintf(msg, cap, "invalid writer configuration");
		return -EINVAL;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return -ENOMEM;
	w->conf = *c;
	w->conf.path = NULL;
	pthread_mutex_init(&w->mtx, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv_work, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&w->cv_done, NULL);
	w->cap = c->capacity;
	if ((w->conf.path = strdup(c->path)) == NULL ||
	    (w->ring = calloc(w->cap, sizeof(*w->ring))) == NULL ||
	    (w->batch = calloc(c->batch_max, sizeof(*w->batch))) == NULL) {
		writer_free(w);
		return -ENOMEM;
	}
	if ((r = store_open_diag(c->path, c->flags, &w->st, msg, cap)) < 0) {
		writer_free(w);
		return r;
	}
	/* Signals are for the main thread; block them all in the writer. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&w->thread, NULL, writer_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		if (msg != NULL)
			snprintf(msg, cap, "pthread_create: %s", strerror(r));
		writer_free(w);
		return -r;
	}
	*ret_w = w;
	return 0;
}

int
store_writer_submit(struct store_writer *w, const struct store_wop *op)
{
	size_t tail;

	if (op == NULL || op->type < STORE_WOP_REG_UPSERT ||
	    op->type >= STORE_WOP_MAX ||
	    (op->type == STORE_WOP_GENERIC && op->u.fn == NULL))
		return -EINVAL;
	pthread_mutex_lock(&w->mtx);
	if (w->stopping) {
		pthread_mutex_unlock(&w->mtx);
		return -ESHUTDOWN;
	}
	if (w->count == w->cap) {
		w->stats.rejected++;
		pthread_mutex_unlock(&w->mtx);
		return -SBC_EFULL;
	}
	tail = (w->head + w->count) % w->cap;
	w->ring[tail] = *op;
	w->count++;
	w->seq_accepted++;
	w->stats.queued++;
	if (w->count > w->stats.max_depth)
		w->stats.max_depth = (uint32_t)w->count;
	/* Wake the writer when it is idle or has a full batch waiting. */
	if (w->count == 1 || w->count >= w->conf.batch_max)
		pthread_cond_signal(&w->cv_work);
	pthread_mutex_unlock(&w->mtx);
	return 0;
}

void
store_writer_sync(struct store_writer *w)
{
	uint64_t target;

	pthread_mutex_lock(&w->mtx);
	target = w->seq_accepted;
	pthread_cond_signal(&w->cv_work);
	while (w->seq_done < target)
		pthread_cond_wait(&w->cv_done, &w->mtx);
	pthread_mutex_unlock(&w->mtx);
}

void
store_writer_stats(struct store_writer *w, struct store_writer_stats *ret)
{
	pthread_mutex_lock(&w->mtx);
	*ret = w->stats;
	ret->depth = (uint32_t)w->count;
	pthread_mutex_unlock(&w->mtx);
}

void
store_writer_stop(struct store_writer *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mtx);
	w->stopping = true;
	pthread_cond_signal(&w->cv_work);
	pthread_mutex_unlock(&w->mtx);
	pthread_join(w->thread, NULL);
	writer_free(w);
}
