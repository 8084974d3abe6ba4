/*
 * What a reload would change (OPS3): two configs in their flat form
 * (conf_print_flat) compared by key path, and each changed path sorted
 * into "applied live" or "needs a restart".
 *
 * The hot set is an allow list on purpose: a setting is live only when
 * the daemon reads it from the config snapshot at decision time (or a
 * reload rebuilds what was built from it).  Anything copied into a
 * table, a socket or a thread at start-up stays out of the list, so a
 * new key is restart-only until someone makes it live and adds it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"

/* "[*]" matches any index; a pattern covers the path and all below it. */
static const char *const hot_paths[] = {
	"zones[*].auth",
	"zones[*].allow",
	"zones[*].deny",
	"zones[*].methods",
	"zones[*].rate_limits",
	"zones[*].srtp",
	"registrar.min_expires",
	"registrar.max_expires",
	"registrar.default_expires",
	"registrar.max_contacts",
	"registrar.nat_expires",
	"bans.enabled",
	"bans.first",
	"bans.factor",
	"bans.max",
	"bans.auth_failures",
	"bans.auth_window",
	"bans.rate_strikes",
	"bans.rate_window",
	"bans.never",
	"scanner.enabled",
	"scanner.signatures",
	"scanner.unknown_users",
	"scanner.sweep",
	"bruteforce.failures",
	"bruteforce.lock",
	"calls.max_duration",
	"calls.ring_timeout",
	"calls.keepalive",
	"calls.min_se",
	"dialplan.international_prefixes",
	"dialplan.national_prefix",
	"dialplan.access_code",
	"dialplan.extension_digits",
	"dialplan.emergency",
	"dialplan.internal",
	"policy",
	/* what the files hold, not where they are (conffiles.c) */
	"listen[*].tls.cert.contents",
	"listen[*].tls.key.contents",
	"listen[*].tls.ca.contents",
	"trunks[*].tls_ca.contents",
	"core.targets[*].tls_ca.contents",
	/* alerts except window: counts and baselines are per window */
	"alerts.enabled",
	"alerts.webhook",
	"alerts.webhook_timeout",
	"alerts.retries",
	"alerts.factor",
	"alerts.min_count",
	"alerts.reg_failures",
	"alerts.auth_failures",
	"alerts.invite_failures",
	"alerts.calls_out",
	"alerts.calls_international",
	"alerts.calls_per_account",
	"alerts.new_country",
	"alerts.hours",
	"alerts.off_hours_calls",
	"cdr",
	"acknowledge",
	NULL
};

static int
match(const char *pat, const char *path, size_t len)
{
	size_t i = 0;

	for (const char *p = pat; *p != '\0'; p++) {
		if (p[0] == '[' && p[1] == '*' && p[2] == ']') {
			size_t d;

			if (i >= len || path[i] != '[')
				return 0;
			for (d = ++i; i < len && path[i] >= '0' && path[i] <= '9';
			    i++)
				;
			if (i == d || i >= len || path[i] != ']')
				return 0;
			i++;
			p += 2;
			continue;
		}
		if (i >= len || path[i] != *p)
			return 0;
		i++;
	}
	/* the whole path, or a key or index below it */
	return i == len || path[i] == '.' || path[i] == '[';
}

int
conf_path_is_hot(const char *path, size_t len)
{
	for (size_t i = 0; hot_paths[i] != NULL; i++)
		if (match(hot_paths[i], path, len))
			return 1;
	return 0;
}

struct line {
	const char	*path;
	size_t		 plen;
	const char	*val;
	size_t		 vlen;
};

static int
line_cmp(const void *a, const void *b)
{
	const struct line *x = a, *y = b;
	size_t n = x->plen < y->plen ? x->plen : y->plen;
	int c = memcmp(x->path, y->path, n);

	if (c != 0)
		return c;
	return x->plen < y->plen ? -1 : x->plen > y->plen;
}

