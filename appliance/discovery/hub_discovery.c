/*
 * hub_discovery.c - the hub's mDNS presence (see hub_discovery.h): the
 * hub id, the published service and the list of doorbells in pairing mode.
 *
 * Thread: start/stop on the main thread; hub_discovery_list on civetweb
 * workers. Owns its struct mdns_service (common/mdns_service.c), which runs
 * the mDNS thread and guards the found table with its own lock.
 */
#define LOG_MODULE "discovery"

#include "discovery/hub_discovery.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/discovery_id.h"
#include "common/error_text.h"
#include "common/log.h"

struct hub_discovery {
    struct mdns_service *mdns; /* owns the mDNS thread and its lock */
};

/* Load or make the hub id (see hub_discovery.h). */
int hub_discovery_load_id(const char *data_dir, char id_out[DISCOVERY_ID_LENGTH + 1], char *error,
                          size_t error_size)
{
    return discovery_id_load_or_make(data_dir, HUB_DISCOVERY_ID_FILE, id_out, error, error_size);
}

/* Start publishing and browsing (see hub_discovery.h); the caller frees the
 * result with hub_discovery_stop. */
struct hub_discovery *hub_discovery_start(const char *hub_id, uint16_t port, const char *key_sha256,
                                          char *error, size_t error_size)
{
    struct mdns_service_config config;
    struct hub_discovery *discovery;
    char id_text[8 + DISCOVERY_ID_LENGTH], pk_text[8 + DISCOVERY_PK_LENGTH];

    if (!discovery_txt_is_hex(hub_id, DISCOVERY_ID_LENGTH) || key_sha256 == NULL ||
        strlen(key_sha256) != DISCOVERY_KEY_SHA256_HEX || port == 0) {
        error_text_set(error, error_size, "no hub id, key hash or port to announce");
        return NULL;
    }
    discovery = calloc(1, sizeof(*discovery));
    if (discovery == NULL) {
        error_text_set(error, error_size, "out of memory");
        return NULL;
    }
    snprintf(id_text, sizeof(id_text), "id=%s", hub_id);
    snprintf(pk_text, sizeof(pk_text), "pk=%.*s", DISCOVERY_PK_LENGTH, key_sha256);
    memset(&config, 0, sizeof(config));
    config.publish_type = DISCOVERY_SERVICE_HUB;
    config.publish_name = HUB_DISCOVERY_NAME;
    config.publish_port = port;
    config.publish_txt[0] = "v=1";
    config.publish_txt[1] = id_text;
    config.publish_txt[2] = pk_text;
    config.browse_type = DISCOVERY_SERVICE_BELL;
    config.browse_kind = DISCOVERY_TXT_BELL;
    discovery->mdns = mdns_service_start(&config, error, error_size);
    if (discovery->mdns == NULL) {
        free(discovery);
        return NULL;
    }
    log_info("announcing hub %s on port %u over mDNS", hub_id, (unsigned)port);
    return discovery;
}

/* Stop (see hub_discovery.h). */
void hub_discovery_stop(struct hub_discovery *discovery)
{
    if (discovery == NULL)
        return;
    mdns_service_stop(discovery->mdns);
    free(discovery);
}

/* The doorbells in pairing mode (see hub_discovery.h). */
int hub_discovery_list(struct hub_discovery *discovery, struct hub_discovery_doorbell *out, int max)
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
        memcpy(out[i].device_id, found[i].txt.id, sizeof(out[i].device_id));
        memcpy(out[i].model, found[i].txt.model, sizeof(out[i].model));
        memcpy(out[i].address, found[i].address, sizeof(out[i].address));
        out[i].port = found[i].port;
        out[i].seen_ms = found[i].seen_realtime_ms;
    }
    free(found);
    return count;
}

/* The port of a listen spec, or 0 (see hub_discovery.h). */
uint16_t hub_discovery_port_of(const char *listen)
{
    const char *colon = strrchr(listen, ':');
    const char *text = colon != NULL ? colon + 1 : listen;
    char *end = NULL;
    long port = strtol(text, &end, 10);

    if (end == text || (*end != '\0' && strcmp(end, "s") != 0) || port < 1 || port > 65535)
        return 0;
    return (uint16_t)port;
}
