/*
 * Security event sink (see evlog.h, docs/events.md).
 *
 * Owns: the double-buffered queue, the writer thread, the sinks (file,
 * stdout, syslog datagrams), the rate-limit table, the suppression and
 * drop summaries.  Does not own: the event taxonomy and JSON form
 * (secevent.c), log rotation policy (logrotate renames; we reopen).
 *
 * Locking: el->mtx guards the fill buffer, the flush/close/reopen
 * handshake and is held by producers only for a memcpy.  The writer
 * works on the other buffer without the lock.  The rate-limit table has
 * striped locks of its own; per-type limits and all counters are atomics.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/hash.h"
#include "core/log.h"
#include "obs/evlog.h"

#define EVLOG_RL_SLOTS		4096	/* (type, source) limiter entries */
#define EVLOG_RL_STRIPES	64
#define EVLOG_AVG_EVENT		512	/* bytes per queued event, for sizing */
#define EVLOG_RL_IDLE		2	/* seconds before a slot is swept */
#define EVLOG_LINGER_NS		2000000	/* gather a batch for up to 2 ms */

_Static_assert(SECEV_TYPE_MAX <= SECEVENT_MAX_COUNTERS,
    "the suppression summary must fit every type");

struct evmeta {
	uint32_t	off;
	uint32_t	len;		/* '\n' included */
	int64_t		ms;		/* event time, ms since the epoch */
	uint16_t	type;
	uint8_t		sev;
};

struct evbuf {
	char		*data;
	size_t		 len, cap;
	struct evmeta	*meta;
	unsigned	 n, max;
};

struct rl_slot {
	uint8_t		used;
	uint8_t		klen;
	uint16_t	type;
	uint8_t		key[20];	/* type, family, address */
	uint32_t	count;
	uint64_t	window;
	uint64_t	suppressed;
};

struct evlog {
	pthread_mutex_t		 mtx;
	pthread_cond_t		 cond_work;	/* writer waits */
	pthread_cond_t		 cond_done;	/* flushers wait */
	struct evbuf		 buf[2];
	struct evbuf		*fill;		/* producers append here */
	int			 writer_waiting;	/* idle: signal any event */
	int			 writer_lingering; /* batching: signal when half full */
	int			 closing;
	int			 writer_gone;
	uint64_t		 flush_req, flush_done;
	int			 pending_fd;	/* from evlog_reopen */
	pthread_t		 thr;

	/* sinks; after evlog_open() only the writer touches them */
	char			*path;
	int			 file_fd;
	int			 out_fd;
	int			 syslog_fd;
	int			 syslog_on;
	struct sockaddr_un	 syslog_addr;
	int			 syslog_fac;
	uint64_t		 syslog_retry;	/* earliest reconnect (s) */
	char			 node[SECEVENT_MAX_NODE + 1];
	char			 host[SECEVENT_MAX_NODE + 1];	/* RFC 5424 */
	char			 app[49];
	long			 pid;

	_Atomic(const struct evlog_hook *) hook;	/* evlog_set_hook */

	/* options */
	int			 min_sev;
	unsigned		 rate_per_key, rate_per_type, summary_interval;
	uint64_t		(*clock)(void *);
	void			*clock_arg;

	/* counters */
	_Atomic uint64_t	 queued, written, dropped, suppressed, filtered;
	_Atomic uint64_t	 write_errors, syslog_errors;
	uint64_t		 dropped_reported;	/* writer */
	uint64_t		 last_summary, last_sweep;	/* writer */
	_Atomic uint64_t	 type_state[SECEV_TYPE_MAX];	/* sec<<24|n */
	_Atomic uint64_t	 type_supp[SECEV_TYPE_MAX];	/* unreported */

	pthread_mutex_t		 rl_lock[EVLOG_RL_STRIPES];
	struct rl_slot		 rl[EVLOG_RL_SLOTS];

	char			 wline[SECEVENT_LINE_MAX];	/* writer */
	const struct evlog_tap *_Atomic tap;	/* evlog_set_tap() */
};

static struct log_ratelimit rl_write = LOG_RATELIMIT_INIT(1);
static struct log_ratelimit rl_syslog = LOG_RATELIMIT_INIT(1);

