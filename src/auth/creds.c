/*
 * Password policy, generator and HA1 set: see creds.h.
 *
 * The only copies of a password made here are the folded forms the
 * check matches against and the generator's random pool, both on the
 * stack and wiped with explicit_bzero before the function returns.
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "auth/creds.h"
#include "auth/digest.h"
#include "auth/weak_passwords.h"
#include "core/utf8.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))
#define GEN_MIN		16
#define GEN_TRIES	1000

static const struct {
	const char	*name;
	const char	*text;
} reasons[CREDS_REASON_MAX] = {
	[CREDS_OK]		= { "ok", "is acceptable" },
	[CREDS_E_SHORT]		= { "too_short",
	    "is shorter than 12 characters" },
	[CREDS_E_LONG]		= { "too_long",
	    "is longer than 128 bytes" },
	[CREDS_E_CHARSET]	= { "bad_characters",
	    "contains control characters or invalid UTF-8" },
	[CREDS_E_COMMON]	= { "common_password",
	    "is or contains a well-known weak or default password" },
	[CREDS_E_USERNAME]	= { "contains_username",
	    "contains the username" },
	[CREDS_E_DOMAIN]	= { "contains_domain",
	    "contains the domain name" },
	[CREDS_E_REPEAT]	= { "repeated_character",
	    "repeats one character 4 or more times in a row" },
	[CREDS_E_SEQUENCE]	= { "sequence",
	    "contains a sequence such as 1234 or abcd" },
	[CREDS_E_KEYBOARD]	= { "keyboard_run",
	    "contains a keyboard run such as qwer or asdf" },
	[CREDS_E_CLASSES]	= { "too_few_classes",
	    "uses fewer than 3 of: lowercase, uppercase, digits, symbols" },
};

/* Keyboard rows (QWERTY, QWERTZ, AZERTY), columns and the phone keypad;
 * any CREDS_RUN_MIN consecutive keys, either direction, is a run. */
static const char *const kbd_rows[] = {
	"1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm",
	"qwertzuiop", "yxcvbnm", "azertyuiop", "qsdfghjklm", "wxcvbn",
	"1qaz", "2wsx", "3edc", "4rfv", "5tgb", "6yhn", "7ujm", "8ik,",
	"9ol.", "0p;/", "1qaz2wsx3edc4rfv", "zaq1xsw2cde3",
	"2580", "147258369", "159753", "357951",
};

const char *
creds_reason_name(enum creds_reason r)
{
	return (unsigned)r < CREDS_REASON_MAX ? reasons[r].name : "unknown";
}

const char *
creds_reason_text(enum creds_reason r)
{
	return (unsigned)r < CREDS_REASON_MAX ? reasons[r].text :
	    "is not acceptable";
}

/*
 * Fold for matching: ASCII lowercase plus the usual substitutions, with
 * '1' read as `one` ('i' or 'l': try both).  Applied to both sides, so
 * "P@ssw0rd" and "TrustNo1" meet their list entries.
 */
static uint8_t
fold(uint8_t c, uint8_t one)
{
	c = ctype_lower(c);
	switch (c) {
	case '@': case '4':	return 'a';
	case '0':		return 'o';
	case '3':		return 'e';
	case '$': case '5':	return 's';
	case '7': case '+':	return 't';
	case '!': case '|':	return 'i';
	case '1':		return one;
	default:		return c;
	}
}

/*
 * The password folded both ways, once per check.  Plain lowercase
 * matching needs no pass of its own: fold() is a function of the
 * lowercased byte, so a lowercase match is also a folded match.
 */
struct folded {
	uint8_t	i[CREDS_PW_MAX];	/* '1' read as 'i' */
	uint8_t	l[CREDS_PW_MAX];	/* '1' read as 'l' */
	size_t	len;
};

static void
fold_pw(struct slice pw, struct folded *f)
{
	f->len = pw.len;
	for (size_t k = 0; k < pw.len; k++) {
		f->i[k] = fold(pw.p[k], 'i');
		f->l[k] = fold(pw.p[k], 'l');
	}
}

/* Does the folded password contain needle, folded the same way? */
static int
contains_any(const struct folded *f, struct slice needle)
{
	uint8_t ni[CREDS_PW_MAX], nl[CREDS_PW_MAX];

	if (needle.len == 0 || needle.len > f->len)
		return 0;
	for (size_t k = 0; k < needle.len; k++) {
		ni[k] = fold(needle.p[k], 'i');
		nl[k] = fold(needle.p[k], 'l');
	}
	return memmem(f->i, f->len, ni, needle.len) != NULL ||
	    memmem(f->l, f->len, nl, needle.len) != NULL;
}

