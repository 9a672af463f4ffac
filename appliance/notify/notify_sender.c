/*
 * notify_sender.c - the sender thread: takes due outbox rows and sends them
 * with the libwebsockets HTTP client (see notify.h).
 *
 * Thread: its own, which owns the lws context, every slot and its own
 * SQLite connection; other threads only call lws_cancel_service() (through
 * notify_wake) to make it look for due rows. Up to NOTIFY_SLOTS requests run
 * at once, at most one per target, so one slow or unreachable target never
 * holds up the others. Host names are resolved with getaddrinfo_a() (lws
 * 4.1 as Debian builds it resolves synchronously, which would block every
 * other request); lws then connects to the address with the name as Host
 * and for TLS (SNI and certificate checks).
 *
 * Timeouts: 5 s to resolve, connect and finish the TLS handshake; 15 s for
 * the whole request. Answers are read and thrown away up to 64 KiB, then
 * the connection is closed.
 */
#define LOG_MODULE "notify"

#include "notify/notify.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>
#include <mbedtls/platform_util.h>

#include "accounts/random_bytes.h"
#include "common/log.h"
#include "notify/notify_outbox.h"
#include "notify/notify_request.h"
#include "storage/database.h"

#define NOTIFY_SLOTS              16
#define NOTIFY_CONNECT_TIMEOUT_MS 5000
#define NOTIFY_REQUEST_TIMEOUT_MS 15000
#define NOTIFY_KILL_GRACE_MS      3000 /* after asking lws to close, before we let go */
#define NOTIFY_RESPONSE_MAX       (64 * 1024)
#define NOTIFY_WRITE_CHUNK        (16 * 1024)
#define NOTIFY_IDLE_POLL_MS       1000 /* rows queued by others without a wake */
#define NOTIFY_TICK_MS            100  /* timeouts and lookups while requests run */
#define NOTIFY_STOP_GRACE_MS      2000
#define NOTIFY_PRUNE_EVERY_MS     (3600 * 1000)
#define NOTIFY_HOST_MAX           256
#define NOTIFY_PATH_MAX           NOTIFY_REQUEST_URL_MAX

enum notify_slot_state {
    NOTIFY_SLOT_FREE,
    NOTIFY_SLOT_RESOLVING, /* getaddrinfo_a() under way */
    NOTIFY_SLOT_ACTIVE,    /* lws connection under way */
    NOTIFY_SLOT_LINGERING, /* finished, but a lookup that could not be cancelled runs on */
};

/* One request under way. */
struct notify_slot {
    enum notify_slot_state state;
    struct notify_job job;
    struct notify_http_request request;
    int insecure_tls, use_tls, port;
    char host[NOTIFY_HOST_MAX]; /* name or address from the URL */
    char host_header[NOTIFY_HOST_MAX + 8];
    char address[INET6_ADDRSTRLEN]; /* what lws connects to */
    char path[NOTIFY_PATH_MAX];
    struct lws *wsi;
    int64_t started_ms, kill_ms;
    int connected;         /* headers are going out: the server may see the request */
    int tls_verify_failed; /* the certificate did not verify */
    int fully_sent;        /* the whole body went out */
    size_t body_offset, response_bytes;
    int status;
    int64_t retry_after_ms;
    char error[NOTIFY_ERROR_MAX]; /* our own reason (timeout, too large) */
    struct gaicb lookup;
    struct addrinfo hints;
};

struct notify {
    char public_url[512];
    struct lws_context *context;
    pthread_t thread;
    atomic_int stopping;
    /* Sender thread only. */
    sqlite3 *db;
    int done;
    int64_t stop_deadline_ms, last_prune_ms;
    struct notify_slot *connecting; /* inside lws_client_connect_via_info() */
    lws_sorted_usec_list_t pump_timer, tick_timer;
    struct notify_slot slots[NOTIFY_SLOTS];
    uint8_t write_buffer[LWS_PRE + NOTIFY_WRITE_CHUNK];
};

static void notify_pump(lws_sorted_usec_list_t *timer);
static void notify_tick(lws_sorted_usec_list_t *timer);

