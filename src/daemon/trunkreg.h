/*
 * sipwall registering itself with trunk providers (AUTH5); see
 * trunkreg.c.  Runs in worker 0 only; the other workers hand the
 * provider's answers over (the branch names worker 0).
 */
#ifndef SW_DAEMON_TRUNKREG_H
#define SW_DAEMON_TRUNKREG_H

#include "sip/msg.h"
#include "sip/txn.h"

struct worker;

int	trunkreg_init(struct worker *w);
void	trunkreg_start(struct worker *w);
void	trunkreg_close(struct worker *w);
void	trunkreg_free(struct worker *w);
/* Transaction callbacks for TU_TRUNKREG. */
void	trunkreg_response(struct worker *w, struct txn *t,
	    const struct sip_msg *resp);
void	trunkreg_timeout(struct worker *w, struct txn *t);
void	trunkreg_gone(struct worker *w, struct txn *t);

#endif
