/*
 * test_notify_outbox.c - the notification outbox (appliance/notify/notify_outbox.c)
 * on a real SQLite file: queuing an event for the targets whose filters
 * match, at most once per target; claiming due rows (one per target at a
 * time); the retry schedule, Retry-After, giving up, 'unknown' after a
 * crash or an unanswered request, the hub stopping mid-attempt, the
 * snapshot making rows due, and the event a job is about.
 *
 * UNIT_SOURCES: appliance/notify/notify_outbox.c appliance/notify/notify_target.c
 * UNIT_SOURCES: appliance/notify/notify_request.c appliance/events/event_store.c
 * UNIT_SOURCES: appliance/accounts/random_bytes.c appliance/storage/database.c
 * UNIT_SOURCES: appliance/events/weekly_schedule.c appliance/events/event_engine.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "events/event_store.h"
#include "notify/notify.h"
#include "notify/notify_outbox.h"
#include "storage/database.h"

#define NOW 1795003200000LL /* Wednesday 2026-11-18 12:00:00 UTC */

struct fixture {
    char directory[64];
    sqlite3 *db;
};

static int setup(void **state)
{
    struct fixture *fixture = calloc(1, sizeof(*fixture));
    char path[128], error[256];

    setenv("TZ", "UTC", 1);
    tzset();
    snprintf(fixture->directory, sizeof(fixture->directory), "/tmp/doorstep-outbox-XXXXXX");
    if (mkdtemp(fixture->directory) == NULL)
        return -1;
    snprintf(path, sizeof(path), "%s/doorstep.db", fixture->directory);
    if (database_open(path, &fixture->db, error, sizeof(error)) != 0)
        return -1;
    sqlite3_exec(fixture->db,
                 "INSERT INTO devices (id, name, created_at) VALUES ('door1', 'Front door', 0), "
                 "('door2', 'Back door', 0)",
                 NULL, NULL, NULL);
    *state = fixture;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fixture = *state;
    char command[128];

    database_close(fixture->db);
    snprintf(command, sizeof(command), "rm -rf '%s'", fixture->directory);
    if (system(command) != 0)
        return -1;
    free(fixture);
    return 0;
}

/* A target of kind with filters; returns its id. */
static int64_t add_target(sqlite3 *db, const char *name, const char *types, const char *devices,
                          const char *schedule, int enabled)
{
    struct notify_target target;

    memset(&target, 0, sizeof(target));
    snprintf(target.name, sizeof(target.name), "%s", name);
    target.kind = NOTIFY_KIND_NTFY;
    snprintf(target.url, sizeof(target.url), "http://127.0.0.1:9");
    snprintf(target.topic, sizeof(target.topic), "t");
    snprintf(target.event_types, sizeof(target.event_types), "%s", types);
    snprintf(target.device_ids, sizeof(target.device_ids), "%s", devices);
    assert_int_equal(weekly_schedule_parse(schedule, &target.schedule, NULL, 0), 0);
    target.enabled = enabled;
    assert_int_equal(notify_target_insert(db, &target), 0);
    return target.id;
}

/* An event of device and type at start_ms; fills *row and returns its id. */
static int64_t add_event(sqlite3 *db, const char *device, const char *type, int64_t start_ms,
                         struct event_row *row)
{
    int64_t id = 0;

    memset(row, 0, sizeof(*row));
    snprintf(row->device_id, sizeof(row->device_id), "%s", device);
    snprintf(row->type, sizeof(row->type), "%s", type);
    row->start_ms = row->end_ms = start_ms;
    row->clip_start_ms = start_ms - 5000;
    row->clip_end_ms = start_ms + 10000;
    snprintf(row->boxes, sizeof(row->boxes), "[]");
    assert_int_equal(event_store_insert(db, row, &id), 0);
    row->id = id;
    return id;
}

/* How many outbox rows of event there are for target. */
static int count_rows(sqlite3 *db, int64_t event_id, int64_t target_id)
{
    sqlite3_stmt *statement = NULL;
    int count;

    sqlite3_prepare_v2(db,
                       "SELECT count(*) FROM notification_outbox WHERE event_id = ? AND "
                       "target_id = ?",
                       -1, &statement, NULL);
    sqlite3_bind_int64(statement, 1, event_id);
    sqlite3_bind_int64(statement, 2, target_id);
    sqlite3_step(statement);
    count = sqlite3_column_int(statement, 0);
    sqlite3_finalize(statement);
    return count;
}

