/*
 * The class table is computed by the preprocessor from the grammar's
 * own definitions, so it cannot drift from the comments in ctype.h.
 */
#include "core/ctype.h"

#define IS_DIGIT(c)	((c) >= '0' && (c) <= '9')
#define IS_ALPHA(c)	(((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))
#define IS_ALNUM(c)	(IS_DIGIT(c) || IS_ALPHA(c))
#define IS_HEX(c)	(IS_DIGIT(c) || ((c) >= 'a' && (c) <= 'f') || ((c) >= 'A' && (c) <= 'F'))
#define IS_MARK(c)	((c) == '-' || (c) == '_' || (c) == '.' || (c) == '!' || \
			 (c) == '~' || (c) == '*' || (c) == '\'' || (c) == '(' || (c) == ')')
#define IS_TOKEN(c)	(IS_ALNUM(c) || (c) == '-' || (c) == '.' || (c) == '!' || \
			 (c) == '%' || (c) == '*' || (c) == '_' || (c) == '+' || \
			 (c) == '`' || (c) == '\'' || (c) == '~')
#define IS_WORDX(c)	((c) == '(' || (c) == ')' || (c) == '<' || (c) == '>' || \
			 (c) == ':' || (c) == '\\' || (c) == '"' || (c) == '/' || \
			 (c) == '[' || (c) == ']' || (c) == '?' || (c) == '{' || (c) == '}')
#define IS_RESERVED(c)	((c) == ';' || (c) == '/' || (c) == '?' || (c) == ':' || \
			 (c) == '@' || (c) == '&' || (c) == '=' || (c) == '+' || \
			 (c) == '$' || (c) == ',')

#define CLS(c) ((uint16_t)( \
	(IS_DIGIT(c) ? CT_DIGIT : 0) | \
	(IS_ALPHA(c) ? CT_ALPHA : 0) | \
	(IS_HEX(c) ? CT_HEX : 0) | \
	(IS_TOKEN(c) ? CT_TOKEN : 0) | \
	(((c) == ' ' || (c) == '\t') ? CT_WS : 0) | \
	(((c) == ' ' || (c) == '\t' || (c) == '\r' || (c) == '\n') ? CT_LWS : 0) | \
	((IS_ALNUM(c) || IS_MARK(c)) ? CT_UNRESERVED : 0) | \
	(((c) == '&' || (c) == '=' || (c) == '+' || (c) == '$' || (c) == ',' || \
	  (c) == ';' || (c) == '?' || (c) == '/') ? CT_USER_UNRES : 0) | \
	(((c) == '&' || (c) == '=' || (c) == '+' || (c) == '$' || (c) == ',') ? \
	  CT_PASS_UNRES : 0) | \
	(((c) == '[' || (c) == ']' || (c) == '/' || (c) == ':' || (c) == '&' || \
	  (c) == '+' || (c) == '$') ? CT_PARAM_UNRES : 0) | \
	(((c) == '[' || (c) == ']' || (c) == '/' || (c) == '?' || (c) == ':' || \
	  (c) == '+' || (c) == '$') ? CT_HNV_UNRES : 0) | \
	((IS_TOKEN(c) || IS_WORDX(c)) ? CT_WORD : 0) | \
	((IS_ALNUM(c) || (c) == '-' || (c) == '.') ? CT_HOST : 0) | \
	(((c) >= 0x20 && (c) != 0x7f) ? CT_TEXT : 0) | \
	(IS_RESERVED(c) ? CT_RESERVED : 0)))

#define R4(n)	CLS(n), CLS((n) + 1), CLS((n) + 2), CLS((n) + 3)
#define R16(n)	R4(n), R4((n) + 4), R4((n) + 8), R4((n) + 12)
#define R64(n)	R16(n), R16((n) + 16), R16((n) + 32), R16((n) + 48)

const uint16_t ctype_table[256] = {
	R64(0), R64(64), R64(128), R64(192)
};
