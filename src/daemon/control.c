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
#include "daemon/reload.h"
#include "daemon/state.h"
#include "daemon/wcmd.h"
#include "daemon/worker.h"
#include "media/relay.h"
#include "obs/alert.h"
#include "obs/evring.h"
#include "obs/evtop.h"
#include "policy/ban.h"
#include "policy/bruteforce.h"
#include "store/store.h"
#include "store/writer.h"

#define CONTROL_NOTE_MAX	200
#define CONTROL_BAN_FOR_MAX	(10LL * 365 * 86400)	/* seconds */
#define CONTROL_EVIDENCE_DEF	2000	/* events in one evidence answer */
#define CONTROL_EVIDENCE_BYTES	(4u << 20)	/* of lines in one answer */
#define CONTROL_RECENT_DEF	100
#define CONTROL_RECENT_MAX	1000
#define CONTROL_TOP_DEF		10

struct control {
	struct sw_env	*env;
	struct ctl	*ctl;
	struct evring	*ring;			/* evidence, recent */
	struct evtop	*top;			/* top offenders */
	struct evlog_tap sink;			/* feeds both */
	struct alert	*alert;			/* NULL: alerts off */
	struct reload	*reload;		/* NULL: SIGHUP only */
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
	if (j != NULL) {
		struct evring_stats rs;

		evring_get_stats(c->ring, &rs);
		json_object_set_new(j, "evidence", json_pack("{s:I, s:I, s:I, "
		    "s:I}", "events", (json_int_t)rs.events, "bytes",
		    (json_int_t)rs.bytes, "budget", (json_int_t)rs.budget,
		    "evicted", (json_int_t)rs.evicted));
	}
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
	struct reload_result rr;
	char who[64];
	int r;

