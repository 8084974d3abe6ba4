/*
 * A minimal admin HTTP listener (libmicrohttpd) that serves GET /metrics
 * until the admin API (OPS2) takes it over.
 *
 * It listens on admin.http_address:http_port, one internal thread, few
 * connections, short timeouts.  Every request is checked in this order:
 * the source against the http zone's ACL (403), then the bearer token
 * ("Authorization: Bearer T", SHA-256 of T compared in constant time
 * with admin.token_sha256; 401), then the path (404) and the method
 * (405).  Each 401 and 403 is an admin.denied event.
 */
#ifndef SW_OBS_METRICS_HTTP_H
#define SW_OBS_METRICS_HTTP_H

struct conf_admin;
struct acl;
struct evlog;
struct metrics_http;

/*
 * Start serving when a->http_port is non-zero; *ret_h is NULL when it
 * is 0.  acl is the http zone's (borrowed, must outlive the server), ev
 * receives the refusals (may be NULL).  0, -EINVAL (no ACL, bad token
 * hash), -ENOMEM, -EADDRINUSE or another bind error.
 */
int	metrics_http_start(const struct conf_admin *a, const struct acl *acl,
	    struct evlog *ev, struct metrics_http **ret_h);
/* Stop the thread, close the socket, free; NULL ok. */
void	metrics_http_stop(struct metrics_http *h);

#endif
