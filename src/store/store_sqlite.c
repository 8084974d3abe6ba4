/*
 * The SQLite side of the store: opening (file mode, pragmas,
 * hardening), the schema and its forward migrations, transactions,
 * change detection, the meta table and the password fingerprint key,
 * the statement cache and the error mapping.  The tables themselves are
 * worked on in store_account.c, store_reg.c, store_ban.c,
 * store_usage.c, store_call.c, store_baseline.c and store_config.c;
 * value validation is in store_valid.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "core/err.h"
#include "store/store_int.h"

#define PWFP_META_KEY	"pwfp.key"
#define PWFP_KEY_LEN	32

/*
 * Schema.  Each script takes version N to N+1 and is run inside one
 * write transaction together with the user_version update, so a crash
 * in the middle leaves the previous version intact.  Never edit a
 * released script: add a new one.  Tables are STRICT (typed) and carry
 * CHECK constraints with the same bounds as store.h, so that even rows
 * written by hand with sqlite3(1) stay within what the code expects;
 * lengths are checked in bytes (CAST AS BLOB).
 */
static const char *const migrations[STORE_SCHEMA_VERSION] = {
	/* 0 -> 1: the first schema. */
	"CREATE TABLE meta ("
	"  key TEXT PRIMARY KEY NOT NULL"
	"    CHECK (length(CAST(key AS BLOB)) BETWEEN 1 AND 63),"
	"  value TEXT NOT NULL"
	"    CHECK (length(CAST(value AS BLOB)) <= 1023)"
	") STRICT;"
	"CREATE TABLE accounts ("
	"  id INTEGER PRIMARY KEY,"
	"  username TEXT NOT NULL"
	"    CHECK (length(CAST(username AS BLOB)) BETWEEN 1 AND 64),"
	"  domain TEXT NOT NULL"
	"    CHECK (length(CAST(domain AS BLOB)) BETWEEN 1 AND 253),"
	"  ha1_md5 TEXT NOT NULL CHECK (length(CAST(ha1_md5 AS BLOB)) = 32),"
	"  ha1_sha256 TEXT NOT NULL"
	"    CHECK (length(CAST(ha1_sha256 AS BLOB)) = 64),"
	"  grp TEXT NOT NULL DEFAULT 'default'"
	"    CHECK (length(CAST(grp AS BLOB)) BETWEEN 1 AND 31),"
	"  allow_cidrs TEXT NOT NULL DEFAULT ''"
	"    CHECK (length(CAST(allow_cidrs AS BLOB)) <= 800),"
	"  max_contacts INTEGER NOT NULL DEFAULT 5"
	"    CHECK (max_contacts BETWEEN 1 AND 1000),"
	"  enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),"
	"  created INTEGER NOT NULL,"
	"  rotated INTEGER NOT NULL DEFAULT 0,"
	"  locked_until INTEGER NOT NULL DEFAULT 0,"
	"  UNIQUE (username, domain)"
	") STRICT;"
	"CREATE TABLE registrations ("
	"  aor TEXT NOT NULL CHECK (length(CAST(aor AS BLOB)) BETWEEN 3 AND 318),"
	"  contact TEXT NOT NULL"
	"    CHECK (length(CAST(contact AS BLOB)) BETWEEN 1 AND 1024),"
	"  source TEXT NOT NULL CHECK (length(CAST(source AS BLOB)) BETWEEN 2 AND 45),"
	"  sport INTEGER NOT NULL CHECK (sport BETWEEN 0 AND 65535),"
	"  transport TEXT NOT NULL"
	"    CHECK (length(CAST(transport AS BLOB)) BETWEEN 1 AND 7),"
	"  expires INTEGER NOT NULL,"
	"  user_agent TEXT NOT NULL DEFAULT ''"
	"    CHECK (length(CAST(user_agent AS BLOB)) <= 255),"
	"  call_id TEXT NOT NULL DEFAULT ''"
	"    CHECK (length(CAST(call_id AS BLOB)) <= 256),"
	"  cseq INTEGER NOT NULL DEFAULT 0 CHECK (cseq BETWEEN 0 AND 4294967295),"
	"  q TEXT NOT NULL DEFAULT '' CHECK (length(CAST(q AS BLOB)) <= 5),"
	"  instance TEXT NOT NULL DEFAULT ''"
	"    CHECK (length(CAST(instance AS BLOB)) <= 127),"
	"  reg_id INTEGER NOT NULL DEFAULT 0"
	"    CHECK (reg_id BETWEEN 0 AND 4294967295),"
	"  updated INTEGER NOT NULL,"
	"  PRIMARY KEY (aor, contact)"
	") STRICT;"
	"CREATE INDEX registrations_expires ON registrations (expires);"
	"CREATE TABLE bans ("
	"  \"key\" TEXT PRIMARY KEY NOT NULL"
	"    CHECK (length(CAST(\"key\" AS BLOB)) BETWEEN 2 AND 49),"
	"  reason TEXT NOT NULL"
	"    CHECK (length(CAST(reason AS BLOB)) BETWEEN 1 AND 31),"
	"  since INTEGER NOT NULL,"
	"  \"until\" INTEGER NOT NULL CHECK (\"until\" >= 0),"
	"  strikes INTEGER NOT NULL DEFAULT 1 CHECK (strikes >= 1),"
	"  evidence TEXT NOT NULL DEFAULT '{}'"
	"    CHECK (length(CAST(evidence AS BLOB)) <= 1023),"
	"  origin TEXT NOT NULL DEFAULT ''"
	"    CHECK (length(CAST(origin AS BLOB)) <= 63),"
	"  CHECK (\"until\" <> 0 OR reason = 'manual')"
	") STRICT;"
	"CREATE INDEX bans_until ON bans (\"until\");"
	"CREATE TABLE ban_history ("
	"  \"key\" TEXT PRIMARY KEY NOT NULL"
	"    CHECK (length(CAST(\"key\" AS BLOB)) BETWEEN 2 AND 49),"
	"  strikes INTEGER NOT NULL CHECK (strikes >= 0),"
	"  \"last\" INTEGER NOT NULL"
	") STRICT;"
	"PRAGMA application_id = 1398228034;"	/* STORE_APPLICATION_ID */
	"PRAGMA user_version = 1;",

	/*
	 * 1 -> 2: password fingerprints (reuse detection without the
	 * password) and generation counters, so that the daemon reloads
	 * accounts or bans only when those changed.
	 */
	"ALTER TABLE accounts ADD COLUMN pw_fp TEXT NOT NULL DEFAULT ''"
	"  CHECK (length(CAST(pw_fp AS BLOB)) IN (0, 64));"
	"CREATE INDEX accounts_pw_fp ON accounts (pw_fp) WHERE pw_fp <> '';"
	"INSERT INTO meta (key, value) VALUES ('gen.accounts', '0'),"
	"  ('gen.bans', '0');"
	"CREATE TRIGGER accounts_gen_insert AFTER INSERT ON accounts BEGIN"
	"  UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)"
	"  WHERE key = 'gen.accounts'; END;"
	"CREATE TRIGGER accounts_gen_update AFTER UPDATE ON accounts BEGIN"
	"  UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)"
	"  WHERE key = 'gen.accounts'; END;"
	"CREATE TRIGGER accounts_gen_delete AFTER DELETE ON accounts BEGIN"
	"  UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)"
	"  WHERE key = 'gen.accounts'; END;"
	"CREATE TRIGGER bans_gen_insert AFTER INSERT ON bans BEGIN"
	"  UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)"
	"  WHERE key = 'gen.bans'; END;"
	"CREATE TRIGGER bans_gen_update AFTER UPDATE ON bans BEGIN"
	"  UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)"
	"  WHERE key = 'gen.bans'; END;"
	"CREATE TRIGGER bans_gen_delete AFTER DELETE ON bans BEGIN"
	"  UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)"
	"  WHERE key = 'gen.bans'; END;"
	"PRAGMA user_version = 2;",

	/*
	 * 2 -> 3: usage counters of the fraud limits (FRAUD2), so that a
	 * restart does not hand out a fresh allowance, and the operator's
	 * reset requests for a running daemon, with their own generation
	 * counter so that the daemon notices them without a reload.
	 */
	"CREATE TABLE usage ("
	"  account TEXT PRIMARY KEY NOT NULL"
	"    CHECK (length(CAST(account AS BLOB)) BETWEEN 3 AND 318),"
	"  minute INTEGER NOT NULL CHECK (minute >= 0),"
	"  calls_minute INTEGER NOT NULL DEFAULT 0"
	"    CHECK (calls_minute BETWEEN 0 AND 4294967295),"
	"  day INTEGER NOT NULL CHECK (day >= 0),"
	"  calls_day INTEGER NOT NULL DEFAULT 0"
	"    CHECK (calls_day BETWEEN 0 AND 4294967295),"
	"  seconds_day INTEGER NOT NULL DEFAULT 0"
	"    CHECK (seconds_day BETWEEN 0 AND 4294967295),"
	"  blocked_day INTEGER NOT NULL DEFAULT 0"
	"    CHECK (blocked_day BETWEEN 0 AND 4294967295),"
	"  active INTEGER NOT NULL DEFAULT 0"
	"    CHECK (active BETWEEN 0 AND 4294967295),"
	"  updated INTEGER NOT NULL CHECK (updated >= 0)"
	") STRICT;"
	"CREATE TABLE usage_resets ("
	"  account TEXT NOT NULL"
	"    CHECK (length(CAST(account AS BLOB)) BETWEEN 3 AND 318),"
	"  at INTEGER NOT NULL CHECK (at >= 0),"
	"  PRIMARY KEY (account, at)"
	") STRICT;"
	"INSERT INTO meta (key, value) VALUES ('gen.resets', '0');"
	"CREATE TRIGGER usage_resets_gen_insert AFTER INSERT ON usage_resets"
	"  BEGIN"
	"  UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)"
	"  WHERE key = 'gen.resets'; END;"
	"PRAGMA user_version = 3;",

	/*
	 * 3 -> 4: call records with the media quality of both legs (the
	 * groundwork of CDRs).  The partial index serves the active calls
	 * (the CLI's default view, mark_lost at start) without a walk over
	 * every record kept.
	 */
	"CREATE TABLE calls ("
	"  call_id TEXT NOT NULL"
	"    CHECK (length(CAST(call_id AS BLOB)) BETWEEN 1 AND 128),"
	"  started_ms INTEGER NOT NULL CHECK (started_ms >= 0),"
	"  account TEXT NOT NULL DEFAULT ''"
	"    CHECK (length(CAST(account AS BLOB)) <= 64),"
	"  from_user TEXT NOT NULL DEFAULT ''"
	"    CHECK (length(CAST(from_user AS BLOB)) <= 64),"
	"  to_user TEXT NOT NULL DEFAULT ''"
	"    CHECK (length(CAST(to_user AS BLOB)) <= 64),"
	"  direction TEXT NOT NULL"
	"    CHECK (length(CAST(direction AS BLOB)) BETWEEN 1 AND 15),"
	"  src TEXT NOT NULL DEFAULT ''"
	"    CHECK (length(CAST(src AS BLOB)) <= 63),"
	"  answered_ms INTEGER NOT NULL DEFAULT 0 CHECK (answered_ms >= 0),"
	"  ended_ms INTEGER NOT NULL DEFAULT 0 CHECK (ended_ms >= 0),"
	"  status INTEGER NOT NULL DEFAULT 0 CHECK (status BETWEEN 0 AND 999),"
	"  reason TEXT NOT NULL DEFAULT ''"
	"    CHECK (length(CAST(reason AS BLOB)) <= 63),"
	"  state TEXT NOT NULL DEFAULT 'active'"
	"    CHECK (state IN ('active', 'ended', 'lost')),"
	"  anchored INTEGER NOT NULL DEFAULT 0 CHECK (anchored IN (0, 1)),"
	"  a_packets INTEGER NOT NULL DEFAULT 0 CHECK (a_packets >= 0),"
	"  a_bytes INTEGER NOT NULL DEFAULT 0 CHECK (a_bytes >= 0),"
	"  a_lost INTEGER NOT NULL DEFAULT 0,"
	"  a_jitter_us INTEGER NOT NULL DEFAULT 0"
	"    CHECK (a_jitter_us BETWEEN 0 AND 4294967295),"
	"  a_ooo INTEGER NOT NULL DEFAULT 0 CHECK (a_ooo >= 0),"
	"  a_auth_failed INTEGER NOT NULL DEFAULT 0"
	"    CHECK (a_auth_failed >= 0),"
	"  a_foreign INTEGER NOT NULL DEFAULT 0 CHECK (a_foreign >= 0),"
	"  a_srtp INTEGER NOT NULL DEFAULT 0 CHECK (a_srtp IN (0, 1)),"
	"  a_media INTEGER NOT NULL DEFAULT 0 CHECK (a_media IN (0, 1)),"
	"  b_packets INTEGER NOT NULL DEFAULT 0 CHECK (b_packets >= 0),"
	"  b_bytes INTEGER NOT NULL DEFAULT 0 CHECK (b_bytes >= 0),"
	"  b_lost INTEGER NOT NULL DEFAULT 0,"
	"  b_jitter_us INTEGER NOT NULL DEFAULT 0"
	"    CHECK (b_jitter_us BETWEEN 0 AND 4294967295),"
	"  b_ooo INTEGER NOT NULL DEFAULT 0 CHECK (b_ooo >= 0),"
	"  b_auth_failed INTEGER NOT NULL DEFAULT 0"
	"    CHECK (b_auth_failed >= 0),"
	"  b_foreign INTEGER NOT NULL DEFAULT 0 CHECK (b_foreign >= 0),"
	"  b_srtp INTEGER NOT NULL DEFAULT 0 CHECK (b_srtp IN (0, 1)),"
	"  b_media INTEGER NOT NULL DEFAULT 0 CHECK (b_media IN (0, 1)),"
	"  PRIMARY KEY (call_id, started_ms)"
	") STRICT;"
	"CREATE INDEX calls_started ON calls (started_ms, call_id);"
	"CREATE INDEX calls_active ON calls (started_ms, call_id)"
	"  WHERE state = 'active';"
	"PRAGMA user_version = 4;",

	/*
	 * 4 -> 5: what the alert engine learned (OBS4, FRAUD4): an
	 * hour-of-week baseline per metric, and the countries each
	 * account called, so that a restart keeps both.
	 */
	"CREATE TABLE baselines ("
	"  metric TEXT NOT NULL"
	"    CHECK (length(CAST(metric AS BLOB)) BETWEEN 1 AND 31),"
	"  slot INTEGER NOT NULL CHECK (slot BETWEEN 0 AND 167),"
	"  value REAL NOT NULL CHECK (value >= 0 AND value < 1e15),"
	"  samples INTEGER NOT NULL DEFAULT 0"
	"    CHECK (samples BETWEEN 0 AND 4294967295),"
	"  updated INTEGER NOT NULL CHECK (updated >= 0),"
	"  PRIMARY KEY (metric, slot)"
	") STRICT;"
	"CREATE TABLE alert_countries ("
	"  account TEXT NOT NULL"
	"    CHECK (length(CAST(account AS BLOB)) BETWEEN 1 AND 318),"
	"  cc TEXT NOT NULL CHECK (length(CAST(cc AS BLOB)) BETWEEN 1 AND 3),"
	"  first_seen INTEGER NOT NULL CHECK (first_seen >= 0),"
	"  PRIMARY KEY (account, cc)"
	") STRICT;"
	"PRAGMA user_version = 5;",

	/*
	 * 5 -> 6: CDRs (OBS3): the zones of both legs, the target the
	 * call was routed to, its outcome, the policy verdicts, the
	 * encryption of each leg, and the duration as a virtual column
	 * for reports; rows of older versions get the outcome and the
	 * encryption their other columns tell.  And the history of config
	 * changes (OPS3), one row per reload attempt.
	 */
	"ALTER TABLE calls ADD COLUMN zone_a TEXT NOT NULL DEFAULT ''"
	"  CHECK (length(CAST(zone_a AS BLOB)) <= 31);"
	"ALTER TABLE calls ADD COLUMN zone_b TEXT NOT NULL DEFAULT ''"
	"  CHECK (length(CAST(zone_b AS BLOB)) <= 31);"
	"ALTER TABLE calls ADD COLUMN target TEXT NOT NULL DEFAULT ''"
	"  CHECK (length(CAST(target AS BLOB)) <= 63);"
	"ALTER TABLE calls ADD COLUMN outcome TEXT NOT NULL DEFAULT ''"
	"  CHECK (outcome IN ('', 'answered', 'refused', 'failed',"
	"  'cancelled'));"
	"ALTER TABLE calls ADD COLUMN verdicts TEXT NOT NULL DEFAULT ''"
	"  CHECK (length(CAST(verdicts AS BLOB)) <= 255);"
	"ALTER TABLE calls ADD COLUMN enc_a TEXT NOT NULL DEFAULT ''"
	"  CHECK (length(CAST(enc_a AS BLOB)) <= 31);"
	"ALTER TABLE calls ADD COLUMN enc_b TEXT NOT NULL DEFAULT ''"
	"  CHECK (length(CAST(enc_b AS BLOB)) <= 31);"
	"ALTER TABLE calls ADD COLUMN duration_ms INTEGER GENERATED ALWAYS AS"
	"  (CASE WHEN answered_ms > 0 AND ended_ms >= answered_ms"
	"  THEN ended_ms - answered_ms ELSE 0 END) VIRTUAL;"
	"UPDATE calls SET"
	"  outcome = CASE WHEN answered_ms > 0 THEN 'answered'"
	"    WHEN reason = 'cancel' THEN 'cancelled'"
	"    WHEN state = 'ended' THEN 'failed' ELSE '' END,"
	"  enc_a = CASE WHEN a_media = 0 THEN ''"
	"    WHEN a_srtp = 1 THEN 'srtp' ELSE 'rtp' END,"
	"  enc_b = CASE WHEN b_media = 0 THEN ''"
	"    WHEN b_srtp = 1 THEN 'srtp' ELSE 'rtp' END;"
	"CREATE TABLE config_changes ("
	"  id INTEGER PRIMARY KEY,"
	"  at_ms INTEGER NOT NULL CHECK (at_ms >= 0),"
	"  actor TEXT NOT NULL"
	"    CHECK (length(CAST(actor AS BLOB)) BETWEEN 1 AND 127),"
	"  result TEXT NOT NULL CHECK (result IN ('applied', 'refused')),"
	"  summary TEXT NOT NULL"
	"    CHECK (length(CAST(summary AS BLOB)) <= 1023),"
	"  diff TEXT NOT NULL"
	"    CHECK (length(CAST(diff AS BLOB)) <= 262144)"
	") STRICT;"
	"PRAGMA user_version = 6;",
};

