/*
 * A bounded output buffer: writes past cap set a sticky overflow flag
 * and are dropped, so a builder checks once at the end.
 */
#ifndef SW_CORE_WBUF_H
#define SW_CORE_WBUF_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/slice.h"

struct wbuf {
	uint8_t	*p;
	size_t	 n;
	size_t	 cap;
	int	 overflow;
};

static inline void
wbuf_init(struct wbuf *w, void *buf, size_t cap)
{
	w->p = buf;
	w->n = 0;
	w->cap = cap;
	w->overflow = 0;
}

static inline void
wbuf_put(struct wbuf *w, const void *data, size_t len)
{
	if (w->overflow || len > w->cap - w->n) {
		w->overflow = 1;
		return;
	}
	if (len > 0)
		memcpy(w->p + w->n, data, len);
	w->n += len;
}

static inline void
wbuf_str(struct wbuf *w, const char *s)
{
	wbuf_put(w, s, strlen(s));
}

static inline void
wbuf_slice(struct wbuf *w, struct slice s)
{
	wbuf_put(w, s.p, s.len);
}

static inline void
wbuf_byte(struct wbuf *w, uint8_t c)
{
	wbuf_put(w, &c, 1);
}

__attribute__((format(printf, 2, 3))) static inline void
wbuf_fmt(struct wbuf *w, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (w->overflow)
		return;
	va_start(ap, fmt);
	r = vsnprintf((char *)w->p + w->n, w->cap - w->n, fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= w->cap - w->n) {
		w->overflow = 1;
		return;
	}
	w->n += (size_t)r;
}

#endif
