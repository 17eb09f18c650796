/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* oomdump.h - OOM post-mortem dumps (memslope.oom/1): model, atomic writer, strict reader, text (pure) */
#ifndef MS_OOMDUMP_H
#define MS_OOMDUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "growth.h"
#include "report.h"

#define OOMDUMP_SCHEMA		"memslope.oom/1"
#define OOMDUMP_DEFAULT_DIR	"/var/lib/memslope/oom"
#define OOMDUMP_DIR_ENV		"MEMSLOPE_DUMP_DIR"	/* overrides the default dir (tests) */
#define OOMDUMP_NONE		UINT64_MAX	/* an unknown optional byte count or counter: JSON null */
#define OOMDUMP_MAX_SIZE	(64u << 20)	/* the reader refuses larger files */

enum oom_constraint {
	OOM_CONSTRAINT_UNKNOWN = 0,	/* JSON null */
	OOM_CONSTRAINT_MEMCG,		/* "memcg": a memory cgroup hit its limit */
	OOM_CONSTRAINT_GLOBAL,		/* "global": the host ran out */
};

/* "memcg", "global"; NULL for unknown */
const char *oom_constraint__str(enum oom_constraint c);

struct oom_victim {
	int pid;			/* > 0 */
	int tid;			/* thread the kill was marked on; <= 0: unknown */
	char comm[16];			/* need not be NUL-terminated */
	char **argv;			/* NULL-terminated; NULL: unknown (JSON null) */
	int64_t uid;			/* < 0: unknown */
	int oom_score_adj;
	uint64_t total_vm_bytes;
	uint64_t anon_rss_bytes;
	uint64_t file_rss_bytes;
	uint64_t shmem_rss_bytes;
	uint64_t pgtables_bytes;
	uint64_t peak_rss_bytes;	/* OOMDUMP_NONE: unknown (known at exit only) */
};

struct oom_trigger {
	int pid;			/* the task whose allocation triggered the OOM; <= 0: unknown */
	char comm[16];
};

struct oom_memcg {
	const char *path;		/* "/a/b" as in /proc/PID/cgroup; NULL: unknown */
	int version;			/* 1 or 2; 0: unknown */
	uint64_t limit_bytes;		/* OOMDUMP_NONE: unknown or unlimited */
	uint64_t usage_bytes;		/* the rest: OOMDUMP_NONE when unknown */
	uint64_t failcnt;
	uint64_t oom_events;		/* v2 memory.events oom; v1: under_oom episodes if known */
	uint64_t oom_kills;		/* v2 memory.events oom_kill; v1 memory.oom_control oom_kill */
};

struct oom_exit {
	bool known;			/* false: JSON null (the exit was not seen) */
	int code;			/* valid when signal == 0 */
	int signal;			/* 0: not killed by a signal */
	bool oom_killed;		/* SIGKILL with signal->oom_mm set */
};

/*
 * One OOM kill. Built by the collector with borrowed pointers (the writer copies nothing
 * and frees nothing), or returned by oomdump__read() owning everything (free it with
 * oomdump__free()). oomdump__init() sets the "unknown" values; start from it.
 */
struct oom_dump {
	int64_t time_ns;		/* CLOCK_REALTIME ns of the kill; 0: the writer uses now */
	uint64_t mono_ns;		/* CLOCK_MONOTONIC ns of the kill (bpf_ktime_get_ns); 0: unknown */
	const char *host;		/* NULL: the writer uses gethostname() */
	struct oom_victim victim;
	struct oom_trigger trigger;
	enum oom_constraint constraint;
	struct oom_memcg memcg;
	struct rpt_point *series;	/* the victim's memory history, oldest first */
	size_t npoints;
	struct growth growth;		/* verdict on that history */
	struct rpt_stack *stacks;	/* top live stacks at the kill, by live_bytes descending */
	size_t nstacks;
	struct rpt_frame *last_stack;	/* the victim's own stack when it died, innermost first */
	size_t nlast;			/* 0: not captured (JSON null) */
	const char *test;		/* the test the victim was running; NULL: unknown */
	struct rpt_test *by_test;
	size_t ntests;
	struct oom_exit exit;
	void *priv;			/* reader's own storage; NULL in a caller-built dump */
};

/* zero *d and mark every optional field unknown */
void oomdump__init(struct oom_dump *d);

/* frees a dump returned by oomdump__read()/oomdump__parse(); accepts NULL */
void oomdump__free(struct oom_dump *d);

/* the dump directory: $MEMSLOPE_DUMP_DIR when set and not empty, else OOMDUMP_DEFAULT_DIR */
const char *oomdump__default_dir(void);

/*
 * Write d as a memslope.oom/1 document into dir, atomically: dir is created (with its
 * parents) mode 0700; an existing dir owned by us is tightened to 0700, one owned by
 * another user or writable by group or others is refused (-EPERM). The document goes to
 * a ".oom-*.tmp" file made with O_EXCL mode 0600 in dir, is fsync'ed, then renamed
 * without replacing anything to "oom-YYYYMMDDTHHMMSSZ-PID.json" ("...-PID-2.json",
 * "-3"... when taken), and dir is fsync'ed. A failure at any step removes the temp file:
 * there is never a torn or half-named dump, and no dump is ever overwritten. path_out
 * (may be NULL) gets "dir/name". Returns 0, -EINVAL (NULL d or dir, victim pid <= 0),
 * -EPERM (unsafe dir), -ENAMETOOLONG (path_out or the path too short), -ENOMEM, or the
 * -errno of the failed step (-ENOTDIR, -ENOSPC, -EFBIG...).
 */
