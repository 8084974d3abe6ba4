/*
 * Bounded JSON writer (see jsonw.h for the escaping contract).
 *
 * Owns: structure checks (commas, nesting, key/value order), escaping,
 * the bound.  Does not own: pretty printing, number formats other than
 * integers, reading JSON.
 */
#include <errno.h>
#include <string.h>

#include "core/err.h"
#include "core/jsonw.h"

static const char hexdig[] = "0123456789abcdef";

void
jsonw_init(struct jsonw *w, char *buf, size_t cap)
{
	memset(w, 0, sizeof(*w));
	w->buf = buf;
	w->cap = cap;
	if (cap > 0)
		buf[0] = '\0';
}

/* Room for payload bytes; one byte of cap is always kept for the NUL. */
static size_t
jsonw_room(const struct jsonw *w)
{
	return w->cap > 0 ? w->cap - 1 - w->len : 0;
}

/* 1: byte is copied as is inside a string (printable ASCII but " \) */
static const uint8_t jsonw_plain[256] = {
	[0x20] = 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,	/* 20-2f */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,		/* 30-3f */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,		/* 40-4f */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,		/* 50-5f */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,		/* 60-6f */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,		/* 70-7f */
};

static int
jsonw_put(struct jsonw *w, const void *p, size_t n)
{
	if (w->err != JSONW_OK)
		return -1;
	if (n > jsonw_room(w)) {
		w->err = JSONW_EOVERFLOW;
		return -1;
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
	w->buf[w->len] = '\0';
	return 0;
}

static int
jsonw_putc(struct jsonw *w, char c)
{
	return jsonw_put(w, &c, 1);
}

static void
jsonw_misuse(struct jsonw *w)
{
	if (w->err == JSONW_OK)
		w->err = JSONW_ESTATE;
}

static uint32_t
jsonw_bit(const struct jsonw *w)
{
	return (uint32_t)1 << (w->depth - 1);
}

/* Bookkeeping before any value: separator, key/value order. */
static int
jsonw_pre_value(struct jsonw *w)
{
	if (w->err != JSONW_OK)
		return -1;
	if (w->depth == 0) {
		if (w->done) {
			jsonw_misuse(w);
			return -1;
		}
		return 0;
	}
	if (w->isobj & jsonw_bit(w)) {
		if (!w->want_value) {
			jsonw_misuse(w);
			return -1;
		}
		w->want_value = 0;
		return 0;
	}
	if (w->nonempty & jsonw_bit(w)) {
		if (jsonw_putc(w, ',') < 0)
			return -1;
	}
	w->nonempty |= jsonw_bit(w);
	return 0;
}

static void
jsonw_post_value(struct jsonw *w)
{
	if (w->depth == 0 && w->err == JSONW_OK)
		w->done = 1;
}

size_t
utf8_seq_len(const uint8_t *p, size_t n)
{
	uint8_t c;

	if (n == 0)
		return 0;
	c = p[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		if (n >= 2 && (p[1] & 0xc0) == 0x80)
			return 2;
		return 0;
	}
	if (c >= 0xe0 && c <= 0xef) {
		/* E0: no overlongs (A0..BF); ED: no surrogates (80..9F) */
		uint8_t lo = c == 0xe0 ? 0xa0 : 0x80;
		uint8_t hi = c == 0xed ? 0x9f : 0xbf;

		if (n >= 3 && p[1] >= lo && p[1] <= hi &&
		    (p[2] & 0xc0) == 0x80)
			return 3;
		return 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		/* F0: no overlongs (90..BF); F4: <= U+10FFFF (80..8F) */
		uint8_t lo = c == 0xf0 ? 0x90 : 0x80;
		uint8_t hi = c == 0xf4 ? 0x8f : 0xbf;

		if (n >= 4 && p[1] >= lo && p[1] <= hi &&
		    (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80)
			return 4;
		return 0;
	}
	return 0;
}

size_t
utf8_cut(const uint8_t *p, size_t n, size_t max)
{
	size_t i = 0, l;

	if (n <= max)
		return n;
	while (i < n) {
		if ((l = utf8_seq_len(p + i, n - i)) == 0)
			l = 1;
		if (i + l > max)
			break;
		i += l;
	}
	return i;
}

static int
jsonw_put_u4(struct jsonw *w, unsigned cp)
{
	char e[6] = { '\\', 'u', hexdig[(cp >> 12) & 0xf],
	    hexdig[(cp >> 8) & 0xf], hexdig[(cp >> 4) & 0xf], hexdig[cp & 0xf] };

	return jsonw_put(w, e, sizeof(e));
}

/* Valid UTF-8 that is still written as an escape (see jsonw.h). */
static unsigned
utf8_must_escape(const uint8_t *p, size_t l)
{
	if (l == 2 && p[0] == 0xc2 && p[1] <= 0x9f)
		return 0x80 + (p[1] - 0x80);			/* C1 */
	if (l == 3 && p[0] == 0xe2 && p[1] == 0x80 &&
	    p[2] >= 0xa8 && p[2] <= 0xae)
		return 0x2000 + (p[2] - 0x80);		/* 2028-202E */
	if (l == 3 && p[0] == 0xe2 && p[1] == 0x81 &&
	    p[2] >= 0xa6 && p[2] <= 0xa9)
		return 0x2040 + (p[2] - 0x80);		/* 2066-2069 */
	return 0;
}

/* Escaped body of a string, without the quotes. */
static void
jsonw_escape(struct jsonw *w, const uint8_t *p, size_t n)
{
	size_t i = 0, run, l;
	unsigned cp;

	while (i < n && w->err == JSONW_OK) {
		/* copy the longest run of plain printable ASCII at once */
		run = i;
		while (run < n && jsonw_plain[p[run]])
			run++;
		if (run > i) {
			jsonw_put(w, p + i, run - i);
			i = run;
			continue;
		}
		switch (p[i]) {
		case '"':	jsonw_put(w, "\\\"", 2); i++; continue;
		case '\\':	jsonw_put(w, "\\\\", 2); i++; continue;
		case '\b':	jsonw_put(w, "\\b", 2); i++; continue;
		case '\f':	jsonw_put(w, "\\f", 2); i++; continue;
		case '\n':	jsonw_put(w, "\\n", 2); i++; continue;
		case '\r':	jsonw_put(w, "\\r", 2); i++; continue;
		case '\t':	jsonw_put(w, "\\t", 2); i++; continue;
		default:
			break;
		}
		if (p[i] < 0x80) {		/* other C0 controls, DEL */
			jsonw_put_u4(w, p[i]);
			i++;
			continue;
		}
		if ((l = utf8_seq_len(p + i, n - i)) == 0) {
			jsonw_put_u4(w, p[i]);	/* one invalid byte */
			i++;
			continue;
		}
		if ((cp = utf8_must_escape(p + i, l)) != 0)
			jsonw_put_u4(w, cp);
		else
			jsonw_put(w, p + i, l);
		i += l;
	}
}

void
jsonw_obj_begin(struct jsonw *w)
{
	if (jsonw_pre_value(w) < 0)
		return;
	if (w->depth >= JSONW_MAX_DEPTH) {
		jsonw_misuse(w);
		return;
	}
	if (jsonw_putc(w, '{') < 0)
		return;
	w->depth++;
	w->nonempty &= ~jsonw_bit(w);
	w->isobj |= jsonw_bit(w);
}

void
jsonw_arr_begin(struct jsonw *w)
{
	if (jsonw_pre_value(w) < 0)
		return;
	if (w->depth >= JSONW_MAX_DEPTH) {
		jsonw_misuse(w);
		return;
	}
	if (jsonw_putc(w, '[') < 0)
		return;
	w->depth++;
	w->nonempty &= ~jsonw_bit(w);
	w->isobj &= ~jsonw_bit(w);
}

static void
jsonw_close(struct jsonw *w, int obj)
{
	if (w->err != JSONW_OK)
		return;
	if (w->depth == 0 || w->want_value ||
	    !!(w->isobj & jsonw_bit(w)) != obj) {
		jsonw_misuse(w);
		return;
	}
	if (jsonw_putc(w, obj ? '}' : ']') < 0)
		return;
	w->depth--;
	jsonw_post_value(w);
}

void
jsonw_obj_end(struct jsonw *w)
{
	jsonw_close(w, 1);
}

void
jsonw_arr_end(struct jsonw *w)
{
	jsonw_close(w, 0);
}

void
jsonw_key(struct jsonw *w, const char *k)
{
	if (w->err != JSONW_OK)
		return;
	if (w->depth == 0 || !(w->isobj & jsonw_bit(w)) || w->want_value ||
	    k == NULL) {
		jsonw_misuse(w);
		return;
	}
	if ((w->nonempty & jsonw_bit(w)) && jsonw_putc(w, ',') < 0)
		return;
	w->nonempty |= jsonw_bit(w);
	jsonw_putc(w, '"');
	jsonw_escape(w, (const uint8_t *)k, strlen(k));
	jsonw_put(w, "\":", 2);
	w->want_value = 1;
}

void
jsonw_strn(struct jsonw *w, const void *p, size_t n)
{
	if (jsonw_pre_value(w) < 0)
		return;
	jsonw_putc(w, '"');
	if (n > 0)
		jsonw_escape(w, p, n);
	jsonw_putc(w, '"');
	jsonw_post_value(w);
}

void
jsonw_strn_ellipsis(struct jsonw *w, const void *p, size_t n)
{
	if (jsonw_pre_value(w) < 0)
		return;
	jsonw_putc(w, '"');
	if (n > 0)
		jsonw_escape(w, p, n);
	jsonw_put(w, "...\"", 4);
	jsonw_post_value(w);
}

int
jsonw_strn_trunc(struct jsonw *w, const void *p, size_t n, size_t max)
{
	if (n <= max) {
		jsonw_strn(w, p, n);
		return 0;
	}
	jsonw_strn_ellipsis(w, p, utf8_cut(p, n, max));
	return 1;
}

void
jsonw_str(struct jsonw *w, const char *s)
{
	if (s == NULL)
		jsonw_null(w);
	else
		jsonw_strn(w, s, strlen(s));
}

static void
jsonw_scalar(struct jsonw *w, const char *s, size_t n)
{
	if (jsonw_pre_value(w) < 0)
		return;
	jsonw_put(w, s, n);
	jsonw_post_value(w);
}

/* Decimal digits of v, right-aligned in b[0..24); returns the start. */
static char *
jsonw_utoa(unsigned long long v, char b[24])
{
	char *p = b + 24;

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return p;
}

void
jsonw_int(struct jsonw *w, long long v)
{
	char b[24], *p;

	/* negate in unsigned arithmetic: LLONG_MIN has no positive twin */
	p = jsonw_utoa(v < 0 ? 0ULL - (unsigned long long)v :
	    (unsigned long long)v, b);
	if (v < 0)
		*--p = '-';
	jsonw_scalar(w, p, (size_t)(b + 24 - p));
}

void
jsonw_uint(struct jsonw *w, unsigned long long v)
{
	char b[24], *p = jsonw_utoa(v, b);

	jsonw_scalar(w, p, (size_t)(b + 24 - p));
}

void
jsonw_bool(struct jsonw *w, int v)
{
	if (v)
		jsonw_scalar(w, "true", 4);
	else
		jsonw_scalar(w, "false", 5);
}

void
jsonw_null(struct jsonw *w)
{
	jsonw_scalar(w, "null", 4);
}

void
jsonw_kv_str(struct jsonw *w, const char *k, const char *s)
{
	jsonw_key(w, k);
	jsonw_str(w, s);
}

void
jsonw_kv_strn(struct jsonw *w, const char *k, const void *p, size_t n)
{
	jsonw_key(w, k);
	jsonw_strn(w, p, n);
}

void
jsonw_kv_int(struct jsonw *w, const char *k, long long v)
{
	jsonw_key(w, k);
	jsonw_int(w, v);
}

void
jsonw_kv_uint(struct jsonw *w, const char *k, unsigned long long v)
{
	jsonw_key(w, k);
	jsonw_uint(w, v);
}

void
jsonw_kv_bool(struct jsonw *w, const char *k, int v)
{
	jsonw_key(w, k);
	jsonw_bool(w, v);
}

void
jsonw_kv_null(struct jsonw *w, const char *k)
{
	jsonw_key(w, k);
	jsonw_null(w);
}

void
jsonw_raw_tail(struct jsonw *w, const char *s, size_t n)
{
	if (w->err != JSONW_OK)
		return;
	if (!w->done || w->depth != 0) {
		jsonw_misuse(w);
		return;
	}
	jsonw_put(w, s, n);
}

ssize_t
jsonw_finish(struct jsonw *w)
{
	if (w->err == JSONW_EOVERFLOW)
		return -SBC_ELIMIT;
	if (w->err != JSONW_OK || !w->done || w->depth != 0)
		return -EINVAL;
	return (ssize_t)w->len;
}
