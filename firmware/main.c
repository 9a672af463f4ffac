/*
 * main.c - doorbelld, the Doorstep doorbell firmware.
 *
 * Threads:
 *   capture  - camera -> privacy blackout -> x264 -> link queue; motion
 *              detection on about 10 frames a second (motion_runner.c);
 *              JPEG snapshots of the current frame when asked. Never waits
 *              on the network.
 *   link     - libwebsockets client to the hub (link_client.c).
 *   control  - the Unix control socket (button, PIR, scene triggers, stats).
 *   main     - starts the others, sends telemetry every 10 s, waits for
 *              SIGTERM/SIGINT and stops everything in reverse order.
 * Shared state between them is the struct doorbell below: atomics for
 * requests and counters, the link client's own lock for its queue, `lock`
 * for the button and the published sim ground truth, and the motion
 * runner's own lock for its settings.
 *
 * `doorbelld ctl SOCKET COMMAND...` is the command-line client of the
 * control socket.
 */
#define LOG_MODULE "doorbelld"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/platform_util.h>

#include "audio/audio_capture.h"
#include "audio/audio_playback.h"
#include "camera/camera.h"
#include "camera/sim_scene.h"
#include "common/link_protocol.h"
#include "common/log.h"
#include "control/control_socket.h"
#include "doorbell/doorbell_options.h"
#include "encoder/encoder.h"
#include "link/link_client.h"
#include "common/motion_config.h"
#include "motion/motion_runner.h"
#include "replay/replay.h"
#include "snapshot/snapshot.h"
#include "snapshot/snapshot_queue.h"

#define DOORBELL_FIRMWARE_VERSION   "doorbelld 0.1.0"
#define DOORBELL_TELEMETRY_PERIOD   10
#define DOORBELL_SNAPSHOT_QUALITY   80
#define DOORBELL_SNAPSHOT_MAX_WIDTH 1280
#define DOORBELL_DEBOUNCE_US        50000LL /* contact bounce after a press */

struct doorbell {
    struct doorbell_options options;
    struct camera *camera;
    struct encoder *encoder;
    struct link_client *link;
    struct control_socket *control;
    struct motion_runner *motion;
    struct audio_capture *microphone; /* NULL without --audio-device */
    struct audio_playback *speaker;   /* NULL without a speaker device */
    atomic_uint audio_sequence;
    pthread_t capture_thread;
    atomic_int stopping;
    /* Requests from other threads to the capture thread. */
    struct snapshot_queue snapshots; /* pictures owed to the hub, taken after each frame */
    atomic_int reconfigure_bitrate_kbps;
    atomic_int reconfigure_width, reconfigure_height, reconfigure_fps; /* 0 = unchanged */
    /* Counters for `stats`; written by the capture thread. */
    atomic_uint_fast64_t frames_captured, frames_encoded, encode_errors;
    atomic_uint last_sequence;
    atomic_uint next_event_id;
    atomic_int battery_percent; /* -1 = mains; the sim sets it with `battery N` */
    time_t started_at;
    int encoder_width, encoder_height; /* capture thread: the size x264 is set up for */
    int sim_button_was_pressed;        /* capture thread: edge detection of the sim's bell */
    uint32_t motion_started_id;        /* capture thread: the last motion event given a picture */
    /* Guarded by lock. */
    pthread_mutex_t lock;
    int64_t button_pressed_at_us; /* monotonic; last accepted press, 0 = never */
    int have_truth;
    struct sim_ground_truth truth; /* of the newest sim frame, for the `scene` command */
};

/* Monotonic clock in microseconds. */
static int64_t doorbell_now_us(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000LL + now.tv_nsec / 1000;
}

static void doorbell_send_event(struct doorbell *doorbell, enum link_event_type type);
static void doorbell_send_telemetry(struct doorbell *doorbell);
static void doorbell_ring(struct doorbell *doorbell);

static int doorbell_button_press(struct doorbell *doorbell);

/* Capture thread: in the scripted sim scene the visitor presses the bell;
 * ring exactly as a real button press would. Publishes the ground truth for
 * the `scene` command and returns the sim's PIR level (0 for other cameras). */