/* Run the pump soon from the event loop (never from inside a callback). */
static void notify_schedule_pump(struct notify *notify, int64_t delay_ms)
{
    lws_sul_schedule(notify->context, 0, &notify->pump_timer, notify_pump,
                     delay_ms <= 0 ? 1 : (lws_usec_t)delay_ms * LWS_US_PER_MS);
}

/* Random jitter for the backoff. */
static uint32_t notify_jitter(void)
{
    uint32_t value = 0;
    random_bytes_fill(&value, sizeof(value));
    return value;
}

/* Record the attempt, free the request and the slot, look for more work. */
static void notify_slot_finish(struct notify *notify, struct notify_slot *slot,
                               enum notify_outcome outcome, const char *error)
{
    struct notify_result result = {
        .outcome = outcome, .status = slot->status, .retry_after_ms = slot->retry_after_ms};
    char state[NOTIFY_STATE_MAX] = "?";

    snprintf(result.error, sizeof(result.error), "%s", error);
    if (notify_outbox_finish(notify->db, &slot->job, &result, database_now_ms(), notify_jitter(),
                             state) != 0)
        log_error("notification %lld: the outcome could not be recorded",
                  (long long)slot->job.outbox_id);
    if (outcome == NOTIFY_OUTCOME_DELIVERED)
        log_info("notification %lld (event %lld) delivered to target %lld, HTTP %d, attempt %d",
                 (long long)slot->job.outbox_id, (long long)slot->job.event_id,
                 (long long)slot->job.target_id, slot->status, slot->job.attempts);
    else
        log_warn("notification %lld (event %lld) to target %lld, attempt %d: %s -> %s",
                 (long long)slot->job.outbox_id, (long long)slot->job.event_id,
                 (long long)slot->job.target_id, slot->job.attempts, error, state);
    notify_http_request_clear(&slot->request);
    slot->wsi = NULL;
    slot->state = slot->state == NOTIFY_SLOT_RESOLVING && gai_error(&slot->lookup) == EAI_INPROGRESS
                      ? NOTIFY_SLOT_LINGERING
                      : NOTIFY_SLOT_FREE;
    notify_schedule_pump(notify, 0);
}

/* The reason of the last certificate failure lws logged on this thread
 * ("SSL error: self-signed certificate (...)"): lws 4.1 reports it only in
 * its log, and the verify callback would need OpenSSL's own API. */
static __thread char notify_tls_reason[128];

/* Turn a failed connection into a sentence for the UI. system_error is
 * errno as the callback saw it, text what lws says. *outcome is FAIL for
 * certificate problems (they do not fix themselves), else RETRY. */
static void notify_describe_failure(const struct notify_slot *slot, int system_error,
                                    const char *text, char *out, size_t size,
                                    enum notify_outcome *outcome)
{
    *outcome = NOTIFY_OUTCOME_RETRY;
    if (text == NULL)
        text = "";
    if (slot->use_tls && (slot->tls_verify_failed || strstr(text, "verif") != NULL)) {
        snprintf(out, size, "TLS handshake failed: certificate verify failed%s%.100s",
                 notify_tls_reason[0] != '\0' ? ": " : "", notify_tls_reason);
        *outcome = NOTIFY_OUTCOME_FAIL;
    } else if (slot->use_tls && (strstr(text, "SSL") != NULL || strstr(text, "ssl") != NULL ||
                                 strstr(text, "TLS") != NULL || strstr(text, "tls") != NULL)) {
        snprintf(out, size, "TLS handshake failed (%.180s)", text);
    } else if (system_error == ECONNREFUSED) {
        snprintf(out, size, "connection refused");
    } else if (system_error == EHOSTUNREACH || system_error == ENETUNREACH) {
        snprintf(out, size, "%s", strerror(system_error));
    } else if (strcmp(text, "Unable to connect") == 0) {
        snprintf(out, size, "cannot connect (refused or unreachable)");
    } else {
        snprintf(out, size, "connection failed (%.200s)", text[0] != '\0' ? text : "unknown");
    }
    notify_tls_reason[0] = '\0';
}

