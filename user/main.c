// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* main.c - memslope: the command table */
#include <stdio.h>
#include <string.h>

#include "commands.h"

#ifndef MEMSLOPE_VERSION
#define MEMSLOPE_VERSION "0.1"
#endif

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "trace", cmd_trace, "trace a process or a command: which stacks own its growing memory" },
	{ "report", cmd_report, "a saved report or OOM dump as pprof, folded stacks, HTML or text" },
	{ "oom", cmd_oom, "OOM kills: list the post-mortem dumps, show one" },
	{ "daemon", cmd_daemon, "watch every process: growth alerts, OOM dumps, Prometheus metrics" },
	{ "status", cmd_status, "what the running daemon sees: growing processes, recent alerts" },
};

static void usage(FILE *f)
{
	fputs("USAGE: memslope COMMAND [OPTIONS] [ARGS]\n\n"
	      "eBPF memory-growth monitor: which process grows, how fast, and which code owns it.\n\n"
	      "COMMANDS:\n", f);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fputs("\n'memslope COMMAND --help' tells more.\n", f);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("memslope %s\n", MEMSLOPE_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "memslope: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
