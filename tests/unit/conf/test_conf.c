/*
 * Unit tests for src/conf/conf.c and src/conf/printconf.c: defaults,
 * every type, every range boundary, every error message with its
 * line:col, several errors in one file, canonical printing and its
 * round trip, and the command-line listener override.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf/conf.h"
#include "conf/schema.h"

#define NAME	"t.yaml"

/* Smallest valid config; 6 lines, so text appended starts at line 7. */
#define BASE \
	"version: 1\n" \
	"listen:\n" \
	"  - address: 127.0.0.1\n" \
	"    zone: z\n" \
	"zones:\n" \
	"  - name: z\n"
#define BASE_LINES	6

static struct conf_diag diag;

static int
load(const char *text, struct sw_conf **ret)
{
	conf_diag_init(&diag);
	*ret = NULL;
	return conf_load_buf(NAME, text, strlen(text), ret, &diag);
}

static int
load_fmt(struct sw_conf **ret, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
load_fmt(struct sw_conf **ret, const char *fmt, ...)
{
	char buf[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return load(buf, ret);
}

static void
dump_diag(void)
{
	for (size_t i = 0; i < diag.n; i++)
		print_message("  diag[%zu] %s\n", i, diag.e[i].text);
}

/* The config must load; show the errors if it does not. */
static struct sw_conf *
must_load(const char *text)
{
	struct sw_conf *c;
	int r = load(text, &c);

	if (r != 0)
		dump_diag();
	assert_int_equal(r, 0);
	assert_non_null(c);
	assert_int_equal(conf_diag_count(&diag), 0);
	return c;
}

/* The config must fail with exactly these errors, in this order. */
static void
expect_errors(const char *text, ...)
{
	struct sw_conf *c = (struct sw_conf *)(uintptr_t)1;
	const char *want;
	size_t n = 0;
	va_list ap;
	int r = load(text, &c);

	assert_int_equal(r, -EINVAL);
	assert_true(c == NULL);		/* untouched on failure (set by load) */
	va_start(ap, text);
	while ((want = va_arg(ap, const char *)) != NULL) {
		if (n >= diag.n || strcmp(diag.e[n].text, want) != 0) {
			print_message("want[%zu] %s\n", n, want);
			dump_diag();
			fail();
		}
		n++;
	}
	va_end(ap);
	if (n != diag.n) {
		dump_diag();
		fail_msg("%zu errors, expected %zu", diag.n, n);
	}
}

/* BASE + extra must fail with exactly one error. */
static void
expect_one(const char *extra, const char *want)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), BASE "%s", extra);
	expect_errors(buf, want, NULL);
}

static char *
print_mem(const struct sw_conf *c)
{
	char *p = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&p, &len);

	assert_non_null(f);
	assert_int_equal(conf_print(f, c), 0);
	fclose(f);
	return p;
}

/* ------------------------------------------------------------------ */

static void
test_defaults(void **state)
{
	struct sw_conf c;

	(void)state;
	conf_defaults(&c);
	assert_int_equal(c.version, 1);
	assert_string_equal(c.node.name, "sipwall");
	assert_int_equal(c.node.workers, 0);
	assert_string_equal(c.node.state_dir, "var");
	assert_int_equal(c.nlisten, 0);
	assert_int_equal(c.nzones, 0);
	assert_int_equal(c.sip.limits.max_message_size, 16384);
	assert_int_equal(c.sip.limits.max_stream_message_size, 65536);
	assert_int_equal(c.sip.limits.max_headers, 128);
	assert_int_equal(c.sip.limits.max_header_length, 8192);
	assert_int_equal(c.sip.limits.max_uri_length, 1024);
	assert_int_equal(c.sip.limits.max_via, 70);
	assert_int_equal(c.sip.limits.max_body, 16384);
	assert_int_equal(c.sip.timers.t1_ms, 500);
	assert_int_equal(c.sip.timers.t2_ms, 4000);
	assert_int_equal(c.sip.timers.t4_ms, 5000);
	assert_int_equal(c.sip.tcp.idle_timeout_ms, 120000);
	assert_int_equal(c.sip.tcp.message_timeout_ms, 10000);
	assert_int_equal(c.sip.tcp.max_connections, 4096);
	assert_int_equal(c.sip.tcp.max_connections_per_source, 32);
	assert_string_equal(c.events.file, "events.jsonl");
	assert_false(c.events.to_stdout);
	assert_false(c.events.to_syslog);
	assert_int_equal(c.events.syslog_facility, LOG_LOCAL0);
	assert_int_equal(c.events.min_severity, LOG_INFO);
	assert_int_equal(c.log.level, CONF_LOG_INFO);
	assert_false(c.listen_overridden);
}

static void
test_minimal(void **state)
{
	struct sw_conf *c, d;
	char a[SW_ADDR_STRLEN];

	(void)state;
	c = must_load(BASE);
	assert_int_equal(c->nlisten, 1);
	assert_int_equal(c->listen[0].transport, CONF_TRANSPORT_UDP);
	assert_int_equal(c->listen[0].port, 5060);
	assert_string_equal(sw_addr_str(&c->listen[0].addr, a, sizeof(a)),
	    "127.0.0.1:5060");
	assert_int_equal(c->listen[0].zone, 0);
	assert_string_equal(c->listen[0].zone_name, "z");
	assert_int_equal(c->listen[0].at.line, 3);
	assert_int_equal(c->listen[0].at.col, 5);
	assert_int_equal(c->listen[0].zone_at.line, 4);
	assert_int_equal(c->listen[0].zone_at.col, 11);
	assert_int_equal(c->nzones, 1);
	assert_string_equal(c->zones[0].name, "z");
	assert_int_equal(c->zones[0].trust, CONF_TRUST_UNTRUSTED);
	assert_int_equal(c->zones[0].name_at.line, 6);
	/* everything else is the default */
	conf_defaults(&d);
	assert_memory_equal(&c->node, &d.node, sizeof(d.node));
	assert_memory_equal(&c->sip, &d.sip, sizeof(d.sip));
	assert_memory_equal(&c->events, &d.events, sizeof(d.events));
	assert_memory_equal(&c->log, &d.log, sizeof(d.log));
	conf_free(c);
	conf_free(NULL);
}

static const char full_conf[] =
	"version: 1\n"
	"node:\n"
	"  name: Edge_1.example-a\n"
	"  workers: 8\n"
	"  state_dir: /var/lib/sipwall\n"
	"listen:\n"
	"  - transport: tcp\n"
	"    address: 192.0.2.10\n"
	"    port: 5080\n"
	"    zone: office\n"
	"  - transport: udp\n"
	"    address: 2001:DB8::0:1\n"
	"    port: 65535\n"
	"    zone: internet\n"
	"zones:\n"
	"  - name: internet\n"
	"    trust: untrusted\n"
	"  - name: office\n"
	"    trust: trusted\n"
	"    allow: [10.1.0.0/16]\n"
	"sip:\n"
	"  limits:\n"
	"    max_message_size: 65507\n"
	"    max_stream_message_size: 1024\n"
	"    max_headers: 8\n"
	"    max_header_length: 8192\n"
	"    max_uri_length: 64\n"
	"    max_via: 32\n"
	"    max_body: 0\n"
	"  timers:\n"
	"    t1: 250ms\n"
	"    t2: 8s\n"
	"    t4: 1m\n"
	"  tcp:\n"
	"    idle_timeout: 1h\n"
	"    message_timeout: 1500ms\n"
	"    max_connections: 100\n"
	"    max_connections_per_source: 100\n"
	"events:\n"
	"  file: \"\"\n"
	"  stdout: true\n"
	"  syslog: True\n"
	"  syslog_facility: authpriv\n"
	"  min_severity: debug\n"
	"log:\n"
	"  level: debug\n";

static void
test_every_key(void **state)
{
	struct sw_conf *c;
	char a[SW_ADDR_STRLEN];

	(void)state;
	c = must_load(full_conf);
	assert_string_equal(c->node.name, "Edge_1.example-a");
	assert_int_equal(c->node.workers, 8);
	assert_string_equal(c->node.state_dir, "/var/lib/sipwall");
	assert_int_equal(c->nlisten, 2);
	assert_int_equal(c->listen[0].transport, CONF_TRANSPORT_TCP);
	assert_string_equal(sw_addr_str(&c->listen[0].addr, a, sizeof(a)),
	    "192.0.2.10:5080");
	assert_int_equal(c->listen[0].port, 5080);
	assert_int_equal(c->listen[0].zone, 1);
	assert_int_equal(c->listen[1].transport, CONF_TRANSPORT_UDP);
	assert_string_equal(sw_addr_str(&c->listen[1].addr, a, sizeof(a)),
	    "[2001:db8::1]:65535");
	assert_int_equal(c->listen[1].zone, 0);
	assert_int_equal(c->nzones, 2);
	assert_int_equal(c->zones[1].trust, CONF_TRUST_TRUSTED);
	assert_int_equal(c->sip.limits.max_message_size, 65507);
	assert_int_equal(c->sip.limits.max_stream_message_size, 1024);
	assert_int_equal(c->sip.limits.max_headers, 8);
	assert_int_equal(c->sip.limits.max_header_length, 8192);
	assert_int_equal(c->sip.limits.max_uri_length, 64);
	assert_int_equal(c->sip.limits.max_via, 32);
	assert_int_equal(c->sip.limits.max_body, 0);
	assert_int_equal(c->sip.timers.t1_ms, 250);
	assert_int_equal(c->sip.timers.t2_ms, 8000);
	assert_int_equal(c->sip.timers.t4_ms, 60000);
	assert_int_equal(c->sip.tcp.idle_timeout_ms, 3600000);
	assert_int_equal(c->sip.tcp.message_timeout_ms, 1500);
	assert_int_equal(c->sip.tcp.max_connections, 100);
	assert_int_equal(c->sip.tcp.max_connections_per_source, 100);
	assert_string_equal(c->events.file, "");
	assert_true(c->events.to_stdout);
	assert_true(c->events.to_syslog);
	assert_int_equal(c->events.syslog_facility, LOG_AUTHPRIV);
	assert_int_equal(c->events.min_severity, LOG_DEBUG);
	assert_int_equal(c->log.level, CONF_LOG_DEBUG);
	conf_free(c);
}

/* Flow style, quoted keys and comments are all plain YAML. */
static void
test_flow_style(void **state)
{
	struct sw_conf *c;

	(void)state;
	c = must_load("# comment\n"
	    "{\"version\": 1, listen: [{address: \"::1\", zone: z, "
	    "transport: 'tcp'}], zones: [{name: z}], log: {level: warn}}\n");
	assert_int_equal(c->listen[0].transport, CONF_TRANSPORT_TCP);
	assert_int_equal(c->listen[0].addr.sa.sa_family, AF_INET6);
	assert_int_equal(c->log.level, CONF_LOG_WARN);
	conf_free(c);
	/* null sections keep their defaults */
	c = must_load(BASE "node:\nsip:\n  limits: ~\nevents: null\n");
	assert_string_equal(c->node.name, "sipwall");
	assert_int_equal(c->sip.limits.max_via, 70);
	conf_free(c);
}

static void
test_bool(void **state)
{
	static const struct {
		const char *text;
		bool v;
	} ok[] = {
		{ "true", true }, { "True", true }, { "TRUE", true },
		{ "false", false }, { "False", false }, { "FALSE", false },
	};
	struct sw_conf *c;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(load_fmt(&c, BASE "events:\n  stdout: %s\n",
		    ok[i].text), 0);
		assert_int_equal(c->events.to_stdout, ok[i].v);
		conf_free(c);
	}
	expect_one("events:\n  stdout: yes\n",
	    NAME ":8:11: events.stdout: expected true or false, got 'yes'");
	expect_one("events:\n  stdout: on\n",
	    NAME ":8:11: events.stdout: expected true or false, got 'on'");
	expect_one("events:\n  stdout: 1\n",
	    NAME ":8:11: events.stdout: expected true or false, got '1'");
	expect_one("events:\n  stdout: \"true\"\n",
	    NAME ":8:11: events.stdout: expected true or false, got a quoted "
	    "string \"true\"");
	expect_one("events:\n  stdout:\n",
	    NAME ":8:10: events.stdout: expected true or false, got null");
}

