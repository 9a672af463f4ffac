/*
 * private_file.c - writing a 0600 file atomically (see private_file.h).
 * No state of its own.
 */
#include "common/private_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error_text.h"

#define PRIVATE_FILE_PATH_MAX 4096

/* Write data to dir/name (see private_file.h). */
int private_file_write(const char *dir, const char *name, const void *data, size_t size,
                       char *error, size_t error_size)
{
    char path[PRIVATE_FILE_PATH_MAX], temporary[PRIVATE_FILE_PATH_MAX];
    int fd = -1, result = -1;

    if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path) ||
        snprintf(temporary, sizeof(temporary), "%s/.%s.tmp", dir, name) >= (int)sizeof(temporary)) {
        error_text_set(error, error_size, "the path is too long");
        return -1;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        error_text_set(error, error_size, "cannot make %s: %s", dir, strerror(errno));
        return -1;
    }
    fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        error_text_set(error, error_size, "cannot write %s: %s", temporary, strerror(errno));
        return -1;
    }
    if (fchmod(fd, 0600) != 0 || write(fd, data, size) != (ssize_t)size || fsync(fd) != 0) {
        error_text_set(error, error_size, "cannot write %s: %s", temporary, strerror(errno));
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        error_text_set(error, error_size, "cannot write %s: %s", temporary, strerror(errno));
        goto out;
    }
    fd = -1;
    if (rename(temporary, path) != 0) {
        error_text_set(error, error_size, "cannot rename to %s: %s", path, strerror(errno));
        goto out;
    }
    result = 0;
out:
    if (fd >= 0)
        close(fd);
    if (result != 0)
        unlink(temporary);
    return result;
}
