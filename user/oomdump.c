// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* oomdump.c - memslope.oom/1 dumps: json-c writer (atomic, 0600 in 0700), strict reader, post-mortem text */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json.h>

#include "oomdump.h"
#include "utf8.h"
#include "jsonw.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

const char *oom_constraint__str(enum oom_constraint c)
{
	switch (c) {
	case OOM_CONSTRAINT_MEMCG:
		return "memcg";
	case OOM_CONSTRAINT_GLOBAL:
		return "global";
	default:
		return NULL;
	}
}

void oomdump__init(struct oom_dump *d)
{
	memset(d, 0, sizeof(*d));
	d->victim.uid = -1;
	d->victim.peak_rss_bytes = OOMDUMP_NONE;
	d->memcg.limit_bytes = OOMDUMP_NONE;
	d->memcg.usage_bytes = OOMDUMP_NONE;
	d->memcg.failcnt = OOMDUMP_NONE;
	d->memcg.oom_events = OOMDUMP_NONE;
	d->memcg.oom_kills = OOMDUMP_NONE;
	d->growth.verdict = GV_INSUFFICIENT;
	d->growth.eta_limit_s = -1;
	d->growth.p_value = 1;
}

const char *oomdump__default_dir(void)
{
	const char *env = getenv(OOMDUMP_DIR_ENV);

	return env && *env ? env : OOMDUMP_DEFAULT_DIR;
}

/* ------------------------------------------------------------------------ */
/* JSON building (the shapes of series, growth, stacks and frames are those  */
/* of report.c's memslope.trace/1 writer, so one reader serves both)         */


static void jset_comm(int *err, struct json_object *obj, const char *key, const char comm[16])
{
	/* comm comes from the kernel as 16 bytes that need not be NUL-terminated */
	jw_set(err, obj, key, jw_str(comm, strnlen(comm, 16)));
}

/* OOMDUMP_NONE is written as null */
static void jset_opt(int *err, struct json_object *obj, const char *key, uint64_t v)
{
	if (v == OOMDUMP_NONE)
		jw_set_null(err, obj, key);
	else
		jw_set_u64(err, obj, key, v);
}

static void json_frames(int *err, struct json_object *obj, const struct rpt_frame *fr, size_t n)
{
	struct json_object *arr = jw_set_new(err, obj, "frames", json_object_new_array());
	struct json_object *o;
	char addr[32];
	size_t i;

	for (i = 0; i < n && !*err; i++, fr++) {
		o = jw_append_new(err, arr, json_object_new_object());
		jw_set_str(err, o, "func", fr->func ? fr->func : REPORT_UNKNOWN);
		jw_set_str(err, o, "module", fr->module ? fr->module : REPORT_UNKNOWN);
		jw_set_str(err, o, "file", fr->file);
		if (fr->file && fr->line > 0)
			jw_set_int(err, o, "line", fr->line);
		else
			jw_set_null(err, o, "line");
		jw_set_str(err, o, "lang", fr->lang ? fr->lang : "c");
		snprintf(addr, sizeof(addr), "0x%" PRIx64, fr->addr);
		jw_set_str(err, o, "addr", addr);
		jw_set_str(err, o, "build_id", fr->build_id);
		if (fr->func_off)
			jw_set_u64(err, o, "func_off", fr->func_off);
	}
}

static void json_growth(int *err, struct json_object *obj, const struct growth *g)
{
	struct json_object *o = jw_set_new(err, obj, "growth", json_object_new_object());
	const char *v = growth_verdict__str(g->verdict);
	const char *s = growth_severity__str(g->severity);

	jw_set_str(err, o, "verdict", v ? v : "insufficient-data");
	jw_set_str(err, o, "severity", s ? s : "ok");
	jw_set_double(err, o, "slope_bytes_per_s", g->slope_bps);
	jw_set_double(err, o, "r2", g->r2);
	if (g->eta_limit_s >= 0)
		jw_set_double(err, o, "eta_limit_s", g->eta_limit_s);
	else
		jw_set_null(err, o, "eta_limit_s");
}

static void fmt_iso(char *buf, size_t len, int64_t ns)
{
	time_t secs = (time_t)(ns / 1000000000);
	long ms = (long)(ns % 1000000000 / 1000000);
	struct tm tm;

	if (ns < 0 || !gmtime_r(&secs, &tm)) {
		snprintf(buf, len, "1970-01-01T00:00:00.000Z");
		return;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct json_object *json_dump(const struct oom_dump *d, int64_t t_ns, int *err)
{
	struct json_object *root = json_object_new_object();
	struct json_object *o, *a, *e;
	const struct oom_victim *v = &d->victim;
	char buf[256];
	size_t i;

	if (!root) {
		*err = -ENOMEM;
		return NULL;
	}
	jw_set_str(err, root, "schema", OOMDUMP_SCHEMA);
	jw_set_str(err, root, "memslope_version", MEMSLOPE_VERSION);
	fmt_iso(buf, sizeof(buf), t_ns);
	jw_set_str(err, root, "time", buf);
	if (d->mono_ns)
		jw_set_u64(err, root, "monotonic_ns", d->mono_ns);
	else
		jw_set_null(err, root, "monotonic_ns");
	if (d->host) {
		jw_set_str(err, root, "host", d->host);
	} else {
		if (gethostname(buf, sizeof(buf)))
			snprintf(buf, sizeof(buf), "localhost");
		buf[sizeof(buf) - 1] = '\0';
		jw_set_str(err, root, "host", buf);
	}

	o = jw_set_new(err, root, "victim", json_object_new_object());
	jw_set_int(err, o, "pid", v->pid);
	if (v->tid > 0)
		jw_set_int(err, o, "tid", v->tid);
	else
		jw_set_null(err, o, "tid");
	jset_comm(err, o, "comm", v->comm);
	if (v->argv) {
		a = jw_set_new(err, o, "argv", json_object_new_array());
		for (i = 0; v->argv[i] && !*err; i++)
			jw_append_new(err, a, jw_str(v->argv[i], strlen(v->argv[i])));
	} else {
		jw_set_null(err, o, "argv");
	}
	if (v->uid >= 0)
		jw_set_int(err, o, "uid", v->uid);
	else
		jw_set_null(err, o, "uid");
	jw_set_int(err, o, "oom_score_adj", v->oom_score_adj);
	jw_set_u64(err, o, "total_vm_bytes", v->total_vm_bytes);
	jw_set_u64(err, o, "rss_bytes", v->anon_rss_bytes + v->file_rss_bytes + v->shmem_rss_bytes);
	jw_set_u64(err, o, "anon_rss_bytes", v->anon_rss_bytes);
	jw_set_u64(err, o, "file_rss_bytes", v->file_rss_bytes);
	jw_set_u64(err, o, "shmem_rss_bytes", v->shmem_rss_bytes);
	jw_set_u64(err, o, "pgtables_bytes", v->pgtables_bytes);
	jset_opt(err, o, "peak_rss_bytes", v->peak_rss_bytes);

	if (d->trigger.pid > 0) {
		o = jw_set_new(err, root, "trigger", json_object_new_object());
		jw_set_int(err, o, "pid", d->trigger.pid);
		jset_comm(err, o, "comm", d->trigger.comm);
	} else {
		jw_set_null(err, root, "trigger");
	}
	jw_set_str(err, root, "constraint", oom_constraint__str(d->constraint));

	o = jw_set_new(err, root, "memcg", json_object_new_object());
	jw_set_str(err, o, "path", d->memcg.path);
	if (d->memcg.version == 1 || d->memcg.version == 2)
		jw_set_int(err, o, "version", d->memcg.version);
	else
		jw_set_null(err, o, "version");
	jset_opt(err, o, "limit_bytes", d->memcg.limit_bytes);
	jset_opt(err, o, "usage_bytes", d->memcg.usage_bytes);
	jset_opt(err, o, "failcnt", d->memcg.failcnt);
	jset_opt(err, o, "oom_events", d->memcg.oom_events);
	jset_opt(err, o, "oom_kills", d->memcg.oom_kills);

	a = jw_set_new(err, root, "series", json_object_new_array());
	for (i = 0; i < d->npoints && !*err; i++) {
		e = jw_append_new(err, a, json_object_new_object());
		jw_set_double(err, e, "t", d->series[i].t);
		jw_set_u64(err, e, "rss_bytes", d->series[i].rss_bytes);
		jw_set_u64(err, e, "heap_bytes", d->series[i].heap_bytes);
	}
	json_growth(err, root, &d->growth);

	a = jw_set_new(err, root, "stacks", json_object_new_array());
	for (i = 0; i < d->nstacks && !*err; i++) {
		const struct rpt_stack *st = &d->stacks[i];

		e = jw_append_new(err, a, json_object_new_object());
		jw_set_int(err, e, "live_bytes", st->live_bytes);
		jw_set_int(err, e, "live_allocs", st->live_allocs);
		jw_set_u64(err, e, "alloc_bytes", st->alloc_bytes);
		jw_set_u64(err, e, "allocs", st->allocs);
		json_frames(err, e, st->frames, st->frames ? st->nframes : 0);
		jw_set_u64(err, e, "stack_id", st->stack_id);
		jw_set_int(err, e, "growth_bytes", st->growth_bytes);
		jw_set_double(err, e, "slope_bytes_per_s", st->slope_bps);
	}

	if (d->nlast && d->last_stack) {
		o = jw_set_new(err, root, "last_stack", json_object_new_object());
		json_frames(err, o, d->last_stack, d->nlast);
	} else {
		jw_set_null(err, root, "last_stack");
	}

	jw_set_str(err, root, "test", d->test);
	a = jw_set_new(err, root, "by_test", json_object_new_array());
	for (i = 0; i < d->ntests && !*err; i++) {
		e = jw_append_new(err, a, json_object_new_object());
		jw_set_str(err, e, "test", d->by_test[i].test ? d->by_test[i].test : REPORT_UNKNOWN);
		jw_set_int(err, e, "live_bytes", d->by_test[i].live_bytes);
	}

	if (d->exit.known) {
		o = jw_set_new(err, root, "exit", json_object_new_object());
		if (d->exit.signal > 0) {
			jw_set_null(err, o, "code");
			jw_set_int(err, o, "signal", d->exit.signal);
		} else {
			jw_set_int(err, o, "code", d->exit.code);
			jw_set_null(err, o, "signal");
		}
		jw_set(err, o, "oom_killed", json_object_new_boolean(d->exit.oom_killed));
	} else {
		jw_set_null(err, root, "exit");
	}
	return root;
}

static char *to_json(const struct oom_dump *d, int64_t t_ns, size_t *len_out)
{
	const int flags = JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
			  JSON_C_TO_STRING_NOSLASHESCAPE;
	struct json_object *root;
	const char *s;
	char *out = NULL;
	size_t len;
	int err = 0;

	root = json_dump(d, t_ns, &err);
	if (err)
		goto cleanup;
	s = json_object_to_json_string_length(root, flags, &len);
	if (!s || !(out = malloc(len + 2))) {
		err = -ENOMEM;
		goto cleanup;
	}
	memcpy(out, s, len);
	out[len] = '\n';
	out[len + 1] = '\0';
	*len_out = len + 1;
cleanup:
	json_object_put(root);
	if (err)
		errno = -err;
	return out;
}

char *oomdump__to_json(const struct oom_dump *d)
{
	size_t len;

	if (!d) {
		errno = EINVAL;
		return NULL;
	}
	return to_json(d, d->time_ns ? d->time_ns : now_ns(), &len);
}

/* ------------------------------------------------------------------------ */
/* atomic writer                                                             */

/* mkdir -p with mode 0700 for what it creates */
static int mkdir_p(const char *dir)
{
	char *p, *s = strdup(dir);
	int err = 0;

	if (!s)
		return -ENOMEM;
	for (p = s + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(s, 0700) && errno != EEXIST) {
			err = -errno;
			break;
		}
		*p = c;
		if (!c)
			break;
	}
	free(s);
	return err;
}

/*
 * The directory, opened, and safe to write into: ours and not writable by anyone else
 * (who could otherwise swap files under our names). Returns an fd or -errno.
 */
static int open_dump_dir(const char *dir)
{
	struct stat st;
	int fd, err;

	err = mkdir_p(dir);
	if (err && err != -EEXIST)
		return err;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		goto fail;
	}
	if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		err = -EPERM;
		goto fail;
	}
	/* a dir made under a strange umask, or by hand with 0755: dumps name victims */
	if ((st.st_mode & 07777) != 0700 && fchmod(fd, 0700)) {
		err = -errno;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return err;
}

