/*
 * Unit tests for src/policy/scanner.c: the shipped signature file
 * (every line parsed, every match type matching what SIPVicious and
 * friends send, confidence from the file's notes), every parse error
 * with its file:line, every prefix of the shipped file, and the
 * behaviour tracker's thresholds, windows and capacity.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "guard.h"
#include "policy/scanner.h"

static struct scan_db *db;
static uint8_t *file;
static size_t file_len;

static const char *
data_path(void)
{
	static char path[4096];
	const char *root = getenv("SW_SOURCE_ROOT");

	snprintf(path, sizeof(path), "%s/data/scanner-user-agents.txt",
	    root != NULL ? root : ".");
	return path;
}

static int
setup(void **state)
{
	char err[SCAN_ERR_MAX];
	FILE *f;
	long n;

	(void)state;
	if (scan_db_load(data_path(), &db, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	if ((f = fopen(data_path(), "rb")) == NULL)
		return -1;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	file = malloc((size_t)n);
	file_len = fread(file, 1, (size_t)n, f);
	fclose(f);
	return file_len == (size_t)n ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	scan_db_free(db);
	free(file);
	return 0;
}

/* --- headers for hdr: signatures --- */

struct hdrs {
	const char	*name[8];
	const char	*value[8];
	size_t		 n;
	unsigned	 calls;
};

static int
get_hdr(void *arg, struct slice name, size_t idx, struct slice *ret)
{
	struct hdrs *h = arg;
	size_t seen = 0;

	h->calls++;
	for (size_t i = 0; i < h->n; i++) {
		if (!slice_eq_ci(name, slice_cstr(h->name[i])))
			continue;
		if (seen++ == idx) {
			*ret = slice_cstr(h->value[i]);
			return 0;
		}
	}
	return -1;
}

static int
match_ua(const char *ua, struct scan_match *m)
{
	return scan_match(db, slice_cstr(ua), NULL, NULL, SLICE_NULL, m);
}

static const struct scan_sig *
sig_at(int i)
{
	assert_true(i >= 0);
	return scan_db_sig(db, (size_t)i);
}

static void
shipped_file_parses(void **state)
{
	size_t want = 0;
	struct slice rest = slice_make(file, file_len), line = SLICE_NULL, t;
	ssize_t nl;

	(void)state;
	/* One signature per line that is neither blank nor a comment. */
	while (rest.len > 0) {
		nl = slice_find(rest, '\n');
		slice_take(&rest, nl >= 0 ? (size_t)nl : rest.len, &line);
		slice_skip(&rest, 1);
		t = slice_trim_lws(line);
		if (t.len > 0 && t.p[0] != '#')
			want++;
	}
	assert_int_equal(scan_db_count(db), want);
	assert_int_equal(want, 42);
	assert_null(scan_db_sig(db, want));
	for (size_t i = 0; i < want; i++) {
		const struct scan_sig *s = scan_db_sig(db, i);

		assert_true(s->type >= SCAN_M_SUBSTR_CI && s->type < SCAN_M_MAX);
		assert_true(s->plen > 0);
		assert_true(strlen(s->tool) > 0);
		assert_true(s->line > 0);
		if (s->type == SCAN_M_HDR)
			assert_true(s->hlen > 0);
	}
	/* Spot checks against the text. */
	assert_int_equal(scan_db_sig(db, 0)->type, SCAN_M_SUBSTR_CI);
	assert_int_equal(scan_db_sig(db, 0)->line, 13);
	assert_memory_equal(scan_db_sig(db, 0)->pattern, "friendly-scanner",
	    16);
	assert_int_equal(scan_db_sig(db, 2)->type, SCAN_M_HDR);
	assert_string_equal(scan_db_sig(db, 2)->hdr, "From");
	assert_memory_equal(scan_db_sig(db, 2)->pattern, "\"sipvicious\"", 12);
	assert_int_equal(scan_db_sig(db, want - 1)->type, SCAN_M_BODY);
}