/* notify_outbox_list callback: keep the newest row. */
static int keep_first(const struct notify_delivery *delivery, void *context)
{
    *(struct notify_delivery *)context = *delivery;
    return 1;
}

/* The row of one target (the newest). */
static struct notify_delivery row_of(sqlite3 *db, int64_t target_id)
{
    struct notify_delivery delivery;
    memset(&delivery, 0, sizeof(delivery));
    notify_outbox_list(db, target_id, NULL, 1, keep_first, &delivery);
    return delivery;
}

static void test_enqueue_follows_the_filters(void **state)
{
    struct fixture *fixture = *state;
    sqlite3 *db = fixture->db;
    struct event_row ring, motion, night;
    int64_t all = add_target(db, "all", "", "", "", 1);
    int64_t rings = add_target(db, "rings", "ring", "", "", 1);
    int64_t door2 = add_target(db, "door2", "", "door2", "", 1);
    int64_t nights = add_target(db, "nights", "", "",
                                "{\"days\":[3],\"from\":\"22:00\","
                                "\"to\":\"06:00\"}",
                                1);
    int64_t off = add_target(db, "off", "", "", "", 0);

    add_event(db, "door1", "ring", NOW, &ring);
    add_event(db, "door1", "motion", NOW, &motion);
    add_event(db, "door2", "motion", NOW + 11 * 3600000LL, &night); /* 23:00 */
    assert_int_equal(notify_enqueue_event(db, &ring, NOW + 1000), 0);
    assert_int_equal(notify_enqueue_event(db, &motion, NOW), 0);
    assert_int_equal(notify_enqueue_event(db, &night, NOW), 0);
    /* Twice for the same event: still one row per target. */
    assert_int_equal(notify_enqueue_event(db, &ring, NOW + 1000), 0);

    assert_int_equal(count_rows(db, ring.id, all), 1);
    assert_int_equal(count_rows(db, ring.id, rings), 1);
    assert_int_equal(count_rows(db, ring.id, door2), 0);
    assert_int_equal(count_rows(db, ring.id, nights), 0);
    assert_int_equal(count_rows(db, ring.id, off), 0);
    assert_int_equal(count_rows(db, motion.id, rings), 0);
    assert_int_equal(count_rows(db, night.id, door2), 1);
    assert_int_equal(count_rows(db, night.id, nights), 1);
    assert_int_equal(count_rows(db, night.id, all), 1);
}

