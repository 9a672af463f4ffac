/*
 * link_client.c - the doorbell's device-link client on libwebsockets (see
 * link_client.h for the threading contract).
 *
 * The link thread owns the lws context and the connection (wsi) and is the
 * only one that touches them. Other threads only append to the send queue
 * under client->lock and call lws_cancel_service() to wake the link thread,
 * which then asks lws for a writable callback and sends one message per
 * callback. Before the hub's WELCOME only the handshake slot (HELLO, AUTH)
 * is sent; video is never queued while disconnected. The queue itself, and
 * the send functions other threads call, are in link_client_queue.c; the
 * state both files share is in link_client_internal.h.
 */
#define LOG_MODULE "link"

#include "link/link_client.h"
#include "link/link_client_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <libwebsockets.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>

#include "common/error_text.h"
#include "common/clock.h"
#include "common/link_auth_key.h"
#include "link/link_tls_binding.h"
#include "common/log.h"
#include "common/mutex.h"

/* ---- link thread ---------------------------------------------------------- */

static void link_client_connect(lws_sorted_usec_list_t *timer);

/* Schedule the next connection attempt with jittered exponential backoff. */
static void link_client_schedule_reconnect(struct link_client *client)
{
    lws_usec_t delay = LINK_CLIENT_BACKOFF_MIN_US;
    uint32_t jitter = 0;

    if (atomic_load(&client->stopping))
        return;
    for (int i = 0; i < client->backoff_attempt && delay < LINK_CLIENT_BACKOFF_MAX_US; i++)
        delay *= 2;
    if (delay > LINK_CLIENT_BACKOFF_MAX_US)
        delay = LINK_CLIENT_BACKOFF_MAX_US;
    if (delay < client->backoff_floor_us)
        delay = client->backoff_floor_us;
    /* "Equal jitter": half fixed, half random, so many doorbells restarting
     * together do not hammer the hub in lockstep. */
    if (getrandom(&jitter, sizeof(jitter), 0) != sizeof(jitter))
        jitter = 0;
    delay = delay / 2 + (lws_usec_t)(jitter % (uint32_t)(delay / 2 + 1));
    client->backoff_attempt++;
    log_info("reconnecting to the hub in %.1f s", (double)delay / LWS_USEC_PER_SEC);
    lws_sul_schedule(client->context, 0, &client->reconnect_timer, link_client_connect, delay);
}

/* Mark the link down: drop video, forget the handshake, reconnect later. */
static void link_client_connection_lost(struct link_client *client)
{
    int was_up;

    pthread_mutex_lock(&client->lock);
    was_up = client->state != LINK_CLIENT_DISCONNECTED;
    client->state = LINK_CLIENT_DISCONNECTED;
    client->waiting_for_keyframe = 1;
    client->sub_waiting_for_keyframe = 1;
    if (was_up)
        client->stats.disconnects++;
    link_client_drop_video_locked(client);
    pthread_mutex_unlock(&client->lock);
    free(client->handshake);
    client->handshake = NULL;
    client->wsi = NULL;
    link_client_schedule_reconnect(client);
}

/* Keepalive: ping the hub after 10 s without a sign of life from it, give
 * up on the connection after 30 s (a hub that lost power sends no FIN).
 * Reconnection timing is ours (link_client_schedule_reconnect). */
static const lws_retry_bo_t link_client_keepalive = {
    .secs_since_valid_ping = 10,
    .secs_since_valid_hangup = 30,
};

