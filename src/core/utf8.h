/*
 * UTF-8 well-formedness (RFC 3629): no overlong forms, no surrogates,
 * nothing above U+10FFFF.  Stricter than RFC 3261's UTF8-NONASCII on
 * purpose: overlong encodings are the classic way past a text filter.
 */
#ifndef SW_CORE_UTF8_H
#define SW_CORE_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length of the well-formed sequence at p[0..n) (1 for ASCII), or 0. */
static inline size_t
utf8_seq_len(const uint8_t *p, size_t n)
{
	uint8_t c = p[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

#endif
