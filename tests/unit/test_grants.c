/*
 * test_grants.c - the rights of doorbell grants (appliance/accounts/
 * user_grants.c: users_device_rights, users_set_grants, users_change_grant,
 * the rights' names) and one-time invites (appliance/accounts/invites.c:
 * single use, expiry, withdrawal, a refused account leaving the invite
 * usable, only the token's hash stored).
 *
 * UNIT_SOURCES: tests/unit/support/test_database.c
 * UNIT_SOURCES: appliance/accounts/users.c appliance/accounts/sessions.c
 * UNIT_SOURCES: appliance/accounts/user_devices.c appliance/accounts/user_talk.c
 * UNIT_SOURCES: appliance/accounts/user_grants.c appliance/accounts/invites.c
 * UNIT_SOURCES: appliance/accounts/password.c appliance/accounts/random_bytes.c
 * UNIT_SOURCES: appliance/storage/database.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "accounts/invites.h"
#include "accounts/users.h"
#include "storage/database.h"
#include "support/test_database.h"

#define TEST_PASSWORD "a long enough password"

/* Insert a doorbell row with id. */
static void add_device(sqlite3 *db, const char *id)
{
    sqlite3_stmt *statement = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "INSERT INTO devices (id, name, created_at) "
                                        "VALUES (?1, 'Door', 0)",
                                        -1, &statement, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_bind_text(statement, 1, id, -1, SQLITE_STATIC), SQLITE_OK);
    assert_int_equal(sqlite3_step(statement), SQLITE_DONE);
    sqlite3_finalize(statement);
}

/* Make a user of role; returns it. */
static struct user make_user(sqlite3 *db, const char *name, const char *role)
{
    struct user user;
    int64_t id = 0;

    assert_int_equal(users_create(db, name, TEST_PASSWORD, role, &id, NULL, 0), USERS_OK);
    assert_int_equal(users_find_by_id(db, id, &user), USERS_OK);
    return user;
}

static void test_rights(void **state)
{
    sqlite3 *db = *state;
    struct user admin, viewer;
    struct users_grant grants[2];
    unsigned now = 0;
    char text[USERS_RIGHTS_TEXT_MAX];

    admin = make_user(db, "admin", "admin");
    viewer = make_user(db, "viewer", "viewer");
    add_device(db, "front");
    add_device(db, "back");

    assert_int_equal(users_device_rights(db, &admin, "front"), (int)USERS_RIGHTS_ALL);
    assert_int_equal(users_device_rights(db, &admin, "nope"), -1);
    assert_int_equal(users_device_rights(db, &viewer, "front"), -1);

    /* An old-style grant carries live, recordings and export. */
    assert_int_equal(users_grant_device(db, viewer.id, "front"), USERS_OK);
    assert_int_equal(users_device_rights(db, &viewer, "front"), (int)USERS_RIGHTS_VIEW);

    memset(grants, 0, sizeof(grants));
    snprintf(grants[0].device_id, sizeof(grants[0].device_id), "back");
    grants[0].rights = USERS_RIGHT_TALK;
    snprintf(grants[1].device_id, sizeof(grants[1].device_id), "front");
    grants[1].rights = 0; /* no right: no grant */
    assert_int_equal(users_set_grants(db, viewer.id, grants, 2), USERS_OK);
    assert_int_equal(users_device_rights(db, &viewer, "back"), (int)USERS_RIGHT_TALK);
    assert_int_equal(users_device_rights(db, &viewer, "front"), -1);
    assert_false(users_can_see_device(db, &viewer, "front"));
    assert_true(users_can_see_device(db, &viewer, "back"));

    /* An unknown doorbell changes nothing. */
    snprintf(grants[1].device_id, sizeof(grants[1].device_id), "nope");
    grants[1].rights = USERS_RIGHT_LIVE;
    assert_int_equal(users_set_grants(db, viewer.id, grants, 2), USERS_NOT_FOUND);
    assert_int_equal(users_device_rights(db, &viewer, "back"), (int)USERS_RIGHT_TALK);
    assert_true(sqlite3_get_autocommit(db));

    assert_int_equal(users_change_grant(db, viewer.id, "back", USERS_RIGHT_LIVE, 0, &now),
                     USERS_OK);
    assert_int_equal(now, USERS_RIGHT_LIVE | USERS_RIGHT_TALK);
    assert_int_equal(users_change_grant(db, viewer.id, "back", 0, USERS_RIGHT_TALK, &now),
                     USERS_OK);
    assert_int_equal(users_device_rights(db, &viewer, "back"), (int)USERS_RIGHT_LIVE);
    assert_int_equal(users_change_grant(db, viewer.id, "back", 0, USERS_RIGHT_LIVE, &now),
                     USERS_OK);
    assert_int_equal(now, 0u);
    assert_int_equal(users_device_rights(db, &viewer, "back"), -1);
    assert_int_equal(users_change_grant(db, viewer.id, "nope", USERS_RIGHT_LIVE, 0, NULL),
                     USERS_NOT_FOUND);
    assert_int_equal(users_change_grant(db, 9999, "back", USERS_RIGHT_LIVE, 0, NULL),
                     USERS_NOT_FOUND);

    assert_int_equal(users_right_from_name("export"), USERS_RIGHT_EXPORT);
    assert_int_equal(users_right_from_name("everything"), 0u);
    assert_string_equal(users_right_name(USERS_RIGHT_RECORDINGS), "recordings");
    users_rights_text(USERS_RIGHT_LIVE | USERS_RIGHT_TALK, text, sizeof(text));
    assert_string_equal(text, "live,talk");
    users_rights_text(0, text, sizeof(text));
    assert_string_equal(text, "none");
}

