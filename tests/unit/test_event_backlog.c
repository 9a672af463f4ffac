/*
 * test_event_backlog.c - unit tests of the events kept while the database is
 * full (appliance/events/event_backlog.c): oldest first, bounded at
 * EVENT_BACKLOG_MAX, and when full the oldest event that is not a ring goes
 * first, a ring only for want of anything else.
 *
 * Single-threaded.
 */
/* clang-format off */
/* UNIT_SOURCES: appliance/events/event_backlog.c */
/* clang-format on */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "events/event_backlog.h"

/* A row of type with start_ms = number. */
static struct event_row test_row(const char *type, int64_t number)
{
    struct event_row row;
    memset(&row, 0, sizeof(row));
    snprintf(row.type, sizeof(row.type), "%s", type);
    snprintf(row.device_id, sizeof(row.device_id), "0123456789ab");
    row.start_ms = number;
    return row;
}

/* Empty the backlog between tests. */
static void test_drain(void)
{
    while (event_backlog_count() > 0)
        event_backlog_pop();
}

/* Events come back oldest first, each once. */
static void test_oldest_first(void **state)
{
    struct event_row row;
    (void)state;
    test_drain();
    assert_false(event_backlog_peek(&row));
    for (int i = 0; i < 5; i++) {
        struct event_row kept = test_row(i % 2 ? "motion" : "ring", i);
        assert_int_equal(event_backlog_keep(&kept), 0);
    }
    assert_int_equal(event_backlog_count(), 5);
    for (int i = 0; i < 5; i++) {
        assert_true(event_backlog_peek(&row));
        assert_int_equal(row.start_ms, i);
        event_backlog_pop();
    }
    assert_false(event_backlog_peek(&row));
    event_backlog_pop(); /* popping an empty backlog is harmless */
    assert_int_equal(event_backlog_count(), 0);
}

/* Full: the oldest non-ring goes; the rings all stay. */
static void test_full_drops_motion_before_rings(void **state)
{
    struct event_row row;
    int rings = 0;
    (void)state;
    test_drain();
    for (int i = 0; i < EVENT_BACKLOG_MAX; i++) {
        struct event_row kept = test_row(i % 4 == 0 ? "motion" : "ring", i);
        assert_int_equal(event_backlog_keep(&kept), 0);
    }
    for (int i = 0; i < EVENT_BACKLOG_MAX / 4; i++) {
        struct event_row kept = test_row("ring", EVENT_BACKLOG_MAX + i);
        assert_int_equal(event_backlog_keep(&kept), 1);
    }
    assert_int_equal(event_backlog_count(), EVENT_BACKLOG_MAX);
    for (int64_t previous = -1; event_backlog_peek(&row); event_backlog_pop()) {
        assert_string_equal(row.type, "ring");
        assert_true(row.start_ms > previous);
        previous = row.start_ms;
        rings++;
    }
    assert_int_equal(rings, EVENT_BACKLOG_MAX);
}

/* Full of rings: the oldest ring goes. */
static void test_full_of_rings(void **state)
{
    struct event_row row, kept;
    (void)state;
    test_drain();
    for (int i = 0; i < EVENT_BACKLOG_MAX; i++) {
        kept = test_row("ring", i);
        event_backlog_keep(&kept);
    }
    kept = test_row("motion", 1000000);
    assert_int_equal(event_backlog_keep(&kept), 1);
    assert_true(event_backlog_peek(&row));
    assert_int_equal(row.start_ms, 1);
    test_drain();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oldest_first),
        cmocka_unit_test(test_full_drops_motion_before_rings),
        cmocka_unit_test(test_full_of_rings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
