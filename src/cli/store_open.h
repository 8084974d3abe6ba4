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

/*
 * A command's usage error: "sipwall CMD: <message>" and its usage text
 * on stderr.  Returns 2, the exit status of a usage error.
 */
int	cli_bad_usage(const char *cmd, void (*usage)(FILE *),
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A count option: decimal 1..max, nothing else (no sign, no spaces).
 * 0 or -EINVAL. */
int	cli_parse_count(const char *s, size_t max, size_t *ret);

/*
 * The end of an offline listing: r is the store's answer (0 or a store
 * error, printed as "cannot list WHAT"), arr the rows as JSON (taken;
 * printed with json), n the rows printed as text ("no WHAT" when 0).
 * Returns the exit status.
 */
int	cli_list_done(int r, json_t *arr, size_t n, bool json,
	    const char *what);

#endif