static void
test_uint(void **state)
{
	(void)state;
	expect_one("node:\n  workers: \"4\"\n",
	    NAME ":8:12: node.workers: expected an integer, got a quoted "
	    "string \"4\" (remove the quotes)");
	expect_one("node:\n  workers: four\n",
	    NAME ":8:12: node.workers: expected an integer, got 'four'");
	expect_one("node:\n  workers: 4.0\n",
	    NAME ":8:12: node.workers: expected an integer, got '4.0'");
	expect_one("node:\n  workers: 0x10\n",
	    NAME ":8:12: node.workers: expected an integer, got '0x10'");
	expect_one("node:\n  workers: +4\n",
	    NAME ":8:12: node.workers: expected an integer, got '+4'");
	expect_one("node:\n  workers: 1_0\n",
	    NAME ":8:12: node.workers: expected an integer, got '1_0'");
	expect_one("node:\n  workers: -x\n",
	    NAME ":8:12: node.workers: expected an integer, got '-x'");
	expect_one("node:\n  workers: 010\n",
	    NAME ":8:12: node.workers: '010' has a leading zero; write the "
	    "number without it");
	expect_one("node:\n  workers: -1\n",
	    NAME ":8:12: node.workers: -1 is out of range (0..64)");
	expect_one("node:\n  workers: 18446744073709551617\n",
	    NAME ":8:12: node.workers: 18446744073709551617 is out of range "
	    "(0..64)");
	expect_one("node:\n  workers: ~\n",
	    NAME ":8:12: node.workers: expected an integer, got null");
	expect_one("node:\n  workers: [1]\n",
	    NAME ":8:12: node.workers: expected an integer, got a sequence");
	expect_one("node:\n  workers: {a: 1}\n",
	    NAME ":8:12: node.workers: expected an integer, got a mapping");
}

/* Every numeric key at both ends of its range and just outside. */
struct bound {
	const char	*yaml;		/* text up to the value */
	const char	*path;
	size_t		 off;		/* uint32_t in struct sw_conf */
	const char	*lo, *hi;	/* accepted */
	uint32_t	 lo_v, hi_v;
	const char	*below, *above;	/* refused */
	const char	*range;
};

#define OFF(f)	offsetof(struct sw_conf, f)

static const struct bound bounds[] = {
	{ "node:\n  workers: ", "node.workers", OFF(node.workers),
	  "0", "64", 0, 64, NULL, "65", "(0..64)" },
	{ "sip:\n  limits:\n    max_message_size: ",
	  "sip.limits.max_message_size", OFF(sip.limits.max_message_size),
	  "1024", "65507", 1024, 65507, "1023", "65508", "(1024..65507)" },
	{ "sip:\n  limits:\n    max_stream_message_size: ",
	  "sip.limits.max_stream_message_size",
	  OFF(sip.limits.max_stream_message_size),
	  "1024", "65536", 1024, 65536, "1023", "65537", "(1024..65536)" },
	{ "sip:\n  limits:\n    max_headers: ", "sip.limits.max_headers",
	  OFF(sip.limits.max_headers), "8", "256", 8, 256, "7", "257",
	  "(8..256)" },
	{ "sip:\n  limits:\n    max_header_length: ",
	  "sip.limits.max_header_length", OFF(sip.limits.max_header_length),
	  "128", "8192", 128, 8192, "127", "8193", "(128..8192)" },
	{ "sip:\n  limits:\n    max_uri_length: ",
	  "sip.limits.max_uri_length", OFF(sip.limits.max_uri_length),
	  "64", "4096", 64, 4096, "63", "4097", "(64..4096)" },
	{ "sip:\n  limits:\n    max_via: ", "sip.limits.max_via",
	  OFF(sip.limits.max_via), "1", "128", 1, 128, "0", "129", "(1..128)" },
	{ "sip:\n  limits:\n    max_body: ", "sip.limits.max_body",
	  OFF(sip.limits.max_body), "0", "65536", 0, 65536, NULL, "65537",
	  "(0..65536)" },
	{ "sip:\n  timers:\n    t2: 60s\n    t1: ", "sip.timers.t1",
	  OFF(sip.timers.t1_ms), "100ms", "10s", 100, 10000, "99ms", "10001ms",
	  "(100ms..10s)" },
	{ "sip:\n  timers:\n    t2: 60s\n    t1: ", "sip.timers.t1",
	  OFF(sip.timers.t1_ms), "100ms", "10000ms", 100, 10000, "0ms", "11s",
	  "(100ms..10s)" },
	{ "sip:\n  timers:\n    t2: ", "sip.timers.t2",
	  OFF(sip.timers.t2_ms), "1s", "60s", 1000, 60000, "999ms", "61s",
	  "(1s..1m)" },
	{ "sip:\n  timers:\n    t4: ", "sip.timers.t4",
	  OFF(sip.timers.t4_ms), "1s", "1m", 1000, 60000, "999ms", "60001ms",
	  "(1s..1m)" },
	{ "sip:\n  tcp:\n    idle_timeout: ", "sip.tcp.idle_timeout",
	  OFF(sip.tcp.idle_timeout_ms), "1s", "24h", 1000, 86400000, "999ms",
	  "1441m", "(1s..24h)" },
	{ "sip:\n  tcp:\n    message_timeout: ", "sip.tcp.message_timeout",
	  OFF(sip.tcp.message_timeout_ms), "1000ms", "300s", 1000, 300000,
	  "0s", "301s", "(1s..5m)" },
	{ "sip:\n  tcp:\n    max_connections: ", "sip.tcp.max_connections",
	  OFF(sip.tcp.max_connections), "32", "1000000", 32, 1000000, "0",
	  "1000001", "(1..1000000)" },
	{ "sip:\n  tcp:\n    max_connections: 1000000\n"
	  "    max_connections_per_source: ",
	  "sip.tcp.max_connections_per_source",
	  OFF(sip.tcp.max_connections_per_source), "1", "65535", 1, 65535,
	  "0", "65536", "(1..65535)" },
	{ "registrar:\n  nat_expires: ", "registrar.nat_expires",
	  OFF(registrar.nat_expires_ms), "10s", "1h", 10000, 3600000, "9s",
	  "61m", "(10s..1h)" },
	{ "registrar:\n  nat_keepalive: ", "registrar.nat_keepalive",
	  OFF(registrar.nat_keepalive_ms), "0s", "1h", 0, 3600000, NULL,
	  "3601s", "(0s..1h)" },
};

static void
bound_refused(const struct bound *b, const char *value)
{
	char text[1024], want[512];
	const char *last = strrchr(b->yaml, '\n');
	unsigned line = BASE_LINES + 1, col;

	for (const char *p = b->yaml; *p != '\0'; p++)
		line += *p == '\n';
	col = (unsigned)strlen(last + 1) + 1;
	snprintf(text, sizeof(text), BASE "%s%s\n", b->yaml, value);
	snprintf(want, sizeof(want), NAME ":%u:%u: %s: %s is out of range %s",
	    line, col, b->path, value, b->range);
	expect_errors(text, want, NULL);
}

/* registrar.nat_keepalive: off, or a second at least (not a flood) */
static void
test_nat_keepalive_floor(void **state)
{
	struct sw_conf *c = must_load(BASE "registrar:\n  nat_keepalive: 1s\n");

	(void)state;
	assert_int_equal(c->registrar.nat_keepalive_ms, 1000);
	assert_int_equal(c->registrar.nat_expires_ms, 60000);
	conf_free(c);
	expect_errors(BASE "registrar:\n  nat_keepalive: 500ms\n",
	    NAME ":8:18: registrar.nat_keepalive: 0s (off) or at least 1s",
	    NULL);
}

static void
test_bounds(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++) {
		const struct bound *b = &bounds[i];
		struct sw_conf *c;
		uint32_t v;

		assert_int_equal(load_fmt(&c, BASE "%s%s\n", b->yaml, b->lo), 0);
		memcpy(&v, (const char *)c + b->off, sizeof(v));
		assert_int_equal(v, b->lo_v);
		conf_free(c);
		assert_int_equal(load_fmt(&c, BASE "%s%s\n", b->yaml, b->hi), 0);
		memcpy(&v, (const char *)c + b->off, sizeof(v));
		assert_int_equal(v, b->hi_v);
		conf_free(c);
		if (b->below != NULL)
			bound_refused(b, b->below);
		bound_refused(b, b->above);
	}
}

static void
test_port_and_version(void **state)
{
	struct sw_conf *c;

	(void)state;
	c = must_load("version: 1\nlisten:\n  - {address: 127.0.0.1, port: 1, "
	    "zone: z}\n  - {address: 127.0.0.1, port: 65535, zone: z}\n"
	    "zones: [{name: z}]\n");
	assert_int_equal(c->listen[0].port, 1);
	assert_int_equal(sw_addr_port(&c->listen[0].addr), 1);
	assert_int_equal(c->listen[1].port, 65535);
	assert_int_equal(sw_addr_port(&c->listen[1].addr), 65535);
	conf_free(c);
	expect_errors("version: 1\nlisten:\n  - {address: 127.0.0.1, port: 0, "
	    "zone: z}\n  - {address: 127.0.0.1, port: 65536, zone: z}\n"
	    "zones: [{name: z}]\n",
	    NAME ":3:32: listen[0].port: 0 is out of range (1..65535)",
	    NAME ":4:32: listen[1].port: 65536 is out of range (1..65535)",
	    NULL);
	expect_errors("version: 2\n" "listen:\n  - {address: 127.0.0.1, "
	    "zone: z}\nzones: [{name: z}]\n",
	    NAME ":1:10: version: 2 is not supported (must be 1)", NULL);
	expect_errors("version: 0\n" "listen:\n  - {address: 127.0.0.1, "
	    "zone: z}\nzones: [{name: z}]\n",
	    NAME ":1:10: version: 0 is not supported (must be 1)", NULL);
}

