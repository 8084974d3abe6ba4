/*
 * Unit tests for src/sip/parse.c: framing, limits, mandatory headers,
 * body rules, and the safety of every prefix.  The RFC 4475/5118
 * torture corpus lives in tests/torture and runs through the CLI.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "guard.h"
#include "sip/hdr.h"
#include "sip/parse.h"

static struct sip_hdr hdrs[SIP_MAX_HDRS];

static const char invite[] =
    "INVITE sip:bob@biloxi.example.com;transport=tcp SIP/2.0\r\n"
    "Via: SIP/2.0/UDP pc33.atlanta.example.com:5062;branch=z9hG4bK776asdhds;rport\r\n"
    "v: SIP/2.0/TCP [2001:db8::1]:5060;branch=z9hG4bK8;received=192.0.2.1, SIP/2.0/UDP 192.0.2.3;branch=z9hG4bK9\r\n"
    "Max-Forwards: 70\r\n"
    "To: Bob <sip:bob@biloxi.example.com>\r\n"
    "f: \"Alice \\\"A\\\"\" <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    "CSeq: 314159 INVITE\r\n"
    "m: <sip:alice@pc33.atlanta.example.com>;expires=60, sip:a2@192.0.2.4\r\n"
    "Subject: folded\r\n continued\r\n"
    "X-Unknown: anything ; goes , here\r\n"
    "c: application/sdp\r\n"
    "l: 4\r\n"
    "\r\n"
    "v=0\n";

static ssize_t
parse(const char *s, size_t len, unsigned flags, struct sip_msg *m,
    struct sip_perr *e)
{
	const uint8_t *p = guard_copy(s, len);

	return sip_msg_parse(p, len, &sip_limits_default, flags, m, hdrs,
	    SIP_MAX_HDRS, e);
}

static void
expect_err(const char *s, unsigned status, const char *reason)
{
	struct sip_msg m;
	struct sip_perr e;
	ssize_t r = parse(s, strlen(s), 0, &m, &e);

	if (r >= 0 || e.status != status || strcmp(e.reason, reason) != 0)
		fail_msg("want %u %s, got r=%zd %u %s for:\n%s", status, reason,
		    r, r < 0 ? e.status : 0, r < 0 ? e.reason : "-", s);
}

static void
assert_slice(struct slice s, const char *want)
{
	if (s.len != strlen(want) || memcmp(s.p, want, s.len) != 0)
		fail_msg("got '%.*s', want '%s'", (int)s.len, (const char *)s.p,
		    want);
}

static void
test_invite_decoded(void **state)
{
	struct sip_msg m;
	struct sip_perr e;
	ssize_t r = parse(invite, sizeof(invite) - 1, 0, &m, &e);

	(void)state;
	assert_int_equal(r, sizeof(invite) - 1);
	assert_true(m.is_request);
	assert_int_equal(m.method, SIP_M_INVITE);
	assert_slice(m.ruri.user, "bob");
	assert_slice(m.ruri.hp.host, "biloxi.example.com");
	assert_slice(m.ruri.transport, "tcp");
	assert_int_equal(m.nvia, 3);
	assert_slice(m.via1.branch, "z9hG4bK776asdhds");
	assert_int_equal(m.via1.sent_by.port, 5062);
	assert_true(m.via1.has_rport);
	assert_slice(m.from.tag, "1928301774");
	assert_false(m.to.has_tag);
	assert_slice(m.call_id, "a84b4c76e66710@pc33.atlanta.example.com");
	assert_int_equal(m.cseq, 314159);
	assert_int_equal(m.cseq_method, SIP_M_INVITE);
	assert_int_equal(m.max_forwards, 70);
	assert_slice(m.content_type, "application/sdp");
	assert_slice(m.body, "v=0\n");
	assert_int_equal(m.count[SIP_H_VIA], 2);
	assert_non_null(sip_msg_hdr_by_name(&m, SLICE_LIT("x-unknown")));
	assert_null(sip_msg_hdr_by_name(&m, SLICE_LIT("X-Absent")));
	assert_slice(sip_msg_hdr(&m, SIP_H_SUBJECT)->value,
	    "folded\r\n continued");
}

/* Every strict prefix of a valid message is refused (datagram) or
 * incomplete (stream), and the guard page proves no over-read. */
