/*
 * doorbell_control.c - the commands of the doorbell's control socket
 * (control_socket.h): the button, the PIR, the sim's battery and scene
 * triggers, snapshots and keyframes, and the JSON reports `stats`, `status`
 * (encoders, sub-stream, still scene), `motion` and `scene`, built with cJSON. Replies are one
 * line: "ok", "ok: ...", "error: ..." or a JSON object.
 *
 * Thread: the control thread (control_socket.c) calls
 * doorbell_control_handle; it reaches the others only through their
 * thread-safe entry points and reads the sim ground truth under the
 * doorbell's lock. Every cJSON tree is built and freed within one command.
 */
#define LOG_MODULE "doorbelld"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio_capture.h"
#include "audio/speaker_history.h"
#include "camera/camera.h"
#include "common/motion_config.h"
#include "doorbell/doorbell.h"
#include "encoder/encoder.h"
#include "encoder/sub_stream.h"
#include "link/link_client.h"
#include "preview/preview_sender.h"
#include "motion/motion_runner.h"
#include "pairing/pairing.h"
#include "snapshot/snapshot_queue.h"

/* Print json (NULL: it could not be built) into reply as one line, or what
 * did not fit: "error: WHAT does not fit the reply". Frees json. */
static void doorbell_control_reply_json(cJSON *json, const char *what, char *reply,
                                        size_t reply_size)
{
    char *text = json != NULL ? cJSON_PrintUnformatted(json) : NULL;

    if (text != NULL && strlen(text) < reply_size)
        snprintf(reply, reply_size, "%s", text);
    else
        snprintf(reply, reply_size, "error: %s does not fit the reply", what);
    cJSON_free(text);
    cJSON_Delete(json);
}

/* Add a number to object; 0, or -1 if out of memory. */
static int doorbell_control_add_number(cJSON *object, const char *name, double value)
{
    return cJSON_AddNumberToObject(object, name, value) != NULL ? 0 : -1;
}

/* The echo canceller's figures under "echo" (nothing without a canceller);
 * 0, or -1 if out of memory. */
static int doorbell_control_add_echo(cJSON *json, struct doorbell *doorbell)
{
    struct audio_capture_stats audio;

    if (doorbell->microphone == NULL)
        return 0;
    audio_capture_get_stats(doorbell->microphone, &audio);
    if (!audio.echo_active)
        return 0;
    cJSON *echo = cJSON_AddObjectToObject(json, "echo");
    if (echo == NULL ||
        cJSON_AddStringToObject(echo, "mode", echo_cancel_mode_name(audio.echo.mode)) == NULL ||
        cJSON_AddBoolToObject(echo, "converged", audio.echo.converged) == NULL ||
        cJSON_AddBoolToObject(echo, "ducking", audio.echo.ducking) == NULL ||
        doorbell_control_add_number(echo, "frames", (double)audio.echo.frames) != 0 ||
        doorbell_control_add_number(echo, "speaker_frames", (double)audio.echo.speaker_frames) !=
            0 ||
        doorbell_control_add_number(echo, "ducked_frames", (double)audio.echo.ducked_frames) != 0 ||
        doorbell_control_add_number(echo, "onsets", (double)audio.echo.onsets) != 0 ||
        doorbell_control_add_number(echo, "resets", (double)audio.echo.resets) != 0 ||
        doorbell_control_add_number(echo, "echo_return_loss_db",
                                    round(audio.echo.echo_return_loss_db * 10.0) / 10.0) != 0 ||
        doorbell_control_add_number(echo, "reference_missing", (double)audio.reference_missing) !=
            0)
        return -1;
    if (doorbell->speaker_history != NULL) {
        struct speaker_history_stats history;
        speaker_history_get_stats(doorbell->speaker_history, &history);
        if (doorbell_control_add_number(echo, "speaker_gaps", (double)history.gaps) != 0 ||
            doorbell_control_add_number(echo, "speaker_anchors", (double)history.anchors) != 0)
            return -1;
    }
    return 0;
}

/* `stats`: the capture and link counters and the video format in force, or
 * NULL if out of memory. The caller deletes the tree. */
