/*
 * Calls: the per-worker table (legs by our tag), lifecycle and timers,
 * events, and the transaction callbacks that reach a call.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/hash.h"
#include "core/log.h"
#include "daemon/call_int.h"
#include "daemon/worker.h"
#include "obs/metrics.h"
#include "policy/destpol.h"
#include "policy/e164.h"

struct call_svc *
call_svc(struct worker *w)
{
	return w->calls;
}

const struct call_stats *
call_stats(const struct worker *w)
{
	return &w->calls->st;
}

int
call_service_init(struct worker *w)
{
	const struct sw_conf *c = w->env->conf;
	struct call_svc *s;
	size_t nb = CALL_TAG_BUCKETS_MIN;

	while (nb < 2 * (size_t)c->calls.max_calls && nb < ((size_t)1 << 22))
		nb <<= 1;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	if ((s->tags = calloc(nb, sizeof(*s->tags))) == NULL) {
		free(s);
		return -ENOMEM;
	}
	s->tmask = nb - 1;
	s->w = w;
	ident_init(&s->ids, w->idx);
	for (size_t i = 0; i < c->calls.nheaders && i < HIDE_MAX_EXTRA; i++) {
		snprintf(s->names[i], sizeof(s->names[i]), "%s",
		    c->calls.headers[i]);
		s->hide[0].extra[i] = s->hide[1].extra[i] =
		    slice_cstr(s->names[i]);
		s->hide[0].n = s->hide[1].n = i + 1;
	}
	s->hide[1].trusted_from = 1;
	if (call_media_svc_init(s) < 0) {
		free(s->tags);
		free(s);
		return -ENOMEM;
	}
	w->calls = s;
	return 0;
}

static void
leg_release(struct leg *l)
{
	free(l->rtag);
	free(l->call_id);
	free(l->luri);
	free(l->ruri);
	free(l->target);
	free(l->route);
	free(l->ack);
	memset(l, 0, sizeof(*l));
}

static void
call_free(struct call *c)
{
	struct call_svc *s = c->svc;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->all = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	leg_release(&c->a);
	for (size_t i = 0; i < CALL_MAX_FORKS; i++)
		leg_release(&c->b[i]);
	call_media_free(c);
	free(c->inv.ok);
	free(c);
}

void
call_service_close(struct worker *w)
{
	struct call_svc *s = w->calls;

	if (s == NULL)
		return;
	for (struct call *c = s->all; c != NULL; c = c->next) {
		timer_cancel(&w->timers, &c->t_ring);
		timer_cancel(&w->timers, &c->t_max);
		timer_cancel(&w->timers, &c->t_retx);
		timer_cancel(&w->timers, &c->t_keep);
		timer_cancel(&w->timers, &c->t_fail);
		timer_cancel(&w->timers, &c->t_se);
		timer_cancel(&w->timers, &c->t_media);
	}
}

void
call_service_free(struct worker *w)
{
	struct call_svc *s = w->calls;

	if (s == NULL)
		return;
	/* the transaction layer is gone already: nothing refers any more */
	while (s->all != NULL)
		call_free(s->all);
	call_media_svc_free(s);
	free(s->tags);
	free(s);
	w->calls = NULL;
}

/* ---- the tag table ---- */

static size_t
tag_bucket(struct call_svc *s, struct slice tag)
{
	return (size_t)sw_hash(tag.p, tag.len) & s->tmask;
}

void
leg_hash(struct call_svc *s, struct leg *l)
{
	size_t b = tag_bucket(s, slice_cstr(l->ltag));

	l->hnext = s->tags[b];
	s->tags[b] = l;
	l->hashed = 1;
}

static void
leg_unhash(struct call_svc *s, struct leg *l)
{
	struct leg **pp;

	if (!l->hashed)
		return;
	for (pp = &s->tags[tag_bucket(s, slice_cstr(l->ltag))]; *pp != NULL;
	    pp = &(*pp)->hnext)
		if (*pp == l) {
			*pp = l->hnext;
			break;
		}
	l->hashed = 0;
}

