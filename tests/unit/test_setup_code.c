/*
 * test_setup_code.c - the pairing setup code (common/setup_code.c) and the
 * whole SPAKE2+ pairing built on it (common/spake2plus.c): codes are 8
 * digits and never trivial; the Argon2id input is exactly RFC 9383's
 * len(pw) || pw || len(idProver) || idProver || len(idVerifier) ||
 * idVerifier with the 40-byte halves reduced modulo p; parameters from the
 * network are bounded; and, in the spirit of Matter's FuzzPASE_PW, for many
 * random codes the right code always pairs (both sides hold the same
 * K_shared) while a wrong code never does (each side's confirmation check
 * fails).
 *
 * UNIT_SOURCES:
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <argon2.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ecp.h>

#include "common/clock.h"
#include "common/setup_code.h"
#include "common/spake2plus.h"

#define TEST_ERROR_SIZE 160
/* Random codes the property test pairs (each twice: right and wrong code). */
#define TEST_PAIRING_CODES 24

static const char test_context[] = "Doorstep pairing v1";
static const char test_hub[] = "doorstep-hub:test";
static const char test_doorbell[] = "doorstep-bell:test";

/* Cheap Argon2id costs for the property test (the derivation itself is
 * checked with the real ones once). */
static const struct setup_code_parameters test_cheap = {
    .time_cost = 1, .memory_kib = 64, .parallelism = 1};

static const struct spake2plus_identities test_identities = {
    .context = (const uint8_t *)test_context,
    .context_length = sizeof(test_context) - 1,
    .prover = (const uint8_t *)test_hub,
    .prover_length = sizeof(test_hub) - 1,
    .verifier = (const uint8_t *)test_doorbell,
    .verifier_length = sizeof(test_doorbell) - 1,
};

/* Codes are well-formed, use every digit in every place, and differ. */
static void test_generate(void **state)
{
    char code[SETUP_CODE_SIZE], previous[SETUP_CODE_SIZE] = "";
    int seen[SETUP_CODE_DIGITS][10];
    char error[TEST_ERROR_SIZE] = "";
    int i, place, repeats = 0;
    (void)state;

    memset(seen, 0, sizeof(seen));
    for (i = 0; i < 2000; i++) {
        assert_int_equal(setup_code_generate(code, sizeof(code), error, sizeof(error)), 0);
        assert_int_equal(strlen(code), SETUP_CODE_DIGITS);
        assert_true(setup_code_wellformed(code));
        for (place = 0; place < SETUP_CODE_DIGITS; place++)
            seen[place][code[place] - '0']++;
        if (strcmp(code, previous) == 0)
            repeats++;
        memcpy(previous, code, sizeof(code));
    }
    /* 2000 draws leave a digit unseen in a place with odds of 10 * 0.9^2000. */
    for (place = 0; place < SETUP_CODE_DIGITS; place++)
        for (i = 0; i < 10; i++)
            assert_true(seen[place][i] > 0);
    assert_int_equal(repeats, 0);
    assert_int_equal(setup_code_generate(code, SETUP_CODE_DIGITS, error, sizeof(error)), -1);
}

/* Matter's trivial codes, and anything not 8 digits, are refused. */
static void test_wellformed(void **state)
{
    static const char *const refused[] = {
        "00000000", "11111111",  "22222222", "33333333", "44444444",  "55555555",
        "66666666", "77777777",  "88888888", "99999999", "12345678",  "87654321",
        "1234567",  "123456789", "1234567a", " 2345678", "12345678 ", "",
    };
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        if (setup_code_wellformed(refused[i])) {
            printf("\"%s\" was accepted\n", refused[i]);
            fail();
        }
    }
    assert_false(setup_code_wellformed(NULL));
    assert_true(setup_code_wellformed("12345679"));
    assert_true(setup_code_wellformed("00000001"));
    assert_true(setup_code_wellformed("20202021"));
}

