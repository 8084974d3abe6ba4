/*
 * Nonce-count replay protection (AUTH1, RFC 7616 3.3), shared by all
 * worker threads.  For every nonce that authenticated a request it
 * keeps the highest nc seen and a 64-bit window of the nc values below
 * it, so moderate reordering over UDP is accepted while any exact
 * repeat is refused.
 *
 * A bounded table: 64 stripes, each with its own mutex and a fixed,
 * preallocated share of the capacity (no allocation after
 * replay_new(), no global lock).  Keys are hashed with sw_hash() (keyed
 * SipHash) so a peer cannot aim nonces at one stripe.  When a stripe is
 * full, expired entries are evicted; if none has expired the answer is
 * REPLAY_FULL and the caller re-challenges (stale=true): fail closed,
 * never accept unchecked.
 *
 * Owns: the table.  Does not own: nonce validity (nonce.c) or when to
 * record (digest_authenticate(): only after a right response).
 */
#ifndef SW_AUTH_REPLAY_H
#define SW_AUTH_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "core/slice.h"

#define REPLAY_NONCE_MAX	64	/* longest nonce kept; ours are 43 */
#define REPLAY_WINDOW		64	/* nc values tracked below the highest */
#define REPLAY_CAPACITY_MAX	(1u << 24)

enum replay_status {
	REPLAY_OK = 0,		/* first use of this nc: recorded */
	REPLAY_REPLAYED,	/* seen before, or too far below the window */
	REPLAY_FULL,		/* no room even after evicting expired entries */
	REPLAY_INVALID,		/* empty/over-long nonce, nc 0, or expired */
	REPLAY_STATUS_MAX
};

struct replay;

/* "ok", "replayed", "full", "invalid". */
const char	*replay_status_name(enum replay_status s);

/*
 * A table for about capacity live nonces (1..REPLAY_CAPACITY_MAX):
 * each of the 64 stripes holds ceil(capacity / 64).  0, -EINVAL or
 * -ENOMEM; *ret written only on success.
 */
int	replay_new(size_t capacity, struct replay **ret);
/* NULL is a no-op. */
void	replay_free(struct replay *r);

/*
 * Record nc for nonce unless it was seen before.  expires is when the
 * nonce stops being valid (nonce_check()'s *ret_expires); the entry
 * lives until then (now > expires: expired).  Thread-safe.
 */
enum replay_status replay_check_and_set(struct replay *r, struct slice nonce,
	    uint32_t nc, int64_t now, int64_t expires);

/* Live entries (expired ones not yet evicted included).  Takes each
 * stripe's lock in turn: for metrics and tests, not the packet path. */
size_t	replay_count(struct replay *r);

#endif
