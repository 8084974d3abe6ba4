/*
 * The live commands (see cmd_ctl.h): find the control socket, send one
 * request line, print the answer as a table or (--json) as it came.
 * The daemon does the checking; this side checks only what it can say
 * more helpfully (usage, an address, a duration) before connecting.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "admin/ctl_proto.h"
#include "cli/cmd_ban.h"
#include "cli/cmd_ctl.h"
#include "cli/cmd_calls.h"
#include "cli/store_open.h"
#include "core/num.h"
#include "obs/evring.h"
#include "store/store.h"

#define CTL_ANSWER_MAX	(64u << 20)	/* one answer line */

struct ctl_opts {
	const char	*conf;
	const char	*dir;
	const char	*account;
	const char	*reason;
	int64_t		 for_s;
	int		 json, follow, all;
	int		 npos;
	char		**pos;
	/* calls --live, top, evidence, recent, alerts */
	int		 live, by_call_id, has_n;
	uint32_t	 n;
	int64_t		 window_s;
	const char	*out;
	const char	*min_sev;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: sipwall COMMAND [-c FILE] [-D DIR] [--json] [ARGS]\n"
	    "commands for the running daemon (its control socket):\n"
	    "  status                      version, uptime, calls, registrations,\n"
	    "                              bans, media, events\n"
	    "  reload                      reload the config (as SIGHUP)\n"
	    "  lockdown [on|off]           contain: only allow-listed sources\n"
	    "                              register, no international calls\n"
	    "  ban ADDR|PREFIX [--for DURATION] [--reason TEXT]\n"
	    "                              ban now (permanent without --for)\n"
	    "  unban ADDR|PREFIX           lift a ban now\n"
	    "  bans [--all]                bans in force (--all: remembered too)\n"
	    "  registrations [USER]        current registrations\n"
	    "  hangup CALL-ID | --account USER\n"
	    "                              end calls (BYE on both legs)\n"
	    "  kick USER                   remove USER's registrations\n"
	    "  freeze PREFIX               stop calls to an E.164 prefix now\n"
	    "  unfreeze PREFIX             release a frozen prefix\n"
	    "  frozen                      the frozen prefixes\n"
	    "  events --follow             print events as they are written\n"
	    "  calls --live [--account USER]\n"
	    "                              the calls up or ringing now, with\n"
	    "                              zones, encryption, loss and jitter\n"
	    "                              (without --live: the store's records)\n"
	    "  top [-n N] [--window D]     top offending sources and accounts\n"
	    "                              of the last 10 minutes (or D), why\n"
	    "  evidence ADDR[:PORT]|CALL-ID [--call-id] [-n N] [--out FILE]\n"
	    "                              the events kept for a source or a\n"
	    "                              call, wire samples included; --out\n"
	    "                              writes them as JSON lines\n"
	    "  recent [-n N] [--min-severity SEV]\n"
	    "                              the last N events (100; at most 1000)\n"
	    "  alerts [-n N]               the last alerts raised and cleared\n"
	    "  rates                       key rates: this window, baseline and\n"
	    "                              the last 60 windows\n"
	    "\n"
	    "  -c, --config FILE   config file (default %s)\n"
	    "  -D, --dir DIR       state directory, overrides node.state_dir\n"
	    "  --json              print the daemon's answer as JSON\n",
	    CLI_DEFAULT_CONFIG);
}

static int
bad_usage(const char *cmd, const char *why)
{
	fprintf(stderr, "sipwall %s: %s\n", cmd, why);
	usage(stderr);
	return 2;
}

/* ---- finding and talking to the daemon ---- */

/* The socket's path from -c / -D (as the store is found).  0, 1
 * (printed why), or -1 when the socket is off and quiet is set. */
static int
ctl_path(const char *conf_path, const char *dir, char *buf, size_t cap,
    int quiet)
{
	struct sw_conf *conf = NULL, *use;
	struct conf_diag *diag;
	const char *sd;
	int n;

	if (conf_path == NULL && access(CLI_DEFAULT_CONFIG, F_OK) == 0)
		conf_path = CLI_DEFAULT_CONFIG;
	if (conf_path == NULL && dir == NULL) {
		fprintf(stderr, "sipwall: no daemon to talk to: give -c FILE or "
		    "-D DIR (there is no %s)\n", CLI_DEFAULT_CONFIG);
		return 1;
	}
	if ((diag = malloc(sizeof(*diag))) == NULL ||
	    (use = malloc(sizeof(*use))) == NULL) {
		free(diag);
		fprintf(stderr, "sipwall: out of memory\n");
		return 1;
	}
	conf_diag_init(diag);
	if (conf_path != NULL) {
		if (conf_load(conf_path, &conf, diag) < 0) {
			fprintf(stderr, "sipwall: cannot load config '%s':\n",
			    conf_path);
			conf_diag_print(stderr, diag);
			free(diag);
			free(use);
			return 1;
		}
		memcpy(use, conf, sizeof(*use));
		conf_free(conf);
	} else
		conf_defaults(use);
	free(diag);
	sd = dir != NULL ? dir : use->node.state_dir;
	if (use->admin.socket[0] == '\0') {
		if (!quiet)
			fprintf(stderr, "sipwall: the control socket is off "
			    "(admin.socket is empty)\n");
		free(use);
		return quiet ? -1 : 1;
	}
	n = use->admin.socket[0] == '/' ? snprintf(buf, cap, "%s",
	    use->admin.socket) : snprintf(buf, cap, "%s/%s", sd,
	    use->admin.socket);
	free(use);
	if (n < 0 || (size_t)n >= cap) {
		fprintf(stderr, "sipwall: control socket path too long\n");
		return 1;
	}
	return 0;
}

