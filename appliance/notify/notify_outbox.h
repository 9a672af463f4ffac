/*
 * notify_outbox.h - the notification_outbox table: one row per (event,
 * target) or test message, and its life: pending -> sending -> delivered,
 * or back to pending with a later next_attempt_ms, or failed; 'sending'
 * found at start-up becomes 'unknown' (never resent).
 *
 * Any thread with its own SQLite connection; the sender thread is the only
 * one that claims and finishes rows. No state of its own.
 */
#ifndef DOORSTEP_NOTIFY_OUTBOX_H
#define DOORSTEP_NOTIFY_OUTBOX_H

#include <sqlite3.h>
#include <stdint.h>

#include "events/event_store.h"
#include "notify/notify_request.h"
#include "notify/notify_target.h"

#define NOTIFY_TARGETS_MAX  64 /* targets one event can be queued for */
#define NOTIFY_STATE_MAX    12
#define NOTIFY_TEST_KEEP_MS (30LL * 24 * 3600 * 1000) /* finished test rows kept */

/* A claimed row: the sender owns it until it is finished. */
struct notify_job {
    int64_t outbox_id;
    int64_t event_id; /* 0: a test message */
    int64_t target_id;
    int attempts; /* including the one being made */
    char message_id[NOTIFY_MESSAGE_ID_MAX];
};

/* What one attempt came to. */
struct notify_result {
    enum notify_outcome outcome;
    int status;                   /* HTTP status, 0 when none arrived */
    int64_t retry_after_ms;       /* from Retry-After, -1 when none */
    char error[NOTIFY_ERROR_MAX]; /* "" on a clean delivery */
};

/* One row as the deliveries API shows it. */
struct notify_delivery {
    int64_t id, target_id, event_id; /* event_id 0: test */
    char target_name[NOTIFY_NAME_MAX];
    char event_type[EVENT_TYPE_MAX];
    char device_id[LINK_DEVICE_ID_MAX];
    char message_id[NOTIFY_MESSAGE_ID_MAX];
    char state[NOTIFY_STATE_MAX];
    int attempts;
    int last_status; /* 0: none */
    char last_error[NOTIFY_ERROR_MAX];
    int64_t created_ms, last_attempt_ms, next_attempt_ms, delivered_ms; /* 0: not yet */
};

/* Rows a crash left 'sending' become 'unknown'. Returns how many, or -1. */
int notify_outbox_recover(sqlite3 *db);

/* Drop finished test rows older than NOTIFY_TEST_KEEP_MS. 0 or -1. */
int notify_outbox_prune(sqlite3 *db, int64_t now_ms);

/*
 * Claim the oldest due row (pending, next_attempt_ms <= now) whose target is
 * not in busy[0..busy_count): it becomes 'sending' with one more attempt,
 * before any byte is sent. Rows of disabled targets are failed on the way.
 * 1 claimed (*out filled), 0 nothing due, -1 error.
 */
int notify_outbox_claim(sqlite3 *db, int64_t now_ms, const int64_t *busy, int busy_count,
                        struct notify_job *out);

/* The earliest next_attempt_ms of a pending row: 1 (*next_ms set), 0 none, -1. */
int notify_outbox_next_due(sqlite3 *db, int64_t *next_ms);

/*
 * Record an attempt: delivered; pending again after Retry-After or the
 * backoff (jitter: any random number) while attempts remain; else failed.
 * Writes the state it chose into state_out (NOTIFY_STATE_MAX) if not NULL.
 * 0 or -1.
 */
int notify_outbox_finish(sqlite3 *db, const struct notify_job *job,
                         const struct notify_result *result, int64_t now_ms, uint32_t jitter,
                         char *state_out);

/* The hub stops during an attempt: 'unknown' if the whole request went
 * out (the server may have acted on it), else 'pending' again with the
 * attempt uncounted (an incomplete request cannot have been acted on).
 * 0 or -1. */
int notify_outbox_abandon(sqlite3 *db, const struct notify_job *job, int sent);

/* Make an event's untried pending rows due at now_ms. Returns how many, or -1. */
int notify_outbox_make_due(sqlite3 *db, int64_t event_id, int64_t now_ms);

/* Queue a row (event_id 0: test) due at due_ms unless one exists for this
 * event and target. *outbox_id (may be NULL) gets the row id when
 * inserted. 1 inserted, 0 already there, -1 error. */
int notify_outbox_insert(sqlite3 *db, int64_t event_id, int64_t target_id, int64_t due_ms,
                         int64_t *outbox_id);

/* The event a job is about, with its doorbell's name; *snapshot gets the
 * JPEG (malloc'd, the caller frees; NULL when there is none) and
 * info->snapshot points to it. 1 found, 0 gone, -1 error. */
int notify_outbox_event_info(sqlite3 *db, int64_t event_id, struct notify_event_info *info,
                             uint8_t **snapshot);

typedef int (*notify_delivery_callback)(const struct notify_delivery *delivery, void *context);

/* Newest rows first, of one target (0: all) and state ("" or NULL: any),
 * at most limit. 0 or -1. */
int notify_outbox_list(sqlite3 *db, int64_t target_id, const char *state, int limit,
                       notify_delivery_callback callback, void *context);

#endif
