/*
 * `sipwall check [--print] FILE` (OPS3).  Loads FILE with the same
 * code the daemon uses, so "ok" here means the daemon will accept it.
 * FILE "-" reads standard input (at most CONF_MAX_FILE bytes).
 *
 * TLS listeners' certificates, keys and CA bundles are loaded too
 * (conf/tls_load.h), relative to FILE's directory.
 *
 * Output: "FILE: ok" on stdout, or with --print the effective config
 * as canonical YAML (every key, defaults included); errors go to
 * stderr, one "file:line:col: message" per line.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd_check.h"
#include "conf/conf.h"
#include "policy/destpol.h"
#include "policy/scanner.h"
#include "conf/tls_load.h"

static void
check_usage(FILE *f)
{
	fprintf(f,
	    "usage: sipwall check [--print] FILE\n"
	    "\n"
	    "Check a sipwall config file and report every error as\n"
	    "file:line:col: message.  FILE - reads standard input.\n"
	    "\n"
	    "  -p, --print   print the effective config (canonical YAML,\n"
	    "                defaults included) instead of \"FILE: ok\"\n"
	    "  -h, --help    show this help\n");
}

/* Read all of stdin, at most CONF_MAX_FILE + 1 bytes. */
static int
read_stdin(char **ret_buf, size_t *ret_len)
{
	size_t len = 0, cap = (size_t)CONF_MAX_FILE + 1;
	char *buf;

	if ((buf = malloc(cap)) == NULL)
		return -ENOMEM;
	while (len < cap) {
		ssize_t n = read(STDIN_FILENO, buf + len, cap - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = -errno;

			free(buf);
			return r;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}

/* A list file the config names, refused at its key. */
static int
list_error(const char *path, const char *key, const struct conf_mark *at,
    const char *err)
{
	fflush(stdout);
	fprintf(stderr, "%s:%u:%u: %s: %s\n", path, at->line, at->col, key,
	    err);
	return -EINVAL;
}

static int
lists_check(const struct sw_conf *conf, const char *path)
{
	char file[CONF_DIR_MAX + CONF_PATH_MAX + 2], err[CONF_DIAG_LEN];
	struct destpol *pol;
	struct scan_db *db = NULL;

	if (destpol_from_conf(conf, &pol, err, sizeof(err)) < 0)
		return list_error(path, "policy.high_risk_file",
		    &conf->policy.high_risk_file_at, err);
	destpol_free(pol);
	if (conf->scanner.signatures[0] == '\0')
		return 0;
	if (conf_path_resolve(conf, conf->scanner.signatures, file,
	    sizeof(file)) < 0)
		return list_error(path, "scanner.signatures",
		    &conf->scanner.signatures_at, "path too long");
	if (scan_db_load(file, &db, err, sizeof(err)) < 0)
		return list_error(path, "scanner.signatures",
		    &conf->scanner.signatures_at, err);
	scan_db_free(db);
	return 0;
}

int
cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "print",	no_argument,	NULL,	'p' },
		{ "help",	no_argument,	NULL,	'h' },
		{ NULL,		0,		NULL,	0 }
	};
	struct conf_diag diag;
	struct sw_conf *conf = NULL;
	const char *path;
	int ch, print = 0, r;

	opterr = 0;
	optind = 0;		/* restart getopt: the caller may have used it */
	while ((ch = getopt_long(argc, argv, "ph", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			print = 1;
			break;
		case 'h':
			check_usage(stdout);
			return 0;
		default:
			if (optopt != 0)
				fprintf(stderr, "sipwall check: unknown option "
				    "'-%c'\n", optopt);
			else
				fprintf(stderr, "sipwall check: unknown option "
				    "'%s'\n", argv[optind - 1]);
			check_usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "sipwall check: %s\n", argc - optind == 0 ?
		    "missing FILE" : "only one FILE at a time");
		check_usage(stderr);
		return 2;
	}
	path = argv[optind];

	conf_diag_init(&diag);
	if (strcmp(path, "-") == 0) {
		char *buf = NULL;
		size_t len = 0;

		if ((r = read_stdin(&buf, &len)) < 0) {
			fprintf(stderr, "<stdin>: cannot read: %s\n",
			    strerror(-r));
			return 1;
		}
		r = conf_load_buf("<stdin>", buf, len, &conf, &diag);
		free(buf);
	} else
		r = conf_load(path, &conf, &diag);
	/* the TLS files load exactly as the daemon will load them */
	if (r == 0 && ((r = conf_tls_load(conf, strcmp(path, "-") == 0 ?
	    "<stdin>" : path, NULL, &diag)) < 0 ||
	    (r = conf_tls_load_trunks(conf, strcmp(path, "-") == 0 ?
	    "<stdin>" : path, NULL, &diag)) < 0 ||
	    (r = conf_tls_load_targets(conf, strcmp(path, "-") == 0 ?
	    "<stdin>" : path, NULL, &diag)) < 0))
		conf_free(conf);
	if (r < 0) {
		fflush(stdout);
		conf_diag_print(stderr, &diag);
		return 1;
	}
	/* the high-risk list and the extra scanner signatures load exactly
	 * as the daemon will load them */
	if (lists_check(conf, path) < 0) {
		conf_free(conf);
		return 1;
	}

	if (print)
		r = conf_print(stdout, conf);
	else {
		/* OPS3: accepted risks stay visible at every check */
		printf("%s: ok", path);
		for (size_t i = 0; i < conf->nacks; i++)
			printf("%s%s", i == 0 ? " (acknowledged: " : ", ",
			    conf->acks[i]);
		printf("%s\n", conf->nacks > 0 ? ")" : "");
		r = fflush(stdout) != 0 ? -EIO : 0;
	}
	conf_free(conf);
	if (r < 0) {
		fprintf(stderr, "sipwall check: cannot write output: %s\n",
		    strerror(-r));
		return 1;
	}
	return 0;
}
