/*
 * users.c - hub accounts in SQLite (see users.h).
 *
 * Called from HTTP handler threads and the CLI, each with its own SQLite
 * connection. This file keeps no state of its own: the users, sessions and
 * user_devices tables are the shared state, and SQLite's locking protects
 * them. Checks that must still hold at the write (first admin, last admin)
 * run inside BEGIN IMMEDIATE, which takes the database's write lock first.
 */
#define LOG_MODULE "accounts"

#include "accounts/users.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#include "accounts/password.h"
#include "common/error_text.h"
#include "common/log.h"
#include "storage/database.h"

/* Room for any stored argon2 encoding, including stronger future parameters. */
#define USERS_STORED_HASH_SIZE 256

/* Run a parameterless statement that returns no rows (BEGIN, COMMIT, ...). */
static int users_run(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *statement = NULL;
    int result = -1;
    int rc;

    if (database_prepare(db, sql, &statement) != 0)
        goto out;
    rc = sqlite3_step(statement);
    if (rc != SQLITE_DONE) {
        log_error("\"%s\": %s", sql, sqlite3_errmsg(db));
        goto out;
    }
    result = 0;
out:
    sqlite3_finalize(statement);
    return result;
}

/* Start a write transaction (taking the write lock now, waiting up to the
 * busy timeout). Sets *began so the caller knows to roll back on failure. */
static int users_begin(sqlite3 *db, bool *began)
{
    *began = false;
    if (users_run(db, "BEGIN IMMEDIATE") != 0)
        return -1;
    *began = true;
    return 0;
}

/* Roll back a transaction started by users_begin() after a failure; errors
 * are logged only (SQLite may already have rolled back on its own). */
static void users_rollback(sqlite3 *db, bool began)
{
    if (!began || sqlite3_get_autocommit(db))
        return;
    if (users_run(db, "ROLLBACK") != 0)
        log_warn("rollback failed");
}

/* Copy text column column of the current row into out (size bytes).
 * Returns 0, or -1 if it is NULL or does not fit. */
static int users_copy_text(sqlite3_stmt *statement, int column, char *out, size_t size)
{
    const unsigned char *text = sqlite3_column_text(statement, column);
    int length = sqlite3_column_bytes(statement, column);

    if (text == NULL || length < 0 || (size_t)length >= size)
        return -1;
    memcpy(out, text, (size_t)length);
    out[length] = '\0';
    return 0;
}

/* Fill *user from columns id, username, role starting at column first. */
static int users_read_row(sqlite3_stmt *statement, int first, struct user *user)
{
    memset(user, 0, sizeof(*user));
    user->id = sqlite3_column_int64(statement, first);
    if (users_copy_text(statement, first + 1, user->username, sizeof(user->username)) != 0 ||
        users_copy_text(statement, first + 2, user->role, sizeof(user->role)) != 0) {
        log_error("users row %lld has a malformed username or role", (long long)user->id);
        return -1;
    }
    return 0;
}

