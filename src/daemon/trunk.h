/*
 * Where a trunk's requests go from this worker: its address over UDP,
 * or this worker's own outbound TCP/TLS connection to it, opened on
 * first use and opened again when the provider closed it (RFC 5923
 * style reuse: one connection per worker and trunk, every call and
 * REGISTER on it).
 */
#ifndef SW_DAEMON_TRUNK_H
#define SW_DAEMON_TRUNK_H

#include <stddef.h>

#include "sip/dest.h"

struct worker;

/* Fill d for trunk ti; 0, or <0 when no connection could be started. */
int	trunk_dest(struct worker *w, size_t ti, struct sip_dest *d);

#endif
