// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_tracefs.c - parsing uprobe_events lines and our event group names */
#include <criterion/criterion.h>
#include <errno.h>

#include "tracefs.h"

Test(tracefs, parse_event)
{
	char g[32], n[32];

	cr_assert_eq(tracefs__parse_event("p:memslope_42/e1_0 /usr/lib/libc.so.6:0x0000000000098930\n",
					  g, sizeof(g), n, sizeof(n)), 0);
	cr_assert_str_eq(g, "memslope_42");
	cr_assert_str_eq(n, "e1_0");
	cr_assert_eq(tracefs__parse_event("r:uprobes/my_ret /bin/x:0x10", g, sizeof(g), n, sizeof(n)), 0);
	cr_assert_str_eq(g, "uprobes");
	cr_assert_str_eq(n, "my_ret");
	/* name at the end of the line, no path */
	cr_assert_eq(tracefs__parse_event("p:a/b", g, sizeof(g), n, sizeof(n)), 0);
	cr_assert_str_eq(n, "b");
}

Test(tracefs, parse_event_rejects)
{
	char g[8], n[8];

	cr_assert_eq(tracefs__parse_event("", g, sizeof(g), n, sizeof(n)), -EINVAL);
	cr_assert_eq(tracefs__parse_event("-:a/b", g, sizeof(g), n, sizeof(n)), -EINVAL);
	cr_assert_eq(tracefs__parse_event("p:ab /x:0x1", g, sizeof(g), n, sizeof(n)), -EINVAL);
	cr_assert_eq(tracefs__parse_event("p:/b /x:0x1", g, sizeof(g), n, sizeof(n)), -EINVAL);
	cr_assert_eq(tracefs__parse_event("p:a/ /x:0x1", g, sizeof(g), n, sizeof(n)), -EINVAL);
	/* too long for the buffers: refused, not truncated */
	cr_assert_eq(tracefs__parse_event("p:group_too_long/b", g, sizeof(g), n, sizeof(n)), -EINVAL);
	cr_assert_eq(tracefs__parse_event("p:a/name_too_long", g, sizeof(g), n, sizeof(n)), -EINVAL);
}

Test(tracefs, group_pid)
{
	cr_assert_eq(tracefs__group_pid("memslope_1234", "memslope_"), 1234);
	cr_assert_eq(tracefs__group_pid("memslope_", "memslope_"), -1);
	cr_assert_eq(tracefs__group_pid("memslope_12x", "memslope_"), -1);
	cr_assert_eq(tracefs__group_pid("memslope_-3", "memslope_"), -1);
	cr_assert_eq(tracefs__group_pid("memslope_0", "memslope_"), -1);
	cr_assert_eq(tracefs__group_pid("uprobes", "memslope_"), -1);
	cr_assert_eq(tracefs__group_pid("memslope_99999999999", "memslope_"), -1);
}
