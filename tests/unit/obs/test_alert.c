/*
 * Unit tests for src/obs/alert.c: window rollover, the ratio rule
 * against a stored baseline, absolute limits, one alert per rule and
 * window with a cleared state, top-k evidence, first calls to a new
 * country (kept across a restart), off-hours calls, country codes, and
 * webhook delivery: retries with back-off through a fake transport,
 * then through libcurl to a local HTTP server thread, and the failure
 * event when nothing answers.
 *
 * Time is driven by hand (alert_tick's now_ms), in UTC; events are read
 * back from an evlog file.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/hash.h"
#include "obs/alert.h"
#include "obs/evlog.h"
#include "store/store.h"
#include "store/writer.h"

#define T0	INT64_C(1795392000000)	/* Monday 2026-11-23 00:00 UTC */
#define WIN	10000
#define HOOK	"http://hook.invalid:8080/path?token=secret"

struct sink {
	pthread_mutex_t	 mtx;
	int		 fail_first;	/* the first calls fail */
	int		 fail_always;
	int		 calls;
	int		 n;
	char		*body[64];
};

struct fix {
	char			 dir[64];
	char			 evpath[128];
	char			 dbpath[128];
	struct conf_alerts	 c;
	struct evlog		*el;
	struct sink		 sink;
};

static int
fake_post(void *arg, const char *url, const char *body, size_t len,
    uint32_t timeout_ms)
{
	struct sink *s = arg;
	int r = 0;

	(void)len;
	(void)timeout_ms;
	assert_string_equal(url, HOOK);
	pthread_mutex_lock(&s->mtx);
	s->calls++;
	if (s->fail_always || s->calls <= s->fail_first)
		r = 503;
	else if (s->n < 64)
		s->body[s->n++] = strdup(body);
	pthread_mutex_unlock(&s->mtx);
	return r;
}

static int
setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	struct evlog_opts o;

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/sw_alert_XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->evpath, sizeof(f->evpath), "%s/events.jsonl", f->dir);
	snprintf(f->dbpath, sizeof(f->dbpath), "%s/store.db", f->dir);
	evlog_opts_init(&o);
	o.path = f->evpath;
	o.node = "test";
	if (evlog_open(&o, &f->el) < 0)
		return -1;
	pthread_mutex_init(&f->sink.mtx, NULL);
	f->c.enabled = true;
	snprintf(f->c.webhook, sizeof(f->c.webhook), "%s", HOOK);
	f->c.webhook_timeout_ms = 1000;
	f->c.retries = 0;
	f->c.window_ms = WIN;
	f->c.factor = 10;
	f->c.min_count = 20;
	setenv("TZ", "UTC", 1);
	tzset();
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fix *f = *state;
	char cmd[128];

	evlog_close(f->el);
	for (int i = 0; i < f->sink.n; i++)
		free(f->sink.body[i]);
	pthread_mutex_destroy(&f->sink.mtx);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static struct alert *
engine(struct fix *f, int64_t now, struct store *st, struct store_writer *w)
{
	struct alert_opts o = {
		.conf = &f->c, .country_code = "1", .node = "test",
		.ev = f->el, .st = st, .wr = w, .post = fake_post,
		.post_arg = &f->sink, .backoff_ms = 5,
	};
	struct alert *a = NULL;

	assert_int_equal(alert_new(&o, now, &a), 0);
	return a;
}

/* Every event of type so far, as JSON objects (a new array). */
static json_t *
events(struct fix *f, const char *type)
{
	json_t *out = json_array();
	char line[SECEVENT_LINE_MAX];
	FILE *fp;

	assert_int_equal(evlog_flush(f->el), 0);
	if ((fp = fopen(f->evpath, "r")) == NULL)
		return out;
	while (fgets(line, sizeof(line), fp) != NULL) {
		json_t *ev = json_loads(line, 0, NULL);

		assert_non_null(ev);
		if (strcmp(json_string_value(json_object_get(ev, "type")),
		    type) == 0)
			json_array_append(out, ev);
		json_decref(ev);
	}
	fclose(fp);
	return out;
}

static size_t
nevents(struct fix *f, const char *type)
{
	json_t *e = events(f, type);
	size_t n = json_array_size(e);

	json_decref(e);
	return n;
}

static const char *
str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

