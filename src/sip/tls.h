/*
 * TLS with OpenSSL 3 (SIG2): contexts built from plain options, and
 * one TLS session per stream connection that works on bytes in memory
 * (no socket BIO: the stream layer owns the socket and its libuv loop).
 *
 * Owns: what a context allows (TLS 1.2 minimum, 1.3 preferred, AEAD
 * ciphers with forward secrecy only, no compression, no renegotiation,
 * session tickets without a server-side cache), peer verification
 * (CA bundle, expected host name or IP, mutual TLS), and the text of
 * every failure.  Does not own: sockets, timers, framing, events
 * (sip/stream.c and sip/transport_tls.c).
 *
 * Memory: a session keeps no buffer of its own.  Ciphertext from the
 * peer is read straight out of the caller's buffer (tls_sess_feed), and
 * ciphertext to the peer goes straight to the caller's output function;
 * OpenSSL's record buffers are released between records
 * (SSL_MODE_RELEASE_BUFFERS), so an idle session is the SSL object and
 * its keys.
 *
 * Threads: a context may be shared by every worker (OpenSSL locks what
 * it shares); a session belongs to the thread that created it.
 */
#ifndef SW_SIP_TLS_H
#define SW_SIP_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* TLS 1.2 suites offered by default: ECDHE, AEAD only, strongest first. */
#define TLS_CIPHERS_DEFAULT						\
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"	\
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"	\
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256"

#define TLS_ERR_MAX	256	/* one failure text, NUL included */

enum tls_version {
	TLS_V1_2 = 0,
	TLS_V1_3,
	TLS_V_MAX
};

/* Which option a context error is about (so a config error can point at it). */
enum tls_field {
	TLS_F_NONE = 0,
	TLS_F_CERT,
	TLS_F_KEY,
	TLS_F_CA,
	TLS_F_CIPHERS,
	TLS_F_MAX
};

struct tls_opts {
	const char	*cert;		/* PEM chain, leaf first; NULL: none (client only) */
	const char	*key;		/* PEM private key, unencrypted */
	const char	*ca;		/* PEM CA bundle; NULL: none (server) or system (client) */
	int		 verify_peer;	/* server: require a client certificate */
	enum tls_version min_version;
	const char	*ciphers;	/* TLS 1.2 list; NULL: TLS_CIPHERS_DEFAULT */
	/* server with verify_peer: the client certificate must carry one
	 * of these DNS names (or IPs); none: any the CA signed */
	const char *const *peer_names;
	size_t		 npeer_names;
};

struct tls_err {
	enum tls_field	field;
	char		msg[TLS_ERR_MAX];
};

struct tls_ctx;
struct tls_sess;

/*
 * Build a server (server != 0) or client context.  A server needs
 * cert and key; with verify_peer it needs ca.  A client always
 * verifies the server against ca (or the system store) and sends cert
 * and key when given.  Every cipher the list selects must be an AEAD
 * suite with ECDHE or DHE key exchange, or the list is refused.
 * Returns 0 and a context (free with tls_ctx_free), or -EINVAL,
 * -ENOENT, -EACCES, -ENOMEM with *reterr saying which option and why.
 */
int	tls_ctx_new(const struct tls_opts *o, int server, struct tls_ctx **ret,
	    struct tls_err *reterr);
/* Drop the caller's reference; sessions keep the context alive. */
void	tls_ctx_free(struct tls_ctx *ctx);
/*
 * A renewed certificate without a restart: ctx takes over what from
 * holds, and from is freed.  Sessions made after it use the new
 * certificate, key and CAs; sessions already made keep the old ones
 * until they end.  Safe while other threads make sessions from ctx.
 * Returns 0, or -EINVAL when one is a server context and the other a
 * client one (from is then kept: free it).
 */
int	tls_ctx_adopt(struct tls_ctx *ctx, struct tls_ctx *from);

/*
 * The certificate ctx presents (its leaf): seconds from now (Unix
 * time) to its notAfter, negative once it has expired, into
 * *ret_left_s, and its subject as one line ("/CN=sbc.example") into
 * subject[0..cap) (cut to fit; may be NULL).  Returns 0, -ENOENT (no
 * certificate) or -EINVAL (a notAfter OpenSSL cannot read).
 */
int	tls_ctx_cert_expiry(struct tls_ctx *ctx, int64_t now,
	    int64_t *ret_left_s, char *subject, size_t cap);

/* Ciphertext to the peer; 0, or <0 to fail the TLS operation. */
typedef int tls_out_fn(void *arg, const uint8_t *buf, size_t len);

/*
 * A session on ctx.  out(arg, ...) receives every byte to send, in
 * order, synchronously from within the tls_sess_* calls.  A client
 * (server == 0) verifies the peer's certificate against name, which
 * is a DNS name (also sent as SNI) or an IP literal; it must not be
 * NULL.  0 or -ENOMEM / -EINVAL.
 */
int	tls_sess_new(struct tls_ctx *ctx, int server, const char *name,
	    tls_out_fn *out, void *arg, struct tls_sess **ret);
void	tls_sess_free(struct tls_sess *s);

/*
 * Ciphertext from the peer, borrowed: it must stay valid until the
 * next tls_sess_feed() and be consumed by calling tls_sess_handshake()
 * until it is done and then tls_sess_read() until it returns 0.
 */
void	tls_sess_feed(struct tls_sess *s, const uint8_t *buf, size_t len);

/*
 * Advance the handshake.  1: done; 0: needs more input; <0: failed,
 * with the reason in why ("no shared cipher", "certificate verify
 * failed: unable to get local issuer certificate") and *ret_cert set
 * when it was about a certificate.  The alert, if any, was written.
 */
int	tls_sess_handshake(struct tls_sess *s, char *why, size_t cap,
	    int *ret_cert);

/*
 * Decrypt into buf[0..cap).  >0 bytes, 0 when the input is used up,
 * -EPIPE when the peer closed TLS (close_notify), other <0 on an error
 * with the reason in why.
 */
ssize_t	tls_sess_read(struct tls_sess *s, uint8_t *buf, size_t cap, char *why,
	    size_t wcap);

/* Encrypt and send buf[0..len) (after the handshake).  0 or <0. */
int	tls_sess_write(struct tls_sess *s, const uint8_t *buf, size_t len);

/* Send close_notify (once; errors are ignored: the connection closes). */
void	tls_sess_shutdown(struct tls_sess *s);

/* "TLSv1.3", "TLS_AES_256_GCM_SHA384" of an established session. */
const char *tls_sess_version(const struct tls_sess *s);
const char *tls_sess_cipher(const struct tls_sess *s);

#endif
