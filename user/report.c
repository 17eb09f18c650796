// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* report.c - the trace report as a human table and as memslope.trace/1 JSON (json-c) */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "report.h"
#include "utf8.h"
#include "jsonw.h"

/* ------------------------------------------------------------------------ */
/* small formatters                                                          */

char *fmt_bytes(char *buf, size_t len, double bytes)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	const char *sign = "";
	double v = bytes;
	size_t u;

	if (!len)
		return buf;
	if (isnan(v)) {
		snprintf(buf, len, "? B");
		return buf;
	}
	/* round first so -0.3 B reads "0 B", not "-0 B" */
	if (fabs(v) < 1023.5) {
		v = round(v);
		snprintf(buf, len, "%s%.0f B", v < 0 ? "-" : "", fabs(v));
		return buf;
	}
	if (v < 0) {
		sign = "-";
		v = -v;
	}
	v /= 1024;
	/* move up a unit when %.1f would print 1024.0 */
	for (u = 0; v >= 1023.95 && u + 1 < sizeof(units) / sizeof(units[0]); u++)
		v /= 1024;
	snprintf(buf, len, "%s%.1f %s", sign, v, units[u]);
	return buf;
}

char *fmt_exit(char *buf, size_t len, bool exited, int code, int sig, bool oom_killed)
{
	const char *name = sig > 0 ? sigabbrev_np(sig) : NULL;
	const char *oom = oom_killed ? " (OOM)" : "";

	if (!len)
		return buf;
	if (sig > 0 && name)
		snprintf(buf, len, "killed by SIG%s%s", name, oom);
	else if (sig > 0)
		snprintf(buf, len, "killed by signal %d%s", sig, oom);
	else if (oom_killed)
		snprintf(buf, len, "killed by the OOM killer");
	else if (exited)
		snprintf(buf, len, "exited %d", code);
	else
		snprintf(buf, len, "running");
	return buf;
}

/* "12.3 s", "4m05s", "2h07m": short enough for a table cell */
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

/* "1234", "12.3k", "4.5M": allocation counts in a narrow column */
static char *fmt_count(char *buf, size_t len, double n)
{
	if (fabs(n) < 10000)
		snprintf(buf, len, "%.0f", n);
	else if (fabs(n) < 999950)
		snprintf(buf, len, "%.1fk", n / 1e3);
	else if (fabs(n) < 999950000)
		snprintf(buf, len, "%.1fM", n / 1e6);
	else
		snprintf(buf, len, "%.1fG", n / 1e9);
	return buf;
}

/* growth with an explicit sign: "+12.0 MiB", "-3 B", "0 B" */
static char *fmt_delta(char *buf, size_t len, double bytes)
{
	char tmp[24];

	fmt_bytes(tmp, sizeof(tmp), bytes);
	snprintf(buf, len, "%s%s", bytes >= 0.5 ? "+" : "", tmp);
	return buf;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	/* a path ending in '/' would print nothing; keep it whole */
	return s && s[1] ? s + 1 : path;
}

static size_t comm_len(const char comm[16])
{
	/* comm comes from the kernel as 16 bytes that need not be NUL-terminated */
	return strnlen(comm, 16);
}

/* ------------------------------------------------------------------------ */
/* JSON                                                                      */


static void jset_argv(int *err, struct json_object *obj, const char *key, char *const *argv)
{
	struct json_object *arr = jw_set_new(err, obj, key, json_object_new_array());

	for (; argv && *argv && !*err; argv++)
		jw_append(err, arr, jw_str(*argv, strlen(*argv)));
}

/* { "code": n|null, "signal": n|null, "oom_killed": bool } */
static void jset_exit(int *err, struct json_object *obj, bool exited, int code, int sig,
		      bool oom_killed)
{
	struct json_object *ex = jw_set_new(err, obj, "exit", json_object_new_object());

	if (exited && sig <= 0)
		jw_set_int(err, ex, "code", code);
	else
		jw_set_null(err, ex, "code");
	if (sig > 0)
		jw_set_int(err, ex, "signal", sig);
	else
		jw_set_null(err, ex, "signal");
	jw_set(err, ex, "oom_killed", json_object_new_boolean(oom_killed));
}