static int write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* move tmp to name without replacing anything there; -EEXIST when name is taken */
static int rename_noreplace(int dfd, const char *tmp, const char *name)
{
	if (!renameat2(dfd, tmp, dfd, name, RENAME_NOREPLACE))
		return 0;
	if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
		return -errno;
	/* a file system without RENAME_NOREPLACE: link() also refuses to replace */
	if (linkat(dfd, tmp, dfd, name, 0))
		return -errno;
	unlinkat(dfd, tmp, 0);
	return 0;
}

int oomdump__write(const struct oom_dump *d, const char *dir, char *path_out, size_t len)
{
	static unsigned int seq;
	char tmp[64], name[80], stamp[32];
	char *doc = NULL;
	size_t doclen, dirlen;
	int64_t t_ns;
	int dfd = -1, fd = -1, err, i;
	bool have_tmp = false;
	time_t secs;
	struct tm tm;

	if (!d || !dir || !*dir || d->victim.pid <= 0)
		return -EINVAL;
	t_ns = d->time_ns ? d->time_ns : now_ns();
	secs = (time_t)(t_ns / 1000000000);
	if (t_ns < 0 || !gmtime_r(&secs, &tm))
		return -EINVAL;
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	dirlen = strlen(dir);
	while (dirlen > 1 && dir[dirlen - 1] == '/')
		dirlen--;

	/* everything that can fail without touching the disk first */
	doc = to_json(d, t_ns, &doclen);
	if (!doc)
		return -errno;

	dfd = open_dump_dir(dir);
	if (dfd < 0) {
		err = dfd;
		goto cleanup;
	}
	for (i = 0; i < 100; i++) {
		snprintf(tmp, sizeof(tmp), ".oom-%d-%d-%u-%ld.tmp", d->victim.pid, (int)getpid(),
			 __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED), (long)(now_ns() % 1000000007));
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0) {
		err = -errno;
		goto cleanup;
	}
	have_tmp = true;
	/* the umask may have taken bits away; 0600 exactly, readable by us */
	if (fchmod(fd, 0600)) {
		err = -errno;
		goto cleanup;
	}
	err = write_all(fd, doc, doclen);
	if (err)
		goto cleanup;
	if (fsync(fd)) {
		err = -errno;
		goto cleanup;
	}
	err = close(fd) ? -errno : 0;
	fd = -1;
	if (err)
		goto cleanup;

	/* two kills of one pid in one second (pid reuse, or a fast restart) get -2, -3... */
	for (i = 1; i <= 1000; i++) {
		if (i == 1)
			snprintf(name, sizeof(name), "oom-%s-%d.json", stamp, d->victim.pid);
		else
			snprintf(name, sizeof(name), "oom-%s-%d-%d.json", stamp, d->victim.pid, i);
		if (path_out && dirlen + 1 + strlen(name) + 1 > len) {
			err = -ENAMETOOLONG;
			goto cleanup;
		}
		err = rename_noreplace(dfd, tmp, name);
		if (err != -EEXIST)
			break;
	}
	if (err)
		goto cleanup;
	have_tmp = false;
	if (path_out)
		snprintf(path_out, len, "%.*s%s%s", (int)dirlen, dir,
			 dir[dirlen - 1] == '/' ? "" : "/", name);
	/* the rename is durable only once the directory is */
	if (fsync(dfd))
		err = -errno;
cleanup:
	if (fd >= 0)
		close(fd);
	if (have_tmp)
		unlinkat(dfd, tmp, 0);
	if (dfd >= 0)
		close(dfd);
	free(doc);
	return err;
}

/* ------------------------------------------------------------------------ */
/* strict reader                                                             */

struct rd {
	char *err;
	size_t errlen;
	char path[160];		/* where we are: "stacks[2].frames[0]" */
	size_t plen;
	int status;		/* first failure: -EBADMSG or -ENOMEM */
};

/* storage of a read dump: the parsed document its strings point into */
struct rd_priv {
	struct json_object *root;
};

__attribute__((format(printf, 3, 4)))
static int rd_fail(struct rd *r, const char *key, const char *fmt, ...)
{
	size_t n = 0;
	va_list ap;

	if (r->status)
		return -1;
	r->status = -EBADMSG;
	if (!r->errlen)
		return -1;
	r->err[0] = '\0';
	if (r->plen || key) {
		n = (size_t)snprintf(r->err, r->errlen, "%s%s%s: ", r->path,
				     r->plen && key ? "." : "", key ? key : "");
		if (n >= r->errlen)
			return -1;
	}
	va_start(ap, fmt);
	vsnprintf(r->err + n, r->errlen - n, fmt, ap);
	va_end(ap);
	return -1;
}

static void rd_nomem(struct rd *r)
{
	if (r->status)
		return;
	r->status = -ENOMEM;
	if (r->errlen)
		snprintf(r->err, r->errlen, "out of memory");
}

__attribute__((format(printf, 2, 3)))
static size_t rd_push(struct rd *r, const char *fmt, ...)
{
	size_t old = r->plen;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(r->path + r->plen, sizeof(r->path) - r->plen, fmt, ap);
	va_end(ap);
	if (n > 0)
		r->plen += (size_t)n;
	if (r->plen >= sizeof(r->path))
		r->plen = sizeof(r->path) - 1;
	return old;
}

static void rd_pop(struct rd *r, size_t old)
{
	r->plen = old;
	r->path[old] = '\0';
}

static size_t rd_push_key(struct rd *r, const char *key)
{
	return rd_push(r, "%s%s", r->plen ? "." : "", key);
}

enum want { W_INT, W_NUM, W_STR, W_OBJ, W_ARR, W_BOOL };

static const char *want_name(enum want w)
{
	static const char *const names[] = { "an integer", "a number", "a string", "an object",
					     "an array", "a boolean" };

	return names[w];
}

static const char *jtype_name(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return "null";
	case json_type_boolean:
		return "a boolean";
	case json_type_double:
		return "a fractional number";
	case json_type_int:
		return "an integer";
	case json_type_object:
		return "an object";
	case json_type_array:
		return "an array";
	case json_type_string:
		return "a string";
	}
	return "something else";
}

static bool type_ok(struct json_object *v, enum want w)
{
	enum json_type t = json_object_get_type(v);

	switch (w) {
	case W_INT:
		return t == json_type_int;
	case W_NUM:
		return t == json_type_int || t == json_type_double;
	case W_STR:
		return t == json_type_string;
	case W_OBJ:
		return t == json_type_object;
	case W_ARR:
		return t == json_type_array;
	case W_BOOL:
		return t == json_type_boolean;
	}
	return false;
}

/* a value checked against want: 1 ok, 0 null and not required, -1 error */
static int rd_check(struct rd *r, const char *key, struct json_object *v, enum want w, bool req)
{
	if (r->status)
		return -1;
	if (!v)
		return req ? rd_fail(r, key, "expected %s, got null", want_name(w)) : 0;
	if (!type_ok(v, w))
		return rd_fail(r, key, "expected %s, got %s", want_name(w), jtype_name(v));
	return 1;
}

/* o[key]: 1 present with the wanted type, 0 absent or null (not required), -1 error */
static int rd_get(struct rd *r, struct json_object *o, const char *key, enum want w, bool req,
		  struct json_object **out)
{
	struct json_object *v = NULL;

