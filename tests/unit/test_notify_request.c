/*
 * test_notify_request.c - the requests a notification attempt sends
 * (appliance/notify/notify_request.c): the Standard Webhooks signature
 * against the specification's published test vector, the webhook body and
 * headers, the ntfy publish request with and without a snapshot, header
 * sanitising (CR/LF, RFC 2047 for non-ASCII), the backoff and what a
 * status means.
 *
 * UNIT_SOURCES: appliance/notify/notify_request.c appliance/notify/notify_target.c
 * UNIT_SOURCES: appliance/accounts/random_bytes.c appliance/storage/database.c
 * UNIT_SOURCES: appliance/events/weekly_schedule.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <mbedtls/base64.h>

#include "notify/notify_request.h"

#define PUBLIC_URL "https://hub.local:8443"
#define NOW_MS     1795248900123LL

/* The value of a header of request, or NULL. */
static const char *header_of(const struct notify_http_request *request, const char *name)
{
    for (int i = 0; i < request->header_count; i++)
        if (strcmp(request->headers[i].name, name) == 0)
            return request->headers[i].value;
    return NULL;
}

/* A ring event of "Front door" with a small fake JPEG. */
static const uint8_t fake_jpeg[] = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10,
                                    'J',  'F',  'I',  'F',  0xFF, 0xD9};

static void make_event(struct notify_event_info *event, int with_snapshot)
{
    memset(event, 0, sizeof(*event));
    event->event_id = 42;
    snprintf(event->device_id, sizeof(event->device_id), "a1b2c3");
    snprintf(event->device_name, sizeof(event->device_name), "Front door");
    snprintf(event->type, sizeof(event->type), "ring");
    event->start_ms = NOW_MS - 500;
    event->clip_start_ms = event->start_ms - 5000;
    event->clip_end_ms = event->start_ms + 10000;
    event->score = 1;
    snprintf(event->boxes, sizeof(event->boxes), "[{\"x\":0.1,\"y\":0.2,\"w\":0.3,\"h\":0.4}]");
    if (with_snapshot) {
        event->snapshot = fake_jpeg;
        event->snapshot_size = sizeof(fake_jpeg);
    }
}

static void make_target(struct notify_target *target, enum notify_kind kind)
{
    memset(target, 0, sizeof(*target));
    target->id = 7;
    target->kind = kind;
    target->actions = 1;
    target->enabled = 1;
    snprintf(target->name, sizeof(target->name), "Phone");
    if (kind == NOTIFY_KIND_NTFY) {
        snprintf(target->url, sizeof(target->url), "https://ntfy.example.org/");
        snprintf(target->topic, sizeof(target->topic), "doorbell_42");
    } else {
        snprintf(target->url, sizeof(target->url), "https://hooks.example.org/in?x=1");
        snprintf(target->secret, sizeof(target->secret), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    }
}

/* The vector of the Standard Webhooks reference libraries
 * (libraries/go/webhook_test.go TestWebhookSign, and the other languages). */
static void test_signature_matches_the_published_vector(void **state)
{
    const char body[] = "{\"test\": 2432232314}";
    char signature[NOTIFY_SIGNATURE_MAX];

    (void)state;
    assert_int_equal(notify_webhook_signature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                                              "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                                              (const uint8_t *)body, strlen(body), signature,
                                              sizeof(signature)),
                     0);
    assert_string_equal(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    /* Any change to id, timestamp or body changes it. */
    notify_webhook_signature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                             "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, (const uint8_t *)body,
                             strlen(body), signature, sizeof(signature));
    assert_string_not_equal(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    /* Malformed secrets and ids with the separator are refused. */
    assert_int_equal(notify_webhook_signature("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_x", 1,
                                              (const uint8_t *)"", 0, signature, sizeof(signature)),
                     -1);
    assert_int_equal(notify_webhook_signature("whsec_c2hvcnQ=", "msg_x", 1, (const uint8_t *)"", 0,
                                              signature, sizeof(signature)),
                     -1);
    assert_int_equal(notify_webhook_signature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg.x", 1,
                                              (const uint8_t *)"", 0, signature, sizeof(signature)),
                     -1);
}

