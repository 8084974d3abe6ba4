/*
 * Prometheus metrics (OBS2): counters, gauges and histograms with fixed
 * label sets, cheap enough for the packet path.
 *
 * Storage is one shard per counting thread: shard 0 is shared by the
 * threads that have none (the main thread, the store writer, tests),
 * shard 1 + i belongs to SIP worker i.  A shard is a cache-line-aligned
 * array of _Atomic uint64_t updated with relaxed atomic adds: no lock,
 * no allocation, no cache line shared between workers on an update.
 * A scrape sums the shards (metrics_render()); values are exact once
 * the updates have happened, and monotonic between scrapes.
 *
 * Gauges that other modules already keep (bans, registrations, media
 * sessions, the writer's queue, the event log's counts) are read at
 * scrape time from the tables named in struct metrics_src; nothing is
 * copied on their hot paths.
 *
 * Labels are small fixed enums (method, verdict, outcome...) and the
 * zone index of the config; nothing a peer sends becomes a label value,
 * so the number of series is bounded by the config.
 *
 * Layering: obs/ sits above sip/, media/, policy/ and auth/; those never
 * include this header.  The daemon counts what they report to it (TLS
 * failures through the transport's conn_event, media figures when a
 * call ends).  Media worker threads therefore need no shard.
 *
 * Everything is a no-op before metrics_open() and after metrics_close().
 * metrics_open() must run before the threads that count start.
 */
#ifndef SW_OBS_METRICS_H
#define SW_OBS_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct sw_conf;
struct ban_table;
struct loc_table;
struct relay;
struct store_writer;
struct evlog;
struct relay_side_stats;

/* What ended a request at the edge, one per request (first one wins). */
enum met_verdict {
	MET_V_ACCEPTED = 0,	/* passed ban, ACL, limits, parser, auth */
	MET_V_BANNED,
	MET_V_ACL_DENIED,
	MET_V_RATE_LIMITED,
	MET_V_SHED,		/* overload control (PROT6) */
	MET_V_MALFORMED,	/* parser refused it (400/413/414/513) */
	MET_V_SCANNER,		/* scanner signature or behaviour: dropped */
	MET_V_AUTH_CHALLENGED,	/* 401/407, no or stale credentials */
	MET_V_AUTH_FAILED,	/* credentials that did not authenticate */
	MET_V_MAX
};

/* Method label: enum sip_method, plus this one for messages decided
 * before they were parsed (requests or responses alike). */
#define MET_M_UNKNOWN	15	/* == SIP_M__MAX, checked in metrics.c */

/* Counters without labels, and the calls-active gauge. */
enum met_counter {
	MET_C_SRTP_FALLBACK = 0,
	MET_C_TLS_HANDSHAKE,		/* handshake failed */
	MET_C_TLS_CERT,			/* peer certificate rejected */
	MET_C_MEDIA_PACKETS,		/* relayed, counted at call end */
	MET_C_MEDIA_BYTES,
	MET_C_MEDIA_FOREIGN,		/* dropped: wrong source */
	MET_C_SRTP_AUTH_FAILED,
	MET_C_CALLS_ACTIVE,		/* a gauge: +1 / -1 */
	MET_C_MAX
};

/* Final outcome of a call attempt, one per INVITE that reached routing. */
enum met_call_outcome {
	MET_CALL_ANSWERED = 0,
	MET_CALL_FAILED,		/* ended before an answer */
	MET_CALL_REFUSED,		/* policy, fraud limits, call table full */
	MET_CALL_MAX
};

/* Tables the scrape reads; any may be NULL. */
struct metrics_src {
	struct ban_table	*bans;
	struct loc_table	*loc;
	struct relay		*relay;
	struct store_writer	*wr;
	struct evlog		*ev;
};

/*
 * Build the registry: one shared shard and one per SIP worker, zone
 * labels from conf (copied).  src is copied.  0, -EINVAL (already
 * open, nworkers 0), -ENOMEM.
 */
int	metrics_open(const struct sw_conf *conf, unsigned nworkers,
	    const struct metrics_src *src);
/* After every counting thread has stopped. */
void	metrics_close(void);

/* This thread is SIP worker idx: it counts in its own shard. */
void	metrics_thread_worker(unsigned idx);

void	metrics_inc(enum met_counter c, uint64_t n);
void	metrics_dec(enum met_counter c);

/*
 * Request verdicts.  A worker brackets each parsed request it handles
 * with metrics_req_begin()/metrics_req_end(); stages in between report
 * with metrics_verdict() and the first verdict other than accepted
 * wins.  Outside a bracket (stages that run before parsing),
 * metrics_verdict() counts at once, with method MET_M_UNKNOWN.
 */
void	metrics_req_begin(unsigned zone, unsigned method);
void	metrics_verdict(unsigned zone, enum met_verdict v);
void	metrics_req_end(void);

/* reason: a digest_reason_name(), or account_disabled, source_denied,
 * account_locked, aor_mismatch; anything else counts as "other". */
void	metrics_auth_failure(unsigned zone, const char *reason);
void	metrics_auth_ok(unsigned zone);
void	metrics_ban(unsigned reason);		/* enum ban_reason */

void	metrics_call(enum met_call_outcome o);
/* A call ended (call_end()): reason as in its call.ended/failed event,
 * answered when it had been. */
void	metrics_call_end(int answered, const char *reason);
/* The figures of one leg of an ended call: loss and jitter histograms,
 * media counters.  Legs that received nothing are not observed. */
void	metrics_media_leg(const struct relay_side_stats *t);

/* The worker's loop ran this late (microseconds); the max is kept until
 * the next scrape. */
void	metrics_loop_lag(uint64_t us);
/* The same for work due at due_ms on the loop's clock (uv_now():
 * CLOCK_MONOTONIC in milliseconds, so the resolution is 1 ms) and done
 * now. */
void	metrics_loop_since(uint64_t due_ms);

/*
 * Prometheus text exposition format 0.0.4 of every metric into a new
 * heap buffer (*ret_buf, NUL-terminated, free() it; *ret_len bytes
 * without the NUL).  0, -ENOMEM, -ENXIO when not open.  Resets the
 * loop-lag maxima (they cover the interval since the previous scrape).
 */
int	metrics_render(char **ret_buf, size_t *ret_len);

#endif
