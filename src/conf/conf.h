/*
 * The configuration: one YAML file turned into plain structs (OPS3).
 *
 * conf.c owns loading (YAML through libyaml, checked against a
 * table-driven schema, see schema.h) and every error message;
 * printconf.c prints a loaded config back as canonical YAML.  This
 * module does not open sockets, create state_dir or apply anything:
 * the daemon takes a finished, immutable struct sw_conf and swaps it
 * in as a whole (DESIGN.md section 2).
 *
 * Every error is collected (not only the first) in a struct conf_diag
 * as "file:line:col: message" with a 1-based line and column pointing
 * at the offending key or value.
 */
#ifndef SW_CONF_CONF_H
#define SW_CONF_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/addr.h"

/* Bounds on the input itself. */
#define CONF_MAX_FILE		(1024 * 1024)	/* bytes */
#define CONF_MAX_DEPTH		16		/* nested mappings/sequences */
#define CONF_MAX_NODES		100000		/* scalars + collections */
#define CONF_MAX_SCALAR		4096		/* bytes in one key or value */

/* Sizes of what the config describes. */
#define CONF_NODE_NAME_MAX	63
#define CONF_ZONE_NAME_MAX	31
#define CONF_PATH_MAX		255
#define CONF_DIR_MAX		1023
#define CONF_MAX_WORKERS	64
#define CONF_MAX_LISTEN		64
#define CONF_MAX_ZONES		32
#define CONF_MAX_CIDRS		64		/* one allow/deny list */
#define CONF_MAX_METHODS	16
#define CONF_MAX_METHOD_LIMITS	16
#define CONF_MAX_ALGORITHMS	2
#define CONF_REALM_MAX		63
#define CONF_MAX_TARGETS	8		/* core PBX addresses */
#define CONF_MAX_HEADERS	32		/* extra headers allowed across */
#define CONF_HEADER_NAME_MAX	47
#define CONF_MAX_TRUNKS		16
#define CONF_MAX_PEER_NAMES	8		/* listen[].tls.peer_names */
#define CONF_MAX_PREFIXES	32		/* per trunk */
#define CONF_MAX_DIDS		64		/* per trunk */
#define CONF_NUMBER_MAX		31		/* a dialled number or prefix */
#define CONF_CRED_MAX		127		/* trunk username, password */
#define CONF_PREFIX_MAX		5		/* international/national prefix */
#define CONF_MAX_INTL		3		/* international prefixes */
#define CONF_MAX_EMERGENCY	8
#define CONF_MAX_INTERNAL	32		/* our own number ranges */
#define CONF_MAX_GROUPS		32
#define CONF_GROUP_NAME_MAX	31		/* = STORE_GROUP_MAX */
#define CONF_MAX_POLICY_PREFIXES 128		/* one group's allow or deny */
#define CONF_MAX_HOURS		8		/* time windows per group */
#define CONF_HOURS_MAX		31		/* "mon-fri 08:00-18:00" */
#define CONF_VERSION		1

/* Error collection. */
#define CONF_DIAG_MAX		64	/* kept; more are only counted */
#define CONF_DIAG_LEN		384	/* one formatted line, NUL included */

enum conf_transport {
	CONF_TRANSPORT_UDP = 0,
	CONF_TRANSPORT_TCP,
	CONF_TRANSPORT_TLS,
	CONF_TRANSPORT_MAX
};

enum conf_trust {
	CONF_TRUST_UNTRUSTED = 0,
	CONF_TRUST_TRUSTED,
	CONF_TRUST_MAX
};

enum conf_log_level {
	CONF_LOG_ERROR = 0,
	CONF_LOG_WARN,
	CONF_LOG_INFO,
	CONF_LOG_DEBUG,
	CONF_LOG_MAX
};

/* SIP methods a zone accepts (names as on the wire). */
enum conf_method {
	CONF_M_REGISTER = 0,
	CONF_M_INVITE,
	CONF_M_ACK,
	CONF_M_BYE,
	CONF_M_CANCEL,
	CONF_M_OPTIONS,
	CONF_M_PRACK,
	CONF_M_UPDATE,
	CONF_M_INFO,
	CONF_M_REFER,
	CONF_M_NOTIFY,
	CONF_M_SUBSCRIBE,
	CONF_M_PUBLISH,
	CONF_M_MESSAGE,
	CONF_M_MAX
};

