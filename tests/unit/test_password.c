/*
 * test_password.c - argon2id hashing, verification, the dummy verification
 * and the password policy (appliance/accounts/password.c), and the token
 * helpers (appliance/accounts/random_bytes.c).
 *
 * UNIT_SOURCES: appliance/accounts/password.c appliance/accounts/random_bytes.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <pthread.h>

#include <cmocka.h>

#include <argon2.h>

#include "accounts/password.h"
#include "accounts/random_bytes.h"
#include "common/clock.h"

/* CLOCK_MONOTONIC in seconds. */
static double test_seconds(void)
{
    return (double)clock_monotonic_ns() / 1e9;
}

/* CPU time of this thread: unlike wall time, barely affected by a busy machine. */
static double test_cpu_seconds(void)
{
    struct timespec now;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static void test_hash_format_and_verify(void **state)
{
    char encoded[PASSWORD_HASH_SIZE];
    char again[PASSWORD_HASH_SIZE];
    double start;
    (void)state;

    start = test_seconds();
    assert_int_equal(password_hash("correct horse battery", encoded, sizeof(encoded)), 0);
    printf("one argon2id hash took %.1f ms\n", (test_seconds() - start) * 1000.0);
    assert_non_null(strstr(encoded, "$argon2id$v=19$m=19456,t=2,p=1$"));
    assert_ptr_equal(strstr(encoded, "$argon2id$v=19$m=19456,t=2,p=1$"), encoded);
    /* 22 characters of salt, '$', 43 characters of hash. */
    assert_int_equal(strlen(encoded), strlen("$argon2id$v=19$m=19456,t=2,p=1$") + 22 + 1 + 43);

    assert_int_equal(password_verify(encoded, "correct horse battery"), PASSWORD_MATCH);
    assert_int_equal(password_verify(encoded, "correct horse batterY"), PASSWORD_MISMATCH);
    assert_int_equal(password_verify(encoded, ""), PASSWORD_MISMATCH);

    /* A fresh salt every time. */
    assert_int_equal(password_hash("correct horse battery", again, sizeof(again)), 0);
    assert_string_not_equal(encoded, again);
    assert_int_equal(password_verify(again, "correct horse battery"), PASSWORD_MATCH);
}

/* The PHC strings this file writes and reads are libargon2's: each side
 * verifies the other's, and strings of our parameters that libargon2 would
 * refuse are refused. */
static void test_strings_match_libargon2(void **state)
{
    const char *password = "correct horse battery";
    const uint8_t salt[16] = "0123456789abcdef";
    char ours[PASSWORD_HASH_SIZE];
    char theirs[PASSWORD_HASH_SIZE];
    char broken[PASSWORD_HASH_SIZE + 1];
    size_t length;
    (void)state;

    assert_int_equal(password_hash(password, ours, sizeof(ours)), 0);
    assert_int_equal(argon2id_verify(ours, password, strlen(password)), ARGON2_OK);
    assert_int_equal(argon2id_verify(ours, "wrong password", 14), ARGON2_VERIFY_MISMATCH);

    assert_int_equal(argon2id_hash_encoded(2, 19456, 1, password, strlen(password), salt,
                                           sizeof(salt), 32, theirs, sizeof(theirs)),
                     ARGON2_OK);
    assert_int_equal(password_verify(theirs, password), PASSWORD_MATCH);
    assert_int_equal(password_verify(theirs, "wrong password"), PASSWORD_MISMATCH);
    assert_int_equal(password_verify(password, password), PASSWORD_ERROR);

    /* Other parameters: still verified (by libargon2's own decoder). */
    assert_int_equal(argon2id_hash_encoded(1, 64, 1, password, strlen(password), salt, sizeof(salt),
                                           32, theirs, sizeof(theirs)),
                     ARGON2_OK);
    assert_int_equal(password_verify(theirs, password), PASSWORD_MATCH);
    assert_int_equal(password_verify(theirs, "wrong password"), PASSWORD_MISMATCH);

    /* Our prefix, malformed rest: cut short, too long, a bad character, a
     * missing '$', stray low bits in the last character of the hash. */
    length = strlen(ours);
    snprintf(broken, sizeof(broken), "%.*s", (int)length - 1, ours);
    assert_int_equal(password_verify(broken, password), PASSWORD_ERROR);
    snprintf(broken, sizeof(broken), "%sA", ours);
    assert_int_equal(password_verify(broken, password), PASSWORD_ERROR);
    snprintf(broken, sizeof(broken), "%s", ours);
    broken[length - 5] = '-';
    assert_int_equal(password_verify(broken, password), PASSWORD_ERROR);
    snprintf(broken, sizeof(broken), "%s", ours);
    broken[length - 44] = 'A';
    assert_int_equal(password_verify(broken, password), PASSWORD_ERROR);
    snprintf(broken, sizeof(broken), "%s", ours);
    /* 43 characters hold 258 bits of which the last 2 must be zero. */
    broken[length - 1] =
        (char)(strchr("AEIMQUYcgkosw048", broken[length - 1]) ? broken[length - 1] + 1 : 'B');
    assert_int_equal(password_verify(broken, password), PASSWORD_ERROR);
}

static void test_hash_buffer_too_small(void **state)
{
    char small[64];
    (void)state;

    assert_int_equal(password_hash("correct horse battery", small, sizeof(small)), -1);
    assert_string_equal(small, "");
}

static void test_verify_malformed_hash(void **state)
{
    (void)state;
    assert_int_equal(password_verify("", "whatever123"), PASSWORD_ERROR);
    assert_int_equal(password_verify("$argon2id$garbage", "whatever123"), PASSWORD_ERROR);
    assert_int_equal(password_verify("plaintext-password", "plaintext-password"), PASSWORD_ERROR);
}

/* The dummy verification must cost about as much as a real one. */
static void test_dummy_costs_like_verify(void **state)
{
    char encoded[PASSWORD_HASH_SIZE];
    double real = 1e9;
    double dummy = 1e9;
    (void)state;

    assert_int_equal(password_hash("the real password", encoded, sizeof(encoded)), 0);
    for (int i = 0; i < 5; i++) {
        double start = test_cpu_seconds();
        assert_int_equal(password_verify(encoded, "a wrong password"), PASSWORD_MISMATCH);
        double elapsed = test_cpu_seconds() - start;
        real = elapsed < real ? elapsed : real;

        start = test_cpu_seconds();
        password_verify_dummy("a wrong password");
        elapsed = test_cpu_seconds() - start;
        dummy = elapsed < dummy ? elapsed : dummy;
    }
    printf("verify %.1f ms, dummy verify %.1f ms (thread CPU time)\n", real * 1000.0,
           dummy * 1000.0);
    assert_true(dummy > real / 2.0);
    assert_true(dummy < real * 2.0);
    password_verify_dummy(NULL);
}

struct hash_thread {
    char password[32];
    char encoded[PASSWORD_HASH_SIZE];
    int hash_rc;
    enum password_result verify_result;
};

static void *hash_thread_main(void *argument)
{
    struct hash_thread *job = argument;
    job->hash_rc = password_hash(job->password, job->encoded, sizeof(job->encoded));
    job->verify_result = password_verify(job->encoded, job->password);
    return NULL;
}

/* More callers than slots: all block in turn and all succeed. */
static void test_concurrent_hashing(void **state)
{
    pthread_t threads[6];
    struct hash_thread jobs[6];
    (void)state;

    for (int i = 0; i < 6; i++) {
        memset(&jobs[i], 0, sizeof(jobs[i]));
        snprintf(jobs[i].password, sizeof(jobs[i].password), "password-number-%d", i);
        assert_int_equal(pthread_create(&threads[i], NULL, hash_thread_main, &jobs[i]), 0);
    }
    for (int i = 0; i < 6; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        assert_int_equal(jobs[i].hash_rc, 0);
        assert_int_equal(jobs[i].verify_result, PASSWORD_MATCH);
    }
}

static void test_policy(void **state)
{
    char text[300];
    (void)state;

    assert_int_equal(password_policy_check(NULL), PASSWORD_POLICY_TOO_SHORT);
    assert_int_equal(password_policy_check(""), PASSWORD_POLICY_TOO_SHORT);
    assert_int_equal(password_policy_check("123456789"), PASSWORD_POLICY_TOO_SHORT);
    assert_int_equal(password_policy_check("1234567890"), PASSWORD_POLICY_OK);

    memset(text, 'a', sizeof(text));
    text[256] = '\0';
    assert_int_equal(password_policy_check(text), PASSWORD_POLICY_OK);
    text[256] = 'a';
    text[257] = '\0';
    assert_int_equal(password_policy_check(text), PASSWORD_POLICY_TOO_LONG);
    text[299] = '\0';
    assert_int_equal(password_policy_check(text), PASSWORD_POLICY_TOO_LONG);

    /* Valid multi-byte UTF-8: 2, 3 and 4 byte sequences. */
    assert_int_equal(password_policy_check("gr\xc3\xbc\xc3\x9f-aus-k\xc3\xb6ln"),
                     PASSWORD_POLICY_OK);
    assert_int_equal(password_policy_check("\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"),
                     PASSWORD_POLICY_OK);
    assert_int_equal(password_policy_check("\xf0\x9f\x94\x91\xf0\x9f\x94\x91\xf0\x9f\x94\x91"),
                     PASSWORD_POLICY_OK);

    /* Invalid: lone continuation, overlong, surrogate, > U+10FFFF, cut off. */
    assert_int_equal(password_policy_check("abcdefghij\x80"), PASSWORD_POLICY_NOT_UTF8);
    assert_int_equal(password_policy_check("abcdefghij\xc0\xaf"), PASSWORD_POLICY_NOT_UTF8);
    assert_int_equal(password_policy_check("abcdefghij\xe0\x80\xaf"), PASSWORD_POLICY_NOT_UTF8);
    assert_int_equal(password_policy_check("abcdefghij\xed\xa0\x80"), PASSWORD_POLICY_NOT_UTF8);
    assert_int_equal(password_policy_check("abcdefghij\xf4\x90\x80\x80"), PASSWORD_POLICY_NOT_UTF8);
    assert_int_equal(password_policy_check("abcdefghij\xf5\x80\x80\x80"), PASSWORD_POLICY_NOT_UTF8);
    assert_int_equal(password_policy_check("abcdefghij\xe2\x82"), PASSWORD_POLICY_NOT_UTF8);
    assert_int_equal(password_policy_check("abcdefghij\xff"), PASSWORD_POLICY_NOT_UTF8);

    assert_non_null(password_policy_message(PASSWORD_POLICY_TOO_SHORT));
    assert_non_null(strstr(password_policy_message(PASSWORD_POLICY_TOO_SHORT), "10"));
    assert_non_null(strstr(password_policy_message(PASSWORD_POLICY_TOO_LONG), "256"));
}

static void test_tokens(void **state)
{
    char first[RANDOM_BYTES_TOKEN_SIZE];
    char second[RANDOM_BYTES_TOKEN_SIZE];
    char encoded[16];
    char small[RANDOM_BYTES_TOKEN_SIZE - 1];
    (void)state;

    assert_int_equal(random_bytes_token(first, sizeof(first)), 0);
    assert_int_equal(random_bytes_token(second, sizeof(second)), 0);
    assert_int_equal(strlen(first), RANDOM_BYTES_TOKEN_LENGTH);
    assert_true(random_bytes_token_wellformed(first));
    assert_string_not_equal(first, second);
    assert_true(random_bytes_token_equal(first, first));
    assert_false(random_bytes_token_equal(first, second));
    assert_false(random_bytes_token_equal(first, NULL));
    assert_false(random_bytes_token_equal(NULL, NULL));
    assert_int_equal(random_bytes_token(small, sizeof(small)), -1);

    /* RFC 4648 test vectors, URL alphabet, no padding. */
    assert_int_equal(random_bytes_base64url((const uint8_t *)"f", 1, encoded, sizeof(encoded)), 2);
    assert_string_equal(encoded, "Zg");
    assert_int_equal(random_bytes_base64url((const uint8_t *)"fo", 2, encoded, sizeof(encoded)), 3);
    assert_string_equal(encoded, "Zm8");
    assert_int_equal(random_bytes_base64url((const uint8_t *)"foobar", 6, encoded, sizeof(encoded)),
                     8);
    assert_string_equal(encoded, "Zm9vYmFy");
    assert_int_equal(
        random_bytes_base64url((const uint8_t *)"\xfb\xff", 2, encoded, sizeof(encoded)), 3);
    assert_string_equal(encoded, "-_8");
    assert_int_equal(random_bytes_base64url((const uint8_t *)"foobar", 6, encoded, 8), -1);

    assert_false(random_bytes_token_wellformed(NULL));
    assert_false(random_bytes_token_wellformed(""));
    assert_false(random_bytes_token_wellformed("abc"));
    memcpy(second, first, sizeof(second));
    second[10] = '+';
    assert_false(random_bytes_token_wellformed(second));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_format_and_verify),
        cmocka_unit_test(test_strings_match_libargon2),
        cmocka_unit_test(test_hash_buffer_too_small),
        cmocka_unit_test(test_verify_malformed_hash),
        cmocka_unit_test(test_dummy_costs_like_verify),
        cmocka_unit_test(test_concurrent_hashing),
        cmocka_unit_test(test_policy),
        cmocka_unit_test(test_tokens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
