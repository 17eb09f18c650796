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

struct growth_cfg {
	double warn_bps;	/* warning at or above this slope, bytes/s (default 1 MB/h) */
	double crit_bps;	/* critical at or above this slope, bytes/s (default 5 MB/h) */
	double min_span_s;	/* fewer seconds of data than this: insufficient-data */
	size_t min_points;	/* fewer points than this: insufficient-data */
};

void growth_cfg__default(struct growth_cfg *cfg);

struct growth {
	enum growth_verdict verdict;
	enum growth_severity severity;
	double slope_bps;	/* bytes per second over the window the verdict rests on */
	double r2;		/* goodness of the linear fit on that window, 0..1 */
	double eta_limit_s;	/* seconds until limit at slope_bps; < 0 when none (no limit, not growing) */
};

/*
 * Judge a series. limit_bytes is the memory limit the series counts against (0: none);
 * it only feeds eta_limit_s. Always fills *out.
 */
void growth__analyze(const struct series *s, const struct growth_cfg *cfg, double limit_bytes,
		     struct growth *out);

#endif
