/*
 * A parsed SIP message: slices into the receive buffer plus a few
 * decoded values the pipeline needs on every message.  The parser
 * allocates nothing; the header array is caller-owned and the buffer
 * must outlive the message.
 */
#ifndef SW_SIP_MSG_H
#define SW_SIP_MSG_H

#include <stdint.h>
#include <sys/types.h>

#include "core/slice.h"
#include "sip/limits.h"

enum sip_method {
	SIP_M_OTHER = 0,
	SIP_M_INVITE,
	SIP_M_ACK,
	SIP_M_BYE,
	SIP_M_CANCEL,
	SIP_M_OPTIONS,
	SIP_M_REGISTER,
	SIP_M_PRACK,
	SIP_M_SUBSCRIBE,
	SIP_M_NOTIFY,
	SIP_M_PUBLISH,
	SIP_M_INFO,
	SIP_M_REFER,
	SIP_M_MESSAGE,
	SIP_M_UPDATE,
	SIP_M__MAX
};

enum sip_hdr_id {
	SIP_H_OTHER = 0,
	SIP_H_ACCEPT,
	SIP_H_ACCEPT_CONTACT,
	SIP_H_ACCEPT_ENCODING,
	SIP_H_ACCEPT_LANGUAGE,
	SIP_H_ALERT_INFO,
	SIP_H_ALLOW,
	SIP_H_ALLOW_EVENTS,
	SIP_H_AUTHENTICATION_INFO,
	SIP_H_AUTHORIZATION,
	SIP_H_CALL_ID,
	SIP_H_CALL_INFO,
	SIP_H_CONTACT,
	SIP_H_CONTENT_DISPOSITION,
	SIP_H_CONTENT_ENCODING,
	SIP_H_CONTENT_LANGUAGE,
	SIP_H_CONTENT_LENGTH,
	SIP_H_CONTENT_TYPE,
	SIP_H_CSEQ,
	SIP_H_DATE,
	SIP_H_DIVERSION,
	SIP_H_ERROR_INFO,
	SIP_H_EVENT,
	SIP_H_EXPIRES,
	SIP_H_FROM,
	SIP_H_HISTORY_INFO,
	SIP_H_IDENTITY,
	SIP_H_IN_REPLY_TO,
	SIP_H_MAX_FORWARDS,
	SIP_H_MIME_VERSION,
	SIP_H_MIN_EXPIRES,
	SIP_H_MIN_SE,
	SIP_H_ORGANIZATION,
	SIP_H_P_ASSERTED_IDENTITY,
	SIP_H_P_PREFERRED_IDENTITY,
	SIP_H_PATH,
	SIP_H_PRIORITY,
	SIP_H_PRIVACY,
	SIP_H_PROXY_AUTHENTICATE,
	SIP_H_PROXY_AUTHORIZATION,
	SIP_H_PROXY_REQUIRE,
	SIP_H_RACK,
	SIP_H_REASON,
	SIP_H_RECORD_ROUTE,
	SIP_H_REFER_TO,
	SIP_H_REFERRED_BY,
	SIP_H_REJECT_CONTACT,
	SIP_H_REPLACES,
	SIP_H_REPLY_TO,
	SIP_H_REQUEST_DISPOSITION,
	SIP_H_REQUIRE,
	SIP_H_RETRY_AFTER,
	SIP_H_ROUTE,
	SIP_H_RSEQ,
	SIP_H_SERVER,
	SIP_H_SESSION_EXPIRES,
	SIP_H_SUBJECT,
	SIP_H_SUBSCRIPTION_STATE,
	SIP_H_SUPPORTED,
	SIP_H_TIMESTAMP,
	SIP_H_TO,
	SIP_H_UNSUPPORTED,
	SIP_H_USER_AGENT,
	SIP_H_VIA,
	SIP_H_WARNING,
	SIP_H_WWW_AUTHENTICATE,
	SIP_H__MAX
};

enum sip_uri_scheme {
	SIP_URI_NONE = 0,
	SIP_URI_SIP,
	SIP_URI_SIPS,
	SIP_URI_TEL,
	SIP_URI_OTHER,		/* absoluteURI we carry but do not route */
	SIP_URI__MAX
};

enum sip_host_type {
	SIP_HOST_NONE = 0,
	SIP_HOST_DOMAIN,
	SIP_HOST_IPV4,
	SIP_HOST_IPV6,		/* host slice keeps the brackets */
	SIP_HOST__MAX
};

enum sip_transport {
	SIP_TP_OTHER = 0,
	SIP_TP_UDP,
	SIP_TP_TCP,
	SIP_TP_TLS,
	SIP_TP_SCTP,
	SIP_TP_WS,
	SIP_TP_WSS,
	SIP_TP__MAX
};

/* A hostport as it appears on the wire; port 0 = not given. */
struct sip_hostport {
	struct slice		host;
	uint16_t		port;
	uint8_t			type;		/* enum sip_host_type */
};

struct sip_uri {
	uint8_t			scheme;		/* enum sip_uri_scheme */
	struct slice		raw;		/* the whole URI */
	struct slice		scheme_s;
	struct slice		user;		/* still %-escaped; tel: the number */
	struct slice		password;
	struct sip_hostport	hp;
	struct slice		params;		/* ";a=b;lr" incl. leading ';' */
	struct slice		headers;	/* "a=b&c=d" after '?' */
	/* Frequently needed parameters, found once. */
	struct slice		transport;
	struct slice		user_param;	/* user=phone */
	struct slice		maddr;
	uint8_t			lr;
	uint8_t			nparams;
};

