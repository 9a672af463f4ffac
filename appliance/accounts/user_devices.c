/*
 * user_devices.c - which doorbells a user may see: the user_devices grants
 * of viewers, and the permission check every doorbell route, live view and
 * event push runs (see users.h).
 *
 * Called from HTTP handler threads, the event push thread, the authority
 * thread and the CLI, each with its own SQLite connection. No state of its
 * own: the users, devices and user_devices tables are the shared state.
 * The permission check reads the user's current row, never a copy taken at
 * login, so a removed user or a changed role counts at once.
 */
#define LOG_MODULE "accounts"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts/users.h"
#include "common/log.h"
#include "storage/database.h"

/* Call callback with each device_id that sql (?1 = user_id) selects, until
 * it returns nonzero. The doorbells a user sees and those they may talk to
 * are listed alike. */
static enum users_status user_devices_list(sqlite3 *db, const char *sql, int64_t user_id,
                                           users_device_callback callback, void *context)
{
    sqlite3_stmt *statement = NULL;
    enum users_status status = USERS_ERROR;
    int rc;

    assert(db != NULL && callback != NULL);
    if (database_prepare(db, sql, &statement) != 0)
        goto out;
    if (sqlite3_bind_int64(statement, 1, user_id) != SQLITE_OK) {
        log_error("binding user id: %s", sqlite3_errmsg(db));
        goto out;
    }
    while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
        const unsigned char *device_id = sqlite3_column_text(statement, 0);
        if (device_id == NULL) {
            log_error("listing devices of user %lld: out of memory", (long long)user_id);
            goto out;
        }
        if (callback((const char *)device_id, context) != 0)
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        log_error("listing devices of user %lld: %s", (long long)user_id, sqlite3_errmsg(db));
        goto out;
    }
    status = USERS_OK;
out:
    sqlite3_finalize(statement);
    return status;
}

enum users_status users_list_devices(sqlite3 *db, int64_t user_id, users_device_callback callback,
                                     void *context)
{
    return user_devices_list(db,
                             "SELECT device_id FROM user_devices WHERE user_id = ?1 AND "
                             "(live OR recordings OR export OR talk) ORDER BY device_id",
                             user_id, callback, context);
}

enum users_status users_list_talk_devices(sqlite3 *db, int64_t user_id,
                                          users_device_callback callback, void *context)
{
    return user_devices_list(db,
                             "SELECT device_id FROM user_devices WHERE user_id = ?1 AND talk = 1 "
                             "ORDER BY device_id",
                             user_id, callback, context);
}

/* Run a user_devices statement with ?1 = user_id and ?2 = device_id. */
static enum users_status user_devices_statement(sqlite3 *db, const char *sql, int64_t user_id,
                                                const char *device_id)
{
    sqlite3_stmt *statement = NULL;
    enum users_status status = USERS_ERROR;

    assert(db != NULL);
    if (device_id == NULL)
        return USERS_NOT_FOUND;
    if (database_prepare(db, sql, &statement) != 0)
        goto out;
    if (sqlite3_bind_int64(statement, 1, user_id) != SQLITE_OK ||
        sqlite3_bind_text(statement, 2, device_id, -1, SQLITE_STATIC) != SQLITE_OK) {
        log_error("binding device grant: %s", sqlite3_errmsg(db));
        goto out;
    }
    if (sqlite3_step(statement) == SQLITE_DONE) {
        status = USERS_OK;
    } else if (sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_FOREIGNKEY) {
        status = USERS_NOT_FOUND;
    } else {
        log_error("changing device grant: %s", sqlite3_errmsg(db));
    }
out:
    sqlite3_finalize(statement);
    return status;
}

enum users_status users_grant_device(sqlite3 *db, int64_t user_id, const char *device_id)
{
    return user_devices_statement(
        db, "INSERT OR IGNORE INTO user_devices (user_id, device_id) VALUES (?1, ?2)", user_id,
        device_id);
}

enum users_status users_revoke_device(sqlite3 *db, int64_t user_id, const char *device_id)
{
    return user_devices_statement(
        db, "DELETE FROM user_devices WHERE user_id = ?1 AND device_id = ?2", user_id, device_id);
}

bool users_can_see_device(sqlite3 *db, const struct user *user, const char *device_id)
{
    /* Seeing a doorbell is holding any right on it (a grant with no right
     * is no grant): one query decides both. */
    return users_device_rights(db, user, device_id) > 0;
}

/* Is device_id one of ids (count of them)? */
static bool user_devices_listed(const char *device_id, const char *const *ids, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (ids[i] != NULL && strcmp(ids[i], device_id) == 0)
            return true;
    return false;
}

struct user_devices_removal {
    const char *const *keep;
    size_t keep_count;
    char (*remove)[USERS_DEVICE_ID_MAX];
    size_t remove_count, remove_max;
};

/* users_list_devices callback: note a granted doorbell that is not kept. */
static int user_devices_note_removal(const char *device_id, void *data)
{
    struct user_devices_removal *removal = data;

    if (user_devices_listed(device_id, removal->keep, removal->keep_count))
        return 0;
    if (removal->remove_count == removal->remove_max)
        return 1;
    snprintf(removal->remove[removal->remove_count++], USERS_DEVICE_ID_MAX, "%s", device_id);
    return 0;
}

enum users_status users_set_devices(sqlite3 *db, int64_t user_id, const char *const *device_ids,
                                    size_t count)
{
    enum users_status status = USERS_ERROR;
    struct user_devices_removal removal = {device_ids, count, NULL, 0, USERS_GRANTS_MAX};
    struct user user;

    assert(db != NULL && (count == 0 || device_ids != NULL));
    removal.remove = calloc(USERS_GRANTS_MAX, sizeof(*removal.remove));
    if (removal.remove == NULL) {
        log_error("setting grants: out of memory");
        return USERS_ERROR;
    }
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        log_error("setting grants: %s", sqlite3_errmsg(db));
        free(removal.remove);
        return USERS_ERROR;
    }
    status = users_find_by_id(db, user_id, &user);
    if (status != USERS_OK)
        goto out;
    /* Grants that stay keep their talk right: only the others go. */
    status = users_list_devices(db, user_id, user_devices_note_removal, &removal);
    for (size_t i = 0; i < removal.remove_count && status == USERS_OK; i++)
        status = users_revoke_device(db, user_id, removal.remove[i]);
    for (size_t i = 0; i < count && status == USERS_OK; i++)
        status = users_grant_device(db, user_id, device_ids[i]);
    if (status == USERS_OK && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        log_error("setting grants: %s", sqlite3_errmsg(db));
        status = USERS_ERROR;
    }
out:
    if (status != USERS_OK && !sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    free(removal.remove);
    return status;
}
