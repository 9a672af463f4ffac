/*
 * event_engine.c - mode and cooldown decisions for new events (see
 * event_engine.h). Plain SQL over the tables of 0004_notifications.sql.
 */
#define LOG_MODULE "events"

#include "events/event_engine.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"

static const char *const event_notify_names[] = {
    [EVENT_NOTIFY_SEND] = "sent",
    [EVENT_NOTIFY_COOLDOWN] = "cooldown",
    [EVENT_NOTIFY_MODE] = "mode",
};

const char *event_notify_name(enum event_notify decision)
{
    return (unsigned)decision <= EVENT_NOTIFY_MODE ? event_notify_names[decision] : "?";
}

/* Prepare sql or log why not. */
static sqlite3_stmt *event_engine_prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *statement = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &statement, NULL) != SQLITE_OK) {
        log_error("event rules: %s", sqlite3_errmsg(db));
        return NULL;
    }
    return statement;
}

/* Step a bound statement once and finalize it: 1 a row came back (its first
 * column in *value if not NULL), 0 none, -1 error (logged). */
static int event_engine_step(sqlite3 *db, sqlite3_stmt *statement, sqlite3_int64 *value)
{
    int step = sqlite3_step(statement), rc = -1;
    if (step == SQLITE_ROW) {
        if (value != NULL)
            *value = sqlite3_column_int64(statement, 0);
        rc = 1;
    } else if (step == SQLITE_DONE) {
        rc = 0;
    } else {
        log_error("event rules: %s", sqlite3_errmsg(db));
    }
    sqlite3_finalize(statement);
    return rc;
}

int event_engine_cooldown(sqlite3 *db, const char *device_id, const char *type, int *seconds_out)
{
    sqlite3_int64 seconds = 0;
    int found;
    sqlite3_stmt *statement = event_engine_prepare(
        db, "SELECT seconds FROM event_cooldowns WHERE type = ?2 AND device_id IN (?1, '*') "
            "ORDER BY device_id = '*' LIMIT 1");
    if (statement == NULL)
        return -1;
    sqlite3_bind_text(statement, 1, device_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 2, type, -1, SQLITE_STATIC);
    if ((found = event_engine_step(db, statement, &seconds)) < 0)
        return -1;
    *seconds_out = found ? (int)seconds : 0;
    return 0;
}

int event_engine_set_cooldown(sqlite3 *db, const char *device_id, const char *type, int seconds)
{
    sqlite3_stmt *statement;
    if (seconds < 0 || seconds > 86400)
        return -1;
    statement = event_engine_prepare(
        db, "INSERT OR REPLACE INTO event_cooldowns (device_id, type, seconds) VALUES (?, ?, ?)");
    if (statement == NULL)
        return -1;
    sqlite3_bind_text(statement, 1, device_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 2, type, -1, SQLITE_STATIC);
    sqlite3_bind_int(statement, 3, seconds);
    return event_engine_step(db, statement, NULL) < 0 ? -1 : 0;
}

int event_engine_get_mode(sqlite3 *db, char *out, size_t size)
{
    sqlite3_stmt *statement =
        event_engine_prepare(db, "SELECT value FROM hub_settings WHERE key = 'mode'");
    int step, rc = -1;

    snprintf(out, size, "home");
    if (statement == NULL)
        return -1;
    step = sqlite3_step(statement);
    if (step == SQLITE_ROW)
        snprintf(out, size, "%s", (const char *)sqlite3_column_text(statement, 0));
    if (step == SQLITE_ROW || step == SQLITE_DONE)
        rc = 0;
    else
        log_error("reading the mode: %s", sqlite3_errmsg(db));
    sqlite3_finalize(statement);
    return rc;
}

int event_engine_set_mode(sqlite3 *db, const char *mode)
{
    sqlite3_stmt *statement;
    if (mode == NULL ||
        (strcmp(mode, "home") != 0 && strcmp(mode, "away") != 0 && strcmp(mode, "disarmed") != 0))
        return -1;
    statement = event_engine_prepare(
        db, "INSERT OR REPLACE INTO hub_settings (key, value) VALUES ('mode', ?)");
    if (statement == NULL)
        return -1;
    sqlite3_bind_text(statement, 1, mode, -1, SQLITE_STATIC);
    return event_engine_step(db, statement, NULL) < 0 ? -1 : 0;
}

/* Does the mode let this type notify? 1, 0, or -1. */
static int event_engine_mode_allows(sqlite3 *db, const char *type)
{
    char mode[EVENT_MODE_MAX];
    sqlite3_stmt *statement;
    if (event_engine_get_mode(db, mode, sizeof(mode)) != 0)
        return -1;
    statement =
        event_engine_prepare(db, "SELECT 1 FROM mode_notifications WHERE mode = ? AND type = ?");
    if (statement == NULL)
        return -1;
    sqlite3_bind_text(statement, 1, mode, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 2, type, -1, SQLITE_STATIC);
    return event_engine_step(db, statement, NULL);
}

/* Did another event of the same doorbell and type notify after since_ms?
 * A person event counts for its trigger too: it was motion. 1, 0, -1. */
