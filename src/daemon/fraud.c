#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "policy/bruteforce.h"
#include "policy/destpol.h"
#include "policy/usage.h"
#include "store/writer.h"
#include "daemon/fraud.h"
#include "daemon/state.h"

/* A decision holds the snapshot for microseconds; a retired one is
 * freed well after the last could have started. */
#define RETIRE_MS	5000
#define USAGE_EXPECTED	4096

static int
usage_load_one(void *arg, const struct store_usage *u)
{
	struct sw_env *env = arg;

	usage_load(env->sec.usage, u);
	return 0;
}

int
fraud_open(struct sw_env *env)
{
	struct sw_sec *s = &env->sec;
	struct destpol *p;
	char err[256];
	int r;

	if ((r = destpol_from_conf(env->conf, &p, err, sizeof(err))) < 0) {
		log_warnx("policy: %s", err);
		return r;
	}
	atomic_store_explicit(&s->pol, p, memory_order_release);
	if ((r = usage_new(USAGE_EXPECTED, &s->usage)) < 0)
		return r;
	if ((r = store_usage_list(s->st, usage_load_one, env)) < 0) {
		log_warnx("store: reading usage counters: %s",
		    store_strerror(r));
		return r;
	}
	store_gen(s->st, STORE_GEN_RESETS, &s->gen[2]);
	log_info("policy: %zu groups, %zu high-risk prefixes",
	    destpol_ngroups(p), destpol_list_size(p));
	return 0;
}

static void
persist_one(void *arg, const struct store_usage *u)
{
	struct sw_env *env = arg;
	struct store_wop op;

	memset(&op, 0, sizeof(op));
	op.type = STORE_WOP_USAGE_PUT;
	op.u.usage = *u;
	/* a full queue loses one write, not the count: the entry is
	 * written again with its next change */
	store_writer_submit(env->sec.wr, &op);
}

static int
reset_one(void *arg, const char *account, int64_t at)
{
	struct sw_env *env = arg;
	struct secevent ev;
	const char *at_sign = strrchr(account, '@');
	char target[STORE_AOR_MAX + 16];

	usage_reset(env->sec.usage, account);
	/* unblock also lifts a brute-force lock (PROT5), which the
	 * workers keep by user name */
	bf_unlock(env->sec.bf, at_sign != NULL ? slice_make(account,
	    (size_t)(at_sign - account)) : slice_cstr(account));
	store_usage_reset_done(env->sec.st, account, at);
	secevent_init(&ev, SECEV_ADMIN_ACTION);
	ev.reason = "usage_reset";
	ev.account = slice_cstr(account);
	ev.detail = "fraud limit counters reset (sipwall account unblock)";
	/* the CLI wrote the request into the store, not through the
	 * control socket: no peer uid to name, the store is the actor */
	secevent_add_str(&ev, "command", "account_unblock");
	secevent_add_str(&ev, "actor", "store");
	snprintf(target, sizeof(target), "account:%s", account);
	secevent_add_str(&ev, "target", target);
	evlog_emit(env->ev, &ev);
	return 0;
}

void
fraud_tick(struct sw_env *env)
{
	struct sw_sec *s = &env->sec;
	uint64_t g;

	if (s->usage == NULL)
		return;
	if (store_gen(s->st, STORE_GEN_RESETS, &g) == 0 && g != s->gen[2]) {
		s->gen[2] = g;
		store_usage_resets(s->st, reset_one, env);
	}
	usage_collect(s->usage, persist_one, env);
	if (s->pol_retired != NULL && mono_ms() - s->pol_retired_ms >
	    RETIRE_MS) {
		destpol_free(s->pol_retired);
		s->pol_retired = NULL;
	}
}

int
fraud_reload(struct sw_env *env, const struct sw_conf *conf, char *err,
    size_t cap)
{
	struct sw_sec *s = &env->sec;
	struct destpol *p, *old;
	int r;

	if ((r = destpol_from_conf(conf, &p, err, cap)) < 0)
		return r;
	/* two reloads within RETIRE_MS: the older one waits here */
	if (s->pol_retired != NULL) {
		struct timespec ts = { .tv_sec = 0, .tv_nsec = 0 };
		uint64_t left = RETIRE_MS - (mono_ms() - s->pol_retired_ms);

		if (mono_ms() - s->pol_retired_ms < RETIRE_MS) {
			ts.tv_sec = (time_t)(left / 1000);
			ts.tv_nsec = (long)(left % 1000) * 1000000L;
			nanosleep(&ts, NULL);
		}
		destpol_free(s->pol_retired);
	}
	old = atomic_exchange_explicit(&s->pol, p, memory_order_acq_rel);
	s->pol_retired = old;
	s->pol_retired_ms = mono_ms();
	log_info("policy reloaded: %zu groups, %zu high-risk prefixes",
	    destpol_ngroups(p), destpol_list_size(p));
	return 0;
}

void
fraud_close(struct sw_env *env)
{
	struct sw_sec *s = &env->sec;

	if (s->usage != NULL && s->wr != NULL)
		usage_collect(s->usage, persist_one, env);
}

void
fraud_free(struct sw_env *env)
{
	struct sw_sec *s = &env->sec;

	destpol_free(atomic_load(&s->pol));
	destpol_free(s->pol_retired);
	usage_free(s->usage);
}