static int doorbell_watch_sim(struct doorbell *doorbell)
{
    struct sim_ground_truth truth;
    int pressed;

    if (camera_sim_scene_state(doorbell->camera, &truth) != 0)
        return 0;
    pressed = truth.button_pressed;
    if (pressed && !doorbell->sim_button_was_pressed)
        doorbell_button_press(doorbell);
    doorbell->sim_button_was_pressed = pressed;
    pthread_mutex_lock(&doorbell->lock);
    doorbell->truth = truth;
    doorbell->have_truth = 1;
    pthread_mutex_unlock(&doorbell->lock);
    return truth.pir_active;
}

/* Capture thread: a size/rate change asked by the hub. The camera switches;
 * the encoder follows the new frames' size below. */
static void doorbell_apply_format_request(struct doorbell *doorbell)
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

/* The capture thread: paced by the camera, one encode per frame. */
static void *doorbell_capture_thread(void *data)
{
    struct doorbell *doorbell = data;
    struct camera_frame frame;
    struct encoded_frame encoded;

    while (!atomic_load(&doorbell->stopping)) {
        int bitrate, pir_level;

        /* Before capturing: a reconfigured camera frees the planes of the
         * frame it returned last. */
        doorbell_apply_format_request(doorbell);
        if (camera_capture(doorbell->camera, &frame) != 0) {
            usleep(100000); /* camera hiccup: retry, never spin */
            continue;
        }
        atomic_fetch_add(&doorbell->frames_captured, 1);
        atomic_store(&doorbell->last_sequence, frame.sequence);

        bitrate = atomic_exchange(&doorbell->reconfigure_bitrate_kbps, 0);
        /* A file or V4L2 source decides its own size: follow it. */
        if (bitrate > 0 || frame.width != doorbell->encoder_width ||
            frame.height != doorbell->encoder_height) {
            struct encoder_config config = {frame.width,
                                            frame.height,
                                            doorbell->options.fps,
                                            bitrate > 0 ? bitrate : doorbell->options.bitrate_kbps,
                                            doorbell->options.keyframe_interval,
                                            doorbell->options.preset};
            if (encoder_reconfigure(doorbell->encoder, &config) == 0) {
                doorbell->options.bitrate_kbps = config.bitrate_kbps;
                doorbell->encoder_width = frame.width;
                doorbell->encoder_height = frame.height;
                log_info("video now %dx%d at %d kbit/s", frame.width, frame.height,
                         config.bitrate_kbps);
            }
        }
        /* Masks go before the encoder and the snapshot: masked pixels never leave. */
        motion_runner_blackout(doorbell->motion, &frame);
        pir_level = doorbell_watch_sim(doorbell);
        motion_runner_process(doorbell->motion, &frame, doorbell_now_us(), pir_level);
        if (encoder_encode(doorbell->encoder, &frame, &encoded) != 0) {
            atomic_fetch_add(&doorbell->encode_errors, 1);
            continue;
        }
        atomic_fetch_add(&doorbell->frames_encoded, 1);
        if (link_client_send_video(doorbell->link, encoded.data, encoded.size, encoded.keyframe,
                                   encoded.sequence, encoded.capture_time_us) == 0)
            encoder_request_keyframe(doorbell->encoder);
        /* The JPEG after the frame is on its way: a snapshot must not delay live video. */
        snapshot_queue_send(&doorbell->snapshots, &frame, DOORBELL_SNAPSHOT_QUALITY,
                            DOORBELL_SNAPSHOT_MAX_WIDTH, doorbell->link);
    }
    return NULL;
}

/* Audio capture thread: one Opus packet from the microphone. */
static void doorbell_on_audio(const uint8_t *packet, size_t size, uint64_t capture_time_us,
                              void *context)
{
    struct doorbell *doorbell = context;
    link_client_send_binary(doorbell->link, LINK_AUDIO,
                            atomic_fetch_add(&doorbell->audio_sequence, 1), capture_time_us, packet,
                            size);
}

/* Link thread: talk-back from the hub goes to the speaker. */
static void doorbell_on_talk_audio(const uint8_t *packet, size_t size, uint64_t timestamp_us,
                                   void *context)
{
    struct doorbell *doorbell = context;
    if (doorbell->speaker != NULL)
        audio_playback_push(doorbell->speaker, packet, size, timestamp_us);
}