/* Connect; -errno (nothing printed). */
static int
ctl_connect(const char *path)
{
	struct sockaddr_un sa;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

static int
send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One line (without '\n') into a malloc'd *ret; its length, or -1 at
 * EOF or error before a whole line. */
static ssize_t
read_line(int fd, char **ret)
{
	char *buf = NULL, *nb;
	size_t len = 0, cap = 0;

	for (;;) {
		ssize_t n;

		if (len == cap) {
			if (cap >= CTL_ANSWER_MAX ||
			    (nb = realloc(buf, cap ? 2 * cap : 4096)) == NULL) {
				free(buf);
				return -1;
			}
			buf = nb;
			cap = cap ? 2 * cap : 4096;
		}
		/* a byte at a time would be slow; a whole line is ours, and
		 * a follower reads the rest with read_line again, so peek */
		n = recv(fd, buf + len, cap - len, MSG_PEEK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return -1;
		}
		{
			char *nl = memchr(buf + len, '\n', (size_t)n);
			size_t take = nl ? (size_t)(nl - (buf + len)) + 1 :
			    (size_t)n;

			if (recv(fd, buf + len, take, 0) != (ssize_t)take) {
				free(buf);
				return -1;
			}
			len += take;
			if (nl != NULL) {
				buf[len - 1] = '\0';
				*ret = buf;
				return (ssize_t)(len - 1);
			}
		}
	}
}

/*
 * Send cmd/args (args released) and read the answer.  0 with *ret
 * (result), the exit status (1: printed why), or -1 with quiet_absent
 * when no daemon is there to ask (nothing printed).  *ret_fd (may be
 * NULL) keeps the connection open for a stream.
 */
static int
ctl_call(const struct ctl_opts *o, const char *cmd, json_t *args,
    json_t **ret, int *ret_fd, int quiet_absent)
{
	char path[PATH_MAX], err[512], *req, *line = NULL;
	ssize_t n;
	int fd, r;

	if ((r = ctl_path(o->conf, o->dir, path, sizeof(path),
	    quiet_absent)) != 0) {
		json_decref(args);
		return r;
	}
	req = ctl_req_format(cmd, args);
	json_decref(args);
	if (req == NULL) {
		fprintf(stderr, "sipwall: out of memory\n");
		return 1;
	}
	if ((fd = ctl_connect(path)) < 0) {
		free(req);
		if (quiet_absent && (fd == -ENOENT || fd == -ECONNREFUSED))
			return -1;
		fprintf(stderr, "sipwall: no daemon answers on %s: %s%s\n",
		    path, strerror(-fd), fd == -ENOENT || fd ==
		    -ECONNREFUSED ? " (is sipwalld running? wrong -c/-D?)" : "");
		return 1;
	}
	r = send_all(fd, req, strlen(req));
	free(req);
	if (r < 0 || (n = read_line(fd, &line)) < 0) {
		fprintf(stderr, "sipwall: the daemon closed the connection\n");
		close(fd);
		return 1;
	}
	r = ctl_resp_parse(line, (size_t)n, ret, err, sizeof(err));
	free(line);
	if (r != 0) {
		fprintf(stderr, "sipwall %s: %s\n", cmd, err);
		close(fd);
		return 1;
	}
	if (ret_fd != NULL)
		*ret_fd = fd;
	else
		close(fd);
	return 0;
}

/* ---- output ---- */

static const char *
jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "-";
}