static void
test_every_prefix_is_safe(void **state)
{
	struct sip_msg m;
	struct sip_perr e;

	(void)state;
	for (size_t cut = 0; cut < sizeof(invite) - 1; cut++) {
		ssize_t r = parse(invite, cut, 0, &m, &e);

		assert_true(r < 0);
		assert_true(e.off <= cut);
		r = parse(invite, cut, SIP_PARSE_STREAM, &m, &e);
		assert_true(r <= 0);
	}
}

static void
test_stream_frames_and_pipelines(void **state)
{
	char two[2 * sizeof(invite)];
	struct sip_msg m;
	struct sip_perr e;
	size_t n = sizeof(invite) - 1, scan = 0;
	ssize_t r;

	(void)state;
	memcpy(two, invite, n);
	memcpy(two + n, invite, n);
	r = parse(two, 2 * n, SIP_PARSE_STREAM, &m, &e);
	assert_int_equal(r, n);
	r = sip_stream_frame((const uint8_t *)two, 2 * n, &sip_limits_default,
	    &scan, &e);
	assert_int_equal(r, n);
	/* head complete, body short: parser says 0 and knows the length */
	r = parse(invite, n - 2, SIP_PARSE_STREAM, &m, &e);
	assert_int_equal(r, 0);
	assert_int_equal(m.len, n);
}

static void
test_stream_needs_content_length(void **state)
{
	const char *s = "OPTIONS sip:a@b.example SIP/2.0\r\n"
	    "Via: SIP/2.0/TCP h.example;branch=z9hG4bK1\r\nFrom: <sip:a@b.example>;tag=1\r\n"
	    "To: <sip:a@b.example>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n";
	struct sip_msg m;
	struct sip_perr e;
	size_t scan = 0;

	(void)state;
	assert_true(parse(s, strlen(s), SIP_PARSE_STREAM, &m, &e) < 0);
	assert_string_equal(e.reason, "Missing Content-Length");
	assert_true(sip_stream_frame((const uint8_t *)s, strlen(s),
	    &sip_limits_default, &scan, &e) < 0);
	assert_string_equal(e.reason, "Missing Content-Length");
	/* but the same is fine as a datagram */
	assert_true(parse(s, strlen(s), 0, &m, &e) > 0);
}

static void
test_stream_refuses_two_content_lengths(void **state)
{
	const char *s = "OPTIONS sip:a@b.example SIP/2.0\r\n"
	    "Content-Length: 0\r\nl: 5\r\n\r\nhello";
	struct sip_perr e;
	size_t scan = 0;

	(void)state;
	assert_true(sip_stream_frame((const uint8_t *)s, strlen(s),
	    &sip_limits_default, &scan, &e) < 0);
	assert_string_equal(e.reason, "Duplicate Content-Length");
}

#define BASE_HDRS \
	"Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa\r\n" \
	"From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n" \
	"Call-ID: c1\r\n"

static void
test_mandatory_and_singletons(void **state)
{
	(void)state;
	expect_err("OPTIONS sip:x@example.com SIP/2.0\r\n"
	    "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n"
	    "Call-ID: c1\r\nCSeq: 1 OPTIONS\r\n\r\n", 400, "Missing Via");
	expect_err("OPTIONS sip:x@example.com SIP/2.0\r\n" BASE_HDRS "\r\n",
	    400, "Missing CSeq");
	expect_err("OPTIONS sip:x@example.com SIP/2.0\r\n" BASE_HDRS
	    "CSeq: 1 OPTIONS\r\ni: c2\r\n\r\n", 400, "Duplicate Call-ID");
	expect_err("OPTIONS sip:x@example.com SIP/2.0\r\n" BASE_HDRS
	    "CSeq: 1 INVITE\r\n\r\n", 400, "CSeq Method Mismatch");
	expect_err("OPTIONS sip:x@example.com SIP/2.0\r\n" BASE_HDRS
	    "CSeq: 2147483648 OPTIONS\r\n\r\n", 400, "Bad CSeq");
	expect_err("OPTIONS sip:x@example.com SIP/2.0\r\n" BASE_HDRS
	    "CSeq: 1 OPTIONS\r\nMax-Forwards: 256\r\n\r\n", 400,
	    "Bad Max-Forwards");
	expect_err("OPTIONS sip:x@example.com SIP/2.0\r\n" BASE_HDRS
	    "CSeq: 1 OPTIONS\r\nContent-Length: 10\r\n"
	    "Content-Type: text/plain\r\n\r\nshort", 400,
	    "Body Shorter Than Content-Length");
	expect_err("OPTIONS sip:x@example.com SIP/2.0\r\n" BASE_HDRS
	    "CSeq: 1 OPTIONS\r\n\r\nbody without type", 400,
	    "Missing Content-Type");
}

