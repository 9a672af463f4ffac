/*
 * link_server.h - the hub's end of the device link: registers civetweb's
 * WebSocket handlers for LINK_WEBSOCKET_PATH (see link_server.c).
 */
#ifndef DOORSTEP_LINK_SERVER_H
#define DOORSTEP_LINK_SERVER_H

struct hub;

/* Register the /link/v1 WebSocket handlers on hub->server. Main thread. */
void link_server_register(struct hub *hub);

#include <sqlite3.h>

/* Close the links of doorbells that are no longer in the database (removed
 * with the CLI while connected). Main thread, from housekeeping. */
void link_server_drop_removed(struct hub *hub, sqlite3 *db);

/* Tell every connected doorbell the hub is stopping (ERROR shutdown), so
 * they reconnect promptly instead of waiting for a timeout. Main thread,
 * before the server stops. */
void link_server_shutdown(struct hub *hub);

#endif
