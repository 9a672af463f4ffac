/*
 * sessions.c - browser sessions in SQLite (see sessions.h).
 *
 * Called from HTTP handler threads (login, every authenticated request,
 * logout) and the maintenance timer (purging), each with its own SQLite
 * connection. No state of its own: the sessions table is the shared state
 * and SQLite's locking protects it. Plain tokens exist only in the caller's
 * buffers and on the stack here (wiped after hashing).
 */
#define LOG_MODULE "accounts"

#include "accounts/sessions.h"

#include <assert.h>
#include <string.h>

#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>
#include <mbedtls/version.h>

#include "accounts/random_bytes.h"
#include "common/log.h"
#include "storage/database.h"

#define SESSION_HASH_BYTES RANDOM_BYTES_TOKEN_HASH

/* Length of text cut to at most max bytes without splitting a UTF-8
 * sequence (continuation bytes at the cut are dropped). */
static int session_cut_length(const char *text, size_t max)
{
    size_t length = strnlen(text, max + 1);

    if (length > max) {
        length = max;
        while (length > 0 && ((unsigned char)text[length] & 0xC0) == 0x80)
            length--;
    }
    return (int)length;
}

/* Step a statement that returns no rows; -1 (logged) if it fails. */
static int session_step_done(sqlite3 *db, sqlite3_stmt *statement, const char *what)
{
    if (sqlite3_step(statement) != SQLITE_DONE) {
        log_error("%s: %s", what, sqlite3_errmsg(db));
        return -1;
    }
    return 0;
}

/* Keep only the newest SESSION_MAX_PER_USER sessions of user_id. */
static int session_trim_user(sqlite3 *db, int64_t user_id)
{
    sqlite3_stmt *statement = NULL;
    int result = -1;

    if (database_prepare(db,
                         "DELETE FROM sessions WHERE user_id = ?1 AND token_hash NOT IN "
                         "(SELECT token_hash FROM sessions WHERE user_id = ?1 "
                         "ORDER BY created_at DESC LIMIT ?2)",
                         &statement) != 0)
        goto out;
    if (sqlite3_bind_int64(statement, 1, user_id) != SQLITE_OK ||
        sqlite3_bind_int(statement, 2, SESSION_MAX_PER_USER) != SQLITE_OK) {
        log_error("binding session trim: %s", sqlite3_errmsg(db));
        goto out;
    }
    if (session_step_done(db, statement, "trimming sessions") != 0)
        goto out;
    result = 0;
out:
    sqlite3_finalize(statement);
    return result;
}

