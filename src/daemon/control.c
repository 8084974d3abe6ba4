/*
 * The control commands (see control.h).  Each runs on the control
 * thread with the peer's credentials; every one that changes state
 * emits admin.action naming the command and the peer's uid, and waits
 * for the store writer where it persisted something, so what it
 * answered survives a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "admin/ctl.h"
#include "admin/sw_version.h"
#include "core/err.h"
#include "core/log.h"
#include "daemon/call.h"
#include "daemon/control.h"
#include "daemon/state.h"
#include "daemon/wcmd.h"
#include "daemon/worker.h"
#include "media/relay.h"
#include "policy/ban.h"
#include "store/store.h"
#include "store/writer.h"

#define CONTROL_NOTE_MAX	200
#define CONTROL_BAN_FOR_MAX	(10LL * 365 * 86400)	/* seconds */

struct control {
	struct sw_env	*env;
	struct ctl	*ctl;
	uint64_t	 started_ms;		/* mono_ms() */
	char		 lockfile[PATH_MAX];
	char		 frozenfile[PATH_MAX];	/* one prefix per line */
};

static int
fail(char *err, size_t cap, int code, const char *msg)
{
	snprintf(err, cap, "%s", msg);
	return -code;
}

/* ---- status ---- */

static json_t *
status_calls(const struct sw_env *env)
{
	uint64_t active = 0, attempts = 0, answered = 0, failed = 0, ended = 0;

	/*
	 * Each worker writes its own call_stats; we read them without a
	 * lock.  Aligned 64-bit loads do not tear on the machines we run
	 * on, and a count a call behind is fine for a status display.
	 */
	for (unsigned i = 0; i < env->nworkers; i++) {
		const struct call_stats *s = call_stats(env->workers[i]);

		if (s == NULL)
			continue;
		active += s->active;
		attempts += s->attempts;
		answered += s->answered;
		failed += s->failed;
		ended += s->ended;
	}
	return json_pack("{s:I, s:I, s:I, s:I, s:I}", "active",
	    (json_int_t)active, "attempts", (json_int_t)attempts, "answered",
	    (json_int_t)answered, "failed", (json_int_t)failed, "ended",
	    (json_int_t)ended);
}

static int
cmd_status(void *arg, const struct ctl_peer *peer, const json_t *args,
    json_t **ret, char *err, size_t cap)
{
	struct control *c = arg;
	struct sw_env *env = c->env;
	struct ban_stats bs;
	struct evlog_stats es;
	json_t *j, *media = json_null();
	unsigned overloaded = 0;

	(void)peer;
	(void)args;
	ban_stats(env->sec.bans, &bs);
	evlog_get_stats(env->ev, &es);
	/* the same kind of racy read as the call counts: a flag */
	for (unsigned i = 0; i < env->nworkers; i++)
		overloaded += overload_active(&env->workers[i]->ovl) ? 1 : 0;
	if (env->relay != NULL) {
		struct relay_counts rc;

		relay_counts(env->relay, &rc);
		json_decref(media);
		media = json_pack("{s:I, s:I, s:I}", "sessions",
		    (json_int_t)rc.sessions, "pairs_in_use",
		    (json_int_t)rc.pairs_in_use, "pairs_total",
		    (json_int_t)rc.pairs_total);
	}
	j = json_pack("{s:s, s:s, s:i, s:I, s:i, s:b, s:o, s:{s:I, s:I}, "
	    "s:{s:I, s:I, s:I}, s:{s:i}, s:o, s:{s:I, s:I, s:I}}",
	    "version", SW_VERSION, "node", env->conf->node.name,
	    "pid", (int)getpid(),
	    "uptime_s", (json_int_t)((mono_ms() - c->started_ms) / 1000),
	    "workers", (int)env->nworkers,
	    "lockdown", atomic_load(&env->sec.lockdown) != 0,
	    "calls", status_calls(env),
	    "registrations", "aors", (json_int_t)loc_count_aors(env->sec.loc),
	    "bindings", (json_int_t)loc_count_bindings(env->sec.loc),
	    "bans", "active", (json_int_t)bs.active, "remembered",
	    (json_int_t)bs.remembered, "hits", (json_int_t)bs.hits,
	    "overload", "workers_overloaded", (int)overloaded,
	    "media", media,
	    "events", "written", (json_int_t)es.written, "dropped",
	    (json_int_t)es.dropped, "suppressed", (json_int_t)es.suppressed);
	if (j == NULL)
		return fail(err, cap, CTL_E_INTERNAL, "out of memory");
	*ret = j;
	return 0;
}

