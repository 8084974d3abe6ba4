/*
 * Media anchoring for the B2BUA (MEDIA1-3, MEDIA5): every SDP body that
 * crosses a call is rewritten to our own ports on the receiving leg's
 * zone address, the relay session follows each offer and answer, the
 * zones' SRTP policy decides what each leg is offered and accepts, and
 * a per-call tick watches the streams (one-way audio, media timeout,
 * foreign sources, SRTP failures).
 *
 * Private to the B2BUA's files (call*.c); runs on the call's worker.
 */
#ifndef SW_DAEMON_CALL_MEDIA_H
#define SW_DAEMON_CALL_MEDIA_H

#include <stdint.h>

#include "core/slice.h"
#include "sip/msg.h"

struct call;
struct leg;
struct call_svc;
struct secevent;
struct secevent_counter;
struct relay_side_stats;

/* Per-worker scratch (the parsed SDP and the rewritten body). */
int	call_media_svc_init(struct call_svc *s);
void	call_media_svc_free(struct call_svc *s);

/*
 * A new call (leg A set up from INVITE m): start its relay session and
 * check the caller's offer against its zone's SRTP policy.  0: go on;
 * otherwise the SIP status to answer (488, 503, 400) -- the event is
 * emitted and *why names the reason phrase.
 */
unsigned call_media_start(struct call *c, const struct sip_msg *m,
	    const char **why);

/*
 * The body of src, which the other side sent, as leg `to` must get it.
 * offer: 1 src's body is an offer, 0 an answer, -1 neither (INFO,
 * MESSAGE...: an SDP body is then dropped when media is anchored).  *body is src's own
 * body when the call is not anchored or the body is not SDP, else our
 * rewrite (valid until the next call on this worker).  0, or -1: the
 * body cannot be relayed (event emitted); the caller fails the message.
 */
int	call_media_body(struct call *c, const struct leg *to, int offer,
	    const struct sip_msg *src, struct slice *body);

/* The call is over: release the ports, keep the figures. */
void	call_media_end(struct call *c);
/* With the call: keys wiped, session released if still held. */
void	call_media_free(struct call *c);

/* Add the per-leg media figures (16 counters, buf[0..cap) must hold
 * them) to a call.ended/failed event. */
void	call_media_counters(const struct call *c, struct secevent *ev,
	    struct secevent_counter *buf, size_t cap);
/* What side (0: caller's leg, 1: callee's) sent, over its streams.
 * 0, or -1 when the call's media is not anchored. */
int	call_media_totals(const struct call *c, unsigned side,
	    struct relay_side_stats *ret);
/* How side's media went, for the call's record: "" (not anchored, or
 * no answer settled it yet), "rtp", or its SRTP suite's name. */
const char *call_media_enc(const struct call *c, unsigned side);

/* The media cannot go on (reason for call.ended): hang up once the
 * call is up, at once if it is. */
void	call_media_fail(struct call *c, const char *reason);

/* The call was answered: start watching its media. */
void	call_media_answered(struct call *c);

#endif
