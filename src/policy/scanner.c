/*
 * Scanner signatures (file parser, matcher) and per-source behaviour
 * tracking; see scanner.h for the file format and the rules.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/hash.h"
#include "policy/cidr.h"
#include "policy/ptab.h"
#include "policy/scanner.h"

struct scan_db {
	struct scan_sig	*v;
	size_t		 n, cap;
};

/* User-Agent bytes lower-cased on the stack; longer ones take the
 * slower case-folding search. */
#define UA_FOLD_MAX	1024

const char *
scan_mtype_name(enum scan_mtype t)
{
	switch (t) {
	case SCAN_M_SUBSTR_CI:	return "substr-ci";
	case SCAN_M_PREFIX:	return "prefix";
	case SCAN_M_HDR:	return "hdr";
	case SCAN_M_BODY:	return "body";
	case SCAN_M_MAX:	break;
	}
	return "unknown";
}

const char *
scan_conf_name(enum scan_conf c)
{
	switch (c) {
	case SCAN_C_LOW:	return "low";
	case SCAN_C_MEDIUM:	return "medium";
	case SCAN_C_HIGH:	return "high";
	case SCAN_C_MAX:	break;
	}
	return "unknown";
}

const char *
scan_behaviour_name(enum scan_behaviour b)
{
	switch (b) {
	case SCAN_B_NONE:	return "none";
	case SCAN_B_EXTENSION_PROBE:	return "extension_probe";
	case SCAN_B_OPTIONS_SWEEP:	return "options_sweep";
	case SCAN_B_MAX:	break;
	}
	return "unknown";
}

/* --- the signature file --- */

static void __attribute__((format(printf, 5, 6)))
perr(char *err, size_t cap, const char *fname, size_t line,
    const char *fmt, ...)
{
	char msg[SCAN_ERR_MAX];
	va_list ap;

	if (err == NULL || cap == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, cap, "%s:%zu: %s", fname, line, msg);
}

/* Case-insensitive (ASCII) search for a lower-case needle. */
static int
find_ci(struct slice hay, const uint8_t *needle, size_t nlen)
{
	if (nlen == 0)
		return 1;
	if (hay.len < nlen)
		return 0;
	for (size_t i = 0; i + nlen <= hay.len; i++) {
		size_t j = 0;

		while (j < nlen && ctype_lower(hay.p[i + j]) == needle[j])
			j++;
		if (j == nlen)
			return 1;
	}
	return 0;
}

static int
contains_ci(struct slice s, const char *lit)
{
	return find_ci(s, (const uint8_t *)lit, strlen(lit));
}

static enum scan_conf
rate(struct slice sources)
{
	if (contains_ci(sources, "fp risk high"))
		return SCAN_C_LOW;
	if (contains_ci(sources, "fp risk low"))
		return SCAN_C_HIGH;
	if (contains_ci(sources, "fp risk"))
		return SCAN_C_MEDIUM;
	return SCAN_C_HIGH;
}

static int
printable(struct slice s)
{
	for (size_t i = 0; i < s.len; i++)
		if (s.p[i] < 0x20 || s.p[i] == 0x7f)
			return 0;
	return 1;
}

