/*
 * setup_code.c - the pairing setup code, its Argon2id derivation and the
 * doorbell's verifier record (see setup_code.h).
 *
 * Threads: any; no state. Ownership: libargon2 allocates and frees its
 * working memory (parameters.memory_kib KiB) inside each derivation; the
 * password input and the 80-byte output live on the stack and are wiped.
 */
#include "common/setup_code.h"

#include <string.h>

#include <argon2.h>
#include <mbedtls/platform_util.h>

#include "common/error_text.h"
#include "common/system_random.h"

/* The codes Matter refuses besides the repeated digits. */
static const char *const setup_code_sequences[] = {"12345678", "87654321"};

/* Longest Argon2id input: three 8-byte lengths, the code and an identity. */
#define SETUP_CODE_INPUT_MAX (3 * 8 + SETUP_CODE_DIGITS + SPAKE2PLUS_IDENTITY_MAX)

/* See setup_code.h. */
struct setup_code_parameters setup_code_default_parameters(void)
{
    struct setup_code_parameters parameters = {
        .time_cost = SETUP_CODE_TIME_COST,
        .memory_kib = SETUP_CODE_MEMORY_KIB,
        .parallelism = SETUP_CODE_PARALLELISM,
    };
    return parameters;
}

/* See setup_code.h. */
bool setup_code_wellformed(const char *code)
{
    size_t i;
    bool repeated = true;

    if (code == NULL)
        return false;
    for (i = 0; i < SETUP_CODE_DIGITS; i++) {
        if (code[i] < '0' || code[i] > '9')
            return false;
        if (code[i] != code[0])
            repeated = false;
    }
    if (code[SETUP_CODE_DIGITS] != '\0' || repeated)
        return false;
    for (i = 0; i < sizeof(setup_code_sequences) / sizeof(setup_code_sequences[0]); i++)
        if (memcmp(code, setup_code_sequences[i], SETUP_CODE_DIGITS) == 0)
            return false;
    return true;
}

/* See setup_code.h. Rejection sampling: a 32-bit draw below 4 * 10^9 taken
 * modulo 10^8 is uniform; a trivial code is drawn again. */
int setup_code_generate(char *code, size_t code_size, char *error, size_t error_size)
{
    const uint32_t codes = 100000000u;
    const uint32_t limit = 40u * codes; /* the largest multiple of 10^8 below 2^32 */
    uint32_t draw = 0;
    int i, result = -1;

    if (code == NULL || code_size < SETUP_CODE_SIZE) {
        error_text_set(error, error_size, "code buffer too small");
        return -1;
    }
    for (;;) {
        uint32_t value;
        if (system_random_fill(&draw, sizeof(draw), error, error_size) != 0)
            goto out;
        if (draw >= limit)
            continue;
        value = draw % codes;
        for (i = SETUP_CODE_DIGITS - 1; i >= 0; i--) {
            code[i] = (char)('0' + value % 10);
            value /= 10;
        }
        code[SETUP_CODE_DIGITS] = '\0';
        if (setup_code_wellformed(code))
            break;
    }
    result = 0;
out:
    mbedtls_platform_zeroize(&draw, sizeof(draw));
    if (result != 0)
        mbedtls_platform_zeroize(code, code_size);
    return result;
}

/* See setup_code.h. */
int setup_code_check_parameters(const struct setup_code_parameters *parameters, char *error,
                                size_t error_size)
{
    if (parameters == NULL) {
        error_text_set(error, error_size, "no Argon2id parameters");
        return -1;
    }
    if (parameters->time_cost < 1 || parameters->time_cost > SETUP_CODE_TIME_COST_MAX) {
        error_text_set(error, error_size, "Argon2id time cost outside [1, %d]",
                       SETUP_CODE_TIME_COST_MAX);
        return -1;
    }
    if (parameters->parallelism < 1 || parameters->parallelism > SETUP_CODE_PARALLELISM_MAX) {
        error_text_set(error, error_size, "Argon2id parallelism outside [1, %d]",
                       SETUP_CODE_PARALLELISM_MAX);
        return -1;
    }
    /* libargon2 wants at least 8 KiB per lane. */
    if (parameters->memory_kib < SETUP_CODE_MEMORY_KIB_MIN * parameters->parallelism ||
        parameters->memory_kib > SETUP_CODE_MEMORY_KIB_MAX) {
        error_text_set(error, error_size, "Argon2id memory outside [8 KiB per lane, %d KiB]",
                       SETUP_CODE_MEMORY_KIB_MAX);
        return -1;
    }
    return 0;
}

/* Append len(data) as 8 little-endian bytes, then data. */
static void setup_code_input_add(uint8_t *input, size_t *length, const void *data,
                                 size_t data_length)
{
    uint64_t value = data_length;
    int i;

    for (i = 0; i < 8; i++)
        input[(*length)++] = (uint8_t)(value >> (8 * i));
    if (data_length > 0)
        memcpy(input + *length, data, data_length);
    *length += data_length;
}

