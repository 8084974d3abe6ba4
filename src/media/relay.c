/*
 * Media workers and sessions; see relay.h for the threading and
 * lifetime rules.  The packet path is relay_rx(): one recvmmsg batch
 * from one socket, one lock of the session's mutex, one sendmmsg per
 * output socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "media/portpool.h"
#include "media/relay.h"
#include "media/rtp_stats.h"
#include "media/srtp_ctx.h"

#define BATCH		32	/* datagrams per recvmmsg */
#define ROUNDS		4	/* batches per socket per wake-up */
#define PKT_MAX		2048	/* datagram plus SRTP trailer room */
#define EVENTS		256

struct mstream;

/* What an epoll event points at: one of our sockets. */
struct mport {
	struct mstream	*st;
	int		 fd;
	uint8_t		 side;
	uint8_t		 rtcp;		/* the RTCP socket of the pair */
};

struct mside {
	struct mport	 rtp, rtcp;
	struct portpool	*pool;		/* NULL: not open */
	uint16_t	 port;
	union sw_addr	 local;
	struct relay_peer peer;
	union sw_addr	 latch_rtp, latch_rtcp;	/* family 0: not yet */
	struct srtp_ctx	*rx, *tx;
	struct rtp_stats rs;
	uint64_t	 packets, bytes, rtcp_pkts, auth_failed, replayed,
			 foreign, malformed, unkeyed, last_rx_ms;
	union sw_addr	 last_foreign;
};

struct mstream {
	struct msess	*sess;
	struct mside	 side[2];
};

struct mworker;

struct msess {
	struct mworker	*w;
	pthread_mutex_t	 mu;
	struct msess	*next, *prev;	/* the worker's sessions */
	uint8_t		 released;
	struct mstream	*st[RELAY_MAX_STREAMS];
};

struct mworker {
	struct relay	*r;
	unsigned	 idx;
	pthread_t	 th;
	int		 started;
	int		 ep;
	int		 evfd;
	struct mport	 wake;		/* the eventfd's epoll tag */
	pthread_mutex_t	 qmu;		/* guards the lists below */
	struct msess	*live;		/* not released yet */
	struct msess	*dead;		/* released: free after the batch */
	size_t		 nsess;
	uint8_t		 stopped;
	struct portpool	*pools[RELAY_MAX_ADDRS];
	/* batch buffers: the worker's own */
	struct mmsghdr	 in[BATCH];
	struct iovec	 iov[BATCH];
	union sw_addr	 names[BATCH];
	uint8_t		 buf[BATCH][PKT_MAX];
	struct mmsghdr	 out[2][BATCH];
	struct iovec	 oiov[2][BATCH];
	union sw_addr	 dst[2][BATCH];
};

struct relay {
	struct relay_conf c;
	unsigned	  n;
	struct mworker	**w;
	atomic_uint	  rr;
	atomic_bool	  stop;
};

uint64_t
relay_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* ------------------------------------------------------------------ */
/* The packet path.                                                    */

static bool
may_latch(const struct relay *r, const struct mside *x,
    const union sw_addr *src)
{
	if (r->c.latch_any)
		return true;
	return (x->peer.rtp.sa.sa_family != 0 &&
	    sw_addr_eq_ip(src, &x->peer.rtp)) ||
	    (x->peer.rtcp.sa.sa_family != 0 &&
	    sw_addr_eq_ip(src, &x->peer.rtcp)) ||
	    (x->peer.sig.sa.sa_family != 0 &&
	    sw_addr_eq_ip(src, &x->peer.sig));
}

/*
 * Where a packet for side y goes: its latched source (symmetric RTP),
 * else what its SDP said.  NULL: nowhere (unknown or on hold).
 */
static const union sw_addr *
dest_of(const struct mside *y, int rtcp)
{
	if (y->peer.hold)
		return NULL;
	if (!rtcp || y->peer.rtcp_mux) {
		if (y->latch_rtp.sa.sa_family != 0)
			return &y->latch_rtp;
		return y->peer.rtp.sa.sa_family != 0 ? &y->peer.rtp : NULL;
	}
	if (y->latch_rtcp.sa.sa_family != 0)
		return &y->latch_rtcp;
	return y->peer.rtcp.sa.sa_family != 0 ? &y->peer.rtcp : NULL;
}

