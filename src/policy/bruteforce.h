/*
 * Distributed slow brute force (PROT5): authentication failures per
 * target account, counted across all sources, in a sliding window of
 * BF_BUCKETS time buckets.  Past the threshold the account is locked
 * for a while, even when every source stays under its own rate limit
 * and ban thresholds.  Alongside the count, an estimate of how many
 * distinct sources took part (IPv4 hosts, IPv6 /64s; exact up to
 * BF_SOURCES, then saturating) tells a forgetful user from a botnet.
 *
 * A lock is a denial of service the attacker can aim at an account.
 * To blunt that, a source that authenticated successfully for the
 * account (bf_success) stays trusted for trust_ms and bf_is_locked_src()
 * lets it through a lock: the office phones keep working while the
 * botnet is locked out.  bf_is_locked() ignores trust.
 *
 * Window: bucket width is window_ms / BF_BUCKETS (rounded up); the
 * count is the sum of the current bucket and the BF_BUCKETS - 1 before
 * it, so the window slides in steps of one bucket.  When a lock starts
 * the window is emptied: after the lock ends a fresh threshold of
 * failures is needed to lock again.  Failures during a lock are still
 * counted (evidence; they can lock again right after the lock ends).
 *
 * Bounds and locking: fixed capacity split over mutex stripes.  Only
 * accounts that exist should be fed in (the caller knows; unknown
 * names belong to scanner detection), so capacity ~ number of accounts
 * is enough.  A new account in a full stripe evicts CLOCK style,
 * preferring idle entries (no failure in the window, not locked,
 * nothing trusted); a locked entry is never evicted, and when only
 * locked entries remain the failure is refused (-SBC_EFULL, counted).
 * Time: the caller's clock in ms (monotonic; locks are not persisted).
 */
#ifndef SW_POLICY_BRUTEFORCE_H
#define SW_POLICY_BRUTEFORCE_H

#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/slice.h"

#define BF_BUCKETS		10
#define BF_SOURCES		16	/* distinct sources tracked */
#define BF_TRUSTED		4	/* trusted sources per account */
#define BF_KEY_MAX		128	/* account key bytes */
#define BF_MAX_CAPACITY		(1u << 22)
#define BF_MAX_STRIPES		1024u
#define BF_DEFAULT_STRIPES	16u
#define BF_DEFAULT_WINDOW_MS	(10u * 60 * 1000)
#define BF_DEFAULT_THRESHOLD	20u
#define BF_DEFAULT_LOCK_MS	(15u * 60 * 1000)
#define BF_DEFAULT_TRUST_MS	(7ULL * 24 * 3600 * 1000)

struct bf_conf {
	uint32_t	capacity;	/* accounts (1..BF_MAX_CAPACITY) */
	uint32_t	stripes;	/* power of two; 0 = default */
	uint32_t	window_ms;	/* >= BF_BUCKETS; 0 = default */
	uint32_t	threshold;	/* failures in window; 0 = default */
	uint32_t	lock_ms;	/* 0 = default */
	uint64_t	trust_ms;	/* 0 = default */
};

struct bf_result {
	int		locked;		/* locked after this failure */
	int		locked_now;	/* this failure started the lock */
	uint32_t	failures;	/* in the window, this one included */
	uint32_t	sources;	/* distinct, saturating at BF_SOURCES */
	uint64_t	locked_until;	/* 0 when not locked */
	uint32_t	locks;		/* locks of this account so far */
	uint64_t	total;		/* failures ever counted */
};

struct bf_stats {
	uint64_t	failures;
	uint64_t	locks;
	uint64_t	locked;		/* accounts locked now */
	uint64_t	entries;
	uint64_t	capacity;
	uint64_t	evicted;
	uint64_t	refused_full;
};

struct bf_table;

/* 0, -EINVAL or -ENOMEM.  All memory is taken here. */
int		bf_new(const struct bf_conf *conf, struct bf_table **ret_tbl);
void		bf_free(struct bf_table *t);
/* New failure threshold and lock length (0 = default) for failures
 * counted from now on; locks in force keep their end.  Any thread. */
void		bf_set_limits(struct bf_table *t, uint32_t threshold,
		    uint32_t lock_ms);

/*
 * Count one failed authentication for account from src at now_ms.
 * Returns 1 when the account is locked after it, 0 when not, or
 * -SBC_ELIMIT (account longer than BF_KEY_MAX or empty), -SBC_EFULL.
 * *ret (may be NULL) gets the counters on success.
 */
int		bf_failure(struct bf_table *t, struct slice account,
		    const union sw_addr *src, uint64_t now_ms,
		    struct bf_result *ret);

/* Record a successful authentication: src becomes trusted for the
 * account.  0, -SBC_ELIMIT or -SBC_EFULL. */
int		bf_success(struct bf_table *t, struct slice account,
		    const union sw_addr *src, uint64_t now_ms);

/* 1 when account is locked at now_ms (*ret_until, may be NULL, gets
 * the end), else 0. */
int		bf_is_locked(struct bf_table *t, struct slice account,
		    uint64_t now_ms, uint64_t *ret_until);
/* Same, but 0 for a source trusted for this account. */
int		bf_is_locked_src(struct bf_table *t, struct slice account,
		    const union sw_addr *src, uint64_t now_ms,
		    uint64_t *ret_until);

/* Lift a lock and empty the window (operator's "account unlock").
 * 0, or -SBC_ENOTFOUND when the account has no entry. */
int		bf_unlock(struct bf_table *t, struct slice account);

/* Call fn for every account locked at now_ms (copied out; no lock is
 * held during fn).  Stops at fn's first non-zero return, which it
 * returns. */
typedef int	bf_locked_fn(void *arg, struct slice account,
		    const struct bf_result *r);
int		bf_foreach_locked(struct bf_table *t, uint64_t now_ms,
		    bf_locked_fn *fn, void *arg);

void		bf_stats(struct bf_table *t, uint64_t now_ms,
		    struct bf_stats *ret);

#endif
