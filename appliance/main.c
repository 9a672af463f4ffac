/*
 * main.c - doorstepd, the Doorstep hub.
 *
 * The main thread loads the settings, opens and migrates the database,
 * makes sure a TLS certificate exists, prints the first-admin setup link when
 * no admin exists yet, starts civetweb, and then does housekeeping once a
 * second (rates, silent links, expired sessions) until SIGTERM or SIGINT.
 * Everything else runs on civetweb's worker threads and the threads of the
 * domains (docs/architecture.md); mDNS discovery (discovery/) has its own,
 * started once the server listens.
 */
#define LOG_MODULE "doorstepd"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "accounts/audit_retention.h"
#include "accounts/authority.h"
#include "accounts/sessions.h"
#include "accounts/setup_token.h"
#include "accounts/users.h"
#include "civetweb.h"
#include "common/log.h"
#include "chime/chime.h"
#include "core/config.h"
#include "core/hub.h"
#include "core/hub_settings.h"
#include "devices/device_pairing.h"
#include "detection/detection_pool.h"
#include "devices/device_registry.h"
#include "discovery/hub_discovery.h"
#include "http/link_server.h"
#include "devices/event_intake.h"
#include "devices/detect_intake.h"
#include "http/event_push.h"
#include "replies/reply_stock.h"
#include "events/event_store.h"
#include "events/person_vote.h"
#include "http/http_server.h"
#include "http/live_server.h"
#include "http/pair_server.h"
#include "http/pair_socket.h"
#include "talk/talk_floor.h"
#include "notify/notify.h"
#include "recording/reconcile.h"
#include "recording/retention.h"
#include "storage/database.h"
#include "storage/database_reserve.h"
#include "tls/certificate.h"

#define HOUSEKEEPING_SESSION_PURGE_MS (10 * 60 * 1000)

/* Create the data directory (and parents) if missing; it holds secrets: 0750. */
static int hub_prepare_data_dir(const char *path)
{
    char partial[CONFIG_PATH_MAX];
    size_t length = strlen(path);

    if (length == 0 || length >= sizeof(partial))
        return -1;
    memcpy(partial, path, length + 1);
    for (char *slash = partial + 1; *slash != '\0'; slash++) {
        if (*slash != '/')
            continue;
        *slash = '\0';
        if (mkdir(partial, 0755) != 0 && errno != EEXIST)
            return -1;
        *slash = '/';
    }
    if (mkdir(partial, 0750) != 0 && errno != EEXIST)
        return -1;
    return access(partial, W_OK) == 0 ? 0 : -1;
}

/* https://host:port for printed links. */
static void hub_make_public_url(struct hub *hub)
{
    const char *host = hub->config.public_host;
    const char *colon = strrchr(hub->config.listen, ':');
    const char *port = colon ? colon + 1 : hub->config.listen;

    if (host[0] == '\0')
        host = hub->certificate.name_count > 1 ? hub->certificate.names[1] : "localhost";
    snprintf(hub->public_url, sizeof(hub->public_url), "https://%s%s%s:%s",
             strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "", port);
}

/* When no admin exists, make a one-time setup token and print its link. */
static int hub_offer_setup(struct hub *hub, sqlite3 *db)
{
    char token[128];
    int64_t admins = users_count_admins(db);

    if (admins < 0)
        return -1;
    if (admins > 0) {
        /* An admin was made (perhaps with the CLI): no link may linger. */
        char path[CONFIG_PATH_MAX + 16];
        snprintf(path, sizeof(path), "%s/setup-token", hub->config.data_dir);
        unlink(path);
        return 0;
    }
    if (setup_token_generate(hub->config.data_dir, token, sizeof(token)) != 0)
        return -1;
    log_info("no admin yet: create the first one at %s/#/setup?token=%s", hub->public_url, token);
    log_info("(or run: doorstep --data-dir %s user add NAME --role admin)", hub->config.data_dir);
    return 0;
}