static long long
num(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

/* n wrong-password REGISTERs from ip for user */
static void
feed_reg_failures(struct alert *a, int n, const char *ip, const char *user)
{
	struct secevent ev;
	union sw_addr src;

	assert_int_equal(sw_addr_parse(ip, 5060, &src), 0);
	secevent_init(&ev, SECEV_AUTH_FAILED);
	ev.src = &src;
	ev.method = slice_cstr("REGISTER");
	ev.account = slice_cstr(user);
	ev.reason = "bad_response";
	for (int i = 0; i < n; i++)
		alert_feed(a, &ev);
}

static void
feed_call(struct alert *a, const char *account, const char *e164)
{
	struct secevent ev;
	union sw_addr src;

	assert_int_equal(sw_addr_parse("198.51.100.7", 5060, &src), 0);
	secevent_init(&ev, SECEV_CALL_ATTEMPT);
	ev.src = &src;
	ev.method = slice_cstr("INVITE");
	ev.account = slice_cstr(account);
	secevent_add_str(&ev, "to", e164);
	secevent_add_str(&ev, "e164", e164);
	secevent_add_str(&ev, "direction", "outbound");
	alert_feed(a, &ev);
}

static void
seed_baseline(const char *path, const char *metric, double v)
{
	struct store_baseline b;
	struct store *st;

	assert_int_equal(store_open(path, STORE_CREATE, &st), 0);
	memset(&b, 0, sizeof(b));
	snprintf(b.metric, sizeof(b.metric), "%s", metric);
	b.value = v;
	b.samples = 10;
	for (uint32_t s = 0; s < STORE_BASELINE_SLOTS; s++) {
		b.slot = s;
		assert_int_equal(store_baseline_put(st, &b), 0);
	}
	store_close(st);
}

static json_t *
body(struct fix *f, int i)
{
	json_t *j;

	pthread_mutex_lock(&f->sink.mtx);
	assert_true(i < f->sink.n);
	j = json_loads(f->sink.body[i], 0, NULL);
	pthread_mutex_unlock(&f->sink.mtx);
	assert_non_null(j);
	return j;
}

static void
test_country_of(void **state)
{
	static const struct {
		const char	*digits, *cc;
	} ok[] = {
		{ "12125551234", "1" }, { "74951234567", "7" },
		{ "442071234567", "44" }, { "33123456789", "33" },
		{ "35312345678", "353" }, { "88612345678", "886" },
		{ "8821234", "882" }, { "2712345", "27" },
	};
	static const char *const bad[] = { "0441234", "4", "35", "" };
	char cc[4];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(alert_country_of(ok[i].digits, cc), 0);
		assert_string_equal(cc, ok[i].cc);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(alert_country_of(bad[i], cc), -EINVAL);
}

static void
test_ratio_one_alert_then_cleared(void **state)
{
	struct fix *f = *state;
	struct store *st;
	struct alert_stats s;
	struct alert *a;
	json_t *j, *ev, *top;

	seed_baseline(f->dbpath, "reg_failures", 2.0);
	assert_int_equal(store_open(f->dbpath, 0, &st), 0);
	a = engine(f, T0, st, NULL);
	store_close(st);

	/* window 1: 25 failures, 20 of them from one source */
	feed_reg_failures(a, 20, "192.0.2.1", "1001");
	feed_reg_failures(a, 5, "192.0.2.2", "1002");
	alert_tick(a, T0 + 5000);		/* still open */
	assert_int_equal(nevents(f, "alert.raised"), 0);
	alert_tick(a, T0 + WIN);
	assert_int_equal(alert_drain(a, 5000), 0);
	assert_int_equal(f->sink.n, 1);
	j = body(f, 0);
	assert_string_equal(str(j, "type"), "alert.raised");
	assert_string_equal(str(j, "rule"), "ratio");
	assert_string_equal(str(j, "metric"), "reg_failures");
	assert_int_equal(num(j, "value"), 25);
	assert_true(json_real_value(json_object_get(j, "baseline")) == 2.0);
	assert_int_equal(num(j, "limit"), 21);
	assert_int_equal(num(j, "window_s"), 10);
	assert_int_equal(num(json_object_get(j, "counters"), "reg_failures"),
	    25);
	assert_int_equal(num(json_object_get(j, "counters"), "auth_failures"),
	    25);
	top = json_object_get(j, "top_sources");
	assert_int_equal(json_array_size(top), 2);
	assert_string_equal(str(json_array_get(top, 0), "src"), "192.0.2.1");
	assert_int_equal(num(json_array_get(top, 0), "count"), 20);
	top = json_object_get(j, "top_accounts");
	assert_string_equal(str(json_array_get(top, 0), "account"), "1001");
	json_decref(j);
	ev = events(f, "alert.raised");
	assert_int_equal(json_array_size(ev), 1);
	j = json_array_get(ev, 0);
	assert_string_equal(str(j, "reason"), "ratio");
	assert_string_equal(str(j, "metric"), "reg_failures");
	assert_string_equal(str(j, "baseline"), "2.00");
	assert_string_equal(str(j, "top_sources"), "192.0.2.1=20,192.0.2.2=5");
	assert_string_equal(str(j, "top_accounts"), "1001=20,1002=5");
	json_decref(ev);

	/* window 2: the attack goes on, nothing new is raised */
	feed_reg_failures(a, 30, "192.0.2.1", "1001");
	alert_tick(a, T0 + 2 * WIN + 300);
	/* window 3: quiet, the alert clears */
	alert_tick(a, T0 + 3 * WIN);
	assert_int_equal(nevents(f, "alert.raised"), 1);
	ev = events(f, "alert.cleared");
	assert_int_equal(json_array_size(ev), 1);
	assert_string_equal(str(json_array_get(ev, 0), "metric"),
	    "reg_failures");
	json_decref(ev);
	/* the receiver hears the end too */
	assert_int_equal(alert_drain(a, 5000), 0);
	assert_int_equal(f->sink.n, 2);
	j = body(f, 1);
	assert_string_equal(str(j, "type"), "alert.cleared");
	assert_int_equal(num(j, "id"), 801);
	assert_string_equal(str(j, "rule"), "ratio");
	assert_string_equal(str(j, "metric"), "reg_failures");
	assert_int_equal(num(j, "value"), 0);
	json_decref(j);
	/* window 4: a new burst is a new alert */
	feed_reg_failures(a, 40, "192.0.2.3", "1003");
	alert_tick(a, T0 + 4 * WIN);
	assert_int_equal(alert_drain(a, 5000), 0);
	assert_int_equal(nevents(f, "alert.raised"), 2);
	assert_int_equal(f->sink.n, 3);
	alert_get_stats(a, &s);
	assert_int_equal(s.windows, 4);
	assert_int_equal(s.raised, 2);
	assert_int_equal(s.cleared, 1);
	assert_int_equal(s.delivered, 3);

	/* OPS1: what `sipwall alerts` and `rates` show */
	j = alert_alerts_json(a, 64);
	ev = json_object_get(j, "alerts");
	assert_int_equal(json_array_size(ev), 3);
	assert_string_equal(str(json_array_get(ev, 0), "event"), "raised");
	assert_string_equal(str(json_array_get(ev, 0), "key"), "reg_failures");
	assert_int_equal(num(json_array_get(ev, 0), "count"), 25);
	assert_int_equal(num(json_array_get(ev, 0), "at"), T0 + WIN);
	assert_false(json_is_true(json_object_get(json_array_get(ev, 0),
	    "active")));
	assert_string_equal(str(json_array_get(json_object_get(
	    json_array_get(ev, 0), "top_sources"), 0), "src"), "192.0.2.1");
	assert_string_equal(str(json_array_get(ev, 1), "event"), "cleared");
	assert_string_equal(str(json_array_get(ev, 2), "event"), "raised");
	assert_true(json_is_true(json_object_get(json_array_get(ev, 2),
	    "active")));
	assert_int_equal(num(json_array_get(ev, 2), "window_s"), 10);
	assert_true(json_real_value(json_object_get(json_array_get(ev, 2),
	    "baseline")) > 0);
	json_decref(j);
	j = alert_alerts_json(a, 1);
	assert_int_equal(json_array_size(json_object_get(j, "alerts")), 1);
	json_decref(j);
	feed_reg_failures(a, 4, "192.0.2.4", "1004");
	j = alert_rates_json(a);
	ev = json_object_get(j, "rates");
	assert_int_equal(json_array_size(ev), ALERT_M_MAX);
	top = json_array_get(ev, ALERT_M_REG_FAILURES);
	assert_string_equal(str(top, "metric"), "reg_failures");
	assert_int_equal(num(top, "current"), 4);
	assert_int_equal(num(top, "window_start"), T0 + 4 * WIN);
	assert_true(json_is_real(json_object_get(top, "baseline")));
	top = json_object_get(top, "history");
	assert_int_equal(json_array_size(top), 4);
	assert_int_equal(num(json_array_get(top, 0), "t"), T0);
	assert_int_equal(num(json_array_get(top, 0), "count"), 25);
	assert_int_equal(num(json_array_get(top, 1), "count"), 30);
	assert_int_equal(num(json_array_get(top, 3), "count"), 40);
	assert_true(json_real_value(json_object_get(json_array_get(top, 0),
	    "baseline")) == 2.0);
	/* calls_off_hours has no baseline */
	assert_true(json_is_null(json_object_get(json_array_get(ev,
	    ALERT_M_CALLS_OFF_HOURS), "baseline")));
	json_decref(j);
	alert_free(a);
}

/* A reload: new thresholds and webhook, the same counts; another
 * window length is refused. */
static void
test_reconf(void **state)
{
	struct fix *f = *state;
	struct conf_alerts c;
	struct alert *a;

	f->c.webhook[0] = '\0';	/* no delivery thread to begin with */
	a = engine(f, T0, NULL, NULL);
	feed_reg_failures(a, 6, "192.0.2.1", "1001");
	c = f->c;
	c.reg_failures = 5;
	snprintf(c.webhook, sizeof(c.webhook), "%s", HOOK);
	assert_int_equal(alert_reconf(a, &c), 0);
	/* the open window kept its 6: over the new limit */
	alert_tick(a, T0 + WIN);
	assert_int_equal(nevents(f, "alert.raised"), 1);
	assert_int_equal(alert_drain(a, 5000), 0);
	assert_int_equal(f->sink.n, 1);
	/* off: what is raised clears, nothing new is raised */
	c.enabled = false;
	assert_int_equal(alert_reconf(a, &c), 0);
	feed_reg_failures(a, 9, "192.0.2.1", "1001");
	alert_tick(a, T0 + 2 * WIN);
	assert_int_equal(nevents(f, "alert.raised"), 1);
	assert_int_equal(nevents(f, "alert.cleared"), 1);
	c.window_ms = 2 * WIN;
	assert_int_equal(alert_reconf(a, &c), -EBUSY);
	c.window_ms = WIN;
	c.nhours = 1;
	snprintf(c.hours[0], sizeof(c.hours[0]), "nonsense");
	assert_int_equal(alert_reconf(a, &c), -EINVAL);
	assert_int_equal(alert_reconf(a, NULL), -EINVAL);
	alert_free(a);
}

static void
test_min_count_and_no_baseline(void **state)
{
	struct fix *f = *state;
	struct alert *a;
	struct store *st;

	seed_baseline(f->dbpath, "reg_failures", 0.5);
	assert_int_equal(store_open(f->dbpath, 0, &st), 0);
	a = engine(f, T0, st, NULL);
	store_close(st);
	/* 19 is 38 times the baseline but below min_count; auth_failures
	 * has no baseline at all: no ratio alert */
	feed_reg_failures(a, 19, "192.0.2.1", "1001");
	alert_tick(a, T0 + WIN);
	assert_int_equal(nevents(f, "alert.raised"), 0);
	alert_free(a);
}

static void
test_absolute_limit(void **state)
{
	struct fix *f = *state;
	struct alert *a;
	json_t *ev;

	f->c.reg_failures = 10;
	f->c.webhook[0] = '\0';		/* events only */
	a = engine(f, T0 + 1234, NULL, NULL);	/* a partial first window */
	feed_reg_failures(a, 11, "192.0.2.9", "9");
	alert_tick(a, T0 + WIN + 10);
	ev = events(f, "alert.raised");
	assert_int_equal(json_array_size(ev), 1);
	assert_string_equal(str(json_array_get(ev, 0), "reason"), "limit");
	assert_int_equal(num(json_array_get(ev, 0), "limit"), 10);
	assert_int_equal(num(json_array_get(ev, 0), "value"), 11);
	assert_null(json_object_get(json_array_get(ev, 0), "baseline"));
	json_decref(ev);
	/* exactly the limit is not over it: cleared */
	feed_reg_failures(a, 10, "192.0.2.9", "9");
	alert_tick(a, T0 + 2 * WIN);
	assert_int_equal(nevents(f, "alert.raised"), 1);
	assert_int_equal(nevents(f, "alert.cleared"), 1);
	alert_free(a);
}

static void
test_topk_keeps_the_heavy_hitter(void **state)
{
	struct fix *f = *state;
	struct alert *a;
	json_t *j, *top;
	char ip[32];

	f->c.reg_failures = 1;
	a = engine(f, T0, NULL, NULL);
	for (int i = 0; i < 100; i++) {
		snprintf(ip, sizeof(ip), "10.0.%d.%d", i / 200, i % 200 + 1);
		feed_reg_failures(a, 1, ip, "x");
		feed_reg_failures(a, 1, "203.0.113.66", "victim");
	}
	feed_reg_failures(a, 1, "203.0.113.66", "victim");
	alert_tick(a, T0 + WIN);
	assert_int_equal(alert_drain(a, 5000), 0);
	j = body(f, 0);
	top = json_object_get(j, "top_sources");
	assert_int_equal(json_array_size(top), ALERT_TOPK);
	assert_string_equal(str(json_array_get(top, 0), "src"),
	    "203.0.113.66");
	assert_true(num(json_array_get(top, 0), "count") >= 101);
	top = json_object_get(j, "top_accounts");
	assert_string_equal(str(json_array_get(top, 0), "account"), "victim");
	assert_int_equal(num(json_array_get(top, 0), "count"), 101);
	json_decref(j);
	alert_free(a);
}

static void
test_new_country_and_calls(void **state)
{
	struct fix *f = *state;
	struct store_writer_conf wc;
	struct store_writer *w;
	struct store *st;
	struct alert *a;
	json_t *ev;

	f->c.new_country = true;
	f->c.calls_international = 2;
	f->c.calls_per_account = 3;
	f->c.webhook[0] = '\0';
	store_writer_conf_init(&wc, f->dbpath);
	wc.flags = STORE_CREATE;
	assert_int_equal(store_writer_start(&wc, &w, NULL, 0), 0);
	a = engine(f, T0, NULL, w);
	feed_call(a, "1001", "+442071234567");
	feed_call(a, "1001", "+442079999999");
	feed_call(a, "1001", "+12125551234");		/* home */
	feed_call(a, "1001", "+33123456789");
	feed_call(a, "1002", "+442071234567");
	alert_tick(a, T0 + 1000);
	ev = events(f, "alert.raised");
	assert_int_equal(json_array_size(ev), 3);
	for (size_t i = 0; i < 3; i++)
		assert_string_equal(str(json_array_get(ev, i), "reason"),
		    "new_country");
	assert_string_equal(str(json_array_get(ev, 0), "account"), "1001");
	assert_string_equal(str(json_array_get(ev, 0), "country"), "+44");
	assert_string_equal(str(json_array_get(ev, 1), "country"), "+33");
	assert_string_equal(str(json_array_get(ev, 2), "account"), "1002");
	json_decref(ev);
	alert_tick(a, T0 + 2000);
	assert_int_equal(nevents(f, "alert.raised"), 3);

	/* window end: 4 international calls > 2; 1001 made 4 > 3 */
	alert_tick(a, T0 + WIN);
	ev = events(f, "alert.raised");
	assert_int_equal(json_array_size(ev), 5);
	assert_string_equal(str(json_array_get(ev, 3), "reason"), "limit");
	assert_string_equal(str(json_array_get(ev, 3), "metric"),
	    "calls_international");
	assert_string_equal(str(json_array_get(ev, 4), "metric"),
	    "calls_per_account");
	assert_string_equal(str(json_array_get(ev, 4), "account"), "1001");
	assert_int_equal(num(json_array_get(ev, 4), "value"), 4);
	json_decref(ev);
	/* quiet: both clear, the account's too */
	alert_tick(a, T0 + 2 * WIN);
	assert_int_equal(nevents(f, "alert.cleared"), 2);
	alert_free(a);
	store_writer_sync(w);
	store_writer_stop(w);

	/* a restart remembers the countries */
	assert_int_equal(store_open(f->dbpath, 0, &st), 0);
	a = engine(f, T0 + 3 * WIN, st, NULL);
	store_close(st);
	feed_call(a, "1001", "+442071234567");
	feed_call(a, "1002", "+33123456789");
	alert_tick(a, T0 + 3 * WIN + 1000);
	ev = events(f, "alert.raised");
	assert_int_equal(json_array_size(ev), 6);
	assert_string_equal(str(json_array_get(ev, 5), "account"), "1002");
	assert_string_equal(str(json_array_get(ev, 5), "country"), "+33");
	json_decref(ev);
	alert_free(a);
}

static void
test_off_hours(void **state)
{
	struct fix *f = *state;
	struct alert *a;
	json_t *ev;

	f->c.webhook[0] = '\0';
	f->c.new_country = false;
	f->c.nhours = 2;
	snprintf(f->c.hours[0], sizeof(f->c.hours[0]), "mon-fri 08:00-18:00");
	snprintf(f->c.hours[1], sizeof(f->c.hours[1]), "sun 22:00-00:30");
	f->c.off_hours_calls = 2;

	/* Monday 00:00: inside "sun 22:00-00:30", past midnight */
	a = engine(f, T0, NULL, NULL);
	alert_tick(a, T0 + 1);
	for (int i = 0; i < 3; i++)
		feed_call(a, "1001", "+12125551234");
	alert_tick(a, T0 + WIN);
	assert_int_equal(nevents(f, "alert.raised"), 0);
	alert_free(a);

	/* Monday 03:00: off hours */
	a = engine(f, T0 + 3 * 3600000, NULL, NULL);
	alert_tick(a, T0 + 3 * 3600000 + 1);
	for (int i = 0; i < 3; i++)
		feed_call(a, "1001", "+12125551234");
	alert_tick(a, T0 + 3 * 3600000 + WIN);
	ev = events(f, "alert.raised");
	assert_int_equal(json_array_size(ev), 1);
	assert_string_equal(str(json_array_get(ev, 0), "reason"), "off_hours");
	assert_int_equal(num(json_array_get(ev, 0), "value"), 3);
	json_decref(ev);
	alert_free(a);

	/* Monday 09:00: business hours */
	a = engine(f, T0 + 9 * 3600000, NULL, NULL);
	alert_tick(a, T0 + 9 * 3600000 + 1);
	for (int i = 0; i < 3; i++)
		feed_call(a, "1001", "+12125551234");
	alert_tick(a, T0 + 9 * 3600000 + WIN);
	assert_int_equal(nevents(f, "alert.raised"), 1);
	alert_free(a);
}

static void
test_delivery_retries(void **state)
{
	struct fix *f = *state;
	struct alert_stats s;
	struct alert *a;
	json_t *ev, *j;

	f->c.reg_failures = 1;
	f->c.retries = 3;
	f->sink.fail_first = 2;
	a = engine(f, T0, NULL, NULL);
	feed_reg_failures(a, 2, "192.0.2.1", "1");
	alert_tick(a, T0 + WIN);
	assert_int_equal(alert_drain(a, 5000), 0);
	assert_int_equal(f->sink.calls, 3);
	assert_int_equal(f->sink.n, 1);
	alert_get_stats(a, &s);
	assert_int_equal(s.delivered, 1);
	assert_int_equal(s.delivery_failed, 0);
	alert_free(a);

	/* never answered: retries, then alert.delivery_failed */
	f->c.retries = 2;
	f->sink.calls = 0;
	f->sink.fail_always = 1;
	a = engine(f, T0, NULL, NULL);
	feed_reg_failures(a, 2, "192.0.2.1", "1");
	alert_tick(a, T0 + WIN);
	assert_int_equal(alert_drain(a, 5000), 0);
	assert_int_equal(f->sink.calls, 3);
	alert_get_stats(a, &s);
	assert_int_equal(s.delivery_failed, 1);
	ev = events(f, "alert.delivery_failed");
	assert_int_equal(json_array_size(ev), 1);
	j = json_array_get(ev, 0);
	assert_string_equal(str(j, "reason"), "http_status");
	assert_int_equal(num(j, "attempts"), 3);
	assert_int_equal(num(j, "http_status"), 503);
	/* the URL's path and token stay out of the log */
	assert_string_equal(str(j, "target"), "http://hook.invalid:8080");
	json_decref(ev);
	alert_free(a);
}

/* A one-shot HTTP server on 127.0.0.1: reads one request, answers. */
struct httpd {
	int		fd;
	uint16_t	port;
	int		status;
	char		req[16384];
	size_t		len;
	pthread_t	thr;
};

static void *
httpd_main(void *arg)
{
	struct httpd *h = arg;
	char resp[128];
	const char *e;
	size_t want = 0;
	ssize_t n;
	int c;

	if ((c = accept(h->fd, NULL, NULL)) < 0)
		return NULL;
	for (;;) {
		n = read(c, h->req + h->len, sizeof(h->req) - 1 - h->len);
		if (n <= 0)
			break;
		h->len += (size_t)n;
		h->req[h->len] = '\0';
		if ((e = strstr(h->req, "\r\n\r\n")) != NULL) {
			const char *cl = strcasestr(h->req, "Content-Length:");

			want = (size_t)(e + 4 - h->req) +
			    (cl != NULL ? strtoul(cl + 15, NULL, 10) : 0);
			if (h->len >= want)
				break;
		}
	}
	n = snprintf(resp, sizeof(resp), "HTTP/1.1 %d X\r\nContent-Length: 2"
	    "\r\nConnection: close\r\n\r\nok", h->status);
	if (write(c, resp, (size_t)n) != n)
		h->status = -1;		/* the client went away: the test says */
	close(c);
	return NULL;
}

static void
httpd_start(struct httpd *h, int status)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);

	memset(h, 0, sizeof(*h));
	h->status = status;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((h->fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(h->fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(h->fd, 4), 0);
	assert_int_equal(getsockname(h->fd, (struct sockaddr *)&sin, &sl), 0);
	h->port = ntohs(sin.sin_port);
	assert_int_equal(pthread_create(&h->thr, NULL, httpd_main, h), 0);
}

static void
test_curl_delivery(void **state)
{
	struct fix *f = *state;
	struct alert_opts o = { 0 };
	struct alert_stats s;
	struct httpd *h = calloc(1, sizeof(*h));
	struct alert *a;
	json_t *ev;
	int port;

	/* a local receiver */
	httpd_start(h, 200);
	f->c.reg_failures = 1;
	snprintf(f->c.webhook, sizeof(f->c.webhook),
	    "http://127.0.0.1:%u/hook", (unsigned)h->port);
	o.conf = &f->c;
	o.country_code = "1";
	o.ev = f->el;
	o.backoff_ms = 5;
	assert_int_equal(alert_new(&o, T0, &a), 0);
	feed_reg_failures(a, 2, "192.0.2.1", "1");
	alert_tick(a, T0 + WIN);
	assert_int_equal(alert_drain(a, 10000), 0);
	pthread_join(h->thr, NULL);
	close(h->fd);
	assert_int_equal(h->status, 200);
	assert_non_null(strstr(h->req, "POST /hook HTTP/1.1"));
	assert_non_null(strcasestr(h->req, "Content-Type: application/json"));
	assert_non_null(strstr(h->req, "\"metric\":\"reg_failures\""));
	alert_get_stats(a, &s);
	assert_int_equal(s.delivered, 1);
	alert_free(a);

	/* nobody listens any more: one retry, then the failure event */
	port = h->port;
	f->c.retries = 1;
	snprintf(f->c.webhook, sizeof(f->c.webhook),
	    "http://127.0.0.1:%d/hook", port);
	assert_int_equal(alert_new(&o, T0, &a), 0);
	feed_reg_failures(a, 2, "192.0.2.1", "1");
	alert_tick(a, T0 + WIN);
	assert_int_equal(alert_drain(a, 10000), 0);
	alert_get_stats(a, &s);
	assert_int_equal(s.delivery_failed, 1);
	ev = events(f, "alert.delivery_failed");
	assert_int_equal(json_array_size(ev), 1);
	assert_string_equal(str(json_array_get(ev, 0), "reason"),
	    "unreachable");
	assert_int_equal(num(json_array_get(ev, 0), "attempts"), 2);
	json_decref(ev);
	alert_free(a);
	free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_country_of),
		cmocka_unit_test_setup_teardown(
		    test_ratio_one_alert_then_cleared, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_min_count_and_no_baseline,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_absolute_limit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_topk_keeps_the_heavy_hitter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_country_and_calls,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_off_hours, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_delivery_retries, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_curl_delivery, setup,
		    teardown),
	};

	if (sw_hash_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
