/*
 * Fuzz the SIP message parser in both framings and the header
 * decoders the pipeline uses, with production limits.  Beyond "no
 * crash", check what callers rely on: every slice lies inside the
 * input, counts respect the limits, and a refusal carries a status,
 * a reason and an offset within the input.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "sip/build.h"
#include "sip/hdr.h"
#include "sip/parse.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sip_hdr hdrs[SIP_MAX_HDRS];

static void
check_msg(const struct sip_msg *m, const uint8_t *data, size_t size,
    const struct sip_limits *lim)
{
	assert(m->len <= size && m->head_len <= m->len);
	assert(m->nhdrs <= lim->max_hdrs && m->nvia <= lim->max_via);
	assert(slice_within(m->body, data, size));
	assert(slice_within(m->call_id, data, size));
	for (size_t i = 0; i < m->nhdrs; i++) {
		assert(slice_within(m->hdrs[i].name, data, size));
		assert(slice_within(m->hdrs[i].value, data, size));
	}
	if (m->is_request) {
		assert(slice_within(m->ruri.raw, data, size));
		assert(m->ruri.raw.len <= lim->max_uri);
		assert(m->ruri.scheme != SIP_URI_OTHER);
	} else
		assert(m->status >= 100 && m->status <= 699);
	assert(m->cseq <= SIP_MAX_CSEQ);
	assert(m->max_forwards <= SIP_MAX_FORWARDS);
	/* the decoders must agree with what the parser accepted */
	for (const struct sip_hdr *h = sip_msg_hdr(m, SIP_H_CONTACT); h;
	    h = sip_msg_hdr_next(m, h)) {
		struct slice cur = h->value;
		struct sip_nameaddr na;
		int r;

		while ((r = sip_nameaddr_next(&cur, lim, 1, &na)) > 0)
			assert(slice_within(na.uri.raw, data, size));
		assert(r == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct sip_limits *lim = &sip_limits_default;
	struct sip_perr err;
	struct sip_msg m;
	struct sip_echo e;
	uint8_t out[SIP_MAX_MSG_TCP];
	size_t scan = 0;
	ssize_t r;

	if (size > SIP_MAX_MSG_TCP)
		return 0;
	r = sip_msg_parse(data, size, lim, 0, &m, hdrs, SIP_MAX_HDRS, &err);
	if (r > 0) {
		check_msg(&m, data, size, lim);
		if (m.is_request) {
			struct sip_resp_opts o = { .status = 400,
			    .to_tag = SLICE_LIT("abc") };

			sip_echo_from_msg(&m, &e);
			assert(sip_resp_build(&e, &o, out, sizeof(out)) > 0);
		}
	} else {
		assert(r < 0);
		assert(err.reason != NULL && err.status >= 400 &&
		    err.status < 600 && err.off <= size);
		if (sip_echo_salvage(data, size, 32768, &e) == 0) {
			struct sip_resp_opts o = { .status = err.status,
			    .reason = err.reason, .to_tag = SLICE_LIT("abc") };

			sip_resp_build(&e, &o, out, sizeof(out));
		}
	}
	/* stream framing must agree with the parser's stream mode */
	r = sip_stream_frame(data, size, lim, &scan, &err);
	if (r > 0 && (size_t)r <= size) {
		ssize_t p = sip_msg_parse(data, (size_t)r, lim, SIP_PARSE_STREAM,
		    &m, hdrs, SIP_MAX_HDRS, &err);

		assert(p != 0);
		if (p > 0) {
			assert(p == r);
			check_msg(&m, data, size, lim);
		}
	}
	return 0;
}
