/*
 * password.c - argon2id password hashing and the password policy (see
 * password.h).
 *
 * Called from HTTP handler threads (login, setup, user management) and the
 * CLI. Shared state: password_slots, a counting semaphore initialised once
 * (pthread_once) to PASSWORD_MAX_CONCURRENT, which caps how many hashes run
 * at once so a login flood cannot exhaust memory (19 MiB each) or CPU. The
 * semaphore is its own lock; nothing else is shared.
 *
 * Memory: each hash's 19 MiB working block comes from its own anonymous
 * mmap and goes back to the kernel with munmap the moment the hash is done
 * (argon2_context's allocate_cbk/free_cbk). Through malloc, glibc would
 * raise its mmap threshold after the first free of such a block and serve
 * the next ones from the calling thread's arena, which keeps them: every
 * civetweb worker that ever checked a password would hold 19 MiB for the
 * life of the process. libargon2 offers the callbacks only on argon2_ctx,
 * which works on raw bytes, so this file writes and reads the PHC string
 * ("$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>") of its own parameters
 * itself, with mbedtls's base64; strings with other parameters (none are
 * written) are left to libargon2's argon2id_verify.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <mbedtls/base64.h>
#include <mbedtls/platform_util.h>

#include "accounts/random_bytes.h"
#include "common/log.h"

/* OWASP Password Storage Cheat Sheet, argon2id option 2. */
#define PASSWORD_T_COST      2
#define PASSWORD_M_COST_KIB  19456
#define PASSWORD_PARALLELISM 1
#define PASSWORD_SALT_BYTES  16
#define PASSWORD_HASH_BYTES  32
/* A transparent huge page on x86-64 and arm64 (4 KiB base pages). */
#define PASSWORD_HUGE_PAGE ((size_t)2 << 20)

#define PASSWORD_STRING(value)        #value
#define PASSWORD_EXPAND_STRING(value) PASSWORD_STRING(value)

/* The PHC string of a hash: this prefix, the salt and the hash in base64
 * without padding (22 and 43 characters), separated by '$'. */
#define PASSWORD_PREFIX                                                                            \
    "$argon2id$v=19$m=" PASSWORD_EXPAND_STRING(PASSWORD_M_COST_KIB) ",t=" PASSWORD_EXPAND_STRING(  \
        PASSWORD_T_COST) ",p=" PASSWORD_EXPAND_STRING(PASSWORD_PARALLELISM) "$"
#define PASSWORD_SALT_TEXT_LENGTH 22 /* ceil(16 * 4 / 3) */
#define PASSWORD_HASH_TEXT_LENGTH 43 /* ceil(32 * 4 / 3) */
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

/* argon2's allocate_cbk: the working block from a fresh anonymous mapping
 * aligned to PASSWORD_HUGE_PAGE and marked for transparent huge pages, so
 * the kernel fills it mostly with 2 MiB pages instead of 4,864 small ones
 * (argon2 writes all of it, and faulting in small pages cost more CPU than
 * the hash itself: docs/performance.md, "Hub memory"). Where huge pages are
 * off the mapping simply gets small ones. The mapping is exactly
 * [*memory, *memory + bytes). */
