/*
 * `sipwall status|reload|lockdown|ban ADDR|unban|bans|registrations|
 * hangup|kick|freeze|unfreeze|frozen|events --follow|calls --live|top|
 * evidence|recent|alerts|rates` (OPS1): commands for the running daemon,
 * sent over its control socket (admin.socket under the state
 * directory; -c FILE and -D DIR find it as they find the store).
 *
 * Exit status: 0 done, 1 refused or failed (no daemon, an error from
 * the daemon), 2 bad arguments.
 */
#ifndef SW_CLI_CMD_CTL_H
#define SW_CLI_CMD_CTL_H

/* argv[0] is the command word. */
int	cmd_ctl(int argc, char **argv);

/*
 * `sipwall ban ...`: `ban list|add|remove` are the store commands
 * (cmd_ban.c); `ban ADDR|PREFIX [--for D] [--reason T]` asks the
 * running daemon.
 */
int	cmd_ctl_ban(int argc, char **argv);

/*
 * Remove the registrations of aor ("user@domain") from the running
 * daemon, if there is one (account disable and rotate).  Says what it
 * did on stderr; no daemon or no socket is not an error.  0, or 1 when
 * the daemon refused.
 */
int	cli_ctl_kick(const char *conf_path, const char *dir, const char *aor);

/*
 * Lift the brute-force lock of aor ("user@domain") in the running
 * daemon (account unlock) and say so on stdout; with no daemon, say
 * that its locks ended with it.  0, or 1 when the daemon refused.
 */
int	cli_ctl_unlock(const char *conf_path, const char *dir, const char *aor);

/*
 * `sipwall calls`: with --live the running daemon's calls (cmd_ctl),
 * without it the store's records (cmd_calls.c).
 */
int	cmd_ctl_calls(int argc, char **argv);

#endif
