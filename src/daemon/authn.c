#include <string.h>
#include <time.h>

#include "core/wbuf.h"
#include "daemon/authn.h"
#include "daemon/guard.h"
#include "daemon/state.h"
#include "obs/metrics.h"
#include "policy/bruteforce.h"
#include "policy/cidr.h"
#include "policy/scanner.h"
#include "policy/trust.h"
#include "sip/hdr.h"

#define AUTHN_EXTRA_MAX	1024

static size_t
src_bytes(const struct sip_dest *src, uint8_t b[16])
{
	int af = cidr_addr_norm(&src->addr, b);

	return af == AF_INET ? 4 : af == AF_INET6 ? 16 : 0;
}

/* Through the transaction t, or statelessly when there is none. */
static void
reply(struct worker *w, struct txn *t, const struct sip_msg *m,
    const struct sip_dest *src, unsigned status, const char *extra)
{
	if (t != NULL) {
		uas_reply(w, t, m, src, status, NULL, extra);
		return;
	}
	sip_echo_from_msg(m, &w->echo);
	uas_reply_stateless(w, &w->echo, src, status, NULL, extra);
}

/* The status of the challenge m gets: 401 for REGISTER, else 407. */
static unsigned
challenge_status(const struct sip_msg *m)
{
	return m->method == SIP_M_REGISTER ? 401 : 407;
}

/* 401 (REGISTER) or 407 with one challenge per algorithm, in order;
 * auth.challenge (debug: written only with events.min_severity debug). */
static void
challenge(struct worker *w, struct txn *t, const struct sip_msg *m,
    const struct sip_dest *src, int stale)
{
	struct sw_sec *s = &w->env->sec;
	int is_reg = m->method == SIP_M_REGISTER;
	char nonce[NONCE_BUF], extra[AUTHN_EXTRA_MAX];
	uint8_t ab[16];
	size_t alen = src_bytes(src, ab);
	struct wbuf wb;

	if (nonce_make(&s->nonce, (int64_t)time(NULL), s->realm, ab, alen,
	    nonce, sizeof(nonce)) < 0) {
		/* no randomness or MAC: fail closed */
		reply(w, t, m, src, 500, NULL);
		return;
	}
	wbuf_init(&wb, extra, sizeof(extra) - 1);
	for (size_t i = 0; i < s->nalgs; i++) {
		struct digest_challenge ch = {
			.realm = s->realm, .nonce = slice_cstr(nonce),
			.alg = s->alg_order[i], .stale = stale,
		};

		wbuf_str(&wb, is_reg ? "WWW-Authenticate: " :
		    "Proxy-Authenticate: ");
		digest_challenge_build(&wb, &ch);
		wbuf_str(&wb, "\r\n");
	}
	if (wb.overflow) {
		reply(w, t, m, src, 500, NULL);
		return;
	}
	extra[wb.n] = '\0';
	w->st.challenges++;
	metrics_verdict(w->env->conf->listen[src->lsn].zone,
	    MET_V_AUTH_CHALLENGED);
	{
		struct secevent ev;
		const struct sip_hdr *ua = sip_msg_hdr(m, SIP_H_USER_AGENT);

		secevent_init(&ev, SECEV_AUTH_CHALLENGE);
		if (stale)
			ev.reason = "nonce_stale";
		ev.status = (int)challenge_status(m);
		ev.method = m->method_s;
		ev.call_id = m->call_id;
		if (ua != NULL)
			ev.user_agent = ua->value;
		worker_event(w, &ev, src);
	}
	reply(w, t, m, src, challenge_status(m), extra);
}

/* Credentials for our realm: Authorization answers 401, Proxy-
 * Authorization 407; phones mix them up, so both are looked at. */