/* lws timer callback: open a new connection to the hub. */
static void link_client_connect(lws_sorted_usec_list_t *timer)
{
    struct link_client *client = lws_container_of(timer, struct link_client, reconnect_timer);
    struct lws_client_connect_info info;
    char url[sizeof(client->hub_url)];
    const char *scheme, *address, *path;
    int port;

    if (atomic_load(&client->stopping))
        return;
    pthread_mutex_lock(&client->lock);
    if (client->target_changed) {
        client->target_changed = 0;
        memcpy(client->hub_url, client->target_url, sizeof(client->hub_url));
        memcpy(client->device_id, client->target_device_id, sizeof(client->device_id));
        memcpy(client->hub_key_sha256, client->target_hub_key_sha256,
               sizeof(client->hub_key_sha256));
        client->backoff_attempt = 0;
        client->backoff_floor_us = 0;
    }
    pthread_mutex_unlock(&client->lock);
    if (client->hub_url[0] == '\0')
        return; /* idle: no hub yet */
    memcpy(url, client->hub_url, sizeof(url));
    if (lws_parse_uri(url, &scheme, &address, &port, &path) != 0) {
        log_error("cannot parse hub URL %s", client->hub_url);
        return;
    }
    memset(&info, 0, sizeof(info));
    info.context = client->context;
    info.address = address;
    info.port = port;
    info.path = LINK_WEBSOCKET_PATH;
    info.host = address;
    info.local_protocol_name = "doorstep-link";
    info.pwsi = &client->wsi;
    info.userdata = client;
    info.retry_and_idle_policy = &link_client_keepalive;
    /* The hub's certificate is self-signed: identity comes from the key pin
     * (when configured) and, for the doorbell, from the HMAC handshake. */
    info.ssl_connection = LCCSCF_USE_SSL | LCCSCF_ALLOW_SELFSIGNED |
                          LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK | LCCSCF_ALLOW_EXPIRED;
    log_debug("connecting to %s:%d", address, port);
    if (lws_client_connect_via_info(&info) == NULL) {
        client->wsi = NULL;
        link_client_schedule_reconnect(client);
    }
}

int link_client_peer_key_sha256(struct lws *wsi, uint8_t digest[32])
{
    char buffer[sizeof(union lws_tls_cert_info_results) + 1024];
    union lws_tls_cert_info_results *result = (void *)buffer;

    if (lws_tls_peer_cert_info(wsi, LWS_TLS_CERT_INFO_OPAQUE_PUBLIC_KEY, result, 1024) != 0 ||
        mbedtls_sha256_ret((const unsigned char *)result->ns.name, (size_t)result->ns.len, digest,
                           0) != 0)
        return -1;
    return 0;
}

/* Check the hub's public key against the configured pin. 0 if fine. */
static int link_client_check_pin(struct link_client *client, struct lws *wsi)
{
    unsigned char digest[32];
    char hex[65];

    if (client->hub_key_sha256[0] == '\0')
        return 0;
    if (link_client_peer_key_sha256(wsi, digest) != 0)
        return -1;
    link_hex_encode(digest, sizeof(digest), hex);
    if (strcmp(hex, client->hub_key_sha256) != 0) {
        log_error("the hub's key %s does not match the pinned key %s; refusing", hex,
                  client->hub_key_sha256);
        return -1;
    }
    return 0;
}

/* Put a handshake message (HELLO/AUTH) in the priority slot and ask to write. */
static void link_client_send_handshake(struct link_client *client, uint8_t type, cJSON *json)
{
    free(client->handshake);
    client->handshake = link_client_message_json(type, 0, json);
    cJSON_Delete(json);
    if (client->wsi != NULL)
        lws_callback_on_writable(client->wsi);
}

/* CHALLENGE for a doorbell with a secret: the HMAC of the nonce. 0 or -1. */
static int link_client_answer_with_secret(struct link_client *client, const cJSON *json)
{
    const cJSON *nonce_item = cJSON_GetObjectItemCaseSensitive(json, "nonce");
    uint8_t nonce[LINK_NONCE_SIZE], mac[LINK_MAC_SIZE];
    char mac_hex[LINK_MAC_SIZE * 2 + 1];
    cJSON *auth;

    if (!cJSON_IsString(nonce_item) ||
        link_hex_decode(nonce_item->valuestring, nonce, sizeof(nonce)) != 0 ||
        link_auth_compute_mac(client->config.secret, nonce, client->device_id, mac) != 0) {
        log_warn("bad challenge from the hub");
        return -1;
    }
    link_hex_encode(mac, sizeof(mac), mac_hex);
    auth = cJSON_CreateObject();
    cJSON_AddStringToObject(auth, "mac", mac_hex);
    link_client_send_handshake(client, LINK_AUTH, auth);
    return 0;
}