/* Wait up to one second for SIGTERM/SIGINT; returns the signal or 0. */
static int hub_wait_signal(const sigset_t *signals)
{
    struct timespec timeout = {1, 0};
    int signal_number = sigtimedwait(signals, NULL, &timeout);
    return signal_number > 0 ? signal_number : 0;
}

/* Housekeeping: doorbells that went offline (for offline_event_seconds),
 * came back, run low on battery, or whose recording stopped (a full disk)
 * become events, and so notifications. */
static void hub_report_state_changes(struct hub *hub, int64_t now)
{
    static const char *const names[] = {
        [DEVICE_STATE_OFFLINE] = "offline",
        [DEVICE_STATE_ONLINE] = "online",
        [DEVICE_STATE_LOW_BATTERY] = "low_battery",
    };
    struct device_state_change changes[DEVICE_STATE_MAX_CHANGES];
    int count = device_registry_take_state_changes(
        hub->registry, now, (int64_t)hub->config.offline_event_seconds * 1000, changes,
        DEVICE_STATE_MAX_CHANGES);
    for (int i = 0; i < count; i++) {
        const char *type = names[changes[i].what & 7];
        if (changes[i].what == DEVICE_STATE_RECORDING_STOPPED) /* "recording stopped: disk full" */
            type = strcmp(changes[i].detail, "disk_full") == 0       ? "disk_full"
                   : strcmp(changes[i].detail, "database_full") == 0 ? "database_full"
                                                                     : "recording_stopped";
        /* Not stored (the database is full too): kept, written later. */
        event_intake_state_event(hub, changes[i].id, type, now);
    }
}

/* Announce the hub over mDNS and list doorbells in pairing mode, unless
 * --no-mdns. 0, or -1 (logged) when the hub id cannot be kept or the thread
 * cannot start; an absent avahi-daemon is not an error (it is retried). */
static int hub_start_discovery(struct hub *hub)
{
    char error[256];
    uint16_t port = hub_discovery_port_of(hub->config.listen);

    if (hub_discovery_load_id(hub->config.data_dir, hub->hub_id, error, sizeof(error)) != 0) {
        log_error("hub id: %s", error);
        return -1;
    }
    if (!hub->config.mdns) {
        log_info("mDNS is off (--no-mdns): doorbells need the hub's address typed in");
        return 0;
    }
    if (strncmp(hub->config.listen, "127.", 4) == 0 ||
        strncmp(hub->config.listen, "[::1]", 5) == 0 ||
        strncmp(hub->config.listen, "localhost:", 10) == 0) {
        /* No doorbell could reach the address it would announce. */
        log_info("listening on loopback only: not announced over mDNS");
        return 0;
    }
    hub->discovery =
        hub_discovery_start(hub->hub_id, port, hub->certificate.key_sha256, error, sizeof(error));
    if (hub->discovery == NULL) {
        log_error("mDNS: %s", error);
        return -1;
    }
    return 0;
}

/* At most this many glibc malloc arenas (see main()). */
#define HUB_MALLOC_ARENAS   2
#define HUB_DETECTION_QUEUE 32 /* detect frames waiting for the detector, all doorbells */

/* The person detector's pool: max(1, cores - 1) workers (one core stays
 * for recording and live view), HUB_DETECTION_QUEUE frames queued, results
 * voted on (devices/detect_intake.c). 0 or -1 (logged). */
static int hub_start_detection(struct hub *hub)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = cores > 2 ? (int)(cores - 1) : 1;

    hub->person_votes = person_vote_create();
    if (hub->person_votes != NULL)
        hub->detection =
            detection_pool_create(threads, HUB_DETECTION_QUEUE, detect_intake_on_result, hub);
    if (hub->detection == NULL) {
        log_error("cannot start person detection");
        return -1;
    }
    log_info("person detection: %d worker(s), %d frames queued at most", threads,
             HUB_DETECTION_QUEUE);
    return 0;
}

