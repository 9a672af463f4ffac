/*
 * device_registry.h - the hub's live view of each doorbell: whether it is
 * connected, its video statistics, telemetry and latest snapshot, and the
 * link connection to send it commands.
 *
 * Threads: link connections (one civetweb worker thread each) update their
 * device; HTTP handler threads read the state and send commands; the
 * housekeeping thread recomputes rates and times out silent links.
 *
 * Locks: registry->lock guards the table (adding, finding, unlinking
 * entries); each entry's own `lock` guards its fields and the connection
 * pointer. An entry lock is only ever taken while the registry lock is held
 * (device_registry_acquire and the loops here), so an entry unlinked under
 * both locks can be reached by nobody and is stopped and freed with no lock
 * held: a recorder's final fdatasync never holds up another doorbell's link.
 * The hub's lock order, outermost first:
 *
 *     registry->lock -> entry->lock -> stream->lock -> viewer->lock
 *                                   -> recorder->lock
 *
 * recorder->heard.lock (recording/heard_audio.h) is taken with none of
 * these held (device_registry_hear lets go of the entry lock first).
 *
 * (stream and viewer: live/live_stream.h; recorder: recording/recorder.h.)
 * Later locks are leaves: code holding them never calls back into the
 * registry. Never block on the network while holding the registry lock.
 */
#ifndef DOORSTEP_DEVICE_REGISTRY_H
#define DOORSTEP_DEVICE_REGISTRY_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "common/link_protocol.h"

struct mg_connection;
struct live_stream;
struct recorder;

#define DEVICE_REGISTRY_MAX_DEVICES 256
#define DEVICE_NAME_MAX             65
#define DEVICE_SNAPSHOT_MAX         (2u * 1024u * 1024u)
#define DEVICE_SILENT_OFFLINE_MS    30000

/* Counters of one link connection's video, reset when the doorbell reconnects. */
struct device_video_stats {
    int width, height;
    uint64_t frames, keyframes, bytes;
    uint64_t gaps;           /* frames missing between consecutive sequence numbers */
    uint64_t duplicates;     /* a sequence number seen twice in a row */
    uint64_t reordered;      /* a sequence number lower than the previous one */
    uint32_t first_sequence; /* of this connection: with gaps == 0, frames == last - first + 1 */
    uint32_t last_sequence;
    int64_t last_keyframe_at; /* ms since epoch */
    int64_t last_capture_us;
    double fps, bitrate_kbps;         /* over the last housekeeping interval */
    uint64_t rate_frames, rate_bytes; /* counters at the last rate update */
    int64_t rate_at_ms;
};

/*
 * One doorbell. Every field is guarded by `lock`; the comment on each group
 * names the module that writes it.
 */
struct device_entry {
    /* device_registry.c: the entry itself. */
    pthread_mutex_t lock;
    char id[LINK_DEVICE_ID_MAX];
    int revoked; /* set on delete: the link closes at its next message */

    /* link_server.c: the connection and what the doorbell reports. */
    char name[DEVICE_NAME_MAX];
    int online;
    struct mg_connection *connection; /* NULL when offline */
    uint64_t connection_serial;       /* which connection owns the entry */
    char remote_address[48];
    char firmware[LINK_TEXT_MAX];
    int64_t connected_since, last_seen_at; /* ms since epoch; 0 before the first link */
    struct device_video_stats video;
    struct link_telemetry telemetry;
    int has_telemetry;
    uint8_t *snapshot; /* latest JPEG, malloc'd, owned by the entry */
    size_t snapshot_size;
    int64_t snapshot_at;

    /* device_registry.c (housekeeping): state changes that become events. */
    int64_t offline_since;       /* when it went offline (ms), 0 while online */
    unsigned state_events;       /* DEVICE_STATE_* events to report */
    int offline_reported;        /* an offline event went out for this outage */
    int recording_stop_reported; /* ... and a recording_stopped one for this failure */
    char recording_problem[24];  /* the recorder's problem when it was reported */
    int low_battery_reported;    /* ... a low_battery event for this discharge */

    /* live/: the two live streams, created with the entry (one reference
     * each): the main stream (recorded too) and the sub-stream, whose
     * format link_server.c keeps from HELLO (0: the doorbell has none), and
     * live_server.c's demand for it: sub_on once it sent stream_on on this
     * connection, sub_idle_since when the last viewer stopped needing it. */
    struct live_stream *live;
    struct live_stream *live_sub;
    int sub_width, sub_height, sub_fps;
    int sub_on;
    int64_t sub_idle_since_ms;

