/*
 * Outbound registration with trunk providers (AUTH5): for each trunk
 * with `register: true`, worker 0 keeps sipwall registered as
 * username@domain, answering the provider's 401/407 with the
 * configured credentials, refreshing at 80% of what was granted, and
 * retrying every 30 s after a failure.  Each outcome is an event.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/digest_client.h"
#include "core/wbuf.h"
#include "sip/hdr.h"
#include "daemon/call_int.h"
#include "daemon/trunk.h"
#include "daemon/trunkreg.h"
#include "daemon/worker.h"

#define RETRY_MS	30000
#define MIN_REFRESH_MS	5000

struct treg {
	struct tu	 tu;			/* TU_TRUNKREG: first */
	struct worker	*w;
	size_t		 ti;			/* trunk index */
	char		 call_id[IDENT_CALLID_LEN + 1];
	char		 tag[IDENT_TAG_LEN + 1];
	uint32_t	 cseq;
	uint8_t		 auth_tried;
	struct txn	*txn;
	struct timer	 t;
};

struct trunkreg {
	size_t		 n;
	struct treg	 r[CONF_MAX_TRUNKS];
};

static void
event(struct treg *r, enum secevent_type type, unsigned status,
    const char *reason, long long expires)
{
	struct secevent ev;

	secevent_init(&ev, type);
	ev.status = (int)status;
	ev.reason = reason;
	ev.method = slice_cstr("REGISTER");
	secevent_add_str(&ev, "trunk", r->w->env->conf->trunks[r->ti].name);
	if (expires >= 0)
		secevent_add_int(&ev, "expires", expires);
	worker_event(r->w, &ev, NULL);
}

static void
arm(struct treg *r, uint64_t after)
{
	timer_arm(&r->w->timers, &r->t, uv_now(&r->w->loop) + after);
}

/* REGISTER, with credentials answering `challenge` when set. */
static void
send_register(struct treg *r, const struct sip_msg *challenge)
{
	struct worker *w = r->w;
	const struct sw_conf *conf = w->env->conf;
	const struct conf_trunk *tk = &conf->trunks[r->ti];
	struct call_svc *s = w->calls;
	char addr[SW_ADDR_STRLEN], me[SW_ADDR_STRLEN], branch[IDENT_BRANCH_LEN + 1];
	char uri[CONF_REALM_MAX + SW_ADDR_STRLEN + 8], cred[1024];
	const char *dom;
	struct sip_dest d;
	struct wbuf b;

	if (trunk_dest(w, r->ti, &d) < 0) {
		arm(r, RETRY_MS);
		return;
	}
	sw_addr_str(&tk->addr, addr, sizeof(addr));
	sw_addr_str(&conf->listen[d.lsn].addr, me, sizeof(me));
	dom = tk->domain[0] != '\0' ? tk->domain : addr;
	snprintf(uri, sizeof(uri), "sip:%s", dom);
	ident_branch(&s->ids, branch);
	wbuf_init(&b, s->scratch, sizeof(s->scratch));
	wbuf_fmt(&b, "REGISTER %s SIP/2.0\r\nVia: SIP/2.0/%s %s;branch=%s;"
	    "rport\r\nMax-Forwards: 70\r\nFrom: <sip:%s@%s>;tag=%s\r\n"
	    "To: <sip:%s@%s>\r\nCall-ID: %s\r\nCSeq: %u REGISTER\r\n"
	    "Contact: <sip:%s@%s%s>\r\nExpires: %u\r\n", uri,
	    d.transport == SIP_TP_TLS ? "TLS" : d.transport == SIP_TP_TCP ?
	    "TCP" : "UDP", me, branch, tk->username, dom, r->tag,
	    tk->username, dom, r->call_id, ++r->cseq, tk->username, me,
	    d.transport == SIP_TP_TLS ? ";transport=tls" :
	    d.transport == SIP_TP_TCP ? ";transport=tcp" : "",
	    tk->register_expires_ms / 1000);
	if (challenge != NULL) {
		const struct sip_hdr *h = sip_msg_hdr(challenge,
		    challenge->status == 401 ? SIP_H_WWW_AUTHENTICATE :
		    SIP_H_PROXY_AUTHENTICATE);
		struct digest_answer_in in;
		char cnonce[IDENT_TAG_LEN + 1];

		ident_tag(&s->ids, cnonce);
		memset(&in, 0, sizeof(in));
		if (h != NULL)
			in.challenge = h->value;
		in.username = slice_cstr(tk->username);
		in.password = slice_cstr(tk->password);
		in.method = slice_cstr("REGISTER");
		in.uri = slice_cstr(uri);
		in.nc = 1;
		in.cnonce = slice_cstr(cnonce);
		if (h == NULL || digest_client_answer(&in, cred,
		    sizeof(cred)) < 0) {
			event(r, SECEV_TRUNK_REG_FAILED, challenge->status,
			    "challenge", -1);
			arm(r, RETRY_MS);
			return;
		}
		wbuf_fmt(&b, "%s: %s\r\n", challenge->status == 401 ?
		    "Authorization" : "Proxy-Authorization", cred);
	}
	wbuf_str(&b, "Content-Length: 0\r\n\r\n");
	if (b.overflow || txn_client_new(w->txl, &d, s->scratch, b.n, r,
	    &r->txn) < 0) {
		r->txn = NULL;
		arm(r, RETRY_MS);
	}
}

