/*
 * talk_floor.c - who talks through each doorbell, the members of its talk
 * sockets, the state they are told, and the talker's packets on their way
 * to the talk queue (see talk_floor.h for threads and locks).
 *
 * Owns the channel table (channels live until talk_hub_destroy, so a
 * doorbell's counters survive its sockets) and the members (freed by
 * talk_leave). Each channel owns its talk queue.
 */
#define LOG_MODULE "talk"

#include "talk/talk_floor.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts/audit.h"
#include "common/clock.h"
#include "common/link_protocol.h"
#include "common/log.h"
#include "common/mutex.h"
#include "devices/device_registry.h"
#include "storage/database.h"
#include "talk/talk_encoder.h"
#include "talk/talk_packet.h"
#include "talk/talk_queue.h"

struct talk_channel;

struct talk_member {
    struct talk_channel *channel;
    struct talk_member *next; /* channel->members, under members_lock */
    int64_t user_id;
    char username[TALK_USERNAME_MAX];
    bool admin;
    char remote_address[48];
    talk_send_text send;
    void *connection;
    struct talk_encoder *encoder; /* the member's connection thread only */

    /* Under channel->lock. */
    int codec; /* of the floor the member holds or held last */
    bool has_sequence;
    uint16_t last_sequence;
    bool revoked;
};

struct talk_channel {
    struct talk_hub *hub;
    char device_id[LINK_DEVICE_ID_MAX];
    struct talk_queue *queue; /* set at creation, read-only after */

    pthread_mutex_t members_lock; /* the list and every write to a member's socket */
    struct talk_member *members;

    pthread_mutex_t lock; /* everything below */
    struct talk_member *talker;
    int64_t talk_started_ms; /* monotonic */
    bool online_seen;        /* the link as last told to the members */
    struct talk_stats stats; /* talker fields and queue counters filled on read */
};

struct talk_hub {
    struct device_registry *registry;
    pthread_mutex_t lock; /* the table */
    struct talk_channel *channels[DEVICE_REGISTRY_MAX_DEVICES];
    int count;
};

/* A finished talk session, audited with no lock held. */
struct talk_session_end {
    bool ended;
    int64_t user_id;
    char username[TALK_USERNAME_MAX];
    char remote_address[48];
    int64_t duration_ms;
    const char *why;
};

struct talk_hub *talk_hub_create(struct device_registry *registry)
{
    struct talk_hub *hub = calloc(1, sizeof(*hub));

    if (hub == NULL)
        return NULL;
    hub->registry = registry;
    mutex_init_checked(&hub->lock);
    return hub;
}

void talk_hub_destroy(struct talk_hub *hub)
{
    if (hub == NULL)
        return;
    for (int i = 0; i < hub->count; i++) {
        struct talk_channel *channel = hub->channels[i];
        talk_queue_stop(channel->queue);
        pthread_mutex_destroy(&channel->lock);
        pthread_mutex_destroy(&channel->members_lock);
        free(channel);
    }
    pthread_mutex_destroy(&hub->lock);
    free(hub);
}

/* The channel of device_id, created (with its queue) when create is set.
 * NULL when absent, or the table full or out of memory. */
static struct talk_channel *talk_hub_channel(struct talk_hub *hub, const char *device_id,
                                             bool create)
{
    struct talk_channel *channel = NULL;

    pthread_mutex_lock(&hub->lock);
    for (int i = 0; i < hub->count; i++)
        if (strcmp(hub->channels[i]->device_id, device_id) == 0) {
            channel = hub->channels[i];
            goto out;
        }
    if (!create || hub->count == DEVICE_REGISTRY_MAX_DEVICES)
        goto out;
    channel = calloc(1, sizeof(*channel));
    if (channel == NULL)
        goto out;
    channel->hub = hub;
    snprintf(channel->device_id, sizeof(channel->device_id), "%s", device_id);
    channel->queue = talk_queue_start(hub->registry, device_id);
    if (channel->queue == NULL) {
        free(channel);
        channel = NULL;
        goto out;
    }
    mutex_init_checked(&channel->members_lock);
    mutex_init_checked(&channel->lock);
    hub->channels[hub->count++] = channel;
out:
    pthread_mutex_unlock(&hub->lock);
    return channel;
}

/* Is the doorbell's link up? Takes the registry's locks: call with none
 * of the talk locks held. */
