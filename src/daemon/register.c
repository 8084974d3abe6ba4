#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "daemon/call.h"
#include "daemon/guard.h"
#include "daemon/register.h"
#include "daemon/state.h"
#include "obs/metrics.h"
#include "sip/hdr.h"
#include "sip/parse.h"
#include "sip/registrar.h"
#include "store/store.h"

struct reg_pending {
	struct tu	 tu;		/* TU_REG: first */
	struct worker	*w;
	struct txn	*t;		/* NULL once the transaction ended */
	atomic_int	 remaining;	/* store operations + 1 */
	atomic_int	 err;		/* first failure */
	uint16_t	 len;
	uint8_t		 resp[REG_RESP_MAX];
};

struct reg_service {
	struct reg_pending	 slot[REG_PENDING_MAX];
	uint32_t		 free_[REG_PENDING_MAX];
	size_t			 nfree;
	uv_async_t		 async;
	pthread_mutex_t		 mu;		/* done[] */
	uint32_t		 done[REG_PENDING_MAX];
	size_t			 ndone;
	uint32_t		 batch[REG_PENDING_MAX];
};

static void on_async(uv_async_t *h);

int
reg_service_init(struct worker *w)
{
	struct reg_service *rs = calloc(1, sizeof(*rs));

	if (rs == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < REG_PENDING_MAX; i++) {
		rs->slot[i].w = w;
		rs->slot[i].tu.kind = TU_REG;
		rs->free_[i] = (uint32_t)(REG_PENDING_MAX - 1 - i);
	}
	rs->nfree = REG_PENDING_MAX;
	pthread_mutex_init(&rs->mu, NULL);
	uv_async_init(&w->loop, &rs->async, on_async);
	rs->async.data = w;
	w->reg = rs;
	return 0;
}

void
reg_service_close(struct worker *w)
{
	if (w->reg != NULL && !uv_is_closing((uv_handle_t *)&w->reg->async))
		uv_close((uv_handle_t *)&w->reg->async, NULL);
}

void
reg_service_free(struct worker *w)
{
	if (w->reg == NULL)
		return;
	pthread_mutex_destroy(&w->reg->mu);
	free(w->reg);
	w->reg = NULL;
}

void
reg_txn_gone(struct worker *w, struct txn *t)
{
	struct reg_pending *p = txn_tu(t);

	if (p != NULL && p->tu.kind == TU_REG && w->reg != NULL)
		p->t = NULL;
}

/* Writer thread: one operation of slot p is durable (or failed). */
static void
op_done(void *arg, int result)
{
	struct reg_pending *p = arg;
	struct reg_service *rs = p->w->reg;

	if (result < 0) {
		int zero = 0;

		atomic_compare_exchange_strong(&p->err, &zero, result);
	}
	if (atomic_fetch_sub(&p->remaining, 1) != 1)
		return;
	pthread_mutex_lock(&rs->mu);
	rs->done[rs->ndone++] = (uint32_t)(p - rs->slot);
	pthread_mutex_unlock(&rs->mu);
	uv_async_send(&rs->async);
}

static void
complete(struct worker *w, struct reg_pending *p)
{
	struct reg_service *rs = w->reg;
	int err = atomic_load(&p->err);

	if (err != 0)
		state_store_error(w->env, err == -SBC_EFULL ? "queue_full" :
		    "write_failed", err == -SBC_EFULL ? "a registration not "
		    "persisted" : store_strerror(err));
	if (p->t != NULL) {
		txn_set_tu(p->t, NULL);
		if (err == 0)
			txn_server_reply(w->txl, p->t, 200, p->resp, p->len);
		else {
			/* the change is in memory but not durable: the phone
			 * must not believe it is registered for good */
			struct sip_msg m;
			struct sip_perr pe;
			size_t len;
			const uint8_t *req = txn_request(p->t, &len);

			if (req != NULL && sip_msg_parse(req, len, &w->env->lim,
			    sip_dest_reliable(txn_dest(p->t)) ?
			    SIP_PARSE_STREAM : 0, &m, w->hdrs2, SIP_MAX_HDRS,
			    &pe) > 0)
				uas_reply(w, p->t, &m, txn_dest(p->t), 503,
				    "Store Unavailable", "Retry-After: 5\r\n");
		}
	}
	p->t = NULL;
	rs->free_[rs->nfree++] = (uint32_t)(p - rs->slot);
}

