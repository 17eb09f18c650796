/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* sample.h - the gaps between samples of --sample-bytes, for the BPF probes */
#ifndef MS_SAMPLE_H
#define MS_SAMPLE_H

#include <stdint.h>

#include "memslope.h"

/*
 * Fill gaps with the MS_SAMPLE_GAPS quantiles of an exponential distribution,
 * in units where the mean is MS_SAMPLE_ONE, rising, and rescaled so that their
 * mean is MS_SAMPLE_ONE within rounding: BPF, which has no floating point,
 * draws a gap as sample_bytes * gaps[random] / MS_SAMPLE_ONE, so the samples of
 * a thread form a Poisson process of rate 1 / sample_bytes over its bytes.
 */
void sample_gaps_fill(uint32_t gaps[MS_SAMPLE_GAPS]);

#endif /* MS_SAMPLE_H */
