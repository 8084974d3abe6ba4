/*
 * Topology hiding (SIG5): which header fields of a message may cross
 * from one leg of a call to the other.  Everything not on the list
 * stays behind: Via, Route, Record-Route, Contact and the dialog
 * identifiers are rebuilt by the B2BUA for each leg, and fields such
 * as User-Agent, Server, Warning, Call-Info or Organization, which name
 * products or internal hosts, are never copied.  Credentials
 * (Authorization, Proxy-Authorization) never leave the edge.
 */
#ifndef SW_SIP_HIDE_H
#define SW_SIP_HIDE_H

#include "core/slice.h"
#include "sip/msg.h"

#define HIDE_MAX_EXTRA	32

struct hide_list {
	size_t		n;
	struct slice	extra[HIDE_MAX_EXTRA];	/* names, any case */
	unsigned	trusted_from : 1;	/* P-Asserted-Identity may pass */
};

/* May header h of a message cross the boundary? */
int	hide_header_passes(const struct hide_list *l, const struct sip_hdr *h);

#endif
