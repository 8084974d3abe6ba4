/*
 * The admin HTTP listener (see http.h): /metrics, /api/<cmd> and the
 * dashboard page.
 *
 * Owns: the listening socket (made here, so bind errors come back as
 * errno values; the daemon owns it once started), the libmicrohttpd
 * daemon and its thread, the access checks, request bodies.  Does not
 * own: the ACL (asked for per request: a reload replaces it), the
 * event log, the registry, the commands (admin/ctl.c runs them), the
 * rules of /api (admin/http_api.c), the page (built in from
 * src/admin/dashboard.html by scripts/embed_page.py, which also
 * computes its Content-Security-Policy).
 *
 * The token hash is decoded once at start; a request's token is hashed
 * with SHA-256 and compared with CRYPTO_memcmp, so the comparison takes
 * the same time wherever the first difference is.  Refusals say nothing
 * about what exists: the token is checked before the path.
 *
 * A command runs on this server's one thread and holds it (and the
 * control socket) while it runs: a store sync, at most the workers'
 * reply time for a hang-up.  Requests wait, bounded by the connection
 * limit and timeout; nothing here ever waits on the packet path.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "admin/ctl.h"
#include "admin/http.h"
#include "admin/http_api.h"
#include "conf/conf.h"
#include "core/addr.h"
#include "core/ctype.h"
#include "core/err.h"
#include "core/log.h"
#include "core/num.h"
#include "core/slice.h"
#include "obs/evlog.h"
#include "obs/metrics.h"
#include "policy/acl.h"

#define AH_MAX_CONNS	32
#define AH_PER_IP	16	/* a closed one counts until reaped */
#define AH_TIMEOUT_S	10
#define AH_MEM		(32 * 1024)	/* per connection: headers, buffers */
#define AH_TOKEN_MAX	512
#define AH_ACTOR_MAX	(5 + INET6_ADDRSTRLEN)	/* "http:" address */

/* generated from dashboard.html (scripts/embed_page.py) */
extern const uint8_t dashboard_html[];
extern const size_t dashboard_html_len;
extern const char dashboard_html_csp[];

struct admin_http {
	struct MHD_Daemon	*d;
	int			 fd;
	admin_http_acl_fn	*acl_fn;
	void			*acl_arg;
	struct evlog		*ev;
	struct ctl		*ctl;
	int			 dashboard;
	uint8_t			 token[32];	/* SHA-256 of the token */
	char			 lsn[SW_ADDR_STRLEN + 8];
};

/* A POST to /api whose body is being read. */
struct ah_post {
	char	 cmd[CTL_CMD_MAX + 1];
	char	 actor[AH_ACTOR_MAX];
	char	*body;
	size_t	 len, cap;
	int	 too_big;
	int	 oom;
};

/* *con_cls of a request already answered: what else it sends is dropped */
static int answered_mark;

