/*
 * TCP listener and its connections, one set per worker.  Owns framing
 * (sip_stream_frame), the limits a stream needs (message size, time to
 * finish a started message, idle time, connections per source and per
 * worker, unsent bytes) and RFC 5626 CRLF keep-alive pongs.  Messages
 * go up one at a time as exact frames; the worker parses them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "sip/parse.h"
#include "sip/transport.h"

#define CONN_BUCKETS	1024

static struct log_ratelimit rl_tcp = LOG_RATELIMIT_INIT(5);

struct tcp_conn {
	uv_tcp_t		 h;
	uv_timer_t		 timer;
	struct tcp_conn		*next;		/* id bucket chain */
	struct tcp_listener	*l;
	struct sip_dest		 peer;
	uint8_t			*rbuf;
	size_t			 rlen;
	size_t			 rcap;
	size_t			 scan;		/* framing progress */
	size_t			 frame;		/* known message length, 0 = not yet */
	uint64_t		 msg_start;	/* ms; 0 = no partial message */
	uint64_t		 last_rx;
	size_t			 outq;
	int			 closing;
	int			 handles;	/* open uv handles */
	int			 counted;	/* holds a connlimit slot */
};

struct tcp_listener {
	uv_tcp_t		 h;
	uv_loop_t		*loop;
	uint8_t			 lsn;
	uint8_t			 worker;
	uint32_t		 next_id;
	size_t			 nconns;
	struct tcp_opts		 o;
	struct connlimit	*cl;
	const struct sip_rx_ops	*ops;
	void			*ctx;
	int			 closing;
	struct tcp_conn		*b[CONN_BUCKETS];
};

struct tcp_wreq {
	uv_write_t	 req;
	struct tcp_conn	*c;
	size_t		 len;
	uint8_t		 data[];
};

static void conn_close(struct tcp_conn *c);
static void on_timer(uv_timer_t *t);

static struct tcp_conn *
conn_find(struct tcp_listener *l, uint32_t id)
{
	struct tcp_conn *c;

	for (c = l->b[id % CONN_BUCKETS]; c != NULL; c = c->next)
		if (c->peer.conn_id == id)
			return c;
	return NULL;
}

static void
conn_unlink(struct tcp_conn *c)
{
	struct tcp_conn **pp = &c->l->b[c->peer.conn_id % CONN_BUCKETS];

	for (; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			c->l->nconns--;
			return;
		}
}

static uint32_t
conn_id_next(struct tcp_listener *l)
{
	/* worker index in the top byte keeps ids unique per process */
	for (;;) {
		uint32_t id = ((uint32_t)l->worker << 24) |
		    (l->next_id++ & 0xffffff);

		if ((id & 0xffffff) != 0 && conn_find(l, id) == NULL)
			return id;
	}
}

static void
on_conn_handle_closed(uv_handle_t *h)
{
	struct tcp_conn *c = h->data;

	if (--c->handles > 0)
		return;
	free(c->rbuf);
	free(c);
}

static void
conn_close(struct tcp_conn *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	conn_unlink(c);
	if (c->counted)
		connlimit_release(c->l->cl, &c->peer.addr);
	uv_close((uv_handle_t *)&c->timer, on_conn_handle_closed);
	uv_close((uv_handle_t *)&c->h, on_conn_handle_closed);
}

static void
on_shutdown(uv_shutdown_t *req, int status)
{
	struct tcp_conn *c = req->data;

	(void)status;
	free(req);
	conn_close(c);
}

/* Close after what is queued has been written (a 400 before we hang up). */
static void
conn_close_flush(struct tcp_conn *c)
{
	uv_shutdown_t *req;

	if (c->closing)
		return;
	uv_read_stop((uv_stream_t *)&c->h);
	if ((req = malloc(sizeof(*req))) == NULL ||
	    (req->data = c, uv_shutdown(req, (uv_stream_t *)&c->h,
	    on_shutdown)) < 0) {
		free(req);
		conn_close(c);
	}
}

static void
timer_update(struct tcp_conn *c)
{
	const struct tcp_opts *o = &c->l->o;
	uint64_t now = uv_now(c->l->loop), due;

	due = c->last_rx + o->idle_timeout_ms;
	if (c->msg_start != 0 && c->msg_start + o->message_timeout_ms < due)
		due = c->msg_start + o->message_timeout_ms;
	uv_timer_start(&c->timer, on_timer, due > now ? due - now : 0, 0);
}

