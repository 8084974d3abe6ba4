#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/destpol.h"

/* What a trie node says; several may meet at one prefix. */
#define ACT_DENY	0x1
#define ACT_ALLOW	0x2
#define ACT_INTERNAL	0x4
#define ACT_LIST	0x8

#define MAX_CATS	32
#define CAT_MAX		31
#define MAX_LIST	4096

struct node {
	int32_t		kid[10];
	uint8_t		act;
	uint8_t		cat;		/* ACT_LIST: index into cats */
};

struct group_rt {
	struct conf_group g;
	struct conf_hours hours[CONF_MAX_HOURS];	/* g.hours, parsed */
	struct node	*nodes;
	size_t		 n, cap;
};

struct destpol {
	struct destpol_opts opts;
	struct e164_plan plan;
	char		 access[CONF_PREFIX_MAX + 1];
	size_t		 nemerg;
	char		 emerg[CONF_MAX_EMERGENCY][CONF_NUMBER_MAX + 1];
	size_t		 ncats;
	char		 cats[MAX_CATS][CAT_MAX + 1];
	bool		 cat_premium[MAX_CATS];
	size_t		 nlist;
	size_t		 ngroups;
	size_t		 dflt;
	struct group_rt	 groups[CONF_MAX_GROUPS];
};

static int32_t
node_new(struct group_rt *g)
{
	if (g->n == g->cap) {
		size_t cap = g->cap == 0 ? 256 : g->cap * 2;
		struct node *nn = realloc(g->nodes, cap * sizeof(*nn));

		if (nn == NULL)
			return -1;
		g->nodes = nn;
		g->cap = cap;
	}
	memset(&g->nodes[g->n], 0xff, sizeof(g->nodes[g->n].kid));
	g->nodes[g->n].act = 0;
	g->nodes[g->n].cat = 0;
	return (int32_t)g->n++;
}

/* Mark the node of digits (a leading '+' skipped) with act. */
static int
insert(struct group_rt *g, const char *digits, uint8_t act, uint8_t cat)
{
	int32_t at = 0;

	if (*digits == '+')
		digits++;
	for (const char *p = digits; *p != '\0'; p++) {
		int d = *p - '0';
		int32_t k;

		if (d < 0 || d > 9)
			return -EINVAL;
		if ((k = g->nodes[at].kid[d]) < 0) {
			if ((k = node_new(g)) < 0)
				return -ENOMEM;
			g->nodes[at].kid[d] = k;
		}
		at = k;
	}
	g->nodes[at].act |= act;
	if (act == ACT_LIST)
		g->nodes[at].cat = cat;
	return 0;
}

static bool
premium_category(const char *c)
{
	return strstr(c, "premium") != NULL || strcmp(c, "shared-cost") == 0 ||
	    strcmp(c, "personal-numbering") == 0;
}

static uint8_t
cat_index(struct destpol *p, const char *c)
{
	for (size_t i = 0; i < p->ncats; i++)
		if (strcmp(p->cats[i], c) == 0)
			return (uint8_t)i;
	if (p->ncats == MAX_CATS)
		return UINT8_MAX;
	snprintf(p->cats[p->ncats], sizeof(p->cats[0]), "%s", c);
	p->cat_premium[p->ncats] = premium_category(c);
	return (uint8_t)p->ncats++;
}

/* One list line "prefix|category|..." into every group's trie. */
static int
list_line(struct destpol *p, const char *line, size_t len, char *why,
    size_t cap)
{
	char pre[24], cat[CAT_MAX + 1];
	size_t i = 0, n = 0;
	uint8_t ci;

	while (i < len && line[i] >= '0' && line[i] <= '9' && n < 16)
		pre[n++] = line[i++];
	pre[n] = '\0';
	if (n == 0 || n > E164_MAX_DIGITS || i >= len || line[i] != '|') {
		snprintf(why, cap, "expected PREFIX|CATEGORY|..., the prefix "
		    "1 to 15 digits");
		return -EINVAL;
	}
	i++;
	for (n = 0; i < len && line[i] != '|' && line[i] != '\r'; i++) {
		char c = line[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_')) {
			snprintf(why, cap, "the category holds a-z, 0-9, '-' "
			    "and '_' only");
			return -EINVAL;
		}
		if (n == CAT_MAX) {
			snprintf(why, cap, "the category is longer than %d "
			    "characters", CAT_MAX);
			return -EINVAL;
		}
		cat[n++] = c;
	}
	cat[n] = '\0';
	if (n == 0) {
		snprintf(why, cap, "no category after the prefix");
		return -EINVAL;
	}
	if (p->nlist >= MAX_LIST) {
		snprintf(why, cap, "more than %d entries", MAX_LIST);
		return -EINVAL;
	}
	if ((ci = cat_index(p, cat)) == UINT8_MAX) {
		snprintf(why, cap, "more than %d categories", MAX_CATS);
		return -EINVAL;
	}
	for (size_t g = 0; g < p->ngroups; g++)
		if (insert(&p->groups[g], pre, ACT_LIST, ci) < 0)
			return -ENOMEM;
	p->nlist++;
	return 0;
}

