/*
 * Digest as a client (AUTH5): sipwall answering a trunk provider's
 * 401/407 with its own credentials, for calls and for outbound
 * registration.  Pure: no sockets, the caller gives nc and cnonce.
 */
#ifndef SW_AUTH_DIGEST_CLIENT_H
#define SW_AUTH_DIGEST_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "core/slice.h"

struct digest_answer_in {
	struct slice	challenge;	/* the WWW-/Proxy-Authenticate value */
	struct slice	username;
	struct slice	password;
	struct slice	method;
	struct slice	uri;		/* the Request-URI we send */
	uint32_t	nc;
	struct slice	cnonce;
};

/*
 * The Authorization / Proxy-Authorization value answering one
 * challenge, into out[0..cap) NUL-terminated.  SHA-256 and MD5;
 * qop=auth when offered (else RFC 2069 form).  0, or -EINVAL when the
 * challenge is not a Digest we can answer (scheme, algorithm, qop
 * auth-int only, missing realm/nonce), -SBC_ELIMIT when out is short.
 */
int	digest_client_answer(const struct digest_answer_in *in, char *out,
	    size_t cap);

#endif
