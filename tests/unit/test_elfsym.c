// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_elfsym.c - unit tests for elfsym: symbols, build-id, debug files, load bias, DWARF lines */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elfsym.h"
#include "procmaps.h"

#define LIBC "/lib/x86_64-linux-gnu/libc.so.6"

/* Output of a shell command (expectations come from binutils, not from this machine's numbers). */
static char *capture(const char *fmt, ...)
{
	char cmd[4096], *buf = NULL;
	size_t len = 0;
	va_list ap;
	FILE *f, *out;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	f = popen(cmd, "r");
	cr_assert(f, "popen %s", cmd);
	out = open_memstream(&buf, &len);
	for (int c; (c = fgetc(f)) != EOF;)
		fputc(c, out);
	fclose(out);
	pclose(f);
	return buf;
}

static void run(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	cr_assert_eq(system(cmd), 0, "command failed: %s", cmd);
}

static uint64_t capture_hex(const char *fmt, const char *arg)
{
	char *s = capture(fmt, arg);
	uint64_t v = strtoull(s, NULL, 16);

	free(s);
	return v;
}

static void self_exe(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);

	cr_assert_gt(n, 0);
	buf[n] = 0;
}

__attribute__((noinline, used)) int elfsym_test_global_fn(int x)
{
	return x * 7 + 3;
}

Test(elfsym, self_symbols_and_build_id)
{
	char exe[PATH_MAX], *bid;
	struct elf_file *ef;
	uint64_t vaddr, size, off, want;
	const char *name;

	self_exe(exe, sizeof(exe));
	ef = elf_file__open(exe, "");
	cr_assert(ef, "open %s: %s", exe, strerror(errno));

	want = capture_hex("nm %s | awk '$3 == \"elfsym_test_global_fn\" { print $1 }'", exe);
	cr_assert_neq(want, 0);
	cr_assert_eq(elf_file__find_func(ef, "elfsym_test_global_fn", &vaddr, &size), 0);
	cr_assert_eq(vaddr, want);
	cr_assert_gt(size, 0);
	name = elf_file__symbolize(ef, vaddr + size - 1, &off);
	cr_assert_str_eq(name, "elfsym_test_global_fn");
	cr_assert_eq(off, size - 1);
	cr_assert_eq(elf_file__find_func(ef, "no_such_function_here", &vaddr, &size), -ENOENT);

	bid = capture("readelf -n %s | awk '/Build ID:/ { printf \"%%s\", $3 }'", exe);
	cr_assert_gt(strlen(bid), 0);
	cr_assert_str_eq(elf_file__build_id(ef), bid);
	free(bid);
	elf_file__free(ef);
}

Test(elfsym, self_line)
{
	char exe[PATH_MAX];
	struct elf_file *ef;
	const char *file;
	uint64_t vaddr;
	char *want;
	int line;

	self_exe(exe, sizeof(exe));
	ef = elf_file__open(exe, "");
	cr_assert(ef);
	cr_assert_eq(elf_file__find_func(ef, "elfsym_test_global_fn", &vaddr, NULL), 0);
	cr_assert_eq(elf_file__line(ef, vaddr, &file, &line), 0);
	cr_assert(strstr(file, "test_elfsym.c"), "file %s", file);
	want = capture("addr2line -e %s 0x%" PRIx64 " | sed 's/.*://; s/ .*//'", exe, vaddr);
	cr_assert_eq(line, atoi(want), "line %d, addr2line says %s", line, want);
	free(want);
	elf_file__free(ef);
}

Test(elfsym, libc_symbols)
{
	struct elf_file *ef;
	uint64_t vaddr, size, off, want;
	const char *name, *dbg;
	char *bid, path[PATH_MAX];

	ef = elf_file__open(LIBC, "");
	cr_assert(ef, "open libc: %s", strerror(errno));
	cr_assert(elf_file__is_pie(ef));
	want = capture_hex("nm -D --defined-only %s | awk '$3 ~ /^malloc(@|$)/ { print $1; exit }'", LIBC);
	cr_assert_neq(want, 0);
	cr_assert_eq(elf_file__find_func(ef, "malloc", &vaddr, &size), 0);
	cr_assert_eq(vaddr, want);
	/* malloc and __libc_malloc share the address: the shorter global name wins, always. */
	name = elf_file__symbolize(ef, vaddr + 1, &off);
	cr_assert_str_eq(name, "malloc");
	cr_assert_eq(off, 1);

	bid = capture("readelf -n %s | awk '/Build ID:/ { printf \"%%s\", $3 }'", LIBC);
	cr_assert_str_eq(elf_file__build_id(ef), bid);
	/* With libc6-dbg installed the debug file must be found through the build-id. */
	snprintf(path, sizeof(path), "/usr/lib/debug/.build-id/%.2s/%s.debug", bid, bid + 2);
	dbg = elf_file__debug_path(ef);
	if (!access(path, R_OK))
		cr_assert(dbg && !strcmp(dbg, path), "debug path %s, want %s", dbg, path);
	free(bid);
	elf_file__free(ef);
}

