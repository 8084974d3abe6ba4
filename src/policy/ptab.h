/*
 * A fixed-capacity hash index over slot numbers, the skeleton of every
 * table in policy/ (rate limits, bans, brute force, scanner behaviour).
 * It maps a 64-bit keyed hash to slots 0..cap-1 through chains of
 * slot numbers; the owner keeps its entries in its own array indexed
 * by slot and compares keys itself.  All memory is allocated by
 * ptab_init(); nothing after.  No locking: each stripe of a striped
 * table owns one ptab and guards it with its own lock.
 */
#ifndef SW_POLICY_PTAB_H
#define SW_POLICY_PTAB_H

#include <stddef.h>
#include <stdint.h>

#define PTAB_NIL	UINT32_MAX
/* Most slots one ptab takes. */
#define PTAB_MAX_CAP	(1u << 28)

struct ptab {
	uint32_t	*head;		/* nbucket chain heads */
	uint32_t	*next;		/* per slot: chain link or free link */
	uint64_t	*hash;		/* per slot */
	uint8_t		*live;		/* per slot: 1 when in use */
	uint32_t	 mask;		/* nbucket - 1 */
	uint32_t	 cap;
	uint32_t	 used;
	uint32_t	 free_head;
};

/* cap slots (1..PTAB_MAX_CAP).  0, -EINVAL or -ENOMEM. */
int		ptab_init(struct ptab *t, uint32_t cap);
/* Free the arrays; the ptab may be initialized again. */
void		ptab_clear(struct ptab *t);
/* Forget every slot (keeps the memory). */
void		ptab_reset(struct ptab *t);

/* First / next slot whose hash is h, or PTAB_NIL. */
uint32_t	ptab_first(const struct ptab *t, uint64_t h);
uint32_t	ptab_next(const struct ptab *t, uint32_t slot, uint64_t h);
/* Take a free slot for hash h; PTAB_NIL when full. */
uint32_t	ptab_add(struct ptab *t, uint64_t h);
/* Release a live slot. */
void		ptab_del(struct ptab *t, uint32_t slot);

static inline int
ptab_live(const struct ptab *t, uint32_t slot)
{
	return slot < t->cap && t->live[slot];
}

static inline int
ptab_full(const struct ptab *t)
{
	return t->used >= t->cap;
}

#endif
