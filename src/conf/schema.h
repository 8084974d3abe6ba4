/*
 * The config schema as tables, private to src/conf/.  schema.c holds
 * the rows; conf.c parses and checks against them, conf_defaults()
 * applies their defaults, printconf.c prints in their order.  A new
 * setting is a new row (plus its struct field, its line in
 * docs/config.md and a test).
 *
 * Defaults are written as the YAML text a user would write ("500ms",
 * "16384", "info") and go through the same converter as the file, so
 * a default can never be out of its own range.
 */
#ifndef SW_CONF_SCHEMA_H
#define SW_CONF_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"

enum conf_type {
	CONF_T_END = 0,		/* ends a table */
	CONF_T_MAP,		/* sub: the keys */
	CONF_T_SEQ,		/* sub: one row describing an element */
	CONF_T_UINT,		/* unsigned integer, size 1, 2, 4 or 8 */
	CONF_T_BOOL,		/* bool */
	CONF_T_STR,		/* char[size], printable ASCII */
	CONF_T_ENUM,		/* int-sized enum, names in vals */
	CONF_T_DURATION,	/* uint32_t milliseconds; "500ms" "4s" "5m" "1h" */
	CONF_T_ADDR,		/* union sw_addr, IP literal, port 0 */
	CONF_T_CIDR,		/* struct conf_cidr, "192.0.2.0/24" */
	CONF_T_RATE,		/* uint32_t per hour; "20/s" "300/m" "50/h" */
	CONF_T_MAX
};

/* Row flags. */
#define CONF_K_REQUIRED	0x01u	/* must be written in the file */
#define CONF_K_MARK	0x02u	/* store the value's position at mark_off */
#define CONF_K_SECRET	0x04u	/* printed as "********" when set */

struct conf_enum_val {
	const char	*name;
	int		 value;
	const char	*unsupported;	/* non-NULL: refused with this text */
};

/* Extra check of a string value; 0 or -1 with a reason in why. */
typedef int conf_check_fn(const char *s, char *why, size_t cap);

struct conf_key {
	const char		*name;
	enum conf_type		 type;
	unsigned		 flags;
	size_t			 off;		/* of the field in the parent */
	size_t			 size;		/* of the field */
	uint64_t		 min, max;	/* value, ms, length or entries */
	const char		*def;		/* default as YAML text, or NULL */
	const struct conf_enum_val *vals;	/* ENUM, ends with name NULL */
	const struct conf_key	*sub;		/* MAP keys / SEQ element */
	size_t			 elem_size;	/* SEQ */
	size_t			 count_off;	/* SEQ: size_t count */
	size_t			 mark_off;	/* CONF_K_MARK */
	conf_check_fn		*check;		/* STR */
	/* Printed only when this says so (NULL: always); what is not
	 * printed must be what the loader assumes when it is absent. */
	bool			(*print_if)(const void *base);
};

/* Milliseconds per duration unit. */
#define CONF_SEC	1000u
#define CONF_MIN	(60u * CONF_SEC)
#define CONF_HOUR	(60u * CONF_MIN)

/* The top-level keys. */
extern const struct conf_key conf_schema[];
/* udp, tcp, tls: shared with conf_listen_override(). */
extern const struct conf_enum_val conf_transport_vals[];

/* "500ms", "4s", "2m", "1h": the largest unit that is exact. */
void	conf_duration_fmt(uint32_t ms, char *buf, size_t cap);
/* Name of an enum value, or NULL. */
const char *conf_enum_name(const struct conf_enum_val *vals, int value);

#endif