/* A well-formed message that fails a sanity check is `invalid`
 * (sip.invalid); a grammar error is not (sip.malformed). */
static void
expect_invalid(const char *s, int invalid)
{
	struct sip_msg m;
	struct sip_perr e;

	if (parse(s, strlen(s), 0, &m, &e) >= 0 || e.invalid != invalid)
		fail_msg("want invalid=%d for:\n%s", invalid, s);
}

static void
test_invalid_is_told_from_malformed(void **state)
{
	const char *s = "OPTIONS sip:a@b.example SIP/2.0\r\n"
	    "Content-Length: 0\r\nl: 5\r\n\r\nhello";
	struct sip_perr e;
	size_t scan = 0;

	(void)state;
	expect_invalid("OPTIONS sip:x@example.com SIP/2.0\r\n" BASE_HDRS
	    "\r\n", 1);					/* Missing CSeq */
	expect_invalid("OPTIONS sip:x@example.com SIP/2.0\r\n" BASE_HDRS
	    "CSeq: 1 OPTIONS\r\ni: c2\r\n\r\n", 1);	/* Duplicate */
	expect_invalid("OPTIONS sip:x@example.com SIP/2.0\r\n" BASE_HDRS
	    "CSeq: 1 INVITE\r\n\r\n", 1);
	expect_invalid("OPTIONS sip:x@example.com SIP/2.0\r\n" BASE_HDRS
	    "CSeq: 1 OPTIONS\r\n\r\nbody without type", 1);
	expect_invalid("OPTIONS sip:x@example.com SIP/2.0\r\n" BASE_HDRS
	    "CSeq: one OPTIONS\r\n\r\n", 0);		/* Bad CSeq */
	expect_invalid("OPTIONS  sip:x@example.com SIP/2.0\r\n" BASE_HDRS
	    "CSeq: 1 OPTIONS\r\n\r\n", 0);
	expect_invalid("OPTIONS sip:x@example.com SIP/2.0\r\n" BASE_HDRS
	    "CSeq: 1 OPTIONS\r\n", 0);			/* Incomplete */
	assert_true(sip_stream_frame((const uint8_t *)s, strlen(s),
	    &sip_limits_default, &scan, &e) < 0);
	assert_int_equal(e.invalid, 1);
}

static void
test_start_line(void **state)
{
	(void)state;
	expect_err("OPTIONS  sip:x@example.com SIP/2.0\r\n" BASE_HDRS
	    "CSeq: 1 OPTIONS\r\n\r\n", 400, "Bad Request Line");
	expect_err("OPTIONS sip:x@example.com SIP/2.0 \r\n" BASE_HDRS
	    "CSeq: 1 OPTIONS\r\n\r\n", 400, "Bad Request Line");
	expect_err("OPTIONS sip:x@example.com SIP/3.0\r\n" BASE_HDRS
	    "CSeq: 1 OPTIONS\r\n\r\n", 505, "Version Not Supported");
	expect_err("OPTIONS http://example.com/ SIP/2.0\r\n" BASE_HDRS
	    "CSeq: 1 OPTIONS\r\n\r\n", 416, "Unsupported URI Scheme");
	expect_err("OPTIONS sip:x@example.com?Route=%3Csip:a%3E SIP/2.0\r\n"
	    BASE_HDRS "CSeq: 1 OPTIONS\r\n\r\n", 400, "Bad Request-URI");
	expect_err("OPTIONS <sip:x@example.com> SIP/2.0\r\n" BASE_HDRS
	    "CSeq: 1 OPTIONS\r\n\r\n", 400, "Bad Request-URI");
	expect_err("OPTIONS sip:x@example.com SIP/2.0\n" BASE_HDRS
	    "CSeq: 1 OPTIONS\r\n\r\n", 400, "Bad Line Ending");
	expect_err("SIP/2.0 99 Odd\r\n" BASE_HDRS "CSeq: 1 OPTIONS\r\n\r\n",
	    400, "Bad Status Code");
	expect_err("SIP/2.0 700 Odd\r\n" BASE_HDRS "CSeq: 1 OPTIONS\r\n\r\n",
	    400, "Bad Status Code");
	expect_err("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", 400,
	    "Bad SIP Version");
}

