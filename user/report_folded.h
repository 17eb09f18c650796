/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* report_folded.h - folded stacks (flamegraph.pl, inferno, speedscope) and frame names shared by the report formats (pure) */
#ifndef MS_REPORT_FOLDED_H
#define MS_REPORT_FOLDED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "report.h"

/*
 * Copy src into dst (dlen bytes, always NUL-terminated when dlen > 0) as valid
 * UTF-8: bytes that are not UTF-8 become U+FFFD, control characters '?'. Stops
 * at a character that does not fit whole. NULL src copies "". Returns the
 * length written.
 */
size_t report__utf8_clean(char *dst, size_t dlen, const char *src);

/* The same into a malloc'd string (free() it); NULL with errno ENOMEM. */
char *report__utf8_dup(const char *src);

/*
 * The name a flame graph shows for a frame, as clean UTF-8 in buf (len > 0):
 * the function name when known, else "[module basename]", else "[unknown]".
 * Unknown frames of one module thus merge into one box. Returns buf.
 */
char *report__frame_name(const struct rpt_frame *fr, char *buf, size_t len);

/*
 * Folded stacks: one line per stack with live bytes > 0, "outer;...;inner N",
 * N = live_bytes; frames are reversed from the model (frames[0] is innermost).
 * With pid_prefix every line starts with a "comm-pid" root frame, so processes
 * stay apart in one graph. ';' in a name becomes ':', so it cannot split a frame.
 * A stack without frames is "[no stack]". Returns 0, -EINVAL, or -errno of the
 * failed write (f is flushed).
 */
int report__write_folded(const struct rpt *r, FILE *f, bool pid_prefix);

#endif
