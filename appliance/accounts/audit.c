/*
 * audit.c - appending to the audit_log table (see audit.h).
 *
 * Called from HTTP handler threads, the device link and the CLI, each with
 * its own SQLite connection. Keeps no state; the table is protected by
 * SQLite's locking.
 */
#define LOG_MODULE "accounts"

#include "accounts/audit.h"

#include <string.h>

#include "common/log.h"
#include "storage/database.h"

/* Length of text cut to AUDIT_FIELD_MAX bytes without splitting a UTF-8
 * sequence. */
static int audit_cut_length(const char *text)
{
    size_t length = strnlen(text, AUDIT_FIELD_MAX + 1);

    if (length > AUDIT_FIELD_MAX) {
        length = AUDIT_FIELD_MAX;
        while (length > 0 && ((unsigned char)text[length] & 0xC0) == 0x80)
            length--;
    }
    return (int)length;
}

/* Bind text (NULL = "") to parameter index, cut to AUDIT_FIELD_MAX bytes. */
static int audit_bind_text(sqlite3_stmt *statement, int index, const char *text)
{
    if (text == NULL)
        text = "";
    return sqlite3_bind_text(statement, index, text, audit_cut_length(text), SQLITE_STATIC);
}

void audit_record(sqlite3 *db, int64_t user_id, const char *username, const char *action,
                  const char *target, const char *detail, const char *remote_address)
{
    sqlite3_stmt *statement = NULL;
    int rc;

    if (action == NULL || action[0] == '\0')
        action = "unknown";
    if (db == NULL) {
        log_warn("audit entry \"%s\" lost: no database connection", action);
        return;
    }
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO audit_log (at, user_id, username, action, target, detail, "
                           "remote_address) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                           -1, &statement, NULL) != SQLITE_OK) {
        log_warn("audit entry \"%s\" lost: %s", action, sqlite3_errmsg(db));
        goto out;
    }
    rc = sqlite3_bind_int64(statement, 1, database_now_ms());
    if (rc == SQLITE_OK)
        rc = user_id > 0 ? sqlite3_bind_int64(statement, 2, user_id)
                         : sqlite3_bind_null(statement, 2);
    if (rc == SQLITE_OK)
        rc = audit_bind_text(statement, 3, username);
    if (rc == SQLITE_OK)
        rc = audit_bind_text(statement, 4, action);
    if (rc == SQLITE_OK)
        rc = audit_bind_text(statement, 5, target);
    if (rc == SQLITE_OK)
        rc = audit_bind_text(statement, 6, detail);
    if (rc == SQLITE_OK)
        rc = audit_bind_text(statement, 7, remote_address);
    if (rc != SQLITE_OK) {
        log_warn("audit entry \"%s\" lost: %s", action, sqlite3_errmsg(db));
        goto out;
    }
    if (sqlite3_step(statement) != SQLITE_DONE) {
        log_warn("audit entry \"%s\" lost: %s", action, sqlite3_errmsg(db));
        goto out;
    }
out:
    sqlite3_finalize(statement);
}
