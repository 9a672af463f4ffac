/*
 * notify_target.c - notification targets: field checks, filters and the
 * notification_targets table (see notify_target.h).
 */
#define LOG_MODULE "notify"

#include "notify/notify_target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <mbedtls/base64.h>
#include <mbedtls/platform_util.h>

#include "accounts/random_bytes.h"
#include "common/error_text.h"
#include "common/log.h"
#include "events/weekly_schedule.h"
#include "notify/notify_request.h"
#include "storage/database.h"

/* Event types a target may filter on (those of docs/api.md, plus the PIR's own). */
static const char *const notify_event_types[] = {
    "ring", "motion", "pir", "person", "package", "tamper", "online", "offline", "low_battery",
};

static const char notify_target_columns[] =
    "id, name, kind, url, topic, token, username, password, secret, event_types, device_ids, "
    "schedule, actions, insecure_tls, enabled, created_at, quiet_mode, quiet_hours";

const char *notify_kind_name(enum notify_kind kind)
{
    return kind == NOTIFY_KIND_WEBHOOK ? "webhook" : "ntfy";
}

int notify_kind_parse(const char *text, enum notify_kind *out)
{
    if (strcmp(text, "ntfy") == 0)
        *out = NOTIFY_KIND_NTFY;
    else if (strcmp(text, "webhook") == 0)
        *out = NOTIFY_KIND_WEBHOOK;
    else
        return -1;
    return 0;
}

int notify_event_type_known(const char *type)
{
    for (size_t i = 0; i < sizeof(notify_event_types) / sizeof(notify_event_types[0]); i++)
        if (strcmp(type, notify_event_types[i]) == 0)
            return 1;
    return 0;
}

/* The host[:port] part of a URL, [start, end): a DNS name or IPv4 address of
 * [A-Za-z0-9.-], or a bracketed IPv6 address; then an optional port. */
static int notify_check_authority(const char *start, const char *end)
{
    const char *port = NULL;

    if (start == end)
        return -1;
    if (*start == '[') {
        const char *close = memchr(start, ']', (size_t)(end - start));
        if (close == NULL || close == start + 1)
            return -1;
        for (const char *c = start + 1; c < close; c++)
            if (strchr("0123456789abcdefABCDEF:.", *c) == NULL)
                return -1;
        if (close + 1 < end && close[1] != ':')
            return -1;
        port = close + 1 < end ? close + 1 : NULL;
    } else {
        const char *c = start;
        while (c < end && *c != ':') {
            if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-", *c) ==
                NULL)
                return -1;
            c++;
        }
        if (c == start || start[0] == '.' || start[0] == '-')
            return -1;
        port = c < end ? c : NULL;
    }
    if (port != NULL) {
        long value = 0;
        if (port + 1 == end || end - port > 6)
            return -1;
        for (const char *c = port + 1; c < end; c++) {
            if (*c < '0' || *c > '9')
                return -1;
            value = value * 10 + (*c - '0');
        }
        if (value < 1 || value > 65535)
            return -1;
    }
    return 0;
}

int notify_check_url(const char *url, enum notify_kind kind, char *error, size_t error_size)
{
    size_t length = strnlen(url, NOTIFY_URL_MAX);
    const char *authority, *end;

    if (length < NOTIFY_URL_MIN || length >= NOTIFY_URL_MAX) {
        error_text_set(error, error_size, "url: 8 to %d characters", NOTIFY_URL_MAX - 1);
        return -1;
    }
    if (strncmp(url, "https://", 8) == 0)
        authority = url + 8;
    else if (strncmp(url, "http://", 7) == 0)
        authority = url + 7;
    else {
        error_text_set(error, error_size, "url: must start with http:// or https://");
        return -1;
    }
    for (const unsigned char *c = (const unsigned char *)url; *c != '\0'; c++) {
        if (*c <= 0x20 || *c >= 0x7f || *c == '#' || *c == '\\') {
            error_text_set(error, error_size,
                           "url: no spaces, control or non-ASCII characters, '#' or '\\' "
                           "(percent-encode them)");
            return -1;
        }
    }
    end = authority + strcspn(authority, "/?");
    if (memchr(authority, '@', (size_t)(end - authority)) != NULL) {
        error_text_set(error, error_size,
                       "url: no user:password@ (use the token or username/password fields)");
        return -1;
    }
    if (notify_check_authority(authority, end) != 0) {
        error_text_set(error, error_size, "url: needs a valid host and optional port 1..65535");
        return -1;
    }
    if (kind == NOTIFY_KIND_NTFY && strchr(end, '?') != NULL) {
        error_text_set(error, error_size,
                       "url: the ntfy server URL has no query (the topic is its own field)");
        return -1;
    }
    return 0;
}

