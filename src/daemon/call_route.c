/*
 * New calls (SIG6): where an INVITE goes, and what its forks answer.
 *
 *   authenticated endpoint -> the core PBX (core.targets, in order;
 *       the next one on 503, 408 or silence);
 *   core PBX -> the registered contacts of the Request-URI's user,
 *       all rung at once, first 2xx wins, the rest are cancelled.
 *
 * The caller's leg A keeps the caller's identifiers; each fork is a new
 * dialog with our own.  Towards the core, From is the authenticated
 * account (a caller cannot present someone else's identity) and
 * P-Asserted-Identity asserts it; towards an endpoint, the core's From
 * user with our own host.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/wbuf.h"
#include "sip/hdr.h"
#include "sip/location.h"
#include "daemon/call_int.h"
#include "daemon/worker.h"

#define FAILOVER_MS	4000	/* silence from a core target */

static int
slice_user(struct slice u, char *out, size_t cap)
{
	if (u.len == 0 || u.len >= cap)
		return -1;
	for (size_t i = 0; i < u.len; i++)
		if (u.p[i] < 0x21 || u.p[i] > 0x7e || u.p[i] == '"' ||
		    u.p[i] == '<' || u.p[i] == '>')
			return -1;
	memcpy(out, u.p, u.len);
	out[u.len] = '\0';
	return 0;
}

/* Answer the caller's INVITE (leg A) with a final status of our own. */
static void
reply_a(struct call *c, unsigned status, const char *reason)
{
	struct call_svc *s = c->svc;
	struct sip_msg im;
	struct sip_perr err;
	const uint8_t *req;
	size_t len;
	ssize_t n;

	if (c->inv.srv == NULL ||
	    (req = txn_request(c->inv.srv, &len)) == NULL)
		return;
	if (sip_msg_parse(req, len, &s->w->env->lim,
	    sip_dest_reliable(&c->a.dest) ? SIP_PARSE_STREAM : 0, &im,
	    s->w->hdrs2, SIP_MAX_HDRS, &err) <= 0)
		return;
	n = out_response(s, &c->a, &im, status,
	    reason != NULL ? slice_cstr(reason) : slice_cstr(""), NULL, 0, 0,
	    NULL, s->scratch, sizeof(s->scratch));
	if (n > 0)
		txn_server_reply(s->w->txl, c->inv.srv, status, s->scratch,
		    (size_t)n);
}

/* Relay a fork's response to the caller through the INVITE's txn. */
static void
relay_a(struct call *c, const struct sip_msg *resp, int keep_ok)
{
	struct call_svc *s = c->svc;
	struct sip_msg im;
	struct sip_perr err;
	const uint8_t *req;
	size_t len;
	ssize_t n;
	unsigned st = resp->status;

	if (c->inv.srv == NULL ||
	    (req = txn_request(c->inv.srv, &len)) == NULL)
		return;
	if (sip_msg_parse(req, len, &s->w->env->lim,
	    sip_dest_reliable(&c->a.dest) ? SIP_PARSE_STREAM : 0, &im,
	    s->w->hdrs2, SIP_MAX_HDRS, &err) <= 0)
		return;
	n = out_response(s, &c->a, &im, st, resp->reason, resp, !c->from_core,
	    st < 300, NULL, s->scratch, sizeof(s->scratch));
	if (n <= 0)
		return;
	if (keep_ok) {
		uint8_t *p = malloc((size_t)n);

		if (p != NULL) {
			memcpy(p, s->scratch, (size_t)n);
			free(c->inv.ok);
			c->inv.ok = p;
			c->inv.ok_len = (size_t)n;
		}
	}
	txn_server_reply(s->w->txl, c->inv.srv, st, s->scratch, (size_t)n);
}

