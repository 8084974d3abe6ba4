/*
 * SDP (RFC 8866, formerly RFC 4566) as an SBC needs it: the session
 * and media descriptions of an offer or answer, with the attributes
 * that steer media relaying and SRTP (rtpmap, fmtp, crypto of RFC 4568,
 * rtcp, rtcp-mux, direction, ptime, mid, ICE and DTLS-SRTP values).
 *
 * Zero-copy and bounded: sdp_parse() fills a caller-owned struct sdp
 * whose arrays are sized by the SDP_MAX_* ceilings below; every slice
 * in it is borrowed from the body buffer and must not outlive it.
 * Nothing here allocates, logs or writes to the input.
 *
 * Deliberately not here: rewriting SDP (the media layer builds new
 * bodies), ICE candidate grammar (kept as slices for media/), policy
 * on codecs or crypto suites (policy/ decides on what we report).
 */
#ifndef SW_SIP_SDP_H
#define SW_SIP_SDP_H

#include <stddef.h>
#include <stdint.h>

#include "core/slice.h"

/*
 * Hard ceilings; they size the arrays in struct sdp.  Configured
 * limits may only be lower (larger values are clamped to these).
 */
#define SDP_MAX_BODY		65536
#define SDP_MAX_LINES		4096
#define SDP_MAX_LINE		4096	/* bytes, line ending excluded */
#define SDP_MAX_MEDIA		16
#define SDP_MAX_ATTRS		64	/* a= lines per section */
#define SDP_MAX_FMTS		32	/* formats on one m= line */
#define SDP_MAX_CRYPTO		8	/* a=crypto per media section */
#define SDP_MAX_BW		4	/* b= lines per section */

#define SDP_MAX_PT		127	/* RTP payload type, RFC 3550 */
#define SDP_MAX_PTIME		10000	/* ms; a=ptime and a=maxptime */
#define SDP_MAX_CRYPTO_TAG	999999999u	/* 1*9DIGIT, RFC 4568 9.1 */
#define SDP_MAX_MKI_LEN		128	/* bytes, RFC 4568 6.1 */
#define SDP_MAX_ICE_CHARS	256	/* ice-ufrag/ice-pwd, RFC 8839 5.4 */
#define SDP_MAX_KEY		64	/* decoded key||salt of any suite */

struct sdp_limits {
	size_t	max_body;	/* whole body in bytes */
	size_t	max_lines;	/* all lines, ignored types included */
	size_t	max_line;	/* one line without its line ending */
	size_t	max_media;	/* m= sections */
	size_t	max_attrs;	/* a= lines in one section */
	size_t	max_fmts;	/* formats on one m= line */
	size_t	max_crypto;	/* a=crypto lines in one media section */
	size_t	max_bw;		/* b= lines in one section */
};

/* Defaults for production, tests and fuzzers alike. */
extern const struct sdp_limits sdp_limits_default;

enum sdp_af {
	SDP_AF_NONE = 0,	/* no address (c= absent) */
	SDP_AF_IP4,
	SDP_AF_IP6,
	SDP_AF__MAX
};

enum sdp_dir {
	SDP_DIR_UNSET = 0,	/* no direction attribute in the section */
	SDP_DIR_SENDRECV,
	SDP_DIR_SENDONLY,
	SDP_DIR_RECVONLY,
	SDP_DIR_INACTIVE,
	SDP_DIR__MAX
};

enum sdp_media_type {
	SDP_MEDIA_OTHER = 0,
	SDP_MEDIA_AUDIO,
	SDP_MEDIA_VIDEO,
	SDP_MEDIA_TEXT,
	SDP_MEDIA_APPLICATION,
	SDP_MEDIA_MESSAGE,
	SDP_MEDIA_IMAGE,
	SDP_MEDIA__MAX
};

enum sdp_proto {
	SDP_PROTO_OTHER = 0,
	SDP_PROTO_RTP_AVP,
	SDP_PROTO_RTP_AVPF,
	SDP_PROTO_RTP_SAVP,
	SDP_PROTO_RTP_SAVPF,
	SDP_PROTO_UDP_TLS_RTP_SAVP,
	SDP_PROTO_UDP_TLS_RTP_SAVPF,
	SDP_PROTO_UDPTL,		/* T.38 */
	SDP_PROTO_UDP_DTLS_SCTP,	/* WebRTC data channel */
	SDP_PROTO__MAX
};

/*
 * SRTP crypto suites of RFC 4568, RFC 6188 and RFC 7714.  The names
 * FreeSWITCH and sofia-sip use for RFC 6188 (AES_CM_256_HMAC_SHA1_80,
 * AES_CM_192_...) map to the same values.
 */
