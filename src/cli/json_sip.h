/*
 * JSON views of parsed SIP messages (for `sipwall parse`, and later
 * the evidence dump).  Wire bytes that are not UTF-8 are shown with
 * \xNN escapes so output is always valid JSON.
 */
#ifndef SW_CLI_JSON_SIP_H
#define SW_CLI_JSON_SIP_H

#include <jansson.h>

#include "sip/msg.h"

json_t	*json_slice(struct slice s);
json_t	*json_sip_uri(const struct sip_uri *u);
json_t	*json_sip_msg(const struct sip_msg *m, const struct sip_limits *lim);

#endif
