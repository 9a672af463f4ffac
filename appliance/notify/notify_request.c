/*
 * notify_request.c - building ntfy and Standard Webhooks requests, header
 * sanitising, and the retry rules (see notify_request.h).
 */
#define LOG_MODULE "notify"

#include "notify/notify_request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <mbedtls/base64.h>
#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>

#include "accounts/random_bytes.h"
#include "common/error_text.h"
#include "core/config.h"

#define NOTIFY_USER_AGENT "Doorstep/" DOORSTEP_VERSION
#define NOTIFY_WORD_BYTES 45 /* UTF-8 bytes per RFC 2047 word: 60 base64 + 12 = 72 <= 75 */
#define NOTIFY_TEXT_MAX   512
#define NOTIFY_LINK_MAX   (NOTIFY_URL_MAX + 128)

/* The key bytes of a "whsec_<base64>" secret (see notify_request.h). */
int notify_secret_key(const char *secret, uint8_t *key, size_t key_size)
{
    size_t prefix = strlen(NOTIFY_SECRET_PREFIX), length, written = 0;

    length = strnlen(secret, NOTIFY_SECRET_MAX);
    if (length >= NOTIFY_SECRET_MAX || strncmp(secret, NOTIFY_SECRET_PREFIX, prefix) != 0)
        return -1;
    if (mbedtls_base64_decode(key, key_size, &written, (const unsigned char *)secret + prefix,
                              length - prefix) != 0 ||
        written < NOTIFY_SECRET_KEY_MIN || written > NOTIFY_SECRET_KEY_MAX)
        return -1;
    return (int)written;
}

/* How each event type reads in a notification; ntfy priority 5 is urgent. */
struct notify_type_text {
    const char *type;
    const char *title;    /* after "<doorbell>: " */
    const char *sentence; /* followed by " at HH:MM:SS." */
    const char *tags;     /* ntfy tags (emoji short codes) */
    int priority;
};

static const struct notify_type_text notify_type_texts[] = {
    {"ring", "someone rang", "Someone rang the doorbell", "bell", 5},
    {"motion", "motion", "Motion was detected", "walking", 3},
    {"pir", "motion sensor", "The motion sensor triggered", "walking", 3},
    {"person", "person", "A person was seen", "bust_in_silhouette", 4},
    {"package", "package", "A package was seen", "package", 3},
    {"package_delivered", "package delivered", "A package was delivered", "package", 3},
    {"package_taken", "package taken", "A package was taken", "package", 3},
    {"tamper", "tamper alarm", "Someone tampered with the doorbell", "rotating_light", 5},
    {"offline", "offline", "The doorbell went offline", "warning", 4},
    {"online", "back online", "The doorbell came back online", "white_check_mark", 2},
    {"low_battery", "battery low", "The battery ran low", "battery", 3},
    {"disk_full", "recording stopped: disk full", "Recording stopped: the disk is full", "warning",
     5},
    {"database_full", "recording stopped: database full",
     "Recording stopped: the database's disk is full", "warning", 5},
    {"recording_stopped", "recording stopped", "Recording stopped after a write error", "warning",
     5},
};

static const struct notify_type_text notify_type_other = {"", "event", "An event happened", "bell",
                                                          3};

/* The texts for an event type. */
static const struct notify_type_text *notify_type_text_of(const char *type)
{
    for (size_t i = 0; i < sizeof(notify_type_texts) / sizeof(notify_type_texts[0]); i++)
        if (strcmp(type, notify_type_texts[i].type) == 0)
            return &notify_type_texts[i];
    return &notify_type_other;
}

void notify_iso_time(int64_t ms, char *out, size_t out_size)
{
    time_t seconds = (time_t)(ms / 1000);
    struct tm utc;
    char text[32];

    gmtime_r(&seconds, &utc);
    strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &utc);
    snprintf(out, out_size, "%s.%03dZ", text, (int)(ms % 1000));
}

/* Length of the UTF-8 sequence at text (1..4), or 0 if it is malformed
 * (bad lead or continuation byte, overlong, surrogate, past U+10FFFF). */
static size_t notify_utf8_length(const unsigned char *text)
{
    unsigned lead = text[0];
    size_t length;
    unsigned long code;

    if (lead < 0x80)
        return 1;
    if (lead >= 0xC2 && lead <= 0xDF)
        length = 2, code = lead & 0x1F;
    else if (lead >= 0xE0 && lead <= 0xEF)
        length = 3, code = lead & 0x0F;
    else if (lead >= 0xF0 && lead <= 0xF4)
        length = 4, code = lead & 0x07;
    else
        return 0;
    for (size_t i = 1; i < length; i++) {
        if ((text[i] & 0xC0) != 0x80)
            return 0;
        code = (code << 6) | (text[i] & 0x3F);
    }
    if ((length == 3 && (code < 0x800 || (code >= 0xD800 && code <= 0xDFFF))) ||
        (length == 4 && (code < 0x10000 || code > 0x10FFFF)))
        return 0;
    return length;
}

