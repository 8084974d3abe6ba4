#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/ctype.h"
#include "policy/e164.h"

/* RFC 3966 visual-separator, plus the space phones put in */
static int
is_separator(uint8_t c)
{
	return c == '-' || c == '.' || c == '(' || c == ')' || c == ' ';
}

/*
 * The dial string without escapes and separators into buf (at most
 * E164_MAX_INPUT characters): '+' only in front, digits, '*', '#'.
 * Length, or -EINVAL.
 */
static int
clean(struct slice s, char *buf)
{
	size_t n = 0;

	if (s.len > 3 * E164_MAX_INPUT)
		return -EINVAL;
	for (size_t i = 0; i < s.len; i++) {
		uint8_t c = s.p[i];

		if (c == '%') {
			int hi, lo;

			/* an escape hides nothing: %2B is '+', %30 is '0' */
			if (i + 2 >= s.len ||
			    (hi = ctype_hexval(s.p[i + 1])) < 0 ||
			    (lo = ctype_hexval(s.p[i + 2])) < 0)
				return -EINVAL;
			c = (uint8_t)(hi * 16 + lo);
			i += 2;
		}
		if (is_separator(c))
			continue;
		if (c == '+') {
			if (n != 0)
				return -EINVAL;
		} else if (!(c >= '0' && c <= '9') && c != '*' && c != '#')
			return -EINVAL;
		if (n >= E164_MAX_INPUT)
			return -EINVAL;
		buf[n++] = (char)c;
	}
	buf[n] = '\0';
	return n > 0 && !(n == 1 && buf[0] == '+') ? (int)n : -EINVAL;
}

static int
put(char out[E164_MAX_DIGITS + 1], const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la + lb == 0)
		return -EINVAL;
	if (la + lb > E164_MAX_DIGITS)
		return -E2BIG;
	memcpy(out, a, la);
	memcpy(out + la, b, lb);
	out[la + lb] = '\0';
	return E164_NUMBER;
}

static int
starts(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return n > 0 && strncmp(s, prefix, n) == 0;
}

int
e164_normalize(const struct e164_plan *p, struct slice s,
    char out[E164_MAX_DIGITS + 1])
{
	char buf[E164_MAX_INPUT + 1];
	int n = clean(s, buf);
	size_t best = 0;

	out[0] = '\0';
	if (n < 0)
		return n;
	if (strchr(buf, '*') != NULL || strchr(buf, '#') != NULL) {
		if ((size_t)n > E164_MAX_DIGITS)
			return -E2BIG;
		memcpy(out, buf, (size_t)n + 1);
		return E164_SERVICE;
	}
	if (buf[0] == '+')
		return put(out, "", buf + 1);
	/* the longest international prefix that matches ("011" before
	 * "0" if a plan had both) */
	for (size_t i = 0; i < p->nintl; i++) {
		size_t l = strlen(p->intl[i]);

		if (l > best && starts(buf, p->intl[i]))
			best = l;
	}
	if (best > 0)
		return put(out, "", buf + best);
	/* short: an extension, even when it starts like the trunk prefix
	 * (NANP extension 1234 is not +1 234) */
	if ((size_t)n <= p->ext_max) {
		memcpy(out, buf, (size_t)n + 1);
		return E164_EXTENSION;
	}
	if (starts(buf, p->national))
		return put(out, p->cc, buf + strlen(p->national));
	return put(out, p->cc, buf);
}

void
e164_plan_nanp(struct e164_plan *p)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->cc, sizeof(p->cc), "1");
	snprintf(p->intl[0], sizeof(p->intl[0]), "011");
	p->nintl = 1;
	snprintf(p->national, sizeof(p->national), "1");
	p->ext_max = 4;
}

void
e164_plan_europe(struct e164_plan *p, const char *cc)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->cc, sizeof(p->cc), "%s", cc);
	snprintf(p->intl[0], sizeof(p->intl[0]), "00");
	p->nintl = 1;
	snprintf(p->national, sizeof(p->national), "0");
	p->ext_max = 4;
}
