/*
 * Media port pairs (MEDIA1): the even ports of a slice of the
 * configured range, RTP on the even port and RTCP on the next.  One
 * pool per media worker and address, so the workers own disjoint
 * slices and allocating for one never waits on another.
 *
 * Owns: which pairs are handed out.  Not here: binding sockets (the
 * relay puts back a pair another process holds and takes the next).
 *
 * Allocation walks round-robin from the last pair handed out, so a pair
 * just released is reused last: late packets of an ended call should
 * not reach the next call on the same port.  Calls come from SIP
 * workers (call setup, not the packet path); a mutex makes that safe.
 */
#ifndef SW_MEDIA_PORTPOOL_H
#define SW_MEDIA_PORTPOOL_H

#include <stddef.h>
#include <stdint.h>

struct portpool;

/*
 * The pairs (p, p + 1) for even p with lo <= p and p + 1 <= hi.
 * Returns 0, -EINVAL when no pair fits, -ENOMEM.
 */
int	portpool_new(uint16_t lo, uint16_t hi, struct portpool **ret);
void	portpool_free(struct portpool *p);

/* A free pair's RTP port in *ret: 0, or -ENOSPC when all are out. */
int	portpool_get(struct portpool *p, uint16_t *ret);
/* Give back a pair from portpool_get (other values are ignored). */
void	portpool_put(struct portpool *p, uint16_t rtp);

size_t	portpool_size(const struct portpool *p);	/* pairs in all */
size_t	portpool_in_use(struct portpool *p);

#endif
