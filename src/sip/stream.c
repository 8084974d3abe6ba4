/*
 * The stream layer under TCP and TLS (see stream.h): listeners,
 * connections, framing, limits, timers, write queues.  Messages go up
 * one at a time as exact frames; the worker parses them.
 *
 * Memory per connection: the struct, plus a receive buffer only while
 * a message is partly in (grown up to max_msg, freed once empty), plus
 * libuv write requests only while the socket is full.  An idle
 * connection is the struct alone (and its security layer's state).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "sip/parse.h"
#include "sip/stream.h"

#define RBUF_MIN	4096		/* first receive buffer */
#define SCRATCH_LEN	(18 * 1024)	/* one TLS record and then some */

static struct log_ratelimit rl_stream = LOG_RATELIMIT_INIT(5);

struct stream_wreq {
	uv_write_t		 req;
	struct stream_conn	*c;
	size_t			 len;
	uint8_t			 data[];
};

static void conn_close(struct stream_conn *c);
static void on_timer(uv_timer_t *t);

static struct stream_conn *
conn_find(struct stream_listener *l, uint32_t id)
{
	struct stream_conn *c;

	for (c = l->b[id % STREAM_BUCKETS]; c != NULL; c = c->next)
		if (c->peer.conn_id == id)
			return c;
	return NULL;
}

static void
conn_unlink(struct stream_conn *c)
{
	struct stream_conn **pp = &c->l->b[c->peer.conn_id % STREAM_BUCKETS];

	for (; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			c->l->nconns--;
			return;
		}
}

static uint32_t
conn_id_next(struct stream_listener *l)
{
	/* worker index in the top byte keeps ids unique per process;
	 * bounded: fewer than 2^24 connections can be open */
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
	struct stream_conn *c = h->data;

	/* c->l may be gone already: a closing listener's handle can be
	 * released before its connections'.  The session goes only now:
	 * the close may have started inside one of its own calls. */
	if (--c->handles > 0)
		return;
	if (c->secops != NULL && c->sec != NULL)
		c->secops->release(c);
	free(c->rbuf);
	free(c->pend);
	free(c);
}

static void
conn_close(struct stream_conn *c)
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

void
stream_close(struct stream_conn *c)
{
	conn_close(c);
}

static void
on_shutdown(uv_shutdown_t *req, int status)
{
	struct stream_conn *c = req->data;

	(void)status;
	free(req);
	conn_close(c);
}

