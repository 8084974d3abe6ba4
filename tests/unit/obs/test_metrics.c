/*
 * Unit tests for src/obs/metrics.c: shards summed, label values,
 * request verdicts (first one wins, outside a bracket at once), the
 * exposition format checked line by line, cumulative histogram buckets,
 * the loop-lag maximum, and exact totals from many threads at once.
 */
#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf/conf.h"
#include "media/relay.h"
#include "obs/metrics.h"
#include "policy/ban.h"
#include "sip/msg.h"

#define NWORKERS	4

static struct sw_conf *
fake_conf(void)
{
	struct sw_conf *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->nzones = 2;
	snprintf(c->zones[0].name, sizeof(c->zones[0].name), "internet");
	snprintf(c->zones[1].name, sizeof(c->zones[1].name), "co\"re");
	return c;
}

static int
setup(void **state)
{
	struct sw_conf *c = fake_conf();

	if (metrics_open(c, NWORKERS, NULL) < 0)
		return -1;
	*state = c;
	return 0;
}

static int
teardown(void **state)
{
	metrics_close();
	free(*state);
	return 0;
}

/* Not inlined: gcc 12 then takes the text for a pointer to `buf`
 * itself (-Wdangling-pointer false positive). */
static __attribute__((noinline)) char *
render(void)
{
	char *buf = NULL;
	size_t len = 0;

	assert_int_equal(metrics_render(&buf, &len), 0);
	assert_non_null(buf);
	assert_int_equal(strlen(buf), len);
	return buf;
}

/* The value of the sample line "series value", or -1 when absent. */
static long long
value(const char *text, const char *series)
{
	size_t n = strlen(series);
	const char *p = text;

	while ((p = strstr(p, series)) != NULL) {
		unsigned long long v;

		if ((p == text || p[-1] == '\n') && p[n] == ' ' &&
		    sscanf(p + n + 1, "%llu", &v) == 1)
			return (long long)v;
		p += n;
	}
	return -1;
}

/* The text after "series " on its line (for non-integer values). */
static void
raw_value(const char *text, const char *series, char *out, size_t cap)
{
	const char *p = strstr(text, series);
	size_t n = 0;

	out[0] = '\0';
	if (p == NULL)
		return;
	p += strlen(series) + 1;
	while (p[n] != '\n' && p[n] != '\0' && n + 1 < cap)
		n++;
	memcpy(out, p, n);
	out[n] = '\0';
}

/* fn(args[i]) in n threads at once; returns when all have ended. */
static void
run_threads(void *(*fn)(void *), void *const *args, size_t n)
{
	pthread_t th[16];

	assert_true(n <= sizeof(th) / sizeof(th[0]));
	for (size_t i = 0; i < n; i++)
		assert_int_equal(pthread_create(&th[i], NULL, fn, args[i]), 0);
	for (size_t i = 0; i < n; i++)
		pthread_join(th[i], NULL);
}

static void
closed_is_noop(void **state)
{
	char *buf = NULL;
	size_t len = 0;

	(void)state;
	metrics_inc(MET_C_SRTP_FALLBACK, 1);
	metrics_verdict(0, MET_V_BANNED);
	metrics_auth_failure(0, "bad_response");
	metrics_loop_lag(5);
	assert_int_equal(metrics_render(&buf, &len), -ENXIO);
	assert_int_equal(metrics_open(NULL, 0, NULL), -EINVAL);
}

static void
open_twice_refused(void **state)
{
	assert_int_equal(metrics_open(*state, 1, NULL), -EINVAL);
}

struct shard_arg {
	int		worker;		/* -1: no shard of its own */
	unsigned	n;
};

static void *
count_thread(void *arg)
{
	const struct shard_arg *a = arg;

	if (a->worker >= 0)
		metrics_thread_worker((unsigned)a->worker);
	for (unsigned i = 0; i < a->n; i++) {
		metrics_inc(MET_C_MEDIA_PACKETS, 1);
		metrics_verdict(0, MET_V_RATE_LIMITED);
		metrics_req_begin(1, SIP_M_INVITE);
		metrics_req_end();
	}
	return NULL;
}

static void
shards_summed(void **state)
{
	struct shard_arg a[3] = { { 0, 10 }, { 3, 20 }, { -1, 5 } };
	void *args[3] = { &a[0], &a[1], &a[2] };
	char *t;

	(void)state;
	run_threads(count_thread, args, 3);
	metrics_inc(MET_C_MEDIA_PACKETS, 100);	/* this thread: shared */
	t = render();
	assert_int_equal(value(t, "sipwall_media_packets_total"), 135);
	assert_int_equal(value(t, "sipwall_sip_requests_total{zone=\"internet\","
	    "method=\"unknown\",verdict=\"rate_limited\"}"), 35);
	/* the zone name's quote is escaped */
	assert_int_equal(value(t, "sipwall_sip_requests_total{zone=\"co\\\"re\","
	    "method=\"INVITE\",verdict=\"accepted\"}"), 35);
	free(t);
}

