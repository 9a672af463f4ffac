/*
 * mdns_service.c - publishing one service and browsing another over mDNS
 * through Avahi's client library (see mdns_service.h).
 *
 * Thread: everything named mdns_service_on_* and mdns_service_tick runs on
 * Avahi's threaded poll (the mDNS thread), which holds its own lock while
 * it calls us; mdns_service_list and mdns_service_published_name run on the
 * caller's thread and take `lock`, which the mDNS thread also takes around
 * every change of the table. Order: Avahi's poll lock, then `lock`.
 *
 * Owns: the Avahi client, its entry group, browser and resolvers (mDNS
 * thread only), and the table of services found (under `lock`).
 */
#define LOG_MODULE "mdns"

#include "common/mdns_service.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-client/publish.h>
#include <avahi-common/alternative.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/strlst.h>
#include <avahi-common/thread-watch.h>
#include <avahi-common/timeval.h>

#include "common/clock.h"
#include "common/error_text.h"
#include "common/log.h"
#include "common/mutex.h"

#define MDNS_SERVICE_TICK_MS      1000
#define MDNS_SERVICE_RECONNECT_MS 3000
#define MDNS_SERVICE_REFRESH_MS   (2 * 60 * 1000) /* re-resolve a service this often */
#define MDNS_SERVICE_DOMAIN_MAX   64
#define MDNS_SERVICE_ERROR_SIZE   128

enum mdns_service_slot_state {
    MDNS_SLOT_EMPTY,
    MDNS_SLOT_RESOLVING, /* announced, not resolved (yet) */
    MDNS_SLOT_VALID,     /* resolved, its TXT record in form */
    MDNS_SLOT_REJECTED,  /* resolved, its TXT record refused */
};

/* One service instance the browser reported. */
struct mdns_service_slot {
    enum mdns_service_slot_state state;
    AvahiIfIndex interface;
    AvahiProtocol protocol;
    char raw_name[DISCOVERY_NAME_MAX * 4 + 1]; /* as Avahi gave it (UTF-8), for the resolver */
    char domain[MDNS_SERVICE_DOMAIN_MAX];
    AvahiServiceResolver *resolver; /* mDNS thread only */
    int64_t resolved_ms;            /* when the resolver was (re)made */
    struct mdns_service_found found;
};

struct mdns_service {
    struct mdns_service_config config; /* strings below point into copies */
    char publish_type[64];
    char browse_type[64];
    char txt_copy[MDNS_SERVICE_TXT_MAX][DISCOVERY_MODEL_MAX + 16];
    AvahiThreadedPoll *poll;
    /* mDNS thread only (or before the thread starts / after it stopped): */
    AvahiClient *client;
    AvahiEntryGroup *group;
    AvahiServiceBrowser *browser;
    AvahiTimeout *tick;
    char *name;       /* avahi_strdup'd; renamed on collisions */
    int publishing;   /* the group holds our service (committed or being committed) */
    int reconnecting; /* the client is gone; tick makes a new one when due */
    int64_t reconnect_at_ms;
    int warned_absent; /* "avahi-daemon is not reachable" said once until it is back */
    int full_warned;
    pthread_mutex_t lock; /* guards everything below */
    struct mdns_service_slot slots[MDNS_SERVICE_SLOTS];
    char published_name[DISCOVERY_NAME_MAX * 4 + 1]; /* "" when not published */
};

static void mdns_service_on_client(AvahiClient *client, AvahiClientState state, void *userdata);

/* Withdraw and free the entry group. mDNS thread. */
static void mdns_service_drop_group(struct mdns_service *service)
{
    if (service->group != NULL)
        avahi_entry_group_free(service->group);
    service->group = NULL;
    service->publishing = 0;
    pthread_mutex_lock(&service->lock);
    service->published_name[0] = '\0';
    pthread_mutex_unlock(&service->lock);
}

/* Free every resolver and forget every slot. mDNS thread (or stopped). */
static void mdns_service_drop_slots(struct mdns_service *service)
{
    pthread_mutex_lock(&service->lock);
    for (int i = 0; i < MDNS_SERVICE_SLOTS; i++) {
        if (service->slots[i].resolver != NULL)
            avahi_service_resolver_free(service->slots[i].resolver);
        memset(&service->slots[i], 0, sizeof(service->slots[i]));
    }
    pthread_mutex_unlock(&service->lock);
}

