/*
 * The edge's say on where calls go (FRAUD1-3): every call an account
 * answers for is checked against its group's destination policy, time
 * windows and limits before anything is sent to the core; a call the
 * core diverts to a trunk is checked as the diverting user's call; a
 * 3xx from the core and a REFER inside a call meet the same policy.
 * Valid credentials are not a licence to dial anything: this is what
 * stops toll fraud with a stolen password.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "policy/destpol.h"
#include "policy/usage.h"
#include "sip/hdr.h"
#include "daemon/call_int.h"
#include "daemon/worker.h"

static const struct destpol *
pol_of(struct worker *w)
{
	return atomic_load_explicit(&w->env->sec.pol, memory_order_acquire);
}

/* The user part of a URI as a dial string: up to its parameters. */
static struct slice
dial_string(const struct sip_uri *u)
{
	struct slice s = u->user;
	ssize_t semi = slice_find(s, ';');

	return semi < 0 ? s : slice_sub(s, 0, (size_t)semi);
}

/* An event about a refused or allowed destination. */
static void
dest_event(struct worker *w, enum secevent_type type, const struct sip_msg *m,
    const struct sip_dest *src, const char *account, unsigned status,
    const char *reason, const struct dp_result *r, struct slice dialled)
{
	struct secevent ev;

	secevent_init(&ev, type);
	ev.reason = reason;
	ev.status = (int)status;
	if (m != NULL) {
		ev.method = m->method_s;
		ev.call_id = m->call_id;
	}
	if (account != NULL && account[0] != '\0')
		ev.account = slice_cstr(account);
	if (r != NULL) {
		secevent_add_str(&ev, "to", r->e164);
		if (r->rule[0] != '\0')
			secevent_add_str(&ev, "rule", r->rule);
	}
	if (dialled.len > 0)
		secevent_add_slice(&ev, "dialled", dialled);
	worker_event(w, &ev, src);
}

/* OBS3: a decision for the call's record ("dest:domestic"). */
static void
verdict(struct policy_admit *ret, const char *item)
{
	verdicts_add(ret->verdicts, sizeof(ret->verdicts), item);
}

/* A refusal for the record of the INVITE; returns -1 for the caller. */
static int
refuse(struct policy_admit *ret, const char *item, unsigned status,
    const char *reason)
{
	verdict(ret, item);
	ret->status = (uint16_t)status;
	ret->reason = reason;
	return -1;
}

static void
limits_of(const struct conf_group *g, struct usage_limits *l)
{
	l->concurrent = g->max_concurrent;
	l->per_minute = g->calls_per_minute;
	l->per_day = g->calls_per_day;
	l->minutes_per_day = g->minutes_per_day;
}

/* The user a call from the core was diverted from (RFC 5806 Diversion:
 * the first value is the latest diversion; RFC 7044 History-Info: the
 * entry before the last target), or an empty slice. */
static struct slice
diverted_from(struct worker *w, const struct sip_msg *m, const char **how)
{
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_H_DIVERSION);
	struct sip_nameaddr na, prev;
	struct slice cur;
	int n = 0;

	if (h != NULL) {
		cur = h->value;
		*how = "diversion";
		if (sip_nameaddr_next(&cur, &w->env->lim, 0, &na) > 0)
			return dial_string(&na.uri);
		return slice_cstr("?");
	}
	memset(&prev, 0, sizeof(prev));
	memset(&na, 0, sizeof(na));
	for (h = sip_msg_hdr(m, SIP_H_HISTORY_INFO); h != NULL;
	    h = sip_msg_hdr_next(m, h)) {
		*how = "history_info";
		cur = h->value;
		for (;;) {
			struct sip_nameaddr x;

			if (sip_nameaddr_next(&cur, &w->env->lim, 0, &x) <= 0)
				break;
			prev = na;
			na = x;
			n++;
		}
	}
	if (n == 0)
		return slice_make(NULL, 0);
	if (n == 1)
		return slice_cstr("?");
	return dial_string(&prev.uri);
}

/* OPS1 lockdown: an E.164 number outside the country, not internal,
 * not an emergency number, is refused whatever the group allows.  (The
 * country code is the running config's; a reload that changes it
 * reaches this check at the next restart.) */
static int
lockdown_abroad(struct worker *w, const struct dp_result *r)
{
	const char *cc = w->env->conf->dialplan.country_code;

	if (!atomic_load_explicit(&w->env->sec.lockdown, memory_order_relaxed))
		return 0;
	return r->kind == E164_NUMBER && !r->internal && !r->emergency &&
	    r->e164[0] == '+' && strncmp(r->e164 + 1, cc, strlen(cc)) != 0;
}

