/*
 * Media anchoring for the B2BUA; see call_media.h.
 *
 * Offer/answer as the B2BUA sees it: a body from side X is an offer or
 * an answer (the caller of call_media_body knows from the SIP context:
 * INVITE/UPDATE carry offers, their responses answers unless the
 * request had no body, ACK an answer).  For each m= line:
 *   - both sides get a port pair, X's on X's zone address and Y's on
 *     Y's: the relay session follows the call for its whole life, so
 *     re-INVITEs and UPDATEs keep their ports;
 *   - X's endpoint (its SDP address, its SIP source for latching) is
 *     told to the relay;
 *   - SRTP, offer: X's first usable a=crypto is remembered (the key X
 *     will send with); Y is offered what its zone's policy says
 *     (require: RTP/SAVP and our key, prefer: RTP/AVP with our key as
 *     best effort, off: plain RTP/AVP);
 *   - SRTP, answer: X took our key or not, which decides X's leg; Y
 *     gets the answer to its own offer: its suite and tag with a key of
 *     ours, or plain RTP if it offered none.  Keys go to the relay
 *     then, and only when they changed (a re-INVITE with the same keys
 *     keeps the SRTP state, so no replay window or ROC is reset).
 * Our keys are generated per side and stream and kept while the suite
 * stays; they never appear in logs or events.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/hash.h"
#include "core/log.h"
#include "media/relay.h"
#include "media/sdp_rewrite.h"
#include "media/srtp_ctx.h"
#include "daemon/call_int.h"
#include "daemon/call_media.h"
#include "daemon/worker.h"
#include "obs/metrics.h"

#define TICK_MS		1000
#define RECORD_TICKS	5	/* the store row every 5 s */
#define DEFAULT_SUITE	SDP_SUITE_AES_CM_128_HMAC_SHA1_80

struct cm_key {
	uint8_t		 suite;		/* enum sdp_suite; 0: none */
	uint8_t		 len;
	uint32_t	 tag;
	uint8_t		 key[SDP_MAX_KEY];
};

struct cm_side {
	uint8_t		 offered_crypto;	/* its last offer had a usable key */
	uint8_t		 offered_savp;
	uint8_t		 offered_mux;
	uint8_t		 we_offered;		/* we offered it a key */
	uint8_t		 has_rx, has_tx;	/* installed in the relay */
	struct cm_key	 off;			/* the key it sends with */
	struct cm_key	 mine;			/* ours towards it */
	struct cm_key	 rx, tx;		/* what the relay holds */
	struct relay_peer peer;
};

struct cm_stream {
	uint8_t		 used;
	struct cm_side	 s[2];
};

struct call_media {
	struct msess	*ms;
	uint64_t	 sess_id;
	uint64_t	 ver[2];
	uint64_t	 last_hash[2];
	uint8_t		 sent[2];		/* a body went to this side */
	uint8_t		 srtp[2];		/* the leg's media is SRTP */
	uint8_t		 suite[2];		/* its enum sdp_suite (CDR) */
	uint8_t		 settled[2];		/* an answer decided it */
	uint8_t		 fallback_sent[2];
	uint8_t		 held;
	uint8_t		 one_way_sent;
	const char	*kill;			/* hang up at the next tick */
	uint64_t	 watch_ms;		/* relay clock at the answer */
	uint64_t	 rep_foreign[2], rep_auth[2], rep_replay[2];
	uint64_t	 rep_malformed[2];
	struct relay_side_stats tot[2];
	uint8_t		 have_tot;
	uint32_t	 ticks;
	/* per m= line, made when first relayed: most calls have one */
	struct cm_stream *m[RELAY_MAX_STREAMS];
};

int
call_media_svc_init(struct call_svc *s)
{
	if ((s->sdp = calloc(1, sizeof(*s->sdp))) == NULL)
		return -ENOMEM;
	return 0;
}

void
call_media_svc_free(struct call_svc *s)
{
	free(s->sdp);
	s->sdp = NULL;
}

static const struct sw_conf *
conf_of(const struct call *c)
{
	return c->svc->w->env->conf;
}

static const struct conf_zone *
zone_of(const struct call *c, const struct leg *l)
{
	const struct sw_conf *conf = conf_of(c);

	return &conf->zones[conf->listen[l->dest.lsn].zone];
}

static enum conf_srtp
policy_of(const struct conf_zone *z)
{
	if (z->srtp != CONF_SRTP_DEFAULT)
		return z->srtp;
	return z->trust == CONF_TRUST_TRUSTED ? CONF_SRTP_OFF :
	    CONF_SRTP_REQUIRE;
}

