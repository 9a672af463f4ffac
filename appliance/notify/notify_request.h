/*
 * notify_request.h - what one notification attempt sends: the ntfy publish
 * request (https://docs.ntfy.sh/publish/) or the Standard Webhooks POST
 * (https://www.standardwebhooks.com), built from a target and an event; and
 * the rules for what an answer means (delivered, retry when, give up).
 *
 * Pure functions with no I/O (the sender thread and the unit tests call
 * them); any thread. Header values are always sanitised: no CR/LF or other
 * control characters, non-ASCII text as RFC 2047 encoded words (which ntfy
 * decodes), so nothing a user typed can add a header.
 */
#ifndef DOORSTEP_NOTIFY_REQUEST_H
#define DOORSTEP_NOTIFY_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "common/link_protocol.h"
#include "events/event_store.h"
#include "notify/notify_target.h"

#define NOTIFY_HEADERS_MAX         16
#define NOTIFY_HEADER_NAME_MAX     32
#define NOTIFY_HEADER_VALUE_MAX    1024
#define NOTIFY_REQUEST_URL_MAX     (NOTIFY_URL_MAX + NOTIFY_TOPIC_MAX + 2)
#define NOTIFY_MESSAGE_ID_MAX      40            /* "msg_" + 32 hex */
#define NOTIFY_SIGNATURE_MAX       64            /* "v1," + base64 of 32 bytes */
#define NOTIFY_SNAPSHOT_INLINE_MAX (1024 * 1024) /* larger snapshots are not inlined */
#define NOTIFY_MAX_ATTEMPTS        10
#define NOTIFY_BACKOFF_FIRST_MS    2000
#define NOTIFY_BACKOFF_MAX_MS      (10 * 60 * 1000)
#define NOTIFY_RETRY_AFTER_MAX_MS  (60 * 60 * 1000) /* the longest Retry-After obeyed */

/* The event a notification is about; event_id 0 is a test message. */
struct notify_event_info {
    int64_t event_id;
    char device_id[LINK_DEVICE_ID_MAX];
    char device_name[NOTIFY_NAME_MAX];
    char type[EVENT_TYPE_MAX];
    int64_t start_ms, clip_start_ms, clip_end_ms;
    double score;
    char boxes[EVENT_BOXES_MAX]; /* JSON array text */
    const uint8_t *snapshot;     /* JPEG or NULL; not owned */
    size_t snapshot_size;
};

struct notify_header {
    char name[NOTIFY_HEADER_NAME_MAX]; /* lower case, without ':' */
    char value[NOTIFY_HEADER_VALUE_MAX];
};

/* One HTTP request. body is malloc'd (notify_http_request_clear frees it). */
struct notify_http_request {
    char method[8];
    char url[NOTIFY_REQUEST_URL_MAX];
    struct notify_header headers[NOTIFY_HEADERS_MAX];
    int header_count;
    uint8_t *body;
    size_t body_size;
};

enum notify_outcome {
    NOTIFY_OUTCOME_DELIVERED,
    NOTIFY_OUTCOME_RETRY,   /* try again later (network trouble, 5xx, 408, 429) */
    NOTIFY_OUTCOME_FAIL,    /* give up now (other 3xx/4xx, TLS verification) */
    NOTIFY_OUTCOME_UNKNOWN, /* sent in full but no answer: it may have arrived, so it is
                               never resent (at most once) */
};

/*
 * Build the ntfy publish request: PUT <server>/<topic> with the snapshot as
 * the body (Filename: snapshot.jpg) or, without one, POST with the message
 * text; Title, Message, Priority, Tags, Click, Actions (view live / view clip
 * when the target wants them) and Authorization. public_url is the hub's
 * https://host:port for the links. 0, or -1 with a reason in error.
 */
int notify_build_ntfy(const struct notify_target *target, const struct notify_event_info *event,
                      const char *public_url, int64_t now_ms, struct notify_http_request *out,
                      char *error, size_t error_size);

/*
 * Build the webhook POST: the JSON body {"type":"event.<type>" (or
 * "notification.test"),"timestamp","data":{...}} and the webhook-id,
 * webhook-timestamp (now) and webhook-signature headers. 0, or -1 with a
 * reason in error.
 */
int notify_build_webhook(const struct notify_target *target, const struct notify_event_info *event,
                         const char *public_url, const char *message_id, int64_t now_ms,
                         struct notify_http_request *out, char *error, size_t error_size);

/* Free the body and reset the request. */
void notify_http_request_clear(struct notify_http_request *request);

/*
 * The Standard Webhooks signature "v1,<base64 HMAC-SHA256(key, id.timestamp.body)>"
 * where key is the base64 after "whsec_". 0, or -1 if the secret is malformed
 * or out is too small.
 */
int notify_webhook_signature(const char *secret, const char *message_id, int64_t timestamp,
                             const uint8_t *body, size_t body_size, char *out, size_t out_size);

/* A fresh message id "msg_<32 hex>" (the webhook-id). 0 or -1. */
int notify_message_id(char *out, size_t out_size);

/*
 * A header value for text: control characters become spaces, runs of
 * spaces one, invalid UTF-8 '?', and text with non-ASCII characters becomes
 * RFC 2047 "=?UTF-8?B?...?=" words. Cut (at a character) to fit out_size.
 */
void notify_header_text(const char *text, char *out, size_t out_size);

/* What an HTTP status means for the delivery. */
enum notify_outcome notify_status_outcome(int status);

/*
 * The wait before attempt attempts + 1 after attempts failed ones:
 * 2 s, 4 s, 8 s ... capped at 10 min, plus up to a quarter more from
 * jitter (any random number), so many targets do not retry in lockstep.
 */
int64_t notify_backoff_ms(int attempts, uint32_t jitter);

/* "2026-11-21T08:15:00.123Z" for ms since the epoch. */
void notify_iso_time(int64_t ms, char *out, size_t out_size);

/* The key bytes of a "whsec_<base64>" secret into key (NOTIFY_SECRET_KEY_MAX
 * bytes). Returns the key length, or -1 if the secret is malformed. */
int notify_secret_key(const char *secret, uint8_t *key, size_t key_size);

#endif
