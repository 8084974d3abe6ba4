/*
 * Connections per source address across all workers.  Touched only at
 * accept and close, never per message, so one mutex is enough.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sip/transport.h"

#define CL_BUCKETS	4096

struct cl_entry {
	struct cl_entry	*next;
	union sw_addr	 ip;		/* port zeroed */
	uint32_t	 count;
};

struct connlimit {
	pthread_mutex_t	 mu;
	uint32_t	 max_per_source;
	uint32_t	 max_total;
	uint32_t	 total;
	struct cl_entry	*b[CL_BUCKETS];
};

int
connlimit_new(uint32_t max_per_source, uint32_t max_total,
    struct connlimit **ret)
{
	struct connlimit *cl = calloc(1, sizeof(*cl));

	if (cl == NULL)
		return -ENOMEM;
	pthread_mutex_init(&cl->mu, NULL);
	cl->max_per_source = max_per_source;
	cl->max_total = max_total;
	*ret = cl;
	return 0;
}

void
connlimit_free(struct connlimit *cl)
{
	if (cl == NULL)
		return;
	for (size_t i = 0; i < CL_BUCKETS; i++) {
		struct cl_entry *e = cl->b[i], *n;

		for (; e != NULL; e = n) {
			n = e->next;
			free(e);
		}
	}
	pthread_mutex_destroy(&cl->mu);
	free(cl);
}

int
connlimit_acquire(struct connlimit *cl, const union sw_addr *a)
{
	size_t bi = sw_addr_hash(a, 0) % CL_BUCKETS;
	struct cl_entry *e;
	int r = 0;

	pthread_mutex_lock(&cl->mu);
	if (cl->max_total && cl->total >= cl->max_total) {
		r = -EMFILE;
		goto out;
	}
	for (e = cl->b[bi]; e != NULL; e = e->next)
		if (sw_addr_eq_ip(&e->ip, a))
			break;
	if (e == NULL) {
		if ((e = calloc(1, sizeof(*e))) == NULL) {
			r = -ENOMEM;
			goto out;
		}
		e->ip = *a;
		sw_addr_set_port(&e->ip, 0);
		e->next = cl->b[bi];
		cl->b[bi] = e;
	}
	if (cl->max_per_source && e->count >= cl->max_per_source) {
		r = -EUSERS;
		goto out;
	}
	e->count++;
	cl->total++;
out:
	pthread_mutex_unlock(&cl->mu);
	return r;
}

void
connlimit_release(struct connlimit *cl, const union sw_addr *a)
{
	size_t bi = sw_addr_hash(a, 0) % CL_BUCKETS;
	struct cl_entry **pp, *e;

	pthread_mutex_lock(&cl->mu);
	for (pp = &cl->b[bi]; (e = *pp) != NULL; pp = &e->next)
		if (sw_addr_eq_ip(&e->ip, a))
			break;
	if (e != NULL && e->count > 0) {
		e->count--;
		cl->total--;
		if (e->count == 0) {
			*pp = e->next;
			free(e);
		}
	}
	pthread_mutex_unlock(&cl->mu);
}
