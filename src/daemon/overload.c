/*
 * Overload detection for one worker (PROT6); see overload.h.  Runs on
 * the worker's thread only.  The per-message cost is one uv_now()
 * comparison (overload_tick); the window is closed at most every
 * OVERLOAD_WINDOW_MS, which reads the loop's idle time (libuv's metrics
 * lock is the loop's own, never contended by another worker).
 */
#include <string.h>

#include "core/ctype.h"
#include "core/log.h"
#include "daemon/overload.h"

static struct log_ratelimit rl_state = LOG_RATELIMIT_INIT(4);

/* the longest a sample may count: a preempted thread is not a cost */
#define COST_MAX_NS	1000000ull
#define COST_INIT_NS	10000ull

const char *
overload_trigger_name(enum overload_trigger t)
{
	static const char *const names[OVERLOAD_T_MAX] = {
		[OVERLOAD_T_NONE] = "none",
		[OVERLOAD_T_BUSY] = "busy",
		[OVERLOAD_T_QUEUE] = "queue",
		[OVERLOAD_T_DROPS] = "drops",
	};

	return t < OVERLOAD_T_MAX ? names[t] : "none";
}

const char *
overload_trigger_detail(enum overload_trigger t)
{
	static const char *const names[OVERLOAD_T_MAX] = {
		[OVERLOAD_T_NONE] = "not overloaded",
		[OVERLOAD_T_BUSY] = "event loop busy",
		[OVERLOAD_T_QUEUE] = "socket receive queue deep",
		[OVERLOAD_T_DROPS] = "socket receive queue overflowed",
	};

	return t < OVERLOAD_T_MAX ? names[t] : names[OVERLOAD_T_NONE];
}

static void
window_start(struct overload *o, uint64_t now_ms)
{
	o->win_t0_ns = uv_hrtime();
	o->win_idle0_ns = uv_metrics_idle_time(o->loop);
	o->win_start_ms = now_ms;
	o->win_end_ms = now_ms + OVERLOAD_WINDOW_MS;
	o->win_shed = 0;
	o->win_depth = 0;
	o->win_drops = 0;
	o->win_deep = 0;
}

int
overload_init(struct overload *o, uv_loop_t *loop,
    const struct conf_overload *c)
{
	int r;

	memset(o, 0, sizeof(*o));
	o->loop = loop;
	if ((r = uv_loop_configure(loop, UV_METRICS_IDLE_TIME)) < 0)
		return r;
	/* 100 % is never measured (a loop always waits a little): off */
	o->enter_pm = c->busy_percent >= 100 ? 0 : c->busy_percent * 10;
	if (o->enter_pm == 0)
		o->leave_pm = 1000 - OVERLOAD_HYST_PM;
	else if (o->enter_pm > 2 * OVERLOAD_HYST_PM)
		o->leave_pm = o->enter_pm - OVERLOAD_HYST_PM;
	else
		o->leave_pm = o->enter_pm / 2;
	o->queue_high = c->queue_high;
	o->cost_ns = COST_INIT_NS;
	window_start(o, uv_now(loop));
	return 0;
}

static void
enter(struct overload *o, enum overload_trigger t, uint64_t now_ms)
{
	o->active = 1;
	o->trigger = t;
	o->since_ms = now_ms;
	o->calm_since_ms = 0;
	o->shed_at_enter = o->shed;
	o->episodes++;
	LOG_LIMITED(LOG_NOTICE, &rl_state, "overload (%s: loop busy %u%%, "
	    "queue %u datagrams): shedding new requests from untrusted zones",
	    overload_trigger_name(t), o->busy_pm / 10, o->depth);
}

static void
leave(struct overload *o, uint64_t now_ms)
{
	o->active = 0;
	LOG_LIMITED(LOG_NOTICE, &rl_state, "overload over after %llu ms "
	    "(%s); %llu requests shed", (unsigned long long)(now_ms -
	    o->since_ms), overload_trigger_name(o->trigger),
	    (unsigned long long)(o->shed - o->shed_at_enter));
	o->trigger = OVERLOAD_T_NONE;
}

/*
 * The window is over: its busy share decides entering; leaving needs
 * OVERLOAD_HOLD_MS of calm, where calm counts what was shed at the cost
 * such a request had when it was still processed (else shedding itself
 * would end the episode and the flood would come straight back in).
 */
static void
window_close(struct overload *o, uint64_t now_ms)
{
	uint64_t t = uv_hrtime(), idle = uv_metrics_idle_time(o->loop);
	uint64_t el = t - o->win_t0_ns, id = idle - o->win_idle0_ns;
	uint64_t busy, proj;
	int calm;

	if (el == 0)
		el = 1;
	if (id > el)
		id = el;
	busy = (el - id) * 1000 / el;
	proj = busy + o->win_shed * o->cost_ns * 1000 / el;
	o->busy_pm = (uint32_t)busy;
	if (!o->active) {
		if (o->enter_pm != 0 && busy >= o->enter_pm)
			enter(o, OVERLOAD_T_BUSY, now_ms);
	} else {
		calm = proj < o->leave_pm && o->win_drops == 0 && !o->win_deep;
		if (!calm)
			o->calm_since_ms = 0;
		else {
			if (o->calm_since_ms == 0)
				o->calm_since_ms = o->win_start_ms;
			if (now_ms - o->calm_since_ms >= OVERLOAD_HOLD_MS)
				leave(o, now_ms);
		}
	}
	window_start(o, now_ms);
}