int
policy_new_call(struct worker *w, struct txn *t, const struct sip_msg *m,
    const struct sip_dest *src, const struct account_info *acct, int dir,
    struct policy_admit *ret)
{
	const struct destpol *pol = pol_of(w);
	struct slice dialled = dial_string(&m->ruri), from_user = { 0 };
	struct account_info div;
	const struct conf_group *g;
	struct usage_limits lim;
	struct dp_result r;
	const char *how = NULL, *who = NULL;
	enum secevent_type refused = SECEV_CALL_BLOCKED;
	size_t gi;
	uint32_t value = 0;
	int v;
	time_t now = time(NULL);

	memset(ret, 0, sizeof(*ret));
	if (pol == NULL)
		return 0;
	/* OPS1 freeze: outbound calls to a frozen prefix stop at once,
	 * the PBX's own too; the number as the default group reads it */
	if ((dir == DIR_TO_CORE || dir == DIR_TO_TRUNK) &&
	    atomic_load_explicit(&w->env->sec.frozen.n,
	    memory_order_relaxed) > 0) {
		char hit[FROZEN_LEN + 1];

		destpol_check(pol, 0, dialled, &r);
		if (r.kind == E164_NUMBER && !r.emergency &&
		    frozen_match(&w->env->sec.frozen, r.e164, hit,
		    sizeof(hit))) {
			snprintf(r.rule, sizeof(r.rule), "frozen %s", hit);
			uas_reply(w, t, m, src, 403, "Destination Frozen", NULL);
			dest_event(w, SECEV_FRAUD_PREFIX_FROZEN, m, src,
			    acct != NULL ? acct->username : NULL, 403,
			    "frozen", &r, dialled);
			return refuse(ret, "dest:frozen", 403, "frozen");
		}
	}
	snprintf(ret->group, sizeof(ret->group), "default");
	if (dir == DIR_TO_CORE && acct != NULL) {
		gi = destpol_group(pol, acct->group);
		snprintf(ret->key, sizeof(ret->key), "%s@%s", acct->username,
		    acct->domain);
		who = acct->username;
	} else if (dir == DIR_TO_TRUNK) {
		from_user = diverted_from(w, m, &how);
		if (from_user.len > 0) {
			refused = SECEV_DIVERSION_REFUSED;
			if (acct_lookup(w->env->sec.accts, from_user,
			    w->env->sec.realm, &div) == 0) {
				gi = destpol_group(pol, div.group);
				snprintf(ret->key, sizeof(ret->key), "%s@%s",
				    div.username, div.domain);
				who = div.username;
			} else
				gi = destpol_group(pol,
				    destpol_opts(pol)->forward_group);
		} else if (destpol_opts(pol)->core_group[0] != '\0')
			gi = destpol_group(pol, destpol_opts(pol)->core_group);
		else
			return 0;	/* the PBX's own call: its policy */
	} else
		return 0;
	g = destpol_group_conf(pol, gi);
	snprintf(ret->group, sizeof(ret->group), "%s", g->name);
	destpol_check(pol, gi, dialled, &r);
	if (!r.allow) {
		int bad = r.kind < 0;

		uas_reply(w, t, m, src, bad ? 484 : 403, bad ? "Invalid Number" :
		    "Destination Not Allowed", NULL);
		dest_event(w, refused, m, src, who, bad ? 484 : 403,
		    how != NULL ? how : r.reason, &r, dialled);
		if (how != NULL)
			verdict(ret, how[0] == 'd' ? "divert:diversion" :
			    "divert:history_info");
		return refuse(ret, bad ? "dest:invalid" : "dest:denied",
		    bad ? 484 : 403, r.reason != NULL ? r.reason : "denied");
	}
	if (lockdown_abroad(w, &r)) {
		uas_reply(w, t, m, src, 403, "Lockdown", NULL);
		dest_event(w, SECEV_CALL_BLOCKED, m, src, who, 403, "lockdown",
		    &r, dialled);
		return refuse(ret, "dest:lockdown", 403, "lockdown");
	}
	if (how != NULL)
		verdict(ret, how[0] == 'd' ? "divert:diversion" :
		    "divert:history_info");
	{
		char item[48];

		snprintf(item, sizeof(item), "dest:%s", r.reason != NULL ?
		    r.reason : "allowed");
		verdict(ret, item);
	}
	if (how != NULL)
		dest_event(w, SECEV_DIVERSION_ALLOWED, m, src, who, 0, how, &r,
		    dialled);
	if (r.emergency)
		dest_event(w, SECEV_CALL_EMERGENCY, m, src, who, 0,
		    "emergency", &r, dialled);
	if (!r.emergency && !destpol_in_hours(pol, gi, now)) {
		uas_reply(w, t, m, src, 403, "Outside Allowed Hours", NULL);
		snprintf(r.rule, sizeof(r.rule), "hours of group %s", g->name);
		dest_event(w, SECEV_CALL_BLOCKED, m, src, who, 403,
		    "time_window", &r, dialled);
		return refuse(ret, "hours:closed", 403, "time_window");
	}
	if (ret->key[0] == '\0')
		return 0;
	limits_of(g, &lim);
	v = usage_admit(w->env->sec.usage, ret->key, &lim, (int64_t)now,
	    usage_day((int64_t)now), r.emergency, &value);
	if (v < 0) {
		verdict(ret, "limit:unchecked");
		return 0;	/* no memory for a counter: the call is not lost */
	}
	if (v != USAGE_OK) {
		static const char *const limit_key[] = {
			[USAGE_CONCURRENT] = "max_concurrent",
			[USAGE_PER_MINUTE] = "calls_per_minute",
			[USAGE_PER_DAY] = "calls_per_day",
			[USAGE_MINUTES] = "minutes_per_day",
		};
		static const char *const why[] = {
			[USAGE_CONCURRENT] = "concurrent",
			[USAGE_PER_MINUTE] = "per_minute",
			[USAGE_PER_DAY] = "per_day",
			[USAGE_MINUTES] = "minutes_per_day",
		};
		struct secevent ev;
		uint32_t limit = v == USAGE_CONCURRENT ? lim.concurrent :
		    v == USAGE_PER_MINUTE ? lim.per_minute :
		    v == USAGE_PER_DAY ? lim.per_day : lim.minutes_per_day;
		unsigned st = v == USAGE_CONCURRENT ? 486 :
		    v == USAGE_PER_MINUTE ? 503 : 403;

		if (v == USAGE_CONCURRENT)
			uas_reply(w, t, m, src, 486, "Too Many Calls", NULL);
		else if (v == USAGE_PER_MINUTE)
			uas_reply(w, t, m, src, 503, "Call Rate Limit",
			    "Retry-After: 60\r\n");
		else
			uas_reply(w, t, m, src, 403, v == USAGE_PER_DAY ?
			    "Daily Call Limit Reached" :
			    "Daily Minutes Used", NULL);
		secevent_init(&ev, SECEV_FRAUD_LIMIT);
		ev.reason = why[v];
		ev.status = (int)st;
		ev.method = m->method_s;
		ev.call_id = m->call_id;
		if (who != NULL)
			ev.account = slice_cstr(who);
		secevent_add_int(&ev, "limit", limit);
		secevent_add_int(&ev, "value", value);
		secevent_add_str(&ev, "to", r.e164);
		secevent_add_str(&ev, "group", g->name);
		snprintf(r.rule, sizeof(r.rule), "%s %u of group %s",
		    limit_key[v], limit, g->name);
		secevent_add_str(&ev, "rule", r.rule);
		worker_event(w, &ev, src);
		{
			char item[32];

			snprintf(item, sizeof(item), "limit:%s", why[v]);
			return refuse(ret, item, st, why[v]);
		}
	}
	ret->admitted = 1;
	verdict(ret, "limit:ok");
	return 0;
}