/* The leg that sent src from side x (a fork's response: by its Via). */
static const struct leg *
src_leg(const struct call *c, unsigned x, const struct sip_msg *src)
{
	if (x == 0)
		return &c->a;
	if (!src->is_request && src->via1.branch.len > 0)
		for (size_t i = 0; i < c->nforks; i++)
			if (slice_eq(src->via1.branch,
			    slice_cstr(c->b[i].branch)))
				return &c->b[i];
	if (c->winner >= 0)
		return &c->b[c->winner];
	return &c->b[0];
}

static void
media_event(struct call *c, enum secevent_type type, const char *reason,
    unsigned status, const struct leg *l, const union sw_addr *src,
    const char *k, long long v)
{
	struct worker *w = c->svc->w;
	struct secevent ev;

	secevent_init(&ev, type);
	ev.reason = reason;
	ev.status = (int)status;
	if (c->a.call_id != NULL)
		ev.call_id = slice_cstr(c->a.call_id);
	if (c->account[0] != '\0')
		ev.account = slice_cstr(c->account);
	if (l != NULL) {
		secevent_add_str(&ev, "leg", l->side == 0 ? "a" : "b");
		secevent_add_str(&ev, "leg_zone", zone_of(c, l)->name);
	}
	if (k != NULL)
		secevent_add_int(&ev, k, v);
	if (src != NULL) {
		/* the foreign sender is the subject, over UDP */
		struct sip_dest d = c->a.dest;

		d.addr = *src;
		d.transport = SIP_TP_UDP;
		d.conn_id = 0;
		worker_event(w, &ev, &d);
	} else
		worker_event(w, &ev, &c->a.dest);
}

static int
is_sdp(const struct sip_msg *m)
{
	return slice_eq_ci(m->content_type, slice_cstr("application/sdp"));
}

static int
key_same(const struct cm_key *a, const struct cm_key *b)
{
	return a->suite == b->suite && a->len == b->len &&
	    memcmp(a->key, b->key, a->len) == 0;
}

/* Our key towards a side for suite, made once per suite. */
static int
mine_for(struct cm_side *x, enum sdp_suite suite, uint32_t tag)
{
	size_t len;

	if (x->mine.suite != suite) {
		if (srtp_key_gen(suite, x->mine.key, sizeof(x->mine.key),
		    &len) < 0)
			return -1;
		x->mine.suite = (uint8_t)suite;
		x->mine.len = (uint8_t)len;
	}
	x->mine.tag = tag;
	return 0;
}

/* The relay's contexts for a side: rx/tx NULL for plain RTP. */
static int
install(struct call_media *cm, unsigned i, unsigned side,
    const struct cm_key *rx, const struct cm_key *tx)
{
	struct cm_side *x = &cm->m[i]->s[side];
	struct srtp_ctx *nrx = NULL, *ntx = NULL;
	bool keep_rx = rx != NULL ? (x->has_rx && key_same(rx, &x->rx)) :
	    !x->has_rx;
	bool keep_tx = tx != NULL ? (x->has_tx && key_same(tx, &x->tx)) :
	    !x->has_tx;

	if (!keep_rx && rx != NULL && srtp_ctx_new((enum sdp_suite)rx->suite,
	    rx->key, rx->len, SRTP_CTX_IN, &nrx) < 0)
		return -1;
	if (!keep_tx && tx != NULL && srtp_ctx_new((enum sdp_suite)tx->suite,
	    tx->key, tx->len, SRTP_CTX_OUT, &ntx) < 0) {
		srtp_ctx_free(nrx);
		return -1;
	}
	if (relay_stream_srtp(cm->ms, i, side, nrx, keep_rx, ntx, keep_tx) < 0)
		return -1;
	if (!keep_rx) {
		x->has_rx = rx != NULL;
		if (rx != NULL)
			x->rx = *rx;
	}
	if (!keep_tx) {
		x->has_tx = tx != NULL;
		if (tx != NULL)
			x->tx = *tx;
	}
	return 0;
}

static void
fallback(struct call *c, unsigned side, const struct leg *l)
{
	struct call_media *cm = c->media;

	if (cm->fallback_sent[side])
		return;
	cm->fallback_sent[side] = 1;
	metrics_inc(MET_C_SRTP_FALLBACK, 1);
	media_event(c, SECEV_SRTP_FALLBACK, "peer_without_srtp", 0, l, NULL,
	    NULL, 0);
}

/*
 * The caller's offer against its zone's policy, before anything is
 * forwarded (ports come when the INVITE goes to a fork, whose zone
 * decides their address).
 */