static void
test_strings(void **state)
{
	struct sw_conf *c;
	char name63[64], name64[65];

	(void)state;
	memset(name63, 'a', 63);
	name63[63] = '\0';
	memset(name64, 'b', 64);
	name64[64] = '\0';
	assert_int_equal(load_fmt(&c, BASE "node:\n  name: %s\n", name63), 0);
	assert_string_equal(c->node.name, name63);
	conf_free(c);
	expect_one("node:\n  name: bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	    "bbbbbbbbbbbbbbbb\n",
	    NAME ":8:9: node.name: 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	    "...' is too long (64 characters, max 63)");
	expect_one("node:\n  name: \"\"\n",
	    NAME ":8:9: node.name: must not be empty");
	expect_one("node:\n  name:\n",
	    NAME ":8:8: node.name: expected a string, got null (write \"\" for "
	    "an empty string)");
	expect_one("node:\n  name: edge 1\n",
	    NAME ":8:9: node.name: may only contain letters, digits, '.', '_' "
	    "and '-' (found ' ')");
	expect_one("node:\n  name: \"edge\\t1\"\n",
	    NAME ":8:9: node.name: value contains a control or non-ASCII "
	    "character at offset 4 (only printable ASCII is allowed)");
	expect_one("node:\n  name: \"caf\\u00e9\"\n",
	    NAME ":8:9: node.name: value contains a control or non-ASCII "
	    "character at offset 3 (only printable ASCII is allowed)");
	expect_one("node:\n  name: \"a\\0b\"\n",
	    NAME ":8:9: node.name: value contains a control or non-ASCII "
	    "character at offset 1 (only printable ASCII is allowed)");
	expect_one("node:\n  state_dir: \"\"\n",
	    NAME ":8:14: node.state_dir: must not be empty");
	expect_one("node:\n  name: [a]\n",
	    NAME ":8:9: node.name: expected a string, got a sequence");
	/* a plain scalar that looks like a number is still a string */
	c = must_load(BASE "node:\n  name: 123\n  state_dir: 'a \"b\" \\c#:'\n"
	    "events:\n  file: \"\"\n");
	assert_string_equal(c->node.name, "123");
	assert_string_equal(c->node.state_dir, "a \"b\" \\c#:");
	assert_string_equal(c->events.file, "");
	conf_free(c);
	/* zone names are stricter */
	expect_errors("version: 1\nlisten:\n  - {address: 127.0.0.1, zone: z}\n"
	    "zones:\n  - name: Z\n  - name: z\n",
	    NAME ":5:11: zones[0].name: zone names may only contain lowercase "
	    "letters, digits, '_' and '-' (found 'Z')", NULL);
	expect_errors("version: 1\nlisten:\n  - {address: 127.0.0.1, zone: z}\n"
	    "zones:\n  - name: z\n  - name: "
	    "abcdefghijabcdefghijabcdefghijab\n",
	    NAME ":6:11: zones[1].name: 'abcdefghijabcdefghijabcdefghijab' is "
	    "too long (32 characters, max 31)", NULL);
}

static void
test_enums(void **state)
{
	struct sw_conf *c;

	(void)state;
	c = must_load(BASE "log:\n  level: 'error'\nevents:\n  syslog_facility: "
	    "local7\n");
	assert_int_equal(c->log.level, CONF_LOG_ERROR);
	assert_int_equal(c->events.syslog_facility, LOG_LOCAL7);
	conf_free(c);
	expect_one("log:\n  level: verbose\n",
	    NAME ":8:10: log.level: 'verbose' is not one of: error, warn, "
	    "info, debug");
	expect_one("log:\n  level: INFO\n",
	    NAME ":8:10: log.level: 'INFO' is not one of: error, warn, info, "
	    "debug");
	expect_one("events:\n  syslog_facility: local8\n",
	    NAME ":8:20: events.syslog_facility: 'local8' is not one of: "
	    "daemon, user, auth, authpriv, local0, local1, local2, local3, "
	    "local4, local5, local6, local7");
	expect_one("events:\n  min_severity: warn\n",
	    NAME ":8:17: events.min_severity: 'warn' is not one of: emerg, "
	    "alert, crit, err, warning, notice, info, debug");
	expect_errors("version: 1\nlisten:\n  - transport: tls\n"
	    "    address: 127.0.0.1\n    zone: z\nzones: [{name: z}]\n",
	    NAME ":3:5: listen[0]: a tls listener needs a 'tls' mapping with "
	    "cert and key", NULL);
	expect_errors("version: 1\nlisten:\n  - transport: sctp\n"
	    "    address: 127.0.0.1\n    zone: z\nzones:\n  - name: z\n"
	    "    trust: yes\n",
	    NAME ":3:16: listen[0].transport: 'sctp' is not one of: udp, tcp, "
	    "tls",
	    NAME ":8:12: zones[0].trust: 'yes' is not one of: untrusted, "
	    "trusted", NULL);
	expect_one("log:\n  level: ~\n",
	    NAME ":8:10: log.level: expected a name, got null");
}

static void
test_durations(void **state)
{
	static const struct {
		const char *text;
		uint32_t ms;
	} ok[] = {
		{ "150ms", 150 }, { "2s", 2000 }, { "10s", 10000 },
		{ "\"3s\"", 3000 }, { "'9000ms'", 9000 },
	};
	struct sw_conf *c;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(load_fmt(&c, BASE "sip:\n  timers:\n    t2: 10s\n"
		    "    t1: %s\n", ok[i].text), 0);
		assert_int_equal(c->sip.timers.t1_ms, ok[i].ms);
		conf_free(c);
	}
	c = must_load(BASE "sip:\n  tcp:\n    idle_timeout: 2h\n"
	    "    message_timeout: 5m\n");
	assert_int_equal(c->sip.tcp.idle_timeout_ms, 7200000);
	assert_int_equal(c->sip.tcp.message_timeout_ms, 300000);
	conf_free(c);
	expect_one("sip:\n  timers:\n    t1: 500\n",
	    NAME ":9:9: sip.timers.t1: '500' has no unit: durations require one "
	    "(ms, s, m or h), e.g. 500ms or 500s");
	expect_one("sip:\n  timers:\n    t1: \"500\"\n",
	    NAME ":9:9: sip.timers.t1: '500' has no unit: durations require one "
	    "(ms, s, m or h), e.g. 500ms or 500s");
	expect_one("sip:\n  timers:\n    t1: 500us\n",
	    NAME ":9:9: sip.timers.t1: bad duration unit 'us' in '500us' (use "
	    "ms, s, m or h)");
	expect_one("sip:\n  timers:\n    t1: 1S\n",
	    NAME ":9:9: sip.timers.t1: bad duration unit 'S' in '1S' (use ms, "
	    "s, m or h)");
	expect_one("sip:\n  timers:\n    t1: 1d\n",
	    NAME ":9:9: sip.timers.t1: bad duration unit 'd' in '1d' (use ms, "
	    "s, m or h)");
	expect_one("sip:\n  timers:\n    t1: 0.5s\n",
	    NAME ":9:9: sip.timers.t1: expected a duration like 500ms, 4s, 5m "
	    "or 1h (a whole number and a unit), got '0.5s'");
	expect_one("sip:\n  timers:\n    t1: 1m30s\n",
	    NAME ":9:9: sip.timers.t1: expected a duration like 500ms, 4s, 5m "
	    "or 1h (a whole number and a unit), got '1m30s'");
	expect_one("sip:\n  timers:\n    t1: 5 s\n",
	    NAME ":9:9: sip.timers.t1: expected a duration like 500ms, 4s, 5m "
	    "or 1h (a whole number and a unit), got '5 s'");
	expect_one("sip:\n  timers:\n    t1: ms\n",
	    NAME ":9:9: sip.timers.t1: expected a duration like 500ms, 4s, 5m "
	    "or 1h, got 'ms'");
	expect_one("sip:\n  timers:\n    t1: -5s\n",
	    NAME ":9:9: sip.timers.t1: expected a duration like 500ms, 4s, 5m "
	    "or 1h, got '-5s'");
	expect_one("sip:\n  tcp:\n    idle_timeout: 99999999999999999999h\n",
	    NAME ":9:19: sip.tcp.idle_timeout: 99999999999999999999h is out of "
	    "range (1s..24h)");
	expect_one("sip:\n  tcp:\n    idle_timeout: 4294968s\n",
	    NAME ":9:19: sip.tcp.idle_timeout: 4294968s is out of range "
	    "(1s..24h)");
	expect_one("sip:\n  timers:\n    t1:\n",
	    NAME ":9:8: sip.timers.t1: expected a duration (like 500ms, 4s, 5m, "
	    "1h), got null");
}

static void
test_addresses(void **state)
{
	struct sw_conf *c;
	char a[SW_ADDR_STRLEN];

	(void)state;
	c = must_load("version: 1\nlisten:\n"
	    "  - {address: 0.0.0.0, zone: z}\n"
	    "  - {address: '::', zone: z}\n"
	    "  - address: ::1\n    zone: z\n    port: 5070\n"
	    "  - {address: \"::ffff:192.0.2.1\", zone: z}\n"
	    "zones: [{name: z}]\n");
	assert_int_equal(c->nlisten, 4);
	assert_string_equal(sw_addr_str(&c->listen[0].addr, a, sizeof(a)),
	    "0.0.0.0:5060");
	assert_string_equal(sw_addr_str(&c->listen[1].addr, a, sizeof(a)),
	    "[::]:5060");
	assert_string_equal(sw_addr_str(&c->listen[2].addr, a, sizeof(a)),
	    "[::1]:5070");
	assert_string_equal(sw_addr_str(&c->listen[3].addr, a, sizeof(a)),
	    "[::ffff:192.0.2.1]:5060");
	conf_free(c);
	expect_errors("version: 1\nlisten:\n"
	    "  - {address: localhost, zone: z}\n"
	    "  - {address: sbc.example.com, zone: z}\n"
	    "  - {address: '[::1]', zone: z}\n"
	    "  - {address: 192.0.2.256, zone: z}\n"
	    "  - {address: '192.0.2.1:5060', zone: z}\n"
	    "  - {address: 'fe80::1%eth0', zone: z}\n"
	    "  - {address: 2001:db8:::1, zone: z}\n"
	    "  - {address: '', zone: z}\n"
	    "  - {address: 10.1, zone: z}\n"
	    "  - {zone: z}\n"
	    "zones: [{name: z}]\n",
	    NAME ":3:15: listen[0].address: 'localhost' is not an IP address; "
	    "host names are not allowed, write an IPv4 or IPv6 address",
	    NAME ":4:15: listen[1].address: 'sbc.example.com' is not an IP "
	    "address; host names are not allowed, write an IPv4 or IPv6 address",
	    NAME ":5:15: listen[2].address: '[::1]': write IPv6 addresses "
	    "without brackets",
	    NAME ":6:15: listen[3].address: '192.0.2.256' is not a valid IPv4 "
	    "or IPv6 address",
	    NAME ":7:15: listen[4].address: '192.0.2.1:5060' is not a valid "
	    "IPv4 or IPv6 address",
	    NAME ":8:15: listen[5].address: 'fe80::1%eth0' is not a valid IPv4 "
	    "or IPv6 address",
	    NAME ":9:15: listen[6].address: '2001:db8:::1' is not a valid IPv4 "
	    "or IPv6 address",
	    NAME ":10:15: listen[7].address: '' is not a valid IPv4 or IPv6 "
	    "address",
	    NAME ":11:15: listen[8].address: '10.1' is not a valid IPv4 or IPv6 "
	    "address",
	    NAME ":12:5: listen[9]: missing required key 'address'",
	    NULL);
}

static void
test_unknown_keys(void **state)
{
	(void)state;
	expect_one("node:\n  wrokers: 2\n",
	    NAME ":8:3: node: unknown key 'wrokers' (did you mean 'workers'?)");
	expect_one("node:\n  Workers: 2\n",
	    NAME ":8:3: node: unknown key 'Workers' (did you mean 'workers'?)");
	expect_one("node:\n  threads: 2\n",
	    NAME ":8:3: node: unknown key 'threads'");
	expect_one("loglevel: info\n",
	    NAME ":7:1: unknown key 'loglevel'");
	expect_one("workers: 2\n",
	    NAME ":7:1: unknown key 'workers' (it belongs under 'node')");
	expect_one("sip:\n  t1: 1s\n",
	    NAME ":8:3: sip: unknown key 't1' (did you mean 'tcp'?)");
	expect_one("sip:\n  idle_timeout: 1s\n",
	    NAME ":8:3: sip: unknown key 'idle_timeout' (it belongs under "
	    "'sip.tcp')");
	expect_one("event:\n  stdout: true\n",
	    NAME ":7:1: unknown key 'event' (did you mean 'events'?)");
	expect_errors("version: 1\nlisten:\n  - address: 127.0.0.1\n"
	    "    zone: z\n    prot: 5\nzones:\n  - name: z\n    trsut: trusted\n",
	    NAME ":5:5: listen[0]: unknown key 'prot' (did you mean 'port'?)",
	    NAME ":8:5: zones[0]: unknown key 'trsut' (did you mean 'trust'?)",
	    NULL);
	expect_one("? [a, b]\n: 1\n",
	    NAME ":7:3: keys must be plain names, got a sequence");
	expect_one("\"\\x01\": 1\n",
	    NAME ":7:1: unknown key '?'");
}

static void
test_duplicate_keys(void **state)
{
	(void)state;
	expect_one("node:\n  workers: 1\n  name: a\n  workers: 2\n",
	    NAME ":10:3: node: duplicate key 'workers' (first at line 8)");
	expect_errors(BASE "version: 1\n",
	    NAME ":7:1: duplicate key 'version' (first at line 1)", NULL);
	expect_errors(BASE "log: {level: info, level: warn}\n",
	    NAME ":7:20: log: duplicate key 'level' (first at line 7)", NULL);
	/* a repeated section is also a duplicate, its content is not read */
	expect_errors(BASE "node:\n  name: a\nnode:\n  name: [b]\n",
	    NAME ":9:1: duplicate key 'node' (first at line 7)", NULL);
}