static void
flush(struct mworker *w, int fd, unsigned k, unsigned n)
{
	unsigned off = 0;

	while (off < n) {
		int r = sendmmsg(fd, &w->out[k][off], n - off, MSG_DONTWAIT);

		if (r <= 0) {
			/* a full socket buffer or an unreachable peer costs
			 * the rest of this batch, as a router would */
			if (r < 0 && errno == EINTR)
				continue;
			break;
		}
		off += (unsigned)r;
	}
}

/* One batch from mp's socket; returns the datagrams read. */
static int
relay_rx(struct mworker *w, struct mport *mp)
{
	struct mstream *st = mp->st;
	struct msess *s = st->sess;
	struct mside *x = &st->side[mp->side];
	struct mside *y = &st->side[mp->side ^ 1];
	const struct relay *r = w->r;
	int outfd[2] = { -1, -1 };
	unsigned nout[2] = { 0, 0 };
	uint64_t t_us, t_ms;
	int n;

	for (unsigned i = 0; i < BATCH; i++) {
		w->iov[i].iov_base = w->buf[i];
		w->iov[i].iov_len = PKT_MAX - SRTP_CTX_MAX_TRAILER;
		memset(&w->in[i].msg_hdr, 0, sizeof(w->in[i].msg_hdr));
		w->in[i].msg_hdr.msg_iov = &w->iov[i];
		w->in[i].msg_hdr.msg_iovlen = 1;
		w->in[i].msg_hdr.msg_name = &w->names[i];
		w->in[i].msg_hdr.msg_namelen = sizeof(w->names[i]);
	}
	n = recvmmsg(mp->fd, w->in, BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return 0;
	t_us = now_us();
	t_ms = t_us / 1000;

	pthread_mutex_lock(&s->mu);
	outfd[0] = y->rtp.fd;
	outfd[1] = y->rtcp.fd;
	for (int i = 0; i < n; i++) {
		const union sw_addr *src = &w->names[i];
		uint8_t *p = w->buf[i];
		size_t len = w->in[i].msg_len;
		int rtcp = !x->peer.raw && (mp->rtcp || rtp_is_rtcp(p, len));
		union sw_addr *latch = (mp->rtcp ? &x->latch_rtcp :
		    &x->latch_rtp);
		const union sw_addr *dst;
		unsigned k;
		int e;

		if (w->in[i].msg_hdr.msg_flags & MSG_TRUNC) {
			x->malformed++;
			continue;
		}
		/* the source: latched (strict), or plausibly the peer */
		if (latch->sa.sa_family != 0) {
			if (!sw_addr_eq(src, latch) &&
			    (r->c.strict || !may_latch(r, x, src))) {
				x->foreign++;
				x->last_foreign = *src;
				continue;
			}
		} else if (!may_latch(r, x, src)) {
			x->foreign++;
			x->last_foreign = *src;
			continue;
		}
		if (x->peer.secure && x->rx == NULL) {
			x->unkeyed++;
			continue;
		}
		if (x->rx != NULL) {
			e = rtcp ? srtp_ctx_rtcp(x->rx, p, &len, PKT_MAX) :
			    srtp_ctx_rtp(x->rx, p, &len, PKT_MAX);
			if (e == -EALREADY) {
				x->replayed++;
				continue;
			}
			if (e == -EINVAL) {	/* too short to be SRTP at all */
				x->malformed++;
				continue;
			}
			if (e < 0) {
				x->auth_failed++;
				continue;
			}
		}
		if (x->peer.raw)
			;
		else if (!rtcp) {
			struct rtp_hdr h;

			if (rtp_parse(p, len, &h) < 0) {
				x->malformed++;
				continue;
			}
			rtp_stats_rtp(&x->rs, &h, w->in[i].msg_len, t_us);
		} else
			x->rtcp_pkts++;
		/* only a packet that passed every check may latch */
		if (latch->sa.sa_family == 0 || !sw_addr_eq(src, latch))
			*latch = *src;
		x->packets++;
		x->bytes += w->in[i].msg_len;
		x->last_rx_ms = t_ms;

		if ((dst = dest_of(y, rtcp)) == NULL)
			continue;
		if (y->peer.secure && y->tx == NULL) {
			y->unkeyed++;
			continue;
		}
		k = (rtcp && !y->peer.rtcp_mux && y->rtcp.fd >= 0) ? 1 : 0;
		if (outfd[k] < 0)
			continue;
		if (y->tx != NULL) {
			e = rtcp ? srtp_ctx_rtcp(y->tx, p, &len, PKT_MAX) :
			    srtp_ctx_rtp(y->tx, p, &len, PKT_MAX);
			if (e < 0)
				continue;
		}
		w->dst[k][nout[k]] = *dst;
		w->oiov[k][nout[k]].iov_base = p;
		w->oiov[k][nout[k]].iov_len = len;
		nout[k]++;
	}
	pthread_mutex_unlock(&s->mu);

	for (unsigned k = 0; k < 2; k++) {
		for (unsigned j = 0; j < nout[k]; j++) {
			struct msghdr *h = &w->out[k][j].msg_hdr;

			memset(h, 0, sizeof(*h));
			h->msg_iov = &w->oiov[k][j];
			h->msg_iovlen = 1;
			h->msg_name = &w->dst[k][j];
			h->msg_namelen = sw_addr_len(&w->dst[k][j]);
		}
		if (nout[k] > 0)
			flush(w, outfd[k], k, nout[k]);
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* Session teardown, on the worker's thread.                           */

static void
side_close(struct mworker *w, struct mside *x)
{
	if (x->pool == NULL)
		return;
	if (x->rtp.fd >= 0) {
		epoll_ctl(w->ep, EPOLL_CTL_DEL, x->rtp.fd, NULL);
		close(x->rtp.fd);
	}
	if (x->rtcp.fd >= 0) {
		epoll_ctl(w->ep, EPOLL_CTL_DEL, x->rtcp.fd, NULL);
		close(x->rtcp.fd);
	}
	portpool_put(x->pool, x->port);
	x->pool = NULL;
	x->rtp.fd = x->rtcp.fd = -1;
}

static void
sess_destroy(struct mworker *w, struct msess *s)
{
	for (unsigned i = 0; i < RELAY_MAX_STREAMS; i++) {
		struct mstream *st = s->st[i];

		if (st == NULL)
			continue;
		for (unsigned k = 0; k < 2; k++) {
			side_close(w, &st->side[k]);
			srtp_ctx_free(st->side[k].rx);
			srtp_ctx_free(st->side[k].tx);
		}
		free(st);
	}
	pthread_mutex_destroy(&s->mu);
	free(s);
}

static void
reap(struct mworker *w)
{
	struct msess *d;

	pthread_mutex_lock(&w->qmu);
	d = w->dead;
	w->dead = NULL;
	pthread_mutex_unlock(&w->qmu);
	while (d != NULL) {
		struct msess *next = d->next;

		sess_destroy(w, d);
		d = next;
	}
}

static void *
worker_main(void *arg)
{
	struct mworker *w = arg;
	struct epoll_event ev[EVENTS];
	char name[16];

	snprintf(name, sizeof(name), "media%u", w->idx);
	prctl(PR_SET_NAME, name, 0, 0, 0);
	while (!atomic_load_explicit(&w->r->stop, memory_order_relaxed)) {
		int n = epoll_wait(w->ep, ev, EVENTS, 200);

		for (int i = 0; i < n; i++) {
			struct mport *mp = ev[i].data.ptr;

			if (mp == &w->wake) {
				uint64_t v;

				if (read(w->evfd, &v, sizeof(v)) < 0)
					(void)0;	/* drained or spurious */
				continue;
			}
			for (int k = 0; k < ROUNDS; k++)
				if (relay_rx(w, mp) < BATCH)
					break;
		}
		reap(w);
	}
	reap(w);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Setup and the SIP side's calls.                                     */

static void
worker_free(struct mworker *w)
{
	if (w == NULL)
		return;
	reap(w);
	while (w->live != NULL) {
		struct msess *s = w->live;

		w->live = s->next;
		sess_destroy(w, s);
	}
	for (unsigned a = 0; a < RELAY_MAX_ADDRS; a++)
		portpool_free(w->pools[a]);
	if (w->ep >= 0)
		close(w->ep);
	if (w->evfd >= 0)
		close(w->evfd);
	pthread_mutex_destroy(&w->qmu);
	free(w);
}

int
relay_new(const struct relay_conf *c, struct relay **ret)
{
	struct relay *r;
	uint32_t lo = c->port_min + (c->port_min & 1u), pairs, per;
	int e;

	if (c->workers == 0 || c->naddrs == 0 || c->naddrs > RELAY_MAX_ADDRS ||
	    c->port_max <= lo)
		return -EINVAL;
	pairs = ((uint32_t)c->port_max - lo + 1) / 2;
	if (pairs < c->workers)
		return -EINVAL;
	per = pairs / c->workers;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return -ENOMEM;
	r->c = *c;
	r->n = c->workers;
	if ((r->w = calloc(r->n, sizeof(*r->w))) == NULL) {
		free(r);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < r->n; i++) {
		struct mworker *w = calloc(1, sizeof(*w));
		uint32_t first = lo + 2 * per * i;
		uint32_t last = i + 1 == r->n ? c->port_max :
		    first + 2 * per - 1;
		struct epoll_event ev;

		if (w == NULL) {
			e = -ENOMEM;
			goto fail;
		}
		r->w[i] = w;
		w->r = r;
		w->idx = i;
		w->ep = w->evfd = -1;
		pthread_mutex_init(&w->qmu, NULL);
		for (size_t a = 0; a < c->naddrs; a++)
			if ((e = portpool_new((uint16_t)first, (uint16_t)last,
			    &w->pools[a])) < 0)
				goto fail;
		if ((w->ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
		    (w->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
			e = -errno;
			goto fail;
		}
		w->wake.fd = w->evfd;
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.ptr = &w->wake;
		if (epoll_ctl(w->ep, EPOLL_CTL_ADD, w->evfd, &ev) < 0) {
			e = -errno;
			goto fail;
		}
	}
	*ret = r;
	return 0;
fail:
	for (unsigned i = 0; i < r->n; i++)
		worker_free(r->w[i]);
	free(r->w);
	free(r);
	return e;
}

int
relay_start(struct relay *r)
{
	for (unsigned i = 0; i < r->n; i++) {
		int e = pthread_create(&r->w[i]->th, NULL, worker_main,
		    r->w[i]);

		if (e != 0) {
			relay_stop(r);
			return -e;
		}
		r->w[i]->started = 1;
	}
	return 0;
}

void
relay_stop(struct relay *r)
{
	if (r == NULL)
		return;
	atomic_store(&r->stop, true);
	for (unsigned i = 0; i < r->n; i++) {
		struct mworker *w = r->w[i];
		uint64_t one = 1;

		if (w->started) {
			if (write(w->evfd, &one, sizeof(one)) < 0)
				(void)0;	/* it wakes within 200 ms anyway */
			pthread_join(w->th, NULL);
			w->started = 0;
		}
		pthread_mutex_lock(&w->qmu);
		w->stopped = 1;
		pthread_mutex_unlock(&w->qmu);
	}
}

void
relay_free(struct relay *r)
{
	if (r == NULL)
		return;
	for (unsigned i = 0; i < r->n; i++)
		worker_free(r->w[i]);
	free(r->w);
	free(r);
}

struct msess *
relay_sess_new(struct relay *r)
{
	struct mworker *w = NULL;
	struct msess *s;
	unsigned start = atomic_fetch_add(&r->rr, 1);

	/* the worker with the fewest sessions, ties round robin */
	for (unsigned k = 0; k < r->n; k++) {
		struct mworker *c = r->w[(start + k) % r->n];

		if (w == NULL || c->nsess < w->nsess)
			w = c;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->w = w;
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_lock(&w->qmu);
	s->next = w->live;
	if (w->live != NULL)
		w->live->prev = s;
	w->live = s;
	w->nsess++;
	pthread_mutex_unlock(&w->qmu);
	return s;
}

void
relay_sess_release(struct msess *s)
{
	struct mworker *w;
	uint64_t one = 1;
	int now;

	if (s == NULL)
		return;
	w = s->w;
	pthread_mutex_lock(&w->qmu);
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		w->live = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	w->nsess--;
	s->released = 1;
	now = w->stopped;
	if (!now) {
		s->next = w->dead;
		s->prev = NULL;
		w->dead = s;
	}
	pthread_mutex_unlock(&w->qmu);
	if (now)
		sess_destroy(w, s);
	else if (write(w->evfd, &one, sizeof(one)) < 0)
		(void)0;	/* reaped on the next wake-up anyway */
}

static int
addr_index(const struct relay *r, const union sw_addr *a)
{
	for (size_t i = 0; i < r->c.naddrs; i++)
		if (sw_addr_eq_ip(&r->c.addrs[i], a))
			return (int)i;
	return -1;
}

static int
sock_bind(const union sw_addr *local, uint16_t port)
{
	union sw_addr a = *local;
	int fd;

	sw_addr_set_port(&a, port);
	fd = socket(a.sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0)
		return -errno;
	if (bind(fd, &a.sa, sw_addr_len(&a)) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

static int
port_watch(struct mworker *w, struct mport *mp)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = mp;
	return epoll_ctl(w->ep, EPOLL_CTL_ADD, mp->fd, &ev) < 0 ? -errno : 0;
}

/* Bind a pair from pool on local.  A pair another process holds goes
 * back to the pool and the next one is tried: the round robin tries it
 * again only after every other pair. */
static int
side_bind(struct mworker *w, struct mside *x, struct portpool *pool,
    const union sw_addr *local)
{
	size_t tries = portpool_size(pool);

	while (tries-- > 0) {
		uint16_t port;
		int a, b, e;

		if ((e = portpool_get(pool, &port)) < 0)
			return e;
		if ((a = sock_bind(local, port)) < 0) {
			portpool_put(pool, port);
			if (a == -EADDRINUSE)
				continue;
			return a;
		}
		if ((b = sock_bind(local, (uint16_t)(port + 1))) < 0) {
			close(a);
			portpool_put(pool, port);
			if (b == -EADDRINUSE)
				continue;
			return b;
		}
		x->rtp.fd = a;
		x->rtcp.fd = b;
		x->pool = pool;
		x->port = port;
		x->local = *local;
		if ((e = port_watch(w, &x->rtp)) < 0 ||
		    (e = port_watch(w, &x->rtcp)) < 0) {
			side_close(w, x);
			return e;
		}
		return 0;
	}
	return -ENOSPC;
}

int
relay_stream_open(struct msess *s, unsigned i, unsigned side,
    const union sw_addr *addr, uint16_t *port)
{
	struct mworker *w = s->w;
	struct mstream *st;
	struct mside *x;
	int ai = addr_index(w->r, addr), e = 0;

	if (i >= RELAY_MAX_STREAMS || side > 1 || ai < 0)
		return -EINVAL;
	pthread_mutex_lock(&s->mu);
	if ((st = s->st[i]) == NULL) {
		if ((st = calloc(1, sizeof(*st))) == NULL) {
			pthread_mutex_unlock(&s->mu);
			return -ENOMEM;
		}
		st->sess = s;
		for (unsigned k = 0; k < 2; k++) {
			struct mside *y = &st->side[k];

			y->rtp.st = y->rtcp.st = st;
			y->rtp.side = y->rtcp.side = (uint8_t)k;
			y->rtcp.rtcp = 1;
			y->rtp.fd = y->rtcp.fd = -1;
			rtp_stats_init(&y->rs, 8000);
		}
		s->st[i] = st;
	}
	x = &st->side[side];
	if (x->pool != NULL) {
		if (!sw_addr_eq_ip(&x->local, addr))
			e = -EINVAL;
	} else
		e = side_bind(w, x, w->pools[ai], addr);
	if (e == 0)
		*port = x->port;
	pthread_mutex_unlock(&s->mu);
	return e;
}

static struct mside *
side_of(struct msess *s, unsigned i, unsigned side)
{
	if (i >= RELAY_MAX_STREAMS || side > 1 || s->st[i] == NULL)
		return NULL;
	return &s->st[i]->side[side];
}

int
relay_stream_peer(struct msess *s, unsigned i, unsigned side,
    const struct relay_peer *p)
{
	struct mside *x;

	pthread_mutex_lock(&s->mu);
	if ((x = side_of(s, i, side)) == NULL) {
		pthread_mutex_unlock(&s->mu);
		return -EINVAL;
	}
	if (p->rtp.sa.sa_family != 0 && (x->peer.rtp.sa.sa_family == 0 ||
	    !sw_addr_eq(&p->rtp, &x->peer.rtp))) {
		/* moved (or first known): let the new source latch */
		memset(&x->latch_rtp, 0, sizeof(x->latch_rtp));
		memset(&x->latch_rtcp, 0, sizeof(x->latch_rtcp));
	}
	if (p->clock_hz != 0 && p->clock_hz != x->peer.clock_hz)
		rtp_stats_set_clock(&x->rs, p->clock_hz);
	x->peer = *p;
	pthread_mutex_unlock(&s->mu);
	return 0;
}

int
relay_stream_srtp(struct msess *s, unsigned i, unsigned side,
    struct srtp_ctx *rx, bool keep_rx, struct srtp_ctx *tx, bool keep_tx)
{
	struct srtp_ctx *old_rx = NULL, *old_tx = NULL;
	struct mside *x;

	pthread_mutex_lock(&s->mu);
	if ((x = side_of(s, i, side)) == NULL) {
		pthread_mutex_unlock(&s->mu);
		srtp_ctx_free(rx);
		srtp_ctx_free(tx);
		return -EINVAL;
	}
	if (!keep_rx) {
		old_rx = x->rx;
		x->rx = rx;
	}
	if (!keep_tx) {
		old_tx = x->tx;
		x->tx = tx;
	}
	pthread_mutex_unlock(&s->mu);
	srtp_ctx_free(old_rx);
	srtp_ctx_free(old_tx);
	return 0;
}

int
relay_stream_stats(struct msess *s, unsigned i, unsigned side,
    struct relay_side_stats *ret)
{
	struct mside *x;

	memset(ret, 0, sizeof(*ret));
	pthread_mutex_lock(&s->mu);
	if ((x = side_of(s, i, side)) == NULL) {
		pthread_mutex_unlock(&s->mu);
		return -EINVAL;
	}
	ret->packets = x->packets;
	ret->bytes = x->bytes;
	ret->rtcp = x->rtcp_pkts;
	ret->lost = rtp_stats_lost(&x->rs);
	ret->expected = rtp_stats_expected(&x->rs);
	ret->jitter_us = rtp_stats_jitter_us(&x->rs);
	ret->ooo = x->rs.ooo;
	ret->auth_failed = x->auth_failed;
	ret->replayed = x->replayed;
	ret->foreign = x->foreign;
	ret->malformed = x->malformed;
	ret->unkeyed = x->unkeyed;
	ret->last_rx_ms = x->last_rx_ms;
	ret->last_foreign = x->last_foreign;
	ret->latched = x->latch_rtp;
	ret->open = x->pool != NULL;
	ret->srtp = x->rx != NULL && x->tx != NULL;
	ret->port = x->port;
	pthread_mutex_unlock(&s->mu);
	return 0;
}

unsigned
relay_sess_nstreams(struct msess *s)
{
	unsigned n = 0;

	pthread_mutex_lock(&s->mu);
	for (unsigned i = 0; i < RELAY_MAX_STREAMS; i++)
		if (s->st[i] != NULL)
			n = i + 1;
	pthread_mutex_unlock(&s->mu);
	return n;
}

void
relay_counts(struct relay *r, struct relay_counts *ret)
{
	memset(ret, 0, sizeof(*ret));
	for (unsigned i = 0; i < r->n; i++) {
		struct mworker *w = r->w[i];

		pthread_mutex_lock(&w->qmu);
		ret->sessions += w->nsess;
		pthread_mutex_unlock(&w->qmu);
		for (size_t a = 0; a < r->c.naddrs; a++) {
			ret->pairs_in_use += portpool_in_use(w->pools[a]);
			ret->pairs_total += portpool_size(w->pools[a]);
		}
	}
}
