/*
 * Scanner detection (PROT4), in two parts.
 *
 * Signatures: a database loaded from a text file (data/scanner-user-
 * agents.txt), one signature a line, "type|pattern|tool|sources":
 *   substr-ci     case-insensitive (ASCII) substring of the User-Agent
 *   prefix        the User-Agent starts with pattern (case-sensitive)
 *   hdr:<Name>    substring (case-sensitive) of any value of header
 *                 Name (up to SCAN_HDR_VALUES of them)
 *   body          substring (case-sensitive) of the raw datagram, which
 *                 the file defines as "anywhere in the datagram": pass
 *                 the whole message, not just its body
 * Only substr-ci says case-insensitive, so the others are exact.  Lines
 * starting with '#' and blank lines are comments.  The file's notes
 * rate each signature (tool or sources text, case-insensitive, the
 * more cautious of the two): "FP risk HIGH" -> SCAN_C_LOW (flag,
 * correlate, do not ban alone), "FP risk low" or no mention ->
 * SCAN_C_HIGH, any other "FP risk" -> SCAN_C_MEDIUM.
 *
 * Behaviour: per source (IPv4 host, IPv6 /64), in a fixed window, the
 * number of distinct unknown usernames it tried (sequential extension
 * probing, svwar) and of distinct Request-URI users it sent OPTIONS,
 * REGISTER or INVITE to (sweeps).  Distinct values are counted exactly
 * as keyed 32-bit hashes in a set of SCAN_BH_SET per source, so a
 * threshold is at most SCAN_BH_SET.  Feed only what did not
 * authenticate: an office behind one NAT calling many numbers is not
 * a sweep.  The table has the shape of the others in policy/: fixed
 * capacity, mutex stripes, CLOCK eviction preferring sources whose
 * window is over.
 *
 * Not here: the ban decision (the daemon bans on SCAN_C_HIGH matches
 * and on behaviour verdicts), logging, header parsing (a callback
 * fetches values, resolving compact forms).
 */
#ifndef SW_POLICY_SCANNER_H
#define SW_POLICY_SCANNER_H

#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/slice.h"

#define SCAN_MAX_SIGS		1024
#define SCAN_LINE_MAX		1024
#define SCAN_PATTERN_MAX	128
#define SCAN_HDR_NAME_MAX	64
#define SCAN_TOOL_MAX		128	/* longer tool text is cut */
#define SCAN_FILE_MAX		(1u << 20)
#define SCAN_HDR_VALUES		16	/* header instances examined */
#define SCAN_ERR_MAX		256

enum scan_mtype {
	SCAN_M_SUBSTR_CI = 1,
	SCAN_M_PREFIX,
	SCAN_M_HDR,
	SCAN_M_BODY,
	SCAN_M_MAX
};

enum scan_conf {
	SCAN_C_LOW = 1,
	SCAN_C_MEDIUM,
	SCAN_C_HIGH,
	SCAN_C_MAX
};

struct scan_sig {
	enum scan_mtype	 type;
	enum scan_conf	 conf;
	uint32_t	 line;			/* in the file */
	uint16_t	 plen;
	uint16_t	 hlen;
	uint8_t		 pattern[SCAN_PATTERN_MAX];	/* lower case for
							 * substr-ci */
	char		 hdr[SCAN_HDR_NAME_MAX + 1];	/* SCAN_M_HDR */
	char		 tool[SCAN_TOOL_MAX];
};

struct scan_db;

/*
 * Parse a signature file held in buf[0..len) (fname only names it in
 * errors).  On error nothing is returned and err (cap bytes, may be
 * NULL) holds "fname:line: what".  Returns 0, -SBC_EPARSE,
 * -SBC_ELIMIT (too many signatures, line or file too long), -ENOMEM.
 */
int		 scan_db_parse(const uint8_t *buf, size_t len, const char *fname,
		    struct scan_db **ret_db, char *err, size_t cap);
/* Same from a file: also -errno for I/O ("path: strerror" in err). */
int		 scan_db_load(const char *path, struct scan_db **ret_db,
		    char *err, size_t cap);
void		 scan_db_free(struct scan_db *db);
/* The list in data/scanner-user-agents.txt, built into the binary. */
extern const uint8_t	scanner_builtin[];
extern const size_t	scanner_builtin_len;
size_t		 scan_db_count(const struct scan_db *db);
const struct scan_sig *scan_db_sig(const struct scan_db *db, size_t i);

/*
 * Fetch the idx-th value (0, 1, ...) of header name for hdr:<Name>
 * signatures.  Returns 0 and *ret_value, or non-zero when there is no
 * such value.  The name is as written in the file ("From"); resolving
 * case and compact forms ("f") is the callback's job.
 */
typedef int	 scan_hdr_fn(void *arg, struct slice name, size_t idx,
		    struct slice *ret_value);

