#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "daemon/handoff.h"
#include "daemon/ident.h"
#include "daemon/worker.h"

enum { HO_RX = 1, HO_TX };

struct ho_item {
	struct ho_item	*next;
	uint8_t		 kind;
	struct sip_dest	 d;
	size_t		 len;
	uint8_t		 buf[];
};

struct handoff {
	struct worker	*w;
	uv_async_t	 async;
	pthread_mutex_t	 mu;		/* head, tail, n */
	struct ho_item	*head, *tail;
	size_t		 n;
};

static void
drain(uv_async_t *a)
{
	struct handoff *h = a->data;
	struct ho_item *it, *nx;

	pthread_mutex_lock(&h->mu);
	it = h->head;
	h->head = h->tail = NULL;
	h->n = 0;
	pthread_mutex_unlock(&h->mu);
	for (; it != NULL; it = nx) {
		nx = it->next;
		if (it->kind == HO_RX)
			worker_rx_owned(h->w, &it->d, it->buf, it->len);
		else
			worker_send(h->w, &it->d, it->buf, it->len);
		free(it);
	}
	worker_tick_rearm(h->w);
}

int
handoff_new(struct worker *w, struct handoff **ret)
{
	struct handoff *h;
	int r;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return -ENOMEM;
	h->w = w;
	pthread_mutex_init(&h->mu, NULL);
	if ((r = uv_async_init(&w->loop, &h->async, drain)) < 0) {
		pthread_mutex_destroy(&h->mu);
		free(h);
		return r;
	}
	h->async.data = h;
	*ret = h;
	return 0;
}

void
handoff_close(struct handoff *h)
{
	if (h != NULL && !uv_is_closing((uv_handle_t *)&h->async))
		uv_close((uv_handle_t *)&h->async, NULL);
}

void
handoff_free(struct handoff *h)
{
	struct ho_item *it, *nx;

	if (h == NULL)
		return;
	for (it = h->head; it != NULL; it = nx) {
		nx = it->next;
		free(it);
	}
	pthread_mutex_destroy(&h->mu);
	free(h);
}

static int
put(struct worker *to, uint8_t kind, const struct sip_dest *d,
    const uint8_t *buf, size_t len)
{
	struct handoff *h = to->ho;
	struct ho_item *it;

	if (h == NULL)
		return -ESHUTDOWN;
	if ((it = malloc(sizeof(*it) + len)) == NULL)
		return -ENOMEM;
	it->next = NULL;
	it->kind = kind;
	it->d = *d;
	it->len = len;
	memcpy(it->buf, buf, len);
	pthread_mutex_lock(&h->mu);
	if (h->n >= HANDOFF_MAX) {
		pthread_mutex_unlock(&h->mu);
		free(it);
		return -ENOBUFS;
	}
	if (h->tail != NULL)
		h->tail->next = it;
	else
		h->head = it;
	h->tail = it;
	h->n++;
	pthread_mutex_unlock(&h->mu);
	uv_async_send(&h->async);
	return 0;
}

int
handoff_rx(struct worker *to, const struct sip_dest *src, const uint8_t *buf,
    size_t len)
{
	return put(to, HO_RX, src, buf, len);
}

int
handoff_tx(struct worker *to, const struct sip_dest *d, const uint8_t *buf,
    size_t len)
{
	return put(to, HO_TX, d, buf, len);
}

int
handoff_owner(const struct sip_msg *m, unsigned nworkers)
{
	int o;

	if (!m->is_request)
		o = ident_branch_owner(m->via1.branch);
	else if (m->to.has_tag && m->method != SIP_M_CANCEL)
		o = ident_tag_owner(m->to.tag);
	else
		o = -1;
	return o >= 0 && (unsigned)o < nworkers ? o : -1;
}