enum conf_auth_mode {
	CONF_AUTH_REQUIRED = 0,		/* every request from here is challenged */
	CONF_AUTH_NONE,			/* trusted peers: no digest */
	CONF_AUTH_MAX
};

enum conf_rl_action {
	CONF_RL_DROP = 0,		/* silently: a flood gets nothing back */
	CONF_RL_REPLY,			/* 503 + Retry-After */
	CONF_RL_MAX
};

enum conf_digest_alg {
	CONF_ALG_SHA256 = 0,
	CONF_ALG_MD5,
	CONF_ALG_MAX
};

/* A prefix: address with its length; a bare address is /32 or /128. */
struct conf_cidr {
	union sw_addr	addr;
	uint8_t		plen;
};

/* A token bucket: `rate` events per hour on average, `burst` at once.
 * Written "20/s", "300/m" or "50/h" in the file. */
struct conf_bucket {
	uint32_t	rate;		/* per hour */
	uint32_t	burst;
};

struct conf_method_limit {
	int			method;		/* enum conf_method */
	struct conf_bucket	b;
};

struct conf_zone_rate {
	enum conf_rl_action	action;
	uint32_t		retry_after_ms;
	struct conf_bucket	source;		/* unauthenticated, per address */
	struct conf_bucket	prefix;		/* per /24 or /64 */
	struct conf_bucket	account;	/* per account, all sources */
	struct conf_bucket	authenticated;	/* per (source, account) */
	size_t			nmethods;
	struct conf_method_limit methods[CONF_MAX_METHOD_LIMITS];
};

/* Where something was written in the file; 0/0 when not from a file. */
struct conf_mark {
	uint32_t	line;
	uint32_t	col;
};

struct conf_node {
	char		name[CONF_NODE_NAME_MAX + 1];
	uint32_t	workers;		/* 0: one per CPU */
	char		state_dir[CONF_PATH_MAX + 1];
};

/* TLS versions a listener accepts at least (below 1.2 is refused). */
enum conf_tls_version {
	CONF_TLS_1_2 = 0,
	CONF_TLS_1_3,
	CONF_TLS_VERSION_MAX
};

#define CONF_CIPHERS_MAX	511

/* A TLS listener's `tls:` mapping; paths as written (see conf.dir). */
struct conf_tls {
	char		cert[CONF_PATH_MAX + 1];
	char		key[CONF_PATH_MAX + 1];
	char		ca[CONF_PATH_MAX + 1];		/* "" = none */
	bool		verify_client;			/* mutual TLS */
	enum conf_tls_version min_version;
	char		ciphers[CONF_CIPHERS_MAX + 1];	/* TLS 1.2 list */
	uint32_t	handshake_timeout_ms;
	size_t		npeer_names;			/* client cert must name one */
	char		peer_names[CONF_MAX_PEER_NAMES][CONF_REALM_MAX + 1];
	struct conf_mark cert_at, key_at, ca_at, ciphers_at;
};

struct conf_listen {
	enum conf_transport transport;
	union sw_addr	addr;			/* port included */
	uint16_t	port;			/* same as in addr */
	char		zone_name[CONF_ZONE_NAME_MAX + 1];
	uint32_t	zone;			/* index into sw_conf.zones */
	struct conf_mark at;			/* the list entry */
	struct conf_mark zone_at;		/* its zone: value */
	struct conf_tls	tls;			/* transport tls only */
	struct conf_mark tls_at;		/* its tls: value; 0 = absent */
};

/* MEDIA3: SRTP on the legs of a zone.  DEFAULT is resolved by the
 * loader: require for untrusted zones, off for trusted ones. */
enum conf_srtp {
	CONF_SRTP_DEFAULT = 0,
	CONF_SRTP_REQUIRE,	/* offers without SRTP get 488 */
	CONF_SRTP_PREFER,	/* SRTP when the peer takes it, else an event */
	CONF_SRTP_OFF,		/* plain RTP (SRTP only if the peer insists) */
};

