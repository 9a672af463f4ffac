/*
 * link_server.c - the hub's end of the device link (docs/protocol.md): the
 * civetweb WebSocket handlers for /link/v1.
 *
 * Threads: civetweb gives each link connection its own worker thread, which
 * runs every handler below for that connection; so a struct link_session is
 * touched by one thread only and needs no lock. What other threads see (the
 * device's entry in the registry) is updated under the entry's lock.
 *
 * A connection must authenticate before anything else is accepted:
 *   doorbell HELLO -> hub CHALLENGE -> doorbell AUTH -> hub WELCOME
 * Any protocol error, wrong secret or unknown device gets a LINK_ERROR and
 * the connection is closed; nothing from it reaches the rest of the hub.
 */
#define LOG_MODULE "link"

#include "http/link_server.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#include "civetweb.h"
#include "common/error_text.h"
#include "common/link_auth_key.h"
#include "common/log.h"
#include "common/system_random.h"
#include "core/hub.h"
#include "devices/device_registry.h"
#include "devices/device_store.h"
#include "devices/motion_settings.h"
#include "events/event_store.h"
#include "replies/reply_sender.h"
#include "devices/snapshot_pairing.h"
#include "devices/event_intake.h"
#include "devices/detect_intake.h"
#include "live/live_stream.h"
#include "media/h264.h"
#include "recording/preview_store.h"
#include "recording/recorder.h"
#include "recording/recording_settings.h"

#include <opus/opus.h>
#include "storage/database.h"

enum link_state {
    LINK_STATE_AWAIT_HELLO,
    LINK_STATE_AWAIT_AUTH,
    LINK_STATE_STREAMING,
};

/* Per-connection state; owned by the connection's thread, freed on close. */
struct link_session {
    struct hub *hub;
    enum link_state state;
    uint64_t serial; /* distinguishes this connection from a newer one of the same device */
    char remote_address[48];
    struct link_hello hello;
    struct device_record device;
    int device_known;
    uint8_t secret[LINK_SECRET_SIZE];
    uint8_t nonce[LINK_NONCE_SIZE];
    int64_t opened_at; /* ms since epoch; the handshake must finish within LINK_HANDSHAKE_MS */
    int first_frame_seen;
    uint64_t bad_media;              /* unusable frames/packets, for rate-limited logging */
    struct snapshot_pairing pairing; /* which event each snapshot belongs to */
    uint64_t odd_snapshots;          /* late, duplicate or unknown ones, for rate-limited logging */
    struct preview_writer *previews; /* timeline previews, once streaming */
};

#define LINK_HANDSHAKE_MS 10000

static atomic_uint_fast64_t link_next_serial = 1;

/* Microseconds since the epoch, for the timestamp of messages we send. */
static uint64_t link_now_us(void)
{
    return (uint64_t)database_now_ms() * 1000u;
}

/* Send one JSON-payload message on this connection. 0 ok, -1 failed. */
static int link_send_json(struct mg_connection *connection, uint8_t type, uint32_t sequence,
                          cJSON *json)
{
    size_t size = 0;
    uint8_t *message = link_message_encode_json(type, sequence, link_now_us(), json, 0, &size);
    int rc = -1;

    if (message != NULL)
        rc = mg_websocket_write(connection, MG_WEBSOCKET_OPCODE_BINARY, (const char *)message,
                                size) > 0
                 ? 0
                 : -1;
    free(message);
    return rc;
}

/* The ERROR payload {code, reason}; caller deletes. */
static cJSON *link_server_error_json(const char *code, const char *reason)
{
    struct link_error error;
    memset(&error, 0, sizeof(error));
    snprintf(error.code, sizeof(error.code), "%s", code);
    snprintf(error.reason, sizeof(error.reason), "%s", reason);
    return link_build_error(&error);
}

