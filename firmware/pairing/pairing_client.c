/*
 * pairing_client.c - the doorbell's pairing connection (see
 * pairing_client.h) on libwebsockets, set up as the device link's client
 * is (firmware/link/link_client.c): TLS to a self-signed hub, keepalive
 * pings, one whole message per WebSocket frame.
 *
 * The pairing thread owns the lws context, the connection and every field
 * of struct pairing_client but `finished` and `stopping` (atomics). A
 * connection goes AWAIT_SHARE_P -> AWAIT_CONFIRM_P -> AWAIT_HUB_INFO; an
 * attempt counts as a wrong code when SHARE_V went out and no valid
 * CONFIRM_P came back (a wrong confirmation, ERROR wrong_code, or the
 * connection dropped). The SPAKE2+ session, K_shared, K_mac and the new
 * key pair are wiped when the connection ends.
 */
#define LOG_MODULE "pairing"

#include "pairing/pairing_client.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <libwebsockets.h>
#include <mbedtls/platform_util.h>

#include "common/error_text.h"
#include "common/link_protocol.h"
#include "common/log.h"
#include "common/pair_protocol.h"
#include "link/link_client.h"
#include "pairing/pairing.h"
#include "pairing/pairing_key.h"

#define PAIRING_CLIENT_BACKOFF_MIN_US (500 * LWS_US_PER_MS)
#define PAIRING_CLIENT_BACKOFF_MAX_US (10 * LWS_USEC_PER_SEC)
#define PAIRING_CLIENT_RECEIVE_MAX    4096

enum pairing_client_state {
    PAIRING_CLIENT_IDLE,
    PAIRING_CLIENT_AWAIT_SHARE_P,
    PAIRING_CLIENT_AWAIT_CONFIRM_P,
    PAIRING_CLIENT_AWAIT_HUB_INFO,
    PAIRING_CLIENT_DONE,
};

struct pairing_client {
    struct pairing *pairing;
    char firmware[LINK_TEXT_MAX];
    pthread_t thread;
    atomic_int stopping;

    /* Pairing thread only. */
    struct lws_context *context;
    struct lws *wsi;
    lws_sorted_usec_list_t reconnect_timer;
    lws_sorted_usec_list_t watch_timer; /* closes a waiting connection once the mode closes */
    int backoff_attempt;
    enum pairing_client_state state;
    struct pairing_identity identity;
    uint8_t seen_key[PAIR_HASH_SIZE]; /* SHA-256 of the key this connection's TLS showed */
    struct spake2plus *session;
    uint8_t mac_key[PAIR_KEY_SIZE];
    mbedtls_ecp_keypair key;
    int close_after_send;
    uint8_t *outgoing; /* LWS_PRE + message, or NULL */
    size_t outgoing_size;
    uint8_t receive[PAIRING_CLIENT_RECEIVE_MAX];
    size_t receive_used;
    int receive_overflow;
};

static void pairing_client_connect(lws_sorted_usec_list_t *timer);

/* Forget everything of the connection that ended; wipe its secrets. */
static void pairing_client_reset(struct pairing_client *client)
{
    spake2plus_free(client->session);
    client->session = NULL;
    mbedtls_platform_zeroize(client->mac_key, sizeof(client->mac_key));
    mbedtls_ecp_keypair_free(&client->key);
    mbedtls_ecp_keypair_init(&client->key);
    mbedtls_platform_zeroize(&client->identity, sizeof(client->identity));
    free(client->outgoing);
    client->outgoing = NULL;
    client->close_after_send = 0;
    client->receive_used = 0;
    client->receive_overflow = 0;
    client->wsi = NULL;
}

/* Try again later (jittered exponential backoff), unless done or stopping. */
static void pairing_client_schedule(struct pairing_client *client)
{
    lws_usec_t delay = PAIRING_CLIENT_BACKOFF_MIN_US;
    uint32_t jitter = 0;

    if (atomic_load(&client->stopping))
        return;
    for (int i = 0; i < client->backoff_attempt && delay < PAIRING_CLIENT_BACKOFF_MAX_US; i++)
        delay *= 2;
    if (delay > PAIRING_CLIENT_BACKOFF_MAX_US)
        delay = PAIRING_CLIENT_BACKOFF_MAX_US;
    if (getrandom(&jitter, sizeof(jitter), 0) != sizeof(jitter))
        jitter = 0;
    delay = delay / 2 + (lws_usec_t)(jitter % (uint32_t)(delay / 2 + 1));
    client->backoff_attempt++;
    lws_sul_schedule(client->context, 0, &client->reconnect_timer, pairing_client_connect, delay);
}