static bool talk_doorbell_online(struct talk_hub *hub, const char *device_id)
{
    struct device_entry *entry = device_registry_acquire(hub->registry, device_id, 0);
    bool online;

    if (entry == NULL)
        return false;
    online = entry->online && entry->connection != NULL && !entry->revoked;
    device_entry_unlock(entry);
    return online;
}

/* Send text to one member. members_lock held. */
static void talk_member_send(struct talk_member *member, cJSON *json)
{
    char *text = json != NULL ? cJSON_PrintUnformatted(json) : NULL;

    if (text != NULL)
        member->send(member->connection, text, strlen(text));
    cJSON_free(text);
}

/* Send member the state as it is now. members_lock held, lock not. */
static void talk_member_send_state(struct talk_member *member, bool online)
{
    struct talk_channel *channel = member->channel;
    cJSON *json = cJSON_CreateObject();
    cJSON *talker;

    if (json == NULL)
        return;
    cJSON_AddStringToObject(json, "type", "state");
    pthread_mutex_lock(&channel->lock);
    if (channel->talker != NULL) {
        talker = cJSON_AddObjectToObject(json, "talker");
        cJSON_AddNumberToObject(talker, "user_id", (double)channel->talker->user_id);
        cJSON_AddStringToObject(talker, "username", channel->talker->username);
    } else {
        cJSON_AddNullToObject(json, "talker");
    }
    cJSON_AddBoolToObject(json, "you", channel->talker == member);
    channel->online_seen = online;
    pthread_mutex_unlock(&channel->lock);
    cJSON_AddBoolToObject(json, "doorbell_online", online);
    talk_member_send(member, json);
    cJSON_Delete(json);
}

/* Send every member the state. members_lock held. */
static void talk_channel_broadcast(struct talk_channel *channel, bool online)
{
    for (struct talk_member *member = channel->members; member != NULL; member = member->next)
        talk_member_send_state(member, online);
}

void talk_send_error(struct talk_member *member, const char *code, const char *message)
{
    cJSON *json = cJSON_CreateObject();

    cJSON_AddStringToObject(json, "type", "error");
    cJSON_AddStringToObject(json, "code", code);
    cJSON_AddStringToObject(json, "message", message);
    pthread_mutex_lock(&member->channel->members_lock);
    talk_member_send(member, json);
    pthread_mutex_unlock(&member->channel->members_lock);
    cJSON_Delete(json);
}

/* Lock held: the talker's session ends (why: stop, close, taken_over,
 * revoked); fill *end for the audit and free the floor. */
static void talk_channel_end_session(struct talk_channel *channel, const char *why,
                                     struct talk_session_end *end)
{
    struct talk_member *talker = channel->talker;

    mutex_assert_held(&channel->lock);
    end->ended = true;
    end->user_id = talker->user_id;
    snprintf(end->username, sizeof(end->username), "%s", talker->username);
    snprintf(end->remote_address, sizeof(end->remote_address), "%s", talker->remote_address);
    end->duration_ms = clock_monotonic_ms() - channel->talk_started_ms;
    end->why = why;
    channel->talker = NULL;
}

/* Audit a finished session (no lock held): action talk, who, doorbell, how long. */
static void talk_audit(const struct talk_channel *channel, const struct talk_session_end *end)
{
    char detail[96];

    if (!end->ended)
        return;
    snprintf(detail, sizeof(detail), "duration_ms=%lld end=%s", (long long)end->duration_ms,
             end->why);
    audit_record(database_thread_connection(), end->user_id, end->username, "talk",
                 channel->device_id, detail, end->remote_address);
    log_info("%s stopped talking through %s after %lld ms (%s)", end->username, channel->device_id,
             (long long)end->duration_ms, end->why);
}

struct talk_member *talk_join(struct talk_hub *hub, const char *device_id,
                              const struct talk_identity *who, talk_send_text send,
                              void *connection)
{
    struct talk_channel *channel = talk_hub_channel(hub, device_id, true);
    struct talk_member *member;
    bool online;

    if (channel == NULL)
        return NULL;
    member = calloc(1, sizeof(*member));
    if (member == NULL)
        return NULL;
    member->channel = channel;
    member->user_id = who->user_id;
    snprintf(member->username, sizeof(member->username), "%s", who->username);
    member->admin = who->admin;
    snprintf(member->remote_address, sizeof(member->remote_address), "%s",
             who->remote_address != NULL ? who->remote_address : "");
    member->send = send;
    member->connection = connection;
    online = talk_doorbell_online(hub, device_id);
    pthread_mutex_lock(&channel->members_lock);
    member->next = channel->members;
    channel->members = member;
    pthread_mutex_lock(&channel->lock);
    channel->stats.members++;
    pthread_mutex_unlock(&channel->lock);
    talk_member_send_state(member, online);
    pthread_mutex_unlock(&channel->members_lock);
    return member;
}

