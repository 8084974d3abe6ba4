#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "auth/replay.h"
#include "core/jsonw.h"
#include "core/log.h"
#include "daemon/fraud.h"
#include "daemon/state.h"
#include "policy/acl.h"
#include "policy/bruteforce.h"
#include "policy/scanner.h"
#include "policy/trust.h"
#include "sip/msg.h"
#include "sip/tls.h"
#include "store/store.h"
#include "store/writer.h"

#define STATE_RL_CAPACITY	(1u << 18)
#define STATE_BAN_CAPACITY	(1u << 16)
#define STATE_BF_CAPACITY	(1u << 16)
#define STATE_BH_CAPACITY	(1u << 16)
#define STATE_TRUST_CAPACITY	(1u << 16)
#define STATE_REPLAY_CAPACITY	(1u << 18)
#define STATE_LOC_EXPECTED	(1u << 14)
#define STATE_WRITER_QUEUE	16384
#define STATE_SWEEP_BATCH	64
/* A ban a worker just added may not be in the store yet: the
 * reconciliation leaves bans younger than this alone. */
#define STATE_BAN_GRACE_MS	10000
/* tls.cert_expiring: a listener's certificate that expires within this
 * many days is reported at start and then once a day */
#define STATE_CERT_WARN_DAYS	30
#define STATE_CERT_CHECK_S	86400

uint64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Copy a string, cut to fit; -1 when it had to be cut. */
static int
cpy(char *dst, size_t cap, const char *src)
{
	size_t n = 0;

	while (n + 1 < cap && src[n] != '\0') {
		dst[n] = src[n];
		n++;
	}
	dst[n] = '\0';
	return src[n] != '\0' ? -1 : 0;
}