struct sip_via {
	struct slice		raw;
	struct slice		proto;		/* "SIP" */
	struct slice		version;	/* "2.0" */
	struct slice		transport_s;
	uint8_t			transport;	/* enum sip_transport */
	struct sip_hostport	sent_by;
	struct slice		params;
	struct slice		branch;
	struct slice		received;
	struct slice		maddr;
	struct slice		rport;		/* value; empty when bare ";rport" */
	uint8_t			has_rport;
	uint8_t			ttl_set;
	uint8_t			ttl;
};

struct sip_nameaddr {
	struct slice		raw;
	struct slice		display;	/* as written, quotes included */
	struct sip_uri		uri;
	struct slice		params;		/* header params after the URI */
	struct slice		tag;
	uint8_t			has_tag;
	uint8_t			star;		/* Contact: * */
	uint8_t			bracketed;	/* name-addr rather than addr-spec */
	uint8_t			has_expires;
	uint32_t		expires;	/* Contact ;expires= */
	struct slice		q;
};

struct sip_hdr {
	struct slice		name;		/* as written */
	struct slice		value;		/* LWS-trimmed, may contain folds */
	uint16_t		id;		/* enum sip_hdr_id */
};

enum sip_msg_flags {
	SIP_MSG_HAS_CL		= 1u << 0,	/* Content-Length present */
	SIP_MSG_TRUNCATED	= 1u << 1,	/* datagram longer than CL */
	SIP_MSG_NO_COOKIE	= 1u << 2,	/* top Via branch lacks z9hG4bK */
	SIP_MSG_HAS_MF		= 1u << 3,	/* Max-Forwards present */
	SIP_MSG_HAS_EXPIRES	= 1u << 4,
	SIP_MSG_COMPACT_SEEN	= 1u << 5,
};

struct sip_msg {
	const uint8_t		*buf;		/* start of the message */
	size_t			 len;		/* head + body, after framing */
	size_t			 head_len;	/* up to and incl. the empty line */
	uint32_t		 flags;

	uint8_t			 is_request;
	uint8_t			 method;	/* enum sip_method (requests) */
	struct slice		 method_s;
	struct sip_uri		 ruri;
	uint16_t		 status;	/* responses */
	struct slice		 reason;

	struct sip_hdr		*hdrs;		/* caller-owned array */
	size_t			 nhdrs;
	/* index + 1 of the first field of each known header, 0 = absent */
	uint16_t		 first[SIP_H__MAX];
	uint16_t		 count[SIP_H__MAX];

	struct sip_via		 via1;		/* top Via, decoded */
	size_t			 nvia;
	struct sip_nameaddr	 from;
	struct sip_nameaddr	 to;
	struct slice		 call_id;
	uint32_t		 cseq;
	uint8_t			 cseq_method;	/* enum sip_method */
	struct slice		 cseq_method_s;
	uint32_t		 max_forwards;
	uint32_t		 expires;
	size_t			 content_length;
	struct slice		 content_type;	/* "type/subtype", no params */
	struct slice		 body;
};

/* Why a message was refused: the status to answer with and a reason
 * phrase naming the defect.  reason is a static string.  invalid is 1
 * when the grammar was right but a sanity check failed (a mandatory
 * header missing, a singleton header twice, CSeq method mismatch,
 * Content-Length missing on a stream or longer than the body, a body
 * without Content-Type): sip.invalid rather than sip.malformed. */
struct sip_perr {
	uint16_t		 status;
	const char		*reason;
	size_t			 off;		/* offset of the defect in buf */
	uint8_t			 invalid;
};

enum sip_parse_flags {
	SIP_PARSE_STREAM	= 1u << 0,	/* TCP/TLS: CL mandatory, frames */
};

/*
 * Parse one message from buf[0..len).
 * Datagram mode: buf is one datagram.  A body longer than Content-Length
 * is truncated (RFC 3261 18.3), a shorter one is an error; without
 * Content-Length the body runs to the end of the datagram.
 * Stream mode: Content-Length is mandatory and frames the message.
 * Leading CRLFs (keep-alives, RFC 3261 7.5) are skipped.
 * hdrs[0..hdrs_cap) is caller-owned.  All slices in *ret_msg point
 * into buf.
 * Returns >0  bytes consumed (leading CRLFs + message)
 *          0  incomplete (stream mode only) or only keep-alive CRLFs
 *             (then *ret_msg->len is 0 and the CRLFs may be discarded:
 *             check reterr->off for how many bytes were white space)
 *         <0  -SBC_EPARSE / -SBC_ELIMIT; *reterr says what and where
 */
ssize_t	sip_msg_parse(const uint8_t *buf, size_t len,
	    const struct sip_limits *lim, unsigned flags,
	    struct sip_msg *ret_msg, struct sip_hdr *hdrs, size_t hdrs_cap,
	    struct sip_perr *reterr);

/* First/next field with this id, or NULL. */
const struct sip_hdr *sip_msg_hdr(const struct sip_msg *m, enum sip_hdr_id id);
const struct sip_hdr *sip_msg_hdr_next(const struct sip_msg *m,
	    const struct sip_hdr *prev);
/* Find an unknown header by name (case-insensitive). */
const struct sip_hdr *sip_msg_hdr_by_name(const struct sip_msg *m,
	    struct slice name);

enum sip_method	 sip_method_lookup(struct slice s);
const char	*sip_method_name(enum sip_method m);

enum sip_hdr_id	 sip_hdr_lookup(struct slice name);
const char	*sip_hdr_name(enum sip_hdr_id id);	/* canonical long form */
/* Headers that may appear at most once (RFC 3261 7.3.1 + singletons). */
int		 sip_hdr_is_singleton(enum sip_hdr_id id);

const char	*sip_transport_name(enum sip_transport t);
enum sip_transport sip_transport_lookup(struct slice s);

const char	*sip_reason_phrase(unsigned status);

#endif
