/*
 * The persistent store (DESIGN.md section 4): accounts, registrations,
 * bans and their strike history, usage counters, call records and the
 * history of config changes, in one SQLite 3 file in WAL mode.
 *
 * This module owns the file format (schema, versioned with PRAGMA
 * user_version and migrated forward on open), the validation of every
 * value written, and nothing else: it does not log, does not look at
 * the clock (callers pass "now") and keeps no cache of rows.  The
 * daemon loads what it needs into its in-memory tables and keeps them
 * in sync (store_changed, store_gen); SIP workers never call in here,
 * they hand records to the store writer thread (store/writer.h).
 *
 * Threads: one struct store per thread.  A struct store wraps one
 * SQLite connection and its cached prepared statements and must never
 * be used by two threads at once.  Several connections, in one process
 * or several (daemon and CLI), may use the same file concurrently;
 * writers wait up to STORE_BUSY_TIMEOUT_MS for each other.
 *
 * Strings: every char array in the structs below is NUL-terminated and
 * bounded by the named maximum (bytes, NUL excluded).  Input strings
 * are length-checked and refused (-EINVAL) when too long, empty where a
 * value is required, or when they contain control characters.
 *
 * Errors: every function returns 0 or a negative errno value:
 *	-EINVAL		a value failed validation (nothing was written)
 *	-ENOENT		no such row (or no store file without STORE_CREATE)
 *	-EEXIST		the row exists already (account add)
 *	-EBUSY		another connection held the lock for longer than
 *			STORE_BUSY_TIMEOUT_MS, or a cached statement is in
 *			use (a list callback called the same list function)
 *	-ENOSPC		disk full
 *	-EROFS		the file or its directory is read-only
 *	-EBADMSG	not a sipwall store, or a corrupt one
 *	-EPROTO		the schema is newer than this program understands
 *	-ENOMEM, -EIO	the rest
 * store_strerror() turns them into a message.
 */
#ifndef SW_STORE_STORE_H
#define SW_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_SCHEMA_VERSION	6	/* PRAGMA user_version written */
#define STORE_APPLICATION_ID	0x53574442	/* "SWDB", PRAGMA application_id */
#define STORE_BUSY_TIMEOUT_MS	5000

/* Field maxima in bytes, NUL excluded. */
#define STORE_USERNAME_MAX	64
#define STORE_DOMAIN_MAX	253	/* a DNS name; also the digest realm */
#define STORE_GROUP_MAX		31
#define STORE_CIDR_MAX		49	/* "ffff:...:ffff/128" */
#define STORE_MAX_CIDRS		16	/* entries in allow_cidrs */
#define STORE_CIDRS_MAX		((STORE_CIDR_MAX + 1) * STORE_MAX_CIDRS)
#define STORE_HA1_MD5_LEN	32	/* exactly, lowercase hex */
#define STORE_HA1_SHA256_LEN	64	/* exactly, lowercase hex */
#define STORE_PWFP_LEN		64	/* exactly, lowercase hex, or empty */
#define STORE_MAX_CONTACTS	1000	/* upper bound of max_contacts */
#define STORE_DEFAULT_GROUP	"default"
#define STORE_DEFAULT_MAX_CONTACTS 5

#define STORE_AOR_MAX		(STORE_USERNAME_MAX + 1 + STORE_DOMAIN_MAX)
#define STORE_CONTACT_MAX	1024	/* longer contacts must be refused by the registrar */
#define STORE_IP_MAX		45	/* INET6_ADDRSTRLEN - 1 */
#define STORE_TRANSPORT_MAX	7	/* "udp" "tcp" "tls" "ws" "wss" */
#define STORE_UA_MAX		255
#define STORE_CALLID_MAX	256
#define STORE_Q_MAX		5	/* "0.001" .. "1.000", or empty */
#define STORE_INSTANCE_MAX	127	/* +sip.instance, e.g. "<urn:uuid:...>" */

#define STORE_BAN_KEY_MAX	STORE_CIDR_MAX	/* address or prefix */
#define STORE_REASON_MAX	31	/* [a-z0-9_]+ */
#define STORE_EVIDENCE_MAX	1023	/* a JSON object */
#define STORE_ORIGIN_MAX	63	/* node name */
#define STORE_BAN_REASON_MANUAL	"manual"

