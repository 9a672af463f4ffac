/*
 * reconcile.c - index vs disk, at start-up and for `doorstep check` (see
 * reconcile.h). The scanner (mp4_scan.c) decides what part of a file is
 * whole; this file decides what to do about it.
 */
#define LOG_MODULE "recording"

#include "recording/reconcile.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "media/fmp4.h"
#include "recording/mp4_repair.h"
#include "recording/mp4_scan.h"
#include "recording/recording_store.h"
#include "recording/segment_index.h"
#include "storage/database.h"

#define RECONCILE_QUARANTINE       "quarantine"
#define RECONCILE_CREATING_SECONDS 10 /* see reconcile_being_created() */

static void reconcile_quarantine(const char *directory, const char *path,
                                 struct reconcile_report *report);

/* A copy of the fields of a row we need after the listing query ended. */
struct reconcile_row {
    int64_t id, start_ms, bytes;
    int open;
    char device_id[64];
    char path[RECORDING_PATH_MAX];
};

struct reconcile_rows {
    struct reconcile_row *rows;
    size_t count, capacity;
};

/* recording_store_list callback: copy one row. */
static int reconcile_collect_row(const struct recording_row *row, void *data)
{
    struct reconcile_rows *rows = data;
    if (rows->count == rows->capacity) {
        size_t capacity = rows->capacity ? rows->capacity * 2 : 64;
        struct reconcile_row *grown = realloc(rows->rows, capacity * sizeof(*grown));
        if (grown == NULL)
            return 1;
        rows->rows = grown;
        rows->capacity = capacity;
    }
    struct reconcile_row *copy = &rows->rows[rows->count++];
    memset(copy, 0, sizeof(*copy));
    copy->id = row->id;
    copy->start_ms = row->start_ms;
    copy->bytes = row->bytes;
    copy->open = row->open;
    snprintf(copy->device_id, sizeof(copy->device_id), "%s", row->device_id);
    snprintf(copy->path, sizeof(copy->path), "%s", row->path);
    return 0;
}

/* Scan a file. 0 with *result filled (caller frees; io_error set when the
 * scan could not finish), -1 if it cannot be opened. */
