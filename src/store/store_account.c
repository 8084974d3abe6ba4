/*
 * The accounts table: SIP digest accounts identified by (username,
 * domain).  Only HA1 hashes and a keyed password fingerprint are kept,
 * never a password (AUTH2).  Every value is validated here before it
 * reaches SQL; the schema's CHECK constraints are the second line.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store/store_int.h"

static bool
hex_ok(const char *s, size_t len)
{
	if (s == NULL || strnlen(s, len + 1) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static bool
pwfp_ok(const char *s)
{
	return s != NULL && (s[0] == '\0' || hex_ok(s, STORE_PWFP_LEN));
}

/* Validate the key of an account; the canonical domain goes to dom. */
static int
acc_key(const char *username, const char *domain,
    char dom[STORE_DOMAIN_MAX + 1])
{
	if (!store_username_valid(username))
		return -EINVAL;
	return store_domain_canon(domain, dom, STORE_DOMAIN_MAX + 1);
}

/* Fill a from a row selected with ACC_COLS. */
static int
acc_read(sqlite3_stmt *s, struct store_account *a)
{
	int64_t mc;
	int r;

	memset(a, 0, sizeof(*a));
	a->id = sqlite3_column_int64(s, 0);
	if ((r = store_col_text(s, 1, a->username, sizeof(a->username))) < 0 ||
	    (r = store_col_text(s, 2, a->domain, sizeof(a->domain))) < 0 ||
	    (r = store_col_text(s, 3, a->ha1_md5, sizeof(a->ha1_md5))) < 0 ||
	    (r = store_col_text(s, 4, a->ha1_sha256, sizeof(a->ha1_sha256))) < 0 ||
	    (r = store_col_text(s, 5, a->pw_fp, sizeof(a->pw_fp))) < 0 ||
	    (r = store_col_text(s, 6, a->grp, sizeof(a->grp))) < 0 ||
	    (r = store_col_text(s, 7, a->allow_cidrs, sizeof(a->allow_cidrs))) < 0)
		return r;
	mc = sqlite3_column_int64(s, 8);
	if (mc < 1 || mc > STORE_MAX_CONTACTS)
		return -EBADMSG;
	a->max_contacts = (uint32_t)mc;
	a->enabled = sqlite3_column_int64(s, 9) != 0;
	a->created = sqlite3_column_int64(s, 10);
	a->rotated = sqlite3_column_int64(s, 11);
	a->locked_until = sqlite3_column_int64(s, 12);
	return 0;
}

int
store_account_add(struct store *st, const struct store_account *a,
    int64_t *ret_id)
{
	char dom[STORE_DOMAIN_MAX + 1], cidrs[STORE_CIDRS_MAX + 1];
	const char *grp;
	uint32_t mc;
	sqlite3_stmt *s;
	int r;

	if (a == NULL || (r = acc_key(a->username, a->domain, dom)) < 0)
		return -EINVAL;
	if (!hex_ok(a->ha1_md5, STORE_HA1_MD5_LEN) ||
	    !hex_ok(a->ha1_sha256, STORE_HA1_SHA256_LEN) || !pwfp_ok(a->pw_fp))
		return -EINVAL;
	grp = a->grp[0] == '\0' ? STORE_DEFAULT_GROUP : a->grp;
	if (!store_group_valid(grp))
		return -EINVAL;
	if (strnlen(a->allow_cidrs, sizeof(a->allow_cidrs)) >=
	    sizeof(a->allow_cidrs) ||
	    store_cidrs_canon(a->allow_cidrs, cidrs, sizeof(cidrs)) < 0)
		return -EINVAL;
	mc = a->max_contacts == 0 ? STORE_DEFAULT_MAX_CONTACTS : a->max_contacts;
	if (mc > STORE_MAX_CONTACTS)
		return -EINVAL;
	if (a->created < 0 || a->rotated < 0 || a->locked_until < 0)
		return -EINVAL;

	if ((r = store_stmt(st, SQL_ACC_INSERT, &s)) < 0)
		return r;
	if ((r = store_bind_text(s, 1, a->username)) < 0 ||
	    (r = store_bind_text(s, 2, dom)) < 0 ||
	    (r = store_bind_text(s, 3, a->ha1_md5)) < 0 ||
	    (r = store_bind_text(s, 4, a->ha1_sha256)) < 0 ||
	    (r = store_bind_text(s, 5, a->pw_fp)) < 0 ||
	    (r = store_bind_text(s, 6, grp)) < 0 ||
	    (r = store_bind_text(s, 7, cidrs)) < 0 ||
	    (r = store_err(sqlite3_bind_int64(s, 8, mc))) < 0 ||
	    (r = store_err(sqlite3_bind_int(s, 9, a->enabled ? 1 : 0))) < 0 ||
	    (r = store_err(sqlite3_bind_int64(s, 10, a->created))) < 0 ||
	    (r = store_err(sqlite3_bind_int64(s, 11, a->rotated))) < 0 ||
	    (r = store_err(sqlite3_bind_int64(s, 12, a->locked_until))) < 0) {
		store_stmt_done(s);
		return r;
	}
	if ((r = store_step_done(s)) < 0)
		return r;
	if (ret_id != NULL)
		*ret_id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int
store_account_get(struct store *st, const char *username, const char *domain,
    struct store_account *ret_a)
{
	char dom[STORE_DOMAIN_MAX + 1];
	struct store_account a;
	sqlite3_stmt *s;
	int r, rc;

	if ((r = acc_key(username, domain, dom)) < 0)
		return r;
	if ((r = store_stmt(st, SQL_ACC_GET, &s)) < 0)
		return r;
	if ((r = store_bind_text(s, 1, username)) < 0 ||
	    (r = store_bind_text(s, 2, dom)) < 0)
		goto out;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		if ((r = acc_read(s, &a)) == 0)
			*ret_a = a;
	} else if (rc == SQLITE_DONE)
		r = -ENOENT;
	else
		r = store_err(sqlite3_extended_errcode(st->db));
out:
	store_stmt_done(s);
	return r;
}

