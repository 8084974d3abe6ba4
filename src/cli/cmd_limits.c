/*
 * `sipwall account limits USER` and `sipwall account unblock USER`
 * (FRAUD2).  limits reads the account's group from the store, that
 * group's limits from the config and the counters from the store's
 * usage row, the snapshot the daemon last wrote; unblock zeroes that
 * row, queues a reset for a running daemon (whose counters live in
 * memory) and clears a brute-force lock.
 *
 * What a counter means is decided as the daemon decides it: a minute
 * or day that has passed counts 0 (the row is only rewritten when the
 * account makes its next call), and "today" is the local day of
 * usage_day().  Nothing here changes a limit: they live in the config.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cmd_limits.h"
#include "cli/store_open.h"
#include "conf/conf.h"
#include "policy/usage.h"
#include "store/store.h"

/* "12" or "unlimited" for the config's 0. */
static const char *
limit_str(uint32_t limit, char *buf, size_t cap)
{
	if (limit == 0)
		return "unlimited";
	snprintf(buf, cap, "%u", limit);
	return buf;
}

/*
 * The config, found as cli_store_open() finds it (-c, else the default
 * file if present, else the built-in defaults), loaded a second time:
 * cli_store_open() keeps only the store path, and the operator
 * commands load a config once per command, never in a hot path.
 * Returns 0 and a heap config (conf_free), or 1 after printing why.
 */
static int
load_conf(const char *path, struct sw_conf **ret)
{
	struct conf_diag *diag;
	struct sw_conf *conf;
	int r;

	if (path == NULL && access(CLI_DEFAULT_CONFIG, F_OK) == 0)
		path = CLI_DEFAULT_CONFIG;
	if (path == NULL) {
		/* conf_free() is free(): a calloc'd config goes with it. */
		if ((conf = calloc(1, sizeof(*conf))) == NULL)
			goto nomem;
		conf_defaults(conf);
		*ret = conf;
		return 0;
	}
	if ((diag = malloc(sizeof(*diag))) == NULL)
		goto nomem;
	conf_diag_init(diag);
	if ((r = conf_load(path, ret, diag)) < 0) {
		fprintf(stderr, "sipwall: cannot load config '%s':\n", path);
		conf_diag_print(stderr, diag);
		free(diag);
		return 1;
	}
	free(diag);
	return 0;
nomem:
	fprintf(stderr, "sipwall: out of memory\n");
	return 1;
}

/* The facts `limits` shows, in both output forms. */
struct limits_view {
	const char		*aor;
	const char		*grp;		/* the account's */
	bool			 configured;	/* grp is in the config */
	const struct conf_group	*g;		/* whose limits apply, or NULL */
	uint32_t		 active;
	uint32_t		 calls_minute;
	uint32_t		 calls_day;
	uint32_t		 minutes_day;
	uint32_t		 blocked_day;
};

/* The counters of row u (NULL: none) as they stand at now. */
static void
view_counters(struct limits_view *v, const struct store_usage *u, int64_t now)
{
	int64_t today = usage_day(now);
	uint64_t min;

	if (u == NULL)
		return;
	v->active = u->active;
	if (u->minute == now / 60)
		v->calls_minute = u->calls_minute;
	if (u->day == today) {
		v->calls_day = u->calls_day;
		/* A started minute counts, as a carrier bills it. */
		min = ((uint64_t)u->seconds_day + 59) / 60;
		v->minutes_day = (uint32_t)min;
		v->blocked_day = u->blocked_day;
	}
}

static int
print_json(const struct limits_view *v)
{
	const struct conf_group *g = v->g;
	json_t *j = json_object(), *lim = json_object(), *used = json_object(),
	    *hours = json_array();

	json_object_set_new(j, "account", json_string(v->aor));
	json_object_set_new(j, "group", json_string(v->grp));
	json_object_set_new(j, "group_configured", json_boolean(v->configured));
	/* 0 is "no limit", as in the config. */
	json_object_set_new(lim, "max_concurrent",
	    json_integer(g != NULL ? g->max_concurrent : 0));
	json_object_set_new(lim, "calls_per_minute",
	    json_integer(g != NULL ? g->calls_per_minute : 0));
	json_object_set_new(lim, "calls_per_day",
	    json_integer(g != NULL ? g->calls_per_day : 0));
	json_object_set_new(lim, "minutes_per_day",
	    json_integer(g != NULL ? g->minutes_per_day : 0));
	json_object_set_new(j, "limits", lim);
	json_object_set_new(used, "active", json_integer(v->active));
	json_object_set_new(used, "calls_minute", json_integer(v->calls_minute));
	json_object_set_new(used, "calls_day", json_integer(v->calls_day));
	json_object_set_new(used, "minutes_day", json_integer(v->minutes_day));
	json_object_set_new(used, "blocked_day", json_integer(v->blocked_day));
	json_object_set_new(j, "used", used);
	for (size_t i = 0; g != NULL && i < g->nhours && i < CONF_MAX_HOURS; i++)
		json_array_append_new(hours, json_string(g->hours[i]));
	json_object_set_new(j, "hours", hours);
	return cli_json_print(j);
}

