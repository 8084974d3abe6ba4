/*
 * SIP transactions (RFC 3261 section 17, with the RFC 6026 Accepted
 * states).  The layer is pure logic: it never touches a socket or a
 * clock.  The owner (a worker) passes the current time in, drives the
 * timer heap, and supplies a send callback; the TU gets responses,
 * timeouts and terminations through callbacks.
 *
 * Ownership: the layer owns every struct txn and the bytes it keeps
 * (the last response of a server transaction, the request and ACK of
 * a client transaction).  A TU may keep a txn pointer only until its
 * `terminated` callback runs.
 */
#ifndef SW_SIP_TXN_H
#define SW_SIP_TXN_H

#include <stdint.h>

#include "core/addr.h"
#include "core/timer.h"
#include "sip/msg.h"

#include "sip/dest.h"

struct sip_timers {
	uint32_t	t1;		/* ms, RFC 3261 default 500 */
	uint32_t	t2;		/* ms, default 4000 */
	uint32_t	t4;		/* ms, default 5000 */
};

enum txn_kind {
	TXN_SERVER_INVITE = 1,
	TXN_SERVER_NONINVITE,
	TXN_CLIENT_INVITE,
	TXN_CLIENT_NONINVITE,
	TXN_KIND_MAX
};

enum txn_state {
	TXN_S_TRYING = 1,	/* non-INVITE, nothing sent / received yet */
	TXN_S_CALLING,		/* client INVITE before any response */
	TXN_S_PROCEEDING,
	TXN_S_COMPLETED,
	TXN_S_CONFIRMED,	/* server INVITE, ACK received */
	TXN_S_ACCEPTED,		/* RFC 6026: INVITE after a 2xx */
	TXN_S_TERMINATED,
	TXN_S_MAX
};

struct txn;

struct txn_ops {
	/* Send bytes to d; 0 or a negative error (then the txn ends). */
	int	(*send)(void *ctx, const struct sip_dest *d,
		    const uint8_t *buf, size_t len);
	/* Client: a response for t (provisional, final, or a 2xx again). */
	void	(*response)(void *ctx, struct txn *t,
		    const struct sip_msg *resp);
	/* Client: Timer B/F or a transport error.  Server: Timer H (the
	 * ACK never came). */
	void	(*timeout)(void *ctx, struct txn *t);
	/* t is about to be freed. */
	void	(*terminated)(void *ctx, struct txn *t);
};

struct txn_stats {
	uint64_t	created[TXN_KIND_MAX];
	uint64_t	absorbed;	/* request retransmissions answered */
	uint64_t	retransmits;	/* our own retransmissions */
	uint64_t	timeouts;
	uint64_t	full;		/* refused: table full */
	uint64_t	stray_acks;
	uint64_t	stray_responses;
};

struct txn_layer;

/*
 * Create a layer holding at most max_txns transactions.  timers must
 * have room for 2 * max_txns entries.
 */
int	txn_layer_new(const struct txn_ops *ops, void *ctx,
	    const struct sip_timers *t, struct timer_heap *timers,
	    size_t max_txns, struct txn_layer **ret);
/* Frees every transaction, calling `terminated` for each first (no
 * other callback, and nothing is sent). */
void	txn_layer_free(struct txn_layer *L);
void	txn_layer_set_now(struct txn_layer *L, uint64_t now_ms);
void	txn_layer_set_timers(struct txn_layer *L, const struct sip_timers *t);
size_t	txn_layer_count(const struct txn_layer *L);
const struct txn_stats *txn_layer_stats(const struct txn_layer *L);

enum txn_match {
	TXN_M_NEW = 0,		/* no transaction: the TU decides */
	TXN_M_ABSORBED,		/* a retransmission, already answered */
	TXN_M_ACK_2XX,		/* ACK for a 2xx we sent: for the dialog */
	TXN_M_ACK_STRAY,	/* ACK matching nothing */
};

/* Match a received request against the server transactions. */
enum txn_match	txn_server_match(struct txn_layer *L,
		    const struct sip_msg *req, const struct sip_dest *src,
		    struct txn **ret_txn);
/* Start a server transaction for req (after TXN_M_NEW).
 * 0, or -SBC_EFULL when the table is full (answer 503 statelessly). */
int		txn_server_new(struct txn_layer *L, const struct sip_msg *req,
		    const struct sip_dest *src, struct txn **ret_txn);
/* Send a response within t; the layer keeps a copy for retransmission. */
int		txn_server_reply(struct txn_layer *L, struct txn *t,
		    unsigned status, const uint8_t *buf, size_t len);
/* The INVITE server transaction a CANCEL refers to (RFC 3261 9.2). */
/*
 * A non-INVITE server transaction that ends as soon as its final
 * response is sent, as over a reliable transport (Timer J = 0).  For
 * requests whose TU recognises a retransmission by itself (REGISTER:
 * the repeated nonce count is refused by the replay table and the
 * registrar's CSeq check), so that no state is held for 64*T1 after
 * each answer.
 */
void		txn_set_oneshot(struct txn *t);
struct txn	*txn_server_find_invite(struct txn_layer *L,
		    const struct sip_msg *cancel);

/*
 * Start a client transaction: send req (our own bytes, with a top Via
 * carrying a fresh z9hG4bK branch) to dst.  The layer copies req.
 */
int		txn_client_new(struct txn_layer *L, const struct sip_dest *dst,
		    const uint8_t *req, size_t len, void *tu,
		    struct txn **ret_txn);
/* Match a received response; 1 handled, 0 no transaction (stray). */
int		txn_client_response(struct txn_layer *L,
		    const struct sip_msg *resp, const struct sip_dest *src);

enum txn_kind	txn_kind(const struct txn *t);
enum txn_state	txn_state(const struct txn *t);
unsigned	txn_last_status(const struct txn *t);
void		*txn_tu(const struct txn *t);
void		txn_set_tu(struct txn *t, void *tu);
const struct sip_dest *txn_dest(const struct txn *t);
/* Server INVITE or REGISTER: the request as received (else NULL). */
const uint8_t	*txn_request(const struct txn *t, size_t *ret_len);
const char	*txn_state_name(enum txn_state s);

#endif
