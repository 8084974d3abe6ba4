/*
 * Build the TLS listeners' contexts from the config (see tls_load.h).
 * What a context allows is sip/tls.c's business; this file only turns
 * the config's keys into struct tls_opts and points each failure at
 * the key it is about.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "conf/tls_load.h"
#include "sip/tls.h"

static const struct conf_mark *
field_mark(const struct conf_listen *l, enum tls_field f)
{
	const struct conf_mark *m;

	switch (f) {
	case TLS_F_CERT:	m = &l->tls.cert_at; break;
	case TLS_F_KEY:		m = &l->tls.key_at; break;
	case TLS_F_CA:		m = &l->tls.ca_at; break;
	case TLS_F_CIPHERS:	m = &l->tls.ciphers_at; break;
	default:		m = &l->tls_at; break;
	}
	/* a default (ciphers) was not written: point at the mapping */
	return m->line != 0 ? m : &l->tls_at;
}

static const char *
field_name(enum tls_field f)
{
	switch (f) {
	case TLS_F_CERT:	return ".cert";
	case TLS_F_KEY:		return ".key";
	case TLS_F_CA:		return ".ca";
	case TLS_F_CIPHERS:	return ".ciphers";
	default:		return "";
	}
}

/* One listener; 0 or <0 with the error in diag. */
static int
load_one(const struct sw_conf *conf, const char *name, size_t i,
    struct tls_ctx **ret, struct conf_diag *diag)
{
	const struct conf_listen *l = &conf->listen[i];
	const char *names[CONF_MAX_PEER_NAMES];
	char cert[PATH_MAX], key[PATH_MAX], ca[PATH_MAX];
	const struct conf_mark *m;
	struct tls_opts o;
	struct tls_err e;
	int r;

	memset(&o, 0, sizeof(o));
	memset(&e, 0, sizeof(e));
	if (conf_path_resolve(conf, l->tls.cert, cert, sizeof(cert)) < 0 ||
	    conf_path_resolve(conf, l->tls.key, key, sizeof(key)) < 0 ||
	    conf_path_resolve(conf, l->tls.ca, ca, sizeof(ca)) < 0) {
		conf_diag_add(diag, name, l->tls_at.line, l->tls_at.col,
		    "listen[%zu].tls: a path is too long once joined to the "
		    "config's directory '%s'", i, conf->dir);
		return -ENAMETOOLONG;
	}
	o.cert = cert;
	o.key = key;
	o.ca = l->tls.ca[0] != '\0' ? ca : NULL;
	o.verify_peer = l->tls.verify_client;
	for (size_t k = 0; k < l->tls.npeer_names; k++)
		names[k] = l->tls.peer_names[k];
	o.peer_names = names;
	o.npeer_names = l->tls.npeer_names;
	o.min_version = l->tls.min_version == CONF_TLS_1_3 ? TLS_V1_3 :
	    TLS_V1_2;
	o.ciphers = l->tls.ciphers;
	if ((r = tls_ctx_new(&o, 1, ret, &e)) < 0) {
		m = field_mark(l, e.field);
		conf_diag_add(diag, name, m->line, m->col, "listen[%zu].tls%s: "
		    "%s", i, field_name(e.field), e.msg);
	}
	return r;
}

int
conf_tls_load(const struct sw_conf *conf, const char *name,
    struct tls_ctx *ret_ctx[CONF_MAX_LISTEN], struct conf_diag *diag)
{
	struct tls_ctx *ctx[CONF_MAX_LISTEN] = { NULL };
	int bad = 0;

	for (size_t i = 0; i < conf->nlisten; i++)
		if (conf->listen[i].transport == CONF_TRANSPORT_TLS &&
		    load_one(conf, name, i, &ctx[i], diag) < 0)
			bad = 1;
	if (bad || ret_ctx == NULL)
		conf_tls_free(ctx);
	else
		memcpy(ret_ctx, ctx, sizeof(ctx));
	return bad ? -EINVAL : 0;
}

void
conf_tls_free(struct tls_ctx *ctx[CONF_MAX_LISTEN])
{
	for (size_t i = 0; i < CONF_MAX_LISTEN; i++) {
		tls_ctx_free(ctx[i]);
		ctx[i] = NULL;
	}
}

/* The client context of TLS trunk i; 0 or <0 with the error in diag. */
static int
load_trunk(const struct sw_conf *conf, const char *name, size_t i,
    struct tls_ctx **ret, struct conf_diag *diag)
{
	const struct conf_trunk *t = &conf->trunks[i];
	const struct conf_listen *l = NULL;
	char cert[PATH_MAX], key[PATH_MAX], ca[PATH_MAX];
	const struct conf_mark *m = t->tls_ca_at.line != 0 ? &t->tls_ca_at :
	    &t->at;
	struct tls_opts o;
	struct tls_err e;
	int r;

