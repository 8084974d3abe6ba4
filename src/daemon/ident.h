/*
 * Identifiers we make for the legs we own: To/From tags, Via branches
 * and the inside Call-ID.  Each is a keyed hash of a per-worker counter
 * (unguessable, reveals nothing about us or the other leg) behind two
 * hex digits naming the owning worker, so that a response or an
 * in-dialog request that lands on another worker finds its way back
 * (handoff.h) without any shared table.
 */
#ifndef SW_DAEMON_IDENT_H
#define SW_DAEMON_IDENT_H

#include <stdint.h>

#include "core/slice.h"

#define IDENT_TAG_LEN		18		/* owner(2) + 16 hex */
#define IDENT_BRANCH_LEN	(7 + IDENT_TAG_LEN)	/* "z9hG4bK" + tag */
#define IDENT_CALLID_LEN	32

struct ident_gen {
	uint8_t		owner;
	uint64_t	seq;
};

void	ident_init(struct ident_gen *g, unsigned owner);
/* NUL-terminated; out must hold IDENT_*_LEN + 1 bytes. */
void	ident_tag(struct ident_gen *g, char *out);
void	ident_branch(struct ident_gen *g, char *out);
void	ident_callid(struct ident_gen *g, char *out);
/* The owner written in one of our tags or branches, or -1. */
int	ident_tag_owner(struct slice tag);
int	ident_branch_owner(struct slice branch);

#endif