/* One non-comment line into *sig; an error message into why. */
static int
parse_line(struct slice line, struct scan_sig *sig, char *why, size_t cap)
{
	struct slice f[4];
	ssize_t bar;

	memset(sig, 0, sizeof(*sig));
	for (int i = 0; i < 3; i++) {
		if ((bar = slice_find(line, '|')) < 0) {
			snprintf(why, cap, "expected 4 fields "
			    "(type|pattern|tool|sources), found %d", i + 1);
			return -SBC_EPARSE;
		}
		f[i] = slice_sub(line, 0, (size_t)bar);
		line = slice_sub(line, (size_t)bar + 1, line.len);
	}
	f[3] = line;

	if (slice_eq_lit_ci(f[0], "substr-ci"))
		sig->type = SCAN_M_SUBSTR_CI;
	else if (slice_eq_lit_ci(f[0], "prefix"))
		sig->type = SCAN_M_PREFIX;
	else if (slice_eq_lit_ci(f[0], "body"))
		sig->type = SCAN_M_BODY;
	else if (slice_starts_ci(f[0], SLICE_LIT("hdr:"))) {
		struct slice name = slice_sub(f[0], 4, f[0].len);

		if (name.len == 0 || name.len > SCAN_HDR_NAME_MAX) {
			snprintf(why, cap, "header name after 'hdr:' must "
			    "be 1-%d characters", SCAN_HDR_NAME_MAX);
			return -SBC_EPARSE;
		}
		for (size_t i = 0; i < name.len; i++)
			if (!ctype_is(name.p[i], CT_TOKEN)) {
				snprintf(why, cap, "bad character in header "
				    "name '" SLICE_FMT "'", SLICE_ARG(name));
				return -SBC_EPARSE;
			}
		sig->type = SCAN_M_HDR;
		memcpy(sig->hdr, name.p, name.len);
		sig->hlen = (uint16_t)name.len;
	} else {
		snprintf(why, cap, "unknown match type '%.*s' (want "
		    "substr-ci, prefix, hdr:<Name> or body)",
		    f[0].len > 40 ? 40 : (int)f[0].len, (const char *)f[0].p);
		return -SBC_EPARSE;
	}
	if (f[1].len == 0 || f[1].len > SCAN_PATTERN_MAX) {
		snprintf(why, cap, "pattern must be 1-%d bytes",
		    SCAN_PATTERN_MAX);
		return -SBC_EPARSE;
	}
	if (!printable(f[1]) || !printable(f[2])) {
		snprintf(why, cap, "control character in pattern or tool");
		return -SBC_EPARSE;
	}
	if (f[2].len == 0) {
		snprintf(why, cap, "empty tool name");
		return -SBC_EPARSE;
	}
	sig->plen = (uint16_t)f[1].len;
	for (size_t i = 0; i < f[1].len; i++)
		sig->pattern[i] = sig->type == SCAN_M_SUBSTR_CI ?
		    ctype_lower(f[1].p[i]) : f[1].p[i];
	if (f[2].len >= SCAN_TOOL_MAX)
		f[2].len = SCAN_TOOL_MAX - 1;
	memcpy(sig->tool, f[2].p, f[2].len);
	/* The risk note sits in the tool text on some lines ("- FP
	 * risk"), in the sources on others: the more cautious wins. */
	sig->conf = rate(f[2]) < rate(f[3]) ? rate(f[2]) : rate(f[3]);
	return 0;
}

int
scan_db_parse(const uint8_t *buf, size_t len, const char *fname,
    struct scan_db **ret_db, char *err, size_t cap)
{
	struct slice rest = slice_make(buf, len), line, t;
	struct scan_db *db;
	char why[SCAN_ERR_MAX];
	size_t lineno = 0;
	ssize_t nl;
	int r;

	if (len > SCAN_FILE_MAX) {
		perr(err, cap, fname, 0, "file larger than %u bytes",
		    SCAN_FILE_MAX);
		return -SBC_ELIMIT;
	}
	if ((db = calloc(1, sizeof(*db))) == NULL)
		return -ENOMEM;
	while (rest.len > 0) {
		lineno++;
		if ((nl = slice_find(rest, '\n')) >= 0) {
			line = slice_sub(rest, 0, (size_t)nl);
			rest = slice_sub(rest, (size_t)nl + 1, rest.len);
		} else {
			line = rest;
			rest = SLICE_NULL;
		}
		if (line.len > 0 && line.p[line.len - 1] == '\r')
			line.len--;
		if (line.len > SCAN_LINE_MAX) {
			perr(err, cap, fname, lineno, "line longer than %d "
			    "bytes", SCAN_LINE_MAX);
			r = -SBC_ELIMIT;
			goto fail;
		}
		if (memchr(line.p, '\0', line.len) != NULL) {
			perr(err, cap, fname, lineno, "NUL byte");
			r = -SBC_EPARSE;
			goto fail;
		}
		t = slice_trim_lws(line);
		if (t.len == 0 || t.p[0] == '#')
			continue;
		if (db->n == SCAN_MAX_SIGS) {
			perr(err, cap, fname, lineno, "more than %d signatures",
			    SCAN_MAX_SIGS);
			r = -SBC_ELIMIT;
			goto fail;
		}
		if (db->n == db->cap) {
			size_t nc = db->cap ? db->cap * 2 : 64;
			struct scan_sig *nv;

			if ((nv = realloc(db->v, nc * sizeof(*nv))) == NULL) {
				r = -ENOMEM;
				goto fail;
			}
			db->v = nv;
			db->cap = nc;
		}
		if ((r = parse_line(line, &db->v[db->n], why,
		    sizeof(why))) < 0) {
			perr(err, cap, fname, lineno, "%s", why);
			goto fail;
		}
		db->v[db->n].line = (uint32_t)lineno;
		db->n++;
	}
	*ret_db = db;
	return 0;
fail:
	scan_db_free(db);
	return r;
}

