/*
 * A tiny bounded JSON writer into a caller-provided buffer.
 *
 * It owns nothing: no malloc, no I/O, no locale.  It writes objects,
 * arrays, strings, integers, booleans and null, and keeps commas and
 * nesting right.  It never writes past the buffer: when a value does not
 * fit, the writer enters a sticky error state, every later call is a
 * no-op, and jsonw_finish() reports the error.  The buffer is always
 * left NUL-terminated (when cap > 0), so a half-written document is
 * still a C string, but only a successful jsonw_finish() means the JSON
 * is complete.
 *
 * Strings are escaped so that the output is always valid JSON in valid
 * UTF-8, whatever bytes come in:
 *   - '"' and '\' are escaped; \b \f \n \r \t use their short forms;
 *     other control characters (U+0000-U+001F, U+007F) become \u00XX;
 *   - valid UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF)
 *     is copied as is, except the C1 controls U+0080-U+009F, the line
 *     and paragraph separators U+2028/U+2029 and the bidirectional
 *     overrides U+202A-U+202E and U+2066-U+2069, which are written as
 *     \uXXXX so that a log viewer cannot be tricked by them;
 *   - each byte that is not part of a valid UTF-8 sequence is written
 *     as \u00XX, XX being the byte value (so 0xff becomes "\u00ff").
 *     Because valid UTF-8 is written raw, an escape \u00a0-\u00ff in our
 *     output always stands for one raw invalid input byte, and \u0080-
 *     \u009f for either such a byte or a C1 control: the evidence is
 *     kept byte for byte instead of being replaced by U+FFFD.
 * Object keys go through the same escaping.
 */
#ifndef SW_CORE_JSONW_H
#define SW_CORE_JSONW_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define JSONW_MAX_DEPTH		32

/* Sticky error states (jsonw.err). */
enum jsonw_err {
	JSONW_OK = 0,
	JSONW_EOVERFLOW,	/* the buffer is too small */
	JSONW_ESTATE,		/* misuse: value without key, unbalanced close... */
};

struct jsonw {
	char		*buf;
	size_t		 cap;		/* bytes in buf, the NUL included */
	size_t		 len;		/* bytes written, NUL excluded */
	uint32_t	 nonempty;	/* bit d: the container at depth d has members */
	uint32_t	 isobj;		/* bit d: the container at depth d is an object */
	uint8_t		 depth;		/* open containers */
	uint8_t		 want_value;	/* a key was written, its value is due */
	uint8_t		 done;		/* a complete top-level value was written */
	uint8_t		 err;		/* enum jsonw_err, sticky */
};

/* Start writing into buf[0..cap).  cap may be 0 (everything overflows). */
void	jsonw_init(struct jsonw *w, char *buf, size_t cap);

void	jsonw_obj_begin(struct jsonw *w);
void	jsonw_obj_end(struct jsonw *w);
void	jsonw_arr_begin(struct jsonw *w);
void	jsonw_arr_end(struct jsonw *w);

/* An object member name; the next call must write its value. */
void	jsonw_key(struct jsonw *w, const char *k);

/* A NUL-terminated string; NULL writes null. */
void	jsonw_str(struct jsonw *w, const char *s);
/* n bytes of arbitrary content (may contain NUL). */
void	jsonw_strn(struct jsonw *w, const void *p, size_t n);
/*
 * At most max input bytes of p[0..n); when n > max the string is cut at
 * the last whole UTF-8 character that fits and "..." is appended.
 * Returns 1 when it truncated, 0 otherwise.
 */
int	jsonw_strn_trunc(struct jsonw *w, const void *p, size_t n, size_t max);
/* p[0..n) followed by "...": for a value the caller already cut. */
void	jsonw_strn_ellipsis(struct jsonw *w, const void *p, size_t n);

void	jsonw_int(struct jsonw *w, long long v);
void	jsonw_uint(struct jsonw *w, unsigned long long v);
void	jsonw_bool(struct jsonw *w, int v);
void	jsonw_null(struct jsonw *w);

/* key + value shorthands */
void	jsonw_kv_str(struct jsonw *w, const char *k, const char *s);
void	jsonw_kv_strn(struct jsonw *w, const char *k, const void *p, size_t n);
void	jsonw_kv_int(struct jsonw *w, const char *k, long long v);
void	jsonw_kv_uint(struct jsonw *w, const char *k, unsigned long long v);
void	jsonw_kv_bool(struct jsonw *w, const char *k, int v);
void	jsonw_kv_null(struct jsonw *w, const char *k);

/*
 * Append raw bytes that are not JSON (e.g. the '\n' ending a JSON line)
 * after the top-level value is complete.  Subject to the same bound.
 */
void	jsonw_raw_tail(struct jsonw *w, const char *s, size_t n);

/*
 * Check the document is complete and NUL-terminate it.
 * Returns its length (NUL excluded), -SBC_ELIMIT when the buffer was too
 * small, -EINVAL on misuse (unbalanced containers, missing value).
 */
ssize_t	jsonw_finish(struct jsonw *w);

/*
 * Length of the valid UTF-8 sequence at p[0..n), 1-4, or 0 when p does
 * not start with one (or n == 0).
 */
size_t	utf8_seq_len(const uint8_t *p, size_t n);

/*
 * The longest prefix of p[0..n) of at most max bytes that does not cut a
 * valid UTF-8 sequence in two.
 */
size_t	utf8_cut(const uint8_t *p, size_t n, size_t max);

#endif