struct conf_zone {
	char		name[CONF_ZONE_NAME_MAX + 1];
	enum conf_trust	trust;
	enum conf_auth_mode auth;
	size_t		nallow;
	struct conf_cidr allow[CONF_MAX_CIDRS];	/* empty: any source */
	size_t		ndeny;
	struct conf_cidr deny[CONF_MAX_CIDRS];
	size_t		nmethods;
	int		methods[CONF_MAX_METHODS];	/* enum conf_method */
	struct conf_zone_rate rate;
	/* MEDIA1: where this zone's legs get their media ports; family 0
	 * until the loader fills in the zone's first listener address */
	union sw_addr	media_address;
	enum conf_srtp	srtp;
	struct conf_mark at;			/* the list entry */
	struct conf_mark name_at;		/* its name: value */
};

struct conf_sip_limits {
	uint32_t	max_message_size;	/* datagram */
	uint32_t	max_stream_message_size;
	uint32_t	max_headers;
	uint32_t	max_header_length;
	uint32_t	max_uri_length;
	uint32_t	max_via;
	uint32_t	max_body;
};

struct conf_sip_timers {			/* milliseconds */
	uint32_t	t1_ms;
	uint32_t	t2_ms;
	uint32_t	t4_ms;
};

struct conf_sip_tcp {
	uint32_t	idle_timeout_ms;
	uint32_t	message_timeout_ms;
	uint32_t	max_connections;
	uint32_t	max_connections_per_source;
};

struct conf_sip {
	struct conf_sip_limits	limits;
	struct conf_sip_timers	timers;
	struct conf_sip_tcp	tcp;
	uint32_t		max_transactions;	/* per worker */
};

struct conf_events {
	char		file[CONF_PATH_MAX + 1];	/* "" disables */
	bool		to_stdout;
	bool		to_syslog;
	int		syslog_facility;	/* LOG_* from <syslog.h> */
	int		min_severity;		/* LOG_EMERG..LOG_DEBUG: types
						 * less severe are not written */
};

struct conf_log {
	enum conf_log_level level;
};

struct conf_store {
	char		path[CONF_PATH_MAX + 1];	/* relative: under state_dir */
};

struct conf_auth {
	char		realm[CONF_REALM_MAX + 1];
	size_t		nalgorithms;
	int		algorithms[CONF_MAX_ALGORITHMS];	/* offer order */
	uint32_t	nonce_ttl_ms;
	bool		nonce_bind_source;
};

struct conf_registrar {
	uint32_t	min_expires_ms;
	uint32_t	max_expires_ms;
	uint32_t	default_expires_ms;
	uint32_t	max_contacts;		/* default per account */
	uint32_t	nat_expires_ms;		/* cap for UDP behind NAT */
	uint32_t	nat_keepalive_ms;	/* OPTIONS to them; 0: off */
};

struct conf_bans {
	bool		enabled;
	uint32_t	first_ms;
	uint32_t	factor;
	uint32_t	max_ms;
	uint32_t	forget_ms;
	uint32_t	auth_failures;		/* from one source ... */
	uint32_t	auth_window_ms;		/* ... within this */
	uint32_t	rate_strikes;		/* seconds with excess ... */
	uint32_t	rate_window_ms;		/* ... within this */
	size_t		nnever;
	struct conf_cidr never[CONF_MAX_CIDRS];	/* never banned */
};

struct conf_scanner {
	bool		enabled;
	char		signatures[CONF_PATH_MAX + 1];	/* "" = built in */
	struct conf_mark signatures_at;
	uint32_t	unknown_users;		/* distinct, per source ... */
	uint32_t	sweep;			/* distinct targets, per source ... */
	uint32_t	window_ms;		/* ... within this */
};

struct conf_bruteforce {
	uint32_t	failures;		/* against one account, all sources */
	uint32_t	window_ms;
	uint32_t	lock_ms;
};

/* Where calls for the core PBX go (SIG6), tried in order. */
struct conf_target {
	enum conf_transport transport;
	union sw_addr	addr;			/* port included */
	uint16_t	port;
	char		tls_ca[CONF_PATH_MAX + 1];	/* "" = system store */
	char		tls_name[CONF_REALM_MAX + 1];	/* "" = the address */
	struct conf_mark tls_ca_at;
	struct conf_mark at;
};

