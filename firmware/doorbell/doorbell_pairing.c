/*
 * doorbell_pairing.c - a doorbell without --device-id pairs with its setup
 * code (firmware/pairing/): its pairing state opened from --state-dir, the
 * pairing client while pairing mode is open, and the device link pointed at
 * the hub it paired with, authenticating with its own key.
 *
 * Threads: main opens, polls (once a second) and closes; the link thread
 * signs through doorbell_pairing_sign() under doorbell->key_lock. The
 * pairing client has its own thread (pairing_client.h).
 */
#define LOG_MODULE "doorbelld"

#include <stdio.h>
#include <string.h>

#include "common/link_auth_key.h"
#include "common/log.h"
#include "common/mutex.h"
#include "doorbell/doorbell.h"
#include "link/link_client.h"
#include "pairing/pairing.h"
#include "pairing/pairing_client.h"
#include "pairing/pairing_key.h"

/* Open the pairing state when the doorbell pairs (no --device-id): 0, or
 * -1 (logged). Main thread, before the link starts; doorbell_start() has
 * made key_lock and device_key already. */
int doorbell_pairing_open(struct doorbell *doorbell)
{
    const struct doorbell_options *options = &doorbell->options;
    char model[PAIR_MODEL_SIZE], error[256];

    if (options->device_id != NULL || options->state_dir == NULL)
        return 0;
    snprintf(model, sizeof(model), "%s", options->model); /* as announced over mDNS */
    doorbell->pairing = pairing_start(options->state_dir, model, NULL, error, sizeof(error));
    if (doorbell->pairing == NULL) {
        log_error("pairing: %s", error);
        return -1;
    }
    if (options->hub_url != NULL)
        pairing_set_hub_url(doorbell->pairing, options->hub_url);
    doorbell->pairing_client =
        pairing_client_start(doorbell->pairing, DOORBELL_FIRMWARE_VERSION, error, sizeof(error));
    if (doorbell->pairing_client == NULL) {
        log_error("pairing: %s", error);
        return -1;
    }
    return 0;
}

/* Load the device key and point the link at the paired hub, or make the
 * link idle after a factory reset. Main thread. */
static void doorbell_pairing_apply(struct doorbell *doorbell)
{
    struct pairing_hub hub;
    char device_id[PAIR_DEVICE_ID_SIZE], error[256];
    int paired = pairing_hub(doorbell->pairing, &hub);

    pairing_device_id(doorbell->pairing, device_id, sizeof(device_id));
    pthread_mutex_lock(&doorbell->key_lock);
    mbedtls_ecp_keypair_free(&doorbell->device_key);
    mbedtls_ecp_keypair_init(&doorbell->device_key);
    doorbell->device_key_loaded = 0;
    if (paired) {
        if (pairing_key_load(pairing_state_dir(doorbell->pairing), &doorbell->device_key, error,
                             sizeof(error)) == 0)
            doorbell->device_key_loaded = 1;
        else
            log_error("pairing: %s", error);
    }
    pthread_mutex_unlock(&doorbell->key_lock);
    if (paired && doorbell->device_key_loaded)
        link_client_set_target(doorbell->link, hub.url, device_id, hub.hub_key_sha256);
    else
        link_client_set_target(doorbell->link, NULL, NULL, NULL);
}

/* Once a second: follow the pairing state (a pairing, a reset). Main
 * thread. */
void doorbell_pairing_poll(struct doorbell *doorbell)
{
    uint64_t generation;

    if (doorbell->pairing == NULL)
        return;
    generation = pairing_generation(doorbell->pairing);
    if (generation != doorbell->pairing_applied) {
        doorbell->pairing_applied = generation;
        doorbell_pairing_apply(doorbell);
    }
}

/* Stop the pairing client and free the pairing state. Main thread, after
 * the link stopped. */
void doorbell_pairing_close(struct doorbell *doorbell)
{
    pairing_client_stop(doorbell->pairing_client);
    doorbell->pairing_client = NULL;
    pairing_stop(doorbell->pairing);
    doorbell->pairing = NULL;
    mbedtls_ecp_keypair_free(&doorbell->device_key);
    pthread_mutex_destroy(&doorbell->key_lock);
}

/* link_client_sign_callback: sign digest with the device key. Link thread. */
int doorbell_pairing_sign(const uint8_t *digest, uint8_t *signature, void *context)
{
    struct doorbell *doorbell = context;
    int result = -1;

    pthread_mutex_lock(&doorbell->key_lock);
    if (doorbell->device_key_loaded)
        result = link_auth_key_sign(&doorbell->device_key, digest, signature);
    pthread_mutex_unlock(&doorbell->key_lock);
    return result;
}
