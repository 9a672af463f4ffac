/*
 * playback.c - a recording as one fMP4 stream from any instant (see
 * playback.h for the stream, threads and ownership).
 *
 * Timeline. A segment file's decode times start at 0 at its row's start_ms
 * (video 90 kHz, audio 48 kHz). The stream's origin is the first keyframe
 * sent: file F0 (start S0) at video decode time K. A fragment of a file
 * starting at S with decode time d then gets, in the stream,
 *     video: d + (S - S0) * 90 - K        audio: d + (S - S0) * 48 - K * 48 / 90
 * which keeps every file on the wall clock, gaps included. Segment starts
 * are whole milliseconds and capture clocks jitter, so times that land up
 * to PLAYBACK_SLACK_MS before the end of what a track already sent are
 * moved up to it (as the recorder does within a file); fragments further
 * back (overlapping segments) are left out, video until its next keyframe.
 *
 * The fragment list of a file comes from mp4_scan() over the row's durable
 * bytes, scanned again when the row grows; each fragment is then read with
 * pread() into the playback's buffer, its moof patched in place (mfhd
 * sequence, tfdt), and handed to the write callback with its mdat.
 *
 * Threads: the caller's only. Ownership: struct playback owns its buffer,
 * the current file's descriptor and scan; playback_close() frees them.
 */
#define LOG_MODULE "recording"

#include "recording/playback.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/link_protocol.h"
#include "common/log.h"
#include "media/fmp4.h"
#include "media/h264.h"
#include "recording/mp4_box.h"
#include "recording/mp4_scan.h"
#include "recording/recording_store.h"
#include "recording/segment_index.h"

#define PLAYBACK_PATH_MAX              4096
#define PLAYBACK_MAX_MOOF              (64 * 1024) /* ours are 88 + 12 per sample; larger ones are refused */
#define PLAYBACK_SLACK_MS              20 /* ms rounding of segment starts plus capture jitter */
#define PLAYBACK_CANDIDATES            4  /* rows tried at the start when one is unusable */
#define PLAYBACK_VIDEO_TICKS_PER_MS    (FMP4_VIDEO_TIMESCALE / 1000)
#define PLAYBACK_AUDIO_TICKS_PER_MS    (FMP4_AUDIO_TIMESCALE / 1000)
#define PLAYBACK_TFHD_BASE_DATA_OFFSET 0x000001u /* tfhd flag (8.8.7.1): absolute offsets */

/* A recordings row, as much of it as a stream needs. */
struct playback_row {
    int64_t id, start_ms, bytes;
    char path[RECORDING_PATH_MAX];
    int has_keyframe; /* the index holds a keyframe at or before from_ms */
    struct segment_index_entry keyframe;
};

/* The tracks an init segment describes. */
struct playback_config {
    uint8_t sps[H264_MAX_PARAMETER_SET], pps[H264_MAX_PARAMETER_SET];
    size_t sps_size, pps_size;
    int width, height;
    struct h264_sps_info sps_info;
    int has_audio, channels, pre_skip;
    uint32_t input_sample_rate;
};

/* The segment file being played. */
struct playback_file {
    struct playback_row row; /* as last read from the index; the cursor between files */
    int fd;                  /* -1: none (or unusable, then only row counts) */
    struct mp4_scan_result scan;
    uint64_t next_offset; /* file offset of the next fragment to consider */
    struct playback_config config;
    int64_t video_shift, audio_shift; /* stream decode time = file decode time + shift */
};

struct playback {
    char recordings_dir[PLAYBACK_PATH_MAX];
    char device_id[LINK_DEVICE_ID_MAX];
    int64_t to_ms; /* 0: no end */
    int poll_ms, idle_ms;
    const atomic_int *running;
    const atomic_int *cancelled;

    struct playback_file file;
    unsigned file_serial;  /* counts files opened, so the stream notices a new one */
    int64_t origin_ms;     /* start_ms of the first file */
    uint64_t origin_ticks; /* video decode time of the first keyframe in it */
    int64_t start_ms;      /* wall time of stream decode time 0 */
    char mime[PLAYBACK_MIME_MAX];

