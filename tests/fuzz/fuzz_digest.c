/*
 * libFuzzer target for the digest verifier (src/auth): the input is an
 * Authorization header value ("Digest k=v, k="v", ...").  A tiny
 * splitter (below; the real one is sip/hdr.c) turns it into a struct
 * digest_cred, which then goes through digest_cred_check(), the full
 * digest_authenticate() path (nonce_check + equal-work verify + replay
 * table) for a known and an unknown user, nonce_check() and
 * replay_check_and_set() on the raw slices, and the challenge builder.
 *
 * Placeholders let it past the MAC: a nonce "$N" becomes one we just
 * made (aged by the input), "$P" one that consecutive inputs share, a
 * response "$R" the right one for the known user's password, so
 * verify, stale and replay are reached too.
 *
 * Beyond "no crash" it asserts: every reason is in range and named; a
 * credential that passed the check has a response of exactly the
 * algorithm's length and nc >= 1; an unknown user never authenticates;
 * a forged nonce never passes nonce_check; a nonce we just made always
 * does; challenges either build completely or fail cleanly.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/digest.h"
#include "auth/nonce.h"
#include "auth/replay.h"
#include "core/hash.h"

#include "fuzz_check.h"


#define FUZZ_MAX	4096
#define MAX_PARAMS	24

static const uint8_t fake_key[DIGEST_FAKE_KEY_LEN] = { 7, 7, 7 };
static const uint8_t secret[NONCE_SECRET_LEN] = { 1, 2, 3 };
static const uint8_t src_ip[4] = { 192, 0, 2, 10 };
static struct nonce_ctx nctx;
static struct replay *rp;
static int64_t clock_now = 1700000000;
static char persist[NONCE_BUF];
static int64_t persist_at;

/* Build-once state; the replay table is small so that FULL and
 * eviction are reached, and lives for the whole run. */
static void
setup(void)
{
	static const uint8_t hkey[16] = { 0x53, 0x57 };

	if (rp != NULL)
		return;
	sw_hash_set_key(hkey);
	CHECK(nonce_ctx_init(&nctx, secret, 60, 0) == 0);
	CHECK(replay_new(128, &rp) == 0);
}

/*
 * Split `Digest name=value, name="value"` into slices (quotes
 * stripped, escapes left as the real parser leaves them).  Returns the
 * number of parameters, or -1 when it gives up.
 */
static int
split(struct slice s, struct slice *names, struct slice *values)
{
	int n = 0;

	slice_skip_lws(&s);
	if (!slice_starts_ci(s, SLICE_LIT("Digest")))
		return -1;
	slice_skip(&s, 6);
	while (s.len > 0 && n < MAX_PARAMS) {
		struct slice name, val;

		slice_skip_lws(&s);
		while (slice_eat(&s, ','))
			slice_skip_lws(&s);
		name = slice_span(&s, CT_TOKEN);
		if (name.len == 0)
			return n > 0 ? n : -1;
		slice_skip_lws(&s);
		if (!slice_eat(&s, '='))
			return -1;
		slice_skip_lws(&s);
		if (slice_eat(&s, '"')) {
			size_t i = 0;

			while (i < s.len && s.p[i] != '"')
				i += (s.p[i] == '\\' && i + 1 < s.len) ? 2 : 1;
			if (i >= s.len)
				return -1;
			slice_take(&s, i, &val);
			slice_skip(&s, 1);
		} else
			val = slice_span(&s, CT_TOKEN);
		names[n] = name;
		values[n] = val;
		n++;
		slice_skip_lws(&s);
		if (s.len > 0 && !slice_eat(&s, ','))
			return -1;
	}
	return n;
}

static void
fill(struct digest_cred *c, const struct slice *names,
    const struct slice *values, int n)
{
	static const struct {
		const char	*name;
		size_t		 off;
	} map[] = {
		{ "username",	offsetof(struct digest_cred, username) },
		{ "realm",	offsetof(struct digest_cred, realm) },
		{ "nonce",	offsetof(struct digest_cred, nonce) },
		{ "uri",	offsetof(struct digest_cred, uri) },
		{ "response",	offsetof(struct digest_cred, response) },
		{ "algorithm",	offsetof(struct digest_cred, algorithm) },
		{ "cnonce",	offsetof(struct digest_cred, cnonce) },
		{ "nc",		offsetof(struct digest_cred, nc) },
		{ "qop",	offsetof(struct digest_cred, qop) },
		{ "opaque",	offsetof(struct digest_cred, opaque) },
		{ "userhash",	offsetof(struct digest_cred, userhash) },
	};

	for (int i = 0; i < n; i++)
		for (size_t k = 0; k < sizeof(map) / sizeof(map[0]); k++) {
			struct slice *f = (struct slice *)(void *)
			    ((char *)c + map[k].off);

			/* first wins, as sip_auth_param() does */
			if (slice_eq_cstr_ci(names[i], map[k].name) &&
			    !slice_set(*f))
				*f = values[i];
		}
}