static void test_webhook_body_and_headers(void **state)
{
    struct notify_target target;
    struct notify_event_info event;
    struct notify_http_request request;
    char signature[NOTIFY_SIGNATURE_MAX], error[128];
    cJSON *body, *data;
    uint8_t decoded[64];
    size_t decoded_size = 0;

    (void)state;
    make_target(&target, NOTIFY_KIND_WEBHOOK);
    make_event(&event, 1);
    assert_int_equal(notify_build_webhook(&target, &event, PUBLIC_URL, "msg_abc", NOW_MS, &request,
                                          error, sizeof(error)),
                     0);
    assert_string_equal(request.method, "POST");
    assert_string_equal(request.url, "https://hooks.example.org/in?x=1");
    assert_string_equal(header_of(&request, "content-type"), "application/json");
    assert_string_equal(header_of(&request, "webhook-id"), "msg_abc");
    assert_string_equal(header_of(&request, "webhook-timestamp"), "1795248900");
    notify_webhook_signature(target.secret, "msg_abc", NOW_MS / 1000, request.body,
                             request.body_size, signature, sizeof(signature));
    assert_string_equal(header_of(&request, "webhook-signature"), signature);

    body = cJSON_ParseWithLength((const char *)request.body, request.body_size);
    assert_non_null(body);
    assert_string_equal(cJSON_GetObjectItem(body, "type")->valuestring, "event.ring");
    assert_string_equal(cJSON_GetObjectItem(body, "timestamp")->valuestring,
                        "2026-11-21T08:14:59.623Z");
    data = cJSON_GetObjectItem(body, "data");
    assert_int_equal(cJSON_GetObjectItem(data, "event_id")->valuedouble, 42);
    assert_string_equal(cJSON_GetObjectItem(data, "device_name")->valuestring, "Front door");
    assert_string_equal(cJSON_GetObjectItem(data, "event_type")->valuestring, "ring");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(data, "boxes")), 1);
    assert_string_equal(cJSON_GetObjectItem(data, "snapshot_url")->valuestring,
                        PUBLIC_URL "/api/v1/devices/a1b2c3/events/42/snapshot.jpg");
    assert_string_equal(cJSON_GetObjectItem(data, "clip_url")->valuestring,
                        PUBLIC_URL "/api/v1/devices/a1b2c3/export?from=1795248894623&to="
                                   "1795248909623");
    assert_int_equal(
        mbedtls_base64_decode(
            decoded, sizeof(decoded), &decoded_size,
            (const unsigned char *)cJSON_GetObjectItem(data, "snapshot_jpeg_base64")->valuestring,
            strlen(cJSON_GetObjectItem(data, "snapshot_jpeg_base64")->valuestring)),
        0);
    assert_memory_equal(decoded, fake_jpeg, sizeof(fake_jpeg));
    cJSON_Delete(body);
    notify_http_request_clear(&request);

    /* A test message has its own type and no event. */
    memset(&event, 0, sizeof(event));
    assert_int_equal(notify_build_webhook(&target, &event, PUBLIC_URL, "msg_t", NOW_MS, &request,
                                          error, sizeof(error)),
                     0);
    body = cJSON_ParseWithLength((const char *)request.body, request.body_size);
    assert_string_equal(cJSON_GetObjectItem(body, "type")->valuestring, "notification.test");
    cJSON_Delete(body);
    notify_http_request_clear(&request);

    /* A broken secret is reported, not sent unsigned. */
    snprintf(target.secret, sizeof(target.secret), "whsec_");
    assert_int_equal(notify_build_webhook(&target, &event, PUBLIC_URL, "msg_t", NOW_MS, &request,
                                          error, sizeof(error)),
                     -1);
    assert_null(request.body);
}

