/*
 * The config schema: one table row per key (type, field, range,
 * default), the value names of the enums, and the checks of single
 * string values.  conf.c walks these tables, printconf.c prints in
 * their order, docs/config.md describes them; nothing here parses.
 *
 * To add a setting: a field in conf.h, a row here (its default written
 * as YAML text, so it passes the same checks as the file), a line in
 * docs/config.md and a unit test.  Checks that involve several keys go
 * in check_cross() in conf.c.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "conf/conf.h"
#include "conf/schema.h"
#include "core/ctype.h"
#include "sip/limits.h"
#include "sip/tls.h"

/* The configured ceilings may not exceed what the SIP layer is built for. */
_Static_assert(65507 <= SIP_MAX_MSG_UDP, "max_message_size ceiling");
_Static_assert(65536 <= SIP_MAX_MSG_TCP, "max_stream_message_size ceiling");
_Static_assert(256 <= SIP_MAX_HDRS, "max_headers ceiling");
_Static_assert(8192 <= SIP_MAX_LINE, "max_header_length ceiling");
_Static_assert(4096 <= SIP_MAX_URI, "max_uri_length ceiling");
_Static_assert(128 <= SIP_MAX_VIA, "max_via ceiling");

static int
check_node_name(const char *s, char *why, size_t cap)
{
	for (const char *p = s; *p != '\0'; p++) {
		unsigned char ch = (unsigned char)*p;

		if (!ctype_is(ch, CT_ALNUM) && ch != '.' && ch != '_' &&
		    ch != '-') {
			snprintf(why, cap, "may only contain letters, digits, "
			    "'.', '_' and '-' (found '%c')", ch);
			return -1;
		}
	}
	return 0;
}

static int
check_zone_name(const char *s, char *why, size_t cap)
{
	for (const char *p = s; *p != '\0'; p++) {
		unsigned char ch = (unsigned char)*p;

		if (!(ch >= 'a' && ch <= 'z') && !ctype_is(ch, CT_DIGIT) &&
		    ch != '_' && ch != '-') {
			snprintf(why, cap, "zone names may only contain "
			    "lowercase letters, digits, '_' and '-' "
			    "(found '%c')", ch);
			return -1;
		}
	}
	return 0;
}

/* A header field name (RFC 3261 token); the wire form is matched
 * case-insensitively, so the file's spelling does not matter. */
static int
check_header_name(const char *s, char *why, size_t cap)
{
	for (const char *p = s; *p != '\0'; p++)
		if (!ctype_is((unsigned char)*p, CT_TOKEN)) {
			snprintf(why, cap, "a header name is a SIP token "
			    "(found '%c')", *p);
			return -1;
		}
	return 0;
}

const struct conf_enum_val conf_transport_vals[] = {
	{ "udp", CONF_TRANSPORT_UDP, NULL },
	{ "tcp", CONF_TRANSPORT_TCP, NULL },
	{ "tls", CONF_TRANSPORT_TLS, NULL },
	{ NULL, 0, NULL }
};

/* The refused versions come last: a name is looked up by its value. */
static const struct conf_enum_val tls_version_vals[] = {
	{ "1.2", CONF_TLS_1_2, NULL },
	{ "1.3", CONF_TLS_1_3, NULL },
	{ "1.1", CONF_TLS_1_2, "refused: TLS below 1.2 is not safe (use 1.2 "
	  "or 1.3)" },
	{ "1.0", CONF_TLS_1_2, "refused: TLS below 1.2 is not safe (use 1.2 "
	  "or 1.3)" },
	{ NULL, 0, NULL }
};

/* OpenSSL's cipher list syntax: names, ':' ',' ' ' separators, + - ! @ =. */
static int
check_ciphers(const char *s, char *why, size_t cap)
{
	for (const char *p = s; *p != '\0'; p++)
		if (!ctype_is((unsigned char)*p, CT_ALNUM) &&
		    strchr(":+-!@=_., ", *p) == NULL) {
			snprintf(why, cap, "not an OpenSSL cipher list "
			    "(found '%c')", *p);
			return -1;
		}
	return 0;
}

static const struct conf_enum_val trust_vals[] = {
	{ "untrusted", CONF_TRUST_UNTRUSTED, NULL },
	{ "trusted", CONF_TRUST_TRUSTED, NULL },
	{ NULL, 0, NULL }
};

static const struct conf_enum_val srtp_vals[] = {
	{ "require", CONF_SRTP_REQUIRE, NULL },
	{ "prefer", CONF_SRTP_PREFER, NULL },
	{ "off", CONF_SRTP_OFF, NULL },
	{ NULL, 0, NULL }
};

static const struct conf_enum_val latch_vals[] = {
	{ "signalling", CONF_LATCH_SIGNALLING, NULL },
	{ "any", CONF_LATCH_ANY, NULL },
	{ NULL, 0, NULL }
};

static const struct conf_enum_val log_level_vals[] = {
	{ "error", CONF_LOG_ERROR, NULL },
	{ "warn", CONF_LOG_WARN, NULL },
	{ "info", CONF_LOG_INFO, NULL },
	{ "debug", CONF_LOG_DEBUG, NULL },
	{ NULL, 0, NULL }
};

static const struct conf_enum_val facility_vals[] = {
	{ "daemon", LOG_DAEMON, NULL },
	{ "user", LOG_USER, NULL },
	{ "auth", LOG_AUTH, NULL },
	{ "authpriv", LOG_AUTHPRIV, NULL },
	{ "local0", LOG_LOCAL0, NULL },
	{ "local1", LOG_LOCAL1, NULL },
	{ "local2", LOG_LOCAL2, NULL },
	{ "local3", LOG_LOCAL3, NULL },
	{ "local4", LOG_LOCAL4, NULL },
	{ "local5", LOG_LOCAL5, NULL },
	{ "local6", LOG_LOCAL6, NULL },
	{ "local7", LOG_LOCAL7, NULL },
	{ NULL, 0, NULL }
};

/* RFC 5424 severities, the keywords of the events' "sev" field. */
static const struct conf_enum_val severity_vals[] = {
	{ "emerg", LOG_EMERG, NULL },
	{ "alert", LOG_ALERT, NULL },
	{ "crit", LOG_CRIT, NULL },
	{ "err", LOG_ERR, NULL },
	{ "warning", LOG_WARNING, NULL },
	{ "notice", LOG_NOTICE, NULL },
	{ "info", LOG_INFO, NULL },
	{ "debug", LOG_DEBUG, NULL },
	{ NULL, 0, NULL }
};

static const struct conf_enum_val auth_vals[] = {
	{ "required", CONF_AUTH_REQUIRED, NULL },
	{ "none", CONF_AUTH_NONE, NULL },
	{ NULL, 0, NULL }
};

static const struct conf_enum_val rl_action_vals[] = {
	{ "drop", CONF_RL_DROP, NULL },
	{ "reply", CONF_RL_REPLY, NULL },
	{ NULL, 0, NULL }
};

