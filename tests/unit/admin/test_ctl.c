/*
 * Unit tests for src/admin/ctl.c: the socket's mode and what happens to
 * what is in the way, framing (several lines in one write, a non-JSON
 * line, an over-long line), the client bound, and the event stream.
 * A two-command table stands in for the daemon's.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "admin/ctl.h"
#include "core/log.h"

struct tctx {
	char		 dir[64];
	char		 path[96];
	char		 evpath[96];
	struct evlog	*ev;
	struct ctl	*ctl;
	int		 calls;
};

static int
cmd_echo(void *arg, const struct ctl_peer *peer, const json_t *args,
    json_t **ret, char *err, size_t cap)
{
	struct tctx *t = arg;

	t->calls++;
	*ret = json_pack("{s:O, s:I}", "args", (json_t *)args, "uid",
	    (json_int_t)peer->uid);
	return 0;
}

static int
cmd_fail(void *arg, const struct ctl_peer *peer, const json_t *args,
    json_t **ret, char *err, size_t cap)
{
	snprintf(err, cap, "refused on purpose");
	return -CTL_E_CONFLICT;
}

static int
cmd_follow(void *arg, const struct ctl_peer *peer, const json_t *args,
    json_t **ret, char *err, size_t cap)
{
	*ret = json_pack("{s:b}", "following", 1);
	return 0;
}

static const struct ctl_cmd cmds[] = {
	{ "echo", cmd_echo, 0 },
	{ "fail", cmd_fail, 0 },
	{ "events", cmd_follow, CTL_F_FOLLOW },
};

static int
open_ctl(struct tctx *t, char *err, size_t cap)
{
	struct ctl_conf cc = {
		.path = t->path, .cmds = cmds, .ncmds = 3, .arg = t,
		.ev = t->ev,
	};

	return ctl_open(&cc, &t->ctl, err, cap);
}

static int
setup(void **state)
{
	struct tctx *t = calloc(1, sizeof(*t));
	struct evlog_opts o;
	char err[256];

	assert_non_null(t);
	snprintf(t->dir, sizeof(t->dir), "/tmp/sw-ctl-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/control.sock", t->dir);
	snprintf(t->evpath, sizeof(t->evpath), "%s/events.jsonl", t->dir);
	evlog_opts_init(&o);
	o.path = t->evpath;
	assert_int_equal(evlog_open(&o, &t->ev), 0);
	if (open_ctl(t, err, sizeof(err)) != 0)
		fail_msg("ctl_open: %s", err);
	assert_int_equal(ctl_start(t->ctl), 0);
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct tctx *t = *state;

	ctl_free(t->ctl);
	evlog_close(t->ev);
	unlink(t->evpath);
	unlink(t->path);
	rmdir(t->dir);
	free(t);
	return 0;
}

static int
connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void
put(int fd, const char *s)
{
	assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL),
	    (ssize_t)strlen(s));
}

/* One line (without '\n') into buf, waiting up to 5 s; its length, or
 * -1 at EOF. */
static ssize_t
get_line(int fd, char *buf, size_t cap)
{
	size_t n = 0;

	while (n + 1 < cap) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, 5000) != 1)
			fail_msg("no answer within 5 s");
		if ((r = recv(fd, buf + n, 1, 0)) <= 0)
			return -1;
		if (buf[n] == '\n') {
			buf[n] = '\0';
			return (ssize_t)n;
		}
		n++;
	}
	fail_msg("line too long");
	return -1;
}

static json_t *
answer(int fd)
{
	char buf[4096];
	json_error_t e;
	json_t *j;

	assert_true(get_line(fd, buf, sizeof(buf)) >= 0);
	j = json_loads(buf, 0, &e);
	assert_non_null(j);
	return j;
}

static int
code_of(json_t *j)
{
	int c = json_is_false(json_object_get(j, "ok")) ?
	    (int)json_integer_value(json_object_get(j, "code")) : 0;

	json_decref(j);
	return c;
}