	(void)args;
	ctl_event_action(c->env->ev, peer, "reload", NULL);
	if (c->reload == NULL) {
		if (kill(getpid(), SIGHUP) < 0)
			return fail(err, cap, CTL_E_INTERNAL, strerror(errno));
		*ret = json_pack("{s:s}", "outcome", "queued");
		return 0;
	}
	/* the main thread reloads (it owns the store connection and the
	 * retired snapshots); its answer comes back here */
	r = reload_request(c->reload, ctl_peer_name(peer, who, sizeof(who)),
	    CONTROL_RELOAD_WAIT_MS, &rr);
	if (r == -ETIMEDOUT)
		return fail(err, cap, CTL_E_UNAVAILABLE, "the reload did not "
		    "finish in time; see the daemon's log and events");
	if (r < 0)
		return fail(err, cap, CTL_E_INTERNAL, strerror(-r));
	if (rr.outcome == RELOAD_REFUSED)
		return fail(err, cap, strcmp(rr.reason, "invalid") == 0 ?
		    CTL_E_BAD_REQUEST : CTL_E_CONFLICT, rr.message);
	*ret = json_pack("{s:s,s:s,s:I,s:s}", "outcome",
	    rr.outcome == RELOAD_APPLIED ? "applied" : "unchanged",
	    "reason", rr.reason, "changed", (json_int_t)rr.changed,
	    "message", rr.message);
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
	char who[64];
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
	char text[STORE_BAN_KEY_MAX + 1], who[64], sample[CONTROL_NOTE_MAX + 80];
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
	char canon[FROZEN_LEN + 1], who[64];
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

/* ---- calls (live, from the workers) ---- */

/* "srtp", "rtp", "none" (media not anchored), "" (no stream yet). */
static const char *
enc_of(const struct wcmd_leg *l)
{
	if (!l->anchored)
		return "none";
	if (l->srtp)
		return "srtp";
	return l->open ? "rtp" : "";
}

/* Packets lost of those expected, in percent. */
static double
loss_of(const struct wcmd_leg *l)
{
	double p;

	if (l->expected == 0 || l->lost <= 0)
		return 0;
	p = 100.0 * (double)l->lost / (double)l->expected;
	return p > 100 ? 100 : p;
}

static int
call_cmp(const void *x, const void *y)
{
	const struct wcmd_call *a = x, *b = y;

	if (a->started_ms != b->started_ms)
		return a->started_ms < b->started_ms ? -1 : 1;
	return strcmp(a->call_id, b->call_id);
}

static json_t *
call_json(const struct wcmd_call *x, int64_t now_ms)
{
	json_t *o = json_object();
	int64_t dur = x->answered_ms > 0 && now_ms > x->answered_ms ?
	    (now_ms - x->answered_ms) / 1000 : 0;

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "call_id", json_string(x->call_id));
	json_object_set_new(o, "from", json_string(x->from));
	json_object_set_new(o, "to", json_string(x->to));
	json_object_set_new(o, "account", json_string(x->account));
	json_object_set_new(o, "src", json_string(x->src));
	json_object_set_new(o, "zone_a", json_string(x->zone_a));
	json_object_set_new(o, "zone_b", json_string(x->zone_b));
	json_object_set_new(o, "state", json_string(x->state));
	json_object_set_new(o, "direction", json_string(x->direction));
	json_object_set_new(o, "started_ms", json_integer(x->started_ms));
	json_object_set_new(o, "answered_ms", x->answered_ms > 0 ?
	    json_integer(x->answered_ms) : json_null());
	json_object_set_new(o, "duration_s", json_integer(dur));
	json_object_set_new(o, "enc_a", json_string(enc_of(&x->leg[0])));
	json_object_set_new(o, "enc_b", json_string(enc_of(&x->leg[1])));
	json_object_set_new(o, "loss_a", json_real(loss_of(&x->leg[0])));
	json_object_set_new(o, "loss_b", json_real(loss_of(&x->leg[1])));
	json_object_set_new(o, "jitter_a_ms",
	    json_real(x->leg[0].jitter_us / 1000.0));
	json_object_set_new(o, "jitter_b_ms",
	    json_real(x->leg[1].jitter_us / 1000.0));
	json_object_set_new(o, "packets_a",
	    json_integer((json_int_t)x->leg[0].packets));
	json_object_set_new(o, "packets_b",
	    json_integer((json_int_t)x->leg[1].packets));
	json_object_set_new(o, "worker", json_integer(x->worker));
	return o;
}

static int
cmd_calls(void *arg, const struct ctl_peer *peer, const json_t *args,
    json_t **ret, char *err, size_t cap)
{
	struct control *c = arg;
	struct wcmd_call *v = NULL;
	const char *account = NULL;
	size_t n = 0, shown = 0;
	unsigned answered = 0;
	int64_t now = (int64_t)wall_ms();
	json_t *a;
	int r, cut = 0;

	(void)peer;
	if (ctl_arg_str(args, "account", WCMD_USER_MAX, &account) == -EINVAL)
		return fail(err, cap, CTL_E_BAD_REQUEST, "\"account\": a user "
		    "name");
	r = wcmd_list_calls(c->env, CONTROL_LIST_MAX, CONTROL_HANGUP_WAIT_MS,
	    &v, &n, &answered, &cut);
	if (r == -ENOMEM)
		return fail(err, cap, CTL_E_INTERNAL, "out of memory");
	if ((a = json_array()) == NULL) {
		free(v);
		return fail(err, cap, CTL_E_INTERNAL, "out of memory");
	}
	if (n > 1)
		qsort(v, n, sizeof(v[0]), call_cmp);
	for (size_t i = 0; i < n; i++) {
		if (account != NULL && strcmp(v[i].account, account) != 0)
			continue;
		if (json_array_append_new(a, call_json(&v[i], now)) == 0)
			shown++;
	}
	free(v);
	/* a worker that did not answer in time: its calls are missing,
	 * and the answer says so rather than fail */
	*ret = json_pack("{s:o, s:I, s:b, s:i, s:i}", "calls", a, "count",
	    (json_int_t)shown, "truncated", cut, "workers",
	    (int)c->env->nworkers, "workers_answered", (int)answered);
	return *ret != NULL ? 0 : fail(err, cap, CTL_E_INTERNAL,
	    "out of memory");
}

