#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "daemon/trunk.h"
#include "daemon/worker.h"

/* The name the provider's certificate must carry. */
static const char *
cert_name(const struct conf_trunk *t, char *buf, size_t cap)
{
	if (t->tls_name[0] != '\0')
		return t->tls_name;
	if (t->domain[0] != '\0')
		return t->domain;
	return sw_addr_ip_str(&t->addr, buf, cap);
}

int
trunk_dest(struct worker *w, size_t ti, struct sip_dest *d)
{
	const struct sw_conf *conf = w->env->conf;
	const struct conf_trunk *t = &conf->trunks[ti];
	char ip[SW_ADDR_STRLEN];
	struct tcp_listener *l;
	uint32_t id;
	int r;

	memset(d, 0, sizeof(*d));
	d->addr = t->addr;
	d->transport = t->transport == CONF_TRANSPORT_TLS ? SIP_TP_TLS :
	    t->transport == CONF_TRANSPORT_TCP ? SIP_TP_TCP : SIP_TP_UDP;
	for (size_t i = 0; i < conf->nlisten; i++)
		if (conf->listen[i].zone == t->zone &&
		    conf->listen[i].transport == t->transport &&
		    sw_addr_family(&conf->listen[i].addr) ==
		    sw_addr_family(&t->addr)) {
			d->lsn = (uint8_t)i;
			break;
		}
	if (d->transport == SIP_TP_UDP)
		return 0;
	if ((l = w->tcp[d->lsn]) == NULL)
		return -EINVAL;
	if (w->trunk_conn[ti] != 0 && tcp_conn_alive(l, w->trunk_conn[ti])) {
		d->conn_id = w->trunk_conn[ti];
		return 0;
	}
	if (d->transport == SIP_TP_TLS)
		r = tls_connect(l, w->env->trunk_tls[ti], &t->addr,
		    cert_name(t, ip, sizeof(ip)), &id);
	else
		r = tcp_connect(l, &t->addr, &id);
	if (r < 0)
		return r;
	w->trunk_conn[ti] = id;
	d->conn_id = id;
	return 0;
}
