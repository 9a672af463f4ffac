/*
 * test_snapshot_pairing.c - cmocka tests of the table that gives each
 * doorbell snapshot to the event it was taken for
 * (appliance/devices/snapshot_pairing.c): a ring and a motion event that
 * start together, in either order and with their pictures in either order,
 * each get their own; a motion picture never ends a ring's wait; late,
 * duplicate, unknown and untagged pictures; the fallback for doorbells that
 * do not tag; a full table.
 *
 * Single-threaded; no allocation.
 * UNIT_SOURCES: appliance/devices/snapshot_pairing.c
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "devices/snapshot_pairing.h"

#define TEST_WAIT_MS 3000

/* Take the picture tagged sequence at now_ms; check outcome and event. */
static void assert_take(struct snapshot_pairing *pairing, uint32_t sequence, int64_t now_ms,
                        enum snapshot_pairing_outcome outcome, int64_t event_id)
{
    int64_t got = -1;

    assert_int_equal(snapshot_pairing_take(pairing, sequence, now_ms, &got), outcome);
    assert_int_equal(got, event_id);
}

/* Ring (doorbell id 1, hub event 101) and motion (2, 102) started within a
 * millisecond: every order of events and pictures pairs them right. */
static void test_ring_and_motion_together(void **state)
{
    static const uint32_t orders[2][2] = {{1, 2}, {2, 1}};

    (void)state;
    for (int events = 0; events < 2; events++) {
        for (int pictures = 0; pictures < 2; pictures++) {
            struct snapshot_pairing pairing;
            snapshot_pairing_init(&pairing, 1);
            for (int i = 0; i < 2; i++) {
                uint32_t tag = orders[events][i];
                assert_int_equal(
                    snapshot_pairing_add(&pairing, tag, 100 + tag, 1000 + i, TEST_WAIT_MS), 0);
            }
            for (int i = 0; i < 2; i++) {
                uint32_t tag = orders[pictures][i];
                assert_take(&pairing, tag, 1040 + i, SNAPSHOT_PAIRING_ATTACH, 100 + tag);
            }
        }
    }
}

/* The motion picture first: the ring still waits for its own. */
static void test_motion_picture_never_ends_a_ring_wait(void **state)
{
    struct snapshot_pairing pairing;

    (void)state;
    snapshot_pairing_init(&pairing, 1);
    snapshot_pairing_add(&pairing, 7, 70, 0, TEST_WAIT_MS);  /* ring */
    snapshot_pairing_add(&pairing, 8, 80, 11, TEST_WAIT_MS); /* motion, 11 ms later */
    assert_take(&pairing, 8, 50, SNAPSHOT_PAIRING_ATTACH, 80);
    assert_take(&pairing, 0, 60, SNAPSHOT_PAIRING_NO_EVENT, 0); /* a command's picture */
    assert_take(&pairing, 7, 90, SNAPSHOT_PAIRING_ATTACH, 70);
}

/* Odd pictures: duplicate, unknown tag, after the wait, not stored, untagged. */
static void test_odd_pictures(void **state)
{
    struct snapshot_pairing pairing;

    (void)state;
    snapshot_pairing_init(&pairing, 1);
    snapshot_pairing_add(&pairing, 1, 10, 0, TEST_WAIT_MS);
    snapshot_pairing_add(&pairing, 2, 20, 0, TEST_WAIT_MS);
    snapshot_pairing_add(&pairing, 3, 0, 0, TEST_WAIT_MS); /* the hub stored no event */
    assert_take(&pairing, 1, 100, SNAPSHOT_PAIRING_ATTACH, 10);
    assert_take(&pairing, 1, 200, SNAPSHOT_PAIRING_DUPLICATE, 10);
    assert_take(&pairing, 9, 200, SNAPSHOT_PAIRING_UNKNOWN, 0);
    assert_take(&pairing, 3, 200, SNAPSHOT_PAIRING_NOT_STORED, 0);
    assert_take(&pairing, 0, 200, SNAPSHOT_PAIRING_NO_EVENT, 0);
    assert_take(&pairing, 2, TEST_WAIT_MS + 1, SNAPSHOT_PAIRING_ATTACH_LATE, 20);
    assert_take(&pairing, 2, TEST_WAIT_MS + 2, SNAPSHOT_PAIRING_DUPLICATE, 20);
}

/* A repeated start (motion updates carry the start's id) keeps the first. */
static void test_repeated_start_keeps_its_event(void **state)
{
    struct snapshot_pairing pairing;

    (void)state;
    snapshot_pairing_init(&pairing, 1);
    snapshot_pairing_add(&pairing, 5, 50, 0, TEST_WAIT_MS);
    snapshot_pairing_add(&pairing, 5, 0, 900, TEST_WAIT_MS);
    assert_take(&pairing, 5, 1000, SNAPSHOT_PAIRING_ATTACH, 50);
}

/* Untagged (older doorbells): the oldest event still in its wait. */
static void test_untagged_oldest_waiting_first(void **state)
{
    struct snapshot_pairing pairing;

    (void)state;
    snapshot_pairing_init(&pairing, 0);
    snapshot_pairing_add(&pairing, 1, 10, 0, TEST_WAIT_MS);
    snapshot_pairing_add(&pairing, 2, 20, 2000, TEST_WAIT_MS);
    snapshot_pairing_add(&pairing, 3, 30, 2001, TEST_WAIT_MS);
    assert_take(&pairing, 0, 3500, SNAPSHOT_PAIRING_ATTACH, 20);  /* 10's wait is over */
    assert_take(&pairing, 77, 3600, SNAPSHOT_PAIRING_ATTACH, 30); /* sequence is ignored */
    assert_take(&pairing, 0, 3700, SNAPSHOT_PAIRING_NO_EVENT, 0);
}

/* A full table drops its oldest slot, and says so if that one still waited. */
static void test_full_table(void **state)
{
    struct snapshot_pairing pairing;

    (void)state;
    snapshot_pairing_init(&pairing, 1);
    for (uint32_t tag = 1; tag <= SNAPSHOT_PAIRING_SLOTS; tag++)
        assert_int_equal(snapshot_pairing_add(&pairing, tag, 1000 + tag, 0, TEST_WAIT_MS), 0);
    assert_int_equal(snapshot_pairing_add(&pairing, 100, 2000, 10, TEST_WAIT_MS), 1001);
    assert_take(&pairing, 1, 20, SNAPSHOT_PAIRING_UNKNOWN, 0);
    assert_take(&pairing, 100, 20, SNAPSHOT_PAIRING_ATTACH, 2000);
    assert_take(&pairing, 2, 20, SNAPSHOT_PAIRING_ATTACH, 1002);
    /* A slot whose wait is over goes quietly. */
    assert_int_equal(snapshot_pairing_add(&pairing, 101, 2001, TEST_WAIT_MS + 100, TEST_WAIT_MS),
                     0);
    assert_string_equal(snapshot_pairing_outcome_name(SNAPSHOT_PAIRING_DUPLICATE), "duplicate");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ring_and_motion_together),
        cmocka_unit_test(test_motion_picture_never_ends_a_ring_wait),
        cmocka_unit_test(test_odd_pictures),
        cmocka_unit_test(test_repeated_start_keeps_its_event),
        cmocka_unit_test(test_untagged_oldest_waiting_first),
        cmocka_unit_test(test_full_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