/* Split the request URL for lws: host, port, path, Host header, TLS. 0 or -1. */
static int notify_slot_parse_url(struct notify_slot *slot)
{
    char copy[NOTIFY_REQUEST_URL_MAX];
    const char *scheme, *address, *path;
    int port;

    snprintf(copy, sizeof(copy), "%s", slot->request.url);
    if (lws_parse_uri(copy, &scheme, &address, &port, &path) != 0 || address[0] == '\0')
        return -1;
    slot->use_tls = strcmp(scheme, "https") == 0;
    slot->port = port;
    snprintf(slot->host, sizeof(slot->host), "%s", address);
    snprintf(slot->path, sizeof(slot->path), "/%s", path);
    if (strchr(address, ':') != NULL) /* an IPv6 literal */
        snprintf(slot->host_header, sizeof(slot->host_header), "[%s]", address);
    else
        snprintf(slot->host_header, sizeof(slot->host_header), "%s", address);
    if (port != (slot->use_tls ? 443 : 80))
        snprintf(slot->host_header + strlen(slot->host_header),
                 sizeof(slot->host_header) - strlen(slot->host_header), ":%d", port);
    return 0;
}

/* Open the connection to slot->address (the request is built). */
static void notify_slot_connect(struct notify *notify, struct notify_slot *slot)
{
    struct lws_client_connect_info info;
    struct lws *wsi;
    enum notify_outcome outcome;
    char reason[NOTIFY_ERROR_MAX];

    memset(&info, 0, sizeof(info));
    info.context = notify->context;
    info.address = slot->address;
    info.port = slot->port;
    info.path = slot->path;
    info.host = slot->host_header;
    info.method = slot->request.method;
    info.protocol = "doorstep-notify";
    info.local_protocol_name = "doorstep-notify";
    info.userdata = slot;
    info.alpn = "http/1.1";
    info.ssl_connection = LCCSCF_HTTP_NO_FOLLOW_REDIRECT;
    if (slot->use_tls) {
        info.ssl_connection |= LCCSCF_USE_SSL;
        if (slot->insecure_tls)
            info.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_ALLOW_INSECURE |
                                   LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK | LCCSCF_ALLOW_EXPIRED;
    }
    slot->state = NOTIFY_SLOT_ACTIVE;
    slot->wsi = NULL;
    notify->connecting = slot;
    wsi = lws_client_connect_via_info(&info);
    notify->connecting = NULL;
    if (slot->state != NOTIFY_SLOT_ACTIVE)
        return; /* a callback inside the call finished it */
    if (wsi == NULL) {
        notify_describe_failure(slot, errno, "could not start the connection", reason,
                                sizeof(reason), &outcome);
        notify_slot_finish(notify, slot, outcome, reason);
        return;
    }
    slot->wsi = wsi;
}

/* Start a claimed job in a free slot: build the request, then resolve the
 * host or connect at once. */
