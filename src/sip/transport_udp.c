/*
 * UDP listener: one socket per worker on the same address
 * (SO_REUSEPORT lets the kernel spread sources over workers and keeps a
 * source on one worker, so a retransmission meets its transaction).
 * Receive uses libuv's recvmmsg batching into one buffer allocated at
 * open; send is a direct, non-blocking sendmsg.  After a full batch
 * (more is waiting) the socket's queue is read with SO_MEMINFO and
 * reported through ops->backlog (overload control, PROT6).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/sock_diag.h>

#include "core/log.h"
#include "sip/transport.h"

/* libuv splits the receive buffer into 64 KiB slots, one datagram each */
#define UDP_SLOT	(64 * 1024)
#define UDP_BATCH	16

static struct log_ratelimit rl_udp_err = LOG_RATELIMIT_INIT(5);

struct udp_sock {
	uv_udp_t		 h;
	uint8_t			 lsn;
	const struct sip_rx_ops	*ops;
	void			*ctx;
	uint8_t			*rbuf;
	/* the batch being delivered */
	uint32_t		 batch_n;
	uint64_t		 batch_bytes;
	uint32_t		 drops;		/* SK_MEMINFO_DROPS last seen */
};

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct udp_sock *s = h->data;

	(void)suggested;
	buf->base = (char *)s->rbuf;
	buf->len = UDP_SLOT * UDP_BATCH;
}

/* Buffer bytes the kernel charges for a datagram of mean length len. */
static uint32_t
truesize(uint64_t len)
{
	uint32_t t = 512;

	while (t < len + 400 && t < (1u << 20))
		t <<= 1;
	return t + 256;
}

/* After a full batch: what waits behind it (one getsockopt). */
static void
report_backlog(struct udp_sock *s)
{
	uint32_t mi[SK_MEMINFO_VARS], per, d;
	socklen_t sl = sizeof(mi);
	struct sip_backlog b;
	uv_os_fd_t fd;

	if (s->ops->backlog == NULL || s->batch_n == 0 ||
	    uv_fileno((const uv_handle_t *)&s->h, &fd) < 0)
		return;
	memset(mi, 0, sizeof(mi));
	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mi, &sl) < 0 ||
	    sl < (SK_MEMINFO_RCVBUF + 1) * sizeof(mi[0]))
		return;
	per = truesize(s->batch_bytes / s->batch_n);
	memset(&b, 0, sizeof(b));
	b.lsn = s->lsn;
	b.queued = mi[SK_MEMINFO_RMEM_ALLOC] / per;
	b.capacity = mi[SK_MEMINFO_RCVBUF] / per;
	if (sl >= (SK_MEMINFO_DROPS + 1) * sizeof(mi[0])) {
		d = mi[SK_MEMINFO_DROPS];
		b.drops = d - s->drops;		/* the counter wraps */
		s->drops = d;
	}
	s->ops->backlog(s->ctx, &b);
}

static void
on_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
    const struct sockaddr *addr, unsigned flags)
{
	struct udp_sock *s = h->data;
	struct sip_dest src;

	(void)buf;
	if (nread < 0) {
		LOG_LIMITED(LOG_WARNING, &rl_udp_err, "udp: receive: %s",
		    uv_strerror((int)nread));
		return;
	}
	if (addr == NULL) {	/* end of a batch (or nothing to read) */
		if ((flags & UV_UDP_MMSG_FREE) && s->batch_n >= UDP_BATCH)
			report_backlog(s);
		s->batch_n = 0;
		s->batch_bytes = 0;
		return;
	}
	s->batch_n++;
	s->batch_bytes += (uint64_t)nread;
	if (flags & UV_UDP_PARTIAL)
		return;		/* a truncated datagram */
	memset(&src, 0, sizeof(src));
	memcpy(&src.addr, addr, addr->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	src.transport = SIP_TP_UDP;
	src.lsn = s->lsn;
	s->ops->message(s->ctx, &src, (const uint8_t *)buf->base,
	    (size_t)nread);
}

int
udp_sock_open(uv_loop_t *loop, const union sw_addr *addr, uint8_t lsn,
    size_t rcvbuf, const struct sip_rx_ops *ops, void *ctx,
    struct udp_sock **ret)
{
	struct udp_sock *s;
	int fd, one = 1, r, rb = (int)rcvbuf;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	if ((s->rbuf = malloc(UDP_SLOT * UDP_BATCH)) == NULL) {
		free(s);
		return -ENOMEM;
	}
	fd = socket(sw_addr_family(addr), SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		goto fail;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (sw_addr_family(addr) == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/* the buffer is what absorbs a flood while the worker is busy or
	 * not scheduled: ask for it past net.core.rmem_max while we may
	 * (CAP_NET_ADMIN, before privileges are dropped) */
	if (rb > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rb,
	    sizeof(rb)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rb, sizeof(rb));
	if (bind(fd, &addr->sa, sw_addr_len(addr)) < 0) {
		r = -errno;
		close(fd);
		goto fail;
	}
	if ((r = uv_udp_init_ex(loop, &s->h, UV_UDP_RECVMMSG)) < 0) {
		close(fd);
		goto fail;
	}
	s->h.data = s;
	s->lsn = lsn;
	s->ops = ops;
	s->ctx = ctx;
	if ((r = uv_udp_open(&s->h, fd)) < 0 ||
	    (r = uv_udp_recv_start(&s->h, on_alloc, on_recv)) < 0) {
		udp_sock_close(s);
		return r;
	}
	*ret = s;
	return 0;
fail:
	free(s->rbuf);
	free(s);
	return r;
}

int
udp_sock_send(struct udp_sock *s, const union sw_addr *to, const uint8_t *buf,
    size_t len)
{
	uv_buf_t b = uv_buf_init((char *)(uintptr_t)buf, (unsigned)len);
	int r = uv_udp_try_send(&s->h, &b, 1, &to->sa);

	return r < 0 ? r : 0;
}

static void
on_close(uv_handle_t *h)
{
	struct udp_sock *s = h->data;

	free(s->rbuf);
	free(s);
}

void
udp_sock_close(struct udp_sock *s)
{
	if (s == NULL)
		return;
	uv_udp_recv_stop(&s->h);
	uv_close((uv_handle_t *)&s->h, on_close);
}
