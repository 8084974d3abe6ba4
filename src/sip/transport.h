/*
 * UDP, TCP and TLS transports on libuv.  A transport moves bytes and
 * frames stream messages; it never interprets SIP beyond framing.  Each
 * worker owns its own sockets (SO_REUSEPORT), so nothing here is shared
 * between threads except the per-source connection counter (connlimit)
 * and the TLS contexts (sip/tls.h).  TCP and TLS share one stream layer
 * (stream.c): the same framing, limits and timeouts.
 */
#ifndef SW_SIP_TRANSPORT_H
#define SW_SIP_TRANSPORT_H

#include <uv.h>

#include "core/addr.h"
#include "sip/msg.h"
#include "sip/txn.h"

struct connlimit;
struct tls_ctx;

/* The kind of a conn_event (what it becomes in the event stream). */
enum sip_conn_event {
	SIP_CONN_EV_ERROR = 0,		/* transport.error */
	SIP_CONN_EV_REFUSED = 1,	/* transport.conn_limit */
	SIP_CONN_EV_TLS_FAILED,		/* tls.handshake_failed */
	SIP_CONN_EV_TLS_CERT,		/* tls.cert_rejected: we refused a certificate */
	SIP_CONN_EV_MAX
};

/*
 * A UDP socket's receive queue, from SO_MEMINFO.  The kernel counts
 * bytes with their buffer overhead; datagrams are estimated from the
 * mean length of the last batch (the overhead of a loopback or
 * Ethernet datagram: its length rounded up to a power of two, plus
 * the socket buffer's own).
 */
struct sip_backlog {
	uint8_t		lsn;
	uint32_t	queued;		/* datagrams waiting (estimate) */
	uint32_t	capacity;	/* datagrams the buffer holds (estimate) */
	uint32_t	drops;		/* dropped by the kernel since the last report */
};

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
	/* Security-relevant transport decisions (limits, timeouts, TLS
	 * failures); kind is an enum sip_conn_event. */
	void	(*conn_event)(void *ctx, const struct sip_dest *src,
		    const char *reason, int kind);
	/* UDP, optional: a receive batch came back full, so more is
	 * waiting; what the socket holds now (overload control). */
	void	(*backlog)(void *ctx, const struct sip_backlog *b);
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
	/* TLS: the handshake must end within this; a connection we open:
	 * connect (and handshake) must.  0: message_timeout_ms. */
	uint32_t	ready_timeout_ms;
	const struct sip_limits *lim;
};

/* A listener on TCP, plain (tcp_listener_open) or TLS (tls_listener_open). */
struct tcp_listener;

int	tcp_listener_open(uv_loop_t *loop, const union sw_addr *addr,
	    uint8_t lsn, uint8_t worker, const struct tcp_opts *opts,
	    struct connlimit *cl, const struct sip_rx_ops *ops, void *ctx,
	    struct tcp_listener **ret);
void	tcp_listener_close(struct tcp_listener *l);
/* Send on the connection conn_id of this listener's worker. */
int	tcp_send(struct tcp_listener *l, uint32_t conn_id, const uint8_t *buf,
	    size_t len);
size_t	tcp_listener_conns(const struct tcp_listener *l);
/* Is conn_id still open on this listener (an outbound one we reuse)? */
int	tcp_conn_alive(struct tcp_listener *l, uint32_t conn_id);
/*
 * Open a TCP connection of ours to `to` on this listener's worker (a
 * trunk, the PBX).  The id is returned at once and works with
 * tcp_send(); what is sent before the connection is up waits.  Answers
 * come up through the listener's ops with src->conn_id set.  -EINVAL on
 * a TLS listener (tls_connect).
 */
int	tcp_connect(struct tcp_listener *l, const union sw_addr *to,
	    uint32_t *ret_conn_id);

/*
 * TLS: a tcp_listener with a TLS session between the socket and the
 * framing; tcp_send(), tcp_listener_conns() and tcp_listener_close()
 * work on it as on a plain one (connections carry SIP_TP_TLS).  ctx is
 * a server context (sip/tls.h), shared by every worker and kept alive
 * by the caller until the listener is closed; the handshake must end
 * within opts->ready_timeout_ms.  Data sent before a handshake is done
 * waits.  Handshake failures and timeouts come up as conn_event
 * SIP_CONN_EV_TLS_FAILED / _TLS_CERT.
 */
int	tls_listener_open(uv_loop_t *loop, const union sw_addr *addr,
	    uint8_t lsn, uint8_t worker, const struct tcp_opts *opts,
	    struct tls_ctx *ctx, struct connlimit *cl,
	    const struct sip_rx_ops *ops, void *ctx_arg,
	    struct tcp_listener **ret);
/*
 * Open a TLS connection of ours to `to` on a TLS listener, verifying
 * its certificate with client_ctx (a client context: CA bundle, our
 * certificate for mutual TLS) against name, a DNS name (also sent as
 * SNI) or an IP literal.  Returns at once with an id for tcp_send().
 * A failed verification comes up as conn_event SIP_CONN_EV_TLS_CERT.
 * client_ctx must outlive the call only (each connection holds what it
 * needs).  -EINVAL on a plain TCP listener.
 */
int	tls_connect(struct tcp_listener *l, struct tls_ctx *client_ctx,
	    const union sw_addr *to, const char *name, uint32_t *ret_conn_id);

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
