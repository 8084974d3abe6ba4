/*
 * Worker threads: receive, parse, match transactions, hand new
 * requests to the local UAS; drive transaction timers.  Order of the
 * per-message pipeline follows DESIGN.md section 2; the stages before
 * parsing (bans, ACLs, rate limits, overload shedding) plug in at
 * on_message(), and each worker's overload detector (overload.c) is
 * fed there and by its UDP sockets' backlog reports.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "sip/parse.h"
#include "daemon/call.h"
#include "daemon/guard.h"
#include "daemon/handoff.h"
#include "daemon/wcmd.h"
#include "daemon/natping.h"
#include "daemon/probe.h"
#include "daemon/trunkreg.h"
#include "daemon/register.h"
#include "daemon/worker.h"
#include "obs/metrics.h"

/*
 * Receive buffer of each UDP socket (the kernel doubles it).  It is
 * what absorbs a flood while the worker is busy or not scheduled: at
 * 300,000 datagrams a second of ~2 KiB buffer each, 16 MiB last about
 * 25 ms, shed at ~2 us each (PROT6).  Memory: the kernel's, and only
 * while a flood fills it.
 */
#define WORKER_UDP_RCVBUF	(8 * 1024 * 1024)

static struct log_ratelimit rl_send = LOG_RATELIMIT_INIT(5);

static const char *
tp_name(const struct sip_dest *d)
{
	switch (d->transport) {
	case SIP_TP_UDP: return "udp";
	case SIP_TP_TCP: return "tcp";
	case SIP_TP_TLS: return "tls";
	default: return "?";
	}
}

void
worker_event(struct worker *w, struct secevent *ev, const struct sip_dest *src)
{
	const struct sw_conf *c = w->env->conf;

	if (src != NULL) {
		ev->src = &src->addr;
		ev->transport = tp_name(src);
		if (src->lsn < c->nlisten) {
			ev->listener = w->env->lsn_name[src->lsn];
			ev->zone = c->zones[c->listen[src->lsn].zone].name;
		}
	}
	evlog_emit(w->env->ev, ev);
}

int
worker_send(struct worker *w, const struct sip_dest *d, const uint8_t *buf,
    size_t len)
{
	int r = -EINVAL;

	/* a connection accepted by another worker is written by it */
	if (d->transport != SIP_TP_UDP && d->conn_id != 0 &&
	    (d->conn_id >> 24) != w->idx && (d->conn_id >> 24) <
	    w->env->nworkers)
		return handoff_tx(w->env->workers[d->conn_id >> 24], d, buf,
		    len);
	if (d->lsn < w->nlsn) {
		if (d->transport == SIP_TP_UDP && w->udp[d->lsn] != NULL)
			r = udp_sock_send(w->udp[d->lsn], &d->addr, buf, len);
		else if ((d->transport == SIP_TP_TCP ||
		    d->transport == SIP_TP_TLS) && w->tcp[d->lsn] != NULL)
			r = tcp_send(w->tcp[d->lsn], d->conn_id, buf, len);
	}
	if (r < 0) {
		char a[SW_ADDR_STRLEN];

		w->st.send_errors++;
		LOG_LIMITED(LOG_INFO, &rl_send, "send to %s/%s: %s",
		    sw_addr_str(&d->addr, a, sizeof(a)), tp_name(d),
		    strerror(-r));
	}
	return r;
}

/* ---- transaction callbacks ---- */

static int
txn_send_cb(void *ctx, const struct sip_dest *d, const uint8_t *buf, size_t len)
{
	struct worker *w = ctx;
	int r = worker_send(w, d, buf, len);

	if (r == 0)
		w->st.replied++;
	/* A full UDP socket buffer loses one copy; retransmission timers
	 * cover it, so it is not a transaction failure. */
	return r == UV_EAGAIN ? 0 : r;
}

static int
tu_is(const struct txn *t, enum tu_kind k)
{
	const struct tu *tu = txn_tu(t);

	return tu != NULL && tu->kind == k;
}

