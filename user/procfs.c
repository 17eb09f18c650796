// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* procfs.c - small readers of /proc/PID, and NULL-terminated argument vectors */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procfs.h"

void argv__free(char **argv)
{
	if (!argv)
		return;
	for (char **p = argv; *p; p++)
		free(*p);
	free(argv);
}

/* /proc/PID/cmdline as a NULL-terminated vector; NULL when unreadable. */
char **procfs__argv(int pid)
{
	char path[64], buf[8192];
	char **argv;
	ssize_t n;
	int fd, argc = 0;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	if (buf[n - 1] != '\0')
		n++;	/* truncated: the last argument ends at the buffer's end */
	for (ssize_t i = 0; i < n; i++)
		argc += buf[i] == '\0';
	argv = calloc(argc + 1, sizeof(*argv));
	if (!argv)
		return NULL;
	for (ssize_t i = 0, k = 0; i < n && k < argc; k++) {
		argv[k] = strdup(buf + i);
		i += strlen(buf + i) + 1;
	}
	return argv;
}

void procfs__comm(int pid, char comm[16])
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, comm, 15);
	close(fd);
	if (n <= 0)
		return;
	comm[n] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
}

/* Parent pid from /proc/PID/stat ("pid (comm) state ppid ..."; comm may hold spaces). */
/* The state letter and ppid of /proc/PID/stat; 0 when unreadable. */
static int stat_state(int pid, int *ppid)
{
	char path[64], buf[512], *rp, state;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	rp = strrchr(buf, ')');
	if (!rp || sscanf(rp + 1, " %c %d", &state, ppid) != 2)
		return 0;
	return state;
}

int procfs__ppid(int pid)
{
	int ppid = 0;

	return stat_state(pid, &ppid) ? ppid : 0;
}

bool procfs__alive(int pid)
{
	int ppid, state = stat_state(pid, &ppid);

	return state && state != 'Z' && state != 'X';
}

uint64_t procfs__rss(int pid)
{
	char path[64], buf[128];
	unsigned long size, resident;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/statm", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "%lu %lu", &size, &resident) != 2)
		return 0;
	return (uint64_t)resident * sysconf(_SC_PAGESIZE);
}

char **argv__dup(char **argv)
{
	size_t n = 0;
	char **d;

	if (!argv)
		return NULL;
	while (argv[n])
		n++;
	d = calloc(n + 1, sizeof(*d));
	if (!d)
		return NULL;
	for (size_t i = 0; i < n; i++)
		d[i] = strdup(argv[i]);
	return d;
}
