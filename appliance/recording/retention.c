/*
 * retention.c - deleting recordings past their days, over the budget or
 * eating the free-space floor (see retention.h for the thread and the
 * deletion protocol).
 *
 * What may go, in order:
 *   age:    closed segments whose end is older than their class's days
 *           (continuous or events, per doorbell), unless an event still
 *           within its own days, or a starred event, refers to them; then
 *           event rows past their days (unless starred).
 *   budget, free space: the oldest closed segment of any doorbell not
 *           referred to by a starred event, one after the other, until the
 *           limit holds. Open segments (being recorded) never go.
 */
#define LOG_MODULE "retention"

#include "recording/retention.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/mutex.h"
#include "core/hub_settings.h"
#include "recording/preview_store.h"
#include "recording/recording_settings.h"
#include "recording/recording_store.h"
#include "storage/database.h"
#include "storage/database_reserve.h"

#define RETENTION_BATCH        64
#define RETENTION_PATH_MAX     8192
#define RETENTION_FREE_EVERY   1 /* seconds between the checks of each kind */
#define RETENTION_BUDGET_EVERY 5
#define RETENTION_AGE_EVERY    60

/* A starred event refers to segment r. */
#define RETENTION_STARRED                                                                          \
    "EXISTS (SELECT 1 FROM events e WHERE e.device_id = r.device_id AND e.starred AND "            \
    "e.clip_start_ms < r.end_ms AND e.clip_end_ms > r.start_ms)"

/* Closed segments past their class's days that no live or starred event
 * refers to, oldest first. ?1 now, ?2/?3 default days, ?4 batch. */
static const char retention_expired_sql[] =
    "SELECT r.path, r.bytes + r.preview_bytes, r.device_id, r.end_ms FROM recordings r "
    "LEFT JOIN recording_settings s ON s.device_id = r.device_id "
    "WHERE r.state = 'closed' AND r.end_ms < ?1 - 86400000 * (CASE r.class "
    "WHEN 'event' THEN coalesce(s.event_days, ?3) ELSE coalesce(s.continuous_days, ?2) END) "
    "AND NOT EXISTS (SELECT 1 FROM events e WHERE e.device_id = r.device_id AND "
    "e.clip_start_ms < r.end_ms AND e.clip_end_ms > r.start_ms AND (e.starred OR "
    "e.end_ms >= ?1 - 86400000 * coalesce(s.event_days, ?3))) "
    "ORDER BY r.start_ms LIMIT ?4";

/* The oldest closed segments no starred event refers to. ?1 batch. */
static const char retention_oldest_sql[] =
    "SELECT r.path, r.bytes + r.preview_bytes, r.device_id, r.end_ms FROM recordings r "
    "WHERE r.state = 'closed' AND NOT " RETENTION_STARRED " ORDER BY r.start_ms LIMIT ?1";

struct retention {
    pthread_mutex_t lock; /* guards status, stopping and woken */
    pthread_cond_t wake;
    int stopping;
    int woken; /* retention_wake(): check everything but the days on the next pass */
    struct retention_status status;
    /* Constant after start. */
    char directory[RETENTION_PATH_MAX];
    struct retention_limits limits;
    struct hub_settings *settings; /* the live limits; NULL: limits stay */
    pthread_t thread;
};

/* One segment chosen for deletion. */
struct retention_victim {
    char path[RECORDING_PATH_MAX];
    char device_id[LINK_DEVICE_ID_MAX];
    long long bytes;
    int64_t end_ms;
};

/* What a budget or free-space cut took from one doorbell, for retention_cuts. */
struct retention_cut {
    char device_id[LINK_DEVICE_ID_MAX];
    int segments;
    long long bytes;
    int64_t footage_to_ms;
};

int retention_filesystem(const char *directory, long long *free_out, long long *total_out)
{
    struct statvfs info;
    if (statvfs(directory, &info) != 0)
        return -1;
    *free_out = (long long)info.f_bavail * (long long)info.f_frsize;
    *total_out = (long long)info.f_blocks * (long long)info.f_frsize;
    return 0;
}

long long retention_min_free(const struct retention_limits *limits, long long total)
{
    long long share = total / RETENTION_MIN_FREE_SHARE;
    if (limits->min_free >= 0)
        return limits->min_free;
    return share < RETENTION_MIN_FREE_CAP ? share : RETENTION_MIN_FREE_CAP;
}

