// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* cmd_status.c - `memslope status`: what the running daemon sees, from its /status endpoint */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "daemon_cfg.h"
#include "log.h"
#include "report.h"

static const char usage_text[] =
"USAGE: memslope status [OPTIONS]\n"
"\n"
"Ask the running memslope daemon what it sees: the processes that grow fastest, recent\n"
"alerts, OOM kills, drops. Reads GET /status from the daemon's HTTP endpoint.\n"
"\n"
"OPTIONS:\n"
"      --listen ADDR:PORT   the daemon's endpoint (default: listen from the config file,\n"
"                           else " DAEMON_LISTEN_DEFAULT ")\n"
"  -c, --config FILE        the daemon's config file (default " DAEMON_CFG_PATH ")\n"
"      --json               print the memslope.status/1 document as it is\n"
"  -h, --help               this help\n"
"\n"
"Exit status: 0 ok, 1 the daemon cannot be reached, 2 usage error.\n"
"\n"
"EXAMPLES:\n"
"  memslope status\n"
"  memslope status --listen 127.0.0.1:9500 --json | jq .top\n";

#define TIMEOUT_MS	5000
#define MAX_BODY	(16u << 20)

/* GET path from host:port over HTTP/1.0; the body malloc'ed into *out. Returns 0 or -errno. */
static int http_get(const char *listen, const char *path, char **out, size_t *outlen)
{
	char host[256], portstr[16], req[512], *buf = NULL, *body;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	size_t len = 0, cap = 0;
	unsigned int port;
	int fd = -1, err = 0, status = 0;

	if (daemon_cfg__split_listen(listen, host, sizeof(host), &port))
		return -EINVAL;
	if (!host[0] || !strcmp(host, "0.0.0.0") || !strcmp(host, "*"))
		snprintf(host, sizeof(host), "127.0.0.1");
	else if (!strcmp(host, "::"))
		snprintf(host, sizeof(host), "::1");
	snprintf(portstr, sizeof(portstr), "%u", port);
	if (getaddrinfo(host, portstr, &hints, &ai))
		return -EINVAL;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen)) {
		err = -errno;
		goto out;
	}
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n", path, host);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		err = -EIO;
		goto out;
	}
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, TIMEOUT_MS) <= 0) {
			err = -ETIMEDOUT;
			goto out;
		}
		if (len + 4096 > cap) {
			char *nb;

			cap = cap ? cap * 2 : 65536;
			if (cap > MAX_BODY) {
				err = -EFBIG;
				goto out;
			}
			nb = realloc(buf, cap + 1);
			if (!nb) {
				err = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0) {
			err = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += n;
	}
	if (!buf) {
		err = -EPROTO;
		goto out;
	}
	buf[len] = '\0';
	body = strstr(buf, "\r\n\r\n");
	if (sscanf(buf, "HTTP/%*s %d", &status) != 1 || !body) {
		err = -EPROTO;
		goto out;
	}
	if (status != 200) {
		err = -EPROTO;
		goto out;
	}
	body += 4;
	*outlen = len - (body - buf);
	memmove(buf, body, *outlen + 1);
	*out = buf;
	buf = NULL;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return err;
}

static double jd(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) && v ? json_object_get_double(v) : NAN;
}

static const char *js(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) && v ? json_object_get_string(v) : NULL;
}

static char *fmt_dur(char *buf, size_t len, double s)
{
	if (!isfinite(s) || s < 0)
		snprintf(buf, len, "-");
	else if (s < 120)
		snprintf(buf, len, "%.0fs", s);
	else if (s < 7200)
		snprintf(buf, len, "%.0fm", s / 60);
	else if (s < 172800)
		snprintf(buf, len, "%.1fh", s / 3600);
	else
		snprintf(buf, len, "%.1fd", s / 86400);
	return buf;
}

static char *fmt_rate(char *buf, size_t len, double bps)
{
	char b[24];

	if (!isfinite(bps)) {
		snprintf(buf, len, "-");
		return buf;
	}
	fmt_bytes(b, sizeof(b), bps * 3600);
	snprintf(buf, len, "%s/h", b);
	return buf;
}

