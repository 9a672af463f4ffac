/*
 * event_backlog.c - events kept in memory while the database cannot take
 * them (see event_backlog.h). Owns a fixed ring of EVENT_BACKLOG_MAX rows
 * under one lock; any thread.
 */
#define LOG_MODULE "events"

#include "events/event_backlog.h"

#include <pthread.h>
#include <string.h>

#include "common/log.h"
#include "common/mutex.h"

static pthread_mutex_t event_backlog_lock = MUTEX_INITIALIZER;
static struct event_row event_backlog_rows[EVENT_BACKLOG_MAX]; /* oldest at first */
static int event_backlog_first, event_backlog_size;

/* The index of the i-th oldest event. Lock held. */
static int event_backlog_at(int i)
{
    return (event_backlog_first + i) % EVENT_BACKLOG_MAX;
}

/* Drop the i-th oldest event, closing the gap. Lock held. */
static void event_backlog_remove(int i)
{
    for (; i + 1 < event_backlog_size; i++)
        event_backlog_rows[event_backlog_at(i)] = event_backlog_rows[event_backlog_at(i + 1)];
    event_backlog_size--;
}

int event_backlog_keep(const struct event_row *row)
{
    int dropped = 0;

    pthread_mutex_lock(&event_backlog_lock);
    if (event_backlog_size == EVENT_BACKLOG_MAX) {
        int victim = 0;
        for (int i = 0; i < event_backlog_size; i++) {
            if (strcmp(event_backlog_rows[event_backlog_at(i)].type, "ring") != 0) {
                victim = i;
                break;
            }
        }
        log_error("event backlog full: dropping a %s event of doorbell %s",
                  event_backlog_rows[event_backlog_at(victim)].type,
                  event_backlog_rows[event_backlog_at(victim)].device_id);
        event_backlog_remove(victim);
        dropped = 1;
    }
    event_backlog_rows[event_backlog_at(event_backlog_size++)] = *row;
    pthread_mutex_unlock(&event_backlog_lock);
    return dropped;
}

int event_backlog_peek(struct event_row *out)
{
    int found;
    pthread_mutex_lock(&event_backlog_lock);
    found = event_backlog_size > 0;
    if (found)
        *out = event_backlog_rows[event_backlog_first];
    pthread_mutex_unlock(&event_backlog_lock);
    return found;
}

void event_backlog_pop(void)
{
    pthread_mutex_lock(&event_backlog_lock);
    if (event_backlog_size > 0) {
        event_backlog_first = (event_backlog_first + 1) % EVENT_BACKLOG_MAX;
        event_backlog_size--;
    }
    pthread_mutex_unlock(&event_backlog_lock);
}

int event_backlog_count(void)
{
    int count;
    pthread_mutex_lock(&event_backlog_lock);
    count = event_backlog_size;
    pthread_mutex_unlock(&event_backlog_lock);
    return count;
}