#define STORE_META_KEY_MAX	63
#define STORE_META_VALUE_MAX	1023

/* store_open() flags. */
#define STORE_CREATE		0x1	/* create the file (mode 0600) if absent */
#define STORE_SYNC_FULL		0x2	/* synchronous=FULL: fsync every commit */

struct store;

/*
 * Open (and with STORE_CREATE create, mode 0600; the directory must
 * exist) the store at path, set WAL mode, synchronous=NORMAL (FULL with
 * STORE_SYNC_FULL), busy timeout, foreign keys, and migrate its schema
 * to STORE_SCHEMA_VERSION.  A schema newer than that is refused with
 * -EPROTO; a SQLite file of another application with -EBADMSG.
 * store_open_diag() also writes a one-line explanation of a failure
 * into reterr_msg[0..cap) (may be NULL).
 * Returns 0 and *ret_st (free with store_close), or a negative errno.
 */
int	store_open(const char *path, unsigned flags, struct store **ret_st);
int	store_open_diag(const char *path, unsigned flags,
	    struct store **ret_st, char *reterr_msg, size_t cap);
/* Close; NULL is a no-op.  An open transaction is rolled back. */
void	store_close(struct store *st);
/* The schema version of the open store (STORE_SCHEMA_VERSION). */
int	store_schema_version(struct store *st);

/* Message for an error returned by this module. */
const char *store_strerror(int err);

/*
 * Transactions.  store_begin() starts a write transaction (BEGIN
 * IMMEDIATE: the write lock is taken now, waiting up to the busy
 * timeout) or, inside one, a savepoint; store_commit() and
 * store_rollback() end the innermost.  Functions below that write
 * several rows run in their own (nested) transaction.
 */
int	store_begin(struct store *st);
int	store_commit(struct store *st);
int	store_rollback(struct store *st);

/*
 * Change detection, cheap enough to poll every second.  *ret_changed
 * is true when another connection (the CLI, the writer thread)
 * committed since the previous call (or since store_open).  Our own
 * commits do not count.
 */
int	store_changed(struct store *st, bool *ret_changed);

/*
 * Generation counters, bumped by triggers on every change to a table;
 * after store_changed() said yes, compare them to know what to reload.
 */
enum store_gen_kind {
	STORE_GEN_ACCOUNTS = 0,
	STORE_GEN_BANS,
	STORE_GEN_RESETS,		/* usage_resets: sipwall account unblock */
	STORE_GEN_MAX
};
int	store_gen(struct store *st, enum store_gen_kind kind, uint64_t *ret_gen);

/* Small key/value facts (meta table); keys [a-z0-9._-]+. */
int	store_meta_get(struct store *st, const char *key, char *ret_value,
	    size_t cap);
int	store_meta_set(struct store *st, const char *key, const char *value);

/*
 * Keyed fingerprint of a password: HMAC-SHA256 under a random secret
 * that lives only in this store (created on first use), as 64 hex
 * digits.  Equal passwords give equal fingerprints whatever the user or
 * realm, so reuse is detectable without storing the password (which
 * HA1, salted by user and realm, cannot show).  The password is not
 * kept; the key is wiped after use.
 */
int	store_pw_fingerprint(struct store *st, const char *pw, size_t len,
	    char ret_hex[STORE_PWFP_LEN + 1]);

/*
 * Accounts.  (username, domain) is unique; the domain is compared
 * case-insensitively (it is stored lowercase), the username is not
 * (RFC 3261 19.1.4).  The domain is also the digest realm of the HA1s.
 */
struct store_account {
	int64_t		id;			/* assigned by add */
	char		username[STORE_USERNAME_MAX + 1];
	char		domain[STORE_DOMAIN_MAX + 1];
	char		ha1_md5[STORE_HA1_MD5_LEN + 1];
	char		ha1_sha256[STORE_HA1_SHA256_LEN + 1];
	char		pw_fp[STORE_PWFP_LEN + 1];	/* "" when unknown */
	char		grp[STORE_GROUP_MAX + 1];	/* "" on add: "default" */
	char		allow_cidrs[STORE_CIDRS_MAX + 1];	/* "" = any source */
	uint32_t	max_contacts;		/* 1..STORE_MAX_CONTACTS */
	bool		enabled;
	int64_t		created;		/* unix time */
	int64_t		rotated;		/* 0: never */
	int64_t		locked_until;		/* 0: not locked */
};

