/*
 * doorbell_events.c - the button, the PIR and motion detection as the hub
 * sees them: link EVENT messages, each new event owed its own snapshot
 * (docs/protocol.md, "Event snapshots"), and the doorbell's own ding when
 * the button rings.
 *
 * Threads: the button is pressed from the control thread (`press`), the GPIO
 * thread (--button-gpio) or the capture thread (the sim's scripted
 * visitor); PIR events come from the control or the GPIO thread; motion events from the capture
 * thread (motion_runner.c). Event ids come from the doorbell's atomic counter; the button's
 * debounce time is guarded by the doorbell's lock. Nothing here allocates beyond the cJSON trees it
 * builds and frees.
 */
#define LOG_MODULE "doorbelld"

#include <stdatomic.h>
#include <string.h>

#include "audio/audio_playback.h"
#include "common/clock.h"
#include "common/log.h"
#include "doorbell/doorbell.h"
#include "link/link_client.h"
#include "motion/motion_runner.h"
#include "replies/reply_player.h"
#include "snapshot/snapshot_queue.h"

#define DOORBELL_DEBOUNCE_US 50000LL /* contact bounce after a press */

/* Something happened in front of the doorbell (motion, PIR, ring): the
 * still-scene rule restores the full bitrate at the next frame. Any thread. */
void doorbell_events_activity(struct doorbell *doorbell)
{
    atomic_store(&doorbell->activity_at_us, clock_monotonic_us());
}

/* Send one EVENT message; a failure to encode is logged. Any thread. */
static void doorbell_events_send_message(struct doorbell *doorbell, const struct link_event *event)
{
    cJSON *json = link_build_event(event);

    if (json == NULL) {
        log_warn("%s event %u could not be encoded", link_event_type_name(event->type), event->id);
        return;
    }
    link_client_send_json(doorbell->link, LINK_EVENT, event->id, json);
    cJSON_Delete(json);
}

/* Send a momentary event (ring, pir, ...) now and owe it a snapshot. Returns
 * its device counter. Any thread. */
uint32_t doorbell_events_send(struct doorbell *doorbell, enum link_event_type type)
{
    struct link_event event;

    doorbell_events_activity(doorbell);
    memset(&event, 0, sizeof(event));
    event.type = type;
    event.id = atomic_fetch_add(&doorbell->next_event_id, 1) + 1;
    event.score = 1.0;
    event.active = 1;
    doorbell_events_send_message(doorbell, &event);
    snapshot_queue_add_event(&doorbell->snapshots, type, event.id);
    log_info("%s event %u", link_event_type_name(type), event.id);
    return event.id;
}

/* Reply player thread: nobody answered ring event_id, and the doorbell
 * played reply_id by itself; the hub notes it on the ring. */
void doorbell_events_auto_reply(uint32_t event_id, uint32_t reply_id, void *context)
{
    struct doorbell *doorbell = context;
    struct link_event event;

    memset(&event, 0, sizeof(event));
    event.type = LINK_EVENT_RING;
    event.id = event_id;
    event.score = 1.0;
    event.active = 0;
    event.auto_reply = reply_id;
    doorbell_events_send_message(doorbell, &event);
}

/*
 * The button went down. A press within DOORBELL_DEBOUNCE_US of the last one
 * is contact bounce and ignored; any other rings at once: a ring event, a
 * snapshot of this moment, and the doorbell's own ding so the visitor hears
 * it worked. 1 if it rang. Any thread.
 */
int doorbell_events_button_press(struct doorbell *doorbell)
{
    int64_t now = clock_monotonic_us();
    uint32_t event_id;
    int bounce;

    pthread_mutex_lock(&doorbell->lock);
    bounce = doorbell->button_pressed_at_us != 0 &&
             now - doorbell->button_pressed_at_us < DOORBELL_DEBOUNCE_US;
    if (!bounce)
        doorbell->button_pressed_at_us = now;
    pthread_mutex_unlock(&doorbell->lock);
    if (bounce)
        return 0;
    event_id = doorbell_events_send(doorbell, LINK_EVENT_RING);
    if (doorbell->reply_player != NULL)
        reply_player_on_ring(doorbell->reply_player, event_id);
    if (doorbell->speaker != NULL)
        audio_playback_chime(doorbell->speaker);
    return 1;
}

/* The PIR saw someone (`pir`, or --pir-gpio's active edge): the motion
 * runner hears of it and the hub gets a PIR event with its snapshot. Any
 * thread. */
void doorbell_events_pir(struct doorbell *doorbell)
{
    uint32_t event_id;

    motion_runner_pir(doorbell->motion);
    event_id = doorbell_events_send(doorbell, LINK_EVENT_PIR);
    atomic_store(&doorbell->pir_event_at_us, (long long)clock_monotonic_us());
    atomic_store(&doorbell->pir_event_id, event_id);
}

/* The motion runner's callback (capture thread): the event to the hub; a
 * start owes it a picture. context is the doorbell. */
void doorbell_events_on_motion(const struct link_event *event, void *context)
{
    struct doorbell *doorbell = context;

    if (event->active)
        doorbell_events_activity(doorbell);
    doorbell_events_send_message(doorbell, event);
    if (event->type == LINK_EVENT_PACKAGE_DELIVERED || event->type == LINK_EVENT_PACKAGE_TAKEN) {
        snapshot_queue_add_event(&doorbell->snapshots, event->type, event->id);
        return; /* one-shot: its picture is the zone as it is now */
    }
    if (event->active && event->id != doorbell->motion_started_id) {
        doorbell->motion_started_id = event->id;
        snapshot_queue_add_event(&doorbell->snapshots, LINK_EVENT_MOTION, event->id);
    }
}

/* Control thread, test-only `motion-event`: a motion event that starts and
 * ends at once, as the detector reports one, so a test can start it within
 * a millisecond of a ring (two commands in one write). */
void doorbell_events_test_motion(struct doorbell *doorbell)
{
    struct link_event event = {.type = LINK_EVENT_MOTION, .score = 1.0, .active = 1};

    event.id = atomic_fetch_add(&doorbell->next_event_id, 1) + 1;
    doorbell_events_send_message(doorbell, &event);
    snapshot_queue_add_event(&doorbell->snapshots, LINK_EVENT_MOTION, event.id);
    event.active = 0;
    doorbell_events_send_message(doorbell, &event);
}