	if (r->status)
		return -1;
	if (!json_object_object_get_ex(o, key, &v))
		return req ? rd_fail(r, key, "missing") : 0;
	*out = v;
	return rd_check(r, key, v, w, req);
}

static int rd_i64(struct rd *r, struct json_object *o, const char *key, bool req, int64_t min,
		  int64_t max, int64_t *out)
{
	struct json_object *v;
	int rc = rd_get(r, o, key, W_INT, req, &v);
	int64_t x;

	if (rc <= 0)
		return rc;
	x = json_object_get_int64(v);
	if (x < min || x > max)
		return rd_fail(r, key, "out of range (%" PRId64 ")", x);
	*out = x;
	return 1;
}

static int rd_int(struct rd *r, struct json_object *o, const char *key, bool req, int min,
		  int max, int *out)
{
	int64_t x = 0;
	int rc = rd_i64(r, o, key, req, min, max, &x);

	if (rc > 0)
		*out = (int)x;
	return rc;
}

/* an unsigned 64-bit value; null leaves *out as it is (OOMDUMP_NONE after init) */
static int rd_u64(struct rd *r, struct json_object *o, const char *key, bool req, uint64_t *out)
{
	struct json_object *v;
	int rc = rd_get(r, o, key, W_INT, req, &v);

	if (rc <= 0)
		return rc;
	/* json-c keeps integers above INT64_MAX as uint64 and get_int64 clamps them */
	if (json_object_get_int64(v) < 0)
		return rd_fail(r, key, "expected a non-negative integer, got %" PRId64,
			       json_object_get_int64(v));
	*out = json_object_get_uint64(v);
	return 1;
}

static int rd_dbl(struct rd *r, struct json_object *o, const char *key, bool req, double *out)
{
	struct json_object *v;
	int rc = rd_get(r, o, key, W_NUM, req, &v);
	double x;

	if (rc <= 0)
		return rc;
	x = json_object_get_double(v);
	if (!isfinite(x))
		return rd_fail(r, key, "not a finite number");
	*out = x;
	return 1;
}

static const char *str_of(struct rd *r, const char *key, struct json_object *v)
{
	const char *s = json_object_get_string(v);

	if ((size_t)json_object_get_string_len(v) != strlen(s)) {
		rd_fail(r, key, "contains a NUL character");
		return NULL;
	}
	return s;
}

static int rd_str(struct rd *r, struct json_object *o, const char *key, bool req, const char **out)
{
	struct json_object *v;
	int rc = rd_get(r, o, key, W_STR, req, &v);
	const char *s;

	if (rc <= 0)
		return rc;
	if (!(s = str_of(r, key, v)))
		return -1;
	*out = s;
	return 1;
}

/* up to 15 bytes, cut at a character boundary, into a kernel-style comm */
static int rd_comm(struct rd *r, struct json_object *o, const char *key, bool req, char comm[16])
{
	const char *s = NULL;
	size_t n, k, i;
	int rc = rd_str(r, o, key, req, &s);

	if (rc <= 0)
		return rc;
	n = strlen(s);
	for (i = 0; i < n && i < 15; i += k) {
		k = utf8_seq((const unsigned char *)s + i, n - i);
		if (!k || i + k > 15)
			break;
	}
	memset(comm, 0, 16);
	memcpy(comm, s, i);
	return 1;
}

static int rd_time(struct rd *r, struct json_object *o, int64_t *out)
{
	const char *s = NULL;
	int y, mo, da, h, mi, se, n = 0, k;
	int64_t frac = 0;
	struct tm tm;
	time_t t;

	if (rd_str(r, o, "time", true, &s) <= 0)
		return -1;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &da, &h, &mi, &se, &n) != 6 || n != 19 ||
	    y < 1970 || mo < 1 || mo > 12 || da < 1 || da > 31 || h > 23 || mi > 59 || se > 60)
		goto bad;
	if (s[n] == '.') {
		for (k = 0, n++; isdigit((unsigned char)s[n]); n++, k++)
			if (k < 9)
				frac = frac * 10 + (s[n] - '0');
		if (!k)
			goto bad;
		for (; k < 9; k++)
			frac *= 10;
	}
	if (strcmp(s + n, "Z") && strcmp(s + n, "+00:00"))
		goto bad;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = da;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	t = timegm(&tm);
	if (t == (time_t)-1)
		goto bad;
	*out = (int64_t)t * 1000000000 + frac;
	return 1;
bad:
	return rd_fail(r, "time", "not an ISO-8601 UTC time (\"%.40s\")", s);
}

static int rd_frames(struct rd *r, struct json_object *arr, struct rpt_frame **out, size_t *n)
{
	size_t i, len = json_object_array_length(arr), mark;
	struct rpt_frame *fr;

	*n = 0;
	*out = NULL;
	if (!len)
		return 0;
	if (!(fr = calloc(len, sizeof(*fr)))) {
		rd_nomem(r);
		return -1;
	}
	*out = fr;
	*n = len;
	for (i = 0; i < len && !r->status; i++, fr++) {
		struct json_object *f = json_object_array_get_idx(arr, i);
		const char *addr = NULL;
		char *end;

		mark = rd_push(r, "[%zu]", i);
		if (rd_check(r, NULL, f, W_OBJ, true) > 0) {
			rd_str(r, f, "func", false, &fr->func);
			rd_str(r, f, "module", false, &fr->module);
			rd_str(r, f, "file", false, &fr->file);
			rd_int(r, f, "line", false, 0, INT_MAX, &fr->line);
			rd_str(r, f, "lang", false, &fr->lang);
			rd_str(r, f, "build_id", false, &fr->build_id);
			rd_u64(r, f, "func_off", false, &fr->func_off);
			if (rd_str(r, f, "addr", false, &addr) > 0) {
				errno = 0;
				fr->addr = strtoull(addr, &end, 16);
				if (strncmp(addr, "0x", 2) || !addr[2] || *end || errno ||
				    !isxdigit((unsigned char)addr[2]))
					rd_fail(r, "addr", "expected a hex address \"0x…\", got \"%.40s\"",
						addr);
			}
			/* the writer's stand-in for "not known" */
			if (fr->func && !strcmp(fr->func, REPORT_UNKNOWN))
				fr->func = NULL;
			if (fr->module && !strcmp(fr->module, REPORT_UNKNOWN))
				fr->module = NULL;
			if (!fr->file)
				fr->line = 0;
		}
		rd_pop(r, mark);
	}
	return r->status ? -1 : 0;
}

/* o[key] = { "frames": [...] } (an object, so more about the stack can be added later) */
static int rd_frames_of(struct rd *r, struct json_object *o, const char *key, bool req,
			struct rpt_frame **out, size_t *n)
{
	struct json_object *v = NULL, *arr;
	size_t mark;
	int rc;

	if (rd_get(r, o, key, W_OBJ, req, &v) <= 0)
		return r->status ? -1 : 0;
	mark = rd_push_key(r, key);
	rc = rd_get(r, v, "frames", W_ARR, true, &arr);
	if (rc > 0) {
		rd_push(r, ".frames");
		rd_frames(r, arr, out, n);
	}
	rd_pop(r, mark);
	return r->status ? -1 : 0;
}

static int rd_growth(struct rd *r, struct json_object *root, struct growth *g)
{
	struct json_object *o;
	const char *s = NULL;
	size_t mark;
	int i;

	if (rd_get(r, root, "growth", W_OBJ, false, &o) <= 0)
		return r->status ? -1 : 0;
	mark = rd_push_key(r, "growth");
	if (rd_str(r, o, "verdict", false, &s) > 0) {
		for (i = GV_INSUFFICIENT; i <= GV_LEAK; i++)
			if (!strcmp(s, growth_verdict__str(i)))
				break;
		if (i > GV_LEAK)
			rd_fail(r, "verdict", "unknown verdict \"%.40s\"", s);
		g->verdict = i;
	}
	if (rd_str(r, o, "severity", false, &s) > 0) {
		for (i = GS_OK; i <= GS_CRITICAL; i++)
			if (!strcmp(s, growth_severity__str(i)))
				break;
		if (i > GS_CRITICAL)
			rd_fail(r, "severity", "unknown severity \"%.40s\"", s);
		g->severity = i;
	}
	rd_dbl(r, o, "slope_bytes_per_s", false, &g->slope_bps);
	rd_dbl(r, o, "r2", false, &g->r2);
	rd_dbl(r, o, "eta_limit_s", false, &g->eta_limit_s);
	rd_pop(r, mark);
	return r->status ? -1 : 0;
}

static void rd_victim(struct rd *r, struct json_object *root, struct oom_dump *d)
{
	struct oom_victim *v = &d->victim;
	struct json_object *o, *a, *e;
	size_t mark, i, n;

	if (rd_get(r, root, "victim", W_OBJ, true, &o) <= 0)
		return;
	mark = rd_push_key(r, "victim");
	rd_int(r, o, "pid", true, 1, INT_MAX, &v->pid);
	rd_int(r, o, "tid", false, 0, INT_MAX, &v->tid);
	rd_comm(r, o, "comm", true, v->comm);
	if (rd_get(r, o, "argv", W_ARR, false, &a) > 0) {
		n = json_object_array_length(a);
		if (!(v->argv = calloc(n + 1, sizeof(*v->argv)))) {
			rd_nomem(r);
		} else {
			size_t amark = rd_push(r, ".argv"), emark;

			for (i = 0; i < n && !r->status; i++) {
				e = json_object_array_get_idx(a, i);
				emark = rd_push(r, "[%zu]", i);
				/* strings of the parsed document: never written to */
				if (rd_check(r, NULL, e, W_STR, true) > 0)
					v->argv[i] = (char *)str_of(r, NULL, e);
				rd_pop(r, emark);
			}
			rd_pop(r, amark);
		}
	}
	rd_i64(r, o, "uid", false, 0, UINT32_MAX, &v->uid);
	rd_int(r, o, "oom_score_adj", false, -1000, 1000, &v->oom_score_adj);
	rd_u64(r, o, "total_vm_bytes", false, &v->total_vm_bytes);
	rd_u64(r, o, "anon_rss_bytes", false, &v->anon_rss_bytes);
	rd_u64(r, o, "file_rss_bytes", false, &v->file_rss_bytes);
	rd_u64(r, o, "shmem_rss_bytes", false, &v->shmem_rss_bytes);
	rd_u64(r, o, "pgtables_bytes", false, &v->pgtables_bytes);
	rd_u64(r, o, "peak_rss_bytes", false, &v->peak_rss_bytes);
	rd_pop(r, mark);
}

