/*
 * test_login_limiter.c - the in-memory login brute-force limiter
 * (appliance/accounts/login_limiter.c): attempts reserved before hashing
 * (40 racing attempts, at most 5 allowed), lockout of a (username, address)
 * pair only, growing lockouts, reset on success, 20 failures an hour per
 * address, 10 an hour per account from unknown devices, known devices
 * exempt from the account count, windows, bounded memory under a flood, and
 * concurrent use.
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

#define T0   1000000000LL
#define HOUR LOGIN_LIMITER_HOUR_MS

static int reset_limiter(void **state)
{
    (void)state;
    login_limiter_reset();
    return 0;
}

/* Begin an attempt; returns the limiter's answer, *retry the wait. */
static enum login_limiter_result try_login(const char *address, const char *username, bool known,
                                           int64_t now, int *retry,
                                           struct login_limiter_attempt *attempt)
{
    return login_limiter_begin(address, username, known, now, retry, attempt);
}

/* One whole failed attempt; asserts it was allowed. */
static void fail_once(const char *address, const char *username, bool known, int64_t now)
{
    struct login_limiter_attempt attempt;
    assert_int_equal(try_login(address, username, known, now, NULL, &attempt),
                     LOGIN_LIMITER_ALLOWED);
    login_limiter_fail(&attempt, now);
}

static void fail_times(const char *address, const char *username, int64_t now, int times)
{
    for (int i = 0; i < times; i++)
        fail_once(address, username, false, now);
}

/* Is an attempt allowed now? (Released at once, uncounted.) */
static bool allowed(const char *address, const char *username, bool known, int64_t now, int *retry)
{
    struct login_limiter_attempt attempt;
    if (try_login(address, username, known, now, retry, &attempt) != LOGIN_LIMITER_ALLOWED)
        return false;
    login_limiter_release(&attempt, now);
    return true;
}

/* Forty attempts racing for one pair: the first five are reserved before
 * any is settled, the rest refused; so at most five are ever hashed. */
static void test_reserved_before_hashing(void **state)
{
    struct login_limiter_attempt attempts[40];
    int allowed_count = 0, retry = 0;
    (void)state;

    for (int i = 0; i < 40; i++)
        if (try_login("192.0.2.1", "admin", false, T0, &retry, &attempts[i]) ==
            LOGIN_LIMITER_ALLOWED)
            allowed_count++;
        else
            assert_int_equal(retry, 1);
    assert_int_equal(allowed_count, LOGIN_LIMITER_PAIR_THRESHOLD);
    for (int i = 0; i < allowed_count; i++)
        login_limiter_fail(&attempts[i], T0 + 1);
    assert_false(allowed("192.0.2.1", "admin", false, T0 + 2, &retry));
    assert_int_equal(retry, 30);
    /* Settling twice is harmless: no second failure is counted. */
    login_limiter_fail(&attempts[0], T0 + 3);
    assert_false(allowed("192.0.2.1", "admin", false, T0 + 3, &retry));
    assert_int_equal(retry, 30);
}

/* A released attempt frees its reservation uncounted. */
static void test_release_frees(void **state)
{
    struct login_limiter_attempt attempts[5];
    (void)state;

    for (int i = 0; i < 5; i++)
        assert_int_equal(try_login("192.0.2.1", "alice", false, T0, NULL, &attempts[i]),
                         LOGIN_LIMITER_ALLOWED);
    assert_false(allowed("192.0.2.1", "alice", false, T0, NULL));
    for (int i = 0; i < 5; i++)
        login_limiter_release(&attempts[i], T0);
    assert_true(allowed("192.0.2.1", "alice", false, T0, NULL));
    assert_int_equal(login_limiter_entry_count(), 0);
}

static void test_five_failures_lock_the_pair(void **state)
{
    int retry = -1;
    (void)state;

    fail_times("192.0.2.1", "alice", T0, 4);
    assert_true(allowed("192.0.2.1", "alice", false, T0, &retry));
    assert_int_equal(retry, 0);
    fail_times("192.0.2.1", "alice", T0, 1);
    assert_false(allowed("192.0.2.1", "alice", false, T0, &retry));
    assert_int_equal(retry, 30);
    assert_false(allowed("192.0.2.1", "ALICE", false, T0 + 29001, &retry));
    assert_int_equal(retry, 1);
    assert_true(allowed("192.0.2.1", "alice", false, T0 + 30000, &retry));
    /* The same account from another address, and another account from the
     * same address, are not locked. */
    assert_true(allowed("192.0.2.2", "alice", false, T0, &retry));
    assert_true(allowed("192.0.2.1", "bob", false, T0, &retry));
}