/* Queue json as a message of type (one at a time: the protocol alternates).
 * Deletes json. 0, or -1 if it cannot be built. */
static int pairing_client_send(struct pairing_client *client, uint8_t type, cJSON *json)
{
    size_t size = 0;
    uint8_t *message =
        json != NULL ? link_message_encode_json(type, 0, 0, json, LWS_PRE, &size) : NULL;

    cJSON_Delete(json);
    if (message == NULL)
        return -1;
    free(client->outgoing);
    client->outgoing = message;
    client->outgoing_size = size;
    if (client->wsi != NULL)
        lws_callback_on_writable(client->wsi);
    return 0;
}

/* Send ERROR code and close once it is out. Returns 0. */
static int pairing_client_refuse(struct pairing_client *client, const char *code,
                                 const char *reason)
{
    struct link_error error;

    memset(&error, 0, sizeof(error));
    snprintf(error.code, sizeof(error.code), "%s", code);
    snprintf(error.reason, sizeof(error.reason), "%s", reason);
    client->close_after_send = 1;
    if (pairing_client_send(client, LINK_ERROR, link_build_error(&error)) != 0)
        return -1;
    return 0;
}

/* Connected: check pairing mode, note the hub's key, say PAIR_HELLO. */
static int pairing_client_established(struct pairing_client *client, struct lws *wsi)
{
    struct pair_hello hello;

    if (!pairing_mode_open(client->pairing))
        return -1;
    if (link_client_peer_key_sha256(wsi, client->seen_key) != 0) {
        log_warn("cannot read the hub's TLS key");
        return -1;
    }
    pairing_identity_copy(client->pairing, &client->identity);
    memset(&hello, 0, sizeof(hello));
    hello.protocol = PAIR_PROTOCOL_VERSION;
    memcpy(hello.device_id, client->identity.device_id, sizeof(hello.device_id));
    snprintf(hello.model, sizeof(hello.model), "%s", pairing_model(client->pairing));
    snprintf(hello.firmware, sizeof(hello.firmware), "%s", client->firmware);
    memcpy(hello.salt, client->identity.record.salt, sizeof(hello.salt));
    hello.parameters = client->identity.record.parameters;
    client->state = PAIRING_CLIENT_AWAIT_SHARE_P;
    client->backoff_attempt = 0;
    log_info("waiting for the setup code at the hub (device id %s)", hello.device_id);
    return pairing_client_send(client, LINK_PAIR_HELLO, pair_build_hello(&hello));
}

/* PAIR_SHARE_P: answer as the verifier. 0, or -1 to close. */
static int pairing_client_on_share_p(struct pairing_client *client, const cJSON *json)
{
    char prover[PAIR_IDENTITY_SIZE], verifier[PAIR_IDENTITY_SIZE], reason[160];
    struct spake2plus_identities identities;
    struct pair_share_p share_p;
    struct pair_share_v share_v;

    if (!pairing_mode_open(client->pairing))
        return pairing_client_refuse(client, PAIR_ERROR_CODE_PAIRING_CLOSED,
                                     "pairing mode is closed; hold the button 10 s");
    if (pair_parse_share_p(json, &share_p, reason, sizeof(reason)) != 0 ||
        pair_prover_identity(client->seen_key, prover, sizeof(prover)) < 0 ||
        pair_verifier_identity(client->identity.device_id, verifier, sizeof(verifier)) < 0)
        return pairing_client_refuse(client, PAIR_ERROR_CODE_PROTOCOL, "bad pair_share_p");
    pair_identities(&identities, prover, verifier);
    spake2plus_free(client->session);
    client->session = spake2plus_verifier_new(&identities, client->identity.record.w0,
                                              client->identity.record.l, reason, sizeof(reason));
    if (client->session == NULL ||
        spake2plus_verifier_respond(client->session, share_p.share_p, sizeof(share_p.share_p),
                                    share_v.share_v, sizeof(share_v.share_v), share_v.confirm_v,
                                    sizeof(share_v.confirm_v), reason, sizeof(reason)) != 0)
        return pairing_client_refuse(client, PAIR_ERROR_CODE_PROTOCOL, reason);
    client->state = PAIRING_CLIENT_AWAIT_CONFIRM_P;
    return pairing_client_send(client, LINK_PAIR_SHARE_V, pair_build_share_v(&share_v));
}

