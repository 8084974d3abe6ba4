#include <stdio.h>
#include <stdlib.h>

#include "cli/json_sip.h"
#include "core/num.h"
#include "sip/hdr.h"

json_t *
json_slice(struct slice s)
{
	json_t *j;
	char *tmp;
	size_t n = 0;

	if (!slice_set(s))
		return json_null();
	if ((j = json_stringn(s.len ? (const char *)s.p : "", s.len)) != NULL)
		return j;
	/* not UTF-8: escape the bytes that break it */
	if ((tmp = malloc(s.len * 4 + 1)) == NULL)
		return json_null();
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] < 0x80)
			tmp[n++] = (char)s.p[i];
		else
			n += (size_t)sprintf(tmp + n, "\\x%02x", s.p[i]);
	}
	j = json_stringn(tmp, n);
	free(tmp);
	return j != NULL ? j : json_null();
}

static json_t *
json_params(struct slice params, int uri_style)
{
	json_t *arr = json_array();
	struct slice n, v;

	if (uri_style) {
		/* ;a=b;c without white space */
		while (params.len > 0 && slice_eat(&params, ';')) {
			ssize_t semi = slice_find(params, ';'), eq;
			struct slice one;
			json_t *o = json_object();

			slice_take(&params, semi < 0 ? params.len : (size_t)semi,
			    &one);
			eq = slice_find(one, '=');
			json_object_set_new(o, "name", json_slice(eq < 0 ? one :
			    slice_sub(one, 0, (size_t)eq)));
			json_object_set_new(o, "value", eq < 0 ? json_null() :
			    json_slice(slice_sub(one, (size_t)eq + 1, one.len)));
			json_array_append_new(arr, o);
		}
		return arr;
	}
	while (sip_param_next(&params, &n, &v) > 0) {
		json_t *o = json_object();

		json_object_set_new(o, "name", json_slice(n));
		json_object_set_new(o, "value", json_slice(v));
		json_array_append_new(arr, o);
	}
	return arr;
}

static const char *
host_type_name(uint8_t t)
{
	switch (t) {
	case SIP_HOST_DOMAIN: return "domain";
	case SIP_HOST_IPV4: return "ipv4";
	case SIP_HOST_IPV6: return "ipv6";
	default: return "none";
	}
}

static const char *
scheme_name(uint8_t s)
{
	switch (s) {
	case SIP_URI_SIP: return "sip";
	case SIP_URI_SIPS: return "sips";
	case SIP_URI_TEL: return "tel";
	default: return "other";
	}
}

json_t *
json_sip_uri(const struct sip_uri *u)
{
	json_t *o = json_object();
	uint8_t tmp[SIP_MAX_URI];
	ssize_t n;

	json_object_set_new(o, "raw", json_slice(u->raw));
	json_object_set_new(o, "scheme", json_string(scheme_name(u->scheme)));
	if (u->scheme == SIP_URI_OTHER)
		return o;
	json_object_set_new(o, "user", json_slice(u->user));
	if (slice_set(u->user) &&
	    (n = sip_unescape(u->user, tmp, sizeof(tmp))) >= 0)
		json_object_set_new(o, "user_unescaped",
		    json_slice(slice_make(tmp, (size_t)n)));
	if (slice_set(u->password))
		json_object_set_new(o, "password", json_slice(u->password));
	if (u->scheme != SIP_URI_TEL) {
		json_object_set_new(o, "host", json_slice(u->hp.host));
		json_object_set_new(o, "host_type",
		    json_string(host_type_name(u->hp.type)));
		json_object_set_new(o, "port", u->hp.port ?
		    json_integer(u->hp.port) : json_null());
	}
	json_object_set_new(o, "params", json_params(u->params, 1));
	if (slice_set(u->headers))
		json_object_set_new(o, "headers", json_slice(u->headers));
	return o;
}

