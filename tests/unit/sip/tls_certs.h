/*
 * Test certificates for the TLS unit tests, made with OpenSSL at run
 * time in a fresh temporary directory (nothing secret is checked in,
 * nothing expires in the tree): a CA, a server certificate for
 * 127.0.0.1 and "sip.test", a client certificate signed by the CA, a
 * second CA with a client of its own, and a key that matches nothing.
 * Header-only: included by test_tls.c and test_transport_tls.c.
 */
#ifndef SW_TEST_TLS_CERTS_H
#define SW_TEST_TLS_CERTS_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

struct certs {
	char	dir[64];
	char	ca[PATH_MAX];		/* CA certificate */
	char	srv_cert[PATH_MAX];	/* IP:127.0.0.1, DNS:sip.test */
	char	srv_key[PATH_MAX];
	char	cli_cert[PATH_MAX];	/* signed by ca */
	char	cli_key[PATH_MAX];
	char	ca2[PATH_MAX];		/* another CA */
	char	cli2_cert[PATH_MAX];	/* signed by ca2 */
	char	cli2_key[PATH_MAX];
	char	stray_key[PATH_MAX];	/* matches no certificate */
	char	garbage[PATH_MAX];	/* not PEM */
};

static int
certs_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v;
	X509_EXTENSION *e;
	int ok;

	X509V3_set_ctx_nodb(&v);
	X509V3_set_ctx(&v, issuer, x, NULL, NULL, 0);
	if ((e = X509V3_EXT_conf_nid(NULL, &v, nid, value)) == NULL)
		return -1;
	ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok ? 0 : -1;
}

/* A certificate for key, signed by (issuer, ikey) or by itself. */
static X509 *
certs_make(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey,
    int ca, const char *san)
{
	static long serial = 1;
	X509 *x = X509_new();
	X509_NAME *n;

	if (x == NULL)
		return NULL;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 2 * 86400);
	X509_set_pubkey(x, key);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : n);
	if (certs_ext(x, issuer != NULL ? issuer : x, NID_basic_constraints,
	    ca ? "critical,CA:TRUE" : "CA:FALSE") < 0 ||
	    certs_ext(x, issuer != NULL ? issuer : x, NID_key_usage, ca ?
	    "critical,keyCertSign,cRLSign" :
	    "critical,digitalSignature") < 0 ||
	    (san != NULL && certs_ext(x, issuer != NULL ? issuer : x,
	    NID_subject_alt_name, san) < 0) ||
	    !X509_sign(x, ikey != NULL ? ikey : key, EVP_sha256())) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static int
certs_write(const char *path, X509 *x, EVP_PKEY *k)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (f == NULL)
		return -1;
	ok = x != NULL ? PEM_write_X509(f, x) :
	    PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	return fclose(f) == 0 && ok ? 0 : -1;
}

static void
certs_path(const struct certs *c, char *out, const char *name)
{
	snprintf(out, PATH_MAX, "%s/%s", c->dir, name);
}

/* Make every file; 0 or -1. */
static int
certs_make_all(struct certs *c)
{
	EVP_PKEY *kca = EVP_EC_gen("P-256"), *ks = EVP_EC_gen("P-256");
	EVP_PKEY *kc = EVP_EC_gen("P-256"), *kca2 = EVP_EC_gen("P-256");
	EVP_PKEY *kc2 = EVP_EC_gen("P-256"), *kx = EVP_EC_gen("P-256");
	X509 *ca = NULL, *srv = NULL, *cli = NULL, *ca2 = NULL, *cli2 = NULL;
	FILE *f;
	int r = -1;

	snprintf(c->dir, sizeof(c->dir), "/tmp/sipwall-tls-XXXXXX");
	if (mkdtemp(c->dir) == NULL || !kca || !ks || !kc || !kca2 || !kc2 ||
	    !kx)
		goto out;
	certs_path(c, c->ca, "ca.pem");
	certs_path(c, c->srv_cert, "srv.pem");
	certs_path(c, c->srv_key, "srv.key");
	certs_path(c, c->cli_cert, "cli.pem");
	certs_path(c, c->cli_key, "cli.key");
	certs_path(c, c->ca2, "ca2.pem");
	certs_path(c, c->cli2_cert, "cli2.pem");
	certs_path(c, c->cli2_key, "cli2.key");
	certs_path(c, c->stray_key, "stray.key");
	certs_path(c, c->garbage, "garbage.pem");
	if ((ca = certs_make(kca, "test ca", NULL, NULL, 1, NULL)) == NULL ||
	    (srv = certs_make(ks, "sip.test", ca, kca, 0,
	    "IP:127.0.0.1,DNS:sip.test")) == NULL ||
	    (cli = certs_make(kc, "client", ca, kca, 0, NULL)) == NULL ||
	    (ca2 = certs_make(kca2, "other ca", NULL, NULL, 1, NULL)) == NULL ||
	    (cli2 = certs_make(kc2, "client2", ca2, kca2, 0, NULL)) == NULL)
		goto out;
	if (certs_write(c->ca, ca, NULL) < 0 ||
	    certs_write(c->srv_cert, srv, NULL) < 0 ||
	    certs_write(c->srv_key, NULL, ks) < 0 ||
	    certs_write(c->cli_cert, cli, NULL) < 0 ||
	    certs_write(c->cli_key, NULL, kc) < 0 ||
	    certs_write(c->ca2, ca2, NULL) < 0 ||
	    certs_write(c->cli2_cert, cli2, NULL) < 0 ||
	    certs_write(c->cli2_key, NULL, kc2) < 0 ||
	    certs_write(c->stray_key, NULL, kx) < 0)
		goto out;
	if ((f = fopen(c->garbage, "w")) == NULL)
		goto out;
	fputs("this is not a certificate\n", f);
	if (fclose(f) != 0)
		goto out;
	r = 0;
out:
	X509_free(ca);
	X509_free(srv);
	X509_free(cli);
	X509_free(ca2);
	X509_free(cli2);
	EVP_PKEY_free(kca);
	EVP_PKEY_free(ks);
	EVP_PKEY_free(kc);
	EVP_PKEY_free(kca2);
	EVP_PKEY_free(kc2);
	EVP_PKEY_free(kx);
	return r;
}

static void
certs_remove(struct certs *c)
{
	const char *f[] = { c->ca, c->srv_cert, c->srv_key, c->cli_cert,
	    c->cli_key, c->ca2, c->cli2_cert, c->cli2_key, c->stray_key,
	    c->garbage };

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		unlink(f[i]);
	rmdir(c->dir);
}

#endif
