/*
 * TCP listener and its connections, one set per worker: the stream
 * layer (stream.c: framing, limits, timeouts, connections per source,
 * RFC 5626 keep-alive pongs).  A TLS listener (transport_tls.c) is the
 * same listener with TLS in between, so sending, counting and closing
 * here serve both.
 */
#include <errno.h>

#include "sip/stream.h"

int
tcp_listener_open(uv_loop_t *loop, const union sw_addr *addr, uint8_t lsn,
    uint8_t worker, const struct tcp_opts *opts, struct connlimit *cl,
    const struct sip_rx_ops *ops, void *ctx, struct tcp_listener **ret)
{
	return stream_listener_open(loop, addr, lsn, worker, SIP_TP_TCP, opts,
	    cl, ops, ctx, NULL, NULL, ret);
}

void
tcp_listener_close(struct tcp_listener *l)
{
	if (l != NULL)
		stream_listener_close(&l->s);
}

int
tcp_send(struct tcp_listener *l, uint32_t conn_id, const uint8_t *buf,
    size_t len)
{
	return stream_send(&l->s, conn_id, buf, len);
}

int
tcp_conn_alive(struct tcp_listener *l, uint32_t conn_id)
{
	return stream_conn_alive(&l->s, conn_id);
}

size_t
tcp_listener_conns(const struct tcp_listener *l)
{
	return l->s.nconns;
}

int
tcp_connect(struct tcp_listener *l, const union sw_addr *to,
    uint32_t *ret_conn_id)
{
	if (l->s.sec != NULL)
		return -EINVAL;		/* a TLS listener: tls_connect() */
	return stream_connect(&l->s, to, NULL, NULL, ret_conn_id);
}
