/*
 * device_pairing.c - the waiting doorbells and the hub's side of a pairing
 * exchange (see device_pairing.h for the threads and the locks).
 *
 * An exchange marks its entry busy, derives w0 and w1 with no lock held but
 * `derivation`, then sends each message through the entry's connection
 * under `lock` (so the connection cannot go while it is written) and waits
 * on `changed` for the answer deliver() puts in the inbox. Every secret of
 * the exchange (w0, w1, the SPAKE2+ session, K_shared, K_mac) lives on its
 * stack or in the session and is wiped before it returns.
 */
#define LOG_MODULE "pairing"

#include "devices/device_pairing.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/platform_util.h>

#include "accounts/password.h"
#include "common/error_text.h"
#include "common/link_auth_key.h"
#include "common/log.h"
#include "common/mutex.h"
#include "storage/database.h"

/* One waiting doorbell; every field under device_pairing.lock. */
struct device_pairing_entry {
    int used;
    uint64_t serial; /* of its connection; 0 = free */
    void *connection;
    struct pair_hello hello;
    char address[DEVICE_PAIRING_ADDRESS_MAX];
    char url[PAIR_URL_SIZE];
    int64_t since_ms;
    int busy;     /* an exchange runs */
    int awaiting; /* the exchange asked for a message */
    uint8_t inbox[DEVICE_PAIRING_INBOX_MAX];
    size_t inbox_size; /* 0 = empty */
};

struct device_pairing {
    device_pairing_send_callback send;
    pthread_mutex_t lock;   /* guards entries and next_serial */
    pthread_cond_t changed; /* an inbox filled or an entry left; CLOCK_MONOTONIC */
    struct device_pairing_entry entries[DEVICE_PAIRING_MAX_WAITING];
    uint64_t next_serial;
    pthread_mutex_t derivation; /* one Argon2id at a time */
};

/* The hub's Argon2id memory: mapped per derivation, unmapped after. */
static const struct setup_code_memory device_pairing_memory = {password_memory_allocate,
                                                               password_memory_free};

struct device_pairing *device_pairing_create(device_pairing_send_callback send)
{
    struct device_pairing *pairing = calloc(1, sizeof(*pairing));
    pthread_condattr_t attributes;

    if (pairing == NULL)
        return NULL;
    pairing->send = send;
    pairing->next_serial = 1;
    mutex_init_checked(&pairing->lock);
    mutex_init_checked(&pairing->derivation);
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_cond_init(&pairing->changed, &attributes);
    pthread_condattr_destroy(&attributes);
    return pairing;
}

void device_pairing_destroy(struct device_pairing *pairing)
{
    if (pairing == NULL)
        return;
    pthread_cond_destroy(&pairing->changed);
    pthread_mutex_destroy(&pairing->derivation);
    pthread_mutex_destroy(&pairing->lock);
    free(pairing);
}

/* The entry of device_id, or NULL; locked. */
static struct device_pairing_entry *device_pairing_find_id(struct device_pairing *pairing,
                                                           const char *device_id)
{
    mutex_assert_held(&pairing->lock);
    for (int i = 0; i < DEVICE_PAIRING_MAX_WAITING; i++)
        if (pairing->entries[i].used && strcmp(pairing->entries[i].hello.device_id, device_id) == 0)
            return &pairing->entries[i];
    return NULL;
}

/* The entry of serial, or NULL; locked. */
static struct device_pairing_entry *device_pairing_find_serial(struct device_pairing *pairing,
                                                               uint64_t serial)
{
    mutex_assert_held(&pairing->lock);
    for (int i = 0; i < DEVICE_PAIRING_MAX_WAITING; i++)
        if (pairing->entries[i].used && pairing->entries[i].serial == serial)
            return &pairing->entries[i];
    return NULL;
}

