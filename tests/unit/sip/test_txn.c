/*
 * Unit tests for src/sip/txn.c: RFC 3261 section 17 state machines and
 * timers A-K (plus RFC 6026 L/M) on a synthetic clock.  The send
 * callback records what would go on the wire and when.
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
#include "sip/txn.h"

#define MAX_SENT	64

struct rig {
	struct timer_heap	 heap;
	struct txn_layer	*L;
	uint64_t		 now;
	unsigned		 nsent;
	uint64_t		 sent_at[MAX_SENT];
	char			 sent[MAX_SENT][1024];
	unsigned		 responses;
	unsigned		 last_resp;
	unsigned		 timeouts;
	unsigned		 terminated;
	int			 fail_send;
};

static const struct sip_timers T = { .t1 = 500, .t2 = 4000, .t4 = 5000 };
static struct sip_hdr hdrs[SIP_MAX_HDRS];

static int
r_send(void *ctx, const struct sip_dest *d, const uint8_t *b, size_t n)
{
	struct rig *r = ctx;

	(void)d;
	if (r->fail_send)
		return -1;
	if (r->nsent < MAX_SENT) {
		r->sent_at[r->nsent] = r->now;
		snprintf(r->sent[r->nsent], sizeof(r->sent[0]), "%.*s", (int)n,
		    (const char *)b);
	}
	r->nsent++;
	return 0;
}

static void
r_response(void *ctx, struct txn *t, const struct sip_msg *m)
{
	struct rig *r = ctx;

	(void)t;
	r->responses++;
	r->last_resp = m->status;
}

static void
r_timeout(void *ctx, struct txn *t)
{
	(void)t;
	((struct rig *)ctx)->timeouts++;
}

static void
r_terminated(void *ctx, struct txn *t)
{
	(void)t;
	((struct rig *)ctx)->terminated++;
}

static const struct txn_ops ops = {
	.send = r_send, .response = r_response, .timeout = r_timeout,
	.terminated = r_terminated,
};

static struct rig *
rig_new(size_t max)
{
	struct rig *r = calloc(1, sizeof(*r));

	assert_int_equal(timer_heap_init(&r->heap, 2 * max), 0);
	assert_int_equal(txn_layer_new(&ops, r, &T, &r->heap, max, &r->L), 0);
	return r;
}

static void
rig_free(struct rig *r)
{
	txn_layer_free(r->L);
	timer_heap_clear(&r->heap);
	free(r);
}

/* advance the clock to `to`, firing timers on the way */
static void
advance(struct rig *r, uint64_t to)
{
	while (timer_next(&r->heap) <= to) {
		r->now = timer_next(&r->heap);
		txn_layer_set_now(r->L, r->now);
		timer_run(&r->heap, r->now);
	}
	r->now = to;
	txn_layer_set_now(r->L, to);
}

static void
msg(const char *s, struct sip_msg *m)
{
	struct sip_perr e;

	if (sip_msg_parse((const uint8_t *)s, strlen(s), &sip_limits_default,
	    0, m, hdrs, SIP_MAX_HDRS, &e) <= 0)
		fail_msg("parse: %s: %s", e.reason, s);
}

#define REQ(method, branch, extra) \
	method " sip:b@example.com SIP/2.0\r\n" \
	"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=" branch "\r\n" \
	"From: <sip:a@example.com>;tag=f1\r\nTo: <sip:b@example.com>" extra "\r\n" \
	"Call-ID: call-1\r\nCSeq: 7 " method "\r\nMax-Forwards: 70\r\n" \
	"Content-Length: 0\r\n\r\n"

#define RESP(status, method, branch) \
	"SIP/2.0 " status "\r\n" \
	"Via: SIP/2.0/UDP 192.0.2.9:5060;branch=" branch "\r\n" \
	"From: <sip:a@example.com>;tag=f1\r\nTo: <sip:b@example.com>;tag=t9\r\n" \
	"Call-ID: call-1\r\nCSeq: 7 " method "\r\nContent-Length: 0\r\n\r\n"

static const struct sip_dest udp = { .transport = SIP_TP_UDP };
static const struct sip_dest tcp = { .transport = SIP_TP_TCP, .conn_id = 1 };

