/*
 * segment_writer.c - one recorded segment being written (see
 * segment_writer.h for the crash-safety contract), after Moonfire NVR's
 * recording lifecycle: create with O_EXCL, write, fsync the file and its
 * directory, and only then let the database know.
 *
 * Each fragment is serialised by media/fmp4.c into a buffer the writer
 * reuses, then written at a known offset with pwrite(), so a failed write
 * can be cut off exactly (ftruncate back to the last complete fragment)
 * and the file never holds half a fragment while the writer lives.
 *
 * Threads: a writer is used by one thread at a time (the recorder thread);
 * there are no locks and no shared state.
 * Ownership: the writer owns its file descriptor, its fragment buffer and
 * the summary's keyframe array; segment_writer_close() frees everything
 * and hands the keyframe array to the caller if asked.
 */
#define LOG_MODULE "recording"

#include "recording/segment_writer.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error_text.h"
#include "common/log.h"

#define SEGMENT_WRITER_FILE_MODE      0640
#define SEGMENT_WRITER_DIRECTORY_MODE 0750
#define SEGMENT_WRITER_MAX_KEYFRAMES  SEGMENT_INDEX_MAX_ENTRIES

struct segment_writer {
    int fd;
    char path[PATH_MAX];
    bool has_audio;
    bool failed;      /* a write or sync failed: no more appends */
    bool sync_failed; /* an fsync/fdatasync failed: never sync again */
    uint32_t sequence;
    struct byte_buffer buffer; /* the fragment being written, reused */
    size_t keyframe_capacity;
    struct segment_summary summary;
};

/* fsync a directory so the entries created in it are durable. 0 or -1. */
static int segment_writer_sync_directory(const char *directory)
{
    int fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int result = fsync(fd);
    int saved_errno = errno;
    close(fd);
    errno = saved_errno;
    return result;
}

/* Split path into its directory (written into directory) and check the
 * last component is a plain name. 0 or -1 (EINVAL). */
static int segment_writer_directory(const char *path, char directory[PATH_MAX])
{
    const char *slash = strrchr(path, '/');
    const char *name = slash != NULL ? slash + 1 : path;
    if (name[0] == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
        errno = EINVAL;
        return -1;
    }
    if (slash == NULL)
        snprintf(directory, PATH_MAX, ".");
    else if (slash == path)
        snprintf(directory, PATH_MAX, "/");
    else
        snprintf(directory, PATH_MAX, "%.*s", (int)(slash - path), path);
    return 0;
}

/* mkdir -p for directory, mode 0750. Each directory made is made durable
 * by an fsync of its parent. 0, or -1 with errno. */
static int segment_writer_make_directories(const char *directory)
{
    char partial[PATH_MAX];
    size_t length = strlen(directory);
    assert(length < sizeof(partial));
    for (size_t end = 1; end <= length; end++) {
        if (end < length && directory[end] != '/')
            continue;
        if (directory[end - 1] == '/')
            continue; /* "//" or the root */
        memcpy(partial, directory, end);
        partial[end] = '\0';
        if (mkdir(partial, SEGMENT_WRITER_DIRECTORY_MODE) != 0) {
            if (errno == EEXIST)
                continue;
            return -1;
        }
        char parent[PATH_MAX];
        if (segment_writer_directory(partial, parent) != 0 ||
            segment_writer_sync_directory(parent) != 0)
            return -1;
    }
    return 0;
}

/* Write all size bytes at offset, retrying short writes and EINTR.
 * 0, or -1 with errno (some bytes may have been written). */
static int segment_writer_write_all(int fd, const uint8_t *data, size_t size, uint64_t offset)
{
    while (size > 0) {
        ssize_t written = pwrite(fd, data, size, (off_t)offset);
        if (written < 0 && errno == EINTR)
            continue;
        if (written < 0)
            return -1;
        if (written == 0) {
            errno = EIO; /* pwrite() never does this for a regular file */
            return -1;
        }
        data += written;
        size -= (size_t)written;
        offset += (uint64_t)written;
    }
    return 0;
}

/* Remember the first failure (errno value error) and log it. */
static void segment_writer_fail(struct segment_writer *writer, int error, const char *what)
{
    if (!writer->failed) {
        writer->failed = true;
        writer->summary.ok = 0;
        writer->summary.error = error;
        log_error("%s: %s failed: %s; segment ends at %llu bytes", writer->path, what,
                  strerror(error), (unsigned long long)writer->summary.bytes);
    }
}

/* Why fmp4 could not write into buffer, as an errno: EFBIG past its cap,
 * ENOMEM, else EINVAL (the arguments were refused). */
static int segment_writer_buffer_errno(const struct byte_buffer *buffer)
{
    switch (byte_buffer_error(buffer)) {
    case BYTE_BUFFER_TOO_BIG:
        return EFBIG;
    case BYTE_BUFFER_OUT_OF_MEMORY:
        return ENOMEM;
    default:
        return EINVAL;
    }
}

