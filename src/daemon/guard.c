#include <stdio.h>
#include <string.h>

#include "daemon/guard.h"
#include "daemon/ident.h"
#include "daemon/overload.h"
#include "sip/hdr.h"
#include "daemon/state.h"
#include "obs/metrics.h"
#include "policy/acl.h"
#include "policy/scanner.h"
#include "policy/trust.h"

const struct zone_rt *
guard_zone(struct worker *w, const struct sip_dest *src)
{
	const struct sw_conf *c = w->env->conf;

	return &atomic_load_explicit(&w->env->sec.rt,
	    memory_order_acquire)->zones[c->listen[src->lsn].zone];
}

unsigned
guard_trust(struct worker *w, const struct sip_dest *src)
{
	return trust_accounts(w->env->sec.trust, &src->addr, uv_now(&w->loop));
}

static struct rl_rate
scaled(struct rl_rate r, unsigned m)
{
	uint64_t milli = (uint64_t)r.rate_milli * m, burst = (uint64_t)r.burst * m;

	r.rate_milli = milli > UINT32_MAX ? UINT32_MAX : (uint32_t)milli;
	r.burst = burst > UINT32_MAX ? UINT32_MAX : (uint32_t)burst;
	return r;
}

/* Addresses that are never banned: bans.never and trusted zones' peers. */
static int
never_banned(struct worker *w, const struct sip_dest *src)
{
	struct acl_match m;

	if (guard_zone(w, src)->trusted)
		return 1;
	return acl_check(atomic_load_explicit(&w->env->sec.rt,
	    memory_order_acquire)->never, &src->addr, &m) == ACL_ALLOW &&
	    m.why == ACL_W_ALLOW_PREFIX;
}

int
guard_lockdown_exempt(struct worker *w, const struct sip_dest *src)
{
	return never_banned(w, src);
}

int
guard_ban(struct worker *w, const struct sip_dest *src, enum ban_reason reason,
    uint32_t count, struct slice sample, const char *detail)
{
	struct sw_sec *s = &w->env->sec;
	struct ban_evidence ev = {
		.reason = reason, .count = count, .sample = sample,
	};
	struct ban_entry e;
	struct secevent se;
	struct cidr key;
	char until[32];

	if (!s->bans || !w->env->conf->bans.enabled || never_banned(w, src))
		return 0;
	if (cidr_from_addr(&src->addr, sw_addr_family(&src->addr) == AF_INET ?
	    32 : 128, &key) < 0)
		return 0;
	if (ban_add(s->bans, &key, &ev, wall_ms(), &e) != 0)
		return 0;	/* already banned, allow-listed or full */
	w->st.bans++;
	metrics_ban(reason);
	state_ban_persist(w->env, &e);
	scan_bh_forget(s->bh, &src->addr);
	secevent_init(&se, SECEV_BAN_ADDED);
	se.reason = ban_reason_name(reason);
	se.detail = detail;
	se.sample = sample;
	secevent_add_int(&se, "strikes", e.strikes);
	secevent_add_int(&se, "count", count);
	snprintf(until, sizeof(until), "%llu", e.until_ms == BAN_FOREVER ? 0ull :
	    (unsigned long long)(e.until_ms / 1000));
	secevent_add_str(&se, "until", until);
	secevent_add_int(&se, "duration_s", e.until_ms == BAN_FOREVER ? -1 :
	    (long long)((e.until_ms - e.since_ms) / 1000));
	worker_event(w, &se, src);
	return 1;
}

int
guard_auth_failure(struct worker *w, const struct sip_dest *src,
    struct slice sample)
{
	struct rl_key k;

	if (rl_key_src_method(&k, &src->addr, SLICE_LIT("~auth-fail")) < 0)
		return 0;
	if (rl_take(w->env->sec.rl, &k, &atomic_load_explicit(&w->env->sec.rt,
	    memory_order_acquire)->auth_strike, 1, uv_now(&w->loop), NULL))
		return 0;
	return guard_ban(w, src, BAN_R_AUTH_FAILURES,
	    w->env->conf->bans.auth_failures, sample,
	    "too many failed authentications");
}

/* An excess: the event once a second per key, a strike, maybe a ban. */
static enum guard_verdict
limited(struct worker *w, const struct sip_dest *src, const struct rl_result *res,
    const char *what, int strike, struct slice sample)
{
	const struct zone_rt *z = guard_zone(w, src);
	struct sw_sec *s = &w->env->sec;

	w->st.rate_limited++;
	metrics_verdict(w->env->conf->listen[src->lsn].zone,
	    MET_V_RATE_LIMITED);
	if (res->excess == 1) {
		struct secevent ev;
		struct rl_key k;

		secevent_init(&ev, SECEV_RATE_LIMITED);
		ev.reason = what;
		ev.status = z->reply ? 503 : 0;
		secevent_add_str(&ev, "scope", what);
		worker_event(w, &ev, src);
		/* trust earned by authenticating is never turned into a ban:
		 * that is the NAT office re-registering after an outage */
		if (strike && guard_trust(w, src) == 0 &&
		    rl_key_src_method(&k, &src->addr, SLICE_LIT("~rate")) == 0 &&
		    !rl_take(s->rl, &k, &atomic_load_explicit(&s->rt,
		    memory_order_acquire)->rate_strike, 1, uv_now(&w->loop),
		    NULL))
			guard_ban(w, src, BAN_R_RATE_LIMIT,
			    w->env->conf->bans.rate_strikes, sample,
			    "rate limits exceeded repeatedly");
	}
	return z->reply ? GUARD_LIMIT : GUARD_DROP;
}

