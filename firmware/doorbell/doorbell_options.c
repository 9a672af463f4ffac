/*
 * doorbell_options.c - doorbelld's command line (see doorbell_options.h).
 */
#define LOG_MODULE "doorbelld"

#include "doorbell/doorbell_options.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/platform_util.h>

#include "audio/audio_capture.h"
#include "common/discovery_txt.h"
#include "encoder/sub_stream.h"

static void doorbell_usage(const char *program)
{
    printf("Usage: %s --state-dir DIR [--hub wss://HOST:PORT] [OPTION]...\n"
           "       %s [--hub wss://HOST:PORT] --device-id ID (--secret HEX | --secret-file FILE)"
           " [OPTION]...\n"
           "       %s ctl SOCKET COMMAND...\n"
           "Doorstep doorbell firmware: camera -> H.264 -> hub, snapshots, button, PIR and\n"
           "motion detection (settings from the hub).\n\n"
           "  --hub URL              the hub's address, wss://HOST:PORT: where an unpaired\n"
           "                         doorbell pairs (optional once DIR/hub.json holds it);\n"
           "                         without it the doorbell looks for a hub on the local\n"
           "                         network (mDNS): a paired one for the hub it pinned\n"
           "  --no-mdns              neither announce pairing mode nor look for a hub over\n"
           "                         mDNS (then --hub is needed until the doorbell is paired)\n"
           "  --device-id ID         legacy: this doorbell's id on the hub, with a secret\n"
           "                         (without it the doorbell pairs with its setup code)\n"
           "  --secret HEX           the device secret `doorstep device add` printed\n"
           "  --secret-file FILE     read the secret from FILE instead\n"
           "  --hub-key-sha256 HEX   refuse a hub whose key has another SHA-256\n"
           "  --model TEXT           the model announced in pairing mode, 1..32 printable\n"
           "                         characters (default: Doorstep simulator with the sim\n"
           "                         camera, else Doorstep doorbell)\n"
           "  --camera SOURCE        sim (default), v4l2:/dev/videoN, file:CLIP.y4m\n"
           "  --size WxH             picture size (default 1280x720)\n"
           "  --fps N                frame rate, 1..60 (default 30)\n"
           "  --bitrate KBPS         H.264 bitrate, 50..20000 (default 2000)\n"
           "  --keyframe-interval N  frames between keyframes, 1..3600 (default 2 s worth)\n"
           "  --preset NAME          x264 preset (default veryfast)\n"
           "  --sub-stream WxH@FPS   the second, small stream the hub turns on for viewers\n"
           "                         (default 640x360@15); off = none. None either when\n"
           "                         the picture is not larger than WxH\n"
           "  --sub-bitrate KBPS     its H.264 bitrate, 50..20000 (default 400)\n"
           "  --still-after S        a picture without motion, PIR or ring for S seconds,\n"
           "                         1..3600, is still (default 10)\n"
           "  --still-bitrate PCT    a still picture's bitrate in percent of --bitrate,\n"
           "                         0..100 (default 25); 0 = always the full bitrate\n"
           "  --scripted             play the sim scene's scripted loop\n"
           "  --no-previews          send no timeline previews, even to a hub that takes them\n"
           "  --seed N               sim scene seed (default 1)\n"
           "  --capture-jitter-ms N  sim: move each capture time (and its frame stamp) by\n"
           "                         up to +-N ms, 0..1000 (default 0): a busy doorbell\n"
           "  --control PATH         control socket (default: none)\n"
           "  --audio-device PCM     ALSA microphone (and speaker) device; none = no audio\n"
           "                         (default); sim = a simulated microphone that hears the\n"
           "                         street, and the sim scene's visitor speaking\n"
           "  --speaker-device PCM   ALSA speaker device, if not the microphone's (with\n"
           "                         --audio-device sim: ALSA's \"null\"); none = no speaker\n"
           "  --alsa-config FILE     extra asoundrc read after ALSA's own configuration\n"
           "  --state-dir DIR        the doorbell's identity, setup code, key and hub\n"
           "                         (pairing), and its quick replies across restarts\n"
           "  --audio-pacing MODE    auto (default), device or clock\n"
           "  --echo-cancel MODE     keep the speaker out of the microphone: aec (default;\n"
           "                         the echo canceller, ducking until it has converged),\n"
           "                         duck (the microphone -30 dB while the speaker plays)\n"
           "                         or off\n"
           "  --sim-room DELAY_MS,GAIN_DB\n"
           "                         tests: the speaker's sound reaches the microphone\n"
           "                         DELAY_MS (0..200) later at GAIN_DB (-60..12) dB\n"
           "  --replay FILE.h264     send this H.264 Annex B file in a loop at --fps instead\n"
           "                         of a camera (bench doorbells; --size should match it)\n"
           "  --replay-devices FILE  with --replay: one more device link per\n"
           "                         \"DEVICE_ID SECRET\" line, all in this process\n"
           "  --replay-tcp IPV4:PORT[,COUNT]\n"
           "                         with --replay: no hub; write the bare H.264 to COUNT\n"
           "                         TCP listeners on PORT, PORT+1, ... (benchmarks: ffmpeg)\n"
           "  --button-gpio CHIP:LINE[,active-low|active-high][,pull-up|pull-down|no-pull]\n"
           "                         the doorbell button on a GPIO line: a press rings, 10 s\n"
           "                         held opens pairing mode, 30 s resets (default\n"
           "                         active-low, pull-up: a button from the pin to ground);\n"
           "                         CHIP is a name under /dev (gpiochip0) or a path\n"
           "  --pir-gpio CHIP:LINE[,active-low|active-high][,pull-up|pull-down|no-pull]\n"
           "                         a PIR sensor's output on a GPIO line: its active edge\n"
           "                         is what the pir command does (default active-high,\n"
           "                         no-pull)\n"
           "  --log-level LEVEL      error, warn, info (default), debug\n"
           "  --self-test            check camera back-ends, codecs and link vectors here\n"
           "                         (must be the only argument), then exit\n"
           "  --help                 show this help\n\n"
           "Control commands: press, pir, battery N, snapshot, keyframe, light on|off,\n"
           "night, day, visitor, car, cat, stats, status (encoders, sub-stream, still\n"
           "scene), motion (the motion settings in force),\n"
           "scene (the sim's ground truth), hold SECONDS (10: pairing mode for 10\n"
           "minutes; 30: factory reset).\n",
           program, program, program);
}

