/*
 * bench/media/rtpgen: RTP load generator and sink in one thread.
 *
 * Sends RTP (or SRTP, AES_CM_128_HMAC_SHA1_80 with libsrtp2) on N
 * streams, each from its own source socket to its destination, at an
 * aggregate rate for a bounded time (sendmmsg, paced, round robin over
 * the streams), and counts what arrives on each stream's sink socket
 * (recvmmsg), optionally checking the payload (after srtp_unprotect when
 * the sink leg is SRTP).  Every packet is 12 bytes of RTP header and a
 * payload (160 bytes: G.711, 20 ms) whose first 8 bytes are the stream
 * index and the packet's count in the stream, the rest a pattern of
 * both: a relay that mixed streams up or changed a byte is caught
 * whatever it does to the RTP header.  Sequence numbers start at
 * --seq-start: a packet from before it (an earlier run's, which a relay
 * held back) is counted as stale, not as received.  Prints "START" when
 * the clock starts (after precomputing), "SENT" when the last packet is
 * sent, and at the end one line of JSON.
 *
 * --streams FILE: one line per stream
 *     SRC_IP SRC_PORT DST_IP DST_PORT SINK_IP SINK_PORT [TX_KEY RX_KEY]
 * (keys: base64 SDES keys or "-": TX_KEY protects what is sent, RX_KEY
 * unprotects what the sink receives).
 *
 * SRTP packets to send are protected before the clock starts (all of
 * them, in stream order), so the generator's own core does not limit
 * the SRTP scenarios; --inline-srtp protects while sending instead.
 *
 * Run pinned: taskset -c 0 rtpgen --streams F --rate 100000 --duration 5
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "mediautil.h"

#define RX_BATCH 64
#define TX_BATCH_MAX 32
#define SRTP_TAG 10
#define SEND_SLICE 512          /* packets sent between two receive polls */

struct stream {
	int src, sink;                  /* fds */
	struct sockaddr_in dst;
	srtp_t tx, rx;                  /* NULL: plain RTP */
	uint32_t ssrc;
	uint32_t count;                 /* packets built so far */
	uint64_t received;
	long ovfl;
	uint8_t *pre;                   /* precomputed SRTP packets */
	uint32_t npre;
	int prelen;
};

static struct {
	double rate, duration, drain;
	int payload, check, max_batch, bufsize, inline_srtp;
	unsigned seq_start;
} opt = {1000, 5, 1.0, 160, 1, 0, 4 << 20, 0, 1};

static uint8_t pattern(uint32_t idx, uint32_t cnt, int j)
{
	return (uint8_t)(cnt * 7u + idx * 13u + (unsigned)j);
}

/* Packet cnt of stream idx (plain RTP) into buf; its length. */
static int build(uint8_t *buf, const struct stream *s, uint32_t idx,
		 uint32_t cnt)
{
	uint16_t seq = (uint16_t)(opt.seq_start + cnt);
	uint32_t ts = cnt * 160u, v;
	int j;

	buf[0] = 0x80;
	buf[1] = 0;                     /* PT 0: PCMU */
	buf[2] = (uint8_t)(seq >> 8);
	buf[3] = (uint8_t)seq;
	v = htonl(ts);
	memcpy(buf + 4, &v, 4);
	v = htonl(s->ssrc);
	memcpy(buf + 8, &v, 4);
	v = htonl(idx);
	memcpy(buf + 12, &v, 4);
	v = htonl(cnt);
	memcpy(buf + 16, &v, 4);
	for (j = 8; j < opt.payload; j++)
		buf[12 + j] = pattern(idx, cnt, j);
	return 12 + opt.payload;
}

/* 1: the payload is packet (idx, cnt) as built; 0: not. */
static int payload_ok(const uint8_t *buf, int len, uint32_t idx)
{
	uint32_t v, cnt;
	int j;

	if (len != 12 + opt.payload)
		return 0;
	memcpy(&v, buf + 12, 4);
	if (ntohl(v) != idx)
		return 0;
	memcpy(&v, buf + 16, 4);
	cnt = ntohl(v);
	for (j = 8; j < opt.payload; j++)
		if (buf[12 + j] != pattern(idx, cnt, j))
			return 0;
	return 1;
}

static srtp_t key_or_null(const char *k, int inbound)
{
	if (strcmp(k, "-") == 0)
		return NULL;
	return mu_srtp_session(k, inbound);
}

