/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon_cfg.h - the daemon's settings: defaults, INI config file, flags (one table for both; pure) */
#ifndef MS_DAEMON_CFG_H
#define MS_DAEMON_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DAEMON_CFG_PATH		"/etc/memslope/memslope.conf"
#define DAEMON_LISTEN_DEFAULT	"127.0.0.1:9466"

struct daemon_cfg {
	double interval;		/* seconds between watch passes (5) */
	char *alerts;			/* alerts file; "" or "-": stdout only */
	bool alerts_stdout;		/* alerts also on stdout (journald captures it) */
	char *dump_dir;			/* OOM dumps (/var/lib/memslope/oom) */
	char *listen;			/* ADDR:PORT for /metrics and /status; "" or "off": none */
	bool escalate;			/* trace flagged processes exactly for a while */
	double escalate_window;		/* seconds of exact tracing per flagged process (60) */
	unsigned int escalate_max;	/* processes traced exactly at once (4) */
	unsigned int max_procs;		/* processes watched at once (4096) */
	unsigned int series_points;	/* points kept per process (120) */
	unsigned int metrics_top;	/* processes with their own metric series (20) */
	double growth_warn;		/* bytes/s: warning severity from (1 MB/h) */
	double growth_crit;		/* bytes/s: critical severity from (5 MB/h) */
	double realert;			/* seconds before a still-flagged process alerts again (600) */
	double min_span;		/* seconds of history before any verdict (60) */
	unsigned int min_points;	/* points of history before any verdict (10) */
	char *escalate_comm;		/* comma-separated comm names that may be escalated; "": any */
	unsigned int max_allocs;	/* exact tracing: live blocks (65536) */
	unsigned int sample_bytes;	/* exact tracing: heap sampled every N bytes (0: exact) */
	unsigned int max_stacks;	/* exact tracing: distinct stacks (4096) */
};

enum daemon_opt_type { DOPT_SECONDS, DOPT_STRING, DOPT_BOOL, DOPT_UINT, DOPT_RATE };

/* One setting: the INI key, and as a flag --key with '_' written '-'. */
struct daemon_opt {
	const char *key;
	enum daemon_opt_type type;
	size_t off;			/* offset in struct daemon_cfg */
	double min, max;		/* DOPT_SECONDS, DOPT_UINT, DOPT_RATE bounds */
	const char *metavar;
	const char *help;
};

/* The table of every setting; *n gets its length. */
const struct daemon_opt *daemon_cfg__options(size_t *n);

/* Defaults into *c (strings malloc'ed). Returns 0 or -ENOMEM. */
int daemon_cfg__default(struct daemon_cfg *c);
void daemon_cfg__free(struct daemon_cfg *c);	/* frees the strings; accepts NULL */

/*
 * Set key (INI spelling "escalate_window" or flag spelling "escalate-window") from its
 * text. Returns 0, -ENOENT (unknown key) or -EINVAL (bad value); err (may be NULL) gets
 * one lowercase line saying why.
 */
int daemon_cfg__set(struct daemon_cfg *c, const char *key, const char *value, char *err,
		    size_t errlen);

/*
 * Read an INI file (or text) of "key = value" lines, in no section or in [daemon];
 * '#' and ';' start comments. Keys not set keep their value in *c. Returns 0, -ENOENT
 * (no file), -EINVAL (a bad line: err says "FILE:LINE: why"), or -errno.
 */
int daemon_cfg__load(struct daemon_cfg *c, const char *path, char *err, size_t errlen);
int daemon_cfg__load_string(struct daemon_cfg *c, const char *text, char *err, size_t errlen);

/* Settings that make sense together (crit >= warn). Returns 0 or -EINVAL with err. */
int daemon_cfg__check(const struct daemon_cfg *c, char *err, size_t errlen);

/* May a process of this comm be escalated (escalate_comm empty, or the name in it)? */
bool daemon_cfg__may_escalate(const struct daemon_cfg *c, const char *comm);

/* Split "ADDR:PORT" ("[v6]:PORT", ":PORT" = any); returns 0 or -EINVAL. */
int daemon_cfg__split_listen(const char *listen, char *host, size_t hostlen, unsigned int *port);

#endif
