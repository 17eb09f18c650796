// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_growth.c - growth verdicts on synthetic series with known truth (fixed-seed PRNG) */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <unistd.h>

#include "alert.h"
#include "growth.h"

#define MB 1e6
#define BASE (100 * MB)

/* splitmix64: the same numbers on every libc, so failures reproduce */
static uint64_t rng_state;

static void rng_seed(uint64_t seed)
{
	rng_state = seed * 0x2545f4914f6cdd1dULL + 1;
}

static double rng_unif(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return (z >> 11) * (1.0 / 9007199254740992.0);
}

static double rng_gauss(void)
{
	double u = rng_unif(), v = rng_unif();

	if (u < 1e-300)
		u = 1e-300;
	return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

static struct growth_cfg cfg;

static void setup(void)
{
	growth_cfg__default(&cfg);
}

TestSuite(growth, .init = setup);

static struct growth judge(struct series *s, double limit)
{
	struct growth g;

	growth__analyze(s, &cfg, limit, &g);
	return g;
}

static bool flagged(const struct growth *g)
{
	return g->verdict == GV_LEAK || (g->verdict == GV_GROWING && g->severity >= GS_WARNING);
}

/* ---- the ring ----------------------------------------------------------- */

Test(growth, ring_drops_oldest_points)
{
	struct series *s = series__new(8);
	double t, v;
	int i;

	cr_assert_not_null(s);
	for (i = 0; i < 20; i++)
		series__push(s, i, 1000 + i);
	cr_assert_eq(series__len(s), 8);
	cr_assert_eq(series__capacity(s), 8);
	cr_assert_eq(series__get(s, 0, &t, &v), 0);
	cr_assert_eq(t, 12);
	cr_assert_eq(v, 1012);
	cr_assert_eq(series__get(s, 7, &t, &v), 0);
	cr_assert_eq(t, 19);
	cr_assert_eq(series__get(s, 8, &t, &v), -ERANGE);
	cr_assert_eq(series__last(s, &t, &v), 0);
	cr_assert_eq(v, 1019);
	series__clear(s);
	cr_assert_eq(series__len(s), 0);
	cr_assert_eq(series__last(s, &t, &v), -ENOENT);
	series__free(s);
	series__free(NULL);
}

Test(growth, ring_rejects_bad_points)
{
	struct series *s = series__new(4);

	series__push(s, 1, 10);
	series__push(s, 1, 11);		/* same time */
	series__push(s, 0.5, 12);	/* time going back */
	series__push(s, 2, NAN);
	series__push(s, INFINITY, 13);
	cr_assert_eq(series__len(s), 1);
	series__free(s);
	errno = 0;
	cr_assert_null(series__new(0));
	cr_assert_eq(errno, EINVAL);
}

Test(growth, names)
{
	cr_assert_str_eq(growth_verdict__str(GV_INSUFFICIENT), "insufficient-data");
	cr_assert_str_eq(growth_verdict__str(GV_LEAK), "leak");
	cr_assert_str_eq(growth_verdict__str(GV_SAWTOOTH), "sawtooth");
	cr_assert_str_eq(growth_severity__str(GS_WARNING), "warning");
	cr_assert_float_eq(cfg.warn_bps, 1e6 / 3600, 1e-9);
	cr_assert_float_eq(cfg.crit_bps, 5e6 / 3600, 1e-9);
}

/* ---- verdicts ------------------------------------------------------------ */

Test(growth, too_few_points_is_insufficient)
{
	struct series *s = series__new(600);
	struct growth g;
	int i;

	for (i = 0; i < 5; i++)
		series__push(s, i, BASE + i * MB);
	g = judge(s, 0);
	cr_assert_eq(g.verdict, GV_INSUFFICIENT);
	cr_assert_eq(g.severity, GS_OK);
	cr_assert_lt(g.eta_limit_s, 0);
	/* enough points but too short a span */
	series__clear(s);
	for (i = 0; i < 50; i++)
		series__push(s, i * 0.1, BASE + i * MB);
	cr_assert_eq(judge(s, 0).verdict, GV_INSUFFICIENT);
	series__free(s);
}

Test(growth, constant_is_stable)
{
	struct series *s = series__new(600);
	struct growth g;
	int i;

	for (i = 0; i < 300; i++)
		series__push(s, i, BASE);
	g = judge(s, 200 * MB);
	cr_assert_eq(g.verdict, GV_STABLE);
	cr_assert_eq(g.severity, GS_OK);
	cr_assert_float_eq(g.slope_bps, 0, 1e-9);
	cr_assert_lt(g.eta_limit_s, 0);
	series__free(s);
}

Test(growth, noisy_flat_is_stable)
{
	int seed, stable = 0;

	for (seed = 1; seed <= 50; seed++) {
		struct series *s = series__new(600);
		struct growth g;
		int i;

		rng_seed(seed);
		for (i = 0; i < 300; i++)
			series__push(s, i, BASE + 2 * MB * rng_gauss());
		g = judge(s, 0);
		cr_assert(!flagged(&g), "seed %d: flat noise flagged %s", seed,
			  growth_verdict__str(g.verdict));
		stable += g.verdict == GV_STABLE;
		series__free(s);
	}
	cr_assert_geq(stable, 45);
}

/* 100 KB/s for 600 s under gaussian noise of sd 10 MB plus 1 % of +100 MB spikes */
Test(growth, linear_leak_heavy_noise)
{
	const double truth = 100e3;
	int seed;

	for (seed = 1; seed <= 20; seed++) {
		struct series *s = series__new(600);
		struct growth g;
		int i;

		rng_seed(seed);
		for (i = 0; i < 600; i++) {
			double v = BASE + truth * i + 10 * MB * rng_gauss();

			if (rng_unif() < 0.01)
				v += 100 * MB;
			series__push(s, i, v);
		}
		g = judge(s, 0);
		cr_assert_eq(g.verdict, GV_LEAK, "seed %d: %s", seed, growth_verdict__str(g.verdict));
		cr_assert_eq(g.severity, GS_CRITICAL);
		cr_assert_float_eq(g.slope_bps, truth, 0.1 * truth, "seed %d: slope %.0f", seed,
				   g.slope_bps);
		cr_assert_lt(g.p_value, 0.01);
		series__free(s);
	}
}

/*
 * Slow leak: 100 KB/s while RSS wanders in a 10 MB band (uniform, sd 2.9 MB), 1 Hz.
 * After 90 s the total growth (9 MB) is below the band: detected in >= 90 % of runs
 * (the slope is then only good to ~+-25 %). After 240 s the slope is within 10 %.
 */
static struct series *slow_leak(int seed, int secs)
{
	struct series *s = series__new(600);
	int i;

	rng_seed(seed);
	for (i = 0; i < secs; i++)
		series__push(s, i, BASE + 100e3 * i + (rng_unif() - 0.5) * 10 * MB);
	return s;
}

Test(growth, slow_leak_detected_within_90s)
{
	int seed, hits = 0;

	for (seed = 1; seed <= 50; seed++) {
		struct series *s = slow_leak(seed, 90);
		struct growth g = judge(s, 0);

		if (flagged(&g) && g.severity == GS_CRITICAL)
			hits++;
		series__free(s);
	}
	cr_assert_geq(hits, 45, "slow leak detected in %d/50 runs", hits);
}

Test(growth, slow_leak_slope_within_10pct_at_240s)
{
	int seed;

	for (seed = 1; seed <= 20; seed++) {
		struct series *s = slow_leak(seed, 240);
		struct growth g = judge(s, 0);

		cr_assert_eq(g.verdict, GV_LEAK, "seed %d: %s", seed, growth_verdict__str(g.verdict));
		cr_assert_float_eq(g.slope_bps, 100e3, 10e3, "seed %d: slope %.0f", seed,
				   g.slope_bps);
		series__free(s);
	}
}

/* warm-up: +200 MB approached exponentially (tau 12 s), then flat for 4 minutes */
Test(growth, warmup_then_flat_is_plateau)
{
	int seed;

	for (seed = 1; seed <= 20; seed++) {
		struct series *s = series__new(600);
		struct growth g;
		int i;

		rng_seed(seed);
		for (i = 0; i < 300; i++) {
			double w = 200 * MB * (1 - exp(-fmin(i, 60) / 12.0));

			series__push(s, i, BASE + w + 1 * MB * rng_gauss());
		}
		g = judge(s, 0);
		cr_assert_eq(g.verdict, GV_PLATEAU, "seed %d: %s", seed,
			     growth_verdict__str(g.verdict));
		cr_assert_eq(g.severity, GS_OK);
		cr_assert_lt(fabs(g.slope_bps), cfg.warn_bps * 10);
		series__free(s);
	}
}

/* warm-up then a real leak: the window must exclude the warm-up for the slope */
Test(growth, warmup_then_leak_measures_the_leak)
{
	int seed;

	for (seed = 1; seed <= 20; seed++) {
		struct series *s = series__new(600);
		struct growth g;
		int i;

		rng_seed(seed);
		for (i = 0; i < 300; i++) {
			double v = i < 20 ? i * 5 * MB : 100 * MB + 50e3 * (i - 20);

			series__push(s, i, BASE + v + 1 * MB * rng_gauss());
		}
		g = judge(s, 0);
		cr_assert_eq(g.verdict, GV_LEAK, "seed %d: %s", seed, growth_verdict__str(g.verdict));
		cr_assert_float_eq(g.slope_bps, 50e3, 5e3, "seed %d: slope %.0f", seed, g.slope_bps);
		series__free(s);
	}
}

static void step_at(int at, int seeds)
{
	int seed;

	for (seed = 1; seed <= seeds; seed++) {
		struct series *s = series__new(600);
		struct growth g;
		int i;

		rng_seed(seed);
		for (i = 0; i < 300; i++)
			series__push(s, i, BASE + (i >= at ? 50 * MB : 0) + 1 * MB * rng_gauss());
		g = judge(s, 0);
		cr_assert(!flagged(&g), "step at %d, seed %d: %s", at, seed,
			  growth_verdict__str(g.verdict));
		cr_assert_eq(g.verdict, GV_PLATEAU, "step at %d, seed %d: %s", at, seed,
			     growth_verdict__str(g.verdict));
		series__free(s);
	}
}

Test(growth, single_step_is_not_a_leak)
{
	step_at(150, 20);
	step_at(280, 20);	/* 20 s ago: inside any window, still one step */
}

/* builds up 58 MB over 30 s, released at once; troughs flat */
Test(growth, sawtooth_flat_troughs)
{
	int seed;

	for (seed = 1; seed <= 20; seed++) {
		struct series *s = series__new(600);
		struct growth g;
		int i;

		rng_seed(seed);
		for (i = 0; i < 300; i++)
			series__push(s, i, BASE + (i % 30) * 2 * MB + 0.5 * MB * rng_gauss());
		g = judge(s, 0);
		cr_assert_eq(g.verdict, GV_SAWTOOTH, "seed %d: %s", seed,
			     growth_verdict__str(g.verdict));
		cr_assert_eq(g.severity, GS_OK);
		series__free(s);
	}
}

/* the same sawtooth whose troughs rise 200 KB/s: a leak, at the troughs' rate */
Test(growth, sawtooth_rising_troughs_is_leak)
{
	int seed;

	for (seed = 1; seed <= 20; seed++) {
		struct series *s = series__new(600);
		struct growth g;
		int i;

		rng_seed(seed);
		for (i = 0; i < 300; i++)
			series__push(s, i, BASE + (i % 30) * 2 * MB + 200e3 * i +
					   0.5 * MB * rng_gauss());
		g = judge(s, 0);
		cr_assert_eq(g.verdict, GV_LEAK, "seed %d: %s", seed, growth_verdict__str(g.verdict));
		cr_assert_float_eq(g.slope_bps, 200e3, 20e3, "seed %d: slope %.0f", seed,
				   g.slope_bps);
		series__free(s);
	}
}

/*
 * A gaussian random walk (1 MB steps at 1 Hz, so any drift it shows is "critical")
 * must not pass for a leak, nor often for a sawtooth. What it does produce (documented in
 * growth.c): mostly stable or plateau, sometimes growing; leak or sawtooth in 2-3 %.
 */
Test(growth, random_walk_is_not_a_critical_leak)
{
	int seed, leak = 0, calm = 0, saw = 0;

	for (seed = 1; seed <= 200; seed++) {
		struct series *s = series__new(600);
		struct growth g;
		double v = BASE;
		int i;

		rng_seed(seed);
		for (i = 0; i < 300; i++) {
			v += 1 * MB * rng_gauss();
			series__push(s, i, v);
		}
		g = judge(s, 0);
		leak += g.verdict == GV_LEAK && g.severity == GS_CRITICAL;
		calm += g.verdict == GV_STABLE || g.verdict == GV_PLATEAU;
		saw += g.verdict == GV_SAWTOOTH;
		series__free(s);
	}
	cr_assert_leq(leak, 10, "%d/200 random walks judged critical leaks", leak);
	/* releases found with the second-difference noise must carry most of the falls */
	cr_assert_leq(saw, 10, "%d/200 random walks judged sawtooth", saw);
	cr_assert_geq(calm, 120, "only %d/200 random walks judged stable or plateau", calm);
}

/* RSS that grows in 1 MB steps every 10 s is a leak of 100 KB/s, not a series of steps */
Test(growth, staircase_is_leak)
{
	struct series *s = series__new(600);
	struct growth g;
	int i;

	for (i = 0; i < 300; i++)
		series__push(s, i, BASE + floor(i / 10.0) * MB);
	g = judge(s, 0);
	cr_assert_eq(g.verdict, GV_LEAK, "%s", growth_verdict__str(g.verdict));
	cr_assert_float_eq(g.slope_bps, 100e3, 10e3);
	series__free(s);
}

Test(growth, severity_bands_and_eta)
{
	struct series *s = series__new(600);
	struct growth g;
	int i;

	/* 2 MB/h, noise-free: warning */
	for (i = 0; i < 300; i++)
		series__push(s, i * 10.0, BASE + i * 10.0 * 2 * MB / 3600);
	g = judge(s, 0);
	cr_assert_eq(g.verdict, GV_LEAK);
	cr_assert_eq(g.severity, GS_WARNING);
	cr_assert_lt(g.eta_limit_s, 0);

	/* 10 MB/h: critical; ETA to a limit 30 MB above the last point is 3 h */
	series__clear(s);
	for (i = 0; i < 300; i++)
		series__push(s, i * 10.0, BASE + i * 10.0 * 10 * MB / 3600);
	g = judge(s, BASE + 2990.0 * 10 * MB / 3600 + 30 * MB);
	cr_assert_eq(g.verdict, GV_LEAK);
	cr_assert_eq(g.severity, GS_CRITICAL);
	cr_assert_float_eq(g.eta_limit_s, 3 * 3600, 1);
	cr_assert_float_eq(g.r2, 1, 1e-6);

	/* 0.5 MB/h is below the warning band: not reported as growth */
	series__clear(s);
	for (i = 0; i < 300; i++)
		series__push(s, i * 10.0, BASE + i * 10.0 * 0.5 * MB / 3600);
	g = judge(s, 0);
	cr_assert_eq(g.verdict, GV_STABLE, "%s", growth_verdict__str(g.verdict));
	cr_assert_eq(g.severity, GS_OK);
	series__free(s);
}

Test(growth, long_series_is_decimated_not_truncated)
{
	struct series *s = series__new(5000);
	struct growth g;
	int i;

	rng_seed(3);
	for (i = 0; i < 5000; i++)
		series__push(s, i, BASE + 20e3 * i + 1 * MB * rng_gauss());
	g = judge(s, 0);
	cr_assert_eq(g.verdict, GV_LEAK);
	cr_assert_float_eq(g.slope_bps, 20e3, 2e3);
	cr_assert_gt(g.window_s, 4000);
	series__free(s);
}

Test(growth, theil_sen_slope_ignores_outliers)
{
	struct series *s = series__new(600);
	double t[50], v[50];
	int i;

	for (i = 0; i < 50; i++) {
		t[i] = i;
		v[i] = 1000 + 7.0 * i + (i % 10 == 3 ? 1e6 : 0);
		series__push(s, t[i], v[i]);
	}
	cr_assert_float_eq(growth__slope_xy(t, v, 50), 7.0, 1e-9);
	cr_assert_float_eq(growth__slope(s), 7.0, 1e-9);
	cr_assert_eq(growth__slope_xy(t, v, 1), 0);
	for (i = 50; i < 600; i++)
		series__push(s, i, 1000 + 7.0 * i);
	cr_assert_float_eq(growth__slope(s), 7.0, 1e-9);	/* sampled pairs */
	series__free(s);
}

/* ---- the benchmark workloads' shapes, judged online as memslope trace does ---- */

#define MiB 1048576.0
#define TICKS 10	/* the workloads act every 100 ms */

/*
 * tests/workloads/plateau.c at tick i of a run of secs seconds: a 64 MiB cache filled over
 * the first 20 % as CACHE * (1 - (1 - x)^2) (fast, then slowing to a stop), then flat.
 */
static double plateau_at(long i, long secs)
{
	long warm = secs * TICKS / 5;
	double x = i < warm ? 1.0 - (double)(i + 1) / warm : 0;

	return 64 * MiB * (1 - x * x);
}

/* tests/workloads/sawtooth.c: build-ups of 36-60 MiB over 3-5 s, all freed, 1-2 s trough */
struct saw {
	int phase;	/* 0 trough, 1 build */
	int k, build, trough;
	double height, rise_bps;	/* rise_bps: the troughs' slope, 0 in the workload */
};

static double saw_tick(struct saw *w, long i)
{
	double base = w->rise_bps * i / TICKS, v;

	if (w->phase == 0 && w->k >= w->trough) {
		w->phase = 1;
		w->k = 0;
		w->build = 3 * TICKS + (int)(rng_unif() * (2 * TICKS + 1));
		w->height = (0.75 + 0.5 * rng_unif()) * 48 * MiB;
	}
	if (w->phase == 1 && w->k < w->build) {
		v = w->height * (w->k + 1) / w->build;
		w->k++;
		return base + v;
	}
	if (w->phase == 1) {
		w->phase = 0;
		w->trough = TICKS + (int)(rng_unif() * (TICKS + 1));
		w->k = 1;	/* the release tick is the trough's first */
		return base;
	}
	w->k++;
	return base;
}

/*
 * Judge the series after every sample, like the trace's live table, and feed each verdict
 * to an alerter with the default hysteresis: counts of each verdict, of flagged ones (and
 * the time of the first), the time of the first growth alert (-1: none), the last verdict.
 */
struct online {
	int count[GV_LEAK + 1];
	int flagged;
	double first_flagged;
	double first_alert;
	struct growth last;
};

static struct online judge_online(const double *v, long n, double hz)
{
	struct series *s = series__new(3600);
	struct alert_proc p = { .pid = 1, .comm = "synthetic" };
	struct online o = { .first_flagged = -1, .first_alert = -1 };
	int devnull = open("/dev/null", O_WRONLY);
	struct alerter *a = alerter__new(devnull, NULL);
	long i;

	cr_assert_not_null(a);
	for (i = 0; i < n; i++) {
		double t = (i + 1) / hz;

		series__push(s, t, v[i]);
		o.last = judge(s, 0);
		o.count[o.last.verdict]++;
		if (flagged(&o.last) && !o.flagged++)
			o.first_flagged = t;
		if (alerter__feed(a, t, &p, &o.last, NULL, 0) == 1 && o.first_alert < 0)
			o.first_alert = t;
	}
	alerter__free(a);
	close(devnull);
	series__free(s);
	return o;
}

/* a workload shape sampled at hz for secs seconds, plus churn uniform on [0, 4 MiB] */
static long sample_plateau(double *v, long secs, double hz)
{
	long per = (long)(TICKS / hz), n = 0, i;

	for (i = 0; i < secs * TICKS; i++)
		if ((i + 1) % per == 0)
			v[n++] = BASE + plateau_at(i, secs) + 4 * MiB * rng_unif();
	return n;
}

static long sample_saw(double *v, long secs, double hz, double rise_bps)
{
	struct saw w = { .rise_bps = rise_bps };
	long per = (long)(TICKS / hz), n = 0, i;

	for (i = 0; i < secs * TICKS; i++) {
		double x = saw_tick(&w, i);

		if ((i + 1) % per == 0)
			v[n++] = BASE + x + 4 * MiB * rng_unif();
	}
	return n;
}

/*
 * plateau 120 (bench/detect.sh): the 24 s warm-up fills fast and keeps slowing. Its
 * first seconds look linear, then the slowing is plain: growing, not leak, and plateau
 * once flat. Through the default alerter: no growth alert.
 */
static void plateau_workload(double hz)
{
	static double v[2400];
	int seed;

	for (seed = 1; seed <= 40; seed++) {
		long n;
		struct online o;

		rng_seed(seed);
		n = sample_plateau(v, 120, hz);
		o = judge_online(v, n, hz);
		cr_assert_eq(o.last.verdict, GV_PLATEAU, "%.1f Hz seed %d: %s", hz, seed,
			     growth_verdict__str(o.last.verdict));
		cr_assert_lt(o.first_alert, 0, "%.1f Hz seed %d: growth alert at %.1f s", hz,
			     seed, o.first_alert);
		cr_assert_leq(o.count[GV_LEAK], 4 * hz, "%.1f Hz seed %d: %d leak verdicts", hz,
			      seed, o.count[GV_LEAK]);
	}
}

Test(growth, plateau_workload_1hz)
{
	plateau_workload(1);
}

Test(growth, plateau_workload_2hz)
{
	plateau_workload(2);
}

/* sawtooth 120 (bench/detect.sh): sawtooth from the second release on, never flagged */
static void saw_workload(double hz)
{
	static double v[2400];
	int seed;

	for (seed = 1; seed <= 20; seed++) {
		long n;
		struct online o;

		rng_seed(seed);
		n = sample_saw(v, 120, hz, 0);
		o = judge_online(v, n, hz);
		cr_assert_eq(o.last.verdict, GV_SAWTOOTH, "%.1f Hz seed %d: %s", hz, seed,
			     growth_verdict__str(o.last.verdict));
		cr_assert_lt(o.first_alert, 0, "%.1f Hz seed %d: growth alert at %.1f s", hz,
			     seed, o.first_alert);
		cr_assert_leq(o.flagged, 1, "%.1f Hz seed %d: flagged %d times, first at %.1f s",
			      hz, seed, o.flagged, o.first_flagged);
		cr_assert_geq(o.count[GV_SAWTOOTH], o.count[GV_STABLE] + o.count[GV_PLATEAU],
			      "%.1f Hz seed %d: sawtooth only %d times", hz, seed,
			      o.count[GV_SAWTOOTH]);
	}
}

Test(growth, sawtooth_workload_1hz)
{
	saw_workload(1);
}

Test(growth, sawtooth_workload_2hz)
{
	saw_workload(2);
}

/* the same teeth over troughs that rise 200 KB/s: a leak at the troughs' rate, 1 and 2 Hz */
Test(growth, sawtooth_workload_rising_troughs)
{
	static double v[2400];
	double hz;
	int seed;

	for (hz = 1; hz <= 2; hz++) {
		for (seed = 1; seed <= 10; seed++) {
			struct series *s = series__new(3600);
			struct growth g;
			long n, i;

			rng_seed(seed);
			n = sample_saw(v, 300, hz, 200e3);
			for (i = 0; i < n; i++)
				series__push(s, (i + 1) / hz, v[i]);
			g = judge(s, 0);
			cr_assert_eq(g.verdict, GV_LEAK, "%.0f Hz seed %d: %s", hz, seed,
				     growth_verdict__str(g.verdict));
			cr_assert_float_eq(g.slope_bps, 200e3, 20e3, "%.0f Hz seed %d: slope %.0f",
					   hz, seed, g.slope_bps);
			series__free(s);
		}
	}
}

/*
 * An exact, noise-free leak (exact mode's heap: 2 MiB/s in whole blocks) sampled by a loop
 * that stalls now and then (a new process symbolized, probes detached): 1 Hz with a little
 * jitter and one gap of G seconds somewhere. The values follow time exactly, so the gap is
 * no step and no curvature: a leak wherever the gap falls.
 */
Test(growth, exact_line_with_a_sampling_gap_is_leak)
{
	const double rate = 2.0 * 1048576, block = 8192;

	for (int gap = 2; gap <= 8; gap += 3) {
		for (int at = 3; at < 28; at += 2) {
			struct series *s = series__new(600);
			struct growth g;
			double t = 0;

			rng_seed(gap * 100 + at);
			for (int i = 0; i < 30; i++) {
				double v = floor(rate * t / block) * block;

				series__push(s, t, BASE / 10 + v);
				t += (i == at ? gap : 1) + 0.02 * rng_unif();
			}
			g = judge(s, 0);
			cr_assert_eq(g.verdict, GV_LEAK, "gap %d s after sample %d: %s (r2 %.6f)", gap, at,
				     growth_verdict__str(g.verdict), g.r2);
			cr_assert_float_eq(g.slope_bps, rate, 0.02 * rate);
			series__free(s);
		}
	}
}

/*
 * A workload that leaks in ticks of its own (leaky: 512 KiB every 0.5 s), sampled every
 * 0.5 s by a sampler that wakes 0-5 ms late: each sample sees exactly one more tick, so
 * the values follow the sample count and the clock only within the jitter. A leak.
 */
Test(growth, ticking_leak_sampled_late_is_leak)
{
	for (int seed = 1; seed <= 50; seed++) {
		struct series *s = series__new(600);
		struct growth g;

		rng_seed(seed);
		for (int i = 1; i <= 22; i++)
			series__push(s, 0.5 * i + 0.005 * rng_unif(), 524285.0 * i);
		g = judge(s, 0);
		cr_assert_eq(g.verdict, GV_LEAK, "seed %d: %s (r2 %.9f)", seed,
			     growth_verdict__str(g.verdict), g.r2);
		series__free(s);
	}
}
