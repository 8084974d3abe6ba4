/*
 * The control socket server (see ctl.h): socket set-up, the control
 * thread's poll loop, connections, peer checks, line framing, the
 * event stream of `events --follow`, and ctl_run() for the admin HTTP
 * API.  What the commands do is the caller's (daemon/control.c); the
 * HTTP side (routes, methods, tokens) is admin/http.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "admin/ctl.h"
#include "core/log.h"

#define CTL_GROUPS_MAX	256

struct ctl_client {
	int		 fd;		/* -1: free slot */
	struct ctl_peer	 peer;
	char		*in;		/* CTL_LINE_MAX */
	size_t		 in_len;
	char		*out;
	size_t		 out_len, out_off, out_cap;
	int		 follow;	/* events go here */
	int		 closing;	/* close once out is sent */
	int		 eof;		/* the peer sent all it will */
	uint64_t	 dropped;	/* events that did not fit */
};

struct ctl {
	struct ctl_conf		 conf;
	char			 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int			 lfd;
	int			 wfd;		/* eventfd: stop, events */
	uid_t			 euid;
	gid_t			 gid;
	int			 has_gid;
	pthread_t		 th;
	int			 started;
	atomic_int		 running;	/* ctl_run() may run commands */
	atomic_int		 stop;
	pthread_mutex_t		 cmd_mu;	/* one command at a time */
	atomic_int		 nfollow;
	struct evlog_tap	 tap;
	pthread_mutex_t		 tap_mu;	/* tap_buf, tap_len, dropped */
	char			*tap_buf, *tap_spare;	/* CTL_TAP_MAX each */
	size_t			 tap_len;
	uint64_t		 tap_dropped;
	struct ctl_client	 cl[CTL_MAX_CLIENTS];
};

const char *
ctl_peer_name(const struct ctl_peer *peer, char *buf, size_t cap)
{
	if (peer->name != NULL)
		snprintf(buf, cap, "%s", peer->name);
	else
		snprintf(buf, cap, "uid:%lu", (unsigned long)peer->uid);
	return buf;
}

void
ctl_event_action(struct evlog *ev, const struct ctl_peer *peer,
    const char *command, const char *target)
{
	struct secevent se;
	char who[64];		/* "http:" and an IPv6 address */

	secevent_init(&se, SECEV_ADMIN_ACTION);
	se.reason = command;
	secevent_add_str(&se, "command", command);
	secevent_add_str(&se, "actor", ctl_peer_name(peer, who, sizeof(who)));
	if (target != NULL && target[0] != '\0')
		secevent_add_str(&se, "target", target);
	evlog_emit(ev, &se);
}

/* ---- set-up ---- */

static int
group_gid(const char *name, gid_t *ret)
{
	struct group gr, *res = NULL;
	char buf[4096];

	if (getgrnam_r(name, &gr, buf, sizeof(buf), &res) != 0 || res == NULL)
		return -ENOENT;
	*ret = gr.gr_gid;
	return 0;
}

/* Is the path a socket someone still answers on? */
static int
socket_alive(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), r;

	if (fd < 0)
		return 0;
	r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	return r == 0;
}

static void tap_fn(void *arg, const char *data, size_t len);

