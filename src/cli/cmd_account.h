/*
 * `sipwall account [-c FILE] [-D DIR] ACTION ...`: add, list, show,
 * disable, enable, rotate, delete, audit, import, limits and unblock
 * SIP accounts in the store.
 */
#ifndef SW_CLI_CMD_ACCOUNT_H
#define SW_CLI_CMD_ACCOUNT_H

/*
 * argv[0] is "account".  Exit status: 0 done, 1 refused or failed (or
 * audit findings), 2 bad arguments.
 */
int	cmd_account(int argc, char **argv);

#endif
