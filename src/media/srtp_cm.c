/*
 * SRTP/SRTCP with AES-CM and HMAC-SHA1 on OpenSSL (RFC 3711, RFC 6188).
 *
 * Owns: session key derivation, the keystream, the tag, and per SSRC
 * the packet index with libsrtp's ROC guess, the replay windows and
 * the SRTCP index we send.  Why not libsrtp: Debian's libsrtp2 runs
 * HMAC-SHA1 through NSS PK11 calls per packet and manages about 380k
 * packets a second; here the HMAC inner and outer SHA-1 states are
 * computed once per context and copied per packet.
 *
 * Two choices measured on OpenSSL 3.0.22 (AES-NI, SHA-NI), for a
 * 160-byte payload: the keystream is AES-ECB over counter blocks we
 * build, one EVP call per packet (38 ns), not a CTR context whose IV
 * is re-armed per packet (113 ns); and the HMAC runs the low-level
 * SHA1_* calls on copies of SHA_CTX states (215 ns), because
 * EVP_MD_CTX_copy_ex() allocates a provider context on every copy
 * (300 ns; EVP_MAC_CTX_dup() 780 ns).  SHA1_* are deprecated in
 * OpenSSL 3, so this one file suppresses the deprecation attribute.
 * The result: about 2.8M protects and 3.4M unprotects a second of
 * 172-byte RTP on one core, libsrtp on NSS about 0.38M.
 *
 * The state machine mirrors libsrtp 2.5 (rdbx.c, rdb.c, srtp.c) so
 * that both produce and accept the same packets: the index guess, the
 * 128-packet windows, the order of checks (E flag, replay, tag), and
 * an SRTCP index that starts at 1.
 *
 * Deliberately not here: bounds checks of the RTP header (the caller's
 * contract, see srtp_cm.h), MKI, key lifetimes, KDR, AEAD.
 */
#define OPENSSL_SUPPRESS_DEPRECATED	/* SHA1_*: see above */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "media/srtp_cm.h"
#include "media/srtp_ctx.h"

#define RTP_FIXED_LEN	12
#define RTCP_HDR_LEN	8
#define AES_BLOCK	16
#define KS_BLOCKS	32		/* keystream made per EVP call */
#define MAX_BLOCKS	(1u << 16)	/* the counter's 16 bits */
#define WINDOW		128		/* replay window, as libsrtp */
#define SEQ_MEDIAN	0x8000
#define SEQ_MAX		0x10000
#define SRTCP_E_BIT	0x80000000u
#define SRTCP_MAX_INDEX	0x7fffffffu

/* A 128-bit replay bitmap: bit i in w[i / 64]. */
struct window {
	uint64_t	 w[2];
};

struct cm_stream {
	uint32_t	 ssrc;		/* network order */
	/*
	 * SRTCP: IN, the window's first index (bit i: start + i seen);
	 * OUT, the last index sent (libsrtp keeps both in one rdb).
	 */
	uint32_t	 rtcp_start;
	uint64_t	 index;		/* SRTP: ROC << 16 | SEQ, the highest */
	struct window	 rtp_win;	/* bit d: index - d seen */
	struct window	 rtcp_win;
};

/* One direction's session keys: RTP or RTCP. */
struct cm_keys {
	EVP_CIPHER_CTX	*ecb;		/* the session encryption key */
	SHA_CTX		 inner;		/* SHA1 after (auth key ^ ipad) */
	SHA_CTX		 outer;		/* SHA1 after (auth key ^ opad) */
	uint8_t		 salt[SRTP_CM_SALT_LEN];
	uint8_t		 tag;		/* bytes */
};

struct srtp_cm {
	struct cm_keys	 rtp;
	struct cm_keys	 rtcp;
	size_t		 nstream;
	size_t		 last;		/* the last stream matched */
	struct cm_stream stream[SRTP_CTX_MAX_SSRC];
};

/* ---------------------------------------------------------------- */
/* AES-CM and HMAC-SHA1                                              */

static const EVP_CIPHER *
ecb_cipher(size_t key_len)
{
	if (key_len == 16)
		return EVP_aes_128_ecb();
	if (key_len == 32)
		return EVP_aes_256_ecb();
	return NULL;
}

