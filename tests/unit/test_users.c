/*
 * test_users.c - accounts in SQLite (appliance/accounts/users.c): creation
 * and validation, the one-time first admin (also under a two-thread race on
 * a file database), authentication, listing, deletion, password changes,
 * roles, per-doorbell grants (appliance/accounts/user_devices.c), the talk
 * right (appliance/accounts/user_talk.c) and the permission checks reading
 * the user's current row.
 *
 * UNIT_SOURCES: tests/unit/support/test_database.c
 * UNIT_SOURCES: appliance/accounts/users.c appliance/accounts/sessions.c
 * UNIT_SOURCES: appliance/accounts/user_devices.c appliance/accounts/user_grants.c
 * UNIT_SOURCES: appliance/accounts/user_talk.c
 * UNIT_SOURCES: appliance/accounts/password.c appliance/accounts/random_bytes.c
 * UNIT_SOURCES: appliance/storage/database.c
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
#include <pthread.h>

#include <cmocka.h>

#include "accounts/sessions.h"
#include "accounts/users.h"
#include "storage/database.h"
#include "support/test_database.h"

#define TEST_PASSWORD "a long enough password"

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

static int64_t count_rows(sqlite3 *db, const char *sql, int64_t parameter)
{
    sqlite3_stmt *statement = NULL;
    int64_t count;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &statement, NULL), SQLITE_OK);
    if (sqlite3_bind_parameter_count(statement) > 0)
        assert_int_equal(sqlite3_bind_int64(statement, 1, parameter), SQLITE_OK);
    assert_int_equal(sqlite3_step(statement), SQLITE_ROW);
    count = sqlite3_column_int64(statement, 0);
    sqlite3_finalize(statement);
    return count;
}

static void test_validation(void **state)
{
    sqlite3 *db = *state;
    char error[128];
    char long_name[80];
    int64_t id = 0;

    assert_true(users_username_valid("alice"));
    assert_true(users_username_valid("a.b_c-d@example.org"));
    assert_false(users_username_valid(""));
    assert_false(users_username_valid(NULL));
    assert_false(users_username_valid("bad name"));
    assert_false(users_username_valid("semi;colon"));
    assert_false(users_username_valid("quote'"));
    assert_false(users_username_valid("gr\xc3\xbc\xc3\x9f"));
    memset(long_name, 'x', sizeof(long_name));
    long_name[64] = '\0';
    assert_true(users_username_valid(long_name));
    long_name[64] = 'x';
    long_name[65] = '\0';
    assert_false(users_username_valid(long_name));

    assert_int_equal(
        users_create(db, "bad name", TEST_PASSWORD, "admin", &id, error, sizeof(error)),
        USERS_INVALID_USERNAME);
    assert_true(strlen(error) > 0);
    assert_int_equal(users_create(db, long_name, TEST_PASSWORD, "admin", &id, error, sizeof(error)),
                     USERS_INVALID_USERNAME);
    assert_int_equal(users_create(db, "alice", TEST_PASSWORD, "root", &id, error, sizeof(error)),
                     USERS_INVALID_ROLE);
    assert_int_equal(users_create(db, "alice", TEST_PASSWORD, NULL, &id, error, sizeof(error)),
                     USERS_INVALID_ROLE);
    assert_int_equal(users_create(db, "alice", "short", "admin", &id, error, sizeof(error)),
                     USERS_INVALID_PASSWORD);
    assert_non_null(strstr(error, "10"));
    assert_int_equal(users_create(db, "alice", "abcdefghij\xff", "admin", &id, NULL, 0),
                     USERS_INVALID_PASSWORD);
    assert_int_equal(users_count(db), 0);
}

static void test_create_and_find(void **state)
{
    sqlite3 *db = *state;
    struct user user;
    char error[128] = "";
    int64_t alice = 0;
    int64_t bob = 0;

    assert_int_equal(
        users_create(db, "alice", TEST_PASSWORD, "admin", &alice, error, sizeof(error)), USERS_OK);
    assert_true(alice > 0);
    assert_int_equal(users_create(db, "bob", TEST_PASSWORD, "viewer", &bob, NULL, 0), USERS_OK);
    assert_int_equal(users_create(db, "ALICE", TEST_PASSWORD, "viewer", NULL, error, sizeof(error)),
                     USERS_USERNAME_TAKEN);
    assert_non_null(strstr(error, "taken"));
    assert_int_equal(users_count(db), 2);
    assert_int_equal(users_count_admins(db), 1);

    assert_int_equal(users_find_by_id(db, alice, &user), USERS_OK);
    assert_int_equal(user.id, alice);
    assert_string_equal(user.username, "alice");
    assert_string_equal(user.role, "admin");
    assert_true(users_is_admin(&user));
    assert_int_equal(users_find_by_username(db, "BoB", &user), USERS_OK);
    assert_int_equal(user.id, bob);
    assert_string_equal(user.role, "viewer");
    assert_false(users_is_admin(&user));
    assert_int_equal(users_find_by_id(db, 9999, &user), USERS_NOT_FOUND);
    assert_int_equal(users_find_by_username(db, "carol", &user), USERS_NOT_FOUND);
    assert_int_equal(users_find_by_username(db, "in valid", &user), USERS_NOT_FOUND);

    /* The password is stored only as an argon2id hash. */
    assert_int_equal(count_rows(db,
                                "SELECT count(*) FROM users WHERE password_hash LIKE "
                                "'$argon2id$v=19$m=19456,t=2,p=1$%' AND instr(password_hash, "
                                "'a long enough') = 0",
                                0),
                     2);
}