/* Tell the peer why we are closing. Returns 0: the value that closes the link. */
static int link_refuse(struct mg_connection *connection, struct link_session *session,
                       const char *code, const char *reason)
{
    cJSON *json = link_server_error_json(code, reason);
    if (json != NULL)
        link_send_json(connection, LINK_ERROR, 0, json);
    cJSON_Delete(json);
    log_warn("closing link from %s (device '%s'): %s: %s", session->remote_address,
             session->hello.device_id[0] ? session->hello.device_id : "?", code, reason);
    return 0;
}

/* civetweb: a client asks to upgrade to a device link. */
static int link_on_connect(const struct mg_connection *connection, void *data)
{
    struct link_session *session = calloc(1, sizeof(*session));
    const struct mg_request_info *info = mg_get_request_info(connection);

    if (session == NULL)
        return 1; /* non-zero refuses the upgrade */
    session->hub = data;
    session->serial = atomic_fetch_add(&link_next_serial, 1);
    snprintf(session->remote_address, sizeof(session->remote_address), "%s", info->remote_addr);
    session->opened_at = database_now_ms();
    mg_set_user_connection_data(connection, session);
    log_debug("link connection from %s", session->remote_address);
    return 0;
}

/* HELLO: remember who the peer claims to be and challenge it. An unknown id
 * gets a challenge too, so the answer does not reveal which ids exist. */
static int link_on_hello(struct mg_connection *connection, struct link_session *session,
                         const struct link_message *message)
{
    char reason[128];
    char nonce_hex[LINK_NONCE_SIZE * 2 + 1];
    cJSON *json;
    int found;

    if (link_parse_hello(message->json, &session->hello, reason, sizeof(reason)) != 0)
        return link_refuse(connection, session, LINK_ERROR_CODE_PROTOCOL, reason);
    if (session->hello.protocol != LINK_PROTOCOL_VERSION)
        return link_refuse(connection, session, LINK_ERROR_CODE_UNSUPPORTED_VERSION,
                           "this hub speaks device link v1");
    snapshot_pairing_init(&session->pairing, session->hello.event_snapshots);
    found = device_store_find(database_thread_connection(), session->hello.device_id,
                              &session->device, session->secret);
    if (found < 0)
        return link_refuse(connection, session, "internal", "database unavailable");
    session->device_known = found;
    if (system_random_fill(session->nonce, sizeof(session->nonce), NULL, 0) != 0)
        return link_refuse(connection, session, "internal", "no random numbers");
    link_hex_encode(session->nonce, sizeof(session->nonce), nonce_hex);
    json = cJSON_CreateObject();
    cJSON_AddStringToObject(json, "nonce", nonce_hex);
    found = link_send_json(connection, LINK_CHALLENGE, 0, json);
    cJSON_Delete(json);
    session->state = LINK_STATE_AWAIT_AUTH;
    return found == 0 ? 1 : 0;
}

/* Take over the registry entry for this device: the newest connection wins. */
static void link_attach(struct mg_connection *connection, struct link_session *session)
{
    struct device_entry *entry =
        device_registry_acquire(session->hub->registry, session->device.id, 1);
    int64_t now = database_now_ms();

    if (entry == NULL)
        return;
    if (entry->connection != NULL && entry->connection_serial != session->serial)
        log_info("doorbell %s reconnected; the older link will be closed", entry->id);
    snprintf(entry->name, sizeof(entry->name), "%s", session->device.name);
    snprintf(entry->firmware, sizeof(entry->firmware), "%s", session->hello.firmware);
    snprintf(entry->remote_address, sizeof(entry->remote_address), "%s", session->remote_address);
    entry->connection = connection;
    entry->connection_serial = session->serial;
    device_entry_mark_online(entry);
    entry->revoked = 0;
    entry->connected_since = entry->last_seen_at = now;
    memset(&entry->video, 0, sizeof(entry->video));
    entry->video.width = session->hello.width;
    entry->video.height = session->hello.height;
    entry->video.rate_at_ms = now;
    live_stream_begin(entry->live, session->hello.fps, session->hello.audio_channels);
    /* The sub-stream: its format, and off until the hub asks again (stream_on). */
    entry->sub_width = session->hello.sub_width;
    entry->sub_height = session->hello.sub_height;
    entry->sub_fps = session->hello.sub_fps;
    entry->sub_on = 0;
    entry->sub_idle_since_ms = 0;
    live_stream_begin(entry->live_sub, session->hello.sub_fps, session->hello.audio_channels);
    live_stream_set_available(entry->live_sub, session->hello.sub_width > 0);
    if (entry->recorder == NULL) {
        struct recording_settings settings;
        sqlite3 *db = database_thread_connection();
        if (db == NULL || recording_settings_load(db, entry->id, &settings) != 0)
            recording_settings_defaults(&settings);
        entry->recorder = recorder_start(session->hub->recordings_dir, entry->id,
                                         session->hub->config.segment_seconds, &settings.recorder);
    }
    if (entry->recorder != NULL)
        recorder_set_audio(entry->recorder, session->hello.audio_channels);
    device_entry_unlock(entry);
}

