/*
 * Unit tests for src/media/rtp_stats.c: rtp_parse() over a table of
 * accepted and refused headers (CSRCs, extension, padding edges) and
 * every prefix of a full one against a guard page; rtp_is_rtcp(); and
 * the RFC 3550 A.1/A.8 statistics over synthetic streams (clean, lossy,
 * reordered, duplicated, wrapping, SSRC change, restart), with the
 * jitter checked against a plain double-precision A.8.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <math.h>

#include <cmocka.h>

#include "guard.h"
#include "media/rtp_stats.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#define SSRC_A		0x11223344u
#define SSRC_B		0x55667788u

/* ---------------------------------------------------------------- */
/* rtp_parse                                                         */

struct parse_case {
	const char	*name;
	uint8_t		 b0;		/* V P X CC */
	size_t		 len;		/* total length */
	uint16_t	 xwords;	/* extension length, when X */
	uint8_t		 pad;		/* last byte, when P */
	int		 rc;
	size_t		 hdr_len;
	size_t		 payload_len;
};

static const struct parse_case parse_cases[] = {
	{ "empty",		0x80, 0,  0, 0, -EINVAL, 0, 0 },
	{ "11 bytes",		0x80, 11, 0, 0, -EINVAL, 0, 0 },
	{ "bare header",	0x80, 12, 0, 0, 0, 12, 0 },
	{ "payload",		0x80, 172, 0, 0, 0, 12, 160 },
	{ "version 0",		0x00, 172, 0, 0, -EINVAL, 0, 0 },
	{ "version 1",		0x40, 172, 0, 0, -EINVAL, 0, 0 },
	{ "version 3",		0xc0, 172, 0, 0, -EINVAL, 0, 0 },
	{ "2 csrc exact",	0x82, 20, 0, 0, 0, 20, 0 },
	{ "2 csrc short",	0x82, 19, 0, 0, -EINVAL, 0, 0 },
	{ "15 csrc exact",	0x8f, 72, 0, 0, 0, 72, 0 },
	{ "15 csrc short",	0x8f, 71, 0, 0, -EINVAL, 0, 0 },
	{ "15 csrc payload",	0x8f, 100, 0, 0, 0, 72, 28 },
	{ "ext header cut",	0x90, 15, 0, 0, -EINVAL, 0, 0 },
	{ "ext empty",		0x90, 16, 0, 0, 0, 16, 0 },
	{ "ext 1 word short",	0x90, 19, 1, 0, -EINVAL, 0, 0 },
	{ "ext 1 word",		0x90, 20, 1, 0, 0, 20, 0 },
	{ "ext 1 word payload",	0x90, 30, 1, 0, 0, 20, 10 },
	{ "ext max short",	0x90, 16 + 4 * 65535 - 1, 65535, 0, -EINVAL,
	    0, 0 },
	{ "ext max",		0x90, 16 + 4 * 65535, 65535, 0, 0,
	    16 + 4 * 65535, 0 },
	{ "csrc + ext",		0x93, 41, 2, 0, 0, 36, 5 },
	{ "csrc + ext short",	0x93, 35, 2, 0, -EINVAL, 0, 0 },
	{ "csrc + ext cut",	0x93, 12 + 12 + 3, 0, 0, -EINVAL, 0, 0 },
	{ "pad 1",		0xa0, 172, 0, 1, 0, 12, 159 },
	{ "pad all payload",	0xa0, 172, 0, 160, 0, 12, 0 },
	{ "pad past payload",	0xa0, 172, 0, 161, -EINVAL, 0, 0 },
	{ "pad 255",		0xa0, 12 + 255, 0, 255, 0, 12, 0 },
	{ "pad 0",		0xa0, 172, 0, 0, -EINVAL, 0, 0 },
	{ "pad, no payload",	0xa0, 12, 0, 0, -EINVAL, 0, 0 },
	{ "pad after ext",	0xb0, 20 + 4, 1, 4, 0, 20, 0 },
	{ "pad into ext",	0xb0, 20 + 4, 1, 5, -EINVAL, 0, 0 },
};