/* A wrong code: count it, and leave if pairing mode closed. 0 or -1. */
static int pairing_client_wrong_code(struct pairing_client *client)
{
    spake2plus_free(client->session);
    client->session = NULL;
    client->state = PAIRING_CLIENT_AWAIT_SHARE_P;
    pairing_wrong_code(client->pairing);
    if (!pairing_mode_open(client->pairing))
        return pairing_client_refuse(client, PAIR_ERROR_CODE_PAIRING_CLOSED,
                                     "too many wrong codes; hold the button 10 s");
    return 0;
}

/* PAIR_CONFIRM_P: check the hub knew the code; send our new key. */
static int pairing_client_on_confirm_p(struct pairing_client *client, const cJSON *json)
{
    struct pair_device_key device_key;
    struct pair_confirm_p confirm_p;
    uint8_t shared_key[SPAKE2PLUS_KEY_SIZE];
    char reason[160];
    int result;

    if (pair_parse_confirm_p(json, &confirm_p, reason, sizeof(reason)) != 0 ||
        spake2plus_verifier_finish(client->session, confirm_p.confirm_p,
                                   sizeof(confirm_p.confirm_p), reason, sizeof(reason)) != 0) {
        struct link_error error = {PAIR_ERROR_CODE_WRONG_CODE, "confirmP does not match"};
        log_warn("pairing: %s", reason);
        pairing_client_send(client, LINK_ERROR, link_build_error(&error));
        return pairing_client_wrong_code(client);
    }
    result = spake2plus_shared_key(client->session, shared_key, sizeof(shared_key), reason,
                                   sizeof(reason));
    if (result == 0)
        result = pair_mac_key(shared_key, client->mac_key);
    mbedtls_platform_zeroize(shared_key, sizeof(shared_key));
    if (result != 0 ||
        pairing_key_generate(&client->key, device_key.public_key, reason, sizeof(reason)) != 0 ||
        pair_device_key_mac(client->mac_key, device_key.public_key, device_key.mac) != 0)
        return pairing_client_refuse(client, "internal", "cannot make the device key");
    client->state = PAIRING_CLIENT_AWAIT_HUB_INFO;
    return pairing_client_send(client, LINK_PAIR_DEVICE_KEY, pair_build_device_key(&device_key));
}

/* PAIR_HUB_INFO: check it, keep the key and the hub, close pairing mode. */
static int pairing_client_on_hub_info(struct pairing_client *client, const cJSON *json)
{
    uint8_t expected[PAIR_MAC_SIZE];
    struct pair_hub_info hub_info;
    struct pairing_hub hub;
    char reason[256];

    if (pair_parse_hub_info(json, &hub_info, reason, sizeof(reason)) != 0 ||
        pair_hub_info_mac(client->mac_key, &hub_info, expected) != 0 ||
        !pair_mac_matches(expected, hub_info.mac))
        return pairing_client_refuse(client, PAIR_ERROR_CODE_PROTOCOL, "bad pair_hub_info");
    if (memcmp(hub_info.hub_key_sha256, client->seen_key, PAIR_HASH_SIZE) != 0 ||
        strcmp(hub_info.device_id, client->identity.device_id) != 0)
        return pairing_client_refuse(client, PAIR_ERROR_CODE_PROTOCOL,
                                     "pair_hub_info names another key or device");
    memset(&hub, 0, sizeof(hub));
    snprintf(hub.url, sizeof(hub.url), "%s", hub_info.url);
    link_hex_encode(hub_info.hub_key_sha256, PAIR_HASH_SIZE, hub.hub_key_sha256);
    if (pairing_key_save(pairing_state_dir(client->pairing), &client->key, reason,
                         sizeof(reason)) != 0 ||
        pairing_complete(client->pairing, &hub, reason, sizeof(reason)) != 0) {
        log_error("pairing: %s", reason);
        return -1;
    }
    client->state = PAIRING_CLIENT_DONE;
    log_info("paired as \"%s\"", hub_info.name);
    return -1; /* done: close */
}