static void
on_timer(uv_timer_t *t)
{
	struct tcp_conn *c = t->data;
	uint64_t now = uv_now(c->l->loop);
	const struct tcp_opts *o = &c->l->o;

	if (c->msg_start != 0 && now >= c->msg_start + o->message_timeout_ms) {
		c->l->ops->conn_event(c->l->ctx, &c->peer, "message timeout", 0);
		conn_close(c);
		return;
	}
	if (now >= c->last_rx + o->idle_timeout_ms) {
		conn_close(c);
		return;
	}
	timer_update(c);
}

static void
on_write(uv_write_t *req, int status)
{
	struct tcp_wreq *w = (struct tcp_wreq *)req;
	struct tcp_conn *c = w->c;

	c->outq -= w->len;
	free(w);
	if (status < 0 && !c->closing)
		conn_close(c);
}

static int
conn_write(struct tcp_conn *c, const uint8_t *buf, size_t len)
{
	struct tcp_wreq *w;
	uv_buf_t b;
	int r = 0;

	if (c->closing)
		return -EPIPE;
	if (c->outq == 0) {
		b = uv_buf_init((char *)(uintptr_t)buf, (unsigned)len);
		r = uv_try_write((uv_stream_t *)&c->h, &b, 1);
		if (r == (int)len)
			return 0;
		if (r < 0 && r != UV_EAGAIN) {
			conn_close(c);
			return r;
		}
		if (r < 0)
			r = 0;
	}
	buf += r;
	len -= (size_t)r;
	if (c->outq + len > c->l->o.max_outq) {
		/* a peer that does not read cannot make us buffer without end */
		c->l->ops->conn_event(c->l->ctx, &c->peer, "send queue full", 0);
		conn_close(c);
		return -ENOBUFS;
	}
	if ((w = malloc(sizeof(*w) + len)) == NULL) {
		conn_close(c);
		return -ENOMEM;
	}
	memcpy(w->data, buf, len);
	w->c = c;
	w->len = len;
	b = uv_buf_init((char *)w->data, (unsigned)len);
	if ((r = uv_write(&w->req, (uv_stream_t *)&c->h, &b, 1, on_write)) < 0) {
		free(w);
		conn_close(c);
		return r;
	}
	c->outq += len;
	return 0;
}

int
tcp_send(struct tcp_listener *l, uint32_t conn_id, const uint8_t *buf,
    size_t len)
{
	struct tcp_conn *c = conn_find(l, conn_id);

	if (c == NULL)
		return -ENOTCONN;
	return conn_write(c, buf, len);
}

size_t
tcp_listener_conns(const struct tcp_listener *l)
{
	return l->nconns;
}

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct tcp_conn *c = h->data;

	(void)suggested;
	buf->base = (char *)c->rbuf + c->rlen;
	buf->len = c->rcap - c->rlen;
}

static void
consume(struct tcp_conn *c, size_t n)
{
	memmove(c->rbuf, c->rbuf + n, c->rlen - n);
	c->rlen -= n;
	c->scan = 0;
	c->frame = 0;
}

/* Frame and hand up every complete message in the buffer. */
static void
conn_process(struct tcp_conn *c)
{
	struct tcp_listener *l = c->l;
	struct sip_perr err;

	while (c->rlen > 0 && !c->closing) {
		size_t k = sip_skip_crlf(c->rbuf, c->rlen);
		ssize_t r;

		if (k > 0) {
			/* RFC 5626 4.4.1: a CRLFCRLF ping gets a CRLF pong */
			for (size_t i = 0; i + 3 < k; i += 4)
				if (memcmp(c->rbuf + i, "\r\n\r\n", 4) == 0)
					conn_write(c, (const uint8_t *)"\r\n", 2);
			consume(c, k);
			continue;
		}
		if (c->frame == 0) {
			r = sip_stream_frame(c->rbuf, c->rlen, l->o.lim, &c->scan,
			    &err);
			if (r < 0) {
				l->ops->stream_error(l->ctx, &c->peer, c->rbuf,
				    c->rlen, &err);
				conn_close_flush(c);
				return;
			}
			if (r == 0)
				break;
			c->frame = (size_t)r;
		}
		if (c->rlen < c->frame)
			break;
		{
			size_t n = c->frame;

			l->ops->message(l->ctx, &c->peer, c->rbuf, n);
			if (c->closing)
				return;
			consume(c, n);
		}
	}
	if (c->rlen == 0)
		c->msg_start = 0;
	else if (c->msg_start == 0)
		c->msg_start = uv_now(l->loop);
}

