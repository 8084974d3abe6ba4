/*
 * `sipwall parse`: run the daemon's parser on a file and print what it
 * understood as JSON, or the exact error.  Operators use it to see why
 * a device's message was refused; tests use it as the parser oracle.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cmd_parse.h"
#include "cli/json_sip.h"
#include "sip/hdr.h"
#include "sip/parse.h"

#define PARSE_INPUT_MAX	(1024 * 1024)

static void
usage(void)
{
	fprintf(stderr, "usage: sipwall parse [--stream] FILE|-\n"
	    "  Parse FILE (or standard input) as one UDP datagram, or with\n"
	    "  --stream as a TCP byte stream of messages, and print JSON.\n");
}

static int
read_input(const char *path, uint8_t **ret_buf, size_t *ret_len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	uint8_t *buf;
	size_t n = 0, r;

	if (f == NULL) {
		fprintf(stderr, "sipwall parse: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if ((buf = malloc(PARSE_INPUT_MAX + 1)) == NULL) {
		if (f != stdin)
			fclose(f);
		return -1;
	}
	while ((r = fread(buf + n, 1, PARSE_INPUT_MAX + 1 - n, f)) > 0)
		n += r;
	if (f != stdin)
		fclose(f);
	if (n > PARSE_INPUT_MAX) {
		fprintf(stderr, "sipwall parse: %s: input larger than %d bytes\n",
		    path, PARSE_INPUT_MAX);
		free(buf);
		return -1;
	}
	*ret_buf = buf;
	*ret_len = n;
	return 0;
}

static void
print_error(const struct sip_perr *e, size_t base)
{
	printf("error: %u %s (offset %zu)\n", e->status, e->reason,
	    base + e->off);
}

int
cmd_parse(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "stream", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sip_hdr hdrs[SIP_MAX_HDRS];
	struct sip_limits lim = sip_limits_default;
	struct sip_perr err;
	struct sip_msg m;
	uint8_t *buf;
	size_t len, off = 0;
	json_t *out;
	int stream = 0, ch, rc = 0;
	ssize_t r;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "sh", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			stream = 1;
			break;
		case 'h':
			usage();
			return 0;
		default:
			usage();
			return 2;
		}
	}
	if (argc - optind != 1) {
		usage();
		return 2;
	}
	if (read_input(argv[optind], &buf, &len) < 0)
		return 2;

	if (!stream) {
		off = sip_skip_crlf(buf, len);
		if (off == len) {
			printf("error: keep-alive only, no message (offset %zu)\n",
			    len);
			free(buf);
			return 1;
		}
		r = sip_msg_parse(buf + off, len - off, &lim, 0, &m, hdrs,
		    SIP_MAX_HDRS, &err);
		if (r < 0) {
			print_error(&err, off);
			free(buf);
			return 1;
		}
		out = json_sip_msg(&m, &lim);
		json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(out);
		free(buf);
		return 0;
	}

	out = json_array();
	while (off < len) {
		off += sip_skip_crlf(buf + off, len - off);
		if (off == len)
			break;
		r = sip_msg_parse(buf + off, len - off, &lim, SIP_PARSE_STREAM,
		    &m, hdrs, SIP_MAX_HDRS, &err);
		if (r == 0) {
			printf("error: incomplete message (offset %zu)\n", len);
			rc = 1;
			break;
		}
		if (r < 0) {
			print_error(&err, off);
			rc = 1;
			break;
		}
		json_array_append_new(out, json_sip_msg(&m, &lim));
		off += (size_t)r;
	}
	if (rc == 0) {
		json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
	}
	json_decref(out);
	free(buf);
	return rc;
}
