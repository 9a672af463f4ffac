/*
 * person_vote.h - turning motion and PIR events into person events by
 * temporal voting over the person detector's results (detection_pool.h).
 *
 * Each analysed detect frame is one vote for its event (device, the
 * doorbell's event id). An event becomes "person" once at least
 * PERSON_VOTE_MIN_FRAMES of its analysed frames show a person with
 * confidence >= PERSON_VOTE_MIN_CONFIDENCE and those are at least
 * PERSON_VOTE_MIN_SHARE_PERCENT of its analysed frames: one stray
 * detection (a coat on a hook, a shadow) does not make a person, a visitor
 * seen on a few frames does. Then the event's type becomes "person" (its
 * trigger stays motion or pir), its score the best confidence, its boxes
 * the best frame's people and its snapshot that frame; the mode and person
 * cooldown decide whether targets that want "person" are told (the caller,
 * devices/detect_intake.c, queues it: once per event, a target already
 * told of the motion is not told again). A better frame later replaces
 * box, score and snapshot, and tells no one. Frames of an event that has
 * ended still count (the queue may lag behind).
 *
 * Threads: person_vote_add runs on the pool's workers; one mutex
 * guards the table of events being voted on (PERSON_VOTE_MAX_EVENTS, the
 * least recently voted one makes room) and is held while the database is
 * written, so the votes of one event are applied in order. Owns each
 * event's best JPEG copy.
 */
#ifndef DOORSTEP_PERSON_VOTE_H
#define DOORSTEP_PERSON_VOTE_H

#include "detection/person_detector.h"
#include "events/event_engine.h"
#include "events/event_store.h"

/* The voting rule, in one place (docs/architecture.md, "Person events"). */
#define PERSON_VOTE_MIN_FRAMES        2   /* frames with a person, at least */
#define PERSON_VOTE_MIN_CONFIDENCE    0.5 /* a detection counts from this confidence */
#define PERSON_VOTE_MIN_SHARE_PERCENT 20  /* of the event's analysed frames, at least */
#define PERSON_VOTE_MAX_EVENTS        64  /* events voted on at once, all doorbells */
/* A detect frame belongs to an event that had not ended this long before. */
#define PERSON_VOTE_EVENT_WINDOW_MS (10LL * 60 * 1000)

struct person_vote;

/* The rule: 1 if person_frames of analysed_frames make a person event. */
int person_vote_is_person(int analysed_frames, int person_frames);

/* An empty voting table. NULL if out of memory. */
struct person_vote *person_vote_create(void);

/* Free the table and the JPEGs it holds; after the pool is freed. NULL is fine. */
void person_vote_free(struct person_vote *vote);

/*
 * Count one result of the detection pool (a worker thread). A refused frame
 * is logged with its reason. Returns 1 if its event has just become a
 * person event: *out is the event as stored now and *decision what the
 * mode and cooldown say (already written to events.notify); the caller
 * notifies and publishes. Else 0.
 */
int person_vote_add(struct person_vote *vote, const struct detection_result *result,
                    struct event_row *out, enum event_notify *decision);

#endif
