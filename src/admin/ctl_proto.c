/*
 * The control protocol's lines (see ctl_proto.h): strict on what it
 * reads, since a request names an action on a running daemon.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/ctl_proto.h"

static int
cmd_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > CTL_CMD_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

int
ctl_req_parse(const char *buf, size_t len, struct ctl_req *ret,
    const char **reterr_why)
{
	json_error_t jerr;
	json_t *j, *cmd = NULL, *args = NULL, *v;
	const char *k;

	if (len > 0 && buf[len - 1] == '\r')
		len--;
	if (len >= CTL_LINE_MAX) {
		*reterr_why = "request line too long";
		return -CTL_E_TOO_LONG;
	}
	if ((j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		*reterr_why = "not a JSON object";
		return -CTL_E_BAD_REQUEST;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		*reterr_why = "not a JSON object";
		return -CTL_E_BAD_REQUEST;
	}
	json_object_foreach(j, k, v) {
		if (strcmp(k, "cmd") == 0)
			cmd = v;
		else if (strcmp(k, "args") == 0)
			args = v;
		else {
			json_decref(j);
			*reterr_why = "unknown key (only \"cmd\" and \"args\")";
			return -CTL_E_BAD_REQUEST;
		}
	}
	if (cmd == NULL || !json_is_string(cmd) ||
	    !cmd_name_ok(json_string_value(cmd), json_string_length(cmd))) {
		json_decref(j);
		*reterr_why = "\"cmd\" must be a command name";
		return -CTL_E_BAD_REQUEST;
	}
	if (args != NULL && !json_is_object(args)) {
		json_decref(j);
		*reterr_why = "\"args\" must be an object";
		return -CTL_E_BAD_REQUEST;
	}
	memcpy(ret->cmd, json_string_value(cmd), json_string_length(cmd) + 1);
	ret->args = args != NULL ? json_incref(args) : json_object();
	json_decref(j);
	if (ret->args == NULL) {
		*reterr_why = "out of memory";
		return -CTL_E_INTERNAL;
	}
	return 0;
}

void
ctl_req_clear(struct ctl_req *r)
{
	json_decref(r->args);
	r->args = NULL;
	r->cmd[0] = '\0';
}

/* j as one compact line, '\n' appended, in a buffer of ours (plain
 * malloc: a caller may have given jansson other allocators); j is
 * released. */
static char *
line_of(json_t *j)
{
	const size_t flags = JSON_COMPACT | JSON_ENSURE_ASCII;
	char *out = NULL;
	size_t n;

	if (j == NULL)
		return NULL;
	if ((n = json_dumpb(j, NULL, 0, flags)) > 0 &&
	    (out = malloc(n + 2)) != NULL) {
		if (json_dumpb(j, out, n, flags) != n) {
			free(out);
			out = NULL;
		} else {
			out[n] = '\n';
			out[n + 1] = '\0';
		}
	}
	json_decref(j);
	return out;
}

char *
ctl_req_format(const char *cmd, const json_t *args)
{
	json_t *a = args != NULL ? json_deep_copy(args) : json_object();

	if (a == NULL)
		return NULL;
	return line_of(json_pack("{s:s, s:o}", "cmd", cmd, "args", a));
}

char *
ctl_resp_ok(const json_t *result)
{
	json_t *r = result != NULL ? json_deep_copy(result) : json_null();

	if (r == NULL)
		return NULL;
	return line_of(json_pack("{s:b, s:o}", "ok", 1, "result", r));
}

char *
ctl_resp_err(int code, const char *msg)
{
	return line_of(json_pack("{s:b, s:s, s:i}", "ok", 0, "error", msg,
	    "code", code));
}

int
ctl_resp_parse(const char *buf, size_t len, json_t **ret_result, char *err,
    size_t cap)
{
	json_error_t jerr;
	json_t *j, *ok, *v;
	int code;

	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if ((j = json_loadb(buf, len, 0, &jerr)) == NULL ||
	    !json_is_object(j) || !json_is_boolean(ok = json_object_get(j,
	    "ok"))) {
		json_decref(j);
		snprintf(err, cap, "malformed answer from the daemon");
		return -1;
	}
	if (json_is_true(ok)) {
		v = json_object_get(j, "result");
		*ret_result = v != NULL ? json_incref(v) : json_null();
		json_decref(j);
		return 0;
	}
	v = json_object_get(j, "error");
	snprintf(err, cap, "%s", json_is_string(v) ? json_string_value(v) :
	    "error");
	v = json_object_get(j, "code");
	code = json_is_integer(v) && json_integer_value(v) > 0 &&
	    json_integer_value(v) < 1000 ? (int)json_integer_value(v) :
	    CTL_E_INTERNAL;
	json_decref(j);
	return code;
}

int
ctl_arg_str(const json_t *args, const char *k, size_t max, const char **ret)
{
	const json_t *v = json_object_get(args, k);
	const char *s;
	size_t n;

	if (v == NULL || json_is_null(v))
		return -ENOENT;
	if (!json_is_string(v))
		return -EINVAL;
	s = json_string_value(v);
	n = json_string_length(v);
	if (n == 0 || n > max || strlen(s) != n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return -EINVAL;
	*ret = s;
	return 0;
}

int
ctl_arg_bool(const json_t *args, const char *k)
{
	const json_t *v = json_object_get(args, k);

	if (v == NULL || json_is_null(v))
		return -ENOENT;
	if (!json_is_boolean(v))
		return -EINVAL;
	return json_is_true(v);
}

int
ctl_arg_uint(const json_t *args, const char *k, long long max,
    long long *ret)
{
	const json_t *v = json_object_get(args, k);

	if (v == NULL || json_is_null(v))
		return -ENOENT;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > max)
		return -EINVAL;
	*ret = json_integer_value(v);
	return 0;
}
