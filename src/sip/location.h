/*
 * The location service: bindings of addresses-of-record to contacts
 * (RFC 3261 10), shared by all workers.  An AOR's bindings change only
 * inside loc_update(), under its stripe's lock, so two REGISTERs for
 * the same AOR in two workers cannot lose each other's update.
 *
 * Owns: the table and copies of bindings.  Does not own: persistence
 * (the daemon writes changes to the store) or REGISTER semantics
 * (registrar.c).
 */
#ifndef SW_SIP_LOCATION_H
#define SW_SIP_LOCATION_H

#include <stddef.h>
#include <stdint.h>

#include "sip/dest.h"

#define LOC_AOR_MAX		130	/* user@domain */
#define LOC_CONTACT_MAX		512
#define LOC_CALLID_MAX		256
#define LOC_UA_MAX		128
#define LOC_INSTANCE_MAX	128
#define LOC_MAX_BINDINGS	32	/* per AOR, hard ceiling */

struct binding {
	char		contact[LOC_CONTACT_MAX + 1];	/* the URI */
	char		call_id[LOC_CALLID_MAX + 1];
	uint32_t	cseq;
	int64_t		expires;			/* unix seconds */
	int64_t		updated;
	char		user_agent[LOC_UA_MAX + 1];
	char		instance[LOC_INSTANCE_MAX + 1];	/* +sip.instance */
	uint32_t	reg_id;
	char		q[8];
	struct sip_dest	flow;				/* where it came from */
	uint8_t		nat;		/* UDP from behind a NAT (registrar.c);
					 * not stored: derived again on load */
};

struct loc_table;

int	loc_new(size_t expected_aors, struct loc_table **ret);
void	loc_free(struct loc_table *t);

/*
 * Run fn on the AOR's bindings (b[0..*n), capacity LOC_MAX_BINDINGS)
 * under the AOR's lock; fn may change, add and remove entries.  An AOR
 * left without bindings is dropped.  Returns what fn returned, or
 * -ENOMEM / -SBC_EFULL (the table holds max AORs).
 */
typedef int loc_update_fn(struct binding *b, size_t *n, void *arg);
int	loc_update(struct loc_table *t, const char *aor, loc_update_fn *fn,
	    void *arg);
/* Copy the unexpired bindings of aor into out[0..cap); returns count. */
size_t	loc_get(struct loc_table *t, const char *aor, int64_t now,
	    struct binding *out, size_t cap);
/* Insert a binding loaded from the store (start-up). */
int	loc_restore(struct loc_table *t, const char *aor,
	    const struct binding *b);
/*
 * Remove bindings expired at now; for each, call cb (may be NULL) with
 * the AOR and a copy, outside any lock.  Returns how many.
 */
size_t	loc_expire(struct loc_table *t, int64_t now,
	    void (*cb)(void *arg, const char *aor, const struct binding *b),
	    void *arg);
/*
 * A walk over the table in slices (the NAT keep-alive pass): slots are
 * the hash buckets of all stripes, loc_slots() of them, in a fixed
 * order.  loc_walk() visits the bindings of slots [cur->slot, end),
 * calling fn under the slot's stripe lock, so fn must be quick (copy
 * what it needs; no system calls, nothing that locks the table).  fn
 * returns 0 to go on, or <0 to stop before this binding: *cur then
 * names it and the next call starts with it.  A stripe lock is held
 * for at most LOC_WALK_BATCH slots at a time.  Returns 1 when fn
 * stopped, 0 when end was reached (cur->slot == end).  Bindings that
 * change between calls may be visited twice or not at all in a pass.
 */
struct loc_cursor {
	size_t	slot;
	size_t	skip;		/* bindings of that slot already visited */
};
typedef int loc_walk_fn(void *arg, const char *aor, const struct binding *b);
size_t	loc_slots(const struct loc_table *t);
int	loc_walk(struct loc_table *t, struct loc_cursor *cur, size_t end,
	    loc_walk_fn *fn, void *arg);
size_t	loc_count_aors(struct loc_table *t);
size_t	loc_count_bindings(struct loc_table *t);

/* Canonical AOR "user@domain" (domain lowercased); -SBC_ELIMIT if long. */
int	loc_aor(struct slice user, struct slice domain, char out[LOC_AOR_MAX + 1]);

#endif
