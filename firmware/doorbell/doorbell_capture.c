/*
 * doorbell_capture.c - the capture thread: camera -> privacy blackout ->
 * motion detection on about 10 frames a second (motion_runner.c) -> the main
 * x264 -> link queue; then, while the hub wants it, the same frame through
 * the sub-stream's x264 (encoder/sub_stream.h) -> link queue, so the sub
 * never delays the main stream; and after each frame the JPEG snapshots
 * owed to the hub and, when one is due, a copy of the frame for a timeline
 * preview. The main encoder's bitrate follows the still-scene rule
 * (encoder/still_scene.h): lowered while nothing moves, full again with a
 * keyframe on the very frame that shows motion (motion detection runs
 * first), a PIR or a ring. It never waits on the network.
 *
 * Thread: only the capture thread runs this file (doorbell_start creates it,
 * doorbell_stop joins it). It owns the camera's frames and the encoder's
 * output, and the capture-thread fields of struct doorbell (doorbell.h);
 * other threads reach it only through the request atomics and the snapshot
 * queue.
 */
#define LOG_MODULE "doorbelld"

#include <stdatomic.h>
#include <unistd.h>

#include "camera/camera.h"
#include "common/clock.h"
#include "common/log.h"
#include "doorbell/doorbell.h"
#include "encoder/encoder.h"
#include "encoder/still_scene.h"
#include "encoder/sub_stream.h"
#include "link/link_client.h"
#include "motion/motion_runner.h"
#include "preview/preview_sender.h"
#include "snapshot/snapshot_queue.h"

#define DOORBELL_SNAPSHOT_QUALITY   80
#define DOORBELL_SNAPSHOT_MAX_WIDTH 1280
#define DOORBELL_CAMERA_RETRY_US    100000 /* after a failed capture: retry, never spin */

/* In the scripted sim scene the visitor presses the bell: ring exactly as a
 * real button press would. Publishes the ground truth for the `scene`
 * command and returns the sim's PIR level (0 for other cameras). */
static int doorbell_capture_watch_sim(struct doorbell *doorbell)
{
    struct sim_ground_truth truth;
    int pressed;

    if (camera_sim_scene_state(doorbell->camera, &truth) != 0)
        return 0;
    pressed = truth.button_pressed;
    if (pressed && !doorbell->sim_button_was_pressed)
        doorbell_events_button_press(doorbell);
    doorbell->sim_button_was_pressed = pressed;
    pthread_mutex_lock(&doorbell->lock);
    doorbell->truth = truth;
    doorbell->have_truth = 1;
    pthread_mutex_unlock(&doorbell->lock);
    return truth.pir_active;
}

/* A size/rate change asked by the hub. The camera switches; the encoder
 * follows the new frames' size (doorbell_capture_follow_format). */
static void doorbell_capture_apply_format_request(struct doorbell *doorbell)
{
    int width = atomic_exchange(&doorbell->reconfigure_width, 0);
    int height = atomic_exchange(&doorbell->reconfigure_height, 0);
    int fps = atomic_exchange(&doorbell->reconfigure_fps, 0);

    if (width == 0 && fps == 0)
        return;
    if (width == 0) {
        width = doorbell->encoder_width;
        height = doorbell->encoder_height;
    }
    if (fps == 0)
        fps = doorbell->options.fps;
    if (camera_reconfigure(doorbell->camera, width, height, fps) != 0) {
        log_warn("the camera cannot do %dx%d@%d", width, height, fps);
        return;
    }
    doorbell->options.fps = fps;
    doorbell->options.width = width;
    doorbell->options.height = height;
}

/* Set the encoder up again for a new bitrate asked by the hub, or for frames
 * of another size (a file or V4L2 source decides its own size). */
static void doorbell_capture_follow_format(struct doorbell *doorbell,
                                           const struct camera_frame *frame)
{
    int bitrate = atomic_exchange(&doorbell->reconfigure_bitrate_kbps, 0);
    struct encoder_config config;

    if (bitrate <= 0 && frame->width == doorbell->encoder_width &&
        frame->height == doorbell->encoder_height)
        return;
    config = (struct encoder_config){frame->width,
                                     frame->height,
                                     doorbell->options.fps,
                                     bitrate > 0 ? bitrate : doorbell->options.bitrate_kbps,
                                     doorbell->options.keyframe_interval,
                                     doorbell->options.preset};
    if (encoder_reconfigure(doorbell->encoder, &config) != 0)
        return;
    doorbell->options.bitrate_kbps = config.bitrate_kbps;
    atomic_store(&doorbell->main_bitrate_now_kbps, config.bitrate_kbps);
    doorbell->encoder_width = frame->width;
    doorbell->encoder_height = frame->height;
    log_info("video now %dx%d at %d kbit/s", frame->width, frame->height, config.bitrate_kbps);
}

/* The VBV buffer the main encoder has at the full bitrate (encoder.c). */
static int doorbell_capture_vbv_kbit(const struct doorbell *doorbell)
{
    return doorbell->options.bitrate_kbps * ENCODER_VBV_FRAMES / doorbell->options.fps;
}

/* The still-scene rule before the main encode: a still picture's bitrate,
 * or the full one with a keyframe when something happened (pir_level: a
 * wired or simulated PIR sees a warm body now). */