static EVP_CIPHER_CTX *
ecb_new(const uint8_t *key, size_t key_len)
{
	const EVP_CIPHER *ciph = ecb_cipher(key_len);
	EVP_CIPHER_CTX *x;

	if (ciph == NULL || (x = EVP_CIPHER_CTX_new()) == NULL)
		return NULL;
	if (EVP_EncryptInit_ex(x, ciph, NULL, key, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(x, 0) != 1) {
		EVP_CIPHER_CTX_free(x);
		return NULL;
	}
	return x;
}

static void
xor_into(uint8_t *p, const uint8_t *ks, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t a, b;

		memcpy(&a, p + i, 8);
		memcpy(&b, ks + i, 8);
		a ^= b;
		memcpy(p + i, &a, 8);
	}
	for (; i < n; i++)
		p[i] ^= ks[i];
}

/*
 * XOR the AES-CM keystream from counter block iv into p[0..n), or
 * write it there when zero is set.  The counter steps in the last 16
 * bits (RFC 3711 4.1.1); SRTP's own IVs have them clear, and n is at
 * most SRTP_CTX_MAX_PKT, so they never wrap there.
 */
static int
cm_apply(EVP_CIPHER_CTX *ecb, const uint8_t iv[AES_BLOCK], uint8_t *p,
    size_t n, bool zero)
{
	uint8_t ks[KS_BLOCKS * AES_BLOCK];
	unsigned ctr = (unsigned)iv[14] << 8 | iv[15];
	int outl;

	if ((n + AES_BLOCK - 1) / AES_BLOCK > MAX_BLOCKS)
		return -EINVAL;
	while (n > 0) {
		size_t take = n < sizeof(ks) ? n : sizeof(ks);
		size_t nb = (take + AES_BLOCK - 1) / AES_BLOCK;

		for (size_t b = 0; b < nb; b++, ctr++) {
			memcpy(ks + b * AES_BLOCK, iv, AES_BLOCK - 2);
			ks[b * AES_BLOCK + 14] = (uint8_t)(ctr >> 8);
			ks[b * AES_BLOCK + 15] = (uint8_t)ctr;
		}
		if (EVP_EncryptUpdate(ecb, ks, &outl, ks,
		    (int)(nb * AES_BLOCK)) != 1) {
			explicit_bzero(ks, sizeof(ks));
			return -EIO;
		}
		if (zero)
			memcpy(p, ks, take);
		else
			xor_into(p, ks, take);
		p += take;
		n -= take;
	}
	explicit_bzero(ks, sizeof(ks));
	return 0;
}

int
srtp_cm_keystream(const uint8_t *key, size_t key_len,
    const uint8_t iv[16], uint8_t *out, size_t len)
{
	EVP_CIPHER_CTX *ecb;
	int r;

	if (key == NULL || iv == NULL || (out == NULL && len > 0))
		return -EINVAL;
	if (ecb_cipher(key_len) == NULL)
		return -EINVAL;
	if ((ecb = ecb_new(key, key_len)) == NULL)
		return -EIO;
	r = cm_apply(ecb, iv, out, len, true);
	EVP_CIPHER_CTX_free(ecb);
	return r;
}

int
srtp_cm_kdf(const uint8_t *key, size_t key_len,
    const uint8_t salt[SRTP_CM_SALT_LEN], enum srtp_cm_label label,
    uint8_t *out, size_t len)
{
	uint8_t iv[AES_BLOCK] = { 0 };

	if (salt == NULL || (unsigned)label >= SRTP_CM_LABEL__MAX)
		return -EINVAL;
	/*
	 * x = key_id XOR master salt, key_id = label || r with r = 0 (48
	 * bits: KDR 0), right-aligned in the 112-bit salt; IV = x * 2^16.
	 */
	memcpy(iv, salt, SRTP_CM_SALT_LEN);
	iv[7] ^= (uint8_t)label;
	return srtp_cm_keystream(key, key_len, iv, out, len);
}

