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
 * --no-mdns, a doorbell that pairs (--state-dir, no --device-id) announces
 * itself while its pairing mode is open and, started without --hub and not
 * yet paired, pairs with the first hub it hears; a paired one reaches the
 * hub kept in DIR/hub.json. A legacy doorbell (--device-id and a secret)
 * without --hub waits here for the hub matching --hub-key-sha256 (or the
 * first heard) before it starts.
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
#include "pairing/pairing.h"
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

/* in_pairing_mode for discovery: the pairing state's own lock makes this
 * safe on the mDNS thread. */
static bool doorbell_in_pairing_mode(void *context)
{
    return pairing_mode_open(context);
}

/* Start discovery for device_id (announcing while pairing, when pairing is
 * not NULL; browsing for hubs always); NULL when it cannot (logged). */
static struct doorbell_discovery *doorbell_start_discovery(const struct doorbell_options *options,
                                                           const char *device_id,
                                                           struct pairing *pairing)
{
    struct doorbell_discovery_config config = {
        .device_id = device_id,
        .model = options->model,
        .in_pairing_mode = pairing != NULL ? doorbell_in_pairing_mode : NULL,
        .context = pairing,
    };
    char error[256];
    struct doorbell_discovery *discovery = doorbell_discovery_start(&config, error, sizeof(error));

    if (discovery == NULL)
        log_error("mDNS: %s", error);
    else if (pairing != NULL)
        log_info("mDNS: device id %s (%s) announces pairing mode while it is open", device_id,
                 options->model);
    return discovery;
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

/*
 * Once a second for a doorbell that pairs, started without --hub: announce
 * under its current id (a factory reset makes a new one) and, while it is
 * unpaired and has no hub to pair with, give it the first hub heard. The
 * pairing itself checks that hub (SPAKE2+ over its key); a paired doorbell
 * goes to the hub in DIR/hub.json, pinned. Main thread.
 */
static void doorbell_discover(const struct doorbell_options *options, struct pairing *pairing,
                              struct doorbell_discovery **discovery, char *announced_id,
                              size_t announced_size)
{
    char device_id[PAIR_DEVICE_ID_SIZE], url[DOORBELL_DISCOVERY_URL_SIZE];

    pairing_device_id(pairing, device_id, sizeof(device_id));
    if (*discovery == NULL || strcmp(device_id, announced_id) != 0) {
        doorbell_discovery_stop(*discovery);
        *discovery = doorbell_start_discovery(options, device_id, pairing);
        snprintf(announced_id, announced_size, "%s", *discovery != NULL ? device_id : "");
    }
    if (*discovery == NULL || options->hub_url != NULL || pairing_is_paired(pairing))
        return;
    pairing_hub_url(pairing, url, sizeof(url));
    if (url[0] == '\0' && doorbell_discovery_pick_hub(*discovery, NULL, url, sizeof(url))) {
        log_info("pairing with the hub heard at %s", url);
        pairing_set_hub_url(pairing, url);
    }
}

int main(int argc, char **argv)
{
    struct doorbell_discovery *discovery = NULL;
    char hub_url[DOORBELL_DISCOVERY_URL_SIZE], announced_id[PAIR_DEVICE_ID_SIZE] = "";
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

    if (options.device_id != NULL && options.hub_url == NULL) {
        discovery = doorbell_start_discovery(&options, options.device_id, NULL);
        if (discovery == NULL)
            return 1;
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
    for (;;) {
        doorbell_pairing_poll(doorbell);
        if (doorbell->pairing != NULL && !options.no_mdns)
            doorbell_discover(&options, doorbell->pairing, &discovery, announced_id,
                              sizeof(announced_id));
        if (++ticks % DOORBELL_TELEMETRY_PERIOD_S == 1)
            doorbell_send_telemetry(doorbell);
        if (doorbell_wait_signal(&signals))
            break;
    }
    doorbell_discovery_stop(discovery); /* withdraws the announcement first */
    doorbell_stop(doorbell);
    return 0;
}
