// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* cmd_trace.c - `memslope trace`: exact allocation tracing of a process tree, live table, final report */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alert.h"
#include "bpf_tracer.h"
#include "commands.h"
#include "growth.h"
#include "log.h"
#include "report.h"
#include "report_read.h"
#include "symbolize.h"
#include "trace_state.h"
#include "units.h"

static const char usage_text[] =
"USAGE: memslope trace [OPTIONS] -p PID\n"
"       memslope trace [OPTIONS] [--] COMMAND [ARG...]\n"
"\n"
"Trace every allocation of a process and its children (libc malloc family and mmap),\n"
"show which stacks own the live bytes while it runs, and report when it ends. Stacks are\n"
"native and, in CPython processes, Python (function, file:line), with a table by test.\n"
"\n"
"OPTIONS:\n"
"  -p, --pid PID            trace a running process (and the children it starts)\n"
"  -d, --duration SECONDS   stop after SECONDS (default: when the target exits, or Ctrl-C)\n"
"  -i, --interval SECONDS   sampling interval (default 1)\n"
"  -n, --top N              stacks shown per process (default 10)\n"
"      --mode MODE          exact (default): every allocation of the libc malloc family, mmap\n"
"                           and CPython's arenas, traced from its call to its free: live bytes\n"
"                           per stack; costs a probe trap of ~1 us per call.\n"
"                           watch: no allocator probes; each new page the process writes is\n"
"                           charged to the stack (native and Python) that touched it: the code\n"
"                           whose memory grows, at a cost per new page only, but frees are not\n"
"                           seen (a stack's bytes only rise) and growth is judged on RSS\n"
"      --json FILE          write the final report as JSON, schema memslope.trace/1 (- = stdout)\n"
"      --pprof FILE         ... as a gzip-compressed pprof heap profile (go tool pprof)\n"
"      --folded FILE        ... as folded stacks of live bytes (flamegraph.pl, speedscope)\n"
"      --html FILE          ... as one self-contained HTML page (flame graph, growth charts)\n"
"      --error-exitcode N   exit N if a traced process is flagged as leaking\n"
"      --alerts FILE        growth alerts as JSON lines, schema memslope.alert/1 (- = stdout)\n"
"      --growth-warn RATE   warning severity from this growth rate (default 1MB/h)\n"
"      --growth-crit RATE   critical severity from this growth rate (default 5MB/h)\n"
"      --dump-dir DIR       where OOM dumps go (default /var/lib/memslope/oom)\n"
"      --max-allocs N       live blocks tracked at once (default 262144)\n"
"      --max-stacks N       distinct stacks kept (default 16384)\n"
"      --ringbuf-size BYTES process-event ring buffer (default 256K)\n"
"      --sample-bytes SIZE  keep one heap block per SIZE bytes allocated, on average (e.g. 512K),\n"
"                           blocks of SIZE or more always: live bytes and allocations become\n"
"                           unbiased estimates, and the BPF work of the blocks not kept (stack\n"
"                           walks, map updates) is saved; each call's probe trap remains\n"
"                           (default: every block, exactly)\n"
"      --probe-only         attach probes that do nothing (measures the probe floor)\n"
"      --no-placement       probe functions at their symbols, not at emulated instructions\n"
"  -q, --quiet              no live table\n"
"  -v, --verbose            more messages (-vv: libbpf's too)\n"
"  -h, --help               this help\n"
"\n"
"Exit status: with COMMAND, its own (128+signal when killed, 137 after an OOM kill)\n"
"unless --error-exitcode applies; otherwise 0 ok, 1 runtime error, 2 usage error.\n"
"\n"
"EXAMPLES:\n"
"  memslope trace -- ./server --port 8080     run and trace a command\n"
"  memslope trace -p 4242 -d 60               trace a running process for a minute\n"
"  memslope trace --json report.json --error-exitcode 3 -- pytest tests/\n";

