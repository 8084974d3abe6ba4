/*
 * Unit tests for src/media/portpool.c and src/media/relay.c: the pool's
 * round robin and exhaustion, and the relay in this process on
 * loopback (127.0.0.1 and 127.0.0.2 as two zones) with real sockets:
 * forwarding both ways from the right socket, latching to the first
 * plausible source, foreign and strict-source drops, SRTP on one side
 * (decrypt in, encrypt out, tampering refused), RTCP on its own port,
 * hold, statistics, and the ports coming back after a release.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "media/portpool.h"
#include "media/relay.h"
#include "media/srtp_ctx.h"

#define PMIN	17000
#define PMAX	17099

/* ---- portpool ---- */

static void
test_pool(void **state)
{
	struct portpool *p;
	uint16_t got[5], x;

	(void)state;
	assert_int_equal(portpool_new(100, 100, &p), -EINVAL);
	assert_int_equal(portpool_new(101, 110, &p), 0);
	assert_int_equal(portpool_size(p), 4);		/* 102 104 106 108 */
	for (int i = 0; i < 4; i++)
		assert_int_equal(portpool_get(p, &got[i]), 0);
	assert_int_equal(got[0], 102);
	assert_int_equal(got[3], 108);
	assert_int_equal(portpool_get(p, &x), -ENOSPC);
	assert_int_equal(portpool_in_use(p), 4);
	portpool_put(p, 104);
	portpool_put(p, 104);		/* twice: ignored */
	portpool_put(p, 105);		/* odd: ignored */
	portpool_put(p, 200);		/* outside: ignored */
	assert_int_equal(portpool_in_use(p), 3);
	assert_int_equal(portpool_get(p, &x), 0);
	assert_int_equal(x, 104);
	/* round robin: a pair put back is handed out last */
	portpool_put(p, 102);
	portpool_put(p, 106);
	assert_int_equal(portpool_get(p, &x), 0);
	assert_int_equal(x, 106);
	assert_int_equal(portpool_get(p, &x), 0);
	assert_int_equal(x, 102);
	portpool_free(p);
}

/* ---- relay ---- */

struct fix {
	struct relay	*r;
	struct msess	*s;
	int		 a, b;		/* endpoints: a on .1, b on .2 */
	union sw_addr	 aa, ba;
	uint16_t	 pa, pb;	/* our ports facing a and b */
};

static int
udp_on(const char *ip, union sw_addr *ret)
{
	socklen_t l = sizeof(*ret);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(sw_addr_parse(ip, 0, ret), 0);
	assert_int_equal(bind(fd, &ret->sa, sw_addr_len(ret)), 0);
	assert_int_equal(getsockname(fd, &ret->sa, &l), 0);
	return fd;
}

static void
send_to(int fd, const char *ip, uint16_t port, const void *p, size_t n)
{
	union sw_addr d;

	assert_int_equal(sw_addr_parse(ip, port, &d), 0);
	assert_int_equal(sendto(fd, p, n, 0, &d.sa, sw_addr_len(&d)),
	    (ssize_t)n);
}

/* One datagram within ms, or -1. */
static ssize_t
recv_within(int fd, void *p, size_t cap, int ms, union sw_addr *from)
{
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	socklen_t l = sizeof(*from);

	if (poll(&pf, 1, ms) <= 0)
		return -1;
	return recvfrom(fd, p, cap, 0, &from->sa, &l);
}

static size_t
rtp(uint8_t *p, uint16_t seq, uint32_t ts, uint8_t fill)
{
	p[0] = 0x80;
	p[1] = 0;		/* PCMU */
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	p[4] = (uint8_t)(ts >> 24);
	p[5] = (uint8_t)(ts >> 16);
	p[6] = (uint8_t)(ts >> 8);
	p[7] = (uint8_t)ts;
	p[8] = 0x12;
	p[9] = 0x34;
	p[10] = 0x56;
	p[11] = 0x78;
	memset(p + 12, fill, 160);
	return 172;
}