static unsigned
offer_check(struct call *c, const struct sip_msg *m, const char **why)
{
	struct call_svc *s = c->svc;
	const struct sdp *sdp = s->sdp;
	struct sdp_err perr;
	enum conf_srtp pol = policy_of(zone_of(c, &c->a));
	uint8_t key[SDP_MAX_KEY];
	size_t klen;

	if (sdp_parse(m->body.p, m->body.len, NULL, s->sdp, &perr) < 0) {
		media_event(c, SECEV_MEDIA_SDP_REJECTED, perr.reason, 488,
		    &c->a, NULL, NULL, 0);
		*why = "Malformed SDP";
		return 488;
	}
	for (size_t i = 0; i < sdp->nmedia; i++) {
		const struct sdp_media *md = &sdp->media[i];
		const struct sdp_crypto *cr;
		size_t cur = 0;
		int ok = 0;

		if (md->port == 0 || !md->rtp)
			continue;
		if (md->proto_id == SDP_PROTO_UDP_TLS_RTP_SAVP ||
		    md->proto_id == SDP_PROTO_UDP_TLS_RTP_SAVPF) {
			media_event(c, SECEV_MEDIA_SDP_REJECTED, "dtls_srtp", 488,
			    &c->a, NULL, NULL, 0);
			*why = "DTLS-SRTP Not Supported";
			return 488;
		}
		while (!ok && (cr = sdp_media_crypto_next(sdp, i, &cur)) != NULL)
			ok = srtp_crypto_check(cr, key, sizeof(key), &klen) ==
			    NULL;
		explicit_bzero(key, sizeof(key));
		if (!ok && pol == CONF_SRTP_REQUIRE) {
			media_event(c, SECEV_SRTP_REQUIRED, md->ncrypto > 0 ?
			    "no_usable_crypto" : "no_crypto", 488, &c->a, NULL,
			    NULL, 0);
			*why = "SRTP Required";
			return 488;
		}
		if (!ok && (md->proto_id == SDP_PROTO_RTP_SAVP ||
		    md->proto_id == SDP_PROTO_RTP_SAVPF)) {
			media_event(c, SECEV_SRTP_BAD_CRYPTO, "no_usable_crypto",
			    488, &c->a, NULL, NULL, 0);
			*why = "No Usable Crypto Suite";
			return 488;
		}
	}
	return 0;
}

unsigned
call_media_start(struct call *c, const struct sip_msg *m, const char **why)
{
	const struct sw_conf *conf = conf_of(c);
	struct relay *r = c->svc->w->env->relay;
	struct call_media *cm;
	unsigned st;

	*why = NULL;
	if (!conf->media.anchor || r == NULL)
		return 0;
	if (m->body.len > 0 && is_sdp(m) && (st = offer_check(c, m, why)) != 0)
		return st;
	if ((cm = calloc(1, sizeof(*cm))) == NULL ||
	    (cm->ms = relay_sess_new(r)) == NULL) {
		free(cm);
		*why = "Media Relay Unavailable";
		return 503;
	}
	cm->sess_id = (uint64_t)time(NULL) * 1000 +
	    (uint64_t)(c->started_ms % 1000);
	c->media = cm;
	return 0;
}

/* Both sides' endpoints to the relay (after their keys). */
static int
peers(struct call_media *cm, unsigned i, struct cm_side *sx,
    struct cm_side *sy)
{
	struct cm_stream *st = cm->m[i];
	unsigned x = sx == &st->s[0] ? 0 : 1;

	if (relay_stream_peer(cm->ms, i, x, &sx->peer) < 0 ||
	    relay_stream_peer(cm->ms, i, x ^ 1, &sy->peer) < 0)
		return -1;
	return 0;
}

/*
 * An offer from x: x's usable key (it will send with it), our key for
 * x at once (the answer we write gives it to x, and early media from y
 * may already flow to x), and what y is offered by its zone's policy.
 */
static int
offer_keys(struct call *c, unsigned i, unsigned y, struct cm_side *sx,
    struct cm_side *sy, const struct leg *lx, const struct conf_zone *zx,
    const struct conf_zone *zy, const struct sdp_media *md,
    struct sdp_rewrite_media *rw, char *cry, size_t crycap)
{
	struct call_media *cm = c->media;
	const struct sdp *sdp = c->svc->sdp;
	const struct sdp_crypto *cr;
	size_t cur = 0, klen;
	enum conf_srtp py_pol = policy_of(zy);
	int savp = md->proto_id == SDP_PROTO_RTP_SAVP ||
	    md->proto_id == SDP_PROTO_RTP_SAVPF;

