/*
 * TLS contexts and sessions on OpenSSL 3 (see tls.h for the contract).
 *
 * A session talks to OpenSSL through one BIO of our own: its read side
 * hands out the bytes the caller fed (no copy kept), its write side
 * passes records straight to the caller's output function.  Memory
 * BIOs would do the same job with two growable buffers per connection;
 * this keeps an idle connection down to the SSL object itself.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "sip/tls.h"

/* A session ID context is required for resumption with client certs. */
#define TLS_SID_CTX	"sipwall"
#define TLS_VERIFY_DEPTH 8
#define TLS_TICKETS	1	/* TLS 1.3 tickets sent after a handshake */

struct tls_ctx {
	/* new sessions take a reference under mu; tls_ctx_adopt swaps it */
	pthread_mutex_t	 mu;
	SSL_CTX		*ssl;
	int		 server;
};

struct tls_sess {
	SSL		*ssl;
	const uint8_t	*in;		/* fed ciphertext not yet read */
	size_t		 in_len;
	tls_out_fn	*out;
	void		*arg;
	int		 shut;
};

/* ---- the BIO ---- */

static BIO_METHOD *bio_meth;
static pthread_once_t bio_once = PTHREAD_ONCE_INIT;

static int
bio_write(BIO *b, const char *buf, int len)
{
	struct tls_sess *s = BIO_get_data(b);

	BIO_clear_retry_flags(b);
	if (len <= 0)
		return 0;
	if (s->out(s->arg, (const uint8_t *)buf, (size_t)len) < 0)
		return -1;
	return len;
}

static int
bio_read(BIO *b, char *buf, int len)
{
	struct tls_sess *s = BIO_get_data(b);
	size_t n;

	BIO_clear_retry_flags(b);
	if (len <= 0)
		return 0;
	if (s->in_len == 0) {
		/* not EOF: the stream layer reports a closed socket itself */
		BIO_set_retry_read(b);
		return -1;
	}
	n = s->in_len < (size_t)len ? s->in_len : (size_t)len;
	memcpy(buf, s->in, n);
	s->in += n;
	s->in_len -= n;
	return (int)n;
}

static long
bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct tls_sess *s = BIO_get_data(b);

	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;	/* every write already went out */
	case BIO_CTRL_PENDING:
		return s != NULL ? (long)s->in_len : 0;
	default:
		return 0;
	}
}

static int
bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static void
bio_meth_init(void)
{
	BIO_METHOD *m;

	m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
	    "sipwall stream");
	if (m == NULL)
		return;
	if (!BIO_meth_set_write(m, bio_write) ||
	    !BIO_meth_set_read(m, bio_read) ||
	    !BIO_meth_set_ctrl(m, bio_ctrl) ||
	    !BIO_meth_set_create(m, bio_create)) {
		BIO_meth_free(m);
		return;
	}
	bio_meth = m;	/* lives as long as the process */
}

/* ---- contexts ---- */