/* ---- top offenders, evidence, recent events ---- */

/* The tap (control thread): every event the log wrote. */
static void
top_feed(void *arg, const struct evring_ev *ev)
{
	evtop_feed(arg, ev);
}

static void
control_events(void *arg, const char *data, size_t len)
{
	struct control *c = arg;

	(void)evring_feed(c->ring, data, len, top_feed, c->top);
}

static int
cmd_top(void *arg, const struct ctl_peer *peer, const json_t *args,
    json_t **ret, char *err, size_t cap)
{
	struct control *c = arg;
	long long n = CONTROL_TOP_DEF, window = EVTOP_WINDOW_S;

	(void)peer;
	if (ctl_arg_uint(args, "n", EVTOP_KEYS, &n) == -EINVAL || n == 0)
		return fail(err, cap, CTL_E_BAD_REQUEST, "\"n\": 1 to 256");
	if (ctl_arg_uint(args, "window_s", EVTOP_WINDOW_S, &window) ==
	    -EINVAL || window == 0)
		return fail(err, cap, CTL_E_BAD_REQUEST, "\"window_s\": 1 to "
		    "600 seconds");
	if ((*ret = evtop_json(c->top, (int64_t)wall_ms(), (unsigned)window,
	    (size_t)n)) == NULL)
		return fail(err, cap, CTL_E_INTERNAL, "out of memory");
	return 0;
}

/* What the ring can say about how far back it reaches. */
static void
ring_reach(json_t *o, const struct evring_result *res)
{
	json_object_set_new(o, "scanned", json_integer((json_int_t)
	    res->scanned));
	json_object_set_new(o, "truncated", json_boolean(res->truncated));
	json_object_set_new(o, "oldest_ms", res->oldest_ms > 0 ?
	    json_integer(res->oldest_ms) : json_null());
	/* nothing pushed out yet: the ring holds every event since the
	 * control socket started */
	json_object_set_new(o, "complete", json_boolean(res->evicted == 0));
}

static int
cmd_evidence(void *arg, const struct ctl_peer *peer, const json_t *args,
    json_t **ret, char *err, size_t cap)
{
	struct control *c = arg;
	struct evring_query q;
	struct evring_result res;
	const char *src = NULL, *call_id = NULL;
	long long max = CONTROL_EVIDENCE_DEF;
	json_t *a, *o;
	int r;

	(void)peer;
	memset(&q, 0, sizeof(q));
	q.max_sev = 7;
	if (ctl_arg_str(args, "src", SW_ADDR_STRLEN, &src) == -EINVAL ||
	    ctl_arg_str(args, "call_id", EVRING_CALL_ID_MAX, &call_id) ==
	    -EINVAL || (src == NULL) == (call_id == NULL))
		return fail(err, cap, CTL_E_BAD_REQUEST, "give \"src\" (an "
		    "address, with or without a port) or \"call_id\"");
	if (ctl_arg_uint(args, "max", CONTROL_LIST_MAX, &max) == -EINVAL ||
	    max == 0)
		return fail(err, cap, CTL_E_BAD_REQUEST, "\"max\": 1 to 10000");
	if (src != NULL && evring_query_src(src, &q) < 0)
		return fail(err, cap, CTL_E_BAD_REQUEST, "\"src\": an IPv4 or "
		    "IPv6 address, with or without a port");
	if (call_id != NULL) {
		q.by = EVRING_BY_CALL_ID;
		snprintf(q.call_id, sizeof(q.call_id), "%s", call_id);
	}
	if ((a = json_array()) == NULL)
		return fail(err, cap, CTL_E_INTERNAL, "out of memory");
	r = evring_collect(c->ring, &q, (size_t)max, CONTROL_EVIDENCE_BYTES, a,
	    &res);
	if (r < 0 || (o = json_pack("{s:o, s:I}", "events", a, "matched",
	    (json_int_t)res.matched)) == NULL) {
		if (r < 0)
			json_decref(a);
		return fail(err, cap, CTL_E_INTERNAL, "out of memory");
	}
	ring_reach(o, &res);
	json_object_set_new(o, "query", src != NULL ? json_pack("{s:s}",
	    "src", src) : json_pack("{s:s}", "call_id", call_id));
	*ret = o;
	return 0;
}

