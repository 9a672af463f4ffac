/*
 * pairing.c - the doorbell's pairing state behind one lock (see pairing.h).
 * File writes happen under the lock (they are few and small: a reset, the
 * hub after pairing); the changed callback runs after it is released.
 */
#define LOG_MODULE "pairing"

#include "pairing/pairing.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#include "common/clock.h"
#include "common/error_text.h"
#include "common/log.h"
#include "common/mutex.h"
#include "pairing/pairing_mode.h"

struct pairing {
    char state_dir[PAIRING_STORE_PATH_MAX];  /* fixed */
    char model[PAIR_MODEL_SIZE];             /* fixed */
    struct setup_code_parameters parameters; /* fixed */

    pthread_mutex_t lock; /* guards what follows */
    struct pairing_identity identity;
    struct pairing_mode mode;
    bool paired;
    struct pairing_hub hub;
    char hub_url[PAIR_URL_SIZE];
    uint64_t generation;
    pairing_changed_callback changed;
    void *changed_context;
};

/* Log the code an installer reads to pair; locked. */
static void pairing_log_code_locked(struct pairing *pairing)
{
    const char *code = pairing->identity.setup_code;

    mutex_assert_held(&pairing->lock);
    if (code[0] != '\0')
        log_info("pairing mode: setup code %.4s-%.4s, device id %s", code, code + 4,
                 pairing->identity.device_id);
    else
        log_info("pairing mode: device id %s (the setup code file is gone; hold 30 s to reset)",
                 pairing->identity.device_id);
}

struct pairing *pairing_start(const char *state_dir, const char *model,
                              const struct setup_code_parameters *parameters, char *error,
                              size_t error_size)
{
    struct pairing *pairing = calloc(1, sizeof(*pairing));
    int created = 0, hub_state;

    if (pairing == NULL) {
        error_text_set(error, error_size, "out of memory");
        return NULL;
    }
    if (snprintf(pairing->state_dir, sizeof(pairing->state_dir), "%s", state_dir) >=
            (int)sizeof(pairing->state_dir) ||
        snprintf(pairing->model, sizeof(pairing->model), "%s", model) >=
            (int)sizeof(pairing->model)) {
        error_text_set(error, error_size, "state directory or model too long");
        free(pairing);
        return NULL;
    }
    pairing->parameters = parameters != NULL ? *parameters : setup_code_default_parameters();
    mutex_init_checked(&pairing->lock);
    if (pairing_store_load(state_dir, &pairing->parameters, &pairing->identity, &created, error,
                           error_size) != 0)
        goto fail;
    hub_state = pairing_store_read_hub(state_dir, &pairing->hub, error, error_size);
    if (hub_state < 0)
        goto fail;
    pairing->paired = hub_state == 0;
    pairing->generation = 1;
    pairing_mode_init(&pairing->mode, pairing->paired, clock_monotonic_ms());
    pthread_mutex_lock(&pairing->lock);
    if (created)
        log_info("made a new identity in %s", state_dir);
    if (!pairing->paired)
        pairing_log_code_locked(pairing);
    else
        log_info("paired with the hub at %s (key %.16s...)", pairing->hub.url,
                 pairing->hub.hub_key_sha256);
    pthread_mutex_unlock(&pairing->lock);
    return pairing;

fail:
    pthread_mutex_destroy(&pairing->lock);
    mbedtls_platform_zeroize(pairing, sizeof(*pairing));
    free(pairing);
    return NULL;
}

void pairing_stop(struct pairing *pairing)
{
    if (pairing == NULL)
        return;
    pthread_mutex_destroy(&pairing->lock);
    mbedtls_platform_zeroize(pairing, sizeof(*pairing));
    free(pairing);
}

void pairing_set_changed_callback(struct pairing *pairing, pairing_changed_callback callback,
                                  void *context)
{
    pthread_mutex_lock(&pairing->lock);
    pairing->changed = callback;
    pairing->changed_context = context;
    pthread_mutex_unlock(&pairing->lock);
}

/* Tell the changed callback, if any; called without the lock. */
static void pairing_notify(struct pairing *pairing)
{
    pairing_changed_callback callback;
    void *context;

    pthread_mutex_lock(&pairing->lock);
    callback = pairing->changed;
    context = pairing->changed_context;
    pthread_mutex_unlock(&pairing->lock);
    if (callback != NULL)
        callback(context);
}

bool pairing_mode_open(struct pairing *pairing)
{
    bool open;

    pthread_mutex_lock(&pairing->lock);
    open = pairing_mode_is_open(&pairing->mode, clock_monotonic_ms());
    pthread_mutex_unlock(&pairing->lock);
    return open;
}

