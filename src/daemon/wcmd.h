/*
 * Commands from the control thread to the SIP workers (OPS1): calls
 * live in the worker that owns them, and only that worker's loop may
 * touch them, so `hangup` is posted to every worker's inbox (a locked,
 * bounded queue and a uv_async handle, as handoff.c does for messages),
 * each worker ends its matching calls, and the control thread waits for
 * their replies with a timeout.  The request is shared and counted:
 * whoever drops the last reference frees it, so a worker that answers
 * after the control thread gave up writes into nothing freed.
 */
#ifndef SW_DAEMON_WCMD_H
#define SW_DAEMON_WCMD_H

#include "daemon/env.h"

#define WCMD_INBOX_MAX	64	/* commands waiting per worker */
#define WCMD_ARG_MAX	255

enum wcmd_kind {
	WCMD_HANGUP_CALL = 1,		/* arg: a Call-ID of either leg */
	WCMD_HANGUP_ACCOUNT,		/* arg: user or user@domain */
	WCMD_MAX
};

struct worker;

int	wcmd_init(struct worker *w);
/* From the worker's loop, at shutdown: close the handle, answer what
 * is still queued. */
void	wcmd_close(struct worker *w);
void	wcmd_free(struct worker *w);

/*
 * Control thread: run kind/arg in every worker and wait up to
 * timeout_ms for all of them.  *ret_ended: calls ended; *ret_workers:
 * workers that answered.  0, -ETIMEDOUT (some did not answer in time;
 * the counts are what came back) or -ENOMEM.
 */
int	wcmd_run(struct sw_env *env, enum wcmd_kind kind, const char *arg,
	    unsigned timeout_ms, unsigned *ret_ended, unsigned *ret_workers);

#endif