_Static_assert(STORE_APPLICATION_ID == 1398228034, "schema script");

#define ACC_COLS \
	"id, username, domain, ha1_md5, ha1_sha256, pw_fp, grp, allow_cidrs, " \
	"max_contacts, enabled, created, rotated, locked_until"
#define REG_COLS \
	"aor, contact, source, sport, transport, expires, user_agent, " \
	"call_id, cseq, q, instance, reg_id, updated"
#define BAN_COLS \
	"\"key\", reason, since, \"until\", strikes, evidence, origin"
#define USAGE_COLS \
	"account, minute, calls_minute, day, calls_day, seconds_day, " \
	"blocked_day, active, updated"
#define CALL_LEG_COLS(p) \
	p "_packets, " p "_bytes, " p "_lost, " p "_jitter_us, " p "_ooo, " \
	p "_auth_failed, " p "_foreign, " p "_srtp, " p "_media"
/* The order store_call.c binds and reads. */
#define CALL_COLS \
	"call_id, started_ms, account, from_user, to_user, direction, src, " \
	"answered_ms, ended_ms, status, reason, state, anchored, " \
	CALL_LEG_COLS("a") ", " CALL_LEG_COLS("b") ", " \
	"zone_a, zone_b, target, outcome, verdicts, enc_a, enc_b"