	for (size_t k = 0; k < conf->nlisten; k++)
		if (conf->listen[k].zone == t->zone &&
		    conf->listen[k].transport == CONF_TRANSPORT_TLS) {
			l = &conf->listen[k];
			break;
		}
	memset(&o, 0, sizeof(o));
	memset(&e, 0, sizeof(e));
	if (conf_path_resolve(conf, t->tls_ca, ca, sizeof(ca)) < 0 ||
	    (l != NULL && (conf_path_resolve(conf, l->tls.cert, cert,
	    sizeof(cert)) < 0 || conf_path_resolve(conf, l->tls.key, key,
	    sizeof(key)) < 0))) {
		conf_diag_add(diag, name, m->line, m->col, "trunks[%zu]: a path "
		    "is too long once joined to the config's directory '%s'",
		    i, conf->dir);
		return -ENAMETOOLONG;
	}
	/* "" = the system's CA store: a public provider's certificate */
	o.ca = t->tls_ca[0] != '\0' ? ca : NULL;
	if (t->tls_mutual && l != NULL) {
		/* mutual TLS: we show the certificate of our own listener */
		o.cert = cert;
		o.key = key;
	}
	o.min_version = TLS_V1_2;
	if ((r = tls_ctx_new(&o, 0, ret, &e)) < 0)
		conf_diag_add(diag, name, m->line, m->col, "trunks[%zu].tls_ca: "
		    "%s", i, e.msg);
	return r;
}

int
conf_tls_load_trunks(const struct sw_conf *conf, const char *name,
    struct tls_ctx *ret_ctx[CONF_MAX_TRUNKS], struct conf_diag *diag)
{
	struct tls_ctx *ctx[CONF_MAX_TRUNKS] = { NULL };
	int bad = 0;

	for (size_t i = 0; i < conf->ntrunks; i++)
		if (conf->trunks[i].transport == CONF_TRANSPORT_TLS &&
		    load_trunk(conf, name, i, &ctx[i], diag) < 0)
			bad = 1;
	if (bad || ret_ctx == NULL) {
		for (size_t i = 0; i < CONF_MAX_TRUNKS; i++)
			tls_ctx_free(ctx[i]);
	} else
		memcpy(ret_ctx, ctx, sizeof(ctx));
	return bad ? -EINVAL : 0;
}

/* The client context of TLS core target i (verified against tls_ca). */
static int
load_target(const struct sw_conf *conf, const char *name, size_t i,
    struct tls_ctx **ret, struct conf_diag *diag)
{
	const struct conf_target *t = &conf->core.targets[i];
	const struct conf_mark *m = t->tls_ca_at.line != 0 ? &t->tls_ca_at :
	    &t->at;
	char ca[PATH_MAX];
	struct tls_opts o;
	struct tls_err e;
	int r;

	memset(&o, 0, sizeof(o));
	memset(&e, 0, sizeof(e));
	if (conf_path_resolve(conf, t->tls_ca, ca, sizeof(ca)) < 0) {
		conf_diag_add(diag, name, m->line, m->col, "core.targets[%zu]."
		    "tls_ca: the path is too long once joined to the config's "
		    "directory '%s'", i, conf->dir);
		return -ENAMETOOLONG;
	}
	o.ca = t->tls_ca[0] != '\0' ? ca : NULL;
	o.min_version = TLS_V1_2;
	if ((r = tls_ctx_new(&o, 0, ret, &e)) < 0)
		conf_diag_add(diag, name, m->line, m->col, "core.targets[%zu]."
		    "tls_ca: %s", i, e.msg);
	return r;
}

int
conf_tls_load_targets(const struct sw_conf *conf, const char *name,
    struct tls_ctx *ret_ctx[CONF_MAX_TARGETS], struct conf_diag *diag)
{
	struct tls_ctx *ctx[CONF_MAX_TARGETS] = { NULL };
	int bad = 0;

	for (size_t i = 0; i < conf->core.ntargets; i++)
		if (conf->core.targets[i].transport == CONF_TRANSPORT_TLS &&
		    load_target(conf, name, i, &ctx[i], diag) < 0)
			bad = 1;
	if (bad || ret_ctx == NULL) {
		for (size_t i = 0; i < CONF_MAX_TARGETS; i++)
			tls_ctx_free(ctx[i]);
	} else
		memcpy(ret_ctx, ctx, sizeof(ctx));
	return bad ? -EINVAL : 0;
}