int
destpol_build(const struct sw_conf *conf, const char *list, size_t len,
    struct destpol **ret, char *err, size_t cap)
{
	const struct conf_dialplan *d = &conf->dialplan;
	struct destpol *p = calloc(1, sizeof(*p));
	size_t lineno = 0;
	int r = -ENOMEM;

	if (p == NULL)
		return -ENOMEM;
	snprintf(p->plan.cc, sizeof(p->plan.cc), "%s", d->country_code);
	for (size_t i = 0; i < d->nintl && i < E164_MAX_INTL; i++)
		snprintf(p->plan.intl[p->plan.nintl++], sizeof(p->plan.intl[0]),
		    "%s", d->intl[i]);
	snprintf(p->plan.national, sizeof(p->plan.national), "%s", d->national);
	p->plan.ext_max = (uint8_t)d->extension_digits;
	memcpy(p->access, d->access_code, sizeof(p->access));
	p->opts.refer = conf->policy.refer;
	p->opts.max_redirects = conf->policy.max_redirects;
	memcpy(p->opts.forward_group, conf->policy.forward_group,
	    sizeof(p->opts.forward_group));
	memcpy(p->opts.core_group, conf->policy.core_group,
	    sizeof(p->opts.core_group));
	p->nemerg = d->nemergency;
	memcpy(p->emerg, d->emergency, sizeof(p->emerg));
	p->ngroups = conf->policy.ngroups;
	for (size_t g = 0; g < p->ngroups; g++) {
		struct group_rt *gr = &p->groups[g];

		gr->g = conf->policy.groups[g];
		if (strcmp(gr->g.name, "default") == 0)
			p->dflt = g;
		for (size_t i = 0; i < gr->g.nhours; i++) {
			char why[160];

			if (conf_hours_parse(gr->g.hours[i], &gr->hours[i], why,
			    sizeof(why)) < 0) {
				snprintf(err, cap, "policy: group %s: %s",
				    gr->g.name, why);
				r = -EINVAL;
				goto fail;
			}
		}
		if (node_new(gr) < 0)
			goto fail;
		for (size_t i = 0; i < gr->g.ndeny; i++)
			if ((r = insert(gr, gr->g.deny[i], ACT_DENY, 0)) < 0)
				goto bad_prefix;
		for (size_t i = 0; i < gr->g.nallow; i++)
			if ((r = insert(gr, gr->g.allow[i], ACT_ALLOW, 0)) < 0)
				goto bad_prefix;
		for (size_t i = 0; i < d->ninternal; i++)
			if ((r = insert(gr, d->internal[i], ACT_INTERNAL,
			    0)) < 0)
				goto bad_prefix;
		r = -ENOMEM;
	}
	for (size_t i = 0; i < len;) {
		size_t e = i, b;
		char why[128];

		while (e < len && list[e] != '\n')
			e++;
		lineno++;
		b = i;
		while (b < e && (list[b] == ' ' || list[b] == '\t'))
			b++;
		if (b < e && list[b] != '#' && list[b] != '\r' &&
		    (r = list_line(p, list + b, e - b, why, sizeof(why))) < 0) {
			snprintf(err, cap, "line %zu: %s", lineno, why);
			goto fail;
		}
		i = e + 1;
	}
	*ret = p;
	return 0;
bad_prefix:
	if (r == -EINVAL)
		snprintf(err, cap, "policy: a prefix that is not digits");
fail:
	if (r == -ENOMEM)
		snprintf(err, cap, "out of memory");
	destpol_free(p);
	return r;
}

void
destpol_free(struct destpol *p)
{
	if (p == NULL)
		return;
	for (size_t g = 0; g < p->ngroups; g++)
		free(p->groups[g].nodes);
	free(p);
}

bool
destpol_in_hours(const struct destpol *p, size_t group, time_t now)
{
	const struct group_rt *g = &p->groups[group < p->ngroups ? group :
	    p->dflt];
	struct tm tm;
	unsigned today, yday, min;

	if (g->g.nhours == 0 || localtime_r(&now, &tm) == NULL)
		return true;
	today = (unsigned)(tm.tm_wday + 6) % 7;		/* Monday 0 */
	yday = (today + 6) % 7;
	min = (unsigned)(tm.tm_hour * 60 + tm.tm_min);
	for (size_t i = 0; i < g->g.nhours; i++) {
		const struct conf_hours *h = &g->hours[i];

		if (h->from < h->to) {
			if ((h->days & (1u << today)) && min >= h->from &&
			    min < h->to)
				return true;
		} else if (((h->days & (1u << today)) && min >= h->from) ||
		    ((h->days & (1u << yday)) && min < h->to))
			return true;	/* past midnight */
	}
	return false;
}