static void print_status(json_object *o, const char *listen)
{
	json_object *procs = NULL, *top = NULL, *recent = NULL, *drops = NULL, *self = NULL;
	char a[32], b[32], c[32];
	double now = jd(o, "now");

	json_object_object_get_ex(o, "processes", &procs);
	json_object_object_get_ex(o, "top", &top);
	json_object_object_get_ex(o, "recent_alerts", &recent);
	json_object_object_get_ex(o, "drops", &drops);
	json_object_object_get_ex(o, "self", &self);

	printf("memslope daemon %s on %s (%s): up %s, a pass every %gs (last %.1f ms), %.0f passes\n",
	       js(o, "version") ?: "?", js(o, "host") ?: "?", listen, fmt_dur(a, sizeof(a), now - jd(o, "started_at")),
	       jd(o, "interval_s"), jd(o, "pass_seconds") * 1e3, jd(o, "passes"));
	printf("processes: %.0f watched, %.0f flagged, %.0f untracked; exact tracing %.0f of %.0f slots\n",
	       jd(procs, "watched"), jd(procs, "flagged"), jd(procs, "untracked"), jd(procs, "escalated"),
	       jd(procs, "escalate_max"));
	printf("OOM kills: %.0f (dumps written: %.0f); daemon RSS %s, CPU %.1f s\n", jd(o, "oom_kills"),
	       jd(o, "dumps_written"), fmt_bytes(a, sizeof(a), jd(self, "rss_bytes")), jd(self, "cpu_seconds"));

	printf("\n%-8s %-16s %10s %12s %-18s %-9s %7s %s\n", "PID", "COMM", "RSS", "SLOPE", "VERDICT",
	       "SEVERITY", "ETA", "TOP STACK");
	if (!top || !json_object_array_length(top))
		printf("(no process grows)\n");
	for (size_t i = 0; top && i < json_object_array_length(top); i++) {
		json_object *p = json_object_array_get_idx(top, i), *esc = NULL;
		const char *st = js(p, "top_stack");

		json_object_object_get_ex(p, "escalated", &esc);
		printf("%-8.0f %-16.16s %10s %12s %-18s %-9s %7s %s%s\n", jd(p, "pid"), js(p, "comm") ?: "?",
		       fmt_bytes(a, sizeof(a), jd(p, "rss_bytes")), fmt_rate(b, sizeof(b), jd(p, "slope_bytes_per_s")),
		       js(p, "verdict") ?: "?", js(p, "severity") ?: "?", fmt_dur(c, sizeof(c), jd(p, "eta_limit_s")),
		       esc && json_object_get_boolean(esc) ? "[tracing] " : "", st ? st : "");
	}
	printf("\nrecent alerts:\n");
	if (!recent || !json_object_array_length(recent))
		printf("(none)\n");
	for (size_t i = 0; recent && i < json_object_array_length(recent); i++) {
		json_object *al = json_object_array_get_idx(recent, i), *stacks = NULL;
		const char *frames = NULL, *when = js(al, "ts");

		if (json_object_object_get_ex(al, "top_stacks", &stacks) && stacks &&
		    json_object_array_length(stacks))
			frames = js(json_object_array_get_idx(stacks, 0), "frames");
		printf("  %s %-9s pid %-7.0f %-16.16s %-8s %s %s\n", when ? when : "?", js(al, "event") ?: "?", jd(al, "pid"),
		       js(al, "comm") ?: "?", js(al, "verdict") ?: "", fmt_rate(b, sizeof(b), jd(al, "slope_bytes_per_s")),
		       frames ? frames : (js(al, "dump") ?: ""));
	}
	if (drops) {
		bool any = false;

		json_object_object_foreach(drops, k, v) {
			if (json_object_get_int64(v) <= 0)
				continue;
			printf("%s%s %lld", any ? ", " : "\ndrops: ", k, (long long)json_object_get_int64(v));
			any = true;
		}
		if (any)
			printf("\n");
	}
}

int cmd_status(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	const char *listen = NULL, *config = NULL;
	struct daemon_cfg cfg = {};
	bool json = false;
	char *body = NULL, errbuf[256];
	size_t len = 0;
	json_object *o;
	int c, err, ret = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", lo, NULL)) != -1) {
		switch (c) {
		case 'l':
			listen = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs("Try 'memslope status --help' for more information.\n", stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fputs("memslope status: unexpected argument\nTry 'memslope status --help' for more information.\n",
		      stderr);
		return 2;
	}
	if (daemon_cfg__default(&cfg))
		return 1;
	if (!listen) {
		err = daemon_cfg__load(&cfg, config ? config : DAEMON_CFG_PATH, errbuf, sizeof(errbuf));
		if (err && (config || err != -ENOENT)) {
			fprintf(stderr, "memslope status: %s\n", errbuf);
			daemon_cfg__free(&cfg);
			return 2;
		}
		listen = cfg.listen;
	}
	if (!listen[0] || !strcmp(listen, "off")) {
		pr_err("the daemon serves no HTTP endpoint (listen = off): nothing to ask");
		goto out;
	}
	err = http_get(listen, "/status", &body, &len);
	if (err) {
		pr_err("cannot reach the daemon at %s: %s (is `memslope daemon` running?)", listen,
		       err == -EPROTO ? "not a memslope daemon" : strerror(-err));
		goto out;
	}
	if (json) {
		fwrite(body, 1, len, stdout);
		ret = 0;
		goto out;
	}
	o = json_tokener_parse(body);
	if (!o) {
		pr_err("the daemon at %s answered something that is not JSON", listen);
		goto out;
	}
	print_status(o, listen);
	json_object_put(o);
	ret = 0;
out:
	free(body);
	daemon_cfg__free(&cfg);
	return ret;
}
