/*
 * libFuzzer target for sdp_parse() with the production limits.
 * Beyond "no crash" it asserts the output contract: every slice lies in
 * the input, every count respects its limit, the raw sections tile the
 * body, and the accessors agree with what the parser stored.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sip/sdp.h"

#include "fuzz_check.h"


/* About 90 KiB: kept off the stack. */
static struct sdp sdp;

static void
check_slice(struct slice s, const uint8_t *data, size_t size)
{
	CHECK(slice_within(s, data, size));
}

static void
check_conn(const struct sdp_conn *c, const uint8_t *data, size_t size)
{
	CHECK(c->af < SDP_AF__MAX);
	if (c->af == SDP_AF_NONE)
		return;
	check_slice(c->addr, data, size);
	CHECK(c->addr.len > 0 && c->count >= 1 && c->ttl <= 255);
	if (c->af == SDP_AF_IP6)
		CHECK(c->ttl == 0 && c->count == 1);
}

static void
check_attrs(const struct sdp_attrs *a, const uint8_t *data, size_t size)
{
	CHECK(a->n <= sdp_limits_default.max_attrs);
	for (size_t i = 0; i < a->n; i++) {
		CHECK(a->v[i].name.len > 0);
		check_slice(a->v[i].name, data, size);
		check_slice(a->v[i].value, data, size);
	}
}

static void
check_crypto(const struct sdp_crypto *cr, const uint8_t *data, size_t size)
{
	struct sdp_crypto_key k;
	struct slice cur = cr->key_params;
	uint8_t key[SDP_MAX_KEY * 4];
	size_t n = 0, klen, want;
	int r;

	CHECK(cr->tag <= SDP_MAX_CRYPTO_TAG && cr->suite < SDP_SUITE__MAX);
	check_slice(cr->suite_name, data, size);
	check_slice(cr->key_params, data, size);
	check_slice(cr->session_params, data, size);
	check_slice(cr->key.key_salt, data, size);
	check_slice(cr->key.lifetime, data, size);
	check_slice(cr->key.mki, data, size);
	want = sdp_suite_key_len((enum sdp_suite)cr->suite);
	while ((r = sdp_crypto_key_next(&cur, &k)) > 0) {
		CHECK(k.mki_len <= SDP_MAX_MKI_LEN);
		if (n == 0)
			CHECK(slice_eq(k.key_salt, cr->key.key_salt));
		r = sdp_crypto_key_decode(k.key_salt, key, sizeof(key), &klen);
		CHECK(r == 0 || r == -SBC_ELIMIT);
		if (r == 0 && want != 0)
			CHECK(klen == want);
		n++;
	}
	CHECK(r == 0 && n == cr->nkeys && n >= 1);
}

static void
check_media(size_t i, const uint8_t *data, size_t size)
{
	const struct sdp_media *m = &sdp.media[i];
	const struct sdp_crypto *cr;
	struct sdp_rtpmap rm;
	size_t cursor = 0, n = 0;

	check_slice(m->raw, data, size);
	check_slice(m->media, data, size);
	check_slice(m->proto, data, size);
	check_slice(m->mid, data, size);
	check_slice(m->ice_ufrag, data, size);
	check_slice(m->ice_pwd, data, size);
	check_slice(m->fingerprint, data, size);
	check_slice(m->setup, data, size);
	CHECK(m->type < SDP_MEDIA__MAX && m->proto_id < SDP_PROTO__MAX);
	CHECK(m->dir < SDP_DIR__MAX && m->nports >= 1);
	CHECK(m->nfmts <= sdp_limits_default.max_fmts);
	CHECK(m->nfmts > 0 || m->port == 0);
	CHECK(m->nbw <= sdp_limits_default.max_bw);
	CHECK(m->ncrypto <= sdp_limits_default.max_crypto);
	CHECK(m->ptime <= SDP_MAX_PTIME && m->maxptime <= SDP_MAX_PTIME);
	check_conn(&m->conn, data, size);
	check_conn(&m->rtcp_conn, data, size);
	check_attrs(&m->attrs, data, size);
	CHECK(m->ncandidates <= m->attrs.n);
	for (size_t k = 0; k < m->nbw; k++)
		check_slice(m->bw[k].type, data, size);
	for (size_t k = 0; k < m->nfmts; k++) {
		const struct sdp_fmt *f = &m->fmts[k];

		check_slice(f->fmt, data, size);
		check_slice(f->fmtp, data, size);
		if (!m->rtp)
			continue;
		CHECK(f->pt <= SDP_MAX_PT);
		CHECK(sdp_media_fmt(&sdp, i, f->pt) == f);
		if (f->has_rtpmap) {
			check_slice(f->rtpmap.encoding, data, size);
			CHECK(f->rtpmap.clock > 0 && f->rtpmap.pt == f->pt);
			CHECK(sdp_media_rtpmap(&sdp, i, f->pt, &rm) == 0);
			CHECK(slice_eq(rm.encoding, f->rtpmap.encoding));
		} else if (sdp_media_rtpmap(&sdp, i, f->pt, &rm) == 0)
			CHECK(rm.clock > 0 && rm.pt == f->pt);
	}
	while ((cr = sdp_media_crypto_next(&sdp, i, &cursor)) != NULL) {
		CHECK(cr == &m->crypto[n]);
		check_crypto(cr, data, size);
		n++;
	}
	CHECK(n == m->ncrypto);
	CHECK(sdp_media_dir(&sdp, i) != SDP_DIR_UNSET);
	if (m->port != 0)
		CHECK(sdp_media_conn(&sdp, i) != NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sdp_err err = { NULL, 0 };
	size_t at;
	int r;

	if (size > SDP_MAX_BODY)
		return 0;
	r = sdp_parse(data, size, &sdp_limits_default, &sdp, &err);
	if (r < 0) {
		CHECK(r == -SBC_EPARSE || r == -SBC_ELIMIT);
		CHECK(err.reason != NULL && err.off <= size);
		return 0;
	}
	CHECK(r == 0 && err.reason == NULL);
	CHECK(sdp.buf == data && sdp.len == size);
	CHECK(sdp.nmedia <= sdp_limits_default.max_media);
	CHECK(sdp.nbw <= sdp_limits_default.max_bw && sdp.ntimes >= 1);
	CHECK(sdp.dir < SDP_DIR__MAX);
	check_slice(sdp.origin.username, data, size);
	check_slice(sdp.origin.sess_id, data, size);
	check_slice(sdp.origin.sess_version_s, data, size);
	check_slice(sdp.origin.addr, data, size);
	check_slice(sdp.name, data, size);
	check_slice(sdp.info, data, size);
	check_slice(sdp.ice_ufrag, data, size);
	check_slice(sdp.ice_pwd, data, size);
	check_slice(sdp.fingerprint, data, size);
	check_slice(sdp.setup, data, size);
	check_conn(&sdp.conn, data, size);
	check_attrs(&sdp.attrs, data, size);
	for (size_t k = 0; k < sdp.nbw; k++)
		check_slice(sdp.bw[k].type, data, size);

	/* The session part and the media sections tile the whole body. */
	CHECK(sdp.raw_session.p == data);
	at = sdp.raw_session.len;
	for (size_t i = 0; i < sdp.nmedia; i++) {
		CHECK(sdp.media[i].raw.p == data + at);
		at += sdp.media[i].raw.len;
		check_media(i, data, size);
	}
	CHECK(at == size);
	CHECK(sdp_media_conn(&sdp, sdp.nmedia) == NULL);
	CHECK(sdp_media_dir(&sdp, sdp.nmedia) == SDP_DIR_UNSET);
	return 0;
}
