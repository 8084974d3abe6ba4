/*
 * RTP fixed-header parsing (RFC 3550 5.1) and the receive statistics
 * the relay keeps per stream: packet and byte counts, loss from the
 * extended highest sequence number (RFC 3550 A.1), reordering and
 * duplicates, and interarrival jitter (A.8).
 *
 * Owns: rtp_parse(), the RTP/RTCP demultiplexing test of RFC 5761 4,
 * and struct rtp_stats.  Pure functions over caller memory: nothing
 * here allocates, logs, keeps global state or writes to the packet.
 *
 * Deliberately not here: RTCP (reports are built and parsed elsewhere
 * from these numbers), SRTP (media/srtp_ctx), header extension
 * contents, payload formats, and any policy on what counts as too much
 * loss or jitter.
 */
#ifndef SW_MEDIA_RTP_STATS_H
#define SW_MEDIA_RTP_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTP_HDR_LEN		12	/* fixed header, RFC 3550 5.1 */
#define RTP_VERSION		2
#define RTP_CLOCK_DEFAULT	8000	/* Hz, when the caller has none */

/* RFC 3550 A.1 tuning, as the RFC gives it. */
#define RTP_MAX_DROPOUT		3000
#define RTP_MAX_MISORDER	100
#define RTP_MIN_SEQUENTIAL	2

struct rtp_hdr {
	uint8_t		version;
	uint8_t		padding;	/* P bit */
	uint8_t		ext;		/* X bit */
	uint8_t		cc;		/* CSRC count */
	uint8_t		marker;
	uint8_t		pt;
	uint16_t	seq;
	uint32_t	ts;
	uint32_t	ssrc;
	size_t		hdr_len;	/* incl. CSRCs and extension */
	size_t		payload_len;	/* padding removed */
};

/*
 * Parse the RTP header of p[0..len).  Reads only inside len; writes *h
 * only on success.  The payload is p + h->hdr_len, h->payload_len bytes.
 * Returns 0, or -EINVAL when len < 12, the version is not 2, the CSRC
 * list or header extension runs past len, or the P bit is set with a
 * padding count of 0 or larger than what follows the header.
 */
int	rtp_parse(const uint8_t *p, size_t len, struct rtp_hdr *h);

/*
 * Length of the RTP header at p[0..len): fixed part, CSRCs and
 * extension, with the same checks as rtp_parse() but none on padding,
 * which SRTP encrypts (media/srtp_ctx checks headers with this before
 * libsrtp reads them).  Returns 0 and *ret_len, or -EINVAL.
 */
int	rtp_hdr_len(const uint8_t *p, size_t len, size_t *ret_len);

/*
 * RTCP on a port shared with RTP (RFC 5761 4): at least 8 bytes,
 * version 2, and a second byte (packet type) in 192..223, which no
 * RTP payload type 0..63 or 96..127 (with or without the marker bit)
 * can produce.
 */
bool	rtp_is_rtcp(const uint8_t *p, size_t len);

/*
 * Receive statistics of one stream, embedded by the caller: init with
 * rtp_stats_init(), feed with rtp_stats_rtp(), read the counters
 * directly or through the functions below.  One thread at a time.
 */
struct rtp_stats {
	uint64_t	packets;	/* every packet counted (valid RTP) */
	uint64_t	bytes;		/* their lengths as received */
	uint64_t	ooo;		/* seq before the highest seen,
					 * within RTP_MAX_MISORDER; not
					 * duplicates */
	uint64_t	dup;		/* seq seen within the last 64 */
	uint64_t	ssrc_changes;

	/* RFC 3550 A.1, per SSRC */
	uint16_t	max_seq;	/* highest seq seen */
	uint64_t	cycles;		/* wraps of seq, times 65536 */
	uint32_t	base_seq;
	uint32_t	bad_seq;	/* last "very large jump" + 1 */
	uint32_t	probation;	/* sequential packets still needed */
	uint64_t	received;	/* packets A.1 accepted */
	uint64_t	expected_prior;	/* the caller's, for RTCP */
	uint64_t	received_prior;
	/* seq window for duplicates: bit i is max_seq - i */
	uint64_t	seen;

	/*
	 * RFC 3550 A.8, per SSRC.  D(i-1,i) is taken from the previous
	 * packet's timestamp and arrival instead of a stored transit in
	 * timestamp units: the same quantity, but in nanoseconds, so the
	 * estimate keeps sub-tick precision (one tick is 125 us at 8 kHz)
	 * and survives a clock change.  jitter keeps A.8's scaling by 16.
	 */
	uint32_t	last_ts;
	uint64_t	last_arrival_us;
	uint64_t	jitter;		/* 16 x jitter in ns */
	bool		have_last;

	uint32_t	ssrc;
	uint32_t	clock_hz;
	bool		have_ssrc;

	/* earlier SSRCs (and A.1 restarts), folded in */
	uint64_t	expected_before;
	uint64_t	received_before;
};

/* Zero *s for a stream whose RTP clock is clock_hz (0: 8000 Hz). */
void	rtp_stats_init(struct rtp_stats *s, uint32_t clock_hz);

/*
 * The clock changed (another payload type): the jitter estimate is
 * rescaled and the next packet starts a new transit reference.  0
 * means 8000 Hz.
 */
void	rtp_stats_set_clock(struct rtp_stats *s, uint32_t clock_hz);

/*
 * Count one valid RTP packet h (from rtp_parse()), len bytes on the
 * wire, that arrived at arrival_us (microseconds, any monotonic origin).
 * A new SSRC restarts the sequence and jitter state (counted in
 * ssrc_changes); so does an A.1 resynchronisation after two packets in
 * sequence far from max_seq.  packets and bytes always add; what the
 * restarted state had expected and received is kept for the totals
 * below.  Packets A.1 sets aside (probation, a first big jump) count in
 * packets and bytes only.  O(1), no allocation.
 */
void	rtp_stats_rtp(struct rtp_stats *s, const struct rtp_hdr *h,
	    size_t len, uint64_t arrival_us);

/*
 * Packets expected: extended highest seq - base + 1 for the current
 * SSRC (0 while on probation), plus what earlier SSRCs expected.
 */
uint64_t rtp_stats_expected(const struct rtp_stats *s);

/* expected - received, cumulative; negative with duplicates. */
int64_t	rtp_stats_lost(const struct rtp_stats *s);

/* Interarrival jitter of the current SSRC in microseconds, rounded. */
uint32_t rtp_stats_jitter_us(const struct rtp_stats *s);

/* The same in timestamp units, truncated, as an RTCP report carries it. */
uint32_t rtp_stats_jitter_ts(const struct rtp_stats *s);

#endif
