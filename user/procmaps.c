// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* procmaps.c - parse /proc/PID/maps into map_entry arrays (pure) */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procmaps.h"

#define DELETED_SUFFIX " (deleted)"

int procmaps__parse_line(const char *line, struct map_entry *out)
{
	unsigned long long start, end, offset, inode;
	unsigned int maj, min;
	char perms[5];
	const char *p;
	size_t len;
	int pos = 0;

	if (!line || !out)
		return -EINVAL;
	/*
	 * The fixed fields never contain spaces; %n tells where the path
	 * starts so that paths with spaces survive intact.
	 */
	if (sscanf(line, "%llx-%llx %4s %llx %x:%x %llu%n", &start, &end, perms, &offset, &maj, &min,
		   &inode, &pos) != 7 || pos == 0)
		return -EINVAL;
	if (strlen(perms) != 4 || end < start)
		return -EINVAL;
	p = line + pos;
	/* The kernel pads the inode column with spaces before the path. */
	while (*p == ' ' || *p == '\t')
		p++;
	len = strcspn(p, "\n");

	memset(out, 0, sizeof(*out));
	/* The kernel appends this to unlinked files; the path itself is what was mapped. */
	if (len > strlen(DELETED_SUFFIX) && p[0] == '/' &&
	    !memcmp(p + len - strlen(DELETED_SUFFIX), DELETED_SUFFIX, strlen(DELETED_SUFFIX))) {
		len -= strlen(DELETED_SUFFIX);
		out->deleted = 1;
	}
	out->path = strndup(p, len);
	if (!out->path)
		return -ENOMEM;
	out->start = start;
	out->end = end;
	out->offset = offset;
	out->dev_major = maj;
	out->dev_minor = min;
	out->inode = inode;
	memcpy(out->perms, perms, sizeof(out->perms));
	return 0;
}

struct map_entry *procmaps__read_file(const char *path, size_t *n)
{
	struct map_entry *e = NULL, *tmp;
	size_t cnt = 0, cap = 0, linecap = 0;
	char *line = NULL;
	FILE *f;
	int err = 0;

	*n = 0;
	f = fopen(path, "re");
	if (!f)
		return NULL;
	while (getline(&line, &linecap, f) > 0) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 64;
			tmp = realloc(e, cap * sizeof(*e));
			if (!tmp) {
				err = ENOMEM;
				goto cleanup;
			}
			e = tmp;
		}
		err = procmaps__parse_line(line, &e[cnt]);
		if (err == -ENOMEM) {
			err = ENOMEM;
			goto cleanup;
		}
		/* A line we cannot parse is skipped rather than failing the whole read. */
		if (!err)
			cnt++;
		err = 0;
	}
	if (ferror(f))
		err = errno ? errno : EIO;
	/* An empty but valid result still needs a non-NULL pointer. */
	if (!err && !e) {
		e = calloc(1, sizeof(*e));
		if (!e)
			err = ENOMEM;
	}
cleanup:
	free(line);
	fclose(f);
	if (err) {
		procmaps__free(e, cnt);
		errno = err;
		return NULL;
	}
	*n = cnt;
	return e;
}

struct map_entry *procmaps__read(int pid, size_t *n)
{
	struct map_entry *e;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	e = procmaps__read_file(path, n);
	/* /proc/PID missing means the process is gone (or never existed). */
	if (!e && errno == ENOENT)
		errno = ESRCH;
	return e;
}

void procmaps__free(struct map_entry *e, size_t n)
{
	size_t i;

	if (!e)
		return;
	for (i = 0; i < n; i++)
		free(e[i].path);
	free(e);
}

const struct map_entry *procmaps__find(const struct map_entry *e, size_t n, const char *prefix)
{
	const char *base;
	size_t i;

	for (i = 0; i < n; i++) {
		if (e[i].perms[2] != 'x' || e[i].path[0] != '/')
			continue;
		base = strrchr(e[i].path, '/') + 1;
		if (!strncmp(base, prefix, strlen(prefix)))
			return &e[i];
	}
	return NULL;
}
