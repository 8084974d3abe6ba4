/*
 * The daemon's control commands (OPS1) behind the control socket
 * (admin/ctl.c): status, reload, lockdown, ban/unban/bans,
 * registrations, hangup, kick and events --follow, each working on the
 * shared tables of struct sw_env from the control thread.  Calls are
 * the exception: they belong to their worker, so hangup goes through
 * the workers' inboxes (wcmd.c).
 *
 * Lockdown is kept across a restart: while it is on, the file
 * state_dir/lockdown exists, and a daemon that finds it at start-up is
 * in lockdown from its first packet.
 */
#ifndef SW_DAEMON_CONTROL_H
#define SW_DAEMON_CONTROL_H

#include "daemon/env.h"

#define CONTROL_HANGUP_WAIT_MS	2000	/* for the workers' replies */
#define CONTROL_LIST_MAX	10000	/* entries in one listing */

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

#endif
