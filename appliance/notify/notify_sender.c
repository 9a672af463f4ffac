/*
 * notify_sender.c - the sender thread: takes due outbox rows and sends them
 * with libcurl's multi interface (see notify.h).
 *
 * Thread: its own, which owns the curl multi handle, every slot (one easy
 * handle per attempt) and its own SQLite connection; other threads only
 * call curl_multi_wakeup() (through notify_wake) to make it look for due
 * rows. Up to NOTIFY_SLOTS requests run at once, at most one per target, so
 * one slow or unreachable target never holds up the others: curl resolves
 * host names on its own threads (Debian builds libcurl with the threaded
 * resolver) and CURLOPT_QUICK_EXIT lets a lookup that timed out finish on
 * its thread instead of being waited for.
 *
 * Each attempt is HTTP/1.1 on a connection of its own (never reused, so curl
 * never quietly resends a request on a connection that died), without
 * following redirects; a proxy named in the environment (http_proxy,
 * https_proxy, no_proxy) is used as curl does. Timeouts: 5 s to
 * resolve, connect and finish the TLS handshake; 15 s for the whole request.
 * Answers are read and thrown away up to 64 KiB, then the connection is
 * closed.
 */
#define LOG_MODULE "notify"

#include "notify/notify.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <curl/curl.h>
#include <mbedtls/platform_util.h>

#include "accounts/random_bytes.h"
#include "common/error_text.h"
#include "common/log.h"
#include "notify/notify_outbox.h"
#include "notify/notify_request.h"
#include "storage/database.h"

#define NOTIFY_SLOTS              16
#define NOTIFY_CONNECT_TIMEOUT_MS 5000
#define NOTIFY_REQUEST_TIMEOUT_MS 15000
#define NOTIFY_RESPONSE_MAX       (64 * 1024)
#define NOTIFY_IDLE_POLL_MS       1000 /* rows queued by others without a wake */
#define NOTIFY_STOP_GRACE_MS      2000
#define NOTIFY_PRUNE_EVERY_MS     (3600 * 1000)
#define NOTIFY_HOST_MAX           256
#define NOTIFY_HEADER_LINE_MAX    (NOTIFY_HEADER_NAME_MAX + NOTIFY_HEADER_VALUE_MAX + 4)

/* One request under way; active while easy is not NULL. */
struct notify_slot {
    struct notify_job job;
    struct notify_http_request request;
    CURL *easy;
    CURLU *url;
    struct curl_slist *headers;
    char host[NOTIFY_HOST_MAX]; /* from the URL, for messages */
    int use_tls;
    int resolved;  /* curl opened a socket: the name was found */
    int connected; /* the request is about to go out: the server may see it */
    size_t response_bytes;
    char error[NOTIFY_ERROR_MAX];         /* our own reason (too large) */
    char curl_error[CURL_ERROR_SIZE + 1]; /* CURLOPT_ERRORBUFFER */
};

struct notify {
    char public_url[512];
    CURLM *multi;
    pthread_t thread;
    atomic_int stopping, woken;
    /* Sender thread only. */
    sqlite3 *db;
    int64_t last_prune_ms;
    struct notify_slot slots[NOTIFY_SLOTS];
};

/* Random jitter for the backoff. */
static uint32_t notify_jitter(void)
{
    uint32_t value = 0;
    random_bytes_fill(&value, sizeof(value));
    return value;
}

/* Free what an attempt holds (easy handle, URL, header list with its
 * secrets, the request) and make the slot free. */
static void notify_slot_release(struct notify *notify, struct notify_slot *slot)
{
    if (slot->easy != NULL) {
        curl_multi_remove_handle(notify->multi, slot->easy);
        curl_easy_cleanup(slot->easy);
    }
    for (struct curl_slist *item = slot->headers; item != NULL; item = item->next)
        mbedtls_platform_zeroize(item->data, strlen(item->data));
    curl_slist_free_all(slot->headers);
    curl_url_cleanup(slot->url);
    notify_http_request_clear(&slot->request);
    slot->easy = NULL;
    slot->url = NULL;
    slot->headers = NULL;
}