/* Free the browser, the group and the resolvers (the daemon that held
 * them is gone, or we stop). mDNS thread (or stopped). */
static void mdns_service_drop_objects(struct mdns_service *service)
{
    mdns_service_drop_slots(service);
    if (service->browser != NULL)
        avahi_service_browser_free(service->browser);
    service->browser = NULL;
    mdns_service_drop_group(service);
}

/* Free those and the client. mDNS thread (or stopped). */
static void mdns_service_drop_client(struct mdns_service *service)
{
    mdns_service_drop_objects(service);
    if (service->client != NULL)
        avahi_client_free(service->client);
    service->client = NULL;
}

/* Take the next name Avahi suggests after a collision ("Name #2"). */
static void mdns_service_rename(struct mdns_service *service)
{
    char *next = avahi_alternative_service_name(service->name);

    if (next == NULL)
        return;
    log_info("the name \"%s\" is taken on this network; now \"%s\"", service->name, next);
    avahi_free(service->name);
    service->name = next;
}

/* The entry group's state changed. mDNS thread. */
static void mdns_service_on_group(AvahiEntryGroup *group, AvahiEntryGroupState state,
                                  void *userdata)
{
    struct mdns_service *service = userdata;

    if (group != service->group && service->group != NULL)
        return;
    switch (state) {
    case AVAHI_ENTRY_GROUP_ESTABLISHED:
        pthread_mutex_lock(&service->lock);
        snprintf(service->published_name, sizeof(service->published_name), "%s", service->name);
        pthread_mutex_unlock(&service->lock);
        log_info("published \"%s\" (%s, port %u)", service->name, service->publish_type,
                 (unsigned)service->config.publish_port);
        break;
    case AVAHI_ENTRY_GROUP_COLLISION:
        mdns_service_rename(service);
        /* the next tick publishes under the new name */
        avahi_entry_group_reset(group);
        service->publishing = 0;
        break;
    case AVAHI_ENTRY_GROUP_FAILURE:
        log_warn("publishing failed: %s",
                 avahi_strerror(avahi_client_errno(avahi_entry_group_get_client(group))));
        avahi_entry_group_reset(group);
        service->publishing = 0;
        break;
    default:
        break;
    }
}

/* Add our service to the group and commit it; renames on a local
 * collision. mDNS thread, with a running client. */
static void mdns_service_publish(struct mdns_service *service)
{
    AvahiStringList *txt = NULL;
    int rc = 0;

    if (service->group == NULL) {
        service->group = avahi_entry_group_new(service->client, mdns_service_on_group, service);
        if (service->group == NULL) {
            log_warn("cannot make an entry group: %s",
                     avahi_strerror(avahi_client_errno(service->client)));
            return;
        }
    }
    for (int i = 0; i < MDNS_SERVICE_TXT_MAX && service->config.publish_txt[i] != NULL; i++)
        txt = avahi_string_list_add(txt, service->config.publish_txt[i]);
    for (int attempt = 0; attempt < 16; attempt++) {
        rc = avahi_entry_group_add_service_strlst(
            service->group, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, 0, service->name,
            service->publish_type, NULL, NULL, service->config.publish_port, txt);
        if (rc != AVAHI_ERR_COLLISION)
            break;
        mdns_service_rename(service);
    }
    if (rc == 0)
        rc = avahi_entry_group_commit(service->group);
    avahi_string_list_free(txt);
    if (rc != 0) {
        log_warn("cannot publish %s: %s", service->publish_type, avahi_strerror(rc));
        avahi_entry_group_reset(service->group);
        return;
    }
    service->publishing = 1;
}

/* The slot of (interface, protocol, name, domain), or NULL. Under lock. */
static struct mdns_service_slot *mdns_service_find_locked(struct mdns_service *service,
                                                          AvahiIfIndex interface,
                                                          AvahiProtocol protocol, const char *name,
                                                          const char *domain)
{
    mutex_assert_held(&service->lock);
    for (int i = 0; i < MDNS_SERVICE_SLOTS; i++) {
        struct mdns_service_slot *slot = &service->slots[i];
        if (slot->state != MDNS_SLOT_EMPTY && slot->interface == interface &&
            slot->protocol == protocol && strcmp(slot->raw_name, name) == 0 &&
            strcmp(slot->domain, domain) == 0)
            return slot;
    }
    return NULL;
}

