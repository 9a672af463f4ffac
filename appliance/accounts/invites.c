/*
 * invites.c - one-time invites (see invites.h).
 *
 * Called from HTTP handler threads, each with its own SQLite connection; no
 * state of its own. Using an invite claims it first with one conditional
 * UPDATE (so of two racing uses exactly one wins), then creates the account
 * outside the write lock (argon2id is slow) and gives the claim back if the
 * account is refused.
 */
#define LOG_MODULE "accounts"

#include "accounts/invites.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#include "accounts/password.h"
#include "common/error_text.h"
#include "accounts/random_bytes.h"
#include "common/log.h"
#include "storage/database.h"

#define INVITES_HASH_BYTES RANDOM_BYTES_TOKEN_HASH

/* Run sql with ?1 and ?2 bound to integers a and b (b unused if the
 * statement has one parameter). Returns the rows changed, or -1. */
static int invites_run(sqlite3 *db, const char *sql, int64_t a, int64_t b)
{
    sqlite3_stmt *statement = NULL;
    int changed = -1;

    if (database_prepare(db, sql, &statement) != 0)
        goto out;
    if (sqlite3_bind_int64(statement, 1, a) != SQLITE_OK ||
        (sqlite3_bind_parameter_count(statement) >= 2 &&
         sqlite3_bind_int64(statement, 2, b) != SQLITE_OK) ||
        sqlite3_step(statement) != SQLITE_DONE) {
        log_error("invites: %s", sqlite3_errmsg(db));
        goto out;
    }
    changed = sqlite3_changes(db);
out:
    sqlite3_finalize(statement);
    return changed;
}

