/*
 * doorbell_link.c - what the doorbell does with what the hub sends: link
 * commands (docs/protocol.md, "COMMAND"), each answered with one
 * COMMAND_RESULT; the start of a connection; talk-back audio for the
 * speaker. Also the microphone's packets on their way up the link.
 *
 * Threads: the link thread (link_client.c) calls the command, connection and
 * talk-back callbacks; the audio capture thread calls doorbell_link_on_audio.
 * They only pass requests on (capture-thread atomics, the snapshot queue, the
 * motion runner's settings, the encoder's keyframe request, the speaker's
 * queue), each guarded by its owner. Result trees are built and freed here.
 */
#define LOG_MODULE "doorbelld"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "audio/audio_playback.h"
#include "common/error_text.h"
#include "common/log.h"
#include "common/motion_config.h"
#include "doorbell/doorbell.h"
#include "encoder/encoder.h"
#include "encoder/sub_stream.h"
#include "link/link_client.h"
#include "motion/motion_runner.h"
#include "replies/reply_cache.h"
#include "replies/reply_player.h"
#include "snapshot/snapshot_queue.h"

/* Carry out one command; 1 if done, else 0 with the reason written. */
static int doorbell_link_execute(struct doorbell *doorbell, const struct link_command *command,
                                 char *reason, size_t reason_size)
{
    struct motion_config motion;

    switch (command->type) {
    case LINK_COMMAND_SET_MOTION:
        /* The same parser as the hub's; a refused config leaves the old one. */
        if (motion_config_from_json(command->motion, &motion, reason, reason_size) != 0) {
            log_warn("motion settings refused: %s", reason);
            return 0;
        }
        motion_runner_set_config(doorbell->motion, &motion);
        return 1;
    case LINK_COMMAND_SNAPSHOT:
        snapshot_queue_add_command(&doorbell->snapshots, command->request_id);
        return 1;
    case LINK_COMMAND_KEYFRAME:
        encoder_request_keyframe(doorbell->encoder);
        if (doorbell->sub != NULL)
            sub_stream_request_keyframe(doorbell->sub);
        return 1;
    case LINK_COMMAND_QUICK_REPLY:
        if (doorbell->reply_player == NULL ||
            reply_player_play(doorbell->reply_player, command->reply_id, command->reply_version,
                              reason, reason_size) != 0) {
            log_warn("quick reply %u not played: %s", command->reply_id, reason);
            return 0;
        }
        log_info("playing quick reply %u", command->reply_id);
        return 1;
    case LINK_COMMAND_AUTO_REPLY:
        if (doorbell->reply_player != NULL)
            reply_player_set_auto(doorbell->reply_player, command->reply_id, command->reply_version,
                                  command->delay_s);
        log_info("auto-reply: %s %u after %d s", command->reply_id != 0 ? "reply" : "none",
                 command->reply_id, command->delay_s);
        return 1;
    case LINK_COMMAND_ANSWERED:
        if (doorbell->reply_player != NULL)
            reply_player_answered(doorbell->reply_player);
        return 1;
    case LINK_COMMAND_STREAM_ON:
    case LINK_COMMAND_STREAM_OFF:
        if (strcmp(command->stream, "sub") != 0) {
            error_text_set(reason, reason_size, "only the sub-stream turns on and off");
            return 0;
        }
        if (doorbell->sub == NULL) {
            error_text_set(reason, reason_size, "no sub-stream");
            return 0;
        }
        sub_stream_set_wanted(doorbell->sub, command->type == LINK_COMMAND_STREAM_ON);
        return 1;
    case LINK_COMMAND_SET_VIDEO:
        if (strcmp(command->stream, "sub") == 0) {
            if (doorbell->sub == NULL) {
                error_text_set(reason, reason_size, "no sub-stream");
                return 0;
            }
            sub_stream_request_format(doorbell->sub, command->bitrate_kbps, command->width,
                                      command->height, command->fps);
            return 1;
        }
        if (command->bitrate_kbps > 0)
            atomic_store(&doorbell->reconfigure_bitrate_kbps, command->bitrate_kbps);
        if (command->fps > 0)
            atomic_store(&doorbell->reconfigure_fps, command->fps);
        if (command->width > 0 && command->height > 0) {
            atomic_store(&doorbell->reconfigure_height, command->height);
            atomic_store(&doorbell->reconfigure_width, command->width);
        }
        return 1;
    }
    error_text_set(reason, reason_size,
                   "unsupported"); /* the parser knows more than this firmware */
    return 0;
}

/* Link thread: a command from the hub, answered with one COMMAND_RESULT
 * {id, ok, reason if refused} (a tree built and freed here). context is the
 * doorbell. */
void doorbell_link_on_command(const struct link_command *command, const cJSON *json, void *context)
{
    struct doorbell *doorbell = context;
    char reason[LINK_TEXT_MAX] = "";
    cJSON *result;
    int ok;

    (void)json;
    ok = doorbell_link_execute(doorbell, command, reason, sizeof(reason));
    log_debug("command %s: %s", link_command_type_name(command->type), ok ? "done" : "refused");
    result = cJSON_CreateObject();
    if (result == NULL || cJSON_AddNumberToObject(result, "id", command->id) == NULL ||
        cJSON_AddBoolToObject(result, "ok", ok) == NULL ||
        (!ok && cJSON_AddStringToObject(result, "reason", reason) == NULL)) {
        log_warn("no memory for the result of command %u", command->id);
        goto out;
    }
    link_client_send_json(doorbell->link, LINK_COMMAND_RESULT, command->id, result);
out:
    cJSON_Delete(result);
}

/* Link thread: the hub accepted us; start the stream on a keyframe, and
 * the sub-stream off until this hub asks for it (stream_on). */
void doorbell_link_on_connected(void *context)
{
    struct doorbell *doorbell = context;
    encoder_request_keyframe(doorbell->encoder);
    if (doorbell->sub != NULL)
        sub_stream_set_wanted(doorbell->sub, 0);
}

/* Link thread: talk-back from the hub goes to the speaker. */
void doorbell_link_on_talk_audio(const uint8_t *packet, size_t size, uint64_t timestamp_us,
                                 void *context)
{
    struct doorbell *doorbell = context;
    if (doorbell->speaker != NULL)
        audio_playback_push(doorbell->speaker, packet, size, timestamp_us);
}

/* Link thread: a chunk of a quick reply goes to the cache. */
void doorbell_link_on_quick_reply_data(const struct link_quick_reply_data *chunk, void *context)
{
    struct doorbell *doorbell = context;
    char reason[128];
    int rc = reply_cache_take_chunk(doorbell->replies, chunk, reason, sizeof(reason));

    if (rc < 0)
        log_warn("quick reply %u refused: %s", chunk->reply_id, reason);
    else if (rc == 1)
        log_info("quick reply %u version %u cached (%u bytes)", chunk->reply_id, chunk->version,
                 chunk->total);
}

/* Audio capture thread: one Opus packet from the microphone up the link. */
void doorbell_link_on_audio(const uint8_t *packet, size_t size, uint64_t capture_time_us,
                            void *context)
{
    struct doorbell *doorbell = context;
    link_client_send_binary(doorbell->link, LINK_AUDIO,
                            atomic_fetch_add(&doorbell->audio_sequence, 1), capture_time_us, packet,
                            size);
}