/* Start (or restart, for failover) fork l: send the INVITE m. */
static int
fork_start(struct call *c, struct leg *l, const struct sip_msg *m,
    const char *extra)
{
	struct call_svc *s = c->svc;
	struct ctu *u;
	ssize_t n;
	int r;

	ident_branch(&s->ids, l->branch);
	l->inv_cseq = ++l->lcseq;
	n = out_request(s, l, "INVITE", l->inv_cseq, l->branch, m,
	    c->from_core, 1, extra, s->scratch, sizeof(s->scratch));
	if (n < 0)
		return (int)n;
	if ((u = ctu_new(c, CTU_FORK, l)) == NULL)
		return -ENOMEM;
	if ((r = out_send_txn(s, l, s->scratch, (size_t)n, u, &l->inv)) < 0) {
		call_unref(c);
		free(u);
		l->state = LEG_DONE;
		return r;
	}
	l->state = LEG_TRYING;
	return 0;
}

/* Fork towards core target idx; 0 or an error. */
static int
fork_core(struct call *c, struct leg *l, const struct sip_msg *m,
    size_t idx, const char *ruser)
{
	const struct sw_conf *conf = c->svc->w->env->conf;
	const struct conf_target *tg = &conf->core.targets[idx];
	char a[SW_ADDR_STRLEN], buf[CALL_STR_MAX], pai[256];
	struct wbuf w;
	int r;

	l->target_idx = (uint8_t)idx;
	l->dest.addr = tg->addr;
	l->dest.transport = tg->transport == CONF_TRANSPORT_TCP ? SIP_TP_TCP :
	    tg->transport == CONF_TRANSPORT_TLS ? SIP_TP_TLS : SIP_TP_UDP;
	l->dest.conn_id = 0;
	for (size_t i = 0; i < conf->nlisten; i++)
		if (conf->listen[i].zone == conf->core.zone &&
		    conf->listen[i].transport == tg->transport &&
		    sw_addr_family(&conf->listen[i].addr) ==
		    sw_addr_family(&tg->addr)) {
			l->dest.lsn = (uint8_t)i;
			break;
		}
	sw_addr_str(&tg->addr, a, sizeof(a));
	snprintf(buf, sizeof(buf), "sip:%s@%s", ruser, a);
	if ((r = leg_set(&l->target, slice_cstr(buf))) < 0)
		return r;
	snprintf(buf, sizeof(buf), "<sip:%s@%s>", ruser, a);
	if ((r = leg_set(&l->ruri, slice_cstr(buf))) < 0)
		return r;
	wbuf_init(&w, pai, sizeof(pai));
	wbuf_fmt(&w, "P-Asserted-Identity: <sip:%s@%s>\r\n", c->account,
	    conf->auth.realm);
	return fork_start(c, l, m, w.overflow ? NULL : pai);
}

/* The From display name of m, quoted as it came, or "". */
static struct slice
display_of(const struct sip_msg *m)
{
	struct slice d = m->from.display;

	return d.len > 0 && d.len < 128 ? d : slice_cstr("");
}

static int
leg_a_from(struct call *c, const struct sip_msg *m, const struct sip_dest *src)
{
	struct leg *a = &c->a;
	const struct sip_hdr *h;
	char rr[CALL_STR_MAX];
	struct wbuf w;
	int r;

	ident_tag(&c->svc->ids, a->ltag);
	a->dest = *src;
	a->rcseq = m->cseq;
	a->lcseq = 1;
	a->state = LEG_EARLY;
	if ((r = leg_set(&a->call_id, m->call_id)) < 0 ||
	    (r = leg_set(&a->rtag, m->from.tag)) < 0 ||
	    (r = out_strip_tag(&m->from, &a->ruri)) < 0 ||
	    (r = leg_set(&a->luri, m->to.raw)) < 0)
		return r;
	if ((h = sip_msg_hdr(m, SIP_H_CONTACT)) != NULL) {
		struct sip_nameaddr na;
		struct slice cur = h->value;

		if (sip_nameaddr_next(&cur, &c->svc->w->env->lim, 0, &na) > 0 &&
		    (r = leg_set(&a->target, na.uri.raw)) < 0)
			return r;
	}
	if (a->target == NULL)		/* 8.1.1.8: required; be lenient */
		leg_set(&a->target, m->from.uri.raw);
	/* 12.1.1: the UAS route set is the Record-Route as it came */
	wbuf_init(&w, rr, sizeof(rr) - 1);
	for (h = sip_msg_hdr(m, SIP_H_RECORD_ROUTE); h != NULL;
	    h = sip_msg_hdr_next(m, h)) {
		if (w.n > 0)
			wbuf_str(&w, ", ");
		wbuf_slice(&w, h->value);
	}
	if (w.n > 0 && !w.overflow) {
		rr[w.n] = '\0';
		leg_set(&a->route, slice_cstr(rr));
	}
	leg_hash(c->svc, a);
	return 0;
}