static void
txn_response_cb(void *ctx, struct txn *t, const struct sip_msg *resp)
{
	if (tu_is(t, TU_CALL))
		call_txn_response(ctx, t, resp);
	else if (tu_is(t, TU_TRUNKREG))
		trunkreg_response(ctx, t, resp);
	else if (tu_is(t, TU_PROBE))
		probe_response(ctx, t, resp);
}

static void
txn_timeout_cb(void *ctx, struct txn *t)
{
	if (tu_is(t, TU_CALL))
		call_txn_timeout(ctx, t);
	else if (tu_is(t, TU_TRUNKREG))
		trunkreg_timeout(ctx, t);
	else if (tu_is(t, TU_PROBE))
		probe_timeout(ctx, t);
}

static void
txn_terminated_cb(void *ctx, struct txn *t)
{
	if (tu_is(t, TU_REG))
		reg_txn_gone(ctx, t);
	else if (tu_is(t, TU_CALL))
		call_txn_gone(ctx, t);
	else if (tu_is(t, TU_TRUNKREG))
		trunkreg_gone(ctx, t);
	else if (tu_is(t, TU_PROBE))
		probe_gone(ctx, t);
}

static const struct txn_ops txn_ops = {
	.send = txn_send_cb,
	.response = txn_response_cb,
	.timeout = txn_timeout_cb,
	.terminated = txn_terminated_cb,
};

/* ---- timers ---- */

static void on_tick(uv_timer_t *h);

void
worker_tick_rearm(struct worker *w)
{
	uint64_t next = timer_next(&w->timers), now = uv_now(&w->loop);

	if (next == UINT64_MAX) {
		if (w->tick_due != 0) {
			uv_timer_stop(&w->tick);
			w->tick_due = 0;
		}
		return;
	}
	if (w->tick_due != 0 && w->tick_due <= next)
		return;
	w->tick_due = next;
	uv_timer_start(&w->tick, on_tick, next > now ? next - now : 0, 0);
}

static void
on_tick(uv_timer_t *h)
{
	struct worker *w = h->data;
	uint64_t now = uv_now(&w->loop);

	if (w->tick_due != 0)	/* OBS2: how late timers run */
		metrics_loop_since(w->tick_due);
	w->tick_due = 0;
	txn_layer_set_now(w->txl, now);
	timer_run(&w->timers, now);
	worker_tick_rearm(w);
}

/* ---- the message path ---- */

/* sip.oversized, sip.invalid (well-formed, failed a sanity check) or
 * sip.malformed; all three count as malformed in the metrics. */
static void
reject_malformed(struct worker *w, const struct sip_dest *src,
    const uint8_t *buf, size_t len, const struct sip_perr *err)
{
	struct secevent ev;
	int oversized = err->status == 513 || err->status == 414;

	if (oversized)
		w->st.oversized++;
	else
		w->st.malformed++;
	metrics_verdict(w->env->conf->listen[src->lsn].zone, MET_V_MALFORMED);
	secevent_init(&ev, oversized ? SECEV_SIP_OVERSIZED : err->invalid ?
	    SECEV_SIP_INVALID : SECEV_SIP_MALFORMED);
	ev.reason = err->reason;
	ev.sample = slice_make(buf, len);
	secevent_add_int(&ev, "offset", (long long)err->off);
	secevent_add_int(&ev, "length", (long long)len);
	/* Only requests are answered, and only when enough of them can be
	 * read to address the answer; a malformed response is dropped. */
	if (sip_echo_salvage(buf, len, w->env->lim.max_line * 4, &w->echo) == 0) {
		ev.status = err->status;
		uas_reply_stateless(w, &w->echo, src, err->status, err->reason,
		    NULL);
	}
	worker_event(w, &ev, src);
}

/* sip.no_match: a response no client transaction (or NAT ping) waits
 * for; dropped.  Rate limited by evlog per source. */
