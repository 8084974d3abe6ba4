/*
 * Unit tests for src/admin/http_api.c (routes, the GET allow-list,
 * query and body arguments, answers) and for ctl_run() in
 * src/admin/ctl.c: the admin HTTP API's way into the command table,
 * serialised with the control socket's own commands.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "admin/ctl.h"
#include "admin/http_api.h"

/* ---- routes ---- */

static void
test_routes(void **state)
{
	char cmd[CTL_CMD_MAX + 1], name[64];

	(void)state;
	assert_int_equal(http_route_of("/metrics", cmd), HTTP_R_METRICS);
	assert_int_equal(http_route_of("/", cmd), HTTP_R_PAGE);
	assert_int_equal(http_route_of("/dashboard", cmd), HTTP_R_PAGE);
	assert_int_equal(http_route_of("/api/status", cmd), HTTP_R_API);
	assert_string_equal(cmd, "status");
	assert_int_equal(http_route_of("/api/top-10_x", cmd), HTTP_R_API);
	assert_string_equal(cmd, "top-10_x");
	/* 32 characters are a name, 33 are not */
	memset(name, 0, sizeof(name));
	memcpy(name, "/api/", 5);
	memset(name + 5, 'a', CTL_CMD_MAX);
	assert_int_equal(http_route_of(name, cmd), HTTP_R_API);
	assert_int_equal(strlen(cmd), CTL_CMD_MAX);
	name[5 + CTL_CMD_MAX] = 'a';
	assert_int_equal(http_route_of(name, cmd), HTTP_R_NONE);
	for (size_t i = 0; i < 12; i++) {
		static const char *const none[] = {
			"/api/", "/api", "/api/Status", "/api/status/",
			"/api/a/b", "/api/st atus", "/api/../metrics",
			"/apix", "/metrics/", "//", "", "/api/%73tatus",
		};

		assert_int_equal(http_route_of(none[i], cmd), HTTP_R_NONE);
	}
}

static void
test_get_allow_list(void **state)
{
	(void)state;
	assert_true(http_api_get_ok("status"));
	assert_true(http_api_get_ok("bans"));
	assert_true(http_api_get_ok("registrations"));
	assert_true(http_api_get_ok("recent"));
	assert_true(http_api_get_ok("rates"));
	/* everything that changes state, and anything unknown: POST */
	assert_false(http_api_get_ok("ban"));
	assert_false(http_api_get_ok("unban"));
	assert_false(http_api_get_ok("lockdown"));
	assert_false(http_api_get_ok("reload"));
	assert_false(http_api_get_ok("kick"));
	assert_false(http_api_get_ok("hangup"));
	assert_false(http_api_get_ok("freeze"));
	assert_false(http_api_get_ok("account"));
	assert_false(http_api_get_ok("something_new"));
	assert_false(http_api_get_ok(""));
}

/* ---- query arguments ---- */

static int
qa(json_t *a, const char *k, const char *v)
{
	char err[128];

	err[0] = '\0';
	return http_api_query_arg(a, k, v, err, sizeof(err));
}

static void
test_query_types(void **state)
{
	json_t *a = json_object();
	char err[128];

	(void)state;
	assert_int_equal(qa(a, "n", "100"), 0);
	assert_true(json_is_integer(json_object_get(a, "n")));
	assert_int_equal(json_integer_value(json_object_get(a, "n")), 100);
	/* digits for a string argument stay a string */
	assert_int_equal(qa(a, "user", "1001"), 0);
	assert_string_equal(json_string_value(json_object_get(a, "user")),
	    "1001");
	assert_int_equal(qa(a, "all", "true"), 0);
	assert_true(json_is_true(json_object_get(a, "all")));
	assert_int_equal(qa(a, "on", "0"), 0);
	assert_true(json_is_false(json_object_get(a, "on")));
	assert_int_equal(qa(a, "follow", NULL), 0);	/* the key alone */
	assert_true(json_is_true(json_object_get(a, "follow")));
	assert_int_equal(qa(a, "key", "2001:db8::/32"), 0);
	assert_int_equal(qa(a, "note", "caf\xc3\xa9"), 0);
	assert_int_equal(qa(a, "min_severity", "4"), 0);
	assert_int_equal(json_integer_value(json_object_get(a,
	    "min_severity")), 4);
	json_object_del(a, "min_severity");
	assert_int_equal(qa(a, "min_severity", "warning"), 0);
	assert_string_equal(json_string_value(json_object_get(a,
	    "min_severity")), "warning");
	assert_int_equal(json_object_size(a), 8);
	/* the same name twice */
	assert_int_equal(http_api_query_arg(a, "n", "5", err, sizeof(err)),
	    -EINVAL);
	assert_string_equal(err, "\"n\" given twice");
	json_decref(a);
}

