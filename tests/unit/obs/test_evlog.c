/*
 * Unit tests for src/obs/evlog.c: delivery to file/stdout/syslog, order
 * under concurrent producers, drops when the queue is full, rate limits
 * and their summaries, reopen for rotation, flush on close.
 *
 * Files live in a fresh mkdtemp() directory per test.  Rate-limit tests
 * drive the limiter with a fake clock (evlog_opts.clock).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <regex.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/err.h"
#include "core/log.h"
#include "obs/evlog.h"

struct tctx {
	char	dir[64];
	char	path[128];
};

static int
setup(void **state)
{
	struct tctx *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/sw_evlog_XXXXXX");
	if (mkdtemp(t->dir) == NULL)
		return -1;
	snprintf(t->path, sizeof(t->path), "%s/events.log", t->dir);
	umask(022);
	*state = t;
	return 0;
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
teardown(void **state)
{
	struct tctx *t = *state;
	int r = nftw(t->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);

	free(t);
	return r;
}

/* Lines of a file, parsed.  Returns a JSON array (caller decrefs). */
static json_t *
read_events_fd(int fd)
{
	json_t *arr = json_array();
	char *buf = NULL, *p, *nl;
	size_t len = 0, cap = 0;
	ssize_t r;

	for (;;) {
		if (cap - len < 65536) {
			cap = cap * 2 + 65536;
			buf = realloc(buf, cap + 1);
			assert_non_null(buf);
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		assert_true(r >= 0);
		if (r == 0)
			break;
		len += (size_t)r;
	}
	buf[len] = '\0';
	if (len > 0)
		assert_int_equal(buf[len - 1], '\n');	/* whole lines only */
	for (p = buf; p < buf + len; p = nl + 1) {
		json_error_t e;
		json_t *j;

		nl = memchr(p, '\n', (size_t)(buf + len - p));
		assert_non_null(nl);
		j = json_loadb(p, (size_t)(nl - p), 0, &e);
		if (j == NULL)
			fail_msg("bad line (%s): %.*s", e.text, (int)(nl - p), p);
		json_array_append_new(arr, j);
	}
	free(buf);
	return arr;
}

static json_t *
read_events(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	json_t *arr;

	assert_true(fd >= 0);
	arr = read_events_fd(fd);
	close(fd);
	return arr;
}

static const char *
ev_type(json_t *arr, size_t i)
{
	return json_string_value(json_object_get(json_array_get(arr, i),
	    "type"));
}

static long long
ev_int(json_t *arr, size_t i, const char *k)
{
	json_t *v = json_object_get(json_array_get(arr, i), k);

	return json_is_integer(v) ? json_integer_value(v) : -1;
}

static _Atomic uint64_t fake_now = 1000;

static uint64_t
fake_clock(void *arg)
{
	(void)arg;
	return atomic_load(&fake_now);
}

static void
base_opts(struct evlog_opts *o, const char *path)
{
	evlog_opts_init(o);
	o->path = path;
	o->node = "edge-1";
}

static void
mkevent(struct secevent *ev, enum secevent_type type, const union sw_addr *src)
{
	secevent_init(ev, type);
	ev->src = src;
	ev->transport = "udp";
	ev->reason = "test";
}

static void
test_file_basic(void **state)
{
	struct tctx *t = *state;
	struct evlog_opts o;
	struct evlog *el;
	struct secevent ev;
	union sw_addr src;
	struct evlog_stats st;
	struct stat sb;
	json_t *arr;

	base_opts(&o, t->path);
	assert_int_equal(evlog_open(&o, &el), 0);
	assert_int_equal(sw_addr_parse("192.0.2.1", 5060, &src), 0);
	mkevent(&ev, SECEV_SIP_MALFORMED, &src);
	assert_int_equal(evlog_emit(el, &ev), 0);
	mkevent(&ev, SECEV_AUTH_FAILED, &src);
	ev.account = SLICE_LIT("1001");
	assert_int_equal(evlog_emit(el, &ev), 0);
	mkevent(&ev, SECEV_BAN_ADDED, &src);
	secevent_add_int(&ev, "duration_s", 300);
	assert_int_equal(evlog_emit(el, &ev), 0);
	evlog_get_stats(el, &st);
	assert_int_equal(st.queued, 3);
	evlog_close(el);

	assert_int_equal(stat(t->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0640);
	arr = read_events(t->path);
	assert_int_equal(json_array_size(arr), 3);
	assert_string_equal(ev_type(arr, 0), "sip.malformed");
	assert_string_equal(ev_type(arr, 1), "auth.failed");
	assert_string_equal(ev_type(arr, 2), "ban.added");
	assert_int_equal(ev_int(arr, 2, "duration_s"), 300);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(arr, 1), "node")), "edge-1");
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(arr, 1), "src")), "192.0.2.1");
	json_decref(arr);
}