static void
confidence_from_notes(void **state)
{
	struct scan_match m;

	(void)state;
	assert_true(match_ua("friendly-scanner", &m) >= 0);
	assert_int_equal(m.conf, SCAN_C_HIGH);
	assert_true(match_ua("sipsak 0.9.8", &m) >= 0);	/* "FP risk:" */
	assert_int_equal(m.conf, SCAN_C_MEDIUM);
	assert_true(match_ua("Cisco-SIPGateway/IOS-12.x", &m) >= 0);
	assert_int_equal(m.conf, SCAN_C_LOW);			/* "HIGH" */
	assert_true(match_ua("my scanner", &m) >= 0);		/* "low" */
	assert_int_equal(m.conf, SCAN_C_HIGH);
	assert_string_equal(scan_conf_name(SCAN_C_LOW), "low");
	assert_string_equal(scan_conf_name(SCAN_C_MAX), "unknown");
}

static void
user_agent_matches(void **state)
{
	static const struct {
		const char *ua;
		const char *pattern;	/* NULL: no match */
		enum scan_mtype type;
	} v[] = {
		{ "friendly-scanner", "friendly-scanner", SCAN_M_SUBSTR_CI },
		{ "FRIENDLY-SCANNER", "friendly-scanner", SCAN_M_SUBSTR_CI },
		{ "x friendly-Scanner/0.3.3", "friendly-scanner",
		    SCAN_M_SUBSTR_CI },
		{ "sipcli/v1.8", "sipcli", SCAN_M_PREFIX },
		{ "VaxSIPUserAgent/3.1", "VaxSIPUserAgent", SCAN_M_PREFIX },
		{ "pplsip", "pplsip", SCAN_M_SUBSTR_CI },
		{ "Nmap NSE", "nmap nse", SCAN_M_SUBSTR_CI },
		{ "smap 0.6", "smap", SCAN_M_PREFIX },
		/* prefix is case-sensitive and anchored. */
		{ "SIPCLI/v1.8", NULL, 0 },
		{ "my sipcli", NULL, 0 },
		{ "asmap", NULL, 0 },
		{ "Linphone/5.2.0 (belle-sip/5.2.0)", NULL, 0 },
		{ "Grandstream GXP2170 1.0.11.23", NULL, 0 },
		{ "Asterisk PBX 20.5.0", "asterisk pbx", SCAN_M_SUBSTR_CI },
		{ "", NULL, 0 },
	};
	struct scan_match m;
	int i;

	(void)state;
	for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
		memset(&m, 0, sizeof(m));
		i = match_ua(v[k].ua, &m);
		if (v[k].pattern == NULL) {
			if (i != -1)
				fail_msg("'%s' matched line %u", v[k].ua,
				    sig_at(i)->line);
			continue;
		}
		if (i < 0)
			fail_msg("'%s' did not match", v[k].ua);
		assert_int_equal(m.index, i);
		assert_int_equal(m.type, v[k].type);
		assert_int_equal(sig_at(i)->plen, strlen(v[k].pattern));
		assert_memory_equal(sig_at(i)->pattern, v[k].pattern,
		    strlen(v[k].pattern));
		assert_ptr_equal(m.tool, sig_at(i)->tool);
		assert_int_equal(m.line, sig_at(i)->line);
	}
}

static void
best_confidence_wins(void **state)
{
	struct scan_match m;

	(void)state;
	/* "PortSIP VoIP SDK" (low) and "VOIP" (medium) both match. */
	assert_true(match_ua("PortSIP VoIP SDK 11.2", &m) >= 0);
	assert_int_equal(m.conf, SCAN_C_MEDIUM);
	assert_memory_equal(sig_at(m.index)->pattern, "voip", 4);
	/* A high one anywhere beats both. */
	assert_true(match_ua("PortSIP VoIP SDK friendly-scanner", &m) >= 0);
	assert_int_equal(m.conf, SCAN_C_HIGH);
	assert_int_equal(m.index, 0);
}

static void
long_user_agent(void **state)
{
	char ua[3000];
	struct scan_match m;

	(void)state;
	memset(ua, 'a', sizeof(ua));
	memcpy(ua + sizeof(ua) - 16, "Friendly-Scanner", 16);
	assert_int_equal(scan_match(db, slice_make(ua, sizeof(ua)), NULL,
	    NULL, SLICE_NULL, &m), 0);
	memcpy(ua, "sipcli", 6);
	memset(ua + sizeof(ua) - 16, 'a', 16);
	assert_true(scan_match(db, slice_make(ua, sizeof(ua)), NULL, NULL,
	    SLICE_NULL, &m) >= 0);
	assert_int_equal(m.type, SCAN_M_PREFIX);
	/* Read up to the end, not one byte more. */
	{
		const uint8_t *g = guard_copy("xx friendly-scanner", 19);

		assert_int_equal(scan_match(db, slice_make(g, 19), NULL, NULL,
		    SLICE_NULL, NULL), 0);
		g = guard_copy("xx friendly-scanne", 18);
		assert_int_equal(scan_match(db, slice_make(g, 18), NULL, NULL,
		    SLICE_NULL, NULL), -1);
	}
}