int
store_account_list(struct store *st, store_account_fn fn, void *arg)
{
	struct store_account a;
	sqlite3_stmt *s;
	int r, rc;

	if (fn == NULL)
		return -EINVAL;
	if ((r = store_stmt(st, SQL_ACC_LIST, &s)) < 0)
		return r;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((r = acc_read(s, &a)) < 0 || (r = fn(arg, &a)) != 0)
			goto out;
	}
	r = rc == SQLITE_DONE ? 0 : store_err(sqlite3_extended_errcode(st->db));
out:
	store_stmt_done(s);
	return r;
}

/* Step an UPDATE/DELETE; -ENOENT when it touched no row. */
static int
step_changes(struct store *st, sqlite3_stmt *s)
{
	int r;

	if ((r = store_step_done(s)) < 0)
		return r;
	return sqlite3_changes64(st->db) > 0 ? 0 : -ENOENT;
}

int
store_account_update(struct store *st, const struct store_account *a,
    unsigned fields)
{
	char dom[STORE_DOMAIN_MAX + 1], cidrs[STORE_CIDRS_MAX + 1] = "";
	sqlite3_stmt *s;
	int r;

	if (a == NULL || (r = acc_key(a->username, a->domain, dom)) < 0)
		return -EINVAL;
	if (fields == 0 || (fields & ~(unsigned)(STORE_ACC_GROUP |
	    STORE_ACC_CIDRS | STORE_ACC_MAX_CONTACTS)) != 0)
		return -EINVAL;
	if ((fields & STORE_ACC_GROUP) && !store_group_valid(a->grp))
		return -EINVAL;
	if ((fields & STORE_ACC_CIDRS) &&
	    (strnlen(a->allow_cidrs, sizeof(a->allow_cidrs)) >=
	    sizeof(a->allow_cidrs) ||
	    store_cidrs_canon(a->allow_cidrs, cidrs, sizeof(cidrs)) < 0))
		return -EINVAL;
	if ((fields & STORE_ACC_MAX_CONTACTS) &&
	    (a->max_contacts < 1 || a->max_contacts > STORE_MAX_CONTACTS))
		return -EINVAL;

	if ((r = store_stmt(st, SQL_ACC_UPDATE, &s)) < 0)
		return r;
	if ((r = store_bind_text(s, 1, a->username)) < 0 ||
	    (r = store_bind_text(s, 2, dom)) < 0 ||
	    (r = store_err(sqlite3_bind_int(s, 3,
	    (fields & STORE_ACC_GROUP) != 0))) < 0 ||
	    (r = store_bind_text(s, 4, (fields & STORE_ACC_GROUP) ?
	    a->grp : "")) < 0 ||
	    (r = store_err(sqlite3_bind_int(s, 5,
	    (fields & STORE_ACC_CIDRS) != 0))) < 0 ||
	    (r = store_bind_text(s, 6, cidrs)) < 0 ||
	    (r = store_err(sqlite3_bind_int(s, 7,
	    (fields & STORE_ACC_MAX_CONTACTS) != 0))) < 0 ||
	    (r = store_err(sqlite3_bind_int64(s, 8, a->max_contacts))) < 0) {
		store_stmt_done(s);
		return r;
	}
	return step_changes(st, s);
}

