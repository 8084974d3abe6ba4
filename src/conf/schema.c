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
#include <stdio.h>
#include <syslog.h>

#include "conf/conf.h"
#include "conf/schema.h"
#include "core/ctype.h"
#include "sip/limits.h"

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

const struct conf_enum_val conf_transport_vals[] = {
	{ "udp", CONF_TRANSPORT_UDP, NULL },
	{ "tcp", CONF_TRANSPORT_TCP, NULL },
	{ "tls", CONF_TRANSPORT_TLS, "not supported yet (use udp or tcp)" },
	{ NULL, 0, NULL }
};

static const struct conf_enum_val trust_vals[] = {
	{ "untrusted", CONF_TRUST_UNTRUSTED, NULL },
	{ "trusted", CONF_TRUST_TRUSTED, NULL },
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
	K_END
};

static const struct conf_key listen_elem = {
	.name = "listen", .type = CONF_T_MAP, .flags = CONF_K_MARK,
	.off = 0, .size = sizeof(struct conf_listen), .sub = listen_keys,
	.mark_off = offsetof(struct conf_listen, at),
};

static const struct conf_key zone_keys[] = {
	{ .name = "name", .type = CONF_T_STR,
	  .flags = CONF_K_REQUIRED | CONF_K_MARK,
	  .off = offsetof(struct conf_zone, name),
	  .size = FSIZE(struct conf_zone, name),
	  .min = 1, .max = CONF_ZONE_NAME_MAX, .check = check_zone_name,
	  .mark_off = offsetof(struct conf_zone, name_at) },
	K_ENUM("trust", struct conf_zone, trust, trust_vals, "untrusted"),
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
	K_END
};

static const struct conf_key events_keys[] = {
	K_STR("file", struct conf_events, file, 0, NULL, "events.jsonl"),
	K_BOOL("stdout", struct conf_events, to_stdout, "false"),
	K_BOOL("syslog", struct conf_events, to_syslog, "false"),
	K_ENUM("syslog_facility", struct conf_events, syslog_facility,
	    facility_vals, "local0"),
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
	K_END
};

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
conf_trust_name(enum conf_trust t)
{
	const char *s = conf_enum_name(trust_vals, (int)t);

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
