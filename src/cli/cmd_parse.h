#ifndef SW_CLI_CMD_PARSE_H
#define SW_CLI_CMD_PARSE_H

/* sipwall parse [--stream] FILE|- ; argv[0] is "parse". */
int	cmd_parse(int argc, char **argv);

#endif