static cJSON *doorbell_control_stats(struct doorbell *doorbell)
{
    struct link_client_stats link;
    struct preview_sender_stats previews;
    cJSON *json = cJSON_CreateObject();

    link_client_get_stats(doorbell->link, &link);
    preview_sender_get_stats(doorbell->previews, &previews);
    if (json == NULL ||
        doorbell_control_add_number(json, "frames_captured",
                                    (double)atomic_load(&doorbell->frames_captured)) != 0 ||
        doorbell_control_add_number(json, "frames_encoded",
                                    (double)atomic_load(&doorbell->frames_encoded)) != 0 ||
        doorbell_control_add_number(json, "encode_errors",
                                    (double)atomic_load(&doorbell->encode_errors)) != 0 ||
        doorbell_control_add_number(json, "last_sequence", atomic_load(&doorbell->last_sequence)) !=
            0 ||
        doorbell_control_add_number(json, "video_sent", (double)link.video_sent) != 0 ||
        doorbell_control_add_number(json, "video_dropped", (double)link.video_dropped) != 0 ||
        cJSON_AddBoolToObject(json, "connected", link.connected) == NULL ||
        doorbell_control_add_number(json, "connects", (double)link.connects) != 0 ||
        doorbell_control_add_number(json, "disconnects", (double)link.disconnects) != 0 ||
        doorbell_control_add_number(json, "auth_failures", (double)link.auth_failures) != 0 ||
        doorbell_control_add_number(json, "width", doorbell->options.width) != 0 ||
        doorbell_control_add_number(json, "height", doorbell->options.height) != 0 ||
        doorbell_control_add_number(json, "fps", doorbell->options.fps) != 0 ||
        doorbell_control_add_number(json, "bitrate_kbps", doorbell->options.bitrate_kbps) != 0 ||
        doorbell_control_add_number(json, "previews_sent", (double)previews.sent) != 0 ||
        doorbell_control_add_number(json, "previews_busy", (double)previews.busy) != 0 ||
        doorbell_control_add_number(json, "preview_encode_us", (double)previews.encode_us) != 0 ||
        doorbell_control_add_number(json, "preview_copy_us", (double)previews.copy_us) != 0 ||
        doorbell_control_add_echo(json, doorbell) != 0) {
        cJSON_Delete(json);
        return NULL;
    }
    return json;
}

/* `status`: the encoders running and the still-scene state: {encoders,
 * sub_stream {on, width, height, fps, bitrate_kbps, frames_encoded} (null
 * for a doorbell without one), still, main_bitrate_kbps, bitrate_kbps,
 * detect_fps (the hub's; 0 = none), detect_frames_sent, detect_frames_busy
 * (due while the previous was being encoded), detect_encode_us}, or
 * NULL if out of memory. The caller deletes the tree. */
static cJSON *doorbell_control_status(struct doorbell *doorbell)
{
    struct sub_stream_stats sub = {0};
    struct preview_sender_stats previews;
    cJSON *json = cJSON_CreateObject();
    cJSON *object;

    if (doorbell->sub != NULL)
        sub_stream_get_stats(doorbell->sub, &sub);
    preview_sender_get_stats(doorbell->previews, &previews);
    if (json == NULL || doorbell_control_add_number(json, "encoders", 1 + (sub.on != 0)) != 0 ||
        doorbell_control_add_number(json, "detect_fps", link_client_detect_fps(doorbell->link)) !=
            0 ||
        doorbell_control_add_number(json, "detect_frames_sent", (double)previews.detect_sent) !=
            0 ||
        doorbell_control_add_number(json, "detect_frames_busy", (double)previews.detect_busy) !=
            0 ||
        doorbell_control_add_number(json, "detect_encode_us", (double)previews.detect_encode_us) !=
            0 ||
        cJSON_AddBoolToObject(json, "still", atomic_load(&doorbell->still_now)) == NULL ||
        doorbell_control_add_number(json, "main_bitrate_kbps",
                                    atomic_load(&doorbell->main_bitrate_now_kbps)) != 0 ||
        doorbell_control_add_number(json, "bitrate_kbps", doorbell->options.bitrate_kbps) != 0)
        goto fail;
    if (doorbell->sub == NULL) {
        if (cJSON_AddNullToObject(json, "sub_stream") == NULL)
            goto fail;
        return json;
    }
    object = cJSON_AddObjectToObject(json, "sub_stream");
    if (object == NULL || cJSON_AddBoolToObject(object, "on", sub.on) == NULL ||
        doorbell_control_add_number(object, "width", sub.width) != 0 ||
        doorbell_control_add_number(object, "height", sub.height) != 0 ||
        doorbell_control_add_number(object, "fps", sub.fps) != 0 ||
        doorbell_control_add_number(object, "bitrate_kbps", sub.bitrate_kbps) != 0 ||
        doorbell_control_add_number(object, "frames_encoded", (double)sub.frames_encoded) != 0)
        goto fail;
    return json;

fail:
    cJSON_Delete(json);
    return NULL;
}

