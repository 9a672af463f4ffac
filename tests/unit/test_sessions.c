/*
 * test_sessions.c - browser sessions (appliance/accounts/sessions.c): token
 * lookup, no plaintext token in the database, idle and absolute expiry with
 * injected time, the once-a-minute touch, deletion, purging, the per-user
 * cap and CSRF comparison; one's list of sessions and ending one by its id
 * or all others.
 *
 * UNIT_SOURCES: appliance/accounts/sessions.c appliance/accounts/users.c
 * UNIT_SOURCES: appliance/accounts/user_devices.c appliance/accounts/user_grants.c
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
#include <unistd.h>

#include <cmocka.h>
#include <mbedtls/sha256.h>

#include "accounts/sessions.h"
#include "accounts/users.h"
#include "storage/database.h"

#define DAY_MS (24LL * 60 * 60 * 1000)
#define T0     1763700000000LL

struct fixture {
    sqlite3 *db;
    int64_t user_id;
    int64_t other_id;
};

static int setup_fixture(void **state)
{
    struct fixture *fixture = calloc(1, sizeof(*fixture));
    char error[256];

    if (fixture == NULL || database_open(":memory:", &fixture->db, error, sizeof(error)) != 0)
        return -1;
    if (users_create(fixture->db, "alice", "a long enough password", "viewer", &fixture->user_id,
                     error, sizeof(error)) != USERS_OK ||
        users_create(fixture->db, "bob", "a long enough password", "admin", &fixture->other_id,
                     error, sizeof(error)) != USERS_OK)
        return -1;
    *state = fixture;
    return 0;
}

static int teardown_fixture(void **state)
{
    struct fixture *fixture = *state;
    database_close(fixture->db);
    free(fixture);
    return 0;
}

static int64_t session_count(sqlite3 *db)
{
    sqlite3_stmt *statement = NULL;
    int64_t count;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM sessions", -1, &statement, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(statement), SQLITE_ROW);
    count = sqlite3_column_int64(statement, 0);
    sqlite3_finalize(statement);
    return count;
}

/* last_seen_at and expires_at of the only session of the fixture's user. */
static void session_times(sqlite3 *db, int64_t *last_seen_at, int64_t *expires_at)
{
    sqlite3_stmt *statement = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT last_seen_at, expires_at FROM sessions", -1,
                                        &statement, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(statement), SQLITE_ROW);
    *last_seen_at = sqlite3_column_int64(statement, 0);
    *expires_at = sqlite3_column_int64(statement, 1);
    sqlite3_finalize(statement);
}

static void test_create_and_lookup(void **state)
{
    struct fixture *fixture = *state;
    char token[SESSION_TOKEN_SIZE];
    char csrf[SESSION_TOKEN_SIZE];
    struct session session;

    assert_int_equal(
        session_create(fixture->db, fixture->user_id, "192.0.2.7", "Firefox", T0, token, csrf), 0);
    assert_int_equal(strlen(token), 43);
    assert_int_equal(strlen(csrf), 43);
    assert_string_not_equal(token, csrf);
    assert_int_equal(
        strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 43);

    assert_int_equal(session_lookup(fixture->db, token, T0 + 1000, &session), SESSION_OK);
    assert_int_equal(session.user.id, fixture->user_id);
    assert_string_equal(session.user.username, "alice");
    assert_string_equal(session.user.role, "viewer");
    assert_string_equal(session.csrf_token, csrf);
    assert_int_equal(session.created_at, T0);
    assert_int_equal(session.expires_at, T0 + SESSION_IDLE_TIMEOUT_MS);

    assert_true(session_csrf_matches(&session, csrf));
    assert_false(session_csrf_matches(&session, token));
    assert_false(session_csrf_matches(&session, NULL));
    assert_false(session_csrf_matches(&session, ""));

    /* Sessions of unknown users cannot be created. */
    assert_int_equal(session_create(fixture->db, 4242, NULL, NULL, T0, token, csrf), -1);
    assert_string_equal(token, "");
}

