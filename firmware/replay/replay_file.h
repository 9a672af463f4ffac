/*
 * replay_file.h - a pre-encoded H.264 Annex B file held in memory and split
 * into access units, for the replay doorbell (replay.h): benchmarks send
 * real 1080p video without paying for a camera or x264 on every doorbell.
 *
 * Loaded once at start-up on the main thread; read-only afterwards, so any
 * number of threads may read it without a lock. The file owns its bytes and
 * the unit table; replay_file_free() releases both.
 */
#ifndef DOORSTEP_REPLAY_FILE_H
#define DOORSTEP_REPLAY_FILE_H

#include <stddef.h>
#include <stdint.h>

#define REPLAY_FILE_MAX_BYTES (512u * 1024u * 1024u)

/* One access unit: bytes [offset, offset + size) of the file, start codes
 * included, so the units of a file add up to the whole file. */
struct replay_unit {
    size_t offset, size;
    int keyframe; /* holds an IDR slice (and, checked at load, its SPS and PPS) */
};

struct replay_file {
    uint8_t *data;
    size_t size;
    struct replay_unit *units;
    size_t unit_count;
};

/*
 * Read path and split it into access units. The file must start with an
 * IDR access unit, and every IDR must carry its SPS and PPS (the hub needs
 * them on every keyframe: x264's repeat-headers). 0, or -1 with a reason.
 * On success the caller frees with replay_file_free().
 */
int replay_file_load(const char *path, struct replay_file *file, char *error, size_t error_size);

/* The first keyframe at or after index, wrapping around the end. */
size_t replay_file_next_keyframe(const struct replay_file *file, size_t index);

void replay_file_free(struct replay_file *file);

#endif
