/*
 * Unit tests for src/daemon/overload.c: the pre-parse that decides what
 * may be shed (never past its input, tags only as header parameters),
 * and the detector's state machine (queue, drops, busy share, the
 * hysteresis that keeps it shedding while what it sheds would still
 * overload the loop).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "daemon/overload.h"
#include "guard.h"

static void
peek(const char *s, struct overload_peek *ret)
{
	size_t len = strlen(s);

	overload_peek(guard_copy(s, len), len, ret);
}

static enum overload_kind
kind(const char *s)
{
	struct overload_peek pk;

	peek(s, &pk);
	return pk.kind;
}

#define REQ(to, more) \
	"INVITE sip:2000@192.0.2.1 SIP/2.0\r\n" \
	"Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK77\r\n" \
	"From: <sip:1001@192.0.2.1>;tag=abc\r\n" \
	to more \
	"Call-ID: x@y\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"

static void
test_peek_kinds(void **state)
{
	struct overload_peek pk;

	(void)state;
	assert_int_equal(kind("SIP/2.0 200 OK\r\nVia: x\r\n\r\n"),
	    OVERLOAD_K_RESPONSE);
	assert_int_equal(kind("ACK sip:a@b SIP/2.0\r\nTo: <sip:a@b>\r\n\r\n"),
	    OVERLOAD_K_ACK_CANCEL);
	assert_int_equal(kind("CANCEL sip:a@b SIP/2.0\r\n\r\n"),
	    OVERLOAD_K_ACK_CANCEL);
	/* methods are case-sensitive: "ack" is some other method */
	assert_int_equal(kind("ack sip:a@b SIP/2.0\r\n\r\n"), OVERLOAD_K_NEW);
	peek(REQ("To: <sip:2000@192.0.2.1>\r\n", ""), &pk);
	assert_int_equal(pk.kind, OVERLOAD_K_NEW);
	assert_int_equal(pk.method.len, 6);
	assert_memory_equal(pk.method.p, "INVITE", 6);
	peek(REQ("To: <sip:2000@192.0.2.1>;tag=00abcdef0123456789\r\n", ""),
	    &pk);
	assert_int_equal(pk.kind, OVERLOAD_K_IN_DIALOG);
	assert_int_equal(pk.to_tag.len, 18);
	assert_memory_equal(pk.to_tag.p, "00abcdef0123456789", 18);
	/* compact form, odd spacing and case */
	peek(REQ("t :sip:2000@192.0.2.1 ; TAG = x1\r\n", ""), &pk);
	assert_int_equal(pk.kind, OVERLOAD_K_IN_DIALOG);
	assert_int_equal(pk.to_tag.len, 2);
	/* a tag on a folded continuation line */
	peek(REQ("To: <sip:2000@192.0.2.1>\r\n ;tag=f1\r\n", ""), &pk);
	assert_int_equal(pk.kind, OVERLOAD_K_IN_DIALOG);
	assert_memory_equal(pk.to_tag.p, "f1", 2);
	/* credentials anywhere in the header block */
	assert_int_equal(kind(REQ("To: <sip:2000@192.0.2.1>\r\n",
	    "Proxy-Authorization: Digest username=\"1001\"\r\n")),
	    OVERLOAD_K_CREDENTIALS);
	assert_int_equal(kind(REQ("To: <sip:2000@192.0.2.1>\r\n",
	    "authorization: Digest username=\"1001\"\r\n")),
	    OVERLOAD_K_CREDENTIALS);
	/* ...but not in the body */
	assert_int_equal(kind("MESSAGE sip:a@b SIP/2.0\r\nTo: <sip:a@b>\r\n"
	    "Content-Length: 30\r\n\r\nAuthorization: Digest x=\"y\"\r\n"),
	    OVERLOAD_K_NEW);
}