struct conf_core {
	char		zone_name[CONF_ZONE_NAME_MAX + 1];	/* "" = no core */
	uint32_t	zone;			/* index into sw_conf.zones */
	struct conf_mark zone_at;
	size_t		ntargets;
	struct conf_target targets[CONF_MAX_TARGETS];
	uint32_t	probe_interval_ms;	/* OPTIONS health probe; 0 off */
};

/*
 * A SIP trunk (AUTH5, SIG6): a provider known by its zone (a trusted
 * zone whose allow list holds the provider's addresses), the address
 * calls to it go to, which numbers go there (core -> trunk) and which
 * it may deliver (trunk -> core), and our credentials with it.
 */
struct conf_trunk {
	char		name[CONF_ZONE_NAME_MAX + 1];
	char		zone_name[CONF_ZONE_NAME_MAX + 1];
	uint32_t	zone;
	struct conf_mark zone_at;
	enum conf_transport transport;
	union sw_addr	addr;			/* port included */
	uint16_t	port;
	size_t		nprefixes;
	char		prefixes[CONF_MAX_PREFIXES][CONF_NUMBER_MAX + 1];
	bool		default_route;
	size_t		ndids;
	char		dids[CONF_MAX_DIDS][CONF_NUMBER_MAX + 1];	/* [] = any */
	char		username[CONF_CRED_MAX + 1];
	char		password[CONF_CRED_MAX + 1];
	char		domain[CONF_REALM_MAX + 1];	/* "" = its address */
	bool		do_register;
	uint32_t	register_expires_ms;
	char		tls_ca[CONF_PATH_MAX + 1];	/* "" = system store */
	char		tls_name[CONF_REALM_MAX + 1];	/* "" = domain/address */
	bool		tls_mutual;		/* present our certificate */
	struct conf_mark tls_ca_at;
	struct conf_mark at;
};

/* The B2BUA (SIG4): limits every call lives under. */
struct conf_calls {
	uint32_t	max_duration_ms;	/* anti-fraud: always ends */
	uint32_t	ring_timeout_ms;	/* no final answer: CANCEL */
	uint32_t	keepalive_ms;		/* in-dialog OPTIONS; 0 off */
	uint32_t	max_calls;		/* per worker */
	uint32_t	min_se_ms;		/* RFC 4028 Min-SE we accept */
	size_t		nheaders;		/* allowed across, beyond defaults */
	char		headers[CONF_MAX_HEADERS][CONF_HEADER_NAME_MAX + 1];
};

/*
 * How the site's phones dial (FRAUD1): every destination is brought to
 * E.164 with this before a rule looks at it (policy/e164.h).
 */
struct conf_dialplan {
	char		country_code[4];		/* "1", "49" */
	size_t		nintl;
	char		intl[CONF_MAX_INTL][CONF_PREFIX_MAX + 1];
	char		national[CONF_PREFIX_MAX + 1];	/* "" = none */
	char		access_code[CONF_PREFIX_MAX + 1];	/* "9": outside line */
	uint32_t	extension_digits;		/* longest extension */
	size_t		nemergency;			/* always allowed */
	char		emergency[CONF_MAX_EMERGENCY][CONF_NUMBER_MAX + 1];
	size_t		ninternal;	/* E.164 prefixes inside the organisation */
	char		internal[CONF_MAX_INTERNAL][CONF_NUMBER_MAX + 1];
};

/* Where a REFER from a call may send it (FRAUD3). */
enum conf_refer {
	CONF_REFER_OFF = 0,		/* every REFER: 403 */
	CONF_REFER_INTERNAL,		/* extensions and dialplan.internal */
	CONF_REFER_POLICY,		/* whatever the group may dial */
	CONF_REFER_MAX
};

/*
 * A group of accounts (FRAUD1, FRAUD2): what they may dial and how
 * much.  Limits count per account; 0 is "no limit".
 */