static void test_claim_and_retry_schedule(void **state)
{
    struct fixture *fixture = *state;
    sqlite3 *db = fixture->db;
    struct event_row ring;
    struct notify_job job, other;
    struct notify_result result = {
        .outcome = NOTIFY_OUTCOME_RETRY, .status = 500, .retry_after_ms = -1};
    struct notify_delivery row;
    int64_t next = 0, target = add_target(db, "t", "", "", "", 1);
    char state_name[NOTIFY_STATE_MAX];

    add_event(db, "door1", "ring", NOW, &ring);
    assert_int_equal(notify_enqueue_event(db, &ring, NOW + 1000), 0);
    /* Not due before the snapshot has had its second. */
    assert_int_equal(notify_outbox_claim(db, NOW, NULL, 0, &job), 0);
    assert_int_equal(notify_outbox_next_due(db, &next), 1);
    assert_int_equal(next, NOW + 1000);
    /* The snapshot arrived: due now. */
    assert_int_equal(notify_outbox_make_due(db, ring.id, NOW + 10), 1);
    /* A busy target's rows wait. */
    assert_int_equal(notify_outbox_claim(db, NOW + 10, &target, 1, &job), 0);
    assert_int_equal(notify_outbox_claim(db, NOW + 10, NULL, 0, &job), 1);
    assert_int_equal(job.event_id, ring.id);
    assert_int_equal(job.target_id, target);
    assert_int_equal(job.attempts, 1);
    assert_int_equal(strncmp(job.message_id, "msg_", 4), 0);
    assert_string_equal(row_of(db, target).state, "sending");
    assert_int_equal(notify_outbox_claim(db, NOW + 10, NULL, 0, &other), 0);

    /* 500: again after 2 s (no jitter), then 4 s; Retry-After wins. */
    snprintf(result.error, sizeof(result.error), "HTTP 500");
    assert_int_equal(notify_outbox_finish(db, &job, &result, NOW + 100, 0, state_name), 0);
    assert_string_equal(state_name, "pending");
    row = row_of(db, target);
    assert_int_equal(row.next_attempt_ms, NOW + 2100);
    assert_int_equal(row.last_status, 500);
    assert_string_equal(row.last_error, "HTTP 500");
    assert_int_equal(notify_outbox_claim(db, NOW + 2099, NULL, 0, &job), 0);
    assert_int_equal(notify_outbox_claim(db, NOW + 2100, NULL, 0, &job), 1);
    assert_int_equal(job.attempts, 2);
    result.status = 429;
    result.retry_after_ms = 30000;
    notify_outbox_finish(db, &job, &result, NOW + 3000, 0, state_name);
    assert_int_equal(row_of(db, target).next_attempt_ms, NOW + 33000);
    assert_int_equal(row_of(db, target).attempts, 2);

    /* Delivered. */
    assert_int_equal(notify_outbox_claim(db, NOW + 33000, NULL, 0, &job), 1);
    memset(&result, 0, sizeof(result));
    result.outcome = NOTIFY_OUTCOME_DELIVERED;
    result.status = 200;
    notify_outbox_finish(db, &job, &result, NOW + 33050, 0, state_name);
    row = row_of(db, target);
    assert_string_equal(row.state, "delivered");
    assert_int_equal(row.attempts, 3);
    assert_int_equal(row.delivered_ms, NOW + 33050);
    assert_string_equal(row.last_error, "");
    assert_int_equal(notify_outbox_next_due(db, &next), 0);
}

static void test_giving_up_and_unknown(void **state)
{
    struct fixture *fixture = *state;
    sqlite3 *db = fixture->db;
    struct event_row ring;
    struct notify_job job;
    struct notify_result result = {.outcome = NOTIFY_OUTCOME_RETRY, .retry_after_ms = -1};
    int64_t now = NOW, target = add_target(db, "t", "", "", "", 1);
    int64_t second = add_target(db, "u", "", "", "", 1);
    char state_name[NOTIFY_STATE_MAX];

    add_event(db, "door1", "ring", NOW, &ring);
    notify_enqueue_event(db, &ring, NOW);
    snprintf(result.error, sizeof(result.error), "cannot connect");
    for (int attempt = 1; attempt <= NOTIFY_MAX_ATTEMPTS; attempt++) {
        assert_int_equal(notify_outbox_claim(db, now, &second, 1, &job), 1);
        assert_int_equal(job.attempts, attempt);
        notify_outbox_finish(db, &job, &result, now, 0, state_name);
        now += NOTIFY_BACKOFF_MAX_MS;
    }
    assert_string_equal(state_name, "failed");
    assert_string_equal(row_of(db, target).last_error,
                        "cannot connect (gave up after 10 attempts)");
    assert_int_equal(notify_outbox_claim(db, now, &second, 1, &job), 0);

    /* Sent in full, no answer: unknown, never again. */
    assert_int_equal(notify_outbox_claim(db, now, NULL, 0, &job), 1);
    assert_int_equal(job.target_id, second);
    result.outcome = NOTIFY_OUTCOME_UNKNOWN;
    notify_outbox_finish(db, &job, &result, now, 0, state_name);
    assert_string_equal(state_name, "unknown");
    assert_int_equal(notify_outbox_claim(db, now + NOTIFY_BACKOFF_MAX_MS, NULL, 0, &job), 0);
}