static int
find_credentials(struct worker *w, const struct sip_msg *m, struct sip_auth *a)
{
	static const enum sip_hdr_id ids[2] = { SIP_H_AUTHORIZATION,
	    SIP_H_PROXY_AUTHORIZATION };
	struct slice realm = w->env->sec.realm;

	for (size_t i = 0; i < 2; i++) {
		enum sip_hdr_id id = ids[m->method == SIP_M_REGISTER ? i : 1 - i];

		for (const struct sip_hdr *h = sip_msg_hdr(m, id); h != NULL;
		    h = sip_msg_hdr_next(m, h)) {
			if (sip_auth_parse(h->value, a) < 0 ||
			    !slice_eq_ci(a->scheme, SLICE_LIT("Digest")))
				continue;
			if (slice_eq(sip_auth_param(a, "realm"), realm))
				return 1;
		}
	}
	return 0;
}

static void
cred_from_auth(const struct sip_auth *a, const struct sip_msg *m,
    struct digest_cred *c)
{
	c->username = sip_auth_param(a, "username");
	c->realm = sip_auth_param(a, "realm");
	c->nonce = sip_auth_param(a, "nonce");
	c->uri = sip_auth_param(a, "uri");
	c->response = sip_auth_param(a, "response");
	c->algorithm = sip_auth_param(a, "algorithm");
	c->cnonce = sip_auth_param(a, "cnonce");
	c->nc = sip_auth_param(a, "nc");
	c->qop = sip_auth_param(a, "qop");
	c->opaque = sip_auth_param(a, "opaque");
	c->userhash = sip_auth_param(a, "userhash");
	c->method = m->method_s;
}

/*
 * One event about m's credentials.  status: what the request is answered
 * (the challenge, challenge_status()), 0 for none; a failure that gets
 * the source banned goes unanswered after all (ban.added follows).
 */
static void
auth_event(struct worker *w, enum secevent_type type, const struct sip_msg *m,
    const struct sip_dest *src, struct slice user, const char *reason,
    unsigned status)
{
	struct secevent ev;
	const struct sip_hdr *ua = sip_msg_hdr(m, SIP_H_USER_AGENT);

	secevent_init(&ev, type);
	ev.reason = reason;
	ev.status = (int)status;
	ev.method = m->method_s;
	ev.call_id = m->call_id;
	ev.account = user;
	if (ua != NULL)
		ev.user_agent = ua->value;
	worker_event(w, &ev, src);
}

/* A request without credentials from a source nobody vouches for. */
static int
probe_check(struct worker *w, const struct sip_msg *m,
    const struct sip_dest *src)
{
	struct scan_bh_result res;

	if (guard_trust(w, src) > 0 || !w->env->conf->scanner.enabled)
		return 0;
	if (scan_bh_request(w->env->sec.bh, &src->addr, m->method_s,
	    m->ruri.user, uv_now(&w->loop), &res) == SCAN_B_OPTIONS_SWEEP &&
	    res.crossed) {
		auth_event(w, SECEV_SCANNER_DETECTED, m, src, SLICE_NULL,
		    scan_behaviour_name(SCAN_B_OPTIONS_SWEEP), 0);
		metrics_verdict(w->env->conf->listen[src->lsn].zone,
		    MET_V_SCANNER);
		return guard_ban(w, src, BAN_R_SCANNER_BEHAVIOUR, res.distinct,
		    slice_make(m->buf, m->len), "request sweep");
	}
	return 0;
}

/* Failure with credentials: count it, then the same challenge as ever
 * -- unless the source has just been banned, which gets silence. */
static int
failed(struct worker *w, struct txn *t, const struct sip_msg *m,
    const struct sip_dest *src)
{
	w->st.auth_failed++;
	metrics_verdict(w->env->conf->listen[src->lsn].zone,
	    MET_V_AUTH_FAILED);
	if (guard_auth_failure(w, src, slice_make(m->buf, m->len)))
		return 0;
	challenge(w, t, m, src, 0);
	return 0;
}

