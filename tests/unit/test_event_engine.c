/*
 * test_event_engine.c - which events notify (appliance/events/event_engine.c):
 * modes against their types, cooldowns per doorbell and type with the '*'
 * default, the decision written to the event, and the motion schedule.
 * Real SQLite in memory with the real migrations.
 *
 * UNIT_SOURCES: appliance/events/event_engine.c appliance/events/event_store.c
 * UNIT_SOURCES: appliance/storage/database.c appliance/events/weekly_schedule.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "events/event_engine.h"
#include "events/event_store.h"
#include "storage/database.h"

static int setup(void **state)
{
    sqlite3 *db = NULL;
    char error[256];
    if (database_open(":memory:", &db, error, sizeof(error)) != 0)
        return -1;
    *state = db;
    return 0;
}

static int teardown(void **state)
{
    database_close(*state);
    return 0;
}

/* Store an event of type at at_ms and let the engine decide; returns the decision. */
static enum event_notify happen(sqlite3 *db, const char *device, const char *type, int64_t at_ms)
{
    struct event_row row = {
        .start_ms = at_ms, .end_ms = at_ms, .clip_start_ms = at_ms, .clip_end_ms = at_ms};
    struct event_row stored;
    enum event_notify decision;
    int64_t id;

    snprintf(row.device_id, sizeof(row.device_id), "%s", device);
    snprintf(row.type, sizeof(row.type), "%s", type);
    assert_int_equal(event_store_insert(db, &row, &id), 0);
    row.id = id;
    assert_int_equal(event_engine_decide(db, &row, &decision), 0);
    assert_int_equal(event_store_get(db, device, id, &stored), 1);
    assert_string_equal(stored.notify, event_notify_name(decision));
    return decision;
}

static void test_modes(void **state)
{
    sqlite3 *db = *state;
    char mode[EVENT_MODE_MAX];

    assert_int_equal(event_engine_get_mode(db, mode, sizeof(mode)), 0);
    assert_string_equal(mode, "home");
    /* Home: a ring notifies, motion does not. */
    assert_int_equal(happen(db, "front", "ring", 1000000), EVENT_NOTIFY_SEND);
    assert_int_equal(happen(db, "front", "motion", 1000000), EVENT_NOTIFY_MODE);
    /* Away: both. */
    assert_int_equal(event_engine_set_mode(db, "away"), 0);
    assert_int_equal(happen(db, "front", "motion", 2000000), EVENT_NOTIFY_SEND);
    /* Disarmed: nothing, not even a ring. */
    assert_int_equal(event_engine_set_mode(db, "disarmed"), 0);
    assert_int_equal(happen(db, "front", "ring", 3000000), EVENT_NOTIFY_MODE);
    assert_int_equal(event_engine_set_mode(db, "party"), -1);
    assert_int_equal(event_engine_set_mode(db, NULL), -1);
    assert_int_equal(event_engine_get_mode(db, mode, sizeof(mode)), 0);
    assert_string_equal(mode, "disarmed");
}

static void test_cooldowns(void **state)
{
    sqlite3 *db = *state;
    int seconds = -1;

    assert_int_equal(event_engine_set_mode(db, "away"), 0);
    /* Motion: 60 s by default; the second within a minute is held back,
     * and a held-back one does not restart the cooldown. */
    assert_int_equal(event_engine_cooldown(db, "front", "motion", &seconds), 0);
    assert_int_equal(seconds, 60);
    assert_int_equal(happen(db, "front", "motion", 100000), EVENT_NOTIFY_SEND);
    assert_int_equal(happen(db, "front", "motion", 130000), EVENT_NOTIFY_COOLDOWN);
    assert_int_equal(happen(db, "front", "motion", 161000), EVENT_NOTIFY_SEND);
    /* Another doorbell and another type have their own clocks. */
    assert_int_equal(happen(db, "back", "motion", 162000), EVENT_NOTIFY_SEND);
    /* Rings have none: every press notifies. */
    assert_int_equal(happen(db, "front", "ring", 162000), EVENT_NOTIFY_SEND);
    assert_int_equal(happen(db, "front", "ring", 162500), EVENT_NOTIFY_SEND);
    /* A doorbell's own setting beats the default. */
    assert_int_equal(event_engine_set_cooldown(db, "back", "motion", 0), 0);
    assert_int_equal(happen(db, "back", "motion", 163000), EVENT_NOTIFY_SEND);
    assert_int_equal(event_engine_set_cooldown(db, "front", "ring", 10), 0);
    assert_int_equal(happen(db, "front", "ring", 165000), EVENT_NOTIFY_COOLDOWN);
    assert_int_equal(event_engine_set_cooldown(db, "front", "ring", -1), -1);
    assert_int_equal(event_engine_set_cooldown(db, "front", "ring", 86401), -1);
}

