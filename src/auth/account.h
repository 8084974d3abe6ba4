/*
 * The in-memory account table the SIP workers authenticate against.
 * The daemon loads it from the store at start and re-applies the store
 * whenever another process (the CLI) changed it; workers only read.
 * Striped read/write locks: a lookup takes one stripe's read lock for
 * the time of a copy, never a global lock.
 *
 * Owns: the table and copies of account rows.  Does not own: the store
 * (loading is the daemon's job) or any decision (digest.c, the daemon).
 */
#ifndef SW_AUTH_ACCOUNT_H
#define SW_AUTH_ACCOUNT_H

#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/slice.h"

#define ACCT_USER_MAX		64
#define ACCT_DOMAIN_MAX		64
#define ACCT_GROUP_MAX		32
#define ACCT_MAX_CIDRS		16

struct acct_prefix {
	union sw_addr	addr;
	uint8_t		plen;
};

/* One account as the workers need it; HA1 values as lowercase hex. */
struct account_info {
	int64_t		id;
	char		username[ACCT_USER_MAX + 1];
	char		domain[ACCT_DOMAIN_MAX + 1];
	char		ha1_md5[33];
	char		ha1_sha256[65];
	char		group[ACCT_GROUP_MAX + 1];
	uint8_t		enabled;
	uint32_t	max_contacts;
	int64_t		locked_until;		/* unix seconds, 0 = not */
	size_t		ncidrs;
	struct acct_prefix cidrs[ACCT_MAX_CIDRS];	/* empty: any source */
};

struct acct_table;

int	acct_table_new(size_t expected, struct acct_table **ret);
void	acct_table_free(struct acct_table *t);
/* Copy the account (username, domain) into *ret.  0 or -ENOENT. */
int	acct_lookup(struct acct_table *t, struct slice user, struct slice domain,
	    struct account_info *ret);
/*
 * Make the table hold exactly infos[0..n): add, update in place, and
 * drop accounts no longer listed.  Called by one thread (the loader);
 * readers see each account either before or after, never torn.
 * Returns the number of accounts changed (added, updated or dropped).
 */
size_t	acct_table_sync(struct acct_table *t, const struct account_info *infos,
	    size_t n);
size_t	acct_table_count(struct acct_table *t);
/* May a source use this account (its CIDR list, if any)? */
int	acct_source_allowed(const struct account_info *a,
	    const union sw_addr *src);

#endif