static long long
jint(const json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

/* "calls.active: 3" for every leaf of an object. */
static void
print_flat(const char *prefix, const json_t *j)
{
	const char *k;
	json_t *v;
	char key[128];

	json_object_foreach((json_t *)j, k, v) {
		snprintf(key, sizeof(key), "%s%s%s", prefix, prefix[0] ? "." :
		    "", k);
		if (json_is_object(v))
			print_flat(key, v);
		else if (json_is_string(v))
			printf("%-28s %s\n", key, json_string_value(v));
		else if (json_is_integer(v))
			printf("%-28s %lld\n", key, json_integer_value(v));
		else if (json_is_boolean(v))
			printf("%-28s %s\n", key, json_is_true(v) ? "yes" : "no");
		else if (json_is_null(v))
			printf("%-28s -\n", key);
	}
}

static void
print_bans(const json_t *r)
{
	const json_t *a = json_object_get(r, "bans");
	char until[32];
	size_t i;
	json_t *b;

	printf("%-40s %-22s %-8s %-21s %s\n", "KEY", "REASON", "STRIKES",
	    "UNTIL", "HITS");
	json_array_foreach(a, i, b) {
		long long u = jint(b, "until");

		printf("%-40s %-22s %-8lld %-21s %lld\n", jstr(b, "key"),
		    jstr(b, "reason"), jint(b, "strikes"), u == 0 ? "forever" :
		    cli_time_str(u, until, sizeof(until)), jint(b, "hits"));
	}
	if (json_array_size(a) == 0)
		printf("(no bans)\n");
}

static void
print_regs(const json_t *r)
{
	const json_t *a = json_object_get(r, "registrations");
	size_t i;
	json_t *b;

	printf("%-32s %-24s %-5s %-8s %s\n", "AOR", "SOURCE", "PROTO",
	    "EXPIRES", "CONTACT");
	json_array_foreach(a, i, b)
		printf("%-32s %-24s %-5s %-8lld %s\n", jstr(b, "aor"),
		    jstr(b, "source"), jstr(b, "transport"),
		    jint(b, "expires_in"), jstr(b, "contact"));
	if (json_array_size(a) == 0)
		printf("(no registrations)\n");
}


/* A peer's bytes for a terminal: printable ASCII as it is, the rest as
 * \xNN (\r \n \t by name), at most max bytes of s. */
static void
put_safe(const char *s, size_t max)
{
	size_t n = 0;

	for (; s != NULL && s[n] != '\0' && n < max; n++) {
		unsigned char ch = (unsigned char)s[n];

		if (ch == '\r')
			fputs("\\r", stdout);
		else if (ch == '\n')
			fputs("\\n", stdout);
		else if (ch == '\t')
			fputs("\\t", stdout);
		else if (ch == '\\')
			fputs("\\\\", stdout);
		else if (ch < 0x20 || ch >= 0x7f)
			printf("\\x%02x", ch);
		else
			putchar(ch);
	}
	if (s != NULL && n == max && s[n] != '\0')
		fputs("...", stdout);
}

/* "k=v" of a wire string, when the event has it. */
static void
put_field(const json_t *e, const char *k)
{
	const char *v = json_string_value(json_object_get(e, k));

	if (v == NULL)
		return;
	printf(" %s=", k);
	put_safe(v, 128);
}

/* One event on one line, its wire sample on the next. */
static void
print_event(const json_t *e)
{
	const char *src = json_string_value(json_object_get(e, "src"));
	const char *sample = json_string_value(json_object_get(e, "sample"));
	long long sport = jint(e, "sport");
	char where[80];

	if (src == NULL)
		snprintf(where, sizeof(where), "-");
	else if (sport > 0 && strchr(src, ':') != NULL)
		snprintf(where, sizeof(where), "[%s]:%lld", src, sport);
	else if (sport > 0)
		snprintf(where, sizeof(where), "%s:%lld", src, sport);
	else
		snprintf(where, sizeof(where), "%s", src);
	printf("%s %-7s %-22s %-22s", jstr(e, "ts"), jstr(e, "sev"),
	    jstr(e, "type"), where);
	put_field(e, "reason");
	if (jint(e, "status") > 0)
		printf(" status=%lld", jint(e, "status"));
	put_field(e, "method");
	put_field(e, "account");
	put_field(e, "call_id");
	put_field(e, "user_agent");
	if (jint(e, "suppressed") > 0)
		printf(" (+%lld suppressed)", jint(e, "suppressed"));
	putchar('\n');
	if (sample != NULL) {
		fputs("    | ", stdout);
		put_safe(sample, 1024);
		putchar('\n');
	}
}

/* How far back the evidence ring reaches, when it matters. */
static void
print_reach(const json_t *r)
{
	long long oldest = jint(r, "oldest_ms");
	char t[32];

	if (json_is_true(json_object_get(r, "truncated")))
		printf("(more matched: the newest are shown; -n raises the "
		    "bound)\n");
	if (!json_is_true(json_object_get(r, "complete")) && oldest > 0)
		printf("(the daemon keeps the last events only: it reaches "
		    "back to %s, older ones were dropped)\n",
		    cli_time_str(oldest / 1000, t, sizeof(t)));
}

static void
print_events(const json_t *r, int evidence)
{
	const json_t *a = json_object_get(r, "events");
	size_t i;
	json_t *e;

	json_array_foreach(a, i, e)
		print_event(e);
	if (!evidence) {
		if (json_array_size(a) == 0)
			printf("(no events)\n");
		return;
	}
	printf("%zu event%s (of %lld kept)\n", json_array_size(a),
	    json_array_size(a) == 1 ? "" : "s", jint(r, "scanned"));
	print_reach(r);
}

static const char *
media_str(const json_t *c, char *buf, size_t cap)
{
	const char *a = jstr(c, "enc_a"), *b = jstr(c, "enc_b");

	snprintf(buf, cap, "%s/%s", a[0] != '\0' ? a : "?",
	    b[0] != '\0' ? b : "?");
	return buf;
}

static void
print_calls(const json_t *r)
{
	const json_t *a = json_object_get(r, "calls");
	char when[16], dur[32], media[24], fromto[64], zones[48];
	size_t i;
	json_t *c;

	printf("%-8s %-7s %8s %-12s %-24s %-24s %-17s %-9s %s\n", "STARTED",
	    "STATE", "DURATION", "ACCOUNT", "FROM -> TO", "SOURCE",
	    "ZONES", "MEDIA", "LOSS JITTER (A B)");
	json_array_foreach(a, i, c) {
		time_t t = (time_t)(jint(c, "started_ms") / 1000);
		long long d = jint(c, "duration_s");
		struct tm tm;

		if (localtime_r(&t, &tm) == NULL ||
		    strftime(when, sizeof(when), "%H:%M:%S", &tm) == 0)
			snprintf(when, sizeof(when), "-");
		if (json_is_null(json_object_get(c, "answered_ms")))
			snprintf(dur, sizeof(dur), "-");
		else
			snprintf(dur, sizeof(dur), "%lld:%02lld:%02lld",
			    d / 3600, d / 60 % 60, d % 60);
		snprintf(fromto, sizeof(fromto), "%s -> %s", jstr(c, "from"),
		    jstr(c, "to"));
		snprintf(zones, sizeof(zones), "%s/%s", jstr(c, "zone_a"),
		    jstr(c, "zone_b"));
		printf("%-8s %-7s %8s %-12s %-24s %-24s %-17s %-9s "
		    "%.1f%% %.1fms  %.1f%% %.1fms\n", when, jstr(c, "state"),
		    dur, jstr(c, "account"), fromto, jstr(c, "src"), zones,
		    media_str(c, media, sizeof(media)),
		    json_number_value(json_object_get(c, "loss_a")),
		    json_number_value(json_object_get(c, "jitter_a_ms")),
		    json_number_value(json_object_get(c, "loss_b")),
		    json_number_value(json_object_get(c, "jitter_b_ms")));
	}
	if (json_array_size(a) == 0)
		printf("(no calls)\n");
	if (jint(r, "workers_answered") < jint(r, "workers"))
		printf("(%lld of %lld workers answered in time: calls may be "
		    "missing)\n", jint(r, "workers_answered"),
		    jint(r, "workers"));
	if (json_is_true(json_object_get(r, "truncated")))
		printf("(more calls than one listing holds)\n");
}

static void
print_top_list(const json_t *a, const char *what, const char *title)
{
	size_t i;
	json_t *x;

	printf("%-40s %8s  %s\n", title, "COUNT", "REASONS");
	json_array_foreach(a, i, x) {
		const char *k;
		json_t *v;
		int first = 1;

		printf("%-40s %8lld  ", jstr(x, what), jint(x, "count"));
		json_object_foreach(json_object_get(x, "reasons"), k, v) {
			printf("%s%s=%lld", first ? "" : ", ", k,
			    json_integer_value(v));
			first = 0;
		}
		putchar('\n');
	}
	if (json_array_size(a) == 0)
		printf("(none)\n");
}

static void
print_top(const json_t *r)
{
	printf("offences of the last %lld s\n", jint(r, "window_s"));
	print_top_list(json_object_get(r, "sources"), "src", "SOURCE");
	putchar('\n');
	print_top_list(json_object_get(r, "accounts"), "account", "ACCOUNT");
}

static void
print_alerts(const json_t *r)
{
	const json_t *a = json_object_get(r, "alerts");
	char t[32], bl[24], lim[24];
	size_t i;
	json_t *x;

	if (!json_is_true(json_object_get(r, "enabled"))) {
		printf("alerts are off (alerts.enabled)\n");
		return;
	}
	printf("%-20s %-8s %-11s %-32s %8s %9s %7s %s\n", "AT", "EVENT",
	    "RULE", "KEY", "COUNT", "BASELINE", "LIMIT", "ACTIVE");
	json_array_foreach(a, i, x) {
		json_t *b = json_object_get(x, "baseline");

		if (json_is_number(b))
			snprintf(bl, sizeof(bl), "%.2f", json_number_value(b));
		else
			snprintf(bl, sizeof(bl), "-");
		if (jint(x, "limit") > 0)
			snprintf(lim, sizeof(lim), "%lld", jint(x, "limit"));
		else
			snprintf(lim, sizeof(lim), "-");
		printf("%-20s %-8s %-11s %-32s %8lld %9s %7s %s\n",
		    cli_time_str(jint(x, "at") / 1000, t, sizeof(t)),
		    jstr(x, "event"), jstr(x, "rule"), jstr(x, "key"),
		    jint(x, "count"), bl, lim, json_is_true(json_object_get(x,
		    "active")) ? "yes" : "no");
	}
	if (json_array_size(a) == 0)
		printf("(no alerts since the daemon started)\n");
}

static void
print_rates(const json_t *r)
{
	const json_t *a = json_object_get(r, "rates");
	size_t i;
	json_t *x;

	if (!json_is_true(json_object_get(r, "enabled")))
		printf("alerts are off (alerts.enabled): the rates are "
		    "learned, nothing is raised\n");
	if (json_array_size(a) == 0)
		return;
	printf("%-20s %8s %9s  %s\n", "METRIC", "CURRENT", "BASELINE",
	    "LAST WINDOWS (oldest first)");
	json_array_foreach(a, i, x) {
		const json_t *h = json_object_get(x, "history");
		json_t *b = json_object_get(x, "baseline"), *p;
		size_t n = json_array_size(h), j;
		char bl[24];

		if (json_is_number(b))
			snprintf(bl, sizeof(bl), "%.2f", json_number_value(b));
		else
			snprintf(bl, sizeof(bl), "-");
		printf("%-20s %8lld %9s ", jstr(x, "metric"),
		    jint(x, "current"), bl);
		json_array_foreach(h, j, p)
			if (j + 12 >= n)	/* the last 12 */
				printf(" %lld", jint(p, "count"));
		putchar('\n');
	}
}

static int
print_result(const struct ctl_opts *o, const char *cmd, json_t *r)
{
	if (o->json)
		return cli_json_print(r);
	if (strcmp(cmd, "status") == 0)
		print_flat("", r);
	else if (strcmp(cmd, "reload") == 0)
		printf("reload: %s\n", json_object_get(r, "message") != NULL ?
		    jstr(r, "message") : jstr(r, "outcome"));
	else if (strcmp(cmd, "lockdown") == 0)
		printf("lockdown %s\n", json_is_true(json_object_get(r,
		    "lockdown")) ? "on" : "off");
	else if (strcmp(cmd, "ban") == 0)
		printf("%s %s\n", json_is_true(json_object_get(r, "already")) ?
		    "already banned:" : "banned", jstr(r, "key"));
	else if (strcmp(cmd, "unban") == 0)
		printf("unbanned %s\n", jstr(r, "key"));
	else if (strcmp(cmd, "bans") == 0)
		print_bans(r);
	else if (strcmp(cmd, "registrations") == 0)
		print_regs(r);
	else if (strcmp(cmd, "hangup") == 0)
		printf("%lld call%s ended\n", jint(r, "ended"),
		    jint(r, "ended") == 1 ? "" : "s");
	else if (strcmp(cmd, "kick") == 0)
		printf("%lld registration%s of %s removed\n", jint(r, "removed"),
		    jint(r, "removed") == 1 ? "" : "s", jstr(r, "aor"));
	else if (strcmp(cmd, "freeze") == 0)
		printf("frozen %s: calls there get 403 now\n", jstr(r, "frozen"));
	else if (strcmp(cmd, "unfreeze") == 0)
		printf("released %s\n", jstr(r, "released"));
	else if (strcmp(cmd, "frozen") == 0) {
		json_t *a = json_object_get(r, "frozen"), *b;
		size_t i;

		json_array_foreach(a, i, b)
			printf("%s\n", json_string_value(b));
		if (json_array_size(a) == 0)
			printf("(nothing frozen)\n");
	} else if (strcmp(cmd, "calls") == 0)
		print_calls(r);
	else if (strcmp(cmd, "top") == 0)
		print_top(r);
	else if (strcmp(cmd, "evidence") == 0 || strcmp(cmd, "recent") == 0)
		print_events(r, cmd[0] == 'e');
	else if (strcmp(cmd, "alerts") == 0)
		print_alerts(r);
	else if (strcmp(cmd, "rates") == 0)
		print_rates(r);
	json_decref(r);
	return fflush(stdout) != 0;
}

/* events --follow: copy lines to stdout until the daemon goes. */
static int
follow(int fd)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n ||
		    fflush(stdout) != 0)
			break;
	}
	close(fd);
	return 0;
}