static void
verdicts(void **state)
{
	char *t;

	(void)state;
	/* first verdict other than accepted wins */
	metrics_req_begin(0, SIP_M_REGISTER);
	metrics_verdict(0, MET_V_AUTH_FAILED);
	metrics_verdict(0, MET_V_AUTH_CHALLENGED);
	metrics_req_end();
	metrics_req_end();		/* a second end counts nothing */
	metrics_req_begin(0, SIP_M_REGISTER);
	metrics_req_end();
	metrics_req_begin(0, SIP_M_OTHER);
	metrics_req_end();
	metrics_req_begin(7, SIP_M_INVITE);	/* no such zone: ignored */
	metrics_req_end();
	metrics_verdict(1, MET_V_MALFORMED);
	metrics_verdict(1, MET_V_MAX);		/* ignored */
	t = render();
	assert_int_equal(value(t, "sipwall_sip_requests_total{zone=\"internet\","
	    "method=\"REGISTER\",verdict=\"auth_failed\"}"), 1);
	assert_int_equal(value(t, "sipwall_sip_requests_total{zone=\"internet\","
	    "method=\"REGISTER\",verdict=\"accepted\"}"), 1);
	assert_int_equal(value(t, "sipwall_sip_requests_total{zone=\"internet\","
	    "method=\"REGISTER\",verdict=\"auth_challenged\"}"), -1);
	assert_int_equal(value(t, "sipwall_sip_requests_total{zone=\"internet\","
	    "method=\"other\",verdict=\"accepted\"}"), 1);
	assert_int_equal(value(t, "sipwall_sip_requests_total{zone=\"co\\\"re\","
	    "method=\"unknown\",verdict=\"malformed\"}"), 1);
	free(t);
}

static void
labels(void **state)
{
	char *t;

	(void)state;
	metrics_auth_failure(0, "bad_response");
	metrics_auth_failure(0, "bad_response");
	metrics_auth_failure(0, "account_locked");
	metrics_auth_failure(1, "aor_mismatch");
	metrics_auth_failure(0, "no such reason");
	metrics_auth_failure(0, NULL);
	metrics_auth_ok(1);
	metrics_ban(BAN_R_SCANNER);
	metrics_ban(BAN_R_MAX);			/* ignored */
	metrics_call(MET_CALL_ANSWERED);
	metrics_call(MET_CALL_REFUSED);
	metrics_call_end(1, "bye");
	metrics_call_end(1, "whatever");
	metrics_call_end(0, "cancel");
	metrics_inc(MET_C_CALLS_ACTIVE, 3);
	metrics_dec(MET_C_CALLS_ACTIVE);
	metrics_inc(MET_C_TLS_CERT, 1);
	t = render();
	assert_int_equal(value(t, "sipwall_auth_failures_total{zone=\"internet\","
	    "reason=\"bad_response\"}"), 2);
	assert_int_equal(value(t, "sipwall_auth_failures_total{zone=\"internet\","
	    "reason=\"account_locked\"}"), 1);
	assert_int_equal(value(t, "sipwall_auth_failures_total{zone=\"co\\\"re\","
	    "reason=\"aor_mismatch\"}"), 1);
	assert_int_equal(value(t, "sipwall_auth_failures_total{zone=\"internet\","
	    "reason=\"other\"}"), 2);
	assert_int_equal(value(t, "sipwall_auth_successes_total{zone=\"co\\\"re\"}"),
	    1);
	assert_int_equal(value(t, "sipwall_auth_successes_total{zone=\"internet\"}"),
	    0);
	assert_int_equal(value(t, "sipwall_bans_total{reason=\"scanner\"}"), 1);
	assert_int_equal(value(t, "sipwall_calls_total{outcome=\"answered\"}"), 1);
	assert_int_equal(value(t, "sipwall_calls_total{outcome=\"refused\"}"), 1);
	/* a call that ends unanswered is a failed one */
	assert_int_equal(value(t, "sipwall_calls_total{outcome=\"failed\"}"), 1);
	assert_int_equal(value(t, "sipwall_calls_ended_total{reason=\"bye\"}"), 1);
	assert_int_equal(value(t, "sipwall_calls_ended_total{reason=\"other\"}"), 1);
	assert_int_equal(value(t, "sipwall_calls_failed_total{reason=\"cancel\"}"),
	    1);
	assert_int_equal(value(t, "sipwall_calls_active"), 2);
	assert_int_equal(value(t, "sipwall_tls_handshake_failures_total{reason="
	    "\"certificate\"}"), 1);
	assert_int_equal(value(t, "sipwall_tls_handshake_failures_total{reason="
	    "\"handshake\"}"), 0);
	free(t);
}