/* ---- reload ---- */

static int
cmd_reload(void *arg, const struct ctl_peer *peer, const json_t *args,
    json_t **ret, char *err, size_t cap)
{
	struct control *c = arg;

	(void)args;
	/* the main thread takes SIGHUP with sigtimedwait(): the same path
	 * as `kill -HUP`, queued now, done within the second */
	if (kill(getpid(), SIGHUP) < 0)
		return fail(err, cap, CTL_E_INTERNAL, strerror(errno));
	ctl_event_action(c->env->ev, peer, "reload", NULL);
	*ret = json_pack("{s:b}", "queued", 1);
	return 0;
}

/* ---- lockdown ---- */

static void
lockdown_event(struct sw_env *env, int on, const char *actor,
    const char *detail)
{
	struct secevent ev;

	secevent_init(&ev, on ? SECEV_LOCKDOWN_ON : SECEV_LOCKDOWN_OFF);
	ev.reason = on ? "lockdown" : "released";
	ev.detail = detail;
	secevent_add_str(&ev, "actor", actor);
	evlog_emit(env->ev, &ev);
}

static int
cmd_lockdown(void *arg, const struct ctl_peer *peer, const json_t *args,
    json_t **ret, char *err, size_t cap)
{
	struct control *c = arg;
	struct sw_env *env = c->env;
	char who[32];
	int on = ctl_arg_bool(args, "on"), was;

	if (on == -EINVAL)
		return fail(err, cap, CTL_E_BAD_REQUEST, "\"on\" must be "
		    "true or false");
	if (on == -ENOENT) {	/* a question */
		*ret = json_pack("{s:b}", "lockdown",
		    atomic_load(&env->sec.lockdown) != 0);
		return 0;
	}
	was = atomic_exchange(&env->sec.lockdown, on);
	/* kept across a restart: containment must not end by accident */
	if (on) {
		int fd = open(c->lockfile, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

		if (fd >= 0)
			close(fd);
		else
			log_warn("lockdown: %s (it ends at a restart)",
			    c->lockfile);
	} else
		(void)unlink(c->lockfile);
	if (was != on) {
		ctl_peer_name(peer, who, sizeof(who));
		lockdown_event(env, on, who, on ? "only allow-listed sources "
		    "register, no international calls" : NULL);
		log_info("lockdown %s by %s", on ? "on" : "off", who);
	}
	ctl_event_action(env->ev, peer, on ? "lockdown_on" : "lockdown_off",
	    NULL);
	*ret = json_pack("{s:b, s:b}", "lockdown", on, "changed", was != on);
	return 0;
}

/* ---- bans ---- */

/* A ban key from the operator: canonical text and the table's key. */
static int
ban_key(const json_t *args, char *text, size_t tcap, struct cidr *key,
    char *err, size_t cap)
{
	const char *s;

	if (ctl_arg_str(args, "key", STORE_BAN_KEY_MAX, &s) < 0)
		return fail(err, cap, CTL_E_BAD_REQUEST, "\"key\": an address "
		    "or prefix is needed");
	if (store_ban_key_canon(s, text, tcap, NULL, NULL) < 0 ||
	    cidr_parse_cstr(text, key, NULL, NULL) < 0)
		return fail(err, cap, CTL_E_BAD_REQUEST, "not an address or "
		    "a prefix without host bits");
	return 0;
}

static json_t *
ban_json(const struct ban_entry *e, enum ban_state st)
{
	char key[CIDR_STRLEN], canon[STORE_BAN_KEY_MAX + 1];
	json_t *j, *note;

	cidr_format(&e->key, key, sizeof(key));
	if (store_ban_key_canon(key, canon, sizeof(canon), NULL, NULL) < 0)
		snprintf(canon, sizeof(canon), "%s", key);
	j = json_pack("{s:s, s:s, s:s, s:i, s:I, s:I, s:I}",
	    "key", canon, "state", ban_state_name(st),
	    "reason", ban_reason_name(e->reason), "strikes", (int)e->strikes,
	    "since", (json_int_t)(e->since_ms / 1000),
	    "until", (json_int_t)(e->until_ms == BAN_FOREVER ? 0 :
	    e->until_ms / 1000), "hits", (json_int_t)e->hits);
	/* an operator's note; other samples are wire bytes, kept out */
	if (j != NULL && e->reason == BAN_R_MANUAL && e->sample_len > 0 &&
	    (note = json_stringn((const char *)e->sample,
	    e->sample_len)) != NULL)
		json_object_set_new(j, "note", note);
	return j;
}

static int
cmd_ban(void *arg, const struct ctl_peer *peer, const json_t *args,
    json_t **ret, char *err, size_t cap)
{
	struct control *c = arg;
	struct sw_env *env = c->env;
	struct ban_evidence ev = { .reason = BAN_R_MANUAL, .count = 1 };
	struct ban_entry e;
	struct cidr key;
	const char *note = NULL;
	char text[STORE_BAN_KEY_MAX + 1], who[32], sample[CONTROL_NOTE_MAX + 48];
	long long for_s = 0;
	int r;

	if ((r = ban_key(args, text, sizeof(text), &key, err, cap)) < 0)
		return r;
	if ((r = ctl_arg_uint(args, "for_s", CONTROL_BAN_FOR_MAX,
	    &for_s)) == -EINVAL)
		return fail(err, cap, CTL_E_BAD_REQUEST, "\"for_s\": seconds, "
		    "at most ten years");
	if (ctl_arg_str(args, "reason", CONTROL_NOTE_MAX, &note) == -EINVAL)
		return fail(err, cap, CTL_E_BAD_REQUEST, "\"reason\": 1 to 200 "
		    "printable characters");
	ctl_peer_name(peer, who, sizeof(who));
	/* the operator's words are the evidence */
	snprintf(sample, sizeof(sample), "%s (%s)", note != NULL ? note :
	    "manual ban", who);
	ev.sample = slice_cstr(sample);
	ev.duration_ms = for_s > 0 ? (uint64_t)for_s * 1000 : BAN_FOREVER;
	r = ban_add(env->sec.bans, &key, &ev, wall_ms(), &e);
	if (r == -EPERM)
		return fail(err, cap, CTL_E_CONFLICT, "allow-listed (bans.never "
		    "or a trusted zone): never banned");
	if (r == -EINVAL)
		return fail(err, cap, CTL_E_BAD_REQUEST, "prefix too short (at "
		    "least /8 for IPv4, /16 for IPv6)");
	if (r < 0)
		return fail(err, cap, CTL_E_UNAVAILABLE, "the ban table is full");
	state_ban_persist(env, &e);
	store_writer_sync(env->sec.wr);
	if (r == 0)	/* the actor is in admin.action */
		state_ban_event(env, SECEV_BAN_ADDED, &e, "manual");
	ctl_event_action(env->ev, peer, "ban", text);
	*ret = ban_json(&e, BAN_S_ACTIVE);
	if (*ret != NULL)
		json_object_set_new(*ret, "already", json_boolean(r == 1));
	return 0;
}

static int
cmd_unban(void *arg, const struct ctl_peer *peer, const json_t *args,
    json_t **ret, char *err, size_t cap)
{
	struct control *c = arg;
	struct sw_env *env = c->env;
	struct store_wop op;
	struct ban_entry e;
	enum ban_state st;
	struct cidr key;
	char text[STORE_BAN_KEY_MAX + 1];
	int r;

	if ((r = ban_key(args, text, sizeof(text), &key, err, cap)) < 0)
		return r;
	if (ban_get(env->sec.bans, &key, wall_ms(), &e, &st) < 0 ||
	    st != BAN_S_ACTIVE)
		return fail(err, cap, CTL_E_NOT_FOUND, "no such ban");
	/* the store first: the once-a-second reconciliation would put back
	 * a ban whose row is still there */
	memset(&op, 0, sizeof(op));
	op.type = STORE_WOP_BAN_DELETE;
	snprintf(op.u.ban_del.key, sizeof(op.u.ban_del.key), "%s", text);
	if (store_writer_submit(env->sec.wr, &op) < 0)
		return fail(err, cap, CTL_E_UNAVAILABLE, "store queue full; "
		    "try again");
	store_writer_sync(env->sec.wr);
	(void)ban_remove(env->sec.bans, &key, NULL);
	state_ban_event(env, SECEV_BAN_REMOVED, &e, "admin");
	ctl_event_action(env->ev, peer, "unban", text);
	*ret = json_pack("{s:s, s:b}", "key", text, "removed", 1);
	return 0;
}

struct ban_list {
	json_t	*a;
	int	 all;
	int	 truncated;
};

static int
ban_list_one(void *arg, const struct ban_entry *e, enum ban_state st)
{
	struct ban_list *l = arg;

	if (st != BAN_S_ACTIVE && !l->all)
		return 0;
	if (json_array_size(l->a) >= CONTROL_LIST_MAX) {
		l->truncated = 1;
		return 1;
	}
	json_array_append_new(l->a, ban_json(e, st));
	return 0;
}

static int
cmd_bans(void *arg, const struct ctl_peer *peer, const json_t *args,
    json_t **ret, char *err, size_t cap)
{
	struct control *c = arg;
	struct ban_list l = { .a = json_array() };

	(void)peer;
	l.all = ctl_arg_bool(args, "all") == 1;
	if (l.a == NULL)
		return fail(err, cap, CTL_E_INTERNAL, "out of memory");
	ban_foreach(c->env->sec.bans, wall_ms(), ban_list_one, &l);
	*ret = json_pack("{s:o, s:b}", "bans", l.a, "truncated",
	    l.truncated);
	return 0;
}

/* ---- registrations ---- */

struct reg_list {
	const char	*user;		/* NULL: all */
	size_t		 ulen;
	int		 whole;		/* user is user@domain */
	json_t		*a;
	int64_t		 now;
	int		 truncated;
};

/* Under a stripe lock of the location table: copy, nothing more. */
static int
reg_list_one(void *arg, const char *aor, const struct binding *b)
{
	struct reg_list *l = arg;
	char src[SW_ADDR_STRLEN];

	if (b->expires <= l->now)
		return 0;
	if (l->user != NULL && (l->whole ? strcmp(aor, l->user) != 0 :
	    strncmp(aor, l->user, l->ulen) != 0 || aor[l->ulen] != '@'))
		return 0;
	if (json_array_size(l->a) >= CONTROL_LIST_MAX) {
		l->truncated = 1;
		return 0;
	}
	json_array_append_new(l->a, json_pack("{s:s, s:s, s:s, s:s, s:I, "
	    "s:s, s:b}", "aor", aor, "contact", b->contact, "source",
	    sw_addr_str(&b->flow.addr, src, sizeof(src)), "transport",
	    b->flow.transport == SIP_TP_TCP ? "tcp" :
	    b->flow.transport == SIP_TP_TLS ? "tls" : "udp",
	    "expires_in", (json_int_t)(b->expires - l->now),
	    "user_agent", b->user_agent, "nat", b->nat != 0));
	return 0;
}

static int
cmd_registrations(void *arg, const struct ctl_peer *peer, const json_t *args,
    json_t **ret, char *err, size_t cap)
{
	struct control *c = arg;
	struct loc_table *loc = c->env->sec.loc;
	struct reg_list l = { .a = json_array(), .now = (int64_t)time(NULL) };
	struct loc_cursor cur = { 0, 0 };
	int r;

	(void)peer;
	if ((r = ctl_arg_str(args, "user", LOC_AOR_MAX, &l.user)) == -EINVAL) {
		json_decref(l.a);
		return fail(err, cap, CTL_E_BAD_REQUEST, "\"user\": a user "
		    "name");
	}
	if (l.a == NULL)
		return fail(err, cap, CTL_E_INTERNAL, "out of memory");
	if (l.user != NULL) {
		l.ulen = strlen(l.user);
		l.whole = strchr(l.user, '@') != NULL;
	}
	while (loc_walk(loc, &cur, loc_slots(loc), reg_list_one, &l) == 1)
		;
	*ret = json_pack("{s:o, s:b}", "registrations", l.a, "truncated",
	    l.truncated);
	return 0;
}

/* ---- kick ---- */

struct kick {
	struct binding	 b[LOC_MAX_BINDINGS];
	size_t		 n;
};

static int
kick_all(struct binding *b, size_t *n, void *arg)
{
	struct kick *k = arg;

	memcpy(k->b, b, *n * sizeof(*b));
	k->n = *n;
	*n = 0;
	return 0;
}

/* "alice" (the realm's) or "alice@example.com" as the table's AOR. */
static int
aor_of(const struct sw_env *env, const char *user, char aor[LOC_AOR_MAX + 1])
{
	const char *at = strchr(user, '@');

	if (at == NULL)
		return loc_aor(slice_cstr(user), env->sec.realm, aor);
	return loc_aor(slice_make(user, (size_t)(at - user)),
	    slice_cstr(at + 1), aor);
}

static int
cmd_kick(void *arg, const struct ctl_peer *peer, const json_t *args,
    json_t **ret, char *err, size_t cap)
{
	struct control *c = arg;
	struct sw_env *env = c->env;
	struct kick *k;
	const char *user;
	char aor[LOC_AOR_MAX + 1];

	if (ctl_arg_str(args, "user", LOC_AOR_MAX, &user) < 0 ||
	    aor_of(env, user, aor) < 0)
		return fail(err, cap, CTL_E_BAD_REQUEST, "\"user\": an account "
		    "name, or user@domain");
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return fail(err, cap, CTL_E_INTERNAL, "out of memory");
	(void)loc_update(env->sec.loc, aor, kick_all, k);
	for (size_t i = 0; i < k->n; i++) {
		struct secevent ev;

		state_reg_persist(env, aor, &k->b[i], 1, NULL, NULL);
		secevent_init(&ev, SECEV_REG_REMOVED);
		ev.src = &k->b[i].flow.addr;
		ev.account = slice_cstr(aor);
		ev.reason = "admin";
		secevent_add_str(&ev, "contact", k->b[i].contact);
		evlog_emit(env->ev, &ev);
	}
	if (k->n > 0)
		store_writer_sync(env->sec.wr);
	ctl_event_action(env->ev, peer, "kick", aor);
	*ret = json_pack("{s:s, s:i}", "aor", aor, "removed", (int)k->n);
	free(k);
	return 0;
}

/* ---- freeze ---- */

/* The frozen prefixes, one per line, so a restart keeps them. */
static void
frozen_save(struct control *c)
{
	char list[FROZEN_MAX][FROZEN_LEN + 1], tmp[PATH_MAX + 8];
	size_t n = frozen_list(&c->env->sec.frozen, list, FROZEN_MAX);
	FILE *f;

	if (n == 0) {
		(void)unlink(c->frozenfile);
		return;
	}
	snprintf(tmp, sizeof(tmp), "%s.new", c->frozenfile);
	if ((f = fopen(tmp, "w")) == NULL) {
		log_warn("freeze: %s (the prefixes end at a restart)", tmp);
		return;
	}
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s\n", list[i]);
	if (fclose(f) != 0 || rename(tmp, c->frozenfile) < 0)
		log_warn("freeze: %s", c->frozenfile);
}

static void
frozen_load(struct control *c)
{
	char line[64];
	FILE *f = fopen(c->frozenfile, "r");
	size_t n = 0;

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (frozen_add(&c->env->sec.frozen, line, NULL, 0) == 0)
			n++;
		else
			log_warnx("%s: '%s' is not an E.164 prefix, ignored",
			    c->frozenfile, line);
	}
	fclose(f);
	if (n > 0)
		log_warnx("%zu destination prefixes frozen (%s): sipwall "
		    "unfreeze releases them", n, c->frozenfile);
}