/* Free a slot's resolver and empty it. Under lock, mDNS thread. */
static void mdns_service_clear_slot_locked(struct mdns_service *service,
                                           struct mdns_service_slot *slot)
{
    mutex_assert_held(&service->lock);
    if (slot->resolver != NULL)
        avahi_service_resolver_free(slot->resolver);
    memset(slot, 0, sizeof(*slot));
}

/* A resolver reported. Its TXT record goes through discovery_txt_parse;
 * only a record in form becomes a VALID entry. mDNS thread. */
static void mdns_service_on_resolved(AvahiServiceResolver *resolver, AvahiIfIndex interface,
                                     AvahiProtocol protocol, AvahiResolverEvent event,
                                     const char *name, const char *type, const char *domain,
                                     const char *host_name, const AvahiAddress *address,
                                     uint16_t port, AvahiStringList *txt,
                                     AvahiLookupResultFlags flags, void *userdata)
{
    struct mdns_service *service = userdata;
    uint8_t record[DISCOVERY_TXT_RECORD_MAX];
    struct discovery_txt parsed;
    char error[MDNS_SERVICE_ERROR_SIZE] = "", clean[DISCOVERY_NAME_MAX + 1];
    size_t record_size = 0;
    struct mdns_service_slot *slot = NULL;

    (void)type;
    (void)flags;
    pthread_mutex_lock(&service->lock);
    for (int i = 0; i < MDNS_SERVICE_SLOTS; i++)
        if (service->slots[i].resolver == resolver)
            slot = &service->slots[i];
    if (slot == NULL || name == NULL || domain == NULL)
        goto out;
    if (event != AVAHI_RESOLVER_FOUND) {
        /* Not answered in time: the tick tries again; expiry ends it. */
        avahi_service_resolver_free(resolver);
        slot->resolver = NULL;
        goto out;
    }
    if (txt != NULL && avahi_string_list_length(txt) <= DISCOVERY_TXT_STRINGS_MAX &&
        avahi_string_list_serialize(txt, NULL, 0) <= sizeof(record))
        record_size = avahi_string_list_serialize(txt, record, sizeof(record));
    if (discovery_txt_clean_name(name, strlen(name), DISCOVERY_NAME_MAX, clean, sizeof(clean)) != 0)
        error_text_set(error, sizeof(error), "the instance name is too long");
    else if (discovery_txt_parse(record, record_size, service->config.browse_kind, &parsed, error,
                                 sizeof(error)) == 0 &&
             discovery_txt_clean_name(host_name != NULL ? host_name : "",
                                      host_name != NULL ? strlen(host_name) : 0, DISCOVERY_HOST_MAX,
                                      slot->found.host, sizeof(slot->found.host)) != 0)
        error_text_set(error, sizeof(error), "the host name is empty or too long");
    if (error[0] != '\0' || address == NULL || address->proto != AVAHI_PROTO_INET) {
        if (slot->state != MDNS_SLOT_REJECTED)
            log_warn("ignoring an announcement of %s on interface %d: %s", clean[0] ? clean : "?",
                     (int)interface, error[0] ? error : "no IPv4 address");
        int64_t first_seen_ms = slot->found.first_seen_ms;
        slot->state = MDNS_SLOT_REJECTED;
        memset(&slot->found, 0, sizeof(slot->found));
        slot->found.first_seen_ms = first_seen_ms; /* expires from when it appeared */
        goto out;
    }
    memcpy(slot->found.name, clean, sizeof(clean));
    avahi_address_snprint(slot->found.address, sizeof(slot->found.address), address);
    slot->found.port = port;
    slot->found.txt = parsed;
    slot->found.seen_ms = clock_monotonic_ms();
    slot->found.seen_realtime_ms = clock_realtime_ms();
    if (slot->state != MDNS_SLOT_VALID)
        log_info("found %s \"%s\" id %s at %s:%u", service->browse_type, clean, parsed.id,
                 slot->found.address, (unsigned)port);
    slot->state = MDNS_SLOT_VALID;
    (void)protocol;
out:
    pthread_mutex_unlock(&service->lock);
}

