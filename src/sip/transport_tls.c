/*
 * TLS listener and its connections, one set per worker: the stream
 * layer (stream.c: framing, limits, timeouts, connections per source)
 * with a TLS session (tls.c) between it and the socket, plus the
 * connections we open to peers (tls_connect).  Sending, counting and
 * closing are transport_tcp.c's: a TLS listener is a tcp_listener.
 *
 * Owns the handshake's place in a connection's life: until it is done
 * nothing is framed and what the upper layer sends waits; a failure or
 * a timeout becomes a conn_event naming the reason, and the alert (if
 * OpenSSL wrote one) is flushed before the connection closes.
 */
#include <errno.h>
#include <stdio.h>

#include "sip/stream.h"
#include "sip/tls.h"

#define TLS_REASON_MAX	(TLS_ERR_MAX + 32)	/* "tls handshake failed: " + why */

static int
sess_out(void *arg, const uint8_t *buf, size_t len)
{
	return stream_write_raw(arg, buf, len);
}

static int
sec_open(struct stream_conn *c, void *arg, const char *name)
{
	struct tls_sess *s;
	int r;

	if ((r = tls_sess_new(arg, !c->outbound, name, sess_out, c, &s)) < 0)
		return r;
	c->sec = s;
	return 0;
}

static void
fail_event(struct stream_conn *c, const char *what, const char *why, int kind)
{
	char reason[TLS_REASON_MAX];

	snprintf(reason, sizeof(reason), "%s: %s", what, why);
	stream_event(c, reason, kind);
}

static void
sec_input(struct stream_conn *c, const uint8_t *buf, size_t len)
{
	struct tls_sess *s = c->sec;
	char why[TLS_ERR_MAX];
	uint8_t *p;
	size_t room;
	ssize_t n;
	int cert = 0, r;

	tls_sess_feed(s, buf, len);
	if (!c->ready) {
		if ((r = tls_sess_handshake(s, why, sizeof(why), &cert)) < 0) {
			fail_event(c, "tls handshake failed", why, cert ?
			    SIP_CONN_EV_TLS_CERT : SIP_CONN_EV_TLS_FAILED);
			stream_close_flush(c);	/* the alert goes out first */
			return;
		}
		if (r == 0)
			return;
		stream_set_ready(c);
	}
	/* Bounded: every round either commits plaintext taken out of the
	 * fed input (finite) or returns. */
	while (!c->closing && !c->draining) {
		if (stream_rx_room(c, &p, &room) < 0)
			return;
		n = tls_sess_read(s, p, room, why, sizeof(why));
		if (n == 0)
			return;
		if (n == -EPIPE) {		/* close_notify: answer it, close */
			stream_close_flush(c);
			return;
		}
		if (n < 0) {
			fail_event(c, "tls error", why, SIP_CONN_EV_ERROR);
			stream_close(c);
			return;
		}
		stream_rx_commit(c, (size_t)n);
	}
}

static int
sec_output(struct stream_conn *c, const uint8_t *buf, size_t len)
{
	return tls_sess_write(c->sec, buf, len);
}

static void
sec_unready(struct stream_conn *c, enum stream_unready why)
{
	stream_event(c, why == STREAM_UNREADY_TIMEOUT ?
	    "tls handshake timeout" :
	    "tls handshake failed: connection closed by the peer",
	    SIP_CONN_EV_TLS_FAILED);
}

static void
sec_shutdown(struct stream_conn *c)
{
	tls_sess_shutdown(c->sec);
}

static void
sec_release(struct stream_conn *c)
{
	tls_sess_free(c->sec);
	c->sec = NULL;
}

static const struct stream_sec tls_sec = {
	.open = sec_open,
	.input = sec_input,
	.output = sec_output,
	.unready = sec_unready,
	.shutdown = sec_shutdown,
	.release = sec_release,
};

int
tls_listener_open(uv_loop_t *loop, const union sw_addr *addr, uint8_t lsn,
    uint8_t worker, const struct tcp_opts *opts, struct tls_ctx *ctx,
    struct connlimit *cl, const struct sip_rx_ops *ops, void *ctx_arg,
    struct tcp_listener **ret)
{
	if (ctx == NULL)
		return -EINVAL;
	return stream_listener_open(loop, addr, lsn, worker, SIP_TP_TLS, opts,
	    cl, ops, ctx_arg, &tls_sec, ctx, ret);
}

int
tls_connect(struct tcp_listener *l, struct tls_ctx *client_ctx,
    const union sw_addr *to, const char *name, uint32_t *ret_conn_id)
{
	if (l->s.sec != &tls_sec || client_ctx == NULL || name == NULL ||
	    name[0] == '\0')
		return -EINVAL;
	return stream_connect(&l->s, to, client_ctx, name, ret_conn_id);
}
