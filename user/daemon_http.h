/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon_http.h - the daemon's HTTP endpoint (libmicrohttpd, its own thread): GET only */
#ifndef MS_DAEMON_HTTP_H
#define MS_DAEMON_HTTP_H

#include <stddef.h>

/*
 * Render the body of path ("/metrics", "/status"...) into a malloc'ed *body of *len
 * bytes with its content type. Runs on the server's thread: lock what it reads.
 * Returns the HTTP status (200, 404, 500).
 */
typedef int (*http_render_fn)(void *ctx, const char *path, char **body, size_t *len,
			      const char **content_type);

struct http_server;

/*
 * Serve on listen ("ADDR:PORT", IPv4 or [IPv6]). NULL with errno (EINVAL: bad address,
 * EADDRINUSE...) and an error logged.
 */
struct http_server *http_server__start(const char *listen, http_render_fn fn, void *ctx);
void http_server__stop(struct http_server *s);	/* accepts NULL; waits for its thread */

#endif
