/*
 * replay.c - the replay doorbell (see replay.h).
 *
 * Threads:
 *   main     - loads the file and the device list, starts everything, waits
 *              for a signal and stops it all in reverse order.
 *   pacer    - sends each link's next access unit when it is due: link i's
 *              frame n at start + n / fps + i / (fps * links), stamped with
 *              that due time. Never skips a frame: a starved sender shows
 *              up as late frames in `stats` and as latency, not as gaps.
 *   link     - one per device link (link_client.c); commands from the hub
 *              arrive there and only set atomics the pacer reads.
 *   control  - the control socket, when --control is given: stats, keyframe.
 * The pacer alone moves a link's cursor and sequence; the replay file is
 * read-only once loaded.
 */
#define LOG_MODULE "replay"

#include "replay/replay.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/platform_util.h>

#include "common/clock.h"
#include "common/log.h"
#include "control/control_socket.h"
#include "link/link_client.h"
#include "replay/replay_file.h"
#include "replay/replay_tcp.h"

#define REPLAY_MAX_LINKS 1024
#define REPLAY_LINE_MAX  256

/* What the pacer should do with a link's cursor before its next frame. */
enum replay_restart {
    REPLAY_RESTART_NONE = 0,
    REPLAY_RESTART_KEYFRAME,   /* the hub or a congested link needs an IDR */
    REPLAY_RESTART_FROM_START, /* a new connection: the file from its first IDR */
};

/* One device link, or one plain TCP output (--replay-tcp: client NULL). */
struct replay_link {
    struct link_client *client;
    char device_id[LINK_DEVICE_ID_MAX];
    atomic_int restart; /* enum replay_restart; set by any thread, taken by the pacer */
    size_t output;      /* --replay-tcp: the index of this link's TCP output */
    /* Pacer thread only. */
    size_t cursor;
    uint32_t sequence;
};

struct replay {
    const struct doorbell_options *options;
    char firmware[LINK_TEXT_MAX];
    struct replay_file file;
    struct replay_tcp tcp;      /* --replay-tcp: output i is links[i] */
    struct replay_link **links; /* each allocated alone: callbacks keep pointers */
    size_t link_count;
    struct control_socket *control;
    pthread_t pacer;
    int pacer_started;
    atomic_int stopping;
    /* Pacer counters, read by the control thread. */
    atomic_uint_fast64_t frames_queued, frames_congested, frames_offline, frames_late;
    atomic_uint_fast64_t max_late_us;
};

/* Link thread: the hub accepted this link; replay the file from its start. */
static void replay_on_connected(void *context)
{
    struct replay_link *link = context;
    atomic_store(&link->restart, REPLAY_RESTART_FROM_START);
}

/* Ask for an IDR unless a restart from the start is already pending. Any thread. */
static void replay_request_keyframe(struct replay_link *link)
{
    int none = REPLAY_RESTART_NONE;
    atomic_compare_exchange_strong(&link->restart, &none, REPLAY_RESTART_KEYFRAME);
}

/* Link thread: a command from the hub. Only what a file can do is done. */
static void replay_on_command(const struct link_command *command, const cJSON *json, void *context)
{
    struct replay_link *link = context;
    cJSON *result = cJSON_CreateObject();
    int ok = 1;

    (void)json;
    switch (command->type) {
    case LINK_COMMAND_KEYFRAME:
        replay_request_keyframe(link);
        break;
    default:
        ok = 0; /* no camera for snapshots, no encoder to re-configure */
        break;
    }
    if (result == NULL)
        return;
    cJSON_AddNumberToObject(result, "id", command->id);
    cJSON_AddBoolToObject(result, "ok", ok);
    if (!ok)
        cJSON_AddStringToObject(result, "reason", "unsupported in replay mode");
    link_client_send_json(link->client, LINK_COMMAND_RESULT, command->id, result);
    cJSON_Delete(result);
}

