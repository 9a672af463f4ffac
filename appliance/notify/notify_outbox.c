/*
 * notify_outbox.c - the notification outbox table and queuing events into
 * it (see notify_outbox.h and notify.h). Bound parameters only.
 */
#define LOG_MODULE "notify"

#include "notify/notify_outbox.h"

#include <stdio.h>
#include <string.h>

#include "common/error_text.h"
#include "common/log.h"
#include "events/event_engine.h"
#include "notify/notify.h"
#include "storage/database.h"

#define NOTIFY_CLAIM_BATCH 64

/* Run a prepared statement to the end; on error log what it was. 0 or -1. */
static int notify_outbox_step(sqlite3 *db, sqlite3_stmt *statement, const char *what)
{
    if (sqlite3_step(statement) == SQLITE_DONE)
        return 0;
    log_error("%s: %s", what, sqlite3_errmsg(db));
    return -1;
}

int notify_outbox_recover(sqlite3 *db)
{
    sqlite3_stmt *statement = NULL;
    int rc = -1;

    if (database_prepare(db,
                         "UPDATE notification_outbox SET state = 'unknown', last_error = "
                         "'the hub stopped during this attempt; not resent, so it is "
                         "never delivered twice' WHERE state = 'sending'",
                         &statement) == 0 &&
        notify_outbox_step(db, statement, "recovering the outbox") == 0)
        rc = sqlite3_changes(db);
    sqlite3_finalize(statement);
    return rc;
}

int notify_outbox_prune(sqlite3 *db, int64_t now_ms)
{
    sqlite3_stmt *statement = NULL;
    int rc = -1;

    if (database_prepare(db,
                         "DELETE FROM notification_outbox WHERE event_id IS NULL AND "
                         "state IN ('delivered', 'failed', 'unknown') AND created_ms < ?",
                         &statement) == 0) {
        sqlite3_bind_int64(statement, 1, now_ms - NOTIFY_TEST_KEEP_MS);
        rc = notify_outbox_step(db, statement, "pruning test messages");
    }
    sqlite3_finalize(statement);
    return rc;
}

