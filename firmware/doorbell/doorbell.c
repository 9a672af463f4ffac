/*
 * doorbell.c - starting and stopping the doorbell (see doorbell.h): camera,
 * encoder, motion detection, the link to the hub, microphone and speaker,
 * the control socket, the GPIO lines and the capture thread, in that order, and back in
 * reverse; and the telemetry the main thread sends every 10 s.
 *
 * Thread: main. It owns struct doorbell and everything doorbell_start
 * opens; doorbell_stop stops every other thread before it frees anything.
 */
#define LOG_MODULE "doorbelld"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#include "audio/audio_capture.h"
#include "audio/audio_playback.h"
#include "audio/speaker_history.h"
#include "camera/camera.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/mutex.h"
#include "control/control_socket.h"
#include "doorbell/doorbell.h"
#include "encoder/encoder.h"
#include "encoder/sub_stream.h"
#include "link/link_client.h"
#include "motion/motion_runner.h"
#include "preview/preview_sender.h"
#include "replies/reply_cache.h"
#include "replies/reply_player.h"

#define DOORBELL_THERMAL_ZONE "/sys/class/thermal/thermal_zone0/temp"

/* Battery, RSSI, temperature and uptime to the hub. Main and control threads. */
void doorbell_send_telemetry(struct doorbell *doorbell)
{
    struct link_telemetry telemetry;
    FILE *thermal = fopen(DOORBELL_THERMAL_ZONE, "re");
    long millidegrees = 0;
    cJSON *json;

    memset(&telemetry, 0, sizeof(telemetry));
    telemetry.battery_percent = atomic_load(&doorbell->battery_percent); /* -1: wired */
    telemetry.rssi_dbm = 0;                                              /* wired network */
    if (thermal != NULL) {
        /* No sensor (a PC, the simulator) is "unknown", never 0.0 °C. */
        telemetry.temperature_known = fscanf(thermal, "%ld", &millidegrees) == 1;
        fclose(thermal);
    }
    if (!telemetry.temperature_known)
        millidegrees = 0;
    telemetry.temperature_c = (double)millidegrees / 1000.0;
    telemetry.uptime_s = (uint64_t)(time(NULL) - doorbell->started_at);
    snprintf(telemetry.firmware, sizeof(telemetry.firmware), "%s", DOORBELL_FIRMWARE_VERSION);
    json = link_build_telemetry(&telemetry);
    if (json != NULL) {
        link_client_send_json(doorbell->link, LINK_TELEMETRY, 0, json);
        cJSON_Delete(json);
    }
}

/* Set up the sub-stream (its encoder opens on the hub's stream_on), unless
 * it is off or the picture is not larger than it; 0 or -1 (logged). */
static int doorbell_open_sub_stream(struct doorbell *doorbell)
{
    const struct doorbell_options *options = &doorbell->options;
    struct sub_stream_config config = {options->sub_width, options->sub_height, options->sub_fps,
                                       options->sub_bitrate_kbps, options->preset};
    struct sub_stream_stats stats;

    if (options->sub_fps <= 0)
        return 0;
    if (options->sub_fps > options->fps)
        config.fps = options->fps;
    doorbell->sub = sub_stream_create(&config, options->width, options->height);
    if (doorbell->sub == NULL) {
        log_info("no sub-stream: the %dx%d picture is not larger than %dx%d", options->width,
                 options->height, options->sub_width, options->sub_height);
        return 0;
    }
    sub_stream_get_stats(doorbell->sub, &stats);
    log_info("sub-stream %dx%d@%d, %d kbit/s, on request", stats.width, stats.height, stats.fps,
             stats.bitrate_kbps);
    return 0;
}

/* Open the camera and the encoder for the configured format; 0 or -1 (logged). */
static int doorbell_open_video(struct doorbell *doorbell)
{
    const struct doorbell_options *options = &doorbell->options;
    struct camera_config camera_config;
    struct encoder_config encoder_config;
    char error[256];

    memset(&camera_config, 0, sizeof(camera_config));
    camera_config.source = options->camera;
    camera_config.width = options->width;
    camera_config.height = options->height;
    camera_config.fps = options->fps;
    camera_config.seed = options->seed;
    camera_config.scripted = options->scripted;
    camera_config.capture_jitter_ms = options->capture_jitter_ms;
    doorbell->camera = camera_open(&camera_config, error, sizeof(error));
    if (doorbell->camera == NULL) {
        log_error("camera: %s", error);
        return -1;
    }
    encoder_config = (struct encoder_config){options->width,
                                             options->height,
                                             options->fps,
                                             options->bitrate_kbps,
                                             options->keyframe_interval,
                                             options->preset};
    doorbell->encoder = encoder_open(&encoder_config, error, sizeof(error));
    if (doorbell->encoder == NULL) {
        log_error("encoder: %s", error);
        return -1;
    }
    doorbell->encoder_width = encoder_config.width;
    doorbell->encoder_height = encoder_config.height;
    atomic_store(&doorbell->main_bitrate_now_kbps, options->bitrate_kbps);
    still_scene_init(&doorbell->still, options->still_after_s, options->still_percent);
    atomic_store(&doorbell->activity_at_us, clock_monotonic_us());
    return doorbell_open_sub_stream(doorbell);
}

