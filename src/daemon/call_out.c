/*
 * The messages the B2BUA writes.  Each is built from the leg's own
 * dialog state (our Via, Contact, tags, Call-ID, CSeq) plus, from the
 * message that caused it on the other leg, only the header fields
 * hide.h lets through and the body.  Nothing from the other leg's
 * addressing is ever copied.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/wbuf.h"
#include "sip/build.h"
#include "daemon/call_int.h"
#include "daemon/worker.h"

static const char *
lsn_tp(const struct sw_conf *c, uint8_t lsn)
{
	switch (c->listen[lsn].transport) {
	case CONF_TRANSPORT_TCP: return "TCP";
	case CONF_TRANSPORT_TLS: return "TLS";
	default: return "UDP";
	}
}

void
out_contact_uri(struct call_svc *s, uint8_t lsn, char *buf, size_t cap)
{
	const struct sw_conf *c = s->w->env->conf;
	char a[SW_ADDR_STRLEN];
	const char *tp = "";

	sw_addr_str(&c->listen[lsn].addr, a, sizeof(a));
	if (c->listen[lsn].transport == CONF_TRANSPORT_TCP)
		tp = ";transport=tcp";
	else if (c->listen[lsn].transport == CONF_TRANSPORT_TLS)
		tp = ";transport=tls";
	snprintf(buf, cap, "sip:%s%s", a, tp);
}

/*
 * Our Contact line towards leg l.  Over TLS the scheme is the peer's
 * own: sips only if it used sips (RFC 3261 12.1.1), as sips:ADDR
 * (transport=tls is deprecated with sips, RFC 3261 26.2.2);
 * otherwise sip:ADDR;transport=tls.  A sips Contact to a peer that
 * dialled sip: moves its dialog to a scheme it need not route (libre,
 * under baresip, fails its ACK with ENOSYS and drops the call).
 */
static void
put_contact(struct wbuf *w, struct call_svc *s, const struct leg *l)
{
	const struct sw_conf *c = s->w->env->conf;
	char uri[SW_ADDR_STRLEN + 32];

	if (c->listen[l->dest.lsn].transport == CONF_TRANSPORT_TLS &&
	    l->target != NULL &&
	    slice_starts_ci(slice_cstr(l->target), slice_cstr("sips:"))) {
		sw_addr_str(&c->listen[l->dest.lsn].addr, uri, sizeof(uri));
		wbuf_fmt(w, "Contact: <sips:%s>\r\n", uri);
		return;
	}
	out_contact_uri(s, l->dest.lsn, uri, sizeof(uri));
	wbuf_fmt(w, "Contact: <%s>\r\n", uri);
}

int
out_strip_tag(const struct sip_nameaddr *na, char **dst)
{
	struct slice raw = na->raw;
	const uint8_t *semi;

	if (!na->has_tag)
		return leg_set(dst, raw);
	/* cut ";tag=value" (and the white space before its ';') */
	semi = na->tag.p;
	while (semi > raw.p && *semi != ';')
		semi--;
	{
		uint8_t tmp[CALL_STR_MAX];
		size_t head = (size_t)(semi - raw.p);
		const uint8_t *rest = na->tag.p + na->tag.len;
		size_t tail = (size_t)(raw.p + raw.len - rest);

		if (head + tail > sizeof(tmp))
			return -SBC_ELIMIT;
		memcpy(tmp, raw.p, head);
		memcpy(tmp + head, rest, tail);
		while (head + tail > 0 && (tmp[head + tail - 1] == ' ' ||
		    tmp[head + tail - 1] == '\t'))
			tail--;
		return leg_set(dst, slice_make(tmp, head + tail));
	}
}

/* The allowed fields of src, each as its own line. */
static void
put_allowed(struct wbuf *w, const struct sip_msg *src, int trusted_src,
    const struct call_svc *s)
{
	const struct hide_list *hl = &s->hide[trusted_src ? 1 : 0];

	for (size_t i = 0; i < src->nhdrs; i++) {
		const struct sip_hdr *h = &src->hdrs[i];

		if (!hide_header_passes(hl, h))
			continue;
		if (h->id != SIP_H_OTHER)
			wbuf_str(w, sip_hdr_name((enum sip_hdr_id)h->id));
		else
			wbuf_slice(w, h->name);
		wbuf_str(w, ": ");
		wbuf_slice(w, h->value);
		wbuf_str(w, "\r\n");
	}
}

