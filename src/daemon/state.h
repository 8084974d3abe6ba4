/*
 * The daemon's security state (struct sw_sec): built from the config
 * and the store before the workers start, kept in step with the store
 * once a second by the main thread (accounts and bans the CLI changed,
 * expired registrations and bans), and written back through the store
 * writer so that no worker waits on the disk.
 */
#ifndef SW_DAEMON_STATE_H
#define SW_DAEMON_STATE_H

#include "daemon/env.h"
#include "policy/ban.h"

/* Open the store, load accounts, registrations and bans, build the
 * tables.  Errors are logged; -errno. */
int	state_open(struct sw_env *env);
/* The snapshot a reload swaps (env.h), built from c.  0, or -errno
 * with why in err[0..cap) (an extra signature file that does not load). */
int	state_rt_build(const struct sw_conf *c, struct sw_rt **ret, char *err,
	    size_t cap);
/* NULL ok. */
void	state_rt_free(struct sw_rt *rt);
/* Housekeeping, about once a second, main thread only. */
void	state_tick(struct sw_env *env);
/* After the workers stopped: drain the writer, free everything. */
void	state_close(struct sw_env *env);

/* ban.added / ban.removed for e as it now is (any thread). */
void	state_ban_event(struct sw_env *env, enum secevent_type type,
	    const struct ban_entry *e, const char *reason);
/*
 * store.error (rate limited by evlog): reason "write_failed" (a write
 * the store refused; detail: its error) or "queue_full" (the writer's
 * queue refused it; detail: what was lost).  Any thread.
 */
void	state_store_error(struct sw_env *env, const char *reason,
	    const char *detail);
/* Persist a ban as it now is (any thread). */
void	state_ban_persist(struct sw_env *env, const struct ban_entry *e);
/* Persist a registration change (any thread); done may be NULL. */
int	state_reg_persist(struct sw_env *env, const char *aor,
	    const struct binding *b, int del, void (*done)(void *, int),
	    void *arg);

/* Wall clock and monotonic clock, milliseconds. */
uint64_t	wall_ms(void);
uint64_t	mono_ms(void);

#endif