const char *const store_sql_text[SQL_MAX] = {
	[SQL_BEGIN] = "BEGIN IMMEDIATE",
	[SQL_COMMIT] = "COMMIT",
	[SQL_ROLLBACK] = "ROLLBACK",
	[SQL_SAVEPOINT] = "SAVEPOINT sw",
	[SQL_RELEASE] = "RELEASE sw",
	[SQL_ROLLBACK_TO] = "ROLLBACK TO sw",
	[SQL_DATA_VERSION] = "PRAGMA data_version",
	[SQL_META_GET] = "SELECT value FROM meta WHERE key = ?1",
	[SQL_META_SET] = "INSERT INTO meta (key, value) VALUES (?1, ?2) "
	    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
	[SQL_META_INSERT_IGNORE] =
	    "INSERT OR IGNORE INTO meta (key, value) VALUES (?1, ?2)",

	[SQL_ACC_INSERT] = "INSERT INTO accounts (username, domain, ha1_md5, "
	    "ha1_sha256, pw_fp, grp, allow_cidrs, max_contacts, enabled, "
	    "created, rotated, locked_until) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	[SQL_ACC_GET] = "SELECT " ACC_COLS " FROM accounts "
	    "WHERE username = ?1 AND domain = ?2",
	[SQL_ACC_LIST] = "SELECT " ACC_COLS " FROM accounts "
	    "ORDER BY domain, username",
	[SQL_ACC_UPDATE] = "UPDATE accounts SET "
	    "grp = CASE WHEN ?3 THEN ?4 ELSE grp END, "
	    "allow_cidrs = CASE WHEN ?5 THEN ?6 ELSE allow_cidrs END, "
	    "max_contacts = CASE WHEN ?7 THEN ?8 ELSE max_contacts END "
	    "WHERE username = ?1 AND domain = ?2",
	[SQL_ACC_SET_ENABLED] = "UPDATE accounts SET enabled = ?3 "
	    "WHERE username = ?1 AND domain = ?2",
	[SQL_ACC_SET_HA1] = "UPDATE accounts SET ha1_md5 = ?3, "
	    "ha1_sha256 = ?4, pw_fp = ?5, rotated = ?6 "
	    "WHERE username = ?1 AND domain = ?2",
	[SQL_ACC_SET_LOCKED] = "UPDATE accounts SET locked_until = ?3 "
	    "WHERE username = ?1 AND domain = ?2",
	[SQL_ACC_DELETE] = "DELETE FROM accounts "
	    "WHERE username = ?1 AND domain = ?2",

	[SQL_REG_UPSERT] = "INSERT INTO registrations (" REG_COLS ") "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) "
	    "ON CONFLICT (aor, contact) DO UPDATE SET "
	    "source = excluded.source, sport = excluded.sport, "
	    "transport = excluded.transport, expires = excluded.expires, "
	    "user_agent = excluded.user_agent, call_id = excluded.call_id, "
	    "cseq = excluded.cseq, q = excluded.q, "
	    "instance = excluded.instance, reg_id = excluded.reg_id, "
	    "updated = excluded.updated",
	[SQL_REG_DELETE] = "DELETE FROM registrations "
	    "WHERE aor = ?1 AND contact = ?2",
	[SQL_REG_DELETE_AOR] = "DELETE FROM registrations WHERE aor = ?1",
	[SQL_REG_LIST_AOR] = "SELECT " REG_COLS " FROM registrations "
	    "WHERE aor = ?1 ORDER BY contact",
	[SQL_REG_LIST_ALL] = "SELECT " REG_COLS " FROM registrations "
	    "ORDER BY aor, contact",
	[SQL_REG_LOAD] = "SELECT " REG_COLS " FROM registrations "
	    "WHERE expires > ?1 ORDER BY aor, contact",
	[SQL_REG_DELETE_EXPIRED] = "DELETE FROM registrations "
	    "WHERE expires <= ?1",
	[SQL_REG_COUNT] = "SELECT count(*) FROM registrations "
	    "WHERE aor = ?1 AND expires > ?2",

	[SQL_BAN_PUT] = "INSERT INTO bans (" BAN_COLS ") "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
	    "ON CONFLICT (\"key\") DO UPDATE SET reason = excluded.reason, "
	    "since = excluded.since, \"until\" = excluded.\"until\", "
	    "strikes = excluded.strikes, evidence = excluded.evidence, "
	    "origin = excluded.origin",
	[SQL_BAN_GET] = "SELECT " BAN_COLS " FROM bans WHERE \"key\" = ?1",
	[SQL_BAN_DELETE] = "DELETE FROM bans WHERE \"key\" = ?1",
	[SQL_BAN_LIST] = "SELECT " BAN_COLS " FROM bans ORDER BY \"key\"",
	[SQL_BAN_ACTIVE] = "SELECT " BAN_COLS " FROM bans "
	    "WHERE \"until\" = 0 OR \"until\" > ?1 ORDER BY \"key\"",
	[SQL_BAN_DELETE_EXPIRED] = "DELETE FROM bans "
	    "WHERE \"until\" <> 0 AND \"until\" <= ?1",
	[SQL_HIST_GET] = "SELECT strikes, \"last\" FROM ban_history "
	    "WHERE \"key\" = ?1",
	[SQL_HIST_PUT] = "INSERT INTO ban_history (\"key\", strikes, \"last\") "
	    "VALUES (?1, ?2, ?3) ON CONFLICT (\"key\") DO UPDATE SET "
	    "strikes = excluded.strikes, \"last\" = excluded.\"last\"",
	[SQL_HIST_PRUNE] = "DELETE FROM ban_history WHERE \"last\" < ?1",
	[SQL_HIST_SINCE] = "SELECT \"key\", strikes, \"last\" FROM ban_history "
	    "WHERE \"last\" >= ?1 ORDER BY \"key\"",

	[SQL_USAGE_PUT] = "INSERT INTO usage (" USAGE_COLS ") "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
	    "ON CONFLICT (account) DO UPDATE SET minute = excluded.minute, "
	    "calls_minute = excluded.calls_minute, day = excluded.day, "
	    "calls_day = excluded.calls_day, "
	    "seconds_day = excluded.seconds_day, "
	    "blocked_day = excluded.blocked_day, active = excluded.active, "
	    "updated = excluded.updated",
	[SQL_USAGE_GET] = "SELECT " USAGE_COLS " FROM usage WHERE account = ?1",
	[SQL_USAGE_LIST] = "SELECT " USAGE_COLS " FROM usage ORDER BY account",
	[SQL_USAGE_ZERO] = "UPDATE usage SET calls_minute = 0, calls_day = 0, "
	    "seconds_day = 0, blocked_day = 0, active = 0, updated = ?2 "
	    "WHERE account = ?1",
	[SQL_USAGE_RESET_ADD] = "INSERT OR IGNORE INTO usage_resets "
	    "(account, at) VALUES (?1, ?2)",
	[SQL_USAGE_RESETS] = "SELECT account, at FROM usage_resets "
	    "ORDER BY at, account",
	[SQL_USAGE_RESET_DONE] = "DELETE FROM usage_resets "
	    "WHERE account = ?1 AND at = ?2",

	[SQL_CALL_PUT] = "INSERT OR REPLACE INTO calls (" CALL_COLS ") VALUES ("
	    "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
	    "?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, "
	    "?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, "
	    "?32, ?33, ?34, ?35, ?36, ?37, ?38)",
	/* LIMIT -1 is no limit; ?2 NULL: any outcome. */
	[SQL_CALL_LIST] = "SELECT " CALL_COLS " FROM calls "
	    "WHERE (?2 IS NULL OR outcome = ?2) "
	    "ORDER BY started_ms DESC, call_id DESC LIMIT ?1",
	[SQL_CALL_LIST_ACTIVE] = "SELECT " CALL_COLS " FROM calls "
	    "WHERE state = 'active' AND (?2 IS NULL OR outcome = ?2) "
	    "ORDER BY started_ms DESC, call_id DESC LIMIT ?1",
	[SQL_CALL_MARK_LOST] = "UPDATE calls SET state = 'lost' "
	    "WHERE state = 'active'",
	[SQL_CALL_PRUNE] = "DELETE FROM calls "
	    "WHERE started_ms < ?1 AND state <> 'active'",

	[SQL_BASELINE_PUT] = "INSERT INTO baselines (metric, slot, value, "
	    "samples, updated) VALUES (?1, ?2, ?3, ?4, ?5) "
	    "ON CONFLICT (metric, slot) DO UPDATE SET value = excluded.value, "
	    "samples = excluded.samples, updated = excluded.updated",
	[SQL_BASELINE_LIST] = "SELECT metric, slot, value, samples, updated "
	    "FROM baselines ORDER BY metric, slot",
	[SQL_COUNTRY_ADD] = "INSERT OR IGNORE INTO alert_countries "
	    "(account, cc, first_seen) VALUES (?1, ?2, ?3)",
	[SQL_COUNTRY_LIST] = "SELECT account, cc, first_seen "
	    "FROM alert_countries ORDER BY account, cc",

	[SQL_CONFIG_ADD] = "INSERT INTO config_changes (at_ms, actor, result, "
	    "summary, diff) VALUES (?1, ?2, ?3, ?4, ?5)",
	/* ?1: the rows to keep; ids only grow (INTEGER PRIMARY KEY). */
	[SQL_CONFIG_PRUNE] = "DELETE FROM config_changes WHERE id <= "
	    "(SELECT max(id) FROM config_changes) - ?1",
	[SQL_CONFIG_LIST] = "SELECT id, at_ms, actor, result, summary, diff "
	    "FROM config_changes ORDER BY id DESC LIMIT ?1",
};

