// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon_cfg.c - the daemon's settings: one option table read from INI files and flags alike */
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon_cfg.h"
#include "oomdump.h"
#include "units.h"

#define OFF(f) offsetof(struct daemon_cfg, f)

static const struct daemon_opt opts[] = {
	{ "interval", DOPT_SECONDS, OFF(interval), 0.05, 3600, "SECONDS",
	  "seconds between two watch passes over every process (default 5)" },
	{ "alerts", DOPT_STRING, OFF(alerts), 0, 0, "FILE",
	  "append memslope.alert/1 JSON lines to FILE (default /var/lib/memslope/alerts.jsonl; - = stdout only)" },
	{ "alerts_stdout", DOPT_BOOL, OFF(alerts_stdout), 0, 0, "yes|no",
	  "also write alerts on stdout, where journald picks them up (default yes)" },
	{ "dump_dir", DOPT_STRING, OFF(dump_dir), 0, 0, "DIR",
	  "where OOM dumps go (default /var/lib/memslope/oom)" },
	{ "listen", DOPT_STRING, OFF(listen), 0, 0, "ADDR:PORT",
	  "serve /metrics and /status here (default 127.0.0.1:9466; off = no HTTP)" },
	{ "escalate", DOPT_BOOL, OFF(escalate), 0, 0, "yes|no",
	  "trace flagged processes exactly to find the stacks that grow (default yes)" },
	{ "escalate_window", DOPT_SECONDS, OFF(escalate_window), 1, 86400, "SECONDS",
	  "how long one flagged process is traced exactly (default 60)" },
	{ "escalate_max", DOPT_UINT, OFF(escalate_max), 0, 64, "N",
	  "processes traced exactly at once (default 4)" },
	{ "max_procs", DOPT_UINT, OFF(max_procs), 16, 1 << 20, "N",
	  "processes watched at once; more are counted as untracked (default 4096)" },
	{ "series_points", DOPT_UINT, OFF(series_points), 16, 4096, "N",
	  "points of memory history kept per process (default 120)" },
	{ "metrics_top", DOPT_UINT, OFF(metrics_top), 0, 200, "N",
	  "processes with their own metric series: flagged first, then fastest growing (default 20)" },
	{ "growth_warn", DOPT_RATE, OFF(growth_warn), 0, 1e12, "RATE",
	  "warning severity from this growth rate (default 1MB/h)" },
	{ "growth_crit", DOPT_RATE, OFF(growth_crit), 0, 1e12, "RATE",
	  "critical severity from this growth rate (default 5MB/h)" },
	{ "realert", DOPT_SECONDS, OFF(realert), 1, 1e9, "SECONDS",
	  "repeat a growth alert while still flagged after this long (default 600)" },
	{ "min_span", DOPT_SECONDS, OFF(min_span), 1, 86400, "SECONDS",
	  "history a process needs before its growth is judged (default 60)" },
	{ "min_points", DOPT_UINT, OFF(min_points), 3, 4096, "N",
	  "points of history a process needs before its growth is judged (default 10)" },
	{ "escalate_comm", DOPT_STRING, OFF(escalate_comm), 0, 0, "NAMES",
	  "escalate only processes with these comm names (comma-separated; default: any)" },
	{ "max_allocs", DOPT_UINT, OFF(max_allocs), 1024, 1 << 24, "N",
	  "exact tracing: live blocks tracked at once (default 65536; restart to change)" },
	{ "max_stacks", DOPT_UINT, OFF(max_stacks), 256, 1 << 20, "N",
	  "exact tracing: distinct stacks kept (default 4096; restart to change)" },
	{ "sample_bytes", DOPT_UINT, OFF(sample_bytes), 0, 1 << 30, "N",
	  "exact tracing: sample heap blocks every N bytes (default 0: all; restart to change)" },
};

