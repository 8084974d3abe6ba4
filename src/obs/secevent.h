/*
 * Security events (OBS1): the types, their stable numeric IDs, dotted
 * names, severities and classes, and the formatting of one event as one
 * JSON line (schema "v":1, documented in docs/events.md).
 *
 * Owns: the taxonomy and the JSON form.  Does not own: queuing, rate
 * limiting and delivery (obs/evlog.h).
 *
 * IDs and names are a public interface (fail2ban filters, SIEM rules,
 * jq scripts): never renumber or rename a type, never reuse a retired
 * ID; add new types at unused IDs in their class's hundred.
 *
 * A struct secevent only borrows: slices and strings must stay valid
 * until secevent_format() or evlog_emit() returns (evlog_emit formats
 * before it returns, so callers may pass packet slices).
 */
#ifndef SW_OBS_SECEVENT_H
#define SW_OBS_SECEVENT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/addr.h"
#include "core/slice.h"

#define SECEVENT_VERSION	1

/*
 * X(enum suffix, id, "name", severity, class, flags)
 * severity: RFC 5424 numeric (syslog.h LOG_*); flags: SECEV_F_*.
 */
#define SECEVENT_TYPES(X)						\
	/* 1xx signaling: messages and transports */			\
	X(SIP_MALFORMED,	100, "sip.malformed",		4, SIGNALING, 0) \
	X(SIP_OVERSIZED,	101, "sip.oversized",		4, SIGNALING, 0) \
	X(SIP_INVALID,		102, "sip.invalid",		4, SIGNALING, 0) \
	X(SIP_LOOP,		103, "sip.loop",		5, SIGNALING, 0) \
	X(SIP_UNSUPPORTED,	104, "sip.unsupported",		5, SIGNALING, 0) \
	X(SIP_POLICY,		105, "sip.policy",		5, SIGNALING, 0) \
	X(SIP_NO_MATCH,		106, "sip.no_match",		6, SIGNALING, 0) \
	X(TRANSPORT_ERROR,	110, "transport.error",		5, SIGNALING, 0) \
	X(TRANSPORT_CONN_LIMIT,	111, "transport.conn_limit",	4, SIGNALING, 0) \
	X(TRANSPORT_INVALID,	112, "transport.invalid",	4, SIGNALING, 0) \
	X(ROUTE_FAILED,		120, "route.failed",		5, SIGNALING, 0) \
	X(ROUTE_TARGET_DOWN,	121, "route.target_down",	3, SIGNALING, SECEV_F_UNLIMITED) \
	X(ROUTE_TARGET_UP,	122, "route.target_up",		5, SIGNALING, SECEV_F_UNLIMITED) \
	X(TRUNK_REGISTERED,	123, "trunk.registered",	6, SIGNALING, SECEV_F_UNLIMITED) \
	X(TRUNK_REG_FAILED,	124, "trunk.reg_failed",	3, SIGNALING, SECEV_F_UNLIMITED) \
	/* 2xx authentication and registration */			\
	X(AUTH_OK,		200, "auth.ok",			6, AUTH, SECEV_F_UNLIMITED) \
	X(AUTH_CHALLENGE,	201, "auth.challenge",		7, AUTH, 0)	\
	X(AUTH_FAILED,		202, "auth.failed",		4, AUTH, 0)	\
	X(AUTH_UNKNOWN_ACCOUNT,	203, "auth.unknown_account",	4, AUTH, 0)	\
	X(AUTH_NONCE_REJECTED,	204, "auth.nonce_rejected",	5, AUTH, 0)	\
	X(AUTH_SOURCE_DENIED,	205, "auth.source_denied",	4, AUTH, 0)	\
	X(AUTH_ACCOUNT_DISABLED, 206, "auth.account_disabled",	4, AUTH, 0)	\
	X(AUTH_SCHEME_DENIED,	207, "auth.scheme_denied",	4, AUTH, 0)	\
	X(AUTH_CONTACT_LIMIT,	208, "auth.contact_limit",	5, AUTH, 0)	\
	X(AUTH_TRUNK_UNKNOWN,	209, "auth.trunk_unknown",	4, AUTH, 0)	\
	X(AUTH_WEAK_CREDENTIAL,	210, "auth.weak_credential",	4, AUTH, SECEV_F_UNLIMITED) \
	X(AUTH_UPSTREAM_FAILED,	211, "auth.upstream_failed",	3, AUTH, 0)	\
	X(REG_ADDED,		250, "reg.added",		6, AUTH, SECEV_F_UNLIMITED) \
	X(REG_REMOVED,		251, "reg.removed",		6, AUTH, SECEV_F_UNLIMITED) \
	X(REG_EXPIRED,		252, "reg.expired",		6, AUTH, SECEV_F_UNLIMITED) \
	/* 3xx protection: access, rate, bans, scanners, brute force */	\
	X(ACL_DENIED,		300, "acl.denied",		4, PROTECTION, 0) \
	X(ACL_METHOD_DENIED,	301, "acl.method_denied",	4, PROTECTION, 0) \
	X(ACL_ROUTE_DENIED,	302, "acl.route_denied",	4, PROTECTION, 0) \
	X(RATE_LIMITED,		310, "rate.limited",		4, PROTECTION, 0) \
	X(RATE_FLOOD,		311, "rate.flood",		4, PROTECTION, 0) \
	X(OVERLOAD_SHED,	312, "overload.shed",		4, PROTECTION, 0) \
	X(BAN_ADDED,		320, "ban.added",		4, PROTECTION, SECEV_F_UNLIMITED) \
	X(BAN_REMOVED,		321, "ban.removed",		5, PROTECTION, SECEV_F_UNLIMITED) \
	X(BAN_ENFORCED,		322, "ban.enforced",		7, PROTECTION, 0) \
	X(SCANNER_DETECTED,	330, "scanner.detected",	4, PROTECTION, 0) \
	X(ACCOUNT_LOCKED,	340, "account.locked",		2, PROTECTION, SECEV_F_UNLIMITED) \
	X(ACCOUNT_UNLOCKED,	341, "account.unlocked",	5, PROTECTION, SECEV_F_UNLIMITED) \
	/* 4xx calls, toll fraud and diversion */			\
	X(CALL_ATTEMPT,		400, "call.attempt",		6, FRAUD, SECEV_F_UNLIMITED) \
	X(CALL_BLOCKED,		401, "call.blocked",		4, FRAUD, 0)	\
	X(CALL_ANSWERED,	402, "call.answered",		6, FRAUD, SECEV_F_UNLIMITED) \
	X(CALL_ENDED,		403, "call.ended",		6, FRAUD, SECEV_F_UNLIMITED) \
	X(CALL_FAILED,		404, "call.failed",		6, FRAUD, 0)	\
	X(CALL_EMERGENCY,	405, "call.emergency",		5, FRAUD, SECEV_F_UNLIMITED) \
	X(FRAUD_LIMIT,		410, "fraud.limit",		4, FRAUD, 0)	\
	X(FRAUD_ANOMALY,	411, "fraud.anomaly",		2, FRAUD, SECEV_F_UNLIMITED) \
	X(FRAUD_PREFIX_FROZEN,	412, "fraud.prefix_frozen",	4, FRAUD, SECEV_F_UNLIMITED) \
	X(DIVERSION_REFUSED,	420, "diversion.refused",	4, FRAUD, 0)	\
	X(DIVERSION_ALLOWED,	421, "diversion.allowed",	6, FRAUD, 0)	\
	/* 5xx media and SRTP */					\
	X(MEDIA_TIMEOUT,	500, "media.timeout",		5, MEDIA, 0)	\
	X(MEDIA_ONE_WAY,	501, "media.one_way",		5, MEDIA, 0)	\
	X(MEDIA_FOREIGN_SOURCE,	502, "media.foreign_source",	4, MEDIA, 0)	\
	X(MEDIA_MALFORMED,	503, "media.malformed",		6, MEDIA, 0)	\
	X(MEDIA_SDP_REJECTED,	504, "media.sdp_rejected",	5, MEDIA, 0)	\
	X(MEDIA_PORTS_EXHAUSTED, 505, "media.ports_exhausted",	3, MEDIA, 0)	\
	X(SRTP_AUTH_FAILED,	510, "srtp.auth_failed",	4, MEDIA, 0)	\
	X(SRTP_REPLAY,		511, "srtp.replay",		4, MEDIA, 0)	\
	X(SRTP_FALLBACK,	512, "srtp.fallback",		4, MEDIA, 0)	\
	X(SRTP_REQUIRED,	513, "srtp.required",		5, MEDIA, 0)	\
	X(SRTP_BAD_CRYPTO,	514, "srtp.bad_crypto",		4, MEDIA, 0)	\
	/* 6xx TLS */							\
	X(TLS_HANDSHAKE_FAILED,	600, "tls.handshake_failed",	4, TLS, 0)	\
	X(TLS_CERT_REJECTED,	601, "tls.cert_rejected",	4, TLS, 0)	\
	X(TLS_CERT_EXPIRING,	602, "tls.cert_expiring",	4, TLS, SECEV_F_UNLIMITED) \
	/* 7xx administration, configuration, audit, lifecycle */	\
	X(CONFIG_LOADED,	700, "config.loaded",		5, ADMIN, SECEV_F_UNLIMITED) \
	X(CONFIG_CHANGED,	701, "config.changed",		5, ADMIN, SECEV_F_UNLIMITED) \
	X(CONFIG_REJECTED,	702, "config.rejected",		3, ADMIN, SECEV_F_UNLIMITED) \
	X(ADMIN_ACTION,		710, "admin.action",		5, ADMIN, SECEV_F_UNLIMITED) \
	X(ADMIN_DENIED,		711, "admin.denied",		4, ADMIN, 0)	\
	X(LOCKDOWN_ON,		712, "lockdown.on",		4, ADMIN, SECEV_F_UNLIMITED) \
	X(LOCKDOWN_OFF,		713, "lockdown.off",		5, ADMIN, SECEV_F_UNLIMITED) \
	X(AUDIT_FINDING,	720, "audit.finding",		4, ADMIN, SECEV_F_UNLIMITED) \
	X(AUDIT_DRIFT,		721, "audit.drift",		4, ADMIN, SECEV_F_UNLIMITED) \
	X(DAEMON_STARTED,	730, "daemon.started",		5, ADMIN, SECEV_F_UNLIMITED) \
	X(DAEMON_STOPPING,	731, "daemon.stopping",		5, ADMIN, SECEV_F_UNLIMITED) \
	/* 8xx alerts, cluster, system, the event stream itself */	\
	X(ALERT_RAISED,		800, "alert.raised",		2, SYSTEM, SECEV_F_UNLIMITED) \
	X(ALERT_CLEARED,	801, "alert.cleared",		5, SYSTEM, SECEV_F_UNLIMITED) \
	X(ALERT_DELIVERY_FAILED, 802, "alert.delivery_failed",	3, SYSTEM, 0)	\
	X(CLUSTER_PEER_UP,	810, "cluster.peer_up",		5, SYSTEM, SECEV_F_UNLIMITED) \
	X(CLUSTER_PEER_DOWN,	811, "cluster.peer_down",	3, SYSTEM, SECEV_F_UNLIMITED) \
	X(CLUSTER_SYNC_FAILED,	812, "cluster.sync_failed",	3, SYSTEM, 0)	\
	X(STORE_ERROR,		820, "store.error",		3, SYSTEM, 0)	\
	X(EVENTS_SUPPRESSED,	890, "events.suppressed",	5, SYSTEM, SECEV_F_UNLIMITED) \
	X(EVENTS_DROPPED,	891, "events.dropped",		4, SYSTEM, SECEV_F_UNLIMITED)