int
store_err(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_UNIQUE ||
		    rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			return -EEXIST;
		return -EINVAL;		/* CHECK, NOT NULL, datatype */
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EBADMSG;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_TOOBIG:
	case SQLITE_RANGE:
		return -EINVAL;
	default:
		return -EIO;
	}
}

const char *
store_strerror(int err)
{
	switch (-err) {
	case 0:
		return "success";
	case EINVAL:
		return "invalid value";
	case ENOENT:
		return "not found";
	case EEXIST:
		return "already exists";
	case EBUSY:
		return "store is locked by another process (busy timeout)";
	case ENOSPC:
		return "no space left on device";
	case EROFS:
		return "store is read-only";
	case EBADMSG:
		return "not a sipwall store, or a corrupt one";
	case EPROTO:
		return "store schema is newer than this program supports";
	case ENOMEM:
		return "out of memory";
	case EIO:
		return "database I/O error";
	case EACCES:
		return "permission denied";
	case ESHUTDOWN:
		return "store writer is stopping";
	case SBC_EFULL:
		return "store writer queue full";
	default:
		return strerror(-err);
	}
}

/* --- statements -------------------------------------------------------- */

int
store_stmt(struct store *st, enum store_sql id, sqlite3_stmt **ret)
{
	sqlite3_stmt *s;
	int rc;

	if ((unsigned)id >= SQL_MAX)
		return -EINVAL;
	s = st->stmt[id];
	if (s == NULL) {
		rc = sqlite3_prepare_v3(st->db, store_sql_text[id], -1,
		    SQLITE_PREPARE_PERSISTENT, &s, NULL);
		if (rc != SQLITE_OK)
			return store_err(rc);
		st->stmt[id] = s;
	} else if (sqlite3_stmt_busy(s))
		return -EBUSY;	/* re-entered from a list callback */
	*ret = s;
	return 0;
}