	sx->offered_crypto = 0;
	sx->offered_savp = (uint8_t)savp;
	while ((cr = sdp_media_crypto_next(sdp, i, &cur)) != NULL)
		if (srtp_crypto_check(cr, sx->off.key, sizeof(sx->off.key),
		    &klen) == NULL) {
			sx->offered_crypto = 1;
			sx->off.suite = cr->suite;
			sx->off.tag = cr->tag;
			sx->off.len = (uint8_t)klen;
			break;
		}
	if (!sx->offered_crypto && policy_of(zx) == CONF_SRTP_REQUIRE) {
		c->media_fail = 488;
		c->media_why = "SRTP Required";
		media_event(c, SECEV_SRTP_REQUIRED, md->ncrypto > 0 ?
		    "no_usable_crypto" : "no_crypto", 488, lx, NULL, NULL, 0);
		return -1;
	}
	if (!sx->offered_crypto && savp) {
		c->media_fail = 488;
		c->media_why = "No Usable Crypto Suite";
		media_event(c, SECEV_SRTP_BAD_CRYPTO, "no_usable_crypto", 488,
		    lx, NULL, NULL, 0);
		return -1;
	}
	/* we always take a usable key, so x's leg is decided now */
	if (sx->offered_crypto) {
		if (mine_for(sx, (enum sdp_suite)sx->off.suite,
		    sx->off.tag) < 0 || install(cm, i, y ^ 1, &sx->off,
		    &sx->mine) < 0)
			return -1;
	} else if (install(cm, i, y ^ 1, NULL, NULL) < 0)
		return -1;
	sx->peer.secure = sx->offered_crypto;

	sy->we_offered = 0;
	rw->proto = SDP_RW_PROTO_RTP;
	if (py_pol != CONF_SRTP_OFF) {
		enum sdp_suite su = sx->offered_crypto ?
		    (enum sdp_suite)sx->off.suite : DEFAULT_SUITE;

		if (mine_for(sy, su, 1) < 0 || srtp_crypto_value(1, su,
		    sy->mine.key, sy->mine.len, cry, crycap) < 0)
			return -1;
		rw->crypto = cry;
		sy->we_offered = 1;
		if (py_pol == CONF_SRTP_REQUIRE)
			rw->proto = SDP_RW_PROTO_SRTP;
	}
	/* until y answers, its leg is SRTP if we offered it a key -- unless
	 * an earlier answer settled it (a re-offer keeps media flowing) */
	if (!cm->settled[y])
		sy->peer.secure = sy->we_offered;
	return 0;
}

/* An answer from x to y's offer: x took our key or not; y gets the
 * answer to its own offer. */
static int
answer_keys(struct call *c, unsigned i, unsigned x, struct cm_side *sx,
    struct cm_side *sy, const struct leg *lx, const struct leg *ly,
    const struct conf_zone *zx, const struct conf_zone *zy,
    struct sdp_rewrite_media *rw, char *cry, size_t crycap)
{
	struct call_media *cm = c->media;
	const struct sdp *sdp = c->svc->sdp;
	const struct sdp_crypto *cr;
	size_t cur = 0, klen;
	struct cm_key xk;
	unsigned y = x ^ 1;
	int x_ok = 0, r;

	memset(&xk, 0, sizeof(xk));
	if (sx->we_offered)
		while ((cr = sdp_media_crypto_next(sdp, i, &cur)) != NULL)
			if (cr->suite == sx->mine.suite &&
			    srtp_crypto_check(cr, xk.key, sizeof(xk.key),
			    &klen) == NULL) {
				xk.suite = cr->suite;
				xk.len = (uint8_t)klen;
				xk.tag = cr->tag;
				x_ok = 1;
				break;
			}
	r = install(cm, i, x, x_ok ? &xk : NULL, x_ok ? &sx->mine : NULL);
	explicit_bzero(&xk, sizeof(xk));
	if (r < 0)
		return -1;
	sx->peer.secure = (bool)x_ok;
	cm->srtp[x] = (uint8_t)x_ok;
	cm->suite[x] = x_ok ? sx->mine.suite : 0;
	cm->settled[x] = 1;
	if (!x_ok && policy_of(zx) == CONF_SRTP_REQUIRE)
		cm->kill = "srtp_required";
	else if (!x_ok && policy_of(zx) == CONF_SRTP_PREFER)
		fallback(c, x, lx);

	if (sy->offered_crypto) {
		if (mine_for(sy, (enum sdp_suite)sy->off.suite,
		    sy->off.tag) < 0 || srtp_crypto_value(sy->off.tag,
		    (enum sdp_suite)sy->off.suite, sy->mine.key, sy->mine.len,
		    cry, crycap) < 0 || install(cm, i, y, &sy->off,
		    &sy->mine) < 0)
			return -1;
		rw->crypto = cry;
		rw->proto = sy->offered_savp ? SDP_RW_PROTO_SRTP :
		    SDP_RW_PROTO_RTP;
		cm->srtp[y] = 1;
		cm->suite[y] = sy->off.suite;
	} else {
		if (install(cm, i, y, NULL, NULL) < 0)
			return -1;
		rw->proto = SDP_RW_PROTO_RTP;
		cm->srtp[y] = 0;
		cm->suite[y] = 0;
		if (policy_of(zy) == CONF_SRTP_PREFER)
			fallback(c, y, ly);
	}
	sy->peer.secure = sy->offered_crypto;
	cm->settled[y] = 1;
	return 0;
}