/*
 * Return 0 to go on; anything else stops the walk and is what the list
 * function returns.  The record is valid only during the call.  A
 * callback may read the store with other functions but not call the
 * list function it is called from (-EBUSY), and must not write.
 */
typedef int (*store_account_fn)(void *arg, const struct store_account *a);

/* Insert; allow_cidrs is validated and canonicalised.  -EEXIST if taken. */
int	store_account_add(struct store *st, const struct store_account *a,
	    int64_t *ret_id);
int	store_account_get(struct store *st, const char *username,
	    const char *domain, struct store_account *ret_a);
/* Every account, ordered by domain then username. */
int	store_account_list(struct store *st, store_account_fn fn, void *arg);

/* Fields for store_account_update(). */
#define STORE_ACC_GROUP		0x01
#define STORE_ACC_CIDRS		0x02
#define STORE_ACC_MAX_CONTACTS	0x04
/* Change the fields named in `fields` of the account a->username@a->domain. */
int	store_account_update(struct store *st, const struct store_account *a,
	    unsigned fields);
int	store_account_set_enabled(struct store *st, const char *username,
	    const char *domain, bool enabled);
/* Rotate: new HA1s and fingerprint (pw_fp may be ""), rotated = now. */
int	store_account_set_ha1(struct store *st, const char *username,
	    const char *domain, const char *ha1_md5, const char *ha1_sha256,
	    const char *pw_fp, int64_t now);
int	store_account_set_locked_until(struct store *st, const char *username,
	    const char *domain, int64_t until);
/* Delete the account and its registrations; *ret_nreg (may be NULL). */
int	store_account_delete(struct store *st, const char *username,
	    const char *domain, unsigned *ret_nreg);

/*
 * Registrations, one row per (AOR, contact).  The AOR is
 * "username@domain" (domain lowercase, as for accounts).
 */
struct store_reg {
	char		aor[STORE_AOR_MAX + 1];
	char		contact[STORE_CONTACT_MAX + 1];
	char		source[STORE_IP_MAX + 1];	/* numeric IP */
	uint16_t	sport;
	char		transport[STORE_TRANSPORT_MAX + 1];
	int64_t		expires;		/* absolute unix time */
	char		user_agent[STORE_UA_MAX + 1];
	char		call_id[STORE_CALLID_MAX + 1];
	uint32_t	cseq;
	char		q[STORE_Q_MAX + 1];		/* "" when absent */
	char		instance[STORE_INSTANCE_MAX + 1];	/* "" when absent */
	uint32_t	reg_id;			/* 0 when absent */
	int64_t		updated;		/* unix time */
};

typedef int (*store_reg_fn)(void *arg, const struct store_reg *r);

/* Insert or replace the row (aor, contact). */
int	store_reg_upsert(struct store *st, const struct store_reg *r);
/* -ENOENT when there was no such row. */
int	store_reg_delete(struct store *st, const char *aor, const char *contact);
/* Delete every contact of aor; *ret_n (may be NULL) how many. */
int	store_reg_delete_aor(struct store *st, const char *aor, unsigned *ret_n);
/* The rows of aor (NULL: all), ordered by aor then contact. */
int	store_reg_list(struct store *st, const char *aor, store_reg_fn fn,
	    void *arg);
/* The rows with expires > now (what the daemon loads at start). */
int	store_reg_load_unexpired(struct store *st, int64_t now,
	    store_reg_fn fn, void *arg);
int	store_reg_delete_expired(struct store *st, int64_t now, unsigned *ret_n);
/* Unexpired contacts of aor. */
int	store_reg_count(struct store *st, const char *aor, int64_t now,
	    unsigned *ret_n);

/*
 * Bans (PROT3).  The key is a canonical address ("192.0.2.1",
 * "2001:db8::1") or prefix ("192.0.2.0/24", "2001:db8::/64"); see
 * store_ban_key_canon().  until 0 means permanent, allowed only with
 * the reason STORE_BAN_REASON_MANUAL.
 */
