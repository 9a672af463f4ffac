/*
 * live_viewer.c - a live viewer's bounded queue and sender thread (see
 * live_viewer.h for threads, locks and the slow-viewer policy).
 *
 * The queue is a ring of fragment pointers; each queued pointer holds a
 * reference that the sender (or a flush) releases. One writer at a time:
 * `writing` is set (under the lock) by the sender thread around each of its
 * writes and by a direct write (live_viewer_push) around its own, so
 * fragments reach the socket in order and never interleave.
 */
#define LOG_MODULE "live"

#include "live/live_viewer.h"

#include <pthread.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts/authority.h"
#include "civetweb.h"
#include "common/clock.h"
#include "common/link_protocol.h"
#include "common/log.h"
#include "common/mutex.h"

#define LIVE_VIEWER_STATS_PERIOD_MS 1000

/* A queued fragment and when it was queued for this viewer: a cached GOP
 * replayed to a new viewer is old media but freshly queued. */
struct live_viewer_entry {
    struct live_fragment *fragment;
    int64_t queued_ms;
};

struct live_viewer {
    pthread_mutex_t lock; /* guards everything below except the constants */
    pthread_cond_t wake;
    struct live_viewer_entry queue[LIVE_VIEWER_QUEUE_SLOTS];
    int head, count;
    size_t queued_bytes;
    int waiting_for_keyframe; /* after a skip or a new init: drop until an IDR */
    int closing, closed;
    int writing;    /* the sender or a direct write is writing to the socket */
    int close_code; /* nonzero: the sender ends with a close frame of this code */
    uint64_t sent_frames, skipped_frames, skips;
    uint64_t reported_skipped_frames, reported_skips; /* already summed by the stream */

    /* Constant after start. */
    void *connection;
    live_viewer_write write;
    int socket; /* for direct writes, or -1 (set before the viewer is attached) */
    char device_id[LINK_DEVICE_ID_MAX];
    pthread_t sender;
};

/* Drop every queued media fragment (keeping init segments); lock held. */
static int live_viewer_flush_locked(struct live_viewer *viewer)
{
    mutex_assert_held(&viewer->lock);
    struct live_viewer_entry kept[LIVE_VIEWER_QUEUE_SLOTS];
    int kept_count = 0, dropped_video = 0;

    for (int i = 0; i < viewer->count; i++) {
        struct live_viewer_entry *entry =
            &viewer->queue[(viewer->head + i) % LIVE_VIEWER_QUEUE_SLOTS];
        struct live_fragment *fragment = entry->fragment;
        if (fragment->kind == LIVE_KIND_INIT) {
            kept[kept_count++] = *entry;
            continue;
        }
        if (fragment->kind == LIVE_KIND_VIDEO)
            dropped_video++;
        viewer->queued_bytes -= fragment->size;
        live_fragment_release(fragment);
    }
    viewer->head = 0;
    viewer->count = kept_count;
    memcpy(viewer->queue, kept, sizeof(kept[0]) * (size_t)kept_count);
    return dropped_video;
}

/* Append one fragment (reference already taken); lock held. */
static void live_viewer_append_locked(struct live_viewer *viewer, struct live_fragment *fragment,
                                      int64_t now_ms)
{
    mutex_assert_held(&viewer->lock);
    struct live_viewer_entry *entry =
        &viewer->queue[(viewer->head + viewer->count) % LIVE_VIEWER_QUEUE_SLOTS];
    entry->fragment = fragment;
    entry->queued_ms = now_ms;
    viewer->count++;
    viewer->queued_bytes += fragment->size;
}

/* Whether the socket's send buffer takes size more payload bytes without
 * blocking. SIOCOUTQ counts the payload not yet acknowledged; SO_SNDBUF is
 * what the kernel lets be queued, its own bookkeeping included (it reports
 * twice what was asked for that reason), so half of it is taken as the
 * payload bound. TLS and WebSocket framing add a little per 16 KiB record. */