int oomdump__write(const struct oom_dump *d, const char *dir, char *path_out, size_t len);

/* The document oomdump__write() would write, as a malloc'ed NUL-terminated string
 * ending in a newline; NULL with errno (EINVAL, ENOMEM). */
char *oomdump__to_json(const struct oom_dump *d);

/*
 * Parse and validate a memslope.oom/1 document: the JSON must be complete, strict,
 * valid UTF-8, an object with "schema": "memslope.oom/1", and every known field of the
 * documented type (unknown fields are ignored, so later writers may add some). Required:
 * schema, time, victim.pid, victim.comm; everything else may be missing or null. On
 * error err (errlen > 0) gets one lowercase line without the file name ("truncated
 * JSON...", "victim.pid: expected an integer, got a string") and *out is NULL.
 * Returns 0, -EBADMSG (not a valid dump), or -ENOMEM.
 */
int oomdump__parse(const char *buf, size_t len, struct oom_dump **out, char *err, size_t errlen);

/*
 * oomdump__parse() on a file: also -ENOENT, -EACCES, -EISDIR, -EFBIG (larger than
 * OOMDUMP_MAX_SIZE), -EBADMSG for an empty file or one that is not a regular file, each
 * with its line in err.
 */
int oomdump__read(const char *path, struct oom_dump **out, char *err, size_t errlen);

/* the same, and the file's bytes (malloc'ed, *len_out bytes, NUL-terminated) in *raw_out */
int oomdump__read_raw(const char *path, struct oom_dump **out, char **raw_out, size_t *len_out,
		      char *err, size_t errlen);

/* --- finding dumps --------------------------------------------------------- */

struct oomdump_entry {
	char *name;			/* file name in the directory */
	char *path;			/* dir/name */
	struct oom_dump *dump;		/* NULL: unreadable, err says why */
	int error;			/* 0 or -errno of oomdump__read() */
	char err[256];
};

/*
 * Every "oom-*.json" in dir (temp files and other names are skipped), each read;
 * unreadable ones are kept with their error. Sorted by kill time (from the name when the
 * file is unreadable), then name. Returns 0 (*n may be 0), -ENOENT when dir does not
 * exist, -ENOMEM, or -errno of opendir().
 */
int oomdump__scan(const char *dir, struct oomdump_entry **out, size_t *n);
void oomdump__scan_free(struct oomdump_entry *e, size_t n);	/* accepts NULL */

/*
 * The file an ID names: a path when it contains '/'; else in dir, in this order, a file
 * named ID (or ID.json), a pid (all digits: the dump of that victim pid), a unique prefix
 * of a dump's name with or without "oom-"; last, a file ID in the current directory.
 * Returns 0 with path filled, -ENOENT (nothing matches), -ENOTUNIQ (several match: err
 * names them), -ENAMETOOLONG, or -ENOMEM; err gets one line.
 */
int oomdump__resolve(const char *dir, const char *id, char *path, size_t len, char *err,
		     size_t errlen);

/* --- text ------------------------------------------------------------------ */

#define OOMDUMP_TEXT_WIDTH	100
#define OOMDUMP_CHART_ROWS	8
#define OOMDUMP_CHART_COLS	64

/*
 * The frame that names the culprit: the first frame of the top stack (stacks[0]) that is
 * not an allocator function (malloc family, operator new, mmap, CPython's object and
 * raw allocators...); the top stack's last frame when all are; NULL without stacks.
 */
const struct rpt_frame *oomdump__culprit_frame(const struct oom_dump *d);

/* true for allocator entry points and their internals (see above); Python frames never */
bool oomdump__is_alloc_frame(const struct rpt_frame *fr);

/* "func (file:line)", "func+0xoff (module)", "func (module)" or "0xaddr (module)" into buf;
 * control characters and bytes that are not UTF-8 become '?'; returns buf */
char *oomdump__fmt_frame(char *buf, size_t len, const struct rpt_frame *fr);

/* "2024-05-01 12:00:00" (UTC) of a dump time; returns buf (at least 24 bytes) */
char *oomdump__fmt_time(char *buf, size_t len, int64_t time_ns);

/*
 * The memory history as a block chart: rows lines of cols cells after an axis label
 * column ("%9s ┤" / "          │"): a column per time slice, RSS as '▒' over heap as '█'
 * (max of the slice; a slice without a point repeats the previous one), scaled to the
 * largest of RSS, heap and the memcg limit; the limit's row is drawn with '─' in empty
 * cells and labelled; then an axis line, the time span and a legend. With no series, one
 * line saying so. Returns 0 or -errno of the failed write.
 */
int oomdump__print_chart(const struct oom_dump *d, int cols, int rows, FILE *f);

/*
 * The post-mortem: victim, memory at death, trigger, constraint and memcg, exit, test;
 * the chart; the verdict; the top stacks (frames one per line, allocator frames left
 * out); the last stack at death. path (may be NULL) is shown as the dump's file.
 * Returns 0 or -errno of the failed write (f is flushed).
 */
int oomdump__print_show(const struct oom_dump *d, const char *path, FILE *f);

/* the column header of `oom list`, and one row: time, pid, comm, cgroup, RSS at death
 * (anon + file + shmem), culprit frame; cut to OOMDUMP_TEXT_WIDTH */
int oomdump__print_list_header(FILE *f);
int oomdump__print_list_row(const struct oom_dump *d, FILE *f);

#endif
