/*
 * Top offenders (OPS1 `sipwall top`, the dashboard): per source address
 * and per account, how many offences the event stream reported over
 * the last minutes, and of which kinds.
 *
 * An offence is an event of severity warning or worse about a peer
 * (classes signaling, auth, protection, fraud, media, TLS), but not the
 * ones that report on our own side (a core target or trunk down, an
 * upstream authentication, port exhaustion, a certificate expiring).
 * It counts once, plus the "suppressed" count it carries (the events of
 * the same type and source the event log rate limited since).  Its
 * kind ("reason" in the answer) is its type name, "auth.failed".
 *
 * Bounds: EVTOP_KEYS sources and as many accounts; a new one in a full
 * table takes the place of the one with the fewest offences in the
 * window (space saving: a heavy offender is not pushed out by a crowd of
 * one-off sources).  Counts are kept in EVTOP_BUCKETS buckets of
 * EVTOP_BUCKET_MS, so the window slides in steps of a bucket; per key
 * EVTOP_REASONS kinds, the rest counted as "other".
 *
 * Threads: one mutex; evtop_feed() is called from the control thread
 * (the event tap), never from a packet path.
 */
#ifndef SW_OBS_EVTOP_H
#define SW_OBS_EVTOP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "obs/evring.h"

#define EVTOP_KEYS		256
#define EVTOP_REASONS		6
#define EVTOP_BUCKETS		30
#define EVTOP_BUCKET_MS		20000	/* window: 10 minutes */
#define EVTOP_WINDOW_S		(EVTOP_BUCKETS * EVTOP_BUCKET_MS / 1000)
#define EVTOP_KEY_MAX		64	/* account names kept, bytes */
#define EVTOP_REASON_MAX	31

struct evtop;

/* 0, or -ENOMEM. */
int	evtop_new(struct evtop **ret);
/* NULL is a no-op. */
void	evtop_free(struct evtop *t);

/* 1 when ev is an offence (see above), else 0. */
int	evtop_is_offence(const struct evring_ev *ev);

/* Count ev (at its own time) when it is an offence. */
void	evtop_feed(struct evtop *t, const struct evring_ev *ev);

/*
 * {"window_s":W,"sources":[{"src","count","reasons":{kind:n},
 * "last_ms"}],"accounts":[{"account",...}]}: the n (1..EVTOP_KEYS)
 * biggest over the last window_s seconds at now_ms (rounded up to
 * whole buckets, at most EVTOP_WINDOW_S; W says what was used), most
 * offences first.  NULL: no memory.
 */
json_t	*evtop_json(struct evtop *t, int64_t now_ms, unsigned window_s,
	    size_t n);

#endif
