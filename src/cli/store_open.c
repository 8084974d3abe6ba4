/*
 * Finding the store for the operator commands (see store_open.h), and
 * their shared output helpers.
 */
#include <stdarg.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/store_open.h"

int
cli_store_open(const char *conf_path, const char *dir, bool create,
    struct cli_store *ret)
{
	struct sw_conf defaults, *conf = NULL;
	const struct sw_conf *use;
	const char *state_dir;
	char msg[256];
	int n, r;

	memset(ret, 0, sizeof(*ret));
	if (conf_path == NULL && access(CLI_DEFAULT_CONFIG, F_OK) == 0)
		conf_path = CLI_DEFAULT_CONFIG;
	if (conf_path != NULL) {
		struct conf_diag *diag = malloc(sizeof(*diag));

		if (diag == NULL) {
			fprintf(stderr, "sipwall: out of memory\n");
			return 1;
		}
		conf_diag_init(diag);
		if ((r = conf_load(conf_path, &conf, diag)) < 0) {
			fprintf(stderr, "sipwall: cannot load config '%s':\n",
			    conf_path);
			conf_diag_print(stderr, diag);
			free(diag);
			return 1;
		}
		free(diag);
		use = conf;
	} else if (dir != NULL) {
		conf_defaults(&defaults);
		use = &defaults;
	} else {
		fprintf(stderr, "sipwall: no store: give -c FILE or -D DIR "
		    "(there is no %s)\n", CLI_DEFAULT_CONFIG);
		return 1;
	}

	state_dir = dir != NULL ? dir : use->node.state_dir;
	if (use->store.path[0] == '/')
		n = snprintf(ret->path, sizeof(ret->path), "%s", use->store.path);
	else
		n = snprintf(ret->path, sizeof(ret->path), "%s/%s", state_dir,
		    use->store.path);
	snprintf(ret->node, sizeof(ret->node), "%s", use->node.name);
	conf_free(conf);
	if (n < 0 || (size_t)n >= sizeof(ret->path)) {
		fprintf(stderr, "sipwall: store path too long\n");
		return 1;
	}

	r = store_open_diag(ret->path, create ? STORE_CREATE : 0, &ret->st,
	    msg, sizeof(msg));
	if (r == -ENOENT && !create) {
		fprintf(stderr, "sipwall: no store at '%s' (wrong -c/-D? "
		    "'sipwall account add' creates it)\n", ret->path);
		return 1;
	}
	if (r < 0) {
		fprintf(stderr, "sipwall: cannot open store '%s': %s\n",
		    ret->path, msg[0] != '\0' ? msg : store_strerror(r));
		return 1;
	}
	return 0;
}

void
cli_store_close(struct cli_store *cs)
{
	store_close(cs->st);
	cs->st = NULL;
}

const char *
cli_time_str(int64_t t, char *buf, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, cap, "%lld", (long long)t);
	return buf;
}

int
cli_json_print(json_t *j)
{
	int r = 0;

	if (j == NULL || json_dumpf(j, stdout, JSON_INDENT(2) |
	    JSON_PRESERVE_ORDER) < 0 || fputc('\n', stdout) == EOF)
		r = 1;
	json_decref(j);
	if (fflush(stdout) != 0)
		r = 1;
	if (r != 0)
		fprintf(stderr, "sipwall: cannot write JSON output\n");
	return r;
}

/* Blocks carry their size in front so that free can wipe them. */
union wipe_hdr {
	size_t		n;
	max_align_t	align;
};

static void *
wipe_malloc(size_t n)
{
	union wipe_hdr *h;

	if (n > SIZE_MAX - sizeof(*h) || (h = malloc(sizeof(*h) + n)) == NULL)
		return NULL;
	h->n = n;
	return h + 1;
}

static void
wipe_free(void *p)
{
	union wipe_hdr *h;

	if (p == NULL)
		return;
	h = (union wipe_hdr *)p - 1;
	explicit_bzero(p, h->n);
	free(h);
}

void
cli_json_wipe_on_free(void)
{
	json_set_alloc_funcs(wipe_malloc, wipe_free);
}

int
cli_bad_usage(const char *cmd, void (*usage)(FILE *), const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sipwall %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	usage(stderr);
	return 2;
}

int
cli_parse_count(const char *s, size_t max, size_t *ret)
{
	size_t v = 0;

	if (*s == '\0')
		return -EINVAL;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (size_t)(*s - '0');
		if (v > max)
			return -EINVAL;
	}
	if (v == 0)
		return -EINVAL;
	*ret = v;
	return 0;
}

int
cli_list_done(int r, json_t *arr, size_t n, bool json, const char *what)
{
	if (r != 0) {
		json_decref(arr);
		fflush(stdout);
		fprintf(stderr, "sipwall: cannot list %s: %s\n", what,
		    store_strerror(r));
		return 1;
	}
	if (json)
		return cli_json_print(arr);
	json_decref(arr);
	if (n == 0)
		printf("no %s\n", what);
	return fflush(stdout) != 0;
}