struct scan_match {
	int		 index;		/* into the database */
	enum scan_mtype	 type;
	enum scan_conf	 conf;
	uint32_t	 line;
	const char	*tool;		/* lives as long as the database */
};

/*
 * Match one request.  user_agent may be empty (SLICE_NULL); hdr may be
 * NULL (hdr: signatures then never match); raw is the whole datagram
 * (body signatures), may be empty.  Of all matching signatures the one
 * with the highest confidence wins, the first in the file among equals.
 * Returns its index (and fills *ret, may be NULL) or -1.  Allocation-
 * free; the database is read-only, so any thread may match.
 */
int		 scan_match(const struct scan_db *db, struct slice user_agent,
		    scan_hdr_fn *hdr, void *arg, struct slice raw,
		    struct scan_match *ret);

const char	*scan_mtype_name(enum scan_mtype t);
const char	*scan_conf_name(enum scan_conf c);

/* --- behaviour --- */

#define SCAN_BH_SET			32
#define SCAN_BH_MAX_CAPACITY		(1u << 22)
#define SCAN_BH_MAX_STRIPES		1024u
#define SCAN_BH_DEFAULT_STRIPES		32u
#define SCAN_BH_DEFAULT_WINDOW_MS	60000u
#define SCAN_BH_DEFAULT_USERS		10u
#define SCAN_BH_DEFAULT_SWEEP		20u

enum scan_behaviour {
	SCAN_B_NONE = 0,
	SCAN_B_EXTENSION_PROBE = 1,	/* many distinct unknown usernames */
	SCAN_B_OPTIONS_SWEEP = 2,	/* many distinct Request-URI users */
	SCAN_B_MAX
};

struct scan_bh_conf {
	uint32_t	capacity;	/* sources (1..SCAN_BH_MAX_CAPACITY) */
	uint32_t	stripes;	/* power of two; 0 = default */
	uint32_t	window_ms;	/* 0 = default */
	uint32_t	users_threshold;	/* 1..SCAN_BH_SET; 0 = default */
	uint32_t	sweep_threshold;	/* 1..SCAN_BH_SET; 0 = default */
};

struct scan_bh_result {
	enum scan_behaviour verdict;	/* SCAN_B_NONE below threshold */
	int		crossed;	/* this event reached the threshold */
	uint32_t	distinct;	/* distinct values in the window */
	uint32_t	events;		/* events counted in the window */
	uint64_t	window_start_ms;
};

struct scan_bh_stats {
	uint64_t	events;
	uint64_t	verdicts;	/* thresholds crossed */
	uint64_t	entries;
	uint64_t	capacity;
	uint64_t	evicted_idle;
	uint64_t	evicted_active;
};

struct scan_bh;

int		 scan_bh_new(const struct scan_bh_conf *conf,
		    struct scan_bh **ret_bh);
void		 scan_bh_free(struct scan_bh *bh);
/* New distinct-value thresholds (0 = default, at most SCAN_BH_SET) for
 * what is counted from now on.  Any thread.  0 or -EINVAL. */
int		 scan_bh_set_thresholds(struct scan_bh *bh, uint32_t users,
		    uint32_t sweep);
/* A configured threshold as the table takes it: at most SCAN_BH_SET. */
static inline uint32_t
scan_bh_clamp(uint32_t n)
{
	return n > SCAN_BH_SET ? SCAN_BH_SET : n;
}

/*
 * A request from src named a username that does not exist (the
 * Authorization or From user the caller could not find).  Returns the
 * verdict (SCAN_B_EXTENSION_PROBE once the distinct count reaches the
 * threshold, SCAN_B_NONE before) or -EAFNOSUPPORT; *ret may be NULL.
 */
int		 scan_bh_unknown_user(struct scan_bh *bh,
		    const union sw_addr *src, struct slice user,
		    uint64_t now_ms, struct scan_bh_result *ret);
/*
 * An unauthenticated request from src: OPTIONS, REGISTER and INVITE
 * (exact, case-sensitive method names) count their Request-URI user;
 * other methods are ignored (SCAN_B_NONE).  Returns SCAN_B_OPTIONS_SWEEP
 * once the threshold is reached.
 */
int		 scan_bh_request(struct scan_bh *bh, const union sw_addr *src,
		    struct slice method, struct slice ruri_user,
		    uint64_t now_ms, struct scan_bh_result *ret);
/* Drop what is known about src (after a ban, say).  1 if present. */
int		 scan_bh_forget(struct scan_bh *bh, const union sw_addr *src);
void		 scan_bh_stats(struct scan_bh *bh, struct scan_bh_stats *ret);
/* "extension_probe", "options_sweep": the scanner.detected reasons of
 * docs/events.md. */
const char	*scan_behaviour_name(enum scan_behaviour b);

#endif
