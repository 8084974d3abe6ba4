/*
 * The admin HTTP API's rules (see http_api.h): routes, the GET
 * allow-list, query and body arguments, answers.  Pure functions over
 * strings and jansson values; the server is admin/http.c.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/http_api.h"
#include "core/utf8.h"

/*
 * Commands a GET may run: each only reads.  Everything else (ban,
 * unban, lockdown, kick, hangup, freeze, unfreeze, reload, account and
 * whatever is added later) must be a POST, so that a link, a prefetch
 * or a crawler never changes anything.
 */
static const char *const get_cmds[] = {
	"status", "bans", "registrations", "frozen", "calls", "top",
	"evidence", "recent", "alerts", "rates",
};

/* Argument names the commands read as integers (ctl_arg_uint). */
static const char *const int_keys[] = {
	"n", "limit", "for_s", "window_s", "since", "since_ms", "top",
	"max",
};

/* ... as a number or a name ("min_severity": 4 or "warning") ... */
static const char *const num_or_str_keys[] = {
	"min_severity",
};

/* ... and as booleans (ctl_arg_bool). */
static const char *const bool_keys[] = {
	"all", "on", "follow", "active",
};

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

static int
in_list(const char *const *l, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(l[i], s) == 0)
			return 1;
	return 0;
}

static int
name_char(char c, int dash)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '_' || (dash && c == '-');
}

enum http_route
http_route_of(const char *path, char cmd[CTL_CMD_MAX + 1])
{
	size_t n;

	if (strcmp(path, "/metrics") == 0)
		return HTTP_R_METRICS;
	if (strcmp(path, "/") == 0 || strcmp(path, "/dashboard") == 0)
		return HTTP_R_PAGE;
	if (strncmp(path, "/api/", 5) != 0)
		return HTTP_R_NONE;
	path += 5;
	for (n = 0; path[n] != '\0'; n++)
		if (n >= CTL_CMD_MAX || !name_char(path[n], 1))
			return HTTP_R_NONE;
	if (n == 0)
		return HTTP_R_NONE;
	memcpy(cmd, path, n + 1);
	return HTTP_R_API;
}

int
http_api_get_ok(const char *cmd)
{
	return in_list(get_cmds, NITEMS(get_cmds), cmd);
}

static int
text_ok(const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s;

	for (size_t i = 0; i < n; ) {
		size_t l;

		if (p[i] < 0x20 || p[i] == 0x7f)
			return 0;
		if ((l = utf8_seq_len(p + i, n - i)) == 0)
			return 0;
		i += l;
	}
	return 1;
}

/* Digits only, at most 18 of them (they fit json_int_t). */
static int
parse_digits(const char *s, json_int_t *ret)
{
	json_int_t v = 0;
	size_t n;

	for (n = 0; s[n] != '\0'; n++) {
		if (s[n] < '0' || s[n] > '9' || n >= 18)
			return -EINVAL;
		v = v * 10 + (s[n] - '0');
	}
	if (n == 0)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int
parse_bool(const char *s)
{
	static const char *const yes[] = { "", "true", "1", "yes", "on" };
	static const char *const no[] = { "false", "0", "no", "off" };

	if (in_list(yes, NITEMS(yes), s))
		return 1;
	if (in_list(no, NITEMS(no), s))
		return 0;
	return -EINVAL;
}

int
http_api_query_arg(json_t *args, const char *key, const char *value,
    char *err, size_t cap)
{
	json_t *v;
	json_int_t i;
	size_t kn, vn;
	int b;

	kn = strnlen(key, HTTP_API_KEY_MAX + 1);
	if (kn == 0 || kn > HTTP_API_KEY_MAX) {
		snprintf(err, cap, "argument names are 1 to %d characters",
		    HTTP_API_KEY_MAX);
		return -EINVAL;
	}
	for (size_t k = 0; k < kn; k++)
		if (!name_char(key[k], 0)) {
			snprintf(err, cap, "argument names are [a-z0-9_]");
			return -EINVAL;
		}
	if (json_object_get(args, key) != NULL) {
		snprintf(err, cap, "\"%s\" given twice", key);
		return -EINVAL;
	}
	if (json_object_size(args) >= HTTP_API_ARGS_MAX) {
		snprintf(err, cap, "at most %d arguments", HTTP_API_ARGS_MAX);
		return -EINVAL;
	}
	if (value == NULL)
		value = "";
	vn = strnlen(value, HTTP_API_VALUE_MAX + 1);
	if (vn > HTTP_API_VALUE_MAX || !text_ok(value, vn)) {
		snprintf(err, cap, "\"%s\": at most %d bytes of text", key,
		    HTTP_API_VALUE_MAX);
		return -EINVAL;
	}
	if (in_list(int_keys, NITEMS(int_keys), key)) {
		if (parse_digits(value, &i) < 0) {
			snprintf(err, cap, "\"%s\": a non-negative integer",
			    key);
			return -EINVAL;
		}
		v = json_integer(i);
	} else if (in_list(bool_keys, NITEMS(bool_keys), key)) {
		if ((b = parse_bool(value)) < 0) {
			snprintf(err, cap, "\"%s\": true or false", key);
			return -EINVAL;
		}
		v = json_boolean(b);
	} else if (in_list(num_or_str_keys, NITEMS(num_or_str_keys), key) &&
	    parse_digits(value, &i) == 0) {
		v = json_integer(i);
	} else {
		if (vn == 0) {
			snprintf(err, cap, "\"%s\": a value is needed", key);
			return -EINVAL;
		}
		v = json_stringn(value, vn);
	}
	if (v == NULL || json_object_set_new(args, key, v) < 0) {
		snprintf(err, cap, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

int
http_api_body_args(const char *buf, size_t len, json_t **ret_args,
    char *err, size_t cap)
{
	json_error_t jerr;
	json_t *j;
	size_t i;

	if (len > HTTP_API_BODY_MAX) {
		snprintf(err, cap, "body: at most %d bytes", HTTP_API_BODY_MAX);
		return -E2BIG;
	}
	for (i = 0; i < len; i++)
		if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\r' &&
		    buf[i] != '\n')
			break;
	if (i == len) {
		if ((*ret_args = json_object()) == NULL) {
			snprintf(err, cap, "out of memory");
			return -ENOMEM;
		}
		return 0;
	}
	if ((j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		snprintf(err, cap, "body: line %d column %d: %s", jerr.line,
		    jerr.column, jerr.text);
		return -EINVAL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		snprintf(err, cap, "body: a JSON object is expected");
		return -EINVAL;
	}
	*ret_args = j;
	return 0;
}

char *
http_api_answer(int r, const json_t *result, const char *err,
    unsigned *ret_status)
{
	int code = -r;

	if (r == 0) {
		*ret_status = 200;
		return ctl_resp_ok(result);
	}
	if (code < 400 || code > 599)
		code = CTL_E_INTERNAL;
	*ret_status = (unsigned)code;
	return ctl_resp_err(code, err != NULL && err[0] != '\0' ? err :
	    "failed");
}