static void json_frame(int *err, struct json_object *arr, const struct rpt_frame *fr)
{
	struct json_object *o = jw_append_new(err, arr, json_object_new_object());
	char addr[32];

	jw_set_str(err, o, "func", fr->func ? fr->func : REPORT_UNKNOWN);
	jw_set_str(err, o, "module", fr->module ? fr->module : REPORT_UNKNOWN);
	jw_set_str(err, o, "file", fr->file);
	/* a line without its file means nothing */
	if (fr->file && fr->line > 0)
		jw_set_int(err, o, "line", fr->line);
	else
		jw_set_null(err, o, "line");
	jw_set_str(err, o, "lang", fr->lang ? fr->lang : "c");
	snprintf(addr, sizeof(addr), "0x%" PRIx64, fr->addr);
	jw_set_str(err, o, "addr", addr);
	jw_set_str(err, o, "build_id", fr->build_id);
}

static void json_stack(int *err, struct json_object *arr, const struct rpt_stack *st)
{
	struct json_object *o = jw_append_new(err, arr, json_object_new_object());
	struct json_object *frames;
	size_t i;

	jw_set_int(err, o, "live_bytes", st->live_bytes);
	jw_set_int(err, o, "live_allocs", st->live_allocs);
	jw_set_u64(err, o, "alloc_bytes", st->alloc_bytes);
	jw_set_u64(err, o, "allocs", st->allocs);
	frames = jw_set_new(err, o, "frames", json_object_new_array());
	for (i = 0; i < st->nframes && !*err; i++)
		json_frame(err, frames, &st->frames[i]);
	jw_set_u64(err, o, "stack_id", st->stack_id);
	jw_set_int(err, o, "growth_bytes", st->growth_bytes);
	jw_set_double(err, o, "slope_bytes_per_s", st->slope_bps);
}

static void json_growth(int *err, struct json_object *obj, const struct growth *g)
{
	struct json_object *o = jw_set_new(err, obj, "growth", json_object_new_object());
	const char *v = growth_verdict__str(g->verdict);
	const char *s = growth_severity__str(g->severity);

	/* an out-of-range enum must not turn a fixed string field into null */
	jw_set_str(err, o, "verdict", v ? v : "insufficient-data");
	jw_set_str(err, o, "severity", s ? s : "ok");
	jw_set_double(err, o, "slope_bytes_per_s", g->slope_bps);
	jw_set_double(err, o, "r2", g->r2);
	if (g->eta_limit_s >= 0)
		jw_set_double(err, o, "eta_limit_s", g->eta_limit_s);
	else
		jw_set_null(err, o, "eta_limit_s");
}

static void json_process(int *err, struct json_object *arr, const struct rpt_process *p)
{
	struct json_object *o = jw_append_new(err, arr, json_object_new_object());
	struct json_object *a, *e;
	size_t i;

	jw_set_int(err, o, "pid", p->pid);
	jw_set_int(err, o, "ppid", p->ppid);
	jw_set(err, o, "comm", jw_str(p->comm, comm_len(p->comm)));
	jset_argv(err, o, "argv", p->argv);

	a = jw_set_new(err, o, "series", json_object_new_array());
	for (i = 0; i < p->npoints && !*err; i++) {
		e = jw_append_new(err, a, json_object_new_object());
		jw_set_double(err, e, "t", p->series[i].t);
		jw_set_u64(err, e, "rss_bytes", p->series[i].rss_bytes);
		jw_set_u64(err, e, "heap_bytes", p->series[i].heap_bytes);
	}

	json_growth(err, o, &p->growth);

	a = jw_set_new(err, o, "stacks", json_object_new_array());
	for (i = 0; i < p->nstacks && !*err; i++)
		json_stack(err, a, &p->stacks[i]);

	a = jw_set_new(err, o, "by_test", json_object_new_array());
	for (i = 0; i < p->ntests && !*err; i++) {
		e = jw_append_new(err, a, json_object_new_object());
		jw_set_str(err, e, "test", p->by_test[i].test ? p->by_test[i].test : REPORT_UNKNOWN);
		jw_set_int(err, e, "live_bytes", p->by_test[i].live_bytes);
	}

	jw_set(err, o, "exited", json_object_new_boolean(p->exited));
	jset_exit(err, o, p->exited, p->exit_code, p->exit_signal, p->oom_killed);
	jw_set_u64(err, o, "rss_bytes", p->rss_bytes);
	jw_set_int(err, o, "heap_bytes", p->heap_bytes);
	if (p->limit_bytes)
		jw_set_u64(err, o, "limit_bytes", p->limit_bytes);
	else
		jw_set_null(err, o, "limit_bytes");
	jw_set_str(err, o, "cgroup", p->cgroup);
}

