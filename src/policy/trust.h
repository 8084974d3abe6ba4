/*
 * Trust earned by authenticating (PROT2 "trust promotion"): for each
 * source address, an estimate of how many distinct accounts
 * authenticated from it recently.  The rate limiter multiplies a
 * source's anonymous budgets by that number (capped), so the NAT of an
 * office with 200 phones gets 200 phones' worth of budget, and the ban
 * logic never rate-bans a source that has authenticated accounts.
 *
 * Distinct accounts are counted with a 64-bit linear-counting bitmap
 * per source (exact enough up to ~100, which is beyond the cap of 50).
 * A fixed table, 64 stripes with a mutex each, 8-slot probe windows;
 * a new source evicts the stalest entry of its window.  Entries older
 * than ttl count as absent.  Time: the caller's monotonic clock (ms).
 */
#ifndef SW_POLICY_TRUST_H
#define SW_POLICY_TRUST_H

#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/slice.h"

#define TRUST_MAX_MULT		50u
#define TRUST_MAX_CAPACITY	(1u << 22)

struct trust_table;

/* capacity: sources (rounded up); ttl_ms: how long trust lasts. */
int		trust_new(size_t capacity, uint64_t ttl_ms,
		    struct trust_table **ret);
void		trust_free(struct trust_table *t);
/* account authenticated from src at now_ms. */
void		trust_note(struct trust_table *t, const union sw_addr *src,
		    struct slice account, uint64_t now_ms);
/* Distinct accounts seen from src within ttl, 0..TRUST_MAX_MULT. */
unsigned	trust_accounts(struct trust_table *t, const union sw_addr *src,
		    uint64_t now_ms);

#endif
