/*
 * pairing_client.h - the doorbell's end of wss://HUB/pair/v1 while its
 * pairing mode is open (docs/protocol.md, "Pairing exchange"): it connects
 * without a key pin, says PAIR_HELLO and waits for an admin to type its
 * setup code at the hub; then SPAKE2+ as the verifier (from its stored
 * record, never the code), its new ECDSA key to the hub, the hub's key and
 * address back, hub.json written and pairing mode closed (pairing.h).
 * Reconnects with backoff while the mode stays open; idles while it is
 * closed. It lives as long as the doorbell: one libwebsockets context for
 * good (libwebsockets 4.1 leaks a client SSL_CTX per context it destroys
 * beside another, so contexts are not made per pairing).
 *
 * Threads: pairing_client_start() creates the pairing thread, which alone
 * runs its libwebsockets context; pairing_client_stop() joins it (main
 * thread).
 */
#ifndef DOORSTEP_PAIRING_CLIENT_H
#define DOORSTEP_PAIRING_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

struct pairing;
struct pairing_client;

/* Start the pairing thread for pairing (which must outlive the client). It
 * connects to the hub URL pairing_hub_url() gives (--hub, or discovery)
 * whenever pairing mode is open, and idles otherwise. NULL with the reason. */
struct pairing_client *pairing_client_start(struct pairing *pairing, const char *firmware,
                                            char *error, size_t error_size);

/* Stop the thread, close the connection, free it. NULL is ignored. */
void pairing_client_stop(struct pairing_client *client);

#endif
