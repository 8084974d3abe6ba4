/*
 * bench/media/rawrelay: the physical limit of a user-space RTP relay on
 * one core.  One thread, two UDP sockets per stream (leg A faces the
 * caller, leg B the callee), epoll, recvmmsg in batches, and sendmmsg of
 * each batch out of the other leg's socket to that leg's fixed
 * destination; optionally SRTP unprotect/protect per leg
 * (AES_CM_128_HMAC_SHA1_80), for the SRTP scenarios' ceiling.  Nothing
 * else: no latching, no checks, no timers.
 *
 * The SRTP transform is sipwall's own (media/srtp_cm: AES-CM and
 * HMAC-SHA1 on OpenSSL) by default, so that sipwall against this relay
 * compares what is around the crypto, not the crypto; --crypto libsrtp
 * uses Debian's libsrtp2 (built on NSS: several times slower) instead.
 *
 * stdin: streams to add, one line each, then a line "END":
 *     DEST_A_IP DEST_A_PORT DEST_B_IP DEST_B_PORT [A_IN A_OUT B_IN B_OUT]
 * (DEST_A: where what arrives on leg B goes, DEST_B: where what arrives
 * on leg A goes; the keys are base64 SDES keys or "-": A_IN unprotects
 * what arrives on leg A, A_OUT protects what leaves through leg A, ...).
 * stdout: "PORTS PA PB" per stream added (the legs' ports on --addr),
 * then "READY".  More streams may be added the same way at any time.
 * At the end of stdin, SIGTERM or SIGINT (or after --max-secs): one
 * line of JSON with the counters, and exit.
 *
 * Run pinned: taskset -c 1 rawrelay --addr 127.0.0.1 < streams
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "media/srtp_cm.h"
#include "mediautil.h"

#define BATCH_MAX 256
#define STDIN_KEY UINT32_MAX

/* One direction's SRTP: one of the two engines. */
struct crypt {
	struct srtp_cm *cm;             /* sipwall's (the default) */
	srtp_t ls;                      /* libsrtp2 */
};

struct leg {
	int fd;
	unsigned peer;                  /* the other leg of the stream */
	struct sockaddr_in dest;        /* where packets leaving here go */
	struct crypt *in, *out;         /* NULL: plain RTP */
	long ovfl;                      /* the socket's drop count */
};

static volatile sig_atomic_t stop;
static int use_libsrtp;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static struct crypt *key_or_null(const char *k, int inbound)
{
	uint8_t key[MU_KEY_LEN];
	struct crypt *c;

	if (k == NULL || strcmp(k, "-") == 0)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		mu_die("rawrelay: out of memory");
	if (use_libsrtp) {
		c->ls = mu_srtp_session(k, inbound);
		return c;
	}
	if (mu_key_decode(k, key) != 0 ||
	    srtp_cm_new(key, 16, 10, 10, &c->cm) != 0)
		mu_die("rawrelay: bad SDES key %s", k);
	return c;
}

/* SRTP protect or unprotect of the RTP packet buf[0..*len) in place
 * (room for the tag after it); 0, or -1 to drop it. */
static int crypt_rtp(struct crypt *c, int protect, char *buf, int *len)
{
	uint8_t *p = (uint8_t *)buf;
	size_t l = (size_t)*len, hlen = 12;
	int r;

	if (c->ls) {
		r = protect ? (int)srtp_protect(c->ls, buf, len)
			    : (int)srtp_unprotect(c->ls, buf, len);
		return r == (int)srtp_err_status_ok ? 0 : -1;
	}
	if (l < 12 || (p[0] >> 6) != 2)
		return -1;
	hlen += 4u * (p[0] & 0x0f);                     /* CSRCs */
	if ((p[0] & 0x10) && l >= hlen + 4)             /* extension */
		hlen += 4 + 4u * (size_t)(p[hlen + 2] << 8 | p[hlen + 3]);
	if (hlen > l)
		return -1;
	r = protect ? srtp_cm_rtp_protect(c->cm, p, &l, hlen)
		    : srtp_cm_rtp_unprotect(c->cm, p, &l, hlen);
	*len = (int)l;
	return r == 0 ? 0 : -1;
}