/* Start (or restart) the resolver of a slot. Under lock, mDNS thread. */
static void mdns_service_resolve_locked(struct mdns_service *service,
                                        struct mdns_service_slot *slot)
{
    mutex_assert_held(&service->lock);
    if (slot->resolver != NULL)
        avahi_service_resolver_free(slot->resolver);
    slot->resolved_ms = clock_monotonic_ms();
    /* IPv4 addresses only: an IPv6 link-local one needs its interface. */
    slot->resolver = avahi_service_resolver_new(
        service->client, slot->interface, slot->protocol, slot->raw_name, service->browse_type,
        slot->domain, AVAHI_PROTO_INET, 0, mdns_service_on_resolved, service);
}

/* The browser reported a service appearing or leaving. mDNS thread. */
static void mdns_service_on_browse(AvahiServiceBrowser *browser, AvahiIfIndex interface,
                                   AvahiProtocol protocol, AvahiBrowserEvent event,
                                   const char *name, const char *type, const char *domain,
                                   AvahiLookupResultFlags flags, void *userdata)
{
    struct mdns_service *service = userdata;
    struct mdns_service_slot *slot;

    (void)browser;
    (void)type;
    (void)flags;
    if (event == AVAHI_BROWSER_FAILURE) {
        log_warn("browsing %s failed: %s", service->browse_type,
                 avahi_strerror(avahi_client_errno(service->client)));
        return;
    }
    if ((event != AVAHI_BROWSER_NEW && event != AVAHI_BROWSER_REMOVE) || name == NULL ||
        domain == NULL)
        return;
    if (strlen(name) >= sizeof(slot->raw_name) || strlen(domain) >= sizeof(slot->domain))
        return; /* longer than DNS allows: not followed */
    pthread_mutex_lock(&service->lock);
    slot = mdns_service_find_locked(service, interface, protocol, name, domain);
    if (event == AVAHI_BROWSER_REMOVE) {
        if (slot != NULL)
            mdns_service_clear_slot_locked(service, slot);
        goto out;
    }
    if (slot != NULL)
        goto out;
    for (int i = 0; i < MDNS_SERVICE_SLOTS && slot == NULL; i++)
        if (service->slots[i].state == MDNS_SLOT_EMPTY)
            slot = &service->slots[i];
    if (slot == NULL) {
        if (!service->full_warned)
            log_warn("following %d services already; ignoring more", MDNS_SERVICE_SLOTS);
        service->full_warned = 1;
        goto out;
    }
    service->full_warned = 0;
    slot->state = MDNS_SLOT_RESOLVING;
    slot->interface = interface;
    slot->protocol = protocol;
    snprintf(slot->raw_name, sizeof(slot->raw_name), "%s", name);
    snprintf(slot->domain, sizeof(slot->domain), "%s", domain);
    slot->found.first_seen_ms = clock_monotonic_ms();
    mdns_service_resolve_locked(service, slot);
out:
    pthread_mutex_unlock(&service->lock);
}

/* Once a second: publish or withdraw as the owner wants, expire and
 * re-resolve old entries, make a new client when the old one failed.
 * mDNS thread. */
static void mdns_service_tick(AvahiTimeout *timeout, void *userdata)
{
    struct mdns_service *service = userdata;
    const AvahiPoll *api = avahi_threaded_poll_get(service->poll);
    int64_t now = clock_monotonic_ms();
    struct timeval next;
    int want;

    if (service->reconnecting && now >= service->reconnect_at_ms) {
        AvahiClient *client;
        int rc = 0;
        mdns_service_drop_client(service);
        service->reconnecting = 0;
        client = avahi_client_new(api, AVAHI_CLIENT_NO_FAIL, mdns_service_on_client, service, &rc);
        service->client = client; /* the callback saw it too, or NULL on failure */
        if (client == NULL) {
            if (!service->warned_absent)
                log_warn("mDNS is not available (%s); discovery keeps trying", avahi_strerror(rc));
            service->warned_absent = 1;
            service->reconnecting = 1;
            service->reconnect_at_ms = now + MDNS_SERVICE_RECONNECT_MS;
        }
    }
    if (service->client != NULL &&
        avahi_client_get_state(service->client) == AVAHI_CLIENT_S_RUNNING &&
        service->config.publish_type != NULL) {
        want = service->config.should_publish == NULL ||
               service->config.should_publish(service->config.context);
        if (want && !service->publishing)
            mdns_service_publish(service);
        else if (!want && service->publishing) {
            log_info("no longer publishing \"%s\"", service->name);
            mdns_service_drop_group(service);
        }
    }
    pthread_mutex_lock(&service->lock);
    for (int i = 0; i < MDNS_SERVICE_SLOTS; i++) {
        struct mdns_service_slot *slot = &service->slots[i];
        int64_t seen =
            slot->state == MDNS_SLOT_VALID ? slot->found.seen_ms : slot->found.first_seen_ms;
        if (slot->state == MDNS_SLOT_EMPTY)
            continue;
        if (now - seen > service->config.expire_ms)
            mdns_service_clear_slot_locked(service, slot);
        else if (service->client != NULL && now - slot->resolved_ms > MDNS_SERVICE_REFRESH_MS)
            mdns_service_resolve_locked(service, slot);
    }
    pthread_mutex_unlock(&service->lock);
    avahi_elapse_time(&next, MDNS_SERVICE_TICK_MS, 0);
    api->timeout_update(timeout, &next);
}