/* Append one RFC 2047 word for bytes [start, start + length) to out at *used.
 * 0, or -1 if it does not fit (nothing is appended then). */
static int notify_append_word(const unsigned char *start, size_t length, char *out, size_t out_size,
                              size_t *used)
{
    unsigned char encoded[NOTIFY_WORD_BYTES * 2];
    size_t written = 0;
    int needed;

    if (mbedtls_base64_encode(encoded, sizeof(encoded), &written, start, length) != 0)
        return -1;
    needed = snprintf(out + *used, out_size - *used, "%s=?UTF-8?B?%.*s?=", *used > 0 ? " " : "",
                      (int)written, (const char *)encoded);
    if (needed < 0 || (size_t)needed >= out_size - *used) {
        out[*used] = '\0';
        return -1;
    }
    *used += (size_t)needed;
    return 0;
}

void notify_header_text(const char *text, char *out, size_t out_size)
{
    char clean[NOTIFY_HEADER_VALUE_MAX];
    size_t length = 0, used = 0;
    int ascii = 1;

    if (out_size == 0)
        return;
    /* Control characters (CR and LF above all) become spaces; runs of spaces
     * collapse; bytes that are not UTF-8 become '?'. */
    for (const unsigned char *c = (const unsigned char *)text; *c != '\0';) {
        size_t size = notify_utf8_length(c);
        int space = *c < 0x20 || *c == 0x7F || *c == ' ';
        if (size == 0 || space)
            size = 1;
        if (length + size >= sizeof(clean))
            break;
        if (space) {
            if (length > 0 && clean[length - 1] != ' ')
                clean[length++] = ' ';
        } else if (notify_utf8_length(c) == 0) {
            clean[length++] = '?';
        } else {
            memcpy(clean + length, c, size);
            length += size;
            ascii &= size == 1;
        }
        c += size;
    }
    while (length > 0 && clean[length - 1] == ' ')
        length--;
    clean[length] = '\0';
    if (ascii) {
        snprintf(out, out_size, "%s", clean);
        return;
    }
    /* Encoded words of whole characters; what does not fit is dropped. */
    out[0] = '\0';
    for (size_t start = 0; start < length;) {
        size_t end = start;
        while (end < length) {
            size_t size = notify_utf8_length((const unsigned char *)clean + end);
            if (end + size - start > NOTIFY_WORD_BYTES)
                break;
            end += size;
        }
        if (notify_append_word((const unsigned char *)clean + start, end - start, out, out_size,
                               &used) != 0)
            break;
        start = end;
    }
}

/* Add a header (value sanitised). 0, or -1 when the table is full. */
static int notify_add_header(struct notify_http_request *request, const char *name,
                             const char *value)
{
    struct notify_header *header;

    if (request->header_count == NOTIFY_HEADERS_MAX)
        return -1;
    header = &request->headers[request->header_count++];
    snprintf(header->name, sizeof(header->name), "%s", name);
    notify_header_text(value, header->value, sizeof(header->value));
    return 0;
}

/* Copy size bytes into a fresh body. 0 or -1. */
static int notify_set_body(struct notify_http_request *request, const void *data, size_t size)
{
    request->body = malloc(size > 0 ? size : 1);
    if (request->body == NULL)
        return -1;
    memcpy(request->body, data, size);
    request->body_size = size;
    return 0;
}

void notify_http_request_clear(struct notify_http_request *request)
{
    free(request->body);
    mbedtls_platform_zeroize(request, sizeof(*request));
}

/* "Authorization: Bearer <token>" or Basic for username/password. 0 or -1. */
static int notify_add_authorization(struct notify_http_request *request,
                                    const struct notify_target *target)
{
    char pair[NOTIFY_USERNAME_MAX + NOTIFY_PASSWORD_MAX + 1];
    unsigned char encoded[(sizeof(pair) / 3 + 1) * 4 + 1];
    char value[sizeof(encoded) + 16];
    size_t written = 0;
    int rc = 0;

    if (target->token[0] != '\0') {
        snprintf(value, sizeof(value), "Bearer %s", target->token);
        rc = notify_add_header(request, "authorization", value);
    } else if (target->username[0] != '\0') {
        snprintf(pair, sizeof(pair), "%s:%s", target->username, target->password);
        if (mbedtls_base64_encode(encoded, sizeof(encoded), &written, (unsigned char *)pair,
                                  strlen(pair)) != 0)
            rc = -1;
        else {
            snprintf(value, sizeof(value), "Basic %.*s", (int)written, (const char *)encoded);
            rc = notify_add_header(request, "authorization", value);
        }
    }
    mbedtls_platform_zeroize(pair, sizeof(pair));
    mbedtls_platform_zeroize(value, sizeof(value));
    return rc;
}