#define NPROD	4
#define NPER	10000

struct prod {
	struct evlog	*el;
	int		 id;
	unsigned	 retries;
};

static void *
producer(void *arg)
{
	struct prod *p = arg;
	struct secevent ev;
	union sw_addr src;
	char ip[32];
	int r;

	snprintf(ip, sizeof(ip), "198.51.100.%d", p->id + 1);
	sw_addr_parse(ip, 5060, &src);
	for (int i = 0; i < NPER; i++) {
		mkevent(&ev, SECEV_SIP_MALFORMED, &src);
		secevent_add_int(&ev, "thr", p->id);
		secevent_add_int(&ev, "seq", i);
		while ((r = evlog_emit(p->el, &ev)) == -SBC_EFULL) {
			p->retries++;	/* the test wants every event */
			sched_yield();
		}
		assert_int_equal(r, 0);
	}
	return NULL;
}

static void
test_concurrent_order(void **state)
{
	struct tctx *t = *state;
	struct evlog_opts o;
	struct evlog *el;
	struct prod p[NPROD];
	pthread_t th[NPROD];
	struct evlog_stats st;
	long long next[NPROD] = { 0 };
	unsigned retries = 0;
	json_t *arr;

	base_opts(&o, t->path);
	o.rate_per_key = 0;
	o.rate_per_type = 0;
	o.queue_len = 1024;
	assert_int_equal(evlog_open(&o, &el), 0);
	for (int i = 0; i < NPROD; i++) {
		p[i] = (struct prod){ .el = el, .id = i };
		assert_int_equal(pthread_create(&th[i], NULL, producer, &p[i]),
		    0);
	}
	for (int i = 0; i < NPROD; i++) {
		pthread_join(th[i], NULL);
		retries += p[i].retries;
	}
	evlog_get_stats(el, &st);
	assert_int_equal(st.queued, NPROD * NPER);
	assert_int_equal(st.dropped, retries);
	evlog_close(el);

	arr = read_events(t->path);
	/* every event once; per producer in order; drops are reported */
	for (size_t i = 0; i < json_array_size(arr); i++) {
		long long thr, seq;

		if (strcmp(ev_type(arr, i), "events.dropped") == 0)
			continue;
		thr = ev_int(arr, i, "thr");
		seq = ev_int(arr, i, "seq");
		assert_true(thr >= 0 && thr < NPROD);
		if (seq != next[thr])
			fail_msg("producer %lld: seq %lld, expected %lld", thr,
			    seq, next[thr]);
		next[thr]++;
	}
	for (int i = 0; i < NPROD; i++)
		assert_int_equal(next[i], NPER);
	json_decref(arr);
}

struct drain {
	int	 fd;
	json_t	*arr;
};

static void *
drainer(void *arg)
{
	struct drain *d = arg;

	d->arr = read_events_fd(d->fd);
	return NULL;
}

