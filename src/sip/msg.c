/*
 * Name tables for methods, headers and transports, and lookups on a
 * parsed message.  Header names are matched by length first, then
 * case-insensitively, through a per-first-letter index built once.
 */
#include <stddef.h>
#include <string.h>

#include "sip/msg.h"

const struct sip_limits sip_limits_default = {
	.max_msg = 16384,
	.max_msg_stream = SIP_MAX_MSG_TCP,
	.max_hdrs = 128,
	.max_line = 8192,
	.max_uri = 1024,
	.max_via = 70,
	.max_body = 16384,
};

static const char *const method_names[SIP_M__MAX] = {
	[SIP_M_OTHER] = "",
	[SIP_M_INVITE] = "INVITE",
	[SIP_M_ACK] = "ACK",
	[SIP_M_BYE] = "BYE",
	[SIP_M_CANCEL] = "CANCEL",
	[SIP_M_OPTIONS] = "OPTIONS",
	[SIP_M_REGISTER] = "REGISTER",
	[SIP_M_PRACK] = "PRACK",
	[SIP_M_SUBSCRIBE] = "SUBSCRIBE",
	[SIP_M_NOTIFY] = "NOTIFY",
	[SIP_M_PUBLISH] = "PUBLISH",
	[SIP_M_INFO] = "INFO",
	[SIP_M_REFER] = "REFER",
	[SIP_M_MESSAGE] = "MESSAGE",
	[SIP_M_UPDATE] = "UPDATE",
};

/* Method names are case-sensitive (RFC 3261 7.1). */
enum sip_method
sip_method_lookup(struct slice s)
{
	for (int m = 1; m < SIP_M__MAX; m++)
		if (slice_eq(s, slice_cstr(method_names[m])))
			return (enum sip_method)m;
	return SIP_M_OTHER;
}

const char *
sip_method_name(enum sip_method m)
{
	if ((unsigned)m >= SIP_M__MAX)
		return "";
	return method_names[m];
}

struct hdr_def {
	const char	*name;
	char		 compact;	/* RFC 3261 7.3.3 and extensions, or 0 */
	uint8_t		 singleton;
};

