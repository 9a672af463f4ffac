/*
 * doorbell_discovery.c - the doorbell's mDNS presence (see
 * doorbell_discovery.h): announcing pairing mode, and the hubs it heard.
 *
 * Thread: start/stop and the hub queries on the main thread; the pairing
 * callback on the mDNS thread. Owns its struct mdns_service
 * (common/mdns_service.c), which guards the found table with its lock.
 */
#define LOG_MODULE "discovery"

#include "discovery/doorbell_discovery.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/discovery_id.h"
#include "common/error_text.h"
#include "common/system_random.h"
#include "common/log.h"

struct doorbell_discovery {
    struct mdns_service *mdns;                           /* owns the mDNS thread and its lock */
    doorbell_discovery_pairing_callback in_pairing_mode; /* read-only after start */
    void *context;
};

/* The mDNS module's question, put to the owner's pairing callback. mDNS
 * thread. */
static int doorbell_discovery_should_publish(void *context)
{
    struct doorbell_discovery *discovery = context;

    return discovery->in_pairing_mode != NULL && discovery->in_pairing_mode(discovery->context);
}

/* 1 when model is 1..DISCOVERY_MODEL_MAX printable ASCII characters. */
static int doorbell_discovery_model_ok(const char *model)
{
    size_t length = model != NULL ? strlen(model) : 0;

    if (length == 0 || length > DISCOVERY_MODEL_MAX)
        return 0;
    for (size_t i = 0; i < length; i++)
        if ((unsigned char)model[i] < 0x20 || (unsigned char)model[i] > 0x7e)
            return 0;
    return 1;
}

/* Start (see doorbell_discovery.h); freed with doorbell_discovery_stop. */
struct doorbell_discovery *doorbell_discovery_start(const struct doorbell_discovery_config *config,
                                                    char *error, size_t error_size)
{
    struct mdns_service_config mdns;
    struct doorbell_discovery *discovery;
    char id_text[8 + DISCOVERY_ID_LENGTH], model_text[8 + DISCOVERY_MODEL_MAX];

    if (!discovery_txt_is_hex(config->device_id, DISCOVERY_ID_LENGTH) ||
        !doorbell_discovery_model_ok(config->model)) {
        error_text_set(error, error_size, "the device id or model cannot be announced");
        return NULL;
    }
    discovery = calloc(1, sizeof(*discovery));
    if (discovery == NULL) {
        error_text_set(error, error_size, "out of memory");
        return NULL;
    }
    discovery->in_pairing_mode = config->in_pairing_mode;
    discovery->context = config->context;
    snprintf(id_text, sizeof(id_text), "id=%s", config->device_id);
    snprintf(model_text, sizeof(model_text), "model=%s", config->model);
    memset(&mdns, 0, sizeof(mdns));
    mdns.publish_type = DISCOVERY_SERVICE_BELL;
    mdns.publish_name = DOORBELL_DISCOVERY_NAME;
    mdns.publish_port = 9; /* no service behind it: pairing goes to the hub */
    mdns.publish_txt[0] = "v=1";
    mdns.publish_txt[1] = id_text;
    mdns.publish_txt[2] = model_text;
    mdns.should_publish = doorbell_discovery_should_publish;
    mdns.context = discovery;
    mdns.browse_type = DISCOVERY_SERVICE_HUB;
    mdns.browse_kind = DISCOVERY_TXT_HUB;
    discovery->mdns = mdns_service_start(&mdns, error, error_size);
    if (discovery->mdns == NULL) {
        free(discovery);
        return NULL;
    }
    return discovery;
}

/* Stop (see doorbell_discovery.h). */
void doorbell_discovery_stop(struct doorbell_discovery *discovery)
{
    if (discovery == NULL)
        return;
    mdns_service_stop(discovery->mdns);
    free(discovery);
}

/* The hubs heard (see doorbell_discovery.h). */
int doorbell_discovery_hub_candidates(struct doorbell_discovery *discovery,
                                      struct doorbell_discovery_hub *out, int max)
{
    struct mdns_service_found *found;
    int count;

    if (discovery == NULL || max <= 0)
        return 0;
    if (max > MDNS_SERVICE_FOUND_MAX)
        max = MDNS_SERVICE_FOUND_MAX;
    found = calloc((size_t)max, sizeof(*found));
    if (found == NULL)
        return 0;
    count = mdns_service_list(discovery->mdns, found, max);
    for (int i = 0; i < count; i++) {
        memset(&out[i], 0, sizeof(out[i]));
        memcpy(out[i].hub_id, found[i].txt.id, sizeof(out[i].hub_id));
        memcpy(out[i].pk, found[i].txt.pk, sizeof(out[i].pk));
        memcpy(out[i].host, found[i].host, sizeof(out[i].host));
        memcpy(out[i].address, found[i].address, sizeof(out[i].address));
        out[i].port = found[i].port;
    }
    free(found);
    return count;
}

/* Choose a hub (see doorbell_discovery.h). */
int doorbell_discovery_pick_hub(struct doorbell_discovery *discovery, const char *pin, char *url,
                                size_t url_size)
{
    struct doorbell_discovery_hub *hubs = calloc(MDNS_SERVICE_FOUND_MAX, sizeof(*hubs));
    int count, chosen = -1;

    if (url_size > 0)
        url[0] = '\0';
    if (hubs == NULL)
        return 0;
    count = doorbell_discovery_hub_candidates(discovery, hubs, MDNS_SERVICE_FOUND_MAX);
    for (int i = 0; i < count && chosen < 0; i++)
        if (hubs[i].port != 0 && (pin == NULL || discovery_txt_pk_matches_pin(hubs[i].pk, pin)))
            chosen = i;
    if (chosen >= 0) {
        snprintf(url, url_size, "wss://%s:%u", hubs[chosen].address, (unsigned)hubs[chosen].port);
        log_info("found hub %s at %s (%s)", hubs[chosen].hub_id, url, hubs[chosen].host);
    }
    free(hubs);
    return chosen >= 0;
}