struct conf_group {
	char		name[CONF_GROUP_NAME_MAX + 1];
	bool		international;		/* outside country_code */
	bool		premium;		/* premium-rate categories */
	bool		high_risk;		/* the rest of the high-risk list */
	size_t		nallow;			/* E.164 prefixes; longest wins */
	char		allow[CONF_MAX_POLICY_PREFIXES][CONF_NUMBER_MAX + 1];
	size_t		ndeny;
	char		deny[CONF_MAX_POLICY_PREFIXES][CONF_NUMBER_MAX + 1];
	uint32_t	max_concurrent;
	uint32_t	calls_per_minute;
	uint32_t	calls_per_day;
	uint32_t	minutes_per_day;
	size_t		nhours;			/* empty: any time */
	char		hours[CONF_MAX_HOURS][CONF_HOURS_MAX + 1];
	struct conf_mark at;
};

struct conf_policy {
	char		high_risk_file[CONF_PATH_MAX + 1];	/* "" built in */
	struct conf_mark high_risk_file_at;
	enum conf_refer	refer;
	char		forward_group[CONF_GROUP_NAME_MAX + 1];
	char		core_group[CONF_GROUP_NAME_MAX + 1];	/* "" unchecked */
	uint32_t	max_redirects;		/* 3xx from the core followed */
	size_t		ngroups;
	struct conf_group groups[CONF_MAX_GROUPS];
};

/* PROT6: when a worker counts as overloaded, and what it sheds. */
struct conf_overload {
	uint32_t	queue_high;		/* datagrams waiting: shed above */
	uint32_t	busy_percent;		/* loop busy: shed above */
	bool		reply;			/* 503 to what is shed (else drop) */
};

enum conf_latch {
	CONF_LATCH_SIGNALLING = 0,	/* SDP c= or the leg's SIP source */
	CONF_LATCH_ANY,			/* the first source at all */
};

/* MEDIA1, MEDIA5: the relay. */
struct conf_media {
	bool		anchor;			/* relay every call's media */
	uint32_t	workers;		/* media threads; 0: one per CPU */
	uint32_t	port_min;		/* even; RTP on even, RTCP + 1 */
	uint32_t	port_max;
	uint32_t	timeout_ms;		/* no media either way; 0 off */
	uint32_t	one_way_timeout_ms;	/* one way only; 0 off */
	bool		one_way_hangup;
	bool		strict_source;		/* drop all but the latched */
	enum conf_latch	latch;
};

#define CONF_URL_MAX		511
#define CONF_MAX_ACKS		32		/* acknowledge: entries */
#define CONF_ACK_MAX		63		/* "srtp_off:zone-name" */
#define CONF_GROUP_NAME_LEN	32		/* a Unix group name */
#define CONF_SHA256_HEX		64

/* OPS1, OPS2, OBS2, OBS6: the control socket and the admin HTTP API. */
struct conf_admin {
	/* the control socket `sipwall` talks to, under state_dir; "" off */
	char		socket[CONF_PATH_MAX + 1];
	/* a Unix group that may use it too (mode 0660); "": 0600 */
	char		socket_group[CONF_GROUP_NAME_LEN + 1];
	uint32_t	http_port;		/* admin API, /metrics; 0 off */
	union sw_addr	http_address;		/* must be the admin zone's */
	char		http_zone[CONF_ZONE_NAME_MAX + 1];	/* its ACL */
	uint32_t	http_zone_idx;		/* resolved by the loader */
	/* hex SHA-256 of the bearer token (`sipwall admin token`) */
	char		token_sha256[CONF_SHA256_HEX + 1];
	bool		dashboard;		/* the web page at / */
};

/* OBS4, FRAUD4: baselines and alerts. */
struct conf_alerts {
	bool		enabled;
	char		webhook[CONF_URL_MAX + 1];	/* "" none */
	uint32_t	webhook_timeout_ms;
	uint32_t	retries;		/* then alert.delivery_failed */
	uint32_t	window_ms;		/* the rate window */
	uint32_t	factor;			/* x the hour-of-week baseline */
	uint32_t	min_count;		/* no ratio alert below this */
	/* absolute limits per window; 0: off */
	uint32_t	reg_failures;
	uint32_t	auth_failures;
	uint32_t	invite_failures;
	uint32_t	calls_out;
	uint32_t	calls_international;
	uint32_t	calls_per_account;
	bool		new_country;		/* first call to a country */
	/* business hours; calls outside them above off_hours_calls per
	 * window alert (empty: no off-hours rule) */
	size_t		nhours;
	char		hours[CONF_MAX_HOURS][CONF_HOURS_MAX + 1];
	uint32_t	off_hours_calls;
};

