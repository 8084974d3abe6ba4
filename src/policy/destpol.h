/*
 * Destination policy (FRAUD1, FRAUD3): may an account of a group call
 * this number?  Built once from the config and the high-risk prefix
 * list into an immutable snapshot (a digit trie per group), so that a
 * decision is a walk of at most 15 digits with no lock, and a reload
 * swaps the snapshot as a whole.
 *
 * Every dialled string is first brought to E.164 with the dial plan
 * (e164.h), so "+882..", "00882..", "011 882..", "%2B882.." and
 * tel:+882.. meet the same rule.  Order of a decision:
 *   1. an emergency number (as dialled, or as E.164): allowed, always;
 *   2. an extension (short number): internal, allowed;
 *   3. a feature code ("*72" ...): allowed, unless it carries a number
 *      longer than an extension (call forwarding "*72*0114420..."),
 *      which is then checked as a destination itself;
 *   4. the longest prefix among the group's allow and deny lists, the
 *      high-risk list and dialplan.internal decides (on a tie: deny,
 *      then allow, then internal, then the list); high-risk entries
 *      are refused unless the group permits their category (premium,
 *      or high_risk for the rest);
 *   5. no prefix: a number outside country_code needs `international`.
 */
#ifndef SW_POLICY_DESTPOL_H
#define SW_POLICY_DESTPOL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "conf/conf.h"
#include "core/slice.h"
#include "policy/e164.h"

#define DESTPOL_RULE_MAX	63

struct destpol;

struct dp_result {
	bool		 allow;
	bool		 emergency;
	bool		 internal;		/* extension or dialplan.internal */
	/* why: "emergency" "internal" "allowed" "domestic" "international"
	 * (allowed), or "destination_denied" "high_risk" "premium"
	 * "international" "invalid_number" (refused) */
	const char	*reason;
	char		 rule[DESTPOL_RULE_MAX + 1];	/* "deny +882", "high_risk 882 intl-network" */
	char		 e164[E164_MAX_DIGITS + 2];	/* "+4490..." or the extension */
	int		 kind;			/* enum e164_kind, or -errno */
};

/*
 * Build from conf (dial plan and policy.groups) and the high-risk list
 * text (lines "prefix|category|what|source", '#' comments); a bad list
 * line is an error "line N: what".  0, or -EINVAL with a message in
 * err[0..cap), -ENOMEM.
 */
int	destpol_build(const struct sw_conf *conf, const char *list, size_t len,
	    struct destpol **ret, char *err, size_t cap);
void	destpol_free(struct destpol *p);

/* The policy keys a reload changes along with the rules. */
struct destpol_opts {
	enum conf_refer	refer;
	uint32_t	max_redirects;
	char		forward_group[CONF_GROUP_NAME_MAX + 1];
	char		core_group[CONF_GROUP_NAME_MAX + 1];	/* "" none */
};
const struct destpol_opts *destpol_opts(const struct destpol *p);

/* The group index of name; the "default" group when there is none. */
size_t	destpol_group(const struct destpol *p, const char *name);
const struct conf_group *destpol_group_conf(const struct destpol *p,
	    size_t group);
size_t	destpol_ngroups(const struct destpol *p);

/* Is now (local time) inside one of the group's time windows? Always
 * when it has none; a window ending before it starts runs past
 * midnight. */
bool	destpol_in_hours(const struct destpol *p, size_t group, time_t now);

/* Decide a dialled string (a URI user part or tel: number, as it came). */
void	destpol_check(const struct destpol *p, size_t group, struct slice dialled,
	    struct dp_result *ret);

/* Entries of the high-risk list loaded. */
size_t	destpol_list_size(const struct destpol *p);

/* The built-in list (data/high-risk-prefixes.txt). */
extern const uint8_t	highrisk_builtin[];
extern const size_t	highrisk_builtin_len;

/*
 * The policy of a config: destpol_build() over policy.high_risk_file
 * (a path from the config, see conf_path_resolve) or the built-in list.
 * Errors name the file: "FILE: line N: what".
 */
int	destpol_from_conf(const struct sw_conf *conf, struct destpol **ret,
	    char *err, size_t cap);

#endif