static void notify_slot_begin(struct notify *notify, struct notify_slot *slot,
                              const struct notify_job *job, int64_t now_ms)
{
    struct notify_target *target = malloc(sizeof(*target));
    struct notify_event_info info;
    struct in6_addr scratch;
    uint8_t *snapshot = NULL;
    char error[NOTIFY_ERROR_MAX] = "";
    int found, built = -1;

    memset(slot, 0, sizeof(*slot));
    slot->job = *job;
    slot->state = NOTIFY_SLOT_ACTIVE;
    slot->started_ms = now_ms;
    slot->retry_after_ms = -1;
    found = target != NULL ? notify_target_load(notify->db, job->target_id, target) : -1;
    if (found == 1 && job->event_id != 0) {
        found = notify_outbox_event_info(notify->db, job->event_id, &info, &snapshot);
    } else {
        memset(&info, 0, sizeof(info));
        snprintf(info.type, sizeof(info.type), "test");
    }
    if (found == 1) {
        slot->insecure_tls = target->insecure_tls;
        if (target->kind == NOTIFY_KIND_WEBHOOK)
            built = notify_build_webhook(target, &info, notify->public_url, job->message_id,
                                         database_now_ms(), &slot->request, error, sizeof(error));
        else
            built = notify_build_ntfy(target, &info, notify->public_url, database_now_ms(),
                                      &slot->request, error, sizeof(error));
    } else {
        snprintf(error, sizeof(error), "%s",
                 found == 0 ? "the target or event no longer exists" : "database error");
    }
    free(snapshot);
    if (target != NULL)
        mbedtls_platform_zeroize(target, sizeof(*target));
    free(target);
    if (built == 0 && notify_slot_parse_url(slot) != 0) {
        snprintf(error, sizeof(error), "the target URL cannot be parsed");
        built = -1;
    }
    if (built != 0) {
        notify_slot_finish(notify, slot, NOTIFY_OUTCOME_FAIL, error);
        return;
    }
    if (inet_pton(AF_INET, slot->host, &scratch) == 1 ||
        inet_pton(AF_INET6, slot->host, &scratch) == 1) {
        snprintf(slot->address, sizeof(slot->address), "%.45s", slot->host);
        notify_slot_connect(notify, slot);
        return;
    }
    /* A name: look it up without blocking the other requests. */
    struct gaicb *list[1] = {&slot->lookup};
    slot->hints.ai_family = AF_UNSPEC;
    slot->hints.ai_socktype = SOCK_STREAM;
    slot->lookup.ar_name = slot->host;
    slot->lookup.ar_request = &slot->hints;
    slot->state = NOTIFY_SLOT_RESOLVING;
    if (getaddrinfo_a(GAI_NOWAIT, list, 1, NULL) != 0) {
        slot->state = NOTIFY_SLOT_ACTIVE;
        notify_slot_finish(notify, slot, NOTIFY_OUTCOME_RETRY, "DNS lookup could not start");
    }
}

/* A lookup came back (or timed out): connect or record the failure. */
static void notify_slot_resolved(struct notify *notify, struct notify_slot *slot, int64_t now_ms)
{
    int status = gai_error(&slot->lookup);
    struct addrinfo *chosen;
    char reason[NOTIFY_ERROR_MAX];

    if (status == EAI_INPROGRESS) {
        if (now_ms - slot->started_ms < NOTIFY_CONNECT_TIMEOUT_MS)
            return;
        gai_cancel(&slot->lookup);
        snprintf(reason, sizeof(reason), "DNS lookup of %s timed out", slot->host);
        notify_slot_finish(notify, slot, NOTIFY_OUTCOME_RETRY, reason);
        return;
    }
    if (status != 0 || slot->lookup.ar_result == NULL) {
        snprintf(reason, sizeof(reason), "DNS lookup of %s failed: %s", slot->host,
                 gai_strerror(status));
        if (slot->lookup.ar_result != NULL)
            freeaddrinfo(slot->lookup.ar_result);
        slot->lookup.ar_result = NULL;
        notify_slot_finish(notify, slot, NOTIFY_OUTCOME_RETRY, reason);
        return;
    }
    /* IPv4 first: a LAN server often listens on it only, and a name like
     * localhost may resolve to ::1 first. */
    chosen = slot->lookup.ar_result;
    for (struct addrinfo *entry = chosen; entry != NULL; entry = entry->ai_next) {
        if (entry->ai_family == AF_INET) {
            chosen = entry;
            break;
        }
    }
    getnameinfo(chosen->ai_addr, chosen->ai_addrlen, slot->address, sizeof(slot->address), NULL, 0,
                NI_NUMERICHOST);
    freeaddrinfo(slot->lookup.ar_result);
    slot->lookup.ar_result = NULL;
    notify_slot_connect(notify, slot);
}

/* The slot a callback belongs to, or NULL when the wsi is not (or no
 * longer) one of our requests. */
static struct notify_slot *notify_slot_of(struct notify *notify, struct lws *wsi, void *user)
{
    struct notify_slot *slot = user;

    if (notify == NULL || slot < &notify->slots[0] || slot >= &notify->slots[NOTIFY_SLOTS] ||
        slot->state != NOTIFY_SLOT_ACTIVE)
        return NULL;
    if (slot->wsi == wsi)
        return slot;
    if (slot->wsi == NULL && notify->connecting == slot) {
        slot->wsi = wsi;
        return slot;
    }
    return NULL;
}

