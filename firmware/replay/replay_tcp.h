/*
 * replay_tcp.h - plain TCP outputs for the replay doorbell (replay.h), so
 * that benchmarks can feed another recorder (ffmpeg `-f h264 -i
 * tcp://HOST:PORT?listen`, as Frigate records) the very same access units
 * on the very same schedule as the hub gets over device links.
 *
 * `--replay-tcp HOST:PORT[,COUNT]` opens COUNT connections (default 1) to
 * HOST:PORT, HOST:PORT+1, ... and writes the bare Annex B bytes of each unit
 * to them: no framing, no TLS, no authentication (benchmarks only).
 *
 * Opened on the main thread before the pacer starts; afterwards only the
 * pacer thread writes. replay_tcp_close() closes every connection.
 */
#ifndef DOORSTEP_REPLAY_TCP_H
#define DOORSTEP_REPLAY_TCP_H

#include <stddef.h>
#include <stdint.h>

#define REPLAY_TCP_MAX_OUTPUTS 1024

struct replay_tcp {
    int *fds; /* one per output; -1 once an output failed */
    size_t count;
};

/*
 * Parse spec ("HOST:PORT" or "HOST:PORT,COUNT") and connect every output,
 * retrying each for up to timeout_ms while its listener starts. 0, or -1
 * with a reason (and nothing left open).
 */
int replay_tcp_open(const char *spec, int timeout_ms, struct replay_tcp *tcp, char *error,
                    size_t error_size);

/* Pacer thread: write size bytes to output index, blocking until the kernel
 * took them all. 1 written, -1 the output failed (closed; later calls return
 * -1 at once). */
int replay_tcp_send(struct replay_tcp *tcp, size_t index, const uint8_t *data, size_t size);

void replay_tcp_close(struct replay_tcp *tcp);

#endif
