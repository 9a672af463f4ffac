/*
 * test_notify_target.c - notification targets (appliance/notify/notify_target.c):
 * which URLs, topics and secrets pass, the schedule (parse, normalised
 * text, windows past midnight), the type and doorbell filters, and the
 * table round trip on a real SQLite file.
 *
 * UNIT_SOURCES: appliance/notify/notify_target.c appliance/notify/notify_request.c
 * UNIT_SOURCES: appliance/accounts/random_bytes.c appliance/events/event_store.c
 * UNIT_SOURCES: appliance/storage/database.c
 * UNIT_SOURCES: appliance/events/weekly_schedule.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "notify/notify_request.h"
#include "notify/notify_target.h"
#include "storage/database.h"

static void test_urls(void **state)
{
    static const char *const good[] = {
        "http://192.168.1.10",     "https://ntfy.sh",          "http://ntfy.lan:8080/",
        "https://[::1]:8443/ntfy", "http://10.0.0.2:80/a/b-c", "https://a.example.org/sub/path",
    };
    static const char *const bad[] = {
        "ftp://ntfy.sh",
        "https://",
        "http:/x.example",
        "https://user:pw@ntfy.sh/",
        "https://ntfy.sh:0/",
        "https://ntfy.sh:65536/",
        "https://ntfy.sh:80a/",
        "https://nt fy.sh/",
        "https://ntfy.sh/a#frag",
        "https://ntfy.sh/\r\nHost: evil",
        "https://[zz::1]/",
        "https://-bad.example/",
        "https://ntfy.sh/caf\xc3\xa9",
    };
    char error[NOTIFY_ERROR_MAX];
    char long_url[600];

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (notify_check_url(good[i], NOTIFY_KIND_WEBHOOK, error, sizeof(error)) != 0)
            fail_msg("%s refused: %s", good[i], error);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (notify_check_url(bad[i], NOTIFY_KIND_WEBHOOK, error, sizeof(error)) == 0)
            fail_msg("%s accepted", bad[i]);
    /* A query is fine for a webhook, not for an ntfy server. */
    assert_int_equal(
        notify_check_url("https://h.example/in?token=1", NOTIFY_KIND_WEBHOOK, error, sizeof(error)),
        0);
    assert_int_equal(
        notify_check_url("https://h.example/?x=1", NOTIFY_KIND_NTFY, error, sizeof(error)), -1);
    memset(long_url, 'a', sizeof(long_url) - 1);
    long_url[sizeof(long_url) - 1] = '\0';
    memcpy(long_url, "https://", 8);
    assert_int_equal(notify_check_url(long_url, NOTIFY_KIND_WEBHOOK, error, sizeof(error)), -1);
    assert_non_null(strstr(error, "512"));
}

