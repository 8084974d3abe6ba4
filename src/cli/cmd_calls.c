/*
 * `sipwall calls`: list the call records (CDRs) of the store
 * (store_call.c), the active calls by default, newest first.  Read
 * only: the rows are written by sipwalld, which marks the ones a
 * previous process left active as lost when it starts; nothing here
 * judges or changes them.
 *
 * Text output is one line per call, one with its target and policy
 * verdicts, and one per leg (zone, encryption, media quality); --json
 * gives every field.  Times are shown in the local time zone,
 * durations run from the answer to the end (or to now while the call
 * is up).
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli/cmd_calls.h"
#include "cli/store_open.h"
#include "store/store.h"

#define CALLS_DEFAULT_LIMIT	50
#define CALLS_MAX_LIMIT		100000

struct opts {
	const char	*conf;
	const char	*dir;
	bool		 all;
	bool		 json;
	size_t		 limit;
	const char	*outcome;	/* --outcome, NULL: any */
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: sipwall calls [-c FILE] [-D DIR] [--all] [-n N] "
	    "[--outcome X] [--json]\n"
	    "\n"
	    "The calls sipwalld recorded in the store (CDRs), newest first,\n"
	    "with their outcome, target, policy verdicts and the zone,\n"
	    "encryption and media quality of each leg: the active ones, or\n"
	    "with --all also the ended ones (answered, refused, failed or\n"
	    "cancelled) and those lost to a daemon restart.\n"
	    "(sipwall calls --live: the running daemon's calls, now.)\n"
	    "\n"
	    "  -c, --config FILE   config file (default %s)\n"
	    "  -D, --dir DIR       state directory, overrides node.state_dir\n"
	    "                      (without a config: DIR/sipwall.db)\n"
	    "  -a, --all           ended and lost calls too\n"
	    "  -n, --limit N       at most N calls (1..%d, default %d)\n"
	    "  -o, --outcome X     only calls with outcome X: answered,\n"
	    "                      refused, failed or cancelled (implies --all)\n"
	    "  --json              machine-readable output\n",
	    CLI_DEFAULT_CONFIG, CALLS_MAX_LIMIT, CALLS_DEFAULT_LIMIT);
}

#define bad_usage(...)	cli_bad_usage("calls", usage, __VA_ARGS__)

/* --- text ---------------------------------------------------------------- */

/* "2026-01-15T14:03:22+01:00", local time; buf >= 32 bytes. */
static const char *
local_time_str(int64_t ms, char *buf, size_t cap)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	long off;
	size_t n;

	if (localtime_r(&t, &tm) == NULL ||
	    (n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm)) == 0) {
		snprintf(buf, cap, "%lld", (long long)ms);
		return buf;
	}
	off = tm.tm_gmtoff / 60;
	snprintf(buf + n, cap - n, "%c%02ld:%02ld", off < 0 ? '-' : '+',
	    labs(off) / 60, labs(off) % 60);
	return buf;
}

/*
 * Answered to ended, or to now while the call is up, as H:MM:SS; "-"
 * when it was never answered, "?" when it was lost without an end.
 */
static const char *
duration_str(const struct store_call *c, int64_t now_ms, char *buf,
    size_t cap)
{
	int64_t end = c->ended_ms, s;

	if (c->answered_ms == 0)
		return "-";
	if (end == 0 && strcmp(c->state, STORE_CALL_ACTIVE) == 0)
		end = now_ms;
	if (end == 0)
		return "?";
	s = end > c->answered_ms ? (end - c->answered_ms) / 1000 : 0;
	snprintf(buf, cap, "%lld:%02lld:%02lld", (long long)(s / 3600),
	    (long long)(s / 60 % 60), (long long)(s % 60));
	return buf;
}

/* "487/cancel", "200", "media_timeout", or "-" for neither. */
static const char *
status_str(const struct store_call *c, char *buf, size_t cap)
{
	if (c->status == 0)
		return c->reason[0] != '\0' ? c->reason : "-";
	snprintf(buf, cap, "%u%s%s", (unsigned)c->status,
	    c->reason[0] != '\0' ? "/" : "", c->reason);
	return buf;
}

static const char *
or_dash(const char *s)
{
	return s[0] != '\0' ? s : "-";
}

/* A leg: its zone, its encryption ("-": not anchored or no answer
 * settled it; rows older than schema 6 say "srtp" without a suite),
 * and what sipwall received from it. */
static void
print_leg(char name, const char *zone, const char *enc,
    const struct store_call_media *m)
{
	double expected = (double)m->packets + (double)m->lost;
	double pct = m->lost > 0 && expected > 0 ?
	    100.0 * (double)m->lost / expected : 0.0;

	printf("  %c: %s %s pkts %llu lost %lld (%.1f%%) jitter %.1fms "
	    "ooo %llu auth_fail %llu foreign %llu\n", name, or_dash(zone),
	    or_dash(enc),
	    (unsigned long long)m->packets, (long long)m->lost, pct,
	    m->jitter_us / 1000.0, (unsigned long long)m->ooo,
	    (unsigned long long)m->auth_failed,
	    (unsigned long long)m->foreign);
}

#define CALLS_LINE_FMT \
	"%-25s  %-6s  %-9s  %-9s  %-12s  %-31s  %8s  %s\n"

