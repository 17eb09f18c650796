/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* jsonw.h - JSON building with json-c for the report and dump writers (pure) */
#ifndef MS_JSONW_H
#define MS_JSONW_H

#include <stddef.h>
#include <stdint.h>

#include <json.h>

/*
 * Builders with a sticky error: once *err is set (-ENOMEM, ...) they only release
 * what they were given, so a writer is a flat list of calls with one check at the
 * end. A NULL val means ENOMEM; nulls are written with jw_set_null. Keys must be
 * string literals (json-c does not copy them).
 */

/* A JSON string from bytes that may not be UTF-8: invalid bytes become U+FFFD. */
struct json_object *jw_str(const char *s, size_t n);

void jw_set(int *err, struct json_object *obj, const char *key, struct json_object *val);
void jw_set_null(int *err, struct json_object *obj, const char *key);
/* jw_set, returning val for filling in (NULL once anything failed) */
struct json_object *jw_set_new(int *err, struct json_object *obj, const char *key,
			       struct json_object *val);
void jw_append(int *err, struct json_object *arr, struct json_object *val);
struct json_object *jw_append_new(int *err, struct json_object *arr, struct json_object *val);
/* NULL s is written as null */
void jw_set_str(int *err, struct json_object *obj, const char *key, const char *s);
void jw_set_int(int *err, struct json_object *obj, const char *key, int64_t v);
void jw_set_u64(int *err, struct json_object *obj, const char *key, uint64_t v);
/* shortest round-tripping form, always with '.' or an exponent; NaN and infinities as null */
void jw_set_double(int *err, struct json_object *obj, const char *key, double v);

#endif
