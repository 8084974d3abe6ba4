/*
 * Requests inside a call: each is matched by our tag, checked against
 * the dialog (Call-ID, their tag, their address, CSeq order) and
 * either answered here (BYE, REFER) or relayed as a new request on the
 * other leg, whose answer comes back through the original transaction.
 * A dialog's identifiers are unguessable, and the request must come
 * from the address the leg talks from, so in-dialog requests are not
 * challenged again (as at every SBC and proxy: RFC 3261 22.1 leaves it
 * to the UAS, and a phone cannot re-authenticate a BYE it must send).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/wbuf.h"
#include "sip/hdr.h"
#include "daemon/call_int.h"
#include "daemon/worker.h"

/* Do the headers of leg x come from our trusted side? */
static int
trusted_leg(const struct call *c, const struct leg *x)
{
	(void)c;
	return x->trusted;
}

static void
target_refresh(struct call_svc *s, struct leg *x, const struct sip_msg *m)
{
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_H_CONTACT);
	struct sip_nameaddr na;
	struct slice cur;

	if (h == NULL)
		return;
	cur = h->value;
	if (sip_nameaddr_next(&cur, &s->w->env->lim, 0, &na) > 0)
		leg_set(&x->target, na.uri.raw);
}

/* Relay a non-INVITE request from x to y, with extra header lines. */
static void
relay_extra(struct call *c, struct leg *x, struct leg *y, struct txn *t,
    const struct sip_msg *m, const char *extra)
{
	struct call_svc *s = c->svc;
	char branch[IDENT_BRANCH_LEN + 1];
	struct ctu *u;
	ssize_t n;

	ident_branch(&s->ids, branch);
	n = out_request(s, y, sip_method_name((enum sip_method)m->method),
	    ++y->lcseq, branch, m, trusted_leg(c, x),
	    m->method == SIP_M_UPDATE || m->method == SIP_M_REFER, extra,
	    s->scratch, sizeof(s->scratch));
	if (n < 0 || (u = ctu_new(c, CTU_RELAY, y)) == NULL) {
		uas_reply(s->w, t, m, &x->dest, 500, NULL, NULL);
		return;
	}
	u->peer = t;
	if ((u->req = malloc(m->len)) != NULL) {
		memcpy(u->req, m->buf, m->len);
		u->req_len = m->len;
	}
	if (u->req == NULL ||
	    out_send_txn(s, y, s->scratch, (size_t)n, u, NULL) < 0) {
		free(u->req);
		free(u);
		call_unref(c);
		uas_reply(s->w, t, m, &x->dest, 500, NULL, NULL);
	}
}

static void
relay(struct call *c, struct leg *x, struct leg *y, struct txn *t,
    const struct sip_msg *m)
{
	relay_extra(c, x, y, t, m, NULL);
}

/* A re-INVITE (or its glare). */
static void
reinvite(struct call *c, struct leg *x, struct leg *y, struct txn *t,
    const struct sip_msg *m)
{
	struct call_svc *s = c->svc;
	struct ctu *su, *cu;
	struct txn *ct;
	ssize_t n;

	if (c->inv.active) {
		/* 14.1: one offer/answer at a time; the other side retries */
		uas_reply(s->w, t, m, &x->dest, 491, NULL, NULL);
		return;
	}
	uas_reply(s->w, t, m, &x->dest, 100, NULL, NULL);
	target_refresh(s, x, m);
	if ((su = ctu_new(c, CTU_SERVER, x)) == NULL) {
		uas_reply(s->w, t, m, &x->dest, 500, NULL, NULL);
		return;
	}
	txn_set_tu(t, su);
	ident_branch(&s->ids, y->branch);
	y->inv_cseq = ++y->lcseq;
	n = out_request(s, y, "INVITE", y->inv_cseq, y->branch, m,
	    trusted_leg(c, x), 1, NULL, s->scratch, sizeof(s->scratch));
	if (n < 0 || (cu = ctu_new(c, CTU_REINVITE, y)) == NULL) {
		uas_reply(s->w, t, m, &x->dest, 500, NULL, NULL);
		return;
	}
	if (out_send_txn(s, y, s->scratch, (size_t)n, cu, &ct) < 0) {
		free(cu);
		call_unref(c);
		uas_reply(s->w, t, m, &x->dest, 500, NULL, NULL);
		return;
	}
	free(c->inv.ok);
	memset(&c->inv, 0, sizeof(c->inv));
	c->inv.active = 1;
	c->inv.from = x->side;
	c->inv.late_offer = m->body.len == 0;
	c->inv.srv = t;
	c->inv.to = y;
	c->inv.cli = ct;
}