int main(int argc, char **argv)
{
    struct hub *hub = calloc(1, sizeof(*hub));
    struct pair_socket *pairing_socket = NULL;
    const char *extra_names[CONFIG_MAX_HOSTS + 1];
    int extra_count = 0;
    char error[1024];
    sqlite3 *db = NULL;
    sigset_t signals;
    int64_t last_purge = 0;
    struct audit_retention audit_retention = {0};
    int rc, exit_code = 1, signal_number;

    if (hub == NULL)
        return 1;
    /* glibc gives threads up to 8 malloc arenas per core, and an arena keeps
     * the memory freed into it for its own threads: with hundreds of civetweb
     * workers taking turns, each arena settles at the peak of its share and
     * the hub's memory grows with the number of arenas, not with its work.
     * Two arenas (before any thread starts) let freed memory be reused by
     * whichever worker runs next; glibc's per-thread cache still serves the
     * small allocations without the arena lock. docs/performance.md, "Hub
     * memory", has the figures. ASan's allocator ignores this. */
    mallopt(M_ARENA_MAX, HUB_MALLOC_ARENAS);
    rc = config_load(&hub->config, argc, argv);
    if (rc != 0) {
        free(hub);
        return rc > 0 ? 0 : 2;
    }
    log_set_level(hub->config.log_level);
    log_info("doorstepd %s starting (data %s)", DOORSTEP_VERSION, hub->config.data_dir);

    /* Signals are taken synchronously by the main thread; block them before
     * civetweb creates threads so none of those is interrupted. */
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (hub_prepare_data_dir(hub->config.data_dir) != 0) {
        log_error("data directory %s is not usable: %s", hub->config.data_dir, strerror(errno));
        goto out;
    }
    snprintf(hub->database_path, sizeof(hub->database_path), "%s/doorstep.db",
             hub->config.data_dir);
    if (database_open(hub->database_path, &db, error, sizeof(error)) != 0) {
        log_error("database: %s", error);
        goto out;
    }
    database_set_path(hub->database_path);
    database_reserve_init(hub->database_path);
    /* What the web UI saved wins over the config's defaults. */
    hub->settings = hub_settings_create(&hub->config, db);
    if (hub->settings == NULL)
        goto out;

    /* Recordings: make the index and the disk agree before anything records. */
    snprintf(hub->recordings_dir, sizeof(hub->recordings_dir), "%s/recordings",
             hub->config.data_dir);
    if (mkdir(hub->recordings_dir, 0750) != 0 && errno != EEXIST) {
        log_error("cannot create %s: %s", hub->recordings_dir, strerror(errno));
        goto out;
    }
    {
        struct reconcile_report report;
        struct hub_settings_values values;
        struct retention_limits limits;
        hub_settings_get(hub->settings, &values);
        limits =
            (struct retention_limits){.budget = values.storage_budget, .min_free = values.min_free};
        if (reconcile_recordings(db, hub->recordings_dir, &report) != 0)
            log_warn("reconciling recordings failed; continuing with the index as it is");
        hub->retention = retention_start(hub->recordings_dir, &limits, hub->settings);
        if (hub->retention == NULL) {
            log_error("cannot start the retention thread");
            goto out;
        }
    }

    /* Stock quick replies: spoken at build time, encoded once here. */
    if (reply_stock_import(db, hub->config.replies_dir, hub->config.data_dir) < 0)
        log_warn("importing the stock quick replies failed; continuing without them");

    if (hub->config.public_host[0] != '\0')
        extra_names[extra_count++] = hub->config.public_host;
    for (int i = 0; i < hub->config.allowed_host_count; i++)
        extra_names[extra_count++] = hub->config.allowed_hosts[i];
    if (certificate_ensure(hub->config.data_dir, hub->config.tls_cert, hub->config.tls_key,
                           extra_names, extra_count, &hub->certificate, error,
                           sizeof(error)) != 0) {
        log_error("TLS: %s", error);
        goto out;
    }
    log_info("hub key SHA-256 %s", hub->certificate.key_sha256);
    hub_make_public_url(hub);
    hub->chime = chime_start(hub->config.alsa_config);
    if (hub->chime == NULL) {
        log_error("cannot start the indoor chime's thread");
        goto out;
    }
    {
        struct hub_settings_values values;
        hub_settings_get(hub->settings, &values);
        chime_configure(hub->chime, values.chime_enabled, values.chime_device, values.chime_volume);
    }
    hub->notify = notify_start(hub->public_url);
    if (hub->notify == NULL)
        goto out;

    hub->registry = device_registry_create();
    if (hub->registry == NULL)
        goto out;
    if (hub_offer_setup(hub, db) != 0) {
        log_error("cannot prepare the first-admin setup");
        goto out;
    }

    hub->authority = authority_start();
    if (hub->authority == NULL)
        goto out;
    hub->talk = talk_hub_create(hub->registry);
    if (hub->talk == NULL)
        goto out;
    hub->pairing = device_pairing_create(pair_server_send);
    if (hub->pairing == NULL)
        goto out;
    hub->event_published = event_push_published;
    if (hub_start_detection(hub) != 0)
        goto out;
    if (hub_start_discovery(hub) != 0)
        goto out;
    mg_init_library(MG_FEATURES_TLS | MG_FEATURES_WEBSOCKET | MG_FEATURES_IPV6);
    if (http_server_start(hub, error, sizeof(error)) != 0) {
        log_error("%s", error);
        goto out_library;
    }
    if (event_push_start(hub) == NULL) {
        log_error("cannot start the event feed");
        http_server_stop(hub);
        goto out_library;
    }
    pairing_socket = pair_socket_start(hub);
    if (pairing_socket == NULL)
        log_warn("`doorstep device pair` will not reach this hub (no pairing socket)");
    atomic_store(&hub->ready, 1);
    log_info("Doorstep is ready at %s/", hub->public_url);

    while ((signal_number = hub_wait_signal(&signals)) == 0) {
        int64_t now = database_now_ms();
        device_registry_update_rates(hub->registry, now);
        event_intake_flush_backlog(hub);
        hub_report_state_changes(hub, now);
        event_store_end_stale(db, now - EVENT_ACTIVE_STALE_MS);
        link_server_drop_removed(hub, db);
        live_server_manage_streams(hub);
        talk_hub_check_links(hub->talk);
        if (now - last_purge > HOUSEKEEPING_SESSION_PURGE_MS) {
            session_purge_expired(db, now);
            last_purge = now;
        }
        audit_retention_tick(&audit_retention, db, now, hub->config.audit_retention_days);
    }
    log_info("received %s, shutting down", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
    atomic_store(&hub->ready, 0);
    hub_discovery_stop(hub->discovery); /* withdraws the announcement first */
    hub->discovery = NULL;
    pair_socket_stop(pairing_socket);
    link_server_shutdown(hub);
    event_push_stop(hub);
    http_server_stop(hub);
    /* No link submits any more; the workers may still publish events. */
    detection_pool_free(hub->detection);
    hub->detection = NULL;
    event_push_free(hub);
    exit_code = 0;
out_library:
    mg_exit_library();
out:
    hub_discovery_stop(hub->discovery);
    /* After the server: its close handlers unregister their connections. */
    authority_stop(hub->authority);
    hub->authority = NULL;
    talk_hub_destroy(hub->talk);
    device_pairing_destroy(hub->pairing);
    detection_pool_free(hub->detection); /* its workers use notify */
    person_vote_free(hub->person_votes);
    notify_stop(hub->notify);
    chime_stop(hub->chime);
    retention_stop(hub->retention);
    device_registry_destroy(hub->registry);
    hub_settings_free(hub->settings);
    database_close(db);
    free(hub);
    if (exit_code == 0)
        log_info("stopped");
    return exit_code;
}
