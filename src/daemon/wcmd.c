/*
 * Control commands run by the workers (see wcmd.h).  This file reaches
 * into the B2BUA's private call list (call_int.h) because ending a call
 * is the call code's business and has to happen on the owner's loop;
 * it only walks the list and calls call_hangup()/call_abort(), or reads
 * what `calls` shows.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "daemon/call_int.h"
#include "daemon/wcmd.h"
#include "daemon/worker.h"
#include "media/relay.h"

#define WCMD_REASON_HDR \
	"Reason: SIP;cause=200;text=\"Call ended by the administrator\"\r\n"

/* One worker's calls for WCMD_LIST_CALLS. */
struct calls_blk {
	struct calls_blk	*next;
	size_t			 n;
	struct wcmd_call	 c[];
};

struct wcmd_req {
	atomic_int	 refs;
	enum wcmd_kind	 kind;
	char		 arg[WCMD_ARG_MAX + 1];
	size_t		 max;		/* WCMD_LIST_CALLS: calls at most */
	pthread_mutex_t	 mu;		/* below */
	pthread_cond_t	 cv;
	unsigned	 pending;	/* workers still to answer */
	unsigned	 answered;
	unsigned	 ended;
	struct calls_blk *blk;		/* WCMD_LIST_CALLS */
	size_t		 total;		/* calls in blk */
	int		 truncated;
};

static void
blk_free(struct calls_blk *b)
{
	while (b != NULL) {
		struct calls_blk *nx = b->next;

		free(b);
		b = nx;
	}
}

struct wcmd_inbox {
	struct worker	*w;
	uv_async_t	 async;
	pthread_mutex_t	 mu;		/* q, n, closed */
	struct wcmd_req	*q[WCMD_INBOX_MAX];
	size_t		 n;
	int		 closed;
};

static void
req_unref(struct wcmd_req *r)
{
	if (atomic_fetch_sub(&r->refs, 1) != 1)
		return;
	blk_free(r->blk);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

/* One worker's answer (ended calls), then its reference goes. */
static void
req_answer(struct wcmd_req *r, unsigned ended, int answered)
{
	pthread_mutex_lock(&r->mu);
	r->ended += ended;
	r->answered += answered ? 1 : 0;
	r->pending--;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	req_unref(r);
}

/* "alice" and "alice@example.com" both name the account alice. */
static int
account_is(const struct call *c, const char *arg)
{
	size_t n = strcspn(arg, "@");

	return c->account[0] != '\0' && strlen(c->account) == n &&
	    memcmp(c->account, arg, n) == 0;
}

static int
call_id_is(const struct call *c, const char *arg)
{
	if (c->a.call_id != NULL && strcmp(c->a.call_id, arg) == 0)
		return 1;
	for (size_t i = 0; i < c->nforks; i++)
		if (c->b[i].call_id != NULL && strcmp(c->b[i].call_id, arg) == 0)
			return 1;
	return 0;
}

/* End this worker's calls that match r: BYE both legs of an answered
 * call, stop a ringing one (480 to the caller, CANCEL the forks). */
static unsigned
hangup_matching(struct worker *w, const struct wcmd_req *r)
{
	struct call_svc *s = call_svc(w);
	struct call *c, *nx;
	unsigned n = 0;

	if (s == NULL)
		return 0;
	txn_layer_set_now(w->txl, uv_now(&w->loop));
	for (c = s->all; c != NULL; c = nx) {
		nx = c->next;
		if (c->state == CALL_DEAD || !(r->kind == WCMD_HANGUP_CALL ?
		    call_id_is(c, r->arg) : account_is(c, r->arg)))
			continue;
		if (c->state == CALL_UP)
			call_hangup(c, "admin", WCMD_REASON_HDR);
		else
			call_abort(c, 480, "admin");
		n++;
	}
	if (n > 0)
		worker_tick_rearm(w);
	return n;
}

/* A peer's bytes as printable ASCII ('?' for anything else), cut. */
static void
copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = 0;

	for (; src != NULL && src[n] != '\0' && n + 1 < cap; n++)
		dst[n] = src[n] >= 0x20 && src[n] < 0x7f ? src[n] : '?';
	dst[n] = '\0';
}

static void
leg_info(const struct call *c, unsigned side, struct wcmd_leg *l)
{
	struct relay_side_stats t;

	memset(l, 0, sizeof(*l));
	if (c->media == NULL)
		return;
	l->anchored = 1;
	if (call_media_totals(c, side, &t) < 0)
		return;
	l->open = t.open;
	l->srtp = t.srtp;
	l->packets = t.packets;
	l->lost = t.lost;
	l->expected = t.expected;
	l->jitter_us = t.jitter_us;
}

