/*
 * Fixed-capacity chained hash index (see ptab.h).  The bucket count is
 * the power of two at or above cap, so chains average below one entry
 * when full; the hash is keyed SipHash from the caller, so a peer
 * cannot lengthen a chain on purpose.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/ptab.h"

int
ptab_init(struct ptab *t, uint32_t cap)
{
	uint32_t nb = 1;

	memset(t, 0, sizeof(*t));
	if (cap == 0 || cap > PTAB_MAX_CAP)
		return -EINVAL;
	while (nb < cap)
		nb <<= 1;
	t->head = malloc((size_t)nb * sizeof(*t->head));
	t->next = malloc((size_t)cap * sizeof(*t->next));
	t->hash = calloc(cap, sizeof(*t->hash));
	t->live = calloc(cap, sizeof(*t->live));
	if (t->head == NULL || t->next == NULL || t->hash == NULL ||
	    t->live == NULL) {
		ptab_clear(t);
		return -ENOMEM;
	}
	t->mask = nb - 1;
	t->cap = cap;
	ptab_reset(t);
	return 0;
}

void
ptab_clear(struct ptab *t)
{
	free(t->head);
	free(t->next);
	free(t->hash);
	free(t->live);
	memset(t, 0, sizeof(*t));
}

void
ptab_reset(struct ptab *t)
{
	for (uint32_t i = 0; i <= t->mask; i++)
		t->head[i] = PTAB_NIL;
	/* Free list in slot order, so a fresh table fills 0, 1, 2... */
	for (uint32_t i = 0; i < t->cap; i++)
		t->next[i] = i + 1 < t->cap ? i + 1 : PTAB_NIL;
	memset(t->live, 0, t->cap);
	t->free_head = t->cap > 0 ? 0 : PTAB_NIL;
	t->used = 0;
}

uint32_t
ptab_first(const struct ptab *t, uint64_t h)
{
	uint32_t s = t->head[h & t->mask];

	while (s != PTAB_NIL && t->hash[s] != h)
		s = t->next[s];
	return s;
}

uint32_t
ptab_next(const struct ptab *t, uint32_t slot, uint64_t h)
{
	uint32_t s = t->next[slot];

	while (s != PTAB_NIL && t->hash[s] != h)
		s = t->next[s];
	return s;
}

uint32_t
ptab_add(struct ptab *t, uint64_t h)
{
	uint32_t s = t->free_head, b = (uint32_t)(h & t->mask);

	if (s == PTAB_NIL)
		return PTAB_NIL;
	t->free_head = t->next[s];
	t->hash[s] = h;
	t->live[s] = 1;
	t->next[s] = t->head[b];
	t->head[b] = s;
	t->used++;
	return s;
}

void
ptab_del(struct ptab *t, uint32_t slot)
{
	uint32_t *pp;

	if (!ptab_live(t, slot))
		return;
	pp = &t->head[t->hash[slot] & t->mask];
	while (*pp != PTAB_NIL && *pp != slot)
		pp = &t->next[*pp];
	if (*pp == slot)
		*pp = t->next[slot];
	t->live[slot] = 0;
	t->next[slot] = t->free_head;
	t->free_head = slot;
	t->used--;
}
