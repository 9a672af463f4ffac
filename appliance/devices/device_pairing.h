/*
 * device_pairing.h - doorbells waiting to pair on /pair/v1 and the hub's side
 * of a pairing (docs/protocol.md, "Pairing exchange"): the bounded table of
 * waiting doorbells, and the exchange an admin starts with the setup code
 * (SPAKE2+ prover, then the key exchange), ending in a device row that holds
 * only the doorbell's public key.
 *
 * Threads: each /pair/v1 connection's civetweb thread calls arrive, deliver
 * and leave; an HTTP handler thread (or the CLI request) runs
 * device_pairing_pair(), which sends through the connection (the send
 * callback) and waits for the doorbell's answers that deliver() puts in the
 * waiting entry's inbox.
 *
 * Lock: struct device_pairing's `lock` guards the table and every entry in
 * it (with `changed`, the condition an exchange waits on); it is a leaf
 * (nothing else is taken under it but the send callback, which takes only
 * civetweb's connection lock). `derivation` serialises the Argon2id
 * derivations: one at a time, up to 256 MiB each, in memory mapped for it
 * and unmapped at once (accounts/password.h), so the hub's memory stays flat.
 */
#ifndef DOORSTEP_DEVICE_PAIRING_H
#define DOORSTEP_DEVICE_PAIRING_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "common/pair_protocol.h"
#include "devices/device_store.h"

#define DEVICE_PAIRING_MAX_WAITING 16
#define DEVICE_PAIRING_TIMEOUT_MS  20000 /* one exchange, derivation included */
#define DEVICE_PAIRING_INBOX_MAX   2048  /* pairing messages are a few hundred bytes */
#define DEVICE_PAIRING_ADDRESS_MAX 48

/* Write one whole message to a waiting doorbell's connection: 0 or -1. */
typedef int (*device_pairing_send_callback)(void *connection, const uint8_t *message, size_t size);

/* What GET /api/v1/pairing shows of a waiting doorbell. */
struct device_pairing_waiting {
    char device_id[PAIR_DEVICE_ID_SIZE];
    char model[PAIR_MODEL_SIZE];
    char firmware[LINK_TEXT_MAX];
    char address[DEVICE_PAIRING_ADDRESS_MAX];
    int64_t since_ms;
};

enum device_pairing_result {
    DEVICE_PAIRING_OK,
    DEVICE_PAIRING_NOT_WAITING, /* no such doorbell waiting (404) */
    DEVICE_PAIRING_BUSY,        /* another exchange with it runs (409) */
    DEVICE_PAIRING_CLOSED,      /* its pairing mode is closed (409) */
    DEVICE_PAIRING_WRONG_CODE,  /* the confirmation failed (403) */
    DEVICE_PAIRING_TIMEOUT,     /* no answer in time, or it went away (504) */
    DEVICE_PAIRING_FAILED,      /* malformed answer, bad code format, storage (400/500) */
};

struct device_pairing;

/* A new empty table; send writes to a connection. NULL if out of memory. */
struct device_pairing *device_pairing_create(device_pairing_send_callback send);

/* Free it; the connections must be gone. NULL is ignored. */
void device_pairing_destroy(struct device_pairing *pairing);

/* A doorbell said PAIR_HELLO on connection from address; url is how it
 * reached the hub (wss://HOST/link/v1, for PAIR_HUB_INFO). The newest
 * connection of a device id replaces an older one. 0 with the entry's serial
 * in *serial_out, or -1 when the table is full. */
int device_pairing_arrive(struct device_pairing *pairing, const struct pair_hello *hello,
                          const char *address, const char *url, void *connection,
                          uint64_t *serial_out);

/* A frame from the connection of serial (after its HELLO): copied into the
 * entry's inbox for the exchange. Returns 0, or -1 when nothing asked for
 * it (the caller closes the connection). */
int device_pairing_deliver(struct device_pairing *pairing, uint64_t serial, const uint8_t *data,
                           size_t size);

/* The connection of serial is gone: forget its entry (if still its own). */
void device_pairing_leave(struct device_pairing *pairing, uint64_t serial);

/* Copy up to max waiting doorbells, oldest first; returns the count. */
int device_pairing_list(struct device_pairing *pairing, struct device_pairing_waiting *out,
                        int max);

/*
 * Pair the waiting doorbell device_id with code (8 digits; dashes and
 * spaces are ignored) under name: derive w0 and w1, run SPAKE2+ as the
 * prover with idProver from hub_key_sha256 (the hub's own TLS key), take
 * the doorbell's public key, store the device (db: the caller's connection)
 * and send PAIR_HUB_INFO. Blocks up to DEVICE_PAIRING_TIMEOUT_MS. Fills
 * *device on success and address (DEVICE_PAIRING_ADDRESS_MAX) with the
 * doorbell's address when it was waiting; reason gets a short text.
 */
enum device_pairing_result device_pairing_pair(struct device_pairing *pairing, sqlite3 *db,
                                               const char *device_id, const char *code,
                                               const char *name,
                                               const uint8_t hub_key_sha256[PAIR_HASH_SIZE],
                                               struct device_record *device, char *address,
                                               char *reason, size_t reason_size);

/* Stable names for results ("ok", "not_waiting", "busy", "pairing_closed",
 * "wrong_code", "timeout", "failed"). */
const char *device_pairing_result_name(enum device_pairing_result result);

/* Normalise a typed code: keep digits, drop dashes and spaces; anything
 * else (or not 8 digits) is -1. out has SETUP_CODE_SIZE bytes. */
int device_pairing_normalise_code(const char *typed, char *out);

#endif