static const struct hdr_def hdr_defs[SIP_H__MAX] = {
	[SIP_H_OTHER] = { "", 0, 0 },
	[SIP_H_ACCEPT] = { "Accept", 0, 0 },
	[SIP_H_ACCEPT_CONTACT] = { "Accept-Contact", 'a', 0 },
	[SIP_H_ACCEPT_ENCODING] = { "Accept-Encoding", 0, 0 },
	[SIP_H_ACCEPT_LANGUAGE] = { "Accept-Language", 0, 0 },
	[SIP_H_ALERT_INFO] = { "Alert-Info", 0, 0 },
	[SIP_H_ALLOW] = { "Allow", 0, 0 },
	[SIP_H_ALLOW_EVENTS] = { "Allow-Events", 'u', 0 },
	[SIP_H_AUTHENTICATION_INFO] = { "Authentication-Info", 0, 1 },
	[SIP_H_AUTHORIZATION] = { "Authorization", 0, 0 },
	[SIP_H_CALL_ID] = { "Call-ID", 'i', 1 },
	[SIP_H_CALL_INFO] = { "Call-Info", 0, 0 },
	[SIP_H_CONTACT] = { "Contact", 'm', 0 },
	[SIP_H_CONTENT_DISPOSITION] = { "Content-Disposition", 0, 1 },
	[SIP_H_CONTENT_ENCODING] = { "Content-Encoding", 'e', 0 },
	[SIP_H_CONTENT_LANGUAGE] = { "Content-Language", 0, 0 },
	[SIP_H_CONTENT_LENGTH] = { "Content-Length", 'l', 1 },
	[SIP_H_CONTENT_TYPE] = { "Content-Type", 'c', 1 },
	[SIP_H_CSEQ] = { "CSeq", 0, 1 },
	[SIP_H_DATE] = { "Date", 0, 1 },
	[SIP_H_DIVERSION] = { "Diversion", 0, 0 },
	[SIP_H_ERROR_INFO] = { "Error-Info", 0, 0 },
	[SIP_H_EVENT] = { "Event", 'o', 1 },
	[SIP_H_EXPIRES] = { "Expires", 0, 1 },
	[SIP_H_FROM] = { "From", 'f', 1 },
	[SIP_H_HISTORY_INFO] = { "History-Info", 0, 0 },
	[SIP_H_IDENTITY] = { "Identity", 'y', 0 },
	[SIP_H_IN_REPLY_TO] = { "In-Reply-To", 0, 0 },
	[SIP_H_MAX_FORWARDS] = { "Max-Forwards", 0, 1 },
	[SIP_H_MIME_VERSION] = { "MIME-Version", 0, 1 },
	[SIP_H_MIN_EXPIRES] = { "Min-Expires", 0, 1 },
	[SIP_H_MIN_SE] = { "Min-SE", 0, 1 },
	[SIP_H_ORGANIZATION] = { "Organization", 0, 1 },
	[SIP_H_P_ASSERTED_IDENTITY] = { "P-Asserted-Identity", 0, 0 },
	[SIP_H_P_PREFERRED_IDENTITY] = { "P-Preferred-Identity", 0, 0 },
	[SIP_H_PATH] = { "Path", 0, 0 },
	[SIP_H_PRIORITY] = { "Priority", 0, 1 },
	[SIP_H_PRIVACY] = { "Privacy", 0, 0 },
	[SIP_H_PROXY_AUTHENTICATE] = { "Proxy-Authenticate", 0, 0 },
	[SIP_H_PROXY_AUTHORIZATION] = { "Proxy-Authorization", 0, 0 },
	[SIP_H_PROXY_REQUIRE] = { "Proxy-Require", 0, 0 },
	[SIP_H_RACK] = { "RAck", 0, 1 },
	[SIP_H_REASON] = { "Reason", 0, 0 },
	[SIP_H_RECORD_ROUTE] = { "Record-Route", 0, 0 },
	[SIP_H_REFER_TO] = { "Refer-To", 'r', 1 },
	[SIP_H_REFERRED_BY] = { "Referred-By", 'b', 1 },
	[SIP_H_REJECT_CONTACT] = { "Reject-Contact", 'j', 0 },
	[SIP_H_REPLACES] = { "Replaces", 0, 1 },
	[SIP_H_REPLY_TO] = { "Reply-To", 0, 1 },
	[SIP_H_REQUEST_DISPOSITION] = { "Request-Disposition", 'd', 0 },
	[SIP_H_REQUIRE] = { "Require", 0, 0 },
	[SIP_H_RETRY_AFTER] = { "Retry-After", 0, 1 },
	[SIP_H_ROUTE] = { "Route", 0, 0 },
	[SIP_H_RSEQ] = { "RSeq", 0, 1 },
	[SIP_H_SERVER] = { "Server", 0, 1 },
	[SIP_H_SESSION_EXPIRES] = { "Session-Expires", 'x', 1 },
	[SIP_H_SUBJECT] = { "Subject", 's', 1 },
	[SIP_H_SUBSCRIPTION_STATE] = { "Subscription-State", 0, 1 },
	[SIP_H_SUPPORTED] = { "Supported", 'k', 0 },
	[SIP_H_TIMESTAMP] = { "Timestamp", 0, 1 },
	[SIP_H_TO] = { "To", 't', 1 },
	[SIP_H_UNSUPPORTED] = { "Unsupported", 0, 0 },
	[SIP_H_USER_AGENT] = { "User-Agent", 0, 1 },
	[SIP_H_VIA] = { "Via", 'v', 0 },
	[SIP_H_WARNING] = { "Warning", 0, 0 },
	[SIP_H_WWW_AUTHENTICATE] = { "WWW-Authenticate", 0, 0 },
};

