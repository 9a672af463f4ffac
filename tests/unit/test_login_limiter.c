/*
 * test_login_limiter.c - the in-memory login brute-force limiter
 * (appliance/accounts/login_limiter.c): lockout after 5 failures, growing
 * lockouts, reset on success, per-IP and per-username keys, the 15-minute
 * window, bounded memory under a flood, and concurrent use.
 *
 * UNIT_SOURCES: appliance/accounts/login_limiter.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>

#include <cmocka.h>

#include "accounts/login_limiter.h"
#include "common/log.h"

#define T0 1000000000LL

static int reset_limiter(void **state)
{
    (void)state;
    login_limiter_reset();
    return 0;
}

static void fail_times(const char *ip, const char *username, int64_t now, int times)
{
    for (int i = 0; i < times; i++)
        login_limiter_record_failure(ip, username, now);
}

static void test_five_failures_lock(void **state)
{
    int retry = -1;
    (void)state;

    fail_times("192.0.2.1", "alice", T0, 4);
    assert_int_equal(login_limiter_check("192.0.2.1", "alice", T0, &retry), LOGIN_LIMITER_ALLOWED);
    assert_int_equal(retry, 0);
    login_limiter_record_failure("192.0.2.1", "alice", T0);
    assert_int_equal(login_limiter_check("192.0.2.1", "alice", T0, &retry), LOGIN_LIMITER_BLOCKED);
    assert_int_equal(retry, 30);
    assert_int_equal(login_limiter_check("192.0.2.1", "alice", T0 + 29001, &retry),
                     LOGIN_LIMITER_BLOCKED);
    assert_int_equal(retry, 1);
    assert_int_equal(login_limiter_check("192.0.2.1", "alice", T0 + 30000, &retry),
                     LOGIN_LIMITER_ALLOWED);
    assert_int_equal(login_limiter_check("192.0.2.1", "alice", T0, NULL), LOGIN_LIMITER_BLOCKED);
}

/* Each failure after a lockout locks again for twice as long, up to 15 min. */
static void test_lockout_grows(void **state)
{
    const int expected[] = {30, 60, 120, 240, 480, 900, 900, 900};
    int64_t now = T0;
    int retry = 0;
    (void)state;

    fail_times("192.0.2.1", "alice", now, 5);
    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
        assert_int_equal(login_limiter_check("192.0.2.1", "alice", now, &retry),
                         LOGIN_LIMITER_BLOCKED);
        assert_int_equal(retry, expected[i]);
        /* Failures while locked are not counted (and do not extend it). */
        login_limiter_record_failure("192.0.2.1", "alice", now + 1000);
        now += (int64_t)expected[i] * 1000;
        assert_int_equal(login_limiter_check("192.0.2.1", "alice", now, &retry),
                         LOGIN_LIMITER_ALLOWED);
        login_limiter_record_failure("192.0.2.1", "alice", now);
    }

    /* Fifteen quiet minutes after the lockout forgive the key. */
    now += 900000 + LOGIN_LIMITER_WINDOW_MS;
    assert_int_equal(login_limiter_check("192.0.2.1", "alice", now, &retry), LOGIN_LIMITER_ALLOWED);
    fail_times("192.0.2.1", "alice", now, 4);
    assert_int_equal(login_limiter_check("192.0.2.1", "alice", now, &retry), LOGIN_LIMITER_ALLOWED);
    login_limiter_record_failure("192.0.2.1", "alice", now);
    assert_int_equal(login_limiter_check("192.0.2.1", "alice", now, &retry), LOGIN_LIMITER_BLOCKED);
    assert_int_equal(retry, 30);
}