/* One m= line of a body from side x going to side y. */
static int
one_stream(struct call *c, unsigned i, unsigned x, int offer,
    const struct leg *lx, const struct leg *ly, struct sdp_rewrite_media *rw,
    char *cry, size_t crycap)
{
	struct call_svc *s = c->svc;
	struct call_media *cm = c->media;
	const struct sdp *sdp = s->sdp;
	const struct sdp_media *md = &sdp->media[i];
	const struct conf_zone *zx = zone_of(c, lx), *zy = zone_of(c, ly);
	unsigned y = x ^ 1;
	struct cm_stream *st;
	struct cm_side *sx, *sy;
	struct sdp_media_remote rem;
	struct sdp_rtpmap rm;
	uint16_t px, py;
	enum sdp_dir dir;
	int e;

	rw->keep = false;
	if (md->port == 0)
		return 0;
	if (md->proto_id == SDP_PROTO_UDP_TLS_RTP_SAVP ||
	    md->proto_id == SDP_PROTO_UDP_TLS_RTP_SAVPF) {
		c->media_fail = 488;
		c->media_why = "DTLS-SRTP Not Supported";
		media_event(c, SECEV_MEDIA_SDP_REJECTED, "dtls_srtp", 488, lx,
		    NULL, NULL, 0);
		return -1;
	}
	if (!md->rtp && md->proto_id != SDP_PROTO_UDPTL)
		return 0;		/* TCP, data channels: refused stream */
	if ((e = sdp_media_remote(sdp, i, &rem)) == -ENOENT)
		return 0;
	if (e < 0 || rem.multicast)
		return 0;
	if (cm->m[i] == NULL && (cm->m[i] = calloc(1, sizeof(*st))) == NULL) {
		c->media_fail = 503;
		c->media_why = "Out of Memory";
		return -1;
	}
	st = cm->m[i];
	sx = &st->s[x];
	sy = &st->s[y];
	if ((e = relay_stream_open(cm->ms, i, x, &zx->media_address, &px)) < 0 ||
	    (e = relay_stream_open(cm->ms, i, y, &zy->media_address, &py)) < 0) {
		c->media_fail = 503;
		c->media_why = "Media Ports Exhausted";
		media_event(c, e == -ENOSPC ? SECEV_MEDIA_PORTS_EXHAUSTED :
		    SECEV_MEDIA_SDP_REJECTED, e == -ENOSPC ? "no_free_port" :
		    "socket", 503, e == -ENOSPC ? ly : lx, NULL, NULL, 0);
		return -1;
	}
	st->used = 1;	/* px reaches x in the SDP we write for x */

	/* where x's endpoint is and whether it wants anything from us;
	 * told to the relay only once the keys are in place below, so no
	 * packet ever goes to an SRTP leg before its key does */
	dir = sdp_media_dir(sdp, i);
	{
		bool secure = sx->peer.secure;

		memset(&sx->peer, 0, sizeof(sx->peer));
		sx->peer.secure = secure;
	}
	sx->peer.rtp = rem.rtp;
	sx->peer.sig = lx->dest.addr;
	sx->peer.hold = rem.hold || dir == SDP_DIR_SENDONLY ||
	    dir == SDP_DIR_INACTIVE;
	sx->peer.raw = !md->rtp;
	if (offer) {
		sx->peer.rtcp = rem.rtcp_nomux;
		sx->offered_mux = rem.rtcp_mux;
	} else {
		sx->peer.rtcp = rem.rtcp;
		sx->peer.rtcp_mux = rem.rtcp_mux;
		/* x's answer accepts (or not) y's rtcp-mux offer */
		sy->peer.rtcp_mux = sy->offered_mux && rem.rtcp_mux;
	}
	/* y's endpoint may send before its answer (early media): it may
	 * latch from the address its SIP goes to */
	if (sy->peer.sig.sa.sa_family == 0)
		sy->peer.sig = ly->dest.addr;
	if (md->nfmts > 0 && md->rtp &&
	    sdp_media_rtpmap(sdp, i, md->fmts[0].pt, &rm) == 0)
		sx->peer.clock_hz = rm.clock;
	if (rem.hold || dir != SDP_DIR_SENDRECV)
		cm->held = 1;

	rw->keep = true;
	rw->port = py;
	rw->rtcp_port = (uint16_t)(py + 1);
	rw->proto = SDP_RW_PROTO_KEEP;
	rw->crypto = NULL;
	if (!md->rtp) {
		sx->peer.secure = sy->peer.secure = false;
		return peers(cm, i, sx, sy);
	}
	if (offer) {
		if (offer_keys(c, i, y, sx, sy, lx, zx, zy, md, rw, cry,
		    crycap) < 0)
			return -1;
	} else if (answer_keys(c, i, x, sx, sy, lx, ly, zx, zy, rw, cry,
	    crycap) < 0)
		return -1;
	return peers(cm, i, sx, sy);
}