static void test_crash_and_stop(void **state)
{
    struct fixture *fixture = *state;
    sqlite3 *db = fixture->db;
    struct event_row ring;
    struct notify_job job;
    int64_t a = add_target(db, "a", "", "", "", 1), b = add_target(db, "b", "", "", "", 1);
    int64_t c = add_target(db, "c", "", "", "", 1);
    struct notify_delivery row;

    add_event(db, "door1", "ring", NOW, &ring);
    notify_enqueue_event(db, &ring, NOW);
    /* Three attempts under way when the hub stops: one never reached the
     * network, one did; the third is still 'sending' when the hub dies. */
    assert_int_equal(notify_outbox_claim(db, NOW, NULL, 0, &job), 1);
    assert_int_equal(job.target_id, a);
    assert_int_equal(notify_outbox_abandon(db, &job, 0), 0);
    row = row_of(db, a);
    assert_string_equal(row.state, "pending");
    assert_int_equal(row.attempts, 0);
    int64_t busy[] = {a};
    assert_int_equal(notify_outbox_claim(db, NOW, busy, 1, &job), 1);
    assert_int_equal(job.target_id, b);
    assert_int_equal(notify_outbox_abandon(db, &job, 1), 0);
    assert_string_equal(row_of(db, b).state, "unknown");
    int64_t busy2[] = {a, b};
    assert_int_equal(notify_outbox_claim(db, NOW, busy2, 2, &job), 1);
    assert_int_equal(job.target_id, c);
    /* Start-up after the crash. */
    assert_int_equal(notify_outbox_recover(db), 1);
    row = row_of(db, c);
    assert_string_equal(row.state, "unknown");
    assert_non_null(strstr(row.last_error, "not resent"));
    assert_int_equal(notify_outbox_recover(db), 0);
    /* Only a's row is left to send (due again at once). */
    assert_int_equal(notify_outbox_claim(db, database_now_ms(), NULL, 0, &job), 1);
    assert_int_equal(job.target_id, a);
    assert_int_equal(notify_outbox_claim(db, database_now_ms(), NULL, 0, &job), 0);
}

static void test_disabled_targets_and_tests(void **state)
{
    struct fixture *fixture = *state;
    sqlite3 *db = fixture->db;
    struct event_row ring;
    struct notify_job job;
    struct notify_target target;
    int64_t id = add_target(db, "t", "", "", "", 1), outbox_id = 0;

    add_event(db, "door1", "ring", NOW, &ring);
    notify_enqueue_event(db, &ring, NOW);
    notify_target_load(db, id, &target);
    target.enabled = 0;
    notify_target_update(db, &target);
    /* The event's row fails; a test message still goes out. */
    assert_int_equal(notify_enqueue_test(db, id, &outbox_id), 1);
    assert_int_equal(notify_outbox_claim(db, database_now_ms(), NULL, 0, &job), 1);
    assert_int_equal(job.outbox_id, outbox_id);
    assert_int_equal(job.event_id, 0);
    assert_int_equal(count_rows(db, ring.id, id), 1);
    struct notify_delivery rows[2];
    memset(rows, 0, sizeof(rows));
    assert_int_equal(notify_outbox_list(db, id, "failed", 10, keep_first, &rows[0]), 0);
    assert_int_equal(rows[0].event_id, ring.id);
    assert_non_null(strstr(rows[0].last_error, "disabled"));
    assert_int_equal(notify_enqueue_test(db, id + 100, &outbox_id), 0);
    /* Deleting the target takes its rows along. */
    assert_int_equal(notify_target_delete(db, id), 1);
    assert_int_equal(count_rows(db, ring.id, id), 0);
}

static void test_event_info(void **state)
{
    struct fixture *fixture = *state;
    sqlite3 *db = fixture->db;
    struct event_row ring;
    struct notify_event_info info;
    const uint8_t jpeg[] = {0xFF, 0xD8, 0xFF, 0xD9};
    uint8_t *snapshot = NULL;

    add_event(db, "door2", "ring", NOW, &ring);
    assert_int_equal(notify_outbox_event_info(db, ring.id, &info, &snapshot), 1);
    assert_string_equal(info.device_name, "Back door");
    assert_string_equal(info.type, "ring");
    assert_null(info.snapshot);
    assert_int_equal(event_store_set_snapshot(db, ring.id, jpeg, sizeof(jpeg)), 0);
    assert_int_equal(notify_outbox_event_info(db, ring.id, &info, &snapshot), 1);
    assert_non_null(snapshot);
    assert_ptr_equal(info.snapshot, snapshot);
    assert_int_equal(info.snapshot_size, sizeof(jpeg));
    assert_memory_equal(snapshot, jpeg, sizeof(jpeg));
    free(snapshot);
    assert_int_equal(notify_outbox_event_info(db, ring.id + 1000, &info, &snapshot), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_enqueue_follows_the_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claim_and_retry_schedule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_giving_up_and_unknown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_and_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disabled_targets_and_tests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_info, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
