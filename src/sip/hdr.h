/*
 * Decoders for header values and URIs.  Each takes a slice of an
 * already-framed header value (see msg.h) and fills a caller-owned
 * struct with slices into the same bytes.  None allocates; each
 * bounds what it walks by SIP_MAX_PARAMS / SIP_MAX_LIST and by the
 * limits passed in.
 * Return: 0 ok, -SBC_EPARSE malformed, -SBC_ELIMIT over a bound.
 * List iterators return 1 with an element, 0 at the end, <0 on error.
 */
#ifndef SW_SIP_HDR_H
#define SW_SIP_HDR_H

#include "sip/msg.h"

/* RFC 3261 SIP-URI / SIPS-URI, RFC 3966 tel, or any absoluteURI. */
int	sip_uri_parse(struct slice s, const struct sip_limits *lim,
	    struct sip_uri *ret);
/* hostport = host [ ":" port ]; host may be a bracketed IPv6 reference. */
int	sip_hostport_parse(struct slice s, struct sip_hostport *ret);
/* Classify a host; -SBC_EPARSE when it is not a valid host at all. */
int	sip_host_check(struct slice host, uint8_t *ret_type);

/*
 * Generic parameter walk: *cur starts at ';' (or is empty).  Each call
 * yields one "name[=value]"; value is left as written (may be quoted).
 * Stops before a ',' or '?' that ends the parameter list.
 */
int	sip_param_next(struct slice *cur, struct slice *ret_name,
	    struct slice *ret_value);
/* Find a parameter by name in a ";a=b;c" slice. 1 found, 0 not, <0 bad. */
int	sip_param_find(struct slice params, const char *name,
	    struct slice *ret_value);

/* Via: one element per call from a (possibly comma-separated) value. */
int	sip_via_next(struct slice *cur, struct sip_via *ret);

/*
 * name-addr / addr-spec with header params (From, To, Contact, Route,
 * Record-Route, Reply-To, Refer-To, P-Asserted-Identity, Diversion ...).
 * sip_nameaddr_parse wants exactly one element; _next walks a list.
 * allow_star permits "*" (Contact only).
 */
int	sip_nameaddr_parse(struct slice s, const struct sip_limits *lim,
	    struct sip_nameaddr *ret);
int	sip_nameaddr_next(struct slice *cur, const struct sip_limits *lim,
	    int allow_star, struct sip_nameaddr *ret);

/* CSeq: 1*DIGIT LWS Method */
int	sip_cseq_parse(struct slice s, uint32_t *ret_num,
	    struct slice *ret_method);

/* Comma-separated tokens (Allow, Supported, Require, ...). */
int	sip_token_next(struct slice *cur, struct slice *ret_token);

/* Call-ID: word [ "@" word ] */
int	sip_callid_check(struct slice s);

/* media-type "/" subtype *( ; param ) -> "type/subtype" */
int	sip_ctype_parse(struct slice s, struct slice *ret_type,
	    struct slice *ret_params);

/* Digest (or other scheme) credentials / challenge. */
#define SIP_AUTH_MAX_PARAMS	24
struct sip_auth {
	struct slice	scheme;			/* "Digest" */
	size_t		nparams;
	struct slice	name[SIP_AUTH_MAX_PARAMS];
	struct slice	value[SIP_AUTH_MAX_PARAMS];	/* quotes stripped */
	uint8_t		quoted[SIP_AUTH_MAX_PARAMS];
};
int	sip_auth_parse(struct slice s, struct sip_auth *ret);
/* Authentication-Info: the parameter list without a scheme. */
int	sip_auth_params_parse(struct slice s, struct sip_auth *ret);
/* Value of a parameter (case-insensitive name), or an unset slice. */
struct slice sip_auth_param(const struct sip_auth *a, const char *name);

/*
 * Quoted string starting at *cur (which must begin with '"').
 * ret_inner is the content without the quotes, escapes left in place.
 */
int	sip_quoted_take(struct slice *cur, struct slice *ret_inner);

/* comment = "(" *(ctext / quoted-pair / comment) ")", nested at most 8 deep. */
int	sip_comment_take(struct slice *cur, unsigned depth);

/* Decode %XX escapes of s into dst[0..cap); returns length or <0. */
ssize_t	sip_unescape(struct slice s, uint8_t *dst, size_t cap);

#endif