void
evlog_opts_init(struct evlog_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->syslog_facility = LOG_AUTHPRIV;
	o->syslog_path = "/dev/log";
	o->app_name = "sipwall";
	o->queue_len = 4096;
	o->min_sev = LOG_INFO;
	o->rate_per_key = 10;
	o->rate_per_type = 1000;
	o->summary_interval = 10;
}

static uint64_t
evlog_now(const struct evlog *el)
{
	struct timespec ts;

	if (el->clock != NULL)
		return el->clock(el->clock_arg);
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec;
}

/* RFC 5424 PRINTUSASCII (33..126), at most cap-1 bytes, "-" if empty. */
static void
evlog_sanitize(char *dst, size_t cap, const char *src)
{
	size_t o = 0;

	for (; src != NULL && *src != '\0' && o + 1 < cap; src++)
		dst[o++] = (*src > 32 && *src < 127) ? *src : '_';
	if (o == 0)
		dst[o++] = '-';
	dst[o] = '\0';
}

/*
 * Rate limits
 */

#define TL_BITS		24
#define TL_MASK		((UINT64_C(1) << TL_BITS) - 1)

/* Per-type limit, lock-free.  1: pass. */
static int
evlog_type_take(struct evlog *el, enum secevent_type t, uint64_t now)
{
	_Atomic uint64_t *st = &el->type_state[t];
	uint64_t old, nw, cnt;

	if (el->rate_per_type == 0)
		return 1;
	old = atomic_load_explicit(st, memory_order_relaxed);
	for (;;) {
		cnt = old & TL_MASK;
		if ((old >> TL_BITS) != now)
			nw = now << TL_BITS | 1;
		else if (cnt < el->rate_per_type && cnt < TL_MASK)
			nw = old + 1;
		else
			return 0;
		if (atomic_compare_exchange_weak_explicit(st, &old, nw,
		    memory_order_relaxed, memory_order_relaxed))
			return 1;
	}
}

static size_t
evlog_rl_key(const struct secevent *ev, uint8_t key[20])
{
	const union sw_addr *a = ev->src;

	memset(key, 0, 20);
	key[0] = (uint8_t)(ev->type >> 8);
	key[1] = (uint8_t)ev->type;
	if (a == NULL)
		return 3;
	key[2] = (uint8_t)a->sa.sa_family;
	if (a->sa.sa_family == AF_INET) {
		memcpy(key + 3, &a->sin.sin_addr, 4);
		return 7;
	}
	if (a->sa.sa_family == AF_INET6) {
		memcpy(key + 3, &a->sin6.sin6_addr, 16);
		return 19;
	}
	return 3;
}

/*
 * Per-(type, source) limit in fixed one-second windows.  1: pass, and
 * *ret_sup holds what was suppressed for this key since it last passed.
 */
static int
evlog_key_take(struct evlog *el, const struct secevent *ev, uint64_t now,
    uint64_t *ret_sup)
{
	uint8_t key[20];
	size_t klen = evlog_rl_key(ev, key);
	size_t idx = (size_t)(sw_hash(key, klen) % EVLOG_RL_SLOTS);
	pthread_mutex_t *lk = &el->rl_lock[idx % EVLOG_RL_STRIPES];
	struct rl_slot *s = &el->rl[idx];
	int pass = 1;

	*ret_sup = 0;
	if (el->rate_per_key == 0)
		return 1;
	pthread_mutex_lock(lk);
	if (!s->used || s->klen != klen || memcmp(s->key, key, klen) != 0) {
		/* empty or taken by another key: evict, keep its count */
		if (s->used && s->suppressed > 0)
			atomic_fetch_add_explicit(&el->type_supp[s->type],
			    s->suppressed, memory_order_relaxed);
		memset(s, 0, sizeof(*s));
		s->used = 1;
		s->klen = (uint8_t)klen;
		s->type = (uint16_t)ev->type;
		memcpy(s->key, key, klen);
		s->window = now;
		s->count = 1;
	} else if (s->window != now) {
		*ret_sup = s->suppressed;
		s->suppressed = 0;
		s->window = now;
		s->count = 1;
	} else if (s->count < el->rate_per_key) {
		s->count++;
	} else {
		s->suppressed++;
		pass = 0;
	}
	pthread_mutex_unlock(lk);
	return pass;
}