void
store_stmt_done(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

int
store_step_done(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	store_stmt_done(s);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return 0;
	return store_err(rc == SQLITE_ERROR ?
	    sqlite3_extended_errcode(sqlite3_db_handle(s)) : rc);
}

int
store_walk(struct store *st, enum store_sql id,
    int (*row)(sqlite3_stmt *s, void *arg), void *arg)
{
	sqlite3_stmt *s;
	int r, rc;

	if ((r = store_stmt(st, id, &s)) < 0)
		return r;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if ((r = row(s, arg)) != 0)
			goto out;
	r = rc == SQLITE_DONE ? 0 : store_err(sqlite3_extended_errcode(st->db));
out:
	store_stmt_done(s);
	return r;
}

int
store_exec_i64(struct store *st, enum store_sql id, int64_t v,
    unsigned *ret_n)
{
	sqlite3_stmt *s;
	int r;

	if ((r = store_stmt(st, id, &s)) < 0)
		return r;
	if ((r = store_err(sqlite3_bind_int64(s, 1, v))) < 0) {
		store_stmt_done(s);
		return r;
	}
	if ((r = store_step_done(s)) < 0)
		return r;
	if (ret_n != NULL)
		*ret_n = (unsigned)sqlite3_changes64(st->db);
	return 0;
}

int
store_col_text(sqlite3_stmt *s, int col, char *ret, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(s, col);
	int n = sqlite3_column_bytes(s, col);

	if (t == NULL || n < 0 || (size_t)n >= cap || memchr(t, '\0', (size_t)n)) {
		if (cap > 0)
			ret[0] = '\0';
		return -EBADMSG;
	}
	memcpy(ret, t, (size_t)n);
	ret[n] = '\0';
	return 0;
}

int
store_bind_text(sqlite3_stmt *s, int idx, const char *v)
{
	return store_err(sqlite3_bind_text(s, idx, v, -1, SQLITE_STATIC));
}

/* --- opening ------------------------------------------------------------ */

static int
exec(sqlite3 *db, const char *sql)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : store_err(sqlite3_extended_errcode(db));
}

