// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tracefs.c - uprobe trace events defined through tracefs (uprobe_events) */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "tracefs.h"

static const char *const tracefs_dirs[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };

static bool has_uprobe_events(const char *dir)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/uprobe_events", dir);
	return access(path, W_OK) == 0;
}

const char *tracefs__dir(void)
{
	static const char *found;
	static int err;

	if (found || err) {
		errno = err;
		return found;
	}
	for (size_t i = 0; i < sizeof(tracefs_dirs) / sizeof(tracefs_dirs[0]); i++)
		if (has_uprobe_events(tracefs_dirs[i]))
			return found = tracefs_dirs[i];
	/* A fresh machine may not have it mounted: it is ours to mount, as perf does. */
	if (mount("nodev", tracefs_dirs[0], "tracefs", 0, NULL) == 0 && has_uprobe_events(tracefs_dirs[0])) {
		pr_debug("mounted tracefs at %s", tracefs_dirs[0]);
		return found = tracefs_dirs[0];
	}
	err = errno ? errno : ENOENT;
	pr_debug("no tracefs with uprobe_events: %s", strerror(err));
	errno = err;
	return NULL;
}

static int write_events(const char *dir, const char *line)
{
	char path[PATH_MAX];
	size_t len = strlen(line);
	ssize_t n;
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/uprobe_events", dir);
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, line, len);
	if (n < 0)
		err = -errno;
	else if ((size_t)n != len)
		err = -EIO;
	close(fd);
	return err;
}

static int read_id(const char *dir, const char *group, const char *name)
{
	char path[PATH_MAX], buf[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/events/%s/%s/id", dir, group, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	return atoi(buf) > 0 ? atoi(buf) : -EIO;
}

int tracefs__uprobe_add(const char *dir, const char *group, const char *name, bool ret,
			const char *path, uint64_t off)
{
	char line[PATH_MAX + 128];
	int err, id;

	if (strpbrk(path, " \t\n"))
		return -EINVAL;	/* the definition is space-separated */
	snprintf(line, sizeof(line), "%c:%s/%s %s:0x%llx\n", ret ? 'r' : 'p', group, name, path,
		 (unsigned long long)off);
	err = write_events(dir, line);
	if (err)
		return err;
	id = read_id(dir, group, name);
	if (id < 0)
		tracefs__uprobe_del(dir, group, name);
	return id;
}

int tracefs__uprobe_del(const char *dir, const char *group, const char *name)
{
	char line[256];

	snprintf(line, sizeof(line), "-:%s/%s\n", group, name);
	return write_events(dir, line);
}

int tracefs__parse_event(const char *line, char *group, size_t group_sz, char *name, size_t name_sz)
{
	const char *g, *slash, *end;

	if ((line[0] != 'p' && line[0] != 'r') || line[1] != ':')
		return -EINVAL;
	g = line + 2;
	end = g + strcspn(g, " \t\n");	/* GROUP/NAME is the first word */
	slash = memchr(g, '/', end - g);
	if (!slash)
		return -EINVAL;
	if (slash == g || end == slash + 1 || (size_t)(slash - g) >= group_sz ||
	    (size_t)(end - slash - 1) >= name_sz)
		return -EINVAL;
	memcpy(group, g, slash - g);
	group[slash - g] = '\0';
	memcpy(name, slash + 1, end - slash - 1);
	name[end - slash - 1] = '\0';
	return 0;
}

int tracefs__group_pid(const char *group, const char *prefix)
{
	size_t n = strlen(prefix);
	char *end;
	long pid;

	if (strncmp(group, prefix, n) || !group[n] || group[n] < '0' || group[n] > '9')
		return -1;
	errno = 0;
	pid = strtol(group + n, &end, 10);
	if (*end || errno || pid <= 0 || pid > INT_MAX)
		return -1;
	return (int)pid;
}

int tracefs__purge_stale(const char *dir, const char *prefix)
{
	char path[PATH_MAX], line[PATH_MAX + 128], group[64], name[64];
	int removed = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/uprobe_events", dir);
	f = fopen(path, "re");
	if (!f)
		return 0;
	/* the file cannot be edited while it is read: collect, then remove */
	char (*dead)[2][64] = NULL;
	size_t ndead = 0;

	while (fgets(line, sizeof(line), f)) {
		int pid;

		if (tracefs__parse_event(line, group, sizeof(group), name, sizeof(name)))
			continue;
		pid = tracefs__group_pid(group, prefix);
		if (pid < 0 || pid == getpid() || !kill(pid, 0) || errno != ESRCH)
			continue;
		void *nd = realloc(dead, (ndead + 1) * sizeof(*dead));

		if (!nd)
			break;
		dead = nd;
		snprintf(dead[ndead][0], 64, "%s", group);
		snprintf(dead[ndead][1], 64, "%s", name);
		ndead++;
	}
	fclose(f);
	for (size_t i = 0; i < ndead; i++)
		removed += tracefs__uprobe_del(dir, dead[i][0], dead[i][1]) == 0;
	free(dead);
	if (removed)
		pr_debug("removed %d uprobe events left by earlier runs", removed);
	return removed;
}
