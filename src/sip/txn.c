/*
 * Transaction state machines and their table.  See txn.h for the
 * contract.  One layer per worker: no locks.  The key is RFC 3261
 * 17.2.3 (branch + sent-by + method class) for z9hG4bK branches, and
 * the RFC 2543 fallback (Call-ID, CSeq number, From tag, Request-URI,
 * sent-by) otherwise.  The key bytes live in the same allocation as
 * the txn; the kept message has its own buffer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "sip/hdr.h"
#include "sip/txn.h"

#define TXN_KEY_MAX	(SIP_MAX_BRANCH + 300 + SIP_MAX_CALLID + SIP_MAX_URI)

struct txn {
	struct txn		*hnext;
	struct txn_layer	*L;
	uint64_t		 hash;
	uint8_t			 kind;
	uint8_t			 state;
	uint8_t			 oneshot;	/* no Timer J: see txn_set_oneshot */
	uint16_t		 last_status;
	uint32_t		 interval;	/* current retransmit interval */
	struct sip_dest		 dest;
	struct timer		 t_retx;	/* A, E, G */
	struct timer		 t_end;		/* B, D, F, H, I, J, K, L, M */
	void			*tu;
	uint8_t			*msg;		/* server: response; client: request */
	size_t			 msg_len;
	uint8_t			*ack;		/* client INVITE: ACK for non-2xx */
	size_t			 ack_len;
	uint8_t			*req;		/* server INVITE, REGISTER: request */
	size_t			 req_len;
	size_t			 key_len;
	uint8_t			 key[];
};

struct txn_layer {
	const struct txn_ops	*ops;
	void			*ctx;
	struct sip_timers	 t;
	struct timer_heap	*timers;
	uint64_t		 now;
	size_t			 count;
	size_t			 max;
	size_t			 mask;
	struct txn		**buckets;
	struct txn_stats	 stats;
};

static const struct sip_limits own_limits = {
	.max_msg = SIP_MAX_MSG_TCP,
	.max_msg_stream = SIP_MAX_MSG_TCP,
	.max_hdrs = SIP_MAX_HDRS,
	.max_line = SIP_MAX_LINE,
	.max_uri = SIP_MAX_URI,
	.max_via = SIP_MAX_VIA,
	.max_body = SIP_MAX_MSG_TCP,
};

int
txn_layer_new(const struct txn_ops *ops, void *ctx, const struct sip_timers *t,
    struct timer_heap *timers, size_t max_txns, struct txn_layer **ret)
{
	struct txn_layer *L;
	size_t nb = 64;

	while (nb < max_txns && nb < ((size_t)1 << 24))
		nb <<= 1;
	if ((L = calloc(1, sizeof(*L))) == NULL)
		return -ENOMEM;
	if ((L->buckets = calloc(nb, sizeof(*L->buckets))) == NULL) {
		free(L);
		return -ENOMEM;
	}
	L->ops = ops;
	L->ctx = ctx;
	L->t = *t;
	L->timers = timers;
	L->max = max_txns;
	L->mask = nb - 1;
	*ret = L;
	return 0;
}

static void
txn_release(struct txn *t)
{
	timer_cancel(t->L->timers, &t->t_retx);
	timer_cancel(t->L->timers, &t->t_end);
	free(t->msg);
	free(t->ack);
	free(t->req);
	free(t);
}

void
txn_layer_free(struct txn_layer *L)
{
	if (L == NULL)
		return;
	for (size_t i = 0; i <= L->mask; i++) {
		struct txn *t = L->buckets[i], *next;

		for (; t != NULL; t = next) {
			next = t->hnext;
			/* the TU releases what it hung on the txn */
			if (L->ops->terminated != NULL)
				L->ops->terminated(L->ctx, t);
			txn_release(t);
		}
	}
	free(L->buckets);
	free(L);
}

void
txn_layer_set_now(struct txn_layer *L, uint64_t now_ms)
{
	L->now = now_ms;
}

void
txn_layer_set_timers(struct txn_layer *L, const struct sip_timers *t)
{
	L->t = *t;
}

size_t
txn_layer_count(const struct txn_layer *L)
{
	return L->count;
}

const struct txn_stats *
txn_layer_stats(const struct txn_layer *L)
{
	return &L->stats;
}

