// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* sample.c - the gaps between samples of --sample-bytes */
#include <math.h>

#include "sample.h"

void sample_gaps_fill(uint32_t gaps[MS_SAMPLE_GAPS])
{
	double q[MS_SAMPLE_GAPS], sum = 0;

	/* the quantile at the middle of each of MS_SAMPLE_GAPS equal slices */
	for (int i = 0; i < MS_SAMPLE_GAPS; i++) {
		q[i] = -log(1.0 - (i + 0.5) / MS_SAMPLE_GAPS);
		sum += q[i];
	}
	for (int i = 0; i < MS_SAMPLE_GAPS; i++)
		gaps[i] = (uint32_t)lround(q[i] * MS_SAMPLE_GAPS / sum * MS_SAMPLE_ONE);
}
