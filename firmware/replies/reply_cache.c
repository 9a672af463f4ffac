/*
 * reply_cache.c - reassembly and the memory and disk cache of quick reply
 * clips (see reply_cache.h). Files: STATE_DIR/replies/<id>-<version>.clip,
 * written to a temporary name and renamed.
 */
#define LOG_MODULE "replies"

#include "replies/reply_cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error_text.h"
#include "common/log.h"
#include "common/mutex.h"
#include "common/reply_clip.h"

#define REPLY_CACHE_PATH_MAX 4096

struct reply_cache_entry {
    uint32_t reply_id, version;
    uint8_t *clip; /* NULL: the slot is free */
    size_t size;
    uint64_t used; /* use counter at the last use: the smallest goes first */
};

struct reply_cache {
    char directory[REPLY_CACHE_PATH_MAX]; /* "" = memory only; read-only */

    pthread_mutex_t lock; /* guards everything below */
    struct reply_cache_entry entries[REPLY_CACHE_MAX_ENTRIES];
    uint64_t use_counter;
    /* The clip being reassembled. */
    uint32_t pending_id, pending_version, pending_total;
    uint8_t *pending; /* pending_total bytes, NULL when none */
    size_t pending_received;
};

/* See reply_cache.h. */
struct reply_cache *reply_cache_create(const char *state_dir)
{
    struct reply_cache *cache = calloc(1, sizeof(*cache));

    if (cache == NULL)
        return NULL;
    mutex_init_checked(&cache->lock);
    if (state_dir != NULL && state_dir[0] != '\0') {
        snprintf(cache->directory, sizeof(cache->directory), "%s/replies", state_dir);
        if (mkdir(state_dir, 0750) != 0 && errno != EEXIST)
            log_warn("state directory: %s", strerror(errno));
        if (mkdir(cache->directory, 0750) != 0 && errno != EEXIST) {
            log_warn("quick replies are kept in memory only: %s", strerror(errno));
            cache->directory[0] = '\0';
        }
    }
    return cache;
}

/* See reply_cache.h. */
void reply_cache_destroy(struct reply_cache *cache)
{
    if (cache == NULL)
        return;
    for (int i = 0; i < REPLY_CACHE_MAX_ENTRIES; i++)
        free(cache->entries[i].clip);
    free(cache->pending);
    pthread_mutex_destroy(&cache->lock);
    free(cache);
}

/* The file name of a clip. */
static void reply_cache_path(const struct reply_cache *cache, uint32_t reply_id, uint32_t version,
                             char *out, size_t size)
{
    snprintf(out, size, "%s/%u-%u.clip", cache->directory, reply_id, version);
}

/* Remove the other versions of reply_id, and the oldest files (by
 * modification time) beyond REPLY_CACHE_MAX_ENTRIES with the one of
 * reply_id. Lock held (it orders the writers). */
static void reply_cache_prune_files_locked(struct reply_cache *cache, uint32_t reply_id,
                                           uint32_t version)
{
    struct {
        char name[64];
        struct timespec modified;
    } files[REPLY_CACHE_MAX_ENTRIES * 2];
    int count = 0;
    char path[REPLY_CACHE_PATH_MAX + 80];
    DIR *directory;
    struct dirent *item;

    mutex_assert_held(&cache->lock);
    directory = opendir(cache->directory);
    if (directory == NULL)
        return;
    while ((item = readdir(directory)) != NULL) {
        unsigned id = 0, found_version = 0;
        struct stat status;
        char tail[8] = "";
        if (sscanf(item->d_name, "%u-%u.%7s", &id, &found_version, tail) != 3 ||
            strcmp(tail, "clip") != 0 || strlen(item->d_name) >= sizeof(files[0].name))
            continue;
        snprintf(path, sizeof(path), "%s/%.63s", cache->directory, item->d_name);
        if (id == reply_id) {
            if (found_version != version)
                unlink(path);
            continue; /* the clip just written stays: the others make room */
        }
        if (stat(path, &status) != 0)
            continue;
        if (count == (int)(sizeof(files) / sizeof(files[0]))) {
            unlink(path); /* more than we ever keep: someone else's, or a crash's */
            continue;
        }
        snprintf(files[count].name, sizeof(files[count].name), "%.63s", item->d_name);
        files[count++].modified = status.st_mtim;
    }
    closedir(directory);
    while (count > REPLY_CACHE_MAX_ENTRIES - 1) {
        int oldest = 0;
        for (int i = 1; i < count; i++)
            if (files[i].modified.tv_sec < files[oldest].modified.tv_sec ||
                (files[i].modified.tv_sec == files[oldest].modified.tv_sec &&
                 files[i].modified.tv_nsec < files[oldest].modified.tv_nsec))
                oldest = i;
        snprintf(path, sizeof(path), "%s/%.63s", cache->directory, files[oldest].name);
        unlink(path);
        files[oldest] = files[--count];
    }
}