static void
test_queue_full_drops(void **state)
{
	struct tctx *t = *state;
	struct evlog_opts o;
	struct evlog *el;
	struct secevent ev;
	struct evlog_stats st;
	struct drain d;
	pthread_t th;
	char pad[300];
	unsigned ok = 0, dropped = 0, other = 0;
	long long reported = 0;
	size_t n, lines = 0;

	/*
	 * The sink is a FIFO nobody reads yet: the writer blocks once the
	 * pipe is full, the tiny queue fills, the rest must be dropped and
	 * counted, never block the producer.
	 */
	assert_int_equal(mkfifo(t->path, 0600), 0);
	d.fd = open(t->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	assert_true(d.fd >= 0);
	base_opts(&o, t->path);
	o.queue_len = 4;
	o.rate_per_key = 0;
	o.rate_per_type = 0;
	assert_int_equal(evlog_open(&o, &el), 0);
	memset(pad, 'p', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	for (int i = 0; i < 3000; i++) {
		int r;

		mkevent(&ev, SECEV_SIP_MALFORMED, NULL);
		ev.detail = pad;
		r = evlog_emit(el, &ev);
		if (r == 0)
			ok++;
		else if (r == -SBC_EFULL)
			dropped++;
		else
			other++;
	}
	assert_int_equal(other, 0);
	assert_true(dropped > 0);
	assert_int_equal(evlog_dropped(el), dropped);
	evlog_get_stats(el, &st);
	assert_int_equal(st.queued, ok);
	assert_int_equal(st.dropped, dropped);

	/* now read; close delivers the rest and the drop summary */
	assert_int_equal(fcntl(d.fd, F_SETFL, 0), 0);
	assert_int_equal(pthread_create(&th, NULL, drainer, &d), 0);
	evlog_close(el);
	pthread_join(th, NULL);
	close(d.fd);

	n = json_array_size(d.arr);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(ev_type(d.arr, i), "events.dropped") == 0) {
			reported += ev_int(d.arr, i, "count");
			assert_string_equal(json_string_value(json_object_get(
			    json_array_get(d.arr, i), "reason")), "queue_full");
		} else
			lines++;
	}
	assert_int_equal(lines, ok);
	assert_int_equal(reported, dropped);
	assert_string_equal(ev_type(d.arr, n - 1), "events.dropped");
	json_decref(d.arr);
}

static json_t *
find_type(json_t *arr, const char *type)
{
	for (size_t i = 0; i < json_array_size(arr); i++)
		if (strcmp(ev_type(arr, i), type) == 0)
			return json_array_get(arr, i);
	return NULL;
}

static void
test_rate_limit_per_key(void **state)
{
	struct tctx *t = *state;
	struct evlog_opts o;
	struct evlog *el;
	struct secevent ev;
	union sw_addr a, b;
	struct evlog_stats st;
	json_t *arr, *sum;
	int pass = 0;

	atomic_store(&fake_now, 1000);
	base_opts(&o, t->path);
	o.rate_per_key = 3;
	o.rate_per_type = 0;
	o.summary_interval = 100000;	/* only the final summary */
	o.clock = fake_clock;
	assert_int_equal(evlog_open(&o, &el), 0);
	sw_addr_parse("192.0.2.1", 5060, &a);
	sw_addr_parse("192.0.2.2", 5060, &b);

	for (int i = 0; i < 10; i++) {
		mkevent(&ev, SECEV_SIP_MALFORMED, &a);
		/* the source port does not make a new key */
		sw_addr_set_port(&a, (uint16_t)(5060 + i));
		assert_int_equal(evlog_emit(el, &ev), i < 3 ? 0 :
		    EVLOG_SUPPRESSED);
	}
	for (int i = 0; i < 10; i++) {
		mkevent(&ev, SECEV_SIP_MALFORMED, &b);
		pass += evlog_emit(el, &ev) == 0;
	}
	assert_int_equal(pass, 3);
	/* another type from the same source has its own budget */
	mkevent(&ev, SECEV_ACL_DENIED, &a);
	assert_int_equal(evlog_emit(el, &ev), 0);
	/* unlimited types are never limited */
	for (int i = 0; i < 50; i++) {
		mkevent(&ev, SECEV_BAN_ADDED, &a);
		assert_int_equal(evlog_emit(el, &ev), 0);
	}

	/* next second: the first event carries what was suppressed */
	atomic_store(&fake_now, 1001);
	mkevent(&ev, SECEV_SIP_MALFORMED, &a);
	ev.reason = "carrier";
	assert_int_equal(evlog_emit(el, &ev), 0);
	for (int i = 0; i < 10; i++) {
		mkevent(&ev, SECEV_SIP_MALFORMED, &a);
		assert_int_equal(evlog_emit(el, &ev), i < 2 ? 0 :
		    EVLOG_SUPPRESSED);
	}
	assert_int_equal(evlog_flush(el), 0);
	arr = read_events(t->path);
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *r = json_object_get(json_array_get(arr, i), "reason");

		if (strcmp(json_string_value(r), "carrier") == 0)
			assert_int_equal(ev_int(arr, i, "suppressed"), 7);
		else
			assert_null(json_object_get(json_array_get(arr, i),
			    "suppressed"));
	}
	assert_null(find_type(arr, "events.suppressed"));
	json_decref(arr);

	/* the 8 suppressed in the last window were never carried: once the
	 * key is idle they go to the summary (here: the final one) */
	atomic_store(&fake_now, 1010);
	assert_int_equal(evlog_flush(el), 0);
	evlog_get_stats(el, &st);
	assert_int_equal(st.suppressed, 7 + 7 + 8);
	evlog_close(el);

	arr = read_events(t->path);
	sum = find_type(arr, "events.suppressed");
	assert_non_null(sum);
	assert_int_equal(json_integer_value(json_object_get(sum, "count")),
	    7 + 8);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    sum, "counters"), "sip.malformed")), 7 + 8);
	json_decref(arr);
}