static int
leg_b_init(struct call *c, struct leg *l, const char *from_user,
    struct slice display, const char *from_host)
{
	char buf[CALL_STR_MAX], cid[IDENT_CALLID_LEN + 1];
	int r;

	ident_tag(&c->svc->ids, l->ltag);
	ident_callid(&c->svc->ids, cid);
	l->lcseq = 0;
	if ((r = leg_set(&l->call_id, slice_cstr(cid))) < 0)
		return r;
	snprintf(buf, sizeof(buf), "%.*s%s<sip:%s@%s>", (int)display.len,
	    (const char *)display.p, display.len > 0 ? " " : "", from_user,
	    from_host);
	if ((r = leg_set(&l->luri, slice_cstr(buf))) < 0)
		return r;
	leg_hash(c->svc, l);
	return 0;
}

static void
route_event(struct worker *w, const struct sip_msg *m,
    const struct sip_dest *src, unsigned status, const char *reason)
{
	struct secevent ev;

	secevent_init(&ev, SECEV_ROUTE_FAILED);
	ev.reason = reason;
	ev.status = (int)status;
	ev.method = m->method_s;
	ev.call_id = m->call_id;
	worker_event(w, &ev, src);
}

/* Endpoint -> core. */
static void
to_core(struct call *c, const struct sip_msg *m)
{
	const struct sw_conf *conf = c->svc->w->env->conf;
	struct leg *l = &c->b[0];

	c->nforks = 1;
	if (leg_b_init(c, l, c->account, display_of(m), conf->auth.realm) < 0 ||
	    fork_core(c, l, m, 0, c->to_user) < 0) {
		reply_a(c, 500, "Routing Failed");
		call_end(c, "internal", "sbc", 500);
		return;
	}
	if (conf->core.ntargets > 1)
		call_arm(c, &c->t_fail, FAILOVER_MS);
}

/* Core -> the registered contacts of the user. */
static void
to_endpoint(struct call *c, const struct sip_msg *m, const struct sip_dest *src)
{
	struct call_svc *s = c->svc;
	const struct sw_conf *conf = s->w->env->conf;
	struct binding bs[CALL_MAX_FORKS];
	char aor[LOC_AOR_MAX + 1], host[SW_ADDR_STRLEN], fuser[64], buf[600];
	size_t n;

	if (loc_aor(slice_cstr(c->to_user), slice_cstr(conf->auth.realm),
	    aor) < 0 || (n = loc_get(s->w->env->sec.loc, aor,
	    (int64_t)time(NULL), bs, CALL_MAX_FORKS)) == 0) {
		reply_a(c, 480, NULL);
		route_event(s->w, m, src, 480, "not registered");
		call_end(c, "not_registered", "sbc", 480);
		return;
	}
	if (slice_user(m->from.uri.user, fuser, sizeof(fuser)) < 0)
		snprintf(fuser, sizeof(fuser), "anonymous");
	for (size_t i = 0; i < n; i++) {
		struct leg *l = &c->b[c->nforks];

		l->dest = bs[i].flow;
		/* answers go out of the listener the phone registered on */
		sw_addr_str(&conf->listen[l->dest.lsn].addr, host, sizeof(host));
		if (leg_b_init(c, l, fuser, display_of(m), host) < 0 ||
		    leg_set(&l->target, slice_cstr(bs[i].contact)) < 0)
			continue;
		snprintf(buf, sizeof(buf), "<sip:%s>", aor);
		if (leg_set(&l->ruri, slice_cstr(buf)) < 0)
			continue;
		c->nforks++;
		if (fork_start(c, l, m, NULL) < 0)
			l->state = LEG_DONE;
	}
	for (size_t i = 0; i < c->nforks; i++)
		if (c->b[i].state == LEG_TRYING)
			return;
	reply_a(c, 480, NULL);
	call_end(c, "unreachable", "sbc", 480);
}