static int
unknown_user(struct worker *w, const struct sip_msg *m,
    const struct sip_dest *src, struct slice user)
{
	struct scan_bh_result res;

	auth_event(w, SECEV_AUTH_UNKNOWN_ACCOUNT, m, src, user,
	    "unknown_user", challenge_status(m));
	if (!w->env->conf->scanner.enabled || guard_trust(w, src) > 0)
		return 0;
	if (scan_bh_unknown_user(w->env->sec.bh, &src->addr, user,
	    uv_now(&w->loop), &res) == SCAN_B_EXTENSION_PROBE && res.crossed) {
		auth_event(w, SECEV_SCANNER_DETECTED, m, src, user,
		    scan_behaviour_name(SCAN_B_EXTENSION_PROBE), 0);
		return guard_ban(w, src, BAN_R_SCANNER_BEHAVIOUR, res.distinct,
		    slice_make(m->buf, m->len), "extension probing");
	}
	return 0;
}

static void
wrong_password(struct worker *w, const struct sip_msg *m,
    const struct sip_dest *src, struct slice user, const char *reason)
{
	struct bf_result br;
	struct secevent ev;

	auth_event(w, SECEV_AUTH_FAILED, m, src, user, reason,
	    challenge_status(m));
	if (bf_failure(w->env->sec.bf, user, &src->addr, uv_now(&w->loop),
	    &br) <= 0 || !br.locked_now)
		return;
	secevent_init(&ev, SECEV_ACCOUNT_LOCKED);
	ev.reason = "bruteforce";
	ev.account = user;
	secevent_add_int(&ev, "failures", br.failures);
	secevent_add_int(&ev, "sources", br.sources);
	secevent_add_int(&ev, "lock_s", (long long)(br.locked_until -
	    uv_now(&w->loop)) / 1000);
	worker_event(w, &ev, src);
}

/* Checks that come after a right password. */
static const char *
account_refuses(struct worker *w, const struct account_info *acct,
    const struct sip_dest *src, struct slice user, enum secevent_type *type)
{
	int in_cidrs = acct->ncidrs > 0 && acct_source_allowed(acct, &src->addr);

	*type = SECEV_AUTH_FAILED;
	if (!acct->enabled) {
		*type = SECEV_AUTH_ACCOUNT_DISABLED;
		return "account_disabled";
	}
	if (!acct_source_allowed(acct, &src->addr)) {
		*type = SECEV_AUTH_SOURCE_DENIED;
		return "source_denied";
	}
	if (acct->locked_until > (int64_t)time(NULL) && !in_cidrs)
		return "account_locked";
	/* a brute-force lock spares the account's own prefixes and the
	 * sources it has authenticated from before */
	if (!in_cidrs && bf_is_locked_src(w->env->sec.bf, user, &src->addr,
	    uv_now(&w->loop), NULL))
		return "account_locked";
	return NULL;
}

int
authn_challenge_stateless(struct worker *w, const struct sip_msg *m,
    const struct sip_dest *src)
{
	struct sip_auth a;

	if (find_credentials(w, m, &a))
		return 0;
	if (!probe_check(w, m, src))
		challenge(w, NULL, m, src, 0);
	return 1;
}

