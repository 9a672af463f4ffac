/*
 * test_person_vote.c - temporal voting of person detections
 * (appliance/events/person_vote.c): the rule (K frames, confidence T, a
 * share of the analysed frames), a motion and a PIR event becoming person
 * events with the best frame's box, score and picture, a better frame
 * later, refused frames that do not count, votes for an event not stored
 * yet, and the notification decision. Real SQLite (a temporary file, as
 * the pool's workers open their own connections) with the real migrations.
 *
 * Single-threaded (the test is the "worker").
 * UNIT_SOURCES: appliance/events/person_vote.c appliance/events/event_engine.c
 * UNIT_SOURCES: appliance/events/event_store.c appliance/storage/database.c
 * UNIT_SOURCES: appliance/events/weekly_schedule.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "events/event_engine.h"
#include "events/event_store.h"
#include "events/person_vote.h"
#include "storage/database.h"

static char test_path[] = "/tmp/doorstep-person-vote-XXXXXX";
static sqlite3 *test_db;

static int setup(void **state)
{
    char error[256];
    int fd = mkstemp(test_path);

    (void)state;
    if (fd < 0)
        return -1;
    close(fd);
    if (database_open(test_path, &test_db, error, sizeof(error)) != 0)
        return -1;
    database_set_path(test_path);
    return event_engine_set_mode(test_db, "away"); /* motion and people notify */
}

static int teardown(void **state)
{
    (void)state;
    database_close(test_db);
    unlink(test_path);
    return 0;
}

/* A stored event of trigger type (motion, pir) with the doorbell's id. */
static int64_t stored_event(const char *device, const char *type, uint32_t device_event_id)
{
    int64_t now = database_now_ms();
    struct event_row row = {.device_event_id = device_event_id,
                            .active = 1,
                            .start_ms = now,
                            .end_ms = now,
                            .clip_start_ms = now,
                            .clip_end_ms = now,
                            .score = 1};
    int64_t id;

    snprintf(row.device_id, sizeof(row.device_id), "%s", device);
    snprintf(row.type, sizeof(row.type), "%s", type);
    assert_int_equal(event_store_insert(test_db, &row, &id), 0);
    return id;
}

/* One detector result: a person of confidence (none if 0) in a JPEG whose
 * second byte after SOI tells the frames apart. */
static int vote(struct person_vote *vote, const char *device, uint32_t event_id, double confidence,
                uint8_t tag, struct event_row *out, enum event_notify *decision)
{
    uint8_t jpeg[] = {0xff, 0xd8, 0xff, tag, 0xff, 0xd9};
    struct detection_result result;

    memset(&result, 0, sizeof(result));
    snprintf(result.device_id, sizeof(result.device_id), "%s", device);
    result.device_event_id = event_id;
    result.ok = 1;
    result.jpeg = jpeg;
    result.jpeg_size = sizeof(jpeg);
    if (confidence > 0) {
        result.person_count = 1;
        result.persons[0] = (struct person_detection){{0.25, 0.125, 0.25, 0.75}, confidence};
    }
    return person_vote_add(vote, &result, out, decision);
}

/* The picture of stored event id: its tag byte, or -1. */
static int snapshot_tag(const char *device, int64_t id)
{
    uint8_t *jpeg = NULL;
    size_t size = 0;
    int tag = -1;

    if (event_store_snapshot(test_db, device, id, &jpeg, &size) == 1 && size == 6)
        tag = jpeg[3];
    free(jpeg);
    return tag;
}

static void test_rule(void **state)
{
    (void)state;
    assert_false(person_vote_is_person(0, 0));
    assert_false(person_vote_is_person(1, 1));  /* one frame is never enough */
    assert_true(person_vote_is_person(2, 2));   /* K = 2 */
    assert_true(person_vote_is_person(10, 2));  /* 20 % */
    assert_false(person_vote_is_person(11, 2)); /* a stray pair among many frames */
    assert_true(person_vote_is_person(15, 3));
}

/* Motion becomes person on the second frame with a person; the best frame
 * is its picture, box and score; a better frame later replaces them. */
