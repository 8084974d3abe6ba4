/*
 * Unit tests for src/sip/tls.c: what a context refuses to be built
 * from, what a handshake refuses (versions, ciphers, names, missing or
 * foreign client certificates), the reasons it gives, and the memory
 * an idle server session holds.  Sessions talk through byte pipes in
 * memory; the peers that must be weaker than ours (TLS 1.1, CBC
 * ciphers) are raw OpenSSL clients on memory BIOs.
 */
#include <errno.h>
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "sip/tls.h"
#include "tls_certs.h"

#define PIPE_CAP	(64 * 1024)
#define ROUNDS		20	/* a handshake takes 2-3; bounded anyway */
#define MEM_SESSIONS	64
#define MEM_GOAL	(30 * 1024)	/* bytes per idle server session */

static struct certs C;

/* ---- counting OpenSSL's heap (single-threaded test) ---- */

static size_t ossl_live;

static void *
m_malloc(size_t n, const char *file, int line)
{
	void *p = malloc(n);

	(void)file;
	(void)line;
	if (p != NULL)
		ossl_live += malloc_usable_size(p);
	return p;
}

static void *
m_realloc(void *p, size_t n, const char *file, int line)
{
	size_t old = p != NULL ? malloc_usable_size(p) : 0;
	void *q = realloc(p, n);

	(void)file;
	(void)line;
	if (q != NULL)
		ossl_live += malloc_usable_size(q) - old;
	return q;
}

static void
m_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	if (p != NULL)
		ossl_live -= malloc_usable_size(p);
	free(p);
}

/* ---- one end of an in-memory connection ---- */

struct pipe {
	uint8_t	buf[PIPE_CAP];
	size_t	len;
};

struct end {
	struct tls_sess	*s;
	struct pipe	 out;		/* ciphertext it wrote */
	struct pipe	 pt;		/* plaintext it read */
	int		 hs;		/* handshake done */
	int		 rc;		/* <0: failed */
	int		 cert;
	char		 why[TLS_ERR_MAX];
};

static int
pipe_out(void *arg, const uint8_t *buf, size_t len)
{
	struct pipe *p = arg;

	if (p->len + len > sizeof(p->buf))
		return -1;
	memcpy(p->buf + p->len, buf, len);
	p->len += len;
	return 0;
}

static struct end *
end_new(struct tls_ctx *ctx, int server, const char *name)
{
	struct end *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	assert_int_equal(tls_sess_new(ctx, server, name, pipe_out, &e->out,
	    &e->s), 0);
	return e;
}

static void
end_free(struct end *e)
{
	if (e == NULL)
		return;
	tls_sess_free(e->s);
	free(e);
}

/* Give e the bytes in `in`, advance its handshake, read its plaintext. */
static void
end_step(struct end *e, struct pipe *in)
{
	static uint8_t tmp[PIPE_CAP];
	size_t n = in->len;
	ssize_t k;

	if (e->rc < 0)
		return;
	memcpy(tmp, in->buf, n);
	in->len = 0;
	tls_sess_feed(e->s, tmp, n);
	if (!e->hs) {
		e->rc = tls_sess_handshake(e->s, e->why, sizeof(e->why),
		    &e->cert);
		if (e->rc <= 0)
			return;
		e->hs = 1;
	}
	while ((k = tls_sess_read(e->s, e->pt.buf + e->pt.len,
	    sizeof(e->pt.buf) - e->pt.len, e->why, sizeof(e->why))) > 0)
		e->pt.len += (size_t)k;
	if (k < 0)
		e->rc = (int)k;
}

/* Run client c and server s until both are done or one failed. */
static void
pump(struct end *c, struct end *s)
{
	struct pipe none = { .len = 0 };

	end_step(c, &none);		/* the client speaks first */
	for (int i = 0; i < ROUNDS; i++) {
		end_step(s, &c->out);
		end_step(c, &s->out);
		if ((c->hs && s->hs && c->out.len == 0 && s->out.len == 0) ||
		    c->rc < 0 || s->rc < 0)
			break;
	}
	/* whatever the failing side wrote last (an alert) reaches the other */
	end_step(s, &c->out);
	end_step(c, &s->out);
}

