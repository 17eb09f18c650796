// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon_http.c - /metrics and /status over HTTP with libmicrohttpd (an internal polling thread) */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon_cfg.h"
#include "daemon_http.h"
#include "log.h"

struct http_server {
	struct MHD_Daemon *mhd;
	http_render_fn fn;
	void *ctx;
};

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct http_server *s = cls;
	const char *ctype = "text/plain; charset=utf-8";
	struct MHD_Response *resp;
	char *body = NULL;
	size_t len = 0;
	enum MHD_Result ret;
	int status;

	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		static const char msg[] = "only GET\n";

		resp = MHD_create_response_from_buffer(sizeof(msg) - 1, (void *)msg, MHD_RESPMEM_PERSISTENT);
		if (!resp)
			return MHD_NO;
		MHD_add_response_header(resp, "Allow", "GET, HEAD");
		ret = MHD_queue_response(conn, MHD_HTTP_METHOD_NOT_ALLOWED, resp);
		MHD_destroy_response(resp);
		return ret;
	}
	status = s->fn(s->ctx, url, &body, &len, &ctype);
	if (!body) {
		status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		body = strdup("out of memory\n");
		len = body ? strlen(body) : 0;
	}
	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", ctype);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

struct http_server *http_server__start(const char *listen, http_render_fn fn, void *ctx)
{
	struct sockaddr_storage ss = {};
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;
	struct http_server *s;
	char host[256];
	unsigned int port;

	if (daemon_cfg__split_listen(listen, host, sizeof(host), &port)) {
		pr_err("invalid listen address '%s' (ADDR:PORT)", listen);
		errno = EINVAL;
		return NULL;
	}
	if (!host[0] || !strcmp(host, "*"))
		snprintf(host, sizeof(host), "0.0.0.0");
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		flags |= MHD_USE_IPv6;
	} else {
		pr_err("invalid listen address '%s' (a numeric IPv4 or [IPv6] address)", listen);
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->fn = fn;
	s->ctx = ctx;
	/* the port is part of the address given; MHD's own port argument is ignored then */
	s->mhd = MHD_start_daemon(flags, port, NULL, NULL, on_request, s,
				  MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned int)32,
				  MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)8,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
				  MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int)1,
				  MHD_OPTION_END);
	if (!s->mhd) {
		int e = errno ? errno : EADDRINUSE;

		pr_err("cannot listen on %s: %s", listen, strerror(e));
		free(s);
		errno = e;
		return NULL;
	}
	return s;
}

void http_server__stop(struct http_server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->mhd);
	free(s);
}
