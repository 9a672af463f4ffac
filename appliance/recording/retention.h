/*
 * retention.h - keeping recordings within what they may use: each
 * doorbell's days per class (continuous, events), the global disk budget and
 * the minimum free space on the recordings' filesystem. Oldest first; footage
 * a starred event refers to is never deleted while it is starred.
 *
 * Thread: its own, started by main() after start-up reconciliation. Every
 * second it checks the free space (the emergency purge: the recorders must
 * never be the ones to find the disk full); every 10 s the budget; every
 * minute the days. It has its own SQLite connection. retention->lock guards
 * the status.
 *
 * Deletion follows the pending-deletion protocol of docs/storage.md: a
 * pending_deletions row, then the file, then the recordings row and the
 * pending row in one transaction. A cut that deletes footage its days would
 * have kept is written to retention_cuts, which the UI shows.
 */
#ifndef DOORSTEP_RETENTION_H
#define DOORSTEP_RETENTION_H

#include <sqlite3.h>
#include <stdint.h>

#define RETENTION_MIN_FREE_SHARE 20          /* default floor: 1/20 = 5 % of the filesystem ... */
#define RETENTION_MIN_FREE_CAP   (2LL << 30) /* ... at most 2 GiB */
#define RETENTION_DAY_MS         (24LL * 3600 * 1000)

struct retention_limits {
    long long budget;   /* bytes all recordings may use; 0 = none */
    long long min_free; /* bytes to keep free; -1 = the default share of the filesystem */
    long long headroom; /* the budget check deletes down to budget - headroom, so what
                           is recorded until the next check stays within the budget
                           (the thread sets it from the recent growth) */
};

struct retention_report {
    int expired_segments; /* past their days */
    int expired_events;   /* event rows past their days */
    int budget_segments;  /* deleted to stay under the budget */
    int free_segments;    /* deleted to keep the free space */
    long long bytes_freed;
    long long used_before; /* bytes the recordings used when the budget was checked */
    int stuck;             /* over a limit with nothing left that may be deleted */
};

struct retention_status {
    int64_t last_pass_ms;
    long long budget, min_free;        /* effective */
    long long free_bytes, total_bytes; /* of the filesystem */
    long long used_bytes;              /* by recordings, as indexed */
    int stuck;
};

/* What to check in one pass. */
enum {
    RETENTION_CHECK_AGE = 1,
    RETENTION_CHECK_BUDGET = 2,
    RETENTION_CHECK_FREE = 4,
    RETENTION_CHECK_ALL = 7,
};

/*
 * One retention pass over db and recordings_dir at now_ms (any thread; the
 * retention thread and tests). Adds what it did to *report. 0, or -1 on a
 * database or filesystem error (logged).
 */
int retention_run(sqlite3 *db, const char *recordings_dir, const struct retention_limits *limits,
                  int checks, int64_t now_ms, struct retention_report *report);

/* Free (for unprivileged writers) and total bytes of the filesystem
 * holding directory (statvfs). 0 or -1 (errno set). Any thread. */
int retention_filesystem(const char *directory, long long *free_out, long long *total_out);

/* The free-space floor in bytes that limits->min_free means on a filesystem
 * of total bytes (-1: RETENTION_MIN_FREE_SHARE of it, at most the cap). */
long long retention_min_free(const struct retention_limits *limits, long long total);

struct retention;
struct hub_settings;

/*
 * Start the retention thread (it uses its own database_thread_connection()).
 * limits are the start values; when settings is not NULL, each pass takes
 * the budget and the free-space floor from it instead (under
 * hub_settings.lock), so a change from the web UI holds from the next pass.
 * settings outlives the retention. NULL on failure.
 */
struct retention *retention_start(const char *recordings_dir, const struct retention_limits *limits,
                                  struct hub_settings *settings);

/* Run a full pass (budget and free space) now, e.g. after the limits changed. */
void retention_wake(struct retention *retention);

/* The latest figures (any thread). */
void retention_get_status(struct retention *retention, struct retention_status *out);

/* Stop and free (NULL is a no-op). */
void retention_stop(struct retention *retention);

#endif
