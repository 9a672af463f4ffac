/*
 * routes_replies.c - /api/v1/replies (list, upload, rename, delete),
 * /api/v1/devices/{id}/replies/{reply}/play and
 * /api/v1/devices/{id}/auto-reply: quick replies as the web UI sees them
 * (docs/api.md). Uploads are decoded and encoded again by
 * replies/reply_audio.c; the clip is kept by replies/reply_store.c and
 * taken to the doorbell by replies/reply_sender.c.
 *
 * The router has checked the role (admin for rename, delete and the
 * auto-reply settings) and that the user may see the doorbell. Playing
 * also needs the talk right on it (a reply speaks through the doorbell).
 * civetweb worker threads, each with its own SQLite connection.
 */
#define LOG_MODULE "replies"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts/audit.h"
#include "accounts/users.h"
#include "civetweb.h"
#include "common/byte_buffer.h"
#include "common/link_protocol.h"
#include "common/log.h"
#include "common/reply_clip.h"
#include "core/hub.h"
#include "http/routes.h"
#include "replies/reply_audio.h"
#include "replies/reply_sender.h"
#include "replies/reply_store.h"
#include "storage/database.h"

#define ROUTES_REPLIES_MAX_BODY 4096

/* 1 if name is 1..64 bytes of UTF-8 without control characters. */
static int routes_replies_name_ok(const char *name)
{
    size_t length = name != NULL ? strlen(name) : 0;

    if (length == 0 || length >= REPLY_NAME_MAX ||
        !link_utf8_is_valid((const uint8_t *)name, length))
        return 0;
    for (size_t i = 0; i < length; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
            return 0;
    return 1;
}

/* The {reply} or {id} parameter as a positive id, or 0. */
static int64_t routes_replies_id(const char *text)
{
    char *end = NULL;
    long long value = strtoll(text, &end, 10);
    return text[0] != '\0' && *end == '\0' && value > 0 ? (int64_t)value : 0;
}

/* GET /api/v1/replies: {"replies": [...]}, oldest first. */
int routes_replies_list(struct http_request *request)
{
    static const size_t row_count = REPLY_LIST_MAX;
    struct reply_row *rows = calloc(row_count, sizeof(*rows));
    cJSON *body = NULL, *array;
    int count, status;

    count =
        rows != NULL ? reply_store_list(database_thread_connection(), rows, (int)row_count) : -1;
    if (count < 0) {
        free(rows);
        return http_send_error(request, 500, "internal", "database error");
    }
    body = cJSON_CreateObject();
    array = cJSON_AddArrayToObject(body, "replies");
    for (int i = 0; i < count; i++)
        cJSON_AddItemToArray(array, reply_store_json(&rows[i]));
    status = http_send_json(request, 200, body);
    cJSON_Delete(body);
    free(rows);
    return status;
}

/* 1 if the upload's Content-Type is one we take (the bytes decide the rest). */
static int routes_replies_type_ok(const char *type)
{
    static const char *const accepted[] = {"audio/wav",      "audio/x-wav", "audio/wave",
                                           "audio/vnd.wave", "audio/ogg",   "audio/opus",
                                           "application/ogg"};
    size_t length;

    if (type == NULL)
        return 0;
    length = strcspn(type, "; ");
    for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++)
        if (strlen(accepted[i]) == length && strncasecmp(type, accepted[i], length) == 0)
            return 1;
    return 0;
}

/* Read the raw body (at most REPLY_AUDIO_MAX_UPLOAD bytes) into out.
 * 0, or the status already sent (413). */
static int routes_replies_read_body(struct http_request *request, struct byte_buffer *out)
{
    const struct mg_request_info *info = mg_get_request_info(request->connection);
    char chunk[16384];
    int n;

    if (info->content_length > (long long)REPLY_AUDIO_MAX_UPLOAD)
        return http_refuse_too_large(request, "the file is larger than 1 MB");
    while ((n = mg_read(request->connection, chunk, sizeof(chunk))) > 0) {
        if (byte_buffer_add(out, chunk, (size_t)n) != BYTE_BUFFER_OK)
            return http_refuse_too_large(request, "the file is larger than 1 MB");
    }
    return 0;
}

/*
 * POST /api/v1/replies?name=NAME with a WAV or Ogg Opus body: decoded,
 * checked and encoded again; 201 with the reply. 400 (not audio, too long,
 * bad name), 413 (over 1 MB), 415 (another Content-Type), 409 (full).
 */
