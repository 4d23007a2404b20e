/*
 * lwsrun: the libwebsockets start-up and loop of the sims (see lwsrun.h).
 */
#include <string.h>

#include "log.h"
#include "lwsrun.h"
#include "service.h"

static const char *const *log_ignore;

static void
lwsrun_log_line(int level, const char *line)
{
	size_t n = strlen(line);

	for (const char *const *p = log_ignore; p != NULL && *p != NULL; p++)
		if (strstr(line, *p) != NULL)
			return;
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	if (level & LLL_ERR)
		log_errorx("lws: %.*s", (int)n, line);
	else
		log_warnx("lws: %.*s", (int)n, line);
}

void
lwsrun_log(const char *const *ignore)
{
	log_ignore = ignore;
	lws_set_log_level(LLL_ERR | LLL_WARN, lwsrun_log_line);
}

struct lws_context *
lwsrun_listen(const char *name, const char *iface, int port,
    const struct lws_protocols *protocols, unsigned short max_http_header_data)
{
	struct lws_context_creation_info info;
	struct lws_context *ctx;

	memset(&info, 0, sizeof(info));
	info.port = port;
	info.iface = iface;
	info.protocols = protocols;
	info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
	info.vhost_name = name;
	info.max_http_header_data = max_http_header_data;
	if ((ctx = lws_create_context(&info)) == NULL)
		log_errorx("cannot listen on %s:%d", iface, port);
	return ctx;
}

int
lwsrun_loop(struct lws_context *ctx)
{
	while (!service_stopping())
		if (lws_service(ctx, 0) < 0)
			return -1;
	return 0;
}