static int
setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	struct relay_conf rc;
	struct relay_peer pa, pb;

	memset(&rc, 0, sizeof(rc));
	rc.workers = 2;
	rc.port_min = PMIN;
	rc.port_max = PMAX;
	rc.strict = true;
	rc.naddrs = 2;
	sw_addr_parse("127.0.0.1", 0, &rc.addrs[0]);
	sw_addr_parse("127.0.0.2", 0, &rc.addrs[1]);
	assert_int_equal(relay_new(&rc, &f->r), 0);
	assert_int_equal(relay_start(f->r), 0);
	f->s = relay_sess_new(f->r);
	assert_non_null(f->s);
	assert_int_equal(relay_stream_open(f->s, 0, 0, &rc.addrs[0], &f->pa), 0);
	assert_int_equal(relay_stream_open(f->s, 0, 1, &rc.addrs[1], &f->pb), 0);
	assert_true(f->pa >= PMIN && f->pa < PMAX && f->pa % 2 == 0);
	f->a = udp_on("127.0.0.1", &f->aa);
	f->b = udp_on("127.0.0.2", &f->ba);
	memset(&pa, 0, sizeof(pa));
	memset(&pb, 0, sizeof(pb));
	pa.rtp = f->aa;
	pa.rtcp = f->aa;
	sw_addr_set_port(&pa.rtcp, (uint16_t)(sw_addr_port(&f->aa) + 1));
	pb.rtp = f->ba;
	pb.rtcp = f->ba;
	sw_addr_set_port(&pb.rtcp, (uint16_t)(sw_addr_port(&f->ba) + 1));
	assert_int_equal(relay_stream_peer(f->s, 0, 0, &pa), 0);
	assert_int_equal(relay_stream_peer(f->s, 0, 1, &pb), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fix *f = *state;

	relay_sess_release(f->s);
	relay_stop(f->r);
	relay_free(f->r);
	close(f->a);
	close(f->b);
	free(f);
	return 0;
}

static void
test_forward_both_ways(void **state)
{
	struct fix *f = *state;
	uint8_t p[2048], q[2048];
	union sw_addr from;
	struct relay_side_stats st;
	ssize_t n;

	for (uint16_t i = 0; i < 20; i++) {
		size_t len = rtp(p, (uint16_t)(100 + i), 160u * i, (uint8_t)i);

		send_to(f->a, "127.0.0.1", f->pa, p, len);
		n = recv_within(f->b, q, sizeof(q), 1000, &from);
		assert_int_equal(n, (ssize_t)len);
		assert_memory_equal(p, q, len);
		/* symmetric: from our b-side port on b's zone address */
		assert_int_equal(sw_addr_port(&from), f->pb);
	}
	rtp(p, 7, 0, 0xee);
	send_to(f->b, "127.0.0.2", f->pb, p, 172);
	n = recv_within(f->a, q, sizeof(q), 1000, &from);
	assert_int_equal(n, 172);
	assert_int_equal(sw_addr_port(&from), f->pa);
	assert_int_equal(relay_stream_stats(f->s, 0, 0, &st), 0);
	assert_int_equal(st.packets, 20);
	assert_int_equal(st.bytes, 20 * 172);
	assert_int_equal(st.lost, 0);
	assert_true(st.open);
	assert_false(st.srtp);
	assert_true(sw_addr_eq(&st.latched, &f->aa));
	assert_true(st.last_rx_ms > 0);
}