enum txn_kind txn_kind(const struct txn *t) { return (enum txn_kind)t->kind; }
enum txn_state txn_state(const struct txn *t) { return (enum txn_state)t->state; }
unsigned txn_last_status(const struct txn *t) { return t->last_status; }
void *txn_tu(const struct txn *t) { return t->tu; }
void txn_set_tu(struct txn *t, void *tu) { t->tu = tu; }
const struct sip_dest *txn_dest(const struct txn *t) { return &t->dest; }

const uint8_t *
txn_request(const struct txn *t, size_t *ret_len)
{
	*ret_len = t->req_len;
	return t->req;
}

const char *
txn_state_name(enum txn_state s)
{
	static const char *const names[TXN_S_MAX] = {
		[TXN_S_TRYING] = "trying", [TXN_S_CALLING] = "calling",
		[TXN_S_PROCEEDING] = "proceeding",
		[TXN_S_COMPLETED] = "completed",
		[TXN_S_CONFIRMED] = "confirmed",
		[TXN_S_ACCEPTED] = "accepted",
		[TXN_S_TERMINATED] = "terminated",
	};

	return (unsigned)s < TXN_S_MAX && names[s] ? names[s] : "?";
}

/* ---- keys ---- */

struct keybuf {
	uint8_t	b[TXN_KEY_MAX];
	size_t	n;
	int	overflow;
};

static void
kb_put(struct keybuf *k, struct slice s, int lower)
{
	if (k->n + s.len + 1 > sizeof(k->b)) {
		k->overflow = 1;
		return;
	}
	for (size_t i = 0; i < s.len; i++)
		k->b[k->n++] = lower ? ctype_lower(s.p[i]) : s.p[i];
	k->b[k->n++] = 0;	/* separator: fields cannot run together */
}

static void
kb_put_u32(struct keybuf *k, uint32_t v)
{
	char tmp[16];
	int n = snprintf(tmp, sizeof(tmp), "%u", v);

	kb_put(k, slice_make(tmp, (size_t)n), 0);
}

/* method class: ACK matches INVITE (17.2.3), everything else itself */
static struct slice
method_class(const struct sip_msg *m, int client)
{
	struct slice meth = client || !m->is_request ? m->cseq_method_s :
	    m->method_s;

	if (slice_eq(meth, SLICE_LIT("ACK")))
		return SLICE_LIT("INVITE");
	return meth;
}

static int
server_key(const struct sip_msg *m, struct slice meth, struct keybuf *k)
{
	const struct sip_via *v = &m->via1;

	k->n = 0;
	k->overflow = 0;
	if (!(m->flags & SIP_MSG_NO_COOKIE)) {
		kb_put(k, SLICE_LIT("3261"), 0);
		kb_put(k, v->branch, 0);
	} else {
		kb_put(k, SLICE_LIT("2543"), 0);
		kb_put(k, m->call_id, 0);
		kb_put_u32(k, m->cseq);
		kb_put(k, m->from.tag, 0);
		kb_put(k, m->ruri.raw, 0);
	}
	kb_put(k, v->sent_by.host, 1);
	kb_put_u32(k, v->sent_by.port);
	kb_put(k, meth, 0);
	return k->overflow ? -SBC_ELIMIT : 0;
}

static int
client_key(struct slice branch, struct slice meth, struct keybuf *k)
{
	k->n = 0;
	k->overflow = 0;
	kb_put(k, SLICE_LIT("client"), 0);
	kb_put(k, branch, 0);
	kb_put(k, meth, 0);
	return k->overflow ? -SBC_ELIMIT : 0;
}

static struct txn *
lookup(struct txn_layer *L, const struct keybuf *k, uint64_t h)
{
	struct txn *t;

	for (t = L->buckets[h & L->mask]; t != NULL; t = t->hnext)
		if (t->hash == h && t->key_len == k->n &&
		    memcmp(t->key, k->b, k->n) == 0)
			return t;
	return NULL;
}

static struct txn *
txn_alloc(struct txn_layer *L, const struct keybuf *k, uint64_t h,
    enum txn_kind kind, const struct sip_dest *d);