static int
cmd_freeze(void *arg, const struct ctl_peer *peer, const json_t *args,
    json_t **ret, char *err, size_t cap)
{
	struct control *c = arg;
	struct sw_env *env = c->env;
	struct secevent ev;
	char canon[FROZEN_LEN + 1], who[32];
	const char *prefix;
	int r;

	if (ctl_arg_str(args, "prefix", FROZEN_LEN, &prefix) < 0)
		return fail(err, cap, CTL_E_BAD_REQUEST, "\"prefix\": E.164 "
		    "digits, e.g. +882 or 1900");
	if ((r = frozen_add(&env->sec.frozen, prefix, canon,
	    sizeof(canon))) == -EINVAL)
		return fail(err, cap, CTL_E_BAD_REQUEST, "\"prefix\": 1 to 15 "
		    "E.164 digits, with or without '+'");
	if (r == -ENOSPC)
		return fail(err, cap, CTL_E_BAD_REQUEST, "too many frozen "
		    "prefixes");
	frozen_save(c);
	ctl_peer_name(peer, who, sizeof(who));
	secevent_init(&ev, SECEV_FRAUD_PREFIX_FROZEN);
	ev.reason = "frozen";
	secevent_add_str(&ev, "prefix", canon);
	secevent_add_str(&ev, "actor", who);
	evlog_emit(env->ev, &ev);
	ctl_event_action(env->ev, peer, "freeze", canon);
	*ret = json_pack("{s:s}", "frozen", canon);
	return 0;
}

