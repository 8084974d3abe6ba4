/*
 * `sipwall config history [-c FILE] [-D DIR] [-n N] [--json] [--diff]`:
 * the config changes (reloads, applied or refused) sipwalld recorded
 * in the store (OPS3).
 */
#ifndef SW_CLI_CMD_CONFIG_H
#define SW_CLI_CMD_CONFIG_H

/*
 * argv[0] is "config".  Exit status: 0 done, 1 failed (no store, store
 * error), 2 bad arguments.
 */
int	cmd_config(int argc, char **argv);

#endif