static void test_malformed_tokens(void **state)
{
    struct fixture *fixture = *state;
    char token[SESSION_TOKEN_SIZE];
    char csrf[SESSION_TOKEN_SIZE];
    char altered[SESSION_TOKEN_SIZE + 2];
    struct session session;

    assert_int_equal(session_create(fixture->db, fixture->user_id, "", "", T0, token, csrf), 0);
    assert_int_equal(session_lookup(fixture->db, NULL, T0, &session), SESSION_NOT_FOUND);
    assert_int_equal(session_lookup(fixture->db, "", T0, &session), SESSION_NOT_FOUND);
    assert_int_equal(session_lookup(fixture->db, "abc", T0, &session), SESSION_NOT_FOUND);
    assert_int_equal(session_lookup(fixture->db, csrf, T0, &session), SESSION_NOT_FOUND);

    snprintf(altered, sizeof(altered), "%sA", token); /* 44 characters */
    assert_int_equal(session_lookup(fixture->db, altered, T0, &session), SESSION_NOT_FOUND);
    snprintf(altered, sizeof(altered), "%s", token);
    altered[42] = '\0'; /* 42 characters */
    assert_int_equal(session_lookup(fixture->db, altered, T0, &session), SESSION_NOT_FOUND);
    snprintf(altered, sizeof(altered), "%s", token);
    altered[5] = '=';
    assert_int_equal(session_lookup(fixture->db, altered, T0, &session), SESSION_NOT_FOUND);
    snprintf(altered, sizeof(altered), "%s", token);
    altered[5] = altered[5] == 'A' ? 'B' : 'A'; /* well-formed, unknown */
    assert_int_equal(session_lookup(fixture->db, altered, T0, &session), SESSION_NOT_FOUND);
    assert_int_equal(session.user.id, 0);

    assert_int_equal(session_lookup(fixture->db, token, T0, &session), SESSION_OK);
}

/* Does the byte string needle occur in the file at path? */
static int file_contains(const char *path, const char *needle)
{
    FILE *file = fopen(path, "rb");
    char *data;
    long size;
    int found;

    if (file == NULL)
        return 0;
    assert_int_equal(fseek(file, 0, SEEK_END), 0);
    size = ftell(file);
    assert_true(size >= 0);
    rewind(file);
    data = malloc((size_t)size + 1);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)size, file), (size_t)size);
    fclose(file);
    found = memmem(data, (size_t)size, needle, strlen(needle)) != NULL;
    free(data);
    return found;
}

/* Only SHA-256(token) is stored: neither the table nor the file holds it. */
static void test_no_plaintext_token(void **state)
{
    char directory[] = "/tmp/doorstep-sessions-XXXXXX";
    char path[128];
    char wal[160];
    char token[SESSION_TOKEN_SIZE];
    char csrf[SESSION_TOKEN_SIZE];
    unsigned char expected[32];
    char error[256];
    sqlite3 *db = NULL;
    sqlite3_stmt *statement = NULL;
    int64_t user_id = 0;
    struct session session;
    (void)state;

    assert_non_null(mkdtemp(directory));
    snprintf(path, sizeof(path), "%s/hub.db", directory);
    snprintf(wal, sizeof(wal), "%s-wal", path);
    assert_int_equal(database_open(path, &db, error, sizeof(error)), 0);
    assert_int_equal(
        users_create(db, "alice", "a long enough password", "admin", &user_id, NULL, 0), USERS_OK);
    assert_int_equal(session_create(db, user_id, "192.0.2.7", "UA", T0, token, csrf), 0);

    assert_int_equal(mbedtls_sha256_ret((const unsigned char *)token, strlen(token), expected, 0),
                     0);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT token_hash, typeof(token_hash) FROM sessions",
                                        -1, &statement, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(statement), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(statement, 1), "blob");
    assert_int_equal(sqlite3_column_bytes(statement, 0), 32);
    assert_memory_equal(sqlite3_column_blob(statement, 0), expected, 32);
    sqlite3_finalize(statement);

    assert_int_equal(sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_FULL, NULL, NULL),
                     SQLITE_OK);
    assert_false(file_contains(path, token));
    assert_false(file_contains(wal, token));
    assert_true(file_contains(path, csrf) || file_contains(wal, csrf)); /* sanity of the scan */

    assert_int_equal(session_lookup(db, token, T0, &session), SESSION_OK);
    database_close(db);
    unlink(path);
    unlink(wal);
    snprintf(wal, sizeof(wal), "%s-shm", path);
    unlink(wal);
    assert_int_equal(rmdir(directory), 0);
}