/* AUTH of a paired doorbell: its signature over our nonce bound to this TLS
 * session (common/link_auth_key.h). 1 valid, 0 not, -1 malformed. */
static int link_check_signature(const struct mg_connection *connection,
                                const struct link_session *session, const cJSON *json)
{
    uint8_t signature[LINK_AUTH_KEY_SIGNATURE_SIZE], binding[LINK_AUTH_KEY_BINDING_SIZE];
    uint8_t digest[LINK_AUTH_KEY_DIGEST_SIZE];
    char reason[96];

    if (link_auth_key_parse(json, signature, reason, sizeof(reason)) != 0)
        return -1;
    if (!session->device_known || !session->device.auth_key ||
        mg_get_tls_channel_binding(connection, binding) != 0 ||
        link_auth_key_digest(session->nonce, binding, session->hello.device_id, digest) != 0)
        return 0;
    return link_auth_key_verify(session->device.public_key, digest, signature) == 0;
}

/* AUTH of a doorbell with a secret: the HMAC over our nonce. 1 valid, 0
 * not, -1 malformed. A paired doorbell has no secret: never valid. */
static int link_check_mac(struct link_session *session, const cJSON *json)
{
    const cJSON *mac_item = cJSON_GetObjectItemCaseSensitive(json, "mac");
    uint8_t claimed[LINK_MAC_SIZE], expected[LINK_MAC_SIZE];

    if (!cJSON_IsString(mac_item) ||
        link_hex_decode(mac_item->valuestring, claimed, sizeof(claimed)) != 0)
        return -1;
    if (!session->device_known || session->device.auth_key ||
        link_auth_compute_mac(session->secret, session->nonce, session->hello.device_id,
                              expected) != 0)
        return 0;
    return link_constant_time_compare(claimed, expected, sizeof(expected)) == 0;
}

/* AUTH: check the signature (HELLO said auth "key") or the HMAC over our
 * nonce; on success the link is live. */
