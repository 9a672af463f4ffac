/*
 * pairing_client.h - the doorbell's end of wss://HUB/pair/v1 while its
 * pairing mode is open (docs/protocol.md, "Pairing exchange"): it connects
 * without a key pin, says PAIR_HELLO and waits for an admin to type its
 * setup code at the hub; then SPAKE2+ as the verifier (from its stored
 * record, never the code), its new ECDSA key to the hub, the hub's key and
 * address back, hub.json written and pairing mode closed (pairing.h).
 * Reconnects with backoff while the mode stays open.
 *
 * Threads: pairing_client_start() creates the pairing thread, which alone
 * runs its libwebsockets context; pairing_client_stop() joins it (main
 * thread). pairing_client_finished() may be read from any thread.
 */
#ifndef DOORSTEP_PAIRING_CLIENT_H
#define DOORSTEP_PAIRING_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

struct pairing;
struct pairing_client;

/* Start pairing with the hub at hub_url (wss://HOST:PORT) for pairing (which
 * must outlive the client). NULL with the reason. */
struct pairing_client *pairing_client_start(struct pairing *pairing, const char *hub_url,
                                            const char *firmware, char *error, size_t error_size);

/* Stop the thread, close the connection, free it. NULL is ignored. */
void pairing_client_stop(struct pairing_client *client);

/* True once the client paired (it then has nothing more to do). */
bool pairing_client_finished(struct pairing_client *client);

#endif
