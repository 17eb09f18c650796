/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* units.h - parse byte sizes, byte rates and durations given on the command line or in config */
#ifndef MS_UNITS_H
#define MS_UNITS_H

#include <stdint.h>

/*
 * Sizes: a non-negative decimal number (fractions allowed: "1.5M") and an optional
 * suffix, case-insensitive, optionally after one space:
 *   (none), B                 bytes
 *   K, M, G, T  / KiB ... TiB  powers of 1024 (what --help calls K/M/G)
 *   KB, MB, GB, TB             powers of 1000
 * The result is rounded to the nearest byte. Returns 0, or -EINVAL for an empty string,
 * a negative or non-numeric value, an unknown suffix, trailing junk, or a value above
 * UINT64_MAX.
 */
int parse_bytes(const char *s, uint64_t *out);

/*
 * Rates: SIZE "/" UNIT where SIZE is as for parse_bytes and UNIT is s, sec, m, min,
 * h, hour, d, day ("5MB/h", "100KB/s", "1MiB/min"); a plain number is bytes/s.
 * Returns 0 or -EINVAL.
 */
int parse_rate(const char *s, double *bytes_per_s);

/*
 * Durations: a non-negative number with an optional suffix ms, s, m (minutes), h, d;
 * no suffix means seconds ("1", "0.5", "2s", "500ms", "5m", "1h"). Returns 0 or -EINVAL.
 */
int parse_seconds(const char *s, double *out);

#endif