static void
histograms(void **state)
{
	struct relay_side_stats s;
#define LOSS(le)	"sipwall_media_packet_loss_ratio_bucket{le=\"" le "\"}"
#define JIT(le)		"sipwall_media_jitter_seconds_bucket{le=\"" le "\"}"
	static const struct {
		const char	*series;
		long long	 n;
	} want[] = {
		{ LOSS("0"), 2 }, { LOSS("0.02"), 2 }, { LOSS("0.05"), 3 },
		{ LOSS("0.5"), 3 }, { LOSS("+Inf"), 4 },
		{ "sipwall_media_packet_loss_ratio_count", 4 },
		{ JIT("0.001"), 1 }, { JIT("0.002"), 2 }, { JIT("0.05"), 3 },
		{ JIT("0.5"), 3 }, { JIT("+Inf"), 4 },
		{ "sipwall_media_jitter_seconds_count", 4 },
	};
#undef LOSS
#undef JIT
	char *t, v[32];
	long long prev = -1;
	static const char *const les[] = { "0", "0.001", "0.005", "0.01",
	    "0.02", "0.05", "0.1", "0.2", "0.5", "+Inf" };

	(void)state;
	memset(&s, 0, sizeof(s));
	metrics_media_leg(&s);		/* nothing received: not observed */
	s.packets = 1000;
	s.bytes = 172000;
	s.expected = 1000;
	s.lost = 0;
	s.jitter_us = 1500;
	metrics_media_leg(&s);		/* loss 0, jitter 1.5 ms */
	s.lost = 30;
	s.jitter_us = 40000;
	metrics_media_leg(&s);		/* loss 0.03, jitter 40 ms */
	s.lost = 2000;
	s.jitter_us = 900000;
	metrics_media_leg(&s);		/* loss capped at 1, jitter 0.9 s */
	s.lost = -5;			/* duplicates: no loss */
	s.jitter_us = 1000;
	s.foreign = 7;
	metrics_media_leg(&s);
	t = render();
	for (size_t i = 0; i < sizeof(les) / sizeof(les[0]); i++) {
		char series[96];
		long long n;

		snprintf(series, sizeof(series),
		    "sipwall_media_packet_loss_ratio_bucket{le=\"%s\"}", les[i]);
		n = value(t, series);
		assert_true(n >= prev);		/* cumulative */
		prev = n;
	}
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (value(t, want[i].series) != want[i].n)
			fail_msg("%s: %lld, not %lld", want[i].series,
			    value(t, want[i].series), want[i].n);
	raw_value(t, "sipwall_media_packet_loss_ratio_sum", v, sizeof(v));
	assert_string_equal(v, "1.03");
	raw_value(t, "sipwall_media_jitter_seconds_sum", v, sizeof(v));
	assert_string_equal(v, "0.9425");
	assert_int_equal(value(t, "sipwall_media_packets_total"), 4000);
	assert_int_equal(value(t, "sipwall_media_foreign_packets_total"), 7);
	free(t);
}

static void *
lag_thread(void *arg)
{
	(void)arg;
	metrics_thread_worker(2);
	metrics_loop_lag(1500);
	metrics_loop_lag(700);
	return NULL;
}

static void
loop_lag(void **state)
{
	void *args[1] = { NULL };
	char *t, v[32];

	(void)state;
	metrics_loop_lag(99);		/* not a worker: ignored */
	run_threads(lag_thread, args, 1);
	t = render();
	raw_value(t, "sipwall_event_loop_lag_seconds{worker=\"2\"}", v,
	    sizeof(v));
	assert_string_equal(v, "0.0015");
	assert_int_equal(value(t, "sipwall_event_loop_lag_seconds{worker=\"0\"}"),
	    0);
	free(t);
	t = render();			/* the maximum covers one interval */
	raw_value(t, "sipwall_event_loop_lag_seconds{worker=\"2\"}", v,
	    sizeof(v));
	assert_string_equal(v, "0");
	free(t);
}

/*
 * Every line is a HELP, a TYPE or a sample; every sample belongs to the
 * family of the TYPE line above it; counters end in _total; histogram
 * samples are _bucket (with le), _sum or _count.
 */