/* INSERT the invite row and its grants inside the caller's transaction. */
static enum invites_status invites_insert(sqlite3 *db, const uint8_t *hash, int64_t created_by,
                                          const char *role, const struct users_grant *grants,
                                          size_t count, const char *note, int64_t now_ms,
                                          int64_t *id)
{
    sqlite3_stmt *statement = NULL;
    enum invites_status status = INVITES_ERROR;

    if (database_prepare(db,
                         "INSERT INTO invites (token_hash, role, note, created_by, created_at, "
                         "expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                         &statement) != 0)
        goto out;
    if (sqlite3_bind_blob(statement, 1, hash, INVITES_HASH_BYTES, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_text(statement, 2, role, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_text(statement, 3, note, -1, SQLITE_STATIC) != SQLITE_OK ||
        (created_by > 0 ? sqlite3_bind_int64(statement, 4, created_by)
                        : sqlite3_bind_null(statement, 4)) != SQLITE_OK ||
        sqlite3_bind_int64(statement, 5, now_ms) != SQLITE_OK ||
        sqlite3_bind_int64(statement, 6, now_ms + INVITES_LIFETIME_MS) != SQLITE_OK ||
        sqlite3_step(statement) != SQLITE_DONE) {
        log_error("inserting an invite: %s", sqlite3_errmsg(db));
        goto out;
    }
    *id = sqlite3_last_insert_rowid(db);
    sqlite3_finalize(statement);
    statement = NULL;
    if (database_prepare(db,
                         "INSERT OR REPLACE INTO invite_grants "
                         "(invite_id, device_id, live, recordings, export, talk) "
                         "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                         &statement) != 0)
        goto out;
    for (size_t i = 0; i < count; i++) {
        unsigned rights = grants[i].rights;
        if (rights == 0)
            continue;
        sqlite3_reset(statement);
        if (sqlite3_bind_int64(statement, 1, *id) != SQLITE_OK ||
            sqlite3_bind_text(statement, 2, grants[i].device_id, -1, SQLITE_STATIC) != SQLITE_OK ||
            sqlite3_bind_int(statement, 3, (rights & USERS_RIGHT_LIVE) != 0) != SQLITE_OK ||
            sqlite3_bind_int(statement, 4, (rights & USERS_RIGHT_RECORDINGS) != 0) != SQLITE_OK ||
            sqlite3_bind_int(statement, 5, (rights & USERS_RIGHT_EXPORT) != 0) != SQLITE_OK ||
            sqlite3_bind_int(statement, 6, (rights & USERS_RIGHT_TALK) != 0) != SQLITE_OK ||
            sqlite3_step(statement) != SQLITE_DONE) {
            log_error("inserting an invite's grant: %s", sqlite3_errmsg(db));
            goto out;
        }
    }
    status = INVITES_OK;
out:
    sqlite3_finalize(statement);
    return status;
}

enum invites_status invites_create(sqlite3 *db, int64_t created_by, const char *role,
                                   const struct users_grant *grants, size_t count, const char *note,
                                   int64_t now_ms, char *token_out, int64_t *id_out)
{
    uint8_t hash[INVITES_HASH_BYTES];
    enum invites_status status = INVITES_INVALID;
    int64_t id = 0;

    assert(db != NULL && token_out != NULL && (count == 0 || grants != NULL));
    token_out[0] = '\0';
    if (!users_role_valid(role) || note == NULL || strlen(note) > INVITES_NOTE_MAX ||
        count > USERS_GRANTS_MAX)
        return INVITES_INVALID;
    for (size_t i = 0; i < count; i++)
        if (!users_device_exists(db, grants[i].device_id))
            return INVITES_INVALID;
    if (random_bytes_token(token_out, INVITES_TOKEN_SIZE) != 0 ||
        random_bytes_token_hash(token_out, hash) != 0)
        return INVITES_ERROR;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        log_error("creating an invite: %s", sqlite3_errmsg(db));
        status = INVITES_ERROR;
        goto out;
    }
    status = invites_insert(db, hash, created_by, role, grants, count, note, now_ms, &id);
    if (status == INVITES_OK && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        status = INVITES_ERROR;
    if (status != INVITES_OK && !sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
out:
    if (status != INVITES_OK)
        mbedtls_platform_zeroize(token_out, INVITES_TOKEN_SIZE);
    else if (id_out != NULL)
        *id_out = id;
    return status;
}

/* A column as int64, 0 for NULL. */
static int64_t invites_column(sqlite3_stmt *statement, int column)
{
    return sqlite3_column_type(statement, column) == SQLITE_NULL
               ? 0
               : sqlite3_column_int64(statement, column);
}

enum invites_status invites_list(sqlite3 *db, invites_callback callback, void *context)
{
    sqlite3_stmt *statement = NULL;
    enum invites_status status = INVITES_ERROR;
    struct invite invite;
    int rc;

    if (database_prepare(db,
                         "SELECT id, role, note, created_by, created_at, expires_at, used_at, "
                         "used_by, withdrawn_at FROM invites ORDER BY id DESC",
                         &statement) != 0)
        goto out;
    while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
        const unsigned char *role = sqlite3_column_text(statement, 1);
        const unsigned char *note = sqlite3_column_text(statement, 2);
        memset(&invite, 0, sizeof(invite));
        invite.id = sqlite3_column_int64(statement, 0);
        snprintf(invite.role, sizeof(invite.role), "%s", role ? (const char *)role : "");
        snprintf(invite.note, sizeof(invite.note), "%s", note ? (const char *)note : "");
        invite.created_by = invites_column(statement, 3);
        invite.created_at = invites_column(statement, 4);
        invite.expires_at = invites_column(statement, 5);
        invite.used_at = invites_column(statement, 6);
        invite.used_by = invites_column(statement, 7);
        invite.withdrawn_at = invites_column(statement, 8);
        if (callback(&invite, context) != 0)
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        log_error("listing invites: %s", sqlite3_errmsg(db));
        goto out;
    }
    status = INVITES_OK;
out:
    sqlite3_finalize(statement);
    return status;
}

enum invites_status invites_list_grants(sqlite3 *db, int64_t invite_id,
                                        users_grant_callback callback, void *context)
{
    sqlite3_stmt *statement = NULL;
    enum invites_status status = INVITES_ERROR;
    struct users_grant grant;
    int rc;

    if (database_prepare(db,
                         "SELECT device_id, live, recordings, export, talk FROM invite_grants "
                         "WHERE invite_id = ?1 ORDER BY device_id",
                         &statement) != 0 ||
        sqlite3_bind_int64(statement, 1, invite_id) != SQLITE_OK)
        goto out;
    while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
        const unsigned char *device_id = sqlite3_column_text(statement, 0);
        memset(&grant, 0, sizeof(grant));
        snprintf(grant.device_id, sizeof(grant.device_id), "%s",
                 device_id ? (const char *)device_id : "");
        grant.rights = (sqlite3_column_int(statement, 1) ? USERS_RIGHT_LIVE : 0) |
                       (sqlite3_column_int(statement, 2) ? USERS_RIGHT_RECORDINGS : 0) |
                       (sqlite3_column_int(statement, 3) ? USERS_RIGHT_EXPORT : 0) |
                       (sqlite3_column_int(statement, 4) ? USERS_RIGHT_TALK : 0);
        if (callback(&grant, context) != 0)
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        log_error("listing an invite's grants: %s", sqlite3_errmsg(db));
        goto out;
    }
    status = INVITES_OK;
out:
    sqlite3_finalize(statement);
    return status;
}

/* The state of invite id at now_ms: INVITES_OK if usable, else why not. */
static enum invites_status invites_state(sqlite3 *db, const uint8_t *hash, int64_t now_ms,
                                         int64_t *id_out, char *role, size_t role_size)
{
    sqlite3_stmt *statement = NULL;
    enum invites_status status = INVITES_ERROR;
    int rc;

    if (database_prepare(db,
                         "SELECT id, role, used_at, withdrawn_at, expires_at FROM invites "
                         "WHERE token_hash = ?1",
                         &statement) != 0 ||
        sqlite3_bind_blob(statement, 1, hash, INVITES_HASH_BYTES, SQLITE_STATIC) != SQLITE_OK)
        goto out;
    rc = sqlite3_step(statement);
    if (rc == SQLITE_DONE) {
        status = INVITES_UNKNOWN;
    } else if (rc == SQLITE_ROW) {
        const unsigned char *text = sqlite3_column_text(statement, 1);
        *id_out = sqlite3_column_int64(statement, 0);
        snprintf(role, role_size, "%s", text ? (const char *)text : "");
        if (sqlite3_column_type(statement, 2) != SQLITE_NULL)
            status = INVITES_USED;
        else if (sqlite3_column_type(statement, 3) != SQLITE_NULL)
            status = INVITES_WITHDRAWN;
        else if (sqlite3_column_int64(statement, 4) <= now_ms)
            status = INVITES_EXPIRED;
        else
            status = INVITES_OK;
    } else {
        log_error("looking up an invite: %s", sqlite3_errmsg(db));
    }
out:
    sqlite3_finalize(statement);
    return status;
}

enum invites_status invites_withdraw(sqlite3 *db, int64_t id, int64_t now_ms)
{
    sqlite3_stmt *statement = NULL;
    enum invites_status status = INVITES_ERROR;
    int changed = invites_run(db,
                              "UPDATE invites SET withdrawn_at = coalesce(withdrawn_at, ?2) "
                              "WHERE id = ?1 AND used_at IS NULL",
                              id, now_ms);

    if (changed != 0)
        return changed == 1 ? INVITES_OK : INVITES_ERROR;
    /* Nothing changed: no such invite, or a used one. */
    if (database_prepare(db, "SELECT 1 FROM invites WHERE id = ?1", &statement) == 0 &&
        sqlite3_bind_int64(statement, 1, id) == SQLITE_OK) {
        int rc = sqlite3_step(statement);
        status = rc == SQLITE_ROW ? INVITES_USED : rc == SQLITE_DONE ? INVITES_UNKNOWN : status;
    }
    sqlite3_finalize(statement);
    return status;
}

/* Check username and password the way users_create() will, before the
 * invite is claimed. USERS_OK or why not (error gets a human reason). */
static enum users_status invites_check_account(sqlite3 *db, const char *username,
                                               const char *password, char *error, size_t error_size)
{
    struct user existing;
    enum password_policy policy;

    if (!users_username_valid(username)) {
        error_text_set(error, error_size,
                       "username must be 1-64 characters of A-Z a-z 0-9 . _ @ -");
        return USERS_INVALID_USERNAME;
    }
    policy = password_policy_check(password);
    if (policy != PASSWORD_POLICY_OK) {
        error_text_set(error, error_size, "%s", password_policy_message(policy));
        return USERS_INVALID_PASSWORD;
    }
    switch (users_find_by_username(db, username, &existing)) {
    case USERS_NOT_FOUND:
        return USERS_OK;
    case USERS_OK:
        error_text_set(error, error_size, "username is already taken");
        return USERS_USERNAME_TAKEN;
    default:
        return USERS_ERROR;
    }
}

enum invites_status invites_accept(sqlite3 *db, const char *token, const char *username,
                                   const char *password, int64_t now_ms, struct user *user_out,
                                   enum users_status *account_status, char *error,
                                   size_t error_size)
{
    uint8_t hash[INVITES_HASH_BYTES];
    enum invites_status status;
    enum users_status created;
    char role[8] = "";
    int64_t id = 0, user_id = 0;

    assert(db != NULL && user_out != NULL && account_status != NULL);
    *account_status = USERS_OK;
    if (!random_bytes_token_wellformed(token))
        return INVITES_UNKNOWN;
    if (random_bytes_token_hash(token, hash) != 0)
        return INVITES_ERROR;
    status = invites_state(db, hash, now_ms, &id, role, sizeof(role));
    if (status != INVITES_OK)
        return status;
    *account_status = invites_check_account(db, username, password, error, error_size);
    if (*account_status != USERS_OK)
        return *account_status == USERS_ERROR ? INVITES_ERROR : INVITES_ACCOUNT;
    /* Claim it: of two racing uses, one changes the row. */
    if (invites_run(db,
                    "UPDATE invites SET used_at = ?2 WHERE id = ?1 AND used_at IS NULL AND "
                    "withdrawn_at IS NULL AND expires_at > ?2",
                    id, now_ms) != 1) {
        status = invites_state(db, hash, now_ms, &id, role, sizeof(role));
        return status == INVITES_OK ? INVITES_USED : status;
    }
    created = users_create(db, username, password, role, &user_id, error, error_size);
    if (created != USERS_OK) {
        invites_run(db, "UPDATE invites SET used_at = NULL WHERE id = ?1", id, 0);
        *account_status = created;
        return created == USERS_ERROR ? INVITES_ERROR : INVITES_ACCOUNT;
    }
    if (invites_run(db,
                    "INSERT INTO user_devices (user_id, device_id, live, recordings, export, talk) "
                    "SELECT ?2, device_id, live, recordings, export, talk FROM invite_grants "
                    "WHERE invite_id = ?1 AND (live OR recordings OR export OR talk)",
                    id, user_id) < 0 ||
        invites_run(db, "UPDATE invites SET used_by = ?2 WHERE id = ?1", id, user_id) < 0)
        log_error("invite %lld: the account was made but its grants were not all copied",
                  (long long)id);
    return users_find_by_id(db, user_id, user_out) == USERS_OK ? INVITES_OK : INVITES_ERROR;
}

const char *invites_status_message(enum invites_status status)
{
    switch (status) {
    case INVITES_UNKNOWN:
        return "this invite link is not valid";
    case INVITES_USED:
        return "this invite link was already used";
    case INVITES_EXPIRED:
        return "this invite link has expired; ask for a new one";
    case INVITES_WITHDRAWN:
        return "this invite link was withdrawn";
    default:
        return "the invite could not be used";
    }
}
