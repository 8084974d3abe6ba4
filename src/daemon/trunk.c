#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "daemon/trunk.h"
#include "daemon/worker.h"

/* What an outbound peer needs, from a trunk or a core target. */
struct peer {
	uint32_t		 zone;
	enum conf_transport	 transport;
	const union sw_addr	*addr;
	const char		*name;		/* certificate name, or NULL */
	struct tls_ctx		*ctx;		/* TLS client context */
	uint32_t		*conn;		/* this worker's connection */
};

static int
peer_dest(struct worker *w, const struct peer *p, struct sip_dest *d)
{
	const struct sw_conf *conf = w->env->conf;
	char ip[SW_ADDR_STRLEN];
	struct tcp_listener *l;
	uint32_t id;
	int r;

	memset(d, 0, sizeof(*d));
	d->addr = *p->addr;
	d->transport = p->transport == CONF_TRANSPORT_TLS ? SIP_TP_TLS :
	    p->transport == CONF_TRANSPORT_TCP ? SIP_TP_TCP : SIP_TP_UDP;
	for (size_t i = 0; i < conf->nlisten; i++)
		if (conf->listen[i].zone == p->zone &&
		    conf->listen[i].transport == p->transport &&
		    sw_addr_family(&conf->listen[i].addr) ==
		    sw_addr_family(p->addr)) {
			d->lsn = (uint8_t)i;
			break;
		}
	if (d->transport == SIP_TP_UDP)
		return 0;
	if ((l = w->tcp[d->lsn]) == NULL)
		return -EINVAL;
	if (*p->conn != 0 && tcp_conn_alive(l, *p->conn)) {
		d->conn_id = *p->conn;
		return 0;
	}
	if (d->transport == SIP_TP_TLS)
		r = tls_connect(l, p->ctx, p->addr, p->name != NULL ? p->name :
		    sw_addr_ip_str(p->addr, ip, sizeof(ip)), &id);
	else
		r = tcp_connect(l, p->addr, &id);
	if (r < 0)
		return r;
	*p->conn = id;
	d->conn_id = id;
	return 0;
}

int
trunk_dest(struct worker *w, size_t ti, struct sip_dest *d)
{
	const struct conf_trunk *t = &w->env->conf->trunks[ti];
	struct peer p = {
		.zone = t->zone, .transport = t->transport, .addr = &t->addr,
		.name = t->tls_name[0] != '\0' ? t->tls_name :
		    t->domain[0] != '\0' ? t->domain : NULL,
		.ctx = w->env->trunk_tls[ti], .conn = &w->trunk_conn[ti],
	};

	return peer_dest(w, &p, d);
}

int
core_dest(struct worker *w, size_t i, struct sip_dest *d)
{
	const struct sw_conf *conf = w->env->conf;
	const struct conf_target *t = &conf->core.targets[i];
	struct peer p = {
		.zone = conf->core.zone, .transport = t->transport,
		.addr = &t->addr,
		.name = t->tls_name[0] != '\0' ? t->tls_name : NULL,
		.ctx = w->env->core_tls[i], .conn = &w->core_conn[i],
	};

	return peer_dest(w, &p, d);
}
