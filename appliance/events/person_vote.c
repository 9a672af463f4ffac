/*
 * person_vote.c - temporal voting that turns motion and PIR events into
 * person events (see person_vote.h for the rule and the threads).
 *
 * Runs on the detection pool's worker threads (called by
 * devices/detect_intake.c, which then notifies), each with its own SQLite
 * connection; vote->lock guards the table and is held across the database
 * writes of one result. Owns the table and each entry's best JPEG.
 */
#define LOG_MODULE "events"

#include "events/person_vote.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common/log.h"
#include "common/mutex.h"
#include "events/event_engine.h"
#include "events/event_store.h"
#include "storage/database.h"

/* One event being voted on. */
struct person_vote_entry {
    int used;
    char device_id[LINK_DEVICE_ID_MAX];
    uint32_t event_id;                /* the doorbell's */
    uint64_t last_use;                /* vote->clock when last voted, for eviction */
    int analysed;                     /* frames the detector looked at */
    int person_frames;                /* of which showed a person >= PERSON_VOTE_MIN_CONFIDENCE */
    int decided;                      /* the event is a person event now */
    int best_unsaved;                 /* a better frame than the stored one waits to be written */
    double best;                      /* the best confidence so far, 0 = none */
    char best_boxes[EVENT_BOXES_MAX]; /* that frame's people as a JSON array */
    uint8_t *best_jpeg;               /* that frame (owned) */
    size_t best_jpeg_size;
};

struct person_vote {
    pthread_mutex_t lock;
    uint64_t clock; /* counts votes (lock) */
    struct person_vote_entry entries[PERSON_VOTE_MAX_EVENTS];
};

int person_vote_is_person(int analysed_frames, int person_frames)
{
    return person_frames >= PERSON_VOTE_MIN_FRAMES && analysed_frames > 0 &&
           person_frames * 100 >= analysed_frames * PERSON_VOTE_MIN_SHARE_PERCENT;
}

struct person_vote *person_vote_create(void)
{
    struct person_vote *vote = calloc(1, sizeof(*vote));

    if (vote == NULL)
        return NULL;
    mutex_init_checked(&vote->lock);
    return vote;
}

void person_vote_free(struct person_vote *vote)
{
    if (vote == NULL)
        return;
    for (int i = 0; i < PERSON_VOTE_MAX_EVENTS; i++)
        free(vote->entries[i].best_jpeg);
    pthread_mutex_destroy(&vote->lock);
    free(vote);
}

/* The entry of (device, event), or a fresh one in a free slot or in the
 * least recently voted one's (lock held). Never NULL. */
static struct person_vote_entry *person_vote_entry(struct person_vote *vote, const char *device_id,
                                                   uint32_t event_id)
{
    struct person_vote_entry *oldest = &vote->entries[0];

    for (int i = 0; i < PERSON_VOTE_MAX_EVENTS; i++) {
        struct person_vote_entry *entry = &vote->entries[i];
        if (entry->used && entry->event_id == event_id && strcmp(entry->device_id, device_id) == 0)
            return entry;
        if (!entry->used || (oldest->used && entry->last_use < oldest->last_use))
            oldest = entry;
    }
    free(oldest->best_jpeg);
    memset(oldest, 0, sizeof(*oldest));
    oldest->used = 1;
    snprintf(oldest->device_id, sizeof(oldest->device_id), "%s", device_id);
    oldest->event_id = event_id;
    return oldest;
}

/* The people of result at or above the vote's confidence as a JSON array
 * of {x, y, w, h, confidence} into out (always terminated). */
static void person_vote_boxes(const struct detection_result *result, char *out, size_t size)
{
    cJSON *array = cJSON_CreateArray();
    char *text = NULL;

    snprintf(out, size, "[]");
    if (array == NULL)
        return;
    for (int i = 0; i < result->person_count && i < 8; i++) {
        const struct person_detection *person = &result->persons[i];
        cJSON *box;
        if (person->confidence < PERSON_VOTE_MIN_CONFIDENCE || (box = cJSON_CreateObject()) == NULL)
            continue;
        cJSON_AddNumberToObject(box, "x", person->box.x);
        cJSON_AddNumberToObject(box, "y", person->box.y);
        cJSON_AddNumberToObject(box, "w", person->box.w);
        cJSON_AddNumberToObject(box, "h", person->box.h);
        cJSON_AddNumberToObject(box, "confidence", person->confidence);
        cJSON_AddItemToArray(array, box);
    }
    text = cJSON_PrintUnformatted(array);
    if (text != NULL && strlen(text) < size)
        snprintf(out, size, "%s", text);
    cJSON_free(text);
    cJSON_Delete(array);
}

