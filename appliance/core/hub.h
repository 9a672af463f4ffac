/*
 * hub.h - the one struct that ties the running hub together: settings, TLS
 * identity, the doorbell registry and the HTTP server. Created by main(),
 * handed to civetweb as callback data, freed after the server stops.
 *
 * Fields are written by the main thread before the server starts and are
 * read-only afterwards, except `ready` (atomic) and what the registry guards
 * with its own locks.
 */
#ifndef DOORSTEP_HUB_H
#define DOORSTEP_HUB_H

#include <stdatomic.h>

#include "core/config.h"
#include "tls/certificate.h"

struct device_registry;
struct retention;
struct event_push;
struct chime;
struct hub_settings;
struct notify;
struct authority;
struct talk_hub;
struct hub_discovery;
struct device_pairing;
struct event_row;
struct detection_pool;
struct person_vote;
struct mg_context;

struct hub {
    struct config config;
    struct certificate_info certificate;
    struct device_registry *registry;
    struct mg_context *server;
    struct retention *retention;   /* deletes recordings past their limits; own thread */
    struct event_push *event_push; /* events to the open web UIs; own thread */
    /* Told of each event once stored (any thread; never blocks): the web
     * UIs' feed (http/event_push.c). Set by main.c before the server
     * starts, so the events domain calls the adapter without including it. */
    void (*event_published)(struct hub *hub, const struct event_row *event);
    struct hub_settings *settings;   /* what the web UI sets, over config (hub_settings.lock) */
    struct chime *chime;             /* indoor chime (on or off); own thread */
    struct notify *notify;           /* ntfy and webhook notifications; own thread */
    struct authority *authority;     /* closes connections whose authority is gone; own thread */
    struct talk_hub *talk;           /* talk-back floors and queues (talk/talk_floor.h) */
    struct device_pairing *pairing;  /* doorbells waiting on /pair/v1 (devices/device_pairing.h) */
    struct hub_discovery *discovery; /* mDNS (discovery/hub_discovery.h); NULL with --no-mdns;
                                        own thread */
    /* Person detection (detection/detection_pool.h): the link threads submit
     * detect frames, the pool's workers vote (events/person_vote.h). */
    struct detection_pool *detection;
    struct person_vote *person_votes;
    char hub_id[16]; /* 12 hex digits, data_dir/hub-id; announced over mDNS */
    char database_path[CONFIG_PATH_MAX + 32];
    char recordings_dir[CONFIG_PATH_MAX + 32]; /* data_dir/recordings */
    char public_url[512];                      /* https://host:port, for printed links */
    atomic_int ready; /* 1 once the database is migrated and the server listens */
};

#endif