int device_pairing_arrive(struct device_pairing *pairing, const struct pair_hello *hello,
                          const char *address, const char *url, void *connection,
                          uint64_t *serial_out)
{
    struct device_pairing_entry *entry;

    pthread_mutex_lock(&pairing->lock);
    entry = device_pairing_find_id(pairing, hello->device_id);
    if (entry != NULL && entry->busy) {
        /* An exchange runs with the older connection: it fails (the entry
         * is replaced), and this one waits for the next. */
        pthread_cond_broadcast(&pairing->changed);
    }
    for (int i = 0; entry == NULL && i < DEVICE_PAIRING_MAX_WAITING; i++)
        if (!pairing->entries[i].used)
            entry = &pairing->entries[i];
    if (entry == NULL) {
        pthread_mutex_unlock(&pairing->lock);
        return -1;
    }
    memset(entry, 0, sizeof(*entry));
    entry->used = 1;
    entry->serial = pairing->next_serial++;
    entry->connection = connection;
    entry->hello = *hello;
    snprintf(entry->address, sizeof(entry->address), "%s", address);
    snprintf(entry->url, sizeof(entry->url), "%s", url);
    entry->since_ms = database_now_ms();
    *serial_out = entry->serial;
    pthread_mutex_unlock(&pairing->lock);
    return 0;
}

int device_pairing_deliver(struct device_pairing *pairing, uint64_t serial, const uint8_t *data,
                           size_t size)
{
    struct device_pairing_entry *entry;
    int result = -1;

    pthread_mutex_lock(&pairing->lock);
    entry = device_pairing_find_serial(pairing, serial);
    if (entry != NULL && entry->awaiting && entry->inbox_size == 0 && size > 0 &&
        size <= sizeof(entry->inbox)) {
        memcpy(entry->inbox, data, size);
        entry->inbox_size = size;
        entry->awaiting = 0;
        pthread_cond_broadcast(&pairing->changed);
        result = 0;
    }
    pthread_mutex_unlock(&pairing->lock);
    return result;
}

void device_pairing_leave(struct device_pairing *pairing, uint64_t serial)
{
    struct device_pairing_entry *entry;

    pthread_mutex_lock(&pairing->lock);
    entry = device_pairing_find_serial(pairing, serial);
    if (entry != NULL) {
        memset(entry, 0, sizeof(*entry));
        pthread_cond_broadcast(&pairing->changed);
    }
    pthread_mutex_unlock(&pairing->lock);
}

int device_pairing_list(struct device_pairing *pairing, struct device_pairing_waiting *out, int max)
{
    int count = 0;

    pthread_mutex_lock(&pairing->lock);
    for (int i = 0; i < DEVICE_PAIRING_MAX_WAITING && count < max; i++) {
        const struct device_pairing_entry *entry = &pairing->entries[i];
        if (!entry->used)
            continue;
        memset(&out[count], 0, sizeof(out[count]));
        memcpy(out[count].device_id, entry->hello.device_id, sizeof(out[count].device_id));
        memcpy(out[count].model, entry->hello.model, sizeof(out[count].model));
        memcpy(out[count].firmware, entry->hello.firmware, sizeof(out[count].firmware));
        memcpy(out[count].address, entry->address, sizeof(out[count].address));
        out[count].since_ms = entry->since_ms;
        count++;
    }
    pthread_mutex_unlock(&pairing->lock);
    /* Oldest first. */
    for (int i = 1; i < count; i++)
        for (int j = i; j > 0 && out[j - 1].since_ms > out[j].since_ms; j--) {
            struct device_pairing_waiting swap = out[j - 1];
            out[j - 1] = out[j];
            out[j] = swap;
        }
    return count;
}

const char *device_pairing_result_name(enum device_pairing_result result)
{
    switch (result) {
    case DEVICE_PAIRING_OK:
        return "ok";
    case DEVICE_PAIRING_NOT_WAITING:
        return "not_waiting";
    case DEVICE_PAIRING_BUSY:
        return PAIR_ERROR_CODE_BUSY;
    case DEVICE_PAIRING_CLOSED:
        return PAIR_ERROR_CODE_PAIRING_CLOSED;
    case DEVICE_PAIRING_WRONG_CODE:
        return PAIR_ERROR_CODE_WRONG_CODE;
    case DEVICE_PAIRING_TIMEOUT:
        return PAIR_ERROR_CODE_TIMEOUT;
    default:
        return "failed";
    }
}

