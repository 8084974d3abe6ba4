/*
 * Parser entry points beyond sip_msg_parse (declared in msg.h).
 */
#ifndef SW_SIP_PARSE_H
#define SW_SIP_PARSE_H

#include "sip/msg.h"

/* Number of leading CR/LF bytes (keep-alives, RFC 3261 7.5 / RFC 5626). */
size_t	sip_skip_crlf(const uint8_t *buf, size_t len);

/*
 * Stream framing: length of the message at the start of buf[0..len)
 * from its head and Content-Length.  *scan_from carries how far a
 * previous call looked for the end of the head (start at 0), so a slow
 * sender costs linear work.
 * Returns >0  the whole message's length (it may not all be there yet)
 *          0  the head is not complete yet
 *         <0  framing failed; *reterr says why (the stream is lost)
 */
ssize_t	sip_stream_frame(const uint8_t *buf, size_t len,
	    const struct sip_limits *lim, size_t *scan_from,
	    struct sip_perr *reterr);

#endif
