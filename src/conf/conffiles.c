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
#include <openssl/core_names.h>
#include <openssl/params.h>

#include "conf/conf.h"

#define SUM_LEN	80	/* "sha256:" or "hmac:" and 64 hex digits */

/*
 * SHA-256 of the file at rel (relative to the config's directory), or
 * with fp_key an HMAC-SHA256 keyed by it: a private key's digest must
 * say "changed" and nothing else.
 */
/* One digest, plain (SHA-256) or keyed (HMAC-SHA256), fed in pieces. */
struct sum {
	EVP_MD_CTX	*md;
	EVP_MAC		*mac;
	EVP_MAC_CTX	*mctx;
};

static int
sum_init(struct sum *s, const uint8_t *key)
{
	OSSL_PARAM p[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
		    (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};

	memset(s, 0, sizeof(*s));
	if (key == NULL)
		return (s->md = EVP_MD_CTX_new()) != NULL &&
		    EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) == 1;
	return (s->mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) != NULL &&
	    (s->mctx = EVP_MAC_CTX_new(s->mac)) != NULL &&
	    EVP_MAC_init(s->mctx, key, CONF_FP_KEY_LEN, p) == 1;
}

static int
sum_update(struct sum *s, const void *buf, size_t n)
{
	return s->md != NULL ? EVP_DigestUpdate(s->md, buf, n) == 1 :
	    EVP_MAC_update(s->mctx, buf, n) == 1;
}

static int
sum_final(struct sum *s, unsigned char *md, size_t cap, size_t *ret_n)
{
	unsigned n = 0;

	if (s->md != NULL) {
		if (cap < EVP_MAX_MD_SIZE ||
		    EVP_DigestFinal_ex(s->md, md, &n) != 1)
			return 0;
		*ret_n = n;
		return 1;
	}
	return EVP_MAC_final(s->mctx, md, ret_n, cap) == 1;
}

static void
sum_free(struct sum *s)
{
	EVP_MD_CTX_free(s->md);
	EVP_MAC_CTX_free(s->mctx);
	EVP_MAC_free(s->mac);
}

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
	size_t n, mdlen = 0;
	struct sum s;
	FILE *f;
	int ok;

	if (conf_path_resolve(c, rel, path, sizeof(path)) < 0) {
		snprintf(out, SUM_LEN, "unreadable: path too long");
		return;
	}
	if ((f = fopen(path, "r")) == NULL) {
		snprintf(out, SUM_LEN, "unreadable: %s", strerror(errno));
		return;
	}
	ok = sum_init(&s, fp_key);
	while (ok && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		ok = sum_update(&s, buf, n);
	ok = ok && !ferror(f) && sum_final(&s, md, sizeof(md), &mdlen);
	sum_free(&s);
	fclose(f);
	if (!ok) {
		snprintf(out, SUM_LEN, "unreadable: read error");
		return;
	}
	n = (size_t)snprintf(out, SUM_LEN, "%s", fp_key != NULL ? "hmac:" :
	    "sha256:");
	for (size_t i = 0; i < mdlen && n + 3 <= SUM_LEN; i++)
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
