/*
 * The ban table (PROT3), shared by all workers: automatic, escalating,
 * expiring bans of addresses and prefixes, with their reason, evidence
 * and origin, and an allow list that always wins.
 *
 * The check (pipeline stage 1, every packet) normalizes the address
 * and looks up, longest first, each prefix length some entry uses:
 * usually the address itself (/32, /128) and its /24 or /64.  Lengths
 * in use are kept in a bitmap, so an empty table costs no lookup and a
 * table of host bans costs one.  Each lookup is a keyed-hash probe
 * under the read side of one stripe's rwlock; writers (ban, unban,
 * sweep) are rare.  A hit is then tested against the allow list, so an
 * allow-listed host inside a banned /24 still gets through.
 *
 * Escalation: the n-th ban of the same key (n = strikes) lasts
 *     min(max, first * factor^(n-1))
 * (defaults 5 min, x4, 24 h: 5, 20, 80, 320, 1280 min, then 24 h).  A
 * key's strikes are remembered until forget (default 24 h) after its
 * last ban ended; a ban after that starts again at strike 1.  An entry
 * therefore lives in two states: ACTIVE (banned) and REMEMBERED (ban
 * over, strikes kept).  Remembered entries count toward capacity but
 * are recycled when a new ban needs room.
 *
 * Clock: bans persist across restarts, so every time here is wall
 * clock (Unix epoch) in ms, passed in by the caller.
 *
 * Not here: storage (the daemon writes what ban_add/ban_sweep report to
 * the store and loads it back with ban_load), events, nftables.
 */
#ifndef SW_POLICY_BAN_H
#define SW_POLICY_BAN_H

#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/slice.h"
#include "policy/acl.h"
#include "policy/cidr.h"

#define BAN_SAMPLE_MAX		256
#define BAN_ORIGIN_MAX		32	/* node name, NUL included */
#define BAN_FOREVER		UINT64_MAX
#define BAN_MIN_PLEN4		8	/* shortest prefix a ban may take */
#define BAN_MIN_PLEN6		16
#define BAN_MAX_CAPACITY	(1u << 24)
#define BAN_MAX_STRIPES		1024u
#define BAN_DEFAULT_STRIPES	64u
#define BAN_DEFAULT_FIRST_MS	(5ULL * 60 * 1000)
#define BAN_DEFAULT_FACTOR	4u
#define BAN_DEFAULT_MAX_MS	(24ULL * 3600 * 1000)
#define BAN_DEFAULT_FORGET_MS	(24ULL * 3600 * 1000)

/* Values are stable (stored, exported); names are stable too. */
enum ban_reason {
	BAN_R_NONE = 0,
	BAN_R_MANUAL = 1,
	BAN_R_AUTH_FAILURES = 2,
	BAN_R_RATE_LIMIT = 3,
	BAN_R_SCANNER = 4,		/* scanner signature */
	BAN_R_SCANNER_BEHAVIOUR = 5,	/* probing, sweeps */
	BAN_R_BRUTEFORCE = 6,
	BAN_R_MALFORMED = 7,		/* repeated unparseable messages */
	BAN_R_CLUSTER = 8,		/* learnt from another node */
	BAN_R_MAX
};

enum ban_state {
	BAN_S_ACTIVE = 1,
	BAN_S_REMEMBERED = 2,
	BAN_S_MAX
};

struct ban_entry {
	struct cidr	 key;		/* host (/32, /128) or prefix */
	enum ban_reason	 reason;	/* of the latest ban */
	uint32_t	 strikes;	/* bans of this key within forget */
	uint64_t	 since_ms;	/* latest ban started */
	uint64_t	 until_ms;	/* it ends; BAN_FOREVER: on removal */
	/* Evidence of the latest ban. */
	uint64_t	 first_seen_ms;
	uint64_t	 last_seen_ms;
	uint32_t	 count;		/* offending events */
	uint64_t	 hits;		/* packets dropped by ban_check() */
	char		 origin[BAN_ORIGIN_MAX];	/* "" = this node */
	uint16_t	 sample_len;
	uint8_t		 sample[BAN_SAMPLE_MAX];	/* raw bytes */
};

/* What the caller knows when it asks for a ban. */
struct ban_evidence {
	enum ban_reason	 reason;
	uint32_t	 count;
	uint64_t	 first_seen_ms;	/* 0: now */
	uint64_t	 last_seen_ms;	/* 0: now */
	struct slice	 sample;	/* copied, cut at BAN_SAMPLE_MAX */
	const char	*origin;	/* NULL: this node; cut to fit */
	/* 0: escalate by strikes; BAN_FOREVER: until removed; else a
	 * fixed duration (an operator's ban). */
	uint64_t	 duration_ms;
};

struct ban_conf {
	uint32_t	 capacity;	/* entries (1..BAN_MAX_CAPACITY) */
	uint32_t	 stripes;	/* power of two; 0 = default */
	uint64_t	 first_ms;	/* 0 = BAN_DEFAULT_FIRST_MS */
	uint32_t	 factor;	/* 0 = BAN_DEFAULT_FACTOR; 1 = flat */
	uint64_t	 max_ms;	/* 0 = BAN_DEFAULT_MAX_MS */
	uint64_t	 forget_ms;	/* 0 = BAN_DEFAULT_FORGET_MS */
	const struct acl *allow;	/* borrowed; NULL = none */
};

/* What ban_check() found. */
struct ban_hit {
	struct cidr	 key;
	enum ban_reason	 reason;
	uint32_t	 strikes;
	uint64_t	 until_ms;
};

enum ban_sweep_what {
	BAN_SW_EXPIRED = 1,	/* ban ended, strikes still remembered:
				 * emit ban.removed */
	BAN_SW_FORGOTTEN = 2,	/* strike memory dropped: delete any
				 * row still kept for it */
	BAN_SW_ALLOWLISTED = 3,	/* lifted and deleted: the allow list now
				 * covers it */
	BAN_SW_MAX
};