int notify_outbox_insert(sqlite3 *db, int64_t event_id, int64_t target_id, int64_t due_ms,
                         int64_t *outbox_id)
{
    sqlite3_stmt *statement = NULL;
    char message_id[NOTIFY_MESSAGE_ID_MAX];
    int rc = -1;

    if (notify_message_id(message_id, sizeof(message_id)) != 0 ||
        database_prepare(db,
                         "INSERT OR IGNORE INTO notification_outbox (event_id, target_id, "
                         "message_id, state, attempts, next_attempt_ms, created_ms) "
                         "VALUES (?, ?, ?, 'pending', 0, ?, ?)",
                         &statement) != 0)
        goto out;
    if (event_id > 0)
        sqlite3_bind_int64(statement, 1, event_id);
    else
        sqlite3_bind_null(statement, 1);
    sqlite3_bind_int64(statement, 2, target_id);
    sqlite3_bind_text(statement, 3, message_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(statement, 4, due_ms);
    sqlite3_bind_int64(statement, 5, database_now_ms());
    if (notify_outbox_step(db, statement, "queuing a notification") != 0)
        goto out;
    rc = sqlite3_changes(db) > 0 ? 1 : 0;
    if (rc == 1 && outbox_id != NULL)
        *outbox_id = sqlite3_last_insert_rowid(db);
out:
    sqlite3_finalize(statement);
    return rc;
}

/* What notify_enqueue_event collects: the targets that want the event. */
struct notify_enqueue_match {
    const struct event_row *event;
    int64_t ids[NOTIFY_TARGETS_MAX];
    int count;
};

/* notify_target_each callback: remember a target whose filters match. */
static int notify_enqueue_collect(const struct notify_target *target, void *context)
{
    struct notify_enqueue_match *match = context;

    if (match->count == NOTIFY_TARGETS_MAX)
        return 1;
    if (notify_target_matches(target, event_engine_notify_type(match->event->type),
                              match->event->device_id, match->event->start_ms))
        match->ids[match->count++] = target->id;
    return 0;
}

int notify_enqueue_event(sqlite3 *db, const struct event_row *event, int64_t due_ms)
{
    struct notify_enqueue_match match = {.event = event};
    int rc = -1;

    if (notify_target_each(db, 1, notify_enqueue_collect, &match) != 0)
        return -1;
    if (match.count == 0)
        return 0;
    /* A savepoint: all of the event's rows or none, inside a caller's
     * transaction too. */
    if (sqlite3_exec(db, "SAVEPOINT notify_enqueue", NULL, NULL, NULL) != SQLITE_OK) {
        log_error("queuing event %lld: %s", (long long)event->id, sqlite3_errmsg(db));
        return -1;
    }
    for (int i = 0; i < match.count; i++)
        if (notify_outbox_insert(db, event->id, match.ids[i], due_ms, NULL) < 0)
            goto out;
    rc = 0;
out:
    if (rc != 0)
        sqlite3_exec(db, "ROLLBACK TO notify_enqueue", NULL, NULL, NULL);
    sqlite3_exec(db, "RELEASE notify_enqueue", NULL, NULL, NULL);
    if (rc == 0)
        log_debug("event %lld queued for %d target(s)", (long long)event->id, match.count);
    return rc;
}

int notify_enqueue_test(sqlite3 *db, int64_t target_id, int64_t *outbox_id)
{
    struct notify_target target;
    int found = notify_target_load(db, target_id, &target);

    if (found <= 0)
        return found;
    return notify_outbox_insert(db, 0, target_id, database_now_ms(), outbox_id) == 1 ? 1 : -1;
}

int notify_outbox_make_due(sqlite3 *db, int64_t event_id, int64_t now_ms)
{
    sqlite3_stmt *statement = NULL;
    int rc = -1;

    if (database_prepare(db,
                         "UPDATE notification_outbox SET next_attempt_ms = ?1 WHERE "
                         "event_id = ?2 AND state = 'pending' AND attempts = 0 AND "
                         "next_attempt_ms > ?1",
                         &statement) == 0) {
        sqlite3_bind_int64(statement, 1, now_ms);
        sqlite3_bind_int64(statement, 2, event_id);
        if (notify_outbox_step(db, statement, "making notifications due") == 0)
            rc = sqlite3_changes(db);
    }
    sqlite3_finalize(statement);
    return rc;
}

int notify_outbox_next_due(sqlite3 *db, int64_t *next_ms)
{
    sqlite3_stmt *statement = NULL;
    int rc = -1;

    if (database_prepare(db,
                         "SELECT min(next_attempt_ms) FROM notification_outbox "
                         "WHERE state = 'pending'",
                         &statement) == 0 &&
        sqlite3_step(statement) == SQLITE_ROW) {
        rc = sqlite3_column_type(statement, 0) != SQLITE_NULL;
        if (rc)
            *next_ms = sqlite3_column_int64(statement, 0);
    }
    sqlite3_finalize(statement);
    return rc;
}

/* Fail a pending row at once (its target was disabled). 0 or -1. */
static int notify_outbox_fail_now(sqlite3 *db, int64_t id, const char *reason)
{
    sqlite3_stmt *statement = NULL;
    int rc = -1;

    if (database_prepare(db,
                         "UPDATE notification_outbox SET state = 'failed', last_error = ? "
                         "WHERE id = ? AND state = 'pending'",
                         &statement) == 0) {
        sqlite3_bind_text(statement, 1, reason, -1, SQLITE_STATIC);
        sqlite3_bind_int64(statement, 2, id);
        rc = notify_outbox_step(db, statement, "failing a notification");
    }
    sqlite3_finalize(statement);
    return rc;
}

/* Mark a candidate 'sending' with one more attempt: 1 claimed, 0 someone
 * else changed it meanwhile, -1 error. */
static int notify_outbox_mark_sending(sqlite3 *db, struct notify_job *job, int64_t now_ms)
{
    sqlite3_stmt *statement = NULL;
    int rc = -1;

    if (database_prepare(db,
                         "UPDATE notification_outbox SET state = 'sending', attempts = "
                         "attempts + 1, last_attempt_ms = ? WHERE id = ? AND "
                         "state = 'pending'",
                         &statement) == 0) {
        sqlite3_bind_int64(statement, 1, now_ms);
        sqlite3_bind_int64(statement, 2, job->outbox_id);
        if (notify_outbox_step(db, statement, "claiming a notification") == 0)
            rc = sqlite3_changes(db) > 0 ? 1 : 0;
    }
    sqlite3_finalize(statement);
    if (rc == 1)
        job->attempts++;
    return rc;
}

int notify_outbox_claim(sqlite3 *db, int64_t now_ms, const int64_t *busy, int busy_count,
                        struct notify_job *out)
{
    struct notify_job candidates[NOTIFY_CLAIM_BATCH];
    int enabled[NOTIFY_CLAIM_BATCH];
    sqlite3_stmt *statement = NULL;
    int count = 0;

    if (database_prepare(db,
                         "SELECT o.id, coalesce(o.event_id, 0), o.target_id, o.attempts, "
                         "o.message_id, t.enabled FROM notification_outbox o "
                         "JOIN notification_targets t ON t.id = o.target_id "
                         "WHERE o.state = 'pending' AND o.next_attempt_ms <= ? "
                         "ORDER BY o.next_attempt_ms, o.id LIMIT ?",
                         &statement) != 0)
        return -1;
    sqlite3_bind_int64(statement, 1, now_ms);
    sqlite3_bind_int(statement, 2, NOTIFY_CLAIM_BATCH);
    /* Collect first, change afterwards: no update under a running SELECT. */
    while (count < NOTIFY_CLAIM_BATCH && sqlite3_step(statement) == SQLITE_ROW) {
        struct notify_job *job = &candidates[count];
        int skip = 0;
        job->outbox_id = sqlite3_column_int64(statement, 0);
        job->event_id = sqlite3_column_int64(statement, 1);
        job->target_id = sqlite3_column_int64(statement, 2);
        job->attempts = sqlite3_column_int(statement, 3);
        snprintf(job->message_id, sizeof(job->message_id), "%s",
                 (const char *)sqlite3_column_text(statement, 4));
        enabled[count] = sqlite3_column_int(statement, 5);
        for (int i = 0; i < busy_count; i++)
            skip |= busy[i] == job->target_id;
        if (!skip)
            count++;
    }
    sqlite3_finalize(statement);
    for (int i = 0; i < count; i++) {
        int claimed;
        if (!enabled[i] && candidates[i].event_id != 0) {
            notify_outbox_fail_now(db, candidates[i].outbox_id,
                                   "the target was disabled before this was sent");
            continue;
        }
        claimed = notify_outbox_mark_sending(db, &candidates[i], now_ms);
        if (claimed < 0)
            return -1;
        if (claimed == 1) {
            *out = candidates[i];
            return 1;
        }
    }
    return 0;
}

/* Write the outcome columns of a row. 0 or -1. */
static int notify_outbox_write(sqlite3 *db, int64_t id, const char *state, int status,
                               const char *error, int64_t next_ms, int64_t delivered_ms,
                               int uncount)
{
    sqlite3_stmt *statement = NULL;
    int rc = -1;

    if (database_prepare(db,
                         "UPDATE notification_outbox SET state = ?1, last_status = ?2, "
                         "last_error = ?3, next_attempt_ms = coalesce(?4, next_attempt_ms), "
                         "delivered_ms = ?5, attempts = attempts - ?6 WHERE id = ?7",
                         &statement) != 0)
        return -1;
    sqlite3_bind_text(statement, 1, state, -1, SQLITE_STATIC);
    if (status > 0)
        sqlite3_bind_int(statement, 2, status);
    else
        sqlite3_bind_null(statement, 2);
    sqlite3_bind_text(statement, 3, error, -1, SQLITE_STATIC);
    if (next_ms > 0)
        sqlite3_bind_int64(statement, 4, next_ms);
    else
        sqlite3_bind_null(statement, 4);
    if (delivered_ms > 0)
        sqlite3_bind_int64(statement, 5, delivered_ms);
    else
        sqlite3_bind_null(statement, 5);
    sqlite3_bind_int(statement, 6, uncount);
    sqlite3_bind_int64(statement, 7, id);
    rc = notify_outbox_step(db, statement, "recording a notification attempt");
    sqlite3_finalize(statement);
    return rc;
}

int notify_outbox_finish(sqlite3 *db, const struct notify_job *job,
                         const struct notify_result *result, int64_t now_ms, uint32_t jitter,
                         char *state_out)
{
    char error[NOTIFY_ERROR_MAX + 48];
    const char *state;
    int64_t next_ms = 0, delivered_ms = 0;

    error_text_set(error, sizeof(error), "%s", result->error);
    if (result->outcome == NOTIFY_OUTCOME_DELIVERED) {
        state = "delivered";
        delivered_ms = now_ms;
    } else if (result->outcome == NOTIFY_OUTCOME_RETRY && job->attempts < NOTIFY_MAX_ATTEMPTS) {
        state = "pending";
        next_ms = now_ms + (result->retry_after_ms >= 0 ? result->retry_after_ms
                                                        : notify_backoff_ms(job->attempts, jitter));
    } else if (result->outcome == NOTIFY_OUTCOME_UNKNOWN) {
        state = "unknown";
    } else {
        state = "failed";
        if (result->outcome == NOTIFY_OUTCOME_RETRY)
            error_text_set(error, sizeof(error), "%s (gave up after %d attempts)", result->error,
                           job->attempts);
    }
    if (state_out != NULL)
        snprintf(state_out, NOTIFY_STATE_MAX, "%s", state);
    return notify_outbox_write(db, job->outbox_id, state, result->status, error, next_ms,
                               delivered_ms, 0);
}

int notify_outbox_abandon(sqlite3 *db, const struct notify_job *job, int sent)
{
    if (sent)
        return notify_outbox_write(db, job->outbox_id, "unknown", 0,
                                   "the hub stopped during this attempt; not resent, so it is "
                                   "never delivered twice",
                                   0, 0, 0);
    return notify_outbox_write(db, job->outbox_id, "pending", 0, "", database_now_ms(), 0, 1);
}

int notify_outbox_event_info(sqlite3 *db, int64_t event_id, struct notify_event_info *info,
                             uint8_t **snapshot)
{
    sqlite3_stmt *statement = NULL;
    struct event_row row;
    int found = -1;

    memset(info, 0, sizeof(*info));
    *snapshot = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT e.device_id, coalesce(d.name, e.device_id) FROM events e "
                           "LEFT JOIN devices d ON d.id = e.device_id WHERE e.id = ?",
                           -1, &statement, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_int64(statement, 1, event_id);
    found = sqlite3_step(statement) == SQLITE_ROW;
    if (!found)
        goto out;
    snprintf(info->device_id, sizeof(info->device_id), "%s", sqlite3_column_text(statement, 0));
    snprintf(info->device_name, sizeof(info->device_name), "%s", sqlite3_column_text(statement, 1));
    found = event_store_get(db, info->device_id, event_id, &row);
    if (found != 1)
        goto out;
    info->event_id = event_id;
    snprintf(info->type, sizeof(info->type), "%s", row.type);
    info->start_ms = row.start_ms;
    info->clip_start_ms = row.clip_start_ms;
    info->clip_end_ms = row.clip_end_ms;
    info->score = row.score;
    snprintf(info->boxes, sizeof(info->boxes), "%s", row.boxes);
    if (row.has_snapshot &&
        event_store_snapshot(db, info->device_id, event_id, snapshot, &info->snapshot_size) == 1)
        info->snapshot = *snapshot;
out:
    sqlite3_finalize(statement);
    return found;
}

/* Copy text column index into out (always terminated). */
static void notify_outbox_column(sqlite3_stmt *statement, int index, char *out, size_t size)
{
    const unsigned char *text = sqlite3_column_text(statement, index);
    snprintf(out, size, "%s", text != NULL ? (const char *)text : "");
}

int notify_outbox_list(sqlite3 *db, int64_t target_id, const char *state, int limit,
                       notify_delivery_callback callback, void *context)
{
    struct notify_delivery row;
    sqlite3_stmt *statement = NULL;
    int step = SQLITE_ERROR;

    if (database_prepare(
            db,
            "SELECT o.id, o.target_id, coalesce(o.event_id, 0), t.name, coalesce(e.type, ''), "
            "coalesce(e.device_id, ''), o.message_id, o.state, o.attempts, "
            "coalesce(o.last_status, 0), o.last_error, o.created_ms, "
            "coalesce(o.last_attempt_ms, 0), o.next_attempt_ms, coalesce(o.delivered_ms, 0) "
            "FROM notification_outbox o JOIN notification_targets t ON t.id = o.target_id "
            "LEFT JOIN events e ON e.id = o.event_id "
            "WHERE (?1 = 0 OR o.target_id = ?1) AND (?2 = '' OR o.state = ?2) "
            "ORDER BY o.id DESC LIMIT ?3",
            &statement) != 0)
        return -1;
    sqlite3_bind_int64(statement, 1, target_id);
    sqlite3_bind_text(statement, 2, state != NULL ? state : "", -1, SQLITE_STATIC);
    sqlite3_bind_int(statement, 3, limit);
    while ((step = sqlite3_step(statement)) == SQLITE_ROW) {
        memset(&row, 0, sizeof(row));
        row.id = sqlite3_column_int64(statement, 0);
        row.target_id = sqlite3_column_int64(statement, 1);
        row.event_id = sqlite3_column_int64(statement, 2);
        notify_outbox_column(statement, 3, row.target_name, sizeof(row.target_name));
        notify_outbox_column(statement, 4, row.event_type, sizeof(row.event_type));
        notify_outbox_column(statement, 5, row.device_id, sizeof(row.device_id));
        notify_outbox_column(statement, 6, row.message_id, sizeof(row.message_id));
        notify_outbox_column(statement, 7, row.state, sizeof(row.state));
        row.attempts = sqlite3_column_int(statement, 8);
        row.last_status = sqlite3_column_int(statement, 9);
        notify_outbox_column(statement, 10, row.last_error, sizeof(row.last_error));
        row.created_ms = sqlite3_column_int64(statement, 11);
        row.last_attempt_ms = sqlite3_column_int64(statement, 12);
        row.next_attempt_ms = sqlite3_column_int64(statement, 13);
        row.delivered_ms = sqlite3_column_int64(statement, 14);
        if (callback(&row, context) != 0) {
            step = SQLITE_DONE;
            break;
        }
    }
    if (step != SQLITE_DONE)
        log_error("listing deliveries: %s", sqlite3_errmsg(db));
    sqlite3_finalize(statement);
    return step == SQLITE_DONE ? 0 : -1;
}