struct leg *
leg_find(struct call_svc *s, struct slice tag)
{
	struct leg *l;

	if (tag.len != IDENT_TAG_LEN)
		return NULL;
	for (l = s->tags[tag_bucket(s, tag)]; l != NULL; l = l->hnext)
		if (memcmp(l->ltag, tag.p, IDENT_TAG_LEN) == 0)
			return l;
	return NULL;
}

int
leg_set(char **dst, struct slice v)
{
	char *p;

	if (v.len > CALL_STR_MAX)
		return -SBC_ELIMIT;
	if ((p = malloc(v.len + 1)) == NULL)
		return -ENOMEM;
	memcpy(p, v.p, v.len);
	p[v.len] = '\0';
	free(*dst);
	*dst = p;
	return 0;
}

struct leg *
leg_other(struct leg *l)
{
	struct call *c = l->call;

	if (l->side == 1)
		return &c->a;
	return c->winner >= 0 ? &c->b[c->winner] : NULL;
}

/* ---- lifecycle ---- */

static void on_ring(struct timer *t, uint64_t now);
static void on_max(struct timer *t, uint64_t now);
static void on_retx(struct timer *t, uint64_t now);
static void on_keep(struct timer *t, uint64_t now);
static void on_fail(struct timer *t, uint64_t now);
static void on_se(struct timer *t, uint64_t now);