    struct playback_config sent_config; /* of the last init segment sent */
    int init_sent, need_keyframe;
    uint32_t sequence;
    int video_started, audio_started;
    int64_t video_end, audio_end; /* stream decode time where each track ends so far */

    uint8_t *buffer; /* PLAYBACK_BUFFER_SIZE bytes */
    size_t used;
    playback_write_callback write;
    void *context;
    struct playback_stats stats;
};

static void playback_sleep_ms(int ms)
{
    struct timespec delay = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&delay, &delay) != 0 && errno == EINTR)
        ;
}

static void playback_put_u32(uint8_t *at, uint32_t value)
{
    at[0] = (uint8_t)(value >> 24);
    at[1] = (uint8_t)(value >> 16);
    at[2] = (uint8_t)(value >> 8);
    at[3] = (uint8_t)value;
}

/* ---- files ------------------------------------------------------------------ */

/* Close the current file and free its scan; the row stays as the cursor. */
static void playback_file_release(struct playback_file *file)
{
    if (file->fd >= 0)
        close(file->fd);
    file->fd = -1;
    mp4_scan_result_free(&file->scan);
    file->next_offset = 0;
}

/* Scan the file's first bytes (its durable length). 0, or -1 (logged). */
static int playback_file_scan(struct playback_file *file, uint64_t bytes)
{
    int fd = file->fd;
    struct mp4_scan_source source = mp4_scan_fd_source(&fd, bytes);

    mp4_scan_result_free(&file->scan);
    if (mp4_scan(&source, &file->scan) != 0) {
        log_warn("playback: reading %s: %s", file->row.path, file->scan.reason);
        return -1;
    }
    /* The durable part is whole fragments; less means the file lost its
     * tail (start-up repairs it). Play what is valid. */
    if (!file->scan.complete)
        log_warn("playback: %s: %s", file->row.path, file->scan.reason);
    return 0;
}

/* The track configuration of the scanned file: H.264 video at 90 kHz with
 * SPS and PPS, optional Opus audio at 48 kHz. 0, or -1 if unusable. */
static int playback_file_config(struct playback_file *file)
{
    const struct mp4_scan_track *video = mp4_scan_find_track(&file->scan, FMP4_VIDEO_TRACK);
    const struct mp4_scan_track *audio = mp4_scan_find_track(&file->scan, FMP4_AUDIO_TRACK);
    struct playback_config *config = &file->config;

    memset(config, 0, sizeof(*config));
    if (video == NULL || strcmp(video->handler, "vide") != 0 ||
        video->timescale != FMP4_VIDEO_TIMESCALE || video->sps_size < 4 || video->pps_size < 1 ||
        video->sps_size > sizeof(config->sps) || video->pps_size > sizeof(config->pps))
        return -1;
    memcpy(config->sps, video->sps, video->sps_size);
    memcpy(config->pps, video->pps, video->pps_size);
    config->sps_size = video->sps_size;
    config->pps_size = video->pps_size;
    config->width = video->width;
    config->height = video->height;
    if (video->sps_parsed) {
        config->sps_info = video->sps_info;
    } else {
        /* profile, constraints and level are the SPS's first bytes after its header */
        config->sps_info.profile_idc = video->sps[1];
        config->sps_info.constraint_flags = video->sps[2];
        config->sps_info.level_idc = video->sps[3];
        config->sps_info.width = video->width;
        config->sps_info.height = video->height;
    }
    if (audio != NULL && strcmp(audio->handler, "soun") == 0 &&
        strcmp(audio->sample_entry, "Opus") == 0 && audio->timescale == FMP4_AUDIO_TIMESCALE) {
        config->has_audio = 1;
        config->channels = audio->channels;
        config->pre_skip = audio->pre_skip;
        config->input_sample_rate = audio->input_sample_rate;
    }
    return 0;
}

/* Open and scan a row's file. 0, or -1 (logged) with the file released
 * and row kept as the cursor. */
