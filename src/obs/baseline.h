/*
 * Hour-of-week baselines (OBS4): for each metric of the alert engine,
 * 168 slots (Monday 00:00-00:59 local time is slot 0, Sunday 23h is
 * 167), each the exponentially weighted moving average of the metric's
 * count per alert window in that hour of the week.
 *
 * Learning.  Every closed window updates the slot of its start time:
 *	v += a * (x - v),	a = max(alpha, 1 / (samples + 1))
 * so a new slot starts as the plain mean of its first windows and then
 * forgets slowly.  alpha is per window, derived from the window length
 * so that one week's hour weighs BASELINE_WEEK_WEIGHT (0.25) whatever
 * the window: alpha = 1 - (1 - 0.25)^(window / 1 h); with 1-minute
 * windows alpha is about 0.0048 and an hour-of-week's history halves in
 * about 2.4 weeks.
 *
 * Use.  A slot is learned after BASELINE_MIN_SAMPLES windows.  An
 * unlearned slot answers with the mean of the metric's learned slots;
 * a metric with no learned slot has no baseline yet (no ratio alert,
 * only the absolute limits).
 *
 * Persistence: the store's baselines table (store.h), loaded at start
 * and written through the store writer (the slots changed since the
 * last save), so that a restart keeps the learned history.
 *
 * Not thread-safe: the alert engine calls it under its own lock, from
 * the main thread.
 */
#ifndef SW_OBS_BASELINE_H
#define SW_OBS_BASELINE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define BASELINE_SLOTS		168
#define BASELINE_MAX_METRICS	16
#define BASELINE_MIN_SAMPLES	3
#define BASELINE_WEEK_WEIGHT	0.25

struct store;
struct store_writer;

struct baseline_slot {
	double		value;
	uint32_t	samples;
	uint8_t		dirty;		/* changed since the last save */
};

struct baseline {
	double			 alpha;
	size_t			 nmetrics;
	const char *const	*names;		/* [nmetrics], static */
	struct baseline_slot	 slot[BASELINE_MAX_METRICS][BASELINE_SLOTS];
};

/*
 * Slot of unix time t in the local time zone (TZ), or -1 when the time
 * cannot be converted.
 */
int	baseline_slot_of(time_t t);

/* The per-window alpha for windows of window_ms (see above). */
double	baseline_alpha(uint32_t window_ms);

/*
 * Empty baselines for n metrics (at most BASELINE_MAX_METRICS) named by
 * names[0..n) ([a-z0-9_], static storage).  0 or -EINVAL.
 */
int	baseline_init(struct baseline *b, uint32_t window_ms,
	    const char *const *names, size_t n);

/* Learn count x (>= 0) for metric m in slot. */
void	baseline_learn(struct baseline *b, size_t m, int slot, double x);

/*
 * The baseline of metric m for slot: 0 and *ret, or -ENOENT when the
 * metric has learned nothing yet (see above).
 */
int	baseline_get(const struct baseline *b, size_t m, int slot,
	    double *ret);

/* Set a slot as it was saved (tests, load). */
void	baseline_set(struct baseline *b, size_t m, int slot, double value,
	    uint32_t samples);

/*
 * Load the rows of the known metrics from the store (others are
 * ignored: a metric that was renamed or dropped).  0 or -errno.
 */
int	baseline_load(struct baseline *b, struct store *st);

/*
 * Hand the slots changed since the last save to the writer, as one
 * operation; now is the unix time written with them.  0 (nothing to
 * do, or queued), or -errno (-SBC_EFULL: the slots stay dirty and go
 * with the next save).
 */
int	baseline_save(struct baseline *b, struct store_writer *w, int64_t now);

#endif
