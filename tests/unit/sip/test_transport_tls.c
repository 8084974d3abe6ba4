/*
 * Unit tests for src/sip/transport_tls.c and the stream layer under it
 * (stream.c), on a real libuv loop over loopback sockets: connections
 * we open (tls_connect, tcp_connect) with data queued before they are
 * up, answers over the accepted side, and the events a failed or
 * stalled handshake, a wrong peer name, plaintext on the TLS port and a
 * refused connect give.  Everything runs in this thread; every wait is
 * bounded by WAIT_MS.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "sip/tls.h"
#include "sip/transport.h"
#include "tls_certs.h"

#define WAIT_MS		5000
#define MAX_GOT		8

static struct certs C;

static const char REQ[] =
    "OPTIONS sip:127.0.0.1 SIP/2.0\r\n"
    "Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bK1\r\n"
    "Content-Length: 0\r\n\r\n";
static const char RESP[] =
    "SIP/2.0 200 OK\r\n"
    "Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bK1\r\n"
    "Content-Length: 0\r\n\r\n";

struct rig {
	uv_loop_t		 loop;
	uv_timer_t		 tick;
	struct connlimit	*cl;
	struct tls_ctx		*sc, *cc;
	union sw_addr		 addr;
	struct tcp_opts		 o;
	struct sip_limits	 lim;
	size_t			 nmsg;
	struct sip_dest		 msg_src[MAX_GOT];
	char			 msg[MAX_GOT][512];
	size_t			 nev;
	struct sip_dest		 ev_src[MAX_GOT];
	char			 ev[MAX_GOT][256];
	int			 ev_kind[MAX_GOT];
};

static void
on_message(void *ctx, const struct sip_dest *src, const uint8_t *buf,
    size_t len)
{
	struct rig *r = ctx;

	if (r->nmsg < MAX_GOT) {
		r->msg_src[r->nmsg] = *src;
		snprintf(r->msg[r->nmsg], sizeof(r->msg[0]), "%.*s", (int)len,
		    (const char *)buf);
	}
	r->nmsg++;
}

static void
on_stream_error(void *ctx, const struct sip_dest *src, const uint8_t *buf,
    size_t len, const struct sip_perr *e)
{
	(void)ctx;
	(void)src;
	(void)buf;
	(void)len;
	fail_msg("framing error %u %s", e->status, e->reason);
}

static void
on_conn_event(void *ctx, const struct sip_dest *src, const char *reason,
    int kind)
{
	struct rig *r = ctx;

	if (r->nev < MAX_GOT) {
		r->ev_src[r->nev] = *src;
		r->ev_kind[r->nev] = kind;
		snprintf(r->ev[r->nev], sizeof(r->ev[0]), "%s", reason);
	}
	r->nev++;
}

static const struct sip_rx_ops ops = {
	.message = on_message,
	.stream_error = on_stream_error,
	.conn_event = on_conn_event,
};

static void
on_tick(uv_timer_t *t)
{
	(void)t;	/* only makes uv_run(ONCE) return */
}

/* Run the loop until *count >= want or WAIT_MS passed. */
static void
run_until(struct rig *r, const size_t *count, size_t want)
{
	uint64_t end = uv_hrtime() / 1000000 + WAIT_MS;

	uv_timer_start(&r->tick, on_tick, 5, 5);
	while (*count < want && uv_hrtime() / 1000000 < end)
		uv_run(&r->loop, UV_RUN_ONCE);
	uv_timer_stop(&r->tick);
}

/* Let pending closes finish. */
static void
drain(struct rig *r)
{
	uv_timer_start(&r->tick, on_tick, 5, 5);
	for (int i = 0; i < 20; i++)
		uv_run(&r->loop, UV_RUN_ONCE);
	uv_timer_stop(&r->tick);
}

/* A loopback port nothing listens on right now. */
static uint16_t
free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static int
setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));
	struct tls_opts so = { .cert = C.srv_cert, .key = C.srv_key };
	struct tls_opts co = { .ca = C.ca };
	struct tls_err e;

	if (r == NULL || uv_loop_init(&r->loop) < 0 ||
	    connlimit_new(32, 4096, &r->cl) < 0 ||
	    tls_ctx_new(&so, 1, &r->sc, &e) < 0 ||
	    tls_ctx_new(&co, 0, &r->cc, &e) < 0)
		return -1;
	uv_timer_init(&r->loop, &r->tick);
	sw_addr_parse("127.0.0.1", free_port(), &r->addr);
	r->lim = sip_limits_default;
	r->o.max_msg = 65536;
	r->o.idle_timeout_ms = 60000;
	r->o.message_timeout_ms = 10000;
	r->o.max_connections = 100;
	r->o.max_outq = 4 * 65536;
	r->o.ready_timeout_ms = 300;
	r->o.lim = &r->lim;
	*state = r;
	return 0;
}