int
store_account_set_enabled(struct store *st, const char *username,
    const char *domain, bool enabled)
{
	char dom[STORE_DOMAIN_MAX + 1];
	sqlite3_stmt *s;
	int r;

	if ((r = acc_key(username, domain, dom)) < 0)
		return r;
	if ((r = store_stmt(st, SQL_ACC_SET_ENABLED, &s)) < 0)
		return r;
	if ((r = store_bind_text(s, 1, username)) < 0 ||
	    (r = store_bind_text(s, 2, dom)) < 0 ||
	    (r = store_err(sqlite3_bind_int(s, 3, enabled ? 1 : 0))) < 0) {
		store_stmt_done(s);
		return r;
	}
	return step_changes(st, s);
}

int
store_account_set_ha1(struct store *st, const char *username,
    const char *domain, const char *ha1_md5, const char *ha1_sha256,
    const char *pw_fp, int64_t now)
{
	char dom[STORE_DOMAIN_MAX + 1];
	sqlite3_stmt *s;
	int r;

	if ((r = acc_key(username, domain, dom)) < 0)
		return r;
	if (!hex_ok(ha1_md5, STORE_HA1_MD5_LEN) ||
	    !hex_ok(ha1_sha256, STORE_HA1_SHA256_LEN) || !pwfp_ok(pw_fp) ||
	    now < 0)
		return -EINVAL;
	if ((r = store_stmt(st, SQL_ACC_SET_HA1, &s)) < 0)
		return r;
	if ((r = store_bind_text(s, 1, username)) < 0 ||
	    (r = store_bind_text(s, 2, dom)) < 0 ||
	    (r = store_bind_text(s, 3, ha1_md5)) < 0 ||
	    (r = store_bind_text(s, 4, ha1_sha256)) < 0 ||
	    (r = store_bind_text(s, 5, pw_fp)) < 0 ||
	    (r = store_err(sqlite3_bind_int64(s, 6, now))) < 0) {
		store_stmt_done(s);
		return r;
	}
	return step_changes(st, s);
}

int
store_account_set_locked_until(struct store *st, const char *username,
    const char *domain, int64_t until)
{
	char dom[STORE_DOMAIN_MAX + 1];
	sqlite3_stmt *s;
	int r;

	if ((r = acc_key(username, domain, dom)) < 0)
		return r;
	if (until < 0)
		return -EINVAL;
	if ((r = store_stmt(st, SQL_ACC_SET_LOCKED, &s)) < 0)
		return r;
	if ((r = store_bind_text(s, 1, username)) < 0 ||
	    (r = store_bind_text(s, 2, dom)) < 0 ||
	    (r = store_err(sqlite3_bind_int64(s, 3, until))) < 0) {
		store_stmt_done(s);
		return r;
	}
	return step_changes(st, s);
}

int
store_account_delete(struct store *st, const char *username,
    const char *domain, unsigned *ret_nreg)
{
	char dom[STORE_DOMAIN_MAX + 1], aor[STORE_AOR_MAX + 1];
	unsigned nreg = 0;
	sqlite3_stmt *s;
	int r;

	if ((r = acc_key(username, domain, dom)) < 0)
		return r;
	snprintf(aor, sizeof(aor), "%s@%s", username, dom);
	if ((r = store_begin(st)) < 0)
		return r;
	if ((r = store_stmt(st, SQL_ACC_DELETE, &s)) < 0)
		goto fail;
	if ((r = store_bind_text(s, 1, username)) < 0 ||
	    (r = store_bind_text(s, 2, dom)) < 0) {
		store_stmt_done(s);
		goto fail;
	}
	if ((r = step_changes(st, s)) < 0)
		goto fail;
	if ((r = store_reg_delete_aor(st, aor, &nreg)) < 0)
		goto fail;
	if ((r = store_commit(st)) < 0)
		goto fail;
	if (ret_nreg != NULL)
		*ret_nreg = nreg;
	return 0;
fail:
	store_rollback(st);
	return r;
}