/* Bytes of all indexed recordings, or -1. */
static long long retention_used_bytes(sqlite3 *db)
{
    sqlite3_stmt *statement = NULL;
    long long used = -1;
    if (sqlite3_prepare_v2(db, "SELECT coalesce(sum(bytes + preview_bytes), 0) FROM recordings", -1,
                           &statement, NULL) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW)
        used = sqlite3_column_int64(statement, 0);
    sqlite3_finalize(statement);
    return used;
}

/* Run a statement without results. 0 or -1 (logged). */
static int retention_exec(sqlite3 *db, sqlite3_stmt *statement, const char *what)
{
    int rc = sqlite3_step(statement) == SQLITE_DONE ? 0 : -1;
    if (rc != 0)
        log_error("%s: %s", what, sqlite3_errmsg(db));
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    return rc;
}

/*
 * Delete one segment: pending row, file, then recordings row and pending row
 * together. Removes the hour and date directories once empty. 0 or -1 (the
 * pending row, if written, lets start-up finish the job).
 *
 * At 0 bytes free the pending row cannot be written (SQLITE_FULL): the
 * database's reserve is released and the row tried once more. Should even
 * that fail, the file goes first and its row after it: the unlink needs no
 * space and frees some, so the row's delete can be written. A crash between
 * the two leaves a row whose file is missing, which start-up reconciliation
 * drops; a failed row delete is retried by the next pass, which picks the
 * same oldest row again.
 */