static void
test_rate_limit_per_type(void **state)
{
	struct tctx *t = *state;
	struct evlog_opts o;
	struct evlog *el;
	struct secevent ev;
	union sw_addr a;
	json_t *arr, *sum;
	int pass = 0;
	char ip[32];

	atomic_store(&fake_now, 5000);
	base_opts(&o, t->path);
	o.rate_per_key = 0;
	o.rate_per_type = 5;
	o.clock = fake_clock;
	assert_int_equal(evlog_open(&o, &el), 0);
	/* a spoofed flood: every packet from a new source */
	for (int i = 0; i < 20; i++) {
		snprintf(ip, sizeof(ip), "203.0.113.%d", i + 1);
		sw_addr_parse(ip, 5060, &a);
		mkevent(&ev, SECEV_SIP_OVERSIZED, &a);
		pass += evlog_emit(el, &ev) == 0;
	}
	assert_int_equal(pass, 5);
	evlog_close(el);
	arr = read_events(t->path);
	assert_int_equal(json_array_size(arr), 6);
	sum = find_type(arr, "events.suppressed");
	assert_non_null(sum);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    sum, "counters"), "sip.oversized")), 15);
	json_decref(arr);
}

static void
test_periodic_summary(void **state)
{
	struct tctx *t = *state;
	struct evlog_opts o;
	struct evlog *el;
	struct secevent ev;
	union sw_addr a;
	json_t *arr, *sum;

	atomic_store(&fake_now, 7000);
	base_opts(&o, t->path);
	o.rate_per_key = 1;
	o.summary_interval = 2;
	o.clock = fake_clock;
	assert_int_equal(evlog_open(&o, &el), 0);
	sw_addr_parse("192.0.2.9", 5060, &a);
	for (int i = 0; i < 5; i++) {
		mkevent(&ev, SECEV_RATE_LIMITED, &a);
		evlog_emit(el, &ev);
	}
	/* key idle and interval over: the writer reports without close */
	atomic_store(&fake_now, 7003);
	assert_int_equal(evlog_flush(el), 0);
	arr = read_events(t->path);
	sum = find_type(arr, "events.suppressed");
	assert_non_null(sum);
	assert_int_equal(json_integer_value(json_object_get(sum, "count")), 4);
	assert_string_equal(json_string_value(json_object_get(sum, "reason")),
	    "rate_limit");
	json_decref(arr);
	evlog_close(el);
	/* nothing is reported twice */
	arr = read_events(t->path);
	assert_int_equal(json_array_size(arr), 2);
	json_decref(arr);
}