/* Start motion detection; 0 or -1 (logged). */
static int doorbell_open_motion(struct doorbell *doorbell)
{
    char error[256];
    /* Only the sim camera stamps its frames (camera.h). */
    struct motion_runner_config config = {
        .stamp_band = strncmp(doorbell->options.camera, "sim", 3) == 0,
        .next_event_id = &doorbell->next_event_id,
        .on_event = doorbell_events_on_motion,
        .context = doorbell,
    };

    doorbell->motion = motion_runner_create(&config, error, sizeof(error));
    if (doorbell->motion == NULL) {
        log_error("motion detection: %s", error);
        return -1;
    }
    return 0;
}

/* Start the link to the hub; the secret is wiped from the stack afterwards.
 * 0 or -1 (logged). */
static int doorbell_open_link(struct doorbell *doorbell)
{
    const struct doorbell_options *options = &doorbell->options;
    struct link_client_config config;
    char error[256];

    memset(&config, 0, sizeof(config));
    if (doorbell->pairing != NULL) {
        /* Idle until doorbell_pairing_poll() points it at the paired hub. */
        config.sign = doorbell_pairing_sign;
        config.sign_context = doorbell;
    } else {
        if (doorbell_load_secret(options, config.secret) != 0)
            return -1;
        config.hub_url = options->hub_url;
        config.device_id = options->device_id;
        config.hub_key_sha256 = options->hub_key_sha256;
    }
    config.firmware = DOORBELL_FIRMWARE_VERSION;
    config.width = options->width;
    config.height = options->height;
    config.fps = options->fps;
    config.on_command = doorbell_link_on_command;
    config.on_connected = doorbell_link_on_connected;
    config.on_talk_audio = doorbell_link_on_talk_audio;
    config.on_quick_reply_data = doorbell_link_on_quick_reply_data;
    config.audio_channels = options->audio_device != NULL ? 1 : 0;
    if (doorbell->sub != NULL) {
        struct sub_stream_stats sub;
        sub_stream_get_stats(doorbell->sub, &sub);
        config.sub_width = sub.width;
        config.sub_height = sub.height;
        config.sub_fps = sub.fps;
    }
    config.callback_context = doorbell;
    doorbell->link = link_client_start(&config, error, sizeof(error));
    mbedtls_platform_zeroize(config.secret, sizeof(config.secret));
    if (doorbell->link == NULL) {
        log_error("link: %s", error);
        return -1;
    }
    doorbell->previews = preview_sender_start(doorbell->link, error, sizeof(error));
    if (doorbell->previews == NULL) {
        log_error("previews: %s", error);
        return -1;
    }
    return 0;
}

/* Open the microphone (Opus up the link), which takes the speaker's sound
 * back out with the speaker history doorbell_open_speaker() made; 0 or -1
 * (logged). */
static int doorbell_open_audio(struct doorbell *doorbell)
{
    const struct doorbell_options *options = &doorbell->options;
    char error[256];

    if (options->audio_device != NULL) {
        struct audio_capture_config config = {0};
        config.device = options->audio_device;
        config.alsa_config = options->alsa_config;
        config.channels = 1;
        config.pacing = options->audio_pacing;
        config.sim_voice = camera_sim_visitor_flag(doorbell->camera); /* for "sim" */
        config.speaker = doorbell->speaker_history;
        config.echo_mode = options->echo_cancel;
        config.sim_room = options->sim_room_enabled ? &options->sim_room : NULL;
        doorbell->microphone =
            audio_capture_start(&config, doorbell_link_on_audio, doorbell, error, sizeof(error));
        if (doorbell->microphone == NULL) {
            log_error("microphone: %s", error);
            return -1;
        }
    }
    return 0;
}

/* Open the speaker (ding, talk-back, quick replies) with the speaker history
 * the microphone's echo canceller reads (when there are both), the quick
 * reply cache and their player, before the link that feeds them; 0 or -1
 * (logged). */
