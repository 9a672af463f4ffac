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
 */
#define LOG_MODULE "doorbelld"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "control/control_socket.h"
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

int main(int argc, char **argv)
{
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

    doorbell = doorbell_start(&options);
    if (doorbell == NULL)
        return 1;
    while (!doorbell_wait_signal(&signals)) {
        doorbell_pairing_poll(doorbell);
        if (++ticks % DOORBELL_TELEMETRY_PERIOD_S == 1)
            doorbell_send_telemetry(doorbell);
    }
    doorbell_stop(doorbell);
    return 0;
}