static int event_engine_notified_since(sqlite3 *db, const struct event_row *event, const char *type,
                                       int64_t since_ms)
{
    sqlite3_stmt *statement = event_engine_prepare(
        db, "SELECT 1 FROM events WHERE device_id = ?1 AND (type = ?2 OR trigger_type = ?2) AND "
            "notify = 'sent' AND start_ms > ?3 AND id <> ?4 LIMIT 1");
    if (statement == NULL)
        return -1;
    sqlite3_bind_text(statement, 1, event->device_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 2, type, -1, SQLITE_STATIC);
    sqlite3_bind_int64(statement, 3, since_ms);
    sqlite3_bind_int64(statement, 4, event->id);
    return event_engine_step(db, statement, NULL);
}

/* What the mode and the cooldown of `type` say about event. 0 or -1. */
static int event_engine_evaluate(sqlite3 *db, const struct event_row *event, const char *type,
                                 enum event_notify *out)
{
    const char *notify_type = event_engine_notify_type(type); /* package_* -> package */
    int allowed, recent = 0, cooldown = 0;

    *out = EVENT_NOTIFY_SEND;
    if ((allowed = event_engine_mode_allows(db, notify_type)) < 0 ||
        event_engine_cooldown(db, event->device_id, notify_type, &cooldown) != 0)
        return -1;
    if (allowed && cooldown > 0 &&
        (recent = event_engine_notified_since(db, event, type,
                                              event->start_ms - (int64_t)cooldown * 1000)) < 0)
        return -1;
    if (!allowed)
        *out = EVENT_NOTIFY_MODE;
    else if (recent)
        *out = EVENT_NOTIFY_COOLDOWN;
    return 0;
}

int event_engine_decide(sqlite3 *db, const struct event_row *event, enum event_notify *out)
{
    sqlite3_stmt *statement;

    if (event_engine_evaluate(db, event, event->type, out) != 0)
        return -1;
    statement = event_engine_prepare(db, "UPDATE events SET notify = ? WHERE id = ?");
    if (statement == NULL)
        return -1;
    sqlite3_bind_text(statement, 1, event_notify_name(*out), -1, SQLITE_STATIC);
    sqlite3_bind_int64(statement, 2, event->id);
    return event_engine_step(db, statement, NULL) < 0 ? -1 : 0;
}

int event_engine_decide_person(sqlite3 *db, const struct event_row *event, enum event_notify *out)
{
    sqlite3_stmt *statement;

    if (event_engine_evaluate(db, event, "person", out) != 0)
        return -1;
    statement = event_engine_prepare(
        db, "UPDATE events SET notify = CASE WHEN notify = 'sent' THEN 'sent' ELSE ? END "
            "WHERE id = ?");
    if (statement == NULL)
        return -1;
    sqlite3_bind_text(statement, 1, event_notify_name(*out), -1, SQLITE_STATIC);
    sqlite3_bind_int64(statement, 2, event->id);
    return event_engine_step(db, statement, NULL) < 0 ? -1 : 0;
}

const char *event_engine_notify_type(const char *type)
{
    if (strcmp(type, "package_delivered") == 0 || strcmp(type, "package_taken") == 0)
        return "package";
    return type;
}

int event_engine_is_motion(const char *type)
{
    return strcmp(type, "motion") == 0 || strcmp(type, "pir") == 0 || strcmp(type, "person") == 0;
}

int event_engine_motion_schedule(sqlite3 *db, const char *device_id, struct weekly_schedule *out)
{
    sqlite3_stmt *statement =
        event_engine_prepare(db, "SELECT schedule FROM motion_schedules WHERE device_id = ?");
    int step, rc = -1;

    memset(out, 0, sizeof(*out));
    if (statement == NULL)
        return -1;
    sqlite3_bind_text(statement, 1, device_id, -1, SQLITE_STATIC);
    step = sqlite3_step(statement);
    if (step == SQLITE_DONE)
        rc = 0;
    else if (step == SQLITE_ROW)
        rc = weekly_schedule_parse((const char *)sqlite3_column_text(statement, 0), out, NULL, 0);
    else
        log_error("motion schedule: %s", sqlite3_errmsg(db));
    sqlite3_finalize(statement);
    return rc;
}

int event_engine_set_motion_schedule(sqlite3 *db, const char *device_id,
                                     const struct weekly_schedule *schedule)
{
    char text[128];
    sqlite3_stmt *statement;

    if (schedule == NULL || !schedule->set) {
        statement = event_engine_prepare(db, "DELETE FROM motion_schedules WHERE device_id = ?");
        if (statement == NULL)
            return -1;
        sqlite3_bind_text(statement, 1, device_id, -1, SQLITE_STATIC);
        return event_engine_step(db, statement, NULL) < 0 ? -1 : 0;
    }
    weekly_schedule_format(schedule, text, sizeof(text));
    statement = event_engine_prepare(
        db, "INSERT OR REPLACE INTO motion_schedules (device_id, schedule) VALUES (?, ?)");
    if (statement == NULL)
        return -1;
    sqlite3_bind_text(statement, 1, device_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 2, text, -1, SQLITE_TRANSIENT);
    return event_engine_step(db, statement, NULL) < 0 ? -1 : 0;
}
