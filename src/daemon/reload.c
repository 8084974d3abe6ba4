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

#include <openssl/evp.h>

#include "core/log.h"
#include "obs/alert.h"
#include "obs/secevent.h"
#include "policy/ban.h"
#include "store/store.h"
#include "daemon/fraud.h"
#include "daemon/reload.h"
#include "daemon/state.h"


/* "sha256:" and 64 hex digits, or why the file could not be read */
#define LIST_SUM_LEN	80

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
	char			 list_sum[LIST_SUM_LEN];	/* running */
	struct retired		 retired[RELOAD_RETIRED_MAX];
	size_t			 nretired;

	pthread_mutex_t		 mu;		/* the fields below */
	pthread_cond_t		 done;
	uint64_t		 asked, served;	/* request tickets */
	char			 actor[64];	/* of the latest request */
	struct reload_result	 last;
};

/*
 * The high-risk list is a file of its own: a reload where only its
 * contents changed must still count as a change of the policy, so the
 * flat form of a config carries the file's digest as one more key.
 */
static void
list_sum(const struct sw_conf *c, char out[LIST_SUM_LEN])
{
	char path[CONF_DIR_MAX + CONF_PATH_MAX + 2], buf[8192];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	EVP_MD_CTX *ctx;
	FILE *f;
	size_t n;
	int ok;

	out[0] = '\0';
	if (c->policy.high_risk_file[0] == '\0')
		return;
	if (conf_path_resolve(c, c->policy.high_risk_file, path,
	    sizeof(path)) < 0) {
		snprintf(out, LIST_SUM_LEN, "unreadable: path too long");
		return;
	}
	if ((f = fopen(path, "r")) == NULL) {
		snprintf(out, LIST_SUM_LEN, "unreadable: %s", strerror(errno));
		return;
	}
	ok = (ctx = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
	while (ok && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		ok = EVP_DigestUpdate(ctx, buf, n) == 1;
	ok = ok && !ferror(f) && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1;
	EVP_MD_CTX_free(ctx);
	fclose(f);
	if (!ok) {
		snprintf(out, LIST_SUM_LEN, "unreadable: read error");
		return;
	}
	n = (size_t)snprintf(out, LIST_SUM_LEN, "sha256:");
	for (unsigned i = 0; i < mdlen && n + 3 <= LIST_SUM_LEN; i++)
		n += (size_t)snprintf(out + n, LIST_SUM_LEN - n, "%02x", md[i]);
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
	list_sum(env->conf, rl->list_sum);
	if (getrandom(rl->fp_key, sizeof(rl->fp_key), 0) !=
	    (ssize_t)sizeof(rl->fp_key)) {
		free(rl);
		return -EIO;
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

static char *
flat(const struct sw_conf *c, const uint8_t *key, const char *sum)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	if (conf_print_flat(f, c, key) < 0) {
		fclose(f);
		free(buf);
		return NULL;
	}
	if (sum[0] != '\0')
		fprintf(f, "policy.high_risk_file.contents: %s\n", sum);
	fclose(f);
	return buf;
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

/* The work of reload_run, with *nc and *diff owned by the caller. */
static void
apply(struct reload *rl, struct reload_result *r, struct sw_conf **nc,
    char **diff)
{
	static const char *const pol_keys[] = { "dialplan.", "policy.", NULL };
	static const char *const alert_keys[] = { "alerts.", NULL };
	struct sw_env *env = rl->env;
	struct conf_diag diag;
	struct conf_diff_count cnt = { 0 };
	struct sw_rt *rt = NULL, *old_rt;
	struct sw_conf *old_conf;
	char restart[300], err[CONF_DIAG_LEN], *a = NULL, *b = NULL;
	char sum[LIST_SUM_LEN];
	int e;

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

	list_sum(*nc, sum);
	if ((a = flat(env->conf, rl->fp_key, rl->list_sum)) == NULL ||
	    (b = flat(*nc, rl->fp_key, sum)) == NULL ||
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
	/* alerts that were off at start have no engine to take rules */
	if (rl->alert == NULL && (*nc)->alerts.enabled &&
	    diff_touches(*diff, alert_keys) && cnt.restart++ == 0)
		snprintf(restart, sizeof(restart), "alerts.enabled");
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
	if ((e = state_rt_build(*nc, &rt)) < 0) {
		result(r, RELOAD_REFUSED, "internal", "building the zones' "
		    "rules: %s; nothing changed", strerror(-e));
		return;
	}
	/* the policy first: it is the one step that can still refuse */
	if (diff_touches(*diff, pol_keys) &&
	    fraud_reload(env, *nc, err, sizeof(err)) < 0) {
		state_rt_free(rt);
		result(r, RELOAD_REFUSED, "policy", "%s; nothing changed",
		    err);
		return;
	}
	if (rl->alert != NULL && diff_touches(*diff, alert_keys) &&
	    (e = alert_reconf(rl->alert, &(*nc)->alerts)) < 0)
		log_warnx("reload: alert rules: %s (the old ones stay)",
		    strerror(-e));
	old_rt = atomic_exchange_explicit(&env->sec.rt, rt,
	    memory_order_acq_rel);
	ban_set_allowlist(env->sec.bans, rt->never);
	old_conf = atomic_exchange_explicit(&env->conf, *nc,
	    memory_order_acq_rel);
	*nc = NULL;
	memcpy(rl->list_sum, sum, sizeof(sum));
	retire(rl, old_conf, old_rt);
	result(r, RELOAD_APPLIED, "reload", "%zu setting%s changed, applied "
	    "live", cnt.changed, cnt.changed == 1 ? "" : "s");
}

void
reload_run(struct reload *rl, struct reload_result *ret)
{
	struct reload_result r;
	struct sw_conf *nc = NULL;
	char actor[sizeof(rl->actor)], *diff = NULL;
	uint64_t ticket;

	pthread_mutex_lock(&rl->mu);
	ticket = rl->asked;
	snprintf(actor, sizeof(actor), "%s", rl->served < rl->asked ?
	    rl->actor : "signal");
	pthread_mutex_unlock(&rl->mu);

	memset(&r, 0, sizeof(r));
	apply(rl, &r, &nc, &diff);
	conf_free(nc);
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
	free(rl);
}