/* CHALLENGE for a paired doorbell: sign the nonce bound to this TLS
 * session (common/link_auth_key.h). 0, or -1 to close. */
static int link_client_answer_with_key(struct link_client *client, const cJSON *json)
{
    struct link_challenge challenge;
    uint8_t binding[LINK_AUTH_KEY_BINDING_SIZE], digest[LINK_AUTH_KEY_DIGEST_SIZE];
    uint8_t signature[LINK_AUTH_KEY_SIGNATURE_SIZE];
    char reason[128];

    if (link_parse_challenge(json, &challenge, reason, sizeof(reason)) != 0) {
        log_warn("bad challenge from the hub: %s", reason);
        return -1;
    }
    if (link_tls_binding(client->wsi, binding, reason, sizeof(reason)) != 0 ||
        link_auth_key_digest(challenge.nonce, binding, client->device_id, digest) != 0 ||
        client->config.sign(digest, signature, client->config.sign_context) != 0) {
        log_warn("cannot sign the hub's challenge");
        return -1;
    }
    link_client_send_handshake(client, LINK_AUTH, link_auth_key_build(signature));
    return 0;
}

/* A whole message from the hub arrived. Returns -1 to close the link. */
static int link_client_handle(struct link_client *client, const uint8_t *data, size_t size)
{
    struct link_message message;
    struct link_command command;
    char reason[160];
    int rc = 0;

    if (link_message_decode(data, size, &message, reason, sizeof(reason)) != 0) {
        log_warn("bad message from the hub: %s", reason);
        return -1;
    }
    switch (message.header.type) {
    case LINK_CHALLENGE:
        rc = client->config.sign != NULL ? link_client_answer_with_key(client, message.json)
                                         : link_client_answer_with_secret(client, message.json);
        break;
    case LINK_WELCOME: {
        const cJSON *settings = cJSON_GetObjectItemCaseSensitive(message.json, "settings");
        const cJSON *preview = cJSON_GetObjectItemCaseSensitive(settings, LINK_PREVIEW_SETTING);
        const cJSON *detect = cJSON_GetObjectItemCaseSensitive(settings, LINK_DETECT_SETTING);
        pthread_mutex_lock(&client->lock);
        client->state = LINK_CLIENT_CONNECTED;
        client->preview_interval_ms = cJSON_IsNumber(preview) ? preview->valueint : 0;
        client->detect_fps = cJSON_IsNumber(detect) ? detect->valueint : 0;
        client->waiting_for_keyframe = 1;
        client->sub_waiting_for_keyframe = 1;
        client->stats.connects++;
        pthread_mutex_unlock(&client->lock);
        client->backoff_attempt = 0;
        client->backoff_floor_us = 0;
        log_info("connected to the hub as %s", client->device_id);
        if (client->config.on_connected != NULL)
            client->config.on_connected(client->config.callback_context);
        lws_callback_on_writable(client->wsi);
        break;
    }
    case LINK_ERROR: {
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(message.json, "code");
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(message.json, "reason");
        int auth_failed = cJSON_IsString(code) && strcmp(code->valuestring, "auth_failed") == 0;
        log_error("the hub closed the link: %.64s: %.200s",
                  cJSON_IsString(code) ? code->valuestring : "?",
                  cJSON_IsString(text) ? text->valuestring : "?");
        if (auth_failed) {
            pthread_mutex_lock(&client->lock);
            client->stats.auth_failures++;
            pthread_mutex_unlock(&client->lock);
            client->backoff_floor_us = LINK_CLIENT_AUTH_FAILED_MIN_US;
        }
        rc = -1;
        break;
    }
    case LINK_COMMAND:
        if (link_parse_command(message.json, &command, reason, sizeof(reason)) != 0) {
            log_warn("bad command from the hub: %s", reason);
            break;
        }
        if (client->config.on_command != NULL)
            client->config.on_command(&command, message.json, client->config.callback_context);
        break;
    case LINK_TALK_AUDIO:
        if (client->config.on_talk_audio != NULL)
            client->config.on_talk_audio(message.payload, message.payload_size,
                                         message.header.timestamp_us,
                                         client->config.callback_context);
        break;
    case LINK_QUICK_REPLY_DATA: {
        struct link_quick_reply_data chunk;
        if (link_quick_reply_data_parse(&message, &chunk, reason, sizeof(reason)) != 0)
            log_warn("bad quick reply chunk from the hub: %s", reason);
        else if (client->config.on_quick_reply_data != NULL)
            client->config.on_quick_reply_data(&chunk, client->config.callback_context);
        break;
    }
    default:
        log_warn("unexpected %s message from the hub", link_type_name(message.header.type));
        break;
    }
    link_message_clear(&message);
    return rc;
}