ssize_t
out_request(struct call_svc *s, struct leg *l, const char *method,
    uint32_t cseq, const char *branch, const struct sip_msg *src,
    int trusted_src, int with_contact, const char *extra, uint8_t *buf,
    size_t cap)
{
	const struct sw_conf *c = s->w->env->conf;
	char a[SW_ADDR_STRLEN];
	struct wbuf w;
	uint32_t mf = 70;

	if (src != NULL && src->is_request && (src->flags & SIP_MSG_HAS_MF) &&
	    src->max_forwards > 0 && src->max_forwards - 1 < mf)
		mf = src->max_forwards - 1;
	wbuf_init(&w, buf, cap);
	wbuf_fmt(&w, "%s %s SIP/2.0\r\n", method, l->target);
	sw_addr_str(&c->listen[l->dest.lsn].addr, a, sizeof(a));
	wbuf_fmt(&w, "Via: SIP/2.0/%s %s;branch=%s;rport\r\n",
	    lsn_tp(c, l->dest.lsn), a, branch);
	wbuf_fmt(&w, "Max-Forwards: %u\r\n", mf);
	if (l->route != NULL)
		wbuf_fmt(&w, "Route: %s\r\n", l->route);
	wbuf_fmt(&w, "From: %s;tag=%s\r\n", l->luri, l->ltag);
	if (l->rtag != NULL)
		wbuf_fmt(&w, "To: %s;tag=%s\r\n", l->ruri, l->rtag);
	else
		wbuf_fmt(&w, "To: %s\r\n", l->ruri);
	wbuf_fmt(&w, "Call-ID: %s\r\nCSeq: %u %s\r\n", l->call_id, cseq,
	    method);
	if (with_contact)
		put_contact(&w, s, l);
	if (src != NULL)
		put_allowed(&w, src, trusted_src, s);
	if (extra != NULL)
		wbuf_str(&w, extra);
	if (src != NULL && src->body.len > 0) {
		struct slice body;
		int kind = strcmp(method, "INVITE") == 0 ||
		    strcmp(method, "UPDATE") == 0 ? 1 :
		    strcmp(method, "ACK") == 0 ? 0 : -1;

		if (call_media_body(l->call, l, kind, src, &body) < 0)
			return -SBC_EPARSE;
		wbuf_fmt(&w, "Content-Length: %zu\r\n\r\n", body.len);
		wbuf_slice(&w, body);
	} else
		wbuf_str(&w, "Content-Length: 0\r\n\r\n");
	return w.overflow ? -SBC_ELIMIT : (ssize_t)w.n;
}

ssize_t
out_response(struct call_svc *s, struct leg *l, const struct sip_msg *req,
    unsigned status, struct slice reason, const struct sip_msg *resp,
    int trusted_src, int with_contact, const char *extra, uint8_t *buf,
    size_t cap)
{
	struct sip_echo echo;
	struct sip_resp_opts o;
	struct wbuf x;
	char why[128];

	sip_echo_from_msg(req, &echo);
	wbuf_init(&x, s->extra, sizeof(s->extra) - 1);
	if (with_contact)
		put_contact(&x, s, l);
	if (resp != NULL)
		put_allowed(&x, resp, trusted_src, s);
	if (extra != NULL)
		wbuf_str(&x, extra);
	if (x.overflow)
		return -SBC_ELIMIT;
	s->extra[x.n] = '\0';
	memset(&o, 0, sizeof(o));
	o.status = status;
	if (reason.len > 0) {
		slice_to_cstr(slice_sub(reason, 0, sizeof(why) - 1), why,
		    sizeof(why));
		o.reason = why;
	}
	o.to_tag = slice_cstr(l->ltag);
	o.src = &l->dest.addr;
	o.extra = s->extra;
	if (resp != NULL && resp->body.len > 0) {
		int kind = req->method == SIP_M_INVITE ||
		    req->method == SIP_M_UPDATE ? req->body.len == 0 : -1;

		if (call_media_body(l->call, l, kind, resp, &o.body) < 0) {
			/* the answer cannot be relayed: the call goes */
			if (l->call->media != NULL)
				call_media_fail(l->call, "media_error");
			return -SBC_EPARSE;
		}
	}
	return sip_resp_build(&echo, &o, buf, cap);
}