/* Run a pragma (or any query) that returns one integer. */
static int
query_int(sqlite3 *db, const char *sql, int64_t *ret)
{
	sqlite3_stmt *s;
	int rc, r = 0;

	rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK)
		return store_err(sqlite3_extended_errcode(db));
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*ret = sqlite3_column_int64(s, 0);
	else if (rc == SQLITE_DONE)
		*ret = 0;
	else
		r = store_err(sqlite3_extended_errcode(db));
	sqlite3_finalize(s);
	return r;
}

int
store_migrate_step(sqlite3 *db, int from)
{
	if (from < 0 || from >= STORE_SCHEMA_VERSION)
		return -EINVAL;
	return exec(db, migrations[from]);
}

static void
diag(char *msg, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
diag(char *msg, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (msg == NULL || cap == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, cap, fmt, ap);
	va_end(ap);
}

/*
 * Check that the file is ours (or empty), then bring the schema to
 * STORE_SCHEMA_VERSION in one write transaction.
 */
static int
migrate(struct store *st, char *msg, size_t cap)
{
	int64_t app, ver, ntables;
	int r;

	if ((r = query_int(st->db, "PRAGMA application_id", &app)) < 0 ||
	    (r = query_int(st->db, "PRAGMA user_version", &ver)) < 0) {
		diag(msg, cap, "%s", r == -EBADMSG ?
		    "not a SQLite database" : store_strerror(r));
		return r;
	}
	if (app != 0 && app != STORE_APPLICATION_ID) {
		diag(msg, cap, "not a sipwall store (application_id %lld)",
		    (long long)app);
		return -EBADMSG;
	}
	if (ver > STORE_SCHEMA_VERSION) {
		diag(msg, cap, "schema version %lld is newer than this sipwall "
		    "supports (%d); use a newer sipwall", (long long)ver,
		    STORE_SCHEMA_VERSION);
		return -EPROTO;
	}
	if (ver == STORE_SCHEMA_VERSION && app == STORE_APPLICATION_ID)
		goto done;
	if (app == 0) {
		/* Never take over another program's database. */
		r = query_int(st->db, "SELECT count(*) FROM sqlite_schema",
		    &ntables);
		if (r < 0) {
			diag(msg, cap, "%s", store_strerror(r));
			return r;
		}
		if (ntables > 0 || ver != 0) {
			diag(msg, cap, "not a sipwall store (a SQLite database "
			    "of another program)");
			return -EBADMSG;
		}
	}

	if ((r = store_begin(st)) < 0) {
		diag(msg, cap, "cannot lock for schema upgrade: %s",
		    store_strerror(r));
		return r;
	}
	/* Another process may have migrated while we waited for the lock. */
	if ((r = query_int(st->db, "PRAGMA user_version", &ver)) < 0)
		goto fail;
	if (ver > STORE_SCHEMA_VERSION) {
		r = -EPROTO;
		goto fail;
	}
	for (; ver < STORE_SCHEMA_VERSION; ver++)
		if ((r = store_migrate_step(st->db, (int)ver)) < 0) {
			diag(msg, cap, "schema upgrade from version %lld failed: "
			    "%s", (long long)ver, sqlite3_errmsg(st->db));
			store_rollback(st);
			return r;
		}
	if ((r = store_commit(st)) < 0)
		goto fail;
done:
	st->schema_version = STORE_SCHEMA_VERSION;
	return 0;
fail:
	diag(msg, cap, "schema upgrade: %s", store_strerror(r));
	store_rollback(st);
	return r;
}

/* Create the file with mode 0600 unless it exists; refuse non-files. */
static int
prepare_file(const char *path, unsigned flags, char *msg, size_t cap)
{
	struct stat sb;
	int fd;

	if (stat(path, &sb) == 0) {
		if (!S_ISREG(sb.st_mode)) {
			diag(msg, cap, "not a regular file");
			return -EINVAL;
		}
		return 0;
	}
	if (errno != ENOENT) {
		int r = -errno;

		diag(msg, cap, "%s", strerror(-r));
		return r;
	}
	if (!(flags & STORE_CREATE)) {
		diag(msg, cap, "no such file");
		return -ENOENT;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd < 0 && errno != EEXIST) {
		int r = -errno;

		diag(msg, cap, "cannot create: %s", strerror(-r));
		return r;
	}
	if (fd >= 0)
		close(fd);
	return 0;
}

int
store_open_diag(const char *path, unsigned flags, struct store **ret_st,
    char *msg, size_t cap)
{
	static const int dbconfig_off[] = {
		SQLITE_DBCONFIG_TRUSTED_SCHEMA,	/* no functions with side effects from the schema */
		SQLITE_DBCONFIG_DQS_DDL,	/* "x" is an identifier, never a string */
		SQLITE_DBCONFIG_DQS_DML,
		SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION,
	};
	struct store *st;
	const char *mode;
	sqlite3_stmt *s;
	int rc, r;

	diag(msg, cap, "%s", "");
	if (path == NULL || path[0] == '\0' || strlen(path) >= PATH_MAX ||
	    (flags & ~(unsigned)(STORE_CREATE | STORE_SYNC_FULL)) != 0) {
		diag(msg, cap, "invalid arguments");
		return -EINVAL;
	}
	if ((r = prepare_file(path, flags, msg, cap)) < 0)
		return r;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return -ENOMEM;

	/* One connection per thread: SQLite's own mutexes are not needed. */
	rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE, NULL);
	if (rc != SQLITE_OK) {
		r = st->db != NULL && sqlite3_system_errno(st->db) != 0 ?
		    -sqlite3_system_errno(st->db) : store_err(rc);
		diag(msg, cap, "%s", st->db != NULL ? sqlite3_errmsg(st->db) :
		    store_strerror(r));
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	if (sqlite3_db_readonly(st->db, "main") == 1) {
		diag(msg, cap, "no write permission");
		r = -EROFS;
		goto fail;
	}
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	for (size_t i = 0; i < sizeof(dbconfig_off) / sizeof(dbconfig_off[0]); i++)
		sqlite3_db_config(st->db, dbconfig_off[i], 0, NULL);
	sqlite3_busy_timeout(st->db, STORE_BUSY_TIMEOUT_MS);

	/* Look at the file before changing anything in it. */
	if ((r = migrate(st, msg, cap)) < 0)
		goto fail;

	rc = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &s,
	    NULL);
	if (rc != SQLITE_OK) {
		r = store_err(sqlite3_extended_errcode(st->db));
		diag(msg, cap, "journal_mode: %s", sqlite3_errmsg(st->db));
		goto fail;
	}
	rc = sqlite3_step(s);
	mode = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(s, 0) : NULL;
	if (mode == NULL || strcmp(mode, "wal") != 0) {
		r = rc == SQLITE_ROW ? -EIO :
		    store_err(sqlite3_extended_errcode(st->db));
		diag(msg, cap, "cannot switch to WAL mode: %s",
		    mode != NULL ? mode : sqlite3_errmsg(st->db));
		sqlite3_finalize(s);
		goto fail;
	}
	sqlite3_finalize(s);
	r = exec(st->db, (flags & STORE_SYNC_FULL) ?
	    "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON" :
	    "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON");
	if (r < 0) {
		diag(msg, cap, "pragmas: %s", sqlite3_errmsg(st->db));
		goto fail;
	}
	if ((r = query_int(st->db, "PRAGMA data_version",
	    &st->data_version)) < 0) {
		diag(msg, cap, "data_version: %s", sqlite3_errmsg(st->db));
		goto fail;
	}
	*ret_st = st;
	return 0;
fail:
	store_close(st);
	return r;
}

