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
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "auth/digest_client.h"
#include "core/wbuf.h"
#include "sip/hdr.h"
#include "sip/location.h"
#include "policy/destpol.h"
#include "policy/usage.h"
#include "daemon/call_int.h"
#include "daemon/probe.h"
#include "daemon/trunk.h"
#include "daemon/worker.h"
#include "obs/metrics.h"

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
reply_a_full(struct call *c, unsigned status, const char *reason,
    const char *extra)
{
	struct call_svc *s = c->svc;
	struct sip_msg im;
	ssize_t n;

	if (call_srv_request(c, c->inv.srv, &c->a, &im) < 0)
		return;
	n = out_response(s, &c->a, &im, status,
	    reason != NULL ? slice_cstr(reason) : slice_cstr(""), NULL, 0, 0,
	    extra, s->scratch, sizeof(s->scratch));
	if (n > 0)
		txn_server_reply(s->w->txl, c->inv.srv, status, s->scratch,
		    (size_t)n);
}

static void
reply_a(struct call *c, unsigned status, const char *reason)
{
	reply_a_full(c, status, reason, NULL);
}

static void
reply_a_extra(struct call *c, unsigned status, const char *extra)
{
	reply_a_full(c, status, NULL, extra);
}

/* Relay a fork's response to the caller through the INVITE's txn. */
static void
relay_a(struct call *c, const struct leg *from, const struct sip_msg *resp,
    int keep_ok)
{
	struct call_svc *s = c->svc;
	struct sip_msg im;
	ssize_t n;
	unsigned st = resp->status;
	char se[96];

	if (call_srv_request(c, c->inv.srv, &c->a, &im) < 0)
		return;
	n = out_response(s, &c->a, &im, st, resp->reason, resp, from->trusted,
	    st < 300, st >= 200 && st < 300 ? call_se_lines(c, se,
	    sizeof(se)) : NULL, s->scratch, sizeof(s->scratch));
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

	char ext[1200];

	ident_branch(&s->ids, l->branch);
	l->inv_cseq = ++l->lcseq;
	l->rseq = 0;
	/* 100rel is ours to answer on this leg (we PRACK), never the
	 * caller's: its provisionals stay unreliable */
	snprintf(ext, sizeof(ext), "Supported: 100rel\r\n%s",
	    extra != NULL ? extra : "");
	n = out_request(s, l, "INVITE", l->inv_cseq, l->branch, m,
	    c->a.trusted, 1, ext, s->scratch, sizeof(s->scratch));
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
	l->trusted = 1;
	if ((r = core_dest(c->svc->w, idx, &l->dest)) < 0)
		return r;
	sw_addr_str(&tg->addr, a, sizeof(a));
	snprintf(buf, sizeof(buf), "sip:%s@%s", ruser, a);
	if ((r = leg_set(&l->target, slice_cstr(buf))) < 0)
		return r;
	snprintf(buf, sizeof(buf), "<sip:%s@%s>", ruser, a);
	if ((r = leg_set(&l->ruri, slice_cstr(buf))) < 0)
		return r;
	if (c->account[0] == '\0')	/* from a trunk: its own PAI passes */
		return fork_start(c, l, m, NULL);
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
	a->trusted = c->svc->w->env->conf->zones[c->svc->w->env->conf->
	    listen[src->lsn].zone].trust == CONF_TRUST_TRUSTED;
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

/* The first fork could not start: a full transaction table is
 * overload (503 + Retry-After, PROT6), anything else a failure. */
static void
overloaded_or_failed(struct call *c, int err)
{
	if (err == -SBC_EFULL) {
		reply_a_extra(c, 503, "Retry-After: 5\r\n");
		call_end(c, "overload", "sbc", 503);
		return;
	}
	if (c->media_fail != 0) {	/* the body could not be anchored */
		unsigned st = c->media_fail;

		reply_a_full(c, st, c->media_why, st == 503 ?
		    "Retry-After: 5\r\n" : NULL);
		call_end(c, "media", "sbc", st);
		return;
	}
	reply_a(c, 500, "Routing Failed");
	call_end(c, "internal", "sbc", 500);
}

/* Endpoint or trunk -> core. */
static void
to_core(struct call *c, const struct sip_msg *m)
{
	const struct sw_conf *conf = c->svc->w->env->conf;
	struct leg *l = &c->b[0];

	c->nforks = 1;
	int r;

	if ((r = leg_b_init(c, l, c->from_user, display_of(m),
	    conf->auth.realm)) < 0 || (r = fork_core(c, l, m,
	    probe_first_up(c->svc->w->env, 0), c->to_user)) < 0) {
		overloaded_or_failed(c, r);
		return;
	}
	if (conf->core.ntargets > 1)
		call_arm(c, &c->t_fail, FAILOVER_MS);
}

/* The trunk for a number dialled at the core: the longest matching
 * prefix of any trunk, else the default trunk; -1 if none. */
static int
trunk_for(const struct sw_conf *conf, const char *number)
{
	int best = -1, dflt = -1;
	size_t blen = 0;

	for (size_t i = 0; i < conf->ntrunks; i++) {
		const struct conf_trunk *t = &conf->trunks[i];

		if (t->default_route && dflt < 0)
			dflt = (int)i;
		for (size_t k = 0; k < t->nprefixes; k++) {
			size_t n = strlen(t->prefixes[k]);

			if (n > blen && strncmp(number, t->prefixes[k], n) == 0) {
				best = (int)i;
				blen = n;
			}
		}
	}
	return best >= 0 ? best : dflt;
}

/* Core -> trunk ti. */
static void
to_trunk(struct call *c, const struct sip_msg *m, size_t ti)
{
	const struct sw_conf *conf = c->svc->w->env->conf;
	const struct conf_trunk *tk = &conf->trunks[ti];
	struct leg *l = &c->b[0];
	char a[SW_ADDR_STRLEN], host[SW_ADDR_STRLEN], buf[CALL_STR_MAX];
	int r;

	c->nforks = 1;
	l->trusted = 1;
	l->trunk1 = (uint8_t)(ti + 1);
	if (trunk_dest(c->svc->w, ti, &l->dest) < 0)
		goto fail;
	sw_addr_str(&tk->addr, a, sizeof(a));
	sw_addr_str(&conf->listen[l->dest.lsn].addr, host, sizeof(host));
	if (leg_b_init(c, l, c->from_user, display_of(m),
	    tk->domain[0] != '\0' ? tk->domain : host) < 0)
		goto fail;
	snprintf(buf, sizeof(buf), "sip:%s@%s", c->to_user,
	    tk->domain[0] != '\0' ? tk->domain : a);
	if (leg_set(&l->target, slice_cstr(buf)) < 0)
		goto fail;
	snprintf(buf, sizeof(buf), "<%s>", l->target);
	if (leg_set(&l->ruri, slice_cstr(buf)) < 0)
		goto fail;
	if ((r = fork_start(c, l, m, NULL)) < 0) {
		overloaded_or_failed(c, r);
		return;
	}
	return;
fail:
	overloaded_or_failed(c, -EIO);
}

/* Core -> the registered contacts of the user. */
static void
to_endpoint(struct call *c, const struct sip_msg *m, const struct binding *bs,
    size_t n)
{
	struct call_svc *s = c->svc;
	const struct sw_conf *conf = s->w->env->conf;
	char aor[LOC_AOR_MAX + 1], host[SW_ADDR_STRLEN], buf[600];

	if (loc_aor(slice_cstr(c->to_user), slice_cstr(conf->auth.realm),
	    aor) < 0)
		n = 0;
	for (size_t i = 0; i < n; i++) {
		struct leg *l = &c->b[c->nforks];

		l->dest = bs[i].flow;
		/* answers go out of the listener the phone registered on */
		sw_addr_str(&conf->listen[l->dest.lsn].addr, host, sizeof(host));
		if (leg_b_init(c, l, c->from_user, display_of(m), host) < 0 ||
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
	if (c->media_fail != 0) {
		overloaded_or_failed(c, -EIO);
		return;
	}
	reply_a(c, 480, NULL);
	call_end(c, "unreachable", "sbc", 480);
}

/* Is number one of the trunk's DIDs (or does it take any)? */
static int
trunk_did(const struct conf_trunk *t, const char *number)
{
	if (t->ndids == 0)
		return 1;
	for (size_t i = 0; i < t->ndids; i++)
		if (strcmp(t->dids[i], number) == 0)
			return 1;
	return 0;
}

/* The trunk whose zone a request arrived in, or -1. */
static int
trunk_of_zone(const struct sw_conf *conf, uint32_t zone)
{
	for (size_t i = 0; i < conf->ntrunks; i++)
		if (conf->trunks[i].zone == zone)
			return (int)i;
	return -1;
}

/* Does a Supported/Require list of m name the option tag? */
static int
names_option(const struct sip_msg *m, enum sip_hdr_id id, const char *tag)
{
	for (const struct sip_hdr *h = sip_msg_hdr(m, id); h != NULL;
	    h = sip_msg_hdr_next(m, h)) {
		struct slice cur = h->value, tok;

		while (sip_token_next(&cur, &tok) > 0)
			if (slice_eq_cstr_ci(tok, tag))
				return 1;
	}
	return 0;
}

/*
 * RFC 4028 from the caller: *ret the interval we will hold it to (0:
 * no session timer), or -1 when it is below calls.min_se (answer 422).
 */
static int
session_timer(struct worker *w, const struct sip_msg *m, uint32_t *ret)
{
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_H_SESSION_EXPIRES);
	uint32_t v = 0, min = w->env->conf->calls.min_se_ms / 1000;
	size_t i;

	*ret = 0;
	if (h == NULL || (!names_option(m, SIP_H_SUPPORTED, "timer") &&
	    !names_option(m, SIP_H_REQUIRE, "timer")))
		return 0;
	for (i = 0; i < h->value.len && h->value.p[i] >= '0' &&
	    h->value.p[i] <= '9' && v < 1000000; i++)
		v = v * 10 + (uint32_t)(h->value.p[i] - '0');
	if (i == 0)
		return 0;		/* not a number: ignore it */
	if (v < min)
		return -1;
	*ret = v;
	return 0;
}

/* A call from the core to a phone: REFERs inside it meet the policy of
 * the phone's account group. */
static void
callee_group(struct call *c, const char *user)
{
	struct worker *w = c->svc->w;
	const struct destpol *pol = atomic_load_explicit(&w->env->sec.pol,
	    memory_order_acquire);
	struct account_info a;

	if (pol != NULL && acct_lookup(w->env->sec.accts, slice_cstr(user),
	    w->env->sec.realm, &a) == 0) {
		snprintf(c->group, sizeof(c->group), "%.*s",
		    (int)sizeof(c->group) - 1, a.group);
		snprintf(c->account, sizeof(c->account), "%s", a.username);
	}
}

/* A call from a trunk: what the core redirects it to is checked as a
 * forwarding (policy.forward_group). */
static void
trunk_group(struct call *c)
{
	struct worker *w = c->svc->w;
	const struct destpol *pol = atomic_load_explicit(&w->env->sec.pol,
	    memory_order_acquire);

	if (pol != NULL)
		snprintf(c->group, sizeof(c->group), "%s",
		    destpol_opts(pol)->forward_group);
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
	int trunk = from_core ? -1 : trunk_of_zone(conf, zone), to_trunk_i = -1;
	struct binding bs[CALL_MAX_FORKS];
	size_t nb = 0;
	enum call_dir dir;
	struct call *c;
	struct ctu *u;
	uint32_t se;
	struct policy_admit adm;
	char ruser[64], fuser[ACCT_USER_MAX + 1], aor[LOC_AOR_MAX + 1];
	/* OBS3: the record of an INVITE that ends before its call exists */
	char verd[CALL_VERDICTS_MAX + 1] = "";
	struct call_attempt at = {
		.dir = from_core ? DIR_FROM_CORE : trunk >= 0 ?
		    DIR_FROM_TRUNK : DIR_TO_CORE,
		.account = acct != NULL ? acct->username : "",
		.from_user = fuser, .to_user = ruser, .verdicts = verd,
	};

	verdicts_add(verd, sizeof(verd), acct != NULL ? "auth:digest" :
	    from_core ? "auth:core" : trunk >= 0 ? "auth:trunk" : "auth:none");
	if (slice_user(m->ruri.user, ruser, sizeof(ruser)) < 0) {
		uas_reply(w, t, m, src, 404, NULL, NULL);
		uas_route_failed(w, m, src, 404, "no user in request uri");
		return;
	}
	if (acct != NULL)
		snprintf(fuser, sizeof(fuser), "%s", acct->username);
	else if (slice_user(m->from.uri.user, fuser, sizeof(fuser)) < 0)
		snprintf(fuser, sizeof(fuser), "anonymous");
	if (from_core) {
		/* registered phones first, then the trunks' numbers */
		if (loc_aor(slice_cstr(ruser), slice_cstr(conf->auth.realm),
		    aor) == 0)
			nb = loc_get(w->env->sec.loc, aor, (int64_t)time(NULL),
			    bs, CALL_MAX_FORKS);
		if (nb == 0 && (to_trunk_i = trunk_for(conf, ruser)) < 0) {
			uas_reply(w, t, m, src, 480, NULL, NULL);
			uas_route_failed(w, m, src, 480, "not registered");
			call_record_attempt(w, m, src, &at, "failed", 480,
			    "not_registered");
			return;
		}
		dir = nb > 0 ? DIR_FROM_CORE : DIR_TO_TRUNK;
	} else if (trunk >= 0) {
		if (!trunk_did(&conf->trunks[trunk], ruser) ||
		    conf->core.ntargets == 0) {
			uas_reply(w, t, m, src, 404, NULL, NULL);
			uas_route_failed(w, m, src, 404, "not a number of this trunk");
			call_record_attempt(w, m, src, &at, "failed", 404,
			    "not_a_did");
			return;
		}
		dir = DIR_FROM_TRUNK;
	} else {
		if (acct == NULL || conf->core.ntargets == 0) {
			uas_reply(w, t, m, src, 404, NULL, NULL);
			uas_route_failed(w, m, src, 404, "no route");
			call_record_attempt(w, m, src, &at, "failed", 404,
			    "no_route");
			return;
		}
		dir = DIR_TO_CORE;
	}
	at.dir = (int)dir;
	if (policy_new_call(w, t, m, src, acct, (int)dir, &adm) < 0) {
		metrics_call(MET_CALL_REFUSED);
		verdicts_add(verd, sizeof(verd), adm.verdicts);
		call_record_attempt(w, m, src, &at, "refused", adm.status,
		    adm.reason);
		return;
	}
	verdicts_add(verd, sizeof(verd), adm.verdicts);
	if (session_timer(w, m, &se) < 0) {
		char ext[40];

		/* no record: like a challenge, the caller asks again */
		snprintf(ext, sizeof(ext), "Min-SE: %u\r\n",
		    conf->calls.min_se_ms / 1000);
		uas_reply(w, t, m, src, 422, NULL, ext);
		goto unadmit;
	}
	if ((c = call_new(s)) == NULL) {
		uas_reply(w, t, m, src, 503, NULL, "Retry-After: 5\r\n");
		uas_route_failed(w, m, src, 503, "call table full");
		call_record_attempt(w, m, src, &at, "refused", 503,
		    "call_table_full");
		goto unadmit;
	}
	c->dir = (uint8_t)dir;
	snprintf(c->verdicts, sizeof(c->verdicts), "%s", verd);
	policy_keep(c, &adm);
	if (dir == DIR_FROM_CORE)
		callee_group(c, ruser);
	else if (dir == DIR_FROM_TRUNK)
		trunk_group(c);
	c->se_s = se;
	snprintf(c->to_user, sizeof(c->to_user), "%s", ruser);
	snprintf(c->from_user, sizeof(c->from_user), "%s", fuser);
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
	{
		const char *why;
		unsigned st = call_media_start(c, m, &why);

		call_verdict_media(c, st, why);
		if (st != 0) {		/* MEDIA3: e.g. 488, SRTP required */
			reply_a(c, st, why);
			call_end(c, "media", "sbc", st);
			return;
		}
	}
	call_arm(c, &c->t_ring, conf->calls.ring_timeout_ms);
	switch (dir) {
	case DIR_FROM_CORE:
		to_endpoint(c, m, bs, nb);
		break;
	case DIR_TO_TRUNK:
		to_trunk(c, m, (size_t)to_trunk_i);
		break;
	default:
		to_core(c, m);
		break;
	}
	return;
unadmit:
	if (adm.admitted)
		usage_release(w->env->sec.usage, adm.key, 0,
		    usage_day((int64_t)time(NULL)));
}

/*
 * The trunk challenged our INVITE: send it again with our credentials
 * (once; a second challenge is a failure like any other).  0 when the
 * new INVITE went out.
 */
static int
trunk_auth(struct call *c, struct leg *l, const struct sip_msg *resp)
{
	struct call_svc *s = c->svc;
	const struct conf_trunk *tk = &s->w->env->conf->trunks[l->trunk1 - 1];
	const struct sip_hdr *h = sip_msg_hdr(resp, resp->status == 401 ?
	    SIP_H_WWW_AUTHENTICATE : SIP_H_PROXY_AUTHENTICATE);
	struct digest_answer_in in;
	char cnonce[IDENT_TAG_LEN + 1], val[1024], extra[1100];
	struct sip_msg im;
	struct sip_perr err;
	const uint8_t *req;
	size_t len;

	l->auth_tried = 1;
	if (h == NULL || tk->username[0] == '\0' || c->inv.srv == NULL ||
	    (req = txn_request(c->inv.srv, &len)) == NULL)
		return -1;
	ident_tag(&s->ids, cnonce);
	memset(&in, 0, sizeof(in));
	in.challenge = h->value;
	in.username = slice_cstr(tk->username);
	in.password = slice_cstr(tk->password);
	in.method = slice_cstr("INVITE");
	in.uri = slice_cstr(l->target);
	in.nc = 1;
	in.cnonce = slice_cstr(cnonce);
	if (digest_client_answer(&in, val, sizeof(val)) < 0)
		return -1;
	snprintf(extra, sizeof(extra), "%s: %s\r\n", resp->status == 401 ?
	    "Authorization" : "Proxy-Authorization", val);
	if (sip_msg_parse(req, len, &s->w->env->lim,
	    sip_dest_reliable(&c->a.dest) ? SIP_PARSE_STREAM : 0, &im,
	    s->w->hdrs2, SIP_MAX_HDRS, &err) <= 0)
		return -1;
	l->state = LEG_IDLE;
	return fork_start(c, l, &im, extra);
}

/* ---- forks ---- */

void
call_stop_forks(struct call *c)
{
	for (size_t i = 0; i < c->nforks; i++) {
		struct leg *l = &c->b[i];

		if (l->state == LEG_EARLY)
			out_cancel(c->svc, l, 0);
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
	size_t next = probe_first_up(s->w->env, (size_t)l->target_idx + 1);
	struct leg *nl;
	struct sip_msg im;
	struct sip_perr err;
	const uint8_t *req;
	size_t len;

	timer_cancel(&s->w->timers, &c->t_fail);
	l->state = LEG_DONE;
	if (c->dir != DIR_TO_CORE && c->dir != DIR_FROM_TRUNK) {
		forks_done(c);
		return;
	}
	if (next >= conf->core.ntargets ||
	    c->nforks >= CALL_MAX_FORKS || c->inv.srv == NULL ||
	    (req = txn_request(c->inv.srv, &len)) == NULL) {
		forks_done(c);
		return;
	}
	/* with probes on, the target stays down until a probe answers,
	 * and the change is reported once, not per call */
	if (conf->core.probe_interval_ms == 0 ||
	    !atomic_exchange(&s->w->env->target_down[l->target_idx], 1)) {
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
	    leg_b_init(c, nl, c->from_user, display_of(&im),
	    conf->auth.realm) < 0 ||
	    fork_core(c, nl, &im, next, c->to_user) < 0) {
		nl->state = LEG_DONE;
		forks_done(c);
		return;
	}
	if (next + 1 < conf->core.ntargets)
		call_arm(c, &c->t_fail, FAILOVER_MS);
}

/*
 * A 3xx from the core (FRAUD3): followed by the edge itself, to the
 * core again, only when the caller's policy allows the new target;
 * otherwise the caller hears 403 (a redirect is never relayed: the
 * phone would follow it anywhere).  0 when a new fork went out.
 */
static int
route_redirect(struct call *c, struct leg *l, const struct sip_msg *resp)
{
	struct call_svc *s = c->svc;
	char user[64];
	unsigned st;
	struct sip_msg im;
	struct sip_perr err;
	const uint8_t *req;
	size_t len;

	c->redirect_status = 480;
	if (policy_redirect(c, resp, user, sizeof(user), &st) < 0) {
		if (st == 403)
			c->redirect_status = 403;
		return -1;
	}
	if (c->inv.srv == NULL ||
	    (req = txn_request(c->inv.srv, &len)) == NULL)
		return -1;
	snprintf(c->to_user, sizeof(c->to_user), "%s", user);
	/* 8.1.3.4: the same Call-ID, From and To tag-less dialog, a new
	 * CSeq: the fork is sent again, to the new target */
	if (sip_msg_parse(req, len, &s->w->env->lim,
	    sip_dest_reliable(&c->a.dest) ? SIP_PARSE_STREAM : 0, &im,
	    s->w->hdrs2, SIP_MAX_HDRS, &err) <= 0 ||
	    fork_core(c, l, &im, l->target_idx, c->to_user) < 0) {
		l->state = LEG_DONE;
		forks_done(c);
	}
	return 0;
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

/*
 * RFC 3262 on a fork: a provisional with Require: 100rel and RSeq is
 * PRACKed by us in its early dialog (RAck: RSeq CSeq INVITE).  1 when
 * it repeats one already PRACKed (so it is not relayed twice).
 */
static int
reliable_1xx(struct call *c, struct leg *l, const struct sip_msg *resp)
{
	const struct sip_hdr *h = sip_msg_hdr(resp, SIP_H_RSEQ);
	char rack[64];
	uint32_t rseq = 0;
	size_t i;

	if (h == NULL || !names_option(resp, SIP_H_REQUIRE, "100rel"))
		return 0;
	for (i = 0; i < h->value.len && h->value.p[i] >= '0' &&
	    h->value.p[i] <= '9' && rseq < 429496729u; i++)
		rseq = rseq * 10 + (uint32_t)(h->value.p[i] - '0');
	if (i == 0 || rseq == 0)
		return 0;
	if (l->rseq != 0 && rseq <= l->rseq)
		return 1;
	l->rseq = rseq;
	fork_dialog(c, l, resp);
	snprintf(rack, sizeof(rack), "RAck: %u %u INVITE\r\n", rseq,
	    l->inv_cseq);
	out_own(c->svc, l, "PRACK", rack, 0);
	return 0;
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
		out_cancel(s, l, 0);
		return;
	}
	if (st < 200) {
		if (st > 100 && l->inv == t && reliable_1xx(c, l, resp))
			return;		/* a retransmission: PRACKed already */
		if (st > 100 && c->state == CALL_ROUTING && l->inv == t &&
		    l->state == LEG_EARLY)
			relay_a(c, l, resp, 0);
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
					out_cancel(s, o, 0);
				else if (o->state == LEG_TRYING)
					o->cancel = 1;
				if (o->state != LEG_UP)
					o->state = LEG_DONE;
			}
		c->a.state = LEG_UP;
		c->inv.to = l;
		c->inv.answered = 1;
		relay_a(c, l, resp, 1);
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
	if ((st == 401 || st == 407) && l->trunk1 && !l->auth_tried &&
	    trunk_auth(c, l, resp) == 0)
		return;
	if ((c->dir == DIR_TO_CORE || c->dir == DIR_FROM_TRUNK) &&
	    (st == 503 || st == 408) && l->state == LEG_TRYING) {
		route_failover(c, l);
		return;
	}
	if (st >= 300 && st < 400 && (c->dir == DIR_TO_CORE ||
	    c->dir == DIR_FROM_TRUNK) && route_redirect(c, l, resp) == 0)
		return;
	l->state = LEG_DONE;
	keep_best(c, st >= 300 && st < 400 ? c->redirect_status : st);
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
	if ((c->dir == DIR_TO_CORE || c->dir == DIR_FROM_TRUNK) &&
	    l->state == LEG_TRYING) {
		route_failover(c, l);
		return;
	}
	l->state = LEG_DONE;
	keep_best(c, 408);
	forks_done(c);
}
