/*
 * Stateless nonces and their secret file: see nonce.h for the format
 * and the contract.
 *
 * The MAC input is length-prefixed, so no two (realm, address) pairs
 * share one:  time(8) | random(8) | realm length(2) | realm |
 * address length(1) | address   (length 0 and no address when the
 * context does not bind the source).
 *
 * Decoding is strict: exactly NONCE_LEN characters of the base64url
 * alphabet and zero padding bits, so one nonce has exactly one spelling
 * (replay.c keys its table by the spelling).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/nonce.h"

#define NONCE_MAC_LEN	16
#define NONCE_MSG_MAX	(8 + 8 + 2 + NONCE_REALM_MAX + 1 + NONCE_SRC_MAX)

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

const char *
nonce_status_name(enum nonce_status s)
{
	switch (s) {
	case NONCE_OK:		return "ok";
	case NONCE_STALE:	return "stale";
	case NONCE_INVALID:	return "invalid";
	default:		return "unknown";
	}
}

int
nonce_ctx_init(struct nonce_ctx *ctx, const uint8_t secret[NONCE_SECRET_LEN],
    uint32_t ttl_seconds, int bind_source)
{
	if (ctx == NULL || secret == NULL || ttl_seconds == 0 ||
	    ttl_seconds > NONCE_TTL_MAX)
		return -EINVAL;
	memcpy(ctx->secret, secret, NONCE_SECRET_LEN);
	ctx->ttl = ttl_seconds;
	ctx->bind_source = bind_source != 0;
	return 0;
}

void
nonce_ctx_clear(struct nonce_ctx *ctx)
{
	if (ctx != NULL)
		explicit_bzero(ctx, sizeof(*ctx));
}

static void
b64url_encode(const uint8_t in[NONCE_RAW_LEN], char out[NONCE_BUF])
{
	size_t i, o = 0;
	uint32_t v;

	for (i = 0; i + 3 <= NONCE_RAW_LEN; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64url[(v >> 18) & 63];
		out[o++] = b64url[(v >> 12) & 63];
		out[o++] = b64url[(v >> 6) & 63];
		out[o++] = b64url[v & 63];
	}
	/* NONCE_RAW_LEN % 3 == 2: two bytes left, three characters */
	v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
	out[o++] = b64url[(v >> 18) & 63];
	out[o++] = b64url[(v >> 12) & 63];
	out[o++] = b64url[(v >> 6) & 63];
	out[o] = '\0';
}

