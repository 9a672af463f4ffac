/*
 * http_server.h - starting and stopping civetweb (HTTPS on mbedTLS) with the
 * hub's handlers: health, /auth, /api (behind the gate), the web UI, and the
 * device link WebSocket. Main thread.
 */
#ifndef DOORSTEP_HTTP_SERVER_H
#define DOORSTEP_HTTP_SERVER_H

#include <stddef.h>

#include "core/config.h"

struct hub;

/* Start listening; sets hub->server. 0 ok, -1 with reason. */
int http_server_start(struct hub *hub, char *error, size_t error_size);

/* How many connections one client address may hold open at once: the
 * connections_per_address setting, or a tenth of the worker pool. */
int http_server_connections_per_address(const struct config *config);

/* Stop accepting, close connections, join civetweb's threads. */
void http_server_stop(struct hub *hub);

#endif
