/*
 * The metrics registry and its Prometheus text exposition (OBS2).
 *
 * Owns: the shards, the label tables, the slot layout, the text format.
 * Does not own: the tables whose sizes the gauges report (they are read
 * through their own locked accessors at scrape time), serving HTTP
 * (metrics_http.c).
 *
 * Layout: every shard holds the same nslots counters; a family with
 * labels is a block of slots indexed by its label values (zone-major).
 * Histograms keep per-bucket counts (the last one is +Inf) and a sum in
 * micro-units; buckets are made cumulative when rendered.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/digest.h"
#include "conf/conf.h"
#include "media/relay.h"
#include "obs/evlog.h"
#include "obs/metrics.h"
#include "policy/ban.h"
#include "sip/location.h"
#include "sip/msg.h"
#include "store/writer.h"

_Static_assert(MET_M_UNKNOWN == SIP_M__MAX, "MET_M_UNKNOWN");

#define MET_NMETHODS	(SIP_M__MAX + 1)
#define MET_LINE	64	/* bytes in a cache line */

static const char *const verdict_names[MET_V_MAX] = {
	[MET_V_ACCEPTED] = "accepted",
	[MET_V_BANNED] = "banned",
	[MET_V_ACL_DENIED] = "acl_denied",
	[MET_V_RATE_LIMITED] = "rate_limited",
	[MET_V_SHED] = "shed",
	[MET_V_MALFORMED] = "malformed",
	[MET_V_SCANNER] = "scanner",
	[MET_V_AUTH_CHALLENGED] = "auth_challenged",
	[MET_V_AUTH_FAILED] = "auth_failed",
};

static const char *const outcome_names[MET_CALL_MAX] = {
	[MET_CALL_ANSWERED] = "answered",
	[MET_CALL_FAILED] = "failed",
	[MET_CALL_REFUSED] = "refused",
};

/* Auth failure reasons: the digest reasons by their enum value (slot 0,
 * DIGEST_OK, stands for anything unknown), then the daemon's own. */
static const char *const auth_extra[] = {
	"account_disabled", "source_denied", "account_locked", "aor_mismatch",
};
#define MET_NAUTH	(DIGEST_REASON_MAX + sizeof(auth_extra) / \
			    sizeof(auth_extra[0]))

/* Why calls end (call.ended / call.failed reasons); the last is the
 * catch-all. */
static const char *const end_names[] = {
	"bye", "cancel", "max_duration", "minutes_per_day", "media_timeout",
	"one_way", "srtp_required", "media_error", "session_timer",
	"leg_lost", "no_ack", "admin", "rejected", "ring_timeout",
	"unreachable", "media", "overload", "internal", "other",
};
#define MET_NEND	(sizeof(end_names) / sizeof(end_names[0]))

/* Histogram bounds, in micro-units (ppm of packets, microseconds). */
static const uint64_t loss_bounds[] = {
	0, 1000, 5000, 10000, 20000, 50000, 100000, 200000, 500000,
};
static const uint64_t jitter_bounds[] = {
	1000, 2000, 5000, 10000, 20000, 30000, 50000, 100000, 200000, 500000,
};
#define NLOSS	(sizeof(loss_bounds) / sizeof(loss_bounds[0]))
#define NJIT	(sizeof(jitter_bounds) / sizeof(jitter_bounds[0]))

struct met_shard {
	_Atomic uint64_t	 lag_us;	/* max since the last scrape */
	uint64_t		 pad[MET_LINE / 8 - 1];
	_Atomic uint64_t	 v[];
};

struct metrics {
	unsigned		 nshards;	/* 1 + nworkers */
	size_t			 nzones;
	size_t			 nslots;
	/* first slot of each family */
	size_t			 o_req, o_authf, o_authok, o_call, o_end,
				 o_fail, o_ban, o_loss, o_jit;
	struct metrics_src	 src;
	char			 zone[CONF_MAX_ZONES][CONF_ZONE_NAME_MAX + 1];
	struct met_shard	*shard[];
};

/* Set before the counting threads start, cleared after they stopped. */
static struct metrics *g_m;

static _Thread_local unsigned t_shard;		/* 0: the shared one */
static _Thread_local struct {
	uint8_t		active, verdict, method;
	uint16_t	zone;
} t_req;

static inline void
add(size_t i, uint64_t n)
{
	struct metrics *m = g_m;
	unsigned s;

	if (m == NULL || i >= m->nslots)
		return;
	s = t_shard < m->nshards ? t_shard : 0;
	atomic_fetch_add_explicit(&m->shard[s]->v[i], n, memory_order_relaxed);
}