int
ctl_open(const struct ctl_conf *conf, struct ctl **ret, char *err, size_t cap)
{
	struct sockaddr_un sa;
	struct stat st;
	struct ctl *c;
	int r;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(conf->path) >= sizeof(sa.sun_path)) {
		snprintf(err, cap, "%s: path too long for a socket",
		    conf->path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, conf->path, strlen(conf->path) + 1);
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, cap, "out of memory");
		return -ENOMEM;
	}
	c->conf = *conf;
	c->lfd = c->wfd = -1;
	for (size_t i = 0; i < CTL_MAX_CLIENTS; i++)
		c->cl[i].fd = -1;
	memcpy(c->path, sa.sun_path, sizeof(c->path));
	c->conf.path = c->path;		/* the caller's may not last */
	c->conf.group = NULL;		/* resolved below, once */
	c->euid = geteuid();
	pthread_mutex_init(&c->tap_mu, NULL);
	pthread_mutex_init(&c->cmd_mu, NULL);
	c->tap.fn = tap_fn;
	c->tap.arg = c;
	if ((c->tap_buf = malloc(CTL_TAP_MAX)) == NULL ||
	    (c->tap_spare = malloc(CTL_TAP_MAX)) == NULL) {
		snprintf(err, cap, "out of memory");
		r = -ENOMEM;
		goto fail;
	}
	if (conf->group != NULL && conf->group[0] != '\0') {
		if ((r = group_gid(conf->group, &c->gid)) < 0) {
			snprintf(err, cap, "admin.socket_group: no group '%s'",
			    conf->group);
			goto fail;
		}
		c->has_gid = 1;
	}
	if (lstat(c->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, cap, "%s exists and is not a socket; "
			    "not touching it", c->path);
			r = -EEXIST;
			goto fail;
		}
		if (socket_alive(&sa)) {
			snprintf(err, cap, "%s: another daemon answers on it",
			    c->path);
			r = -EADDRINUSE;
			goto fail;
		}
		(void)unlink(c->path);	/* stale, from a crash */
	}
	if ((c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) < 0 ||
	    (c->wfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		r = -errno;
		snprintf(err, cap, "socket: %s", strerror(errno));
		goto fail;
	}
	/* until the chmod the socket has the umask's mode, which never
	 * gives others write access (needed to connect), and the state
	 * directory is 0750 anyway */
	if (bind(c->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		snprintf(err, cap, "bind %s: %s", c->path, strerror(errno));
		goto fail;
	}
	if (chmod(c->path, c->has_gid ? 0660 : 0600) < 0 ||
	    (c->has_gid && chown(c->path, (uid_t)-1, c->gid) < 0) ||
	    listen(c->lfd, CTL_MAX_CLIENTS) < 0) {
		r = -errno;
		snprintf(err, cap, "%s: %s", c->path, strerror(errno));
		(void)unlink(c->path);
		goto fail;
	}
	*ret = c;
	return 0;
fail:
	if (c->lfd >= 0)
		close(c->lfd);
	if (c->wfd >= 0)
		close(c->wfd);
	free(c->tap_buf);
	free(c->tap_spare);
	pthread_mutex_destroy(&c->tap_mu);
	pthread_mutex_destroy(&c->cmd_mu);
	free(c);
	return r;
}

/* ---- events --follow ---- */

/* The event log's writer thread: copy and wake the control thread. */
static void
tap_fn(void *arg, const char *data, size_t len)
{
	struct ctl *c = arg;
	uint64_t one = 1;

	if (atomic_load_explicit(&c->nfollow, memory_order_relaxed) == 0 &&
	    c->conf.sink == NULL)
		return;
	pthread_mutex_lock(&c->tap_mu);
	if (len > CTL_TAP_MAX - c->tap_len)
		c->tap_dropped++;
	else {
		memcpy(c->tap_buf + c->tap_len, data, len);
		c->tap_len += len;
	}
	pthread_mutex_unlock(&c->tap_mu);
	(void)!write(c->wfd, &one, sizeof(one));
}

/* ---- connections ---- */

static void
client_close(struct ctl *c, struct ctl_client *k)
{
	if (k->fd < 0)
		return;
	if (k->follow)
		atomic_fetch_sub(&c->nfollow, 1);
	close(k->fd);
	free(k->in);
	free(k->out);
	memset(k, 0, sizeof(*k));
	k->fd = -1;
}

/* Queue bytes for k; 0, or -1 when they do not fit (nothing queued). */
static int
client_put(struct ctl_client *k, const char *p, size_t n)
{
	size_t pending = k->out_len - k->out_off;

	if (n > CTL_OUT_MAX - pending)
		return -1;
	if (k->out_off > 0) {
		memmove(k->out, k->out + k->out_off, pending);
		k->out_len = pending;
		k->out_off = 0;
	}
	if (k->out_len + n > k->out_cap) {
		size_t ncap = k->out_cap ? k->out_cap : 4096;
		char *o;

		while (ncap < k->out_len + n)
			ncap *= 2;
		if ((o = realloc(k->out, ncap)) == NULL)
			return -1;
		k->out = o;
		k->out_cap = ncap;
	}
	memcpy(k->out + k->out_len, p, n);
	k->out_len += n;
	return 0;
}

/* Send what is queued; -1 when the connection is dead. */
static int
client_flush(struct ctl_client *k)
{
	while (k->out_off < k->out_len) {
		ssize_t w = send(k->fd, k->out + k->out_off,
		    k->out_len - k->out_off, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		}
		k->out_off += (size_t)w;
	}
	k->out_off = k->out_len = 0;
	return 0;
}

/* An answer line (malloc'd, may be NULL: no memory). */
static void
client_answer(struct ctl_client *k, char *line)
{
	static const char oom[] =
	    "{\"ok\":false,\"error\":\"out of memory\",\"code\":500}\n";

	if (line == NULL)
		client_put(k, oom, sizeof(oom) - 1);
	else if (client_put(k, line, strlen(line)) < 0) {
		free(line);
		line = ctl_resp_err(CTL_E_INTERNAL, "answer too large");
		if (line != NULL)
			client_put(k, line, strlen(line));
	}
	free(line);
}

static void
client_error(struct ctl_client *k, int code, const char *msg)
{
	client_answer(k, ctl_resp_err(code, msg));
}

static void
client_line(struct ctl *c, struct ctl_client *k, const char *line, size_t len)
{
	struct ctl_req req;
	const struct ctl_cmd *cmd = NULL;
	const char *why = NULL;
	json_t *result = NULL;
	char err[CTL_ERR_MAX];
	int r;

	if (len == 0 || (len == 1 && line[0] == '\r'))
		return;		/* an empty line is no request */
	if ((r = ctl_req_parse(line, len, &req, &why)) < 0) {
		client_error(k, -r, why);
		return;
	}
	for (size_t i = 0; i < c->conf.ncmds; i++)
		if (strcmp(c->conf.cmds[i].name, req.cmd) == 0)
			cmd = &c->conf.cmds[i];
	if (cmd == NULL) {
		snprintf(err, sizeof(err), "unknown command '%s'", req.cmd);
		client_error(k, CTL_E_NOT_FOUND, err);
		ctl_req_clear(&req);
		return;
	}
	err[0] = '\0';
	pthread_mutex_lock(&c->cmd_mu);
	r = cmd->fn(c->conf.arg, &k->peer, req.args, &result, err,
	    sizeof(err));
	pthread_mutex_unlock(&c->cmd_mu);
	ctl_req_clear(&req);
	if (r < 0) {
		json_decref(result);
		client_error(k, -r, err[0] != '\0' ? err : "failed");
		return;
	}
	client_answer(k, ctl_resp_ok(result));
	json_decref(result);
	if ((cmd->flags & CTL_F_FOLLOW) && !k->follow) {
		k->follow = 1;
		atomic_fetch_add(&c->nfollow, 1);
	}
}

/* Read what is there and run every complete line. */
static void
client_read(struct ctl *c, struct ctl_client *k)
{
	for (;;) {
		size_t start = 0;
		char *nl;
		ssize_t n;

		if (k->closing) {	/* nothing more is read: drain */
			char sink[4096];

			n = read(k->fd, sink, sizeof(sink));
			if (n == 0)
				k->eof = 1;
			else if (n < 0 && errno != EAGAIN && errno != EINTR)
				client_close(c, k);
			if (n <= 0)
				return;
			continue;
		}
		n = read(k->fd, k->in + k->in_len, CTL_LINE_MAX - k->in_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n == 0 && !k->follow) {
			/* a half-close still gets its answers */
			k->eof = k->closing = 1;
			return;
		}
		if (n <= 0) {
			client_close(c, k);
			return;
		}
		k->in_len += (size_t)n;
		while ((nl = memchr(k->in + start, '\n', k->in_len - start))
		    != NULL) {
			size_t len = (size_t)(nl - (k->in + start));

			client_line(c, k, k->in + start, len);
			start += len + 1;
		}
		if (start > 0) {
			memmove(k->in, k->in + start, k->in_len - start);
			k->in_len -= start;
		}
		if (k->in_len == CTL_LINE_MAX) {
			/* no end of line in sight: nothing after it can be
			 * framed, so say why and hang up */
			client_error(k, CTL_E_TOO_LONG, "request line too long "
			    "(at most 65536 bytes)");
			k->closing = 1;
			k->in_len = 0;
		}
	}
}

static int
peer_in_group(const struct ctl *c, const struct ctl_peer *p)
{
	struct passwd pw, *res = NULL;
	gid_t groups[CTL_GROUPS_MAX];
	int n = CTL_GROUPS_MAX;
	char buf[4096];

	if (!c->has_gid)
		return 0;
	if (p->gid == c->gid)
		return 1;
	if (getpwuid_r(p->uid, &pw, buf, sizeof(buf), &res) != 0 ||
	    res == NULL || getgrouplist(pw.pw_name, pw.pw_gid, groups,
	    &n) < 0)
		return 0;
	for (int i = 0; i < n; i++)
		if (groups[i] == c->gid)
			return 1;
	return 0;
}

static void
denied(struct ctl *c, int fd, const struct ctl_peer *p, const char *why)
{
	struct secevent se;
	char *line = ctl_resp_err(CTL_E_DENIED, why);

	if (line != NULL) {
		(void)!send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT);
		free(line);
	}
	close(fd);
	secevent_init(&se, SECEV_ADMIN_DENIED);
	se.reason = p != NULL ? "peer_uid" : "no_credentials";
	se.detail = why;
	if (p != NULL)
		secevent_add_int(&se, "uid", (long long)p->uid);
	evlog_emit(c->conf.ev, &se);
}

