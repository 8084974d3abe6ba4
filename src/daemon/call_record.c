/*
 * The call's row in the store (CDRs, OBS3; `sipwall calls`): written
 * through the store writer when the call is answered, every few
 * seconds while it is up (its media figures), and when it ends; a call
 * refused or failed before it was answered gets one row, at its end,
 * and an INVITE refused before its call existed (policy, no route)
 * one row of its own (call_record_attempt).  A full writer queue loses
 * one update, never the call: the next one carries everything again.
 *
 * Also the verdict list: the policy decisions taken for a call, in
 * order, as "key:value" items (auth:digest, dest:domestic, limit:ok,
 * srtp:require, media:anchored, ...), bounded by CALL_VERDICTS_MAX.
 *
 * Not here: the decisions themselves (call_policy.c, call_route.c,
 * call_media.c); nothing on the packet path: one writer message per
 * record, none per packet.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "media/relay.h"
#include "store/store.h"
#include "store/writer.h"
#include "daemon/call_int.h"
#include "daemon/worker.h"

_Static_assert(CALL_VERDICTS_MAX == STORE_CALL_VERDICTS_MAX,
    "the call's verdicts must fit the store's");

static const char *const dirs[] = { "outbound", "inbound", "trunk_in",
    "trunk_out" };

int64_t
call_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
verdicts_add(char *buf, size_t cap, const char *item)
{
	size_t n = strnlen(buf, cap), k = strlen(item);

	if (k == 0 || n >= cap)
		return;
	if (n + (n > 0) + k < cap) {
		snprintf(buf + n, cap - n, "%s%s", n > 0 ? "," : "", item);
		return;
	}
	/* mark the list as cut, once, when even that fits */
	if (n > 0 && buf[n - 1] == '+')
		return;
	if (n + 2 < cap)
		snprintf(buf + n, cap - n, "%s", n > 0 ? ",+" : "+");
}

void
call_verdict(struct call *c, const char *key, const char *value)
{
	char item[96];

	snprintf(item, sizeof(item), "%s:%s", key, value);
	verdicts_add(c->verdicts, sizeof(c->verdicts), item);
}

void
call_verdict_media(struct call *c, unsigned status, const char *why)
{
	/* call_media.c's reason phrases, as short codes */
	static const struct {
		const char	*why, *code;
	} refusals[] = {
		{ "SRTP Required", "srtp_required" },
		{ "No Usable Crypto Suite", "bad_crypto" },
		{ "DTLS-SRTP Not Supported", "dtls_srtp" },
		{ "Malformed SDP", "bad_sdp" },
		{ "Media Relay Unavailable", "no_relay" },
	};
	const struct sw_conf *conf = c->svc->w->env->conf;
	const char *code = "refused";

	if (conf->media.anchor && c->a.dest.lsn < conf->nlisten &&
	    conf->listen[c->a.dest.lsn].zone < conf->nzones)
		call_verdict(c, "srtp", conf_srtp_name(conf->zones[
		    conf->listen[c->a.dest.lsn].zone].srtp));
	if (status == 0) {
		call_verdict(c, "media", c->media != NULL ? "anchored" :
		    "direct");
		return;
	}
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++)
		if (why != NULL && strcmp(why, refusals[i].why) == 0)
			code = refusals[i].code;
	call_verdict(c, "media", code);
}

/* The name of the zone of listener lsn, "" when the config has none. */
static const char *
zone_name(const struct sw_conf *conf, uint8_t lsn)
{
	uint32_t z;

	if (lsn >= conf->nlisten)
		return "";
	z = conf->listen[lsn].zone;
	return z < conf->nzones ? conf->zones[z].name : "";
}

/* The callee's leg: the fork that answered, else the last one tried. */
static const struct leg *
leg_b(const struct call *c)
{
	if (c->winner >= 0)
		return &c->b[c->winner];
	return c->nforks > 0 ? &c->b[c->nforks - 1] : NULL;
}

/* Where the call was routed: "core:ADDR", "trunk:NAME", "user:USER". */
static void
target_of(const struct call *c, const struct sw_conf *conf,
    const struct leg *b, char *buf, size_t cap)
{
	char a[SW_ADDR_STRLEN];

	buf[0] = '\0';
	if (b == NULL)
		return;
	if (b->trunk1 != 0 && (size_t)b->trunk1 - 1 < conf->ntrunks)
		snprintf(buf, cap, "trunk:%s",
		    conf->trunks[b->trunk1 - 1].name);
	else if (c->dir == DIR_TO_CORE || c->dir == DIR_FROM_TRUNK)
		snprintf(buf, cap, "core:%s", sw_addr_str(&b->dest.addr, a,
		    sizeof(a)));
	else if (c->dir == DIR_FROM_CORE && cap > 5)
		snprintf(buf, cap, "user:%.*s", (int)(cap - 6), c->to_user);
}

/*
 * What became of the call: answered once a 2xx reached the caller;
 * while it is not over, undecided; refused when sipwall said no after
 * the call began (its media policy, an overload, a redirect the policy
 * refused); cancelled by the caller; else failed on the callee's side.
 */
static const char *
outcome_of(const struct call *c, int ended, const char *reason)
{
	if (c->answered_wall_ms != 0)
		return STORE_CALL_ANSWERED;
	if (!ended)
		return "";
	if (reason == NULL)
		reason = "";
	if (c->refused || strcmp(reason, "media") == 0 ||
	    strcmp(reason, "overload") == 0)
		return STORE_CALL_REFUSED;
	if (strcmp(reason, "cancel") == 0)
		return STORE_CALL_CANCELLED;
	return STORE_CALL_FAILED;
}