int
metrics_open(const struct sw_conf *conf, unsigned nworkers,
    const struct metrics_src *src)
{
	struct metrics *m;
	size_t nz, bytes;

	if (g_m != NULL || nworkers == 0)
		return -EINVAL;
	nz = conf != NULL ? conf->nzones : 0;
	if (nz > CONF_MAX_ZONES)
		nz = CONF_MAX_ZONES;
	if ((m = calloc(1, sizeof(*m) + (nworkers + 1) *
	    sizeof(m->shard[0]))) == NULL)
		return -ENOMEM;
	m->nshards = nworkers + 1;
	m->nzones = nz;
	for (size_t i = 0; i < nz; i++)
		snprintf(m->zone[i], sizeof(m->zone[i]), "%s",
		    conf->zones[i].name);
	if (src != NULL)
		m->src = *src;
	m->o_req = MET_C_MAX;
	m->o_authf = m->o_req + nz * MET_NMETHODS * MET_V_MAX;
	m->o_authok = m->o_authf + nz * MET_NAUTH;
	m->o_call = m->o_authok + nz;
	m->o_end = m->o_call + MET_CALL_MAX;
	m->o_fail = m->o_end + MET_NEND;
	m->o_ban = m->o_fail + MET_NEND;
	m->o_loss = m->o_ban + BAN_R_MAX;
	m->o_jit = m->o_loss + NLOSS + 2;	/* buckets, +Inf, sum */
	m->nslots = m->o_jit + NJIT + 2;
	bytes = sizeof(struct met_shard) + m->nslots * sizeof(uint64_t);
	bytes = (bytes + MET_LINE - 1) / MET_LINE * MET_LINE;
	for (unsigned s = 0; s < m->nshards; s++) {
		struct met_shard *sh = aligned_alloc(MET_LINE, bytes);

		if (sh == NULL) {
			for (unsigned k = 0; k < s; k++)
				free(m->shard[k]);
			free(m);
			return -ENOMEM;
		}
		memset(sh, 0, bytes);
		atomic_init(&sh->lag_us, 0);
		for (size_t i = 0; i < m->nslots; i++)
			atomic_init(&sh->v[i], 0);
		m->shard[s] = sh;
	}
	g_m = m;
	return 0;
}

void
metrics_close(void)
{
	struct metrics *m = g_m;

	if (m == NULL)
		return;
	g_m = NULL;
	for (unsigned s = 0; s < m->nshards; s++)
		free(m->shard[s]);
	free(m);
}

void
metrics_thread_worker(unsigned idx)
{
	t_shard = idx + 1;
}

void
metrics_inc(enum met_counter c, uint64_t n)
{
	if ((unsigned)c < MET_C_MAX)
		add(c, n);
}

void
metrics_dec(enum met_counter c)
{
	/* wraps; the sum over shards is read as signed */
	if ((unsigned)c < MET_C_MAX)
		add(c, UINT64_MAX);
}

static void
count_request(unsigned zone, unsigned method, unsigned v)
{
	struct metrics *m = g_m;

	if (m == NULL || zone >= m->nzones)
		return;
	if (method >= MET_NMETHODS)
		method = MET_M_UNKNOWN;
	add(m->o_req + ((size_t)zone * MET_NMETHODS + method) * MET_V_MAX + v,
	    1);
}

void
metrics_req_begin(unsigned zone, unsigned method)
{
	t_req.active = 1;
	t_req.verdict = MET_V_ACCEPTED;
	t_req.method = (uint8_t)(method < MET_NMETHODS ? method : MET_M_UNKNOWN);
	t_req.zone = (uint16_t)(zone < CONF_MAX_ZONES ? zone : CONF_MAX_ZONES);
}

void
metrics_verdict(unsigned zone, enum met_verdict v)
{
	if ((unsigned)v >= MET_V_MAX)
		return;
	if (!t_req.active) {
		count_request(zone, MET_M_UNKNOWN, v);
		return;
	}
	if (t_req.verdict == MET_V_ACCEPTED)
		t_req.verdict = (uint8_t)v;
}

void
metrics_req_end(void)
{
	if (!t_req.active)
		return;
	t_req.active = 0;
	count_request(t_req.zone, t_req.method, t_req.verdict);
}