/* Move counts of idle slots (or all, when forced) to the summary. */
static void
evlog_rl_sweep(struct evlog *el, uint64_t now, int force)
{
	for (size_t st = 0; st < EVLOG_RL_STRIPES; st++) {
		pthread_mutex_lock(&el->rl_lock[st]);
		for (size_t i = st; i < EVLOG_RL_SLOTS; i += EVLOG_RL_STRIPES) {
			struct rl_slot *s = &el->rl[i];

			if (!s->used || (!force && s->window + EVLOG_RL_IDLE > now))
				continue;
			if (s->suppressed > 0)
				atomic_fetch_add_explicit(
				    &el->type_supp[s->type], s->suppressed,
				    memory_order_relaxed);
			memset(s, 0, sizeof(*s));
		}
		pthread_mutex_unlock(&el->rl_lock[st]);
	}
}

/*
 * Producer side
 */

static int
evbuf_half(const struct evbuf *b)
{
	return b->n >= b->max / 2 || b->len >= b->cap / 2;
}

/* Nothing but events to write: the writer may wait for more. */
static int
evlog_idle_request(const struct evlog *el)
{
	return !el->closing && el->flush_req == el->flush_done &&
	    el->pending_fd < 0;
}

int
evlog_emit(struct evlog *el, const struct secevent *ev)
{
	const struct secevent_info *in;
	const struct evlog_hook *hook;
	struct secevent e;
	char line[SECEVENT_LINE_MAX];
	uint64_t now, sup = 0;
	struct evbuf *b;
	int n, wake = 0, r = 0;

	if (el == NULL || ev == NULL)
		return EVLOG_FILTERED;
	if ((in = secevent_info(ev->type)) == NULL)
		return -EINVAL;
	hook = atomic_load_explicit(&el->hook, memory_order_acquire);
	if (hook != NULL && hook->fn != NULL)
		hook->fn(hook->arg, ev);
	if (in->sev > el->min_sev) {
		atomic_fetch_add_explicit(&el->filtered, 1, memory_order_relaxed);
		return EVLOG_FILTERED;
	}
	if (!(in->flags & SECEV_F_UNLIMITED)) {
		now = evlog_now(el);
		if (!evlog_key_take(el, ev, now, &sup)) {
			atomic_fetch_add_explicit(&el->suppressed, 1,
			    memory_order_relaxed);
			return EVLOG_SUPPRESSED;
		}
		if (!evlog_type_take(el, ev->type, now)) {
			/* nobody will carry sup now: the summary will */
			atomic_fetch_add_explicit(&el->type_supp[ev->type],
			    1 + sup, memory_order_relaxed);
			atomic_fetch_add_explicit(&el->suppressed, 1,
			    memory_order_relaxed);
			return EVLOG_SUPPRESSED;
		}
	}

	e = *ev;
	if (e.ts.tv_sec == 0 && e.ts.tv_nsec == 0)
		clock_gettime(CLOCK_REALTIME, &e.ts);
	e.suppressed = sup;
	if ((n = secevent_format(&e, el->node, line, sizeof(line))) < 0)
		return n;

	pthread_mutex_lock(&el->mtx);
	b = el->fill;
	if (el->closing)
		r = -EPIPE;
	else if (b->n >= b->max || (size_t)n > b->cap - b->len) {
		r = -SBC_EFULL;
		atomic_fetch_add_explicit(&el->dropped, 1, memory_order_relaxed);
	} else {
		struct evmeta *m = &b->meta[b->n++];

		m->off = (uint32_t)b->len;
		m->len = (uint32_t)n;
		m->ms = (int64_t)e.ts.tv_sec * 1000 + e.ts.tv_nsec / 1000000;
		m->type = (uint16_t)e.type;
		m->sev = (uint8_t)in->sev;
		memcpy(b->data + b->len, line, (size_t)n);
		b->len += (size_t)n;
		wake = el->writer_waiting ||
		    (el->writer_lingering && evbuf_half(b));
		atomic_fetch_add_explicit(&el->queued, 1, memory_order_relaxed);
	}
	pthread_mutex_unlock(&el->mtx);

	if (wake)
		pthread_cond_signal(&el->cond_work);
	if (r == -SBC_EFULL) {
		if (sup > 0)
			atomic_fetch_add_explicit(&el->type_supp[e.type], sup,
			    memory_order_relaxed);
	}
	return r;
}

/*
 * Writer side
 */

