/*
 * `sipwall ban ...` (OPS1, PROT3): list the bans in the store, add a
 * manual ban, remove a ban.  A running daemon notices the change
 * (store_gen) and applies it.
 *
 * Manual bans carry the reason code "manual"; --reason TEXT is kept in
 * the evidence as {"note": TEXT, "by": USER} next to the operator's
 * login.  Without --for a manual ban is permanent.  Prefixes shorter
 * than /8 (IPv4) or /16 (IPv6) are refused: they would shut out whole
 * parts of the internet, which is a firewall's job, not a ban's.
 *
 * Exit status: 0 done, 1 refused or failed (no such ban, store error),
 * 2 bad arguments.
 */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cmd_ban.h"
#include "cli/store_open.h"
#include "store/store.h"

#define BAN_NOTE_MAX		200
#define BAN_FOR_MAX		(10LL * 365 * 86400)	/* ten years */
#define BAN_MIN_PREFIX4		8
#define BAN_MIN_PREFIX6		16

struct opts {
	const char	*conf;
	const char	*dir;
	const char	*note;
	int64_t		 for_s;		/* 0: permanent */
	bool		 all;
	bool		 json;
	char		 key[STORE_BAN_KEY_MAX + 1];
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: sipwall ban [-c FILE] [-D DIR] ACTION [ARGS]\n"
	    "\n"
	    "actions:\n"
	    "  list [--all] [--json]     bans in force (--all: expired too)\n"
	    "  add ADDR|PREFIX [--for DURATION] [--reason TEXT]\n"
	    "                            manual ban (reason code \"manual\");\n"
	    "                            permanent without --for\n"
	    "  remove ADDR|PREFIX        lift a ban (its strike history stays)\n"
	    "\n"
	    "ADDR is an IPv4 or IPv6 address, PREFIX like 192.0.2.0/24 or\n"
	    "2001:db8::/48 (no host bits; at least /%d or /%d).  DURATION is\n"
	    "a number with a unit s, m, h, d or w, or several (1h30m).\n"
	    "Options may appear anywhere after \"ban\".\n"
	    "\n"
	    "  -c, --config FILE   config file (default %s)\n"
	    "  -D, --dir DIR       state directory, overrides node.state_dir\n"
	    "                      (without a config: DIR/sipwall.db)\n"
	    "  --json              machine-readable output\n",
	    BAN_MIN_PREFIX4, BAN_MIN_PREFIX6, CLI_DEFAULT_CONFIG);
}

#define bad_usage(...)	cli_bad_usage("ban", usage, __VA_ARGS__)

/* "90s", "5m", "1h30m", "7d", "2w": a positive total up to BAN_FOR_MAX. */
static int
parse_duration(const char *s, int64_t *ret)
{
	int64_t total = 0;

	if (s == NULL || *s == '\0')
		return -EINVAL;
	while (*s != '\0') {
		int64_t v = 0, unit;

		if (*s < '0' || *s > '9')
			return -EINVAL;
		for (; *s >= '0' && *s <= '9'; s++) {
			v = v * 10 + (*s - '0');
			if (v > BAN_FOR_MAX)
				return -EINVAL;
		}
		switch (*s++) {
		case 's':	unit = 1;	break;
		case 'm':	unit = 60;	break;
		case 'h':	unit = 3600;	break;
		case 'd':	unit = 86400;	break;
		case 'w':	unit = 7 * 86400; break;
		default:	return -EINVAL;
		}
		if (v > (BAN_FOR_MAX - total) / unit)
			return -EINVAL;
		total += v * unit;
	}
	if (total == 0)
		return -EINVAL;
	*ret = total;
	return 0;
}

int
cli_parse_duration(const char *s, int64_t *ret)
{
	return parse_duration(s, ret);
}

static int
parse_key(struct opts *o, const char *arg, bool for_add)
{
	unsigned plen;
	int fam;

	if (store_ban_key_canon(arg, o->key, sizeof(o->key), &plen, &fam) < 0)
		return bad_usage("invalid address or prefix '%s' (like "
		    "192.0.2.1, 192.0.2.0/24 or 2001:db8::/48; no host bits)",
		    arg);
	if (for_add && ((fam == AF_INET && plen < BAN_MIN_PREFIX4) ||
	    (fam == AF_INET6 && plen < BAN_MIN_PREFIX6)))
		return bad_usage("refusing to ban '%s': prefixes shorter than "
		    "/%d (IPv4) or /%d (IPv6) are too broad", arg,
		    BAN_MIN_PREFIX4, BAN_MIN_PREFIX6);
	return 0;
}

/* --- actions ----------------------------------------------------------------- */

