/*
 * Health probes of the core targets (SIG6): worker 0 sends each target
 * an OPTIONS every core.probe_interval, one at a time per target.  A
 * target that does not answer within the transaction timeout, or
 * answers 408/480/503, is down until it answers again; new calls start
 * at the first target that is up (all down: the first one, so that a
 * recovering PBX still gets calls).  Each change is an event.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/wbuf.h"
#include "daemon/call_int.h"
#include "daemon/probe.h"
#include "daemon/trunk.h"
#include "daemon/worker.h"

struct target_probe {
	struct tu	 tu;			/* TU_PROBE: first */
	struct worker	*w;
	size_t		 ti;
	struct txn	*txn;
};

struct probes {
	size_t			 n;
	struct target_probe	 p[CONF_MAX_TARGETS];
	struct timer		 t;
};

static void
mark(struct target_probe *p, int down, unsigned status, const char *reason)
{
	struct sw_env *env = p->w->env;
	struct secevent ev;
	char a[SW_ADDR_STRLEN];

	if (atomic_exchange(&env->target_down[p->ti], (uint8_t)down) ==
	    (uint8_t)down)
		return;
	secevent_init(&ev, down ? SECEV_ROUTE_TARGET_DOWN :
	    SECEV_ROUTE_TARGET_UP);
	ev.status = (int)status;
	ev.reason = reason;
	ev.method = slice_cstr("OPTIONS");
	secevent_add_str(&ev, "target", sw_addr_str(
	    &env->conf->core.targets[p->ti].addr, a, sizeof(a)));
	worker_event(p->w, &ev, NULL);
}

static void
send_probe(struct target_probe *p)
{
	struct worker *w = p->w;
	const struct sw_conf *conf = w->env->conf;
	const struct conf_target *tg = &conf->core.targets[p->ti];
	char a[SW_ADDR_STRLEN], me[SW_ADDR_STRLEN];
	char branch[IDENT_BRANCH_LEN + 1], tag[IDENT_TAG_LEN + 1];
	char cid[IDENT_CALLID_LEN + 1];
	struct sip_dest d;
	struct wbuf b;

	if (core_dest(w, p->ti, &d) < 0)
		return;
	sw_addr_str(&tg->addr, a, sizeof(a));
	sw_addr_str(&conf->listen[d.lsn].addr, me, sizeof(me));
	ident_branch(&w->calls->ids, branch);
	ident_tag(&w->calls->ids, tag);
	ident_callid(&w->calls->ids, cid);
	wbuf_init(&b, w->calls->scratch, sizeof(w->calls->scratch));
	wbuf_fmt(&b, "OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/%s %s;branch=%s;"
	    "rport\r\nMax-Forwards: 70\r\nFrom: <sip:%s>;tag=%s\r\n"
	    "To: <sip:%s>\r\nCall-ID: %s\r\nCSeq: 1 OPTIONS\r\n"
	    "Content-Length: 0\r\n\r\n", a, d.transport == SIP_TP_TLS ?
	    "TLS" : d.transport == SIP_TP_TCP ? "TCP" : "UDP", me, branch, me,
	    tag, a, cid);
	if (b.overflow || txn_client_new(w->txl, &d, w->calls->scratch, b.n,
	    p, &p->txn) < 0)
		p->txn = NULL;
}

static void
on_timer(struct timer *t, uint64_t now)
{
	struct probes *ps = container_of(t, struct probes, t);
	struct worker *w = ps->p[0].w;

	for (size_t i = 0; i < ps->n; i++)
		if (ps->p[i].txn == NULL)
			send_probe(&ps->p[i]);
	timer_arm(&w->timers, &ps->t, now +
	    w->env->conf->core.probe_interval_ms);
}

int
probe_init(struct worker *w)
{
	const struct sw_conf *conf = w->env->conf;
	struct probes *ps;

	w->probes = NULL;
	if (w->idx != 0 || conf->core.ntargets == 0 ||
	    conf->core.probe_interval_ms == 0)
		return 0;
	if ((ps = calloc(1, sizeof(*ps))) == NULL)
		return -ENOMEM;
	ps->n = conf->core.ntargets;
	for (size_t i = 0; i < ps->n; i++) {
		ps->p[i].tu.kind = TU_PROBE;
		ps->p[i].w = w;
		ps->p[i].ti = i;
	}
	timer_init(&ps->t, on_timer);
	w->probes = ps;
	return 0;
}

void
probe_start(struct worker *w)
{
	if (w->probes != NULL)
		timer_arm(&w->timers, &w->probes->t, uv_now(&w->loop) + 100);
}

void
probe_close(struct worker *w)
{
	if (w->probes != NULL)
		timer_cancel(&w->timers, &w->probes->t);
}

void
probe_free(struct worker *w)
{
	free(w->probes);
	w->probes = NULL;
}

void
probe_response(struct worker *w, struct txn *t, const struct sip_msg *resp)
{
	struct target_probe *p = txn_tu(t);
	unsigned st = resp->status;
	int down = st == 408 || st == 480 || st == 503;
	char why[24];

	(void)w;
	if (st < 200)
		return;
	p->txn = NULL;
	txn_set_tu(t, NULL);
	/* any answer is a live PBX, except "I cannot take calls";
	 * resp->status is a parsed 3-digit code: "probe: 408" fits */
	snprintf(why, sizeof(why), "probe: %u", st);
	mark(p, down, st, down ? why : "probe answered");
}

void
probe_timeout(struct worker *w, struct txn *t)
{
	struct target_probe *p = txn_tu(t);

	(void)w;
	p->txn = NULL;
	txn_set_tu(t, NULL);
	mark(p, 1, 0, "probe: no answer");
}

void
probe_gone(struct worker *w, struct txn *t)
{
	struct target_probe *p = txn_tu(t);

	(void)w;
	if (p->txn == t)
		p->txn = NULL;
}

size_t
probe_first_up(const struct sw_env *env, size_t from)
{
	size_t n = env->conf->core.ntargets;

	for (size_t i = from; i < n; i++)
		if (!atomic_load(&env->target_down[i]))
			return i;
	return from;
}