int
call_media_body(struct call *c, const struct leg *to, int offer,
    const struct sip_msg *src, struct slice *body)
{
	struct call_svc *s = c->svc;
	struct call_media *cm = c->media;
	struct sdp_rewrite rw;
	struct sdp_err perr;
	unsigned y = to->side, x = y ^ 1;
	const struct leg *lx;
	char addr[SW_ADDR_STRLEN];
	ssize_t n;
	uint64_t h;
	int r = 0;

	*body = src->body;
	if (cm == NULL || cm->ms == NULL || src->body.len == 0)
		return 0;
	if (!is_sdp(src)) {
		/* SDP inside a multipart body would carry addresses and keys
		 * past the rewrite: refuse it rather than leak */
		if (slice_starts_ci(src->content_type, slice_cstr("multipart/"))) {
			c->media_fail = 415;
			c->media_why = "Unsupported Media Type";
			return -1;
		}
		return 0;
	}
	if (offer < 0) {
		/* SDP outside offer/answer (INFO, MESSAGE, ...): it would
		 * carry addresses past the rewrite, so it does not cross */
		*body = slice_make(src->body.p, 0);
		return 0;
	}
	lx = src_leg(c, x, src);
	if (sdp_parse(src->body.p, src->body.len, NULL, s->sdp, &perr) < 0) {
		c->media_fail = 488;
		c->media_why = "Malformed SDP";
		media_event(c, SECEV_MEDIA_SDP_REJECTED, perr.reason, 488, lx,
		    NULL, NULL, 0);
		return -1;
	}
	memset(&rw, 0, sizeof(rw));
	rw.addr = sw_addr_ip_str(&zone_of(c, to)->media_address, addr,
	    sizeof(addr));
	rw.origin_user = "sipwall";
	rw.sess_id = cm->sess_id;
	rw.nmedia = s->sdp->nmedia;
	cm->held = 0;
	for (size_t i = 0; i < s->sdp->nmedia && r == 0; i++)
		r = one_stream(c, (unsigned)i, x, offer, lx, to, &rw.media[i],
		    s->crypto[i], sizeof(s->crypto[i]));
	if (r < 0)
		goto out;
	/* the same body again keeps its version (forks, 18x then 200);
	 * anything new is a new version (RFC 3264 8) */
	rw.sess_version = cm->ver[y];
	n = sdp_rewrite(s->sdp, &rw, s->sdp_out, sizeof(s->sdp_out));
	if (n >= 0) {
		h = sw_hash(s->sdp_out, (size_t)n);
		if (cm->sent[y] && h != cm->last_hash[y]) {
			rw.sess_version = ++cm->ver[y];
			n = sdp_rewrite(s->sdp, &rw, s->sdp_out,
			    sizeof(s->sdp_out));
			h = n >= 0 ? sw_hash(s->sdp_out, (size_t)n) : 0;
		}
		cm->last_hash[y] = h;
		cm->sent[y] = 1;
	}
	if (n < 0) {
		c->media_fail = 488;
		c->media_why = "SDP Not Acceptable";
		media_event(c, SECEV_MEDIA_SDP_REJECTED, "rewrite", 488, lx,
		    NULL, NULL, 0);
		r = -1;
		goto out;
	}
	*body = slice_make(s->sdp_out, (size_t)n);
out:
	for (size_t i = 0; i < s->sdp->nmedia; i++)
		explicit_bzero(s->crypto[i], sizeof(s->crypto[i]));
	return r;
}

/* Sum of one side over the streams; the worst jitter, the latest rx. */
static void
side_total(struct call_media *cm, unsigned side, struct relay_side_stats *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < RELAY_MAX_STREAMS; i++) {
		struct relay_side_stats x;

		if (cm->m[i] == NULL || !cm->m[i]->used ||
		    relay_stream_stats(cm->ms, i, side, &x) < 0)
			continue;
		t->packets += x.packets;
		t->bytes += x.bytes;
		t->rtcp += x.rtcp;
		t->lost += x.lost;
		t->expected += x.expected;
		t->ooo += x.ooo;
		t->auth_failed += x.auth_failed;
		t->replayed += x.replayed;
		t->foreign += x.foreign;
		t->malformed += x.malformed;
		if (x.jitter_us > t->jitter_us)
			t->jitter_us = x.jitter_us;
		if (x.last_rx_ms > t->last_rx_ms)
			t->last_rx_ms = x.last_rx_ms;
		if (x.foreign > 0)
			t->last_foreign = x.last_foreign;
		if (t->latched.sa.sa_family == 0)
			t->latched = x.latched;
		t->open = t->open || x.open;
	}
	t->srtp = cm->srtp[side];
}