static void
test_min_severity(void **state)
{
	struct tctx *t = *state;
	struct evlog_opts o;
	struct evlog *el;
	struct secevent ev;
	struct evlog_stats st;
	json_t *arr;

	base_opts(&o, t->path);
	o.min_sev = LOG_WARNING;
	assert_int_equal(evlog_open(&o, &el), 0);
	mkevent(&ev, SECEV_AUTH_OK, NULL);
	assert_int_equal(evlog_emit(el, &ev), EVLOG_FILTERED);
	mkevent(&ev, SECEV_AUTH_CHALLENGE, NULL);
	assert_int_equal(evlog_emit(el, &ev), EVLOG_FILTERED);
	mkevent(&ev, SECEV_AUTH_FAILED, NULL);
	assert_int_equal(evlog_emit(el, &ev), 0);
	mkevent(&ev, SECEV_ACCOUNT_LOCKED, NULL);
	assert_int_equal(evlog_emit(el, &ev), 0);
	evlog_get_stats(el, &st);
	assert_int_equal(st.filtered, 2);
	evlog_close(el);
	arr = read_events(t->path);
	assert_int_equal(json_array_size(arr), 2);
	json_decref(arr);

	/* debug events are off by default */
	base_opts(&o, t->path);
	assert_int_equal(evlog_open(&o, &el), 0);
	mkevent(&ev, SECEV_AUTH_CHALLENGE, NULL);
	assert_int_equal(evlog_emit(el, &ev), EVLOG_FILTERED);
	evlog_close(el);
}

static void
emit_n(struct evlog *el, int n, const char *reason)
{
	struct secevent ev;

	for (int i = 0; i < n; i++) {
		mkevent(&ev, SECEV_CONFIG_CHANGED, NULL);
		ev.reason = reason;
		assert_int_equal(evlog_emit(el, &ev), 0);
	}
}

static void
test_reopen(void **state)
{
	struct tctx *t = *state;
	struct evlog_opts o;
	struct evlog *el;
	char rotated[160], sub[160], subpath[200], sub2[160], moved[200];
	json_t *arr;

	base_opts(&o, t->path);
	assert_int_equal(evlog_open(&o, &el), 0);
	emit_n(el, 5, "before");
	assert_int_equal(evlog_flush(el), 0);
	snprintf(rotated, sizeof(rotated), "%s.1", t->path);
	assert_int_equal(rename(t->path, rotated), 0);
	assert_int_equal(evlog_reopen(el), 0);
	emit_n(el, 4, "after");
	evlog_close(el);

	arr = read_events(rotated);
	assert_int_equal(json_array_size(arr), 5);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(arr, 4), "reason")), "before");
	json_decref(arr);
	arr = read_events(t->path);
	assert_int_equal(json_array_size(arr), 4);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(arr, 0), "reason")), "after");
	json_decref(arr);

	/* a failed reopen reports the error and keeps the old file */
	snprintf(sub, sizeof(sub), "%s/sub", t->dir);
	snprintf(sub2, sizeof(sub2), "%s/sub2", t->dir);
	snprintf(subpath, sizeof(subpath), "%s/events.log", sub);
	snprintf(moved, sizeof(moved), "%s/events.log", sub2);
	assert_int_equal(mkdir(sub, 0700), 0);
	base_opts(&o, subpath);
	assert_int_equal(evlog_open(&o, &el), 0);
	assert_int_equal(rename(sub, sub2), 0);
	assert_int_equal(evlog_reopen(el), -ENOENT);
	emit_n(el, 3, "kept");
	evlog_close(el);
	arr = read_events(moved);
	assert_int_equal(json_array_size(arr), 3);
	json_decref(arr);
}