static void test_first_admin(void **state)
{
    sqlite3 *db = *state;
    char error[128];
    int64_t id = 0;
    struct user user;

    assert_int_equal(
        users_create_first_admin(db, "bad name", TEST_PASSWORD, &id, error, sizeof(error)),
        USERS_INVALID_USERNAME);
    assert_int_equal(users_create_first_admin(db, "root", "short", &id, error, sizeof(error)),
                     USERS_INVALID_PASSWORD);
    assert_int_equal(users_count(db), 0);

    assert_int_equal(users_create_first_admin(db, "root", TEST_PASSWORD, &id, error, sizeof(error)),
                     USERS_OK);
    assert_int_equal(users_find_by_id(db, id, &user), USERS_OK);
    assert_string_equal(user.role, "admin");
    assert_int_equal(
        users_create_first_admin(db, "other", TEST_PASSWORD, &id, error, sizeof(error)),
        USERS_ALREADY_SET_UP);
    assert_int_equal(users_create_first_admin(db, "root", TEST_PASSWORD, NULL, NULL, 0),
                     USERS_ALREADY_SET_UP);
    assert_int_equal(users_count(db), 1);
    assert_int_equal(users_count_admins(db), 1);
    /* No transaction is left open behind us. */
    assert_true(sqlite3_get_autocommit(db));
}

struct race_thread {
    const char *path;
    const char *username;
    pthread_barrier_t *barrier;
    enum users_status status;
};

static void *race_thread_main(void *argument)
{
    struct race_thread *job = argument;
    sqlite3 *db = NULL;
    char error[256];

    job->status = USERS_ERROR;
    if (database_open(job->path, &db, error, sizeof(error)) != 0)
        return NULL;
    pthread_barrier_wait(job->barrier);
    job->status =
        users_create_first_admin(db, job->username, TEST_PASSWORD, NULL, error, sizeof(error));
    database_close(db);
    return NULL;
}