static const struct leg *
side_leg(const struct call *c, unsigned side)
{
	if (side == 0)
		return &c->a;
	return c->winner >= 0 ? &c->b[c->winner] : &c->b[0];
}

static void
on_media(struct timer *t, uint64_t now)
{
	struct call *c = container_of(t, struct call, t_media);
	struct call_media *cm = c->media;
	const struct conf_media *mc = &conf_of(c)->media;
	struct relay_side_stats st[2];
	uint64_t rnow = relay_now_ms(), silent[2];

	(void)now;
	if (cm == NULL || cm->ms == NULL || c->state != CALL_UP)
		return;
	if (cm->kill != NULL) {
		if (strcmp(cm->kill, "srtp_required") == 0) {
			media_event(c, SECEV_SRTP_REQUIRED, "answer_without_srtp",
			    0, NULL, NULL, NULL, 0);
			call_hangup(c, cm->kill, "Reason: SIP;cause=488;"
			    "text=\"SRTP required\"\r\n");
		} else
			call_hangup(c, cm->kill, "Reason: SIP;cause=488;"
			    "text=\"Media not acceptable\"\r\n");
		return;
	}
	for (unsigned k = 0; k < 2; k++) {
		const struct leg *l = side_leg(c, k);

		side_total(cm, k, &st[k]);
		if (st[k].foreign > cm->rep_foreign[k]) {
			media_event(c, SECEV_MEDIA_FOREIGN_SOURCE,
			    "source_not_latched", 0, l, &st[k].last_foreign,
			    "dropped", (long long)(st[k].foreign -
			    cm->rep_foreign[k]));
			cm->rep_foreign[k] = st[k].foreign;
		}
		if (st[k].auth_failed > cm->rep_auth[k]) {
			media_event(c, SECEV_SRTP_AUTH_FAILED, "auth_tag", 0, l,
			    NULL, "count", (long long)(st[k].auth_failed -
			    cm->rep_auth[k]));
			cm->rep_auth[k] = st[k].auth_failed;
		}
		if (st[k].replayed > cm->rep_replay[k]) {
			media_event(c, SECEV_SRTP_REPLAY, "replayed", 0, l, NULL,
			    "count", (long long)(st[k].replayed -
			    cm->rep_replay[k]));
			cm->rep_replay[k] = st[k].replayed;
		}
		if (st[k].malformed > cm->rep_malformed[k]) {
			/* from the latched source (or, before latching, one
			 * that may latch): the leg's own peer */
			media_event(c, SECEV_MEDIA_MALFORMED, "malformed_packet",
			    0, l, st[k].latched.sa.sa_family != 0 ?
			    &st[k].latched : &l->dest.addr, "count",
			    (long long)(st[k].malformed -
			    cm->rep_malformed[k]));
			cm->rep_malformed[k] = st[k].malformed;
		}
		silent[k] = rnow - (st[k].last_rx_ms > cm->watch_ms ?
		    st[k].last_rx_ms : cm->watch_ms);
	}
	if (cm->held) {
		/* on hold one side (or both) sends nothing by design */
		cm->watch_ms = rnow;
	} else if (mc->timeout_ms > 0 && silent[0] >= mc->timeout_ms &&
	    silent[1] >= mc->timeout_ms) {
		media_event(c, SECEV_MEDIA_TIMEOUT, "no_media", 0, NULL, NULL,
		    "silent_ms", (long long)(silent[0] < silent[1] ?
		    silent[0] : silent[1]));
		call_hangup(c, "media_timeout", "Reason: SIP;cause=408;"
		    "text=\"Media timeout\"\r\n");
		return;
	} else if (mc->one_way_timeout_ms > 0 && !cm->one_way_sent &&
	    (silent[0] >= mc->one_way_timeout_ms) !=
	    (silent[1] >= mc->one_way_timeout_ms)) {
		unsigned q = silent[0] >= mc->one_way_timeout_ms ? 0 : 1;
		const struct leg *l = side_leg(c, q);

		cm->one_way_sent = 1;
		{
			struct worker *w = c->svc->w;
			struct secevent ev;

			secevent_init(&ev, SECEV_MEDIA_ONE_WAY);
			ev.reason = "one_direction_silent";
			if (c->a.call_id != NULL)
				ev.call_id = slice_cstr(c->a.call_id);
			if (c->account[0] != '\0')
				ev.account = slice_cstr(c->account);
			secevent_add_str(&ev, "silent", q == 0 ? "a" : "b");
			secevent_add_str(&ev, "leg_zone", zone_of(c, l)->name);
			secevent_add_int(&ev, "silent_ms", (long long)silent[q]);
			worker_event(w, &ev, &c->a.dest);
		}
		if (mc->one_way_hangup) {
			call_hangup(c, "one_way", "Reason: SIP;cause=408;"
			    "text=\"One-way media\"\r\n");
			return;
		}
	}
	/* the row in the store follows the figures (sipwall calls) */
	if (++cm->ticks % RECORD_TICKS == 0)
		call_record(c, 0, NULL, 0);
	call_arm(c, &c->t_media, TICK_MS);
}