/* The HMAC-SHA1 states for auth key k (RFC 2104), hashed once. */
static void
hmac_prepare(struct cm_keys *k, const uint8_t key[SRTP_CM_AUTH_KEY_LEN])
{
	uint8_t pad[SHA_CBLOCK];

	memset(pad, 0x36, sizeof(pad));
	for (size_t i = 0; i < SRTP_CM_AUTH_KEY_LEN; i++)
		pad[i] ^= key[i];
	SHA1_Init(&k->inner);
	SHA1_Update(&k->inner, pad, sizeof(pad));
	memset(pad, 0x5c, sizeof(pad));
	for (size_t i = 0; i < SRTP_CM_AUTH_KEY_LEN; i++)
		pad[i] ^= key[i];
	SHA1_Init(&k->outer);
	SHA1_Update(&k->outer, pad, sizeof(pad));
	explicit_bzero(pad, sizeof(pad));
}

/* HMAC-SHA1 over p[0..n) then roc[0..4) if not NULL, untruncated. */
static void
hmac(const struct cm_keys *k, const uint8_t *p, size_t n,
    const uint8_t *roc, uint8_t out[SHA_DIGEST_LENGTH])
{
	SHA_CTX s = k->inner;

	SHA1_Update(&s, p, n);
	if (roc != NULL)
		SHA1_Update(&s, roc, 4);
	SHA1_Final(out, &s);
	s = k->outer;
	SHA1_Update(&s, out, SHA_DIGEST_LENGTH);
	SHA1_Final(out, &s);
	explicit_bzero(&s, sizeof(s));
}

/* ---------------------------------------------------------------- */
/* Contexts                                                          */

/* Derive one direction's keys from the master key (labels base..+2). */
static int
keys_init(struct cm_keys *k, const uint8_t *key, size_t key_len,
    const uint8_t *salt, enum srtp_cm_label base, size_t tag)
{
	uint8_t enc[32], auth[SRTP_CM_AUTH_KEY_LEN];
	int r;

	k->tag = (uint8_t)tag;
	if ((r = srtp_cm_kdf(key, key_len, salt, base, enc, key_len)) < 0 ||
	    (r = srtp_cm_kdf(key, key_len, salt, base + 1, auth,
	    sizeof(auth))) < 0 ||
	    (r = srtp_cm_kdf(key, key_len, salt, base + 2, k->salt,
	    sizeof(k->salt))) < 0)
		goto out;
	hmac_prepare(k, auth);
	if ((k->ecb = ecb_new(enc, key_len)) == NULL)
		r = -EIO;
out:
	explicit_bzero(enc, sizeof(enc));
	explicit_bzero(auth, sizeof(auth));
	return r;
}