static int live_viewer_socket_has_room(int socket, size_t size)
{
    int queued = 0, buffer = 0;
    socklen_t length = sizeof(buffer);
    size_t framing = (size / 16384u + 1u) * 64u + 16u;

    if (ioctl(socket, SIOCOUTQ, &queued) != 0 ||
        getsockopt(socket, SOL_SOCKET, SO_SNDBUF, &buffer, &length) != 0 || queued < 0 ||
        buffer <= 0)
        return 0;
    return (size_t)queued + size + framing <= (size_t)buffer / 2u;
}

/*
 * Link thread, under the stream lock and the viewer's lock: write a media
 * fragment now if nothing is queued, no one is writing and the socket has
 * room. Returns 1 when it was written (or the write failed: the sender then
 * stops, as after its own failed write), 0 to queue it. The viewer's lock
 * is released around the write; `writing` keeps the sender off the socket.
 */
static int live_viewer_write_now(struct live_viewer *viewer, struct live_fragment *fragment)
{
    int written;

    mutex_assert_held(&viewer->lock);
    if (viewer->socket < 0 || viewer->count > 0 || viewer->writing ||
        fragment->kind == LIVE_KIND_INIT ||
        !live_viewer_socket_has_room(viewer->socket, fragment->size))
        return 0;
    viewer->writing = 1;
    pthread_mutex_unlock(&viewer->lock);
    written = viewer->write(viewer->connection, MG_WEBSOCKET_OPCODE_BINARY, fragment->data,
                            fragment->size) > 0;
    pthread_mutex_lock(&viewer->lock);
    viewer->writing = 0;
    if (written && fragment->kind == LIVE_KIND_VIDEO)
        viewer->sent_frames++;
    if (!written) {
        log_debug("viewer of %s: direct write failed; stopping its sender", viewer->device_id);
        viewer->closing = 1; /* as the sender does after a failed write */
        pthread_cond_signal(&viewer->wake);
    }
    /* Otherwise the sender sleeps on: it never waits for `writing` to clear,
     * since a direct write happens only with nothing queued for it. */
    return 1;
}

void live_viewer_set_socket(struct live_viewer *viewer, int socket)
{
    pthread_mutex_lock(&viewer->lock);
    viewer->socket = socket;
    pthread_mutex_unlock(&viewer->lock);
}

void live_viewer_push(struct live_viewer *viewer, struct live_fragment *fragment, int64_t now_ms)
{
    pthread_mutex_lock(&viewer->lock);
    if (viewer->closing)
        goto out;
    if (fragment->kind == LIVE_KIND_INIT) {
        /* A new init segment (new resolution): media continues at the next IDR. */
        viewer->waiting_for_keyframe = 1;
    } else if (viewer->waiting_for_keyframe) {
        if (fragment->kind != LIVE_KIND_VIDEO || !fragment->keyframe) {
            if (fragment->kind == LIVE_KIND_VIDEO)
                viewer->skipped_frames++;
            goto out;
        }
        viewer->waiting_for_keyframe = 0;
    }
    /* Too far behind: skip to the next keyframe rather than slow anyone down. */
    if (viewer->count > 0 && fragment->kind != LIVE_KIND_INIT) {
        const struct live_viewer_entry *oldest = &viewer->queue[viewer->head];
        if (now_ms - oldest->queued_ms > LIVE_VIEWER_MAX_DELAY_MS ||
            viewer->queued_bytes + fragment->size > LIVE_VIEWER_MAX_BYTES ||
            viewer->count >= LIVE_VIEWER_QUEUE_SLOTS - 1) {
            viewer->skipped_frames += (uint64_t)live_viewer_flush_locked(viewer);
            viewer->skips++;
            if (!fragment->keyframe || fragment->kind != LIVE_KIND_VIDEO) {
                viewer->waiting_for_keyframe = 1;
                if (fragment->kind == LIVE_KIND_VIDEO)
                    viewer->skipped_frames++;
                goto out;
            }
        }
    }
    if (viewer->count >= LIVE_VIEWER_QUEUE_SLOTS)
        goto out; /* only init segments queued: cannot happen with a sane stream */
    if (live_viewer_write_now(viewer, fragment))
        goto out;
    live_viewer_append_locked(viewer, live_fragment_retain(fragment), now_ms);
    pthread_cond_signal(&viewer->wake);
out:
    pthread_mutex_unlock(&viewer->lock);
}