int
scan_db_load(const char *path, struct scan_db **ret_db, char *err,
    size_t cap)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t got = 0;
	ssize_t n;
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		r = -errno;
		goto ioerr;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto ioerr;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > SCAN_FILE_MAX) {
		close(fd);
		perr(err, cap, path, 0, "not a regular file of at most %u "
		    "bytes", SCAN_FILE_MAX);
		return -SBC_ELIMIT;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return -ENOMEM;
	}
	/* Read what is there, up to the size seen (a file that grows
	 * meanwhile is cut; one that shrinks is taken as it is). */
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto ioerr;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	r = scan_db_parse(buf, got, path, ret_db, err, cap);
	free(buf);
	return r;
ioerr:
	if (err != NULL && cap > 0)
		snprintf(err, cap, "%s: %s", path, strerror(-r));
	if (fd >= 0)
		close(fd);
	free(buf);
	return r;
}

void
scan_db_free(struct scan_db *db)
{
	if (db == NULL)
		return;
	free(db->v);
	free(db);
}

size_t
scan_db_count(const struct scan_db *db)
{
	return db->n;
}

const struct scan_sig *
scan_db_sig(const struct scan_db *db, size_t i)
{
	return i < db->n ? &db->v[i] : NULL;
}

/* --- matching --- */

static int
find_cs(struct slice hay, const uint8_t *needle, size_t nlen)
{
	return hay.len >= nlen && hay.len > 0 &&
	    memmem(hay.p, hay.len, needle, nlen) != NULL;
}

static int
sig_matches(const struct scan_sig *sg, struct slice ua, struct slice ua_low,
    scan_hdr_fn *hdr, void *arg, struct slice raw)
{
	struct slice v;

	switch (sg->type) {
	case SCAN_M_SUBSTR_CI:
		if (ua_low.p != NULL)
			return find_cs(ua_low, sg->pattern, sg->plen);
		return find_ci(ua, sg->pattern, sg->plen);
	case SCAN_M_PREFIX:
		return ua.len >= sg->plen &&
		    memcmp(ua.p, sg->pattern, sg->plen) == 0;
	case SCAN_M_HDR:
		if (hdr == NULL)
			return 0;
		for (size_t i = 0; i < SCAN_HDR_VALUES; i++) {
			if (hdr(arg, slice_make(sg->hdr, sg->hlen), i, &v) != 0)
				break;
			if (find_cs(v, sg->pattern, sg->plen))
				return 1;
		}
		return 0;
	case SCAN_M_BODY:
		return find_cs(raw, sg->pattern, sg->plen);
	case SCAN_M_MAX:
		break;
	}
	return 0;
}

int
scan_match(const struct scan_db *db, struct slice user_agent,
    scan_hdr_fn *hdr, void *arg, struct slice raw, struct scan_match *ret)
{
	uint8_t low[UA_FOLD_MAX];
	struct slice ua_low = SLICE_NULL;
	const struct scan_sig *sg;
	int best = -1;

	if (user_agent.len > 0 && user_agent.len <= sizeof(low)) {
		for (size_t i = 0; i < user_agent.len; i++)
			low[i] = ctype_lower(user_agent.p[i]);
		ua_low = slice_make(low, user_agent.len);
	}
	for (size_t i = 0; i < db->n; i++) {
		sg = &db->v[i];
		if (best >= 0 && sg->conf <= db->v[best].conf)
			continue;
		if (!sig_matches(sg, user_agent, ua_low, hdr, arg, raw))
			continue;
		best = (int)i;
		if (sg->conf == SCAN_C_HIGH)
			break;
	}
	if (best >= 0 && ret != NULL) {
		sg = &db->v[best];
		ret->index = best;
		ret->type = sg->type;
		ret->conf = sg->conf;
		ret->line = sg->line;
		ret->tool = sg->tool;
	}
	return best;
}

/* --- behaviour --- */

struct bh_set {
	uint32_t	v[SCAN_BH_SET];
	uint32_t	n;
	uint32_t	events;
	uint8_t		flagged;
};

struct bh_entry {
	struct cidr	key;
	uint8_t		ref;
	uint64_t	start_ms;
	struct bh_set	set[2];		/* [0] users, [1] R-URI users */
};

struct bh_stripe {
	alignas(64) pthread_mutex_t mu;
	struct ptab	 idx;
	struct bh_entry	*e;
	uint32_t	 hand;
	struct scan_bh_stats st;
};

struct scan_bh {
	struct bh_stripe *s;
	uint32_t	  nstripes;
	unsigned	  shift;
	uint32_t	  per_stripe;
	uint32_t	  window_ms;
	_Atomic uint32_t  threshold[2];	/* scan_bh_set_thresholds */
};