const struct daemon_opt *daemon_cfg__options(size_t *n)
{
	*n = sizeof(opts) / sizeof(opts[0]);
	return opts;
}

static int set_str(char **dst, const char *v)
{
	char *s = strdup(v);

	if (!s)
		return -ENOMEM;
	free(*dst);
	*dst = s;
	return 0;
}

int daemon_cfg__default(struct daemon_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->interval = 5;
	c->alerts_stdout = true;
	c->escalate = true;
	c->escalate_window = 60;
	c->escalate_max = 4;
	c->max_procs = 4096;
	c->series_points = 120;
	c->metrics_top = 20;
	c->growth_warn = 1e6 / 3600;
	c->growth_crit = 5e6 / 3600;
	c->realert = 600;
	c->min_span = 60;
	c->min_points = 10;
	c->max_allocs = 65536;
	c->max_stacks = 4096;
	if (set_str(&c->alerts, "/var/lib/memslope/alerts.jsonl") ||
	    set_str(&c->dump_dir, OOMDUMP_DEFAULT_DIR) || set_str(&c->listen, DAEMON_LISTEN_DEFAULT) ||
	    set_str(&c->escalate_comm, "")) {
		daemon_cfg__free(c);
		return -ENOMEM;
	}
	return 0;
}

void daemon_cfg__free(struct daemon_cfg *c)
{
	if (!c)
		return;
	free(c->alerts);
	free(c->dump_dir);
	free(c->listen);
	free(c->escalate_comm);
	c->alerts = c->dump_dir = c->listen = c->escalate_comm = NULL;
}

static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "1", "yes", "true", "on" }, *const no[] = { "0", "no", "false", "off" };

	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

static const struct daemon_opt *opt_find(const char *key)
{
	char k[64];
	size_t i;

	for (i = 0; key[i] && i < sizeof(k) - 1; i++)
		k[i] = key[i] == '-' ? '_' : key[i];
	k[i] = '\0';
	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (!strcmp(opts[i].key, k))
			return &opts[i];
	return NULL;
}

int daemon_cfg__set(struct daemon_cfg *c, const char *key, const char *value, char *err,
		    size_t errlen)
{
	const struct daemon_opt *o = opt_find(key);
	char *base = (char *)c, *end;
	unsigned long u;
	double d;
	bool b;

	if (!err)
		errlen = 0;
	if (!o) {
		if (errlen)
			snprintf(err, errlen, "unknown setting '%s'", key);
		return -ENOENT;
	}
	switch (o->type) {
	case DOPT_STRING:
		return set_str((char **)(base + o->off), value) ? -ENOMEM : 0;
	case DOPT_BOOL:
		if (parse_bool(value, &b))
			goto bad;
		*(bool *)(base + o->off) = b;
		return 0;
	case DOPT_SECONDS:
		if (parse_seconds(value, &d) || !isfinite(d) || d < o->min || d > o->max)
			goto bad;
		*(double *)(base + o->off) = d;
		return 0;
	case DOPT_RATE:
		if (parse_rate(value, &d) || !isfinite(d) || d < o->min || d > o->max)
			goto bad;
		*(double *)(base + o->off) = d;
		return 0;
	case DOPT_UINT:
		errno = 0;
		u = strtoul(value, &end, 10);
		if (errno || end == value || *end || value[0] == '-' || u < o->min || u > o->max)
			goto bad;
		*(unsigned int *)(base + o->off) = u;
		return 0;
	}
bad:
	if (errlen) {
		if (o->type == DOPT_SECONDS || o->type == DOPT_UINT)
			snprintf(err, errlen, "invalid %s '%s' (%s, %g to %g)", o->key, value, o->metavar,
				 o->min, o->max);
		else
			snprintf(err, errlen, "invalid %s '%s' (%s)", o->key, value,
				 o->type == DOPT_RATE ? "RATE, e.g. 1MB/h or 100KB/s" : "yes or no");
	}
	return -EINVAL;
}

