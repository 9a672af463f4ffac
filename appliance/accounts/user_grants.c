/*
 * user_grants.c - the four rights a viewer's doorbell grant carries (live,
 * recordings, export, talk: the user_devices columns): reading a user's
 * rights on a doorbell (every route, WebSocket and the authority thread ask
 * this), listing a user's grants, replacing them all at once (the admin's
 * Users page, invites) and adding or taking single rights (the CLI). See
 * users.h.
 *
 * Called from HTTP handler threads, the authority thread and the CLI, each
 * with its own SQLite connection. No state of its own: the users, devices
 * and user_devices tables are the shared state. A grant left with no right
 * is deleted: a grant with no right is no grant.
 */
#define LOG_MODULE "accounts"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "accounts/users.h"
#include "common/log.h"
#include "storage/database.h"

/* The rights bits of columns live, recordings, export, talk starting at
 * column first of a row. */
static unsigned user_grants_row_rights(sqlite3_stmt *statement, int first)
{
    unsigned rights = 0;

    if (sqlite3_column_int(statement, first) != 0)
        rights |= USERS_RIGHT_LIVE;
    if (sqlite3_column_int(statement, first + 1) != 0)
        rights |= USERS_RIGHT_RECORDINGS;
    if (sqlite3_column_int(statement, first + 2) != 0)
        rights |= USERS_RIGHT_EXPORT;
    if (sqlite3_column_int(statement, first + 3) != 0)
        rights |= USERS_RIGHT_TALK;
    return rights;
}

int users_device_rights(sqlite3 *db, const struct user *user, const char *device_id)
{
    sqlite3_stmt *statement = NULL;
    int rights = -1;
    int rc;

    assert(db != NULL && user != NULL);
    if (device_id == NULL)
        return -1;
    /* The user's row as it is now: an admin holds every right on every
     * doorbell that exists, a viewer those of their grant. */
    if (database_prepare(db,
                         "SELECT u.role, g.live, g.recordings, g.export, g.talk "
                         "FROM users u JOIN devices d ON d.id = ?2 AND d.revoked_at IS NULL "
                         "LEFT JOIN user_devices g ON g.user_id = u.id AND g.device_id = d.id "
                         "WHERE u.id = ?1",
                         &statement) != 0)
        goto out;
    if (sqlite3_bind_int64(statement, 1, user->id) != SQLITE_OK ||
        sqlite3_bind_text(statement, 2, device_id, -1, SQLITE_STATIC) != SQLITE_OK) {
        log_error("binding the rights check: %s", sqlite3_errmsg(db));
        goto out;
    }
    rc = sqlite3_step(statement);
    if (rc == SQLITE_ROW) {
        const unsigned char *role = sqlite3_column_text(statement, 0);
        if (role != NULL && strcmp((const char *)role, USERS_ROLE_ADMIN) == 0)
            rights = (int)USERS_RIGHTS_ALL;
        else if (role != NULL && strcmp((const char *)role, USERS_ROLE_VIEWER) == 0 &&
                 sqlite3_column_type(statement, 1) != SQLITE_NULL &&
                 user_grants_row_rights(statement, 1) != 0)
            rights = (int)user_grants_row_rights(statement, 1);
    } else if (rc != SQLITE_DONE) {
        log_error("checking rights: %s", sqlite3_errmsg(db));
    }
out:
    sqlite3_finalize(statement);
    return rights;
}

