// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_procfs.c - /proc/PID readers on the test's own process, and argument vectors */
#include <criterion/criterion.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "procfs.h"

/* A child that runs a known command line. */
static pid_t start_sleeper(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		execl("/bin/sleep", "sleep", "5", "0.5", (char *)NULL);	/* sleep sums them */
		_exit(127);
	}
	usleep(200 * 1000);	/* let it exec */
	return pid;
}

Test(procfs, known_child)
{
	char comm[16] = "unchanged";
	pid_t pid = start_sleeper();
	char **argv;

	cr_assert_gt(pid, 0);
	argv = procfs__argv(pid);
	cr_assert_not_null(argv);
	cr_expect_str_eq(argv[0], "sleep");
	cr_expect_str_eq(argv[1], "5");
	cr_expect_str_eq(argv[2], "0.5");
	cr_expect_null(argv[3]);
	argv__free(argv);
	procfs__comm(pid, comm);
	cr_expect_str_eq(comm, "sleep");
	cr_expect_eq(procfs__ppid(pid), getpid());
	cr_expect_gt(procfs__rss(pid), 0);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

Test(procfs, missing_process)
{
	char comm[16] = "unchanged";

	cr_expect_null(procfs__argv(0x7ffffff0));
	procfs__comm(0x7ffffff0, comm);
	cr_expect_str_eq(comm, "unchanged");
	cr_expect_eq(procfs__ppid(0x7ffffff0), 0);
	cr_expect_eq(procfs__rss(0x7ffffff0), 0);
}

Test(procfs, argv_dup_is_deep)
{
	char a[] = "one", b[] = "two";
	char *v[] = { a, b, NULL };
	char **d = argv__dup(v);

	cr_assert_not_null(d);
	cr_expect_str_eq(d[0], "one");
	cr_expect_str_eq(d[1], "two");
	cr_expect_null(d[2]);
	cr_expect_neq(d[0], a);
	argv__free(d);
	cr_expect_null(argv__dup(NULL));
	argv__free(NULL);
}
