/*
 * Building responses to requests (RFC 3261 8.2.6): the echoed
 * headers, received/rport on the top Via (RFC 3581), a To tag, and
 * nothing that names our product.
 */
#ifndef SW_SIP_BUILD_H
#define SW_SIP_BUILD_H

#include "core/addr.h"
#include "sip/msg.h"

/* The parts of a request that its response must echo. */
struct sip_echo {
	struct slice	via[SIP_MAX_VIA];	/* Via field values, in order */
	size_t		nvia;
	struct slice	from;
	struct slice	to;
	struct slice	call_id;
	struct slice	cseq;
	struct slice	branch;			/* top Via branch, for the tag */
	uint8_t		to_has_tag;
};

void	sip_echo_from_msg(const struct sip_msg *m, struct sip_echo *ret);
/*
 * From a request the parser refused: pick these header values by name
 * from the first scan_max bytes, without trusting the rest.  Values
 * with control characters are not echoed.  0, or -SBC_EPARSE when the
 * bytes do not carry enough to be answered (not a request, no Via,
 * From, To, Call-ID or CSeq); then nothing is sent.
 */
int	sip_echo_salvage(const uint8_t *buf, size_t len, size_t scan_max,
	    struct sip_echo *ret);

struct sip_resp_opts {
	unsigned		 status;
	const char		*reason;	/* NULL: the standard phrase */
	struct slice		 to_tag;	/* added when To has none */
	const union sw_addr	*src;		/* for received / rport */
	const char		*extra;		/* header lines, each "...\r\n" */
	struct slice		 body;
	const char		*content_type;
};

/* Write the response into buf[0..cap).  Length, or -SBC_ELIMIT. */
ssize_t	sip_resp_build(const struct sip_echo *e, const struct sip_resp_opts *o,
	    uint8_t *buf, size_t cap);

/* A To tag derived from the request (stable across retransmissions,
 * keyed so it reveals nothing).  Writes 16 hex digits + NUL. */
void	sip_make_tag(const struct sip_echo *e, char out[17]);

#endif
