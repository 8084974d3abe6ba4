/*
 * Unit tests for src/store/store_*.c: opening (file mode, WAL, refusing
 * foreign and newer files), migrations from version 0 and 1, every
 * account, registration, ban and history function with its errors and
 * validation, canonical forms, meta and generation counters, change
 * detection between connections, fingerprints, nested transactions and
 * the re-entrancy guard.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "core/err.h"
#include "store/store.h"
#include "store/store_int.h"

#define MD5A	"0123456789abcdef0123456789abcdef"
#define SHAA	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define MD5B	"fedcba9876543210fedcba9876543210"
#define SHAB	"fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

#include "tmpstore.h"

/* Copy a test string into a fixed field; the test fails if it does not fit. */
static void
copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	assert_true(n < cap);
	memcpy(dst, src, n + 1);
}

static void
acc_init(struct store_account *a, const char *user, const char *domain)
{
	memset(a, 0, sizeof(*a));
	copy_str(a->username, sizeof(a->username), user);
	copy_str(a->domain, sizeof(a->domain), domain);
	strcpy(a->ha1_md5, MD5A);
	strcpy(a->ha1_sha256, SHAA);
	a->enabled = true;
	a->created = 1000;
}

static void
reg_init(struct store_reg *g, const char *aor, const char *contact,
    int64_t expires)
{
	memset(g, 0, sizeof(*g));
	copy_str(g->aor, sizeof(g->aor), aor);
	copy_str(g->contact, sizeof(g->contact), contact);
	strcpy(g->source, "192.0.2.10");
	g->sport = 5060;
	strcpy(g->transport, "udp");
	g->expires = expires;
	strcpy(g->user_agent, "Yealink T46U");
	strcpy(g->call_id, "abc@host");
	g->cseq = 7;
	g->updated = 500;
}

static void
ban_init(struct store_ban *b, const char *key, const char *reason,
    int64_t since, int64_t until)
{
	memset(b, 0, sizeof(*b));
	copy_str(b->key, sizeof(b->key), key);
	copy_str(b->reason, sizeof(b->reason), reason);
	b->since = since;
	b->until = until;
	b->strikes = 1;
	strcpy(b->origin, "node-1");
}

