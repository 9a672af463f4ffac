/*
 * test_package_rule.c - the hub keeps a package candidate only after a
 * person (appliance/events/package_rule.c): the pure rule on a made-up
 * history, and the same rule over the events table (real SQLite in memory
 * with the real migrations); package types notify as "package".
 *
 * UNIT_SOURCES: appliance/events/package_rule.c appliance/events/event_store.c
 * UNIT_SOURCES: appliance/events/event_engine.c appliance/storage/database.c
 * UNIT_SOURCES: appliance/events/weekly_schedule.c
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
#include "events/package_rule.h"
#include "storage/database.h"

#define NOW 1000000000LL

static void test_rule_on_a_history(void **state)
{
    (void)state;
    char why[128] = "";
    /* Nobody ever: dropped, and it says so. */
    assert_int_equal(package_rule_keep(NULL, 0, NOW, why, sizeof(why)), 0);
    assert_non_null(strstr(why, "no person"));

    /* A person still there. */
    struct package_rule_person active = {1, NOW - 300000, NOW - 300000};
    assert_int_equal(package_rule_keep(&active, 1, NOW, why, sizeof(why)), 1);

    /* Ended 119 s ago: kept; 120 s: kept; 121 s: dropped with the age. */
    struct package_rule_person ended = {0, NOW - 130000, NOW - 119000};
    assert_int_equal(package_rule_keep(&ended, 1, NOW, why, sizeof(why)), 1);
    ended.end_ms = NOW - 120000;
    assert_int_equal(package_rule_keep(&ended, 1, NOW, why, sizeof(why)), 1);
    ended.end_ms = NOW - 121000;
    assert_int_equal(package_rule_keep(&ended, 1, NOW, why, sizeof(why)), 0);
    assert_non_null(strstr(why, "121 s ago"));

    /* Any one of several is enough, in any order. */
    struct package_rule_person several[] = {{0, NOW - 900000, NOW - 800000},
                                            {0, NOW - 60000, NOW - 50000},
                                            {0, NOW - 500000, NOW - 400000}};
    assert_int_equal(package_rule_keep(several, 3, NOW, why, sizeof(why)), 1);
    assert_int_equal(package_rule_keep(several, 1, NOW, why, sizeof(why)), 0);

    /* A person event that starts after the candidate says nothing about it. */
    struct package_rule_person later = {1, NOW + 5000, NOW + 5000};
    assert_int_equal(package_rule_keep(&later, 1, NOW, why, sizeof(why)), 0);
}

/* Store an event row. */
static void store(sqlite3 *db, const char *device, const char *type, int active, int64_t start_ms,
                  int64_t end_ms)
{
    struct event_row row = {.active = active,
                            .start_ms = start_ms,
                            .end_ms = end_ms,
                            .clip_start_ms = start_ms,
                            .clip_end_ms = end_ms};
    int64_t id;
    snprintf(row.device_id, sizeof(row.device_id), "%s", device);
    snprintf(row.type, sizeof(row.type), "%s", type);
    snprintf(row.boxes, sizeof(row.boxes), "[]");
    assert_int_equal(event_store_insert(db, &row, &id), 0);
}

static void test_rule_over_the_events_table(void **state)
{
    (void)state;
    sqlite3 *db = NULL;
    char error[256], why[128];
    assert_int_equal(database_open(":memory:", &db, error, sizeof(error)), 0);

    /* A cat on the mat: motion, no person. */
    store(db, "front", "motion", 0, NOW - 30000, NOW - 20000);
    assert_int_equal(package_rule_check(db, "front", NOW, why, sizeof(why)), 0);
    /* A person at another doorbell does not count here. */
    store(db, "back", "person", 0, NOW - 30000, NOW - 20000);
    assert_int_equal(package_rule_check(db, "front", NOW, why, sizeof(why)), 0);
    assert_int_equal(package_rule_check(db, "back", NOW, why, sizeof(why)), 1);
    /* A person long ago, then a recent one. */
    store(db, "front", "person", 0, NOW - 600000, NOW - 590000);
    assert_int_equal(package_rule_check(db, "front", NOW, why, sizeof(why)), 0);
    assert_non_null(strstr(why, "590 s ago"));
    store(db, "front", "person", 1, NOW - 10000, NOW - 5000);
    assert_int_equal(package_rule_check(db, "front", NOW, why, sizeof(why)), 1);
    database_close(db);
}

static void test_package_notifies_as_package(void **state)
{
    (void)state;
    assert_string_equal(event_engine_notify_type("package_delivered"), "package");
    assert_string_equal(event_engine_notify_type("package_taken"), "package");
    assert_string_equal(event_engine_notify_type("ring"), "ring");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_on_a_history),
        cmocka_unit_test(test_rule_over_the_events_table),
        cmocka_unit_test(test_package_notifies_as_package),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
