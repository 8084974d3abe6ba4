/*
 * The files a config names, by their contents (conf.h).  A renewed
 * certificate or an edited high-risk list changes no key of the config
 * itself, yet a reload must see it: this prints one more flat line per
 * file, "KEY.contents: DIGEST", for conf_diff to compare.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "conf/conf.h"

#define SUM_LEN	80	/* "sha256:" or "hmac:" and 64 hex digits */

/*
 * SHA-256 of the file at rel (relative to the config's directory), or
 * with fp_key an HMAC-SHA256 keyed by it: a private key's digest must
 * say "changed" and nothing else.
 */
static void
file_sum(const struct sw_conf *c, const char *rel, const uint8_t *fp_key,
    char out[SUM_LEN])
{
	char path[CONF_DIR_MAX + CONF_PATH_MAX + 2], buf[8192];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	EVP_MD_CTX *mctx = NULL;
	HMAC_CTX *hctx = NULL;
	FILE *f;
	size_t n;
	int ok;

	if (conf_path_resolve(c, rel, path, sizeof(path)) < 0) {
		snprintf(out, SUM_LEN, "unreadable: path too long");
		return;
	}
	if ((f = fopen(path, "r")) == NULL) {
		snprintf(out, SUM_LEN, "unreadable: %s", strerror(errno));
		return;
	}
	/* HMAC_CTX is deprecated in OpenSSL 3 but still the plain way to
	 * stream a keyed digest; EVP_MAC needs a fetch per call */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	if (fp_key != NULL)
		ok = (hctx = HMAC_CTX_new()) != NULL && HMAC_Init_ex(hctx,
		    fp_key, CONF_FP_KEY_LEN, EVP_sha256(), NULL) == 1;
	else
		ok = (mctx = EVP_MD_CTX_new()) != NULL &&
		    EVP_DigestInit_ex(mctx, EVP_sha256(), NULL) == 1;
	while (ok && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		ok = hctx != NULL ? HMAC_Update(hctx, (unsigned char *)buf,
		    n) == 1 : EVP_DigestUpdate(mctx, buf, n) == 1;
	ok = ok && !ferror(f) && (hctx != NULL ? HMAC_Final(hctx, md,
	    &mdlen) == 1 : EVP_DigestFinal_ex(mctx, md, &mdlen) == 1);
	HMAC_CTX_free(hctx);
#pragma GCC diagnostic pop
	EVP_MD_CTX_free(mctx);
	fclose(f);
	if (!ok) {
		snprintf(out, SUM_LEN, "unreadable: read error");
		return;
	}
	n = (size_t)snprintf(out, SUM_LEN, "%s", fp_key != NULL ? "hmac:" :
	    "sha256:");
	for (unsigned i = 0; i < mdlen && n + 3 <= SUM_LEN; i++)
		n += (size_t)snprintf(out + n, SUM_LEN - n, "%02x", md[i]);
}

/*
 * "NAME[I]WHAT.contents: DIGEST" (no [I] when i is SIZE_MAX); a secret
 * file only as a keyed digest, or not at all without a key.
 */
static void
line(FILE *f, const struct sw_conf *c, const char *rel, int secret,
    const uint8_t *key, const char *name, size_t i, const char *what)
{
	char sum[SUM_LEN], idx[24] = "";

	if (rel[0] == '\0')
		return;
	if (secret && key == NULL)
		snprintf(sum, sizeof(sum), "********");
	else
		file_sum(c, rel, secret ? key : NULL, sum);
	if (i != SIZE_MAX)
		snprintf(idx, sizeof(idx), "[%zu]", i);
	fprintf(f, "%s%s%s.contents: %s\n", name, idx, what, sum);
}

int
conf_print_files(FILE *f, const struct sw_conf *c, const uint8_t *fp_key)
{
	line(f, c, c->policy.high_risk_file, 0, NULL, "policy", SIZE_MAX,
	    ".high_risk_file");
	line(f, c, c->scanner.signatures, 0, NULL, "scanner", SIZE_MAX,
	    ".signatures");
	for (size_t i = 0; i < c->nlisten; i++) {
		const struct conf_listen *l = &c->listen[i];

		if (l->transport != CONF_TRANSPORT_TLS)
			continue;
		line(f, c, l->tls.cert, 0, NULL, "listen", i, ".tls.cert");
		line(f, c, l->tls.key, 1, fp_key, "listen", i, ".tls.key");
		line(f, c, l->tls.ca, 0, NULL, "listen", i, ".tls.ca");
	}
	for (size_t i = 0; i < c->ntrunks; i++)
		if (c->trunks[i].transport == CONF_TRANSPORT_TLS)
			line(f, c, c->trunks[i].tls_ca, 0, NULL, "trunks", i,
			    ".tls_ca");
	for (size_t i = 0; i < c->core.ntargets; i++)
		if (c->core.targets[i].transport == CONF_TRANSPORT_TLS)
			line(f, c, c->core.targets[i].tls_ca, 0, NULL,
			    "core.targets", i, ".tls_ca");
	return ferror(f) ? -EIO : 0;
}