/* The button: a ring event at once, a snapshot of this moment, and the
 * doorbell's own ding so the visitor hears it worked. Any thread. */
static void doorbell_ring(struct doorbell *doorbell)
{
    doorbell_send_event(doorbell, LINK_EVENT_RING);
    if (doorbell->speaker != NULL)
        audio_playback_chime(doorbell->speaker);
}

/*
 * The button went down. A press within DOORBELL_DEBOUNCE_US of the last one
 * is contact bounce and ignored; any other rings at once. 1 if it rang. Any
 * thread.
 */
static int doorbell_button_press(struct doorbell *doorbell)
{
    int64_t now = doorbell_now_us();
    int bounce;

    pthread_mutex_lock(&doorbell->lock);
    bounce = doorbell->button_pressed_at_us != 0 &&
             now - doorbell->button_pressed_at_us < DOORBELL_DEBOUNCE_US;
    if (!bounce)
        doorbell->button_pressed_at_us = now;
    pthread_mutex_unlock(&doorbell->lock);
    if (bounce)
        return 0;
    doorbell_ring(doorbell);
    return 1;
}

/* Send a motion event to the hub. Any thread. */
static void doorbell_send_motion(struct doorbell *doorbell, const struct link_event *event)
{
    cJSON *json = link_build_event(event);

    if (json == NULL) {
        log_warn("motion event %u could not be encoded", event->id);
        return;
    }
    link_client_send_json(doorbell->link, LINK_EVENT, event->id, json);
    cJSON_Delete(json);
}

/* Capture thread: a motion event to the hub; a start owes it a picture. */
static void doorbell_on_motion(const struct link_event *event, void *context)
{
    struct doorbell *doorbell = context;

    doorbell_send_motion(doorbell, event);
    if (event->active && event->id != doorbell->motion_started_id) {
        doorbell->motion_started_id = event->id;
        snapshot_queue_add_event(&doorbell->snapshots, LINK_EVENT_MOTION, event->id);
    }
}

/* Send an event (ring, pir, ...) now. Any thread. */
static void doorbell_send_event(struct doorbell *doorbell, enum link_event_type type)
{
    struct link_event event;
    cJSON *json;

    memset(&event, 0, sizeof(event));
    event.type = type;
    event.id = atomic_fetch_add(&doorbell->next_event_id, 1) + 1;
    event.score = 1.0;
    event.active = 1;
    json = link_build_event(&event);
    if (json != NULL) {
        link_client_send_json(doorbell->link, LINK_EVENT, event.id, json);
        cJSON_Delete(json);
    }
    snapshot_queue_add_event(&doorbell->snapshots, type, event.id);
    log_info("%s event %u", link_event_type_name(type), event.id);
}

/* Control thread, test-only `motion-event`: a motion event that starts and
 * ends at once, as the detector reports one, so a test can start it within
 * a millisecond of a ring (two commands in one write). */
static void doorbell_test_motion_event(struct doorbell *doorbell)
{
    struct link_event event = {.type = LINK_EVENT_MOTION, .score = 1.0, .active = 1};

    event.id = atomic_fetch_add(&doorbell->next_event_id, 1) + 1;
    doorbell_send_motion(doorbell, &event);
    snapshot_queue_add_event(&doorbell->snapshots, LINK_EVENT_MOTION, event.id);
    event.active = 0;
    doorbell_send_motion(doorbell, &event);
}