static int
state_path(const struct sw_conf *c, const char *name, char *buf, size_t cap)
{
	int n = name[0] == '/' ? snprintf(buf, cap, "%s", name) :
	    snprintf(buf, cap, "%s/%s", c->node.state_dir, name);

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* ---- conversions between the store's rows and the tables' entries ---- */

static void
cidr_of_conf(const struct conf_cidr *in, struct cidr *out)
{
	if (cidr_from_addr(&in->addr, in->plen, out) < 0)
		memset(out, 0, sizeof(*out));
}

static int
account_from_row(const struct store_account *a, struct account_info *ai)
{
	char list[STORE_CIDRS_MAX + 1], *save = NULL;

	memset(ai, 0, sizeof(*ai));
	ai->id = a->id;
	if (cpy(ai->username, sizeof(ai->username), a->username) < 0 ||
	    cpy(ai->domain, sizeof(ai->domain), a->domain) < 0)
		return -ENAMETOOLONG;
	cpy(ai->ha1_md5, sizeof(ai->ha1_md5), a->ha1_md5);
	cpy(ai->ha1_sha256, sizeof(ai->ha1_sha256), a->ha1_sha256);
	cpy(ai->group, sizeof(ai->group), a->grp);
	ai->enabled = a->enabled;
	ai->max_contacts = a->max_contacts;
	ai->locked_until = a->locked_until;
	cpy(list, sizeof(list), a->allow_cidrs);
	for (char *tok = strtok_r(list, " ", &save); tok != NULL &&
	    ai->ncidrs < ACCT_MAX_CIDRS; tok = strtok_r(NULL, " ", &save)) {
		struct cidr c;

		if (cidr_parse_cstr(tok, &c, NULL, NULL) < 0)
			return -EINVAL;
		cidr_to_addr(&c, &ai->cidrs[ai->ncidrs].addr);
		ai->cidrs[ai->ncidrs].plen = c.plen;
		ai->ncidrs++;
	}
	return 0;
}

struct acct_load {
	struct account_info	*v;
	size_t			 n, cap;
	size_t			 skipped;
};

static int
acct_load_one(void *arg, const struct store_account *a)
{
	struct acct_load *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 256;
		struct account_info *v = realloc(l->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	if (account_from_row(a, &l->v[l->n]) < 0) {
		/* an account the daemon cannot represent is not usable:
		 * it stays out of the table rather than half in */
		l->skipped++;
		return 0;
	}
	l->n++;
	return 0;
}

static int
accounts_reload(struct sw_env *env)
{
	struct acct_load l = { 0 };
	size_t changed;
	int r;

	if ((r = store_account_list(env->sec.st, acct_load_one, &l)) < 0) {
		free(l.v);
		log_warnx("store: reading accounts: %s", store_strerror(r));
		return r;
	}
	changed = acct_table_sync(env->sec.accts, l.v, l.n);
	if (changed > 0 || l.skipped > 0)
		log_info("accounts: %zu loaded, %zu changed%s", l.n, changed,
		    l.skipped ? ", some skipped (domain too long)" : "");
	free(l.v);
	return 0;
}

static void
reg_to_row(const char *aor, const struct binding *b, struct store_reg *r)
{
	memset(r, 0, sizeof(*r));
	cpy(r->aor, sizeof(r->aor), aor);
	cpy(r->contact, sizeof(r->contact), b->contact);
	sw_addr_ip_str(&b->flow.addr, r->source, sizeof(r->source));
	r->sport = sw_addr_port(&b->flow.addr);
	cpy(r->transport, sizeof(r->transport), b->flow.transport == SIP_TP_TCP ? "tcp" :
	    b->flow.transport == SIP_TP_TLS ? "tls" : "udp");
	r->expires = b->expires;
	cpy(r->user_agent, sizeof(r->user_agent), b->user_agent);
	cpy(r->call_id, sizeof(r->call_id), b->call_id);
	r->cseq = b->cseq;
	cpy(r->q, sizeof(r->q), b->q);
	cpy(r->instance, sizeof(r->instance), b->instance);
	r->reg_id = b->reg_id;
	r->updated = b->updated;
}

static int
reg_from_row(const struct sw_conf *c, const struct store_reg *r,
    struct binding *b)
{
	uint8_t tp = strcmp(r->transport, "tcp") == 0 ? SIP_TP_TCP :
	    strcmp(r->transport, "tls") == 0 ? SIP_TP_TLS : SIP_TP_UDP;
	enum conf_transport ct = tp == SIP_TP_TCP ? CONF_TRANSPORT_TCP :
	    tp == SIP_TP_TLS ? CONF_TRANSPORT_TLS : CONF_TRANSPORT_UDP;

	memset(b, 0, sizeof(*b));
	if (cpy(b->contact, sizeof(b->contact), r->contact) < 0 ||
	    sw_addr_parse(r->source, r->sport, &b->flow.addr) < 0)
		return -EINVAL;
	cpy(b->call_id, sizeof(b->call_id), r->call_id);
	cpy(b->user_agent, sizeof(b->user_agent), r->user_agent);
	cpy(b->instance, sizeof(b->instance), r->instance);
	cpy(b->q, sizeof(b->q), r->q);
	b->cseq = r->cseq;
	b->expires = r->expires;
	b->updated = r->updated;
	b->reg_id = r->reg_id;
	b->flow.transport = tp;
	/* the connection is gone; answer through a listener of its kind */
	for (size_t i = 0; i < c->nlisten; i++)
		if (c->listen[i].transport == ct) {
			b->flow.lsn = (uint8_t)i;
			break;
		}
	return 0;
}

struct reg_load {
	struct sw_env	*env;
	size_t		 n, bad;
};

static int
reg_load_one(void *arg, const struct store_reg *r)
{
	struct reg_load *l = arg;
	struct binding b;
	const char *at;

	if (reg_from_row(l->env->conf, r, &b) < 0) {
		l->bad++;
		return 0;
	}
	/* not stored: what the contact and the flow say (the Via is gone) */
	b.nat = (uint8_t)registrar_contact_nat(b.contact, &l->env->lim,
	    &b.flow);
	if (loc_restore(l->env->sec.loc, r->aor, &b) < 0) {
		l->bad++;
		return 0;
	}
	/* the phones behind an address keep their earned budget */
	at = strchr(r->aor, '@');
	trust_note(l->env->sec.trust, &b.flow.addr, slice_make(r->aor,
	    at ? (size_t)(at - r->aor) : strlen(r->aor)), mono_ms());
	l->n++;
	return 0;
}

static void
ban_evidence_json(const struct ban_entry *e, char *buf, size_t cap)
{
	struct jsonw w;
	uint8_t red[2 * SECEVENT_MAX_SAMPLE];
	size_t n = secevent_redact(slice_make(e->sample, e->sample_len), red,
	    sizeof(red));

	jsonw_init(&w, buf, cap);
	jsonw_obj_begin(&w);
	jsonw_kv_uint(&w, "count", e->count);
	jsonw_kv_uint(&w, "first_seen", e->first_seen_ms / 1000);
	jsonw_kv_uint(&w, "last_seen", e->last_seen_ms / 1000);
	if (n > 0) {
		jsonw_key(&w, "sample");
		jsonw_strn_trunc(&w, red, n, 200);
	}
	jsonw_obj_end(&w);
	if (jsonw_finish(&w) < 0)
		snprintf(buf, cap, "{\"count\":%u}", e->count);
}

static void
ban_to_row(const struct sw_env *env, const struct ban_entry *e,
    struct store_ban *b)
{
	char key[CIDR_STRLEN];

	memset(b, 0, sizeof(*b));
	cidr_format(&e->key, key, sizeof(key));
	if (store_ban_key_canon(key, b->key, sizeof(b->key), NULL, NULL) < 0)
		cpy(b->key, sizeof(b->key), key);
	cpy(b->reason, sizeof(b->reason), ban_reason_name(e->reason));
	b->since = (int64_t)(e->since_ms / 1000);
	b->until = e->until_ms == BAN_FOREVER ? 0 :
	    (int64_t)((e->until_ms + 999) / 1000);
	b->strikes = e->strikes ? e->strikes : 1;
	ban_evidence_json(e, b->evidence, sizeof(b->evidence));
	cpy(b->origin, sizeof(b->origin), e->origin[0] ? e->origin : env->conf->node.name);
}

static int
ban_from_row(const struct store_ban *b, struct ban_entry *e)
{
	json_error_t err;
	json_t *j;

	memset(e, 0, sizeof(*e));
	if (cidr_parse_cstr(b->key, &e->key, NULL, NULL) < 0)
		return -EINVAL;
	e->reason = ban_reason_from_name(slice_cstr(b->reason));
	if (e->reason == BAN_R_NONE)
		e->reason = BAN_R_MANUAL;
	e->strikes = b->strikes ? b->strikes : 1;
	e->since_ms = (uint64_t)b->since * 1000;
	e->until_ms = b->until == 0 ? BAN_FOREVER : (uint64_t)b->until * 1000;
	cpy(e->origin, sizeof(e->origin), b->origin);
	if (b->evidence[0] != '\0' &&
	    (j = json_loads(b->evidence, 0, &err)) != NULL) {
		json_t *v;

		if ((v = json_object_get(j, "count")) && json_is_integer(v))
			e->count = (uint32_t)json_integer_value(v);
		if ((v = json_object_get(j, "first_seen")) && json_is_integer(v))
			e->first_seen_ms = (uint64_t)json_integer_value(v) * 1000;
		if ((v = json_object_get(j, "last_seen")) && json_is_integer(v))
			e->last_seen_ms = (uint64_t)json_integer_value(v) * 1000;
		if ((v = json_object_get(j, "sample")) && json_is_string(v)) {
			size_t n = json_string_length(v);

			if (n > BAN_SAMPLE_MAX)
				n = BAN_SAMPLE_MAX;
			memcpy(e->sample, json_string_value(v), n);
			e->sample_len = (uint16_t)n;
		}
		json_decref(j);
	}
	return 0;
}

static void
emit_ban_event(struct sw_env *env, enum secevent_type type,
    const struct ban_entry *e, const char *reason)
{
	struct secevent ev;
	union sw_addr a;
	char key[CIDR_STRLEN];

	cidr_to_addr(&e->key, &a);
	cidr_format(&e->key, key, sizeof(key));
	secevent_init(&ev, type);
	ev.src = &a;
	ev.reason = reason;
	secevent_add_str(&ev, "key", key);
	secevent_add_str(&ev, "ban_reason", ban_reason_name(e->reason));
	secevent_add_int(&ev, "strikes", e->strikes);
	evlog_emit(env->ev, &ev);
}

void
state_ban_event(struct sw_env *env, enum secevent_type type,
    const struct ban_entry *e, const char *reason)
{
	emit_ban_event(env, type, e, reason);
}

/* ---- writes ---- */

void
state_store_error(struct sw_env *env, const char *reason, const char *detail)
{
	struct secevent ev;

	secevent_init(&ev, SECEV_STORE_ERROR);
	ev.reason = reason;
	ev.detail = detail;
	evlog_emit(env->ev, &ev);
}

/* The done of writes nobody waits for: arg is the env. */
static void
wop_failed(void *arg, int result)
{
	if (result >= 0)
		return;
	log_warnx("store write failed: %s", store_strerror(result));
	state_store_error(arg, "write_failed", store_strerror(result));
}

void
state_ban_persist(struct sw_env *env, const struct ban_entry *e)
{
	struct store_wop op;

	memset(&op, 0, sizeof(op));
	op.type = STORE_WOP_BAN_PUT;
	op.done = wop_failed;
	op.arg = env;
	ban_to_row(env, e, &op.u.ban);
	if (store_writer_submit(env->sec.wr, &op) < 0) {
		log_warnx("store queue full: ban of %s not persisted",
		    op.u.ban.key);
		state_store_error(env, "queue_full", "a ban not persisted");
	}
}

static void
ban_unpersist(struct sw_env *env, const struct ban_entry *e)
{
	struct store_wop op;
	struct store_ban row;

	ban_to_row(env, e, &row);
	memset(&op, 0, sizeof(op));
	op.type = STORE_WOP_BAN_DELETE;
	cpy(op.u.ban_del.key, sizeof(op.u.ban_del.key), row.key);
	if (store_writer_submit(env->sec.wr, &op) < 0) {
		log_warnx("store queue full: unban of %s not persisted",
		    row.key);
		state_store_error(env, "queue_full", "an unban not persisted");
	}
	/* the strikes outlive the ban, so the next one escalates */
	memset(&op, 0, sizeof(op));
	op.type = STORE_WOP_BAN_HISTORY_PUT;
	cpy(op.u.hist.key, sizeof(op.u.hist.key), row.key);
	op.u.hist.strikes = e->strikes ? e->strikes : 1;
	op.u.hist.last = (int64_t)(wall_ms() / 1000);
	store_writer_submit(env->sec.wr, &op);
}

int
state_reg_persist(struct sw_env *env, const char *aor, const struct binding *b,
    int del, void (*done)(void *, int), void *arg)
{
	struct store_wop op;

	memset(&op, 0, sizeof(op));
	op.done = done != NULL ? done : wop_failed;
	op.arg = done != NULL ? arg : env;
	if (del) {
		op.type = STORE_WOP_REG_DELETE;
		cpy(op.u.reg_del.aor, sizeof(op.u.reg_del.aor), aor);
		cpy(op.u.reg_del.contact, sizeof(op.u.reg_del.contact),
		    b->contact);
	} else {
		op.type = STORE_WOP_REG_UPSERT;
		reg_to_row(aor, b, &op.u.reg);
	}
	return store_writer_submit(env->sec.wr, &op);
}

/* ---- building the tables ---- */

static uint32_t
rate_milli(uint32_t per_hour)
{
	uint64_t m = ((uint64_t)per_hour * 1000 + 1799) / 3600;

	return m == 0 ? 1 : m > UINT32_MAX ? UINT32_MAX : (uint32_t)m;
}

static struct rl_rate
bucket(const struct conf_bucket *b)
{
	return (struct rl_rate){ .rate_milli = rate_milli(b->rate),
	    .burst = b->burst };
}

/* N events within window_ms: a bucket of N - 1 refilled over the window. */
static struct rl_rate
strike_rate(uint32_t n, uint32_t window_ms)
{
	uint64_t m = window_ms ? (uint64_t)n * 1000000 / window_ms : 1;

	return (struct rl_rate){ .rate_milli = m ? (uint32_t)m : 1,
	    .burst = n > 1 ? n - 1 : 0 };
}

static uint8_t
sip_method_of_conf(int m)
{
	return (uint8_t)sip_method_lookup(slice_cstr(conf_method_name(m)));
}

void
state_rt_free(struct sw_rt *rt)
{
	if (rt == NULL)
		return;
	for (size_t z = 0; z < CONF_MAX_ZONES; z++)
		acl_free(rt->zones[z].acl);
	acl_free(rt->never);
	scan_db_free(rt->sigs_extra);
	free(rt);
}

static int
build_zones(const struct sw_conf *c, struct sw_rt *rt)
{
	struct cidr allow[CONF_MAX_CIDRS], deny[CONF_MAX_CIDRS];
	struct cidr never[CONF_MAX_CIDRS * (CONF_MAX_ZONES + 1)];
	size_t nnever = 0;
	int r;

	for (size_t z = 0; z < c->nzones; z++) {
		const struct conf_zone *cz = &c->zones[z];
		struct zone_rt *zr = &rt->zones[z];

		zr->trusted = cz->trust == CONF_TRUST_TRUSTED;
		zr->auth = cz->auth == CONF_AUTH_REQUIRED;
		for (size_t i = 0; i < cz->nallow; i++) {
			cidr_of_conf(&cz->allow[i], &allow[i]);
			if (zr->trusted)
				never[nnever++] = allow[i];
		}
		for (size_t i = 0; i < cz->ndeny; i++)
			cidr_of_conf(&cz->deny[i], &deny[i]);
		if ((cz->nallow || cz->ndeny) && (r = acl_build(allow,
		    cz->nallow, deny, cz->ndeny, &zr->acl)) < 0)
			return r;
		for (size_t i = 0; i < cz->nmethods; i++)
			zr->methods |= 1u << sip_method_of_conf(cz->methods[i]);
		zr->reply = cz->rate.action == CONF_RL_REPLY;
		zr->retry_after_s = (cz->rate.retry_after_ms + 999) / 1000;
		zr->src = bucket(&cz->rate.source);
		zr->prefix = bucket(&cz->rate.prefix);
		zr->account = bucket(&cz->rate.account);
		zr->authed = bucket(&cz->rate.authenticated);
		zr->nmlim = cz->rate.nmethods;
		for (size_t i = 0; i < cz->rate.nmethods; i++) {
			zr->mlim[i].method =
			    sip_method_of_conf(cz->rate.methods[i].method);
			zr->mlim[i].r = bucket(&cz->rate.methods[i].b);
		}
	}
	for (size_t i = 0; i < c->bans.nnever; i++)
		cidr_of_conf(&c->bans.never[i], &never[nnever++]);
	return acl_build(never, nnever, NULL, 0, &rt->never);
}

int
state_rt_build(const struct sw_conf *c, struct sw_rt **ret, char *err,
    size_t cap)
{
	char path[CONF_DIR_MAX + CONF_PATH_MAX + 2], why[SCAN_ERR_MAX];
	struct sw_rt *rt;
	int r;

	*ret = NULL;
	if ((rt = calloc(1, sizeof(*rt))) == NULL) {
		snprintf(err, cap, "out of memory");
		return -ENOMEM;
	}
	if ((r = build_zones(c, rt)) < 0) {
		state_rt_free(rt);
		snprintf(err, cap, "building the zones' rules: %s",
		    strerror(-r));
		return r;
	}
	if (c->scanner.enabled && c->scanner.signatures[0] != '\0') {
		if (conf_path_resolve(c, c->scanner.signatures, path,
		    sizeof(path)) < 0) {
			r = -ENAMETOOLONG;
			snprintf(why, sizeof(why), "path too long");
		} else
			r = scan_db_load(path, &rt->sigs_extra, why,
			    sizeof(why));
		if (r < 0) {
			state_rt_free(rt);
			snprintf(err, cap, "scanner.signatures: %s", why);
			return r;
		}
	}
	rt->rate_strike = strike_rate(c->bans.rate_strikes,
	    c->bans.rate_window_ms);
	rt->auth_strike = strike_rate(c->bans.auth_failures,
	    c->bans.auth_window_ms);
	rt->regp.min_expires = c->registrar.min_expires_ms / 1000;
	rt->regp.max_expires = c->registrar.max_expires_ms / 1000;
	rt->regp.default_expires = c->registrar.default_expires_ms / 1000;
	rt->regp.max_contacts = c->registrar.max_contacts;
	rt->regp.nat_expires = c->registrar.nat_expires_ms / 1000;
	*ret = rt;
	return 0;
}

static int
build_auth(struct sw_env *env)
{
	const struct sw_conf *c = env->conf;
	struct sw_sec *s = &env->sec;
	uint8_t secret[NONCE_SECRET_LEN];
	char path[PATH_MAX];
	const char *why = NULL;
	int r;

	/* a copy: the config it came from is freed after a reload */
	snprintf(s->realm_buf, sizeof(s->realm_buf), "%s", c->auth.realm);
	s->realm = slice_cstr(s->realm_buf);
	for (size_t i = 0; i < c->auth.nalgorithms; i++) {
		enum digest_alg a = c->auth.algorithms[i] == CONF_ALG_MD5 ?
		    DIGEST_ALG_MD5 : DIGEST_ALG_SHA256;

		s->alg_order[s->nalgs++] = a;
		s->algs |= DIGEST_ALG_BIT(a);
	}
	if ((r = state_path(c, "nonce.key", path, sizeof(path))) < 0)
		return r;
	if ((r = nonce_secret_load_or_create(path, secret, &why)) < 0) {
		log_warnx("nonce secret %s: %s", path, why ? why : strerror(-r));
		return r;
	}
	r = nonce_ctx_init(&s->nonce, secret, c->auth.nonce_ttl_ms / 1000,
	    c->auth.nonce_bind_source);
	explicit_bzero(secret, sizeof(secret));
	if (r < 0)
		return r;
	if (getrandom(s->fake_key, sizeof(s->fake_key), 0) !=
	    (ssize_t)sizeof(s->fake_key))
		return -EIO;
	if ((r = replay_new(STATE_REPLAY_CAPACITY, &s->replay)) < 0)
		return r;
	s->dv.nonce = &s->nonce;
	s->dv.replay = s->replay;
	s->dv.fake_key = s->fake_key;
	return 0;
}

static int
build_policy(struct sw_env *env)
{
	const struct sw_conf *c = env->conf;
	struct sw_sec *s = &env->sec;
	struct rl_conf rc = { .capacity = STATE_RL_CAPACITY, .window_ms = 1000 };
	struct ban_conf bc = {
		.capacity = STATE_BAN_CAPACITY,
		.first_ms = c->bans.first_ms, .factor = c->bans.factor,
		.max_ms = c->bans.max_ms, .forget_ms = c->bans.forget_ms,
		.allow = atomic_load(&s->rt)->never,
	};
	struct bf_conf fc = {
		.capacity = STATE_BF_CAPACITY,
		.window_ms = c->bruteforce.window_ms,
		.threshold = c->bruteforce.failures,
		.lock_ms = c->bruteforce.lock_ms,
	};
	struct scan_bh_conf hc = {
		.capacity = STATE_BH_CAPACITY,
		.window_ms = c->scanner.window_ms,
		.users_threshold = scan_bh_clamp(c->scanner.unknown_users),
		.sweep_threshold = scan_bh_clamp(c->scanner.sweep),
	};
	char err[SCAN_ERR_MAX];
	int r;

	if ((r = rl_new(&rc, &s->rl)) < 0 || (r = ban_new(&bc, &s->bans)) < 0 ||
	    (r = bf_new(&fc, &s->bf)) < 0 || (r = scan_bh_new(&hc, &s->bh)) < 0)
		return r;
	/* trust lasts as long as a registration can */
	if ((r = trust_new(STATE_TRUST_CAPACITY,
	    2ull * c->registrar.max_expires_ms, &s->trust)) < 0)
		return r;
	/* built even when off: a reload may turn the scanner on */
	if ((r = scan_db_parse(scanner_builtin, scanner_builtin_len,
	    "built-in signatures", &s->sigs, err, sizeof(err))) < 0) {
		log_warnx("%s", err);
		return r;
	}
	if (c->scanner.enabled) {
		const struct sw_rt *rt = atomic_load(&s->rt);

		log_info("scanner: %zu built-in signatures, %zu from %s",
		    scan_db_count(s->sigs), rt->sigs_extra ?
		    scan_db_count(rt->sigs_extra) : 0, rt->sigs_extra ?
		    c->scanner.signatures : "no extra file");
	}
	return 0;
}

static int
ban_load_one(void *arg, const struct store_ban *b)
{
	struct sw_env *env = arg;
	struct ban_entry e;

	if (ban_from_row(b, &e) == 0)
		ban_load(env->sec.bans, &e, wall_ms());
	return 0;
}

/* Strikes of bans that are over: the next ban of the key escalates. */
static int
hist_load_one(void *arg, const char *key, uint32_t strikes, int64_t last)
{
	struct sw_env *env = arg;
	struct ban_entry e;

	memset(&e, 0, sizeof(e));
	if (cidr_parse_cstr(key, &e.key, NULL, NULL) < 0)
		return 0;
	e.reason = BAN_R_NONE;
	e.strikes = strikes;
	e.until_ms = (uint64_t)last * 1000;
	e.since_ms = e.until_ms;
	ban_load(env->sec.bans, &e, wall_ms());
	return 0;
}

int
state_open(struct sw_env *env)
{
	const struct sw_conf *c = env->conf;
	struct sw_sec *s = &env->sec;
	struct store_writer_conf wc;
	struct reg_load rl = { .env = env };
	char path[PATH_MAX], msg[256];
	int r;

	frozen_init(&s->frozen);
	if ((r = state_path(c, c->store.path, path, sizeof(path))) < 0)
		return r;
	if ((r = store_open_diag(path, STORE_CREATE, &s->st, msg,
	    sizeof(msg))) < 0) {
		log_warnx("store %s: %s", path, msg);
		return r;
	}
	store_writer_conf_init(&wc, path);
	wc.capacity = STATE_WRITER_QUEUE;
	wc.batch_max = 1024;	/* a slow fsync takes what queued behind it */
	if ((r = store_writer_start(&wc, &s->wr, msg, sizeof(msg))) < 0) {
		log_warnx("store writer: %s", msg);
		return r;
	}
	{
		struct sw_rt *rt;

		if ((r = state_rt_build(c, &rt, msg, sizeof(msg))) < 0) {
			log_warnx("%s", msg);
			return r;
		}
		atomic_store(&s->rt, rt);
	}
	if ((r = build_auth(env)) < 0 || (r = build_policy(env)) < 0)
		return r;
	if ((r = acct_table_new(1024, &s->accts)) < 0 ||
	    (r = loc_new(STATE_LOC_EXPECTED, &s->loc)) < 0)
		return r;
	store_gen(s->st, STORE_GEN_ACCOUNTS, &s->gen[0]);
	store_gen(s->st, STORE_GEN_BANS, &s->gen[1]);
	if ((r = accounts_reload(env)) < 0 || (r = fraud_open(env)) < 0)
		return r;
	if ((r = store_reg_load_unexpired(s->st, (int64_t)time(NULL),
	    reg_load_one, &rl)) < 0) {
		log_warnx("store: reading registrations: %s",
		    store_strerror(r));
		return r;
	}
	if ((r = store_ban_history_list(s->st, (int64_t)((wall_ms() -
	    c->bans.forget_ms) / 1000), hist_load_one, env)) < 0 ||
	    (r = store_ban_load_active(s->st, (int64_t)time(NULL),
	    ban_load_one, env)) < 0) {
		log_warnx("store: reading bans: %s", store_strerror(r));
		return r;
	}
	/* calls still "active" in the store were this node's before a
	 * crash or kill: they are not going on any more */
	if ((r = store_call_mark_lost(s->st)) > 0)
		log_info("store: %d calls of an earlier run marked lost", r);
	if ((r = store_call_prune(s->st, (int64_t)wall_ms() -
	    (int64_t)c->cdr.retention_days * 86400 * 1000)) > 0)
		log_info("store: %d call records older than %u days removed",
		    r, c->cdr.retention_days);
	{
		struct ban_stats bs;

		ban_stats(s->bans, &bs);
		log_info("store %s: %zu accounts, %zu registrations%s, "
		    "%llu bans", path, acct_table_count(s->accts), rl.n,
		    rl.bad ? " (some unreadable)" : "",
		    (unsigned long long)bs.active);
	}
	return 0;
}

/* ---- housekeeping ---- */

struct ban_keys {
	struct cidr	*v;
	size_t		 n, cap;
	uint64_t	 now_ms;
	struct sw_env	*env;
};

static int
cidr_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct cidr));
}

