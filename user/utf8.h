/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* utf8.h - strict UTF-8 validation, for text that ends up in JSON and terminals (pure) */
#ifndef MS_UTF8_H
#define MS_UTF8_H

#include <stddef.h>

/*
 * Length of the valid UTF-8 sequence at s (at most n bytes left, n >= 1), 0 when
 * invalid. Overlong forms, surrogates and code points above U+10FFFF are invalid, as
 * in RFC 3629, because a strict JSON parser rejects them.
 */
size_t utf8_seq(const unsigned char *s, size_t n);

#endif
