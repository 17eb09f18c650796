// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_python.c - unit tests for CPython detection, frame walk, line tables and symbolization */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "python.h"

/* ------------------------------------------------------------------------- */
/* Line tables: bytes and answers dumped from each interpreter by data/py_linetables.py */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static void check_linetable_file(int minor)
{
	char path[64], *line = NULL, name[512] = "";
	uint8_t *tab = NULL;
	size_t cap = 0, tablen = 0, codes = 0, checks = 0;
	int first = 0;
	FILE *f;

	snprintf(path, sizeof(path), "data/linetable_3.%d.txt", minor);
	f = fopen(path, "r");
	cr_assert(f, "cannot open %s: %s", path, strerror(errno));
	while (getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = 0;
		if (!strncmp(line, "code ", 5)) {
			char hex[8192];
			size_t i;

			cr_assert_eq(sscanf(line, "code %511s %d %8191s", name, &first, hex), 3);
			free(tab);
			tablen = strcmp(hex, "-") ? strlen(hex) / 2 : 0;
			tab = malloc(tablen + 1);
			cr_assert(tab);
			for (i = 0; i < tablen; i++)
				tab[i] = hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]);
			codes++;
			/* Not started yet (3.11 prev_instr before the first instruction, f_lasti -1). */
			cr_assert_eq(py_line(minor, tab, tablen, first, -1), first);
		} else if (!strncmp(line, "at", 2)) {
			char *tok, *save = NULL;

			for (tok = strtok_r(line + 2, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
				int off, want, lasti, got;

				cr_assert_eq(sscanf(tok, "%d=%d", &off, &want), 2);
				/* 3.10+ take code units (2 bytes), <= 3.9 bytes: as the walker reports them. */
				lasti = minor >= 10 ? off / 2 : off;
				got = py_line(minor, tab, tablen, first, lasti);
				cr_assert_eq(got, want, "3.%d %s offset %d: line %d, CPython says %d", minor,
					     name, off, got, want);
				checks++;
			}
		}
	}
	cr_assert_gt(codes, 12, "too few code objects in %s", path);
	cr_assert_gt(checks, 300);
	free(tab);
	free(line);
	fclose(f);
}

Test(python_lines, v3_9_lnotab)
{
	check_linetable_file(9);
}

Test(python_lines, v3_10_linetable)
{
	check_linetable_file(10);
}

Test(python_lines, v3_11_locations)
{
	check_linetable_file(11);
}

Test(python_lines, v3_12_locations)
{
	check_linetable_file(12);
}

Test(python_lines, v3_13_locations)
{
	check_linetable_file(13);
}

Test(python_lines, truncated_and_empty_tables)
{
	/* 3.11: long form entry with its varint cut off; not an entry start; empty table. */
	static const uint8_t cut[] = { 0xf0 | 0x00, 0x41 };
	static const uint8_t bad[] = { 0x01 };
	/* 3.11: one-line form (code 11: +1) for 2 units, then no-location (code 15) for 1 unit. */
	static const uint8_t ok[] = { 0x80 | (11 << 3) | 1, 0x00, 0x00, 0x80 | (15 << 3) | 0 };

	cr_assert_eq(py_line_311(cut, sizeof(cut), 10, 0), -1);
	cr_assert_eq(py_line_311(bad, sizeof(bad), 10, 0), -1);
	cr_assert_eq(py_line_311(NULL, 0, 10, 0), -1);
	cr_assert_eq(py_line_311(ok, sizeof(ok), 10, 0), 11);
	cr_assert_eq(py_line_311(ok, sizeof(ok), 10, 1), 11);
	cr_assert_eq(py_line_311(ok, sizeof(ok), 10, 2), -1);
	cr_assert_eq(py_line_311(ok, sizeof(ok), 10, 3), -1);
	cr_assert_eq(py_line_310(NULL, 0, 10, 0), -1);
	cr_assert_eq(py_line_lnotab(NULL, 0, 10, 7), 10);
}

Test(python_lines, utf8)
{
	char b[8];

	cr_assert_eq(py_utf8_put(b, 'a'), 1);
	cr_assert_eq(py_utf8_put(b, 0xf6), 2);
	cr_assert(!memcmp(b, "\xc3\xb6", 2));
	cr_assert_eq(py_utf8_put(b, 0x95a2), 3);
	cr_assert(!memcmp(b, "\xe9\x96\xa2", 3));
	cr_assert_eq(py_utf8_put(b, 0x20000), 4);
	cr_assert(!memcmp(b, "\xf0\xa0\x80\x80", 4));
	cr_assert_eq(py_utf8_put(b, 0xd800), 3);	/* lone surrogate: U+FFFD */
	cr_assert(!memcmp(b, "\xef\xbf\xbd", 3));
}

