/*
 * doorbell_discovery.h - the doorbell on the local network: while it is in
 * pairing mode it publishes `_doorstep-bell._tcp` (TXT v=1, id=<device
 * id>, model=<model>), and it browses `_doorstep._tcp` so that a doorbell
 * started without --hub finds its hub (docs/protocol.md, "Discovery").
 *
 * Threads: start, stop and the hub queries run on the caller's thread (the
 * main thread); the mDNS work and the in_pairing_mode callback run on the
 * mDNS thread of common/mdns_service.c, which owns the lock of the found
 * table. The callback must be quick and thread-safe (an atomic read).
 *
 * Ownership: the caller owns the struct and frees it with
 * doorbell_discovery_stop. A hub found here is a candidate: the TLS
 * connection checks the pinned key (--hub-key-sha256, or the pin kept after
 * pairing) before anything is sent.
 */
#ifndef DOORSTEP_DOORBELL_DISCOVERY_H
#define DOORSTEP_DOORBELL_DISCOVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/mdns_service.h"

#define DOORBELL_DISCOVERY_NAME     "Doorstep doorbell"
#define DOORBELL_DISCOVERY_URL_SIZE (8 + MDNS_SERVICE_ADDRESS_MAX + 8)

/* Polled once a second on the mDNS thread: is pairing mode open? */
typedef bool (*doorbell_discovery_pairing_callback)(void *context);

struct doorbell_discovery_config {
    const char *device_id; /* 12 lowercase hex digits */
    const char *model;     /* printable, at most DISCOVERY_MODEL_MAX characters */
    doorbell_discovery_pairing_callback in_pairing_mode; /* NULL = never announce */
    void *context;
};

/* A hub heard on the network. */
struct doorbell_discovery_hub {
    char hub_id[DISCOVERY_ID_LENGTH + 1];
    char pk[DISCOVERY_PK_LENGTH + 1]; /* first 16 hex digits of its key's SHA-256 */
    char host[DISCOVERY_HOST_MAX + 1];
    char address[MDNS_SERVICE_ADDRESS_MAX]; /* IPv4 */
    uint16_t port;
};

struct doorbell_discovery;

/* Start announcing (while in_pairing_mode says so) and browsing for hubs.
 * NULL with a reason when the configuration is bad or the thread cannot
 * start; a missing avahi-daemon is logged and retried. */
struct doorbell_discovery *doorbell_discovery_start(const struct doorbell_discovery_config *config,
                                                    char *error, size_t error_size);

/* Withdraw the announcement and stop. NULL is fine. */
void doorbell_discovery_stop(struct doorbell_discovery *discovery);

/* Copy up to max hubs heard into out, the first heard first; returns how
 * many. Any thread. */
int doorbell_discovery_hub_candidates(struct doorbell_discovery *discovery,
                                      struct doorbell_discovery_hub *out, int max);

/*
 * Choose a hub to connect to: with pin (64 hex digits: the SHA-256 of the
 * hub's public key), the first hub whose pk is the start of the pin; without
 * one, the first hub heard. Writes "wss://ADDRESS:PORT" into url and
 * returns 1, or 0 when no hub fits yet. Any thread.
 */
int doorbell_discovery_pick_hub(struct doorbell_discovery *discovery, const char *pin, char *url,
                                size_t url_size);

#endif
