/*
 * RTP header parsing and per-stream receive statistics.
 *
 * Owns: the bounds checks of the RTP fixed header and its variable
 * parts, RFC 3550 A.1 (sequence validation, extended sequence numbers,
 * probation, resynchronisation) with duplicate and reorder counters on
 * top, and A.8 (interarrival jitter).
 *
 * A.1 is followed as the RFC writes it, constants included, so that
 * our loss figures agree with what the endpoints' own RTCP reports.
 * What it does not cover we add without changing its verdicts: packets
 * it sets aside still count in packets/bytes, state it throws away on a
 * restart is folded into running totals, and a 64-bit window tells a
 * duplicate from a late packet (A.1 counts both as received).
 *
 * Deliberately not here: RTCP report generation, per-payload-type
 * clocks (the caller tells us the clock), and any judgement on loss.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "media/rtp_stats.h"

#define RTP_SEQ_MOD	(1u << 16)
#define NS_PER_S	1000000000ull
#define NS_PER_US	1000ull
/*
 * Largest |D| we feed the estimator, 2^40 ns (about 18 minutes).  Real
 * jitter is milliseconds; the bound only keeps garbage timestamps from
 * overflowing the scaled estimate (16 x 2^40 fits with room to spare).
 */
#define MAX_D_NS	(1ull << 40)

static inline uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

int
rtp_hdr_len(const uint8_t *p, size_t len, size_t *ret_len)
{
	size_t off, xlen;

	if (p == NULL || len < RTP_HDR_LEN || p[0] >> 6 != RTP_VERSION)
		return -EINVAL;
	/* off never exceeds len below, so len - off cannot wrap */
	off = RTP_HDR_LEN + 4 * (size_t)(p[0] & 0x0f);
	if (off > len)
		return -EINVAL;
	if (p[0] & 0x10) {
		/* 16-bit profile, 16-bit length in 32-bit words (5.3.1) */
		if (len - off < 4)
			return -EINVAL;
		xlen = 4 * (size_t)be16(p + off + 2);
		off += 4;
		if (xlen > len - off)
			return -EINVAL;
		off += xlen;
	}
	*ret_len = off;
	return 0;
}

int
rtp_parse(const uint8_t *p, size_t len, struct rtp_hdr *h)
{
	struct rtp_hdr r;
	size_t off, pad = 0;

	if (rtp_hdr_len(p, len, &off) < 0)
		return -EINVAL;
	memset(&r, 0, sizeof(r));
	r.version = RTP_VERSION;
	r.padding = p[0] >> 5 & 1;
	r.ext = p[0] >> 4 & 1;
	r.cc = p[0] & 0x0f;
	r.marker = p[1] >> 7;
	r.pt = p[1] & 0x7f;
	r.seq = be16(p + 2);
	r.ts = be32(p + 4);
	r.ssrc = be32(p + 8);
	if (r.padding) {
		/*
		 * The count includes itself, so 0 is malformed (5.1); it
		 * may eat the whole payload but not the header.
		 */
		pad = p[len - 1];
		if (pad == 0 || pad > len - off)
			return -EINVAL;
	}
	r.hdr_len = off;
	r.payload_len = len - off - pad;
	*h = r;
	return 0;
}

bool
rtp_is_rtcp(const uint8_t *p, size_t len)
{
	return p != NULL && len >= 8 && p[0] >> 6 == RTP_VERSION &&
	    p[1] >= 192 && p[1] <= 223;
}

/* ---------------------------------------------------------------- */
/* RFC 3550 A.1                                                      */

/* What the current SSRC expects so far; nothing while on probation. */
static uint64_t
seq_expected(const struct rtp_stats *s)
{
	if (!s->have_ssrc || s->probation > 0)
		return 0;
	return s->cycles + s->max_seq - s->base_seq + 1;
}

/* Keep the totals of state about to be thrown away. */
static void
seq_fold(struct rtp_stats *s)
{
	s->expected_before += seq_expected(s);
	s->received_before += s->received;
	s->received = 0;
}

/* A.1 init_seq(), plus our windows. */
static void
seq_init(struct rtp_stats *s, uint16_t seq)
{
	s->base_seq = seq;
	s->max_seq = seq;
	s->bad_seq = RTP_SEQ_MOD + 1;	/* so seq == bad_seq is false */
	s->cycles = 0;
	s->received = 0;
	s->received_prior = 0;
	s->expected_prior = 0;
	s->seen = 1;
}

/* A new source: A.1's probation start, and a fresh jitter estimate. */
static void
source_init(struct rtp_stats *s, uint32_t ssrc, uint16_t seq)
{
	seq_init(s, seq);
	s->max_seq = (uint16_t)(seq - 1);
	s->probation = RTP_MIN_SEQUENTIAL;
	s->seen = 0;
	s->ssrc = ssrc;
	s->have_ssrc = true;
	s->jitter = 0;
	s->have_last = false;
}

/* 64-bit window of the sequence numbers below max_seq: dup or late? */
static void
seq_late(struct rtp_stats *s, uint16_t seq)
{
	uint16_t back = (uint16_t)(s->max_seq - seq);

	if (back >= 64) {
		s->ooo++;	/* too old to tell; A.1 still accepts it */
		return;
	}
	if (s->seen >> back & 1) {
		s->dup++;
		return;
	}
	s->seen |= 1ull << back;
	s->ooo++;
}