/* The UI links of an event: the recordings at the event (click), live view
 * and the clip (ntfy actions). */
static void notify_links(const struct notify_event_info *event, const char *public_url, char *click,
                         char *live, char *clip, size_t size)
{
    snprintf(click, size, "%s/#/devices/%s/recordings?t=%lld", public_url, event->device_id,
             (long long)event->start_ms);
    snprintf(live, size, "%s/#/devices/%s", public_url, event->device_id);
    snprintf(clip, size, "%s/#/devices/%s/recordings?t=%lld", public_url, event->device_id,
             (long long)event->clip_start_ms);
}

int notify_build_ntfy(const struct notify_target *target, const struct notify_event_info *event,
                      const char *public_url, int64_t now_ms, struct notify_http_request *out,
                      char *error, size_t error_size)
{
    const struct notify_type_text *text = notify_type_text_of(event->type);
    char title[NOTIFY_TEXT_MAX], message[NOTIFY_TEXT_MAX], clock[16], priority[4];
    char click[NOTIFY_LINK_MAX], live[NOTIFY_LINK_MAX], clip[NOTIFY_LINK_MAX];
    char actions[3 * NOTIFY_LINK_MAX];
    size_t url_length = strlen(target->url);
    time_t seconds = (time_t)((event->event_id != 0 ? event->start_ms : now_ms) / 1000);
    struct tm local;
    int attach = event->event_id != 0 && event->snapshot != NULL && event->snapshot_size > 0;

    memset(out, 0, sizeof(*out));
    while (url_length > 0 && target->url[url_length - 1] == '/')
        url_length--;
    snprintf(out->url, sizeof(out->url), "%.*s/%s", (int)url_length, target->url, target->topic);
    snprintf(out->method, sizeof(out->method), "%s", attach ? "PUT" : "POST");
    localtime_r(&seconds, &local);
    strftime(clock, sizeof(clock), "%H:%M:%S", &local);

    if (event->event_id == 0) {
        snprintf(title, sizeof(title), "Doorstep: test notification");
        snprintf(message, sizeof(message),
                 "This is a test from Doorstep for \"%s\" (%s). Notifications work.", target->name,
                 clock);
        snprintf(priority, sizeof(priority), "3");
    } else {
        snprintf(title, sizeof(title), "%s: %s", event->device_name, text->title);
        snprintf(message, sizeof(message), "%s at %s.", text->sentence, clock);
        snprintf(priority, sizeof(priority), "%d", text->priority);
    }
    if (notify_add_header(out, "user-agent", NOTIFY_USER_AGENT) != 0 ||
        notify_add_header(out, "title", title) != 0 ||
        notify_add_header(out, "priority", priority) != 0 ||
        notify_add_header(out, "tags", event->event_id == 0 ? "white_check_mark" : text->tags))
        goto full;
    if (event->event_id != 0) {
        notify_links(event, public_url, click, live, clip, sizeof(click));
        if (notify_add_header(out, "click", click) != 0)
            goto full;
        /* The simple action format separates fields with ',' and actions
         * with ';': links holding either (or a quote) are left out. */
        if (target->actions && strpbrk(public_url, ",;\"'") == NULL) {
            snprintf(actions, sizeof(actions), "view, View live, %s; view, View clip, %s", live,
                     clip);
            if (notify_add_header(out, "actions", actions) != 0)
                goto full;
        }
    }
    if (notify_add_authorization(out, target) != 0)
        goto full;
    if (attach) {
        /* The snapshot is the body; the text goes in the Message header. */
        if (notify_add_header(out, "message", message) != 0 ||
            notify_add_header(out, "filename", "snapshot.jpg") != 0 ||
            notify_add_header(out, "content-type", "image/jpeg") != 0 ||
            notify_set_body(out, event->snapshot, event->snapshot_size) != 0)
            goto full;
    } else if (notify_add_header(out, "content-type", "text/plain; charset=utf-8") != 0 ||
               notify_set_body(out, message, strlen(message)) != 0) {
        goto full;
    }
    return 0;
full:
    notify_http_request_clear(out);
    error_text_set(error, error_size, "cannot build the ntfy request (out of memory)");
    return -1;
}

