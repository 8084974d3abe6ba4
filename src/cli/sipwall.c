/*
 * sipwall: the operator's command line.  Each subcommand lives in its
 * own cmd_*.c; this file only dispatches.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cmd_account.h"
#include "cli/cmd_admin.h"
#include "cli/cmd_ban.h"
#include "cli/cmd_calls.h"
#include "cli/cmd_check.h"
#include "cli/cmd_config.h"
#include "cli/cmd_ctl.h"
#include "cli/cmd_parse.h"

struct cmd {
	const char	*name;
	int		(*fn)(int, char **);
	const char	*help;
};

static const struct cmd cmds[] = {
	{ "check", cmd_check, "check [--print] FILE     validate a config file" },
	{ "parse", cmd_parse, "parse [--stream] FILE|-  parse a SIP message, print JSON" },
	{ "account", cmd_account, "account [-c FILE] [-D DIR] add|list|show|disable|enable|rotate|unlock|delete|audit ...\n"
	    "                           manage SIP accounts in the store" },
	{ "ban", cmd_ctl_ban, "ban [-c FILE] [-D DIR] list|add|remove ...\n"
	    "                           list, add and remove bans in the store" },
	/* OPS1: the running daemon, over its control socket (cmd_ctl.c) */
	{ "status", cmd_ctl, "status [--json]          the running daemon at a glance" },
	{ "reload", cmd_ctl, "reload                   reload the config (as SIGHUP)" },
	{ "lockdown", cmd_ctl, "lockdown [on|off]        contain: no new registrations from\n"
	    "                           untrusted sources, no international calls" },
	/* help only (never typed with its space): "ban" above sends an
	 * address to the daemon, list|add|remove to the store */
	{ "ban ADDR", cmd_ctl, "ban ADDR|PREFIX [--for D] [--reason T]\n"
	    "                           ban in the running daemon now" },
	{ "unban", cmd_ctl, "unban ADDR|PREFIX        lift a ban now" },
	{ "bans", cmd_ctl, "bans [--all] [--json]    bans in force" },
	{ "registrations", cmd_ctl, "registrations [USER]     current registrations" },
	{ "hangup", cmd_ctl, "hangup CALL-ID | --account USER\n"
	    "                           end calls with BYE on both legs" },
	{ "kick", cmd_ctl, "kick USER                remove USER's registrations" },
	{ "freeze", cmd_ctl, "freeze PREFIX            stop calls to an E.164 prefix now" },
	{ "unfreeze", cmd_ctl, "unfreeze PREFIX          release a frozen prefix" },
	{ "frozen", cmd_ctl, "frozen                   the frozen prefixes" },
	{ "events", cmd_ctl, "events --follow          print events as they are written" },
	/* help only: "calls" below, with --live */
	{ "calls --live", cmd_ctl, "calls --live [--account USER]\n"
	    "                           the calls up or ringing now: zones, SRTP, loss, jitter" },
	{ "top", cmd_ctl, "top [-n N] [--window D]  top offending sources and accounts, why" },
	{ "evidence", cmd_ctl, "evidence ADDR[:PORT]|CALL-ID [--call-id] [-n N] [--out FILE]\n"
	    "                           the events kept for a source or a call" },
	{ "recent", cmd_ctl, "recent [-n N] [--min-severity SEV]\n"
	    "                           the last events" },
	{ "alerts", cmd_ctl, "alerts [-n N]            the last alerts raised and cleared" },
	{ "rates", cmd_ctl, "rates                    key rates, baselines, the last windows" },
	{ "admin", cmd_admin, "admin token              a bearer token for the admin HTTP API\n"
	    "                           and the token_sha256 for the config" },
	{ "calls", cmd_ctl_calls, "calls [-c FILE] [-D DIR] [--all] [-n N] [--json] [--outcome X]\n"
	    "                           call records (CDRs) in the store, with media quality" },
	{ "config", cmd_config, "config history [-c FILE] [-D DIR] [-n N] [--diff] [--json]\n"
	    "                           config changes (reloads) recorded in the store" },
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: sipwall COMMAND [ARGS]\ncommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %s\n", cmds[i].help);
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "sipwall: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