/* Two setup requests at once, each on its own connection: exactly one wins. */
static void test_first_admin_race(void **state)
{
    char directory[] = "/tmp/doorstep-users-XXXXXX";
    char path[128];
    (void)state;

    assert_non_null(mkdtemp(directory));
    for (int round = 0; round < 3; round++) {
        pthread_barrier_t barrier;
        pthread_t threads[2];
        struct race_thread jobs[2] = {
            {path, "first", &barrier, USERS_ERROR},
            {path, "second", &barrier, USERS_ERROR},
        };
        sqlite3 *db = NULL;
        char error[256];
        int wins = 0;
        int set_up = 0;

        snprintf(path, sizeof(path), "%s/race-%d.db", directory, round);
        /* Create the schema first so both threads race only on the insert. */
        assert_int_equal(database_open(path, &db, error, sizeof(error)), 0);
        assert_int_equal(pthread_barrier_init(&barrier, NULL, 2), 0);
        for (int i = 0; i < 2; i++)
            assert_int_equal(pthread_create(&threads[i], NULL, race_thread_main, &jobs[i]), 0);
        for (int i = 0; i < 2; i++) {
            assert_int_equal(pthread_join(threads[i], NULL), 0);
            wins += jobs[i].status == USERS_OK;
            set_up += jobs[i].status == USERS_ALREADY_SET_UP;
        }
        pthread_barrier_destroy(&barrier);
        assert_int_equal(wins, 1);
        assert_int_equal(set_up, 1);
        assert_int_equal(users_count(db), 1);
        assert_int_equal(users_count_admins(db), 1);
        database_close(db);
        for (const char *suffix = ""; suffix != NULL; suffix = suffix[0] == '\0'  ? "-wal"
                                                               : suffix[1] == 'w' ? "-shm"
                                                                                  : NULL) {
            char file[160];
            snprintf(file, sizeof(file), "%s%s", path, suffix);
            unlink(file);
        }
    }
    assert_int_equal(rmdir(directory), 0);
}

/* Thread CPU time since start: barely affected by a busy machine. */
static double elapsed_ms(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return (double)(now.tv_sec - start->tv_sec) * 1000.0 +
           (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

static void test_authenticate(void **state)
{
    sqlite3 *db = *state;
    struct user user;
    struct timespec start;
    double wrong_ms = 1e9;
    double unknown_ms = 1e9;
    int64_t id = 0;

    assert_int_equal(users_create(db, "Alice", TEST_PASSWORD, "viewer", &id, NULL, 0), USERS_OK);

    assert_int_equal(users_authenticate(db, "Alice", TEST_PASSWORD, &user), USERS_OK);
    assert_int_equal(user.id, id);
    assert_string_equal(user.username, "Alice");
    assert_string_equal(user.role, "viewer");
    /* Usernames are case-insensitive, passwords are not. */
    assert_int_equal(users_authenticate(db, "alice", TEST_PASSWORD, &user), USERS_OK);
    assert_int_equal(users_authenticate(db, "alice", "A long enough password", &user),
                     USERS_BAD_CREDENTIALS);
    assert_int_equal(user.id, 0);

    /* Unknown user and wrong password: same code, similar time. */
    for (int i = 0; i < 5; i++) {
        double ms;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start);
        assert_int_equal(users_authenticate(db, "alice", "wrong password!", &user),
                         USERS_BAD_CREDENTIALS);
        ms = elapsed_ms(&start);
        wrong_ms = ms < wrong_ms ? ms : wrong_ms;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start);
        assert_int_equal(users_authenticate(db, "mallory", "wrong password!", &user),
                         USERS_BAD_CREDENTIALS);
        ms = elapsed_ms(&start);
        unknown_ms = ms < unknown_ms ? ms : unknown_ms;
    }
    printf("wrong password %.1f ms, unknown user %.1f ms (thread CPU time)\n", wrong_ms,
           unknown_ms);
    assert_true(unknown_ms > wrong_ms / 2.0);
    assert_true(unknown_ms < wrong_ms * 2.0);

    assert_int_equal(users_authenticate(db, "not a name", "wrong password!", &user),
                     USERS_BAD_CREDENTIALS);
    assert_int_equal(users_authenticate(db, NULL, NULL, &user), USERS_BAD_CREDENTIALS);
    assert_int_equal(users_authenticate(db, "alice", NULL, &user), USERS_BAD_CREDENTIALS);
    assert_int_equal(users_authenticate(db, "alice", "", &user), USERS_BAD_CREDENTIALS);
}

