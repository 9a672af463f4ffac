/*
 * device_store.c - the devices table (see device_store.h). Bound parameters
 * only; every statement finalized on every path.
 */
#define LOG_MODULE "devices"

#include "devices/device_store.h"

#include <string.h>
#include <stdio.h>

#include <mbedtls/platform_util.h>

#include "common/error_text.h"
#include "common/log.h"
#include "common/system_random.h"
#include "storage/database.h"

int device_store_name_valid(const char *name)
{
    size_t length = strlen(name);
    if (length < 1 || length >= DEVICE_NAME_MAX)
        return 0;
    for (size_t i = 0; i < length; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
            return 0;
    return 1;
}

/* Copy a text column into a fixed buffer (truncation is impossible: the
 * schema's CHECKs bound every column we read this way). */
static void device_store_copy_text(sqlite3_stmt *statement, int column, char *out, size_t size)
{
    const unsigned char *text = sqlite3_column_text(statement, column);
    snprintf(out, size, "%s", text ? (const char *)text : "");
}

/* Read the auth column (and the public key in the next column) into record. */
static void device_store_read_auth(sqlite3_stmt *statement, int column,
                                   struct device_record *record)
{
    const unsigned char *auth = sqlite3_column_text(statement, column);

    record->auth_key = auth != NULL && strcmp((const char *)auth, "key") == 0;
    if (record->auth_key &&
        sqlite3_column_bytes(statement, column + 1) == DEVICE_STORE_PUBLIC_KEY_SIZE)
        memcpy(record->public_key, sqlite3_column_blob(statement, column + 1),
               DEVICE_STORE_PUBLIC_KEY_SIZE);
}

int device_store_add(sqlite3 *db, const char *name, struct device_record *record_out,
                     uint8_t secret_out[LINK_SECRET_SIZE], char *error, size_t error_size)
{
    sqlite3_stmt *statement = NULL;
    uint8_t id_bytes[6];
    int rc = -1;

    memset(record_out, 0, sizeof(*record_out));
    if (!device_store_name_valid(name)) {
        error_text_set(error, error_size, "the name must be 1 to %d printable characters",
                       DEVICE_NAME_MAX - 1);
        return -1;
    }
    if (system_random_fill(id_bytes, sizeof(id_bytes), error, error_size) != 0 ||
        system_random_fill(secret_out, LINK_SECRET_SIZE, error, error_size) != 0)
        return -1;
    link_hex_encode(id_bytes, sizeof(id_bytes), record_out->id);
    snprintf(record_out->name, sizeof(record_out->name), "%s", name);
    record_out->created_at = database_now_ms();

    if (sqlite3_prepare_v2(db,
                           "INSERT INTO devices (id, name, secret, created_at) VALUES (?, ?, ?, ?)",
                           -1, &statement, NULL) != SQLITE_OK)
        goto database_error;
    sqlite3_bind_text(statement, 1, record_out->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 2, record_out->name, -1, SQLITE_STATIC);
    sqlite3_bind_blob(statement, 3, secret_out, LINK_SECRET_SIZE, SQLITE_STATIC);
    sqlite3_bind_int64(statement, 4, record_out->created_at);
    if (sqlite3_step(statement) != SQLITE_DONE)
        goto database_error;
    rc = 0;
    goto out;

database_error:
    error_text_set(error, error_size, "database: %s", sqlite3_errmsg(db));
    mbedtls_platform_zeroize(secret_out, LINK_SECRET_SIZE);
out:
    sqlite3_finalize(statement);
    return rc;
}

int device_store_find(sqlite3 *db, const char *id, struct device_record *record_out,
                      uint8_t secret_out[LINK_SECRET_SIZE])
{
    sqlite3_stmt *statement = NULL;
    int result = -1, step;

    memset(record_out, 0, sizeof(*record_out));
    if (sqlite3_prepare_v2(db,
                           "SELECT id, name, secret, created_at, last_seen_at, firmware, "
                           "auth, public_key FROM devices WHERE id = ? AND revoked_at IS NULL",
                           -1, &statement, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_text(statement, 1, id, -1, SQLITE_STATIC);
    step = sqlite3_step(statement);
    if (step == SQLITE_DONE) {
        result = 0;
        goto out;
    }
    if (step != SQLITE_ROW)
        goto out;
    device_store_copy_text(statement, 0, record_out->id, sizeof(record_out->id));
    device_store_copy_text(statement, 1, record_out->name, sizeof(record_out->name));
    device_store_read_auth(statement, 6, record_out);
    if (secret_out != NULL && record_out->auth_key) {
        memset(secret_out, 0, LINK_SECRET_SIZE);
        if (sqlite3_column_bytes(statement, 7) != DEVICE_STORE_PUBLIC_KEY_SIZE) {
            result = 0; /* no usable key: treat as unknown */
            goto out;
        }
    } else if (secret_out != NULL) {
        if (sqlite3_column_bytes(statement, 2) != LINK_SECRET_SIZE) {
            result = 0; /* no usable secret: treat as unknown */
            goto out;
        }
        memcpy(secret_out, sqlite3_column_blob(statement, 2), LINK_SECRET_SIZE);
    }
    record_out->created_at = sqlite3_column_int64(statement, 3);
    record_out->last_seen_at = sqlite3_column_int64(statement, 4);
    device_store_copy_text(statement, 5, record_out->firmware, sizeof(record_out->firmware));
    result = 1;
out:
    if (result < 0)
        log_error("finding device: %s", sqlite3_errmsg(db));
    sqlite3_finalize(statement);
    return result;
}

int device_store_pair(sqlite3 *db, const char *id, const char *name,
                      const uint8_t public_key[DEVICE_STORE_PUBLIC_KEY_SIZE],
                      struct device_record *record_out, char *error, size_t error_size)
{
    sqlite3_stmt *statement = NULL;
    int found, rc = -1;

    memset(record_out, 0, sizeof(*record_out));
    if (!device_store_name_valid(name)) {
        error_text_set(error, error_size, "the name must be 1 to %d printable characters",
                       DEVICE_NAME_MAX - 1);
        return -1;
    }
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO devices (id, name, secret, created_at, auth, public_key) "
                           "VALUES (?1, ?2, NULL, ?3, 'key', ?4) ON CONFLICT (id) DO UPDATE SET "
                           "name = excluded.name, secret = NULL, auth = 'key', "
                           "public_key = excluded.public_key, revoked_at = NULL",
                           -1, &statement, NULL) != SQLITE_OK)
        goto database_error;
    sqlite3_bind_text(statement, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(statement, 3, database_now_ms());
    sqlite3_bind_blob(statement, 4, public_key, DEVICE_STORE_PUBLIC_KEY_SIZE, SQLITE_STATIC);
    if (sqlite3_step(statement) != SQLITE_DONE)
        goto database_error;
    found = device_store_find(db, id, record_out, NULL);
    if (found != 1) {
        error_text_set(error, error_size, "the paired device cannot be read back");
        goto out;
    }
    rc = 0;
    goto out;

database_error:
    error_text_set(error, error_size, "database: %s", sqlite3_errmsg(db));
out:
    sqlite3_finalize(statement);
    return rc;
}

int device_store_list(sqlite3 *db, device_store_callback callback, void *context)
{
    sqlite3_stmt *statement = NULL;
    struct device_record record;
    int rc = -1, step;

    if (sqlite3_prepare_v2(db,
                           "SELECT id, name, created_at, last_seen_at, firmware, auth, "
                           "public_key FROM devices WHERE revoked_at IS NULL "
                           "ORDER BY name COLLATE NOCASE, id",
                           -1, &statement, NULL) != SQLITE_OK)
        goto out;
    while ((step = sqlite3_step(statement)) == SQLITE_ROW) {
        memset(&record, 0, sizeof(record));
        device_store_copy_text(statement, 0, record.id, sizeof(record.id));
        device_store_copy_text(statement, 1, record.name, sizeof(record.name));
        record.created_at = sqlite3_column_int64(statement, 2);
        record.last_seen_at = sqlite3_column_int64(statement, 3);
        device_store_copy_text(statement, 4, record.firmware, sizeof(record.firmware));
        device_store_read_auth(statement, 5, &record);
        if (callback(&record, context) != 0)
            break;
    }
    rc = (step == SQLITE_ROW || step == SQLITE_DONE) ? 0 : -1;
out:
    if (rc != 0)
        log_error("listing devices: %s", sqlite3_errmsg(db));
    sqlite3_finalize(statement);
    return rc;
}

int device_store_delete(sqlite3 *db, const char *id)
{
    sqlite3_stmt *statement = NULL;
    int rc = -1;

    if (sqlite3_prepare_v2(db, "DELETE FROM devices WHERE id = ?", -1, &statement, NULL) !=
        SQLITE_OK)
        goto out;
    sqlite3_bind_text(statement, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(statement) != SQLITE_DONE)
        goto out;
    rc = sqlite3_changes(db) > 0 ? 1 : 0;
out:
    if (rc < 0)
        log_error("deleting device: %s", sqlite3_errmsg(db));
    sqlite3_finalize(statement);
    return rc;
}

int device_store_touch(sqlite3 *db, const char *id, int64_t now_ms, const char *firmware)
{
    sqlite3_stmt *statement = NULL;
    int rc = -1;

    if (sqlite3_prepare_v2(db, "UPDATE devices SET last_seen_at = ?, firmware = ? WHERE id = ?", -1,
                           &statement, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_int64(statement, 1, now_ms);
    sqlite3_bind_text(statement, 2, firmware, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 3, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(statement) == SQLITE_DONE ? 0 : -1;
out:
    if (rc != 0)
        log_warn("recording device %s as seen: %s", id, sqlite3_errmsg(db));
    sqlite3_finalize(statement);
    return rc;
}