static struct json_object *json_report(const struct rpt *r, int *err)
{
	struct json_object *root = json_object_new_object();
	struct json_object *o, *a;
	size_t i;

	if (!root) {
		*err = -ENOMEM;
		return NULL;
	}
	jw_set_str(err, root, "schema", REPORT_SCHEMA);
	jw_set_str(err, root, "memslope_version", MEMSLOPE_VERSION);
	jw_set(err, root, "started_at", jw_str(r->started_at, strnlen(r->started_at,
								 sizeof(r->started_at))));
	jw_set_double(err, root, "duration_s", r->duration_s);
	jw_set_double(err, root, "interval_s", r->interval_s);
	jw_set_str(err, root, "mode", r->mode ? r->mode : "exact");
	jw_set_u64(err, root, "sample_bytes", r->sample_bytes);

	o = jw_set_new(err, root, "target", json_object_new_object());
	jw_set_int(err, o, "pid", r->target_pid);
	jset_argv(err, o, "argv", r->target_argv);
	jset_exit(err, o, r->target_exited, r->target_exit_code, r->target_exit_signal,
		  r->target_oom_killed);
	jw_set(err, o, "exited", json_object_new_boolean(r->target_exited));

	a = jw_set_new(err, root, "processes", json_object_new_array());
	for (i = 0; i < r->nprocs && !*err; i++)
		json_process(err, a, &r->procs[i]);

	a = jw_set_new(err, root, "oom_kills", json_object_new_array());
	for (i = 0; i < r->noom_kills && !*err; i++) {
		const struct rpt_oom_kill *k = &r->oom_kills[i];

		o = jw_append_new(err, a, json_object_new_object());
		jw_set_int(err, o, "pid", k->pid);
		jw_set(err, o, "comm", jw_str(k->comm, comm_len(k->comm)));
		jw_set_str(err, o, "dump", k->dump);
	}

	o = jw_set_new(err, root, "stats", json_object_new_object());
	jw_set_u64(err, o, "events", r->stats.events);
	jw_set_u64(err, o, "lost_events", r->stats.lost_events);
	jw_set_u64(err, o, "dropped_allocs", r->stats.dropped_allocs);
	jw_set_u64(err, o, "dropped_stacks", r->stats.dropped_stacks);
	return root;
}

/* flush, and turn a failed write into -errno (EIO when stdio kept no errno) */
static int flush_status(FILE *f)
{
	errno = 0;
	if (fflush(f) || ferror(f))
		return errno ? -errno : -EIO;
	return 0;
}

int report__write_json(const struct rpt *r, FILE *f)
{
	/* slashes stay unescaped so paths read as paths */
	const int flags = JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
			  JSON_C_TO_STRING_NOSLASHESCAPE;
	struct json_object *root;
	const char *s;
	size_t len;
	int err = 0;

	if (!r || !f)
		return -EINVAL;
	root = json_report(r, &err);
	if (err)
		goto cleanup;
	s = json_object_to_json_string_length(root, flags, &len);
	if (!s) {
		err = -ENOMEM;
		goto cleanup;
	}
	errno = 0;
	if (fwrite(s, 1, len, f) != len || fputc('\n', f) == EOF) {
		err = errno ? -errno : -EIO;
		goto cleanup;
	}
	err = flush_status(f);
cleanup:
	json_object_put(root);
	return err;
}

/* ------------------------------------------------------------------------ */
/* text                                                                      */

/*
 * One output line being built, with its width in terminal columns (UTF-8 lead
 * bytes), so columns line up around "←", "²" or a non-ASCII comm and a line
 * can be cut at exactly REPORT_TEXT_WIDTH.
 */
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
 * Append up to n bytes of s. Control characters and bytes that are not UTF-8
 * become '?': comm, argv and symbol names are chosen by the traced program and
 * must not drive the terminal of the (often root) user reading the report, nor
 * hide an escape inside a broken multibyte sequence. Stops at a character that
 * does not fit whole.
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

/* cut to width columns, the last one an ellipsis, so a cut is never silent */
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