static int
ban_sync_one(void *arg, const struct store_ban *b)
{
	struct ban_keys *k = arg;
	struct ban_entry e, cur;
	enum ban_state st = BAN_S_REMEMBERED;

	if (b->until != 0 && (uint64_t)b->until * 1000 <= k->now_ms)
		return 0;
	if (ban_from_row(b, &e) < 0)
		return 0;
	if (k->n == k->cap) {
		size_t cap = k->cap ? 2 * k->cap : 64;
		struct cidr *v = realloc(k->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		k->v = v;
		k->cap = cap;
	}
	k->v[k->n++] = e.key;
	/* new in the store (the CLI), or changed there: take it */
	/* the store keeps whole seconds: our own bans come back rounded */
	if (ban_get(k->env->sec.bans, &e.key, k->now_ms, &cur, &st) < 0 ||
	    st != BAN_S_ACTIVE || (cur.until_ms != BAN_FOREVER &&
	    (e.until_ms == BAN_FOREVER || e.until_ms > cur.until_ms + 1000))) {
		int was = st == BAN_S_ACTIVE;

		if (ban_load(k->env->sec.bans, &e, k->now_ms) == 0 && !was)
			emit_ban_event(k->env, SECEV_BAN_ADDED, &e,
			    ban_reason_name(e.reason));
	}
	return 0;
}

static int
ban_unsync_one(void *arg, const struct ban_entry *e, enum ban_state st)
{
	struct ban_keys *k = arg;

	/* a ban of our own workers (no origin yet) may still be on its
	 * way to the store; one loaded from the store is not */
	if (st != BAN_S_ACTIVE || (e->origin[0] == '\0' &&
	    e->since_ms + STATE_BAN_GRACE_MS > k->now_ms))
		return 0;
	if (k->n > 0 &&
	    bsearch(&e->key, k->v, k->n, sizeof(*k->v), cidr_cmp) != NULL)
		return 0;
	/* removed from the store by an operator */
	if (ban_remove(k->env->sec.bans, &e->key, NULL) == 0)
		emit_ban_event(k->env, SECEV_BAN_REMOVED, e, "manual");
	return 0;
}

static void
bans_reconcile(struct sw_env *env)
{
	struct ban_keys k = { .now_ms = wall_ms(), .env = env };
	int r;

	if ((r = store_ban_list(env->sec.st, ban_sync_one, &k)) < 0) {
		log_warnx("store: reading bans: %s", store_strerror(r));
		free(k.v);
		return;
	}
	if (k.n > 1)
		qsort(k.v, k.n, sizeof(*k.v), cidr_cmp);
	ban_foreach(env->sec.bans, k.now_ms, ban_unsync_one, &k);
	free(k.v);
}

static void
reg_expired(void *arg, const char *aor, const struct binding *b)
{
	struct sw_env *env = arg;
	struct secevent ev;

	state_reg_persist(env, aor, b, 1, NULL, NULL);
	secevent_init(&ev, SECEV_REG_EXPIRED);
	ev.src = &b->flow.addr;
	ev.account = slice_cstr(aor);
	ev.reason = "expired";
	secevent_add_str(&ev, "contact", b->contact);
	evlog_emit(env->ev, &ev);
}

/*
 * tls.cert_expiring for each TLS listener whose certificate expires
 * within STATE_CERT_WARN_DAYS or has expired.  days_left is rounded
 * down: 0 within a day, -1 expired less than a day ago.
 */
static void
certs_check(struct sw_env *env, int64_t now)
{
	const struct sw_conf *c = env->conf;
	char subject[256];

	for (size_t i = 0; i < c->nlisten && i < CONF_MAX_LISTEN; i++) {
		struct secevent ev;
		int64_t left, days;

		if (env->tls[i] == NULL || tls_ctx_cert_expiry(env->tls[i],
		    now, &left, subject, sizeof(subject)) < 0 ||
		    left > (int64_t)STATE_CERT_WARN_DAYS * 86400)
			continue;
		days = left >= 0 ? left / 86400 : -((86399 - left) / 86400);
		log_warnx("%s: the certificate %s %s (%lld days)",
		    env->lsn_name[i], subject, left > 0 ? "expires soon" :
		    "has expired", (long long)days);
		secevent_init(&ev, SECEV_TLS_CERT_EXPIRING);
		ev.transport = "tls";
		ev.listener = env->lsn_name[i];
		ev.zone = c->zones[c->listen[i].zone].name;
		ev.reason = left > 0 ? "expiring" : "expired";
		secevent_add_int(&ev, "days_left", days);
		if (subject[0] != '\0')
			secevent_add_str(&ev, "subject", subject);
		evlog_emit(env->ev, &ev);
	}
}

static void
bans_sweep(struct sw_env *env)
{
	struct ban_swept out[STATE_SWEEP_BATCH];
	size_t n;

	do {
		n = ban_sweep(env->sec.bans, wall_ms(), out, STATE_SWEEP_BATCH);
		for (size_t i = 0; i < n; i++) {
			if (out[i].what == BAN_SW_FORGOTTEN)
				continue;
			ban_unpersist(env, &out[i].e);
			emit_ban_event(env, SECEV_BAN_REMOVED, &out[i].e,
			    out[i].what == BAN_SW_EXPIRED ? "expired" :
			    "allowlisted");
		}
	} while (n == STATE_SWEEP_BATCH);
}

void
state_tick(struct sw_env *env)
{
	struct sw_sec *s = &env->sec;
	bool changed = false;
	uint64_t g;

	if (store_changed(s->st, &changed) == 0 && changed) {
		if (store_gen(s->st, STORE_GEN_ACCOUNTS, &g) == 0 &&
		    g != s->gen[0]) {
			s->gen[0] = g;
			accounts_reload(env);
		}
		if (store_gen(s->st, STORE_GEN_BANS, &g) == 0 &&
		    g != s->gen[1]) {
			s->gen[1] = g;
			bans_reconcile(env);
		}
	}
	loc_expire(s->loc, (int64_t)time(NULL), reg_expired, env);
	bans_sweep(env);
	fraud_tick(env);
	if ((int64_t)time(NULL) >= s->cert_check_s) {
		s->cert_check_s = (int64_t)time(NULL) + STATE_CERT_CHECK_S;
		certs_check(env, (int64_t)time(NULL));
	}
}

void
state_close(struct sw_env *env)
{
	struct sw_sec *s = &env->sec;

	fraud_close(env);
	store_writer_stop(s->wr);
	fraud_free(env);
	frozen_destroy(&s->frozen);
	store_close(s->st);
	acct_table_free(s->accts);
	loc_free(s->loc);
	replay_free(s->replay);
	nonce_ctx_clear(&s->nonce);
	explicit_bzero(s->fake_key, sizeof(s->fake_key));
	ban_free(s->bans);
	rl_free(s->rl);
	bf_free(s->bf);
	scan_db_free(s->sigs);
	scan_bh_free(s->bh);
	trust_free(s->trust);
	state_rt_free(atomic_load(&s->rt));
	memset(s, 0, sizeof(*s));
}
