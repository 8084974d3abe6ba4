/*
 * Dialled numbers to E.164 (FRAUD1): the one form every destination
 * rule is written in, so that "+882...", "00882...", "011882...",
 * "0 0882-...", "%2B882..." and tel:+882... all meet the same rule.
 *
 * Pure and bounded: no allocation, the input is a user part or a tel:
 * number as it came (still %-escaped), the output at most 15 digits.
 */
#ifndef SW_POLICY_E164_H
#define SW_POLICY_E164_H

#include <stddef.h>
#include <stdint.h>

#include "core/slice.h"

#define E164_MAX_DIGITS		15	/* ITU-T E.164 */
#define E164_MAX_INPUT		64	/* dial strings longer are refused */
#define E164_PREFIX_MAX		5
#define E164_MAX_INTL		3

/* How a site dials: its country and the prefixes its phones use. */
struct e164_plan {
	char	cc[4];				/* country code: "49", "1" */
	char	intl[E164_MAX_INTL][E164_PREFIX_MAX + 1];  /* "00", "011" */
	size_t	nintl;
	char	national[E164_PREFIX_MAX + 1];	/* trunk prefix "0", "1"; "" none */
	uint8_t	ext_max;			/* longest internal extension */
};

enum e164_kind {
	E164_NUMBER = 1,	/* out: the E.164 digits, no '+' */
	E164_EXTENSION,		/* out: the digits (internal, short) */
	E164_SERVICE,		/* contains '*' or '#': a feature code */
};

/*
 * %-decode, drop RFC 3966 visual separators ("-" "." "(" ")" and
 * spaces), then: "+D" is international; an international prefix, then
 * D, is international; up to ext_max digits are an extension; the
 * national prefix, then D, is cc + D; other digits are cc + D.
 * out holds E164_MAX_DIGITS + 1 bytes (NUL-terminated).
 * Returns the kind, or -EINVAL when s is not a dial string (letters,
 * a '+' not in front, nothing left) and -E2BIG beyond 15 digits.
 */
int	e164_normalize(const struct e164_plan *p, struct slice s,
	    char out[E164_MAX_DIGITS + 1]);

/* The NANP plan ("1", "011", national "1", 4-digit extensions) and the
 * common European one for country cc ("00", national "0"). */
void	e164_plan_nanp(struct e164_plan *p);
void	e164_plan_europe(struct e164_plan *p, const char *cc);

#endif
