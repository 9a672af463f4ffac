/*
 * talk_server.h - the talk WebSocket, wss://HUB/api/v1/devices/{id}/talk
 * (protocol in docs/api.md, "Talk"). Registered by the HTTP server.
 */
#ifndef DOORSTEP_TALK_SERVER_H
#define DOORSTEP_TALK_SERVER_H

struct hub;

/* Register the civetweb WebSocket handlers. Main thread, at start. */
void talk_server_register(struct hub *hub);

#endif