static void test_motion_becomes_person(void **state)
{
    struct person_vote *votes = person_vote_create();
    enum event_notify decision;
    struct event_row out, stored;
    int64_t id = stored_event("front", "motion", 5);

    (void)state;
    assert_non_null(votes);
    assert_int_equal(vote(votes, "front", 5, 0, 1, &out, &decision), 0);
    assert_int_equal(vote(votes, "front", 5, 0.4, 2, &out, &decision), 0); /* below T */
    assert_int_equal(vote(votes, "front", 5, 0.8, 3, &out, &decision), 0); /* 1 of 3 */
    assert_int_equal(event_store_get(test_db, "front", id, &stored), 1);
    assert_string_equal(stored.type, "motion");
    assert_int_equal(vote(votes, "front", 5, 0.7, 4, &out, &decision), 1); /* 2 of 4 */
    assert_int_equal(out.id, id);
    assert_string_equal(out.type, "person");
    assert_string_equal(out.trigger, "motion");
    assert_int_equal(decision, EVENT_NOTIFY_SEND);
    assert_int_equal(event_store_get(test_db, "front", id, &stored), 1);
    assert_string_equal(stored.type, "person");
    assert_string_equal(stored.trigger, "motion");
    assert_string_equal(stored.notify, "sent");
    assert_true(stored.score > 0.79 && stored.score < 0.81); /* the best so far: frame 3 */
    assert_non_null(strstr(stored.boxes, "\"confidence\":0.8"));
    assert_int_equal(snapshot_tag("front", id), 3);
    /* A better frame: picture, score and box follow; nobody is told again. */
    assert_int_equal(vote(votes, "front", 5, 0.95, 9, &out, &decision), 0);
    assert_int_equal(event_store_get(test_db, "front", id, &stored), 1);
    assert_true(stored.score > 0.94);
    assert_int_equal(snapshot_tag("front", id), 9);
    /* A worse one changes nothing. */
    assert_int_equal(vote(votes, "front", 5, 0.6, 10, &out, &decision), 0);
    assert_int_equal(snapshot_tag("front", id), 9);
    /* Votes forgotten (a new table, as after eviction) and a worse frame
     * again: no second decision, the better picture stays. */
    person_vote_free(votes);
    votes = person_vote_create();
    assert_non_null(votes);
    assert_int_equal(vote(votes, "front", 5, 0.7, 11, &out, &decision), 0);
    assert_int_equal(vote(votes, "front", 5, 0.7, 12, &out, &decision), 0);
    assert_int_equal(snapshot_tag("front", id), 9);
    /* The event is still found by its trigger while it goes on. */
    assert_int_equal(event_store_find_active(test_db, "front", "motion", 5, 0, &stored), 1);
    assert_int_equal(stored.id, id);
    person_vote_free(votes);
}

/* Refused frames do not count; a PIR event becomes person too; another
 * doorbell's event of the same id is another event. */
static void test_refused_and_pir(void **state)
{
    struct person_vote *votes = person_vote_create();
    struct detection_result refused;
    enum event_notify decision;
    struct event_row out, stored;
    int64_t pir = stored_event("side", "pir", 7), other = stored_event("back", "motion", 7);

    (void)state;
    memset(&refused, 0, sizeof(refused));
    snprintf(refused.device_id, sizeof(refused.device_id), "side");
    refused.device_event_id = 7;
    snprintf(refused.error, sizeof(refused.error), "not a JPEG");
    for (int i = 0; i < 20; i++)
        assert_int_equal(person_vote_add(votes, &refused, &out, &decision), 0);
    assert_int_equal(vote(votes, "side", 7, 0.9, 1, &out, &decision), 0);
    assert_int_equal(vote(votes, "side", 7, 0.9, 2, &out, &decision), 1); /* 2 of 2 */
    assert_int_equal(out.id, pir);
    assert_string_equal(out.trigger, "pir");
    assert_int_equal(event_store_get(test_db, "back", other, &stored), 1);
    assert_string_equal(stored.type, "motion");
    person_vote_free(votes);
}

/* Votes for an event not stored yet are kept; the next vote decides. */
static void test_event_stored_later(void **state)
{
    struct person_vote *votes = person_vote_create();
    enum event_notify decision;
    struct event_row out;
    int64_t id;

    (void)state;
    assert_int_equal(vote(votes, "late", 3, 0.9, 1, &out, &decision), 0);
    assert_int_equal(vote(votes, "late", 3, 0.9, 2, &out, &decision), 0); /* no such event */
    id = stored_event("late", "motion", 3);
    assert_int_equal(vote(votes, "late", 3, 0.9, 3, &out, &decision), 1);
    assert_int_equal(out.id, id);
    person_vote_free(votes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule),
        cmocka_unit_test(test_motion_becomes_person),
        cmocka_unit_test(test_refused_and_pir),
        cmocka_unit_test(test_event_stored_later),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
