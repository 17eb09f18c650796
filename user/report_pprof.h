/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* report_pprof.h - the report as a gzip-compressed pprof profile (perftools.profiles.Profile, protobuf-c; pure) */
#ifndef MS_REPORT_PPROF_H
#define MS_REPORT_PPROF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "report.h"

/* the sample types, in the order of Sample.value; inuse_space is the default */
#define PPROF_INUSE_SPACE	0	/* inuse_space/bytes: live bytes */
#define PPROF_INUSE_OBJECTS	1	/* inuse_objects/count: live allocations */
#define PPROF_ALLOC_SPACE	2	/* alloc_space/bytes: bytes allocated during the trace */
#define PPROF_ALLOC_OBJECTS	3	/* alloc_objects/count: allocations during the trace */
#define PPROF_NVALUES		4

/*
 * Encode r as a serialized (not yet compressed) Profile into a malloc'd buffer
 * (*out, *len; free() it). One sample per stack, locations leaf first, sample
 * labels "pid" (num) and "comm" (str). One mapping per (pid, module, build-id),
 * its address range spanning the addresses seen in it, since the model keeps no
 * load addresses; has_functions/has_filenames/has_line_numbers say what was
 * resolved. Python frames (lang "python") have no mapping: their "address" is
 * not a machine address. A frame without a function name becomes a location
 * with an address and no line, which pprof shows in hex. All strings are made
 * valid UTF-8. Returns 0, -EINVAL or -ENOMEM.
 */
int report__pprof_encode(const struct rpt *r, uint8_t **out, size_t *len);

/*
 * report__pprof_encode(), gzip-compressed (zlib) as pprof expects on disk, to f;
 * f is flushed. Returns 0, -EINVAL, -ENOMEM, -EIO (zlib) or -errno of the
 * failed write.
 */
int report__write_pprof(const struct rpt *r, FILE *f);

#endif