static void rd_memcg(struct rd *r, struct json_object *root, struct oom_dump *d)
{
	struct oom_memcg *m = &d->memcg;
	struct json_object *o;
	const char *s = NULL;
	size_t mark;

	if (rd_str(r, root, "constraint", false, &s) > 0) {
		if (!strcmp(s, "memcg"))
			d->constraint = OOM_CONSTRAINT_MEMCG;
		else if (!strcmp(s, "global"))
			d->constraint = OOM_CONSTRAINT_GLOBAL;
		else
			rd_fail(r, "constraint", "expected \"memcg\" or \"global\", got \"%.40s\"", s);
	}
	if (rd_get(r, root, "memcg", W_OBJ, false, &o) <= 0)
		return;
	mark = rd_push_key(r, "memcg");
	rd_str(r, o, "path", false, &m->path);
	rd_int(r, o, "version", false, 1, 2, &m->version);
	rd_u64(r, o, "limit_bytes", false, &m->limit_bytes);
	rd_u64(r, o, "usage_bytes", false, &m->usage_bytes);
	rd_u64(r, o, "failcnt", false, &m->failcnt);
	rd_u64(r, o, "oom_events", false, &m->oom_events);
	rd_u64(r, o, "oom_kills", false, &m->oom_kills);
	rd_pop(r, mark);
}

static void rd_series(struct rd *r, struct json_object *root, struct oom_dump *d)
{
	struct json_object *a, *e;
	size_t i, n, mark;

	if (rd_get(r, root, "series", W_ARR, false, &a) <= 0)
		return;
	n = json_object_array_length(a);
	if (!n)
		return;
	if (!(d->series = calloc(n, sizeof(*d->series)))) {
		rd_nomem(r);
		return;
	}
	d->npoints = n;
	for (i = 0; i < n && !r->status; i++) {
		struct rpt_point *p = &d->series[i];

		e = json_object_array_get_idx(a, i);
		mark = rd_push(r, "series[%zu]", i);
		if (rd_check(r, NULL, e, W_OBJ, true) > 0) {
			rd_dbl(r, e, "t", true, &p->t);
			rd_u64(r, e, "rss_bytes", false, &p->rss_bytes);
			rd_u64(r, e, "heap_bytes", false, &p->heap_bytes);
		}
		rd_pop(r, mark);
	}
}

static void rd_stacks(struct rd *r, struct json_object *root, struct oom_dump *d)
{
	struct json_object *a, *e, *fr;
	size_t i, n, mark;

	if (rd_get(r, root, "stacks", W_ARR, false, &a) <= 0)
		return;
	n = json_object_array_length(a);
	if (!n)
		return;
	if (!(d->stacks = calloc(n, sizeof(*d->stacks)))) {
		rd_nomem(r);
		return;
	}
	d->nstacks = n;
	for (i = 0; i < n && !r->status; i++) {
		struct rpt_stack *st = &d->stacks[i];

		e = json_object_array_get_idx(a, i);
		mark = rd_push(r, "stacks[%zu]", i);
		if (rd_check(r, NULL, e, W_OBJ, true) > 0) {
			rd_i64(r, e, "live_bytes", false, INT64_MIN, INT64_MAX, &st->live_bytes);
			rd_i64(r, e, "live_allocs", false, INT64_MIN, INT64_MAX, &st->live_allocs);
			rd_u64(r, e, "alloc_bytes", false, &st->alloc_bytes);
			rd_u64(r, e, "allocs", false, &st->allocs);
			rd_u64(r, e, "stack_id", false, &st->stack_id);
			rd_i64(r, e, "growth_bytes", false, INT64_MIN, INT64_MAX, &st->growth_bytes);
			rd_dbl(r, e, "slope_bytes_per_s", false, &st->slope_bps);
			if (rd_get(r, e, "frames", W_ARR, false, &fr) > 0) {
				rd_push(r, ".frames");
				rd_frames(r, fr, &st->frames, &st->nframes);
			}
		}
		rd_pop(r, mark);
	}
}

static void rd_tests(struct rd *r, struct json_object *root, struct oom_dump *d)
{
	struct json_object *a, *e;
	size_t i, n, mark;

	rd_str(r, root, "test", false, &d->test);
	if (rd_get(r, root, "by_test", W_ARR, false, &a) <= 0)
		return;
	n = json_object_array_length(a);
	if (!n)
		return;
	if (!(d->by_test = calloc(n, sizeof(*d->by_test)))) {
		rd_nomem(r);
		return;
	}
	d->ntests = n;
	for (i = 0; i < n && !r->status; i++) {
		e = json_object_array_get_idx(a, i);
		mark = rd_push(r, "by_test[%zu]", i);
		if (rd_check(r, NULL, e, W_OBJ, true) > 0) {
			rd_str(r, e, "test", true, &d->by_test[i].test);
			rd_i64(r, e, "live_bytes", false, INT64_MIN, INT64_MAX,
			       &d->by_test[i].live_bytes);
		}
		rd_pop(r, mark);
	}
}

static void rd_exit(struct rd *r, struct json_object *root, struct oom_dump *d)
{
	struct json_object *o, *b;
	size_t mark;
	int code = 0, sig = 0;

	if (rd_get(r, root, "exit", W_OBJ, false, &o) <= 0)
		return;
	mark = rd_push_key(r, "exit");
	d->exit.known = true;
	rd_int(r, o, "code", false, 0, 255, &code);
	rd_int(r, o, "signal", false, 1, 127, &sig);
	d->exit.code = code;
	d->exit.signal = sig;
	if (rd_get(r, o, "oom_killed", W_BOOL, false, &b) > 0)
		d->exit.oom_killed = json_object_get_boolean(b);
	rd_pop(r, mark);
}

static void rd_top(struct rd *r, struct json_object *root, struct oom_dump *d)
{
	struct json_object *v;
	const char *s;

	if (!json_object_is_type(root, json_type_object)) {
		rd_fail(r, NULL, "not a memslope OOM dump: the JSON document is %s, not an object",
			jtype_name(root));
		return;
	}
	if (!json_object_object_get_ex(root, "schema", &v)) {
		rd_fail(r, NULL, "not a memslope OOM dump: no \"schema\" field");
		return;
	}
	if (!json_object_is_type(v, json_type_string)) {
		rd_fail(r, "schema", "expected a string, got %s", jtype_name(v));
		return;
	}
	s = json_object_get_string(v);
	if (strcmp(s, OOMDUMP_SCHEMA)) {
		if (!strncmp(s, "memslope.oom/", 13))
			rd_fail(r, NULL, "unsupported dump version \"%.40s\" (this memslope reads "
				OOMDUMP_SCHEMA ")", s);
		else
			rd_fail(r, NULL, "not an OOM dump: schema \"%.40s\" (expected "
				OOMDUMP_SCHEMA ")", s);
		return;
	}
	rd_time(r, root, &d->time_ns);
	rd_u64(r, root, "monotonic_ns", false, &d->mono_ns);
	rd_str(r, root, "host", false, &d->host);
	rd_victim(r, root, d);
	if (rd_get(r, root, "trigger", W_OBJ, false, &v) > 0) {
		size_t mark = rd_push_key(r, "trigger");

		rd_int(r, v, "pid", true, 1, INT_MAX, &d->trigger.pid);
		rd_comm(r, v, "comm", false, d->trigger.comm);
		rd_pop(r, mark);
	}
	rd_memcg(r, root, d);
	rd_series(r, root, d);
	rd_growth(r, root, &d->growth);
	rd_stacks(r, root, d);
	rd_frames_of(r, root, "last_stack", false, &d->last_stack, &d->nlast);
	rd_tests(r, root, d);
	rd_exit(r, root, d);
}

void oomdump__free(struct oom_dump *d)
{
	struct rd_priv *priv;
	size_t i;

	if (!d)
		return;
	priv = d->priv;
	free(d->victim.argv);
	free(d->series);
	for (i = 0; d->stacks && i < d->nstacks; i++)
		free(d->stacks[i].frames);
	free(d->stacks);
	free(d->last_stack);
	free(d->by_test);
	if (priv) {
		json_object_put(priv->root);
		free(priv);
	}
	free(d);
}

/* a byte that does not occur in a JSON text: NUL and control characters besides whitespace */
static bool is_binary(const char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len && i < 4096; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
			return true;
	}
	return false;
}