void
metrics_auth_failure(unsigned zone, const char *reason)
{
	struct metrics *m = g_m;
	size_t r = 0;

	if (m == NULL || zone >= m->nzones)
		return;
	for (size_t i = 1; reason != NULL && i < MET_NAUTH; i++) {
		const char *n = i < DIGEST_REASON_MAX ?
		    digest_reason_name((enum digest_reason)i) :
		    auth_extra[i - DIGEST_REASON_MAX];

		if (strcmp(n, reason) == 0) {
			r = i;
			break;
		}
	}
	add(m->o_authf + zone * MET_NAUTH + r, 1);
}

void
metrics_auth_ok(unsigned zone)
{
	struct metrics *m = g_m;

	if (m != NULL && zone < m->nzones)
		add(m->o_authok + zone, 1);
}

void
metrics_ban(unsigned reason)
{
	struct metrics *m = g_m;

	if (m != NULL && reason < BAN_R_MAX)
		add(m->o_ban + reason, 1);
}

void
metrics_call(enum met_call_outcome o)
{
	struct metrics *m = g_m;

	if (m != NULL && (unsigned)o < MET_CALL_MAX)
		add(m->o_call + o, 1);
}

void
metrics_call_end(int answered, const char *reason)
{
	struct metrics *m = g_m;
	size_t r = MET_NEND - 1;

	if (m == NULL)
		return;
	for (size_t i = 0; reason != NULL && i < MET_NEND - 1; i++)
		if (strcmp(end_names[i], reason) == 0) {
			r = i;
			break;
		}
	add((answered ? m->o_end : m->o_fail) + r, 1);
	if (!answered)
		add(m->o_call + MET_CALL_FAILED, 1);
}

static void
observe(size_t base, const uint64_t *bounds, size_t nb, uint64_t v)
{
	size_t b = 0;

	while (b < nb && v > bounds[b])
		b++;
	add(base + b, 1);		/* b == nb: +Inf */
	add(base + nb + 1, v);		/* sum */
}

void
metrics_media_leg(const struct relay_side_stats *t)
{
	struct metrics *m = g_m;
	uint64_t lost, ppm;

	if (m == NULL || t == NULL)
		return;
	add(MET_C_MEDIA_PACKETS, t->packets);
	add(MET_C_MEDIA_BYTES, t->bytes);
	add(MET_C_MEDIA_FOREIGN, t->foreign);
	add(MET_C_SRTP_AUTH_FAILED, t->auth_failed);
	if (t->expected == 0)
		return;		/* nothing received: no quality to speak of */
	lost = t->lost > 0 ? (uint64_t)t->lost : 0;
	ppm = lost >= t->expected ? 1000000 : lost * 1000000 / t->expected;
	observe(m->o_loss, loss_bounds, NLOSS, ppm);
	observe(m->o_jit, jitter_bounds, NJIT, t->jitter_us);
}

void
metrics_loop_lag(uint64_t us)
{
	struct metrics *m = g_m;
	_Atomic uint64_t *p;
	uint64_t cur;

	if (m == NULL || t_shard == 0 || t_shard >= m->nshards)
		return;
	p = &m->shard[t_shard]->lag_us;
	cur = atomic_load_explicit(p, memory_order_relaxed);
	while (us > cur && !atomic_compare_exchange_weak_explicit(p, &cur, us,
	    memory_order_relaxed, memory_order_relaxed))
		;
}

void
metrics_loop_since(uint64_t due_ms)
{
	struct timespec ts;
	uint64_t now_us;

	if (g_m == NULL || t_shard == 0 ||
	    clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return;
	now_us = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
	if (now_us > due_ms * 1000)
		metrics_loop_lag(now_us - due_ms * 1000);
}

/* ---- exposition ---- */

/* v micro-units as a decimal: 1500 -> "0.0015", 2000000 -> "2". */
static void
put_micro(FILE *f, uint64_t v)
{
	char frac[24];
	int n;

	if (v % 1000000 == 0) {
		fprintf(f, "%llu", (unsigned long long)(v / 1000000));
		return;
	}
	n = snprintf(frac, sizeof(frac), "%06llu",
	    (unsigned long long)(v % 1000000));
	while (n > 0 && frac[n - 1] == '0')
		frac[--n] = '\0';
	fprintf(f, "%llu.%s", (unsigned long long)(v / 1000000), frac);
}

/* A label value: backslash, quote and newline escaped (0.0.4). */
static void
put_label(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n') {
			fputs("\\n", f);
			continue;
		}
		fputc(*s, f);
	}
}