static void doorbell_capture_still_rule(struct doorbell *doorbell, int pir_level)
{
    int64_t now = clock_monotonic_us();
    struct encoder_config config;
    int change, kbps;

    if (pir_level)
        atomic_store(&doorbell->activity_at_us, now);
    change = still_scene_update(&doorbell->still, now, atomic_load(&doorbell->activity_at_us));
    kbps = still_scene_bitrate(&doorbell->still, doorbell->options.bitrate_kbps);
    atomic_store(&doorbell->still_now, doorbell->still.still);
    if (kbps == atomic_load(&doorbell->main_bitrate_now_kbps) && change != 1)
        return;
    /* Something happened: a fresh x264 at the full bitrate, so this very
     * frame is a keyframe and the rate control does not creep up from the
     * still picture's rate. Going still only lowers the target. */
    if (change == 1 && encoder_restart(doorbell->encoder, kbps) == 0)
        goto done;
    if (change == 1)
        encoder_request_keyframe(doorbell->encoder);
    /* A still picture keeps the full bitrate's VBV buffer: its periodic
     * keyframes may be as large as before (P-frames of a still picture are
     * tiny, so the average still falls), instead of a quarter-size blur. */
    config =
        (struct encoder_config){doorbell->encoder_width,
                                doorbell->encoder_height,
                                doorbell->options.fps,
                                kbps,
                                doorbell->options.keyframe_interval,
                                doorbell->options.preset,
                                doorbell->still.still ? doorbell_capture_vbv_kbit(doorbell) : 0};
    if (encoder_reconfigure(doorbell->encoder, &config) != 0)
        return;
done:
    atomic_store(&doorbell->main_bitrate_now_kbps, kbps);
    log_info("%s picture: %d kbit/s", doorbell->still.still ? "still" : "active", kbps);
}

/* The sub-stream's part of a frame, after the main stream's. */
static void doorbell_capture_sub_stream(struct doorbell *doorbell, const struct camera_frame *frame)
{
    struct encoded_frame encoded;
    int rc;

    if (doorbell->sub == NULL)
        return;
    rc = sub_stream_encode(doorbell->sub, frame, doorbell->options.fps, &encoded);
    if (rc < 0)
        atomic_fetch_add(&doorbell->encode_errors, 1);
    if (rc <= 0)
        return;
    if (link_client_send_sub_video(doorbell->link, encoded.data, encoded.size, encoded.keyframe,
                                   encoded.sequence, encoded.capture_time_us) == 0)
        sub_stream_request_keyframe(doorbell->sub);
}

/* A detect frame for the hub's person detector, when due: while a motion
 * event goes on (with its boxes), else for DOORBELL_DETECT_PIR_US after a
 * PIR event (whole frame). Only a copy here; encoded on the preview thread. */
static void doorbell_capture_detect(struct doorbell *doorbell, const struct camera_frame *frame)
{
    struct link_box boxes[LINK_MAX_BOXES];
    int box_count = 0, fps = link_client_detect_fps(doorbell->link);
    uint32_t event_id = 0;
    long long pir_at;

    if (fps <= 0)
        return;
    if (!motion_runner_active_event(doorbell->motion, &event_id, boxes, &box_count)) {
        pir_at = atomic_load(&doorbell->pir_event_at_us);
        if (pir_at == 0 || clock_monotonic_us() - pir_at >= DOORBELL_DETECT_PIR_US)
            return;
        event_id = atomic_load(&doorbell->pir_event_id);
        box_count = 0;
    }
    preview_sender_offer_detect(doorbell->previews, frame, event_id, boxes, box_count, fps);
}

/* The capture thread: paced by the camera, one encode per frame (two while
 * the sub-stream is on). */
void *doorbell_capture_thread(void *data)
{
    struct doorbell *doorbell = data;
    struct camera_frame frame;
    struct encoded_frame encoded;

    while (!atomic_load(&doorbell->stopping)) {
        int pir_level;

        /* Before capturing: a reconfigured camera frees the planes of the
         * frame it returned last. */
        doorbell_capture_apply_format_request(doorbell);
        if (camera_capture(doorbell->camera, &frame) != 0) {
            usleep(DOORBELL_CAMERA_RETRY_US);
            continue;
        }
        atomic_fetch_add(&doorbell->frames_captured, 1);
        atomic_store(&doorbell->last_sequence, frame.sequence);
        doorbell_capture_follow_format(doorbell, &frame);
        /* Masks go before the encoder and the snapshot: masked pixels never leave. */
        motion_runner_blackout(doorbell->motion, &frame);
        pir_level = doorbell_capture_watch_sim(doorbell);
        motion_runner_process(doorbell->motion, &frame, clock_monotonic_us(), pir_level);
        doorbell_capture_still_rule(doorbell, pir_level);
        if (encoder_encode(doorbell->encoder, &frame, &encoded) != 0) {
            atomic_fetch_add(&doorbell->encode_errors, 1);
            continue;
        }
        atomic_fetch_add(&doorbell->frames_encoded, 1);
        if (link_client_send_video(doorbell->link, encoded.data, encoded.size, encoded.keyframe,
                                   encoded.sequence, encoded.capture_time_us) == 0)
            encoder_request_keyframe(doorbell->encoder);
        /* Main first: the sub-stream never delays what the hub records. */
        doorbell_capture_sub_stream(doorbell, &frame);
        /* A timeline preview, when due: only a copy here, encoded on its own thread. */
        preview_sender_offer(
            doorbell->previews, &frame, encoded.keyframe,
            doorbell->options.no_previews ? 0 : link_client_preview_interval_ms(doorbell->link));
        doorbell_capture_detect(doorbell, &frame);
        /* The JPEG after the frame is on its way: a snapshot must not delay live video. */
        snapshot_queue_send(&doorbell->snapshots, &frame, DOORBELL_SNAPSHOT_QUALITY,
                            DOORBELL_SNAPSHOT_MAX_WIDTH, doorbell->link);
    }
    return NULL;
}