struct store_ban {
	char		key[STORE_BAN_KEY_MAX + 1];
	char		reason[STORE_REASON_MAX + 1];	/* "auth_failures", ... */
	int64_t		since;
	int64_t		until;			/* 0: permanent (manual) */
	uint32_t	strikes;		/* >= 1 */
	char		evidence[STORE_EVIDENCE_MAX + 1];	/* JSON object, "" = {} */
	char		origin[STORE_ORIGIN_MAX + 1];	/* node name */
};

typedef int (*store_ban_fn)(void *arg, const struct store_ban *b);

/* Insert or replace the ban on b->key (canonicalised). */
int	store_ban_put(struct store *st, const struct store_ban *b);
int	store_ban_get(struct store *st, const char *key, struct store_ban *ret_b);
/* -ENOENT when there was no such ban.  The history is kept. */
int	store_ban_delete(struct store *st, const char *key);
/* Every ban, expired ones too, ordered by key. */
int	store_ban_list(struct store *st, store_ban_fn fn, void *arg);
/* Bans in force at now: until == 0 or until > now. */
int	store_ban_load_active(struct store *st, int64_t now, store_ban_fn fn,
	    void *arg);
int	store_ban_delete_expired(struct store *st, int64_t now, unsigned *ret_n);

/*
 * Strike history, kept after a ban expires so that the next ban on the
 * same key escalates.  get: -ENOENT when the key has none.
 */
int	store_ban_history_get(struct store *st, const char *key,
	    uint32_t *ret_strikes, int64_t *ret_last);
int	store_ban_history_put(struct store *st, const char *key,
	    uint32_t strikes, int64_t last);
/* Every history row whose last strike is at or after `since`. */
typedef int (*store_hist_fn)(void *arg, const char *key, uint32_t strikes,
	    int64_t last);
int	store_ban_history_list(struct store *st, int64_t since,
	    store_hist_fn fn, void *arg);
/* Forget history whose last strike is older than `before`. */
int	store_ban_history_prune(struct store *st, int64_t before, unsigned *ret_n);

/*
 * Usage counters of the fraud limits (FRAUD2), one row per account
 * ("username@domain", as an AOR): what its current minute and current
 * day have used.  The daemon writes a row (through the writer) when
 * the counters change and loads them all at start, so that a restart
 * does not hand out a fresh allowance.  minute is the unix minute
 * (time / 60) calls_minute counts in; day the local day number (days
 * since 1970-01-01 in the daemon's time zone) the day counters are for.
 * A counter whose minute/day has passed counts as 0; callers compare.
 */
struct store_usage {
	char		account[STORE_AOR_MAX + 1];
	int64_t		minute;
	uint32_t	calls_minute;
	int64_t		day;
	uint32_t	calls_day;
	uint32_t	seconds_day;		/* answered call time */
	uint32_t	blocked_day;		/* calls refused by a limit */
	uint32_t	active;			/* calls up when written (shown
						 * by the CLI; 0 after a restart) */
	int64_t		updated;		/* unix time */
};

typedef int (*store_usage_fn)(void *arg, const struct store_usage *u);

/* Insert or replace the row of u->account. */
int	store_usage_put(struct store *st, const struct store_usage *u);
/* -ENOENT when the account has no row. */
int	store_usage_get(struct store *st, const char *account,
	    struct store_usage *ret_u);
/* Every row, ordered by account. */
int	store_usage_list(struct store *st, store_usage_fn fn, void *arg);

/*
 * An operator's reset (sipwall account unblock): the row's counters
 * become 0 now, and a reset request (account, at = now) is queued in
 * the usage_resets table for a running daemon, whose counters live in
 * memory; it bumps STORE_GEN_RESETS.  The daemon lists the requests,
 * zeroes its counters, and deletes each one it applied.
 */
int	store_usage_reset(struct store *st, const char *account, int64_t now);
typedef int (*store_reset_fn)(void *arg, const char *account, int64_t at);
int	store_usage_resets(struct store *st, store_reset_fn fn, void *arg);
/* Delete the request (account, at); -ENOENT when there is none. */
int	store_usage_reset_done(struct store *st, const char *account,
	    int64_t at);