/* A tag the full parser would not take for the header's own is not one. */
static void
test_peek_tag_not_a_header_param(void **state)
{
	(void)state;
	assert_int_equal(kind(REQ("To: <sip:2000@192.0.2.1;tag=x>\r\n", "")),
	    OVERLOAD_K_NEW);
	assert_int_equal(kind(REQ("To: \"a;tag=x\" <sip:2000@192.0.2.1>\r\n",
	    "")), OVERLOAD_K_NEW);
	assert_int_equal(kind(REQ("To: \"a\\\";tag=x\" <sip:2@192.0.2.1>\r\n",
	    "")), OVERLOAD_K_NEW);
	assert_int_equal(kind(REQ("To: <sip:2000@192.0.2.1>;tagx=1\r\n", "")),
	    OVERLOAD_K_NEW);
	assert_int_equal(kind(REQ("To: <sip:2000@192.0.2.1>;tag=\r\n", "")),
	    OVERLOAD_K_NEW);
	/* a second To (malformed) does not count; the parser rejects it */
	assert_int_equal(kind(REQ("To: <sip:2000@192.0.2.1>\r\n",
	    "To: <sip:2000@192.0.2.1>;tag=1\r\n")), OVERLOAD_K_NEW);
	/* Via's tag-like parameter is not the To's */
	assert_int_equal(kind("BYE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;tag=1"
	    "\r\nTo: <sip:a@b>\r\n\r\n"), OVERLOAD_K_NEW);
}