static void test_idle_expiry(void **state)
{
    struct fixture *fixture = *state;
    char token[SESSION_TOKEN_SIZE];
    char csrf[SESSION_TOKEN_SIZE];
    struct session session;

    assert_int_equal(session_create(fixture->db, fixture->user_id, "", "", T0, token, csrf), 0);
    assert_int_equal(session_lookup(fixture->db, token, T0 + SESSION_IDLE_TIMEOUT_MS - 1, &session),
                     SESSION_OK);
    /* That use slid the idle expiry forward. */
    assert_int_equal(session.expires_at, T0 + 2 * SESSION_IDLE_TIMEOUT_MS - 1);
    assert_int_equal(
        session_lookup(fixture->db, token, T0 + 2 * SESSION_IDLE_TIMEOUT_MS - 1, &session),
        SESSION_NOT_FOUND);
    /* The expired row is gone, not just refused. */
    assert_int_equal(session_count(fixture->db), 0);
    assert_int_equal(session_lookup(fixture->db, token, T0, &session), SESSION_NOT_FOUND);
}

static void test_absolute_expiry(void **state)
{
    struct fixture *fixture = *state;
    char token[SESSION_TOKEN_SIZE];
    char csrf[SESSION_TOKEN_SIZE];
    struct session session;
    int64_t now = T0;

    assert_int_equal(session_create(fixture->db, fixture->user_id, "", "", T0, token, csrf), 0);
    /* Used every 6 days, the session still ends 30 days after login. */
    while (now + 6 * DAY_MS < T0 + SESSION_ABSOLUTE_LIFETIME_MS) {
        now += 6 * DAY_MS;
        assert_int_equal(session_lookup(fixture->db, token, now, &session), SESSION_OK);
        assert_true(session.expires_at <= T0 + SESSION_ABSOLUTE_LIFETIME_MS);
    }
    assert_int_equal(session.expires_at, T0 + SESSION_ABSOLUTE_LIFETIME_MS);
    assert_int_equal(
        session_lookup(fixture->db, token, T0 + SESSION_ABSOLUTE_LIFETIME_MS - 1, &session),
        SESSION_OK);
    assert_int_equal(
        session_lookup(fixture->db, token, T0 + SESSION_ABSOLUTE_LIFETIME_MS, &session),
        SESSION_NOT_FOUND);
}

/* last_seen_at is written at most once a minute. */
static void test_touch_interval(void **state)
{
    struct fixture *fixture = *state;
    char token[SESSION_TOKEN_SIZE];
    char csrf[SESSION_TOKEN_SIZE];
    struct session session;
    int64_t last_seen_at;
    int64_t expires_at;

    assert_int_equal(session_create(fixture->db, fixture->user_id, "", "", T0, token, csrf), 0);
    assert_int_equal(session_lookup(fixture->db, token, T0 + 30000, &session), SESSION_OK);
    session_times(fixture->db, &last_seen_at, &expires_at);
    assert_int_equal(last_seen_at, T0);
    assert_int_equal(expires_at, T0 + SESSION_IDLE_TIMEOUT_MS);
    assert_int_equal(session.expires_at, T0 + SESSION_IDLE_TIMEOUT_MS);

    assert_int_equal(session_lookup(fixture->db, token, T0 + 60000, &session), SESSION_OK);
    session_times(fixture->db, &last_seen_at, &expires_at);
    assert_int_equal(last_seen_at, T0 + 60000);
    assert_int_equal(expires_at, T0 + 60000 + SESSION_IDLE_TIMEOUT_MS);
    assert_int_equal(session.expires_at, expires_at);

    assert_int_equal(session_lookup(fixture->db, token, T0 + 119999, &session), SESSION_OK);
    session_times(fixture->db, &last_seen_at, &expires_at);
    assert_int_equal(last_seen_at, T0 + 60000);
}