static void test_authenticate_corrupt_hash(void **state)
{
    sqlite3 *db = *state;
    struct user user;

    assert_int_equal(users_create(db, "alice", TEST_PASSWORD, "admin", NULL, NULL, 0), USERS_OK);
    assert_int_equal(
        sqlite3_exec(db, "UPDATE users SET password_hash = 'garbage'", NULL, NULL, NULL),
        SQLITE_OK);
    assert_int_equal(users_authenticate(db, "alice", TEST_PASSWORD, &user), USERS_ERROR);
}

struct list_result {
    int count;
    int stop_after;
    char names[8][USERS_USERNAME_MAX + 1];
};

static int collect_user(const struct user *user, void *context)
{
    struct list_result *result = context;
    snprintf(result->names[result->count], sizeof(result->names[0]), "%s", user->username);
    result->count++;
    return result->count == result->stop_after;
}

static int collect_device(const char *device_id, void *context)
{
    struct list_result *result = context;
    snprintf(result->names[result->count], sizeof(result->names[0]), "%s", device_id);
    result->count++;
    return 0;
}

static void test_list(void **state)
{
    sqlite3 *db = *state;
    struct list_result result;
    int64_t viewer = 0;

    assert_int_equal(users_create(db, "carol", TEST_PASSWORD, "admin", NULL, NULL, 0), USERS_OK);
    assert_int_equal(users_create(db, "alice", TEST_PASSWORD, "viewer", &viewer, NULL, 0),
                     USERS_OK);
    assert_int_equal(users_create(db, "bob", TEST_PASSWORD, "viewer", NULL, NULL, 0), USERS_OK);

    memset(&result, 0, sizeof(result));
    assert_int_equal(users_list(db, collect_user, &result), USERS_OK);
    assert_int_equal(result.count, 3);
    assert_string_equal(result.names[0], "carol"); /* id order */
    assert_string_equal(result.names[1], "alice");
    assert_string_equal(result.names[2], "bob");

    memset(&result, 0, sizeof(result));
    result.stop_after = 1;
    assert_int_equal(users_list(db, collect_user, &result), USERS_OK);
    assert_int_equal(result.count, 1);

    add_device(db, "front");
    add_device(db, "back");
    assert_int_equal(users_grant_device(db, viewer, "front"), USERS_OK);
    assert_int_equal(users_grant_device(db, viewer, "back"), USERS_OK);
    memset(&result, 0, sizeof(result));
    assert_int_equal(users_list_devices(db, viewer, collect_device, &result), USERS_OK);
    assert_int_equal(result.count, 2);
    assert_string_equal(result.names[0], "back");
    assert_string_equal(result.names[1], "front");
}

static void test_delete(void **state)
{
    sqlite3 *db = *state;
    char token[SESSION_TOKEN_SIZE];
    char csrf[SESSION_TOKEN_SIZE];
    struct user user;
    int64_t first = 0;
    int64_t second = 0;
    int64_t viewer = 0;

    assert_int_equal(users_create(db, "first", TEST_PASSWORD, "admin", &first, NULL, 0), USERS_OK);
    assert_int_equal(users_create(db, "viewer", TEST_PASSWORD, "viewer", &viewer, NULL, 0),
                     USERS_OK);

    assert_int_equal(users_delete(db, first), USERS_LAST_ADMIN);
    assert_int_equal(users_find_by_id(db, first, &user), USERS_OK);
    assert_int_equal(users_delete(db, 4242), USERS_NOT_FOUND);

    /* Deleting a viewer also ends their sessions and grants. */
    add_device(db, "front");
    assert_int_equal(users_grant_device(db, viewer, "front"), USERS_OK);
    assert_int_equal(
        session_create(db, viewer, "127.0.0.1", "test", database_now_ms(), token, csrf), 0);
    assert_int_equal(users_delete(db, viewer), USERS_OK);
    assert_int_equal(users_find_by_id(db, viewer, &user), USERS_NOT_FOUND);
    assert_int_equal(count_rows(db, "SELECT count(*) FROM sessions WHERE user_id = ?1", viewer), 0);
    assert_int_equal(count_rows(db, "SELECT count(*) FROM user_devices WHERE user_id = ?1", viewer),
                     0);

    /* With a second admin, the first may go; then the second is the last. */
    assert_int_equal(users_create(db, "second", TEST_PASSWORD, "admin", &second, NULL, 0),
                     USERS_OK);
    assert_int_equal(users_delete(db, first), USERS_OK);
    assert_int_equal(users_delete(db, second), USERS_LAST_ADMIN);
    assert_int_equal(users_count_admins(db), 1);
    assert_true(sqlite3_get_autocommit(db));
}

