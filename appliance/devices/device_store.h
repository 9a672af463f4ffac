/*
 * device_store.h - doorbells in the database (table devices): adding one
 * with a fresh secret, finding its secret to authenticate a link, listing,
 * deleting. Any thread, with its own SQLite connection; no shared state.
 */
#ifndef DOORSTEP_DEVICE_STORE_H
#define DOORSTEP_DEVICE_STORE_H

#include <sqlite3.h>
#include <stdint.h>

#include "common/link_protocol.h"
#include "devices/device_registry.h"

#define DEVICE_STORE_PUBLIC_KEY_SIZE 65

struct device_record {
    char id[LINK_DEVICE_ID_MAX];
    char name[DEVICE_NAME_MAX];
    int64_t created_at;
    int64_t last_seen_at; /* 0 if never */
    char firmware[LINK_TEXT_MAX];
    int auth_key;                                     /* 1: paired, signs with its own key */
    uint8_t public_key[DEVICE_STORE_PUBLIC_KEY_SIZE]; /* auth_key: 04 || x || y */
};

/* Called once per device by device_store_list(); nonzero stops early. */
typedef int (*device_store_callback)(const struct device_record *device, void *context);

/* True if name is 1..64 bytes of printable text (no control characters). */
int device_store_name_valid(const char *name);

/*
 * Add a doorbell: a random 12-hex-digit id and a 32-byte secret. The secret is
 * copied to secret_out for showing once. 0 ok, -1 with reason.
 */
int device_store_add(sqlite3 *db, const char *name, struct device_record *record_out,
                     uint8_t secret_out[LINK_SECRET_SIZE], char *error, size_t error_size);

/* Find a live (not revoked) device and its secret (secret_out may be NULL
 * when only the record is wanted; for a paired device, which has no secret,
 * it is zeroed and the record holds the public key). 1 found, 0 not found
 * (or its credential is unusable), -1 error. */
int device_store_find(sqlite3 *db, const char *id, struct device_record *record_out,
                      uint8_t secret_out[LINK_SECRET_SIZE]);

/* Store a doorbell that paired (its own id, the name the user gave, the
 * public half of its key): a new row, or the existing row of that id made a
 * paired one (its secret dropped, un-revoked). 0 ok, -1 with reason. */
int device_store_pair(sqlite3 *db, const char *id, const char *name,
                      const uint8_t public_key[DEVICE_STORE_PUBLIC_KEY_SIZE],
                      struct device_record *record_out, char *error, size_t error_size);

/* List live devices ordered by name. 0 ok, -1 error. */
int device_store_list(sqlite3 *db, device_store_callback callback, void *context);

/* Delete a device (and its viewer grants). 1 deleted, 0 not found, -1 error. */
int device_store_delete(sqlite3 *db, const char *id);

/* Record a connection: last_seen_at and firmware. */
int device_store_touch(sqlite3 *db, const char *id, int64_t now_ms, const char *firmware);

#endif