/* ---- arguments ---- */

static int
parse_opts(int argc, char **argv, struct ctl_opts *o)
{
	static const struct option longopts[] = {
		{ "config",	required_argument, NULL, 'c' },
		{ "dir",	required_argument, NULL, 'D' },
		{ "json",	no_argument,	   NULL, 'j' },
		{ "for",	required_argument, NULL, 'f' },
		{ "reason",	required_argument, NULL, 'r' },
		{ "account",	required_argument, NULL, 'a' },
		{ "follow",	no_argument,	   NULL, 'F' },
		{ "all",	no_argument,	   NULL, 'A' },
		{ "live",	no_argument,	   NULL, 'L' },
		{ "call-id",	no_argument,	   NULL, 'I' },
		{ "out",	required_argument, NULL, 'o' },
		{ "min-severity", required_argument, NULL, 's' },
		{ "window",	required_argument, NULL, 'w' },
		{ "limit",	required_argument, NULL, 'n' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL,		0,		   NULL, 0 }
	};
	int ch;

	memset(o, 0, sizeof(*o));
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:D:hn:", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'L':	o->live = 1;		break;
		case 'I':	o->by_call_id = 1;	break;
		case 'o':	o->out = optarg;	break;
		case 's':	o->min_sev = optarg;	break;
		case 'n':
			if (parse_u32(slice_cstr(optarg), 100000, &o->n) < 0 ||
			    o->n == 0)
				return bad_usage(argv[0], "-n: a number, 1 or "
				    "more");
			o->has_n = 1;
			break;
		case 'w':
			if (cli_parse_duration(optarg, &o->window_s) < 0 ||
			    o->window_s < 1 || o->window_s > 600)
				return bad_usage(argv[0], "--window: a duration "
				    "up to 10m, like 90s or 5m");
			break;
		case 'c':	o->conf = optarg;	break;
		case 'D':	o->dir = optarg;	break;
		case 'j':	o->json = 1;		break;
		case 'F':	o->follow = 1;		break;
		case 'A':	o->all = 1;		break;
		case 'a':	o->account = optarg;	break;
		case 'r':	o->reason = optarg;	break;
		case 'f':
			if (cli_parse_duration(optarg, &o->for_s) < 0)
				return bad_usage(argv[0], "--for: a duration "
				    "like 90s, 30m, 1h30m, 7d, 2w");
			break;
		case 'h':
			usage(stdout);
			return -1;
		case ':':
			return bad_usage(argv[0], "an option needs a value");
		default:
			return bad_usage(argv[0], "unknown option");
		}
	}
	o->pos = argv + optind;
	o->npos = argc - optind;
	return 0;
}