int device_pairing_normalise_code(const char *typed, char *out)
{
    size_t digits = 0;

    if (typed == NULL)
        return -1;
    for (size_t i = 0; typed[i] != '\0' && i < 64; i++) {
        if (typed[i] == '-' || typed[i] == ' ')
            continue;
        if (typed[i] < '0' || typed[i] > '9' || digits == SETUP_CODE_DIGITS)
            return -1;
        out[digits++] = typed[i];
    }
    out[digits] = '\0';
    return digits == SETUP_CODE_DIGITS && strlen(typed) < 64 ? 0 : -1;
}

/* ---- one exchange ------------------------------------------------------------ */

/* What an exchange knows; on its stack, wiped at the end. */
struct device_pairing_exchange {
    struct device_pairing *pairing;
    uint64_t serial;
    struct timespec deadline; /* CLOCK_MONOTONIC */
    struct pair_hello hello;
    char url[PAIR_URL_SIZE];
    uint8_t frame[DEVICE_PAIRING_INBOX_MAX];
    size_t frame_size;
};

/* Encode json as a message of type and send it to the exchange's doorbell
 * (asking for its answer when awaiting). Deletes json. 0, or -1 if the
 * doorbell is gone or the write failed. */
static int device_pairing_send(struct device_pairing_exchange *exchange, uint8_t type, cJSON *json,
                               int awaiting)
{
    struct device_pairing *pairing = exchange->pairing;
    struct device_pairing_entry *entry;
    size_t size = 0;
    uint8_t *message =
        json != NULL
            ? link_message_encode_json(type, 0, (uint64_t)database_now_ms() * 1000u, json, 0, &size)
            : NULL;
    int result = -1;

    cJSON_Delete(json);
    if (message == NULL)
        return -1;
    pthread_mutex_lock(&pairing->lock);
    entry = device_pairing_find_serial(pairing, exchange->serial);
    if (entry != NULL) {
        entry->awaiting = awaiting;
        entry->inbox_size = 0;
        result = pairing->send(entry->connection, message, size);
    }
    pthread_mutex_unlock(&pairing->lock);
    free(message);
    return result;
}

/* Send ERROR code with reason to the doorbell (best effort). */
static void device_pairing_send_error(struct device_pairing_exchange *exchange, const char *code,
                                      const char *reason)
{
    struct link_error error;

    memset(&error, 0, sizeof(error));
    snprintf(error.code, sizeof(error.code), "%s", code);
    snprintf(error.reason, sizeof(error.reason), "%s", reason);
    (void)device_pairing_send(exchange, LINK_ERROR, link_build_error(&error), 0);
}

/* Wait for the doorbell's answer, of type expected: 0 with its JSON in
 * *json_out (caller deletes); or the result that ends the exchange. */
static enum device_pairing_result device_pairing_receive(struct device_pairing_exchange *exchange,
                                                         uint8_t expected, cJSON **json_out,
                                                         char *reason, size_t reason_size)
{
    struct device_pairing *pairing = exchange->pairing;
    struct device_pairing_entry *entry;
    struct link_error link_error;
    int decoded, waited = 0;

    *json_out = NULL;
    exchange->frame_size = 0;
    pthread_mutex_lock(&pairing->lock);
    while ((entry = device_pairing_find_serial(pairing, exchange->serial)) != NULL &&
           entry->inbox_size == 0 && waited != ETIMEDOUT)
        waited = pthread_cond_timedwait(&pairing->changed, &pairing->lock, &exchange->deadline);
    if (entry != NULL && entry->inbox_size > 0) {
        memcpy(exchange->frame, entry->inbox, entry->inbox_size);
        exchange->frame_size = entry->inbox_size;
        entry->inbox_size = 0;
    }
    pthread_mutex_unlock(&pairing->lock);
    if (exchange->frame_size == 0) {
        error_text_set(reason, reason_size, "%s",
                       entry == NULL ? "the doorbell went away" : "no answer from the doorbell");
        return DEVICE_PAIRING_TIMEOUT;
    }
    decoded = pair_message_decode(exchange->frame, exchange->frame_size, expected, json_out,
                                  &link_error, reason, reason_size);
    if (decoded == 0)
        return DEVICE_PAIRING_OK;
    if (decoded == 1) {
        error_text_set(reason, reason_size, "the doorbell refused: %s", link_error.code);
        if (strcmp(link_error.code, PAIR_ERROR_CODE_PAIRING_CLOSED) == 0)
            return DEVICE_PAIRING_CLOSED;
        if (strcmp(link_error.code, PAIR_ERROR_CODE_WRONG_CODE) == 0)
            return DEVICE_PAIRING_WRONG_CODE;
        if (strcmp(link_error.code, PAIR_ERROR_CODE_BUSY) == 0)
            return DEVICE_PAIRING_BUSY;
    }
    return DEVICE_PAIRING_FAILED;
}