void
policy_keep(struct call *c, const struct policy_admit *a)
{
	memcpy(c->usage_key, a->key, sizeof(c->usage_key));
	c->admitted = a->admitted;
	memcpy(c->group, a->group, sizeof(c->group));
}

void
policy_release(struct call *c)
{
	struct worker *w = c->svc->w;
	uint64_t secs = 0;
	int64_t now = (int64_t)time(NULL);

	if (!c->admitted)
		return;
	c->admitted = 0;
	if (c->answered_ms != 0)
		secs = (uv_now(&w->loop) - c->answered_ms + 999) / 1000;
	usage_release(w->env->sec.usage, c->usage_key,
	    secs > UINT32_MAX ? UINT32_MAX : (uint32_t)secs, usage_day(now));
}

uint64_t
policy_max_ms(struct call *c, uint64_t max_ms)
{
	struct worker *w = c->svc->w;
	const struct destpol *pol = pol_of(w);
	struct usage_limits lim;
	uint32_t left;

	if (!c->admitted || pol == NULL)
		return max_ms;
	limits_of(destpol_group_conf(pol, destpol_group(pol, c->group)), &lim);
	left = usage_seconds_left(w->env->sec.usage, c->usage_key, &lim,
	    usage_day((int64_t)time(NULL)));
	if (left == UINT32_MAX || (uint64_t)left * 1000 >= max_ms)
		return max_ms;
	c->minutes_cap = 1;
	return left == 0 ? 1000 : (uint64_t)left * 1000;
}

