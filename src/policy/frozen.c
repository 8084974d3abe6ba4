#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "policy/frozen.h"

void
frozen_init(struct frozen *f)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->mu, NULL);
}

void
frozen_destroy(struct frozen *f)
{
	pthread_mutex_destroy(&f->mu);
}

static int
canon_of(const char *prefix, char *out)
{
	const char *d = prefix[0] == '+' ? prefix + 1 : prefix;
	size_t n = strlen(d);

	if (n == 0 || n > FROZEN_LEN - 1 || strspn(d, "0123456789") != n)
		return -EINVAL;
	out[0] = '+';
	memcpy(out + 1, d, n + 1);
	return 0;
}

static ssize_t
find(const struct frozen *f, size_t n, const char *canon)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(f->p[i], canon) == 0)
			return (ssize_t)i;
	return -1;
}

int
frozen_add(struct frozen *f, const char *prefix, char *canon, size_t cap)
{
	char c[FROZEN_LEN + 1];
	size_t n;
	int r = 0;

	if (canon_of(prefix, c) < 0)
		return -EINVAL;
	if (canon != NULL)
		snprintf(canon, cap, "%s", c);
	pthread_mutex_lock(&f->mu);
	n = atomic_load(&f->n);
	if (find(f, n, c) < 0) {
		if (n >= FROZEN_MAX)
			r = -ENOSPC;
		else {
			memcpy(f->p[n], c, sizeof(c));
			atomic_store(&f->n, n + 1);
		}
	}
	pthread_mutex_unlock(&f->mu);
	return r;
}

int
frozen_remove(struct frozen *f, const char *prefix)
{
	char c[FROZEN_LEN + 1];
	ssize_t i;
	size_t n;

	if (canon_of(prefix, c) < 0)
		return -EINVAL;
	pthread_mutex_lock(&f->mu);
	n = atomic_load(&f->n);
	if ((i = find(f, n, c)) >= 0) {
		memcpy(f->p[i], f->p[n - 1], sizeof(f->p[i]));
		atomic_store(&f->n, n - 1);
	}
	pthread_mutex_unlock(&f->mu);
	return i >= 0 ? 0 : -ENOENT;
}

int
frozen_match(struct frozen *f, const char *e164, char *hit, size_t cap)
{
	int r = 0;

	if (atomic_load_explicit(&f->n, memory_order_relaxed) == 0)
		return 0;
	pthread_mutex_lock(&f->mu);
	for (size_t i = 0; i < atomic_load(&f->n) && !r; i++)
		if (strncmp(e164, f->p[i], strlen(f->p[i])) == 0) {
			if (hit != NULL)
				snprintf(hit, cap, "%s", f->p[i]);
			r = 1;
		}
	pthread_mutex_unlock(&f->mu);
	return r;
}

size_t
frozen_list(struct frozen *f, char out[][FROZEN_LEN + 1], size_t max)
{
	size_t n;

	pthread_mutex_lock(&f->mu);
	n = atomic_load(&f->n);
	if (n > max)
		n = max;
	memcpy(out, f->p, n * sizeof(f->p[0]));
	pthread_mutex_unlock(&f->mu);
	return n;
}
