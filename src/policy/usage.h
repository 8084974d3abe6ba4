/*
 * What each account has used of its fraud limits (FRAUD2): calls in
 * progress, calls this minute, calls and answered seconds today.  One
 * table shared by every worker; an account's entry is created on its
 * first call (not per packet) and lives in one of 64 stripes, each
 * with its own mutex, held only for the few compares of a decision.
 *
 * Persistence is the caller's: usage_load() at start with the store's
 * rows, usage_collect() hands out the entries that changed so that the
 * main thread can queue them to the store writer.
 *
 * Time: callers pass unix seconds and the local day number
 * (usage_day()); nothing here reads a clock.
 */
#ifndef SW_POLICY_USAGE_H
#define SW_POLICY_USAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct usage_limits {
	uint32_t	concurrent;		/* 0: no limit, as for the rest */
	uint32_t	per_minute;
	uint32_t	per_day;
	uint32_t	minutes_per_day;
};

enum usage_verdict {
	USAGE_OK = 0,
	USAGE_CONCURRENT,
	USAGE_PER_MINUTE,
	USAGE_PER_DAY,
	USAGE_MINUTES,
};

struct usage_table;

int	usage_new(size_t expected, struct usage_table **ret);
void	usage_free(struct usage_table *t);

/* Days since 1970-01-01 in local time (the process's TZ). */
int64_t	usage_day(int64_t unix_time);

/*
 * A new call of account at now: within every limit, it is counted
 * (active, this minute, today) and USAGE_OK returned; otherwise the
 * first limit it hits is returned, *ret_value holds that counter's
 * value (calls, or minutes for USAGE_MINUTES) and the refusal is
 * counted.  exempt (an emergency call) is counted but never refused.
 * -ENOMEM when a first entry could not be made (the caller decides).
 */
int	usage_admit(struct usage_table *t, const char *account,
	    const struct usage_limits *lim, int64_t now, int64_t day,
	    bool exempt, uint32_t *ret_value);
/* Answered seconds left today under minutes_per_day; UINT32_MAX when
 * unlimited. */
uint32_t usage_seconds_left(struct usage_table *t, const char *account,
	    const struct usage_limits *lim, int64_t day);
/* An admitted call ended after `seconds` of answered time. */
void	usage_release(struct usage_table *t, const char *account,
	    uint32_t seconds, int64_t day);

/* Seed an account's counters from the store (active starts at 0). */
int	usage_load(struct usage_table *t, const struct store_usage *u);
/* Operator reset: every counter but active back to 0. */
void	usage_reset(struct usage_table *t, const char *account);
/* The current counters of account (all 0 if it has no entry). */
void	usage_get(struct usage_table *t, const char *account, int64_t now,
	    int64_t day, struct store_usage *ret);

/* Call fn for every entry changed since the previous collect (a copy,
 * outside the stripe lock); returns how many. */
size_t	usage_collect(struct usage_table *t,
	    void (*fn)(void *arg, const struct store_usage *u), void *arg);

#endif