/* Pacer thread: queue the link's next access unit (copied by the link). */
static void replay_send_next(struct replay *replay, struct replay_link *link, uint64_t capture_us)
{
    const struct replay_file *file = &replay->file;
    const struct replay_unit *unit;
    int restart, rc;

    restart = atomic_exchange(&link->restart, REPLAY_RESTART_NONE);
    if (restart == REPLAY_RESTART_FROM_START)
        link->cursor = 0;
    else if (restart == REPLAY_RESTART_KEYFRAME)
        link->cursor = replay_file_next_keyframe(file, link->cursor);
    unit = &file->units[link->cursor];
    if (link->client == NULL) /* a TCP output: this link's index in the table */
        rc = replay_tcp_send(&replay->tcp, link->output, file->data + unit->offset, unit->size);
    else
        rc = link_client_send_video(link->client, file->data + unit->offset, unit->size,
                                    unit->keyframe, link->sequence++, capture_us);
    if (rc == 1) {
        atomic_fetch_add(&replay->frames_queued, 1);
    } else if (rc == 0) {
        atomic_fetch_add(&replay->frames_congested, 1);
        replay_request_keyframe(link); /* the link drops until the next IDR */
    } else {
        atomic_fetch_add(&replay->frames_offline, 1);
    }
    link->cursor = (link->cursor + 1) % file->unit_count;
}

/* Sleep until the monotonic time due_ns. */
static void replay_sleep_until(uint64_t due_ns)
{
    struct timespec until = {(time_t)(due_ns / 1000000000u), (long)(due_ns % 1000000000u)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR)
        ;
}

/* The pacer thread: every link's frames on one schedule. */
static void *replay_pacer_thread(void *data)
{
    struct replay *replay = data;
    uint64_t period_ns = 1000000000u / (uint64_t)replay->options->fps;
    uint64_t start_ns = (uint64_t)clock_monotonic_ns();
    /* Capture times follow the schedule, as a camera's would: a late sender
     * delivers frames late, not frames with squeezed durations. */
    uint64_t start_us = clock_realtime_us();

    for (uint64_t event = 0; !atomic_load(&replay->stopping); event++) {
        size_t index = (size_t)(event % replay->link_count);
        uint64_t due_ns = start_ns + event / replay->link_count * period_ns +
                          index * period_ns / replay->link_count;
        uint64_t now_ns;

        replay_sleep_until(due_ns);
        now_ns = (uint64_t)clock_monotonic_ns();
        if (now_ns > due_ns + period_ns) {
            uint64_t late_us = (now_ns - due_ns) / 1000u;
            atomic_fetch_add(&replay->frames_late, 1);
            if (late_us > atomic_load(&replay->max_late_us))
                atomic_store(&replay->max_late_us, late_us); /* the pacer is the only writer */
        }
        replay_send_next(replay, replay->links[index], start_us + (due_ns - start_ns) / 1000u);
    }
    return NULL;
}

/* Control thread: "stats" (totals over all links), "keyframe", "help". */
static void replay_on_control(const char *command, char *reply, size_t reply_size, void *context)
{
    struct replay *replay = context;
    struct link_client_stats total = {0};
    char name[32] = "";
    size_t connected = 0;

    sscanf(command, "%31s", name);
    if (strcmp(name, "stats") == 0) {
        for (size_t i = 0; i < replay->link_count; i++) {
            struct link_client_stats stats;
            if (replay->links[i]->client == NULL)
                continue; /* a TCP output: its counters are the pacer's */
            link_client_get_stats(replay->links[i]->client, &stats);
            total.video_sent += stats.video_sent;
            total.video_dropped += stats.video_dropped;
            total.connects += stats.connects;
            total.disconnects += stats.disconnects;
            total.auth_failures += stats.auth_failures;
            connected += stats.connected ? 1 : 0;
        }
        snprintf(reply, reply_size,
                 "{\"mode\":\"replay\",\"links\":%zu,\"connected\":%zu,\"units\":%zu,"
                 "\"frames_queued\":%llu,\"frames_congested\":%llu,\"frames_offline\":%llu,"
                 "\"frames_late\":%llu,\"max_late_ms\":%.1f,\"video_sent\":%llu,"
                 "\"video_dropped\":%llu,\"connects\":%llu,\"disconnects\":%llu,"
                 "\"auth_failures\":%llu,\"width\":%d,\"height\":%d,\"fps\":%d}",
                 replay->link_count, connected, replay->file.unit_count,
                 (unsigned long long)atomic_load(&replay->frames_queued),
                 (unsigned long long)atomic_load(&replay->frames_congested),
                 (unsigned long long)atomic_load(&replay->frames_offline),
                 (unsigned long long)atomic_load(&replay->frames_late),
                 (double)atomic_load(&replay->max_late_us) / 1000.0,
                 (unsigned long long)total.video_sent, (unsigned long long)total.video_dropped,
                 (unsigned long long)total.connects, (unsigned long long)total.disconnects,
                 (unsigned long long)total.auth_failures, replay->options->width,
                 replay->options->height, replay->options->fps);
    } else if (strcmp(name, "keyframe") == 0) {
        for (size_t i = 0; i < replay->link_count; i++)
            replay_request_keyframe(replay->links[i]);
        snprintf(reply, reply_size, "ok");
    } else if (strcmp(name, "help") == 0 || name[0] == '\0') {
        snprintf(reply, reply_size, "commands (replay mode): stats, keyframe");
    } else {
        snprintf(reply, reply_size, "error: '%s' is not available in replay mode", name);
    }
}