static int
evlog_write_all(int fd, const char *p, size_t len)
{
	ssize_t w;

	while (len > 0) {
		w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int
evlog_syslog_connect(struct evlog *el)
{
	struct timeval tv = { .tv_sec = 1 };
	int fd;

	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	/* a stalled syslogd may delay the writer, never a producer */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&el->syslog_addr,
	    sizeof(el->syslog_addr)) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	if (el->syslog_fd >= 0)
		close(el->syslog_fd);
	el->syslog_fd = fd;
	return 0;
}

/* RFC 5424: <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG */
static size_t
evlog_syslog_header(const struct evlog *el, const struct evmeta *m,
    char *b, size_t cap)
{
	struct timespec ts = { .tv_sec = (time_t)(m->ms / 1000),
	    .tv_nsec = (long)(m->ms % 1000) * 1000000 };
	char tsb[LOG_TIME_LEN];
	int n;

	n = snprintf(b, cap, "<%d>1 %s %s %s %ld %s - ",
	    el->syslog_fac | m->sev, log_time_iso(&ts, tsb, sizeof(tsb)),
	    el->host, el->app, el->pid,
	    secevent_type_name((enum secevent_type)m->type));
	if (n < 0)
		return 0;
	return (size_t)n < cap ? (size_t)n : cap - 1;
}

static void
evlog_syslog_batch(struct evlog *el, const char *data,
    const struct evmeta *meta, unsigned n)
{
	char hdr[512];
	struct iovec iov[2];
	unsigned i;
	uint64_t now;
	int e;

	if (!el->syslog_on)
		return;
	if (el->syslog_fd < 0) {
		now = evlog_now(el);
		if (now < el->syslog_retry || evlog_syslog_connect(el) < 0) {
			el->syslog_retry = now + 1;
			atomic_fetch_add_explicit(&el->syslog_errors, n,
			    memory_order_relaxed);
			return;
		}
	}
	for (i = 0; i < n; i++) {
		const struct evmeta *m = &meta[i];
		int retried = 0;

		iov[0].iov_base = hdr;
		iov[0].iov_len = evlog_syslog_header(el, m, hdr, sizeof(hdr));
		iov[1].iov_base = (void *)(data + m->off);
		iov[1].iov_len = m->len - 1;	/* no '\n' in a datagram */
again:
		if (writev(el->syslog_fd, iov, 2) >= 0)
			continue;
		e = errno;
		if (e == EINTR)
			goto again;
		if ((e == ECONNREFUSED || e == ENOTCONN) && !retried &&
		    evlog_syslog_connect(el) == 0) {
			retried = 1;	/* syslogd restarted */
			goto again;
		}
		LOG_LIMITED(LOG_WARNING, &rl_syslog, "evlog: syslog %s: %s",
		    el->syslog_addr.sun_path, strerror(e));
		if (e == EAGAIN || e == EWOULDBLOCK || e == ECONNREFUSED ||
		    e == ENOTCONN) {
			/* stalled or gone: give up on this batch */
			atomic_fetch_add_explicit(&el->syslog_errors, n - i,
			    memory_order_relaxed);
			if (e != EAGAIN && e != EWOULDBLOCK) {
				close(el->syslog_fd);
				el->syslog_fd = -1;
				el->syslog_retry = evlog_now(el) + 1;
			}
			return;
		}
		atomic_fetch_add_explicit(&el->syslog_errors, 1,
		    memory_order_relaxed);
	}
}

/* Deliver n events (lines in data[0..len)) to every sink. */
static void
evlog_deliver(struct evlog *el, const char *data, size_t len,
    const struct evmeta *meta, unsigned n)
{
	const struct evlog_tap *tap;
	int r;

	if (n == 0)
		return;
	if (el->file_fd >= 0 && (r = evlog_write_all(el->file_fd, data,
	    len)) < 0) {
		atomic_fetch_add_explicit(&el->write_errors, 1,
		    memory_order_relaxed);
		LOG_LIMITED(LOG_WARNING, &rl_write, "evlog: write %s: %s",
		    el->path, strerror(-r));
	}
	if (el->out_fd >= 0 && (r = evlog_write_all(el->out_fd, data,
	    len)) < 0) {
		atomic_fetch_add_explicit(&el->write_errors, 1,
		    memory_order_relaxed);
		LOG_LIMITED(LOG_WARNING, &rl_write, "evlog: write stdout: %s",
		    strerror(-r));
	}
	evlog_syslog_batch(el, data, meta, n);
	tap = atomic_load_explicit(&el->tap, memory_order_acquire);
	if (tap != NULL)
		tap->fn(tap->arg, data, len);
}

void
evlog_set_tap(struct evlog *el, const struct evlog_tap *tap)
{
	if (el != NULL)
		atomic_store_explicit(&el->tap, tap, memory_order_release);
}

/* Format one writer-made event and deliver it at once. */
static void
evlog_deliver_event(struct evlog *el, const struct secevent *ev)
{
	struct evmeta m = { 0 };
	int n;

	if ((n = secevent_format(ev, el->node, el->wline,
	    sizeof(el->wline))) < 0)
		return;
	m.len = (uint32_t)n;
	m.ms = (int64_t)ev->ts.tv_sec * 1000 + ev->ts.tv_nsec / 1000000;
	m.type = (uint16_t)ev->type;
	m.sev = (uint8_t)secevent_type_sev(ev->type);
	evlog_deliver(el, el->wline, (size_t)n, &m, 1);
}

/* Sweep the limiter; report suppressed and dropped counts when due. */
static void
evlog_periodic(struct evlog *el, int force)
{
	struct secevent_counter ctr[SECEV_TYPE_MAX];
	struct secevent ev;
	uint64_t now = evlog_now(el), total = 0, v, drops;
	size_t nctr = 0;

	if (force || now != el->last_sweep) {
		evlog_rl_sweep(el, now, force);
		el->last_sweep = now;
	}
	if (!force && now - el->last_summary < el->summary_interval)
		return;

	for (int t = 0; t < SECEV_TYPE_MAX; t++) {
		v = atomic_exchange_explicit(&el->type_supp[t], 0,
		    memory_order_relaxed);
		if (v == 0)
			continue;
		ctr[nctr].k = secevent_type_name((enum secevent_type)t);
		ctr[nctr].v = v;
		nctr++;
		total += v;
	}
	drops = atomic_load_explicit(&el->dropped, memory_order_relaxed) -
	    el->dropped_reported;
	if (nctr == 0 && drops == 0)
		return;
	el->last_summary = now;
	if (nctr > 0) {
		secevent_init(&ev, SECEV_EVENTS_SUPPRESSED);
		clock_gettime(CLOCK_REALTIME, &ev.ts);
		ev.reason = "rate_limit";
		ev.counters = ctr;
		ev.ncounters = nctr;
		secevent_add_int(&ev, "count", (long long)total);
		evlog_deliver_event(el, &ev);
	}
	if (drops > 0) {
		el->dropped_reported += drops;
		secevent_init(&ev, SECEV_EVENTS_DROPPED);
		clock_gettime(CLOCK_REALTIME, &ev.ts);
		ev.reason = "queue_full";
		secevent_add_int(&ev, "count", (long long)drops);
		secevent_add_int(&ev, "total", (long long)el->dropped_reported);
		evlog_deliver_event(el, &ev);
	}
}

static void *
evlog_writer(void *arg)
{
	struct evlog *el = arg;
	struct evbuf *b;
	struct timespec dl;
	uint64_t req;
	int closing, nfd;

	log_set_thread("evlog");
	pthread_mutex_lock(&el->mtx);
	for (;;) {
		while (el->fill->n == 0 && evlog_idle_request(el)) {
			clock_gettime(CLOCK_MONOTONIC, &dl);
			dl.tv_sec += 1;	/* periodic work at least each second */
			el->writer_waiting = 1;
			int rc = pthread_cond_timedwait(&el->cond_work, &el->mtx,
			    &dl);
			el->writer_waiting = 0;
			if (rc == ETIMEDOUT)
				break;
		}
		/*
		 * A few events arrived: let more gather for a moment so a
		 * burst costs one write, not one per event.  Producers wake
		 * us early when the buffer is half full; flush, reopen and
		 * close wake us at once.
		 */
		if (el->fill->n > 0 && !evbuf_half(el->fill) &&
		    evlog_idle_request(el)) {
			clock_gettime(CLOCK_MONOTONIC, &dl);
			dl.tv_nsec += EVLOG_LINGER_NS;
			if (dl.tv_nsec >= 1000000000L) {
				dl.tv_sec++;
				dl.tv_nsec -= 1000000000L;
			}
			el->writer_lingering = 1;
			while (!evbuf_half(el->fill) && evlog_idle_request(el) &&
			    pthread_cond_timedwait(&el->cond_work, &el->mtx,
			    &dl) != ETIMEDOUT)
				;
			el->writer_lingering = 0;
		}
		b = el->fill;
		el->fill = b == &el->buf[0] ? &el->buf[1] : &el->buf[0];
		req = el->flush_req;
		closing = el->closing;
		nfd = el->pending_fd;
		el->pending_fd = -1;
		pthread_mutex_unlock(&el->mtx);

		if (nfd >= 0) {
			if (el->file_fd >= 0)
				close(el->file_fd);
			el->file_fd = nfd;
		}
		if (b->n > 0) {
			evlog_deliver(el, b->data, b->len, b->meta, b->n);
			atomic_fetch_add_explicit(&el->written, b->n,
			    memory_order_relaxed);
			b->n = 0;
			b->len = 0;
		}
		evlog_periodic(el, closing);

		pthread_mutex_lock(&el->mtx);
		el->flush_done = req;
		pthread_cond_broadcast(&el->cond_done);
		if (closing && el->fill->n == 0)
			break;
	}
	el->writer_gone = 1;
	pthread_cond_broadcast(&el->cond_done);
	pthread_mutex_unlock(&el->mtx);
	return NULL;
}

/*
 * Life cycle
 */

static int
evlog_open_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOCTTY, 0640);

	return fd < 0 ? -errno : fd;
}