/* Split "path: value\n" lines; *ret malloc'd, sorted by path. */
static int
split(const char *text, struct line **ret, size_t *ret_n)
{
	size_t n = 0, cap = 0;
	struct line *v = NULL;

	for (const char *p = text; *p != '\0';) {
		const char *nl = strchr(p, '\n');
		const char *end = nl != NULL ? nl : p + strlen(p);
		const char *sep = memchr(p, ':', (size_t)(end - p));

		if (sep != NULL && sep + 1 < end && sep[1] == ' ') {
			if (n == cap) {
				struct line *t;

				cap = cap ? cap * 2 : 256;
				if ((t = realloc(v, cap * sizeof(*v))) == NULL) {
					free(v);
					return -ENOMEM;
				}
				v = t;
			}
			v[n++] = (struct line){ .path = p,
			    .plen = (size_t)(sep - p), .val = sep + 2,
			    .vlen = (size_t)(end - sep - 2) };
		}
		p = nl != NULL ? nl + 1 : end;
	}
	qsort(v, n, sizeof(*v), line_cmp);
	*ret = v;
	*ret_n = n;
	return 0;
}

struct out {
	FILE	*f;
	size_t	 n;
	char	*restart;
	size_t	 rcap, rlen;
	size_t	 nrestart;
};

static void
note(struct out *o, char op, const struct line *a, const struct line *b)
{
	const struct line *l = a != NULL ? a : b;

	o->n++;
	if (op == '~')
		fprintf(o->f, "~ %.*s: %.*s -> %.*s\n", (int)a->plen, a->path,
		    (int)a->vlen, a->val, (int)b->vlen, b->val);
	else
		fprintf(o->f, "%c %.*s: %.*s\n", op, (int)l->plen, l->path,
		    (int)l->vlen, l->val);
	if (conf_path_is_hot(l->path, l->plen))
		return;
	if (o->nrestart++ < 8 && o->restart != NULL) {
		int m = snprintf(o->restart + o->rlen, o->rcap - o->rlen,
		    "%s%.*s", o->rlen > 0 ? ", " : "", (int)l->plen, l->path);

		if (m > 0 && (size_t)m < o->rcap - o->rlen)
			o->rlen += (size_t)m;
	}
}

int
conf_diff(const char *old_flat, const char *new_flat, char **ret_diff,
    struct conf_diff_count *ret_count, char *restart, size_t rcap)
{
	struct line *a = NULL, *b = NULL;
	size_t na = 0, nb = 0, i = 0, j = 0, dlen = 0;
	struct out o = { .restart = restart, .rcap = rcap };
	char *diff = NULL;
	int r;

	*ret_diff = NULL;
	if (restart != NULL && rcap > 0)
		restart[0] = '\0';
	if ((r = split(old_flat, &a, &na)) < 0 ||
	    (r = split(new_flat, &b, &nb)) < 0) {
		free(a);
		return r;
	}
	if ((o.f = open_memstream(&diff, &dlen)) == NULL) {
		free(a);
		free(b);
		return -ENOMEM;
	}
	while (i < na || j < nb) {
		int c = i == na ? 1 : j == nb ? -1 : line_cmp(&a[i], &b[j]);

		if (c < 0) {
			note(&o, '-', &a[i++], NULL);
		} else if (c > 0) {
			note(&o, '+', NULL, &b[j++]);
		} else {
			if (a[i].vlen != b[j].vlen ||
			    memcmp(a[i].val, b[j].val, a[i].vlen) != 0)
				note(&o, '~', &a[i], &b[j]);
			i++;
			j++;
		}
	}
	free(a);
	free(b);
	if (fclose(o.f) != 0) {
		free(diff);
		return -ENOMEM;
	}
	if (o.nrestart > 8 && restart != NULL && o.rlen + 24 < rcap)
		snprintf(restart + o.rlen, rcap - o.rlen, " and %zu more",
		    o.nrestart - 8);
	ret_count->changed = o.n;
	ret_count->restart = o.nrestart;
	*ret_diff = diff;
	return 0;
}