struct call *
call_new(struct call_svc *s)
{
	const struct sw_conf *conf = s->w->env->conf;
	struct call *c;

	if (s->st.active >= conf->calls.max_calls) {
		s->st.refused++;
		metrics_call(MET_CALL_REFUSED);
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->svc = s;
	c->state = CALL_ROUTING;
	c->winner = -1;
	c->a.call = c;
	c->a.side = 0;
	for (size_t i = 0; i < CALL_MAX_FORKS; i++) {
		c->b[i].call = c;
		c->b[i].side = 1;
	}
	timer_init(&c->t_ring, on_ring);
	timer_init(&c->t_max, on_max);
	timer_init(&c->t_retx, on_retx);
	timer_init(&c->t_keep, on_keep);
	timer_init(&c->t_fail, on_fail);
	timer_init(&c->t_se, on_se);
	timer_init(&c->t_media, NULL);
	c->started_ms = uv_now(&s->w->loop);
	c->started_wall_ms = call_wall_ms();
	c->next = s->all;
	if (s->all != NULL)
		s->all->prev = c;
	s->all = c;
	s->st.active++;
	metrics_inc(MET_C_CALLS_ACTIVE, 1);
	return c;
}

void
call_arm(struct call *c, struct timer *t, uint64_t after_ms)
{
	struct worker *w = c->svc->w;

	if (timer_arm(&w->timers, t, uv_now(&w->loop) + after_ms) < 0)
		log_warnx("call timer heap full");
}

void
call_event(struct call *c, enum secevent_type type, const char *reason,
    unsigned status, const char *by)
{
	struct worker *w = c->svc->w;
	struct secevent ev;
	struct secevent_counter ctr[16];
	struct dp_result dp;
	char to[80];

	secevent_init(&ev, type);
	ev.reason = reason;
	ev.status = (int)status;
	ev.method = slice_cstr("INVITE");
	if (c->a.call_id != NULL)
		ev.call_id = slice_cstr(c->a.call_id);
	if (c->account[0] != '\0')
		ev.account = slice_cstr(c->account);
	snprintf(to, sizeof(to), "%s", c->to_user);
	if (to[0] != '\0')
		secevent_add_str(&ev, "to", to);
	/* outward calls: the number as the policy saw it (OBS4 counts
	 * international calls and new countries by it) */
	if (type == SECEV_CALL_ATTEMPT && to[0] != '\0' &&
	    (c->dir == DIR_TO_CORE || c->dir == DIR_TO_TRUNK)) {
		const struct destpol *pol = atomic_load_explicit(
		    &w->env->sec.pol, memory_order_acquire);

		if (pol != NULL) {
			destpol_check(pol, destpol_group(pol, c->group),
			    slice_cstr(c->to_user), &dp);
			if (dp.kind == E164_NUMBER && dp.e164[0] == '+')
				secevent_add_str(&ev, "e164", dp.e164);
		}
	}
	if (by != NULL)
		secevent_add_str(&ev, "by", by);
	if (type == SECEV_CALL_ENDED && c->answered_ms != 0)
		secevent_add_int(&ev, "duration_s", (long long)
		    ((uv_now(&w->loop) - c->answered_ms) / 1000));
	{
		static const char *dirs[] = { "outbound", "inbound",
		    "trunk_in", "trunk_out" };

		secevent_add_str(&ev, "direction", dirs[c->dir & 3]);
	}
	if (type == SECEV_CALL_ENDED || type == SECEV_CALL_FAILED)
		call_media_counters(c, &ev, ctr, sizeof(ctr) / sizeof(ctr[0]));
	worker_event(w, &ev, &c->a.dest);
}

void
call_answered(struct call *c)
{
	const struct sw_conf *conf = c->svc->w->env->conf;

	c->state = CALL_UP;
	c->answered_ms = uv_now(&c->svc->w->loop);
	c->answered_wall_ms = call_wall_ms();
	c->svc->st.answered++;
	metrics_call(MET_CALL_ANSWERED);
	timer_cancel(&c->svc->w->timers, &c->t_ring);
	timer_cancel(&c->svc->w->timers, &c->t_fail);
	call_arm(c, &c->t_max, policy_max_ms(c, conf->calls.max_duration_ms));
	if (conf->calls.keepalive_ms > 0)
		call_arm(c, &c->t_keep, conf->calls.keepalive_ms);
	call_se_refreshed(c);
	call_media_answered(c);
	call_event(c, SECEV_CALL_ANSWERED, NULL, 200, NULL);
	call_record(c, 0, NULL, 0);
}

/*
 * The call is over: no more timers, its tags leave the table (later
 * requests get 481), and it is freed as soon as no transaction refers
 * to it.  The caller sends whatever BYE/CANCEL/final the reason needs.
 */
void
call_end(struct call *c, const char *reason, const char *by, unsigned status)
{
	struct call_svc *s = c->svc;
	struct timer_heap *h = &s->w->timers;

	if (c->state == CALL_DEAD)
		return;
	call_media_end(c);	/* its figures go into the event */
	metrics_call_end(c->state == CALL_UP, reason);
	if (c->state == CALL_UP) {
		s->st.ended++;
		call_event(c, SECEV_CALL_ENDED, reason, status, by);
		call_record(c, 1, reason, status != 0 ? status : 200);
	} else {
		s->st.failed++;
		call_event(c, SECEV_CALL_FAILED, reason, status, by);
		call_record(c, 1, reason, status);
	}
	c->state = CALL_DEAD;
	policy_release(c);
	timer_cancel(h, &c->t_ring);
	timer_cancel(h, &c->t_max);
	timer_cancel(h, &c->t_retx);
	timer_cancel(h, &c->t_keep);
	timer_cancel(h, &c->t_fail);
	timer_cancel(h, &c->t_se);
	leg_unhash(s, &c->a);
	for (size_t i = 0; i < CALL_MAX_FORKS; i++)
		leg_unhash(s, &c->b[i]);
	s->st.active--;
	metrics_dec(MET_C_CALLS_ACTIVE);
	if (c->refs == 0)
		call_free(c);
}

void
call_unref(struct call *c)
{
	if (--c->refs == 0 && c->state == CALL_DEAD)
		call_free(c);
}

int
call_srv_request(struct call *c, struct txn *srv, const struct leg *x,
    struct sip_msg *ret)
{
	struct call_svc *s = c->svc;
	struct sip_perr err;
	const uint8_t *req;
	size_t len;

	if (srv == NULL || x == NULL || (req = txn_request(srv, &len)) == NULL)
		return -1;
	return sip_msg_parse(req, len, &s->w->env->lim,
	    sip_dest_reliable(&x->dest) ? SIP_PARSE_STREAM : 0, ret,
	    s->w->hdrs2, SIP_MAX_HDRS, &err) > 0 ? 0 : -1;
}

struct ctu *
ctu_new(struct call *c, enum ctu_role role, struct leg *l)
{
	struct ctu *u = calloc(1, sizeof(*u));

	if (u == NULL)
		return NULL;
	u->tu.kind = TU_CALL;
	u->role = (uint8_t)role;
	u->c = c;
	if (l != NULL) {
		u->side = l->side;
		u->fork = l->side == 1 ? (uint8_t)(l - c->b) : 0;
	}
	c->refs++;
	return u;
}

/* ---- timers ---- */

/* BYE both confirmed legs (each once) and end the call. */
void
call_hangup(struct call *c, const char *reason, const char *why_hdr)
{
	struct call_svc *s = c->svc;
	struct leg *b = c->winner >= 0 ? &c->b[c->winner] : NULL;

	if (c->state == CALL_UP) {
		out_own(s, &c->a, "BYE", why_hdr, 0);
		if (b != NULL)
			out_own(s, b, "BYE", why_hdr, 0);
	}
	call_end(c, reason, "sbc", 0);
}

static void
on_max(struct timer *t, uint64_t now)
{
	struct call *c = container_of(t, struct call, t_max);

	(void)now;
	if (c->minutes_cap)	/* FRAUD2: the account's day is used up */
		call_hangup(c, "minutes_per_day", "Reason: SIP;cause=200;"
		    "text=\"Daily minutes used\"\r\n");
	else
		call_hangup(c, "max_duration", "Reason: SIP;cause=200;"
		    "text=\"Maximum call duration\"\r\n");
}

static void
on_keep(struct timer *t, uint64_t now)
{
	struct call *c = container_of(t, struct call, t_keep);
	const struct sw_conf *conf = c->svc->w->env->conf;

	(void)now;
	if (c->state != CALL_UP || c->winner < 0)
		return;
	out_own(c->svc, &c->a, "OPTIONS", NULL, 1);
	out_own(c->svc, &c->b[c->winner], "OPTIONS", NULL, 1);
	call_arm(c, &c->t_keep, conf->calls.keepalive_ms);
}

/*
 * RFC 4028 towards the caller: it asked for a session timer, we answer
 * as the UAS with refresher=uac, so the caller refreshes (re-INVITE or
 * UPDATE) every half interval.  No refresh within the interval: the
 * session is dead (10.2), and both legs are hung up.
 */
const char *
call_se_lines(const struct call *c, char *buf, size_t cap)
{
	if (c->se_s == 0)
		buf[0] = '\0';
	else
		snprintf(buf, cap, "Session-Expires: %u;refresher=uac\r\n"
		    "Require: timer\r\n", c->se_s);
	return buf;
}

void
call_se_refreshed(struct call *c)
{
	if (c->se_s != 0 && c->state == CALL_UP)
		call_arm(c, &c->t_se, (uint64_t)c->se_s * 1000);
}

static void
on_se(struct timer *t, uint64_t now)
{
	struct call *c = container_of(t, struct call, t_se);

	(void)now;
	call_hangup(c, "session_timer",
	    "Reason: SIP;cause=408;text=\"Session expired\"\r\n");
}

/* A leg that does not answer its keep-alive is gone (408, 481 or
 * no answer at all): end the call on the other side too. */
void
call_leg_lost(struct call *c)
{
	call_hangup(c, "leg_lost",
	    "Reason: SIP;cause=408;text=\"Peer not responding\"\r\n");
}

/* 13.3.1.4: the 2xx goes again, T1 doubling up to T2, until its ACK;
 * without one after 64*T1 the dialog is confirmed and ended at once. */
static void
on_retx(struct timer *t, uint64_t now)
{
	struct call *c = container_of(t, struct call, t_retx);
	struct call_svc *s = c->svc;
	const struct sip_timers *tm = &s->w->env->timers;
	struct inv_relay *v = &c->inv;
	struct leg *from;

	if (!v->active || !v->answered || v->ok == NULL)
		return;
	from = v->from == 0 ? &c->a : leg_other(v->to);
	if (from == NULL)
		return;
	if (now >= v->deadline) {
		v->active = 0;
		call_hangup(c, "no_ack",
		    "Reason: SIP;cause=408;text=\"ACK timeout\"\r\n");
		return;
	}
	worker_send(s->w, &from->dest, v->ok, v->ok_len);
	v->interval = v->interval * 2 < tm->t2 ? v->interval * 2 : tm->t2;
	call_arm(c, &c->t_retx, v->interval);
}

/* No answer in time: cancel every fork, tell the caller. */
static void
on_ring(struct timer *t, uint64_t now)
{
	struct call *c = container_of(t, struct call, t_ring);

	(void)now;
	call_abort(c, 480, "ring_timeout");
}

/* A core target that did not answer at all goes to the next one. */
static void
on_fail(struct timer *t, uint64_t now)
{
	struct call *c = container_of(t, struct call, t_fail);

	(void)now;
	if (c->state == CALL_ROUTING && c->nforks > 0 &&
	    c->b[c->nforks - 1].state == LEG_TRYING)
		route_failover(c, &c->b[c->nforks - 1]);
}

/* ---- entry points from the worker ---- */

void
call_cancel(struct worker *w, struct txn *inv)
{
	struct tu *tu = txn_tu(inv);
	struct ctu *u = (struct ctu *)tu;

	(void)w;
	if (tu == NULL || tu->kind != TU_CALL || u->c == NULL ||
	    u->c->inv.srv != inv)
		return;
	if (u->c->state == CALL_UP) {
		/* a re-INVITE still with the other side: cancel it there;
		 * its 487 comes back and ends the relay */
		if (u->c->inv.active && !u->c->inv.answered &&
		    u->c->inv.to != NULL && u->c->inv.cli != NULL)
			out_cancel(u->c->svc, u->c->inv.to, 1);
		return;
	}
	if (u->c->state != CALL_ROUTING)
		return;
	/* the worker answers 200 to the CANCEL and 487 to the INVITE */
	call_stop_forks(u->c);
	u->c->inv.srv = NULL;
	call_end(u->c, "cancel", "caller", 487);
}

void
call_txn_response(struct worker *w, struct txn *t, const struct sip_msg *resp)
{
	struct ctu *u = txn_tu(t);

	(void)w;
	if (u == NULL || u->c == NULL)
		return;
	if (u->role == CTU_FORK)
		fork_response(u->c, u, t, resp);
	else
		dialog_response(u->c, u, t, resp);
}

void
call_txn_timeout(struct worker *w, struct txn *t)
{
	struct ctu *u = txn_tu(t);

	(void)w;
	if (u == NULL || u->c == NULL)
		return;
	if (u->role == CTU_FORK)
		fork_timeout(u->c, u);
	else
		dialog_timeout(u->c, u);
}

void
call_txn_gone(struct worker *w, struct txn *t)
{
	struct ctu *u = txn_tu(t);
	struct call *c;

	(void)w;
	if (u == NULL)
		return;
	txn_set_tu(t, NULL);
	c = u->c;
	if (c != NULL) {
		if (c->inv.srv == t)
			c->inv.srv = NULL;
		if (c->inv.cli == t)
			c->inv.cli = NULL;
		if (u->role == CTU_FORK && c->b[u->fork].inv == t)
			c->b[u->fork].inv = NULL;
		call_unref(c);
	}
	free(u->req);
	free(u);
}
