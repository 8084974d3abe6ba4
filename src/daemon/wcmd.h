/*
 * Commands from the control thread to the SIP workers (OPS1): calls
 * live in the worker that owns them, and only that worker's loop may
 * touch them, so `hangup` is posted to every worker's inbox (a locked,
 * bounded queue and a uv_async handle, as handoff.c does for messages),
 * each worker ends its matching calls, and the control thread waits for
 * their replies with a timeout.  The request is shared and counted:
 * whoever drops the last reference frees it, so a worker that answers
 * after the control thread gave up writes into nothing freed.
 *
 * `calls` asks the same way: each worker copies what an operator sees
 * of its calls (struct wcmd_call, every string cut to its field and
 * made printable ASCII) into a block of its own, hangs it on the
 * request, and the control thread merges the blocks.  The copy is made
 * on the worker's loop, from a command, never per packet.
 */
#ifndef SW_DAEMON_WCMD_H
#define SW_DAEMON_WCMD_H

#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "daemon/env.h"

#define WCMD_INBOX_MAX	64	/* commands waiting per worker */
#define WCMD_ARG_MAX	255
#define WCMD_CALL_ID_MAX 128	/* SECEVENT_MAX_CALL_ID */
#define WCMD_USER_MAX	64	/* ACCT_USER_MAX */

enum wcmd_kind {
	WCMD_HANGUP_CALL = 1,		/* arg: a Call-ID of either leg */
	WCMD_HANGUP_ACCOUNT,		/* arg: user or user@domain */
	WCMD_LIST_CALLS,		/* arg: "" */
	WCMD_MAX
};

/* What one side of a call carries. */
struct wcmd_leg {
	uint8_t		 anchored;	/* media through our relay */
	uint8_t		 open;		/* a stream of this side is open */
	uint8_t		 srtp;		/* keys in place both ways */
	uint64_t	 packets;	/* relayed from this side */
	int64_t		 lost;
	uint64_t	 expected;
	uint32_t	 jitter_us;
};

/* One call as `sipwall calls --live` shows it. */
struct wcmd_call {
	char		 call_id[WCMD_CALL_ID_MAX + 1];	/* the caller's leg */
	char		 from[WCMD_USER_MAX + 1];
	char		 to[WCMD_USER_MAX + 1];
	char		 account[WCMD_USER_MAX + 1];
	char		 src[SW_ADDR_STRLEN];		/* the caller */
	char		 zone_a[32], zone_b[32];	/* CONF_ZONE_NAME_MAX */
	const char	*state;		/* static: "ringing", "up" */
	const char	*direction;	/* static: "outbound"... */
	int64_t		 started_ms;	/* ms since the epoch */
	int64_t		 answered_ms;	/* 0: not answered */
	struct wcmd_leg	 leg[2];	/* 0: caller's side, 1: callee's */
	unsigned	 worker;
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

/*
 * Control thread: the live calls of every worker, at most max of them
 * (*ret_truncated set when there were more), in *ret_calls (malloc'd,
 * the caller frees; NULL when *ret_n is 0).  *ret_workers: workers that
 * answered within timeout_ms.  0, -ETIMEDOUT (what came back is
 * there) or -ENOMEM.
 */
int	wcmd_list_calls(struct sw_env *env, size_t max, unsigned timeout_ms,
	    struct wcmd_call **ret_calls, size_t *ret_n, unsigned *ret_workers,
	    int *ret_truncated);

#endif
