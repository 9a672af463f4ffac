/*
 * pair_server.h - the hub's end of the pairing endpoint wss://HUB/pair/v1
 * (pair_server.c): doorbells in pairing mode wait here until an admin
 * types their setup code (devices/device_pairing.h runs the exchange).
 */
#ifndef DOORSTEP_PAIR_SERVER_H
#define DOORSTEP_PAIR_SERVER_H

#include <stddef.h>
#include <stdint.h>

struct hub;

/* Register the /pair/v1 WebSocket handlers on hub->server. Main thread. */
void pair_server_register(struct hub *hub);

/* device_pairing's send callback: write one binary frame to connection (a
 * struct mg_connection). 0 or -1. Any thread. */
int pair_server_send(void *connection, const uint8_t *message, size_t size);

#endif