/* Mark the entry of device_id busy for this exchange; the result. */
static enum device_pairing_result device_pairing_claim(struct device_pairing_exchange *exchange,
                                                       const char *device_id, char *address)
{
    struct device_pairing *pairing = exchange->pairing;
    struct device_pairing_entry *entry;
    enum device_pairing_result result = DEVICE_PAIRING_OK;

    pthread_mutex_lock(&pairing->lock);
    entry = device_pairing_find_id(pairing, device_id);
    if (entry == NULL) {
        result = DEVICE_PAIRING_NOT_WAITING;
    } else if (entry->busy) {
        result = DEVICE_PAIRING_BUSY;
        snprintf(address, DEVICE_PAIRING_ADDRESS_MAX, "%s", entry->address);
    } else {
        entry->busy = 1;
        exchange->serial = entry->serial;
        exchange->hello = entry->hello;
        memcpy(exchange->url, entry->url, sizeof(exchange->url));
        snprintf(address, DEVICE_PAIRING_ADDRESS_MAX, "%s", entry->address);
    }
    pthread_mutex_unlock(&pairing->lock);
    return result;
}

/* End the exchange: the entry is free for the next one, or forgotten after
 * a pairing (the doorbell leaves the pairing endpoint). */
static void device_pairing_release(struct device_pairing_exchange *exchange, int paired)
{
    struct device_pairing *pairing = exchange->pairing;
    struct device_pairing_entry *entry;

    pthread_mutex_lock(&pairing->lock);
    entry = device_pairing_find_serial(pairing, exchange->serial);
    if (entry != NULL) {
        entry->busy = 0;
        entry->awaiting = 0;
        entry->inbox_size = 0;
        if (paired)
            memset(entry, 0, sizeof(*entry));
    }
    pthread_mutex_unlock(&pairing->lock);
}

/* Derive w0, w1 from code (one derivation at a time). 0 or -1 with reason. */
static int device_pairing_derive(struct device_pairing_exchange *exchange, const char *code,
                                 uint8_t *w0, uint8_t *w1, char *reason, size_t reason_size)
{
    char verifier[PAIR_IDENTITY_SIZE];
    int result;

    if (pair_verifier_identity(exchange->hello.device_id, verifier, sizeof(verifier)) < 0)
        return -1;
    pthread_mutex_lock(&exchange->pairing->derivation);
    result = setup_code_derive_with(code, exchange->hello.salt, &exchange->hello.parameters,
                                    (const uint8_t *)verifier, strlen(verifier),
                                    &device_pairing_memory, w0, w1, reason, reason_size);
    pthread_mutex_unlock(&exchange->pairing->derivation);
    return result;
}

/* SPAKE2+ as the prover: SHARE_P out, SHARE_V in, CONFIRM_P out; K_shared
 * into shared_key. The result. */