static int reconcile_scan(const char *absolute, struct mp4_scan_result *result)
{
    int fd = open(absolute, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    int rc;
    if (fd < 0)
        return -1;
    rc = mp4_scan_fd(fd, result);
    close(fd);
    if (rc != 0)
        result->io_error = 1; /* could not finish: never cut a file on a guess */
    return 0;
}

/* Fill a row's progress fields from a scan; returns the index blob (caller frees). */
static uint8_t *reconcile_row_from_scan(const struct mp4_scan_result *scan,
                                        struct recording_row *row)
{
    const struct mp4_scan_track *video = NULL, *audio = NULL;
    struct segment_index_entry *entries = NULL;
    size_t count = 0, size = 0, capacity;
    uint8_t *blob = NULL;

    for (int i = 0; i < scan->track_count; i++) {
        if (strcmp(scan->tracks[i].handler, "vide") == 0 && video == NULL)
            video = &scan->tracks[i];
        else if (strcmp(scan->tracks[i].handler, "soun") == 0 && audio == NULL)
            audio = &scan->tracks[i];
    }
    row->bytes = (int64_t)scan->valid_length;
    row->video_frames = video ? (int64_t)video->samples : 0;
    row->audio_packets = audio ? (int64_t)audio->samples : 0;
    if (video != NULL && video->timescale > 0)
        row->end_ms = row->start_ms + (int64_t)(video->end_decode_time * 1000 / video->timescale);
    if (video != NULL && video->sps_parsed) {
        row->width = video->width;
        row->height = video->height;
    }
    entries = calloc(scan->fragment_count + 1, sizeof(*entries));
    if (entries != NULL && video != NULL) {
        for (size_t i = 0; i < scan->fragment_count; i++) {
            const struct mp4_scan_fragment *fragment = &scan->fragments[i];
            if (fragment->track_id == video->track_id && fragment->keyframe &&
                (count == 0 || fragment->base_decode_time > entries[count - 1].decode_time))
                entries[count++] =
                    (struct segment_index_entry){fragment->base_decode_time, fragment->offset};
        }
    }
    capacity = segment_index_max_size(count);
    if (entries != NULL && capacity > 0 && (blob = malloc(capacity)) != NULL &&
        segment_index_encode(entries, count, blob, capacity, &size) != 0)
        size = 0;
    free(entries);
    row->keyframe_index = blob;
    row->keyframe_index_size = size;
    return blob;
}

/* Remove a file and its row; used for empty files. */
static void reconcile_drop(sqlite3 *db, const char *directory, const char *path,
                           struct reconcile_report *report)
{
    char absolute[8192];
    snprintf(absolute, sizeof(absolute), "%s/%s", directory, path);
    if (unlink(absolute) != 0 && errno != ENOENT)
        log_warn("cannot remove %s: %s", absolute, strerror(errno));
    recording_store_delete(db, path);
    report->rows_dropped++;
}

/* Carry out deletions a crash interrupted: file first, then rows. */
static void reconcile_pending_deletions(sqlite3 *db, const char *directory,
                                        struct reconcile_report *report)
{
    sqlite3_stmt *statement = NULL;
    char absolute[8192];

    if (sqlite3_prepare_v2(db, "SELECT path FROM pending_deletions", -1, &statement, NULL) !=
        SQLITE_OK)
        return;
    while (sqlite3_step(statement) == SQLITE_ROW) {
        const char *path = (const char *)sqlite3_column_text(statement, 0);
        snprintf(absolute, sizeof(absolute), "%s/%s", directory, path);
        if (unlink(absolute) != 0 && errno != ENOENT)
            continue;
        recording_store_delete(db, path);
        report->deletions_finished++;
    }
    sqlite3_finalize(statement);
    sqlite3_exec(db,
                 "DELETE FROM pending_deletions WHERE path NOT IN (SELECT path FROM recordings)",
                 NULL, NULL, NULL);
}

/* Video frames in the whole fragments of a scan: a segment without any (a
 * crash between its init segment and its first fragment) plays nothing. */
static uint64_t reconcile_video_frames(const struct mp4_scan_result *scan)
{
    uint64_t frames = 0;
    for (int i = 0; i < scan->track_count && i < MP4_SCAN_MAX_TRACKS; i++)
        if (strcmp(scan->tracks[i].handler, "vide") == 0)
            frames += scan->tracks[i].samples;
    return frames;
}

/* An open row left by a crash (or a closed one whose file changed size): cut
 * the file back to its last whole fragment and record what it holds. */
static void reconcile_open_row(sqlite3 *db, const char *directory, const struct reconcile_row *row,
                               struct reconcile_report *report)
{
    char absolute[8192];
    struct mp4_scan_result scan;
    struct recording_row update;
    uint8_t *blob;

    snprintf(absolute, sizeof(absolute), "%s/%s", directory, row->path);
    memset(&scan, 0, sizeof(scan));
    if (reconcile_scan(absolute, &scan) != 0) {
        log_info("reconcile: %s vanished; dropping its row", row->path);
        reconcile_drop(db, directory, row->path, report);
        return;
    }
    if (scan.io_error) {
        log_warn("reconcile: cannot read %s; left as it is", row->path);
        goto out;
    }
    if (scan.valid_length == 0) {
        log_info("reconcile: %s holds nothing usable (%s)", row->path, scan.reason);
        reconcile_quarantine(directory, row->path, report);
        reconcile_drop(db, directory, row->path, report);
        goto out;
    }
    if (reconcile_video_frames(&scan) == 0) {
        log_info("reconcile: %s holds no whole frame; removed", row->path);
        reconcile_drop(db, directory, row->path, report);
        goto out;
    }
    if (!scan.complete) {
        if (mp4_repair_truncate(absolute, scan.valid_length) != 0) {
            log_warn("reconcile: cannot repair %s: %s", row->path, strerror(errno));
            goto out;
        }
        log_info("reconcile: %s cut from %llu to %llu bytes (%s)", row->path,
                 (unsigned long long)scan.total_length, (unsigned long long)scan.valid_length,
                 scan.reason);
        report->segments_repaired++;
    } else {
        report->segments_closed++;
    }
    memset(&update, 0, sizeof(update));
    update.id = row->id;
    update.start_ms = row->start_ms;
    blob = reconcile_row_from_scan(&scan, &update);
    recording_store_update(db, &update, 1);
    free(blob);
out:
    mp4_scan_result_free(&scan);
}

/* Files found on disk (relative paths), gathered by nftw. */
static struct {
    const char *root;
    char **paths;
    size_t count, capacity;
} reconcile_walk;

/* nftw callback: collect *.mp4 files outside the quarantine. */
static int reconcile_walk_one(const char *path, const struct stat *info, int type, struct FTW *ftw)
{
    const char *relative = path + strlen(reconcile_walk.root);
    size_t length = strlen(path);

    (void)info, (void)ftw;
    while (*relative == '/')
        relative++;
    if (type != FTW_F || length < 4 || strcmp(path + length - 4, ".mp4") != 0 ||
        strncmp(relative, RECONCILE_QUARANTINE "/", sizeof(RECONCILE_QUARANTINE)) == 0)
        return 0;
    if (reconcile_walk.count == reconcile_walk.capacity) {
        size_t capacity = reconcile_walk.capacity ? reconcile_walk.capacity * 2 : 256;
        char **grown = realloc(reconcile_walk.paths, capacity * sizeof(*grown));
        if (grown == NULL)
            return 1;
        reconcile_walk.paths = grown;
        reconcile_walk.capacity = capacity;
    }
    reconcile_walk.paths[reconcile_walk.count] = strdup(relative);
    if (reconcile_walk.paths[reconcile_walk.count] != NULL)
        reconcile_walk.count++;
    return 0;
}

/* Every segment file under the directory. The caller frees with reconcile_free_paths. */
static int reconcile_list_files(const char *directory)
{
    memset(&reconcile_walk, 0, sizeof(reconcile_walk));
    reconcile_walk.root = directory;
    if (access(directory, F_OK) != 0)
        return 0;
    return nftw(directory, reconcile_walk_one, 16, FTW_PHYS) == 0 ? 0 : -1;
}

static void reconcile_free_paths(void)
{
    for (size_t i = 0; i < reconcile_walk.count; i++)
        free(reconcile_walk.paths[i]);
    free(reconcile_walk.paths);
    memset(&reconcile_walk, 0, sizeof(reconcile_walk));
}

/* Move an unusable file aside rather than deleting evidence. */
static void reconcile_quarantine(const char *directory, const char *path,
                                 struct reconcile_report *report)
{
    char from[8192], to[8192], flat[RECORDING_PATH_MAX];

    snprintf(flat, sizeof(flat), "%s", path);
    for (char *c = flat; *c; c++)
        if (*c == '/')
            *c = '_';
    snprintf(from, sizeof(from), "%s/%s", directory, path);
    snprintf(to, sizeof(to), "%s/" RECONCILE_QUARANTINE, directory);
    mkdir(to, 0750);
    snprintf(to, sizeof(to), "%s/" RECONCILE_QUARANTINE "/%s", directory, flat);
    if (rename(from, to) == 0) {
        log_warn("reconcile: %s is not a usable recording; moved to %s", path, to);
        report->orphans_quarantined++;
    }
}

/* A file with no row: index it if it is a recording of ours, else quarantine. */
static void reconcile_orphan(sqlite3 *db, const char *directory, const char *path,
                             struct reconcile_report *report)
{
    char absolute[8192], device[64];
    const char *slash = strchr(path, '/'), *base = strrchr(path, '/');
    struct mp4_scan_result scan;
    struct recording_row row;
    unsigned long long start_ms = 0;
    uint8_t *blob;
    int64_t id;

    snprintf(absolute, sizeof(absolute), "%s/%s", directory, path);
    memset(&scan, 0, sizeof(scan));
    if (slash == NULL || base == NULL || (size_t)(slash - path) >= sizeof(device) ||
        sscanf(base + 1, "%llu.mp4", &start_ms) != 1 || reconcile_scan(absolute, &scan) != 0 ||
        scan.io_error || scan.valid_length == 0) {
        if (!scan.io_error)
            reconcile_quarantine(directory, path, report);
        goto out;
    }
    if (reconcile_video_frames(&scan) == 0) {
        log_info("reconcile: %s, which had no row, holds no whole frame; removed", path);
        if (unlink(absolute) != 0)
            log_warn("cannot remove %s: %s", absolute, strerror(errno));
        goto out;
    }
    if (!scan.complete && mp4_repair_truncate(absolute, scan.valid_length) != 0)
        goto out;
    memcpy(device, path, (size_t)(slash - path));
    device[slash - path] = '\0';
    memset(&row, 0, sizeof(row));
    snprintf(row.device_id, sizeof(row.device_id), "%s", device);
    snprintf(row.path, sizeof(row.path), "%s", path);
    row.start_ms = row.end_ms = (int64_t)start_ms;
    blob = reconcile_row_from_scan(&scan, &row);
    if (recording_store_insert(db, &row, &id) == 0) {
        row.id = id;
        recording_store_update(db, &row, 1);
        report->orphans_indexed++;
        log_info("reconcile: indexed %s, which had no row", path);
    }
    free(blob);
out:
    mp4_scan_result_free(&scan);
}

/* Is path among the rows? (rows are few thousand at most: linear is fine) */
static int reconcile_has_row(const struct reconcile_rows *rows, const char *path)
{
    for (size_t i = 0; i < rows->count; i++)
        if (strcmp(rows->rows[i].path, path) == 0)
            return 1;
    return 0;
}

int reconcile_recordings(sqlite3 *db, const char *recordings_dir, struct reconcile_report *report)
{
    struct reconcile_rows rows = {0};
    char absolute[8192];
    struct stat info;

    memset(report, 0, sizeof(*report));
    reconcile_pending_deletions(db, recordings_dir, report);
    if (recording_store_list(db, NULL, INT64_MIN, INT64_MAX, NULL, reconcile_collect_row, &rows) !=
        0)
        return -1;
    for (size_t i = 0; i < rows.count; i++) {
        const struct reconcile_row *row = &rows.rows[i];
        snprintf(absolute, sizeof(absolute), "%s/%s", recordings_dir, row->path);
        if (stat(absolute, &info) != 0) {
            log_warn("reconcile: %s is missing; dropping its row", row->path);
            recording_store_delete(db, row->path);
            report->rows_dropped++;
        } else if (row->open || (int64_t)info.st_size != row->bytes) {
            /* Left open by a crash, or changed behind our back: trust the file's
             * whole fragments, cut the rest, re-index. */
            reconcile_open_row(db, recordings_dir, row, report);
        }
    }
    if (reconcile_list_files(recordings_dir) == 0) {
        for (size_t i = 0; i < reconcile_walk.count; i++)
            if (!reconcile_has_row(&rows, reconcile_walk.paths[i]))
                reconcile_orphan(db, recordings_dir, reconcile_walk.paths[i], report);
    }
    reconcile_free_paths();
    free(rows.rows);
    if (report->deletions_finished + report->segments_repaired + report->segments_closed +
            report->rows_dropped + report->orphans_indexed + report->orphans_quarantined >
        0)
        log_info("reconcile: %d deletions finished, %d segments repaired, %d closed, %d rows "
                 "dropped, %d files indexed, %d quarantined",
                 report->deletions_finished, report->segments_repaired, report->segments_closed,
                 report->rows_dropped, report->orphans_indexed, report->orphans_quarantined);
    return 0;
}

/* A running hub creates a segment's file (and makes it durable) before its
 * row: a file without a row that changed in the last few seconds is one
 * being created, not an orphan. A crash leaves orphans that stay old. The
 * same test tells an open row that is being recorded (its file grows every
 * fragment) from one left behind. */
static int reconcile_being_created(const char *directory, const char *path)
{
    char absolute[8192];
    struct stat info;
    snprintf(absolute, sizeof(absolute), "%s/%s", directory, path);
    return stat(absolute, &info) == 0 && time(NULL) - info.st_mtime < RECONCILE_CREATING_SECONDS;
}

/* Is path in pending_deletions (retention is deleting it right now)? */
static int reconcile_is_pending(sqlite3 *db, const char *path)
{
    sqlite3_stmt *statement = NULL;
    int pending = 0;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM pending_deletions WHERE path = ?", -1, &statement,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_text(statement, 1, path, -1, SQLITE_STATIC);
        pending = sqlite3_step(statement) == SQLITE_ROW;
    }
    sqlite3_finalize(statement);
    return pending;
}