static void
test_server_noninvite_udp(void **state)
{
	struct rig *r = rig_new(16);
	struct sip_msg m;
	struct txn *t = NULL, *t2 = NULL;

	(void)state;
	msg(REQ("OPTIONS", "z9hG4bKn1", ""), &m);
	assert_int_equal(txn_server_match(r->L, &m, &udp, &t), TXN_M_NEW);
	assert_int_equal(txn_server_new(r->L, &m, &udp, &t), 0);
	/* retransmission before any response: absorbed, nothing sent */
	assert_int_equal(txn_server_match(r->L, &m, &udp, &t2), TXN_M_ABSORBED);
	assert_int_equal(r->nsent, 0);
	assert_int_equal(txn_server_reply(r->L, t, 200, (const uint8_t *)"R200", 4), 0);
	assert_int_equal(txn_state(t), TXN_S_COMPLETED);
	/* retransmission after the final: answered from the transaction */
	advance(r, 1000);
	assert_int_equal(txn_server_match(r->L, &m, &udp, &t2), TXN_M_ABSORBED);
	assert_int_equal(r->nsent, 2);
	assert_string_equal(r->sent[1], "R200");
	/* a second final is refused */
	assert_true(txn_server_reply(r->L, t, 404, (const uint8_t *)"x", 1) < 0);
	/* Timer J = 64*T1 = 32 s ends it */
	advance(r, 31999);
	assert_int_equal(txn_layer_count(r->L), 1);
	advance(r, 32000);
	assert_int_equal(txn_layer_count(r->L), 0);
	assert_int_equal(r->terminated, 1);
	assert_int_equal(r->timeouts, 0);
	assert_int_equal(txn_server_match(r->L, &m, &udp, &t2), TXN_M_NEW);
	rig_free(r);
}

static void
test_server_noninvite_tcp_ends_at_once(void **state)
{
	struct rig *r = rig_new(16);
	struct sip_msg m;
	struct txn *t;

	(void)state;
	msg(REQ("OPTIONS", "z9hG4bKn2", ""), &m);
	assert_int_equal(txn_server_new(r->L, &m, &tcp, &t), 0);
	assert_int_equal(txn_server_reply(r->L, t, 200, (const uint8_t *)"R", 1), 0);
	assert_int_equal(txn_layer_count(r->L), 0);	/* J = 0 */
	rig_free(r);
}

