/*
 * audit_retention.c - deleting audit entries past their days (see
 * audit_retention.h).
 *
 * Runs on the hub's main thread (housekeeping loop) with its own SQLite
 * connection; keeps no state besides the caller's struct audit_retention.
 */
#define LOG_MODULE "accounts"

#include "accounts/audit_retention.h"

#include <assert.h>
#include <stdio.h>

#include "accounts/audit.h"
#include "common/log.h"

#define AUDIT_RETENTION_DAY_MS (24LL * 60 * 60 * 1000)

int64_t audit_retention_purge(sqlite3 *db, int64_t now_ms, int days)
{
    sqlite3_stmt *statement = NULL;
    int64_t total = 0;
    int changed;
    char detail[64];

    assert(db != NULL);
    if (days <= 0)
        return 0;
    if (days > AUDIT_RETENTION_MAX_DAYS)
        days = AUDIT_RETENTION_MAX_DAYS;
    if (sqlite3_prepare_v2(db,
                           "DELETE FROM audit_log WHERE id IN "
                           "(SELECT id FROM audit_log WHERE at < ?1 LIMIT ?2)",
                           -1, &statement, NULL) != SQLITE_OK) {
        log_error("preparing the audit purge: %s", sqlite3_errmsg(db));
        total = -1;
        goto out;
    }
    if (sqlite3_bind_int64(statement, 1, now_ms - (int64_t)days * AUDIT_RETENTION_DAY_MS) !=
            SQLITE_OK ||
        sqlite3_bind_int(statement, 2, AUDIT_RETENTION_BATCH) != SQLITE_OK) {
        log_error("binding the audit purge: %s", sqlite3_errmsg(db));
        total = -1;
        goto out;
    }
    do {
        if (sqlite3_step(statement) != SQLITE_DONE) {
            log_error("purging the audit log: %s", sqlite3_errmsg(db));
            total = total > 0 ? total : -1;
            goto out;
        }
        changed = sqlite3_changes(db);
        total += changed;
        sqlite3_reset(statement);
    } while (changed == AUDIT_RETENTION_BATCH);
out:
    sqlite3_finalize(statement);
    if (total > 0) {
        log_info("audit log: %lld entries older than %d days deleted", (long long)total, days);
        snprintf(detail, sizeof(detail), "rows=%lld;days=%d", (long long)total, days);
        audit_record(db, 0, "", "audit_purge", "", detail, "");
    }
    return total;
}

int64_t audit_retention_tick(struct audit_retention *retention, sqlite3 *db, int64_t now_ms,
                             int days)
{
    assert(retention != NULL);
    if (retention->last_run_ms != 0 &&
        now_ms - retention->last_run_ms < AUDIT_RETENTION_INTERVAL_MS)
        return 0;
    retention->last_run_ms = now_ms;
    return audit_retention_purge(db, now_ms, days);
}
