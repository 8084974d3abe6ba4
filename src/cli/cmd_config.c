/*
 * `sipwall config history`: the history of config changes the daemon
 * recorded in the store (store_config.c), newest first: when, who asked
 * (actor), whether the change was applied or refused, a summary, and
 * with --diff the diff of the config text.  Read only, offline: it
 * opens the store file as `sipwall calls` does and needs no running
 * daemon.
 *
 * Not here: reloading (`sipwall reload`, cmd_ctl.c) or computing a
 * diff; the store validated every row read (printable text, the diff's
 * newlines and tabs only), so printing it cannot send control
 * sequences to the terminal.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli/cmd_config.h"
#include "cli/store_open.h"
#include "store/store.h"

#define HISTORY_DEFAULT_LIMIT	20
#define HISTORY_MAX_LIMIT	STORE_CONFIG_KEEP

struct opts {
	const char	*conf;
	const char	*dir;
	bool		 json;
	bool		 diff;
	size_t		 limit;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: sipwall config history [-c FILE] [-D DIR] [-n N] [--diff] "
	    "[--json]\n"
	    "\n"
	    "The config changes sipwalld recorded in the store, newest first:\n"
	    "every reload, applied or refused, with who asked for it and a\n"
	    "summary (the store keeps the last %d).\n"
	    "\n"
	    "  -c, --config FILE   config file (default %s)\n"
	    "  -D, --dir DIR       state directory, overrides node.state_dir\n"
	    "                      (without a config: DIR/sipwall.db)\n"
	    "  -n, --limit N       at most N changes (1..%d, default %d)\n"
	    "  --diff              the diff of each change too\n"
	    "  --json              machine-readable output\n",
	    STORE_CONFIG_KEEP, CLI_DEFAULT_CONFIG, HISTORY_MAX_LIMIT,
	    HISTORY_DEFAULT_LIMIT);
}

#define bad_usage(...)	cli_bad_usage("config", usage, __VA_ARGS__)

struct list_ctx {
	const struct opts *o;
	size_t		 n;
	json_t		*arr;		/* --json, else NULL */
};

/* The diff, each line indented, so that entries stay apart. */
static void
print_diff(const char *d)
{
	while (*d != '\0') {
		const char *nl = strchr(d, '\n');
		size_t n = nl != NULL ? (size_t)(nl - d) : strlen(d);

		printf("    %.*s\n", (int)n, d);
		d += n + (nl != NULL);
	}
}

static int
list_one(const struct store_config_change *c, void *arg)
{
	struct list_ctx *lc = arg;
	char at[32];
	json_t *j;

	if (lc->arr != NULL) {
		j = json_pack("{s:I, s:I, s:s, s:s, s:s, s:I}",
		    "id", (json_int_t)c->id, "at_ms", (json_int_t)c->at_ms,
		    "actor", c->actor, "result", c->result,
		    "summary", c->summary,
		    "diff_bytes", (json_int_t)c->diff_len);
		if (j == NULL || (lc->o->diff && json_object_set_new(j, "diff",
		    json_stringn(c->diff, c->diff_len)) < 0)) {
			json_decref(j);
			return -ENOMEM;
		}
		/* _new steals j, on failure too */
		if (json_array_append_new(lc->arr, j) < 0)
			return -ENOMEM;
		lc->n++;
		return 0;
	}
	if (lc->n++ == 0)
		printf("%-6s  %-20s  %-7s  %-16s  %s\n", "ID", "TIME", "RESULT",
		    "ACTOR", "SUMMARY");
	printf("%-6lld  %-20s  %-7s  %-16s  %s\n", (long long)c->id,
	    cli_time_str(c->at_ms / 1000, at, sizeof(at)), c->result,
	    c->actor, c->summary[0] != '\0' ? c->summary : "-");
	if (lc->o->diff && c->diff_len > 0)
		print_diff(c->diff);
	return 0;
}

static int
history(const struct opts *o)
{
	struct list_ctx lc = { .o = o };
	struct cli_store cs;
	int r, rc;

	if ((rc = cli_store_open(o->conf, o->dir, false, &cs)) != 0)
		return rc;
	if (o->json && (lc.arr = json_array()) == NULL) {
		cli_store_close(&cs);
		fprintf(stderr, "sipwall: out of memory\n");
		return 1;
	}
	r = store_config_changes_list(cs.st, o->limit, list_one, &lc);
	cli_store_close(&cs);
	return cli_list_done(r, lc.arr, lc.n, o->json, "config changes");
}

int
cmd_config(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config",	required_argument, NULL, 'c' },
		{ "dir",	required_argument, NULL, 'D' },
		{ "limit",	required_argument, NULL, 'n' },
		{ "diff",	no_argument,	   NULL, 'd' },
		{ "json",	no_argument,	   NULL, 'j' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL,		0,		   NULL, 0 }
	};
	struct opts o = { .limit = HISTORY_DEFAULT_LIMIT };
	int ch;

	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, ":c:D:n:h", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			o.conf = optarg;
			break;
		case 'D':
			o.dir = optarg;
			break;
		case 'n':
			if (cli_parse_count(optarg, HISTORY_MAX_LIMIT, &o.limit) < 0)
				return bad_usage("invalid -n '%s': a number of "
				    "changes from 1 to %d", optarg,
				    HISTORY_MAX_LIMIT);
			break;
		case 'd':
			o.diff = true;
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
	if (optind >= argc)
		return bad_usage("an action is needed (history)");
	if (strcmp(argv[optind], "history") != 0)
		return bad_usage("unknown action '%s'", argv[optind]);
	if (optind + 1 < argc)
		return bad_usage("no more arguments expected (got '%s')",
		    argv[optind + 1]);
	return history(&o);
}