/* OBS3: call detail records (the store's calls table). */
struct conf_cdr {
	uint32_t	retention_days;
};

struct sw_conf {
	uint32_t		version;
	struct conf_node	node;
	size_t			nlisten;
	struct conf_listen	listen[CONF_MAX_LISTEN];
	size_t			nzones;
	struct conf_zone	zones[CONF_MAX_ZONES];
	struct conf_sip		sip;
	struct conf_events	events;
	struct conf_log		log;
	struct conf_store	store;
	struct conf_auth	auth;
	struct conf_registrar	registrar;
	struct conf_bans	bans;
	struct conf_scanner	scanner;
	struct conf_bruteforce	bruteforce;
	struct conf_core	core;
	struct conf_calls	calls;
	size_t			ntrunks;
	struct conf_trunk	trunks[CONF_MAX_TRUNKS];
	struct conf_dialplan	dialplan;
	struct conf_policy	policy;
	struct conf_overload	overload;
	struct conf_media	media;
	struct conf_admin	admin;
	struct conf_alerts	alerts;
	struct conf_cdr		cdr;
	/* OPS3: unsafe settings the operator accepted, by finding id
	 * ("srtp_off:internet", "admin_public", ...) */
	size_t			nacks;
	char			acks[CONF_MAX_ACKS][CONF_ACK_MAX + 1];
	bool			listen_overridden;	/* by conf_listen_override() */
	/* The config file's directory, as given ("." for a buffer or a
	 * bare file name): relative TLS paths start here. */
	char			dir[CONF_DIR_MAX + 1];
	/* SHA-256 of the bytes parsed, lowercase hex (what `sha256sum`
	 * prints of the file); "" if it could not be computed.  Not a
	 * key: config.loaded reports it (docs/events.md). */
	char			digest[CONF_SHA256_HEX + 1];
};

struct conf_diag_entry {
	uint32_t	line;			/* 1-based; 0: no position */
	uint32_t	col;
	size_t		msg_off;		/* text + msg_off: message only */
	char		text[CONF_DIAG_LEN];	/* "file:line:col: message" */
};

/* About 25 KiB: fine on a main thread's stack, static or heap elsewhere. */
struct conf_diag {
	size_t			n;		/* entries in e[] */
	size_t			dropped;	/* errors past CONF_DIAG_MAX */
	struct conf_diag_entry	e[CONF_DIAG_MAX];
};

/* Start an empty error list. */
void	conf_diag_init(struct conf_diag *diag);
/* All errors, n + dropped. */
size_t	conf_diag_count(const struct conf_diag *diag);
/* One line per error, then "... and N more errors" if some were dropped. */
void	conf_diag_print(FILE *f, const struct conf_diag *diag);

/* Fill every key that has a default; lists stay empty. */
void	conf_defaults(struct sw_conf *conf);
/* The defaults of one zone entry (for zones built in code). */
void	conf_zone_defaults(struct conf_zone *z);

/*
 * Load and check a config from path (at most CONF_MAX_FILE bytes) or
 * from buf[0..len) (need not be NUL-terminated; name is used in the
 * messages).  Errors are appended to diag (may be NULL).
 * Returns 0 and a heap config in *ret_conf (free with conf_free), or
 * -EINVAL (config errors), -EFBIG, -ENOMEM, -errno of open/read; then
 * *ret_conf is untouched and diag says why.
 */
int	conf_load(const char *path, struct sw_conf **ret_conf,
	    struct conf_diag *diag);
int	conf_load_buf(const char *name, const char *buf, size_t len,
	    struct sw_conf **ret_conf, struct conf_diag *diag);
void	conf_free(struct sw_conf *conf);

/*
 * Replace the configured listeners from the command line, one call per
 * spec "PROTO:ADDR[:PORT]" (udp:127.0.0.1:5060, tcp:[::1]:5060; the
 * port defaults to 5060).  The first successful call drops the
 * listeners from the file; the new ones get the zone of the first
 * listener (or the first zone).  0, or -EINVAL with a message in diag
 * and conf unchanged.
 */
