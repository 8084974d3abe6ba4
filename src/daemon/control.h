/*
 * The daemon's control commands (OPS1) behind the control socket
 * (admin/ctl.c): status, reload, lockdown, ban/unban/bans,
 * registrations, hangup, kick, freeze, events --follow, calls, top,
 * evidence, recent, alerts, rates and account unlock, each working on
 * the shared tables of struct sw_env from the control thread.  Calls
 * are the exception: they belong to their worker, so hangup and calls
 * go through the workers' inboxes (wcmd.c).
 *
 * The control thread also keeps, from the event log's tap, the last
 * events (obs/evring.h, CONTROL_RING_BYTES of them: `evidence`,
 * `recent`) and the top offenders of the last ten minutes
 * (obs/evtop.h: `top`).
 *
 * Lockdown is kept across a restart: while it is on, the file
 * state_dir/lockdown exists, and a daemon that finds it at start-up is
 * in lockdown from its first packet.
 */
#ifndef SW_DAEMON_CONTROL_H
#define SW_DAEMON_CONTROL_H

#include "daemon/env.h"

#define CONTROL_HANGUP_WAIT_MS	2000	/* for the workers' replies */
#define CONTROL_RELOAD_WAIT_MS	15000	/* the main thread's reload */
#define CONTROL_LIST_MAX	10000	/* entries in one listing */
#define CONTROL_RING_BYTES	(8u << 20)	/* events kept for evidence */

struct control;

/*
 * Create the socket named by admin.socket (under state_dir unless
 * absolute) and restore a lockdown; before the workers start.  0 with
 * *ret NULL when admin.socket is "" (no control socket); -errno, logged.
 */
int	control_open(struct sw_env *env, struct control **ret);
/* After the workers started.  0 or -errno. */
int	control_start(struct control *c);
/* Before the workers stop; NULL is a no-op. */
void	control_free(struct control *c);

/*
 * The alert engine behind `alerts` and `rates` (NULL: alerts off, the
 * default); before control_start().  c may be NULL.  The engine must
 * outlive control_free().
 */
struct alert;
void	control_set_alert(struct control *c, struct alert *a);

/*
 * `reload` asks the main thread through rl and answers with its
 * outcome (NULL: it only raises SIGHUP); before control_start().
 */
struct reload;
void	control_set_reload(struct control *c, struct reload *rl);

/* The server behind it, for the admin HTTP API (NULL with no socket). */
struct ctl;
struct ctl	*control_ctl(struct control *c);

#endif