static int
cmd_recent(void *arg, const struct ctl_peer *peer, const json_t *args,
    json_t **ret, char *err, size_t cap)
{
	struct control *c = arg;
	struct evring_query q;
	struct evring_result res;
	long long n = CONTROL_RECENT_DEF, sev = -1;
	const char *name = NULL;
	json_t *a, *o;
	int r;

	(void)peer;
	memset(&q, 0, sizeof(q));
	q.by = EVRING_BY_ANY;
	if (ctl_arg_uint(args, "n", CONTROL_RECENT_MAX, &n) == -EINVAL ||
	    n == 0)
		return fail(err, cap, CTL_E_BAD_REQUEST, "\"n\": 1 to 1000");
	/* a keyword ("warning") or its number (4) */
	if ((r = ctl_arg_str(args, "min_severity", 16, &name)) == 0)
		sev = evring_sev_of(name);
	else if (r == -EINVAL && ctl_arg_uint(args, "min_severity", 7,
	    &sev) < 0)
		sev = -2;
	if (sev == -2 || (r == 0 && sev < 0))
		return fail(err, cap, CTL_E_BAD_REQUEST, "\"min_severity\": "
		    "emerg alert crit err warning notice info debug, or 0-7");
	q.max_sev = sev >= 0 ? (int)sev : 7;
	if ((a = json_array()) == NULL)
		return fail(err, cap, CTL_E_INTERNAL, "out of memory");
	r = evring_collect(c->ring, &q, (size_t)n, CONTROL_EVIDENCE_BYTES, a,
	    &res);
	if (r < 0 || (o = json_pack("{s:o}", "events", a)) == NULL) {
		if (r < 0)
			json_decref(a);
		return fail(err, cap, CTL_E_INTERNAL, "out of memory");
	}
	ring_reach(o, &res);
	*ret = o;
	return 0;
}

/* ---- alerts and key rates ---- */

static int
cmd_alerts(void *arg, const struct ctl_peer *peer, const json_t *args,
    json_t **ret, char *err, size_t cap)
{
	struct control *c = arg;
	long long n = ALERT_HISTORY;

	(void)peer;
	if (ctl_arg_uint(args, "n", ALERT_HISTORY, &n) == -EINVAL || n == 0)
		return fail(err, cap, CTL_E_BAD_REQUEST, "\"n\": 1 to 64");
	if ((*ret = alert_alerts_json(c->alert, (size_t)n)) == NULL)
		return fail(err, cap, CTL_E_INTERNAL, "out of memory");
	return 0;
}

static int
cmd_rates(void *arg, const struct ctl_peer *peer, const json_t *args,
    json_t **ret, char *err, size_t cap)
{
	struct control *c = arg;

	(void)peer;
	(void)args;
	if ((*ret = alert_rates_json(c->alert)) == NULL)
		return fail(err, cap, CTL_E_INTERNAL, "out of memory");
	json_object_set_new(*ret, "enabled", json_boolean(alert_enabled(
	    c->alert)));
	return 0;
}

/* ---- account ---- */

/*
 * `account unlock USER`: lift the brute-force lock (PROT5) the workers
 * keep in memory by user name.  The other account actions change the
 * store, which the daemon follows within a second (state.c), so they
 * stay with `sipwall account`.
 */
