/*
 * event_engine.h - what a new event sets off. Every event is stored; the
 * engine decides whether anyone is told: not while the hub's mode
 * (home / away / disarmed, table mode_notifications) leaves the type out,
 * and not within the doorbell's cooldown for the type since the last event
 * that did notify (table event_cooldowns, '*' = every doorbell). The
 * decision is written to events.notify. Motion (motion, pir, person) only
 * counts within the doorbell's motion schedule: outside it, no event at all.
 *
 * Any thread, with its own SQLite connection; no state of its own.
 */
#ifndef DOORSTEP_EVENT_ENGINE_H
#define DOORSTEP_EVENT_ENGINE_H

#include <sqlite3.h>
#include <stddef.h>

#include "events/event_store.h"
#include "events/weekly_schedule.h"

#define EVENT_MODE_MAX 16

enum event_notify {
    EVENT_NOTIFY_SEND,     /* tell the targets and the open UIs */
    EVENT_NOTIFY_COOLDOWN, /* the same kind notified too recently */
    EVENT_NOTIFY_MODE,     /* the mode leaves this type out */
};

/* "sent", "cooldown", "mode": what events.notify says. */
const char *event_notify_name(enum event_notify decision);

/* Decide for a newly stored event and record the decision. 0 or -1 (logged;
 * *out is then EVENT_NOTIFY_SEND: when in doubt, tell). */
int event_engine_decide(sqlite3 *db, const struct event_row *event, enum event_notify *out);

/*
 * A motion or PIR event just became a person event (events/person_vote.h):
 * decide for "person" with the mode and the person cooldown (a person
 * event counts as motion for motion cooldowns, see notified_since). Its
 * notify column becomes 'sent' if either decision sent, else this one's.
 * 0 or -1 (*out then EVENT_NOTIFY_SEND).
 */
int event_engine_decide_person(sqlite3 *db, const struct event_row *event, enum event_notify *out);

/* The hub's mode into out ("home" when unset). 0 or -1. */
int event_engine_get_mode(sqlite3 *db, char *out, size_t size);

/* Set the mode: "home", "away" or "disarmed". 0, or -1 (bad name or database). */
int event_engine_set_mode(sqlite3 *db, const char *mode);

/* The cooldown of a type for a doorbell in seconds: its own row, else the
 * '*' row, else 0. 0 or -1. */
int event_engine_cooldown(sqlite3 *db, const char *device_id, const char *type, int *seconds_out);

/* Set (seconds >= 0) a doorbell's own cooldown for a type; device_id "*"
 * sets the default. 0 or -1. */
int event_engine_set_cooldown(sqlite3 *db, const char *device_id, const char *type, int seconds);

/* The doorbell's motion schedule into *out (unset: always). 0 or -1. */
int event_engine_motion_schedule(sqlite3 *db, const char *device_id, struct weekly_schedule *out);

/* Set it (NULL or unset: always). 0 or -1. */
int event_engine_set_motion_schedule(sqlite3 *db, const char *device_id,
                                     const struct weekly_schedule *schedule);

/* The notification type of an event type: "package" for package_delivered
 * and package_taken, the type itself otherwise (static or the argument).
 * Notification targets, modes and cooldowns name notification types. */
const char *event_engine_notify_type(const char *type);

/* Is this a motion-like type (motion, pir, person) the schedule governs? */
int event_engine_is_motion(const char *type);

#endif