/* Write a clip's file. Lock held. Failures are logged: the clip stays in memory. */
static void reply_cache_write_file_locked(struct reply_cache *cache, uint32_t reply_id,
                                          uint32_t version, const uint8_t *clip, size_t size)
{
    char path[REPLY_CACHE_PATH_MAX + 40], temporary[REPLY_CACHE_PATH_MAX + 48];
    size_t written = 0;
    int fd;

    mutex_assert_held(&cache->lock);
    if (cache->directory[0] == '\0')
        return;
    reply_cache_path(cache, reply_id, version, path, sizeof(path));
    snprintf(temporary, sizeof(temporary), "%s.tmp", path);
    fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        goto fail;
    while (written < size) {
        ssize_t n = write(fd, clip + written, size - written);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close(fd);
            goto fail;
        }
        written += (size_t)n;
    }
    if (fsync(fd) != 0) {
        close(fd);
        goto fail;
    }
    close(fd);
    if (rename(temporary, path) != 0)
        goto fail;
    reply_cache_prune_files_locked(cache, reply_id, version);
    return;
fail:
    log_warn("cannot keep quick reply %u on disk: %s", reply_id, strerror(errno));
    unlink(temporary);
}

/* Keep clip (taken over) in memory, replacing other versions of the reply
 * and, when full, the least recently used. Lock held. */
static void reply_cache_keep_locked(struct reply_cache *cache, uint32_t reply_id, uint32_t version,
                                    uint8_t *clip, size_t size)
{
    int slot = -1;

    mutex_assert_held(&cache->lock);
    for (int i = 0; i < REPLY_CACHE_MAX_ENTRIES; i++) {
        struct reply_cache_entry *entry = &cache->entries[i];
        if (entry->clip != NULL && entry->reply_id == reply_id) {
            free(entry->clip);
            entry->clip = NULL;
        }
        if (entry->clip == NULL && slot < 0)
            slot = i;
    }
    if (slot < 0) {
        slot = 0;
        for (int i = 1; i < REPLY_CACHE_MAX_ENTRIES; i++)
            if (cache->entries[i].used < cache->entries[slot].used)
                slot = i;
        free(cache->entries[slot].clip);
    }
    cache->entries[slot].reply_id = reply_id;
    cache->entries[slot].version = version;
    cache->entries[slot].clip = clip;
    cache->entries[slot].size = size;
    cache->entries[slot].used = ++cache->use_counter;
}