/* Create the file and write the init segment (see segment_writer.h). */
struct segment_writer *segment_writer_create(const char *path,
                                             const struct fmp4_video_config *video,
                                             const struct fmp4_audio_config *audio, char *error,
                                             size_t error_size)
{
    struct segment_writer *writer = NULL;
    char directory[PATH_MAX];
    int saved_errno = 0;
    bool created = false;

    if (path == NULL || strlen(path) >= PATH_MAX || video == NULL) {
        error_text_set(error, error_size, "bad segment path or video config");
        errno = EINVAL;
        return NULL;
    }
    if (segment_writer_directory(path, directory) != 0) {
        error_text_set(error, error_size, "%s: not a file path", path);
        return NULL;
    }
    writer = calloc(1, sizeof(*writer));
    if (writer == NULL) {
        error_text_set(error, error_size, "out of memory");
        errno = ENOMEM;
        return NULL;
    }
    writer->fd = -1;
    byte_buffer_init(&writer->buffer, SEGMENT_WRITER_FRAGMENT_MAX);
    snprintf(writer->path, sizeof(writer->path), "%s", path);
    writer->has_audio = audio != NULL;
    writer->sequence = 1;
    writer->summary.ok = 1;
    if (fmp4_write_init(&writer->buffer, video, audio) != 0) {
        saved_errno = segment_writer_buffer_errno(&writer->buffer);
        error_text_set(error, error_size, "%s: bad video or audio config", path);
        goto fail;
    }
    if (segment_writer_make_directories(directory) != 0) {
        saved_errno = errno;
        error_text_set(error, error_size, "%s: cannot create directory: %s", directory,
                       strerror(saved_errno));
        goto fail;
    }
    writer->fd =
        open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, SEGMENT_WRITER_FILE_MODE);
    if (writer->fd < 0) {
        saved_errno = errno;
        error_text_set(error, error_size, "%s: %s", path, strerror(saved_errno));
        goto fail;
    }
    created = true;
    if (segment_writer_write_all(writer->fd, byte_buffer_data(&writer->buffer),
                                 byte_buffer_length(&writer->buffer), 0) != 0 ||
        fsync(writer->fd) != 0 || segment_writer_sync_directory(directory) != 0) {
        saved_errno = errno;
        error_text_set(error, error_size, "%s: cannot write the init segment: %s", path,
                       strerror(saved_errno));
        goto fail;
    }
    writer->summary.bytes = byte_buffer_length(&writer->buffer);
    writer->summary.init_size = byte_buffer_length(&writer->buffer);
    writer->summary.durable_bytes = byte_buffer_length(&writer->buffer);
    byte_buffer_reset(&writer->buffer);
    return writer;

fail:
    if (writer->fd >= 0)
        close(writer->fd);
    if (created && unlink(path) != 0)
        log_warn("%s: cannot remove the failed segment: %s", path, strerror(errno));
    byte_buffer_free(&writer->buffer);
    free(writer);
    errno = saved_errno;
    return NULL;
}

/* Make room for one more keyframe entry. 0, or -1 (ENOMEM). */
static int segment_writer_reserve_keyframe(struct segment_writer *writer)
{
    struct segment_summary *summary = &writer->summary;
    if (summary->keyframe_count < writer->keyframe_capacity)
        return 0;
    if (writer->keyframe_capacity >= SEGMENT_WRITER_MAX_KEYFRAMES) {
        errno = ENOMEM;
        return -1;
    }
    size_t capacity = writer->keyframe_capacity > 0 ? writer->keyframe_capacity * 2 : 16;
    struct segment_index_entry *keyframes =
        realloc(summary->keyframes, capacity * sizeof(*keyframes));
    if (keyframes == NULL) {
        errno = ENOMEM;
        return -1;
    }
    summary->keyframes = keyframes;
    writer->keyframe_capacity = capacity;
    return 0;
}

/* Check an append's arguments against the track so far; computes the
 * fragment's duration and its last sample's decode time. 0 or -1 EINVAL. */
static int segment_writer_check(const struct segment_writer *writer, uint32_t track_id,
                                uint64_t base_decode_time, const struct fmp4_sample *samples,
                                int count, uint64_t *duration_out, uint64_t *last_out)
{
    const struct segment_track_summary *track = NULL;
    if (track_id == FMP4_VIDEO_TRACK)
        track = &writer->summary.video;
    else if (track_id == FMP4_AUDIO_TRACK && writer->has_audio)
        track = &writer->summary.audio;
    if (track == NULL || samples == NULL || count < 1)
        return -1;
    if (track->samples > 0 && base_decode_time < track->end_decode_time)
        return -1; /* time going back: start a new segment instead */
    if (track_id == FMP4_VIDEO_TRACK && track->samples == 0 && !samples[0].keyframe)
        return -1; /* a segment starts at a keyframe */
    uint64_t duration = 0;
    for (int i = 0; i < count; i++)
        duration += samples[i].duration; /* < 2^20 * 2^32: no overflow */
    if (duration > UINT64_MAX - base_decode_time)
        return -1;
    *duration_out = duration;
    *last_out = base_decode_time + duration - samples[count - 1].duration;
    return 0;
}