static int doorbell_open_speaker(struct doorbell *doorbell)
{
    const struct doorbell_options *options = &doorbell->options;
    const char *speaker = options->speaker_device; /* resolved by doorbell_parse_options */
    char error[256];

    if (options->audio_device != NULL && speaker != NULL) {
        doorbell->speaker_history = speaker_history_create(SPEAKER_HISTORY_DEFAULT_MS);
        if (doorbell->speaker_history == NULL) {
            log_error("speaker history: out of memory");
            return -1;
        }
    } else if (options->sim_room_enabled) {
        log_warn("--sim-room without both a microphone and a speaker does nothing");
    }
    if (speaker != NULL) {
        struct audio_playback_config config = {0};
        config.device = speaker;
        config.alsa_config = options->alsa_config;
        config.channels = 1;
        config.pacing = options->audio_pacing;
        config.history = doorbell->speaker_history;
        doorbell->speaker = audio_playback_start(&config, error, sizeof(error));
        if (doorbell->speaker == NULL) {
            log_error("speaker: %s", error);
            return -1;
        }
    }
    doorbell->replies = reply_cache_create(options->state_dir);
    if (doorbell->replies == NULL) {
        log_error("quick replies: out of memory");
        return -1;
    }
    doorbell->reply_player =
        reply_player_start(doorbell->speaker, doorbell->replies, doorbell_events_auto_reply,
                           doorbell, error, sizeof(error));
    if (doorbell->reply_player == NULL) {
        log_error("quick replies: %s", error);
        return -1;
    }
    return 0;
}

/* Open the control socket if --control names one; 0 or -1 (logged). */
static int doorbell_open_control(struct doorbell *doorbell)
{
    char error[256];

    if (doorbell->options.control_path == NULL)
        return 0;
    doorbell->control = control_socket_start(
        doorbell->options.control_path, doorbell_control_handle, doorbell, error, sizeof(error));
    if (doorbell->control == NULL) {
        log_error("control: %s", error);
        return -1;
    }
    return 0;
}

/* Start everything; NULL (logged) if any part fails. Main thread. The
 * caller frees the result with doorbell_stop. */
struct doorbell *doorbell_start(const struct doorbell_options *options)
{
    struct doorbell *doorbell = calloc(1, sizeof(*doorbell));

    if (doorbell == NULL)
        return NULL;
    doorbell->options = *options;
    doorbell->started_at = time(NULL);
    atomic_store(&doorbell->battery_percent, -1);
    if (mutex_init_checked(&doorbell->lock) != 0) {
        free(doorbell);
        return NULL;
    }
    mutex_init_checked(&doorbell->key_lock);
    mbedtls_ecp_keypair_init(&doorbell->device_key);
    snapshot_queue_init(&doorbell->snapshots);
    if (doorbell_open_video(doorbell) != 0 || doorbell_open_motion(doorbell) != 0 ||
        doorbell_open_speaker(doorbell) != 0 || doorbell_pairing_open(doorbell) != 0 ||
        doorbell_open_link(doorbell) != 0 || doorbell_open_audio(doorbell) != 0 ||
        doorbell_open_control(doorbell) != 0 || doorbell_gpio_open(doorbell) != 0)
        goto fail;
    if (pthread_create(&doorbell->capture_thread, NULL, doorbell_capture_thread, doorbell) != 0) {
        log_error("cannot start the capture thread");
        goto fail;
    }
    doorbell->capture_started = 1;
    doorbell_pairing_poll(doorbell);
    log_info("%s: %s %dx%d@%d, %d kbit/s, hub %s", DOORBELL_FIRMWARE_VERSION, options->camera,
             options->width, options->height, options->fps, options->bitrate_kbps,
             options->hub_url != NULL ? options->hub_url : "from pairing");
    return doorbell;

fail:
    doorbell_stop(doorbell);
    return NULL;
}

/* Stop the capture thread first (it uses everything else), then the rest in
 * reverse order of starting, and free the doorbell. Main thread. */
void doorbell_stop(struct doorbell *doorbell)
{
    if (doorbell == NULL)
        return;
    atomic_store(&doorbell->stopping, 1);
    doorbell_gpio_close(doorbell); /* its thread rings through the link */
    if (doorbell->capture_started)
        pthread_join(doorbell->capture_thread, NULL);
    control_socket_stop(doorbell->control);
    if (doorbell->microphone != NULL)
        audio_capture_stop(doorbell->microphone);
    reply_player_halt(doorbell->reply_player); /* its reports go up the link */
    preview_sender_stop(doorbell->previews);   /* it sends through the link */
    link_client_stop(doorbell->link);
    doorbell_pairing_close(doorbell);          /* the link thread signed with its key */
    reply_player_free(doorbell->reply_player); /* the link thread called it */
    if (doorbell->speaker != NULL)
        audio_playback_stop(doorbell->speaker);
    reply_cache_destroy(doorbell->replies);
    speaker_history_destroy(doorbell->speaker_history);
    if (doorbell->encoder != NULL)
        encoder_close(doorbell->encoder);
    sub_stream_destroy(doorbell->sub);
    if (doorbell->camera != NULL)
        camera_close(doorbell->camera);
    motion_runner_destroy(doorbell->motion);
    pthread_mutex_destroy(&doorbell->lock);
    snapshot_queue_destroy(&doorbell->snapshots);
    free(doorbell);
}