static int
equals_any(const struct folded *f, struct slice needle)
{
	return needle.len == f->len && contains_any(f, needle);
}

static int
is_common(const struct folded *f)
{
	for (size_t i = 0; i < NITEMS(weak_passwords); i++) {
		struct slice w = slice_cstr(weak_passwords[i]);

		if (w.len >= WEAK_SUBSTR_MIN ? contains_any(f, w) :
		    equals_any(f, w))
			return 1;
	}
	return 0;
}

/* The whole domain, and each label but the last of 4+ characters. */
static int
has_domain(const struct folded *f, struct slice domain)
{
	struct slice rest = domain, label;
	ssize_t dot;

	if (domain.len >= 3 && contains_any(f, domain))
		return 1;
	while ((dot = slice_find(rest, '.')) >= 0) {
		slice_take(&rest, (size_t)dot, &label);
		slice_skip(&rest, 1);
		if (label.len >= 4 && contains_any(f, label))
			return 1;
	}
	return 0;
}

static int
has_repeat(struct slice pw)
{
	size_t run = 1;

	for (size_t i = 1; i < pw.len; i++) {
		run = ctype_lower(pw.p[i]) == ctype_lower(pw.p[i - 1]) ?
		    run + 1 : 1;
		if (run >= CREDS_RUN_MIN)
			return 1;
	}
	return 0;
}

/* Same class (digit or letter) and one step up, or one step down. */
static int
seq_step(uint8_t a, uint8_t b, int dir)
{
	a = ctype_lower(a);
	b = ctype_lower(b);
	if (!((ctype_is(a, CT_DIGIT) && ctype_is(b, CT_DIGIT)) ||
	    (ctype_is(a, CT_ALPHA) && ctype_is(b, CT_ALPHA))))
		return 0;
	return (int)b - (int)a == dir;
}

static int
has_sequence(struct slice pw)
{
	for (int dir = -1; dir <= 1; dir += 2) {
		size_t run = 1;

		for (size_t i = 1; i < pw.len; i++) {
			run = seq_step(pw.p[i - 1], pw.p[i], dir) ? run + 1 : 1;
			if (run >= CREDS_RUN_MIN)
				return 1;
		}
	}
	return 0;
}

/* Case-insensitive substring, no folding: keyboard runs are literal. */
static int
contains_ci(struct slice hay, struct slice needle)
{
	for (size_t i = 0; i + needle.len <= hay.len; i++)
		if (slice_eq_ci(slice_sub(hay, i, needle.len), needle))
			return 1;
	return 0;
}

static int
has_keyboard_run(struct slice pw)
{
	uint8_t rev[32];

	for (size_t r = 0; r < NITEMS(kbd_rows); r++) {
		struct slice row = slice_cstr(kbd_rows[r]);

		if (row.len < CREDS_RUN_MIN || row.len > sizeof(rev))
			continue;
		for (size_t i = 0; i < row.len; i++)
			rev[i] = row.p[row.len - 1 - i];
		for (size_t i = 0; i + CREDS_RUN_MIN <= row.len; i++) {
			if (contains_ci(pw, slice_sub(row, i, CREDS_RUN_MIN)) ||
			    contains_ci(pw, slice_make(rev + i, CREDS_RUN_MIN)))
				return 1;
		}
	}
	return 0;
}

enum creds_reason
creds_check_password(struct slice user, struct slice domain, struct slice pw)
{
	struct folded f;
	enum creds_reason r;
	unsigned cls = 0, ncls = 0;
	size_t nchars = 0;

	if (pw.len > CREDS_PW_MAX)
		return CREDS_E_LONG;
	for (size_t i = 0; i < pw.len; ) {
		uint8_t c = pw.p[i];
		size_t n = utf8_seq_len(pw.p + i, pw.len - i);

		if (n == 0 || c < 0x20 || c == 0x7f)
			return CREDS_E_CHARSET;
		if (c >= 'a' && c <= 'z')
			cls |= 1;
		else if (c >= 'A' && c <= 'Z')
			cls |= 2;
		else if (c >= '0' && c <= '9')
			cls |= 4;
		else
			cls |= 8;
		nchars++;
		i += n;
	}
	if (nchars < CREDS_PW_MIN)
		return CREDS_E_SHORT;
	fold_pw(pw, &f);
	if (is_common(&f))
		r = CREDS_E_COMMON;
	else if (user.len >= 3 && contains_any(&f, user))
		r = CREDS_E_USERNAME;
	else if (has_domain(&f, domain))
		r = CREDS_E_DOMAIN;
	else if (has_repeat(pw))
		r = CREDS_E_REPEAT;
	else if (has_sequence(pw))
		r = CREDS_E_SEQUENCE;
	else if (has_keyboard_run(pw))
		r = CREDS_E_KEYBOARD;
	else {
		for (unsigned b = cls; b != 0; b &= b - 1)
			ncls++;
		r = ncls < 3 ? CREDS_E_CLASSES : CREDS_OK;
	}
	explicit_bzero(&f, sizeof(f));
	return r;
}

