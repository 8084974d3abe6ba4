/*
 * Call state shared by the B2BUA's files (call.c: lifecycle, timers,
 * the table; call_route.c: new calls; call_dialog.c: in-dialog
 * requests; call_out.c: the messages we write).  Private to them.
 */
#ifndef SW_DAEMON_CALL_INT_H
#define SW_DAEMON_CALL_INT_H

#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "core/timer.h"
#include "obs/secevent.h"
#include "sip/limits.h"
#include "sip/dest.h"
#include "sip/hide.h"
#include "daemon/call.h"
#include "daemon/call_media.h"
#include "daemon/ident.h"
#include "sip/sdp.h"
#include "media/sdp_rewrite.h"

#define CALL_MAX_FORKS	4
#define CALL_STR_MAX	1024	/* one URI or header value we keep */
#define CALL_VERDICTS_MAX 255	/* = STORE_CALL_VERDICTS_MAX */

#define container_of(p, T, m) ((T *)(void *)((char *)(p) - offsetof(T, m)))

enum leg_state {
	LEG_IDLE = 0,
	LEG_TRYING,		/* B: INVITE sent, nothing back */
	LEG_EARLY,		/* B: a provisional came */
	LEG_UP,			/* confirmed dialog */
	LEG_DONE,		/* B: final non-2xx, abandoned or cancelled */
};

/* One dialog of a call.  Strings are ours (malloc'd), NUL-terminated. */
struct leg {
	struct call	*call;
	struct leg	*hnext;			/* tag table chain */
	uint8_t		 side;			/* 0: A (caller), 1: B */
	uint8_t		 state;			/* enum leg_state */
	uint8_t		 hashed;
	uint8_t		 cancel;		/* B: CANCEL once it rings */
	uint8_t		 target_idx;		/* B: core target tried */
	uint8_t		 trusted;		/* a trusted zone's peer */
	uint8_t		 trunk1;		/* B: trunk index + 1, 0 none */
	uint8_t		 auth_tried;		/* B: answered its challenge */
	char		 ltag[IDENT_TAG_LEN + 1];
	char		 branch[IDENT_BRANCH_LEN + 1];	/* B: INVITE's */
	char		*rtag;
	char		*call_id;
	char		*luri;			/* our From/To, no tag */
	char		*ruri;			/* theirs */
	char		*target;		/* their Contact URI */
	char		*route;			/* Route value, or NULL */
	uint32_t	 lcseq;			/* last CSeq we used */
	uint32_t	 rcseq;			/* last CSeq they used */
	uint32_t	 inv_cseq;		/* B: the INVITE's */
	uint32_t	 rseq;			/* B: last reliable 1xx PRACKed */
	struct sip_dest	 dest;			/* where its requests go */
	struct txn	*inv;			/* B: client INVITE */
	uint8_t		*ack;			/* B: our ACK of its 2xx */
	size_t		 ack_len;
};

enum call_dir {
	DIR_TO_CORE = 0,	/* authenticated endpoint -> core */
	DIR_FROM_CORE,		/* core -> endpoint or trunk */
	DIR_FROM_TRUNK,		/* trunk -> core (a DID) */
	DIR_TO_TRUNK,		/* core -> trunk */
};

enum call_state {
	CALL_ROUTING = 1,	/* B forks ringing */
	CALL_UP,
	CALL_DEAD,		/* ended; freed when no transaction refers */
};

/* An INVITE crossing the call (the first, or a re-INVITE). */
struct inv_relay {
	uint8_t		 active;
	uint8_t		 from;			/* side it came from */
	uint8_t		 late_offer;		/* no body: ACK carries it */
	uint8_t		 answered;		/* 2xx sent to `from` */
	struct txn	*srv;			/* on the `from` leg */
	struct leg	*to;			/* the leg it went to */
	struct txn	*cli;			/* re-INVITE: on `to` */
	uint8_t		*ok;			/* our 2xx, for retransmission */
	size_t		 ok_len;
	uint32_t	 interval;
	uint64_t	 deadline;
};

struct call_svc;

