#include <stdio.h>
#include <string.h>

#include "core/ctype.h"
#include "core/hash.h"
#include "daemon/ident.h"

void
ident_init(struct ident_gen *g, unsigned owner)
{
	g->owner = (uint8_t)owner;
	g->seq = 0;
}

/* 16 hex digits no one outside can predict or link to the counter */
static uint64_t
next(struct ident_gen *g, uint8_t kind)
{
	uint8_t in[10];

	g->seq++;
	in[0] = g->owner;
	in[1] = kind;
	memcpy(in + 2, &g->seq, sizeof(g->seq));
	return sw_hash(in, sizeof(in));
}

void
ident_tag(struct ident_gen *g, char *out)
{
	snprintf(out, IDENT_TAG_LEN + 1, "%02x%016llx", g->owner,
	    (unsigned long long)next(g, 't'));
}

void
ident_branch(struct ident_gen *g, char *out)
{
	snprintf(out, IDENT_BRANCH_LEN + 1, "z9hG4bK%02x%016llx", g->owner,
	    (unsigned long long)next(g, 'b'));
}

void
ident_callid(struct ident_gen *g, char *out)
{
	unsigned long long a = next(g, 'c'), b = next(g, 'd');

	snprintf(out, IDENT_CALLID_LEN + 1, "%016llx%016llx", a, b);
}

/* our own ids are lowercase hex */
static int
hexval(uint8_t c)
{
	return c >= 'A' && c <= 'F' ? -1 : ctype_hexval(c);
}

int
ident_tag_owner(struct slice tag)
{
	int hi, lo;

	if (tag.len != IDENT_TAG_LEN)
		return -1;
	for (size_t i = 0; i < tag.len; i++)
		if (hexval(tag.p[i]) < 0)
			return -1;
	hi = hexval(tag.p[0]);
	lo = hexval(tag.p[1]);
	return hi * 16 + lo;
}

int
ident_branch_owner(struct slice branch)
{
	if (branch.len != IDENT_BRANCH_LEN ||
	    memcmp(branch.p, "z9hG4bK", 7) != 0)
		return -1;
	return ident_tag_owner(slice_sub(branch, 7, IDENT_TAG_LEN));
}
