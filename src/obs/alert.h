/*
 * The alert engine (OBS4, FRAUD4): key rates counted from the security
 * event stream per window, compared with their hour-of-week baselines
 * (obs/baseline.h) and with absolute limits; an account's first call to
 * a new country; calls outside business hours.  An alert is an
 * "alert.raised" event (and so syslog, when the event log has it) and a
 * JSON POST to the configured webhook (its end, "alert.cleared", too),
 * from a delivery thread of its own, retried with exponential back-off,
 * then "alert.delivery_failed".
 * docs/alerts.md describes the rules, the metrics and the payload.
 *
 * Threads.  alert_feed() is called for every event by whatever thread
 * emits it (SIP and media workers, through the evlog hook): it takes
 * the engine's mutex for a few counter updates in fixed-size tables,
 * does no I/O and never allocates.  alert_tick() runs on the main
 * thread once a second: it closes windows, learns, evaluates, emits
 * events and queues deliveries (it never waits for the network).
 * alert_reconf() (a reload) may run on any thread, and so may the
 * readers of the last alerts and rates (the control socket).
 *
 * Metrics (per window):
 *	reg_attempts	REGISTER authenticated or refused (auth.ok and the
 *			auth failures below with method REGISTER)
 *	reg_failures	REGISTER refused: auth failures, auth.contact_limit
 *	auth_failures	auth.failed, auth.unknown_account, auth.source_denied,
 *			auth.account_disabled, auth.scheme_denied,
 *			auth.trunk_unknown, auth.nonce_rejected (not stale)
 *	invite_attempts	call.attempt, call.blocked, fraud.limit
 *	invite_failures	call.failed, call.blocked, fraud.limit
 *	calls_out	call.attempt with direction outbound or trunk_out
 *	calls_international  calls_out whose e164 is outside the home country
 *	calls_per_account  the most calls_out of one account
 * and, without a baseline, calls_off_hours (calls_out outside `hours`).
 */
#ifndef SW_OBS_ALERT_H
#define SW_OBS_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "conf/conf.h"
#include "obs/secevent.h"

#define ALERT_TOPK		10	/* top sources/accounts reported */
#define ALERT_TOPK_TRACK	32	/* tracked per metric (space-saving) */
#define ALERT_KEY_MAX		64	/* account names kept, bytes */
#define ALERT_COUNTRY_PAIRS	4096	/* (account, country) pairs known */
#define ALERT_KEYS		64	/* per-account alert states */
#define ALERT_PENDING_NEW	32	/* new-country alerts per tick */
#define ALERT_QUEUE_LEN		32	/* webhook bodies waiting */
#define ALERT_BODY_MAX		8192	/* one webhook body, bytes */
#define ALERT_REMIND_MS		3600000	/* a sustained alert, again */
#define ALERT_BACKOFF_MS	500	/* first retry; doubles, to 30 s */
#define ALERT_HISTORY		64	/* alerts raised and cleared kept */
#define ALERT_HIST_TOP		5	/* top sources/accounts kept with one */
#define ALERT_RATE_HISTORY	60	/* closed windows kept per metric */

enum alert_metric {
	ALERT_M_REG_ATTEMPTS = 0,
	ALERT_M_REG_FAILURES,
	ALERT_M_AUTH_FAILURES,
	ALERT_M_INVITE_ATTEMPTS,
	ALERT_M_INVITE_FAILURES,
	ALERT_M_CALLS_OUT,
	ALERT_M_CALLS_INTL,
	ALERT_M_CALLS_ACCOUNT,
	ALERT_M_BASELINED,		/* the ones above have baselines */
	ALERT_M_CALLS_OFF_HOURS = ALERT_M_BASELINED,
	ALERT_M_MAX
};

/*
 * One webhook POST of body[0..len) to url within timeout_ms.  Returns 0
 * when delivered (HTTP 2xx), a negative errno when the request failed,
 * or the HTTP status (> 0) the receiver answered instead of 2xx.
 * Called on the delivery thread.
 */
typedef int (*alert_post_fn)(void *arg, const char *url, const char *body,
	    size_t len, uint32_t timeout_ms);

struct evlog;
struct store;
struct store_writer;
struct alert;