struct call {
	struct call_svc	*svc;
	struct call	*next, *prev;		/* all calls of the worker */
	uint8_t		 state;			/* enum call_state */
	uint8_t		 nforks;
	int8_t		 winner;		/* B fork that answered, -1 */
	uint8_t		 dir;			/* enum call_dir */
	uint32_t	 refs;			/* transactions pointing here */
	uint16_t	 best;			/* best non-2xx from the forks */
	struct leg	 a;
	struct leg	 b[CALL_MAX_FORKS];
	struct inv_relay inv;
	struct timer	 t_ring, t_max, t_retx, t_keep, t_fail, t_se;
	uint32_t	 se_s;			/* RFC 4028 interval with A, 0 off */
	uint64_t	 started_ms, answered_ms;	/* loop clock */
	int64_t		 started_wall_ms, answered_wall_ms;	/* unix */
	uint8_t		 keep_pending;		/* pings without an answer */
	char		 account[ACCT_USER_MAX + 1];
	/* FRAUD2: the account whose limits this call counts against
	 * ("user@domain"), when admitted; released when it ends */
	char		 usage_key[ACCT_USER_MAX + ACCT_DOMAIN_MAX + 2];
	uint8_t		 admitted;
	uint8_t		 minutes_cap;		/* t_max is minutes_per_day's */
	uint8_t		 redirects;		/* 3xx from the core followed */
	uint16_t	 redirect_status;	/* a 3xx not followed: answer */
	/* policy group of the caller, by name: a reload may renumber */
	char		 group[CONF_GROUP_NAME_MAX + 1];
	char		 to_user[64];
	char		 from_user[ACCT_USER_MAX + 1];	/* B legs' From */
	/* MEDIA1-5 (call_media.c); NULL when media is not anchored */
	struct call_media *media;
	struct timer	 t_media;
	uint16_t	 media_fail;		/* status for a refused body */
	const char	*media_why;		/* its reason phrase */
	/* OBS3 CDR (call_record.c): the policy decisions taken for the
	 * call, in order, "key:value,..." (call_verdict); refused: a
	 * policy decision after the call began refused it (a 3xx) */
	char		 verdicts[CALL_VERDICTS_MAX + 1];
	uint8_t		 refused;
};

/* What hangs on each transaction of a call. */
enum ctu_role {
	CTU_FORK = 1,		/* client INVITE of a B fork */
	CTU_SERVER,		/* a server transaction we answer later */
	CTU_RELAY,		/* client txn of a relayed in-dialog request */
	CTU_OWN,		/* our BYE / OPTIONS / CANCEL */
	CTU_REINVITE,		/* client INVITE of a relayed re-INVITE */
};

struct ctu {
	struct tu	 tu;			/* kind TU_CALL: first */
	uint8_t		 role;
	uint8_t		 side;			/* leg the txn is on */
	uint8_t		 fork;
	uint8_t		 ping;			/* CTU_OWN: a keep-alive */
	struct call	*c;
	struct txn	*peer;			/* CTU_RELAY: server txn */
	uint8_t		*req;			/* CTU_RELAY: its request */
	size_t		 req_len;
};

#define CALL_TAG_BUCKETS_MIN	1024

struct call_svc {
	struct worker	*w;
	struct ident_gen ids;
	struct leg	**tags;			/* by ltag */
	size_t		 tmask;
	struct call	*all;
	struct call_stats st;
	struct hide_list hide[2];		/* [trusted source] */
	char		 names[CONF_MAX_HEADERS][CONF_HEADER_NAME_MAX + 1];
	uint8_t		 scratch[SIP_MAX_MSG_TCP];
	char		 extra[8192];
	char		 extra_refer[512];
	/* media anchoring: one parsed body and one rewrite at a time */
	struct sdp	*sdp;
	uint8_t		 sdp_out[SDP_MAX_BODY];
	char		 crypto[SDP_MAX_MEDIA][SDP_RW_MAX_CRYPTO + 1];
};

/* call.c */
struct call_svc	*call_svc(struct worker *w);
struct call	*call_new(struct call_svc *s);
void		 call_end(struct call *c, const char *reason, const char *by,
		    unsigned status);
void		 call_unref(struct call *c);
void		 leg_hash(struct call_svc *s, struct leg *l);
struct leg	*leg_find(struct call_svc *s, struct slice tag);
int		 leg_set(char **dst, struct slice v);
struct leg	*leg_other(struct leg *l);
/* The INVITE that server transaction srv (on leg x) holds, parsed
 * into ret (headers in the worker's second scratch array); 0 or -1. */
int		 call_srv_request(struct call *c, struct txn *srv,
		    const struct leg *x, struct sip_msg *ret);
struct ctu	*ctu_new(struct call *c, enum ctu_role role, struct leg *l);
void		 call_answered(struct call *c);
void		 call_arm(struct call *c, struct timer *t, uint64_t after_ms);
void		 call_event(struct call *c, enum secevent_type type,
		    const char *reason, unsigned status, const char *by);

/* call_out.c */
/* A request on leg l: Via with a fresh branch (copied to branch_out
 * when non-NULL), Route, From/To of the dialog, our Contact when
 * with_contact; the allowed headers and the body of src when non-NULL;
 * extra lines as given.  Length or a negative error. */
ssize_t	out_request(struct call_svc *s, struct leg *l, const char *method,
	    uint32_t cseq, const char *branch, const struct sip_msg *src,
	    int trusted_src, int with_contact, const char *extra,
	    uint8_t *buf, size_t cap);
/* A response to req (received on leg l) carrying status/reason, the
 * allowed headers and body of resp (may be NULL) and our Contact when
 * with_contact.  Length or a negative error. */
ssize_t	out_response(struct call_svc *s, struct leg *l,
	    const struct sip_msg *req, unsigned status, struct slice reason,
	    const struct sip_msg *resp, int trusted_src, int with_contact,
	    const char *extra, uint8_t *buf, size_t cap);
/* Send a request on l with a client transaction of role (and ctu). */
int	out_send_txn(struct call_svc *s, struct leg *l, const uint8_t *buf,
	    size_t len, struct ctu *u, struct txn **ret);