static struct tls_ctx *
server_ctx(enum tls_version min, int verify, const char *ca)
{
	struct tls_opts o = { .cert = C.srv_cert, .key = C.srv_key,
	    .ca = ca, .verify_peer = verify, .min_version = min };
	struct tls_err e = { 0 };
	struct tls_ctx *ctx = NULL;

	assert_int_equal(tls_ctx_new(&o, 1, &ctx, &e), 0);
	return ctx;
}

static struct tls_ctx *
client_ctx(const char *ca, const char *cert, const char *key)
{
	struct tls_opts o = { .cert = cert, .key = key, .ca = ca };
	struct tls_err e = { 0 };
	struct tls_ctx *ctx = NULL;

	assert_int_equal(tls_ctx_new(&o, 0, &ctx, &e), 0);
	return ctx;
}

/* ---- contexts ---- */

static void
expect_ctx_error(const struct tls_opts *o, int server, enum tls_field f,
    const char *text)
{
	struct tls_err e = { 0 };
	struct tls_ctx *ctx = NULL;

	assert_true(tls_ctx_new(o, server, &ctx, &e) < 0);
	assert_null(ctx);
	if (e.field != f || strstr(e.msg, text) == NULL)
		fail_msg("field %d '%s', want field %d with '%s'", e.field,
		    e.msg, f, text);
}

static void
ctx_refuses_bad_files(void **state)
{
	struct tls_opts o = { .cert = C.srv_cert, .key = C.srv_key };
	char enc[PATH_MAX];
	EVP_PKEY *k = EVP_EC_gen("P-256");
	FILE *f;

	(void)state;
	certs_path(&C, enc, "enc.key");
	assert_non_null(k);
	assert_non_null(f = fopen(enc, "w"));
	assert_true(PEM_write_PrivateKey(f, k, EVP_aes_128_cbc(),
	    (const unsigned char *)"secret", 6, NULL, NULL));
	fclose(f);
	EVP_PKEY_free(k);
	o.cert = "/nonexistent/cert.pem";
	expect_ctx_error(&o, 1, TLS_F_CERT, "cannot read the certificate "
	    "/nonexistent/cert.pem: No such file or directory");
	o.cert = C.srv_cert;
	o.key = "/nonexistent/key.pem";
	expect_ctx_error(&o, 1, TLS_F_KEY, "cannot read the key");
	o.key = C.stray_key;
	expect_ctx_error(&o, 1, TLS_F_KEY, "does not match the certificate");
	o.key = C.srv_key;
	o.cert = C.garbage;
	expect_ctx_error(&o, 1, TLS_F_CERT, "no PEM certificate");
	o.cert = C.srv_cert;
	o.key = C.garbage;
	expect_ctx_error(&o, 1, TLS_F_KEY, "no unencrypted PEM private key");
	/* an encrypted key is refused, never prompted for */
	o.key = enc;
	expect_ctx_error(&o, 1, TLS_F_KEY, "no unencrypted PEM private key");
	unlink(enc);
	o.key = C.srv_key;
	o.verify_peer = 1;
	expect_ctx_error(&o, 1, TLS_F_CA, "needs a CA bundle");
	o.ca = C.garbage;
	expect_ctx_error(&o, 1, TLS_F_CA, "no PEM CA certificate");
	o.ca = "/nonexistent/ca.pem";
	expect_ctx_error(&o, 1, TLS_F_CA, "cannot read the CA bundle");
	o.ca = NULL;
	o.verify_peer = 0;
	o.cert = NULL;
	expect_ctx_error(&o, 1, TLS_F_CERT, "needs a certificate and a key");
	/* a client may go without a certificate, not with half of one */
	o.key = C.cli_key;
	expect_ctx_error(&o, 0, TLS_F_CERT, "a certificate needs its key");
}