/* Main thread: start one link for device_id. The secret is copied into the
 * link's configuration; the caller wipes its own copy. 0 or -1 (logged). */
static int replay_add_link(struct replay *replay, const char *device_id,
                           const uint8_t secret[LINK_SECRET_SIZE])
{
    struct link_client_config config;
    struct replay_link *link = NULL, **links;
    char error[256];
    int rc = -1;

    if (replay->link_count >= REPLAY_MAX_LINKS) {
        log_error("more than %d device links", REPLAY_MAX_LINKS);
        return -1;
    }
    links = realloc(replay->links, (replay->link_count + 1) * sizeof(*links));
    if (links == NULL)
        return -1;
    replay->links = links;
    link = calloc(1, sizeof(*link));
    if (link == NULL)
        return -1;
    snprintf(link->device_id, sizeof(link->device_id), "%s", device_id);

    memset(&config, 0, sizeof(config));
    memcpy(config.secret, secret, LINK_SECRET_SIZE);
    config.hub_url = replay->options->hub_url;
    config.device_id = link->device_id;
    config.hub_key_sha256 = replay->options->hub_key_sha256;
    config.firmware = replay->firmware;
    config.width = replay->options->width;
    config.height = replay->options->height;
    config.fps = replay->options->fps;
    config.on_command = replay_on_command;
    config.on_connected = replay_on_connected;
    config.callback_context = link;
    link->client = link_client_start(&config, error, sizeof(error));
    mbedtls_platform_zeroize(config.secret, sizeof(config.secret));
    if (link->client == NULL) {
        log_error("link for %s: %s", device_id, error);
        goto out;
    }
    replay->links[replay->link_count++] = link;
    link = NULL;
    rc = 0;
out:
    free(link);
    return rc;
}

/* Main thread: one link per "DEVICE_ID SECRET_HEX" line of path ('#'
 * comments and blank lines skipped). 0 or -1 (logged). */