Test(elfsym, libc_vaddr_offset_and_read)
{
	struct map_entry *maps;
	const struct map_entry *m = NULL;
	struct elf_file *ef;
	uint64_t addr, vaddr, rt_vaddr, off, seg_vaddr, seg_off;
	unsigned char buf[32];
	void *h, *fn;
	size_t n, i;
	char *segs;

	h = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	cr_assert(h);
	fn = dlsym(h, "malloc");	/* libc's own, even when a sanitizer interposes malloc */
	cr_assert(fn);
	addr = (uint64_t)fn;
	maps = procmaps__read(getpid(), &n);
	cr_assert(maps);
	for (i = 0; i < n; i++)
		if (addr >= maps[i].start && addr < maps[i].end)
			m = &maps[i];
	cr_assert(m && strstr(m->path, "libc.so.6"));

	ef = elf_file__open(LIBC, "");
	cr_assert(ef);
	cr_assert_eq(elf_file__find_func(ef, "malloc", &vaddr, NULL), 0);
	cr_assert_eq(elf_file__runtime_to_vaddr(ef, m->start, m->offset, addr, &rt_vaddr), 0);
	cr_assert_eq(rt_vaddr, vaddr);
	cr_assert_eq(elf_file__vaddr_to_offset(ef, vaddr, &off), 0);
	cr_assert_eq(off, addr - m->start + m->offset);

	/* Independently, from readelf's program headers: the executable PT_LOAD. */
	segs = capture("readelf -lW %s | awk '$1 == \"LOAD\" && / E / { print $2, $3 }'", LIBC);
	cr_assert_eq(sscanf(segs, "%" SCNx64 " %" SCNx64, &seg_off, &seg_vaddr), 2, "%s", segs);
	free(segs);
	cr_assert_eq(off, vaddr - seg_vaddr + seg_off);

	/* Code bytes are the same in the file and in memory (no relocations in .text). */
	cr_assert_eq(elf_file__read(ef, vaddr, buf, sizeof(buf)), (long)sizeof(buf));
	cr_assert_arr_eq(buf, fn, sizeof(buf));
	cr_assert_eq(elf_file__read(ef, 0xfffffffff000ULL, buf, sizeof(buf)), -ENOENT);
	cr_assert_eq(elf_file__vaddr_to_offset(ef, 0xfffffffff000ULL, &off), -ENOENT);

	elf_file__free(ef);
	procmaps__free(maps, n);
	dlclose(h);
}

Test(elfsym, load_bias_math)
{
	/* PIE, one mapping from offset 0. */
	cr_assert_eq(elf_addr_to_vaddr(0x555555555149ULL, 0x555555554000ULL, 0, 0, 0), 0x1149);
	/* PIE with a separate code segment (-z separate-code). */
	cr_assert_eq(elf_addr_to_vaddr(0x7f0000001234ULL, 0x7f0000001000ULL, 0x1000, 0x1000, 0x1000),
		     0x1234);
	/* Segment whose vaddr and offset differ (data after a page gap). */
	cr_assert_eq(elf_addr_to_vaddr(0x555555557dd8ULL, 0x555555557000ULL, 0x2000, 0x3dd0, 0x2dd0),
		     0x3dd8);
	/* ET_EXEC: runtime addresses are link-time addresses. */
	cr_assert_eq(elf_addr_to_vaddr(0x401136, 0x401000, 0x1000, 0x401000, 0x1000), 0x401136);
	cr_assert_eq(elf_addr_to_vaddr(0x400500, 0x400000, 0, 0x400000, 0), 0x400500);
}

Test(elfsym, errors)
{
	cr_assert_null(elf_file__open("test_elfsym.c", ""));
	cr_assert_eq(errno, ENOEXEC);
	cr_assert_null(elf_file__open("/dev/null", ""));
	cr_assert_eq(errno, ENOEXEC);
	cr_assert_null(elf_file__open("/nonexistent/memslope/file", ""));
	cr_assert_eq(errno, ENOENT);
	elf_file__free(NULL);
}