/*
 * Call records (CDRs, OBS3), one row per call attempt, keyed by
 * (call_id, started_ms): the caller's Call-ID alone may come back (a
 * phone reusing one, a re-sent INVITE after a restart).  The daemon
 * writes a row through the writer when a call is answered, every few
 * seconds while it is up and when it ends, each time the whole row
 * (store_call_put replaces it); a call refused or failed before it
 * was answered gets one row, at its end.  The store does not look at
 * the clock and does not judge whether the timestamps make sense.
 * Times are unix milliseconds, 0 for "not (yet)"; the table also has
 * a virtual column duration_ms (ended_ms - answered_ms of an answered
 * and ended call, else 0) for reports written in SQL.
 *
 * Text that comes from the network (call_id, from_user, to_user) is
 * stored with every byte that could not be printed safely (control
 * characters, invalid UTF-8) replaced by '?', so that a hostile header
 * cannot keep a call out of the table; every other field is validated
 * as usual (-EINVAL).  Each field must hold its NUL.
 */
#define STORE_CALL_ID_MAX	128
#define STORE_CALL_USER_MAX	64	/* account, from_user, to_user */
#define STORE_CALL_DIR_MAX	15	/* [a-z0-9_]+: "outbound" "inbound"
					 * "trunk_in" "trunk_out" */
#define STORE_CALL_SRC_MAX	63	/* "ip:port" or "[v6]:port" */
#define STORE_CALL_REASON_MAX	63	/* printable; "" while active */
#define STORE_CALL_STATE_MAX	7
#define STORE_CALL_STATUS_MAX	999	/* SIP status codes have 3 digits */
#define STORE_CALL_ACTIVE	"active"
#define STORE_CALL_ENDED	"ended"
#define STORE_CALL_LOST		"lost"	/* its daemon went away */
#define STORE_CALL_ZONE_MAX	31	/* a zone name (conf.h) */
#define STORE_CALL_TARGET_MAX	63	/* "core:ip:port" "trunk:NAME" "user:U" */
#define STORE_CALL_OUTCOME_MAX	9
#define STORE_CALL_VERDICTS_MAX	255	/* "auth:digest,dest:domestic,..." */
#define STORE_CALL_ENC_MAX	31	/* "" "rtp" "srtp" or an SRTP suite */

/*
 * Outcomes, a closed set (the table's CHECK): "" while undecided (a
 * call not answered yet), then one of
 *	answered	a 2xx reached the caller (whatever ended it later)
 *	refused		sipwall refused it: policy, SRTP/SDP, limits, overload
 *	failed		the callee side did not answer it: 4xx-6xx, timeout,
 *			no route, not registered
 *	cancelled	the caller gave up (CANCEL) before an answer
 */
#define STORE_CALL_ANSWERED	"answered"
#define STORE_CALL_REFUSED	"refused"
#define STORE_CALL_FAILED	"failed"
#define STORE_CALL_CANCELLED	"cancelled"

/*
 * What sipwall received from one leg, summed over its streams.  The
 * unsigned counters must stay <= INT64_MAX (SQLite's integers).
 */
struct store_call_media {
	uint64_t	packets, bytes, ooo, auth_failed, foreign;
	int64_t		lost;		/* may be < 0 (duplicates) */
	uint32_t	jitter_us;	/* the worst stream's */
	uint8_t		srtp;		/* 1: media with this leg was SRTP */
	uint8_t		has_media;	/* 0: no stream was set up with it */
};

struct store_call {
	char		call_id[STORE_CALL_ID_MAX + 1];	/* the caller's */
	char		account[STORE_CALL_USER_MAX + 1];	/* may be "" */
	char		from_user[STORE_CALL_USER_MAX + 1];
	char		to_user[STORE_CALL_USER_MAX + 1];
	char		direction[STORE_CALL_DIR_MAX + 1];
	char		src[STORE_CALL_SRC_MAX + 1];	/* caller's address */
	int64_t		started_ms, answered_ms, ended_ms;	/* >= 0 */
	uint16_t	status;		/* final SIP status; 0 while active */
	/* why it ended: "bye", "cancel", "media_timeout", ... */
	char		reason[STORE_CALL_REASON_MAX + 1];
	char		state[STORE_CALL_STATE_MAX + 1];	/* STORE_CALL_* */
	uint8_t		anchored;	/* 0/1: media relayed by sipwall */
	struct store_call_media leg[2];	/* [0] caller's, [1] callee's leg */
	/* schema 6 */
	char		zone_a[STORE_CALL_ZONE_MAX + 1];	/* caller's leg */
	char		zone_b[STORE_CALL_ZONE_MAX + 1];	/* "": not routed */
	char		target[STORE_CALL_TARGET_MAX + 1];	/* "": not routed */
	char		outcome[STORE_CALL_OUTCOME_MAX + 1];	/* see above */
	/* the policy decisions taken, in order, "key:value,..." */
	char		verdicts[STORE_CALL_VERDICTS_MAX + 1];
	/* how each leg's media went: "" (not anchored or not settled),
	 * "rtp", an SRTP suite ("AES_CM_128_HMAC_SHA1_80"), or "srtp" for
	 * a record from before schema 6 */
	char		enc[2][STORE_CALL_ENC_MAX + 1];
};