static void
evlog_free(struct evlog *el)
{
	if (el == NULL)
		return;
	for (int i = 0; i < 2; i++) {
		free(el->buf[i].data);
		free(el->buf[i].meta);
	}
	if (el->file_fd >= 0) {
		(void)fdatasync(el->file_fd);
		close(el->file_fd);
	}
	if (el->pending_fd >= 0)
		close(el->pending_fd);
	if (el->out_fd >= 0)
		close(el->out_fd);
	if (el->syslog_fd >= 0)
		close(el->syslog_fd);
	for (int i = 0; i < EVLOG_RL_STRIPES; i++)
		pthread_mutex_destroy(&el->rl_lock[i]);
	pthread_cond_destroy(&el->cond_work);
	pthread_cond_destroy(&el->cond_done);
	pthread_mutex_destroy(&el->mtx);
	free(el->path);
	free(el);
}

int
evlog_open(const struct evlog_opts *opts, struct evlog **ret_el)
{
	struct evlog *el;
	pthread_condattr_t ca;
	sigset_t all, old;
	size_t bytes;
	unsigned qlen;
	int r;

	if ((el = calloc(1, sizeof(*el))) == NULL)
		return -ENOMEM;
	el->file_fd = el->out_fd = el->syslog_fd = el->pending_fd = -1;
	pthread_mutex_init(&el->mtx, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&el->cond_work, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&el->cond_done, NULL);
	for (int i = 0; i < EVLOG_RL_STRIPES; i++)
		pthread_mutex_init(&el->rl_lock[i], NULL);

	el->min_sev = opts->min_sev;
	el->rate_per_key = opts->rate_per_key;
	el->rate_per_type = opts->rate_per_type;
	el->summary_interval = opts->summary_interval;
	el->clock = opts->clock;
	el->clock_arg = opts->clock_arg;
	el->syslog_fac = opts->syslog_facility & LOG_FACMASK;
	el->pid = (long)getpid();
	evlog_sanitize(el->app, sizeof(el->app),
	    opts->app_name != NULL ? opts->app_name : "sipwall");
	if (opts->node != NULL)
		snprintf(el->node, sizeof(el->node), "%s", opts->node);
	else if (gethostname(el->node, sizeof(el->node) - 1) < 0)
		snprintf(el->node, sizeof(el->node), "-");
	evlog_sanitize(el->host, sizeof(el->host), el->node);

	qlen = opts->queue_len > 0 ? opts->queue_len : 1;
	if (qlen > UINT32_MAX / 2)
		qlen = UINT32_MAX / 2;
	bytes = opts->queue_bytes > 0 ? opts->queue_bytes :
	    (size_t)qlen * EVLOG_AVG_EVENT;
	if (bytes < SECEVENT_LINE_MAX)
		bytes = SECEVENT_LINE_MAX;
	if (bytes > UINT32_MAX)
		bytes = UINT32_MAX;
	for (int i = 0; i < 2; i++) {
		el->buf[i].data = malloc(bytes);
		el->buf[i].meta = calloc(qlen, sizeof(struct evmeta));
		if (el->buf[i].data == NULL || el->buf[i].meta == NULL) {
			r = -ENOMEM;
			goto fail;
		}
		el->buf[i].cap = bytes;
		el->buf[i].max = qlen;
	}
	el->fill = &el->buf[0];

	if (opts->path != NULL) {
		if ((el->path = strdup(opts->path)) == NULL) {
			r = -ENOMEM;
			goto fail;
		}
		if ((r = evlog_open_file(opts->path)) < 0)
			goto fail;
		el->file_fd = r;
	}
	if (opts->to_stdout &&
	    (el->out_fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3)) < 0) {
		r = -errno;
		goto fail;
	}
	if (opts->to_syslog) {
		const char *sp = opts->syslog_path != NULL ? opts->syslog_path :
		    "/dev/log";

		el->syslog_addr.sun_family = AF_UNIX;
		if (strlen(sp) >= sizeof(el->syslog_addr.sun_path)) {
			r = -ENAMETOOLONG;
			goto fail;
		}
		memcpy(el->syslog_addr.sun_path, sp, strlen(sp) + 1);
		if ((r = evlog_syslog_connect(el)) < 0)
			log_warnx("evlog: syslog socket %s: %s; security "
			    "events will not go to syslog", sp, strerror(-r));
		else
			el->syslog_on = 1;
	}

	/* the first summary comes one interval after open at the earliest */
	el->last_summary = el->last_sweep = evlog_now(el);

	/* the writer takes no signals: they belong to the main thread */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&el->thr, NULL, evlog_writer, el);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		r = -r;
		goto fail;
	}
	*ret_el = el;
	return 0;
