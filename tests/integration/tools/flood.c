/*
 * flood: send SIP datagrams at a fixed rate from many loopback source
 * addresses, for the flood test (tests/integration/test_flood.py).
 *
 *   flood TARGET_IP PORT RATE SECONDS SRC_BASE NSRC TEMPLATES
 *
 * TEMPLATES is a file of datagrams, each preceded by its length as a
 * 4-byte little-endian integer.  Every run of 12 '@' in a template is
 * replaced by the packet's sequence number in hex, so that every packet
 * is a new request (a new branch and Call-ID), never a retransmission.
 * Sources are SRC_BASE, SRC_BASE+1, ... (NSRC of them, IPv4), chosen per
 * packet with IP_PKTINFO on one socket; the port is the socket's.
 *
 * Packets go out in batches with sendmmsg(), paced against
 * CLOCK_MONOTONIC; answers are read and thrown away.  Prints one line of
 * JSON: packets sent, send errors, seconds taken, achieved rate, and
 * answers received (with a 64 KiB receive buffer: a lower bound).
 * Bounded: stops after SECONDS however far behind it is.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH	64
#define MAXT	64
#define MAXLEN	2048

struct tmpl {
	size_t	 len;
	char	 buf[MAXLEN];
	size_t	 marks[8];
	size_t	 nmarks;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t
load(const char *path, struct tmpl *t)
{
	FILE *f = fopen(path, "rb");
	size_t n = 0;
	uint8_t lb[4];

	if (f == NULL) {
		perror(path);
		exit(2);
	}
	while (n < MAXT && fread(lb, 1, 4, f) == 4) {
		uint32_t len = lb[0] | lb[1] << 8 | lb[2] << 16 |
		    (uint32_t)lb[3] << 24;

		if (len == 0 || len > MAXLEN || fread(t[n].buf, 1, len, f) != len) {
			fprintf(stderr, "bad template %zu\n", n);
			exit(2);
		}
		t[n].len = len;
		t[n].nmarks = 0;
		for (size_t i = 0; i + 12 <= len && t[n].nmarks < 8; i++)
			if (memcmp(t[n].buf + i, "@@@@@@@@@@@@", 12) == 0) {
				t[n].marks[t[n].nmarks++] = i;
				i += 11;
			}
		n++;
	}
	fclose(f);
	if (n == 0) {
		fprintf(stderr, "no templates\n");
		exit(2);
	}
	return n;
}

int
main(int argc, char **argv)
{
	static struct tmpl t[MAXT];
	static char bufs[BATCH][MAXLEN], junk[65536];
	static union {
		char c[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} ctl[BATCH];
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in dst;
	struct in_addr base;
	double rate, secs, t0, end, elapsed;
	unsigned long long sent = 0, errs = 0, seq = 0, answers = 0;
	uint32_t nsrc, basev;
	size_t nt;
	int fd, sz = 1 << 16;

	if (argc != 8) {
		fprintf(stderr, "usage: flood TARGET_IP PORT RATE SECONDS "
		    "SRC_BASE NSRC TEMPLATES\n");
		return 2;
	}
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_port = htons((uint16_t)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1 ||
	    inet_pton(AF_INET, argv[5], &base) != 1) {
		fprintf(stderr, "bad address\n");
		return 2;
	}
	rate = atof(argv[3]);
	secs = atof(argv[4]);
	nsrc = (uint32_t)strtoul(argv[6], NULL, 10);
	if (rate <= 0 || secs <= 0 || secs > 120 || nsrc == 0) {
		fprintf(stderr, "bad rate, seconds or source count\n");
		return 2;
	}
	basev = ntohl(base.s_addr);
	nt = load(argv[7], t);

	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0)) < 0) {
		perror("socket");
		return 2;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	sz = 1 << 22;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));

	t0 = now();
	end = t0 + secs;
	for (;;) {
		double tnow = now();
		unsigned long long due;
		int n, r;

		if (tnow >= end)
			break;
		due = (unsigned long long)((tnow - t0) * rate);
		if (sent + errs >= due) {
			/* ahead of schedule: drain answers, then sleep a bit */
			while (recv(fd, junk, sizeof(junk), MSG_DONTWAIT) > 0)
				answers++;
			usleep(200);
			continue;
		}
		n = due - (sent + errs) > BATCH ? BATCH : (int)(due - (sent + errs));
		for (int i = 0; i < n; i++, seq++) {
			const struct tmpl *tp = &t[seq % nt];
			struct cmsghdr *cm;
			struct in_pktinfo *pi;
			char hex[13];

			memcpy(bufs[i], tp->buf, tp->len);
			snprintf(hex, sizeof(hex), "%012llx", seq);
			for (size_t k = 0; k < tp->nmarks; k++)
				memcpy(bufs[i] + tp->marks[k], hex, 12);
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = tp->len;
			memset(&mm[i], 0, sizeof(mm[i]));
			mm[i].msg_hdr.msg_name = &dst;
			mm[i].msg_hdr.msg_namelen = sizeof(dst);
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
			mm[i].msg_hdr.msg_control = ctl[i].c;
			mm[i].msg_hdr.msg_controllen = sizeof(ctl[i].c);
			cm = CMSG_FIRSTHDR(&mm[i].msg_hdr);
			cm->cmsg_level = IPPROTO_IP;
			cm->cmsg_type = IP_PKTINFO;
			cm->cmsg_len = CMSG_LEN(sizeof(*pi));
			pi = (struct in_pktinfo *)CMSG_DATA(cm);
			memset(pi, 0, sizeof(*pi));
			pi->ipi_spec_dst.s_addr = htonl(basev +
			    (uint32_t)((seq * 2654435761u) % nsrc));
		}
		r = sendmmsg(fd, mm, (unsigned)n, 0);
		if (r < 0) {
			if (errno != EAGAIN && errno != ENOBUFS) {
				perror("sendmmsg");
				return 1;
			}
			errs += (unsigned)n;	/* counted as due, not as sent */
			continue;
		}
		sent += (unsigned)r;
		if (r < n)
			errs += (unsigned)(n - r);
	}
	elapsed = now() - t0;
	usleep(200000);
	while (recv(fd, junk, sizeof(junk), MSG_DONTWAIT) > 0)
		answers++;
	printf("{\"sent\": %llu, \"errors\": %llu, \"seconds\": %.3f, "
	    "\"rate\": %.1f, \"answers\": %llu}\n", sent, errs, elapsed,
	    (double)sent / elapsed, answers);
	close(fd);
	return 0;
}