static void
header_matches(void **state)
{
	struct hdrs h = {
		.name = { "From", "To", "Contact", "Contact" },
		.value = {
			"\"sipvicious\"<sip:100@1.1.1.1>;tag=6433",
			"\"sipvicious\"<sip:100@1.1.1.1>",
			"sip:alice@192.0.2.1",
			"sip:123@1.1.1.1:5060",
		},
		.n = 2,
	};
	struct scan_match m;
	int i;

	(void)state;
	/* svmap's From: the display name line comes first in the file. */
	i = scan_match(db, SLICE_NULL, get_hdr, &h, SLICE_NULL, &m);
	assert_true(i >= 0);
	assert_int_equal(m.type, SCAN_M_HDR);
	assert_string_equal(sig_at(i)->hdr, "From");
	assert_memory_equal(sig_at(i)->pattern, "\"sipvicious\"", 12);
	/* The second Contact value is svcrack's. */
	h.name[0] = "X-Nothing";
	h.n = 4;
	i = scan_match(db, SLICE_NULL, get_hdr, &h, SLICE_NULL, &m);
	assert_true(i >= 0);
	assert_string_equal(sig_at(i)->hdr, "Contact");
	/* Without a callback no header signature can match. */
	assert_int_equal(scan_match(db, SLICE_NULL, NULL, NULL, SLICE_NULL,
	    &m), -1);
	/* Header patterns are case-sensitive. */
	h.name[0] = "From";
	h.value[0] = "<SIP:NM@NM>;tag=root";
	h.n = 1;
	assert_int_equal(scan_match(db, SLICE_NULL, get_hdr, &h, SLICE_NULL,
	    &m), -1);
	h.value[0] = "<sip:nm@nm>;tag=root";
	assert_true(scan_match(db, SLICE_NULL, get_hdr, &h, SLICE_NULL,
	    &m) >= 0);
	/* The malformed digest of svcrack. */
	h.name[0] = "Authorization";
	h.value[0] = "Digest username=\"100\",realm=\"x\",nonce=\"n\","
	    "uri=\"sip:x\",algorithm=MD5,qop=auth,response=\"abc\"";
	i = scan_match(db, SLICE_NULL, get_hdr, &h, SLICE_NULL, &m);
	assert_true(i >= 0);
	assert_string_equal(sig_at(i)->hdr, "Authorization");
	/* A fraud probe's From, flagged medium ("- FP risk" in the tool). */
	h.name[0] = "From";
	h.value[0] = "<sip:user@203.0.113.9>;tag=1";
	i = scan_match(db, SLICE_NULL, get_hdr, &h, SLICE_NULL, &m);
	assert_true(i >= 0);
	assert_int_equal(m.conf, SCAN_C_MEDIUM);
	/* At most SCAN_HDR_VALUES values are looked at. */
	{
		struct hdrs many = { .n = 8 };

		for (int k = 0; k < 8; k++) {
			many.name[k] = "Via";
			many.value[k] = "SIP/2.0/UDP 192.0.2.1";
		}
		assert_int_equal(scan_match(db, SLICE_NULL, get_hdr, &many,
		    SLICE_NULL, &m), -1);
		assert_true(many.calls > 0);
	}
}

static void
body_matches(void **state)
{
	static const char msg[] =
	    "INVITE sip:100@192.0.2.1 SIP/2.0\r\n"
	    "Content-Type: multipart/mixed;boundary=xyz\r\n\r\n--xyz\r\n";
	struct scan_match m;
	int i;

	(void)state;
	i = scan_match(db, SLICE_NULL, NULL, NULL, slice_cstr(msg), &m);
	assert_true(i >= 0);
	assert_int_equal(m.type, SCAN_M_BODY);
	assert_int_equal(scan_match(db, SLICE_NULL, NULL, NULL,
	    slice_cstr("multipart/mixed; boundary=x"), &m), -1);
	assert_string_equal(scan_mtype_name(SCAN_M_BODY), "body");
	assert_string_equal(scan_mtype_name(SCAN_M_MAX), "unknown");
}