/* A box coordinate to 4 decimals, as the scene has always been reported. */
static double doorbell_control_round4(double value)
{
    return round(value * 10000.0) / 10000.0;
}

/* `scene`: the sim's ground truth of the newest frame, for tests that compare
 * the hub's events with the scene; NULL if out of memory. The caller deletes
 * the tree. */
static cJSON *doorbell_control_scene(const struct sim_ground_truth *truth)
{
    static const char *const kinds[] = {"visitor", "car", "cat", "box"};
    cJSON *json = cJSON_CreateObject();
    cJSON *objects;

    if (json == NULL ||
        doorbell_control_add_number(json, "scene_time_us", (double)truth->scene_time_us) != 0 ||
        doorbell_control_add_number(json, "night", truth->night) != 0 ||
        doorbell_control_add_number(json, "light_on", truth->light_on) != 0 ||
        doorbell_control_add_number(json, "lighting_changing", truth->lighting_changing) != 0 ||
        doorbell_control_add_number(json, "pir", truth->pir_active) != 0)
        goto fail;
    objects = cJSON_AddArrayToObject(json, "objects");
    if (objects == NULL)
        goto fail;
    for (int i = 0; i < truth->object_count && i < SIM_SCENE_MAX_OBJECTS; i++) {
        const struct sim_object_box *box = &truth->objects[i];
        cJSON *object = cJSON_CreateObject();
        if (object == NULL)
            goto fail;
        if (!cJSON_AddItemToArray(objects, object)) {
            cJSON_Delete(object);
            goto fail;
        }
        if (cJSON_AddStringToObject(object, "kind",
                                    (unsigned)box->kind < 4 ? kinds[box->kind] : "?") == NULL ||
            doorbell_control_add_number(object, "x", doorbell_control_round4(box->x)) != 0 ||
            doorbell_control_add_number(object, "y", doorbell_control_round4(box->y)) != 0 ||
            doorbell_control_add_number(object, "w", doorbell_control_round4(box->width)) != 0 ||
            doorbell_control_add_number(object, "h", doorbell_control_round4(box->height)) != 0)
            goto fail;
    }
    return json;

fail:
    cJSON_Delete(json);
    return NULL;
}

/* `scene`, or an error before the first sim frame (or for another camera). */
static void doorbell_control_reply_scene(struct doorbell *doorbell, char *reply, size_t reply_size)
{
    struct sim_ground_truth truth;
    int have;

    pthread_mutex_lock(&doorbell->lock);
    have = doorbell->have_truth;
    truth = doorbell->truth;
    pthread_mutex_unlock(&doorbell->lock);
    if (!have) {
        snprintf(reply, reply_size, "error: no sim scene frame yet");
        return;
    }
    doorbell_control_reply_json(doorbell_control_scene(&truth), "scene", reply, reply_size);
}

/* `motion`: the motion settings in force, as JSON. */
static void doorbell_control_reply_motion(struct doorbell *doorbell, char *reply, size_t reply_size)
{
    struct motion_config config;

    motion_runner_get_config(doorbell->motion, &config);
    doorbell_control_reply_json(motion_config_to_json(&config), "motion settings", reply,
                                reply_size);
}

/* `battery N`: the sim's battery, -1 (mains) or a percentage, reported at once. */
static void doorbell_control_battery(struct doorbell *doorbell, const char *argument, char *reply,
                                     size_t reply_size)
{
    char *end = NULL;
    long percent = strtol(argument, &end, 10);

    if (argument[0] == '\0' || *end != '\0' || percent < -1 || percent > 100) {
        snprintf(reply, reply_size, "error: battery takes -1 (mains) or 0..100");
        return;
    }
    atomic_store(&doorbell->battery_percent, (int)percent);
    doorbell_send_telemetry(doorbell);
    snprintf(reply, reply_size, "ok");
}

