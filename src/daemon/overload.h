/*
 * Overload control (PROT6), one detector per SIP worker.
 *
 * A worker counts as overloaded when its loop was busy (not waiting in
 * epoll) for more than overload.busy_percent of a 100 ms window, or when
 * one of its UDP sockets holds more than overload.queue_high datagrams
 * (or half of what its receive buffer can hold, when that is less), or
 * the kernel dropped datagrams on one.  While overloaded, the guard
 * (guard.c) sheds new out-of-dialog requests from untrusted zones before
 * they are parsed; see guard_packet().
 *
 * Leaving is slower than entering (hysteresis): shedding makes the loop
 * idle, so idleness alone proves nothing.  The detector keeps the cost of
 * a sheddable request (sampled while not overloaded) and leaves only
 * after one second in which the load it carried plus what the shed
 * requests would have cost stays below busy_percent - 20 (half of it
 * when that is 40 or less), with no queue and no drops.
 *
 * Owns: the state machine and a cheap pre-parse (overload_peek()).
 * Does not own: what is shed (guard.c), the sockets (sip/transport_udp.c
 * reports their backlog), events and counters (the worker's).
 * Everything here is the worker thread's own: no allocation, and no
 * lock but the loop's own metrics lock, once a window.
 */
#ifndef SW_DAEMON_OVERLOAD_H
#define SW_DAEMON_OVERLOAD_H

#include <stdint.h>
#include <uv.h>

#include "conf/conf.h"
#include "core/slice.h"

#define OVERLOAD_WINDOW_MS	100	/* busy share measured over this */
#define OVERLOAD_HOLD_MS	1000	/* calm this long before leaving */
#define OVERLOAD_HYST_PM	200	/* leave 20 points below busy_percent */
#define OVERLOAD_SAMPLE		8	/* time 1 in 8 sheddable requests */
#define OVERLOAD_PEEK_MAX	4096	/* bytes overload_peek() reads at most */

enum overload_trigger {
	OVERLOAD_T_NONE = 0,
	OVERLOAD_T_BUSY,		/* loop busy share */
	OVERLOAD_T_QUEUE,		/* datagrams waiting on a socket */
	OVERLOAD_T_DROPS,		/* the kernel dropped datagrams */
	OVERLOAD_T_MAX
};

struct overload {
	uv_loop_t	*loop;
	uint32_t	 enter_pm;	/* busy share to enter, per mille; 0: off */
	uint32_t	 leave_pm;	/* projected share to leave below */
	uint32_t	 queue_high;	/* datagrams; 0: queue and drops off */
	int		 active;
	enum overload_trigger trigger;	/* what started this episode */
	/* the window being measured */
	uint64_t	 win_t0_ns;	/* uv_hrtime() at its start */
	uint64_t	 win_idle0_ns;	/* uv_metrics_idle_time() then */
	uint64_t	 win_start_ms;	/* uv_now() then */
	uint64_t	 win_end_ms;	/* uv_now() that closes it */
	uint64_t	 win_shed;	/* requests shed in it */
	uint32_t	 win_depth;	/* deepest socket queue seen in it */
	uint32_t	 win_drops;	/* datagrams dropped by the kernel */
	int		 win_deep;	/* a queue past half the limit */
	/* what the detector knows */
	uint32_t	 busy_pm;	/* the last window's busy share */
	uint32_t	 depth;		/* the last queue sample */
	uint64_t	 cost_ns;	/* mean cost of a sheddable request */
	uint64_t	 calm_since_ms;	/* 0: the last window was not calm */
	uint64_t	 since_ms;	/* start of this episode */
	uint64_t	 shed_at_enter;	/* `shed` then */
	uint32_t	 sample_ctr;
	/* totals, for the worker's statistics */
	uint64_t	 episodes;
	uint64_t	 shed;
};

/* What overload_peek() saw at the start of a datagram or message. */
enum overload_kind {
	OVERLOAD_K_NEW = 0,	/* a new request without credentials: sheddable */
	OVERLOAD_K_RESPONSE,
	OVERLOAD_K_ACK_CANCEL,
	OVERLOAD_K_IN_DIALOG,	/* a To tag */
	OVERLOAD_K_CREDENTIALS,	/* Authorization / Proxy-Authorization */
	OVERLOAD_K_MAX
};

struct overload_peek {
	enum overload_kind kind;
	struct slice	 method;	/* requests: the method token */
	struct slice	 to_tag;	/* OVERLOAD_K_IN_DIALOG: its value */
};

/*
 * Set up the detector for a loop that has not run yet (it turns on the
 * loop's idle-time metrics).  0, or a libuv error.
 */
int	overload_init(struct overload *o, uv_loop_t *loop,
	    const struct conf_overload *c);

static inline int
overload_active(const struct overload *o)
{
	return o->active;
}

/*
 * The loop is about to run: the first window starts now.  Without it
 * the time from overload_init to the first poll (the rest of the
 * daemon's start-up, on a slow machine most of a second) would count as
 * busy and the first request could find the worker "overloaded".
 */
void	overload_start(struct overload *o);
/* Close the window when it is over; call once per received message. */
void	overload_tick(struct overload *o);

/*
 * A socket's backlog after a full receive batch: datagrams waiting, how
 * many its buffer can hold, and how many the kernel dropped since the
 * previous report.  Enters overload at once past the limits.
 */
void	overload_queue(struct overload *o, uint32_t depth, uint32_t capacity,
	    uint32_t drops);

/* Not overloaded: 1 for one packet in OVERLOAD_SAMPLE, to be looked
 * at and, if it is one that would be shed, timed (overload_cost()). */
static inline int
overload_sample(struct overload *o)
{
	return (++o->sample_ctr % OVERLOAD_SAMPLE) == 0;
}

/* A sheddable request was processed in ns nanoseconds. */
void	overload_cost(struct overload *o, uint64_t ns);

/* A request was shed. */
static inline void
overload_note_shed(struct overload *o)
{
	o->shed++;
	o->win_shed++;
}

/* "busy", "queue", "drops" (or "none"). */
const char *overload_trigger_name(enum overload_trigger t);
/* The same for humans: "loop busy", "socket queue full"... */
const char *overload_trigger_detail(enum overload_trigger t);

/*
 * Classify a SIP message from its first bytes without parsing it:
 * buf[0..len) as received, leading CRLFs already skipped.  Reads at most
 * OVERLOAD_PEEK_MAX bytes and the header block only, never past len,
 * never writes.  Anything it cannot read as a request of another kind
 * (garbage included) is OVERLOAD_K_NEW: sheddable.  A To tag counts
 * only as a header parameter (outside <...> and quotes); the caller
 * decides what tags it believes.  Slices point into buf.
 */
void	overload_peek(const uint8_t *buf, size_t len,
	    struct overload_peek *ret);

#endif