static json_t *
json_via(const struct sip_via *v)
{
	json_t *o = json_object();

	json_object_set_new(o, "protocol", json_slice(v->proto));
	json_object_set_new(o, "version", json_slice(v->version));
	json_object_set_new(o, "transport", json_slice(v->transport_s));
	json_object_set_new(o, "host", json_slice(v->sent_by.host));
	json_object_set_new(o, "port", v->sent_by.port ?
	    json_integer(v->sent_by.port) : json_null());
	json_object_set_new(o, "branch", json_slice(v->branch));
	if (slice_set(v->received))
		json_object_set_new(o, "received", json_slice(v->received));
	if (v->has_rport)
		json_object_set_new(o, "rport", v->rport.len ?
		    json_slice(v->rport) : json_true());
	if (slice_set(v->maddr))
		json_object_set_new(o, "maddr", json_slice(v->maddr));
	if (v->ttl_set)
		json_object_set_new(o, "ttl", json_integer(v->ttl));
	json_object_set_new(o, "params", json_params(v->params, 0));
	return o;
}

static json_t *
json_nameaddr(const struct sip_nameaddr *na)
{
	json_t *o = json_object();

	if (na->star) {
		json_object_set_new(o, "star", json_true());
		return o;
	}
	json_object_set_new(o, "display", json_slice(na->display));
	json_object_set_new(o, "uri", json_sip_uri(&na->uri));
	if (na->has_tag)
		json_object_set_new(o, "tag", json_slice(na->tag));
	if (na->has_expires)
		json_object_set_new(o, "expires", json_integer(na->expires));
	if (slice_set(na->q))
		json_object_set_new(o, "q", json_slice(na->q));
	json_object_set_new(o, "params", json_params(na->params, 0));
	return o;
}

static json_t *
json_auth(const struct sip_auth *a)
{
	json_t *o = json_object(), *p = json_object();

	json_object_set_new(o, "scheme", json_slice(a->scheme));
	for (size_t i = 0; i < a->nparams; i++) {
		char key[64];

		if (slice_to_cstr(a->name[i], key, sizeof(key)) < 0)
			continue;
		json_object_set_new(p, key, json_slice(a->value[i]));
	}
	json_object_set_new(o, "params", p);
	return o;
}

static json_t *
json_hdr_decoded(const struct sip_hdr *h, const struct sip_limits *lim)
{
	struct slice cur = h->value, t, m;
	struct sip_nameaddr na;
	struct sip_via v;
	struct sip_auth a;
	json_t *arr;
	uint32_t n;

	switch ((enum sip_hdr_id)h->id) {
	case SIP_H_VIA:
		arr = json_array();
		while (sip_via_next(&cur, &v) > 0)
			json_array_append_new(arr, json_via(&v));
		return arr;
	case SIP_H_FROM: case SIP_H_TO:
		if (sip_nameaddr_parse(cur, lim, &na) < 0)
			return NULL;
		return json_nameaddr(&na);
	case SIP_H_CONTACT: case SIP_H_ROUTE: case SIP_H_RECORD_ROUTE:
	case SIP_H_PATH: case SIP_H_REPLY_TO: case SIP_H_REFER_TO:
	case SIP_H_REFERRED_BY: case SIP_H_P_ASSERTED_IDENTITY:
	case SIP_H_P_PREFERRED_IDENTITY: case SIP_H_DIVERSION:
	case SIP_H_HISTORY_INFO:
		arr = json_array();
		while (sip_nameaddr_next(&cur, lim, h->id == SIP_H_CONTACT,
		    &na) > 0)
			json_array_append_new(arr, json_nameaddr(&na));
		return arr;
	case SIP_H_CSEQ:
		if (sip_cseq_parse(cur, &n, &m) < 0)
			return NULL;
		return json_pack("{s:i, s:o}", "seq", (json_int_t)n, "method",
		    json_slice(m));
	case SIP_H_MAX_FORWARDS: case SIP_H_CONTENT_LENGTH:
	case SIP_H_EXPIRES: case SIP_H_MIN_EXPIRES: case SIP_H_RSEQ:
		if (parse_u32(cur, UINT32_MAX, &n) < 0)
			return NULL;
		return json_integer(n);
	case SIP_H_CONTENT_TYPE:
		if (sip_ctype_parse(cur, &t, &m) < 0)
			return NULL;
		return json_pack("{s:o, s:o}", "type", json_slice(t), "params",
		    json_params(m, 0));
	case SIP_H_AUTHORIZATION: case SIP_H_PROXY_AUTHORIZATION:
	case SIP_H_WWW_AUTHENTICATE: case SIP_H_PROXY_AUTHENTICATE:
		if (sip_auth_parse(cur, &a) < 0)
			return NULL;
		return json_auth(&a);
	case SIP_H_ALLOW: case SIP_H_SUPPORTED: case SIP_H_UNSUPPORTED:
	case SIP_H_REQUIRE: case SIP_H_PROXY_REQUIRE: case SIP_H_ALLOW_EVENTS:
		arr = json_array();
		while (sip_token_next(&cur, &t) > 0)
			json_array_append_new(arr, json_slice(t));
		return arr;
	default:
		return NULL;
	}
}