static void
ctx_refuses_weak_ciphers(void **state)
{
	struct tls_opts o = { .cert = C.srv_cert, .key = C.srv_key };
	struct tls_ctx *ctx = NULL;
	struct tls_err e = { 0 };

	(void)state;
	o.ciphers = "AES128-SHA";
	expect_ctx_error(&o, 1, TLS_F_CIPHERS, "selects AES128-SHA, which is "
	    "not an AEAD suite");
	o.ciphers = "ECDHE-ECDSA-AES128-SHA256";	/* CBC, even with ECDHE */
	expect_ctx_error(&o, 1, TLS_F_CIPHERS, "not an AEAD suite");
	o.ciphers = "AES128-GCM-SHA256";		/* AEAD, no forward secrecy */
	expect_ctx_error(&o, 1, TLS_F_CIPHERS, "with ECDHE or DHE");
	o.ciphers = "NO-SUCH-CIPHER";
	expect_ctx_error(&o, 1, TLS_F_CIPHERS, "no cipher in 'NO-SUCH-CIPHER'");
	o.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256";
	assert_int_equal(tls_ctx_new(&o, 1, &ctx, &e), 0);
	tls_ctx_free(ctx);
	o.ciphers = NULL;		/* the default list passes its own check */
	assert_int_equal(tls_ctx_new(&o, 1, &ctx, &e), 0);
	tls_ctx_free(ctx);
}

/* ---- handshakes between our own ends ---- */

static void
default_handshake_is_tls13_both_ways(void **state)
{
	struct tls_ctx *sc = server_ctx(TLS_V1_2, 0, NULL);
	struct tls_ctx *cc = client_ctx(C.ca, NULL, NULL);
	struct end *s = end_new(sc, 1, NULL), *c = end_new(cc, 0, "127.0.0.1");
	static const char req[] = "OPTIONS sip:a SIP/2.0\r\n\r\n";
	static const char resp[] = "SIP/2.0 200 OK\r\n\r\n";

	(void)state;
	pump(c, s);
	assert_int_equal(c->rc, 1);
	assert_int_equal(s->rc, 1);
	assert_string_equal(tls_sess_version(s->s), "TLSv1.3");
	assert_string_equal(tls_sess_version(c->s), "TLSv1.3");
	assert_int_equal(tls_sess_write(c->s, (const uint8_t *)req,
	    sizeof(req) - 1), 0);
	end_step(s, &c->out);
	assert_int_equal(s->pt.len, sizeof(req) - 1);
	assert_memory_equal(s->pt.buf, req, sizeof(req) - 1);
	assert_int_equal(tls_sess_write(s->s, (const uint8_t *)resp,
	    sizeof(resp) - 1), 0);
	end_step(c, &s->out);
	assert_int_equal(c->pt.len, sizeof(resp) - 1);
	assert_memory_equal(c->pt.buf, resp, sizeof(resp) - 1);
	/* close_notify reads as -EPIPE on the other side */
	tls_sess_shutdown(c->s);
	end_step(s, &c->out);
	assert_int_equal(s->rc, -EPIPE);
	end_free(c);
	end_free(s);
	tls_ctx_free(cc);
	tls_ctx_free(sc);
}

/* Client c (with cc) against server sc: the two ends after the pump. */
static void
handshake(struct tls_ctx *sc, struct tls_ctx *cc, const char *name,
    struct end **ret_c, struct end **ret_s)
{
	*ret_s = end_new(sc, 1, NULL);
	*ret_c = end_new(cc, 0, name);
	pump(*ret_c, *ret_s);
}

/* cc (expecting name) against sc: one end refuses with why. */
static void
expect_refused(struct tls_ctx *sc, struct tls_ctx *cc, const char *name,
    int by_server, int cert, const char *why)
{
	struct end *c, *s, *e;

	handshake(sc, cc, name, &c, &s);
	e = by_server ? s : c;
	assert_true(e->rc < 0);
	assert_int_equal(e->cert, cert);
	assert_string_equal(e->why, why);
	end_free(c);
	end_free(s);
}

static void
expect_accepted(struct tls_ctx *sc, struct tls_ctx *cc, const char *name)
{
	struct end *c, *s;

	handshake(sc, cc, name, &c, &s);
	assert_int_equal(c->rc, 1);
	assert_int_equal(s->rc, 1);
	end_free(c);
	end_free(s);
}