Test(python_offsets, table)
{
	struct ms_py_offsets o;
	int minor;

	for (minor = 9; minor <= 13; minor++) {
		cr_assert_eq(py_offsets_for(minor, &o), 0);
		cr_assert_leq(o.frame_read_size, 128);
		cr_assert_eq(!!(o.flags & MS_PYF_FRAME_OBJECT), minor <= 10);
		cr_assert(o.code_filename_off && o.code_name_off && o.code_linetable_off);
		cr_assert_eq(!!(o.flags & MS_PYF_DATASTACK), minor >= 11);
		if (minor >= 11)
			cr_assert(o.tstate_datastack_chunk_off && o.tstate_datastack_top_off);
	}
	cr_assert_eq(py_offsets_for(8, &o), -ENOTSUP);
	cr_assert_eq(py_offsets_for(14, &o), -ENOTSUP);
}

/* ------------------------------------------------------------------------- */
/* Live interpreters */

struct child {
	pid_t pid;
	char dir[64];
	char script[128];
};

/* Line of "# L:<tag>" in the sleeper script. */
static int marker_line(const char *tag)
{
	char *line = NULL, want[64];
	size_t cap = 0;
	int n = 0, found = 0;
	FILE *f = fopen("data/py_sleeper.py", "r");

	cr_assert(f);
	snprintf(want, sizeof(want), "# L:%s\n", tag);
	while (getline(&line, &cap, f) > 0) {
		n++;
		if (strstr(line, want)) {
			found = n;
			break;
		}
	}
	free(line);
	fclose(f);
	cr_assert(found, "no marker %s", tag);
	return found;
}