/* Once a pair was locked out, only one attempt at a time is let through. */
static void test_one_at_a_time_after_lockout(void **state)
{
    struct login_limiter_attempt first, second;
    int retry = 0;
    (void)state;

    fail_times("192.0.2.1", "alice", T0, 5);
    assert_int_equal(try_login("192.0.2.1", "alice", false, T0 + 30000, NULL, &first),
                     LOGIN_LIMITER_ALLOWED);
    assert_int_equal(try_login("192.0.2.1", "alice", false, T0 + 30000, &retry, &second),
                     LOGIN_LIMITER_BLOCKED);
    assert_int_equal(retry, 1);
    login_limiter_fail(&first, T0 + 30000);
    assert_false(allowed("192.0.2.1", "alice", false, T0 + 30000, &retry));
    assert_int_equal(retry, 60);
}

/* Each failure after a lockout locks the pair again for twice as long, up
 * to 15 min (the address stays under its hourly limit). */
static void test_lockout_grows_to_the_cap(void **state)
{
    const int expected[] = {30, 60, 120, 240, 480, 900, 900};
    struct login_limiter_attempt attempt;
    int64_t now = T0;
    int retry = 0;
    (void)state;

    log_set_level(LOG_LEVEL_ERROR);
    fail_times("192.0.2.1", "alice", now, 5);
    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
        assert_false(allowed("192.0.2.1", "alice", true, now, &retry));
        assert_int_equal(retry, expected[i]);
        now += (int64_t)expected[i] * 1000;
        /* From the owner's known device: the account count stays out of it. */
        assert_int_equal(try_login("192.0.2.1", "alice", true, now, NULL, &attempt),
                         LOGIN_LIMITER_ALLOWED);
        login_limiter_fail(&attempt, now);
    }
    /* Fifteen quiet minutes after the lockout forgive the pair. */
    now += 900000 + LOGIN_LIMITER_PAIR_WINDOW_MS + HOUR;
    assert_true(allowed("192.0.2.1", "alice", false, now, &retry));
    fail_times("192.0.2.1", "alice", now, 4);
    assert_true(allowed("192.0.2.1", "alice", false, now, &retry));
    fail_times("192.0.2.1", "alice", now, 1);
    assert_false(allowed("192.0.2.1", "alice", false, now, &retry));
    assert_int_equal(retry, 30);
    log_set_level(LOG_LEVEL_INFO);
}

static void test_success_resets_the_pair(void **state)
{
    struct login_limiter_attempt attempt;
    (void)state;

    fail_times("192.0.2.1", "alice", T0, 4);
    assert_int_equal(try_login("192.0.2.1", "ALICE", false, T0, NULL, &attempt),
                     LOGIN_LIMITER_ALLOWED);
    login_limiter_succeed(&attempt, T0);
    /* Back to a fresh count: four more failures do not lock. */
    fail_times("192.0.2.1", "alice", T0 + 1000, 4);
    assert_true(allowed("192.0.2.1", "alice", false, T0 + 1000, NULL));
}

/* One address guessing many usernames: 20 failures an hour, then locked
 * until the hour is over; other addresses are not. */
static void test_address_limit(void **state)
{
    char name[32];
    int retry = 0;
    (void)state;

    for (int i = 0; i < LOGIN_LIMITER_ADDRESS_THRESHOLD; i++) {
        snprintf(name, sizeof(name), "user%d", i);
        fail_once("2001:db8::1", name, false, T0 + i * 1000);
    }
    assert_false(allowed("2001:db8::1", "someone-else", false, T0 + 30000, &retry));
    assert_int_equal(retry, (int)((HOUR - 30000) / 1000));
    assert_false(allowed("2001:db8::1", "user0", true, T0 + 30000, &retry));
    assert_true(allowed("2001:db8::2", "someone-else", false, T0 + 30000, &retry));
    assert_true(allowed("2001:db8::1", "someone-else", false, T0 + HOUR, &retry));
}

/* Many addresses guessing one account: 10 failures an hour from unknown
 * devices lock the account for unknown devices; a known device still gets
 * in, and its failures do not count against the account. */
static void test_account_limit_and_known_device(void **state)
{
    char address[32];
    int retry = 0;
    (void)state;

    for (int i = 0; i < LOGIN_LIMITER_ACCOUNT_THRESHOLD; i++) {
        snprintf(address, sizeof(address), "198.51.100.%d", i);
        fail_once(address, i % 2 ? "Admin" : "ADMIN", false, T0 + i);
    }
    assert_false(allowed("203.0.113.9", "admin", false, T0 + 100, &retry));
    assert_int_equal(retry, (int)((HOUR - 100 + 999) / 1000));
    assert_false(allowed("198.51.100.1", "admin", false, T0 + 100, &retry));
    /* The owner's own browser: allowed, from the attacker's addresses too. */
    assert_true(allowed("203.0.113.9", "admin", true, T0 + 100, &retry));
    /* A known device's typos count on its pair and address only. */
    for (int i = 0; i < 4; i++)
        fail_once("203.0.113.9", "admin", true, T0 + 200);
    assert_true(allowed("203.0.113.9", "admin", true, T0 + 300, &retry));
    assert_true(allowed("203.0.113.9", "alice", false, T0 + 300, &retry));
    /* After the hour, unknown devices may try again. */
    assert_true(allowed("203.0.113.10", "admin", false, T0 + HOUR, &retry));
}