int notify_check_topic(const char *topic, char *error, size_t error_size)
{
    size_t length = strnlen(topic, NOTIFY_TOPIC_MAX);

    if (length == 0 || length >= NOTIFY_TOPIC_MAX ||
        strspn(topic, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
            length) {
        error_text_set(error, error_size, "topic: 1 to 64 characters of A-Z a-z 0-9 _ -");
        return -1;
    }
    return 0;
}

int notify_check_text(const char *name, const char *text, size_t max, int allow_empty, char *error,
                      size_t error_size)
{
    size_t length = strnlen(text, max);

    if (length >= max || (length == 0 && !allow_empty)) {
        error_text_set(error, error_size, "%s: %s to %zu bytes", name, allow_empty ? "0" : "1",
                       max - 1);
        return -1;
    }
    for (const unsigned char *c = (const unsigned char *)text; *c != '\0'; c++) {
        if (*c < 0x20 || *c == 0x7f) {
            error_text_set(error, error_size, "%s: no control characters", name);
            return -1;
        }
    }
    return 0;
}

int notify_check_secret(const char *secret, char *error, size_t error_size)
{
    uint8_t key[NOTIFY_SECRET_KEY_MAX];
    int length = notify_secret_key(secret, key, sizeof(key));

    mbedtls_platform_zeroize(key, sizeof(key));
    if (length < 0) {
        error_text_set(error, error_size,
                       "secret: \"whsec_\" followed by the base64 of 24 to 64 bytes");
        return -1;
    }
    return 0;
}

int notify_secret_generate(char *out, size_t out_size)
{
    uint8_t key[NOTIFY_SECRET_KEY_NEW];
    size_t prefix = strlen(NOTIFY_SECRET_PREFIX), written = 0;
    int rc = -1;

    if (out_size <= prefix || random_bytes_fill(key, sizeof(key)) != 0)
        goto out;
    memcpy(out, NOTIFY_SECRET_PREFIX, prefix);
    if (mbedtls_base64_encode((unsigned char *)out + prefix, out_size - prefix, &written, key,
                              sizeof(key)) != 0)
        goto out;
    rc = 0;
out:
    mbedtls_platform_zeroize(key, sizeof(key));
    return rc;
}

int notify_list_allows(const char *list, const char *item)
{
    size_t length = strlen(item);

    if (list[0] == '\0')
        return 1;
    for (const char *start = list; *start != '\0';) {
        const char *comma = strchr(start, ',');
        size_t size = comma != NULL ? (size_t)(comma - start) : strlen(start);
        if (size == length && memcmp(start, item, length) == 0)
            return 1;
        if (comma == NULL)
            break;
        start = comma + 1;
    }
    return 0;
}

const char *notify_quiet_name(enum notify_quiet mode)
{
    return mode == NOTIFY_QUIET_NOTHING      ? "nothing"
           : mode == NOTIFY_QUIET_RINGS_ONLY ? "rings_only"
                                             : "off";
}

int notify_quiet_parse(const char *text, enum notify_quiet *out)
{
    if (strcmp(text, "off") == 0)
        *out = NOTIFY_QUIET_OFF;
    else if (strcmp(text, "nothing") == 0)
        *out = NOTIFY_QUIET_NOTHING;
    else if (strcmp(text, "rings_only") == 0)
        *out = NOTIFY_QUIET_RINGS_ONLY;
    else
        return -1;
    return 0;
}

int notify_target_quiet(const struct notify_target *target, const char *type, int64_t time_ms)
{
    if (target->quiet_mode == NOTIFY_QUIET_OFF || !target->quiet_hours.set)
        return 0;
    if (target->quiet_mode == NOTIFY_QUIET_RINGS_ONLY && strcmp(type, "ring") == 0)
        return 0;
    return weekly_schedule_allows_at(&target->quiet_hours, time_ms);
}

int notify_target_matches(const struct notify_target *target, const char *type,
                          const char *device_id, int64_t time_ms)
{
    return notify_list_allows(target->event_types, type) &&
           notify_list_allows(target->device_ids, device_id) &&
           weekly_schedule_allows_at(&target->schedule, time_ms) &&
           !notify_target_quiet(target, type, time_ms);
}

/* Copy text column index into out (always terminated). */
static void notify_target_column(sqlite3_stmt *statement, int index, char *out, size_t size)
{
    const unsigned char *text = sqlite3_column_text(statement, index);
    snprintf(out, size, "%s", text != NULL ? (const char *)text : "");
}

/* Fill a target from a row of notify_target_columns. */
static void notify_target_from_row(sqlite3_stmt *statement, struct notify_target *out)
{
    char text[NOTIFY_SCHEDULE_MAX + 1];

    memset(out, 0, sizeof(*out));
    out->id = sqlite3_column_int64(statement, 0);
    notify_target_column(statement, 1, out->name, sizeof(out->name));
    notify_target_column(statement, 2, text, sizeof(text));
    notify_kind_parse(text, &out->kind);
    notify_target_column(statement, 3, out->url, sizeof(out->url));
    notify_target_column(statement, 4, out->topic, sizeof(out->topic));
    notify_target_column(statement, 5, out->token, sizeof(out->token));
    notify_target_column(statement, 6, out->username, sizeof(out->username));
    notify_target_column(statement, 7, out->password, sizeof(out->password));
    notify_target_column(statement, 8, out->secret, sizeof(out->secret));
    notify_target_column(statement, 9, out->event_types, sizeof(out->event_types));
    notify_target_column(statement, 10, out->device_ids, sizeof(out->device_ids));
    notify_target_column(statement, 11, text, sizeof(text));
    if (weekly_schedule_parse(text, &out->schedule, NULL, 0) != 0)
        log_warn("target %lld: ignoring a malformed schedule", (long long)out->id);
    out->actions = sqlite3_column_int(statement, 12);
    out->insecure_tls = sqlite3_column_int(statement, 13);
    out->enabled = sqlite3_column_int(statement, 14);
    out->created_at = sqlite3_column_int64(statement, 15);
    notify_target_column(statement, 16, text, sizeof(text));
    if (notify_quiet_parse(text, &out->quiet_mode) != 0)
        out->quiet_mode = NOTIFY_QUIET_OFF;
    notify_target_column(statement, 17, text, sizeof(text));
    if (weekly_schedule_parse(text, &out->quiet_hours, NULL, 0) != 0) {
        log_warn("target %lld: ignoring malformed quiet hours", (long long)out->id);
        out->quiet_mode = NOTIFY_QUIET_OFF;
    }
}

int notify_target_load(sqlite3 *db, int64_t id, struct notify_target *out)
{
    char sql[384];
    sqlite3_stmt *statement = NULL;
    int rc = -1, step;

    snprintf(sql, sizeof(sql), "SELECT %s FROM notification_targets WHERE id = ?",
             notify_target_columns);
    if (sqlite3_prepare_v2(db, sql, -1, &statement, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_int64(statement, 1, id);
    step = sqlite3_step(statement);
    if (step == SQLITE_ROW) {
        notify_target_from_row(statement, out);
        rc = 1;
    } else if (step == SQLITE_DONE) {
        rc = 0;
    }
out:
    if (rc < 0)
        log_error("loading target %lld: %s", (long long)id, sqlite3_errmsg(db));
    sqlite3_finalize(statement);
    return rc;
}

int notify_target_each(sqlite3 *db, int enabled_only, notify_target_callback callback,
                       void *context)
{
    char sql[384];
    sqlite3_stmt *statement = NULL;
    struct notify_target *target = malloc(sizeof(*target));
    int step = SQLITE_ERROR;

    snprintf(sql, sizeof(sql), "SELECT %s FROM notification_targets%s ORDER BY id",
             notify_target_columns, enabled_only ? " WHERE enabled" : "");
    if (target == NULL || sqlite3_prepare_v2(db, sql, -1, &statement, NULL) != SQLITE_OK)
        goto out;
    while ((step = sqlite3_step(statement)) == SQLITE_ROW) {
        notify_target_from_row(statement, target);
        if (callback(target, context) != 0) {
            step = SQLITE_DONE;
            break;
        }
    }
out:
    if (step != SQLITE_DONE)
        log_error("listing targets: %s", sqlite3_errmsg(db));
    if (target != NULL)
        mbedtls_platform_zeroize(target, sizeof(*target));
    free(target);
    sqlite3_finalize(statement);
    return step == SQLITE_DONE ? 0 : -1;
}

/* Bind the columns shared by insert and update, ?1..?17 (?18 is the id). */
static void notify_target_bind(sqlite3_stmt *statement, const struct notify_target *target)
{
    char schedule[NOTIFY_SCHEDULE_MAX], quiet_hours[NOTIFY_SCHEDULE_MAX];

    weekly_schedule_format(&target->schedule, schedule, sizeof(schedule));
    weekly_schedule_format(&target->quiet_hours, quiet_hours, sizeof(quiet_hours));
    sqlite3_bind_text(statement, 1, target->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 2, notify_kind_name(target->kind), -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 3, target->url, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 4, target->topic, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 5, target->token, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 6, target->username, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 7, target->password, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 8, target->secret, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 9, target->event_types, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 10, target->device_ids, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 11, schedule, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(statement, 12, target->actions != 0);
    sqlite3_bind_int(statement, 13, target->insecure_tls != 0);
    sqlite3_bind_int(statement, 14, target->enabled != 0);
    sqlite3_bind_int64(statement, 15, target->created_at);
    sqlite3_bind_text(statement, 16, notify_quiet_name(target->quiet_mode), -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 17, quiet_hours, -1, SQLITE_TRANSIENT);
}

int notify_target_insert(sqlite3 *db, struct notify_target *target)
{
    sqlite3_stmt *statement = NULL;
    int rc = -1;

    target->created_at = database_now_ms();
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO notification_targets (name, kind, url, topic, token, "
                           "username, password, secret, event_types, device_ids, schedule, "
                           "actions, insecure_tls, enabled, created_at, quiet_mode, "
                           "quiet_hours) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
                           "?12, ?13, ?14, ?15, ?16, ?17)",
                           -1, &statement, NULL) != SQLITE_OK)
        goto out;
    notify_target_bind(statement, target);
    if (sqlite3_step(statement) != SQLITE_DONE)
        goto out;
    target->id = sqlite3_last_insert_rowid(db);
    rc = 0;
out:
    if (rc != 0)
        log_error("adding a target: %s", sqlite3_errmsg(db));
    sqlite3_finalize(statement);
    return rc;
}

int notify_target_update(sqlite3 *db, const struct notify_target *target)
{
    sqlite3_stmt *statement = NULL;
    int rc = -1;

    if (sqlite3_prepare_v2(db,
                           "UPDATE notification_targets SET name = ?1, kind = ?2, url = ?3, "
                           "topic = ?4, token = ?5, username = ?6, password = ?7, secret = ?8, "
                           "event_types = ?9, device_ids = ?10, schedule = ?11, actions = ?12, "
                           "insecure_tls = ?13, enabled = ?14, created_at = ?15, "
                           "quiet_mode = ?16, quiet_hours = ?17 WHERE id = ?18",
                           -1, &statement, NULL) != SQLITE_OK)
        goto out;
    notify_target_bind(statement, target);
    sqlite3_bind_int64(statement, 18, target->id);
    if (sqlite3_step(statement) != SQLITE_DONE)
        goto out;
    rc = sqlite3_changes(db) > 0 ? 1 : 0;
out:
    if (rc < 0)
        log_error("changing target %lld: %s", (long long)target->id, sqlite3_errmsg(db));
    sqlite3_finalize(statement);
    return rc;
}

int notify_target_delete(sqlite3 *db, int64_t id)
{
    sqlite3_stmt *statement = NULL;
    int rc = -1;

    /* The outbox rows go too (ON DELETE CASCADE, foreign keys are on). */
    if (sqlite3_prepare_v2(db, "DELETE FROM notification_targets WHERE id = ?", -1, &statement,
                           NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_int64(statement, 1, id);
    if (sqlite3_step(statement) != SQLITE_DONE)
        goto out;
    rc = sqlite3_changes(db) > 0 ? 1 : 0;
out:
    if (rc < 0)
        log_error("deleting target %lld: %s", (long long)id, sqlite3_errmsg(db));
    sqlite3_finalize(statement);
    return rc;
}
