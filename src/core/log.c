/*
 * Process log (see log.h).
 *
 * Owns: line format, escaping, the level, per-thread names, the
 * lock-free line rate limiter.  Does not own: the security event stream
 * (obs/evlog.c) or log files: stderr is whatever the service manager
 * gave us, and syslog is the C library's.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* GNU strerror_r, gettid, pthread_setname_np */
#endif

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/jsonw.h"
#include "core/log.h"

static char		log_role[32] = "sipwall";
static int		log_dest = LOG_TO_STDERR;
static _Atomic int	log_level = LOG_INFO;
static _Atomic int	log_fd = STDERR_FILENO;
static _Thread_local char log_thread[16];

void
log_init(const char *role, int level, int dest)
{
	int saved = errno;

	if (role != NULL)
		snprintf(log_role, sizeof(log_role), "%s", role);
	log_set_level(level);
	log_dest = dest;
	if (dest & LOG_TO_SYSLOG)
		openlog(log_role, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	errno = saved;
}

void
log_set_level(int level)
{
	if (level < LOG_EMERG)
		level = LOG_EMERG;
	if (level > LOG_DEBUG)
		level = LOG_DEBUG;
	atomic_store_explicit(&log_level, level, memory_order_relaxed);
}

void
log_set_output(int fd)
{
	atomic_store_explicit(&log_fd, fd >= 0 ? fd : STDERR_FILENO,
	    memory_order_relaxed);
}

int
log_get_level(void)
{
	return atomic_load_explicit(&log_level, memory_order_relaxed);
}

int
log_enabled(int pri)
{
	return pri <= atomic_load_explicit(&log_level, memory_order_relaxed);
}

void
log_set_thread(const char *name)
{
	int saved = errno;

	snprintf(log_thread, sizeof(log_thread), "%s", name);
	(void)pthread_setname_np(pthread_self(), log_thread);
	errno = saved;
}

const char *
log_thread_name(void)
{
	if (log_thread[0] == '\0') {
		pid_t tid = (pid_t)syscall(SYS_gettid);

		if (tid == getpid())
			snprintf(log_thread, sizeof(log_thread), "main");
		else
			snprintf(log_thread, sizeof(log_thread), "t%ld",
			    (long)tid);
	}
	return log_thread;
}

static const char *
log_level_name(int pri)
{
	static const char *const names[] = {
		"emerg", "alert", "crit", "err", "warning", "notice", "info",
		"debug",
	};

	return pri >= 0 && pri <= LOG_DEBUG ? names[pri] : "?";
}

/*
 * Copy src into dst[0..cap) with control characters and invalid UTF-8
 * as \xNN; valid UTF-8 passes.  Returns bytes written (no NUL).
 */
static size_t
log_escape(char *dst, size_t cap, const char *src, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = (const uint8_t *)src;
	size_t i = 0, o = 0, l;

	while (i < n) {
		if (p[i] >= 0x20 && p[i] < 0x7f) {
			if (o + 1 > cap)
				break;
			dst[o++] = (char)p[i++];
			continue;
		}
		l = p[i] >= 0x80 ? utf8_seq_len(p + i, n - i) : 0;
		/* C1 controls are valid UTF-8 but terminal escapes */
		if (l == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0)
			l = 0;
		if (l > 0) {
			if (o + l > cap)
				break;
			memcpy(dst + o, p + i, l);
			o += l;
			i += l;
			continue;
		}
		if (o + 4 > cap)
			break;
		dst[o++] = '\\';
		dst[o++] = 'x';
		dst[o++] = hex[p[i] >> 4];
		dst[o++] = hex[p[i] & 0xf];
		i++;
	}
	return o;
}

const char *
log_time_iso(const struct timespec *ts, char *buf, size_t cap)
{
	struct tm tm;
	time_t sec = ts->tv_sec;
	long ms = ts->tv_nsec / 1000000;

	if (ms < 0 || ms > 999)
		ms = 0;
	if (gmtime_r(&sec, &tm) == NULL || tm.tm_year + 1900 > 9999 ||
	    tm.tm_year + 1900 < 0) {
		sec = 0;
		gmtime_r(&sec, &tm);
	}
	snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100, tm.tm_mday % 100,
	    tm.tm_hour % 100, tm.tm_min % 100, tm.tm_sec % 100, (int)ms);
	return buf;
}

