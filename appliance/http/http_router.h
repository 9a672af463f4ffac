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
/* With HTTP_ROUTE_DEVICE: the right the user's grant of that doorbell must
 * carry (403 without it; admins hold every right). */
#define HTTP_ROUTE_RIGHT_LIVE       0x10u /* live view, snapshots of now */
#define HTTP_ROUTE_RIGHT_RECORDINGS 0x20u /* recordings, playback, events */
#define HTTP_ROUTE_RIGHT_EXPORT     0x40u /* MP4 clips */
#define HTTP_ROUTE_RIGHT_TALK       0x80u /* talk-back, quick replies */

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
 * Sends 404/405/403 itself when nothing may run: 404 for a doorbell the
 * user holds no grant of, 403 for a grant without the route's right. Returns the status sent.
 */
int http_router_dispatch(struct http_request *request, const struct http_route *routes,
                         size_t count);

#endif