static void
unlink_txn(struct txn_layer *L, struct txn *t)
{
	struct txn **pp = &L->buckets[t->hash & L->mask];

	for (; *pp != NULL; pp = &(*pp)->hnext)
		if (*pp == t) {
			*pp = t->hnext;
			L->count--;
			return;
		}
}

static void
txn_end(struct txn *t)
{
	struct txn_layer *L = t->L;

	t->state = TXN_S_TERMINATED;
	unlink_txn(L, t);
	if (L->ops->terminated != NULL)
		L->ops->terminated(L->ctx, t);
	txn_release(t);
}

static int
txn_send(struct txn *t, const uint8_t *buf, size_t len)
{
	return t->L->ops->send(t->L->ctx, &t->dest, buf, len);
}

static void
arm(struct txn *t, struct timer *tm, uint64_t after)
{
	/* The heap is sized for two timers per transaction, so this only
	 * fails on a broken invariant; end the txn rather than leak it. */
	if (timer_arm(t->L->timers, tm, t->L->now + after) < 0)
		t->state = TXN_S_TERMINATED;
}

static int
keep(uint8_t **dst, size_t *dst_len, const uint8_t *buf, size_t len)
{
	uint8_t *p = realloc(*dst, len ? len : 1);

	if (p == NULL)
		return -ENOMEM;
	memcpy(p, buf, len);
	*dst = p;
	*dst_len = len;
	return 0;
}

/* ---- timers ---- */

#define TXN_OF(tm, field) \
	((struct txn *)((char *)(tm) - offsetof(struct txn, field)))

static void
on_retx(struct timer *tm, uint64_t now)
{
	struct txn *t = TXN_OF(tm, t_retx);
	struct txn_layer *L = t->L;
	const uint8_t *b = t->msg;
	size_t n = t->msg_len;

	(void)now;
	if (b == NULL)
		return;
	L->stats.retransmits++;
	if (txn_send(t, b, n) < 0) {
		if (t->kind == TXN_CLIENT_INVITE ||
		    t->kind == TXN_CLIENT_NONINVITE) {
			L->stats.timeouts++;
			if (L->ops->timeout != NULL)
				L->ops->timeout(L->ctx, t);
		}
		txn_end(t);
		return;
	}
	switch (t->kind) {
	case TXN_CLIENT_INVITE:		/* Timer A: doubles, no cap */
		t->interval *= 2;
		break;
	case TXN_CLIENT_NONINVITE:	/* Timer E: doubles up to T2 */
		t->interval = t->state == TXN_S_PROCEEDING ? L->t.t2 :
		    (t->interval * 2 < L->t.t2 ? t->interval * 2 : L->t.t2);
		break;
	case TXN_SERVER_INVITE:		/* Timer G: doubles up to T2 */
		t->interval = t->interval * 2 < L->t.t2 ? t->interval * 2 :
		    L->t.t2;
		break;
	default:
		return;
	}
	arm(t, &t->t_retx, t->interval);
}

static void
on_end(struct timer *tm, uint64_t now)
{
	struct txn *t = TXN_OF(tm, t_end);
	struct txn_layer *L = t->L;

	(void)now;
	/* B and F (client, no final response) and H (server, no ACK) are
	 * failures the TU must hear about; D, I, J, K, L, M are quiet. */
	if ((t->kind == TXN_CLIENT_INVITE && t->state == TXN_S_CALLING) ||
	    (t->kind == TXN_CLIENT_NONINVITE &&
	    (t->state == TXN_S_TRYING || t->state == TXN_S_PROCEEDING)) ||
	    (t->kind == TXN_SERVER_INVITE && t->state == TXN_S_COMPLETED)) {
		L->stats.timeouts++;
		if (L->ops->timeout != NULL)
			L->ops->timeout(L->ctx, t);
	}
	txn_end(t);
}

static struct txn *
txn_alloc(struct txn_layer *L, const struct keybuf *k, uint64_t h,
    enum txn_kind kind, const struct sip_dest *d)
{
	struct txn *t;

