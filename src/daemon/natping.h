/*
 * NAT keep-alive (SIG7): an OPTIONS request to the flow of every
 * binding that registered over UDP from behind a NAT (registrar.c sets
 * binding.nat), once every registrar.nat_keepalive, so that the NAT
 * keeps its mapping open and calls from the core reach the phone.
 *
 * OPTIONS rather than a CRLF datagram: many NATs refresh a UDP mapping
 * only on traffic from the inside (RFC 4787 REQ-6 makes only outbound
 * refresh mandatory), and a request is what makes the phone send a
 * packet back; its answer also tells us the phone is there.  A bare
 * CRLF over UDP is not a SIP message (RFC 5626 uses STUN there, sent by
 * the client), and phones drop it without answering.
 *
 * One worker runs it.  The pass walks the location table in slices
 * (loc_walk()) spread over the interval: at each tick it visits the
 * share of hash slots due by then, copies what it needs under one
 * stripe lock at a time and sends outside it, at most NATPING_PER_TICK
 * requests per tick (a pass that cannot keep up runs late and is
 * counted, it never blocks the loop).  The requests are stateless: no
 * transaction, no retransmission (the next one follows an interval
 * later); answers are recognised by our From tag (branches name this
 * worker, so handoff.c brings them here) and counted.  A phone that
 * does not answer keeps its binding: it expires on its own, soon
 * (registrar.nat_expires).
 *
 * Owns: its timer, identifiers and counters.  Does not own: the table.
 */
#ifndef SW_DAEMON_NATPING_H
#define SW_DAEMON_NATPING_H

#include "sip/msg.h"

#define NATPING_TICK_MS		250
#define NATPING_PER_TICK	2500
#define NATPING_BATCH		128	/* copied per stripe lock */

struct worker;
struct natping;

/* Start the pass on w's loop every interval_ms (> 0).  0 or -ENOMEM. */
int	natping_new(struct worker *w, uint32_t interval_ms,
	    struct natping **ret);
/* Stop the timer (from w's thread); logs the counters once. */
void	natping_close(struct natping *np);
/* After the loop released the timer. */
void	natping_free(struct natping *np);
/* 1 when m answers one of our keep-alives (counted, nothing else to
 * do), else 0.  np may be NULL. */
int	natping_response(struct natping *np, const struct sip_msg *m);

#endif