/* Link thread: a command from the hub. */
static void doorbell_on_command(const struct link_command *command, const cJSON *json,
                                void *context)
{
    struct doorbell *doorbell = context;
    cJSON *result = cJSON_CreateObject();
    struct motion_config motion;
    char reason[128] = "unsupported";
    int ok = 1;

    (void)json;
    switch (command->type) {
    case LINK_COMMAND_SET_MOTION:
        /* The same parser as the hub's; a refused config leaves the old one. */
        if (motion_config_from_json(command->motion, &motion, reason, sizeof(reason)) != 0) {
            log_warn("motion settings refused: %s", reason);
            ok = 0;
            break;
        }
        motion_runner_set_config(doorbell->motion, &motion);
        break;
    case LINK_COMMAND_SNAPSHOT:
        snapshot_queue_add_command(&doorbell->snapshots, command->request_id);
        break;
    case LINK_COMMAND_KEYFRAME:
        encoder_request_keyframe(doorbell->encoder);
        break;
    case LINK_COMMAND_SET_VIDEO:
        if (command->bitrate_kbps > 0)
            atomic_store(&doorbell->reconfigure_bitrate_kbps, command->bitrate_kbps);
        if (command->fps > 0)
            atomic_store(&doorbell->reconfigure_fps, command->fps);
        if (command->width > 0 && command->height > 0) {
            atomic_store(&doorbell->reconfigure_height, command->height);
            atomic_store(&doorbell->reconfigure_width, command->width);
        }
        break;
    default:
        ok = 0; /* not supported by this firmware yet; the hub is told so */
        break;
    }
    log_debug("command %s: %s", link_command_type_name(command->type), ok ? "done" : "refused");
    cJSON_AddNumberToObject(result, "id", command->id);
    cJSON_AddBoolToObject(result, "ok", ok);
    if (!ok)
        cJSON_AddStringToObject(result, "reason", reason);
    link_client_send_json(doorbell->link, LINK_COMMAND_RESULT, command->id, result);
    cJSON_Delete(result);
}

/* Link thread: the hub accepted us; start the stream on a keyframe. */
static void doorbell_on_connected(void *context)
{
    struct doorbell *doorbell = context;
    encoder_request_keyframe(doorbell->encoder);
}

/* Control thread: the motion settings in force, as JSON (or an error). */
static void doorbell_reply_motion(struct doorbell *doorbell, char *reply, size_t reply_size)
{
    struct motion_config config;
    cJSON *json;
    char *text = NULL;

    motion_runner_get_config(doorbell->motion, &config);
    json = motion_config_to_json(&config);
    if (json != NULL)
        text = cJSON_PrintUnformatted(json);
    if (text != NULL && strlen(text) < reply_size)
        snprintf(reply, reply_size, "%s", text);
    else
        snprintf(reply, reply_size, "error: motion settings do not fit the reply");
    cJSON_free(text);
    cJSON_Delete(json);
}

/* Control thread: the sim's ground truth of the newest frame as JSON, for
 * tests that compare the hub's events with the scene. */
static void doorbell_reply_scene(struct doorbell *doorbell, char *reply, size_t reply_size)
{
    static const char *const kinds[] = {"visitor", "car", "cat"};
    struct sim_ground_truth truth;
    size_t used;
    int have;

    pthread_mutex_lock(&doorbell->lock);
    have = doorbell->have_truth;
    truth = doorbell->truth;
    pthread_mutex_unlock(&doorbell->lock);
    if (!have) {
        snprintf(reply, reply_size, "error: no sim scene frame yet");
        return;
    }
    used = (size_t)snprintf(reply, reply_size,
                            "{\"scene_time_us\":%lld,\"night\":%d,\"light_on\":%d,"
                            "\"lighting_changing\":%d,\"pir\":%d,\"objects\":[",
                            (long long)truth.scene_time_us, truth.night, truth.light_on,
                            truth.lighting_changing, truth.pir_active);
    for (int i = 0; i < truth.object_count && used < reply_size; i++) {
        const struct sim_object_box *box = &truth.objects[i];
        used += (size_t)snprintf(reply + used, reply_size - used,
                                 "%s{\"kind\":\"%s\",\"x\":%.4f,\"y\":%.4f,\"w\":%.4f,"
                                 "\"h\":%.4f}",
                                 i > 0 ? "," : "", (unsigned)box->kind < 3 ? kinds[box->kind] : "?",
                                 box->x, box->y, box->width, box->height);
    }
    if (used < reply_size)
        snprintf(reply + used, reply_size - used, "]}");
    if (used + 2 >= reply_size)
        snprintf(reply, reply_size, "error: scene does not fit the reply");
}