/* One whole message from the hub. 0 keeps the connection, -1 closes it. */
static int pairing_client_handle(struct pairing_client *client, const uint8_t *data, size_t size)
{
    static const uint8_t expected[] = {
        [PAIRING_CLIENT_AWAIT_SHARE_P] = LINK_PAIR_SHARE_P,
        [PAIRING_CLIENT_AWAIT_CONFIRM_P] = LINK_PAIR_CONFIRM_P,
        [PAIRING_CLIENT_AWAIT_HUB_INFO] = LINK_PAIR_HUB_INFO,
    };
    struct link_error link_error;
    char reason[160];
    cJSON *json = NULL;
    int decoded, result = -1;

    if (client->state < PAIRING_CLIENT_AWAIT_SHARE_P ||
        client->state > PAIRING_CLIENT_AWAIT_HUB_INFO)
        return -1;
    decoded = pair_message_decode(data, size, expected[client->state], &json, &link_error, reason,
                                  sizeof(reason));
    if (decoded == 1) {
        log_warn("the hub said %s: %s", link_error.code, link_error.reason);
        if (strcmp(link_error.code, PAIR_ERROR_CODE_WRONG_CODE) == 0 &&
            client->state == PAIRING_CLIENT_AWAIT_CONFIRM_P)
            return pairing_client_wrong_code(client);
        return -1;
    }
    if (decoded != 0) {
        log_warn("bad message from the hub: %s", reason);
        return -1;
    }
    switch (client->state) {
    case PAIRING_CLIENT_AWAIT_SHARE_P:
        result = pairing_client_on_share_p(client, json);
        break;
    case PAIRING_CLIENT_AWAIT_CONFIRM_P:
        result = pairing_client_on_confirm_p(client, json);
        break;
    default:
        result = pairing_client_on_hub_info(client, json);
        break;
    }
    cJSON_Delete(json);
    return result;
}

/* Collect a message (maybe in pieces) and handle it when whole. */
static int pairing_client_receive(struct pairing_client *client, struct lws *wsi, const void *data,
                                  size_t size)
{
    int result = 0;

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
    result = client->receive_overflow
                 ? -1
                 : pairing_client_handle(client, client->receive, client->receive_used);
    client->receive_used = 0;
    return result;
}

/* The connection ended: count an unanswered SHARE_V, then try again. */
static void pairing_client_closed(struct pairing_client *client)
{
    if (client->state == PAIRING_CLIENT_AWAIT_CONFIRM_P) {
        log_warn("the connection dropped before the hub confirmed the code");
        pairing_wrong_code(client->pairing);
    }
    client->state = PAIRING_CLIENT_IDLE;
    pairing_client_reset(client);
    pairing_client_schedule(client);
}

