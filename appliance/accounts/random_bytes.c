/*
 * random_bytes.c - kernel randomness and base64url tokens (see random_bytes.h).
 *
 * Called from any thread (HTTP handlers creating sessions, the main thread
 * creating the setup token). Stateless: getrandom(2) is thread-safe, so there
 * is nothing to lock. Token buffers belong to the caller.
 */
#define LOG_MODULE "accounts"

#include "accounts/random_bytes.h"

#include <assert.h>
#include <string.h>

#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>
#include <mbedtls/version.h>

#include "common/log.h"
#include "common/system_random.h"

static const char random_bytes_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* See random_bytes.h: the loop over getrandom(2) is common/system_random.c's. */
int random_bytes_fill(void *buffer, size_t length)
{
    char error[128];

    assert(buffer != NULL || length == 0);
    if (system_random_fill(buffer, length, error, sizeof(error)) != 0) {
        log_error("%s", error);
        return -1;
    }
    return 0;
}

/* Standard base64url (RFC 4648 section 5), no '=' padding; caller owns out. */
int random_bytes_base64url(const uint8_t *data, size_t length, char *out, size_t out_size)
{
    size_t needed = (length / 3) * 4 + (length % 3 == 0 ? 0 : length % 3 + 1);
    size_t used = 0;
    size_t i = 0;

    assert(data != NULL || length == 0);
    assert(out != NULL);
    if (out_size < needed + 1)
        return -1;
    for (; i + 3 <= length; i += 3) {
        uint32_t group = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
        out[used++] = random_bytes_alphabet[(group >> 18) & 63];
        out[used++] = random_bytes_alphabet[(group >> 12) & 63];
        out[used++] = random_bytes_alphabet[(group >> 6) & 63];
        out[used++] = random_bytes_alphabet[group & 63];
    }
    if (length - i == 1) {
        uint32_t group = (uint32_t)data[i] << 16;
        out[used++] = random_bytes_alphabet[(group >> 18) & 63];
        out[used++] = random_bytes_alphabet[(group >> 12) & 63];
    } else if (length - i == 2) {
        uint32_t group = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8;
        out[used++] = random_bytes_alphabet[(group >> 18) & 63];
        out[used++] = random_bytes_alphabet[(group >> 12) & 63];
        out[used++] = random_bytes_alphabet[(group >> 6) & 63];
    }
    assert(used == needed);
    out[used] = '\0';
    return (int)used;
}

/* The raw random bytes are wiped once encoded; out belongs to the caller. */
int random_bytes_token(char *out, size_t out_size)
{
    uint8_t raw[RANDOM_BYTES_TOKEN_BYTES];
    int rc = -1;

    assert(out != NULL);
    if (out_size < RANDOM_BYTES_TOKEN_SIZE)
        goto out;
    if (random_bytes_fill(raw, sizeof(raw)) != 0)
        goto out;
    if (random_bytes_base64url(raw, sizeof(raw), out, out_size) != RANDOM_BYTES_TOKEN_LENGTH)
        goto out;
    rc = 0;
out:
    mbedtls_platform_zeroize(raw, sizeof(raw));
    if (rc != 0 && out_size > 0)
        out[0] = '\0';
    return rc;
}

bool random_bytes_token_wellformed(const char *text)
{
    if (text == NULL)
        return false;
    for (size_t i = 0; i < RANDOM_BYTES_TOKEN_LENGTH; i++) {
        char c = text[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
        if (!ok)
            return false; /* includes the terminating NUL of a short string */
    }
    return text[RANDOM_BYTES_TOKEN_LENGTH] == '\0';
}

bool random_bytes_token_equal(const char *a, const char *b)
{
    volatile unsigned char difference = 0;

    if (!random_bytes_token_wellformed(a) || !random_bytes_token_wellformed(b))
        return false;
    for (size_t i = 0; i < RANDOM_BYTES_TOKEN_LENGTH; i++)
        difference |= (unsigned char)(a[i] ^ b[i]);
    return difference == 0;
}

int random_bytes_token_hash(const char *token, uint8_t hash_out[RANDOM_BYTES_TOKEN_HASH])
{
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    int rc = mbedtls_sha256((const unsigned char *)token, strlen(token), hash_out, 0);
#else
    int rc = mbedtls_sha256_ret((const unsigned char *)token, strlen(token), hash_out, 0);
#endif
    if (rc != 0) {
        log_error("SHA-256 failed (%d)", rc);
        return -1;
    }
    return 0;
}