static int
b64url_val(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* 0, or -1 for a wrong length, a foreign character or non-zero pad bits. */
static int
b64url_decode(struct slice s, uint8_t out[NONCE_RAW_LEN])
{
	int v[NONCE_LEN];
	size_t i, o = 0;

	if (s.len != NONCE_LEN)
		return -1;
	for (i = 0; i < NONCE_LEN; i++)
		if ((v[i] = b64url_val(s.p[i])) < 0)
			return -1;
	for (i = 0; i + 4 <= NONCE_LEN; i += 4) {
		uint32_t w = (uint32_t)v[i] << 18 | (uint32_t)v[i + 1] << 12 |
		    (uint32_t)v[i + 2] << 6 | (uint32_t)v[i + 3];

		out[o++] = (uint8_t)(w >> 16);
		out[o++] = (uint8_t)(w >> 8);
		out[o++] = (uint8_t)w;
	}
	if ((v[i + 2] & 3) != 0)
		return -1;
	out[o++] = (uint8_t)(v[i] << 2 | v[i + 1] >> 4);
	out[o++] = (uint8_t)((v[i + 1] & 15) << 4 | v[i + 2] >> 2);
	return o == NONCE_RAW_LEN ? 0 : -1;
}

/* MAC over raw[0..16) plus realm and (if bound) source into mac[0..16). */
static int
nonce_mac(const struct nonce_ctx *ctx, const uint8_t raw[16],
    struct slice realm, const void *src, size_t src_len,
    uint8_t mac[NONCE_MAC_LEN])
{
	uint8_t msg[NONCE_MSG_MAX], full[EVP_MAX_MD_SIZE];
	unsigned int flen = 0;
	size_t n = 16;

	if (!ctx->bind_source)
		src_len = 0;
	memcpy(msg, raw, 16);
	msg[n++] = (uint8_t)(realm.len >> 8);
	msg[n++] = (uint8_t)realm.len;
	if (realm.len > 0)
		memcpy(msg + n, realm.p, realm.len);
	n += realm.len;
	msg[n++] = (uint8_t)src_len;
	if (src_len > 0)
		memcpy(msg + n, src, src_len);
	n += src_len;
	if (HMAC(EVP_sha256(), ctx->secret, NONCE_SECRET_LEN, msg, n, full,
	    &flen) == NULL || flen < NONCE_MAC_LEN) {
		explicit_bzero(full, sizeof(full));
		return -EIO;
	}
	memcpy(mac, full, NONCE_MAC_LEN);
	explicit_bzero(full, sizeof(full));
	return 0;
}

/* Source and realm arguments both calls must agree on. */
static int
args_ok(const struct nonce_ctx *ctx, struct slice realm, const void *src,
    size_t src_len)
{
	if (realm.len > NONCE_REALM_MAX)
		return 0;
	if (ctx->bind_source &&
	    (src == NULL || src_len == 0 || src_len > NONCE_SRC_MAX))
		return 0;
	return 1;
}

static int
fill_random(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
nonce_make(const struct nonce_ctx *ctx, int64_t now, struct slice realm,
    const void *src, size_t src_len, char *out, size_t cap)
{
	uint8_t raw[NONCE_RAW_LEN];
	uint64_t t = (uint64_t)now;
	int r;

	if (ctx == NULL || out == NULL || now < 0 ||
	    !args_ok(ctx, realm, src, src_len))
		return -EINVAL;
	if (cap < NONCE_BUF)
		return -SBC_ELIMIT;
	for (int i = 0; i < 8; i++)
		raw[i] = (uint8_t)(t >> (56 - 8 * i));
	if ((r = fill_random(raw + 8, 8)) < 0 ||
	    (r = nonce_mac(ctx, raw, realm, src, src_len, raw + 16)) < 0) {
		explicit_bzero(raw, sizeof(raw));
		return r;
	}
	b64url_encode(raw, out);
	return NONCE_LEN;
}

enum nonce_status
nonce_check(const struct nonce_ctx *ctx, int64_t now, struct slice nonce,
    struct slice realm, const void *src, size_t src_len,
    int64_t *ret_expires)
{
	uint8_t raw[NONCE_RAW_LEN], mac[NONCE_MAC_LEN];
	uint64_t t = 0;
	int64_t issued;
	int bad;

	if (ctx == NULL || !args_ok(ctx, realm, src, src_len) ||
	    b64url_decode(nonce, raw) < 0)
		return NONCE_INVALID;
	if (nonce_mac(ctx, raw, realm, src, src_len, mac) < 0)
		return NONCE_INVALID;	/* fail closed */
	bad = CRYPTO_memcmp(mac, raw + 16, NONCE_MAC_LEN) != 0;
	explicit_bzero(mac, sizeof(mac));
	if (bad)
		return NONCE_INVALID;
	for (int i = 0; i < 8; i++)
		t = t << 8 | raw[i];
	/* We made it, so it is in range; still, never trust arithmetic
	 * on 64 bits we did not check. */
	if (t > (uint64_t)INT64_MAX - NONCE_TTL_MAX)
		return NONCE_INVALID;
	issued = (int64_t)t;
	if (ret_expires != NULL)
		*ret_expires = issued + (int64_t)ctx->ttl;
	if (now < INT64_MAX - NONCE_MAX_SKEW && issued > now + NONCE_MAX_SKEW)
		return NONCE_STALE;
	if (now > issued && now - issued > (int64_t)ctx->ttl)
		return NONCE_STALE;
	return NONCE_OK;
}

int
nonce_secret_generate(uint8_t secret[NONCE_SECRET_LEN])
{
	return fill_random(secret, NONCE_SECRET_LEN);
}

static int
set_why(const char **reterr_why, const char *why, int r)
{
	if (reterr_why != NULL)
		*reterr_why = why;
	return r;
}

static int
read_full(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		got += (size_t)n;
	}
	return 0;
}

static int
write_full(int fd, const uint8_t *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	return 0;
}

/* 0, -ENOENT (absent: create it), or another -errno with a reason. */
static int
secret_load(const char *path, uint8_t secret[NONCE_SECRET_LEN],
    const char **reterr_why)
{
	uint8_t buf[NONCE_SECRET_LEN];
	struct stat st;
	int fd, r;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		if (r == -ENOENT)
			return r;
		if (r == -ELOOP)
			return set_why(reterr_why,
			    "is a symbolic link (refused)", r);
		return set_why(reterr_why, "cannot be opened", r);
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return set_why(reterr_why, "cannot be examined (fstat)", r);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return set_why(reterr_why, "is not a regular file", -EINVAL);
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		close(fd);
		return set_why(reterr_why,
		    "is owned by another user (chown it to the daemon's user)",
		    -EPERM);
	}
	if ((st.st_mode & 077) != 0) {
		close(fd);
		return set_why(reterr_why,
		    "has group/other permissions (chmod 600)", -EPERM);
	}
	if (st.st_size != NONCE_SECRET_LEN) {
		close(fd);
		return set_why(reterr_why,
		    "is not exactly 32 bytes (corrupt? remove it to make a new one)",
		    -EINVAL);
	}
	r = read_full(fd, buf, sizeof(buf));
	close(fd);
	if (r < 0) {
		explicit_bzero(buf, sizeof(buf));
		return set_why(reterr_why, "cannot be read", r);
	}
	memcpy(secret, buf, NONCE_SECRET_LEN);
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

static void
fsync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else if ((size_t)(slash - path) < sizeof(dir))
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	else
		return;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/* 0, -EEXIST (someone else made it first: load theirs), or -errno. */
static int
secret_create(const char *path, uint8_t secret[NONCE_SECRET_LEN],
    const char **reterr_why)
{
	char tmp[PATH_MAX];
	int fd, r, n;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return set_why(reterr_why, "path is too long", -ENAMETOOLONG);
	if ((r = nonce_secret_generate(secret)) < 0)
		return set_why(reterr_why, "no random bytes (getrandom)", r);
	/* mkstemp creates with mode 0600 whatever the umask */
	if ((fd = mkstemp(tmp)) < 0) {
		r = -errno;
		explicit_bzero(secret, NONCE_SECRET_LEN);
		return set_why(reterr_why, "cannot create a temporary file", r);
	}
	if (fchmod(fd, S_IRUSR | S_IWUSR) < 0)
		r = -errno;
	else if ((r = write_full(fd, secret, NONCE_SECRET_LEN)) == 0 &&
	    fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		explicit_bzero(secret, NONCE_SECRET_LEN);
		return set_why(reterr_why, "cannot write the temporary file", r);
	}
	/* link(2) never replaces: a concurrent creator wins cleanly. */
	if (link(tmp, path) < 0) {
		r = -errno;
		if (r == -EEXIST) {
			unlink(tmp);
			explicit_bzero(secret, NONCE_SECRET_LEN);
			return r;
		}
		/* Filesystems without hard links: rename is still atomic. */
		if (rename(tmp, path) < 0) {
			r = -errno;
			unlink(tmp);
			explicit_bzero(secret, NONCE_SECRET_LEN);
			return set_why(reterr_why, "cannot be created", r);
		}
	} else
		unlink(tmp);
	fsync_dir_of(path);
	return 0;
}

int
nonce_secret_load_or_create(const char *path, uint8_t secret[NONCE_SECRET_LEN],
    const char **reterr_why)
{
	int r;

	if (reterr_why != NULL)
		*reterr_why = NULL;
	if (path == NULL || path[0] == '\0' || secret == NULL)
		return set_why(reterr_why, "no path given", -EINVAL);
	for (int tries = 0; tries < 3; tries++) {
		if ((r = secret_load(path, secret, reterr_why)) != -ENOENT)
			return r;
		if ((r = secret_create(path, secret, reterr_why)) != -EEXIST)
			return r;
	}
	return set_why(reterr_why, "keeps appearing and disappearing", -EAGAIN);
}