enum users_status users_list_grants(sqlite3 *db, int64_t user_id, users_grant_callback callback,
                                    void *context)
{
    sqlite3_stmt *statement = NULL;
    enum users_status status = USERS_ERROR;
    struct users_grant grant;
    int rc;

    assert(db != NULL && callback != NULL);
    if (database_prepare(db,
                         "SELECT device_id, live, recordings, export, talk FROM user_devices "
                         "WHERE user_id = ?1 AND (live OR recordings OR export OR talk) "
                         "ORDER BY device_id",
                         &statement) != 0)
        goto out;
    if (sqlite3_bind_int64(statement, 1, user_id) != SQLITE_OK) {
        log_error("binding user id: %s", sqlite3_errmsg(db));
        goto out;
    }
    while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
        const unsigned char *device_id = sqlite3_column_text(statement, 0);
        if (device_id == NULL)
            goto out;
        memset(&grant, 0, sizeof(grant));
        snprintf(grant.device_id, sizeof(grant.device_id), "%s", (const char *)device_id);
        grant.rights = user_grants_row_rights(statement, 1);
        if (callback(&grant, context) != 0)
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        log_error("listing grants of user %lld: %s", (long long)user_id, sqlite3_errmsg(db));
        goto out;
    }
    status = USERS_OK;
out:
    sqlite3_finalize(statement);
    return status;
}

/* Write one grant (INSERT or replace its rights; delete it when rights is
 * 0). Inside the caller's transaction. USERS_NOT_FOUND for an unknown
 * doorbell. */
static enum users_status user_grants_write(sqlite3 *db, int64_t user_id, const char *device_id,
                                           unsigned rights)
{
    sqlite3_stmt *statement = NULL;
    enum users_status status = USERS_ERROR;
    int ok;

    if (device_id == NULL)
        return USERS_NOT_FOUND;
    if (rights == 0)
        ok = database_prepare(db, "DELETE FROM user_devices WHERE user_id = ?1 AND device_id = ?2",
                              &statement);
    else
        ok = database_prepare(db,
                              "INSERT INTO user_devices "
                              "(user_id, device_id, live, recordings, export, talk) "
                              "VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                              "ON CONFLICT (user_id, device_id) DO UPDATE SET "
                              "live = ?3, recordings = ?4, export = ?5, talk = ?6",
                              &statement);
    if (ok != 0)
        goto out;
    if (sqlite3_bind_int64(statement, 1, user_id) != SQLITE_OK ||
        sqlite3_bind_text(statement, 2, device_id, -1, SQLITE_STATIC) != SQLITE_OK ||
        (rights != 0 &&
         (sqlite3_bind_int(statement, 3, (rights & USERS_RIGHT_LIVE) != 0) != SQLITE_OK ||
          sqlite3_bind_int(statement, 4, (rights & USERS_RIGHT_RECORDINGS) != 0) != SQLITE_OK ||
          sqlite3_bind_int(statement, 5, (rights & USERS_RIGHT_EXPORT) != 0) != SQLITE_OK ||
          sqlite3_bind_int(statement, 6, (rights & USERS_RIGHT_TALK) != 0) != SQLITE_OK))) {
        log_error("binding a grant: %s", sqlite3_errmsg(db));
        goto out;
    }
    if (sqlite3_step(statement) == SQLITE_DONE)
        status = USERS_OK;
    else if (sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_FOREIGNKEY)
        status = USERS_NOT_FOUND;
    else
        log_error("writing a grant: %s", sqlite3_errmsg(db));
out:
    sqlite3_finalize(statement);
    return status;
}

/* End a transaction: COMMIT when status is USERS_OK, else ROLLBACK.
 * Returns the final status. */
