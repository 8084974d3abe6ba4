#include "sip/hide.h"

/*
 * The default list: what the far end needs to understand the body and
 * the request, nothing that describes the sender's network.  Supported
 * and Require are not passed: they name extensions this B2BUA would
 * have to take part in (100rel, timer), and it answers for itself.
 */
static const uint8_t pass[SIP_H__MAX] = {
	[SIP_H_ACCEPT] = 1,
	[SIP_H_ACCEPT_ENCODING] = 1,
	[SIP_H_ACCEPT_LANGUAGE] = 1,
	[SIP_H_ALLOW] = 1,
	[SIP_H_ALLOW_EVENTS] = 1,
	[SIP_H_CONTENT_DISPOSITION] = 1,
	[SIP_H_CONTENT_ENCODING] = 1,
	[SIP_H_CONTENT_LANGUAGE] = 1,
	[SIP_H_CONTENT_TYPE] = 1,
	[SIP_H_EVENT] = 1,
	[SIP_H_EXPIRES] = 1,
	[SIP_H_MIME_VERSION] = 1,
	[SIP_H_PRIORITY] = 1,
	[SIP_H_PRIVACY] = 1,
	[SIP_H_REASON] = 1,
	[SIP_H_RETRY_AFTER] = 1,
	[SIP_H_SUBJECT] = 1,
	[SIP_H_SUBSCRIPTION_STATE] = 1,
	[SIP_H_UNSUPPORTED] = 1,
};

int
hide_header_passes(const struct hide_list *l, const struct sip_hdr *h)
{
	if (h->id != SIP_H_OTHER && h->id < SIP_H__MAX && pass[h->id])
		return 1;
	/* an asserted identity is only believed from a trusted network
	 * (RFC 3325 9.1); from anywhere else it is a spoofing vector */
	if (h->id == SIP_H_P_ASSERTED_IDENTITY)
		return l != NULL && l->trusted_from;
	if (l == NULL)
		return 0;
	for (size_t i = 0; i < l->n; i++) {
		struct slice n = l->extra[i];

		if (h->id == SIP_H_OTHER ? slice_eq_ci(h->name, n) :
		    slice_eq_cstr_ci(n, sip_hdr_name((enum sip_hdr_id)h->id)))
			return 1;
	}
	return 0;
}