static const char *
until_str(const struct store_ban *b, char *buf, size_t cap)
{
	return b->until == 0 ? "permanent" : cli_time_str(b->until, buf, cap);
}

struct list_ctx {
	int64_t		 now;
	bool		 all;
	json_t		*arr;
};

static int
list_one(void *arg, const struct store_ban *b)
{
	struct list_ctx *lc = arg;
	bool active = b->until == 0 || b->until > lc->now;
	char since[32], until[32];

	if (!active && !lc->all)
		return 0;
	if (lc->arr != NULL) {
		json_t *ev = json_loads(b->evidence, 0, NULL);
		json_t *j = json_pack("{s:s, s:s, s:b, s:I, s:I, s:I, s:s}",
		    "key", b->key, "reason", b->reason, "active", active,
		    "since", (json_int_t)b->since, "until",
		    (json_int_t)b->until, "strikes", (json_int_t)b->strikes,
		    "origin", b->origin);

		if (j == NULL) {
			json_decref(ev);
			return -ENOMEM;
		}
		json_object_set_new(j, "evidence", ev != NULL ? ev :
		    json_object());
		json_array_append_new(lc->arr, j);
		return 0;
	}
	printf("%-43s %-14s %-8s %-20s %-20s %7u  %s\n", b->key, b->reason,
	    active ? "active" : "expired",
	    cli_time_str(b->since, since, sizeof(since)),
	    until_str(b, until, sizeof(until)), b->strikes,
	    b->origin[0] != '\0' ? b->origin : "-");
	return 0;
}

static int
act_list(struct opts *o)
{
	struct list_ctx lc = { .now = (int64_t)time(NULL), .all = o->all };
	struct cli_store cs;
	int r, rc;

	if ((rc = cli_store_open(o->conf, o->dir, false, &cs)) != 0)
		return rc;
	if (o->json)
		lc.arr = json_array();
	else
		printf("%-43s %-14s %-8s %-20s %-20s %7s  %s\n", "KEY",
		    "REASON", "STATE", "SINCE", "UNTIL", "STRIKES", "ORIGIN");
	r = store_ban_list(cs.st, list_one, &lc);
	cli_store_close(&cs);
	if (r < 0) {
		json_decref(lc.arr);
		fflush(stdout);
		fprintf(stderr, "sipwall: cannot list bans: %s\n",
		    store_strerror(r));
		return 1;
	}
	if (o->json)
		return cli_json_print(lc.arr);
	return fflush(stdout) != 0;
}

/* Who is doing this, for the evidence. */
static const char *
operator_name(char *buf, size_t cap)
{
	struct passwd *pw = getpwuid(getuid());

	if (pw != NULL && pw->pw_name != NULL)
		snprintf(buf, cap, "%s", pw->pw_name);
	else
		snprintf(buf, cap, "uid %u", (unsigned)getuid());
	return buf;
}

static int
act_add(struct opts *o)
{
	char who[64], until[32];
	struct store_ban b, old;
	struct cli_store cs;
	bool existed;
	json_t *ev;
	char *evs;
	int64_t now = (int64_t)time(NULL);
	int r, rc;

	memset(&b, 0, sizeof(b));
	ev = json_pack("{s:s}", "by", operator_name(who, sizeof(who)));
	if (ev == NULL)
		return 1;
	if (o->note != NULL)
		json_object_set_new(ev, "note", json_string(o->note));
	evs = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(ev);
	if (evs == NULL || strlen(evs) > STORE_EVIDENCE_MAX) {
		free(evs);
		fprintf(stderr, "sipwall: cannot encode the ban evidence\n");
		return 1;
	}
	snprintf(b.evidence, sizeof(b.evidence), "%s", evs);
	free(evs);
	snprintf(b.key, sizeof(b.key), "%s", o->key);
	snprintf(b.reason, sizeof(b.reason), "%s", STORE_BAN_REASON_MANUAL);
	b.since = now;
	b.until = o->for_s != 0 ? now + o->for_s : 0;
	b.strikes = 1;

	if ((rc = cli_store_open(o->conf, o->dir, true, &cs)) != 0)
		return rc;
	snprintf(b.origin, sizeof(b.origin), "%s", cs.node);
	r = store_ban_get(cs.st, o->key, &old);
	existed = r == 0;
	if (existed)
		b.strikes = old.strikes;	/* a manual ban is no new strike */
	if (r == 0 || r == -ENOENT)
		r = store_ban_put(cs.st, &b);
	cli_store_close(&cs);
	if (r < 0) {
		fprintf(stderr, "sipwall: cannot ban '%s': %s\n", o->key,
		    store_strerror(r));
		return 1;
	}
	printf("%s %s until %s (reason manual)\n", o->key,
	    existed ? "ban replaced: banned" : "banned",
	    until_str(&b, until, sizeof(until)));
	return fflush(stdout) != 0;
}