/* Parameters a doorbell sends are bounded. */
static void test_parameters(void **state)
{
    struct setup_code_parameters parameters = setup_code_default_parameters();
    char error[TEST_ERROR_SIZE] = "";
    (void)state;

    assert_int_equal(parameters.time_cost, 3);
    assert_int_equal(parameters.memory_kib, 32768);
    assert_int_equal(parameters.parallelism, 1);
    assert_int_equal(setup_code_check_parameters(&parameters, error, sizeof(error)), 0);
    assert_int_equal(setup_code_check_parameters(&test_cheap, error, sizeof(error)), 0);
    /* 256 MiB is the most a doorbell may ask of the hub. */
    parameters.memory_kib = 262144;
    assert_int_equal(setup_code_check_parameters(&parameters, error, sizeof(error)), 0);
    parameters.memory_kib = 262145;
    assert_int_equal(setup_code_check_parameters(&parameters, error, sizeof(error)), -1);
    assert_non_null(strstr(error, "memory"));
    parameters.memory_kib = UINT32_MAX;
    assert_int_equal(setup_code_check_parameters(&parameters, error, sizeof(error)), -1);
    parameters = setup_code_default_parameters();
    parameters.time_cost = 0;
    assert_int_equal(setup_code_check_parameters(&parameters, error, sizeof(error)), -1);
    parameters.time_cost = 17;
    assert_int_equal(setup_code_check_parameters(&parameters, error, sizeof(error)), -1);
    parameters = setup_code_default_parameters();
    parameters.parallelism = 0;
    assert_int_equal(setup_code_check_parameters(&parameters, error, sizeof(error)), -1);
    parameters.parallelism = 5;
    assert_int_equal(setup_code_check_parameters(&parameters, error, sizeof(error)), -1);
    parameters = setup_code_default_parameters();
    parameters.memory_kib = 7;
    assert_int_equal(setup_code_check_parameters(&parameters, error, sizeof(error)), -1);
    assert_int_equal(setup_code_check_parameters(NULL, error, sizeof(error)), -1);
}

/* value mod p of a big-endian number, into 32 bytes. */
static void test_reduce(const uint8_t *value, size_t length, uint8_t *out)
{
    mbedtls_ecp_group group;
    mbedtls_mpi number, reduced;

    mbedtls_ecp_group_init(&group);
    mbedtls_mpi_init(&number);
    mbedtls_mpi_init(&reduced);
    assert_int_equal(mbedtls_ecp_group_load(&group, MBEDTLS_ECP_DP_SECP256R1), 0);
    assert_int_equal(mbedtls_mpi_read_binary(&number, value, length), 0);
    assert_int_equal(mbedtls_mpi_mod_mpi(&reduced, &number, &group.N), 0);
    assert_int_equal(mbedtls_mpi_write_binary(&reduced, out, 32), 0);
    mbedtls_mpi_free(&number);
    mbedtls_mpi_free(&reduced);
    mbedtls_ecp_group_free(&group);
}

/* The derivation is Argon2id over RFC 9383's length-prefixed input with an
 * empty idProver, 80 bytes out, each 40-byte half reduced modulo p: built
 * here by hand from libargon2 and compared. A different salt, identity or
 * code gives different values; a trivial code and bad parameters are
 * refused. With the real parameters it is timed (printed). */