/* The client's state changed: browse and publish once running; forget
 * everything when the daemon goes; start over after a failure. mDNS thread
 * (also inside avahi_client_new, before it returned the client). */
static void mdns_service_on_client(AvahiClient *client, AvahiClientState state, void *userdata)
{
    struct mdns_service *service = userdata;

    service->client = client;
    switch (state) {
    case AVAHI_CLIENT_S_RUNNING:
        if (service->warned_absent)
            log_info("avahi-daemon is reachable again");
        service->warned_absent = 0;
        if (service->browser == NULL && service->config.browse_type != NULL) {
            service->browser = avahi_service_browser_new(client, AVAHI_IF_UNSPEC,
                                                         AVAHI_PROTO_UNSPEC, service->browse_type,
                                                         NULL, 0, mdns_service_on_browse, service);
            if (service->browser == NULL)
                log_warn("cannot browse %s: %s", service->browse_type,
                         avahi_strerror(avahi_client_errno(client)));
        }
        /* the tick publishes within a second */
        break;
    case AVAHI_CLIENT_S_COLLISION:
    case AVAHI_CLIENT_S_REGISTERING:
        /* The host name changes: publish again once running. */
        if (service->group != NULL)
            avahi_entry_group_reset(service->group);
        service->publishing = 0;
        pthread_mutex_lock(&service->lock);
        service->published_name[0] = '\0';
        pthread_mutex_unlock(&service->lock);
        break;
    case AVAHI_CLIENT_CONNECTING:
        /* The daemon went (or is not there yet): what it held is gone. */
        mdns_service_drop_objects(service);
        if (!service->warned_absent)
            log_warn("avahi-daemon is not reachable; discovery waits for it");
        service->warned_absent = 1;
        break;
    case AVAHI_CLIENT_FAILURE:
        if (!service->warned_absent)
            log_warn("lost avahi-daemon (%s); discovery keeps trying",
                     avahi_strerror(avahi_client_errno(client)));
        service->warned_absent = 1;
        /* What the daemon held is gone; the client itself is not freed
         * inside its own callback: the tick makes a new one. */
        mdns_service_drop_objects(service);
        service->reconnecting = 1;
        service->reconnect_at_ms = clock_monotonic_ms() + MDNS_SERVICE_RECONNECT_MS;
        break;
    }
}

/* Copy the configuration into service; 0, or -1 with a reason. */
static int mdns_service_copy_config(struct mdns_service *service,
                                    const struct mdns_service_config *config, char *error,
                                    size_t error_size)
{
    service->config = *config;
    if (service->config.expire_ms <= 0)
        service->config.expire_ms = MDNS_SERVICE_EXPIRE_MS;
    if ((config->publish_type != NULL &&
         (strlen(config->publish_type) >= sizeof(service->publish_type) ||
          config->publish_name == NULL)) ||
        (config->browse_type != NULL &&
         strlen(config->browse_type) >= sizeof(service->browse_type))) {
        error_text_set(error, error_size, "bad mDNS service configuration");
        return -1;
    }
    if (config->publish_type != NULL) {
        snprintf(service->publish_type, sizeof(service->publish_type), "%s", config->publish_type);
        service->config.publish_type = service->publish_type;
        service->name = avahi_strdup(config->publish_name);
        if (service->name == NULL) {
            error_text_set(error, error_size, "out of memory");
            return -1;
        }
    }
    if (config->browse_type != NULL) {
        snprintf(service->browse_type, sizeof(service->browse_type), "%s", config->browse_type);
        service->config.browse_type = service->browse_type;
    }
    for (int i = 0; i < MDNS_SERVICE_TXT_MAX; i++) {
        if (config->publish_txt[i] == NULL)
            break;
        if (strlen(config->publish_txt[i]) >= sizeof(service->txt_copy[i])) {
            error_text_set(error, error_size, "a TXT string is too long");
            return -1;
        }
        snprintf(service->txt_copy[i], sizeof(service->txt_copy[i]), "%s", config->publish_txt[i]);
        service->config.publish_txt[i] = service->txt_copy[i];
    }
    return 0;
}