static void
test_missing_keys(void **state)
{
	(void)state;
	expect_errors("",
	    NAME ":1:1: missing required key 'version'",
	    NAME ":1:1: missing required key 'listen'",
	    NAME ":1:1: missing required key 'zones'", NULL);
	expect_errors("# nothing\n\n",
	    NAME ":1:1: missing required key 'version'",
	    NAME ":1:1: missing required key 'listen'",
	    NAME ":1:1: missing required key 'zones'", NULL);
	expect_errors("\n\nnode:\n  name: a\n",
	    NAME ":3:1: missing required key 'version'",
	    NAME ":3:1: missing required key 'listen'",
	    NAME ":3:1: missing required key 'zones'", NULL);
	expect_errors("version: 1\nlisten:\n  - port: 5060\n  - transport: udp\n"
	    "zones:\n  - trust: trusted\n",
	    NAME ":3:5: listen[0]: missing required key 'address'",
	    NAME ":3:5: listen[0]: missing required key 'zone'",
	    NAME ":4:5: listen[1]: missing required key 'address'",
	    NAME ":4:5: listen[1]: missing required key 'zone'",
	    NAME ":6:5: zones[0]: missing required key 'name'", NULL);
	expect_errors("version: 1\nlisten:\n  - {}\nzones: [{name: z}]\n",
	    NAME ":3:5: listen[0]: missing required key 'address'",
	    NAME ":3:5: listen[0]: missing required key 'zone'", NULL);
	expect_errors("version: 1\nlisten:\n  -\nzones: [{name: z}]\n",
	    NAME ":3:4: listen[0]: missing required key 'address'",
	    NAME ":3:4: listen[0]: missing required key 'zone'", NULL);
}

static void
test_wrong_shapes(void **state)
{
	(void)state;
	expect_errors("- version: 1\n",
	    NAME ":1:1: the top level must be a mapping of keys (version, "
	    "node, listen, ...)", NULL);
	expect_errors("sipwall\n",
	    NAME ":1:1: the top level must be a mapping of keys (version, "
	    "node, listen, ...)", NULL);
	expect_one("node: edge-1\n",
	    NAME ":7:7: node: expected a mapping, got 'edge-1'");
	expect_one("sip:\n  - limits\n",
	    NAME ":8:3: sip: expected a mapping, got a sequence");
	expect_errors("version: 1\nlisten:\n  address: 127.0.0.1\n"
	    "zones: [{name: z}]\n",
	    NAME ":3:3: listen: expected a sequence (a list of '- ' entries), "
	    "got a mapping", NULL);
	expect_errors("version: 1\nlisten: 127.0.0.1\nzones: [{name: z}]\n",
	    NAME ":2:9: listen: expected a sequence (a list of '- ' entries), "
	    "got '127.0.0.1'", NULL);
	expect_errors("version: 1\nlisten:\n  - 127.0.0.1\nzones: [{name: z}]\n",
	    NAME ":3:5: listen[0]: expected a mapping, got '127.0.0.1'", NULL);
}

static void
test_sequences(void **state)
{
	char *buf;
	size_t o = 0, cap = 16384;
	struct sw_conf *c;

	(void)state;
	expect_errors("version: 1\nlisten: []\nzones: []\n",
	    NAME ":2:9: listen: needs at least 1 entry",
	    NAME ":3:8: zones: needs at least 1 entry", NULL);
	expect_errors("version: 1\nlisten:\nzones:\n",
	    NAME ":2:1: listen: needs at least 1 entry",
	    NAME ":3:1: zones: needs at least 1 entry", NULL);

	/* 64 listeners and 32 zones fit; one more of each does not */
	buf = malloc(cap);
	assert_non_null(buf);
	o += (size_t)snprintf(buf + o, cap - o, "version: 1\nlisten:\n");
	for (int i = 0; i < 64; i++)
		o += (size_t)snprintf(buf + o, cap - o,
		    "  - {address: 127.0.0.1, port: %d, zone: z%d}\n", 1000 + i,
		    i % 32);
	o += (size_t)snprintf(buf + o, cap - o, "zones:\n");
	for (int i = 0; i < 32; i++)
		o += (size_t)snprintf(buf + o, cap - o, "  - name: z%d\n", i);
	c = must_load(buf);
	assert_int_equal(c->nlisten, 64);
	assert_int_equal(c->nzones, 32);
	assert_int_equal(c->listen[63].zone, 31);
	assert_int_equal(c->listen[63].port, 1063);
	conf_free(c);

	o = 0;
	o += (size_t)snprintf(buf + o, cap - o, "version: 1\nlisten:\n");
	for (int i = 0; i < 65; i++)
		o += (size_t)snprintf(buf + o, cap - o,
		    "  - {address: 127.0.0.1, port: %d, zone: z}\n", 1000 + i);
	o += (size_t)snprintf(buf + o, cap - o, "zones:\n");
	for (int i = 0; i < 33; i++)
		if (i == 0)
			o += (size_t)snprintf(buf + o, cap - o, "  - name: z\n");
		else
			o += (size_t)snprintf(buf + o, cap - o, "  - name: z-%d\n",
			    i);
	expect_errors(buf,
	    NAME ":67:5: listen: too many entries (65, max 64)",
	    NAME ":101:5: zones: too many entries (33, max 32)", NULL);
	free(buf);
}

static void
test_cross_checks(void **state)
{
	struct sw_conf *c;

	(void)state;
	expect_errors("version: 1\nlisten:\n  - {address: 127.0.0.1, zone: dmz}\n"
	    "zones: [{name: z}]\n",
	    NAME ":3:32: listen[0].zone: zone 'dmz' is not defined under zones",
	    NULL);
	expect_errors("version: 1\nlisten:\n  - {address: 127.0.0.1, zone: z}\n"
	    "zones:\n  - name: z\n  - name: y\n  - name: z\n",
	    NAME ":7:11: zones[2].name: duplicate zone name 'z' (first at line "
	    "5)", NULL);
	expect_errors("version: 1\nlisten:\n"
	    "  - {address: 127.0.0.1, zone: z}\n"
	    "  - {address: 127.0.0.1, zone: z, transport: tcp}\n"
	    "  - {address: 127.0.0.1, zone: z, port: 5062}\n"
	    "  - {address: 127.0.0.1, zone: z, port: 5060, transport: udp}\n"
	    "  - {address: '::1', zone: z}\n"
	    "  - {address: '0:0:0:0:0:0:0:1', zone: z}\n"
	    "zones: [{name: z}]\n",
	    NAME ":6:5: listen[3]: duplicate listener udp 127.0.0.1:5060 "
	    "(first at line 3)",
	    NAME ":8:5: listen[5]: duplicate listener udp [::1]:5060 (first at "
	    "line 7)", NULL);
	/* media: the SIP port inside the media range; SRTP unenforceable */
	expect_errors("version: 1\nlisten:\n"
	    "  - {address: 127.0.0.1, zone: z, port: 20002}\n"
	    "zones: [{name: z}]\nmedia: {anchor: true}\n",
	    NAME ":3:5: listen[0]: UDP port 20002 is inside the media port "
	    "range 20000-39999; move one of them", NULL);
	expect_errors("version: 1\nlisten:\n  - {address: 127.0.0.1, zone: z}\n"
	    "zones: [{name: z}]\nmedia: {anchor: false}\n",
	    NAME ":4:9: zones[0]: srtp: require needs media anchored (with "
	    "media.anchor: false the SDP passes through and SRTP is neither "
	    "seen nor enforced); anchor media, or set srtp: off on zone 'z' "
	    "to accept plain RTP", NULL);
	c = must_load("version: 1\nlisten:\n  - {address: 127.0.0.1, zone: z}\n"
	    "zones: [{name: z, srtp: off}]\nmedia: {anchor: false}\n"
	    "acknowledge: [\"srtp_off:z\"]\n");
	conf_free(c);
	/* OPS3: unsafe settings need their finding acknowledged */
	expect_errors("version: 1\nlisten:\n  - {address: 127.0.0.1, zone: z}\n"
	    "zones: [{name: z, srtp: prefer,\n"
	    "  rate_limits: {source: {rate: 2000/s, burst: 10}}}]\n",
	    NAME ":4:9: zones[0]: the untrusted zone 'z' admits any source "
	    "and its per-source rate limit (1000/s or more) holds nothing "
	    "back; if that is intended, add \"unlimited:z\" to acknowledge:",
	    NAME ":4:9: zones[0]: srtp: prefer on the untrusted zone 'z' lets "
	    "a call fall back to plain RTP over networks you do not control; "
	    "if that is intended, add \"srtp_prefer:z\" to acknowledge:",
	    NULL);
	c = must_load("version: 1\nlisten:\n  - {address: 127.0.0.1, zone: z}\n"
	    "zones: [{name: z, srtp: prefer, allow: [192.0.2.0/24],\n"
	    "  rate_limits: {source: {rate: 2000/s, burst: 10}}}]\n"
	    "acknowledge: [\"srtp_prefer:z\", admin_public]\n");
	assert_int_equal(c->nacks, 2);
	conf_free(c);
	expect_errors("version: 1\nlisten:\n  - {address: 127.0.0.1, zone: z}\n"
	    "zones: [{name: z}]\nacknowledge: [everything]\n",
	    NAME ":5:15: acknowledge[0]: not a finding sipwall check reports "
	    "(auth_none:ZONE, srtp_off:ZONE, srtp_prefer:ZONE, unlimited:ZONE, "
	    "admin_public)", NULL);
	/* admin API: zone, allow list, token, private address */
	expect_errors("version: 1\nlisten:\n  - {address: 127.0.0.1, zone: z}\n"
	    "zones: [{name: z}, {name: adm, trust: trusted, allow: [10.0.0.0/8]}]\n"
	    "admin: {http_port: 8080, http_zone: nope}\n",
	    NAME ":5:20: admin.http_zone: the admin API needs the zone whose "
	    "allow list guards it; 'nope' is not defined under zones", NULL);
	expect_errors("version: 1\nlisten:\n  - {address: 127.0.0.1, zone: z}\n"
	    "zones: [{name: z}, {name: adm, trust: trusted, allow: [10.0.0.0/8]}]\n"
	    "admin: {http_port: 8080, http_zone: adm, http_address: 0.0.0.0}\n",
	    NAME ":5:20: admin.token_sha256: the admin API needs a bearer "
	    "token; `sipwall admin token` makes one and prints its hash",
	    NAME ":5:20: admin.http_address: the admin API on a public or "
	    "wildcard address is reachable from the internet; bind it to a "
	    "loopback or private address of the admin network; if that is "
	    "intended, add \"admin_public\" to acknowledge:", NULL);
	c = must_load("version: 1\nlisten:\n  - {address: 127.0.0.1, zone: z}\n"
	    "zones: [{name: z}, {name: adm, trust: trusted, allow: [10.0.0.0/8]}]\n"
	    "admin: {http_port: 8080, http_zone: adm, http_address: 10.1.2.3,\n"
	    "  token_sha256: " "0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef}\n");
	assert_int_equal(c->admin.http_zone_idx, 1);
	conf_free(c);
	/* an entry with an error of its own is not compared again */
	expect_errors("version: 1\nlisten:\n"
	    "  - {address: 127.0.0.1, zone: z}\n"
	    "  - {address: 127.0.0.1, zone: z, port: 0}\n"
	    "zones: [{name: z, trust: x}]\n",
	    NAME ":4:41: listen[1].port: 0 is out of range (1..65535)",
	    NAME ":5:26: zones[0].trust: 'x' is not one of: untrusted, trusted",
	    NULL);
	expect_one("sip:\n  timers:\n    t1: 5s\n    t2: 4s\n",
	    NAME ":10:9: sip.timers.t2: 4s is less than t1 (5s); T2 must be at "
	    "least T1");
	expect_one("sip:\n  timers:\n    t1: 5s\n",
	    NAME ":9:9: sip.timers.t1: 5s is more than t2 (4s); T1 must not "
	    "exceed T2");
	c = must_load(BASE "sip:\n  timers:\n    t1: 4s\n    t2: 4s\n");
	conf_free(c);
	expect_one("sip:\n  tcp:\n    max_connections: 10\n",
	    NAME ":9:22: sip.tcp.max_connections_per_source: 32 exceeds "
	    "max_connections (10)");
	expect_one("sip:\n  tcp:\n    max_connections: 10\n"
	    "    max_connections_per_source: 11\n",
	    NAME ":10:33: sip.tcp.max_connections_per_source: 11 exceeds "
	    "max_connections (10)");
}