void
call_media_fail(struct call *c, const char *reason)
{
	struct call_media *cm = c->media;

	if (cm == NULL || cm->kill != NULL)
		return;
	cm->kill = reason;
	if (c->state == CALL_UP && cm->ms != NULL)
		call_arm(c, &c->t_media, 0);
}

void
call_media_answered(struct call *c)
{
	struct call_media *cm = c->media;

	if (cm == NULL || cm->ms == NULL)
		return;
	cm->watch_ms = relay_now_ms();
	timer_cancel(&c->svc->w->timers, &c->t_media);
	timer_init(&c->t_media, on_media);
	call_arm(c, &c->t_media, cm->kill != NULL ? 0 : TICK_MS);
}

/* Our keys and the endpoints' live in here: wiped, not just freed. */
static void
streams_free(struct call_media *cm)
{
	for (unsigned i = 0; i < RELAY_MAX_STREAMS; i++)
		if (cm->m[i] != NULL) {
			explicit_bzero(cm->m[i], sizeof(*cm->m[i]));
			free(cm->m[i]);
			cm->m[i] = NULL;
		}
}

void
call_media_end(struct call *c)
{
	struct call_media *cm = c->media;

	if (cm == NULL || cm->ms == NULL)
		return;
	timer_cancel(&c->svc->w->timers, &c->t_media);
	side_total(cm, 0, &cm->tot[0]);
	side_total(cm, 1, &cm->tot[1]);
	cm->have_tot = 1;
	metrics_media_leg(&cm->tot[0]);
	metrics_media_leg(&cm->tot[1]);
	relay_sess_release(cm->ms);
	cm->ms = NULL;
	streams_free(cm);
}

void
call_media_free(struct call *c)
{
	if (c->media == NULL)
		return;
	relay_sess_release(c->media->ms);
	streams_free(c->media);
	free(c->media);
	c->media = NULL;
}

void
call_media_counters(const struct call *c, struct secevent *ev,
    struct secevent_counter *buf, size_t cap)
{
	static const char *keys[2][8] = {
		{ "a.packets", "a.bytes", "a.lost", "a.jitter_us", "a.ooo",
		  "a.foreign", "a.auth_failed", "a.srtp" },
		{ "b.packets", "b.bytes", "b.lost", "b.jitter_us", "b.ooo",
		  "b.foreign", "b.auth_failed", "b.srtp" },
	};
	const struct call_media *cm = c->media;
	size_t n = 0;

	if (cm == NULL || !cm->have_tot || cap < 16)
		return;
	for (unsigned k = 0; k < 2; k++) {
		const struct relay_side_stats *t = &cm->tot[k];
		uint64_t v[8] = { t->packets, t->bytes,
		    t->lost > 0 ? (uint64_t)t->lost : 0, t->jitter_us, t->ooo,
		    t->foreign, t->auth_failed, t->srtp };

		for (unsigned j = 0; j < 8; j++) {
			buf[n].k = keys[k][j];
			buf[n].v = v[j];
			n++;
		}
	}
	ev->counters = buf;
	ev->ncounters = n;
}

int
call_media_totals(const struct call *c, unsigned side,
    struct relay_side_stats *ret)
{
	struct call_media *cm = c->media;

	if (cm == NULL)
		return -1;
	if (cm->have_tot)
		*ret = cm->tot[side];
	else if (cm->ms != NULL)
		side_total(cm, side, ret);
	else
		return -1;
	return 0;
}

const char *
call_media_enc(const struct call *c, unsigned side)
{
	const struct call_media *cm = c->media;

	if (cm == NULL || side > 1 || !cm->settled[side])
		return "";
	if (!cm->srtp[side])
		return "rtp";
	return cm->suite[side] != 0 ?
	    sdp_suite_name((enum sdp_suite)cm->suite[side]) : "srtp";
}