void
call_in_dialog(struct worker *w, struct txn *t, const struct sip_msg *m,
    const struct sip_dest *src)
{
	struct call_svc *s = w->calls;
	struct leg *x = leg_find(s, m->to.tag), *y;
	struct call *c;

	if (x == NULL || x->call->state == CALL_DEAD || x->call_id == NULL ||
	    !slice_eq(m->call_id, slice_cstr(x->call_id)) ||
	    (x->rtag != NULL && !slice_eq(m->from.tag, slice_cstr(x->rtag)))) {
		uas_reply(w, t, m, src, 481, NULL, NULL);
		uas_event(w, SECEV_SIP_NO_MATCH, m, src, 481, "no dialog");
		return;
	}
	c = x->call;
	if (!sw_addr_eq_ip(&src->addr, &x->dest.addr)) {
		uas_reply(w, t, m, src, 481, NULL, NULL);
		uas_event(w, SECEV_SIP_POLICY, m, src, 481, "in-dialog request from another "
		    "address");
		return;
	}
	if (x->rcseq != 0 && m->cseq <= x->rcseq) {
		uas_reply(w, t, m, src, 500, "CSeq Out of Order", NULL);
		return;
	}
	x->rcseq = m->cseq;
	y = leg_other(x);
	if (c->state != CALL_UP || y == NULL || x->state != LEG_UP) {
		if (m->method == SIP_M_BYE && x->side == 1) {
			/* a fork hanging up its early dialog */
			uas_reply(w, t, m, src, 200, NULL, NULL);
			return;
		}
		uas_reply(w, t, m, src, 481, NULL, NULL);
		return;
	}
	switch ((enum sip_method)m->method) {
	case SIP_M_BYE: {
		const struct sip_hdr *rh = sip_msg_hdr(m, SIP_H_REASON);
		char reason[200];

		uas_reply(w, t, m, src, 200, NULL, NULL);
		reason[0] = '\0';
		if (rh != NULL && rh->value.len < 150)
			snprintf(reason, sizeof(reason), "Reason: %.*s\r\n",
			    (int)rh->value.len, (const char *)rh->value.p);
		out_own(s, y, "BYE", reason[0] != '\0' ? reason : NULL, 0);
		call_end(c, "bye", x->side == 0 ? "caller" : "callee", 0);
		return;
	}
	case SIP_M_INVITE:
		if (x->side == 0)
			call_se_refreshed(c);
		reinvite(c, x, y, t, m);
		return;
	case SIP_M_UPDATE:
		if (x->side == 0)
			call_se_refreshed(c);
		target_refresh(s, x, m);
		relay(c, x, y, t, m);
		return;
	case SIP_M_INFO:
	case SIP_M_OPTIONS:
	case SIP_M_MESSAGE:
	case SIP_M_NOTIFY:
		relay(c, x, y, t, m);
		return;
	case SIP_M_REFER:
		/* transfers through the edge are a toll-fraud path: the
		 * target meets the diversion policy (FRAUD3) first */
		if (policy_refer(c, x, y, t, m, s->extra_refer,
		    sizeof(s->extra_refer)) == 0)
			relay_extra(c, x, y, t, m, s->extra_refer);
		return;
	case SIP_M_PRACK:
		/* we never send reliable provisionals (no 100rel) */
		uas_reply(w, t, m, src, 481, NULL, NULL);
		return;
	default:
		uas_reply(w, t, m, src, 501, NULL, NULL);
		return;
	}
}

void
call_ack(struct worker *w, const struct sip_msg *m, const struct sip_dest *src)
{
	struct leg *x = leg_find(w->calls, m->to.tag), *y;
	struct call *c;

	(void)src;
	if (x == NULL || x->call->state == CALL_DEAD)
		return;
	c = x->call;
	if (!c->inv.active || !c->inv.answered || c->inv.from != x->side ||
	    c->inv.to == NULL)
		return;			/* a retransmission, or stray */
	timer_cancel(&w->timers, &c->t_retx);
	y = c->inv.to;
	c->inv.active = 0;
	if (c->inv.late_offer)		/* the answer is in this ACK */
		out_ack(w->calls, y, y->inv_cseq, m);
}

/* The leg a relayed request came from (the txn's peer is on it). */
static struct leg *
origin(struct call *c, const struct ctu *u)
{
	return u->side == 1 ? &c->a : leg_other(&c->a);
}