static int
cmd_account(void *arg, const struct ctl_peer *peer, const json_t *args,
    json_t **ret, char *err, size_t cap)
{
	struct control *c = arg;
	struct sw_env *env = c->env;
	const char *action, *user;
	struct secevent ev;
	struct slice key;
	uint64_t until = 0;
	int locked, known;

	if (ctl_arg_str(args, "action", 16, &action) < 0 ||
	    strcmp(action, "unlock") != 0)
		return fail(err, cap, CTL_E_BAD_REQUEST, "\"action\": only "
		    "\"unlock\" (add, disable, enable, rotate: sipwall account, "
		    "which the daemon follows)");
	if (ctl_arg_str(args, "user", LOC_AOR_MAX, &user) < 0 ||
	    user[0] == '@')
		return fail(err, cap, CTL_E_BAD_REQUEST, "\"user\": an account "
		    "name, or user@domain");
	/* the workers key locks by the digest user name, no domain */
	key = slice_make(user, strcspn(user, "@"));
	if (env->sec.bf == NULL)
		return fail(err, cap, CTL_E_UNAVAILABLE, "brute-force "
		    "protection is off");
	locked = bf_is_locked(env->sec.bf, key, mono_ms(), &until) == 1;
	known = bf_unlock(env->sec.bf, key) == 0;
	if (locked) {
		char who[64];

		secevent_init(&ev, SECEV_ACCOUNT_UNLOCKED);
		ev.reason = "admin";
		ev.account = key;
		secevent_add_str(&ev, "actor", ctl_peer_name(peer, who,
		    sizeof(who)));
		evlog_emit(env->ev, &ev);
	}
	ctl_event_action(env->ev, peer, "account_unlock", user);
	*ret = json_pack("{s:s%, s:b, s:b}", "account", key.p, key.len,
	    "unlocked", locked, "known", known);
	return *ret != NULL ? 0 : fail(err, cap, CTL_E_INTERNAL,
	    "out of memory");
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
	{ "calls", cmd_calls, 0 },
	{ "top", cmd_top, 0 },
	{ "evidence", cmd_evidence, 0 },
	{ "recent", cmd_recent, 0 },
	{ "alerts", cmd_alerts, 0 },
	{ "rates", cmd_rates, 0 },
	{ "account", cmd_account, 0 },
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
	if ((r = evring_new(CONTROL_RING_BYTES, &c->ring)) < 0 ||
	    (r = evtop_new(&c->top)) < 0) {
		log_warnx("control socket: %s", strerror(-r));
		evring_free(c->ring);
		free(c);
		return r;
	}
	c->sink.fn = control_events;
	c->sink.arg = c;
	memset(&cc, 0, sizeof(cc));
	cc.path = path;
	cc.group = a->socket_group;
	cc.cmds = control_cmds;
	cc.ncmds = sizeof(control_cmds) / sizeof(control_cmds[0]);
	cc.arg = c;
	cc.ev = env->ev;
	cc.sink = &c->sink;
	if ((r = ctl_open(&cc, &c->ctl, msg, sizeof(msg))) < 0) {
		log_warnx("control socket: %s", msg);
		evring_free(c->ring);
		evtop_free(c->top);
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
	ctl_free(c->ctl);	/* the thread that feeds the ring is gone */
	evring_free(c->ring);
	evtop_free(c->top);
	free(c);
}

void
control_set_alert(struct control *c, struct alert *a)
{
	if (c != NULL)
		c->alert = a;
}

void
control_set_reload(struct control *c, struct reload *rl)
{
	if (c != NULL)
		c->reload = rl;
}

/* The control socket's server, for the admin HTTP API (OPS2). */
struct ctl *
control_ctl(struct control *c)
{
	return c != NULL ? c->ctl : NULL;
}