int password_memory_allocate(uint8_t **memory, size_t bytes)
{
    size_t mapped = bytes + PASSWORD_HUGE_PAGE;
    uint8_t *region =
        mmap(NULL, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint8_t *aligned;

    *memory = NULL;
    if (region == MAP_FAILED) {
        log_error("argon2id: cannot map %zu bytes: %s", mapped, strerror(errno));
        return ARGON2_MEMORY_ALLOCATION_ERROR;
    }
    aligned = region +
              ((PASSWORD_HUGE_PAGE - (uintptr_t)region % PASSWORD_HUGE_PAGE) % PASSWORD_HUGE_PAGE);
    /* Give back the unaligned head and the tail beyond bytes. */
    if (aligned > region)
        munmap(region, (size_t)(aligned - region));
    munmap(aligned + bytes, (size_t)(region + mapped - (aligned + bytes)));
    (void)madvise(aligned, bytes, MADV_HUGEPAGE);
    *memory = aligned;
    return ARGON2_OK;
}

/* argon2's free_cbk: unmap a block of password_memory_allocate() (libargon2
 * has already wiped it), returning its pages to the kernel at once. */
void password_memory_free(uint8_t *memory, size_t bytes)
{
    if (memory != NULL && munmap(memory, bytes) != 0)
        log_error("argon2id: cannot unmap %zu bytes: %s", bytes, strerror(errno));
}

/* A context for our parameters over password, salt and out (all borrowed),
 * whose working memory comes from password_memory_allocate(). */
static void password_context_init(argon2_context *context, const char *password, uint8_t *salt,
                                  uint8_t *out)
{
    memset(context, 0, sizeof(*context));
    context->out = out;
    context->outlen = PASSWORD_HASH_BYTES;
    /* Read only: with ARGON2_DEFAULT_FLAGS libargon2 does not clear it. */
    context->pwd = (uint8_t *)password;
    context->pwdlen = (uint32_t)strlen(password);
    context->salt = salt;
    context->saltlen = PASSWORD_SALT_BYTES;
    context->t_cost = PASSWORD_T_COST;
    context->m_cost = PASSWORD_M_COST_KIB;
    context->lanes = PASSWORD_PARALLELISM;
    context->threads = PASSWORD_PARALLELISM;
    context->version = ARGON2_VERSION_13;
    context->allocate_cbk = password_memory_allocate;
    context->free_cbk = password_memory_free;
    context->flags = ARGON2_DEFAULT_FLAGS;
}

/* Append the unpadded base64 of bytes[0..length) to text (of text_size,
 * holding a string): 0, or -1 if it does not fit. */
static int password_base64_append(char *text, size_t text_size, const uint8_t *bytes, size_t length)
{
    size_t used = strlen(text);
    size_t written = 0;

    if (mbedtls_base64_encode((unsigned char *)text + used, text_size - used, &written, bytes,
                              length) != 0)
        return -1;
    while (written > 0 && text[used + written - 1] == '=')
        written--;
    text[used + written] = '\0';
    return 0;
}

/* Decode exactly length bytes from the text_length characters of unpadded
 * base64 at text, which must be the canonical encoding of those bytes (what
 * password_base64_append() writes): 0, or -1. */
static int password_base64_read(const char *text, size_t text_length, uint8_t *bytes, size_t length)
{
    char padded[PASSWORD_HASH_TEXT_LENGTH + 4];
    char again[sizeof(padded)];
    uint8_t decoded[PASSWORD_HASH_BYTES + 3];
    size_t written = 0;
    int rc = -1;

    if (text_length + 3 > sizeof(padded) || length > PASSWORD_HASH_BYTES)
        goto out;
    for (size_t i = 0; i < text_length; i++) {
        char c = text[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/'))
            goto out;
    }
    memcpy(padded, text, text_length);
    padded[text_length] = '\0';
    while (strlen(padded) % 4 != 0)
        strcat(padded, "=");
    if (mbedtls_base64_decode(decoded, sizeof(decoded), &written, (const unsigned char *)padded,
                              strlen(padded)) != 0 ||
        written != length)
        goto out;
    /* Only the canonical form: no stray bits in the last character. */
    again[0] = '\0';
    if (password_base64_append(again, sizeof(again), decoded, length) != 0 ||
        strlen(again) != text_length || memcmp(again, text, text_length) != 0)
        goto out;
    memcpy(bytes, decoded, length);
    rc = 0;
out:
    mbedtls_platform_zeroize(decoded, sizeof(decoded));
    return rc;
}

int password_hash(const char *password, char *encoded_out, size_t encoded_size)
{
    uint8_t salt[PASSWORD_SALT_BYTES];
    uint8_t hash[PASSWORD_HASH_BYTES];
    argon2_context context;
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

    password_context_init(&context, password, salt, hash);
    password_slot_acquire();
    argon = argon2_ctx(&context, Argon2_id);
    password_slot_release();
    if (argon != ARGON2_OK) {
        log_error("argon2id hashing failed: %s", argon2_error_message(argon));
        goto out;
    }
    snprintf(encoded_out, encoded_size, "%s", PASSWORD_PREFIX);
    if (password_base64_append(encoded_out, encoded_size, salt, sizeof(salt)) != 0 ||
        strlen(encoded_out) + 2 > encoded_size)
        goto out;
    strcat(encoded_out, "$");
    if (password_base64_append(encoded_out, encoded_size, hash, sizeof(hash)) != 0)
        goto out;
    rc = 0;
out:
    if (rc != 0 && encoded_size > 0)
        encoded_out[0] = '\0';
    mbedtls_platform_zeroize(salt, sizeof(salt));
    mbedtls_platform_zeroize(hash, sizeof(hash));
    return rc;
}

/* Read the salt and hash of a PHC string with exactly our parameters:
 * 1 if it is one (salt and hash filled), 0 if it has another prefix, -1 if
 * it has ours but is malformed. */
static int password_decode(const char *encoded, uint8_t *salt, uint8_t *hash)
{
    const char *salt_text = encoded + strlen(PASSWORD_PREFIX);
    const char *hash_text = salt_text + PASSWORD_SALT_TEXT_LENGTH + 1;

    if (strncmp(encoded, PASSWORD_PREFIX, strlen(PASSWORD_PREFIX)) != 0)
        return 0;
    if (strlen(salt_text) != PASSWORD_SALT_TEXT_LENGTH + 1 + PASSWORD_HASH_TEXT_LENGTH ||
        salt_text[PASSWORD_SALT_TEXT_LENGTH] != '$')
        return -1;
    if (password_base64_read(salt_text, PASSWORD_SALT_TEXT_LENGTH, salt, PASSWORD_SALT_BYTES) !=
            0 ||
        password_base64_read(hash_text, PASSWORD_HASH_TEXT_LENGTH, hash, PASSWORD_HASH_BYTES) != 0)
        return -1;
    return 1;
}

enum password_result password_verify(const char *encoded, const char *password)
{
    uint8_t salt[PASSWORD_SALT_BYTES];
    uint8_t expected[PASSWORD_HASH_BYTES];
    uint8_t computed[PASSWORD_HASH_BYTES];
    argon2_context context;
    enum password_result result = PASSWORD_ERROR;
    int argon;

    assert(encoded != NULL && password != NULL);
    switch (password_decode(encoded, salt, expected)) {
    case 1:
        password_context_init(&context, password, salt, computed);
        password_slot_acquire();
        /* Computes into computed and compares in constant time. */
        argon = argon2id_verify_ctx(&context, (const char *)expected);
        password_slot_release();
        break;
    case 0:
        password_slot_acquire();
        argon = argon2id_verify(encoded, password, strlen(password));
        password_slot_release();
        break;
    default:
        argon = ARGON2_DECODING_FAIL;
        break;
    }

    if (argon == ARGON2_OK) {
        result = PASSWORD_MATCH;
    } else if (argon == ARGON2_VERIFY_MISMATCH) {
        result = PASSWORD_MISMATCH;
    } else {
        log_warn("argon2id verification failed: %s", argon2_error_message(argon));
    }
    mbedtls_platform_zeroize(salt, sizeof(salt));
    mbedtls_platform_zeroize(expected, sizeof(expected));
    mbedtls_platform_zeroize(computed, sizeof(computed));
    return result;
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
