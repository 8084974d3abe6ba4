/*
 * Where a message came from, and so where its answer goes: the peer
 * address, the transport, the listener and (for streams) the
 * connection.  Also the "flow" a registration remembers (RFC 5626).
 */
#ifndef SW_SIP_DEST_H
#define SW_SIP_DEST_H

#include <stdint.h>

#include "core/addr.h"
#include "sip/msg.h"

struct sip_dest {
	union sw_addr	addr;
	uint32_t	conn_id;	/* stream connection, 0 = none */
	uint8_t		transport;	/* enum sip_transport */
	uint8_t		lsn;		/* listener index */
};

static inline int
sip_dest_reliable(const struct sip_dest *d)
{
	return d->transport != SIP_TP_UDP;
}

#endif
