/*
 * preview_store.c - timeline previews next to the recording segments (see
 * preview_store.h): the link thread's writer, the HTTP threads' lookup, and
 * the retention thread's deletion and sweep.
 *
 * Threads: a writer is its link thread's alone (no lock); the other
 * functions keep no state and open their own descriptors. Durability: a
 * previews file is appended without a sync per record (the link thread
 * never waits for the disk while video flows) and fdatasync'ed when the
 * writer moves to the next segment or stops; a crash loses at most the
 * records not yet written back, and a torn last record is ignored by every
 * reader and cut off by the next writer of that file.
 *
 * Storage: a file's size goes into its segment's row (recordings.preview_bytes)
 * when the writer closes it, so the storage budget and the usage figures
 * count previews with their footage; the file being written (one segment's
 * previews) is counted once it closes.
 */
#define LOG_MODULE "previews"

#include "recording/preview_store.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/log.h"
#include "recording/preview_container.h"
#include "recording/recording_store.h"

#define PREVIEW_STORE_PATH_MAX 8192
#define PREVIEW_SUFFIX         ".previews"
/* Longer than any segment (segment_seconds is at most an hour): bounds the
 * lookup's index range, so a time in a gap does not scan a week of rows. */
#define PREVIEW_SEGMENT_MAX_MS (2LL * 3600 * 1000)

/* A preview copied while its segment's row is not there yet. */
struct preview_pending {
    int64_t capture_ms, received_ms;
    uint8_t *jpeg;
    size_t size;
};

struct preview_writer {
    const char *recordings_dir;
    char device_id[64];
    int fd;                           /* the open previews file, or -1 */
    char segment[RECORDING_PATH_MAX]; /* its segment, relative path */
    uint64_t end;                     /* where the next record goes */
    int64_t last_ms;                  /* capture time of its last record */
    int full_logged;                  /* "file full" said once per file */
    uint64_t rejected;                /* bad JPEGs, for rate-limited logging */
    uint64_t write_failures;          /* a full disk: rate-limited logging too */
    struct preview_pending pending[PREVIEW_STORE_PENDING];
    int pending_count;
    sqlite3 *db; /* the link thread's connection, from the last add: for the row's preview_bytes */
};

/* pread as a preview_read_fn; context points to the descriptor. */
static long preview_store_read(void *context, uint64_t offset, void *buffer, size_t size)
{
    int fd = *(const int *)context;
    size_t done = 0;

    while (done < size) {
        ssize_t got = pread(fd, (uint8_t *)buffer + done, size - done, (off_t)(offset + done));
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return -1;
        if (got == 0)
            break;
        done += (size_t)got;
    }
    return (long)done;
}

/* See preview_store.h. */
int preview_store_path(const char *recordings_dir, const char *segment_path, char *out,
                       size_t out_size)
{
    size_t length = strlen(segment_path);
    int written;

    if (length < 5 || strcmp(segment_path + length - 4, ".mp4") != 0)
        return -1;
    written = snprintf(out, out_size, "%s/%.*s" PREVIEW_SUFFIX, recordings_dir, (int)(length - 4),
                       segment_path);
    return written < 0 || (size_t)written >= out_size ? -1 : 0;
}

/* See preview_store.h. The caller frees the writer with preview_writer_free. */
struct preview_writer *preview_writer_create(const char *recordings_dir, const char *device_id)
{
    struct preview_writer *writer = calloc(1, sizeof(*writer));

    if (writer == NULL)
        return NULL;
    writer->recordings_dir = recordings_dir;
    snprintf(writer->device_id, sizeof(writer->device_id), "%s", device_id);
    writer->fd = -1;
    return writer;
}

/* The previews of segment (relative path) take bytes now: into its row, for
 * the storage budget. 0, or -1 on a database error. */
