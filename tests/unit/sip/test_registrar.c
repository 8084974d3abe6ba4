/*
 * Unit tests for src/sip/registrar.c and location.c: RFC 3261 10.3
 * processing on a real location table, NAT detection and the expiry
 * cap behind a NAT (SIG7), and the table walk of the keep-alive pass.
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

static struct sip_msg parsed;

static const struct sip_msg *
parse_text(const char *text)
{
	struct sip_perr e;

	if (sip_msg_parse((const uint8_t *)text, strlen(text),
	    &sip_limits_default, 0, &parsed, hdrs, SIP_MAX_HDRS, &e) <= 0)
		fail_msg("parse: %s", e.reason);
	return &parsed;
}

/* Prepare + apply text from src under policy p; returns the status. */
static unsigned
run_with(struct loc_table *t, const char *text, const struct sip_dest *src,
    const struct reg_policy *p, int64_t now)
{
	if (registrar_prepare(parse_text(text), &sip_limits_default, src, p,
	    now, &req, &res) < 0)
		return res.status;
	registrar_apply(t, "alice@example.com", &req, &res);
	return res.status;
}

static unsigned
run(struct loc_table *t, const char *text, int64_t now)
{
	struct sip_dest src = { .transport = SIP_TP_UDP };

	return run_with(t, text, &src, &pol, now);
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

/* ---- NAT (SIG7): detection, expiry cap, the flag on the binding ---- */

static const struct reg_policy nat_pol = {
	.min_expires = 60, .max_expires = 3600, .default_expires = 1800,
	.max_contacts = 3, .nat_expires = 60,
};

/* A REGISTER whose top Via names via_host. */
static const char *
reg_via(const char *via_host, const char *contacts, const char *expires,
    const char *callid, unsigned cseq)
{
	snprintf(msgbuf, sizeof(msgbuf),
	    "REGISTER sip:example.com SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP %s;branch=z9hG4bKn%u;rport\r\n"
	    "From: <sip:alice@example.com>;tag=a\r\nTo: <sip:alice@example.com>\r\n"
	    "Call-ID: %s\r\nCSeq: %u REGISTER\r\n%s%s"
	    "Content-Length: 0\r\n\r\n",
	    via_host, cseq, callid, cseq, contacts, expires);
	return msgbuf;
}

static struct sip_dest
dest(const char *ip, uint16_t port, uint8_t transport)
{
	struct sip_dest d;

	memset(&d, 0, sizeof(d));
	if (sw_addr_parse(ip, port, &d.addr) < 0)
		fail_msg("bad test address %s", ip);
	d.transport = transport;
	return d;
}

static int
behind(const char *via, const char *contacts, const char *ip, uint16_t port,
    uint8_t transport)
{
	struct sip_dest src = dest(ip, port, transport);

	return registrar_behind_nat(parse_text(reg_via(via, contacts, "",
	    "n1", 1)), &sip_limits_default, &src);
}

static void
test_nat_detection(void **state)
{
	(void)state;
	/* Via and Contact name the source: not behind a NAT */
	assert_int_equal(behind("192.0.2.1:5060",
	    "Contact: <sip:alice@192.0.2.1:5060>\r\n", "192.0.2.1", 5060,
	    SIP_TP_UDP), 0);
	/* another source port alone is not a NAT (ports not compared) */
	assert_int_equal(behind("192.0.2.1:5060",
	    "Contact: <sip:alice@192.0.2.1:5060>\r\n", "192.0.2.1", 40123,
	    SIP_TP_UDP), 0);
	/* the classic: private Via and Contact, public source */
	assert_int_equal(behind("10.0.0.2:5060",
	    "Contact: <sip:alice@10.0.0.2:5060>\r\n", "203.0.113.7", 5060,
	    SIP_TP_UDP), 1);
	/* only the Via differs */
	assert_int_equal(behind("10.0.0.2:5060",
	    "Contact: <sip:alice@203.0.113.7:5060>\r\n", "203.0.113.7", 5060,
	    SIP_TP_UDP), 1);
	/* only a Contact differs (the phone fixed its Via by rport) */
	assert_int_equal(behind("203.0.113.7:5060",
	    "Contact: <sip:alice@10.0.0.2:5060>\r\n", "203.0.113.7", 5060,
	    SIP_TP_UDP), 1);
	/* ... the second of two */
	assert_int_equal(behind("203.0.113.7",
	    "Contact: <sip:alice@203.0.113.7>, <sip:alice@10.0.0.2>\r\n",
	    "203.0.113.7", 5060, SIP_TP_UDP), 1);
	/* a host name is not the source address */
	assert_int_equal(behind("203.0.113.7",
	    "Contact: <sip:alice@phone.example.com>\r\n", "203.0.113.7", 5060,
	    SIP_TP_UDP), 1);
	/* a stream is not capped: the connection is the keep-alive */
	assert_int_equal(behind("10.0.0.2:5060;transport=tcp",
	    "Contact: <sip:alice@10.0.0.2:5060;transport=tcp>\r\n",
	    "203.0.113.7", 5060, SIP_TP_TCP), 0);
	assert_int_equal(behind("10.0.0.2", "Contact: <sip:alice@10.0.0.2>\r\n",
	    "203.0.113.7", 5060, SIP_TP_TLS), 0);
	/* IPv6: the address is compared, not its spelling */
	assert_int_equal(behind("[2001:db8::1]:5060",
	    "Contact: <sip:alice@[2001:DB8:0:0::1]:5060>\r\n", "2001:db8::1",
	    5060, SIP_TP_UDP), 0);
	assert_int_equal(behind("[2001:db8::1]:5060",
	    "Contact: <sip:alice@[2001:db8::2]:5060>\r\n", "2001:db8::1",
	    5060, SIP_TP_UDP), 1);
	/* a query (no Contact) decides by the Via alone */
	assert_int_equal(behind("192.0.2.1", "", "192.0.2.1", 5060,
	    SIP_TP_UDP), 0);
	assert_int_equal(behind("10.0.0.2", "", "192.0.2.1", 5060,
	    SIP_TP_UDP), 1);
}

static unsigned
run_from(struct loc_table *t, const char *text, const struct sip_dest *src,
    int64_t now)
{
	return run_with(t, text, src, &nat_pol, now);
}

static void
test_nat_expiry_capped(void **state)
{
	struct sip_dest nat = dest("203.0.113.7", 40000, SIP_TP_UDP);
	struct sip_dest direct = dest("192.0.2.1", 5060, SIP_TP_UDP);
	struct loc_table *t;
	struct binding b[4];
	char buf[512];

	(void)state;
	assert_int_equal(loc_new(16, &t), 0);
	/* behind a NAT an hour becomes nat_expires, in the 200 too */
	assert_int_equal(run_from(t, reg_via("10.0.0.2:5060",
	    "Contact: <sip:alice@10.0.0.2:5060>\r\n", "Expires: 3600\r\n",
	    "n1", 1), &nat, 1000), 200);
	assert_true(res.nat);
	assert_int_equal(res.granted, 60);
	assert_int_equal(res.bindings[0].expires, 1000 + 60);
	assert_true(res.bindings[0].nat);
	assert_true(sw_addr_eq(&res.bindings[0].flow.addr, &nat.addr));
	registrar_contacts(&res, 1000, buf, sizeof(buf));
	assert_string_equal(buf,
	    "Contact: <sip:alice@10.0.0.2:5060>;expires=60\r\n");
	assert_int_equal(loc_get(t, "alice@example.com", 1000, b, 4), 1);
	assert_true(b[0].nat);
	/* the Contact's own expires is capped as well; the default too */
	assert_int_equal(run_from(t, reg_via("10.0.0.2:5060",
	    "Contact: <sip:alice@10.0.0.2:5060>;expires=600\r\n", "", "n1", 2),
	    &nat, 1010), 200);
	assert_int_equal(res.bindings[0].expires, 1010 + 60);
	assert_int_equal(run_from(t, reg_via("10.0.0.2:5060",
	    "Contact: <sip:alice@10.0.0.2:5060>\r\n", "", "n1", 3), &nat,
	    1020), 200);
	assert_int_equal(res.granted, 60);
	/* removal is not affected */
	assert_int_equal(run_from(t, reg_via("10.0.0.2:5060",
	    "Contact: <sip:alice@10.0.0.2:5060>\r\n", "Expires: 0\r\n", "n1",
	    4), &nat, 1030), 200);
	assert_int_equal(res.nbindings, 0);
	assert_int_equal(res.granted, 0);
	/* the same phone without a NAT in between: the full hour */
	assert_int_equal(run_from(t, reg_via("192.0.2.1:5060",
	    "Contact: <sip:alice@192.0.2.1:5060>\r\n", "Expires: 3600\r\n",
	    "d1", 1), &direct, 1100), 200);
	assert_false(res.nat);
	assert_int_equal(res.granted, 3600);
	assert_int_equal(res.bindings[0].expires, 1100 + 3600);
	assert_false(res.bindings[0].nat);
	/* a refresh from behind a NAT marks the binding, and back */
	assert_int_equal(run_from(t, reg_via("192.0.2.1:5060",
	    "Contact: <sip:alice@192.0.2.1:5060>\r\n", "Expires: 3600\r\n",
	    "d1", 2), &nat, 1200), 200);
	assert_true(res.bindings[0].nat);
	assert_int_equal(res.bindings[0].expires, 1200 + 60);
	assert_int_equal(run_from(t, reg_via("192.0.2.1:5060",
	    "Contact: <sip:alice@192.0.2.1:5060>\r\n", "Expires: 3600\r\n",
	    "d1", 3), &direct, 1300), 200);
	assert_false(res.bindings[0].nat);
	/* granted is the shortest of the request's contacts */
	assert_int_equal(run_from(t, reg_via("192.0.2.1:5060",
	    "Contact: <sip:alice@192.0.2.1:5070>;expires=300, "
	    "<sip:alice@192.0.2.1:5071>;expires=120\r\n", "", "d2", 1), &direct,
	    1400), 200);
	assert_int_equal(res.granted, 120);
	loc_free(t);
}

static void
test_nat_min_expires(void **state)
{
	struct sip_dest nat = dest("203.0.113.7", 40000, SIP_TP_UDP);
	struct sip_dest direct = dest("192.0.2.1", 5060, SIP_TP_UDP);
	struct reg_policy p = nat_pol;
	struct sip_msg m;
	struct loc_table *t;

	(void)state;
	assert_int_equal(loc_new(16, &t), 0);
	/* nat_expires under min_expires: asking for it is not "too brief" */
	p.nat_expires = 30;
	m = *parse_text(reg_via("10.0.0.2", "Contact: <sip:a@10.0.0.2>\r\n",
	    "Expires: 30\r\n", "m1", 1));
	assert_int_equal(registrar_prepare(&m, &sip_limits_default, &nat, &p,
	    1000, &req, &res), 0);
	assert_int_equal(req.c[0].expires, 30);
	m = *parse_text(reg_via("10.0.0.2", "Contact: <sip:a@10.0.0.2>\r\n",
	    "Expires: 20\r\n", "m1", 2));
	assert_int_equal(registrar_prepare(&m, &sip_limits_default, &nat, &p,
	    1000, &req, &res), -1);
	assert_int_equal(res.status, 423);
	assert_int_equal(res.min_expires, 30);
	/* without the NAT the usual minimum holds */
	m = *parse_text(reg_via("192.0.2.1", "Contact: <sip:a@192.0.2.1>\r\n",
	    "Expires: 30\r\n", "m2", 1));
	assert_int_equal(registrar_prepare(&m, &sip_limits_default, &direct, &p,
	    1000, &req, &res), -1);
	assert_int_equal(res.min_expires, 60);
	/* nat_expires 0: no cap at all */
	p.nat_expires = 0;
	m = *parse_text(reg_via("10.0.0.2", "Contact: <sip:a@10.0.0.2>\r\n",
	    "Expires: 3600\r\n", "m3", 1));
	assert_int_equal(registrar_prepare(&m, &sip_limits_default, &nat, &p,
	    1000, &req, &res), 0);
	assert_true(req.nat);
	assert_int_equal(req.c[0].expires, 3600);
	loc_free(t);
}

static void
test_nat_contact_restored(void **state)
{
	struct sip_dest nat = dest("203.0.113.7", 40000, SIP_TP_UDP);
	struct sip_dest tcp = dest("203.0.113.7", 40000, SIP_TP_TCP);

	(void)state;
	assert_int_equal(registrar_contact_nat("sip:a@10.0.0.2:5060",
	    &sip_limits_default, &nat), 1);
	assert_int_equal(registrar_contact_nat("sip:a@203.0.113.7:5060",
	    &sip_limits_default, &nat), 0);
	assert_int_equal(registrar_contact_nat("sip:a@10.0.0.2:5060",
	    &sip_limits_default, &tcp), 0);
	assert_int_equal(registrar_contact_nat("not a uri",
	    &sip_limits_default, &nat), 1);
}

/* ---- loc_walk: a pass in slices sees every binding once ---- */

struct walk_seen {
	unsigned	count[300][4];
	size_t		taken, cap;
};

static int
walk_take(void *arg, const char *aor, const struct binding *b)
{
	struct walk_seen *w = arg;
	unsigned u = 0, k = 0;

	if (w->taken >= w->cap)
		return -1;
	if (sscanf(aor, "u%u@", &u) != 1 || sscanf(b->contact,
	    "sip:u@192.0.2.%u", &k) != 1 || u >= 300 || k >= 4)
		fail_msg("unexpected binding %s %s", aor, b->contact);
	w->count[u][k]++;
	w->taken++;
	return 0;
}

static int
restore_n(struct loc_table *t, unsigned u, unsigned n)
{
	char aor[32];
	struct binding b;

	snprintf(aor, sizeof(aor), "u%u@example.com", u);
	for (unsigned k = 0; k < n; k++) {
		memset(&b, 0, sizeof(b));
		snprintf(b.contact, sizeof(b.contact), "sip:u@192.0.2.%u", k);
		b.expires = 5000;
		if (loc_restore(t, aor, &b) < 0)
			return -1;
	}
	return 0;
}

static void
test_loc_walk_slices(void **state)
{
	static struct walk_seen seen;
	struct loc_table *t;
	struct loc_cursor cur = { 0, 0 };
	size_t nslots, total = 0, calls = 0;

	(void)state;
	/* few buckets for many AORs: long chains, cut mid-bucket */
	assert_int_equal(loc_new(16, &t), 0);
	for (unsigned u = 0; u < 300; u++) {
		assert_int_equal(restore_n(t, u, 1 + u % 4), 0);
		total += 1 + u % 4;
	}
	nslots = loc_slots(t);
	assert_true(nslots >= 64);
	memset(&seen, 0, sizeof(seen));
	/* the pass in 10 time slices, at most 7 bindings per call */
	for (unsigned slice = 1; slice <= 10; slice++) {
		size_t end = nslots * slice / 10;

		for (;;) {
			int r;

			seen.taken = 0;
			seen.cap = 7;
			r = loc_walk(t, &cur, end, walk_take, &seen);
			calls++;
			assert_true(calls < 10000);
			if (r == 0) {
				assert_int_equal(cur.slot, end);
				break;
			}
			assert_int_equal(seen.taken, 7);
		}
	}
	assert_int_equal(cur.slot, nslots);
	for (unsigned u = 0; u < 300; u++)
		for (unsigned k = 0; k < 4; k++)
			assert_int_equal(seen.count[u][k], k < 1 + u % 4 ? 1 : 0);
	/* an end past the table is the table's end */
	cur.slot = 0;
	cur.skip = 0;
	seen.taken = 0;
	seen.cap = total;
	assert_int_equal(loc_walk(t, &cur, nslots + 100, walk_take, &seen), 0);
	assert_int_equal(seen.taken, total);
	assert_int_equal(cur.slot, nslots);
	loc_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_refresh_remove),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_expiry_sweep),
		cmocka_unit_test(test_nat_detection),
		cmocka_unit_test(test_nat_expiry_capped),
		cmocka_unit_test(test_nat_min_expires),
		cmocka_unit_test(test_nat_contact_restored),
		cmocka_unit_test(test_loc_walk_slices),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