void
call_invite(struct worker *w, struct txn *t, const struct sip_msg *m,
    const struct sip_dest *src, const struct account_info *acct)
{
	struct call_svc *s = w->calls;
	const struct sw_conf *conf = w->env->conf;
	uint32_t zone = conf->listen[src->lsn].zone;
	int from_core = conf->core.zone_name[0] != '\0' &&
	    zone == conf->core.zone;
	struct call *c;
	struct ctu *u;
	char ruser[64];

	if (slice_user(m->ruri.user, ruser, sizeof(ruser)) < 0) {
		uas_reply(w, t, m, src, 404, NULL, NULL);
		route_event(w, m, src, 404, "no user in request uri");
		return;
	}
	if (!from_core && (acct == NULL || conf->core.ntargets == 0)) {
		uas_reply(w, t, m, src, 404, NULL, NULL);
		route_event(w, m, src, 404, "no route");
		return;
	}
	if ((c = call_new(s)) == NULL) {
		uas_reply(w, t, m, src, 503, NULL, "Retry-After: 5\r\n");
		route_event(w, m, src, 503, "call table full");
		return;
	}
	c->from_core = (uint8_t)from_core;
	snprintf(c->to_user, sizeof(c->to_user), "%s", ruser);
	if (acct != NULL)
		snprintf(c->account, sizeof(c->account), "%s", acct->username);
	if ((u = ctu_new(c, CTU_SERVER, NULL)) == NULL) {
		uas_reply(w, t, m, src, 500, NULL, NULL);
		call_end(c, "internal", "sbc", 500);
		return;
	}
	txn_set_tu(t, u);
	c->inv.active = 1;
	c->inv.from = 0;
	c->inv.srv = t;
	c->inv.late_offer = m->body.len == 0;
	s->st.attempts++;
	if (leg_a_from(c, m, src) < 0) {
		reply_a(c, 500, NULL);
		call_end(c, "internal", "sbc", 500);
		return;
	}
	call_event(c, SECEV_CALL_ATTEMPT, NULL, 0, NULL);
	call_arm(c, &c->t_ring, conf->calls.ring_timeout_ms);
	if (from_core)
		to_endpoint(c, m, src);
	else
		to_core(c, m);
}

/* ---- forks ---- */

void
call_stop_forks(struct call *c)
{
	for (size_t i = 0; i < c->nforks; i++) {
		struct leg *l = &c->b[i];

		if (l->state == LEG_EARLY)
			out_cancel(c->svc, l);
		else if (l->state == LEG_TRYING)
			l->cancel = 1;	/* 9.1: only once it rings */
		if (l->state == LEG_EARLY || l->state == LEG_TRYING)
			l->state = LEG_DONE;
	}
}

void
call_abort(struct call *c, unsigned status, const char *reason)
{
	call_stop_forks(c);
	reply_a(c, status, NULL);
	call_end(c, reason, "sbc", status);
}

/* Every fork has ended without an answer: give the caller the best. */
static void
forks_done(struct call *c)
{
	for (size_t i = 0; i < c->nforks; i++)
		if (c->b[i].state == LEG_TRYING || c->b[i].state == LEG_EARLY)
			return;
	reply_a(c, c->best != 0 ? c->best : 480, NULL);
	call_end(c, "rejected", "callee", c->best != 0 ? c->best : 480);
}

/* 16.7: 6xx beats everything, then the lowest class; 503 becomes 500
 * so the caller does not think we are overloaded. */
static void
keep_best(struct call *c, unsigned st)
{
	unsigned b = c->best;

	if (st == 503)
		st = 500;
	if (b == 0 || (st >= 600 && b < 600) ||
	    (b < 600 && st < 600 && st / 100 < b / 100))
		c->best = (uint16_t)st;
}

