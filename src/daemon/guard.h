/*
 * The pipeline stages that decide whether a source may be heard at
 * all (DESIGN.md section 2, stages 1-3 and the ban decisions of the
 * later ones): bans, the zone's access list, rate limits scaled by
 * earned trust, turning repeated misbehaviour into a ban, and what an
 * overloaded worker sheds (PROT6; the detector is overload.c).
 */
#ifndef SW_DAEMON_GUARD_H
#define SW_DAEMON_GUARD_H

#include "daemon/worker.h"
#include "policy/ban.h"

enum guard_verdict {
	GUARD_PASS = 0,
	GUARD_DROP,		/* say nothing */
	GUARD_LIMIT,		/* over a limit: 503 + Retry-After */
};

/*
 * Stages 1-3, before parsing: bans, the zone ACL, per-source and
 * per-prefix budgets; then overload control (PROT6): while the worker
 * is overloaded, a new out-of-dialog request from an untrusted zone is
 * shed (GUARD_DROP, counted, event overload.shed, answered 503 +
 * Retry-After when overload.reply is set) unless its source earned
 * trust by authenticating or it carries credentials.  Responses, ACK,
 * CANCEL and requests with a To tag of ours always pass, and so does
 * everything from a trusted zone.  *timed is set when the request is
 * one that would have been shed, let through now, and its processing
 * should be timed for the detector (overload_cost()).
 */
enum guard_verdict guard_packet(struct worker *w, const struct sip_dest *src,
	    const uint8_t *buf, size_t len, int *timed);

/* After parsing, before a transaction: scanner signatures and the
 * zone's per-method budgets.  1 when m has been dealt with (dropped,
 * or answered 503). */
int	guard_request(struct worker *w, const struct sip_msg *m,
	    const struct sip_dest *src);

/* Take one token of rate r from key k (scaled by nothing). */
enum guard_verdict guard_take(struct worker *w, const struct sip_dest *src,
	    const struct rl_key *k, const struct rl_rate *r, const char *what,
	    struct slice sample);

/* m authenticated as account: move its cost from the anonymous
 * budgets to the (source, account) one. */
enum guard_verdict guard_authenticated(struct worker *w,
	    const struct sip_dest *src, struct slice account,
	    struct slice sample);

/* Ban src now (unless never banned); event and store.  1 when banned. */
int	guard_ban(struct worker *w, const struct sip_dest *src,
	    enum ban_reason reason, uint32_t count, struct slice sample,
	    const char *detail);

/* A failed authentication from src; bans past bans.auth_failures
 * (then 1: say nothing more to it). */
int	guard_auth_failure(struct worker *w, const struct sip_dest *src,
	    struct slice sample);

/* OPS1 lockdown: src may still register (a trusted zone's peer or in
 * bans.never, the same sources that are never banned). */
int	guard_lockdown_exempt(struct worker *w, const struct sip_dest *src);

/* Distinct accounts that authenticated from src recently (0..50). */
unsigned guard_trust(struct worker *w, const struct sip_dest *src);

/* The zone of the listener src came in on. */
const struct zone_rt *guard_zone(struct worker *w, const struct sip_dest *src);

#endif
