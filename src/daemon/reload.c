/*
 * Hot reload: validate, diff, swap whole or refuse (reload.h).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "conf/tls_load.h"
#include "core/log.h"
#include "obs/alert.h"
#include "obs/secevent.h"
#include "policy/ban.h"
#include "policy/bruteforce.h"
#include "policy/scanner.h"
#include "sip/tls.h"
#include "store/store.h"
#include "daemon/fraud.h"
#include "daemon/reload.h"
#include "daemon/state.h"


struct retired {
	struct sw_conf	*conf;
	struct sw_rt	*rt;
	uint64_t	 at_ms;
};

struct reload {
	struct sw_env		*env;
	struct reload_src	 src;
	struct alert		*alert;
	uint8_t			 fp_key[CONF_FP_KEY_LEN];
	char			*files;		/* the running config's */
	struct retired		 retired[RELOAD_RETIRED_MAX];
	size_t			 nretired;

	pthread_mutex_t		 mu;		/* the fields below */
	pthread_cond_t		 done;
	uint64_t		 asked, served;	/* request tickets */
	char			 actor[64];	/* of the latest request */
	struct reload_result	 last;
};

typedef int conf_printer(FILE *, const struct sw_conf *, const uint8_t *);

/* print's text of c, then tail, in one malloc'd string; NULL: no memory */
static char *
print_mem(conf_printer *print, const struct sw_conf *c, const uint8_t *key,
    const char *tail)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	if (print(f, c, key) < 0) {
		fclose(f);
		free(buf);
		return NULL;
	}
	fputs(tail, f);
	fclose(f);
	return buf;
}

/*
 * What the files the config names hold (conf_print_files): read at
 * start and at each reload, so that a renewed certificate or an edited
 * list is a change even when the config file is not.
 */
static char *
files_flat(const struct sw_conf *c, const uint8_t *key)
{
	return print_mem(conf_print_files, c, key, "");
}

/* The flat config and its files' contents, for conf_diff. */
static char *
flat(const struct sw_conf *c, const uint8_t *key, const char *files)
{
	return print_mem(conf_print_flat, c, key, files);
}

int
reload_open(struct sw_env *env, const struct reload_src *src,
    struct reload **ret)
{
	struct reload *rl;
	pthread_condattr_t ca;

	*ret = NULL;
	if ((rl = calloc(1, sizeof(*rl))) == NULL)
		return -ENOMEM;
	rl->env = env;
	rl->src = *src;
	if (getrandom(rl->fp_key, sizeof(rl->fp_key), 0) !=
	    (ssize_t)sizeof(rl->fp_key)) {
		free(rl);
		return -EIO;
	}
	if ((rl->files = files_flat(env->conf, rl->fp_key)) == NULL) {
		free(rl);
		return -ENOMEM;
	}
	pthread_mutex_init(&rl->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&rl->done, &ca);
	pthread_condattr_destroy(&ca);
	*ret = rl;
	return 0;
}

void
reload_set_alert(struct reload *rl, struct alert *a)
{
	rl->alert = a;
}