int
policy_redirect(struct call *c, const struct sip_msg *resp, char *user,
    size_t cap, unsigned *ret_status)
{
	struct worker *w = c->svc->w;
	const struct destpol *pol = pol_of(w);
	const struct sip_hdr *h = sip_msg_hdr(resp, SIP_H_CONTACT);
	struct sip_nameaddr na;
	struct slice cur, d;
	struct dp_result r;

	*ret_status = resp->status;
	if (h == NULL || pol == NULL ||
	    c->redirects >= destpol_opts(pol)->max_redirects)
		return -1;
	cur = h->value;
	if (sip_nameaddr_next(&cur, &w->env->lim, 0, &na) <= 0)
		return -1;
	d = dial_string(&na.uri);
	if (d.len == 0 || d.len >= cap)
		return -1;
	destpol_check(pol, destpol_group(pol, c->group), d, &r);
	if (!r.allow || (c->account[0] == '\0' && !r.internal)) {
		*ret_status = 403;
		dest_event(w, SECEV_DIVERSION_REFUSED, NULL, &c->a.dest,
		    c->account, 403, "redirect", &r, d);
		call_verdict(c, "redirect", "denied");
		c->refused = 1;
		return -1;
	}
	dest_event(w, SECEV_DIVERSION_ALLOWED, NULL, &c->a.dest, c->account, 0,
	    "redirect", &r, d);
	call_verdict(c, "redirect", r.reason != NULL ? r.reason : "allowed");
	memcpy(user, d.p, d.len);
	user[d.len] = '\0';
	c->redirects++;
	return 0;
}

int
policy_refer(struct call *c, struct leg *x, struct leg *y, struct txn *t,
    const struct sip_msg *m, char *extra, size_t cap)
{
	struct worker *w = c->svc->w;
	const struct sw_conf *conf = w->env->conf;
	const struct destpol *pol = pol_of(w);
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_H_REFER_TO);
	struct sip_nameaddr na;
	struct slice cur, d = { 0 };
	struct dp_result r;
	char host[SW_ADDR_STRLEN + 8];
	int ok = 0;

	memset(&r, 0, sizeof(r));
	if (h != NULL) {
		cur = h->value;
		if (sip_nameaddr_next(&cur, &w->env->lim, 0, &na) > 0)
			d = dial_string(&na.uri);
	}
	if (d.len == 0 || d.len > 63) {
		uas_reply(w, t, m, &x->dest, 400, "Bad Refer-To", NULL);
		return -1;
	}
	if (pol != NULL && destpol_opts(pol)->refer != CONF_REFER_OFF) {
		destpol_check(pol, destpol_group(pol, c->group), d, &r);
		ok = destpol_opts(pol)->refer == CONF_REFER_POLICY ? r.allow :
		    r.allow && (r.internal || r.emergency);
	} else
		snprintf(r.rule, sizeof(r.rule), "policy.refer off");
	if (!ok) {
		if (r.rule[0] == '\0')
			snprintf(r.rule, sizeof(r.rule), "outside the "
			    "organisation (policy.refer: %s)",
			    conf_refer_name(pol != NULL ?
			    destpol_opts(pol)->refer : CONF_REFER_OFF));
		uas_reply(w, t, m, &x->dest, 403, "Transfer Not Allowed", NULL);
		dest_event(w, SECEV_DIVERSION_REFUSED, m, &x->dest, c->account,
		    403, "refer", &r, d);
		call_verdict(c, "refer", "denied");
		return -1;
	}
	dest_event(w, SECEV_DIVERSION_ALLOWED, m, &x->dest, c->account, 0,
	    "refer", &r, d);
	call_verdict(c, "refer", "allowed");
	/* the target as the other side reaches it: the core by its own
	 * address; a phone through us, so that its INVITE meets the
	 * policy again */
	if (y->trusted)
		sw_addr_str(&y->dest.addr, host, sizeof(host));
	else
		sw_addr_str(&conf->listen[y->dest.lsn].addr, host, sizeof(host));
	snprintf(extra, cap, "Refer-To: <sip:%.*s@%s>\r\n"
	    "Referred-By: <sip:%s@%s>\r\n", (int)d.len, (const char *)d.p, host,
	    c->account[0] != '\0' ? c->account : "anonymous",
	    conf->auth.realm);
	return 0;
}
