/*
 * pairing_store.h - the doorbell's pairing files in its state directory
 * (--state-dir), each 0600 and written atomically (temporary file, fsync,
 * rename):
 *   device-id       12 lowercase hex digits from getrandom(2)
 *   setup-code      the 8 digits, the only copy, for the installer to read
 *   pairing-record  {"salt","argon2":{passes,memory_kib,lanes},"w0","l"} (hex)
 *   device-key.pem  after pairing: the ECDSA P-256 private key
 *   hub.json        after pairing: {"url": "wss://...", "hub_key_sha256": "64 hex"}
 * device-id is written last, so an identity interrupted half-way is made
 * again whole at the next start.
 *
 * Threads: main at start, the pairing client's thread after pairing and the
 * control thread on a factory reset; pairing.c serialises them under its
 * lock. Ownership: the caller's buffers.
 */
#ifndef DOORSTEP_PAIRING_STORE_H
#define DOORSTEP_PAIRING_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "common/pair_protocol.h"
#include "common/setup_code.h"

#define PAIRING_STORE_PATH_MAX 512

/* What the doorbell knows about itself. */
struct pairing_identity {
    char device_id[PAIR_DEVICE_ID_SIZE];
    char setup_code[SETUP_CODE_SIZE]; /* read back for the log; "" if the file is gone */
    struct setup_code_record record;
};

/* Where it pairs. */
struct pairing_hub {
    char url[PAIR_URL_SIZE];
    char hub_key_sha256[2 * PAIR_HASH_SIZE + 1]; /* lowercase hex */
};

/* Load the identity from dir, making it (id, code, record) if there is none;
 * parameters are the Argon2id costs of a new record. *created is set to 1
 * when a new identity was made. 0, or -1 with the reason. */
int pairing_store_load(const char *dir, const struct setup_code_parameters *parameters,
                       struct pairing_identity *identity, int *created, char *error,
                       size_t error_size);

/* Factory reset: remove the identity, the key and hub.json, then make a new
 * identity as pairing_store_load does. 0, or -1 with the reason. */
int pairing_store_reset(const char *dir, const struct setup_code_parameters *parameters,
                        struct pairing_identity *identity, char *error, size_t error_size);

/* Read hub.json: 0 found (hub filled), 1 absent, -1 unreadable or invalid. */
int pairing_store_read_hub(const char *dir, struct pairing_hub *hub, char *error,
                           size_t error_size);

/* Write hub.json. 0, or -1 with the reason. */
int pairing_store_write_hub(const char *dir, const struct pairing_hub *hub, char *error,
                            size_t error_size);

/* Read at most size - 1 bytes of dir/name into buffer, NUL-terminated.
 * Returns the length, -2 if the file does not exist, -1 on another error. */
long pairing_store_read_file(const char *dir, const char *name, char *buffer, size_t size);

#endif
