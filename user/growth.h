/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* growth.h - memory series in bounded rings, and the verdict on their growth (pure, no libbpf) */
#ifndef MS_GROWTH_H
#define MS_GROWTH_H

#include <stddef.h>
#include <stdint.h>

enum growth_verdict {
	GV_INSUFFICIENT = 0,	/* "insufficient-data" */
	GV_STABLE,		/* "stable" */
	GV_PLATEAU,		/* "plateau": grew, then flat */
	GV_SAWTOOTH,		/* "sawtooth": builds up and releases, troughs flat */
	GV_GROWING,		/* "growing": significant upward trend, not linear */
	GV_LEAK,		/* "leak": sustained, roughly linear growth */
};

enum growth_severity { GS_OK = 0, GS_WARNING, GS_CRITICAL };

const char *growth_verdict__str(enum growth_verdict v);		/* JSON names above */
const char *growth_severity__str(enum growth_severity s);	/* "ok", "warning", "critical" */

/* A bounded ring of (t seconds, value) points; memory does not grow with trace length. */
struct series;

struct series *series__new(size_t capacity);	/* NULL with errno on failure */
void series__free(struct series *s);		/* accepts NULL */
void series__push(struct series *s, double t, double v);	/* drops the oldest point when full */
size_t series__len(const struct series *s);
/* i = 0 is the oldest point kept; returns 0, or -ERANGE */
int series__get(const struct series *s, size_t i, double *t, double *v);

/*
 * Additions to the contract above. series__push() also ignores points whose t or v
 * is not finite, and points whose t is not after the newest point's t: the analysis
 * needs time to move forward (a clock step back would otherwise fake a slope).
 */
size_t series__capacity(const struct series *s);
void series__clear(struct series *s);
/* the newest point; returns 0, or -ENOENT when the series is empty */
int series__last(const struct series *s, double *t, double *v);

struct growth_cfg {
	double warn_bps;	/* warning at or above this slope, bytes/s (default 1 MB/h) */
	double crit_bps;	/* critical at or above this slope, bytes/s (default 5 MB/h) */
	double min_span_s;	/* fewer seconds of data than this: insufficient-data */
	size_t min_points;	/* fewer points than this: insufficient-data */
	/* additions: 0 means "the default" so older initializers keep working */
	double alpha;		/* one-sided significance level of the trend test (default 0.01) */
};

void growth_cfg__default(struct growth_cfg *cfg);

struct growth {
	enum growth_verdict verdict;
	enum growth_severity severity;
	double slope_bps;	/* bytes per second over the window the verdict rests on */
	double r2;		/* goodness of the linear fit on that window, 0..1 */
	double eta_limit_s;	/* seconds until limit at slope_bps; < 0 when none (no limit, not growing) */
	/* additions: what the verdict rests on, for reports and for debugging a verdict */
	double p_value;		/* one-sided Mann-Kendall p of an upward trend in the window, after
				 * the autocorrelation correction; 1 when not computed */
	double ols_slope_bps;	/* least-squares slope on the window (slope_bps is Theil-Sen) */
	double window_s;	/* span of the window, seconds */
	size_t window_points;	/* points in the window */
	double noise_bytes;	/* robust sd of the white noise around the trend (from differences) */
};

/*
 * Judge a series (the method and its thresholds are described at the top of growth.c).
 * Only leak and growing carry a severity above ok and an ETA; they always have a slope
 * of at least warn_bps. Series longer than 1024 points are decimated, newest kept.
 * Judge a series. limit_bytes is the memory limit the series counts against (0: none);
 * it only feeds eta_limit_s. Always fills *out.
 */
void growth__analyze(const struct series *s, const struct growth_cfg *cfg, double limit_bytes,
		     struct growth *out);

/*
 * Theil-Sen slope (median of pairwise slopes, robust to outliers and steps at the ends)
 * of a series, in units of v per second; 0 with fewer than 2 points. Meant for ranking
 * stacks by growth. Exact up to GROWTH_TS_MAX_PAIRS pairs (n <= 91), above that a fixed
 * pseudo-random sample of that many pairs: O(min(n^2, 4096)) time, 32 KiB of heap.
 */
#define GROWTH_TS_MAX_PAIRS 4096
double growth__slope(const struct series *s);
/* the same on arrays; t must increase */
double growth__slope_xy(const double *t, const double *v, size_t n);

#endif