json_t *
json_sip_msg(const struct sip_msg *m, const struct sip_limits *lim)
{
	json_t *o = json_object(), *hdrs = json_array();

	json_object_set_new(o, "kind", json_string(m->is_request ? "request" :
	    "response"));
	if (m->is_request) {
		json_object_set_new(o, "method", json_slice(m->method_s));
		json_object_set_new(o, "known_method",
		    json_boolean(m->method != SIP_M_OTHER));
		json_object_set_new(o, "uri", json_sip_uri(&m->ruri));
	} else {
		json_object_set_new(o, "status", json_integer(m->status));
		json_object_set_new(o, "reason", json_slice(m->reason));
	}
	json_object_set_new(o, "length", json_integer((json_int_t)m->len));
	json_object_set_new(o, "head_length",
	    json_integer((json_int_t)m->head_len));
	json_object_set_new(o, "truncated",
	    json_boolean(m->flags & SIP_MSG_TRUNCATED));
	json_object_set_new(o, "rfc2543_branch",
	    json_boolean(m->flags & SIP_MSG_NO_COOKIE));
	json_object_set_new(o, "call_id", json_slice(m->call_id));
	json_object_set_new(o, "cseq", json_pack("{s:i, s:o}", "seq",
	    (json_int_t)m->cseq, "method", json_slice(m->cseq_method_s)));
	json_object_set_new(o, "max_forwards", (m->flags & SIP_MSG_HAS_MF) ?
	    json_integer(m->max_forwards) : json_null());
	json_object_set_new(o, "via_count", json_integer((json_int_t)m->nvia));
	for (size_t i = 0; i < m->nhdrs; i++) {
		const struct sip_hdr *h = &m->hdrs[i];
		json_t *jh = json_object(), *dec;

		json_object_set_new(jh, "name", h->id != SIP_H_OTHER ?
		    json_string(sip_hdr_name((enum sip_hdr_id)h->id)) :
		    json_slice(h->name));
		if (h->name.len == 1 || h->id == SIP_H_OTHER ||
		    !slice_eq(h->name, slice_cstr(sip_hdr_name(
		    (enum sip_hdr_id)h->id))))
			json_object_set_new(jh, "wire_name", json_slice(h->name));
		json_object_set_new(jh, "value", json_slice(h->value));
		if ((dec = json_hdr_decoded(h, lim)) != NULL)
			json_object_set_new(jh, "decoded", dec);
		json_array_append_new(hdrs, jh);
	}
	json_object_set_new(o, "headers", hdrs);
	json_object_set_new(o, "body", json_pack("{s:i, s:o, s:o}", "length",
	    (json_int_t)m->body.len, "content_type", json_slice(m->content_type),
	    "text", json_slice(m->body)));
	return o;
}
