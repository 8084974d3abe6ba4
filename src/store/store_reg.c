/*
 * The registrations table: one row per (AOR, contact) binding, written
 * by the store writer thread for the registrar and read back by the
 * daemon at start (load_unexpired).  Expiry is an absolute unix time;
 * expired rows are harmless (never loaded) and swept by
 * store_reg_delete_expired().
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "store/store_int.h"

/* "user@domain" with a valid user and the domain lowercased. */
static int
aor_canon(const char *in, char ret[STORE_AOR_MAX + 1])
{
	char user[STORE_USERNAME_MAX + 1], dom[STORE_DOMAIN_MAX + 1];
	const char *at;
	size_t ulen;

	if (in == NULL || strnlen(in, STORE_AOR_MAX + 1) > STORE_AOR_MAX ||
	    (at = strchr(in, '@')) == NULL)
		return -EINVAL;
	ulen = (size_t)(at - in);
	if (ulen == 0 || ulen > STORE_USERNAME_MAX)
		return -EINVAL;
	memcpy(user, in, ulen);
	user[ulen] = '\0';
	if (!store_username_valid(user) ||
	    store_domain_canon(at + 1, dom, sizeof(dom)) < 0)
		return -EINVAL;
	snprintf(ret, STORE_AOR_MAX + 1, "%s@%s", user, dom);
	return 0;
}

static bool
ip_ok(const char *s)
{
	uint8_t a[16];

	if (s == NULL || strnlen(s, STORE_IP_MAX + 1) > STORE_IP_MAX)
		return false;
	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

static bool
transport_ok(const char *t)
{
	static const char *const names[] = { "udp", "tcp", "tls", "ws", "wss" };

	if (t == NULL)
		return false;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(t, names[i]) == 0)
			return true;
	return false;
}

/* RFC 3261 qvalue: "0" [ "." 0*3DIGIT ] / "1" [ "." 0*3("0") ]; or "". */
static bool
q_ok(const char *q)
{
	size_t n;

	if (q == NULL)
		return false;
	if (q[0] == '\0')
		return true;
	n = strnlen(q, STORE_Q_MAX + 1);
	if (n > STORE_Q_MAX || (q[0] != '0' && q[0] != '1'))
		return false;
	if (n == 1)
		return true;
	if (q[1] != '.')
		return false;
	for (size_t i = 2; i < n; i++)
		if (q[i] < '0' || q[i] > '9' || (q[0] == '1' && q[i] != '0'))
			return false;
	return true;
}

static int
reg_read(sqlite3_stmt *s, struct store_reg *g)
{
	int64_t v;
	int r;

	memset(g, 0, sizeof(*g));
	if ((r = store_col_text(s, 0, g->aor, sizeof(g->aor))) < 0 ||
	    (r = store_col_text(s, 1, g->contact, sizeof(g->contact))) < 0 ||
	    (r = store_col_text(s, 2, g->source, sizeof(g->source))) < 0 ||
	    (r = store_col_text(s, 4, g->transport, sizeof(g->transport))) < 0 ||
	    (r = store_col_text(s, 6, g->user_agent, sizeof(g->user_agent))) < 0 ||
	    (r = store_col_text(s, 7, g->call_id, sizeof(g->call_id))) < 0 ||
	    (r = store_col_text(s, 9, g->q, sizeof(g->q))) < 0 ||
	    (r = store_col_text(s, 10, g->instance, sizeof(g->instance))) < 0)
		return r;
	if ((v = sqlite3_column_int64(s, 3)) < 0 || v > UINT16_MAX)
		return -EBADMSG;
	g->sport = (uint16_t)v;
	g->expires = sqlite3_column_int64(s, 5);
	if ((v = sqlite3_column_int64(s, 8)) < 0 || v > UINT32_MAX)
		return -EBADMSG;
	g->cseq = (uint32_t)v;
	if ((v = sqlite3_column_int64(s, 11)) < 0 || v > UINT32_MAX)
		return -EBADMSG;
	g->reg_id = (uint32_t)v;
	g->updated = sqlite3_column_int64(s, 12);
	return 0;
}

int
store_reg_upsert(struct store *st, const struct store_reg *g)
{
	char aor[STORE_AOR_MAX + 1];
	sqlite3_stmt *s;
	int r;

	if (g == NULL || aor_canon(g->aor, aor) < 0 ||
	    !store_text_ok(g->contact, STORE_CONTACT_MAX, true) ||
	    !ip_ok(g->source) || !transport_ok(g->transport) ||
	    g->expires < 0 || g->updated < 0 ||
	    !store_text_ok(g->user_agent, STORE_UA_MAX, false) ||
	    !store_text_ok(g->call_id, STORE_CALLID_MAX, false) ||
	    !q_ok(g->q) ||
	    !store_text_ok(g->instance, STORE_INSTANCE_MAX, false))
		return -EINVAL;
	if ((r = store_stmt(st, SQL_REG_UPSERT, &s)) < 0)
		return r;
	if ((r = store_bind_text(s, 1, aor)) < 0 ||
	    (r = store_bind_text(s, 2, g->contact)) < 0 ||
	    (r = store_bind_text(s, 3, g->source)) < 0 ||
	    (r = store_err(sqlite3_bind_int(s, 4, g->sport))) < 0 ||
	    (r = store_bind_text(s, 5, g->transport)) < 0 ||
	    (r = store_err(sqlite3_bind_int64(s, 6, g->expires))) < 0 ||
	    (r = store_bind_text(s, 7, g->user_agent)) < 0 ||
	    (r = store_bind_text(s, 8, g->call_id)) < 0 ||
	    (r = store_err(sqlite3_bind_int64(s, 9, g->cseq))) < 0 ||
	    (r = store_bind_text(s, 10, g->q)) < 0 ||
	    (r = store_bind_text(s, 11, g->instance)) < 0 ||
	    (r = store_err(sqlite3_bind_int64(s, 12, g->reg_id))) < 0 ||
	    (r = store_err(sqlite3_bind_int64(s, 13, g->updated))) < 0) {
		store_stmt_done(s);
		return r;
	}
	return store_step_done(s);
}