/* Record the attempt and free the slot. */
static void notify_slot_finish(struct notify *notify, struct notify_slot *slot,
                               enum notify_outcome outcome, int status, int64_t retry_after_ms,
                               const char *error)
{
    struct notify_result result = {
        .outcome = outcome, .status = status, .retry_after_ms = retry_after_ms};
    char state[NOTIFY_STATE_MAX] = "?";

    snprintf(result.error, sizeof(result.error), "%s", error);
    if (notify_outbox_finish(notify->db, &slot->job, &result, database_now_ms(), notify_jitter(),
                             state) != 0)
        log_error("notification %lld: the outcome could not be recorded",
                  (long long)slot->job.outbox_id);
    if (outcome == NOTIFY_OUTCOME_DELIVERED)
        log_info("notification %lld (event %lld) delivered to target %lld, HTTP %d, attempt %d",
                 (long long)slot->job.outbox_id, (long long)slot->job.event_id,
                 (long long)slot->job.target_id, status, slot->job.attempts);
    else
        log_warn("notification %lld (event %lld) to target %lld, attempt %d: %s -> %s",
                 (long long)slot->job.outbox_id, (long long)slot->job.event_id,
                 (long long)slot->job.target_id, slot->job.attempts, error, state);
    notify_slot_release(notify, slot);
}

/* True when the whole request went out, so the server may have acted on it. */
static int notify_slot_sent_in_full(const struct notify_slot *slot)
{
    curl_off_t uploaded = 0;
    long header_bytes = 0;

    curl_easy_getinfo(slot->easy, CURLINFO_SIZE_UPLOAD_T, &uploaded);
    curl_easy_getinfo(slot->easy, CURLINFO_REQUEST_SIZE, &header_bytes);
    if (slot->request.body_size == 0)
        return header_bytes > 0;
    return uploaded >= (curl_off_t)slot->request.body_size;
}

/* curl's reason with a known prefix taken off ("SSL certificate problem: "). */
static const char *notify_curl_reason(const struct notify_slot *slot, CURLcode code)
{
    static const char *const prefixes[] = {"SSL certificate problem: ", "SSL: "};
    const char *text = slot->curl_error;

    if (text[0] == '\0')
        return curl_easy_strerror(code);
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (strncmp(text, prefixes[i], strlen(prefixes[i])) == 0)
            return text + strlen(prefixes[i]);
    return text;
}

/* Turn a failed transfer into a sentence for the UI. *outcome is FAIL for
 * certificate problems (they do not fix themselves), else RETRY. */
static void notify_describe_failure(const struct notify_slot *slot, CURLcode code, char *out,
                                    size_t size, enum notify_outcome *outcome)
{
    *outcome = NOTIFY_OUTCOME_RETRY;
    if (slot->error[0] != '\0') {
        snprintf(out, size, "%s", slot->error);
    } else if (code == CURLE_OPERATION_TIMEDOUT && !slot->resolved) {
        snprintf(out, size, "DNS lookup of %.180s timed out", slot->host);
    } else if (code == CURLE_OPERATION_TIMEDOUT && !slot->connected) {
        snprintf(out, size, "connection timed out after %d s", NOTIFY_CONNECT_TIMEOUT_MS / 1000);
    } else if (code == CURLE_OPERATION_TIMEDOUT) {
        snprintf(out, size, "no complete answer within %d s", NOTIFY_REQUEST_TIMEOUT_MS / 1000);
    } else if (code == CURLE_COULDNT_RESOLVE_HOST) {
        snprintf(out, size, "DNS lookup of %.150s failed: %.60s", slot->host,
                 curl_easy_strerror(code));
    } else if (slot->use_tls &&
               (code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_ISSUER_ERROR ||
                code == CURLE_SSL_INVALIDCERTSTATUS)) {
        snprintf(out, size, "TLS handshake failed: certificate verify failed: %.150s",
                 notify_curl_reason(slot, code));
        *outcome = NOTIFY_OUTCOME_FAIL;
    } else if (slot->use_tls && !slot->connected && code != CURLE_COULDNT_CONNECT) {
        snprintf(out, size, "TLS handshake failed (%.180s)", notify_curl_reason(slot, code));
    } else if (code == CURLE_COULDNT_CONNECT) {
        snprintf(out, size, "cannot connect (refused or unreachable)");
    } else if (code == CURLE_SEND_ERROR) {
        snprintf(out, size, "connection lost while sending");
    } else if (code == CURLE_RECV_ERROR || code == CURLE_GOT_NOTHING) {
        snprintf(out, size, "connection closed before an answer");
    } else {
        snprintf(out, size, "connection failed (%.200s)", notify_curl_reason(slot, code));
    }
}