static void
test_yaml_features_refused(void **state)
{
	(void)state;
	expect_errors(BASE "node: &n\n  name: a\nlog: *n\n",
	    NAME ":7:7: YAML anchors are not supported (&n); write the value "
	    "out",
	    NAME ":9:6: YAML aliases are not supported (*n); write the value "
	    "out", NULL);
	expect_errors(BASE "node:\n  name: &x a\n  state_dir: *x\n",
	    NAME ":8:9: YAML anchors are not supported (&x); write the value "
	    "out",
	    NAME ":9:14: YAML aliases are not supported (*x); write the value "
	    "out", NULL);
	/* an alias as a key is skipped by every later lookup */
	expect_errors(BASE "*x : 1\nsip: {timers: {t1: 5s}}\n",
	    NAME ":7:1: YAML aliases are not supported (*x); write the value "
	    "out",
	    NAME ":8:20: sip.timers.t1: 5s is more than t2 (4s); T1 must not "
	    "exceed T2", NULL);
	expect_one("node:\n  name: !!str a\n",
	    NAME ":8:9: YAML tags are not supported (!!str)");
	expect_one("node: !custom\n  name: a\n",
	    NAME ":7:7: YAML tags are not supported (!custom)");
	conf_free(must_load("%YAML 1.1\n---\n" BASE "...\n"));
	expect_errors(BASE "---\nversion: 1\n",
	    NAME ":7:1: only one YAML document is allowed", NULL);
}

static void
test_syntax_errors(void **state)
{
	(void)state;
	expect_errors("version: 1\nnode:\n  name: a\n   workers: 1\n",
	    NAME ":4:11: syntax error: mapping values are not allowed in this "
	    "context", NULL);
	expect_errors("version: 1\nnode: [a, b\nlog: x\n",
	    NAME ":3:4: syntax error: did not find expected ',' or ']' while "
	    "parsing a flow sequence (line 2 column 7)", NULL);
	expect_errors("version: 1\nnode:\n\tname: a\n",
	    NAME ":3:1: syntax error: found character that cannot start any "
	    "token while scanning for the next token (line 3 column 1)", NULL);
	expect_errors("version: \"1\n",
	    NAME ":2:1: syntax error: found unexpected end of stream while "
	    "scanning a quoted scalar (line 1 column 10)", NULL);
	expect_errors("version: 1\nnode:\n  name: \xc3\x28\n",
	    NAME ":3:10: invalid input: invalid trailing UTF-8 octet (byte "
	    "0x28)", NULL);
	expect_errors("version: 1\x01\n",
	    NAME ":1:11: invalid input: control characters are not allowed "
	    "(byte 0x01)", NULL);
}

static void
test_limits(void **state)
{
	struct sw_conf *c = NULL;
	char *buf;
	size_t n;

	(void)state;
	/* depth: 16 levels are fine (they fail the schema), 17 are not */
	expect_errors("a: [[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]\n",
	    NAME ":1:1: unknown key 'a'",
	    NAME ":1:1: missing required key 'version'",
	    NAME ":1:1: missing required key 'listen'",
	    NAME ":1:1: missing required key 'zones'", NULL);
	expect_errors("a: [[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]\n",
	    NAME ":1:19: nested too deeply (max 16 levels)", NULL);

	/* node count */
	n = (size_t)CONF_MAX_NODES * 2 + 16;
	buf = malloc(n);
	assert_non_null(buf);
	memcpy(buf, "a: [", 4);
	for (size_t i = 4; i + 2 < n; i += 2)
		memcpy(buf + i, "1,", 2);
	memcpy(buf + n - 2, "]\n", 2);
	conf_diag_init(&diag);
	assert_int_equal(conf_load_buf(NAME, buf, n, &c, &diag), -EINVAL);
	assert_null(c);
	assert_int_equal(diag.n, 1);
	assert_string_equal(diag.e[0].text,
	    NAME ":1:199999: too many YAML nodes (max 100000)");
	free(buf);

	/* size */
	n = (size_t)CONF_MAX_FILE + 1;
	buf = malloc(n);
	assert_non_null(buf);
	memset(buf, '#', n);
	conf_diag_init(&diag);
	assert_int_equal(conf_load_buf(NAME, buf, n, &c, &diag), -EFBIG);
	assert_null(c);
	assert_int_equal(diag.n, 1);
	assert_string_equal(diag.e[0].text,
	    NAME ": file is too large (1048577 bytes, max 1048576)");
	/* exactly the limit is read (and is all comment) */
	conf_diag_init(&diag);
	assert_int_equal(conf_load_buf(NAME, buf, n - 1, &c, &diag), -EINVAL);
	assert_string_equal(diag.e[0].msg_off + diag.e[0].text,
	    "missing required key 'version'");
	free(buf);

	/* a long scalar */
	n = CONF_MAX_SCALAR + 64;
	buf = malloc(n + 1);
	assert_non_null(buf);
	memcpy(buf, "node: {name: ", 13);
	memset(buf + 13, 'x', n - 15);
	memcpy(buf + n - 2, "}\n", 2);
	buf[n] = '\0';
	conf_diag_init(&diag);
	assert_int_equal(conf_load_buf(NAME, buf, n, &c, &diag), -EINVAL);
	assert_int_equal(diag.n, 4);
	assert_string_equal(diag.e[3].text,
	    NAME ":1:14: node.name: value is too long (4145 bytes)");
	free(buf);
}

/* Many errors at once: all reported, sorted by position. */
static void
test_many_errors(void **state)
{
	(void)state;
	expect_errors(
	    "version: 2\n"				/* 1 */
	    "node:\n"					/* 2 */
	    "  name: edge 1\n"				/* 3 */
	    "  workers: 65\n"				/* 4 */
	    "listen:\n"					/* 5 */
	    "  - transport: tls\n"			/* 6 */
	    "    address: pbx.example\n"		/* 7 */
	    "    zone: dmz\n"				/* 8 */
	    "  - address: 127.0.0.1\n"			/* 9 */
	    "    zone: internet\n"			/* 10 */
	    "  - address: 127.0.0.1\n"			/* 11 */
	    "    zone: internet\n"			/* 12 */
	    "zones:\n"					/* 13 */
	    "  - name: internet\n"			/* 14 */
	    "  - name: internet\n"			/* 15 */
	    "sip:\n"					/* 16 */
	    "  timers:\n"				/* 17 */
	    "    t1: 500\n"				/* 18 */
	    "  limits:\n"				/* 19 */
	    "    max_via: 0\n"				/* 20 */
	    "    max_vias: 3\n"				/* 21 */
	    "events:\n"					/* 22 */
	    "  stdout: yes\n"				/* 23 */
	    "  stdout: no\n",				/* 24 */
	    NAME ":1:10: version: 2 is not supported (must be 1)",
	    NAME ":3:9: node.name: may only contain letters, digits, '.', '_' "
	    "and '-' (found ' ')",
	    NAME ":4:12: node.workers: 65 is out of range (0..64)",
	    NAME ":7:14: listen[0].address: 'pbx.example' is not an IP address; "
	    "host names are not allowed, write an IPv4 or IPv6 address",
	    NAME ":8:11: listen[0].zone: zone 'dmz' is not defined under zones",
	    NAME ":11:5: listen[2]: duplicate listener udp 127.0.0.1:5060 (first "
	    "at line 9)",
	    NAME ":15:11: zones[1].name: duplicate zone name 'internet' (first "
	    "at line 14)",
	    NAME ":18:9: sip.timers.t1: '500' has no unit: durations require one "
	    "(ms, s, m or h), e.g. 500ms or 500s",
	    NAME ":20:14: sip.limits.max_via: 0 is out of range (1..128)",
	    NAME ":21:5: sip.limits: unknown key 'max_vias' (did you mean "
	    "'max_via'?)",
	    NAME ":23:11: events.stdout: expected true or false, got 'yes'",
	    NAME ":24:3: events: duplicate key 'stdout' (first at line 23)",
	    NULL);
}

/* More errors than the list holds: the rest are counted and summarized. */
static void
test_diag_overflow(void **state)
{
	char buf[8192], *out = NULL;
	size_t o = 0, len = 0;
	struct sw_conf *c = NULL;
	FILE *f;

	(void)state;
	for (int i = 0; i < 100; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "k%d: 1\n", i);
	conf_diag_init(&diag);
	assert_int_equal(conf_load_buf(NAME, buf, o, &c, &diag), -EINVAL);
	assert_int_equal(diag.n, CONF_DIAG_MAX);
	assert_int_equal(conf_diag_count(&diag), 103);
	assert_string_equal(diag.e[0].text, NAME ":1:1: unknown key 'k0'");
	f = open_memstream(&out, &len);
	assert_non_null(f);
	conf_diag_print(f, &diag);
	fclose(f);
	assert_non_null(strstr(out, NAME ":2:1: unknown key 'k1'\n"));
	assert_non_null(strstr(out, "\n... and 39 more errors\n"));
	free(out);

	/* without a diag, errors are still errors */
	assert_int_equal(conf_load_buf(NAME, buf, o, &c, NULL), -EINVAL);
	assert_null(c);
	assert_int_equal(conf_load_buf(NAME, BASE, strlen(BASE), &c, NULL), 0);
	conf_free(c);
}

static void
test_diag_fields(void **state)
{
	struct sw_conf *c;

	(void)state;
	assert_int_equal(load(BASE "node:\n  workers: 99\n", &c), -EINVAL);
	assert_int_equal(diag.n, 1);
	assert_int_equal(diag.e[0].line, 8);
	assert_int_equal(diag.e[0].col, 12);
	assert_string_equal(diag.e[0].text + diag.e[0].msg_off,
	    "node.workers: 99 is out of range (0..64)");
	/* a load appends to what is already in diag */
	assert_int_equal(conf_load_buf("u.yaml", "x: 1\n", 5, &c, &diag),
	    -EINVAL);
	assert_int_equal(diag.n, 5);
	assert_string_equal(diag.e[1].text, "u.yaml:1:1: unknown key 'x'");
}

static struct sw_conf *override_base(void);

/* NULL where a caller might pass one: an error, not a crash. */
static void
test_null_inputs(void **state)
{
	struct sw_conf *c = NULL;

	(void)state;
	conf_diag_init(&diag);
	assert_int_equal(conf_load_buf(NULL, NULL, 5, &c, &diag), -EINVAL);
	assert_null(c);
	assert_string_equal(diag.e[0].text,
	    "<config>:1:1: missing required key 'version'");
	c = override_base();
	conf_diag_init(&diag);
	assert_int_equal(conf_listen_override(c, NULL, &diag), -EINVAL);
	assert_string_equal(diag.e[0].text, "command line: listen '': "
	    "expected PROTO:ADDR[:PORT], e.g. udp:127.0.0.1:5060 or "
	    "udp:[::1]:5060");
	conf_free(c);
}