enum secevent_type {
#define SECEV_ENUM_(e, id, name, sev, cls, fl)	SECEV_##e,
	SECEVENT_TYPES(SECEV_ENUM_)
#undef SECEV_ENUM_
	SECEV_TYPE_MAX
};

enum secevent_class {
	SECEV_CLASS_SIGNALING = 1,	/* 1xx */
	SECEV_CLASS_AUTH,		/* 2xx */
	SECEV_CLASS_PROTECTION,		/* 3xx */
	SECEV_CLASS_FRAUD,		/* 4xx */
	SECEV_CLASS_MEDIA,		/* 5xx */
	SECEV_CLASS_TLS,		/* 6xx */
	SECEV_CLASS_ADMIN,		/* 7xx */
	SECEV_CLASS_SYSTEM,		/* 8xx */
	SECEV_CLASS_MAX
};

/* Never rate limited per source or per type (decisions that are rare or
 * are records: bans, call records, config changes, alerts). */
#define SECEV_F_UNLIMITED	0x1

struct secevent_info {
	enum secevent_type	 type;
	int			 id;
	const char		*name;
	int			 sev;		/* RFC 5424 severity 0-7 */
	enum secevent_class	 cls;
	unsigned		 flags;
};

/* Input bounds, in bytes of input; longer values are cut and end in "...". */
#define SECEVENT_MAX_NODE	64
#define SECEVENT_MAX_SHORT	64	/* transport, zone */
#define SECEVENT_MAX_LISTENER	96
#define SECEVENT_MAX_REASON	128
#define SECEVENT_MAX_METHOD	32
#define SECEVENT_MAX_CALL_ID	128
#define SECEVENT_MAX_ACCOUNT	128
#define SECEVENT_MAX_UA		128
#define SECEVENT_MAX_DETAIL	256
#define SECEVENT_MAX_SAMPLE	256
#define SECEVENT_MAX_KV		8
#define SECEVENT_MAX_KEY	32	/* extra keys: [a-z][a-z0-9_]* */
#define SECEVENT_MAX_KV_STR	128
#define SECEVENT_MAX_COUNTERS	128
#define SECEVENT_MAX_CTR_KEY	48	/* counter keys: [a-z0-9_.]+ */

