/*
 * The local UAS: what sipwall answers itself, before routing exists.
 * OPTIONS addressed to us gets 200 (trunks and monitors ping with it);
 * CANCEL is matched to its INVITE (RFC 3261 9.2); in-dialog requests
 * get 481 since we hold no dialogs; anything else gets the final
 * response that says why it cannot be served.  No answer names our
 * product or version.
 */
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "sip/hdr.h"
#include "daemon/authn.h"
#include "daemon/call.h"
#include "daemon/guard.h"
#include "daemon/register.h"
#include "daemon/worker.h"

#define UAS_ALLOW	"Allow: INVITE, ACK, CANCEL, BYE, OPTIONS\r\n"

void
uas_reply_stateless(struct worker *w, const struct sip_echo *e,
    const struct sip_dest *src, unsigned status, const char *reason,
    const char *extra)
{
	struct sip_resp_opts o;
	char tag[17];
	ssize_t n;

	memset(&o, 0, sizeof(o));
	sip_make_tag(e, tag);
	o.status = status;
	o.reason = reason;
	o.to_tag = slice_cstr(tag);
	o.src = &src->addr;
	o.extra = extra;
	if ((n = sip_resp_build(e, &o, w->out, sizeof(w->out))) < 0)
		return;
	if (worker_send(w, src, w->out, (size_t)n) == 0)
		w->st.replied++;
}

int
uas_reply(struct worker *w, struct txn *t, const struct sip_msg *m,
    const struct sip_dest *src, unsigned status, const char *reason,
    const char *extra)
{
	struct sip_resp_opts o;
	char tag[17];
	ssize_t n;

	sip_echo_from_msg(m, &w->echo);
	memset(&o, 0, sizeof(o));
	sip_make_tag(&w->echo, tag);
	o.status = status;
	o.reason = reason;
	o.to_tag = slice_cstr(tag);
	o.src = &src->addr;
	o.extra = extra;
	if ((n = sip_resp_build(&w->echo, &o, w->out, sizeof(w->out))) < 0)
		return (int)n;
	return txn_server_reply(w->txl, t, status, w->out, (size_t)n);
}

void
uas_reply_limit(struct worker *w, struct txn *t, const struct sip_msg *m,
    const struct sip_dest *src)
{
	char extra[40];

	snprintf(extra, sizeof(extra), "Retry-After: %u\r\n",
	    guard_zone(w, src)->retry_after_s);
	if (t != NULL)
		uas_reply(w, t, m, src, 503, NULL, extra);
	else {
		sip_echo_from_msg(m, &w->echo);
		uas_reply_stateless(w, &w->echo, src, 503, NULL, extra);
	}
}

/* Is the Request-URI one of our own addresses? */
static int
ruri_is_local(struct worker *w, const struct sip_msg *m)
{
	const struct sw_conf *c = w->env->conf;
	const struct sip_uri *u = &m->ruri;
	union sw_addr a;

	if (u->scheme != SIP_URI_SIP && u->scheme != SIP_URI_SIPS)
		return 0;
	if (u->hp.type != SIP_HOST_IPV4 && u->hp.type != SIP_HOST_IPV6)
		return 0;
	if (sw_addr_parse_slice(u->hp.host, 0, &a) < 0)
		return 0;
	for (size_t i = 0; i < c->nlisten; i++) {
		const union sw_addr *l = &c->listen[i].addr;
		uint16_t port = u->hp.port ? u->hp.port :
		    (u->scheme == SIP_URI_SIPS ? 5061 : 5060);

		if (sw_addr_family(l) != sw_addr_family(&a) ||
		    sw_addr_port(l) != port)
			continue;
		if (sw_addr_eq_ip(l, &a))
			return 1;
		/* a wildcard listener answers for every local address */
		if ((sw_addr_family(l) == AF_INET &&
		    l->sin.sin_addr.s_addr == 0) ||
		    (sw_addr_family(l) == AF_INET6 &&
		    IN6_IS_ADDR_UNSPECIFIED(&l->sin6.sin6_addr)))
			return 1;
	}
	return 0;
}

/*
 * Require / Proxy-Require name extensions the UAS must support; we
 * support only "timer" (RFC 4028, INVITE), so every other option-tag is
 * unsupported (RFC 3261 8.2.2.3).  Writes "Unsupported: a, b\r\n" into buf; 1 when any.
 */