/* The zone of the listener leg l talks through ("" when unknown: a
 * reload may have changed the listeners since the call began). */
static void
zone_of(const struct sw_conf *conf, const struct leg *l, char *buf,
    size_t cap)
{
	buf[0] = '\0';
	if (l != NULL && l->dest.lsn < conf->nlisten)
		copy_str(buf, cap, conf->listen[l->dest.lsn].zone_name);
}

static void
call_info(struct worker *w, const struct sw_conf *conf,
    const struct call *c, struct wcmd_call *x)
{
	static const char *const dirs[] = { "outbound", "inbound",
	    "trunk_in", "trunk_out" };
	const struct leg *b = c->winner >= 0 ? &c->b[c->winner] :
	    c->nforks > 0 ? &c->b[0] : NULL;

	memset(x, 0, sizeof(*x));
	copy_str(x->call_id, sizeof(x->call_id), c->a.call_id);
	copy_str(x->from, sizeof(x->from), c->from_user[0] != '\0' ?
	    c->from_user : c->account);
	copy_str(x->to, sizeof(x->to), c->to_user);
	copy_str(x->account, sizeof(x->account), c->account);
	sw_addr_str(&c->a.dest.addr, x->src, sizeof(x->src));
	zone_of(conf, &c->a, x->zone_a, sizeof(x->zone_a));
	zone_of(conf, b, x->zone_b, sizeof(x->zone_b));
	x->state = c->state == CALL_UP ? "up" : "ringing";
	x->direction = dirs[c->dir & 3];
	x->started_ms = c->started_wall_ms;
	x->answered_ms = c->answered_wall_ms;
	leg_info(c, 0, &x->leg[0]);
	leg_info(c, 1, &x->leg[1]);
	x->worker = w->idx;
}

/* Copy this worker's live calls (at most r->max) onto r. */
static void
list_calls(struct worker *w, struct wcmd_req *r)
{
	const struct sw_conf *conf = w->env->conf;
	struct call_svc *s = call_svc(w);
	struct calls_blk *blk;
	const struct call *c;
	size_t n = 0, i = 0;
	int cut = 0;

	if (s == NULL)
		return;
	for (c = s->all; c != NULL; c = c->next)
		if (c->state != CALL_DEAD && n++ == r->max) {
			cut = 1;
			n = r->max;
			break;
		}
	if (n == 0 && !cut)
		return;
	if ((blk = malloc(sizeof(*blk) + n * sizeof(blk->c[0]))) == NULL) {
		cut = 1;	/* said as "truncated": better than nothing */
		n = 0;
	} else {
		for (c = s->all; c != NULL && i < n; c = c->next)
			if (c->state != CALL_DEAD)
				call_info(w, conf, c, &blk->c[i++]);
		blk->n = i;
	}
	pthread_mutex_lock(&r->mu);
	if (cut)
		r->truncated = 1;
	if (blk != NULL) {
		if (blk->n > r->max - r->total) {
			blk->n = r->max - r->total;
			r->truncated = 1;
		}
		r->total += blk->n;
		blk->next = r->blk;
		r->blk = blk;
	}
	pthread_mutex_unlock(&r->mu);
}

static void
drain(uv_async_t *a)
{
	struct wcmd_inbox *in = a->data;
	struct wcmd_req *q[WCMD_INBOX_MAX];
	size_t n;

	pthread_mutex_lock(&in->mu);
	n = in->n;
	memcpy(q, in->q, n * sizeof(q[0]));
	in->n = 0;
	pthread_mutex_unlock(&in->mu);
	for (size_t i = 0; i < n; i++) {
		if (q[i]->kind == WCMD_LIST_CALLS) {
			list_calls(in->w, q[i]);
			req_answer(q[i], 0, 1);
		} else
			req_answer(q[i], hangup_matching(in->w, q[i]), 1);
	}
}

int
wcmd_init(struct worker *w)
{
	struct wcmd_inbox *in;
	int r;

	if ((in = calloc(1, sizeof(*in))) == NULL)
		return -ENOMEM;
	in->w = w;
	pthread_mutex_init(&in->mu, NULL);
	if ((r = uv_async_init(&w->loop, &in->async, drain)) < 0) {
		pthread_mutex_destroy(&in->mu);
		free(in);
		return r;
	}
	in->async.data = in;
	w->cmd = in;
	return 0;
}