static void test_topics_texts_and_secrets(void **state)
{
    char error[NOTIFY_ERROR_MAX], secret[NOTIFY_SECRET_MAX], other[NOTIFY_SECRET_MAX];
    uint8_t key[NOTIFY_SECRET_KEY_MAX];

    (void)state;
    assert_int_equal(notify_check_topic("front-door_42", error, sizeof(error)), 0);
    assert_int_equal(notify_check_topic("", error, sizeof(error)), -1);
    assert_int_equal(notify_check_topic("a/b", error, sizeof(error)), -1);
    assert_int_equal(notify_check_topic("topic with space", error, sizeof(error)), -1);
    assert_int_equal(notify_check_topic("0123456789012345678901234567890123456789012345678901234567"
                                        "8901234",
                                        error, sizeof(error)),
                     -1);
    assert_int_equal(notify_check_text("name", "Front door", 65, 0, error, sizeof(error)), 0);
    assert_int_equal(notify_check_text("name", "", 65, 0, error, sizeof(error)), -1);
    assert_int_equal(notify_check_text("name", "a\nb", 65, 0, error, sizeof(error)), -1);
    /* The Standard Webhooks example secret is 24 bytes: the minimum. */
    assert_int_equal(
        notify_check_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", error, sizeof(error)), 0);
    assert_int_equal(notify_check_secret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", error, sizeof(error)),
                     -1);
    assert_int_equal(notify_check_secret("whsec_c2hvcnQ=", error, sizeof(error)), -1);
    assert_int_equal(notify_check_secret("whsec_!!!!", error, sizeof(error)), -1);
    /* Generated: whsec_ + 32 random bytes, different every time. */
    assert_int_equal(notify_secret_generate(secret, sizeof(secret)), 0);
    assert_int_equal(notify_secret_generate(other, sizeof(other)), 0);
    assert_int_equal(strncmp(secret, "whsec_", 6), 0);
    assert_int_equal(notify_secret_key(secret, key, sizeof(key)), NOTIFY_SECRET_KEY_NEW);
    assert_string_not_equal(secret, other);
}

static void test_schedules(void **state)
{
    struct weekly_schedule schedule;
    char error[NOTIFY_ERROR_MAX], text[NOTIFY_SCHEDULE_MAX];

    (void)state;
    /* Weeknights 22:00 to 07:00: Monday 23:00 and Tuesday 06:59 (Monday's
     * window) yes; Monday 07:00, Sunday 23:00 and Saturday 03:00 (the
     * window of Friday runs into Saturday morning, so yes) */
    assert_int_equal(weekly_schedule_parse("{\"days\":[5,1,2,3,4,1],\"from\":\"22:00\","
                                           "\"to\":\"07:00\"}",
                                           &schedule, error, sizeof(error)),
                     0);
    weekly_schedule_format(&schedule, text, sizeof(text));
    assert_string_equal(text, "{\"days\":[1,2,3,4,5],\"from\":\"22:00\",\"to\":\"07:00\"}");
    assert_true(weekly_schedule_allows(&schedule, 1, 23 * 60));
    assert_true(weekly_schedule_allows(&schedule, 2, 6 * 60 + 59));
    assert_false(weekly_schedule_allows(&schedule, 1, 7 * 60));
    assert_false(weekly_schedule_allows(&schedule, 1, 12 * 60));
    assert_false(weekly_schedule_allows(&schedule, 0, 23 * 60));
    assert_true(weekly_schedule_allows(&schedule, 6, 3 * 60));
    assert_false(weekly_schedule_allows(&schedule, 1, 3 * 60)); /* Sunday had no window */
    /* Daytime window, weekend only. */
    assert_int_equal(weekly_schedule_parse("{\"days\":[0,6],\"from\":\"08:30\",\"to\":\"17:00\"}",
                                           &schedule, error, sizeof(error)),
                     0);
    assert_true(weekly_schedule_allows(&schedule, 6, 8 * 60 + 30));
    assert_false(weekly_schedule_allows(&schedule, 6, 17 * 60));
    assert_false(weekly_schedule_allows(&schedule, 3, 12 * 60));
    /* from == to: the whole day. */
    assert_int_equal(weekly_schedule_parse("{\"days\":[3],\"from\":\"00:00\",\"to\":\"00:00\"}",
                                           &schedule, error, sizeof(error)),
                     0);
    assert_true(weekly_schedule_allows(&schedule, 3, 0));
    assert_true(weekly_schedule_allows(&schedule, 3, 1439));
    assert_false(weekly_schedule_allows(&schedule, 4, 0));
    /* Empty: always. */
    assert_int_equal(weekly_schedule_parse("", &schedule, error, sizeof(error)), 0);
    assert_true(weekly_schedule_allows(&schedule, 4, 100));
    /* Malformed ones are refused with a sentence. */
    static const char *const bad[] = {
        "{}",
        "[]",
        "{\"days\":[],\"from\":\"08:00\",\"to\":\"09:00\"}",
        "{\"days\":[7],\"from\":\"08:00\",\"to\":\"09:00\"}",
        "{\"days\":[1.5],\"from\":\"08:00\",\"to\":\"09:00\"}",
        "{\"days\":[1],\"from\":\"24:00\",\"to\":\"09:00\"}",
        "{\"days\":[1],\"from\":\"8:00\",\"to\":\"09:00\"}",
        "{\"days\":[1],\"from\":\"08:60\",\"to\":\"09:00\"}",
        "{\"days\":[1],\"from\":\"08:00\"}",
        "{\"days\":[1],\"from\":\"08:00\",\"to\":\"09:00\",\"tz\":\"UTC\"}",
        "not json",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        error[0] = '\0';
        if (weekly_schedule_parse(bad[i], &schedule, error, sizeof(error)) == 0)
            fail_msg("accepted %s", bad[i]);
        assert_non_null(strstr(error, "schedule"));
        assert_false(schedule.set);
    }
}

static void test_filters(void **state)
{
    struct notify_target target;
    char error[NOTIFY_ERROR_MAX];
    /* Wednesday 2026-11-18 12:00:00 UTC. */
    const int64_t wednesday_noon = 1795003200000LL;

    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();
    assert_true(notify_list_allows("", "ring"));
    assert_true(notify_list_allows("ring,motion", "motion"));
    assert_false(notify_list_allows("ring,motion", "mot"));
    assert_false(notify_list_allows("ring,motionx", "motion"));
    assert_true(notify_event_type_known("low_battery"));
    assert_false(notify_event_type_known("fire"));

    memset(&target, 0, sizeof(target));
    assert_true(notify_target_matches(&target, "motion", "door1", wednesday_noon));
    snprintf(target.event_types, sizeof(target.event_types), "ring");
    snprintf(target.device_ids, sizeof(target.device_ids), "door1,door2");
    assert_true(notify_target_matches(&target, "ring", "door2", wednesday_noon));
    assert_false(notify_target_matches(&target, "motion", "door2", wednesday_noon));
    assert_false(notify_target_matches(&target, "ring", "door3", wednesday_noon));
    /* Schedules use the hub's local time (TZ). */
    assert_int_equal(weekly_schedule_parse("{\"days\":[3],\"from\":\"11:00\",\"to\":\"13:00\"}",
                                           &target.schedule, error, sizeof(error)),
                     0);
    assert_true(notify_target_matches(&target, "ring", "door1", wednesday_noon));
    setenv("TZ", "Asia/Tokyo", 1); /* 21:00 there */
    tzset();
    assert_false(notify_target_matches(&target, "ring", "door1", wednesday_noon));
    setenv("TZ", "UTC", 1);
    tzset();
    assert_false(notify_target_matches(&target, "ring", "door1", wednesday_noon + 2 * 3600000));
}

static void test_table_round_trip(void **state)
{
    char directory[] = "/tmp/doorstep-notify-target-XXXXXX", path[128], error[256];
    struct notify_target target, loaded;
    sqlite3 *db = NULL;

    (void)state;
    assert_non_null(mkdtemp(directory));
    snprintf(path, sizeof(path), "%s/doorstep.db", directory);
    assert_int_equal(database_open(path, &db, error, sizeof(error)), 0);

    memset(&target, 0, sizeof(target));
    snprintf(target.name, sizeof(target.name), "Hook");
    target.kind = NOTIFY_KIND_WEBHOOK;
    snprintf(target.url, sizeof(target.url), "https://h.example/in");
    notify_secret_generate(target.secret, sizeof(target.secret));
    snprintf(target.event_types, sizeof(target.event_types), "ring,motion");
    weekly_schedule_parse("{\"days\":[1],\"from\":\"22:00\",\"to\":\"06:00\"}", &target.schedule,
                          NULL, 0);
    target.enabled = 1;
    target.insecure_tls = 1;
    assert_int_equal(notify_target_insert(db, &target), 0);
    assert_true(target.id > 0);
    assert_int_equal(notify_target_load(db, target.id, &loaded), 1);
    assert_string_equal(loaded.name, "Hook");
    assert_int_equal(loaded.kind, NOTIFY_KIND_WEBHOOK);
    assert_string_equal(loaded.secret, target.secret);
    assert_string_equal(loaded.event_types, "ring,motion");
    assert_true(loaded.schedule.set);
    assert_int_equal(loaded.schedule.from_minute, 22 * 60);
    assert_int_equal(loaded.insecure_tls, 1);

    snprintf(target.name, sizeof(target.name), "Renamed");
    target.enabled = 0;
    assert_int_equal(notify_target_update(db, &target), 1);
    assert_int_equal(notify_target_load(db, target.id, &loaded), 1);
    assert_string_equal(loaded.name, "Renamed");
    assert_int_equal(loaded.enabled, 0);
    assert_int_equal(notify_target_delete(db, target.id), 1);
    assert_int_equal(notify_target_delete(db, target.id), 0);
    assert_int_equal(notify_target_load(db, target.id, &loaded), 0);
    database_close(db);
    unlink(path);
    snprintf(path, sizeof(path), "%s/doorstep.db-wal", directory);
    unlink(path);
    snprintf(path, sizeof(path), "%s/doorstep.db-shm", directory);
    unlink(path);
    rmdir(directory);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_topics_texts_and_secrets),
        cmocka_unit_test(test_schedules),
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_table_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