/*
 * One formatted line is at most this long, '\n' included.  The bounds
 * above keep every event well under it (worst case, every input byte
 * escaped as \u00XX, about 15 KiB); if a line would still not fit,
 * secevent_format() drops the bulky optional fields and sets
 * "truncated":true rather than lose the event.
 */
#define SECEVENT_LINE_MAX	16384

struct secevent_kv {
	const char	*k;	/* static identifier, see SECEVENT_MAX_KEY */
	struct slice	 s;	/* string value (if !is_int) */
	long long	 i;	/* integer value (if is_int) */
	int		 is_int;
};

struct secevent_counter {
	const char	*k;
	uint64_t	 v;
};

struct secevent {
	enum secevent_type	 type;
	struct timespec		 ts;		/* 0: now, when formatted */
	const union sw_addr	*src;		/* peer, or NULL */
	const char		*transport;	/* "udp" "tcp" "tls" "ws" "wss" */
	const char		*listener;	/* "udp:127.0.0.1:5060" */
	const char		*zone;
	const char		*reason;	/* short, stable, machine-readable */
	int			 status;	/* SIP status we answered; 0: none */
	struct slice		 method;
	struct slice		 call_id;
	struct slice		 account;
	struct slice		 user_agent;
	struct slice		 sample;	/* wire bytes; redacted, cut */
	const char		*detail;	/* free text for humans */
	uint64_t		 suppressed;	/* set by evlog */
	const struct secevent_counter *counters;
	size_t			 ncounters;
	size_t			 nkv;
	struct secevent_kv	 kv[SECEVENT_MAX_KV];
};