/* A packet as the case describes, in a heap block of exactly len bytes. */
static uint8_t *
build_case(const struct parse_case *c)
{
	uint8_t *p = malloc(c->len > 0 ? c->len : 1);
	size_t off;

	assert_non_null(p);
	for (size_t i = 0; i < c->len; i++)
		p[i] = (uint8_t)(0x40 + i);
	if (c->len > 0)
		p[0] = c->b0;
	off = 12 + 4 * (size_t)(c->b0 & 0x0f);
	if ((c->b0 & 0x10) && c->len >= off + 4) {
		p[off] = 0xbe;
		p[off + 1] = 0xde;
		p[off + 2] = (uint8_t)(c->xwords >> 8);
		p[off + 3] = (uint8_t)c->xwords;
	}
	if ((c->b0 & 0x20) && c->len > 0)
		p[c->len - 1] = c->pad;
	return p;
}

static void
parse_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < nitems(parse_cases); i++) {
		const struct parse_case *c = &parse_cases[i];
		uint8_t *p = build_case(c);
		struct rtp_hdr h;
		int rc;

		memset(&h, 0xa5, sizeof(h));
		rc = rtp_parse(p, c->len, &h);
		if (rc != c->rc)
			fail_msg("%s: rc %d, want %d", c->name, rc, c->rc);
		if (rc == 0) {
			if (h.hdr_len != c->hdr_len ||
			    h.payload_len != c->payload_len)
				fail_msg("%s: hdr %zu payload %zu, want %zu "
				    "%zu", c->name, h.hdr_len,
				    h.payload_len, c->hdr_len,
				    c->payload_len);
			assert_true(h.hdr_len + h.payload_len <= c->len);
			assert_int_equal(h.cc, c->b0 & 0x0f);
			assert_int_equal(h.ext, (c->b0 >> 4) & 1);
			assert_int_equal(h.padding, (c->b0 >> 5) & 1);
		}
		free(p);
	}
	assert_int_equal(rtp_parse(NULL, 12, &(struct rtp_hdr){ 0 }),
	    -EINVAL);
}

static void
parse_fields(void **state)
{
	static const uint8_t pkt[] = {
		0x80, 0xe0, 0xfe, 0xdc, 0x01, 0x23, 0x45, 0x67,
		0x89, 0xab, 0xcd, 0xef, 0xaa,
	};
	struct rtp_hdr h;
	size_t hl;

	(void)state;
	assert_int_equal(rtp_parse(pkt, sizeof(pkt), &h), 0);
	assert_int_equal(h.version, 2);
	assert_int_equal(h.marker, 1);
	assert_int_equal(h.pt, 96);
	assert_int_equal(h.seq, 0xfedc);
	assert_int_equal(h.ts, 0x01234567u);
	assert_int_equal(h.ssrc, 0x89abcdefu);
	assert_int_equal(h.payload_len, 1);
	assert_int_equal(rtp_hdr_len(pkt, sizeof(pkt), &hl), 0);
	assert_int_equal(hl, 12);
}

/* Every prefix of a packet with all the variable parts, flush at a guard. */
static void
parse_every_prefix(void **state)
{
	uint8_t pkt[12 + 8 + 4 + 8 + 20 + 4];
	size_t n = sizeof(pkt), hl;
	struct rtp_hdr h;

	(void)state;
	memset(pkt, 0x33, n);
	pkt[0] = 0xb2;		/* P, X, 2 CSRCs */
	pkt[20 + 2] = 0;
	pkt[20 + 3] = 2;	/* 2 words of extension */
	pkt[n - 1] = 4;
	assert_int_equal(rtp_parse(pkt, n, &h), 0);
	assert_int_equal(h.hdr_len, 32);
	assert_int_equal(h.payload_len, n - 32 - 4);
	for (size_t cut = 0; cut <= n; cut++) {
		const uint8_t *p = guard_copy(pkt, cut);
		int rc = rtp_parse(p, cut, &h);

		if (rc == 0)
			assert_true(h.hdr_len + h.payload_len <= cut);
		if (cut < 32)
			assert_int_equal(rc, -EINVAL);
		assert_int_equal(rtp_hdr_len(p, cut, &hl) == 0, cut >= 32);
	}
}

