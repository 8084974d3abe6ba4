/*
 * Bounds applied by the SIP parser.  One struct shared by production
 * (filled from the config), tests and fuzzers, so all three exercise
 * exactly the same limits.
 */
#ifndef SW_SIP_LIMITS_H
#define SW_SIP_LIMITS_H

#include <stddef.h>

/* Hard ceilings; configured values may only be lower. */
#define SIP_MAX_MSG_UDP		65507
#define SIP_MAX_MSG_TCP		65536
#define SIP_MAX_HDRS		256
#define SIP_MAX_LINE		8192
#define SIP_MAX_URI		4096
#define SIP_MAX_VIA		128
#define SIP_MAX_PARAMS		64	/* ;params in one URI or header value */
#define SIP_MAX_LIST		64	/* comma-separated elements in one header */
#define SIP_MAX_CALLID		256
#define SIP_MAX_BRANCH		256
#define SIP_MAX_TAG		256
#define SIP_MAX_METHOD		64
#define SIP_MAX_CSEQ		2147483647u	/* 2**31 - 1, RFC 3261 8.1.1.5 */
#define SIP_MAX_FORWARDS	255

struct sip_limits {
	size_t	max_msg;	/* whole message, datagram transports */
	size_t	max_msg_stream;	/* whole message, TCP/TLS framing */
	size_t	max_hdrs;	/* header fields (after unfolding) */
	size_t	max_line;	/* one header field, folded lines included */
	size_t	max_uri;	/* Request-URI and any header URI */
	size_t	max_via;	/* Via values across all Via fields */
	size_t	max_body;
};

/* Defaults used when the config does not say otherwise. */
extern const struct sip_limits sip_limits_default;

#endif
