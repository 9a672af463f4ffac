/*
 * mp4_repair.c - cutting a segment file back to its last whole fragment
 * (see mp4_repair.h). Main thread at start-up, or a test.
 */
#include "recording/mp4_repair.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

/* Truncate to valid_length and make the new length durable (see mp4_repair.h). */
int mp4_repair_truncate(const char *path, uint64_t valid_length)
{
    struct stat status;
    int saved_errno = 0;
    if (path == NULL || valid_length == 0 || valid_length > INT64_MAX) {
        errno = EINVAL;
        return -1;
    }
    int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    if (fstat(fd, &status) != 0) {
        saved_errno = errno;
        goto out;
    }
    if (!S_ISREG(status.st_mode) || (uint64_t)status.st_size < valid_length) {
        saved_errno = EINVAL;
        goto out;
    }
    if ((uint64_t)status.st_size > valid_length) {
        int result;
        while ((result = ftruncate(fd, (off_t)valid_length)) != 0 && errno == EINTR)
            ;
        if (result != 0) {
            saved_errno = errno;
            goto out;
        }
    }
    /* fsync, not fdatasync: the new size is the point. Not retried on
     * failure (an error may already have dropped the dirty state). */
    if (fsync(fd) != 0)
        saved_errno = errno;
out:
    if (close(fd) != 0 && saved_errno == 0)
        saved_errno = errno;
    errno = saved_errno;
    return saved_errno == 0 ? 0 : -1;
}