static void test_derive(void **state)
{
    static const uint8_t salt[SETUP_CODE_SALT_SIZE] = "0123456789abcdef";
    static const uint8_t input[] = "\x08\0\0\0\0\0\0\0"
                                   "20202021"
                                   "\0\0\0\0\0\0\0\0"
                                   "\x12\0\0\0\0\0\0\0"
                                   "doorstep-bell:test";
    struct setup_code_parameters parameters = setup_code_default_parameters();
    uint8_t w0[SPAKE2PLUS_SCALAR_SIZE], w1[SPAKE2PLUS_SCALAR_SIZE];
    uint8_t other0[SPAKE2PLUS_SCALAR_SIZE], other1[SPAKE2PLUS_SCALAR_SIZE];
    uint8_t output[80], expected0[32], expected1[32], other_salt[SETUP_CODE_SALT_SIZE];
    char error[TEST_ERROR_SIZE] = "";
    struct timespec cpu_start, cpu_end;
    int64_t start;
    (void)state;

    start = clock_monotonic_ns();
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu_start);
    assert_int_equal(setup_code_derive("20202021", salt, &parameters,
                                       (const uint8_t *)test_doorbell, sizeof(test_doorbell) - 1,
                                       w0, w1, error, sizeof(error)),
                     0);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu_end);
    /* One lane: libargon2 runs it on this thread, so its CPU time is the cost. */
    printf("one derivation (t=%u, m=%u KiB, p=%u): %.0f ms of CPU, %.0f ms wall\n",
           parameters.time_cost, parameters.memory_kib, parameters.parallelism,
           (double)(clock_timespec_ns(&cpu_end) - clock_timespec_ns(&cpu_start)) / 1e6,
           (double)(clock_monotonic_ns() - start) / 1e6);
    assert_int_equal(argon2id_hash_raw(3, 32768, 1, input, sizeof(input) - 1, salt, sizeof(salt),
                                       output, sizeof(output)),
                     ARGON2_OK);
    test_reduce(output, 40, expected0);
    test_reduce(output + 40, 40, expected1);
    assert_memory_equal(w0, expected0, 32);
    assert_memory_equal(w1, expected1, 32);

    /* Same inputs, same values; each input changes them. */
    assert_int_equal(setup_code_derive("20202021", salt, &test_cheap,
                                       (const uint8_t *)test_doorbell, sizeof(test_doorbell) - 1,
                                       w0, w1, error, sizeof(error)),
                     0);
    assert_int_equal(setup_code_derive("20202021", salt, &test_cheap,
                                       (const uint8_t *)test_doorbell, sizeof(test_doorbell) - 1,
                                       other0, other1, error, sizeof(error)),
                     0);
    assert_memory_equal(w0, other0, 32);
    assert_memory_equal(w1, other1, 32);
    assert_memory_not_equal(w0, w1, 32);
    memcpy(other_salt, salt, sizeof(salt));
    other_salt[15] ^= 1;
    assert_int_equal(setup_code_derive("20202021", other_salt, &test_cheap,
                                       (const uint8_t *)test_doorbell, sizeof(test_doorbell) - 1,
                                       other0, other1, error, sizeof(error)),
                     0);
    assert_memory_not_equal(w0, other0, 32);
    assert_int_equal(setup_code_derive("20202021", salt, &test_cheap, (const uint8_t *)test_hub,
                                       sizeof(test_hub) - 1, other0, other1, error, sizeof(error)),
                     0);
    assert_memory_not_equal(w0, other0, 32);
    assert_int_equal(setup_code_derive("20202022", salt, &test_cheap,
                                       (const uint8_t *)test_doorbell, sizeof(test_doorbell) - 1,
                                       other0, other1, error, sizeof(error)),
                     0);
    assert_memory_not_equal(w0, other0, 32);

    /* Refusals leave zeroes behind. */
    assert_int_equal(setup_code_derive("12345678", salt, &test_cheap,
                                       (const uint8_t *)test_doorbell, sizeof(test_doorbell) - 1,
                                       other0, other1, error, sizeof(error)),
                     -1);
    assert_non_null(strstr(error, "8 digits"));
    memset(expected0, 0, sizeof(expected0));
    assert_memory_equal(other0, expected0, 32);
    parameters.memory_kib = SETUP_CODE_MEMORY_KIB_MAX * 2;
    assert_int_equal(setup_code_derive("20202021", salt, &parameters,
                                       (const uint8_t *)test_doorbell, sizeof(test_doorbell) - 1,
                                       other0, other1, error, sizeof(error)),
                     -1);
    assert_non_null(strstr(error, "memory"));
}

/* One pairing: the doorbell's record against a hub that typed typed_code.
 * Returns true when both sides completed and hold the same K_shared; false
 * when both refused (the hub's check of confirmV failed, and the confirmP a
 * hub that ignored that would send fails the doorbell's check). Anything
 * else - one side accepting alone, keys differing - fails the test. */
static bool test_pair(const struct setup_code_record *record, const char *typed_code)
{
    static struct spake2plus_trace trace;
    uint8_t w0[SPAKE2PLUS_SCALAR_SIZE], w1[SPAKE2PLUS_SCALAR_SIZE];
    uint8_t share_p[SPAKE2PLUS_POINT_SIZE], share_v[SPAKE2PLUS_POINT_SIZE];
    uint8_t confirm_v[SPAKE2PLUS_CONFIRM_SIZE], confirm_p[SPAKE2PLUS_CONFIRM_SIZE];
    uint8_t hub_key[SPAKE2PLUS_KEY_SIZE], doorbell_key[SPAKE2PLUS_KEY_SIZE];
    char error[TEST_ERROR_SIZE] = "";
    struct spake2plus *hub, *doorbell;
    int hub_result, doorbell_result;

    assert_int_equal(setup_code_derive(typed_code, record->salt, &record->parameters,
                                       (const uint8_t *)test_doorbell, sizeof(test_doorbell) - 1,
                                       w0, w1, error, sizeof(error)),
                     0);
    hub = spake2plus_prover_new(&test_identities, w0, w1, error, sizeof(error));
    doorbell =
        spake2plus_verifier_new(&test_identities, record->w0, record->l, error, sizeof(error));
    assert_non_null(hub);
    assert_non_null(doorbell);
    memset(&trace, 0, sizeof(trace));
    spake2plus_set_trace(hub, &trace);
    assert_int_equal(spake2plus_prover_share(hub, share_p, sizeof(share_p), error, sizeof(error)),
                     0);
    assert_int_equal(spake2plus_verifier_respond(doorbell, share_p, sizeof(share_p), share_v,
                                                 sizeof(share_v), confirm_v, sizeof(confirm_v),
                                                 error, sizeof(error)),
                     0);
    hub_result =
        spake2plus_prover_confirm(hub, share_v, sizeof(share_v), confirm_v, sizeof(confirm_v),
                                  confirm_p, sizeof(confirm_p), error, sizeof(error));
    /* A hub that ignores the failed check still has its confirmP. */
    doorbell_result = spake2plus_verifier_finish(doorbell, trace.confirm_p, sizeof(trace.confirm_p),
                                                 error, sizeof(error));
    assert_int_equal(hub_result, doorbell_result);
    if (hub_result == 0) {
        assert_memory_equal(confirm_p, trace.confirm_p, sizeof(confirm_p));
        assert_int_equal(spake2plus_shared_key(hub, hub_key, sizeof(hub_key), error, sizeof(error)),
                         0);
        assert_int_equal(spake2plus_shared_key(doorbell, doorbell_key, sizeof(doorbell_key), error,
                                               sizeof(error)),
                         0);
        assert_memory_equal(hub_key, doorbell_key, sizeof(hub_key));
    } else {
        assert_int_equal(spake2plus_shared_key(hub, hub_key, sizeof(hub_key), error, sizeof(error)),
                         -1);
        assert_int_equal(spake2plus_shared_key(doorbell, doorbell_key, sizeof(doorbell_key), error,
                                               sizeof(error)),
                         -1);
    }
    spake2plus_free(hub);
    spake2plus_free(doorbell);
    return hub_result == 0;
}

