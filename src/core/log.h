/*
 * The process log: what the daemon itself has to say to its operator
 * (startup, errors, warnings, debug), in the style of OpenSMTPD's log.c.
 * Security decisions do not go here; they go to the security event
 * stream (obs/evlog.h).
 *
 * Every line carries a UTC timestamp with milliseconds, the role name
 * (the process: "sipwalld", "sipwall"), the pid and the thread name:
 *
 *   2026-11-26T17:25:33.123Z sipwalld[4242] worker-1 warning: udp: recvmmsg: Bad address
 *
 * To syslog (LOG_DAEMON) the line is "<thread> <level>: <message>"; syslog
 * adds its own time stamp and the role as ident.
 *
 * Thread-safe: each line is formatted on the caller's stack and written
 * with one write(2), so lines from concurrent threads never interleave.
 * Control characters and invalid UTF-8 in the formatted message are
 * escaped as \xNN, so a peer-controlled string can never start a new log
 * line or send terminal escapes; lines are cut at LOG_LINE_MAX bytes.
 * All functions preserve errno.
 */
#ifndef SW_CORE_LOG_H
#define SW_CORE_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>
#include <syslog.h>	/* LOG_ERR ... LOG_DEBUG for the level arguments */

#define LOG_LINE_MAX		2048	/* bytes of message per line */

/* Destinations for log_init(); several may be or'ed. */
#define LOG_TO_STDERR		0x1
#define LOG_TO_SYSLOG		0x2

#if defined(__GNUC__)
#define LOG_PRINTF(a, b)	__attribute__((format(printf, a, b)))
#else
#define LOG_PRINTF(a, b)
#endif

/*
 * Set the role name (copied, at most 31 bytes), the most verbose level
 * that is written (a syslog priority: LOG_INFO by default, LOG_DEBUG for
 * -v) and the destinations.  Call once before threads start; may be
 * called again after fork() in a child with a new role.
 */
void	log_init(const char *role, int level, int dest);
void	log_set_level(int level);
/*
 * Where LOG_TO_STDERR lines go: STDERR_FILENO unless set (a log file
 * opened by the daemon, a test's capture file).  The fd stays the
 * caller's; -1 restores stderr.
 */
void	log_set_output(int fd);
int	log_get_level(void);
/* True when a line at pri would be written. */
int	log_enabled(int pri);

/*
 * Name the calling thread in log lines (copied, at most 15 bytes; the
 * kernel's thread name is set too).  Unnamed threads show as "main" for
 * the initial thread and "t<tid>" for the others.
 */
void	log_set_thread(const char *name);
const char *log_thread_name(void);

/*
 * Format ts (CLOCK_REALTIME) as "2026-11-26T17:25:33.123Z" (RFC 3339,
 * UTC, milliseconds) into buf; cap >= LOG_TIME_LEN.  Returns buf.
 */
#define LOG_TIME_LEN		32
struct timespec;
const char *log_time_iso(const struct timespec *ts, char *buf, size_t cap);

void	logit(int pri, const char *fmt, ...) LOG_PRINTF(2, 3);
void	vlog(int pri, const char *fmt, va_list ap) LOG_PRINTF(2, 0);

/* log_warn appends ": strerror(errno)"; the x variants do not. */
void	log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
/*
 * Log at LOG_CRIT and exit(1).  Only at startup and for broken internal
 * invariants, never for anything a peer sent (STYLE.md 5).
 * fatal appends ": strerror(errno)", fatalx does not.
 */
_Noreturn void fatal(const char *fmt, ...) LOG_PRINTF(1, 2);
_Noreturn void fatalx(const char *fmt, ...) LOG_PRINTF(1, 2);

/*
 * Rate limit for log lines on per-packet paths: at most `burst` lines
 * per second per limiter, shared by all threads (lock-free).  Lines over
 * the limit are counted; the first line let through afterwards is
 * preceded by "suppressed K similar messages".
 *
 *	static struct log_ratelimit rl_short = LOG_RATELIMIT_INIT(5);
 *	LOG_LIMITED(LOG_INFO, &rl_short, "rtp: short packet from %s", ip);
 */
struct log_ratelimit {
	unsigned		burst;
	_Atomic uint64_t	state;		/* second << 24 | count */
	_Atomic uint64_t	suppressed;
};

#define LOG_RATELIMIT_INIT(n)	{ .burst = (n) }

/*
 * Take one line from rl.  Returns 1 when the line may be written, and
 * then *ret_suppressed holds the number of lines suppressed since the
 * previous line was let through (usually 0); returns 0 when over limit.
 */
int	log_ratelimit_take(struct log_ratelimit *rl, uint64_t *ret_suppressed);

#define LOG_LIMITED(pri, rl, ...) do {					\
	uint64_t log_sup_;						\
	if (log_enabled(pri) && log_ratelimit_take((rl), &log_sup_)) {	\
		if (log_sup_ > 0)					\
			logit((pri), "suppressed %llu similar messages",\
			    (unsigned long long)log_sup_);		\
		logit((pri), __VA_ARGS__);				\
	}								\
} while (0)

#endif