static void
client_verifies_the_server(void **state)
{
	struct tls_ctx *sc = server_ctx(TLS_V1_2, 0, NULL);
	struct tls_ctx *cc = client_ctx(C.ca, NULL, NULL);
	struct tls_ctx *cc2 = client_ctx(C.ca2, NULL, NULL);
	struct end *c, *s;

	(void)state;
	expect_accepted(sc, cc, "sip.test");
	expect_accepted(sc, cc, "127.0.0.1");
	expect_refused(sc, cc, "other.test", 0, 1, "certificate verify failed "
	    "(hostname mismatch)");
	expect_refused(sc, cc, "127.0.0.2", 0, 1, "certificate verify failed "
	    "(IP address mismatch)");
	expect_refused(sc, cc2, "127.0.0.1", 0, 1, "certificate verify failed "
	    "(unable to get local issuer certificate)");
	/* the server hears of it through the client's alert */
	handshake(sc, cc, "other.test", &c, &s);
	assert_true(s->rc < 0);
	assert_int_equal(s->cert, 0);
	end_free(c);
	end_free(s);

	/* a client cannot go without a name to check */
	assert_int_equal(tls_sess_new(cc, 0, NULL, pipe_out, NULL,
	    &(struct tls_sess *){ NULL }), -EINVAL);
	/* nor use a server context */
	assert_int_equal(tls_sess_new(sc, 0, "sip.test", pipe_out, NULL,
	    &(struct tls_sess *){ NULL }), -EINVAL);
	tls_ctx_free(cc2);
	tls_ctx_free(cc);
	tls_ctx_free(sc);
}

static void
mutual_tls(void **state)
{
	struct tls_ctx *sc = server_ctx(TLS_V1_2, 1, C.ca);
	struct tls_ctx *none = client_ctx(C.ca, NULL, NULL);
	struct tls_ctx *good = client_ctx(C.ca, C.cli_cert, C.cli_key);
	struct tls_ctx *foreign = client_ctx(C.ca, C.cli2_cert, C.cli2_key);

	(void)state;
	expect_refused(sc, none, "127.0.0.1", 1, 1, "peer did not return a "
	    "certificate");
	expect_refused(sc, foreign, "127.0.0.1", 1, 1, "certificate verify "
	    "failed (unable to get local issuer certificate)");
	expect_accepted(sc, good, "127.0.0.1");
	tls_ctx_free(foreign);
	tls_ctx_free(good);
	tls_ctx_free(none);
	tls_ctx_free(sc);
}

/* ---- a raw OpenSSL client that offers less than we accept ---- */

struct raw {
	SSL_CTX	*ctx;
	SSL	*ssl;
	BIO	*rb, *wb;	/* what it reads, what it wrote */
};

static void
raw_new(struct raw *r, int min, int max, const char *ciphers)
{
	r->ctx = SSL_CTX_new(TLS_client_method());
	assert_non_null(r->ctx);
	/* the weak versions need security level 0 to be offered at all */
	SSL_CTX_set_security_level(r->ctx, 0);
	SSL_CTX_set_min_proto_version(r->ctx, min);
	SSL_CTX_set_max_proto_version(r->ctx, max);
	if (ciphers != NULL)
		assert_true(SSL_CTX_set_cipher_list(r->ctx, ciphers));
	r->ssl = SSL_new(r->ctx);
	r->rb = BIO_new(BIO_s_mem());
	r->wb = BIO_new(BIO_s_mem());
	SSL_set_bio(r->ssl, r->rb, r->wb);
	SSL_set_connect_state(r->ssl);
}

static void
raw_free(struct raw *r)
{
	SSL_free(r->ssl);
	SSL_CTX_free(r->ctx);
	ERR_clear_error();
}

static void
raw_pump(struct raw *r, struct end *s)
{
	for (int i = 0; i < ROUNDS && s->rc >= 0; i++) {
		struct pipe *p = &s->out, in;
		int n;

		SSL_do_handshake(r->ssl);
		ERR_clear_error();
		n = BIO_read(r->wb, in.buf, sizeof(in.buf));
		in.len = n > 0 ? (size_t)n : 0;
		end_step(s, &in);
		if (p->len > 0)
			BIO_write(r->rb, p->buf, (int)p->len);
		p->len = 0;
		if (s->hs && SSL_is_init_finished(r->ssl))
			break;
	}
}

