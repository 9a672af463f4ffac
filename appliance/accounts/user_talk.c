/*
 * user_talk.c - the talk right: which doorbells a viewer may speak through
 * (user_devices.talk), granting it and the check the talk WebSocket and the
 * authority thread run (see users.h).
 *
 * Called from HTTP handler threads and the authority thread, each with its
 * own SQLite connection. No state of its own: the users, devices and
 * user_devices tables are the shared state, and the check reads the user's
 * current row, so a withdrawn right or a changed role counts at once.
 */
#define LOG_MODULE "accounts"

#include <assert.h>
#include <string.h>

#include "accounts/users.h"
#include "common/log.h"

bool users_can_talk_to_device(sqlite3 *db, const struct user *user, const char *device_id)
{
    sqlite3_stmt *statement = NULL;
    bool allowed = false;
    int rc;

    assert(db != NULL && user != NULL);
    if (device_id == NULL)
        return false;
    /* As users_can_see_device, and a viewer's grant must carry talk. */
    rc = sqlite3_prepare_v2(db,
                            "SELECT 1 FROM users u JOIN devices d ON d.id = ?2 "
                            "WHERE u.id = ?1 AND d.revoked_at IS NULL AND (u.role = 'admin' OR "
                            "(u.role = 'viewer' AND EXISTS (SELECT 1 FROM user_devices g "
                            "WHERE g.user_id = u.id AND g.device_id = d.id AND g.talk = 1)))",
                            -1, &statement, NULL);
    if (rc != SQLITE_OK) {
        log_error("preparing the talk check: %s", sqlite3_errmsg(db));
        goto out;
    }
    if (sqlite3_bind_int64(statement, 1, user->id) != SQLITE_OK ||
        sqlite3_bind_text(statement, 2, device_id, -1, SQLITE_STATIC) != SQLITE_OK) {
        log_error("binding the talk check: %s", sqlite3_errmsg(db));
        goto out;
    }
    rc = sqlite3_step(statement);
    if (rc == SQLITE_ROW)
        allowed = true;
    else if (rc != SQLITE_DONE)
        log_error("checking the talk right: %s", sqlite3_errmsg(db));
out:
    sqlite3_finalize(statement);
    return allowed;
}

/* Run sql with ?1 = user_id and ?2 = device_id (NULL: no ?2); *changed gets
 * the number of rows changed. Inside the caller's transaction. */
static enum users_status user_talk_statement(sqlite3 *db, const char *sql, int64_t user_id,
                                             const char *device_id, int *changed)
{
    sqlite3_stmt *statement = NULL;
    enum users_status status = USERS_ERROR;

    if (sqlite3_prepare_v2(db, sql, -1, &statement, NULL) != SQLITE_OK ||
        sqlite3_bind_int64(statement, 1, user_id) != SQLITE_OK ||
        (device_id != NULL &&
         sqlite3_bind_text(statement, 2, device_id, -1, SQLITE_STATIC) != SQLITE_OK)) {
        log_error("changing talk grants: %s", sqlite3_errmsg(db));
        goto out;
    }
    if (sqlite3_step(statement) != SQLITE_DONE) {
        log_error("changing talk grants: %s", sqlite3_errmsg(db));
        goto out;
    }
    *changed = sqlite3_changes(db);
    status = USERS_OK;
out:
    sqlite3_finalize(statement);
    return status;
}

enum users_status users_set_talk_devices(sqlite3 *db, int64_t user_id,
                                         const char *const *device_ids, size_t count)
{
    enum users_status status;
    struct user user;
    int changed = 0;

    assert(db != NULL && (count == 0 || device_ids != NULL));
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        log_error("setting talk grants: %s", sqlite3_errmsg(db));
        return USERS_ERROR;
    }
    status = users_find_by_id(db, user_id, &user);
    if (status != USERS_OK)
        goto out;
    status = user_talk_statement(db, "UPDATE user_devices SET talk = 0 WHERE user_id = ?1", user_id,
                                 NULL, &changed);
    for (size_t i = 0; i < count && status == USERS_OK; i++) {
        status = user_talk_statement(
            db, "UPDATE user_devices SET talk = 1 WHERE user_id = ?1 AND device_id = ?2", user_id,
            device_ids[i], &changed);
        if (status == USERS_OK && changed == 0)
            status = USERS_NOT_GRANTED;
    }
    if (status == USERS_OK && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        log_error("setting talk grants: %s", sqlite3_errmsg(db));
        status = USERS_ERROR;
    }
out:
    if (status != USERS_OK && !sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return status;
}
