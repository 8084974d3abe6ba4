/*
 * libFuzzer target for what an operator's tools send the daemon: the
 * control protocol's request lines (ctl_proto.c) and the admin HTTP
 * API's paths, query arguments and bodies (http_api.c).  Beyond "no
 * crash" it asserts the contracts: a command name is 1..CTL_CMD_MAX of
 * [a-z0-9_-], arguments are always an object, a parsed request formats
 * back to a line that parses to the same request, a query argument is
 * stored under its key as a string, integer or boolean, and a refusal
 * always says why.
 *
 * The first byte picks the input: 0 a request line, 1 a path, 2 a
 * query string, 3 a POST body, 4 an event line as the evidence ring
 * reads it (evring_scan, which must agree with the jansson reading
 * whenever it accepts a line).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "admin/ctl_proto.h"
#include "admin/http_api.h"
#include "obs/evring.h"

#include "fuzz_check.h"

static void
check_cmd(const char *cmd)
{
	size_t n = strlen(cmd);

	CHECK(n >= 1 && n <= CTL_CMD_MAX);
	for (size_t i = 0; i < n; i++)
		CHECK((cmd[i] >= 'a' && cmd[i] <= 'z') ||
		    (cmd[i] >= '0' && cmd[i] <= '9') || cmd[i] == '_' ||
		    cmd[i] == '-');
}

static void
request_line(const char *buf, size_t len)
{
	struct ctl_req r, back;
	const char *why = NULL;
	char *line;

	if (ctl_req_parse(buf, len, &r, &why) < 0) {
		CHECK(why != NULL && why[0] != '\0');
		return;
	}
	check_cmd(r.cmd);
	CHECK(json_is_object(r.args));
	line = ctl_req_format(r.cmd, r.args);
	CHECK(line != NULL);
	CHECK(strlen(line) > 0 && line[strlen(line) - 1] == '\n');
	CHECK(ctl_req_parse(line, strlen(line) - 1, &back, &why) == 0);
	CHECK(strcmp(back.cmd, r.cmd) == 0);
	CHECK(json_equal(back.args, r.args));
	free(line);
	ctl_req_clear(&back);
	ctl_req_clear(&r);
}

static void
path(const char *s)
{
	char cmd[CTL_CMD_MAX + 1];
	enum http_route rt = http_route_of(s, cmd);

	CHECK(rt >= HTTP_R_NONE && rt < HTTP_R_MAX);
	if (rt == HTTP_R_API) {
		check_cmd(cmd);
		CHECK(strncmp(s, "/api/", 5) == 0);
		(void)http_api_get_ok(cmd);
	}
}

/* "k=v&k&k=v": each pair through http_api_query_arg. */
static void
query(char *s)
{
	json_t *args = json_object();
	char err[256];

	CHECK(args != NULL);
	for (char *save = NULL, *p = strtok_r(s, "&", &save); p != NULL;
	    p = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(p, '=');
		const json_t *v;

		if (eq != NULL)
			*eq = '\0';
		err[0] = '\0';
		if (http_api_query_arg(args, p, eq != NULL ? eq + 1 : NULL,
		    err, sizeof(err)) < 0) {
			CHECK(err[0] != '\0');
			continue;
		}
		v = json_object_get(args, p);
		CHECK(v != NULL);
		CHECK(json_is_string(v) || json_is_integer(v) ||
		    json_is_boolean(v));
	}
	json_decref(args);
}

static void
body(const char *buf, size_t len)
{
	json_t *args = NULL;
	char err[256] = "";
	unsigned status = 0;
	char *answer;

	if (http_api_body_args(buf, len, &args, err, sizeof(err)) < 0) {
		CHECK(args == NULL && err[0] != '\0');
		return;
	}
	CHECK(json_is_object(args));
	answer = http_api_answer(0, args, NULL, &status);
	CHECK(answer != NULL && status == 200);
	free(answer);
	json_decref(args);
}

static void
event_line(const char *buf, size_t len)
{
	struct evring_ev a, b;
	struct evring_scratch sc;
	json_t *o;

	if (evring_scan(buf, len, &a, &sc) < 0)
		return;
	/* jansson may still refuse what the scanner takes (a duplicate
	 * key, bad UTF-8): the scanner only reads our own writer's lines
	 * well; what it reads must then be what they say */
	if (evring_parse(buf, len, &b, &o) < 0)
		return;
	CHECK(a.ms == b.ms && a.id == b.id && a.sev == b.sev);
	CHECK(strcmp(a.type, b.type) == 0);
	json_decref(o);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size < 1 || size > 70 * 1024)
		return 0;
	/* a NUL-terminated copy: paths and queries are C strings here */
	if ((s = malloc(size)) == NULL)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] & 7) {
	case 0:
		request_line((const char *)data + 1, size - 1);
		break;
	case 1:
		path(s);
		break;
	case 2:
		query(s);
		break;
	case 3:
		body((const char *)data + 1, size - 1);
		break;
	case 4:
		event_line((const char *)data + 1, size - 1);
		break;
	default:
		break;
	}
	free(s);
	return 0;
}
