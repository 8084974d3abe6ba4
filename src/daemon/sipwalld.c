/*
 * sipwalld: load the config, bind every listener in every worker, then
 * run the workers until SIGINT/SIGTERM.  Signals are taken with
 * sigwait() in the main thread only, so workers never see them.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/tls_load.h"
#include "sip/tls.h"
#include "core/hash.h"
#include "core/log.h"
#include "daemon/fraud.h"
#include "media/relay.h"
#include "media/srtp_ctx.h"
#include "admin/http.h"
#include "daemon/control.h"
#include "daemon/reload.h"
#include "daemon/state.h"
#include "daemon/worker.h"
#include "obs/alert.h"
#include "obs/metrics.h"

#define SIPWALLD_DEFAULT_CONF	"/etc/sipwall/sipwall.yaml"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: sipwalld [-v] [-c FILE] [-D DIR] [-l PROTO:ADDR:PORT]...\n"
	    "  -c FILE  configuration (default " SIPWALLD_DEFAULT_CONF ")\n"
	    "  -D DIR   put all state (store, sockets, event log) under DIR\n"
	    "  -l SPEC  listen on SPEC instead of the configured listeners\n"
	    "           (udp:127.0.0.1:5060, tcp:[::1]:5060; repeatable)\n"
	    "  -v       debug logging\n");
}

static int
mkdir_p(const char *path)
{
	char tmp[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0750) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0750) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static void
env_limits(struct sw_env *env)
{
	const struct conf_sip *s = &env->conf->sip;

	env->lim.max_msg = s->limits.max_message_size;
	env->lim.max_msg_stream = s->limits.max_stream_message_size;
	env->lim.max_hdrs = s->limits.max_headers;
	env->lim.max_line = s->limits.max_header_length;
	env->lim.max_uri = s->limits.max_uri_length;
	env->lim.max_via = s->limits.max_via;
	env->lim.max_body = s->limits.max_body;
	env->timers.t1 = s->timers.t1_ms;
	env->timers.t2 = s->timers.t2_ms;
	env->timers.t4 = s->timers.t4_ms;
	env->max_txns = s->max_transactions;
}

static int
open_events(struct sw_env *env)
{
	const struct sw_conf *c = env->conf;
	char path[PATH_MAX];
	struct evlog_opts o;

	evlog_opts_init(&o);
	o.node = c->node.name;
	o.app_name = "sipwalld";
	o.to_stdout = c->events.to_stdout;
	o.to_syslog = c->events.to_syslog;
	o.syslog_facility = c->events.syslog_facility;
	o.min_sev = c->events.min_severity;
	if (c->events.file[0] != '\0') {
		if (c->events.file[0] == '/')
			snprintf(path, sizeof(path), "%s", c->events.file);
		else if (snprintf(path, sizeof(path), "%s/%s",
		    c->node.state_dir, c->events.file) >= (int)sizeof(path))
			return -ENAMETOOLONG;
		o.path = path;
	}
	return evlog_open(&o, &env->ev);
}

static void
event_simple(struct sw_env *env, enum secevent_type type, const char *detail)
{
	struct secevent ev;

	secevent_init(&ev, type);
	ev.detail = detail;
	evlog_emit(env->ev, &ev);
}

/* config.loaded: which file, and the SHA-256 of the bytes parsed. */
static void
event_config_loaded(struct sw_env *env, const char *path)
{
	struct secevent ev;

	secevent_init(&ev, SECEV_CONFIG_LOADED);
	ev.detail = path;
	if (env->conf->digest[0] != '\0')
		secevent_add_str(&ev, "digest", env->conf->digest);
	evlog_emit(env->ev, &ev);
}

/*
 * MEDIA1: the relay, its port pools on every zone's media address and
 * enough descriptors for two socket pairs per stream.
 */