/* A whole decimal number in [min, max] into *out: 0, or -1 (printed, naming
 * the option) if text is not one. */
static int doorbell_parse_number(const char *program, const char *option, const char *text,
                                 long long min, long long max, long long *out)
{
    char *end = NULL;
    errno = 0;
    long long value = strtoll(text, &end, 10);
    if (end == text || *end != '\0' || errno != 0 || value < min || value > max) {
        fprintf(stderr, "%s: %s wants a whole number from %lld to %lld, not '%s'\n", program,
                option, min, max, text);
        return -1;
    }
    *out = value;
    return 0;
}

/* 1 when text is 1..DISCOVERY_MODEL_MAX printable ASCII characters (what a
 * doorbell may announce as its model), else 0. */
static int doorbell_model_valid(const char *text)
{
    size_t length = strlen(text);

    if (length == 0 || length > DISCOVERY_MODEL_MAX)
        return 0;
    for (size_t i = 0; i < length; i++)
        if ((unsigned char)text[i] < 0x20 || (unsigned char)text[i] > 0x7e)
            return 0;
    return 1;
}

/* --button-gpio (button) or --pir-gpio VALUE into options, with that
 * input's defaults: 0, or -1 (printed, naming the option). */
static int doorbell_parse_gpio(const char *program, int button, const char *value,
                               struct doorbell_options *options)
{
    char error[128];
    struct gpio_input_line *line = button ? &options->button_gpio : &options->pir_gpio;

    if (gpio_input_option_parse(value, button,
                                button ? GPIO_INPUT_BIAS_PULL_UP : GPIO_INPUT_BIAS_NONE, line,
                                error, sizeof(error)) != 0) {
        fprintf(stderr, "%s: %s: %s, not '%s'\n", program, button ? "--button-gpio" : "--pir-gpio",
                error, value);
        return -1;
    }
    if (button)
        options->have_button_gpio = 1;
    else
        options->have_pir_gpio = 1;
    return 0;
}

/* --sub-stream WxH@FPS (even sides 32x32..1920x1080, 1..60 fps) or "off"
 * (sub_fps 0) into options: 0, or -1 (printed). */
static int doorbell_parse_sub_stream(const char *program, const char *value,
                                     struct doorbell_options *options)
{
    int width = 0, height = 0, fps = 0;
    char rest;

