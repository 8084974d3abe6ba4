/*
 * OPTIONS health probes of the core targets (probe.c).  Worker 0 sends
 * them; every worker reads the result from sw_env.target_down.
 */
#ifndef SW_DAEMON_PROBE_H
#define SW_DAEMON_PROBE_H

#include <stddef.h>

#include "sip/msg.h"
#include "sip/txn.h"

struct worker;
struct sw_env;

int	probe_init(struct worker *w);
void	probe_start(struct worker *w);
void	probe_close(struct worker *w);
void	probe_free(struct worker *w);
void	probe_response(struct worker *w, struct txn *t,
	    const struct sip_msg *resp);
void	probe_timeout(struct worker *w, struct txn *t);
void	probe_gone(struct worker *w, struct txn *t);
/* The first target at or after `from` that is up; `from` if none. */
size_t	probe_first_up(const struct sw_env *env, size_t from);

#endif
