/*
 * The media relay (MEDIA1, MEDIA2, MEDIA5): RTP and RTCP of every call
 * anchored on our own ports, with symmetric latching, strict source
 * checks, SRTP per side and receive statistics.
 *
 * Threads: media workers, each with its own epoll set, own slice of the
 * port range per address (portpool.h) and own batch buffers.  A call's
 * session lives on one worker.  The SIP worker that owns the call sets
 * the session up and changes it (ports, peers, keys); the media worker
 * moves packets.  The two meet only on the session's own mutex, taken
 * once per received batch: no global lock, no allocation on the packet
 * path (libsrtp allocates once per new SSRC, not per packet).
 *
 * Per packet, from side X to side Y of a stream:
 *   source check: before latching only the endpoint's signalled media
 *     address or its SIP source address may speak (or anyone, with
 *     latch "any"); after latching only the latched address and port
 *     (strict), anything else is dropped and counted as foreign;
 *   SRTP: unprotected with X's key; an authentication or replay
 *     failure drops the packet (and latching waits for one that passes);
 *   statistics of what X sent (RFC 3550 loss, jitter, reordering);
 *   to Y's latched address, else its signalled one, from our Y-side
 *     socket (symmetric), protected with our key for Y when Y is SRTP;
 *     nothing is sent to a side on hold (c=0.0.0.0) or not yet known;
 *   a side marked secure (SRTP) neither sends nor receives anything
 *     until its keys are in place: plain RTP never reaches an SRTP leg,
 *     not even in the moment between an answer and its keys.
 *
 * Lifetime: relay_sess_new() by the SIP side, which then owns the
 * handle until relay_sess_release(); the media worker closes the
 * sockets, gives the ports back and frees the session after its
 * current batch, so no packet is ever handled with freed state.
 */
#ifndef SW_MEDIA_RELAY_H
#define SW_MEDIA_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"

#define RELAY_MAX_STREAMS	16	/* = SDP_MAX_MEDIA */
#define RELAY_MAX_ADDRS		32	/* distinct media addresses */

struct relay;
struct msess;
struct srtp_ctx;

struct relay_conf {
	unsigned	 workers;		/* >= 1 */
	uint16_t	 port_min, port_max;	/* split over the workers */
	bool		 strict;		/* drop all but the latched */
	bool		 latch_any;		/* else signalled addresses */
	size_t		 naddrs;
	union sw_addr	 addrs[RELAY_MAX_ADDRS];	/* media addresses */
};

/* Pools and epoll sets; threads start with relay_start().  0 or -errno. */
int	relay_new(const struct relay_conf *c, struct relay **ret);
int	relay_start(struct relay *r);
/* Stop and join the workers; sessions released later are freed at once. */
void	relay_stop(struct relay *r);
/* After relay_stop: frees every session, released or not. */
void	relay_free(struct relay *r);

/* A session on the least loaded worker.  NULL on allocation failure. */
struct msess *relay_sess_new(struct relay *r);
/* The SIP side is done with s (NULL ok); see the lifetime note above. */
void	relay_sess_release(struct msess *s);

/*
 * Stream i (< RELAY_MAX_STREAMS), side (0 or 1): make sure it has an
 * RTP/RTCP socket pair on addr (one of relay_conf.addrs), and return
 * the RTP port in *port.  Opening an already open side returns its
 * port (addr must then be the same).  0, -EINVAL, -ENOSPC (no free
 * pair on that address), -errno of socket calls.
 */
int	relay_stream_open(struct msess *s, unsigned i, unsigned side,
	    const union sw_addr *addr, uint16_t *port);

/* What the signalling says about the endpoint of one side. */
struct relay_peer {
	union sw_addr	rtp;		/* send RTP here; family 0: unknown */
	union sw_addr	rtcp;		/* and RTCP here (when not muxed) */
	union sw_addr	sig;		/* its SIP source: may latch too */
	uint32_t	clock_hz;	/* of the first format; 0: 8000 */
	bool		rtcp_mux;
	bool		hold;		/* send it nothing */
	bool		raw;		/* not RTP (T.38 UDPTL): relay as is */
	/* this leg is SRTP: nothing to or from it without its keys (the
	 * offer/answer may still be under way); never plain RTP */
	bool		secure;
};

/*
 * Set side's peer.  A changed RTP address (a re-INVITE moving the
 * media) also forgets the latched source, so the new one can latch.
 */
int	relay_stream_peer(struct msess *s, unsigned i, unsigned side,
	    const struct relay_peer *p);

/*
 * SRTP with side's endpoint: rx unprotects what it sends, tx protects
 * what we send it; NULL for plain RTP.  The session takes both
 * (frees them, and those they replace); replacing only one side keeps
 * the other: pass keep_rx/keep_tx to leave a context as it is.
 */
int	relay_stream_srtp(struct msess *s, unsigned i, unsigned side,
	    struct srtp_ctx *rx, bool keep_rx, struct srtp_ctx *tx,
	    bool keep_tx);

/* What we received from one side of one stream. */
struct relay_side_stats {
	uint64_t	packets, bytes;		/* relayed from this side */
	uint64_t	rtcp;			/* of those, RTCP */
	int64_t		lost;
	uint64_t	expected;
	uint32_t	jitter_us;
	uint64_t	ooo;
	uint64_t	auth_failed;		/* SRTP/SRTCP authentication */
	uint64_t	replayed;
	uint64_t	foreign;		/* wrong source address */
	uint64_t	malformed;		/* not RTP on an RTP port */
	uint64_t	unkeyed;		/* SRTP leg, keys not yet set */
	uint64_t	last_rx_ms;		/* CLOCK_MONOTONIC; 0: never */
	union sw_addr	last_foreign;
	union sw_addr	latched;		/* family 0: not latched */
	bool		open;
	bool		srtp;			/* rx and tx keys in place */
	uint16_t	port;			/* ours, RTP */
};

int	relay_stream_stats(struct msess *s, unsigned i, unsigned side,
	    struct relay_side_stats *ret);
/* Streams with at least one open side (highest index + 1). */
unsigned relay_sess_nstreams(struct msess *s);

/* Now on the clock last_rx_ms uses. */
uint64_t relay_now_ms(void);

/* Open sockets and pairs in use, over all workers (tests, metrics). */
struct relay_counts {
	uint64_t	sessions;
	uint64_t	pairs_in_use;
	uint64_t	pairs_total;
};
void	relay_counts(struct relay *r, struct relay_counts *ret);

#endif