static void
test_header_lines(void **state)
{
	(void)state;
	expect_err("OPTIONS sip:x@example.com SIP/2.0\r\n"
	    " Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa\r\n\r\n", 400,
	    "Bad Header Folding");
	expect_err("OPTIONS sip:x@example.com SIP/2.0\r\n" BASE_HDRS
	    "CSeq: 1 OPTIONS\r\nBad Name: x\r\n\r\n", 400, "Bad Header Name");
	expect_err("OPTIONS sip:x@example.com SIP/2.0\r\n" BASE_HDRS
	    "CSeq: 1 OPTIONS\r\nX-A: a\x01" "b\r\n\r\n", 400,
	    "Control Character In Header");
	expect_err("OPTIONS sip:x@example.com SIP/2.0\r\n" BASE_HDRS
	    "CSeq: 1 OPTIONS\r\nX-A: a\rb\r\n\r\n", 400, "Bad Line Ending");
	expect_err("OPTIONS sip:x@example.com SIP/2.0\r\n" BASE_HDRS
	    "CSeq: 1 OPTIONS\r\n", 400, "Incomplete Message");
	expect_err("OPTIONS sip:x@example.com SIP/2.0\r\n" BASE_HDRS
	    "CSeq: 1 OPTIONS\r\nRoute: sip:p.example.com;lr\r\n\r\n", 400,
	    "Bad Route");
	expect_err("OPTIONS sip:x@example.com SIP/2.0\r\n" BASE_HDRS
	    "CSeq: 1 OPTIONS\r\nContact: *, <sip:a@b.example>\r\n\r\n", 400,
	    "Bad Contact");
	expect_err("OPTIONS sip:x@example.com SIP/2.0\r\n" BASE_HDRS
	    "CSeq: 1 OPTIONS\r\nAuthorization: Digest username=\"a\", "
	    "username=\"b\"\r\n\r\n", 400, "Bad Authorization");
	/* fuzzer find: a host of only "." once read a NULL label */
	expect_err("OPTIONS sip:x@example.com SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP .;branch=z9hG4bKa\r\n"
	    "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n"
	    "Call-ID: c1\r\nCSeq: 1 OPTIONS\r\n\r\n", 400, "Bad Via");
	expect_err("OPTIONS sip:x@. SIP/2.0\r\n" BASE_HDRS
	    "CSeq: 1 OPTIONS\r\n\r\n", 400, "Bad Request-URI");
	expect_err("OPTIONS sip:x@example.com SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 192.0.2.1:0;branch=z9hG4bKa\r\n"
	    "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n"
	    "Call-ID: c1\r\nCSeq: 1 OPTIONS\r\n\r\n", 400, "Bad Via");
}

/* A quoted-pair may carry a control byte (RFC 4475 intmeth). */
static void
test_quoted_pair_control(void **state)
{
	static const char s[] = "OPTIONS sip:x@example.com SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa\r\n"
	    "From: <sip:a@example.com>;tag=1\r\n"
	    "To: \"NUL:\\\0 BEL:\\\a\" <sip:b@example.com>\r\n"
	    "Call-ID: c1\r\nCSeq: 1 OPTIONS\r\n\r\n";
	struct sip_msg m;
	struct sip_perr e;

	(void)state;
	assert_int_equal(parse(s, sizeof(s) - 1, 0, &m, &e), sizeof(s) - 1);
}