static void
test_socket_mode(void **state)
{
	struct tctx *t = *state;
	struct stat st;

	assert_int_equal(lstat(t->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
}

static void
test_commands_and_framing(void **state)
{
	struct tctx *t = *state;
	int fd = connect_to(t->path);
	json_t *j;

	/* two requests in one write: two answers, in order */
	put(fd, "{\"cmd\":\"echo\",\"args\":{\"n\":1}}\n"
	    "{\"cmd\":\"echo\",\"args\":{\"n\":2}}\n");
	j = answer(fd);
	assert_true(json_is_true(json_object_get(j, "ok")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    json_object_get(j, "result"), "args"), "n")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j,
	    "result"), "uid")), (json_int_t)geteuid());
	json_decref(j);
	j = answer(fd);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    json_object_get(j, "result"), "args"), "n")), 2);
	json_decref(j);

	/* garbage, an unknown command, a refusal: answers, and the
	 * connection goes on */
	put(fd, "this is not json\n");
	assert_int_equal(code_of(answer(fd)), CTL_E_BAD_REQUEST);
	put(fd, "{\"cmd\":\"nope\"}\n");
	assert_int_equal(code_of(answer(fd)), CTL_E_NOT_FOUND);
	put(fd, "{\"cmd\":\"fail\"}\r\n");
	j = answer(fd);
	assert_string_equal(json_string_value(json_object_get(j, "error")),
	    "refused on purpose");
	assert_int_equal(code_of(j), CTL_E_CONFLICT);
	/* a request split over writes */
	put(fd, "{\"cmd\":");
	usleep(50000);
	put(fd, "\"echo\"}\n");
	assert_int_equal(code_of(answer(fd)), 0);
	assert_int_equal(t->calls, 3);
	close(fd);
}

static void
test_line_too_long(void **state)
{
	struct tctx *t = *state;
	int fd = connect_to(t->path);
	size_t n = CTL_LINE_MAX + 1000;
	char *big = malloc(n), buf[256];

	assert_non_null(big);
	memset(big, 'x', n);
	/* the server answers and hangs up while we may still be writing */
	(void)send(fd, big, n, MSG_NOSIGNAL);
	assert_int_equal(code_of(answer(fd)), CTL_E_TOO_LONG);
	assert_int_equal(get_line(fd, buf, sizeof(buf)), -1);
	free(big);
	close(fd);
	/* the server still serves others */
	fd = connect_to(t->path);
	put(fd, "{\"cmd\":\"echo\"}\n");
	assert_int_equal(code_of(answer(fd)), 0);
	close(fd);
}

static void
test_client_bound(void **state)
{
	struct tctx *t = *state;
	int fds[CTL_MAX_CLIENTS], extra;

	for (size_t i = 0; i < CTL_MAX_CLIENTS; i++) {
		fds[i] = connect_to(t->path);
		put(fds[i], "{\"cmd\":\"echo\"}\n");
		assert_int_equal(code_of(answer(fds[i])), 0);
	}
	extra = connect_to(t->path);
	assert_int_equal(code_of(answer(extra)), CTL_E_UNAVAILABLE);
	close(extra);
	close(fds[0]);
	usleep(100000);
	extra = connect_to(t->path);
	put(extra, "{\"cmd\":\"echo\"}\n");
	assert_int_equal(code_of(answer(extra)), 0);
	close(extra);
	for (size_t i = 1; i < CTL_MAX_CLIENTS; i++)
		close(fds[i]);
}

static void
test_follow(void **state)
{
	struct tctx *t = *state;
	int fd = connect_to(t->path);
	struct secevent ev;
	char buf[SECEVENT_LINE_MAX];
	json_t *j;

	put(fd, "{\"cmd\":\"events\"}\n");
	assert_int_equal(code_of(answer(fd)), 0);
	secevent_init(&ev, SECEV_ADMIN_ACTION);
	ev.reason = "test";
	assert_int_equal(evlog_emit(t->ev, &ev), 0);
	assert_true(get_line(fd, buf, sizeof(buf)) > 0);
	j = json_loads(buf, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "type")),
	    "admin.action");
	json_decref(j);
	close(fd);
}

static void
test_in_the_way(void **state)
{
	struct tctx *t = *state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ctl *other = NULL;
	struct ctl_conf cc = { .cmds = cmds, .ncmds = 3, .arg = t };
	char err[256], path[96];
	int fd;

	/* a live daemon's socket */
	cc.path = t->path;
	assert_int_equal(ctl_open(&cc, &other, err, sizeof(err)),
	    -EADDRINUSE);
	/* a file that is not a socket is never removed */
	snprintf(path, sizeof(path), "%s/file", t->dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	cc.path = path;
	assert_int_equal(ctl_open(&cc, &other, err, sizeof(err)), -EEXIST);
	assert_int_equal(access(path, F_OK), 0);
	unlink(path);
	/* a stale socket (its owner died) is replaced */
	snprintf(path, sizeof(path), "%s/stale.sock", t->dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(ctl_open(&cc, &other, err, sizeof(err)), 0);
	ctl_free(other);
	assert_int_not_equal(access(path, F_OK), 0);
	/* an unknown group */
	cc.group = "no-such-group-sipwall";
	assert_int_equal(ctl_open(&cc, &other, err, sizeof(err)), -ENOENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_socket_mode, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_commands_and_framing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_line_too_long, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_client_bound, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_follow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_in_the_way, setup,
		    teardown),
	};

	log_init("test_ctl", LOG_ERR, LOG_TO_STDERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