/* A tiny program built at test time, stripped, with its debug info split off. */
static const char tiny_src[] =
	"#include <stdio.h>\n"
	"int tiny_leaf(int x)\n"				/* line 2 */
	"{\n"
	"	return x * 5 + 1;\n"				/* line 4 */
	"}\n"
	"__attribute__((weak, alias(\"tiny_leaf\"))) int a(int);\n"
	"static int loc(int) __attribute__((alias(\"tiny_leaf\"), used));\n"
	"__asm__(\".text\\n.globl zs_func\\n.type zs_func,@function\\nzs_func: nop; nop; ret\\n\");\n"
	"int main(int argc, char **argv)\n"
	"{\n"
	"	printf(\"%d\\n\", tiny_leaf(argc));\n"
	"	return 0;\n"
	"}\n";

static char tmpdir[] = "/tmp/memslope-elfsym-XXXXXX";

static void tiny_build(void)
{
	FILE *f;

	cr_assert(mkdtemp(tmpdir));
	run("mkdir -p %s/root/bin", tmpdir);
	f = fopen(strcat(strcpy((char[PATH_MAX]){ 0 }, tmpdir), "/tiny.c"), "w");
	cr_assert(f);
	fputs(tiny_src, f);
	fclose(f);
	run("cd %s && cc -g -O0 -Wl,--build-id tiny.c -o tiny && cp tiny tiny.full && "
	    "objcopy --only-keep-debug tiny tiny.debug && strip tiny && "
	    "objcopy --add-gnu-debuglink=tiny.debug tiny", tmpdir);
}

static void tiny_clean(void)
{
	if (strcmp(tmpdir + strlen(tmpdir) - 6, "XXXXXX"))
		run("rm -rf %s", tmpdir);
}

/* The stripped file's symbol, line and debug path must all come from debug file dbg. */
static void tiny_check(const char *bin, const char *root, const char *dbg)
{
	char path[PATH_MAX], want_path[PATH_MAX];
	uint64_t vaddr, size, off, want;
	struct elf_file *ef;
	const char *file;
	char *a2l;
	int line;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, bin);
	snprintf(want_path, sizeof(want_path), "%s/%s", tmpdir, dbg);
	ef = elf_file__open(path, root);
	cr_assert(ef, "open %s: %s", path, strerror(errno));
	cr_assert(elf_file__debug_path(ef), "no debug file for %s", path);
	cr_assert_str_eq(elf_file__debug_path(ef), want_path);

	want = capture_hex("nm %s/tiny.full | awk '$3 == \"tiny_leaf\" { print $1 }'", tmpdir);
	cr_assert_eq(elf_file__find_func(ef, "tiny_leaf", &vaddr, &size), 0);
	cr_assert_eq(vaddr, want);
	cr_assert_str_eq(elf_file__symbolize(ef, vaddr + 4, &off), "tiny_leaf");
	cr_assert_eq(off, 4);

	cr_assert_eq(elf_file__line(ef, vaddr, &file, &line), 0);
	cr_assert(strstr(file, "tiny.c"), "file %s", file);
	a2l = capture("addr2line -e %s/tiny.full 0x%" PRIx64 " | sed 's/.*://; s/ .*//'", tmpdir,
		      vaddr);
	cr_assert_eq(line, atoi(a2l));
	cr_assert(line >= 2 && line <= 4, "line %d", line);
	free(a2l);

	/* A zero-size assembly symbol covers the bytes up to the next symbol. */
	cr_assert_eq(elf_file__find_func(ef, "zs_func", &vaddr, &size), 0);
	cr_assert_eq(size, 0);
	cr_assert_str_eq(elf_file__symbolize(ef, vaddr + 2, &off), "zs_func");
	cr_assert_eq(off, 2);
	elf_file__free(ef);
}

Test(elfsym, debuglink_same_dir, .init = tiny_build, .fini = tiny_clean)
{
	tiny_check("tiny", "", "tiny.debug");
}

Test(elfsym, debuglink_dot_debug, .init = tiny_build, .fini = tiny_clean)
{
	run("cd %s && mkdir .debug && mv tiny.debug .debug/", tmpdir);
	tiny_check("tiny", "", ".debug/tiny.debug");
}

Test(elfsym, debuglink_usr_lib_debug_under_root, .init = tiny_build, .fini = tiny_clean)
{
	char root[PATH_MAX];

	snprintf(root, sizeof(root), "%s/root", tmpdir);
	run("cd %s && mv tiny root/bin/ && mkdir -p root/usr/lib/debug/bin && "
	    "mv tiny.debug root/usr/lib/debug/bin/", tmpdir);
	tiny_check("root/bin/tiny", root, "root/usr/lib/debug/bin/tiny.debug");
}

