/*
 * pairing.h - the doorbell's pairing state, as the rest of the firmware sees
 * it: its identity (device id, SPAKE2+ record; pairing_store.h), whether it
 * is paired and to which hub (hub.json), and its pairing mode
 * (pairing_mode.h) on the monotonic clock.
 *
 * Discovery asks "is pairing mode open, what is my id and model" through the
 * getters below (any thread); the control thread's `hold N` goes through
 * pairing_hold(); the pairing client (pairing_client.c) reads the identity
 * and reports wrong codes and success.
 *
 * Threads: any. Lock: struct pairing's `lock` guards every field but
 * state_dir and model, which are fixed at pairing_start(). Ownership: main
 * makes it with pairing_start() and frees it with pairing_stop() after the
 * threads that use it stopped.
 */
#ifndef DOORSTEP_PAIRING_H
#define DOORSTEP_PAIRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pairing/pairing_store.h"

struct pairing;

/* Called (without the lock) after the state changed: a factory reset, a
 * hold that opened pairing mode, or a completed pairing. Any thread. */
typedef void (*pairing_changed_callback)(void *context);

/* Load or make the identity in state_dir (Argon2id costs of a new record:
 * parameters, NULL for the defaults) and read hub.json; open pairing mode if
 * unpaired; log the setup code while unpaired. NULL with the reason. */
struct pairing *pairing_start(const char *state_dir, const char *model,
                              const struct setup_code_parameters *parameters, char *error,
                              size_t error_size);

/* Free it; NULL is ignored. */
void pairing_stop(struct pairing *pairing);

/* Set the function told about changes (one; NULL to remove). */
void pairing_set_changed_callback(struct pairing *pairing, pairing_changed_callback callback,
                                  void *context);

/* Getters for discovery and the clients; thread-safe. */
bool pairing_mode_open(struct pairing *pairing);
bool pairing_is_paired(struct pairing *pairing);
void pairing_device_id(struct pairing *pairing, char *out, size_t out_size);
const char *pairing_model(const struct pairing *pairing);
const char *pairing_state_dir(const struct pairing *pairing);
/* Copy the identity (contains the record: wipe it after use). */
void pairing_identity_copy(struct pairing *pairing, struct pairing_identity *out);
/* Copy the hub; false when not paired. */
bool pairing_hub(struct pairing *pairing, struct pairing_hub *out);
/* The URL to pair with (--hub, or what discovery found); "" if none. */
void pairing_hub_url(struct pairing *pairing, char *out, size_t out_size);
void pairing_set_hub_url(struct pairing *pairing, const char *url);

/* A number that changes whenever the doorbell's hub or identity changes
 * (a pairing, a factory reset). */
uint64_t pairing_generation(struct pairing *pairing);

/* `hold SECONDS` on the control socket: 10..29 opens pairing mode, 30 or
 * more is a factory reset. Writes a one-line reply. */
void pairing_hold(struct pairing *pairing, int seconds, char *reply, size_t reply_size);

/* The pairing client saw a wrong code. Returns the count since the mode
 * opened. */
int pairing_wrong_code(struct pairing *pairing);

/* Pairing succeeded: write hub.json, close the mode. 0 or -1 with reason. */
int pairing_complete(struct pairing *pairing, const struct pairing_hub *hub, char *error,
                     size_t error_size);

#endif