static unsigned read_streams(const char *path, struct stream **sp)
{
	char line[1024], sip[64], dip[64], kip[64], tk[128], rk[128];
	int sport, dport, kport, f;
	struct stream *ss = NULL;
	unsigned n = 0, cap = 0;
	FILE *fp = fopen(path, "r");

	if (fp == NULL)
		mu_die("rtpgen: %s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), fp)) {
		struct stream *s;

		if (line[0] == '\n' || line[0] == '#')
			continue;
		strcpy(tk, "-");
		strcpy(rk, "-");
		f = sscanf(line, "%63s %d %63s %d %63s %d %127s %127s", sip,
			   &sport, dip, &dport, kip, &kport, tk, rk);
		if (f != 6 && f != 8)
			mu_die("rtpgen: bad stream line: %s", line);
		if (n == cap) {
			cap = cap ? 2 * cap : 256;
			ss = realloc(ss, cap * sizeof(*ss));
			if (ss == NULL)
				mu_die("rtpgen: out of memory");
		}
		s = &ss[n];
		memset(s, 0, sizeof(*s));
		s->src = mu_udp_bind(sip, sport, opt.bufsize);
		if (s->src < 0)
			mu_die("rtpgen: bind %s:%d: %s", sip, sport,
			       strerror(errno));
		s->sink = mu_udp_bind(kip, kport, opt.bufsize);
		if (s->sink < 0)
			mu_die("rtpgen: bind %s:%d: %s", kip, kport,
			       strerror(errno));
		if (mu_addr(dip, dport, &s->dst) != 0)
			mu_die("rtpgen: bad address %s", dip);
		s->tx = key_or_null(tk, 0);
		s->rx = key_or_null(rk, 1);
		s->ssrc = 0x51000000u + n;
		n++;
	}
	fclose(fp);
	*sp = ss;
	return n;
}

/* Protect every packet a stream will send before the clock starts. */
static void precompute(struct stream *ss, unsigned n, uint64_t total)
{
	uint32_t per = (uint32_t)(total / n + (uint64_t)opt.max_batch + 1);
	uint8_t buf[MU_PKT_MAX];
	unsigned i;
	uint32_t c;

	for (i = 0; i < n; i++) {
		struct stream *s = &ss[i];

		if (s->tx == NULL)
			continue;
		s->prelen = 12 + opt.payload + SRTP_TAG;
		s->pre = malloc((size_t)per * (size_t)s->prelen);
		if (s->pre == NULL)
			mu_die("rtpgen: out of memory precomputing SRTP");
		for (c = 0; c < per; c++) {
			int len = build(buf, s, i, c);

			if (srtp_protect(s->tx, buf, &len) != srtp_err_status_ok
			    || len != s->prelen)
				mu_die("rtpgen: srtp_protect failed");
			memcpy(s->pre + (size_t)c * (size_t)s->prelen, buf,
			       (size_t)len);
		}
		s->npre = per;
	}
}

struct counters {
	uint64_t sent, tx_errors, received, verified, bad_payload;
	uint64_t srtp_errors, bad_length, stale;
};

/* Send b packets of stream i; the number the kernel took. */
static int send_burst(struct stream *s, unsigned i, int b,
		      struct counters *k)
{
	static uint8_t bufs[TX_BATCH_MAX][MU_PKT_MAX];
	struct mmsghdr m[TX_BATCH_MAX];
	struct iovec iov[TX_BATCH_MAX];
	int j, r, len;

	for (j = 0; j < b; j++) {
		uint32_t c = s->count + (uint32_t)j;

		if (s->pre && c < s->npre) {
			iov[j].iov_base = s->pre + (size_t)c * (size_t)s->prelen;
			len = s->prelen;
		} else {
			len = build(bufs[j], s, i, c);
			if (s->tx && srtp_protect(s->tx, bufs[j], &len)
			    != srtp_err_status_ok)
				k->srtp_errors++;
			iov[j].iov_base = bufs[j];
		}
		iov[j].iov_len = (size_t)len;
		memset(&m[j], 0, sizeof(m[j]));
		m[j].msg_hdr.msg_name = &s->dst;
		m[j].msg_hdr.msg_namelen = sizeof(s->dst);
		m[j].msg_hdr.msg_iov = &iov[j];
		m[j].msg_hdr.msg_iovlen = 1;
	}
	s->count += (uint32_t)b;
	r = sendmmsg(s->src, m, (unsigned)b, MSG_DONTWAIT);
	if (r < 0)
		r = 0;
	k->sent += (unsigned)r;
	k->tx_errors += (unsigned)(b - r);
	return r;
}