/* FuzzPASE_PW's property over random codes: the right code pairs, a wrong
 * one (one digit changed, or another random code) never does. The record
 * holds no w1 and no code. */
static void test_pairing_property(void **state)
{
    char code[SETUP_CODE_SIZE], wrong[SETUP_CODE_SIZE];
    char error[TEST_ERROR_SIZE] = "";
    struct setup_code_record record;
    int i;
    (void)state;

    for (i = 0; i < TEST_PAIRING_CODES; i++) {
        assert_int_equal(setup_code_generate(code, sizeof(code), error, sizeof(error)), 0);
        assert_int_equal(setup_code_make_record(code, &test_cheap, (const uint8_t *)test_doorbell,
                                                sizeof(test_doorbell) - 1, &record, error,
                                                sizeof(error)),
                         0);
        assert_true(test_pair(&record, code));
        if (i % 2 == 0) {
            /* One digit off. */
            memcpy(wrong, code, sizeof(code));
            wrong[i % SETUP_CODE_DIGITS] =
                (char)('0' + (wrong[i % SETUP_CODE_DIGITS] - '0' + 1 + i % 9) % 10);
            if (!setup_code_wellformed(wrong))
                wrong[(i + 1) % SETUP_CODE_DIGITS] ^= 1; /* '0'<->'1', ... stays a digit */
        } else {
            do
                assert_int_equal(setup_code_generate(wrong, sizeof(wrong), error, sizeof(error)),
                                 0);
            while (strcmp(wrong, code) == 0);
        }
        assert_true(setup_code_wellformed(wrong));
        assert_string_not_equal(wrong, code);
        assert_false(test_pair(&record, wrong));
    }
}

/* A record made with the real parameters pairs with its code. */
static void test_record_default_parameters(void **state)
{
    struct setup_code_parameters parameters = setup_code_default_parameters();
    struct setup_code_record record, again;
    char error[TEST_ERROR_SIZE] = "";
    (void)state;

    assert_int_equal(setup_code_make_record("31415926", &parameters, (const uint8_t *)test_doorbell,
                                            sizeof(test_doorbell) - 1, &record, error,
                                            sizeof(error)),
                     0);
    assert_int_equal(record.parameters.memory_kib, 32768);
    assert_true(test_pair(&record, "31415926"));
    assert_false(test_pair(&record, "31415927"));
    /* A fresh salt each time. */
    assert_int_equal(setup_code_make_record("31415926", &test_cheap, (const uint8_t *)test_doorbell,
                                            sizeof(test_doorbell) - 1, &again, error,
                                            sizeof(error)),
                     0);
    assert_memory_not_equal(record.salt, again.salt, sizeof(record.salt));
    assert_int_equal(setup_code_make_record("11111111", &test_cheap, (const uint8_t *)test_doorbell,
                                            sizeof(test_doorbell) - 1, &again, error,
                                            sizeof(error)),
                     -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate),         cmocka_unit_test(test_wellformed),
        cmocka_unit_test(test_parameters),       cmocka_unit_test(test_derive),
        cmocka_unit_test(test_pairing_property), cmocka_unit_test(test_record_default_parameters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
