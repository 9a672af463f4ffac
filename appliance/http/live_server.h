/*
 * live_server.h - the live-view WebSocket, wss://HUB/api/v1/devices/{id}/live
 * (protocol in docs/api.md, "Live view"). Registered by the HTTP server.
 */
#ifndef DOORSTEP_LIVE_SERVER_H
#define DOORSTEP_LIVE_SERVER_H

struct hub;

/* Register the civetweb WebSocket handlers. Main thread, at start. */
void live_server_register(struct hub *hub);

/* Housekeeping (main thread, once a second): when viewers of a doorbell
 * keep falling behind, ask that doorbell for a lower bitrate. */
void live_server_adapt_quality(struct hub *hub);

#endif