static void
on_timer(struct timer *t, uint64_t now)
{
	struct treg *r = container_of(t, struct treg, t);

	(void)now;
	if (r->txn != NULL)
		return;			/* one at a time */
	r->auth_tried = 0;
	send_register(r, NULL);
}

int
trunkreg_init(struct worker *w)
{
	const struct sw_conf *conf = w->env->conf;
	struct trunkreg *tr;

	w->treg = NULL;
	if (w->idx != 0)
		return 0;
	if ((tr = calloc(1, sizeof(*tr))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < conf->ntrunks; i++) {
		struct treg *r;

		if (!conf->trunks[i].do_register)
			continue;
		r = &tr->r[tr->n++];
		r->tu.kind = TU_TRUNKREG;
		r->w = w;
		r->ti = i;
		timer_init(&r->t, on_timer);
	}
	w->treg = tr;
	return 0;
}

/* Start registering, once the worker's loop and calls exist. */
void
trunkreg_start(struct worker *w)
{
	struct trunkreg *tr = w->treg;

	if (tr == NULL)
		return;
	for (size_t i = 0; i < tr->n; i++) {
		struct treg *r = &tr->r[i];

		ident_callid(&w->calls->ids, r->call_id);
		ident_tag(&w->calls->ids, r->tag);
		arm(r, 200);
	}
}

void
trunkreg_close(struct worker *w)
{
	struct trunkreg *tr = w->treg;

	if (tr == NULL)
		return;
	for (size_t i = 0; i < tr->n; i++)
		timer_cancel(&w->timers, &tr->r[i].t);
}

void
trunkreg_free(struct worker *w)
{
	free(w->treg);
	w->treg = NULL;
}

/* The expiry the provider granted us, in seconds. */
static uint32_t
granted(const struct treg *r, const struct sip_msg *resp)
{
	const struct sip_hdr *h;
	uint32_t e = r->w->env->conf->trunks[r->ti].register_expires_ms / 1000;

	for (h = sip_msg_hdr(resp, SIP_H_CONTACT); h != NULL;
	    h = sip_msg_hdr_next(resp, h)) {
		struct slice cur = h->value;
		struct sip_nameaddr na;

		while (sip_nameaddr_next(&cur, &r->w->env->lim, 0, &na) > 0)
			if (na.has_expires && slice_eq_cstr_ci(na.uri.user,
			    r->w->env->conf->trunks[r->ti].username))
				return na.expires;
	}
	if (resp->flags & SIP_MSG_HAS_EXPIRES)
		return resp->expires;
	return e;
}

void
trunkreg_response(struct worker *w, struct txn *t, const struct sip_msg *resp)
{
	struct treg *r = txn_tu(t);
	unsigned st = resp->status;
	uint32_t e;

	(void)w;
	if (st < 200)
		return;
	r->txn = NULL;
	txn_set_tu(t, NULL);
	if (st < 300) {
		e = granted(r, resp);
		event(r, SECEV_TRUNK_REGISTERED, st, NULL, e);
		arm(r, (uint64_t)e * 800 > MIN_REFRESH_MS ? (uint64_t)e * 800 :
		    MIN_REFRESH_MS);
		return;
	}
	if ((st == 401 || st == 407) && !r->auth_tried) {
		r->auth_tried = 1;
		send_register(r, resp);
		return;
	}
	event(r, SECEV_TRUNK_REG_FAILED, st, NULL, -1);
	arm(r, RETRY_MS);
}

void
trunkreg_timeout(struct worker *w, struct txn *t)
{
	struct treg *r = txn_tu(t);

	(void)w;
	r->txn = NULL;
	txn_set_tu(t, NULL);
	event(r, SECEV_TRUNK_REG_FAILED, 0, "timeout", -1);
	arm(r, RETRY_MS);
}

void
trunkreg_gone(struct worker *w, struct txn *t)
{
	struct treg *r = txn_tu(t);

	(void)w;
	if (r->txn == t)
		r->txn = NULL;
}
