#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/hash.h"
#include "policy/usage.h"

#define STRIPES		64
#define COLLECT_BATCH	32

/* Entries are made on an account's first call and never freed before
 * the table: a walk may drop the lock and go on from where it was. */
struct uent {
	struct uent	*next;
	bool		 dirty;
	struct store_usage u;
};

struct stripe {
	pthread_mutex_t	 mu;
	struct uent	**b;
	size_t		 mask;
	size_t		 n;
};

struct usage_table {
	struct stripe	s[STRIPES];
};

int64_t
usage_day(int64_t unix_time)
{
	time_t t = (time_t)unix_time;
	struct tm tm;
	int64_t local;

	if (localtime_r(&t, &tm) == NULL)
		local = unix_time;
	else
		local = unix_time + (int64_t)tm.tm_gmtoff;
	/* floor, also before 1970 */
	return local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
}

int
usage_new(size_t expected, struct usage_table **ret)
{
	struct usage_table *t = calloc(1, sizeof(*t));
	size_t per = 16;

	if (t == NULL)
		return -ENOMEM;
	while (per * STRIPES < expected && per < (1u << 20))
		per <<= 1;
	for (size_t i = 0; i < STRIPES; i++) {
		pthread_mutex_init(&t->s[i].mu, NULL);
		t->s[i].mask = per - 1;
		if ((t->s[i].b = calloc(per, sizeof(*t->s[i].b))) == NULL) {
			usage_free(t);
			return -ENOMEM;
		}
	}
	*ret = t;
	return 0;
}

void
usage_free(struct usage_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < STRIPES; i++) {
		struct stripe *s = &t->s[i];

		for (size_t k = 0; s->b != NULL && k <= s->mask; k++)
			for (struct uent *e = s->b[k], *nx; e != NULL; e = nx) {
				nx = e->next;
				free(e);
			}
		free(s->b);
		pthread_mutex_destroy(&s->mu);
	}
	free(t);
}

static struct stripe *
stripe_of(struct usage_table *t, const char *account, uint64_t *ret_h)
{
	uint64_t h = sw_hash(account, strlen(account));

	*ret_h = h >> 8;
	return &t->s[h % STRIPES];
}