/* Answer (with nothing done) whatever is still queued. */
static void
inbox_flush(struct wcmd_inbox *in)
{
	struct wcmd_req *q[WCMD_INBOX_MAX];
	size_t n;

	pthread_mutex_lock(&in->mu);
	in->closed = 1;
	n = in->n;
	memcpy(q, in->q, n * sizeof(q[0]));
	in->n = 0;
	pthread_mutex_unlock(&in->mu);
	for (size_t i = 0; i < n; i++)
		req_answer(q[i], 0, 0);
}

void
wcmd_close(struct worker *w)
{
	struct wcmd_inbox *in = w->cmd;

	if (in == NULL)
		return;
	inbox_flush(in);
	if (!uv_is_closing((uv_handle_t *)&in->async))
		uv_close((uv_handle_t *)&in->async, NULL);
}

void
wcmd_free(struct worker *w)
{
	struct wcmd_inbox *in = w->cmd;

	if (in == NULL)
		return;
	inbox_flush(in);
	pthread_mutex_destroy(&in->mu);
	free(in);
	w->cmd = NULL;
}

static int
post(struct worker *w, struct wcmd_req *r)
{
	struct wcmd_inbox *in = w->cmd;

	if (in == NULL)
		return -ESHUTDOWN;
	pthread_mutex_lock(&in->mu);
	if (in->closed || in->n >= WCMD_INBOX_MAX) {
		pthread_mutex_unlock(&in->mu);
		return -ENOBUFS;
	}
	atomic_fetch_add(&r->refs, 1);
	in->q[in->n++] = r;
	pthread_mutex_unlock(&in->mu);
	uv_async_send(&in->async);
	return 0;
}

static struct wcmd_req *
req_new(enum wcmd_kind kind, const char *arg, size_t max)
{
	struct wcmd_req *r;
	pthread_condattr_t ca;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	atomic_init(&r->refs, 1);	/* ours */
	r->kind = kind;
	r->max = max;
	snprintf(r->arg, sizeof(r->arg), "%s", arg);
	pthread_mutex_init(&r->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cv, &ca);
	pthread_condattr_destroy(&ca);
	return r;
}

/* Post r to every worker and wait up to timeout_ms for their answers;
 * returns with r->mu held.  0 or -ETIMEDOUT. */
static int
req_run(struct sw_env *env, struct wcmd_req *r, unsigned timeout_ms)
{
	struct timespec until;
	int rc = 0;

	r->pending = env->nworkers;
	for (unsigned i = 0; i < env->nworkers; i++)
		if (post(env->workers[i], r) < 0) {
			pthread_mutex_lock(&r->mu);
			r->pending--;
			pthread_mutex_unlock(&r->mu);
		}
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&r->mu);
	while (r->pending > 0 && rc == 0)
		if (pthread_cond_timedwait(&r->cv, &r->mu, &until) == ETIMEDOUT)
			rc = -ETIMEDOUT;
	return rc;
}

int
wcmd_run(struct sw_env *env, enum wcmd_kind kind, const char *arg,
    unsigned timeout_ms, unsigned *ret_ended, unsigned *ret_workers)
{
	struct wcmd_req *r;
	int rc;

	if (kind == WCMD_LIST_CALLS || (r = req_new(kind, arg, 0)) == NULL)
		return kind == WCMD_LIST_CALLS ? -EINVAL : -ENOMEM;
	rc = req_run(env, r, timeout_ms);
	*ret_ended = r->ended;
	*ret_workers = r->answered;
	pthread_mutex_unlock(&r->mu);
	req_unref(r);
	return rc;
}

int
wcmd_list_calls(struct sw_env *env, size_t max, unsigned timeout_ms,
    struct wcmd_call **ret_calls, size_t *ret_n, unsigned *ret_workers,
    int *ret_truncated)
{
	struct calls_blk *blk, *b;
	struct wcmd_call *v = NULL;
	struct wcmd_req *r;
	size_t total, n = 0;
	int rc;

	*ret_calls = NULL;
	*ret_n = 0;
	*ret_workers = 0;
	*ret_truncated = 0;
	if ((r = req_new(WCMD_LIST_CALLS, "", max)) == NULL)
		return -ENOMEM;
	rc = req_run(env, r, timeout_ms);
	/* what came in time is ours; a late block goes with r */
	blk = r->blk;
	r->blk = NULL;
	total = r->total;
	*ret_workers = r->answered;
	*ret_truncated = r->truncated;
	pthread_mutex_unlock(&r->mu);
	req_unref(r);
	if (total > 0 && (v = malloc(total * sizeof(*v))) == NULL) {
		blk_free(blk);
		return -ENOMEM;
	}
	for (b = blk; b != NULL; b = b->next) {
		memcpy(v + n, b->c, b->n * sizeof(*v));
		n += b->n;
	}
	blk_free(blk);
	*ret_calls = v;
	*ret_n = n;
	return rc;
}