/* A transfer ended: record what it came to. */
static void notify_slot_done(struct notify *notify, struct notify_slot *slot, CURLcode code)
{
    char failure[NOTIFY_ERROR_MAX] = "", reason[NOTIFY_ERROR_MAX];
    enum notify_outcome outcome = NOTIFY_OUTCOME_RETRY;
    int64_t retry_after_ms = -1;
    curl_off_t retry_after = 0;
    long status = 0;

    if (slot->curl_error[0] != '\0')
        log_debug("notification %lld: curl: %s", (long long)slot->job.outbox_id, slot->curl_error);
    curl_easy_getinfo(slot->easy, CURLINFO_RESPONSE_CODE, &status);
    if (code != CURLE_OK)
        notify_describe_failure(slot, code, failure, sizeof(failure), &outcome);
    if (status > 0) {
        outcome = notify_status_outcome((int)status);
        if (failure[0] != '\0')
            error_text_set(reason, sizeof(reason), "HTTP %ld; %.200s", status, failure);
        else if (outcome == NOTIFY_OUTCOME_DELIVERED)
            reason[0] = '\0';
        else
            error_text_set(reason, sizeof(reason), "HTTP %ld", status);
        /* Retry-After, seconds or an HTTP date, as curl read it; 0 means
         * none (or now): then the backoff decides. */
        if (curl_easy_getinfo(slot->easy, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK &&
            retry_after > 0)
            retry_after_ms = retry_after > NOTIFY_RETRY_AFTER_MAX_MS / 1000
                                 ? NOTIFY_RETRY_AFTER_MAX_MS
                                 : (int64_t)retry_after * 1000;
    } else if (notify_slot_sent_in_full(slot)) {
        /* The server may have acted on it: never send it again. */
        outcome = NOTIFY_OUTCOME_UNKNOWN;
        error_text_set(reason, sizeof(reason), "%.200s after the request was sent; not resent",
                       failure);
    } else {
        error_text_set(reason, sizeof(reason), "%s", failure);
    }
    notify_slot_finish(notify, slot, outcome, (int)status, retry_after_ms, reason);
}

/* CURLOPT_WRITEFUNCTION and CURLOPT_HEADERFUNCTION: count the answer and
 * throw it away; past NOTIFY_RESPONSE_MAX, end the transfer. */
static size_t notify_receive(char *data, size_t size, size_t count, void *user)
{
    struct notify_slot *slot = user;

    (void)data;
    slot->response_bytes += size * count;
    if (slot->response_bytes > NOTIFY_RESPONSE_MAX) {
        snprintf(slot->error, sizeof(slot->error),
                 "response too large (over %d KiB); connection closed", NOTIFY_RESPONSE_MAX / 1024);
        return 0;
    }
    return size * count;
}

/* CURLOPT_OPENSOCKETFUNCTION: the name resolved; open the socket as curl would. */
static curl_socket_t notify_open_socket(void *user, curlsocktype purpose,
                                        struct curl_sockaddr *address)
{
    struct notify_slot *slot = user;

    (void)purpose;
    slot->resolved = 1;
    return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

/* CURLOPT_PREREQFUNCTION: connected (and the TLS handshake done); the
 * request goes out next. */
static int notify_request_ready(void *user, char *primary_ip, char *local_ip, int primary_port,
                                int local_port)
{
    struct notify_slot *slot = user;

    (void)primary_ip;
    (void)local_ip;
    (void)primary_port;
    (void)local_port;
    slot->connected = 1;
    return CURL_PREREQFUNC_OK;
}

/* The request's headers as curl takes them. Headers curl would add on its
 * own and we never sent (Expect: 100-continue for large bodies) are off.
 * 0 or -1. */
static int notify_slot_headers(struct notify_slot *slot)
{
    char line[NOTIFY_HEADER_LINE_MAX];
    struct curl_slist *list = NULL, *next;

    for (int i = 0; i <= slot->request.header_count; i++) {
        if (i == slot->request.header_count) {
            snprintf(line, sizeof(line), "expect:");
        } else {
            const struct notify_header *header = &slot->request.headers[i];
            /* "name;" is how curl sends a header with an empty value. */
            if (header->value[0] == '\0')
                snprintf(line, sizeof(line), "%s;", header->name);
            else
                snprintf(line, sizeof(line), "%s: %s", header->name, header->value);
        }
        next = curl_slist_append(list, line);
        mbedtls_platform_zeroize(line, sizeof(line));
        if (next == NULL)
            return -1;
        list = next;
        slot->headers = list;
    }
    return 0;
}

/* Set up the easy handle for the built request. verify says whether the
 * server's certificate and name are checked. 0, or -1 with a reason. */
static int notify_slot_prepare(struct notify_slot *slot, int verify, char *error, size_t size)
{
    char *host = NULL, *scheme = NULL;
    CURL *easy;
    int rc = -1;

    slot->url = curl_url();
    if (slot->url == NULL ||
        curl_url_set(slot->url, CURLUPART_URL, slot->request.url, CURLU_PATH_AS_IS) != CURLUE_OK ||
        curl_url_get(slot->url, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(slot->url, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
        error_text_set(error, size, "the target URL cannot be parsed");
        goto out;
    }
    snprintf(slot->host, sizeof(slot->host), "%s", host);
    slot->use_tls = strcmp(scheme, "https") == 0;
    if (notify_slot_headers(slot) != 0 || (slot->easy = curl_easy_init()) == NULL) {
        error_text_set(error, size, "out of memory");
        goto out;
    }
    easy = slot->easy;
    curl_easy_setopt(easy, CURLOPT_CURLU, slot->url);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_QUICK_EXIT, 1L);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, (long)NOTIFY_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)NOTIFY_REQUEST_TIMEOUT_MS);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, slot->curl_error);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, notify_receive);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, slot);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, notify_receive);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, slot);
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, notify_open_socket);
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, slot);
    curl_easy_setopt(easy, CURLOPT_PREREQFUNCTION, notify_request_ready);
    curl_easy_setopt(easy, CURLOPT_PREREQDATA, slot);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, slot->headers);
    /* The body is sent from our buffer, which lives as long as the slot. */
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)slot->request.body_size);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS,
                     slot->request.body != NULL ? (const char *)slot->request.body : "");
    if (strcmp(slot->request.method, "POST") != 0)
        curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, slot->request.method);
    rc = 0;