/*
 * Unlike the other list callbacks the record comes first: return 0 to
 * go on, anything else stops the walk and is returned.
 */
typedef int (*store_call_fn)(const struct store_call *c, void *arg);

/* Insert or replace the row of (c->call_id, c->started_ms). */
int	store_call_put(struct store *st, const struct store_call *c);
/*
 * Rows newest first (by started_ms, then call_id), at most limit
 * (0: no limit); active_only: only state "active".  A row that fails
 * validation (edited by hand) stops the walk with -EBADMSG.
 */
int	store_call_list(struct store *st, bool active_only, size_t limit,
	    store_call_fn fn, void *arg);
/* The same, only the rows whose outcome is `outcome` (NULL: any). */
int	store_call_list_outcome(struct store *st, bool active_only,
	    const char *outcome, size_t limit, store_call_fn fn, void *arg);
/* Is s one of the outcomes above ("" included)? */
bool	store_call_outcome_valid(const char *s);
/*
 * At daemon start: rows still "active" belong to a process that is
 * gone; mark them "lost" (ended_ms stays 0).  Returns the number of
 * rows changed (at most INT_MAX is reported) or a negative errno.
 */
int	store_call_mark_lost(struct store *st);
/*
 * Delete the ended and lost rows whose started_ms < before_ms; active
 * ones stay.  Returns the number of rows deleted or a negative errno.
 */
int	store_call_prune(struct store *st, int64_t before_ms);

/*
 * Baselines of the alert engine (OBS4): one row per (metric, slot of
 * the week), the EWMA of the metric's count per alert window in that
 * hour of the week (obs/baseline.h says how it is learned), and the
 * countries each account has called (FRAUD4: the first call to a new
 * one alerts).  The daemon writes both through the writer and loads
 * them at start; the rows are bounded by what the daemon keeps in
 * memory (it adds a country only while its own table has room).
 */
#define STORE_METRIC_MAX	31	/* [a-z0-9_]+ */
#define STORE_BASELINE_SLOTS	168	/* hours of the week, Monday 00h first */
#define STORE_CC_MAX		3	/* E.164 country code, digits */

struct store_baseline {
	char		metric[STORE_METRIC_MAX + 1];
	uint32_t	slot;			/* 0..STORE_BASELINE_SLOTS-1 */
	double		value;			/* >= 0, finite */
	uint32_t	samples;		/* windows learned */
	int64_t		updated;		/* unix time */
};

typedef int (*store_baseline_fn)(void *arg, const struct store_baseline *b);

/* Insert or replace the row (b->metric, b->slot). */
int	store_baseline_put(struct store *st, const struct store_baseline *b);
/* Every row, ordered by metric then slot. */
int	store_baseline_list(struct store *st, store_baseline_fn fn, void *arg);

/* Remember that account (as an AOR or user name) called country cc
 * (1-3 digits); a pair already known keeps its first time. */
int	store_country_add(struct store *st, const char *account, const char *cc,
	    int64_t first);
typedef int (*store_country_fn)(void *arg, const char *account,
	    const char *cc, int64_t first);
/* Every pair, ordered by account then cc. */
int	store_country_list(struct store *st, store_country_fn fn, void *arg);

