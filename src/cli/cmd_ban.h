/*
 * `sipwall ban [-c FILE] [-D DIR] ACTION ...`: list, add (manual) and
 * remove bans in the store (PROT3).
 */
#ifndef SW_CLI_CMD_BAN_H
#define SW_CLI_CMD_BAN_H

/*
 * argv[0] is "ban".  Exit status: 0 done, 1 refused or failed, 2 bad
 * arguments.
 */
int	cmd_ban(int argc, char **argv);

#endif