static void
test_load_file(void **state)
{
	char path[] = "/tmp/test_conf_XXXXXX";
	struct sw_conf *c = NULL;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, BASE, strlen(BASE)), (ssize_t)strlen(BASE));
	close(fd);
	conf_diag_init(&diag);
	assert_int_equal(conf_load(path, &c, &diag), 0);
	assert_int_equal(c->nlisten, 1);
	conf_free(c);
	c = NULL;

	/* errors carry the path */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "version: 3\n", 11), 11);
	close(fd);
	conf_diag_init(&diag);
	assert_int_equal(conf_load(path, &c, &diag), -EINVAL);
	assert_null(c);
	assert_int_equal(diag.n, 3);
	assert_true(strncmp(diag.e[2].text, path, strlen(path)) == 0);
	assert_string_equal(diag.e[2].text + strlen(path),
	    ":1:10: version: 3 is not supported (must be 1)");

	/* too large */
	assert_int_equal(truncate(path, CONF_MAX_FILE + 1), 0);
	conf_diag_init(&diag);
	assert_int_equal(conf_load(path, &c, &diag), -EFBIG);
	assert_string_equal(diag.e[0].text + strlen(path),
	    ": file is too large (1048577 bytes, max 1048576)");
	unlink(path);

	conf_diag_init(&diag);
	assert_int_equal(conf_load(path, &c, &diag), -ENOENT);
	assert_null(c);
	assert_string_equal(diag.e[0].text + strlen(path),
	    ": cannot open: No such file or directory");
	conf_diag_init(&diag);
	assert_int_equal(conf_load("/tmp", &c, &diag), -EISDIR);
	assert_string_equal(diag.e[0].text,
	    "/tmp: is a directory, not a config file");
}

/* Every prefix of a valid config, in an exact-size buffer: no crash. */
static void
test_every_prefix(void **state)
{
	size_t len = strlen(full_conf);

	(void)state;
	for (size_t cut = 0; cut <= len; cut++) {
		char *p = malloc(cut > 0 ? cut : 1);
		struct sw_conf *c = NULL;
		int r;

		assert_non_null(p);
		memcpy(p, full_conf, cut);
		conf_diag_init(&diag);
		r = conf_load_buf(NAME, p, cut, &c, &diag);
		if (r == 0)
			conf_free(c);
		else
			assert_true(conf_diag_count(&diag) > 0);
		free(p);
	}
}

/* config.loaded's digest: the SHA-256 of the bytes, comments and all
 * (what sha256sum prints of the file). */
static void
test_digest(void **state)
{
	struct sw_conf *c;

	(void)state;
	c = must_load(BASE);
	assert_string_equal(c->digest, "c9fb53fc15c548c0a32a9b992471c4f9"
	    "b6473bb90dfa8f5d4ad4cf497493e55e");
	conf_free(c);
	c = must_load(BASE "# a comment\n");
	assert_string_equal(c->digest, "7e43e89ce71d31bbccd95a23c97f37d6"
	    "80bbba6557078153d8635515fd7f0286");
	conf_free(c);
}

static void
test_print(void **state)
{
	struct sw_conf *c, *c2;
	char *p1, *p2;

	(void)state;
	c = must_load(BASE);
	p1 = print_mem(c);
	assert_string_equal(p1,
	    "version: 1\n"
	    "node:\n"
	    "  name: sipwall\n"
	    "  workers: 0\n"
	    "  state_dir: var\n"
	    "listen:\n"
	    "  - transport: udp\n"
	    "    address: 127.0.0.1\n"
	    "    port: 5060\n"
	    "    zone: z\n"
	    "zones:\n"
	    "  - name: z\n"
	    "    trust: untrusted\n"
	    "    auth: required\n"
	    "    allow: []\n"
	    "    deny: []\n"
	    "    methods: []\n"
	    "    rate_limits:\n"
	    "      action: drop\n"
	    "      retry_after: 30s\n"
	    "      source:\n"
	    "        rate: 20/s\n"
	    "        burst: 60\n"
	    "      prefix:\n"
	    "        rate: 200/s\n"
	    "        burst: 600\n"
	    "      account:\n"
	    "        rate: 20/s\n"
	    "        burst: 60\n"
	    "      authenticated:\n"
	    "        rate: 100/s\n"
	    "        burst: 400\n"
	    "      methods: []\n"
	    "    media_address: 127.0.0.1\n"
	    "    srtp: require\n"
	    "sip:\n"
	    "  limits:\n"
	    "    max_message_size: 16384\n"
	    "    max_stream_message_size: 65536\n"
	    "    max_headers: 128\n"
	    "    max_header_length: 8192\n"
	    "    max_uri_length: 1024\n"
	    "    max_via: 70\n"
	    "    max_body: 16384\n"
	    "  timers:\n"
	    "    t1: 500ms\n"
	    "    t2: 4s\n"
	    "    t4: 5s\n"
	    "  tcp:\n"
	    "    idle_timeout: 2m\n"
	    "    message_timeout: 10s\n"
	    "    max_connections: 4096\n"
	    "    max_connections_per_source: 32\n"
	    "  max_transactions: 65536\n"
	    "events:\n"
	    "  file: events.jsonl\n"
	    "  stdout: false\n"
	    "  syslog: false\n"
	    "  syslog_facility: local0\n"
	    "  min_severity: info\n"
	    "log:\n"
	    "  level: info\n"
	    "store:\n"
	    "  path: sipwall.db\n"
	    "auth:\n"
	    "  realm: sipwall\n"
	    "  algorithms:\n"
	    "    - SHA-256\n"
	    "    - MD5\n"
	    "  nonce_ttl: 5m\n"
	    "  nonce_bind_source: true\n"
	    "registrar:\n"
	    "  min_expires: 1m\n"
	    "  max_expires: 1h\n"
	    "  default_expires: 30m\n"
	    "  max_contacts: 5\n"
	    "  nat_expires: 1m\n"
	    "  nat_keepalive: 25s\n"
	    "bans:\n"
	    "  enabled: true\n"
	    "  first: 5m\n"
	    "  factor: 4\n"
	    "  max: 24h\n"
	    "  forget: 24h\n"
	    "  auth_failures: 10\n"
	    "  auth_window: 5m\n"
	    "  rate_strikes: 5\n"
	    "  rate_window: 1m\n"
	    "  never: []\n"
	    "scanner:\n"
	    "  enabled: true\n"
	    "  signatures: \"\"\n"
	    "  unknown_users: 10\n"
	    "  sweep: 20\n"
	    "  window: 1m\n"
	    "bruteforce:\n"
	    "  failures: 30\n"
	    "  window: 10m\n"
	    "  lock: 30m\n"
	    "core:\n"
	    "  zone: \"\"\n"
	    "  targets: []\n"
	    "  probe_interval: 10s\n"
	    "calls:\n"
	    "  max_duration: 3h\n"
	    "  ring_timeout: 2m\n"
	    "  keepalive: 1m\n"
	    "  max_calls: 20000\n"
	    "  min_se: 90s\n"
	    "  headers: []\n"
	    "trunks: []\n"
	    "dialplan:\n"
	    "  country_code: \"1\"\n"
	    "  international_prefixes:\n"
	    "    - \"011\"\n"
	    "    - \"00\"\n"
	    "  national_prefix: \"1\"\n"
	    "  access_code: \"\"\n"
	    "  extension_digits: 4\n"
	    "  emergency:\n"
	    "    - \"911\"\n"
	    "    - \"112\"\n"
	    "  internal: []\n"
	    "policy:\n"
	    "  high_risk_file: \"\"\n"
	    "  refer: internal\n"
	    "  forward_group: default\n"
	    "  core_group: \"\"\n"
	    "  max_redirects: 2\n"
	    "  groups:\n"
	    "    - name: default\n"
	    "      international: false\n"
	    "      premium: false\n"
	    "      high_risk: false\n"
	    "      allow: []\n"
	    "      deny: []\n"
	    "      max_concurrent: 4\n"
	    "      calls_per_minute: 10\n"
	    "      calls_per_day: 500\n"
	    "      minutes_per_day: 600\n"
	    "      hours: []\n"
	    "overload:\n"
	    "  queue_high: 2000\n"
	    "  busy_percent: 90\n"
	    "  reply: false\n"
	    "media:\n"
	    "  anchor: true\n"
	    "  workers: 1\n"
	    "  port_min: 20000\n"
	    "  port_max: 39999\n"
	    "  timeout: 1m\n"
	    "  one_way_timeout: 30s\n"
	    "  one_way_hangup: false\n"
	    "  strict_source: true\n"
	    "  latch: signalling\n"
	    "admin:\n"
	    "  socket: control.sock\n"
	    "  socket_group: \"\"\n"
	    "  http_port: 0\n"
	    "  http_zone: \"\"\n"
	    "  token_sha256: \"\"\n"
	    "  dashboard: true\n"
	    "alerts:\n"
	    "  enabled: true\n"
	    "  webhook: \"\"\n"
	    "  webhook_timeout: 5s\n"
	    "  retries: 5\n"
	    "  window: 1m\n"
	    "  factor: 10\n"
	    "  min_count: 20\n"
	    "  reg_failures: 0\n"
	    "  auth_failures: 0\n"
	    "  invite_failures: 0\n"
	    "  calls_out: 0\n"
	    "  calls_international: 0\n"
	    "  calls_per_account: 0\n"
	    "  new_country: true\n"
	    "  hours: []\n"
	    "  off_hours_calls: 0\n"
	    "cdr:\n"
	    "  retention_days: 90\n"
	    "acknowledge: []\n");
	free(p1);
	conf_free(c);

	/* every key set: print, re-parse, print again: same bytes */
	c = must_load(full_conf);
	p1 = print_mem(c);
	assert_non_null(strstr(p1, "  name: Edge_1.example-a\n"));
	assert_non_null(strstr(p1, "    address: \"2001:db8::1\"\n"));
	assert_non_null(strstr(p1, "    t4: 1m\n"));
	assert_non_null(strstr(p1, "    idle_timeout: 1h\n"));
	assert_non_null(strstr(p1, "    message_timeout: 1500ms\n"));
	assert_non_null(strstr(p1, "  file: \"\"\n"));
	assert_non_null(strstr(p1, "  syslog: true\n"));
	c2 = must_load(p1);
	p2 = print_mem(c2);
	assert_string_equal(p1, p2);
	assert_memory_equal(&c->sip, &c2->sip, sizeof(c->sip));
	assert_memory_equal(&c->events, &c2->events, sizeof(c->events));
	assert_memory_equal(&c->node, &c2->node, sizeof(c->node));
	assert_true(sw_addr_eq(&c->listen[1].addr, &c2->listen[1].addr));
	free(p1);
	free(p2);
	conf_free(c);
	conf_free(c2);
}

/* Strings that would read back as something else are quoted. */
static void
test_print_quoting(void **state)
{
	static const char *const names[] = {
		"true", "No", "null", "y", "123", "1.5", "-x", ".hidden",
		"a.b_c-d", "_x", "on",
	};
	static const char *const dirs[] = {
		"/var/lib/sipwall", "a b", "x: y", "#c", "\"q\"", "back\\slash",
		"'s'", "- l", "[a]", "{b}", "*a", "&a", "!t", "%p", "@a", "`b",
		"|", ">", "?", "~", "~/x", " lead", "trail ", "a #b",
	};
	struct sw_conf c, *c2;
	char *p;

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		for (size_t j = 0; j < sizeof(dirs) / sizeof(dirs[0]); j++) {
			conf_defaults(&c);
			snprintf(c.node.name, sizeof(c.node.name), "%s",
			    names[i]);
			snprintf(c.node.state_dir, sizeof(c.node.state_dir),
			    "%s", dirs[j]);
			snprintf(c.events.file, sizeof(c.events.file), "%s",
			    dirs[j]);
			c.nzones = 1;
			conf_zone_defaults(&c.zones[0]);
			snprintf(c.zones[0].name, sizeof(c.zones[0].name), "z");
			c.nlisten = 1;
			assert_int_equal(sw_addr_parse("::1", 5060,
			    &c.listen[0].addr), 0);
			c.listen[0].port = 5060;
			snprintf(c.listen[0].zone_name,
			    sizeof(c.listen[0].zone_name), "z");
			p = print_mem(&c);
			c2 = must_load(p);
			assert_string_equal(c2->node.name, names[i]);
			assert_string_equal(c2->node.state_dir, dirs[j]);
			assert_string_equal(c2->events.file, dirs[j]);
			free(p);
			conf_free(c2);
		}
	/* print shows the value as written when that is unambiguous */
	conf_defaults(&c);
	snprintf(c.node.name, sizeof(c.node.name), "true");
	p = print_mem(&c);
	assert_non_null(strstr(p, "  name: \"true\"\n"));
	assert_non_null(strstr(p, "listen: []\n"));
	assert_non_null(strstr(p, "zones: []\n"));
	free(p);
}

