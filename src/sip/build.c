#include <arpa/inet.h>

#include "core/hash.h"
#include "core/wbuf.h"
#include "sip/build.h"
#include "sip/hdr.h"

void
sip_echo_from_msg(const struct sip_msg *m, struct sip_echo *e)
{
	const struct sip_hdr *h;

	memset(e, 0, sizeof(*e));
	for (h = sip_msg_hdr(m, SIP_H_VIA); h != NULL && e->nvia < SIP_MAX_VIA;
	    h = sip_msg_hdr_next(m, h))
		e->via[e->nvia++] = h->value;
	e->from = sip_msg_hdr(m, SIP_H_FROM)->value;
	e->to = sip_msg_hdr(m, SIP_H_TO)->value;
	e->call_id = m->call_id;
	e->cseq = sip_msg_hdr(m, SIP_H_CSEQ)->value;
	e->branch = m->via1.branch;
	e->to_has_tag = m->to.has_tag;
}

static int
value_echoable(struct slice v)
{
	if (v.len == 0 || v.len > 1024)
		return 0;
	for (size_t i = 0; i < v.len; i++)
		if (!ctype_is(v.p[i], CT_TEXT) && v.p[i] != ' ' &&
		    v.p[i] != '\t')
			return 0;
	return 1;
}

int
sip_echo_salvage(const uint8_t *buf, size_t len, size_t scan_max,
    struct sip_echo *e)
{
	struct slice s = slice_make(buf, len < scan_max ? len : scan_max);
	struct slice line = { 0 };
	ssize_t nl;
	int first = 1;

	memset(e, 0, sizeof(*e));
	while ((nl = slice_find(s, '\n')) >= 0) {
		struct slice name, value;
		enum sip_hdr_id id;
		ssize_t colon;

		slice_take(&s, (size_t)nl, &line);
		slice_skip(&s, 1);
		if (line.len > 0 && line.p[line.len - 1] == '\r')
			line.len--;
		if (first) {
			/* only requests are answered: "METHOD uri SIP/2.0" */
			first = 0;
			if (line.len < 8 || slice_starts_ci(line,
			    SLICE_LIT("SIP/")) || !slice_eq_ci(slice_sub(line,
			    line.len - 7, 7), SLICE_LIT("SIP/2.0")))
				return -SBC_EPARSE;
			continue;
		}
		if (line.len == 0)
			break;
		colon = slice_find(line, ':');
		if (colon <= 0)
			continue;
		name = slice_trim_lws(slice_sub(line, 0, (size_t)colon));
		value = slice_trim_lws(slice_sub(line, (size_t)colon + 1,
		    line.len));
		if (!value_echoable(value))
			continue;
		id = sip_hdr_lookup(name);
		switch (id) {
		case SIP_H_VIA:
			if (e->nvia < SIP_MAX_VIA)
				e->via[e->nvia++] = value;
			break;
		case SIP_H_FROM:
			if (!slice_set(e->from))
				e->from = value;
			break;
		case SIP_H_TO:
			if (!slice_set(e->to))
				e->to = value;
			break;
		case SIP_H_CALL_ID:
			if (!slice_set(e->call_id))
				e->call_id = value;
			break;
		case SIP_H_CSEQ:
			if (!slice_set(e->cseq))
				e->cseq = value;
			break;
		default:
			break;
		}
	}
	if (e->nvia == 0 || !slice_set(e->from) || !slice_set(e->to) ||
	    !slice_set(e->call_id) || !slice_set(e->cseq))
		return -SBC_EPARSE;
	{
		struct sip_limits lim = sip_limits_default;
		struct slice cur = e->via[0];
		struct sip_nameaddr na;
		struct sip_via v;

		if (sip_via_next(&cur, &v) > 0)
			e->branch = v.branch;
		/* A To we cannot decode might carry a tag already: then we
		 * must not add a second one, so assume it does. */
		e->to_has_tag = sip_nameaddr_parse(e->to, &lim, &na) == 0 ?
		    na.has_tag : 1;
	}
	return 0;
}