/* The request's headers into the handshake buffer. 0, or -1 if they do not fit. */
static int notify_append_headers(struct notify_slot *slot, struct lws *wsi, unsigned char **p,
                                 unsigned char *end)
{
    char name[NOTIFY_HEADER_NAME_MAX + 1], length[24];

    for (int i = 0; i < slot->request.header_count; i++) {
        const struct notify_header *header = &slot->request.headers[i];
        snprintf(name, sizeof(name), "%s:", header->name);
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                        (const unsigned char *)header->value,
                                        (int)strlen(header->value), p, end) != 0)
            return -1;
    }
    snprintf(length, sizeof(length), "%zu", slot->request.body_size);
    return lws_add_http_header_by_name(wsi, (const unsigned char *)"content-length:",
                                       (const unsigned char *)length, (int)strlen(length), p, end);
}

/* Send the next piece of the body. 0, or -1 to close. */
static int notify_write_body(struct notify *notify, struct notify_slot *slot, struct lws *wsi)
{
    size_t left = slot->request.body_size - slot->body_offset;
    size_t size = left < NOTIFY_WRITE_CHUNK ? left : NOTIFY_WRITE_CHUNK;
    int final = size == left;

    if (slot->fully_sent)
        return 0;
    memcpy(notify->write_buffer + LWS_PRE, slot->request.body + slot->body_offset, size);
    if (lws_write(wsi, notify->write_buffer + LWS_PRE, size,
                  final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)size) {
        snprintf(slot->error, sizeof(slot->error), "connection lost while sending");
        return -1;
    }
    slot->body_offset += size;
    if (final) {
        slot->fully_sent = 1;
        lws_client_http_body_pending(wsi, 0);
    } else {
        lws_callback_on_writable(wsi);
    }
    return 0;
}

/* The connection ended (completed or closed): record what it came to. */
static void notify_slot_ended(struct notify *notify, struct notify_slot *slot, const char *why)
{
    char reason[NOTIFY_ERROR_MAX];
    enum notify_outcome outcome;

    if (slot->status > 0) {
        outcome = notify_status_outcome(slot->status);
        if (slot->error[0] != '\0')
            snprintf(reason, sizeof(reason), "HTTP %d; %.200s", slot->status, slot->error);
        else if (outcome == NOTIFY_OUTCOME_DELIVERED)
            reason[0] = '\0';
        else
            snprintf(reason, sizeof(reason), "HTTP %d", slot->status);
    } else if (slot->fully_sent) {
        /* The server may have acted on it: never send it again. */
        outcome = NOTIFY_OUTCOME_UNKNOWN;
        snprintf(reason, sizeof(reason), "%.200s after the request was sent; not resent",
                 slot->error[0] != '\0' ? slot->error : why);
    } else {
        outcome = NOTIFY_OUTCOME_RETRY;
        snprintf(reason, sizeof(reason), "%s", slot->error[0] != '\0' ? slot->error : why);
    }
    notify_slot_finish(notify, slot, outcome, reason);
}