/* Format one line and send it; msg is already formatted, not escaped. */
static void
log_emit(int pri, const char *msg, size_t n)
{
	char esc[LOG_LINE_MAX];
	char line[LOG_LINE_MAX + 128];
	char tsb[LOG_TIME_LEN];
	struct timespec ts;
	size_t elen;
	int hl;

	elen = log_escape(esc, sizeof(esc), msg, n);
	if (log_dest & LOG_TO_SYSLOG)
		syslog(pri, "%s %s: %.*s", log_thread_name(),
		    log_level_name(pri), (int)elen, esc);
	if (log_dest & LOG_TO_STDERR) {
		int fd = atomic_load_explicit(&log_fd, memory_order_relaxed);
		ssize_t w;
		size_t off = 0, len;

		clock_gettime(CLOCK_REALTIME, &ts);
		hl = snprintf(line, sizeof(line), "%s %s[%ld] %s %s: ",
		    log_time_iso(&ts, tsb, sizeof(tsb)),
		    log_role, (long)getpid(), log_thread_name(),
		    log_level_name(pri));
		if (hl < 0)
			return;
		if ((size_t)hl > sizeof(line) - 2)
			hl = (int)(sizeof(line) - 2);
		len = (size_t)hl;
		if (elen > sizeof(line) - 1 - len)
			elen = sizeof(line) - 1 - len;
		memcpy(line + len, esc, elen);
		len += elen;
		line[len++] = '\n';
		/* one write per line: lines of concurrent threads stay whole */
		while (off < len) {
			w = write(fd, line + off, len - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			off += (size_t)w;
		}
	}
}

static void	log_vformat(int, int, int, const char *, va_list)
		    LOG_PRINTF(4, 0);

/* Format, optionally append strerror(err), emit. */
static void
log_vformat(int pri, int with_errno, int err, const char *fmt, va_list ap)
{
	char msg[LOG_LINE_MAX];
	char ebuf[128];
	size_t n;
	int r;

	r = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (r < 0)
		r = 0;
	n = (size_t)r < sizeof(msg) ? (size_t)r : sizeof(msg) - 1;
	if (with_errno) {
		const char *es = strerror_r(err, ebuf, sizeof(ebuf));

		size_t el = strlen(es);

		/* truncation is fine: the line is cut at LOG_LINE_MAX anyway */
		if (n + 2 < sizeof(msg)) {
			memcpy(msg + n, ": ", 2);
			n += 2;
		}
		if (el > sizeof(msg) - 1 - n)
			el = sizeof(msg) - 1 - n;
		memcpy(msg + n, es, el);
		n += el;
		msg[n] = '\0';
	}
	log_emit(pri, msg, n);
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	int saved = errno;

	if (log_enabled(pri))
		log_vformat(pri, 0, 0, fmt, ap);
	errno = saved;
}

void
logit(int pri, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(pri, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	if (log_enabled(LOG_WARNING)) {
		va_start(ap, fmt);
		log_vformat(LOG_WARNING, 1, saved, fmt, ap);
		va_end(ap);
	}
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

_Noreturn void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vformat(LOG_CRIT, 1, saved, fmt, ap);
	va_end(ap);
	exit(1);
}

_Noreturn void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vformat(LOG_CRIT, 0, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

#define RL_COUNT_BITS	24
#define RL_COUNT_MASK	((UINT64_C(1) << RL_COUNT_BITS) - 1)

int
log_ratelimit_take(struct log_ratelimit *rl, uint64_t *ret_suppressed)
{
	struct timespec ts;
	uint64_t now, old, sec, cnt, nw;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	now = (uint64_t)ts.tv_sec;
	old = atomic_load_explicit(&rl->state, memory_order_relaxed);
	for (;;) {
		sec = old >> RL_COUNT_BITS;
		cnt = old & RL_COUNT_MASK;
		if (sec != now)
			nw = now << RL_COUNT_BITS | 1;
		else if (cnt < rl->burst && cnt < RL_COUNT_MASK)
			nw = old + 1;
		else {
			atomic_fetch_add_explicit(&rl->suppressed, 1,
			    memory_order_relaxed);
			return 0;
		}
		if (atomic_compare_exchange_weak_explicit(&rl->state, &old, nw,
		    memory_order_relaxed, memory_order_relaxed))
			break;
	}
	*ret_suppressed = atomic_exchange_explicit(&rl->suppressed, 0,
	    memory_order_relaxed);
	return 1;
}