int routes_replies_upload(struct http_request *request)
{
    sqlite3 *db = database_thread_connection();
    struct byte_buffer body, clip;
    enum reply_audio_status status;
    struct reply_row row;
    char name[REPLY_NAME_MAX * 2], error[128];
    int duration_ms = 0, sent, count;
    int64_t id = 0;
    struct reply_row *rows = NULL;

    byte_buffer_init(&body, REPLY_AUDIO_MAX_UPLOAD);
    byte_buffer_init(&clip, REPLY_CLIP_MAX_BYTES);
    if (request->query == NULL ||
        mg_get_var(request->query, strlen(request->query), "name", name, sizeof(name)) < 0 ||
        !routes_replies_name_ok(name)) {
        sent = http_send_error(request, 400, "invalid", "name: 1-64 characters");
        goto out;
    }
    if (!routes_replies_type_ok(mg_get_header(request->connection, "Content-Type"))) {
        sent = http_send_error(request, 415, "unsupported_media_type",
                               "upload a WAV (audio/wav) or Ogg Opus (audio/ogg) file");
        goto out;
    }
    rows = calloc(REPLY_LIST_MAX, sizeof(*rows));
    count = rows != NULL ? reply_store_list(db, rows, REPLY_LIST_MAX) : -1;
    if (count < 0) {
        sent = http_send_error(request, 500, "internal", "database error");
        goto out;
    }
    if (count >= REPLY_LIST_MAX) {
        sent = http_send_error(request, 409, "full", "at most 64 quick replies; delete one first");
        goto out;
    }
    sent = routes_replies_read_body(request, &body);
    if (sent != 0)
        goto out;
    status = reply_audio_transcode(byte_buffer_data(&body), byte_buffer_length(&body), &clip,
                                   &duration_ms, error, sizeof(error));
    if (status != REPLY_AUDIO_OK) {
        sent = http_send_error(request,
                               status == REPLY_AUDIO_TOO_LARGE  ? 413
                               : status == REPLY_AUDIO_INTERNAL ? 500
                                                                : 400,
                               status == REPLY_AUDIO_TOO_LARGE  ? "too_large"
                               : status == REPLY_AUDIO_TOO_LONG ? "too_long"
                                                                : "not_audio",
                               error);
        goto out;
    }
    if (reply_store_add(db, name, duration_ms, 0, request->auth.user.id, &id) != 0 ||
        reply_store_write_file(request->hub->config.data_dir, id, byte_buffer_data(&clip),
                               byte_buffer_length(&clip)) != 0 ||
        reply_store_get(db, id, &row) != 1) {
        if (id > 0)
            reply_store_delete(db, id);
        sent = http_send_error(request, 500, "internal", "cannot store the reply");
        goto out;
    }
    audit_record(db, request->auth.user.id, request->auth.user.username, "reply_add", name, "",
                 request->remote_address);
    {
        cJSON *json = reply_store_json(&row);
        sent = http_send_json(request, 201, json);
        cJSON_Delete(json);
    }
out:
    free(rows);
    byte_buffer_free(&body);
    byte_buffer_free(&clip);
    return sent;
}

/* PATCH /api/v1/replies/{id} {"name": NAME}: the renamed reply. */
int routes_replies_rename(struct http_request *request)
{
    sqlite3 *db = database_thread_connection();
    int64_t id = routes_replies_id(request->params[0]);
    cJSON *body = http_read_json(request, ROUTES_REPLIES_MAX_BODY), *json;
    const char *name;
    struct reply_row row;
    int done, status;

    if (body == NULL)
        return 400;
    name = http_json_string(body, "name");
    if (!routes_replies_name_ok(name)) {
        cJSON_Delete(body);
        return http_send_error(request, 400, "invalid", "name: 1-64 characters");
    }
    done = id > 0 ? reply_store_rename(db, id, name) : 0;
    if (done == 1)
        audit_record(db, request->auth.user.id, request->auth.user.username, "reply_rename",
                     request->params[0], name, request->remote_address);
    cJSON_Delete(body);
    if (done < 0)
        return http_send_error(request, 500, "internal", "database error");
    if (done == 0 || reply_store_get(db, id, &row) != 1)
        return http_send_error(request, 404, "not_found", "no such reply");
    json = reply_store_json(&row);
    status = http_send_json(request, 200, json);
    cJSON_Delete(json);
    return status;
}

/* DELETE /api/v1/replies/{id}: 204; its auto-reply rules go with it and the
 * doorbells are told. */
int routes_replies_delete(struct http_request *request)
{
    sqlite3 *db = database_thread_connection();
    int64_t id = routes_replies_id(request->params[0]);
    int done = id > 0 ? reply_store_delete(db, id) : 0;

    if (done < 0)
        return http_send_error(request, 500, "internal", "database error");
    if (done == 0)
        return http_send_error(request, 404, "not_found", "no such reply");
    reply_store_remove_file(request->hub->config.data_dir, id);
    audit_record(db, request->auth.user.id, request->auth.user.username, "reply_delete",
                 request->params[0], "", request->remote_address);
    reply_sender_sync_all(request->hub, db);
    return http_send_empty(request, 204, NULL);
}

/* POST /api/v1/devices/{id}/replies/{reply}/play: 202 once the doorbell
 * has it; 403 without the talk right (a reply speaks through the doorbell
 * as talk-back does), 404 unknown reply, 409 doorbell offline. Audited. */