Test(elfsym, build_id_dir_under_root, .init = tiny_build, .fini = tiny_clean)
{
	char root[PATH_MAX], dbg[PATH_MAX], *bid;

	bid = capture("readelf -n %s/tiny | awk '/Build ID:/ { printf \"%%s\", $3 }'", tmpdir);
	cr_assert_gt(strlen(bid), 2);
	snprintf(root, sizeof(root), "%s/root", tmpdir);
	snprintf(dbg, sizeof(dbg), "root/usr/lib/debug/.build-id/%.2s/%s.debug", bid, bid + 2);
	run("cd %s && mkdir -p root/usr/lib/debug/.build-id/%.2s && mv tiny.debug %s", tmpdir, bid,
	    dbg);
	tiny_check("tiny", root, dbg);
	free(bid);
}

Test(elfsym, debuglink_crc_mismatch_rejected, .init = tiny_build, .fini = tiny_clean)
{
	char path[PATH_MAX];
	struct elf_file *ef;
	uint64_t vaddr;

	run("cd %s && printf x >> tiny.debug", tmpdir);
	snprintf(path, sizeof(path), "%s/tiny", tmpdir);
	ef = elf_file__open(path, "");
	cr_assert(ef);
	cr_assert_null(elf_file__debug_path(ef));
	cr_assert_eq(elf_file__find_func(ef, "tiny_leaf", &vaddr, NULL), -ENOENT);
	elf_file__free(ef);
}

Test(elfsym, aliases_prefer_global, .init = tiny_build, .fini = tiny_clean)
{
	char path[PATH_MAX];
	struct elf_file *ef;
	uint64_t v1, v2;

	snprintf(path, sizeof(path), "%s/tiny.full", tmpdir);
	ef = elf_file__open(path, "");
	cr_assert(ef);
	cr_assert_eq(elf_file__find_func(ef, "tiny_leaf", &v1, NULL), 0);
	cr_assert_eq(elf_file__find_func(ef, "a", &v2, NULL), 0);
	cr_assert_eq(v1, v2);
	cr_assert_eq(elf_file__find_func(ef, "loc", &v2, NULL), 0);
	cr_assert_eq(v1, v2);
	/* "a" is shorter and "loc" sorts differently, but only tiny_leaf is global. */
	cr_assert_str_eq(elf_file__symbolize(ef, v1, NULL), "tiny_leaf");
	cr_assert_null(elf_file__debug_path(ef));
	elf_file__free(ef);
}

Test(elfsym, non_pie_executable, .init = tiny_build, .fini = tiny_clean)
{
	char path[PATH_MAX];
	struct elf_file *ef;
	uint64_t vaddr, want, rt, off;
	char *segs;
	uint64_t seg_off, seg_vaddr;

	run("cd %s && cc -g -O0 -no-pie -fno-pie tiny.c -o tiny.exec", tmpdir);
	snprintf(path, sizeof(path), "%s/tiny.exec", tmpdir);
	ef = elf_file__open(path, "");
	cr_assert(ef);
	cr_assert_not(elf_file__is_pie(ef));
	want = capture_hex("nm %s/tiny.exec | awk '$3 == \"tiny_leaf\" { print $1 }'", tmpdir);
	cr_assert_eq(elf_file__find_func(ef, "tiny_leaf", &vaddr, NULL), 0);
	cr_assert_eq(vaddr, want);
	segs = capture("readelf -lW %s | awk '$1 == \"LOAD\" && / E / { print $2, $3 }'", path);
	cr_assert_eq(sscanf(segs, "%" SCNx64 " %" SCNx64, &seg_off, &seg_vaddr), 2, "%s", segs);
	free(segs);
	/* ET_EXEC is mapped at its link address: runtime address == vaddr. */
	cr_assert_eq(elf_file__runtime_to_vaddr(ef, seg_vaddr & ~0xfffULL, seg_off & ~0xfffULL, vaddr,
						&rt), 0);
	cr_assert_eq(rt, vaddr);
	cr_assert_eq(elf_file__vaddr_to_offset(ef, vaddr, &off), 0);
	cr_assert_eq(off, vaddr - seg_vaddr + seg_off);
	cr_assert_str_eq(elf_file__symbolize(ef, vaddr, NULL), "tiny_leaf");
	elf_file__free(ef);
}