	if (L->count >= L->max) {
		L->stats.full++;
		return NULL;
	}
	if ((t = calloc(1, sizeof(*t) + k->n)) == NULL)
		return NULL;
	t->L = L;
	t->hash = h;
	t->kind = (uint8_t)kind;
	t->dest = *d;
	t->key_len = k->n;
	memcpy(t->key, k->b, k->n);
	timer_init(&t->t_retx, on_retx);
	timer_init(&t->t_end, on_end);
	t->hnext = L->buckets[h & L->mask];
	L->buckets[h & L->mask] = t;
	L->count++;
	L->stats.created[kind]++;
	return t;
}

/* ---- server ---- */

enum txn_match
txn_server_match(struct txn_layer *L, const struct sip_msg *req,
    const struct sip_dest *src, struct txn **ret_txn)
{
	struct keybuf k;
	struct txn *t;

	if (server_key(req, method_class(req, 0), &k) < 0)
		return req->method == SIP_M_ACK ? TXN_M_ACK_STRAY : TXN_M_NEW;
	t = lookup(L, &k, sw_hash(k.b, k.n));
	if (req->method == SIP_M_ACK) {
		if (t == NULL || t->kind != TXN_SERVER_INVITE) {
			L->stats.stray_acks++;
			return TXN_M_ACK_STRAY;
		}
		*ret_txn = t;
		switch (t->state) {
		case TXN_S_COMPLETED:
			/* 17.2.1: ACK for a non-2xx final; stop G and H */
			timer_cancel(L->timers, &t->t_retx);
			t->state = TXN_S_CONFIRMED;
			if (sip_dest_reliable(&t->dest))
				txn_end(t);
			else
				arm(t, &t->t_end, L->t.t4);	/* Timer I */
			*ret_txn = NULL;
			return TXN_M_ABSORBED;
		case TXN_S_ACCEPTED:
			return TXN_M_ACK_2XX;
		default:
			*ret_txn = NULL;
			return TXN_M_ABSORBED;
		}
	}
	if (t == NULL)
		return TXN_M_NEW;
	/* A retransmitted request: answer it with what we last sent.  In
	 * Trying nothing was sent yet; in Accepted the TU resends its 2xx
	 * (RFC 6026), so the retransmission is only absorbed. */
	L->stats.absorbed++;
	if (t->msg != NULL && (t->state == TXN_S_PROCEEDING ||
	    t->state == TXN_S_COMPLETED))
		txn_send(t, t->msg, t->msg_len);
	(void)src;
	*ret_txn = t;
	return TXN_M_ABSORBED;
}

int
txn_server_new(struct txn_layer *L, const struct sip_msg *req,
    const struct sip_dest *src, struct txn **ret_txn)
{
	struct keybuf k;
	struct txn *t;
	uint64_t h;

	if (server_key(req, method_class(req, 0), &k) < 0)
		return -SBC_ELIMIT;
	h = sw_hash(k.b, k.n);
	t = txn_alloc(L, &k, h, req->method == SIP_M_INVITE ?
	    TXN_SERVER_INVITE : TXN_SERVER_NONINVITE, src);
	if (t == NULL)
		return L->count >= L->max ? -SBC_EFULL : -ENOMEM;
	t->state = t->kind == TXN_SERVER_INVITE ? TXN_S_PROCEEDING :
	    TXN_S_TRYING;
	/* A CANCEL's 487 must echo the INVITE (all its Vias), so keep it;
	 * a REGISTER too, for the 503 when the store fails its binding
	 * (its transaction ends with its answer: a short keep). */
	if ((t->kind == TXN_SERVER_INVITE || req->method == SIP_M_REGISTER) &&
	    keep(&t->req, &t->req_len, req->buf, req->len) < 0) {
		unlink_txn(L, t);
		txn_release(t);
		return -ENOMEM;
	}
	*ret_txn = t;
	return 0;
}