static void
accept_one(struct ctl *c)
{
	struct ucred uc;
	socklen_t ul = sizeof(uc);
	struct ctl_peer p;
	struct ctl_client *k = NULL;
	int fd;

	if ((fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &ul) < 0) {
		denied(c, fd, NULL, "peer credentials unavailable");
		return;
	}
	p = (struct ctl_peer){ .pid = uc.pid, .uid = uc.uid, .gid = uc.gid };
	if (p.uid != 0 && p.uid != c->euid && !peer_in_group(c, &p)) {
		denied(c, fd, &p, "not root, the daemon's user or a member "
		    "of admin.socket_group");
		return;
	}
	for (size_t i = 0; i < CTL_MAX_CLIENTS && k == NULL; i++)
		if (c->cl[i].fd < 0)
			k = &c->cl[i];
	if (k == NULL || (k->in = malloc(CTL_LINE_MAX)) == NULL) {
		static const char busy[] = "{\"ok\":false,\"error\":"
		    "\"too many control connections\",\"code\":503}\n";

		(void)!send(fd, busy, sizeof(busy) - 1,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		close(fd);
		return;
	}
	k->fd = fd;
	k->peer = p;
}

/* Hand the events the tap gathered to every follower. */
static void
deliver_events(struct ctl *c)
{
	uint64_t v;
	size_t len;
	char *buf;

	(void)!read(c->wfd, &v, sizeof(v));
	pthread_mutex_lock(&c->tap_mu);
	buf = c->tap_buf;
	len = c->tap_len;
	c->tap_buf = c->tap_spare;
	c->tap_spare = buf;
	c->tap_len = 0;
	pthread_mutex_unlock(&c->tap_mu);
	if (len == 0)
		return;
	if (c->conf.sink != NULL)
		c->conf.sink->fn(c->conf.sink->arg, buf, len);
	for (size_t i = 0; i < CTL_MAX_CLIENTS; i++) {
		struct ctl_client *k = &c->cl[i];

		if (k->fd >= 0 && k->follow && client_put(k, buf, len) < 0)
			k->dropped++;
	}
}

static void *
ctl_main(void *arg)
{
	struct ctl *c = arg;
	struct pollfd pfd[2 + CTL_MAX_CLIENTS];
	struct ctl_client *who[2 + CTL_MAX_CLIENTS];

	log_set_thread("control");
	while (!atomic_load(&c->stop)) {
		nfds_t n = 2;

		pfd[0] = (struct pollfd){ .fd = c->wfd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = c->lfd, .events = POLLIN };
		for (size_t i = 0; i < CTL_MAX_CLIENTS; i++) {
			struct ctl_client *k = &c->cl[i];

			if (k->fd < 0)
				continue;
			pfd[n] = (struct pollfd){ .fd = k->fd, .events =
			    (short)((k->eof ? 0 : POLLIN) | (k->out_len >
			    k->out_off ? POLLOUT : 0)) };
			who[n++] = k;
		}
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_warn("control: poll");
			break;
		}
		if (atomic_load(&c->stop))
			break;
		if (pfd[0].revents & POLLIN)
			deliver_events(c);
		if (pfd[1].revents & POLLIN)
			accept_one(c);
		for (nfds_t i = 2; i < n; i++) {
			struct ctl_client *k = who[i];

			if (k->fd < 0)
				continue;
			if (!k->eof && (pfd[i].revents & (POLLIN | POLLHUP |
			    POLLERR)))
				client_read(c, k);
			if (k->fd >= 0 && client_flush(k) < 0)
				client_close(c, k);
			if (k->fd >= 0 && k->closing && k->out_len == 0)
				client_close(c, k);
		}
		/* followers that got events but no poll event */
		for (size_t i = 0; i < CTL_MAX_CLIENTS; i++)
			if (c->cl[i].fd >= 0 && c->cl[i].follow &&
			    client_flush(&c->cl[i]) < 0)
				client_close(c, &c->cl[i]);
	}
	return NULL;
}