/* Write the next message: the handshake slot first, the queue once connected. */
static int link_client_write_next(struct link_client *client, struct lws *wsi)
{
    struct link_client_message *message = NULL;
    int more = 0, is_video = 0, is_sub = 0;

    if (client->handshake != NULL) {
        message = client->handshake;
        client->handshake = NULL;
    } else {
        pthread_mutex_lock(&client->lock);
        if (client->state == LINK_CLIENT_CONNECTED && client->queue_head != NULL) {
            message = client->queue_head;
            client->queue_head = message->next;
            if (client->queue_head == NULL)
                client->queue_tail = NULL;
            client->queue_bytes -= message->size;
        }
        pthread_mutex_unlock(&client->lock);
    }
    if (message == NULL)
        return 0;
    is_video = message->video != LINK_CLIENT_NOT_VIDEO;
    is_sub = message->video == LINK_CLIENT_SUB_VIDEO;
    if (lws_write(wsi, message->buffer + LWS_PRE, message->size, LWS_WRITE_BINARY) <
        (int)message->size) {
        free(message);
        log_warn("write to the hub failed");
        return -1;
    }
    free(message);
    pthread_mutex_lock(&client->lock);
    client->stats.messages_sent++;
    if (is_video)
        client->stats.video_sent++;
    if (is_sub)
        client->stats.sub_video_sent++;
    more = client->queue_head != NULL && client->state == LINK_CLIENT_CONNECTED;
    pthread_mutex_unlock(&client->lock);
    if (more || client->handshake != NULL)
        lws_callback_on_writable(wsi);
    return 0;
}

/* Collect a message that may arrive in several pieces; handle it when whole. */
static int link_client_receive(struct link_client *client, struct lws *wsi, const void *data,
                               size_t size)
{
    int rc = 0;

    if (lws_is_first_fragment(wsi)) {
        client->receive_used = 0;
        client->receive_overflow = 0;
    }
    if (client->receive_used + size > sizeof(client->receive))
        client->receive_overflow = 1;
    else {
        memcpy(client->receive + client->receive_used, data, size);
        client->receive_used += size;
    }
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) > 0)
        return 0;
    if (client->receive_overflow) {
        log_warn("message from the hub over %zu bytes; closing", sizeof(client->receive));
        rc = -1;
    } else {
        rc = link_client_handle(client, client->receive, client->receive_used);
    }
    client->receive_used = 0;
    return rc;
}

/* 1 if link_client_set_target() left a target not yet taken. */
static int link_client_target_pending(struct link_client *client)
{
    int pending;

    pthread_mutex_lock(&client->lock);
    pending = client->target_changed;
    pthread_mutex_unlock(&client->lock);
    return pending;
}

void link_client_set_target(struct link_client *client, const char *url, const char *device_id,
                            const char *hub_key_sha256)
{
    pthread_mutex_lock(&client->lock);
    snprintf(client->target_url, sizeof(client->target_url), "%s", url != NULL ? url : "");
    snprintf(client->target_device_id, sizeof(client->target_device_id), "%s",
             device_id != NULL ? device_id : "");
    snprintf(client->target_hub_key_sha256, sizeof(client->target_hub_key_sha256), "%s",
             hub_key_sha256 != NULL ? hub_key_sha256 : "");
    client->target_changed = 1;
    pthread_mutex_unlock(&client->lock);
    link_client_wake(client);
}