/* Prefixes, rates, method lists and the zone checks of issue 3. */
static void
test_zone_policy(void **state)
{
	struct sw_conf *c;
	char a[64];

	(void)state;
	expect_one("    allow: [192.0.2.1/24]\n",
	    NAME ":7:13: zones[0].allow[0]: '192.0.2.1/24' has host bits set; "
	    "did you mean 192.0.2.0/24?");
	expect_one("    deny: [10.0.0.0/33]\n",
	    NAME ":7:12: zones[0].deny[0]: '10.0.0.0/33': the prefix length "
	    "must be 0..32");
	expect_one("    allow: [pbx.example.com]\n",
	    NAME ":7:13: zones[0].allow[0]: 'pbx.example.com' is not an IPv4 "
	    "or IPv6 address or prefix (host names are not allowed)");
	expect_one("    rate_limits:\n      source: {rate: 0/s}\n",
	    NAME ":8:22: zones[0].rate_limits.source.rate: '0/s' is out of "
	    "range (1/h .. 1000000/s)");
	expect_one("    rate_limits:\n      source: {rate: 20}\n",
	    NAME ":8:22: zones[0].rate_limits.source.rate: '20' is not a "
	    "rate; write a count per second, minute or hour, like 20/s, "
	    "300/m or 50/h");
	expect_one("    methods: [REGISTER, GET]\n",
	    NAME ":7:25: zones[0].methods[1]: 'GET' is not one of: REGISTER, "
	    "INVITE, ACK, BYE, CANCEL, OPTIONS, PRACK, UPDATE, INFO, REFER, "
	    "NOTIFY, SUBSCRIBE, PUBLISH, MESSAGE");
	expect_one("    auth: none\n",
	    NAME ":6:5: zones[0]: auth: none on the untrusted zone 'z' would "
	    "let anyone through unauthenticated; set auth: required, or make "
	    "it a trusted zone with an allow list; if that is intended, add "
	    "\"auth_none:z\" to acknowledge:");
	expect_one("    trust: trusted\n",
	    NAME ":6:5: zones[0]: the trusted zone 'z' has no allow list; a "
	    "trusted zone must name the addresses it trusts (e.g. the PBX), "
	    "or listen only with TLS client certificates that carry its "
	    "tls.peer_names");

	c = must_load(BASE "    trust: trusted\n    auth: none\n"
	    "    allow: [\"2001:db8::/32\", 192.0.2.7]\n"
	    "    methods: [INVITE, ACK]\n"
	    "    rate_limits:\n      source: {rate: 300/m, burst: 7}\n"
	    "      methods:\n        - {method: OPTIONS, rate: 5/h}\n");
	assert_int_equal(c->zones[0].nallow, 2);
	assert_string_equal(conf_cidr_str(&c->zones[0].allow[0], a, sizeof(a)),
	    "2001:db8::/32");
	assert_int_equal(c->zones[0].allow[1].plen, 32);
	assert_int_equal(c->zones[0].nmethods, 2);
	assert_int_equal(c->zones[0].methods[1], CONF_M_ACK);
	assert_int_equal(c->zones[0].rate.source.rate, 300 * 60);
	assert_int_equal(c->zones[0].rate.source.burst, 7);
	assert_int_equal(c->zones[0].rate.prefix.rate, 200 * 3600);
	assert_int_equal(c->zones[0].rate.methods[0].b.rate, 5);
	assert_int_equal(c->zones[0].rate.methods[0].b.burst, 20);
	{
		union sw_addr in, out;

		sw_addr_parse("2001:db8:ffff::1", 0, &in);
		sw_addr_parse("2001:db9::1", 0, &out);
		assert_true(conf_cidr_match(&c->zones[0].allow[0], &in));
		assert_false(conf_cidr_match(&c->zones[0].allow[0], &out));
		assert_false(conf_cidr_match(&c->zones[0].allow[1], &in));
	}
	conf_free(c);
	c = must_load(BASE);
	assert_int_equal(c->auth.nalgorithms, 2);
	assert_int_equal(c->auth.algorithms[0], CONF_ALG_SHA256);
	assert_int_equal(c->zones[0].auth, CONF_AUTH_REQUIRED);
	conf_free(c);
}

static void
test_duration_fmt(void **state)
{
	static const struct {
		uint32_t ms;
		const char *text;
	} cases[] = {
		{ 0, "0s" }, { 1, "1ms" }, { 999, "999ms" }, { 1000, "1s" },
		{ 1500, "1500ms" }, { 60000, "1m" }, { 90000, "90s" },
		{ 3600000, "1h" }, { 5400000, "90m" }, { 86400000, "24h" },
		{ UINT32_MAX, "4294967295ms" },
	};
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		conf_duration_fmt(cases[i].ms, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].text);
	}
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(conf_transport_name(CONF_TRANSPORT_UDP), "udp");
	assert_string_equal(conf_transport_name(CONF_TRANSPORT_TCP), "tcp");
	assert_string_equal(conf_transport_name(CONF_TRANSPORT_TLS), "tls");
	assert_string_equal(conf_transport_name(CONF_TRANSPORT_MAX), "?");
	assert_string_equal(conf_trust_name(CONF_TRUST_TRUSTED), "trusted");
	assert_string_equal(conf_trust_name(CONF_TRUST_UNTRUSTED),
	    "untrusted");
	assert_string_equal(conf_log_level_name(CONF_LOG_WARN), "warn");
	assert_string_equal(conf_syslog_facility_name(LOG_DAEMON), "daemon");
	assert_string_equal(conf_syslog_facility_name(-1), "?");
}

/* The tables themselves: names, sizes and defaults are consistent. */
static void
check_table(const struct conf_key *keys, size_t depth)
{
	size_t n = 0;

	assert_true(depth < CONF_MAX_DEPTH);
	for (const struct conf_key *k = keys; k->type != CONF_T_END; k++, n++) {
		assert_non_null(k->name);
		for (const char *p = k->name; *p != '\0'; p++)
			assert_true((*p >= 'a' && *p <= 'z') ||
			    (*p >= '0' && *p <= '9') || *p == '_');
		for (const struct conf_key *o = keys; o < k; o++)
			assert_string_not_equal(o->name, k->name);
		if ((k->flags & CONF_K_REQUIRED) && k->type != CONF_T_SEQ &&
		    depth > 0)
			assert_null(k->def);
		switch (k->type) {
		case CONF_T_MAP:
			check_table(k->sub, depth + 1);
			break;
		case CONF_T_SEQ:
			assert_true(k->min <= k->max);
			assert_true(k->elem_size * k->max <= k->size);
			if (k->sub->type == CONF_T_MAP)
				check_table(k->sub->sub, depth + 1);
			break;
		case CONF_T_STR:
			assert_true(k->max < k->size);
			break;
		case CONF_T_UINT:
		case CONF_T_DURATION:
			assert_true(k->min <= k->max);
			assert_true(k->def != NULL ||
			    (k->flags & CONF_K_REQUIRED));
			break;
		case CONF_T_ENUM:
			assert_non_null(k->vals);
			assert_int_equal(k->size, sizeof(int));
			break;
		default:
			break;
		}
	}
	assert_true(n > 0 && n <= 64);
}

static void
test_schema_tables(void **state)
{
	(void)state;
	check_table(conf_schema, 0);
}

/* ------------------------------------------------------------------ */
/* conf_listen_override                                                */

static struct sw_conf *
override_base(void)
{
	return must_load("version: 1\nlisten:\n"
	    "  - {address: 10.0.0.1, zone: office}\n"
	    "  - {address: 10.0.0.2, zone: internet}\n"
	    "zones:\n  - name: internet\n  - name: office\n");
}

static void
test_override_ok(void **state)
{
	struct sw_conf *c;
	char a[SW_ADDR_STRLEN], *p;

	(void)state;
	c = override_base();
	conf_diag_init(&diag);
	assert_int_equal(conf_listen_override(c, "udp:127.0.0.1:5070", &diag),
	    0);
	assert_true(c->listen_overridden);
	assert_int_equal(c->nlisten, 1);
	assert_int_equal(c->listen[0].transport, CONF_TRANSPORT_UDP);
	assert_string_equal(sw_addr_str(&c->listen[0].addr, a, sizeof(a)),
	    "127.0.0.1:5070");
	assert_int_equal(c->listen[0].port, 5070);
	assert_int_equal(c->listen[0].zone, 1);	/* the first listener's */
	assert_string_equal(c->listen[0].zone_name, "office");
	assert_int_equal(c->listen[0].at.line, 0);

	assert_int_equal(conf_listen_override(c, "tcp:[::1]:5060", &diag), 0);
	assert_int_equal(conf_listen_override(c, "udp:[2001:db8::5]", &diag), 0);
	assert_int_equal(conf_listen_override(c, "tcp:192.0.2.1", &diag), 0);
	assert_int_equal(conf_listen_override(c, "udp:127.0.0.1:5060", &diag),
	    0);
	assert_int_equal(diag.n, 0);
	assert_int_equal(c->nlisten, 5);
	assert_int_equal(c->listen[1].transport, CONF_TRANSPORT_TCP);
	assert_string_equal(sw_addr_str(&c->listen[1].addr, a, sizeof(a)),
	    "[::1]:5060");
	assert_string_equal(sw_addr_str(&c->listen[2].addr, a, sizeof(a)),
	    "[2001:db8::5]:5060");
	assert_string_equal(sw_addr_str(&c->listen[3].addr, a, sizeof(a)),
	    "192.0.2.1:5060");
	for (size_t i = 0; i < c->nlisten; i++)
		assert_int_equal(c->listen[i].zone, 1);

	/* the result prints and re-parses */
	p = print_mem(c);
	assert_non_null(strstr(p, "  - transport: tcp\n    address: \"::1\"\n"
	    "    port: 5060\n    zone: office\n"));
	conf_free(c);
	c = must_load(p);
	assert_int_equal(c->nlisten, 5);
	free(p);
	conf_free(c);

	/* without listeners, the first zone */
	c = calloc(1, sizeof(*c));
	assert_non_null(c);
	conf_defaults(c);
	c->nzones = 2;
	snprintf(c->zones[0].name, sizeof(c->zones[0].name), "first");
	snprintf(c->zones[1].name, sizeof(c->zones[1].name), "second");
	assert_int_equal(conf_listen_override(c, "udp:0.0.0.0:5060", &diag), 0);
	assert_int_equal(c->listen[0].zone, 0);
	assert_string_equal(c->listen[0].zone_name, "first");
	conf_free(c);
}

