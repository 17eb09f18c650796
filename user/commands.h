/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* commands.h - the subcommands: each takes its own argv (argv[0] = command name), returns the exit status */
#ifndef MS_COMMANDS_H
#define MS_COMMANDS_H

int cmd_trace(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_oom(int argc, char **argv);
int cmd_daemon(int argc, char **argv);
int cmd_status(int argc, char **argv);

#endif