static int link_on_auth(struct mg_connection *connection, struct link_session *session,
                        const struct link_message *message)
{
    struct link_command snapshot_command;
    int by_key = strcmp(session->hello.auth, "key") == 0;
    cJSON *json, *settings;
    int valid;

    valid = by_key ? link_check_signature(connection, session, message->json)
                   : link_check_mac(session, message->json);
    mbedtls_platform_zeroize(session->secret, sizeof(session->secret));
    if (valid < 0)
        return link_refuse(connection, session, LINK_ERROR_CODE_PROTOCOL,
                           by_key ? "auth.signature must be 128 hex" : "auth.mac must be 64 hex");
    if (!valid)
        return link_refuse(connection, session, LINK_ERROR_CODE_AUTH_FAILED,
                           by_key ? "unknown device or wrong signature"
                                  : "unknown device or wrong secret");

    device_store_touch(database_thread_connection(), session->device.id, database_now_ms(),
                       session->hello.firmware);
    link_attach(connection, session);
    session->state = LINK_STATE_STREAMING;
    session->previews = preview_writer_create(session->hub->recordings_dir, session->device.id);
    log_info("doorbell %s (%s) connected from %s, firmware '%s', %dx%d@%d%s", session->device.id,
             session->device.name, session->remote_address, session->hello.firmware,
             session->hello.width, session->hello.height, session->hello.fps,
             session->hello.event_snapshots ? ", tags its event snapshots"
                                            : ", untagged snapshots (older firmware)");

    json = cJSON_CreateObject();
    cJSON_AddStringToObject(json, "name", session->device.name);
    /* A doorbell sends timeline previews and detect frames only to a hub
     * that names their interval and rate. */
    settings = cJSON_AddObjectToObject(json, "settings");
    cJSON_AddNumberToObject(settings, LINK_PREVIEW_SETTING, LINK_PREVIEW_INTERVAL_MS);
    if (session->hub->detection != NULL)
        cJSON_AddNumberToObject(settings, LINK_DETECT_SETTING, LINK_DETECT_FPS);
    if (link_send_json(connection, LINK_WELCOME, 0, json) != 0) {
        cJSON_Delete(json);
        return 0;
    }
    cJSON_Delete(json);

    /* Its motion settings: the doorbell starts with defaults after every restart. */
    json = motion_settings_command(database_thread_connection(), session->device.id);
    if (json != NULL) {
        link_send_json(connection, LINK_COMMAND, 0, json);
        cJSON_Delete(json);
    }

    /* Its auto-reply for the current mode (and the clip, once per connection). */
    reply_sender_on_connected(session->hub, database_thread_connection(), session->device.id);

    /* Ask for a fresh snapshot so the UI has a picture at once. */
    memset(&snapshot_command, 0, sizeof(snapshot_command));
    snapshot_command.type = LINK_COMMAND_SNAPSHOT;
    json = link_build_command(&snapshot_command);
    if (json != NULL) {
        link_send_json(connection, LINK_COMMAND, 0, json);
        cJSON_Delete(json);
    }
    return 1;
}

/* Account one video access unit in the device's statistics. */
static void link_count_video(struct device_entry *entry, struct link_session *session,
                             const struct link_message *message, int64_t now)
{
    struct device_video_stats *stats = &entry->video;
    uint32_t sequence = message->header.sequence;

    if (session->first_frame_seen) {
        if (sequence == stats->last_sequence)
            stats->duplicates++;
        else if ((int32_t)(sequence - stats->last_sequence) < 0)
            stats->reordered++;
        else
            stats->gaps += (uint32_t)(sequence - stats->last_sequence - 1);
    } else {
        stats->first_sequence = sequence;
    }
    session->first_frame_seen = 1;
    stats->last_sequence = sequence;
    stats->frames++;
    stats->bytes += message->payload_size;
    stats->last_capture_us = (int64_t)message->header.timestamp_us;
    if (message->header.flags & LINK_FLAG_KEYFRAME) {
        stats->keyframes++;
        stats->last_keyframe_at = now;
    }
}

/* A JPEG starts with SOI (FF D8 FF) and ends with EOI (FF D9). */
static int link_looks_like_jpeg(const uint8_t *data, size_t size)
{
    return size >= 4 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff &&
           data[size - 2] == 0xff && data[size - 1] == 0xd9;
}

/* Hand a video or audio message to live view and the recorder: converted
 * once here, then shared. Unusable media (corrupt H.264, not Opus) is
 * dropped with a logged reason; the link stays up. */