static void
is_rtcp_table(void **state)
{
	static const struct {
		uint8_t	 b0, b1;
		size_t	 len;
		bool	 rtcp;
	} t[] = {
		{ 0x80, 200, 28, true },	/* SR */
		{ 0x81, 201, 32, true },	/* RR */
		{ 0x81, 202, 8, true },		/* SDES, shortest */
		{ 0x80, 192, 8, true },		/* FIR (RFC 2032) */
		{ 0x80, 223, 8, true },
		{ 0x80, 200, 7, false },	/* too short */
		{ 0x40, 200, 28, false },	/* version 1 */
		{ 0xc0, 200, 28, false },	/* version 3 */
		{ 0x80, 191, 28, false },	/* RTP M=1 PT 63 */
		{ 0x80, 224, 28, false },	/* RTP M=1 PT 96 */
		{ 0x80, 0, 172, false },	/* RTP PCMU */
		{ 0x80, 8, 172, false },	/* RTP PCMA */
		{ 0x80, 96, 172, false },	/* RTP dynamic */
		{ 0x80, 0x80 | 101, 16, false },	/* DTMF, marker */
		{ 0x80, 127, 16, false },
		{ 0x80, 255, 16, false },
	};
	uint8_t buf[200];

	(void)state;
	for (size_t i = 0; i < nitems(t); i++) {
		memset(buf, 0, sizeof(buf));
		buf[0] = t[i].b0;
		buf[1] = t[i].b1;
		if (rtp_is_rtcp(guard_copy(buf, t[i].len), t[i].len) !=
		    t[i].rtcp)
			fail_msg("case %zu: %02x %u len %zu", i, t[i].b0,
			    t[i].b1, t[i].len);
	}
	assert_false(rtp_is_rtcp(NULL, 8));
}

/* ---------------------------------------------------------------- */
/* Statistics                                                        */

static struct rtp_stats S;

/* Each test starts from a fresh 8 kHz stream. */
static int
fresh(void **state)
{
	(void)state;
	rtp_stats_init(&S, 8000);
	return 0;
}