static void
head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
scalar(FILE *f, const char *name, const char *type, const char *help,
    uint64_t v)
{
	head(f, name, type, help);
	fprintf(f, "%s %llu\n", name, (unsigned long long)v);
}

/* name{label="value"} v */
static void
put_l1(FILE *f, const char *name, const char *label, const char *value,
    uint64_t v)
{
	fprintf(f, "%s{%s=\"", name, label);
	put_label(f, value);
	fprintf(f, "\"} %llu\n", (unsigned long long)v);
}

static void
histogram(FILE *f, const char *name, const char *help, const uint64_t *sum,
    const uint64_t *bounds, size_t nb)
{
	uint64_t cum = 0;

	head(f, name, "histogram", help);
	for (size_t b = 0; b < nb; b++) {
		cum += sum[b];
		fprintf(f, "%s_bucket{le=\"", name);
		put_micro(f, bounds[b]);
		fprintf(f, "\"} %llu\n", (unsigned long long)cum);
	}
	cum += sum[nb];
	fprintf(f, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum ", name,
	    (unsigned long long)cum, name);
	put_micro(f, sum[nb + 1]);
	fprintf(f, "\n%s_count %llu\n", name, (unsigned long long)cum);
}

static const char *
method_label(unsigned i)
{
	if (i == SIP_M_OTHER)
		return "other";
	if (i == MET_M_UNKNOWN)
		return "unknown";
	return sip_method_name((enum sip_method)i);
}

static const char *
auth_label(size_t i)
{
	if (i == 0)
		return "other";
	return i < DIGEST_REASON_MAX ? digest_reason_name((enum digest_reason)i) :
	    auth_extra[i - DIGEST_REASON_MAX];
}

static void
render_sip(FILE *f, const struct metrics *m, const uint64_t *s)
{
	head(f, "sipwall_sip_requests_total", "counter", "SIP requests by "
	    "zone, method and edge verdict; method=\"unknown\" for messages "
	    "dropped before parsing. Only non-zero series are listed.");
	for (size_t z = 0; z < m->nzones; z++)
		for (unsigned k = 0; k < MET_NMETHODS; k++)
			for (unsigned v = 0; v < MET_V_MAX; v++) {
				uint64_t n = s[m->o_req + (z * MET_NMETHODS +
				    k) * MET_V_MAX + v];

				if (n == 0)
					continue;
				fputs("sipwall_sip_requests_total{zone=\"", f);
				put_label(f, m->zone[z]);
				fprintf(f, "\",method=\"%s\",verdict=\"%s\"} "
				    "%llu\n", method_label(k), verdict_names[v],
				    (unsigned long long)n);
			}
	head(f, "sipwall_auth_failures_total", "counter", "Failed digest "
	    "authentications by zone and reason. Only non-zero series are "
	    "listed.");
	for (size_t z = 0; z < m->nzones; z++)
		for (size_t r = 0; r < MET_NAUTH; r++) {
			uint64_t n = s[m->o_authf + z * MET_NAUTH + r];

			if (n == 0)
				continue;
			fputs("sipwall_auth_failures_total{zone=\"", f);
			put_label(f, m->zone[z]);
			fprintf(f, "\",reason=\"%s\"} %llu\n", auth_label(r),
			    (unsigned long long)n);
		}
	head(f, "sipwall_auth_successes_total", "counter",
	    "Successful digest authentications by zone.");
	for (size_t z = 0; z < m->nzones; z++)
		put_l1(f, "sipwall_auth_successes_total", "zone", m->zone[z],
		    s[m->o_authok + z]);
	head(f, "sipwall_bans_total", "counter", "Bans decided by reason.");
	for (unsigned r = BAN_R_NONE + 1; r < BAN_R_MAX; r++)
		put_l1(f, "sipwall_bans_total", "reason",
		    ban_reason_name((enum ban_reason)r), s[m->o_ban + r]);
	head(f, "sipwall_tls_handshake_failures_total", "counter",
	    "TLS handshakes that failed, by reason.");
	put_l1(f, "sipwall_tls_handshake_failures_total", "reason",
	    "handshake", s[MET_C_TLS_HANDSHAKE]);
	put_l1(f, "sipwall_tls_handshake_failures_total", "reason",
	    "certificate", s[MET_C_TLS_CERT]);
}