/* Control thread: one command line. */
static void doorbell_on_control(const char *command, char *reply, size_t reply_size, void *context)
{
    struct doorbell *doorbell = context;
    enum camera_trigger trigger;
    char name[32] = "", argument[32] = "";

    sscanf(command, "%31s %31s", name, argument);
    if (strcmp(name, "press") == 0 || strcmp(name, "ring") == 0) {
        if (doorbell_button_press(doorbell))
            snprintf(reply, reply_size, "ok");
        else
            snprintf(reply, reply_size, "ok: ignored (contact bounce)");
    } else if (strcmp(name, "pir") == 0) {
        motion_runner_pir(doorbell->motion);
        doorbell_send_event(doorbell, LINK_EVENT_PIR);
        snprintf(reply, reply_size, "ok");
    } else if (strcmp(name, "battery") == 0) {
        /* The sim's battery: -1 (mains) or a percentage, reported at once. */
        char *end = NULL;
        long percent = strtol(argument, &end, 10);
        if (argument[0] == '\0' || *end != '\0' || percent < -1 || percent > 100) {
            snprintf(reply, reply_size, "error: battery takes -1 (mains) or 0..100");
        } else {
            atomic_store(&doorbell->battery_percent, (int)percent);
            doorbell_send_telemetry(doorbell);
            snprintf(reply, reply_size, "ok");
        }
    } else if (strcmp(name, "motion-event") == 0) {
        doorbell_test_motion_event(doorbell);
        snprintf(reply, reply_size, "ok");
    } else if (strcmp(name, "motion") == 0) {
        doorbell_reply_motion(doorbell, reply, reply_size);
    } else if (strcmp(name, "scene") == 0) {
        doorbell_reply_scene(doorbell, reply, reply_size);
    } else if (strcmp(name, "snapshot") == 0) {
        snapshot_queue_add_command(&doorbell->snapshots, 0);
        snprintf(reply, reply_size, "ok");
    } else if (strcmp(name, "keyframe") == 0) {
        encoder_request_keyframe(doorbell->encoder);
        snprintf(reply, reply_size, "ok");
    } else if (strcmp(name, "light") == 0 || strcmp(name, "night") == 0 ||
               strcmp(name, "day") == 0 || camera_trigger_parse(name, &trigger) == 0) {
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
    } else if (strcmp(name, "stats") == 0) {
        struct link_client_stats link;
        link_client_get_stats(doorbell->link, &link);
        snprintf(reply, reply_size,
                 "{\"frames_captured\":%llu,\"frames_encoded\":%llu,\"encode_errors\":%llu,"
                 "\"last_sequence\":%u,\"video_sent\":%llu,\"video_dropped\":%llu,"
                 "\"connected\":%s,\"connects\":%llu,\"disconnects\":%llu,"
                 "\"auth_failures\":%llu,\"width\":%d,\"height\":%d,\"fps\":%d,"
                 "\"bitrate_kbps\":%d}",
                 (unsigned long long)atomic_load(&doorbell->frames_captured),
                 (unsigned long long)atomic_load(&doorbell->frames_encoded),
                 (unsigned long long)atomic_load(&doorbell->encode_errors),
                 atomic_load(&doorbell->last_sequence), (unsigned long long)link.video_sent,
                 (unsigned long long)link.video_dropped, link.connected ? "true" : "false",
                 (unsigned long long)link.connects, (unsigned long long)link.disconnects,
                 (unsigned long long)link.auth_failures, doorbell->options.width,
                 doorbell->options.height, doorbell->options.fps, doorbell->options.bitrate_kbps);
    } else if (strcmp(name, "help") == 0 || name[0] == '\0') {
        snprintf(reply, reply_size,
                 "commands: press, pir, battery N, snapshot, keyframe, light on|off, "
                 "night, day, visitor, car, cat, stats, motion, scene; test-only: motion-event");
    } else {
        snprintf(reply, reply_size, "error: unknown command '%s' (try help)", name);
    }
}