/* --- parse errors --- */

static void
expect_error(const char *text, int want, const char *where,
    const char *what)
{
	char err[SCAN_ERR_MAX];
	struct scan_db *d = (struct scan_db *)0x1;
	size_t len = strlen(text);
	const uint8_t *p = guard_copy(text, len);

	memset(err, 0, sizeof(err));
	assert_int_equal(scan_db_parse(p, len, "t.txt", &d, err,
	    sizeof(err)), want);
	assert_ptr_equal(d, (struct scan_db *)0x1);
	if (strncmp(err, where, strlen(where)) != 0 ||
	    strstr(err, what) == NULL)
		fail_msg("error '%s', want '%s' ... '%s'", err, where, what);
}

static void
parse_errors(void **state)
{
	char buf[8192];

	(void)state;
	expect_error("# c\n\nbogus|x|y|z\n", -SBC_EPARSE, "t.txt:3: ",
	    "unknown match type 'bogus'");
	expect_error("substr-ci|x|y\n", -SBC_EPARSE, "t.txt:1: ",
	    "expected 4 fields");
	expect_error("substr-ci\n", -SBC_EPARSE, "t.txt:1: ",
	    "found 1");
	expect_error("prefix||tool|src\n", -SBC_EPARSE, "t.txt:1: ",
	    "pattern must be");
	expect_error("hdr:|x|tool|src\n", -SBC_EPARSE, "t.txt:1: ",
	    "header name");
	expect_error("hdr:Bad Name|x|tool|src\n", -SBC_EPARSE, "t.txt:1: ",
	    "bad character in header name");
	expect_error("body|a\tb|tool|src\n", -SBC_EPARSE, "t.txt:1: ",
	    "control character");
	expect_error("body|ab|\x7f|src\n", -SBC_EPARSE, "t.txt:1: ",
	    "control character");
	expect_error("body|ab||src\n", -SBC_EPARSE, "t.txt:1: ",
	    "empty tool");
	expect_error("Substr-CI |x|y|z\n", -SBC_EPARSE, "t.txt:1: ",
	    "unknown match type");

	/* A pattern of SCAN_PATTERN_MAX bytes is fine, one more is not. */
	snprintf(buf, sizeof(buf), "body|%0*d|t|s\n", SCAN_PATTERN_MAX, 0);
	{
		struct scan_db *d = NULL;

		assert_int_equal(scan_db_parse((const uint8_t *)buf,
		    strlen(buf), "t.txt", &d, NULL, 0), 0);
		scan_db_free(d);
	}
	snprintf(buf, sizeof(buf), "body|%0*d|t|s\n", SCAN_PATTERN_MAX + 1, 0);
	expect_error(buf, -SBC_EPARSE, "t.txt:1: ", "pattern must be");
	/* Lines longer than SCAN_LINE_MAX. */
	snprintf(buf, sizeof(buf), "\nbody|x|t|%0*d\n", SCAN_LINE_MAX, 0);
	expect_error(buf, -SBC_ELIMIT, "t.txt:2: ", "line longer");
	/* NUL bytes. */
	{
		static const char nul[] = "body|x|t|s\nbody|x\0y|t|s\n";
		char err[SCAN_ERR_MAX];
		struct scan_db *d = NULL;

		assert_int_equal(scan_db_parse((const uint8_t *)nul,
		    sizeof(nul) - 1, "t.txt", &d, err, sizeof(err)),
		    -SBC_EPARSE);
		assert_string_equal(err, "t.txt:2: NUL byte");
	}
	/* An error buffer that is too small is cut, not overrun. */
	{
		char err[8];
		struct scan_db *d = NULL;

		assert_int_equal(scan_db_parse((const uint8_t *)"x|y|z|w", 7,
		    "a-long-file-name.txt", &d, err, sizeof(err)),
		    -SBC_EPARSE);
		assert_int_equal(strlen(err), sizeof(err) - 1);
	}
}