static void receive(struct stream *s, unsigned i, struct counters *k)
{
	static uint8_t bufs[RX_BATCH][MU_PKT_MAX];
	static char ctl[RX_BATCH][MU_CMSG_SPACE];
	struct mmsghdr m[RX_BATCH];
	struct iovec iov[RX_BATCH];
	int j, n, want = 12 + opt.payload + (s->rx ? SRTP_TAG : 0);
	long o;

	for (j = 0; j < RX_BATCH; j++) {
		iov[j].iov_base = bufs[j];
		iov[j].iov_len = MU_PKT_MAX;
		memset(&m[j], 0, sizeof(m[j]));
		m[j].msg_hdr.msg_iov = &iov[j];
		m[j].msg_hdr.msg_iovlen = 1;
		m[j].msg_hdr.msg_control = ctl[j];
		m[j].msg_hdr.msg_controllen = MU_CMSG_SPACE;
	}
	n = recvmmsg(s->sink, m, RX_BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return;
	o = mu_rxq_ovfl(&m[n - 1].msg_hdr);
	if (o > s->ovfl)
		s->ovfl = o;
	for (j = 0; j < n; j++) {
		int len = (int)m[j].msg_len;
		uint16_t seq = (uint16_t)(bufs[j][2] << 8 | bufs[j][3]);

		/* Sequence numbers before this run's first: a packet of an
		 * earlier run that the relay held back (not counted). */
		if ((uint16_t)(seq - (uint16_t)opt.seq_start) >= 32768) {
			k->stale++;
			continue;
		}
		k->received++;
		s->received++;
		if (len != want) {
			k->bad_length++;
			continue;
		}
		if (opt.check <= 0 || seq % (unsigned)opt.check != 0)
			continue;
		if (s->rx && srtp_unprotect(s->rx, bufs[j], &len)
		    != srtp_err_status_ok) {
			k->srtp_errors++;
			continue;
		}
		k->verified++;
		if (!payload_ok(bufs[j], len, i))
			k->bad_payload++;
	}
}

static double tv_secs(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

static void usage(void)
{
	mu_die("usage: rtpgen --streams FILE [--rate PPS] [--duration S] "
	       "[--drain S] [--payload BYTES] [--check K] [--max-batch N] "
	       "[--seq-start N] [--bufsize BYTES] [--inline-srtp]");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"streams", required_argument, NULL, 'f'},
		{"rate", required_argument, NULL, 'r'},
		{"duration", required_argument, NULL, 'd'},
		{"drain", required_argument, NULL, 'D'},
		{"payload", required_argument, NULL, 'p'},
		{"check", required_argument, NULL, 'c'},
		{"max-batch", required_argument, NULL, 'b'},
		{"seq-start", required_argument, NULL, 'q'},
		{"bufsize", required_argument, NULL, 's'},
		{"inline-srtp", no_argument, NULL, 'i'},
		{NULL, 0, NULL, 0}};
	struct epoll_event ev, evs[256];
	struct counters k = {0};
	struct stream *ss;
	const char *path = NULL;
	unsigned n, i, rr = 0, silent = 0, starved = 0;
	uint64_t total, minrx = UINT64_MAX, maxrx = 0;
	uint32_t maxcount = 0;
	long drops = 0;
	double t0, now, send_end = 0, hard_end, per_stream;
	int c, ep, batch;
	struct rusage ru0, ru;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': path = optarg; break;
		case 'r': opt.rate = atof(optarg); break;
		case 'd': opt.duration = atof(optarg); break;
		case 'D': opt.drain = atof(optarg); break;
		case 'p': opt.payload = atoi(optarg); break;
		case 'c': opt.check = atoi(optarg); break;
		case 'b': opt.max_batch = atoi(optarg); break;
		case 'q': opt.seq_start = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 's': opt.bufsize = atoi(optarg); break;
		case 'i': opt.inline_srtp = 1; break;
		default: usage();
		}
	}
	if (path == NULL || opt.rate <= 0 || opt.duration <= 0 ||
	    opt.duration > 600 || opt.payload < 8 || opt.payload > 1200)
		usage();
	if (srtp_init() != srtp_err_status_ok)
		mu_die("rtpgen: srtp_init failed");
	n = read_streams(path, &ss);
	if (n == 0)
		mu_die("rtpgen: no streams in %s", path);
	total = (uint64_t)(opt.rate * opt.duration);
	/* Bursts per stream: at most one every 4 ms per stream, so that a
	 * high aggregate rate does not cost a system call per packet. */
	per_stream = opt.rate / n;
	batch = (int)(per_stream / 250.0);
	if (opt.max_batch <= 0)
		opt.max_batch = 8;
	if (batch < 1)
		batch = 1;
	if (batch > opt.max_batch)
		batch = opt.max_batch;
	if (batch > TX_BATCH_MAX)
		batch = TX_BATCH_MAX;
	/* Whole rounds: every stream sends as many packets, so that its
	 * next run (--seq-start) goes on without a gap in sequence
	 * numbers.  The run gets longer by less than a round. */
	total = (total + (uint64_t)n * (uint64_t)batch - 1) /
		((uint64_t)n * (uint64_t)batch) * (uint64_t)n * (uint64_t)batch;
	opt.duration = (double)total / opt.rate;
	if (!opt.inline_srtp) {
		if (total * (uint64_t)(12 + opt.payload + SRTP_TAG) > (2ull << 30))
			mu_die("rtpgen: more than 2 GiB of SRTP to precompute: "
			       "lower --rate or --duration, or --inline-srtp");
		precompute(ss, n, total);
	}

	ep = epoll_create1(EPOLL_CLOEXEC);
	for (i = 0; i < n; i++) {
		ev.events = EPOLLIN;
		ev.data.u32 = i;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, ss[i].sink, &ev) != 0)
			mu_die("rtpgen: epoll_ctl: %s", strerror(errno));
	}

	getrusage(RUSAGE_SELF, &ru0);     /* after precomputing: not counted */
	printf("START\n");               /* the clock starts: for the caller */
	fflush(stdout);
	t0 = mu_now();
	hard_end = t0 + opt.duration + opt.drain + 2.0;
	for (;;) {
		struct timespec to = {0, 0};
		uint64_t due = 0, slice = 0;
		int ne;

		now = mu_now();
		if (send_end == 0) {
			due = (uint64_t)((now - t0) * opt.rate);
			if (due > total)
				due = total;
			while (k.sent + k.tx_errors < due && slice < SEND_SLICE) {
				uint64_t left = due - k.sent - k.tx_errors;
				int b = left < (uint64_t)batch ? (int)left : batch;

				slice += (unsigned)b;
				send_burst(&ss[rr], rr, b, &k);
				rr = (rr + 1) % n;
			}
			if (k.sent + k.tx_errors >= total ||
			    now - t0 >= opt.duration) {
				send_end = mu_now();
				printf("SENT\n");       /* for the caller */
				fflush(stdout);
			}
		}
		if (send_end != 0) {
			if (k.received >= k.sent || now > send_end + opt.drain ||
			    now > hard_end)
				break;
			to.tv_nsec = 1000000;           /* 1 ms */
		} else if (k.sent + k.tx_errors >= due) {
			/* the next packet is due in 1/rate s */
			double w = 1.0 / opt.rate;

			if (w > 0.001)
				w = 0.001;
			to.tv_nsec = (long)(w * 1e9);
		}
		ne = epoll_pwait2(ep, evs, 256, &to, NULL);
		for (c = 0; c < ne; c++)
			receive(&ss[evs[c].data.u32], evs[c].data.u32, &k);
	}
	now = mu_now();
	getrusage(RUSAGE_SELF, &ru);
	for (i = 0; i < n; i++) {
		drops += ss[i].ovfl;
		if (ss[i].received == 0)
			silent++;
		if (2 * ss[i].received < ss[i].count)
			starved++;
		if (ss[i].received < minrx)
			minrx = ss[i].received;
		if (ss[i].received > maxrx)
			maxrx = ss[i].received;
		if (ss[i].count > maxcount)
			maxcount = ss[i].count;
	}
	printf("{\"streams\": %u, \"rate\": %.0f, \"duration\": %.3f, "
	       "\"batch\": %d, \"target\": %llu, \"sent\": %llu, "
	       "\"tx_errors\": %llu, \"received\": %llu, \"verified\": %llu, "
	       "\"bad_payload\": %llu, \"srtp_errors\": %llu, "
	       "\"bad_length\": %llu, \"stale\": %llu, \"sink_drops\": %ld, "
	       "\"silent_streams\": %u, \"starved_streams\": %u, "
	       "\"min_stream_rx\": %llu, "
	       "\"max_stream_rx\": %llu, \"send_secs\": %.3f, \"wall\": %.3f, "
	       "\"cpu_user\": %.3f, \"cpu_sys\": %.3f, \"seq_next\": %u}\n",
	       n, opt.rate, opt.duration, batch, (unsigned long long)total,
	       (unsigned long long)k.sent, (unsigned long long)k.tx_errors,
	       (unsigned long long)k.received, (unsigned long long)k.verified,
	       (unsigned long long)k.bad_payload,
	       (unsigned long long)k.srtp_errors,
	       (unsigned long long)k.bad_length,
	       (unsigned long long)k.stale, drops, silent, starved,
	       (unsigned long long)minrx, (unsigned long long)maxrx,
	       send_end - t0, now - t0,
	       tv_secs(&ru.ru_utime) - tv_secs(&ru0.ru_utime),
	       tv_secs(&ru.ru_stime) - tv_secs(&ru0.ru_stime),
	       opt.seq_start + maxcount);
	return 0;
}
