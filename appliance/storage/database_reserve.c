/*
 * database_reserve.c - room kept for the database when its disk fills up
 * (see database_reserve.h for why and for the threads).
 *
 * Owns the file `<database>-reserve` and the lock-guarded state below. The
 * file is made under a temporary name and renamed, so a crash never leaves
 * a half-made reserve that looks whole; a reserve left by a crash is simply
 * kept.
 */
#define LOG_MODULE "database"

#include "storage/database_reserve.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/log.h"
#include "common/mutex.h"
#include "storage/database.h"

static pthread_mutex_t database_reserve_lock = MUTEX_INITIALIZER;
static char database_reserve_path[4200];      /* written once by init */
static char database_reserve_directory[4200]; /* written once by init */
static int database_reserve_released;         /* the file is gone for want of room */
static int64_t database_reserve_last_full_ms; /* the latest SQLITE_FULL, 0 = never */

/* Free and total bytes of the database's filesystem. 0 or -1. */
static int database_reserve_filesystem(long long *free_out, long long *total_out)
{
    struct statvfs info;
    if (statvfs(database_reserve_directory, &info) != 0)
        return -1;
    *free_out = (long long)info.f_bavail * (long long)info.f_frsize;
    *total_out = (long long)info.f_blocks * (long long)info.f_frsize;
    return 0;
}

/* The reserve's size on a filesystem of total bytes. */
static long long database_reserve_size(long long total)
{
    long long share = total / DATABASE_RESERVE_SHARE;
    return share < DATABASE_RESERVE_MAX_BYTES ? share : DATABASE_RESERVE_MAX_BYTES;
}

/* Allocate the reserve of size bytes (under a temporary name, then renamed).
 * Called with the lock held. 0 or -1 (nothing left behind). */
static int database_reserve_make(long long size)
{
    char temporary[sizeof(database_reserve_path) + 8];
    int fd, rc;

    snprintf(temporary, sizeof(temporary), "%s.new", database_reserve_path);
    fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -1;
    rc = posix_fallocate(fd, 0, (off_t)size);
    if (rc == 0 && fsync(fd) != 0)
        rc = errno;
    close(fd);
    if (rc != 0 || rename(temporary, database_reserve_path) != 0) {
        unlink(temporary);
        return -1;
    }
    return 0;
}

void database_reserve_init(const char *database_path)
{
    char copy[sizeof(database_reserve_directory)];
    long long free_bytes, total;
    struct stat info;

    snprintf(database_reserve_path, sizeof(database_reserve_path), "%s-reserve", database_path);
    snprintf(copy, sizeof(copy), "%s", database_path);
    snprintf(database_reserve_directory, sizeof(database_reserve_directory), "%s", dirname(copy));
    pthread_mutex_lock(&database_reserve_lock);
    if (stat(database_reserve_path, &info) != 0) {
        if (database_reserve_filesystem(&free_bytes, &total) != 0 ||
            free_bytes < 3 * database_reserve_size(total) ||
            database_reserve_make(database_reserve_size(total)) != 0) {
            database_reserve_released = 1;
            log_warn("no room for the database's reserve (%s): the database disk is nearly full",
                     database_reserve_path);
        }
    }
    pthread_mutex_unlock(&database_reserve_lock);
    /* Started on a full disk: start-up reconciliation must be able to write. */
    database_reserve_tend();
}

int database_reserve_release(void)
{
    int released = 0;
    pthread_mutex_lock(&database_reserve_lock);
    if (database_reserve_path[0] != '\0' && unlink(database_reserve_path) == 0) {
        released = 1;
        log_warn("the database's disk is full: its reserve is released");
    }
    database_reserve_released = 1;
    pthread_mutex_unlock(&database_reserve_lock);
    return released;
}

int database_reserve_note(int rc)
{
    if ((rc & 0xff) != SQLITE_FULL)
        return 0;
    pthread_mutex_lock(&database_reserve_lock);
    database_reserve_last_full_ms = database_now_ms();
    pthread_mutex_unlock(&database_reserve_lock);
    database_reserve_release();
    return 1;
}

void database_reserve_tend(void)
{
    long long free_bytes, total;

    if (database_reserve_path[0] == '\0' || database_reserve_filesystem(&free_bytes, &total) != 0)
        return;
    pthread_mutex_lock(&database_reserve_lock);
    if (!database_reserve_released && free_bytes < DATABASE_RESERVE_LOW_BYTES) {
        pthread_mutex_unlock(&database_reserve_lock);
        database_reserve_release();
        return;
    }
    /* Make it again only with room to spare, so that it is not released
     * again at once. */
    if (database_reserve_released && free_bytes >= 3 * database_reserve_size(total) &&
        database_now_ms() - database_reserve_last_full_ms >= DATABASE_FULL_RECENT_MS &&
        database_reserve_make(database_reserve_size(total)) == 0) {
        database_reserve_released = 0;
        log_info("the database's disk has room again: its reserve is back (%lld bytes)",
                 database_reserve_size(total));
    }
    pthread_mutex_unlock(&database_reserve_lock);
}

int database_reserve_full(int64_t now_ms)
{
    int full;
    pthread_mutex_lock(&database_reserve_lock);
    full = database_reserve_released ||
           (database_reserve_last_full_ms != 0 &&
            now_ms - database_reserve_last_full_ms < DATABASE_FULL_RECENT_MS);
    pthread_mutex_unlock(&database_reserve_lock);
    return full;
}

long long database_reserve_free_bytes(void)
{
    long long free_bytes, total;
    if (database_reserve_directory[0] == '\0' ||
        database_reserve_filesystem(&free_bytes, &total) != 0)
        return -1;
    return free_bytes;
}
