/*
 * private_file.h - a small file only its owner may read (mode 0600: an id,
 * a setup code, a private key, a pin), written so that a crash or power cut
 * leaves either the old file or the new one, never a torn one: a temporary
 * file beside it, fsync, rename. Used by the doorbell's pairing files and
 * the ids both programs announce over mDNS.
 *
 * Threads: any; callers serialise writes of the same file. Owns nothing.
 */
#ifndef DOORSTEP_PRIVATE_FILE_H
#define DOORSTEP_PRIVATE_FILE_H

#include <stddef.h>

/*
 * Write size bytes of data to dir/name atomically with mode 0600, making
 * dir (0700) when it is missing; a link at the temporary name is refused.
 * 0, or -1 with a reason in error (the old file, if any, is left as it was).
 */
int private_file_write(const char *dir, const char *name, const void *data, size_t size,
                       char *error, size_t error_size);

#endif
