/*
 * The call's row in the store (`sipwall calls`, the groundwork of
 * CDRs): written through the store writer when the call is answered,
 * every few seconds while it is up (its media figures), and when it
 * ends.  A full writer queue loses one update, never the call: the
 * next one carries everything again.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "media/relay.h"
#include "store/store.h"
#include "store/writer.h"
#include "daemon/call_int.h"
#include "daemon/worker.h"

int64_t
call_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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
	static const char *dirs[] = { "outbound", "inbound", "trunk_in",
	    "trunk_out" };
	struct sw_env *env = c->svc->w->env;
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
	store_writer_submit(env->sec.wr, &op);
}