static void link_push_media(struct link_session *session, struct live_stream *live,
                            struct live_stream *live_sub, struct recorder *recorder,
                            const struct link_message *message)
{
    char reason[160];
    uint64_t capture_us = message->header.timestamp_us;
    int rc;

    if (message->header.type == LINK_VIDEO) {
        struct h264_access_unit unit;
        rc = h264_access_unit_convert(message->payload, message->payload_size, &unit, reason,
                                      sizeof(reason));
        if (rc == 0) {
            rc = live_stream_push_unit(live, &unit, capture_us, reason, sizeof(reason));
            if (rc == 0 && recorder != NULL)
                recorder_push_video(recorder, &unit, capture_us);
            h264_access_unit_free(&unit);
        } else {
            live_stream_count_bad_frame(live);
        }
    } else {
        int samples =
            opus_packet_get_nb_samples(message->payload, (opus_int32)message->payload_size, 48000);
        rc = live_stream_push_audio(live, message->payload, message->payload_size, capture_us,
                                    reason, sizeof(reason));
        if (rc == 0 && live_sub != NULL) /* its viewers hear the same sound */
            live_stream_push_audio(live_sub, message->payload, message->payload_size, capture_us,
                                   reason, sizeof(reason));
        if (rc == 0 && recorder != NULL && samples > 0)
            recorder_push_audio(recorder, message->payload, message->payload_size, samples,
                                capture_us);
    }
    if (rc == 0)
        return;
    /* The first few, then every hundredth: a broken encoder must not flood the log. */
    if (session->bad_media++ < 5 || session->bad_media % 100 == 0)
        log_warn("doorbell %s: dropped %s %u: %s (%llu so far)", session->device.id,
                 link_type_name(message->header.type), message->header.sequence, reason,
                 (unsigned long long)session->bad_media);
}

/* An event from the doorbell (its message stamped sent_us), outside the
 * entry lock: store it, drive the recorder, and note that a picture for it
 * is due. A doorbell that tags its snapshots sends one for every event
 * start by itself; an older one does so only on a ring and is asked for one
 * otherwise. */
static void link_take_event(struct link_session *session, struct recorder *recorder,
                            const struct link_event *event, uint64_t sent_us, int64_t now)
{
    struct link_command command;
    int64_t event_id, dropped = 0;

    /* The doorbell answered a ring by itself: a note on that ring, no new event. */
    if (event->auto_reply != 0) {
        /* Sent as it starts to play: into the recording from then on
         * (first: the recorder goes on while the database is written). */
        reply_sender_heard(session->hub, session->device.id, event->auto_reply, sent_us);
        event_store_set_auto_reply(database_thread_connection(), session->device.id, event->id,
                                   event->auto_reply);
        return;
    }
    if (event->type == LINK_EVENT_RING)
        reply_sender_on_ring(session->hub, session->device.id);
    event_id = event_intake_on_event(session->hub, session->device.id, recorder, event, now);

    if (session->pairing.tagged) {
        if (event->active || link_event_is_one_shot(event->type))
            dropped =
                snapshot_pairing_add(&session->pairing, event->id, event_id > 0 ? event_id : 0, now,
                                     EVENT_SNAPSHOT_WAIT_MS);
    } else if (event_id > 0) {
        dropped = snapshot_pairing_add(&session->pairing, event->id, event_id, now,
                                       EVENT_SNAPSHOT_WAIT_MS);
        if (event->type != LINK_EVENT_RING) {
            memset(&command, 0, sizeof(command));
            command.type = LINK_COMMAND_SNAPSHOT;
            device_registry_send_command(session->hub->registry, session->device.id, &command);
        }
    }
    if (dropped > 0)
        log_warn("doorbell %s: event %lld gets no picture: %d newer events wait for theirs",
                 session->device.id, (long long)dropped, SNAPSHOT_PAIRING_SLOTS);
}

/* Log an odd snapshot: the first few, then every hundredth, so a doorbell
 * that tags wrongly cannot flood the log. */
#define LINK_ODD_SNAPSHOT_LOG(session, ...)                                                        \
    do {                                                                                           \
        if ((session)->odd_snapshots++ < 5 || (session)->odd_snapshots % 100 == 0)                 \
            log_warn(__VA_ARGS__);                                                                 \
    } while (0)

/* A snapshot from the doorbell, already its latest picture for the UI,
 * outside the entry lock: give it to the event it was taken for, if any.
 * Nothing is lost: a picture that belongs to no waiting event stays the
 * doorbell's latest picture, and the reason is logged. */