/* A.1 update_seq(): 1 when the packet counts as received, else 0. */
static int
seq_update(struct rtp_stats *s, uint16_t seq)
{
	uint16_t udelta = (uint16_t)(seq - s->max_seq);

	if (s->probation > 0) {
		/* packets must be in sequence for the source to be valid */
		if (seq == (uint16_t)(s->max_seq + 1)) {
			s->probation--;
			s->max_seq = seq;
			if (s->probation == 0) {
				seq_init(s, seq);
				s->received++;
				return 1;
			}
		} else {
			s->probation = RTP_MIN_SEQUENTIAL - 1;
			s->max_seq = seq;
		}
		return 0;
	}
	if (udelta == 0) {
		/* A.1 takes it as in order; it is the highest again */
		if (s->seen & 1)
			s->dup++;
		s->seen |= 1;
	} else if (udelta < RTP_MAX_DROPOUT) {
		/* in order, with permissible gap */
		if (seq < s->max_seq)
			s->cycles += RTP_SEQ_MOD;
		s->max_seq = seq;
		s->seen = udelta >= 64 ? 1 : s->seen << udelta | 1;
	} else if (udelta <= RTP_SEQ_MOD - RTP_MAX_MISORDER) {
		/* a very large jump */
		if (seq != s->bad_seq) {
			s->bad_seq = (seq + 1u) & (RTP_SEQ_MOD - 1);
			return 0;
		}
		/*
		 * Two sequential packets: the other side restarted without
		 * telling us (a new SSRC would have), so resync.  The
		 * jitter reference goes too: its timestamps jumped as well.
		 */
		seq_fold(s);
		seq_init(s, seq);
		s->jitter = 0;
		s->have_last = false;
	} else
		seq_late(s, seq);
	s->received++;
	return 1;
}

/* ---------------------------------------------------------------- */
/* RFC 3550 A.8                                                      */

/*
 * J += (|D(i-1,i)| - J) / 16, J scaled by 16 as A.8's integer form.
 * D = (R_i - R_{i-1}) - (S_i - S_{i-1}), both differences taken modulo
 * their wrap (timestamps 2^32, arrivals 2^64) and read as signed.
 */
static void
jitter_update(struct rtp_stats *s, uint32_t ts, uint64_t arrival_us)
{
	int64_t dts, darr, d;
	uint64_t ad;

	if (!s->have_last)
		goto keep;
	/* |dts| <= 2^31 ticks, so dts * 1e9 < 2^62: no overflow */
	dts = (int64_t)(int32_t)(ts - s->last_ts);
	dts = dts * (int64_t)NS_PER_S / (int64_t)s->clock_hz;
	darr = (int64_t)(arrival_us - s->last_arrival_us);
	if (darr > (int64_t)(MAX_D_NS / NS_PER_US))
		darr = (int64_t)(MAX_D_NS / NS_PER_US);
	else if (darr < -(int64_t)(MAX_D_NS / NS_PER_US))
		darr = -(int64_t)(MAX_D_NS / NS_PER_US);
	d = darr * (int64_t)NS_PER_US - dts;
	ad = d < 0 ? (uint64_t)-d : (uint64_t)d;
	if (ad > MAX_D_NS)
		ad = MAX_D_NS;
	s->jitter += ad - ((s->jitter + 8) >> 4);
keep:
	s->last_ts = ts;
	s->last_arrival_us = arrival_us;
	s->have_last = true;
}

/* ---------------------------------------------------------------- */

void
rtp_stats_init(struct rtp_stats *s, uint32_t clock_hz)
{
	memset(s, 0, sizeof(*s));
	s->clock_hz = clock_hz != 0 ? clock_hz : RTP_CLOCK_DEFAULT;
	s->bad_seq = RTP_SEQ_MOD + 1;
}

void
rtp_stats_set_clock(struct rtp_stats *s, uint32_t clock_hz)
{
	if (clock_hz == 0)
		clock_hz = RTP_CLOCK_DEFAULT;
	if (clock_hz == s->clock_hz)
		return;
	/*
	 * The estimate is in ns and stays valid; the timestamp step
	 * between the last packet of the old clock and the first of the
	 * new one means nothing, so start a new reference.
	 */
	s->clock_hz = clock_hz;
	s->have_last = false;
}

void
rtp_stats_rtp(struct rtp_stats *s, const struct rtp_hdr *h, size_t len,
    uint64_t arrival_us)
{
	s->packets++;
	s->bytes += len;
	if (!s->have_ssrc || h->ssrc != s->ssrc) {
		if (s->have_ssrc) {
			s->ssrc_changes++;
			seq_fold(s);
		}
		source_init(s, h->ssrc, h->seq);
	}
	if (seq_update(s, h->seq))
		jitter_update(s, h->ts, arrival_us);
}

uint64_t
rtp_stats_expected(const struct rtp_stats *s)
{
	return s->expected_before + seq_expected(s);
}

int64_t
rtp_stats_lost(const struct rtp_stats *s)
{
	uint64_t rcvd = s->received_before + s->received;

	return (int64_t)(rtp_stats_expected(s) - rcvd);
}

uint32_t
rtp_stats_jitter_us(const struct rtp_stats *s)
{
	uint64_t us = ((s->jitter >> 4) + NS_PER_US / 2) / NS_PER_US;

	return us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

uint32_t
rtp_stats_jitter_ts(const struct rtp_stats *s)
{
	/* ns < 2^40 and clock < 2^32 would overflow: split the product */
	uint64_t ns = s->jitter >> 4;
	uint64_t ts = ns / NS_PER_S * s->clock_hz +
	    ns % NS_PER_S * s->clock_hz / NS_PER_S;

	return ts > UINT32_MAX ? UINT32_MAX : (uint32_t)ts;
}
