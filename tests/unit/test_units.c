// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_units.c - sizes, rates and durations: accepted forms, and everything rejected */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>

#include "units.h"

static uint64_t bytes(const char *s)
{
	uint64_t v = 0xdeadbeef;

	cr_assert_eq(parse_bytes(s, &v), 0, "parse_bytes(\"%s\") failed", s);
	return v;
}

Test(units, bytes_accepted)
{
	cr_assert_eq(bytes("0"), 0);
	cr_assert_eq(bytes("4096"), 4096);
	cr_assert_eq(bytes("4096B"), 4096);
	cr_assert_eq(bytes("64K"), 65536);
	cr_assert_eq(bytes("64k"), 65536);
	cr_assert_eq(bytes("64KiB"), 65536);
	cr_assert_eq(bytes("64KB"), 64000);
	cr_assert_eq(bytes("64 KB"), 64000);
	cr_assert_eq(bytes("1.5M"), 1572864);
	cr_assert_eq(bytes("1.5MB"), 1500000);
	cr_assert_eq(bytes("2G"), 2147483648ULL);
	cr_assert_eq(bytes("2GiB"), 2147483648ULL);
	cr_assert_eq(bytes("2gb"), 2000000000ULL);
	cr_assert_eq(bytes("1T"), 1099511627776ULL);
	cr_assert_eq(bytes(".5K"), 512);
	cr_assert_eq(bytes("16000000T"), 17592186044416000000ULL);
}

Test(units, bytes_rejected)
{
	static const char *bad[] = {
		"", " 1", "-1", "-0", "+5", "1X", "1KBB", "1K ", "1 ", "K", "abc", "1..2",
		"inf", "nan", "0x10", "1e400", "17000000T", "18446744073709551616", "1/s",
		"1  K", NULL,
	};
	uint64_t v = 7;
	int i;

	for (i = 0; bad[i]; i++)
		cr_assert_eq(parse_bytes(bad[i], &v), -EINVAL, "accepted \"%s\"", bad[i]);
	cr_assert_eq(v, 7, "output written on failure");
	cr_assert_eq(parse_bytes(NULL, &v), -EINVAL);
}

static double rate(const char *s)
{
	double v = -1;

	cr_assert_eq(parse_rate(s, &v), 0, "parse_rate(\"%s\") failed", s);
	return v;
}

Test(units, rates)
{
	double v = 3;

	cr_assert_float_eq(rate("5MB/h"), 5e6 / 3600, 1e-9);
	cr_assert_float_eq(rate("100KB/s"), 1e5, 1e-9);
	cr_assert_float_eq(rate("1MiB/min"), 1048576.0 / 60, 1e-9);
	cr_assert_float_eq(rate("1M/d"), 1048576.0 / 86400, 1e-9);
	cr_assert_float_eq(rate("250"), 250, 1e-9);
	cr_assert_float_eq(rate("0.5"), 0.5, 1e-9);
	cr_assert_float_eq(rate("2GB/hour"), 2e9 / 3600, 1e-6);
	cr_assert_eq(parse_rate("5MB", &v), -EINVAL);	/* a size is not a rate */
	cr_assert_eq(parse_rate("5MB/", &v), -EINVAL);
	cr_assert_eq(parse_rate("5MB/week", &v), -EINVAL);
	cr_assert_eq(parse_rate("-5MB/h", &v), -EINVAL);
	cr_assert_eq(parse_rate("5MB/h/s", &v), -EINVAL);
	cr_assert_eq(parse_rate("/h", &v), -EINVAL);
	cr_assert_eq(parse_rate("5 /h", &v), -EINVAL);
	cr_assert_eq(v, 3);
}

static double secs(const char *s)
{
	double v = -1;

	cr_assert_eq(parse_seconds(s, &v), 0, "parse_seconds(\"%s\") failed", s);
	return v;
}

Test(units, seconds)
{
	double v = 9;

	cr_assert_float_eq(secs("1"), 1, 1e-12);
	cr_assert_float_eq(secs("0.5"), 0.5, 1e-12);
	cr_assert_float_eq(secs("2s"), 2, 1e-12);
	cr_assert_float_eq(secs("500ms"), 0.5, 1e-12);
	cr_assert_float_eq(secs("5m"), 300, 1e-12);
	cr_assert_float_eq(secs("1h"), 3600, 1e-12);
	cr_assert_float_eq(secs("1d"), 86400, 1e-12);
	cr_assert_float_eq(secs("0"), 0, 1e-12);
	cr_assert_eq(parse_seconds("", &v), -EINVAL);
	cr_assert_eq(parse_seconds("-1", &v), -EINVAL);
	cr_assert_eq(parse_seconds("1x", &v), -EINVAL);
	cr_assert_eq(parse_seconds("1 s", &v), -EINVAL);
	cr_assert_eq(parse_seconds("1e999", &v), -EINVAL);
	cr_assert_eq(parse_seconds("1e306d", &v), -EINVAL);	/* overflows after scaling */
	cr_assert_eq(parse_seconds("nan", &v), -EINVAL);
	cr_assert_eq(parse_seconds("s", &v), -EINVAL);
	cr_assert_eq(v, 9);
}