const struct destpol_opts *
destpol_opts(const struct destpol *p)
{
	return &p->opts;
}

size_t
destpol_group(const struct destpol *p, const char *name)
{
	for (size_t g = 0; g < p->ngroups; g++)
		if (strcmp(p->groups[g].g.name, name) == 0)
			return g;
	return p->dflt;
}

const struct conf_group *
destpol_group_conf(const struct destpol *p, size_t group)
{
	return &p->groups[group < p->ngroups ? group : p->dflt].g;
}

size_t
destpol_ngroups(const struct destpol *p)
{
	return p->ngroups;
}

size_t
destpol_list_size(const struct destpol *p)
{
	return p->nlist;
}

static bool
is_emergency(const struct destpol *p, const char *digits)
{
	size_t cc = strlen(p->plan.cc);

	for (size_t i = 0; i < p->nemerg; i++)
		if (strcmp(digits, p->emerg[i]) == 0 ||
		    (strncmp(digits, p->plan.cc, cc) == 0 &&
		    strcmp(digits + cc, p->emerg[i]) == 0))
			return true;
	return false;
}

/* Steps 4 and 5 for E.164 digits. */
static void
check_number(const struct destpol *p, const struct group_rt *g,
    const char *num, struct dp_result *r)
{
	int32_t at = 0, best = -1;
	size_t bdepth = 0;
	uint8_t act;

	for (size_t i = 0; num[i] != '\0'; i++) {
		at = g->nodes[at].kid[num[i] - '0'];
		if (at < 0)
			break;
		if (g->nodes[at].act != 0) {
			best = at;
			bdepth = i + 1;
		}
	}
	act = best >= 0 ? g->nodes[best].act : 0;
	if (act & ACT_DENY) {
		r->reason = "destination_denied";
		snprintf(r->rule, sizeof(r->rule), "deny +%.*s", (int)bdepth, num);
		return;
	}
	if (act & ACT_ALLOW) {
		r->allow = true;
		r->reason = "allowed";
		snprintf(r->rule, sizeof(r->rule), "allow +%.*s", (int)bdepth, num);
		return;
	}
	if (act & ACT_INTERNAL) {
		r->allow = true;
		r->internal = true;
		r->reason = "internal";
		snprintf(r->rule, sizeof(r->rule), "internal +%.*s", (int)bdepth,
		    num);
		return;
	}
	if (act & ACT_LIST) {
		uint8_t c = g->nodes[best].cat;
		bool prem = p->cat_premium[c];

		snprintf(r->rule, sizeof(r->rule), "%s %.*s %s",
		    prem ? "premium" : "high_risk", (int)bdepth, num, p->cats[c]);
		if (prem ? g->g.premium : g->g.high_risk) {
			r->allow = true;
			r->reason = "allowed";
		} else
			r->reason = prem ? "premium" : "high_risk";
		return;
	}
	if (strncmp(num, p->plan.cc, strlen(p->plan.cc)) != 0) {
		r->reason = "international";
		snprintf(r->rule, sizeof(r->rule), "international");
		r->allow = g->g.international;
		return;
	}
	r->allow = true;
	r->reason = "domestic";
}

/* A feature code carrying a number: each way of reading where the
 * code ends is checked; the strictest answer stands. */
static void
check_service(const struct destpol *p, const struct group_rt *g,
    const char *code, struct dp_result *r)
{
	char out[E164_MAX_DIGITS + 1];

	r->allow = true;
	r->reason = "internal";
	r->internal = true;
	/* every digit run ("*72*011882123#" has "72" and "011882123"),
	 * read from each of its digits on: where the code ends and the
	 * number starts is the PBX's business, so no reading may hide one */
	for (const char *q = code; *q != '\0'; q++) {
		struct dp_result sub;
		char d[E164_MAX_DIGITS + 2];
		size_t len = 0;

		for (const char *e = q; *e >= '0' && *e <= '9'; e++)
			len++;
		if (len <= p->plan.ext_max || len >= sizeof(d))
			continue;
		memset(&sub, 0, sizeof(sub));
		memcpy(d, q, len);
		d[len] = '\0';
		if (e164_normalize(&p->plan, slice_cstr(d), out) != E164_NUMBER)
			continue;
		check_number(p, g, out, &sub);
		if (!sub.allow) {
			*r = sub;
			r->kind = E164_SERVICE;
			snprintf(r->e164, sizeof(r->e164), "%s", code);
			return;
		}
	}
}

