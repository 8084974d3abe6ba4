/*
 * `sipwall ban [-c FILE] [-D DIR] ACTION ...`: list, add (manual) and
 * remove bans in the store (PROT3).
 */
#ifndef SW_CLI_CMD_BAN_H
#define SW_CLI_CMD_BAN_H

#include <stdint.h>

/*
 * argv[0] is "ban".  Exit status: 0 done, 1 refused or failed, 2 bad
 * arguments.
 */
int	cmd_ban(int argc, char **argv);

/* "90s", "5m", "1h30m", "7d", "2w" into seconds (positive, at most ten
 * years); 0 or -EINVAL.  Shared with the live `sipwall ban`. */
int	cli_parse_duration(const char *s, int64_t *ret);

#endif