static int
print_text(const struct limits_view *v)
{
	const struct conf_group *g = v->g;
	char b[16];

	printf("account:            %s\n", v->aor);
	if (v->configured)
		printf("group:              %s\n", v->grp);
	else if (g != NULL)
		printf("group:              %s (not in the config: the limits "
		    "of group \"%s\" apply)\n", v->grp, g->name);
	else
		printf("group:              %s (not in the config, nor is "
		    "\"%s\": no limits apply)\n", v->grp, STORE_DEFAULT_GROUP);
	printf("calls in progress:  %u / %s\n", v->active,
	    limit_str(g != NULL ? g->max_concurrent : 0, b, sizeof(b)));
	printf("calls this minute:  %u / %s\n", v->calls_minute,
	    limit_str(g != NULL ? g->calls_per_minute : 0, b, sizeof(b)));
	printf("calls today:        %u / %s\n", v->calls_day,
	    limit_str(g != NULL ? g->calls_per_day : 0, b, sizeof(b)));
	printf("minutes today:      %u / %s\n", v->minutes_day,
	    limit_str(g != NULL ? g->minutes_per_day : 0, b, sizeof(b)));
	printf("refused today:      %u\n", v->blocked_day);
	if (g == NULL || g->nhours == 0)
		printf("hours:              any time\n");
	for (size_t i = 0; g != NULL && i < g->nhours && i < CONF_MAX_HOURS; i++)
		printf("%-20s%s\n", i == 0 ? "hours:" : "", g->hours[i]);
	return fflush(stdout) != 0;
}

int
cli_account_limits(const struct cli_acct *a)
{
	struct limits_view v = { .aor = a->aor };
	int64_t now = (int64_t)time(NULL);
	struct store_account acc;
	struct store_usage u;
	struct sw_conf *conf = NULL;
	struct cli_store cs;
	bool have_row = false;
	int r, rc;

	if ((rc = cli_store_open(a->conf, a->dir, false, &cs)) != 0)
		return rc;
	memset(&acc, 0, sizeof(acc));
	r = store_account_get(cs.st, a->user, a->dom, &acc);
	/* Never kept longer than needed, never printed. */
	explicit_bzero(acc.ha1_md5, sizeof(acc.ha1_md5));
	explicit_bzero(acc.ha1_sha256, sizeof(acc.ha1_sha256));
	explicit_bzero(acc.pw_fp, sizeof(acc.pw_fp));
	if (r == -ENOENT) {
		cli_store_close(&cs);
		fprintf(stderr, "sipwall: account '%s' not found\n", a->aor);
		return 1;
	}
	if (r == 0) {
		r = store_usage_get(cs.st, a->aor, &u);
		have_row = r == 0;
		if (r == -ENOENT)
			r = 0;		/* no call since it was made */
	}
	cli_store_close(&cs);
	if (r < 0) {
		fprintf(stderr, "sipwall: cannot read account '%s': %s\n",
		    a->aor, store_strerror(r));
		return 1;
	}
	if ((rc = load_conf(a->conf, &conf)) != 0)
		return rc;

	v.grp = acc.grp;
	v.g = conf_group_find(conf, acc.grp);
	v.configured = v.g != NULL;
	/* What the daemon does with a group it does not know. */
	if (v.g == NULL)
		v.g = conf_group_find(conf, STORE_DEFAULT_GROUP);
	view_counters(&v, have_row ? &u : NULL, now);
	rc = a->json ? print_json(&v) : print_text(&v);
	conf_free(conf);
	return rc;
}

/*
 * Both changes in one transaction: an operator told "reset, lock
 * cleared" must not find only half of it done.  The reset request is
 * queued even without a usage row: a running daemon may hold counters
 * it has not written yet.  A lock that had already expired is cleared
 * too but not reported, there was nothing in force to lift.
 */
int
cli_account_unblock(const struct cli_acct *a)
{
	int64_t now = (int64_t)time(NULL);
	struct store_account acc;
	struct cli_store cs;
	bool locked, enabled;
	int r, rc;

	if ((rc = cli_store_open(a->conf, a->dir, false, &cs)) != 0)
		return rc;
	memset(&acc, 0, sizeof(acc));
	if ((r = store_begin(cs.st)) < 0)
		goto fail;
	r = store_account_get(cs.st, a->user, a->dom, &acc);
	explicit_bzero(acc.ha1_md5, sizeof(acc.ha1_md5));
	explicit_bzero(acc.ha1_sha256, sizeof(acc.ha1_sha256));
	explicit_bzero(acc.pw_fp, sizeof(acc.pw_fp));
	if (r < 0)
		goto fail;
	locked = acc.locked_until > now;
	enabled = acc.enabled;
	if ((r = store_usage_reset(cs.st, a->aor, now)) < 0 ||
	    (acc.locked_until != 0 &&
	    (r = store_account_set_locked_until(cs.st, a->user, a->dom,
	    0)) < 0) ||
	    (r = store_commit(cs.st)) < 0)
		goto fail;
	cli_store_close(&cs);
	printf("%s: usage counters reset, %s\n", a->aor,
	    locked ? "lock cleared" : "was not locked");
	if (fflush(stdout) != 0)
		return 1;
	if (!enabled)
		fprintf(stderr, "sipwall: note: '%s' is disabled; 'sipwall "
		    "account enable' turns it back on\n", a->aor);
	return 0;
fail:
	store_rollback(cs.st);
	cli_store_close(&cs);
	if (r == -ENOENT)
		fprintf(stderr, "sipwall: account '%s' not found\n", a->aor);
	else
		fprintf(stderr, "sipwall: cannot unblock account '%s': %s\n",
		    a->aor, store_strerror(r));
	return 1;
}
