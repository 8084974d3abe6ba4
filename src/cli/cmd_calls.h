/*
 * `sipwall calls [-c FILE] [-D DIR] [--all] [-n N] [--json]`: the call
 * records sipwalld keeps in the store, with the media quality of each
 * leg.
 */
#ifndef SW_CLI_CMD_CALLS_H
#define SW_CLI_CMD_CALLS_H

/*
 * argv[0] is "calls".  Exit status: 0 done, 1 failed (no store, store
 * error), 2 bad arguments.
 */
int	cmd_calls(int argc, char **argv);

#endif
