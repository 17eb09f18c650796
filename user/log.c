// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* log.c - leveled logging to stderr */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

int log_verbosity = LOG_WARN;

void log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	if (level > log_verbosity)
		return;
	fputs("memslope: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