/* Our BYE (or OPTIONS ping) on leg l. */
int	out_own(struct call_svc *s, struct leg *l, const char *method,
	    const char *reason_hdr, int ping);
/* CANCEL l's pending INVITE (a fork's, or a re-INVITE in_dialog). */
int	out_cancel(struct call_svc *s, struct leg *l, int in_dialog);
/* ACK for l's 2xx to its INVITE (cseq), with src's body when given. */
int	out_ack(struct call_svc *s, struct leg *l, uint32_t cseq,
	    const struct sip_msg *src);
/* "sip:host:port;transport=x" for our listener lsn. */
void	out_contact_uri(struct call_svc *s, uint8_t lsn, char *buf, size_t cap);
/* The value of a From/To without its tag parameter. */
int	out_strip_tag(const struct sip_nameaddr *na, char **dst);

void	call_leg_lost(struct call *c);
/* BYE both confirmed legs with the Reason line given, end the call. */
void	call_hangup(struct call *c, const char *reason, const char *why_hdr);
/* RFC 4028 with the caller: the 2xx header lines (into buf, "" when
 * no session timer), and a refresh seen (re-arms the timer). */
const char *call_se_lines(const struct call *c, char *buf, size_t cap);
void	call_se_refreshed(struct call *c);

/* call_record.c: the call's row in the store (sipwall calls) */
int64_t	call_wall_ms(void);
void	call_record(struct call *c, int ended, const char *reason,
	    unsigned status);
/* Append item ("key:value", or a list of them) to the verdict list in
 * buf[0..cap); an item that does not fit is left out (once: ",+"). */
void	verdicts_add(char *buf, size_t cap, const char *item);
/* The same as "key:value" to the call's list. */
void	call_verdict(struct call *c, const char *key, const char *value);
/* What call_media_start() said (status 0: go on; else the refusal and
 * its reason phrase why): the caller's zone's SRTP policy when media
 * is anchored, then media:anchored, direct or the refusal. */
void	call_verdict_media(struct call *c, unsigned status, const char *why);
/* An INVITE refused or failed before its call existed (call_invite):
 * what its one record needs.  A challenge, a malformed request or an
 * INVITE with no user to call is not a call attempt: no record. */
struct call_attempt {
	int		 dir;			/* enum call_dir */
	const char	*account;		/* "" when none */
	const char	*from_user;
	const char	*to_user;
	const char	*verdicts;		/* as verdicts_add made it */
};
void	call_record_attempt(struct worker *w, const struct sip_msg *m,
	    const struct sip_dest *src, const struct call_attempt *a,
	    const char *outcome, unsigned status, const char *reason);

/* call_route.c */
void	route_failover(struct call *c, struct leg *l);
/* CANCEL (or mark for CANCEL) every fork still ringing. */
void	call_stop_forks(struct call *c);
/* Give up before an answer: stop the forks, answer the caller. */
void	call_abort(struct call *c, unsigned status, const char *reason);
void	fork_response(struct call *c, struct ctu *u, struct txn *t,
	    const struct sip_msg *resp);
void	fork_timeout(struct call *c, struct ctu *u);

/* call_policy.c (FRAUD1-3): the edge's say on where calls may go */
struct policy_admit {
	char		 key[ACCT_USER_MAX + ACCT_DOMAIN_MAX + 2];
	uint8_t		 admitted;
	char		 group[CONF_GROUP_NAME_MAX + 1];
	/* OBS3: the decisions taken ("dest:domestic,limit:ok"), and when
	 * refused the status answered and why ("high_risk", "concurrent") */
	char		 verdicts[CALL_VERDICTS_MAX + 1];
	uint16_t	 status;
	const char	*reason;
};
/* A new call: destination, time window, limits of the account that
 * answers for it (the caller, or the user a call from the core was
 * diverted from).  0: go on (*ret to be kept in the call); -1: the
 * INVITE was answered (403/486/503/484) and an event emitted. */
int	policy_new_call(struct worker *w, struct txn *t, const struct sip_msg *m,
	    const struct sip_dest *src, const struct account_info *acct,
	    int dir, struct policy_admit *ret);
void	policy_keep(struct call *c, const struct policy_admit *a);
/* The call ended: give back its place and count its answered time. */
void	policy_release(struct call *c);
/* Answered: how long it may last (ms) under minutes_per_day. */
uint64_t policy_max_ms(struct call *c, uint64_t max_ms);
/* A 3xx from the core: the user part to follow, or -1 (refused, event
 * emitted, status to answer in *ret_status). */
int	policy_redirect(struct call *c, const struct sip_msg *resp,
	    char *user, size_t cap, unsigned *ret_status);
/* An in-dialog REFER from leg x: 0 relay it with the extra header
 * lines written into extra (Refer-To, Referred-By); -1 refused (403
 * answered, event emitted). */
int	policy_refer(struct call *c, struct leg *x, struct leg *y,
	    struct txn *t, const struct sip_msg *m, char *extra, size_t cap);

/* call_dialog.c */
void	dialog_response(struct call *c, struct ctu *u, struct txn *t,
	    const struct sip_msg *resp);
void	dialog_timeout(struct call *c, struct ctu *u);

#endif