static int
bind_dgram(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 5 };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Receive one datagram, check the RFC 5424 header, return the JSON. */
static json_t *
recv_syslog(int fd, int pri, const char *msgid)
{
	static char buf[SECEVENT_LINE_MAX + 512];
	char pat[256];
	regex_t re;
	regmatch_t m[2];
	ssize_t n;
	json_error_t e;
	json_t *j;

	n = recv(fd, buf, sizeof(buf) - 1, 0);
	assert_true(n > 0);
	buf[n] = '\0';
	/* <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG */
	snprintf(pat, sizeof(pat), "^<%d>1 [0-9]{4}-[0-9]{2}-[0-9]{2}T"
	    "[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z edge-1 sipwall %ld %s - "
	    "(\\{.*\\})$", pri, (long)getpid(), msgid);
	assert_int_equal(regcomp(&re, pat, REG_EXTENDED), 0);
	if (regexec(&re, buf, 2, m, 0) != 0)
		fail_msg("not RFC 5424 as expected: %s", buf);
	regfree(&re);
	assert_int_not_equal(buf[n - 1], '\n');
	j = json_loadb(buf + m[1].rm_so, (size_t)(m[1].rm_eo - m[1].rm_so), 0,
	    &e);
	assert_non_null(j);
	return j;
}

static void
test_syslog(void **state)
{
	struct tctx *t = *state;
	struct evlog_opts o;
	struct evlog *el;
	struct secevent ev;
	union sw_addr src;
	struct evlog_stats st;
	char sock[128];
	int fd;
	json_t *j;

	snprintf(sock, sizeof(sock), "%s/log.sock", t->dir);
	fd = bind_dgram(sock);
	base_opts(&o, NULL);
	o.to_syslog = 1;
	o.syslog_path = sock;
	o.syslog_facility = LOG_LOCAL3;
	atomic_store(&fake_now, 100);
	o.clock = fake_clock;
	assert_int_equal(evlog_open(&o, &el), 0);

	sw_addr_parse("192.0.2.1", 5060, &src);
	mkevent(&ev, SECEV_AUTH_FAILED, &src);
	ev.account = SLICE_LIT("1001");
	assert_int_equal(evlog_emit(el, &ev), 0);
	mkevent(&ev, SECEV_CALL_ENDED, &src);
	assert_int_equal(evlog_emit(el, &ev), 0);
	assert_int_equal(evlog_flush(el), 0);

	/* local3 = 19; 19 * 8 + 4 (warning) = 156, + 6 (info) = 158 */
	j = recv_syslog(fd, 156, "auth.failed");
	assert_int_equal(json_integer_value(json_object_get(j, "id")), 202);
	assert_string_equal(json_string_value(json_object_get(j, "account")),
	    "1001");
	json_decref(j);
	j = recv_syslog(fd, 158, "call.ended");
	json_decref(j);

	/* syslogd restarts: the socket goes away and comes back */
	close(fd);
	unlink(sock);
	mkevent(&ev, SECEV_ACL_DENIED, &src);
	assert_int_equal(evlog_emit(el, &ev), 0);
	assert_int_equal(evlog_flush(el), 0);
	evlog_get_stats(el, &st);
	assert_int_equal(st.syslog_errors, 1);
	fd = bind_dgram(sock);
	atomic_store(&fake_now, 102);	/* past the reconnect back-off */
	mkevent(&ev, SECEV_ACL_DENIED, &src);
	ev.reason = "again";
	assert_int_equal(evlog_emit(el, &ev), 0);
	assert_int_equal(evlog_flush(el), 0);
	j = recv_syslog(fd, 156, "acl.denied");
	assert_string_equal(json_string_value(json_object_get(j, "reason")),
	    "again");
	json_decref(j);
	evlog_close(el);
	close(fd);
}