bool pairing_is_paired(struct pairing *pairing)
{
    bool paired;

    pthread_mutex_lock(&pairing->lock);
    paired = pairing->paired;
    pthread_mutex_unlock(&pairing->lock);
    return paired;
}

void pairing_device_id(struct pairing *pairing, char *out, size_t out_size)
{
    pthread_mutex_lock(&pairing->lock);
    snprintf(out, out_size, "%s", pairing->identity.device_id);
    pthread_mutex_unlock(&pairing->lock);
}

const char *pairing_model(const struct pairing *pairing)
{
    return pairing->model;
}

const char *pairing_state_dir(const struct pairing *pairing)
{
    return pairing->state_dir;
}

void pairing_identity_copy(struct pairing *pairing, struct pairing_identity *out)
{
    pthread_mutex_lock(&pairing->lock);
    *out = pairing->identity;
    pthread_mutex_unlock(&pairing->lock);
}

bool pairing_hub(struct pairing *pairing, struct pairing_hub *out)
{
    bool paired;

    pthread_mutex_lock(&pairing->lock);
    paired = pairing->paired;
    *out = pairing->hub;
    pthread_mutex_unlock(&pairing->lock);
    return paired;
}

uint64_t pairing_generation(struct pairing *pairing)
{
    uint64_t generation;

    pthread_mutex_lock(&pairing->lock);
    generation = pairing->generation;
    pthread_mutex_unlock(&pairing->lock);
    return generation;
}

void pairing_hub_url(struct pairing *pairing, char *out, size_t out_size)
{
    pthread_mutex_lock(&pairing->lock);
    snprintf(out, out_size, "%s", pairing->hub_url);
    pthread_mutex_unlock(&pairing->lock);
}

void pairing_set_hub_url(struct pairing *pairing, const char *url)
{
    pthread_mutex_lock(&pairing->lock);
    snprintf(pairing->hub_url, sizeof(pairing->hub_url), "%s", url != NULL ? url : "");
    pthread_mutex_unlock(&pairing->lock);
}

void pairing_hold(struct pairing *pairing, int seconds, char *reply, size_t reply_size)
{
    char error[256] = "";
    enum pairing_hold_action action;
    int failed = 0;

    pthread_mutex_lock(&pairing->lock);
    action = pairing_mode_hold(&pairing->mode, seconds, clock_monotonic_ms());
    if (action == PAIRING_HOLD_RESET) {
        if (pairing_store_reset(pairing->state_dir, &pairing->parameters, &pairing->identity, error,
                                sizeof(error)) != 0)
            failed = 1;
        pairing->paired = false;
        pairing->generation++;
        memset(&pairing->hub, 0, sizeof(pairing->hub));
        log_info("factory reset: new identity");
    }
    if (action != PAIRING_HOLD_NOTHING && !failed)
        pairing_log_code_locked(pairing);
    pthread_mutex_unlock(&pairing->lock);
    if (failed) {
        log_error("factory reset failed: %s", error);
        snprintf(reply, reply_size, "error: factory reset failed: %s", error);
        return;
    }
    switch (action) {
    case PAIRING_HOLD_RESET:
        snprintf(reply, reply_size, "ok: factory reset, pairing mode open");
        break;
    case PAIRING_HOLD_OPEN:
        snprintf(reply, reply_size, "ok: pairing mode open for 10 minutes");
        break;
    default:
        snprintf(reply, reply_size, "ok: held %d s (10 s opens pairing mode, 30 s resets)",
                 seconds);
        return;
    }
    pairing_notify(pairing);
}

int pairing_wrong_code(struct pairing *pairing)
{
    int count;
    bool open;

    pthread_mutex_lock(&pairing->lock);
    count = pairing_mode_wrong_code(&pairing->mode, clock_monotonic_ms());
    open = pairing_mode_is_open(&pairing->mode, clock_monotonic_ms());
    pthread_mutex_unlock(&pairing->lock);
    log_warn("pairing: wrong setup code (%d of %d)%s", count, PAIRING_MODE_WRONG_CODES_MAX,
             open ? "" : "; pairing mode closed until the next 10 s hold");
    return count;
}

int pairing_complete(struct pairing *pairing, const struct pairing_hub *hub, char *error,
                     size_t error_size)
{
    int result;

    pthread_mutex_lock(&pairing->lock);
    result = pairing_store_write_hub(pairing->state_dir, hub, error, error_size);
    if (result == 0) {
        pairing->hub = *hub;
        pairing->paired = true;
        pairing->generation++;
        pairing_mode_paired(&pairing->mode);
        log_info("paired with the hub at %s (key %.16s...)", hub->url, hub->hub_key_sha256);
    }
    pthread_mutex_unlock(&pairing->lock);
    if (result == 0)
        pairing_notify(pairing);
    return result;
}