/* See setup_code.h. */
int setup_code_derive(const char *code, const uint8_t *salt,
                      const struct setup_code_parameters *parameters,
                      const uint8_t *verifier_identity, size_t verifier_identity_length,
                      uint8_t *w0, uint8_t *w1, char *error, size_t error_size)
{
    return setup_code_derive_with(code, salt, parameters, verifier_identity,
                                  verifier_identity_length, NULL, w0, w1, error, error_size);
}

/* See setup_code.h. */
int setup_code_derive_with(const char *code, const uint8_t *salt,
                           const struct setup_code_parameters *parameters,
                           const uint8_t *verifier_identity, size_t verifier_identity_length,
                           const struct setup_code_memory *memory, uint8_t *w0, uint8_t *w1,
                           char *error, size_t error_size)
{
    argon2_context context;
    uint8_t input[SETUP_CODE_INPUT_MAX];
    uint8_t output[2 * SETUP_CODE_HALF_SIZE]; /* w0s || w1s */
    size_t length = 0;
    int status, result = -1;

    if (w0 == NULL || w1 == NULL || salt == NULL) {
        error_text_set(error, error_size, "no salt or output buffer");
        return -1;
    }
    if (!setup_code_wellformed(code)) {
        error_text_set(error, error_size, "a setup code is 8 digits, not a trivial sequence");
        goto out;
    }
    if (verifier_identity_length > SPAKE2PLUS_IDENTITY_MAX ||
        (verifier_identity_length > 0 && verifier_identity == NULL)) {
        error_text_set(error, error_size, "doorbell identity longer than %d bytes",
                       SPAKE2PLUS_IDENTITY_MAX);
        goto out;
    }
    if (setup_code_check_parameters(parameters, error, error_size) != 0)
        goto out;
    setup_code_input_add(input, &length, code, SETUP_CODE_DIGITS);
    setup_code_input_add(input, &length, NULL, 0); /* idProver: unknown at registration */
    setup_code_input_add(input, &length, verifier_identity, verifier_identity_length);
    memset(&context, 0, sizeof(context));
    context.out = output;
    context.outlen = sizeof(output);
    context.pwd = input;
    context.pwdlen = (uint32_t)length;
    context.salt = (uint8_t *)salt; /* read only: libargon2 clears it only on request */
    context.saltlen = SETUP_CODE_SALT_SIZE;
    context.t_cost = parameters->time_cost;
    context.m_cost = parameters->memory_kib;
    context.lanes = parameters->parallelism;
    context.threads = parameters->parallelism;
    context.version = ARGON2_VERSION_13;
    context.allocate_cbk = memory != NULL ? memory->allocate : NULL;
    context.free_cbk = memory != NULL ? memory->release : NULL;
    context.flags = ARGON2_DEFAULT_FLAGS;
    status = argon2_ctx(&context, Argon2_id);
    if (status != ARGON2_OK) {
        error_text_set(error, error_size, "argon2id: %s", argon2_error_message(status));
        goto out;
    }
    if (spake2plus_reduce_scalar(output, SETUP_CODE_HALF_SIZE, w0, error, error_size) != 0 ||
        spake2plus_reduce_scalar(output + SETUP_CODE_HALF_SIZE, SETUP_CODE_HALF_SIZE, w1, error,
                                 error_size) != 0)
        goto out;
    result = 0;
out:
    mbedtls_platform_zeroize(input, sizeof(input));
    mbedtls_platform_zeroize(output, sizeof(output));
    if (result != 0) {
        mbedtls_platform_zeroize(w0, SPAKE2PLUS_SCALAR_SIZE);
        mbedtls_platform_zeroize(w1, SPAKE2PLUS_SCALAR_SIZE);
    }
    return result;
}

/* See setup_code.h. */
int setup_code_make_record(const char *code, const struct setup_code_parameters *parameters,
                           const uint8_t *verifier_identity, size_t verifier_identity_length,
                           struct setup_code_record *record, char *error, size_t error_size)
{
    uint8_t w1[SPAKE2PLUS_SCALAR_SIZE];
    int result = -1;

    if (record == NULL || parameters == NULL) {
        error_text_set(error, error_size, "no record or parameters");
        return -1;
    }
    memset(record, 0, sizeof(*record));
    record->parameters = *parameters;
    if (system_random_fill(record->salt, sizeof(record->salt), error, error_size) != 0)
        goto out;
    if (setup_code_derive(code, record->salt, parameters, verifier_identity,
                          verifier_identity_length, record->w0, w1, error, error_size) != 0)
        goto out;
    if (spake2plus_compute_l(w1, record->l, sizeof(record->l), error, error_size) != 0)
        goto out;
    result = 0;
out:
    mbedtls_platform_zeroize(w1, sizeof(w1));
    if (result != 0)
        mbedtls_platform_zeroize(record, sizeof(*record));
    return result;
}