int
ctl_start(struct ctl *c)
{
	int r;

	evlog_set_tap(c->conf.ev, &c->tap);
	if ((r = pthread_create(&c->th, NULL, ctl_main, c)) != 0) {
		evlog_set_tap(c->conf.ev, NULL);
		return -r;
	}
	c->started = 1;
	atomic_store(&c->running, 1);
	return 0;
}

int
ctl_cmd_flags(const struct ctl *c, const char *cmd)
{
	if (c == NULL)
		return -ENOENT;
	for (size_t i = 0; i < c->conf.ncmds; i++)
		if (strcmp(c->conf.cmds[i].name, cmd) == 0)
			return (int)c->conf.cmds[i].flags;
	return -ENOENT;
}

int
ctl_run(struct ctl *c, const char *cmd, const json_t *args,
    const struct ctl_peer *peer, json_t **ret_result, char *err, size_t cap)
{
	const struct ctl_cmd *k = NULL;
	json_t *result = NULL, *empty = NULL;
	int r;

	if (c == NULL || !atomic_load(&c->running)) {
		snprintf(err, cap, c == NULL ? "control disabled" :
		    "not running");
		return -CTL_E_UNAVAILABLE;
	}
	for (size_t i = 0; i < c->conf.ncmds && k == NULL; i++)
		if (strcmp(c->conf.cmds[i].name, cmd) == 0)
			k = &c->conf.cmds[i];
	if (k == NULL) {
		snprintf(err, cap, "unknown command '%.*s'", CTL_CMD_MAX, cmd);
		return -CTL_E_NOT_FOUND;
	}
	if (k->flags & CTL_F_FOLLOW) {
		snprintf(err, cap, "'%s' is a stream: only on the control "
		    "socket", k->name);
		return -CTL_E_BAD_REQUEST;
	}
	if (args == NULL && (args = empty = json_object()) == NULL) {
		snprintf(err, cap, "out of memory");
		return -CTL_E_INTERNAL;
	}
	if (!json_is_object(args)) {
		snprintf(err, cap, "\"args\" must be an object");
		return -CTL_E_BAD_REQUEST;
	}
	err[0] = '\0';
	pthread_mutex_lock(&c->cmd_mu);
	r = k->fn(c->conf.arg, peer, args, &result, err, cap);
	pthread_mutex_unlock(&c->cmd_mu);
	json_decref(empty);
	if (r < 0) {
		json_decref(result);
		if (err[0] == '\0')
			snprintf(err, cap, "failed");
		/* the code becomes an HTTP status: keep it one */
		return r <= -400 && r > -600 ? r : -CTL_E_INTERNAL;
	}
	*ret_result = result;
	return 0;
}

void
ctl_free(struct ctl *c)
{
	uint64_t one = 1;

	if (c == NULL)
		return;
	atomic_store(&c->running, 0);
	if (c->started) {
		atomic_store(&c->stop, 1);
		(void)!write(c->wfd, &one, sizeof(one));
		pthread_join(c->th, NULL);
		/* after the flush the writer is done with our tap */
		evlog_set_tap(c->conf.ev, NULL);
		evlog_flush(c->conf.ev);
	}
	for (size_t i = 0; i < CTL_MAX_CLIENTS; i++)
		client_close(c, &c->cl[i]);
	close(c->lfd);
	close(c->wfd);
	(void)unlink(c->path);
	free(c->tap_buf);
	free(c->tap_spare);
	pthread_mutex_destroy(&c->tap_mu);
	pthread_mutex_destroy(&c->cmd_mu);
	free(c);
}
