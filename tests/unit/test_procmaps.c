// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_procmaps.c - unit tests for the /proc/PID/maps parser */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "procmaps.h"

Test(procmaps, file_mapping)
{
	struct map_entry e;

	cr_assert_eq(procmaps__parse_line("7f1c2a228000-7f1c2a3bd000 r-xp 00028000 fd:01 1837093"
					  "                    /usr/lib/x86_64-linux-gnu/libc.so.6\n",
					  &e),
		     0);
	cr_assert_eq(e.start, 0x7f1c2a228000ULL);
	cr_assert_eq(e.end, 0x7f1c2a3bd000ULL);
	cr_assert_eq(e.offset, 0x28000);
	cr_assert_eq(e.dev_major, 0xfd);
	cr_assert_eq(e.dev_minor, 1);
	cr_assert_eq(e.inode, 1837093);
	cr_assert_str_eq(e.perms, "r-xp");
	cr_assert_str_eq(e.path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
	cr_assert_eq(e.deleted, 0);
	free(e.path);
}

Test(procmaps, spaces_in_path_and_no_newline)
{
	struct map_entry e;

	cr_assert_eq(procmaps__parse_line("00400000-00452000 r-xp 00000000 08:02 173521     "
					  "/opt/my app/bin/the  tool",
					  &e),
		     0);
	cr_assert_str_eq(e.path, "/opt/my app/bin/the  tool");
	cr_assert_eq(e.start, 0x400000);
	free(e.path);
}

Test(procmaps, deleted)
{
	struct map_entry e;

	cr_assert_eq(procmaps__parse_line("55d0c1a00000-55d0c1a21000 r-xp 00002000 103:02 9961510"
					  "   /tmp/old build/a.out (deleted)\n",
					  &e),
		     0);
	cr_assert_str_eq(e.path, "/tmp/old build/a.out");
	cr_assert_eq(e.deleted, 1);
	cr_assert_eq(e.dev_major, 0x103);
	cr_assert_eq(e.dev_minor, 2);
	free(e.path);
}

Test(procmaps, anon_heap_vdso)
{
	struct map_entry e;

	cr_assert_eq(procmaps__parse_line("7f1c2a1f0000-7f1c2a1f3000 rw-p 00000000 00:00 0 \n", &e), 0);
	cr_assert_str_eq(e.path, "");
	cr_assert_eq(e.inode, 0);
	free(e.path);
	cr_assert_eq(procmaps__parse_line("7f0000000000-7f0000010000 rwxp 00000000 00:00 0", &e), 0);
	cr_assert_str_eq(e.path, "");
	cr_assert_str_eq(e.perms, "rwxp");
	free(e.path);
	cr_assert_eq(procmaps__parse_line("55d0c2b9e000-55d0c2bbf000 rw-p 00000000 00:00 0"
					  "                          [heap]\n",
					  &e),
		     0);
	cr_assert_str_eq(e.path, "[heap]");
	free(e.path);
	cr_assert_eq(procmaps__parse_line("7ffc8a5f2000-7ffc8a5f4000 r-xp 00000000 00:00 0"
					  "                          [vdso]\n",
					  &e),
		     0);
	cr_assert_str_eq(e.path, "[vdso]");
	cr_assert_eq(e.deleted, 0);
	free(e.path);
	cr_assert_eq(procmaps__parse_line("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0"
					  "                  [vsyscall]\n",
					  &e),
		     0);
	cr_assert_eq(e.end, 0xffffffffff601000ULL);
	free(e.path);
}

Test(procmaps, malformed)
{
	struct map_entry e;

	cr_assert_eq(procmaps__parse_line("", &e), -EINVAL);
	cr_assert_eq(procmaps__parse_line("hello world", &e), -EINVAL);
	cr_assert_eq(procmaps__parse_line("7f00-7f10 r-xp 0 fd:01", &e), -EINVAL);
	cr_assert_eq(procmaps__parse_line("7f10-7f00 r-xp 00000000 fd:01 1 /x", &e), -EINVAL);
	cr_assert_eq(procmaps__parse_line("7f00-7f10 r-xpz 00000000 fd:01 1 /x", &e), -EINVAL);
}

Test(procmaps, read_file_and_find)
{
	char path[] = "/tmp/memslope-maps-XXXXXX";
	const struct map_entry *m;
	struct map_entry *e;
	size_t n;
	FILE *f;
	int fd;

	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	fputs("5581e8e00000-5581e8e02000 r--p 00000000 fd:01 100 /usr/bin/cat\n"
	      "5581e8e02000-5581e8e07000 r-xp 00002000 fd:01 100 /usr/bin/cat\n"
	      "garbage line\n"
	      "7f1c2a200000-7f1c2a228000 r--p 00000000 fd:01 200 /usr/lib/x86_64-linux-gnu/libc.so.6\n"
	      "7f1c2a228000-7f1c2a3bd000 r-xp 00028000 fd:01 200 /usr/lib/x86_64-linux-gnu/libc.so.6\n"
	      "7f1c2a400000-7f1c2a401000 r-xp 00000000 fd:01 300 /opt/x/libcx.so (deleted)\n"
	      "7ffc8a5f2000-7ffc8a5f4000 r-xp 00000000 00:00 0 [vdso]\n",
	      f);
	fclose(f);
	e = procmaps__read_file(path, &n);
	unlink(path);
	cr_assert(e);
	cr_assert_eq(n, 6);
	m = procmaps__find(e, n, "libc.so.6");
	cr_assert(m);
	cr_assert_eq(m->start, 0x7f1c2a228000ULL);	/* the executable one, not the first */
	m = procmaps__find(e, n, "libc");
	cr_assert_eq(m->start, 0x7f1c2a228000ULL);
	m = procmaps__find(e, n, "libcx");
	cr_assert(m && m->deleted);
	cr_assert_null(procmaps__find(e, n, "vdso"));	/* not a file */
	cr_assert_null(procmaps__find(e, n, "libpython"));
	procmaps__free(e, n);
	procmaps__free(NULL, 0);
}

Test(procmaps, read_self)
{
	const struct map_entry *m;
	struct map_entry *e;
	uint64_t here = (uint64_t)&procmaps__parse_line;
	char exe[4096] = { 0 };
	int found = 0;
	size_t n, i;

	cr_assert_gt(readlink("/proc/self/exe", exe, sizeof(exe) - 1), 0);

	e = procmaps__read(getpid(), &n);
	cr_assert(e);
	cr_assert_gt(n, 3);
	for (i = 0; i < n; i++) {
		cr_assert_lt(e[i].start, e[i].end);
		if (here >= e[i].start && here < e[i].end) {
			found = 1;
			cr_assert_eq(e[i].perms[2], 'x');
			cr_assert_str_eq(e[i].path, exe);
		}
		if (!strcmp(e[i].path, "[stack]"))
			found |= 2;
	}
	cr_assert_eq(found, 3);
	m = procmaps__find(e, n, "libc.so.6");
	cr_assert(m);
	procmaps__free(e, n);
}

Test(procmaps, read_gone_process)
{
	struct map_entry *e;
	size_t n;
	pid_t pid;

	pid = fork();
	if (!pid)
		_exit(0);
	waitpid(pid, NULL, 0);
	e = procmaps__read(pid, &n);
	cr_assert_null(e);
	cr_assert_eq(errno, ESRCH);
	e = procmaps__read_file("/nonexistent/maps", &n);
	cr_assert_null(e);
	cr_assert_eq(errno, ENOENT);
}
