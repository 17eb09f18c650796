/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* procfs.h - small readers of /proc/PID, and NULL-terminated argument vectors (pure) */
#ifndef MS_PROCFS_H
#define MS_PROCFS_H

#include <stdbool.h>
#include <stdint.h>

/* /proc/PID/cmdline as a malloc'ed NULL-terminated vector; NULL when unreadable (gone, kernel thread). */
char **procfs__argv(int pid);

/* /proc/PID/comm into comm (left as is when unreadable). */
void procfs__comm(int pid, char comm[16]);

/* Parent pid from /proc/PID/stat; 0 when unreadable. */
int procfs__ppid(int pid);

/* Does pid exist and run (not a zombie waiting for its parent)? */
bool procfs__alive(int pid);

/* Resident set size in bytes from /proc/PID/statm; 0 when unreadable. */
uint64_t procfs__rss(int pid);

/* A deep copy of a NULL-terminated vector (NULL for NULL or no memory). */
char **argv__dup(char **argv);

/* Free a vector from procfs__argv() or argv__dup(); accepts NULL. */
void argv__free(char **argv);

#endif