static void
parse_limits_and_forms(void **state)
{
	struct scan_db *d = NULL;
	char err[SCAN_ERR_MAX];
	size_t n = 0, cap = (SCAN_MAX_SIGS + 1) * 16;
	char *big = malloc(cap);
	static const char crlf[] =
	    "# comment\r\n\r\n   # indented comment\r\n"
	    "substr-ci|Evil|the evil tool|a|b|c\r\n"
	    "hdr:X-Probe|zz|probe|s";

	(void)state;
	assert_non_null(big);
	/* At the limit. */
	for (int i = 0; i < SCAN_MAX_SIGS; i++)
		n += (size_t)snprintf(big + n, cap - n, "body|p%d|t|s\n", i);
	assert_int_equal(scan_db_parse((const uint8_t *)big, n, "t.txt", &d,
	    err, sizeof(err)), 0);
	assert_int_equal(scan_db_count(d), SCAN_MAX_SIGS);
	scan_db_free(d);
	/* Over. */
	n += (size_t)snprintf(big + n, cap - n, "body|last|t|s\n");
	assert_int_equal(scan_db_parse((const uint8_t *)big, n, "t.txt", &d,
	    err, sizeof(err)), -SBC_ELIMIT);
	assert_non_null(strstr(err, ":1025: more than 1024"));
	free(big);
	/* Files over SCAN_FILE_MAX are refused before parsing. */
	assert_int_equal(scan_db_parse((const uint8_t *)crlf,
	    (size_t)SCAN_FILE_MAX + 1, "t.txt", &d, err, sizeof(err)),
	    -SBC_ELIMIT);

	/* CRLF, comments, '|' in the sources, no final newline. */
	assert_int_equal(scan_db_parse((const uint8_t *)crlf,
	    sizeof(crlf) - 1, "t.txt", &d, err, sizeof(err)), 0);
	assert_int_equal(scan_db_count(d), 2);
	assert_int_equal(scan_db_sig(d, 0)->line, 4);
	assert_string_equal(scan_db_sig(d, 0)->tool, "the evil tool");
	assert_memory_equal(scan_db_sig(d, 0)->pattern, "evil", 4);
	assert_string_equal(scan_db_sig(d, 1)->hdr, "X-Probe");
	assert_int_equal(scan_db_sig(d, 1)->line, 5);
	assert_int_equal(scan_match(d, slice_cstr("EVIL UA"), NULL, NULL,
	    SLICE_NULL, NULL), 0);
	scan_db_free(d);
	scan_db_free(NULL);

	/* An empty file is an empty database. */
	assert_int_equal(scan_db_parse((const uint8_t *)"", 0, "t.txt", &d,
	    err, sizeof(err)), 0);
	assert_int_equal(scan_db_count(d), 0);
	assert_int_equal(scan_match(d, slice_cstr("friendly-scanner"), NULL,
	    NULL, SLICE_NULL, NULL), -1);
	scan_db_free(d);
}

static void
load_errors(void **state)
{
	struct scan_db *d = NULL;
	char err[SCAN_ERR_MAX];

	(void)state;
	assert_int_equal(scan_db_load("/nonexistent/sigs.txt", &d, err,
	    sizeof(err)), -ENOENT);
	assert_string_equal(err, "/nonexistent/sigs.txt: No such file or "
	    "directory");
	assert_int_equal(scan_db_load("/", &d, err, sizeof(err)),
	    -SBC_ELIMIT);
	assert_null(d);
}

static void
every_prefix_of_the_file(void **state)
{
	struct scan_db *d;
	char err[SCAN_ERR_MAX];
	int r;

	(void)state;
	for (size_t cut = 0; cut <= file_len; cut++) {
		const uint8_t *p = guard_copy(file, cut);

		d = NULL;
		r = scan_db_parse(p, cut, "cut", &d, err, sizeof(err));
		/* A cut inside a line may leave fewer than 4 fields. */
		assert_true(r == 0 || r == -SBC_EPARSE);
		if (r == 0) {
			assert_true(scan_db_count(d) <= scan_db_count(db));
			scan_db_free(d);
		} else
			assert_non_null(strstr(err, "cut:"));
	}
}

/* --- behaviour --- */

static struct scan_bh *
bh_table(uint32_t cap, uint32_t stripes)
{
	struct scan_bh_conf c = { .capacity = cap, .stripes = stripes,
	    .window_ms = 60000, .users_threshold = 10,
	    .sweep_threshold = 20 };
	struct scan_bh *t = NULL;

	assert_int_equal(scan_bh_new(&c, &t), 0);
	return t;
}

