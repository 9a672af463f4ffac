/*
 * notify.h - telling people about events: ntfy messages and Standard
 * Webhooks, through a persistent outbox in SQLite (notification_outbox).
 *
 * The event engine decides whether an event notifies (mode, cooldown) and
 * calls notify_enqueue_event(), which queues one outbox row per enabled
 * target whose filters match. The sender thread (notify_start) owns a
 * libcurl multi handle: it takes due rows, marks them 'sending' in
 * the database before each request, and records delivered / retry later
 * (exponential backoff, Retry-After) / failed with the status and a readable
 * error. Rows left 'sending' by a crash become 'unknown' at start-up and
 * are never resent: a notification reaches a target at most once.
 *
 * Every function may be called from any thread; those taking a db use the
 * caller's own connection. struct notify is shared: other threads touch
 * only its two atomic flags (stopping, woken) and curl_multi_wakeup() on
 * its multi handle; everything else belongs to the sender thread.
 */
#ifndef DOORSTEP_NOTIFY_H
#define DOORSTEP_NOTIFY_H

#include <sqlite3.h>
#include <stdint.h>

#include "events/event_store.h"

struct notify;

/* Start the sender thread; public_url (https://host:port) is the base of
 * the links in notifications. Turns rows a crash left 'sending' into
 * 'unknown'. NULL on failure (logged). */
struct notify *notify_start(const char *public_url);

/* Stop: requests under way get a moment to finish, the rest are recorded
 * ('pending' again unless the whole request went out, else 'unknown');
 * joins the thread and frees. NULL is a no-op. */
void notify_stop(struct notify *notify);

/*
 * Queue the event for every enabled target whose event types, doorbells
 * and schedule (at the event's start, hub local time) match; the rows
 * become due at due_ms (a little later while the snapshot is still on its
 * way, so it can ride along; notify_event_ready() ends the wait). An
 * event is queued at most once per target. Call notify_wake() afterwards
 * for rows due now. 0 or -1 (logged).
 */
int notify_enqueue_event(sqlite3 *db, const struct event_row *event, int64_t due_ms);

/* Queue a test message for one target (whatever its filters or enabled
 * flag say), due now. *outbox_id gets the row. 1 queued, 0 no such target,
 * -1 error. Call notify_wake() afterwards. */
int notify_enqueue_test(sqlite3 *db, int64_t target_id, int64_t *outbox_id);

/* The event's snapshot arrived: its rows not tried yet become due now and
 * the sender wakes. notify may be NULL (then only the rows change). */
void notify_event_ready(struct notify *notify, sqlite3 *db, int64_t event_id);

/* Make the sender look for due rows now. NULL is a no-op. */
void notify_wake(struct notify *notify);

#endif