static struct leg *legs;
static unsigned nlegs, caplegs;

/* Streams from stdin up to "END" (or its end: 1), each two legs added
 * to legs[] and to the epoll set; prints their ports, then READY. */
static int add_streams(int ep, const char *addr, int bufsize)
{
	char line[1024], ipa[64], ipb[64], k[4][128];
	struct epoll_event ev;
	unsigned i;
	int pa, pb, f;

	for (;;) {
		if (fgets(line, sizeof(line), stdin) == NULL)
			return 1;
		if (strncmp(line, "END", 3) == 0)
			break;
		if (line[0] == '\n' || line[0] == '#')
			continue;
		for (i = 0; i < 4; i++)
			strcpy(k[i], "-");
		f = sscanf(line, "%63s %d %63s %d %127s %127s %127s %127s",
			   ipa, &pa, ipb, &pb, k[0], k[1], k[2], k[3]);
		if (f != 4 && f != 8)
			mu_die("rawrelay: bad stream line: %s", line);
		if (nlegs + 2 > caplegs) {
			caplegs = caplegs ? 2 * caplegs : 256;
			legs = realloc(legs, caplegs * sizeof(*legs));
			if (legs == NULL)
				mu_die("rawrelay: out of memory");
		}
		for (i = 0; i < 2; i++) {
			struct leg *l = &legs[nlegs + i];

			memset(l, 0, sizeof(*l));
			l->fd = mu_udp_bind(addr, 0, bufsize);
			if (l->fd < 0)
				mu_die("rawrelay: bind %s: %s", addr,
				       strerror(errno));
			l->peer = nlegs + 1 - i;
			l->in = key_or_null(k[2 * i], 1);
			l->out = key_or_null(k[2 * i + 1], 0);
			ev.events = EPOLLIN;
			ev.data.u32 = nlegs + i;
			if (epoll_ctl(ep, EPOLL_CTL_ADD, l->fd, &ev) != 0)
				mu_die("rawrelay: epoll_ctl: %s",
				       strerror(errno));
		}
		if (mu_addr(ipa, pa, &legs[nlegs].dest) != 0 ||
		    mu_addr(ipb, pb, &legs[nlegs + 1].dest) != 0)
			mu_die("rawrelay: bad address in: %s", line);
		printf("PORTS %d %d\n", mu_local_port(legs[nlegs].fd),
		       mu_local_port(legs[nlegs + 1].fd));
		nlegs += 2;
	}
	printf("READY\n");
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	static char bufs[BATCH_MAX][MU_PKT_MAX];
	static char ctl[BATCH_MAX][MU_CMSG_SPACE];
	struct mmsghdr rx[BATCH_MAX], tx[BATCH_MAX];
	struct iovec riov[BATCH_MAX], tiov[BATCH_MAX];
	struct epoll_event ev, evs[256];
	const char *addr = "127.0.0.1";
	unsigned long long nrx = 0, ntx = 0, txerr = 0, srtperr = 0;
	unsigned long long wakeups = 0, batches = 0;
	int batch = 64, bufsize = 4 << 20, max_secs = 900, ep, opt, i, j;
	unsigned s;
	long drops = 0;
	double end;

	static const struct option longopts[] = {
		{"addr", required_argument, NULL, 'a'},
		{"batch", required_argument, NULL, 'b'},
		{"bufsize", required_argument, NULL, 's'},
		{"max-secs", required_argument, NULL, 't'},
		{"crypto", required_argument, NULL, 'c'},
		{NULL, 0, NULL, 0}};
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'a': addr = optarg; break;
		case 'b': batch = atoi(optarg); break;
		case 's': bufsize = atoi(optarg); break;
		case 't': max_secs = atoi(optarg); break;
		case 'c': use_libsrtp = strcmp(optarg, "libsrtp") == 0; break;
		default:
			mu_die("usage: rawrelay [--addr IP] [--batch N] "
			       "[--bufsize BYTES] [--max-secs S] "
			       "[--crypto sipwall|libsrtp] < streams");
		}
	}
	if (batch < 1 || batch > BATCH_MAX)
		mu_die("rawrelay: --batch 1..%d", BATCH_MAX);
	if (srtp_init() != srtp_err_status_ok)
		mu_die("rawrelay: srtp_init failed");
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);

	ep = epoll_create1(EPOLL_CLOEXEC);
	ev.events = EPOLLIN;
	ev.data.u32 = STDIN_KEY;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev) != 0)
		mu_die("rawrelay: epoll_ctl(stdin): %s", strerror(errno));
	for (i = 0; i < BATCH_MAX; i++) {
		riov[i].iov_base = bufs[i];
		riov[i].iov_len = MU_PKT_MAX - 160;  /* room for a tag */
		memset(&rx[i], 0, sizeof(rx[i]));
		rx[i].msg_hdr.msg_iov = &riov[i];
		rx[i].msg_hdr.msg_iovlen = 1;
		memset(&tx[i], 0, sizeof(tx[i]));
		tx[i].msg_hdr.msg_iov = &tiov[i];
		tx[i].msg_hdr.msg_iovlen = 1;
		tx[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
	}
	end = mu_now() + max_secs;
	while (!stop && mu_now() < end) {
		int ne = epoll_wait(ep, evs, 256, 200);

		if (ne < 0 && errno != EINTR)
			mu_die("rawrelay: epoll_wait: %s", strerror(errno));
		wakeups++;
		for (i = 0; i < ne; i++) {
			struct leg *l, *p;
			int n, m = 0, sent;

			if (evs[i].data.u32 == STDIN_KEY) {
				if (add_streams(ep, addr, bufsize)) {
					stop = 1;
					epoll_ctl(ep, EPOLL_CTL_DEL, 0, NULL);
				}
				break;  /* legs[] may have moved */
			}
			l = &legs[evs[i].data.u32];
			p = &legs[l->peer];

			for (j = 0; j < batch; j++) {
				rx[j].msg_hdr.msg_control = ctl[j];
				rx[j].msg_hdr.msg_controllen = MU_CMSG_SPACE;
			}
			n = recvmmsg(l->fd, rx, (unsigned)batch, MSG_DONTWAIT,
				     NULL);
			if (n <= 0)
				continue;
			batches++;
			nrx += (unsigned)n;
			l->ovfl = mu_rxq_ovfl(&rx[n - 1].msg_hdr) > l->ovfl
				  ? mu_rxq_ovfl(&rx[n - 1].msg_hdr) : l->ovfl;
			for (j = 0; j < n; j++) {
				int len = (int)rx[j].msg_len;

				if (l->in && crypt_rtp(l->in, 0, bufs[j], &len)) {
					srtperr++;
					continue;
				}
				if (p->out && crypt_rtp(p->out, 1, bufs[j], &len)) {
					srtperr++;
					continue;
				}
				tiov[m].iov_base = bufs[j];
				tiov[m].iov_len = (size_t)len;
				tx[m].msg_hdr.msg_name = &p->dest;
				m++;
			}
			sent = m ? sendmmsg(p->fd, tx, (unsigned)m, MSG_DONTWAIT)
				 : 0;
			if (sent < 0)
				sent = 0;
			ntx += (unsigned)sent;
			txerr += (unsigned)(m - sent);
		}
	}
	for (s = 0; s < nlegs; s++)
		drops += legs[s].ovfl;
	printf("{\"rx\": %llu, \"tx\": %llu, \"tx_errors\": %llu, "
	       "\"srtp_errors\": %llu, \"rcvbuf_drops\": %ld, "
	       "\"wakeups\": %llu, \"batches\": %llu, \"streams\": %u}\n",
	       nrx, ntx, txerr, srtperr, drops, wakeups, batches, nlegs / 2);
	fflush(stdout);
	return 0;
}
