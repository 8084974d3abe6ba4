/*
 * The daemon's fraud state (FRAUD1-3): the destination policy snapshot
 * the workers read, and the per-account usage counters kept in step
 * with the store (loaded at start, written back as they change, reset
 * when `sipwall account unblock` asks).  Main thread only, except what
 * the workers read through env->sec.pol and env->sec.usage.
 */
#ifndef SW_DAEMON_FRAUD_H
#define SW_DAEMON_FRAUD_H

#include "daemon/env.h"

/* Build the policy from env->conf and load the counters.  -errno. */
int	fraud_open(struct sw_env *env);
/* Once a second: counters to the store, operator resets, old
 * snapshots freed. */
void	fraud_tick(struct sw_env *env);
/* A reloaded config's policy and dial plan replace the current ones;
 * calls in progress keep going.  0, or -errno with the reason in err. */
int	fraud_reload(struct sw_env *env, const struct sw_conf *conf,
	    char *err, size_t cap);
/* Counters to the store one last time (before the writer stops). */
void	fraud_close(struct sw_env *env);
/* Free the policy and the counters (after the workers stopped). */
void	fraud_free(struct sw_env *env);

#endif