static void test_set_password(void **state)
{
    sqlite3 *db = *state;
    char token[SESSION_TOKEN_SIZE];
    char csrf[SESSION_TOKEN_SIZE];
    char error[128];
    struct session session;
    struct user user;
    int64_t id = 0;
    int64_t now = database_now_ms();

    assert_int_equal(users_create(db, "alice", TEST_PASSWORD, "admin", &id, NULL, 0), USERS_OK);
    assert_int_equal(session_create(db, id, "127.0.0.1", "test", now, token, csrf), 0);
    assert_int_equal(session_lookup(db, token, now, &session), SESSION_OK);

    assert_int_equal(users_set_password(db, id, "short", error, sizeof(error)),
                     USERS_INVALID_PASSWORD);
    assert_int_equal(users_set_password(db, 999, "another long password", error, sizeof(error)),
                     USERS_NOT_FOUND);
    assert_int_equal(session_lookup(db, token, now, &session), SESSION_OK);

    assert_int_equal(users_set_password(db, id, "another long password", error, sizeof(error)),
                     USERS_OK);
    assert_int_equal(users_authenticate(db, "alice", TEST_PASSWORD, &user), USERS_BAD_CREDENTIALS);
    assert_int_equal(users_authenticate(db, "alice", "another long password", &user), USERS_OK);
    assert_int_equal(session_lookup(db, token, now, &session), SESSION_NOT_FOUND);
    assert_true(sqlite3_get_autocommit(db));
}

static void test_devices(void **state)
{
    sqlite3 *db = *state;
    struct user admin;
    struct user viewer;
    int64_t admin_id = 0;
    int64_t viewer_id = 0;

    assert_int_equal(users_create(db, "admin", TEST_PASSWORD, "admin", &admin_id, NULL, 0),
                     USERS_OK);
    assert_int_equal(users_create(db, "viewer", TEST_PASSWORD, "viewer", &viewer_id, NULL, 0),
                     USERS_OK);
    assert_int_equal(users_find_by_id(db, admin_id, &admin), USERS_OK);
    assert_int_equal(users_find_by_id(db, viewer_id, &viewer), USERS_OK);
    add_device(db, "front");
    add_device(db, "back");

    /* Admins see everything, even ids that do not exist. */
    assert_true(users_can_see_device(db, &admin, "front"));
    assert_false(users_can_see_device(db, &admin, "nonexistent")); /* no such doorbell */

    assert_false(users_can_see_device(db, &viewer, "front"));
    assert_int_equal(users_grant_device(db, viewer_id, "front"), USERS_OK);
    assert_int_equal(users_grant_device(db, viewer_id, "front"), USERS_OK); /* idempotent */
    assert_true(users_can_see_device(db, &viewer, "front"));
    assert_false(users_can_see_device(db, &viewer, "back"));
    assert_false(users_can_see_device(db, &viewer, NULL));
    assert_false(users_can_see_device(db, &viewer, "front' OR '1'='1"));

    assert_int_equal(users_grant_device(db, viewer_id, "nonexistent"), USERS_NOT_FOUND);
    assert_int_equal(users_grant_device(db, 9999, "front"), USERS_NOT_FOUND);

    assert_int_equal(users_revoke_device(db, viewer_id, "front"), USERS_OK);
    assert_false(users_can_see_device(db, &viewer, "front"));
    assert_int_equal(users_revoke_device(db, viewer_id, "front"), USERS_OK);
}

