/*
 * hub_discovery.h - the hub on the local network: it publishes
 * `_doorstep._tcp` on its HTTPS port (TXT v=1, id=<hub id>, pk=<first 16
 * hex digits of its key's SHA-256>) and lists the doorbells that announce
 * pairing mode (`_doorstep-bell._tcp`), for GET /api/v1/discovery.
 *
 * Threads: hub_discovery_start and hub_discovery_stop run on the main
 * thread; hub_discovery_list on any (civetweb workers). The mDNS work runs
 * on the mDNS thread of common/mdns_service.c, which owns the locks.
 *
 * Ownership: main() owns the struct (hub->discovery) and stops it after
 * the HTTP server. The listed doorbells are candidates only: nothing about
 * them is trusted until a pairing proves the setup code.
 */
#ifndef DOORSTEP_HUB_DISCOVERY_H
#define DOORSTEP_HUB_DISCOVERY_H

#include <stddef.h>
#include <stdint.h>

#include "common/mdns_service.h"

#define HUB_DISCOVERY_ID_FILE "hub-id"
#define HUB_DISCOVERY_NAME    "Doorstep hub"

struct hub_discovery;

/* A doorbell waiting to pair, as the hub heard it. */
struct hub_discovery_doorbell {
    char device_id[DISCOVERY_ID_LENGTH + 1];
    char model[DISCOVERY_MODEL_MAX + 1];
    char address[MDNS_SERVICE_ADDRESS_MAX];
    uint16_t port;
    int64_t seen_ms; /* wall clock, ms since the epoch */
};

/*
 * Load or make the hub id (data_dir/hub-id, 12 hex digits) into id_out.
 * 0, or -1 with a reason.
 */
int hub_discovery_load_id(const char *data_dir, char id_out[DISCOVERY_ID_LENGTH + 1], char *error,
                          size_t error_size);

/*
 * Start publishing the hub (port: its HTTPS port; key_sha256: 64 hex) and
 * browsing for doorbells. NULL with a reason only when the thread cannot
 * start; a missing avahi-daemon is logged and retried.
 */
struct hub_discovery *hub_discovery_start(const char *hub_id, uint16_t port, const char *key_sha256,
                                          char *error, size_t error_size);

/* Withdraw the service and stop. NULL is fine. Main thread. */
void hub_discovery_stop(struct hub_discovery *discovery);

/* Copy up to max doorbells in pairing mode into out; returns how many.
 * NULL discovery (mDNS off) lists none. Any thread. */
int hub_discovery_list(struct hub_discovery *discovery, struct hub_discovery_doorbell *out,
                       int max);

/* The port in a civetweb listen spec ("8443", "127.0.0.1:8443",
 * "[::]:8443", "8443s"): 1..65535, or 0 when there is none. */
uint16_t hub_discovery_port_of(const char *listen);

#endif