static void
raw_case(struct tls_ctx *sc, int min, int max, const char *ciphers,
    int want_rc, const char *want_why)
{
	struct raw r;
	struct end *s = end_new(sc, 1, NULL);

	raw_new(&r, min, max, ciphers);
	raw_pump(&r, s);
	if (want_rc < 0) {
		assert_true(s->rc < 0);
		assert_string_equal(s->why, want_why);
	} else {
		assert_int_equal(s->rc, want_rc);
		assert_string_equal(tls_sess_version(s->s), want_why);
		/* TLS 1.2 with our default list: ECDHE and AEAD */
		assert_non_null(strstr(tls_sess_cipher(s->s), "ECDHE-"));
	}
	raw_free(&r);
	end_free(s);
}

static void
weak_clients_refused(void **state)
{
	struct tls_ctx *sc = server_ctx(TLS_V1_2, 0, NULL);
	struct tls_ctx *sc13 = server_ctx(TLS_V1_3, 0, NULL);

	(void)state;
	raw_case(sc, TLS1_VERSION, TLS1_1_VERSION, NULL, -1,
	    "unsupported protocol");
	raw_case(sc, TLS1_2_VERSION, TLS1_2_VERSION, "AES128-SHA", -1,
	    "no shared cipher");
	raw_case(sc, TLS1_2_VERSION, TLS1_2_VERSION,
	    "ECDHE-ECDSA-AES128-SHA256", -1, "no shared cipher");
	raw_case(sc, TLS1_2_VERSION, TLS1_2_VERSION, NULL, 1, "TLSv1.2");
	raw_case(sc13, TLS1_2_VERSION, TLS1_2_VERSION, NULL, -1,
	    "unsupported protocol");
	tls_ctx_free(sc13);
	tls_ctx_free(sc);
}

static void
renegotiation_refused(void **state)
{
	struct tls_ctx *sc = server_ctx(TLS_V1_2, 0, NULL);
	struct end *s = end_new(sc, 1, NULL);
	struct raw r;

	(void)state;
	raw_new(&r, TLS1_2_VERSION, TLS1_2_VERSION, NULL);
	raw_pump(&r, s);
	assert_int_equal(s->rc, 1);
	/* a second handshake from the client never completes */
	assert_true(SSL_renegotiate(r.ssl));
	raw_pump(&r, s);
	for (int i = 0; i < ROUNDS; i++) {
		char buf[64];

		SSL_read(r.ssl, buf, sizeof(buf));
		ERR_clear_error();
		raw_pump(&r, s);
	}
	assert_true(SSL_renegotiate_pending(r.ssl));
	raw_free(&r);
	end_free(s);
	tls_ctx_free(sc);
}

/* ---- memory ---- */

static void
idle_server_session_memory(void **state)
{
	struct tls_ctx *sc = server_ctx(TLS_V1_2, 0, NULL);
	struct tls_ctx *cc = client_ctx(C.ca, NULL, NULL);
	struct end *s[MEM_SESSIONS], *c;
	static const char req[] = "OPTIONS sip:a SIP/2.0\r\n"
	    "Content-Length: 0\r\n\r\n";
	size_t base, per;

	(void)state;
	base = ossl_live;
	for (size_t i = 0; i < MEM_SESSIONS; i++) {
		handshake(sc, cc, "127.0.0.1", &c, &s[i]);
		assert_int_equal(s[i]->rc, 1);
		/* one request and answer: the record buffers come and go */
		assert_int_equal(tls_sess_write(c->s, (const uint8_t *)req,
		    sizeof(req) - 1), 0);
		end_step(s[i], &c->out);
		assert_int_equal(tls_sess_write(s[i]->s, (const uint8_t *)req,
		    sizeof(req) - 1), 0);
		s[i]->out.len = 0;
		end_free(c);
	}
	per = (ossl_live - base) / MEM_SESSIONS;
	print_message("idle TLS 1.3 server session: %zu bytes of OpenSSL "
	    "heap (goal %d)\n", per, MEM_GOAL);
	assert_true(per <= MEM_GOAL);
	for (size_t i = 0; i < MEM_SESSIONS; i++)
		end_free(s[i]);
	tls_ctx_free(cc);
	tls_ctx_free(sc);
}

