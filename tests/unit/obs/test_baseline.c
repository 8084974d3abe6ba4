/*
 * Unit tests for src/obs/baseline.c: the per-window alpha, the EWMA and
 * its plain-mean start, the fallback for unlearned slots, hour-of-week
 * slots in several time zones and across DST changes, and a round trip
 * through the store writer.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "obs/baseline.h"
#include "store/store.h"
#include "store/writer.h"

static const char *const names[] = { "alpha", "beta" };

static void
use_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

static void
test_alpha(void **state)
{
	(void)state;
	/* one-hour windows: the week's hour weighs exactly 0.25 */
	assert_true(fabs(baseline_alpha(3600000) - 0.25) < 1e-12);
	/* one-minute windows: 60 of them make the same 0.25 */
	assert_true(fabs(1 - pow(1 - baseline_alpha(60000), 60) - 0.25) <
	    1e-12);
	assert_true(baseline_alpha(0) > 0);
	assert_true(baseline_alpha(UINT32_MAX) <= 1.0);
}

static void
test_ewma(void **state)
{
	struct baseline *b = calloc(1, sizeof(*b));
	double v, a;

	(void)state;
	assert_int_equal(baseline_init(b, 60000, names, 2), 0);
	a = b->alpha;
	/* nothing learned: no baseline at all */
	assert_int_equal(baseline_get(b, 0, 5, &v), -ENOENT);
	/* the first windows: their plain mean */
	baseline_learn(b, 0, 5, 2);
	baseline_learn(b, 0, 5, 4);
	assert_int_equal(baseline_get(b, 0, 5, &v), -ENOENT); /* 2 < MIN */
	baseline_learn(b, 0, 5, 6);
	assert_int_equal(baseline_get(b, 0, 5, &v), 0);
	assert_true(fabs(v - 4.0) < 1e-9);
	assert_int_equal(b->slot[0][5].samples, 3);
	assert_true(b->slot[0][5].dirty);
	/* once 1/(n+1) < alpha, alpha: v += a (x - v) */
	b->slot[0][5].samples = 1000;
	baseline_learn(b, 0, 5, 104);
	assert_int_equal(baseline_get(b, 0, 5, &v), 0);
	assert_true(fabs(v - (4.0 + a * 100.0)) < 1e-9);
	/* nonsense is ignored */
	baseline_learn(b, 0, 5, NAN);
	baseline_learn(b, 0, 5, -1);
	baseline_learn(b, 0, 168, 1);
	baseline_learn(b, 2, 0, 1);
	assert_int_equal(baseline_get(b, 0, 5, &v), 0);
	assert_true(fabs(v - (4.0 + a * 100.0)) < 1e-9);
	/* too many metrics, a name too long */
	assert_int_equal(baseline_init(b, 60000, names,
	    BASELINE_MAX_METRICS + 1), -EINVAL);
	free(b);
}

static void
test_unlearned_slot_uses_mean(void **state)
{
	struct baseline *b = calloc(1, sizeof(*b));
	double v;

	(void)state;
	assert_int_equal(baseline_init(b, 60000, names, 2), 0);
	baseline_set(b, 1, 10, 3.0, BASELINE_MIN_SAMPLES);
	baseline_set(b, 1, 20, 5.0, 100);
	baseline_set(b, 1, 30, 1000.0, BASELINE_MIN_SAMPLES - 1); /* not yet */
	assert_int_equal(baseline_get(b, 1, 10, &v), 0);
	assert_true(fabs(v - 3.0) < 1e-9);
	assert_int_equal(baseline_get(b, 1, 99, &v), 0);
	assert_true(fabs(v - 4.0) < 1e-9);
	assert_int_equal(baseline_get(b, 1, 30, &v), 0);
	assert_true(fabs(v - 4.0) < 1e-9);
	/* the other metric learned nothing */
	assert_int_equal(baseline_get(b, 0, 10, &v), -ENOENT);
	assert_int_equal(baseline_get(b, 5, 10, &v), -ENOENT);
	free(b);
}