out:
    curl_free(host);
    curl_free(scheme);
    return rc;
}

/* Start a claimed job in a free slot: build the request and hand it to
 * curl, or record why it cannot be sent. */
static void notify_slot_begin(struct notify *notify, struct notify_slot *slot,
                              const struct notify_job *job)
{
    struct notify_target *target = malloc(sizeof(*target));
    struct notify_event_info info;
    uint8_t *snapshot = NULL;
    char error[NOTIFY_ERROR_MAX] = "";
    int found, built = -1, verify = 1;

    memset(slot, 0, sizeof(*slot));
    slot->job = *job;
    found = target != NULL ? notify_target_load(notify->db, job->target_id, target) : -1;
    if (found == 1 && job->event_id != 0) {
        found = notify_outbox_event_info(notify->db, job->event_id, &info, &snapshot);
    } else {
        memset(&info, 0, sizeof(info));
        snprintf(info.type, sizeof(info.type), "test");
    }
    if (found == 1) {
        verify = !target->insecure_tls;
        if (target->kind == NOTIFY_KIND_WEBHOOK)
            built = notify_build_webhook(target, &info, notify->public_url, job->message_id,
                                         database_now_ms(), &slot->request, error, sizeof(error));
        else
            built = notify_build_ntfy(target, &info, notify->public_url, database_now_ms(),
                                      &slot->request, error, sizeof(error));
    } else {
        error_text_set(error, sizeof(error), "%s",
                       found == 0 ? "the target or event no longer exists" : "database error");
    }
    free(snapshot);
    if (target != NULL)
        mbedtls_platform_zeroize(target, sizeof(*target));
    free(target);
    if (built == 0 && notify_slot_prepare(slot, verify, error, sizeof(error)) != 0)
        built = -1;
    if (built == 0 && curl_multi_add_handle(notify->multi, slot->easy) != CURLM_OK) {
        error_text_set(error, sizeof(error), "the request could not be started");
        curl_easy_cleanup(slot->easy);
        slot->easy = NULL;
        built = -1;
    }
    if (built != 0)
        notify_slot_finish(notify, slot, NOTIFY_OUTCOME_FAIL, 0, -1, error);
}

/* Start as many due rows as there are free slots (one per target). Returns
 * when to look again: the next due row, at most NOTIFY_IDLE_POLL_MS away. */
static int64_t notify_pump(struct notify *notify, int64_t now)
{
    int64_t next = 0, busy[NOTIFY_SLOTS];
    int busy_count;

    if (now - notify->last_prune_ms > NOTIFY_PRUNE_EVERY_MS) {
        notify_outbox_prune(notify->db, now);
        notify->last_prune_ms = now;
    }
    for (int i = 0; i < NOTIFY_SLOTS; i++) {
        struct notify_slot *slot = &notify->slots[i];
        struct notify_job job;
        if (slot->easy != NULL)
            continue;
        busy_count = 0;
        for (int j = 0; j < NOTIFY_SLOTS; j++)
            if (notify->slots[j].easy != NULL)
                busy[busy_count++] = notify->slots[j].job.target_id;
        if (notify_outbox_claim(notify->db, now, busy, busy_count, &job) != 1)
            break;
        notify_slot_begin(notify, slot, &job);
        if (slot->easy == NULL)
            i--; /* it could not start: the slot is free for the next row */
    }
    if (notify_outbox_next_due(notify->db, &next) == 1 && next > now &&
        next - now < NOTIFY_IDLE_POLL_MS)
        return next;
    return now + NOTIFY_IDLE_POLL_MS;
}