int
txn_server_reply(struct txn_layer *L, struct txn *t, unsigned status,
    const uint8_t *buf, size_t len)
{
	int reliable = sip_dest_reliable(&t->dest), r;

	if (t->state == TXN_S_COMPLETED || t->state == TXN_S_CONFIRMED ||
	    t->state == TXN_S_TERMINATED ||
	    (t->state == TXN_S_ACCEPTED && status >= 300))
		return -EINVAL;		/* a final was already sent */
	if ((r = keep(&t->msg, &t->msg_len, buf, len)) < 0)
		return r;
	t->last_status = (uint16_t)status;
	r = txn_send(t, buf, len);
	if (status < 200) {
		t->state = TXN_S_PROCEEDING;
		if (r < 0)
			txn_end(t);
		return r;
	}
	if (t->kind == TXN_SERVER_INVITE) {
		if (status < 300) {
			/* RFC 6026: Accepted absorbs INVITE retransmissions
			 * (the TU resends the 2xx) until Timer L. */
			t->state = TXN_S_ACCEPTED;
			arm(t, &t->t_end, 64 * (uint64_t)L->t.t1);
		} else {
			t->state = TXN_S_COMPLETED;
			if (!reliable) {
				t->interval = L->t.t1;
				arm(t, &t->t_retx, t->interval);  /* G */
			}
			arm(t, &t->t_end, 64 * (uint64_t)L->t.t1); /* H */
		}
	} else {
		t->state = TXN_S_COMPLETED;
		if (reliable || t->oneshot) {
			txn_end(t);			/* J = 0 */
			return r;
		}
		arm(t, &t->t_end, 64 * (uint64_t)L->t.t1);	/* J */
	}
	if (t->state == TXN_S_TERMINATED || r < 0)
		txn_end(t);
	return r;
}

void
txn_set_oneshot(struct txn *t)
{
	if (t->kind == TXN_SERVER_NONINVITE)
		t->oneshot = 1;
}

struct txn *
txn_server_find_invite(struct txn_layer *L, const struct sip_msg *cancel)
{
	struct keybuf k;
	struct txn *t;

	if (server_key(cancel, SLICE_LIT("INVITE"), &k) < 0)
		return NULL;
	t = lookup(L, &k, sw_hash(k.b, k.n));
	return t != NULL && t->kind == TXN_SERVER_INVITE ? t : NULL;
}

/* ---- client ---- */

/* ACK for a non-2xx final (17.1.1.3): Request-URI, top Via, Route,
 * From, Call-ID and CSeq number of the INVITE, To of the response. */
static int
build_ack(struct txn *t, const struct sip_msg *resp)
{
	static __thread struct sip_hdr hdrs[SIP_MAX_HDRS];
	struct sip_msg req;
	struct sip_perr err;
	const struct sip_hdr *h, *to;
	char *b;
	size_t cap = t->msg_len + 256, n = 0;
	int w;

	if (sip_msg_parse(t->msg, t->msg_len, &own_limits, 0, &req, hdrs,
	    SIP_MAX_HDRS, &err) <= 0)
		return -EINVAL;
	if ((b = malloc(cap)) == NULL)
		return -ENOMEM;
	to = sip_msg_hdr(resp, SIP_H_TO);
	w = snprintf(b, cap, "ACK " SLICE_FMT " SIP/2.0\r\nVia: " SLICE_FMT
	    "\r\n", SLICE_ARG(req.ruri.raw), SLICE_ARG(req.via1.raw));
	if (w < 0 || (size_t)w >= cap)
		goto fail;
	n = (size_t)w;
	for (h = sip_msg_hdr(&req, SIP_H_ROUTE); h != NULL;
	    h = sip_msg_hdr_next(&req, h)) {
		w = snprintf(b + n, cap - n, "Route: " SLICE_FMT "\r\n",
		    SLICE_ARG(h->value));
		if (w < 0 || (size_t)w >= cap - n)
			goto fail;
		n += (size_t)w;
	}
	w = snprintf(b + n, cap - n, "From: " SLICE_FMT "\r\nTo: " SLICE_FMT
	    "\r\nCall-ID: " SLICE_FMT "\r\nCSeq: %u ACK\r\n"
	    "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
	    SLICE_ARG(sip_msg_hdr(&req, SIP_H_FROM)->value),
	    SLICE_ARG(to->value), SLICE_ARG(req.call_id), req.cseq);
	if (w < 0 || (size_t)w >= cap - n)
		goto fail;
	free(t->ack);
	t->ack = (uint8_t *)b;
	t->ack_len = n + (size_t)w;
	return 0;
fail:
	free(b);
	return -ENOSPC;
}