enum sdp_suite {
	SDP_SUITE_UNKNOWN = 0,	/* kept, but its key length is not checked */
	SDP_SUITE_AES_CM_128_HMAC_SHA1_80,
	SDP_SUITE_AES_CM_128_HMAC_SHA1_32,
	SDP_SUITE_F8_128_HMAC_SHA1_80,
	SDP_SUITE_AES_192_CM_HMAC_SHA1_80,
	SDP_SUITE_AES_192_CM_HMAC_SHA1_32,
	SDP_SUITE_AES_256_CM_HMAC_SHA1_80,
	SDP_SUITE_AES_256_CM_HMAC_SHA1_32,
	SDP_SUITE_AEAD_AES_128_GCM,
	SDP_SUITE_AEAD_AES_256_GCM,
	SDP_SUITE_AEAD_AES_128_GCM_8,	/* 8-byte tag; libsrtp, FreeSWITCH */
	SDP_SUITE_AEAD_AES_256_GCM_8,
	SDP_SUITE__MAX
};

/* Why a body was refused.  reason is a static string. */
struct sdp_err {
	const char	*reason;
	size_t		 off;		/* offset of the defect in buf */
};

/* c= (or the address part of a=rtcp). */
struct sdp_conn {
	struct slice	addr;		/* numeric address, /ttl/count cut off */
	uint32_t	ttl;		/* IP4 multicast; 0 when absent */
	uint32_t	count;		/* multicast /count; 1 when absent */
	uint8_t		af;		/* enum sdp_af; NONE = no c= line */
	uint8_t		multicast;
	uint8_t		unspec;		/* 0.0.0.0 or ::, i.e. RFC 2543 hold */
};

struct sdp_bw {
	struct slice	type;		/* "AS", "CT", "TIAS", ... */
	uint32_t	value;
};

/* Any a= line.  value is SLICE_NULL for a property attribute (no ':'). */
struct sdp_attr {
	struct slice	name;
	struct slice	value;
};

struct sdp_attrs {
	size_t		n;
	struct sdp_attr	v[SDP_MAX_ATTRS];
};

struct sdp_rtpmap {
	struct slice	encoding;	/* "PCMU", "opus", "telephone-event" */
	uint32_t	clock;		/* > 0 */
	uint32_t	channels;	/* encoding params; 0 when absent */
	uint8_t		pt;
};

/* One format of an m= line with the rtpmap/fmtp that name it. */
struct sdp_fmt {
	struct slice	fmt;		/* as written */
	struct slice	fmtp;		/* a=fmtp params; unset when absent */
	struct sdp_rtpmap rtpmap;	/* valid when has_rtpmap */
	uint8_t		pt;		/* RTP protos: the payload type */
	uint8_t		has_rtpmap;
};

/* One key-param of a=crypto: "inline:" key||salt ["|" lifetime] ["|" mki:len] */
struct sdp_crypto_key {
	struct slice	key_salt;	/* base64 text, validated */
	struct slice	lifetime;	/* as written ("2^31", "1048576"); unset if absent */
	struct slice	mki;		/* MKI value digits; unset if absent */
	uint32_t	mki_len;	/* bytes, 1..SDP_MAX_MKI_LEN; 0 if absent */
};

struct sdp_crypto {
	uint32_t	tag;
	uint8_t		suite;		/* enum sdp_suite */
	struct slice	suite_name;
	struct slice	key_params;	/* all key-params, ';'-separated */
	size_t		nkeys;		/* key-params in key_params (>= 1) */
	struct sdp_crypto_key key;	/* the first key-param, decoded */
	struct slice	session_params;	/* rest of the line; may be empty */
};

struct sdp_media {
	struct slice	raw;		/* from "m=" to the section's end */
	struct slice	media;		/* "audio" */
	uint8_t		type;		/* enum sdp_media_type */
	uint8_t		proto_id;	/* enum sdp_proto */
	uint8_t		rtp;		/* proto has an "RTP" component */
	uint16_t	port;
	uint32_t	nports;		/* m= port/count; 1 when absent */
	struct slice	proto;
	size_t		nfmts;
	struct sdp_fmt	fmts[SDP_MAX_FMTS];

	struct sdp_conn	conn;		/* af NONE: inherit the session c= */
	size_t		nbw;
	struct sdp_bw	bw[SDP_MAX_BW];

	uint8_t		dir;		/* enum sdp_dir; UNSET: inherit */
	uint8_t		has_rtcp;
	uint8_t		rtcp_mux;
	uint16_t	rtcp_port;
	struct sdp_conn	rtcp_conn;	/* af NONE when a=rtcp had no address */
	uint32_t	ptime;		/* ms; 0 when absent */
	uint32_t	maxptime;	/* ms; 0 when absent */
	struct slice	mid;
	struct slice	ice_ufrag;
	struct slice	ice_pwd;
	size_t		ncandidates;	/* a=candidate lines, see attrs */
	struct slice	fingerprint;	/* first a=fingerprint value */
	size_t		nfingerprints;
	struct slice	setup;

	size_t		ncrypto;
	struct sdp_crypto crypto[SDP_MAX_CRYPTO];

	struct sdp_attrs attrs;		/* every a= line, in order */
};

struct sdp_origin {
	struct slice	username;
	struct slice	sess_id;	/* 1*DIGIT, kept as text */
	struct slice	sess_version_s;
	uint64_t	sess_version;
	struct slice	nettype;
	struct slice	addrtype;
	struct slice	addr;		/* IP literal or host name */
};

/*
 * A parsed body.  Large (see sizeof; about 90 KiB with the default
 * ceilings): keep one per worker or in the message arena, not on a
 * small stack.
 */