static int
cmd_unfreeze(void *arg, const struct ctl_peer *peer, const json_t *args,
    json_t **ret, char *err, size_t cap)
{
	struct control *c = arg;
	const char *prefix;
	int r;

	if (ctl_arg_str(args, "prefix", FROZEN_LEN, &prefix) < 0 ||
	    (r = frozen_remove(&c->env->sec.frozen, prefix)) == -EINVAL)
		return fail(err, cap, CTL_E_BAD_REQUEST, "\"prefix\": 1 to 15 "
		    "E.164 digits, with or without '+'");
	if (r == -ENOENT)
		return fail(err, cap, CTL_E_NOT_FOUND, "that prefix is not "
		    "frozen");
	frozen_save(c);
	ctl_event_action(c->env->ev, peer, "unfreeze", prefix);
	*ret = json_pack("{s:s}", "released", prefix);
	return 0;
}

static int
cmd_frozen(void *arg, const struct ctl_peer *peer, const json_t *args,
    json_t **ret, char *err, size_t cap)
{
	struct control *c = arg;
	char list[FROZEN_MAX][FROZEN_LEN + 1];
	size_t n = frozen_list(&c->env->sec.frozen, list, FROZEN_MAX);
	json_t *a = json_array();

	(void)peer;
	(void)args;
	if (a == NULL)
		return fail(err, cap, CTL_E_INTERNAL, "out of memory");
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(list[i]));
	*ret = json_pack("{s:o}", "frozen", a);
	return 0;
}

