/*
 * control_socket.h - the doorbell's local control channel: a Unix stream
 * socket taking one text command per line ("press", "pir", "light on",
 * "stats", ...) and answering one line each. Tests, `make run` and the
 * `doorbelld ctl` CLI drive the simulated doorbell through it; on real
 * hardware GPIO events take the same path.
 *
 * Threads: control_socket_start() creates the control thread, which serves
 * one client at a time and calls the handler on that thread. The handler
 * must be thread-safe with respect to the capture and link threads.
 */
#ifndef DOORSTEP_CONTROL_SOCKET_H
#define DOORSTEP_CONTROL_SOCKET_H

#include <stddef.h>

#define CONTROL_LINE_MAX  256
#define CONTROL_REPLY_MAX 2048

/* Handle one command line (no newline); write a one-line reply (no newline). */
typedef void (*control_handler)(const char *command, char *reply, size_t reply_size, void *context);

struct control_socket;

/* Listen on path (replacing a stale socket file), mode 0600. NULL with reason. */
struct control_socket *control_socket_start(const char *path, control_handler handler,
                                            void *context, char *error, size_t error_size);

/* Stop the thread, close and unlink the socket. */
void control_socket_stop(struct control_socket *control);

/* Client side: send one command to the socket at path and read the reply.
 * 0 ok, -1 with the reason in reply. */
int control_socket_request(const char *path, const char *command, char *reply, size_t reply_size);

/* `doorbelld ctl SOCKET COMMAND...` as a whole program: its exit status. */
int control_socket_client_main(int argc, char **argv);

#endif
