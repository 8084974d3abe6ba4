/*
 * bench/media: what the raw relay (rawrelay.c) and the load generator
 * (rtpgen.c) share: a monotonic clock, UDP sockets on loopback with
 * their kernel drop counter, SDES keys (base64 as in a=crypto inline:)
 * and libsrtp2 sessions with AES_CM_128_HMAC_SHA1_80.
 */
#ifndef BENCH_MEDIA_MEDIAUTIL_H
#define BENCH_MEDIA_MEDIAUTIL_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <srtp2/srtp.h>

#define MU_KEY_LEN 30           /* AES-128 master key + 112-bit salt */
#define MU_PKT_MAX 2048
#define MU_CMSG_SPACE 64        /* room for SO_RXQ_OVFL's uint32_t */

__attribute__((format(printf, 1, 2), noreturn))
void mu_die(const char *fmt, ...);

double mu_now(void);

/* ip:port into *sa; 0, or -1 for an address that is not IPv4. */
int mu_addr(const char *ip, int port, struct sockaddr_in *sa);

/* A non-blocking UDP socket bound to ip:port (port 0: any), with
 * SO_RCVBUF and SO_SNDBUF of bufsize (capped by net.core.*mem_max) and
 * SO_RXQ_OVFL on; the fd, or -1 (errno set). */
int mu_udp_bind(const char *ip, int port, int bufsize);

/* The local port of a bound socket. */
int mu_local_port(int fd);

/* The kernel's count of datagrams dropped on the socket that received
 * msg (SO_RXQ_OVFL, cumulative), or -1 when msg carries none. */
long mu_rxq_ovfl(const struct msghdr *msg);

/* A base64 SDES key (the inline: part of a=crypto, without |lifetime)
 * into 30 bytes; 0, or -1 when it is not exactly 30 bytes. */
int mu_key_decode(const char *b64, uint8_t key[MU_KEY_LEN]);

/* A libsrtp2 session with AES_CM_128_HMAC_SHA1_80 for RTP and RTCP
 * with the base64 key: inbound (srtp_unprotect) for any SSRC that
 * arrives, or outbound (srtp_protect).  srtp_init() first. */
srtp_t mu_srtp_session(const char *b64key, int inbound);

#endif