/* See reply_cache.h. */
int reply_cache_take_chunk(struct reply_cache *cache, const struct link_quick_reply_data *chunk,
                           char *error, size_t error_size)
{
    int rc = -1;

    pthread_mutex_lock(&cache->lock);
    if (chunk->offset == 0) {
        free(cache->pending);
        cache->pending = malloc(chunk->total);
        if (cache->pending == NULL) {
            error_text_set(error, error_size, "out of memory");
            goto out;
        }
        cache->pending_id = chunk->reply_id;
        cache->pending_version = chunk->version;
        cache->pending_total = chunk->total;
        cache->pending_received = 0;
    }
    if (cache->pending == NULL || chunk->reply_id != cache->pending_id ||
        chunk->version != cache->pending_version || chunk->total != cache->pending_total ||
        chunk->offset != cache->pending_received) {
        error_text_set(error, error_size, "chunk out of order");
        goto drop;
    }
    memcpy(cache->pending + cache->pending_received, chunk->chunk, chunk->chunk_size);
    cache->pending_received += chunk->chunk_size;
    if (cache->pending_received < cache->pending_total) {
        rc = 0;
        goto out;
    }
    if (reply_clip_validate(cache->pending, cache->pending_total) <= 0) {
        error_text_set(error, error_size, "not a quick reply clip");
        goto drop;
    }
    reply_cache_write_file_locked(cache, cache->pending_id, cache->pending_version, cache->pending,
                                  cache->pending_total);
    reply_cache_keep_locked(cache, cache->pending_id, cache->pending_version, cache->pending,
                            cache->pending_total);
    cache->pending = NULL;
    rc = 1;
    goto out;
drop:
    free(cache->pending);
    cache->pending = NULL;
out:
    pthread_mutex_unlock(&cache->lock);
    return rc;
}

/* Read a clip's file into a new buffer (*clip, caller frees). Lock held. 0 or -1. */
static int reply_cache_read_file_locked(struct reply_cache *cache, uint32_t reply_id,
                                        uint32_t version, uint8_t **clip, size_t *size)
{
    char path[REPLY_CACHE_PATH_MAX + 40];
    uint8_t *data = NULL;
    size_t got = 0;
    FILE *file;
    int rc = -1;

    mutex_assert_held(&cache->lock);
    if (cache->directory[0] == '\0')
        return -1;
    reply_cache_path(cache, reply_id, version, path, sizeof(path));
    file = fopen(path, "rbe");
    if (file == NULL)
        return -1;
    data = malloc(REPLY_CLIP_MAX_BYTES + 1);
    if (data == NULL)
        goto out;
    got = fread(data, 1, REPLY_CLIP_MAX_BYTES + 1, file);
    if (ferror(file) || reply_clip_validate(data, got) <= 0) {
        log_warn("cached quick reply %u is damaged; it is dropped", reply_id);
        unlink(path);
        goto out;
    }
    *clip = data;
    *size = got;
    data = NULL;
    rc = 0;
out:
    free(data);
    fclose(file);
    return rc;
}

/* See reply_cache.h. */
int reply_cache_get(struct reply_cache *cache, uint32_t reply_id, uint32_t version, uint8_t **clip,
                    size_t *size)
{
    uint8_t *loaded = NULL;
    size_t loaded_size = 0;
    int rc = -1;

    pthread_mutex_lock(&cache->lock);
    for (int i = 0; i < REPLY_CACHE_MAX_ENTRIES; i++) {
        struct reply_cache_entry *entry = &cache->entries[i];
        if (entry->clip != NULL && entry->reply_id == reply_id && entry->version == version) {
            *clip = malloc(entry->size);
            if (*clip == NULL)
                goto out;
            memcpy(*clip, entry->clip, entry->size);
            *size = entry->size;
            entry->used = ++cache->use_counter;
            rc = 0;
            goto out;
        }
    }
    if (reply_cache_read_file_locked(cache, reply_id, version, &loaded, &loaded_size) != 0)
        goto out;
    *clip = malloc(loaded_size);
    if (*clip == NULL) {
        free(loaded);
        goto out;
    }
    memcpy(*clip, loaded, loaded_size);
    *size = loaded_size;
    reply_cache_keep_locked(cache, reply_id, version, loaded, loaded_size);
    rc = 0;
out:
    pthread_mutex_unlock(&cache->lock);
    return rc;
}
