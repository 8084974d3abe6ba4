/*
 * SDP rewriting for media anchoring (MEDIA1, MEDIA2): from a body that
 * sip/sdp.c parsed, build the body one leg of the B2BUA sends to the
 * other, with our media address and ports in place of the endpoint's.
 *
 * Owns: the rewrite (c=, o=, m= port and proto, a=rtcp, a=crypto,
 * dropping ICE and DTLS-SRTP, scrubbing anything that still looks like
 * an address) and reading back where a media section's RTP and RTCP
 * should be sent.  Pure functions over caller buffers: nothing here
 * allocates, logs, keeps state or writes to the input.
 *
 * Deliberately not here: choosing ports (media/portpool), generating
 * keys (media/srtp), offer/answer state and policy on codecs or crypto
 * suites (sip/ and policy/ decide; this only writes what it is told).
 *
 * Layering note: this is the one place media/ reads sip/'s parsed SDP
 * type; sip/sdp.h depends on core/ only, so no cycle arises.
 */
#ifndef SW_MEDIA_SDP_REWRITE_H
#define SW_MEDIA_SDP_REWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/addr.h"
#include "sip/sdp.h"

#define SDP_RW_MAX_USER		64	/* o= username we write, bytes */
#define SDP_RW_MAX_CRYPTO	256	/* a=crypto value we write, bytes */

/* What to do with the m= proto of a section. */
enum sdp_rw_proto {
	SDP_RW_PROTO_KEEP = 0,	/* as offered (udptl, TCP/MSRP, ...) */
	SDP_RW_PROTO_RTP,	/* RTP/AVP, or RTP/AVPF for an AVPF family */
	SDP_RW_PROTO_SRTP,	/* RTP/SAVP, or RTP/SAVPF for an AVPF family */
	SDP_RW_PROTO__MAX
};

/* Our side of one media section, in the order of the input's m= lines. */
struct sdp_rewrite_media {
	uint16_t	 port;		/* our RTP port; unused when !keep */
	uint16_t	 rtcp_port;	/* 0: port + 1 */
	bool		 keep;		/* false: port 0, a rejected stream */
	uint8_t		 proto;		/* enum sdp_rw_proto */
	/*
	 * NULL: every a=crypto is dropped.  Otherwise the value of the one
	 * a=crypto line that replaces them, e.g.
	 * "1 AES_CM_128_HMAC_SHA1_80 inline:<base64>"; printable ASCII,
	 * at most SDP_RW_MAX_CRYPTO bytes.  Key material: the caller
	 * wipes it and the output buffer when done with them.
	 */
	const char	*crypto;
};

struct sdp_rewrite {
	const char	*addr;		/* our media address, IPv4 or IPv6 */
	const char	*origin_user;	/* o= username; NULL: "-" */
	uint64_t	 sess_id;
	uint64_t	 sess_version;	/* the caller bumps it per new body */
	size_t		 nmedia;	/* must equal the input's nmedia */
	struct sdp_rewrite_media media[SDP_MAX_MEDIA];
};

/*
 * Rewrite the body that in was parsed from (in->buf[0..in->len); it must
 * still be valid, and in must come from a successful sdp_parse()) into
 * out[0..cap).  Line by line, in order:
 *   v= t= copied; o= becomes "o=<user> <id> <ver> IN IP4|IP6 <addr>";
 *   s= copied, or "s=-" if it names an address;
 *   every c= becomes "c=IN IP4|IP6 <addr>" -- except an unspecified
 *     address (0.0.0.0 or ::), which is the old-style hold of RFC 3264
 *     8.4 and is written as the unspecified address of our family, so
 *     the hold survives and no address leaks; a kept section that had
 *     no c= of its own nor a session one gets one after m= (and i=);
 *   m= keeps media and formats, gets our port (0 when !keep; a
 *     "/<count>" is dropped: we anchor one stream per m= line) and the
 *     proto asked for;
 *   a=rtcp becomes "a=rtcp:<port>" (its address dropped); one is added
 *     at the end of the section when the input had none and rtcp_port
 *     is not port + 1; a rejected section gets none;
 *   a=crypto lines become the one given (where the first one was, or
 *     added at the end of the section) or are all dropped; a rejected
 *     section gets none (a key for a stream nobody sends is a waste);
 *   dropped anywhere: ICE (a=candidate, remote-candidates,
 *     end-of-candidates, ice-*), DTLS-SRTP (fingerprint, setup, tls-id),
 *     key-mgmt, BUNDLE (group:BUNDLE, bundle-only: we give each m= its
 *     own port), session-level a=crypto and a=rtcp (meaningless there,
 *     and a key or an address), k= and unknown line types;
 *   everything else (b= i= u= e= p= r= z= and other a= lines) copied
 *     byte for byte in order, unless it contains something that looks
 *     like an IPv4 or IPv6 address (or the o= host name): then dropped;
 *   every line ends in CRLF, whatever the input used; trailing blank
 *     lines are dropped.
 * Nothing is written at or past out + cap; on error out holds junk.
 * Returns the output length, or
 *   -EINVAL    bad arguments: rw->nmedia != in->nmedia, a bad address,
 *              user or crypto value, keep with port 0 or without formats,
 *              rtcp port past 65535, SRTP without crypto, a proto change
 *              on a non-RTP section, DTLS-SRTP kept as is;
 *   -EBADMSG   an m= line itself carries an address (cannot be hidden);
 *   -EMSGSIZE  a section would exceed SDP_MAX_ATTRS a= lines;
 *   -ENOSPC    out is too small.
 */
ssize_t	sdp_rewrite(const struct sdp *in, const struct sdp_rewrite *rw,
	    uint8_t *out, size_t cap);

/*
 * Where the endpoint wants media section i sent.  rtp is the effective
 * c= (the section's own, else the session's) with the m= port.  rtcp is
 * where RTCP goes with what the body says: the RTP address and port
 * when a=rtcp-mux is present, else as rtcp_nomux.  rtcp_nomux is the
 * a=rtcp port (and address, if it has one) or port + 1 -- what applies
 * if an offered rtcp-mux is not accepted; its port is 0 when none can
 * be derived (RTP on 65535 without a=rtcp).
 * hold: the address is 0.0.0.0 or :: (RFC 3264 8.4): send nothing.
 * multicast: a multicast c=; policy should refuse to relay to it.
 * Writes *ret only on success.  Returns 0, -EINVAL when i is out of
 * range or an address does not convert, -ENOENT when the section is
 * disabled (port 0) or has no address.
 */
struct sdp_media_remote {
	union sw_addr	rtp;
	union sw_addr	rtcp;
	union sw_addr	rtcp_nomux;
	uint8_t		rtcp_mux;
	uint8_t		hold;
	uint8_t		multicast;
};

int	sdp_media_remote(const struct sdp *s, size_t i,
	    struct sdp_media_remote *ret);

#endif