static void
test_slots_across_zones_and_dst(void **state)
{
	(void)state;
	use_tz("UTC");
	/* Monday 2026-11-23 00:00 UTC is the week's first slot */
	assert_int_equal(baseline_slot_of(1795392000), 0);
	assert_int_equal(baseline_slot_of(1795393800), 0);
	assert_int_equal(baseline_slot_of(1795392000 - 1), 167);
	assert_int_equal(baseline_slot_of(1795348800), 6 * 24 + 12);

	use_tz("Europe/Berlin");	/* CET, UTC+1 */
	assert_int_equal(baseline_slot_of(1795393800), 1);
	assert_int_equal(baseline_slot_of(1795392000 - 3600), 0);

	use_tz("Asia/Kolkata");		/* UTC+5:30: Sunday 20h UTC is Monday */
	assert_int_equal(baseline_slot_of(1795377600), 1);

	use_tz("America/New_York");
	/* spring forward, Sunday 2026-03-08: 01:59:59 EST, then 03:00 EDT;
	 * slot 146 (02h) has no hour that day */
	assert_int_equal(baseline_slot_of(1772953199), 6 * 24 + 1);
	assert_int_equal(baseline_slot_of(1772953200), 6 * 24 + 3);
	/* fall back, Sunday 2026-11-01: 01:30 EDT and 01:30 EST share a slot */
	assert_int_equal(baseline_slot_of(1793511000), 6 * 24 + 1);
	assert_int_equal(baseline_slot_of(1793514600), 6 * 24 + 1);
	use_tz("UTC");
}

static void
test_store_round_trip(void **state)
{
	struct baseline *b = calloc(1, sizeof(*b)), *c = calloc(1, sizeof(*c));
	struct store_writer_conf wc;
	struct store_writer *w;
	struct store *st;
	char dir[] = "/tmp/sw_baseline_XXXXXX", path[64];
	double v;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/store.db", dir);
	store_writer_conf_init(&wc, path);
	wc.flags = STORE_CREATE;
	assert_int_equal(store_writer_start(&wc, &w, NULL, 0), 0);

	assert_int_equal(baseline_init(b, 60000, names, 2), 0);
	for (int i = 0; i < 5; i++)
		baseline_learn(b, 1, 42, 7);
	baseline_learn(b, 0, 0, 1.5);
	assert_int_equal(baseline_save(b, w, 1000), 0);
	assert_false(b->slot[1][42].dirty);
	assert_int_equal(baseline_save(b, w, 1001), 0);	/* nothing dirty */
	store_writer_sync(w);
	store_writer_stop(w);

	assert_int_equal(store_open(path, 0, &st), 0);
	assert_int_equal(baseline_init(c, 60000, names, 2), 0);
	assert_int_equal(baseline_load(c, st), 0);
	assert_int_equal(c->slot[1][42].samples, 5);
	assert_int_equal(baseline_get(c, 1, 42, &v), 0);
	assert_true(fabs(v - 7.0) < 1e-9);
	assert_int_equal(c->slot[0][0].samples, 1);
	assert_true(fabs(c->slot[0][0].value - 1.5) < 1e-9);
	assert_false(c->slot[1][42].dirty);
	store_close(st);
	unlink(path);
	{
		char p2[80];

		snprintf(p2, sizeof(p2), "%s-wal", path);
		unlink(p2);
		snprintf(p2, sizeof(p2), "%s-shm", path);
		unlink(p2);
	}
	rmdir(dir);
	free(b);
	free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alpha),
		cmocka_unit_test(test_ewma),
		cmocka_unit_test(test_unlearned_slot_uses_mean),
		cmocka_unit_test(test_slots_across_zones_and_dst),
		cmocka_unit_test(test_store_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