static void test_success_resets(void **state)
{
    int retry = 0;
    (void)state;

    fail_times("192.0.2.1", "alice", T0, 5);
    login_limiter_record_failure("192.0.2.1", "alice", T0 + 30000); /* 60 s lockout */
    assert_int_equal(login_limiter_check("192.0.2.1", "alice", T0 + 30000, &retry),
                     LOGIN_LIMITER_BLOCKED);
    login_limiter_record_success("192.0.2.1", "ALICE");
    assert_int_equal(login_limiter_check("192.0.2.1", "alice", T0 + 30000, &retry),
                     LOGIN_LIMITER_ALLOWED);
    /* Back to a fresh count: four more failures do not lock. */
    fail_times("192.0.2.1", "alice", T0 + 31000, 4);
    assert_int_equal(login_limiter_check("192.0.2.1", "alice", T0 + 31000, &retry),
                     LOGIN_LIMITER_ALLOWED);
    assert_int_equal(login_limiter_entry_count(), 2);
    login_limiter_record_success("192.0.2.1", "alice");
    assert_int_equal(login_limiter_entry_count(), 0);
}

/* One address guessing many usernames is locked by its address. */
static void test_ip_key(void **state)
{
    char name[32];
    int retry = 0;
    (void)state;

    for (int i = 0; i < 5; i++) {
        snprintf(name, sizeof(name), "user%d", i);
        assert_int_equal(login_limiter_check("2001:db8::1", name, T0, &retry),
                         LOGIN_LIMITER_ALLOWED);
        login_limiter_record_failure("2001:db8::1", name, T0);
    }
    assert_int_equal(login_limiter_check("2001:db8::1", "someone-else", T0, &retry),
                     LOGIN_LIMITER_BLOCKED);
    assert_int_equal(login_limiter_check("2001:db8::1", NULL, T0, &retry), LOGIN_LIMITER_BLOCKED);
    assert_int_equal(login_limiter_check("2001:db8::2", "someone-else", T0, &retry),
                     LOGIN_LIMITER_ALLOWED);
    assert_int_equal(login_limiter_check("2001:db8::2", "user0", T0, &retry),
                     LOGIN_LIMITER_ALLOWED);
}

/* Many addresses guessing one username lock the username (any case). */
static void test_username_key(void **state)
{
    char ip[32];
    int retry = 0;
    (void)state;

    for (int i = 0; i < 5; i++) {
        snprintf(ip, sizeof(ip), "198.51.100.%d", i);
        login_limiter_record_failure(ip, i % 2 ? "Admin" : "ADMIN", T0);
    }
    assert_int_equal(login_limiter_check("203.0.113.9", "admin", T0, &retry),
                     LOGIN_LIMITER_BLOCKED);
    assert_int_equal(retry, 30);
    assert_int_equal(login_limiter_check(NULL, "aDmIn", T0, &retry), LOGIN_LIMITER_BLOCKED);
    assert_int_equal(login_limiter_check("203.0.113.9", "alice", T0, &retry),
                     LOGIN_LIMITER_ALLOWED);
    assert_int_equal(login_limiter_check(NULL, NULL, T0, &retry), LOGIN_LIMITER_ALLOWED);
    assert_int_equal(login_limiter_check("", "", T0, &retry), LOGIN_LIMITER_ALLOWED);
}

/* Failures count within a 15-minute window from the first one. */
static void test_window(void **state)
{
    int retry = 0;
    (void)state;

    fail_times("192.0.2.1", "alice", T0, 4);
    login_limiter_record_failure("192.0.2.1", "alice", T0 + LOGIN_LIMITER_WINDOW_MS);
    assert_int_equal(
        login_limiter_check("192.0.2.1", "alice", T0 + LOGIN_LIMITER_WINDOW_MS, &retry),
        LOGIN_LIMITER_ALLOWED);
    fail_times("192.0.2.1", "alice", T0 + LOGIN_LIMITER_WINDOW_MS + 1, 3);
    assert_int_equal(
        login_limiter_check("192.0.2.1", "alice", T0 + LOGIN_LIMITER_WINDOW_MS + 1, &retry),
        LOGIN_LIMITER_ALLOWED);
    login_limiter_record_failure("192.0.2.1", "alice", T0 + LOGIN_LIMITER_WINDOW_MS + 2);
    assert_int_equal(
        login_limiter_check("192.0.2.1", "alice", T0 + LOGIN_LIMITER_WINDOW_MS + 2, &retry),
        LOGIN_LIMITER_BLOCKED);
}