    if (strcmp(value, "off") == 0) {
        options->sub_width = options->sub_height = options->sub_fps = 0;
        return 0;
    }
    if (sscanf(value, "%dx%d@%d%c", &width, &height, &fps, &rest) != 3 || width < 32 ||
        height < 32 || width > 1920 || height > 1080 || (width | height) & 1 || fps < 1 ||
        fps > 60) {
        fprintf(stderr,
                "%s: --sub-stream wants WxH@FPS (even sides, 32x32..1920x1080, 1..60 fps) or "
                "off, not '%s'\n",
                program, value);
        return -1;
    }
    options->sub_width = width;
    options->sub_height = height;
    options->sub_fps = fps;
    return 0;
}

/* Whether DIR/NAME exists (DIR may be NULL: no). */
static int doorbell_options_state_file_exists(const char *dir, const char *name)
{
    char path[4096];

    if (dir == NULL || (size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
        return 0;
    return access(path, F_OK) == 0;
}

/* Parse argv into options. 0 run, 1 printed help, -1 error. */
int doorbell_parse_options(int argc, char **argv, struct doorbell_options *options)
{
    static const struct option long_options[] = {
        {"hub", required_argument, NULL, 'H'},
        {"device-id", required_argument, NULL, 'i'},
        {"secret", required_argument, NULL, 's'},
        {"secret-file", required_argument, NULL, 'S'},
        {"hub-key-sha256", required_argument, NULL, 'k'},
        {"camera", required_argument, NULL, 'c'},
        {"size", required_argument, NULL, 'z'},
        {"fps", required_argument, NULL, 'f'},
        {"bitrate", required_argument, NULL, 'b'},
        {"keyframe-interval", required_argument, NULL, 'g'},
        {"preset", required_argument, NULL, 'p'},
        {"scripted", no_argument, NULL, 'r'},
        {"seed", required_argument, NULL, 'e'},
        {"capture-jitter-ms", required_argument, NULL, 'j'},
        {"control", required_argument, NULL, 'C'},
        {"log-level", required_argument, NULL, 'v'},
        {"audio-device", required_argument, NULL, 'a'},
        {"speaker-device", required_argument, NULL, 'A'},
        {"alsa-config", required_argument, NULL, 'L'},
        {"audio-pacing", required_argument, NULL, 'P'},
        {"echo-cancel", required_argument, NULL, 'E'},
        {"sim-room", required_argument, NULL, 'O'},
        {"replay", required_argument, NULL, 'R'},
        {"replay-devices", required_argument, NULL, 'D'},
        {"replay-tcp", required_argument, NULL, 'K'},
        {"state-dir", required_argument, NULL, 'T'},
        {"no-mdns", no_argument, NULL, 'N'},
        {"no-previews", no_argument, NULL, 'W'},
        {"model", required_argument, NULL, 'm'},
        {"button-gpio", required_argument, NULL, 'B'},
        {"pir-gpio", required_argument, NULL, 'I'},
        {"sub-stream", required_argument, NULL, 'u'},
        {"sub-bitrate", required_argument, NULL, 'U'},
        {"still-after", required_argument, NULL, 't'},
        {"still-bitrate", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int option, secrets;
    long long number;
    char rest;

    memset(options, 0, sizeof(*options));
    options->camera = "sim";
    options->width = 1280;
    options->height = 720;
    options->fps = 30;
    options->bitrate_kbps = 2000;
    options->preset = "veryfast";
    options->sub_width = SUB_STREAM_DEFAULT_WIDTH;
    options->sub_height = SUB_STREAM_DEFAULT_HEIGHT;
    options->sub_fps = SUB_STREAM_DEFAULT_FPS;
    options->sub_bitrate_kbps = SUB_STREAM_DEFAULT_BITRATE;
    options->still_after_s = DOORBELL_STILL_AFTER_DEFAULT_S;
    options->still_percent = DOORBELL_STILL_PERCENT_DEFAULT;
    options->seed = 1;
    options->log_level = LOG_LEVEL_INFO;
    while ((option = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
        switch (option) {
        case 'H':
            options->hub_url = optarg;
            break;
        case 'i':
            options->device_id = optarg;
            break;
        case 's':
            options->secret_hex = optarg;
            break;
        case 'S':
            options->secret_file = optarg;
            break;
        case 'k':
            options->hub_key_sha256 = optarg;
            break;
        case 'c':
            options->camera = optarg;
            break;
        case 'z':
            if (sscanf(optarg, "%dx%d%c", &options->width, &options->height, &rest) != 2 ||
                options->width < 160 || options->height < 90 || options->width > 3840 ||
                options->height > 2160 || (options->width | options->height) & 1) {
                fprintf(stderr, "%s: --size wants even WxH between 160x90 and 3840x2160\n",
                        argv[0]);
                return -1;
            }
            break;
        case 'f':
            if (doorbell_parse_number(argv[0], "--fps", optarg, 1, 60, &number) != 0)
                return -1;
            options->fps = (int)number;
            break;
        case 'b':
            if (doorbell_parse_number(argv[0], "--bitrate", optarg, 50, 20000, &number) != 0)
                return -1;
            options->bitrate_kbps = (int)number;
            break;
        case 'g':
            if (doorbell_parse_number(argv[0], "--keyframe-interval", optarg, 1, 3600, &number) !=
                0)
                return -1;
            options->keyframe_interval = (int)number;
            break;
        case 'p':
            options->preset = optarg;
            break;
        case 'u':
            if (doorbell_parse_sub_stream(argv[0], optarg, options) != 0)
                return -1;
            break;
        case 'U':
            if (doorbell_parse_number(argv[0], "--sub-bitrate", optarg, 50, 20000, &number) != 0)
                return -1;
            options->sub_bitrate_kbps = (int)number;
            break;
        case 't':
            if (doorbell_parse_number(argv[0], "--still-after", optarg, 1, 3600, &number) != 0)
                return -1;
            options->still_after_s = (int)number;
            break;
        case 'o':
            if (doorbell_parse_number(argv[0], "--still-bitrate", optarg, 0, 100, &number) != 0)
                return -1;
            options->still_percent = (int)number;
            break;
        case 'r':
            options->scripted = 1;
            break;
        case 'e':
            if (doorbell_parse_number(argv[0], "--seed", optarg, 0, UINT32_MAX, &number) != 0)
                return -1;
            options->seed = (uint32_t)number;
            break;
        case 'j':
            if (doorbell_parse_number(argv[0], "--capture-jitter-ms", optarg, 0, 1000, &number) !=
                0)
                return -1;
            options->capture_jitter_ms = (int)number;
            break;
        case 'C':
            options->control_path = optarg;
            break;
        case 'a':
            options->audio_device = optarg;
            break;
        case 'A':
            options->speaker_device = optarg;
            break;
        case 'L':
            options->alsa_config = optarg;
            break;
        case 'T':
            options->state_dir = optarg;
            break;
        case 'N':
            options->no_mdns = 1;
            break;
        case 'W':
            options->no_previews = 1;
            break;
        case 'm':
            options->model = optarg;
            if (!doorbell_model_valid(optarg)) {
                fprintf(stderr, "%s: --model wants 1 to 32 printable characters\n", argv[0]);
                return -1;
            }
            break;
        case 'P':
            if (audio_pacing_parse(optarg, &options->audio_pacing) != 0) {
                fprintf(stderr, "%s: --audio-pacing wants auto, device or clock\n", argv[0]);
                return -1;
            }
            break;
        case 'E':
            if (echo_cancel_mode_parse(optarg, &options->echo_cancel) != 0) {
                fprintf(stderr, "%s: --echo-cancel wants aec, duck or off\n", argv[0]);
                return -1;
            }
            break;
        case 'O':
            if (sim_room_parse(optarg, &options->sim_room) != 0) {
                fprintf(stderr, "%s: --sim-room wants DELAY_MS,GAIN_DB (0..200, -60..12)\n",
                        argv[0]);
                return -1;
            }
            options->sim_room_enabled = 1;
            break;
        case 'R':
            options->replay_path = optarg;
            break;
        case 'D':
            options->replay_devices = optarg;
            break;
        case 'K':
            options->replay_tcp = optarg;
            break;
        case 'v':
            if (log_parse_level(optarg, &options->log_level) != 0) {
                fprintf(stderr, "%s: unknown log level '%s'\n", argv[0], optarg);
                return -1;
            }
            break;
        case 'B':
        case 'I':
            if (doorbell_parse_gpio(argv[0], option == 'B', optarg, options) != 0)
                return -1;
            break;
        case 'h':
            doorbell_usage(argv[0]);
            return 1;
        default:
            fprintf(stderr, "try %s --help\n", argv[0]);
            return -1;
        }
    }
    if (options->keyframe_interval <= 0)
        options->keyframe_interval = 2 * options->fps;
    if (options->capture_jitter_ms > 0 &&
        (strncmp(options->camera, "sim", 3) != 0 || options->replay_path != NULL)) {
        fprintf(stderr, "%s: --capture-jitter-ms is for the sim camera\n", argv[0]);
        return -1;
    }
    /* "none" is no device at all; the simulated microphone has no speaker of
     * its own, so it plays to ALSA's "null" unless told otherwise. */
    if (options->audio_device != NULL && strcmp(options->audio_device, "none") == 0)
        options->audio_device = NULL;
    if (options->speaker_device == NULL && options->audio_device != NULL &&
        strcmp(options->audio_device, AUDIO_CAPTURE_SIM_DEVICE) == 0)
        options->speaker_device = "null";
    if (options->speaker_device == NULL)
        options->speaker_device = options->audio_device;
    else if (strcmp(options->speaker_device, "none") == 0)
        options->speaker_device = NULL;
    if (options->replay_path != NULL && (options->have_button_gpio || options->have_pir_gpio)) {
        fprintf(stderr, "%s: --button-gpio and --pir-gpio are for a doorbell, not --replay\n",
                argv[0]);
        return -1;
    }
    if (options->replay_devices != NULL && options->replay_path == NULL) {
        fprintf(stderr, "%s: --replay-devices needs --replay\n", argv[0]);
        return -1;
    }
    if (options->replay_tcp != NULL && options->replay_path == NULL) {
        fprintf(stderr, "%s: --replay-tcp needs --replay\n", argv[0]);
        return -1;
    }
    /* One secret for --device-id; a replay doorbell may list all its devices
     * in --replay-devices instead; a doorbell that pairs has neither. */
    secrets = (options->secret_hex != NULL) + (options->secret_file != NULL);
    if (options->replay_path != NULL && options->replay_tcp == NULL &&
        (options->hub_url == NULL ||
         (options->device_id != NULL ? secrets != 1
                                     : secrets != 0 || options->replay_devices == NULL))) {
        fprintf(stderr,
                "%s: --replay needs --hub, and --device-id with one of "
                "--secret/--secret-file or --replay-devices\n",
                argv[0]);
        return -1;
    }
    if (options->replay_path == NULL &&
        (options->device_id != NULL ? secrets != 1 : secrets != 0)) {
        fprintf(stderr, "%s: --device-id and one of --secret/--secret-file go together\n", argv[0]);
        return -1;
    }
    if (options->replay_path == NULL && options->device_id == NULL && options->state_dir == NULL) {
        fprintf(stderr,
                "%s: --state-dir (to pair), or --device-id and one of --secret/--secret-file "
                "are needed\n",
                argv[0]);
        return -1;
    }
    if (options->hub_url != NULL && strncmp(options->hub_url, "wss://", 6) != 0) {
        fprintf(stderr, "%s: --hub must look like wss://HOST:PORT\n", argv[0]);
        return -1;
    }
    /* Without mDNS the hub comes from --hub or, once paired, DIR/hub.json. */
    if (options->hub_url == NULL && options->no_mdns &&
        !doorbell_options_state_file_exists(options->state_dir, "hub.json")) {
        fprintf(stderr, "%s: --hub is needed with --no-mdns (until the doorbell is paired)\n",
                argv[0]);
        return -1;
    }
    if (options->model == NULL)
        options->model =
            strncmp(options->camera, "sim", 3) == 0 ? "Doorstep simulator" : "Doorstep doorbell";
    return 0;
}

/* Read the 64-hex-digit secret from the option or its file. */
int doorbell_load_secret(const struct doorbell_options *options, uint8_t secret[LINK_SECRET_SIZE])
{
    char text[LINK_SECRET_SIZE * 2 + 8] = "";
    int rc;

    if (options->secret_file != NULL) {
        FILE *file = fopen(options->secret_file, "re");
        if (file == NULL || fgets(text, sizeof(text), file) == NULL) {
            log_error("cannot read %s", options->secret_file);
            if (file != NULL)
                fclose(file);
            return -1;
        }
        fclose(file);
        text[strcspn(text, "\r\n")] = '\0';
    } else {
        snprintf(text, sizeof(text), "%s", options->secret_hex);
    }
    rc = link_hex_decode(text, secret, LINK_SECRET_SIZE);
    mbedtls_platform_zeroize(text, sizeof(text));
    if (rc != 0)
        log_error("the secret must be %d hex digits", LINK_SECRET_SIZE * 2);
    return rc;
}