/* Close after what is queued has been written (a 400 before we hang up). */
void
stream_close_flush(struct stream_conn *c)
{
	uv_shutdown_t *req;

	if (c->closing || c->draining)
		return;
	c->draining = 1;
	if (c->ready && c->l->sec != NULL)
		c->l->sec->shutdown(c);
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

void
stream_event(struct stream_conn *c, const char *reason, int kind)
{
	c->l->ops->conn_event(c->l->ctx, &c->peer, reason, kind);
}

static void
timer_update(struct stream_conn *c)
{
	const struct tcp_opts *o = &c->l->o;
	uint64_t now = uv_now(c->l->loop), due;

	if (!c->ready)
		due = c->opened + o->ready_timeout_ms;
	else {
		due = c->last_rx + o->idle_timeout_ms;
		if (c->msg_start != 0 &&
		    c->msg_start + o->message_timeout_ms < due)
			due = c->msg_start + o->message_timeout_ms;
	}
	uv_timer_start(&c->timer, on_timer, due > now ? due - now : 0, 0);
}

static void
on_timer(uv_timer_t *t)
{
	struct stream_conn *c = t->data;
	uint64_t now = uv_now(c->l->loop);
	const struct tcp_opts *o = &c->l->o;

	if (!c->ready) {
		if (now < c->opened + o->ready_timeout_ms) {
			timer_update(c);
			return;
		}
		if (c->l->sec != NULL)
			c->l->sec->unready(c, STREAM_UNREADY_TIMEOUT);
		else
			stream_event(c, "connect timeout", SIP_CONN_EV_ERROR);
		conn_close(c);
		return;
	}
	if (c->msg_start != 0 && now >= c->msg_start + o->message_timeout_ms) {
		stream_event(c, "message timeout", SIP_CONN_EV_ERROR);
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
	struct stream_wreq *w = (struct stream_wreq *)req;
	struct stream_conn *c = w->c;

	c->outq -= w->len;
	free(w);
	if (status < 0 && !c->closing)
		conn_close(c);
}

static int
queue_full(struct stream_conn *c)
{
	/* a peer that does not read cannot make us buffer without end */
	stream_event(c, "send queue full", SIP_CONN_EV_ERROR);
	conn_close(c);
	return -ENOBUFS;
}

int
stream_write_raw(struct stream_conn *c, const uint8_t *buf, size_t len)
{
	struct stream_wreq *w;
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
	if (c->outq + len > c->l->o.max_outq)
		return queue_full(c);
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

/* What the upper layer sends: waits until ready, then through sec. */
static int
conn_send(struct stream_conn *c, const uint8_t *buf, size_t len)
{
	uint8_t *p;
	int r;

	if (c->closing)
		return -EPIPE;
	if (!c->ready) {
		if (c->npend + len > c->l->o.max_outq)
			return queue_full(c);
		if ((p = realloc(c->pend, c->npend + len)) == NULL)
			return -ENOMEM;
		memcpy(p + c->npend, buf, len);
		c->pend = p;
		c->npend += len;
		return 0;
	}
	if (c->l->sec == NULL)
		return stream_write_raw(c, buf, len);
	if ((r = c->l->sec->output(c, buf, len)) < 0)
		conn_close(c);
	return r;
}

void
stream_set_ready(struct stream_conn *c)
{
	uint8_t *p = c->pend;
	size_t n = c->npend;

	c->ready = 1;
	c->last_rx = uv_now(c->l->loop);
	c->pend = NULL;
	c->npend = 0;
	if (n > 0)
		conn_send(c, p, n);
	free(p);
	if (!c->closing)
		timer_update(c);
}

int
stream_send(struct stream_listener *l, uint32_t conn_id, const uint8_t *buf,
    size_t len)
{
	struct stream_conn *c = conn_find(l, conn_id);

	if (c == NULL)
		return -ENOTCONN;
	return conn_send(c, buf, len);
}

int
stream_conn_alive(struct stream_listener *l, uint32_t conn_id)
{
	return conn_find(l, conn_id) != NULL;
}

int
stream_rx_room(struct stream_conn *c, uint8_t **ret_p, size_t *ret_room)
{
	size_t max = c->l->o.max_msg, cap;
	uint8_t *p;

	if (c->rlen == c->rcap) {
		if (c->rcap >= max) {
			/* stream_rx_commit answers 513 before this happens */
			conn_close(c);
			return -ENOBUFS;
		}
		cap = c->rcap == 0 ? RBUF_MIN : 2 * c->rcap;
		if (cap > max)
			cap = max;
		if ((p = realloc(c->rbuf, cap)) == NULL) {
			conn_close(c);
			return -ENOMEM;
		}
		c->rbuf = p;
		c->rcap = cap;
	}
	*ret_p = c->rbuf + c->rlen;
	*ret_room = c->rcap - c->rlen;
	return 0;
}

static void
consume(struct stream_conn *c, size_t n)
{
	memmove(c->rbuf, c->rbuf + n, c->rlen - n);
	c->rlen -= n;
	c->scan = 0;
	c->frame = 0;
}

/* Frame and hand up every complete message in the buffer. */
static void
conn_process(struct stream_conn *c)
{
	struct stream_listener *l = c->l;
	struct sip_perr err;

	while (c->rlen > 0 && !c->closing) {
		size_t k = sip_skip_crlf(c->rbuf, c->rlen);
		ssize_t r;

		if (k > 0) {
			/* RFC 5626 4.4.1: a CRLFCRLF ping gets a CRLF pong */
			for (size_t i = 0; i + 3 < k; i += 4)
				if (memcmp(c->rbuf + i, "\r\n\r\n", 4) == 0)
					conn_send(c, (const uint8_t *)"\r\n", 2);
			consume(c, k);
			continue;
		}
		if (c->frame == 0) {
			r = sip_stream_frame(c->rbuf, c->rlen, l->o.lim, &c->scan,
			    &err);
			if (r < 0) {
				l->ops->stream_error(l->ctx, &c->peer, c->rbuf,
				    c->rlen, &err);
				stream_close_flush(c);
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

void
stream_rx_commit(struct stream_conn *c, size_t n)
{
	c->rlen += n;
	conn_process(c);
	if (c->closing || c->draining)
		return;
	if (c->rlen == c->l->o.max_msg) {
		struct sip_perr err = { 513, "Message Too Large", c->rlen };

		c->l->ops->stream_error(c->l->ctx, &c->peer, c->rbuf, c->rlen,
		    &err);
		stream_close_flush(c);
		return;
	}
	if (c->rlen == 0) {
		/* idle connections keep no buffer */
		free(c->rbuf);
		c->rbuf = NULL;
		c->rcap = 0;
	}
}

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct stream_conn *c = h->data;
	uint8_t *p = NULL;
	size_t room = 0;

	(void)suggested;
	if (c->l->sec != NULL) {
		/* ciphertext is decrypted at once: one buffer per listener */
		p = c->l->scratch;
		room = c->l->scratch_len;
	} else if (stream_rx_room(c, &p, &room) < 0) {
		p = NULL;
		room = 0;	/* libuv reports UV_ENOBUFS to on_read */
	}
	buf->base = (char *)p;
	buf->len = room;
}

static void
on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct stream_conn *c = s->data;

	if (nread == 0 || c->closing)
		return;
	if (nread < 0) {
		if (!c->ready && c->l->sec != NULL)
			c->l->sec->unready(c, STREAM_UNREADY_EOF);
		conn_close(c);
		return;
	}
	c->last_rx = uv_now(c->l->loop);
	if (c->l->sec != NULL)
		c->l->sec->input(c, (const uint8_t *)buf->base, (size_t)nread);
	else
		stream_rx_commit(c, (size_t)nread);
	if (!c->closing)
		timer_update(c);
}

/* A connection in the table, its handles initialised; not yet ready. */
static struct stream_conn *
conn_new(struct stream_listener *l)
{
	struct stream_conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->l = l;
	c->secops = l->sec;
	uv_tcp_init(l->loop, &c->h);
	uv_timer_init(l->loop, &c->timer);
	c->h.data = c;
	c->timer.data = c;
	c->handles = 2;
	c->peer.transport = l->transport;
	c->peer.lsn = l->lsn;
	c->peer.conn_id = conn_id_next(l);
	c->next = l->b[c->peer.conn_id % STREAM_BUCKETS];
	l->b[c->peer.conn_id % STREAM_BUCKETS] = c;
	l->nconns++;
	c->opened = c->last_rx = uv_now(l->loop);
	return c;
}

static void
on_connection(uv_stream_t *server, int status)
{
	struct stream_listener *l = server->data;
	struct stream_conn *c;
	int namelen, r;

	if (status < 0 || (c = conn_new(l)) == NULL)
		return;
	if (uv_accept(server, (uv_stream_t *)&c->h) < 0) {
		conn_close(c);
		return;
	}
	namelen = sizeof(c->peer.addr);
	uv_tcp_getpeername(&c->h, &c->peer.addr.sa, &namelen);
	if (l->o.max_connections && l->nconns > l->o.max_connections) {
		stream_event(c, "worker connection limit", SIP_CONN_EV_REFUSED);
		conn_close(c);
		return;
	}
	if ((r = connlimit_acquire(l->cl, &c->peer.addr)) < 0) {
		stream_event(c, r == -EUSERS ? "connections per source" :
		    "connection limit", SIP_CONN_EV_REFUSED);
		conn_close(c);
		return;
	}
	c->counted = 1;
	uv_tcp_nodelay(&c->h, 1);
	if (l->sec == NULL)
		c->ready = 1;
	else if (l->sec->open(c, l->sec_ctx, NULL) < 0) {
		conn_close(c);
		return;
	}
	timer_update(c);
	if (uv_read_start((uv_stream_t *)&c->h, on_alloc, on_read) < 0)
		conn_close(c);
}

static void
on_connect(uv_connect_t *req, int status)
{
	struct stream_conn *c = req->data;
	char why[96];

	free(req);
	if (c->closing)		/* closed while connecting: UV_ECANCELED */
		return;
	if (status < 0) {
		snprintf(why, sizeof(why), "connect failed: %s",
		    uv_strerror(status));
		stream_event(c, why, SIP_CONN_EV_ERROR);
		conn_close(c);
		return;
	}
	uv_tcp_nodelay(&c->h, 1);
	if (uv_read_start((uv_stream_t *)&c->h, on_alloc, on_read) < 0) {
		conn_close(c);
		return;
	}
	if (c->l->sec != NULL)
		c->l->sec->input(c, NULL, 0);	/* speak first */
	else
		stream_set_ready(c);
}

int
stream_connect(struct stream_listener *l, const union sw_addr *to,
    void *sec_arg, const char *name, uint32_t *ret_conn_id)
{
	struct stream_conn *c;
	uv_connect_t *req;
	int r;

	if (l->closing)
		return -ESHUTDOWN;
	if (l->o.max_connections && l->nconns >= l->o.max_connections)
		return -EMFILE;
	if ((c = conn_new(l)) == NULL)
		return -ENOMEM;
	c->outbound = 1;
	c->peer.addr = *to;
	if (l->sec != NULL && (r = l->sec->open(c, sec_arg, name)) < 0) {
		conn_close(c);
		return r;
	}
	if ((req = malloc(sizeof(*req))) == NULL) {
		conn_close(c);
		return -ENOMEM;
	}
	req->data = c;
	if ((r = uv_tcp_connect(req, &c->h, &to->sa, on_connect)) < 0) {
		free(req);
		conn_close(c);
		return r;
	}
	timer_update(c);
	*ret_conn_id = c->peer.conn_id;
	return 0;
}

int
stream_listener_open(uv_loop_t *loop, const union sw_addr *addr, uint8_t lsn,
    uint8_t worker, uint8_t transport, const struct tcp_opts *opts,
    struct connlimit *cl, const struct sip_rx_ops *ops, void *ctx,
    const struct stream_sec *sec, void *sec_ctx, struct tcp_listener **ret)
{
	struct tcp_listener *tl;
	struct stream_listener *l;
	int fd, one = 1, r;

	if ((tl = calloc(1, sizeof(*tl))) == NULL)
		return -ENOMEM;
	l = &tl->s;
	l->loop = loop;
	l->lsn = lsn;
	l->worker = worker;
	l->transport = transport;
	l->next_id = 1;
	l->o = *opts;
	if (l->o.ready_timeout_ms == 0)
		l->o.ready_timeout_ms = l->o.message_timeout_ms;
	l->cl = cl;
	l->ops = ops;
	l->ctx = ctx;
	l->sec = sec;
	l->sec_ctx = sec_ctx;
	if (sec != NULL) {
		l->scratch_len = SCRATCH_LEN;
		if ((l->scratch = malloc(l->scratch_len)) == NULL) {
			free(l);
			return -ENOMEM;
		}
	}
	fd = socket(sw_addr_family(addr), SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		free(l->scratch);
		free(l);
		return r;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (sw_addr_family(addr) == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, &addr->sa, sw_addr_len(addr)) < 0) {
		r = -errno;
		close(fd);
		free(l->scratch);
		free(l);
		return r;
	}
	uv_tcp_init(loop, &l->h);
	l->h.data = l;
	if ((r = uv_tcp_open(&l->h, fd)) < 0 ||
	    (r = uv_listen((uv_stream_t *)&l->h, 1024, on_connection)) < 0) {
		LOG_LIMITED(LOG_WARNING, &rl_stream, "%s: listen: %s",
		    transport == SIP_TP_TLS ? "tls" : "tcp", uv_strerror(r));
		stream_listener_close(l);
		return r;
	}
	*ret = tl;
	return 0;
}

static void
on_listener_closed(uv_handle_t *h)
{
	struct stream_listener *l = h->data;

	free(l->scratch);
	free(l);
}

void
stream_listener_close(struct stream_listener *l)
{
	if (l == NULL || l->closing)
		return;
	l->closing = 1;
	for (size_t i = 0; i < STREAM_BUCKETS; i++)
		while (l->b[i] != NULL)
			conn_close(l->b[i]);
	uv_close((uv_handle_t *)&l->h, on_listener_closed);
}