/* The data object of an event's webhook (the events API's fields). */
static cJSON *notify_webhook_event_data(const struct notify_event_info *event,
                                        const char *public_url)
{
    cJSON *data = cJSON_CreateObject(), *boxes;
    char text[NOTIFY_LINK_MAX], live[NOTIFY_LINK_MAX], clip[NOTIFY_LINK_MAX];

    if (data == NULL)
        return NULL;
    cJSON_AddNumberToObject(data, "event_id", (double)event->event_id);
    cJSON_AddStringToObject(data, "device_id", event->device_id);
    cJSON_AddStringToObject(data, "device_name", event->device_name);
    cJSON_AddStringToObject(data, "event_type", event->type);
    notify_iso_time(event->start_ms, text, sizeof(text));
    cJSON_AddStringToObject(data, "timestamp", text);
    cJSON_AddNumberToObject(data, "start_ms", (double)event->start_ms);
    cJSON_AddNumberToObject(data, "clip_start_ms", (double)event->clip_start_ms);
    cJSON_AddNumberToObject(data, "clip_end_ms", (double)event->clip_end_ms);
    cJSON_AddNumberToObject(data, "score", event->score);
    boxes = cJSON_Parse(event->boxes);
    cJSON_AddItemToObject(data, "boxes", cJSON_IsArray(boxes) ? boxes : cJSON_CreateArray());
    if (!cJSON_IsArray(boxes))
        cJSON_Delete(boxes);
    notify_links(event, public_url, text, live, clip, sizeof(text));
    cJSON_AddStringToObject(data, "ui_url", text);
    if (event->snapshot != NULL) {
        snprintf(text, sizeof(text), "%s/api/v1/devices/%s/events/%lld/snapshot.jpg", public_url,
                 event->device_id, (long long)event->event_id);
        cJSON_AddStringToObject(data, "snapshot_url", text);
    } else {
        cJSON_AddNullToObject(data, "snapshot_url");
    }
    snprintf(text, sizeof(text), "%s/api/v1/devices/%s/export?from=%lld&to=%lld", public_url,
             event->device_id, (long long)event->clip_start_ms, (long long)event->clip_end_ms);
    cJSON_AddStringToObject(data, "clip_url", text);
    return data;
}

/* Add the snapshot as base64 to data (the receiver has no session to fetch
 * snapshot_url with). 0 or -1. */
static int notify_webhook_add_snapshot(cJSON *data, const struct notify_event_info *event)
{
    size_t size = 0;
    char *encoded;
    int rc;

    if (event->snapshot == NULL || event->snapshot_size > NOTIFY_SNAPSHOT_INLINE_MAX) {
        cJSON_AddNullToObject(data, "snapshot_jpeg_base64");
        return 0;
    }
    mbedtls_base64_encode(NULL, 0, &size, event->snapshot, event->snapshot_size);
    encoded = malloc(size);
    if (encoded == NULL)
        return -1;
    rc = mbedtls_base64_encode((unsigned char *)encoded, size, &size, event->snapshot,
                               event->snapshot_size) == 0 &&
                 cJSON_AddStringToObject(data, "snapshot_jpeg_base64", encoded) != NULL
             ? 0
             : -1;
    free(encoded);
    return rc;
}