static int
unhex32(const char *s, uint8_t out[32])
{
	if (strlen(s) != 64)
		return -EINVAL;
	for (size_t i = 0; i < 32; i++) {
		int hi = ctype_hexval((uint8_t)s[2 * i]);
		int lo = ctype_hexval((uint8_t)s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* Does the Authorization header carry our bearer token? */
static int
token_ok(const struct admin_http *h, const char *auth)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	size_t n;

	if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0)
		return 0;
	auth += 7;
	while (*auth == ' ')
		auth++;
	n = strnlen(auth, AH_TOKEN_MAX + 1);
	if (n == 0 || n > AH_TOKEN_MAX)
		return 0;
	if (EVP_Digest(auth, n, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != sizeof(h->token))
		return 0;	/* fail closed */
	return CRYPTO_memcmp(md, h->token, sizeof(h->token)) == 0;
}

static void
denied(const struct admin_http *h, const union sw_addr *src,
    const char *reason, unsigned status)
{
	struct secevent ev;

	secevent_init(&ev, SECEV_ADMIN_DENIED);
	ev.src = src;
	ev.transport = "http";
	ev.listener = h->lsn;
	ev.reason = reason;
	ev.status = (int)status;
	evlog_emit(h->ev, &ev);
}

/* Headers every answer carries: nothing is cached, sniffed or framed. */
static void
add_common(struct MHD_Response *r)
{
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
}

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned status, const char *text,
    const char *extra_name, const char *extra_value)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(text), (void *)text,
	    MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain; charset=utf-8");
	add_common(r);
	if (extra_name != NULL)
		MHD_add_response_header(r, extra_name, extra_value);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* A protocol answer (body malloc'd, taken; NULL: out of memory). */
static enum MHD_Result
reply_json(struct MHD_Connection *c, unsigned status, char *body,
    const char *extra_name, const char *extra_value)
{
	static const char oom[] =
	    "{\"ok\":false,\"error\":\"out of memory\",\"code\":500}\n";
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (body == NULL) {
		status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		r = MHD_create_response_from_buffer(sizeof(oom) - 1,
		    (void *)oom, MHD_RESPMEM_PERSISTENT);
	} else if ((r = MHD_create_response_from_buffer(strlen(body), body,
	    MHD_RESPMEM_MUST_FREE)) == NULL)
		free(body);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "application/json");
	add_common(r);
	if (extra_name != NULL)
		MHD_add_response_header(r, extra_name, extra_value);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
api_error(struct MHD_Connection *c, int code, const char *msg,
    const char *extra_name, const char *extra_value)
{
	return reply_json(c, (unsigned)code, ctl_resp_err(code, msg),
	    extra_name, extra_value);
}

static enum MHD_Result
serve_metrics(struct MHD_Connection *c)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	char *buf;
	size_t len;

	if (metrics_render(&buf, &len) < 0)
		return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable\n",
		    NULL, NULL);
	r = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(buf);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain; version=0.0.4; charset=utf-8");
	add_common(r);
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* The page: static, no data in it, so no token; a strict CSP. */
static enum MHD_Result
serve_page(struct MHD_Connection *c)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(dashboard_html_len,
	    (void *)dashboard_html, MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/html; charset=utf-8");
	MHD_add_response_header(r, "Content-Security-Policy",
	    dashboard_html_csp);
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Cross-Origin-Opener-Policy",
	    "same-origin");
	MHD_add_response_header(r, "Cross-Origin-Resource-Policy",
	    "same-origin");
	add_common(r);
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* Run cmd for the peer named actor and answer with what it said. */
static enum MHD_Result
api_run(struct admin_http *h, struct MHD_Connection *c, const char *cmd,
    const char *actor, const json_t *args)
{
	struct ctl_peer peer = { .uid = (uid_t)-1, .gid = (gid_t)-1,
	    .name = actor };
	json_t *res = NULL;
	char err[CTL_ERR_MAX] = "";
	unsigned status;
	char *body;
	int r;

	r = ctl_run(h->ctl, cmd, args, &peer, &res, err, sizeof(err));
	body = http_api_answer(r, res, err, &status);
	json_decref(res);
	return reply_json(c, status, body, NULL, NULL);
}

struct qctx {
	json_t	*args;
	int	 r;
	char	 err[200];
};

static enum MHD_Result
query_one(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct qctx *q = cls;

	(void)kind;
	if (key == NULL)
		return MHD_YES;
	q->r = http_api_query_arg(q->args, key, value, q->err,
	    sizeof(q->err));
	return q->r < 0 ? MHD_NO : MHD_YES;
}

static enum MHD_Result
api_get(struct admin_http *h, struct MHD_Connection *c, const char *cmd,
    const char *actor)
{
	struct qctx q = { .args = json_object() };
	enum MHD_Result ret;

	if (q.args == NULL)
		return api_error(c, CTL_E_INTERNAL, "out of memory", NULL,
		    NULL);
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, query_one, &q);
	if (q.r < 0)
		ret = api_error(c, q.r == -ENOMEM ? CTL_E_INTERNAL :
		    CTL_E_BAD_REQUEST, q.err, NULL, NULL);
	else
		ret = api_run(h, c, cmd, actor, q.args);
	json_decref(q.args);
	return ret;
}

/* The body has arrived: its arguments, then the command. */
static enum MHD_Result
api_post_done(struct admin_http *h, struct MHD_Connection *c,
    struct ah_post *p)
{
	json_t *args = NULL;
	enum MHD_Result ret;
	char err[CTL_ERR_MAX];
	int r;

	if (p->oom)
		return api_error(c, CTL_E_INTERNAL, "out of memory", NULL,
		    NULL);
	if (p->too_big)
		return api_error(c, CTL_E_TOO_LONG, "body too large (at most "
		    "65536 bytes)", NULL, NULL);
	if ((r = http_api_body_args(p->body, p->len, &args, err,
	    sizeof(err))) < 0)
		return api_error(c, r == -ENOMEM ? CTL_E_INTERNAL :
		    r == -E2BIG ? CTL_E_TOO_LONG : CTL_E_BAD_REQUEST, err,
		    NULL, NULL);
	ret = api_run(h, c, p->cmd, p->actor, args);
	json_decref(args);
	return ret;
}

