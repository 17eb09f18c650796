// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_symbolize.c - unit tests for the native symbolizer, on this very process and a child */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "symbolize.h"

static const int known_first_line = __LINE__ + 1;
static __attribute__((noinline, used)) int known_static_fn(int x)
{
	return x * 11 + 5;
}
static const int known_last_line = __LINE__ - 1;

/* Called through a volatile pointer so the compiler keeps a real, unspecialized copy. */
static int (*volatile known_ptr)(int) = known_static_fn;

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

static void check_known(struct symbolizer *s, int pid)
{
	char exe[PATH_MAX] = { 0 };
	struct sym_frame f;

	cr_assert_gt(readlink("/proc/self/exe", exe, sizeof(exe) - 1), 0);
	symbolizer__symbolize(s, pid, (uint64_t)known_ptr + 1, &f);
	cr_assert_eq(f.addr, (uint64_t)known_ptr + 1);
	cr_assert(f.func, "no symbol for known_static_fn");
	cr_assert_str_eq(f.func, "known_static_fn");
	cr_assert_eq(f.func_off, 1);
	cr_assert(f.module);
	cr_assert_str_eq(f.module, exe);
	cr_assert(f.build_id);
	cr_assert(f.file, "no DWARF line");
	cr_assert(ends_with(f.file, "test_symbolize.c"), "file %s", f.file);
	cr_assert(f.line >= known_first_line && f.line <= known_last_line, "line %d not in [%d, %d]",
		  f.line, known_first_line, known_last_line);
}

Test(symbolize, own_static_function)
{
	struct symbolizer *s = symbolizer__new();

	cr_assert(s);
	cr_assert_eq(known_ptr(1), 16);
	cr_assert_eq(symbolizer__snapshot(s, getpid()), 0);
	check_known(s, getpid());
	/* Second time from the cache: same answer. */
	check_known(s, getpid());
	symbolizer__free(s);
	symbolizer__free(NULL);
}

Test(symbolize, libc_malloc)
{
	struct symbolizer *s = symbolizer__new();
	struct sym_frame f;
	void *h, *fn;
	char dbg[PATH_MAX];

	h = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	cr_assert(h);
	fn = dlsym(h, "malloc");	/* libc's, not a sanitizer's interposer */
	cr_assert(fn);
	cr_assert_eq(symbolizer__snapshot(s, getpid()), 0);
	symbolizer__symbolize(s, getpid(), (uint64_t)fn, &f);
	cr_assert(f.func);
	cr_assert(!strcmp(f.func, "malloc") || !strcmp(f.func, "__libc_malloc"), "func %s", f.func);
	cr_assert_eq(f.func_off, 0);
	cr_assert(f.module && ends_with(f.module, "/libc.so.6"), "module %s", f.module);
	cr_assert(f.build_id);
	/* With libc6-dbg installed, the line comes from the separate debug file. */
	snprintf(dbg, sizeof(dbg), "/usr/lib/debug/.build-id/%.2s/%s.debug", f.build_id,
		 f.build_id + 2);
	if (!access(dbg, R_OK)) {
		cr_assert(f.file, "no line although %s exists", dbg);
		cr_assert(ends_with(f.file, "malloc.c"), "file %s", f.file);
		cr_assert_gt(f.line, 0);
	}
	dlclose(h);
	symbolizer__free(s);
}

Test(symbolize, unmapped_anon_vdso)
{
	struct symbolizer *s = symbolizer__new();
	struct sym_frame f;
	uint64_t vdso = getauxval(AT_SYSINFO_EHDR);
	void *anon;

	anon = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(anon, MAP_FAILED);
	cr_assert_eq(symbolizer__snapshot(s, getpid()), 0);

	symbolizer__symbolize(s, getpid(), 0x10, &f);
	cr_assert_null(f.func);
	cr_assert_null(f.module);
	cr_assert_null(f.file);

	symbolizer__symbolize(s, getpid(), (uint64_t)anon + 100, &f);
	cr_assert_null(f.func);
	cr_assert_str_eq(f.module, "[anon]");

	cr_assert_neq(vdso, 0);
	symbolizer__symbolize(s, getpid(), vdso + 16, &f);
	cr_assert_null(f.func);
	cr_assert_str_eq(f.module, "[vdso]");

	munmap(anon, 4096);
	symbolizer__free(s);
}

