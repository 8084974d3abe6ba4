/*
 * The admin HTTP listener (OPS2, OBS2, OBS6), with libmicrohttpd:
 *
 *   GET  /metrics           Prometheus exposition (obs/metrics.h)
 *   GET  /api/<cmd>?k=v     a read-only control command
 *   POST /api/<cmd>         any control command but a stream; JSON body
 *   GET  / , /dashboard     the dashboard page (admin.dashboard)
 *
 * admin/http_api.h has the rules of /api; docs/admin-api.md the whole.
 * It listens on admin.http_address:http_port, one internal thread, few
 * connections, short timeouts, bodies of at most 64 KiB.  Every request
 * is checked in this order: the source against the http zone's ACL
 * (403), then -- except for the page, which holds no data -- the bearer
 * token ("Authorization: Bearer T", SHA-256 of T compared in constant
 * time with admin.token_sha256; 401), then the path (404) and the
 * method (405).  Each 401 and 403 is an admin.denied event.  Commands
 * run through ctl_run(), serialised with the control socket's, with the
 * actor "http:<source address>".
 */
#ifndef SW_ADMIN_HTTP_H
#define SW_ADMIN_HTTP_H

struct conf_admin;
struct acl;
struct ctl;
struct evlog;
struct admin_http;

/*
 * The http zone's ACL as it is now, asked for every request on the
 * server's thread: a reload may replace it.  What it returns must stay
 * valid for as long as one request is checked (the daemon frees a
 * replaced snapshot seconds later); NULL refuses everything.
 */
typedef const struct acl *admin_http_acl_fn(void *arg);

/*
 * Start serving when a->http_port is non-zero; *ret_h is NULL when it
 * is 0.  acl_fn(acl_arg) gives the http zone's ACL, ev receives the
 * refusals (may be NULL), ctl runs /api's commands (NULL: no control
 * socket, /api answers 503; borrowed: stop this server before
 * ctl_free()).  0, -EINVAL (no ACL function, bad token hash), -ENOMEM,
 * -EADDRINUSE or another bind error.
 */
int	admin_http_start(const struct conf_admin *a, admin_http_acl_fn *acl_fn,
	    void *acl_arg, struct evlog *ev, struct ctl *ctl,
	    struct admin_http **ret_h);
/* Stop the thread, close the socket, free; NULL ok. */
void	admin_http_stop(struct admin_http *h);

#endif