int session_create(sqlite3 *db, int64_t user_id, const char *remote_address, const char *user_agent,
                   int64_t now_ms, char token_out[SESSION_TOKEN_SIZE],
                   char csrf_out[SESSION_TOKEN_SIZE])
{
    uint8_t hash[SESSION_HASH_BYTES];
    sqlite3_stmt *statement = NULL;
    int result = -1;

    assert(db != NULL && token_out != NULL && csrf_out != NULL);
    token_out[0] = '\0';
    csrf_out[0] = '\0';
    if (remote_address == NULL)
        remote_address = "";
    if (user_agent == NULL)
        user_agent = "";

    if (random_bytes_token(token_out, SESSION_TOKEN_SIZE) != 0 ||
        random_bytes_token(csrf_out, SESSION_TOKEN_SIZE) != 0 ||
        random_bytes_token_hash(token_out, hash) != 0)
        goto out;
    if (database_prepare(db,
                         "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, "
                         "last_seen_at, expires_at, remote_address, user_agent) "
                         "VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7)",
                         &statement) != 0)
        goto out;
    if (sqlite3_bind_blob(statement, 1, hash, sizeof(hash), SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int64(statement, 2, user_id) != SQLITE_OK ||
        sqlite3_bind_text(statement, 3, csrf_out, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int64(statement, 4, now_ms) != SQLITE_OK ||
        sqlite3_bind_int64(statement, 5, now_ms + SESSION_IDLE_TIMEOUT_MS) != SQLITE_OK ||
        sqlite3_bind_text(statement, 6, remote_address,
                          session_cut_length(remote_address, SESSION_REMOTE_ADDRESS_MAX),
                          SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_text(statement, 7, user_agent,
                          session_cut_length(user_agent, SESSION_USER_AGENT_MAX),
                          SQLITE_STATIC) != SQLITE_OK) {
        log_error("binding new session: %s", sqlite3_errmsg(db));
        goto out;
    }
    if (session_step_done(db, statement, "creating session") != 0)
        goto out;
    /* A failed trim leaves one session too many; the login still stands. */
    if (session_trim_user(db, user_id) != 0)
        log_warn("could not trim old sessions of user %lld", (long long)user_id);
    result = 0;
out:
    sqlite3_finalize(statement);
    mbedtls_platform_zeroize(hash, sizeof(hash));
    if (result != 0) {
        mbedtls_platform_zeroize(token_out, SESSION_TOKEN_SIZE);
        mbedtls_platform_zeroize(csrf_out, SESSION_TOKEN_SIZE);
    }
    return result;
}

/* Delete the session whose token hash is hash (any state). */
static int session_delete_hash(sqlite3 *db, const uint8_t hash[SESSION_HASH_BYTES])
{
    sqlite3_stmt *statement = NULL;
    int result = -1;

    if (database_prepare(db, "DELETE FROM sessions WHERE token_hash = ?1", &statement) != 0)
        goto out;
    if (sqlite3_bind_blob(statement, 1, hash, SESSION_HASH_BYTES, SQLITE_STATIC) != SQLITE_OK) {
        log_error("binding session delete: %s", sqlite3_errmsg(db));
        goto out;
    }
    if (session_step_done(db, statement, "deleting session") != 0)
        goto out;
    result = 0;
out:
    sqlite3_finalize(statement);
    return result;
}

/* Slide the idle expiry of a session in use: last_seen_at = now and
 * expires_at = min(now + idle timeout, created_at + absolute lifetime). */
static int session_touch(sqlite3 *db, const uint8_t hash[SESSION_HASH_BYTES], int64_t now_ms,
                         int64_t expires_at)
{
    sqlite3_stmt *statement = NULL;
    int result = -1;

    if (database_prepare(db,
                         "UPDATE sessions SET last_seen_at = ?2, expires_at = ?3 "
                         "WHERE token_hash = ?1",
                         &statement) != 0)
        goto out;
    if (sqlite3_bind_blob(statement, 1, hash, SESSION_HASH_BYTES, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int64(statement, 2, now_ms) != SQLITE_OK ||
        sqlite3_bind_int64(statement, 3, expires_at) != SQLITE_OK) {
        log_error("binding session touch: %s", sqlite3_errmsg(db));
        goto out;
    }
    if (session_step_done(db, statement, "updating session") != 0)
        goto out;
    result = 0;
out:
    sqlite3_finalize(statement);
    return result;
}

/* Copy a text column into out (size bytes); -1 if NULL or too long. */
static int session_copy_text(sqlite3_stmt *statement, int column, char *out, size_t size)
{
    const unsigned char *text = sqlite3_column_text(statement, column);
    int length = sqlite3_column_bytes(statement, column);

    if (text == NULL || length < 0 || (size_t)length >= size)
        return -1;
    memcpy(out, text, (size_t)length);
    out[length] = '\0';
    return 0;
}

enum session_status session_lookup(sqlite3 *db, const char *token, int64_t now_ms,
                                   struct session *session_out)
{
    uint8_t hash[SESSION_HASH_BYTES];
    sqlite3_stmt *statement = NULL;
    enum session_status status = SESSION_ERROR;
    int64_t last_seen_at;
    int64_t absolute_end;
    int rc;

    assert(db != NULL && session_out != NULL);
    memset(session_out, 0, sizeof(*session_out));
    if (!random_bytes_token_wellformed(token))
        return SESSION_NOT_FOUND;
    if (random_bytes_token_hash(token, hash) != 0)
        goto out;
    if (database_prepare(db,
                         "SELECT s.csrf_token, s.created_at, s.last_seen_at, s.expires_at, "
                         "u.id, u.username, u.role "
                         "FROM sessions AS s JOIN users AS u ON u.id = s.user_id "
                         "WHERE s.token_hash = ?1",
                         &statement) != 0)
        goto out;
    if (sqlite3_bind_blob(statement, 1, hash, sizeof(hash), SQLITE_STATIC) != SQLITE_OK) {
        log_error("binding session lookup: %s", sqlite3_errmsg(db));
        goto out;
    }
    rc = sqlite3_step(statement);
    if (rc == SQLITE_DONE) {
        status = SESSION_NOT_FOUND;
        goto out;
    }
    if (rc != SQLITE_ROW) {
        log_error("looking up session: %s", sqlite3_errmsg(db));
        goto out;
    }
    session_out->created_at = sqlite3_column_int64(statement, 1);
    last_seen_at = sqlite3_column_int64(statement, 2);
    session_out->expires_at = sqlite3_column_int64(statement, 3);
    session_out->user.id = sqlite3_column_int64(statement, 4);
    if (session_copy_text(statement, 0, session_out->csrf_token, sizeof(session_out->csrf_token)) !=
            0 ||
        session_copy_text(statement, 5, session_out->user.username,
                          sizeof(session_out->user.username)) != 0 ||
        session_copy_text(statement, 6, session_out->user.role, sizeof(session_out->user.role)) !=
            0) {
        log_error("session of user %lld has malformed columns", (long long)session_out->user.id);
        goto out;
    }
    sqlite3_finalize(statement);
    statement = NULL;

    absolute_end = session_out->created_at + SESSION_ABSOLUTE_LIFETIME_MS;
    if (now_ms >= session_out->expires_at || now_ms >= absolute_end) {
        if (session_delete_hash(db, hash) != 0)
            log_warn("could not delete an expired session");
        status = SESSION_NOT_FOUND;
        goto out;
    }
    if (now_ms - last_seen_at >= SESSION_TOUCH_INTERVAL_MS) {
        int64_t expires_at = now_ms + SESSION_IDLE_TIMEOUT_MS;
        if (expires_at > absolute_end)
            expires_at = absolute_end;
        /* A failed touch only shortens the idle window; the request stands. */
        if (session_touch(db, hash, now_ms, expires_at) == 0)
            session_out->expires_at = expires_at;
        else
            log_warn("could not update session of user %lld", (long long)session_out->user.id);
    }
    status = SESSION_OK;
out:
    sqlite3_finalize(statement);
    mbedtls_platform_zeroize(hash, sizeof(hash));
    if (status != SESSION_OK)
        memset(session_out, 0, sizeof(*session_out));
    return status;
}

bool session_csrf_matches(const struct session *session, const char *candidate)
{
    assert(session != NULL);
    return random_bytes_token_equal(session->csrf_token, candidate);
}

int session_delete(sqlite3 *db, const char *token)
{
    uint8_t hash[SESSION_HASH_BYTES];
    int result = -1;

    assert(db != NULL);
    if (!random_bytes_token_wellformed(token))
        return 0;
    if (random_bytes_token_hash(token, hash) != 0)
        goto out;
    result = session_delete_hash(db, hash);
out:
    mbedtls_platform_zeroize(hash, sizeof(hash));
    return result;
}

int session_delete_for_user(sqlite3 *db, int64_t user_id)
{
    sqlite3_stmt *statement = NULL;
    int result = -1;

    assert(db != NULL);
    if (database_prepare(db, "DELETE FROM sessions WHERE user_id = ?1", &statement) != 0)
        goto out;
    if (sqlite3_bind_int64(statement, 1, user_id) != SQLITE_OK) {
        log_error("binding user id: %s", sqlite3_errmsg(db));
        goto out;
    }
    if (session_step_done(db, statement, "deleting sessions of a user") != 0)
        goto out;
    result = 0;
out:
    sqlite3_finalize(statement);
    return result;
}

/* The public id of a session: hex of the first bytes of SHA-256(hash). */
static int session_public_id(const void *hash, size_t hash_size, char id_out[SESSION_ID_SIZE])
{
    uint8_t digest[SESSION_HASH_BYTES];
    static const char hex[] = "0123456789abcdef";
    int rc;

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    rc = mbedtls_sha256(hash, hash_size, digest, 0);
#else
    rc = mbedtls_sha256_ret(hash, hash_size, digest, 0);
#endif
    if (rc != 0) {
        log_error("SHA-256 failed (%d)", rc);
        id_out[0] = '\0';
        return -1;
    }
    for (int i = 0; i < (SESSION_ID_SIZE - 1) / 2; i++) {
        id_out[2 * i] = hex[digest[i] >> 4];
        id_out[2 * i + 1] = hex[digest[i] & 0x0F];
    }
    id_out[SESSION_ID_SIZE - 1] = '\0';
    return 0;
}

/* Copy a text column into out (size bytes), cut; "" for NULL. */
static void session_copy_cut(sqlite3_stmt *statement, int column, char *out, size_t size)
{
    const unsigned char *text = sqlite3_column_text(statement, column);
    size_t length = text != NULL ? (size_t)session_cut_length((const char *)text, size - 1) : 0;

    if (length > 0)
        memcpy(out, text, length);
    out[length] = '\0';
}

int session_list_for_user(sqlite3 *db, int64_t user_id, const char *current_token, int64_t now_ms,
                          session_info_callback callback, void *data)
{
    uint8_t current[SESSION_HASH_BYTES];
    bool has_current = false;
    sqlite3_stmt *statement = NULL;
    struct session_info info;
    int count = -1, rc;

    assert(db != NULL && callback != NULL);
    if (current_token != NULL && random_bytes_token_wellformed(current_token) &&
        random_bytes_token_hash(current_token, current) == 0)
        has_current = true;
    if (database_prepare(db,
                         "SELECT token_hash, created_at, last_seen_at, expires_at, remote_address, "
                         "user_agent FROM sessions WHERE user_id = ?1 AND expires_at > ?2 "
                         "AND created_at + ?3 > ?2 ORDER BY last_seen_at DESC, created_at DESC",
                         &statement) != 0)
        goto out;
    if (sqlite3_bind_int64(statement, 1, user_id) != SQLITE_OK ||
        sqlite3_bind_int64(statement, 2, now_ms) != SQLITE_OK ||
        sqlite3_bind_int64(statement, 3, SESSION_ABSOLUTE_LIFETIME_MS) != SQLITE_OK) {
        log_error("binding the session list: %s", sqlite3_errmsg(db));
        goto out;
    }
    count = 0;
    while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
        const void *hash = sqlite3_column_blob(statement, 0);
        int hash_size = sqlite3_column_bytes(statement, 0);

        memset(&info, 0, sizeof(info));
        if (hash == NULL || hash_size != SESSION_HASH_BYTES ||
            session_public_id(hash, (size_t)hash_size, info.id) != 0)
            continue;
        info.current = has_current && memcmp(hash, current, SESSION_HASH_BYTES) == 0;
        info.created_at = sqlite3_column_int64(statement, 1);
        info.last_seen_at = sqlite3_column_int64(statement, 2);
        info.expires_at = sqlite3_column_int64(statement, 3);
        session_copy_cut(statement, 4, info.remote_address, sizeof(info.remote_address));
        session_copy_cut(statement, 5, info.user_agent, sizeof(info.user_agent));
        count++;
        if (callback(&info, data) != 0)
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        log_error("listing sessions: %s", sqlite3_errmsg(db));
        count = -1;
    }
out:
    sqlite3_finalize(statement);
    mbedtls_platform_zeroize(current, sizeof(current));
    return count;
}

int session_delete_by_id(sqlite3 *db, int64_t user_id, const char *id)
{
    sqlite3_stmt *statement = NULL;
    uint8_t hash[SESSION_HASH_BYTES];
    char candidate[SESSION_ID_SIZE];
    bool found = false;
    int result = -1, rc;

    assert(db != NULL && id != NULL);
    if (strlen(id) != SESSION_ID_SIZE - 1)
        return 0;
    if (database_prepare(db, "SELECT token_hash FROM sessions WHERE user_id = ?1", &statement) != 0)
        goto out;
    if (sqlite3_bind_int64(statement, 1, user_id) != SQLITE_OK) {
        log_error("binding user id: %s", sqlite3_errmsg(db));
        goto out;
    }
    while (!found && (rc = sqlite3_step(statement)) == SQLITE_ROW) {
        const void *row_hash = sqlite3_column_blob(statement, 0);
        if (row_hash == NULL || sqlite3_column_bytes(statement, 0) != SESSION_HASH_BYTES ||
            session_public_id(row_hash, SESSION_HASH_BYTES, candidate) != 0)
            continue;
        if (strcmp(candidate, id) == 0) {
            memcpy(hash, row_hash, SESSION_HASH_BYTES);
            found = true;
        }
    }
    if (!found && rc != SQLITE_DONE) {
        log_error("finding a session: %s", sqlite3_errmsg(db));
        goto out;
    }
    sqlite3_finalize(statement);
    statement = NULL;
    if (!found) {
        result = 0;
        goto out;
    }
    if (session_delete_hash(db, hash) != 0)
        goto out;
    result = 1;
out:
    sqlite3_finalize(statement);
    mbedtls_platform_zeroize(hash, sizeof(hash));
    return result;
}

int session_delete_others(sqlite3 *db, int64_t user_id, const char *keep_token)
{
    uint8_t keep[SESSION_HASH_BYTES];
    sqlite3_stmt *statement = NULL;
    int result = -1;

    assert(db != NULL);
    memset(keep, 0, sizeof(keep));
    if (keep_token != NULL && random_bytes_token_wellformed(keep_token) &&
        random_bytes_token_hash(keep_token, keep) != 0)
        goto out;
    if (database_prepare(db, "DELETE FROM sessions WHERE user_id = ?1 AND token_hash != ?2",
                         &statement) != 0)
        goto out;
    if (sqlite3_bind_int64(statement, 1, user_id) != SQLITE_OK ||
        sqlite3_bind_blob(statement, 2, keep, sizeof(keep), SQLITE_STATIC) != SQLITE_OK) {
        log_error("binding session delete: %s", sqlite3_errmsg(db));
        goto out;
    }
    if (session_step_done(db, statement, "ending other sessions") != 0)
        goto out;
    result = sqlite3_changes(db);
out:
    sqlite3_finalize(statement);
    mbedtls_platform_zeroize(keep, sizeof(keep));
    return result;
}

int session_purge_expired(sqlite3 *db, int64_t now_ms)
{
    sqlite3_stmt *statement = NULL;
    int result = -1;

    assert(db != NULL);
    if (database_prepare(db, "DELETE FROM sessions WHERE expires_at <= ?1", &statement) != 0)
        goto out;
    if (sqlite3_bind_int64(statement, 1, now_ms) != SQLITE_OK) {
        log_error("binding purge time: %s", sqlite3_errmsg(db));
        goto out;
    }
    if (session_step_done(db, statement, "purging sessions") != 0)
        goto out;
    result = sqlite3_changes(db);
    if (result > 0)
        log_debug("purged %d expired sessions", result);
out:
    sqlite3_finalize(statement);
    return result;
}