static void test_delete_and_purge(void **state)
{
    struct fixture *fixture = *state;
    char tokens[4][SESSION_TOKEN_SIZE];
    char csrf[SESSION_TOKEN_SIZE];
    struct session session;

    for (int i = 0; i < 3; i++)
        assert_int_equal(
            session_create(fixture->db, fixture->user_id, "", "", T0 + i, tokens[i], csrf), 0);
    assert_int_equal(session_create(fixture->db, fixture->other_id, "", "", T0, tokens[3], csrf),
                     0);
    assert_int_equal(session_count(fixture->db), 4);

    /* Logout ends one session; unknown or malformed tokens are no error. */
    assert_int_equal(session_delete(fixture->db, tokens[0]), 0);
    assert_int_equal(session_lookup(fixture->db, tokens[0], T0, &session), SESSION_NOT_FOUND);
    assert_int_equal(session_lookup(fixture->db, tokens[1], T0, &session), SESSION_OK);
    assert_int_equal(session_delete(fixture->db, tokens[0]), 0);
    assert_int_equal(session_delete(fixture->db, "garbage"), 0);
    assert_int_equal(session_delete(fixture->db, NULL), 0);

    assert_int_equal(session_delete_for_user(fixture->db, fixture->user_id), 0);
    assert_int_equal(session_lookup(fixture->db, tokens[1], T0, &session), SESSION_NOT_FOUND);
    assert_int_equal(session_lookup(fixture->db, tokens[2], T0, &session), SESSION_NOT_FOUND);
    assert_int_equal(session_lookup(fixture->db, tokens[3], T0, &session), SESSION_OK);

    /* Purging removes only what expired. */
    assert_int_equal(
        session_create(fixture->db, fixture->user_id, "", "", T0 + DAY_MS, tokens[0], csrf), 0);
    assert_int_equal(session_purge_expired(fixture->db, T0 + SESSION_IDLE_TIMEOUT_MS - 1), 0);
    assert_int_equal(session_purge_expired(fixture->db, T0 + SESSION_IDLE_TIMEOUT_MS), 1);
    assert_int_equal(session_count(fixture->db), 1);
    assert_int_equal(session_lookup(fixture->db, tokens[0], T0 + DAY_MS, &session), SESSION_OK);

    /* Deleting the user deletes their sessions. */
    assert_int_equal(users_delete(fixture->db, fixture->user_id), USERS_OK);
    assert_int_equal(session_lookup(fixture->db, tokens[0], T0 + DAY_MS, &session),
                     SESSION_NOT_FOUND);
    assert_int_equal(session_count(fixture->db), 0);
}

/* A user's sessions are capped; the oldest go first. */
static void test_per_user_cap(void **state)
{
    struct fixture *fixture = *state;
    char first[SESSION_TOKEN_SIZE];
    char last[SESSION_TOKEN_SIZE];
    char token[SESSION_TOKEN_SIZE];
    char csrf[SESSION_TOKEN_SIZE];
    struct session session;
    int64_t now = T0;

    assert_int_equal(session_create(fixture->db, fixture->user_id, "", "", now, first, csrf), 0);
    for (int i = 0; i < SESSION_MAX_PER_USER + 8; i++) {
        now += 1000;
        assert_int_equal(session_create(fixture->db, fixture->user_id, "", "", now, token, csrf),
                         0);
    }
    memcpy(last, token, sizeof(last));
    assert_int_equal(session_count(fixture->db), SESSION_MAX_PER_USER);
    assert_int_equal(session_lookup(fixture->db, first, now, &session), SESSION_NOT_FOUND);
    assert_int_equal(session_lookup(fixture->db, last, now, &session), SESSION_OK);
}

