/*
 * Locale-free character classes for SIP, SDP and config grammars.
 * One table lookup per byte; never depends on setlocale().
 */
#ifndef SW_CORE_CTYPE_H
#define SW_CORE_CTYPE_H

#include <stdint.h>

enum {
	CT_DIGIT	= 1u << 0,
	CT_ALPHA	= 1u << 1,
	CT_HEX		= 1u << 2,
	CT_TOKEN	= 1u << 3,	/* RFC 3261 token */
	CT_WS		= 1u << 4,	/* SP HT */
	CT_LWS		= 1u << 5,	/* SP HT CR LF */
	CT_UNRESERVED	= 1u << 6,	/* alphanum mark */
	CT_USER_UNRES	= 1u << 7,	/* & = + $ , ; ? / */
	CT_PASS_UNRES	= 1u << 8,	/* & = + $ , */
	CT_PARAM_UNRES	= 1u << 9,	/* [ ] / : & + $ */
	CT_HNV_UNRES	= 1u << 10,	/* [ ] / ? : + $ */
	CT_WORD		= 1u << 11,	/* RFC 3261 word (Call-ID) */
	CT_HOST		= 1u << 12,	/* alphanum - . */
	CT_TEXT		= 1u << 13,	/* TEXT-UTF8char / UTF8-CONT, i.e. not CTL; HT excluded */
	CT_RESERVED	= 1u << 14,	/* ; / ? : @ & = + $ , */
	CT_ALNUM	= CT_DIGIT | CT_ALPHA,
};

extern const uint16_t ctype_table[256];

static inline int
ctype_is(uint8_t c, unsigned cls)
{
	return (ctype_table[c] & cls) != 0;
}

static inline uint8_t
ctype_lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

static inline int
ctype_hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = ctype_lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

#endif