/* The options of the commands below, which the others refuse. */
#define NEW_OPTS(o) ((o)->live || (o)->by_call_id || (o)->has_n || \
	(o)->window_s || (o)->out != NULL || (o)->min_sev != NULL)

/* calls, top, evidence, recent, alerts, rates; NULL with *ret_rc set. */
static json_t *
build_args_new(const char *cmd, const struct ctl_opts *o, int *ret_rc)
{
	struct evring_query q;
	int n = o->npos, old = o->follow || o->all || o->reason || o->for_s;
	json_t *a;

	*ret_rc = 2;
	if (strcmp(cmd, "calls") == 0) {
		if (!o->live || n != 0 || old || o->by_call_id || o->has_n ||
		    o->window_s || o->out || o->min_sev)
			return (void)bad_usage(cmd, "calls --live [--account "
			    "USER]"), NULL;
		return o->account != NULL ? json_pack("{s:s}", "account",
		    o->account) : json_object();
	}
	if (strcmp(cmd, "top") == 0) {
		if (n != 0 || old || o->account || o->live || o->by_call_id ||
		    o->out || o->min_sev || (o->has_n && o->n > 256))
			return (void)bad_usage(cmd, "top [-n 1..256] [--window "
			    "D]"), NULL;
		return json_pack("{s:i, s:I}", "n", o->has_n ? (int)o->n : 10,
		    "window_s", (json_int_t)(o->window_s ? o->window_s : 600));
	}
	if (strcmp(cmd, "evidence") == 0) {
		if (n != 1 || old || o->account || o->live || o->window_s ||
		    o->min_sev || (o->has_n && o->n > 10000) ||
		    o->pos[0][0] == '\0')
			return (void)bad_usage(cmd, "one ADDRESS[:PORT] or "
			    "CALL-ID [--call-id] [-n 1..10000] [--out FILE]"),
			    NULL;
		memset(&q, 0, sizeof(q));
		/* an address unless told otherwise: a Call-ID that is only
		 * an address is rare, and --call-id says so */
		if (!o->by_call_id && evring_query_src(o->pos[0], &q) == 0)
			a = json_pack("{s:s}", "src", o->pos[0]);
		else if (strlen(o->pos[0]) > EVRING_CALL_ID_MAX)
			return (void)bad_usage(cmd, "a Call-ID is at most 128 "
			    "bytes"), NULL;
		else
			a = json_pack("{s:s}", "call_id", o->pos[0]);
		if (a != NULL && o->has_n)
			json_object_set_new(a, "max", json_integer(o->n));
		return a;
	}
	if (strcmp(cmd, "recent") == 0) {
		if (n != 0 || old || o->account || o->live || o->by_call_id ||
		    o->window_s || o->out || (o->has_n && o->n > 1000) ||
		    (o->min_sev != NULL && evring_sev_of(o->min_sev) < 0 &&
		    (o->min_sev[0] < '0' || o->min_sev[0] > '7' ||
		    o->min_sev[1] != '\0')))
			return (void)bad_usage(cmd, "recent [-n 1..1000] "
			    "[--min-severity emerg..debug]"), NULL;
		a = json_pack("{s:i}", "n", o->has_n ? (int)o->n : 100);
		if (a != NULL && o->min_sev != NULL)
			json_object_set_new(a, "min_severity",
			    evring_sev_of(o->min_sev) >= 0 ?
			    json_string(o->min_sev) :
			    json_integer(o->min_sev[0] - '0'));
		return a;
	}
	if (strcmp(cmd, "alerts") == 0 || strcmp(cmd, "rates") == 0) {
		int alerts = cmd[0] == 'a';

		if (n != 0 || old || o->account || o->live || o->by_call_id ||
		    o->window_s || o->out || o->min_sev || (o->has_n &&
		    (!alerts || o->n > 64)))
			return (void)bad_usage(cmd, alerts ? "alerts [-n 1..64]"
			    : "takes no arguments"), NULL;
		return alerts && o->has_n ? json_pack("{s:i}", "n",
		    (int)o->n) : json_object();
	}
	return (void)bad_usage(cmd, "unknown command"), NULL;
}