static int
unsupported_ext(const struct sip_msg *m, char *buf, size_t cap)
{
	static const enum sip_hdr_id req[] = { SIP_H_REQUIRE,
	    SIP_H_PROXY_REQUIRE };
	size_t n = 0;
	int any = 0;

	for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
		const struct sip_hdr *h;

		for (h = sip_msg_hdr(m, req[i]); h != NULL;
		    h = sip_msg_hdr_next(m, h)) {
			struct slice cur = h->value, tok;

			while (sip_token_next(&cur, &tok) > 0) {
				/* session timers: the B2BUA is the caller's UAS */
				if (m->method == SIP_M_INVITE &&
				    slice_eq_cstr_ci(tok, "timer"))
					continue;
				int w = snprintf(buf + n, cap - n, "%s" SLICE_FMT,
				    any ? ", " : "Unsupported: ", SLICE_ARG(tok));

				if (w < 0 || (size_t)w >= cap - n - 3)
					break;
				n += (size_t)w;
				any = 1;
			}
		}
	}
	if (any)
		snprintf(buf + n, cap - n, "\r\n");
	return any;
}

void
uas_event(struct worker *w, enum secevent_type type,
    const struct sip_msg *m, const struct sip_dest *src, unsigned status,
    const char *reason)
{
	struct secevent ev;
	const struct sip_hdr *ua = sip_msg_hdr(m, SIP_H_USER_AGENT);

	secevent_init(&ev, type);
	ev.reason = reason;
	ev.status = (int)status;
	ev.method = m->method_s;
	ev.call_id = m->call_id;
	if (ua != NULL)
		ev.user_agent = ua->value;
	worker_event(w, &ev, src);
}

/*
 * `to` is what was dialled: the Request-URI's user part, or the whole
 * Request-URI when it has none (wire bytes; secevent escapes and cuts).
 */
void
uas_route_failed(struct worker *w, const struct sip_msg *m,
    const struct sip_dest *src, unsigned status, const char *reason)
{
	struct secevent ev;
	const struct sip_hdr *ua = sip_msg_hdr(m, SIP_H_USER_AGENT);
	struct slice to = m->ruri.user.len > 0 ? m->ruri.user : m->ruri.raw;

	secevent_init(&ev, SECEV_ROUTE_FAILED);
	ev.reason = reason;
	ev.status = (int)status;
	ev.method = m->method_s;
	ev.call_id = m->call_id;
	if (ua != NULL)
		ev.user_agent = ua->value;
	if (to.len > 0)
		secevent_add_slice(&ev, "to", to);
	worker_event(w, &ev, src);
}

static void
cancel(struct worker *w, struct txn *t, const struct sip_msg *m,
    const struct sip_dest *src)
{
	struct txn *inv = txn_server_find_invite(w->txl, m);

	if (inv == NULL) {
		uas_reply(w, t, m, src, 481, NULL, NULL);
		uas_event(w, SECEV_SIP_NO_MATCH, m, src, 481, "no transaction");
		return;
	}
	/* 9.2: the CANCEL itself is always answered 200 when it matched;
	 * the INVITE ends with 487 if it had no final response yet. */
	uas_reply(w, t, m, src, 200, NULL, NULL);
	if (txn_state(inv) == TXN_S_PROCEEDING)
		call_cancel(w, inv);
	if (txn_state(inv) == TXN_S_PROCEEDING) {
		struct sip_msg im;
		struct sip_perr err;
		size_t len;
		const uint8_t *req = txn_request(inv, &len);

		/* the 487 echoes the INVITE itself, all its Vias included */
		if (req != NULL && sip_msg_parse(req, len, &w->env->lim,
		    sip_dest_reliable(txn_dest(inv)) ? SIP_PARSE_STREAM : 0,
		    &im, w->hdrs2, SIP_MAX_HDRS, &err) > 0)
			uas_reply(w, inv, &im, txn_dest(inv), 487, NULL, NULL);
	}
}

/* "Allow: ...\r\n" listing what the zone accepts. */
static void
zone_allow(const struct zone_rt *z, char *buf, size_t cap)
{
	size_t n = (size_t)snprintf(buf, cap, "Allow: ");

	for (int i = SIP_M_OTHER + 1; i < SIP_M__MAX && n < cap; i++)
		if (z->methods & (1u << i))
			n += (size_t)snprintf(buf + n, cap - n, "%s%s",
			    n > 7 ? ", " : "", sip_method_name((enum sip_method)i));
	if (n < cap)
		snprintf(buf + n, cap - n, "\r\n");
}