/* Count one analysed frame for entry; keep it if it is the best so far.
 * Returns 1 if the event has just become a person event (lock held). */
static int person_vote_count(struct person_vote_entry *entry, const struct detection_result *result)
{
    double frame_best = 0.0;

    entry->analysed++;
    for (int i = 0; i < result->person_count && i < 8; i++)
        if (result->persons[i].confidence > frame_best)
            frame_best = result->persons[i].confidence;
    if (frame_best >= PERSON_VOTE_MIN_CONFIDENCE) {
        entry->person_frames++;
        if (frame_best > entry->best && result->jpeg != NULL && result->jpeg_size > 0) {
            uint8_t *copy = malloc(result->jpeg_size);
            if (copy != NULL) {
                memcpy(copy, result->jpeg, result->jpeg_size);
                free(entry->best_jpeg);
                entry->best_jpeg = copy;
                entry->best_jpeg_size = result->jpeg_size;
                entry->best = frame_best;
                person_vote_boxes(result, entry->best_boxes, sizeof(entry->best_boxes));
                entry->best_unsaved = 1;
            }
        }
    }
    if (entry->decided || !person_vote_is_person(entry->analysed, entry->person_frames))
        return 0;
    entry->decided = 1;
    return 1;
}

/* Write the entry's best frame to its event; if it just became a person
 * event, decide its notification into *out and return 1 (lock held). An
 * event not stored (yet) is decided again on the next vote. */
static int person_vote_apply(struct person_vote_entry *entry, int became, struct event_row *out,
                             enum event_notify *decision)
{
    sqlite3 *db = database_thread_connection();
    int64_t now = database_now_ms();
    int found;

    if (db == NULL)
        return 0;
    found = event_store_find_detected(db, entry->device_id, entry->event_id,
                                      now - PERSON_VOTE_EVENT_WINDOW_MS, out);
    if (found <= 0) {
        log_debug("doorbell %s: no stored motion or PIR event %u for its person votes",
                  entry->device_id, entry->event_id);
        entry->decided = 0;
        return 0;
    }
    /* Already a person event (its votes were evicted and came back): only
     * a better picture, no second decision. */
    if (strcmp(out->type, "person") == 0 && out->score >= entry->best)
        return 0;
    became = became && strcmp(out->type, "person") != 0;
    if (event_store_set_person(db, out->id, entry->best, entry->best_boxes, entry->best_jpeg,
                               entry->best_jpeg_size) != 0)
        return 0;
    entry->best_unsaved = 0;
    if (!became)
        return 0;
    snprintf(out->type, sizeof(out->type), "person");
    out->score = entry->best;
    snprintf(out->boxes, sizeof(out->boxes), "%s", entry->best_boxes);
    out->has_snapshot = 1;
    event_engine_decide_person(db, out, decision);
    if (*decision == EVENT_NOTIFY_SEND || strcmp(out->notify, "sent") != 0)
        snprintf(out->notify, sizeof(out->notify), "%s", event_notify_name(*decision));
    log_info("doorbell %s: %s event %lld is a person event (confidence %.2f, %d of %d frames; "
             "notification: %s)",
             out->device_id, out->trigger, (long long)out->id, entry->best, entry->person_frames,
             entry->analysed, event_notify_name(*decision));
    return 1;
}

int person_vote_add(struct person_vote *vote, const struct detection_result *result,
                    struct event_row *out, enum event_notify *decision)
{
    struct person_vote_entry *entry;
    int became = 0;

    *decision = EVENT_NOTIFY_MODE;
    if (!result->ok) {
        log_warn("doorbell %s: detect frame of event %u refused: %s", result->device_id,
                 result->device_event_id, result->error);
        return 0;
    }
    pthread_mutex_lock(&vote->lock);
    entry = person_vote_entry(vote, result->device_id, result->device_event_id);
    entry->last_use = ++vote->clock;
    if (person_vote_count(entry, result))
        became = person_vote_apply(entry, 1, out, decision);
    /* How the vote stands, now and then (1, 2, 4, 8... frames). */
    if ((entry->analysed & (entry->analysed - 1)) == 0)
        log_debug("doorbell %s: event %u: %d frames analysed, %d with a person (best %.2f)",
                  entry->device_id, entry->event_id, entry->analysed, entry->person_frames,
                  entry->best);
    else if (entry->decided && entry->best_unsaved)
        person_vote_apply(entry, 0, out, decision);
    pthread_mutex_unlock(&vote->lock);
    return became;
}
