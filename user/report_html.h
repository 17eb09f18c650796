/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* report_html.h - the report as one self-contained HTML page: flame graph, growth charts, tables (pure) */
#ifndef MS_REPORT_HTML_H
#define MS_REPORT_HTML_H

#include <stdio.h>

#include "report.h"

/*
 * Write one HTML file that needs nothing else: styles and script inline, the
 * data embedded as JSON in a <script type="application/json" id="memslope-data">
 * element ('<' escaped so no string can close it), no network fetch. It shows
 * per process a growth chart (SVG: RSS and heap over time with a point per
 * sample up to 600 samples, the fitted slope, verdict and severity, an "OOM
 * kill" marker when the process was OOM-killed and a limit line when its
 * limit_bytes is known: in scale when within 4x the largest sample, else named
 * in the legend only), an interactive flame graph of live bytes (one root
 * frame per process, "comm-pid"; click to zoom, hover for bytes and share,
 * frames narrower than 2.5 px merged into one box per parent so 10,000 stacks
 * draw fast), the by-test table and the top 100 stacks. Names are made valid UTF-8.
 * Returns 0, -EINVAL, -ENOMEM, or -errno of the failed write (f is flushed).
 */
int report__write_html(const struct rpt *r, FILE *f);

#endif