int	conf_listen_override(struct sw_conf *conf, const char *spec,
	    struct conf_diag *diag);

/*
 * A path from the config (a TLS file) as the process opens it: absolute
 * as is, relative to conf->dir otherwise.  0, or -ENAMETOOLONG.
 */
int	conf_path_resolve(const struct sw_conf *conf, const char *path,
	    char *buf, size_t cap);
/* Append "name:line:col: message" (no position when line is 0). */
void	conf_diag_add(struct conf_diag *diag, const char *name, uint32_t line,
	    uint32_t col, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));

/* Canonical YAML of every key, defaults included.  0 or -EIO. */
int	conf_print(FILE *f, const struct sw_conf *conf);

#define CONF_KEYPATH_MAX	160	/* "zones[3].rate_limits.methods[2].b.rate" */
#define CONF_FP_KEY_LEN	32
/*
 * The same keys flat, one "path: value" line each in schema order
 * ("zones[0].allow[1]: 10.0.0.0/8", an empty list as "zones[0].deny:
 * []"), for diffs.  A secret prints as a fingerprint keyed by
 * fp_key[0..CONF_FP_KEY_LEN) (NULL: "********" only), never its value.
 * 0 or -EIO.
 */
int	conf_print_flat(FILE *f, const struct sw_conf *conf,
	    const uint8_t *fp_key);
/*
 * One more flat line for each file the config names whose contents
 * count (the high-risk list, TLS certificates, keys and CA bundles):
 * "listen[0].tls.cert.contents: sha256:HEX", a key as "hmac:HEX" keyed
 * by fp_key (NULL: "********"), a file that cannot be read as
 * "unreadable: why".  0 or -EIO.
 */
int	conf_print_files(FILE *f, const struct sw_conf *conf,
	    const uint8_t *fp_key);

/* 1 when a reload applies the key at path[0..len) live (confdiff.c). */
int	conf_path_is_hot(const char *path, size_t len);

struct conf_diff_count {
	size_t	changed;	/* keys added, removed or changed */
	size_t	restart;	/* of those, not live */
};
/*
 * Compare two flat texts by key path.  *ret_diff (malloc'd) gets one
 * line per difference, sorted by path: "~ path: old -> new", "+ path:
 * value", "- path: value"; restart[0..rcap) (may be NULL) names the
 * first restart-only paths ("listen[0].port, sip.t1 and 3 more").
 * 0 or -ENOMEM.
 */
int	conf_diff(const char *old_flat, const char *new_flat, char **ret_diff,
	    struct conf_diff_count *ret_count, char *restart, size_t rcap);

/* Names as written in the config ("udp", "trusted", "info", "local0"). */
const char *conf_transport_name(enum conf_transport t);
const char *conf_tls_version_name(enum conf_tls_version v);
const char *conf_trust_name(enum conf_trust t);
const char *conf_srtp_name(enum conf_srtp v);
const char *conf_log_level_name(enum conf_log_level l);
const char *conf_syslog_facility_name(int facility);
const char *conf_method_name(int method);
const char *conf_algorithm_name(int alg);
const char *conf_refer_name(enum conf_refer r);
/* The group called name, or NULL. */
const struct conf_group *conf_group_find(const struct sw_conf *conf,
	    const char *name);

/*
 * A time window of a group, "mon-fri 08:00-18:00", "sat 09:00-13:00",
 * "daily 22:00-06:00" (past midnight: into the next day).  days: bit 0
 * Monday .. bit 6 Sunday; minutes of the day, to may be 1440.  0 or
 * -1 with a reason in why.
 */
struct conf_hours {
	uint8_t		days;
	uint16_t	from, to;
};
int	conf_hours_parse(const char *s, struct conf_hours *ret, char *why,
	    size_t cap);
/* "192.0.2.0/24" */
const char *conf_cidr_str(const struct conf_cidr *c, char *buf, size_t cap);
/* Does the prefix contain the address? */
bool	conf_cidr_match(const struct conf_cidr *c, const union sw_addr *a);

#endif