/* Copy the sleeper under a latin-1 file name, start it and wait until it is in its function. */
static void start_sleeper(const char *python, const char *arg, struct child *c)
{
	char buf[64];
	int p[2], in, out;
	ssize_t r;
	struct pollfd pfd;

	snprintf(c->dir, sizeof(c->dir), "/tmp/memslope-py-XXXXXX");
	cr_assert(mkdtemp(c->dir));
	snprintf(c->script, sizeof(c->script), "%s/schläfer.py", c->dir);
	in = open("data/py_sleeper.py", O_RDONLY);
	out = open(c->script, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert(in >= 0 && out >= 0);
	while ((r = read(in, buf, sizeof(buf))) > 0)
		cr_assert_eq(write(out, buf, r), r);
	close(in);
	close(out);

	cr_assert_eq(pipe(p), 0);
	c->pid = fork();
	cr_assert(c->pid >= 0);
	if (!c->pid) {
		/* A failed assertion ends the test process: take the interpreter with it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execl(python, python, "-E", "-s", c->script, arg, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	pfd = (struct pollfd){ .fd = p[0], .events = POLLIN };
	cr_assert_eq(poll(&pfd, 1, 30000), 1, "%s did not start", python);
	r = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	cr_assert_gt(r, 0);
	buf[r] = 0;
	cr_assert_str_eq(buf, "ready\n");
}

static void stop_sleeper(struct child *c)
{
	kill(c->pid, SIGKILL);
	waitpid(c->pid, NULL, 0);
	unlink(c->script);
	rmdir(c->dir);
}

struct expect {
	const char *func_new;	/* co_qualname, 3.11+ */
	const char *func_old;	/* co_name, <= 3.10 */
	const char *marker;
};

static const struct expect expected[] = {
	{ "Holder.größe", "größe", "sleep" },
	{ "Holder.größe", "größe", "recurse" },
	{ "Holder.größe", "größe", "recurse" },
	{ "𠀀", "𠀀", "ucs4" },
	{ "関数", "関数", "ucs2" },
	{ "my_func", "my_func", "my_func" },
	{ "<module>", "<module>", "module" },
};

#define NEXP (sizeof(expected) / sizeof(expected[0]))

/* The other thread of the sleeper: its own stack, found by its kernel tid. */
static void check_worker(struct pyrt *rt, struct child *c, int minor)
{
	struct py_raw_frame frames[32];
	struct py_frame pf;
	char path[64];
	struct dirent *d;
	DIR *dir;
	int tid = 0, n, tries;

	snprintf(path, sizeof(path), "/proc/%d/task", c->pid);
	dir = opendir(path);
	cr_assert(dir);
	while ((d = readdir(dir)))
		if (d->d_name[0] != '.' && atoi(d->d_name) != c->pid)
			tid = atoi(d->d_name);
	closedir(dir);
	cr_assert(tid, "no worker thread");
	for (tries = 0; tries < 200; tries++) {
		n = pyrt__walk_thread(rt, tid, frames, 32);
		cr_assert_gt(n, 1, "worker walk: %d", n);
		cr_assert_eq(pyrt__symbolize(rt, frames[0].code, frames[0].lasti, &pf), 0);
		if (pf.line == marker_line("worker"))
			break;
		usleep(10000);
	}
	cr_assert_str_eq(pf.func, "worker");
	cr_assert_eq(pf.line, marker_line("worker"));
	/* Thread.run and the bootstrap frames of threading.py below it. */
	cr_assert_eq(pyrt__symbolize(rt, frames[1].code, frames[1].lasti, &pf), 0);
	cr_assert_str_eq(pf.func, minor >= 11 ? "Thread.run" : "run");
	cr_assert(strstr(pf.file, "threading.py"), "%s", pf.file);
	cr_assert_gt(pf.line, 0);
}

static uint64_t mem_u64_at(int fd, uint64_t addr)
{
	uint64_t v = 0;

	cr_assert_eq(pread(fd, &v, sizeof(v), (off_t)addr), (ssize_t)sizeof(v), "read %#llx",
		     (unsigned long long)addr);
	return v;
}

/*
 * The data stack fields the BPF walker reads at once: the sleeping main thread's current
 * frame lies in [datastack_chunk + 24, datastack_top), its frame header below the top.
 */
static void check_datastack(struct pyrt *rt, int tid)
{
	const struct ms_py_offsets *o = &rt->off;
	uint64_t ts, chunk, top, frame;

	cr_assert(o->flags & MS_PYF_DATASTACK);
	cr_assert_eq(pyrt__find_tstate(rt, tid, &ts), 0);
	chunk = mem_u64_at(rt->mem_fd, ts + o->tstate_datastack_chunk_off);
	top = mem_u64_at(rt->mem_fd, ts + o->tstate_datastack_top_off);
	frame = mem_u64_at(rt->mem_fd, ts + o->tstate_frame_off);
	if (o->flags & MS_PYF_CFRAME)
		frame = mem_u64_at(rt->mem_fd, frame + o->cframe_current_frame_off);
	cr_assert(chunk && top > chunk, "chunk %#llx top %#llx", (unsigned long long)chunk,
		  (unsigned long long)top);
	cr_assert(frame >= chunk + 24 && frame + o->frame_read_size <= top,
		  "frame %#llx not in data stack [%#llx, %#llx)", (unsigned long long)frame,
		  (unsigned long long)chunk, (unsigned long long)top);
}

static void check_interpreter(const char *python, int minor)
{
	struct py_raw_frame frames[32];
	struct py_frame pf;
	struct child c;
	struct pyrt rt;
	int err, n = 0, i, tries;

	start_sleeper(python, NULL, &c);
	err = pyrt__detect(c.pid, &rt);
	cr_assert_eq(err, 0, "%s: detect: %s (%s)", python, strerror(-err), rt.why);
	cr_assert_eq(rt.major, 3);
	cr_assert_eq(rt.minor, minor);
	cr_assert_eq(rt.off.version >> 16, 0x0300u | minor);
	cr_assert(rt.off.runtime_addr && rt.off.pycode_type_addr);
	if (minor >= 13)
		cr_assert(rt.off.flags & MS_PYF_DEBUG_OFFSETS, "3.13 offsets not from _Py_DebugOffsets");

	/* "ready" is written just before the sleep call: wait until the frame sits on it. */
	for (tries = 0; tries < 200; tries++) {
		n = pyrt__walk_thread(&rt, c.pid, frames, 32);
		cr_assert_gt(n, 0, "%s: walk: %d", python, n);
		cr_assert_eq(pyrt__symbolize(&rt, frames[0].code, frames[0].lasti, &pf), 0);
		if (pf.line == marker_line("sleep"))
			break;
		usleep(10000);
	}
	cr_assert_eq(n, (int)NEXP, "%s: %d frames, expected %zu", python, n, NEXP);
	for (i = 0; i < n; i++) {
		const struct expect *x = &expected[i];

		/* Twice: the second answer comes from the caches. */
		for (tries = 0; tries < 2; tries++) {
			cr_assert_eq(pyrt__symbolize(&rt, frames[i].code, frames[i].lasti, &pf), 0);
			cr_assert(!pf.stale, "frame %d stale", i);
			cr_assert_str_eq(pf.func, minor >= 11 ? x->func_new : x->func_old, "%s frame %d",
					 python, i);
			cr_assert_str_eq(pf.file, c.script);
			cr_assert_eq(pf.line, marker_line(x->marker), "%s frame %d (%s): line %d", python,
				     i, pf.func, pf.line);
		}
	}

	/*
	 * The identity the walk recorded names each frame, from the caches without a read; one
	 * that is not the live object's (a dead code object whose address was reused) is
	 * stale, never named after the object there now.
	 */
	for (i = 0; i < n; i++) {
		uint64_t ident = 0;

		cr_assert(frames[i].ident & 1, "frame %d: no identity", i);
		cr_assert_eq(pyrt__code_ident(&rt, frames[i].code, &ident), 0);
		cr_assert_eq(ident, frames[i].ident);
		cr_assert_eq(pyrt__symbolize_as(&rt, frames[i].code, frames[i].lasti, frames[i].ident,
						&pf), 0);
		cr_assert(!pf.stale, "frame %d stale", i);
		cr_assert_str_eq(pf.func, minor >= 11 ? expected[i].func_new : expected[i].func_old);
		cr_assert_eq(pf.line, marker_line(expected[i].marker));
		cr_assert_eq(pyrt__symbolize_as(&rt, frames[i].code, frames[i].lasti,
						frames[i].ident + 2, &pf), 0);
		cr_assert(pf.stale, "frame %d: another identity named after the live object", i);
		cr_assert_null(pf.func);
		cr_assert_eq(pyrt__symbolize_as(&rt, frames[i].code, frames[i].lasti,
						MS_PY_IDENT_NOT_CODE, &pf), 0);
		cr_assert(pf.stale);
	}
	cr_assert(rt.off.flags & MS_PYF_CODE_IDENT, "no code identity for 3.%d", minor);
	cr_assert(rt.off.code_read_size >= 16 && rt.off.code_read_size <= 256);
	cr_assert(rt.off.tstate_read_size > 0 && rt.off.tstate_read_size <= 512);
	if (minor >= 11)
		check_datastack(&rt, c.pid);

	check_worker(&rt, &c, minor);

	/* Not a code object: stale, never guessed. */
	cr_assert_eq(pyrt__symbolize(&rt, rt.off.runtime_addr, 0, &pf), 0);
	cr_assert(pf.stale);
	cr_assert_null(pf.func);
	/* No such thread. */
	cr_assert_eq(pyrt__walk_thread(&rt, 0x7ffffff0, frames, 32), -ENOENT);

	stop_sleeper(&c);
	/* Cached answers survive the process; new code addresses do not. */
	cr_assert_eq(pyrt__symbolize(&rt, frames[0].code, frames[0].lasti, &pf), 0);
	cr_assert_str_eq(pf.func, minor >= 11 ? expected[0].func_new : expected[0].func_old);
	cr_assert_lt(pyrt__symbolize(&rt, frames[0].code + 8, 0, &pf), 0);
	/* ... and so do answers for the identity cached, without a read; another needs one. */
	cr_assert_eq(pyrt__symbolize_as(&rt, frames[1].code, frames[1].lasti, frames[1].ident, &pf), 0);
	cr_assert_str_eq(pf.func, minor >= 11 ? expected[1].func_new : expected[1].func_old);
	cr_assert_lt(pyrt__symbolize_as(&rt, frames[1].code, frames[1].lasti, frames[1].ident + 2,
					&pf), 0);
	pyrt__release(&rt);
	pyrt__release(&rt);
	pyrt__release(NULL);
}

/* The pyenv interpreter 3.minor, or NULL (the test is skipped). */
static const char *pyenv_python(int minor, char *buf, size_t len)
{
	const char *root = getenv("PYENV_ROOT"), *home = getenv("HOME");
	char pattern[PATH_MAX + 64], rootbuf[PATH_MAX - 64];
	glob_t g;
	const char *found = NULL;

	if (!root) {
		snprintf(rootbuf, sizeof(rootbuf), "%s/.pyenv", home ? home : "/root");
		root = rootbuf;
	}
	snprintf(pattern, sizeof(pattern), "%s/versions/3.%d.*/bin/python3.%d", root, minor, minor);
	if (!glob(pattern, 0, NULL, &g) && g.gl_pathc) {
		snprintf(buf, len, "%s", g.gl_pathv[g.gl_pathc - 1]);
		found = buf;
	}
	globfree(&g);
	return found;
}

static void check_pyenv(int minor)
{
	char buf[PATH_MAX];
	const char *py = pyenv_python(minor, buf, sizeof(buf));

	if (!py)
		cr_skip_test("pyenv CPython 3.%d is not installed", minor);
	check_interpreter(py, minor);
}

Test(python_live, pyenv_3_9)
{
	check_pyenv(9);
}

Test(python_live, pyenv_3_10)
{
	check_pyenv(10);
}

Test(python_live, pyenv_3_11)
{
	check_pyenv(11);
}

Test(python_live, pyenv_3_12)
{
	check_pyenv(12);
}

Test(python_live, pyenv_3_13)
{
	check_pyenv(13);
}

Test(python_live, debian_static_3_11)
{
	if (access("/usr/bin/python3.11", X_OK))
		cr_skip_test("Debian python3.11 is not installed");
	check_interpreter("/usr/bin/python3.11", 11);
}

/* A thread spinning in Python holds the GIL: the holder the BPF walker reads is that thread. */
static void check_gil(const char *python, int minor)
{
	struct child c;
	struct pyrt rt;
	uint64_t ts = 0, holder = 0;
	int err, tries;

	start_sleeper(python, "busy", &c);
	err = pyrt__detect(c.pid, &rt);
	cr_assert_eq(err, 0, "%s: detect: %s (%s)", python, strerror(-err), rt.why);
	cr_assert_eq(pyrt__find_tstate(&rt, c.pid, &ts), 0);
	cr_assert(ts);
	/* The flush after "ready" releases the GIL around write(): wait for the loop. */
	for (tries = 0; tries < 200; tries++) {
		cr_assert_eq(pyrt__gil_holder(&rt, &holder), 0);
		if (holder == ts)
			break;
		usleep(10000);
	}
	cr_assert_eq(holder, ts, "3.%d: GIL holder %#llx, main thread state %#llx", minor,
		     (unsigned long long)holder, (unsigned long long)ts);
	stop_sleeper(&c);
	pyrt__release(&rt);
}

Test(python_live, gil_holder)
{
	char buf[PATH_MAX];
	const char *py;
	int minor, seen = 0;

	for (minor = 9; minor <= 13; minor++) {
		py = pyenv_python(minor, buf, sizeof(buf));
		if (py) {
			check_gil(py, minor);
			seen++;
		}
	}
	if (!access("/usr/bin/python3.11", X_OK)) {
		check_gil("/usr/bin/python3.11", 11);
		seen++;
	}
	if (!seen)
		cr_skip_test("no CPython 3.9-3.13 installed");
}

Test(python_live, unsupported_3_8)
{
	char buf[PATH_MAX];
	const char *py = pyenv_python(8, buf, sizeof(buf));
	struct child c;
	struct pyrt rt;

	if (!py)
		cr_skip_test("pyenv CPython 3.8 is not installed");
	start_sleeper(py, NULL, &c);
	cr_assert_eq(pyrt__detect(c.pid, &rt), -ENOTSUP);
	cr_assert(strstr(rt.why, "3.8"), "why: %s", rt.why);
	cr_assert_eq(rt.mem_fd, -1);
	stop_sleeper(&c);
}

Test(python_live, not_python)
{
	struct pyrt rt;

	cr_assert_eq(pyrt__detect(getpid(), &rt), -ENOENT);
	cr_assert(rt.why[0]);
	pyrt__release(&rt);
}

Test(python_live, no_such_process)
{
	struct pyrt rt;
	pid_t pid = fork();

	cr_assert(pid >= 0);
	if (!pid)
		_exit(0);
	waitpid(pid, NULL, 0);
	cr_assert_eq(pyrt__detect(pid, &rt), -ESRCH);
}