/*
 * Index: compact letter -> id, and full names in a small open-addressed
 * table keyed by (length, first, last letter), holding lowercase names
 * with their lengths.  Built from hdr_defs by a constructor so the
 * table above stays the single source of truth.
 */
#define HDR_SLOTS	256
static uint8_t hdr_compact[26];
static uint8_t hdr_slot[HDR_SLOTS];		/* id, 0 = empty */
static uint8_t hdr_len[SIP_H__MAX];
static char hdr_lower[SIP_H__MAX][24];

static unsigned
hdr_key(size_t len, uint8_t first, uint8_t last)
{
	return (unsigned)(len * 31u + (first | 0x20u) * 7u + (last | 0x20u)) &
	    (HDR_SLOTS - 1);
}

__attribute__((constructor)) static void
hdr_index_build(void)
{
	for (int id = 1; id < SIP_H__MAX; id++) {
		const struct hdr_def *d = &hdr_defs[id];
		size_t n = strlen(d->name);
		unsigned k;

		if (d->compact)
			hdr_compact[d->compact - 'a'] = (uint8_t)id;
		hdr_len[id] = (uint8_t)n;
		for (size_t i = 0; i < n && i < sizeof(hdr_lower[0]) - 1; i++)
			hdr_lower[id][i] = (char)ctype_lower((uint8_t)d->name[i]);
		k = hdr_key(n, (uint8_t)d->name[0], (uint8_t)d->name[n - 1]);
		while (hdr_slot[k] != 0)
			k = (k + 1) & (HDR_SLOTS - 1);
		hdr_slot[k] = (uint8_t)id;
	}
}

static int
hdr_name_eq(struct slice name, unsigned id)
{
	const char *l = hdr_lower[id];

	if (name.len != hdr_len[id])
		return 0;
	for (size_t i = 0; i < name.len; i++)
		if (ctype_lower(name.p[i]) != (uint8_t)l[i])
			return 0;
	return 1;
}

enum sip_hdr_id
sip_hdr_lookup(struct slice name)
{
	unsigned k;

	if (name.len == 0)
		return SIP_H_OTHER;
	if (name.len == 1) {
		unsigned b = (unsigned)(ctype_lower(name.p[0]) - 'a');

		return b < 26 ? (enum sip_hdr_id)hdr_compact[b] : SIP_H_OTHER;
	}
	if (name.len >= sizeof(hdr_lower[0]))
		return SIP_H_OTHER;
	k = hdr_key(name.len, name.p[0], name.p[name.len - 1]);
	for (; hdr_slot[k] != 0; k = (k + 1) & (HDR_SLOTS - 1))
		if (hdr_name_eq(name, hdr_slot[k]))
			return (enum sip_hdr_id)hdr_slot[k];
	return SIP_H_OTHER;
}

const char *
sip_hdr_name(enum sip_hdr_id id)
{
	if ((unsigned)id >= SIP_H__MAX)
		return "";
	return hdr_defs[id].name;
}

int
sip_hdr_is_singleton(enum sip_hdr_id id)
{
	return (unsigned)id < SIP_H__MAX && hdr_defs[id].singleton;
}

static const char *const transport_names[SIP_TP__MAX] = {
	[SIP_TP_OTHER] = "",
	[SIP_TP_UDP] = "UDP",
	[SIP_TP_TCP] = "TCP",
	[SIP_TP_TLS] = "TLS",
	[SIP_TP_SCTP] = "SCTP",
	[SIP_TP_WS] = "WS",
	[SIP_TP_WSS] = "WSS",
};

const char *
sip_transport_name(enum sip_transport t)
{
	if ((unsigned)t >= SIP_TP__MAX)
		return "";
	return transport_names[t];
}

enum sip_transport
sip_transport_lookup(struct slice s)
{
	for (int t = 1; t < SIP_TP__MAX; t++)
		if (slice_eq_ci(s, slice_cstr(transport_names[t])))
			return (enum sip_transport)t;
	return SIP_TP_OTHER;
}