int
srtp_cm_new(const uint8_t *key_salt, size_t key_len, size_t rtp_tag,
    size_t rtcp_tag, struct srtp_cm **ret)
{
	struct srtp_cm *c;
	const uint8_t *salt;
	int r;

	if (key_salt == NULL || ecb_cipher(key_len) == NULL ||
	    (rtp_tag != 4 && rtp_tag != 10) ||
	    (rtcp_tag != 4 && rtcp_tag != 10) || ret == NULL)
		return -EINVAL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -ENOMEM;
	salt = key_salt + key_len;
	if ((r = keys_init(&c->rtp, key_salt, key_len, salt,
	    SRTP_CM_LABEL_RTP_ENC, rtp_tag)) < 0 ||
	    (r = keys_init(&c->rtcp, key_salt, key_len, salt,
	    SRTP_CM_LABEL_RTCP_ENC, rtcp_tag)) < 0) {
		srtp_cm_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

void
srtp_cm_free(struct srtp_cm *c)
{
	if (c == NULL)
		return;
	EVP_CIPHER_CTX_free(c->rtp.ecb);	/* wipes the schedule */
	EVP_CIPHER_CTX_free(c->rtcp.ecb);
	explicit_bzero(c, sizeof(*c));
	free(c);
}

/* ---------------------------------------------------------------- */
/* Per-SSRC state                                                    */

/*
 * The stream of ssrc (as on the wire), or NULL.  The last match is
 * tried first: packets come in runs of one SSRC.
 */
static struct cm_stream *
stream_find(struct srtp_cm *c, uint32_t ssrc)
{
	if (c->nstream > 0 && c->stream[c->last].ssrc == ssrc)
		return &c->stream[c->last];
	for (size_t i = 0; i < c->nstream; i++)
		if (c->stream[i].ssrc == ssrc) {
			c->last = i;
			return &c->stream[i];
		}
	return NULL;
}

/* A fresh stream for ssrc; the caller checked there is room. */
static struct cm_stream *
stream_add(struct srtp_cm *c, uint32_t ssrc)
{
	struct cm_stream *s = &c->stream[c->nstream];

	memset(s, 0, sizeof(*s));
	s->ssrc = ssrc;
	c->last = c->nstream++;
	return s;
}

static bool
win_get(const struct window *w, unsigned bit)
{
	return (w->w[bit / 64] >> (bit % 64)) & 1;
}

static void
win_set(struct window *w, unsigned bit)
{
	w->w[bit / 64] |= (uint64_t)1 << (bit % 64);
}

/* Move every bit i to i + n (up) or i - n (down); the rest fall out. */
static void
win_shift(struct window *w, uint64_t n, bool up)
{
	uint64_t lo = w->w[0], hi = w->w[1];

	if (n >= WINDOW) {
		w->w[0] = w->w[1] = 0;
	} else if (n >= 64) {
		w->w[up ? 1 : 0] = up ? lo << (n - 64) : hi >> (n - 64);
		w->w[up ? 0 : 1] = 0;
	} else if (n > 0) {
		if (up) {
			w->w[1] = hi << n | lo >> (64 - n);
			w->w[0] = lo << n;
		} else {
			w->w[0] = lo >> n | hi << (64 - n);
			w->w[1] = hi >> n;
		}
	}
}

/*
 * The packet index of seq in s, as libsrtp guesses it
 * (srtp_rdbx_estimate_index, srtp_index_guess): below an index of
 * 2^15 the ROC is taken as 0, above it the ROC that puts the index
 * nearest the highest one seen.  Returns the distance from that one.
 */
static int32_t
rtp_guess(const struct cm_stream *s, uint16_t seq, uint64_t *ret_est)
{
	uint32_t roc = (uint32_t)(s->index >> 16);
	int32_t lseq = (uint16_t)s->index, d = (int32_t)seq - lseq;

	if (s->index <= SEQ_MEDIAN) {
		*ret_est = seq;
		return (int32_t)seq - (int32_t)s->index;
	}
	if (lseq < SEQ_MEDIAN && d > SEQ_MEDIAN) {
		roc--;
		d -= SEQ_MAX;
	} else if (lseq >= SEQ_MEDIAN && lseq - SEQ_MEDIAN > (int32_t)seq) {
		roc++;
		d += SEQ_MAX;
	}
	*ret_est = (uint64_t)roc << 16 | seq;
	return d;
}

/* srtp_rdbx_check: 0, or -EALREADY for a replay or one too old. */
static int
rtp_replay_check(const struct cm_stream *s, int32_t delta)
{
	if (delta > 0)
		return 0;
	if (delta <= -WINDOW)
		return -EALREADY;
	return win_get(&s->rtp_win, (unsigned)-delta) ? -EALREADY : 0;
}

static void
rtp_replay_add(struct cm_stream *s, int32_t delta)
{
	if (delta > 0) {
		s->index += (uint64_t)delta;
		win_shift(&s->rtp_win, (uint64_t)delta, true);
		win_set(&s->rtp_win, 0);
	} else
		win_set(&s->rtp_win, (unsigned)-delta);
}

/* srtp_rdb_check on the SRTCP index. */
static int
rtcp_replay_check(const struct cm_stream *s, uint32_t idx)
{
	if (idx >= s->rtcp_start + WINDOW)
		return 0;
	if (idx < s->rtcp_start)
		return -EALREADY;
	return win_get(&s->rtcp_win, idx - s->rtcp_start) ? -EALREADY : 0;
}

static void
rtcp_replay_add(struct cm_stream *s, uint32_t idx)
{
	uint32_t d;

	if (idx < s->rtcp_start)
		return;
	d = idx - s->rtcp_start;
	if (d < WINDOW) {
		win_set(&s->rtcp_win, d);
		return;
	}
	d -= WINDOW - 1;
	win_shift(&s->rtcp_win, d, false);
	win_set(&s->rtcp_win, WINDOW - 1);
	s->rtcp_start += d;
}

/* ---------------------------------------------------------------- */
/* Packets                                                           */

static void
put_be32(uint8_t *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, sizeof(v));
}

/*
 * IV = (salt * 2^16) XOR (SSRC * 2^64) XOR (index * 2^16) (RFC 3711
 * 4.1.1); ssrc as on the wire, index 48 bits (SRTP) or 31 (SRTCP).
 */
static void
make_iv(uint8_t iv[AES_BLOCK], const uint8_t salt[SRTP_CM_SALT_LEN],
    const uint8_t *ssrc, uint64_t index)
{
	memset(iv, 0, AES_BLOCK);
	memcpy(iv + 4, ssrc, 4);
	put_be32(iv + 8, (uint32_t)(index >> 16));
	iv[12] = (uint8_t)(index >> 8);
	iv[13] = (uint8_t)index;
	for (size_t i = 0; i < SRTP_CM_SALT_LEN; i++)
		iv[i] ^= salt[i];
}

/* On protect: the SSRC's stream, or a new one, or NULL when full. */
static struct cm_stream *
stream_get(struct srtp_cm *c, uint32_t ssrc)
{
	struct cm_stream *s = stream_find(c, ssrc);

	if (s == NULL && c->nstream < SRTP_CTX_MAX_SSRC)
		s = stream_add(c, ssrc);
	return s;
}

/*
 * On unprotect: the SSRC's stream, or tmp made fresh for a new SSRC,
 * or NULL when the table is full.  A new SSRC gets a table entry only
 * once its packet authenticated (stream_keep), so a forger cannot fill
 * the table; until then it is judged against a fresh stream, as
 * libsrtp judges it against its template.
 */
static struct cm_stream *
stream_judge(struct srtp_cm *c, uint32_t ssrc, struct cm_stream *tmp)
{
	struct cm_stream *s = stream_find(c, ssrc);

	if (s != NULL)
		return s;
	if (c->nstream >= SRTP_CTX_MAX_SSRC)
		return NULL;
	memset(tmp, 0, sizeof(*tmp));
	tmp->ssrc = ssrc;
	return tmp;
}

/* After authentication: s itself, or a table entry in place of tmp. */
static struct cm_stream *
stream_keep(struct srtp_cm *c, struct cm_stream *s,
    const struct cm_stream *tmp)
{
	return s == tmp ? stream_add(c, s->ssrc) : s;
}

int
srtp_cm_rtp_protect(struct srtp_cm *c, uint8_t *pkt, size_t *len,
    size_t hlen)
{
	struct cm_stream *s;
	uint8_t iv[AES_BLOCK], roc[4], mac[SHA_DIGEST_LENGTH];
	uint32_t ssrc;
	uint64_t est;
	int32_t delta;
	int r;

	if (c == NULL || pkt == NULL || len == NULL || hlen < RTP_FIXED_LEN ||
	    hlen > *len || *len > SRTP_CTX_MAX_PKT)
		return -EINVAL;
	memcpy(&ssrc, pkt + 8, 4);
	/* libsrtp makes the stream first: it counts whatever follows */
	if ((s = stream_get(c, ssrc)) == NULL)
		return -ENOSPC;
	/* refuse an index already used: no keystream twice */
	delta = rtp_guess(s, (uint16_t)(pkt[2] << 8 | pkt[3]), &est);
	if ((r = rtp_replay_check(s, delta)) < 0)
		return r;
	rtp_replay_add(s, delta);

	make_iv(iv, c->rtp.salt, pkt + 8, est);
	if ((r = cm_apply(c->rtp.ecb, iv, pkt + hlen, *len - hlen,
	    false)) < 0)
		return r;
	put_be32(roc, (uint32_t)(est >> 16));
	hmac(&c->rtp, pkt, *len, roc, mac);
	memcpy(pkt + *len, mac, c->rtp.tag);
	*len += c->rtp.tag;
	return 0;
}

int
srtp_cm_rtp_unprotect(struct srtp_cm *c, uint8_t *pkt, size_t *len,
    size_t hlen)
{
	struct cm_stream *s, tmp;
	uint8_t iv[AES_BLOCK], roc[4], mac[SHA_DIGEST_LENGTH];
	size_t body;
	uint32_t ssrc;
	uint64_t est;
	int32_t delta;
	int r;

	if (c == NULL || pkt == NULL || len == NULL || hlen < RTP_FIXED_LEN ||
	    *len > SRTP_CTX_MAX_PKT || *len < c->rtp.tag ||
	    hlen > *len - c->rtp.tag)
		return -EINVAL;
	body = *len - c->rtp.tag;
	memcpy(&ssrc, pkt + 8, 4);
	if ((s = stream_judge(c, ssrc, &tmp)) == NULL)
		return -ENOSPC;
	delta = rtp_guess(s, (uint16_t)(pkt[2] << 8 | pkt[3]), &est);
	if ((r = rtp_replay_check(s, delta)) < 0)
		return r;
	put_be32(roc, (uint32_t)(est >> 16));
	hmac(&c->rtp, pkt, body, roc, mac);
	if (CRYPTO_memcmp(mac, pkt + body, c->rtp.tag) != 0)
		return -EBADMSG;
	make_iv(iv, c->rtp.salt, pkt + 8, est);
	if ((r = cm_apply(c->rtp.ecb, iv, pkt + hlen, body - hlen,
	    false)) < 0)
		return r;
	rtp_replay_add(stream_keep(c, s, &tmp), delta);
	*len = body;
	return 0;
}

int
srtp_cm_rtcp_protect(struct srtp_cm *c, uint8_t *pkt, size_t *len)
{
	struct cm_stream *s;
	uint8_t iv[AES_BLOCK], mac[SHA_DIGEST_LENGTH];
	uint32_t ssrc, idx;
	int r;

	if (c == NULL || pkt == NULL || len == NULL || *len < RTCP_HDR_LEN ||
	    *len > SRTP_CTX_MAX_PKT)
		return -EINVAL;
	memcpy(&ssrc, pkt + 4, 4);
	if ((s = stream_get(c, ssrc)) == NULL)
		return -ENOSPC;
	if (s->rtcp_start >= SRTCP_MAX_INDEX)
		return -EIO;		/* the key is used up */
	idx = ++s->rtcp_start;

	make_iv(iv, c->rtcp.salt, pkt + 4, idx);
	if ((r = cm_apply(c->rtcp.ecb, iv, pkt + RTCP_HDR_LEN,
	    *len - RTCP_HDR_LEN, false)) < 0)
		return r;
	put_be32(pkt + *len, SRTCP_E_BIT | idx);
	*len += SRTP_CM_INDEX_LEN;
	hmac(&c->rtcp, pkt, *len, NULL, mac);
	memcpy(pkt + *len, mac, c->rtcp.tag);
	*len += c->rtcp.tag;
	return 0;
}

int
srtp_cm_rtcp_unprotect(struct srtp_cm *c, uint8_t *pkt, size_t *len)
{
	struct cm_stream *s, tmp;
	uint8_t iv[AES_BLOCK], mac[SHA_DIGEST_LENGTH];
	const uint8_t *tr;
	size_t auth, body;
	uint32_t ssrc, idx;
	int r;

	if (c == NULL || pkt == NULL || len == NULL ||
	    *len > SRTP_CTX_MAX_PKT ||
	    *len < (size_t)RTCP_HDR_LEN + SRTP_CM_INDEX_LEN + c->rtcp.tag)
		return -EINVAL;
	auth = *len - c->rtcp.tag;
	body = auth - SRTP_CM_INDEX_LEN;
	memcpy(&ssrc, pkt + 4, 4);
	if ((s = stream_judge(c, ssrc, &tmp)) == NULL)
		return -ENOSPC;
	tr = pkt + body;
	/* E clear where we encrypt: a downgrade (libsrtp's cant_check) */
	if ((tr[0] & 0x80) == 0)
		return -EBADMSG;
	idx = ((uint32_t)tr[0] << 24 | (uint32_t)tr[1] << 16 |
	    (uint32_t)tr[2] << 8 | tr[3]) & SRTCP_MAX_INDEX;
	if ((r = rtcp_replay_check(s, idx)) < 0)
		return r;
	hmac(&c->rtcp, pkt, auth, NULL, mac);
	if (CRYPTO_memcmp(mac, pkt + auth, c->rtcp.tag) != 0)
		return -EBADMSG;
	make_iv(iv, c->rtcp.salt, pkt + 4, idx);
	if ((r = cm_apply(c->rtcp.ecb, iv, pkt + RTCP_HDR_LEN,
	    body - RTCP_HDR_LEN, false)) < 0)
		return r;
	rtcp_replay_add(stream_keep(c, s, &tmp), idx);
	*len = body;
	return 0;
}