/* The entry of account in s (locked), made when create; NULL if none. */
static struct uent *
find(struct stripe *s, uint64_t h, const char *account, bool create)
{
	struct uent **bp = &s->b[h & s->mask], *e;

	for (e = *bp; e != NULL; e = e->next)
		if (strcmp(e->u.account, account) == 0)
			return e;
	if (!create || strlen(account) > STORE_AOR_MAX ||
	    (e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	memcpy(e->u.account, account, strlen(account) + 1);
	e->next = *bp;
	*bp = e;
	s->n++;
	return e;
}

/* Counters of a minute or day that has passed are 0. */
static void
roll(struct store_usage *u, int64_t now, int64_t day)
{
	if (now >= 0 && u->minute != now / 60) {
		u->minute = now / 60;
		u->calls_minute = 0;
	}
	if (u->day != day) {
		u->day = day;
		u->calls_day = 0;
		u->seconds_day = 0;
		u->blocked_day = 0;
	}
}

static bool
over(uint32_t limit, uint32_t used)
{
	return limit != 0 && used >= limit;
}

int
usage_admit(struct usage_table *t, const char *account,
    const struct usage_limits *lim, int64_t now, int64_t day, bool exempt,
    uint32_t *ret_value)
{
	uint64_t h;
	struct stripe *s = stripe_of(t, account, &h);
	struct uent *e;
	int v = USAGE_OK;

	*ret_value = 0;
	pthread_mutex_lock(&s->mu);
	if ((e = find(s, h, account, true)) == NULL) {
		pthread_mutex_unlock(&s->mu);
		return -ENOMEM;
	}
	roll(&e->u, now, day);
	if (exempt)
		;
	else if (over(lim->concurrent, e->u.active)) {
		v = USAGE_CONCURRENT;
		*ret_value = e->u.active;
	} else if (over(lim->per_minute, e->u.calls_minute)) {
		v = USAGE_PER_MINUTE;
		*ret_value = e->u.calls_minute;
	} else if (over(lim->per_day, e->u.calls_day)) {
		v = USAGE_PER_DAY;
		*ret_value = e->u.calls_day;
	} else if (lim->minutes_per_day != 0 &&
	    e->u.seconds_day >= lim->minutes_per_day * 60u) {
		v = USAGE_MINUTES;
		*ret_value = (uint32_t)(((uint64_t)e->u.seconds_day + 59) / 60);
	}
	if (v == USAGE_OK) {
		e->u.active++;
		e->u.calls_minute++;
		e->u.calls_day++;
	} else
		e->u.blocked_day++;
	e->u.updated = now;
	e->dirty = true;
	pthread_mutex_unlock(&s->mu);
	return v;
}

uint32_t
usage_seconds_left(struct usage_table *t, const char *account,
    const struct usage_limits *lim, int64_t day)
{
	uint64_t h;
	struct stripe *s = stripe_of(t, account, &h);
	struct uent *e;
	uint32_t left, cap = lim->minutes_per_day * 60u;

	if (lim->minutes_per_day == 0)
		return UINT32_MAX;
	pthread_mutex_lock(&s->mu);
	e = find(s, h, account, false);
	if (e == NULL || e->u.day != day)
		left = cap;
	else
		left = e->u.seconds_day >= cap ? 0 : cap - e->u.seconds_day;
	pthread_mutex_unlock(&s->mu);
	return left;
}

void
usage_release(struct usage_table *t, const char *account, uint32_t seconds,
    int64_t day)
{
	uint64_t h;
	struct stripe *s = stripe_of(t, account, &h);
	struct uent *e;

	pthread_mutex_lock(&s->mu);
	if ((e = find(s, h, account, false)) != NULL) {
		if (e->u.active > 0)
			e->u.active--;
		roll(&e->u, -1, day);
		e->u.seconds_day = e->u.seconds_day > UINT32_MAX - seconds ?
		    UINT32_MAX : e->u.seconds_day + seconds;
		e->dirty = true;
	}
	pthread_mutex_unlock(&s->mu);
}

int
usage_load(struct usage_table *t, const struct store_usage *u)
{
	uint64_t h;
	struct stripe *s = stripe_of(t, u->account, &h);
	struct uent *e;

	pthread_mutex_lock(&s->mu);
	if ((e = find(s, h, u->account, true)) != NULL) {
		e->u = *u;
		e->u.active = 0;
	}
	pthread_mutex_unlock(&s->mu);
	return e != NULL ? 0 : -ENOMEM;
}

void
usage_reset(struct usage_table *t, const char *account)
{
	uint64_t h;
	struct stripe *s = stripe_of(t, account, &h);
	struct uent *e;

	pthread_mutex_lock(&s->mu);
	if ((e = find(s, h, account, false)) != NULL) {
		e->u.calls_minute = 0;
		e->u.calls_day = 0;
		e->u.seconds_day = 0;
		e->u.blocked_day = 0;
		e->dirty = true;
	}
	pthread_mutex_unlock(&s->mu);
}

void
usage_get(struct usage_table *t, const char *account, int64_t now,
    int64_t day, struct store_usage *ret)
{
	uint64_t h;
	struct stripe *s = stripe_of(t, account, &h);
	struct uent *e;

	memset(ret, 0, sizeof(*ret));
	pthread_mutex_lock(&s->mu);
	if ((e = find(s, h, account, false)) != NULL) {
		*ret = e->u;
		roll(ret, now, day);
	} else if (strlen(account) <= STORE_AOR_MAX)
		memcpy(ret->account, account, strlen(account) + 1);
	pthread_mutex_unlock(&s->mu);
}

size_t
usage_collect(struct usage_table *t,
    void (*fn)(void *arg, const struct store_usage *u), void *arg)
{
	struct store_usage batch[COLLECT_BATCH];
	size_t total = 0;

	for (size_t i = 0; i < STRIPES; i++) {
		struct stripe *s = &t->s[i];

		for (size_t k = 0; k <= s->mask; k++) {
			struct uent *e;
			size_t n;

			pthread_mutex_lock(&s->mu);
			e = s->b[k];
			do {
				for (n = 0; e != NULL && n < COLLECT_BATCH;
				    e = e->next)
					if (e->dirty) {
						e->dirty = false;
						batch[n++] = e->u;
					}
				pthread_mutex_unlock(&s->mu);
				for (size_t j = 0; j < n; j++)
					fn(arg, &batch[j]);
				total += n;
				if (e == NULL)
					break;
				pthread_mutex_lock(&s->mu);
			} while (1);
		}
	}
	return total;
}