enum {
	OPT_JSON = 256,
	OPT_PPROF,
	OPT_FOLDED,
	OPT_HTML,
	OPT_ERROR_EXITCODE,
	OPT_GROWTH_WARN,
	OPT_GROWTH_CRIT,
	OPT_DUMP_DIR,
	OPT_MAX_ALLOCS,
	OPT_MAX_STACKS,
	OPT_RINGBUF,
	OPT_PROBE_ONLY,
	OPT_SAMPLE_BYTES,
	OPT_MODE,
	OPT_NO_PLACEMENT,
	OPT_ALERTS,
};

static const struct option long_opts[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "duration", required_argument, NULL, 'd' },
	{ "interval", required_argument, NULL, 'i' },
	{ "top", required_argument, NULL, 'n' },
	{ "json", required_argument, NULL, OPT_JSON },
	{ "pprof", required_argument, NULL, OPT_PPROF },
	{ "folded", required_argument, NULL, OPT_FOLDED },
	{ "html", required_argument, NULL, OPT_HTML },
	{ "error-exitcode", required_argument, NULL, OPT_ERROR_EXITCODE },
	{ "growth-warn", required_argument, NULL, OPT_GROWTH_WARN },
	{ "growth-crit", required_argument, NULL, OPT_GROWTH_CRIT },
	{ "dump-dir", required_argument, NULL, OPT_DUMP_DIR },
	{ "max-allocs", required_argument, NULL, OPT_MAX_ALLOCS },
	{ "max-stacks", required_argument, NULL, OPT_MAX_STACKS },
	{ "ringbuf-size", required_argument, NULL, OPT_RINGBUF },
	{ "probe-only", no_argument, NULL, OPT_PROBE_ONLY },
	{ "sample-bytes", required_argument, NULL, OPT_SAMPLE_BYTES },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "no-placement", no_argument, NULL, OPT_NO_PLACEMENT },
	{ "alerts", required_argument, NULL, OPT_ALERTS },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{},
};

struct trace_args {
	int pid;
	char **cmd;
	double duration;	/* 0: until the target exits */
	double interval;
	int top;
	const char *json;
	const char *pprof, *folded, *html;	/* other report formats; NULL: not asked */
	const char *alerts;
	int error_exitcode;	/* -1: not set */
	const char *dump_dir;
	bool quiet;
	struct growth_cfg gcfg;
	struct tracer_opts topts;
};

static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

static int usage_error(const char *fmt, const char *arg)
{
	fputs("memslope trace: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\nTry 'memslope trace --help' for more information.\n", stderr);
	return 2;
}