int
authn_request(struct worker *w, struct txn *t, const struct sip_msg *m,
    const struct sip_dest *src, struct account_info *ret_acct)
{
	struct sw_sec *s = &w->env->sec;
	const struct zone_rt *z = guard_zone(w, src);
	struct digest_expect x = { .realm = s->realm, .uri = m->ruri.raw,
	    .algs = s->algs };
	const char *lsn = src->lsn < CONF_MAX_LISTEN ?
	    strchr(w->env->lsn_name[src->lsn], ':') : NULL;
	struct digest_cred c;
	struct digest_parsed p;
	struct digest_ha1 ha1 = { 0 };
	struct sip_auth a;
	struct rl_key k;
	enum digest_reason why;
	enum guard_verdict g;

	if (lsn != NULL)
		x.here = slice_cstr(lsn + 1);	/* "udp:HOST:PORT" */
	enum secevent_type type;
	const char *refused;
	uint8_t ab[16];
	size_t alen = src_bytes(src, ab);
	int known;

	if (!find_credentials(w, m, &a)) {
		if (probe_check(w, m, src))
			return 0;
		challenge(w, t, m, src, 0);
		return 0;
	}
	memset(&c, 0, sizeof(c));
	cred_from_auth(&a, m, &c);
	if (c.username.len > 0 && rl_key_account(&k, c.username) == 0 &&
	    (g = guard_take(w, src, &k, &z->account, "account",
	    slice_make(m->buf, m->len))) != GUARD_PASS) {
		if (g == GUARD_LIMIT)
			uas_reply_limit(w, t, m, src);
		return 0;
	}
	known = c.username.len > 0 && acct_lookup(s->accts, c.username,
	    s->realm, ret_acct) == 0;
	if (known) {
		ha1.hex[DIGEST_ALG_MD5] = ret_acct->ha1_md5[0] ?
		    ret_acct->ha1_md5 : NULL;
		ha1.hex[DIGEST_ALG_SHA256] = ret_acct->ha1_sha256[0] ?
		    ret_acct->ha1_sha256 : NULL;
	}
	why = digest_authenticate(&s->dv, &x, &c, known ? &ha1 : NULL,
	    (int64_t)time(NULL), ab, alen, &p);
	if (why == DIGEST_OK) {
		if ((refused = account_refuses(w, ret_acct, src, c.username,
		    &type)) != NULL) {
			auth_event(w, type, m, src, c.username, refused,
			    challenge_status(m));
			metrics_auth_failure(w->env->conf->listen[src->lsn].zone,
			    refused);
			return failed(w, t, m, src);
		}
		bf_success(s->bf, c.username, &src->addr, uv_now(&w->loop));
		trust_note(s->trust, &src->addr, c.username, uv_now(&w->loop));
		if ((g = guard_authenticated(w, src, c.username,
		    slice_make(m->buf, m->len))) != GUARD_PASS) {
			if (g == GUARD_LIMIT)
				uas_reply_limit(w, t, m, src);
			return 0;
		}
		w->st.auth_ok++;
		metrics_auth_ok(w->env->conf->listen[src->lsn].zone);
		{
			struct secevent ev;
			const struct sip_hdr *ua = sip_msg_hdr(m,
			    SIP_H_USER_AGENT);

			secevent_init(&ev, SECEV_AUTH_OK);
			ev.method = m->method_s;
			ev.call_id = m->call_id;
			ev.account = c.username;
			if (ua != NULL)
				ev.user_agent = ua->value;
			secevent_add_str(&ev, "scheme", "digest");
			secevent_add_str(&ev, "algorithm", digest_alg_name(p.alg));
			worker_event(w, &ev, src);
		}
		return 1;
	}
	if (digest_reason_is_stale(why) || why == DIGEST_E_NONCE_INVALID) {
		/* the client did nothing wrong that a fresh nonce won't fix */
		auth_event(w, SECEV_AUTH_NONCE_REJECTED, m, src, c.username,
		    digest_reason_name(why), challenge_status(m));
		challenge(w, t, m, src, digest_reason_is_stale(why));
		return 0;
	}
	metrics_auth_failure(w->env->conf->listen[src->lsn].zone,
	    digest_reason_name(why));
	if (why == DIGEST_E_UNKNOWN_USER) {
		if (unknown_user(w, m, src, c.username)) {
			w->st.auth_failed++;
			metrics_verdict(w->env->conf->listen[src->lsn].zone,
			    MET_V_AUTH_FAILED);
			return 0;	/* banned: silence from now on */
		}
	}
	else if (known && (why == DIGEST_E_BAD_RESPONSE ||
	    why == DIGEST_E_NO_HA1))
		wrong_password(w, m, src, c.username, digest_reason_name(why));
	else
		auth_event(w, SECEV_AUTH_FAILED, m, src, c.username,
		    digest_reason_name(why), challenge_status(m));
	return failed(w, t, m, src);
}