/* Record the transfers curl finished. Returns how many. */
static int notify_collect(struct notify *notify)
{
    CURLMsg *message;
    int left, finished = 0;

    while ((message = curl_multi_info_read(notify->multi, &left)) != NULL) {
        if (message->msg != CURLMSG_DONE)
            continue;
        for (int i = 0; i < NOTIFY_SLOTS; i++) {
            if (notify->slots[i].easy == message->easy_handle) {
                notify_slot_done(notify, &notify->slots[i], message->data.result);
                finished++;
                break;
            }
        }
    }
    return finished;
}

/* Out of time at stop: record what is under way ('pending' again unless
 * it went out in full) and let it go. */
static void notify_abandon_all(struct notify *notify)
{
    for (int i = 0; i < NOTIFY_SLOTS; i++) {
        struct notify_slot *slot = &notify->slots[i];
        if (slot->easy == NULL)
            continue;
        notify_outbox_abandon(notify->db, &slot->job, notify_slot_sent_in_full(slot));
        notify_slot_release(notify, slot);
    }
}

/* The number of requests under way. */
static int notify_active(const struct notify *notify)
{
    int count = 0;

    for (int i = 0; i < NOTIFY_SLOTS; i++)
        count += notify->slots[i].easy != NULL;
    return count;
}

/* The sender thread: recover, then drive curl until stopped. */
static void *notify_thread(void *data)
{
    struct notify *notify = data;
    int64_t now, pump_at = 0, stop_deadline = 0, wait;
    int recovered, running;
    pthread_setname_np(pthread_self(), "notify");

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
    for (;;) {
        curl_multi_perform(notify->multi, &running);
        if (notify_collect(notify) > 0)
            pump_at = 0; /* a slot came free */
        now = database_now_ms();
        if (atomic_load(&notify->stopping)) {
            if (stop_deadline == 0)
                stop_deadline = now + NOTIFY_STOP_GRACE_MS;
            if (notify_active(notify) == 0)
                break;
            if (now >= stop_deadline) {
                notify_abandon_all(notify);
                break;
            }
            pump_at = stop_deadline;
        } else if (atomic_exchange(&notify->woken, 0) || now >= pump_at) {
            pump_at = notify_pump(notify, now);
        }
        /* curl shortens the wait to its own next timeout. */
        wait = pump_at - now;
        curl_multi_poll(notify->multi, NULL, 0, wait < 0 ? 0 : (int)wait, NULL);
    }
    return NULL;
}

struct notify *notify_start(const char *public_url)
{
    struct notify *notify;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        log_error("libcurl did not start; notifications are off");
        return NULL;
    }
    notify = calloc(1, sizeof(*notify));
    if (notify == NULL)
        goto fail;
    snprintf(notify->public_url, sizeof(notify->public_url), "%s", public_url);
    notify->multi = curl_multi_init();
    if (notify->multi == NULL) {
        log_error("libcurl did not start; notifications are off");
        goto fail;
    }
    if (pthread_create(&notify->thread, NULL, notify_thread, notify) != 0) {
        log_error("cannot start the notification thread");
        goto fail;
    }
    return notify;
fail:
    if (notify != NULL)
        curl_multi_cleanup(notify->multi);
    free(notify);
    curl_global_cleanup();
    return NULL;
}

void notify_stop(struct notify *notify)
{
    if (notify == NULL)
        return;
    atomic_store(&notify->stopping, 1);
    curl_multi_wakeup(notify->multi);
    pthread_join(notify->thread, NULL);
    for (int i = 0; i < NOTIFY_SLOTS; i++)
        notify_slot_release(notify, &notify->slots[i]);
    curl_multi_cleanup(notify->multi);
    free(notify);
    curl_global_cleanup();
}

void notify_wake(struct notify *notify)
{
    if (notify == NULL)
        return;
    atomic_store(&notify->woken, 1);
    curl_multi_wakeup(notify->multi);
}

void notify_event_ready(struct notify *notify, sqlite3 *db, int64_t event_id)
{
    if (db != NULL && notify_outbox_make_due(db, event_id, database_now_ms()) > 0)
        notify_wake(notify);
}
