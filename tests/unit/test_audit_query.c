/*
 * test_audit_query.c - reading the audit log back (appliance/accounts/
 * audit_query.c): action lists, filters, the id cursor and the count, CSV
 * quoting and formula neutralising; its retention (audit_retention.c); and
 * the readable device of a User-Agent (session_agent.c).
 *
 * UNIT_SOURCES: tests/unit/support/test_database.c
 * UNIT_SOURCES: appliance/accounts/audit.c appliance/accounts/audit_query.c
 * UNIT_SOURCES: appliance/accounts/audit_retention.c appliance/accounts/session_agent.c
 * UNIT_SOURCES: appliance/storage/database.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "accounts/audit.h"
#include "accounts/audit_query.h"
#include "accounts/audit_retention.h"
#include "accounts/sessions.h"
#include "storage/database.h"
#include "support/test_database.h"

#define DAY_MS (24LL * 60 * 60 * 1000)

static void test_action_lists(void **state)
{
    struct audit_filter filter;
    (void)state;

    memset(&filter, 0, sizeof(filter));
    assert_int_equal(audit_filter_add_actions(&filter, "login,login_failed,live_view"), 0);
    assert_int_equal(filter.action_count, 3);
    assert_string_equal(filter.actions[2], "live_view");
    assert_int_equal(audit_filter_add_actions(&filter, ""), 0); /* nothing to add */
    assert_int_equal(filter.action_count, 3);
    static const char *const bad[] = {"a,,b", "a,", ",a", "Login", "a b", "x'--"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&filter, 0, sizeof(filter));
        assert_int_equal(audit_filter_add_actions(&filter, bad[i]), -1);
    }
}

struct collected {
    int64_t ids[16];
    int count;
};

static int collect(const struct audit_entry *entry, void *data)
{
    struct collected *collected = data;
    collected->ids[collected->count++] = entry->id;
    return 0;
}

/* Insert one entry with a given time (bypassing audit_record's clock). */
static void insert(sqlite3 *db, int64_t at, const char *user, const char *action,
                   const char *target)
{
    char sql[512];
    snprintf(sql, sizeof(sql),
             "INSERT INTO audit_log (at, user_id, username, action, target) "
             "VALUES (%lld, %s, '%s', '%s', '%s')",
             (long long)at, strcmp(user, "alice") == 0 ? "7" : "NULL", user, action, target);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
}

static void test_filters_and_cursor(void **state)
{
    sqlite3 *db = *state;
    struct audit_filter filter;
    struct collected got = {0};
    int64_t last = 0;

    insert(db, 1000, "alice", "login", "");              /* 1 */
    insert(db, 2000, "bob", "login_failed", "");         /* 2 */
    insert(db, 3000, "alice", "live_view", "front");     /* 3 */
    insert(db, 4000, "Alice", "recording_play", "back"); /* 4 */
    insert(db, 5000, "bob", "live_view", "back");        /* 5 */

    memset(&filter, 0, sizeof(filter));
    assert_int_equal(audit_query_list(db, &filter, 2, collect, &got, &last), 2);
    assert_int_equal(got.ids[0], 5);
    assert_int_equal(got.ids[1], 4);
    assert_int_equal(last, 4);
    filter.before_id = last;
    assert_int_equal(audit_query_list(db, &filter, 10, collect, &got, &last), 3);
    assert_int_equal(got.ids[4], 1);
    assert_int_equal(audit_query_count(db, &filter), 5); /* the cursor does not count */

    memset(&filter, 0, sizeof(filter));
    snprintf(filter.user, sizeof(filter.user), "ALICE");
    assert_int_equal(audit_query_count(db, &filter), 3);
    snprintf(filter.user, sizeof(filter.user), "7"); /* a user id */
    assert_int_equal(audit_query_count(db, &filter), 2);

    memset(&filter, 0, sizeof(filter));
    assert_int_equal(audit_filter_add_actions(&filter, "live_view,recording_play"), 0);
    assert_int_equal(audit_query_count(db, &filter), 3);
    snprintf(filter.target, sizeof(filter.target), "back");
    assert_int_equal(audit_query_count(db, &filter), 2);
    filter.from_ms = 4500;
    assert_int_equal(audit_query_count(db, &filter), 1);
    filter.from_ms = 0;
    filter.to_ms = 4000; /* inclusive */
    assert_int_equal(audit_query_count(db, &filter), 1);
}

