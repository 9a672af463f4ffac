/*
 * test_audit.c - the audit log (appliance/accounts/audit.c): bound
 * parameters, NULL handling, cut fields, and failing quietly.
 *
 * UNIT_SOURCES: tests/unit/support/test_database.c
 * UNIT_SOURCES: appliance/accounts/audit.c appliance/storage/database.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "accounts/audit.h"
#include "storage/database.h"
#include "support/test_database.h"

static void test_record(void **state)
{
    sqlite3 *db = *state;
    sqlite3_stmt *statement = NULL;
    int64_t before = database_now_ms();

    audit_record(db, 7, "alice", "login", "", "ok", "192.0.2.7");
    audit_record(db, 0, "x'); DROP TABLE users; --", "login_failed", NULL, NULL, NULL);

    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT at, user_id, username, action, target, detail, "
                                        "remote_address FROM audit_log ORDER BY id",
                                        -1, &statement, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(statement), SQLITE_ROW);
    assert_true(sqlite3_column_int64(statement, 0) >= before);
    assert_int_equal(sqlite3_column_int64(statement, 1), 7);
    assert_string_equal((const char *)sqlite3_column_text(statement, 2), "alice");
    assert_string_equal((const char *)sqlite3_column_text(statement, 3), "login");
    assert_string_equal((const char *)sqlite3_column_text(statement, 5), "ok");
    assert_string_equal((const char *)sqlite3_column_text(statement, 6), "192.0.2.7");

    assert_int_equal(sqlite3_step(statement), SQLITE_ROW);
    assert_int_equal(sqlite3_column_type(statement, 1), SQLITE_NULL);
    assert_string_equal((const char *)sqlite3_column_text(statement, 2),
                        "x'); DROP TABLE users; --");
    assert_string_equal((const char *)sqlite3_column_text(statement, 3), "login_failed");
    assert_string_equal((const char *)sqlite3_column_text(statement, 4), "");
    assert_string_equal((const char *)sqlite3_column_text(statement, 5), "");
    assert_string_equal((const char *)sqlite3_column_text(statement, 6), "");
    assert_int_equal(sqlite3_step(statement), SQLITE_DONE);
    sqlite3_finalize(statement);

    /* The users table survived the hostile username. */
    assert_int_equal(sqlite3_exec(db, "SELECT count(*) FROM users", NULL, NULL, NULL), SQLITE_OK);
}

static void test_long_fields_cut(void **state)
{
    sqlite3 *db = *state;
    sqlite3_stmt *statement = NULL;
    char detail[4000];

    memset(detail, 'd', sizeof(detail));
    detail[sizeof(detail) - 1] = '\0';
    audit_record(db, 1, "alice", "device_added", "front", detail, "");
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT length(detail) FROM audit_log", -1, &statement, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(statement), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(statement, 0), AUDIT_FIELD_MAX);
    sqlite3_finalize(statement);
}

/* Without the table, or without a connection, it only logs. */
static void test_fails_quietly(void **state)
{
    sqlite3 *db = NULL;
    (void)state;

    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    audit_record(db, 1, "alice", "login", "", "", "");
    sqlite3_close(db);
    audit_record(NULL, 1, "alice", "login", "", "", "");
    audit_record(NULL, 1, NULL, NULL, NULL, NULL, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_record, test_database_setup, test_database_teardown),
        cmocka_unit_test_setup_teardown(test_long_fields_cut, test_database_setup,
                                        test_database_teardown),
        cmocka_unit_test(test_fails_quietly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
