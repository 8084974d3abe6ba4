#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "media/portpool.h"

struct portpool {
	pthread_mutex_t	 mu;
	uint16_t	 base;		/* first RTP port */
	size_t		 n;		/* pairs */
	size_t		 used;
	size_t		 cursor;	/* next pair to try */
	uint64_t	*bits;		/* 1: handed out */
};

int
portpool_new(uint16_t lo, uint16_t hi, struct portpool **ret)
{
	struct portpool *p;
	uint32_t first = (uint32_t)lo + (lo & 1u);

	if (first + 1 > hi)
		return -EINVAL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -ENOMEM;
	p->base = (uint16_t)first;
	p->n = ((size_t)hi - first + 1) / 2;
	if ((p->bits = calloc((p->n + 63) / 64, sizeof(uint64_t))) == NULL) {
		free(p);
		return -ENOMEM;
	}
	pthread_mutex_init(&p->mu, NULL);
	*ret = p;
	return 0;
}

void
portpool_free(struct portpool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_destroy(&p->mu);
	free(p->bits);
	free(p);
}

int
portpool_get(struct portpool *p, uint16_t *ret)
{
	int r = -ENOSPC;

	pthread_mutex_lock(&p->mu);
	if (p->used < p->n)
		for (size_t k = 0; k < p->n; k++) {
			size_t i = (p->cursor + k) % p->n;
			uint64_t bit = UINT64_C(1) << (i % 64);

			if (p->bits[i / 64] & bit)
				continue;
			p->bits[i / 64] |= bit;
			p->used++;
			p->cursor = (i + 1) % p->n;
			*ret = (uint16_t)(p->base + 2 * i);
			r = 0;
			break;
		}
	pthread_mutex_unlock(&p->mu);
	return r;
}

void
portpool_put(struct portpool *p, uint16_t rtp)
{
	size_t i;
	uint64_t bit;

	if (rtp < p->base || (rtp - p->base) % 2 != 0)
		return;
	i = (size_t)(rtp - p->base) / 2;
	if (i >= p->n)
		return;
	bit = UINT64_C(1) << (i % 64);
	pthread_mutex_lock(&p->mu);
	if (p->bits[i / 64] & bit) {
		p->bits[i / 64] &= ~bit;
		p->used--;
	}
	pthread_mutex_unlock(&p->mu);
}

size_t
portpool_size(const struct portpool *p)
{
	return p->n;
}

size_t
portpool_in_use(struct portpool *p)
{
	size_t n;

	pthread_mutex_lock(&p->mu);
	n = p->used;
	pthread_mutex_unlock(&p->mu);
	return n;
}
