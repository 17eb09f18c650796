// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* cgroup.c - a process's memory cgroup limit and usage from /proc and /sys/fs/cgroup */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"

/* base + cgroup path ("/" adds nothing) + "/" + file; -ENAMETOOLONG when it does not fit */
static int cg_join(char *out, size_t len, const char *base, const char *cg, const char *file)
{
	int n = snprintf(out, len, "%s%s/%s", base, strcmp(cg, "/") ? cg : "", file);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* whole small file into buf, NUL-terminated; returns length or -errno */
static ssize_t cg_read(const char *path, char *buf, size_t len)
{
	ssize_t n, got = 0;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((size_t)got < len - 1) {
		n = read(fd, buf + got, len - 1 - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (!n)
			break;
		got += n;
	}
	close(fd);
	buf[got] = '\0';
	return err ? err : got;
}

/* a cgroup limit/usage file: a number, or "max" (*unlimited set) */
static int cg_read_u64(const char *path, uint64_t *v, bool *unlimited)
{
	char buf[64], *end;
	ssize_t n = cg_read(path, buf, sizeof(buf));

	if (n < 0)
		return n;
	buf[strcspn(buf, "\n")] = '\0';
	*unlimited = false;
	if (!strcmp(buf, "max")) {
		*unlimited = true;
		*v = UINT64_MAX;
		return 0;
	}
	if (!buf[0] || buf[0] == '-')
		return -EINVAL;
	errno = 0;
	*v = strtoull(buf, &end, 10);
	if (errno || *end)
		return -EINVAL;
	return 0;
}

int cgroup__path(int pid, const char *root, char *buf, size_t len, int *version)
{
	char path[PATH_MAX], *data, *line, *save = NULL, v2[PATH_MAX] = "", v1[PATH_MAX] = "";
	bool have_v1 = false, have_v2 = false;
	ssize_t n;
	int err = 0;

	snprintf(path, sizeof(path), "%s/proc/%d/cgroup", root, pid);
	data = malloc(65536);
	if (!data)
		return -ENOMEM;
	n = cg_read(path, data, 65536);
	if (n < 0) {
		err = n == -ENOENT || n == -ESRCH ? -ENOENT : (int)n;
		goto cleanup;
	}
	/* lines are "hierarchy-id:controller,list:/path" */
	for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL, *tok, *s2;
		char ctl[256];

		if (!c2)
			continue;
		if (c2 == c1 + 1 && !strncmp(line, "0:", 2)) {
			snprintf(v2, sizeof(v2), "%s", c2 + 1);
			have_v2 = true;
			continue;
		}
		if ((size_t)(c2 - c1 - 1) >= sizeof(ctl))
			continue;
		memcpy(ctl, c1 + 1, c2 - c1 - 1);
		ctl[c2 - c1 - 1] = '\0';
		for (tok = strtok_r(ctl, ",", &s2); tok; tok = strtok_r(NULL, ",", &s2)) {
			if (!strcmp(tok, "memory")) {
				snprintf(v1, sizeof(v1), "%s", c2 + 1);
				have_v1 = true;
			}
		}
	}
	if (!have_v1 && !have_v2) {
		err = -ENOENT;
		goto cleanup;
	}
	line = have_v1 ? v1 : v2;
	/* a cgroup removed while the process is still in it */
	n = strlen(line);
	if (n > 10 && !strcmp(line + n - 10, " (deleted)"))
		line[n - 10] = '\0';
	if (strlen(line) >= len) {
		err = -ENAMETOOLONG;
		goto cleanup;
	}
	strcpy(buf, line);
	if (version)
		*version = have_v1 ? 1 : 2;
cleanup:
	free(data);
	return err;
}

/* directory of the memory hierarchy for a version; v2 may live under unified/ (hybrid) */
static void cg_base(const char *root, int version, char *base, size_t len)
{
	char probe[PATH_MAX];

	if (version == 1) {
		snprintf(base, len, "%s/sys/fs/cgroup/memory", root);
		return;
	}
	snprintf(probe, sizeof(probe), "%s/sys/fs/cgroup/cgroup.controllers", root);
	if (access(probe, F_OK) == 0) {
		snprintf(base, len, "%s/sys/fs/cgroup", root);
		return;
	}
	snprintf(probe, sizeof(probe), "%s/sys/fs/cgroup/unified/cgroup.controllers", root);
	if (access(probe, F_OK) == 0)
		snprintf(base, len, "%s/sys/fs/cgroup/unified", root);
	else
		snprintf(base, len, "%s/sys/fs/cgroup", root);
}

/* smallest limit from cg up to the root; *found false when none is limited */
static int cg_walk(const char *base, int version, const char *cg, uint64_t *limit,
		   char *at, size_t at_len, bool *found)
{
	char cur[PATH_MAX], path[PATH_MAX * 2];
	const char *file = version == 1 ? "memory.limit_in_bytes" : "memory.max";

	*found = false;
	snprintf(cur, sizeof(cur), "%s", cg);
	for (;;) {
		char *slash;
		uint64_t v;
		bool unlimited;

		/* missing files are normal: the v2 root has no memory.max */
		if (!cg_join(path, sizeof(path), base, cur, file) &&
		    !cg_read_u64(path, &v, &unlimited) && !unlimited &&
		    !(version == 1 && v >= CGROUP_V1_UNLIMITED) && (!*found || v < *limit)) {
			*limit = v;
			*found = true;
			if (at)
				snprintf(at, at_len, "%s", cur);
		}
		if (!strcmp(cur, "/") || !cur[0])
			break;
		slash = strrchr(cur, '/');
		if (!slash)
			break;
		if (slash == cur)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	return 0;
}

/* "Key:   1234 kB" from a /proc file, in bytes */
static int cg_kb_field(const char *path, const char *key, uint64_t *bytes)
{
	char buf[8192], *p;
	size_t klen = strlen(key);
	ssize_t n = cg_read(path, buf, sizeof(buf));

	if (n < 0)
		return n;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		unsigned long long kb;

		if (!strncmp(p, key, klen) && p[klen] == ':') {
			if (sscanf(p + klen + 1, " %llu", &kb) != 1)
				return -EINVAL;
			*bytes = (uint64_t)kb * 1024;
			return 0;
		}
	}
	return -ENODATA;
}

int cgroup__mem_limit_src(int pid, const char *root, uint64_t *limit, char *cg_path,
			  size_t cg_len, enum cgroup_mem_src *src)
{
	char cg[PATH_MAX], base[PATH_MAX], at[PATH_MAX], path[PATH_MAX];
	uint64_t avail, rss = 0, lim = 0;
	bool found;
	int version = 0, err;

	if (!root)
		root = "";
	err = cgroup__path(pid, root, cg, sizeof(cg), &version);
	if (err && err != -ENOENT)
		return err;
	if (!err) {
		cg_base(root, version, base, sizeof(base));
		cg_walk(base, version, cg, &lim, at, sizeof(at), &found);
		if (found) {
			if (cg_path && cg_len) {
				if (strlen(at) >= cg_len)
					return -ENAMETOOLONG;
				strcpy(cg_path, at);
			}
			*limit = lim;
			if (src)
				*src = version == 1 ? CGROUP_SRC_V1 : CGROUP_SRC_V2;
			return 0;
		}
	}
	/* no cgroup file means no process, unless the host has no cgroups at all */
	snprintf(path, sizeof(path), "%s/proc/%d/status", root, pid);
	err = cg_kb_field(path, "VmRSS", &rss);
	if (err == -ENOENT)
		return -ENOENT;
	if (err)
		rss = 0;	/* kernel threads and zombies have no VmRSS */
	snprintf(path, sizeof(path), "%s/proc/meminfo", root);
	err = cg_kb_field(path, "MemAvailable", &avail);
	if (err)
		return err;
	*limit = avail + rss;
	if (cg_path && cg_len)
		cg_path[0] = '\0';
	if (src)
		*src = CGROUP_SRC_MEMINFO;
	return 0;
}

int cgroup__mem_limit(int pid, const char *root, uint64_t *limit, char *cg_path, size_t cg_len)
{
	return cgroup__mem_limit_src(pid, root, limit, cg_path, cg_len, NULL);
}

int cgroup__mem_usage(int pid, const char *root, uint64_t *usage)
{
	char at[PATH_MAX], base[PATH_MAX], path[PATH_MAX * 2];
	enum cgroup_mem_src src;
	uint64_t lim;
	bool unlimited;
	int err;

	if (!root)
		root = "";
	err = cgroup__mem_limit_src(pid, root, &lim, at, sizeof(at), &src);
	if (err)
		return err;
	if (src != CGROUP_SRC_V1 && src != CGROUP_SRC_V2)
		return -ENODATA;
	cg_base(root, src == CGROUP_SRC_V1 ? 1 : 2, base, sizeof(base));
	err = cg_join(path, sizeof(path), base, at,
		      src == CGROUP_SRC_V1 ? "memory.usage_in_bytes" : "memory.current");
	if (err)
		return err;
	err = cg_read_u64(path, usage, &unlimited);
	if (!err && unlimited)
		err = -EINVAL;
	return err;
}
