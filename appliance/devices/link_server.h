/*
 * link_server.h - the hub's end of the device link: registers civetweb's
 * WebSocket handlers for LINK_WEBSOCKET_PATH (see link_server.c).
 */
#ifndef DOORSTEP_LINK_SERVER_H
#define DOORSTEP_LINK_SERVER_H

struct hub;

/* Register the /link/v1 WebSocket handlers on hub->server. Main thread. */
void link_server_register(struct hub *hub);

#endif
