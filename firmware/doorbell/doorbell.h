/*
 * doorbell.h - the running doorbell: the state its threads share, and
 * starting and stopping it (doorbell.c). The concerns around it each have
 * their own file:
 *   doorbell_capture.c  capture thread: camera -> privacy blackout -> motion
 *                       detection -> main x264 -> link, then the sub-stream's
 *                       x264 while the hub wants it; the still-scene bitrate;
 *                       snapshots after each frame; frames for timeline
 *                       previews (preview/, own thread)
 *   doorbell_events.c   the button, the PIR and motion: the events they send
 *   doorbell_link.c     link thread: commands and talk-back from the hub
 *   doorbell_control.c  control thread: the control socket's commands
 *   doorbell_gpio.c     the button and PIR on GPIO lines: the same paths as
 *                       the control commands press, hold and pir
 *   doorbell_pairing.c  pairing with a setup code: the pairing state and
 *                       client, the link pointed at the paired hub
 *
 * Threads: capture, link (link_client.c), control (control_socket.c), GPIO
 * (gpio/gpio_input.c, with --button-gpio or --pir-gpio), audio
 * capture and playback (audio/), and main, which starts and stops the others
 * and sends telemetry.
 *
 * Locks and ownership: struct doorbell belongs to main; it is allocated by
 * doorbell_start() and freed by doorbell_stop(), after every other thread has
 * stopped. Its fields are grouped below by who writes them: atomics for
 * requests and counters, `lock` for the button and the published sim ground
 * truth, and the link client, the snapshot queue and the motion runner each
 * guard themselves.
 */
#ifndef DOORSTEP_DOORBELL_H
#define DOORSTEP_DOORBELL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include <mbedtls/ecp.h>

#include "camera/sim_scene.h"
#include "common/link_protocol.h"
#include "doorbell/doorbell_options.h"
#include "encoder/still_scene.h"
#include "snapshot/snapshot_queue.h"

#define DOORBELL_FIRMWARE_VERSION   "doorbelld 0.1.0"
#define DOORBELL_TELEMETRY_PERIOD_S 10
#define DOORBELL_DETECT_PIR_US      10000000LL /* detect frames for a PIR event: 10 s */

struct camera;
struct encoder;
struct sub_stream;
struct link_client;
struct preview_sender;
struct control_socket;
struct gpio_input;
struct motion_runner;
struct audio_capture;
struct audio_playback;
struct reply_cache;
struct reply_player;
struct speaker_history;
struct pairing;
struct pairing_client;

struct doorbell {
    /* Set by doorbell_start, read by every thread. The capture thread also
     * updates width, height, fps and bitrate_kbps after a reconfiguration;
     * `stats` reads them without a lock (aligned ints, a report only). */
    struct doorbell_options options;
    time_t started_at;

    /* Opened by doorbell_start, closed by doorbell_stop; each guards itself. */
    struct camera *camera;   /* capture thread; triggers from the control thread */
    struct encoder *encoder; /* capture thread; keyframe requests from any thread */
    struct sub_stream *sub;  /* NULL: no sub-stream; capture thread, requests from any */
    struct link_client *link;
    struct preview_sender *previews;   /* timeline previews; the capture thread offers frames */
    struct control_socket *control;    /* NULL without --control */
    struct gpio_input *gpio;           /* NULL without --button-gpio and --pir-gpio */
    struct motion_runner *motion;      /* the capture thread runs it; settings from any */
    struct audio_capture *microphone;  /* NULL without --audio-device */
    struct audio_playback *speaker;    /* NULL without a speaker device */
    struct reply_cache *replies;       /* quick replies from the hub; link thread feeds it */
    struct reply_player *reply_player; /* plays them; own thread */
    /* What the speaker played, for the echo canceller: the playback thread
     * appends, the audio capture thread reads. NULL unless both exist. */
    struct speaker_history *speaker_history;
    pthread_t capture_thread;
    int capture_started;

    /* Requests to the capture thread (doorbell_capture.c), from any thread. */
    atomic_int stopping;
    atomic_int reconfigure_bitrate_kbps;
    atomic_int reconfigure_width, reconfigure_height, reconfigure_fps; /* 0 = unchanged */
    struct snapshot_queue snapshots; /* pictures owed to the hub, taken after each frame */