static int
media_open(struct sw_env *env)
{
	const struct sw_conf *conf = env->conf;
	struct relay_conf rc;
	struct rlimit rl;
	long ncpu;
	int r;

	if (!conf->media.anchor)
		return 0;
	if ((r = srtp_ctx_global_init()) < 0)
		return r;
	memset(&rc, 0, sizeof(rc));
	for (size_t i = 0; i < conf->nzones; i++) {
		const union sw_addr *a = &conf->zones[i].media_address;
		size_t k;

		if (a->sa.sa_family == 0)
			continue;
		for (k = 0; k < rc.naddrs; k++)
			if (sw_addr_eq_ip(&rc.addrs[k], a))
				break;
		if (k == rc.naddrs && rc.naddrs < RELAY_MAX_ADDRS)
			rc.addrs[rc.naddrs++] = *a;
	}
	if (rc.naddrs == 0)
		return 0;
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	rc.workers = conf->media.workers ? conf->media.workers :
	    (unsigned)(ncpu > 0 ? ncpu : 1);
	rc.port_min = (uint16_t)conf->media.port_min;
	rc.port_max = (uint16_t)conf->media.port_max;
	rc.strict = conf->media.strict_source;
	rc.latch_any = conf->media.latch == CONF_LATCH_ANY;
	/* every pair is two descriptors, on each address */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if ((r = relay_new(&rc, &env->relay)) < 0)
		return r;
	log_info("media relay: %u workers, ports %u-%u on %zu addresses",
	    rc.workers, rc.port_min, rc.port_max, rc.naddrs);
	return 0;
}

/*
 * OBS4: the alert engine, fed with every event from now on.  Built also
 * with alerts.enabled false: it learns the baselines and raises nothing,
 * so that a reload can turn alerting on with baselines already known.
 */
static int
alerts_open(struct sw_env *env, struct evlog_hook *hook, struct alert **ret)
{
	const struct sw_conf *c = env->conf;
	struct alert_opts o = {
		.conf = &c->alerts, .country_code = c->dialplan.country_code,
		.node = c->node.name, .ev = env->ev, .st = env->sec.st,
		.wr = env->sec.wr,
	};
	int r;

	*ret = NULL;
	if ((r = alert_new(&o, (int64_t)wall_ms(), ret)) < 0)
		return r;
	hook->fn = alert_feed_hook;
	hook->arg = *ret;
	evlog_set_hook(env->ev, hook);
	return 0;
}

/* OPS2: the admin zone's ACL in the running snapshot (a reload swaps
 * it; the old one lives on for seconds, longer than a request's check) */
static const struct acl *
admin_acl(void *arg)
{
	struct sw_env *env = arg;

	return atomic_load(&env->sec.rt)->zones[
	    env->conf->admin.http_zone_idx].acl;
}

