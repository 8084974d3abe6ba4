#include <errno.h>
#include <string.h>

#include "auth/digest.h"
#include "auth/digest_client.h"
#include "core/err.h"
#include "core/wbuf.h"
#include "sip/hdr.h"

/* Does the qop list of a challenge offer "auth"? */
static int
offers_auth(struct slice qop)
{
	struct slice cur = qop, tok;

	while (cur.len > 0) {
		ssize_t comma = slice_find(cur, ',');

		tok = comma >= 0 ? slice_sub(cur, 0, (size_t)comma) : cur;
		if (slice_eq_cstr_ci(slice_trim_lws(tok), "auth"))
			return 1;
		if (comma < 0)
			break;
		slice_skip(&cur, (size_t)comma + 1);
	}
	return 0;
}

int
digest_client_answer(const struct digest_answer_in *in, char *out, size_t cap)
{
	struct sip_auth ch;
	struct digest_cred c;
	enum digest_alg alg = DIGEST_ALG_MD5;
	char ha1[DIGEST_HEX_BUF], resp[DIGEST_HEX_BUF], nc[9];
	struct slice a, qop;
	struct wbuf w;
	int r, with_qop;

	if (sip_auth_parse(in->challenge, &ch) < 0 ||
	    !slice_eq_cstr_ci(ch.scheme, "Digest"))
		return -EINVAL;
	a = sip_auth_param(&ch, "algorithm");
	if (slice_set(a) && digest_alg_parse(a, &alg) < 0)
		return -EINVAL;
	qop = sip_auth_param(&ch, "qop");
	with_qop = slice_set(qop) && offers_auth(qop);
	if (slice_set(qop) && !with_qop)
		return -EINVAL;			/* auth-int only */
	memset(&c, 0, sizeof(c));
	c.username = in->username;
	c.realm = sip_auth_param(&ch, "realm");
	c.nonce = sip_auth_param(&ch, "nonce");
	c.uri = in->uri;
	c.method = in->method;
	c.opaque = sip_auth_param(&ch, "opaque");
	if (!slice_set(c.realm) || !slice_set(c.nonce) || c.nonce.len == 0)
		return -EINVAL;
	if (with_qop) {
		for (int i = 7; i >= 0; i--)
			nc[7 - i] = "0123456789abcdef"[(in->nc >> (4 * i)) & 15];
		nc[8] = '\0';
		c.nc = slice_cstr(nc);
		c.cnonce = in->cnonce;
		c.qop = slice_cstr("auth");
	}
	if ((r = digest_ha1(alg, in->username, c.realm, in->password, ha1)) < 0 ||
	    (r = digest_response(alg, slice_cstr(ha1), &c, resp)) < 0)
		return r;
	explicit_bzero(ha1, sizeof(ha1));
	wbuf_init(&w, out, cap - 1);
	wbuf_str(&w, "Digest username=\"");
	wbuf_slice(&w, in->username);
	wbuf_str(&w, "\", realm=\"");
	wbuf_slice(&w, c.realm);
	wbuf_str(&w, "\", nonce=\"");
	wbuf_slice(&w, c.nonce);
	wbuf_str(&w, "\", uri=\"");
	wbuf_slice(&w, in->uri);
	wbuf_fmt(&w, "\", response=\"%s\", algorithm=%s", resp,
	    digest_alg_name(alg));
	if (with_qop) {
		wbuf_fmt(&w, ", qop=auth, nc=%s, cnonce=\"", nc);
		wbuf_slice(&w, in->cnonce);
		wbuf_str(&w, "\"");
	}
	if (slice_set(c.opaque)) {
		wbuf_str(&w, ", opaque=\"");
		wbuf_slice(&w, c.opaque);
		wbuf_str(&w, "\"");
	}
	if (w.overflow)
		return -SBC_ELIMIT;
	out[w.n] = '\0';
	return 0;
}