static void
test_server_invite_timer_g_h(void **state)
{
	struct rig *r = rig_new(16);
	struct sip_msg m;
	struct txn *t, *t2;
	static const uint64_t want[] = { 0, 0, 500, 1500, 3500, 7500, 11500,
	    15500, 19500, 23500, 27500, 31500 };

	(void)state;
	msg(REQ("INVITE", "z9hG4bKi1", ""), &m);
	assert_int_equal(txn_server_new(r->L, &m, &udp, &t), 0);
	assert_int_equal(txn_state(t), TXN_S_PROCEEDING);
	txn_server_reply(r->L, t, 100, (const uint8_t *)"R100", 4);
	/* INVITE retransmitted while proceeding: 100 resent */
	assert_int_equal(txn_server_match(r->L, &m, &udp, &t2), TXN_M_ABSORBED);
	assert_string_equal(r->sent[1], "R100");
	r->nsent = 0;
	txn_server_reply(r->L, t, 486, (const uint8_t *)"R486", 4);
	assert_int_equal(txn_state(t), TXN_S_COMPLETED);
	/* G: T1, 2T1, 4T1, then capped at T2 */
	advance(r, 32000);
	assert_int_equal(r->timeouts, 1);		/* H: no ACK */
	assert_int_equal(txn_layer_count(r->L), 0);
	for (size_t i = 2; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(r->sent_at[i - 1], want[i]);
	rig_free(r);
}

static void
test_server_invite_ack_confirms(void **state)
{
	struct rig *r = rig_new(16);
	struct sip_msg m, ack;
	struct txn *t, *t2;
	unsigned sent;

	(void)state;
	msg(REQ("INVITE", "z9hG4bKi2", ""), &m);
	assert_int_equal(txn_server_new(r->L, &m, &udp, &t), 0);
	txn_server_reply(r->L, t, 404, (const uint8_t *)"R404", 4);
	advance(r, 600);		/* one G retransmission */
	sent = r->nsent;
	assert_int_equal(sent, 2);
	msg(REQ("ACK", "z9hG4bKi2", ";tag=t1"), &ack);
	assert_int_equal(txn_server_match(r->L, &ack, &udp, &t2), TXN_M_ABSORBED);
	assert_int_equal(txn_state(t), TXN_S_CONFIRMED);
	/* ACK retransmissions are absorbed, G stops, I = T4 ends it */
	assert_int_equal(txn_server_match(r->L, &ack, &udp, &t2), TXN_M_ABSORBED);
	advance(r, 600 + 4999);
	assert_int_equal(r->nsent, sent);
	assert_int_equal(txn_layer_count(r->L), 1);
	advance(r, 600 + 5000);
	assert_int_equal(txn_layer_count(r->L), 0);
	assert_int_equal(r->timeouts, 0);
	rig_free(r);
}

static void
test_server_invite_2xx_accepted(void **state)
{
	struct rig *r = rig_new(16);
	struct sip_msg m, ack;
	struct txn *t, *t2;

	(void)state;
	msg(REQ("INVITE", "z9hG4bKi3", ""), &m);
	assert_int_equal(txn_server_new(r->L, &m, &udp, &t), 0);
	txn_server_reply(r->L, t, 200, (const uint8_t *)"R200", 4);
	assert_int_equal(txn_state(t), TXN_S_ACCEPTED);
	/* retransmitted INVITE absorbed without resending (TU does 2xx) */
	assert_int_equal(txn_server_match(r->L, &m, &udp, &t2), TXN_M_ABSORBED);
	assert_int_equal(r->nsent, 1);
	msg(REQ("ACK", "z9hG4bKi3", ";tag=t1"), &ack);
	assert_int_equal(txn_server_match(r->L, &ack, &udp, &t2), TXN_M_ACK_2XX);
	advance(r, 32000);		/* Timer L */
	assert_int_equal(txn_layer_count(r->L), 0);
	rig_free(r);
}

static void
test_cancel_finds_invite(void **state)
{
	struct rig *r = rig_new(16);
	struct sip_msg m, c, other;
	struct txn *t;

	(void)state;
	msg(REQ("INVITE", "z9hG4bKc1", ""), &m);
	assert_int_equal(txn_server_new(r->L, &m, &udp, &t), 0);
	msg(REQ("CANCEL", "z9hG4bKc1", ""), &c);
	assert_ptr_equal(txn_server_find_invite(r->L, &c), t);
	msg(REQ("CANCEL", "z9hG4bKc2", ""), &other);
	assert_null(txn_server_find_invite(r->L, &other));
	/* the CANCEL is its own transaction, distinct from the INVITE */
	assert_int_equal(txn_server_match(r->L, &c, &udp, &t), TXN_M_NEW);
	rig_free(r);
}

static void
test_client_noninvite_timer_e_f(void **state)
{
	struct rig *r = rig_new(16);
	const char *req = REQ("OPTIONS", "z9hG4bKce1", "");
	static const uint64_t want[] = { 0, 500, 1500, 3500, 7500, 11500, 15500,
	    19500, 23500, 27500, 31500 };
	struct txn *t;

	(void)state;
	assert_int_equal(txn_client_new(r->L, &udp, (const uint8_t *)req,
	    strlen(req), NULL, &t), 0);
	advance(r, 32000);
	assert_int_equal(r->timeouts, 1);		/* F */
	assert_int_equal(r->nsent, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(r->sent_at[i], want[i]);
	assert_int_equal(txn_layer_count(r->L), 0);
	rig_free(r);
}

static void
test_client_noninvite_final_then_k(void **state)
{
	struct rig *r = rig_new(16);
	const char *req = REQ("OPTIONS", "z9hG4bKce2", "");
	struct sip_msg resp, prov;
	struct txn *t;

	(void)state;
	assert_int_equal(txn_client_new(r->L, &udp, (const uint8_t *)req,
	    strlen(req), NULL, &t), 0);
	msg(RESP("100 Trying", "OPTIONS", "z9hG4bKce2"), &prov);
	assert_int_equal(txn_client_response(r->L, &prov, &udp), 1);
	/* in Proceeding, the armed E still fires, then every T2 */
	advance(r, 4500);
	assert_int_equal(r->nsent, 3);
	assert_int_equal(r->sent_at[1], 500);
	assert_int_equal(r->sent_at[2], 4500);
	msg(RESP("200 OK", "OPTIONS", "z9hG4bKce2"), &resp);
	assert_int_equal(txn_client_response(r->L, &resp, &udp), 1);
	assert_int_equal(r->last_resp, 200);
	/* a retransmitted final is absorbed, not delivered twice */
	assert_int_equal(txn_client_response(r->L, &resp, &udp), 1);
	assert_int_equal(r->responses, 2);
	advance(r, 4500 + 5000);			/* K = T4 */
	assert_int_equal(txn_layer_count(r->L), 0);
	assert_int_equal(r->timeouts, 0);
	/* a response for no transaction is stray */
	assert_int_equal(txn_client_response(r->L, &resp, &udp), 0);
	rig_free(r);
}

static void
test_client_invite_a_b_and_ack(void **state)
{
	struct rig *r = rig_new(16);
	const char *req = REQ("INVITE", "z9hG4bKci1", "");
	static const uint64_t want[] = { 0, 500, 1500, 3500, 7500, 15500, 31500 };
	struct sip_msg resp;
	struct txn *t;

	(void)state;
	assert_int_equal(txn_client_new(r->L, &udp, (const uint8_t *)req,
	    strlen(req), NULL, &t), 0);
	advance(r, 31999);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(r->sent_at[i], want[i]);
	msg(RESP("486 Busy Here", "INVITE", "z9hG4bKci1"), &resp);
	assert_int_equal(txn_client_response(r->L, &resp, &udp), 1);
	/* the layer ACKs a non-2xx itself, with the response's To tag */
	assert_non_null(strstr(r->sent[r->nsent - 1], "ACK sip:b@example.com"));
	assert_non_null(strstr(r->sent[r->nsent - 1], "CSeq: 7 ACK"));
	assert_non_null(strstr(r->sent[r->nsent - 1], ";tag=t9"));
	assert_non_null(strstr(r->sent[r->nsent - 1], "branch=z9hG4bKci1"));
	/* the final again: ACK again, TU not told twice */
	assert_int_equal(txn_client_response(r->L, &resp, &udp), 1);
	assert_int_equal(r->responses, 1);
	assert_non_null(strstr(r->sent[r->nsent - 1], "ACK "));
	advance(r, 31999 + 32000);			/* D */
	assert_int_equal(txn_layer_count(r->L), 0);
	assert_int_equal(r->timeouts, 0);
	rig_free(r);
}

static void
test_client_invite_timeout_b(void **state)
{
	struct rig *r = rig_new(16);
	const char *req = REQ("INVITE", "z9hG4bKci2", "");
	struct txn *t;

	(void)state;
	assert_int_equal(txn_client_new(r->L, &tcp, (const uint8_t *)req,
	    strlen(req), NULL, &t), 0);
	advance(r, 32000);
	assert_int_equal(r->nsent, 1);		/* reliable: no Timer A */
	assert_int_equal(r->timeouts, 1);
	rig_free(r);
}

static void
test_table_is_bounded(void **state)
{
	struct rig *r = rig_new(2);
	struct sip_msg a, b, c;
	struct txn *t;

	(void)state;
	msg(REQ("OPTIONS", "z9hG4bKf1", ""), &a);
	assert_int_equal(txn_server_new(r->L, &a, &udp, &t), 0);
	msg(REQ("OPTIONS", "z9hG4bKf2", ""), &b);
	assert_int_equal(txn_server_new(r->L, &b, &udp, &t), 0);
	msg(REQ("OPTIONS", "z9hG4bKf3", ""), &c);
	assert_int_equal(txn_server_new(r->L, &c, &udp, &t), -SBC_EFULL);
	assert_int_equal(txn_layer_stats(r->L)->full, 1);
	rig_free(r);
}

static void
test_rfc2543_matching(void **state)
{
	struct rig *r = rig_new(16);
	struct sip_msg inv, ack;
	struct txn *t, *t2;
	static const char i2543[] = "INVITE sip:b@example.com SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 192.0.2.1\r\nFrom: <sip:a@example.com>;tag=f\r\n"
	    "To: <sip:b@example.com>\r\nCall-ID: old\r\nCSeq: 1 INVITE\r\n"
	    "Content-Length: 0\r\n\r\n";
	static const char a2543[] = "ACK sip:b@example.com SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 192.0.2.1\r\nFrom: <sip:a@example.com>;tag=f\r\n"
	    "To: <sip:b@example.com>;tag=x\r\nCall-ID: old\r\nCSeq: 1 ACK\r\n"
	    "Content-Length: 0\r\n\r\n";

	(void)state;
	msg(i2543, &inv);
	assert_int_equal(txn_server_new(r->L, &inv, &udp, &t), 0);
	txn_server_reply(r->L, t, 404, (const uint8_t *)"R", 1);
	msg(a2543, &ack);
	assert_int_equal(txn_server_match(r->L, &ack, &udp, &t2), TXN_M_ABSORBED);
	assert_int_equal(txn_state(t), TXN_S_CONFIRMED);
	rig_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server_noninvite_udp),
		cmocka_unit_test(test_server_noninvite_tcp_ends_at_once),
		cmocka_unit_test(test_server_invite_timer_g_h),
		cmocka_unit_test(test_server_invite_ack_confirms),
		cmocka_unit_test(test_server_invite_2xx_accepted),
		cmocka_unit_test(test_cancel_finds_invite),
		cmocka_unit_test(test_client_noninvite_timer_e_f),
		cmocka_unit_test(test_client_noninvite_final_then_k),
		cmocka_unit_test(test_client_invite_a_b_and_ack),
		cmocka_unit_test(test_client_invite_timeout_b),
		cmocka_unit_test(test_table_is_bounded),
		cmocka_unit_test(test_rfc2543_matching),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