/* Write one fragment (see segment_writer.h). */
int segment_writer_append(struct segment_writer *writer, uint32_t track_id,
                          uint64_t base_decode_time, const struct fmp4_sample *samples, int count,
                          const uint8_t *payload, size_t payload_size)
{
    uint64_t duration = 0, last = 0;
    if (writer == NULL) {
        errno = EINVAL;
        return -1;
    }
    if (writer->failed) {
        errno = writer->summary.error;
        return -1;
    }
    if (segment_writer_check(writer, track_id, base_decode_time, samples, count, &duration,
                             &last) != 0) {
        errno = EINVAL;
        return -1;
    }
    bool keyframe = track_id == FMP4_VIDEO_TRACK && samples[0].keyframe;
    if (keyframe && segment_writer_reserve_keyframe(writer) != 0)
        return -1;
    byte_buffer_reset(&writer->buffer);
    if (fmp4_write_fragment(&writer->buffer, writer->sequence, track_id, base_decode_time, samples,
                            count, payload, payload_size) != 0) {
        errno = segment_writer_buffer_errno(&writer->buffer);
        return -1;
    }

    struct segment_summary *summary = &writer->summary;
    uint64_t offset = summary->bytes;
    if (segment_writer_write_all(writer->fd, byte_buffer_data(&writer->buffer),
                                 byte_buffer_length(&writer->buffer), offset) != 0) {
        int saved_errno = errno;
        segment_writer_fail(writer, saved_errno, "write");
        /* Cut off whatever part of the fragment reached the file. Shrinking
         * needs no space; if it still fails, the partial fragment stays
         * behind the valid ones and mp4_scan() stops before it. */
        int result;
        while ((result = ftruncate(writer->fd, (off_t)offset)) != 0 && errno == EINTR)
            ;
        if (result != 0)
            log_error("%s: cannot cut the partial fragment at %llu: %s", writer->path,
                      (unsigned long long)offset, strerror(errno));
        errno = saved_errno;
        return -1;
    }

    writer->sequence++;
    summary->bytes += byte_buffer_length(&writer->buffer);
    if (keyframe)
        summary->keyframes[summary->keyframe_count++] =
            (struct segment_index_entry){.decode_time = base_decode_time, .offset = offset};
    struct segment_track_summary *track =
        track_id == FMP4_VIDEO_TRACK ? &summary->video : &summary->audio;
    if (track->samples == 0)
        track->first_decode_time = base_decode_time;
    track->samples += (uint64_t)count;
    track->fragments++;
    track->last_decode_time = last;
    track->end_decode_time = base_decode_time + duration;
    return 0;
}

/* fdatasync once; a failure is final (see segment_writer.h). */
int segment_writer_sync(struct segment_writer *writer)
{
    if (writer == NULL) {
        errno = EINVAL;
        return -1;
    }
    if (writer->failed) {
        errno = writer->summary.error;
        return -1;
    }
    if (fdatasync(writer->fd) != 0) {
        writer->sync_failed = true;
        segment_writer_fail(writer, errno, "fdatasync");
        errno = writer->summary.error;
        return -1;
    }
    writer->summary.durable_bytes = writer->summary.bytes;
    return 0;
}

const struct segment_summary *segment_writer_progress(const struct segment_writer *writer)
{
    return writer != NULL ? &writer->summary : NULL;
}

/* Last sync, close, summary, free (see segment_writer.h). */
int segment_writer_close(struct segment_writer *writer, struct segment_summary *summary_out)
{
    if (summary_out != NULL)
        memset(summary_out, 0, sizeof(*summary_out));
    if (writer == NULL) {
        errno = EINVAL;
        return -1;
    }
    /* After a failed write the file was cut back to whole fragments: make
     * that durable too. After a failed sync, never sync again. */
    if (!writer->sync_failed) {
        if (fdatasync(writer->fd) == 0) {
            writer->summary.durable_bytes = writer->summary.bytes;
        } else {
            writer->sync_failed = true;
            segment_writer_fail(writer, errno, "fdatasync");
        }
    }
    if (close(writer->fd) != 0)
        segment_writer_fail(writer, errno, "close");
    writer->fd = -1;

    struct segment_summary summary = writer->summary;
    if (summary_out != NULL)
        *summary_out = summary;
    else
        free(summary.keyframes);
    byte_buffer_free(&writer->buffer);
    free(writer);
    if (!summary.ok) {
        errno = summary.error;
        return -1;
    }
    return 0;
}

void segment_summary_free(struct segment_summary *summary)
{
    if (summary == NULL)
        return;
    free(summary->keyframes);
    memset(summary, 0, sizeof(*summary));
}