struct sdp {
	const uint8_t	*buf;
	size_t		 len;
	struct slice	 raw_session;	/* v= up to the first m= */
	struct sdp_origin origin;
	struct slice	 name;		/* s= (may be empty or " ") */
	struct slice	 info;		/* i=; unset when absent */
	struct sdp_conn	 conn;
	uint64_t	 t_start;	/* first t= line */
	uint64_t	 t_stop;
	size_t		 ntimes;
	size_t		 nbw;
	struct sdp_bw	 bw[SDP_MAX_BW];
	uint8_t		 dir;		/* enum sdp_dir; default for media */
	uint8_t		 ice_lite;
	struct slice	 ice_ufrag;
	struct slice	 ice_pwd;
	struct slice	 fingerprint;
	size_t		 nfingerprints;
	struct slice	 setup;
	struct sdp_attrs attrs;		/* session-level a= lines */

	size_t		 nmedia;
	struct sdp_media media[SDP_MAX_MEDIA];
};

/*
 * Parse the SDP body buf[0..len).  lim may be NULL for the defaults;
 * larger-than-ceiling limits are clamped.  *sdp is caller-owned and
 * overwritten; its slices point into buf, which must outlive it.  On
 * failure *sdp holds a partial parse and must not be used.
 * Lines end in CRLF or bare LF; the last one may lack it.  Fields are
 * separated by one or more SP/HT.  Unknown line types and attributes
 * are kept or ignored as RFC 8866 asks; known ones are validated.
 * Returns 0, or -SBC_EPARSE / -SBC_ELIMIT and, when reterr is not NULL,
 * *reterr names the defect and its offset (always <= len).
 */
int	sdp_parse(const uint8_t *buf, size_t len,
	    const struct sdp_limits *lim, struct sdp *sdp,
	    struct sdp_err *reterr);

/*
 * Connection of media section i: its own c= or else the session's.
 * Returns NULL when i is out of range or neither exists (possible only
 * for a section with port 0, which sdp_parse lets go without one).
 */
const struct sdp_conn *sdp_media_conn(const struct sdp *sdp, size_t i);

/*
 * Direction of media section i: its own attribute, else the session's,
 * else sendrecv (RFC 4566 6).  Out-of-range i yields SDP_DIR_UNSET.
 * c=0.0.0.0 holds are not folded in; see sdp_conn.unspec.
 */
enum sdp_dir sdp_media_dir(const struct sdp *sdp, size_t i);

/* The format with payload type pt on RTP media section i, or NULL. */
const struct sdp_fmt *sdp_media_fmt(const struct sdp *sdp, size_t i,
	    uint8_t pt);

/*
 * Mapping of payload type pt on media section i: the a=rtpmap if there
 * is one, else the RFC 3551 static assignment (then encoding points to
 * a static string, not into buf).  Writes *ret only on success.
 * Returns 0, or -SBC_ENOTFOUND when pt is not on the m= line or is
 * dynamic without an rtpmap.
 */
int	sdp_media_rtpmap(const struct sdp *sdp, size_t i, uint8_t pt,
	    struct sdp_rtpmap *ret);

/*
 * Iterate the a=crypto lines of media section i in order: *cursor
 * starts at 0.  Returns the next line or NULL at the end (or for an
 * out-of-range i).
 */
const struct sdp_crypto *sdp_media_crypto_next(const struct sdp *sdp,
	    size_t i, size_t *cursor);

/*
 * Walk the ';'-separated key-params of a crypto line: *cur starts as
 * sdp_crypto.key_params.  Checks the grammar (inline method, base64,
 * lifetime, MKI), not the suite's key length.
 * Returns 1 with *ret filled, 0 at the end, -SBC_EPARSE when malformed.
 */
int	sdp_crypto_key_next(struct slice *cur, struct sdp_crypto_key *ret);

/*
 * Decoded key||salt length a suite requires (RFC 4568 6.2, RFC 6188,
 * RFC 7714 12), or 0 for SDP_SUITE_UNKNOWN.
 */
size_t	sdp_suite_key_len(enum sdp_suite suite);

/*
 * Decode base64 key||salt text into dst[0..cap).  The caller owns dst
 * and should wipe it (explicit_bzero) after use: it is key material.
 * Returns 0 and *ret_len, -SBC_EPARSE for bad base64, -SBC_ELIMIT when
 * it does not fit.
 */
int	sdp_crypto_key_decode(struct slice key_salt, uint8_t *dst,
	    size_t cap, size_t *ret_len);

/*
 * Next attribute named name (ASCII case-insensitive) in a, starting
 * at index *cursor (start at 0); advances *cursor past it.  Use it for
 * a=candidate, a=ssrc, a=extmap and whatever else was kept generic.
 * Returns NULL when there is no further one.
 */
const struct sdp_attr *sdp_attr_next(const struct sdp_attrs *a,
	    const char *name, size_t *cursor);

const char	*sdp_dir_name(enum sdp_dir dir);	/* "sendrecv", ... */
const char	*sdp_suite_name(enum sdp_suite suite);

#endif