static void
test_limits(void **state)
{
	struct sip_limits lim = sip_limits_default;
	char *big = malloc(70000);
	struct sip_msg m;
	struct sip_perr e;
	size_t n;
	ssize_t r;

	(void)state;
	/* too many headers */
	n = (size_t)sprintf(big, "OPTIONS sip:x@example.com SIP/2.0\r\n"
	    BASE_HDRS "CSeq: 1 OPTIONS\r\n");
	for (size_t i = 0; i < lim.max_hdrs; i++)
		n += (size_t)sprintf(big + n, "X-%zu: y\r\n", i);
	n += (size_t)sprintf(big + n, "\r\n");
	r = parse(big, n, 0, &m, &e);
	assert_true(r < 0);
	assert_int_equal(e.status, 513);
	assert_string_equal(e.reason, "Too Many Headers");

	/* datagram over max_msg */
	memset(big, 'a', 20000);
	r = parse(big, 20000, 0, &m, &e);
	assert_int_equal(e.status, 513);
	assert_string_equal(e.reason, "Message Too Large");

	/* Request-URI over max_uri */
	n = (size_t)sprintf(big, "OPTIONS sip:");
	memset(big + n, 'u', 1100);
	n += 1100;
	n += (size_t)sprintf(big + n, "@example.com SIP/2.0\r\n" BASE_HDRS
	    "CSeq: 1 OPTIONS\r\n\r\n");
	r = parse(big, n, 0, &m, &e);
	assert_int_equal(e.status, 414);

	/* header line over max_line */
	n = (size_t)sprintf(big, "OPTIONS sip:x@example.com SIP/2.0\r\n"
	    BASE_HDRS "CSeq: 1 OPTIONS\r\nX-Long: ");
	memset(big + n, 'x', 9000);
	n += 9000;
	n += (size_t)sprintf(big + n, "\r\n\r\n");
	lim.max_msg = 65000;
	r = sip_msg_parse((const uint8_t *)big, n, &lim, 0, &m, hdrs,
	    SIP_MAX_HDRS, &e);
	assert_true(r < 0);
	assert_int_equal(e.status, 513);
	assert_string_equal(e.reason, "Header Too Long");

	/* Via count over max_via */
	n = (size_t)sprintf(big, "OPTIONS sip:x@example.com SIP/2.0\r\n");
	for (size_t i = 0; i <= lim.max_via; i++)
		n += (size_t)sprintf(big + n,
		    "Via: SIP/2.0/UDP 192.0.2.%zu;branch=z9hG4bK%zu\r\n", i, i);
	n += (size_t)sprintf(big + n, "From: <sip:a@example.com>;tag=1\r\n"
	    "To: <sip:b@example.com>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\n\r\n");
	r = parse(big, n, 0, &m, &e);
	assert_int_equal(e.status, 513);
	assert_string_equal(e.reason, "Too Many Via Headers");
	free(big);
}

static void
test_body_truncated_to_content_length(void **state)
{
	static const char s[] = "MESSAGE sip:x@example.com SIP/2.0\r\n" BASE_HDRS
	    "CSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\n"
	    "Content-Length: 5\r\n\r\nhello and more";
	struct sip_msg m;
	struct sip_perr e;
	ssize_t r = parse(s, sizeof(s) - 1, 0, &m, &e);

	(void)state;
	assert_true(r > 0);
	assert_true(m.flags & SIP_MSG_TRUNCATED);
	assert_slice(m.body, "hello");
	assert_int_equal(m.len, sizeof(s) - 1 - strlen(" and more"));
}

static void
test_rfc2543_without_cookie(void **state)
{
	static const char s[] = "INVITE sip:x@example.com SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 192.0.2.1\r\nFrom: <sip:a@example.com>\r\n"
	    "To: <sip:b@example.com>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n"
	    "Content-Length: 0\r\n\r\n";
	struct sip_msg m;
	struct sip_perr e;

	(void)state;
	assert_true(parse(s, sizeof(s) - 1, 0, &m, &e) > 0);
	assert_true(m.flags & SIP_MSG_NO_COOKIE);
	assert_false(m.flags & SIP_MSG_HAS_MF);
}

static void
test_response(void **state)
{
	static const char s[] = "SIP/2.0 180 \xc3\xa4 Ringing\r\n" BASE_HDRS
	    "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
	struct sip_msg m;
	struct sip_perr e;

	(void)state;
	assert_true(parse(s, sizeof(s) - 1, 0, &m, &e) > 0);
	assert_false(m.is_request);
	assert_int_equal(m.status, 180);
	assert_slice(m.reason, "\xc3\xa4 Ringing");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_invite_decoded),
		cmocka_unit_test(test_every_prefix_is_safe),
		cmocka_unit_test(test_stream_frames_and_pipelines),
		cmocka_unit_test(test_stream_needs_content_length),
		cmocka_unit_test(test_stream_refuses_two_content_lengths),
		cmocka_unit_test(test_mandatory_and_singletons),
		cmocka_unit_test(test_invalid_is_told_from_malformed),
		cmocka_unit_test(test_start_line),
		cmocka_unit_test(test_header_lines),
		cmocka_unit_test(test_quoted_pair_control),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_body_truncated_to_content_length),
		cmocka_unit_test(test_rfc2543_without_cookie),
		cmocka_unit_test(test_response),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