static void
test_query_refusals(void **state)
{
	json_t *a = json_object();
	char big[HTTP_API_VALUE_MAX + 2], key[HTTP_API_KEY_MAX + 2], err[128];

	(void)state;
	assert_int_equal(qa(a, "n", "-1"), -EINVAL);
	assert_int_equal(qa(a, "n", "1e3"), -EINVAL);
	assert_int_equal(qa(a, "n", ""), -EINVAL);
	assert_int_equal(qa(a, "n", NULL), -EINVAL);
	assert_int_equal(qa(a, "n", "999999999999999999"), 0);	/* 18 */
	json_object_del(a, "n");
	assert_int_equal(qa(a, "n", "9999999999999999999"), -EINVAL);
	assert_int_equal(http_api_query_arg(a, "all", "maybe", err,
	    sizeof(err)), -EINVAL);
	assert_string_equal(err, "\"all\": true or false");
	assert_int_equal(qa(a, "User", "x"), -EINVAL);
	assert_int_equal(qa(a, "us-er", "x"), -EINVAL);
	assert_int_equal(qa(a, "", "x"), -EINVAL);
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	assert_int_equal(qa(a, key, "x"), -EINVAL);
	key[HTTP_API_KEY_MAX] = '\0';
	assert_int_equal(qa(a, key, "x"), 0);
	json_object_del(a, key);
	/* control characters, bad UTF-8 (overlong '/'), too long, empty */
	assert_int_equal(qa(a, "user", "a\nb"), -EINVAL);
	assert_int_equal(qa(a, "user", "a\x7f"), -EINVAL);
	assert_int_equal(qa(a, "user", "\xc0\xaf"), -EINVAL);
	assert_int_equal(qa(a, "user", "\xff"), -EINVAL);
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(qa(a, "user", big), -EINVAL);
	big[HTTP_API_VALUE_MAX] = '\0';
	assert_int_equal(qa(a, "user", big), 0);
	json_object_del(a, "user");
	assert_int_equal(qa(a, "user", ""), -EINVAL);
	assert_int_equal(qa(a, "user", NULL), -EINVAL);
	assert_int_equal(json_object_size(a), 0);
	/* at most HTTP_API_ARGS_MAX */
	for (int i = 0; i < HTTP_API_ARGS_MAX; i++) {
		char k[8];

		snprintf(k, sizeof(k), "k%d", i);
		assert_int_equal(qa(a, k, "v"), 0);
	}
	assert_int_equal(qa(a, "one_more", "v"), -EINVAL);
	json_decref(a);
}

/* ---- bodies ---- */

static void
test_body_args(void **state)
{
	static const char ban[] = "{\"key\":\"192.0.2.1\",\"for_s\":60}";
	char err[256], *big;
	json_t *a = NULL;

	(void)state;
	assert_int_equal(http_api_body_args("", 0, &a, err, sizeof(err)), 0);
	assert_true(json_is_object(a) && json_object_size(a) == 0);
	json_decref(a);
	assert_int_equal(http_api_body_args(" \r\n\t", 4, &a, err,
	    sizeof(err)), 0);
	assert_int_equal(json_object_size(a), 0);
	json_decref(a);
	assert_int_equal(http_api_body_args(ban, sizeof(ban) - 1, &a, err,
	    sizeof(err)), 0);
	assert_int_equal(json_integer_value(json_object_get(a, "for_s")), 60);
	json_decref(a);

	a = NULL;
	assert_int_equal(http_api_body_args("[1]", 3, &a, err, sizeof(err)),
	    -EINVAL);
	assert_string_equal(err, "body: a JSON object is expected");
	assert_null(a);
	assert_int_equal(http_api_body_args("{\"a\":1,}", 8, &a, err,
	    sizeof(err)), -EINVAL);
	assert_memory_equal(err, "body: line 1 column", 19);
	assert_int_equal(http_api_body_args("{\"a\":1,\"a\":2}", 13, &a, err,
	    sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "duplicate"));
	assert_int_equal(http_api_body_args("{\"a\":\"\0\"}", 9, &a, err,
	    sizeof(err)), -EINVAL);
	assert_int_equal(http_api_body_args("\"text\"", 6, &a, err,
	    sizeof(err)), -EINVAL);
	big = malloc(HTTP_API_BODY_MAX + 1);
	assert_non_null(big);
	memset(big, ' ', HTTP_API_BODY_MAX + 1);
	assert_int_equal(http_api_body_args(big, HTTP_API_BODY_MAX + 1, &a,
	    err, sizeof(err)), -E2BIG);
	big[0] = '{';
	big[HTTP_API_BODY_MAX - 1] = '}';
	assert_int_equal(http_api_body_args(big, HTTP_API_BODY_MAX, &a, err,
	    sizeof(err)), 0);
	json_decref(a);
	free(big);
}

