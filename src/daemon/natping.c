/*
 * The NAT keep-alive pass (natping.h says what and why): a timer on
 * worker 0, a cursor over the location table, stateless OPTIONS.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/wbuf.h"
#include "daemon/ident.h"
#include "daemon/natping.h"
#include "daemon/worker.h"

/* What one keep-alive needs, copied out of the table. */
struct np_target {
	struct sip_dest	flow;
	char		contact[LOC_CONTACT_MAX + 1];
};

struct natping {
	struct worker		*w;
	uv_timer_t		 timer;
	uint64_t		 interval;	/* ms */
	uint64_t		 pass_start;	/* loop ms */
	struct loc_cursor	 cur;
	int64_t			 wall;		/* unix s, for expiry */
	struct ident_gen	 ids;
	char			 tag[IDENT_TAG_LEN + 1];
	uint32_t		 cseq;
	size_t			 n, cap;
	uint64_t		 sent, answered, send_errors, passes, late;
	struct np_target	 batch[NATPING_BATCH];
};

/* loc_walk_fn, under a stripe lock: take the NATed UDP bindings. */
static int
collect(void *arg, const char *aor, const struct binding *b)
{
	struct natping *np = arg;
	struct np_target *t;

	(void)aor;
	if (!b->nat || b->flow.transport != SIP_TP_UDP || b->expires <= np->wall)
		return 0;
	if (np->n >= np->cap)
		return -1;
	t = &np->batch[np->n++];
	t->flow = b->flow;
	memcpy(t->contact, b->contact, sizeof(t->contact));
	return 0;
}

/* One stateless OPTIONS to the flow, addressed to the contact. */
static void
ping(struct natping *np, const struct np_target *t)
{
	const struct sw_conf *c = np->w->env->conf;
	char branch[IDENT_BRANCH_LEN + 1], callid[IDENT_CALLID_LEN + 1];
	char a[SW_ADDR_STRLEN];
	uint8_t buf[2 * LOC_CONTACT_MAX + 512];
	struct wbuf wb;

	if (t->flow.lsn >= c->nlisten)
		return;
	ident_branch(&np->ids, branch);
	ident_callid(&np->ids, callid);
	sw_addr_str(&c->listen[t->flow.lsn].addr, a, sizeof(a));
	wbuf_init(&wb, buf, sizeof(buf));
	wbuf_fmt(&wb, "OPTIONS %s SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP %s;branch=%s;rport\r\n"
	    "Max-Forwards: 70\r\n"
	    "From: <sip:keepalive@%s>;tag=%s\r\n"
	    "To: <%s>\r\n"
	    "Call-ID: %s\r\n"
	    "CSeq: %u OPTIONS\r\n"
	    "Content-Length: 0\r\n\r\n",
	    t->contact, a, branch, a, np->tag, t->contact, callid, ++np->cseq);
	if (wb.overflow)
		return;
	if (worker_send(np->w, &t->flow, buf, wb.n) < 0)
		np->send_errors++;
	else
		np->sent++;
}

static void
on_tick(uv_timer_t *h)
{
	struct natping *np = h->data;
	struct loc_table *loc = np->w->env->sec.loc;
	uint64_t now = uv_now(h->loop), elapsed = now - np->pass_start;
	size_t nslots = loc_slots(loc), budget = NATPING_PER_TICK, target;

	/* the share of the table due by now: a pass takes one interval */
	target = elapsed >= np->interval ? nslots :
	    (size_t)((uint64_t)nslots * elapsed / np->interval);
	np->wall = (int64_t)time(NULL);
	while (budget > 0 && np->cur.slot < target) {
		int stopped;

		np->n = 0;
		np->cap = budget < NATPING_BATCH ? budget : NATPING_BATCH;
		stopped = loc_walk(loc, &np->cur, target, collect, np);
		for (size_t i = 0; i < np->n; i++)
			ping(np, &np->batch[i]);
		budget -= np->n;
		if (!stopped)
			break;
	}
	if (np->cur.slot >= nslots) {
		if (elapsed > np->interval + 2 * NATPING_TICK_MS)
			np->late++;
		np->passes++;
		memset(&np->cur, 0, sizeof(np->cur));
		np->pass_start = now;
	}
}

int
natping_new(struct worker *w, uint32_t interval_ms, struct natping **ret)
{
	struct natping *np = calloc(1, sizeof(*np));

	if (np == NULL)
		return -ENOMEM;
	np->w = w;
	np->interval = interval_ms;
	np->pass_start = uv_now(&w->loop);
	ident_init(&np->ids, w->idx);
	/* the calls of this worker count from 0 with the same owner: a
	 * disjoint range keeps our branches and tags apart from theirs */
	np->ids.seq = UINT64_C(1) << 63;
	ident_tag(&np->ids, np->tag);
	uv_timer_init(&w->loop, &np->timer);
	np->timer.data = np;
	uv_timer_start(&np->timer, on_tick, NATPING_TICK_MS, NATPING_TICK_MS);
	*ret = np;
	return 0;
}

void
natping_close(struct natping *np)
{
	if (np == NULL || uv_is_closing((uv_handle_t *)&np->timer))
		return;
	uv_timer_stop(&np->timer);
	uv_close((uv_handle_t *)&np->timer, NULL);
	log_info("nat keep-alive: %llu sent, %llu answered, %llu send errors, "
	    "%llu passes, %llu late", (unsigned long long)np->sent,
	    (unsigned long long)np->answered,
	    (unsigned long long)np->send_errors,
	    (unsigned long long)np->passes, (unsigned long long)np->late);
}

void
natping_free(struct natping *np)
{
	free(np);
}

int
natping_response(struct natping *np, const struct sip_msg *m)
{
	if (np == NULL || m->is_request || m->cseq_method != SIP_M_OPTIONS ||
	    !m->from.has_tag || !slice_eq(m->from.tag, slice_cstr(np->tag)))
		return 0;
	np->answered++;
	return 1;
}