Test(symbolize, child_exits_after_snapshot)
{
	struct symbolizer *s = symbolizer__new();
	int go[2], ready[2], status;
	const char *func, *module;
	struct sym_frame f;
	char c = 0;
	pid_t pid;

	cr_assert_eq(pipe(go), 0);
	cr_assert_eq(pipe(ready), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (!pid) {
		close(go[1]);
		close(ready[0]);
		if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) < 0)
			_exit(2);
		_exit(0);
	}
	close(go[0]);
	close(ready[1]);
	cr_assert_eq(read(ready[0], &c, 1), 1);
	cr_assert_eq(symbolizer__snapshot(s, pid), 0);

	/* Let the child go and reap it: /proc/PID is gone for good. */
	close(go[1]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_assert_eq(kill(pid, 0), -1);

	/* A forked child has our layout: the same address names the same function. */
	check_known(s, pid);
	/* Re-snapshotting a vanished process fails and keeps the old snapshot. */
	cr_assert_eq(symbolizer__snapshot(s, pid), -ESRCH);
	check_known(s, pid);

	symbolizer__symbolize(s, pid, (uint64_t)known_ptr, &f);
	func = f.func;
	module = f.module;
	/* Strings outlive the snapshot that produced them. */
	symbolizer__forget(s, pid);
	cr_assert_str_eq(func, "known_static_fn");
	cr_assert(module && module[0] == '/');
	symbolizer__symbolize(s, pid, (uint64_t)known_ptr, &f);
	cr_assert_null(f.func);
	cr_assert_null(f.module);
	symbolizer__free(s);
}

Test(symbolize, resnapshot_and_many_addresses)
{
	struct symbolizer *s = symbolizer__new();
	struct sym_frame f, g;
	uint64_t base = (uint64_t)known_ptr;
	int i;

	/* Unknown pids are snapshotted on first use. */
	symbolizer__symbolize(s, getpid(), base, &f);
	cr_assert_str_eq(f.func, "known_static_fn");
	for (int round = 0; round < 3; round++) {
		cr_assert_eq(symbolizer__snapshot(s, getpid()), 0);
		/* Enough distinct addresses to grow the per-pid cache several times. */
		for (i = 0; i < 5000; i++)
			symbolizer__symbolize(s, getpid(), base + (uint64_t)i * 3 - 6000, &f);
		symbolizer__symbolize(s, getpid(), base, &f);
		symbolizer__symbolize(s, getpid(), base, &g);
		cr_assert_str_eq(f.func, "known_static_fn");
		cr_assert_eq(f.func, g.func);
		cr_assert_eq(f.file, g.file);
	}
	symbolizer__free(s);
}

Test(symbolize, resnapshot_sees_new_mappings)
{
	struct symbolizer *s = symbolizer__new();
	char exe[PATH_MAX] = { 0 };
	struct sym_frame f;
	void *p, *q;
	int fd;

	cr_assert_gt(readlink("/proc/self/exe", exe, sizeof(exe) - 1), 0);
	p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(p, MAP_FAILED);
	cr_assert_eq(symbolizer__snapshot(s, getpid()), 0);
	symbolizer__symbolize(s, getpid(), (uint64_t)p + 8, &f);
	cr_assert_str_eq(f.module, "[anon]");
	symbolizer__symbolize(s, getpid(), (uint64_t)known_ptr, &f);
	cr_assert_str_eq(f.func, "known_static_fn");

	/* Replace our own anonymous page by a (data) view of a file: no race with anyone. */
	fd = open(exe, O_RDONLY);
	cr_assert_geq(fd, 0);
	q = mmap(p, 4096, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
	close(fd);
	cr_assert_eq(q, p);
	/* Without a new snapshot the old view (and its cached answer) stands. */
	symbolizer__symbolize(s, getpid(), (uint64_t)p + 8, &f);
	cr_assert_str_eq(f.module, "[anon]");
	/* The code did not move, but answers outside code must not survive. */
	cr_assert_eq(symbolizer__snapshot(s, getpid()), 0);
	symbolizer__symbolize(s, getpid(), (uint64_t)p + 8, &f);
	cr_assert_str_eq(f.module, exe);
	cr_assert_null(f.func);
	symbolizer__symbolize(s, getpid(), (uint64_t)known_ptr, &f);
	cr_assert_str_eq(f.func, "known_static_fn");
	munmap(q, 4096);
	symbolizer__free(s);
}

Test(symbolize, child_gone_before_snapshot_inherits_parent)
{
	struct symbolizer *s = symbolizer__new();
	int status;
	pid_t pid;

	cr_assert_eq(symbolizer__snapshot(s, getpid()), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (!pid)
		_exit(0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	/* never seen alive: its parent's image, which it had (it did not exec) */
	cr_assert_eq(symbolizer__snapshot(s, pid), -ESRCH);
	cr_assert_eq(symbolizer__inherit(s, pid, getpid()), 0);
	check_known(s, pid);
	/* an existing snapshot is kept; an unknown parent is refused */
	cr_assert_eq(symbolizer__inherit(s, pid, 999999999), 0);
	cr_assert_eq(symbolizer__inherit(s, 999999998, 999999999), -ENOENT);
	/* the copy owns its references: the parent's can go first */
	symbolizer__forget(s, getpid());
	check_known(s, pid);
	symbolizer__free(s);
}