/* ---- answers ---- */

static void
test_answers(void **state)
{
	json_t *r = json_pack("{s:i}", "x", 1);
	unsigned st = 0;
	char *b;

	(void)state;
	b = http_api_answer(0, r, NULL, &st);
	assert_int_equal(st, 200);
	assert_string_equal(b, "{\"ok\":true,\"result\":{\"x\":1}}\n");
	free(b);
	b = http_api_answer(0, NULL, NULL, &st);
	assert_string_equal(b, "{\"ok\":true,\"result\":null}\n");
	free(b);
	b = http_api_answer(-CTL_E_NOT_FOUND, NULL, "no such ban", &st);
	assert_int_equal(st, 404);
	assert_string_equal(b, "{\"ok\":false,\"error\":\"no such ban\","
	    "\"code\":404}\n");
	free(b);
	/* a code that is no HTTP status becomes 500 */
	b = http_api_answer(-ENOMEM, NULL, "", &st);
	assert_int_equal(st, 500);
	assert_string_equal(b, "{\"ok\":false,\"error\":\"failed\","
	    "\"code\":500}\n");
	free(b);
	json_decref(r);
}

/* ---- ctl_run ---- */

struct rctx {
	char		 dir[64];
	char		 path[96];
	char		 evpath[96];
	struct evlog	*ev;
	struct ctl	*ctl;
	atomic_int	 inside;	/* commands running now */
	atomic_int	 overlaps;	/* times two ran at once */
	atomic_int	 runs;
};

static int
cmd_whoami(void *arg, const struct ctl_peer *peer, const json_t *args,
    json_t **ret, char *err, size_t cap)
{
	char who[64];

	*ret = json_pack("{s:s, s:O}", "actor", ctl_peer_name(peer, who,
	    sizeof(who)), "args", (json_t *)args);
	return 0;
}

static int
cmd_slow(void *arg, const struct ctl_peer *peer, const json_t *args,
    json_t **ret, char *err, size_t cap)
{
	struct rctx *t = arg;

	if (atomic_fetch_add(&t->inside, 1) != 0)
		atomic_fetch_add(&t->overlaps, 1);
	usleep(1000);
	atomic_fetch_sub(&t->inside, 1);
	atomic_fetch_add(&t->runs, 1);
	*ret = NULL;
	return 0;
}

static int
cmd_refuse(void *arg, const struct ctl_peer *peer, const json_t *args,
    json_t **ret, char *err, size_t cap)
{
	snprintf(err, cap, "allow-listed");
	return -CTL_E_CONFLICT;
}

static int
cmd_weird(void *arg, const struct ctl_peer *peer, const json_t *args,
    json_t **ret, char *err, size_t cap)
{
	*ret = json_true();	/* left behind on failure: must be freed */
	return -ENOMEM;
}

static int
cmd_events(void *arg, const struct ctl_peer *peer, const json_t *args,
    json_t **ret, char *err, size_t cap)
{
	*ret = json_pack("{s:b}", "following", 1);
	return 0;
}

static const struct ctl_cmd rcmds[] = {
	{ "whoami", cmd_whoami, 0 },
	{ "slow", cmd_slow, 0 },
	{ "refuse", cmd_refuse, 0 },
	{ "weird", cmd_weird, 0 },
	{ "events", cmd_events, CTL_F_FOLLOW },
};

static int
rsetup(void **state)
{
	struct rctx *t = calloc(1, sizeof(*t));
	struct evlog_opts o;
	struct ctl_conf cc = { .cmds = rcmds, .ncmds = 5 };
	char err[256];

	assert_non_null(t);
	snprintf(t->dir, sizeof(t->dir), "/tmp/sw-http-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/control.sock", t->dir);
	snprintf(t->evpath, sizeof(t->evpath), "%s/events.jsonl", t->dir);
	evlog_opts_init(&o);
	o.path = t->evpath;
	assert_int_equal(evlog_open(&o, &t->ev), 0);
	cc.path = t->path;
	cc.arg = t;
	cc.ev = t->ev;
	if (ctl_open(&cc, &t->ctl, err, sizeof(err)) != 0)
		fail_msg("ctl_open: %s", err);
	*state = t;
	return 0;
}

static int
rteardown(void **state)
{
	struct rctx *t = *state;

	ctl_free(t->ctl);
	evlog_close(t->ev);
	unlink(t->evpath);
	unlink(t->path);
	rmdir(t->dir);
	free(t);
	return 0;
}