/* Start the mDNS thread (see mdns_service.h); the caller frees the result
 * with mdns_service_stop. */
struct mdns_service *mdns_service_start(const struct mdns_service_config *config, char *error,
                                        size_t error_size)
{
    struct mdns_service *service = calloc(1, sizeof(*service));
    struct timeval first;

    if (service == NULL) {
        error_text_set(error, error_size, "out of memory");
        return NULL;
    }
    if (mutex_init_checked(&service->lock) != 0) {
        free(service);
        error_text_set(error, error_size, "cannot make a mutex");
        return NULL;
    }
    if (mdns_service_copy_config(service, config, error, error_size) != 0)
        goto fail;
    service->poll = avahi_threaded_poll_new();
    if (service->poll == NULL) {
        error_text_set(error, error_size, "cannot make Avahi's poll");
        goto fail;
    }
    /* The first tick makes the client (on the mDNS thread, like every later one). */
    service->reconnecting = 1;
    service->reconnect_at_ms = 0;
    avahi_elapse_time(&first, 0, 0);
    service->tick = avahi_threaded_poll_get(service->poll)
                        ->timeout_new(avahi_threaded_poll_get(service->poll), &first,
                                      mdns_service_tick, service);
    if (service->tick == NULL || avahi_threaded_poll_start(service->poll) != 0) {
        error_text_set(error, error_size, "cannot start the mDNS thread");
        goto fail;
    }
    return service;

fail:
    if (service->poll != NULL)
        avahi_threaded_poll_free(service->poll); /* frees the timeout too */
    avahi_free(service->name);
    pthread_mutex_destroy(&service->lock);
    free(service);
    return NULL;
}

/* Stop the mDNS thread, then free what it used (see mdns_service.h). */
void mdns_service_stop(struct mdns_service *service)
{
    if (service == NULL)
        return;
    avahi_threaded_poll_stop(service->poll);
    mdns_service_drop_client(service); /* withdraws our service */
    avahi_threaded_poll_free(service->poll);
    avahi_free(service->name);
    pthread_mutex_destroy(&service->lock);
    free(service);
}

/* Copy the valid services, one per id, oldest first (see mdns_service.h). */
int mdns_service_list(struct mdns_service *service, struct mdns_service_found *out, int max)
{
    int count = 0;

    if (service == NULL || max <= 0)
        return 0;
    pthread_mutex_lock(&service->lock);
    for (int i = 0; i < MDNS_SERVICE_SLOTS; i++) {
        const struct mdns_service_found *found = &service->slots[i].found;
        int same = -1;
        if (service->slots[i].state != MDNS_SLOT_VALID)
            continue;
        for (int j = 0; j < count && same < 0; j++)
            if (strcmp(out[j].txt.id, found->txt.id) == 0)
                same = j;
        if (same >= 0) {
            if (found->seen_ms > out[same].seen_ms)
                out[same] = *found;
        } else if (count < max && count < MDNS_SERVICE_FOUND_MAX) {
            out[count++] = *found;
        }
    }
    pthread_mutex_unlock(&service->lock);
    /* Oldest first: insertion sort on first_seen_ms (at most 64 entries). */
    for (int i = 1; i < count; i++)
        for (int j = i; j > 0 && out[j - 1].first_seen_ms > out[j].first_seen_ms; j--) {
            struct mdns_service_found swap = out[j];
            out[j] = out[j - 1];
            out[j - 1] = swap;
        }
    return count;
}

/* The published name into out: 1, or 0 with out "" (see mdns_service.h). */
int mdns_service_published_name(struct mdns_service *service, char *out, size_t out_size)
{
    int published;

    if (out_size == 0)
        return 0;
    out[0] = '\0';
    if (service == NULL)
        return 0;
    pthread_mutex_lock(&service->lock);
    snprintf(out, out_size, "%s", service->published_name);
    published = service->published_name[0] != '\0';
    pthread_mutex_unlock(&service->lock);
    return published;
}
