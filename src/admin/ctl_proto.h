/*
 * The control protocol (OPS1) spoken on the daemon's UNIX socket, both
 * sides of it: one JSON object per line.
 *
 *   request   {"cmd":"status","args":{...}}\n      ("args" optional)
 *   answer    {"ok":true,"result":...}\n
 *             {"ok":false,"error":"what was wrong","code":N}\n
 *
 * A line is at most CTL_LINE_MAX bytes, newline included.  A command
 * name is 1..CTL_CMD_MAX of [a-z0-9_-]; a request with any other key
 * than "cmd" and "args", a duplicate key, "args" that is not an object,
 * or bytes that are not JSON is refused with code 400 and the
 * connection goes on.  Codes follow HTTP where one fits: 400 bad
 * request or argument, 403 denied, 404 unknown command or no such
 * thing, 409 conflict (allow-listed...), 413 line too long, 500
 * internal, 503 unavailable (busy, timed out).
 *
 * Owns: parsing and formatting.  Not here: sockets (ctl.c), commands.
 */
#ifndef SW_ADMIN_CTL_PROTO_H
#define SW_ADMIN_CTL_PROTO_H

#include <stddef.h>

#include <jansson.h>

#define CTL_LINE_MAX	(64 * 1024)	/* request line, '\n' included */
#define CTL_CMD_MAX	32
#define CTL_ERR_MAX	1024	/* an error message (a reload's names a file) */

enum ctl_code {
	CTL_E_BAD_REQUEST = 400,
	CTL_E_DENIED = 403,
	CTL_E_NOT_FOUND = 404,
	CTL_E_CONFLICT = 409,
	CTL_E_TOO_LONG = 413,
	CTL_E_INTERNAL = 500,
	CTL_E_UNAVAILABLE = 503,
};

struct ctl_req {
	char	 cmd[CTL_CMD_MAX + 1];
	json_t	*args;		/* owned; an object (empty when absent) */
};

/*
 * Parse one request line buf[0..len) (without its '\n'; a trailing
 * '\r' is ignored).  Returns 0 and fills *ret (release with
 * ctl_req_clear), or -CTL_E_BAD_REQUEST / -CTL_E_TOO_LONG with
 * *reterr_why naming the problem (a static string).
 */
int	ctl_req_parse(const char *buf, size_t len, struct ctl_req *ret,
	    const char **reterr_why);
void	ctl_req_clear(struct ctl_req *r);

/*
 * Lines to send, '\n' included, NUL-terminated, malloc'd (NULL: no
 * memory).  args and result are borrowed (NULL: {} and null).
 */
char	*ctl_req_format(const char *cmd, const json_t *args);
char	*ctl_resp_ok(const json_t *result);
char	*ctl_resp_err(int code, const char *msg);

/*
 * Parse an answer line buf[0..len).  Returns 0 with *ret_result (a new
 * reference; may be json null) on "ok":true; the code (> 0) with the
 * message in err[0..cap) on "ok":false; -1 when the line is not an
 * answer (message in err).
 */
int	ctl_resp_parse(const char *buf, size_t len, json_t **ret_result,
	    char *err, size_t cap);

/*
 * Argument helpers for command handlers.  A string argument k of
 * 1..max bytes without control characters: 0 and *ret (borrowed from
 * args), -ENOENT when absent, -EINVAL when of another type or length.
 * A boolean: 0/1, -ENOENT, -EINVAL.  A non-negative integer up to max:
 * 0 and *ret, -ENOENT, -EINVAL.
 */
int	ctl_arg_str(const json_t *args, const char *k, size_t max,
	    const char **ret);
int	ctl_arg_bool(const json_t *args, const char *k);
int	ctl_arg_uint(const json_t *args, const char *k, long long max,
	    long long *ret);

#endif
