/*
 * Stage 6 of the pipeline: digest authentication (AUTH1, AUTH3, AUTH4)
 * of a request arriving in a zone that requires it, and the decisions
 * that hang on its outcome: the per-account budget, per-account source
 * prefixes, account locks (PROT5), failure counting toward bans
 * (PROT3) and unknown-user probing (PROT4).
 *
 * Every way of failing -- no credentials, unknown user, disabled
 * account, wrong password, wrong source, locked account, malformed
 * credentials -- is answered with the same fresh challenge, so the
 * answers differ only in the nonce; the events say what really
 * happened.
 */
#ifndef SW_DAEMON_AUTHN_H
#define SW_DAEMON_AUTHN_H

#include "auth/account.h"
#include "daemon/worker.h"

/*
 * Returns 1 with *ret_acct filled when m carries valid credentials of
 * an account allowed to use them from src; 0 when m has been answered
 * (401/407, 503) or dropped (the source just got banned).
 */
/*
 * A request without credentials for our realm is challenged at once,
 * statelessly: no transaction is held for it (a flood of credential-
 * less requests from many sources cannot fill the table; the nonce is
 * stateless anyway).  1 when m was answered (or dropped as a probe),
 * 0 when it carries credentials and needs authn_request().
 */
int	authn_challenge_stateless(struct worker *w, const struct sip_msg *m,
	    const struct sip_dest *src);
int	authn_request(struct worker *w, struct txn *t, const struct sip_msg *m,
	    const struct sip_dest *src, struct account_info *ret_acct);

#endif
