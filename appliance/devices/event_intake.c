/*
 * event_intake.c - a doorbell's events into the events table and its
 * recorder (see event_intake.h).
 *
 * An event with active = 1 starts (or, with the same device counter,
 * continues) an event; active = 0 ends it. A ring is instantaneous: it
 * starts and ends at once. The clip an event refers to runs from pre-roll
 * before its start to post-roll after its end, with the doorbell's
 * recording settings. A new event the database cannot take (its disk is
 * full) is kept in memory (event_backlog.h) and written, and notified, by
 * housekeeping once there is room.
 */
#define LOG_MODULE "events"

#include "devices/event_intake.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "chime/chime.h"
#include "common/log.h"
#include "core/hub.h"
#include "events/event_backlog.h"
#include "events/event_engine.h"
#include "events/event_store.h"
#include "events/package_rule.h"
#include "notify/notify.h"
#include "recording/recorder.h"
#include "recording/recording_settings.h"
#include "storage/database.h"
#include "storage/database_reserve.h"

/* The boxes of a link event as JSON text into out (always terminated). */
static void event_intake_boxes(const struct link_event *event, char *out, size_t size)
{
    cJSON *array = cJSON_CreateArray();
    char *text = NULL;

    snprintf(out, size, "[]");
    if (array == NULL)
        return;
    for (int i = 0; i < event->box_count && i < LINK_MAX_BOXES; i++) {
        cJSON *box = cJSON_CreateObject();
        if (box == NULL)
            break;
        cJSON_AddNumberToObject(box, "x", event->boxes[i].x);
        cJSON_AddNumberToObject(box, "y", event->boxes[i].y);
        cJSON_AddNumberToObject(box, "w", event->boxes[i].w);
        cJSON_AddNumberToObject(box, "h", event->boxes[i].h);
        cJSON_AddItemToArray(array, box);
    }
    text = cJSON_PrintUnformatted(array);
    if (text != NULL && strlen(text) < size)
        snprintf(out, size, "%s", text);
    cJSON_free(text);
    cJSON_Delete(array);
}

/* The database cannot take a new event: keep it in memory until it can
 * (housekeeping writes it, and then notifies), never lose it. */
static void event_intake_keep(const struct event_row *row)
{
    event_backlog_keep(row);
    log_warn("doorbell %s: %s event kept in memory until the database has room (%d kept)",
             row->device_id, row->type, event_backlog_count());
}

/*
 * Store a new event and let the engine decide on it; row->id is set. What
 * notifies is queued for the targets, due once its snapshot is there (or
 * after EVENT_SNAPSHOT_WAIT_MS when wants_snapshot), and every event goes to
 * the open UIs. 0 or -1.
 */
static int event_intake_store(struct hub *hub, sqlite3 *db, struct event_row *row,
                              int wants_snapshot, int late)
{
    enum event_notify decision;
    int64_t id;
    /* A full database releases its reserve (database_reserve.h): try once more. */
    if (event_store_insert(db, row, &id) != 0 &&
        (!database_reserve_note(sqlite3_extended_errcode(db)) ||
         event_store_insert(db, row, &id) != 0))
        return -1;
    row->id = id;
    event_engine_decide(db, row, &decision);
    snprintf(row->notify, sizeof(row->notify), "%s", event_notify_name(decision));
    log_info("doorbell %s: %s event %lld stored (notification: %s)", row->device_id, row->type,
             (long long)id, row->notify);
    if (decision == EVENT_NOTIFY_SEND &&
        notify_enqueue_event(db, row,
                             row->start_ms + (wants_snapshot ? EVENT_SNAPSHOT_WAIT_MS : 0)) == 0 &&
        !wants_snapshot)
        notify_wake(hub->notify);
    if (decision == EVENT_NOTIFY_SEND && !late && strcmp(row->type, "ring") == 0)
        chime_ring(hub->chime); /* the mode and cooldown silence it too */
    if (hub->event_published != NULL)
        hub->event_published(hub, row);
    return 0;
}