static const struct ctl_peer http_peer = { .uid = (uid_t)-1,
    .gid = (gid_t)-1, .name = "http:192.0.2.10" };

static void
test_run_basics(void **state)
{
	struct rctx *t = *state;
	json_t *res = NULL, *args = json_pack("{s:i}", "n", 3);
	char err[128];

	/* not started yet: nothing runs */
	assert_int_equal(ctl_run(t->ctl, "whoami", args, &http_peer, &res,
	    err, sizeof(err)), -CTL_E_UNAVAILABLE);
	assert_int_equal(ctl_run(NULL, "whoami", args, &http_peer, &res,
	    err, sizeof(err)), -CTL_E_UNAVAILABLE);
	assert_string_equal(err, "control disabled");
	assert_int_equal(ctl_start(t->ctl), 0);

	assert_int_equal(ctl_run(t->ctl, "whoami", args, &http_peer, &res,
	    err, sizeof(err)), 0);
	assert_string_equal(json_string_value(json_object_get(res, "actor")),
	    "http:192.0.2.10");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    res, "args"), "n")), 3);
	json_decref(res);
	res = NULL;
	assert_int_equal(ctl_run(t->ctl, "whoami", NULL, &http_peer, &res,
	    err, sizeof(err)), 0);
	assert_int_equal(json_object_size(json_object_get(res, "args")), 0);
	json_decref(res);
	res = NULL;

	assert_int_equal(ctl_run(t->ctl, "nope", args, &http_peer, &res, err,
	    sizeof(err)), -CTL_E_NOT_FOUND);
	assert_string_equal(err, "unknown command 'nope'");
	assert_int_equal(ctl_run(t->ctl, "events", args, &http_peer, &res,
	    err, sizeof(err)), -CTL_E_BAD_REQUEST);
	assert_int_equal(ctl_run(t->ctl, "refuse", args, &http_peer, &res,
	    err, sizeof(err)), -CTL_E_CONFLICT);
	assert_string_equal(err, "allow-listed");
	assert_int_equal(ctl_run(t->ctl, "weird", args, &http_peer, &res,
	    err, sizeof(err)), -CTL_E_INTERNAL);
	assert_null(res);
	json_decref(args);
	/* arguments are an object or nothing */
	args = json_integer(1);
	assert_int_equal(ctl_run(t->ctl, "whoami", args, &http_peer, &res,
	    err, sizeof(err)), -CTL_E_BAD_REQUEST);
	json_decref(args);

	assert_int_equal(ctl_cmd_flags(t->ctl, "events"), CTL_F_FOLLOW);
	assert_int_equal(ctl_cmd_flags(t->ctl, "slow"), 0);
	assert_int_equal(ctl_cmd_flags(t->ctl, "nope"), -ENOENT);
	assert_int_equal(ctl_cmd_flags(NULL, "slow"), -ENOENT);
}

static void *
run_many(void *arg)
{
	struct rctx *t = arg;
	json_t *res;
	char err[128];

	for (int i = 0; i < 40; i++) {
		res = NULL;
		if (ctl_run(t->ctl, "slow", NULL, &http_peer, &res, err,
		    sizeof(err)) != 0)
			return (void *)1;
	}
	return NULL;
}

/* The HTTP side and the socket side never run two commands at once. */
static void
test_run_serialised(void **state)
{
	struct rctx *t = *state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	pthread_t th[2];
	static const char line[] = "{\"cmd\":\"slow\"}\n";
	char buf[4096];
	size_t got = 0;
	void *rv;
	int fd;

	assert_int_equal(ctl_start(t->ctl), 0);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", t->path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, run_many, t), 0);
	for (int i = 0; i < 40; i++)
		assert_int_equal(send(fd, line, sizeof(line) - 1, MSG_NOSIGNAL),
		    (ssize_t)sizeof(line) - 1);
	/* 40 answers */
	for (int lines = 0; lines < 40; ) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		assert_true(n > 0);
		for (ssize_t i = 0; i < n; i++)
			lines += buf[i] == '\n';
		got += (size_t)n;
	}
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(th[i], &rv), 0);
		assert_null(rv);
	}
	close(fd);
	assert_int_equal(atomic_load(&t->runs), 120);
	assert_int_equal(atomic_load(&t->overlaps), 0);
	assert_true(got > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_get_allow_list),
		cmocka_unit_test(test_query_types),
		cmocka_unit_test(test_query_refusals),
		cmocka_unit_test(test_body_args),
		cmocka_unit_test(test_answers),
		cmocka_unit_test_setup_teardown(test_run_basics, rsetup,
		    rteardown),
		cmocka_unit_test_setup_teardown(test_run_serialised, rsetup,
		    rteardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
