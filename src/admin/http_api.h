/*
 * The admin HTTP API's rules (OPS2), apart from any socket so that they
 * can be tested alone: which URL is which route, which commands a GET
 * may run, how query arguments become the JSON arguments the commands
 * read, how a POST body does, and the answer.  admin/http.c serves them
 * with libmicrohttpd; the commands are the control socket's
 * (admin/ctl.h), run through ctl_run().
 *
 *   GET  /api/<cmd>?k=v&...   read-only commands only (else 405)
 *   POST /api/<cmd>           any command; body: a JSON object or empty
 *
 * The answer is the control protocol's answer object, and its "code"
 * is the HTTP status (200 with "ok":true).
 */
#ifndef SW_ADMIN_HTTP_API_H
#define SW_ADMIN_HTTP_API_H

#include <stddef.h>

#include <jansson.h>

#include "admin/ctl_proto.h"

#define HTTP_API_BODY_MAX	(64 * 1024)	/* a POST body, bytes */
#define HTTP_API_ARGS_MAX	16		/* query arguments */
#define HTTP_API_KEY_MAX	32		/* a query argument's name */
#define HTTP_API_VALUE_MAX	1024		/* and its value, bytes */

enum http_route {
	HTTP_R_NONE = 0,	/* nothing here: 404 */
	HTTP_R_METRICS,		/* /metrics */
	HTTP_R_PAGE,		/* / and /dashboard */
	HTTP_R_API,		/* /api/<cmd> */
	HTTP_R_MAX
};

/*
 * The route of a request path (without its query; NUL-terminated).
 * HTTP_R_API also copies the command name, 1..CTL_CMD_MAX of
 * [a-z0-9_-], into cmd; any other name under /api/ is HTTP_R_NONE.
 */
enum http_route	http_route_of(const char *path, char cmd[CTL_CMD_MAX + 1]);

/* May a GET run cmd?  Only for commands known to change nothing; any
 * other, and any command this table does not know, is POST only. */
int	http_api_get_ok(const char *cmd);

/*
 * Add one query argument key=value (value NULL: the key alone) to the
 * object args.  Values are strings, except for the names the commands
 * read as numbers ("n", "for_s", ...: digits become an integer) or as
 * booleans ("all", "on", ...: true/false/1/0/yes/no, the key alone is
 * true); "min_severity" is a number when it is digits, else a name.
 * Names are 1..HTTP_API_KEY_MAX of [a-z0-9_], values at most
 * HTTP_API_VALUE_MAX bytes of UTF-8 without control characters, at
 * most HTTP_API_ARGS_MAX arguments, each once.  0, or -EINVAL / -ENOMEM
 * with the reason in err[0..cap).
 */
int	http_api_query_arg(json_t *args, const char *key, const char *value,
	    char *err, size_t cap);

/*
 * A POST body buf[0..len) as arguments: *ret_args, a new object ({}
 * for an empty or all-blank body).  -EINVAL with the problem in
 * err[0..cap) ("body: line 1 column 9: ..." or "body: a JSON object is
 * expected") for anything else, -E2BIG over HTTP_API_BODY_MAX.
 */
int	http_api_body_args(const char *buf, size_t len, json_t **ret_args,
	    char *err, size_t cap);

/*
 * The answer to a command: r is 0 (result, may be NULL: null) or a
 * negative ctl code (err its message).  Returns the body (malloc'd,
 * '\n'-terminated; NULL: no memory) and the HTTP status in *ret_status.
 */
char	*http_api_answer(int r, const json_t *result, const char *err,
	    unsigned *ret_status);

#endif