static void test_motion_schedule(void **state)
{
    sqlite3 *db = *state;
    struct weekly_schedule schedule, stored;

    assert_true(event_engine_is_motion("motion"));
    assert_true(event_engine_is_motion("pir"));
    assert_false(event_engine_is_motion("ring"));
    assert_int_equal(event_engine_motion_schedule(db, "front", &stored), 0);
    assert_false(stored.set); /* always */
    assert_int_equal(
        weekly_schedule_parse("{\"days\":[1,2,3,4,5],\"from\":\"22:00\",\"to\":\"06:30\"}",
                              &schedule, NULL, 0),
        0);
    assert_int_equal(event_engine_set_motion_schedule(db, "front", &schedule), 0);
    assert_int_equal(event_engine_motion_schedule(db, "front", &stored), 0);
    assert_true(stored.set);
    assert_int_equal(stored.days, schedule.days);
    assert_int_equal(stored.from_minute, 22 * 60);
    assert_int_equal(stored.to_minute, 6 * 60 + 30);
    /* Monday 23:00 yes; Saturday 05:00 belongs to Friday's night: yes; Sunday 05:00 no. */
    assert_true(weekly_schedule_allows(&stored, 1, 23 * 60));
    assert_true(weekly_schedule_allows(&stored, 6, 5 * 60));
    assert_false(weekly_schedule_allows(&stored, 0, 5 * 60));
    assert_false(weekly_schedule_allows(&stored, 1, 12 * 60));
    /* Another doorbell is unaffected; unsetting means always again. */
    assert_int_equal(event_engine_motion_schedule(db, "back", &stored), 0);
    assert_false(stored.set);
    assert_int_equal(event_engine_set_motion_schedule(db, "front", NULL), 0);
    assert_int_equal(event_engine_motion_schedule(db, "front", &stored), 0);
    assert_false(stored.set);
}

/* The week grid's form: one bit per hour of each weekday. */
static void test_schedule_by_hour(void **state)
{
    sqlite3 *db = *state;
    struct weekly_schedule schedule, stored;
    char text[128];

    /* Sunday 00-01 and 23-24; Wednesday 08-10; nothing else. */
    assert_int_equal(
        weekly_schedule_parse("{\"hours\":[8388609,0,0,768,0,0,0]}", &schedule, NULL, 0), 0);
    assert_int_equal(event_engine_set_motion_schedule(db, "front", &schedule), 0);
    assert_int_equal(event_engine_motion_schedule(db, "front", &stored), 0);
    assert_true(stored.set && stored.by_hour);
    weekly_schedule_format(&stored, text, sizeof(text));
    assert_string_equal(text, "{\"hours\":[8388609,0,0,768,0,0,0]}");
    assert_true(weekly_schedule_allows(&stored, 0, 30));
    assert_true(weekly_schedule_allows(&stored, 0, 23 * 60 + 59));
    assert_false(weekly_schedule_allows(&stored, 0, 60));
    assert_true(weekly_schedule_allows(&stored, 3, 8 * 60));
    assert_true(weekly_schedule_allows(&stored, 3, 9 * 60 + 59));
    assert_false(weekly_schedule_allows(&stored, 3, 10 * 60));
    assert_false(weekly_schedule_allows(&stored, 1, 8 * 60));
    /* Six days, a bit past 24 hours, a fraction, a stray key: refused. */
    assert_int_equal(weekly_schedule_parse("{\"hours\":[0,0,0,0,0,0]}", &schedule, NULL, 0), -1);
    assert_int_equal(
        weekly_schedule_parse("{\"hours\":[16777216,0,0,0,0,0,0]}", &schedule, NULL, 0), -1);
    assert_int_equal(weekly_schedule_parse("{\"hours\":[1.5,0,0,0,0,0,0]}", &schedule, NULL, 0),
                     -1);
    assert_int_equal(
        weekly_schedule_parse("{\"hours\":[0,0,0,0,0,0,0],\"days\":[1]}", &schedule, NULL, 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cooldowns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_motion_schedule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schedule_by_hour, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
