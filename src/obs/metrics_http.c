/*
 * GET /metrics over HTTP (see metrics_http.h).
 *
 * Owns: the listening socket (made here, so bind errors come back as
 * errno values; the daemon owns it once started), the libmicrohttpd
 * daemon and its thread, the access checks.  Does not own: the ACL, the event log, the registry.
 *
 * The token hash is decoded once at start; a request's token is hashed
 * with SHA-256 and compared with CRYPTO_memcmp, so the comparison takes
 * the same time wherever the first difference is.  Refusals carry no
 * body worth reading and say nothing about what exists.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "conf/conf.h"
#include "core/addr.h"
#include "core/ctype.h"
#include "core/log.h"
#include "obs/evlog.h"
#include "obs/metrics.h"
#include "obs/metrics_http.h"
#include "policy/acl.h"

#define MH_MAX_CONNS	16
#define MH_PER_IP	4
#define MH_TIMEOUT_S	10
#define MH_MEM		(32 * 1024)
#define MH_TOKEN_MAX	512

struct metrics_http {
	struct MHD_Daemon	*d;
	int			 fd;
	const struct acl	*acl;
	struct evlog		*ev;
	uint8_t			 token[32];	/* SHA-256 of the token */
	char			 lsn[SW_ADDR_STRLEN + 8];
};

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
token_ok(const struct metrics_http *h, const char *auth)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	size_t n;

	if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0)
		return 0;
	auth += 7;
	while (*auth == ' ')
		auth++;
	n = strnlen(auth, MH_TOKEN_MAX + 1);
	if (n == 0 || n > MH_TOKEN_MAX)
		return 0;
	if (EVP_Digest(auth, n, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != sizeof(h->token))
		return 0;	/* fail closed */
	return CRYPTO_memcmp(md, h->token, sizeof(h->token)) == 0;
}

static void
denied(const struct metrics_http *h, const union sw_addr *src,
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
	if (extra_name != NULL)
		MHD_add_response_header(r, extra_name, extra_value);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
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
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct metrics_http *h = cls;
	const union MHD_ConnectionInfo *ci;
	union sw_addr src;
	struct acl_match am;

	(void)version;
	(void)upload_data;
	if (*con_cls != NULL) {
		/* a body we did not ask for: already answered, ignore it */
		*upload_data_size = 0;
		return MHD_YES;
	}
	*con_cls = h;
	memset(&src, 0, sizeof(src));
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci != NULL && ci->client_addr != NULL) {
		int af = ci->client_addr->sa_family;

		if (af == AF_INET)
			memcpy(&src.sin, ci->client_addr, sizeof(src.sin));
		else if (af == AF_INET6)
			memcpy(&src.sin6, ci->client_addr, sizeof(src.sin6));
	}
	if (acl_check(h->acl, &src, &am) != ACL_ALLOW) {
		denied(h, &src, "acl", MHD_HTTP_FORBIDDEN);
		return reply(c, MHD_HTTP_FORBIDDEN, "forbidden\n", NULL, NULL);
	}
	if (!token_ok(h, MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION))) {
		denied(h, &src, "token", MHD_HTTP_UNAUTHORIZED);
		return reply(c, MHD_HTTP_UNAUTHORIZED, "unauthorized\n",
		    MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
	}
	if (strcmp(url, "/metrics") != 0)
		return reply(c, MHD_HTTP_NOT_FOUND, "not found\n", NULL, NULL);
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0)
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "method not allowed\n", MHD_HTTP_HEADER_ALLOW, "GET");
	return serve_metrics(c);
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
metrics_http_start(const struct conf_admin *a, const struct acl *acl,
    struct evlog *ev, struct metrics_http **ret_h)
{
	struct metrics_http *h;
	union sw_addr addr;
	int r;

	*ret_h = NULL;
	if (a->http_port == 0)
		return 0;
	if (acl == NULL || a->http_port > 65535)
		return -EINVAL;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return -ENOMEM;
	h->fd = -1;
	h->acl = acl;
	h->ev = ev;
	if ((r = unhex32(a->token_sha256, h->token)) < 0)
		goto fail;
	addr = a->http_address;
	sw_addr_set_port(&addr, (uint16_t)a->http_port);
	sw_addr_str(&addr, h->lsn + 5, sizeof(h->lsn) - 5);
	memcpy(h->lsn, "http:", 5);
	if ((r = listen_on(&addr, &h->fd)) < 0)
		goto fail;
	h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    (addr.sa.sa_family == AF_INET6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL,
	    on_request, h,
	    MHD_OPTION_LISTEN_SOCKET, h->fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)MH_MAX_CONNS,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)MH_PER_IP,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)MH_TIMEOUT_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)MH_MEM,
	    MHD_OPTION_END);
	if (h->d == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	h->fd = -1;	/* the daemon closes it when stopped */
	log_info("metrics on %s/metrics", h->lsn);
	*ret_h = h;
	return 0;
fail:
	metrics_http_stop(h);
	return r;
}

void
metrics_http_stop(struct metrics_http *h)
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