int routes_replies_play(struct http_request *request)
{
    sqlite3 *db = database_thread_connection();
    int64_t id = routes_replies_id(request->params[1]);
    struct reply_row row;
    char error[128];

    if (!users_can_talk_to_device(db, &request->auth.user, request->params[0]))
        return http_send_error(request, 403, "forbidden",
                               "playing a reply needs the talk right on this doorbell");
    if (id == 0 || reply_store_get(db, id, &row) != 1)
        return http_send_error(request, 404, "not_found", "no such reply");
    if (reply_sender_play(request->hub, db, request->params[0], id, error, sizeof(error)) != 0)
        return http_send_error(request, 409, "offline", error);
    audit_record(db, request->auth.user.id, request->auth.user.username, "quick_reply",
                 request->params[0], row.name, request->remote_address);
    return http_send_empty(request, 202, NULL);
}

/* GET /api/v1/devices/{id}/auto-reply: {"home": {"reply_id","delay_s"} | null, ...}. */
int routes_replies_auto_get(struct http_request *request)
{
    sqlite3 *db = database_thread_connection();
    cJSON *body = cJSON_CreateObject();
    int status;

    for (int i = 0; i < REPLY_MODE_COUNT; i++) {
        int64_t reply_id = 0;
        int delay_s = 0;
        int found =
            reply_store_get_auto(db, request->params[0], reply_store_modes[i], &reply_id, &delay_s);
        if (found < 0) {
            cJSON_Delete(body);
            return http_send_error(request, 500, "internal", "database error");
        }
        if (found == 1) {
            cJSON *rule = cJSON_AddObjectToObject(body, reply_store_modes[i]);
            cJSON_AddNumberToObject(rule, "reply_id", (double)reply_id);
            cJSON_AddNumberToObject(rule, "delay_s", delay_s);
        } else {
            cJSON_AddNullToObject(body, reply_store_modes[i]);
        }
    }
    status = http_send_json(request, 200, body);
    cJSON_Delete(body);
    return status;
}

/*
 * PUT /api/v1/devices/{id}/auto-reply with any of "home", "away",
 * "disarmed": {"reply_id": N, "delay_s": 1..600} or null (off). Modes not
 * named are left as they are. The doorbell gets its current rule at once.
 */
int routes_replies_auto_put(struct http_request *request)
{
    sqlite3 *db = database_thread_connection();
    cJSON *body = http_read_json(request, ROUTES_REPLIES_MAX_BODY);
    int64_t reply_ids[REPLY_MODE_COUNT] = {0};
    int delays[REPLY_MODE_COUNT] = {0}, present[REPLY_MODE_COUNT] = {0};
    struct reply_row row;

    if (body == NULL)
        return 400;
    for (int i = 0; i < REPLY_MODE_COUNT; i++) {
        const cJSON *rule = cJSON_GetObjectItemCaseSensitive(body, reply_store_modes[i]);
        const cJSON *reply_id, *delay;
        if (rule == NULL)
            continue;
        present[i] = 1;
        if (cJSON_IsNull(rule))
            continue;
        reply_id = cJSON_GetObjectItemCaseSensitive(rule, "reply_id");
        delay = cJSON_GetObjectItemCaseSensitive(rule, "delay_s");
        if (!cJSON_IsObject(rule) || !cJSON_IsNumber(reply_id) || !cJSON_IsNumber(delay) ||
            reply_id->valuedouble < 1 || reply_id->valuedouble > 1e15 || delay->valuedouble < 1 ||
            delay->valuedouble > REPLY_DELAY_MAX_S ||
            reply_id->valuedouble != (double)(int64_t)reply_id->valuedouble ||
            delay->valuedouble != (double)(int)delay->valuedouble) {
            cJSON_Delete(body);
            return http_send_error(request, 400, "invalid",
                                   "each mode: {\"reply_id\": id, \"delay_s\": 1..600} or null");
        }
        reply_ids[i] = (int64_t)reply_id->valuedouble;
        delays[i] = (int)delay->valuedouble;
        if (reply_store_get(db, reply_ids[i], &row) != 1) {
            cJSON_Delete(body);
            return http_send_error(request, 400, "invalid", "no such reply");
        }
    }
    cJSON_Delete(body);
    for (int i = 0; i < REPLY_MODE_COUNT; i++) {
        if (present[i] && reply_store_set_auto(db, request->params[0], reply_store_modes[i],
                                               reply_ids[i], delays[i]) != 0)
            return http_send_error(request, 500, "internal", "database error");
    }
    audit_record(db, request->auth.user.id, request->auth.user.username, "auto_reply",
                 request->params[0], "", request->remote_address);
    if (reply_sender_sync_auto(request->hub, db, request->params[0]) != 0)
        log_debug("doorbell %s offline: its auto-reply waits for its connection",
                  request->params[0]);
    return routes_replies_auto_get(request);
}