/* The request for o, or the exit status (2) in *ret_rc. */
static json_t *
build_args(const char *cmd, const struct ctl_opts *o, int *ret_rc)
{
	static const char *const newer[] = { "calls", "top", "evidence",
	    "recent", "alerts", "rates" };
	char key[STORE_BAN_KEY_MAX + 1];
	int n = o->npos, opts_ok = !o->follow && !o->all && !o->account &&
	    !o->reason && !o->for_s;

	for (size_t i = 0; i < sizeof(newer) / sizeof(newer[0]); i++)
		if (strcmp(cmd, newer[i]) == 0)
			return build_args_new(cmd, o, ret_rc);
	*ret_rc = 2;
	if (NEW_OPTS(o))
		return (void)bad_usage(cmd, "an option this command does not "
		    "take"), NULL;
	if (strcmp(cmd, "status") == 0 || strcmp(cmd, "reload") == 0) {
		if (n != 0 || !opts_ok)
			return (void)bad_usage(cmd, "takes no arguments"), NULL;
		return json_object();
	}
	if (strcmp(cmd, "lockdown") == 0) {
		if (!opts_ok || n > 1 || (n == 1 && strcmp(o->pos[0], "on") != 0 &&
		    strcmp(o->pos[0], "off") != 0))
			return (void)bad_usage(cmd, "on or off"), NULL;
		if (n == 0)
			return json_object();
		return json_pack("{s:b}", "on", strcmp(o->pos[0], "on") == 0);
	}
	if (strcmp(cmd, "ban") == 0 || strcmp(cmd, "unban") == 0) {
		int ban = cmd[0] == 'b';
		json_t *a;

		if (n != 1 || o->follow || o->all || o->account ||
		    (!ban && (o->reason || o->for_s)))
			return (void)bad_usage(cmd, "one ADDR or PREFIX"), NULL;
		if (store_ban_key_canon(o->pos[0], key, sizeof(key), NULL,
		    NULL) < 0)
			return (void)bad_usage(cmd, "not an address or a "
			    "prefix without host bits"), NULL;
		a = json_pack("{s:s}", "key", key);
		if (a != NULL && o->for_s > 0)
			json_object_set_new(a, "for_s", json_integer(o->for_s));
		if (a != NULL && o->reason != NULL)
			json_object_set_new(a, "reason", json_string(o->reason));
		return a;
	}
	if (strcmp(cmd, "bans") == 0) {
		if (n != 0 || o->follow || o->account || o->reason || o->for_s)
			return (void)bad_usage(cmd, "takes only --all"), NULL;
		return json_pack("{s:b}", "all", o->all);
	}
	if (strcmp(cmd, "registrations") == 0 || strcmp(cmd, "kick") == 0) {
		int kick = cmd[0] == 'k';

		if (!opts_ok || n > 1 || (kick && n != 1))
			return (void)bad_usage(cmd, kick ? "one USER" :
			    "at most one USER"), NULL;
		return n == 1 ? json_pack("{s:s}", "user", o->pos[0]) :
		    json_object();
	}
	if (strcmp(cmd, "hangup") == 0) {
		if (o->follow || o->all || o->reason || o->for_s ||
		    (n == 1) == (o->account != NULL) || n > 1)
			return (void)bad_usage(cmd, "CALL-ID or --account USER"),
			    NULL;
		return o->account != NULL ? json_pack("{s:s}", "account",
		    o->account) : json_pack("{s:s}", "call_id", o->pos[0]);
	}
	if (strcmp(cmd, "freeze") == 0 || strcmp(cmd, "unfreeze") == 0) {
		if (!opts_ok || n != 1)
			return (void)bad_usage(cmd, "one E.164 PREFIX"), NULL;
		return json_pack("{s:s}", "prefix", o->pos[0]);
	}
	if (strcmp(cmd, "frozen") == 0) {
		if (!opts_ok || n != 0)
			return (void)bad_usage(cmd, "takes no arguments"), NULL;
		return json_object();
	}
	if (strcmp(cmd, "events") == 0) {
		if (!o->follow || n != 0 || o->all || o->account ||
		    o->reason || o->for_s)
			return (void)bad_usage(cmd, "only --follow"), NULL;
		return json_pack("{s:b}", "follow", 1);
	}
	return (void)bad_usage(cmd, "unknown command"), NULL;
}