int reconcile_check(sqlite3 *db, const char *recordings_dir, struct reconcile_report *report)
{
    struct reconcile_rows rows = {0};
    char absolute[8192];

    memset(report, 0, sizeof(*report));
    if (recording_store_list(db, NULL, INT64_MIN, INT64_MAX, NULL, reconcile_collect_row, &rows) !=
        0)
        return -1;
    for (size_t i = 0; i < rows.count; i++) {
        const struct reconcile_row *row = &rows.rows[i];
        struct mp4_scan_result scan;
        memset(&scan, 0, sizeof(scan));
        snprintf(absolute, sizeof(absolute), "%s/%s", recordings_dir, row->path);
        if (reconcile_scan(absolute, &scan) != 0) {
            if (!reconcile_is_pending(db, row->path)) { /* else: a deletion under way */
                printf("missing file: %s\n", row->path);
                report->problems++;
            }
        } else if ((int64_t)scan.valid_length < row->bytes) {
            printf("shorter than indexed: %s (%llu whole bytes, index says %lld: %s)\n", row->path,
                   (unsigned long long)scan.valid_length, (long long)row->bytes, scan.reason);
            report->problems++;
        } else if (row->open && !reconcile_being_created(recordings_dir, row->path)) {
            /* Not written for a while: no recorder has it open (a crash, or
             * its final update failed); start-up reconciliation closes it. */
            printf("open segment that is not being recorded: %s (%llu bytes, index says %lld)\n",
                   row->path, (unsigned long long)scan.total_length, (long long)row->bytes);
            report->problems++;
        } else if (!row->open && (!scan.complete || (int64_t)scan.total_length != row->bytes)) {
            printf("closed segment differs from its index: %s (%llu bytes, %llu whole, index "
                   "%lld)\n",
                   row->path, (unsigned long long)scan.total_length,
                   (unsigned long long)scan.valid_length, (long long)row->bytes);
            report->problems++;
        }
        mp4_scan_result_free(&scan);
    }
    if (reconcile_list_files(recordings_dir) == 0) {
        for (size_t i = 0; i < reconcile_walk.count; i++) {
            if (!reconcile_has_row(&rows, reconcile_walk.paths[i]) &&
                !reconcile_being_created(recordings_dir, reconcile_walk.paths[i])) {
                printf("file without an index row: %s\n", reconcile_walk.paths[i]);
                report->problems++;
            }
        }
    }
    reconcile_free_paths();
    free(rows.rows);
    return report->problems;
}