int oomdump__parse(const char *buf, size_t len, struct oom_dump **out, char *err, size_t errlen)
{
	struct rd r = { .err = err, .errlen = errlen };
	struct json_tokener *tok = NULL;
	struct json_object *root = NULL;
	enum json_tokener_error jerr;
	struct oom_dump *d = NULL;
	struct rd_priv *priv;
	size_t i, end;

	if (out)
		*out = NULL;
	if (errlen)
		err[0] = '\0';
	if (!buf || !out)
		return -EINVAL;
	for (i = 0; i < len && isspace((unsigned char)buf[i]); i++)
		;
	if (len == 0) {
		rd_fail(&r, NULL, "empty file");
		goto cleanup;
	}
	if (i == len) {
		rd_fail(&r, NULL, "empty file (only whitespace)");
		goto cleanup;
	}
	if (is_binary(buf, len)) {
		rd_fail(&r, NULL, "not JSON: binary data");
		goto cleanup;
	}
	if (buf[i] != '{' && buf[i] != '[') {
		rd_fail(&r, NULL, "not JSON: a dump starts with '{', this file with '%c'",
			isprint((unsigned char)buf[i]) ? buf[i] : '?');
		goto cleanup;
	}
	if (len > INT_MAX) {
		rd_fail(&r, NULL, "too large");
		goto cleanup;
	}
	if (!(tok = json_tokener_new())) {
		rd_nomem(&r);
		goto cleanup;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS |
				    JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (jerr == json_tokener_continue) {
		rd_fail(&r, NULL, "truncated: the JSON document ends early (after %zu bytes)", len);
		goto cleanup;
	}
	if (jerr != json_tokener_success) {
		rd_fail(&r, NULL, "not valid JSON: %s at byte %zu", json_tokener_error_desc(jerr),
			end);
		goto cleanup;
	}
	for (i = end; i < len && isspace((unsigned char)buf[i]); i++)
		;
	if (i < len) {
		rd_fail(&r, NULL, "not valid JSON: data after the document at byte %zu", i);
		goto cleanup;
	}

	if (!(d = calloc(1, sizeof(*d))) || !(priv = calloc(1, sizeof(*priv)))) {
		rd_nomem(&r);
		goto cleanup;
	}
	oomdump__init(d);
	priv->root = root;
	d->priv = priv;
	root = NULL;
	rd_top(&r, priv->root, d);
cleanup:
	/* json-c 0.16 does not accept NULL here */
	if (tok)
		json_tokener_free(tok);
	json_object_put(root);
	if (r.status) {
		oomdump__free(d);
		return r.status;
	}
	*out = d;
	return 0;
}

static int read_file(const char *path, char **buf_out, size_t *len_out, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, rc = 0;

	/* O_NONBLOCK: a FIFO named like a dump must not hang us */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s", strerror(errno));
		goto cleanup;
	}
	if (fstat(fd, &st)) {
		rc = -errno;
		snprintf(err, errlen, "%s", strerror(errno));
		goto cleanup;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = -EISDIR;
		snprintf(err, errlen, "is a directory, not a dump");
		goto cleanup;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EBADMSG;
		snprintf(err, errlen, "not a regular file");
		goto cleanup;
	}
	if ((uint64_t)st.st_size > OOMDUMP_MAX_SIZE) {
		rc = -EFBIG;
		snprintf(err, errlen, "too large for a dump (%lld bytes, at most %u)",
			 (long long)st.st_size, OOMDUMP_MAX_SIZE);
		goto cleanup;
	}
	/* read to EOF, not to st_size: the file may change under us; +1 byte shows growth */
	if (!(buf = malloc((size_t)st.st_size + 2))) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto cleanup;
	}
	while (len < (size_t)st.st_size + 1) {
		n = read(fd, buf + len, (size_t)st.st_size + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			snprintf(err, errlen, "%s", strerror(errno));
			goto cleanup;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > (size_t)st.st_size) {
		rc = -EAGAIN;
		snprintf(err, errlen, "the file grew while being read (still being written?)");
		goto cleanup;
	}
	buf[len] = '\0';
	*buf_out = buf;
	*len_out = len;
	buf = NULL;
cleanup:
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}

int oomdump__read_raw(const char *path, struct oom_dump **out, char **raw_out, size_t *len_out,
		      char *err, size_t errlen)
{
	char tmp[256], *buf = NULL;
	size_t len = 0;
	int rc;

	if (out)
		*out = NULL;
	if (!errlen) {
		err = tmp;
		errlen = sizeof(tmp);
	}
	err[0] = '\0';
	if (!path || !out)
		return -EINVAL;
	rc = read_file(path, &buf, &len, err, errlen);
	if (!rc)
		rc = oomdump__parse(buf, len, out, err, errlen);
	if (!rc && raw_out) {
		*raw_out = buf;
		if (len_out)
			*len_out = len;
		buf = NULL;
	}
	free(buf);
	return rc;
}

int oomdump__read(const char *path, struct oom_dump **out, char *err, size_t errlen)
{
	return oomdump__read_raw(path, out, NULL, NULL, err, errlen);
}

/* ------------------------------------------------------------------------ */
/* finding dumps                                                             */

static bool is_dump_name(const char *name)
{
	size_t n = strlen(name);

	return n > 9 && !strncmp(name, "oom-", 4) && !strcmp(name + n - 5, ".json");
}

/* kill time from "oom-YYYYMMDDTHHMMSSZ-...": for ordering unreadable files; 0 when not */
static int64_t name_time(const char *name)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(name + 4, "%Y%m%dT%H%M%SZ", &tm);
	return end ? (int64_t)timegm(&tm) * 1000000000 : 0;
}

/* the victim pid in "oom-STAMP-PID.json" or "oom-STAMP-PID-N.json"; -1 when not */
static long name_pid(const char *name)
{
	const char *p = strchr(name + 4, '-');
	char *end;
	long pid;

	if (!p || !isdigit((unsigned char)p[1]))
		return -1;
	pid = strtol(p + 1, &end, 10);
	if (!strcmp(end, ".json"))
		return pid;
	if (*end == '-' && isdigit((unsigned char)end[1])) {
		strtol(end + 1, &end, 10);
		if (!strcmp(end, ".json"))
			return pid;
	}
	return -1;
}

static int64_t entry_time(const struct oomdump_entry *e)
{
	return e->dump ? e->dump->time_ns : name_time(e->name);
}

static int entry_cmp(const void *a, const void *b)
{
	const struct oomdump_entry *x = a, *y = b;
	int64_t tx = entry_time(x), ty = entry_time(y);

	if (tx != ty)
		return tx < ty ? -1 : 1;
	return strcmp(x->name, y->name);
}

void oomdump__scan_free(struct oomdump_entry *e, size_t n)
{
	size_t i;

	for (i = 0; e && i < n; i++) {
		free(e[i].name);
		free(e[i].path);
		oomdump__free(e[i].dump);
	}
	free(e);
}

static char *path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir);
	char *p;

	if (asprintf(&p, "%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", name) < 0)
		return NULL;
	return p;
}

/* the dump names in dir, unsorted; -errno of opendir() */
static int list_names(const char *dir, char ***out, size_t *n)
{
	struct dirent *de;
	char **names = NULL, **tmp;
	size_t cnt = 0, cap = 0;
	DIR *dp = opendir(dir);
	int err = 0;

	*out = NULL;
	*n = 0;
	if (!dp)
		return -errno;
	while ((errno = 0, de = readdir(dp))) {
		if (!is_dump_name(de->d_name))
			continue;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			if (!(tmp = realloc(names, cap * sizeof(*names)))) {
				err = -ENOMEM;
				break;
			}
			names = tmp;
		}
		if (!(names[cnt] = strdup(de->d_name))) {
			err = -ENOMEM;
			break;
		}
		cnt++;
	}
	if (!err && errno)
		err = -errno;
	closedir(dp);
	if (err) {
		while (cnt)
			free(names[--cnt]);
		free(names);
		return err;
	}
	*out = names;
	*n = cnt;
	return 0;
}

static void free_names(char **names, size_t n)
{
	while (n)
		free(names[--n]);
	free(names);
}

