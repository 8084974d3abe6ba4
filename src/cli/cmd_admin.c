/*
 * sipwall admin token: make a bearer token for the admin HTTP API and
 * print it with the SHA-256 that goes into admin.token_sha256.  The
 * config keeps only the hash, so a leaked config does not open the
 * API; the token is shown once, here.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "cli/cmd_admin.h"

#define TOKEN_BYTES	32	/* 256 bits from the CSPRNG */

static int
usage(FILE *f)
{
	fprintf(f, "usage: sipwall admin token\n"
	    "  prints a new bearer token for the admin HTTP API and the\n"
	    "  token_sha256 to put under admin: in the config\n");
	return f == stdout ? 0 : 2;
}

/* base64url without padding: safe in an HTTP header as it is */
static void
b64url(const unsigned char *in, size_t n, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq"
	    "rstuvwxyz0123456789-_";
	size_t o = 0;
	unsigned v = 0;
	int bits = 0;

	for (size_t i = 0; i < n; i++) {
		v = (v << 8) | in[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = a[(v >> bits) & 63];
		}
	}
	if (bits > 0)
		out[o++] = a[(v << (6 - bits)) & 63];
	out[o] = '\0';
}

int
cmd_admin(int argc, char **argv)
{
	unsigned char raw[TOKEN_BYTES], md[EVP_MAX_MD_SIZE];
	char tok[2 * TOKEN_BYTES], hex[2 * EVP_MAX_MD_SIZE + 1];
	unsigned mdlen = 0;

	if (argc == 2 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0))
		return usage(stdout);
	if (argc != 2 || strcmp(argv[1], "token") != 0)
		return usage(stderr);
	if (RAND_bytes(raw, sizeof(raw)) != 1) {
		fprintf(stderr, "sipwall admin token: no randomness\n");
		return 1;
	}
	b64url(raw, sizeof(raw), tok);
	OPENSSL_cleanse(raw, sizeof(raw));
	if (EVP_Digest(tok, strlen(tok), md, &mdlen, EVP_sha256(), NULL) != 1) {
		fprintf(stderr, "sipwall admin token: SHA-256 failed\n");
		return 1;
	}
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	printf("token: %s\ntoken_sha256: %s\n", tok, hex);
	OPENSSL_cleanse(tok, sizeof(tok));
	return fflush(stdout) == 0 ? 0 : 1;
}
