/*
 * Token-bucket rate limits (PROT2) in one fixed-capacity table shared
 * by all workers.  A key is a short byte string built by the rl_key_*
 * helpers (per source, per /24 or /64, per account, per (source,
 * account), per (source, method)); the rate is passed with every call,
 * so the caller can give an authenticated (source, account) a larger
 * budget than an anonymous source without a second table.
 *
 * Arithmetic is exact integer: a bucket holds micro-tokens; a rate of
 * rate_milli (tokens per second x 1000) adds rate_milli micro-tokens
 * per millisecond; one event costs 1,000,000.  A new key starts with a
 * full bucket (burst tokens).  Time is the caller's monotonic clock in
 * ms; a clock that goes back adds nothing.
 *
 * Locking: the table is split into power-of-two stripes by the top
 * bits of the key's keyed hash; one mutex per stripe, held for a few
 * hundred nanoseconds; no allocation after rl_new().
 *
 * Bounds: capacity is split evenly over the stripes.  Adding a key to
 * a full stripe evicts one entry, CLOCK style: the hand passes over
 * entries, takes the first idle one (bucket full again and no excess
 * in the current window: forgetting it changes nothing) or the first
 * whose reference bit is clear, and clears the bits it passes.  A new
 * entry starts with the bit clear and gets it on its second use, so a
 * flood of one-off keys (spoofed UDP sources) evicts itself rather
 * than the sources that keep talking.  Evicting a non-idle entry is
 * counted (evicted_active): it is the sign that the table is too small
 * for the attack, and why the per-prefix key exists.
 *
 * Not here: what is limited at which stage, bans (the caller turns a
 * growing excess count into ban_add()), logging.
 */
#ifndef SW_POLICY_RATELIMIT_H
#define SW_POLICY_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/slice.h"

#define RL_KEY_MAX		48
#define RL_PREFIX4		24	/* per-prefix key: /24 for IPv4 */
#define RL_PREFIX6		64	/* and /64 for IPv6 */
#define RL_MAX_CAPACITY		(1u << 24)
#define RL_MAX_STRIPES		1024u
#define RL_DEFAULT_STRIPES	64u
#define RL_DEFAULT_WINDOW_MS	10000u
#define RL_UTOKEN		1000000ULL	/* micro-tokens per token */

enum rl_kind {
	RL_K_SRC = 1,
	RL_K_PREFIX,
	RL_K_ACCOUNT,
	RL_K_SRC_ACCOUNT,
	RL_K_SRC_METHOD,
	RL_K_MAX
};

struct rl_key {
	uint8_t		len;
	uint8_t		b[RL_KEY_MAX];
};

struct rl_rate {
	uint32_t	rate_milli;	/* tokens per second x 1000 */
	uint32_t	burst;		/* bucket size in tokens */
};

/* RL_RATE(0.5, 4): one event per 2 s on average, 4 at once.  Rounded,
 * so 0.29 is 290 and not 289.99999... truncated. */
#define RL_RATE(per_s, b)	((struct rl_rate){			\
	.rate_milli = (uint32_t)((per_s) * 1000.0 + 0.5), .burst = (b) })

struct rl_conf {
	uint32_t	capacity;	/* entries in total (1..RL_MAX_CAPACITY) */
	uint32_t	stripes;	/* power of two; 0 = RL_DEFAULT_STRIPES */
	uint32_t	window_ms;	/* excess window; 0 = RL_DEFAULT_WINDOW_MS */
};

struct rl_result {
	int		allowed;	/* 1 allow, 0 deny */
	/* Denied events for this key in the current excess window,
	 * this one included: the ban trigger. */
	uint32_t	excess;
	uint32_t	tokens;		/* whole tokens left */
	/* ms until cost tokens are there again (0 when allowed now,
	 * UINT32_MAX when the rate is 0): a Retry-After hint. */
	uint32_t	retry_ms;
	int		fresh;		/* the key was not in the table */
};

struct rl_stats {
	uint64_t	checks;
	uint64_t	allowed;
	uint64_t	denied;
	uint64_t	inserted;
	uint64_t	evicted_idle;
	uint64_t	evicted_active;
	uint64_t	entries;	/* in the table now */
	uint64_t	capacity;
};

struct rl_table;

/* 0, -EINVAL (bad conf) or -ENOMEM.  All memory is taken here. */
int		rl_new(const struct rl_conf *conf, struct rl_table **ret_tbl);
void		rl_free(struct rl_table *t);

/*
 * Key builders.  Addresses are normalized (mapped IPv6 is IPv4) and
 * ports ignored.  An account or method that does not fit the key is
 * replaced by its keyed 64-bit hash, tagged so it never equals an
 * inline value.  Methods are taken as given: the caller should map
 * methods it does not know to one name, or a peer inventing methods
 * makes one key each.  0, or -EAFNOSUPPORT.
 */
int		rl_key_src(struct rl_key *k, const union sw_addr *a);
int		rl_key_prefix(struct rl_key *k, const union sw_addr *a);
int		rl_key_account(struct rl_key *k, struct slice account);
int		rl_key_src_account(struct rl_key *k, const union sw_addr *a,
		    struct slice account);
int		rl_key_src_method(struct rl_key *k, const union sw_addr *a,
		    struct slice method);

/*
 * Take cost tokens from k's bucket at now_ms.  Allowed when the bucket
 * holds at least cost tokens (they are then taken); denied otherwise
 * (nothing taken, the excess count grows).  A cost above the burst is
 * always denied.  Never fails: a missing key is inserted, evicting one
 * if the stripe is full.  *ret (may be NULL) gets the details.
 * Returns 1 allowed, 0 denied.
 */
int		rl_take(struct rl_table *t, const struct rl_key *k,
		    const struct rl_rate *rate, uint32_t cost, uint64_t now_ms,
		    struct rl_result *ret);

static inline int
rl_check(struct rl_table *t, const struct rl_key *k,
    const struct rl_rate *rate, uint64_t now_ms, struct rl_result *ret)
{
	return rl_take(t, k, rate, 1, now_ms, ret);
}

/*
 * Give n tokens back to k's bucket (never above its burst): a request
 * charged to one bucket turned out to belong to another, e.g. an
 * authenticated request first counted against its anonymous source.
 * A key not in the table is left alone.
 */
void		rl_give(struct rl_table *t, const struct rl_key *k,
		    const struct rl_rate *rate, uint32_t n, uint64_t now_ms);
/* Drop k (e.g. an operator's reset).  1 when it was there. */
int		rl_forget(struct rl_table *t, const struct rl_key *k);
void		rl_stats(struct rl_table *t, struct rl_stats *ret);

#endif