    /* recording/: the 24/7 recorder; started at the first connection
     * (link_server.c), stopped when the entry is freed (after its link
     * thread ended). */
    struct recorder *recorder;
};

struct device_registry;

#define DEVICE_OFFLINE_EVENT_MS  60000 /* offline this long before it is an event */
#define DEVICE_LOW_BATTERY       15    /* percent at or below which it is an event ... */
#define DEVICE_BATTERY_RECOVERED 25    /* ... until it is charged past this again */
#define DEVICE_STATE_MAX_CHANGES DEVICE_REGISTRY_MAX_DEVICES

enum device_state_event {
    DEVICE_STATE_OFFLINE = 1u << 0,
    DEVICE_STATE_ONLINE = 1u << 1,
    DEVICE_STATE_LOW_BATTERY = 1u << 2,
    DEVICE_STATE_RECORDING_STOPPED = 1u << 3, /* detail: the recorder's problem */
};

/* A doorbell state change that becomes an event. */
struct device_state_change {
    char id[LINK_DEVICE_ID_MAX];
    enum device_state_event what;
    char detail[24]; /* DEVICE_STATE_RECORDING_STOPPED: "disk_full", "database_full", ... */
};

/* Entry lock held (checked in debug builds): the doorbell is (again)
 * connected / has gone / reported its battery. They set the state events
 * the housekeeping reports. */
void device_entry_mark_online(struct device_entry *entry);
void device_entry_mark_offline(struct device_entry *entry, int64_t now_ms);
void device_entry_note_battery(struct device_entry *entry, int battery_percent);

/*
 * Main thread (housekeeping): take the state changes to report as events:
 * doorbells offline for offline_after_ms (once per outage), back online
 * after such an outage, and low on battery. Returns how many were written
 * to out (at most max).
 */
int device_registry_take_state_changes(struct device_registry *registry, int64_t now_ms,
                                       int64_t offline_after_ms, struct device_state_change *out,
                                       int max);

/* Create an empty registry; NULL if out of memory. */
struct device_registry *device_registry_create(void);

/* Free the registry and every entry (after all link threads have stopped). */
void device_registry_destroy(struct device_registry *registry);

/*
 * Find or create the entry for id, returning it *locked* (caller unlocks with
 * device_entry_unlock). NULL if the table is full.
 */
struct device_entry *device_registry_acquire(struct device_registry *registry, const char *id,
                                             int create);

/* Unlock an entry returned by device_registry_acquire(). */
void device_entry_unlock(struct device_entry *entry);

/*
 * Remove the entry for id (device deleted). A connected entry is only marked
 * revoked (its link closes at its next message and removes it then); an
 * unconnected one is unlinked under the locks, then its recorder stopped
 * (final write and sync) and the entry freed with no lock held. Neither
 * lock may be held by the caller. Returns 1 if it existed.
 */
int device_registry_remove(struct device_registry *registry, const char *id);

/*
 * The device's speaker plays count 48 kHz mono samples from wall time
 * play_us on (talk-back): hand them to its recorder, which mixes them into
 * the recording (recording/recorder.h recorder_hear). Takes the entry lock
 * only to hold the recorder. Returns 0, or -1 when the device has no
 * recorder or memory ran out.
 */
int device_registry_hear(struct device_registry *registry, const char *id, const int16_t *pcm,
                         unsigned count, uint64_t play_us);

/* The same for a quick reply clip (common/reply_clip.h) the device plays
 * from play_us on (recording/recorder.h recorder_hear_clip). */
int device_registry_hear_clip(struct device_registry *registry, const char *id, const uint8_t *clip,
                              size_t size, uint64_t play_us);

/*
 * Send one encoded link message to the device if it is connected. Takes and
 * releases the entry lock itself (the entry must NOT be locked by the caller).
 * Returns 0 if written, -1 if offline or the write failed.
 */
int device_registry_send(struct device_registry *registry, const char *id, const uint8_t *message,
                         size_t size);

/* Send one encoded message to every connected device. */
void device_registry_broadcast(struct device_registry *registry, const uint8_t *message,
                               size_t size);

/* Send a command (type + optional parameters) to the device. 0 if sent. */
int device_registry_send_command(struct device_registry *registry, const char *id,
                                 const struct link_command *command);

/* Housekeeping: recompute fps/bitrate for every entry. */
void device_registry_update_rates(struct device_registry *registry, int64_t now_ms);

/* Copy the ids of connected entries into ids (at most max). Returns the count. */
int device_registry_connected_ids(struct device_registry *registry, char ids[][LINK_DEVICE_ID_MAX],
                                  int max);

#endif