static int parse_uint(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct trace_args *a)
{
	uint64_t bytes;
	long v;
	int c;

	memset(a, 0, sizeof(*a));
	a->interval = 1;
	a->top = 10;
	a->error_exitcode = -1;
	a->dump_dir = NULL;	/* $MEMSLOPE_DUMP_DIR, else /var/lib/memslope/oom */
	growth_cfg__default(&a->gcfg);
	tracer_opts__default(&a->topts);

	optind = 1;
	while ((c = getopt_long(argc, argv, "+p:d:i:n:qvh", long_opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_uint(optarg, 1, INT_MAX, &v))
				return usage_error("invalid PID '%s'", optarg);
			a->pid = v;
			break;
		case 'd':
			if (parse_seconds(optarg, &a->duration) || a->duration <= 0)
				return usage_error("invalid duration '%s' (SECONDS, e.g. 30 or 2m)", optarg);
			break;
		case 'i':
			if (parse_seconds(optarg, &a->interval) || a->interval < 0.01)
				return usage_error("invalid interval '%s' (SECONDS, at least 0.01)", optarg);
			break;
		case 'n':
			if (parse_uint(optarg, 1, 1000, &v))
				return usage_error("invalid --top '%s' (1 to 1000)", optarg);
			a->top = v;
			break;
		case OPT_JSON:
			a->json = optarg;
			break;
		case OPT_PPROF:
			a->pprof = optarg;
			break;
		case OPT_FOLDED:
			a->folded = optarg;
			break;
		case OPT_HTML:
			a->html = optarg;
			break;
		case OPT_ALERTS:
			a->alerts = optarg;
			break;
		case OPT_ERROR_EXITCODE:
			if (parse_uint(optarg, 0, 255, &v))
				return usage_error("invalid --error-exitcode '%s' (0 to 255)", optarg);
			a->error_exitcode = v;
			break;
		case OPT_GROWTH_WARN:
			if (parse_rate(optarg, &a->gcfg.warn_bps))
				return usage_error("invalid rate '%s' (e.g. 1MB/h, 100KB/s)", optarg);
			break;
		case OPT_GROWTH_CRIT:
			if (parse_rate(optarg, &a->gcfg.crit_bps))
				return usage_error("invalid rate '%s' (e.g. 5MB/h, 1MB/s)", optarg);
			break;
		case OPT_DUMP_DIR:
			a->dump_dir = optarg;
			break;
		case OPT_MAX_ALLOCS:
			if (parse_uint(optarg, 1024, 1L << 26, &v))
				return usage_error("invalid --max-allocs '%s' (1024 to 67108864)", optarg);
			a->topts.max_allocs = v;
			break;
		case OPT_MAX_STACKS:
			if (parse_uint(optarg, 256, 1L << 22, &v))
				return usage_error("invalid --max-stacks '%s' (256 to 4194304)", optarg);
			a->topts.max_stacks = v;
			break;
		case OPT_RINGBUF:
			if (parse_bytes(optarg, &bytes) || bytes < 4096 || bytes > (1u << 30))
				return usage_error("invalid --ringbuf-size '%s' (4K to 1G)", optarg);
			a->topts.ringbuf_bytes = bytes;
			break;
		case OPT_PROBE_ONLY:
			a->topts.probe_only = true;
			break;
		case OPT_MODE:
			if (!strcmp(optarg, "watch"))
				a->topts.faults = true;
			else if (!strcmp(optarg, "exact"))
				a->topts.faults = false;
			else
				return usage_error("invalid --mode '%s' (exact or watch)", optarg);
			break;
		case OPT_SAMPLE_BYTES:
			if (parse_bytes(optarg, &bytes) || bytes > MS_SAMPLE_MAX)
				return usage_error("invalid --sample-bytes '%s' (0 to 1T, e.g. 512K; 0: exact)", optarg);
			a->topts.sample_bytes = bytes;
			break;
		case OPT_NO_PLACEMENT:
			a->topts.no_placement = true;
			break;
		case 'q':
			a->quiet = true;
			break;
		case 'v':
			log_verbosity++;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs("Try 'memslope trace --help' for more information.\n", stderr);
			return 2;
		}
	}
	if (a->topts.faults && (a->topts.sample_bytes || a->topts.probe_only))
		return usage_error("%s", "--sample-bytes and --probe-only apply to --mode exact");
	if (a->gcfg.crit_bps < a->gcfg.warn_bps)
		return usage_error("%s", "--growth-crit must not be below --growth-warn");
	if (optind < argc)
		a->cmd = &argv[optind];
	if (!a->pid == !a->cmd)
		return usage_error("%s", a->pid ? "give either -p PID or a COMMAND, not both"
						: "nothing to trace: give -p PID or a COMMAND");
	return -1;	/* go on */
}

/* --- the command ---------------------------------------------------------- */

/*
 * Start COMMAND stopped before exec: the child waits on a pipe until the probes
 * are attached to it, so not one allocation of the new program is missed (the
 * pid-filtered uprobes on libc survive exec when the program maps the same libc).
 */
struct child {
	pid_t pid;
	int go_fd;	/* write a byte: exec */
	int err_fd;	/* reads errno if exec failed, EOF once it succeeded */
};

