/*
 * The process environment: one per sipwalld process, built by main()
 * before any thread starts and read-only afterwards (a reload will
 * swap the config snapshot as a whole).
 */
#ifndef SW_DAEMON_ENV_H
#define SW_DAEMON_ENV_H

#include "conf/conf.h"
#include "obs/evlog.h"
#include "sip/limits.h"
#include "sip/transport.h"
#include "sip/txn.h"

#define SW_LSN_NAME_MAX	80

struct worker;

struct sw_env {
	struct sw_conf		*conf;
	struct sip_limits	 lim;
	struct sip_timers	 timers;
	struct evlog		*ev;
	struct connlimit	*cl;
	char			 lsn_name[CONF_MAX_LISTEN][SW_LSN_NAME_MAX];
	unsigned		 nworkers;
	struct worker		**workers;
	size_t			 max_txns;	/* per worker */
};

#endif
