// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* cmd_oom.c - `memslope oom list|show`: the OOM post-mortem dumps (memslope.oom/1) left by trace and daemon */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "commands.h"
#include "oomdump.h"

static const char usage_text[] =
"USAGE: memslope oom list [--dump-dir DIR] [--json]\n"
"       memslope oom show ID|FILE [--dump-dir DIR] [--json]\n"
"\n"
"Read the post-mortem dumps memslope writes when the OOM killer kills a process\n"
"(one memslope.oom/1 JSON file per kill).\n"
"\n"
"  list   one line per dump, oldest first: time (UTC), pid, comm, memory cgroup,\n"
"         RSS at death, and the top frame of the stack that owned the most memory\n"
"  show   the post-mortem of one kill: victim, trigger, constraint and memcg limit,\n"
"         a chart of its memory history, the growth verdict, the top stacks, and\n"
"         its last stack when it died\n"
"\n"
"ID is a dump's file name, a unique prefix of it (with or without \"oom-\"), or the\n"
"victim's pid; FILE is a path (anything with a '/').\n"
"\n"
"OPTIONS:\n"
"      --dump-dir DIR   where the dumps are (default $MEMSLOPE_DUMP_DIR, else\n"
"                       " OOMDUMP_DEFAULT_DIR ")\n"
"      --json           list: a JSON summary; show: the dump itself\n"
"  -h, --help           this help\n"
"\n"
"Exit status: 0 ok, 1 runtime error (no such dump, unreadable or corrupt file),\n"
"2 usage error. Unreadable files in `list` are warned about, not fatal.\n"
"\n"
"EXAMPLES:\n"
"  memslope oom list                           every kill on this host\n"
"  memslope oom show 4242                      the kill of pid 4242\n"
"  memslope oom show oom-20250101T120000Z-4242.json --json | jq .stacks[0]\n"
"  memslope oom show ./ci-artifacts/oom-20250101T120000Z-4242.json\n";

enum { OPT_DUMP_DIR = 256, OPT_JSON };

static const struct option long_opts[] = {
	{ "dump-dir", required_argument, NULL, OPT_DUMP_DIR },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, 'h' },
	{},
};

static int usage_error(const char *fmt, const char *arg)
{
	fputs("memslope oom: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\nTry 'memslope oom --help' for more information.\n", stderr);
	return 2;
}

static int out_error(int err)
{
	fprintf(stderr, "memslope oom: writing the output: %s\n", strerror(-err));
	return 1;
}

static int list_json(const char *dir, const struct oomdump_entry *e, size_t n)
{
	const int flags = JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
			  JSON_C_TO_STRING_NOSLASHESCAPE;
	struct json_object *root = json_object_new_object(), *dumps, *errs, *o;
	const struct rpt_frame *fr;
	char buf[512];
	size_t i;
	int rc = 1;

	dumps = json_object_new_array();
	errs = json_object_new_array();
	if (!root || !dumps || !errs) {
		json_object_put(dumps);
		json_object_put(errs);
		goto nomem;
	}
	json_object_object_add(root, "schema", json_object_new_string("memslope.oom-list/1"));
	json_object_object_add(root, "dump_dir", json_object_new_string(dir));
	json_object_object_add(root, "dumps", dumps);
	json_object_object_add(root, "errors", errs);
	for (i = 0; i < n; i++) {
		const struct oom_dump *d = e[i].dump;

		if (!(o = json_object_new_object()))
			goto nomem;
		json_object_array_add(d ? dumps : errs, o);
		json_object_object_add(o, "file", json_object_new_string(e[i].path));
		if (!d) {
			json_object_object_add(o, "error", json_object_new_string(e[i].err));
			continue;
		}
		oomdump__fmt_time(buf, sizeof(buf), d->time_ns);
		json_object_object_add(o, "time", json_object_new_string(buf));
		json_object_object_add(o, "pid", json_object_new_int(d->victim.pid));
		json_object_object_add(o, "comm", json_object_new_string_len(d->victim.comm,
						  (int)strnlen(d->victim.comm, 16)));
		json_object_object_add(o, "cgroup", d->memcg.path ?
				       json_object_new_string(d->memcg.path) : NULL);
		json_object_object_add(o, "constraint", oom_constraint__str(d->constraint) ?
				       json_object_new_string(oom_constraint__str(d->constraint)) :
				       NULL);
		json_object_object_add(o, "rss_bytes", json_object_new_uint64(
				       d->victim.anon_rss_bytes + d->victim.file_rss_bytes +
				       d->victim.shmem_rss_bytes));
		fr = oomdump__culprit_frame(d);
		json_object_object_add(o, "culprit", fr ? json_object_new_string(
				       oomdump__fmt_frame(buf, sizeof(buf), fr)) : NULL);
	}
	if (puts(json_object_to_json_string_ext(root, flags)) == EOF || fflush(stdout)) {
		rc = out_error(-errno);
		goto cleanup;
	}
	rc = 0;
	goto cleanup;
nomem:
	fprintf(stderr, "memslope oom: out of memory\n");
cleanup:
	json_object_put(root);
	return rc;
}