static int child_spawn(char **cmd, struct child *ch)
{
	int go[2], err[2];

	if (pipe2(go, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
		return -errno;
	ch->pid = fork();
	if (ch->pid < 0)
		return -errno;
	if (ch->pid == 0) {
		char c;
		int e;

		close(go[1]);
		close(err[0]);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		if (read(go[0], &c, 1) != 1)
			_exit(127);	/* the tracer gave up */
		execvp(cmd[0], cmd);
		e = errno;
		if (write(err[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(go[0]);
	close(err[1]);
	ch->go_fd = go[1];
	ch->err_fd = err[0];
	return 0;
}

/* Let the child exec; returns 0 or the exec errno as -errno. */
static int child_go(struct child *ch)
{
	int e = 0;
	ssize_t n;

	if (write(ch->go_fd, "g", 1) != 1)
		return -errno;
	close(ch->go_fd);
	ch->go_fd = -1;
	do
		n = read(ch->err_fd, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(ch->err_fd);
	ch->err_fd = -1;
	return n == sizeof(e) ? -e : 0;
}

static int exit_status_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

/* --- main loop ------------------------------------------------------------ */

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_event(void *ctx, const struct ms_event *e)
{
	trace_state__event(ctx, e);
}

static int write_json(const struct rpt *r, const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
	int err;

	if (!f) {
		pr_err("cannot write %s: %s", path, strerror(errno));
		return -errno;
	}
	err = report__write_json(r, f);
	if (f != stdout) {
		if (fclose(f) && !err)
			err = -errno;
	} else {
		fflush(f);
	}
	if (err)
		pr_err("cannot write %s: %s", path, strerror(-err));
	return err;
}

/* --pprof, --folded, --html: each file written whole or not at all */
static int save_other_formats(const struct rpt *r, const struct trace_args *a)
{
	const struct {
		const char *path;
		enum report_format fmt;
	} outs[] = {
		{ a->pprof, REPORT_FMT_PPROF },
		{ a->folded, REPORT_FMT_FOLDED },
		{ a->html, REPORT_FMT_HTML },
	};
	int ret = 0, err;
	size_t i;

	for (i = 0; i < sizeof(outs) / sizeof(outs[0]); i++) {
		if (!outs[i].path)
			continue;
		err = report__save(r, outs[i].fmt, outs[i].path);
		if (err) {
			pr_err("cannot write %s: %s", outs[i].path, strerror(-err));
			ret = err;
		}
	}
	return ret;
}

int cmd_trace(int argc, char **argv)
{
	struct trace_args a;
	struct trace_state *ts = NULL;
	struct tracer *tracer = NULL;
	struct alerter *alerter = NULL;
	int alerts_fd = -1;
	struct child ch = { .pid = -1, .go_fd = -1, .err_fd = -1 };
	struct sigaction sa = { .sa_handler = on_stop_signal };
	double start, next_sample, end_at;
	bool target_done = false, live_tty;
	int ret, err, status = 0;
	FILE *out = stderr;

	ret = parse_args(argc, argv, &a);
	if (ret >= 0)
		return ret;
	ret = 1;
	live_tty = isatty(STDERR_FILENO);

	if (a.pid && kill(a.pid, 0) && errno == ESRCH) {
		pr_err("no such process: %d", a.pid);
		return 1;
	}
	ts = trace_state__new(a.interval, &a.gcfg);
	if (!ts) {
		pr_err("out of memory");
		return 1;
	}
	if (a.alerts) {
		alerts_fd = strcmp(a.alerts, "-") ? open(a.alerts, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)
						  : dup(STDOUT_FILENO);
		alerter = alerts_fd >= 0 ? alerter__new(alerts_fd, NULL) : NULL;
		if (!alerter) {
			pr_err("cannot write alerts to %s: %s", a.alerts, strerror(errno));
			goto out;
		}
		trace_state__set_alerter(ts, alerter);
	}
	tracer = tracer__new(&a.topts, on_event, ts);
	if (!tracer)
		goto out;
	trace_state__set_tracer(ts, tracer);
	trace_state__set_dump_dir(ts, a.dump_dir);

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	if (a.cmd) {
		err = child_spawn(a.cmd, &ch);
		if (err) {
			pr_err("cannot start %s: %s", a.cmd[0], strerror(-err));
			goto out;
		}
		a.pid = ch.pid;
	}
	start = mono_now();
	trace_state__start(ts, a.pid, a.cmd);
	err = trace_state__add(ts, a.pid, 0);
	if (err == -ESRCH) {
		pr_err("no such process: %d", a.pid);
		goto out;
	}
	if (a.cmd) {
		err = child_go(&ch);
		if (err) {
			pr_err("cannot run %s: %s", a.cmd[0], strerror(-err));
			waitpid(ch.pid, NULL, 0);
			ch.pid = -1;
			ret = err == -ENOENT ? 127 : 126;
			goto out;
		}
		trace_state__exec_started(ts, a.pid);
	}

	next_sample = start + a.interval;
	end_at = a.duration > 0 ? start + a.duration : INFINITY;
	while (!stop_signal && !target_done) {
		double now = mono_now();
		double wait = fmin(next_sample, end_at) - now;

		if (trace_state__busy(ts) && wait > 0.01)
			wait = 0.01;	/* a process just exec'd: look for its libc soon */
		if (wait > 0.2)
			wait = 0.2;	/* notice our child's exit promptly */
		tracer__poll(tracer, wait > 0 ? (int)(wait * 1000) : 0);
		trace_state__tick(ts);

		if (ch.pid > 0) {
			pid_t r = waitpid(ch.pid, &status, WNOHANG);

			if (r == ch.pid) {
				trace_state__reaped(ts, ch.pid, status);
				ch.pid = -1;
				target_done = true;
			}
		} else if (!a.cmd && trace_state__exited(ts, a.pid)) {
			target_done = true;
		}
		now = mono_now();
		if (now >= end_at)
			break;
		if (now >= next_sample) {
			trace_state__sample(ts, now - start);
			if (!a.quiet)
				trace_state__print_live(ts, out, a.top, live_tty);
			while (next_sample <= now)
				next_sample += a.interval;
		}
	}

	/* Final: one last read of the counters, then the report. */
	tracer__poll(tracer, 0);
	trace_state__sample(ts, mono_now() - start);
	ret = 0;
	{
		struct rpt *r = trace_state__report(ts, a.top, true);

		if (!r) {
			pr_err("out of memory building the report");
			ret = 1;
		} else {
			if (live_tty && !a.quiet)
				fputs("\n", out);
			report__print_text(r, out, a.top, true);
			if (a.json && write_json(r, a.json))
				ret = 1;
			if (save_other_formats(r, &a))
				ret = 1;
			trace_state__report_free(r);
		}
	}

	if (a.cmd) {
		if (ch.pid > 0) {
			/* -d or a signal ended the trace: detach, then wait for the command as-is */
			tracer__free(tracer);
			tracer = NULL;
			while (waitpid(ch.pid, &status, 0) < 0 && errno == EINTR)
				;
			ch.pid = -1;
		}
		if (!ret)
			ret = exit_status_code(status);
	} else if (stop_signal && !ret) {
		ret = 0;
	}
	if (a.error_exitcode >= 0 && trace_state__any_leak(ts))
		ret = a.error_exitcode;
out:
	if (ch.go_fd >= 0)
		close(ch.go_fd);	/* the child sees EOF and exits 127 */
	if (ch.pid > 0)
		waitpid(ch.pid, NULL, 0);
	tracer__free(tracer);
	trace_state__free(ts);
	alerter__free(alerter);
	if (alerts_fd >= 0)
		close(alerts_fd);
	return ret;
}