static void
relay_back(struct call *c, struct ctu *u, const struct sip_msg *resp)
{
	struct call_svc *s = c->svc;
	struct leg *x = origin(c, u);
	struct sip_msg rq;
	struct sip_perr err;
	ssize_t n;
	char se[96];

	if (u->peer == NULL || u->req == NULL || x == NULL ||
	    sip_msg_parse(u->req, u->req_len, &s->w->env->lim,
	    sip_dest_reliable(&x->dest) ? SIP_PARSE_STREAM : 0, &rq,
	    s->w->hdrs2, SIP_MAX_HDRS, &err) <= 0)
		return;
	n = out_response(s, x, &rq, resp->status, resp->reason, resp,
	    !trusted_leg(c, x), rq.method == SIP_M_UPDATE &&
	    resp->status < 300, rq.method == SIP_M_UPDATE && x->side == 0 &&
	    resp->status >= 200 && resp->status < 300 ?
	    call_se_lines(c, se, sizeof(se)) : NULL, s->scratch,
	    sizeof(s->scratch));
	if (n > 0)
		txn_server_reply(s->w->txl, u->peer, resp->status, s->scratch,
		    (size_t)n);
	if (resp->status >= 200)
		u->peer = NULL;
}

/* Relay a response of the re-INVITE to where it came from. */
static void
reinvite_back(struct call *c, struct txn *t, const struct sip_msg *resp)
{
	struct call_svc *s = c->svc;
	struct inv_relay *v = &c->inv;
	struct leg *x, *y = v->to;
	struct sip_msg rq;
	ssize_t n;
	unsigned st = resp->status;
	char se[96];

	if (st >= 200 && st < 300 && (!v->active || v->cli != t ||
	    v->answered)) {
		if (y != NULL && y->ack != NULL)	/* 2xx again */
			worker_send(s->w, &y->dest, y->ack, y->ack_len);
		return;
	}
	if (!v->active || v->cli != t || st == 100)
		return;
	x = v->from == 0 ? &c->a : leg_other(&c->a);
	if (call_srv_request(c, v->srv, x, &rq) < 0)
		return;
	if (st >= 200 && st < 300)
		target_refresh(s, y, resp);
	n = out_response(s, x, &rq, st, resp->reason, resp, !trusted_leg(c, x),
	    st < 300, x->side == 0 && st >= 200 && st < 300 ?
	    call_se_lines(c, se, sizeof(se)) : NULL, s->scratch,
	    sizeof(s->scratch));
	if (n <= 0)
		return;
	if (st >= 200 && st < 300) {
		uint8_t *p = malloc((size_t)n);

		if (p != NULL) {
			memcpy(p, s->scratch, (size_t)n);
			free(v->ok);
			v->ok = p;
			v->ok_len = (size_t)n;
		}
	}
	/* before out_ack: it writes the same scratch buffer */
	txn_server_reply(s->w->txl, v->srv, st, s->scratch, (size_t)n);
	if (st >= 300) {
		v->active = 0;
		return;
	}
	if (st >= 200) {
		v->answered = 1;
		v->deadline = uv_now(&s->w->loop) +
		    64 * (uint64_t)s->w->env->timers.t1;
		if (!v->late_offer)
			out_ack(s, y, y->inv_cseq, NULL);
		if (!sip_dest_reliable(&x->dest)) {
			v->interval = s->w->env->timers.t1;
			call_arm(c, &c->t_retx, v->interval);
		}
	}
}

void
dialog_response(struct call *c, struct ctu *u, struct txn *t,
    const struct sip_msg *resp)
{
	switch (u->role) {
	case CTU_OWN:
		if (u->ping && c->state == CALL_UP &&
		    (resp->status == 408 || resp->status == 481))
			call_leg_lost(c);
		return;
	case CTU_RELAY:
		if (resp->status > 100)
			relay_back(c, u, resp);
		return;
	case CTU_REINVITE:
		reinvite_back(c, t, resp);
		return;
	default:
		return;
	}
}

void
dialog_timeout(struct call *c, struct ctu *u)
{
	struct call_svc *s = c->svc;
	struct sip_msg fake;

	switch (u->role) {
	case CTU_OWN:
		if (u->ping && c->state == CALL_UP)
			call_leg_lost(c);
		return;
	case CTU_RELAY:
	case CTU_REINVITE:
		/* answer the waiting side 408, as if the far end had */
		memset(&fake, 0, sizeof(fake));
		fake.status = 408;
		fake.reason = slice_cstr("Request Timeout");
		fake.hdrs = NULL;
		if (u->role == CTU_RELAY)
			relay_back(c, u, &fake);
		else if (c->inv.active && c->inv.cli != NULL)
			reinvite_back(c, c->inv.cli, &fake);
		(void)s;
		return;
	default:
		return;
	}
}