static void
raw_exec(const char *p, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* --- opening ------------------------------------------------------------ */

static void
test_open_creates_0600_wal(void **state)
{
	struct store_account a;
	struct store *st = open_ok();
	char p[PATH_MAX + 32];
	struct stat sb;
	sqlite3_stmt *s;

	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(store_schema_version(st), STORE_SCHEMA_VERSION);
	acc_init(&a, "alice", "example.com");
	assert_int_equal(store_account_add(st, &a, NULL), 0);
	/* WAL and shared-memory files inherit the database's mode. */
	snprintf(p, sizeof(p), "%s-wal", path);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	snprintf(p, sizeof(p), "%s-shm", path);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);

	assert_int_equal(sqlite3_prepare_v2(st->db, "PRAGMA journal_mode", -1,
	    &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	assert_int_equal(sqlite3_prepare_v2(st->db, "PRAGMA foreign_keys", -1,
	    &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(s, 0), 1);
	sqlite3_finalize(s);
	assert_int_equal(sqlite3_prepare_v2(st->db, "PRAGMA synchronous", -1,
	    &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(s, 0), 1);	/* NORMAL */
	sqlite3_finalize(s);
	store_close(st);

	assert_int_equal(raw_int("PRAGMA user_version"),
	    STORE_SCHEMA_VERSION);
	assert_int_equal(raw_int("PRAGMA application_id"),
	    STORE_APPLICATION_ID);

	/* Reopen: same schema, no migration, data still there. */
	st = open_ok();
	assert_int_equal(store_account_get(st, "alice", "example.com", &a), 0);
	store_close(st);

	assert_int_equal(store_open(path, STORE_CREATE | STORE_SYNC_FULL, &st),
	    0);
	assert_int_equal(sqlite3_prepare_v2(st->db, "PRAGMA synchronous", -1,
	    &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(s, 0), 2);	/* FULL */
	sqlite3_finalize(s);
	store_close(st);
	store_close(NULL);
}

static void
test_open_errors(void **state)
{
	struct store *st = NULL;
	char msg[256], p[PATH_MAX + 32];
	int fd;

	/* Missing file without STORE_CREATE, missing directory. */
	assert_int_equal(store_open_diag(path, 0, &st, msg, sizeof(msg)),
	    -ENOENT);
	assert_null(st);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(p, sizeof(p), "%s/nodir/t.db", dir);
	assert_int_equal(store_open(p, STORE_CREATE, &st), -ENOENT);
	/* A directory is not a store. */
	assert_int_equal(store_open(dir, STORE_CREATE, &st), -EINVAL);
	assert_int_equal(store_open("", STORE_CREATE, &st), -EINVAL);
	assert_int_equal(store_open(NULL, STORE_CREATE, &st), -EINVAL);
	assert_int_equal(store_open(path, 0x80, &st), -EINVAL);

	/* Not a SQLite file at all. */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "hello, this is not sqlite at all; "
	    "just some text that is long enough to be a header.......\n"
	    "and more text to fill the first page a little bit more.\n",
	    147), 147);
	close(fd);
	assert_int_equal(store_open_diag(path, STORE_CREATE, &st, msg,
	    sizeof(msg)), -EBADMSG);
	assert_non_null(strstr(msg, "not a"));
	unlink(path);

	/* Another program's SQLite database is never taken over. */
	raw_exec(path, "CREATE TABLE foo (x INTEGER); INSERT INTO foo VALUES (1)");
	assert_int_equal(store_open_diag(path, STORE_CREATE, &st, msg,
	    sizeof(msg)), -EBADMSG);
	assert_non_null(strstr(msg, "not a sipwall store"));
	assert_int_equal(raw_int("SELECT count(*) FROM foo"), 1);
	assert_int_equal(raw_int("PRAGMA user_version"), 0);
	unlink(path);
	raw_exec(path, "PRAGMA application_id = 1234");
	assert_int_equal(store_open(path, STORE_CREATE, &st), -EBADMSG);
	unlink(path);
	raw_exec(path, "PRAGMA user_version = 1");
	assert_int_equal(store_open(path, STORE_CREATE, &st), -EBADMSG);
	unlink(path);
	assert_null(st);
}

static void
test_open_refuses_newer_schema(void **state)
{
	struct store *st = open_ok();
	char msg[256];

	store_close(st);
	raw_exec(path, "PRAGMA user_version = 99");
	st = NULL;
	assert_int_equal(store_open_diag(path, STORE_CREATE, &st, msg,
	    sizeof(msg)), -EPROTO);
	assert_null(st);
	assert_non_null(strstr(msg, "99"));
	assert_non_null(strstr(msg, "newer"));
	assert_non_null(strstr(store_strerror(-EPROTO), "newer"));
	/* Untouched. */
	assert_int_equal(raw_int("PRAGMA user_version"), 99);
}

/* --- migrations ------------------------------------------------------------ */

static void
test_migrate_from_v0_empty_file(void **state)
{
	struct store *st;
	uint64_t gen;
	int fd;

	/* A zero-byte file is an empty SQLite database at version 0. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(store_open(path, 0, &st), 0);
	assert_int_equal(store_schema_version(st), STORE_SCHEMA_VERSION);
	assert_int_equal(store_gen(st, STORE_GEN_ACCOUNTS, &gen), 0);
	assert_int_equal(gen, 0);
	assert_int_equal(store_gen(st, STORE_GEN_BANS, &gen), 0);
	store_close(st);
	assert_int_equal(raw_int("SELECT count(*) FROM sqlite_schema "
	    "WHERE type = 'table' AND name IN ('accounts', 'registrations', "
	    "'bans', 'ban_history', 'meta')"), 5);
	assert_int_equal(raw_int("SELECT count(*) FROM pragma_table_info"
	    "('accounts') WHERE name = 'pw_fp'"), 1);
}

static void
test_migrate_from_v1_keeps_data(void **state)
{
	struct store_account a;
	struct store_ban b;
	struct store *st;
	uint64_t gen;
	sqlite3 *db;

	/* Build a version 1 store with rows, as an old sipwall left it. */
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(store_migrate_step(db, 0), 0);
	assert_int_equal(sqlite3_exec(db,
	    "INSERT INTO accounts (username, domain, ha1_md5, ha1_sha256, "
	    "created) VALUES ('bob', 'example.com', '" MD5A "', '" SHAA "', 42);"
	    "INSERT INTO bans (\"key\", reason, since, \"until\", strikes) "
	    "VALUES ('192.0.2.1', 'scanner', 10, 20, 2);",
	    NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(raw_int("PRAGMA user_version"), 1);
	assert_int_equal(store_migrate_step(NULL, STORE_SCHEMA_VERSION),
	    -EINVAL);

	st = open_ok();
	assert_int_equal(store_account_get(st, "bob", "example.com", &a), 0);
	assert_string_equal(a.pw_fp, "");
	assert_string_equal(a.grp, "default");
	assert_int_equal(a.max_contacts, 5);
	assert_int_equal(a.created, 42);
	assert_true(a.enabled);
	assert_int_equal(store_ban_get(st, "192.0.2.1", &b), 0);
	assert_int_equal(b.strikes, 2);
	assert_string_equal(b.evidence, "{}");
	/* Triggers of version 2 work on old rows. */
	assert_int_equal(store_gen(st, STORE_GEN_ACCOUNTS, &gen), 0);
	assert_int_equal(gen, 0);
	assert_int_equal(store_account_set_enabled(st, "bob", "example.com",
	    false), 0);
	assert_int_equal(store_gen(st, STORE_GEN_ACCOUNTS, &gen), 0);
	assert_int_equal(gen, 1);
	store_close(st);
	assert_int_equal(raw_int("PRAGMA user_version"),
	    STORE_SCHEMA_VERSION);
}

/* --- accounts ---------------------------------------------------------------- */

struct collect {
	int	n;
	int	stop_at;
	char	names[16][STORE_AOR_MAX + 1];
};

static int
collect_acc(void *arg, const struct store_account *a)
{
	struct collect *c = arg;

	if (c->n < 16)
		snprintf(c->names[c->n], sizeof(c->names[0]), "%s@%s",
		    a->username, a->domain);
	c->n++;
	return c->stop_at > 0 && c->n == c->stop_at ? 7 : 0;
}

static void
test_account_crud(void **state)
{
	struct store *st = open_ok();
	struct store_account a, g;
	struct collect c = { 0 };
	unsigned nreg = 99;
	int64_t id1 = 0, id2 = 0;
	struct store_reg reg;

	acc_init(&a, "alice", "Example.COM");
	strcpy(a.allow_cidrs, "192.0.2.0/24  2001:DB8::/32 192.0.2.0/24");
	strcpy(a.pw_fp, SHAB);
	a.max_contacts = 3;
	assert_int_equal(store_account_add(st, &a, &id1), 0);
	assert_true(id1 > 0);
	assert_int_equal(store_account_add(st, &a, NULL), -EEXIST);
	/* The domain is case-insensitive, the username is not. */
	strcpy(a.domain, "example.com");
	assert_int_equal(store_account_add(st, &a, NULL), -EEXIST);
	acc_init(&a, "Alice", "example.com");
	assert_int_equal(store_account_add(st, &a, &id2), 0);
	assert_true(id2 != id1);
	acc_init(&a, "bob", "a.example");
	assert_int_equal(store_account_add(st, &a, NULL), 0);

	assert_int_equal(store_account_get(st, "alice", "EXAMPLE.com", &g), 0);
	assert_int_equal(g.id, id1);
	assert_string_equal(g.username, "alice");
	assert_string_equal(g.domain, "example.com");
	assert_string_equal(g.ha1_md5, MD5A);
	assert_string_equal(g.ha1_sha256, SHAA);
	assert_string_equal(g.pw_fp, SHAB);
	assert_string_equal(g.grp, "default");
	assert_string_equal(g.allow_cidrs, "192.0.2.0/24 2001:db8::/32");
	assert_int_equal(g.max_contacts, 3);
	assert_true(g.enabled);
	assert_int_equal(g.created, 1000);
	assert_int_equal(g.rotated, 0);
	assert_int_equal(g.locked_until, 0);
	assert_int_equal(store_account_get(st, "carol", "example.com", &g),
	    -ENOENT);

	/* List: ordered by domain, then username (bytewise). */
	assert_int_equal(store_account_list(st, collect_acc, &c), 0);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.names[0], "bob@a.example");
	assert_string_equal(c.names[1], "Alice@example.com");
	assert_string_equal(c.names[2], "alice@example.com");
	memset(&c, 0, sizeof(c));
	c.stop_at = 2;
	assert_int_equal(store_account_list(st, collect_acc, &c), 7);
	assert_int_equal(c.n, 2);
	assert_int_equal(store_account_list(st, NULL, NULL), -EINVAL);

	/* Update named fields only. */
	acc_init(&a, "alice", "example.com");
	strcpy(a.grp, "sales");
	a.max_contacts = 9;
	strcpy(a.allow_cidrs, "10.0.0.0/8");
	assert_int_equal(store_account_update(st, &a, STORE_ACC_GROUP), 0);
	assert_int_equal(store_account_get(st, "alice", "example.com", &g), 0);
	assert_string_equal(g.grp, "sales");
	assert_int_equal(g.max_contacts, 3);
	assert_string_equal(g.allow_cidrs, "192.0.2.0/24 2001:db8::/32");
	assert_int_equal(store_account_update(st, &a, STORE_ACC_CIDRS |
	    STORE_ACC_MAX_CONTACTS), 0);
	assert_int_equal(store_account_get(st, "alice", "example.com", &g), 0);
	assert_string_equal(g.allow_cidrs, "10.0.0.0/8");
	assert_int_equal(g.max_contacts, 9);
	strcpy(a.allow_cidrs, "");
	assert_int_equal(store_account_update(st, &a, STORE_ACC_CIDRS), 0);
	assert_int_equal(store_account_get(st, "alice", "example.com", &g), 0);
	assert_string_equal(g.allow_cidrs, "");
	assert_int_equal(store_account_update(st, &a, 0), -EINVAL);
	assert_int_equal(store_account_update(st, &a, 0x100), -EINVAL);
	a.max_contacts = 0;
	assert_int_equal(store_account_update(st, &a, STORE_ACC_MAX_CONTACTS),
	    -EINVAL);
	strcpy(a.grp, "bad group");
	assert_int_equal(store_account_update(st, &a, STORE_ACC_GROUP), -EINVAL);
	acc_init(&a, "nobody", "example.com");
	strcpy(a.grp, "x");
	assert_int_equal(store_account_update(st, &a, STORE_ACC_GROUP), -ENOENT);

	/* Enable/disable, rotate, lock. */
	assert_int_equal(store_account_set_enabled(st, "alice", "example.com",
	    false), 0);
	assert_int_equal(store_account_get(st, "alice", "example.com", &g), 0);
	assert_false(g.enabled);
	assert_int_equal(store_account_set_enabled(st, "alice", "example.com",
	    true), 0);
	assert_int_equal(store_account_get(st, "alice", "example.com", &g), 0);
	assert_true(g.enabled);
	assert_int_equal(store_account_set_enabled(st, "zed", "example.com",
	    true), -ENOENT);
	assert_int_equal(store_account_set_ha1(st, "alice", "example.com",
	    MD5B, SHAB, "", 2000), 0);
	assert_int_equal(store_account_get(st, "alice", "example.com", &g), 0);
	assert_string_equal(g.ha1_md5, MD5B);
	assert_string_equal(g.ha1_sha256, SHAB);
	assert_string_equal(g.pw_fp, "");
	assert_int_equal(g.rotated, 2000);
	assert_int_equal(g.created, 1000);
	assert_int_equal(store_account_set_ha1(st, "alice", "example.com",
	    "0123", SHAB, "", 2000), -EINVAL);
	assert_int_equal(store_account_set_ha1(st, "alice", "example.com",
	    MD5B, SHAB, "xyz", 2000), -EINVAL);
	assert_int_equal(store_account_set_ha1(st, "zed", "example.com",
	    MD5B, SHAB, "", 2000), -ENOENT);
	assert_int_equal(store_account_set_locked_until(st, "alice",
	    "example.com", 5000), 0);
	assert_int_equal(store_account_get(st, "alice", "example.com", &g), 0);
	assert_int_equal(g.locked_until, 5000);
	assert_int_equal(store_account_set_locked_until(st, "alice",
	    "example.com", -1), -EINVAL);
	assert_int_equal(store_account_set_locked_until(st, "zed",
	    "example.com", 1), -ENOENT);

	/* Delete takes the registrations of the account with it. */
	reg_init(&reg, "alice@example.com", "sip:alice@192.0.2.10", 9999);
	assert_int_equal(store_reg_upsert(st, &reg), 0);
	reg_init(&reg, "alice@EXAMPLE.com", "sip:alice@192.0.2.11", 9999);
	assert_int_equal(store_reg_upsert(st, &reg), 0);
	reg_init(&reg, "Alice@example.com", "sip:Alice@192.0.2.12", 9999);
	assert_int_equal(store_reg_upsert(st, &reg), 0);
	assert_int_equal(store_account_delete(st, "alice", "example.com",
	    &nreg), 0);
	assert_int_equal(nreg, 2);
	assert_int_equal(store_account_get(st, "alice", "example.com", &g),
	    -ENOENT);
	assert_int_equal(store_reg_count(st, "Alice@example.com", 0, &nreg), 0);
	assert_int_equal(nreg, 1);
	assert_int_equal(store_account_delete(st, "alice", "example.com",
	    NULL), -ENOENT);
	/* A failed delete left no transaction open. */
	assert_int_equal(st->tx_depth, 0);
	store_close(st);
}

static void
test_account_validation(void **state)
{
	struct store *st = open_ok();
	struct store_account a, g;
	char big[400];

	acc_init(&a, "", "example.com");
	assert_int_equal(store_account_add(st, &a, NULL), -EINVAL);
	acc_init(&a, "al ice", "example.com");
	assert_int_equal(store_account_add(st, &a, NULL), -EINVAL);
	acc_init(&a, "al@ice", "example.com");
	assert_int_equal(store_account_add(st, &a, NULL), -EINVAL);
	acc_init(&a, "al\x1b[31mice", "example.com");
	assert_int_equal(store_account_add(st, &a, NULL), -EINVAL);
	acc_init(&a, "alice", "");
	assert_int_equal(store_account_add(st, &a, NULL), -EINVAL);
	acc_init(&a, "alice", "exa mple.com");
	assert_int_equal(store_account_add(st, &a, NULL), -EINVAL);
	acc_init(&a, "alice", "..example");
	assert_int_equal(store_account_add(st, &a, NULL), -EINVAL);
	acc_init(&a, "alice", "[2001:db8::zz]");
	assert_int_equal(store_account_add(st, &a, NULL), -EINVAL);
	acc_init(&a, "alice", "[2001:DB8::1]");
	assert_int_equal(store_account_add(st, &a, NULL), 0);
	assert_int_equal(store_account_get(st, "alice", "[2001:db8::1]", &g), 0);
	/* The longest username; one more byte is refused. */
	memset(big, 'u', STORE_USERNAME_MAX);
	big[STORE_USERNAME_MAX] = '\0';
	acc_init(&a, big, "example.com");
	assert_int_equal(store_account_add(st, &a, NULL), 0);
	assert_false(store_username_valid("u\x80"));
	big[STORE_USERNAME_MAX] = 'u';
	big[STORE_USERNAME_MAX + 1] = '\0';
	assert_false(store_username_valid(big));
	assert_int_equal(store_account_get(st, big, "example.com", &g), -EINVAL);
	assert_true(store_username_valid("a.b-c_d!~*'()&=+$,;?/9"));

	acc_init(&a, "h", "example.com");
	strcpy(a.ha1_md5, "0123456789ABCDEF0123456789ABCDEF");	/* uppercase */
	assert_int_equal(store_account_add(st, &a, NULL), -EINVAL);
	acc_init(&a, "h", "example.com");
	a.ha1_sha256[10] = '\0';
	assert_int_equal(store_account_add(st, &a, NULL), -EINVAL);
	acc_init(&a, "h", "example.com");
	strcpy(a.pw_fp, "abc");
	assert_int_equal(store_account_add(st, &a, NULL), -EINVAL);
	acc_init(&a, "h", "example.com");
	strcpy(a.grp, "sales team");
	assert_int_equal(store_account_add(st, &a, NULL), -EINVAL);
	acc_init(&a, "h", "example.com");
	a.max_contacts = STORE_MAX_CONTACTS + 1;
	assert_int_equal(store_account_add(st, &a, NULL), -EINVAL);
	acc_init(&a, "h", "example.com");
	a.created = -5;
	assert_int_equal(store_account_add(st, &a, NULL), -EINVAL);
	acc_init(&a, "h", "example.com");
	strcpy(a.allow_cidrs, "10.0.0.1/8");		/* host bits */
	assert_int_equal(store_account_add(st, &a, NULL), -EINVAL);
	strcpy(a.allow_cidrs, "10.0.0.0/33");
	assert_int_equal(store_account_add(st, &a, NULL), -EINVAL);
	strcpy(a.allow_cidrs, "example.com");
	assert_int_equal(store_account_add(st, &a, NULL), -EINVAL);
	strcpy(a.allow_cidrs, "10.0.0.0/8,10.1.0.0/16");
	assert_int_equal(store_account_add(st, &a, NULL), -EINVAL);
	/* A bare address is a host route. */
	strcpy(a.allow_cidrs, "192.0.2.7 2001:db8::7");
	assert_int_equal(store_account_add(st, &a, NULL), 0);
	assert_int_equal(store_account_get(st, "h", "example.com", &g), 0);
	assert_string_equal(g.allow_cidrs, "192.0.2.7/32 2001:db8::7/128");
	assert_int_equal(store_account_add(st, NULL, NULL), -EINVAL);
	store_close(st);
}

static void
test_cidr_canon(void **state)
{
	static const struct {
		const char	*in;
		const char	*key;	/* store_ban_key_canon, NULL: -EINVAL */
		const char	*cidr;	/* store_cidr_canon */
	} t[] = {
		{ "192.0.2.1", "192.0.2.1", "192.0.2.1/32" },
		{ "192.0.2.1/32", "192.0.2.1", "192.0.2.1/32" },
		{ "192.0.2.0/24", "192.0.2.0/24", "192.0.2.0/24" },
		{ "0.0.0.0/0", "0.0.0.0/0", "0.0.0.0/0" },
		{ "2001:DB8:0:0::/64", "2001:db8::/64", "2001:db8::/64" },
		{ "2001:db8::1", "2001:db8::1", "2001:db8::1/128" },
		{ "::ffff:192.0.2.1", "192.0.2.1", "192.0.2.1/32" },
		{ "::ffff:192.0.2.0/120", "192.0.2.0/24", "192.0.2.0/24" },
		{ "::/0", "::/0", "::/0" },
		{ "192.0.2.1/24", NULL, NULL },		/* host bits */
		{ "2001:db8::1/64", NULL, NULL },
		{ "192.0.2.0/33", NULL, NULL },
		{ "2001:db8::/129", NULL, NULL },
		{ "192.0.2.0/024", NULL, NULL },
		{ "192.0.2.0/", NULL, NULL },
		{ "192.0.2.0/+8", NULL, NULL },
		{ "192.0.2.0/8/8", NULL, NULL },
		{ "192.0.2", NULL, NULL },
		{ "192.0.2.01", NULL, NULL },
		{ "192.0.2.256", NULL, NULL },
		{ "fe80::1%eth0", NULL, NULL },
		{ " 192.0.2.1", NULL, NULL },
		{ "", NULL, NULL },
		{ "host.example", NULL, NULL },
		{ "1111:2222:3333:4444:5555:6666:7777:8888/128/1", NULL, NULL },
	};
	char out[STORE_CIDRS_MAX + 1], big[STORE_CIDRS_MAX * 2];
	unsigned plen;
	int fam;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int r = store_ban_key_canon(t[i].in, out, sizeof(out), &plen,
		    &fam);

		if (t[i].key == NULL) {
			assert_int_equal(r, -EINVAL);
			assert_int_equal(store_cidr_canon(t[i].in, out,
			    sizeof(out)), -EINVAL);
			continue;
		}
		assert_int_equal(r, 0);
		assert_string_equal(out, t[i].key);
		assert_int_equal(store_cidr_canon(t[i].in, out, sizeof(out)), 0);
		assert_string_equal(out, t[i].cidr);
	}
	assert_int_equal(store_ban_key_canon("192.0.2.0/24", out, sizeof(out),
	    &plen, &fam), 0);
	assert_int_equal(plen, 24);
	assert_int_equal(fam, AF_INET);
	assert_int_equal(store_ban_key_canon("2001:db8::/48", out, sizeof(out),
	    &plen, &fam), 0);
	assert_int_equal(plen, 48);
	assert_int_equal(fam, AF_INET6);
	/* Too small an output buffer is an error, not a truncation. */
	assert_int_equal(store_ban_key_canon("192.0.2.1", out, 5, NULL, NULL),
	    -EINVAL);

	assert_int_equal(store_cidrs_canon("", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(store_cidrs_canon("   ", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(store_cidrs_canon(" 10.0.0.0/8 10.0.0.0/8  ::1 ", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "10.0.0.0/8 ::1/128");
	/* At most STORE_MAX_CIDRS distinct entries. */
	big[0] = '\0';
	for (int i = 0; i < STORE_MAX_CIDRS; i++) {
		char one[32];

		snprintf(one, sizeof(one), "10.%d.0.0/16 ", i);
		strcat(big, one);
	}
	assert_int_equal(store_cidrs_canon(big, out, sizeof(out)), 0);
	strcat(big, "10.200.0.0/16");
	assert_int_equal(store_cidrs_canon(big, out, sizeof(out)), -EINVAL);
	/* Sixteen of the longest IPv6 prefixes fit in STORE_CIDRS_MAX. */
	big[0] = '\0';
	for (int i = 0; i < STORE_MAX_CIDRS; i++) {
		char one[64];

		snprintf(one, sizeof(one),
		    "1111:2222:3333:4444:5555:6666:7777:%04x ", 0x1000 + i);
		strcat(big, one);
	}
	assert_int_equal(store_cidrs_canon(big, out, sizeof(out)), 0);
	assert_true(strlen(out) <= 800);	/* the schema's CHECK */
}

/* --- registrations --------------------------------------------------------- */

struct rcollect {
	int	n;
	char	contacts[8][64];
	struct store_reg last;
};

static int
collect_reg(void *arg, const struct store_reg *g)
{
	struct rcollect *c = arg;

	if (c->n < 8)
		snprintf(c->contacts[c->n], sizeof(c->contacts[0]), "%.63s",
		    g->contact);
	c->last = *g;
	c->n++;
	return 0;
}

static void
test_registrations(void **state)
{
	struct store *st = open_ok();
	struct store_reg g;
	struct rcollect c = { 0 };
	unsigned n = 0;

	reg_init(&g, "alice@example.com", "sip:alice@192.0.2.10:5060", 1000);
	strcpy(g.q, "0.5");
	strcpy(g.instance, "<urn:uuid:00000000-0000-1000-8000-000A95A0E128>");
	g.reg_id = 1;
	assert_int_equal(store_reg_upsert(st, &g), 0);
	/* Upsert replaces the row of the same (aor, contact). */
	g.expires = 2000;
	g.cseq = 8;
	strcpy(g.source, "2001:db8::10");
	g.sport = 5062;
	strcpy(g.transport, "tls");
	assert_int_equal(store_reg_upsert(st, &g), 0);
	reg_init(&g, "alice@example.com", "sip:alice@192.0.2.11", 500);
	assert_int_equal(store_reg_upsert(st, &g), 0);
	reg_init(&g, "bob@example.com", "sip:bob@192.0.2.20", 1500);
	assert_int_equal(store_reg_upsert(st, &g), 0);

	assert_int_equal(store_reg_list(st, "alice@example.com", collect_reg,
	    &c), 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.contacts[0], "sip:alice@192.0.2.10:5060");
	assert_string_equal(c.contacts[1], "sip:alice@192.0.2.11");
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_reg_list(st, "alice@example.com", collect_reg,
	    &c), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_reg_list(st, NULL, collect_reg, &c), 0);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.contacts[2], "sip:bob@192.0.2.20");

	/* Every field round-trips. */
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_reg_load_unexpired(st, 1000, collect_reg, &c), 0);
	assert_int_equal(c.n, 2);	/* 2000 and 1500; 500 is expired */
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_reg_load_unexpired(st, 1999, collect_reg, &c), 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.last.aor, "alice@example.com");
	assert_string_equal(c.last.contact, "sip:alice@192.0.2.10:5060");
	assert_string_equal(c.last.source, "2001:db8::10");
	assert_int_equal(c.last.sport, 5062);
	assert_string_equal(c.last.transport, "tls");
	assert_int_equal(c.last.expires, 2000);
	assert_string_equal(c.last.user_agent, "Yealink T46U");
	assert_string_equal(c.last.call_id, "abc@host");
	assert_int_equal(c.last.cseq, 8);
	assert_string_equal(c.last.q, "0.5");
	assert_string_equal(c.last.instance,
	    "<urn:uuid:00000000-0000-1000-8000-000A95A0E128>");
	assert_int_equal(c.last.reg_id, 1);
	assert_int_equal(c.last.updated, 500);

	assert_int_equal(store_reg_count(st, "alice@example.com", 0, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_reg_count(st, "alice@example.com", 600, &n), 0);
	assert_int_equal(n, 1);

	assert_int_equal(store_reg_delete(st, "alice@example.com",
	    "sip:alice@192.0.2.11"), 0);
	assert_int_equal(store_reg_delete(st, "alice@example.com",
	    "sip:alice@192.0.2.11"), -ENOENT);
	assert_int_equal(store_reg_delete_expired(st, 1500, &n), 0);
	assert_int_equal(n, 1);		/* bob's, expires == now */
	assert_int_equal(store_reg_delete_aor(st, "ALICE@example.com", &n), 0);
	assert_int_equal(n, 0);		/* the username is case-sensitive */
	assert_int_equal(store_reg_delete_aor(st, "alice@EXAMPLE.COM", &n), 0);
	assert_int_equal(n, 1);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_reg_list(st, NULL, collect_reg, &c), 0);
	assert_int_equal(c.n, 0);
	store_close(st);
}

static void
test_registration_validation(void **state)
{
	struct store *st = open_ok();
	struct store_reg g;
	unsigned n;

	reg_init(&g, "alice", "sip:a@h", 1);
	assert_int_equal(store_reg_upsert(st, &g), -EINVAL);
	reg_init(&g, "@example.com", "sip:a@h", 1);
	assert_int_equal(store_reg_upsert(st, &g), -EINVAL);
	reg_init(&g, "alice@", "sip:a@h", 1);
	assert_int_equal(store_reg_upsert(st, &g), -EINVAL);
	reg_init(&g, "alice@example.com", "", 1);
	assert_int_equal(store_reg_upsert(st, &g), -EINVAL);
	reg_init(&g, "alice@example.com", "sip:a@h\r\nX: y", 1);
	assert_int_equal(store_reg_upsert(st, &g), -EINVAL);
	reg_init(&g, "alice@example.com", "sip:a@h", 1);
	strcpy(g.source, "192.0.2.300");
	assert_int_equal(store_reg_upsert(st, &g), -EINVAL);
	reg_init(&g, "alice@example.com", "sip:a@h", 1);
	strcpy(g.transport, "sctp");
	assert_int_equal(store_reg_upsert(st, &g), -EINVAL);
	reg_init(&g, "alice@example.com", "sip:a@h", -1);
	assert_int_equal(store_reg_upsert(st, &g), -EINVAL);
	reg_init(&g, "alice@example.com", "sip:a@h", 1);
	strcpy(g.q, "1.5");
	assert_int_equal(store_reg_upsert(st, &g), -EINVAL);
	strcpy(g.q, "1.01");
	assert_int_equal(store_reg_upsert(st, &g), -EINVAL);
	strcpy(g.q, "0.1a");
	assert_int_equal(store_reg_upsert(st, &g), -EINVAL);
	strcpy(g.q, "1.000");
	assert_int_equal(store_reg_upsert(st, &g), 0);
	strcpy(g.q, "0");
	assert_int_equal(store_reg_upsert(st, &g), 0);
	/* Invalid UTF-8 and C1 controls in free text. */
	reg_init(&g, "alice@example.com", "sip:a@h", 1);
	strcpy(g.user_agent, "UA \xff");
	assert_int_equal(store_reg_upsert(st, &g), -EINVAL);
	strcpy(g.user_agent, "UA \xc2\x9b" "31m");
	assert_int_equal(store_reg_upsert(st, &g), -EINVAL);
	strcpy(g.user_agent, "T\xc3\xa9l\xc3\xa9phone");
	assert_int_equal(store_reg_upsert(st, &g), 0);
	/* Unterminated fields are refused, not over-read. */
	reg_init(&g, "alice@example.com", "sip:a@h", 1);
	memset(g.user_agent, 'x', sizeof(g.user_agent));
	assert_int_equal(store_reg_upsert(st, &g), -EINVAL);
	reg_init(&g, "alice@example.com", "sip:a@h", 1);
	memset(g.contact, 'x', sizeof(g.contact));
	assert_int_equal(store_reg_upsert(st, &g), -EINVAL);
	memset(g.contact, 'x', STORE_CONTACT_MAX);
	g.contact[STORE_CONTACT_MAX] = '\0';
	assert_int_equal(store_reg_upsert(st, &g), 0);

	assert_int_equal(store_reg_upsert(st, NULL), -EINVAL);
	assert_int_equal(store_reg_delete(st, "x", "y"), -EINVAL);
	assert_int_equal(store_reg_delete_aor(st, "x", &n), -EINVAL);
	assert_int_equal(store_reg_list(st, "x", collect_reg, NULL), -EINVAL);
	assert_int_equal(store_reg_count(st, "x", 0, &n), -EINVAL);
	assert_int_equal(store_reg_load_unexpired(st, 0, NULL, NULL), -EINVAL);
	store_close(st);
}

/* --- bans -------------------------------------------------------------------- */

struct bcollect {
	int	n;
	char	keys[8][STORE_BAN_KEY_MAX + 1];
};

static int
collect_ban(void *arg, const struct store_ban *b)
{
	struct bcollect *c = arg;

	if (c->n < 8)
		strcpy(c->keys[c->n], b->key);
	c->n++;
	return 0;
}

static void
test_bans(void **state)
{
	struct store *st = open_ok();
	struct store_ban b, g;
	struct bcollect c = { 0 };
	unsigned n;

	ban_init(&b, "192.0.2.1", "auth_failures", 100, 400);
	strcpy(b.evidence, "{\"failures\":12,\"first_seen\":90,"
	    "\"last_seen\":99,\"sample\":\"REGISTER sip:x\"}");
	assert_int_equal(store_ban_put(st, &b), 0);
	assert_int_equal(store_ban_get(st, "192.0.2.1/32", &g), 0);
	assert_string_equal(g.key, "192.0.2.1");
	assert_string_equal(g.reason, "auth_failures");
	assert_int_equal(g.since, 100);
	assert_int_equal(g.until, 400);
	assert_int_equal(g.strikes, 1);
	assert_string_equal(g.evidence, b.evidence);
	assert_string_equal(g.origin, "node-1");

	/* Upsert: a second strike replaces the row. */
	b.strikes = 2;
	b.until = 1300;
	strcpy(b.evidence, "");
	assert_int_equal(store_ban_put(st, &b), 0);
	assert_int_equal(store_ban_get(st, "::ffff:192.0.2.1", &g), 0);
	assert_int_equal(g.strikes, 2);
	assert_int_equal(g.until, 1300);
	assert_string_equal(g.evidence, "{}");

	ban_init(&b, "2001:DB8:1::/48", "scanner", 100, 200);
	assert_int_equal(store_ban_put(st, &b), 0);
	ban_init(&b, "198.51.100.0/24", "manual", 100, 0);	/* permanent */
	assert_int_equal(store_ban_put(st, &b), 0);
	ban_init(&b, "203.0.113.5", "rate_limit", 100, 0);
	assert_int_equal(store_ban_put(st, &b), -EINVAL);	/* only manual */

	assert_int_equal(store_ban_list(st, collect_ban, &c), 0);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.keys[0], "192.0.2.1");
	assert_string_equal(c.keys[1], "198.51.100.0/24");
	assert_string_equal(c.keys[2], "2001:db8:1::/48");
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_ban_load_active(st, 200, collect_ban, &c), 0);
	assert_int_equal(c.n, 2);	/* scanner ban ended at 200 */
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_ban_load_active(st, 1e9, collect_ban, &c), 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.keys[0], "198.51.100.0/24");

	assert_int_equal(store_ban_delete_expired(st, 1300, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_ban_get(st, "198.51.100.0/24", &g), 0);
	assert_int_equal(store_ban_delete(st, "198.51.100.0/24"), 0);
	assert_int_equal(store_ban_delete(st, "198.51.100.0/24"), -ENOENT);
	assert_int_equal(store_ban_get(st, "198.51.100.0/24", &g), -ENOENT);
	assert_int_equal(store_ban_get(st, "nonsense", &g), -EINVAL);
	assert_int_equal(store_ban_delete(st, "198.51.100.1/24"), -EINVAL);
	store_close(st);
}

static void
test_ban_validation(void **state)
{
	struct store *st = open_ok();
	struct store_ban b;

	ban_init(&b, "192.0.2.1", "Auth-Failures", 1, 2);
	assert_int_equal(store_ban_put(st, &b), -EINVAL);
	ban_init(&b, "192.0.2.1", "", 1, 2);
	assert_int_equal(store_ban_put(st, &b), -EINVAL);
	ban_init(&b, "192.0.2.1/24", "scanner", 1, 2);
	assert_int_equal(store_ban_put(st, &b), -EINVAL);
	ban_init(&b, "192.0.2.1", "scanner", 10, 5);		/* ends before */
	assert_int_equal(store_ban_put(st, &b), -EINVAL);
	ban_init(&b, "192.0.2.1", "scanner", 1, 2);
	b.strikes = 0;
	assert_int_equal(store_ban_put(st, &b), -EINVAL);
	ban_init(&b, "192.0.2.1", "scanner", 1, 2);
	strcpy(b.evidence, "[1,2]");
	assert_int_equal(store_ban_put(st, &b), -EINVAL);
	strcpy(b.evidence, "{\"a\":1");
	assert_int_equal(store_ban_put(st, &b), -EINVAL);
	strcpy(b.evidence, "{\"a\":1,\"a\":2}");
	assert_int_equal(store_ban_put(st, &b), -EINVAL);
	strcpy(b.evidence, "{\n\"a\":1}");	/* compact only */
	assert_int_equal(store_ban_put(st, &b), -EINVAL);
	ban_init(&b, "192.0.2.1", "scanner", 1, 2);
	strcpy(b.origin, "node 1");
	assert_int_equal(store_ban_put(st, &b), -EINVAL);
	assert_int_equal(store_ban_put(st, NULL), -EINVAL);
	assert_int_equal(store_ban_list(st, NULL, NULL), -EINVAL);
	store_close(st);
}

static void
test_ban_history(void **state)
{
	struct store *st = open_ok();
	uint32_t strikes = 0;
	int64_t last = 0;
	unsigned n;

	assert_int_equal(store_ban_history_get(st, "192.0.2.1", &strikes,
	    &last), -ENOENT);
	assert_int_equal(store_ban_history_put(st, "192.0.2.1", 1, 100), 0);
	assert_int_equal(store_ban_history_put(st, "::ffff:192.0.2.1", 3, 700),
	    0);
	assert_int_equal(store_ban_history_get(st, "192.0.2.1", &strikes,
	    &last), 0);
	assert_int_equal(strikes, 3);
	assert_int_equal(last, 700);
	assert_int_equal(store_ban_history_put(st, "2001:db8::/64", 1, 50), 0);
	assert_int_equal(store_ban_history_prune(st, 100, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_ban_history_get(st, "2001:db8::/64", NULL, NULL),
	    -ENOENT);
	assert_int_equal(store_ban_history_get(st, "192.0.2.1", NULL, NULL), 0);
	assert_int_equal(store_ban_history_put(st, "x", 1, 1), -EINVAL);
	assert_int_equal(store_ban_history_put(st, "192.0.2.1", 1, -1), -EINVAL);
	store_close(st);
}

struct hist_seen {
	char		keys[4][STORE_BAN_KEY_MAX + 1];
	uint32_t	strikes[4];
	size_t		n;
};

static int
hist_collect(void *arg, const char *key, uint32_t strikes, int64_t last)
{
	struct hist_seen *h = arg;

	(void)last;
	if (h->n == 4)
		return 99;
	snprintf(h->keys[h->n], sizeof(h->keys[0]), "%s", key);
	h->strikes[h->n++] = strikes;
	return 0;
}

static void
test_ban_history_list(void **state)
{
	struct store *st = open_ok();
	struct hist_seen h;

	assert_int_equal(store_ban_history_put(st, "192.0.2.1", 2, 100), 0);
	assert_int_equal(store_ban_history_put(st, "192.0.2.0/24", 1, 300), 0);
	assert_int_equal(store_ban_history_put(st, "2001:db8::1", 5, 50), 0);
	memset(&h, 0, sizeof(h));
	/* only what is recent enough to still escalate, in key order */
	assert_int_equal(store_ban_history_list(st, 100, hist_collect, &h), 0);
	assert_int_equal(h.n, 2);
	assert_string_equal(h.keys[0], "192.0.2.0/24");
	assert_string_equal(h.keys[1], "192.0.2.1");
	assert_int_equal(h.strikes[1], 2);
	memset(&h, 0, sizeof(h));
	assert_int_equal(store_ban_history_list(st, 0, hist_collect, &h), 0);
	assert_int_equal(h.n, 3);
	assert_int_equal(store_ban_history_list(st, 0, NULL, NULL), -EINVAL);
	store_close(st);
}

/* --- meta, generations, change detection, fingerprints ---------------------- */

static void
test_meta_and_gen(void **state)
{
	struct store *st = open_ok();
	struct store_account a;
	struct store_ban b;
	uint64_t ga0, ga1, gb0, gb1;
	char v[64];

	assert_int_equal(store_meta_get(st, "x.y", v, sizeof(v)), -ENOENT);
	assert_int_equal(store_meta_set(st, "x.y", "1"), 0);
	assert_int_equal(store_meta_set(st, "x.y", "two"), 0);
	assert_int_equal(store_meta_get(st, "x.y", v, sizeof(v)), 0);
	assert_string_equal(v, "two");
	assert_int_equal(store_meta_get(st, "x.y", v, 3), -EBADMSG);
	assert_int_equal(store_meta_set(st, "X", "1"), -EINVAL);
	assert_int_equal(store_meta_set(st, "", "1"), -EINVAL);
	assert_int_equal(store_meta_set(st, "k", "a\nb"), -EINVAL);
	assert_int_equal(store_meta_set(st, "k", NULL), -EINVAL);

	assert_int_equal(store_gen(st, STORE_GEN_ACCOUNTS, &ga0), 0);
	assert_int_equal(store_gen(st, STORE_GEN_BANS, &gb0), 0);
	assert_int_equal(store_gen(st, STORE_GEN_MAX, &gb0), -EINVAL);
	acc_init(&a, "alice", "example.com");
	assert_int_equal(store_account_add(st, &a, NULL), 0);
	assert_int_equal(store_gen(st, STORE_GEN_ACCOUNTS, &ga1), 0);
	assert_int_equal(store_gen(st, STORE_GEN_BANS, &gb1), 0);
	assert_int_equal(ga1, ga0 + 1);
	assert_int_equal(gb1, gb0);
	ban_init(&b, "192.0.2.1", "scanner", 1, 2);
	assert_int_equal(store_ban_put(st, &b), 0);
	assert_int_equal(store_ban_delete(st, "192.0.2.1"), 0);
	assert_int_equal(store_gen(st, STORE_GEN_BANS, &gb1), 0);
	assert_int_equal(gb1, gb0 + 2);
	assert_int_equal(store_account_delete(st, "alice", "example.com", NULL),
	    0);
	assert_int_equal(store_gen(st, STORE_GEN_ACCOUNTS, &ga1), 0);
	assert_int_equal(ga1, ga0 + 2);
	store_close(st);
}

static void
test_changed_between_connections(void **state)
{
	struct store *daemon = open_ok(), *cli = open_ok();
	struct store_account a;
	bool changed = true;

	assert_int_equal(store_changed(daemon, &changed), 0);
	assert_false(changed);
	/* Our own writes do not count. */
	assert_int_equal(store_meta_set(daemon, "k", "1"), 0);
	assert_int_equal(store_changed(daemon, &changed), 0);
	assert_false(changed);
	/* Another connection's do, once. */
	acc_init(&a, "alice", "example.com");
	assert_int_equal(store_account_add(cli, &a, NULL), 0);
	assert_int_equal(store_changed(daemon, &changed), 0);
	assert_true(changed);
	assert_int_equal(store_changed(daemon, &changed), 0);
	assert_false(changed);
	/* cli saw the daemon's write; then only its own. */
	assert_int_equal(store_changed(cli, &changed), 0);
	assert_true(changed);
	assert_int_equal(store_changed(cli, &changed), 0);
	assert_false(changed);
	/* A rolled-back transaction changes nothing. */
	assert_int_equal(store_begin(cli), 0);
	assert_int_equal(store_meta_set(cli, "k", "2"), 0);
	assert_int_equal(store_rollback(cli), 0);
	assert_int_equal(store_changed(daemon, &changed), 0);
	assert_false(changed);
	store_close(cli);
	store_close(daemon);
}

static void
test_pw_fingerprint(void **state)
{
	struct store *st = open_ok(), *st2;
	char a[STORE_PWFP_LEN + 1], b[STORE_PWFP_LEN + 1];
	char c[STORE_PWFP_LEN + 1], key[128];

	assert_int_equal(store_meta_get(st, "pwfp.key", key, sizeof(key)),
	    -ENOENT);
	assert_int_equal(store_pw_fingerprint(st, "secret one", 10, a), 0);
	assert_int_equal(strlen(a), STORE_PWFP_LEN);
	assert_int_equal(store_meta_get(st, "pwfp.key", key, sizeof(key)), 0);
	assert_int_equal(strlen(key), 64);
	assert_int_equal(store_pw_fingerprint(st, "secret one", 10, b), 0);
	assert_string_equal(a, b);
	assert_int_equal(store_pw_fingerprint(st, "secret two", 10, c), 0);
	assert_string_not_equal(a, c);
	/* Same key for another connection and after reopening. */
	st2 = open_ok();
	assert_int_equal(store_pw_fingerprint(st2, "secret one", 10, b), 0);
	assert_string_equal(a, b);
	store_close(st2);
	store_close(st);
	st = open_ok();
	assert_int_equal(store_pw_fingerprint(st, "secret one", 10, b), 0);
	assert_string_equal(a, b);
	assert_int_equal(store_pw_fingerprint(st, "", 0, b), -EINVAL);
	store_close(st);
	/* Another store has another key: fingerprints are not portable. */
	unlink(path);
	tmpstore_teardown(state);
	tmpstore_setup(state);
	st = open_ok();
	assert_int_equal(store_pw_fingerprint(st, "secret one", 10, b), 0);
	assert_string_not_equal(a, b);
	store_close(st);
}

/* --- transactions and re-entrancy ---------------------------------------------- */

static void
test_nested_transactions(void **state)
{
	struct store *st = open_ok();
	char v[16];

	assert_int_equal(store_commit(st), -EINVAL);
	assert_int_equal(store_rollback(st), 0);
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_meta_set(st, "a", "1"), 0);
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_meta_set(st, "b", "1"), 0);
	assert_int_equal(store_rollback(st), 0);	/* b only */
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_meta_set(st, "c", "1"), 0);
	assert_int_equal(store_commit(st), 0);		/* release c */
	assert_int_equal(st->tx_depth, 1);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(st->tx_depth, 0);
	assert_int_equal(store_meta_get(st, "a", v, sizeof(v)), 0);
	assert_int_equal(store_meta_get(st, "b", v, sizeof(v)), -ENOENT);
	assert_int_equal(store_meta_get(st, "c", v, sizeof(v)), 0);

	/* Outer rollback takes everything. */
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_meta_set(st, "d", "1"), 0);
	assert_int_equal(store_rollback(st), 0);
	assert_int_equal(store_meta_get(st, "d", v, sizeof(v)), -ENOENT);

	/* Closing with an open transaction rolls it back. */
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_meta_set(st, "e", "1"), 0);
	store_close(st);
	st = open_ok();
	assert_int_equal(store_meta_get(st, "e", v, sizeof(v)), -ENOENT);
	store_close(st);
}

