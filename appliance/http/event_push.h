/*
 * event_push.h - the event feed of the web UI: every open UI keeps a
 * WebSocket to /api/v1/events/live (same gate as every /api WebSocket:
 * Host, Origin, session) and gets each new event of the doorbells its user
 * may see, as {"type":"event","event":EVENT} (docs/api.md); it shows a toast
 * (and a system notification when allowed) for those that notify.
 *
 * Lifecycle (main thread): event_push_start() once the server runs (it
 * registers the WebSocket handlers); at shutdown event_push_stop() before
 * the server stops (civetweb then closes the clients), event_push_free()
 * after it.
 */
#ifndef DOORSTEP_EVENT_PUSH_H
#define DOORSTEP_EVENT_PUSH_H

#include "events/event_store.h"

struct hub;
struct event_push;

/* Start the push thread and register the WebSocket; sets hub->event_push. NULL on failure. */
struct event_push *event_push_start(struct hub *hub);

/* Any thread: queue an event for every open UI allowed to see its doorbell
 * (copied; never blocks on a browser). NULL push: nothing. */
void event_push_broadcast(struct event_push *push, const struct event_row *event);

/* hub->event_published: event_push_broadcast() to hub->event_push (nothing
 * before event_push_start() or after event_push_free()). Any thread. */
void event_push_published(struct hub *hub, const struct event_row *event);

/* Stop the push thread (queued events are dropped). */
void event_push_stop(struct hub *hub);

/* Free what is left, after the server has stopped; hub->event_push = NULL. */
void event_push_free(struct hub *hub);

#endif