int
txn_client_new(struct txn_layer *L, const struct sip_dest *dst,
    const uint8_t *req, size_t len, void *tu, struct txn **ret_txn)
{
	static __thread struct sip_hdr hdrs[SIP_MAX_HDRS];
	struct sip_msg m;
	struct sip_perr err;
	struct keybuf k;
	struct txn *t;
	int r;

	if (sip_msg_parse(req, len, &own_limits, 0, &m, hdrs, SIP_MAX_HDRS,
	    &err) <= 0 || !m.is_request || m.method == SIP_M_ACK ||
	    (m.flags & SIP_MSG_NO_COOKIE))
		return -EINVAL;
	if (client_key(m.via1.branch, method_class(&m, 1), &k) < 0)
		return -SBC_ELIMIT;
	t = txn_alloc(L, &k, sw_hash(k.b, k.n), m.method == SIP_M_INVITE ?
	    TXN_CLIENT_INVITE : TXN_CLIENT_NONINVITE, dst);
	if (t == NULL)
		return L->count >= L->max ? -SBC_EFULL : -ENOMEM;
	t->tu = tu;
	if ((r = keep(&t->msg, &t->msg_len, req, len)) < 0) {
		unlink_txn(L, t);
		txn_release(t);
		return r;
	}
	t->state = t->kind == TXN_CLIENT_INVITE ? TXN_S_CALLING : TXN_S_TRYING;
	if ((r = txn_send(t, req, len)) < 0) {
		unlink_txn(L, t);
		txn_release(t);
		return r;
	}
	if (!sip_dest_reliable(dst)) {
		t->interval = L->t.t1;
		arm(t, &t->t_retx, t->interval);		/* A or E */
	}
	arm(t, &t->t_end, 64 * (uint64_t)L->t.t1);		/* B or F */
	*ret_txn = t;
	return 0;
}

int
txn_client_response(struct txn_layer *L, const struct sip_msg *resp,
    const struct sip_dest *src)
{
	struct keybuf k;
	struct txn *t;
	unsigned st = resp->status;

	(void)src;
	if (client_key(resp->via1.branch, method_class(resp, 1), &k) < 0 ||
	    (t = lookup(L, &k, sw_hash(k.b, k.n))) == NULL) {
		L->stats.stray_responses++;
		return 0;
	}
	if (t->kind == TXN_CLIENT_INVITE) {
		switch (t->state) {
		case TXN_S_CALLING:
		case TXN_S_PROCEEDING:
			timer_cancel(L->timers, &t->t_retx);
			if (st < 200) {
				t->state = TXN_S_PROCEEDING;
				timer_cancel(L->timers, &t->t_end);
			} else if (st < 300) {
				t->state = TXN_S_ACCEPTED;
				arm(t, &t->t_end, 64 * (uint64_t)L->t.t1); /* M */
			} else {
				t->state = TXN_S_COMPLETED;
				if (build_ack(t, resp) == 0)
					txn_send(t, t->ack, t->ack_len);
				if (sip_dest_reliable(&t->dest))
					timer_cancel(L->timers, &t->t_end);
				else
					arm(t, &t->t_end, 32000);	/* D */
			}
			t->last_status = (uint16_t)st;
			L->ops->response(L->ctx, t, resp);
			if (t->state == TXN_S_COMPLETED &&
			    sip_dest_reliable(&t->dest))
				txn_end(t);
			return 1;
		case TXN_S_ACCEPTED:
			if (st >= 200 && st < 300)	/* 2xx retransmission */
				L->ops->response(L->ctx, t, resp);
			return 1;
		case TXN_S_COMPLETED:
			if (st >= 300 && t->ack != NULL)  /* our ACK was lost */
				txn_send(t, t->ack, t->ack_len);
			return 1;
		default:
			return 1;
		}
	}
	/* non-INVITE */
	if (t->state != TXN_S_TRYING && t->state != TXN_S_PROCEEDING)
		return 1;		/* retransmitted final: absorb */
	t->last_status = (uint16_t)st;
	if (st < 200) {
		t->state = TXN_S_PROCEEDING;
		L->ops->response(L->ctx, t, resp);
		return 1;
	}
	t->state = TXN_S_COMPLETED;
	timer_cancel(L->timers, &t->t_retx);
	L->ops->response(L->ctx, t, resp);
	if (sip_dest_reliable(&t->dest))
		txn_end(t);
	else
		arm(t, &t->t_end, L->t.t4);			/* K */
	return 1;
}