static int playback_file_open(struct playback *playback, const struct playback_row *row)
{
    struct playback_file *file = &playback->file;
    char path[PLAYBACK_PATH_MAX + RECORDING_PATH_MAX];

    playback_file_release(file);
    file->row = *row;
    /* Paths come from our own index; still, never leave recordings_dir. */
    if (row->path[0] == '/' || strstr(row->path, "..") != NULL) {
        log_warn("playback: refusing recording path %s", row->path);
        return -1;
    }
    snprintf(path, sizeof(path), "%s/%s", playback->recordings_dir, row->path);
    file->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (file->fd < 0) {
        log_warn("playback: cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (row->bytes <= 0 || playback_file_scan(file, (uint64_t)row->bytes) != 0 ||
        playback_file_config(file) != 0) {
        log_warn("playback: %s is not a playable segment", row->path);
        playback_file_release(file);
        return -1;
    }
    playback->file_serial++;
    playback->stats.files++;
    return 0;
}

/* Place the current file on the stream's timeline (see the top comment). */
static void playback_file_timeline(struct playback *playback)
{
    struct playback_file *file = &playback->file;
    int64_t since_origin_ms = file->row.start_ms - playback->origin_ms;

    file->video_shift =
        since_origin_ms * PLAYBACK_VIDEO_TICKS_PER_MS - (int64_t)playback->origin_ticks;
    file->audio_shift =
        since_origin_ms * PLAYBACK_AUDIO_TICKS_PER_MS -
        (int64_t)(playback->origin_ticks * FMP4_AUDIO_TIMESCALE / FMP4_VIDEO_TIMESCALE);
}

/* The fragment to start from in the first file: the indexed keyframe if
 * the scan has it, else the last video keyframe at or before target (the
 * index may name a fragment past the durable bytes), else the first one.
 * NULL if the file has no video keyframe yet. */
static const struct mp4_scan_fragment *playback_first_keyframe(const struct playback_file *file,
                                                               uint64_t target)
{
    const struct mp4_scan_fragment *found = NULL;

    for (size_t i = 0; i < file->scan.fragment_count; i++) {
        const struct mp4_scan_fragment *fragment = &file->scan.fragments[i];
        if (fragment->track_id != FMP4_VIDEO_TRACK || !fragment->keyframe)
            continue;
        if (file->row.has_keyframe && fragment->offset == file->row.keyframe.offset)
            return fragment;
        if (found == NULL || fragment->base_decode_time <= target)
            found = fragment;
        if (fragment->base_decode_time > target)
            break;
    }
    return found;
}

/* ---- the index ---------------------------------------------------------------- */

/* Copy the fields a stream keeps from a listed row. */
static void playback_row_copy(struct playback_row *out, const struct recording_row *row)
{
    memset(out, 0, sizeof(*out));
    out->id = row->id;
    out->start_ms = row->start_ms;
    out->bytes = row->bytes;
    snprintf(out->path, sizeof(out->path), "%s", row->path);
}

/* Rows that may hold the start, with the keyframe at or before from_ms. */
struct playback_candidates {
    int64_t from_ms;
    struct playback_row rows[PLAYBACK_CANDIDATES];
    int count;
};

/* recording_store_list callback for playback_open(). */
static int playback_collect(const struct recording_row *row, void *data)
{
    struct playback_candidates *candidates = data;
    struct playback_row *out = &candidates->rows[candidates->count++];
    uint64_t target = 0;

    playback_row_copy(out, row);
    if (candidates->from_ms > row->start_ms)
        target = (uint64_t)(candidates->from_ms - row->start_ms) * PLAYBACK_VIDEO_TICKS_PER_MS;
    out->has_keyframe = segment_index_lookup(row->keyframe_index, row->keyframe_index_size, target,
                                             &out->keyframe) == 1;
    return candidates->count == PLAYBACK_CANDIDATES; /* 1 stops the listing */
}

/* The current row as it is now, and the row that follows it. */
struct playback_lookup {
    int64_t current_id, after_start_ms, after_id;
    int found_current, found_next;
    struct playback_row current, next;
};

/* recording_store_list callback for playback_refresh(); rows come by
 * (start_ms, id), so the current one comes before its successor. */
static int playback_find_next(const struct recording_row *row, void *data)
{
    struct playback_lookup *lookup = data;

    if (row->id == lookup->current_id) {
        playback_row_copy(&lookup->current, row);
        lookup->found_current = 1;
    } else if (row->start_ms > lookup->after_start_ms ||
               (row->start_ms == lookup->after_start_ms && row->id > lookup->after_id)) {
        playback_row_copy(&lookup->next, row);
        lookup->found_next = 1;
        return 1;
    }
    return 0;
}

/* ---- output ------------------------------------------------------------------- */

/* Hand the buffered bytes to the client. 0, or -1 if it went away. */
static int playback_flush(struct playback *playback)
{
    if (playback->used == 0)
        return 0;
    if (playback->write(playback->context, playback->buffer, playback->used) != 0)
        return -1;
    playback->stats.bytes += playback->used;
    playback->used = 0;
    return 0;
}

/* Write the init segment for config. 0, -1 client gone, -2 error. */
static int playback_send_init(struct playback *playback, const struct playback_config *config)
{
    struct byte_buffer init;
    struct fmp4_video_config video = fmp4_video_config_describe(
        &config->sps_info, config->sps, config->sps_size, config->pps, config->pps_size);
    struct fmp4_audio_config audio = {.channels = config->channels,
                                      .input_sample_rate = (int)config->input_sample_rate,
                                      .pre_skip = config->pre_skip};
    int rc = -2;

    /* Larger than the send buffer it could never be sent: a moov of 256 KiB
     * is not ours. */
    byte_buffer_init(&init, PLAYBACK_BUFFER_SIZE);
    if (fmp4_write_init(&init, &video, config->has_audio ? &audio : NULL) != 0) {
        log_warn("playback: cannot write an init segment for %s", playback->file.row.path);
        goto out;
    }
    size_t size = byte_buffer_length(&init);
    if (playback->used + size > PLAYBACK_BUFFER_SIZE && playback_flush(playback) != 0) {
        rc = -1;
        goto out;
    }
    if (size > PLAYBACK_BUFFER_SIZE - playback->used)
        goto out;
    memcpy(playback->buffer + playback->used, byte_buffer_data(&init), size);
    playback->used += size;
    playback->sent_config = *config;
    playback->init_sent = 1;
    playback->need_keyframe = 1; /* new parameter sets apply from a keyframe */
    playback->stats.init_segments++;
    rc = 0;
out:
    byte_buffer_free(&init);
    return rc;
}

/* Whether the file's tracks differ from those of the last init segment. */
static int playback_config_changed(const struct playback *playback)
{
    const struct playback_config *a = &playback->sent_config, *b = &playback->file.config;
    return !playback->init_sent || a->sps_size != b->sps_size || a->pps_size != b->pps_size ||
           memcmp(a->sps, b->sps, a->sps_size) != 0 || memcmp(a->pps, b->pps, a->pps_size) != 0 ||
           a->width != b->width || a->height != b->height || a->has_audio != b->has_audio ||
           a->channels != b->channels || a->pre_skip != b->pre_skip ||
           a->input_sample_rate != b->input_sample_rate;
}

/* Patch the tfdt of a traf (inside moof, our writable buffer) after
 * checking its tfhd names the scanned track without an absolute base data
 * offset (which a copy would break). 0, or -1. */
static int playback_patch_traf(uint8_t *moof, const struct mp4_box_child *traf,
                               const struct mp4_scan_fragment *fragment, uint64_t decode_time)
{
    struct mp4_box_child child;
    size_t at = 0;
    int have_tfhd = 0, have_tfdt = 0, step;

    while ((step = mp4_box_next_child(traf->body, traf->size, &at, &child)) == 1) {
        uint8_t *body = moof + (child.body - moof);
        struct mp4_box_cursor cursor = mp4_box_cursor(child.body, child.size);
        uint32_t version_flags = mp4_box_u32(&cursor);
        if (strcmp(child.type, "tfhd") == 0) {
            uint32_t track_id = mp4_box_u32(&cursor);
            if (!cursor.ok || track_id != fragment->track_id ||
                (version_flags & PLAYBACK_TFHD_BASE_DATA_OFFSET) != 0)
                return -1;
            have_tfhd = 1;
        } else if (strcmp(child.type, "tfdt") == 0) {
            int version = (int)(version_flags >> 24);
            uint64_t old = version == 1 ? mp4_box_u64(&cursor) : mp4_box_u32(&cursor);
            if (!cursor.ok || version > 1 || old != fragment->base_decode_time ||
                (version == 0 && decode_time > UINT32_MAX))
                return -1;
            if (version == 1) {
                playback_put_u32(body + 4, (uint32_t)(decode_time >> 32));
                playback_put_u32(body + 8, (uint32_t)decode_time);
            } else {
                playback_put_u32(body + 4, (uint32_t)decode_time);
            }
            have_tfdt = 1;
        }
    }
    return step == 0 && have_tfhd && have_tfdt ? 0 : -1;
}

/*
 * Patch a moof held in memory (the whole box, header included) for the
 * stream: its mfhd sequence, and the tfdt of its one traf, which must be
 * the scanned fragment's track and decode time. Every size is checked
 * against its parent (mp4_box.c). 0, or -1.
 */
static int playback_patch_moof(uint8_t *moof, size_t size, const struct mp4_scan_fragment *fragment,
                               uint32_t sequence, uint64_t decode_time)
{
    struct mp4_box_child box, child;
    size_t at = 0;
    int trafs = 0, have_mfhd = 0, step;

    if (mp4_box_next_child(moof, size, &at, &box) != 1 || strcmp(box.type, "moof") != 0 ||
        at != size)
        return -1;
    at = 0;
    while ((step = mp4_box_next_child(box.body, box.size, &at, &child)) == 1) {
        if (strcmp(child.type, "mfhd") == 0) {
            if (child.size < 8)
                return -1;
            playback_put_u32(moof + (child.body - moof) + 4, sequence); /* after version, flags */
            have_mfhd = 1;
        } else if (strcmp(child.type, "traf") == 0) {
            if (++trafs > 1 || playback_patch_traf(moof, &child, fragment, decode_time) != 0)
                return -1;
        }
    }
    return step == 0 && have_mfhd && trafs == 1 ? 0 : -1;
}

/* Copy one fragment into the stream with its decode time patched to
 * decode_time, then flush. 0, -1 client gone, -2 error (logged). */
static int playback_send_fragment(struct playback *playback,
                                  const struct mp4_scan_fragment *fragment, uint64_t decode_time)
{
    struct playback_file *file = &playback->file;
    uint64_t offset = fragment->offset + fragment->moof_size;
    uint64_t left = fragment->mdat_size;
    uint8_t *moof;

    if (fragment->moof_size > PLAYBACK_MAX_MOOF) {
        log_warn("playback: %s: moof of %" PRIu32 " bytes", file->row.path, fragment->moof_size);
        return -2;
    }
    if (fragment->moof_size > PLAYBACK_BUFFER_SIZE - playback->used && playback_flush(playback))
        return -1;
    moof = playback->buffer + playback->used;
    if (mp4_scan_pread(file->fd, fragment->offset, moof, fragment->moof_size) !=
            (ssize_t)fragment->moof_size ||
        playback_patch_moof(moof, fragment->moof_size, fragment, ++playback->sequence,
                            decode_time) != 0) {
        log_warn("playback: %s: fragment at %" PRIu64 " unreadable or changed", file->row.path,
                 fragment->offset);
        return -2;
    }
    playback->used += fragment->moof_size;
    while (left > 0) {
        size_t room = PLAYBACK_BUFFER_SIZE - playback->used;
        size_t chunk = left < room ? (size_t)left : room;
        if (room == 0) {
            if (playback_flush(playback) != 0)
                return -1;
            continue;
        }
        ssize_t got = mp4_scan_pread(file->fd, offset, playback->buffer + playback->used, chunk);
        if (got != (ssize_t)chunk) {
            log_warn("playback: %s: cannot read at %" PRIu64 ": %s", file->row.path, offset,
                     got < 0 ? strerror(errno) : "the file is shorter than its index");
            return -2;
        }
        playback->used += chunk;
        offset += chunk;
        left -= chunk;
    }
    return playback_flush(playback) == 0 ? 0 : -1;
}

/* What to do with the scanned fragments after file->next_offset. */
enum playback_step {
    PLAYBACK_STEP_MORE,
    PLAYBACK_STEP_DONE,
    PLAYBACK_STEP_GONE,
    PLAYBACK_STEP_ERROR
};

/* Send the current file's scanned fragments from next_offset on: video and
 * audio placed on the stream's timeline (see the top comment). */
static enum playback_step playback_send_file(struct playback *playback, int *sent)
{
    struct playback_file *file = &playback->file;
    const int64_t video_slack = PLAYBACK_SLACK_MS * PLAYBACK_VIDEO_TICKS_PER_MS;
    const int64_t audio_slack = PLAYBACK_SLACK_MS * PLAYBACK_AUDIO_TICKS_PER_MS;

    for (size_t i = 0; file->fd >= 0 && i < file->scan.fragment_count; i++) {
        const struct mp4_scan_fragment *fragment = &file->scan.fragments[i];
        int64_t base = (int64_t)fragment->base_decode_time, stream, wall_ms;
        int rc;

        if (fragment->offset < file->next_offset)
            continue;
        if (fragment->track_id == FMP4_VIDEO_TRACK) {
            wall_ms = file->row.start_ms + base / PLAYBACK_VIDEO_TICKS_PER_MS;
            if (playback->to_ms > 0 && wall_ms >= playback->to_ms)
                return PLAYBACK_STEP_DONE;
        }
        file->next_offset = fragment->offset + fragment->moof_size + fragment->mdat_size;
        if (fragment->track_id == FMP4_VIDEO_TRACK) {
            stream = base + file->video_shift;
            if (playback->need_keyframe && !fragment->keyframe)
                continue;
            /* The index keeps a segment's start in whole milliseconds: a gap
             * of at most one after what was sent is that rounding, and the
             * file moves back to close it (no gap a player would stop at). */
            if (playback->video_started && stream > playback->video_end &&
                stream - playback->video_end <= PLAYBACK_VIDEO_TICKS_PER_MS) {
                file->video_shift -= stream - playback->video_end;
                stream = playback->video_end;
            }
            if (stream < 0 ||
                (playback->video_started && stream < playback->video_end - video_slack)) {
                playback->need_keyframe = 1; /* earlier than what was sent: overlapping rows */
                continue;
            }
            if (playback->video_started && stream < playback->video_end)
                stream = playback->video_end;
            if ((rc = playback_send_fragment(playback, fragment, (uint64_t)stream)) != 0)
                return rc == -1 ? PLAYBACK_STEP_GONE : PLAYBACK_STEP_ERROR;
            playback->video_end = stream + (int64_t)fragment->duration;
            playback->video_started = 1;
            playback->need_keyframe = 0;
            playback->stats.video_fragments++;
        } else if (fragment->track_id == FMP4_AUDIO_TRACK && playback->sent_config.has_audio) {
            wall_ms = file->row.start_ms + base / PLAYBACK_AUDIO_TICKS_PER_MS;
            stream = base + file->audio_shift;
            if (playback->to_ms > 0 && wall_ms >= playback->to_ms)
                continue;
            /* Before the first keyframe: left out, unless it only straddles
             * it by capture jitter; then it starts at 0. */
            if (stream + (int64_t)fragment->duration <= 0 || stream < -audio_slack ||
                (playback->audio_started && stream < playback->audio_end - audio_slack)) {
                playback->stats.skipped_audio++;
                continue;
            }
            if (stream < 0)
                stream = 0;
            if (playback->audio_started && stream < playback->audio_end)
                stream = playback->audio_end;
            if ((rc = playback_send_fragment(playback, fragment, (uint64_t)stream)) != 0)
                return rc == -1 ? PLAYBACK_STEP_GONE : PLAYBACK_STEP_ERROR;
            playback->audio_end = stream + (int64_t)fragment->duration;
            playback->audio_started = 1;
            playback->stats.audio_fragments++;
        } else {
            continue;
        }
        *sent = 1;
    }
    return PLAYBACK_STEP_MORE;
}

/* ---- entry points ---------------------------------------------------------------- */

int playback_open(sqlite3 *db, const struct playback_request *request,
                  struct playback **playback_out)
{
    struct playback_candidates candidates = {.from_ms = request->from_ms};
    struct playback *playback = NULL;
    const struct mp4_scan_fragment *first = NULL;
    char codecs[16];
    int rc = PLAYBACK_OPEN_ERROR;

    *playback_out = NULL;
    if (db == NULL || request->recordings_dir == NULL || request->device_id == NULL ||
        request->from_ms < 0 || (request->to_ms != 0 && request->to_ms <= request->from_ms))
        return PLAYBACK_OPEN_ERROR;
    playback = calloc(1, sizeof(*playback));
    if (playback == NULL || (playback->buffer = malloc(PLAYBACK_BUFFER_SIZE)) == NULL)
        goto out;
    playback->file.fd = -1;
    snprintf(playback->recordings_dir, sizeof(playback->recordings_dir), "%s",
             request->recordings_dir);
    snprintf(playback->device_id, sizeof(playback->device_id), "%s", request->device_id);
    playback->to_ms = request->to_ms;
    playback->poll_ms = request->poll_ms > 0 ? request->poll_ms : PLAYBACK_POLL_MS;
    playback->idle_ms = request->idle_ms > 0 ? request->idle_ms : PLAYBACK_IDLE_MS;
    playback->running = request->running;
    playback->cancelled = request->cancelled;

    if (recording_store_list(db, playback->device_id, request->from_ms,
                             request->to_ms > 0 ? request->to_ms : INT64_MAX, NULL,
                             playback_collect, &candidates) != 0)
        goto out;
    rc = PLAYBACK_OPEN_NOT_FOUND;
    for (int i = 0; i < candidates.count && first == NULL; i++) {
        const struct playback_row *row = &candidates.rows[i];
        uint64_t target = 0;
        if (playback_file_open(playback, row) != 0)
            continue;
        if (request->from_ms > row->start_ms)
            target = (uint64_t)(request->from_ms - row->start_ms) * PLAYBACK_VIDEO_TICKS_PER_MS;
        first = playback_first_keyframe(&playback->file, target);
        if (first == NULL)
            playback_file_release(&playback->file);
    }
    if (first == NULL)
        goto out;
    playback->origin_ms = playback->file.row.start_ms;
    playback->origin_ticks = first->base_decode_time;
    playback->start_ms =
        playback->origin_ms + (int64_t)(playback->origin_ticks / PLAYBACK_VIDEO_TICKS_PER_MS);
    playback->file.next_offset = first->offset;
    playback_file_timeline(playback);
    h264_codecs_string(&playback->file.config.sps_info, codecs);
    snprintf(playback->mime, sizeof(playback->mime), "video/mp4; codecs=\"%s%s\"", codecs,
             playback->file.config.has_audio ? ", opus" : "");
    log_debug("playback of %s from %" PRId64 ": %s at %" PRId64, playback->device_id,
              request->from_ms, playback->file.row.path, playback->start_ms);
    *playback_out = playback;
    return PLAYBACK_OPEN_OK;
out:
    playback_close(playback);
    return rc;
}

int64_t playback_start_ms(const struct playback *playback)
{
    return playback->start_ms;
}

const char *playback_mime(const struct playback *playback)
{
    return playback->mime;
}

void playback_get_stats(const struct playback *playback, struct playback_stats *out)
{
    *out = playback->stats;
}

/*
 * At the end of what the current file's scan holds: look again at the
 * index. The row grew: scan the new bytes. Else a row follows: move to it
 * (sending a new init segment if its tracks differ). Returns 1 if there is
 * something new, 0 if not, 2 if the next row starts at or after to_ms,
 * -1 on a database error.
 */
static int playback_refresh(struct playback *playback, sqlite3 *db)
{
    struct playback_file *file = &playback->file;
    struct playback_lookup lookup = {
        .current_id = file->row.id, .after_start_ms = file->row.start_ms, .after_id = file->row.id};

    if (recording_store_list(db, playback->device_id, file->row.start_ms, INT64_MAX, NULL,
                             playback_find_next, &lookup) != 0)
        return -1;
    if (lookup.found_current && file->fd >= 0 && lookup.current.bytes > file->row.bytes) {
        file->row.bytes = lookup.current.bytes;
        if (playback_file_scan(file, (uint64_t)file->row.bytes) != 0)
            playback_file_release(file); /* move on to the next row when there is one */
        return 1;
    }
    if (!lookup.found_next)
        return 0;
    if (playback->to_ms > 0 && lookup.next.start_ms >= playback->to_ms)
        return 2;
    if (playback_file_open(playback, &lookup.next) == 0)
        playback_file_timeline(playback);
    return 1;
}

enum playback_end playback_run(struct playback *playback, sqlite3 *db,
                               playback_write_callback write, void *context)
{
    int64_t last_news_ms = clock_monotonic_ms();
    unsigned checked_serial = playback->file_serial - 1; /* the file whose tracks were checked */
    enum playback_end end = PLAYBACK_END_ERROR;

    playback->write = write;
    playback->context = context;
    for (;;) {
        int sent = 0, news, rc;
        enum playback_step step;

        if (playback->cancelled != NULL && atomic_load(playback->cancelled) != 0) {
            end = PLAYBACK_END_STOPPED;
            break;
        }
        if (playback->file.fd >= 0 && playback->file_serial != checked_serial) {
            checked_serial = playback->file_serial;
            if (playback_config_changed(playback) &&
                (rc = playback_send_init(playback, &playback->file.config)) != 0) {
                end = rc == -1 ? PLAYBACK_END_CLIENT : PLAYBACK_END_ERROR;
                break;
            }
        }
        step = playback_send_file(playback, &sent);
        if (step == PLAYBACK_STEP_DONE || step == PLAYBACK_STEP_GONE ||
            step == PLAYBACK_STEP_ERROR) {
            end = step == PLAYBACK_STEP_DONE   ? PLAYBACK_END_DONE
                  : step == PLAYBACK_STEP_GONE ? PLAYBACK_END_CLIENT
                                               : PLAYBACK_END_ERROR;
            break;
        }
        if (playback_flush(playback) != 0) {
            end = PLAYBACK_END_CLIENT;
            break;
        }
        news = playback_refresh(playback, db);
        if (news < 0) {
            end = PLAYBACK_END_ERROR;
            break;
        }
        if (news == 2) {
            end = PLAYBACK_END_DONE;
            break;
        }
        if (news == 1 || sent) {
            last_news_ms = clock_monotonic_ms();
            continue;
        }
        if (clock_monotonic_ms() - last_news_ms >= playback->idle_ms) {
            end = PLAYBACK_END_IDLE;
            break;
        }
        if (playback->running != NULL && atomic_load(playback->running) == 0) {
            end = PLAYBACK_END_STOPPED;
            break;
        }
        playback_sleep_ms(playback->poll_ms);
    }
    if (end != PLAYBACK_END_CLIENT && playback_flush(playback) != 0)
        end = PLAYBACK_END_CLIENT;
    return end;
}

void playback_close(struct playback *playback)
{
    if (playback == NULL)
        return;
    playback_file_release(&playback->file);
    free(playback->buffer);
    free(playback);
}