void
route_failover(struct call *c, struct leg *l)
{
	const struct sw_conf *conf = c->svc->w->env->conf;
	struct call_svc *s = c->svc;
	size_t next = (size_t)l->target_idx + 1;
	struct leg *nl;
	struct sip_msg im;
	struct sip_perr err;
	const uint8_t *req;
	size_t len;

	timer_cancel(&s->w->timers, &c->t_fail);
	l->state = LEG_DONE;
	if (c->from_core || next >= conf->core.ntargets ||
	    c->nforks >= CALL_MAX_FORKS || c->inv.srv == NULL ||
	    (req = txn_request(c->inv.srv, &len)) == NULL) {
		forks_done(c);
		return;
	}
	{
		struct secevent ev;
		char a[SW_ADDR_STRLEN];

		secevent_init(&ev, SECEV_ROUTE_TARGET_DOWN);
		ev.reason = "no answer or 503";
		secevent_add_str(&ev, "target", sw_addr_str(
		    &conf->core.targets[l->target_idx].addr, a, sizeof(a)));
		worker_event(s->w, &ev, NULL);
	}
	/* a new fork, so that a late 2xx from the abandoned target still
	 * finds its own dialog to ACK and hang up */
	nl = &c->b[c->nforks++];
	if (sip_msg_parse(req, len, &s->w->env->lim,
	    sip_dest_reliable(&c->a.dest) ? SIP_PARSE_STREAM : 0, &im,
	    s->w->hdrs2, SIP_MAX_HDRS, &err) <= 0 ||
	    leg_b_init(c, nl, c->account, display_of(&im),
	    conf->auth.realm) < 0 ||
	    fork_core(c, nl, &im, next, c->to_user) < 0) {
		nl->state = LEG_DONE;
		forks_done(c);
		return;
	}
	if (next + 1 < conf->core.ntargets)
		call_arm(c, &c->t_fail, FAILOVER_MS);
}

/* Hang up a 2xx nobody wants (a losing fork, or after CANCEL). */
static void
refuse_2xx(struct call *c, struct leg *l, const struct sip_msg *resp)
{
	struct call_svc *s = c->svc;
	const struct sip_hdr *h = sip_msg_hdr(resp, SIP_H_CONTACT);
	struct sip_nameaddr na;
	struct slice cur;

	if (resp->to.has_tag)
		leg_set(&l->rtag, resp->to.tag);
	if (h != NULL) {
		cur = h->value;
		if (sip_nameaddr_next(&cur, &s->w->env->lim, 0, &na) > 0)
			leg_set(&l->target, na.uri.raw);
	}
	out_ack(s, l, l->inv_cseq, NULL);
	out_own(s, l, "BYE", NULL, 0);
}

/* The dialog state a 2xx (or 1xx with a tag) gives a fork. */
static void
fork_dialog(struct call *c, struct leg *l, const struct sip_msg *resp)
{
	const struct sip_limits *lim = &c->svc->w->env->lim;
	const struct sip_hdr *h;
	struct sip_nameaddr na;
	struct slice cur;
	char rr[CALL_STR_MAX], *parts[16];
	size_t np = 0;

	if (resp->to.has_tag)
		leg_set(&l->rtag, resp->to.tag);
	if ((h = sip_msg_hdr(resp, SIP_H_CONTACT)) != NULL) {
		cur = h->value;
		if (sip_nameaddr_next(&cur, lim, 0, &na) > 0)
			leg_set(&l->target, na.uri.raw);
	}
	/* 12.1.2: the UAC route set is the Record-Route reversed */
	for (h = sip_msg_hdr(resp, SIP_H_RECORD_ROUTE); h != NULL;
	    h = sip_msg_hdr_next(resp, h)) {
		cur = h->value;
		while (np < 16 && sip_nameaddr_next(&cur, lim, 0, &na) > 0) {
			parts[np] = NULL;
			if (leg_set(&parts[np], na.raw) == 0)
				np++;
		}
	}
	if (np > 0) {
		struct wbuf w;

		wbuf_init(&w, rr, sizeof(rr) - 1);
		for (size_t i = np; i-- > 0;) {
			if (i + 1 < np)
				wbuf_str(&w, ", ");
			wbuf_str(&w, parts[i]);
			free(parts[i]);
		}
		if (!w.overflow) {
			rr[w.n] = '\0';
			leg_set(&l->route, slice_cstr(rr));
		}
	}
}