static void test_csv_line(void **state)
{
    struct audit_entry entry;
    char line[AUDIT_CSV_LINE_MAX];
    (void)state;

    memset(&entry, 0, sizeof(entry));
    entry.id = 42;
    entry.at = 1700000000123LL;
    snprintf(entry.username, sizeof(entry.username), "=HYPERLINK(\"x\")");
    snprintf(entry.action, sizeof(entry.action), "login_failed");
    snprintf(entry.target, sizeof(entry.target), "-1+2");
    snprintf(entry.detail, sizeof(entry.detail), "a,b\nc");
    snprintf(entry.remote_address, sizeof(entry.remote_address), "@home");
    size_t length = audit_csv_line(&entry, line, sizeof(line));
    assert_int_equal(length, strlen(line));
    assert_string_equal(line,
                        "42,2023-11-14T22:13:20.123Z,1700000000123,\"'=HYPERLINK(\"\"x\"\")\","
                        "login_failed,'-1+2,\"a,b\nc\",'@home\r\n");

    /* The longest fields, all quotes: fits the documented bound. */
    memset(entry.username, '"', AUDIT_FIELD_MAX);
    memset(entry.target, '"', AUDIT_FIELD_MAX);
    memset(entry.detail, '"', AUDIT_FIELD_MAX);
    memset(entry.remote_address, '"', AUDIT_FIELD_MAX);
    memset(entry.action, '=', AUDIT_FIELD_MAX);
    assert_true(audit_csv_line(&entry, line, sizeof(line)) >
                4 * 2 * AUDIT_FIELD_MAX + AUDIT_FIELD_MAX);
    assert_int_equal(audit_csv_line(&entry, line, 100), 0); /* too small: nothing */
    assert_string_equal(line, "");
}

static void test_retention(void **state)
{
    sqlite3 *db = *state;
    struct audit_retention retention = {0};
    struct audit_filter filter;
    int64_t now = database_now_ms();

    memset(&filter, 0, sizeof(filter));
    insert(db, now - 400 * DAY_MS, "alice", "login", "");
    insert(db, now - 366 * DAY_MS, "alice", "login", "");
    insert(db, now - 364 * DAY_MS, "alice", "login", "");
    assert_int_equal(audit_retention_purge(db, now, 0), 0); /* 0 keeps everything */
    assert_int_equal(audit_retention_tick(&retention, db, now, 365), 2);
    insert(db, now - 400 * DAY_MS, "alice", "login", "");
    assert_int_equal(audit_retention_tick(&retention, db, now + 1000, 365), 0); /* not due */
    assert_int_equal(audit_retention_tick(&retention, db, now + DAY_MS, 365), 1);
    assert_int_equal(audit_filter_add_actions(&filter, "audit_purge"), 0);
    assert_int_equal(audit_query_count(db, &filter), 2); /* each purge says so */
}

static void test_agents(void **state)
{
    static const struct {
        const char *agent, *expected;
    } cases[] = {
        {"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
         "Firefox on Linux"},
        {"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/126.0 Mobile Safari/537.36",
         "Chrome on Android"},
        {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
         "like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
         "Safari on iOS"},
        {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/126.0 Safari/537.36 Edg/126.0",
         "Edge on Windows"},
        {"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
         "Version/17.5 Safari/605.1.15",
         "Safari on macOS"},
        {"curl/8.5.0", "curl"},
        {"", "Unknown device"},
    };
    char out[SESSION_DEVICE_MAX];
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        session_describe_agent(cases[i].agent, out, sizeof(out));
        assert_string_equal(out, cases[i].expected);
    }
    session_describe_agent(NULL, out, sizeof(out));
    assert_string_equal(out, "Unknown device");
    session_describe_agent("Firefox/1 Linux", out, 8); /* cut, terminated */
    assert_string_equal(out, "Firefox");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_action_lists),
        cmocka_unit_test_setup_teardown(test_filters_and_cursor, test_database_setup,
                                        test_database_teardown),
        cmocka_unit_test(test_csv_line),
        cmocka_unit_test_setup_teardown(test_retention, test_database_setup,
                                        test_database_teardown),
        cmocka_unit_test(test_agents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