static void
check_reason(enum digest_reason r)
{
	CHECK((unsigned)r < DIGEST_REASON_MAX);
	CHECK(strcmp(digest_reason_name(r), "unknown") != 0);
}

static void
try_challenge(struct slice realm, struct slice nonce, struct slice opaque,
    enum digest_alg alg, int stale)
{
	char buf[512];
	struct wbuf w;
	struct digest_challenge ch = {
		.realm = realm, .nonce = nonce, .opaque = opaque, .alg = alg,
		.stale = stale,
	};
	int r;

	wbuf_init(&w, buf, sizeof(buf));
	r = digest_challenge_build(&w, &ch);
	CHECK(r == 0 || r == -SBC_EPARSE || r == -SBC_ELIMIT);
	CHECK(w.n <= sizeof(buf));
	if (r == 0) {
		CHECK(w.n > 7 && memcmp(buf, "Digest ", 7) == 0);
		/* nothing we emit may end a quoted-string early or a header */
		for (size_t i = 0; i < w.n; i++)
			CHECK(buf[i] != '\r' && buf[i] != '\n' &&
			    buf[i] != '\\');
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct slice names[MAX_PARAMS], values[MAX_PARAMS];
	struct digest_cred c = { .method = SLICE_LIT("REGISTER") };
	struct digest_parsed p;
	struct digest_verifier v;
	struct digest_expect x = {
		.realm = SLICE_LIT("sip.example.com"),
		.algs = DIGEST_ALGS_DEFAULT |
		    DIGEST_ALG_BIT(DIGEST_ALG_SHA512_256),
	};
	char ha1[DIGEST_ALG_MAX][DIGEST_HEX_BUF], right[DIGEST_HEX_BUF];
	char mine[NONCE_BUF] = "", made[NONCE_BUF] = "";
	struct digest_ha1 h;
	enum digest_reason r, rk;
	enum nonce_status ns;
	int n, subst = 0, ok_format;

	if (size > FUZZ_MAX)
		return 0;
	setup();
	clock_now += 7;		/* time moves on: stale nonces, eviction */
	v = (struct digest_verifier){ .nonce = &nctx, .replay = rp,
	    .fake_key = fake_key };

	/* 1. the raw bytes as a nonce, and as a replay key */
	ns = nonce_check(&nctx, clock_now, slice_make(data, size), x.realm,
	    NULL, 0, NULL);
	CHECK(ns == NONCE_INVALID);	/* nobody guesses a 128-bit MAC */
	{
		enum replay_status rs = replay_check_and_set(rp,
		    slice_make(data, size), size > 0 ? data[0] : 0, clock_now,
		    clock_now + 30);

		CHECK((unsigned)rs < REPLAY_STATUS_MAX);
		if (size == 0 || size > REPLAY_NONCE_MAX || data[0] == 0)
			CHECK(rs == REPLAY_INVALID);
	}

	/* 2. parse into credentials */
	n = split(slice_make(data, size), names, values);
	if (n < 0)
		return 0;
	fill(&c, names, values, n);
	for (int i = 0; i < n; i++) {
		CHECK(slice_within(names[i], data, size));
		CHECK(slice_within(values[i], data, size));
	}

	/*
	 * 3. placeholders reach the paths behind the MAC: nonce "$N" is
	 * replaced by one we make (aged by the input, so some are stale),
	 * "$P" by one shared with the next inputs, and response "$R" by
	 * the right one for password "secret".
	 */
	memset(&h, 0, sizeof(h));
	for (int a = 0; a < DIGEST_ALG_MAX; a++) {
		struct slice u = c.username.len <= DIGEST_USER_MAX ?
		    c.username : SLICE_NULL;

		CHECK(digest_ha1((enum digest_alg)a, u, x.realm,
		    SLICE_LIT("secret"), ha1[a]) == 0);
		h.hex[a] = ha1[a];
	}
	if (slice_eq(c.nonce, SLICE_LIT("$N"))) {
		CHECK(nonce_make(&nctx, clock_now - (int64_t)(size % 90),
		    x.realm, NULL, 0, made, sizeof(made)) == NONCE_LEN);
		c.nonce = slice_cstr(made);
		subst++;
	}
	if (slice_eq(c.nonce, SLICE_LIT("$P"))) {
		/* shared by consecutive inputs: nc repeats become replays */
		if (clock_now - persist_at > 50) {
			CHECK(nonce_make(&nctx, clock_now, x.realm, NULL, 0,
			    persist, sizeof(persist)) == NONCE_LEN);
			persist_at = clock_now;
		}
		c.nonce = slice_cstr(persist);
		subst++;
	}
	if (slice_eq(c.response, SLICE_LIT("$R"))) {
		enum digest_alg alg = DIGEST_ALG_MD5;

		if (!slice_set(c.algorithm) ||
		    digest_alg_parse(c.algorithm, &alg) == 0) {
			c.response = SLICE_NULL;
			CHECK(digest_response(alg, slice_cstr(ha1[alg]), &c,
			    right) == 0);
			c.response = slice_cstr(right);
			subst++;
		}
	}

	/* 4. the policy check */
	r = digest_cred_check(&c, &x, &p);
	check_reason(r);
	if (r == DIGEST_OK) {
		CHECK((unsigned)p.alg < DIGEST_ALG_MAX);
		CHECK(c.response.len == digest_alg_hexlen(p.alg));
		CHECK(p.nc >= 1);
		CHECK(c.username.len >= 1 && c.username.len <= DIGEST_USER_MAX);
		CHECK(slice_eq(c.realm, x.realm));
	} else
		CHECK(r <= DIGEST_E_MALFORMED_RESPONSE);
	ok_format = r == DIGEST_OK;

	/* 5. the whole path: unknown user, then a known one whose
	 * password is "secret" */
	r = digest_authenticate(&v, &x, &c, NULL, clock_now, src_ip,
	    sizeof(src_ip), &p);
	check_reason(r);
	CHECK(r != DIGEST_OK && r != DIGEST_E_NONCE_STALE &&
	    r != DIGEST_E_REPLAY && r != DIGEST_E_REPLAY_FULL &&
	    r != DIGEST_E_BAD_RESPONSE);
	rk = digest_authenticate(&v, &x, &c, &h, clock_now, src_ip,
	    sizeof(src_ip), &p);
	check_reason(rk);
	CHECK(rk != DIGEST_E_UNKNOWN_USER && rk != DIGEST_E_NO_HA1 &&
	    rk != DIGEST_E_INTERNAL);
	/* format and nonce verdicts do not depend on the user */
	if (r <= DIGEST_E_NONCE_INVALID)
		CHECK(rk == r);
	else
		CHECK(r == DIGEST_E_UNKNOWN_USER);
	if (rk == DIGEST_OK) {
		CHECK(ok_format);
		CHECK(p.expires >= clock_now);
	}
	if (ok_format && subst == 2)
		CHECK(rk == DIGEST_OK || rk == DIGEST_E_NONCE_STALE ||
		    rk == DIGEST_E_REPLAY || rk == DIGEST_E_REPLAY_FULL);

	/* 6. a nonce we make is one we accept, whatever the realm */
	if (c.realm.len <= NONCE_REALM_MAX) {
		CHECK(nonce_make(&nctx, clock_now, c.realm, NULL, 0, mine,
		    sizeof(mine)) == NONCE_LEN);
		CHECK(nonce_check(&nctx, clock_now, slice_cstr(mine), c.realm,
		    NULL, 0, NULL) == NONCE_OK);
		if (!slice_eq(c.realm, x.realm))
			CHECK(nonce_check(&nctx, clock_now, slice_cstr(mine),
			    x.realm, NULL, 0, NULL) == NONCE_INVALID);
	}

	/* 7. challenges from whatever the client sent */
	try_challenge(c.realm, c.nonce, c.opaque, DIGEST_ALG_SHA256, 0);
	try_challenge(c.realm, slice_cstr(mine), SLICE_NULL, DIGEST_ALG_MD5, 1);
	return 0;
}
