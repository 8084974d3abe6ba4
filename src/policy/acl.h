/*
 * Access lists: an immutable path-compressed binary (patricia) trie of
 * IPv4 and IPv6 prefixes, built once from an allow list and a deny
 * list, then read by any number of threads without a lock.  A new
 * configuration builds a new acl; the old one is freed by whoever owns
 * the configuration snapshot once no worker can still be reading it.
 *
 * Semantics, exactly (docs/internals/policy.md):
 *   1. The address is normalized (cidr_addr_norm: mapped IPv6 is IPv4).
 *      An address of another family is denied (ACL_W_BAD_ADDR).
 *   2. Among all listed prefixes of that family containing the
 *      address, the longest one decides.
 *   3. When that prefix is on both lists, deny wins.
 *   4. When no listed prefix contains it: allowed if the allow list is
 *      empty (ACL_W_DEFAULT_ALLOW), denied otherwise
 *      (ACL_W_DEFAULT_DENY) -- also for the family the allow list does
 *      not mention: an allow list of IPv4 prefixes denies all IPv6.
 * So "deny 10.0.0.0/8, allow 10.1.0.0/16" allows 10.1.2.3 and denies
 * 10.2.3.4; "allow 10.0.0.0/8, deny 10.0.0.0/8" denies all of it.
 *
 * Deliberately not here: ports, zones, methods (the caller picks the
 * acl for the listener's zone), names, logging.
 */
#ifndef SW_POLICY_ACL_H
#define SW_POLICY_ACL_H

#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "policy/cidr.h"

/* Most prefixes one acl takes (allow + deny). */
#define ACL_MAX_PREFIXES	(1u << 20)

struct acl;

/* Zero is deny, so a forgotten initialization fails closed. */
enum acl_verdict {
	ACL_DENY = 0,
	ACL_ALLOW = 1,
	ACL_VERDICT_MAX
};

/* Why: which rule decided. */
enum acl_why {
	ACL_W_DENY_PREFIX = 0,		/* longest match is on the deny list */
	ACL_W_ALLOW_PREFIX = 1,		/* longest match is only on allow */
	ACL_W_DEFAULT_ALLOW = 2,	/* no match, allow list empty */
	ACL_W_DEFAULT_DENY = 3,		/* no match, allow list not empty */
	ACL_W_BAD_ADDR = 4,		/* neither IPv4 nor IPv6 */
	ACL_W_MAX
};

struct acl_match {
	enum acl_verdict verdict;
	enum acl_why	 why;
	/* The deciding prefix (all zero for the ACL_W_DEFAULT_* and
	 * ACL_W_BAD_ADDR cases) and its index in the list given to
	 * acl_build() -- the deny list for ACL_W_DENY_PREFIX, the allow
	 * list for ACL_W_ALLOW_PREFIX; the first index when listed twice;
	 * -1 when no prefix decided. */
	struct cidr	 prefix;
	int32_t		 index;
};

/*
 * Build an acl from the two lists (either may be empty; the arrays are
 * only read).  Host bits in a prefix are ignored.  Returns 0 and
 * *ret_acl, -EINVAL for a prefix of an unknown family or too long,
 * -SBC_ELIMIT beyond ACL_MAX_PREFIXES in total, -ENOMEM.  One
 * allocation for the whole trie; nothing is allocated by acl_check().
 */
int		 acl_build(const struct cidr *allow, size_t nallow,
		    const struct cidr *deny, size_t ndeny, struct acl **ret_acl);
void		 acl_free(struct acl *acl);

/*
 * Decide for one address.  Lock-free, allocation-free; acl must be
 * non-NULL.  ret_m (may be NULL) receives the details.
 */
enum acl_verdict acl_check(const struct acl *acl, const union sw_addr *a,
		    struct acl_match *ret_m);

/*
 * Longest listed prefix that covers all of c (its length <= c->plen),
 * with the same allow/deny/default rules: "would every address in c
 * get this verdict from a prefix at least this short".  Used by the
 * ban table to refuse banning a prefix an allow list covers.
 */
enum acl_verdict acl_check_cidr(const struct acl *acl, const struct cidr *c,
		    struct acl_match *ret_m);

/* Prefixes given to acl_build() (allow + deny), trie nodes, bytes. */
size_t		 acl_count(const struct acl *acl);
size_t		 acl_nodes(const struct acl *acl);
size_t		 acl_memory(const struct acl *acl);

/* Stable names for events and the CLI: "deny_prefix", ... */
const char	*acl_why_name(enum acl_why why);

#endif
