/*
 * The store writer: one thread that owns one store connection and
 * turns typed write operations from the daemon into batched SQLite
 * transactions, so that no SIP worker ever waits on the disk
 * (DESIGN.md section 2, STYLE.md section 2).
 *
 * Producers (any thread) hand over a struct store_wop by value with
 * store_writer_submit(); it is copied into a bounded queue and the call
 * never waits for the disk: when the queue is full it returns
 * -SBC_EFULL at once and the caller sheds (counts, answers 503, ...).
 * The queue is a ring under a mutex held only for the copy; it is not
 * on the per-packet path of anything but the registrar's final answer.
 *
 * The writer takes up to batch_max operations (waiting at most
 * delay_ms after the first one for more to arrive) and runs them in
 * ONE transaction (BEGIN IMMEDIATE ... COMMIT), each in its own
 * savepoint so that one invalid operation fails alone.  Only after
 * COMMIT returned does it call each operation's done(arg, result), on
 * the writer thread, in submission order.  result is 0 when the
 * operation is durable in the store, else a negative errno (the op's
 * own error, e.g. -EINVAL/-ENOENT, or the transaction's, e.g. -EBUSY,
 * -EIO, -ENOSPC).  The daemon answers "200 OK" to a REGISTER from
 * done, so nothing acknowledged is lost by a crash after it
 * (DESIGN.md section 4).  A done callback must be short and must not
 * wait for the writer (no store_writer_sync/stop); it may submit.
 *
 * Durability: with STORE_SYNC_FULL in flags (the default from
 * store_writer_conf_init) each batch is fsynced before done runs, so a
 * power loss or kernel crash after an acknowledgement loses nothing
 * either; without it (synchronous=NORMAL) a crash of the process is
 * safe and a crash of the machine may lose the last batches.  Batching
 * makes the fsync cheap per operation.
 *
 * store_writer_stop() drains the queue (every accepted operation is
 * executed and its done called) before it returns.
 */
#ifndef SW_STORE_WRITER_H
#define SW_STORE_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define STORE_WRITER_CAPACITY	1024	/* default queue length */
#define STORE_WRITER_CAPACITY_MAX 65536
#define STORE_WRITER_BATCH	128	/* default ops per transaction */
#define STORE_WRITER_BATCH_MAX	4096
#define STORE_WRITER_DELAY_MS	2	/* default gathering delay */
#define STORE_WRITER_DELAY_MAX_MS 1000

enum store_wop_type {
	STORE_WOP_REG_UPSERT = 1,	/* u.reg */
	STORE_WOP_REG_DELETE,		/* u.reg_del.aor, .contact */
	STORE_WOP_REG_DELETE_AOR,	/* u.reg_del.aor */
	STORE_WOP_BAN_PUT,		/* u.ban */
	STORE_WOP_BAN_DELETE,		/* u.ban_del.key */
	STORE_WOP_BAN_HISTORY_PUT,	/* u.hist */
	STORE_WOP_ACCOUNT_LOCK,		/* u.lock: set locked_until */
	STORE_WOP_GENERIC,		/* u.fn(st, arg) */
	STORE_WOP_USAGE_PUT,		/* u.usage */
	STORE_WOP_CALL_PUT,		/* u.call */
	STORE_WOP_MAX
};

/* Called on the writer thread after COMMIT; result 0 or -errno. */
typedef void (*store_writer_done_fn)(void *arg, int result);
/*
 * A generic operation: runs inside the batch transaction (in its own
 * savepoint) with the writer's connection; 0 or -errno.
 */
typedef int (*store_writer_fn)(struct store *st, void *arg);

struct store_wop {
	enum store_wop_type	type;
	store_writer_done_fn	done;		/* may be NULL */
	void			*arg;		/* for done (and fn) */
	union {
		struct store_reg	reg;
		struct {
			char	aor[STORE_AOR_MAX + 1];
			char	contact[STORE_CONTACT_MAX + 1];
		} reg_del;
		struct store_ban	ban;
		struct {
			char	key[STORE_BAN_KEY_MAX + 1];
		} ban_del;
		struct {
			char	 key[STORE_BAN_KEY_MAX + 1];
			uint32_t strikes;
			int64_t	 last;
		} hist;
		struct {
			char	username[STORE_USERNAME_MAX + 1];
			char	domain[STORE_DOMAIN_MAX + 1];
			int64_t	until;
		} lock;
		store_writer_fn		fn;
		struct store_usage	usage;
		struct store_call	call;
	} u;
};

struct store_writer_conf {
	const char	*path;		/* the store file (copied) */
	unsigned	 flags;		/* for store_open() */
	size_t		 capacity;	/* queue length, 1..CAPACITY_MAX */
	unsigned	 batch_max;	/* ops per transaction, 1..BATCH_MAX */
	unsigned	 delay_ms;	/* 0: commit as soon as the writer is free */
};

struct store_writer_stats {
	uint64_t	queued;		/* operations accepted */
	uint64_t	rejected;	/* refused with -SBC_EFULL */
	uint64_t	committed;	/* done with result 0 */
	uint64_t	failures;	/* done with an error */
	uint64_t	batches;	/* transactions run */
	uint64_t	batch_failures;	/* transactions that did not commit */
	uint32_t	max_batch;	/* most operations in one transaction */
	uint32_t	depth;		/* operations queued or in flight now */
	uint32_t	max_depth;
	uint64_t	max_batch_us;	/* slowest transaction, BEGIN to COMMIT */
};

struct store_writer;

/* Defaults: STORE_CREATE | STORE_SYNC_FULL, CAPACITY, BATCH, DELAY_MS. */
void	store_writer_conf_init(struct store_writer_conf *c, const char *path);

/*
 * Open the store and start the thread (all signals blocked in it).
 * Returns 0 and *ret_w, or a negative errno (store_open's, -EINVAL for
 * a bad conf, -ENOMEM, -EAGAIN); reterr_msg[0..cap) (may be NULL) says
 * why.
 */
int	store_writer_start(const struct store_writer_conf *c,
	    struct store_writer **ret_w, char *reterr_msg, size_t cap);

/*
 * Queue a copy of op.  Returns 0 (done will be called exactly once),
 * -SBC_EFULL (queue full), -ESHUTDOWN (stopping) or -EINVAL (bad type);
 * on error done is never called.  Never waits for the disk.
 */
int	store_writer_submit(struct store_writer *w, const struct store_wop *op);

/*
 * Wait until every operation accepted before the call has been
 * executed and its done called.  Not for the packet path, and never
 * from a done callback.
 */
void	store_writer_sync(struct store_writer *w);

void	store_writer_stats(struct store_writer *w,
	    struct store_writer_stats *ret_stats);

/* Drain the queue, stop the thread, close the store, free; NULL ok. */
void	store_writer_stop(struct store_writer *w);

#endif