/* A family with one label, listing only the series that are not zero. */
static void
nonzero_l1(FILE *f, const char *name, const char *help, const char *label,
    const char *const *values, const uint64_t *v, size_t n)
{
	head(f, name, "counter", help);
	for (size_t i = 0; i < n; i++)
		if (v[i] != 0)
			put_l1(f, name, label, values[i], v[i]);
}

static void
render_calls(FILE *f, const struct metrics *m, const uint64_t *s)
{
	head(f, "sipwall_calls_total", "counter", "Call attempts by final "
	    "outcome: answered, failed (ended before an answer), refused "
	    "(policy, fraud limits, call table full).");
	for (unsigned o = 0; o < MET_CALL_MAX; o++)
		put_l1(f, "sipwall_calls_total", "outcome", outcome_names[o],
		    s[m->o_call + o]);
	nonzero_l1(f, "sipwall_calls_ended_total", "Answered calls that ended, "
	    "by reason. Only non-zero series are listed.", "reason", end_names,
	    s + m->o_end, MET_NEND);
	nonzero_l1(f, "sipwall_calls_failed_total", "Calls that ended before "
	    "an answer, by reason. Only non-zero series are listed.", "reason",
	    end_names, s + m->o_fail, MET_NEND);
	histogram(f, "sipwall_media_packet_loss_ratio", "Packet loss of each "
	    "call leg that received media, observed when the call ends.",
	    s + m->o_loss, loss_bounds, NLOSS);
	histogram(f, "sipwall_media_jitter_seconds", "Interarrival jitter "
	    "(RFC 3550) of each call leg that received media, observed when "
	    "the call ends.", s + m->o_jit, jitter_bounds, NJIT);
}

/* Where a metric without labels comes from: a slot of the shards, or a
 * table another module keeps, read at scrape time. */
enum met_read {
	RD_SLOT = 0,
	RD_BANS, RD_REGS, RD_AORS, RD_SESSIONS, RD_PAIRS_USED, RD_PAIRS,
	RD_WR_DEPTH, RD_WR_REJECTED, RD_EV_WRITTEN, RD_EV_DROPPED,
	RD_EV_SUPPRESSED,
	RD_MAX
};

static const struct {
	const char	*name, *type, *help;
	uint8_t		 read;		/* enum met_read */
	uint8_t		 slot;		/* enum met_counter, for RD_SLOT */
} plain[] = {
	{ "sipwall_calls_active", "gauge", "Calls in progress.",
	  RD_SLOT, MET_C_CALLS_ACTIVE },
	{ "sipwall_srtp_fallbacks_total", "counter", "Call legs of a zone "
	  "preferring SRTP that fell back to plain RTP.",
	  RD_SLOT, MET_C_SRTP_FALLBACK },
	{ "sipwall_media_packets_total", "counter", "RTP/RTCP packets "
	  "relayed, counted when calls end.", RD_SLOT, MET_C_MEDIA_PACKETS },
	{ "sipwall_media_bytes_total", "counter", "RTP/RTCP bytes relayed, "
	  "counted when calls end.", RD_SLOT, MET_C_MEDIA_BYTES },
	{ "sipwall_media_foreign_packets_total", "counter", "Media packets "
	  "dropped for a wrong source, counted when calls end.",
	  RD_SLOT, MET_C_MEDIA_FOREIGN },
	{ "sipwall_srtp_auth_failures_total", "counter", "SRTP/SRTCP packets "
	  "failing authentication, counted when calls end.",
	  RD_SLOT, MET_C_SRTP_AUTH_FAILED },
	{ "sipwall_bans_active", "gauge", "Sources banned now.", RD_BANS, 0 },
	{ "sipwall_registrations", "gauge", "Registered contacts (bindings).",
	  RD_REGS, 0 },
	{ "sipwall_registered_aors", "gauge", "Addresses of record with at "
	  "least one binding.", RD_AORS, 0 },
	{ "sipwall_media_sessions", "gauge", "Media relay sessions open.",
	  RD_SESSIONS, 0 },
	{ "sipwall_media_port_pairs_in_use", "gauge", "RTP/RTCP port pairs "
	  "in use.", RD_PAIRS_USED, 0 },
	{ "sipwall_media_port_pairs", "gauge", "RTP/RTCP port pairs in the "
	  "pools.", RD_PAIRS, 0 },
	{ "sipwall_store_writer_queue_depth", "gauge", "Store operations "
	  "queued or in flight.", RD_WR_DEPTH, 0 },
	{ "sipwall_store_writer_rejected_total", "counter", "Store operations "
	  "refused: queue full.", RD_WR_REJECTED, 0 },
	{ "sipwall_events_written_total", "counter", "Security events handed "
	  "to the sinks.", RD_EV_WRITTEN, 0 },
	{ "sipwall_events_dropped_total", "counter", "Security events "
	  "dropped: queue full.", RD_EV_DROPPED, 0 },
	{ "sipwall_events_suppressed_total", "counter", "Security events "
	  "suppressed by rate limits.", RD_EV_SUPPRESSED, 0 },
};