struct alert_opts {
	const struct conf_alerts *conf;		/* copied */
	const char		*country_code;	/* dialplan.country_code */
	const char		*node;		/* in the payload; NULL: "" */
	struct evlog		*ev;		/* alert.* events; may be NULL */
	struct store		*st;		/* load learned state; may be NULL */
	struct store_writer	*wr;		/* save it; may be NULL */
	alert_post_fn		 post;		/* NULL: libcurl */
	void			*post_arg;
	uint32_t		 backoff_ms;	/* 0: ALERT_BACKOFF_MS */
};

struct alert_stats {
	uint64_t	windows;	/* closed */
	uint64_t	raised;
	uint64_t	cleared;
	uint64_t	delivered;
	uint64_t	delivery_failed;	/* retries exhausted */
	uint64_t	queue_full;	/* alerts not queued for the webhook */
	uint64_t	new_country_lost;	/* table or pending list full */
};

/*
 * Build the engine (baselines and countries loaded from o->st) and
 * start the delivery thread when a webhook is configured.  now_ms:
 * the wall clock (ms since the epoch); the first window ends at the
 * next multiple of window_ms.  Call from the main thread before the
 * threads that emit events start (libcurl's global init happens here).
 * Returns 0 and *ret, or -errno.
 */
int	alert_new(const struct alert_opts *o, int64_t now_ms,
	    struct alert **ret);

/* Count one event (any thread; see above).  a may be NULL. */
void	alert_feed(struct alert *a, const struct secevent *ev);

/* The same, as an evlog hook (arg: the engine). */
void	alert_feed_hook(void *arg, const struct secevent *ev);

/*
 * Housekeeping (main thread, about once a second): emit new-country
 * alerts, and when now_ms passed the end of the window, close it:
 * evaluate the rules, learn the baselines, save them.
 */
void	alert_tick(struct alert *a, int64_t now_ms);

/*
 * Take new rules, thresholds, business hours and webhook settings (a
 * reload): c is copied; the counts of the open window, the baselines,
 * the raised states and the learned countries stay.  An alert queued
 * for delivery goes out with the settings it started with.  A webhook
 * where there was none starts the delivery thread; enabled false
 * stops raising (what is raised clears at the next window) but not
 * learning.  Returns 0, -EINVAL (a bad value; nothing changed), -EBUSY
 * (another window length: counts and baselines are per window, so it
 * takes a restart; nothing changed), or -errno from starting the
 * delivery thread (nothing changed).
 */
int	alert_reconf(struct alert *a, const struct conf_alerts *c);

/* alerts.enabled as the engine has it now; 0 for NULL.  Any thread. */
int	alert_enabled(struct alert *a);

/*
 * OPS1 (`sipwall alerts`, `rates`, the dashboard); any thread; a may be
 * NULL (alerts are off).  NULL: no memory.
 *
 * {"alerts":[{"rule","metric","key","event":"raised"|"cleared",
 * "count","baseline","limit","window_s","at":ms,"active",
 * "account"?,"country"?,"to"?,"window_start"?,"window_end"?,
 * "top_sources":[{"src","count"}],"top_accounts":[...]}],
 * "enabled","raised","cleared"}: the last max (at most ALERT_HISTORY)
 * alerts raised and cleared, oldest first.  "key" is the metric, with
 * ":account" for an alert about one account; "active" is true while a
 * raised alert was neither cleared nor raised again.
 */
json_t	*alert_alerts_json(struct alert *a, size_t max);

/*
 * {"rates":[{"metric","window_s","window_start","current","baseline",
 * "history":[{"t":ms,"count","baseline"}]}]}: per metric the count of
 * the open window, the baseline it will be held against (null: none
 * learned yet), and the last ALERT_RATE_HISTORY closed windows, oldest
 * first.
 */
json_t	*alert_rates_json(struct alert *a);

/*
 * Wait up to timeout_ms until every queued delivery is done (tests).
 * 0, or -ETIMEDOUT.
 */
int	alert_drain(struct alert *a, uint32_t timeout_ms);

void	alert_get_stats(struct alert *a, struct alert_stats *ret);

/* The metric's name ("reg_failures"), NULL past ALERT_M_MAX. */
const char *alert_metric_name(enum alert_metric m);

/*
 * The E.164 country code that starts digits (no '+'): "1", "7", "44",
 * "354"... written to ret_cc[0..4).  0, or -EINVAL when digits does not
 * start with a digit 1-9.
 */
int	alert_country_of(const char *digits, char ret_cc[4]);

/*
 * Stop the delivery thread (deliveries still queued are given up and
 * reported) and free.  The caller first removes the evlog hook.  NULL
 * is a no-op.
 */
void	alert_free(struct alert *a);

#endif
