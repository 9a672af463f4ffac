/*
 * discovery_id.h - the 12-hex-digit id a hub or an unpaired doorbell
 * announces over mDNS, kept in a file of its data or state directory
 * (`hub-id` for the hub, `device-id` for a doorbell): read when it is there
 * and well-formed, else made from the OS random source and written
 * atomically (temp file, fsync, rename), mode 0600, in a directory made
 * (0700) when missing.
 *
 * Main thread, at start-up. No state.
 */
#ifndef DOORSTEP_DISCOVERY_ID_H
#define DOORSTEP_DISCOVERY_ID_H

#include <stddef.h>

#include "common/discovery_txt.h"

/*
 * Read directory/file_name into id (DISCOVERY_ID_LENGTH + 1 bytes), or make
 * and keep a new one when the file is missing. A file that exists but does
 * not hold an id is an error (it is not overwritten). 0, or -1 with a reason.
 */
int discovery_id_load_or_make(const char *directory, const char *file_name,
                              char id[DISCOVERY_ID_LENGTH + 1], char *error, size_t error_size);

#endif
