/*
 * The TLS contexts a config names: one server context per TLS listener,
 * built from the listener's `tls:` mapping with its files read the way
 * the daemon reads them.  `sipwall check` and sipwalld both call this,
 * so a certificate that is missing, unreadable, not PEM, or whose key
 * does not match is reported by check with the file:line:col of the
 * key that names it.
 *
 * Unlike conf.c this reads other files (the certificates, keys and CA
 * bundles); relative paths start at the config file's directory
 * (conf->dir).
 */
#ifndef SW_CONF_TLS_LOAD_H
#define SW_CONF_TLS_LOAD_H

#include "conf/conf.h"

struct tls_ctx;

/*
 * For every TLS listener i, build its server context into ret_ctx[i]
 * (NULL for the other listeners); ret_ctx may be NULL to only check.
 * name prefixes the messages (the config file as the user named it).
 * Returns 0, or -EINVAL with every failure in diag and nothing left in
 * ret_ctx.  Free the contexts with conf_tls_free().
 */
int	conf_tls_load(const struct sw_conf *conf, const char *name,
	    struct tls_ctx *ret_ctx[CONF_MAX_LISTEN], struct conf_diag *diag);
void	conf_tls_free(struct tls_ctx *ctx[CONF_MAX_LISTEN]);

/*
 * For every TLS trunk i, its client context into ret_ctx[i]: the
 * provider is verified against tls_ca (or the system store), and with
 * tls_mutual we present the certificate of the trunk zone's TLS
 * listener.  Same returns as conf_tls_load(); free each context with
 * tls_ctx_free().
 */
int	conf_tls_load_trunks(const struct sw_conf *conf, const char *name,
	    struct tls_ctx *ret_ctx[CONF_MAX_TRUNKS], struct conf_diag *diag);

/* The same for core targets with transport: tls. */
int	conf_tls_load_targets(const struct sw_conf *conf, const char *name,
	    struct tls_ctx *ret_ctx[CONF_MAX_TARGETS], struct conf_diag *diag);

#endif