/*
 * evidence --out FILE: the events as JSON lines (ASCII, for a ticket),
 * the file made 0600 (it holds what peers sent); r is released.
 */
static int
write_evidence(const struct ctl_opts *o, json_t *r)
{
	const json_t *a = json_object_get(r, "events");
	size_t i;
	json_t *e;
	FILE *f;
	int fd, bad = 0;

	if ((fd = open(o->out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) < 0 || (f = fdopen(fd, "w")) == NULL) {
		fprintf(stderr, "sipwall evidence: %s: %s\n", o->out,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		json_decref(r);
		return 1;
	}
	json_array_foreach(a, i, e) {
		char *line = json_dumps(e, JSON_COMPACT | JSON_ENSURE_ASCII |
		    JSON_PRESERVE_ORDER);

		if (line == NULL || fprintf(f, "%s\n", line) < 0)
			bad = 1;
		free(line);
	}
	if (fclose(f) != 0 || bad) {
		fprintf(stderr, "sipwall evidence: writing %s failed\n",
		    o->out);
		json_decref(r);
		return 1;
	}
	if (o->json) {
		json_object_del(r, "events");
		json_object_set_new(r, "written", json_integer((json_int_t)
		    json_array_size(a)));
		json_object_set_new(r, "file", json_string(o->out));
		return cli_json_print(r);
	}
	printf("%zu event%s written to %s\n", json_array_size(a),
	    json_array_size(a) == 1 ? "" : "s", o->out);
	print_reach(r);
	json_decref(r);
	return fflush(stdout) != 0;
}

int
cmd_ctl(int argc, char **argv)
{
	const char *cmd = argv[0];
	struct ctl_opts o;
	json_t *args, *res = NULL;
	int rc, fd = -1;

	if ((rc = parse_opts(argc, argv, &o)) != 0)
		return rc < 0 ? 0 : rc;
	if ((args = build_args(cmd, &o, &rc)) == NULL)
		return rc;
	if (strcmp(cmd, "events") == 0) {
		if ((rc = ctl_call(&o, cmd, args, &res, &fd, 0)) != 0)
			return rc;
		json_decref(res);
		return follow(fd);
	}
	if ((rc = ctl_call(&o, cmd, args, &res, NULL, 0)) != 0)
		return rc;
	if (strcmp(cmd, "evidence") == 0 && o.out != NULL)
		return write_evidence(&o, res);
	return print_result(&o, cmd, res);
}

int
cmd_ctl_calls(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--live") == 0)
			return cmd_ctl(argc, argv);
	return cmd_calls(argc, argv);
}

/* Is this a word an option before it takes as its value? */
static int
takes_value(const char *opt)
{
	static const char *const with[] = { "-c", "-D", "--config", "--dir",
	    "--for", "--reason", "--account" };

	for (size_t i = 0; i < sizeof(with) / sizeof(with[0]); i++)
		if (strcmp(opt, with[i]) == 0)
			return 1;
	return 0;
}

int
cmd_ctl_ban(int argc, char **argv)
{
	const char *first = NULL;

	for (int i = 1; i < argc && first == NULL; i++) {
		if (argv[i][0] == '-') {
			if (strcmp(argv[i], "-h") == 0 ||
			    strcmp(argv[i], "--help") == 0)
				return cmd_ban(argc, argv);
			if (takes_value(argv[i]))
				i++;
			continue;
		}
		first = argv[i];
	}
	/* the live form takes an address or prefix (a digit, or ':' for
	 * IPv6); any other word is an offline action, right or wrong, and
	 * the offline command names it in its usage error */
	if (first == NULL || strspn(first, "0123456789abcdefABCDEF:./") !=
	    strlen(first) || strpbrk(first, "0123456789:") == NULL)
		return cmd_ban(argc, argv);
	return cmd_ctl(argc, argv);
}

int
cli_ctl_unlock(const char *conf_path, const char *dir, const char *aor)
{
	struct ctl_opts o;
	json_t *res = NULL;
	int rc;

	memset(&o, 0, sizeof(o));
	o.conf = conf_path;
	o.dir = dir;
	rc = ctl_call(&o, "account", json_pack("{s:s, s:s}", "action",
	    "unlock", "user", aor), &res, NULL, 1);
	if (rc < 0) {
		printf("%s: no daemon running; brute-force locks live in its "
		    "memory only and ended with it\n", aor);
		return fflush(stdout) != 0;
	}
	if (rc != 0)
		return 1;
	printf("%s: %s\n", aor, json_is_true(json_object_get(res,
	    "unlocked")) ? "brute-force lock lifted in the running daemon" :
	    "not locked in the running daemon");
	json_decref(res);
	return fflush(stdout) != 0;
}

int
cli_ctl_kick(const char *conf_path, const char *dir, const char *aor)
{
	struct ctl_opts o;
	json_t *res = NULL;
	int rc;

	memset(&o, 0, sizeof(o));
	o.conf = conf_path;
	o.dir = dir;
	rc = ctl_call(&o, "kick", json_pack("{s:s}", "user", aor), &res, NULL,
	    1);
	if (rc < 0)
		return 0;	/* no daemon running: nothing registered */
	if (rc != 0)
		return 1;
	fprintf(stderr, "sipwall: %lld registration%s of %s removed from the "
	    "running daemon\n", jint(res, "removed"), jint(res, "removed") ==
	    1 ? "" : "s", aor);
	json_decref(res);
	return 0;
}