struct reenter {
	struct store	*st;
	int		 inner;
	int		 get;
};

static int
reenter_cb(void *arg, const struct store_account *a)
{
	struct reenter *re = arg;
	struct store_account g;
	struct collect c = { 0 };

	re->inner = store_account_list(re->st, collect_acc, &c);
	re->get = store_account_get(re->st, a->username, a->domain, &g);
	return 0;
}

static void
test_list_reentrancy(void **state)
{
	struct store *st = open_ok();
	struct store_account a;
	struct reenter re = { .st = st, .inner = 1, .get = 1 };

	acc_init(&a, "alice", "example.com");
	assert_int_equal(store_account_add(st, &a, NULL), 0);
	assert_int_equal(store_account_list(st, reenter_cb, &re), 0);
	assert_int_equal(re.inner, -EBUSY);
	assert_int_equal(re.get, 0);
	/* The statement is usable again afterwards. */
	re.inner = 1;
	assert_int_equal(store_account_list(st, collect_acc,
	    &(struct collect){ 0 }), 0);
	store_close(st);
}

static void
test_strerror(void **state)
{
	static const int errs[] = { 0, -EINVAL, -ENOENT, -EEXIST, -EBUSY,
	    -ENOSPC, -EROFS, -EBADMSG, -EPROTO, -ENOMEM, -EIO, -EACCES,
	    -ESHUTDOWN, -SBC_EFULL, -EPERM };

	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		assert_non_null(store_strerror(errs[i]));
		assert_true(strlen(store_strerror(errs[i])) > 0);
	}
}

int
main(void)
{
#define T(f)	TMPSTORE_TEST(f)
	const struct CMUnitTest tests[] = {
		T(test_open_creates_0600_wal),
		T(test_open_errors),
		T(test_open_refuses_newer_schema),
		T(test_migrate_from_v0_empty_file),
		T(test_migrate_from_v1_keeps_data),
		T(test_account_crud),
		T(test_account_validation),
		cmocka_unit_test(test_cidr_canon),
		T(test_registrations),
		T(test_registration_validation),
		T(test_bans),
		T(test_ban_validation),
		T(test_ban_history),
		T(test_ban_history_list),
		T(test_meta_and_gen),
		T(test_changed_between_connections),
		T(test_pw_fingerprint),
		T(test_nested_transactions),
		T(test_list_reentrancy),
		cmocka_unit_test(test_strerror),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
