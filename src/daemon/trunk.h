/*
 * Where requests to a trunk or a core target go from this worker: the
 * peer's address over UDP, or this worker's own outbound TCP/TLS
 * connection to it, opened on first use and opened again when the peer
 * closed it (one connection per worker and peer; every call, REGISTER
 * and probe shares it).  TLS peers are verified against their tls_ca
 * and tls_name.
 */
#ifndef SW_DAEMON_TRUNK_H
#define SW_DAEMON_TRUNK_H

#include <stddef.h>

#include "sip/dest.h"

struct worker;

/* Fill d for trunk ti; 0, or <0 when no connection could be started. */
int	trunk_dest(struct worker *w, size_t ti, struct sip_dest *d);
/* The same for core target i. */
int	core_dest(struct worker *w, size_t i, struct sip_dest *d);

#endif
