/*
 * A SIP worker: one thread, one libuv loop, its own sockets on every
 * listener (SO_REUSEPORT), its own timer heap and transaction table.
 * Nothing on its message path takes a lock shared with other workers.
 */
#ifndef SW_DAEMON_WORKER_H
#define SW_DAEMON_WORKER_H

#include <pthread.h>
#include <stdint.h>
#include <uv.h>

#include "daemon/env.h"
#include "daemon/overload.h"
#include "sip/build.h"

struct worker_stats {
	uint64_t	rx;		/* datagrams and stream messages */
	uint64_t	keepalives;
	uint64_t	requests;
	uint64_t	responses;
	uint64_t	malformed;
	uint64_t	oversized;
	uint64_t	replied;	/* responses we sent */
	uint64_t	send_errors;
	uint64_t	shed;		/* refused: transaction table full */
	uint64_t	overload_shed;	/* shed by overload control (PROT6) */
	uint64_t	banned;		/* dropped: source banned */
	uint64_t	acl_denied;
	uint64_t	rate_limited;
	uint64_t	bans;		/* bans this worker decided */
	uint64_t	scanners;
	uint64_t	challenges;
	uint64_t	auth_ok;
	uint64_t	auth_failed;
};

struct reg_service;
struct call_svc;
struct handoff;
struct wcmd_inbox;
struct natping;
struct trunkreg;
struct probes;

struct worker {
	struct sw_env		*env;
	unsigned		 idx;
	pthread_t		 th;
	uv_loop_t		 loop;
	uv_timer_t		 tick;		/* drives `timers` */
	uv_async_t		 wake;		/* stop request */
	uint64_t		 tick_due;
	struct timer_heap	 timers;
	struct txn_layer	*txl;
	size_t			 nlsn;
	struct udp_sock		*udp[CONF_MAX_LISTEN];
	struct tcp_listener	*tcp[CONF_MAX_LISTEN];	/* tcp and tls */
	struct worker_stats	 st;
	struct overload		 ovl;		/* overload.c */
	/* scratch, reused for every message */
	struct sip_hdr		 hdrs[SIP_MAX_HDRS];
	struct sip_hdr		 hdrs2[SIP_MAX_HDRS];	/* a second message */
	struct sip_echo		 echo;
	uint8_t			 out[SIP_MAX_MSG_TCP];
	struct reg_service	*reg;		/* register.c */
	struct call_svc		*calls;		/* call.c */
	struct handoff		*ho;		/* handoff.c */
	struct wcmd_inbox	*cmd;		/* wcmd.c: control commands */
	struct natping		*np;		/* natping.c: worker 0 only */
	struct trunkreg		*treg;		/* trunkreg.c, worker 0 */
	struct probes		*probes;	/* probe.c, worker 0 */
	uint32_t		 trunk_conn[CONF_MAX_TRUNKS];	/* trunk.c */
	uint32_t		 core_conn[CONF_MAX_TARGETS];	/* trunk.c */
	struct reg_request	 rq;
	struct reg_result	 rs;
};

/* Create the loop and bind every listener; errors are reported here,
 * before any thread starts. */
int	worker_new(struct sw_env *env, unsigned idx, struct worker **ret);
int	worker_start(struct worker *w);
/* Ask the loop to close everything and return; then join and free. */
void	worker_stop(struct worker *w);
void	worker_free(struct worker *w);

/* Send to d through this worker's sockets. */
int	worker_send(struct worker *w, const struct sip_dest *d,
	    const uint8_t *buf, size_t len);
/* A message another worker handed over (handoff.c): parsed and
 * processed here, without the per-packet guard it already passed. */
void	worker_rx_owned(struct worker *w, const struct sip_dest *src,
	    const uint8_t *buf, size_t len);
/* Emit a security event with the transport fields of src filled in. */
void	worker_event(struct worker *w, struct secevent *ev,
	    const struct sip_dest *src);

/* Re-arm the tick after the timer heap changed outside on_message. */
void	worker_tick_rearm(struct worker *w);

/* The local UAS (uas.c): requests no transaction absorbed. */
void	uas_request(struct worker *w, const struct sip_msg *m,
	    const struct sip_dest *src);
/* Final (or provisional) response to m through its transaction t. */
int	uas_reply(struct worker *w, struct txn *t, const struct sip_msg *m,
	    const struct sip_dest *src, unsigned status, const char *reason,
	    const char *extra);
/* 503 + Retry-After of the zone: over a rate limit. */
void	uas_reply_limit(struct worker *w, struct txn *t,
	    const struct sip_msg *m, const struct sip_dest *src);
/* An event about a decision on request m (status answered, reason). */
void	uas_event(struct worker *w, enum secevent_type type,
	    const struct sip_msg *m, const struct sip_dest *src, unsigned status,
	    const char *reason);
/* route.failed for m: uas_event() plus the destination as `to`. */
void	uas_route_failed(struct worker *w, const struct sip_msg *m,
	    const struct sip_dest *src, unsigned status, const char *reason);
/* Answer without a transaction (malformed input, overload). */
void	uas_reply_stateless(struct worker *w, const struct sip_echo *e,
	    const struct sip_dest *src, unsigned status, const char *reason,
	    const char *extra);

#endif
