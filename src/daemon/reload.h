/*
 * Hot reload (OPS3): SIGHUP or `sipwall reload` reads the config file
 * again and either applies it whole or changes nothing.
 *
 * The new file is validated exactly as at start (conf_load: syntax,
 * ranges, the unsafe settings that need an acknowledgment), then
 * compared with the running config key by key (confdiff.c).  When every
 * changed key is one the daemon reads live, the new config and the
 * snapshot built from it (sec.rt: zones' ACLs and limits, never-banned
 * list, registrar limits), the destination policy and the alert rules
 * are swapped in; registrations, calls, bans and counters are state,
 * not config, and are kept.  A change to anything built once at start
 * (listeners, TLS, store, media ports, workers, trunks, ...) refuses
 * the whole reload and names the keys: it needs a restart.
 *
 * Every reload that changes something or is refused is recorded in the
 * store (config_changes: who, when, the diff) and emitted as
 * config.changed or config.rejected.  Secrets appear in diffs only as
 * keyed fingerprints.
 *
 * Threads: the reload itself runs on the main thread (it owns the
 * store connection and the retired snapshots); the control thread asks
 * for one with reload_request(), which raises SIGHUP and waits for the
 * main thread's answer.
 */
#ifndef SW_DAEMON_RELOAD_H
#define SW_DAEMON_RELOAD_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/env.h"

#define RELOAD_RETIRE_MS	10000	/* old snapshots live this long */
#define RELOAD_RETIRED_MAX	8	/* reloads within RELOAD_RETIRE_MS */
#define RELOAD_EVENT_DIFF_MAX	900	/* diff bytes in the event's detail */
#define RELOAD_STORE_DIFF_MAX	(256u * 1024)

struct alert;
struct reload;

/* Where the config comes from, as main() was told; borrowed. */
struct reload_src {
	const char		*path;
	const char *const	*specs;		/* -l overrides */
	size_t			 nspecs;
	const char		*state_dir;	/* -D, or NULL */
};

enum reload_outcome {
	RELOAD_APPLIED = 0,
	RELOAD_UNCHANGED,
	RELOAD_REFUSED,
};

struct reload_result {
	enum reload_outcome	outcome;
	char			reason[32];	/* "invalid", "restart_required", ... */
	char			message[CONF_DIAG_LEN + 64];	/* for the operator */
	size_t			changed;	/* keys */
	size_t			restart;	/* of those, restart-only */
};

int	reload_open(struct sw_env *env, const struct reload_src *src,
	    struct reload **ret);
/* The alert engine whose rules a reload replaces (NULL: alerts off). */
void	reload_set_alert(struct reload *rl, struct alert *a);
/* Main thread, on SIGHUP: reload now; the result goes to any waiter. */
void	reload_run(struct reload *rl, struct reload_result *ret);
/* Main thread, once a second: free snapshots nobody can hold any more. */
void	reload_tick(struct reload *rl);
/*
 * Any other thread: have the main thread reload, on behalf of actor
 * ("uid:0"), and wait up to timeout_ms for its result.  0, or
 * -ETIMEDOUT (the reload still happens), -errno of kill().
 */
int	reload_request(struct reload *rl, const char *actor,
	    unsigned timeout_ms, struct reload_result *ret);
/* After every thread that reads the config stopped; NULL ok. */
void	reload_free(struct reload *rl);

#endif
