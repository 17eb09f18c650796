// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_daemon_cfg.c - the daemon's settings: defaults, INI files, flags spelling, bad values */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon_cfg.h"

static struct daemon_cfg c;
static char err[512];

static void setup(void)
{
	cr_assert_eq(daemon_cfg__default(&c), 0);
	err[0] = '\0';
}

static void teardown(void)
{
	daemon_cfg__free(&c);
}

TestSuite(daemon_cfg, .init = setup, .fini = teardown);

Test(daemon_cfg, defaults)
{
	cr_assert_float_eq(c.interval, 5, 1e-9);
	cr_assert_str_eq(c.listen, "127.0.0.1:9466");
	cr_assert_str_eq(c.dump_dir, "/var/lib/memslope/oom");
	cr_assert(c.escalate);
	cr_assert(c.alerts_stdout);
	cr_assert_float_eq(c.escalate_window, 60, 1e-9);
	cr_assert_eq(c.escalate_max, 4);
	cr_assert_float_eq(c.growth_warn, 1e6 / 3600, 1e-9);
	cr_assert_float_eq(c.growth_crit, 5e6 / 3600, 1e-9);
	cr_assert_eq(daemon_cfg__check(&c, err, sizeof(err)), 0, "%s", err);
}

Test(daemon_cfg, ini_text)
{
	const char *text = "# comment\n"
			   "[daemon]\n"
			   "interval = 1.5\n"
			   "alerts = /tmp/a.jsonl   ; inline comment\n"
			   "alerts_stdout = no\n"
			   "dump_dir=/tmp/dumps\n"
			   "listen = 0.0.0.0:9500\n"
			   "escalate = off\n"
			   "escalate_window = 2m\n"
			   "escalate_max = 8\n"
			   "growth_warn = 10MB/h\n"
			   "growth_crit = 1MB/s\n"
			   "min_span = 30s\n"
			   "escalate_comm = a, b ,c\n";

	cr_assert_eq(daemon_cfg__load_string(&c, text, err, sizeof(err)), 0, "%s", err);
	cr_assert_float_eq(c.interval, 1.5, 1e-9);
	cr_assert_str_eq(c.alerts, "/tmp/a.jsonl");
	cr_assert(!c.alerts_stdout);
	cr_assert_str_eq(c.dump_dir, "/tmp/dumps");
	cr_assert_str_eq(c.listen, "0.0.0.0:9500");
	cr_assert(!c.escalate);
	cr_assert_float_eq(c.escalate_window, 120, 1e-9);
	cr_assert_eq(c.escalate_max, 8);
	cr_assert_float_eq(c.growth_warn, 1e7 / 3600, 1e-6);
	cr_assert_float_eq(c.growth_crit, 1e6, 1e-6);
	cr_assert_float_eq(c.min_span, 30, 1e-9);
	cr_assert(daemon_cfg__may_escalate(&c, "a"));
	cr_assert(daemon_cfg__may_escalate(&c, "b"));
	cr_assert(daemon_cfg__may_escalate(&c, "c"));
	cr_assert(!daemon_cfg__may_escalate(&c, "d"));
	cr_assert(!daemon_cfg__may_escalate(&c, "ab"));
	cr_assert_eq(daemon_cfg__check(&c, err, sizeof(err)), 0, "%s", err);
}

Test(daemon_cfg, no_section_is_daemon)
{
	cr_assert_eq(daemon_cfg__load_string(&c, "interval = 2\n", err, sizeof(err)), 0, "%s", err);
	cr_assert_float_eq(c.interval, 2, 1e-9);
	cr_assert(daemon_cfg__may_escalate(&c, "anything"));
}

Test(daemon_cfg, errors_name_the_line)
{
	cr_assert_eq(daemon_cfg__load_string(&c, "interval = 1\nbogus = 3\n", err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, ":2:"), "%s", err);
	cr_assert(strstr(err, "unknown setting 'bogus'"), "%s", err);

	cr_assert_eq(daemon_cfg__load_string(&c, "\n\ninterval = fast\n", err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, ":3:"), "%s", err);
	cr_assert(strstr(err, "invalid interval 'fast'"), "%s", err);

	cr_assert_eq(daemon_cfg__load_string(&c, "[other]\ninterval = 1\n", err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "unknown section [other]"), "%s", err);

	cr_assert_eq(daemon_cfg__load_string(&c, "this is not ini\n", err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, ":1:"), "%s", err);
}