int
main(int argc, char **argv)
{
	const char *conf_path = SIPWALLD_DEFAULT_CONF, *state_dir = NULL;
	const char *listen_specs[CONF_MAX_LISTEN];
	size_t nspecs = 0;
	struct conf_diag diag;
	struct sw_env env;
	struct control *ctl = NULL;
	struct admin_http *mh = NULL;
	struct alert *al = NULL;
	struct reload *rl = NULL;
	struct evlog_hook al_hook;
	sigset_t sigs;
	int ch, r, sig, verbose = 0;
	long ncpu;

	while ((ch = getopt(argc, argv, "c:D:l:vh")) != -1) {
		switch (ch) {
		case 'c':
			conf_path = optarg;
			break;
		case 'D':
			state_dir = optarg;
			break;
		case 'l':
			if (nspecs >= CONF_MAX_LISTEN) {
				fprintf(stderr, "sipwalld: at most %d -l\n",
				    CONF_MAX_LISTEN);
				return 2;
			}
			listen_specs[nspecs++] = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage();
			return 0;
		default:
			usage();
			return 2;
		}
	}
	if (optind != argc) {
		usage();
		return 2;
	}
	log_init("sipwalld", verbose ? LOG_DEBUG : LOG_INFO, LOG_TO_STDERR);

	memset(&env, 0, sizeof(env));
	conf_diag_init(&diag);
	{
		struct sw_conf *c0;

		if (conf_load(conf_path, &c0, &diag) < 0) {
			conf_diag_print(stderr, &diag);
			return 1;
		}
		atomic_init(&env.conf, c0);
	}
	for (size_t i = 0; i < nspecs; i++)
		if (conf_listen_override(env.conf, listen_specs[i], &diag) < 0) {
			conf_diag_print(stderr, &diag);
			conf_free(env.conf);
			return 2;
		}
	/* certificates and keys: read once, shared by every worker */
	if (conf_tls_load(env.conf, conf_path, env.tls, &diag) < 0 ||
	    conf_tls_load_trunks(env.conf, conf_path, env.trunk_tls,
	    &diag) < 0 || conf_tls_load_targets(env.conf, conf_path,
	    env.core_tls, &diag) < 0) {
		conf_tls_free(env.tls);
		conf_diag_print(stderr, &diag);
		conf_free(env.conf);
		return 1;
	}
	if (state_dir != NULL)
		snprintf(env.conf->node.state_dir,
		    sizeof(env.conf->node.state_dir), "%s", state_dir);
	if (!verbose)
		log_set_level(env.conf->log.level == CONF_LOG_DEBUG ? LOG_DEBUG :
		    env.conf->log.level == CONF_LOG_INFO ? LOG_INFO :
		    env.conf->log.level == CONF_LOG_WARN ? LOG_WARNING : LOG_ERR);
	if ((r = mkdir_p(env.conf->node.state_dir)) < 0)
		fatalx("state directory %s: %s", env.conf->node.state_dir,
		    strerror(-r));
	if ((r = sw_hash_init()) < 0)
		fatalx("random key: %s", strerror(-r));
	env_limits(&env);
	for (size_t i = 0; i < env.conf->nlisten; i++) {
		const struct conf_listen *l = &env.conf->listen[i];
		char a[SW_ADDR_STRLEN];

		snprintf(env.lsn_name[i], sizeof(env.lsn_name[i]), "%s:%s",
		    conf_transport_name(l->transport),
		    sw_addr_str(&l->addr, a, sizeof(a)));
	}
	if ((r = open_events(&env)) < 0)
		fatalx("event log: %s", strerror(-r));
	if ((r = connlimit_new(env.conf->sip.tcp.max_connections_per_source,
	    env.conf->sip.tcp.max_connections, &env.cl)) < 0)
		fatalx("connection table: %s", strerror(-r));
	if ((r = state_open(&env)) < 0)
		fatalx("cannot start: %s", strerror(-r));
	if ((r = media_open(&env)) < 0)
		fatalx("media relay: %s", strerror(-r));

	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	env.nworkers = env.conf->node.workers ? env.conf->node.workers :
	    (unsigned)(ncpu > 0 ? (ncpu > CONF_MAX_WORKERS ? CONF_MAX_WORKERS :
	    ncpu) : 1);
	if ((env.workers = calloc(env.nworkers, sizeof(*env.workers))) == NULL)
		fatal("calloc");

	/* Threads inherit this mask: only main() takes signals. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	for (unsigned i = 0; i < env.nworkers; i++)
		if ((r = worker_new(&env, i, &env.workers[i])) < 0) {
			log_warnx("cannot start: %s", uv_strerror(r));
			for (unsigned j = 0; j < i; j++)
				worker_free(env.workers[j]);
			free(env.workers);
			relay_free(env.relay);
			state_close(&env);
			evlog_close(env.ev);
			connlimit_free(env.cl);
			conf_tls_free(env.tls);
			for (size_t k = 0; k < CONF_MAX_TRUNKS; k++)
				tls_ctx_free(env.trunk_tls[k]);
			conf_free(env.conf);
			return 1;
		}
	/* OBS2: the counters before any thread counts */
	if ((r = metrics_open(env.conf, env.nworkers, &(struct metrics_src){
	    .bans = env.sec.bans, .loc = env.sec.loc, .relay = env.relay,
	    .wr = env.sec.wr, .ev = env.ev })) < 0)
		fatalx("metrics: %s", strerror(-r));
	/* OPS1: the socket; its thread starts with the workers */
	if ((r = control_open(&env, &ctl)) < 0)
		fatalx("control socket: %s", strerror(-r));
	/* OPS2, OBS2, OBS6: /metrics, /api (commands wait for
	 * control_start), the dashboard, if asked */
	if ((r = admin_http_start(&env.conf->admin, admin_acl, &env, env.ev,
	    control_ctl(ctl), &mh)) < 0)
		fatalx("admin http: %s", strerror(-r));
	if ((r = alerts_open(&env, &al_hook, &al)) < 0)
		fatalx("alerts: %s", strerror(-r));
	control_set_alert(ctl, al);	/* `sipwall alerts`, `rates` */
	if ((r = reload_open(&env, &(struct reload_src){ .path = conf_path,
	    .specs = listen_specs, .nspecs = nspecs,
	    .state_dir = state_dir }, &rl)) < 0)
		fatalx("reload: %s", strerror(-r));
	reload_set_alert(rl, al);
	control_set_reload(ctl, rl);
	event_config_loaded(&env, conf_path);
	event_simple(&env, SECEV_DAEMON_STARTED, "sipwalld started");
	if (env.relay != NULL && (r = relay_start(env.relay)) < 0)
		fatalx("media thread: %s", strerror(-r));
	for (unsigned i = 0; i < env.nworkers; i++)
		if ((r = worker_start(env.workers[i])) < 0)
			fatalx("worker thread: %s", strerror(-r));
	if ((r = control_start(ctl)) < 0)
		fatalx("control thread: %s", strerror(-r));
	/* said once everything answers: scripts and tests wait for these
	 * lines, and an API command before control_start() would be 503 */
	for (size_t i = 0; i < env.conf->nlisten; i++)
		log_info("listening on %s (zone %s)", env.lsn_name[i],
		    env.conf->zones[env.conf->listen[i].zone].name);
	log_info("%u workers, state in %s", env.nworkers,
	    env.conf->node.state_dir);

	for (;;) {
		/* the main thread's other job: housekeeping once a second */
		struct timespec tick = { .tv_sec = 1 };

		if ((sig = sigtimedwait(&sigs, NULL, &tick)) < 0) {
			if (errno == EAGAIN) {
				state_tick(&env);
				reload_tick(rl);
				alert_tick(al, (int64_t)wall_ms());
			}
			continue;
		}
		if (sig == SIGHUP) {
			log_info("SIGHUP: reopening the event log, reloading "
			    "the config");
			evlog_reopen(env.ev);
			reload_run(rl, NULL);
			continue;
		}
		log_info("%s: shutting down", sig == SIGINT ? "SIGINT" :
		    "SIGTERM");
		break;
	}
	event_simple(&env, SECEV_DAEMON_STOPPING, "sipwalld stopping");
	admin_http_stop(mh);	/* its commands run through ctl */
	control_free(ctl);	/* no command may reach a stopped worker */
	for (unsigned i = 0; i < env.nworkers; i++)
		worker_stop(env.workers[i]);
	for (unsigned i = 0; i < env.nworkers; i++)
		worker_free(env.workers[i]);
	free(env.workers);
	metrics_close();
	relay_stop(env.relay);
	relay_free(env.relay);
	evlog_set_hook(env.ev, NULL);	/* no thread emits any more */
	alert_free(al);
	reload_free(rl);	/* the retired configs; no reader is left */
	state_close(&env);
	evlog_close(env.ev);
	connlimit_free(env.cl);
	conf_tls_free(env.tls);
	for (size_t i = 0; i < CONF_MAX_TRUNKS; i++)
		tls_ctx_free(env.trunk_tls[i]);
	for (size_t i = 0; i < CONF_MAX_TARGETS; i++)
		tls_ctx_free(env.core_tls[i]);
	conf_free(env.conf);
	return 0;
}
