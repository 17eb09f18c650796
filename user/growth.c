// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* growth.c - bounded memory series and their verdict: change-point window, Theil-Sen, Mann-Kendall */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "growth.h"

/*
 * How a verdict is reached (see growth__analyze for the order of the steps):
 *
 *  - noise: the robust sd of first differences (1.4826 * MAD) / sqrt(2) is the sd of the
 *    white noise around any smooth trend; it scales every "is this bigger than noise" test.
 *  - releases: a drop of at least GA_RELEASE_SIGMA noise sds, 20 % of the series' range
 *    and 1 % of its level, within GA_RELEASE_SPAN samples, from a top not reached by a
 *    jump (a spike) and not undone by the next sample (a dip). Looked for first with the
 *    noise of second differences, which the ramps of a sawtooth do not inflate, on the
 *    raw series, and kept if they carry GA_RELEASE_SHARE of all the falls; else with the
 *    first-difference noise on a median-of-3 filtered copy (ga_releases says why). Two or
 *    more releases make a sawtooth, judged on its troughs only: troughs that rise
 *    (Theil-Sen slope >= warn, total rise >= 4 noise sds, Kendall tau >= 0.5) are a
 *    leak, else a sawtooth. After one release it is a sawtooth until memory passes the
 *    old top and two build-ups have gone by.
 *  - window: least-squares two-segment change-point search (prefix sums, O(n) per pass,
 *    at most GA_MAX_SPLITS passes, each accepted only if it wins by a BIC margin of
 *    GA_SPLIT_LAMBDA * ln(n)) moves the start of the window past warm-ups and steps.
 *  - trend on the window: Theil-Sen slope, Mann-Kendall S with tie correction and with
 *    its variance inflated for lag-1 autocorrelation of the detrended residuals (AR(1)
 *    effective sample size, Yue & Wang 2004). This correction is what keeps a random
 *    walk, whose residuals are strongly autocorrelated, from looking like a trend.
 *  - growth counts when p < alpha, the slope is >= warn_bps and the rise over the window
 *    is >= GA_MIN_RISE noise sds. Growth that comes from one short run of big increments
 *    whose level stays is a step (plateau). Growth is a leak when it is roughly linear:
 *    both halves' slopes agree with the window's within GA_LIN_TOL (plus 2 standard
 *    errors), the robust scatter around the line is <= GA_LOF_MAX noise sds, and
 *    differences over a quarter window scatter <= GA_VR_MAX times one-sample ones (a
 *    random walk fails this variance-ratio test), and it is not slowing down: a parabola
 *    on the window and as much again before it does not bend down by sqrt(GA_DECEL_BIC *
 *    ln n) standard errors with its slope falling by GA_DECEL_DROP (a knee, a warm-up and
 *    then a straight window, is told apart). A window that starts at a change point must
 *    also stand out of the noise by GA_KNEE_Z. Other significant growth is growing: a
 *    cache filling up, fast then slowing, is growing from its first ~13 samples on.
 *  - no growth in the window, but the level rose since the start by 4 noise sds and
 *    warn_bps * span: plateau; else stable.
 *
 * Measured on synthetic series (tests/unit/test_growth.c has the shapes): a 300-step 1 Hz
 * random walk comes out stable ~47 %, plateau ~31 %, growing ~17 %, leak ~3 %, sawtooth
 * ~2 % (200 seeds; test_growth asserts <= 5 % leak-at-critical, <= 5 % sawtooth and
 * >= 60 % stable or plateau); judged every second, 3 % of its verdicts are sawtooth. A
 * straight leak under heavy noise reads growing in 0-1.5 % of single judgements (400
 * seeds each of the 90 s, 240 s and 600 s shapes). The bench/detect.sh workloads,
 * judged online and fed to the default alerter (200 seeds, 1 and 2 Hz): plateau 120
 * (24 s warm-up) and sawtooth 120 raise no alert; a 1 MiB/s leak under 8 MiB of noise
 * alerts after 13 s (median; 1 Hz), 100 KiB/s after 46 s.
 */
#define GA_MAX_POINTS		1024	/* longer series are decimated to this many points */
#define GA_MAX_SPLITS		3
#ifndef GA_SPLIT_LAMBDA
#define GA_SPLIT_LAMBDA		4.0
#endif
#ifndef GA_MIN_WINDOW_DIV
#define GA_MIN_WINDOW_DIV	4
#endif
#define GA_RELEASE_SIGMA	6.0
#define GA_RELEASE_RANGE	0.2
#define GA_RELEASE_LEVEL	0.01
#define GA_RELEASE_SPAN		3
#define GA_RELEASE_SHARE	0.5
#define GA_STEP_SIGMA		4.0
#define GA_STEP_SPAN		3
#define GA_LIN_TOL		0.4
#define GA_LOF_MAX		3.0
#ifndef GA_VR_MAX
#define GA_VR_MAX		2.0
#endif
#define GA_MIN_RISE		2.0
#ifndef GA_DECEL_BIC
#define GA_DECEL_BIC		1.5
#endif
#ifndef GA_DECEL_DROP
#define GA_DECEL_DROP		0.25
#endif
#ifndef GA_KNEE_MILD
#define GA_KNEE_MILD		1.0
#endif
#ifndef GA_KNEE_Z
#define GA_KNEE_Z		5.0
#endif
#define GA_HALF_PAIRS		1024
#define GA_NOISE_MAX_LAG	16
#define GA_NOISE_FLOOR		1.0	/* bytes: memory is counted in whole bytes */

#define MB 1e6

/* ---- series ----------------------------------------------------------- */

struct series {
	size_t cap;
	size_t head;		/* index of the oldest point */
	size_t len;
	double *t;
	double *v;
};

struct series *series__new(size_t capacity)
{
	struct series *s;

	if (!capacity) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->cap = capacity;
	s->t = calloc(capacity, sizeof(*s->t));
	s->v = calloc(capacity, sizeof(*s->v));
	if (!s->t || !s->v) {
		series__free(s);
		errno = ENOMEM;
		return NULL;
	}
	return s;
}

void series__free(struct series *s)
{
	if (!s)
		return;
	free(s->t);
	free(s->v);
	free(s);
}

