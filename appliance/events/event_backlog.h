/*
 * event_backlog.h - events that could not be written (the database's disk
 * is full), kept in memory until they can be.
 *
 * At most EVENT_BACKLOG_MAX events, oldest first. When it is full a new
 * event pushes out the oldest one that is not a ring (a ring is never
 * dropped for anything but an older ring). Link threads keep events in it,
 * housekeeping (main thread) writes them out; one lock guards it.
 */
#ifndef DOORSTEP_EVENT_BACKLOG_H
#define DOORSTEP_EVENT_BACKLOG_H

#include "events/event_store.h"

#define EVENT_BACKLOG_MAX 256

/* Keep a copy of row. Returns how many events were dropped to make room (0 or 1). */
int event_backlog_keep(const struct event_row *row);

/* The oldest kept event into *out. 1 when there was one, 0 when empty. */
int event_backlog_peek(struct event_row *out);

/* Forget the oldest kept event (it has been written). */
void event_backlog_pop(void);

/* How many events are kept. */
int event_backlog_count(void);

#endif
