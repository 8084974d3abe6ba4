/*
 * The control socket server (OPS1): a UNIX stream socket under the
 * state directory, served by one thread of its own with a poll(2) loop,
 * never by a SIP worker, so nothing an operator does waits on the
 * packet path and nothing on the packet path waits on an operator.
 *
 * Access: the socket is created 0600 (0660 and group `group` when one
 * is configured), and every connection's SO_PEERCRED is checked again:
 * root, the daemon's own uid, or a member of `group`.  Anyone else gets
 * one 403 line, the connection is closed and admin.denied is emitted.
 *
 * Bounds: CTL_MAX_CLIENTS connections (the next one gets a 503 line),
 * request lines of CTL_LINE_MAX bytes (a longer one gets 413 and the
 * connection is closed: there is no way to find the next line), and
 * CTL_OUT_MAX bytes of answers or events waiting for a slow reader
 * (events beyond it are dropped for that reader and counted).
 *
 * Commands are a table given by the caller (the daemon's control.c);
 * they run on the control thread, or on the admin HTTP thread through
 * ctl_run(), one at a time (a mutex serialises the two), and may block
 * the thread running them briefly (a store sync, workers' replies),
 * never a worker.  A command
 * flagged CTL_F_FOLLOW turns its connection into an event stream: every
 * line the event log writes after the answer is sent on it, until the
 * client disconnects.
 */
#ifndef SW_ADMIN_CTL_H
#define SW_ADMIN_CTL_H

#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "admin/ctl_proto.h"
#include "obs/evlog.h"

#define CTL_MAX_CLIENTS		16
#define CTL_OUT_MAX		(8u << 20)	/* queued for one client */
#define CTL_TAP_MAX		(1u << 20)	/* events waiting for the thread */

/*
 * Who sent a command.  A control socket peer has its credentials; a
 * peer of another front end (the admin HTTP API) has a name instead,
 * "http:192.0.2.1", borrowed for the command's duration, which
 * ctl_peer_name() and so admin.action's "actor" give.
 */
struct ctl_peer {
	pid_t		 pid;
	uid_t		 uid;
	gid_t		 gid;
	const char	*name;		/* NULL: a socket peer, "uid:N" */
};

/*
 * A command: 0 with *ret_result (a new reference, or NULL for null),
 * or a negative enum ctl_code with the message in err[0..cap).
 */
typedef int ctl_cmd_fn(void *arg, const struct ctl_peer *peer,
    const json_t *args, json_t **ret_result, char *err, size_t cap);

#define CTL_F_FOLLOW	0x1	/* then stream events to the client */

struct ctl_cmd {
	const char	*name;
	ctl_cmd_fn	*fn;
	unsigned	 flags;
};

struct ctl_conf {
	const char		*path;		/* the socket */
	const char		*group;		/* NULL or "": none */
	const struct ctl_cmd	*cmds;		/* borrowed, for the lifetime */
	size_t			 ncmds;
	void			*arg;		/* for the commands */
	struct evlog		*ev;		/* admin.denied; follow */
	/* also given every batch of event lines, on the control thread
	 * (the evidence ring of control.c); NULL: none; borrowed */
	const struct evlog_tap	*sink;
};

struct ctl;

/*
 * Create the socket (before the thread starts; the caller reports
 * errors).  A path that exists and is not a socket is refused (-EEXIST),
 * and so is a socket a live daemon answers on (-EADDRINUSE); a stale
 * socket is removed.  An unknown group is -ENOENT.  Returns 0 or
 * -errno, with the reason in err[0..cap).
 */
int	ctl_open(const struct ctl_conf *conf, struct ctl **ret, char *err,
	    size_t cap);
/* Start the thread. 0 or -errno. */
int	ctl_start(struct ctl *c);

/*
 * Run one command of the table from another thread (the admin HTTP
 * API), serialised with the control thread's commands.  args is an
 * object (borrowed; NULL: {}), peer names the actor.  Returns 0 with
 * *ret_result (a new reference, or NULL for null), or a negative enum
 * ctl_code (400..599) with the message in err[0..cap): -CTL_E_NOT_FOUND
 * for an unknown command, -CTL_E_BAD_REQUEST for a follow command (a
 * stream, only on the socket), -CTL_E_UNAVAILABLE before ctl_start().
 * c may be NULL (no control socket): -CTL_E_UNAVAILABLE.  The thread
 * calling it must be stopped before ctl_free().
 */
int	ctl_run(struct ctl *c, const char *cmd, const json_t *args,
	    const struct ctl_peer *peer, json_t **ret_result, char *err,
	    size_t cap);
/* The flags (>= 0) of the command named cmd, or -ENOENT. */
int	ctl_cmd_flags(const struct ctl *c, const char *cmd);
/* Stop the thread, close every connection, remove the socket, free.
 * NULL is a no-op. */
void	ctl_free(struct ctl *c);

/*
 * The admin.action event of a state-changing command: reason and
 * "command" name the action, "actor" the peer ("uid:1000",
 * "http:127.0.0.1"), "target"
 * what it acted on (may be NULL).
 */
void	ctl_event_action(struct evlog *ev, const struct ctl_peer *peer,
	    const char *command, const char *target);
/* peer->name, or "uid:N", into buf (cut to cap). */
const char *ctl_peer_name(const struct ctl_peer *peer, char *buf,
	    size_t cap);

#endif
