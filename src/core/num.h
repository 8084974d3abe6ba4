/*
 * Decimal number parsing over slices.  No sign, no white space, no
 * leading '+', no locale; the whole slice must be digits.
 */
#ifndef SW_CORE_NUM_H
#define SW_CORE_NUM_H

#include <stdint.h>

#include "core/slice.h"

/*
 * Parse s as a decimal integer no larger than max.
 * Returns 0 and writes *ret, -SBC_EPARSE for a non-digit or an empty
 * slice, -SBC_ELIMIT when the value exceeds max (never wraps).
 */
int	parse_u64(struct slice s, uint64_t max, uint64_t *ret);
int	parse_u32(struct slice s, uint32_t max, uint32_t *ret);

/* Consume leading digits from *s into a number (at most max). */
int	take_u32(struct slice *s, uint32_t max, uint32_t *ret);

#endif