    /* Counters and state for `stats` and telemetry, written by their owners. */
    atomic_uint_fast64_t frames_captured, frames_encoded, encode_errors; /* capture thread */
    atomic_uint last_sequence;                                           /* capture thread */
    atomic_uint audio_sequence;                                          /* audio thread */
    atomic_uint next_event_id; /* any thread: the event counter (doorbell_events.c) */
    /* The last PIR event and its monotonic time (any thread): detect frames
     * go to it for DOORBELL_DETECT_PIR_US unless a motion event is going on. */
    atomic_uint pir_event_id;
    atomic_llong pir_event_at_us;
    /* Monotonic time of the last motion, PIR or ring (any thread): the
     * still-scene rule's clock (encoder/still_scene.h). */
    atomic_llong activity_at_us;
    atomic_int main_bitrate_now_kbps; /* capture thread: what the main x264 runs at */
    atomic_int still_now;             /* capture thread: 1 while the picture is still */
    atomic_int battery_percent;       /* -1 = mains; the sim sets it with `battery N` */

    /* Capture thread only. */
    int encoder_width, encoder_height; /* the size x264 is set up for */
    int sim_button_was_pressed;        /* edge detection of the sim's bell */
    uint32_t motion_started_id;        /* the last motion event given a picture */
    struct still_scene still;          /* the still-scene rule's state */

    /* Pairing (doorbell_pairing.c); NULL for a legacy doorbell with a secret.
     * The pairing state guards itself; the client and the generation
     * applied to the link belong to the main thread; the device key is
     * guarded by key_lock (main thread loads it, the link thread signs). */
    struct pairing *pairing;
    struct pairing_client *pairing_client;
    uint64_t pairing_applied;
    pthread_mutex_t key_lock;
    mbedtls_ecp_keypair device_key;
    int device_key_loaded;

    /* Guarded by lock. */
    pthread_mutex_t lock;
    int64_t button_pressed_at_us; /* monotonic; last accepted press, 0 = never */
    int have_truth;
    struct sim_ground_truth truth; /* of the newest sim frame, for the `scene` command */
};

/*
 * Open camera, encoder and motion detection, connect to the hub, open the
 * audio devices and the control socket, and start the capture thread. Returns
 * the running doorbell (free it with doorbell_stop), or NULL after logging
 * why (everything opened so far is closed again). Main thread.
 */
struct doorbell *doorbell_start(const struct doorbell_options *options);

/* Stop every thread, close every device and free the doorbell (NULL is
 * ignored). Main thread. */
void doorbell_stop(struct doorbell *doorbell);

/* Battery, RSSI, temperature and uptime to the hub. Main and control threads. */
void doorbell_send_telemetry(struct doorbell *doorbell);

/* doorbell_pairing.c; each is documented above its definition. */
int doorbell_pairing_open(struct doorbell *doorbell);
void doorbell_pairing_poll(struct doorbell *doorbell);
void doorbell_pairing_close(struct doorbell *doorbell);
int doorbell_pairing_sign(const uint8_t *digest, uint8_t *signature, void *context);

/* doorbell_capture.c: the capture thread's body (data is the doorbell). */
void *doorbell_capture_thread(void *data);

/* doorbell_events.c; each is documented above its definition. */
int doorbell_events_button_press(struct doorbell *doorbell);
uint32_t doorbell_events_send(struct doorbell *doorbell, enum link_event_type type);
void doorbell_events_auto_reply(uint32_t event_id, uint32_t reply_id, void *context);
void doorbell_events_on_motion(const struct link_event *event, void *context);
void doorbell_events_test_motion(struct doorbell *doorbell);
void doorbell_events_pir(struct doorbell *doorbell);
void doorbell_events_activity(struct doorbell *doorbell);

/* doorbell_gpio.c: the button and PIR on GPIO lines (--button-gpio,
 * --pir-gpio); each is documented above its definition. */
int doorbell_gpio_open(struct doorbell *doorbell);
void doorbell_gpio_close(struct doorbell *doorbell);

/* doorbell_link.c: link_client_config callbacks (context is the doorbell). */
void doorbell_link_on_command(const struct link_command *command, const cJSON *json, void *context);
void doorbell_link_on_connected(void *context);
void doorbell_link_on_quick_reply_data(const struct link_quick_reply_data *chunk, void *context);
void doorbell_link_on_talk_audio(const uint8_t *packet, size_t size, uint64_t timestamp_us,
                                 void *context);
void doorbell_link_on_audio(const uint8_t *packet, size_t size, uint64_t capture_time_us,
                            void *context);

/* doorbell_control.c: the control_handler of the control socket. */
void doorbell_control_handle(const char *command, char *reply, size_t reply_size, void *context);

#endif
