/*
 * live_server.h - the live-view WebSocket, wss://HUB/api/v1/devices/{id}/live
 * (protocol in docs/api.md, "Live view"). Registered by the HTTP server.
 */
#ifndef DOORSTEP_LIVE_SERVER_H
#define DOORSTEP_LIVE_SERVER_H

struct hub;

/* Register the civetweb WebSocket handlers. Main thread, at start. */
void live_server_register(struct hub *hub);

/* Housekeeping (main thread, once a second): turn each doorbell's
 * sub-stream on while a viewer needs it (again after a reconnect) and off
 * 5 s after the last one left; ask again for a keyframe a viewer still
 * waits for. What viewers choose never changes the main stream. */
void live_server_manage_streams(struct hub *hub);

#endif