/* ---- hangup ---- */

static int
cmd_hangup(void *arg, const struct ctl_peer *peer, const json_t *args,
    json_t **ret, char *err, size_t cap)
{
	struct control *c = arg;
	const char *call_id = NULL, *account = NULL;
	unsigned ended = 0, answered = 0;
	char target[WCMD_ARG_MAX + 16];
	int r;

	if (ctl_arg_str(args, "call_id", WCMD_ARG_MAX, &call_id) == -EINVAL ||
	    ctl_arg_str(args, "account", WCMD_ARG_MAX, &account) == -EINVAL ||
	    (call_id == NULL) == (account == NULL))
		return fail(err, cap, CTL_E_BAD_REQUEST, "give \"call_id\" or "
		    "\"account\"");
	r = wcmd_run(c->env, call_id != NULL ? WCMD_HANGUP_CALL :
	    WCMD_HANGUP_ACCOUNT, call_id != NULL ? call_id : account,
	    CONTROL_HANGUP_WAIT_MS, &ended, &answered);
	if (r == -ENOMEM)
		return fail(err, cap, CTL_E_INTERNAL, "out of memory");
	if (ended > 0) {
		snprintf(target, sizeof(target), "%s%s", call_id != NULL ?
		    "call:" : "account:", call_id != NULL ? call_id : account);
		ctl_event_action(c->env->ev, peer, "hangup", target);
	}
	if (ended == 0 && r == 0)
		return fail(err, cap, CTL_E_NOT_FOUND, "no call matched");
	*ret = json_pack("{s:i, s:i, s:i}", "ended", (int)ended,
	    "workers", (int)c->env->nworkers, "workers_answered",
	    (int)answered);
	return 0;
}