enum guard_verdict
guard_take(struct worker *w, const struct sip_dest *src, const struct rl_key *k,
    const struct rl_rate *r, const char *what, struct slice sample)
{
	struct rl_result res;

	if (rl_take(w->env->sec.rl, k, r, 1, uv_now(&w->loop), &res))
		return GUARD_PASS;
	return limited(w, src, &res, what, 1, sample);
}

enum guard_verdict
guard_authenticated(struct worker *w, const struct sip_dest *src,
    struct slice account, struct slice sample)
{
	struct sw_sec *s = &w->env->sec;
	const struct zone_rt *z = guard_zone(w, src);
	uint64_t now = uv_now(&w->loop);
	unsigned m;
	struct rl_rate r;
	struct rl_key k;

	if (z->trusted)
		return GUARD_PASS;
	/* the anonymous budgets were charged before we knew who it was */
	m = guard_trust(w, src);
	if (m == 0)
		m = 1;
	r = scaled(z->src, m);
	if (rl_key_src(&k, &src->addr) == 0)
		rl_give(s->rl, &k, &r, 1, now);
	r = scaled(z->prefix, m);
	if (rl_key_prefix(&k, &src->addr) == 0)
		rl_give(s->rl, &k, &r, 1, now);
	if (rl_key_src_account(&k, &src->addr, account) < 0)
		return GUARD_PASS;
	return guard_take(w, src, &k, &z->authed, "authenticated", sample);
}

/* Shed one request (the worker is overloaded): count, maybe answer,
 * report. */
static enum guard_verdict
shed(struct worker *w, const struct sip_dest *src, const uint8_t *buf,
    size_t len, const struct overload_peek *pk)
{
	const struct overload *o = &w->ovl;
	int reply = w->env->conf->overload.reply;
	struct secevent ev;
	char extra[40];

	w->st.overload_shed++;
	metrics_verdict(w->env->conf->listen[src->lsn].zone, MET_V_SHED);
	overload_note_shed(&w->ovl);
	/* answering costs a salvage and a send: only when asked to */
	if (reply && sip_echo_salvage(buf, len, w->env->lim.max_line * 4,
	    &w->echo) == 0) {
		snprintf(extra, sizeof(extra), "Retry-After: %u\r\n",
		    guard_zone(w, src)->retry_after_s);
		uas_reply_stateless(w, &w->echo, src, 503, NULL, extra);
	} else
		reply = 0;
	/* no extra fields: building them costs more than the shedding,
	 * and the event stream suppresses most of these events anyway */
	secevent_init(&ev, SECEV_OVERLOAD_SHED);
	ev.reason = "worker overloaded";
	ev.detail = overload_trigger_detail(o->trigger);
	ev.status = reply ? 503 : 0;
	ev.method = pk->method;
	worker_event(w, &ev, src);
	return GUARD_DROP;
}

/*
 * The overload stage for a packet from an untrusted zone that passed
 * the budgets; trust: what its source earned.  Sources with trust are
 * never shed, so they need no look at the bytes; the others only while
 * overloaded, or 1 in OVERLOAD_SAMPLE to learn what they cost.
 */
static enum guard_verdict
overload_stage(struct worker *w, const struct sip_dest *src,
    const uint8_t *buf, size_t len, unsigned trust, int *timed)
{
	struct overload *o = &w->ovl;
	struct overload_peek pk;
	int owner;

	if (trust > 0)
		return GUARD_PASS;
	if (!overload_active(o) && !overload_sample(o))
		return GUARD_PASS;
	overload_peek(buf, len, &pk);
	if (pk.kind == OVERLOAD_K_IN_DIALOG) {
		/* every dialog of ours carries a tag we made (ident.h);
		 * another tag cannot name one, only dodge the shedding */
		owner = ident_tag_owner(pk.to_tag);
		if (owner >= 0 && (unsigned)owner < w->env->nworkers)
			return GUARD_PASS;
	} else if (pk.kind != OVERLOAD_K_NEW)
		return GUARD_PASS;
	if (!overload_active(o)) {
		*timed = 1;
		return GUARD_PASS;
	}
	return shed(w, src, buf, len, &pk);
}