/* The libwebsockets protocol callback; sender thread only. */
static int notify_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                           size_t length)
{
    struct lws_context *context = lws_get_context(wsi);
    struct notify *notify = context != NULL ? lws_context_user(context) : NULL;
    struct notify_slot *slot;
    char buffer[LWS_PRE + 4096], *start = buffer + LWS_PRE, error[NOTIFY_ERROR_MAX];
    enum notify_outcome outcome;
    int size, system_error = errno;

    if (reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED) {
        if (notify != NULL)
            notify_schedule_pump(notify, 0);
        return 0;
    }
    if (reason == LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION) {
        /* user is OpenSSL's store context here, len says whether the
         * chain verified; 0 keeps OpenSSL's verdict. */
        for (int i = 0; notify != NULL && i < NOTIFY_SLOTS; i++)
            if (notify->slots[i].wsi == wsi && length == 0)
                notify->slots[i].tls_verify_failed = 1;
        return 0;
    }
    slot = notify_slot_of(notify, wsi, user);
    if (slot == NULL)
        return lws_callback_http_dummy(wsi, reason, user, in, length);
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        log_debug("notification %lld: lws: %s", (long long)slot->job.outbox_id,
                  in != NULL ? (const char *)in : "(none)");
        if (slot->error[0] != '\0' || slot->connected) {
            snprintf(error, sizeof(error), "connection failed: %.200s",
                     in != NULL ? (const char *)in : "unknown");
            notify_slot_ended(notify, slot, error);
            break;
        }
        notify_describe_failure(slot, system_error, in, error, sizeof(error), &outcome);
        notify_slot_finish(notify, slot, outcome, error);
        break;
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
        slot->connected = 1;
        if (notify_append_headers(slot, wsi, (unsigned char **)in,
                                  *(unsigned char **)in + length) != 0) {
            snprintf(slot->error, sizeof(slot->error), "request headers too large");
            return -1;
        }
        lws_client_http_body_pending(wsi, 1);
        lws_callback_on_writable(wsi);
        break;
    case LWS_CALLBACK_CLIENT_HTTP_WRITEABLE:
        return notify_write_body(notify, slot, wsi);
    case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
        slot->status = (int)lws_http_client_http_response(wsi);
        if (lws_hdr_copy(wsi, start, 256, WSI_TOKEN_HTTP_RETRY_AFTER) > 0)
            slot->retry_after_ms = notify_retry_after_ms(start, database_now_ms());
        break;
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP:
        size = (int)(sizeof(buffer) - LWS_PRE);
        return lws_http_client_read(wsi, &start, &size) < 0 ? -1 : 0;
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
        slot->response_bytes += length;
        if (slot->response_bytes > NOTIFY_RESPONSE_MAX) {
            snprintf(slot->error, sizeof(slot->error),
                     "response too large (over %d KiB); connection closed",
                     NOTIFY_RESPONSE_MAX / 1024);
            notify_slot_ended(notify, slot, "");
            return -1;
        }
        return 0;
    case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
        notify_slot_ended(notify, slot, "");
        break;
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
        notify_slot_ended(notify, slot, "connection closed before an answer");
        break;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, length);
}

