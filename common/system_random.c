/*
 * system_random.c - kernel random bytes (see system_random.h).
 *
 * Threads: any; getrandom(2) is thread-safe and nothing here keeps state.
 * Ownership: the caller's buffers only.
 */
#include "common/system_random.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>

#include "common/error_text.h"

/* Loop over getrandom(2): it may return fewer bytes or be interrupted. */
int system_random_fill(void *buffer, size_t length, char *error, size_t error_size)
{
    unsigned char *out = buffer;
    size_t done = 0;

    while (done < length) {
        ssize_t got = getrandom(out + done, length - done, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            error_text_set(error, error_size, "getrandom failed: %s", strerror(errno));
            return -1;
        }
        done += (size_t)got;
    }
    return 0;
}

/* mbedTLS callback shape; the reason of a failure is lost (mbedTLS reports
 * its own error code to the caller). */
int system_random_callback(void *context, unsigned char *buffer, size_t length)
{
    (void)context;
    return system_random_fill(buffer, length, NULL, 0);
}
