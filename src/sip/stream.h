/*
 * The stream layer under TCP and TLS, private to src/sip: one listener
 * per worker and its connections (accepted, or opened by us), the
 * table of connection ids, framing (sip_stream_frame), the limits a
 * stream needs (message size, time to finish a started message, idle
 * time, connections per source and per worker, unsent bytes), RFC 5626
 * CRLF keep-alive pongs and the write queue.
 *
 * A security layer (TLS: transport_tls.c) plugs in through struct
 * stream_sec: it gets the bytes read from the socket before framing,
 * returns plaintext through stream_rx_room()/stream_rx_commit(), and
 * gets what the upper layer sends before it reaches the socket
 * (stream_write_raw()).  Without one (plain TCP) the socket reads
 * straight into the framing buffer.
 *
 * A connection is "ready" when the upper layer may talk over it: at
 * once for an accepted TCP connection, once connected for one we
 * opened, once the handshake is done for TLS.  Until then what is sent
 * waits (bounded by max_outq), and the timer is the ready timeout.
 */
#ifndef SW_SIP_STREAM_H
#define SW_SIP_STREAM_H

#include "sip/transport.h"

#define STREAM_BUCKETS	1024

struct stream_conn;

/* Why a connection ended before it was ready. */
enum stream_unready {
	STREAM_UNREADY_TIMEOUT = 0,
	STREAM_UNREADY_EOF,		/* the peer closed */
	STREAM_UNREADY_MAX
};

struct stream_sec {
	/* A new connection: accepted (arg: the listener's sec_ctx) or
	 * ours (c->outbound; arg and name: what stream_connect() got).
	 * Sets c->sec.  0, or <0 and the connection is closed. */
	int	(*open)(struct stream_conn *c, void *arg, const char *name);
	/* Bytes from the socket (NULL, 0 once an outbound connect is
	 * done: speak first).  Calls stream_set_ready() and
	 * stream_rx_commit() as it goes; may close c. */
	void	(*input)(struct stream_conn *c, const uint8_t *buf, size_t len);
	/* Plaintext to send on a ready connection; 0 or <0 (c closes). */
	int	(*output)(struct stream_conn *c, const uint8_t *buf, size_t len);
	/* Report a connection that ended before it was ready. */
	void	(*unready)(struct stream_conn *c, enum stream_unready why);
	/* Last words before a flushing close (close_notify). */
	void	(*shutdown)(struct stream_conn *c);
	/* Free c->sec once c's handles are closed (c->l may be gone). */
	void	(*release)(struct stream_conn *c);
};

struct stream_listener;

struct stream_conn {
	uv_tcp_t		 h;
	uv_timer_t		 timer;
	struct stream_conn	*next;		/* id bucket chain */
	struct stream_listener	*l;
	struct sip_dest		 peer;
	const struct stream_sec	*secops;	/* l->sec, for after l is gone */
	void			*sec;		/* security layer state */
	uint8_t			*rbuf;		/* plaintext; NULL while empty */
	size_t			 rlen;
	size_t			 rcap;
	size_t			 scan;		/* framing progress */
	size_t			 frame;		/* known message length, 0 = not yet */
	uint64_t		 msg_start;	/* ms; 0 = no partial message */
	uint64_t		 last_rx;
	uint64_t		 opened;	/* ms */
	size_t			 outq;		/* bytes queued in libuv */
	uint8_t			*pend;		/* sent before ready */
	size_t			 npend;
	uint8_t			 closing;
	uint8_t			 draining;	/* stream_close_flush() ran */
	uint8_t			 ready;
	uint8_t			 outbound;
	uint8_t			 handles;	/* open uv handles */
	uint8_t			 counted;	/* holds a connlimit slot */
};

struct stream_listener {
	uv_tcp_t		 h;
	uv_loop_t		*loop;
	uint8_t			 lsn;
	uint8_t			 worker;
	uint8_t			 transport;	/* SIP_TP_TCP or SIP_TP_TLS */
	uint32_t		 next_id;
	size_t			 nconns;
	struct tcp_opts		 o;
	struct connlimit	*cl;
	const struct sip_rx_ops	*ops;
	void			*ctx;
	const struct stream_sec	*sec;		/* NULL: plain TCP */
	void			*sec_ctx;	/* the security layer's */
	uint8_t			*scratch;	/* socket reads when sec != NULL */
	size_t			 scratch_len;
	int			 closing;
	struct stream_conn	*b[STREAM_BUCKETS];
};

/* What transport.h calls a tcp_listener, TLS or not. */
struct tcp_listener {
	struct stream_listener	s;
};

/*
 * Bind addr (SO_REUSEPORT: every worker binds the same address) and
 * listen.  sec and sec_ctx may be NULL (plain TCP).  0 or <0 (nothing
 * left open).
 */
int	stream_listener_open(uv_loop_t *loop, const union sw_addr *addr,
	    uint8_t lsn, uint8_t worker, uint8_t transport,
	    const struct tcp_opts *opts, struct connlimit *cl,
	    const struct sip_rx_ops *ops, void *ctx, const struct stream_sec *sec,
	    void *sec_ctx, struct tcp_listener **ret);
/* Close every connection and the listener; freed from the loop. */
void	stream_listener_close(struct stream_listener *l);

/*
 * Open a connection of ours to addr; sec_arg and name go to the
 * security layer's open() (whom we expect there; NULL without one).
 * Its id is returned at once; what is sent before it is ready waits.
 * The connection takes no per-source slot, but counts toward
 * max_connections.
 */
int	stream_connect(struct stream_listener *l, const union sw_addr *to,
	    void *sec_arg, const char *name, uint32_t *ret_conn_id);

/* Send on connection conn_id: queued until ready.  0 or <0. */
/* Is conn_id (still) a connection of this listener? */
int	stream_conn_alive(struct stream_listener *l, uint32_t conn_id);
int	stream_send(struct stream_listener *l, uint32_t conn_id,
	    const uint8_t *buf, size_t len);

/* For the security layer: */
/* Bytes straight to the socket, in order; 0 or <0 (c closes). */
int	stream_write_raw(struct stream_conn *c, const uint8_t *buf,
	    size_t len);
/* The connection may carry messages: flush what waited, idle timers. */
void	stream_set_ready(struct stream_conn *c);
/* Room for plaintext at the end of the receive buffer (grown up to
 * max_msg).  0, or -ENOMEM (c is closed). */
int	stream_rx_room(struct stream_conn *c, uint8_t **ret_p,
	    size_t *ret_room);
/* n bytes were written there: frame and hand up.  c may close. */
void	stream_rx_commit(struct stream_conn *c, size_t n);
/* Emit a transport event for c (enum sip_conn_event kind). */
void	stream_event(struct stream_conn *c, const char *reason, int kind);
/* Close now, or after what is queued was written. */
void	stream_close(struct stream_conn *c);
void	stream_close_flush(struct stream_conn *c);

#endif