/* Look-alikes left out: 0 O o, 1 l I i.  Symbols need no quoting. */
static const char gen_letters[] =
    "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz";
static const char gen_alphabet[] =
    "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789-_.~";

struct rng {
	uint8_t	buf[256];
	size_t	pos;
};

static int
rng_byte(struct rng *g, uint8_t *ret)
{
	if (g->pos == sizeof(g->buf)) {
		size_t got = 0;

		while (got < sizeof(g->buf)) {
			ssize_t n = getrandom(g->buf + got,
			    sizeof(g->buf) - got, 0);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return n < 0 ? -errno : -EIO;
			got += (size_t)n;
		}
		g->pos = 0;
	}
	*ret = g->buf[g->pos++];
	return 0;
}

/* Uniform index below n (n <= 256) by rejection sampling. */
static int
rng_below(struct rng *g, size_t n, size_t *ret)
{
	size_t limit = 256 - 256 % n;
	uint8_t b;
	int r;

	do {
		if ((r = rng_byte(g, &b)) < 0)
			return r;
	} while (b >= limit);
	*ret = b % n;
	return 0;
}

int
creds_generate_password(char *out, size_t cap, size_t len)
{
	struct rng g = { .pos = sizeof(g.buf) };
	int r = -EAGAIN;

	if (len == 0)
		len = CREDS_GEN_DEFAULT;
	if (out == NULL || len < GEN_MIN || len > CREDS_PW_MAX)
		return -EINVAL;
	if (cap <= len)
		return -SBC_ELIMIT;
	for (int tries = 0; tries < GEN_TRIES; tries++) {
		unsigned cls = 0;
		size_t k;

		if ((r = rng_below(&g, sizeof(gen_letters) - 1, &k)) < 0)
			break;
		out[0] = gen_letters[k];
		for (size_t i = 1; i < len; i++) {
			if ((r = rng_below(&g, sizeof(gen_alphabet) - 1,
			    &k)) < 0)
				break;
			out[i] = gen_alphabet[k];
		}
		if (r < 0)
			break;
		out[len] = '\0';
		for (size_t i = 0; i < len; i++) {
			uint8_t c = (uint8_t)out[i];

			cls |= c >= 'a' && c <= 'z' ? 1u :
			    c >= 'A' && c <= 'Z' ? 2u :
			    c >= '0' && c <= '9' ? 4u : 8u;
		}
		if (cls == 15 && creds_check_password(SLICE_NULL, SLICE_NULL,
		    slice_make(out, len)) == CREDS_OK) {
			explicit_bzero(&g, sizeof(g));
			return (int)len;
		}
		r = -EAGAIN;
	}
	explicit_bzero(&g, sizeof(g));
	explicit_bzero(out, cap);
	return r;
}

int
creds_ha1_all(struct slice user, struct slice realm, struct slice pw,
    struct ha1_set *out)
{
	char hex[DIGEST_HEX_BUF];
	int r;

	if (out == NULL)
		return -EINVAL;
	if (user.len == 0 || user.len > DIGEST_USER_MAX || realm.len == 0 ||
	    realm.len > DIGEST_REALM_MAX || pw.len > CREDS_PW_MAX) {
		explicit_bzero(out, sizeof(*out));
		return -EINVAL;
	}
	if ((r = digest_ha1(DIGEST_ALG_MD5, user, realm, pw, hex)) < 0)
		goto fail;
	memcpy(out->md5, hex, sizeof(out->md5));
	if ((r = digest_ha1(DIGEST_ALG_SHA256, user, realm, pw, hex)) < 0)
		goto fail;
	memcpy(out->sha256, hex, sizeof(out->sha256));
	explicit_bzero(hex, sizeof(hex));
	return 0;
fail:
	explicit_bzero(hex, sizeof(hex));
	explicit_bzero(out, sizeof(*out));
	return r;
}
