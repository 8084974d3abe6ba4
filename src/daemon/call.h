/*
 * The B2BUA (SIG4, SIG5, SIG6): every call is two dialogs, the caller's
 * (leg A, where we are the UAS) and the callee's (leg B, where we are
 * the UAC, one per fork while it rings).  Nothing but the allowed
 * headers and the body crosses from one to the other: each leg has its
 * own Call-ID, tags, CSeq, Via and Contact, and each leg's requests go
 * back to where that leg's messages came from (symmetric signalling,
 * so phones behind NAT are reached on the address they used).
 *
 * Calls live in the worker whose socket received the INVITE; their
 * tags and branches name that worker (ident.h), so every later message
 * is handed to it (handoff.h).  Nothing here takes a lock.
 *
 * Every call ends: BYE from either side, CANCEL, ring timeout, a leg
 * that stops answering in-dialog OPTIONS, the 2xx that is never ACKed,
 * or calls.max_duration, which is always on.
 */
#ifndef SW_DAEMON_CALL_H
#define SW_DAEMON_CALL_H

#include "auth/account.h"
#include "sip/msg.h"
#include "sip/txn.h"

struct worker;

/* What a transaction's TU pointer points at: the first member of every
 * object the daemon hangs on a transaction. */
enum tu_kind {
	TU_REG = 1,		/* register.c */
	TU_CALL,		/* call.c */
	TU_TRUNKREG,		/* trunkreg.c */
	TU_PROBE,		/* probe.c */
};

struct tu {
	uint8_t		kind;
};

struct call_stats {
	uint64_t	attempts;
	uint64_t	answered;
	uint64_t	failed;
	uint64_t	ended;
	uint64_t	active;
	uint64_t	refused;	/* max_calls */
};

int	call_service_init(struct worker *w);
void	call_service_free(struct worker *w);
/* Shutdown: stop timers (before the loop closes its handles). */
void	call_service_close(struct worker *w);
const struct call_stats *call_stats(const struct worker *w);

/*
 * A new INVITE (no To tag) that passed the guard and, where the zone
 * asks for it, authentication (acct non-NULL then).  Routes it and
 * answers through its server transaction t.
 */
void	call_invite(struct worker *w, struct txn *t, const struct sip_msg *m,
	    const struct sip_dest *src, const struct account_info *acct);
/*
 * A request with a To tag (in a dialog).  Answers it through t, or
 * 481 when it belongs to no call of ours.
 */
void	call_in_dialog(struct worker *w, struct txn *t, const struct sip_msg *m,
	    const struct sip_dest *src);
/* An ACK for a 2xx (it has its own branch, so no transaction matched). */
void	call_ack(struct worker *w, const struct sip_msg *m,
	    const struct sip_dest *src);
/* A CANCEL matched the server INVITE inv: stop ringing the callee. */
void	call_cancel(struct worker *w, struct txn *inv);

/* Transaction callbacks for transactions whose TU is TU_CALL. */
void	call_txn_response(struct worker *w, struct txn *t,
	    const struct sip_msg *resp);
void	call_txn_timeout(struct worker *w, struct txn *t);
void	call_txn_gone(struct worker *w, struct txn *t);

#endif
