// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* units.c - parse byte sizes, byte rates and durations (K/M/G binary, KB/MB/GB decimal) */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "units.h"

/*
 * Leading non-negative decimal number. strtod alone would also take "inf", "nan", hex
 * floats and leading spaces, none of which is a size, so check the first character.
 */
static int units_number(const char *s, double *out, const char **end)
{
	char *e;
	double v;

	if (!s || !(isdigit((unsigned char)s[0]) || (s[0] == '.' && isdigit((unsigned char)s[1]))))
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &e);
	if (errno || e == s || !isfinite(v) || v < 0)
		return -EINVAL;
	*out = v;
	*end = e;
	return 0;
}

struct units_suffix {
	const char *name;
	double mult;
};

static int units_lookup(const struct units_suffix *tab, const char *s, double *mult)
{
	for (; tab->name; tab++) {
		if (!strcasecmp(tab->name, s)) {
			*mult = tab->mult;
			return 0;
		}
	}
	return -EINVAL;
}

static const struct units_suffix units_sizes[] = {
	{ "", 1 }, { "b", 1 },
	{ "k", 1024.0 }, { "kib", 1024.0 }, { "kb", 1e3 },
	{ "m", 1048576.0 }, { "mib", 1048576.0 }, { "mb", 1e6 },
	{ "g", 1073741824.0 }, { "gib", 1073741824.0 }, { "gb", 1e9 },
	{ "t", 1099511627776.0 }, { "tib", 1099511627776.0 }, { "tb", 1e12 },
	{ NULL, 0 },
};

/* size with suffix in [s, s + len); the suffix may follow one space */
static int units_size(const char *s, size_t len, double *out)
{
	char buf[64];
	const char *end;
	double v, mult;
	int err;

	if (len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	err = units_number(buf, &v, &end);
	if (err)
		return err;
	if (*end == ' ' && end[1])
		end++;
	if (units_lookup(units_sizes, end, &mult))
		return -EINVAL;
	*out = v * mult;
	return 0;
}

int parse_bytes(const char *s, uint64_t *out)
{
	double v;
	int err;

	if (!s || !out)
		return -EINVAL;
	err = units_size(s, strlen(s), &v);
	if (err)
		return err;
	v = nearbyint(v);
	/* 2^64 is exactly representable; anything at or above it does not fit */
	if (v >= 18446744073709551616.0)
		return -EINVAL;
	*out = (uint64_t)v;
	return 0;
}

static const struct units_suffix units_times[] = {
	{ "s", 1 }, { "sec", 1 },
	{ "m", 60 }, { "min", 60 },
	{ "h", 3600 }, { "hour", 3600 },
	{ "d", 86400 }, { "day", 86400 },
	{ NULL, 0 },
};

int parse_rate(const char *s, double *bytes_per_s)
{
	const char *slash;
	double v, per;
	int err;

	if (!s || !bytes_per_s)
		return -EINVAL;
	slash = strchr(s, '/');
	if (!slash) {
		/* a plain number is bytes per second; a bare size has no time unit */
		const char *end;

		err = units_number(s, &v, &end);
		if (err || *end)
			return -EINVAL;
		*bytes_per_s = v;
		return 0;
	}
	err = units_size(s, slash - s, &v);
	if (err)
		return err;
	if (units_lookup(units_times, slash + 1, &per))
		return -EINVAL;
	*bytes_per_s = v / per;
	return 0;
}

static const struct units_suffix units_durations[] = {
	{ "", 1 }, { "s", 1 }, { "ms", 1e-3 }, { "m", 60 }, { "h", 3600 }, { "d", 86400 },
	{ NULL, 0 },
};

int parse_seconds(const char *s, double *out)
{
	const char *end;
	double v, mult;
	int err;

	if (!s || !out)
		return -EINVAL;
	err = units_number(s, &v, &end);
	if (err)
		return err;
	if (units_lookup(units_durations, end, &mult))
		return -EINVAL;
	v *= mult;
	if (!isfinite(v))
		return -EINVAL;
	*out = v;
	return 0;
}