/* Give the floor back if member holds it, then tell everyone. */
static void talk_release(struct talk_member *member, const char *why, bool revoke, bool leave)
{
    struct talk_channel *channel = member->channel;
    struct talk_session_end end = {0};
    bool online = talk_doorbell_online(channel->hub, channel->device_id);

    pthread_mutex_lock(&channel->members_lock);
    pthread_mutex_lock(&channel->lock);
    if (revoke)
        member->revoked = true;
    if (channel->talker == member)
        talk_channel_end_session(channel, why, &end);
    if (leave)
        channel->stats.members--;
    pthread_mutex_unlock(&channel->lock);
    if (leave)
        for (struct talk_member **at = &channel->members; *at != NULL; at = &(*at)->next)
            if (*at == member) {
                *at = member->next;
                break;
            }
    if (end.ended)
        talk_channel_broadcast(channel, online);
    pthread_mutex_unlock(&channel->members_lock);
    talk_audit(channel, &end);
}

void talk_leave(struct talk_member *member)
{
    if (member == NULL)
        return;
    talk_release(member, "close", false, true);
    talk_encoder_free(member->encoder);
    free(member);
}

void talk_stop(struct talk_member *member)
{
    talk_release(member, "stop", false, false);
}

void talk_revoke(struct talk_member *member)
{
    talk_release(member, "revoked", true, false);
}

enum talk_start_result talk_start(struct talk_member *member, int codec, bool takeover)
{
    struct talk_channel *channel = member->channel;
    struct talk_session_end end = {0};
    struct talk_member *previous = NULL;
    enum talk_start_result result = TALK_START_OK;
    bool online;

    if (talk_codec_name(codec) == NULL) {
        talk_send_error(member, "bad_request", "codec must be \"opus\" or \"pcm16\"");
        return TALK_START_INVALID;
    }
    online = talk_doorbell_online(channel->hub, channel->device_id);
    if (!online) {
        talk_send_error(member, "offline", "the doorbell is not connected");
        return TALK_START_OFFLINE;
    }
    /* The connection thread owns the encoder: replaced before the floor
     * is taken, so the first packet finds it. */
    talk_encoder_free(member->encoder);
    member->encoder = NULL;
    if (codec == TALK_CODEC_PCM16 && (member->encoder = talk_encoder_create()) == NULL) {
        talk_send_error(member, "bad_request", "the hub cannot encode PCM now");
        return TALK_START_ERROR;
    }
    pthread_mutex_lock(&channel->members_lock);
    pthread_mutex_lock(&channel->lock);
    if (member->revoked) {
        result = TALK_START_INVALID;
    } else if (channel->talker != NULL && channel->talker != member &&
               !(takeover && member->admin)) {
        result = TALK_START_BUSY;
    } else {
        if (channel->talker != NULL && channel->talker != member) {
            previous = channel->talker;
            talk_channel_end_session(channel, "taken_over", &end);
        }
        if (channel->talker != member) {
            channel->talk_started_ms = clock_monotonic_ms();
            channel->stats.sessions++;
        }
        channel->talker = member;
        member->codec = codec;
        member->has_sequence = false;
    }
    pthread_mutex_unlock(&channel->lock);
    if (result == TALK_START_BUSY) {
        cJSON *json = cJSON_CreateObject();
        cJSON_AddStringToObject(json, "type", "error");
        cJSON_AddStringToObject(json, "code", "busy");
        cJSON_AddStringToObject(json, "message", "someone else is talking");
        talk_member_send(member, json);
        cJSON_Delete(json);
        talk_member_send_state(member, online);
    } else if (result == TALK_START_OK) {
        if (previous != NULL) {
            cJSON *json = cJSON_CreateObject();
            cJSON_AddStringToObject(json, "type", "error");
            cJSON_AddStringToObject(json, "code", "taken_over");
            cJSON_AddStringToObject(json, "message", "an admin took over the talk");
            talk_member_send(previous, json);
            cJSON_Delete(json);
        }
        talk_channel_broadcast(channel, online);
    }
    pthread_mutex_unlock(&channel->members_lock);
    talk_audit(channel, &end);
    if (result == TALK_START_OK)
        log_info("%s talks through %s (%s%s)", member->username, channel->device_id,
                 talk_codec_name(codec), previous != NULL ? ", taken over" : "");
    return result;
}