void
uas_request(struct worker *w, const struct sip_msg *m,
    const struct sip_dest *src)
{
	const struct zone_rt *z;
	struct account_info acct;
	char ext[512];
	struct txn *t;
	int r, authed = 0;

	z = guard_zone(w, src);
	if (z->auth && !m->to.has_tag && m->method != SIP_M_CANCEL &&
	    (z->methods == 0 || (z->methods & (1u << m->method))) &&
	    authn_challenge_stateless(w, m, src))
		return;
	if ((r = txn_server_new(w->txl, m, src, &t)) < 0) {
		/* PROT6: a full table sheds new work, it never grows */
		w->st.shed++;
		sip_echo_from_msg(m, &w->echo);
		uas_reply_stateless(w, &w->echo, src, 503, NULL,
		    "Retry-After: 5\r\n");
		uas_event(w, SECEV_OVERLOAD_SHED, m, src, 503,
		    "transaction table full");
		return;
	}
	if (m->method == SIP_M_REGISTER)
		txn_set_oneshot(t);
	if (m->method == SIP_M_CANCEL) {
		/* 22.1: CANCEL cannot be challenged; it only matches an
		 * INVITE this source already got through with */
		cancel(w, t, m, src);
		return;
	}
	if (m->to.has_tag && m->method != SIP_M_REGISTER &&
	    m->method != SIP_M_OPTIONS) {
		/* in a call: the dialog vouches for it (call_dialog.c) */
		call_in_dialog(w, t, m, src);
		return;
	}
	if (z->methods != 0 && !(z->methods & (1u << m->method))) {
		zone_allow(z, ext, sizeof(ext));
		uas_reply(w, t, m, src, 405, NULL, ext);
		uas_event(w, SECEV_ACL_METHOD_DENIED, m, src, 405,
		    "method not accepted in this zone");
		return;
	}
	if (z->auth) {
		if (!authn_request(w, t, m, src, &acct))
			return;
		authed = 1;
	}
	if (m->method == SIP_M_INVITE)
		uas_reply(w, t, m, src, 100, NULL, NULL);
	if (m->method != SIP_M_OPTIONS && (m->flags & SIP_MSG_HAS_MF) &&
	    m->max_forwards == 0) {
		uas_reply(w, t, m, src, 483, NULL, NULL);
		uas_event(w, SECEV_SIP_LOOP, m, src, 483,
		    "Max-Forwards exhausted");
		return;
	}
	if (unsupported_ext(m, ext, sizeof(ext))) {
		uas_reply(w, t, m, src, 420, NULL, ext);
		uas_event(w, SECEV_SIP_UNSUPPORTED, m, src, 420,
		    "unsupported extension");
		return;
	}
	if (m->to.has_tag) {
		/* an OPTIONS or REGISTER naming a dialog */
		uas_reply(w, t, m, src, 481, NULL, NULL);
		uas_event(w, SECEV_SIP_NO_MATCH, m, src, 481, "no dialog");
		return;
	}
	switch ((enum sip_method)m->method) {
	case SIP_M_OPTIONS:
		if (ruri_is_local(w, m)) {
			uas_reply(w, t, m, src, 200, NULL, UAS_ALLOW
			    "Accept: application/sdp\r\n");
			return;
		}
		uas_reply(w, t, m, src, 404, NULL, NULL);
		return;
	case SIP_M_REGISTER:
		if (authed) {
			reg_request(w, t, m, src, &acct);
			return;
		}
		/* a zone without authentication has no accounts to bind */
		uas_reply(w, t, m, src, 403, "Registration Needs Authentication",
		    NULL);
		uas_event(w, SECEV_SIP_POLICY, m, src, 403,
		    "registration in a zone without authentication");
		return;
	case SIP_M_INVITE:
		call_invite(w, t, m, src, authed ? &acct : NULL);
		return;
	case SIP_M_MESSAGE:
	case SIP_M_SUBSCRIBE:
	case SIP_M_PUBLISH:
	case SIP_M_REFER:
		uas_reply(w, t, m, src, 404, NULL, NULL);
		uas_route_failed(w, m, src, 404, "no route");
		return;
	case SIP_M_BYE:
	case SIP_M_PRACK:
	case SIP_M_UPDATE:
	case SIP_M_INFO:
	case SIP_M_NOTIFY:
		/* only meaningful inside a dialog */
		uas_reply(w, t, m, src, 481, NULL, NULL);
		uas_event(w, SECEV_SIP_NO_MATCH, m, src, 481, "no dialog");
		return;
	default:
		uas_reply(w, t, m, src, 501, NULL, UAS_ALLOW);
		uas_event(w, SECEV_SIP_UNSUPPORTED, m, src, 501,
		    "unknown method");
		return;
	}
}