static void test_ntfy_with_snapshot(void **state)
{
    struct notify_target target;
    struct notify_event_info event;
    struct notify_http_request request;
    char error[128];

    (void)state;
    make_target(&target, NOTIFY_KIND_NTFY);
    snprintf(target.token, sizeof(target.token), "tk_secret");
    make_event(&event, 1);
    assert_int_equal(
        notify_build_ntfy(&target, &event, PUBLIC_URL, NOW_MS, &request, error, sizeof(error)), 0);
    assert_string_equal(request.method, "PUT");
    assert_string_equal(request.url, "https://ntfy.example.org/doorbell_42");
    assert_string_equal(header_of(&request, "filename"), "snapshot.jpg");
    assert_string_equal(header_of(&request, "title"), "Front door: someone rang");
    assert_string_equal(header_of(&request, "priority"), "5");
    assert_string_equal(header_of(&request, "tags"), "bell");
    assert_non_null(strstr(header_of(&request, "message"), "Someone rang the doorbell at "));
    assert_string_equal(header_of(&request, "click"),
                        PUBLIC_URL "/#/devices/a1b2c3/recordings?t=1795248899623");
    assert_string_equal(header_of(&request, "actions"),
                        "view, View live, " PUBLIC_URL
                        "/#/devices/a1b2c3; view, View clip, " PUBLIC_URL
                        "/#/devices/a1b2c3/recordings?t=1795248894623");
    assert_string_equal(header_of(&request, "authorization"), "Bearer tk_secret");
    assert_int_equal(request.body_size, sizeof(fake_jpeg));
    assert_memory_equal(request.body, fake_jpeg, sizeof(fake_jpeg));
    notify_http_request_clear(&request);

    /* Motion without a snapshot: POST with the text; basic auth; no actions. */
    target.token[0] = '\0';
    target.actions = 0;
    snprintf(target.username, sizeof(target.username), "alice");
    snprintf(target.password, sizeof(target.password), "pa:ss");
    make_event(&event, 0);
    snprintf(event.type, sizeof(event.type), "motion");
    assert_int_equal(
        notify_build_ntfy(&target, &event, PUBLIC_URL, NOW_MS, &request, error, sizeof(error)), 0);
    assert_string_equal(request.method, "POST");
    assert_null(header_of(&request, "filename"));
    assert_null(header_of(&request, "actions"));
    assert_string_equal(header_of(&request, "priority"), "3");
    assert_string_equal(header_of(&request, "tags"), "walking");
    assert_string_equal(header_of(&request, "authorization"), "Basic YWxpY2U6cGE6c3M=");
    assert_true(request.body_size > 10);
    assert_memory_equal(request.body, "Motion was detected at ", 23);
    notify_http_request_clear(&request);
}

static void test_header_values_are_sanitised(void **state)
{
    struct notify_target target;
    struct notify_event_info event;
    struct notify_http_request request;
    char out[NOTIFY_HEADER_VALUE_MAX], error[128];
    uint8_t decoded[64];
    size_t decoded_size = 0;

    (void)state;
    /* CR/LF can never start a new header. */
    notify_header_text("Front\r\nX-Injected: 1", out, sizeof(out));
    assert_string_equal(out, "Front X-Injected: 1");
    notify_header_text("  tabs\tand\n\nnewlines  ", out, sizeof(out));
    assert_string_equal(out, "tabs and newlines");
    /* Bytes that are not UTF-8 become '?'. */
    notify_header_text("bad \xff byte", out, sizeof(out));
    assert_string_equal(out, "bad ? byte");
    /* Non-ASCII: RFC 2047 B words that decode back to the text. */
    notify_header_text("Haust\xc3\xbcr", out, sizeof(out));
    assert_string_equal(out, "=?UTF-8?B?SGF1c3TDvHI=?=");
    assert_int_equal(mbedtls_base64_decode(decoded, sizeof(decoded), &decoded_size,
                                           (const unsigned char *)out + 10, strlen(out) - 12),
                     0);
    assert_memory_equal(decoded, "Haust\xc3\xbcr", decoded_size);
    /* Long text: several words, each at most 75 characters, never splitting a
     * character. */
    notify_header_text("\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4"
                       "\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4"
                       "\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4",
                       out, sizeof(out));
    assert_non_null(strchr(out, ' '));
    for (char *word = strtok(out, " "); word != NULL; word = strtok(NULL, " ")) {
        assert_true(strlen(word) <= 75);
        assert_int_equal(strncmp(word, "=?UTF-8?B?", 10), 0);
        assert_int_equal(mbedtls_base64_decode(decoded, sizeof(decoded), &decoded_size,
                                               (const unsigned char *)word + 10, strlen(word) - 12),
                         0);
        assert_int_equal(decoded_size % 2, 0); /* whole two-byte characters */
    }
    /* In a real request: a doorbell name with CR/LF and an umlaut. */
    make_target(&target, NOTIFY_KIND_NTFY);
    make_event(&event, 1);
    snprintf(event.device_name, sizeof(event.device_name), "T\xc3\xbcr\r\nEvil: yes");
    assert_int_equal(
        notify_build_ntfy(&target, &event, PUBLIC_URL, NOW_MS, &request, error, sizeof(error)), 0);
    for (int i = 0; i < request.header_count; i++) {
        assert_null(strpbrk(request.headers[i].value, "\r\n"));
        for (const char *c = request.headers[i].value; *c != '\0'; c++)
            assert_true((unsigned char)*c >= 0x20 && (unsigned char)*c < 0x7f);
    }
    assert_int_equal(strncmp(header_of(&request, "title"), "=?UTF-8?B?", 10), 0);
    notify_http_request_clear(&request);
}

