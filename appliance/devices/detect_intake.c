/*
 * detect_intake.c - detect frames from the link into the detection pool
 * (see detect_intake.h). Runs on the link connection's thread; the pool
 * copies the boxes and the JPEG, so nothing here outlives the call.
 */
#define LOG_MODULE "detection"

#include "devices/detect_intake.h"

#include "common/log.h"
#include "core/hub.h"
#include "detection/detection_pool.h"

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
