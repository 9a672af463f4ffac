/*
 * http_router.h - matching "METHOD /path/{param}" route tables and checking
 * each route's role and per-doorbell rules before its handler runs.
 * Stateless; civetweb worker threads.
 */
#ifndef DOORSTEP_HTTP_ROUTER_H
#define DOORSTEP_HTTP_ROUTER_H

#include <stddef.h>

#include "http/http_request.h"

typedef int (*http_handler)(struct http_request *request);

#define HTTP_ROUTE_ADMIN   0x1u /* admins only (403 otherwise) */
#define HTTP_ROUTE_DEVICE  0x2u /* params[0] is a doorbell the user must be allowed to see (404) */
#define HTTP_ROUTE_NO_HEAD 0x4u /* a streamed GET: HEAD is refused (405), never run */

struct http_route {
    const char *method;
    const char *pattern; /* "/api/v1/devices/{id}"; a {x} segment matches [A-Za-z0-9_.-]+ */
    http_handler handler;
    unsigned flags;
};

/* The /api/v1 table (http_routes.c); every entry is behind the gate. */
extern const struct http_route http_api_routes[];
extern const size_t http_api_route_count;

/*
 * Find the route for request->method and request->path, check its flags,
 * and run it. HEAD runs the GET route, whose answer (http_send_bytes) then
 * has the GET's headers and no body, unless the route is HTTP_ROUTE_NO_HEAD.
 * Sends 404/405/403 itself when nothing may run. Returns the status sent.
 */
int http_router_dispatch(struct http_request *request, const struct http_route *routes,
                         size_t count);

#endif