static void
on_async(uv_async_t *h)
{
	struct worker *w = h->data;
	struct reg_service *rs = w->reg;
	size_t n;

	pthread_mutex_lock(&rs->mu);
	n = rs->ndone;
	memcpy(rs->batch, rs->done, n * sizeof(rs->done[0]));
	rs->ndone = 0;
	pthread_mutex_unlock(&rs->mu);
	txn_layer_set_now(w->txl, uv_now(&w->loop));
	for (size_t i = 0; i < n; i++)
		complete(w, &rs->slot[rs->batch[i]]);
	worker_tick_rearm(w);
}

static void
reg_events(struct worker *w, const struct sip_msg *m, const struct sip_dest *src,
    const char *aor, const struct reg_result *res)
{
	for (size_t i = 0; i < res->nchanges; i++) {
		const struct reg_change *c = &res->changes[i];
		struct secevent ev;

		if (!c->del && !c->fresh)
			continue;	/* a refresh is not news */
		secevent_init(&ev, c->del ? SECEV_REG_REMOVED : SECEV_REG_ADDED);
		ev.account = slice_cstr(aor);
		ev.call_id = m->call_id;
		ev.reason = c->del ? "unregistered" : "registered";
		secevent_add_str(&ev, "contact", c->b.contact);
		if (!c->del) {
			secevent_add_int(&ev, "expires",
			    (long long)(c->b.expires - c->b.updated));
			secevent_add_int(&ev, "nat", c->b.nat);
		}
		worker_event(w, &ev, src);
	}
}

