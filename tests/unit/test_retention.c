/*
 * test_retention.c - retention (appliance/recording/retention.c) on a real
 * SQLite file and real files in a temporary directory: days per class and
 * doorbell, events keeping their footage, starred events surviving the
 * budget, oldest first, the pending-deletion protocol and event expiry.
 *
 * UNIT_SOURCES: appliance/recording/retention.c appliance/recording/recording_store.c
 * UNIT_SOURCES: appliance/recording/recording_settings.c appliance/events/event_store.c
 * UNIT_SOURCES: appliance/storage/database.c appliance/storage/database_reserve.c
 * UNIT_SOURCES: appliance/core/hub_settings.c
 * UNIT_SOURCES: appliance/recording/preview_store.c appliance/recording/preview_container.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "events/event_store.h"
#include "recording/recording_settings.h"
#include "recording/recording_store.h"
#include "recording/retention.h"
#include "storage/database.h"

#define DAY   RETENTION_DAY_MS
#define NOW   (1800000000000LL) /* a fixed "now" */
#define BYTES 1000

struct fixture {
    char directory[64];
    char database[128];
    sqlite3 *db;
};

static int setup(void **state)
{
    struct fixture *fixture = calloc(1, sizeof(*fixture));
    char error[256];

    snprintf(fixture->directory, sizeof(fixture->directory), "/tmp/doorstep-retention-XXXXXX");
    if (mkdtemp(fixture->directory) == NULL)
        return -1;
    snprintf(fixture->database, sizeof(fixture->database), "%s/doorstep.db", fixture->directory);
    if (database_open(fixture->database, &fixture->db, error, sizeof(error)) != 0)
        return -1;
    *state = fixture;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fixture = *state;
    char command[256];

    database_close(fixture->db);
    snprintf(command, sizeof(command), "rm -rf '%s'", fixture->directory);
    if (system(command) != 0)
        return -1;
    free(fixture);
    return 0;
}

/* A closed segment of device from start to end (ms) with a BYTES-byte file. */
static void add_segment(struct fixture *fixture, const char *device, int64_t start, int64_t end,
                        int is_event)
{
    struct recording_row row = {
        .start_ms = start, .end_ms = end, .bytes = BYTES, .is_event = is_event};
    char absolute[512];
    int64_t id;
    FILE *file;

    snprintf(row.device_id, sizeof(row.device_id), "%s", device);
    snprintf(row.path, sizeof(row.path), "%s/day/%lld.mp4", device, (long long)start);
    snprintf(absolute, sizeof(absolute), "%s/%s", fixture->directory, device);
    mkdir(absolute, 0700);
    snprintf(absolute, sizeof(absolute), "%s/%s/day", fixture->directory, device);
    mkdir(absolute, 0700);
    snprintf(absolute, sizeof(absolute), "%s/%s", fixture->directory, row.path);
    file = fopen(absolute, "w");
    assert_non_null(file);
    for (int i = 0; i < BYTES; i++)
        fputc('x', file);
    fclose(file);
    assert_int_equal(recording_store_insert(fixture->db, &row, &id), 0);
    row.id = id;
    assert_int_equal(recording_store_update(fixture->db, &row, 1), 0);
}

static int64_t add_event(struct fixture *fixture, const char *device, int64_t at, int starred)
{
    struct event_row row = {.start_ms = at,
                            .end_ms = at,
                            .clip_start_ms = at - 5000,
                            .clip_end_ms = at + 10000,
                            .starred = starred};
    int64_t id;
    snprintf(row.device_id, sizeof(row.device_id), "%s", device);
    snprintf(row.type, sizeof(row.type), "ring");
    assert_int_equal(event_store_insert(fixture->db, &row, &id), 0);
    return id;
}

/* Whether the segment starting at start (ms) is still indexed and on disk. */
static int has_segment(struct fixture *fixture, const char *device, int64_t start)
{
    char path[256], absolute[512];
    int indexed;
    snprintf(path, sizeof(path), "%s/day/%lld.mp4", device, (long long)start);
    snprintf(absolute, sizeof(absolute), "%s/%s", fixture->directory, path);
    indexed = recording_store_has_path(fixture->db, path);
    assert_int_equal(indexed, access(absolute, F_OK) == 0); /* index and disk agree */
    return indexed;
}