/* The libwebsockets protocol callback; link thread only. */
static int link_client_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                                void *in, size_t length)
{
    struct link_client *client = lws_context_user(lws_get_context(wsi));
    cJSON *hello;

    (void)user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        if (link_client_check_pin(client, wsi) != 0) {
            client->backoff_floor_us = LINK_CLIENT_AUTH_FAILED_MIN_US;
            return -1;
        }
        pthread_mutex_lock(&client->lock);
        client->state = LINK_CLIENT_HANDSHAKE;
        pthread_mutex_unlock(&client->lock);
        hello = cJSON_CreateObject();
        cJSON_AddStringToObject(hello, "device_id", client->device_id);
        cJSON_AddStringToObject(hello, "firmware", client->firmware);
        cJSON_AddNumberToObject(hello, "protocol", LINK_PROTOCOL_VERSION);
        cJSON_AddNumberToObject(hello, "width", client->config.width);
        cJSON_AddNumberToObject(hello, "height", client->config.height);
        cJSON_AddNumberToObject(hello, "fps", client->config.fps);
        cJSON_AddNumberToObject(hello, "audio_channels", client->config.audio_channels);
        if (client->config.sub_fps > 0) {
            cJSON_AddNumberToObject(hello, "sub_width", client->config.sub_width);
            cJSON_AddNumberToObject(hello, "sub_height", client->config.sub_height);
            cJSON_AddNumberToObject(hello, "sub_fps", client->config.sub_fps);
        }
        /* doorbelld tags the snapshot of every event start (main.c, snapshot_queue.h). */
        cJSON_AddTrueToObject(hello, "event_snapshots");
        if (client->config.sign != NULL)
            cJSON_AddStringToObject(hello, "auth", "key");
        link_client_send_handshake(client, LINK_HELLO, hello);
        break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        log_warn("cannot reach the hub: %.200s", in ? (const char *)in : "unknown error");
        link_client_connection_lost(client);
        break;
    case LWS_CALLBACK_CLIENT_CLOSED:
        log_info("link to the hub closed");
        link_client_connection_lost(client);
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        return link_client_receive(client, wsi, in, length);
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        return link_client_write_next(client, wsi);
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        /* Another thread queued something, gave a new target (or we are
         * stopping). */
        if (client != NULL && link_client_target_pending(client)) {
            if (client->wsi != NULL)
                lws_set_timeout(client->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
            else
                lws_sul_schedule(client->context, 0, &client->reconnect_timer, link_client_connect,
                                 1);
        } else if (client != NULL && client->wsi != NULL) {
            lws_callback_on_writable(client->wsi);
        }
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols link_client_protocols[] = {
    {"doorstep-link", link_client_callback, 0, 64 * 1024, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* Route libwebsockets' own warnings into our log. */
static void link_client_lws_log(int level, const char *line)
{
    char text[512];
    size_t length;

    snprintf(text, sizeof(text), "%s", line);
    length = strlen(text);
    while (length > 0 && (text[length - 1] == '\n' || text[length - 1] == '\r'))
        text[--length] = '\0';
    if (level & LLL_ERR)
        log_message(LOG_LEVEL_WARN, "lws", "%s", text);
    else
        log_message(LOG_LEVEL_DEBUG, "lws", "%s", text);
}

/* The link thread: run libwebsockets until asked to stop. */
static void *link_client_thread(void *data)
{
    struct link_client *client = data;

    lws_sul_schedule(client->context, 0, &client->reconnect_timer, link_client_connect, 1);
    while (!atomic_load(&client->stopping))
        if (lws_service(client->context, 0) < 0)
            break;
    return NULL;
}

struct link_client *link_client_start(const struct link_client_config *config, char *error,
                                      size_t error_size)
{
    struct link_client *client = calloc(1, sizeof(*client));
    struct lws_context_creation_info info;

    if (client == NULL) {
        error_text_set(error, error_size, "out of memory");
        return NULL;
    }
    client->config = *config;
    if (client->config.queue_limit_bytes == 0)
        client->config.queue_limit_bytes = LINK_CLIENT_DEFAULT_QUEUE_LIMIT;
    if (config->hub_url != NULL && (strncmp(config->hub_url, "wss://", 6) != 0 ||
                                    snprintf(client->hub_url, sizeof(client->hub_url), "%s",
                                             config->hub_url) >= (int)sizeof(client->hub_url))) {
        error_text_set(error, error_size, "the hub URL must look like wss://HOST:PORT");
        goto fail;
    }
    snprintf(client->device_id, sizeof(client->device_id), "%s",
             config->device_id != NULL ? config->device_id : "");
    snprintf(client->firmware, sizeof(client->firmware), "%s", config->firmware);
    if (config->hub_key_sha256 != NULL)
        snprintf(client->hub_key_sha256, sizeof(client->hub_key_sha256), "%s",
                 config->hub_key_sha256);
    client->config.hub_url = client->hub_url;
    client->config.device_id = client->device_id;
    client->config.firmware = client->firmware;
    client->config.hub_key_sha256 = client->hub_key_sha256;
    client->waiting_for_keyframe = 1;
    client->sub_waiting_for_keyframe = 1;
    mutex_init_checked(&client->lock);

    lws_set_log_level(LLL_ERR | LLL_WARN, link_client_lws_log);
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = link_client_protocols;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.user = client;
    info.fd_limit_per_thread = 8;
    client->context = lws_create_context(&info);
    if (client->context == NULL) {
        error_text_set(error, error_size, "libwebsockets did not start");
        goto fail_mutex;
    }
    if (pthread_create(&client->thread, NULL, link_client_thread, client) != 0) {
        error_text_set(error, error_size, "cannot start the link thread");
        lws_context_destroy(client->context);
        goto fail_mutex;
    }
    return client;

fail_mutex:
    pthread_mutex_destroy(&client->lock);
fail:
    mbedtls_platform_zeroize(client, sizeof(*client));
    free(client);
    return NULL;
}

void link_client_stop(struct link_client *client)
{
    struct link_client_message *message;

    if (client == NULL)
        return;
    atomic_store(&client->stopping, 1);
    lws_cancel_service(client->context);
    pthread_join(client->thread, NULL);
    lws_context_destroy(client->context);
    free(client->handshake);
    while ((message = client->queue_head) != NULL) {
        client->queue_head = message->next;
        free(message);
    }
    pthread_mutex_destroy(&client->lock);
    mbedtls_platform_zeroize(client->config.secret, sizeof(client->config.secret));
    free(client);
}

/* The detect frames per second the hub asked for, 0 while not connected or
 * for a hub that takes none (or names a rate outside 1..8). Any thread. */
int link_client_detect_fps(struct link_client *client)
{
    int fps;

    pthread_mutex_lock(&client->lock);
    fps = client->state == LINK_CLIENT_CONNECTED ? client->detect_fps : 0;
    pthread_mutex_unlock(&client->lock);
    return fps >= LINK_DETECT_FPS_MIN && fps <= LINK_DETECT_FPS_MAX ? fps : 0;
}

/* The hub's preview interval in ms, 0 while not connected or for a hub that
 * takes no previews. Any thread. */
int link_client_preview_interval_ms(struct link_client *client)
{
    int interval;

    pthread_mutex_lock(&client->lock);
    interval = client->state == LINK_CLIENT_CONNECTED ? client->preview_interval_ms : 0;
    pthread_mutex_unlock(&client->lock);
    return interval >= LINK_PREVIEW_INTERVAL_MIN_MS && interval <= LINK_PREVIEW_INTERVAL_MAX_MS
               ? interval
               : 0;
}