Test(daemon_cfg, flag_spelling_and_bounds)
{
	cr_assert_eq(daemon_cfg__set(&c, "escalate-window", "30", err, sizeof(err)), 0, "%s", err);
	cr_assert_float_eq(c.escalate_window, 30, 1e-9);
	cr_assert_eq(daemon_cfg__set(&c, "dump-dir", "/x", err, sizeof(err)), 0);
	cr_assert_str_eq(c.dump_dir, "/x");
	cr_assert_eq(daemon_cfg__set(&c, "interval", "0", err, sizeof(err)), -EINVAL);
	cr_assert_eq(daemon_cfg__set(&c, "interval", "-1", err, sizeof(err)), -EINVAL);
	cr_assert_eq(daemon_cfg__set(&c, "escalate-max", "-1", err, sizeof(err)), -EINVAL);
	cr_assert_eq(daemon_cfg__set(&c, "escalate-max", "1000", err, sizeof(err)), -EINVAL);
	cr_assert_eq(daemon_cfg__set(&c, "escalate-max", "4x", err, sizeof(err)), -EINVAL);
	cr_assert_eq(daemon_cfg__set(&c, "escalate", "maybe", err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "yes or no"), "%s", err);
	cr_assert_eq(daemon_cfg__set(&c, "growth-warn", "lots", err, sizeof(err)), -EINVAL);
	cr_assert_eq(daemon_cfg__set(&c, "nope", "1", err, sizeof(err)), -ENOENT);
	cr_assert_eq(daemon_cfg__set(&c, "interval", "1", NULL, 0), 0);
}

Test(daemon_cfg, check)
{
	cr_assert_eq(daemon_cfg__set(&c, "growth_warn", "10MB/h", NULL, 0), 0);
	cr_assert_eq(daemon_cfg__set(&c, "growth_crit", "1MB/h", NULL, 0), 0);
	cr_assert_eq(daemon_cfg__check(&c, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "growth_crit"), "%s", err);
	cr_assert_eq(daemon_cfg__set(&c, "growth_crit", "20MB/h", NULL, 0), 0);
	cr_assert_eq(daemon_cfg__set(&c, "listen", "nowhere", NULL, 0), 0);
	cr_assert_eq(daemon_cfg__check(&c, err, sizeof(err)), -EINVAL);
	cr_assert_eq(daemon_cfg__set(&c, "listen", "off", NULL, 0), 0);
	cr_assert_eq(daemon_cfg__check(&c, err, sizeof(err)), 0, "%s", err);
}

Test(daemon_cfg, split_listen)
{
	char host[64];
	unsigned int port;

	cr_assert_eq(daemon_cfg__split_listen("127.0.0.1:9466", host, sizeof(host), &port), 0);
	cr_assert_str_eq(host, "127.0.0.1");
	cr_assert_eq(port, 9466);
	cr_assert_eq(daemon_cfg__split_listen("[::1]:80", host, sizeof(host), &port), 0);
	cr_assert_str_eq(host, "::1");
	cr_assert_eq(port, 80);
	cr_assert_eq(daemon_cfg__split_listen(":9000", host, sizeof(host), &port), 0);
	cr_assert_str_eq(host, "");
	cr_assert_eq(daemon_cfg__split_listen("host", host, sizeof(host), &port), -EINVAL);
	cr_assert_eq(daemon_cfg__split_listen("h:99999", host, sizeof(host), &port), -EINVAL);
	cr_assert_eq(daemon_cfg__split_listen("h:", host, sizeof(host), &port), -EINVAL);
	cr_assert_eq(daemon_cfg__split_listen("[::1]80", host, sizeof(host), &port), -EINVAL);
}

Test(daemon_cfg, file_and_missing_file)
{
	char path[] = "/tmp/test_daemon_cfg-XXXXXX";
	int fd = mkstemp(path);
	FILE *f;

	cr_assert(fd >= 0);
	f = fdopen(fd, "w");
	fputs("[daemon]\ninterval = 7\nlisten = off\n", f);
	fclose(f);
	cr_assert_eq(daemon_cfg__load(&c, path, err, sizeof(err)), 0, "%s", err);
	cr_assert_float_eq(c.interval, 7, 1e-9);
	cr_assert_str_eq(c.listen, "off");
	unlink(path);
	cr_assert_eq(daemon_cfg__load(&c, path, err, sizeof(err)), -ENOENT);
	cr_assert(strstr(err, path), "%s", err);
}

Test(daemon_cfg, shipped_config_parses)
{
	/* deploy/memslope.conf is what `make install` puts in /etc: it must load cleanly */
	int ret = daemon_cfg__load(&c, "../../deploy/memslope.conf", err, sizeof(err));

	cr_assert_eq(ret, 0, "%s", err);
	cr_assert_eq(daemon_cfg__check(&c, err, sizeof(err)), 0, "%s", err);
	cr_assert_float_eq(c.interval, 5, 1e-9);
}