fail:
	evlog_free(el);
	return r;
}

void
evlog_set_hook(struct evlog *el, const struct evlog_hook *hook)
{
	if (el != NULL)
		atomic_store_explicit(&el->hook, hook, memory_order_release);
}

int
evlog_reopen(struct evlog *el)
{
	int fd;

	if (el == NULL || el->path == NULL)
		return 0;
	if ((fd = evlog_open_file(el->path)) < 0) {
		log_warnx("evlog: reopen %s: %s; still writing to the old file",
		    el->path, strerror(-fd));
		return fd;
	}
	pthread_mutex_lock(&el->mtx);
	if (el->pending_fd >= 0)
		close(el->pending_fd);
	el->pending_fd = fd;
	pthread_cond_signal(&el->cond_work);
	pthread_mutex_unlock(&el->mtx);
	return 0;
}

int
evlog_flush(struct evlog *el)
{
	uint64_t mine;
	int r = 0;

	if (el == NULL)
		return 0;
	pthread_mutex_lock(&el->mtx);
	mine = ++el->flush_req;
	pthread_cond_signal(&el->cond_work);
	while (el->flush_done < mine && !el->writer_gone)
		pthread_cond_wait(&el->cond_done, &el->mtx);
	if (el->flush_done < mine)
		r = -EPIPE;
	pthread_mutex_unlock(&el->mtx);
	return r;
}

