/*
 * Timers as a binary min-heap of intrusive nodes.  The owner drives
 * time: timer_run(now) fires what is due, so transaction timers can be
 * unit-tested with a synthetic clock and the worker needs one libuv
 * timer for the whole heap.  The heap array is sized once; adding to a
 * full heap fails (-SBC_EFULL) rather than allocating on a hot path.
 */
#ifndef SW_CORE_TIMER_H
#define SW_CORE_TIMER_H

#include <stddef.h>
#include <stdint.h>

struct timer;
typedef void	timer_fn(struct timer *t, uint64_t now);

struct timer {
	uint64_t	 when;		/* ms, owner's clock */
	size_t		 idx;		/* position in heap + 1; 0 = idle */
	timer_fn	*fn;
};

struct timer_heap {
	struct timer	**v;
	size_t		  n;
	size_t		  cap;
};

int		timer_heap_init(struct timer_heap *h, size_t cap);
void		timer_heap_clear(struct timer_heap *h);
void		timer_init(struct timer *t, timer_fn *fn);
/* (Re)arm t to fire at `when`.  0, or -SBC_EFULL. */
int		timer_arm(struct timer_heap *h, struct timer *t, uint64_t when);
void		timer_cancel(struct timer_heap *h, struct timer *t);
static inline int
timer_pending(const struct timer *t)
{
	return t->idx != 0;
}
/* Deadline of the earliest timer, or UINT64_MAX. */
uint64_t	timer_next(const struct timer_heap *h);
/* Fire every timer due at or before now; returns how many fired.
 * A callback may arm or cancel any timer, itself included. */
size_t		timer_run(struct timer_heap *h, uint64_t now);

/* Monotonic milliseconds. */
uint64_t	time_now_ms(void);

#endif