void series__push(struct series *s, double t, double v)
{
	size_t i;

	if (!s || !isfinite(t) || !isfinite(v))
		return;
	if (s->len && t <= s->t[(s->head + s->len - 1) % s->cap])
		return;
	if (s->len < s->cap) {
		i = (s->head + s->len) % s->cap;
		s->len++;
	} else {
		i = s->head;
		s->head = (s->head + 1) % s->cap;
	}
	s->t[i] = t;
	s->v[i] = v;
}

size_t series__len(const struct series *s)
{
	return s ? s->len : 0;
}

size_t series__capacity(const struct series *s)
{
	return s ? s->cap : 0;
}

void series__clear(struct series *s)
{
	if (s)
		s->head = s->len = 0;
}

int series__get(const struct series *s, size_t i, double *t, double *v)
{
	size_t k;

	if (!s || i >= s->len)
		return -ERANGE;
	k = (s->head + i) % s->cap;
	if (t)
		*t = s->t[k];
	if (v)
		*v = s->v[k];
	return 0;
}

int series__last(const struct series *s, double *t, double *v)
{
	if (!s || !s->len)
		return -ENOENT;
	return series__get(s, s->len - 1, t, v);
}

/* ---- names and defaults ------------------------------------------------ */

const char *growth_verdict__str(enum growth_verdict v)
{
	switch (v) {
	case GV_INSUFFICIENT: return "insufficient-data";
	case GV_STABLE: return "stable";
	case GV_PLATEAU: return "plateau";
	case GV_SAWTOOTH: return "sawtooth";
	case GV_GROWING: return "growing";
	case GV_LEAK: return "leak";
	}
	return "insufficient-data";
}

const char *growth_severity__str(enum growth_severity s)
{
	switch (s) {
	case GS_OK: return "ok";
	case GS_WARNING: return "warning";
	case GS_CRITICAL: return "critical";
	}
	return "ok";
}

void growth_cfg__default(struct growth_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->warn_bps = 1 * MB / 3600.0;
	cfg->crit_bps = 5 * MB / 3600.0;
	cfg->min_span_s = 10.0;
	cfg->min_points = 10;
	cfg->alpha = 0.01;
}

/* ---- small statistics helpers ------------------------------------------ */