static int retention_delete_segment(sqlite3 *db, const char *directory, const char *path,
                                    int64_t now_ms)
{
    sqlite3_stmt *pending = NULL, *forget = NULL, *done = NULL;
    char absolute[RETENTION_PATH_MAX];
    int rc = -1, have_pending = 1;

    if (sqlite3_prepare_v2(db,
                           "INSERT OR REPLACE INTO pending_deletions (path, requested_at) "
                           "VALUES (?, ?)",
                           -1, &pending, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "DELETE FROM recordings WHERE path = ?", -1, &forget, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(db, "DELETE FROM pending_deletions WHERE path = ?", -1, &done, NULL) !=
            SQLITE_OK) {
        log_error("deleting %s: %s", path, sqlite3_errmsg(db));
        goto out;
    }
    sqlite3_bind_text(pending, 1, path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(pending, 2, now_ms);
    if (retention_exec(db, pending, "pending deletion") != 0) {
        if (!database_reserve_note(sqlite3_extended_errcode(db)))
            goto out;
        sqlite3_bind_text(pending, 1, path, -1, SQLITE_STATIC);
        sqlite3_bind_int64(pending, 2, now_ms);
        if (retention_exec(db, pending, "pending deletion, with the reserve released") != 0) {
            log_warn("the database is full: deleting %s before its row", path);
            have_pending = 0;
        }
    }
    /* Its timeline previews first: never a preview without its footage. */
    preview_store_remove(directory, path);
    snprintf(absolute, sizeof(absolute), "%s/%s", directory, path);
    if (unlink(absolute) != 0 && errno != ENOENT) {
        log_error("cannot delete %s: %s", absolute, strerror(errno));
        goto out;
    }
    sqlite3_bind_text(forget, 1, path, -1, SQLITE_STATIC);
    sqlite3_bind_text(done, 1, path, -1, SQLITE_STATIC);
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        goto out;
    if (retention_exec(db, forget, "forgetting a segment") != 0 ||
        (have_pending && retention_exec(db, done, "finishing a deletion") != 0) ||
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        database_reserve_note(sqlite3_extended_errcode(db));
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        goto out;
    }
    /* <device>/<date>/<hour>/<file>: drop the hour and date directories
     * when this was their last file (rmdir refuses non-empty ones). */
    for (int level = 0; level < 2; level++) {
        char *slash = strrchr(absolute, '/');
        if (slash == NULL)
            break;
        *slash = '\0';
        if (rmdir(absolute) != 0)
            break;
    }
    rc = 0;
out:
    sqlite3_finalize(pending);
    sqlite3_finalize(forget);
    sqlite3_finalize(done);
    return rc;
}

/* Up to RETENTION_BATCH victims from a prepared, bound SELECT of path,
 * bytes, device_id, end_ms. Returns how many, or -1. */
static int retention_collect(sqlite3 *db, sqlite3_stmt *statement, struct retention_victim *victims)
{
    int count = 0, step;
    while (count < RETENTION_BATCH && (step = sqlite3_step(statement)) == SQLITE_ROW) {
        struct retention_victim *victim = &victims[count++];
        snprintf(victim->path, sizeof(victim->path), "%s",
                 (const char *)sqlite3_column_text(statement, 0));
        victim->bytes = sqlite3_column_int64(statement, 1);
        snprintf(victim->device_id, sizeof(victim->device_id), "%s",
                 (const char *)sqlite3_column_text(statement, 2));
        victim->end_ms = sqlite3_column_int64(statement, 3);
    }
    if (count < RETENTION_BATCH && step != SQLITE_DONE) {
        log_error("choosing segments to delete: %s", sqlite3_errmsg(db));
        count = -1;
    }
    sqlite3_reset(statement);
    return count;
}

/* Segments and events past their days. 0 or -1. */
static int retention_expire(sqlite3 *db, const char *directory, int64_t now_ms,
                            struct retention_report *report)
{
    struct retention_victim victims[RETENTION_BATCH];
    sqlite3_stmt *statement = NULL;
    int count, rc = -1;

    if (sqlite3_prepare_v2(db, retention_expired_sql, -1, &statement, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_int64(statement, 1, now_ms);
    sqlite3_bind_int(statement, 2, RECORDING_DEFAULT_CONTINUOUS_DAYS);
    sqlite3_bind_int(statement, 3, RECORDING_DEFAULT_EVENT_DAYS);
    sqlite3_bind_int(statement, 4, RETENTION_BATCH);
    while ((count = retention_collect(db, statement, victims)) > 0) {
        for (int i = 0; i < count; i++) {
            if (retention_delete_segment(db, directory, victims[i].path, now_ms) != 0)
                goto out; /* the same row would come back: stop here */
            report->expired_segments++;
            report->bytes_freed += victims[i].bytes;
        }
    }
    if (count < 0)
        goto out;
    sqlite3_finalize(statement);
    if (sqlite3_prepare_v2(db,
                           "DELETE FROM events WHERE NOT starred AND NOT active AND end_ms < ?1 - "
                           "86400000 * coalesce((SELECT event_days FROM recording_settings s "
                           "WHERE s.device_id = events.device_id), ?2)",
                           -1, &statement, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_int64(statement, 1, now_ms);
    sqlite3_bind_int(statement, 2, RECORDING_DEFAULT_EVENT_DAYS);
    if (sqlite3_step(statement) != SQLITE_DONE)
        goto out;
    report->expired_events += sqlite3_changes(db);
    rc = 0;
out:
    if (rc != 0)
        log_error("expiring old recordings: %s", sqlite3_errmsg(db));
    sqlite3_finalize(statement);
    return rc;
}

/* Note a cut in the doorbell's entry of cuts (at most one per doorbell per pass). */
static void retention_note_cut(struct retention_cut *cuts, int *cut_count, int capacity,
                               const struct retention_victim *victim)
{
    int i;
    for (i = 0; i < *cut_count; i++)
        if (strcmp(cuts[i].device_id, victim->device_id) == 0)
            break;
    if (i == *cut_count) {
        if (*cut_count == capacity)
            return;
        memset(&cuts[i], 0, sizeof(cuts[i]));
        snprintf(cuts[i].device_id, sizeof(cuts[i].device_id), "%s", victim->device_id);
        (*cut_count)++;
    }
    cuts[i].segments++;
    cuts[i].bytes += victim->bytes;
    if (victim->end_ms > cuts[i].footage_to_ms)
        cuts[i].footage_to_ms = victim->end_ms;
}

/* Record the cuts of this pass in retention_cuts and the log. */
static void retention_save_cuts(sqlite3 *db, const struct retention_cut *cuts, int count,
                                const char *reason, int64_t now_ms)
{
    sqlite3_stmt *statement = NULL;
    if (count == 0 ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO retention_cuts (at, device_id, reason, segments, bytes, "
                           "footage_to_ms) VALUES (?, ?, ?, ?, ?, ?)",
                           -1, &statement, NULL) != SQLITE_OK)
        return;
    for (int i = 0; i < count; i++) {
        log_warn("retention cut short for doorbell %s (%s): %d segments, %lld bytes, footage "
                 "before %lld gone",
                 cuts[i].device_id, reason, cuts[i].segments, cuts[i].bytes,
                 (long long)cuts[i].footage_to_ms);
        sqlite3_bind_int64(statement, 1, now_ms);
        sqlite3_bind_text(statement, 2, cuts[i].device_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(statement, 3, reason, -1, SQLITE_STATIC);
        sqlite3_bind_int(statement, 4, cuts[i].segments);
        sqlite3_bind_int64(statement, 5, cuts[i].bytes);
        sqlite3_bind_int64(statement, 6, cuts[i].footage_to_ms);
        retention_exec(db, statement, "noting a retention cut");
    }
    sqlite3_finalize(statement);
}

/* Where the recordings stand against the budget and the free-space floor. */
struct retention_room {
    int check_budget, check_free;
    long long budget, headroom, used;
    long long floor, free_bytes, total;
};

/* Which limit is broken: "budget", "free_space", or NULL when both hold. */
static const char *retention_room_short(const struct retention_room *room)
{
    if (room->check_budget && room->used > room->budget - room->headroom)
        return "budget";
    if (room->check_free && room->free_bytes < room->floor)
        return "free_space";
    return NULL;
}

/*
 * Delete the oldest deletable segments while over the budget or under the
 * free-space floor. 0 or -1.
 */
static int retention_make_room(sqlite3 *db, const char *directory,
                               const struct retention_limits *limits, int checks, int64_t now_ms,
                               struct retention_report *report)
{
    struct retention_victim victims[RETENTION_BATCH];
    struct retention_cut cuts[16];
    struct retention_room room = {
        .check_budget = (checks & RETENTION_CHECK_BUDGET) && limits->budget > 0,
        .check_free = (checks & RETENTION_CHECK_FREE) != 0,
        .budget = limits->budget,
        .headroom = limits->headroom < limits->budget / 2 ? limits->headroom : limits->budget / 2,
    };
    sqlite3_stmt *statement = NULL;
    const char *reason;
    int cut_count = 0, count, rc = -1;

    if (room.check_budget && (room.used = retention_used_bytes(db)) < 0)
        return -1;
    report->used_before = room.used;
    if (room.check_free) {
        if (retention_filesystem(directory, &room.free_bytes, &room.total) != 0) {
            log_error("statvfs %s: %s", directory, strerror(errno));
            return -1;
        }
        room.floor = retention_min_free(limits, room.total);
    }
    if ((reason = retention_room_short(&room)) == NULL)
        return 0;
    if (sqlite3_prepare_v2(db, retention_oldest_sql, -1, &statement, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_int(statement, 1, RETENTION_BATCH);
    while (retention_room_short(&room) != NULL) {
        if ((count = retention_collect(db, statement, victims)) < 0)
            goto out;
        if (count == 0) {
            report->stuck = 1;
            log_warn("recordings are short of %s and nothing left may be deleted (the rest is "
                     "starred or still recording)",
                     retention_room_short(&room));
            break;
        }
        for (int i = 0; i < count && retention_room_short(&room) != NULL; i++) {
            if (retention_delete_segment(db, directory, victims[i].path, now_ms) != 0)
                goto out;
            room.used -= victims[i].bytes;
            room.free_bytes += victims[i].bytes; /* re-read below */
            report->bytes_freed += victims[i].bytes;
            if (strcmp(reason, "budget") == 0)
                report->budget_segments++;
            else
                report->free_segments++;
            retention_note_cut(cuts, &cut_count, 16, &victims[i]);
        }
        if (room.check_free && retention_filesystem(directory, &room.free_bytes, &room.total) != 0)
            goto out;
    }
    rc = 0;
out:
    if (rc != 0)
        log_error("making room for recordings failed: %s", sqlite3_errmsg(db));
    sqlite3_finalize(statement);
    retention_save_cuts(db, cuts, cut_count, reason, now_ms);
    return rc;
}

int retention_run(sqlite3 *db, const char *recordings_dir, const struct retention_limits *limits,
                  int checks, int64_t now_ms, struct retention_report *report)
{
    int rc = 0;
    if ((checks & RETENTION_CHECK_AGE) && retention_expire(db, recordings_dir, now_ms, report) != 0)
        rc = -1;
    if ((checks & (RETENTION_CHECK_BUDGET | RETENTION_CHECK_FREE)) &&
        retention_make_room(db, recordings_dir, limits, checks, now_ms, report) != 0)
        rc = -1;
    return rc;
}

/* ---- the thread ------------------------------------------------------------- */

/* Refresh the status the storage API shows. */
static void retention_update_status(struct retention *retention, sqlite3 *db,
                                    const struct retention_limits *limits, int64_t now_ms,
                                    int stuck)
{
    struct retention_status status;
    memset(&status, 0, sizeof(status));
    status.last_pass_ms = now_ms;
    status.budget = limits->budget;
    if (retention_filesystem(retention->directory, &status.free_bytes, &status.total_bytes) == 0)
        status.min_free = retention_min_free(limits, status.total_bytes);
    status.used_bytes = retention_used_bytes(db);
    status.stuck = stuck;
    pthread_mutex_lock(&retention->lock);
    retention->status = status;
    pthread_mutex_unlock(&retention->lock);
}

static void *retention_thread(void *data)
{
    struct retention *retention = data;
    sqlite3 *db = database_thread_connection();
    struct retention_limits limits = retention->limits;
    unsigned long tick = 0;
    int stuck = 0;
    long long previous_after = -1, freed_since = 0;
    pthread_setname_np(pthread_self(), "retention");

    preview_store_sweep(retention->directory, db); /* previews of segments dropped elsewhere */
    for (;;) {
        struct retention_report report;
        struct timespec deadline;
        int checks = RETENTION_CHECK_FREE;

        if (retention->settings != NULL) {
            struct hub_settings_values values;
            hub_settings_get(retention->settings, &values);
            limits.budget = values.storage_budget;
            limits.min_free = values.min_free;
        }
        pthread_mutex_lock(&retention->lock);
        if (retention->woken)
            checks |= RETENTION_CHECK_BUDGET;
        retention->woken = 0;
        pthread_mutex_unlock(&retention->lock);
        if (tick % RETENTION_BUDGET_EVERY == 0)
            checks |= RETENTION_CHECK_BUDGET;
        if (tick % RETENTION_AGE_EVERY == 0)
            checks |= RETENTION_CHECK_AGE;
        memset(&report, 0, sizeof(report));
        database_reserve_tend();
        if (db != NULL) {
            int64_t now = database_now_ms();
            retention_run(db, retention->directory, &limits, checks, now, &report);
            freed_since += report.bytes_freed;
            if ((checks & RETENTION_CHECK_BUDGET) && limits.budget > 0) {
                /* What was recorded since the last check, twice over, is the
                 * headroom the next check keeps under the budget. */
                long long freed_between = freed_since - report.bytes_freed;
                long long growth =
                    previous_after >= 0 ? report.used_before - previous_after + freed_between : 0;
                limits.headroom = growth > 0 ? 2 * growth : 0;
                previous_after = report.used_before - report.bytes_freed;
                freed_since = 0;
            }
            if (checks & RETENTION_CHECK_BUDGET)
                stuck = report.stuck;
            if (report.expired_segments + report.budget_segments + report.free_segments > 0)
                log_info("retention: deleted %d expired, %d over budget, %d for free space "
                         "(%lld bytes); %d old events",
                         report.expired_segments, report.budget_segments, report.free_segments,
                         report.bytes_freed, report.expired_events);
            if (checks & RETENTION_CHECK_BUDGET || report.bytes_freed > 0)
                retention_update_status(retention, db, &limits, now, stuck || report.stuck);
        }
        tick++;
        pthread_mutex_lock(&retention->lock);
        clock_deadline_ms(CLOCK_REALTIME, RETENTION_FREE_EVERY * 1000, &deadline);
        while (!retention->stopping && !retention->woken &&
               pthread_cond_timedwait(&retention->wake, &retention->lock, &deadline) == 0)
            ;
        if (retention->stopping) {
            pthread_mutex_unlock(&retention->lock);
            break;
        }
        pthread_mutex_unlock(&retention->lock);
    }
    return NULL;
}

struct retention *retention_start(const char *recordings_dir, const struct retention_limits *limits,
                                  struct hub_settings *settings)
{
    struct retention *retention = calloc(1, sizeof(*retention));
    if (retention == NULL)
        return NULL;
    mutex_init_checked(&retention->lock);
    pthread_cond_init(&retention->wake, NULL);
    snprintf(retention->directory, sizeof(retention->directory), "%s", recordings_dir);
    retention->limits = *limits;
    retention->settings = settings;
    retention->status.budget = limits->budget;
    if (pthread_create(&retention->thread, NULL, retention_thread, retention) != 0) {
        pthread_cond_destroy(&retention->wake);
        pthread_mutex_destroy(&retention->lock);
        free(retention);
        return NULL;
    }
    return retention;
}

void retention_get_status(struct retention *retention, struct retention_status *out)
{
    pthread_mutex_lock(&retention->lock);
    *out = retention->status;
    pthread_mutex_unlock(&retention->lock);
}

void retention_wake(struct retention *retention)
{
    if (retention == NULL)
        return;
    pthread_mutex_lock(&retention->lock);
    retention->woken = 1;
    pthread_cond_signal(&retention->wake);
    pthread_mutex_unlock(&retention->lock);
}

void retention_stop(struct retention *retention)
{
    if (retention == NULL)
        return;
    pthread_mutex_lock(&retention->lock);
    retention->stopping = 1;
    pthread_cond_signal(&retention->wake);
    pthread_mutex_unlock(&retention->lock);
    pthread_join(retention->thread, NULL);
    pthread_cond_destroy(&retention->wake);
    pthread_mutex_destroy(&retention->lock);
    free(retention);
}
