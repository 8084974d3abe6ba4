/*
 * The process environment: one per sipwalld process, built by main()
 * before any thread starts and read-only afterwards, but for the two
 * snapshots a reload swaps: conf and sec.rt (reload.c).
 */
#ifndef SW_DAEMON_ENV_H
#define SW_DAEMON_ENV_H

#include <stdatomic.h>

#include "auth/account.h"
#include "auth/digest.h"
#include "auth/nonce.h"
#include "conf/conf.h"
#include "obs/evlog.h"
#include "policy/frozen.h"
#include "policy/ratelimit.h"
#include "sip/limits.h"
#include "sip/location.h"
#include "sip/registrar.h"
#include "sip/transport.h"
#include "sip/txn.h"

#define SW_LSN_NAME_MAX	80

struct worker;
struct store;
struct store_writer;
struct replay;
struct ban_table;
struct bf_table;
struct scan_db;
struct scan_bh;
struct trust_table;
struct acl;
struct destpol;
struct usage_table;
struct relay;

/* A zone as the message path needs it, built once from the config. */
struct zone_rt {
	int		 trusted;
	int		 auth;			/* digest required */
	struct acl	*acl;			/* NULL: no allow/deny lists */
	uint32_t	 methods;		/* bit per enum sip_method; 0: all */
	int		 reply;			/* excess: 503 (else drop) */
	uint32_t	 retry_after_s;
	struct rl_rate	 src, prefix, account, authed;
	size_t		 nmlim;
	struct {
		uint8_t		method;		/* enum sip_method */
		struct rl_rate	r;
	} mlim[CONF_MAX_METHOD_LIMITS];
};

/*
 * What a reload (reload.c) swaps as a whole, built from one config: the
 * zones' admission rules, the never-banned list, the registrar's
 * limits, the ban triggers and the extra scanner signatures.  Readers
 * load sec.rt once per decision; a replaced one is freed by the main
 * thread some seconds later, when no decision can still hold it.
 */
struct sw_rt {
	struct zone_rt		 zones[CONF_MAX_ZONES];
	struct acl		*never;		/* never banned */
	struct reg_policy	 regp;
	struct rl_rate		 rate_strike;	/* seconds with excess */
	struct rl_rate		 auth_strike;	/* failed authentications */
	struct scan_db		*sigs_extra;	/* scanner.signatures */
};

/*
 * Who may talk to us and what they have earned (issue 3: AUTH1-4,
 * PROT1-5): tables shared by every worker, each locking itself in
 * stripes; built by state.c before the workers start.
 */
struct sw_sec {
	struct acct_table	*accts;
	struct loc_table	*loc;
	struct store		*st;		/* main thread's connection */
	struct store_writer	*wr;		/* all writes from workers */
	struct nonce_ctx	 nonce;
	struct replay		*replay;
	uint8_t			 fake_key[DIGEST_FAKE_KEY_LEN];
	struct digest_verifier	 dv;
	unsigned		 algs;		/* DIGEST_ALG_BIT set */
	size_t			 nalgs;
	enum digest_alg		 alg_order[CONF_MAX_ALGORITHMS];
	struct slice		 realm;		/* into realm_buf */
	char			 realm_buf[CONF_REALM_MAX + 1];
	struct ban_table	*bans;
	struct rl_table		*rl;
	struct bf_table		*bf;
	struct scan_db		*sigs;		/* built in */
	struct scan_bh		*bh;
	struct trust_table	*trust;
	struct sw_rt *_Atomic	 rt;		/* swapped by a reload */
	uint64_t		 gen[3];	/* store_gen: accounts, bans, resets */
	/* FRAUD1-3: the destination policy, swapped whole by a reload
	 * (workers load it once per decision); the one it replaced is
	 * freed a few seconds later, when no decision can still hold it */
	struct destpol *_Atomic	 pol;
	struct destpol		*pol_retired;
	uint64_t		 pol_retired_ms;
	struct usage_table	*usage;		/* FRAUD2 counters */
	/* OPS1 containment (control.c): new registrations from untrusted
	 * zones and international calls refused while set */
	_Atomic int		 lockdown;
	/* OPS1 `sipwall freeze`: destination prefixes no call may reach */
	struct frozen		 frozen;
	/* tls.cert_expiring: when the listeners' certificates are looked
	 * at next (wall clock, seconds; 0: at the first tick) */
	int64_t			 cert_check_s;
};

struct sw_env {
	/* the running config: immutable; a reload swaps the pointer and
	 * frees the old one later (every read of it is an atomic load) */
	struct sw_conf *_Atomic	 conf;
	struct sip_limits	 lim;
	struct sip_timers	 timers;
	struct evlog		*ev;
	struct connlimit	*cl;
	struct tls_ctx		*tls[CONF_MAX_LISTEN];	/* TLS listeners' */
	struct tls_ctx		*trunk_tls[CONF_MAX_TRUNKS];	/* clients */
	struct tls_ctx		*core_tls[CONF_MAX_TARGETS];	/* clients */
	char			 lsn_name[CONF_MAX_LISTEN][SW_LSN_NAME_MAX];
	unsigned		 nworkers;
	struct worker		**workers;
	size_t			 max_txns;	/* per worker */
	/* core targets failing their OPTIONS probes (probe.c) */
	_Atomic uint8_t		 target_down[CONF_MAX_TARGETS];
	struct sw_sec		 sec;
	struct relay		*relay;		/* MEDIA1; NULL: not anchored */
};

#endif