static const struct conf_enum_val method_vals[] = {
	{ "REGISTER", CONF_M_REGISTER, NULL },
	{ "INVITE", CONF_M_INVITE, NULL },
	{ "ACK", CONF_M_ACK, NULL },
	{ "BYE", CONF_M_BYE, NULL },
	{ "CANCEL", CONF_M_CANCEL, NULL },
	{ "OPTIONS", CONF_M_OPTIONS, NULL },
	{ "PRACK", CONF_M_PRACK, NULL },
	{ "UPDATE", CONF_M_UPDATE, NULL },
	{ "INFO", CONF_M_INFO, NULL },
	{ "REFER", CONF_M_REFER, NULL },
	{ "NOTIFY", CONF_M_NOTIFY, NULL },
	{ "SUBSCRIBE", CONF_M_SUBSCRIBE, NULL },
	{ "PUBLISH", CONF_M_PUBLISH, NULL },
	{ "MESSAGE", CONF_M_MESSAGE, NULL },
	{ NULL, 0, NULL }
};

static const struct conf_enum_val alg_vals[] = {
	{ "SHA-256", CONF_ALG_SHA256, NULL },
	{ "MD5", CONF_ALG_MD5, NULL },
	{ NULL, 0, NULL }
};

static int
check_realm(const char *s, char *why, size_t cap)
{
	for (const char *p = s; *p != '\0'; p++)
		if (*p == '"' || *p == '\\') {
			snprintf(why, cap, "a realm may not contain '\"' or "
			    "'\\'");
			return -1;
		}
	return 0;
}

#define FSIZE(st, f)	sizeof(((st *)0)->f)
#define MS(x)		((uint64_t)(x))
#define SEC(x)		((uint64_t)(x) * CONF_SEC)
#define MIN(x)		((uint64_t)(x) * CONF_MIN)
#define HOUR(x)		((uint64_t)(x) * CONF_HOUR)

#define K_UINT(st, f, lo, hi, d) \
	{ .name = #f, .type = CONF_T_UINT, .off = offsetof(st, f), \
	  .size = FSIZE(st, f), .min = (lo), .max = (hi), .def = (d) }
#define K_BOOL(n, st, f, d) \
	{ .name = (n), .type = CONF_T_BOOL, .off = offsetof(st, f), \
	  .size = FSIZE(st, f), .def = (d) }
#define K_STR(n, st, f, lo, fn, d) \
	{ .name = (n), .type = CONF_T_STR, .off = offsetof(st, f), \
	  .size = FSIZE(st, f), .min = (lo), .max = FSIZE(st, f) - 1, \
	  .check = (fn), .def = (d) }