/* `light on|off`, `night`, `day` and the sim's other scene triggers. */
static void doorbell_control_trigger(struct doorbell *doorbell, const char *name,
                                     const char *argument, char *reply, size_t reply_size)
{
    enum camera_trigger trigger;
    char trigger_name[48];

    if (strcmp(name, "light") == 0)
        snprintf(trigger_name, sizeof(trigger_name), "light_%s", argument);
    else
        snprintf(trigger_name, sizeof(trigger_name), "%s", name);
    if (camera_trigger_parse(trigger_name, &trigger) != 0 ||
        camera_trigger(doorbell->camera, trigger) != 0)
        snprintf(reply, reply_size, "error: this camera cannot do '%s'", trigger_name);
    else
        snprintf(reply, reply_size, "ok");
}

/* `hold SECONDS`: the button held that long (10 s opens pairing mode, 30 s
 * resets); only a doorbell that pairs (no --device-id) has pairing. */
static void doorbell_control_hold(struct doorbell *doorbell, const char *argument, char *reply,
                                  size_t reply_size)
{
    char *end = NULL;
    long seconds = strtol(argument, &end, 10);

    if (argument[0] == '\0' || *end != '\0' || seconds < 0 || seconds > 3600) {
        snprintf(reply, reply_size, "error: hold takes seconds, 0..3600");
        return;
    }
    if (doorbell->pairing == NULL) {
        snprintf(reply, reply_size,
                 "error: pairing is not available: this doorbell uses a secret (--device-id)");
        return;
    }
    pairing_hold(doorbell->pairing, (int)seconds, reply, reply_size);
}

/* Control thread: one command line (no newline) into a one-line reply.
 * context is the doorbell. */
void doorbell_control_handle(const char *command, char *reply, size_t reply_size, void *context)
{
    struct doorbell *doorbell = context;
    enum camera_trigger trigger;
    char name[32] = "", argument[32] = "";

    sscanf(command, "%31s %31s", name, argument);
    if (strcmp(name, "press") == 0 || strcmp(name, "ring") == 0) {
        if (doorbell_events_button_press(doorbell))
            snprintf(reply, reply_size, "ok");
        else
            snprintf(reply, reply_size, "ok: ignored (contact bounce)");
    } else if (strcmp(name, "pir") == 0) {
        doorbell_events_pir(doorbell);
        snprintf(reply, reply_size, "ok");
    } else if (strcmp(name, "battery") == 0) {
        doorbell_control_battery(doorbell, argument, reply, reply_size);
    } else if (strcmp(name, "motion-event") == 0) {
        doorbell_events_test_motion(doorbell);
        snprintf(reply, reply_size, "ok");
    } else if (strcmp(name, "motion") == 0) {
        doorbell_control_reply_motion(doorbell, reply, reply_size);
    } else if (strcmp(name, "scene") == 0) {
        doorbell_control_reply_scene(doorbell, reply, reply_size);
    } else if (strcmp(name, "snapshot") == 0) {
        snapshot_queue_add_command(&doorbell->snapshots, 0);
        snprintf(reply, reply_size, "ok");
    } else if (strcmp(name, "keyframe") == 0) {
        encoder_request_keyframe(doorbell->encoder);
        if (doorbell->sub != NULL)
            sub_stream_request_keyframe(doorbell->sub);
        snprintf(reply, reply_size, "ok");
    } else if (strcmp(name, "light") == 0 || strcmp(name, "night") == 0 ||
               strcmp(name, "day") == 0 || camera_trigger_parse(name, &trigger) == 0) {
        doorbell_control_trigger(doorbell, name, argument, reply, reply_size);
    } else if (strcmp(name, "status") == 0) {
        doorbell_control_reply_json(doorbell_control_status(doorbell), "status", reply, reply_size);
    } else if (strcmp(name, "stats") == 0) {
        doorbell_control_reply_json(doorbell_control_stats(doorbell), "stats", reply, reply_size);
    } else if (strcmp(name, "hold") == 0) {
        doorbell_control_hold(doorbell, argument, reply, reply_size);
    } else if (strcmp(name, "help") == 0 || name[0] == '\0') {
        snprintf(reply, reply_size,
                 "commands: press, pir, battery N, snapshot, keyframe, light on|off, night, day, "
                 "visitor, car, cat, deliver, take, stats, status, motion, scene, hold SECONDS; "
                 "test-only: "
                 "motion-event");
    } else {
        snprintf(reply, reply_size, "error: unknown command '%s' (try help)", name);
    }
}
