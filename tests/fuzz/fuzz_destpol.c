/*
 * libFuzzer target for destpol_build() and destpol_check().  The input
 * is a high-risk list text, a blank line, then dial strings one a line;
 * without a blank line it is all dial strings, checked against the
 * built-in list.  The config is conf_defaults() with three more groups
 * (allow/deny lists, every permission, dialplan.internal).
 *
 * Beyond "no crash": a list that does not build says "line N: ..."; a
 * result has a reason from the documented set that agrees with allow;
 * the e164 and rule fields are NUL-terminated and e164 holds at most
 * 16 characters; emergency is allowed and says so; an extension is
 * internal; a number decides the same written "+E164", "011E164" and
 * "00E164"; the default group never allows an international, premium
 * or high-risk destination; a group index out of range is the default
 * group.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/destpol.h"

#include "fuzz_check.h"

#define MAX_DIALS	16

static struct sw_conf *conf;
static struct destpol *builtin;

static void
add(char list[][CONF_NUMBER_MAX + 1], size_t *n, const char *prefix)
{
	snprintf(list[(*n)++], CONF_NUMBER_MAX + 1, "%s", prefix);
}

static void
init(void)
{
	struct conf_group *g;
	char err[256];

	if (conf != NULL)
		return;
	CHECK((conf = calloc(1, sizeof(*conf))) != NULL);
	conf_defaults(conf);
	/* 0 "default": nothing beyond domestic */
	g = &conf->policy.groups[1];
	*g = conf->policy.groups[0];
	snprintf(g->name, sizeof(g->name), "open");
	g->international = g->premium = g->high_risk = true;
	g = &conf->policy.groups[2];
	*g = conf->policy.groups[0];
	snprintf(g->name, sizeof(g->name), "mixed");
	add(g->allow, &g->nallow, "+88212");
	add(g->allow, &g->nallow, "+44");
	add(g->deny, &g->ndeny, "+4420");
	add(g->deny, &g->ndeny, "+1");
	add(g->allow, &g->nallow, "+1800");
	add(g->allow, &g->nallow, "+33");
	add(g->deny, &g->ndeny, "+33");
	g = &conf->policy.groups[3];
	*g = conf->policy.groups[0];
	snprintf(g->name, sizeof(g->name), "intl");
	g->international = true;
	conf->policy.ngroups = 4;
	add(conf->dialplan.internal, &conf->dialplan.ninternal, "+1555010");
	if (destpol_from_conf(conf, &builtin, err, sizeof(err)) != 0) {
		fprintf(stderr, "built-in list: %s\n", err);
		abort();
	}
}

static bool
nul_in(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

static bool
is_one_of(const char *s, const char *const *set)
{
	for (; *set != NULL; set++)
		if (strcmp(s, *set) == 0)
			return true;
	return false;
}

static void
check_result(const struct dp_result *r)
{
	static const char *const allowed[] = {
		"emergency", "internal", "allowed", "domestic",
		"international", NULL
	};
	static const char *const refused[] = {
		"destination_denied", "high_risk", "premium", "international",
		"invalid_number", NULL
	};

	CHECK(r->reason != NULL);
	CHECK(is_one_of(r->reason, r->allow ? allowed : refused));
	CHECK(nul_in(r->e164, sizeof(r->e164)));
	CHECK(strlen(r->e164) <= E164_MAX_DIGITS + 1);
	CHECK(nul_in(r->rule, sizeof(r->rule)));
	CHECK(r->emergency == (strcmp(r->reason, "emergency") == 0));
	if (r->emergency)
		CHECK(r->allow);
	if (r->internal)
		CHECK(r->allow);
	switch (r->kind) {
	case E164_NUMBER:
		CHECK(r->e164[0] == '+');
		CHECK(strlen(r->e164) >= 2);
		CHECK(strspn(r->e164 + 1, "0123456789") ==
		    strlen(r->e164) - 1);
		break;
	case E164_EXTENSION:
		CHECK(r->allow && r->internal);
		CHECK(strspn(r->e164, "0123456789") == strlen(r->e164));
		break;
	case E164_SERVICE:
		CHECK(strpbrk(r->e164, "*#") != NULL);
		break;
	case -EINVAL:
	case -E2BIG:
		/* a name without a digit is the core's own user */
		if (r->allow)
			CHECK(r->internal &&
			    strcmp(r->reason, "internal") == 0);
		else
			CHECK(strcmp(r->reason, "invalid_number") == 0);
		break;
	default:
		CHECK(0);
	}
}

static bool
same(const struct dp_result *a, const struct dp_result *b)
{
	return a->allow == b->allow && a->emergency == b->emergency &&
	    a->internal == b->internal && a->kind == b->kind &&
	    strcmp(a->reason, b->reason) == 0 &&
	    strcmp(a->rule, b->rule) == 0 && strcmp(a->e164, b->e164) == 0;
}

static void
one(const struct destpol *p, const uint8_t *d, size_t len)
{
	/* an exact-size copy: reading past the dial string is caught */
	uint8_t *copy = malloc(len > 0 ? len : 1);
	size_t ng = destpol_ngroups(p), dflt = destpol_group(p, "default");
	struct dp_result r, again;

	CHECK(copy != NULL);
	memcpy(copy, d, len);
	for (size_t g = 0; g < ng; g++) {
		destpol_check(p, g, slice_make(copy, len), &r);
		check_result(&r);
		if (r.kind == E164_NUMBER) {
			static const char *const pre[] = { "+", "011", "00" };
			char alt[E164_MAX_DIGITS + 8];

			for (size_t k = 0; k < 3; k++) {
				snprintf(alt, sizeof(alt), "%s%s", pre[k],
				    r.e164 + 1);
				destpol_check(p, g, slice_cstr(alt), &again);
				CHECK(same(&r, &again));
			}
		}
		if (g == dflt && r.allow)
			CHECK(is_one_of(r.reason, (const char *const[]){
			    "emergency", "internal", "domestic", NULL }));
	}
	destpol_check(p, dflt, slice_make(copy, len), &r);
	destpol_check(p, ng + 7, slice_make(copy, len), &again);
	CHECK(same(&r, &again));
	free(copy);
}

static void
dials(const struct destpol *p, const uint8_t *d, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i <= len && n < MAX_DIALS; n++) {
		const uint8_t *nl = memchr(d + i, '\n', len - i);
		size_t e = nl != NULL ? (size_t)(nl - d) : len;

		one(p, d + i, e - i);
		i = e + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *sep = NULL;
	struct destpol *p = NULL;
	char err[256];
	char *list;
	size_t llen;
	int r;

	init();
	for (size_t i = 0; i + 1 < size; i++)
		if (data[i] == '\n' && data[i + 1] == '\n') {
			sep = data + i;
			break;
		}
	if (sep == NULL) {
		dials(builtin, data, size);
		return 0;
	}
	llen = (size_t)(sep - data) + 1;
	CHECK((list = malloc(llen)) != NULL);
	memcpy(list, data, llen);
	err[0] = '\0';
	r = destpol_build(conf, list, llen, &p, err, sizeof(err));
	free(list);
	if (r != 0) {
		CHECK(r == -EINVAL || r == -ENOMEM);
		CHECK(p == NULL);
		CHECK(strncmp(err, "line ", 5) == 0 ||
		    strcmp(err, "out of memory") == 0);
		dials(builtin, sep + 2, size - llen - 1);
		return 0;
	}
	CHECK(destpol_ngroups(p) == 4);
	CHECK(destpol_list_size(p) <= llen / 3);
	dials(p, sep + 2, size - llen - 1);
	destpol_free(p);
	return 0;
}