static void test_backoff_and_outcomes(void **state)
{
    (void)state;
    assert_int_equal(notify_backoff_ms(1, 0), 2000);
    assert_int_equal(notify_backoff_ms(2, 0), 4000);
    assert_int_equal(notify_backoff_ms(3, 0), 8000);
    assert_int_equal(notify_backoff_ms(9, 0), 512000);
    assert_int_equal(notify_backoff_ms(10, 0), NOTIFY_BACKOFF_MAX_MS);
    assert_int_equal(notify_backoff_ms(60, 0), NOTIFY_BACKOFF_MAX_MS);
    /* Jitter adds at most a quarter. */
    for (uint32_t jitter = 0; jitter < 5000; jitter += 77) {
        int64_t delay = notify_backoff_ms(2, jitter);
        assert_true(delay >= 4000 && delay <= 5000);
    }
    assert_int_equal(notify_status_outcome(200), NOTIFY_OUTCOME_DELIVERED);
    assert_int_equal(notify_status_outcome(204), NOTIFY_OUTCOME_DELIVERED);
    assert_int_equal(notify_status_outcome(500), NOTIFY_OUTCOME_RETRY);
    assert_int_equal(notify_status_outcome(503), NOTIFY_OUTCOME_RETRY);
    assert_int_equal(notify_status_outcome(429), NOTIFY_OUTCOME_RETRY);
    assert_int_equal(notify_status_outcome(408), NOTIFY_OUTCOME_RETRY);
    assert_int_equal(notify_status_outcome(301), NOTIFY_OUTCOME_FAIL);
    assert_int_equal(notify_status_outcome(401), NOTIFY_OUTCOME_FAIL);
    assert_int_equal(notify_status_outcome(404), NOTIFY_OUTCOME_FAIL);
    assert_int_equal(notify_status_outcome(410), NOTIFY_OUTCOME_FAIL);
}

static void test_message_ids_are_fresh(void **state)
{
    char a[NOTIFY_MESSAGE_ID_MAX], b[NOTIFY_MESSAGE_ID_MAX];

    (void)state;
    assert_int_equal(notify_message_id(a, sizeof(a)), 0);
    assert_int_equal(notify_message_id(b, sizeof(b)), 0);
    assert_int_equal(strlen(a), 36);
    assert_int_equal(strncmp(a, "msg_", 4), 0);
    assert_null(strchr(a, '.'));
    assert_string_not_equal(a, b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signature_matches_the_published_vector),
        cmocka_unit_test(test_webhook_body_and_headers),
        cmocka_unit_test(test_ntfy_with_snapshot),
        cmocka_unit_test(test_header_values_are_sanitised),
        cmocka_unit_test(test_backoff_and_outcomes),
        cmocka_unit_test(test_message_ids_are_fresh),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