/* Main thread: battery/RSSI/temperature/uptime to the hub. */
static void doorbell_send_telemetry(struct doorbell *doorbell)
{
    struct link_telemetry telemetry;
    FILE *thermal = fopen("/sys/class/thermal/thermal_zone0/temp", "re");
    long millidegrees = 0;
    cJSON *json;

    memset(&telemetry, 0, sizeof(telemetry));
    telemetry.battery_percent = atomic_load(&doorbell->battery_percent); /* -1: wired */
    telemetry.rssi_dbm = 0;                                              /* wired network */
    if (thermal != NULL) {
        if (fscanf(thermal, "%ld", &millidegrees) != 1)
            millidegrees = 0;
        fclose(thermal);
    }
    telemetry.temperature_c = (double)millidegrees / 1000.0;
    telemetry.uptime_s = (uint64_t)(time(NULL) - doorbell->started_at);
    snprintf(telemetry.firmware, sizeof(telemetry.firmware), "%s", DOORBELL_FIRMWARE_VERSION);
    json = link_build_telemetry(&telemetry);
    if (json != NULL) {
        link_client_send_json(doorbell->link, LINK_TELEMETRY, 0, json);
        cJSON_Delete(json);
    }
}

/* Open the microphone (Opus up the link) and the speaker (ding, talk-back). */
static int doorbell_start_audio(struct doorbell *doorbell)
{
    const struct doorbell_options *options = &doorbell->options;
    const char *speaker = options->speaker_device; /* resolved by doorbell_parse_options */
    char error[256];

    if (options->audio_device != NULL) {
        struct audio_capture_config config = {0};
        config.device = options->audio_device;
        config.alsa_config = options->alsa_config;
        config.channels = 1;
        config.pacing = options->audio_pacing;
        config.sim_voice = camera_sim_visitor_flag(doorbell->camera); /* for "sim" */
        doorbell->microphone =
            audio_capture_start(&config, doorbell_on_audio, doorbell, error, sizeof(error));
        if (doorbell->microphone == NULL) {
            log_error("microphone: %s", error);
            return -1;
        }
    }
    if (speaker != NULL) {
        struct audio_playback_config config = {0};
        config.device = speaker;
        config.alsa_config = options->alsa_config;
        config.channels = 1;
        config.pacing = options->audio_pacing;
        doorbell->speaker = audio_playback_start(&config, error, sizeof(error));
        if (doorbell->speaker == NULL) {
            log_error("speaker: %s", error);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct doorbell *doorbell;
    struct link_client_config link_config;
    struct camera_config camera_config;
    struct encoder_config encoder_config;
    char error[256];
    sigset_t signals;
    int rc, exit_code = 1, ticks = 0;

    if (argc >= 2 && strcmp(argv[1], "ctl") == 0)
        return control_socket_client_main(argc, argv);
    doorbell = calloc(1, sizeof(*doorbell));
    if (doorbell == NULL)
        return 1;
    rc = doorbell_parse_options(argc, argv, &doorbell->options);
    if (rc != 0) {
        free(doorbell);
        return rc > 0 ? 0 : 2;
    }
    log_set_level(doorbell->options.log_level);
    if (doorbell->options.replay_path != NULL) {
        /* A pre-encoded file instead of camera and encoder (firmware/replay). */
        exit_code = replay_run(&doorbell->options, DOORBELL_FIRMWARE_VERSION);
        free(doorbell);
        return exit_code;
    }
    doorbell->started_at = time(NULL);
    atomic_store(&doorbell->battery_percent, -1);
    if (pthread_mutex_init(&doorbell->lock, NULL) != 0) {
        free(doorbell);
        return 1;
    }
    snapshot_queue_init(&doorbell->snapshots);

    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    memset(&camera_config, 0, sizeof(camera_config));
    camera_config.source = doorbell->options.camera;
    camera_config.width = doorbell->options.width;
    camera_config.height = doorbell->options.height;
    camera_config.fps = doorbell->options.fps;
    camera_config.seed = doorbell->options.seed;
    camera_config.scripted = doorbell->options.scripted;
    camera_config.capture_jitter_ms = doorbell->options.capture_jitter_ms;
    doorbell->camera = camera_open(&camera_config, error, sizeof(error));
    if (doorbell->camera == NULL) {
        log_error("camera: %s", error);
        goto out;
    }
    encoder_config = (struct encoder_config){doorbell->options.width,
                                             doorbell->options.height,
                                             doorbell->options.fps,
                                             doorbell->options.bitrate_kbps,
                                             doorbell->options.keyframe_interval,
                                             doorbell->options.preset};
    doorbell->encoder = encoder_open(&encoder_config, error, sizeof(error));
    if (doorbell->encoder == NULL) {
        log_error("encoder: %s", error);
        goto out;
    }
    doorbell->encoder_width = encoder_config.width;
    doorbell->encoder_height = encoder_config.height;
    {
        /* Only the sim camera stamps its frames (camera.h). */
        struct motion_runner_config motion_config = {
            .stamp_band = strncmp(doorbell->options.camera, "sim", 3) == 0,
            .next_event_id = &doorbell->next_event_id,
            .on_event = doorbell_on_motion,
            .context = doorbell,
        };
        doorbell->motion = motion_runner_create(&motion_config, error, sizeof(error));
        if (doorbell->motion == NULL) {
            log_error("motion detection: %s", error);
            goto out;
        }
    }

    memset(&link_config, 0, sizeof(link_config));
    if (doorbell_load_secret(&doorbell->options, link_config.secret) != 0)
        goto out;
    link_config.hub_url = doorbell->options.hub_url;
    link_config.device_id = doorbell->options.device_id;
    link_config.hub_key_sha256 = doorbell->options.hub_key_sha256;
    link_config.firmware = DOORBELL_FIRMWARE_VERSION;
    link_config.width = doorbell->options.width;
    link_config.height = doorbell->options.height;
    link_config.fps = doorbell->options.fps;
    link_config.on_command = doorbell_on_command;
    link_config.on_connected = doorbell_on_connected;
    link_config.on_talk_audio = doorbell_on_talk_audio;
    link_config.audio_channels = doorbell->options.audio_device != NULL ? 1 : 0;
    link_config.callback_context = doorbell;
    doorbell->link = link_client_start(&link_config, error, sizeof(error));
    mbedtls_platform_zeroize(link_config.secret, sizeof(link_config.secret));
    if (doorbell->link == NULL) {
        log_error("link: %s", error);
        goto out;
    }
    if (doorbell_start_audio(doorbell) != 0)
        goto out;
    if (doorbell->options.control_path != NULL) {
        doorbell->control = control_socket_start(
            doorbell->options.control_path, doorbell_on_control, doorbell, error, sizeof(error));
        if (doorbell->control == NULL) {
            log_error("control: %s", error);
            goto out;
        }
    }
    if (pthread_create(&doorbell->capture_thread, NULL, doorbell_capture_thread, doorbell) != 0) {
        log_error("cannot start the capture thread");
        goto out;
    }
    log_info("%s: %s %dx%d@%d, %d kbit/s, hub %s", DOORBELL_FIRMWARE_VERSION,
             doorbell->options.camera, doorbell->options.width, doorbell->options.height,
             doorbell->options.fps, doorbell->options.bitrate_kbps, doorbell->options.hub_url);

    for (;;) {
        struct timespec timeout = {1, 0};
        int signal_number = sigtimedwait(&signals, NULL, &timeout);
        if (signal_number > 0) {
            log_info("received %s, stopping", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
            break;
        }
        if (++ticks % DOORBELL_TELEMETRY_PERIOD == 1)
            doorbell_send_telemetry(doorbell);
    }
    atomic_store(&doorbell->stopping, 1);
    pthread_join(doorbell->capture_thread, NULL);
    exit_code = 0;
out:
    control_socket_stop(doorbell->control);
    if (doorbell->microphone != NULL)
        audio_capture_stop(doorbell->microphone);
    link_client_stop(doorbell->link);
    if (doorbell->speaker != NULL)
        audio_playback_stop(doorbell->speaker);
    if (doorbell->encoder != NULL)
        encoder_close(doorbell->encoder);
    if (doorbell->camera != NULL)
        camera_close(doorbell->camera);
    motion_runner_destroy(doorbell->motion);
    pthread_mutex_destroy(&doorbell->lock);
    snapshot_queue_destroy(&doorbell->snapshots);
    free(doorbell);
    return exit_code;
}