/* The 200: current bindings and the registrar's clock (10.3 step 8). */
static ssize_t
build_ok(struct worker *w, const struct sip_msg *m, const struct sip_dest *src,
    const struct reg_result *res, int64_t now, uint8_t *out, size_t cap)
{
	static __thread char extra[LOC_MAX_BINDINGS * (LOC_CONTACT_MAX + 64) + 96];
	struct sip_resp_opts o;
	char tag[17];
	size_t n;
	struct tm tm;
	time_t tt = (time_t)now;

	n = registrar_contacts(res, now, extra, sizeof(extra) - 96);
	/* what this REGISTER got, for phones that read Expires rather
	 * than their Contact's expires (a NAT cap shows in both) */
	if (res->granted > 0)
		n += (size_t)snprintf(extra + n, sizeof(extra) - n,
		    "Expires: %u\r\n", res->granted);
	gmtime_r(&tt, &tm);
	n += strftime(extra + n, sizeof(extra) - n,
	    "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
	extra[n] = '\0';
	sip_echo_from_msg(m, &w->echo);
	memset(&o, 0, sizeof(o));
	sip_make_tag(&w->echo, tag);
	o.status = 200;
	o.to_tag = slice_cstr(tag);
	o.src = &src->addr;
	o.extra = extra;
	return sip_resp_build(&w->echo, &o, out, cap);
}

/*
 * Answer a REGISTER the registrar refused.  A 403 is always the contact
 * limit (registrar.c): auth.contact_limit names the account and the
 * limit that applied (its own, else registrar.max_contacts; at most
 * LOC_MAX_BINDINGS).
 */
static void
reg_fail(struct worker *w, struct txn *t, const struct sip_msg *m,
    const struct sip_dest *src, const struct account_info *acct,
    uint32_t max_contacts, const struct reg_result *res)
{
	char extra[64] = "";

	if (res->status == 423)
		snprintf(extra, sizeof(extra), "Min-Expires: %u\r\n",
		    res->min_expires);
	else if (res->status == 503)
		snprintf(extra, sizeof(extra), "Retry-After: 5\r\n");
	uas_reply(w, t, m, src, res->status, res->reason,
	    extra[0] ? extra : NULL);
	if (res->status == 403) {
		struct secevent ev;

		secevent_init(&ev, SECEV_AUTH_CONTACT_LIMIT);
		ev.reason = "too_many_contacts";
		ev.status = 403;
		ev.method = m->method_s;
		ev.call_id = m->call_id;
		ev.account = slice_cstr(acct->username);
		secevent_add_int(&ev, "max", max_contacts > 0 &&
		    max_contacts < LOC_MAX_BINDINGS ? max_contacts :
		    LOC_MAX_BINDINGS);
		worker_event(w, &ev, src);
	}
}

/* 10.3 step 3: the AOR is the account's own. */
static int
aor_matches(const struct sip_msg *m, const struct account_info *acct)
{
	struct slice u = m->to.uri.user;

	return u.len == strlen(acct->username) &&
	    memcmp(u.p, acct->username, u.len) == 0;
}

void
reg_request(struct worker *w, struct txn *t, const struct sip_msg *m,
    const struct sip_dest *src, const struct account_info *acct)
{
	struct sw_sec *s = &w->env->sec;
	struct reg_service *rs = w->reg;
	struct reg_policy pol = atomic_load_explicit(&s->rt,
	    memory_order_acquire)->regp;
	struct reg_request *rq = &w->rq;
	struct reg_result *res = &w->rs;
	struct reg_pending *p;
	char aor[LOC_AOR_MAX + 1];
	int64_t now = (int64_t)time(NULL);
	ssize_t n;
	size_t i;

	if (!aor_matches(m, acct)) {
		struct secevent ev;

		secevent_init(&ev, SECEV_AUTH_FAILED);
		ev.reason = "aor_mismatch";
		metrics_auth_failure(w->env->conf->listen[src->lsn].zone,
		    ev.reason);
		ev.status = 403;
		ev.account = slice_cstr(acct->username);
		ev.method = m->method_s;
		worker_event(w, &ev, src);
		uas_reply(w, t, m, src, 403, "Not Your Address-of-Record",
		    NULL);
		return;
	}
	if (loc_aor(slice_cstr(acct->username), slice_cstr(acct->domain),
	    aor) < 0) {
		uas_reply(w, t, m, src, 403, "Address-of-Record Too Long", NULL);
		return;
	}
	/* OPS1 lockdown: no registration, new or refresh, from an
	 * untrusted source outside bans.never until it is released */
	if (atomic_load_explicit(&s->lockdown, memory_order_relaxed) &&
	    !guard_lockdown_exempt(w, src)) {
		struct secevent ev;

		secevent_init(&ev, SECEV_ACL_DENIED);
		ev.reason = "lockdown";
		ev.status = 403;
		ev.account = slice_cstr(aor);
		ev.method = m->method_s;
		ev.call_id = m->call_id;
		worker_event(w, &ev, src);
		uas_reply(w, t, m, src, 403, "Lockdown", NULL);
		return;
	}
	if (acct->max_contacts > 0)
		pol.max_contacts = acct->max_contacts > LOC_MAX_BINDINGS ?
		    LOC_MAX_BINDINGS : acct->max_contacts;
	if (registrar_prepare(m, &w->env->lim, src, &pol, now, rq, res) < 0 ||
	    registrar_apply(s->loc, aor, rq, res) < 0 || res->status != 200) {
		reg_fail(w, t, m, src, acct, pol.max_contacts, res);
		return;
	}
	reg_events(w, m, src, aor, res);
	if (res->nchanges == 0) {	/* a query: nothing to store */
		n = build_ok(w, m, src, res, now, w->out, sizeof(w->out));
		if (n > 0)
			txn_server_reply(w->txl, t, 200, w->out, (size_t)n);
		return;
	}
	if (rs->nfree == 0) {
		w->st.shed++;
		uas_reply(w, t, m, src, 503, NULL, "Retry-After: 5\r\n");
		return;
	}
	p = &rs->slot[rs->free_[--rs->nfree]];
	n = build_ok(w, m, src, res, now, p->resp, sizeof(p->resp));
	if (n <= 0) {
		rs->free_[rs->nfree++] = (uint32_t)(p - rs->slot);
		uas_reply(w, t, m, src, 500, NULL, NULL);
		return;
	}
	p->len = (uint16_t)n;
	p->t = t;
	txn_set_tu(t, p);
	atomic_store(&p->err, 0);
	atomic_store(&p->remaining, (int)res->nchanges + 1);
	for (i = 0; i < res->nchanges; i++) {
		const struct reg_change *c = &res->changes[i];
		int r = state_reg_persist(w->env, aor, &c->b, c->del, op_done, p);

		if (r < 0) {
			int zero = 0;

			atomic_compare_exchange_strong(&p->err, &zero, r);
			/* the ones never queued will never report */
			atomic_fetch_sub(&p->remaining,
			    (int)(res->nchanges - i));
			break;
		}
	}
	/* our own token: whoever brings remaining to 0 completes */
	if (atomic_fetch_sub(&p->remaining, 1) == 1)
		complete(w, p);
}