static void ln_emit(struct line *l, FILE *f)
{
	while (l->len && l->s[l->len - 1] == ' ')
		l->len--;
	l->s[l->len] = '\0';
	fputs(l->s, f);
	fputc('\n', f);
	ln_reset(l);
}

/* "func (file:line)", "func+0xoff (module)", "0xaddr (module)" */
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

/*
 * Allocator entry points: every native stack starts in one of them, so
 * printing them spends a third of the line on what the reader already knows.
 */
static bool is_alloc_frame(const struct rpt_frame *fr)
{
	static const char *const names[] = {
		"malloc", "calloc", "realloc", "reallocarray", "free", "posix_memalign",
		"aligned_alloc", "memalign", "valloc", "pvalloc", "mmap", "mmap64",
		"__libc_malloc", "__libc_calloc", "__libc_realloc", "__libc_memalign",
		"__libc_valloc", "__libc_pvalloc", "__posix_memalign",
		"operator new", "operator new[]", "_Znwm", "_Znam",
	};
	size_t i, n;

	if (!fr->func || (fr->lang && strcmp(fr->lang, "c")))
		return false;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		n = strlen(names[i]);
		/* "operator new(unsigned long)" and friends match by prefix */
		if (!strncmp(fr->func, names[i], n) &&
		    (fr->func[n] == '\0' || (fr->func[n] == '(' && names[i][0] == 'o')))
			return true;
	}
	return false;
}

/* index of the first frame worth showing; keeps the last one whatever it is */
static size_t first_shown_frame(const struct rpt_stack *st)
{
	size_t i = 0;

	while (i + 1 < st->nframes && is_alloc_frame(&st->frames[i]))
		i++;
	return i;
}

static bool is_watch(const struct rpt *r)
{
	return r->mode && !strcmp(r->mode, "watch");
}

/* "leak (+4.0 MiB/s, r²=0.99, critical, limit in 3m20s)" */
static void ln_verdict(struct line *l, const struct growth *g)
{
	const char *v = growth_verdict__str(g->verdict);
	const char *sev = growth_severity__str(g->severity);
	char slope[32], eta[32];

	ln_puts(l, v ? v : "?");
	if (g->verdict == GV_INSUFFICIENT)
		return;
	ln_printf(l, " (%s/s, r²=%.2f, %s", fmt_delta(slope, sizeof(slope), g->slope_bps), g->r2,
		  sev ? sev : "?");
	if (g->eta_limit_s >= 0 && isfinite(g->eta_limit_s))
		ln_printf(l, ", limit in %s", fmt_dur(eta, sizeof(eta), g->eta_limit_s));
	ln_puts(l, ")");
}