/* The permission check reads the user's current row: a removed admin or a
 * demoted one loses the doorbells at once, whatever copy of the user the
 * caller still holds; a promoted viewer gains them. Roles and grants can be
 * changed; the last admin stays an admin. */
static void test_current_row_and_roles(void **state)
{
    sqlite3 *db = *state;
    struct user first, second, viewer;
    int64_t first_id = 0, second_id = 0, viewer_id = 0;
    const char *both[] = {"front", "back"};
    const char *unknown[] = {"front", "nonexistent"};

    assert_int_equal(users_create(db, "first", TEST_PASSWORD, "admin", &first_id, NULL, 0),
                     USERS_OK);
    assert_int_equal(users_create(db, "second", TEST_PASSWORD, "admin", &second_id, NULL, 0),
                     USERS_OK);
    assert_int_equal(users_create(db, "viewer", TEST_PASSWORD, "viewer", &viewer_id, NULL, 0),
                     USERS_OK);
    assert_int_equal(users_find_by_id(db, first_id, &first), USERS_OK);
    assert_int_equal(users_find_by_id(db, second_id, &second), USERS_OK);
    assert_int_equal(users_find_by_id(db, viewer_id, &viewer), USERS_OK);
    add_device(db, "front");
    add_device(db, "back");

    assert_true(users_can_see_device(db, &second, "front"));
    assert_int_equal(users_delete(db, second_id), USERS_OK);
    assert_false(users_can_see_device(db, &second, "front")); /* the copy says "admin" */

    assert_false(users_can_see_device(db, &viewer, "front"));
    assert_int_equal(users_set_role(db, viewer_id, "admin"), USERS_OK);
    assert_true(users_can_see_device(db, &viewer, "front")); /* the copy says "viewer" */
    assert_int_equal(users_set_role(db, viewer_id, "viewer"), USERS_OK);
    assert_false(users_can_see_device(db, &viewer, "front"));

    assert_int_equal(users_set_role(db, first_id, "viewer"), USERS_LAST_ADMIN);
    assert_int_equal(users_set_role(db, first_id, "root"), USERS_INVALID_ROLE);
    assert_int_equal(users_set_role(db, 9999, "viewer"), USERS_NOT_FOUND);
    assert_true(users_can_see_device(db, &first, "back"));

    assert_int_equal(users_set_devices(db, viewer_id, both, 2), USERS_OK);
    assert_true(users_can_see_device(db, &viewer, "back"));
    assert_int_equal(users_set_devices(db, viewer_id, unknown, 2), USERS_NOT_FOUND);
    assert_true(users_can_see_device(db, &viewer, "back")); /* nothing changed */
    assert_int_equal(users_set_devices(db, viewer_id, NULL, 0), USERS_OK);
    assert_false(users_can_see_device(db, &viewer, "front"));
    assert_false(users_can_see_device(db, &viewer, "back"));
    assert_int_equal(users_set_devices(db, 9999, NULL, 0), USERS_NOT_FOUND);
}

/* users_list_talk_devices callback: append the id to a comma list of 64 bytes. */
static int collect_talk(const char *device_id, void *context)
{
    char *list = context;
    size_t used = strlen(list);
    snprintf(list + used, 64 - used, "%s,", device_id);
    return 0;
}

/* The talk right: only on a viewer's granted doorbells (else
 * USERS_NOT_GRANTED and nothing changes); kept when the grants are replaced
 * by a list that still holds the doorbell; gone with the grant; admins
 * always have it. */
