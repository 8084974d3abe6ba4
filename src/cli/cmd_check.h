/*
 * `sipwall check [--print] FILE`: load a config, report every error as
 * "file:line:col: message" on stderr, or print the effective config.
 */
#ifndef SW_CLI_CMD_CHECK_H
#define SW_CLI_CMD_CHECK_H

/*
 * argv[0] is "check".  Exit status: 0 the config is valid, 1 it is
 * not (or cannot be read), 2 bad arguments.
 */
int	cmd_check(int argc, char **argv);

#endif
