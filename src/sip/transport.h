/*
 * UDP and TCP transports on libuv.  A transport moves bytes and frames
 * stream messages; it never interprets SIP beyond framing.  Each worker
 * owns its own sockets (SO_REUSEPORT), so nothing here is shared
 * between threads except the per-source connection counter (connlimit).
 */
#ifndef SW_SIP_TRANSPORT_H
#define SW_SIP_TRANSPORT_H

#include <uv.h>

#include "core/addr.h"
#include "sip/msg.h"
#include "sip/txn.h"

struct connlimit;

/* What a transport hands up.  buf is valid only during the call. */
struct sip_rx_ops {
	/* One datagram, or one framed stream message. */
	void	(*message)(void *ctx, const struct sip_dest *src,
		    const uint8_t *buf, size_t len);
	/*
	 * A stream whose framing failed (bad or missing Content-Length,
	 * oversize, garbage).  The transport closes the connection after
	 * the call, once anything sent in it has been flushed.
	 */
	void	(*stream_error)(void *ctx, const struct sip_dest *src,
		    const uint8_t *buf, size_t len, const struct sip_perr *e);
	/* Security-relevant transport decisions (limits, timeouts). */
	void	(*conn_event)(void *ctx, const struct sip_dest *src,
		    const char *reason, int refused);
};

struct udp_sock;

/*
 * Bind a UDP socket on addr (SO_REUSEPORT so every worker binds the
 * same address) and start receiving with recvmmsg batches.
 */
int	udp_sock_open(uv_loop_t *loop, const union sw_addr *addr, uint8_t lsn,
	    size_t rcvbuf, const struct sip_rx_ops *ops, void *ctx,
	    struct udp_sock **ret);
/* Non-blocking send; -EAGAIN when the socket buffer is full (dropped). */
int	udp_sock_send(struct udp_sock *s, const union sw_addr *to,
	    const uint8_t *buf, size_t len);
/* Stop and close; the memory is released from the loop's close cb. */
void	udp_sock_close(struct udp_sock *s);

struct tcp_opts {
	size_t		max_msg;		/* framing limit */
	uint32_t	idle_timeout_ms;
	uint32_t	message_timeout_ms;	/* a started message must end */
	uint32_t	max_connections;	/* per worker */
	size_t		max_outq;		/* unsent bytes per connection */
	const struct sip_limits *lim;
};

struct tcp_listener;
struct tcp_conn;

int	tcp_listener_open(uv_loop_t *loop, const union sw_addr *addr,
	    uint8_t lsn, uint8_t worker, const struct tcp_opts *opts,
	    struct connlimit *cl, const struct sip_rx_ops *ops, void *ctx,
	    struct tcp_listener **ret);
void	tcp_listener_close(struct tcp_listener *l);
/* Send on the connection conn_id of this listener's worker. */
int	tcp_send(struct tcp_listener *l, uint32_t conn_id, const uint8_t *buf,
	    size_t len);
size_t	tcp_listener_conns(const struct tcp_listener *l);

/*
 * Connections per source address, shared by all workers (only touched
 * at accept and close).  max_per_source 0 = unlimited.
 */
int	connlimit_new(uint32_t max_per_source, uint32_t max_total,
	    struct connlimit **ret);
void	connlimit_free(struct connlimit *cl);
/* 0, or -EMFILE (total) / -EUSERS (per source) when over the limit. */
int	connlimit_acquire(struct connlimit *cl, const union sw_addr *a);
void	connlimit_release(struct connlimit *cl, const union sw_addr *a);

#endif
