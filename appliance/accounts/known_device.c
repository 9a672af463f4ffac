/*
 * known_device.c - issuing and checking the known-device cookie (see
 * known_device.h).
 *
 * Called from HTTP handler threads with their own SQLite connection. Keeps
 * no state: the HMAC key is read from hub_settings on every use (one
 * indexed row), and created there on first use with INSERT OR IGNORE, so
 * two threads racing to create it end up with the same key.
 */
#define LOG_MODULE "accounts"

#include "accounts/known_device.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>

#include "accounts/random_bytes.h"
#include "common/log.h"

#define KNOWN_DEVICE_KEY_NAME "known_device_key"

/* Run one statement with ?1 = KNOWN_DEVICE_KEY_NAME and optional ?2 = value;
 * for a SELECT, copy the first column of the row into out. 0 (also when a
 * SELECT finds no row: out is then ""), -1 on failure (logged). */
static int known_device_statement(sqlite3 *db, const char *sql, const char *value, char *out,
                                  size_t out_size)
{
    sqlite3_stmt *statement = NULL;
    int result = -1;
    int rc;

    if (out != NULL)
        out[0] = '\0';
    if (sqlite3_prepare_v2(db, sql, -1, &statement, NULL) != SQLITE_OK ||
        sqlite3_bind_text(statement, 1, KNOWN_DEVICE_KEY_NAME, -1, SQLITE_STATIC) != SQLITE_OK ||
        (value != NULL && sqlite3_bind_text(statement, 2, value, -1, SQLITE_STATIC) != SQLITE_OK)) {
        log_error("known-device key: %s", sqlite3_errmsg(db));
        goto out;
    }
    rc = sqlite3_step(statement);
    if (rc == SQLITE_ROW && out != NULL) {
        const unsigned char *text = sqlite3_column_text(statement, 0);
        if (text != NULL)
            snprintf(out, out_size, "%s", (const char *)text);
    } else if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        log_error("known-device key: %s", sqlite3_errmsg(db));
        goto out;
    }
    result = 0;
out:
    sqlite3_finalize(statement);
    return result;
}

/* The hub's HMAC key (a 43-character random token) into key, created on
 * first use. 0 or -1 (logged). */
static int known_device_key(sqlite3 *db, char key[RANDOM_BYTES_TOKEN_SIZE])
{
    static const char select[] = "SELECT value FROM hub_settings WHERE key = ?1";
    char fresh[RANDOM_BYTES_TOKEN_SIZE];
    int result = -1;

    if (known_device_statement(db, select, NULL, key, RANDOM_BYTES_TOKEN_SIZE) != 0)
        goto out;
    if (random_bytes_token_wellformed(key)) {
        result = 0;
        goto out;
    }
    if (random_bytes_token(fresh, sizeof(fresh)) != 0 ||
        known_device_statement(db,
                               "INSERT OR IGNORE INTO hub_settings (key, value) VALUES (?1, ?2)",
                               fresh, NULL, 0) != 0 ||
        known_device_statement(db, select, NULL, key, RANDOM_BYTES_TOKEN_SIZE) != 0)
        goto out;
    if (!random_bytes_token_wellformed(key)) {
        log_error("the stored known-device key is malformed");
        goto out;
    }
    result = 0;
out:
    mbedtls_platform_zeroize(fresh, sizeof(fresh));
    return result;
}

/* The MAC of "<user id>.<issued s>" under the hub's key, as base64url into
 * mac (RANDOM_BYTES_TOKEN_SIZE bytes). 0 or -1 (logged). */
static int known_device_mac(sqlite3 *db, int64_t user_id, int64_t issued_s,
                            char mac[RANDOM_BYTES_TOKEN_SIZE])
{
    char key[RANDOM_BYTES_TOKEN_SIZE];
    char message[64];
    unsigned char digest[32];
    int length, result = -1;

    length = snprintf(message, sizeof(message), "%" PRId64 ".%" PRId64, user_id, issued_s);
    if (known_device_key(db, key) != 0)
        goto out;
    if (mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), (const unsigned char *)key,
                        strlen(key), (const unsigned char *)message, (size_t)length, digest) != 0 ||
        random_bytes_base64url(digest, sizeof(digest), mac, RANDOM_BYTES_TOKEN_SIZE) < 0) {
        log_error("cannot compute a known-device MAC");
        goto out;
    }
    result = 0;
out:
    mbedtls_platform_zeroize(key, sizeof(key));
    mbedtls_platform_zeroize(digest, sizeof(digest));
    return result;
}

int known_device_issue(sqlite3 *db, int64_t user_id, int64_t now_ms, char *out, size_t out_size)
{
    char mac[RANDOM_BYTES_TOKEN_SIZE];
    int64_t issued_s = now_ms / 1000;

    if (known_device_mac(db, user_id, issued_s, mac) != 0)
        return -1;
    if (snprintf(out, out_size, "%" PRId64 ".%" PRId64 ".%s", user_id, issued_s, mac) >=
        (int)out_size)
        return -1;
    return 0;
}

/* Parse a decimal field of value ending at the next '.'; advance *cursor
 * past the dot. False if the field is empty, not digits, or too long. */
static bool known_device_field(const char **cursor, int64_t *out)
{
    const char *p = *cursor;
    int64_t number = 0;
    int digits = 0;

    for (; *p >= '0' && *p <= '9'; p++) {
        if (++digits > 18)
            return false;
        number = number * 10 + (*p - '0');
    }
    if (digits == 0 || *p != '.')
        return false;
    *out = number;
    *cursor = p + 1;
    return true;
}

bool known_device_check(sqlite3 *db, const char *value, int64_t user_id, int64_t now_ms)
{
    char mac[RANDOM_BYTES_TOKEN_SIZE];
    const char *cursor = value;
    int64_t cookie_user, issued_s;

    if (value == NULL || strnlen(value, KNOWN_DEVICE_VALUE_MAX) >= KNOWN_DEVICE_VALUE_MAX)
        return false;
    if (!known_device_field(&cursor, &cookie_user) || !known_device_field(&cursor, &issued_s))
        return false;
    if (cookie_user != user_id || issued_s > now_ms / 1000 + 60 ||
        now_ms - issued_s * 1000 >= KNOWN_DEVICE_LIFETIME_MS)
        return false;
    if (known_device_mac(db, cookie_user, issued_s, mac) != 0)
        return false;
    return random_bytes_token_equal(mac, cursor);
}
