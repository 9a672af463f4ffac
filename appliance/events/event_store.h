/*
 * event_store.h - the events table: what doorbells reported (ring, motion,
 * pir, tamper, ...), the footage each refers to (clip start/end), its
 * snapshot and whether a user starred (protected) it.
 *
 * Any thread, with its own SQLite connection; bound parameters only; no
 * state of its own. Rows handed to callbacks are valid during the call only.
 */
#ifndef DOORSTEP_EVENT_STORE_H
#define DOORSTEP_EVENT_STORE_H

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "common/link_protocol.h"

#define EVENT_TYPE_MAX    32
#define EVENT_BOXES_MAX   2048 /* JSON text of up to LINK_MAX_BOXES boxes */
#define EVENT_QUERY_TYPES 8
#define EVENT_LIST_MAX    500 /* largest page */

struct event_row {
    int64_t id;
    char device_id[LINK_DEVICE_ID_MAX];
    char type[EVENT_TYPE_MAX];
    int64_t device_event_id; /* the doorbell's own counter */
    int active;              /* still ongoing */
    int64_t start_ms, end_ms;
    int64_t clip_start_ms, clip_end_ms;
    double score;
    char boxes[EVENT_BOXES_MAX]; /* JSON array */
    int starred;
    int has_snapshot;
    char notify[16];       /* event_engine's decision: "sent", "cooldown", "mode", "" */
    int64_t auto_reply_id; /* the quick reply the doorbell played by itself, 0 none */
    /* What the doorbell reported (motion, pir, ring...): type itself, except
     * for a motion or PIR event the person detector turned into "person". */
    char trigger[EVENT_TYPE_MAX];
};

/* Insert a row (id is ignored); *id_out gets the new id. 0 or -1 (logged). */
int event_store_insert(sqlite3 *db, const struct event_row *row, int64_t *id_out);

/* The newest active event of this device, trigger type and device counter that
 * was still going on at or after since_ms (a doorbell restarts its counter,
 * and one that vanished never said "ended"). 1 found (*out filled), 0 none,
 * -1 error. */
int event_store_find_active(sqlite3 *db, const char *device_id, const char *type,
                            int64_t device_event_id, int64_t since_ms, struct event_row *out);

/* The newest motion or PIR event (by trigger, whatever its type now) of
 * this device with this device counter that had not ended before since_ms,
 * ended or not: the event a detect frame belongs to. 1 found, 0 none, -1. */
int event_store_find_detected(sqlite3 *db, const char *device_id, int64_t device_event_id,
                              int64_t since_ms, struct event_row *out);

/* A person was seen in event id: its type becomes "person", its score the
 * best confidence, its boxes (JSON array) the person's, and its snapshot
 * that frame's JPEG (unless jpeg is NULL). 0 or -1. */
int event_store_set_person(sqlite3 *db, int64_t id, double confidence, const char *boxes,
                           const uint8_t *jpeg, size_t size);

/* Mark ended the active events silent since before before_ms (their
 * doorbell went away without saying so). Returns how many, or -1. */
int event_store_end_stale(sqlite3 *db, int64_t before_ms);

/* The event goes on (active) or ended at end_ms; its clip reaches clip_end_ms. 0 or -1. */
int event_store_extend(sqlite3 *db, int64_t id, int64_t end_ms, int64_t clip_end_ms, int active);

/* The doorbell played quick reply reply_id by itself after its ring with
 * device counter device_event_id: note it on the newest such ring. 1 if a
 * ring was marked, 0 none, -1 error. */
int event_store_set_auto_reply(sqlite3 *db, const char *device_id, int64_t device_event_id,
                               int64_t reply_id);

/* Attach the snapshot JPEG if the event has none yet. 0 or -1. */
int event_store_set_snapshot(sqlite3 *db, int64_t id, const uint8_t *jpeg, size_t size);

struct event_query {
    const char *device_id;
    int64_t from_ms, to_ms; /* events starting in [from, to) */
    const char *types[EVENT_QUERY_TYPES];
    int type_count; /* 0: every type */
    int starred_only;
    int limit, offset;
};

typedef int (*event_store_callback)(const struct event_row *row, void *context);

/* Events matching the query, newest first; *total_out (if not NULL) is the
 * number of matches ignoring limit/offset. 0 or -1. */
int event_store_list(sqlite3 *db, const struct event_query *query, event_store_callback callback,
                     void *context, int64_t *total_out);

/* One event of one device: 1 found, 0 none, -1 error. */
int event_store_get(sqlite3 *db, const char *device_id, int64_t id, struct event_row *out);

/* The event's snapshot, malloc'd into *jpeg_out (the caller frees). 1 found,
 * 0 no such event or no snapshot, -1 error. */
int event_store_snapshot(sqlite3 *db, const char *device_id, int64_t id, uint8_t **jpeg_out,
                         size_t *size_out);

/* Star or unstar. 1 done, 0 no such event, -1 error. */
int event_store_set_starred(sqlite3 *db, const char *device_id, int64_t id, int starred);

/* An event as the API and the UI's event feed show it (docs/api.md); the
 * caller deletes it. */
cJSON *event_store_json(const struct event_row *row);

#endif