bool users_username_valid(const char *username)
{
    size_t length;

    if (username == NULL)
        return false;
    length = strnlen(username, USERS_USERNAME_MAX + 1);
    if (length < 1 || length > USERS_USERNAME_MAX)
        return false;
    for (size_t i = 0; i < length; i++) {
        char c = username[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '@' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

bool users_role_valid(const char *role)
{
    return role != NULL &&
           (strcmp(role, USERS_ROLE_ADMIN) == 0 || strcmp(role, USERS_ROLE_VIEWER) == 0);
}

bool users_is_admin(const struct user *user)
{
    assert(user != NULL);
    return strcmp(user->role, USERS_ROLE_ADMIN) == 0;
}

/* Validate a new account's fields and hash its password into hash_out
 * (PASSWORD_HASH_SIZE bytes). Reason into error on failure. */
static enum users_status users_prepare_account(const char *username, const char *password,
                                               const char *role, char *hash_out, char *error,
                                               size_t error_size)
{
    enum password_policy policy;

    if (!users_username_valid(username)) {
        error_text_set(error, error_size,
                       "username must be 1-64 characters of A-Z a-z 0-9 . _ @ -");
        return USERS_INVALID_USERNAME;
    }
    if (!users_role_valid(role)) {
        error_text_set(error, error_size, "role must be \"admin\" or \"viewer\"");
        return USERS_INVALID_ROLE;
    }
    policy = password_policy_check(password);
    if (policy != PASSWORD_POLICY_OK) {
        error_text_set(error, error_size, "%s", password_policy_message(policy));
        return USERS_INVALID_PASSWORD;
    }
    if (password_hash(password, hash_out, PASSWORD_HASH_SIZE) != 0) {
        error_text_set(error, error_size, "could not hash the password");
        return USERS_ERROR;
    }
    return USERS_OK;
}

/* INSERT one user row. USERS_OK with *id_out, USERS_USERNAME_TAKEN or USERS_ERROR. */
static enum users_status users_insert(sqlite3 *db, const char *username, const char *hash,
                                      const char *role, int64_t *id_out, char *error,
                                      size_t error_size)
{
    sqlite3_stmt *statement = NULL;
    enum users_status status = USERS_ERROR;
    int64_t now = database_now_ms();
    int rc;

    if (database_prepare(
            db,
            "INSERT INTO users (username, password_hash, role, created_at, updated_at) "
            "VALUES (?1, ?2, ?3, ?4, ?4)",
            &statement) != 0)
        goto out;
    if (sqlite3_bind_text(statement, 1, username, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_text(statement, 2, hash, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_text(statement, 3, role, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int64(statement, 4, now) != SQLITE_OK) {
        log_error("binding user insert: %s", sqlite3_errmsg(db));
        goto out;
    }
    rc = sqlite3_step(statement);
    if (rc == SQLITE_DONE) {
        if (id_out != NULL)
            *id_out = sqlite3_last_insert_rowid(db);
        status = USERS_OK;
    } else if (sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_UNIQUE) {
        status = USERS_USERNAME_TAKEN;
    } else {
        log_error("inserting user: %s", sqlite3_errmsg(db));
    }
out:
    if (status == USERS_USERNAME_TAKEN)
        error_text_set(error, error_size, "username is already taken");
    else if (status == USERS_ERROR)
        error_text_set(error, error_size, "database error");
    sqlite3_finalize(statement);
    return status;
}

enum users_status users_create(sqlite3 *db, const char *username, const char *password,
                               const char *role, int64_t *id_out, char *error, size_t error_size)
{
    char hash[PASSWORD_HASH_SIZE];
    enum users_status status;

    assert(db != NULL);
    status = users_prepare_account(username, password, role, hash, error, error_size);
    if (status == USERS_OK)
        status = users_insert(db, username, hash, role, id_out, error, error_size);
    if (status == USERS_OK)
        log_info("created %s account \"%s\"", role, username);
    mbedtls_platform_zeroize(hash, sizeof(hash));
    return status;
}

/* Run a single-value COUNT query; -1 on error (logged). */
static int64_t users_count_query(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *statement = NULL;
    int64_t count = -1;

    assert(db != NULL);
    if (database_prepare(db, sql, &statement) != 0)
        goto out;
    if (sqlite3_step(statement) != SQLITE_ROW) {
        log_error("\"%s\": %s", sql, sqlite3_errmsg(db));
        goto out;
    }
    count = sqlite3_column_int64(statement, 0);
out:
    sqlite3_finalize(statement);
    return count;
}

int64_t users_count(sqlite3 *db)
{
    return users_count_query(db, "SELECT count(*) FROM users");
}

int64_t users_count_admins(sqlite3 *db)
{
    return users_count_query(db, "SELECT count(*) FROM users WHERE role = 'admin'");
}

enum users_status users_create_first_admin(sqlite3 *db, const char *username, const char *password,
                                           int64_t *id_out, char *error, size_t error_size)
{
    char hash[PASSWORD_HASH_SIZE];
    enum users_status status;
    bool began = false;
    int64_t admins;

    assert(db != NULL);
    /* Cheap early answer so a finished setup costs no argon2 time; the
     * authoritative check is repeated inside the transaction below. */
    admins = users_count_admins(db);
    if (admins != 0) {
        status = admins < 0 ? USERS_ERROR : USERS_ALREADY_SET_UP;
        error_text_set(error, error_size, "%s",
                       admins < 0 ? "database error" : "an administrator already exists");
        return status;
    }
    status = users_prepare_account(username, password, USERS_ROLE_ADMIN, hash, error, error_size);
    if (status != USERS_OK)
        goto out;

    status = USERS_ERROR;
    if (users_begin(db, &began) != 0) {
        error_text_set(error, error_size, "database busy or failing");
        goto out;
    }
    admins = users_count_admins(db);
    if (admins != 0) {
        status = admins < 0 ? USERS_ERROR : USERS_ALREADY_SET_UP;
        error_text_set(error, error_size, "%s",
                       admins < 0 ? "database error" : "an administrator already exists");
        goto out;
    }
    status = users_insert(db, username, hash, USERS_ROLE_ADMIN, id_out, error, error_size);
    if (status != USERS_OK)
        goto out;
    if (users_run(db, "COMMIT") != 0) {
        status = USERS_ERROR;
        error_text_set(error, error_size, "database error");
        goto out;
    }
    log_info("created first admin account \"%s\"", username);
out:
    if (status != USERS_OK)
        users_rollback(db, began);
    mbedtls_platform_zeroize(hash, sizeof(hash));
    return status;
}

/* Fetch id, username, role and password hash for a name. USERS_OK,
 * USERS_NOT_FOUND or USERS_ERROR; hash_out holds USERS_STORED_HASH_SIZE. */
static enum users_status users_load_credentials(sqlite3 *db, const char *username,
                                                struct user *user_out, char *hash_out)
{
    sqlite3_stmt *statement = NULL;
    enum users_status status = USERS_ERROR;
    int rc;

    if (database_prepare(db,
                         "SELECT id, username, role, password_hash FROM users WHERE username = ?1",
                         &statement) != 0)
        goto out;
    if (sqlite3_bind_text(statement, 1, username, -1, SQLITE_STATIC) != SQLITE_OK) {
        log_error("binding username: %s", sqlite3_errmsg(db));
        goto out;
    }
    rc = sqlite3_step(statement);
    if (rc == SQLITE_DONE) {
        status = USERS_NOT_FOUND;
        goto out;
    }
    if (rc != SQLITE_ROW) {
        log_error("looking up user: %s", sqlite3_errmsg(db));
        goto out;
    }
    if (users_read_row(statement, 0, user_out) != 0)
        goto out;
    if (users_copy_text(statement, 3, hash_out, USERS_STORED_HASH_SIZE) != 0) {
        log_error("user %lld has a malformed password hash", (long long)user_out->id);
        goto out;
    }
    status = USERS_OK;
out:
    sqlite3_finalize(statement);
    return status;
}

enum users_status users_authenticate(sqlite3 *db, const char *username, const char *password,
                                     struct user *user_out)
{
    char stored[USERS_STORED_HASH_SIZE];
    struct user found;
    enum users_status status;

    assert(db != NULL && user_out != NULL);
    memset(user_out, 0, sizeof(*user_out));
    if (password == NULL)
        password = "";
    if (!users_username_valid(username)) {
        password_verify_dummy(password);
        return USERS_BAD_CREDENTIALS;
    }

    /* The statement is finalized before the slow verification so no read
     * transaction stays open during it. */
    status = users_load_credentials(db, username, &found, stored);
    if (status == USERS_NOT_FOUND) {
        password_verify_dummy(password);
        status = USERS_BAD_CREDENTIALS;
        goto out;
    }
    if (status != USERS_OK)
        goto out;
    switch (password_verify(stored, password)) {
    case PASSWORD_MATCH:
        *user_out = found;
        status = USERS_OK;
        break;
    case PASSWORD_MISMATCH:
        status = USERS_BAD_CREDENTIALS;
        break;
    case PASSWORD_ERROR:
        log_error("stored password hash of user %lld cannot be verified", (long long)found.id);
        status = USERS_ERROR;
        break;
    }
out:
    mbedtls_platform_zeroize(stored, sizeof(stored));
    return status;
}

/* Shared body of the single-user lookups: sql selects id, username, role
 * with one parameter ?1, bound to name if it is not NULL, else to id. */
static enum users_status users_find(sqlite3 *db, const char *sql, int64_t id, const char *name,
                                    struct user *user_out)
{
    sqlite3_stmt *statement = NULL;
    enum users_status status = USERS_ERROR;
    int rc;

    assert(db != NULL && user_out != NULL);
    memset(user_out, 0, sizeof(*user_out));
    if (database_prepare(db, sql, &statement) != 0)
        goto out;
    rc = name != NULL ? sqlite3_bind_text(statement, 1, name, -1, SQLITE_STATIC)
                      : sqlite3_bind_int64(statement, 1, id);
    if (rc != SQLITE_OK) {
        log_error("binding user lookup: %s", sqlite3_errmsg(db));
        goto out;
    }
    rc = sqlite3_step(statement);
    if (rc == SQLITE_DONE) {
        status = USERS_NOT_FOUND;
        goto out;
    }
    if (rc != SQLITE_ROW) {
        log_error("looking up user: %s", sqlite3_errmsg(db));
        goto out;
    }
    if (users_read_row(statement, 0, user_out) != 0)
        goto out;
    status = USERS_OK;
out:
    sqlite3_finalize(statement);
    return status;
}

enum users_status users_find_by_id(sqlite3 *db, int64_t id, struct user *user_out)
{
    return users_find(db, "SELECT id, username, role FROM users WHERE id = ?1", id, NULL, user_out);
}

enum users_status users_find_by_username(sqlite3 *db, const char *username, struct user *user_out)
{
    if (!users_username_valid(username)) {
        assert(user_out != NULL);
        memset(user_out, 0, sizeof(*user_out));
        return USERS_NOT_FOUND;
    }
    return users_find(db, "SELECT id, username, role FROM users WHERE username = ?1", 0, username,
                      user_out);
}

enum users_status users_list(sqlite3 *db, users_list_callback callback, void *context)
{
    sqlite3_stmt *statement = NULL;
    enum users_status status = USERS_ERROR;
    struct user user;
    int rc;

    assert(db != NULL && callback != NULL);
    if (database_prepare(db, "SELECT id, username, role FROM users ORDER BY id", &statement) != 0)
        goto out;
    while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
        if (users_read_row(statement, 0, &user) != 0)
            goto out;
        if (callback(&user, context) != 0)
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        log_error("listing users: %s", sqlite3_errmsg(db));
        goto out;
    }
    status = USERS_OK;
out:
    sqlite3_finalize(statement);
    return status;
}

/* Run a statement whose only parameter ?1 is user_id and which returns no
 * rows; *changes_out (may be NULL) gets the number of rows changed. */
static int users_run_for_user(sqlite3 *db, const char *sql, int64_t user_id, int *changes_out)
{
    sqlite3_stmt *statement = NULL;
    int result = -1;

    if (database_prepare(db, sql, &statement) != 0)
        goto out;
    if (sqlite3_bind_int64(statement, 1, user_id) != SQLITE_OK) {
        log_error("binding user id: %s", sqlite3_errmsg(db));
        goto out;
    }
    if (sqlite3_step(statement) != SQLITE_DONE) {
        log_error("\"%s\": %s", sql, sqlite3_errmsg(db));
        goto out;
    }
    if (changes_out != NULL)
        *changes_out = sqlite3_changes(db);
    result = 0;
out:
    sqlite3_finalize(statement);
    return result;
}

/* USERS_LAST_ADMIN when user is the only administrator (removing or
 * demoting them would leave the hub without one), USERS_ERROR when the count
 * cannot be read, else USERS_OK. Runs inside the caller's transaction. */
static enum users_status users_check_not_last_admin(sqlite3 *db, const struct user *user)
{
    int64_t admins;

    if (!users_is_admin(user))
        return USERS_OK;
    admins = users_count_admins(db);
    if (admins < 0)
        return USERS_ERROR;
    return admins <= 1 ? USERS_LAST_ADMIN : USERS_OK;
}

enum users_status users_delete(sqlite3 *db, int64_t user_id)
{
    enum users_status status = USERS_ERROR;
    struct user user;
    bool began = false;

    assert(db != NULL);
    if (users_begin(db, &began) != 0)
        goto out;
    status = users_find_by_id(db, user_id, &user);
    if (status != USERS_OK)
        goto out;
    status = users_check_not_last_admin(db, &user);
    if (status != USERS_OK)
        goto out;
    status = USERS_ERROR;
    /* Foreign keys cascade too; deleting explicitly keeps this correct even
     * on a connection opened without PRAGMA foreign_keys. */
    if (users_run_for_user(db, "DELETE FROM sessions WHERE user_id = ?1", user_id, NULL) != 0 ||
        users_run_for_user(db, "DELETE FROM user_devices WHERE user_id = ?1", user_id, NULL) != 0 ||
        users_run_for_user(db, "DELETE FROM users WHERE id = ?1", user_id, NULL) != 0)
        goto out;
    if (users_run(db, "COMMIT") != 0)
        goto out;
    status = USERS_OK;
    log_info("deleted %s account \"%s\"", user.role, user.username);
out:
    if (status != USERS_OK)
        users_rollback(db, began);
    return status;
}

/* UPDATE the hash of user_id inside the caller's transaction. */
static enum users_status users_update_hash(sqlite3 *db, int64_t user_id, const char *hash)
{
    sqlite3_stmt *statement = NULL;
    enum users_status status = USERS_ERROR;

    if (database_prepare(db, "UPDATE users SET password_hash = ?1, updated_at = ?2 WHERE id = ?3",
                         &statement) != 0)
        goto out;
    if (sqlite3_bind_text(statement, 1, hash, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int64(statement, 2, database_now_ms()) != SQLITE_OK ||
        sqlite3_bind_int64(statement, 3, user_id) != SQLITE_OK) {
        log_error("binding password update: %s", sqlite3_errmsg(db));
        goto out;
    }
    if (sqlite3_step(statement) != SQLITE_DONE) {
        log_error("updating password: %s", sqlite3_errmsg(db));
        goto out;
    }
    status = sqlite3_changes(db) == 1 ? USERS_OK : USERS_NOT_FOUND;
out:
    sqlite3_finalize(statement);
    return status;
}

enum users_status users_set_password(sqlite3 *db, int64_t user_id, const char *password,
                                     char *error, size_t error_size)
{
    char hash[PASSWORD_HASH_SIZE];
    enum password_policy policy;
    enum users_status status = USERS_ERROR;
    bool began = false;

    assert(db != NULL);
    policy = password_policy_check(password);
    if (policy != PASSWORD_POLICY_OK) {
        error_text_set(error, error_size, "%s", password_policy_message(policy));
        status = USERS_INVALID_PASSWORD;
        goto out;
    }
    if (password_hash(password, hash, sizeof(hash)) != 0) {
        error_text_set(error, error_size, "could not hash the password");
        goto out;
    }
    if (users_begin(db, &began) != 0) {
        error_text_set(error, error_size, "database busy or failing");
        goto out;
    }
    status = users_update_hash(db, user_id, hash);
    if (status == USERS_NOT_FOUND)
        error_text_set(error, error_size, "no such user");
    if (status != USERS_OK)
        goto out;
    status = USERS_ERROR;
    if (users_run_for_user(db, "DELETE FROM sessions WHERE user_id = ?1", user_id, NULL) != 0 ||
        users_run(db, "COMMIT") != 0) {
        error_text_set(error, error_size, "database error");
        goto out;
    }
    status = USERS_OK;
    log_info("password of user %lld changed; their sessions were ended", (long long)user_id);
out:
    if (status != USERS_OK)
        users_rollback(db, began);
    mbedtls_platform_zeroize(hash, sizeof(hash));
    return status;
}

enum users_status users_set_role(sqlite3 *db, int64_t user_id, const char *role)
{
    enum users_status status = USERS_ERROR;
    sqlite3_stmt *statement = NULL;
    struct user user;
    bool began = false;

    assert(db != NULL);
    if (!users_role_valid(role))
        return USERS_INVALID_ROLE;
    if (users_begin(db, &began) != 0)
        goto out;
    status = users_find_by_id(db, user_id, &user);
    if (status != USERS_OK)
        goto out;
    status = USERS_ERROR;
    if (strcmp(user.role, role) == 0) {
        status = USERS_OK;
        goto out;
    }
    status = users_check_not_last_admin(db, &user);
    if (status != USERS_OK)
        goto out;
    status = USERS_ERROR;
    if (database_prepare(db, "UPDATE users SET role = ?1, updated_at = ?2 WHERE id = ?3",
                         &statement) != 0)
        goto out;
    if (sqlite3_bind_text(statement, 1, role, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int64(statement, 2, database_now_ms()) != SQLITE_OK ||
        sqlite3_bind_int64(statement, 3, user_id) != SQLITE_OK ||
        sqlite3_step(statement) != SQLITE_DONE) {
        log_error("changing the role of user %lld: %s", (long long)user_id, sqlite3_errmsg(db));
        goto out;
    }
    if (users_run(db, "COMMIT") != 0)
        goto out;
    status = USERS_OK;
    log_info("user \"%s\" is now %s", user.username, role);
out:
    sqlite3_finalize(statement);
    if (status != USERS_OK)
        users_rollback(db, began);
    return status;
}
