/*
 * mdns_service.h - one program's mDNS/DNS-SD presence through Avahi: it
 * publishes one service (while the owner says so) and browses one other
 * service type, keeping a bounded table of what it found. The hub publishes
 * `_doorstep._tcp` and browses `_doorstep-bell._tcp`; a doorbell the other
 * way round (appliance/discovery/, firmware/discovery/).
 *
 * Threads: Avahi's threaded poll ("the mDNS thread", started by
 * mdns_service_start) runs every Avahi callback and the one-second tick that
 * asks the owner whether to publish. mdns_service_list and
 * mdns_service_published_name may be called from any thread.
 *
 * Locks: struct mdns_service's `lock` guards the found table and the
 * published name (see mdns_service.c). The owner's should_publish callback
 * runs on the mDNS thread without that lock.
 *
 * Ownership: the caller owns what mdns_service_start returns and frees it
 * with mdns_service_stop (which stops the mDNS thread first). Every record
 * in the table was checked by common/discovery_txt.c; an address is only a
 * candidate (whoever connects to it checks the peer's key).
 *
 * Resilience: avahi-daemon (or the system bus) absent at start, or going
 * away later, is logged once; the client is made again every few seconds
 * and publishes and browses again when the daemon is back. A name collision
 * renames the service (Avahi's alternative name: "Name #2").
 */
#ifndef DOORSTEP_MDNS_SERVICE_H
#define DOORSTEP_MDNS_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include "common/discovery_txt.h"

#define MDNS_SERVICE_TXT_MAX     4                /* TXT strings a published service carries */
#define MDNS_SERVICE_FOUND_MAX   64               /* valid services kept at once */
#define MDNS_SERVICE_SLOTS       128              /* services followed at once, valid or not */
#define MDNS_SERVICE_ADDRESS_MAX 48               /* text of an IPv4 or IPv6 address */
#define MDNS_SERVICE_EXPIRE_MS   (10 * 60 * 1000) /* a service not seen for this long is gone */

/* Asked once a second on the mDNS thread: publish now (1) or not (0). */
typedef int (*mdns_service_publish_callback)(void *context);

struct mdns_service_config {
    const char *publish_type; /* e.g. DISCOVERY_SERVICE_HUB; NULL = publish nothing */
    const char *publish_name; /* instance name (renamed on a collision) */
    uint16_t publish_port;
    const char *publish_txt[MDNS_SERVICE_TXT_MAX]; /* "key=value", NULL after the last */
    mdns_service_publish_callback should_publish;  /* NULL = always */
    void *context;
    const char *browse_type; /* NULL = browse nothing */
    enum discovery_txt_kind browse_kind;
    int64_t expire_ms; /* 0 = MDNS_SERVICE_EXPIRE_MS */
};

/* One valid service found on the network. */
struct mdns_service_found {
    char name[DISCOVERY_NAME_MAX + 1];      /* instance name, printable */
    char host[DISCOVERY_HOST_MAX + 1];      /* e.g. "doorbell.local", printable */
    char address[MDNS_SERVICE_ADDRESS_MAX]; /* IPv4, as resolved: a candidate only */
    uint16_t port;
    struct discovery_txt txt;
    int64_t first_seen_ms;    /* monotonic clock */
    int64_t seen_ms;          /* monotonic clock, last resolved */
    int64_t seen_realtime_ms; /* wall clock of seen_ms, for people */
};

struct mdns_service;

/* Copy the configuration and start the mDNS thread; NULL with a reason if
 * the thread cannot start. A missing avahi-daemon is not an error. */
struct mdns_service *mdns_service_start(const struct mdns_service_config *config, char *error,
                                        size_t error_size);

/* Stop the mDNS thread, withdraw the service, free everything. NULL is fine. */
void mdns_service_stop(struct mdns_service *service);

/* Copy up to max valid services into out, one per id (the most recently
 * seen), oldest first; returns how many. Any thread. */
int mdns_service_list(struct mdns_service *service, struct mdns_service_found *out, int max);

/* The name the service is published under right now into out: 1, or 0 when
 * it is not published (out is then ""). Any thread. */
int mdns_service_published_name(struct mdns_service *service, char *out, size_t out_size);

#endif