static void
print_call(const struct store_call *c, int64_t now_ms)
{
	char started[40], dur[32], status[80];
	char fromto[2 * STORE_CALL_USER_MAX + 8];

	snprintf(fromto, sizeof(fromto), "%s -> %s", or_dash(c->from_user),
	    or_dash(c->to_user));
	printf(CALLS_LINE_FMT,
	    local_time_str(c->started_ms, started, sizeof(started)),
	    c->state, or_dash(c->outcome), c->direction, or_dash(c->account),
	    fromto, duration_str(c, now_ms, dur, sizeof(dur)),
	    status_str(c, status, sizeof(status)));
	printf("  target %s verdicts %s\n", or_dash(c->target),
	    or_dash(c->verdicts));
	print_leg('A', c->zone_a, c->enc[0], &c->leg[0]);
	print_leg('B', c->zone_b, c->enc[1], &c->leg[1]);
}

/* --- JSON ---------------------------------------------------------------- */

static json_t *
leg_json(const struct store_call_media *m)
{
	/* The store keeps the unsigned counters <= INT64_MAX. */
	return json_pack("{s:b, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
	    "has_media", m->has_media != 0, "srtp", m->srtp != 0,
	    "packets", (json_int_t)m->packets, "bytes", (json_int_t)m->bytes,
	    "lost", (json_int_t)m->lost, "jitter_us", (json_int_t)m->jitter_us,
	    "ooo", (json_int_t)m->ooo,
	    "auth_failed", (json_int_t)m->auth_failed,
	    "foreign", (json_int_t)m->foreign);
}

/*
 * Every field; NULL when out of memory (the strings are valid UTF-8).
 * duration_ms as the table's virtual column: answered to ended, 0 for
 * a call never answered or not over.
 */
static json_t *
call_json(const struct store_call *c)
{
	int64_t dur = c->answered_ms > 0 && c->ended_ms >= c->answered_ms ?
	    c->ended_ms - c->answered_ms : 0;

	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, "
	    "s:I, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, "
	    "s:o, s:o}",
	    "call_id", c->call_id, "state", c->state,
	    "direction", c->direction, "account", c->account,
	    "from_user", c->from_user, "to_user", c->to_user,
	    "started_ms", (json_int_t)c->started_ms,
	    "answered_ms", (json_int_t)c->answered_ms,
	    "ended_ms", (json_int_t)c->ended_ms,
	    "duration_ms", (json_int_t)dur,
	    "status", (int)c->status, "reason", c->reason, "src", c->src,
	    "outcome", c->outcome, "zone_a", c->zone_a, "zone_b", c->zone_b,
	    "target", c->target, "verdicts", c->verdicts,
	    "enc_a", c->enc[0], "enc_b", c->enc[1],
	    "anchored", c->anchored != 0,
	    "a", leg_json(&c->leg[0]), "b", leg_json(&c->leg[1]));
}

/* --- listing ------------------------------------------------------------- */

struct list_ctx {
	int64_t		 now_ms;
	size_t		 n;
	json_t		*arr;		/* --json, else NULL */
};

static int
list_one(const struct store_call *c, void *arg)
{
	struct list_ctx *lc = arg;
	json_t *j;

	if (lc->arr != NULL) {
		if ((j = call_json(c)) == NULL ||
		    json_array_append_new(lc->arr, j) < 0)
			return -ENOMEM;
		lc->n++;
		return 0;
	}
	if (lc->n++ == 0)
		printf(CALLS_LINE_FMT, "STARTED", "STATE", "OUTCOME",
		    "DIRECTION", "ACCOUNT", "FROM -> TO", "DURATION", "STATUS");
	print_call(c, lc->now_ms);
	return 0;
}

static int
list_calls(const struct opts *o)
{
	struct list_ctx lc = { 0 };
	struct cli_store cs;
	struct timespec ts;
	int r, rc;

	tzset();	/* localtime_r() need not read TZ itself */
	clock_gettime(CLOCK_REALTIME, &ts);
	lc.now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if ((rc = cli_store_open(o->conf, o->dir, false, &cs)) != 0)
		return rc;
	if (o->json && (lc.arr = json_array()) == NULL) {
		cli_store_close(&cs);
		fprintf(stderr, "sipwall: out of memory\n");
		return 1;
	}
	r = store_call_list_outcome(cs.st, !o->all, o->outcome, o->limit,
	    list_one, &lc);
	cli_store_close(&cs);
	return cli_list_done(r, lc.arr, lc.n, o->json, "calls");
}

int
cmd_calls(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config",	required_argument, NULL, 'c' },
		{ "dir",	required_argument, NULL, 'D' },
		{ "all",	no_argument,	   NULL, 'a' },
		{ "limit",	required_argument, NULL, 'n' },
		{ "outcome",	required_argument, NULL, 'o' },
		{ "json",	no_argument,	   NULL, 'j' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL,		0,		   NULL, 0 }
	};
	struct opts o = { .limit = CALLS_DEFAULT_LIMIT };
	int ch;

	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, ":c:D:an:o:h", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			o.conf = optarg;
			break;
		case 'D':
			o.dir = optarg;
			break;
		case 'a':
			o.all = true;
			break;
		case 'n':
			if (cli_parse_count(optarg, CALLS_MAX_LIMIT, &o.limit) < 0)
				return bad_usage("invalid -n '%s': a number of "
				    "calls from 1 to %d", optarg,
				    CALLS_MAX_LIMIT);
			break;
		case 'o':
			if (optarg[0] == '\0' ||
			    !store_call_outcome_valid(optarg))
				return bad_usage("invalid --outcome '%s': "
				    "answered, refused, failed or cancelled",
				    optarg);
			o.outcome = optarg;
			o.all = true;
			break;
		case 'j':
			o.json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			return bad_usage("option '%s' needs a value",
			    argv[optind - 1]);
		default:
			return bad_usage("unknown option '%s'",
			    argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bad_usage("no arguments expected (got '%s')",
		    argv[optind]);
	return list_calls(&o);
}