void
fork_response(struct call *c, struct ctu *u, struct txn *t,
    const struct sip_msg *resp)
{
	struct call_svc *s = c->svc;
	struct leg *l = &c->b[u->fork];
	unsigned st = resp->status;

	if (st < 200 && st > 100 && l->inv == t && l->state == LEG_TRYING) {
		l->state = LEG_EARLY;
		if (c->t_fail.idx != 0)
			timer_cancel(&s->w->timers, &c->t_fail);
	}
	if (l->cancel && l->inv == t && st < 200 && st > 100) {
		l->cancel = 0;
		out_cancel(s, l);
		return;
	}
	if (st < 200) {
		if (st > 100 && c->state == CALL_ROUTING && l->inv == t &&
		    l->state == LEG_EARLY)
			relay_a(c, resp, 0);
		return;
	}
	if (st < 300) {
		if (c->state == CALL_UP && c->winner == u->fork &&
		    l->inv_cseq == resp->cseq) {
			/* 2xx again: our ACK was lost */
			if (l->ack != NULL)
				worker_send(s->w, &l->dest, l->ack, l->ack_len);
			return;
		}
		if (c->state != CALL_ROUTING || l->inv != t ||
		    l->state == LEG_DONE) {
			if (l->ack != NULL)
				worker_send(s->w, &l->dest, l->ack, l->ack_len);
			else
				refuse_2xx(c, l, resp);
			return;
		}
		c->winner = (int8_t)u->fork;
		l->state = LEG_UP;
		fork_dialog(c, l, resp);
		for (size_t i = 0; i < c->nforks; i++)
			if (i != u->fork) {
				struct leg *o = &c->b[i];

				if (o->state == LEG_EARLY)
					out_cancel(s, o);
				else if (o->state == LEG_TRYING)
					o->cancel = 1;
				if (o->state != LEG_UP)
					o->state = LEG_DONE;
			}
		c->a.state = LEG_UP;
		c->inv.to = l;
		c->inv.answered = 1;
		relay_a(c, resp, 1);
		if (!c->inv.late_offer) {
			out_ack(s, l, l->inv_cseq, NULL);
		}
		if (!sip_dest_reliable(&c->a.dest) && c->inv.ok != NULL) {
			c->inv.interval = s->w->env->timers.t1;
			c->inv.deadline = uv_now(&s->w->loop) +
			    64 * (uint64_t)s->w->env->timers.t1;
			call_arm(c, &c->t_retx, c->inv.interval);
		} else
			c->inv.deadline = uv_now(&s->w->loop) +
			    64 * (uint64_t)s->w->env->timers.t1;
		call_answered(c);
		return;
	}
	/* a final failure of this fork */
	if (l->inv != t || l->state == LEG_DONE || c->state != CALL_ROUTING)
		return;
	if (!c->from_core && (st == 503 || st == 408) && l->state == LEG_TRYING) {
		route_failover(c, l);
		return;
	}
	l->state = LEG_DONE;
	keep_best(c, st);
	if (st >= 600) {
		call_stop_forks(c);
		reply_a(c, st, NULL);
		call_end(c, "rejected", "callee", st);
		return;
	}
	forks_done(c);
}

void
fork_timeout(struct call *c, struct ctu *u)
{
	struct leg *l = &c->b[u->fork];

	if (c->state != CALL_ROUTING || l->state == LEG_DONE)
		return;
	if (!c->from_core && l->state == LEG_TRYING) {
		route_failover(c, l);
		return;
	}
	l->state = LEG_DONE;
	keep_best(c, 408);
	forks_done(c);
}
