// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* report_folded.c - folded stacks for flamegraph.pl, inferno and speedscope, and clean frame names */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report_folded.h"
#include "utf8.h"


size_t report__utf8_clean(char *dst, size_t dlen, const char *src)
{
	const unsigned char *u = (const unsigned char *)(src ? src : "");
	size_t n = strlen((const char *)u), i, k, out = 0;

	if (!dlen)
		return 0;
	for (i = 0; i < n; i += k) {
		const char *put;
		size_t plen;

		k = utf8_seq(u + i, n - i);
		if (!k) {
			/* symbol and file names come from the traced program: never trust them */
			put = "\xef\xbf\xbd";
			plen = 3;
			k = 1;
		} else if (u[i] < 0x20 || u[i] == 0x7f) {
			put = "?";
			plen = 1;
		} else {
			put = (const char *)u + i;
			plen = k;
		}
		if (out + plen >= dlen)
			break;
		memcpy(dst + out, put, plen);
		out += plen;
	}
	dst[out] = '\0';
	return out;
}

char *report__utf8_dup(const char *src)
{
	size_t n = src ? strlen(src) : 0;
	char *s;

	/* a bad byte grows to 3 bytes at most */
	if (n > (SIZE_MAX - 1) / 3) {
		errno = ENOMEM;
		return NULL;
	}
	s = malloc(n * 3 + 1);
	if (!s)
		return NULL;
	report__utf8_clean(s, n * 3 + 1, src);
	return s;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s && s[1] ? s + 1 : path;
}

char *report__frame_name(const struct rpt_frame *fr, char *buf, size_t len)
{
	char tmp[256];

	if (fr->func && *fr->func) {
		report__utf8_clean(buf, len, fr->func);
	} else if (fr->module && *fr->module) {
		report__utf8_clean(tmp, sizeof(tmp), base_name(fr->module));
		snprintf(buf, len, "[%s]", tmp);
	} else {
		snprintf(buf, len, "%s", REPORT_UNKNOWN);
	}
	return buf;
}

/* a name for the folded format: ';' separates frames, so it may not occur inside one */
static void put_folded_name(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc(*s == ';' ? ':' : *s, f);
}

int report__write_folded(const struct rpt *r, FILE *f, bool pid_prefix)
{
	char name[512];
	size_t i, j, k;

	if (!r || !f)
		return -EINVAL;
	for (i = 0; i < r->nprocs; i++) {
		const struct rpt_process *p = &r->procs[i];
		char comm[17];

		memcpy(comm, p->comm, 16);
		comm[16] = '\0';
		for (j = 0; j < p->nstacks; j++) {
			const struct rpt_stack *st = &p->stacks[j];

			if (st->live_bytes <= 0)
				continue;
			if (pid_prefix) {
				report__utf8_clean(name, sizeof(name), comm);
				put_folded_name(f, name);
				fprintf(f, "-%d", p->pid);
				fputc(';', f);
			}
			for (k = st->nframes; k-- > 0;) {
				report__frame_name(&st->frames[k], name, sizeof(name));
				put_folded_name(f, name);
				if (k)
					fputc(';', f);
			}
			if (!st->nframes)
				fputs("[no stack]", f);
			fprintf(f, " %" PRId64 "\n", st->live_bytes);
		}
	}
	if (fflush(f) || ferror(f))
		return errno ? -errno : -EIO;
	return 0;
}