static int64_t count_rows(struct fixture *fixture, const char *sql)
{
    sqlite3_stmt *statement = NULL;
    int64_t count;
    assert_int_equal(sqlite3_prepare_v2(fixture->db, sql, -1, &statement, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(statement), SQLITE_ROW);
    count = sqlite3_column_int64(statement, 0);
    sqlite3_finalize(statement);
    return count;
}

/* Continuous footage older than its days goes; newer stays; an event within
 * its own days keeps what it refers to; so does a starred one for ever. */
static void test_days(void **state)
{
    struct fixture *fixture = *state;
    struct retention_limits limits = {.budget = 0, .min_free = 0};
    struct retention_report report = {0};
    struct recording_settings settings;

    recording_settings_defaults(&settings);
    settings.continuous_days = 2;
    settings.event_days = 5;
    assert_int_equal(recording_settings_save(fixture->db, "front", &settings), 0);

    add_segment(fixture, "front", NOW - 10 * DAY, NOW - 10 * DAY + 60000, 0); /* starred event */
    add_segment(fixture, "front", NOW - 4 * DAY, NOW - 4 * DAY + 60000, 0);   /* recent event */
    add_segment(fixture, "front", NOW - 3 * DAY, NOW - 3 * DAY + 60000, 0);   /* expired */
    add_segment(fixture, "front", NOW - 1 * DAY, NOW - 1 * DAY + 60000, 0);   /* kept */
    add_segment(fixture, "front", NOW - 6 * DAY, NOW - 6 * DAY + 60000,
                1);                                                        /* event clip, expired */
    add_segment(fixture, "back", NOW - 3 * DAY, NOW - 3 * DAY + 60000, 0); /* default 7 days */
    add_event(fixture, "front", NOW - 10 * DAY + 30000, 1);
    add_event(fixture, "front", NOW - 4 * DAY + 30000, 0);
    add_event(fixture, "front", NOW - 6 * DAY + 30000, 0); /* past its 5 days */

    assert_int_equal(
        retention_run(fixture->db, fixture->directory, &limits, RETENTION_CHECK_AGE, NOW, &report),
        0);
    assert_true(has_segment(fixture, "front", NOW - 10 * DAY));
    assert_true(has_segment(fixture, "front", NOW - 4 * DAY));
    assert_false(has_segment(fixture, "front", NOW - 3 * DAY));
    assert_true(has_segment(fixture, "front", NOW - 1 * DAY));
    assert_false(has_segment(fixture, "front", NOW - 6 * DAY));
    assert_true(has_segment(fixture, "back", NOW - 3 * DAY));
    assert_int_equal(report.expired_segments, 2);
    assert_int_equal(report.expired_events, 1);
    assert_int_equal(count_rows(fixture, "SELECT count(*) FROM events"), 2);
    assert_int_equal(count_rows(fixture, "SELECT count(*) FROM pending_deletions"), 0);
    assert_int_equal(count_rows(fixture, "SELECT count(*) FROM retention_cuts"), 0);

    /* Unstarred, the old event's footage and the event itself go. */
    assert_int_equal(count_rows(fixture, "UPDATE events SET starred = 0 RETURNING 1"), 1);
    memset(&report, 0, sizeof(report));
    assert_int_equal(
        retention_run(fixture->db, fixture->directory, &limits, RETENTION_CHECK_AGE, NOW, &report),
        0);
    assert_false(has_segment(fixture, "front", NOW - 10 * DAY));
    assert_int_equal(count_rows(fixture, "SELECT count(*) FROM events"), 1);
}

/* Over the budget: oldest first across doorbells, never starred footage nor
 * an open segment; the cut is recorded per doorbell. */
static void test_budget(void **state)
{
    struct fixture *fixture = *state;
    struct retention_limits limits = {.budget = 4 * BYTES, .min_free = 0};
    struct retention_report report = {0};

    for (int i = 0; i < 8; i++)
        add_segment(fixture, i % 2 ? "back" : "front", NOW - 8 * 60000 + i * 60000,
                    NOW - 7 * 60000 + i * 60000, 0);
    add_event(fixture, "front", NOW - 8 * 60000 + 20000, 1); /* protects segment 0 */

    assert_int_equal(retention_run(fixture->db, fixture->directory, &limits, RETENTION_CHECK_BUDGET,
                                   NOW, &report),
                     0);
    assert_int_equal(report.budget_segments, 4);
    assert_true(has_segment(fixture, "front", NOW - 8 * 60000)); /* starred */
    assert_false(has_segment(fixture, "back", NOW - 7 * 60000)); /* oldest unprotected */
    assert_false(has_segment(fixture, "front", NOW - 6 * 60000));
    assert_false(has_segment(fixture, "back", NOW - 5 * 60000));
    assert_false(has_segment(fixture, "front", NOW - 4 * 60000));
    assert_true(has_segment(fixture, "back", NOW - 3 * 60000));
    assert_int_equal(count_rows(fixture, "SELECT sum(bytes) FROM recordings"), 4 * BYTES);
    assert_int_equal(count_rows(fixture, "SELECT count(*) FROM retention_cuts WHERE reason = "
                                         "'budget'"),
                     2);

    /* Headroom: the next check deletes down to budget - headroom. */
    limits.headroom = 2 * BYTES;
    memset(&report, 0, sizeof(report));
    assert_int_equal(retention_run(fixture->db, fixture->directory, &limits, RETENTION_CHECK_BUDGET,
                                   NOW, &report),
                     0);
    assert_int_equal(report.budget_segments, 2);

    /* Only the starred segment is left besides: the budget cannot be kept. */
    limits.budget = BYTES / 2;
    limits.headroom = 0;
    memset(&report, 0, sizeof(report));
    assert_int_equal(retention_run(fixture->db, fixture->directory, &limits, RETENTION_CHECK_BUDGET,
                                   NOW, &report),
                     0);
    assert_true(report.stuck);
    assert_true(has_segment(fixture, "front", NOW - 8 * 60000));
}

/* Under the free-space floor (the emergency purge): everything that may go
 * goes, oldest first, the cut is recorded, no pending deletion is left. */
static void test_free_space_floor(void **state)
{
    struct fixture *fixture = *state;
    /* A floor no filesystem here can meet: everything unprotected goes. */
    struct retention_limits limits = {.budget = 0, .min_free = 1LL << 60};
    struct retention_report report = {0};

    add_segment(fixture, "front", NOW - 120000, NOW - 60000, 0);
    add_segment(fixture, "front", NOW - 60000, NOW, 0);
    assert_int_equal(
        retention_run(fixture->db, fixture->directory, &limits, RETENTION_CHECK_FREE, NOW, &report),
        0);
    assert_int_equal(report.free_segments, 2);
    assert_true(report.stuck);
    assert_int_equal(count_rows(fixture, "SELECT count(*) FROM recordings"), 0);
    assert_int_equal(count_rows(fixture, "SELECT count(*) FROM retention_cuts WHERE reason = "
                                         "'free_space'"),
                     1);
    assert_int_equal(count_rows(fixture, "SELECT count(*) FROM pending_deletions"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_days, setup, teardown),
        cmocka_unit_test_setup_teardown(test_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_space_floor, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