static union sw_addr
A(const char *s)
{
	union sw_addr a;

	if (sw_addr_parse(s, 5060, &a) != 0)
		fail_msg("bad address in test: %s", s);
	return a;
}

static void
bh_bad_conf(void **state)
{
	struct scan_bh_conf c = { .capacity = 0 };
	struct scan_bh *t = NULL;

	(void)state;
	assert_int_equal(scan_bh_new(&c, &t), -EINVAL);
	c.capacity = 10;
	c.users_threshold = SCAN_BH_SET + 1;
	assert_int_equal(scan_bh_new(&c, &t), -EINVAL);
	c.users_threshold = 0;
	c.sweep_threshold = SCAN_BH_SET + 1;
	assert_int_equal(scan_bh_new(&c, &t), -EINVAL);
	c.sweep_threshold = SCAN_BH_SET;
	c.stripes = 12;
	assert_int_equal(scan_bh_new(&c, &t), -EINVAL);
	assert_null(t);
	scan_bh_free(NULL);
	assert_string_equal(scan_behaviour_name(SCAN_B_EXTENSION_PROBE),
	    "extension_probe");
	assert_string_equal(scan_behaviour_name(SCAN_B_OPTIONS_SWEEP),
	    "options_sweep");
	assert_string_equal(scan_behaviour_name(SCAN_B_MAX), "unknown");
}

static void
user_probing(void **state)
{
	struct scan_bh *t = bh_table(64, 4);
	union sw_addr a = A("203.0.113.7"), other = A("203.0.113.8");
	struct scan_bh_result r;
	char user[16];

	(void)state;
	/* svwar: 100, 101, ... */
	for (int i = 0; i < 9; i++) {
		snprintf(user, sizeof(user), "%d", 100 + i);
		assert_int_equal(scan_bh_unknown_user(t, &a, slice_cstr(user),
		    1000, &r), SCAN_B_NONE);
		assert_int_equal(r.distinct, (uint32_t)i + 1);
		/* Repeats do not count. */
		scan_bh_unknown_user(t, &a, slice_cstr(user), 1000, &r);
		assert_int_equal(r.distinct, (uint32_t)i + 1);
	}
	assert_int_equal(r.events, 18);
	assert_int_equal(scan_bh_unknown_user(t, &a, slice_cstr("109"), 1000,
	    &r), SCAN_B_EXTENSION_PROBE);
	assert_int_equal(r.crossed, 1);
	assert_int_equal(r.distinct, 10);
	assert_int_equal(r.window_start_ms, 1000);
	/* Reported as crossed once. */
	assert_int_equal(scan_bh_unknown_user(t, &a, slice_cstr("110"), 1000,
	    &r), SCAN_B_EXTENSION_PROBE);
	assert_int_equal(r.crossed, 0);
	/* Other sources are separate. */
	assert_int_equal(scan_bh_unknown_user(t, &other, slice_cstr("100"),
	    1000, &r), SCAN_B_NONE);
	assert_int_equal(r.distinct, 1);
	/* The set is bounded: distinct saturates at SCAN_BH_SET. */
	for (int i = 0; i < 100; i++) {
		snprintf(user, sizeof(user), "u%d", i);
		scan_bh_unknown_user(t, &a, slice_cstr(user), 2000, &r);
	}
	assert_int_equal(r.distinct, SCAN_BH_SET);
	/* A new window starts over. */
	assert_int_equal(scan_bh_unknown_user(t, &a, slice_cstr("100"),
	    61000, &r), SCAN_B_NONE);
	assert_int_equal(r.distinct, 1);
	assert_int_equal(r.window_start_ms, 61000);
	/* Forgetting a source. */
	assert_int_equal(scan_bh_forget(t, &a), 1);
	assert_int_equal(scan_bh_forget(t, &a), 0);
	scan_bh_free(t);
}

