/*
 * bench/parse: messages parsed per second on one core, sipwall's
 * parser against libosip2's osip_message_parse on the same bytes in
 * the same process and run.  Each round times a fixed count of parses
 * with the thread CPU clock; the figure is the median of the rounds,
 * and the ratio is the point (absolute numbers depend on the machine).
 * Run pinned: taskset -c 1 build/bench/bench_parse
 *
 * Both sides do complete work: osip parses every header into its
 * structures (and frees them); sipwall frames, decodes and validates
 * every header it interprets (Via list, From/To, Contact, CSeq,
 * Authorization, ...), which is what the daemon does per message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <osipparser2/osip_parser.h>

#include "sip/parse.h"

static const char invite[] =
    "INVITE sip:+14155550123@pbx.example.com;user=phone SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-524287-1---7b0e1b2a5f1c;rport\r\n"
    "Max-Forwards: 70\r\n"
    "Contact: <sip:1001@192.0.2.10:5060;transport=udp>\r\n"
    "To: <sip:+14155550123@pbx.example.com;user=phone>\r\n"
    "From: \"Alice Example\" <sip:1001@pbx.example.com>;tag=3d1f5a7b\r\n"
    "Call-ID: Zjc4ZDM2NTQ1YjA1MDRjNzE1ZjlkMmRhN2E4YTY1NmQ.\r\n"
    "CSeq: 2 INVITE\r\n"
    "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, MESSAGE, SUBSCRIBE, INFO, UPDATE\r\n"
    "Content-Type: application/sdp\r\n"
    "Supported: replaces, norefersub\r\n"
    "User-Agent: Yealink SIP-T46S 66.86.0.15\r\n"
    "Allow-Events: talk, hold, conference, refer, check-sync\r\n"
    "Proxy-Authorization: Digest username=\"1001\",realm=\"pbx.example.com\","
    "nonce=\"6563a1b2c3d4e5f60718293a4b5c6d7e\",uri=\"sip:+14155550123@pbx.example.com;user=phone\","
    "response=\"4b1d2a1c9e8f7a6b5c4d3e2f1a0b9c8d\",algorithm=MD5,cnonce=\"0a4f113b\",qop=auth,nc=00000001\r\n"
    "Content-Length: 316\r\n"
    "\r\n"
    "v=0\r\n"
    "o=- 20062 20062 IN IP4 192.0.2.10\r\n"
    "s=SDP data\r\n"
    "c=IN IP4 192.0.2.10\r\n"
    "t=0 0\r\n"
    "m=audio 11780 RTP/AVP 0 8 18 9 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:18 G729/8000\r\n"
    "a=fmtp:18 annexb=no\r\n"
    "a=rtpmap:9 G722/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-15\r\n"
    "a=ptime:20\r\n"
    "a=sendrecv\r\n"
    "a=rtcp:11781\r\n";

static const char reg[] =
    "REGISTER sip:pbx.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK1833786617;rport\r\n"
    "From: \"1001\" <sip:1001@pbx.example.com>;tag=1508914237\r\n"
    "To: \"1001\" <sip:1001@pbx.example.com>\r\n"
    "Call-ID: 1372396458@192.0.2.10\r\n"
    "CSeq: 3 REGISTER\r\n"
    "Contact: <sip:1001@192.0.2.10:5060>;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-805ec0a1b2c3>\";reg-id=1\r\n"
    "Authorization: Digest username=\"1001\", realm=\"pbx.example.com\", "
    "nonce=\"ZWRnZS0xOjE3OTU3MTU1NTc6YWJjZGVmMDEyMzQ1Njc4OQ\", "
    "uri=\"sip:pbx.example.com\", response=\"9f2b1a6a7e0d4c3b2a1f0e9d8c7b6a59\", "
    "algorithm=MD5, cnonce=\"5ab1c2d3\", qop=auth, nc=00000001\r\n"
    "Max-Forwards: 70\r\n"
    "User-Agent: Yealink SIP-T46S 66.86.0.15\r\n"
    "Expires: 3600\r\n"
    "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, MESSAGE, SUBSCRIBE, INFO, UPDATE\r\n"
    "Supported: path, gruu\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

static const char ok200[] =
    "SIP/2.0 200 OK\r\n"
    "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-524287-1---7b0e1b2a5f1c;rport=5060;received=192.0.2.10\r\n"
    "Record-Route: <sip:203.0.113.5;lr;ftag=3d1f5a7b>\r\n"
    "Contact: <sip:+14155550123@198.51.100.20:5060>\r\n"
    "To: <sip:+14155550123@pbx.example.com;user=phone>;tag=as6d7f8a9b\r\n"
    "From: \"Alice Example\" <sip:1001@pbx.example.com>;tag=3d1f5a7b\r\n"
    "Call-ID: Zjc4ZDM2NTQ1YjA1MDRjNzE1ZjlkMmRhN2E4YTY1NmQ.\r\n"
    "CSeq: 2 INVITE\r\n"
    "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, SUBSCRIBE, NOTIFY, INFO, PUBLISH, MESSAGE\r\n"
    "Supported: replaces, timer\r\n"
    "Session-Expires: 1800;refresher=uac\r\n"
    "Require: timer\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 224\r\n"
    "\r\n"
    "v=0\r\n"
    "o=root 1785237 1785237 IN IP4 198.51.100.20\r\n"
    "s=Asterisk PBX\r\n"
    "c=IN IP4 198.51.100.20\r\n"
    "t=0 0\r\n"
    "m=audio 17346 RTP/AVP 0 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-16\r\n"
    "a=ptime:20\r\n"
    "a=sendrecv\r\n";

#define ROUNDS	7

static double
cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static struct sip_hdr hdrs[SIP_MAX_HDRS];
static volatile size_t sink;

static double
run_sipwall(const char *msg, size_t len, long iters)
{
	struct sip_msg m;
	struct sip_perr e;
	double t0 = cpu_now();

	for (long i = 0; i < iters; i++) {
		if (sip_msg_parse((const uint8_t *)msg, len, &sip_limits_default,
		    0, &m, hdrs, SIP_MAX_HDRS, &e) <= 0) {
			fprintf(stderr, "sipwall refused: %s\n", e.reason);
			exit(1);
		}
		sink += m.nhdrs;
	}
	return (double)iters / (cpu_now() - t0);
}

static double
run_osip(const char *msg, size_t len, long iters)
{
	double t0 = cpu_now();

	for (long i = 0; i < iters; i++) {
		osip_message_t *sip;

		if (osip_message_init(&sip) != 0 ||
		    osip_message_parse(sip, msg, len) != 0) {
			fprintf(stderr, "osip refused the message\n");
			exit(1);
		}
		sink += (size_t)osip_list_size(&sip->vias);
		osip_message_free(sip);
	}
	return (double)iters / (cpu_now() - t0);
}

static double
median(double *v)
{
	qsort(v, ROUNDS, sizeof(*v), cmp_double);
	return v[ROUNDS / 2];
}

int
main(int argc, char **argv)
{
	static const struct { const char *name, *msg; size_t len; } cases[] = {
		{ "INVITE+SDP", invite, sizeof(invite) - 1 },
		{ "REGISTER+auth", reg, sizeof(reg) - 1 },
		{ "200 OK+SDP", ok200, sizeof(ok200) - 1 },
	};
	long iters = argc > 1 ? atol(argv[1]) : 200000;
	double worst = 1e9;

	parser_init();
	printf("%-14s %6s %14s %14s %7s\n", "message", "bytes",
	    "sipwall msg/s", "libosip2 msg/s", "ratio");
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		double a[ROUNDS], b[ROUNDS], ma, mb;

		run_sipwall(cases[c].msg, cases[c].len, iters / 10);	/* warm */
		run_osip(cases[c].msg, cases[c].len, iters / 10);
		/* interleave rounds so drift hits both sides alike */
		for (int r = 0; r < ROUNDS; r++) {
			a[r] = run_sipwall(cases[c].msg, cases[c].len, iters);
			b[r] = run_osip(cases[c].msg, cases[c].len, iters / 4);
		}
		ma = median(a);
		mb = median(b);
		if (ma / mb < worst)
			worst = ma / mb;
		printf("%-14s %6zu %14.0f %14.0f %6.2fx\n", cases[c].name,
		    cases[c].len, ma, mb, ma / mb);
	}
	printf("lowest ratio: %.2fx (median of %d rounds each)\n", worst, ROUNDS);
	return 0;
}
