// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_sample.c - the gaps of --sample-bytes: an exponential distribution of mean MS_SAMPLE_ONE */
#include <criterion/criterion.h>
#include <math.h>

#include "sample.h"

Test(sample, gaps_mean_is_one)
{
	uint32_t g[MS_SAMPLE_GAPS];
	double sum = 0;

	sample_gaps_fill(g);
	for (int i = 0; i < MS_SAMPLE_GAPS; i++)
		sum += g[i];
	/* rounding each gap moves the mean by at most half a unit */
	cr_assert(fabs(sum / MS_SAMPLE_GAPS - MS_SAMPLE_ONE) <= 0.5, "mean %.2f", sum / MS_SAMPLE_GAPS);
}

Test(sample, gaps_are_exponential_quantiles)
{
	uint32_t g[MS_SAMPLE_GAPS];
	int below_mean = 0;

	sample_gaps_fill(g);
	for (int i = 1; i < MS_SAMPLE_GAPS; i++)
		cr_assert_gt(g[i], g[i - 1], "gaps rise: g[%d] = %u, g[%d] = %u", i - 1, g[i - 1], i, g[i]);
	for (int i = 0; i < MS_SAMPLE_GAPS; i++)
		below_mean += g[i] < MS_SAMPLE_ONE;
	/* P(X < mean) = 1 - 1/e for an exponential: 161.8 of 256 */
	cr_assert(abs(below_mean - 162) <= 1, "%d gaps below the mean", below_mean);
	/* the median is ln 2 of the mean; the smallest is tiny, the largest several means */
	cr_assert(fabs((g[127] + g[128]) / 2.0 / MS_SAMPLE_ONE - log(2)) < 0.01);
	cr_assert_lt(g[0], MS_SAMPLE_ONE / 256);
	cr_assert_gt(g[MS_SAMPLE_GAPS - 1], 5 * MS_SAMPLE_ONE);
	/* BPF computes sample_bytes * gap in 64 bits */
	cr_assert_lt((double)g[MS_SAMPLE_GAPS - 1] * MS_SAMPLE_MAX, 18446744073709551615.0);
}