static void
test_peek_garbage_is_sheddable(void **state)
{
	static const char *const junk[] = {
		"", "\r\n", " INVITE sip:a@b SIP/2.0\r\n", "INVITE",
		"INVITE\r\nTo: <sip:a@b>;tag=1\r\n\r\n", "\x01\x02\x03",
		"SIP/", "SIP", "<xml/>",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		assert_int_equal(kind(junk[i]), i == 6 ? OVERLOAD_K_RESPONSE :
		    OVERLOAD_K_NEW);
}

/* Every prefix ends at a guard page: no read past len. */
static void
test_peek_every_prefix_is_safe(void **state)
{
	static const char msg[] = REQ("To: \"B\" <sip:2000@192.0.2.1>\r\n"
	    " ;tag=00abcdef0123456789\r\n",
	    "Proxy-Authorization: Digest username=\"1001\"\r\n");
	struct overload_peek pk;

	(void)state;
	for (size_t cut = 0; cut < sizeof(msg) - 1; cut++) {
		const uint8_t *p = guard_copy(msg, cut);

		overload_peek(p, cut, &pk);
		assert_true(pk.kind < OVERLOAD_K_MAX);
		if (pk.to_tag.len > 0)
			assert_true(pk.to_tag.p >= p &&
			    pk.to_tag.p + pk.to_tag.len <= p + cut);
	}
	overload_peek(guard_copy(msg, sizeof(msg) - 1), sizeof(msg) - 1, &pk);
	assert_int_equal(pk.kind, OVERLOAD_K_IN_DIALOG);
}

/* ---- the detector ---- */

struct det {
	uv_loop_t		loop;
	struct overload		o;
	struct conf_overload	c;
};

static int
det_setup(void **state)
{
	static struct det d;

	memset(&d, 0, sizeof(d));
	assert_int_equal(uv_loop_init(&d.loop), 0);
	d.c.queue_high = 2000;
	d.c.busy_percent = 90;
	d.c.reply = false;
	assert_int_equal(overload_init(&d.o, &d.loop, &d.c), 0);
	*state = &d;
	return 0;
}

static int
det_teardown(void **state)
{
	struct det *d = *state;

	uv_loop_close(&d->loop);
	return 0;
}

/* Pretend the current window began `ago_ms` ago and is over. */
static void
window_over(struct det *d, uint64_t ago_ms)
{
	uv_update_time(&d->loop);
	d->o.win_start_ms = uv_now(&d->loop) - ago_ms;
	d->o.win_end_ms = 0;
}

static void
on_timer(uv_timer_t *t)
{
	(void)t;
}

/* Let the loop wait in its poll for ms: idle time. */
static void
idle_for(struct det *d, uint64_t ms)
{
	uv_timer_t t;

	uv_timer_init(&d->loop, &t);
	uv_timer_start(&t, on_timer, ms, 0);
	uv_run(&d->loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(&d->loop, UV_RUN_DEFAULT);
}

static void
test_queue_enters(void **state)
{
	struct det *d = *state;

	overload_queue(&d->o, 1999, 7000, 0);
	assert_false(overload_active(&d->o));
	overload_queue(&d->o, 2000, 7000, 0);
	assert_true(overload_active(&d->o));
	assert_int_equal(d->o.trigger, OVERLOAD_T_QUEUE);
	assert_string_equal(overload_trigger_name(d->o.trigger), "queue");
	assert_int_equal(d->o.episodes, 1);
}

/* A small buffer: half of it is the limit. */
static void
test_small_buffer_half_is_the_limit(void **state)
{
	struct det *d = *state;

	overload_queue(&d->o, 149, 300, 0);
	assert_false(overload_active(&d->o));
	overload_queue(&d->o, 150, 300, 0);
	assert_true(overload_active(&d->o));
}

static void
test_drops_enter(void **state)
{
	struct det *d = *state;

	overload_queue(&d->o, 3, 7000, 1);
	assert_true(overload_active(&d->o));
	assert_int_equal(d->o.trigger, OVERLOAD_T_DROPS);
}

static void
test_queue_high_zero_is_off(void **state)
{
	struct det *d = *state;

	d->c.queue_high = 0;
	assert_int_equal(overload_init(&d->o, &d->loop, &d->c), 0);
	overload_queue(&d->o, 100000, 7000, 500);
	assert_false(overload_active(&d->o));
}

/* A loop that never waited for 110 ms is busy; the window shows it. */
static void
test_busy_enters(void **state)
{
	struct det *d = *state;
	struct timespec t = { .tv_nsec = 110 * 1000 * 1000 };

	overload_tick(&d->o);
	assert_false(overload_active(&d->o));
	nanosleep(&t, NULL);		/* not in the loop's poll: busy */
	window_over(d, 110);
	overload_tick(&d->o);
	assert_true(overload_active(&d->o));
	assert_int_equal(d->o.trigger, OVERLOAD_T_BUSY);
	assert_true(d->o.busy_pm >= 900);
}

/*
 * Start-up is not load: the time between overload_init and the loop's
 * first poll (the rest of the daemon starting) is left out once the
 * worker calls overload_start; the first request is then judged on
 * what the loop did since.
 */
static void
test_start_up_is_not_busy(void **state)
{
	struct det *d = *state;
	struct timespec t = { .tv_nsec = 300 * 1000 * 1000 };
	uv_async_t fd;			/* a loop with nothing to watch */

	/* spins instead of waiting: give it a descriptor, like a worker's
	 * sockets */
	assert_int_equal(uv_async_init(&d->loop, &fd, NULL), 0);
	uv_unref((uv_handle_t *)&fd);
	nanosleep(&t, NULL);		/* the daemon still starting */
	uv_update_time(&d->loop);	/* as worker_main does */
	overload_start(&d->o);
	idle_for(d, 120);		/* then a quiet loop */
	overload_tick(&d->o);
	assert_false(overload_active(&d->o));
	assert_true(d->o.busy_pm < 500);
	/* without it the same start-up reads as an overloaded loop */
	assert_int_equal(overload_init(&d->o, &d->loop, &d->c), 0);
	t.tv_nsec = 400 * 1000 * 1000;
	nanosleep(&t, NULL);
	uv_update_time(&d->loop);
	idle_for(d, 5);
	window_over(d, 405);
	overload_tick(&d->o);
	assert_true(overload_active(&d->o));
	uv_close((uv_handle_t *)&fd, NULL);
	uv_run(&d->loop, UV_RUN_DEFAULT);
}

/* busy_percent 100: the busy share never triggers. */
static void
test_busy_100_is_off(void **state)
{
	struct det *d = *state;
	struct timespec t = { .tv_nsec = 110 * 1000 * 1000 };

	d->c.busy_percent = 100;
	assert_int_equal(overload_init(&d->o, &d->loop, &d->c), 0);
	nanosleep(&t, NULL);
	window_over(d, 110);
	overload_tick(&d->o);
	assert_false(overload_active(&d->o));
}

/*
 * Shedding makes the loop idle; what was shed still counts.  With
 * 10,000 requests shed in a window at 10 us each the load would be
 * 100 %: no way out.  Once nothing is shed (and no queue), a second of
 * calm ends it.
 */
static void
test_leaves_only_when_calm(void **state)
{
	struct det *d = *state;

	overload_queue(&d->o, 5000, 7000, 0);
	assert_true(overload_active(&d->o));
	overload_cost(&d->o, 10000);
	for (int i = 0; i < 10000; i++)
		overload_note_shed(&d->o);
	window_over(d, 5000);
	overload_tick(&d->o);
	assert_true(overload_active(&d->o));
	assert_int_equal(d->o.shed, 10000);
	/* a calm window (the loop waited), but not a second of calm yet */
	idle_for(d, 110);
	window_over(d, 110);
	overload_tick(&d->o);
	assert_true(overload_active(&d->o));
	assert_true(d->o.busy_pm < 500);
	assert_int_not_equal(d->o.calm_since_ms, 0);
	/* a deep queue breaks the calm */
	overload_queue(&d->o, 1500, 7000, 0);
	idle_for(d, 110);
	window_over(d, 2000);
	overload_tick(&d->o);
	assert_true(overload_active(&d->o));
	assert_int_equal(d->o.calm_since_ms, 0);
	/* calm long enough */
	idle_for(d, 110);
	window_over(d, 1500);
	overload_tick(&d->o);
	assert_false(overload_active(&d->o));
	assert_int_equal(d->o.trigger, OVERLOAD_T_NONE);
}

/* A sample that includes a preemption does not count for more than 1 ms. */
static void
test_cost_is_bounded(void **state)
{
	struct det *d = *state;

	for (int i = 0; i < 100; i++)
		overload_cost(&d->o, 5000000000ull);
	assert_true(d->o.cost_ns <= 1000000);
	for (int i = 0; i < 100; i++)
		overload_cost(&d->o, 3000);
	assert_true(d->o.cost_ns < 4000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_peek_kinds),
		cmocka_unit_test(test_peek_tag_not_a_header_param),
		cmocka_unit_test(test_peek_garbage_is_sheddable),
		cmocka_unit_test(test_peek_every_prefix_is_safe),
		cmocka_unit_test_setup_teardown(test_queue_enters, det_setup,
		    det_teardown),
		cmocka_unit_test_setup_teardown(test_small_buffer_half_is_the_limit,
		    det_setup, det_teardown),
		cmocka_unit_test_setup_teardown(test_drops_enter, det_setup,
		    det_teardown),
		cmocka_unit_test_setup_teardown(test_queue_high_zero_is_off,
		    det_setup, det_teardown),
		cmocka_unit_test_setup_teardown(test_start_up_is_not_busy,
		    det_setup, det_teardown),
		cmocka_unit_test_setup_teardown(test_busy_enters, det_setup,
		    det_teardown),
		cmocka_unit_test_setup_teardown(test_busy_100_is_off, det_setup,
		    det_teardown),
		cmocka_unit_test_setup_teardown(test_leaves_only_when_calm,
		    det_setup, det_teardown),
		cmocka_unit_test_setup_teardown(test_cost_is_bounded, det_setup,
		    det_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