static void
stray_response(struct worker *w, const struct sip_msg *m,
    const struct sip_dest *src)
{
	struct secevent ev;
	const struct sip_hdr *ua = sip_msg_hdr(m, SIP_H_SERVER);

	if (ua == NULL)
		ua = sip_msg_hdr(m, SIP_H_USER_AGENT);
	secevent_init(&ev, SECEV_SIP_NO_MATCH);
	ev.reason = "no transaction";
	ev.method = m->cseq_method_s;
	ev.call_id = m->call_id;
	if (ua != NULL)
		ev.user_agent = ua->value;
	secevent_add_int(&ev, "response", m->status);
	worker_event(w, &ev, src);
}

static void
handle_request(struct worker *w, const struct sip_msg *m,
    const struct sip_dest *src)
{
	struct txn *t = NULL;

	w->st.requests++;
	switch (txn_server_match(w->txl, m, src, &t)) {
	case TXN_M_ABSORBED:
		return;
	case TXN_M_ACK_STRAY:
	case TXN_M_ACK_2XX:	/* the dialog's: its own branch */
		if (m->to.has_tag)
			call_ack(w, m, src);
		return;
	case TXN_M_NEW:
		break;
	}
	if (guard_request(w, m, src))
		return;
	uas_request(w, m, src);
}

static void process(struct worker *w, const struct sip_dest *src,
    const uint8_t *buf, size_t len, enum guard_verdict g, int handed);

static void
on_message(void *ctx, const struct sip_dest *src, const uint8_t *buf,
    size_t len)
{
	struct worker *w = ctx;
	enum guard_verdict g;
	uint64_t t0;
	int timed;

	w->st.rx++;
	metrics_loop_since(uv_now(&w->loop));	/* OBS2: since the wake-up */
	txn_layer_set_now(w->txl, uv_now(&w->loop));
	if (src->transport == SIP_TP_UDP) {
		size_t k = sip_skip_crlf(buf, len);

		if (k == len) {		/* CRLF keep-alive datagram */
			w->st.keepalives++;
			return;
		}
		buf += k;
		len -= k;
	}
	overload_tick(&w->ovl);
	if ((g = guard_packet(w, src, buf, len, &timed)) == GUARD_DROP)
		return;
	if (!timed) {
		process(w, src, buf, len, g, 0);
		return;
	}
	/* what a request overload control would shed costs (a sample) */
	t0 = uv_hrtime();
	process(w, src, buf, len, g, 0);
	overload_cost(&w->ovl, uv_hrtime() - t0);
}

static void
on_backlog(void *ctx, const struct sip_backlog *b)
{
	struct worker *w = ctx;

	overload_queue(&w->ovl, b->queued, b->capacity, b->drops);
}

void
worker_rx_owned(struct worker *w, const struct sip_dest *src,
    const uint8_t *buf, size_t len)
{
	txn_layer_set_now(w->txl, uv_now(&w->loop));
	process(w, src, buf, len, GUARD_PASS, 1);
}

/* Parse and dispatch; `handed` when another worker passed it on. */
static void
process(struct worker *w, const struct sip_dest *src, const uint8_t *buf,
    size_t len, enum guard_verdict g, int handed)
{
	struct sip_perr err;
	struct sip_msg m;
	ssize_t r;
	int owner;

	r = sip_msg_parse(buf, len, &w->env->lim, src->transport == SIP_TP_UDP ?
	    0 : SIP_PARSE_STREAM, &m, w->hdrs, SIP_MAX_HDRS, &err);
	if (r <= 0) {
		if (r == 0) {	/* a framed stream message cannot be short */
			err.status = 400;
			err.reason = "Incomplete Message";
			err.off = len;
			err.invalid = 0;
		}
		reject_malformed(w, src, buf, len, &err);
		return;
	}
	if (g == GUARD_LIMIT) {
		if (m.is_request && m.method != SIP_M_ACK)
			uas_reply_limit(w, NULL, &m, src);
		return;
	}
	/* a response to, or a request in, a call another worker holds */
	if (!handed &&
	    (owner = handoff_owner(&m, w->env->nworkers)) >= 0 &&
	    (unsigned)owner != w->idx) {
		if (handoff_rx(w->env->workers[owner], src, buf, len) < 0)
			w->st.send_errors++;
		return;
	}
	if (m.is_request) {
		metrics_req_begin(w->env->conf->listen[src->lsn].zone,
		    m.method);
		handle_request(w, &m, src);
		metrics_req_end();
	} else {
		w->st.responses++;
		if (!natping_response(w->np, &m) &&
		    !txn_client_response(w->txl, &m, src))
			stray_response(w, &m, src);
	}
	worker_tick_rearm(w);
}