static void tls_errf(struct tls_err *e, enum tls_field f, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
tls_errf(struct tls_err *e, enum tls_field f, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return;
	e->field = f;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

/*
 * The reason of OpenSSL's first error, then the queue is cleared: when
 * a file does not load, the first error says why ("no start line"),
 * the later ones only where ("PEM lib").
 */
static const char *
ssl_reason(void)
{
	unsigned long e = ERR_peek_error();
	const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

	ERR_clear_error();
	return r != NULL ? r : "unknown error";
}

/* Can we read it?  A clear message before OpenSSL's terse one. */
static int
file_readable(const char *path, enum tls_field f, const char *what,
    struct tls_err *e)
{
	FILE *fp;
	int r;

	if ((fp = fopen(path, "r")) == NULL) {
		r = -errno;
		tls_errf(e, f, "cannot read the %s %s: %s", what, path,
		    strerror(-r));
		return r;
	}
	fclose(fp);
	return 0;
}

/* Encrypted keys would make OpenSSL prompt on the terminal: refuse. */
static int
no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/*
 * Every TLS 1.2 suite the list selects must be AEAD with forward
 * secrecy; TLS 1.3 suites (key exchange "any") are AEAD by design.
 */
static int
ciphers_check(SSL_CTX *ctx, const char *list, struct tls_err *e)
{
	STACK_OF(SSL_CIPHER) *sk;
	int n12 = 0;

	if (!SSL_CTX_set_cipher_list(ctx, list)) {
		ERR_clear_error();
		tls_errf(e, TLS_F_CIPHERS, "no cipher in '%s' is known to "
		    "OpenSSL", list);
		return -EINVAL;
	}
	sk = SSL_CTX_get_ciphers(ctx);
	for (int i = 0; sk != NULL && i < sk_SSL_CIPHER_num(sk); i++) {
		const SSL_CIPHER *c = sk_SSL_CIPHER_value(sk, i);
		int kx = SSL_CIPHER_get_kx_nid(c);

		if (kx == NID_kx_any)
			continue;
		if (!SSL_CIPHER_is_aead(c) || (kx != NID_kx_ecdhe &&
		    kx != NID_kx_dhe) ||
		    SSL_CIPHER_get_auth_nid(c) == NID_auth_null) {
			tls_errf(e, TLS_F_CIPHERS, "'%s' selects %s, which is "
			    "not an AEAD suite with ECDHE or DHE key exchange "
			    "(allowed: ECDHE/DHE with AES-GCM, AES-CCM or "
			    "CHACHA20-POLY1305)", list, SSL_CIPHER_get_name(c));
			return -EINVAL;
		}
		n12++;
	}
	if (n12 == 0) {
		tls_errf(e, TLS_F_CIPHERS, "'%s' selects no TLS 1.2 cipher",
		    list);
		return -EINVAL;
	}
	return 0;
}

static int
ctx_keys(SSL_CTX *ctx, const struct tls_opts *o, struct tls_err *e)
{
	int r;

	if ((r = file_readable(o->cert, TLS_F_CERT, "certificate", e)) < 0 ||
	    (r = file_readable(o->key, TLS_F_KEY, "key", e)) < 0)
		return r;
	if (!SSL_CTX_use_certificate_chain_file(ctx, o->cert)) {
		tls_errf(e, TLS_F_CERT, "no PEM certificate in %s (%s)",
		    o->cert, ssl_reason());
		return -EINVAL;
	}
	if (!SSL_CTX_use_PrivateKey_file(ctx, o->key, SSL_FILETYPE_PEM)) {
		unsigned long err = ERR_peek_last_error();

		/* OpenSSL compares the key with the certificate here too */
		if (ERR_GET_LIB(err) != ERR_LIB_X509 ||
		    ERR_GET_REASON(err) != X509_R_KEY_VALUES_MISMATCH) {
			tls_errf(e, TLS_F_KEY, "no unencrypted PEM private key "
			    "in %s (%s)", o->key, ssl_reason());
			return -EINVAL;
		}
	} else if (SSL_CTX_check_private_key(ctx))
		return 0;
	ERR_clear_error();
	tls_errf(e, TLS_F_KEY, "the key in %s does not match the certificate "
	    "in %s", o->key, o->cert);
	return -EINVAL;
}

static int
ctx_ca(SSL_CTX *ctx, const struct tls_opts *o, int server, struct tls_err *e)
{
	STACK_OF(X509_NAME) *names;
	int r;

	if (o->ca == NULL) {
		if (server)
			return 0;
		if (!SSL_CTX_set_default_verify_paths(ctx)) {
			tls_errf(e, TLS_F_CA, "cannot load the system CA "
			    "certificates (%s)", ssl_reason());
			return -EINVAL;
		}
		return 0;
	}
	if ((r = file_readable(o->ca, TLS_F_CA, "CA bundle", e)) < 0)
		return r;
	if (!SSL_CTX_load_verify_locations(ctx, o->ca, NULL)) {
		tls_errf(e, TLS_F_CA, "no PEM CA certificate in %s (%s)", o->ca,
		    ssl_reason());
		return -EINVAL;
	}
	if (server && o->verify_peer) {
		/* tell clients which CAs we accept */
		if ((names = SSL_load_client_CA_file(o->ca)) == NULL) {
			tls_errf(e, TLS_F_CA, "no CA names in %s (%s)", o->ca,
			    ssl_reason());
			return -EINVAL;
		}
		SSL_CTX_set_client_CA_list(ctx, names);
	}
	return 0;
}

int
tls_ctx_new(const struct tls_opts *o, int server, struct tls_ctx **ret,
    struct tls_err *reterr)
{
	struct tls_ctx *t;
	SSL_CTX *ctx;
	int r;

	if (server && (o->cert == NULL || o->key == NULL)) {
		tls_errf(reterr, o->cert == NULL ? TLS_F_CERT : TLS_F_KEY,
		    "a TLS server needs a certificate and a key");
		return -EINVAL;
	}
	if ((o->cert == NULL) != (o->key == NULL)) {
		tls_errf(reterr, o->cert == NULL ? TLS_F_CERT : TLS_F_KEY,
		    "a certificate needs its key and a key its certificate");
		return -EINVAL;
	}
	if (server && o->verify_peer && o->ca == NULL) {
		tls_errf(reterr, TLS_F_CA, "verifying client certificates "
		    "needs a CA bundle");
		return -EINVAL;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		tls_errf(reterr, TLS_F_NONE, "out of memory");
		return -ENOMEM;
	}
	ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (ctx == NULL) {
		free(t);
		tls_errf(reterr, TLS_F_NONE, "cannot create a TLS context (%s)",
		    ssl_reason());
		return -ENOMEM;
	}
	pthread_mutex_init(&t->mu, NULL);
	t->ssl = ctx;
	t->server = server;
	SSL_CTX_set_min_proto_version(ctx, o->min_version == TLS_V1_3 ?
	    TLS1_3_VERSION : TLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(ctx, 0);	/* the highest: 1.3 */
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
	    SSL_OP_NO_SSLv3);
	/* buffers only while a record is in flight: idle costs nothing */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_default_passwd_cb(ctx, no_password);
	SSL_CTX_set_dh_auto(ctx, 1);
	SSL_CTX_set_verify_depth(ctx, TLS_VERIFY_DEPTH);
	if (server) {
		/* stateless tickets resume sessions; a server-side cache
		 * would be memory a client can make us fill */
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
		SSL_CTX_set_num_tickets(ctx, TLS_TICKETS);
		SSL_CTX_set_session_id_context(ctx,
		    (const unsigned char *)TLS_SID_CTX, sizeof(TLS_SID_CTX) - 1);
		SSL_CTX_set_verify(ctx, o->verify_peer ? SSL_VERIFY_PEER |
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT : SSL_VERIFY_NONE, NULL);
		/* a peer known by its certificate: the chain alone is not
		 * enough, it must name one of these (checked like a
		 * client checks a server's name) */
		for (size_t i = 0; i < o->npeer_names; i++) {
			X509_VERIFY_PARAM *vp = SSL_CTX_get0_param(ctx);

			X509_VERIFY_PARAM_set_hostflags(vp,
			    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
			if (!X509_VERIFY_PARAM_add1_host(vp, o->peer_names[i],
			    0)) {
				tls_errf(reterr, TLS_F_NONE, "peer name '%s' "
				    "refused by OpenSSL", o->peer_names[i]);
				tls_ctx_free(t);
				return -EINVAL;
			}
		}
	} else
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if ((r = ciphers_check(ctx, o->ciphers != NULL ? o->ciphers :
	    TLS_CIPHERS_DEFAULT, reterr)) < 0 ||
	    (o->cert != NULL && (r = ctx_keys(ctx, o, reterr)) < 0) ||
	    (r = ctx_ca(ctx, o, server, reterr)) < 0) {
		tls_ctx_free(t);
		return r;
	}
	*ret = t;
	return 0;
}

void
tls_ctx_free(struct tls_ctx *ctx)
{
	if (ctx == NULL)
		return;
	SSL_CTX_free(ctx->ssl);
	pthread_mutex_destroy(&ctx->mu);
	free(ctx);
}

int
tls_ctx_adopt(struct tls_ctx *ctx, struct tls_ctx *from)
{
	SSL_CTX *old;

	if (ctx == NULL || from == NULL || ctx->server != from->server)
		return -EINVAL;
	pthread_mutex_lock(&ctx->mu);
	old = ctx->ssl;
	ctx->ssl = from->ssl;
	pthread_mutex_unlock(&ctx->mu);
	/* sessions made from the old one hold references of their own */
	SSL_CTX_free(old);
	from->ssl = NULL;
	tls_ctx_free(from);
	return 0;
}

static int
cert_expiry(X509 *x, int64_t now, int64_t *ret_left_s, char *subject,
    size_t cap)
{
	const ASN1_TIME *na;
	struct tm tm;
	time_t end;

	if ((na = X509_get0_notAfter(x)) == NULL ||
	    ASN1_TIME_to_tm(na, &tm) != 1 || (end = timegm(&tm)) == (time_t)-1)
		return -EINVAL;
	if (subject != NULL && cap > 0 &&
	    X509_NAME_oneline(X509_get_subject_name(x), subject,
	    cap > INT_MAX ? INT_MAX : (int)cap) == NULL)
		subject[0] = '\0';
	*ret_left_s = (int64_t)end - now;
	return 0;
}

int
tls_ctx_cert_expiry(struct tls_ctx *ctx, int64_t now, int64_t *ret_left_s,
    char *subject, size_t cap)
{
	X509 *x = NULL;
	int r;

	if (ctx == NULL)
		return -ENOENT;
	pthread_mutex_lock(&ctx->mu);
	if ((x = SSL_CTX_get0_certificate(ctx->ssl)) != NULL)
		X509_up_ref(x);
	pthread_mutex_unlock(&ctx->mu);
	if (x == NULL)
		return -ENOENT;
	r = cert_expiry(x, now, ret_left_s, subject, cap);
	X509_free(x);
	return r;
}

/* ---- sessions ---- */

int
tls_sess_new(struct tls_ctx *ctx, int server, const char *name,
    tls_out_fn *out, void *arg, struct tls_sess **ret)
{
	struct tls_sess *s;
	unsigned char ip[sizeof(struct in6_addr)];
	BIO *b;

	if (server != ctx->server || (!server && (name == NULL ||
	    name[0] == '\0')))
		return -EINVAL;
	pthread_once(&bio_once, bio_meth_init);
	if (bio_meth == NULL)
		return -ENOMEM;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	s->out = out;
	s->arg = arg;
	pthread_mutex_lock(&ctx->mu);
	s->ssl = SSL_new(ctx->ssl);
	pthread_mutex_unlock(&ctx->mu);
	if (s->ssl == NULL ||
	    (b = BIO_new(bio_meth)) == NULL) {
		ERR_clear_error();
		tls_sess_free(s);
		return -ENOMEM;
	}
	BIO_set_data(b, s);
	SSL_set_bio(s->ssl, b, b);	/* one reference, owned by the SSL */
	if (server) {
		SSL_set_accept_state(s->ssl);
		*ret = s;
		return 0;
	}
	SSL_set_connect_state(s->ssl);
	if (inet_pton(AF_INET, name, ip) == 1 ||
	    inet_pton(AF_INET6, name, ip) == 1) {
		if (!X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s->ssl),
		    name))
			goto fail;
	} else {
		SSL_set_hostflags(s->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (!SSL_set1_host(s->ssl, name) ||
		    !SSL_set_tlsext_host_name(s->ssl, name))
			goto fail;
	}
	*ret = s;
	return 0;
fail:
	ERR_clear_error();
	tls_sess_free(s);
	return -EINVAL;
}

void
tls_sess_free(struct tls_sess *s)
{
	if (s == NULL)
		return;
	SSL_free(s->ssl);	/* and the BIO */
	free(s);
}

void
tls_sess_feed(struct tls_sess *s, const uint8_t *buf, size_t len)
{
	s->in = buf;
	s->in_len = buf != NULL ? len : 0;
}

/* Why the last operation failed; *ret_cert when we refused a certificate. */
static void
sess_failure(struct tls_sess *s, int ret, char *why, size_t cap, int *ret_cert)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;
	int reason = e != 0 ? ERR_GET_REASON(e) : 0;
	long v;

	if (ret_cert != NULL)
		*ret_cert = 0;
	if (r == NULL) {
		/* SSL_ERROR_SYSCALL: our BIO's output failed */
		snprintf(why, cap, "%s", SSL_get_error(s->ssl, ret) ==
		    SSL_ERROR_SYSCALL ? "connection lost" : "unknown error");
	} else if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED &&
	    (v = SSL_get_verify_result(s->ssl)) != X509_V_OK) {
		snprintf(why, cap, "%s (%s)", r, X509_verify_cert_error_string(v));
		if (ret_cert != NULL)
			*ret_cert = 1;
	} else {
		snprintf(why, cap, "%s", r);
		if (ret_cert != NULL)
			*ret_cert = reason == SSL_R_CERTIFICATE_VERIFY_FAILED ||
			    reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE;
	}
	ERR_clear_error();
}