int
store_reg_delete(struct store *st, const char *aor_in, const char *contact)
{
	char aor[STORE_AOR_MAX + 1];
	sqlite3_stmt *s;
	int r;

	if (aor_canon(aor_in, aor) < 0 ||
	    !store_text_ok(contact, STORE_CONTACT_MAX, true))
		return -EINVAL;
	if ((r = store_stmt(st, SQL_REG_DELETE, &s)) < 0)
		return r;
	if ((r = store_bind_text(s, 1, aor)) < 0 ||
	    (r = store_bind_text(s, 2, contact)) < 0) {
		store_stmt_done(s);
		return r;
	}
	if ((r = store_step_done(s)) < 0)
		return r;
	return sqlite3_changes64(st->db) > 0 ? 0 : -ENOENT;
}

int
store_reg_delete_aor(struct store *st, const char *aor_in, unsigned *ret_n)
{
	char aor[STORE_AOR_MAX + 1];
	sqlite3_stmt *s;
	int r;

	if (aor_canon(aor_in, aor) < 0)
		return -EINVAL;
	if ((r = store_stmt(st, SQL_REG_DELETE_AOR, &s)) < 0)
		return r;
	if ((r = store_bind_text(s, 1, aor)) < 0) {
		store_stmt_done(s);
		return r;
	}
	if ((r = store_step_done(s)) < 0)
		return r;
	if (ret_n != NULL)
		*ret_n = (unsigned)sqlite3_changes64(st->db);
	return 0;
}

/* Walk the rows of a prepared and bound SELECT REG_COLS statement. */
static int
reg_walk(struct store *st, sqlite3_stmt *s, store_reg_fn fn, void *arg)
{
	struct store_reg g;
	int r, rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((r = reg_read(s, &g)) < 0 || (r = fn(arg, &g)) != 0)
			goto out;
	}
	r = rc == SQLITE_DONE ? 0 : store_err(sqlite3_extended_errcode(st->db));
out:
	store_stmt_done(s);
	return r;
}

int
store_reg_list(struct store *st, const char *aor_in, store_reg_fn fn,
    void *arg)
{
	char aor[STORE_AOR_MAX + 1];
	sqlite3_stmt *s;
	int r;

	if (fn == NULL || (aor_in != NULL && aor_canon(aor_in, aor) < 0))
		return -EINVAL;
	if ((r = store_stmt(st, aor_in != NULL ? SQL_REG_LIST_AOR :
	    SQL_REG_LIST_ALL, &s)) < 0)
		return r;
	if (aor_in != NULL && (r = store_bind_text(s, 1, aor)) < 0) {
		store_stmt_done(s);
		return r;
	}
	return reg_walk(st, s, fn, arg);
}

int
store_reg_load_unexpired(struct store *st, int64_t now, store_reg_fn fn,
    void *arg)
{
	sqlite3_stmt *s;
	int r;

	if (fn == NULL)
		return -EINVAL;
	if ((r = store_stmt(st, SQL_REG_LOAD, &s)) < 0)
		return r;
	if ((r = store_err(sqlite3_bind_int64(s, 1, now))) < 0) {
		store_stmt_done(s);
		return r;
	}
	return reg_walk(st, s, fn, arg);
}

int
store_reg_delete_expired(struct store *st, int64_t now, unsigned *ret_n)
{
	return store_exec_i64(st, SQL_REG_DELETE_EXPIRED, now, ret_n);
}

int
store_reg_count(struct store *st, const char *aor_in, int64_t now,
    unsigned *ret_n)
{
	char aor[STORE_AOR_MAX + 1];
	sqlite3_stmt *s;
	int r, rc;

	if (aor_canon(aor_in, aor) < 0 || ret_n == NULL)
		return -EINVAL;
	if ((r = store_stmt(st, SQL_REG_COUNT, &s)) < 0)
		return r;
	if ((r = store_bind_text(s, 1, aor)) < 0 ||
	    (r = store_err(sqlite3_bind_int64(s, 2, now))) < 0)
		goto out;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*ret_n = (unsigned)sqlite3_column_int64(s, 0);
	else
		r = store_err(sqlite3_extended_errcode(st->db));
out:
	store_stmt_done(s);
	return r;
}