/* After a failed assertion a listener or connection may still be open:
 * close whatever is, so that the loop ends and the failure is reported
 * instead of the test hanging until meson's timeout. */
static void
close_any(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static int
teardown(void **state)
{
	struct rig *r = *state;

	uv_close((uv_handle_t *)&r->tick, NULL);
	uv_run(&r->loop, UV_RUN_NOWAIT);
	uv_walk(&r->loop, close_any, NULL);
	uv_run(&r->loop, UV_RUN_DEFAULT);
	uv_loop_close(&r->loop);
	tls_ctx_free(r->sc);
	tls_ctx_free(r->cc);
	connlimit_free(r->cl);
	free(r);
	return 0;
}

static struct tcp_listener *
listen_tls(struct rig *r)
{
	struct tcp_listener *l = NULL;

	assert_int_equal(tls_listener_open(&r->loop, &r->addr, 3, 1, &r->o,
	    r->sc, r->cl, &ops, r, &l), 0);
	return l;
}

static void
tls_connect_queues_until_the_handshake(void **state)
{
	struct rig *r = *state;
	struct tcp_listener *l = listen_tls(r);
	uint32_t id = 0;

	assert_int_equal(tls_connect(l, r->cc, &r->addr, "127.0.0.1", &id), 0);
	assert_int_equal(id >> 24, 1);		/* the worker's index */
	/* sent before the TCP connect, let alone the handshake, is done */
	assert_int_equal(tcp_send(l, id, (const uint8_t *)REQ,
	    sizeof(REQ) - 1), 0);
	run_until(r, &r->nmsg, 1);
	assert_int_equal(r->nmsg, 1);
	assert_string_equal(r->msg[0], REQ);
	assert_int_equal(r->msg_src[0].transport, SIP_TP_TLS);
	assert_int_equal(r->msg_src[0].lsn, 3);
	assert_int_not_equal(r->msg_src[0].conn_id, id);
	assert_int_equal(tcp_listener_conns(l), 2);
	/* the answer goes back over the accepted connection */
	assert_int_equal(tcp_send(l, r->msg_src[0].conn_id,
	    (const uint8_t *)RESP, sizeof(RESP) - 1), 0);
	run_until(r, &r->nmsg, 2);
	assert_int_equal(r->nmsg, 2);
	assert_string_equal(r->msg[1], RESP);
	assert_int_equal(r->msg_src[1].conn_id, id);
	assert_int_equal(r->nev, 0);
	tcp_listener_close(l);
	drain(r);
}

static void
tls_connect_checks_the_name(void **state)
{
	struct rig *r = *state;
	struct tcp_listener *l = listen_tls(r);
	uint32_t id = 0;
	size_t i, mine = MAX_GOT;

	assert_int_equal(tls_connect(l, r->cc, &r->addr, "wrong.test", &id),
	    0);
	assert_int_equal(tcp_send(l, id, (const uint8_t *)REQ,
	    sizeof(REQ) - 1), 0);
	run_until(r, &r->nev, 2);	/* ours, and the server's */
	assert_int_equal(r->nmsg, 0);	/* nothing went out */
	for (i = 0; i < r->nev && i < MAX_GOT; i++)
		if (r->ev_src[i].conn_id == id)
			mine = i;
	assert_true(mine < MAX_GOT);
	assert_int_equal(r->ev_kind[mine], SIP_CONN_EV_TLS_CERT);
	assert_string_equal(r->ev[mine], "tls handshake failed: certificate "
	    "verify failed (hostname mismatch)");
	assert_int_equal(tcp_send(l, id, (const uint8_t *)REQ,
	    sizeof(REQ) - 1), -ENOTCONN);
	assert_int_equal(tls_connect(l, r->cc, &r->addr, NULL, &id), -EINVAL);
	assert_int_equal(tcp_connect(l, &r->addr, &id), -EINVAL);
	tcp_listener_close(l);
	drain(r);
}

/* A plain socket to the listener; data (may be NULL) sent at once. */
static int
raw_connect(const struct rig *r, const char *data)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct timeval tv = { .tv_sec = 2 };

	assert_true(fd >= 0);
	assert_int_equal(connect(fd, &r->addr.sa, sizeof(r->addr.sin)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (data != NULL)
		assert_int_equal(send(fd, data, strlen(data), 0),
		    (ssize_t)strlen(data));
	return fd;
}

/* Read until the peer closes; what came, or -1 if it stayed open. */
static ssize_t
read_to_close(int fd, uint8_t *buf, size_t cap)
{
	size_t got = 0;

	for (int i = 0; i < 16; i++) {
		ssize_t n = recv(fd, buf + got, cap - got, 0);

		if (n == 0)
			return (ssize_t)got;
		if (n < 0)
			return errno == ECONNRESET ? (ssize_t)got : -1;
		got += (size_t)n;
	}
	return -1;
}

static void
stalled_handshake_times_out(void **state)
{
	struct rig *r = *state;
	struct tcp_listener *l = listen_tls(r);
	uint64_t t0 = uv_hrtime();
	uint8_t buf[256];
	int fd = raw_connect(r, NULL);

	run_until(r, &r->nev, 1);
	assert_int_equal(r->nev, 1);
	assert_int_equal(r->ev_kind[0], SIP_CONN_EV_TLS_FAILED);
	assert_string_equal(r->ev[0], "tls handshake timeout");
	/* uv_now() is the coarse monotonic clock (a few ms behind
	 * uv_hrtime()), so the timer may fire that much "early" */
	assert_true((uv_hrtime() - t0) / 1000000 + 10 >= r->o.ready_timeout_ms);
	drain(r);
	assert_int_equal(read_to_close(fd, buf, sizeof(buf)), 0);
	close(fd);
	tcp_listener_close(l);
	drain(r);
}

static void
plaintext_on_the_tls_port(void **state)
{
	struct rig *r = *state;
	struct tcp_listener *l = listen_tls(r);
	uint8_t buf[256];
	ssize_t n;
	int fd = raw_connect(r, REQ);

	run_until(r, &r->nev, 1);
	assert_int_equal(r->nev, 1);
	assert_int_equal(r->ev_kind[0], SIP_CONN_EV_TLS_FAILED);
	assert_string_equal(r->ev[0], "tls handshake failed: wrong version "
	    "number");
	assert_int_equal(r->nmsg, 0);
	drain(r);
	/* an alert record at most (content type 21), never SIP */
	n = read_to_close(fd, buf, sizeof(buf));
	assert_true(n >= 0);
	assert_true(n == 0 || buf[0] == 21);
	close(fd);

	/* and a peer that hangs up mid-handshake is reported too */
	fd = raw_connect(r, "\x16\x03\x01");
	close(fd);
	run_until(r, &r->nev, 2);
	assert_int_equal(r->nev, 2);
	assert_string_equal(r->ev[1], "tls handshake failed: connection "
	    "closed by the peer");
	tcp_listener_close(l);
	drain(r);
}

static void
tcp_connect_both_ways_and_refused(void **state)
{
	struct rig *r = *state;
	struct tcp_listener *l = NULL;
	union sw_addr nobody;
	uint32_t id = 0, id2 = 0;

	assert_int_equal(tcp_listener_open(&r->loop, &r->addr, 2, 0, &r->o,
	    r->cl, &ops, r, &l), 0);
	assert_int_equal(tls_connect(l, r->cc, &r->addr, "127.0.0.1", &id),
	    -EINVAL);
	assert_int_equal(tcp_connect(l, &r->addr, &id), 0);
	assert_int_equal(tcp_send(l, id, (const uint8_t *)REQ,
	    sizeof(REQ) - 1), 0);
	run_until(r, &r->nmsg, 1);
	assert_int_equal(r->nmsg, 1);
	assert_string_equal(r->msg[0], REQ);
	assert_int_equal(r->msg_src[0].transport, SIP_TP_TCP);
	assert_int_equal(tcp_send(l, r->msg_src[0].conn_id,
	    (const uint8_t *)RESP, sizeof(RESP) - 1), 0);
	run_until(r, &r->nmsg, 2);
	assert_int_equal(r->nmsg, 2);
	assert_int_equal(r->msg_src[1].conn_id, id);

	sw_addr_parse("127.0.0.1", free_port(), &nobody);
	assert_int_equal(tcp_connect(l, &nobody, &id2), 0);
	run_until(r, &r->nev, 1);
	assert_int_equal(r->nev, 1);
	assert_int_equal(r->ev_kind[0], SIP_CONN_EV_ERROR);
	assert_int_equal(r->ev_src[0].conn_id, id2);
	assert_string_equal(r->ev[0], "connect failed: connection refused");
	tcp_listener_close(l);
	drain(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    tls_connect_queues_until_the_handshake, setup, teardown),
		cmocka_unit_test_setup_teardown(tls_connect_checks_the_name,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(stalled_handshake_times_out,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(plaintext_on_the_tls_port,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    tcp_connect_both_ways_and_refused, setup, teardown),
	};
	int r;

	if (certs_make_all(&C) < 0)
		return 1;
	r = cmocka_run_group_tests(tests, NULL, NULL);
	certs_remove(&C);
	return r;
}