static void
on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct tcp_conn *c = s->data;

	(void)buf;
	if (nread == 0)
		return;
	if (nread < 0) {
		conn_close(c);
		return;
	}
	c->rlen += (size_t)nread;
	c->last_rx = uv_now(c->l->loop);
	conn_process(c);
	if (!c->closing) {
		if (c->rlen == c->rcap) {
			struct sip_perr err = { 513, "Message Too Large", c->rlen };

			c->l->ops->stream_error(c->l->ctx, &c->peer, c->rbuf,
			    c->rlen, &err);
			conn_close_flush(c);
			return;
		}
		timer_update(c);
	}
}

static void
on_connection(uv_stream_t *server, int status)
{
	struct tcp_listener *l = server->data;
	struct tcp_conn *c;
	int namelen, r;

	if (status < 0)
		return;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return;
	c->l = l;
	c->rcap = l->o.max_msg;
	if ((c->rbuf = malloc(c->rcap)) == NULL) {
		free(c);
		return;
	}
	uv_tcp_init(l->loop, &c->h);
	uv_timer_init(l->loop, &c->timer);
	c->h.data = c;
	c->timer.data = c;
	c->handles = 2;
	c->peer.transport = SIP_TP_TCP;
	c->peer.lsn = l->lsn;
	c->peer.conn_id = conn_id_next(l);
	c->next = l->b[c->peer.conn_id % CONN_BUCKETS];
	l->b[c->peer.conn_id % CONN_BUCKETS] = c;
	l->nconns++;
	if (uv_accept(server, (uv_stream_t *)&c->h) < 0) {
		conn_close(c);
		return;
	}
	namelen = sizeof(c->peer.addr);
	uv_tcp_getpeername(&c->h, &c->peer.addr.sa, &namelen);
	if (l->o.max_connections && l->nconns > l->o.max_connections) {
		l->ops->conn_event(l->ctx, &c->peer, "worker connection limit",
		    1);
		conn_close(c);
		return;
	}
	if ((r = connlimit_acquire(l->cl, &c->peer.addr)) < 0) {
		l->ops->conn_event(l->ctx, &c->peer, r == -EUSERS ?
		    "connections per source" : "connection limit", 1);
		conn_close(c);
		return;
	}
	c->counted = 1;
	uv_tcp_nodelay(&c->h, 1);
	c->last_rx = uv_now(l->loop);
	uv_timer_start(&c->timer, on_timer, l->o.idle_timeout_ms, 0);
	if (uv_read_start((uv_stream_t *)&c->h, on_alloc, on_read) < 0)
		conn_close(c);
}

int
tcp_listener_open(uv_loop_t *loop, const union sw_addr *addr, uint8_t lsn,
    uint8_t worker, const struct tcp_opts *opts, struct connlimit *cl,
    const struct sip_rx_ops *ops, void *ctx, struct tcp_listener **ret)
{
	struct tcp_listener *l;
	int fd, one = 1, r;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return -ENOMEM;
	l->loop = loop;
	l->lsn = lsn;
	l->worker = worker;
	l->next_id = 1;
	l->o = *opts;
	l->cl = cl;
	l->ops = ops;
	l->ctx = ctx;
	fd = socket(sw_addr_family(addr), SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd < 0) {
		free(l);
		return -errno;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (sw_addr_family(addr) == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, &addr->sa, sw_addr_len(addr)) < 0) {
		r = -errno;
		close(fd);
		free(l);
		return r;
	}
	uv_tcp_init(loop, &l->h);
	l->h.data = l;
	if ((r = uv_tcp_open(&l->h, fd)) < 0 ||
	    (r = uv_listen((uv_stream_t *)&l->h, 1024, on_connection)) < 0) {
		LOG_LIMITED(LOG_WARNING, &rl_tcp, "tcp: listen: %s",
		    uv_strerror(r));
		tcp_listener_close(l);
		return r;
	}
	*ret = l;
	return 0;
}

static void
on_listener_closed(uv_handle_t *h)
{
	free(h->data);
}

void
tcp_listener_close(struct tcp_listener *l)
{
	if (l == NULL || l->closing)
		return;
	l->closing = 1;
	for (size_t i = 0; i < CONN_BUCKETS; i++)
		while (l->b[i] != NULL)
			conn_close(l->b[i]);
	uv_close((uv_handle_t *)&l->h, on_listener_closed);
}