int notify_build_webhook(const struct notify_target *target, const struct notify_event_info *event,
                         const char *public_url, const char *message_id, int64_t now_ms,
                         struct notify_http_request *out, char *error, size_t error_size)
{
    cJSON *root = cJSON_CreateObject(), *data = NULL;
    char type[EVENT_TYPE_MAX + 16], text[NOTIFY_TEXT_MAX], signature[NOTIFY_SIGNATURE_MAX];
    const char *reason = "cannot build the webhook (out of memory)";
    char *body = NULL;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    snprintf(out->method, sizeof(out->method), "POST");
    snprintf(out->url, sizeof(out->url), "%s", target->url);
    if (root == NULL)
        goto out;
    if (event->event_id == 0) {
        snprintf(type, sizeof(type), "notification.test");
        notify_iso_time(now_ms, text, sizeof(text));
        data = cJSON_CreateObject();
        if (data != NULL) {
            cJSON_AddNumberToObject(data, "target_id", (double)target->id);
            cJSON_AddStringToObject(data, "target_name", target->name);
            cJSON_AddStringToObject(data, "message", "This is a test from Doorstep.");
        }
    } else {
        snprintf(type, sizeof(type), "event.%s", event->type);
        notify_iso_time(event->start_ms, text, sizeof(text));
        data = notify_webhook_event_data(event, public_url);
        if (data != NULL && notify_webhook_add_snapshot(data, event) != 0) {
            cJSON_Delete(data);
            data = NULL;
        }
    }
    if (data == NULL)
        goto out;
    cJSON_AddStringToObject(root, "type", type);
    cJSON_AddStringToObject(root, "timestamp", text);
    cJSON_AddItemToObject(root, "data", data);
    body = cJSON_PrintUnformatted(root);
    if (body == NULL || notify_set_body(out, body, strlen(body)) != 0)
        goto out;
    if (notify_webhook_signature(target->secret, message_id, now_ms / 1000, out->body,
                                 out->body_size, signature, sizeof(signature)) != 0) {
        reason = "the target's signing secret is malformed";
        goto out;
    }
    snprintf(text, sizeof(text), "%lld", (long long)(now_ms / 1000));
    if (notify_add_header(out, "user-agent", NOTIFY_USER_AGENT) != 0 ||
        notify_add_header(out, "content-type", "application/json") != 0 ||
        notify_add_header(out, "webhook-id", message_id) != 0 ||
        notify_add_header(out, "webhook-timestamp", text) != 0 ||
        notify_add_header(out, "webhook-signature", signature) != 0)
        goto out;
    rc = 0;
out:
    if (rc != 0) {
        notify_http_request_clear(out);
        error_text_set(error, error_size, "%s", reason);
    }
    cJSON_free(body);
    cJSON_Delete(root);
    return rc;
}

int notify_webhook_signature(const char *secret, const char *message_id, int64_t timestamp,
                             const uint8_t *body, size_t body_size, char *out, size_t out_size)
{
    const mbedtls_md_info_t *sha256 = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    uint8_t key[NOTIFY_SECRET_KEY_MAX], mac[32];
    char prefix[NOTIFY_MESSAGE_ID_MAX + 32];
    mbedtls_md_context_t context;
    size_t written = 0;
    int key_length = notify_secret_key(secret, key, sizeof(key)), rc = -1;

    mbedtls_md_init(&context);
    if (key_length < 0 || out_size < 4 || strchr(message_id, '.') != NULL)
        goto out;
    /* Signed content: "<id>.<timestamp>.<body>". */
    snprintf(prefix, sizeof(prefix), "%s.%lld.", message_id, (long long)timestamp);
    if (mbedtls_md_setup(&context, sha256, 1) != 0 ||
        mbedtls_md_hmac_starts(&context, key, (size_t)key_length) != 0 ||
        mbedtls_md_hmac_update(&context, (const unsigned char *)prefix, strlen(prefix)) != 0 ||
        mbedtls_md_hmac_update(&context, body, body_size) != 0 ||
        mbedtls_md_hmac_finish(&context, mac) != 0)
        goto out;
    memcpy(out, "v1,", 3);
    if (mbedtls_base64_encode((unsigned char *)out + 3, out_size - 3, &written, mac, sizeof(mac)) !=
        0)
        goto out;
    rc = 0;
out:
    mbedtls_md_free(&context);
    mbedtls_platform_zeroize(key, sizeof(key));
    if (rc != 0 && out_size > 0)
        out[0] = '\0';
    return rc;
}

int notify_message_id(char *out, size_t out_size)
{
    uint8_t random[16];

    if (out_size < 4 + 2 * sizeof(random) + 1 || random_bytes_fill(random, sizeof(random)) != 0)
        return -1;
    memcpy(out, "msg_", 4);
    for (size_t i = 0; i < sizeof(random); i++)
        snprintf(out + 4 + 2 * i, 3, "%02x", random[i]);
    return 0;
}

enum notify_outcome notify_status_outcome(int status)
{
    if (status >= 200 && status <= 299)
        return NOTIFY_OUTCOME_DELIVERED;
    /* Busy or briefly broken: worth another try. Redirects are not
     * followed (Standard Webhooks: update the URL instead) and other client
     * errors will not fix themselves. */
    if (status == 408 || status == 425 || status == 429 || (status >= 500 && status <= 599))
        return NOTIFY_OUTCOME_RETRY;
    return NOTIFY_OUTCOME_FAIL;
}

int64_t notify_backoff_ms(int attempts, uint32_t jitter)
{
    int64_t delay = NOTIFY_BACKOFF_FIRST_MS;

    for (int i = 1; i < attempts && delay < NOTIFY_BACKOFF_MAX_MS; i++)
        delay *= 2;
    if (delay > NOTIFY_BACKOFF_MAX_MS)
        delay = NOTIFY_BACKOFF_MAX_MS;
    return delay + (int64_t)(jitter % (uint32_t)(delay / 4 + 1));
}