/*
 * The history of config changes (OPS3): one row per reload attempt,
 * applied or refused, with who asked for it (actor: "sighup",
 * "ctl:uid=0", ...), a one-line summary and the diff of the config
 * text (unified diff, may be ""), newest rows last by id.  The store
 * keeps the last STORE_CONFIG_KEEP rows (older ones are deleted by
 * store_config_change_add) so that a reload loop cannot fill the
 * disk.  The store keeps the diff as given: the caller leaves secrets
 * (passwords, token hashes) out of it.
 *
 * Writes are synchronous on the caller's connection (the daemon's main
 * thread, which reloads; not through the writer): a reload is rare and
 * its record must be in the store when the reload is reported.  They
 * may wait up to STORE_BUSY_TIMEOUT_MS for the writer thread.
 *
 * summary and diff come from config files and error messages: bytes
 * that could not be printed safely (controls other than the diff's
 * newlines and tabs, invalid UTF-8) are replaced by '?' rather than
 * refused, so that the record is never lost; actor and result are
 * validated (-EINVAL).
 */
#define STORE_CONFIG_ACTOR_MAX		127	/* printable, required */
#define STORE_CONFIG_RESULT_MAX		7	/* "applied" "refused" */
#define STORE_CONFIG_SUMMARY_MAX	1023	/* printable, one line */
#define STORE_CONFIG_DIFF_MAX		(256 * 1024)	/* lines, may be "" */
#define STORE_CONFIG_KEEP		1000	/* rows kept */
#define STORE_CONFIG_APPLIED		"applied"
#define STORE_CONFIG_REFUSED		"refused"

struct store_config_change {
	int64_t		id;			/* ascending with time */
	int64_t		at_ms;			/* unix ms, >= 0 */
	char		actor[STORE_CONFIG_ACTOR_MAX + 1];
	char		result[STORE_CONFIG_RESULT_MAX + 1];
	char		summary[STORE_CONFIG_SUMMARY_MAX + 1];
	/* NUL-terminated, borrowed: valid only during the callback */
	const char	*diff;
	size_t		diff_len;
};

/* As store_call_fn: the record first; non-zero stops the walk. */
typedef int (*store_config_change_fn)(const struct store_config_change *c,
	    void *arg);

/*
 * Record one change (at_ms >= 0; result STORE_CONFIG_APPLIED or
 * STORE_CONFIG_REFUSED; summary at most STORE_CONFIG_SUMMARY_MAX bytes
 * and diff at most STORE_CONFIG_DIFF_MAX, both required non-NULL, after
 * scrubbing as above; longer ones are -EINVAL, never cut).  Deletes
 * the rows beyond the last STORE_CONFIG_KEEP in the same transaction.
 */
int	store_config_change_add(struct store *st, int64_t at_ms,
	    const char *actor, const char *result, const char *summary,
	    const char *diff);
/*
 * The newest max rows (0: all), newest first.  A row that fails
 * validation (edited by hand) stops the walk with -EBADMSG.
 */
int	store_config_changes_list(struct store *st, size_t max,
	    store_config_change_fn fn, void *arg);

/*
 * Validation and canonical forms, shared with the CLI and the daemon.
 *
 * store_ban_key_canon: an IPv4/IPv6 address, or an address with a
 * prefix length whose host bits are zero; a full-length prefix
 * (/32, /128) becomes the bare address, an IPv4-mapped IPv6 address or
 * prefix becomes IPv4.  Writes the canonical text to ret[0..cap);
 * 0 or -EINVAL.
 * store_cidr_canon: same, but the result always carries a prefix
 * length ("192.0.2.1" becomes "192.0.2.1/32").
 * store_cidrs_canon: a space-separated list of at most STORE_MAX_CIDRS
 * such CIDRs (duplicates removed); "" stays "".
 * ret_prefix and ret_family (may be NULL) receive: the prefix length and AF_INET or
 * AF_INET6 of the canonical form.
 */
int	store_ban_key_canon(const char *in, char *ret, size_t cap,
	    unsigned *ret_prefix, int *ret_family);
int	store_cidr_canon(const char *in, char *ret, size_t cap);
int	store_cidrs_canon(const char *in, char *ret, size_t cap);
/* 1..STORE_USERNAME_MAX bytes of RFC 3261 unreserved/user-unreserved. */
bool	store_username_valid(const char *username);
/* Lowercase a domain into ret[0..cap); 0 or -EINVAL. */
int	store_domain_canon(const char *domain, char *ret, size_t cap);
/* 1..STORE_GROUP_MAX bytes of [A-Za-z0-9_.-]. */
bool	store_group_valid(const char *grp);
/* 1..STORE_REASON_MAX bytes of [a-z0-9_]. */
bool	store_reason_valid(const char *reason);

#endif