static enum device_pairing_result device_pairing_spake(struct device_pairing_exchange *exchange,
                                                       const uint8_t *w0, const uint8_t *w1,
                                                       const uint8_t *hub_key_sha256,
                                                       uint8_t *shared_key, char *reason,
                                                       size_t reason_size)
{
    char prover[PAIR_IDENTITY_SIZE], verifier[PAIR_IDENTITY_SIZE];
    struct spake2plus_identities identities;
    struct pair_share_p share_p;
    struct pair_share_v share_v;
    struct pair_confirm_p confirm_p;
    struct spake2plus *session = NULL;
    enum device_pairing_result result = DEVICE_PAIRING_FAILED;
    cJSON *json = NULL;

    if (pair_prover_identity(hub_key_sha256, prover, sizeof(prover)) < 0 ||
        pair_verifier_identity(exchange->hello.device_id, verifier, sizeof(verifier)) < 0)
        goto out;
    pair_identities(&identities, prover, verifier);
    session = spake2plus_prover_new(&identities, w0, w1, reason, reason_size);
    if (session == NULL ||
        spake2plus_prover_share(session, share_p.share_p, sizeof(share_p.share_p), reason,
                                reason_size) != 0)
        goto out;
    if (device_pairing_send(exchange, LINK_PAIR_SHARE_P, pair_build_share_p(&share_p), 1) != 0) {
        error_text_set(reason, reason_size, "the doorbell went away");
        result = DEVICE_PAIRING_TIMEOUT;
        goto out;
    }
    result = device_pairing_receive(exchange, LINK_PAIR_SHARE_V, &json, reason, reason_size);
    if (result != DEVICE_PAIRING_OK)
        goto out;
    result = DEVICE_PAIRING_FAILED;
    if (pair_parse_share_v(json, &share_v, reason, reason_size) != 0) {
        device_pairing_send_error(exchange, PAIR_ERROR_CODE_PROTOCOL, reason);
        goto out;
    }
    if (spake2plus_prover_confirm(session, share_v.share_v, sizeof(share_v.share_v),
                                  share_v.confirm_v, sizeof(share_v.confirm_v), confirm_p.confirm_p,
                                  sizeof(confirm_p.confirm_p), reason, reason_size) != 0) {
        device_pairing_send_error(exchange, PAIR_ERROR_CODE_WRONG_CODE, "wrong setup code");
        error_text_set(reason, reason_size, "wrong setup code");
        result = DEVICE_PAIRING_WRONG_CODE;
        goto out;
    }
    if (spake2plus_shared_key(session, shared_key, SPAKE2PLUS_KEY_SIZE, reason, reason_size) != 0 ||
        device_pairing_send(exchange, LINK_PAIR_CONFIRM_P, pair_build_confirm_p(&confirm_p), 1) !=
            0)
        goto out;
    result = DEVICE_PAIRING_OK;
out:
    cJSON_Delete(json);
    spake2plus_free(session);
    return result;
}

/* The key exchange after SPAKE2+: the doorbell's public key in, the device
 * stored, PAIR_HUB_INFO out. The result. */
static enum device_pairing_result
device_pairing_keys(struct device_pairing_exchange *exchange, sqlite3 *db, const char *name,
                    const uint8_t *shared_key, const uint8_t *hub_key_sha256,
                    struct device_record *device, char *reason, size_t reason_size)
{
    uint8_t mac_key[PAIR_KEY_SIZE], expected[PAIR_MAC_SIZE];
    struct pair_device_key device_key;
    struct pair_hub_info hub_info;
    enum device_pairing_result result;
    cJSON *json = NULL;

