/*
 * audit_retention.h - the audit log's own retention: entries older than a
 * number of days (365 by default, `audit_retention_days` /
 * --audit-retention-days; 0 keeps everything) are deleted once a day. It is
 * a job of its own, run by the hub's housekeeping loop (appliance/main.c):
 * video retention (recording/retention.c) never touches the audit log, and
 * this never touches recordings or events.
 *
 * Called on the main thread with its SQLite connection; the only state is
 * the caller's struct audit_retention.
 */
#ifndef DOORSTEP_AUDIT_RETENTION_H
#define DOORSTEP_AUDIT_RETENTION_H

#include <sqlite3.h>
#include <stdint.h>

#define AUDIT_RETENTION_DEFAULT_DAYS 365
#define AUDIT_RETENTION_MAX_DAYS     36500
#define AUDIT_RETENTION_INTERVAL_MS  (24LL * 60 * 60 * 1000)
#define AUDIT_RETENTION_BATCH        5000 /* rows per DELETE, so no write holds the lock long */

/* When the job ran last; zero-initialised = it runs at the first tick. */
struct audit_retention {
    int64_t last_run_ms;
};

/*
 * Delete entries with at < now_ms - days, in batches. Returns how many, or
 * -1 on a database failure (logged). days <= 0 deletes nothing. When
 * anything went, an "audit_purge" entry (detail "rows=N;days=D") says so.
 */
int64_t audit_retention_purge(sqlite3 *db, int64_t now_ms, int days);

/* Run audit_retention_purge() if a day has passed since the last run (or
 * it never ran). Returns what that returned, or 0 when it was not due. */
int64_t audit_retention_tick(struct audit_retention *retention, sqlite3 *db, int64_t now_ms,
                             int days);

#endif