enum guard_verdict
guard_packet(struct worker *w, const struct sip_dest *src, const uint8_t *buf,
    size_t len, int *timed)
{
	struct sw_sec *s = &w->env->sec;
	const struct zone_rt *z = guard_zone(w, src);
	struct slice sample = slice_make(buf, len);
	struct rl_result res;
	struct ban_hit hit;
	struct acl_match am;
	struct rl_rate r;
	struct rl_key k;
	uint64_t now;
	unsigned m, trust;

	*timed = 0;
	if (ban_check(s->bans, &src->addr, wall_ms(), &hit)) {
		struct secevent ev;

		w->st.banned++;
		metrics_verdict(w->env->conf->listen[src->lsn].zone,
		    MET_V_BANNED);
		secevent_init(&ev, SECEV_BAN_ENFORCED);
		ev.reason = ban_reason_name(hit.reason);
		worker_event(w, &ev, src);
		return GUARD_DROP;
	}
	if (z->acl != NULL && acl_check(z->acl, &src->addr, &am) != ACL_ALLOW) {
		struct secevent ev;

		w->st.acl_denied++;
		metrics_verdict(w->env->conf->listen[src->lsn].zone,
		    MET_V_ACL_DENIED);
		secevent_init(&ev, SECEV_ACL_DENIED);
		ev.reason = acl_why_name(am.why);
		worker_event(w, &ev, src);
		return GUARD_DROP;
	}
	if (z->trusted)
		return GUARD_PASS;
	now = uv_now(&w->loop);
	m = trust = guard_trust(w, src);
	if (m == 0)
		m = 1;
	r = scaled(z->src, m);
	if (rl_key_src(&k, &src->addr) == 0 &&
	    !rl_take(s->rl, &k, &r, 1, now, &res))
		return limited(w, src, &res, "source", 1, sample);
	r = scaled(z->prefix, m);
	/* a busy prefix is throttled, but nobody in it is banned for it */
	if (rl_key_prefix(&k, &src->addr) == 0 &&
	    !rl_take(s->rl, &k, &r, 1, now, &res))
		return limited(w, src, &res, "prefix", 0, sample);
	/* after the budgets, so that a flood still earns its bans */
	return overload_stage(w, src, buf, len, trust, timed);
}

/* hdr:<Name> signatures: the idx-th field of that name, any form. */
static int
scan_hdr(void *arg, struct slice name, size_t idx, struct slice *ret)
{
	const struct sip_msg *m = arg;
	enum sip_hdr_id id = sip_hdr_lookup(name);

	for (size_t i = 0; i < m->nhdrs; i++) {
		const struct sip_hdr *h = &m->hdrs[i];

		if (id != SIP_H_OTHER ? h->id != id : !slice_eq_ci(h->name, name))
			continue;
		if (idx-- == 0) {
			*ret = h->value;
			return 0;
		}
	}
	return -1;
}

int
guard_request(struct worker *w, const struct sip_msg *m,
    const struct sip_dest *src)
{
	struct sw_sec *s = &w->env->sec;
	/* one snapshot for the zone and the signatures */
	const struct sw_rt *rt = atomic_load_explicit(&s->rt,
	    memory_order_acquire);
	const struct zone_rt *z = &rt->zones[
	    w->env->conf->listen[src->lsn].zone];
	const struct sip_hdr *ua = sip_msg_hdr(m, SIP_H_USER_AGENT);
	struct slice uas = ua != NULL ? ua->value : SLICE_NULL;
	struct slice raw = slice_make(m->buf, m->len);
	struct scan_match sm;
	int hit = -1;

	if (w->env->conf->scanner.enabled && !z->trusted) {
		hit = scan_match(s->sigs, uas, scan_hdr, (void *)m, raw, &sm);
		if (hit < 0 && rt->sigs_extra != NULL)
			hit = scan_match(rt->sigs_extra, uas, scan_hdr,
			    (void *)m, raw, &sm);
	}
	if (hit >= 0) {
		struct secevent ev;

		w->st.scanners++;
		secevent_init(&ev, SECEV_SCANNER_DETECTED);
		ev.reason = sm.type == SCAN_M_SUBSTR_CI || sm.type == SCAN_M_PREFIX ?
		    "user_agent" : "signature";
		ev.method = m->method_s;
		ev.user_agent = uas;
		ev.detail = sm.tool;
		secevent_add_str(&ev, "fingerprint", sm.tool);
		secevent_add_str(&ev, "confidence", scan_conf_name(sm.conf));
		secevent_add_int(&ev, "signature_line", sm.line);
		worker_event(w, &ev, src);
		/* only a signature without known false positives bans alone;
		 * an unbanned (never-banned) scanner is still not answered */
		if (sm.conf == SCAN_C_HIGH) {
			guard_ban(w, src, BAN_R_SCANNER, 1, raw, sm.tool);
			metrics_verdict(w->env->conf->listen[src->lsn].zone,
			    MET_V_SCANNER);
			return 1;
		}
	}
	for (size_t i = 0; i < z->nmlim && !z->trusted; i++) {
		struct rl_key k;
		enum guard_verdict g;

		if (z->mlim[i].method != m->method ||
		    rl_key_src_method(&k, &src->addr, m->method_s) < 0)
			continue;
		if ((g = guard_take(w, src, &k, &z->mlim[i].r, "method", raw)) !=
		    GUARD_PASS) {
			if (g == GUARD_LIMIT)
				uas_reply_limit(w, NULL, m, src);
			return 1;
		}
	}
	return 0;
}