static void
on_stream_error(void *ctx, const struct sip_dest *src, const uint8_t *buf,
    size_t len, const struct sip_perr *e)
{
	struct worker *w = ctx;

	reject_malformed(w, src, buf, len, e);
}

static void
on_conn_event(void *ctx, const struct sip_dest *src, const char *reason,
    int kind)
{
	static const enum secevent_type types[SIP_CONN_EV_MAX] = {
		[SIP_CONN_EV_ERROR] = SECEV_TRANSPORT_ERROR,
		[SIP_CONN_EV_REFUSED] = SECEV_TRANSPORT_CONN_LIMIT,
		[SIP_CONN_EV_TLS_FAILED] = SECEV_TLS_HANDSHAKE_FAILED,
		[SIP_CONN_EV_TLS_CERT] = SECEV_TLS_CERT_REJECTED,
	};
	struct worker *w = ctx;
	struct secevent ev;

	if (kind == SIP_CONN_EV_TLS_FAILED || kind == SIP_CONN_EV_TLS_CERT)
		metrics_inc(kind == SIP_CONN_EV_TLS_CERT ? MET_C_TLS_CERT :
		    MET_C_TLS_HANDSHAKE, 1);
	secevent_init(&ev, kind >= 0 && kind < SIP_CONN_EV_MAX ? types[kind] :
	    SECEV_TRANSPORT_ERROR);
	ev.reason = reason;
	worker_event(w, &ev, src);
}

static const struct sip_rx_ops rx_ops = {
	.message = on_message,
	.stream_error = on_stream_error,
	.conn_event = on_conn_event,
	.backlog = on_backlog,
};

/* ---- lifecycle ---- */

static void
close_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static void
on_wake(uv_async_t *h)
{
	struct worker *w = h->data;

	for (size_t i = 0; i < w->nlsn; i++) {
		udp_sock_close(w->udp[i]);
		tcp_listener_close(w->tcp[i]);
		w->udp[i] = NULL;
		w->tcp[i] = NULL;
	}
	reg_service_close(w);
	call_service_close(w);
	natping_close(w->np);
	trunkreg_close(w);
	probe_close(w);
	handoff_close(w->ho);
	wcmd_close(w);
	uv_timer_stop(&w->tick);
	uv_close((uv_handle_t *)&w->tick, NULL);
	uv_close((uv_handle_t *)&w->wake, NULL);
}