    result = device_pairing_receive(exchange, LINK_PAIR_DEVICE_KEY, &json, reason, reason_size);
    if (result != DEVICE_PAIRING_OK)
        goto out;
    result = DEVICE_PAIRING_FAILED;
    if (pair_parse_device_key(json, &device_key, reason, reason_size) != 0 ||
        pair_mac_key(shared_key, mac_key) != 0 ||
        pair_device_key_mac(mac_key, device_key.public_key, expected) != 0)
        goto out;
    if (!pair_mac_matches(expected, device_key.mac)) {
        error_text_set(reason, reason_size, "the device key's mac does not match");
        device_pairing_send_error(exchange, PAIR_ERROR_CODE_PROTOCOL, reason);
        goto out;
    }
    if (link_auth_key_check_public(device_key.public_key) != 0) {
        error_text_set(reason, reason_size, "the device key is not a P-256 point");
        device_pairing_send_error(exchange, PAIR_ERROR_CODE_PROTOCOL, reason);
        goto out;
    }
    if (device_store_pair(db, exchange->hello.device_id, name, device_key.public_key, device,
                          reason, reason_size) != 0) {
        device_pairing_send_error(exchange, "internal", "the hub could not store the doorbell");
        goto out;
    }
    memset(&hub_info, 0, sizeof(hub_info));
    memcpy(hub_info.device_id, exchange->hello.device_id, sizeof(hub_info.device_id));
    snprintf(hub_info.name, sizeof(hub_info.name), "%s", device->name);
    memcpy(hub_info.hub_key_sha256, hub_key_sha256, PAIR_HASH_SIZE);
    memcpy(hub_info.url, exchange->url, sizeof(hub_info.url));
    if (pair_hub_info_mac(mac_key, &hub_info, hub_info.mac) != 0 ||
        device_pairing_send(exchange, LINK_PAIR_HUB_INFO, pair_build_hub_info(&hub_info), 0) != 0)
        log_warn("doorbell %s paired but PAIR_HUB_INFO could not be sent; it pairs again",
                 exchange->hello.device_id);
    result = DEVICE_PAIRING_OK;
out:
    cJSON_Delete(json);
    mbedtls_platform_zeroize(mac_key, sizeof(mac_key));
    return result;
}

enum device_pairing_result device_pairing_pair(struct device_pairing *pairing, sqlite3 *db,
                                               const char *device_id, const char *code,
                                               const char *name,
                                               const uint8_t hub_key_sha256[PAIR_HASH_SIZE],
                                               struct device_record *device, char *address,
                                               char *reason, size_t reason_size)
{
    struct device_pairing_exchange exchange;
    uint8_t w0[SPAKE2PLUS_SCALAR_SIZE], w1[SPAKE2PLUS_SCALAR_SIZE];
    uint8_t shared_key[SPAKE2PLUS_KEY_SIZE];
    char digits[SETUP_CODE_SIZE];
    enum device_pairing_result result;

    memset(&exchange, 0, sizeof(exchange));
    memset(device, 0, sizeof(*device));
    address[0] = '\0';
    error_text_set(reason, reason_size, "%s", "");
    exchange.pairing = pairing;
    clock_gettime(CLOCK_MONOTONIC, &exchange.deadline);
    exchange.deadline.tv_sec += DEVICE_PAIRING_TIMEOUT_MS / 1000;
    if (device_pairing_normalise_code(code, digits) != 0 || !setup_code_wellformed(digits)) {
        error_text_set(reason, reason_size, "a setup code is 8 digits");
        return DEVICE_PAIRING_FAILED;
    }
    if (!device_store_name_valid(name)) {
        error_text_set(reason, reason_size, "the name must be 1 to %d printable characters",
                       DEVICE_NAME_MAX - 1);
        return DEVICE_PAIRING_FAILED;
    }
    result = device_pairing_claim(&exchange, device_id, address);
    if (result != DEVICE_PAIRING_OK) {
        error_text_set(reason, reason_size, "%s",
                       result == DEVICE_PAIRING_BUSY ? "another pairing with it runs"
                                                     : "no such doorbell waiting to pair");
        return result;
    }
    if (device_pairing_derive(&exchange, digits, w0, w1, reason, reason_size) != 0) {
        result = DEVICE_PAIRING_FAILED;
        goto out;
    }
    result =
        device_pairing_spake(&exchange, w0, w1, hub_key_sha256, shared_key, reason, reason_size);
    if (result == DEVICE_PAIRING_OK)
        result = device_pairing_keys(&exchange, db, name, shared_key, hub_key_sha256, device,
                                     reason, reason_size);
out:
    device_pairing_release(&exchange, result == DEVICE_PAIRING_OK);
    mbedtls_platform_zeroize(w0, sizeof(w0));
    mbedtls_platform_zeroize(w1, sizeof(w1));
    mbedtls_platform_zeroize(shared_key, sizeof(shared_key));
    mbedtls_platform_zeroize(digits, sizeof(digits));
    mbedtls_platform_zeroize(&exchange, sizeof(exchange));
    return result;
}
