#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/num.h"
#include "sip/hdr.h"
#include "sip/registrar.h"

static int
fail(struct reg_result *res, unsigned status, const char *reason)
{
	res->status = status;
	res->reason = reason;
	return -1;
}

/* Is host (a sent-by or URI host) other than a's address?  A name is. */
static int
host_differs(struct slice host, const union sw_addr *a)
{
	union sw_addr h;

	return sw_addr_parse_slice(host, 0, &h) < 0 || !sw_addr_eq_ip(&h, a);
}

int
registrar_behind_nat(const struct sip_msg *m, const struct sip_limits *lim,
    const struct sip_dest *src)
{
	const struct sip_hdr *h;

	if (src->transport != SIP_TP_UDP)
		return 0;
	if (host_differs(m->via1.sent_by.host, &src->addr))
		return 1;
	for (h = sip_msg_hdr(m, SIP_H_CONTACT); h != NULL;
	    h = sip_msg_hdr_next(m, h)) {
		struct slice cur = h->value;
		struct sip_nameaddr na;

		/* a malformed list is refused by registrar_prepare() */
		while (sip_nameaddr_next(&cur, lim, 1, &na) > 0)
			if (!na.star && host_differs(na.uri.hp.host, &src->addr))
				return 1;
	}
	return 0;
}

int
registrar_contact_nat(const char *contact, const struct sip_limits *lim,
    const struct sip_dest *flow)
{
	struct sip_uri u;

	if (flow->transport != SIP_TP_UDP)
		return 0;
	return sip_uri_parse(slice_cstr(contact), lim, &u) < 0 ||
	    host_differs(u.hp.host, &flow->addr);
}

int
registrar_prepare(const struct sip_msg *m, const struct sip_limits *lim,
    const struct sip_dest *src, const struct reg_policy *p, int64_t now,
    struct reg_request *req, struct reg_result *res)
{
	const struct sip_hdr *h;
	uint32_t hdr_exp = (m->flags & SIP_MSG_HAS_EXPIRES) ? m->expires :
	    p->default_expires;
	uint32_t min_exp = p->min_expires, cap = p->max_expires;

	memset(req, 0, sizeof(*req));
	memset(res, 0, sizeof(*res));
	res->status = 200;
	req->nat = res->nat = (uint8_t)registrar_behind_nat(m, lim, src);
	/* behind a NAT the binding lives only as long as the phone keeps
	 * the mapping open by registering again */
	if (req->nat && p->nat_expires > 0) {
		if (p->nat_expires < cap)
			cap = p->nat_expires;
		if (p->nat_expires < min_exp)
			min_exp = p->nat_expires;
	}
	req->call_id = m->call_id;
	req->cseq = m->cseq;
	req->flow = *src;
	req->now = now;
	req->max_contacts = p->max_contacts;
	if ((h = sip_msg_hdr(m, SIP_H_USER_AGENT)) != NULL)
		req->user_agent = h->value;
	if (m->call_id.len > LOC_CALLID_MAX)
		return fail(res, 400, "Call-ID Too Long");

	for (h = sip_msg_hdr(m, SIP_H_CONTACT); h != NULL;
	    h = sip_msg_hdr_next(m, h)) {
		struct slice cur = h->value;
		struct sip_nameaddr na;
		int r;

		while ((r = sip_nameaddr_next(&cur, lim, 1, &na)) > 0) {
			struct reg_contact *c;
			struct slice v;
			uint32_t e;

			if (na.star) {
				/* 10.3 step 6: "*" only alone, with Expires: 0 */
				if (!(m->flags & SIP_MSG_HAS_EXPIRES) ||
				    m->expires != 0 || req->ncontacts > 0 ||
				    m->count[SIP_H_CONTACT] > 1)
					return fail(res, 400,
					    "Bad Contact Wildcard");
				req->star = 1;
				continue;
			}
			if (req->star)
				return fail(res, 400, "Bad Contact Wildcard");
			if (na.uri.raw.len > LOC_CONTACT_MAX)
				return fail(res, 400, "Contact Too Long");
			if (req->ncontacts >= LOC_MAX_BINDINGS)
				return fail(res, 403, "Too Many Contacts");
			e = na.has_expires ? na.expires : hdr_exp;
			if (e != 0 && e < min_exp) {
				res->min_expires = min_exp;
				return fail(res, 423, NULL);
			}
			if (e > cap)
				e = cap;
			if (e != 0 && (res->granted == 0 || e < res->granted))
				res->granted = e;
			c = &req->c[req->ncontacts++];
			c->uri = na.uri.raw;
			c->expires = e;
			c->q = na.q;
			if (sip_param_find(na.params, "+sip.instance", &v) > 0)
				c->instance = v;
			if (sip_param_find(na.params, "reg-id", &v) > 0 &&
			    parse_u32(v, UINT32_MAX, &c->reg_id) < 0)
				return fail(res, 400, "Bad Contact");
		}
		if (r < 0)
			return fail(res, 400, "Bad Contact");
	}
	return 0;
}

static void
copy_slice(char *dst, size_t cap, struct slice s)
{
	size_t n = s.len < cap - 1 ? s.len : cap - 1;

	if (n > 0)
		memcpy(dst, s.p, n);
	dst[n] = '\0';
}