struct ban_swept {
	enum ban_sweep_what what;
	struct ban_entry    e;
};

struct ban_stats {
	uint64_t	active;
	uint64_t	remembered;
	uint64_t	capacity;
	uint64_t	hits;		/* ban_check() said banned */
	uint64_t	allowlist_overrides;	/* banned, but allow-listed */
	uint64_t	added;		/* new bans (incl. re-bans) */
	uint64_t	escalated;	/* of which strikes > 1 */
	uint64_t	merged;		/* evidence added to an active ban */
	uint64_t	refused_full;
	uint64_t	refused_allowlisted;
	uint64_t	recycled;	/* remembered entries given up for room */
	uint64_t	expired;
	uint64_t	forgotten;
};

struct ban_table;

/* 0, -EINVAL (bad conf) or -ENOMEM.  All memory is taken here. */
int		ban_new(const struct ban_conf *conf, struct ban_table **ret_tbl);
void		ban_free(struct ban_table *t);
/* New first length, factor and maximum (0 = default) for bans added
 * from now on; bans in force keep their end.  Any thread. */
void		ban_set_escalation(struct ban_table *t, uint64_t first_ms,
		    uint32_t factor, uint64_t max_ms);

/*
 * Is a banned at now_ms?  Lock-free when the table is empty, else one
 * read-locked probe per prefix length in use; no allocation.  Returns
 * 1 and fills *ret_hit (may be NULL) when banned, 0 when not.
 * Allow-listed addresses are never banned.
 */
int		ban_check(struct ban_table *t, const union sw_addr *a,
		    uint64_t now_ms, struct ban_hit *ret_hit);

/*
 * Ban key (host bits are cleared) for the reason in ev.  A key already
 * banned keeps its end (unless ev carries a longer fixed duration) and
 * gains the evidence count; a remembered key is banned again with one
 * more strike.  *ret_e (may be NULL) receives the entry as it is now,
 * for the event and the store.
 * Returns 0 banned now, 1 was already banned (evidence merged),
 * -EPERM allow-listed, -EINVAL bad key (family, or shorter than
 * BAN_MIN_PLEN4/6) or reason, -SBC_EFULL table full of active bans.
 */
int		ban_add(struct ban_table *t, const struct cidr *key,
		    const struct ban_evidence *ev, uint64_t now_ms,
		    struct ban_entry *ret_e);

/*
 * Insert an entry loaded from the store as it is (strikes, times,
 * evidence), replacing one with the same key; hits are reset.  A ban
 * whose until passed while the daemon was down is reported by the next
 * sweep (BAN_SW_EXPIRED) like any other.  A row of strike history
 * alone (the ban is over and was reported) has reason BAN_R_NONE and
 * until = when its last ban ended: it is REMEMBERED at once and never
 * reported as expired.
 * Returns 0 loaded, 1 skipped (strike memory already expired),
 * -EPERM allow-listed, -EINVAL, -SBC_EFULL.
 */
int		ban_load(struct ban_table *t, const struct ban_entry *e,
		    uint64_t now_ms);

/* Remove key, strikes and all (an operator's unban).  *ret_e (may be
 * NULL) gets the entry.  0 or -SBC_ENOTFOUND. */
int		ban_remove(struct ban_table *t, const struct cidr *key,
		    struct ban_entry *ret_e);

/* Copy of key's entry.  0 or -SBC_ENOTFOUND. */
int		ban_get(struct ban_table *t, const struct cidr *key,
		    uint64_t now_ms, struct ban_entry *ret_e,
		    enum ban_state *ret_state);

/*
 * Expiry sweep, called about once a second: bans whose until has
 * passed become REMEMBERED (BAN_SW_EXPIRED), remembered entries past
 * until + forget are deleted (BAN_SW_FORGOTTEN), and active host bans
 * the allow list now covers are deleted (BAN_SW_ALLOWLISTED).  Fills
 * out[0..cap) and returns how many; when it returns cap, call again:
 * reported entries have changed state, so nothing is reported twice.
 */
size_t		ban_sweep(struct ban_table *t, uint64_t now_ms,
		    struct ban_swept *out, size_t cap);

/*
 * Call fn for a copy of every entry (no lock held during fn, so fn may
 * call into the table; entries changed meanwhile may be missed or seen
 * in their new state).  Stops when fn returns non-zero and returns that
 * value; 0 after the last entry.
 */
typedef int	ban_foreach_fn(void *arg, const struct ban_entry *e,
		    enum ban_state state);
int		ban_foreach(struct ban_table *t, uint64_t now_ms,
		    ban_foreach_fn *fn, void *arg);

/*
 * Replace the allow list (borrowed).  Returns the previous one, which
 * the caller frees only once no worker can still be inside ban_check()
 * or ban_add() with it (the same grace rule as for the configuration
 * snapshot it came from).  Call ban_sweep() afterwards to lift bans
 * the new list covers.
 */
const struct acl *ban_set_allowlist(struct ban_table *t,
		    const struct acl *allow);

/* Duration of the ban with this many strikes (>= 1) under t's rules. */
uint64_t	ban_duration(const struct ban_table *t, uint32_t strikes);
void		ban_stats(struct ban_table *t, struct ban_stats *ret);

/* "manual", "auth_failures", ... (snake_case, as event reasons and
 * store rows want them); "none" for BAN_R_NONE. */
const char	*ban_reason_name(enum ban_reason r);
/* BAN_R_NONE when name is unknown. */
enum ban_reason	 ban_reason_from_name(struct slice name);
const char	*ban_state_name(enum ban_state s);

#endif