static void
test_foreign_and_strict(void **state)
{
	struct fix *f = *state;
	uint8_t p[2048], q[2048];
	union sw_addr from, xa, a2a;
	struct relay_side_stats st;
	int x = udp_on("127.0.0.3", &xa), a2 = udp_on("127.0.0.1", &a2a);

	/* before latching: another address may not speak */
	rtp(p, 1, 0, 0x66);
	send_to(x, "127.0.0.1", f->pa, p, 172);
	assert_int_equal(recv_within(f->b, q, sizeof(q), 200, &from), -1);
	/* the endpoint latches; then its own address on another port is
	 * foreign too (strict) */
	send_to(f->a, "127.0.0.1", f->pa, p, 172);
	assert_int_equal(recv_within(f->b, q, sizeof(q), 1000, &from), 172);
	for (int i = 0; i < 10; i++) {
		rtp(p, (uint16_t)(2 + i), 0, 0x99);
		send_to(a2, "127.0.0.1", f->pa, p, 172);
		send_to(x, "127.0.0.1", f->pa, p, 172);
	}
	assert_int_equal(recv_within(f->b, q, sizeof(q), 300, &from), -1);
	assert_int_equal(relay_stream_stats(f->s, 0, 0, &st), 0);
	assert_int_equal(st.packets, 1);
	assert_int_equal(st.foreign, 21);
	assert_true(sw_addr_eq_ip(&st.last_foreign, &xa) ||
	    sw_addr_eq(&st.last_foreign, &a2a));
	/* and sending to b still works: b's side is unaffected */
	rtp(p, 50, 0, 0x42);
	send_to(f->b, "127.0.0.2", f->pb, p, 172);
	assert_int_equal(recv_within(f->a, q, sizeof(q), 1000, &from), 172);
	close(x);
	close(a2);
}

static void
test_srtp_side(void **state)
{
	struct fix *f = *state;
	uint8_t ka[30], kb[30], p[2048], q[2048], orig[2048];
	struct srtp_ctx *a_out, *a_in, *rx, *tx;
	union sw_addr from;
	struct relay_side_stats st;
	size_t kl, len;
	ssize_t n;

	/* side a is SRTP: a protects with ka, we protect towards a with kb */
	assert_int_equal(srtp_key_gen(SDP_SUITE_AES_CM_128_HMAC_SHA1_80, ka,
	    sizeof(ka), &kl), 0);
	assert_int_equal(srtp_key_gen(SDP_SUITE_AES_CM_128_HMAC_SHA1_80, kb,
	    sizeof(kb), &kl), 0);
	assert_int_equal(srtp_ctx_new(SDP_SUITE_AES_CM_128_HMAC_SHA1_80, ka,
	    30, SRTP_CTX_IN, &rx), 0);
	assert_int_equal(srtp_ctx_new(SDP_SUITE_AES_CM_128_HMAC_SHA1_80, kb,
	    30, SRTP_CTX_OUT, &tx), 0);
	assert_int_equal(relay_stream_srtp(f->s, 0, 0, rx, false, tx, false),
	    0);
	assert_int_equal(srtp_ctx_new(SDP_SUITE_AES_CM_128_HMAC_SHA1_80, ka,
	    30, SRTP_CTX_OUT, &a_out), 0);
	assert_int_equal(srtp_ctx_new(SDP_SUITE_AES_CM_128_HMAC_SHA1_80, kb,
	    30, SRTP_CTX_IN, &a_in), 0);

	for (uint16_t i = 0; i < 10; i++) {
		len = rtp(orig, (uint16_t)(1000 + i), 160u * i, 0x55);
		memcpy(p, orig, len);
		assert_int_equal(srtp_ctx_rtp(a_out, p, &len, sizeof(p)), 0);
		assert_int_equal(len, 182);
		send_to(f->a, "127.0.0.1", f->pa, p, len);
		n = recv_within(f->b, q, sizeof(q), 1000, &from);
		assert_int_equal(n, 172);		/* b gets plain RTP */
		assert_memory_equal(q, orig, 172);
	}
	/* a tampered packet and a replayed one are dropped */
	len = rtp(orig, 2000, 0, 0x55);
	memcpy(p, orig, len);
	assert_int_equal(srtp_ctx_rtp(a_out, p, &len, sizeof(p)), 0);
	p[40] ^= 1;
	send_to(f->a, "127.0.0.1", f->pa, p, len);
	p[40] ^= 1;
	send_to(f->a, "127.0.0.1", f->pa, p, len);	/* the good one */
	assert_int_equal(recv_within(f->b, q, sizeof(q), 1000, &from), 172);
	send_to(f->a, "127.0.0.1", f->pa, p, len);	/* replayed */
	assert_int_equal(recv_within(f->b, q, sizeof(q), 300, &from), -1);

	/* b's plain RTP reaches a encrypted with kb */
	len = rtp(orig, 5, 0, 0x77);
	send_to(f->b, "127.0.0.2", f->pb, orig, len);
	n = recv_within(f->a, q, sizeof(q), 1000, &from);
	assert_int_equal(n, 182);
	assert_memory_not_equal(q + 12, orig + 12, 160);
	len = (size_t)n;
	assert_int_equal(srtp_ctx_rtp(a_in, q, &len, sizeof(q)), 0);
	assert_int_equal(len, 172);
	assert_memory_equal(q, orig, 172);

	assert_int_equal(relay_stream_stats(f->s, 0, 0, &st), 0);
	assert_true(st.srtp);
	assert_int_equal(st.auth_failed, 1);
	assert_int_equal(st.replayed, 1);
	assert_int_equal(st.packets, 11);
	srtp_ctx_free(a_out);
	srtp_ctx_free(a_in);
}