/* talk_encoder output: one 20 ms Opus frame to the queue. */
static void talk_floor_encoded(const uint8_t *packet, size_t size, uint64_t capture_us,
                               void *context)
{
    struct talk_member *member = context;
    talk_queue_push(member->channel->queue, packet, size, TALK_ENCODER_FRAME_SAMPLES, capture_us);
}

void talk_submit(struct talk_member *member, const uint8_t *data, size_t size)
{
    struct talk_channel *channel = member->channel;
    struct talk_packet packet;
    char reason[96];
    const char *refused = NULL;

    if (talk_packet_parse(data, size, &packet, reason, sizeof(reason)) != 0)
        refused = reason;
    pthread_mutex_lock(&channel->lock);
    channel->stats.packets_in++;
    if (refused == NULL && (member->revoked || channel->talker != member))
        refused = "from a socket that does not hold the floor";
    else if (refused == NULL && (int)packet.codec != member->codec)
        refused = "of a codec other than the one started";
    else if (refused == NULL && member->has_sequence &&
             !talk_packet_sequence_after(member->last_sequence, packet.sequence))
        refused = packet.sequence == member->last_sequence ? "a duplicate" : "out of order";
    if (refused != NULL) {
        channel->stats.dropped_invalid++;
    } else {
        member->has_sequence = true;
        member->last_sequence = packet.sequence;
    }
    pthread_mutex_unlock(&channel->lock);
    if (refused != NULL) {
        log_warn("talk to %s from %s: dropped a packet (%zu bytes): %s", channel->device_id,
                 member->username, size, refused);
        return;
    }
    if (packet.codec == TALK_CODEC_OPUS)
        talk_queue_push(channel->queue, packet.payload, packet.payload_size, packet.samples,
                        packet.capture_us);
    else if (member->encoder != NULL &&
             talk_encoder_push(member->encoder, packet.payload, packet.samples, packet.capture_us,
                               talk_floor_encoded, member) > 0)
        log_warn("talk to %s from %s: Opus could not encode a frame", channel->device_id,
                 member->username);
}

void talk_hub_check_links(struct talk_hub *hub)
{
    struct talk_channel *channels[DEVICE_REGISTRY_MAX_DEVICES];
    int count;

    pthread_mutex_lock(&hub->lock);
    count = hub->count;
    memcpy(channels, hub->channels, (size_t)count * sizeof(channels[0]));
    pthread_mutex_unlock(&hub->lock);
    for (int i = 0; i < count; i++) {
        struct talk_channel *channel = channels[i];
        bool online = talk_doorbell_online(hub, channel->device_id), changed;

        pthread_mutex_lock(&channel->members_lock);
        pthread_mutex_lock(&channel->lock);
        changed = channel->online_seen != online && channel->members != NULL;
        pthread_mutex_unlock(&channel->lock);
        if (changed) {
            log_info("talk: %s is %s; telling its talk sockets", channel->device_id,
                     online ? "online" : "offline");
            talk_channel_broadcast(channel, online);
        }
        pthread_mutex_unlock(&channel->members_lock);
    }
}

void talk_hub_get_stats(struct talk_hub *hub, const char *device_id, struct talk_stats *out)
{
    struct talk_channel *channel = talk_hub_channel(hub, device_id, false);
    struct talk_queue_stats queue;

    memset(out, 0, sizeof(*out));
    if (channel == NULL)
        return;
    pthread_mutex_lock(&channel->lock);
    *out = channel->stats;
    if (channel->talker != NULL) {
        out->talker_id = channel->talker->user_id;
        snprintf(out->talker, sizeof(out->talker), "%s", channel->talker->username);
    }
    pthread_mutex_unlock(&channel->lock);
    talk_queue_get_stats(channel->queue, &queue);
    out->forwarded = queue.forwarded;
    out->dropped_queue_full = queue.dropped_queue_full;
    out->dropped_offline = queue.dropped_offline;
}