uint64_t
evlog_dropped(const struct evlog *el)
{
	return el != NULL ? atomic_load_explicit(&el->dropped,
	    memory_order_relaxed) : 0;
}

void
evlog_get_stats(const struct evlog *el, struct evlog_stats *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (el == NULL)
		return;
	ret->queued = atomic_load_explicit(&el->queued, memory_order_relaxed);
	ret->written = atomic_load_explicit(&el->written, memory_order_relaxed);
	ret->dropped = atomic_load_explicit(&el->dropped, memory_order_relaxed);
	ret->suppressed = atomic_load_explicit(&el->suppressed,
	    memory_order_relaxed);
	ret->filtered = atomic_load_explicit(&el->filtered,
	    memory_order_relaxed);
	ret->write_errors = atomic_load_explicit(&el->write_errors,
	    memory_order_relaxed);
	ret->syslog_errors = atomic_load_explicit(&el->syslog_errors,
	    memory_order_relaxed);
}

void
evlog_close(struct evlog *el)
{
	if (el == NULL)
		return;
	pthread_mutex_lock(&el->mtx);
	el->closing = 1;
	pthread_cond_signal(&el->cond_work);
	pthread_mutex_unlock(&el->mtx);
	pthread_join(el->thr, NULL);
	evlog_free(el);
}
