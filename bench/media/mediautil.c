/* bench/media: shared helpers, see mediautil.h. */
#include "mediautil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

void mu_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

double mu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int mu_addr(const char *ip, int port, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, ip, &sa->sin_addr) == 1 ? 0 : -1;
}

int mu_udp_bind(const char *ip, int port, int bufsize)
{
	struct sockaddr_in sa;
	int one = 1, fd, e;

	if (mu_addr(ip, port, &sa) != 0) {
		errno = EINVAL;
		return -1;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (bufsize > 0) {
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof(bufsize));
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof(bufsize));
	}
	setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int mu_local_port(int fd)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	if (getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
		return -1;
	return ntohs(sa.sin_port);
}

long mu_rxq_ovfl(const struct msghdr *msg)
{
	struct cmsghdr *c;
	uint32_t v;

	for (c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR((struct msghdr *)msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
			memcpy(&v, CMSG_DATA(c), sizeof(v));
			return (long)v;
		}
	return -1;
}

int mu_key_decode(const char *b64, uint8_t key[MU_KEY_LEN])
{
	uint8_t out[64];
	size_t n = strcspn(b64, "|");           /* no |lifetime|MKI */

	/* 30 bytes are exactly 40 base64 characters, without padding. */
	if (n != 40 || EVP_DecodeBlock(out, (const unsigned char *)b64,
				       (int)n) != MU_KEY_LEN)
		return -1;
	memcpy(key, out, MU_KEY_LEN);
	return 0;
}

srtp_t mu_srtp_session(const char *b64key, int inbound)
{
	uint8_t key[MU_KEY_LEN];
	srtp_policy_t pol;
	srtp_t s = NULL;
	srtp_err_status_t err;

	if (mu_key_decode(b64key, key) != 0)
		mu_die("bad SDES key (30 bytes in base64 expected): %s", b64key);
	memset(&pol, 0, sizeof(pol));
	srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtp);
	srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtcp);
	pol.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
	pol.key = key;
	pol.window_size = 128;
	pol.allow_repeat_tx = 0;
	err = srtp_create(&s, &pol);
	if (err != srtp_err_status_ok)
		mu_die("srtp_create failed: %d", (int)err);
	return s;
}
