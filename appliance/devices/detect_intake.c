/*
 * detect_intake.c - detect frames from the link into the detection pool,
 * and the pool's results into person voting and notifications (see
 * detect_intake.h). detect_intake_on_frame runs on the link connection's
 * thread (the pool copies the boxes and the JPEG); detect_intake_on_result
 * on a pool worker. Nothing here outlives a call.
 */
#define LOG_MODULE "detection"

#include "devices/detect_intake.h"

#include "common/log.h"
#include "core/hub.h"
#include "detection/detection_pool.h"
#include "events/person_vote.h"
#include "notify/notify.h"
#include "storage/database.h"

int detect_intake_on_frame(struct hub *hub, const char *device_id,
                           const struct link_message *message)
{
    struct detection_box regions[LINK_MAX_BOXES];
    struct link_detect_frame frame;
    char reason[128];

    if (hub->detection == NULL)
        return -1;
    if (link_detect_frame_parse(message, &frame, reason, sizeof(reason)) != 0) {
        log_warn("doorbell %s: detect frame refused: %s", device_id, reason);
        return -1;
    }
    for (int i = 0; i < frame.box_count; i++)
        regions[i] = (struct detection_box){frame.boxes[i].x, frame.boxes[i].y, frame.boxes[i].w,
                                            frame.boxes[i].h};
    if (detection_pool_submit(hub->detection, device_id, frame.event_id, frame.timestamp_us,
                              regions, frame.box_count, frame.jpeg, frame.jpeg_size) != 0) {
        log_warn("doorbell %s: detect frame of event %u dropped: out of memory", device_id,
                 frame.event_id);
        return -1;
    }
    return 0;
}

void detect_intake_on_result(const struct detection_result *result, void *user)
{
    struct hub *hub = user;
    enum event_notify decision;
    struct event_row row;
    sqlite3 *db;

    if (!person_vote_add(hub->person_votes, result, &row, &decision))
        return;
    /* Targets already told of the motion keep their one row (the outbox
     * holds one per event and target). */
    db = database_thread_connection();
    if (db != NULL && decision == EVENT_NOTIFY_SEND &&
        notify_enqueue_event(db, &row, database_now_ms()) == 0)
        notify_wake(hub->notify);
    if (hub->event_published != NULL)
        hub->event_published(hub, &row);
}