static int replay_load_devices(struct replay *replay, const char *path)
{
    char line[REPLAY_LINE_MAX], device_id[LINK_DEVICE_ID_MAX], secret_hex[LINK_SECRET_SIZE * 2 + 2];
    uint8_t secret[LINK_SECRET_SIZE];
    FILE *file = fopen(path, "re");
    int number = 0, rc = -1;

    if (file == NULL) {
        log_error("cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof(line), file) != NULL) {
        number++;
        if (strchr(line, '\n') == NULL && !feof(file)) {
            log_error("%s:%d: line too long", path, number);
            goto out;
        }
        if (line[strspn(line, " \t\r\n")] == '\0' || line[strspn(line, " \t")] == '#')
            continue;
        if (sscanf(line, "%63s %65s", device_id, secret_hex) != 2 ||
            link_hex_decode(secret_hex, secret, sizeof(secret)) != 0) {
            log_error("%s:%d: expected DEVICE_ID and a %d-hex-digit secret", path, number,
                      LINK_SECRET_SIZE * 2);
            goto out;
        }
        if (replay_add_link(replay, device_id, secret) != 0)
            goto out;
    }
    rc = 0;
out:
    mbedtls_platform_zeroize(line, sizeof(line));
    mbedtls_platform_zeroize(secret_hex, sizeof(secret_hex));
    mbedtls_platform_zeroize(secret, sizeof(secret));
    fclose(file);
    return rc;
}

/* Main thread: --replay-tcp; one link without a client per TCP output,
 * each starting the file at its first unit. Waits up to 30 s for the
 * listeners. 0 or -1 (logged). */
static int replay_start_tcp(struct replay *replay)
{
    char error[256];

    if (replay_tcp_open(replay->options->replay_tcp, 30000, &replay->tcp, error, sizeof(error)) !=
        0) {
        log_error("--replay-tcp %s: %s", replay->options->replay_tcp, error);
        return -1;
    }
    replay->links = calloc(replay->tcp.count, sizeof(*replay->links));
    if (replay->links == NULL)
        return -1;
    for (size_t i = 0; i < replay->tcp.count; i++) {
        replay->links[i] = calloc(1, sizeof(*replay->links[i]));
        if (replay->links[i] == NULL)
            return -1;
        replay->links[i]->output = i;
        replay->link_count = i + 1;
    }
    return 0;
}

/* Main thread: the links of --device-id and of --replay-devices. 0 or -1. */
static int replay_start_links(struct replay *replay)
{
    const struct doorbell_options *options = replay->options;
    uint8_t secret[LINK_SECRET_SIZE];
    int rc = 0;

    if (options->replay_tcp != NULL)
        return replay_start_tcp(replay);
    if (options->device_id != NULL) {
        if (doorbell_load_secret(options, secret) != 0)
            return -1;
        rc = replay_add_link(replay, options->device_id, secret);
        mbedtls_platform_zeroize(secret, sizeof(secret));
        if (rc != 0)
            return -1;
    }
    if (options->replay_devices != NULL &&
        replay_load_devices(replay, options->replay_devices) != 0)
        return -1;
    if (replay->link_count == 0) {
        log_error("%s lists no doorbell", options->replay_devices);
        return -1;
    }
    return 0;
}

int replay_run(const struct doorbell_options *options, const char *firmware)
{
    struct replay *replay = calloc(1, sizeof(*replay));
    char error[256];
    sigset_t signals;
    int signal_number = 0, exit_code = 1;

    if (replay == NULL)
        return 1;
    replay->options = options;
    snprintf(replay->firmware, sizeof(replay->firmware), "%s (replay)", firmware);
    /* Before any thread starts, so only sigwait() below sees these. */
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (replay_file_load(options->replay_path, &replay->file, error, sizeof(error)) != 0) {
        log_error("cannot replay: %s", error);
        goto out;
    }
    if (replay_start_links(replay) != 0)
        goto out;
    if (options->control_path != NULL) {
        replay->control = control_socket_start(options->control_path, replay_on_control, replay,
                                               error, sizeof(error));
        if (replay->control == NULL) {
            log_error("control: %s", error);
            goto out;
        }
    }
    if (pthread_create(&replay->pacer, NULL, replay_pacer_thread, replay) != 0) {
        log_error("cannot start the pacing thread");
        goto out;
    }
    replay->pacer_started = 1;
    log_info("%s: %s, %zu access units (%zu bytes) at %d fps, %zu device link(s), hub %s",
             replay->firmware, options->replay_path, replay->file.unit_count, replay->file.size,
             options->fps, replay->link_count,
             options->replay_tcp != NULL ? options->replay_tcp : options->hub_url);

    if (sigwait(&signals, &signal_number) == 0)
        log_info("received %s, stopping", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
    exit_code = 0;
out:
    atomic_store(&replay->stopping, 1);
    if (replay->pacer_started)
        pthread_join(replay->pacer, NULL);
    control_socket_stop(replay->control);
    for (size_t i = 0; i < replay->link_count; i++) {
        if (replay->links[i]->client != NULL)
            link_client_stop(replay->links[i]->client);
        free(replay->links[i]);
    }
    free(replay->links);
    replay_tcp_close(&replay->tcp);
    replay_file_free(&replay->file);
    free(replay);
    return exit_code;
}