/* Zero ev and set its type. */
void	secevent_init(struct secevent *ev, enum secevent_type type);

/*
 * Add an extra field.  k must be a static identifier that is not a
 * schema field name (it is checked when formatting).  Returns 0 or
 * -SBC_EFULL when SECEVENT_MAX_KV are already set.
 */
int	secevent_add_str(struct secevent *ev, const char *k, const char *s);
int	secevent_add_slice(struct secevent *ev, const char *k, struct slice s);
int	secevent_add_int(struct secevent *ev, const char *k, long long v);

/*
 * Format ev as one JSON line, '\n' included, into buf[0..cap) (NUL-
 * terminated).  node names this sipwall instance (may be NULL).
 * Returns the line length, or -SBC_ELIMIT when cap is too small even for
 * the mandatory fields, -EINVAL for an unknown type.
 */
int	secevent_format(const struct secevent *ev, const char *node,
	    char *buf, size_t cap);

/*
 * Copy the first SECEVENT_MAX_SAMPLE bytes of sample into dst[0..cap)
 * with credentials replaced by "***": SDES keys (RFC 4568 "inline:"),
 * the values of digest parameters response, nonce and cnonce,
 * Basic/Bearer credentials, and passwords in URI userinfo
 * (sip:user:password@host).  Returns bytes written.
 * cap must be at least 2 * SECEVENT_MAX_SAMPLE.
 */
size_t	secevent_redact(struct slice sample, uint8_t *dst, size_t cap);

const struct secevent_info *secevent_info(enum secevent_type type);
const char	*secevent_type_name(enum secevent_type type);
int		 secevent_type_id(enum secevent_type type);
int		 secevent_type_sev(enum secevent_type type);
/* Lookups; return SECEV_TYPE_MAX when not found. */
enum secevent_type secevent_type_lookup(const char *name);
enum secevent_type secevent_type_by_id(int id);

const char	*secevent_class_name(enum secevent_class cls);
/* "emerg" "alert" "crit" "err" "warning" "notice" "info" "debug" */
const char	*secevent_sev_name(int sev);

#endif