void
overload_start(struct overload *o)
{
	window_start(o, uv_now(o->loop));
}

void
overload_tick(struct overload *o)
{
	uint64_t now = uv_now(o->loop);

	if (now >= o->win_end_ms)
		window_close(o, now);
}

void
overload_queue(struct overload *o, uint32_t depth, uint32_t capacity,
    uint32_t drops)
{
	uint32_t hi;

	if (o->queue_high == 0)
		return;
	/* a buffer smaller than queue_high datagrams: half of it */
	hi = o->queue_high;
	if (capacity / 2 < hi)
		hi = capacity / 2 > 0 ? capacity / 2 : 1;
	o->depth = depth;
	if (depth > o->win_depth)
		o->win_depth = depth;
	o->win_drops += drops;
	if (drops > 0 || depth >= hi / 2)
		o->win_deep = 1;
	if (!o->active && (drops > 0 || depth >= hi))
		enter(o, drops > 0 ? OVERLOAD_T_DROPS : OVERLOAD_T_QUEUE,
		    uv_now(o->loop));
}

void
overload_cost(struct overload *o, uint64_t ns)
{
	if (ns > COST_MAX_NS)
		ns = COST_MAX_NS;
	o->cost_ns = (o->cost_ns * 7 + ns) / 8;
}

/* ---- the pre-parse ---- */

/* End of the header field starting at s (after its last line's LF,
 * continuation lines included), or s.len when it does not end. */
static size_t
field_end(struct slice s)
{
	size_t off = 0;
	const uint8_t *nl;

	for (;;) {
		nl = memchr(s.p + off, '\n', s.len - off);
		if (nl == NULL)
			return s.len;
		off = (size_t)(nl - s.p) + 1;
		if (off >= s.len || (s.p[off] != ' ' && s.p[off] != '\t'))
			return off;
	}
}

/*
 * The tag parameter of a To value: a header parameter, i.e. after a ';'
 * outside quotes and outside <...>.  Empty when there is none.
 */
static struct slice
to_tag(struct slice v)
{
	int quoted = 0, angle = 0;

	for (size_t i = 0; i < v.len; i++) {
		uint8_t c = v.p[i];
		struct slice rest, name;

		if (quoted) {
			if (c == '\\')
				i++;
			else if (c == '"')
				quoted = 0;
			continue;
		}
		if (c == '"')
			quoted = 1;
		else if (c == '<')
			angle = 1;
		else if (c == '>')
			angle = 0;
		if (c != ';' || angle)
			continue;
		rest = slice_sub(v, i + 1, v.len - i - 1);
		slice_skip_lws(&rest);
		name = slice_span(&rest, CT_TOKEN);
		slice_skip_lws(&rest);
		if (slice_eq_lit_ci(name, "tag") && slice_eat(&rest, '=')) {
			slice_skip_lws(&rest);
			return slice_span(&rest, CT_TOKEN);
		}
	}
	return SLICE_NULL;
}

void
overload_peek(const uint8_t *buf, size_t len, struct overload_peek *ret)
{
	struct slice s = slice_make(buf, len < OVERLOAD_PEEK_MAX ? len :
	    OVERLOAD_PEEK_MAX);
	struct slice m, tag = SLICE_NULL;
	int creds = 0, seen_to = 0;
	size_t e;

	memset(ret, 0, sizeof(*ret));
	ret->kind = OVERLOAD_K_NEW;
	if (s.len >= 4 && memcmp(s.p, "SIP/", 4) == 0) {
		ret->kind = OVERLOAD_K_RESPONSE;
		return;
	}
	m = slice_span(&s, CT_TOKEN);
	if (m.len == 0 || slice_peek(s) != ' ')
		return;			/* not a request line: garbage */
	ret->method = m;
	if (slice_eq(m, SLICE_LIT("ACK")) || slice_eq(m, SLICE_LIT("CANCEL"))) {
		ret->kind = OVERLOAD_K_ACK_CANCEL;
		return;
	}
	/* past the request line, then one header field at a time */
	e = field_end(s);
	slice_skip(&s, e);
	while (s.len > 0 && s.p[0] != '\r' && s.p[0] != '\n') {
		struct slice f, name;

		e = field_end(s);
		slice_take(&s, e, &f);
		name = slice_span(&f, CT_TOKEN);
		while (f.len > 0 && (f.p[0] == ' ' || f.p[0] == '\t'))
			slice_skip(&f, 1);
		if (!slice_eat(&f, ':'))
			continue;	/* not a header field: the parser's job */
		if (!seen_to && (slice_eq_lit_ci(name, "to") ||
		    slice_eq_lit_ci(name, "t"))) {
			seen_to = 1;
			tag = to_tag(f);
		} else if (slice_eq_lit_ci(name, "authorization") ||
		    slice_eq_lit_ci(name, "proxy-authorization"))
			creds = 1;
	}
	if (tag.len > 0) {
		ret->kind = OVERLOAD_K_IN_DIALOG;
		ret->to_tag = tag;
	} else if (creds)
		ret->kind = OVERLOAD_K_CREDENTIALS;
}