/* Client-supplied text is cut to its bound, on a UTF-8 boundary. */
static void test_long_client_strings(void **state)
{
    struct fixture *fixture = *state;
    char token[SESSION_TOKEN_SIZE];
    char csrf[SESSION_TOKEN_SIZE];
    char agent[1000];
    sqlite3_stmt *statement = NULL;

    memset(agent, 'a', sizeof(agent));
    memcpy(agent + SESSION_USER_AGENT_MAX - 1, "\xc3\xbc", 2); /* straddles the cut */
    agent[sizeof(agent) - 1] = '\0';
    assert_int_equal(session_create(fixture->db, fixture->user_id, agent, agent, T0, token, csrf),
                     0);
    assert_int_equal(sqlite3_prepare_v2(fixture->db,
                                        "SELECT length(CAST(remote_address AS BLOB)), "
                                        "length(CAST(user_agent AS BLOB)) FROM sessions",
                                        -1, &statement, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(statement), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(statement, 0), SESSION_REMOTE_ADDRESS_MAX);
    assert_int_equal(sqlite3_column_int(statement, 1), SESSION_USER_AGENT_MAX - 1);
    sqlite3_finalize(statement);
}

struct listed {
    struct session_info sessions[4];
    int count;
};

static int collect_session(const struct session_info *info, void *data)
{
    struct listed *listed = data;
    if (listed->count < 4)
        listed->sessions[listed->count] = *info;
    listed->count++;
    return 0;
}

/* The list of one's sessions: opaque stable ids, the current flag, only
 * live ones; ending one by id (only one's own), ending all others. */
static void test_list_and_end_by_id(void **state)
{
    struct fixture *fixture = *state;
    char first[SESSION_TOKEN_SIZE], second[SESSION_TOKEN_SIZE], bobs[SESSION_TOKEN_SIZE];
    char csrf[SESSION_TOKEN_SIZE], first_id[SESSION_ID_SIZE];
    struct listed listed = {0}, again = {0};
    struct session session;

    assert_int_equal(
        session_create(fixture->db, fixture->user_id, "192.0.2.1", "Firefox/1", T0, first, csrf),
        0);
    assert_int_equal(
        session_create(fixture->db, fixture->user_id, "192.0.2.2", "", T0 + 1000, second, csrf), 0);
    assert_int_equal(session_create(fixture->db, fixture->other_id, "", "", T0, bobs, csrf), 0);
    assert_int_equal(session_list_for_user(fixture->db, fixture->user_id, first, T0 + 2000,
                                           collect_session, &listed),
                     2);
    assert_int_equal(session_list_for_user(fixture->db, fixture->user_id, NULL, T0 + 2000,
                                           collect_session, &again),
                     2);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(strlen(listed.sessions[i].id), SESSION_ID_SIZE - 1);
        assert_string_equal(listed.sessions[i].id, again.sessions[i].id); /* stable */
        assert_false(again.sessions[i].current);
        assert_null(strstr(first, listed.sessions[i].id));
    }
    assert_true(listed.sessions[0].current != listed.sessions[1].current);
    for (int i = 0; i < 2; i++)
        if (listed.sessions[i].current) {
            memcpy(first_id, listed.sessions[i].id, SESSION_ID_SIZE);
            assert_string_equal(listed.sessions[i].remote_address, "192.0.2.1");
            assert_string_equal(listed.sessions[i].user_agent, "Firefox/1");
        }

    /* Only among one's own; unknown and malformed ids are not found. */
    assert_int_equal(session_delete_by_id(fixture->db, fixture->other_id, first_id), 0);
    assert_int_equal(session_delete_by_id(fixture->db, fixture->user_id, "0000000000000000"), 0);
    assert_int_equal(session_delete_by_id(fixture->db, fixture->user_id, "short"), 0);
    assert_int_equal(session_delete_by_id(fixture->db, fixture->user_id, first_id), 1);
    assert_int_equal(session_lookup(fixture->db, first, T0 + 3000, &session), SESSION_NOT_FOUND);
    assert_int_equal(session_lookup(fixture->db, second, T0 + 3000, &session), SESSION_OK);

    /* All others: keeps the named one and other users' sessions. */
    assert_int_equal(session_create(fixture->db, fixture->user_id, "", "", T0 + 4000, first, csrf),
                     0);
    assert_int_equal(session_delete_others(fixture->db, fixture->user_id, first), 1);
    assert_int_equal(session_lookup(fixture->db, first, T0 + 5000, &session), SESSION_OK);
    assert_int_equal(session_lookup(fixture->db, second, T0 + 5000, &session), SESSION_NOT_FOUND);
    assert_int_equal(session_lookup(fixture->db, bobs, T0 + 5000, &session), SESSION_OK);
    assert_int_equal(session_delete_others(fixture->db, fixture->user_id, NULL), 1);
    assert_int_equal(session_count(fixture->db), 1);

    /* An expired session is not listed. */
    listed.count = 0;
    assert_int_equal(session_list_for_user(fixture->db, fixture->other_id, NULL,
                                           T0 + SESSION_IDLE_TIMEOUT_MS, collect_session, &listed),
                     0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_and_lookup, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_malformed_tokens, setup_fixture, teardown_fixture),
        cmocka_unit_test(test_no_plaintext_token),
        cmocka_unit_test_setup_teardown(test_idle_expiry, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_absolute_expiry, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_touch_interval, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_delete_and_purge, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_per_user_cap, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_long_client_strings, setup_fixture, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_list_and_end_by_id, setup_fixture, teardown_fixture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
