/*
 * Control commands run by the workers (see wcmd.h).  This file reaches
 * into the B2BUA's private call list (call_int.h) because ending a call
 * is the call code's business and has to happen on the owner's loop;
 * it only walks the list and calls call_hangup()/call_abort().
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

#define WCMD_REASON_HDR \
	"Reason: SIP;cause=200;text=\"Call ended by the administrator\"\r\n"

struct wcmd_req {
	atomic_int	 refs;
	enum wcmd_kind	 kind;
	char		 arg[WCMD_ARG_MAX + 1];
	pthread_mutex_t	 mu;		/* below */
	pthread_cond_t	 cv;
	unsigned	 pending;	/* workers still to answer */
	unsigned	 answered;
	unsigned	 ended;
};

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
	for (size_t i = 0; i < n; i++)
		req_answer(q[i], hangup_matching(in->w, q[i]), 1);
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

int
wcmd_run(struct sw_env *env, enum wcmd_kind kind, const char *arg,
    unsigned timeout_ms, unsigned *ret_ended, unsigned *ret_workers)
{
	struct wcmd_req *r;
	struct timespec until;
	pthread_condattr_t ca;
	int rc = 0;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return -ENOMEM;
	atomic_init(&r->refs, 1);	/* ours */
	r->kind = kind;
	snprintf(r->arg, sizeof(r->arg), "%s", arg);
	pthread_mutex_init(&r->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cv, &ca);
	pthread_condattr_destroy(&ca);
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
	*ret_ended = r->ended;
	*ret_workers = r->answered;
	pthread_mutex_unlock(&r->mu);
	req_unref(r);
	return rc;
}
