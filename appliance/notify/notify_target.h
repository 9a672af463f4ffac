/*
 * notify_target.h - where notifications go (the notification_targets table):
 * an ntfy topic or a Standard Webhooks endpoint, with its credentials and
 * filters (event types, doorbells, a weekly schedule in the hub's local
 * time) and its quiet hours (a weekly window, also in the hub's local time,
 * when it gets nothing, or only rings). Also the checks every field passes before it is stored, so
 * the API and the sender agree on what a valid target is.
 *
 * Any thread, with its own SQLite connection; no state of its own.
 */
#ifndef DOORSTEP_NOTIFY_TARGET_H
#define DOORSTEP_NOTIFY_TARGET_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "events/weekly_schedule.h"

#define NOTIFY_NAME_MAX       65  /* 64 bytes + NUL */
#define NOTIFY_URL_MAX        513 /* 512 */
#define NOTIFY_URL_MIN        8   /* "http://x" */
#define NOTIFY_TOPIC_MAX      65  /* ntfy: [-_A-Za-z0-9]{1,64} */
#define NOTIFY_TOKEN_MAX      257
#define NOTIFY_USERNAME_MAX   129
#define NOTIFY_PASSWORD_MAX   257
#define NOTIFY_SECRET_PREFIX  "whsec_"
#define NOTIFY_SECRET_MAX     96 /* "whsec_" + base64 of up to 64 bytes */
#define NOTIFY_SECRET_KEY_MIN 24 /* Standard Webhooks: 24..64 random bytes */
#define NOTIFY_SECRET_KEY_MAX 64
#define NOTIFY_SECRET_KEY_NEW 32   /* what the hub generates */
#define NOTIFY_LIST_MAX       1024 /* comma-separated types or doorbell ids */
#define NOTIFY_LIST_ITEMS_MAX 32
#define NOTIFY_SCHEDULE_MAX   128 /* normalised JSON text */
#define NOTIFY_ERROR_MAX      256

enum notify_kind {
    NOTIFY_KIND_NTFY,
    NOTIFY_KIND_WEBHOOK,
};

/* What a target gets during its quiet hours. */
enum notify_quiet {
    NOTIFY_QUIET_OFF,        /* no quiet hours */
    NOTIFY_QUIET_NOTHING,    /* no notification at all */
    NOTIFY_QUIET_RINGS_ONLY, /* only rings */
};

struct notify_target {
    int64_t id;
    char name[NOTIFY_NAME_MAX];
    enum notify_kind kind;
    char url[NOTIFY_URL_MAX];
    char topic[NOTIFY_TOPIC_MAX];
    char token[NOTIFY_TOKEN_MAX];
    char username[NOTIFY_USERNAME_MAX];
    char password[NOTIFY_PASSWORD_MAX];
    char secret[NOTIFY_SECRET_MAX];
    char event_types[NOTIFY_LIST_MAX]; /* "" = every type */
    char device_ids[NOTIFY_LIST_MAX];  /* "" = every doorbell */
    struct weekly_schedule schedule;
    enum notify_quiet quiet_mode;
    struct weekly_schedule quiet_hours; /* when quiet_mode applies (hub local time) */
    int actions;                        /* ntfy action buttons */
    int insecure_tls;
    int enabled;
    int64_t created_at;
};

/* "ntfy" / "webhook", and back (0, or -1 if unknown). */
const char *notify_kind_name(enum notify_kind kind);
int notify_kind_parse(const char *text, enum notify_kind *out);

/* "off" / "nothing" / "rings_only", and back (0, or -1 if unknown). */
const char *notify_quiet_name(enum notify_quiet mode);
int notify_quiet_parse(const char *text, enum notify_quiet *out);

/* Is an event of this type at time_ms held back by the target's quiet
 * hours (the hub's local time)? */
int notify_target_quiet(const struct notify_target *target, const char *type, int64_t time_ms);

/* True for the event types a target may filter on (ring, motion, ...). */
int notify_event_type_known(const char *type);

/*
 * Field checks: 0 when valid, else -1 with a sentence for the API in error.
 * A URL must be http:// or https:// with a host, an optional port and path,
 * no user:password@, no fragment, no spaces or control characters; an ntfy
 * server URL has no query either.
 */
int notify_check_url(const char *url, enum notify_kind kind, char *error, size_t error_size);
int notify_check_topic(const char *topic, char *error, size_t error_size);
int notify_check_text(const char *name, const char *text, size_t max, int allow_empty, char *error,
                      size_t error_size);
int notify_check_secret(const char *secret, char *error, size_t error_size);

/* A fresh "whsec_" secret of NOTIFY_SECRET_KEY_NEW random bytes. 0 or -1. */
int notify_secret_generate(char *out, size_t out_size);

/* True if the comma-separated list is empty or holds item. */
int notify_list_allows(const char *list, const char *item);

/* Does the target want an event of this type and doorbell at time_ms (the
 * hub's local time decides the schedule and the quiet hours)? Ignores
 * `enabled`. */
int notify_target_matches(const struct notify_target *target, const char *type,
                          const char *device_id, int64_t time_ms);

/* Load one target. 1 found, 0 none, -1 error (logged). */
int notify_target_load(sqlite3 *db, int64_t id, struct notify_target *out);

typedef int (*notify_target_callback)(const struct notify_target *target, void *context);

/* Every target (enabled ones only if enabled_only) in id order; stops early
 * when the callback returns non-zero. 0 or -1. */
int notify_target_each(sqlite3 *db, int enabled_only, notify_target_callback callback,
                       void *context);

/* Insert (target->id and created_at are set) or update every column of
 * target->id. Insert: 0 or -1; update: 1 done, 0 no such target, -1. */
int notify_target_insert(sqlite3 *db, struct notify_target *target);
int notify_target_update(sqlite3 *db, const struct notify_target *target);

/* Delete a target and its outbox rows. 1 done, 0 none, -1 error. */
int notify_target_delete(sqlite3 *db, int64_t id);

#endif