/* k-th smallest of a[0..n) (a is reordered); Hoare's selection, O(n) expected */
static double ga_select(double *a, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1;

	while (lo < hi) {
		double pivot = a[lo + (hi - lo) / 2];
		size_t i = lo, j = hi;

		while (i <= j) {
			while (a[i] < pivot)
				i++;
			while (a[j] > pivot)
				j--;
			if (i <= j) {
				double x = a[i];

				a[i] = a[j];
				a[j] = x;
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			break;
	}
	return a[k];
}

/* median of a[0..n), n > 0; reorders a */
static double ga_median(double *a, size_t n)
{
	double hi = ga_select(a, n, n / 2), lo;
	size_t i;

	if (n & 1)
		return hi;
	/* after selection everything left of n/2 is <= hi: the lower middle is their max */
	lo = a[0];
	for (i = 1; i < n / 2; i++)
		if (a[i] > lo)
			lo = a[i];
	return (lo + hi) / 2;
}

static uint64_t ga_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*
 * Theil-Sen slope of n points using buf (max_pairs doubles). All pairs when there are few
 * enough, else max_pairs pairs drawn by a fixed-seed generator, so the same data always
 * gives the same slope. Cost O(min(n^2/2, max_pairs)).
 */
static double ga_theil_sen(const double *t, const double *v, size_t n, double *buf,
			   size_t max_pairs)
{
	uint64_t rng = 0x6d656d736c6f7065ULL ^ n;
	size_t m = 0, i, j, k;

	if (n < 2)
		return 0;
	if (n * (n - 1) / 2 <= max_pairs) {
		for (i = 0; i < n; i++)
			for (j = i + 1; j < n; j++)
				buf[m++] = (v[j] - v[i]) / (t[j] - t[i]);
	} else {
		for (k = 0; k < max_pairs; k++) {
			i = ga_rand(&rng) % n;
			j = ga_rand(&rng) % (n - 1);
			if (j >= i)
				j++;
			buf[m++] = (v[j] - v[i]) / (t[j] - t[i]);
		}
	}
	return ga_median(buf, m);
}

struct ga_fit {
	double slope;
	double r2;
	double se;		/* standard error of the slope under white noise */
};

/* ordinary least squares, two-pass (centred) for accuracy on byte counts near 1e10 */
static struct ga_fit ga_ols(const double *t, const double *v, size_t n)
{
	struct ga_fit f = { 0, 0, INFINITY };
	double mt = 0, mv = 0, sxx = 0, sxy = 0, syy = 0, sse;
	size_t i;

	if (n < 2)
		return f;
	for (i = 0; i < n; i++) {
		mt += t[i];
		mv += v[i];
	}
	mt /= n;
	mv /= n;
	for (i = 0; i < n; i++) {
		sxx += (t[i] - mt) * (t[i] - mt);
		sxy += (t[i] - mt) * (v[i] - mv);
		syy += (v[i] - mv) * (v[i] - mv);
	}
	if (sxx <= 0)
		return f;
	f.slope = sxy / sxx;
	sse = syy - f.slope * sxy;
	if (sse < 0)
		sse = 0;
	f.r2 = syy > 0 ? 1 - sse / syy : 0;
	if (f.r2 < 0)
		f.r2 = 0;
	f.se = n > 2 ? sqrt(sse / (n - 2) / sxx) : INFINITY;
	return f;
}

/*
 * Mann-Kendall S = #concordant - #discordant pairs, by counting discordant pairs while
 * merge-sorting v (Knight's method): O(n log n) instead of the O(n^2) pair loop. Fills
 * *tie_var with sum g(g-1)(2g+5) over groups of equal values. a and tmp are scratch.
 */
static double ga_mk_s(const double *v, size_t n, double *a, double *tmp, double *tie_var)
{
	double disc = 0, ties = 0, tv = 0;
	size_t width, i;

	memcpy(a, v, n * sizeof(*a));
	for (width = 1; width < n; width *= 2) {
		for (i = 0; i < n; i += 2 * width) {
			size_t mid = i + width < n ? i + width : n;
			size_t hi = i + 2 * width < n ? i + 2 * width : n;
			size_t l = i, r = mid, o = i;

			while (l < mid && r < hi) {
				if (a[l] <= a[r]) {
					tmp[o++] = a[l++];
				} else {
					/* a[r] is smaller than every a[l..mid): all are discordant */
					disc += mid - l;
					tmp[o++] = a[r++];
				}
			}
			while (l < mid)
				tmp[o++] = a[l++];
			while (r < hi)
				tmp[o++] = a[r++];
		}
		memcpy(a, tmp, n * sizeof(*a));
	}
	for (i = 0; i < n;) {
		size_t g = 1;

		while (i + g < n && a[i + g] == a[i])
			g++;
		ties += (double)g * (g - 1) / 2;
		tv += (double)g * (g - 1) * (2 * g + 5);
		i += g;
	}
	*tie_var = tv;
	return (double)n * (n - 1) / 2 - ties - 2 * disc;
}

/*
 * One-sided p-value of an upward Mann-Kendall trend in v, with the variance of S
 * inflated by the AR(1) effective-sample-size factor of the residuals around slope.
 * Residuals are winsorized at 3 robust sds so one spike cannot hide autocorrelation.
 * scratch: 2n doubles.
 */
static double ga_mk_p_up(const double *t, const double *v, size_t n, double slope,
			 double *scratch)
{
	double *a = scratch, *tmp = scratch + n;
	double tie_var, s, var, mean = 0, c0 = 0, c1 = 0, rho, factor = 1, pk = 1, z, med, mad;
	size_t i, k;

	if (n < 3)
		return 1;
	s = ga_mk_s(v, n, a, tmp, &tie_var);
	var = ((double)n * (n - 1) * (2 * n + 5) - tie_var) / 18;
	if (var <= 0 || s <= 0)
		return s > 0 ? 0 : (s == 0 ? 0.5 : 1);

	for (i = 0; i < n; i++)
		a[i] = v[i] - slope * (t[i] - t[0]);
	memcpy(tmp, a, n * sizeof(*a));
	med = ga_median(tmp, n);
	for (i = 0; i < n; i++)
		tmp[i] = fabs(a[i] - med);
	mad = 1.4826 * ga_median(tmp, n);
	for (i = 0; i < n; i++) {
		if (mad > 0 && a[i] > med + 3 * mad)
			a[i] = med + 3 * mad;
		else if (mad > 0 && a[i] < med - 3 * mad)
			a[i] = med - 3 * mad;
		mean += a[i];
	}
	mean /= n;
	for (i = 0; i < n; i++) {
		c0 += (a[i] - mean) * (a[i] - mean);
		if (i + 1 < n)
			c1 += (a[i] - mean) * (a[i + 1] - mean);
	}
	/* a noise-free line leaves only rounding residue: that is not autocorrelation */
	rho = c1 / fmax(c0, n * GA_NOISE_FLOOR * GA_NOISE_FLOOR);
	if (rho > 0) {
		for (k = 1; k < n; k++) {
			pk *= rho;
			if (pk < 1e-9)
				break;
			factor += 2 * (1 - (double)k / n) * pk;
		}
	}
	z = (s - 1) / sqrt(var * factor);	/* continuity correction */
	return 0.5 * erfc(z / M_SQRT2);
}

/* ---- the analysis ------------------------------------------------------ */

struct ga {
	const struct growth_cfg *cfg;
	size_t n;
	double *t, *v, *y;	/* raw and median-of-3 filtered values */
	const double *rv;	/* v or y: what the releases were found on */
	double *w;		/* scratch: 2n */
	double *pairs;		/* scratch: GROWTH_TS_MAX_PAIRS */
	double *ps;		/* prefix sums: 5 (n + 1) */
	double sig_d;		/* robust sd of first differences */
	double sig_n;		/* robust sd of the white noise: sig_d / sqrt 2 */
	double alpha;
};

static void ga_noise(struct ga *g)
{
	size_t n = g->n - 1, i, lag;
	double *d = g->w, *e = g->w + n, med, sd = 0;

	/*
	 * Quantized memory (whole pages, arenas grown in big steps) mostly does not change
	 * from one sample to the next, so the MAD of the differences is 0. The noise scale
	 * is then the size of the changes: take the shortest lag at which most differences
	 * are non-zero, scaled back to a one-sample difference as if white.
	 */
	for (lag = 1; lag <= GA_NOISE_MAX_LAG && lag < n && sd <= 0; lag++) {
		size_t m = g->n - lag;

		for (i = 0; i < m; i++)
			d[i] = g->v[i + lag] - g->v[i];
		memcpy(e, d, m * sizeof(*d));
		med = ga_median(e, m);
		for (i = 0; i < m; i++)
			e[i] = fabs(d[i] - med);
		sd = 1.4826 * ga_median(e, m);
		if (sd <= 0) {
			/* exactly periodic steps keep the MAD at 0 at every lag */
			size_t nz = 0;
			double sum = 0;

			for (i = 0; i < m; i++) {
				nz += d[i] != 0;
				sum += fabs(d[i] - med);
			}
			if (2 * nz >= m || lag == GA_NOISE_MAX_LAG)
				sd = 1.2533 * sum / m;
		}
	}
	g->sig_d = fmax(sd, GA_NOISE_FLOOR);
	g->sig_n = g->sig_d / M_SQRT2;
}

/*
 * Prefix sums of t, v, t^2, tv, v^2 from index lo, centred on the point at lo. Raw values,
 * not the filtered ones: filtering correlates the noise and makes splits look better.
 */
static void ga_prefix(struct ga *g, size_t lo)
{
	double *p = g->ps, t0 = g->t[lo], y0 = g->v[lo];
	size_t i, m = g->n - lo;

	memset(p, 0, 5 * sizeof(*p));
	for (i = 0; i < m; i++) {
		double x = g->t[lo + i] - t0, y = g->v[lo + i] - y0;
		double *q = p + 5 * i, *r = p + 5 * (i + 1);

		r[0] = q[0] + x;
		r[1] = q[1] + y;
		r[2] = q[2] + x * x;
		r[3] = q[3] + x * y;
		r[4] = q[4] + y * y;
	}
}

/* residual sum of squares of the least-squares line on [a, b) (relative to the prefix base) */
static double ga_sse(const struct ga *g, size_t a, size_t b)
{
	const double *p = g->ps + 5 * a, *q = g->ps + 5 * b;
	double m = b - a, st, sy, sxx, sxy, syy, sse;

	if (b - a < 3)
		return 0;
	st = q[0] - p[0];
	sy = q[1] - p[1];
	sxx = (q[2] - p[2]) - st * st / m;
	sxy = (q[3] - p[3]) - st * sy / m;
	syy = (q[4] - p[4]) - sy * sy / m;
	sse = sxx > 0 ? syy - sxy * sxy / sxx : syy;
	return sse > 0 ? sse : 0;
}

/*
 * Start of the window the verdict rests on, at or after lo: repeatedly split the tail
 * into two independent lines where that lowers the residual sum of squares by more than
 * a BIC penalty, keeping the right part. The right part keeps at least min_w points.
 */
static size_t ga_window(struct ga *g, size_t lo, size_t min_w)
{
	size_t start = lo, pass, k;

	for (pass = 0; pass < GA_MAX_SPLITS; pass++) {
		size_t m = g->n - start, best = 0;
		double sse1, best_sse = INFINITY, floor_sse = m * GA_NOISE_FLOOR * GA_NOISE_FLOOR;

		if (m < min_w + 3)
			break;
		ga_prefix(g, start);
		sse1 = ga_sse(g, 0, m);
		for (k = 3; k + min_w <= m; k++) {
			double sse2 = ga_sse(g, 0, k) + ga_sse(g, k, m);

			if (sse2 < best_sse) {
				best_sse = sse2;
				best = k;
			}
		}
		if (!best || m * log((sse1 + floor_sse) / (best_sse + floor_sse)) <=
				     GA_SPLIT_LAMBDA * log((double)m))
			break;
		start += best;
	}
	return start;
}

struct ga_trend {
	double ts;		/* Theil-Sen slope */
	double p;		/* one-sided MK p of an upward trend */
	struct ga_fit ols;
};

static struct ga_trend ga_trend_of(struct ga *g, const double *v, size_t a, size_t b)
{
	struct ga_trend tr;

	tr.ts = ga_theil_sen(g->t + a, v + a, b - a, g->pairs, GROWTH_TS_MAX_PAIRS);
	tr.p = ga_mk_p_up(g->t + a, v + a, b - a, tr.ts, g->w);
	tr.ols = ga_ols(g->t + a, v + a, b - a);
	return tr;
}

/*
 * Growth worth a verdict: significant, at least the warning slope, and a total rise over
 * the window of GA_MIN_RISE noise sds. The last guards against the window search having
 * picked the stretch of noise that happens to slope most.
 */
static bool ga_grows(const struct ga *g, const struct ga_trend *tr, size_t a)
{
	double span = g->t[g->n - 1] - g->t[a];

	return tr->p < g->alpha && tr->ts > 0 && tr->ts >= g->cfg->warn_bps &&
	       tr->ts * span >= GA_MIN_RISE * g->sig_n;
}

/* The rise from sample i to i + 1 of the filtered series, scaled to a sampling interval of dt. */
static double ga_step_incr(const struct ga *g, size_t i, double dt)
{
	double span = g->t[i + 1] - g->t[i];

	return span > 0 ? (g->y[i + 1] - g->y[i]) * (dt / span) : g->y[i + 1] - g->y[i];
}

/*
 * Is the growth on [a, b) one step? Find the biggest run of at most GA_STEP_SPAN
 * consecutive increments of the filtered series that each exceed the typical increment
 * by GA_STEP_SIGMA diff-sds, remove it, and test the rest again. Returns true when the
 * rest no longer grows; *rest gets its Theil-Sen slope.
 */
static bool ga_is_step(struct ga *g, size_t a, size_t b, double *rest)
{
	size_t m = b - a - 1, i, run = 0, best_end = 0;
	double *d = g->w, med, thr, best = 0, *u, dt;
	struct ga_trend tr;
	bool step;

	/*
	 * Increments per typical sampling interval: a sample that comes late (the
	 * sampler stalled) spans more time and rises more, which is no step.
	 */
	for (i = 0; i < m; i++)
		d[i] = g->t[a + i + 1] - g->t[a + i];
	dt = ga_median(d, m);
	for (i = 0; i < m; i++)
		d[i] = ga_step_incr(g, a + i, dt);
	med = ga_median(d, m);
	thr = med + fmax(GA_STEP_SIGMA * g->sig_d, 4 * fabs(med));
	for (i = 0; i <= m; i++) {
		double di = i < m ? ga_step_incr(g, a + i, dt) : -INFINITY;
		size_t s0, e0, w;
		double before, after, size;

		if (di > thr) {
			run++;
			continue;
		}
		if (!run || run > GA_STEP_SPAN) {
			run = 0;
			continue;
		}
		/*
		 * The run covers points [i - run, i]. A step is a level that stays: compare
		 * the medians of GA_STEP_SPAN + 2 points either side, so a spike that comes
		 * back down is not taken for one.
		 */
		s0 = a + i - run;
		e0 = a + i;
		w = GA_STEP_SPAN + 2;
		if (s0 + 1 < a + w || e0 + w > b) {
			run = 0;
			continue;
		}
		memcpy(g->w + m, g->y + s0 + 1 - w, w * sizeof(double));
		before = ga_median(g->w + m, w);
		memcpy(g->w + m, g->y + e0, w * sizeof(double));
		after = ga_median(g->w + m, w);
		size = after - before - (g->t[e0] - g->t[s0]) / dt * med;
		if (size > thr && size > best) {
			best = size;
			best_end = i;
		}
		run = 0;
	}
	if (best <= 0)
		return false;
	u = malloc((b - a) * sizeof(*u));
	if (!u)
		return false;
	for (i = 0; i < b - a; i++)
		u[i] = g->v[a + i] - (i >= best_end ? best : 0);
	tr.ts = ga_theil_sen(g->t + a, u, b - a, g->pairs, GROWTH_TS_MAX_PAIRS);
	tr.p = ga_mk_p_up(g->t + a, u, b - a, tr.ts, g->w);
	step = !ga_grows(g, &tr, a);
	*rest = tr.ts;
	free(u);
	return step;
}

/* v[i + lag] - v[i], less what a line of this rate rises over their time span */
static double ga_lag_diff(const struct ga *g, size_t i, size_t lag, double rate)
{
	return g->v[i + lag] - g->v[i] - rate * (g->t[i + lag] - g->t[i]);
}

/*
 * Roughly linear: both halves' slopes agree with the window's, and the scatter around the
 * line is the white noise seen in the differences. A random walk fails the second test
 * (its residuals grow like sqrt(n) times the step), and so does a trend with a wobble.
 */
static bool ga_linear(struct ga *g, size_t a, size_t b, double slope)
{
	size_t mid = a + (b - a) / 2, h, i, m = b - a;
	size_t lo[2] = { a, mid }, hi[2] = { mid, b };
	double *r = g->w, med, sd, jit;

	for (i = 0; i < m; i++)
		r[i] = g->v[a + i] - slope * (g->t[a + i] - g->t[a]);
	med = ga_median(r, m);
	for (i = 0; i < m; i++)
		r[i] = fabs(g->v[a + i] - slope * (g->t[a + i] - g->t[a]) - med);
	sd = 1.4826 * ga_median(r, m);
	/*
	 * Sampling instants jitter (the sampler wakes a little late), so even an exact,
	 * noise-free line scatters by slope * jitter around the fit: that is not
	 * curvature. Measure the jitter as the robust sd of the sampling intervals.
	 */
	jit = 0;
	if (m >= 3) {
		for (i = 0; i + 1 < m; i++)
			r[i] = g->t[a + i + 1] - g->t[a + i];
		med = ga_median(r, m - 1);
		for (i = 0; i + 1 < m; i++)
			r[i] = fabs(g->t[a + i + 1] - g->t[a + i] - med);
		jit = 1.4826 * ga_median(r, m - 1);
	}
	if (sd > GA_LOF_MAX * fmax(g->sig_n, fabs(slope) * jit))
		return false;
	/*
	 * Variance ratio: around a line, differences over a quarter of the window scatter
	 * as much as one-sample differences; a random walk's scatter grows with the lag.
	 * Two lines fit a series sampled with jitter: memory that grows with the clock
	 * (differences less the line's rise over their own time span, so a late or missed
	 * sample changes the span, not the scatter), and memory that grows in ticks of its
	 * own, sampled once a tick (plain differences). Either will do.
	 */
	if (m >= 16) {
		size_t lag = m / 4, k = m - lag;
		double vr[2];

		for (int by_time = 0; by_time < 2; by_time++) {
			double rate = by_time ? slope : 0;

			for (i = 0; i < k; i++)
				r[i] = ga_lag_diff(g, a + i, lag, rate);
			med = ga_median(r, k);	/* reorders r */
			for (i = 0; i < k; i++)
				r[i] = fabs(ga_lag_diff(g, a + i, lag, rate) - med);
			vr[by_time] = 1.4826 * ga_median(r, k);
		}
		if (fmin(vr[0], vr[1]) > GA_VR_MAX * g->sig_d)
			return false;
	}

	for (h = 0; h < 2; h++) {
		double bh = ga_theil_sen(g->t + lo[h], g->v + lo[h], hi[h] - lo[h], g->pairs,
					 GA_HALF_PAIRS);
		struct ga_fit f = ga_ols(g->t + lo[h], g->v + lo[h], hi[h] - lo[h]);
		double se = isfinite(f.se) ? f.se : 0;

		if (fabs(bh - slope) > GA_LIN_TOL * slope + 2 * se)
			return false;
	}
	return true;
}

/* quadratic coefficient of a least-squares parabola on m points and its standard error */
struct ga_quad {
	double c2;		/* v ~ c0 + c1 t + c2 t^2 */
	double se;		/* INFINITY when it cannot be told (too few points, no spread) */
	double slope0, slope1;	/* the parabola's slope at the first and the last point */
};

/*
 * Orthogonal polynomials on the centred times (1, x, x^2 - a x - b) give the coefficient of
 * the square term without solving normal equations, and stay accurate on byte counts near
 * 1e10. The standard error uses the fit's own residuals: outliers and a bad fit make it
 * wide, so they read as "cannot tell", never as curvature.
 */
static struct ga_quad ga_parabola(const double *t, const double *v, size_t m)
{
	struct ga_quad q = { 0, INFINITY };
	double mt = 0, mv = 0, sxx = 0, sx3 = 0, b, a, s11 = 0, s22 = 0, s1v = 0, s2v = 0, svv = 0;
	double sse;
	size_t i;

	if (m < 5)
		return q;
	for (i = 0; i < m; i++) {
		mt += t[i];
		mv += v[i];
	}
	mt /= m;
	mv /= m;
	for (i = 0; i < m; i++) {
		double x = t[i] - mt;

		sxx += x * x;
		sx3 += x * x * x;
	}
	if (sxx <= 0)
		return q;
	b = sxx / m;
	a = sx3 / sxx;
	for (i = 0; i < m; i++) {
		double x = t[i] - mt, p2 = x * x - a * x - b, y = v[i] - mv;

		s11 += x * x;
		s22 += p2 * p2;
		s1v += x * y;
		s2v += p2 * y;
		svv += y * y;
	}
	if (s22 <= 0)
		return q;
	q.c2 = s2v / s22;
	/* v ~ mv + (s1v / s11) x + c2 (x^2 - a x - b): its slope is s1v / s11 + c2 (2 x - a) */
	q.slope0 = s1v / s11 + q.c2 * (2 * (t[0] - mt) - a);
	q.slope1 = s1v / s11 + q.c2 * (2 * (t[m - 1] - mt) - a);
	sse = svv - s1v * s1v / s11 - s2v * s2v / s22;
	/* memory is counted in whole bytes: a noise-free line's rounding is not curvature */
	q.se = sqrt(fmax(sse / (m - 3), GA_NOISE_FLOOR * GA_NOISE_FLOOR) / s22);
	return q;
}

/* how far a parabola's bend must stand out: sqrt(GA_DECEL_BIC ln m), a BIC-like margin */
static double ga_decel_z(size_t m)
{
	return sqrt(GA_DECEL_BIC * log((double)m));
}

/* the parabola bends down by z standard errors, and its slope falls by GA_DECEL_DROP */
static bool ga_bends_down(const struct ga_quad *q, double z)
{
	return isfinite(q->se) && q->c2 < -z * q->se &&
	       q->slope1 <= (1 - GA_DECEL_DROP) * q->slope0;
}

/*
 * Is growth that ends in the window [k, n) slowing down, the way a cache warms or a pool
 * fills up? Decided on the window and as much again before it (from lo on), because the
 * change-point search cuts a smooth bend into a steep part and a recent part that alone
 * looks straight. Decelerating when that span's parabola bends down (ga_bends_down, at
 * ga_decel_z), unless the window is a straight line after a knee (a warm-up, then a long
 * leak): the window itself does not bend down even mildly (GA_KNEE_MILD standard errors)
 * and rejects the span's bend by GA_KNEE_Z. The margin grows with ln n because a long
 * straight leak would otherwise read as slowing down now and then on noise alone, while
 * a real fill that slows shows a bend far beyond it.
 */
static bool ga_decelerating(struct ga *g, size_t lo, size_t k)
{
	size_t n = g->n, e = k > lo + (n - k) ? k - (n - k) : lo;
	struct ga_quad qe, qw;

	qe = ga_parabola(g->t + e, g->v + e, n - e);
	if (!ga_bends_down(&qe, ga_decel_z(n - e)))
		return false;
	if (e == k)
		return true;
	qw = ga_parabola(g->t + k, g->v + k, n - k);
	return !(isfinite(qw.se) && !ga_bends_down(&qw, GA_KNEE_MILD) &&
		 qw.c2 - qe.c2 > GA_KNEE_Z * qw.se);
}

/*
 * Growth on the window [k, n) that is a leak: roughly linear and not slowing down. A
 * window that starts at a change point (k > lo) was picked out of many as the one that
 * slopes most, so its line must also stand out by GA_KNEE_Z standard errors, taken with
 * the series' noise (the window's own scatter is flattered by the choice): a few seconds
 * of flat noise that happen to rise are not a leak.
 */
static bool ga_is_leak(struct ga *g, size_t lo, size_t k, const struct ga_trend *tr)
{
	size_t n = g->n, i;

	if (k > lo) {
		double mt = 0, sxx = 0, sd;

		for (i = k; i < n; i++)
			mt += g->t[i];
		mt /= n - k;
		for (i = k; i < n; i++)
			sxx += (g->t[i] - mt) * (g->t[i] - mt);
		sd = isfinite(tr->ols.se) ? fmax(tr->ols.se * sqrt(sxx), g->sig_n) : INFINITY;
		if (!(tr->ols.slope * sqrt(sxx) > GA_KNEE_Z * sd))
			return false;
	}
	return ga_linear(g, k, n, tr->ts) && !ga_decelerating(g, lo, k);
}

static enum growth_severity ga_severity(const struct growth_cfg *cfg, double slope)
{
	if (slope >= cfg->crit_bps)
		return GS_CRITICAL;
	if (slope >= cfg->warn_bps)
		return GS_WARNING;
	return GS_OK;
}

static void ga_set_window(const struct ga *g, size_t a, struct growth *out)
{
	out->window_s = g->t[g->n - 1] - g->t[a];
	out->window_points = g->n - a;
}

/* the trend path: change-point window from lo, then trend, step and linearity tests */
static void ga_judge_trend(struct ga *g, size_t lo, struct growth *out)
{
	const struct growth_cfg *cfg = g->cfg;
	size_t n = g->n, min_w, k;
	struct ga_trend tr;
	double rest;

	/* a tail too short to judge alone (fast regrowth after a release): judge it all */
	if (n - lo < cfg->min_points)
		lo = 0;
	min_w = (n - lo) / GA_MIN_WINDOW_DIV;
	if (min_w < cfg->min_points)
		min_w = cfg->min_points;
	if (min_w < 5)
		min_w = 5;
	k = ga_window(g, lo, min_w);
	tr = ga_trend_of(g, g->v, k, n);
	ga_set_window(g, k, out);
	out->slope_bps = tr.ts;
	out->ols_slope_bps = tr.ols.slope;
	out->r2 = tr.ols.r2;
	out->p_value = tr.p;

	if (ga_grows(g, &tr, k)) {
		if (ga_is_step(g, k, n, &rest)) {
			out->verdict = GV_PLATEAU;
			out->slope_bps = rest;
			return;
		}
		out->verdict = ga_is_leak(g, lo, k, &tr) ? GV_LEAK : GV_GROWING;
		out->severity = ga_severity(cfg, tr.ts);
		return;
	}
	/*
	 * Not growing now. Did it grow before (warm-up, a step)? Then it is a plateau.
	 * Levels are medians of 5 points, so one spike moves neither.
	 */
	out->verdict = GV_STABLE;
	if (n - lo >= 10) {
		double before, now, span = g->t[n - 1] - g->t[lo];

		memcpy(g->w, g->v + lo, 5 * sizeof(double));
		before = ga_median(g->w, 5);
		memcpy(g->w, g->v + n - 5, 5 * sizeof(double));
		now = ga_median(g->w, 5);
		if (now - before >= fmax(4 * g->sig_n, cfg->warn_bps * span))
			out->verdict = GV_PLATEAU;
	}
}

struct ga_release {
	size_t peak;		/* index of the top before the drop */
	size_t end;		/* index where the drop ends */
	size_t trough;		/* index of the lowest point until the next release */
};

/* the series' 5th..95th percentile range of the filtered values */
static double ga_range(struct ga *g)
{
	size_t n = g->n;
	double lo, hi;

	memcpy(g->w, g->y, n * sizeof(double));
	lo = ga_select(g->w, n, n / 20);
	hi = ga_select(g->w, n, n - 1 - n / 20);
	return hi - lo;
}

/* Did x reach x[i] with a single step of at least jump in the samples before it? */
static bool ga_jump_top(const double *x, size_t i, double jump)
{
	for (size_t k = 0; k < GA_RELEASE_SPAN + 1 && k < i; k++)
		if (x[i - k] - x[i - k - 1] >= jump)
			return true;
	return false;
}

/*
 * The noise scale for releases, in first-difference units: the robust sd of second
 * differences, which a ramp of any slope leaves alone, where first differences mix
 * ramps, troughs and drops. At 1 Hz a tooth is a handful of samples, so the kinks
 * (ramp to drop, drop to trough, trough to ramp) are a third of all second differences
 * or more: the scale comes from their lower quartile (0.3186 sd for a normal variable),
 * which holds up to 75 % contamination. For white noise it matches sig_d; for a random
 * walk it is sqrt(2/3) of it (the share test in ga_releases guards that). 0 when the
 * series is too quantized to tell.
 */
static double ga_release_noise(struct ga *g)
{
	size_t m = g->n - 2, i;
	double *d = g->w, med;

	for (i = 0; i < m; i++)
		d[i] = g->v[i + 2] - 2 * g->v[i + 1] + g->v[i];
	memcpy(d + m, d, m * sizeof(*d));
	med = ga_median(d + m, m);
	for (i = 0; i < m; i++)
		d[i] = fabs(d[i] - med);
	return ga_select(d, m, m / 4) / 0.3186 / sqrt(3);
}

/* releases of at least h in v (g->v or g->y): tops, ends and troughs; returns how many */
static size_t ga_find_releases(struct ga *g, const double *v, double h, struct ga_release *rel,
			       size_t max)
{
	size_t n = g->n, i = 0, nr = 0, j;

	g->rv = v;
	while (i + 1 < n && nr < max) {
		size_t q = i;

		for (j = i + 1; j < n && j <= i + GA_RELEASE_SPAN; j++)
			if (v[j] < v[q])
				q = j;
		/*
		 * A tooth is built up: a top reached by a jump is a spike, not a
		 * release. A jump is one step of at least half the drop; a steep
		 * ramp over several samples is still a tooth. And memory stays down
		 * after a release: a dip that the next sample undoes by half is noise.
		 */
		if (v[i] - v[q] < h || ga_jump_top(v, i, 0.5 * (v[i] - v[q])) ||
		    (q + 1 < n && v[q + 1] > v[i] - 0.5 * h)) {
			i++;
			continue;
		}
		/* a slow GC keeps falling for a while: the release ends where the fall does */
		while (q + 1 < n && v[q + 1] < v[q])
			q++;
		rel[nr].peak = i;
		rel[nr].end = q;
		nr++;
		i = q;
	}
	for (j = 0; j < nr; j++) {
		size_t stop = j + 1 < nr ? rel[j + 1].peak : n - 1, m = rel[j].end;

		for (i = rel[j].end; i <= stop; i++)
			if (v[i] < v[m])
				m = i;
		rel[j].trough = m;
	}
	return nr;
}

/*
 * Releases: drops of GA_RELEASE_SIGMA noise sds, 20 % of the range and 1 % of the level.
 * First with the second-difference noise scale, which ramps do not inflate, on the raw
 * series: the median filter takes the top sample off every tooth and fills single-sample
 * troughs, at 1 Hz most of the drop. Releases found that way must carry GA_RELEASE_SHARE
 * of all the series' falls, as a sawtooth's do (a random walk falls as much in small
 * steps as in big ones). Else, as before that, with sig_d on the filtered series.
 */
static size_t ga_releases(struct ga *g, struct ga_release *rel, size_t max)
{
	size_t n = g->n, nr, i;
	double h, hd, level, sig, fall = 0, drop = 0;

	memcpy(g->w, g->y, n * sizeof(double));
	level = fabs(ga_median(g->w, n));
	h = fmax(GA_RELEASE_RANGE * ga_range(g), GA_RELEASE_LEVEL * level);
	h = fmax(h, GA_NOISE_FLOOR);
	hd = fmax(h, GA_RELEASE_SIGMA * g->sig_d);
	sig = n >= 8 ? ga_release_noise(g) : 0;
	if (!(sig > 0 && sig < g->sig_d))
		return ga_find_releases(g, g->y, hd, rel, max);
	nr = ga_find_releases(g, g->v, fmax(h, GA_RELEASE_SIGMA * sig), rel, max);
	for (i = 0; i + 1 < n; i++)
		fall += fmax(g->v[i] - g->v[i + 1], 0);
	for (i = 0; i < nr; i++)
		drop += g->v[rel[i].peak] - g->v[rel[i].end];
	if (drop >= GA_RELEASE_SHARE * fall)
		return nr;
	return ga_find_releases(g, g->y, hd, rel, max);
}

/* judge a sawtooth on its troughs; returns false when the trend path should judge instead */
static bool ga_judge_sawtooth(struct ga *g, struct ga_release *rel, size_t nr, struct growth *out)
{
	const struct growth_cfg *cfg = g->cfg;
	size_t n = g->n, i, j, conc = 0, disc = 0, first = rel[0].end;
	double *tt = g->w, *uu = g->w + nr, slope, rise, tau, period, peak_max = 0;
	struct ga_fit f;

	for (j = 0; j < nr; j++)
		peak_max = j ? fmax(peak_max, g->rv[rel[j].peak]) : g->rv[rel[j].peak];
	if (nr == 1) {
		/*
		 * One release: a sawtooth until the new build-up passes the old top and has
		 * gone on for two build-ups of the first tooth (teeth differ in height);
		 * after that memory is higher than it ever was and the trend path judges the
		 * part after the release. The first tooth's build-up is taken as twice the
		 * time it took to rise from halfway to its top: its start may predate the
		 * series.
		 */
		double half = (g->rv[rel[0].peak] + g->rv[first]) / 2, build;

		for (i = rel[0].peak; i > 0 && g->rv[i - 1] > half; i--)
			;
		build = 2 * (g->t[rel[0].peak] - g->t[i ? i - 1 : 0]);
		for (i = first; i < n; i++)
			if (g->y[i] > peak_max && g->t[n - 1] - g->t[first] > 2 * build)
				return false;
		out->verdict = GV_SAWTOOTH;
		ga_set_window(g, first, out);
		return true;
	}
	/* the sawtooth has stopped (no release for two periods, above every old top)? */
	period = (g->t[rel[nr - 1].peak] - g->t[rel[0].peak]) / (nr - 1);
	if (g->t[n - 1] - g->t[rel[nr - 1].trough] > 2 * period && g->y[n - 1] > peak_max &&
	    n - rel[nr - 1].trough >= cfg->min_points)
		return false;

	for (j = 0; j < nr; j++) {
		tt[j] = g->t[rel[j].trough];
		uu[j] = g->rv[rel[j].trough];
	}
	slope = ga_theil_sen(tt, uu, nr, g->pairs, GROWTH_TS_MAX_PAIRS);
	f = ga_ols(tt, uu, nr);
	for (i = 0; i < nr; i++)
		for (j = i + 1; j < nr; j++) {
			if (uu[j] > uu[i])
				conc++;
			else if (uu[j] < uu[i])
				disc++;
		}
	tau = ((double)conc - disc) / ((double)nr * (nr - 1) / 2);
	rise = slope * (tt[nr - 1] - tt[0]);

	ga_set_window(g, rel[0].trough, out);
	out->slope_bps = slope;
	out->ols_slope_bps = f.slope;
	out->r2 = nr > 2 ? f.r2 : 1;
	if (slope >= cfg->warn_bps && rise >= 4 * g->sig_n && (nr < 3 || tau >= 0.5)) {
		out->verdict = GV_LEAK;
		out->severity = ga_severity(cfg, slope);
	} else {
		out->verdict = GV_SAWTOOTH;
	}
	return true;
}

/*
 * Cost for n points (n <= 1024 after decimation): O(n log n) for medians, Mann-Kendall
 * and the release scan, O(n) per change-point pass, and Theil-Sen capped at 4096 pairs
 * (1024 for each half): measured 70-100 us for 600 points (gcc -O2, x86-64), so 300
 * series every second cost 2-3 % of one core. One heap block of ~80 KiB.
 */
void growth__analyze(const struct series *s, const struct growth_cfg *cfg_in, double limit_bytes,
		     struct growth *out)
{
	struct growth_cfg cfg;
	struct ga g = { 0 };
	struct ga_release *rel = NULL;
	size_t len = series__len(s), n, stride, i, nr;
	double *blk = NULL, last;

	memset(out, 0, sizeof(*out));
	out->verdict = GV_INSUFFICIENT;
	out->severity = GS_OK;
	out->eta_limit_s = -1;
	out->p_value = 1;

	if (cfg_in)
		cfg = *cfg_in;
	else
		growth_cfg__default(&cfg);
	if (!(cfg.alpha > 0 && cfg.alpha < 1))
		cfg.alpha = 0.01;
	if (cfg.min_points < 3)
		cfg.min_points = 3;

	if (len < cfg.min_points)
		return;
	/* decimate from the newest point back so the newest is always analysed */
	stride = (len + GA_MAX_POINTS - 1) / GA_MAX_POINTS;
	n = (len - 1) / stride + 1;
	if (n < cfg.min_points)
		return;

	blk = malloc((3 * n + 2 * n + 5 * (n + 1) + GROWTH_TS_MAX_PAIRS) * sizeof(double));
	rel = malloc(n * sizeof(*rel));
	if (!blk || !rel)
		goto cleanup;
	g.cfg = &cfg;
	g.alpha = cfg.alpha;
	g.n = n;
	g.t = blk;
	g.v = g.t + n;
	g.y = g.v + n;
	g.w = g.y + n;
	g.ps = g.w + 2 * n;
	g.pairs = g.ps + 5 * (n + 1);
	for (i = 0; i < n; i++)
		series__get(s, len - 1 - (n - 1 - i) * stride, &g.t[i], &g.v[i]);
	if (g.t[n - 1] - g.t[0] < cfg.min_span_s)
		goto cleanup;

	/* median of 3: a one-sample spike is neither a release nor a change point */
	g.y[0] = g.v[0];
	g.y[n - 1] = g.v[n - 1];
	for (i = 1; i + 1 < n; i++) {
		double a = g.v[i - 1], b = g.v[i], c = g.v[i + 1];

		g.y[i] = fmax(fmin(a, b), fmin(fmax(a, b), c));
	}
	ga_noise(&g);
	out->noise_bytes = g.sig_n;

	nr = ga_releases(&g, rel, n);
	if (nr >= 1 && ga_judge_sawtooth(&g, rel, nr, out))
		goto done;
	ga_judge_trend(&g, nr ? rel[nr - 1].trough : 0, out);
done:
	last = g.v[n - 1];
	if ((out->verdict == GV_LEAK || out->verdict == GV_GROWING) && limit_bytes > 0 &&
	    out->slope_bps > 0)
		out->eta_limit_s = last >= limit_bytes ? 0 : (limit_bytes - last) / out->slope_bps;
cleanup:
	free(blk);
	free(rel);
}

double growth__slope_xy(const double *t, const double *v, size_t n)
{
	size_t pairs = n * (n - 1) / 2;
	double *buf, slope;

	if (n < 2)
		return 0;
	if (pairs > GROWTH_TS_MAX_PAIRS)
		pairs = GROWTH_TS_MAX_PAIRS;
	buf = malloc(pairs * sizeof(*buf));
	if (!buf)
		return 0;
	slope = ga_theil_sen(t, v, n, buf, GROWTH_TS_MAX_PAIRS);
	free(buf);
	return slope;
}

double growth__slope(const struct series *s)
{
	size_t n = series__len(s), i;
	double *t, *v, slope = 0;

	if (n < 2)
		return 0;
	t = malloc(2 * n * sizeof(*t));
	if (!t)
		return 0;
	v = t + n;
	for (i = 0; i < n; i++)
		series__get(s, i, &t[i], &v[i]);
	slope = growth__slope_xy(t, v, n);
	free(t);
	return slope;
}