static int cmd_list(const char *dir, bool json)
{
	struct oomdump_entry *e = NULL;
	size_t n = 0, i, bad = 0;
	int err, rc = 0;

	err = oomdump__scan(dir, &e, &n);
	if (err && err != -ENOENT) {
		fprintf(stderr, "memslope oom: %s: %s\n", dir, strerror(-err));
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (e[i].dump)
			continue;
		fprintf(stderr, "memslope oom: warning: %s: %s\n", e[i].path, e[i].err);
		bad++;
	}
	if (json) {
		rc = list_json(dir, e, n);
		goto cleanup;
	}
	if (n == bad) {
		printf("no OOM dumps in %s\n", dir);
		goto cleanup;
	}
	err = oomdump__print_list_header(stdout);
	for (i = 0; i < n && !err; i++)
		if (e[i].dump)
			err = oomdump__print_list_row(e[i].dump, stdout);
	if (err)
		rc = out_error(err);
cleanup:
	oomdump__scan_free(e, n);
	return rc;
}

static int cmd_show(const char *dir, const char *id, bool json)
{
	struct oom_dump *d = NULL;
	char path[PATH_MAX], err[512], *raw = NULL;
	size_t len = 0;
	int rc;

	rc = oomdump__resolve(dir, id, path, sizeof(path), err, sizeof(err));
	if (rc) {
		fprintf(stderr, "memslope oom: %s\n", err);
		return 1;
	}
	rc = oomdump__read_raw(path, &d, json ? &raw : NULL, &len, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "memslope oom: %s: %s\n", path, err);
		return 1;
	}
	if (json) {
		/* the dump itself, byte for byte, now that it is known to be one */
		errno = 0;
		rc = fwrite(raw, 1, len, stdout) != len || fflush(stdout) ? -(errno ? errno : EIO) : 0;
	} else {
		rc = oomdump__print_show(d, path, stdout);
	}
	free(raw);
	oomdump__free(d);
	return rc ? out_error(rc) : 0;
}

int cmd_oom(int argc, char **argv)
{
	const char *dir = NULL, *sub, *id = NULL;
	bool json = false;
	int c, nargs;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_DUMP_DIR:
			if (!*optarg)
				return usage_error("empty --dump-dir%s", "");
			dir = optarg;
			break;
		case OPT_JSON:
			json = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs("Try 'memslope oom --help' for more information.\n", stderr);
			return 2;
		}
	}
	if (!dir)
		dir = oomdump__default_dir();
	nargs = argc - optind;
	if (nargs < 1)
		return usage_error("missing command: list or show%s", "");
	sub = argv[optind];
	if (!strcmp(sub, "list")) {
		if (nargs > 1)
			return usage_error("list takes no argument, got '%s'", argv[optind + 1]);
		return cmd_list(dir, json);
	}
	if (!strcmp(sub, "show")) {
		if (nargs < 2)
			return usage_error("show needs a dump: ID or FILE%s", "");
		if (nargs > 2)
			return usage_error("show takes one dump, got also '%s'", argv[optind + 2]);
		id = argv[optind + 1];
		if (!*id)
			return usage_error("empty dump ID%s", "");
		return cmd_show(dir, id, json);
	}
	return usage_error("unknown command '%s' (list or show)", sub);
}