/* Does the diff touch a key under any of the prefixes? */
static int
diff_touches(const char *diff, const char *const *prefixes)
{
	for (const char *p = diff; *p != '\0';) {
		const char *nl = strchr(p, '\n');

		for (size_t i = 0; prefixes[i] != NULL && p[1] == ' '; i++)
			if (strncmp(p + 2, prefixes[i], strlen(prefixes[i])) == 0)
				return 1;
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return 0;
}

/* The first lines of diff that fit, "; "-separated, into buf. */
static void
diff_brief(const char *diff, char *buf, size_t cap)
{
	size_t len = 0;

	buf[0] = '\0';
	for (const char *p = diff; *p != '\0' && len < cap;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		const char *sep = len > 0 ? "; " : "";

		if (len + strlen(sep) + n + 8 >= cap) {
			snprintf(buf + len, cap - len, "%s...", sep);
			return;
		}
		len += (size_t)snprintf(buf + len, cap - len, "%s%.*s", sep,
		    (int)n, p);
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}

static void
record(struct reload *rl, const char *actor, const struct reload_result *r,
    const char *diff)
{
	struct sw_env *env = rl->env;
	struct secevent ev;
	char brief[RELOAD_EVENT_DIFF_MAX + 1];
	size_t dlen = diff != NULL ? strlen(diff) : 0;
	char *cut = NULL;
	int e;

	if (r->outcome == RELOAD_UNCHANGED)
		return;
	/* the store keeps the diff whole up to its bound, cut at a line */
	if (dlen > RELOAD_STORE_DIFF_MAX && (cut = strndup(diff,
	    RELOAD_STORE_DIFF_MAX)) != NULL) {
		char *nl = strrchr(cut, '\n');

		if (nl != NULL)
			nl[1] = '\0';
	}
	if (env->sec.st != NULL && (e = store_config_change_add(env->sec.st,
	    (int64_t)wall_ms(), actor, r->outcome == RELOAD_APPLIED ?
	    "applied" : "refused", r->message, cut != NULL ? cut :
	    diff != NULL ? diff : "")) < 0)
		log_warnx("reload: recording the change in the store: %s",
		    store_strerror(e));
	free(cut);

	secevent_init(&ev, r->outcome == RELOAD_APPLIED ?
	    SECEV_CONFIG_CHANGED : SECEV_CONFIG_REJECTED);
	ev.reason = r->outcome == RELOAD_APPLIED ? "reload" : r->reason;
	if (diff != NULL && diff[0] != '\0') {
		diff_brief(diff, brief, sizeof(brief));
		ev.detail = r->outcome == RELOAD_APPLIED ? brief : r->message;
		if (r->outcome != RELOAD_APPLIED)
			secevent_add_str(&ev, "diff", brief);
	} else {
		ev.detail = r->message;
	}
	secevent_add_str(&ev, "actor", actor);
	secevent_add_int(&ev, "changes", (long long)r->changed);
	if (r->restart > 0)
		secevent_add_int(&ev, "restart_keys", (long long)r->restart);
	evlog_emit(env->ev, &ev);
}

static void
result(struct reload_result *r, enum reload_outcome o, const char *reason,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
result(struct reload_result *r, enum reload_outcome o, const char *reason,
    const char *fmt, ...)
{
	va_list ap;

	r->outcome = o;
	snprintf(r->reason, sizeof(r->reason), "%s", reason);
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof(r->message), fmt, ap);
	va_end(ap);
}

static void
retire(struct reload *rl, struct sw_conf *conf, struct sw_rt *rt)
{
	rl->retired[rl->nretired++] = (struct retired){ .conf = conf,
	    .rt = rt, .at_ms = mono_ms() };
}

void
reload_tick(struct reload *rl)
{
	uint64_t now = mono_ms();
	size_t k = 0;

	if (rl == NULL)
		return;
	for (size_t i = 0; i < rl->nretired; i++) {
		struct retired *t = &rl->retired[i];

		if (now - t->at_ms >= RELOAD_RETIRE_MS) {
			state_rt_free(t->rt);
			conf_free(t->conf);
		} else {
			rl->retired[k++] = *t;
		}
	}
	rl->nretired = k;
}

/* Does the diff touch the contents of a TLS file? */
static int
diff_touches_tls_files(const char *diff)
{
	static const char sfx[] = ".contents";

	for (const char *p = diff; *p != '\0';) {
		const char *nl = strchr(p, '\n'), *end = nl != NULL ? nl :
		    p + strlen(p);
		const char *colon = memchr(p, ':', (size_t)(end - p));
		size_t n = colon != NULL ? (size_t)(colon - p) : 0;

		if (n > 2 + strlen(sfx) && memcmp(colon - strlen(sfx), sfx,
		    strlen(sfx)) == 0 && memmem(p, n, "tls", 3) != NULL)
			return 1;
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return 0;
}

/* Every TLS context a config makes, built anew from its files. */
struct tls_set {
	struct tls_ctx	*lsn[CONF_MAX_LISTEN];
	struct tls_ctx	*trunk[CONF_MAX_TRUNKS];
	struct tls_ctx	*core[CONF_MAX_TARGETS];
};

static void
tls_set_free(struct tls_set *t)
{
	conf_tls_free(t->lsn);
	for (size_t i = 0; i < CONF_MAX_TRUNKS; i++)
		tls_ctx_free(t->trunk[i]);
	for (size_t i = 0; i < CONF_MAX_TARGETS; i++)
		tls_ctx_free(t->core[i]);
	memset(t, 0, sizeof(*t));
}

/* 0, or <0 with the first error (file:line:col: key: why) in err. */
static int
tls_set_build(const struct sw_conf *c, const char *path, struct tls_set *t,
    char *err, size_t cap)
{
	struct conf_diag diag;

	memset(t, 0, sizeof(*t));
	conf_diag_init(&diag);
	if (conf_tls_load(c, path, t->lsn, &diag) < 0 ||
	    conf_tls_load_trunks(c, path, t->trunk, &diag) < 0 ||
	    conf_tls_load_targets(c, path, t->core, &diag) < 0) {
		tls_set_free(t);
		snprintf(err, cap, "%s", diag.n > 0 ? diag.e[0].text :
		    "cannot build the TLS contexts");
		return -EINVAL;
	}
	return 0;
}

/*
 * The running contexts take over the new ones: listeners, trunks and
 * core targets keep their pointers, new connections get the new
 * certificates, connections up keep theirs.
 */
static void
tls_set_adopt(struct sw_env *env, struct tls_set *t)
{
	for (size_t i = 0; i < CONF_MAX_LISTEN; i++)
		if (env->tls[i] != NULL && t->lsn[i] != NULL &&
		    tls_ctx_adopt(env->tls[i], t->lsn[i]) == 0)
			t->lsn[i] = NULL;
	for (size_t i = 0; i < CONF_MAX_TRUNKS; i++)
		if (env->trunk_tls[i] != NULL && t->trunk[i] != NULL &&
		    tls_ctx_adopt(env->trunk_tls[i], t->trunk[i]) == 0)
			t->trunk[i] = NULL;
	for (size_t i = 0; i < CONF_MAX_TARGETS; i++)
		if (env->core_tls[i] != NULL && t->core[i] != NULL &&
		    tls_ctx_adopt(env->core_tls[i], t->core[i]) == 0)
			t->core[i] = NULL;
	tls_set_free(t);
}

/* The tables built at start take their live thresholds from c. */
static void
thresholds_set(struct sw_env *env, const struct sw_conf *c)
{
	ban_set_escalation(env->sec.bans, c->bans.first_ms, c->bans.factor,
	    c->bans.max_ms);
	bf_set_limits(env->sec.bf, c->bruteforce.failures,
	    c->bruteforce.lock_ms);
	scan_bh_set_thresholds(env->sec.bh,
	    scan_bh_clamp(c->scanner.unknown_users),
	    scan_bh_clamp(c->scanner.sweep));
}

/*
 * The work of reload_run, with *nc, *diff and *files owned by the
 * caller (applied: *files is the old text, rl->files the new).
 */
static void
apply(struct reload *rl, struct reload_result *r, struct sw_conf **nc,
    char **diff, char **files)
{
	static const char *const pol_keys[] = { "dialplan.", "policy.", NULL };
	static const char *const alert_keys[] = { "alerts.", NULL };
	struct sw_env *env = rl->env;
	struct conf_diag diag;
	struct conf_diff_count cnt = { 0 };
	struct sw_rt *rt = NULL, *old_rt;
	struct sw_conf *old_conf;
	char restart[300], err[CONF_DIAG_LEN], *a = NULL, *b = NULL, *t;
	struct tls_set tls;
	int e, new_tls;

	conf_diag_init(&diag);
	if (conf_load(rl->src.path, nc, &diag) < 0) {
		log_warnx("reload of %s refused, keeping the running config:",
		    rl->src.path);
		conf_diag_print(stderr, &diag);
		result(r, RELOAD_REFUSED, "invalid", "%s%s",
		    diag.n > 0 ? diag.e[0].text : "unreadable",
		    conf_diag_count(&diag) > 1 ? " (and more errors)" : "");
		return;
	}
	for (size_t i = 0; i < rl->src.nspecs; i++)
		conf_listen_override(*nc, rl->src.specs[i], &diag);
	if (rl->src.state_dir != NULL)
		snprintf((*nc)->node.state_dir, sizeof((*nc)->node.state_dir),
		    "%s", rl->src.state_dir);

	if ((*files = files_flat(*nc, rl->fp_key)) == NULL ||
	    (a = flat(env->conf, rl->fp_key, rl->files)) == NULL ||
	    (b = flat(*nc, rl->fp_key, *files)) == NULL ||
	    conf_diff(a, b, diff, &cnt, restart, sizeof(restart)) < 0) {
		free(a);
		free(b);
		result(r, RELOAD_REFUSED, "internal", "out of memory "
		    "comparing the configs; nothing changed");
		return;
	}
	free(a);
	free(b);
	r->changed = cnt.changed;
	r->restart = cnt.restart;
	if (cnt.changed == 0) {
		result(r, RELOAD_UNCHANGED, "unchanged",
		    "no setting changed");
		return;
	}
	if (cnt.restart > 0) {
		r->restart = cnt.restart;
		result(r, RELOAD_REFUSED, "restart_required",
		    "%zu of %zu changed settings need a restart (%s); "
		    "nothing changed", cnt.restart, cnt.changed, restart);
		return;
	}
	if (rl->nretired == RELOAD_RETIRED_MAX) {
		result(r, RELOAD_REFUSED, "busy", "%d reloads in %d s; try "
		    "again in a few seconds; nothing changed",
		    RELOAD_RETIRED_MAX, RELOAD_RETIRE_MS / 1000);
		return;
	}
	/* renewed certificates must load (key matches, chain parses) */
	new_tls = diff_touches_tls_files(*diff);
	if (new_tls && tls_set_build(*nc, rl->src.path, &tls, err,
	    sizeof(err)) < 0) {
		result(r, RELOAD_REFUSED, "tls", "%s; nothing changed", err);
		return;
	}
	if ((e = state_rt_build(*nc, &rt, err, sizeof(err))) < 0) {
		if (new_tls)
			tls_set_free(&tls);
		result(r, RELOAD_REFUSED, strncmp(err, "scanner.", 8) == 0 ?
		    "scanner" : "internal", "%s; nothing changed", err);
		return;
	}
	/* the policy last of the steps that can refuse: it swaps itself */
	if (diff_touches(*diff, pol_keys) &&
	    fraud_reload(env, *nc, err, sizeof(err)) < 0) {
		state_rt_free(rt);
		if (new_tls)
			tls_set_free(&tls);
		result(r, RELOAD_REFUSED, "policy", "%s; nothing changed",
		    err);
		return;
	}
	if (new_tls)
		tls_set_adopt(env, &tls);
	if (rl->alert != NULL && diff_touches(*diff, alert_keys) &&
	    (e = alert_reconf(rl->alert, &(*nc)->alerts)) < 0)
		log_warnx("reload: alert rules: %s (the old ones stay)",
		    strerror(-e));
	old_rt = atomic_exchange_explicit(&env->sec.rt, rt,
	    memory_order_acq_rel);
	ban_set_allowlist(env->sec.bans, rt->never);
	thresholds_set(env, *nc);
	old_conf = atomic_exchange_explicit(&env->conf, *nc,
	    memory_order_acq_rel);
	*nc = NULL;
	t = rl->files;
	rl->files = *files;
	*files = t;
	retire(rl, old_conf, old_rt);
	result(r, RELOAD_APPLIED, "reload", "%zu setting%s changed, applied "
	    "live", cnt.changed, cnt.changed == 1 ? "" : "s");
}

void
reload_run(struct reload *rl, struct reload_result *ret)
{
	struct reload_result r;
	struct sw_conf *nc = NULL;
	char actor[sizeof(rl->actor)], *diff = NULL, *files = NULL;
	uint64_t ticket;

	pthread_mutex_lock(&rl->mu);
	ticket = rl->asked;
	snprintf(actor, sizeof(actor), "%s", rl->served < rl->asked ?
	    rl->actor : "signal");
	pthread_mutex_unlock(&rl->mu);

	memset(&r, 0, sizeof(r));
	apply(rl, &r, &nc, &diff, &files);
	conf_free(nc);
	free(files);
	if (r.outcome == RELOAD_REFUSED)
		log_warnx("reload refused (%s): %s", r.reason, r.message);
	else
		log_info("reload: %s", r.message);
	record(rl, actor, &r, diff);
	free(diff);

	pthread_mutex_lock(&rl->mu);
	rl->last = r;
	if (ticket > rl->served)
		rl->served = ticket;
	pthread_cond_broadcast(&rl->done);
	pthread_mutex_unlock(&rl->mu);
	if (ret != NULL)
		*ret = r;
}

int
reload_request(struct reload *rl, const char *actor, unsigned timeout_ms,
    struct reload_result *ret)
{
	struct timespec until;
	uint64_t ticket;
	int e = 0;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&rl->mu);
	ticket = ++rl->asked;
	snprintf(rl->actor, sizeof(rl->actor), "%s", actor);
	pthread_mutex_unlock(&rl->mu);
	/* the main thread takes SIGHUP with sigtimedwait(), as `kill -HUP` */
	if (kill(getpid(), SIGHUP) < 0)
		return -errno;
	pthread_mutex_lock(&rl->mu);
	while (rl->served < ticket && e == 0)
		e = pthread_cond_timedwait(&rl->done, &rl->mu, &until);
	e = rl->served >= ticket ? 0 : -ETIMEDOUT;
	if (e == 0 && ret != NULL)
		*ret = rl->last;
	pthread_mutex_unlock(&rl->mu);
	return e;
}

void
reload_free(struct reload *rl)
{
	if (rl == NULL)
		return;
	for (size_t i = 0; i < rl->nretired; i++) {
		state_rt_free(rl->retired[i].rt);
		conf_free(rl->retired[i].conf);
	}
	pthread_cond_destroy(&rl->done);
	pthread_mutex_destroy(&rl->mu);
	explicit_bzero(rl->fp_key, sizeof(rl->fp_key));
	free(rl->files);
	free(rl);
}