static void test_invites(void **state)
{
    sqlite3 *db = *state;
    struct user admin, user;
    struct users_grant grant;
    char token[INVITES_TOKEN_SIZE], second[INVITES_TOKEN_SIZE], error[128];
    enum users_status account;
    int64_t id = 0, second_id = 0, now = 1000000;

    admin = make_user(db, "admin", "admin");
    add_device(db, "front");
    memset(&grant, 0, sizeof(grant));
    snprintf(grant.device_id, sizeof(grant.device_id), "front");
    grant.rights = USERS_RIGHT_LIVE;

    assert_int_equal(invites_create(db, admin.id, "owner", NULL, 0, "", now, token, &id),
                     INVITES_INVALID);
    assert_int_equal(invites_create(db, admin.id, "viewer", &grant, 1, "Grandma", now, token, &id),
                     INVITES_OK);
    assert_true(random_bytes_token_wellformed(token));

    /* A refused account leaves the invite usable. */
    assert_int_equal(invites_accept(db, token, "grandma", "short", now + 1, &user, &account, error,
                                    sizeof(error)),
                     INVITES_ACCOUNT);
    assert_int_equal(account, USERS_INVALID_PASSWORD);
    assert_int_equal(invites_accept(db, token, "admin", TEST_PASSWORD, now + 1, &user, &account,
                                    error, sizeof(error)),
                     INVITES_ACCOUNT);
    assert_int_equal(account, USERS_USERNAME_TAKEN);
    assert_int_equal(invites_accept(db, token, "grandma", TEST_PASSWORD, now + 1, &user, &account,
                                    error, sizeof(error)),
                     INVITES_OK);
    assert_string_equal(user.role, "viewer");
    assert_int_equal(users_device_rights(db, &user, "front"), (int)USERS_RIGHT_LIVE);
    assert_int_equal(invites_accept(db, token, "grandpa", TEST_PASSWORD, now + 2, &user, &account,
                                    error, sizeof(error)),
                     INVITES_USED);
    assert_int_equal(invites_withdraw(db, id, now + 3), INVITES_USED);

    assert_int_equal(invites_create(db, admin.id, "admin", NULL, 0, "", now, second, &second_id),
                     INVITES_OK);
    assert_int_equal(invites_accept(db, second, "late", TEST_PASSWORD, now + INVITES_LIFETIME_MS,
                                    &user, &account, error, sizeof(error)),
                     INVITES_EXPIRED);
    assert_int_equal(invites_withdraw(db, second_id, now + 5), INVITES_OK);
    assert_int_equal(invites_accept(db, second, "late", TEST_PASSWORD, now + 6, &user, &account,
                                    error, sizeof(error)),
                     INVITES_WITHDRAWN);
    assert_int_equal(invites_withdraw(db, 9999, now), INVITES_UNKNOWN);
    assert_int_equal(invites_accept(db, "not a token", "x", TEST_PASSWORD, now, &user, &account,
                                    error, sizeof(error)),
                     INVITES_UNKNOWN);
    memset(second, 'A', RANDOM_BYTES_TOKEN_LENGTH);
    second[RANDOM_BYTES_TOKEN_LENGTH] = '\0';
    assert_int_equal(
        invites_accept(db, second, "x", TEST_PASSWORD, now, &user, &account, error, sizeof(error)),
        INVITES_UNKNOWN);
    assert_int_equal(users_count(db), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rights, test_database_setup, test_database_teardown),
        cmocka_unit_test_setup_teardown(test_invites, test_database_setup, test_database_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