int
store_open(const char *path, unsigned flags, struct store **ret_st)
{
	return store_open_diag(path, flags, ret_st, NULL, 0);
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	if (st->db != NULL && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	for (size_t i = 0; i < SQL_MAX; i++)
		sqlite3_finalize(st->stmt[i]);
	sqlite3_close_v2(st->db);
	free(st);
}

int
store_schema_version(struct store *st)
{
	return st->schema_version;
}

/* --- transactions ------------------------------------------------------- */

int
store_begin(struct store *st)
{
	sqlite3_stmt *s;
	int r;

	if (st->tx_depth > 0 && sqlite3_get_autocommit(st->db))
		st->tx_depth = 0;	/* SQLite rolled back on an error */
	r = store_stmt(st, st->tx_depth == 0 ? SQL_BEGIN : SQL_SAVEPOINT, &s);
	if (r == 0)
		r = store_step_done(s);
	if (r == 0)
		st->tx_depth++;
	return r;
}

int
store_commit(struct store *st)
{
	sqlite3_stmt *s;
	int r;

	if (st->tx_depth == 0)
		return -EINVAL;
	if (sqlite3_get_autocommit(st->db)) {
		/* Rolled back by SQLite after an error: nothing to commit. */
		st->tx_depth = 0;
		return -EIO;
	}
	r = store_stmt(st, st->tx_depth == 1 ? SQL_COMMIT : SQL_RELEASE, &s);
	if (r == 0)
		r = store_step_done(s);
	if (r == 0)
		st->tx_depth--;
	else if (sqlite3_get_autocommit(st->db))
		st->tx_depth = 0;
	return r;
}

int
store_rollback(struct store *st)
{
	sqlite3_stmt *s;
	int r;

	if (st->tx_depth == 0)
		return 0;
	if (sqlite3_get_autocommit(st->db)) {
		st->tx_depth = 0;
		return 0;
	}
	if (st->tx_depth == 1) {
		if ((r = store_stmt(st, SQL_ROLLBACK, &s)) == 0)
			r = store_step_done(s);
		if (r < 0 && !sqlite3_get_autocommit(st->db))
			return r;
		st->tx_depth = 0;
		return 0;
	}
	/* ROLLBACK TO keeps the savepoint open; RELEASE ends it. */
	if ((r = store_stmt(st, SQL_ROLLBACK_TO, &s)) == 0)
		r = store_step_done(s);
	if (r == 0 && (r = store_stmt(st, SQL_RELEASE, &s)) == 0)
		r = store_step_done(s);
	if (r == 0)
		st->tx_depth--;
	return r;
}

/* --- change detection and meta -------------------------------------------- */

int
store_changed(struct store *st, bool *ret_changed)
{
	sqlite3_stmt *s;
	int64_t v;
	int r, rc;

	if ((r = store_stmt(st, SQL_DATA_VERSION, &s)) < 0)
		return r;
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		r = store_err(rc == SQLITE_DONE ? SQLITE_IOERR :
		    sqlite3_extended_errcode(st->db));
		store_stmt_done(s);
		return r;
	}
	v = sqlite3_column_int64(s, 0);
	store_stmt_done(s);
	*ret_changed = v != st->data_version;
	st->data_version = v;
	return 0;
}

