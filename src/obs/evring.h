/*
 * The evidence ring (OPS1 `sipwall evidence`, `recent`, the dashboard):
 * the last security events the event log wrote, kept whole in memory
 * (JSON lines, wire samples included) within a byte budget, the oldest
 * evicted first.  What a query matches on is decoded once, when a line
 * comes in: time, type, severity, source address and port, Call-ID.
 *
 * Owns: the ring, its index, reading an event line (evring_parse) and
 * matching.  Does not own: where the lines come from (the control
 * socket's event tap, daemon/control.c), what a line says
 * (obs/secevent.h, docs/events.md).
 *
 * Bounds: data_max bytes of lines (each at most SECEVENT_LINE_MAX) and
 * one index entry per EVRING_MIN_LINE bytes of budget; an answer holds
 * at most the `max` events and `max_bytes` of lines it was asked for.
 *
 * Threads: one mutex per ring.  Lines are parsed before it is taken;
 * it is held to copy a line in, and during a query (a linear scan of
 * the index, at most EVRING_MAX_ENTRIES entries, plus the parsing of
 * the lines that match).  It is never taken on a packet path: lines
 * reach the ring from the control thread.
 */
#ifndef SW_OBS_EVRING_H
#define SW_OBS_EVRING_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/addr.h"
#include "obs/secevent.h"

#define EVRING_DEFAULT_BYTES	(8u << 20)
#define EVRING_MIN_BYTES	(64u << 10)	/* >= SECEVENT_LINE_MAX */
#define EVRING_MAX_BYTES	(1u << 30)
#define EVRING_MIN_LINE		128	/* budget per index entry */
#define EVRING_CALL_ID_MAX	128	/* SECEVENT_MAX_CALL_ID */

/*
 * One event line as read by evring_parse().  Strings are borrowed from
 * the parsed object (valid until it is released); NULL when absent.
 */
struct evring_ev {
	int64_t		 ms;		/* "ts", ms since the epoch */
	int		 id;		/* "id", 100..899 */
	int		 sev;		/* "sev", 0 (emerg) .. 7 (debug) */
	const char	*type;
	union sw_addr	 src;		/* "src" and "sport"; family 0: none */
	const char	*call_id;
	const char	*account;
	const char	*reason;
	uint64_t	 suppressed;	/* "suppressed", else 0 */
};

enum evring_by {
	EVRING_BY_ANY = 0,	/* every event (recent) */
	EVRING_BY_SRC,		/* the address; the port too unless 0 */
	EVRING_BY_CALL_ID,
	EVRING_BY_MAX
};

struct evring_query {
	enum evring_by	 by;
	union sw_addr	 src;
	char		 call_id[EVRING_CALL_ID_MAX + 1];
	int		 max_sev;	/* this severity or worse; 7: all */
};

struct evring_result {
	size_t		 scanned;	/* events examined: all held */
	size_t		 matched;	/* of those, matching */
	size_t		 returned;	/* appended to the array */
	int		 truncated;	/* matched > returned */
	int64_t		 oldest_ms;	/* the oldest event held; 0: empty */
	uint64_t	 evicted;	/* events the budget pushed out, ever */
};

struct evring_stats {
	size_t		 events;	/* held now */
	size_t		 bytes;		/* of lines held */
	size_t		 budget;	/* data_max */
	uint64_t	 added;
	uint64_t	 evicted;
	uint64_t	 rejected;	/* lines that were not events */
	int64_t		 oldest_ms, newest_ms;
};

struct evring;

/*
 * A ring of data_max bytes (EVRING_MIN_BYTES..EVRING_MAX_BYTES; 0:
 * EVRING_DEFAULT_BYTES).  All memory is taken here.  0, -EINVAL or
 * -ENOMEM.
 */
int	evring_new(size_t data_max, struct evring **ret);
/* NULL is a no-op. */
void	evring_free(struct evring *r);

/* Room for the strings evring_scan() reads. */
struct evring_scratch {
	char	ts[40];
	char	type[48];
	char	sev[16];
	char	src[64];
	char	call_id[EVRING_CALL_ID_MAX + 1];
	char	account[SECEVENT_MAX_ACCOUNT + 1];
	char	reason[SECEVENT_MAX_REASON + 1];
};

/*
 * evring_parse() without a JSON tree or an allocation, for the lines
 * our own writer makes: ev's strings point into sc.  -EAGAIN when the
 * line is not in that shape (an escaped string among the fields read,
 * a nested key...): evring_parse() reads it then.
 */
int	evring_scan(const char *buf, size_t len, struct evring_ev *ret,
	    struct evring_scratch *sc);

/*
 * Read one event line buf[0..len) (a trailing '\n' is ignored).  0 with
 * *ret filled and *ret_obj (a new reference: release it after *ret is
 * used), or -EINVAL when the line is not an event of docs/events.md
 * (not JSON, no "ts", "id", "type" or "sev").
 */
int	evring_parse(const char *buf, size_t len, struct evring_ev *ret,
	    json_t **ret_obj);

/*
 * Keep the line buf[0..len) that evring_parse() read as ev, evicting
 * the oldest events to make room.  0, or -E2BIG (longer than
 * SECEVENT_LINE_MAX; not kept, counted as rejected).
 */
int	evring_add(struct evring *r, const char *buf, size_t len,
	    const struct evring_ev *ev);

/*
 * Every whole line of data[0..len) (the event log's batches): parsed,
 * kept, and shown to fn (may be NULL) with the line's fields before the
 * next line is read.  Lines that are not events are counted and
 * skipped.  Returns the lines kept.
 */
typedef void evring_ev_fn(void *arg, const struct evring_ev *ev);
size_t	evring_feed(struct evring *r, const char *data, size_t len,
	    evring_ev_fn *fn, void *arg);

/*
 * The query for a text an operator typed: an IPv4 or IPv6 address with
 * or without a port ("192.0.2.1", "192.0.2.1:5060", "2001:db8::1",
 * "[2001:db8::1]", "[2001:db8::1]:5060") is EVRING_BY_SRC; 0, or
 * -EINVAL when text is no address (the caller may take it for a
 * Call-ID).  Only q->by and q->src are written.
 */
int	evring_query_src(const char *text, struct evring_query *q);

/*
 * Append to arr the newest `max` events matching q whose lines fit in
 * max_bytes together, oldest first, each as the object its line is.
 * *ret says how many were scanned, matched and returned.  0, or -ENOMEM
 * (arr may then hold part of the answer).
 */
int	evring_collect(struct evring *r, const struct evring_query *q,
	    size_t max, size_t max_bytes, json_t *arr,
	    struct evring_result *ret);

void	evring_get_stats(struct evring *r, struct evring_stats *ret);

/* "warning" -> 4 ... ; -1 when name is no severity keyword. */
int	evring_sev_of(const char *name);

#endif