static void
test_override_errors(void **state)
{
	static const struct {
		const char *spec;
		const char *msg;
	} bad[] = {
		{ "", "listen '': expected PROTO:ADDR[:PORT], e.g. "
		  "udp:127.0.0.1:5060 or udp:[::1]:5060" },
		{ "127.0.0.1", "listen '127.0.0.1': expected PROTO:ADDR[:PORT], "
		  "e.g. udp:127.0.0.1:5060 or udp:[::1]:5060" },
		{ "sctp:127.0.0.1:5060", "listen 'sctp:127.0.0.1:5060': unknown "
		  "transport (use udp or tcp)" },
		{ "UDP:127.0.0.1:5060", "listen 'UDP:127.0.0.1:5060': unknown "
		  "transport (use udp or tcp)" },
		{ ":127.0.0.1:5060", "listen ':127.0.0.1:5060': unknown "
		  "transport (use udp or tcp)" },
		{ "tls:127.0.0.1:5061", "listen 'tls:127.0.0.1:5061': a tls "
		  "listener needs a certificate and a key: configure it in the "
		  "file" },
		{ "udp:::1:5060", "listen 'udp:::1:5060': put an IPv6 address in "
		  "brackets, e.g. udp:[::1]:5060" },
		{ "udp:[::1", "listen 'udp:[::1': missing ']' after the IPv6 "
		  "address" },
		{ "udp:[::1]5060", "listen 'udp:[::1]5060': expected ':PORT' "
		  "after ']'" },
		{ "udp:[127.0.0.1]:5060", "listen 'udp:[127.0.0.1]:5060': "
		  "brackets are only for IPv6 addresses" },
		{ "udp:[]:5060", "listen 'udp:[]:5060': brackets are only for "
		  "IPv6 addresses" },
		{ "udp:[zz::1]:5060", "listen 'udp:[zz::1]:5060': 'zz::1' is not "
		  "an IPv4 or IPv6 address (host names are not allowed)" },
		{ "udp:127.0.0.1:0", "listen 'udp:127.0.0.1:0': bad port "
		  "(expected 1..65535)" },
		{ "udp:127.0.0.1:65536", "listen 'udp:127.0.0.1:65536': bad port "
		  "(expected 1..65535)" },
		{ "udp:127.0.0.1:05060", "listen 'udp:127.0.0.1:05060': bad port "
		  "(expected 1..65535)" },
		{ "udp:127.0.0.1:", "listen 'udp:127.0.0.1:': bad port (expected "
		  "1..65535)" },
		{ "udp:127.0.0.1:50a", "listen 'udp:127.0.0.1:50a': bad port "
		  "(expected 1..65535)" },
		{ "udp:[::1]:-1", "listen 'udp:[::1]:-1': bad port (expected "
		  "1..65535)" },
		{ "udp:localhost:5060", "listen 'udp:localhost:5060': 'localhost' "
		  "is not an IPv4 or IPv6 address (host names are not allowed)" },
		{ "udp::5060", "listen 'udp::5060': '' is not an IPv4 or IPv6 "
		  "address (host names are not allowed)" },
		{ "udp:1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20.21.22:1",
		  "listen 'udp:1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18...': "
		  "'1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.1' is not an "
		  "IPv4 or IPv6 address (host names are not allowed)" },
		{ "udp:\x01\xff:5060", "listen 'udp:?" "?:5060': '?" "?' is not an "
		  "IPv4 or IPv6 address (host names are not allowed)" },
	};
	struct sw_conf *c;
	char longspec[300];

	(void)state;
	c = override_base();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		conf_diag_init(&diag);
		assert_int_equal(conf_listen_override(c, bad[i].spec, &diag),
		    -EINVAL);
		assert_int_equal(diag.n, 1);
		assert_int_equal(diag.e[0].line, 0);
		if (strcmp(diag.e[0].text + diag.e[0].msg_off, bad[i].msg) != 0)
			fail_msg("spec '%s': got \"%s\"", bad[i].spec,
			    diag.e[0].text);
		assert_true(strncmp(diag.e[0].text, "command line: ", 14) == 0);
		/* failures leave the config as it was */
		assert_false(c->listen_overridden);
		assert_int_equal(c->nlisten, 2);
	}
	memset(longspec, '1', sizeof(longspec) - 1);
	longspec[sizeof(longspec) - 1] = '\0';
	memcpy(longspec, "udp:", 4);
	conf_diag_init(&diag);
	assert_int_equal(conf_listen_override(c, longspec, &diag), -EINVAL);
	assert_non_null(strstr(diag.e[0].text, "': too long"));
	assert_int_equal(conf_listen_override(c, "udp:127.0.0.1:5060", NULL), 0);
	assert_int_equal(conf_listen_override(c, "udp:127.0.0.1:5060", &diag),
	    -EINVAL);
	assert_string_equal(diag.e[1].text, "command line: listen "
	    "'udp:127.0.0.1:5060': duplicate listener udp 127.0.0.1:5060");
	assert_int_equal(c->nlisten, 1);
	assert_int_equal(conf_listen_override(c, "tcp:127.0.0.1:5060", NULL), 0);
	for (int i = 2; i < CONF_MAX_LISTEN; i++) {
		char spec[64];

		snprintf(spec, sizeof(spec), "udp:127.0.0.1:%d", 6000 + i);
		assert_int_equal(conf_listen_override(c, spec, NULL), 0);
	}
	conf_diag_init(&diag);
	assert_int_equal(conf_listen_override(c, "udp:127.0.0.2:5060", &diag),
	    -EINVAL);
	assert_string_equal(diag.e[0].text, "command line: listen "
	    "'udp:127.0.0.2:5060': too many listeners (max 64)");
	conf_free(c);

	/* nowhere to put a listener */
	c = calloc(1, sizeof(*c));
	assert_non_null(c);
	conf_defaults(c);
	conf_diag_init(&diag);
	assert_int_equal(conf_listen_override(c, "udp:127.0.0.1:5060", &diag),
	    -EINVAL);
	assert_string_equal(diag.e[0].text, "command line: listen "
	    "'udp:127.0.0.1:5060': no zone is defined to put the listener in");
	conf_free(c);
}

/* A TLS listener as printed (line 3; its tls lines from 8 on), a zone. */
#define TLS_LISTEN_FULL \
	"  - transport: tls\n" \
	"    address: 127.0.0.1\n" \
	"    port: 5061\n" \
	"    zone: z\n" \
	"    tls:\n" \
	"      cert: certs/srv.pem\n" \
	"      key: /etc/sipwall/srv.key\n" \
	"      ca: ca.pem\n" \
	"      verify_client: true\n" \
	"      min_version: 1.3\n" \
	"      ciphers: ECDHE-ECDSA-AES128-GCM-SHA256\n" \
	"      handshake_timeout: 2s\n" \
	"      peer_names: []\n"
#define TLS_HEAD \
	"version: 1\nlisten:\n  - transport: tls\n    address: 127.0.0.1\n" \
	"    zone: z\n    tls:\n"
#define TLS_ZONES	"zones:\n  - name: z\n"

static void
test_tls_listener(void **state)
{
	struct sw_conf *c, *c2;
	char *p, *p2;

	(void)state;
	c = must_load("version: 1\nlisten:\n" TLS_LISTEN_FULL
	    "  - address: 127.0.0.1\n    zone: z\n" TLS_ZONES);
	assert_int_equal(c->listen[0].transport, CONF_TRANSPORT_TLS);
	assert_string_equal(c->listen[0].tls.cert, "certs/srv.pem");
	assert_string_equal(c->listen[0].tls.key, "/etc/sipwall/srv.key");
	assert_string_equal(c->listen[0].tls.ca, "ca.pem");
	assert_true(c->listen[0].tls.verify_client);
	assert_int_equal(c->listen[0].tls.min_version, CONF_TLS_1_3);
	assert_string_equal(c->listen[0].tls.ciphers,
	    "ECDHE-ECDSA-AES128-GCM-SHA256");
	assert_int_equal(c->listen[0].tls.handshake_timeout_ms, 2000);
	assert_int_equal(c->listen[0].tls.cert_at.line, 8);
	assert_int_equal(c->listen[0].tls.cert_at.col, 13);
	assert_string_equal(c->dir, ".");
	/* printed as written; only a TLS listener has a tls mapping */
	p = print_mem(c);
	assert_non_null(strstr(p, "listen:\n" TLS_LISTEN_FULL
	    "  - transport: udp\n    address: 127.0.0.1\n    port: 5060\n"
	    "    zone: z\nzones:\n"));
	c2 = must_load(p);
	p2 = print_mem(c2);
	assert_string_equal(p, p2);
	free(p);
	free(p2);
	conf_free(c2);
	conf_free(c);

	c = must_load(TLS_HEAD "      cert: a.pem\n      key: a.key\n"
	    TLS_ZONES);
	assert_string_equal(c->listen[0].tls.ca, "");
	assert_false(c->listen[0].tls.verify_client);
	assert_int_equal(c->listen[0].tls.min_version, CONF_TLS_1_2);
	assert_int_equal(c->listen[0].tls.handshake_timeout_ms, 5000);
	assert_non_null(strstr(c->listen[0].tls.ciphers,
	    "ECDHE-ECDSA-AES256-GCM-SHA384:"));
	assert_string_equal(conf_tls_version_name(CONF_TLS_1_2), "1.2");
	conf_free(c);

	expect_errors(TLS_HEAD "      cert: a.pem\n      key: a.key\n"
	    "      min_version: 1.1\n" TLS_ZONES,
	    NAME ":9:20: listen[0].tls.min_version: '1.1' is refused: TLS "
	    "below 1.2 is not safe (use 1.2 or 1.3)", NULL);
	expect_errors(TLS_HEAD "      cert: a.pem\n      key: a.key\n"
	    "      min_version: 1.0\n" TLS_ZONES,
	    NAME ":9:20: listen[0].tls.min_version: '1.0' is refused: TLS "
	    "below 1.2 is not safe (use 1.2 or 1.3)", NULL);
	expect_errors(TLS_HEAD "      cert: a.pem\n      key: a.key\n"
	    "      min_version: 2\n" TLS_ZONES,
	    NAME ":9:20: listen[0].tls.min_version: '2' is not one of: 1.2, "
	    "1.3", NULL);
	expect_errors(TLS_HEAD "      key: a.key\n" TLS_ZONES,
	    NAME ":7:7: listen[0].tls: missing required key 'cert'", NULL);
	expect_errors(TLS_HEAD "      cert: a.pem\n      key: \"\"\n" TLS_ZONES,
	    NAME ":8:12: listen[0].tls.key: must not be empty", NULL);
	expect_errors(TLS_HEAD "      cert: a.pem\n      key: a.key\n"
	    "      ciphers: \"ECDHE;rm -rf\"\n" TLS_ZONES,
	    NAME ":9:16: listen[0].tls.ciphers: not an OpenSSL cipher list "
	    "(found ';')", NULL);
	expect_errors(TLS_HEAD "      cert: a.pem\n      key: a.key\n"
	    "      handshake_timeout: 2m\n" TLS_ZONES,
	    NAME ":9:26: listen[0].tls.handshake_timeout: 2m is out of range "
	    "(100ms..1m)", NULL);
	expect_errors(TLS_HEAD "      cert: a.pem\n      key: a.key\n"
	    "      verify_client: true\n" TLS_ZONES,
	    NAME ":7:7: listen[0].tls: verify_client: true needs 'ca', the "
	    "CA bundle that signs client certificates", NULL);
	expect_errors("version: 1\nlisten:\n  - transport: udp\n"
	    "    address: 127.0.0.1\n    zone: z\n    tls: {cert: a, key: b}\n"
	    TLS_ZONES,
	    NAME ":6:10: listen[0].tls: only a tls listener takes tls "
	    "settings (this one is udp)", NULL);
	expect_errors(TLS_HEAD "      cert: a.pem\n      key: a.key\n"
	    "  - transport: tcp\n    address: 127.0.0.1\n    zone: z\n"
	    TLS_ZONES,
	    NAME ":3:5: listen[0]: tls and tcp (line 9) cannot share "
	    "127.0.0.1:5060: both are TCP sockets", NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_flow_style),
		cmocka_unit_test(test_bool),
		cmocka_unit_test(test_uint),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_nat_keepalive_floor),
		cmocka_unit_test(test_port_and_version),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_enums),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_missing_keys),
		cmocka_unit_test(test_wrong_shapes),
		cmocka_unit_test(test_sequences),
		cmocka_unit_test(test_cross_checks),
		cmocka_unit_test(test_yaml_features_refused),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_many_errors),
		cmocka_unit_test(test_diag_overflow),
		cmocka_unit_test(test_diag_fields),
		cmocka_unit_test(test_null_inputs),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_every_prefix),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_print_quoting),
		cmocka_unit_test(test_duration_fmt),
		cmocka_unit_test(test_zone_policy),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_schema_tables),
		cmocka_unit_test(test_override_ok),
		cmocka_unit_test(test_override_errors),
		cmocka_unit_test(test_tls_listener),
	};

	return cmocka_run_group_tests_name("conf", tests, NULL, NULL);
}