void live_viewer_take_skips(struct live_viewer *viewer, uint64_t *skipped_frames, uint64_t *skips)
{
    pthread_mutex_lock(&viewer->lock);
    *skipped_frames = viewer->skipped_frames - viewer->reported_skipped_frames;
    *skips = viewer->skips - viewer->reported_skips;
    viewer->reported_skipped_frames = viewer->skipped_frames;
    viewer->reported_skips = viewer->skips;
    pthread_mutex_unlock(&viewer->lock);
}

/* Sender: the text message announcing an init segment's MIME type. */
static int live_viewer_send_init_text(struct live_viewer *viewer,
                                      const struct live_fragment *fragment)
{
    char text[384];
    cJSON *json = cJSON_CreateObject();
    char *printed;
    int rc = -1;

    cJSON_AddStringToObject(json, "type", "init");
    cJSON_AddStringToObject(json, "mime", fragment->mime);
    cJSON_AddNumberToObject(json, "width", fragment->width);
    cJSON_AddNumberToObject(json, "height", fragment->height);
    if (fragment->stream[0] != '\0') /* which of the doorbell's streams, and why */
        cJSON_AddStringToObject(json, "stream", fragment->stream);
    if (fragment->reason[0] != '\0')
        cJSON_AddStringToObject(json, "reason", fragment->reason);
    printed = cJSON_PrintUnformatted(json);
    cJSON_Delete(json);
    if (printed != NULL && snprintf(text, sizeof(text), "%s", printed) < (int)sizeof(text))
        rc = viewer->write(viewer->connection, MG_WEBSOCKET_OPCODE_TEXT, text, strlen(text)) > 0
                 ? 0
                 : -1;
    cJSON_free(printed);
    return rc;
}

/* Sender: a periodic {"type":"stats"} so the player can show skips. */
static int live_viewer_send_stats(struct live_viewer *viewer)
{
    char text[160];
    uint64_t skipped, skips, sent;

    pthread_mutex_lock(&viewer->lock);
    skipped = viewer->skipped_frames;
    skips = viewer->skips;
    sent = viewer->sent_frames;
    pthread_mutex_unlock(&viewer->lock);
    snprintf(text, sizeof(text),
             "{\"type\":\"stats\",\"sent_frames\":%llu,\"skipped_frames\":%llu,\"skips\":%llu}",
             (unsigned long long)sent, (unsigned long long)skipped, (unsigned long long)skips);
    return viewer->write(viewer->connection, MG_WEBSOCKET_OPCODE_TEXT, text, strlen(text)) > 0 ? 0
                                                                                               : -1;
}

/* Sender: a close frame with code and the authority's reason. */
static void live_viewer_send_close(struct live_viewer *viewer, int code)
{
    char payload[2 + sizeof(AUTHORITY_CLOSE_REASON)];

    payload[0] = (char)((code >> 8) & 0xff);
    payload[1] = (char)(code & 0xff);
    memcpy(payload + 2, AUTHORITY_CLOSE_REASON, sizeof(AUTHORITY_CLOSE_REASON) - 1);
    viewer->write(viewer->connection, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, payload,
                  sizeof(payload) - 1);
}