/* A file path, its position kept for errors about the file's contents. */
#define K_FILE(n, st, f) \
	{ .name = (n), .type = CONF_T_STR, .flags = CONF_K_MARK, \
	  .off = offsetof(st, f), .size = FSIZE(st, f), .min = 0, \
	  .max = FSIZE(st, f) - 1, .def = "", .mark_off = offsetof(st, f##_at) }
#define K_ENUM(n, st, f, v, d) \
	{ .name = (n), .type = CONF_T_ENUM, .off = offsetof(st, f), \
	  .size = FSIZE(st, f), .vals = (v), .def = (d) }
#define K_DUR(n, st, f, lo, hi, d) \
	{ .name = (n), .type = CONF_T_DURATION, .off = offsetof(st, f), \
	  .size = FSIZE(st, f), .min = (lo), .max = (hi), .def = (d) }
#define K_MAP(n, st, f, keys) \
	{ .name = (n), .type = CONF_T_MAP, .off = offsetof(st, f), \
	  .size = FSIZE(st, f), .sub = (keys) }
#define K_END	{ .name = NULL, .type = CONF_T_END }

static const struct conf_key node_keys[] = {
	K_STR("name", struct conf_node, name, 1, check_node_name, "sipwall"),
	K_UINT(struct conf_node, workers, 0, CONF_MAX_WORKERS, "0"),
	K_STR("state_dir", struct conf_node, state_dir, 1, NULL, "var"),
	K_END
};

/* A path with its position kept for the file checks (tls_load.c). */
#define K_PATH(n, f, lo, fl, d) \
	{ .name = (n), .type = CONF_T_STR, .flags = CONF_K_MARK | (fl), \
	  .off = offsetof(struct conf_tls, f), \
	  .size = FSIZE(struct conf_tls, f), .min = (lo), \
	  .max = FSIZE(struct conf_tls, f) - 1, .def = (d), \
	  .mark_off = offsetof(struct conf_tls, f##_at) }

static const struct conf_key peer_name_elem = {
	.name = "name", .type = CONF_T_STR, .off = 0,
	.size = CONF_REALM_MAX + 1, .min = 1, .max = CONF_REALM_MAX,
	.check = check_realm,
};

static const struct conf_key tls_keys[] = {
	K_PATH("cert", cert, 1, CONF_K_REQUIRED, NULL),
	K_PATH("key", key, 1, CONF_K_REQUIRED, NULL),
	K_PATH("ca", ca, 0, 0, ""),
	K_BOOL("verify_client", struct conf_tls, verify_client, "false"),
	K_ENUM("min_version", struct conf_tls, min_version, tls_version_vals,
	    "1.2"),
	{ .name = "ciphers", .type = CONF_T_STR, .flags = CONF_K_MARK,
	  .off = offsetof(struct conf_tls, ciphers),
	  .size = FSIZE(struct conf_tls, ciphers), .min = 1,
	  .max = CONF_CIPHERS_MAX, .check = check_ciphers,
	  .def = TLS_CIPHERS_DEFAULT,
	  .mark_off = offsetof(struct conf_tls, ciphers_at) },
	K_DUR("handshake_timeout", struct conf_tls, handshake_timeout_ms,
	    MS(100), MIN(1), "5s"),
	{ .name = "peer_names", .type = CONF_T_SEQ,
	  .off = offsetof(struct conf_tls, peer_names),
	  .size = FSIZE(struct conf_tls, peer_names), .min = 0,
	  .max = CONF_MAX_PEER_NAMES, .sub = &peer_name_elem,
	  .elem_size = CONF_REALM_MAX + 1,
	  .count_off = offsetof(struct conf_tls, npeer_names) },
	K_END
};

static bool
listen_is_tls(const void *base)
{
	return ((const struct conf_listen *)base)->transport ==
	    CONF_TRANSPORT_TLS;
}

static const struct conf_key listen_keys[] = {
	K_ENUM("transport", struct conf_listen, transport, conf_transport_vals,
	    "udp"),
	{ .name = "address", .type = CONF_T_ADDR, .flags = CONF_K_REQUIRED,
	  .off = offsetof(struct conf_listen, addr),
	  .size = FSIZE(struct conf_listen, addr) },
	K_UINT(struct conf_listen, port, 1, 65535, "5060"),
	{ .name = "zone", .type = CONF_T_STR,
	  .flags = CONF_K_REQUIRED | CONF_K_MARK,
	  .off = offsetof(struct conf_listen, zone_name),
	  .size = FSIZE(struct conf_listen, zone_name),
	  .min = 1, .max = CONF_ZONE_NAME_MAX, .check = check_zone_name,
	  .mark_off = offsetof(struct conf_listen, zone_at) },
	{ .name = "tls", .type = CONF_T_MAP, .flags = CONF_K_MARK,
	  .off = offsetof(struct conf_listen, tls),
	  .size = FSIZE(struct conf_listen, tls), .sub = tls_keys,
	  .mark_off = offsetof(struct conf_listen, tls_at),
	  .print_if = listen_is_tls },
	K_END
};

static const struct conf_key listen_elem = {
	.name = "listen", .type = CONF_T_MAP, .flags = CONF_K_MARK,
	.off = 0, .size = sizeof(struct conf_listen), .sub = listen_keys,
	.mark_off = offsetof(struct conf_listen, at),
};

static const struct conf_key cidr_elem = {
	.name = "prefix", .type = CONF_T_CIDR, .off = 0,
	.size = sizeof(struct conf_cidr),
};

static const struct conf_key method_elem = {
	.name = "method", .type = CONF_T_ENUM, .off = 0, .size = sizeof(int),
	.vals = method_vals,
};

static const struct conf_key alg_elem = {
	.name = "algorithm", .type = CONF_T_ENUM, .off = 0, .size = sizeof(int),
	.vals = alg_vals,
};

#define K_CIDRS(n, st, f, cnt) \
	{ .name = (n), .type = CONF_T_SEQ, .off = offsetof(st, f), \
	  .size = FSIZE(st, f), .min = 0, .max = CONF_MAX_CIDRS, \
	  .sub = &cidr_elem, .elem_size = sizeof(struct conf_cidr), \
	  .count_off = offsetof(st, cnt) }
#define K_RATE(n, st, f, d) \
	{ .name = (n), .type = CONF_T_RATE, .off = offsetof(st, f), \
	  .size = FSIZE(st, f), .def = (d) }
/* One table per bucket so that each has its own defaults. */
#define BUCKET_KEYS(name, r_, b_) \
	static const struct conf_key name[] = { \
		K_RATE("rate", struct conf_bucket, rate, r_), \
		K_UINT(struct conf_bucket, burst, 1, 1000000, b_), \
		K_END \
	}

BUCKET_KEYS(source_bucket_keys, "20/s", "60");
BUCKET_KEYS(prefix_bucket_keys, "200/s", "600");
BUCKET_KEYS(account_bucket_keys, "20/s", "60");
BUCKET_KEYS(authenticated_bucket_keys, "100/s", "400");

static const struct conf_key method_limit_keys[] = {
	{ .name = "method", .type = CONF_T_ENUM, .flags = CONF_K_REQUIRED,
	  .off = offsetof(struct conf_method_limit, method),
	  .size = sizeof(int), .vals = method_vals },
	{ .name = "rate", .type = CONF_T_RATE, .flags = CONF_K_REQUIRED,
	  .off = offsetof(struct conf_method_limit, b.rate),
	  .size = FSIZE(struct conf_method_limit, b.rate) },
	{ .name = "burst", .type = CONF_T_UINT,
	  .off = offsetof(struct conf_method_limit, b.burst),
	  .size = FSIZE(struct conf_method_limit, b.burst), .min = 1,
	  .max = 1000000, .def = "20" },
	K_END
};

static const struct conf_key method_limit_elem = {
	.name = "methods", .type = CONF_T_MAP, .off = 0,
	.size = sizeof(struct conf_method_limit), .sub = method_limit_keys,
};

static const struct conf_key zone_rate_keys[] = {
	K_ENUM("action", struct conf_zone_rate, action, rl_action_vals, "drop"),
	K_DUR("retry_after", struct conf_zone_rate, retry_after_ms, SEC(1),
	    HOUR(1), "30s"),
	K_MAP("source", struct conf_zone_rate, source, source_bucket_keys),
	K_MAP("prefix", struct conf_zone_rate, prefix, prefix_bucket_keys),
	K_MAP("account", struct conf_zone_rate, account, account_bucket_keys),
	K_MAP("authenticated", struct conf_zone_rate, authenticated,
	    authenticated_bucket_keys),
	{ .name = "methods", .type = CONF_T_SEQ,
	  .off = offsetof(struct conf_zone_rate, methods),
	  .size = FSIZE(struct conf_zone_rate, methods), .min = 0,
	  .max = CONF_MAX_METHOD_LIMITS, .sub = &method_limit_elem,
	  .elem_size = sizeof(struct conf_method_limit),
	  .count_off = offsetof(struct conf_zone_rate, nmethods) },
	K_END
};

static bool
zone_has_media_address(const void *base)
{
	return ((const struct conf_zone *)base)->media_address.sa.sa_family
	    != 0;
}

static bool
zone_has_srtp(const void *base)
{
	return ((const struct conf_zone *)base)->srtp != CONF_SRTP_DEFAULT;
}

static const struct conf_key zone_keys[] = {
	{ .name = "name", .type = CONF_T_STR,
	  .flags = CONF_K_REQUIRED | CONF_K_MARK,
	  .off = offsetof(struct conf_zone, name),
	  .size = FSIZE(struct conf_zone, name),
	  .min = 1, .max = CONF_ZONE_NAME_MAX, .check = check_zone_name,
	  .mark_off = offsetof(struct conf_zone, name_at) },
	K_ENUM("trust", struct conf_zone, trust, trust_vals, "untrusted"),
	K_ENUM("auth", struct conf_zone, auth, auth_vals, "required"),
	K_CIDRS("allow", struct conf_zone, allow, nallow),
	K_CIDRS("deny", struct conf_zone, deny, ndeny),
	{ .name = "methods", .type = CONF_T_SEQ,
	  .off = offsetof(struct conf_zone, methods),
	  .size = FSIZE(struct conf_zone, methods), .min = 0,
	  .max = CONF_MAX_METHODS, .sub = &method_elem,
	  .elem_size = sizeof(int),
	  .count_off = offsetof(struct conf_zone, nmethods) },
	K_MAP("rate_limits", struct conf_zone, rate, zone_rate_keys),
	/* no defaults here: the loader derives both from the zone */
	{ .name = "media_address", .type = CONF_T_ADDR,
	  .off = offsetof(struct conf_zone, media_address),
	  .size = FSIZE(struct conf_zone, media_address),
	  .print_if = zone_has_media_address },
	{ .name = "srtp", .type = CONF_T_ENUM,
	  .off = offsetof(struct conf_zone, srtp),
	  .size = FSIZE(struct conf_zone, srtp), .vals = srtp_vals,
	  .print_if = zone_has_srtp },
	K_END
};

static const struct conf_key zone_elem = {
	.name = "zones", .type = CONF_T_MAP, .flags = CONF_K_MARK,
	.off = 0, .size = sizeof(struct conf_zone), .sub = zone_keys,
	.mark_off = offsetof(struct conf_zone, at),
};

static const struct conf_key sip_limits_keys[] = {
	K_UINT(struct conf_sip_limits, max_message_size, 1024, 65507, "16384"),
	K_UINT(struct conf_sip_limits, max_stream_message_size, 1024, 65536,
	    "65536"),
	K_UINT(struct conf_sip_limits, max_headers, 8, 256, "128"),
	K_UINT(struct conf_sip_limits, max_header_length, 128, 8192, "8192"),
	K_UINT(struct conf_sip_limits, max_uri_length, 64, 4096, "1024"),
	K_UINT(struct conf_sip_limits, max_via, 1, 128, "70"),
	K_UINT(struct conf_sip_limits, max_body, 0, 65536, "16384"),
	K_END
};

static const struct conf_key sip_timers_keys[] = {
	K_DUR("t1", struct conf_sip_timers, t1_ms, MS(100), SEC(10), "500ms"),
	K_DUR("t2", struct conf_sip_timers, t2_ms, SEC(1), SEC(60), "4s"),
	K_DUR("t4", struct conf_sip_timers, t4_ms, SEC(1), SEC(60), "5s"),
	K_END
};

static const struct conf_key sip_tcp_keys[] = {
	K_DUR("idle_timeout", struct conf_sip_tcp, idle_timeout_ms, SEC(1),
	    HOUR(24), "120s"),
	K_DUR("message_timeout", struct conf_sip_tcp, message_timeout_ms,
	    SEC(1), MIN(5), "10s"),
	K_UINT(struct conf_sip_tcp, max_connections, 1, 1000000, "4096"),
	K_UINT(struct conf_sip_tcp, max_connections_per_source, 1, 65535,
	    "32"),
	K_END
};

static const struct conf_key sip_keys[] = {
	K_MAP("limits", struct conf_sip, limits, sip_limits_keys),
	K_MAP("timers", struct conf_sip, timers, sip_timers_keys),
	K_MAP("tcp", struct conf_sip, tcp, sip_tcp_keys),
	K_UINT(struct conf_sip, max_transactions, 1024, 4194304, "65536"),
	K_END
};

static const struct conf_key events_keys[] = {
	K_STR("file", struct conf_events, file, 0, NULL, "events.jsonl"),
	K_BOOL("stdout", struct conf_events, to_stdout, "false"),
	K_BOOL("syslog", struct conf_events, to_syslog, "false"),
	K_ENUM("syslog_facility", struct conf_events, syslog_facility,
	    facility_vals, "local0"),
	K_ENUM("min_severity", struct conf_events, min_severity,
	    severity_vals, "info"),
	K_END
};

static const struct conf_key log_keys[] = {
	K_ENUM("level", struct conf_log, level, log_level_vals, "info"),
	K_END
};

static const struct conf_key store_keys[] = {
	K_STR("path", struct conf_store, path, 1, NULL, "sipwall.db"),
	K_END
};

static const struct conf_key auth_keys[] = {
	K_STR("realm", struct conf_auth, realm, 1, check_realm, "sipwall"),
	{ .name = "algorithms", .type = CONF_T_SEQ,
	  .off = offsetof(struct conf_auth, algorithms),
	  .size = FSIZE(struct conf_auth, algorithms), .min = 1,
	  .max = CONF_MAX_ALGORITHMS, .sub = &alg_elem,
	  .elem_size = sizeof(int),
	  .count_off = offsetof(struct conf_auth, nalgorithms) },
	K_DUR("nonce_ttl", struct conf_auth, nonce_ttl_ms, SEC(10), HOUR(1),
	    "5m"),
	K_BOOL("nonce_bind_source", struct conf_auth, nonce_bind_source,
	    "true"),
	K_END
};

static const struct conf_key registrar_keys[] = {
	K_DUR("min_expires", struct conf_registrar, min_expires_ms, SEC(10),
	    HOUR(24), "60s"),
	K_DUR("max_expires", struct conf_registrar, max_expires_ms, SEC(10),
	    HOUR(24 * 7), "1h"),
	K_DUR("default_expires", struct conf_registrar, default_expires_ms,
	    SEC(10), HOUR(24 * 7), "30m"),
	K_UINT(struct conf_registrar, max_contacts, 1, 32, "5"),
	K_DUR("nat_expires", struct conf_registrar, nat_expires_ms, SEC(10),
	    HOUR(1), "60s"),
	K_DUR("nat_keepalive", struct conf_registrar, nat_keepalive_ms, 0,
	    HOUR(1), "25s"),
	K_END
};

static const struct conf_key bans_keys[] = {
	K_BOOL("enabled", struct conf_bans, enabled, "true"),
	K_DUR("first", struct conf_bans, first_ms, SEC(1), HOUR(24), "5m"),
	K_UINT(struct conf_bans, factor, 1, 16, "4"),
	K_DUR("max", struct conf_bans, max_ms, MIN(1), HOUR(24 * 30), "24h"),
	K_DUR("forget", struct conf_bans, forget_ms, MIN(1), HOUR(24 * 30),
	    "24h"),
	K_UINT(struct conf_bans, auth_failures, 1, 100000, "10"),
	K_DUR("auth_window", struct conf_bans, auth_window_ms, SEC(1),
	    HOUR(24), "5m"),
	K_UINT(struct conf_bans, rate_strikes, 1, 100000, "5"),
	K_DUR("rate_window", struct conf_bans, rate_window_ms, SEC(1),
	    HOUR(24), "1m"),
	K_CIDRS("never", struct conf_bans, never, nnever),
	K_END
};

static const struct conf_key scanner_keys[] = {
	K_BOOL("enabled", struct conf_scanner, enabled, "true"),
	K_FILE("signatures", struct conf_scanner, signatures),
	K_UINT(struct conf_scanner, unknown_users, 1, 100000, "10"),
	K_UINT(struct conf_scanner, sweep, 1, 100000, "20"),
	K_DUR("window", struct conf_scanner, window_ms, SEC(1), HOUR(24),
	    "1m"),
	K_END
};

static const struct conf_key bruteforce_keys[] = {
	K_UINT(struct conf_bruteforce, failures, 1, 1000000, "30"),
	K_DUR("window", struct conf_bruteforce, window_ms, SEC(10), HOUR(24),
	    "10m"),
	K_DUR("lock", struct conf_bruteforce, lock_ms, SEC(10), HOUR(24 * 7),
	    "30m"),
	K_END
};

static const struct conf_key target_keys[] = {
	K_ENUM("transport", struct conf_target, transport, conf_transport_vals,
	    "udp"),
	{ .name = "address", .type = CONF_T_ADDR, .flags = CONF_K_REQUIRED,
	  .off = offsetof(struct conf_target, addr),
	  .size = FSIZE(struct conf_target, addr) },
	K_UINT(struct conf_target, port, 1, 65535, "5060"),
	{ .name = "tls_ca", .type = CONF_T_STR, .flags = CONF_K_MARK,
	  .off = offsetof(struct conf_target, tls_ca),
	  .size = FSIZE(struct conf_target, tls_ca), .min = 0,
	  .max = FSIZE(struct conf_target, tls_ca) - 1, .def = "",
	  .mark_off = offsetof(struct conf_target, tls_ca_at) },
	K_STR("tls_name", struct conf_target, tls_name, 0, NULL, ""),
	K_END
};

static const struct conf_key target_elem = {
	.name = "targets", .type = CONF_T_MAP, .flags = CONF_K_MARK,
	.off = 0, .size = sizeof(struct conf_target), .sub = target_keys,
	.mark_off = offsetof(struct conf_target, at),
};

static const struct conf_key core_keys[] = {
	{ .name = "zone", .type = CONF_T_STR, .flags = CONF_K_MARK,
	  .off = offsetof(struct conf_core, zone_name),
	  .size = FSIZE(struct conf_core, zone_name),
	  .min = 0, .max = CONF_ZONE_NAME_MAX, .check = check_zone_name,
	  .mark_off = offsetof(struct conf_core, zone_at), .def = "" },
	{ .name = "targets", .type = CONF_T_SEQ,
	  .off = offsetof(struct conf_core, targets),
	  .size = FSIZE(struct conf_core, targets), .min = 0,
	  .max = CONF_MAX_TARGETS, .sub = &target_elem,
	  .elem_size = sizeof(struct conf_target),
	  .count_off = offsetof(struct conf_core, ntargets) },
	K_DUR("probe_interval", struct conf_core, probe_interval_ms, 0,
	    HOUR(1), "10s"),
	K_END
};

static const struct conf_key header_elem = {
	.name = "header", .type = CONF_T_STR, .off = 0,
	.size = CONF_HEADER_NAME_MAX + 1, .min = 1,
	.max = CONF_HEADER_NAME_MAX, .check = check_header_name,
};

/* A dialled number or prefix: digits, '+', '*', '#' (no SIP URI). */
static int
check_number(const char *s, char *why, size_t cap)
{
	for (const char *p = s; *p != '\0'; p++)
		if (!(*p >= '0' && *p <= '9') && *p != '+' && *p != '*' &&
		    *p != '#') {
			snprintf(why, cap, "a number holds digits, '+', '*' "
			    "and '#' only (found '%c')", *p);
			return -1;
		}
	return 0;
}

static const struct conf_key number_elem = {
	.name = "number", .type = CONF_T_STR, .off = 0,
	.size = CONF_NUMBER_MAX + 1, .min = 1, .max = CONF_NUMBER_MAX,
	.check = check_number,
};

static const struct conf_key trunk_keys[] = {
	{ .name = "name", .type = CONF_T_STR, .flags = CONF_K_REQUIRED,
	  .off = offsetof(struct conf_trunk, name),
	  .size = FSIZE(struct conf_trunk, name),
	  .min = 1, .max = CONF_ZONE_NAME_MAX, .check = check_zone_name },
	{ .name = "zone", .type = CONF_T_STR,
	  .flags = CONF_K_REQUIRED | CONF_K_MARK,
	  .off = offsetof(struct conf_trunk, zone_name),
	  .size = FSIZE(struct conf_trunk, zone_name),
	  .min = 1, .max = CONF_ZONE_NAME_MAX, .check = check_zone_name,
	  .mark_off = offsetof(struct conf_trunk, zone_at) },
	K_ENUM("transport", struct conf_trunk, transport, conf_transport_vals,
	    "udp"),
	{ .name = "address", .type = CONF_T_ADDR, .flags = CONF_K_REQUIRED,
	  .off = offsetof(struct conf_trunk, addr),
	  .size = FSIZE(struct conf_trunk, addr) },
	K_UINT(struct conf_trunk, port, 1, 65535, "5060"),
	{ .name = "prefixes", .type = CONF_T_SEQ,
	  .off = offsetof(struct conf_trunk, prefixes),
	  .size = FSIZE(struct conf_trunk, prefixes), .min = 0,
	  .max = CONF_MAX_PREFIXES, .sub = &number_elem,
	  .elem_size = CONF_NUMBER_MAX + 1,
	  .count_off = offsetof(struct conf_trunk, nprefixes) },
	K_BOOL("default", struct conf_trunk, default_route, "false"),
	{ .name = "dids", .type = CONF_T_SEQ,
	  .off = offsetof(struct conf_trunk, dids),
	  .size = FSIZE(struct conf_trunk, dids), .min = 0,
	  .max = CONF_MAX_DIDS, .sub = &number_elem,
	  .elem_size = CONF_NUMBER_MAX + 1,
	  .count_off = offsetof(struct conf_trunk, ndids) },
	K_STR("username", struct conf_trunk, username, 0, NULL, ""),
	{ .name = "password", .type = CONF_T_STR, .flags = CONF_K_SECRET,
	  .off = offsetof(struct conf_trunk, password),
	  .size = FSIZE(struct conf_trunk, password), .min = 0,
	  .max = FSIZE(struct conf_trunk, password) - 1, .def = "" },
	K_STR("domain", struct conf_trunk, domain, 0, NULL, ""),
	K_BOOL("register", struct conf_trunk, do_register, "false"),
	K_DUR("register_expires", struct conf_trunk, register_expires_ms,
	    MIN(1), HOUR(24), "10m"),
	{ .name = "tls_ca", .type = CONF_T_STR, .flags = CONF_K_MARK,
	  .off = offsetof(struct conf_trunk, tls_ca),
	  .size = FSIZE(struct conf_trunk, tls_ca), .min = 0,
	  .max = FSIZE(struct conf_trunk, tls_ca) - 1, .def = "",
	  .mark_off = offsetof(struct conf_trunk, tls_ca_at) },
	K_STR("tls_name", struct conf_trunk, tls_name, 0, NULL, ""),
	K_BOOL("tls_mutual", struct conf_trunk, tls_mutual, "false"),
	K_END
};

static const struct conf_key trunk_elem = {
	.name = "trunks", .type = CONF_T_MAP, .flags = CONF_K_MARK,
	.off = 0, .size = sizeof(struct conf_trunk), .sub = trunk_keys,
	.mark_off = offsetof(struct conf_trunk, at),
};

static const struct conf_key calls_keys[] = {
	K_DUR("max_duration", struct conf_calls, max_duration_ms, SEC(1),
	    HOUR(48), "3h"),
	K_DUR("ring_timeout", struct conf_calls, ring_timeout_ms, SEC(5),
	    MIN(10), "2m"),
	K_DUR("keepalive", struct conf_calls, keepalive_ms, 0, HOUR(1), "60s"),
	K_UINT(struct conf_calls, max_calls, 1, 1000000, "20000"),
	K_DUR("min_se", struct conf_calls, min_se_ms, SEC(1), HOUR(2), "90s"),
	{ .name = "headers", .type = CONF_T_SEQ,
	  .off = offsetof(struct conf_calls, headers),
	  .size = FSIZE(struct conf_calls, headers), .min = 0,
	  .max = CONF_MAX_HEADERS, .sub = &header_elem,
	  .elem_size = CONF_HEADER_NAME_MAX + 1,
	  .count_off = offsetof(struct conf_calls, nheaders) },
	K_END
};

/* Digits only: a country code or a dialling prefix. */
static int
check_digits(const char *s, char *why, size_t cap)
{
	for (const char *p = s; *p != '\0'; p++)
		if (!(*p >= '0' && *p <= '9')) {
			snprintf(why, cap, "digits only (found '%c')", *p);
			return -1;
		}
	return 0;
}

/* An E.164 prefix as rules are written: "+44900" or "44900". */
static int
check_e164_prefix(const char *s, char *why, size_t cap)
{
	const char *p = s[0] == '+' ? s + 1 : s;

	if (*p == '\0' || strlen(p) > 15) {
		snprintf(why, cap, "an E.164 prefix has 1 to 15 digits");
		return -1;
	}
	return check_digits(p, why, cap);
}

static int
check_group_name(const char *s, char *why, size_t cap)
{
	for (const char *p = s; *p != '\0'; p++) {
		unsigned char ch = (unsigned char)*p;

		if (!ctype_is(ch, CT_ALNUM) && ch != '.' && ch != '_' &&
		    ch != '-') {
			snprintf(why, cap, "group names may only contain "
			    "letters, digits, '.', '_' and '-' (found '%c')", ch);
			return -1;
		}
	}
	return 0;
}

static int
check_hours(const char *s, char *why, size_t cap)
{
	struct conf_hours h;

	return conf_hours_parse(s, &h, why, cap);
}

static const struct conf_key prefix_elem = {
	.name = "prefix", .type = CONF_T_STR, .off = 0,
	.size = CONF_PREFIX_MAX + 1, .min = 1, .max = CONF_PREFIX_MAX,
	.check = check_digits,
};

static const struct conf_key e164_elem = {
	.name = "prefix", .type = CONF_T_STR, .off = 0,
	.size = CONF_NUMBER_MAX + 1, .min = 1, .max = 16,
	.check = check_e164_prefix,
};

static const struct conf_key hours_elem = {
	.name = "hours", .type = CONF_T_STR, .off = 0,
	.size = CONF_HOURS_MAX + 1, .min = 1, .max = CONF_HOURS_MAX,
	.check = check_hours,
};

static const struct conf_key dialplan_keys[] = {
	{ .name = "country_code", .type = CONF_T_STR,
	  .off = offsetof(struct conf_dialplan, country_code),
	  .size = FSIZE(struct conf_dialplan, country_code), .min = 1,
	  .max = 3, .check = check_digits, .def = "1" },
	{ .name = "international_prefixes", .type = CONF_T_SEQ,
	  .off = offsetof(struct conf_dialplan, intl),
	  .size = FSIZE(struct conf_dialplan, intl), .min = 1,
	  .max = CONF_MAX_INTL, .sub = &prefix_elem,
	  .elem_size = CONF_PREFIX_MAX + 1,
	  .count_off = offsetof(struct conf_dialplan, nintl) },
	{ .name = "national_prefix", .type = CONF_T_STR,
	  .off = offsetof(struct conf_dialplan, national),
	  .size = FSIZE(struct conf_dialplan, national), .min = 0,
	  .max = CONF_PREFIX_MAX, .check = check_digits, .def = "1" },
	{ .name = "access_code", .type = CONF_T_STR,
	  .off = offsetof(struct conf_dialplan, access_code),
	  .size = FSIZE(struct conf_dialplan, access_code), .min = 0,
	  .max = CONF_PREFIX_MAX, .check = check_digits, .def = "" },
	{ .name = "extension_digits", .type = CONF_T_UINT,
	  .off = offsetof(struct conf_dialplan, extension_digits),
	  .size = FSIZE(struct conf_dialplan, extension_digits),
	  .min = 1, .max = 8, .def = "4" },
	{ .name = "emergency", .type = CONF_T_SEQ,
	  .off = offsetof(struct conf_dialplan, emergency),
	  .size = FSIZE(struct conf_dialplan, emergency), .min = 1,
	  .max = CONF_MAX_EMERGENCY, .sub = &number_elem,
	  .elem_size = CONF_NUMBER_MAX + 1,
	  .count_off = offsetof(struct conf_dialplan, nemergency) },
	{ .name = "internal", .type = CONF_T_SEQ,
	  .off = offsetof(struct conf_dialplan, internal),
	  .size = FSIZE(struct conf_dialplan, internal), .min = 0,
	  .max = CONF_MAX_INTERNAL, .sub = &e164_elem,
	  .elem_size = CONF_NUMBER_MAX + 1,
	  .count_off = offsetof(struct conf_dialplan, ninternal) },
	K_END
};

static const struct conf_enum_val refer_vals[] = {
	{ "off", CONF_REFER_OFF, NULL },
	{ "internal", CONF_REFER_INTERNAL, NULL },
	{ "policy", CONF_REFER_POLICY, NULL },
	{ NULL, 0, NULL }
};

static const struct conf_key group_keys[] = {
	{ .name = "name", .type = CONF_T_STR, .flags = CONF_K_REQUIRED,
	  .off = offsetof(struct conf_group, name),
	  .size = FSIZE(struct conf_group, name),
	  .min = 1, .max = CONF_GROUP_NAME_MAX, .check = check_group_name },
	K_BOOL("international", struct conf_group, international, "false"),
	K_BOOL("premium", struct conf_group, premium, "false"),
	K_BOOL("high_risk", struct conf_group, high_risk, "false"),
	{ .name = "allow", .type = CONF_T_SEQ,
	  .off = offsetof(struct conf_group, allow),
	  .size = FSIZE(struct conf_group, allow), .min = 0,
	  .max = CONF_MAX_POLICY_PREFIXES, .sub = &e164_elem,
	  .elem_size = CONF_NUMBER_MAX + 1,
	  .count_off = offsetof(struct conf_group, nallow) },
	{ .name = "deny", .type = CONF_T_SEQ,
	  .off = offsetof(struct conf_group, deny),
	  .size = FSIZE(struct conf_group, deny), .min = 0,
	  .max = CONF_MAX_POLICY_PREFIXES, .sub = &e164_elem,
	  .elem_size = CONF_NUMBER_MAX + 1,
	  .count_off = offsetof(struct conf_group, ndeny) },
	K_UINT(struct conf_group, max_concurrent, 0, 100000, "4"),
	K_UINT(struct conf_group, calls_per_minute, 0, 1000000, "10"),
	K_UINT(struct conf_group, calls_per_day, 0, 10000000, "500"),
	K_UINT(struct conf_group, minutes_per_day, 0, 1440000, "600"),
	{ .name = "hours", .type = CONF_T_SEQ,
	  .off = offsetof(struct conf_group, hours),
	  .size = FSIZE(struct conf_group, hours), .min = 0,
	  .max = CONF_MAX_HOURS, .sub = &hours_elem,
	  .elem_size = CONF_HOURS_MAX + 1,
	  .count_off = offsetof(struct conf_group, nhours) },
	K_END
};

static const struct conf_key group_elem = {
	.name = "groups", .type = CONF_T_MAP, .flags = CONF_K_MARK,
	.off = 0, .size = sizeof(struct conf_group), .sub = group_keys,
	.mark_off = offsetof(struct conf_group, at),
};

static const struct conf_key policy_keys[] = {
	K_FILE("high_risk_file", struct conf_policy, high_risk_file),
	K_ENUM("refer", struct conf_policy, refer, refer_vals, "internal"),
	K_STR("forward_group", struct conf_policy, forward_group, 1,
	    check_group_name, "default"),
	K_STR("core_group", struct conf_policy, core_group, 0,
	    check_group_name, ""),
	K_UINT(struct conf_policy, max_redirects, 0, 5, "2"),
	{ .name = "groups", .type = CONF_T_SEQ,
	  .off = offsetof(struct conf_policy, groups),
	  .size = FSIZE(struct conf_policy, groups), .min = 1,
	  .max = CONF_MAX_GROUPS, .sub = &group_elem,
	  .elem_size = sizeof(struct conf_group),
	  .count_off = offsetof(struct conf_policy, ngroups) },
	K_END
};

static const struct conf_key overload_keys[] = {
	K_UINT(struct conf_overload, queue_high, 0, 1000000, "2000"),
	K_UINT(struct conf_overload, busy_percent, 10, 100, "90"),
	K_BOOL("reply", struct conf_overload, reply, "false"),
	K_END
};

static const struct conf_key media_keys[] = {
	K_BOOL("anchor", struct conf_media, anchor, "true"),
	K_UINT(struct conf_media, workers, 0, CONF_MAX_WORKERS, "1"),
	K_UINT(struct conf_media, port_min, 1024, 65534, "20000"),
	K_UINT(struct conf_media, port_max, 1025, 65535, "39999"),
	K_DUR("timeout", struct conf_media, timeout_ms, 0, HOUR(1), "60s"),
	K_DUR("one_way_timeout", struct conf_media, one_way_timeout_ms, 0,
	    HOUR(1), "30s"),
	K_BOOL("one_way_hangup", struct conf_media, one_way_hangup, "false"),
	K_BOOL("strict_source", struct conf_media, strict_source, "true"),
	K_ENUM("latch", struct conf_media, latch, latch_vals, "signalling"),
	K_END
};

static bool
admin_has_http(const void *base)
{
	return ((const struct conf_admin *)base)->http_port != 0;
}

static int
check_group_unix(const char *s, char *why, size_t cap)
{
	for (const char *p = s; *p != '\0'; p++)
		if (!ctype_is((unsigned char)*p, CT_ALNUM) &&
		    strchr("_-.", *p) == NULL) {
			snprintf(why, cap, "not a Unix group name (found '%c')",
			    *p);
			return -1;
		}
	return 0;
}

static int
check_sha256_hex(const char *s, char *why, size_t cap)
{
	size_t n = strlen(s);

	if (n == 0)
		return 0;
	if (n != CONF_SHA256_HEX || strspn(s, "0123456789abcdef") != n) {
		snprintf(why, cap, "not 64 lowercase hex digits (a SHA-256; "
		    "`sipwall admin token` prints one)");
		return -1;
	}
	return 0;
}

static int
check_url(const char *s, char *why, size_t cap)
{
	if (s[0] == '\0')
		return 0;
	if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0) {
		snprintf(why, cap, "not an http:// or https:// URL");
		return -1;
	}
	for (const char *p = s; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f) {
			snprintf(why, cap, "a URL may not contain spaces or "
			    "control characters");
			return -1;
		}
	return 0;
}

static const struct conf_key admin_keys[] = {
	K_STR("socket", struct conf_admin, socket, 0, NULL, "control.sock"),
	K_STR("socket_group", struct conf_admin, socket_group, 0,
	    check_group_unix, ""),
	K_UINT(struct conf_admin, http_port, 0, 65535, "0"),
	{ .name = "http_address", .type = CONF_T_ADDR,
	  .off = offsetof(struct conf_admin, http_address),
	  .size = FSIZE(struct conf_admin, http_address), .def = "127.0.0.1",
	  .print_if = admin_has_http },
	K_STR("http_zone", struct conf_admin, http_zone, 0, NULL, ""),
	{ .name = "token_sha256", .type = CONF_T_STR, .flags = CONF_K_SECRET,
	  .off = offsetof(struct conf_admin, token_sha256),
	  .size = FSIZE(struct conf_admin, token_sha256), .min = 0,
	  .max = CONF_SHA256_HEX, .check = check_sha256_hex, .def = "" },
	K_BOOL("dashboard", struct conf_admin, dashboard, "true"),
	K_END
};

static const struct conf_key alerts_keys[] = {
	K_BOOL("enabled", struct conf_alerts, enabled, "true"),
	K_STR("webhook", struct conf_alerts, webhook, 0, check_url, ""),
	K_DUR("webhook_timeout", struct conf_alerts, webhook_timeout_ms,
	    MS(100), MIN(1), "5s"),
	K_UINT(struct conf_alerts, retries, 0, 100, "5"),
	K_DUR("window", struct conf_alerts, window_ms, SEC(10), HOUR(1), "1m"),
	K_UINT(struct conf_alerts, factor, 2, 1000, "10"),
	K_UINT(struct conf_alerts, min_count, 1, 1000000, "20"),
	K_UINT(struct conf_alerts, reg_failures, 0, 100000000, "0"),
	K_UINT(struct conf_alerts, auth_failures, 0, 100000000, "0"),
	K_UINT(struct conf_alerts, invite_failures, 0, 100000000, "0"),
	K_UINT(struct conf_alerts, calls_out, 0, 100000000, "0"),
	K_UINT(struct conf_alerts, calls_international, 0, 100000000, "0"),
	K_UINT(struct conf_alerts, calls_per_account, 0, 100000000, "0"),
	K_BOOL("new_country", struct conf_alerts, new_country, "true"),
	{ .name = "hours", .type = CONF_T_SEQ,
	  .off = offsetof(struct conf_alerts, hours),
	  .size = FSIZE(struct conf_alerts, hours), .min = 0,
	  .max = CONF_MAX_HOURS, .sub = &hours_elem,
	  .elem_size = CONF_HOURS_MAX + 1,
	  .count_off = offsetof(struct conf_alerts, nhours) },
	K_UINT(struct conf_alerts, off_hours_calls, 0, 100000000, "0"),
	K_END
};

/* "name" or "name:zone" with a known finding name (see conf.c). */
static int
check_ack(const char *s, char *why, size_t cap)
{
	static const char *names[] = { "auth_none", "srtp_off", "srtp_prefer",
	    "unlimited", "admin_public" };
	size_t n = strcspn(s, ":");

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == n && strncmp(s, names[i], n) == 0) {
			if (s[n] == ':' && check_zone_name(s + n + 1, why,
			    cap) < 0)
				return -1;
			return 0;
		}
	snprintf(why, cap, "not a finding sipwall check reports (auth_none:ZONE, "
	    "srtp_off:ZONE, srtp_prefer:ZONE, unlimited:ZONE, admin_public)");
	return -1;
}

static const struct conf_key ack_elem = {
	.name = "acknowledge", .type = CONF_T_STR, .off = 0,
	.size = CONF_ACK_MAX + 1, .min = 1, .max = CONF_ACK_MAX,
	.check = check_ack,
};

static const struct conf_key cdr_keys[] = {
	K_UINT(struct conf_cdr, retention_days, 1, 3650, "90"),
	K_END
};

const struct conf_key conf_schema[] = {
	{ .name = "version", .type = CONF_T_UINT, .flags = CONF_K_REQUIRED,
	  .off = offsetof(struct sw_conf, version),
	  .size = FSIZE(struct sw_conf, version),
	  .min = CONF_VERSION, .max = CONF_VERSION, .def = "1" },
	K_MAP("node", struct sw_conf, node, node_keys),
	{ .name = "listen", .type = CONF_T_SEQ, .flags = CONF_K_REQUIRED,
	  .off = offsetof(struct sw_conf, listen),
	  .size = FSIZE(struct sw_conf, listen),
	  .min = 1, .max = CONF_MAX_LISTEN, .sub = &listen_elem,
	  .elem_size = sizeof(struct conf_listen),
	  .count_off = offsetof(struct sw_conf, nlisten) },
	{ .name = "zones", .type = CONF_T_SEQ, .flags = CONF_K_REQUIRED,
	  .off = offsetof(struct sw_conf, zones),
	  .size = FSIZE(struct sw_conf, zones),
	  .min = 1, .max = CONF_MAX_ZONES, .sub = &zone_elem,
	  .elem_size = sizeof(struct conf_zone),
	  .count_off = offsetof(struct sw_conf, nzones) },
	K_MAP("sip", struct sw_conf, sip, sip_keys),
	K_MAP("events", struct sw_conf, events, events_keys),
	K_MAP("log", struct sw_conf, log, log_keys),
	K_MAP("store", struct sw_conf, store, store_keys),
	K_MAP("auth", struct sw_conf, auth, auth_keys),
	K_MAP("registrar", struct sw_conf, registrar, registrar_keys),
	K_MAP("bans", struct sw_conf, bans, bans_keys),
	K_MAP("scanner", struct sw_conf, scanner, scanner_keys),
	K_MAP("bruteforce", struct sw_conf, bruteforce, bruteforce_keys),
	K_MAP("core", struct sw_conf, core, core_keys),
	K_MAP("calls", struct sw_conf, calls, calls_keys),
	{ .name = "trunks", .type = CONF_T_SEQ,
	  .off = offsetof(struct sw_conf, trunks),
	  .size = FSIZE(struct sw_conf, trunks), .min = 0,
	  .max = CONF_MAX_TRUNKS, .sub = &trunk_elem,
	  .elem_size = sizeof(struct conf_trunk),
	  .count_off = offsetof(struct sw_conf, ntrunks) },
	K_MAP("dialplan", struct sw_conf, dialplan, dialplan_keys),
	K_MAP("policy", struct sw_conf, policy, policy_keys),
	K_MAP("overload", struct sw_conf, overload, overload_keys),
	K_MAP("media", struct sw_conf, media, media_keys),
	K_MAP("admin", struct sw_conf, admin, admin_keys),
	K_MAP("alerts", struct sw_conf, alerts, alerts_keys),
	K_MAP("cdr", struct sw_conf, cdr, cdr_keys),
	{ .name = "acknowledge", .type = CONF_T_SEQ,
	  .off = offsetof(struct sw_conf, acks),
	  .size = FSIZE(struct sw_conf, acks), .min = 0,
	  .max = CONF_MAX_ACKS, .sub = &ack_elem,
	  .elem_size = CONF_ACK_MAX + 1,
	  .count_off = offsetof(struct sw_conf, nacks) },
	K_END
};

const char *
conf_method_name(int method)
{
	const char *s = conf_enum_name(method_vals, method);

	return s != NULL ? s : "?";
}

const char *
conf_algorithm_name(int alg)
{
	const char *s = conf_enum_name(alg_vals, alg);

	return s != NULL ? s : "?";
}

const char *
conf_refer_name(enum conf_refer r)
{
	const char *s = conf_enum_name(refer_vals, (int)r);

	return s != NULL ? s : "?";
}

const struct conf_group *
conf_group_find(const struct sw_conf *conf, const char *name)
{
	for (size_t i = 0; i < conf->policy.ngroups; i++)
		if (strcmp(conf->policy.groups[i].name, name) == 0)
			return &conf->policy.groups[i];
	return NULL;
}

static int
hhmm(const char *s, unsigned *ret)
{
	if (!(s[0] >= '0' && s[0] <= '2') || !(s[1] >= '0' && s[1] <= '9') ||
	    s[2] != ':' || !(s[3] >= '0' && s[3] <= '5') ||
	    !(s[4] >= '0' && s[4] <= '9'))
		return -1;
	*ret = (unsigned)((s[0] - '0') * 10 + (s[1] - '0')) * 60 +
	    (unsigned)((s[3] - '0') * 10 + (s[4] - '0'));
	return *ret <= 24 * 60 ? 0 : -1;
}

int
conf_hours_parse(const char *s, struct conf_hours *ret, char *why,
    size_t cap)
{
	static const char *const dn[7] = {
		"mon", "tue", "wed", "thu", "fri", "sat", "sun"
	};
	const char *sp = strchr(s, ' ');
	char days[16];
	int a = -1, b = -1;
	unsigned from, to;

	memset(ret, 0, sizeof(*ret));
	if (sp == NULL || (size_t)(sp - s) >= sizeof(days))
		goto bad;
	memcpy(days, s, (size_t)(sp - s));
	days[sp - s] = '\0';
	if (strcmp(days, "daily") == 0) {
		a = 0;
		b = 6;
	} else {
		char *dash = strchr(days, '-');

		if (dash != NULL)
			*dash = '\0';
		for (int i = 0; i < 7; i++) {
			if (strcmp(days, dn[i]) == 0)
				a = i;
			if (dash != NULL && strcmp(dash + 1, dn[i]) == 0)
				b = i;
		}
		if (dash == NULL)
			b = a;
		if (a < 0 || b < 0)
			goto bad;
	}
	for (int i = a;; i = (i + 1) % 7) {	/* "fri-mon" wraps */
		ret->days |= (uint8_t)(1u << i);
		if (i == b)
			break;
	}
	sp++;
	if (strlen(sp) != 11 || sp[5] != '-' || hhmm(sp, &from) < 0 ||
	    hhmm(sp + 6, &to) < 0 || from == 24 * 60 || from == to)
		goto bad;
	ret->from = (uint16_t)from;
	ret->to = (uint16_t)to;
	return 0;
bad:
	snprintf(why, cap, "a time window is DAYS HH:MM-HH:MM, DAYS one of "
	    "mon..sun, a range like mon-fri, or daily (e.g. \"mon-fri "
	    "08:00-18:00\")");
	return -1;
}

const char *
conf_cidr_str(const struct conf_cidr *c, char *buf, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];

	sw_addr_ip_str(&c->addr, ip, sizeof(ip));
	snprintf(buf, cap, "%s/%u", ip, c->plen);
	return buf;
}

bool
conf_cidr_match(const struct conf_cidr *c, const union sw_addr *a)
{
	const uint8_t *p, *q;
	unsigned full, rest;

	if (c->addr.sa.sa_family != a->sa.sa_family)
		return false;
	if (a->sa.sa_family == AF_INET6) {
		p = c->addr.sin6.sin6_addr.s6_addr;
		q = a->sin6.sin6_addr.s6_addr;
	} else {
		p = (const uint8_t *)&c->addr.sin.sin_addr;
		q = (const uint8_t *)&a->sin.sin_addr;
	}
	full = c->plen / 8;
	rest = c->plen % 8;
	if (memcmp(p, q, full) != 0)
		return false;
	return rest == 0 ||
	    ((p[full] ^ q[full]) & (uint8_t)(0xff00u >> rest)) == 0;
}

const char *
conf_enum_name(const struct conf_enum_val *vals, int value)
{
	for (; vals->name != NULL; vals++)
		if (vals->value == value)
			return vals->name;
	return NULL;
}

const char *
conf_transport_name(enum conf_transport t)
{
	const char *s = conf_enum_name(conf_transport_vals, (int)t);

	return s != NULL ? s : "?";
}

const char *
conf_tls_version_name(enum conf_tls_version v)
{
	const char *s = conf_enum_name(tls_version_vals, (int)v);

	return s != NULL ? s : "?";
}

const char *
conf_trust_name(enum conf_trust t)
{
	const char *s = conf_enum_name(trust_vals, (int)t);

	return s != NULL ? s : "?";
}

const char *
conf_srtp_name(enum conf_srtp v)
{
	const char *s = conf_enum_name(srtp_vals, (int)v);

	return s != NULL ? s : "?";
}

const char *
conf_log_level_name(enum conf_log_level l)
{
	const char *s = conf_enum_name(log_level_vals, (int)l);

	return s != NULL ? s : "?";
}

const char *
conf_syslog_facility_name(int facility)
{
	const char *s = conf_enum_name(facility_vals, facility);

	return s != NULL ? s : "?";
}

void
conf_duration_fmt(uint32_t ms, char *buf, size_t cap)
{
	if (ms == 0)
		snprintf(buf, cap, "0s");
	else if (ms % CONF_HOUR == 0)
		snprintf(buf, cap, "%uh", ms / CONF_HOUR);
	else if (ms % CONF_MIN == 0)
		snprintf(buf, cap, "%um", ms / CONF_MIN);
	else if (ms % CONF_SEC == 0)
		snprintf(buf, cap, "%us", ms / CONF_SEC);
	else
		snprintf(buf, cap, "%ums", ms);
}
