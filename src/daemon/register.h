/*
 * The registrar service (AUTH1 with RFC 3261 10.3): an authenticated
 * REGISTER changes the shared location table at once, its changes go
 * to the store writer, and the 200 -- built right away, listing the
 * bindings -- is sent only when the writer reports them durable, so
 * nothing a phone was told is lost by a crash.  Completions come back
 * to the worker that owns the transaction through a small queue and a
 * uv_async handle; no worker ever waits on the disk.
 */
#ifndef SW_DAEMON_REGISTER_H
#define SW_DAEMON_REGISTER_H

#include "auth/account.h"
#include "daemon/worker.h"

#define REG_PENDING_MAX		4096	/* REGISTERs waiting for the store */
#define REG_RESP_MAX		4096

int	reg_service_init(struct worker *w);
void	reg_service_close(struct worker *w);
void	reg_service_free(struct worker *w);

void	reg_request(struct worker *w, struct txn *t, const struct sip_msg *m,
	    const struct sip_dest *src, const struct account_info *acct);

/* The transaction t ended: forget it in its pending slot, if any. */
void	reg_txn_gone(struct worker *w, struct txn *t);

#endif