static void link_take_snapshot(struct link_session *session, const struct link_message *message,
                               int64_t now)
{
    uint32_t tag = message->header.sequence;
    int64_t event_id = 0;
    enum snapshot_pairing_outcome outcome =
        snapshot_pairing_take(&session->pairing, tag, now, &event_id);

    switch (outcome) {
    case SNAPSHOT_PAIRING_ATTACH:
        break;
    case SNAPSHOT_PAIRING_ATTACH_LATE:
        LINK_ODD_SNAPSHOT_LOG(session,
                              "doorbell %s: the picture of its event %u came more than %d ms "
                              "after it; event %lld gets it, its notification went without",
                              session->device.id, tag, EVENT_SNAPSHOT_WAIT_MS, (long long)event_id);
        break;
    case SNAPSHOT_PAIRING_NO_EVENT:
        log_debug("doorbell %s: snapshot %u is not for an event", session->device.id, tag);
        return;
    case SNAPSHOT_PAIRING_NOT_STORED:
        log_debug("doorbell %s: snapshot of its event %u, which the hub did not store; kept as "
                  "the latest picture only",
                  session->device.id, tag);
        return;
    case SNAPSHOT_PAIRING_DUPLICATE:
        LINK_ODD_SNAPSHOT_LOG(session,
                              "doorbell %s: a second picture for its event %u; event %lld keeps "
                              "the first, this one is kept as the latest picture only (%llu odd "
                              "snapshots)",
                              session->device.id, tag, (long long)event_id,
                              (unsigned long long)session->odd_snapshots);
        return;
    case SNAPSHOT_PAIRING_UNKNOWN:
        LINK_ODD_SNAPSHOT_LOG(session,
                              "doorbell %s: a picture for its event %u, which it did not report "
                              "on this connection (or too long ago); kept as the latest picture "
                              "only (%llu odd snapshots)",
                              session->device.id, tag, (unsigned long long)session->odd_snapshots);
        return;
    }
    event_intake_on_snapshot(session->hub, event_id, message->payload, message->payload_size);
}