static int
same_uri(const struct binding *b, struct slice uri)
{
	return strlen(b->contact) == uri.len &&
	    memcmp(b->contact, uri.p, uri.len) == 0;
}

struct apply_arg {
	const struct reg_request	*req;
	struct reg_result		*res;
};

static void
change(struct reg_result *res, int del, int fresh, const struct binding *b)
{
	if (res->nchanges < sizeof(res->changes) / sizeof(res->changes[0])) {
		res->changes[res->nchanges].del = (uint8_t)del;
		res->changes[res->nchanges].fresh = (uint8_t)fresh;
		res->changes[res->nchanges++].b = *b;
	}
}

/* Runs under the AOR's lock: decide on a copy, commit only on success. */
static int
apply_fn(struct binding *tbl, size_t *n, void *arg)
{
	const struct reg_request *req = ((struct apply_arg *)arg)->req;
	struct reg_result *res = ((struct apply_arg *)arg)->res;
	static __thread struct binding work[LOC_MAX_BINDINGS];
	size_t k = 0;

	/* drop what has expired meanwhile; not a change worth storing
	 * twice, the expiry sweep deletes those rows */
	for (size_t i = 0; i < *n; i++)
		if (tbl[i].expires > req->now)
			work[k++] = tbl[i];

	if (req->star) {
		for (size_t i = 0; i < k; i++) {
			/* same Call-ID with an older CSeq: out of order */
			if (strlen(work[i].call_id) == req->call_id.len &&
			    memcmp(work[i].call_id, req->call_id.p,
			    req->call_id.len) == 0 && req->cseq <= work[i].cseq)
				return fail(res, 400, "CSeq Out Of Order");
		}
		for (size_t i = 0; i < k; i++)
			change(res, 1, 0, &work[i]);
		k = 0;
	}
	for (size_t c = 0; c < req->ncontacts; c++) {
		const struct reg_contact *rc = &req->c[c];
		size_t i;
		int fresh;

		for (i = 0; i < k; i++)
			if (same_uri(&work[i], rc->uri))
				break;
		if (i < k && strlen(work[i].call_id) == req->call_id.len &&
		    memcmp(work[i].call_id, req->call_id.p,
		    req->call_id.len) == 0 && req->cseq <= work[i].cseq) {
			res->nchanges = 0;
			return fail(res, 400, "CSeq Out Of Order");
		}
		if (rc->expires == 0) {
			if (i < k) {
				change(res, 1, 0, &work[i]);
				work[i] = work[--k];
			}
			continue;
		}
		fresh = i == k;
		if (i == k) {
			if (k >= LOC_MAX_BINDINGS) {
				res->nchanges = 0;
				return fail(res, 403, "Too Many Contacts");
			}
			memset(&work[k], 0, sizeof(work[k]));
			copy_slice(work[k].contact, sizeof(work[k].contact),
			    rc->uri);
			k++;
		}
		copy_slice(work[i].call_id, sizeof(work[i].call_id),
		    req->call_id);
		work[i].cseq = req->cseq;
		work[i].expires = req->now + rc->expires;
		work[i].updated = req->now;
		copy_slice(work[i].user_agent, sizeof(work[i].user_agent),
		    req->user_agent);
		copy_slice(work[i].instance, sizeof(work[i].instance),
		    rc->instance);
		copy_slice(work[i].q, sizeof(work[i].q), rc->q);
		work[i].reg_id = rc->reg_id;
		work[i].flow = req->flow;
		work[i].nat = req->nat;
		change(res, 0, fresh, &work[i]);
	}
	if (k > req->max_contacts) {
		res->nchanges = 0;
		return fail(res, 403, "Too Many Contacts");
	}
	memcpy(tbl, work, k * sizeof(*work));
	*n = k;
	memcpy(res->bindings, work, k * sizeof(*work));
	res->nbindings = k;
	return 0;
}

int
registrar_apply(struct loc_table *t, const char *aor,
    const struct reg_request *req, struct reg_result *res)
{
	struct apply_arg a = { req, res };
	int r;

	res->status = 200;
	res->nchanges = 0;
	r = loc_update(t, aor, apply_fn, &a);
	if (r < -1) {		/* the table itself refused */
		res->status = 503;
		res->reason = r == -SBC_EFULL ? "Registrations Full" : NULL;
		res->nchanges = 0;
	}
	return r < 0 ? -1 : 0;
}

size_t
registrar_contacts(const struct reg_result *res, int64_t now, char *buf,
    size_t cap)
{
	size_t n = 0;

	if (cap == 0)
		return 0;
	buf[0] = '\0';
	for (size_t i = 0; i < res->nbindings; i++) {
		const struct binding *b = &res->bindings[i];
		int64_t left = b->expires - now;
		int w = snprintf(buf + n, cap - n, "Contact: <%s>;expires=%lld%s%s"
		    "\r\n", b->contact, (long long)(left > 0 ? left : 0),
		    b->q[0] ? ";q=" : "", b->q);

		if (w < 0 || (size_t)w >= cap - n) {
			buf[n] = '\0';	/* whole lines only */
			break;
		}
		n += (size_t)w;
	}
	return n;
}