int64_t event_intake_state_event(struct hub *hub, const char *device_id, const char *type,
                                 int64_t now_ms)
{
    sqlite3 *db = database_thread_connection();
    struct event_row row;

    if (db == NULL)
        return -1;
    memset(&row, 0, sizeof(row));
    snprintf(row.device_id, sizeof(row.device_id), "%s", device_id);
    snprintf(row.type, sizeof(row.type), "%s", type);
    row.start_ms = row.end_ms = row.clip_start_ms = row.clip_end_ms = now_ms;
    row.score = 1.0;
    if (event_intake_store(hub, db, &row, 0, 0) != 0) {
        event_intake_keep(&row);
        return -1;
    }
    return row.id;
}

void event_intake_flush_backlog(struct hub *hub)
{
    sqlite3 *db = database_thread_connection();
    struct event_row row;
    int written = 0;

    while (db != NULL && event_backlog_peek(&row)) {
        row.id = 0;
        if (event_intake_store(hub, db, &row, 0, 1) != 0)
            break;
        event_backlog_pop();
        written++;
    }
    if (written > 0)
        log_info("%d events kept while the database was full are written now (%d left)", written,
                 event_backlog_count());
}

int64_t event_intake_on_event(struct hub *hub, const char *device_id, struct recorder *recorder,
                              const struct link_event *event, int64_t now_ms)
{
    sqlite3 *db = database_thread_connection();
    struct recording_settings settings;
    struct event_row row;
    const char *type = link_event_type_name(event->type);
    /* A package candidate is kept only after a person (events/package_rule.h). */
    int package = link_event_is_one_shot(event->type);
    /* A ring, a PIR trigger and a package are moments; motion starts, goes on and ends. */
    int instantaneous = event->type == LINK_EVENT_RING || event->type == LINK_EVENT_PIR || package;
    int64_t pre_ms, post_ms;
    int found;

    if (db == NULL)
        return -1;
    if (event_engine_is_motion(type)) {
        struct weekly_schedule schedule;
        if (event_engine_motion_schedule(db, device_id, &schedule) == 0 &&
            !weekly_schedule_allows_at(&schedule, now_ms)) {
            log_debug("doorbell %s: %s outside its motion schedule; ignored", device_id, type);
            return 0;
        }
    }
    if (package) {
        char why[128];
        int keep = package_rule_check(db, device_id, now_ms, why, sizeof(why));
        if (keep < 0)
            return -1;
        if (!keep) {
            log_info("doorbell %s: %s candidate dropped: %s", device_id, type, why);
            return 0;
        }
    }
    recording_settings_load(db, device_id, &settings);
    pre_ms = (int64_t)settings.recorder.pre_roll_seconds * 1000;
    post_ms = (int64_t)settings.recorder.post_roll_seconds * 1000;
    if (recorder != NULL)
        recorder_trigger_event(recorder); /* the post-roll counts from now */

    found = instantaneous ? 0
                          : event_store_find_active(db, device_id, type, event->id,
                                                    now_ms - EVENT_ACTIVE_STALE_MS, &row);
    if (found < 0)
        return -1;
    if (found) {
        if (event_store_extend(db, row.id, now_ms, now_ms + post_ms, event->active) != 0)
            return -1;
        return 0;
    }
    if (!event->active && !package)
        return 0; /* the end of an event we never saw start (hub restarted) */

    memset(&row, 0, sizeof(row));
    snprintf(row.device_id, sizeof(row.device_id), "%s", device_id);
    snprintf(row.type, sizeof(row.type), "%s", type);
    row.device_event_id = event->id;
    row.active = !instantaneous;
    row.start_ms = row.end_ms = now_ms;
    row.clip_start_ms = now_ms - pre_ms;
    row.clip_end_ms = now_ms + post_ms;
    row.score = event->score;
    event_intake_boxes(event, row.boxes, sizeof(row.boxes));
    if (event_intake_store(hub, db, &row, 1, 0) != 0) {
        event_intake_keep(&row);
        return 0; /* kept: written (and notified) once there is room; no snapshot */
    }
    return row.id;
}

void event_intake_on_snapshot(struct hub *hub, int64_t event_id, const uint8_t *jpeg, size_t size)
{
    sqlite3 *db = database_thread_connection();
    if (db != NULL && event_store_set_snapshot(db, event_id, jpeg, size) == 0)
        notify_event_ready(hub->notify, db, event_id);
}