/* More of a body: kept up to HTTP_API_BODY_MAX, the rest only counted. */
static void
api_post_data(struct ah_post *p, const char *data, size_t n)
{
	if (p->too_big || p->oom || n > HTTP_API_BODY_MAX - p->len) {
		p->too_big = 1;
		return;
	}
	if (p->len + n > p->cap) {
		size_t ncap = p->cap ? p->cap : 1024;
		char *b;

		while (ncap < p->len + n)
			ncap *= 2;
		if (ncap > HTTP_API_BODY_MAX)
			ncap = HTTP_API_BODY_MAX;
		if ((b = realloc(p->body, ncap)) == NULL) {
			p->oom = 1;	/* the rest is dropped, then a 500 */
			return;
		}
		p->body = b;
		p->cap = ncap;
	}
	memcpy(p->body + p->len, data, n);
	p->len += n;
}

/* The first call for a POST /api/<cmd> that may run: start a body. */
static enum MHD_Result
api_post_start(struct MHD_Connection *c, const char *cmd, const char *actor,
    void **con_cls)
{
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	struct ah_post *p;
	uint32_t n;

	/* a declared length over the bound: refuse before reading it */
	if (cl != NULL && parse_u32(slice_cstr(cl), HTTP_API_BODY_MAX,
	    &n) == -SBC_ELIMIT) {
		*con_cls = &answered_mark;
		return api_error(c, CTL_E_TOO_LONG, "body too large (at most "
		    "65536 bytes)", NULL, NULL);
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		*con_cls = &answered_mark;
		return api_error(c, CTL_E_INTERNAL, "out of memory", NULL,
		    NULL);
	}
	snprintf(p->cmd, sizeof(p->cmd), "%s", cmd);
	snprintf(p->actor, sizeof(p->actor), "%s", actor);
	*con_cls = p;
	return MHD_YES;
}

static enum MHD_Result
api_first(struct admin_http *h, struct MHD_Connection *c, const char *cmd,
    const char *method, const char *actor, void **con_cls)
{
	int flags, get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;

	*con_cls = &answered_mark;
	if (h->ctl == NULL)
		return api_error(c, CTL_E_UNAVAILABLE, "control disabled",
		    NULL, NULL);
	if ((flags = ctl_cmd_flags(h->ctl, cmd)) < 0) {
		char err[64];

		snprintf(err, sizeof(err), "unknown command '%s'", cmd);
		return api_error(c, CTL_E_NOT_FOUND, err, NULL, NULL);
	}
	if (flags & CTL_F_FOLLOW)
		return api_error(c, CTL_E_BAD_REQUEST, "a stream: only on the "
		    "control socket (sipwall events --follow)", NULL, NULL);
	if (get && http_api_get_ok(cmd))
		return api_get(h, c, cmd, actor);
	if (strcmp(method, MHD_HTTP_METHOD_POST) == 0)
		return api_post_start(c, cmd, actor, con_cls);
	return api_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, get ? "this command "
	    "changes state: POST it" : "method not allowed",
	    MHD_HTTP_HEADER_ALLOW, http_api_get_ok(cmd) ? "GET, POST" :
	    "POST");
}

static void
client_addr(struct MHD_Connection *c, union sw_addr *src)
{
	const union MHD_ConnectionInfo *ci;

	memset(src, 0, sizeof(*src));
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci != NULL && ci->client_addr != NULL) {
		int af = ci->client_addr->sa_family;

		if (af == AF_INET)
			memcpy(&src->sin, ci->client_addr, sizeof(src->sin));
		else if (af == AF_INET6)
			memcpy(&src->sin6, ci->client_addr, sizeof(src->sin6));
	}
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct admin_http *h = cls;
	union sw_addr src;
	struct acl_match am;
	const struct acl *acl;
	enum http_route route;
	char cmd[CTL_CMD_MAX + 1], ip[INET6_ADDRSTRLEN], actor[AH_ACTOR_MAX];
	int api = strncmp(url, "/api/", 5) == 0 || strcmp(url, "/api") == 0;

	(void)version;
	if (*con_cls == &answered_mark) {
		/* a body we did not ask for: already answered, ignore it */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*con_cls != NULL) {		/* a POST body, or its end */
		struct ah_post *p = *con_cls;

		if (*upload_data_size > 0) {
			api_post_data(p, upload_data, *upload_data_size);
			*upload_data_size = 0;
			return MHD_YES;
		}
		return api_post_done(h, c, p);
	}
	*con_cls = &answered_mark;
	client_addr(c, &src);
	acl = h->acl_fn(h->acl_arg);
	if (acl == NULL || acl_check(acl, &src, &am) != ACL_ALLOW) {
		denied(h, &src, "acl", MHD_HTTP_FORBIDDEN);
		return api ? api_error(c, MHD_HTTP_FORBIDDEN, "forbidden", NULL,
		    NULL) : reply(c, MHD_HTTP_FORBIDDEN, "forbidden\n", NULL,
		    NULL);
	}
	route = http_route_of(url, cmd);
	if (route == HTTP_R_PAGE && h->dashboard) {
		if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
		    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
			return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED,
			    "method not allowed\n", MHD_HTTP_HEADER_ALLOW,
			    "GET, HEAD");
		return serve_page(c);
	}
	if (!token_ok(h, MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION))) {
		denied(h, &src, "token", MHD_HTTP_UNAUTHORIZED);
		return api ? api_error(c, MHD_HTTP_UNAUTHORIZED, "unauthorized",
		    MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer") :
		    reply(c, MHD_HTTP_UNAUTHORIZED, "unauthorized\n",
		    MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
	}
	switch (route) {
	case HTTP_R_METRICS:
		if (strcmp(method, MHD_HTTP_METHOD_GET) != 0)
			return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED,
			    "method not allowed\n", MHD_HTTP_HEADER_ALLOW,
			    "GET");
		return serve_metrics(c);
	case HTTP_R_API:
		snprintf(actor, sizeof(actor), "http:%s",
		    sw_addr_ip_str(&src, ip, sizeof(ip)));
		return api_first(h, c, cmd, method, actor, con_cls);
	default:
		return api ? api_error(c, CTL_E_NOT_FOUND, "not found", NULL,
		    NULL) : reply(c, MHD_HTTP_NOT_FOUND, "not found\n", NULL,
		    NULL);
	}
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode why)
{
	struct ah_post *p = *con_cls;

	(void)cls;
	(void)c;
	(void)why;
	if (p != NULL && *con_cls != (void *)&answered_mark) {
		free(p->body);
		free(p);
	}
	*con_cls = NULL;
}

