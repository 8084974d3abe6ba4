/*
 * Handing work to the worker that owns it.  Each worker has its own
 * sockets, transactions and calls, but the kernel spreads datagrams
 * over the workers' SO_REUSEPORT sockets by address, so a response or
 * in-dialog request can land on a worker that does not hold its
 * transaction or call; and a stream connection can only be written by
 * the worker that accepted it.  Both cases move a copy of the bytes to
 * the owner's inbox, which it drains on its own loop.
 *
 * Only messages that cross workers pay for the copy; the inbox is
 * bounded (HANDOFF_MAX items), and what does not fit is dropped and
 * counted, like a full socket buffer.
 */
#ifndef SW_DAEMON_HANDOFF_H
#define SW_DAEMON_HANDOFF_H

#include <stddef.h>
#include <stdint.h>

#include "sip/dest.h"

#define HANDOFF_MAX	65536

struct worker;
struct handoff;

int	handoff_new(struct worker *w, struct handoff **ret);
/* Close the async handle (from the owner's loop, at shutdown). */
void	handoff_close(struct handoff *h);
/* Free what is left; after the loop ran the close. */
void	handoff_free(struct handoff *h);

/* A received message for `to` to process as if it arrived there. */
int	handoff_rx(struct worker *to, const struct sip_dest *src,
	    const uint8_t *buf, size_t len);
/* Bytes for `to` to send on its own socket or connection d. */
int	handoff_tx(struct worker *to, const struct sip_dest *d,
	    const uint8_t *buf, size_t len);

/*
 * The worker that owns a message: from the top Via branch of a
 * response, or the To tag of an in-dialog request, when we made it
 * (see call_id.h).  -1 when the message names no owner.
 */
int	handoff_owner(const struct sip_msg *m, unsigned nworkers);

#endif