/* The libwebsockets protocol callback; pairing thread only. */
static int pairing_client_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                                   void *in, size_t length)
{
    struct pairing_client *client = lws_context_user(lws_get_context(wsi));
    uint8_t *message;

    (void)user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        return pairing_client_established(client, wsi);
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        log_debug("cannot reach the hub to pair: %.200s", in ? (const char *)in : "unknown");
        pairing_client_closed(client);
        break;
    case LWS_CALLBACK_CLIENT_CLOSED:
        pairing_client_closed(client);
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        return pairing_client_receive(client, wsi, in, length);
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        message = client->outgoing;
        if (message == NULL)
            return client->close_after_send ? -1 : 0;
        client->outgoing = NULL;
        if (lws_write(wsi, message + LWS_PRE, client->outgoing_size, LWS_WRITE_BINARY) <
            (int)client->outgoing_size) {
            free(message);
            return -1;
        }
        free(message);
        if (client->close_after_send)
            lws_callback_on_writable(wsi);
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols pairing_client_protocols[] = {
    {"doorstep-pair", pairing_client_callback, 0, PAIRING_CLIENT_RECEIVE_MAX, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* Keepalive while waiting for an admin: ping after 10 s of quiet, give up
 * after 30 s without an answer (then reconnect). */
static const lws_retry_bo_t pairing_client_keepalive = {
    .secs_since_valid_ping = 10,
    .secs_since_valid_hangup = 30,
};

/* lws timer: connect to the hub's pairing endpoint (when the mode is open). */
static void pairing_client_connect(lws_sorted_usec_list_t *timer)
{
    struct pairing_client *client = lws_container_of(timer, struct pairing_client, reconnect_timer);
    struct lws_client_connect_info info;
    char url[PAIR_URL_SIZE], host[PAIR_URL_SIZE];
    const char *scheme, *address, *path;
    int port;

    if (atomic_load(&client->stopping))
        return;
    pairing_hub_url(client->pairing, url, sizeof(url));
    if (!pairing_mode_open(client->pairing) || url[0] == '\0') {
        /* Closed, or no hub known yet (--hub or discovery): look again soon. */
        lws_sul_schedule(client->context, 0, &client->reconnect_timer, pairing_client_connect,
                         LWS_USEC_PER_SEC);
        return;
    }
    if (strncmp(url, "wss://", 6) != 0 ||
        lws_parse_uri(url, &scheme, &address, &port, &path) != 0) {
        log_error("cannot parse the hub URL; waiting for another");
        lws_sul_schedule(client->context, 0, &client->reconnect_timer, pairing_client_connect,
                         10 * LWS_USEC_PER_SEC);
        return;
    }
    /* The Host header names the port too: the hub tells us back where to
     * find it from it. */
    snprintf(host, sizeof(host), "%s:%d", address, port);
    memset(&info, 0, sizeof(info));
    info.context = client->context;
    info.address = address;
    info.port = port;
    info.path = PAIR_WEBSOCKET_PATH;
    info.host = host;
    info.local_protocol_name = "doorstep-pair";
    info.pwsi = &client->wsi;
    info.retry_and_idle_policy = &pairing_client_keepalive;
    /* No pin yet: SPAKE2+ binds the key this TLS session shows into the
     * transcript, so a relay with another key fails the confirmation. */
    info.ssl_connection = LCCSCF_USE_SSL | LCCSCF_ALLOW_SELFSIGNED |
                          LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK | LCCSCF_ALLOW_EXPIRED;
    if (lws_client_connect_via_info(&info) == NULL) {
        client->wsi = NULL;
        pairing_client_schedule(client);
    }
}

/* lws timer, once a second: a doorbell whose pairing mode closed (the 10
 * minutes are over) stops waiting at the hub. */
static void pairing_client_watch(lws_sorted_usec_list_t *timer)
{
    struct pairing_client *client = lws_container_of(timer, struct pairing_client, watch_timer);

    if (client->wsi != NULL && client->state == PAIRING_CLIENT_AWAIT_SHARE_P &&
        !pairing_mode_open(client->pairing)) {
        log_info("pairing mode closed; leaving the hub's pairing endpoint");
        lws_set_timeout(client->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
    lws_sul_schedule(client->context, 0, &client->watch_timer, pairing_client_watch,
                     LWS_USEC_PER_SEC);
}

/* The pairing thread: run libwebsockets until asked to stop. */
static void *pairing_client_thread(void *data)
{
    struct pairing_client *client = data;

    lws_sul_schedule(client->context, 0, &client->reconnect_timer, pairing_client_connect, 1);
    lws_sul_schedule(client->context, 0, &client->watch_timer, pairing_client_watch,
                     LWS_USEC_PER_SEC);
    while (!atomic_load(&client->stopping))
        if (lws_service(client->context, 0) < 0)
            break;
    return NULL;
}

struct pairing_client *pairing_client_start(struct pairing *pairing, const char *firmware,
                                            char *error, size_t error_size)
{
    struct pairing_client *client = calloc(1, sizeof(*client));
    struct lws_context_creation_info info;

    if (client == NULL) {
        error_text_set(error, error_size, "out of memory");
        return NULL;
    }
    client->pairing = pairing;
    mbedtls_ecp_keypair_init(&client->key);
    snprintf(client->firmware, sizeof(client->firmware), "%s", firmware);
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = pairing_client_protocols;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.user = client;
    info.fd_limit_per_thread = 4;
    client->context = lws_create_context(&info);
    if (client->context == NULL) {
        error_text_set(error, error_size, "libwebsockets did not start");
        goto fail;
    }
    if (pthread_create(&client->thread, NULL, pairing_client_thread, client) != 0) {
        error_text_set(error, error_size, "cannot start the pairing thread");
        lws_context_destroy(client->context);
        goto fail;
    }
    return client;

fail:
    mbedtls_ecp_keypair_free(&client->key);
    free(client);
    return NULL;
}

void pairing_client_stop(struct pairing_client *client)
{
    if (client == NULL)
        return;
    atomic_store(&client->stopping, 1);
    lws_cancel_service(client->context);
    pthread_join(client->thread, NULL);
    lws_context_destroy(client->context);
    pairing_client_reset(client);
    mbedtls_ecp_keypair_free(&client->key);
    free(client);
}