static void
feed(struct rtp_stats *s, uint32_t ssrc, uint16_t seq, uint32_t ts,
    uint64_t at_us)
{
	uint8_t pkt[172];
	struct rtp_hdr h;

	memset(pkt, 0xd5, sizeof(pkt));
	pkt[0] = 0x80;
	pkt[1] = 0;
	for (size_t i = 0; i < 2; i++)
		pkt[2 + i] = (uint8_t)(seq >> (8 - 8 * i));
	for (size_t i = 0; i < 4; i++) {
		pkt[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
		pkt[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
	}
	assert_int_equal(rtp_parse(pkt, sizeof(pkt), &h), 0);
	rtp_stats_rtp(s, &h, sizeof(pkt), at_us);
}

/* Packet i of a 20 ms, 8 kHz stream, on time. */
static void
feed_i(struct rtp_stats *s, uint32_t ssrc, uint16_t seq0, uint32_t i)
{
	feed(s, ssrc, (uint16_t)(seq0 + i), 1000 + 160 * i,
	    5000000 + 20000ull * i);
}

static void
clean_stream(void **state)
{

	(void)state;
	rtp_stats_init(&S, 0);
	assert_int_equal(S.clock_hz, 8000);
	assert_int_equal(rtp_stats_expected(&S), 0);
	assert_int_equal(rtp_stats_lost(&S), 0);
	for (uint32_t i = 0; i < 1000; i++)
		feed_i(&S, SSRC_A, 100, i);
	assert_int_equal(S.packets, 1000);
	assert_int_equal(S.bytes, 172000);
	/* the first packet is A.1 probation: in neither count */
	assert_int_equal(rtp_stats_expected(&S), 999);
	assert_int_equal(S.received, 999);
	assert_int_equal(rtp_stats_lost(&S), 0);
	assert_int_equal(rtp_stats_jitter_us(&S), 0);
	assert_int_equal(rtp_stats_jitter_ts(&S), 0);
	assert_int_equal(S.ooo, 0);
	assert_int_equal(S.dup, 0);
	assert_int_equal(S.ssrc_changes, 0);
	assert_int_equal(S.max_seq, 1099);
}

static void
every_tenth_dropped(void **state)
{
	uint64_t sent = 0;

	(void)state;
	for (uint32_t i = 0; i < 1000; i++) {
		if (i % 10 == 5)
			continue;
		feed_i(&S, SSRC_A, 0, i);
		sent++;
	}
	assert_int_equal(S.packets, sent);
	assert_int_equal(sent, 900);
	/* seq 0 is probation; 1..999 expected, 100 of them never came */
	assert_int_equal(rtp_stats_expected(&S), 999);
	assert_int_equal(rtp_stats_lost(&S), 100);
	assert_int_equal(S.ooo, 0);
	/* lost packets leave the timing of the rest regular */
	assert_int_equal(rtp_stats_jitter_us(&S), 0);
}

static void
reordered(void **state)
{
	uint32_t swaps = 0;

	(void)state;
	for (uint32_t i = 0; i < 1000; i++) {
		/* swap i and i+1 now and then, well past probation */
		if (i >= 10 && i + 1 < 1000 && i % 7 == 3) {
			feed_i(&S, SSRC_A, 65000, i + 1);
			feed_i(&S, SSRC_A, 65000, i);
			i++;
			swaps++;
			continue;
		}
		feed_i(&S, SSRC_A, 65000, i);
	}
	assert_true(swaps > 100);
	assert_int_equal(S.ooo, swaps);
	assert_int_equal(S.dup, 0);
	assert_int_equal(rtp_stats_lost(&S), 0);
	assert_int_equal(rtp_stats_expected(&S), 999);

	/* late by more than the 64-bit window but within MAX_MISORDER */
	rtp_stats_init(&S, 8000);
	for (uint32_t i = 0; i < 200; i++)
		if (i != 100)
			feed_i(&S, SSRC_A, 0, i);
	assert_int_equal(rtp_stats_lost(&S), 1);
	feed_i(&S, SSRC_A, 0, 100);	/* 99 behind */
	assert_int_equal(S.ooo, 1);
	assert_int_equal(rtp_stats_lost(&S), 0);
}

static void
duplicates(void **state)
{

	(void)state;
	for (uint32_t i = 0; i < 100; i++)
		feed_i(&S, SSRC_A, 0, i);
	feed_i(&S, SSRC_A, 0, 99);	/* the highest again */
	feed_i(&S, SSRC_A, 0, 90);	/* an older one again */
	feed_i(&S, SSRC_A, 0, 30);	/* past the window: taken as late */
	assert_int_equal(S.dup, 2);
	assert_int_equal(S.ooo, 1);
	/* A.1 counts them as received: loss goes negative */
	assert_int_equal(rtp_stats_lost(&S), -3);

	/* a late one arriving twice: once ooo, then dup */
	for (uint32_t i = 102; i < 110; i++)
		feed_i(&S, SSRC_A, 0, i);
	feed_i(&S, SSRC_A, 0, 100);
	feed_i(&S, SSRC_A, 0, 100);
	assert_int_equal(S.ooo, 2);
	assert_int_equal(S.dup, 3);
}

static void
seq_wrap(void **state)
{

	(void)state;
	for (uint32_t i = 0; i < 3000; i++)
		feed_i(&S, SSRC_A, 64000, i);
	assert_int_equal(S.cycles, 65536);
	assert_int_equal(rtp_stats_expected(&S), 2999);
	assert_int_equal(rtp_stats_lost(&S), 0);

	/* loss across the wrap is still exact */
	rtp_stats_init(&S, 8000);
	for (uint32_t i = 0; i < 100; i++)
		if (i < 2 || (uint16_t)(65500 + i) % 16 != 0)
			feed_i(&S, SSRC_A, 65500, i);
	assert_int_equal(rtp_stats_lost(&S), 6);	/* 65504 .. 64 */
	assert_int_equal(S.cycles, 65536);

	/* a reordered packet from before the wrap arrives after it */
	rtp_stats_init(&S, 8000);
	for (uint32_t i = 0; i < 40; i++)
		if (i != 30)
			feed_i(&S, SSRC_A, 65506, i);	/* 30: seq 0 */
	feed_i(&S, SSRC_A, 65506, 30);	/* 9 behind seq 9 */
	assert_int_equal(S.ooo, 1);
	assert_int_equal(rtp_stats_lost(&S), 0);
	assert_int_equal(S.cycles, 65536);
}

/*
 * A.8 as the RFC writes it, in doubles: arrival in timestamp units,
 * transit = arrival - ts, J += (|D| - J) / 16.  The reference starts at
 * the first packet A.1 accepts (the second: the first is probation).
 */
struct model {
	double	 transit;
	double	 j;
	int	 have;
};

static void
model_add(struct model *m, uint32_t clock, double ts, uint64_t at_us)
{
	double arrival = (double)at_us * clock / 1e6;
	double transit = arrival - ts;

	if (m->have) {
		double d = fabs(transit - m->transit);

		m->j += (d - m->j) / 16.0;
	}
	m->transit = transit;
	m->have = 1;
}

static uint64_t
lcg(uint64_t *x)
{
	*x = *x * 6364136223846793005ull + 1442695040888963407ull;
	return *x >> 33;
}

static void
jitter_model(void **state)
{
	static const uint32_t clocks[] = { 8000, 16000, 48000, 90000, 11025 };

	(void)state;
	for (size_t c = 0; c < nitems(clocks); c++) {
		uint32_t clock = clocks[c];
		uint32_t step = clock / 50;	/* 20 ms of timestamps */
			struct model m = { 0 };
		uint64_t x = 42 + c, t0 = 123456789;
		/* start near the top so the timestamp wraps on the way */
		uint32_t ts0 = UINT32_MAX - 500 * step;

		rtp_stats_init(&S, clock);
		for (uint32_t i = 0; i < 2000; i++) {
			/* up to +-9 ms, with bursts of a 60 ms delay */
			int64_t wob = (int64_t)(lcg(&x) % 18001) - 9000;
			uint64_t at;
			uint32_t ts = ts0 + i * step;

			if (i % 200 >= 100 && i % 200 < 110)
				wob += 60000;
			at = (uint64_t)((int64_t)(t0 + 20000ull * i) + wob);
			feed(&S, SSRC_A, (uint16_t)i, ts, at);
			if (i > 0)
				model_add(&m, clock,
				    (double)ts0 + (double)i * step, at);
			if (i % 97 == 0 || i == 1999) {
				double want = m.j / clock * 1e6;
				double got = rtp_stats_jitter_us(&S);

				if (fabs(want - got) > 1.0)
					fail_msg("clock %u packet %u: jitter "
					    "%.3f us, model %.3f us", clock,
					    i, got, want);
			}
		}
		assert_true(m.j / clock * 1e6 > 3000.0);
		assert_true(fabs(m.j - rtp_stats_jitter_ts(&S)) <= 1.0);
		assert_int_equal(rtp_stats_lost(&S), 0);
	}
}

static void
ssrc_change(void **state)
{

	(void)state;
	for (uint32_t i = 0; i < 100; i++)
		if (i != 50)
			feed_i(&S, SSRC_A, 1000, i);
	/* jitter on A */
	feed(&S, SSRC_A, 1100, 1000 + 160 * 100, 5000000 + 20000 * 100 +
	    40000);
	assert_true(rtp_stats_jitter_us(&S) > 0);
	assert_int_equal(rtp_stats_lost(&S), 1);
	assert_int_equal(rtp_stats_expected(&S), 100);

	/* B starts elsewhere in sequence and timestamp space */
	for (uint32_t i = 0; i < 100; i++)
		feed(&S, SSRC_B, (uint16_t)(40000 + i), 777 + 160 * i,
		    9000000 + 20000ull * i);
	assert_int_equal(S.ssrc_changes, 1);
	assert_int_equal(S.ssrc, SSRC_B);
	assert_int_equal(S.packets, 200);
	assert_int_equal(rtp_stats_expected(&S), 100 + 99);
	assert_int_equal(rtp_stats_lost(&S), 1);
	assert_int_equal(rtp_stats_jitter_us(&S), 0);	/* restarted */

	/* and back to A: a change again, its old state is not revived */
	for (uint32_t i = 0; i < 10; i++)
		feed_i(&S, SSRC_A, 5000, i);
	assert_int_equal(S.ssrc_changes, 2);
	assert_int_equal(rtp_stats_expected(&S), 100 + 99 + 9);
	assert_int_equal(rtp_stats_lost(&S), 1);
}

static void
restart_jump(void **state)
{
	uint16_t max;

	(void)state;
	for (uint32_t i = 0; i < 100; i++)
		feed_i(&S, SSRC_A, 0, i);
	max = S.max_seq;

	/* one stray packet far away is set aside */
	feed(&S, SSRC_A, 30000, 5, 8000000);
	assert_int_equal(S.max_seq, max);
	assert_int_equal(rtp_stats_expected(&S), 99);
	assert_int_equal(rtp_stats_lost(&S), 0);
	assert_int_equal(S.packets, 101);
	for (uint32_t i = 100; i < 110; i++)
		feed_i(&S, SSRC_A, 0, i);
	assert_int_equal(rtp_stats_lost(&S), 0);
	assert_int_equal(rtp_stats_expected(&S), 109);

	/* two in sequence far away: the sender restarted; resync */
	feed(&S, SSRC_A, 20000, 99999, 9000000);
	feed(&S, SSRC_A, 20001, 99999 + 160, 9020000);
	assert_int_equal(S.max_seq, 20001);
	assert_int_equal(S.base_seq, 20001);
	for (uint32_t i = 2; i < 50; i++)
		feed(&S, SSRC_A, (uint16_t)(20000 + i), 99999 + 160 * i,
		    9000000 + 20000ull * i);
	assert_int_equal(S.ssrc_changes, 0);
	/* 109 before, then 20001..20049; the first jump packet in none */
	assert_int_equal(rtp_stats_expected(&S), 109 + 49);
	assert_int_equal(rtp_stats_lost(&S), 0);
	assert_int_equal(rtp_stats_jitter_us(&S), 0);

	/* a gap below MAX_DROPOUT is loss, not a restart */
	feed(&S, SSRC_A, 20049 + 2000, 99999 + 160 * 2049,
	    9000000 + 20000ull * 2049);
	assert_int_equal(rtp_stats_lost(&S), 1999);
	/* 3000 ahead is past MAX_DROPOUT: set aside */
	feed(&S, SSRC_A, 22049 + 3000, 1, 1);
	assert_int_equal(rtp_stats_lost(&S), 1999);
	assert_int_equal(S.max_seq, 22049);
}

static void
probation(void **state)
{

	(void)state;
	/* not in sequence: probation starts over each time */
	feed(&S, SSRC_A, 10, 0, 0);
	feed(&S, SSRC_A, 20, 0, 20000);
	feed(&S, SSRC_A, 30, 0, 40000);
	assert_int_equal(S.probation, RTP_MIN_SEQUENTIAL - 1);
	assert_int_equal(rtp_stats_expected(&S), 0);
	assert_int_equal(rtp_stats_lost(&S), 0);
	assert_int_equal(S.packets, 3);
	feed(&S, SSRC_A, 31, 160, 60000);
	assert_int_equal(S.probation, 0);
	assert_int_equal(rtp_stats_expected(&S), 1);
	assert_int_equal(rtp_stats_lost(&S), 0);
}

static void
clock_change(void **state)
{
	uint32_t j;

	(void)state;
	for (uint32_t i = 0; i < 50; i++)
		feed(&S, SSRC_A, (uint16_t)i, 160 * i,
		    20000ull * i + (i % 2) * 4000);
	j = rtp_stats_jitter_us(&S);
	assert_true(j > 3000 && j < 8000);
	/* 48 kHz from here; the timestamp step at the switch is no jitter */
	rtp_stats_set_clock(&S, 48000);
	assert_int_equal(S.clock_hz, 48000);
	feed(&S, SSRC_A, 50, 12345678, 20000ull * 50 + 4000);
	assert_int_equal(rtp_stats_jitter_us(&S), j);
	rtp_stats_set_clock(&S, 0);
	assert_int_equal(S.clock_hz, 8000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_table),
		cmocka_unit_test(parse_fields),
		cmocka_unit_test(parse_every_prefix),
		cmocka_unit_test(is_rtcp_table),
		cmocka_unit_test_setup(clean_stream, fresh),
		cmocka_unit_test_setup(every_tenth_dropped, fresh),
		cmocka_unit_test_setup(reordered, fresh),
		cmocka_unit_test_setup(duplicates, fresh),
		cmocka_unit_test_setup(seq_wrap, fresh),
		cmocka_unit_test_setup(jitter_model, fresh),
		cmocka_unit_test_setup(ssrc_change, fresh),
		cmocka_unit_test_setup(restart_jump, fresh),
		cmocka_unit_test_setup(probation, fresh),
		cmocka_unit_test_setup(clock_change, fresh),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
