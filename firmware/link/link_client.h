/*
 * link_client.h - the doorbell's end of the device link (docs/protocol.md):
 * a libwebsockets client over TLS to the hub, with authentication, a bounded
 * send queue and reconnection with jittered exponential backoff.
 *
 * Threads: link_client_start() creates the link thread, which alone runs
 * libwebsockets. Any other thread (capture, control) may call the
 * link_client_send_* functions: they copy the message into the queue under
 * client->lock and wake the link thread; they never block on the network, so
 * capture is never held up by a slow or absent hub. Commands from the hub are
 * delivered on the link thread through the callback.
 */
#ifndef DOORSTEP_LINK_CLIENT_H
#define DOORSTEP_LINK_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/link_protocol.h"

struct link_client;

/* Called on the link thread for each command from the hub. */
typedef void (*link_client_command_callback)(const struct link_command *command, const cJSON *json,
                                             void *context);

/* Called on the link thread when the hub accepted us (WELCOME). */
typedef void (*link_client_connected_callback)(void *context);

/* Called on the link thread for each talk-back Opus packet from the hub. */
typedef void (*link_client_talk_callback)(const uint8_t *packet, size_t size, uint64_t timestamp_us,
                                          void *context);

/* Called on the link thread for each QUICK_REPLY_DATA chunk (payload borrowed). */
typedef void (*link_client_quick_reply_callback)(const struct link_quick_reply_data *chunk,
                                                 void *context);

/* A paired doorbell's signer: ECDSA P-256 over digest (32 bytes), r || s
 * into signature (64 bytes). 0 or -1. Link thread. */
typedef int (*link_client_sign_callback)(const uint8_t *digest, uint8_t *signature, void *context);

struct link_client_config {
    const char *hub_url; /* wss://host:port; NULL: idle until link_client_set_target() */
    const char *device_id;
    uint8_t secret[LINK_SECRET_SIZE]; /* without sign: the legacy HMAC secret */
    link_client_sign_callback sign;   /* set: authenticate with the device key */
    void *sign_context;
    const char *hub_key_sha256; /* optional pin: hex SHA-256 of the hub's public key */
    const char *firmware;       /* version string for HELLO */
    int width, height, fps;
    int audio_channels;                 /* announced in HELLO: 0 = no microphone */
    int sub_width, sub_height, sub_fps; /* the sub-stream announced in HELLO; 0 = none */
    size_t queue_limit_bytes;           /* default 8 MiB */
    link_client_command_callback on_command;
    link_client_connected_callback on_connected;
    link_client_talk_callback on_talk_audio;
    link_client_quick_reply_callback on_quick_reply_data;
    void *callback_context;
};

struct link_client_stats {
    uint64_t video_sent, video_dropped, messages_sent;
    uint64_t sub_video_sent; /* of video_sent, the sub-stream's */
    uint64_t connects, disconnects, auth_failures;
    int connected; /* 1 once WELCOME arrived, until the link drops */
};

/* Start the link thread. NULL with a reason on failure. Copies config. */
struct link_client *link_client_start(const struct link_client_config *config, char *error,
                                      size_t error_size);

/* Point a key-authenticated client at a hub (url wss://HOST:PORT, the
 * doorbell's device id and the hub key's hex SHA-256 pin), or make it idle
 * (url NULL): a connection to another target is closed and the next one
 * uses the new target. Any thread. */
void link_client_set_target(struct link_client *client, const char *url, const char *device_id,
                            const char *hub_key_sha256);

/* Stop the link thread, close the connection, free everything. */
void link_client_stop(struct link_client *client);

/*
 * Queue one video access unit. Dropped (and counted) when not connected, or
 * when the queue is over its limit; after a drop, frames are dropped until the
 * next keyframe so the hub never gets a P-frame whose reference is missing.
 * Returns 1 if queued; 0 if dropped because the link is congested or waits
 * for a keyframe (the caller should ask the encoder for an IDR); -1 if
 * dropped because the hub is not connected (on_connected asks for the IDR).
 */
int link_client_send_video(struct link_client *client, const uint8_t *data, size_t size,
                           int keyframe, uint32_t sequence, uint64_t capture_time_us);

/*
 * Queue one sub-stream access unit (LINK_FLAG_SUB_STREAM): as
 * link_client_send_video, with its own wait for a keyframe, and dropped
 * first when the link is congested (it may fill only half the queue, and
 * queued sub-stream video makes room for the main stream's).
 */
int link_client_send_sub_video(struct link_client *client, const uint8_t *data, size_t size,
                               int keyframe, uint32_t sequence, uint64_t capture_time_us);

/* Queue a binary message (snapshot, audio). 0 queued, -1 dropped. */
int link_client_send_binary(struct link_client *client, uint8_t type, uint32_t sequence,
                            uint64_t timestamp_us, const void *data, size_t size);

/* Queue a JSON message (event, telemetry, command result). 0 queued, -1 dropped. */
int link_client_send_json(struct link_client *client, uint8_t type, uint32_t sequence,
                          const cJSON *json);

/* SHA-256 of the TLS peer's public key (DER SubjectPublicKeyInfo) on a
 * libwebsockets client connection, into digest (32 bytes). 0 or -1. The
 * thread that runs wsi's context. */
struct lws;
int link_client_peer_key_sha256(struct lws *wsi, uint8_t digest[32]);

/* The WELCOME's preview interval (LINK_PREVIEW_SETTING, ms) while connected;
 * 0 when not connected or the hub takes no previews. Thread-safe. */
int link_client_preview_interval_ms(struct link_client *client);

/* The WELCOME's detect frame rate (LINK_DETECT_SETTING, 1..8 per second)
 * while connected; 0 when not connected or the hub takes none. Thread-safe. */
int link_client_detect_fps(struct link_client *client);

/* Copy the counters. Thread-safe. */
void link_client_get_stats(struct link_client *client, struct link_client_stats *out);

#endif
