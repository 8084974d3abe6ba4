/*
 * A slice is a borrowed view (pointer + length) into bytes owned by
 * someone else, usually a receive buffer.  It must not outlive that
 * buffer; slice_dup() is the only way to keep bytes longer.
 * Every move is checked and fails instead of wrapping.
 */
#ifndef SW_CORE_SLICE_H
#define SW_CORE_SLICE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "core/ctype.h"
#include "core/err.h"

struct slice {
	const uint8_t	*p;
	size_t		 len;
};

#define SLICE_NULL	((struct slice){ .p = NULL, .len = 0 })
#define SLICE_LIT(s)	((struct slice){ .p = (const uint8_t *)(s), .len = sizeof(s) - 1 })
#define SLICE_FMT	"%.*s"
#define SLICE_ARG(s)	(int)(s).len, (const char *)(s).p

static inline struct slice
slice_make(const void *p, size_t len)
{
	return (struct slice){ .p = p, .len = len };
}

static inline struct slice
slice_cstr(const char *s)
{
	return (struct slice){ .p = (const uint8_t *)s, .len = strlen(s) };
}

static inline int
slice_empty(struct slice s)
{
	return s.len == 0;
}

/* True when s was set at all (a present-but-empty value has p != NULL). */
static inline int
slice_set(struct slice s)
{
	return s.p != NULL;
}

/*
 * Split off the first n bytes into *ret_head (may be NULL).  On
 * failure *ret_head is the empty slice, so callers never read an
 * unset head.
 */
static inline int
slice_take(struct slice *s, size_t n, struct slice *ret_head)
{
	if (n > s->len) {
		if (ret_head != NULL)
			*ret_head = (struct slice){ 0 };
		return -SBC_ESHORT;
	}
	if (ret_head != NULL)
		*ret_head = (struct slice){ .p = s->p, .len = n };
	/* an empty slice may have p == NULL: no arithmetic on it */
	if (n > 0) {
		s->p += n;
		s->len -= n;
	}
	return 0;
}

static inline int
slice_skip(struct slice *s, size_t n)
{
	return slice_take(s, n, NULL);
}

static inline int
slice_peek(struct slice s)
{
	return s.len > 0 ? s.p[0] : -1;
}

/* Consume one byte if it is c. */
static inline int
slice_eat(struct slice *s, uint8_t c)
{
	if (s->len == 0 || s->p[0] != c)
		return 0;
	s->p++;
	s->len--;
	return 1;
}

static inline struct slice
slice_sub(struct slice s, size_t off, size_t n)
{
	if (off > s.len)
		off = s.len;
	if (n > s.len - off)
		n = s.len - off;
	return (struct slice){ .p = off > 0 ? s.p + off : s.p, .len = n };
}

/* Offset of the first c in s, or -1. */
static inline ssize_t
slice_find(struct slice s, uint8_t c)
{
	const uint8_t *q;

	if (s.len == 0)
		return -1;
	q = memchr(s.p, c, s.len);
	return q != NULL ? (ssize_t)(q - s.p) : -1;
}

/* Consume bytes while the class predicate holds; return them. */
static inline struct slice
slice_span(struct slice *s, unsigned cls)
{
	size_t n = 0;
	struct slice r;

	while (n < s->len && ctype_is(s->p[n], cls))
		n++;
	r = (struct slice){ .p = s->p, .len = n };
	/* an empty slice may have p == NULL: no arithmetic on it */
	if (n > 0) {
		s->p += n;
		s->len -= n;
	}
	return r;
}

/*
 * Skip linear white space.  In a header value that the head parser
 * accepted, every CR LF is followed by SP/HT (folding), so CR and LF
 * can be treated as white space here.
 */
static inline size_t
slice_skip_lws(struct slice *s)
{
	size_t n = 0;

	while (n < s->len && ctype_is(s->p[n], CT_LWS))
		n++;
	/* an empty slice may have p == NULL: no arithmetic on it */
	if (n > 0) {
		s->p += n;
		s->len -= n;
	}
	return n;
}

static inline void
slice_rtrim_lws(struct slice *s)
{
	while (s->len > 0 && ctype_is(s->p[s->len - 1], CT_LWS))
		s->len--;
}

static inline struct slice
slice_trim_lws(struct slice s)
{
	slice_skip_lws(&s);
	slice_rtrim_lws(&s);
	return s;
}

static inline int
slice_eq(struct slice a, struct slice b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static inline int
slice_eq_ci(struct slice a, struct slice b)
{
	if (a.len != b.len)
		return 0;
	for (size_t i = 0; i < a.len; i++)
		if (ctype_lower(a.p[i]) != ctype_lower(b.p[i]))
			return 0;
	return 1;
}

static inline int
slice_eq_cstr_ci(struct slice a, const char *s)
{
	return slice_eq_ci(a, slice_cstr(s));
}

/* Compare with a string literal, length known at compile time. */
#define slice_eq_lit_ci(s, lit)	slice_eq_ci((s), SLICE_LIT(lit))

static inline int
slice_starts_ci(struct slice a, struct slice prefix)
{
	return a.len >= prefix.len &&
	    slice_eq_ci(slice_sub(a, 0, prefix.len), prefix);
}

/* True when s lies entirely within buf[0..len). */
static inline int
slice_within(struct slice s, const void *buf, size_t len)
{
	const uint8_t *b = buf;

	if (s.len == 0)
		return 1;
	return s.p >= b && s.p <= b + len && s.len <= (size_t)(b + len - s.p);
}

/*
 * Copy s into a NUL-terminated string in dst[0..cap).  Returns 0, or
 * -SBC_ELIMIT when it does not fit (dst then holds "").
 */
static inline int
slice_to_cstr(struct slice s, char *dst, size_t cap)
{
	if (cap == 0)
		return -SBC_ELIMIT;
	if (s.len >= cap) {
		dst[0] = '\0';
		return -SBC_ELIMIT;
	}
	if (s.len > 0)
		memcpy(dst, s.p, s.len);
	dst[s.len] = '\0';
	return 0;
}

#endif