/* A message on an authenticated link. Returns 1 to keep the link, 0 to close. */
static int link_on_streaming(struct mg_connection *connection, struct link_session *session,
                             const struct link_message *message)
{
    struct device_entry *entry;
    struct live_stream *live = NULL, *live_sub = NULL;
    struct recorder *recorder = NULL;
    struct link_event event;
    int have_event = 0, have_snapshot = 0, have_preview = 0, have_detect = 0;
    char reason[128];
    int64_t now = database_now_ms();
    int keep = 1;

    entry = device_registry_acquire(session->hub->registry, session->device.id, 0);
    if (entry == NULL)
        return link_refuse(connection, session, LINK_ERROR_CODE_AUTH_FAILED,
                           "this doorbell was removed");
    if (entry->revoked || entry->connection_serial != session->serial) {
        int revoked = entry->revoked;
        device_entry_unlock(entry);
        return link_refuse(connection, session,
                           revoked ? LINK_ERROR_CODE_AUTH_FAILED : LINK_ERROR_CODE_REPLACED,
                           revoked ? "this doorbell was removed"
                                   : "a newer connection of this doorbell took over");
    }
    entry->last_seen_at = now;
    device_entry_mark_online(entry); /* after a silence, a message brings it back */

    switch (message->header.type) {
    case LINK_VIDEO:
        if (message->header.flags & LINK_FLAG_SUB_STREAM) {
            /* The sub-stream: live view only, never recorded nor counted. */
            live = entry->live_sub;
            live_stream_retain(live);
            break;
        }
        link_count_video(entry, session, message, now);
        live = entry->live;
        live_stream_retain(live);
        recorder = entry->recorder;
        break;
    case LINK_AUDIO:
        live = entry->live;
        live_stream_retain(live);
        if (entry->sub_on) {
            live_sub = entry->live_sub;
            live_stream_retain(live_sub);
        }
        recorder = entry->recorder;
        break;
    case LINK_SNAPSHOT:
        if (!link_looks_like_jpeg(message->payload, message->payload_size) ||
            message->payload_size > DEVICE_SNAPSHOT_MAX) {
            log_warn("doorbell %s sent a snapshot that is not a JPEG (%zu bytes); ignored",
                     entry->id, message->payload_size);
            break;
        }
        {
            uint8_t *copy = malloc(message->payload_size);
            if (copy == NULL)
                break;
            memcpy(copy, message->payload, message->payload_size);
            free(entry->snapshot);
            entry->snapshot = copy;
            entry->snapshot_size = message->payload_size;
            entry->snapshot_at = now;
            have_snapshot = 1;
        }
        break;
    case LINK_PREVIEW:
        have_preview = 1; /* checked and stored outside the entry lock */
        break;
    case LINK_DETECT_FRAME:
        have_detect = 1; /* checked and queued outside the entry lock */
        break;
    case LINK_TELEMETRY:
        if (link_parse_telemetry(message->json, &entry->telemetry, reason, sizeof(reason)) == 0) {
            entry->has_telemetry = 1;
            device_entry_note_battery(entry, entry->telemetry.battery_percent);
        } else {
            keep = -1;
        }
        break;
    case LINK_EVENT:
        if (link_parse_event(message->json, &event, reason, sizeof(reason)) == 0) {
            log_info("doorbell %s: %s event %u (score %.2f, %d boxes, %s)", entry->id,
                     link_event_type_name(event.type), event.id, event.score, event.box_count,
                     event.active ? "active" : "ended");
            have_event = 1;
            recorder = entry->recorder;
        } else {
            keep = -1;
        }
        break;
    case LINK_COMMAND_RESULT:
        log_debug("doorbell %s: command result", entry->id);
        break;
    case LINK_ERROR:
        log_warn("doorbell %s reports an error: %.200s", entry->id,
                 cJSON_IsString(cJSON_GetObjectItemCaseSensitive(message->json, "reason"))
                     ? cJSON_GetObjectItemCaseSensitive(message->json, "reason")->valuestring
                     : "?");
        break;
    default:
        error_text_set(reason, sizeof(reason), "a doorbell may not send %s",
                       link_type_name(message->header.type));
        keep = -1;
        break;
    }
    /* The entry may be removed and freed once unlocked (this link replaced,
     * the newer one gone, the doorbell deleted): hold what is used below. */
    if (recorder != NULL)
        recorder_retain(recorder);
    device_entry_unlock(entry);
    if (keep < 0) {
        recorder_release(recorder);
        return link_refuse(connection, session, LINK_ERROR_CODE_PROTOCOL, reason);
    }
    if (have_event)
        link_take_event(session, recorder, &event, message->header.timestamp_us, now);
    if (have_snapshot)
        link_take_snapshot(session, message, now);
    if (have_preview)
        preview_writer_add(session->previews, database_thread_connection(),
                           (int64_t)(message->header.timestamp_us / 1000u), message->payload,
                           message->payload_size, now);
    if (have_detect)
        detect_intake_on_frame(session->hub, session->device.id, message);
    if (live != NULL) {
        /* Muxing and fan-out happen outside the entry lock: HTTP threads
         * reading this doorbell's state never wait for them. */
        link_push_media(session, live, live_sub, recorder, message);
        live_stream_release(live);
        if (live_sub != NULL)
            live_stream_release(live_sub);
    }
    recorder_release(recorder);
    return keep;
}