int
out_send_txn(struct call_svc *s, struct leg *l, const uint8_t *buf,
    size_t len, struct ctu *u, struct txn **ret)
{
	struct txn *t;
	int r;

	if ((r = txn_client_new(s->w->txl, &l->dest, buf, len, u, &t)) < 0)
		return r;
	if (ret != NULL)
		*ret = t;
	return 0;
}

int
out_own(struct call_svc *s, struct leg *l, const char *method,
    const char *reason_hdr, int ping)
{
	char branch[IDENT_BRANCH_LEN + 1];
	struct ctu *u;
	ssize_t n;
	int r;

	if (l->target == NULL || l->call_id == NULL)
		return -EINVAL;
	ident_branch(&s->ids, branch);
	n = out_request(s, l, method, ++l->lcseq, branch, NULL, 0, 0,
	    reason_hdr, s->scratch, sizeof(s->scratch));
	if (n < 0)
		return (int)n;
	if ((u = ctu_new(l->call, CTU_OWN, l)) == NULL)
		return -ENOMEM;
	u->ping = (uint8_t)ping;
	if ((r = out_send_txn(s, l, s->scratch, (size_t)n, u, NULL)) < 0) {
		call_unref(l->call);
		free(u);
	}
	return r;
}

int
out_cancel(struct call_svc *s, struct leg *l, int in_dialog)
{
	const struct sw_conf *c = s->w->env->conf;
	char a[SW_ADDR_STRLEN];
	struct wbuf w;
	struct ctu *u;
	int r;

	/* 9.1: same Request-URI, Via branch, Call-ID, From, To, Route and
	 * CSeq number as the INVITE (To has the tag only in a dialog) */
	wbuf_init(&w, s->scratch, sizeof(s->scratch));
	sw_addr_str(&c->listen[l->dest.lsn].addr, a, sizeof(a));
	wbuf_fmt(&w, "CANCEL %s SIP/2.0\r\nVia: SIP/2.0/%s %s;branch=%s;rport"
	    "\r\nMax-Forwards: 70\r\n", l->target, lsn_tp(c, l->dest.lsn), a,
	    l->branch);
	if (in_dialog && l->route != NULL)
		wbuf_fmt(&w, "Route: %s\r\n", l->route);
	wbuf_fmt(&w, "From: %s;tag=%s\r\nTo: %s", l->luri, l->ltag, l->ruri);
	if (in_dialog && l->rtag != NULL)
		wbuf_fmt(&w, ";tag=%s", l->rtag);
	wbuf_fmt(&w, "\r\nCall-ID: %s\r\nCSeq: %u CANCEL\r\n"
	    "Content-Length: 0\r\n\r\n", l->call_id, l->inv_cseq);
	if (w.overflow)
		return -SBC_ELIMIT;
	if ((u = ctu_new(l->call, CTU_OWN, l)) == NULL)
		return -ENOMEM;
	if ((r = out_send_txn(s, l, s->scratch, w.n, u, NULL)) < 0) {
		call_unref(l->call);
		free(u);
	}
	return r;
}

int
out_ack(struct call_svc *s, struct leg *l, uint32_t cseq,
    const struct sip_msg *src)
{
	char branch[IDENT_BRANCH_LEN + 1];
	ssize_t n;
	uint8_t *p;

	/* 13.2.2.4: the ACK for a 2xx is its own transaction (new branch)
	 * and carries the CSeq number of the INVITE */
	ident_branch(&s->ids, branch);
	n = out_request(s, l, "ACK", cseq, branch, src, 0, 0, NULL,
	    s->scratch, sizeof(s->scratch));
	if (n < 0)
		return (int)n;
	if ((p = malloc((size_t)n)) == NULL)
		return -ENOMEM;
	memcpy(p, s->scratch, (size_t)n);
	free(l->ack);
	l->ack = p;
	l->ack_len = (size_t)n;
	return worker_send(s->w, &l->dest, l->ack, l->ack_len);
}