static void
uri_sweeps(void **state)
{
	struct scan_bh *t = bh_table(64, 4);
	union sw_addr a = A("2001:db8:1:2::7"), same64 = A("2001:db8:1:2::99");
	union sw_addr bad;
	struct scan_bh_result r;
	static const char *methods[] = { "OPTIONS", "REGISTER", "INVITE" };
	char user[16];

	(void)state;
	for (int i = 0; i < 19; i++) {
		snprintf(user, sizeof(user), "%d", 1000 + i);
		/* One /64 is one source. */
		assert_int_equal(scan_bh_request(t, i % 2 ? &a : &same64,
		    slice_cstr(methods[i % 3]), slice_cstr(user), 5000, &r),
		    SCAN_B_NONE);
	}
	assert_int_equal(r.distinct, 19);
	/* Other methods, and methods in the wrong case, do not count. */
	assert_int_equal(scan_bh_request(t, &a, slice_cstr("BYE"),
	    slice_cstr("x1"), 5000, &r), SCAN_B_NONE);
	assert_int_equal(r.distinct, 0);
	assert_int_equal(scan_bh_request(t, &a, slice_cstr("options"),
	    slice_cstr("x2"), 5000, NULL), SCAN_B_NONE);
	assert_int_equal(scan_bh_request(t, &a, slice_cstr("OPTIONS"),
	    slice_cstr("1000"), 5000, &r), SCAN_B_NONE);
	assert_int_equal(r.distinct, 19);
	assert_int_equal(scan_bh_request(t, &a, slice_cstr("OPTIONS"),
	    slice_cstr("2000"), 5000, &r), SCAN_B_OPTIONS_SWEEP);
	assert_true(r.crossed);
	/* The user-probe count of the same source is separate. */
	assert_int_equal(scan_bh_unknown_user(t, &a, slice_cstr("1000"), 5000,
	    &r), SCAN_B_NONE);
	assert_int_equal(r.distinct, 1);

	memset(&bad, 0, sizeof(bad));
	bad.sa.sa_family = AF_UNIX;
	assert_int_equal(scan_bh_unknown_user(t, &bad, slice_cstr("x"), 0,
	    &r), -EAFNOSUPPORT);
	assert_int_equal(scan_bh_forget(t, &bad), 0);
	scan_bh_free(t);
}

static void
bh_capacity(void **state)
{
	enum { CAP = 16 };
	struct scan_bh *t = bh_table(CAP, 1);
	struct scan_bh_stats st;
	struct scan_bh_result r;
	union sw_addr a;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.sin.sin_family = AF_INET;
	/* At capacity: every source tracked. */
	for (uint32_t i = 0; i < CAP; i++) {
		a.sin.sin_addr.s_addr = htonl(0xcb007100u + i);
		scan_bh_unknown_user(t, &a, slice_cstr("a"), 0, &r);
	}
	scan_bh_stats(t, &st);
	assert_int_equal(st.entries, CAP);
	assert_int_equal(st.capacity, CAP);
	assert_int_equal(st.evicted_idle + st.evicted_active, 0);
	/* Over, windows still open: an active source goes. */
	a.sin.sin_addr.s_addr = htonl(0xcb007100u + CAP);
	scan_bh_unknown_user(t, &a, slice_cstr("a"), 10, &r);
	scan_bh_stats(t, &st);
	assert_int_equal(st.evicted_active, 1);
	assert_int_equal(st.entries, CAP);
	/* Windows over: idle sources go first. */
	for (uint32_t i = 0; i < 5; i++) {
		a.sin.sin_addr.s_addr = htonl(0xcb007200u + i);
		scan_bh_unknown_user(t, &a, slice_cstr("a"), 70000, &r);
	}
	scan_bh_stats(t, &st);
	assert_int_equal(st.evicted_idle, 5);
	assert_int_equal(st.events, CAP + 1 + 5);
	scan_bh_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(shipped_file_parses),
		cmocka_unit_test(confidence_from_notes),
		cmocka_unit_test(user_agent_matches),
		cmocka_unit_test(best_confidence_wins),
		cmocka_unit_test(long_user_agent),
		cmocka_unit_test(header_matches),
		cmocka_unit_test(body_matches),
		cmocka_unit_test(parse_errors),
		cmocka_unit_test(parse_limits_and_forms),
		cmocka_unit_test(load_errors),
		cmocka_unit_test(every_prefix_of_the_file),
		cmocka_unit_test(bh_bad_conf),
		cmocka_unit_test(user_probing),
		cmocka_unit_test(uri_sweeps),
		cmocka_unit_test(bh_capacity),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