static void
leg_media(const struct call *c, unsigned side, struct store_call_media *m)
{
	struct relay_side_stats t;

	memset(m, 0, sizeof(*m));
	if (call_media_totals(c, side, &t) < 0)
		return;
	m->packets = t.packets;
	m->bytes = t.bytes;
	m->ooo = t.ooo;
	m->auth_failed = t.auth_failed;
	m->foreign = t.foreign;
	m->lost = t.lost;
	m->jitter_us = t.jitter_us;
	m->srtp = t.srtp;
	m->has_media = t.open;
}

void
call_record(struct call *c, int ended, const char *reason, unsigned status)
{
	struct sw_env *env = c->svc->w->env;
	const struct sw_conf *conf = env->conf;
	const struct leg *b = leg_b(c);
	struct store_wop op;
	struct store_call *r = &op.u.call;
	char a[SW_ADDR_STRLEN];

	if (env->sec.wr == NULL || c->a.call_id == NULL)
		return;
	memset(&op, 0, sizeof(op));
	op.type = STORE_WOP_CALL_PUT;
	snprintf(r->call_id, sizeof(r->call_id), "%s", c->a.call_id);
	snprintf(r->account, sizeof(r->account), "%s", c->account);
	snprintf(r->from_user, sizeof(r->from_user), "%s", c->from_user);
	snprintf(r->to_user, sizeof(r->to_user), "%s", c->to_user);
	snprintf(r->direction, sizeof(r->direction), "%s", dirs[c->dir & 3]);
	snprintf(r->src, sizeof(r->src), "%s",
	    sw_addr_str(&c->a.dest.addr, a, sizeof(a)));
	r->started_ms = c->started_wall_ms;
	r->answered_ms = c->answered_wall_ms;
	r->ended_ms = ended ? call_wall_ms() : 0;
	r->status = (uint16_t)(status <= 999 ? status : 0);
	snprintf(r->reason, sizeof(r->reason), "%s",
	    reason != NULL ? reason : "");
	snprintf(r->state, sizeof(r->state), "%s", ended ? STORE_CALL_ENDED :
	    STORE_CALL_ACTIVE);
	r->anchored = c->media != NULL;
	leg_media(c, 0, &r->leg[0]);
	leg_media(c, 1, &r->leg[1]);
	snprintf(r->zone_a, sizeof(r->zone_a), "%s",
	    zone_name(conf, c->a.dest.lsn));
	if (b != NULL)
		snprintf(r->zone_b, sizeof(r->zone_b), "%s",
		    zone_name(conf, b->dest.lsn));
	target_of(c, conf, b, r->target, sizeof(r->target));
	snprintf(r->outcome, sizeof(r->outcome), "%s",
	    outcome_of(c, ended, reason));
	snprintf(r->verdicts, sizeof(r->verdicts), "%s", c->verdicts);
	for (unsigned k = 0; k < 2; k++)
		snprintf(r->enc[k], sizeof(r->enc[k]), "%s",
		    call_media_enc(c, k));
	store_writer_submit(env->sec.wr, &op);
}

void
call_record_attempt(struct worker *w, const struct sip_msg *m,
    const struct sip_dest *src, const struct call_attempt *at,
    const char *outcome, unsigned status, const char *reason)
{
	struct sw_env *env = w->env;
	struct store_wop op;
	struct store_call *r = &op.u.call;
	char a[SW_ADDR_STRLEN];
	size_t n;

	if (env->sec.wr == NULL || m->call_id.len == 0)
		return;
	memset(&op, 0, sizeof(op));
	op.type = STORE_WOP_CALL_PUT;
	/* the store refuses none of it: it scrubs what came from the
	 * network, and a Call-ID longer than it keeps is cut */
	n = m->call_id.len < sizeof(r->call_id) - 1 ? m->call_id.len :
	    sizeof(r->call_id) - 1;
	snprintf(r->call_id, sizeof(r->call_id), "%.*s", (int)n,
	    (const char *)m->call_id.p);
	snprintf(r->account, sizeof(r->account), "%s", at->account);
	snprintf(r->from_user, sizeof(r->from_user), "%s", at->from_user);
	snprintf(r->to_user, sizeof(r->to_user), "%s", at->to_user);
	snprintf(r->direction, sizeof(r->direction), "%s", dirs[at->dir & 3]);
	snprintf(r->src, sizeof(r->src), "%s",
	    sw_addr_str(&src->addr, a, sizeof(a)));
	r->started_ms = r->ended_ms = call_wall_ms();
	r->status = (uint16_t)(status <= 999 ? status : 0);
	snprintf(r->reason, sizeof(r->reason), "%s",
	    reason != NULL ? reason : "");
	snprintf(r->state, sizeof(r->state), "%s", STORE_CALL_ENDED);
	snprintf(r->zone_a, sizeof(r->zone_a), "%s",
	    zone_name(env->conf, src->lsn));
	snprintf(r->outcome, sizeof(r->outcome), "%s", outcome);
	snprintf(r->verdicts, sizeof(r->verdicts), "%s", at->verdicts);
	store_writer_submit(env->sec.wr, &op);
}