/* ---- events ---- */

static int
cmd_events(void *arg, const struct ctl_peer *peer, const json_t *args,
    json_t **ret, char *err, size_t cap)
{
	(void)arg;
	(void)peer;
	if (ctl_arg_bool(args, "follow") != 1)
		return fail(err, cap, CTL_E_BAD_REQUEST, "only \"follow\": "
		    "true is supported");
	*ret = json_pack("{s:b}", "following", 1);
	return 0;
}

static const struct ctl_cmd control_cmds[] = {
	{ "status", cmd_status, 0 },
	{ "reload", cmd_reload, 0 },
	{ "lockdown", cmd_lockdown, 0 },
	{ "ban", cmd_ban, 0 },
	{ "unban", cmd_unban, 0 },
	{ "bans", cmd_bans, 0 },
	{ "registrations", cmd_registrations, 0 },
	{ "kick", cmd_kick, 0 },
	{ "hangup", cmd_hangup, 0 },
	{ "freeze", cmd_freeze, 0 },
	{ "unfreeze", cmd_unfreeze, 0 },
	{ "frozen", cmd_frozen, 0 },
	{ "events", cmd_events, CTL_F_FOLLOW },
};

static int
state_file(const struct sw_conf *conf, const char *name, char *buf, size_t cap)
{
	int n = name[0] == '/' ? snprintf(buf, cap, "%s", name) :
	    snprintf(buf, cap, "%s/%s", conf->node.state_dir, name);

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int
control_open(struct sw_env *env, struct control **ret)
{
	const struct conf_admin *a = &env->conf->admin;
	struct ctl_conf cc;
	struct control *c;
	char path[PATH_MAX], msg[256];
	int r;

	*ret = NULL;
	if (a->socket[0] == '\0')
		return 0;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -ENOMEM;
	c->env = env;
	c->started_ms = mono_ms();
	if ((r = state_file(env->conf, a->socket, path, sizeof(path))) < 0 ||
	    (r = state_file(env->conf, "lockdown", c->lockfile,
	    sizeof(c->lockfile))) < 0 ||
	    (r = state_file(env->conf, "frozen", c->frozenfile,
	    sizeof(c->frozenfile))) < 0) {
		log_warnx("admin.socket: path too long");
		free(c);
		return r;
	}
	memset(&cc, 0, sizeof(cc));
	cc.path = path;
	cc.group = a->socket_group;
	cc.cmds = control_cmds;
	cc.ncmds = sizeof(control_cmds) / sizeof(control_cmds[0]);
	cc.arg = c;
	cc.ev = env->ev;
	if ((r = ctl_open(&cc, &c->ctl, msg, sizeof(msg))) < 0) {
		log_warnx("control socket: %s", msg);
		free(c);
		return r;
	}
	if (access(c->lockfile, F_OK) == 0) {
		atomic_store(&env->sec.lockdown, 1);
		lockdown_event(env, 1, "restart", "lockdown kept across a "
		    "restart (sipwall lockdown off releases it)");
		log_warnx("lockdown is on (%s exists): sipwall lockdown off "
		    "releases it", c->lockfile);
	}
	frozen_load(c);
	log_info("control socket %s", path);
	*ret = c;
	return 0;
}

int
control_start(struct control *c)
{
	return c != NULL ? ctl_start(c->ctl) : 0;
}

void
control_free(struct control *c)
{
	if (c == NULL)
		return;
	ctl_free(c->ctl);
	free(c);
}
