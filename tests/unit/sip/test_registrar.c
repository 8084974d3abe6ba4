/*
 * Unit tests for src/sip/registrar.c and location.c: RFC 3261 10.3
 * processing on a real location table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sip/parse.h"
#include "sip/registrar.h"

static struct sip_hdr hdrs[SIP_MAX_HDRS];
static const struct reg_policy pol = {
	.min_expires = 60, .max_expires = 3600, .default_expires = 1800,
	.max_contacts = 3,
};
static struct reg_request req;
static struct reg_result res;
static char msgbuf[4096];

static const char *
reg(const char *contacts, const char *expires, const char *callid,
    unsigned cseq)
{
	snprintf(msgbuf, sizeof(msgbuf),
	    "REGISTER sip:example.com SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKr%u\r\n"
	    "From: <sip:alice@example.com>;tag=a\r\nTo: <sip:alice@example.com>\r\n"
	    "Call-ID: %s\r\nCSeq: %u REGISTER\r\n%s%s"
	    "User-Agent: Test/1\r\nContent-Length: 0\r\n\r\n",
	    cseq, callid, cseq, contacts, expires);
	return msgbuf;
}

/* Prepare + apply; returns the status. */
static unsigned
run(struct loc_table *t, const char *text, int64_t now)
{
	struct sip_msg m;
	struct sip_perr e;
	struct sip_dest src = { .transport = SIP_TP_UDP };

	if (sip_msg_parse((const uint8_t *)text, strlen(text),
	    &sip_limits_default, 0, &m, hdrs, SIP_MAX_HDRS, &e) <= 0)
		fail_msg("parse: %s", e.reason);
	if (registrar_prepare(&m, &sip_limits_default, &src, &pol, now, &req,
	    &res) < 0)
		return res.status;
	registrar_apply(t, "alice@example.com", &req, &res);
	return res.status;
}

static void
test_add_refresh_remove(void **state)
{
	struct loc_table *t;
	struct binding b[8];
	char buf[1024];

	(void)state;
	assert_int_equal(loc_new(16, &t), 0);
	assert_int_equal(run(t, reg("Contact: <sip:alice@192.0.2.1:5060>\r\n",
	    "", "c1", 1), 1000), 200);
	assert_int_equal(res.nbindings, 1);
	assert_int_equal(res.bindings[0].expires, 1000 + 1800); /* default */
	assert_int_equal(res.nchanges, 1);
	assert_false(res.changes[0].del);
	registrar_contacts(&res, 1000, buf, sizeof(buf));
	assert_string_equal(buf,
	    "Contact: <sip:alice@192.0.2.1:5060>;expires=1800\r\n");
	/* refresh with a longer expiry is capped at max */
	assert_int_equal(run(t, reg("Contact: <sip:alice@192.0.2.1:5060>\r\n",
	    "Expires: 99999\r\n", "c1", 2), 1100), 200);
	assert_int_equal(res.bindings[0].expires, 1100 + 3600);
	/* a second contact via the contact parameter */
	assert_int_equal(run(t, reg("Contact: <sip:alice@192.0.2.2>;expires=120\r\n",
	    "", "c2", 1), 1200), 200);
	assert_int_equal(res.nbindings, 2);
	assert_int_equal(loc_get(t, "alice@example.com", 1200, b, 8), 2);
	/* query: no Contact lists both, changes nothing */
	assert_int_equal(run(t, reg("", "", "c3", 1), 1200), 200);
	assert_int_equal(res.nbindings, 2);
	assert_int_equal(res.nchanges, 0);
	/* remove one with expires=0 */
	assert_int_equal(run(t, reg("Contact: <sip:alice@192.0.2.2>\r\n",
	    "Expires: 0\r\n", "c2", 2), 1300), 200);
	assert_int_equal(res.nbindings, 1);
	assert_true(res.changes[0].del);
	/* Contact: * with Expires: 0 removes all */
	assert_int_equal(run(t, reg("Contact: *\r\n", "Expires: 0\r\n", "c9", 1),
	    1400), 200);
	assert_int_equal(res.nbindings, 0);
	assert_int_equal(loc_count_aors(t), 0);
	loc_free(t);
}

static void
test_refusals(void **state)
{
	struct loc_table *t;

	(void)state;
	assert_int_equal(loc_new(16, &t), 0);
	/* 423 below min, with Min-Expires */
	assert_int_equal(run(t, reg("Contact: <sip:a@192.0.2.1>\r\n",
	    "Expires: 30\r\n", "c1", 1), 1000), 423);
	assert_int_equal(res.min_expires, 60);
	/* "*" needs Expires: 0 and must be alone */
	assert_int_equal(run(t, reg("Contact: *\r\n", "Expires: 60\r\n", "c1", 2),
	    1000), 400);
	assert_int_equal(run(t, reg("Contact: *\r\nContact: <sip:a@h.example>\r\n",
	    "Expires: 0\r\n", "c1", 3), 1000), 400);
	/* contact limit: the fourth is refused and nothing changes */
	assert_int_equal(run(t, reg("Contact: <sip:a@192.0.2.1>, <sip:a@192.0.2.2>,"
	    " <sip:a@192.0.2.3>\r\n", "", "c1", 4), 1000), 200);
	assert_int_equal(run(t, reg("Contact: <sip:a@192.0.2.4>\r\n", "", "c4", 1),
	    1000), 403);
	assert_int_equal(res.nchanges, 0);
	assert_int_equal(loc_count_bindings(t), 3);
	/* same Call-ID, older CSeq: out of order, state unchanged */
	assert_int_equal(run(t, reg("Contact: <sip:a@192.0.2.1>\r\n",
	    "Expires: 0\r\n", "c1", 4), 1000), 400);
	assert_int_equal(loc_count_bindings(t), 3);
	loc_free(t);
}

static void
test_expiry_sweep(void **state)
{
	struct loc_table *t;
	struct binding b[4];

	(void)state;
	assert_int_equal(loc_new(16, &t), 0);
	assert_int_equal(run(t, reg("Contact: <sip:a@192.0.2.1>;expires=60\r\n",
	    "", "c1", 1), 1000), 200);
	assert_int_equal(loc_get(t, "alice@example.com", 1059, b, 4), 1);
	assert_int_equal(loc_get(t, "alice@example.com", 1060, b, 4), 0);
	assert_int_equal(loc_expire(t, 1059, NULL, NULL), 0);
	assert_int_equal(loc_expire(t, 1060, NULL, NULL), 1);
	assert_int_equal(loc_count_aors(t), 0);
	loc_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_refresh_remove),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_expiry_sweep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