static const struct lws_protocols notify_protocols[] = {
    {"doorstep-notify", notify_callback, 0, 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* Ask lws to close a request's connection, with our reason for it. */
static void notify_slot_kill(struct notify_slot *slot, const char *reason, int64_t now_ms)
{
    if (slot->error[0] == '\0')
        snprintf(slot->error, sizeof(slot->error), "%s", reason);
    if (slot->kill_ms == 0 && slot->wsi != NULL)
        lws_set_timeout(slot->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    if (slot->kill_ms == 0)
        slot->kill_ms = now_ms;
}

/* Leave the event loop: timers run before lws polls, so without a wake
 * the poll would still wait for lws' own next timeout. */
static void notify_finish_loop(struct notify *notify)
{
    notify->done = 1;
    lws_cancel_service(notify->context);
}

/* Every NOTIFY_TICK_MS while anything runs: lookups, timeouts, stopping. */
static void notify_tick(lws_sorted_usec_list_t *timer)
{
    struct notify *notify = lws_container_of(timer, struct notify, tick_timer);
    int64_t now = database_now_ms();
    int busy = 0;
    char reason[96];

    for (int i = 0; i < NOTIFY_SLOTS; i++) {
        struct notify_slot *slot = &notify->slots[i];
        if (slot->state == NOTIFY_SLOT_RESOLVING)
            notify_slot_resolved(notify, slot, now);
        else if (slot->state == NOTIFY_SLOT_LINGERING &&
                 gai_error(&slot->lookup) != EAI_INPROGRESS) {
            if (slot->lookup.ar_result != NULL)
                freeaddrinfo(slot->lookup.ar_result);
            slot->lookup.ar_result = NULL;
            slot->state = NOTIFY_SLOT_FREE;
        } else if (slot->state == NOTIFY_SLOT_ACTIVE) {
            if (slot->kill_ms != 0 && now - slot->kill_ms > NOTIFY_KILL_GRACE_MS) {
                /* lws never reported the close: let the wsi go. */
                slot->wsi = NULL;
                notify_slot_ended(notify, slot, "connection abandoned");
            } else if (!slot->connected && now - slot->started_ms > NOTIFY_CONNECT_TIMEOUT_MS) {
                snprintf(reason, sizeof(reason), "connection timed out after %d s",
                         NOTIFY_CONNECT_TIMEOUT_MS / 1000);
                notify_slot_kill(slot, reason, now);
            } else if (now - slot->started_ms > NOTIFY_REQUEST_TIMEOUT_MS) {
                snprintf(reason, sizeof(reason), "no complete answer within %d s",
                         NOTIFY_REQUEST_TIMEOUT_MS / 1000);
                notify_slot_kill(slot, reason, now);
            }
        }
        busy |= slot->state != NOTIFY_SLOT_FREE;
    }
    if (atomic_load(&notify->stopping) && notify->stop_deadline_ms != 0 &&
        now >= notify->stop_deadline_ms) {
        /* Out of time: record what is under way and let it go. */
        for (int i = 0; i < NOTIFY_SLOTS; i++) {
            struct notify_slot *slot = &notify->slots[i];
            if (slot->state != NOTIFY_SLOT_ACTIVE && slot->state != NOTIFY_SLOT_RESOLVING)
                continue;
            notify_outbox_abandon(notify->db, &slot->job, slot->fully_sent);
            if (slot->wsi != NULL)
                lws_set_timeout(slot->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
            slot->wsi = NULL;
            notify_http_request_clear(&slot->request);
            if (slot->state == NOTIFY_SLOT_RESOLVING)
                gai_cancel(&slot->lookup);
            slot->state =
                slot->state == NOTIFY_SLOT_RESOLVING ? NOTIFY_SLOT_LINGERING : NOTIFY_SLOT_FREE;
        }
        notify_finish_loop(notify);
        return;
    }
    if (atomic_load(&notify->stopping) && !busy) {
        notify_finish_loop(notify);
        return;
    }
    if (busy)
        lws_sul_schedule(notify->context, 0, &notify->tick_timer, notify_tick,
                         NOTIFY_TICK_MS * LWS_US_PER_MS);
}

/* Start as many due rows as there are free slots, then sleep until the
 * next one is due (at most NOTIFY_IDLE_POLL_MS). */
static void notify_pump(lws_sorted_usec_list_t *timer)
{
    struct notify *notify = lws_container_of(timer, struct notify, pump_timer);
    int64_t now = database_now_ms(), next = 0, busy[NOTIFY_SLOTS];
    int busy_count, any = 0;

    if (atomic_load(&notify->stopping)) {
        if (notify->stop_deadline_ms == 0)
            notify->stop_deadline_ms = now + NOTIFY_STOP_GRACE_MS;
        notify_tick(&notify->tick_timer);
        return;
    }
    if (now - notify->last_prune_ms > NOTIFY_PRUNE_EVERY_MS) {
        notify_outbox_prune(notify->db, now);
        notify->last_prune_ms = now;
    }
    for (int i = 0; i < NOTIFY_SLOTS; i++) {
        struct notify_slot *slot = &notify->slots[i];
        struct notify_job job;
        if (slot->state != NOTIFY_SLOT_FREE)
            continue;
        busy_count = 0;
        for (int j = 0; j < NOTIFY_SLOTS; j++)
            if (notify->slots[j].state == NOTIFY_SLOT_ACTIVE ||
                notify->slots[j].state == NOTIFY_SLOT_RESOLVING)
                busy[busy_count++] = notify->slots[j].job.target_id;
        if (notify_outbox_claim(notify->db, now, busy, busy_count, &job) != 1)
            break;
        notify_slot_begin(notify, slot, &job, now);
    }
    for (int i = 0; i < NOTIFY_SLOTS; i++)
        any |= notify->slots[i].state != NOTIFY_SLOT_FREE;
    if (any && lws_dll2_is_detached(&notify->tick_timer.list))
        lws_sul_schedule(notify->context, 0, &notify->tick_timer, notify_tick,
                         NOTIFY_TICK_MS * LWS_US_PER_MS);
    if (notify_outbox_next_due(notify->db, &next) == 1 && next > now &&
        next - now < NOTIFY_IDLE_POLL_MS)
        notify_schedule_pump(notify, next - now);
    else
        notify_schedule_pump(notify, NOTIFY_IDLE_POLL_MS);
}

/* Route libwebsockets' own messages into our debug log: each failure is
 * logged once, readably, by the slot that met it. */
static void notify_lws_log(int level, const char *line)
{
    char text[512];
    size_t length;

    (void)level;
    snprintf(text, sizeof(text), "%s", line);
    length = strlen(text);
    while (length > 0 && (text[length - 1] == '\n' || text[length - 1] == '\r'))
        text[--length] = '\0';
    if (strncmp(text, "SSL error: ", 11) == 0) {
        length = strcspn(text + 11, "(");
        while (length > 0 && text[11 + length - 1] == ' ')
            length--;
        snprintf(notify_tls_reason, sizeof(notify_tls_reason), "%.*s", (int)length, text + 11);
    }
    log_message(LOG_LEVEL_DEBUG, "lws", "%s", text);
}

/* The sender thread: recover, then run the event loop until stopped. */
static void *notify_thread(void *data)
{
    struct notify *notify = data;
    int recovered;

    notify->db = database_thread_connection();
    if (notify->db == NULL) {
        log_error("the notification sender has no database; notifications are off");
        return NULL;
    }
    recovered = notify_outbox_recover(notify->db);
    if (recovered > 0)
        log_warn("%d notification(s) were being sent when the hub stopped; they are marked "
                 "unknown and not resent",
                 recovered);
    notify_schedule_pump(notify, 0);
    while (!notify->done)
        if (lws_service(notify->context, 0) < 0)
            break;
    /* Lookups that could not be cancelled still use their slot. */
    for (int i = 0; i < NOTIFY_SLOTS; i++) {
        struct notify_slot *slot = &notify->slots[i];
        const struct gaicb *list[1] = {&slot->lookup};
        if (slot->state != NOTIFY_SLOT_LINGERING)
            continue;
        while (gai_error(&slot->lookup) == EAI_INPROGRESS)
            gai_suspend(list, 1, NULL);
        if (slot->lookup.ar_result != NULL)
            freeaddrinfo(slot->lookup.ar_result);
        slot->state = NOTIFY_SLOT_FREE;
    }
    return NULL;
}

struct notify *notify_start(const char *public_url)
{
    struct notify *notify = calloc(1, sizeof(*notify));
    struct lws_context_creation_info info;

    if (notify == NULL)
        return NULL;
    snprintf(notify->public_url, sizeof(notify->public_url), "%s", public_url);
    lws_set_log_level(LLL_ERR | LLL_WARN, notify_lws_log);
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = notify_protocols;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.user = notify;
    info.fd_limit_per_thread = 2 * NOTIFY_SLOTS + 8;
    /* lws' own timeouts are a backstop behind ours (notify_tick), which
     * come first and say what timed out. */
    info.connect_timeout_secs = NOTIFY_CONNECT_TIMEOUT_MS / 1000 + 5;
    info.timeout_secs = NOTIFY_REQUEST_TIMEOUT_MS / 1000 + 5;
    notify->context = lws_create_context(&info);
    if (notify->context == NULL) {
        log_error("libwebsockets did not start; notifications are off");
        free(notify);
        return NULL;
    }
    if (pthread_create(&notify->thread, NULL, notify_thread, notify) != 0) {
        log_error("cannot start the notification thread");
        lws_context_destroy(notify->context);
        free(notify);
        return NULL;
    }
    return notify;
}

void notify_stop(struct notify *notify)
{
    if (notify == NULL)
        return;
    atomic_store(&notify->stopping, 1);
    lws_cancel_service(notify->context);
    pthread_join(notify->thread, NULL);
    lws_context_destroy(notify->context);
    for (int i = 0; i < NOTIFY_SLOTS; i++)
        notify_http_request_clear(&notify->slots[i].request);
    free(notify);
}

void notify_wake(struct notify *notify)
{
    if (notify != NULL)
        lws_cancel_service(notify->context);
}

void notify_event_ready(struct notify *notify, sqlite3 *db, int64_t event_id)
{
    if (db != NULL && notify_outbox_make_due(db, event_id, database_now_ms()) > 0)
        notify_wake(notify);
}