static void
exposition_format(void **state)
{
	static const char *types[] = { "counter", "gauge", "histogram" };
	regex_t help, type, sample;
	regmatch_t mt[4];
	char family[128] = "", ftype[16] = "", *t, *line, *nl;
	size_t nsamples = 0, nfamilies = 0;

	(void)state;
	metrics_inc(MET_C_SRTP_FALLBACK, 2);
	metrics_verdict(0, MET_V_SHED);
	assert_int_equal(regcomp(&help, "^# HELP (sipwall_[a-z0-9_]+) [^\n]+$",
	    REG_EXTENDED), 0);
	assert_int_equal(regcomp(&type, "^# TYPE (sipwall_[a-z0-9_]+) "
	    "([a-z]+)$", REG_EXTENDED), 0);
	assert_int_equal(regcomp(&sample, "^(sipwall_[a-z0-9_]+)"
	    "(\\{[a-z_]+=\"([^\"\\\\]|\\\\.)*\"(,[a-z_]+=\"([^\"\\\\]|\\\\.)*\")*\\})?"
	    " [0-9]+(\\.[0-9]+)?$", REG_EXTENDED), 0);
	t = render();
	assert_true(t[strlen(t) - 1] == '\n');
	for (line = t; *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		assert_non_null(nl);
		*nl = '\0';
		if (regexec(&help, line, 2, mt, 0) == 0)
			continue;
		if (regexec(&type, line, 3, mt, 0) == 0) {
			int known = 0;

			snprintf(family, sizeof(family), "%.*s",
			    (int)(mt[1].rm_eo - mt[1].rm_so), line + mt[1].rm_so);
			snprintf(ftype, sizeof(ftype), "%.*s",
			    (int)(mt[2].rm_eo - mt[2].rm_so), line + mt[2].rm_so);
			for (size_t i = 0; i < 3; i++)
				known |= strcmp(ftype, types[i]) == 0;
			assert_true(known);
			if (strcmp(ftype, "counter") == 0)
				assert_non_null(strstr(family, "_total"));
			nfamilies++;
			continue;
		}
		if (regexec(&sample, line, 2, mt, 0) != 0)
			fail_msg("not a 0.0.4 line: '%s'", line);
		{
			char name[128];
			size_t fl = strlen(family);

			snprintf(name, sizeof(name), "%.*s",
			    (int)(mt[1].rm_eo - mt[1].rm_so), line);
			assert_true(fl > 0);
			if (strcmp(ftype, "histogram") == 0) {
				assert_memory_equal(name, family, fl);
				assert_true(strcmp(name + fl, "_sum") == 0 ||
				    strcmp(name + fl, "_count") == 0 ||
				    (strcmp(name + fl, "_bucket") == 0 &&
				    strstr(line, "le=\"") != NULL));
			} else
				assert_string_equal(name, family);
		}
		nsamples++;
	}
	assert_true(nfamilies >= 15);
	assert_true(nsamples >= nfamilies);
	regfree(&help);
	regfree(&type);
	regfree(&sample);
	free(t);
}

#define NTHREADS	8
#define NINC		200000

static void *
hammer(void *arg)
{
	unsigned i = (unsigned)(uintptr_t)arg;

	/* half the threads share shard 0, two share a worker's shard */
	if (i % 2 == 0)
		metrics_thread_worker(i % NWORKERS);
	for (unsigned k = 0; k < NINC; k++) {
		metrics_inc(MET_C_MEDIA_BYTES, 3);
		metrics_auth_failure(0, "bad_response");
	}
	return NULL;
}

static void
concurrent_exact(void **state)
{
	void *args[NTHREADS];
	char *t;

	(void)state;
	for (uintptr_t i = 0; i < NTHREADS; i++)
		args[i] = (void *)i;
	run_threads(hammer, args, NTHREADS);
	t = render();
	assert_int_equal(value(t, "sipwall_media_bytes_total"),
	    3LL * NTHREADS * NINC);
	assert_int_equal(value(t, "sipwall_auth_failures_total{zone=\"internet\","
	    "reason=\"bad_response\"}"), (long long)NTHREADS * NINC);
	free(t);
}

/* Every test but the first gets a registry of its own. */
#define WITH_REGISTRY(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(closed_is_noop),
		WITH_REGISTRY(open_twice_refused),
		WITH_REGISTRY(shards_summed),
		WITH_REGISTRY(verdicts),
		WITH_REGISTRY(labels),
		WITH_REGISTRY(histograms),
		WITH_REGISTRY(loop_lag),
		WITH_REGISTRY(exposition_format),
		WITH_REGISTRY(concurrent_exact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