static bool
meta_key_ok(const char *key)
{
	size_t n = 0;

	if (key == NULL)
		return false;
	for (; key[n] != '\0'; n++) {
		char c = key[n];

		if (n >= STORE_META_KEY_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '-'))
			return false;
	}
	return n > 0;
}

int
store_meta_get(struct store *st, const char *key, char *ret_value, size_t cap)
{
	sqlite3_stmt *s;
	int r, rc;

	if (!meta_key_ok(key) || ret_value == NULL || cap == 0)
		return -EINVAL;
	if ((r = store_stmt(st, SQL_META_GET, &s)) < 0)
		return r;
	if ((r = store_bind_text(s, 1, key)) < 0)
		goto out;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		r = store_col_text(s, 0, ret_value, cap);
	else if (rc == SQLITE_DONE)
		r = -ENOENT;
	else
		r = store_err(sqlite3_extended_errcode(st->db));
out:
	store_stmt_done(s);
	return r;
}

int
store_meta_set(struct store *st, const char *key, const char *value)
{
	sqlite3_stmt *s;
	int r;

	if (!meta_key_ok(key) || value == NULL ||
	    !store_text_ok(value, STORE_META_VALUE_MAX, false))
		return -EINVAL;
	if ((r = store_stmt(st, SQL_META_SET, &s)) < 0)
		return r;
	if ((r = store_bind_text(s, 1, key)) < 0 ||
	    (r = store_bind_text(s, 2, value)) < 0) {
		store_stmt_done(s);
		return r;
	}
	return store_step_done(s);
}

int
store_gen(struct store *st, enum store_gen_kind kind, uint64_t *ret_gen)
{
	static const char *const keys[STORE_GEN_MAX] = {
		[STORE_GEN_ACCOUNTS] = "gen.accounts",
		[STORE_GEN_BANS] = "gen.bans",
		[STORE_GEN_RESETS] = "gen.resets",
	};
	char buf[32];
	uint64_t v = 0;
	int r;

	if ((unsigned)kind >= STORE_GEN_MAX)
		return -EINVAL;
	if ((r = store_meta_get(st, keys[kind], buf, sizeof(buf))) < 0)
		return r;
	for (const char *p = buf; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || v > (UINT64_MAX - 9) / 10)
			return -EBADMSG;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*ret_gen = v;
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static void
tohex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0xf];
	}
	out[2 * n] = '\0';
}

/* The fingerprint key, created on first use; concurrent creators agree. */
static int
pwfp_key(struct store *st, uint8_t key[PWFP_KEY_LEN])
{
	char hex[2 * PWFP_KEY_LEN + 1];
	uint8_t fresh[PWFP_KEY_LEN];
	sqlite3_stmt *s;
	int r;

	r = store_meta_get(st, PWFP_META_KEY, hex, sizeof(hex));
	if (r == -ENOENT) {
		if (RAND_bytes(fresh, sizeof(fresh)) != 1)
			return -EIO;
		tohex(fresh, sizeof(fresh), hex);
		explicit_bzero(fresh, sizeof(fresh));
		if ((r = store_stmt(st, SQL_META_INSERT_IGNORE, &s)) < 0)
			goto out;
		if ((r = store_bind_text(s, 1, PWFP_META_KEY)) < 0 ||
		    (r = store_bind_text(s, 2, hex)) < 0) {
			store_stmt_done(s);
			goto out;
		}
		if ((r = store_step_done(s)) < 0)
			goto out;
		r = store_meta_get(st, PWFP_META_KEY, hex, sizeof(hex));
	}
	if (r < 0)
		goto out;
	if (strlen(hex) != 2 * PWFP_KEY_LEN) {
		r = -EBADMSG;
		goto out;
	}
	for (size_t i = 0; i < PWFP_KEY_LEN; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			r = -EBADMSG;
			goto out;
		}
		key[i] = (uint8_t)(hi << 4 | lo);
	}
	r = 0;
out:
	explicit_bzero(hex, sizeof(hex));
	return r;
}

int
store_pw_fingerprint(struct store *st, const char *pw, size_t len,
    char ret_hex[STORE_PWFP_LEN + 1])
{
	uint8_t key[PWFP_KEY_LEN], mac[EVP_MAX_MD_SIZE];
	unsigned maclen = 0;
	int r;

	if (pw == NULL || len == 0)
		return -EINVAL;
	if ((r = pwfp_key(st, key)) < 0)
		goto out;
	if (HMAC(EVP_sha256(), key, sizeof(key), (const unsigned char *)pw,
	    len, mac, &maclen) == NULL || maclen != STORE_PWFP_LEN / 2) {
		r = -EIO;
		goto out;
	}
	tohex(mac, maclen, ret_hex);
	r = 0;
out:
	explicit_bzero(key, sizeof(key));
	explicit_bzero(mac, sizeof(mac));
	return r;
}
