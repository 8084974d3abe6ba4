/*
 * How the operator commands (account, ban) find and open the store,
 * and the few output helpers they share.
 *
 * The store file is state_dir/store.path from the config (store.path
 * may be absolute).  The config is -c FILE, else CLI_DEFAULT_CONFIG if
 * that file exists; -D DIR replaces state_dir.  Without either config,
 * -D DIR alone means DIR/sipwall.db (the defaults of an empty config).
 * With neither -c, -D nor the default config there is no store to
 * guess: that is an error, never a silent new database in the current
 * directory.
 */
#ifndef SW_CLI_STORE_OPEN_H
#define SW_CLI_STORE_OPEN_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "conf/conf.h"
#include "store/store.h"

#define CLI_DEFAULT_CONFIG	"/etc/sipwall/sipwall.yaml"

struct cli_store {
	struct store	*st;
	char		 path[PATH_MAX];
	char		 node[CONF_NODE_NAME_MAX + 1];	/* origin of manual bans */
};

/*
 * Resolve and open the store.  conf_path and dir may be NULL; with
 * create, a missing file is created (the directory must exist).
 * Errors are printed to stderr ("sipwall: ...").  Returns 0, or the
 * exit status to use (1).
 */
int	cli_store_open(const char *conf_path, const char *dir, bool create,
	    struct cli_store *ret);
void	cli_store_close(struct cli_store *cs);

/* "2026-11-26T17:25:33Z" (UTC) into buf (>= 21 bytes); returns buf. */
const char *cli_time_str(int64_t t, char *buf, size_t cap);

/* Print j indented with a final newline, then release it.  0 or 1. */
int	cli_json_print(json_t *j);
/*
 * Make jansson wipe every block it frees (it may hold a password that
 * is printed once).  Call before the first jansson call.
 */
void	cli_json_wipe_on_free(void);

#endif