struct load_ctx {
	struct daemon_cfg *c;
	char msg[256];
	int failed;
};

static int on_ini(void *user, const char *section, const char *name, const char *value)
{
	struct load_ctx *lc = user;
	int err;

	if (section[0] && strcmp(section, "daemon")) {
		if (!lc->failed)
			snprintf(lc->msg, sizeof(lc->msg), "unknown section [%s] (settings go in [daemon])",
				 section);
		lc->failed = 1;
		return 0;
	}
	err = daemon_cfg__set(lc->c, name, value, lc->failed ? NULL : lc->msg, sizeof(lc->msg));
	if (err) {
		lc->failed = 1;
		return 0;
	}
	return 1;
}

static int load_result(struct load_ctx *lc, int line, const char *where, char *err, size_t errlen)
{
	if (line == 0 && !lc->failed)
		return 0;
	if (err && errlen) {
		if (line < 0)
			snprintf(err, errlen, "%s: cannot read", where);
		else
			snprintf(err, errlen, "%s:%d: %s", where, line,
				 lc->failed ? lc->msg : "not a 'key = value' line");
	}
	return line < 0 ? -EIO : -EINVAL;
}

int daemon_cfg__load(struct daemon_cfg *c, const char *path, char *err, size_t errlen)
{
	struct load_ctx lc = { .c = c };
	FILE *f = fopen(path, "re");
	int line;

	if (!f) {
		int e = errno;

		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	line = ini_parse_file(f, on_ini, &lc);
	fclose(f);
	return load_result(&lc, line, path, err, errlen);
}

int daemon_cfg__load_string(struct daemon_cfg *c, const char *text, char *err, size_t errlen)
{
	struct load_ctx lc = { .c = c };

	return load_result(&lc, ini_parse_string(text, on_ini, &lc), "config", err, errlen);
}

bool daemon_cfg__may_escalate(const struct daemon_cfg *c, const char *comm)
{
	const char *p = c->escalate_comm;
	size_t n = strlen(comm);

	if (!p || !p[0])
		return true;
	while (*p) {
		size_t len = strcspn(p, ",");
		const char *s = p;

		while (len && *s == ' ') {
			s++;
			len--;
		}
		while (len && s[len - 1] == ' ')
			len--;
		if (len == n && !memcmp(s, comm, n))
			return true;
		p += strcspn(p, ",");
		if (*p)
			p++;
	}
	return false;
}

int daemon_cfg__check(const struct daemon_cfg *c, char *err, size_t errlen)
{
	char host[256];
	unsigned int port;

	if (c->growth_crit < c->growth_warn) {
		snprintf(err, errlen, "growth_crit must not be below growth_warn");
		return -EINVAL;
	}
	if (c->listen[0] && strcmp(c->listen, "off") &&
	    daemon_cfg__split_listen(c->listen, host, sizeof(host), &port)) {
		snprintf(err, errlen, "invalid listen '%s' (ADDR:PORT, e.g. 127.0.0.1:9466)", c->listen);
		return -EINVAL;
	}
	if (!c->dump_dir[0]) {
		snprintf(err, errlen, "dump_dir must not be empty");
		return -EINVAL;
	}
	return 0;
}

int daemon_cfg__split_listen(const char *listen, char *host, size_t hostlen, unsigned int *port)
{
	const char *colon, *h = listen;
	size_t hl;
	char *end;
	unsigned long p;

	if (listen[0] == '[') {
		const char *rb = strchr(listen, ']');

		if (!rb || rb[1] != ':')
			return -EINVAL;
		h = listen + 1;
		hl = rb - h;
		colon = rb + 1;
	} else {
		colon = strrchr(listen, ':');
		if (!colon)
			return -EINVAL;
		hl = colon - listen;
	}
	if (hl >= hostlen)
		return -EINVAL;
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || p > 65535)
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = p;
	return 0;
}
