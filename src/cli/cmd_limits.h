/*
 * `sipwall account limits` and `sipwall account unblock` (FRAUD2): an
 * account's fraud limits next to what it used of them, and the
 * operator's reset.  Arguments are parsed by cmd_account.c; these take
 * the account already validated.
 */
#ifndef SW_CLI_CMD_LIMITS_H
#define SW_CLI_CMD_LIMITS_H

#include <stdbool.h>

/* The account an action works on, and where to find store and config. */
struct cli_acct {
	const char	*conf;		/* -c, or NULL */
	const char	*dir;		/* -D, or NULL */
	const char	*user;
	const char	*dom;		/* lowercase */
	const char	*aor;		/* "user@dom": the usage row's key */
	bool		 json;
};

/* Exit status: 0 done, 1 unknown account or failure. */
int	cli_account_limits(const struct cli_acct *a);
int	cli_account_unblock(const struct cli_acct *a);

#endif