/* The sender thread: pop, write, release; stats once a second. */
static void *live_viewer_sender(void *data)
{
    struct live_viewer *viewer = data;
    int64_t last_stats = clock_monotonic_ms();
    pthread_setname_np(pthread_self(), "live-viewer");

    for (;;) {
        struct live_fragment *fragment = NULL;
        int failed = 0;

        pthread_mutex_lock(&viewer->lock);
        while (viewer->count == 0 && !viewer->closing) {
            struct timespec deadline;
            clock_deadline_ms(CLOCK_REALTIME, 250, &deadline);
            pthread_cond_timedwait(&viewer->wake, &viewer->lock, &deadline);
            if (clock_monotonic_ms() - last_stats >= LIVE_VIEWER_STATS_PERIOD_MS)
                break;
        }
        if (viewer->closing) {
            int close_code = viewer->close_code;
            pthread_mutex_unlock(&viewer->lock);
            if (close_code != 0)
                live_viewer_send_close(viewer, close_code);
            break;
        }
        if (viewer->count > 0) {
            fragment = viewer->queue[viewer->head].fragment;
            viewer->head = (viewer->head + 1) % LIVE_VIEWER_QUEUE_SLOTS;
            viewer->count--;
            viewer->queued_bytes -= fragment->size;
            viewer->writing = 1; /* no direct write overtakes this fragment */
        }
        pthread_mutex_unlock(&viewer->lock);

        if (fragment != NULL) {
            if (fragment->kind == LIVE_KIND_INIT &&
                live_viewer_send_init_text(viewer, fragment) != 0)
                failed = 1;
            else if (viewer->write(viewer->connection, MG_WEBSOCKET_OPCODE_BINARY, fragment->data,
                                   fragment->size) <= 0)
                failed = 1;
            pthread_mutex_lock(&viewer->lock);
            viewer->writing = 0;
            if (!failed && fragment->kind == LIVE_KIND_VIDEO)
                viewer->sent_frames++;
            pthread_mutex_unlock(&viewer->lock);
            live_fragment_release(fragment);
        }
        if (!failed && clock_monotonic_ms() - last_stats >= LIVE_VIEWER_STATS_PERIOD_MS) {
            last_stats = clock_monotonic_ms();
            failed = live_viewer_send_stats(viewer) != 0;
        }
        if (failed) {
            log_debug("viewer of %s: write failed; stopping its sender", viewer->device_id);
            break;
        }
    }
    pthread_mutex_lock(&viewer->lock);
    viewer->closed = 1;
    pthread_mutex_unlock(&viewer->lock);
    return NULL;
}

struct live_viewer *live_viewer_start(void *connection, live_viewer_write write,
                                      const char *device_id)
{
    struct live_viewer *viewer = calloc(1, sizeof(*viewer));

    if (viewer == NULL)
        return NULL;
    mutex_init_checked(&viewer->lock);
    pthread_cond_init(&viewer->wake, NULL);
    viewer->connection = connection;
    viewer->write = write;
    viewer->waiting_for_keyframe = 1;
    viewer->socket = -1;
    snprintf(viewer->device_id, sizeof(viewer->device_id), "%s", device_id);
    if (pthread_create(&viewer->sender, NULL, live_viewer_sender, viewer) != 0) {
        pthread_cond_destroy(&viewer->wake);
        pthread_mutex_destroy(&viewer->lock);
        free(viewer);
        return NULL;
    }
    return viewer;
}

void live_viewer_request_close(struct live_viewer *viewer)
{
    pthread_mutex_lock(&viewer->lock);
    viewer->closing = 1;
    pthread_cond_signal(&viewer->wake);
    pthread_mutex_unlock(&viewer->lock);
}

void live_viewer_revoke(struct live_viewer *viewer)
{
    pthread_mutex_lock(&viewer->lock);
    if (!viewer->closing)
        viewer->close_code = AUTHORITY_CLOSE_CODE;
    viewer->closing = 1;
    pthread_cond_signal(&viewer->wake);
    pthread_mutex_unlock(&viewer->lock);
}

int live_viewer_closed(struct live_viewer *viewer)
{
    int closed;
    pthread_mutex_lock(&viewer->lock);
    closed = viewer->closed || viewer->closing;
    pthread_mutex_unlock(&viewer->lock);
    return closed;
}

void live_viewer_stop(struct live_viewer *viewer)
{
    if (viewer == NULL)
        return;
    live_viewer_request_close(viewer);
    pthread_join(viewer->sender, NULL);
    pthread_mutex_lock(&viewer->lock);
    live_viewer_flush_locked(viewer);
    while (viewer->count > 0) { /* init segments kept by the flush */
        live_fragment_release(viewer->queue[viewer->head].fragment);
        viewer->head = (viewer->head + 1) % LIVE_VIEWER_QUEUE_SLOTS;
        viewer->count--;
    }
    pthread_mutex_unlock(&viewer->lock);
    pthread_cond_destroy(&viewer->wake);
    pthread_mutex_destroy(&viewer->lock);
    free(viewer);
}