static void
test_syslog_absent(void **state)
{
	struct tctx *t = *state;
	struct evlog_opts o;
	struct evlog *el;
	struct secevent ev;
	char errpath[160], sock[160], buf[4096];
	int efd, n;
	json_t *arr;
	const char *p;
	int count = 0;

	/* capture the process log */
	snprintf(errpath, sizeof(errpath), "%s/stderr", t->dir);
	efd = open(errpath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(efd >= 0);
	log_set_output(efd);
	log_set_level(LOG_INFO);

	snprintf(sock, sizeof(sock), "%s/no-such.sock", t->dir);
	base_opts(&o, t->path);
	o.to_syslog = 1;
	o.syslog_path = sock;
	assert_int_equal(evlog_open(&o, &el), 0);
	for (int i = 0; i < 5; i++) {
		mkevent(&ev, SECEV_SCANNER_DETECTED, NULL);
		assert_int_equal(evlog_emit(el, &ev), 0);
	}
	evlog_close(el);

	log_set_output(-1);
	log_set_level(LOG_ERR);
	n = (int)pread(efd, buf, sizeof(buf) - 1, 0);
	close(efd);
	assert_true(n > 0);
	buf[n] = '\0';
	for (p = buf; (p = strstr(p, "syslog socket")) != NULL; p++)
		count++;
	assert_int_equal(count, 1);
	assert_non_null(strstr(buf, "No such file or directory"));
	/* the file sink did not suffer */
	arr = read_events(t->path);
	assert_int_equal(json_array_size(arr), 5);
	json_decref(arr);
}

static void
test_close_flushes(void **state)
{
	struct tctx *t = *state;
	struct evlog_opts o;
	struct evlog *el;
	json_t *arr;

	base_opts(&o, t->path);
	assert_int_equal(evlog_open(&o, &el), 0);
	emit_n(el, 3000, "x");
	evlog_close(el);
	arr = read_events(t->path);
	assert_int_equal(json_array_size(arr), 3000);
	json_decref(arr);
}

static void
test_stdout(void **state)
{
	struct tctx *t = *state;
	struct evlog_opts o;
	struct evlog *el;
	int fd, saved;
	json_t *arr;

	fd = open(t->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	dup2(fd, STDOUT_FILENO);
	base_opts(&o, NULL);
	o.to_stdout = 1;
	assert_int_equal(evlog_open(&o, &el), 0);
	/* the sink keeps its own descriptor */
	dup2(saved, STDOUT_FILENO);
	close(saved);
	emit_n(el, 2, "out");
	evlog_close(el);
	close(fd);
	arr = read_events(t->path);
	assert_int_equal(json_array_size(arr), 2);
	json_decref(arr);
}

static void
test_errors(void **state)
{
	struct tctx *t = *state;
	struct evlog_opts o;
	struct evlog *el;
	struct secevent ev;
	char bad[200];

	mkevent(&ev, SECEV_SIP_MALFORMED, NULL);
	assert_int_equal(evlog_emit(NULL, &ev), EVLOG_FILTERED);
	assert_int_equal(evlog_flush(NULL), 0);
	assert_int_equal(evlog_reopen(NULL), 0);
	assert_int_equal(evlog_dropped(NULL), 0);
	evlog_close(NULL);

	snprintf(bad, sizeof(bad), "%s/missing/events.log", t->dir);
	base_opts(&o, bad);
	assert_int_equal(evlog_open(&o, &el), -ENOENT);

	/* no sink at all is allowed: events are counted and discarded */
	base_opts(&o, NULL);
	assert_int_equal(evlog_open(&o, &el), 0);
	assert_int_equal(evlog_emit(el, &ev), 0);
	assert_int_equal(evlog_emit(el, NULL), EVLOG_FILTERED);
	ev.type = SECEV_TYPE_MAX;
	assert_int_equal(evlog_emit(el, &ev), -EINVAL);
	assert_int_equal(evlog_reopen(el), 0);
	assert_int_equal(evlog_flush(el), 0);
	evlog_close(el);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_file_basic, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_order, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_queue_full_drops, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rate_limit_per_key, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rate_limit_per_type, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_periodic_summary, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_min_severity, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syslog, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syslog_absent, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_close_flushes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stdout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	};

	/* keep expected warnings (syslog reconnects...) out of the output */
	log_init("test_evlog", LOG_ERR, LOG_TO_STDERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
