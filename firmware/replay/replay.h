/*
 * replay.h - the replay doorbell: `doorbelld --replay FILE.h264` sends the
 * access units of a pre-encoded H.264 Annex B file over the device link, in
 * a loop, at --fps, with fresh capture times. No camera, no encoder, no
 * audio: what the hub receives is real video, but what it costs the sender
 * is a memcpy and TLS, so one machine can play ~100 doorbells at 4 Mbit/s
 * next to the hub for the recording benchmarks (tests/bench/record.bench.mjs).
 *
 * `--replay-devices FILE` adds one link per "DEVICE_ID SECRET_HEX" line to
 * the one of --device-id, all in this process, each with its own link
 * thread; one pacing thread sends every link's frames, spread evenly over
 * the frame period as independent doorbells would be. Each link restarts
 * the file at its first IDR when it (re)connects, so a recording holds the
 * file's units in order.
 *
 * Threads: the main thread (replay_run) loads the file, starts the links,
 * the pacing thread and the control socket, then waits for SIGTERM/SIGINT.
 */
#ifndef DOORSTEP_REPLAY_H
#define DOORSTEP_REPLAY_H

#include "doorbell/doorbell_options.h"

/* Run the replay doorbell until SIGTERM/SIGINT. firmware is the version
 * string for HELLO. Returns the process exit status (0 or 1, logged). */
int replay_run(const struct doorbell_options *options, const char *firmware);

#endif