/* Failures count within a 15-minute window from the first one. */
static void test_pair_window(void **state)
{
    const int64_t window = LOGIN_LIMITER_PAIR_WINDOW_MS;
    (void)state;

    fail_times("192.0.2.1", "alice", T0, 4);
    fail_times("192.0.2.1", "alice", T0 + window, 1);
    assert_true(allowed("192.0.2.1", "alice", false, T0 + window, NULL));
    fail_times("192.0.2.1", "alice", T0 + window + 1, 3);
    assert_true(allowed("192.0.2.1", "alice", false, T0 + window + 1, NULL));
    fail_times("192.0.2.1", "alice", T0 + window + 2, 1);
    assert_false(allowed("192.0.2.1", "alice", false, T0 + window + 2, NULL));
}

/* Over-long keys are cut, not overflowed. */
static void test_long_keys(void **state)
{
    char long_name[500];
    (void)state;

    memset(long_name, 'X', sizeof(long_name));
    long_name[sizeof(long_name) - 1] = '\0';
    fail_times(long_name, long_name, T0, 5);
    assert_false(allowed(long_name, long_name, false, T0, NULL));
    long_name[100] = '\0'; /* same first 64 bytes: same key */
    assert_false(allowed(long_name, long_name, false, T0, NULL));
    assert_true(allowed(NULL, NULL, false, T0, NULL));
    assert_true(allowed("", "", false, T0, NULL));
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
    char address[32];
    (void)state;

    log_set_level(LOG_LEVEL_ERROR); /* thousands of lockout warnings otherwise */
    fail_times("192.0.2.1", "victim", T0, 5);
    for (int i = 0; i < 100000; i++) {
        struct login_limiter_attempt attempt;
        uint64_t value = next_random(&seed);
        snprintf(name, sizeof(name), "u%016llx", (unsigned long long)value);
        snprintf(address, sizeof(address), "10.%u.%u.%u", (unsigned)(value >> 8) & 255,
                 (unsigned)(value >> 16) & 255, (unsigned)(value >> 24) & 255);
        /* The whole flood fits into the victim's 30 s lockout. */
        if (try_login(address, name, false, T0 + i / 10, NULL, &attempt) == LOGIN_LIMITER_ALLOWED)
            login_limiter_fail(&attempt, T0 + i / 10);
        assert_true(login_limiter_entry_count() <= LOGIN_LIMITER_SLOTS);
    }
    log_set_level(LOG_LEVEL_INFO);
    assert_int_equal(login_limiter_entry_count(), LOGIN_LIMITER_SLOTS);
    assert_false(allowed("192.0.2.1", "victim", false, T0 + 20000, NULL));
}

static void *hammer_main(void *argument)
{
    int id = *(const int *)argument;
    char name[32];
    char address[32];

    for (int i = 0; i < 20000; i++) {
        struct login_limiter_attempt attempt;
        snprintf(name, sizeof(name), "t%d-%d", id, i % 300);
        snprintf(address, sizeof(address), "10.0.%d.%d", id, i % 200);
        if (login_limiter_begin(address, name, i % 3 == 0, T0 + i, NULL, &attempt) !=
            LOGIN_LIMITER_ALLOWED)
            continue;
        if (i % 97 == 0)
            login_limiter_succeed(&attempt, T0 + i);
        else
            login_limiter_fail(&attempt, T0 + i);
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
        cmocka_unit_test_setup(test_reserved_before_hashing, reset_limiter),
        cmocka_unit_test_setup(test_release_frees, reset_limiter),
        cmocka_unit_test_setup(test_five_failures_lock_the_pair, reset_limiter),
        cmocka_unit_test_setup(test_one_at_a_time_after_lockout, reset_limiter),
        cmocka_unit_test_setup(test_lockout_grows_to_the_cap, reset_limiter),
        cmocka_unit_test_setup(test_success_resets_the_pair, reset_limiter),
        cmocka_unit_test_setup(test_address_limit, reset_limiter),
        cmocka_unit_test_setup(test_account_limit_and_known_device, reset_limiter),
        cmocka_unit_test_setup(test_pair_window, reset_limiter),
        cmocka_unit_test_setup(test_long_keys, reset_limiter),
        cmocka_unit_test_setup(test_bounded_under_flood, reset_limiter),
        cmocka_unit_test_setup(test_concurrent, reset_limiter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