static void
test_rtcp_hold_loss(void **state)
{
	struct fix *f = *state;
	uint8_t p[2048], q[2048];
	union sw_addr from, rc;
	struct relay_side_stats st;
	struct relay_peer pb;
	int b_rtcp;
	static const uint8_t sr[28] = { 0x80, 200, 0, 6 };

	/* RTCP to our RTCP port goes to b's RTCP port */
	memset(&rc, 0, sizeof(rc));
	sw_addr_parse("127.0.0.2", (uint16_t)(sw_addr_port(&f->ba) + 1), &rc);
	b_rtcp = socket(AF_INET, SOCK_DGRAM, 0);
	if (bind(b_rtcp, &rc.sa, sw_addr_len(&rc)) == 0) {
		send_to(f->a, "127.0.0.1", (uint16_t)(f->pa + 1), sr, sizeof(sr));
		assert_int_equal(recv_within(b_rtcp, q, sizeof(q), 1000,
		    &from), (ssize_t)sizeof(sr));
		assert_int_equal(sw_addr_port(&from), f->pb + 1);
	}
	close(b_rtcp);

	/* 100 packets with every 10th missing: 10 lost */
	for (uint16_t i = 0; i < 100; i++) {
		if (i % 10 == 5)
			continue;
		rtp(p, (uint16_t)(60000 + i), 160u * i, 1);
		send_to(f->a, "127.0.0.1", f->pa, p, 172);
		assert_int_equal(recv_within(f->b, q, sizeof(q), 1000, &from),
		    172);
	}
	assert_int_equal(relay_stream_stats(f->s, 0, 0, &st), 0);
	assert_int_equal(st.lost, 10);
	assert_int_equal(st.rtcp, 1);

	/* b on hold: nothing goes to b */
	memset(&pb, 0, sizeof(pb));
	pb.rtp = f->ba;
	pb.hold = true;
	assert_int_equal(relay_stream_peer(f->s, 0, 1, &pb), 0);
	rtp(p, 60200, 0, 1);
	send_to(f->a, "127.0.0.1", f->pa, p, 172);
	assert_int_equal(recv_within(f->b, q, sizeof(q), 300, &from), -1);
}