static int
act_remove(struct opts *o)
{
	struct cli_store cs;
	int r, rc;

	if ((rc = cli_store_open(o->conf, o->dir, false, &cs)) != 0)
		return rc;
	r = store_ban_delete(cs.st, o->key);
	cli_store_close(&cs);
	if (r == -ENOENT) {
		fprintf(stderr, "sipwall: no ban on '%s'\n", o->key);
		return 1;
	}
	if (r < 0) {
		fprintf(stderr, "sipwall: cannot remove the ban on '%s': %s\n",
		    o->key, store_strerror(r));
		return 1;
	}
	printf("ban on %s removed\n", o->key);
	return fflush(stdout) != 0;
}

enum {
	O_ALL		= 1u << 0,
	O_JSON		= 1u << 1,
	O_FOR		= 1u << 2,
	O_REASON	= 1u << 3,
};

struct action {
	const char	*name;
	int		(*fn)(struct opts *o);
	unsigned	 allowed;
	bool		 needs_key;
};

static const struct action actions[] = {
	{ "list", act_list, O_ALL | O_JSON, false },
	{ "add", act_add, O_FOR | O_REASON, true },
	{ "remove", act_remove, 0, true },
};

static bool
note_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > BAN_NOTE_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static int
parse_opts(int argc, char **argv, const struct action *a, struct opts *o)
{
	static const struct option longopts[] = {
		{ "config",	required_argument, NULL, 'c' },
		{ "dir",	required_argument, NULL, 'D' },
		{ "all",	no_argument,	   NULL, 'a' },
		{ "json",	no_argument,	   NULL, 'j' },
		{ "for",	required_argument, NULL, 'f' },
		{ "reason",	required_argument, NULL, 'r' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL,		0,		   NULL, 0 }
	};
	unsigned need;
	int ch;

	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, ":c:D:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':	o->conf = optarg;	continue;
		case 'D':	o->dir = optarg;	continue;
		case 'h':	usage(stdout);		return -1;
		case 'a':	need = O_ALL;		break;
		case 'j':	need = O_JSON;		break;
		case 'f':	need = O_FOR;		break;
		case 'r':	need = O_REASON;	break;
		case ':':
			return bad_usage("option '%s' needs a value",
			    argv[optind - 1]);
		default:
			return bad_usage("unknown option '%s'",
			    argv[optind - 1]);
		}
		if (!(a->allowed & need))
			return bad_usage("option '%s' does not apply to '%s'",
			    argv[optind - 1], a->name);
		switch (ch) {
		case 'a':
			o->all = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 'f':
			if (parse_duration(optarg, &o->for_s) < 0)
				return bad_usage("invalid --for '%s': a "
				    "duration like 30m, 12h, 7d or 1h30m (at "
				    "most ten years)", optarg);
			break;
		case 'r':
			if (!note_ok(optarg))
				return bad_usage("invalid --reason: 1 to %d "
				    "printable characters", BAN_NOTE_MAX);
			{
				json_t *t = json_string(optarg);

				if (t == NULL)
					return bad_usage("invalid --reason: "
					    "not valid UTF-8");
				json_decref(t);
			}
			o->note = optarg;
			break;
		}
	}
	if (a->needs_key) {
		if (argc - optind != 1)
			return bad_usage("'%s' takes one ADDR or PREFIX",
			    a->name);
		return parse_key(o, argv[optind], a->fn == act_add);
	}
	if (argc - optind != 0)
		return bad_usage("'%s' takes no arguments (got '%s')", a->name,
		    argv[optind]);
	return 0;
}

int
cmd_ban(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config",	required_argument, NULL, 'c' },
		{ "dir",	required_argument, NULL, 'D' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL,		0,		   NULL, 0 }
	};
	struct opts o;
	int ch, r;

	memset(&o, 0, sizeof(o));
	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "+:c:D:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o.conf = optarg;
			break;
		case 'D':
			o.dir = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			return bad_usage("option '%s' needs a value",
			    argv[optind - 1]);
		default:
			return bad_usage("unknown option '%s' (options of an "
			    "action go after it)", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return bad_usage("missing ACTION");
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		if (strcmp(argv[optind], actions[i].name) != 0)
			continue;
		r = parse_opts(argc - optind, argv + optind, &actions[i], &o);
		if (r != 0)
			return r < 0 ? 0 : r;
		return actions[i].fn(&o);
	}
	return bad_usage("unknown action '%s'", argv[optind]);
}