static enum users_status user_grants_finish(sqlite3 *db, enum users_status status)
{
    if (status == USERS_OK && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        log_error("changing grants: %s", sqlite3_errmsg(db));
        status = USERS_ERROR;
    }
    if (status != USERS_OK && !sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return status;
}

bool users_device_exists(sqlite3 *db, const char *device_id)
{
    sqlite3_stmt *statement = NULL;
    bool exists = false;

    if (device_id == NULL ||
        database_prepare(db, "SELECT 1 FROM devices WHERE id = ?1 AND revoked_at IS NULL",
                         &statement) != 0)
        goto out;
    if (sqlite3_bind_text(statement, 1, device_id, -1, SQLITE_STATIC) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW)
        exists = true;
out:
    sqlite3_finalize(statement);
    return exists;
}

enum users_status users_set_grants(sqlite3 *db, int64_t user_id, const struct users_grant *grants,
                                   size_t count)
{
    enum users_status status;
    struct user user;

    assert(db != NULL && (count == 0 || grants != NULL));
    if (count > USERS_GRANTS_MAX)
        return USERS_ERROR;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        log_error("setting grants: %s", sqlite3_errmsg(db));
        return USERS_ERROR;
    }
    status = users_find_by_id(db, user_id, &user);
    if (status == USERS_OK) {
        sqlite3_stmt *statement = NULL;
        status = USERS_ERROR;
        if (database_prepare(db, "DELETE FROM user_devices WHERE user_id = ?1", &statement) == 0 &&
            sqlite3_bind_int64(statement, 1, user_id) == SQLITE_OK &&
            sqlite3_step(statement) == SQLITE_DONE)
            status = USERS_OK;
        sqlite3_finalize(statement);
    }
    for (size_t i = 0; i < count && status == USERS_OK; i++) {
        if (!users_device_exists(db, grants[i].device_id))
            status = USERS_NOT_FOUND;
        else
            status = user_grants_write(db, user_id, grants[i].device_id,
                                       grants[i].rights & USERS_RIGHTS_ALL);
    }
    return user_grants_finish(db, status);
}

enum users_status users_change_grant(sqlite3 *db, int64_t user_id, const char *device_id,
                                     unsigned add, unsigned remove, unsigned *rights_out)
{
    enum users_status status;
    struct user user;
    unsigned rights = 0;

    assert(db != NULL);
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        log_error("changing a grant: %s", sqlite3_errmsg(db));
        return USERS_ERROR;
    }
    status = users_find_by_id(db, user_id, &user);
    if (status == USERS_OK && !users_device_exists(db, device_id))
        status = USERS_NOT_FOUND;
    if (status == USERS_OK) {
        /* The rights held now (none without a grant; an admin's are not a
         * grant: only the user_devices row counts here). */
        sqlite3_stmt *statement = NULL;
        if (database_prepare(db,
                             "SELECT live, recordings, export, talk FROM user_devices "
                             "WHERE user_id = ?1 AND device_id = ?2",
                             &statement) != 0 ||
            sqlite3_bind_int64(statement, 1, user_id) != SQLITE_OK ||
            sqlite3_bind_text(statement, 2, device_id, -1, SQLITE_STATIC) != SQLITE_OK) {
            status = USERS_ERROR;
        } else {
            int rc = sqlite3_step(statement);
            if (rc == SQLITE_ROW)
                rights = user_grants_row_rights(statement, 0);
            else if (rc != SQLITE_DONE)
                status = USERS_ERROR;
        }
        sqlite3_finalize(statement);
    }
    rights = (rights | add) & ~remove & USERS_RIGHTS_ALL;
    if (status == USERS_OK)
        status = user_grants_write(db, user_id, device_id, rights);
    if (rights_out != NULL)
        *rights_out = rights;
    return user_grants_finish(db, status);
}

/* Names of the rights, in bit order. */
static const char *const user_grants_names[] = {"live", "recordings", "export", "talk"};

unsigned users_right_from_name(const char *name)
{
    for (unsigned i = 0; i < 4; i++)
        if (name != NULL && strcmp(name, user_grants_names[i]) == 0)
            return 1u << i;
    return 0;
}

const char *users_right_name(unsigned right)
{
    for (unsigned i = 0; i < 4; i++)
        if (right == 1u << i)
            return user_grants_names[i];
    return "?";
}

void users_rights_text(unsigned rights, char *out, size_t out_size)
{
    size_t used = 0;

    if (out_size == 0)
        return;
    out[0] = '\0';
    for (unsigned i = 0; i < 4; i++) {
        if ((rights & (1u << i)) == 0)
            continue;
        int written = snprintf(out + used, out_size - used, "%s%s", used > 0 ? "," : "",
                               user_grants_names[i]);
        if (written < 0 || (size_t)written >= out_size - used)
            return;
        used += (size_t)written;
    }
    if (used == 0)
        snprintf(out, out_size, "none");
}