/* Over-long keys are cut, not overflowed. */
static void test_long_keys(void **state)
{
    char long_name[500];
    int retry = 0;
    (void)state;

    memset(long_name, 'X', sizeof(long_name));
    long_name[sizeof(long_name) - 1] = '\0';
    fail_times(long_name, long_name, T0, 5);
    assert_int_equal(login_limiter_check(long_name, long_name, T0, &retry), LOGIN_LIMITER_BLOCKED);
    long_name[100] = '\0'; /* same first 64 bytes: same key */
    assert_int_equal(login_limiter_check(NULL, long_name, T0, &retry), LOGIN_LIMITER_BLOCKED);
}

/* xorshift64: deterministic "random" names for the flood. */
static uint64_t next_random(uint64_t *seed)
{
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    return *seed;
}

/* 100k random usernames from many addresses: the table stays bounded and
 * locked-out keys are not pushed out by the flood. */
static void test_bounded_under_flood(void **state)
{
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    char name[32];
    char ip[32];
    int retry = 0;
    (void)state;

    log_set_level(LOG_LEVEL_ERROR); /* thousands of lockout warnings otherwise */
    fail_times("192.0.2.1", "victim", T0, 5);
    for (int i = 0; i < 100000; i++) {
        uint64_t value = next_random(&seed);
        snprintf(name, sizeof(name), "u%016llx", (unsigned long long)value);
        snprintf(ip, sizeof(ip), "10.%u.%u.%u", (unsigned)(value >> 8) & 255,
                 (unsigned)(value >> 16) & 255, (unsigned)(value >> 24) & 255);
        /* The whole flood fits into the victim's 30 s lockout. */
        login_limiter_check(ip, name, T0 + i / 10, NULL);
        login_limiter_record_failure(ip, name, T0 + i / 10);
        assert_true(login_limiter_entry_count() <= LOGIN_LIMITER_SLOTS);
    }
    log_set_level(LOG_LEVEL_INFO);
    assert_int_equal(login_limiter_entry_count(), LOGIN_LIMITER_SLOTS);
    assert_int_equal(login_limiter_check(NULL, "victim", T0 + 20000, &retry),
                     LOGIN_LIMITER_BLOCKED);
    assert_int_equal(login_limiter_check("192.0.2.1", NULL, T0 + 20000, &retry),
                     LOGIN_LIMITER_BLOCKED);
}

static void *hammer_main(void *argument)
{
    int id = *(const int *)argument;
    char name[32];
    char ip[32];

    for (int i = 0; i < 20000; i++) {
        snprintf(name, sizeof(name), "t%d-%d", id, i % 300);
        snprintf(ip, sizeof(ip), "10.0.%d.%d", id, i % 200);
        if (login_limiter_check(ip, name, T0 + i, NULL) == LOGIN_LIMITER_ALLOWED)
            login_limiter_record_failure(ip, name, T0 + i);
        if (i % 97 == 0)
            login_limiter_record_success(ip, name);
    }
    return NULL;
}

static void test_concurrent(void **state)
{
    pthread_t threads[4];
    int ids[4] = {0, 1, 2, 3};
    (void)state;

    log_set_level(LOG_LEVEL_ERROR);
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, hammer_main, &ids[i]), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    log_set_level(LOG_LEVEL_INFO);
    assert_true(login_limiter_entry_count() <= LOGIN_LIMITER_SLOTS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_five_failures_lock, reset_limiter),
        cmocka_unit_test_setup(test_lockout_grows, reset_limiter),
        cmocka_unit_test_setup(test_success_resets, reset_limiter),
        cmocka_unit_test_setup(test_ip_key, reset_limiter),
        cmocka_unit_test_setup(test_username_key, reset_limiter),
        cmocka_unit_test_setup(test_window, reset_limiter),
        cmocka_unit_test_setup(test_long_keys, reset_limiter),
        cmocka_unit_test_setup(test_bounded_under_flood, reset_limiter),
        cmocka_unit_test_setup(test_concurrent, reset_limiter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
