/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* report_read.h - saved reports: memslope.trace/1 and memslope.oom/1 back into struct rpt, and saving in any format (pure) */
#ifndef MS_REPORT_READ_H
#define MS_REPORT_READ_H

#include <stddef.h>
#include <stdint.h>

#include "report.h"

#define REPORT_READ_MAX_SIZE	(1u << 30)	/* larger files are refused */

/* A report read from a file: the model plus what only a saved document carries. */
struct rpt_doc {
	struct rpt rpt;
	const char *schema;	/* "memslope.trace/1" or "memslope.oom/1" */
	void *priv;		/* the parsed JSON every string points into */
};

/*
 * Parse a memslope.trace/1 report, or a memslope.oom/1 dump (made into a report
 * of one process: the victim, killed by the OOM killer, with its series, growth,
 * top stacks and by-test table; its memcg limit becomes its limit_bytes). The JSON
 * must be strict, valid UTF-8 and complete; known fields must have their
 * documented types (a wrong type names the field: "processes[0].stacks[2].live_bytes:
 * expected an integer, got a string"); unknown fields are ignored. Required: schema;
 * for a trace, processes and each process's pid; for a dump, victim.pid. "[unknown]"
 * func and module read
 * back as NULL, as report__write_json() wrote them. On error, *out is NULL and err
 * (errlen > 0) gets one lowercase line without the file name. Returns 0,
 * -EBADMSG (not JSON, not a memslope document, or a field of the wrong type),
 * -EPROTONOSUPPORT (a memslope schema this version does not read), or -ENOMEM.
 */
int report__parse(const char *buf, size_t len, struct rpt_doc **out, char *err, size_t errlen);

/*
 * report__parse() on a file ("-" = stdin): also -ENOENT, -EACCES, -EISDIR, -EFBIG
 * (over REPORT_READ_MAX_SIZE) and -EBADMSG for an empty file, each with its line in err.
 */
int report__read(const char *path, struct rpt_doc **out, char *err, size_t errlen);

void rpt_doc__free(struct rpt_doc *d);	/* accepts NULL */

enum report_format {
	REPORT_FMT_JSON,	/* memslope.trace/1 */
	REPORT_FMT_PPROF,	/* gzip-compressed pprof profile */
	REPORT_FMT_FOLDED,	/* folded stacks, one "comm-pid" root frame per process */
	REPORT_FMT_FOLDED_BARE,	/* folded stacks without it */
	REPORT_FMT_HTML,	/* one self-contained page */
};

/*
 * Write r in format fmt to path ("-" = stdout). A file is written whole or not
 * at all: into a temporary file next to it, renamed over path once complete
 * (mode 0666 minus the umask), so a reader never sees half a report and a
 * failed write leaves an older file alone. Returns 0, -EINVAL, -ENOMEM, or
 * -errno of the failed step.
 */
int report__save(const struct rpt *r, enum report_format fmt, const char *path);

#endif
