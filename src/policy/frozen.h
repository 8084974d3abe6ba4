/*
 * Frozen destination prefixes (OPS1 `sipwall freeze`): during an
 * incident an operator stops calls to a prefix at once, whatever the
 * groups allow.  A small table shared by every worker: the per-call
 * check reads an atomic count first and takes the table's own mutex
 * only while something is frozen -- call setup, never the packet path.
 */
#ifndef SW_POLICY_FROZEN_H
#define SW_POLICY_FROZEN_H

#include <stdatomic.h>
#include <stddef.h>
#include <pthread.h>

#define FROZEN_MAX	64
#define FROZEN_LEN	16	/* "+" and at most 15 digits (E.164) */

struct frozen {
	pthread_mutex_t	mu;
	_Atomic size_t	n;
	char		p[FROZEN_MAX][FROZEN_LEN + 1];
};

void	frozen_init(struct frozen *f);
void	frozen_destroy(struct frozen *f);
/*
 * "+882", "882", "00882" are not the same: pass E.164 digits with or
 * without '+' (the canonical "+digits" is written into canon).
 * Returns 0 (added, or already there), -EINVAL (not 1..15 digits),
 * -ENOSPC (table full).
 */
int	frozen_add(struct frozen *f, const char *prefix, char *canon,
	    size_t cap);
/* 0 removed, -ENOENT not frozen, -EINVAL malformed. */
int	frozen_remove(struct frozen *f, const char *prefix);
/* The frozen prefix e164 ("+..." ) starts with, copied into hit; 1 or 0. */
int	frozen_match(struct frozen *f, const char *e164, char *hit, size_t cap);
/* Copy of the table for listing; returns the count. */
size_t	frozen_list(struct frozen *f, char out[][FROZEN_LEN + 1], size_t max);

#endif