const struct sip_hdr *
sip_msg_hdr(const struct sip_msg *m, enum sip_hdr_id id)
{
	if ((unsigned)id >= SIP_H__MAX || id == SIP_H_OTHER ||
	    m->first[id] == 0)
		return NULL;
	return &m->hdrs[m->first[id] - 1];
}

const struct sip_hdr *
sip_msg_hdr_next(const struct sip_msg *m, const struct sip_hdr *prev)
{
	size_t i = (size_t)(prev - m->hdrs) + 1;

	for (; i < m->nhdrs; i++) {
		if (m->hdrs[i].id != prev->id)
			continue;
		if (prev->id != SIP_H_OTHER ||
		    slice_eq_ci(m->hdrs[i].name, prev->name))
			return &m->hdrs[i];
	}
	return NULL;
}

const struct sip_hdr *
sip_msg_hdr_by_name(const struct sip_msg *m, struct slice name)
{
	enum sip_hdr_id id = sip_hdr_lookup(name);

	if (id != SIP_H_OTHER)
		return sip_msg_hdr(m, id);
	for (size_t i = 0; i < m->nhdrs; i++)
		if (m->hdrs[i].id == SIP_H_OTHER &&
		    slice_eq_ci(m->hdrs[i].name, name))
			return &m->hdrs[i];
	return NULL;
}

const char *
sip_reason_phrase(unsigned status)
{
	switch (status) {
	case 100: return "Trying";
	case 180: return "Ringing";
	case 181: return "Call Is Being Forwarded";
	case 182: return "Queued";
	case 183: return "Session Progress";
	case 199: return "Early Dialog Terminated";
	case 200: return "OK";
	case 202: return "Accepted";
	case 204: return "No Notification";
	case 300: return "Multiple Choices";
	case 301: return "Moved Permanently";
	case 302: return "Moved Temporarily";
	case 305: return "Use Proxy";
	case 380: return "Alternative Service";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 402: return "Payment Required";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 407: return "Proxy Authentication Required";
	case 408: return "Request Timeout";
	case 410: return "Gone";
	case 412: return "Conditional Request Failed";
	case 413: return "Request Entity Too Large";
	case 414: return "Request-URI Too Long";
	case 415: return "Unsupported Media Type";
	case 416: return "Unsupported URI Scheme";
	case 420: return "Bad Extension";
	case 421: return "Extension Required";
	case 422: return "Session Interval Too Small";
	case 423: return "Interval Too Brief";
	case 428: return "Use Identity Header";
	case 429: return "Provide Referrer Identity";
	case 433: return "Anonymity Disallowed";
	case 480: return "Temporarily Unavailable";
	case 481: return "Call/Transaction Does Not Exist";
	case 482: return "Loop Detected";
	case 483: return "Too Many Hops";
	case 484: return "Address Incomplete";
	case 485: return "Ambiguous";
	case 486: return "Busy Here";
	case 487: return "Request Terminated";
	case 488: return "Not Acceptable Here";
	case 489: return "Bad Event";
	case 491: return "Request Pending";
	case 493: return "Undecipherable";
	case 494: return "Security Agreement Required";
	case 500: return "Server Internal Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Server Time-out";
	case 505: return "Version Not Supported";
	case 513: return "Message Too Large";
	case 580: return "Precondition Failure";
	case 600: return "Busy Everywhere";
	case 603: return "Decline";
	case 604: return "Does Not Exist Anywhere";
	case 606: return "Not Acceptable";
	case 607: return "Unwanted";
	default:
		if (status >= 100 && status < 700) {
			static const char *const cls[] = { "Provisional",
			    "Success", "Redirection", "Client Error",
			    "Server Error", "Global Failure" };
			return cls[status / 100 - 1];
		}
		return "Unknown";
	}
}