/* Read the other modules' tables into rd[]; a bit per value read. */
static uint32_t
read_sources(const struct metrics_src *src, uint64_t rd[RD_MAX])
{
	uint32_t have = 0;

	if (src->bans != NULL) {
		struct ban_stats bs;

		ban_stats(src->bans, &bs);
		rd[RD_BANS] = bs.active;
		have |= 1u << RD_BANS;
	}
	if (src->loc != NULL) {
		rd[RD_REGS] = loc_count_bindings(src->loc);
		rd[RD_AORS] = loc_count_aors(src->loc);
		have |= 1u << RD_REGS | 1u << RD_AORS;
	}
	if (src->relay != NULL) {
		struct relay_counts rc;

		relay_counts(src->relay, &rc);
		rd[RD_SESSIONS] = rc.sessions;
		rd[RD_PAIRS_USED] = rc.pairs_in_use;
		rd[RD_PAIRS] = rc.pairs_total;
		have |= 1u << RD_SESSIONS | 1u << RD_PAIRS_USED | 1u << RD_PAIRS;
	}
	if (src->wr != NULL) {
		struct store_writer_stats ws;

		store_writer_stats(src->wr, &ws);
		rd[RD_WR_DEPTH] = ws.depth;
		rd[RD_WR_REJECTED] = ws.rejected;
		have |= 1u << RD_WR_DEPTH | 1u << RD_WR_REJECTED;
	}
	if (src->ev != NULL) {
		struct evlog_stats es;

		evlog_get_stats(src->ev, &es);
		rd[RD_EV_WRITTEN] = es.written;
		rd[RD_EV_DROPPED] = es.dropped;
		rd[RD_EV_SUPPRESSED] = es.suppressed;
		have |= 1u << RD_EV_WRITTEN | 1u << RD_EV_DROPPED |
		    1u << RD_EV_SUPPRESSED;
	}
	return have;
}

static void
render_plain(FILE *f, const struct metrics *m, const uint64_t *s)
{
	uint64_t rd[RD_MAX] = { 0 }, v;
	uint32_t have = read_sources(&m->src, rd);

	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		if (plain[i].read != RD_SLOT) {
			if (!(have & 1u << plain[i].read))
				continue;	/* no such table here */
			v = rd[plain[i].read];
		} else if ((v = s[plain[i].slot]) > INT64_MAX &&
		    plain[i].slot == MET_C_CALLS_ACTIVE)
			v = 0;		/* the sum, momentarily below 0 */
		scalar(f, plain[i].name, plain[i].type, plain[i].help, v);
	}
}

int
metrics_render(char **ret_buf, size_t *ret_len)
{
	struct metrics *m = g_m;
	uint64_t *s;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int bad;

	if (m == NULL)
		return -ENXIO;
	if ((s = calloc(m->nslots, sizeof(*s))) == NULL)
		return -ENOMEM;
	for (unsigned k = 0; k < m->nshards; k++)
		for (size_t i = 0; i < m->nslots; i++)
			s[i] += atomic_load_explicit(&m->shard[k]->v[i],
			    memory_order_relaxed);
	if ((f = open_memstream(&buf, &len)) == NULL) {
		free(s);
		return -ENOMEM;
	}
	render_sip(f, m, s);
	render_calls(f, m, s);
	render_plain(f, m, s);
	head(f, "sipwall_event_loop_lag_seconds", "gauge", "Longest delay a "
	    "SIP worker's loop added to a message or a timer since the "
	    "previous scrape (1 ms resolution).");
	for (unsigned k = 1; k < m->nshards; k++) {
		fprintf(f, "sipwall_event_loop_lag_seconds{worker=\"%u\"} ",
		    k - 1);
		put_micro(f, atomic_exchange_explicit(&m->shard[k]->lag_us, 0,
		    memory_order_relaxed));
		fputc('\n', f);
	}
	bad = ferror(f);
	free(s);
	if (fclose(f) != 0 || bad) {
		free(buf);
		return -ENOMEM;
	}
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}