static int
setup(void **state)
{
	(void)state;
	return certs_make_all(&C);
}

/* tls.cert_expiring's input: seconds to notAfter (the test
 * certificates live two days) and the subject; none for a client
 * without a certificate. */
static void
cert_expiry(void **state)
{
	struct tls_ctx *sc = server_ctx(TLS_V1_2, 0, NULL);
	struct tls_ctx *cc = client_ctx(C.ca, NULL, NULL);
	int64_t now = (int64_t)time(NULL), left = 0;
	char subject[64];

	(void)state;
	assert_int_equal(tls_ctx_cert_expiry(sc, now, &left, subject,
	    sizeof(subject)), 0);
	/* the certificates were made (2 days) moments ago, on this clock */
	assert_true(left > 2 * 86400 - 600 && left <= 2 * 86400 + 5);
	assert_string_equal(subject, "/CN=sip.test");
	assert_int_equal(tls_ctx_cert_expiry(sc, now + 3 * 86400, &left, NULL,
	    0), 0);
	assert_true(left <= -86400 + 5 && left > -86400 - 600);
	assert_int_equal(tls_ctx_cert_expiry(cc, now, &left, subject,
	    sizeof(subject)), -ENOENT);
	assert_int_equal(tls_ctx_cert_expiry(NULL, now, &left, NULL, 0),
	    -ENOENT);
	tls_ctx_free(sc);
	tls_ctx_free(cc);
}

/* A renewed certificate: sessions made before the swap finish with the
 * old one, sessions made after get the new one; a client context
 * cannot replace a server's. */
static void
adopt_swaps_for_new_sessions_only(void **state)
{
	struct tls_ctx *sc = server_ctx(TLS_V1_2, 0, NULL);
	struct tls_ctx *cc = client_ctx(C.ca, NULL, NULL);
	struct tls_ctx *renewed = NULL, *wrong = client_ctx(C.ca, NULL, NULL);
	struct tls_opts o = { .cert = C.cli2_cert, .key = C.cli2_key };
	struct tls_err e = { 0 };
	struct end *s_old = end_new(sc, 1, NULL), *c_old, *c, *s;
	int64_t left;
	char subject[64];

	(void)state;
	assert_int_equal(tls_ctx_new(&o, 1, &renewed, &e), 0);
	assert_int_equal(tls_ctx_adopt(sc, wrong), -EINVAL);
	tls_ctx_free(wrong);
	assert_int_equal(tls_ctx_adopt(sc, renewed), 0);
	assert_int_equal(tls_ctx_cert_expiry(sc, (int64_t)time(NULL), &left,
	    subject, sizeof(subject)), 0);
	assert_string_equal(subject, "/CN=client2");
	/* made before the swap: the old certificate, which cc trusts */
	c_old = end_new(cc, 0, "sip.test");
	pump(c_old, s_old);
	assert_int_equal(c_old->rc, 1);
	assert_int_equal(s_old->rc, 1);
	/* made after: the new one, from a CA cc does not trust */
	handshake(sc, cc, "sip.test", &c, &s);
	assert_true(c->rc < 0);
	assert_non_null(strstr(c->why, "certificate"));
	end_free(c);
	end_free(s);
	end_free(c_old);
	end_free(s_old);
	tls_ctx_free(cc);
	tls_ctx_free(sc);
}

static int
teardown(void **state)
{
	(void)state;
	certs_remove(&C);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ctx_refuses_bad_files),
		cmocka_unit_test(ctx_refuses_weak_ciphers),
		cmocka_unit_test(default_handshake_is_tls13_both_ways),
		cmocka_unit_test(client_verifies_the_server),
		cmocka_unit_test(mutual_tls),
		cmocka_unit_test(weak_clients_refused),
		cmocka_unit_test(renegotiation_refused),
		cmocka_unit_test(idle_server_session_memory),
		cmocka_unit_test(cert_expiry),
		cmocka_unit_test(adopt_swaps_for_new_sessions_only),
	};

	/* before OpenSSL allocates anything */
	if (!CRYPTO_set_mem_functions(m_malloc, m_realloc, m_free))
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
