/*
 * Keyed hashing for every table indexed by peer-controlled bytes
 * (addresses, branches, Call-IDs): SipHash-2-4 with a per-process
 * random key, so a peer cannot aim collisions at one bucket.
 */
#ifndef SW_CORE_HASH_H
#define SW_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>

/* Draw the process key; call once before threads start.  0 or -errno. */
int		sw_hash_init(void);
/* Use a fixed key (tests, fuzzers: reproducible layouts). */
void		sw_hash_set_key(const uint8_t key[16]);
uint64_t	sw_hash(const void *p, size_t len);
/* Hash with an explicit key (for values that must be stable). */
uint64_t	sw_siphash24(const uint8_t key[16], const void *p, size_t len);

#endif