void
sip_make_tag(const struct sip_echo *e, char out[17])
{
	uint8_t key[SIP_MAX_CALLID + SIP_MAX_BRANCH + 64];
	struct wbuf w;
	uint64_t h;

	wbuf_init(&w, key, sizeof(key));
	wbuf_slice(&w, slice_sub(e->call_id, 0, SIP_MAX_CALLID));
	wbuf_byte(&w, 0);
	wbuf_slice(&w, slice_sub(e->branch, 0, SIP_MAX_BRANCH));
	wbuf_byte(&w, 0);
	wbuf_slice(&w, slice_sub(e->from, 0, 60));
	h = sw_hash(key, w.n);
	snprintf(out, 17, "%016llx", (unsigned long long)h);
}

/*
 * The top Via with received= and a filled rport (RFC 3581).  A value
 * we cannot decode is echoed as it came.
 */
static void
put_top_via(struct wbuf *w, struct slice value, const union sw_addr *src)
{
	struct slice cur = value, p, name, pv;
	struct sip_via v;
	char ip[INET6_ADDRSTRLEN];

	if (src == NULL || sip_via_next(&cur, &v) <= 0) {
		wbuf_slice(w, value);
		return;
	}
	/* everything before the params: "SIP/2.0/UDP host:port" */
	wbuf_put(w, v.raw.p, (size_t)(v.params.p - v.raw.p));
	p = v.params;
	while (sip_param_next(&p, &name, &pv) > 0) {
		if (slice_eq_lit_ci(name, "received"))
			continue;
		wbuf_byte(w, ';');
		wbuf_slice(w, name);
		if (slice_eq_lit_ci(name, "rport")) {
			wbuf_fmt(w, "=%u", sw_addr_port(src));
			continue;
		}
		if (slice_set(pv)) {
			wbuf_byte(w, '=');
			wbuf_slice(w, pv);
		}
	}
	wbuf_fmt(w, ";received=%s", sw_addr_ip_str(src, ip, sizeof(ip)));
	/* the rest of a comma-combined Via field, as it came */
	if (cur.len > 0) {
		wbuf_str(w, ", ");
		wbuf_slice(w, cur);
	}
}

ssize_t
sip_resp_build(const struct sip_echo *e, const struct sip_resp_opts *o,
    uint8_t *buf, size_t cap)
{
	struct wbuf w;

	wbuf_init(&w, buf, cap);
	wbuf_fmt(&w, "SIP/2.0 %u %s\r\n", o->status,
	    o->reason != NULL ? o->reason : sip_reason_phrase(o->status));
	for (size_t i = 0; i < e->nvia; i++) {
		wbuf_str(&w, "Via: ");
		if (i == 0)
			put_top_via(&w, e->via[0], o->src);
		else
			wbuf_slice(&w, e->via[i]);
		wbuf_str(&w, "\r\n");
	}
	wbuf_str(&w, "From: ");
	wbuf_slice(&w, e->from);
	wbuf_str(&w, "\r\nTo: ");
	wbuf_slice(&w, e->to);
	if (!e->to_has_tag && o->status > 100 && o->to_tag.len > 0) {
		wbuf_str(&w, ";tag=");
		wbuf_slice(&w, o->to_tag);
	}
	wbuf_str(&w, "\r\nCall-ID: ");
	wbuf_slice(&w, e->call_id);
	wbuf_str(&w, "\r\nCSeq: ");
	wbuf_slice(&w, e->cseq);
	wbuf_str(&w, "\r\n");
	if (o->extra != NULL)
		wbuf_str(&w, o->extra);
	if (o->body.len > 0 && o->content_type != NULL)
		wbuf_fmt(&w, "Content-Type: %s\r\n", o->content_type);
	wbuf_fmt(&w, "Content-Length: %zu\r\n\r\n", o->body.len);
	wbuf_slice(&w, o->body);
	if (w.overflow)
		return -SBC_ELIMIT;
	return (ssize_t)w.n;
}