static void
test_ports_come_back(void **state)
{
	struct relay_conf rc;
	struct relay_counts cn;
	struct relay *r;
	uint16_t port;
	int ok = 0;

	(void)state;
	memset(&rc, 0, sizeof(rc));
	rc.workers = 1;
	rc.port_min = PMIN + 200;
	rc.port_max = PMIN + 207;		/* 4 pairs */
	rc.naddrs = 1;
	sw_addr_parse("127.0.0.1", 0, &rc.addrs[0]);
	assert_int_equal(relay_new(&rc, &r), 0);
	assert_int_equal(relay_start(r), 0);
	for (int round = 0; round < 50; round++) {
		struct msess *s[2];

		for (int k = 0; k < 2; k++) {
			s[k] = relay_sess_new(r);
			assert_non_null(s[k]);
			assert_int_equal(relay_stream_open(s[k], 0, 0,
			    &rc.addrs[0], &port), 0);
			assert_int_equal(relay_stream_open(s[k], 0, 1,
			    &rc.addrs[0], &port), 0);
		}
		{
			struct msess *x = relay_sess_new(r);

			assert_int_equal(relay_stream_open(x, 0, 0,
			    &rc.addrs[0], &port), -ENOSPC);
			relay_sess_release(x);
		}
		relay_sess_release(s[0]);
		relay_sess_release(s[1]);
		/* the worker reaps them after its batch */
		for (int t = 0; t < 100; t++) {
			relay_counts(r, &cn);
			if (cn.pairs_in_use == 0 && cn.sessions == 0)
				break;
			usleep(10000);
		}
		assert_int_equal(cn.pairs_in_use, 0);
		ok++;
	}
	assert_int_equal(ok, 50);
	relay_stop(r);
	relay_free(r);
}

static void
test_ipv6(void **state)
{
	struct relay_conf rc;
	struct relay_peer pa, pb;
	struct relay *r;
	struct msess *s;
	union sw_addr aa, ba, from;
	socklen_t l;
	uint16_t p0, p1;
	uint8_t p[2048], q[2048];
	int a, b;

	(void)state;
	memset(&rc, 0, sizeof(rc));
	rc.workers = 1;
	rc.port_min = PMIN + 300;
	rc.port_max = PMIN + 399;
	rc.strict = true;
	rc.naddrs = 1;
	assert_int_equal(sw_addr_parse("::1", 0, &rc.addrs[0]), 0);
	assert_int_equal(relay_new(&rc, &r), 0);
	assert_int_equal(relay_start(r), 0);
	s = relay_sess_new(r);
	assert_int_equal(relay_stream_open(s, 0, 0, &rc.addrs[0], &p0), 0);
	assert_int_equal(relay_stream_open(s, 0, 1, &rc.addrs[0], &p1), 0);
	assert_int_not_equal(p0, p1);
	/* an address the relay does not serve is refused */
	assert_int_equal(sw_addr_parse("127.0.0.1", 0, &aa), 0);
	assert_int_equal(relay_stream_open(s, 1, 0, &aa, &p0), -EINVAL);
	a = socket(AF_INET6, SOCK_DGRAM, 0);
	b = socket(AF_INET6, SOCK_DGRAM, 0);
	assert_int_equal(sw_addr_parse("::1", 0, &aa), 0);
	ba = aa;
	assert_int_equal(bind(a, &aa.sa, sw_addr_len(&aa)), 0);
	assert_int_equal(bind(b, &ba.sa, sw_addr_len(&ba)), 0);
	l = sizeof(aa);
	getsockname(a, &aa.sa, &l);
	l = sizeof(ba);
	getsockname(b, &ba.sa, &l);
	memset(&pa, 0, sizeof(pa));
	memset(&pb, 0, sizeof(pb));
	pa.rtp = pa.rtcp = aa;
	pb.rtp = pb.rtcp = ba;
	assert_int_equal(relay_stream_peer(s, 0, 0, &pa), 0);
	assert_int_equal(relay_stream_peer(s, 0, 1, &pb), 0);
	rtp(p, 1, 0, 0x31);
	send_to(a, "::1", p0, p, 172);
	assert_int_equal(recv_within(b, q, sizeof(q), 1000, &from), 172);
	assert_memory_equal(p, q, 172);
	assert_int_equal(sw_addr_port(&from), p1);
	close(a);
	close(b);
	relay_sess_release(s);
	relay_stop(r);
	relay_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pool),
		cmocka_unit_test_setup_teardown(test_forward_both_ways, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_foreign_and_strict, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_srtp_side, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rtcp_hold_loss, setup,
		    teardown),
		cmocka_unit_test(test_ports_come_back),
		cmocka_unit_test(test_ipv6),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
