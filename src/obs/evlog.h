/*
 * The security event sink: a bounded multi-producer queue and one writer
 * thread that delivers JSON lines to a file, stdout and/or syslog.
 *
 * Producers (SIP workers, media workers, the control thread...) call
 * evlog_emit().  It filters by severity, applies the per-(type, source)
 * and per-type rate limits, formats the line on the caller's stack and
 * copies it into the queue.  It never blocks on I/O and never waits for
 * the writer: when the queue is full the event is dropped and counted,
 * and the writer later reports the loss as an "events.dropped" event.
 * The locks a producer takes are held for a memcpy (the queue) and a
 * table update (one stripe of the rate-limit table).
 *
 * The queue is double-buffered: producers append to one buffer while the
 * writer delivers the other with one write(2) per sink, so a batch of
 * thousands of events costs one system call; the writer lets a batch
 * gather for up to 2 ms (less when the buffer is half full).  Per
 * producer, events reach every sink in the order they were emitted.
 *
 * Sinks:
 *   file    JSON lines, opened O_WRONLY|O_APPEND|O_CREAT|O_CLOEXEC, 0640;
 *           evlog_reopen() opens the path again (log rotation: rename,
 *           then reopen) and the writer switches at its next batch.
 *   stdout  the same lines on a duplicate of fd 1.
 *   syslog  one RFC 5424 datagram per event to an AF_UNIX datagram socket
 *           (default /dev/log): "<PRI>1 TIMESTAMP HOST APP PROCID MSGID - JSON".
 *           If the socket is absent at open, syslog is disabled with one
 *           process-log warning and evlog_open() still succeeds.
 *
 * Rate limiting (docs/events.md): at most rate_per_key events per second
 * per (type, source address) in a fixed-size hashed table (lossy on
 * collisions), and at most rate_per_type per second per type.  Types with
 * SECEV_F_UNLIMITED (bans, call records, config and admin events...) are
 * never limited.  An event let through after suppression carries
 * "suppressed": K; counts nobody reported that way are summarised in an
 * "events.suppressed" event every summary_interval seconds.
 */
#ifndef SW_OBS_EVLOG_H
#define SW_OBS_EVLOG_H

#include <stddef.h>
#include <stdint.h>

#include "obs/secevent.h"

struct evlog;

struct evlog_opts {
	const char	*path;		/* JSON lines file, or NULL */
	int		 to_stdout;
	int		 to_syslog;
	int		 syslog_facility; /* syslog.h LOG_AUTHPRIV, LOG_LOCAL0... */
	const char	*syslog_path;	/* AF_UNIX datagram socket */
	const char	*app_name;	/* RFC 5424 APP-NAME */
	const char	*node;		/* "node" field and HOSTNAME; NULL: hostname */
	unsigned	 queue_len;	/* events per buffer (two buffers) */
	size_t		 queue_bytes;	/* bytes per buffer; 0: queue_len * 512 */
	int		 min_sev;	/* drop events less severe (LOG_INFO) */
	unsigned	 rate_per_key;	/* events/s per type+source; 0: no limit */
	unsigned	 rate_per_type;	/* events/s per type; 0: no limit */
	unsigned	 summary_interval; /* seconds between summaries */
	/* tests: a monotonic clock in seconds for the rate limits */
	uint64_t	(*clock)(void *arg);
	void		*clock_arg;
};

struct evlog_stats {
	uint64_t	queued;		/* accepted into the queue */
	uint64_t	written;	/* handed to the sinks by the writer */
	uint64_t	dropped;	/* queue full */
	uint64_t	suppressed;	/* rate limited */
	uint64_t	filtered;	/* below min_sev */
	uint64_t	write_errors;	/* file/stdout write failures (batches) */
	uint64_t	syslog_errors;	/* datagrams not sent */
};

/* Return values of evlog_emit() besides 0 (queued) and -errno. */
#define EVLOG_FILTERED		1	/* below min_sev, or el == NULL */
#define EVLOG_SUPPRESSED	2	/* rate limited */

/*
 * Defaults: no sink, facility LOG_AUTHPRIV, /dev/log, app "sipwall",
 * queue_len 4096, min_sev LOG_INFO, 10 events/s per key, 1000 per type,
 * summaries every 10 s.
 */
void	evlog_opts_init(struct evlog_opts *opts);

/*
 * Open the sinks and start the writer thread.  Call before dropping
 * privileges if the file needs them (reopen needs them too).
 * Returns 0 and *ret_el, or -errno (the file cannot be opened, no memory,
 * no thread).  A missing syslog socket is not an error.
 */
int	evlog_open(const struct evlog_opts *opts, struct evlog **ret_el);

/*
 * Queue one event.  Thread-safe, never blocks on I/O.  ev and what it
 * points to are only read during the call.  el may be NULL (no-op).
 * Returns 0 queued, EVLOG_FILTERED, EVLOG_SUPPRESSED, -SBC_EFULL
 * (dropped: queue full), -EINVAL (unknown type), -EPIPE (closing).
 */
int	evlog_emit(struct evlog *el, const struct secevent *ev);

/*
 * A function that sees every event evlog_emit() is given, before the
 * severity filter and the rate limits (the alert engine counts what
 * the log may suppress), on the emitting thread: it must be quick,
 * must not block, and must not call evlog_emit() back for the event it
 * was given.  hook (NULL: none) is kept, not copied.  Set it before the
 * threads that emit start and remove it after they stopped.
 */
struct evlog_hook {
	void	(*fn)(void *arg, const struct secevent *ev);
	void	*arg;
};
void	evlog_set_hook(struct evlog *el, const struct evlog_hook *hook);

/*
 * Open the file again (after logrotate renamed it).  The open happens
 * on the caller's thread, so errors come back here: 0 or -errno (the old
 * file stays in use; the failure is also in the process log).  0 when
 * there is no file sink.
 */
int	evlog_reopen(struct evlog *el);

/*
 * Wait until everything queued before the call has been handed to the
 * sinks.  Blocks: for tests, shutdown and the control thread, never for
 * a packet path.  Returns 0, or -EPIPE when the writer is gone.
 */
int	evlog_flush(struct evlog *el);

/*
 * A tap sees every batch of lines the writer hands to the sinks (the
 * control socket's `events --follow`).  fn runs on the writer thread
 * with data[0..len) (whole lines): it must copy and return, never
 * block.  tap is borrowed; NULL removes it, and once an evlog_flush()
 * after that has returned the old tap is called no more.
 */
struct evlog_tap {
	void	(*fn)(void *arg, const char *data, size_t len);
	void	*arg;
};
void	evlog_set_tap(struct evlog *el, const struct evlog_tap *tap);

uint64_t evlog_dropped(const struct evlog *el);
void	evlog_get_stats(const struct evlog *el, struct evlog_stats *ret);

/*
 * Stop accepting events, deliver everything queued plus final
 * suppression/drop summaries, join the writer, close the sinks (the file
 * is fdatasync'ed) and free.  el may be NULL.  No thread may call
 * evlog_emit() on el once this has started.
 */
void	evlog_close(struct evlog *el);

#endif