/* libmicrohttpd's own complaints (a refused connection, a bad request
 * line): about peers, so only for debugging */
__attribute__((format(printf, 2, 0))) static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];
	size_t n;

	(void)cls;
	if (!log_enabled(LOG_INFO))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_info("admin http: %s", msg);
}

static int
listen_on(const union sw_addr *a, int *ret_fd)
{
	int fd, one = 1;

	fd = socket(a->sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0);
	if (fd < 0)
		return -errno;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (a->sa.sa_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof(one));
	if (bind(fd, &a->sa, sw_addr_len(a)) < 0 || listen(fd, 16) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	*ret_fd = fd;
	return 0;
}

int
admin_http_start(const struct conf_admin *a, admin_http_acl_fn *acl_fn,
    void *acl_arg, struct evlog *ev, struct ctl *ctl,
    struct admin_http **ret_h)
{
	struct admin_http *h;
	union sw_addr addr;
	int r;

	*ret_h = NULL;
	if (a->http_port == 0)
		return 0;
	if (acl_fn == NULL || acl_fn(acl_arg) == NULL || a->http_port > 65535)
		return -EINVAL;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return -ENOMEM;
	h->fd = -1;
	h->acl_fn = acl_fn;
	h->acl_arg = acl_arg;
	h->ev = ev;
	h->ctl = ctl;
	h->dashboard = a->dashboard;
	if ((r = unhex32(a->token_sha256, h->token)) < 0)
		goto fail;
	addr = a->http_address;
	sw_addr_set_port(&addr, (uint16_t)a->http_port);
	sw_addr_str(&addr, h->lsn + 5, sizeof(h->lsn) - 5);
	memcpy(h->lsn, "http:", 5);
	if ((r = listen_on(&addr, &h->fd)) < 0)
		goto fail;
	/* epoll (MHD_USE_AUTO): the daemon's descriptors go past select's
	 * FD_SETSIZE once media ports are open */
	h->d = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD |
	    MHD_USE_ERROR_LOG | (addr.sa.sa_family == AF_INET6 ?
	    MHD_USE_IPv6 : 0), 0, NULL, NULL,
	    on_request, h,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_LISTEN_SOCKET, h->fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)AH_MAX_CONNS,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)AH_PER_IP,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)AH_TIMEOUT_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)AH_MEM,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	    MHD_OPTION_END);
	if (h->d == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	h->fd = -1;	/* the daemon closes it when stopped */
	log_info("admin http on %s: /metrics%s%s", h->lsn,
	    ctl != NULL ? ", /api" : "", h->dashboard ? ", dashboard /" : "");
	*ret_h = h;
	return 0;
fail:
	admin_http_stop(h);
	return r;
}

void
admin_http_stop(struct admin_http *h)
{
	if (h == NULL)
		return;
	if (h->d != NULL)
		MHD_stop_daemon(h->d);
	if (h->fd >= 0)
		close(h->fd);
	explicit_bzero(h->token, sizeof(h->token));
	free(h);
}
