/*
 * main.c - doorbelld, the Doorstep doorbell firmware.
 *
 * The main thread parses the command line, starts the doorbell
 * (doorbell/doorbell.c: camera, encoder, motion detection, the link to the
 * hub, audio, the control socket and the capture thread), sends telemetry
 * every 10 s, and on SIGTERM or SIGINT stops everything in reverse order.
 * The other threads and what they share are described in doorbell/doorbell.h.
 *
 * Three other ways to run: `doorbelld ctl SOCKET COMMAND...` is the
 * command-line client of a running doorbell's control socket
 * (control_socket_client_main), `--replay FILE` sends a pre-encoded file
 * over one or more device links instead of a camera (replay/replay.c), and
 * `--self-test` checks the camera back-ends, codecs and link vectors of this
 * build on this machine and exits (selftest/self_test.c).
 *
 * Discovery (discovery/doorbell_discovery.c, its own mDNS thread): unless
 * --no-mdns, the doorbell announces itself while in pairing mode and, when
 * started without --hub, waits here for a hub heard over mDNS before it
 * starts. Started without --device-id it has not been paired: it announces
 * pairing mode and starts no link.
 */
#define LOG_MODULE "doorbelld"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "control/control_socket.h"
#include "discovery/doorbell_discovery.h"
#include "doorbell/doorbell.h"
#include "doorbell/doorbell_options.h"
#include "replay/replay.h"
#include "selftest/self_test.h"

/* Wait up to a second for SIGTERM or SIGINT; 1 if one arrived (logged). */
static int doorbell_wait_signal(const sigset_t *signals)
{
    struct timespec timeout = {1, 0};
    int signal_number = sigtimedwait(signals, NULL, &timeout);

    if (signal_number <= 0)
        return 0;
    log_info("received %s, stopping", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
    return 1;
}

/* Pairing mode as far as this build knows: open when the doorbell was
 * started without --hub and without --device-id. Set once by main before
 * discovery starts; read on the mDNS thread. */
static bool doorbell_pairing_open;

/* in_pairing_mode for discovery: the flag above. mDNS thread. */
static bool doorbell_in_pairing_mode(void *context)
{
    (void)context;
    return doorbell_pairing_open;
}

/* This doorbell's own device id (kept in --state-dir) into device_id, and
 * discovery started unless --no-mdns (announcing while in pairing mode,
 * browsing for hubs); 0, or -1 (logged). Main thread. */
static int doorbell_start_discovery(const struct doorbell_options *options,
                                    char device_id[DISCOVERY_ID_LENGTH + 1],
                                    struct doorbell_discovery **out)
{
    struct doorbell_discovery_config config;
    char error[256];

    *out = NULL;
    if (doorbell_discovery_device_id(options->state_dir, device_id, error, sizeof(error)) != 0) {
        log_error("device id: %s", error);
        return -1;
    }
    doorbell_pairing_open = options->hub_url == NULL && options->device_id == NULL;
    if (options->device_id == NULL)
        log_info("not paired: device id %s (%s) %s", device_id, options->model,
                 options->no_mdns        ? "does not announce pairing mode (--no-mdns)"
                 : doorbell_pairing_open ? "announces pairing mode over mDNS"
                                         : "does not announce pairing mode (started with --hub)");
    if (options->no_mdns)
        return 0;
    memset(&config, 0, sizeof(config));
    config.device_id = device_id;
    config.model = options->model;
    config.in_pairing_mode = doorbell_in_pairing_mode;
    *out = doorbell_discovery_start(&config, error, sizeof(error));
    if (*out == NULL) {
        log_error("mDNS: %s", error);
        return -1;
    }
    return 0;
}

/* Wait for a hub heard over mDNS (the one matching the pin when there is
 * one) and write its URL into url: 1, or 0 when a signal came first. */
static int doorbell_wait_for_hub(struct doorbell_discovery *discovery, const char *pin,
                                 const sigset_t *signals, char *url, size_t url_size)
{
    log_info("looking for a hub on the local network (mDNS)...");
    while (!doorbell_discovery_pick_hub(discovery, pin, url, url_size))
        if (doorbell_wait_signal(signals))
            return 0;
    return 1;
}

int main(int argc, char **argv)
{
    struct doorbell_discovery *discovery = NULL;
    char hub_url[DOORBELL_DISCOVERY_URL_SIZE], device_id[DISCOVERY_ID_LENGTH + 1];
    struct doorbell_options options;
    struct doorbell *doorbell;
    sigset_t signals;
    int rc, ticks = 0;

    if (argc >= 2 && strcmp(argv[1], "ctl") == 0)
        return control_socket_client_main(argc, argv);
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--self-test") == 0) {
            if (argc == 2)
                return self_test_run(stdout);
            fprintf(stderr, "--self-test takes no other argument\n");
            return 2;
        }
    memset(&options, 0, sizeof(options));
    rc = doorbell_parse_options(argc, argv, &options);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    log_set_level(options.log_level);
    if (options.replay_path != NULL)
        return replay_run(&options, DOORBELL_FIRMWARE_VERSION);

    /* Signals are taken synchronously by this thread; every thread started
     * from here inherits the mask. */
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    if ((!options.no_mdns || options.device_id == NULL) &&
        doorbell_start_discovery(&options, device_id, &discovery) != 0)
        return 1;
    if (options.device_id == NULL) {
        /* Not paired: nothing to link with; pairing mode stays announced. */
        while (!doorbell_wait_signal(&signals))
            continue;
        doorbell_discovery_stop(discovery);
        return 0;
    }
    if (options.hub_url == NULL) {
        if (!doorbell_wait_for_hub(discovery, options.hub_key_sha256, &signals, hub_url,
                                   sizeof(hub_url))) {
            doorbell_discovery_stop(discovery);
            return 0;
        }
        options.hub_url = hub_url;
    }
    doorbell = doorbell_start(&options);
    if (doorbell == NULL) {
        doorbell_discovery_stop(discovery);
        return 1;
    }
    while (!doorbell_wait_signal(&signals))
        if (++ticks % DOORBELL_TELEMETRY_PERIOD_S == 1)
            doorbell_send_telemetry(doorbell);
    doorbell_stop(doorbell);
    doorbell_discovery_stop(discovery);
    return 0;
}