int oomdump__scan(const char *dir, struct oomdump_entry **out, size_t *n)
{
	struct oomdump_entry *e = NULL;
	char **names;
	size_t cnt, i;
	int err;

	*out = NULL;
	*n = 0;
	err = list_names(dir, &names, &cnt);
	if (err)
		return err;
	if (cnt && !(e = calloc(cnt, sizeof(*e)))) {
		free_names(names, cnt);
		return -ENOMEM;
	}
	for (i = 0; i < cnt; i++) {
		e[i].name = names[i];
		names[i] = NULL;
		if (!(e[i].path = path_join(dir, e[i].name))) {
			oomdump__scan_free(e, cnt);
			free_names(names, cnt);
			return -ENOMEM;
		}
		e[i].error = oomdump__read(e[i].path, &e[i].dump, e[i].err, sizeof(e[i].err));
	}
	free(names);
	if (cnt)
		qsort(e, cnt, sizeof(*e), entry_cmp);
	*out = e;
	*n = cnt;
	return 0;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static int set_path(char *path, size_t len, const char *dir, const char *name)
{
	int n;

	if (dir)
		n = snprintf(path, len, "%s%s%s", dir, *dir && dir[strlen(dir) - 1] == '/' ? "" : "/",
			     name);
	else
		n = snprintf(path, len, "%s", name);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static bool is_file(const char *path)
{
	struct stat st;

	return !stat(path, &st) && !S_ISDIR(st.st_mode);
}

/* the only name in names[] that match() accepts; -ENOENT / -ENOTUNIQ with err */
static int pick_unique(char **names, size_t n, bool (*match)(const char *, const void *),
		       const void *arg, const char **found, char *err, size_t errlen, const char *id,
		       const char *what)
{
	size_t i, hits = 0, off = 0;
	const char *first = NULL;

	for (i = 0; i < n; i++) {
		if (!match(names[i], arg))
			continue;
		if (!hits++)
			first = names[i];
	}
	if (hits == 1) {
		*found = first;
		return 0;
	}
	if (!hits)
		return -ENOENT;
	off = (size_t)snprintf(err, errlen, "'%s' is ambiguous: %zu dumps %s (", id, hits, what);
	for (i = 0, hits = 0; i < n && off < errlen; i++) {
		if (!match(names[i], arg))
			continue;
		if (hits++ == 3) {
			off += (size_t)snprintf(err + off, errlen - off, ", …");
			break;
		}
		off += (size_t)snprintf(err + off, errlen - off, "%s%s", hits > 1 ? ", " : "",
					names[i]);
	}
	if (off < errlen)
		snprintf(err + off, errlen - off, "); give the file name");
	return -ENOTUNIQ;
}

static bool match_pid(const char *name, const void *arg)
{
	return name_pid(name) == *(const long *)arg;
}

static bool match_prefix(const char *name, const void *arg)
{
	const char *id = arg;
	size_t n = strlen(id);

	return !strncmp(name, id, n) || !strncmp(name + 4, id, n);
}

int oomdump__resolve(const char *dir, const char *id, char *path, size_t len, char *err,
		     size_t errlen)
{
	char tmp[512], **names = NULL, *withext = NULL;
	const char *found = NULL;
	size_t n = 0, i;
	long pid;
	int rc, lrc;

	if (!errlen) {
		err = tmp;
		errlen = sizeof(tmp);
	}
	err[0] = '\0';
	if (!id || !*id || !path) {
		snprintf(err, errlen, "no dump named");
		return -EINVAL;
	}
	if (strchr(id, '/'))
		return set_path(path, len, NULL, id);

	lrc = dir ? list_names(dir, &names, &n) : -ENOENT;
	/* a file named ID (or ID.json) in dir, dump name or not */
	if (dir && lrc != -ENOENT) {
		rc = set_path(path, len, dir, id);
		if (rc || is_file(path))
			goto cleanup;
		if (asprintf(&withext, "%s.json", id) < 0) {
			rc = -ENOMEM;
			goto cleanup;
		}
		rc = set_path(path, len, dir, withext);
		if (rc || is_file(path))
			goto cleanup;
	}
	rc = -ENOENT;
	if (!lrc && all_digits(id)) {
		errno = 0;
		pid = strtol(id, NULL, 10);
		if (!errno) {
			rc = pick_unique(names, n, match_pid, &pid, &found, err, errlen, id,
					 "of that pid");
			if (rc != -ENOENT)
				goto found;
		}
	}
	if (!lrc) {
		rc = pick_unique(names, n, match_prefix, id, &found, err, errlen, id, "match");
		if (rc != -ENOENT)
			goto found;
	}
	if (is_file(id)) {
		rc = set_path(path, len, NULL, id);
		goto cleanup;
	}
	if (lrc && lrc != -ENOENT)
		snprintf(err, errlen, "no dump '%s': %s: %s", id, dir, strerror(-lrc));
	else
		snprintf(err, errlen, "no dump matches '%s' in %s", id, dir ? dir : ".");
	rc = -ENOENT;
	goto cleanup;
found:
	if (!rc)
		rc = set_path(path, len, dir, found);
cleanup:
	if (rc == -ENAMETOOLONG)
		snprintf(err, errlen, "path too long");
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(withext);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* text                                                                      */

/* one output line with its width in columns, so cells line up around "…" or a UTF-8 comm */
struct line {
	char s[1024];
	size_t len;
	int cols;
};

static void ln_reset(struct line *l)
{
	l->len = 0;
	l->cols = 0;
	l->s[0] = '\0';
}

/*
 * Append up to n bytes of s; control characters and bytes that are not UTF-8 become '?':
 * comm, argv, cgroup and symbol names come from the dead program and must not drive the
 * terminal of the (often root) reader.
 */
static void ln_putn(struct line *l, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i, k;

	for (i = 0; i < n && u[i]; i += k) {
		k = utf8_seq(u + i, n - i);
		if (l->len + (k ? k : 1) >= sizeof(l->s))
			break;
		if (!k || u[i] < 0x20 || u[i] == 0x7f) {
			l->s[l->len++] = '?';
			k = 1;
		} else {
			memcpy(l->s + l->len, s + i, k);
			l->len += k;
		}
		l->cols++;
	}
	l->s[l->len] = '\0';
}

static void ln_puts(struct line *l, const char *s)
{
	ln_putn(l, s, strlen(s));
}

__attribute__((format(printf, 2, 3)))
static void ln_printf(struct line *l, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	ln_puts(l, tmp);
}

static void ln_pad(struct line *l, int col)
{
	while (l->cols < col && l->len + 1 < sizeof(l->s)) {
		l->s[l->len++] = ' ';
		l->cols++;
	}
	l->s[l->len] = '\0';
}

static void ln_fit(struct line *l, int width)
{
	size_t i;
	int cols = 0;

	if (l->cols <= width)
		return;
	for (i = 0; i < l->len; i++) {
		if (((unsigned char)l->s[i] & 0xc0) == 0x80)
			continue;
		if (cols == width - 1)
			break;
		cols++;
	}
	l->len = i;
	l->cols = cols;
	l->s[l->len] = '\0';
	ln_puts(l, "…");
}

/*
 * At most width columns of s, keeping its end ("…/ci/job-42"): the leaf of a cgroup
 * path is what tells two cgroups apart.
 */
static void ln_cell_tail(struct line *l, const char *s, int width)
{
	struct line c;
	size_t i;
	int skip;

	ln_reset(&c);
	ln_puts(&c, s);
	if (c.cols <= width) {
		ln_puts(l, c.s);
		return;
	}
	skip = c.cols - (width - 1);
	for (i = 0; i < c.len && skip > 0; i++)
		if (((unsigned char)c.s[i + 1] & 0xc0) != 0x80)
			skip--;
	ln_puts(l, "…");
	ln_puts(l, c.s + i);
}

static void ln_emit(struct line *l, FILE *f)
{
	while (l->len && l->s[l->len - 1] == ' ')
		l->len--;
	l->s[l->len] = '\0';
	fputs(l->s, f);
	fputc('\n', f);
	ln_reset(l);
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s && s[1] ? s + 1 : path;
}

static void ln_frame(struct line *l, const struct rpt_frame *fr)
{
	if (fr->func) {
		ln_puts(l, fr->func);
		if (fr->file) {
			if (fr->line > 0)
				ln_printf(l, " (%s:%d)", base_name(fr->file), fr->line);
			else
				ln_printf(l, " (%s)", base_name(fr->file));
			return;
		}
		if (fr->func_off)
			ln_printf(l, "+0x%" PRIx64, fr->func_off);
	} else {
		ln_printf(l, "0x%" PRIx64, fr->addr);
	}
	if (fr->module)
		ln_printf(l, " (%s)", base_name(fr->module));
}

char *oomdump__fmt_frame(char *buf, size_t len, const struct rpt_frame *fr)
{
	struct line l;

	if (!len)
		return buf;
	ln_reset(&l);
	ln_frame(&l, fr);
	snprintf(buf, len, "%s", l.s);
	return buf;
}

char *oomdump__fmt_time(char *buf, size_t len, int64_t time_ns)
{
	time_t secs = (time_t)(time_ns / 1000000000);
	struct tm tm;

	if (time_ns < 0 || !gmtime_r(&secs, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, len, "?");
	return buf;
}

/* "12.3 s", "4m05s", "2h07m" */
static char *fmt_dur(char *buf, size_t len, double s)
{
	long long n;

	if (!isfinite(s) || s < 0)
		snprintf(buf, len, "?");
	else if (s < 59.95)
		snprintf(buf, len, "%.1f s", s);
	else if ((n = llround(s)) < 3600)
		snprintf(buf, len, "%lldm%02llds", n / 60, n % 60);
	else if (n < 100 * 3600LL)
		snprintf(buf, len, "%lldh%02lldm", n / 3600, n / 60 % 60);
	else
		snprintf(buf, len, "%lldd%02lldh", n / 86400, n / 3600 % 24);
	return buf;
}

/*
 * Allocator entry points and internals: every stack starts in them, and the culprit is the
 * code that called them. Matched on the name up to a '(' (demangled C++), '.' (".isra.0",
 * ".constprop.0") or '@' ("@plt", "@@GLIBC_2.2.5").
 */
bool oomdump__is_alloc_frame(const struct rpt_frame *fr)
{
	static const char *const names[] = {
		"malloc", "calloc", "realloc", "reallocarray", "free", "posix_memalign",
		"aligned_alloc", "memalign", "valloc", "pvalloc", "mmap", "mmap64", "__mmap",
		"mremap", "brk", "sbrk", "__brk", "__sbrk", "strdup", "strndup", "__strdup",
		"__libc_malloc", "__libc_calloc", "__libc_realloc", "__libc_memalign",
		"__libc_valloc", "__libc_pvalloc", "__posix_memalign", "_int_malloc",
		"_int_realloc", "_int_memalign", "sysmalloc", "malloc_consolidate", "tcache_init",
		"_mid_memalign", "operator new", "operator new[]",
		"je_malloc", "je_calloc", "je_realloc", "tc_malloc", "tc_calloc", "tc_realloc",
		"tc_new", "mi_malloc", "mi_calloc", "mi_realloc",
		/* CPython's allocators: the culprit is the Python or C code above them */
		"PyMem_Malloc", "PyMem_Calloc", "PyMem_Realloc", "PyMem_RawMalloc",
		"PyMem_RawCalloc", "PyMem_RawRealloc", "PyObject_Malloc", "PyObject_Calloc",
		"PyObject_Realloc", "_PyObject_Malloc", "_PyObject_Calloc", "_PyObject_Realloc",
		"_PyObject_New", "_PyObject_NewVar", "PyObject_GC_Malloc", "PyType_GenericAlloc",
		"gc_alloc", "new_arena", "allocate_from_new_pool", "_PyLong_New",
		"PyBytes_FromStringAndSize", "_PyBytes_Resize", "PyUnicode_New",
		"_PyObject_GC_New", "_PyObject_GC_NewVar", "_PyObject_GC_Malloc",
		"_PyObject_GC_Alloc", "_PyObject_GC_Calloc", "_PyObject_GC_Link",
	};
	static const char *const prefixes[] = {
		"_Znwm", "_Znam", "pymalloc_", "_PyMem_", "__GI___libc_", "__GI___mmap",
	};
	const char *f;
	size_t i, n;
	char c;

	if (!fr || !fr->func || (fr->lang && strcmp(fr->lang, "c")))
		return false;
	f = fr->func;
	for (i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (!strncmp(f, prefixes[i], strlen(prefixes[i])))
			return true;
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		n = strlen(names[i]);
		if (strncmp(f, names[i], n))
			continue;
		c = f[n];
		if (c == '\0' || c == '(' || c == '.' || c == '@')
			return true;
	}
	return false;
}

const struct rpt_frame *oomdump__culprit_frame(const struct oom_dump *d)
{
	const struct rpt_stack *st;
	size_t i;

	if (!d || !d->nstacks || !d->stacks)
		return NULL;
	st = &d->stacks[0];
	if (!st->nframes || !st->frames)
		return NULL;
	for (i = 0; i + 1 < st->nframes && oomdump__is_alloc_frame(&st->frames[i]); i++)
		;
	return &st->frames[i];
}

static uint64_t rss_at_death(const struct oom_dump *d)
{
	const struct oom_victim *v = &d->victim;

	return v->anon_rss_bytes + v->file_rss_bytes + v->shmem_rss_bytes;
}

static int flush_status(FILE *f)
{
	errno = 0;
	if (fflush(f) || ferror(f))
		return errno ? -errno : -EIO;
	return 0;
}

#define CHART_LABEL	10	/* "%9s " before the axis */

int oomdump__print_chart(const struct oom_dump *d, int cols, int rows, FILE *f)
{
	double *rss = NULL, *heap = NULL, top = 0, t0, t1, span, lim = -1, cell;
	bool have_heap = false, have_col, lim_shown = false;
	char a[32], b[32];
	struct line l;
	size_t i;
	int c, row, limrow = -1, err = 0;

	if (!d || !f || cols < 2 || rows < 1 || cols > 300 || rows > 100)
		return -EINVAL;
	ln_reset(&l);
	if (!d->npoints || !d->series) {
		ln_puts(&l, "  (no memory history: the victim was not being sampled)");
		ln_emit(&l, f);
		return flush_status(f);
	}
	if (!(rss = calloc((size_t)cols, sizeof(*rss))) ||
	    !(heap = calloc((size_t)cols, sizeof(*heap)))) {
		err = -ENOMEM;
		goto cleanup;
	}
	t0 = d->series[0].t;
	t1 = d->series[d->npoints - 1].t;
	span = t1 > t0 ? t1 - t0 : 0;

	/* each column: the largest sample of its time slice; empty slices repeat the last */
	for (i = 0; i < d->npoints; i++) {
		const struct rpt_point *p = &d->series[i];

		c = span > 0 && isfinite(p->t) ? (int)lround((p->t - t0) / span * (cols - 1)) : 0;
		if (c < 0)
			c = 0;
		if (c >= cols)
			c = cols - 1;
		if ((double)p->rss_bytes > rss[c])
			rss[c] = (double)p->rss_bytes;
		if ((double)p->heap_bytes > heap[c])
			heap[c] = (double)p->heap_bytes;
		if (p->heap_bytes)
			have_heap = true;
	}
	for (c = 0, have_col = false; c < cols; c++) {
		bool here = rss[c] > 0 || heap[c] > 0;

		if (!here && have_col) {
			rss[c] = rss[c - 1];
			heap[c] = heap[c - 1];
		}
		have_col = have_col || here;
		if (rss[c] > top)
			top = rss[c];
		if (heap[c] > top)
			top = heap[c];
	}
	/* the limit sets the scale unless it would squash the history flat */
	if (d->memcg.limit_bytes != OOMDUMP_NONE && d->memcg.limit_bytes > 0) {
		lim = (double)d->memcg.limit_bytes;
		if (lim <= 4 * top || top == 0) {
			if (lim > top)
				top = lim;
			lim_shown = true;
			limrow = (int)ceil(lim / top * rows) - 1;
			if (limrow < 0)
				limrow = 0;
			if (limrow >= rows)
				limrow = rows - 1;
		}
	}
	if (top <= 0)
		top = 1;
	cell = top / rows;

	for (row = rows - 1; row >= 0; row--) {
		double mid = (row + 0.5) * cell;

		if (row == rows - 1)
			ln_printf(&l, "%9s ┤", fmt_bytes(a, sizeof(a), top));
		else if (row == limrow && lim_shown)
			ln_printf(&l, "%9s ┤", fmt_bytes(a, sizeof(a), lim));
		else
			ln_printf(&l, "%9s │", "");
		for (c = 0; c < cols; c++) {
			if (have_heap && heap[c] >= mid)
				ln_puts(&l, "█");
			else if (rss[c] >= mid)
				ln_puts(&l, have_heap ? "▒" : "█");
			else if (row == limrow)
				ln_puts(&l, "─");
			else
				ln_puts(&l, " ");
		}
		if (row == limrow)
			ln_puts(&l, " limit");
		/* keep the cells, drop padding only after the last one */
		fputs(l.s, f);
		fputc('\n', f);
		ln_reset(&l);
	}
	ln_printf(&l, "%9s └", "0 B");
	for (c = 0; c < cols; c++)
		ln_puts(&l, "─");
	ln_emit(&l, f);

	fmt_dur(b, sizeof(b), span);
	ln_pad(&l, CHART_LABEL + 1);
	ln_puts(&l, "0 s");
	ln_pad(&l, CHART_LABEL + 1 + cols - (int)strlen(b));
	ln_puts(&l, b);
	ln_emit(&l, f);

	ln_pad(&l, CHART_LABEL + 1);
	if (have_heap)
		ln_puts(&l, "█ heap (live tracked bytes)  ▒ RSS");
	else
		ln_puts(&l, "█ RSS");
	if (lim_shown)
		ln_puts(&l, "  ─ memcg limit");
	else if (lim > 0)
		ln_printf(&l, "  (memcg limit %s, off the chart)", fmt_bytes(a, sizeof(a), lim));
	ln_emit(&l, f);
	err = flush_status(f);
cleanup:
	free(rss);
	free(heap);
	return err;
}

static void ln_verdict_sentence(struct line *l, const struct growth *g)
{
	const char *sev = growth_severity__str(g->severity);
	char slope[40], eta[32], tmp[32];

	if (!sev)
		sev = "?";
	fmt_bytes(tmp, sizeof(tmp), g->slope_bps);
	snprintf(slope, sizeof(slope), "%s%s", g->slope_bps >= 0.5 ? "+" : "", tmp);
	switch (g->verdict) {
	case GV_LEAK:
		ln_printf(l, "leak: %s/s, steady (r²=%.2f), %s", slope, g->r2, sev);
		break;
	case GV_GROWING:
		ln_printf(l, "growing: %s/s, not linear (r²=%.2f), %s", slope, g->r2, sev);
		break;
	case GV_PLATEAU:
		ln_puts(l, "plateau: grew, then flat");
		break;
	case GV_SAWTOOTH:
		ln_puts(l, "sawtooth: builds up and releases, troughs flat");
		break;
	case GV_STABLE:
		ln_printf(l, "stable (%s/s)", slope);
		break;
	case GV_INSUFFICIENT:
	default:
		ln_puts(l, "too little data for a verdict");
		return;
	}
	if (g->eta_limit_s >= 0 && isfinite(g->eta_limit_s))
		ln_printf(l, "; limit in ~%s", fmt_dur(eta, sizeof(eta), g->eta_limit_s));
}

#define COL_VAL		13	/* values after "  victim     " */
#define COL_FRAME	8
#define SHOW_MAX_FRAMES	16
#define SHOW_MAX_STACKS	5

static void print_frames(struct line *l, const struct rpt_frame *fr, size_t n, bool skip_alloc,
			 FILE *f)
{
	size_t i = 0, first;

	if (skip_alloc)
		while (i + 1 < n && oomdump__is_alloc_frame(&fr[i]))
			i++;
	first = i;
	for (; i < n && i < first + SHOW_MAX_FRAMES; i++) {
		ln_pad(l, COL_FRAME);
		ln_frame(l, &fr[i]);
		if (fr[i].lang && !strcmp(fr[i].lang, "python"))
			ln_puts(l, "  [py]");
		ln_fit(l, OOMDUMP_TEXT_WIDTH);
		ln_emit(l, f);
	}
	if (i < n) {
		ln_pad(l, COL_FRAME);
		ln_printf(l, "… %zu more frames", n - i);
		ln_emit(l, f);
	}
	if (!n) {
		ln_pad(l, COL_FRAME);
		ln_puts(l, "[no frames]");
		ln_emit(l, f);
	}
}

static void ln_label(struct line *l, const char *label)
{
	ln_pad(l, 2);
	ln_puts(l, label);
	ln_pad(l, COL_VAL);
}

int oomdump__print_show(const struct oom_dump *d, const char *path, FILE *f)
{
	const struct oom_victim *v;
	const struct oom_memcg *m;
	char a[32], b[32], c[32], e[32], t[32];
	struct line l;
	size_t i, shown;
	int err;

	if (!d || !f)
		return -EINVAL;
	v = &d->victim;
	m = &d->memcg;
	ln_reset(&l);
	ln_printf(&l, "OOM kill of pid %d (", v->pid);
	ln_putn(&l, v->comm, strnlen(v->comm, 16));
	ln_printf(&l, ") at %s UTC", oomdump__fmt_time(t, sizeof(t), d->time_ns));
	if (d->host) {
		ln_puts(&l, " on ");
		ln_puts(&l, d->host);
	}
	ln_fit(&l, OOMDUMP_TEXT_WIDTH);
	ln_emit(&l, f);
	if (path) {
		ln_label(&l, "dump");
		ln_puts(&l, path);
		ln_emit(&l, f);
	}
	if (v->argv && v->argv[0]) {
		ln_label(&l, "command");
		for (i = 0; v->argv[i]; i++) {
			if (i)
				ln_puts(&l, " ");
			ln_puts(&l, v->argv[i]);
		}
		ln_fit(&l, OOMDUMP_TEXT_WIDTH);
		ln_emit(&l, f);
	}
	ln_label(&l, "victim");
	ln_printf(&l, "pid %d", v->pid);
	if (v->tid > 0 && v->tid != v->pid)
		ln_printf(&l, " (thread %d)", v->tid);
	if (v->uid >= 0)
		ln_printf(&l, ", uid %" PRId64, v->uid);
	ln_printf(&l, ", oom_score_adj %d", v->oom_score_adj);
	ln_emit(&l, f);

	ln_label(&l, "memory");
	ln_printf(&l, "RSS %s (anon %s, file %s, shmem %s)",
		  fmt_bytes(a, sizeof(a), (double)rss_at_death(d)),
		  fmt_bytes(b, sizeof(b), (double)v->anon_rss_bytes),
		  fmt_bytes(c, sizeof(c), (double)v->file_rss_bytes),
		  fmt_bytes(e, sizeof(e), (double)v->shmem_rss_bytes));
	if (v->peak_rss_bytes != OOMDUMP_NONE)
		ln_printf(&l, ", peak %s", fmt_bytes(a, sizeof(a), (double)v->peak_rss_bytes));
	ln_emit(&l, f);
	ln_pad(&l, COL_VAL);
	ln_printf(&l, "virtual %s, page tables %s",
		  fmt_bytes(a, sizeof(a), (double)v->total_vm_bytes),
		  fmt_bytes(b, sizeof(b), (double)v->pgtables_bytes));
	ln_emit(&l, f);

	ln_label(&l, "trigger");
	if (d->trigger.pid <= 0) {
		ln_puts(&l, "unknown");
	} else {
		ln_printf(&l, "pid %d (", d->trigger.pid);
		ln_putn(&l, d->trigger.comm, strnlen(d->trigger.comm, 16));
		ln_puts(&l, ")");
		if (d->trigger.pid == v->pid)
			ln_puts(&l, ", the victim itself");
		else
			ln_puts(&l, ", another process: its allocation hit the limit");
	}
	ln_fit(&l, OOMDUMP_TEXT_WIDTH);
	ln_emit(&l, f);

	ln_label(&l, "constraint");
	if (d->constraint == OOM_CONSTRAINT_MEMCG)
		ln_puts(&l, "memcg (a memory cgroup hit its limit)");
	else if (d->constraint == OOM_CONSTRAINT_GLOBAL)
		ln_puts(&l, "global (the host ran out of memory)");
	else
		ln_puts(&l, "unknown");
	ln_emit(&l, f);

	if (m->path || m->limit_bytes != OOMDUMP_NONE || m->usage_bytes != OOMDUMP_NONE) {
		ln_label(&l, "memcg");
		ln_puts(&l, m->path ? (*m->path ? m->path : "/") : "?");
		if (m->version)
			ln_printf(&l, " (v%d)", m->version);
		ln_emit(&l, f);
		ln_pad(&l, COL_VAL);
		ln_printf(&l, "limit %s, usage %s",
			  m->limit_bytes == OOMDUMP_NONE ? "none" :
			  fmt_bytes(a, sizeof(a), (double)m->limit_bytes),
			  m->usage_bytes == OOMDUMP_NONE ? "?" :
			  fmt_bytes(b, sizeof(b), (double)m->usage_bytes));
		if (m->failcnt != OOMDUMP_NONE)
			ln_printf(&l, ", failcnt %" PRIu64, m->failcnt);
		if (m->oom_events != OOMDUMP_NONE)
			ln_printf(&l, ", %" PRIu64 " OOM event%s", m->oom_events,
				  m->oom_events == 1 ? "" : "s");
		if (m->oom_kills != OOMDUMP_NONE)
			ln_printf(&l, ", %" PRIu64 " OOM kill%s", m->oom_kills,
				  m->oom_kills == 1 ? "" : "s");
		ln_fit(&l, OOMDUMP_TEXT_WIDTH);
		ln_emit(&l, f);
	}
	if (d->exit.known) {
		ln_label(&l, "exit");
		ln_puts(&l, fmt_exit(a, sizeof(a), true, d->exit.code, d->exit.signal,
				     d->exit.oom_killed));
		ln_emit(&l, f);
	}
	if (d->test) {
		ln_label(&l, "test");
		ln_puts(&l, d->test);
		ln_fit(&l, OOMDUMP_TEXT_WIDTH);
		ln_emit(&l, f);
	}
	if (d->ntests) {
		ln_label(&l, "by test");
		for (i = 0; i < d->ntests; i++)
			ln_printf(&l, "%s%s %s", i ? ", " : "",
				  d->by_test[i].test ? d->by_test[i].test : REPORT_UNKNOWN,
				  fmt_bytes(a, sizeof(a), (double)d->by_test[i].live_bytes));
		ln_fit(&l, OOMDUMP_TEXT_WIDTH);
		ln_emit(&l, f);
	}

	ln_emit(&l, f);
	if (d->npoints > 0)
		ln_printf(&l, "Memory history (%zu samples over %s):", d->npoints,
			  fmt_dur(a, sizeof(a), d->series[d->npoints - 1].t - d->series[0].t));
	else
		ln_puts(&l, "Memory history:");
	ln_emit(&l, f);
	err = oomdump__print_chart(d, OOMDUMP_CHART_COLS, OOMDUMP_CHART_ROWS, f);
	if (err)
		return err;
	ln_emit(&l, f);
	ln_puts(&l, "Verdict: ");
	ln_verdict_sentence(&l, &d->growth);
	ln_emit(&l, f);

	ln_emit(&l, f);
	if (!d->nstacks) {
		ln_puts(&l, "Top stacks at the kill: none recorded (the victim was not traced)");
		ln_emit(&l, f);
	} else {
		ln_puts(&l, "Top stacks at the kill (live bytes):");
		ln_emit(&l, f);
	}
	shown = d->nstacks < SHOW_MAX_STACKS ? d->nstacks : SHOW_MAX_STACKS;
	for (i = 0; i < shown; i++) {
		const struct rpt_stack *st = &d->stacks[i];

		ln_pad(&l, 2);
		ln_printf(&l, "#%zu  %s live in %" PRId64 " alloc%s", i + 1,
			  fmt_bytes(a, sizeof(a), (double)st->live_bytes), st->live_allocs,
			  st->live_allocs == 1 ? "" : "s");
		if (st->growth_bytes)
			ln_printf(&l, ", %s%s since start", st->growth_bytes > 0 ? "+" : "",
				  fmt_bytes(b, sizeof(b), (double)st->growth_bytes));
		if (st->slope_bps != 0 && isfinite(st->slope_bps))
			ln_printf(&l, ", %s%s/s", st->slope_bps > 0 ? "+" : "",
				  fmt_bytes(c, sizeof(c), st->slope_bps));
		ln_fit(&l, OOMDUMP_TEXT_WIDTH);
		ln_emit(&l, f);
		print_frames(&l, st->frames, st->frames ? st->nframes : 0, true, f);
	}
	if (shown < d->nstacks) {
		int64_t rest = 0;

		for (i = shown; i < d->nstacks; i++)
			rest += d->stacks[i].live_bytes;
		ln_pad(&l, 2);
		ln_printf(&l, "… %zu more stack%s, %s live", d->nstacks - shown,
			  d->nstacks - shown == 1 ? "" : "s", fmt_bytes(a, sizeof(a), (double)rest));
		ln_emit(&l, f);
	}

	ln_emit(&l, f);
	if (d->nlast && d->last_stack) {
		ln_puts(&l, "Last stack at death (innermost first):");
		ln_emit(&l, f);
		print_frames(&l, d->last_stack, d->nlast, false, f);
	} else {
		ln_puts(&l, "Last stack at death: not captured");
		ln_emit(&l, f);
	}
	return flush_status(f);
}

/* TIME (19) PID (7) COMM (15) CGROUP (18) RSS (9) CULPRIT (the remaining 25) */
#define LIST_PID	20
#define LIST_COMM	28
#define LIST_CGROUP	44
#define LIST_CG_W	18
#define LIST_RSS	63

int oomdump__print_list_header(FILE *f)
{
	struct line l;

	ln_reset(&l);
	ln_puts(&l, "TIME (UTC)");
	ln_pad(&l, LIST_PID);
	ln_printf(&l, "%7s", "PID");
	ln_pad(&l, LIST_COMM);
	ln_puts(&l, "COMM");
	ln_pad(&l, LIST_CGROUP);
	ln_puts(&l, "CGROUP");
	ln_pad(&l, LIST_RSS);
	ln_printf(&l, "%9s  %s", "RSS", "CULPRIT");
	ln_emit(&l, f);
	return flush_status(f);
}

int oomdump__print_list_row(const struct oom_dump *d, FILE *f)
{
	const struct rpt_frame *fr;
	char t[32], a[32];
	struct line l;

	if (!d || !f)
		return -EINVAL;
	ln_reset(&l);
	ln_puts(&l, oomdump__fmt_time(t, sizeof(t), d->time_ns));
	ln_pad(&l, LIST_PID);
	ln_printf(&l, "%7d", d->victim.pid);
	ln_pad(&l, LIST_COMM);
	ln_putn(&l, d->victim.comm, strnlen(d->victim.comm, 16));
	ln_pad(&l, LIST_CGROUP);
	if (d->memcg.path && *d->memcg.path)
		ln_cell_tail(&l, d->memcg.path, LIST_CG_W);
	else
		ln_puts(&l, d->constraint == OOM_CONSTRAINT_GLOBAL ? "(global)" : "-");
	ln_pad(&l, LIST_RSS);
	ln_printf(&l, "%9s  ", fmt_bytes(a, sizeof(a), (double)rss_at_death(d)));
	fr = oomdump__culprit_frame(d);
	if (fr)
		ln_frame(&l, fr);
	else
		ln_puts(&l, "-");
	ln_fit(&l, OOMDUMP_TEXT_WIDTH);
	ln_emit(&l, f);
	return flush_status(f);
}