/* civetweb: one WebSocket frame arrived. Returns 1 to keep the link, 0 to close. */
static int link_on_data(struct mg_connection *connection, int bits, char *data, size_t size,
                        void *callback_data)
{
    struct link_session *session = mg_get_user_connection_data(connection);
    struct link_message message;
    char reason[160];
    int opcode = bits & 0x0f;
    int keep;

    (void)callback_data;
    if (session == NULL)
        return 0;
    if (opcode == MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE)
        return 0;
    if (opcode == MG_WEBSOCKET_OPCODE_PING || opcode == MG_WEBSOCKET_OPCODE_PONG)
        return 1;
    if (opcode != MG_WEBSOCKET_OPCODE_BINARY || !(bits & 0x80))
        return link_refuse(connection, session, LINK_ERROR_CODE_PROTOCOL,
                           "link messages are single unfragmented binary frames");
    if (session->state != LINK_STATE_STREAMING &&
        database_now_ms() - session->opened_at > LINK_HANDSHAKE_MS)
        return link_refuse(connection, session, LINK_ERROR_CODE_TIMEOUT,
                           "the handshake took longer than 10 s");
    if (size >= 1 && (uint8_t)data[0] != LINK_PROTOCOL_VERSION)
        return link_refuse(connection, session, LINK_ERROR_CODE_UNSUPPORTED_VERSION,
                           "this hub speaks device link v1");
    if (link_message_decode((const uint8_t *)data, size, &message, reason, sizeof(reason)) != 0)
        return link_refuse(connection, session, LINK_ERROR_CODE_PROTOCOL, reason);

    switch (session->state) {
    case LINK_STATE_AWAIT_HELLO:
        keep = message.header.type == LINK_HELLO
                   ? link_on_hello(connection, session, &message)
                   : link_refuse(connection, session, LINK_ERROR_CODE_PROTOCOL, "expected hello");
        break;
    case LINK_STATE_AWAIT_AUTH:
        keep = message.header.type == LINK_AUTH
                   ? link_on_auth(connection, session, &message)
                   : link_refuse(connection, session, LINK_ERROR_CODE_PROTOCOL, "expected auth");
        break;
    default:
        keep = link_on_streaming(connection, session, &message);
        break;
    }
    link_message_clear(&message);
    return keep;
}

/* civetweb: the connection is gone. Mark the device offline if this link was
 * the current one, drop a revoked entry, free the session. */
static void link_on_close(const struct mg_connection *connection, void *callback_data)
{
    struct link_session *session = mg_get_user_connection_data(connection);
    struct device_entry *entry;
    int revoked = 0;

    (void)callback_data;
    if (session == NULL)
        return;
    if (session->state == LINK_STATE_STREAMING) {
        entry = device_registry_acquire(session->hub->registry, session->device.id, 0);
        if (entry != NULL) {
            if (entry->connection_serial == session->serial) {
                entry->connection = NULL;
                device_entry_mark_offline(entry, database_now_ms());
                entry->connected_since = 0;
                if (entry->recorder != NULL)
                    recorder_end_segment(entry->recorder);
                revoked = entry->revoked;
                log_info("doorbell %s disconnected", entry->id);
            }
            device_entry_unlock(entry);
        }
        if (revoked)
            device_registry_remove(session->hub->registry, session->device.id);
    }
    preview_writer_free(session->previews);
    mbedtls_platform_zeroize(session, sizeof(*session));
    free(session);
    mg_set_user_connection_data(connection, NULL);
}

void link_server_drop_removed(struct hub *hub, sqlite3 *db)
{
    char ids[DEVICE_REGISTRY_MAX_DEVICES][LINK_DEVICE_ID_MAX];
    struct device_record record;
    int count = device_registry_connected_ids(hub->registry, ids, DEVICE_REGISTRY_MAX_DEVICES);

    for (int i = 0; i < count; i++) {
        if (device_store_find(db, ids[i], &record, NULL) == 0) {
            log_info("doorbell %s was removed; closing its link", ids[i]);
            device_registry_remove(hub->registry, ids[i]);
        }
    }
}

void link_server_shutdown(struct hub *hub)
{
    cJSON *json = link_server_error_json(LINK_ERROR_CODE_SHUTDOWN, "the hub is stopping");
    uint8_t *message;
    size_t size = 0;

    if (json == NULL)
        return;
    message = link_message_encode_json(LINK_ERROR, 0, link_now_us(), json, 0, &size);
    cJSON_Delete(json);
    if (message != NULL)
        device_registry_broadcast(hub->registry, message, size);
    free(message);
}

void link_server_register(struct hub *hub)
{
    mg_set_websocket_handler(hub->server, LINK_WEBSOCKET_PATH, link_on_connect, NULL, link_on_data,
                             link_on_close, hub);
}
