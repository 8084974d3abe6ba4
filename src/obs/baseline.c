/*
 * Hour-of-week baselines (see baseline.h).
 *
 * Owns: the slot arithmetic, the EWMA, the fallback for unlearned
 * slots, the rows written to and read from the store.  Does not own:
 * what is counted and when a window closes (alert.c).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "obs/baseline.h"
#include "store/store.h"
#include "store/writer.h"

_Static_assert(BASELINE_SLOTS == STORE_BASELINE_SLOTS, "store slots");

int
baseline_slot_of(time_t t)
{
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL)
		return -1;
	/* tm_wday: Sunday 0; ours: Monday 0 */
	return ((tm.tm_wday + 6) % 7) * 24 + tm.tm_hour;
}

double
baseline_alpha(uint32_t window_ms)
{
	double a;

	if (window_ms == 0)
		window_ms = 1;
	a = 1.0 - pow(1.0 - BASELINE_WEEK_WEIGHT, (double)window_ms / 3.6e6);
	return a > 1.0 ? 1.0 : a;
}

int
baseline_init(struct baseline *b, uint32_t window_ms,
    const char *const *names, size_t n)
{
	if (n > BASELINE_MAX_METRICS)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (names[i] == NULL || strlen(names[i]) > STORE_METRIC_MAX)
			return -EINVAL;
	memset(b, 0, sizeof(*b));
	b->alpha = baseline_alpha(window_ms);
	b->names = names;
	b->nmetrics = n;
	return 0;
}

void
baseline_learn(struct baseline *b, size_t m, int slot, double x)
{
	struct baseline_slot *s;
	double a;

	if (m >= b->nmetrics || slot < 0 || slot >= BASELINE_SLOTS ||
	    !isfinite(x) || x < 0)
		return;
	s = &b->slot[m][slot];
	/* a plain mean until alpha takes over: no bias toward 0 at first */
	a = 1.0 / ((double)s->samples + 1.0);
	if (a < b->alpha)
		a = b->alpha;
	s->value += a * (x - s->value);
	if (s->samples < UINT32_MAX)
		s->samples++;
	s->dirty = 1;
}

int
baseline_get(const struct baseline *b, size_t m, int slot, double *ret)
{
	double sum = 0;
	size_t n = 0;

	if (m >= b->nmetrics)
		return -ENOENT;
	if (slot >= 0 && slot < BASELINE_SLOTS &&
	    b->slot[m][slot].samples >= BASELINE_MIN_SAMPLES) {
		*ret = b->slot[m][slot].value;
		return 0;
	}
	for (int i = 0; i < BASELINE_SLOTS; i++)
		if (b->slot[m][i].samples >= BASELINE_MIN_SAMPLES) {
			sum += b->slot[m][i].value;
			n++;
		}
	if (n == 0)
		return -ENOENT;
	*ret = sum / (double)n;
	return 0;
}

void
baseline_set(struct baseline *b, size_t m, int slot, double value,
    uint32_t samples)
{
	if (m >= b->nmetrics || slot < 0 || slot >= BASELINE_SLOTS ||
	    !isfinite(value) || value < 0)
		return;
	b->slot[m][slot].value = value;
	b->slot[m][slot].samples = samples;
	b->slot[m][slot].dirty = 0;
}

static int
load_one(void *arg, const struct store_baseline *row)
{
	struct baseline *b = arg;

	for (size_t m = 0; m < b->nmetrics; m++)
		if (strcmp(b->names[m], row->metric) == 0) {
			baseline_set(b, m, (int)row->slot, row->value,
			    row->samples);
			break;
		}
	return 0;
}

int
baseline_load(struct baseline *b, struct store *st)
{
	return store_baseline_list(st, load_one, b);
}

/* The rows of one save, owned by the writer operation. */
struct baseline_batch {
	size_t			n;
	struct store_baseline	row[];
};

static int
save_rows(struct store *st, void *arg)
{
	struct baseline_batch *bb = arg;
	int r;

	for (size_t i = 0; i < bb->n; i++)
		if ((r = store_baseline_put(st, &bb->row[i])) < 0)
			return r;
	return 0;
}

static void
save_done(void *arg, int result)
{
	free(arg);
}

int
baseline_save(struct baseline *b, struct store_writer *w, int64_t now)
{
	struct baseline_batch *bb;
	struct store_wop op;
	size_t n = 0, k = 0;
	int r;

	for (size_t m = 0; m < b->nmetrics; m++)
		for (int i = 0; i < BASELINE_SLOTS; i++)
			n += b->slot[m][i].dirty;
	if (n == 0 || w == NULL)
		return 0;
	if ((bb = calloc(1, sizeof(*bb) + n * sizeof(bb->row[0]))) == NULL)
		return -ENOMEM;
	for (size_t m = 0; m < b->nmetrics; m++)
		for (int i = 0; i < BASELINE_SLOTS; i++) {
			struct baseline_slot *s = &b->slot[m][i];
			struct store_baseline *row;

			if (!s->dirty)
				continue;
			row = &bb->row[k++];
			snprintf(row->metric, sizeof(row->metric), "%s",
			    b->names[m]);
			row->slot = (uint32_t)i;
			row->value = s->value;
			row->samples = s->samples;
			row->updated = now < 0 ? 0 : now;
		}
	bb->n = k;
	memset(&op, 0, sizeof(op));
	op.type = STORE_WOP_GENERIC;
	op.u.fn = save_rows;
	op.arg = bb;
	op.done = save_done;
	if ((r = store_writer_submit(w, &op)) < 0) {
		free(bb);
		return r;
	}
	/* queued: a later failure of the write loses these slots until
	 * they learn again (the store error is the writer's to report) */
	for (size_t m = 0; m < b->nmetrics; m++)
		for (int i = 0; i < BASELINE_SLOTS; i++)
			b->slot[m][i].dirty = 0;
	return 0;
}