int
scan_bh_new(const struct scan_bh_conf *conf, struct scan_bh **ret_bh)
{
	struct scan_bh *t;
	uint32_t ns = conf->stripes ? conf->stripes : SCAN_BH_DEFAULT_STRIPES;
	uint32_t tu = conf->users_threshold ? conf->users_threshold :
	    SCAN_BH_DEFAULT_USERS;
	uint32_t tsw = conf->sweep_threshold ? conf->sweep_threshold :
	    SCAN_BH_DEFAULT_SWEEP;
	unsigned bits = 0;
	int r = 0;

	if (conf->capacity == 0 || conf->capacity > SCAN_BH_MAX_CAPACITY ||
	    ns > SCAN_BH_MAX_STRIPES || (ns & (ns - 1)) != 0 ||
	    tu > SCAN_BH_SET || tsw > SCAN_BH_SET)
		return -EINVAL;
	while (ns > conf->capacity)
		ns >>= 1;
	while ((1u << bits) < ns)
		bits++;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -ENOMEM;
	t->nstripes = ns;
	t->shift = 64 - bits;
	t->per_stripe = (conf->capacity + ns - 1) / ns;
	t->window_ms = conf->window_ms ? conf->window_ms :
	    SCAN_BH_DEFAULT_WINDOW_MS;
	t->threshold[0] = tu;
	t->threshold[1] = tsw;
	t->s = aligned_alloc(alignof(struct bh_stripe), ns * sizeof(*t->s));
	if (t->s == NULL) {
		free(t);
		return -ENOMEM;
	}
	memset(t->s, 0, ns * sizeof(*t->s));
	for (uint32_t i = 0; i < ns; i++)
		pthread_mutex_init(&t->s[i].mu, NULL);
	for (uint32_t i = 0; i < ns; i++) {
		struct bh_stripe *s = &t->s[i];

		s->st.capacity = t->per_stripe;
		if ((r = ptab_init(&s->idx, t->per_stripe)) < 0 ||
		    (s->e = calloc(t->per_stripe, sizeof(*s->e))) == NULL) {
			scan_bh_free(t);
			return r < 0 ? r : -ENOMEM;
		}
	}
	*ret_bh = t;
	return 0;
}

int
scan_bh_set_thresholds(struct scan_bh *t, uint32_t users, uint32_t sweep)
{
	if (users > SCAN_BH_SET || sweep > SCAN_BH_SET)
		return -EINVAL;
	atomic_store_explicit(&t->threshold[0], users ? users :
	    SCAN_BH_DEFAULT_USERS, memory_order_relaxed);
	atomic_store_explicit(&t->threshold[1], sweep ? sweep :
	    SCAN_BH_DEFAULT_SWEEP, memory_order_relaxed);
	return 0;
}

void
scan_bh_free(struct scan_bh *bh)
{
	if (bh == NULL)
		return;
	for (uint32_t i = 0; i < bh->nstripes; i++) {
		ptab_clear(&bh->s[i].idx);
		free(bh->s[i].e);
		pthread_mutex_destroy(&bh->s[i].mu);
	}
	free(bh->s);
	free(bh);
}

static int
bh_key(const union sw_addr *src, struct cidr *k)
{
	uint8_t b[16];
	int af;

	if ((af = cidr_addr_norm(src, b)) < 0)
		return af;
	return cidr_from_addr(src, af == AF_INET ? 32 : 64, k);
}

static struct bh_stripe *
bh_stripe_of(struct scan_bh *t, uint64_t h)
{
	return &t->s[t->nstripes > 1 ? h >> t->shift : 0];
}

static uint32_t
bh_find(const struct bh_stripe *s, const struct cidr *k, uint64_t h)
{
	uint32_t i;

	for (i = ptab_first(&s->idx, h); i != PTAB_NIL;
	    i = ptab_next(&s->idx, i, h))
		if (cidr_eq(&s->e[i].key, k))
			break;
	return i;
}

static int
bh_idle(const struct scan_bh *t, const struct bh_entry *e, uint64_t now)
{
	return now < e->start_ms || now - e->start_ms >= t->window_ms;
}

static uint32_t
bh_victim(struct scan_bh *t, struct bh_stripe *s, uint64_t now)
{
	uint32_t cap = s->idx.cap;

	for (uint64_t step = 0; step < 2 * (uint64_t)cap + 1; step++) {
		uint32_t i = s->hand;
		struct bh_entry *e = &s->e[i];

		s->hand = i + 1 < cap ? i + 1 : 0;
		if (bh_idle(t, e, now)) {
			s->st.evicted_idle++;
			return i;
		}
		if (!e->ref) {
			s->st.evicted_active++;
			return i;
		}
		e->ref = 0;
	}
	s->st.evicted_active++;
	return s->hand;
}