int
worker_new(struct sw_env *env, unsigned idx, struct worker **ret)
{
	const struct sw_conf *c = env->conf;
	struct worker *w;
	struct tcp_opts to;
	int r;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return -ENOMEM;
	w->env = env;
	w->idx = idx;
	w->nlsn = c->nlisten;
	if ((r = uv_loop_init(&w->loop)) < 0) {
		free(w);
		return r;
	}
	uv_timer_init(&w->loop, &w->tick);
	w->tick.data = w;
	uv_async_init(&w->loop, &w->wake, on_wake);
	w->wake.data = w;
	if ((r = overload_init(&w->ovl, &w->loop, &c->overload)) < 0 ||
	    (r = reg_service_init(w)) < 0 ||
	    (r = call_service_init(w)) < 0 ||
	    (r = trunkreg_init(w)) < 0 ||
	    (r = probe_init(w)) < 0 ||
	    (r = handoff_new(w, &w->ho)) < 0 ||
	    (r = wcmd_init(w)) < 0 ||
	    (r = timer_heap_init(&w->timers, 2 * env->max_txns +
	    5 * (size_t)c->calls.max_calls + CONF_MAX_TRUNKS + 17)) < 0 ||
	    (r = txn_layer_new(&txn_ops, w, &env->timers, &w->timers,
	    env->max_txns, &w->txl)) < 0)
		goto fail;
	memset(&to, 0, sizeof(to));
	to.max_msg = env->lim.max_msg_stream;
	to.idle_timeout_ms = c->sip.tcp.idle_timeout_ms;
	to.message_timeout_ms = c->sip.tcp.message_timeout_ms;
	to.max_connections = c->sip.tcp.max_connections;
	to.max_outq = 4 * env->lim.max_msg_stream;
	to.lim = &env->lim;
	for (size_t i = 0; i < c->nlisten; i++) {
		const struct conf_listen *l = &c->listen[i];

		if (l->transport == CONF_TRANSPORT_UDP)
			r = udp_sock_open(&w->loop, &l->addr, (uint8_t)i,
			    WORKER_UDP_RCVBUF, &rx_ops, w, &w->udp[i]);
		else if (l->transport == CONF_TRANSPORT_TLS) {
			struct tcp_opts tlo = to;	/* its own handshake time */

			tlo.ready_timeout_ms = l->tls.handshake_timeout_ms;
			r = tls_listener_open(&w->loop, &l->addr, (uint8_t)i,
			    (uint8_t)idx, &tlo, env->tls[i], env->cl, &rx_ops, w,
			    &w->tcp[i]);
		} else
			r = tcp_listener_open(&w->loop, &l->addr, (uint8_t)i,
			    (uint8_t)idx, &to, env->cl, &rx_ops, w, &w->tcp[i]);
		if (r < 0) {
			log_warnx("listen %s: %s", env->lsn_name[i],
			    uv_strerror(r));
			goto fail;
		}
	}
	/* one worker keeps the NAT mappings of all phones open */
	if (idx == 0 && c->registrar.nat_keepalive_ms > 0 &&
	    (r = natping_new(w, c->registrar.nat_keepalive_ms, &w->np)) < 0)
		goto fail;
	*ret = w;
	return 0;
fail:
	/* close what was opened, let the loop release it, then free */
	on_wake(&w->wake);
	uv_run(&w->loop, UV_RUN_DEFAULT);
	worker_free(w);
	return r;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	char name[16];

	snprintf(name, sizeof(name), "worker-%u", w->idx);
	log_set_thread(name);
	metrics_thread_worker(w->idx);
	uv_update_time(&w->loop);
	trunkreg_start(w);
	probe_start(w);
	worker_tick_rearm(w);
	overload_start(&w->ovl);
	uv_run(&w->loop, UV_RUN_DEFAULT);
	log_info("%llu messages, %llu requests, %llu responses, %llu sent; "
	    "overload: shed %llu in %llu episodes; %llu refused with tables "
	    "full", (unsigned long long)w->st.rx,
	    (unsigned long long)w->st.requests,
	    (unsigned long long)w->st.responses,
	    (unsigned long long)w->st.replied,
	    (unsigned long long)w->st.overload_shed,
	    (unsigned long long)w->ovl.episodes,
	    (unsigned long long)w->st.shed);
	return NULL;
}

int
worker_start(struct worker *w)
{
	return -pthread_create(&w->th, NULL, worker_main, w);
}

void
worker_stop(struct worker *w)
{
	uv_async_send(&w->wake);
	pthread_join(w->th, NULL);
}

void
worker_free(struct worker *w)
{
	if (w == NULL)
		return;
	/* anything still open (a half-built worker) is closed here */
	uv_walk(&w->loop, close_walk, NULL);
	uv_run(&w->loop, UV_RUN_DEFAULT);
	uv_loop_close(&w->loop);
	txn_layer_free(w->txl);
	call_service_free(w);
	trunkreg_free(w);
	probe_free(w);
	handoff_free(w->ho);
	wcmd_free(w);
	timer_heap_clear(&w->timers);
	reg_service_free(w);
	natping_free(w->np);
	free(w);
}
