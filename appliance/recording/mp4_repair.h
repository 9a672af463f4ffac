/*
 * mp4_repair.h - the repair of a segment a crash cut short: keep the whole
 * part mp4_scan() found (valid_length), cut the rest, make it durable.
 * No state; any thread.
 */
#ifndef DOORSTEP_MP4_REPAIR_H
#define DOORSTEP_MP4_REPAIR_H

#include <stdint.h>

/*
 * Cut the file at path to valid_length and fsync it. Refuses (EINVAL) to grow
 * a file, or a valid_length of 0 (such a file holds nothing: delete it
 * instead). Does not follow a symlink in the last path component. 0 ok, -1
 * with errno.
 */
int mp4_repair_truncate(const char *path, uint64_t valid_length);

#endif