static int
bh_event(struct scan_bh *t, const union sw_addr *src, int which,
    struct slice value, uint64_t now, struct scan_bh_result *ret)
{
	struct scan_bh_result res;
	struct bh_stripe *s;
	struct bh_entry *e;
	struct bh_set *set;
	struct cidr k;
	uint64_t h;
	uint32_t i, vh;
	int r;

	memset(&res, 0, sizeof(res));
	if ((r = bh_key(src, &k)) < 0)
		return r;
	h = sw_hash(&k, sizeof(k));
	/* The hash is keyed: a scanner cannot pick usernames that
	 * collide to stay under the threshold. */
	vh = (uint32_t)sw_hash(value.p, value.len);
	s = bh_stripe_of(t, h);
	pthread_mutex_lock(&s->mu);
	s->st.events++;
	if ((i = bh_find(s, &k, h)) != PTAB_NIL) {
		e = &s->e[i];
		e->ref = 1;
		if (bh_idle(t, e, now)) {
			memset(e->set, 0, sizeof(e->set));
			e->start_ms = now;
		}
	} else {
		if (ptab_full(&s->idx))
			ptab_del(&s->idx, bh_victim(t, s, now));
		i = ptab_add(&s->idx, h);
		e = &s->e[i];
		memset(e, 0, sizeof(*e));
		e->key = k;
		e->start_ms = now;
	}
	set = &e->set[which];
	if (set->events < UINT32_MAX)
		set->events++;
	for (i = 0; i < set->n; i++)
		if (set->v[i] == vh)
			break;
	if (i == set->n && set->n < SCAN_BH_SET)
		set->v[set->n++] = vh;
	res.distinct = set->n;
	res.events = set->events;
	res.window_start_ms = e->start_ms;
	if (set->n >= atomic_load_explicit(&t->threshold[which],
	    memory_order_relaxed)) {
		res.verdict = which == 0 ? SCAN_B_EXTENSION_PROBE :
		    SCAN_B_OPTIONS_SWEEP;
		if (!set->flagged) {
			set->flagged = 1;
			res.crossed = 1;
			s->st.verdicts++;
		}
	}
	pthread_mutex_unlock(&s->mu);
	if (ret != NULL)
		*ret = res;
	return (int)res.verdict;
}

int
scan_bh_unknown_user(struct scan_bh *bh, const union sw_addr *src,
    struct slice user, uint64_t now_ms, struct scan_bh_result *ret)
{
	return bh_event(bh, src, 0, user, now_ms, ret);
}

int
scan_bh_request(struct scan_bh *bh, const union sw_addr *src,
    struct slice method, struct slice ruri_user, uint64_t now_ms,
    struct scan_bh_result *ret)
{
	if (!slice_eq(method, SLICE_LIT("OPTIONS")) &&
	    !slice_eq(method, SLICE_LIT("REGISTER")) &&
	    !slice_eq(method, SLICE_LIT("INVITE"))) {
		if (ret != NULL)
			memset(ret, 0, sizeof(*ret));
		return SCAN_B_NONE;
	}
	return bh_event(bh, src, 1, ruri_user, now_ms, ret);
}

int
scan_bh_forget(struct scan_bh *bh, const union sw_addr *src)
{
	struct bh_stripe *s;
	struct cidr k;
	uint64_t h;
	uint32_t i;

	if (bh_key(src, &k) < 0)
		return 0;
	h = sw_hash(&k, sizeof(k));
	s = bh_stripe_of(bh, h);
	pthread_mutex_lock(&s->mu);
	if ((i = bh_find(s, &k, h)) != PTAB_NIL)
		ptab_del(&s->idx, i);
	pthread_mutex_unlock(&s->mu);
	return i != PTAB_NIL;
}

void
scan_bh_stats(struct scan_bh *bh, struct scan_bh_stats *ret)
{
	struct scan_bh_stats sum;

	memset(&sum, 0, sizeof(sum));
	for (uint32_t i = 0; i < bh->nstripes; i++) {
		struct bh_stripe *s = &bh->s[i];

		pthread_mutex_lock(&s->mu);
		sum.events += s->st.events;
		sum.verdicts += s->st.verdicts;
		sum.evicted_idle += s->st.evicted_idle;
		sum.evicted_active += s->st.evicted_active;
		sum.capacity += s->st.capacity;
		sum.entries += s->idx.used;
		pthread_mutex_unlock(&s->mu);
	}
	*ret = sum;
}
