/*
 * password.c - argon2id password hashing and the password policy (see
 * password.h).
 *
 * Called from HTTP handler threads (login, setup, user management) and the
 * CLI. Shared state: password_slots, a counting semaphore initialised once
 * (pthread_once) to PASSWORD_MAX_CONCURRENT, which caps how many hashes run
 * at once so a login flood cannot exhaust memory (19 MiB each) or CPU. The
 * semaphore is its own lock; nothing else is shared.
 */
#define LOG_MODULE "accounts"

#include "accounts/password.h"

#include <argon2.h>
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#include "accounts/random_bytes.h"
#include "common/log.h"

/* OWASP Password Storage Cheat Sheet, argon2id option 2. */
#define PASSWORD_T_COST      2
#define PASSWORD_M_COST_KIB  19456
#define PASSWORD_PARALLELISM 1
#define PASSWORD_SALT_BYTES  16
#define PASSWORD_HASH_BYTES  32

#define PASSWORD_STRING(value)        #value
#define PASSWORD_EXPAND_STRING(value) PASSWORD_STRING(value)
#define PASSWORD_TOO_SHORT_MESSAGE                                                                 \
    "password must be at least " PASSWORD_EXPAND_STRING(PASSWORD_MIN_BYTES) " bytes long"
#define PASSWORD_TOO_LONG_MESSAGE                                                                  \
    "password must be at most " PASSWORD_EXPAND_STRING(PASSWORD_MAX_BYTES) " bytes long"

/* A fixed hash with the same parameters as real ones, so verifying against
 * it costs exactly as much. Its password is irrelevant: the result is
 * thrown away. */
static const char password_dummy_hash[] = "$argon2id$v=19$m=19456,t=2,p=1$0oYasvX4fFBij2UYWez3UA$"
                                          "+Aq8spM7y48Fym0sD7k1WNLQ1wSgrhrQCXQfcETsMoI";

static sem_t password_slots;
static pthread_once_t password_slots_once = PTHREAD_ONCE_INIT;

static void password_slots_init(void)
{
    int rc = sem_init(&password_slots, 0, PASSWORD_MAX_CONCURRENT);
    assert(rc == 0);
    (void)rc;
}

/* Take one of the PASSWORD_MAX_CONCURRENT hashing slots, waiting if needed. */
static void password_slot_acquire(void)
{
    pthread_once(&password_slots_once, password_slots_init);
    while (sem_wait(&password_slots) != 0) {
        assert(errno == EINTR);
    }
}

/* Give back a slot taken by password_slot_acquire(). */
static void password_slot_release(void)
{
    int rc = sem_post(&password_slots);
    assert(rc == 0);
    (void)rc;
}

int password_hash(const char *password, char *encoded_out, size_t encoded_size)
{
    uint8_t salt[PASSWORD_SALT_BYTES];
    size_t needed = argon2_encodedlen(PASSWORD_T_COST, PASSWORD_M_COST_KIB, PASSWORD_PARALLELISM,
                                      PASSWORD_SALT_BYTES, PASSWORD_HASH_BYTES, Argon2_id);
    int rc = -1;
    int argon;

    assert(password != NULL && encoded_out != NULL);
    assert(needed <= PASSWORD_HASH_SIZE);
    if (encoded_size > 0)
        encoded_out[0] = '\0';
    if (encoded_size < needed) {
        log_error("password hash buffer too small (%zu < %zu)", encoded_size, needed);
        goto out;
    }
    if (random_bytes_fill(salt, sizeof(salt)) != 0)
        goto out;

    password_slot_acquire();
    argon = argon2id_hash_encoded(PASSWORD_T_COST, PASSWORD_M_COST_KIB, PASSWORD_PARALLELISM,
                                  password, strlen(password), salt, sizeof(salt),
                                  PASSWORD_HASH_BYTES, encoded_out, encoded_size);
    password_slot_release();
    if (argon != ARGON2_OK) {
        log_error("argon2id hashing failed: %s", argon2_error_message(argon));
        encoded_out[0] = '\0';
        goto out;
    }
    rc = 0;
out:
    mbedtls_platform_zeroize(salt, sizeof(salt));
    return rc;
}

enum password_result password_verify(const char *encoded, const char *password)
{
    int argon;

    assert(encoded != NULL && password != NULL);
    password_slot_acquire();
    argon = argon2id_verify(encoded, password, strlen(password));
    password_slot_release();

    if (argon == ARGON2_OK)
        return PASSWORD_MATCH;
    if (argon == ARGON2_VERIFY_MISMATCH)
        return PASSWORD_MISMATCH;
    log_warn("argon2id verification failed: %s", argon2_error_message(argon));
    return PASSWORD_ERROR;
}

void password_verify_dummy(const char *password)
{
    enum password_result result = password_verify(password_dummy_hash, password ? password : "");
    if (result == PASSWORD_ERROR)
        log_warn("dummy password verification failed");
}

/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, <= U+10FFFF. */
static bool password_utf8_valid(const unsigned char *text, size_t length)
{
    size_t i = 0;

    while (i < length) {
        unsigned char c = text[i];
        size_t extra;
        uint32_t min;
        uint32_t code;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            extra = 1;
            min = 0x80;
            code = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            extra = 2;
            min = 0x800;
            code = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            extra = 3;
            min = 0x10000;
            code = c & 0x07;
        } else {
            return false;
        }
        if (length - i <= extra)
            return false;
        for (size_t k = 1; k <= extra; k++) {
            if ((text[i + k] & 0xC0) != 0x80)
                return false;
            code = code << 6 | (text[i + k] & 0x3F);
        }
        if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))
            return false;
        i += extra + 1;
    }
    return true;
}

enum password_policy password_policy_check(const char *password)
{
    size_t length;

    if (password == NULL)
        return PASSWORD_POLICY_TOO_SHORT;
    length = strnlen(password, PASSWORD_MAX_BYTES + 1);
    if (length < PASSWORD_MIN_BYTES)
        return PASSWORD_POLICY_TOO_SHORT;
    if (length > PASSWORD_MAX_BYTES)
        return PASSWORD_POLICY_TOO_LONG;
    if (!password_utf8_valid((const unsigned char *)password, length))
        return PASSWORD_POLICY_NOT_UTF8;
    return PASSWORD_POLICY_OK;
}

const char *password_policy_message(enum password_policy result)
{
    switch (result) {
    case PASSWORD_POLICY_OK:
        return "password is acceptable";
    case PASSWORD_POLICY_TOO_SHORT:
        return PASSWORD_TOO_SHORT_MESSAGE;
    case PASSWORD_POLICY_TOO_LONG:
        return PASSWORD_TOO_LONG_MESSAGE;
    case PASSWORD_POLICY_NOT_UTF8:
        return "password must be valid UTF-8";
    }
    return "password is not acceptable";
}
