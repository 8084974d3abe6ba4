/*
 * REGISTER semantics (RFC 3261 10.3): contact expiry with min/max,
 * "*" removal, Call-ID/CSeq ordering, a per-account contact limit, and
 * the 200's list of current bindings.  Authentication and the choice
 * of AOR happen before; persistence after (the daemon stores the
 * changes and answers once they are durable).
 */
#ifndef SW_SIP_REGISTRAR_H
#define SW_SIP_REGISTRAR_H

#include "sip/location.h"
#include "sip/msg.h"

struct reg_policy {
	uint32_t	min_expires;		/* seconds */
	uint32_t	max_expires;
	uint32_t	default_expires;
	uint32_t	max_contacts;
	uint32_t	nat_expires;		/* cap behind NAT; 0: none */
};

struct reg_contact {
	struct slice	uri;
	uint32_t	expires;		/* seconds, after min/max */
	struct slice	q;
	struct slice	instance;
	uint32_t	reg_id;
};

/* A REGISTER decoded for the table: no pointers into the table. */
struct reg_request {
	int			star;		/* Contact: *, Expires: 0 */
	size_t			ncontacts;
	struct reg_contact	c[LOC_MAX_BINDINGS];
	struct slice		call_id;
	uint32_t		cseq;
	struct slice		user_agent;
	struct sip_dest		flow;
	int64_t			now;
	uint32_t		max_contacts;
	uint8_t			nat;		/* registrar_behind_nat() */
};

struct reg_change {
	uint8_t		del;		/* 1: removed, 0: added or refreshed */
	uint8_t		fresh;		/* added: the contact was not bound */
	struct binding	b;
};

struct reg_result {
	unsigned		status;		/* 200, or the failure */
	const char		*reason;	/* NULL: the standard phrase */
	uint32_t		min_expires;	/* for 423 */
	uint8_t			nat;		/* the REGISTER was behind NAT */
	uint32_t		granted;	/* its contacts' expiry (the
						 * shortest), 0: none added */
	size_t			nchanges;
	struct reg_change	changes[2 * LOC_MAX_BINDINGS];
	size_t			nbindings;	/* after the update */
	struct binding		bindings[LOC_MAX_BINDINGS];
};

/*
 * Is m (a REGISTER that came from src) behind a NAT?  Only UDP counts
 * (a stream is its own keep-alive, RFC 5626): yes when the top Via's
 * sent-by host or the host of any Contact differs from src's address
 * (a host name differs from every address).  Ports are not compared: a
 * phone that sends from an ephemeral port and listens on 5060 is not
 * behind a NAT, and requests go to the flow anyway.  1 or 0.
 */
int	registrar_behind_nat(const struct sip_msg *m,
	    const struct sip_limits *lim, const struct sip_dest *src);
/* The same test for one stored contact URI and the flow it came from
 * (bindings loaded at start-up, where no Via is left).  1 or 0. */
int	registrar_contact_nat(const char *contact,
	    const struct sip_limits *lim, const struct sip_dest *flow);
/*
 * Decode m's contacts and expiry against the policy.  0 ready for
 * registrar_apply(); -1 when res->status already says why not (400,
 * 423).  Behind a NAT (registrar_behind_nat) each expiry is capped to
 * p->nat_expires, and the shortest acceptable one is the smaller of
 * min_expires and nat_expires.
 */
int	registrar_prepare(const struct sip_msg *m, const struct sip_limits *lim,
	    const struct sip_dest *src, const struct reg_policy *p, int64_t now,
	    struct reg_request *req, struct reg_result *res);
/* Apply to the table atomically; res tells the outcome and changes. */
int	registrar_apply(struct loc_table *t, const char *aor,
	    const struct reg_request *req, struct reg_result *res);
/* "Contact: <uri>;expires=N\r\n" lines of the current bindings. */
size_t	registrar_contacts(const struct reg_result *res, int64_t now,
	    char *buf, size_t cap);

#endif