int
tls_sess_handshake(struct tls_sess *s, char *why, size_t cap, int *ret_cert)
{
	int r;

	ERR_clear_error();
	if ((r = SSL_do_handshake(s->ssl)) == 1)
		return 1;
	switch (SSL_get_error(s->ssl, r)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return 0;
	default:
		sess_failure(s, r, why, cap, ret_cert);
		return -EPROTO;
	}
}

ssize_t
tls_sess_read(struct tls_sess *s, uint8_t *buf, size_t cap, char *why,
    size_t wcap)
{
	int n, max = cap > INT32_MAX ? INT32_MAX : (int)cap;

	ERR_clear_error();
	if ((n = SSL_read(s->ssl, buf, max)) > 0)
		return n;
	switch (SSL_get_error(s->ssl, n)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return 0;
	case SSL_ERROR_ZERO_RETURN:
		return -EPIPE;
	default:
		sess_failure(s, n, why, wcap, NULL);
		return -EPROTO;
	}
}

int
tls_sess_write(struct tls_sess *s, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		int max = len > INT32_MAX ? INT32_MAX : (int)len, n;

		ERR_clear_error();
		if ((n = SSL_write(s->ssl, buf, max)) <= 0) {
			ERR_clear_error();
			return -EIO;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

void
tls_sess_shutdown(struct tls_sess *s)
{
	if (s->shut || !SSL_is_init_finished(s->ssl))
		return;
	s->shut = 1;
	SSL_shutdown(s->ssl);
	ERR_clear_error();
}

const char *
tls_sess_version(const struct tls_sess *s)
{
	return SSL_get_version(s->ssl);
}

const char *
tls_sess_cipher(const struct tls_sess *s)
{
	return SSL_get_cipher_name(s->ssl);
}