static void check_one(const struct destpol *p, const struct group_rt *g,
    struct slice dialled, struct dp_result *r);

/*
 * With an access code ("9" for an outside line) a dial string has two
 * readings, with and without it, and the PBX may take either: both
 * are checked, and the stricter answer stands ("9011882..." is not the
 * domestic +19011882...).
 */
void
destpol_check(const struct destpol *p, size_t group, struct slice dialled,
    struct dp_result *r)
{
	const struct group_rt *g = &p->groups[group < p->ngroups ? group :
	    p->dflt];
	size_t al = strlen(p->access);
	struct dp_result alt;

	check_one(p, g, dialled, r);
	if (al == 0 || dialled.len <= al ||
	    memcmp(dialled.p, p->access, al) != 0)
		return;
	check_one(p, g, slice_sub(dialled, al, dialled.len - al), &alt);
	if ((r->allow && !alt.allow) || (alt.emergency && !r->emergency) ||
	    (r->allow && alt.allow && !alt.internal))
		*r = alt;
}

static void
check_one(const struct destpol *p, const struct group_rt *g,
    struct slice dialled, struct dp_result *r)
{
	char out[E164_MAX_DIGITS + 1];

	memset(r, 0, sizeof(*r));
	r->kind = e164_normalize(&p->plan, dialled, out);
	switch (r->kind) {
	case E164_EXTENSION:
		snprintf(r->e164, sizeof(r->e164), "%s", out);
		r->allow = true;
		r->internal = true;
		r->reason = "internal";
		if (is_emergency(p, out)) {
			r->emergency = true;
			r->reason = "emergency";
		}
		return;
	case E164_SERVICE:
		snprintf(r->e164, sizeof(r->e164), "%s", out);
		check_service(p, g, out, r);
		return;
	case E164_NUMBER:
		snprintf(r->e164, sizeof(r->e164), "+%s", out);
		if (is_emergency(p, out)) {
			r->allow = true;
			r->emergency = true;
			r->reason = "emergency";
			return;
		}
		check_number(p, g, out, r);
		return;
	default:
		break;
	}
	/* a user name ("alice"): the core's own user, not a number; no
	 * escape can hide a digit in it, since %30..%39 show one */
	{
		bool letter = false;

		for (size_t i = 0; i < dialled.len; i++) {
			uint8_t c = dialled.p[i];

			if (c >= '0' && c <= '9') {
				letter = false;
				break;
			}
			letter |= (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
		}
		if (!letter) {
			r->reason = "invalid_number";
			snprintf(r->rule, sizeof(r->rule), "not a dial string");
			return;
		}
	}
	if (dialled.len > 0) {
		r->allow = true;
		r->internal = true;
		r->reason = "internal";
		snprintf(r->e164, sizeof(r->e164), "%.*s", (int)(dialled.len <
		    E164_MAX_DIGITS ? dialled.len : E164_MAX_DIGITS),
		    (const char *)dialled.p);
		return;
	}
}

#define LIST_FILE_MAX	(1024 * 1024)

int
destpol_from_conf(const struct sw_conf *conf, struct destpol **ret, char *err,
    size_t cap)
{
	const char *file = conf->policy.high_risk_file;
	char path[CONF_DIR_MAX + CONF_PATH_MAX + 2], why[160];
	char *buf;
	size_t n;
	FILE *f;
	int r;

	if (file[0] == '\0') {
		r = destpol_build(conf, (const char *)highrisk_builtin,
		    highrisk_builtin_len, ret, why, sizeof(why));
		if (r < 0)
			snprintf(err, cap, "built-in high-risk list: %s", why);
		return r;
	}
	if (conf_path_resolve(conf, file, path, sizeof(path)) < 0) {
		snprintf(err, cap, "%s: path too long", file);
		return -ENAMETOOLONG;
	}
	if ((f = fopen(path, "r")) == NULL) {
		r = -errno;
		snprintf(err, cap, "%s: %s", path, strerror(-r));
		return r;
	}
	if ((buf = malloc(LIST_FILE_MAX + 1)) == NULL) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, LIST_FILE_MAX + 1, f);
	r = ferror(f) ? -EIO : 0;
	fclose(f);
	if (r == 0 && n > LIST_FILE_MAX) {
		snprintf(err, cap, "%s: larger than %d bytes", path,
		    LIST_FILE_MAX);
		r = -EFBIG;
	} else if (r < 0)
		snprintf(err, cap, "%s: read error", path);
	else if ((r = destpol_build(conf, buf, n, ret, why, sizeof(why))) < 0)
		snprintf(err, cap, "%s: %s", path, why);
	free(buf);
	return r;
}