static void test_talk_right(void **state)
{
    sqlite3 *db = *state;
    struct user admin, viewer;
    int64_t admin_id = 0, viewer_id = 0;
    const char *both[] = {"front", "back"};
    const char *front[] = {"front"};
    const char *back[] = {"back"};
    const char *outside[] = {"front", "side"};
    char list[64] = "";

    assert_int_equal(users_create(db, "admin", TEST_PASSWORD, "admin", &admin_id, NULL, 0),
                     USERS_OK);
    assert_int_equal(users_create(db, "viewer", TEST_PASSWORD, "viewer", &viewer_id, NULL, 0),
                     USERS_OK);
    assert_int_equal(users_find_by_id(db, admin_id, &admin), USERS_OK);
    assert_int_equal(users_find_by_id(db, viewer_id, &viewer), USERS_OK);
    add_device(db, "front");
    add_device(db, "back");
    add_device(db, "side");

    assert_true(users_can_talk_to_device(db, &admin, "front"));
    assert_false(users_can_talk_to_device(db, &admin, "nonexistent"));
    assert_int_equal(users_set_devices(db, viewer_id, both, 2), USERS_OK);
    assert_false(users_can_talk_to_device(db, &viewer, "front")); /* seeing is not talking */
    assert_int_equal(users_set_talk_devices(db, viewer_id, front, 1), USERS_OK);
    assert_true(users_can_talk_to_device(db, &viewer, "front"));
    assert_false(users_can_talk_to_device(db, &viewer, "back"));
    assert_int_equal(users_set_talk_devices(db, viewer_id, outside, 2), USERS_NOT_GRANTED);
    assert_true(users_can_talk_to_device(db, &viewer, "front")); /* nothing changed */
    assert_int_equal(users_list_talk_devices(db, viewer_id, collect_talk, list), USERS_OK);
    assert_string_equal(list, "front,");

    assert_int_equal(users_set_devices(db, viewer_id, front, 1), USERS_OK); /* back goes */
    assert_true(users_can_talk_to_device(db, &viewer, "front"));            /* talk stays */
    assert_int_equal(users_set_devices(db, viewer_id, back, 1), USERS_OK);
    assert_false(users_can_talk_to_device(db, &viewer, "front"));
    assert_int_equal(users_set_devices(db, viewer_id, front, 1), USERS_OK);
    assert_false(users_can_talk_to_device(db, &viewer, "front")); /* a new grant: no talk */

    assert_int_equal(users_set_talk_devices(db, viewer_id, front, 1), USERS_OK);
    assert_int_equal(users_set_talk_devices(db, viewer_id, NULL, 0), USERS_OK);
    assert_false(users_can_talk_to_device(db, &viewer, "front"));
    assert_int_equal(users_set_talk_devices(db, 9999, NULL, 0), USERS_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_validation, test_database_setup,
                                        test_database_teardown),
        cmocka_unit_test_setup_teardown(test_create_and_find, test_database_setup,
                                        test_database_teardown),
        cmocka_unit_test_setup_teardown(test_first_admin, test_database_setup,
                                        test_database_teardown),
        cmocka_unit_test(test_first_admin_race),
        cmocka_unit_test_setup_teardown(test_authenticate, test_database_setup,
                                        test_database_teardown),
        cmocka_unit_test_setup_teardown(test_authenticate_corrupt_hash, test_database_setup,
                                        test_database_teardown),
        cmocka_unit_test_setup_teardown(test_list, test_database_setup, test_database_teardown),
        cmocka_unit_test_setup_teardown(test_delete, test_database_setup, test_database_teardown),
        cmocka_unit_test_setup_teardown(test_set_password, test_database_setup,
                                        test_database_teardown),
        cmocka_unit_test_setup_teardown(test_devices, test_database_setup, test_database_teardown),
        cmocka_unit_test_setup_teardown(test_talk_right, test_database_setup,
                                        test_database_teardown),
        cmocka_unit_test_setup_teardown(test_current_row_and_roles, test_database_setup,
                                        test_database_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