static int preview_store_note_bytes(sqlite3 *db, const char *device_id, const char *segment,
                                    int64_t bytes)
{
    sqlite3_stmt *statement = NULL;
    int step;

    if (sqlite3_prepare_v2(db,
                           "UPDATE recordings SET preview_bytes = ?1 WHERE path = ?2 AND "
                           "(?3 IS NULL OR device_id = ?3)",
                           -1, &statement, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(statement, 1, bytes);
    sqlite3_bind_text(statement, 2, segment, -1, SQLITE_STATIC);
    if (device_id != NULL)
        sqlite3_bind_text(statement, 3, device_id, -1, SQLITE_STATIC);
    step = sqlite3_step(statement);
    sqlite3_finalize(statement);
    return step == SQLITE_DONE ? 0 : -1;
}

/* Sync and close the open file, if any. */
static void preview_writer_close(struct preview_writer *writer)
{
    if (writer->fd < 0)
        return;
    if (fdatasync(writer->fd) != 0)
        log_warn("doorbell %s: syncing the previews of %s: %s", writer->device_id, writer->segment,
                 strerror(errno));
    if (writer->db != NULL && preview_store_note_bytes(writer->db, writer->device_id,
                                                       writer->segment, (int64_t)writer->end) != 0)
        log_warn("doorbell %s: the size of the previews of %s is not counted: %s",
                 writer->device_id, writer->segment, sqlite3_errmsg(writer->db));
    close(writer->fd);
    writer->fd = -1;
    writer->segment[0] = '\0';
}

/* scan callback: remember the newest capture time. */
static int preview_writer_last(const struct preview_record *record, void *data)
{
    *(int64_t *)data = record->capture_ms;
    return 0;
}

/* Open (or create) the previews file of segment and find where to append:
 * after its last whole record, a torn tail cut off. 0 or -1 (logged). */
static int preview_writer_open(struct preview_writer *writer, const char *segment)
{
    char path[PREVIEW_STORE_PATH_MAX];
    uint8_t header[PREVIEW_FILE_HEADER_SIZE];
    struct stat info;
    uint64_t end = 0;
    int64_t last_ms = 0;

    preview_writer_close(writer);
    if (preview_store_path(writer->recordings_dir, segment, path, sizeof(path)) != 0)
        return -1;
    writer->fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
    if (writer->fd < 0 || fstat(writer->fd, &info) != 0)
        goto fail;
    if (info.st_size < PREVIEW_FILE_HEADER_SIZE) {
        preview_file_header_encode(header);
        if (ftruncate(writer->fd, 0) != 0 ||
            pwrite(writer->fd, header, sizeof(header), 0) != (ssize_t)sizeof(header))
            goto fail;
        end = PREVIEW_FILE_HEADER_SIZE;
    } else if (preview_container_scan(preview_store_read, &writer->fd, (uint64_t)info.st_size,
                                      preview_writer_last, &last_ms, &end) < 0) {
        log_warn("doorbell %s: %s is not a previews file; left alone", writer->device_id, path);
        close(writer->fd);
        writer->fd = -1;
        return -1;
    } else if (end < (uint64_t)info.st_size && ftruncate(writer->fd, (off_t)end) != 0) {
        goto fail;
    }
    snprintf(writer->segment, sizeof(writer->segment), "%s", segment);
    writer->end = end;
    writer->last_ms = last_ms;
    writer->full_logged = 0;
    return 0;
fail:
    if (writer->write_failures++ < 5 || writer->write_failures % 100 == 0)
        log_warn("doorbell %s: cannot open %s: %s (%llu failures so far)", writer->device_id, path,
                 strerror(errno), (unsigned long long)writer->write_failures);
    if (writer->fd >= 0)
        close(writer->fd);
    writer->fd = -1;
    return -1;
}

/* The segment a preview captured at capture_ms belongs to, into segment:
 * 1 found, 0 none (yet), -1 database error. */
static int preview_writer_segment(struct preview_writer *writer, sqlite3 *db, int64_t capture_ms,
                                  char *segment, size_t segment_size)
{
    sqlite3_stmt *statement = NULL;
    int rc = 0, step;

    if (sqlite3_prepare_v2(db,
                           "SELECT path, state, end_ms FROM recordings WHERE device_id = ?1 AND "
                           "start_ms <= ?2 ORDER BY start_ms DESC LIMIT 1",
                           -1, &statement, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(statement, 1, writer->device_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(statement, 2, capture_ms);
    step = sqlite3_step(statement);
    if (step == SQLITE_ROW) {
        const char *state = (const char *)sqlite3_column_text(statement, 1);
        if ((state != NULL && strcmp(state, "open") == 0) ||
            sqlite3_column_int64(statement, 2) >= capture_ms) {
            snprintf(segment, segment_size, "%s", (const char *)sqlite3_column_text(statement, 0));
            rc = 1;
        }
    } else if (step != SQLITE_DONE) {
        rc = -1;
    }
    sqlite3_finalize(statement);
    return rc;
}

/* Append one record to the previews of its segment. 1 stored, 0 no segment
 * yet, -1 dropped (logged). */
static int preview_writer_store(struct preview_writer *writer, sqlite3 *db, int64_t capture_ms,
                                const uint8_t *jpeg, size_t size)
{
    char segment[RECORDING_PATH_MAX];
    uint8_t header[PREVIEW_RECORD_HEADER_SIZE];
    struct iovec parts[2];
    ssize_t written;
    int found = preview_writer_segment(writer, db, capture_ms, segment, sizeof(segment));

    if (found <= 0)
        return found;
    if ((writer->fd < 0 || strcmp(segment, writer->segment) != 0) &&
        preview_writer_open(writer, segment) != 0)
        return -1;
    if (capture_ms < writer->last_ms)
        return -1; /* records go in capture order; an older one would end the file for readers */
    if (writer->end + sizeof(header) + size > PREVIEW_FILE_MAX) {
        if (!writer->full_logged++)
            log_warn("doorbell %s: the previews of %s reached %u bytes; the rest are dropped",
                     writer->device_id, segment, PREVIEW_FILE_MAX);
        return -1;
    }
    preview_record_header_encode(capture_ms, (uint32_t)size, header);
    parts[0] = (struct iovec){header, sizeof(header)};
    parts[1] = (struct iovec){(void *)jpeg, size};
    written = pwritev(writer->fd, parts, 2, (off_t)writer->end);
    if (written != (ssize_t)(sizeof(header) + size)) {
        if (writer->write_failures++ < 5 || writer->write_failures % 100 == 0)
            log_warn("doorbell %s: writing a preview to %s: %s (%llu so far)", writer->device_id,
                     segment, written < 0 ? strerror(errno) : "short write",
                     (unsigned long long)writer->write_failures);
        if (ftruncate(writer->fd, (off_t)writer->end) != 0)
            preview_writer_close(writer); /* the reader ignores the torn tail anyway */
        return -1;
    }
    writer->end += (uint64_t)written;
    writer->last_ms = capture_ms;
    return 1;
}

/* Drop the oldest waiting preview. */
static void preview_writer_drop_pending(struct preview_writer *writer)
{
    free(writer->pending[0].jpeg);
    memmove(&writer->pending[0], &writer->pending[1],
            (size_t)(writer->pending_count - 1) * sizeof(writer->pending[0]));
    writer->pending_count--;
}

/* Try each waiting preview again, oldest first: those stored (or refused
 * for good) and those waiting too long go; the rest keep waiting. */
static void preview_writer_retry(struct preview_writer *writer, sqlite3 *db, int64_t now_ms)
{
    int kept = 0;

    for (int i = 0; i < writer->pending_count; i++) {
        struct preview_pending *waiting = &writer->pending[i];
        if (now_ms - waiting->received_ms <= PREVIEW_STORE_PENDING_MS &&
            preview_writer_store(writer, db, waiting->capture_ms, waiting->jpeg, waiting->size) ==
                0)
            writer->pending[kept++] = *waiting;
        else
            free(waiting->jpeg);
    }
    writer->pending_count = kept;
}

/* Keep a copy of a preview whose segment has no row yet; the oldest goes
 * when the wait list is full. */
static void preview_writer_wait(struct preview_writer *writer, int64_t capture_ms,
                                const uint8_t *jpeg, size_t size, int64_t now_ms)
{
    uint8_t *copy = malloc(size);

    if (copy == NULL)
        return;
    memcpy(copy, jpeg, size);
    if (writer->pending_count == PREVIEW_STORE_PENDING)
        preview_writer_drop_pending(writer);
    writer->pending[writer->pending_count++] =
        (struct preview_pending){capture_ms, now_ms, copy, size};
}

/* See preview_store.h. */
int preview_writer_add(struct preview_writer *writer, sqlite3 *db, int64_t capture_ms,
                       const uint8_t *jpeg, size_t size, int64_t now_ms)
{
    char reason[96];
    int rc;

    if (writer == NULL || db == NULL)
        return 0;
    writer->db = db;
    if (preview_jpeg_check(jpeg, size, reason, sizeof(reason)) != 0) {
        if (writer->rejected++ < 5 || writer->rejected % 100 == 0)
            log_warn("doorbell %s sent a preview that is not usable: %s; dropped (%llu so far)",
                     writer->device_id, reason, (unsigned long long)writer->rejected);
        return 0;
    }
    /* Those waiting first, being older: their segment may have its row now. */
    preview_writer_retry(writer, db, now_ms);
    rc = preview_writer_store(writer, db, capture_ms, jpeg, size);
    if (rc == 0)
        preview_writer_wait(writer, capture_ms, jpeg, size, now_ms);
    return rc > 0;
}

/* See preview_store.h. */
void preview_writer_free(struct preview_writer *writer)
{
    if (writer == NULL)
        return;
    preview_writer_close(writer);
    while (writer->pending_count > 0)
        preview_writer_drop_pending(writer);
    free(writer);
}

/* Read and check the JPEG of a record into out. 1 ok, 0 unusable, -1 error. */
static int preview_store_load(int fd, const struct preview_record *record,
                              struct preview_image *out)
{
    int keep_fd = fd;
    uint8_t *jpeg = malloc(record->size);
    char reason[96];

    if (jpeg == NULL)
        return -1;
    if (preview_store_read(&keep_fd, record->offset, jpeg, record->size) != (long)record->size ||
        preview_jpeg_check(jpeg, record->size, reason, sizeof(reason)) != 0) {
        free(jpeg);
        return 0;
    }
    out->jpeg = jpeg;
    out->size = record->size;
    out->capture_ms = record->capture_ms;
    return 1;
}

/* One segment's previews: the newest in [from_ms, to_ms]. 1, 0 or -1. */
static int preview_store_find_in(const char *recordings_dir, const char *segment, int64_t from_ms,
                                 int64_t to_ms, struct preview_image *out)
{
    char path[PREVIEW_STORE_PATH_MAX];
    struct preview_record record;
    struct stat info;
    int fd, rc = 0;

    if (from_ms > to_ms || preview_store_path(recordings_dir, segment, path, sizeof(path)) != 0)
        return 0;
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    if (fstat(fd, &info) != 0)
        rc = -1;
    else if (preview_container_find(preview_store_read, &fd, (uint64_t)info.st_size, from_ms, to_ms,
                                    &record) == 1)
        rc = preview_store_load(fd, &record, out);
    close(fd);
    return rc;
}

/* See preview_store.h. On 1, out->jpeg is the caller's to free. */
int preview_store_find(sqlite3 *db, const char *recordings_dir, const char *device_id,
                       int64_t at_ms, int64_t window_ms, struct preview_image *out)
{
    sqlite3_stmt *statement = NULL;
    char segment[RECORDING_PATH_MAX];
    int rc = 0, step = SQLITE_DONE;

    memset(out, 0, sizeof(*out));
    if (sqlite3_prepare_v2(db,
                           "SELECT path, start_ms, end_ms FROM recordings WHERE device_id = ?1 "
                           "AND start_ms <= ?2 AND start_ms >= ?4 AND end_ms >= ?3 "
                           "ORDER BY start_ms DESC LIMIT 4",
                           -1, &statement, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(statement, 1, device_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(statement, 2, at_ms);
    sqlite3_bind_int64(statement, 3, at_ms - window_ms);
    sqlite3_bind_int64(statement, 4, at_ms - window_ms - PREVIEW_SEGMENT_MAX_MS);
    while (rc == 0 && (step = sqlite3_step(statement)) == SQLITE_ROW) {
        int64_t start = sqlite3_column_int64(statement, 1),
                end = sqlite3_column_int64(statement, 2);
        int64_t from = at_ms - window_ms > start ? at_ms - window_ms : start;
        snprintf(segment, sizeof(segment), "%s", (const char *)sqlite3_column_text(statement, 0));
        rc = preview_store_find_in(recordings_dir, segment, from, at_ms < end ? at_ms : end, out);
    }
    if (rc == 0 && step != SQLITE_DONE && step != SQLITE_ROW)
        rc = -1;
    sqlite3_finalize(statement);
    /* Retention may have deleted the segment meanwhile: no footage, no preview. */
    if (rc == 1 && recording_store_has_path(db, segment) != 1) {
        free(out->jpeg);
        memset(out, 0, sizeof(*out));
        rc = 0;
    }
    return rc;
}

/* See preview_store.h. */
int preview_store_remove(const char *recordings_dir, const char *segment_path)
{
    char path[PREVIEW_STORE_PATH_MAX];

    if (preview_store_path(recordings_dir, segment_path, path, sizeof(path)) != 0)
        return 0;
    if (unlink(path) != 0 && errno != ENOENT) {
        log_error("cannot delete %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* nftw has no context: the retention thread alone sweeps, with these. */
static int preview_sweep_count;
static sqlite3 *preview_sweep_db;
static size_t preview_sweep_prefix; /* length of "recordings_dir/" */

/* nftw callback: unlink a previews file whose segment file is gone. */
static int preview_store_sweep_visit(const char *path, const struct stat *info, int type,
                                     struct FTW *where)
{
    char segment[PREVIEW_STORE_PATH_MAX];
    size_t length = strlen(path), suffix = strlen(PREVIEW_SUFFIX);
    struct stat segment_info;

    (void)where;
    if (type != FTW_F || length <= suffix || strcmp(path + length - suffix, PREVIEW_SUFFIX) != 0 ||
        length - suffix + 5 > sizeof(segment))
        return 0;
    snprintf(segment, sizeof(segment), "%.*s.mp4", (int)(length - suffix), path);
    if (stat(segment, &segment_info) != 0) {
        if (errno == ENOENT && unlink(path) == 0) {
            log_info("removed %s: its segment is gone", path);
            preview_sweep_count++;
        }
        return 0;
    }
    /* Kept: its size counts with its segment (files from before the
     * preview_bytes column, or left open by a crash, are counted here). */
    if (preview_sweep_db != NULL && strlen(segment) > preview_sweep_prefix &&
        preview_store_note_bytes(preview_sweep_db, NULL, segment + preview_sweep_prefix,
                                 (int64_t)info->st_size) != 0)
        log_warn("counting %s: %s", path, sqlite3_errmsg(preview_sweep_db));
    return 0;
}

/* See preview_store.h. */
int preview_store_sweep(const char *recordings_dir, sqlite3 *db)
{
    size_t length = strlen(recordings_dir);

    preview_sweep_count = 0;
    preview_sweep_db = db;
    preview_sweep_prefix = length + (length > 0 && recordings_dir[length - 1] != '/');
    if (nftw(recordings_dir, preview_store_sweep_visit, 16, FTW_PHYS) != 0 && errno != ENOENT)
        log_warn("sweeping previews under %s: %s", recordings_dir, strerror(errno));
    return preview_sweep_count;
}
