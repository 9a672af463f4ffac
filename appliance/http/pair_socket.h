/*
 * pair_socket.h - the hub's local pairing socket, DATA_DIR/pairing.sock
 * (0600): how `doorstep device waiting` and `doorstep device pair` reach the
 * running hub, which alone holds the doorbells' /pair/v1 connections
 * (docs/architecture.md, "Pairing from the command line").
 *
 * One request line per connection, one JSON answer line:
 *   waiting                   -> {"waiting":[{device_id, model, firmware, address, since_ms}]}
 *   pair ID CODE NAME...      -> {"status":201,"device":{"id","name","auth"}}
 *                                or {"status":4xx/5xx,"error":CODE,"reason":TEXT}
 */
#ifndef DOORSTEP_PAIR_SOCKET_H
#define DOORSTEP_PAIR_SOCKET_H

#include <stddef.h>

#define PAIR_SOCKET_NAME        "pairing.sock"
#define PAIR_SOCKET_REQUEST_MAX 512
#define PAIR_SOCKET_ANSWER_MAX  8192

struct hub;
struct pair_socket;

/* Listen on DATA_DIR/pairing.sock and start its thread. NULL (logged) on
 * failure. Main thread, after the HTTP server started. */
struct pair_socket *pair_socket_start(struct hub *hub);

/* Stop the thread, remove the socket. NULL is ignored. Main thread. */
void pair_socket_stop(struct pair_socket *socket);

/* The CLI's side: send request (one line, no newline) to the hub of
 * data_dir and read its answer into answer. 0, or -1 with the reason. */
int pair_socket_request(const char *data_dir, const char *request, char *answer, size_t answer_size,
                        char *error, size_t error_size);

#endif
