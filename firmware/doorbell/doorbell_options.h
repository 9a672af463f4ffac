/*
 * doorbell_options.h - doorbelld's command line: defaults, parsing, --help,
 * and loading the device secret. Main thread, at start-up.
 */
#ifndef DOORSTEP_DOORBELL_OPTIONS_H
#define DOORSTEP_DOORBELL_OPTIONS_H

#include <stdint.h>

#include "audio/echo_canceller.h"
#include "audio/sim_room.h"
#include "common/audio_alsa.h"
#include "common/link_protocol.h"
#include "common/log.h"
#include "gpio/gpio_input_option.h"

#define DOORBELL_STILL_AFTER_DEFAULT_S 10
#define DOORBELL_STILL_PERCENT_DEFAULT 25

struct doorbell_options {
    const char *hub_url;
    const char *device_id;
    const char *secret_hex;
    const char *secret_file;
    const char *hub_key_sha256;
    const char *camera;
    const char *control_path;
    const char *preset;
    int width, height, fps, bitrate_kbps, keyframe_interval;
    /* --sub-stream (sub_fps 0: off) and --sub-bitrate: the sub-stream's box,
     * rate and bitrate (encoder/sub_stream.h) */
    int sub_width, sub_height, sub_fps, sub_bitrate_kbps;
    int still_after_s; /* --still-after: no motion, PIR or ring this long is a still picture */
    int still_percent; /* --still-bitrate: its bitrate in % of bitrate_kbps; 0 = off */
    int scripted;
    int capture_jitter_ms; /* sim camera: +-N ms on every capture time (tests) */
    uint32_t seed;
    const char *audio_device;   /* ALSA PCM for the microphone, or AUDIO_CAPTURE_SIM_DEVICE;
                                   NULL = no microphone ("none") */
    const char *speaker_device; /* ALSA PCM for the speaker, resolved by parsing: default
                                   audio_device ("null" for the sim); NULL = no speaker */
    const char *alsa_config;    /* extra asoundrc read after alsa.conf */
    enum audio_pacing audio_pacing;
    enum echo_cancel_mode echo_cancel; /* the speaker out of the microphone (default aec) */
    int sim_room_enabled;              /* --sim-room given: tests and benchmarks only */
    struct sim_room_config sim_room;
    enum log_level log_level;
    const char *replay_path;    /* --replay: send this H.264 file, no camera (firmware/replay) */
    const char *replay_devices; /* --replay-devices: more links, "ID SECRET" per line */
    const char *replay_tcp;     /* --replay-tcp: plain TCP outputs instead of links (benchmarks) */
    const char *state_dir;      /* --state-dir: kept across restarts (quick replies, the id
                                   of a doorbell not yet paired); NULL none */
    int no_mdns;                /* --no-mdns: no announcement, no hub discovery */
    int no_previews;            /* --no-previews: no timeline previews (docs/protocol.md) */
    const char *model;          /* announced in pairing mode; set by parsing */
    int have_button_gpio;       /* --button-gpio given: button_gpio is the line */
    struct gpio_input_line button_gpio;
    int have_pir_gpio; /* --pir-gpio given: pir_gpio is the line */
    struct gpio_input_line pir_gpio;
};

/* Fill options from argv. 0 run, 1 printed --help (exit 0), -1 error (printed). */
int doorbell_parse_options(int argc, char **argv, struct doorbell_options *options);

/* Decode the 64-hex-digit secret from --secret or --secret-file. 0 or -1 (logged). */
int doorbell_load_secret(const struct doorbell_options *options, uint8_t secret[LINK_SECRET_SIZE]);

#endif
