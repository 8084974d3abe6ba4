#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "core/err.h"
#include "core/timer.h"

int
timer_heap_init(struct timer_heap *h, size_t cap)
{
	h->n = 0;
	h->cap = cap;
	h->v = calloc(cap ? cap : 1, sizeof(*h->v));
	return h->v != NULL ? 0 : -ENOMEM;
}

void
timer_heap_clear(struct timer_heap *h)
{
	for (size_t i = 0; i < h->n; i++)
		h->v[i]->idx = 0;
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}

void
timer_init(struct timer *t, timer_fn *fn)
{
	t->when = 0;
	t->idx = 0;
	t->fn = fn;
}

static void
heap_set(struct timer_heap *h, size_t i, struct timer *t)
{
	h->v[i] = t;
	t->idx = i + 1;
}

static void
sift_up(struct timer_heap *h, size_t i)
{
	struct timer *t = h->v[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (h->v[parent]->when <= t->when)
			break;
		heap_set(h, i, h->v[parent]);
		i = parent;
	}
	heap_set(h, i, t);
}

static void
sift_down(struct timer_heap *h, size_t i)
{
	struct timer *t = h->v[i];

	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		uint64_t best = t->when;

		if (l < h->n && h->v[l]->when < best) {
			m = l;
			best = h->v[l]->when;
		}
		if (r < h->n && h->v[r]->when < best)
			m = r;
		if (m == i)
			break;
		heap_set(h, i, h->v[m]);
		i = m;
	}
	heap_set(h, i, t);
}

void
timer_cancel(struct timer_heap *h, struct timer *t)
{
	size_t i;
	struct timer *last;

	if (t->idx == 0)
		return;
	i = t->idx - 1;
	t->idx = 0;
	last = h->v[--h->n];
	if (i == h->n)
		return;
	heap_set(h, i, last);
	if (i > 0 && h->v[(i - 1) / 2]->when > last->when)
		sift_up(h, i);
	else
		sift_down(h, i);
}

int
timer_arm(struct timer_heap *h, struct timer *t, uint64_t when)
{
	timer_cancel(h, t);
	if (h->n >= h->cap)
		return -SBC_EFULL;
	t->when = when;
	heap_set(h, h->n++, t);
	sift_up(h, h->n - 1);
	return 0;
}

uint64_t
timer_next(const struct timer_heap *h)
{
	return h->n > 0 ? h->v[0]->when : UINT64_MAX;
}

size_t
timer_run(struct timer_heap *h, uint64_t now)
{
	size_t fired = 0;

	while (h->n > 0 && h->v[0]->when <= now) {
		struct timer *t = h->v[0];

		timer_cancel(h, t);
		fired++;
		t->fn(t, now);
	}
	return fired;
}

uint64_t
time_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
