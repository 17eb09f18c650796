// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* cmd_report.c - `memslope report`: a saved JSON report or OOM dump as pprof, folded stacks, HTML or text */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "report.h"
#include "report_read.h"

static const char usage_text[] =
"USAGE: memslope report [OPTIONS] FILE\n"
"\n"
"Turn a saved report (memslope trace --json, schema memslope.trace/1) or an OOM dump\n"
"(memslope.oom/1) into the formats other tools read. FILE - reads standard input.\n"
"Without an output option, the report is printed as text.\n"
"\n"
"OPTIONS:\n"
"      --pprof FILE     gzip-compressed pprof profile: inuse_space, inuse_objects,\n"
"                       alloc_space, alloc_objects (go tool pprof, Pyroscope, Parca)\n"
"      --folded FILE    folded stacks of live bytes, \"comm-pid;outer;...;inner BYTES\"\n"
"                       (flamegraph.pl, inferno, speedscope)\n"
"      --no-pid         folded stacks without the comm-pid root frame\n"
"      --html FILE      one self-contained HTML page: flame graph, growth charts, tables\n"
"      --json FILE      the report again as memslope.trace/1 (an OOM dump becomes one)\n"
"  -n, --top N          stacks per process in the text report (default 10, -1: all)\n"
"  -h, --help           this help\n"
"Output FILE - writes to standard output; files are replaced whole, never half-written.\n"
"\n"
"Exit status: 0 ok, 1 the report could not be read or written, 2 usage error.\n"
"\n"
"EXAMPLES:\n"
"  memslope trace --json run.json -- ./server      then, later:\n"
"  memslope report run.json --html run.html        open run.html in a browser\n"
"  memslope report run.json --pprof heap.pb.gz && go tool pprof -http=: heap.pb.gz\n"
"  memslope report run.json --folded - | flamegraph.pl > live.svg\n"
"  memslope report /var/lib/memslope/oom/oom-20240501T120000Z-4242.json --html oom.html\n";

enum {
	OPT_PPROF = 256,
	OPT_FOLDED,
	OPT_NO_PID,
	OPT_HTML,
	OPT_JSON,
};

static const struct option long_opts[] = {
	{ "pprof", required_argument, NULL, OPT_PPROF },
	{ "folded", required_argument, NULL, OPT_FOLDED },
	{ "no-pid", no_argument, NULL, OPT_NO_PID },
	{ "html", required_argument, NULL, OPT_HTML },
	{ "json", required_argument, NULL, OPT_JSON },
	{ "top", required_argument, NULL, 'n' },
	{ "help", no_argument, NULL, 'h' },
	{},
};

struct output {
	enum report_format fmt;
	const char *path;
	const char *name;	/* the option, for messages */
};

static int usage_error(const char *fmt, const char *arg)
{
	fputs("memslope report: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\nTry 'memslope report --help' for more information.\n", stderr);
	return 2;
}

int cmd_report(int argc, char **argv)
{
	struct output outs[5];	/* one per format, and room to catch a repeat */
	struct rpt_doc *doc = NULL;
	const char *path;
	bool no_pid = false;
	size_t nouts = 0, i, nstdout = 0;
	char err[512], *end;
	int c, ret, top = 10;
	long v;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":n:h", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_PPROF:
			outs[nouts++] = (struct output){ REPORT_FMT_PPROF, optarg, "--pprof" };
			break;
		case OPT_FOLDED:
			outs[nouts++] = (struct output){ REPORT_FMT_FOLDED, optarg, "--folded" };
			break;
		case OPT_HTML:
			outs[nouts++] = (struct output){ REPORT_FMT_HTML, optarg, "--html" };
			break;
		case OPT_JSON:
			outs[nouts++] = (struct output){ REPORT_FMT_JSON, optarg, "--json" };
			break;
		case OPT_NO_PID:
			no_pid = true;
			break;
		case 'n':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || v < -1 || v > INT_MAX)
				return usage_error("invalid --top '%s': a count, or -1 for all",
						   optarg);
			top = (int)v;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case ':':
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
		/* each format once: a second --html would silently win otherwise */
		for (i = 0; i + 1 < nouts; i++)
			if (outs[i].fmt == outs[nouts - 1].fmt)
				return usage_error("%s given twice", outs[nouts - 1].name);
	}
	if (optind >= argc)
		return usage_error("%s", "missing FILE: the JSON report or OOM dump to read");
	if (optind + 1 < argc)
		return usage_error("unexpected argument '%s': one FILE at a time", argv[optind + 1]);
	path = argv[optind];
	for (i = 0; i < nouts; i++) {
		if (!*outs[i].path)
			return usage_error("%s needs a file name", outs[i].name);
		if (!strcmp(outs[i].path, "-"))
			nstdout++;
		if (no_pid && outs[i].fmt == REPORT_FMT_FOLDED)
			outs[i].fmt = REPORT_FMT_FOLDED_BARE;
	}
	if (nstdout > 1)
		return usage_error("%s", "only one output can go to standard output ('-')");

	ret = report__read(path, &doc, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "memslope report: cannot read %s: %s\n", path, err);
		return 1;
	}
	ret = 0;
	/* a dump is its own record of the kill */
	if (!strcmp(doc->schema, "memslope.oom/1") && doc->rpt.noom_kills && strcmp(path, "-"))
		doc->rpt.oom_kills[0].dump = path;
	if (!nouts) {
		if (report__print_text(&doc->rpt, stdout, top, true)) {
			fprintf(stderr, "memslope report: cannot write the text report: %s\n",
				strerror(errno));
			ret = 1;
		}
	}
	for (i = 0; i < nouts; i++) {
		int e = report__save(&doc->rpt, outs[i].fmt, outs[i].path);

		if (e) {
			fprintf(stderr, "memslope report: cannot write %s (%s): %s\n", outs[i].path,
				outs[i].name, strerror(-e));
			ret = 1;
		}
	}
	rpt_doc__free(doc);
	return ret;
}