/* the final verdict as a sentence: the table cell is terse, this says what it means */
static void ln_verdict_sentence(struct line *l, const struct growth *g)
{
	const char *sev = growth_severity__str(g->severity);
	char slope[32], eta[32];

	if (!sev)
		sev = "?";
	fmt_delta(slope, sizeof(slope), g->slope_bps);
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

/*
 * Columns: a 7-digit pid (pid_max is at most 4194304), a 15-byte comm, RSS and
 * heap wide enough for "1023.9 MiB"; that leaves 52 columns for the verdict
 * and, on stack lines, 58 for the frames.
 */
#define COL_COMM	8	/* after "%7d " */
#define COL_RSS		24	/* the comm plus at least one space */
#define COL_STACK	4	/* "#1" under the pid */
#define COL_FRAMES_FINAL 9	/* one frame per line, under the stack's figures */
#define FINAL_MAX_FRAMES 16

static void print_header(struct line *l, const struct rpt *r, bool final, FILE *f)
{
	char dur[32], live[32];
	int64_t total = 0;
	size_t i, j, nstacks = 0;

	for (i = 0; i < r->nprocs; i++) {
		for (j = 0; j < r->procs[i].nstacks; j++)
			total += r->procs[i].stacks[j].live_bytes;
		nstacks += r->procs[i].nstacks;
	}
	ln_printf(l, "memslope: %s%s, %zu process%s", final ? "done after " : "",
		  fmt_dur(dur, sizeof(dur), r->duration_s), r->nprocs, r->nprocs == 1 ? "" : "es");
	if (!is_watch(r) || nstacks)
		ln_printf(l, ", %s %s in %zu stack%s", fmt_bytes(live, sizeof(live), total),
			  is_watch(r) ? "in new pages" : "live", nstacks, nstacks == 1 ? "" : "s");
	ln_printf(l, " (%s", r->mode ? r->mode : "exact");
	if (r->sample_bytes)
		ln_printf(l, ", heap sampled every %s: estimates",
			  fmt_bytes(live, sizeof(live), r->sample_bytes));
	ln_printf(l, ")");
	ln_emit(l, f);
}

/* pages: watch mode, where a stack counts the new pages it touched, not live allocations */
static void print_stack_live(struct line *l, const struct rpt_stack *st, size_t rank, bool pages,
			     FILE *f)
{
	char live[32], delta[32], n[32];
	size_t i, first = first_shown_frame(st);

	ln_pad(l, COL_STACK);
	ln_printf(l, "#%zu", rank);
	ln_pad(l, COL_STACK + 3);
	ln_printf(l, "%10s %10s %5s %s  ", fmt_bytes(live, sizeof(live), st->live_bytes),
		  fmt_delta(delta, sizeof(delta), st->growth_bytes),
		  fmt_count(n, sizeof(n), st->live_allocs), pages ? "pages " : "allocs");
	for (i = first; i < st->nframes && l->cols <= REPORT_TEXT_WIDTH; i++) {
		if (i > first)
			ln_puts(l, " ← ");
		ln_frame(l, &st->frames[i]);
	}
	if (st->nframes == 0)
		ln_puts(l, "[no stack]");
	ln_fit(l, REPORT_TEXT_WIDTH);
	ln_emit(l, f);
}

static void print_stack_final(struct line *l, const struct rpt_stack *st, size_t rank, bool pages,
			      FILE *f)
{
	char live[32], delta[32], n[32], slope[32], total[32], nt[32];
	size_t i, first = first_shown_frame(st);

	ln_pad(l, COL_STACK);
	ln_printf(l, "#%zu", rank);
	ln_pad(l, COL_STACK + 3);
	/*
	 * "12.0 MiB live (+12.0 MiB, +4.0 MiB/s) in 1200 allocs; 4800 allocs, 48.0 MiB total";
	 * watch mode: "12.0 MiB in new pages (+12.0 MiB, +4.0 MiB/s): 3072 pages"
	 */
	ln_printf(l, "%s %s (%s", fmt_bytes(live, sizeof(live), st->live_bytes),
		  pages ? "in new pages" : "live", fmt_delta(delta, sizeof(delta), st->growth_bytes));
	if (st->slope_bps != 0 && isfinite(st->slope_bps))
		ln_printf(l, ", %s/s", fmt_delta(slope, sizeof(slope), st->slope_bps));
	if (pages)
		ln_printf(l, "): %s page%s", fmt_count(n, sizeof(n), st->live_allocs),
			  st->live_allocs == 1 ? "" : "s");
	else
		ln_printf(l, ") in %s alloc%s; %s alloc%s, %s total",
			  fmt_count(n, sizeof(n), st->live_allocs), st->live_allocs == 1 ? "" : "s",
			  fmt_count(nt, sizeof(nt), st->allocs), st->allocs == 1 ? "" : "s",
			  fmt_bytes(total, sizeof(total), st->alloc_bytes));
	ln_fit(l, REPORT_TEXT_WIDTH);
	ln_emit(l, f);

	for (i = first; i < st->nframes && i < first + FINAL_MAX_FRAMES; i++) {
		ln_pad(l, COL_FRAMES_FINAL);
		ln_frame(l, &st->frames[i]);
		ln_fit(l, REPORT_TEXT_WIDTH);
		ln_emit(l, f);
	}
	if (i < st->nframes) {
		ln_pad(l, COL_FRAMES_FINAL);
		ln_printf(l, "… %zu more frames", st->nframes - i);
		ln_emit(l, f);
	}
	if (st->nframes == 0) {
		ln_pad(l, COL_FRAMES_FINAL);
		ln_puts(l, "[no stack]");
		ln_emit(l, f);
	}
}

static void print_process(struct line *l, const struct rpt *r, const struct rpt_process *p,
			  int top_n, bool final, FILE *f)
{
	char rss[32], heap[32], ex[48];
	size_t i, shown = top_n < 0 ? p->nstacks : (size_t)top_n;
	int64_t rest = 0;

	if (shown > p->nstacks)
		shown = p->nstacks;

	ln_printf(l, "%7d ", p->pid);
	ln_putn(l, p->comm, comm_len(p->comm));
	ln_pad(l, COL_RSS);
	ln_printf(l, "%10s %10s  ", fmt_bytes(rss, sizeof(rss), p->rss_bytes),
		  is_watch(r) ? "-" : fmt_bytes(heap, sizeof(heap), p->heap_bytes));
	ln_verdict(l, &p->growth);
	ln_fit(l, REPORT_TEXT_WIDTH);
	ln_emit(l, f);

	if (final) {
		ln_pad(l, COL_COMM);
		ln_printf(l, "%s — ", fmt_exit(ex, sizeof(ex), p->exited, p->exit_code,
						p->exit_signal, p->oom_killed));
		ln_verdict_sentence(l, &p->growth);
		ln_fit(l, REPORT_TEXT_WIDTH);
		ln_emit(l, f);
	}

	for (i = 0; i < shown; i++) {
		if (final)
			print_stack_final(l, &p->stacks[i], i + 1, is_watch(r), f);
		else
			print_stack_live(l, &p->stacks[i], i + 1, is_watch(r), f);
	}
	if (shown < p->nstacks) {
		for (i = shown; i < p->nstacks; i++)
			rest += p->stacks[i].live_bytes;
		ln_pad(l, COL_STACK);
		ln_printf(l, "… %zu more stack%s, %s %s", p->nstacks - shown,
			  p->nstacks - shown == 1 ? "" : "s", fmt_bytes(heap, sizeof(heap), rest),
			  is_watch(r) ? "in new pages" : "live");
		ln_emit(l, f);
	}

	if (final && p->ntests) {
		/* which test of a suite left the memory behind: one line, largest first as given */
		ln_pad(l, COL_COMM);
		ln_puts(l, "by test:");
		for (i = 0; i < p->ntests; i++)
			ln_printf(l, "%s %s %s", i ? "," : "",
				  p->by_test[i].test ? p->by_test[i].test : REPORT_UNKNOWN,
				  fmt_bytes(heap, sizeof(heap), p->by_test[i].live_bytes));
		ln_fit(l, REPORT_TEXT_WIDTH);
		ln_emit(l, f);
	}
}

/* "  ! 12 allocations not tracked: live map full — raise --max-allocs" */
static void print_drop(struct line *l, FILE *f, uint64_t n, const char *noun, const char *why,
		       const char *option)
{
	if (!n)
		return;
	ln_printf(l, "  ! %" PRIu64 " %s%s %s — raise %s", n, noun, n == 1 ? "" : "s", why,
		  option);
	ln_emit(l, f);
}

/* one line per counter that moved, naming the option that makes room */
static void print_drops(struct line *l, const struct rpt_stats *st, FILE *f)
{
	print_drop(l, f, st->dropped_allocs, "allocation", "not tracked: live map full",
		   "--max-allocs");
	print_drop(l, f, st->dropped_stacks, "stack", "not recorded: stack map full",
		   "--max-stacks");
	print_drop(l, f, st->lost_events, "event", "lost: ring buffer full", "--ringbuf-size");
}

int report__print_text(const struct rpt *r, FILE *f, int top_n, bool final)
{
	struct line l;
	size_t i;

	if (!r || !f)
		return -EINVAL;
	ln_reset(&l);
	print_header(&l, r, final, f);
	ln_printf(&l, "%7s %-16s%10s %10s  %s", "PID", "COMM", "RSS", "HEAP", "VERDICT");
	ln_emit(&l, f);
	for (i = 0; i < r->nprocs; i++)
		print_process(&l, r, &r->procs[i], top_n, final, f);

	for (i = 0; i < r->noom_kills; i++) {
		const struct rpt_oom_kill *k = &r->oom_kills[i];

		ln_printf(&l, "  OOM kill: %d (", k->pid);
		ln_putn(&l, k->comm, comm_len(k->comm));
		ln_puts(&l, "), ");
		if (k->dump) {
			ln_puts(&l, "dump ");
			ln_puts(&l, k->dump);
		} else {
			ln_puts(&l, "no dump written");
		}
		ln_fit(&l, REPORT_TEXT_WIDTH);
		ln_emit(&l, f);
	}
	print_drops(&l, &r->stats, f);
	return flush_status(f);
}
