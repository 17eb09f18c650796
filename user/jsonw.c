// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* jsonw.c - JSON building with json-c: sticky errors, strings made valid UTF-8, floats that stay floats */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "utf8.h"

/*
 * A JSON string from bytes that may not be UTF-8 (argv, file names): json-c
 * copies bytes >= 0x80 verbatim, which would make the whole document invalid
 * for strict parsers, so bad bytes become U+FFFD. NULL on ENOMEM.
 */
struct json_object *jw_str(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	struct json_object *o;
	size_t i, k, out = 0;
	char *buf;

	for (i = 0; i < n; i += k)
		if (!(k = utf8_seq(u + i, n - i)))
			break;
	if (i >= n)
		return n > INT32_MAX ? NULL : json_object_new_string_len(s, (int)n);

	/* each bad byte grows to 3 bytes at most */
	if (n > INT32_MAX / 3 || !(buf = malloc(n * 3)))
		return NULL;
	for (i = 0; i < n; i += k) {
		k = utf8_seq(u + i, n - i);
		if (k) {
			memcpy(buf + out, s + i, k);
			out += k;
		} else {
			memcpy(buf + out, "\xef\xbf\xbd", 3);
			out += 3;
			k = 1;
		}
	}
	o = json_object_new_string_len(buf, (int)out);
	free(buf);
	return o;
}

/*
 * JSON helpers with a sticky error: once *err is set they only release what
 * they were given, so a builder is a flat list of calls and one check at the
 * end instead of a branch after every allocation. A NULL val means ENOMEM;
 * nulls are written with jset_null.
 */
void jw_set(int *err, struct json_object *obj, const char *key, struct json_object *val)
{
	/* every key is a string literal, so json-c need not copy or look it up */
	const unsigned opts = JSON_C_OBJECT_ADD_KEY_IS_NEW | JSON_C_OBJECT_KEY_IS_CONSTANT;

	if (*err) {
		json_object_put(val);
		return;
	}
	if (!val) {
		*err = -ENOMEM;
		return;
	}
	if (json_object_object_add_ex(obj, key, val, opts)) {
		json_object_put(val);
		*err = -ENOMEM;
	}
}

void jw_set_null(int *err, struct json_object *obj, const char *key)
{
	const unsigned opts = JSON_C_OBJECT_ADD_KEY_IS_NEW | JSON_C_OBJECT_KEY_IS_CONSTANT;

	if (!*err && json_object_object_add_ex(obj, key, NULL, opts))
		*err = -ENOMEM;
}

/* jset, returning val for filling in (NULL once anything failed) */
struct json_object *jw_set_new(int *err, struct json_object *obj, const char *key,
				    struct json_object *val)
{
	jw_set(err, obj, key, val);
	return *err ? NULL : val;
}

void jw_append(int *err, struct json_object *arr, struct json_object *val)
{
	if (*err) {
		json_object_put(val);
		return;
	}
	if (!val) {
		*err = -ENOMEM;
		return;
	}
	if (json_object_array_add(arr, val)) {
		json_object_put(val);
		*err = -ENOMEM;
	}
}

struct json_object *jw_append_new(int *err, struct json_object *arr, struct json_object *val)
{
	jw_append(err, arr, val);
	return *err ? NULL : val;
}

/* NULL s is written as null */
void jw_set_str(int *err, struct json_object *obj, const char *key, const char *s)
{
	if (s)
		jw_set(err, obj, key, jw_str(s, strlen(s)));
	else
		jw_set_null(err, obj, key);
}

void jw_set_int(int *err, struct json_object *obj, const char *key, int64_t v)
{
	jw_set(err, obj, key, json_object_new_int64(v));
}

void jw_set_u64(int *err, struct json_object *obj, const char *key, uint64_t v)
{
	jw_set(err, obj, key, json_object_new_uint64(v));
}

/*
 * A float that stays a float: json-c prints doubles with "%.17g" (0.1 becomes
 * 0.10000000000000001) and a whole number without a ".0", which parsers then
 * read back as an integer. Use the shortest form that round-trips, always with
 * a '.' or exponent. JSON has no NaN or Infinity: those are written as null.
 */
void jw_set_double(int *err, struct json_object *obj, const char *key, double v)
{
	char buf[40], *p;

	if (!isfinite(v)) {
		jw_set_null(err, obj, key);
		return;
	}
	snprintf(buf, sizeof(buf), "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, sizeof(buf), "%.17g", v);
	/* a program that called setlocale() may have a decimal comma */
	if ((p = strchr(buf, ',')))
		*p = '.';
	if (!strpbrk(buf, ".e"))
		strcat(buf, ".0");
	jw_set(err, obj, key, json_object_new_double_s(v, buf));
}
