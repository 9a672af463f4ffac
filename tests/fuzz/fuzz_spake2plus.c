/*
 * fuzz_spake2plus.c - libFuzzer harness for the SPAKE2+ message checks
 * (common/spake2plus.c): arbitrary bytes as the peer's share and
 * confirmation, fed to both roles.
 *
 * Input: byte 0 is the share's length (cut to what follows), then the share,
 * then the rest is the confirmation. Each input goes to a verifier (the
 * doorbell: shareP, then confirmP) and a prover (the hub: shareV and
 * confirmV), both made from RFC 9383's Appendix C vector with its x and y,
 * so a run is deterministic. Invariants: a refusal carries a non-empty,
 * terminated reason; a session completes only on the vector's own messages
 * (shareP and confirmP, or shareV and confirmV); and a completed session
 * holds the vector's K_shared.
 *
 * Runs on libFuzzer's single thread; each input's sessions are freed
 * before returning.
 * FUZZ_SOURCES:
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/spake2plus.h"

#define FUZZ_ERROR_SIZE 128

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort (a finding for libFuzzer) when an invariant does not hold. */
#define FUZZ_CHECK(condition)                                                                      \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition);          \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* RFC 9383, Appendix C, SPAKE2+-P256-SHA256-HKDF-SHA256-HMAC-SHA256. */
static const char fuzz_context[] = "SPAKE2+-P256-SHA256-HKDF-SHA256-HMAC-SHA256 Test Vectors";
static const uint8_t fuzz_w0[] = {0xbb, 0x8e, 0x1b, 0xbc, 0xf3, 0xc4, 0x8f, 0x62, 0xc0, 0x8d, 0xb2,
                                  0x43, 0x65, 0x2a, 0xe5, 0x5d, 0x3e, 0x55, 0x86, 0x05, 0x3f, 0xca,
                                  0x77, 0x10, 0x29, 0x94, 0xf2, 0x3a, 0xd9, 0x54, 0x91, 0xb3};
static const uint8_t fuzz_w1[] = {0x7e, 0x94, 0x5f, 0x34, 0xd7, 0x87, 0x85, 0xb8, 0xa3, 0xef, 0x44,
                                  0xd0, 0xdf, 0x5a, 0x1a, 0x97, 0xd6, 0xb3, 0xb4, 0x60, 0x40, 0x9a,
                                  0x34, 0x5c, 0xa7, 0x83, 0x03, 0x87, 0xa7, 0x4b, 0x1d, 0xba};
static const uint8_t fuzz_l[] = {0x04, 0xeb, 0x7c, 0x9d, 0xb3, 0xd9, 0xa9, 0xeb, 0x1f, 0x8a, 0xda,
                                 0xb8, 0x1b, 0x57, 0x94, 0xc1, 0xf1, 0x3a, 0xe3, 0xe2, 0x25, 0xef,
                                 0xbe, 0x91, 0xea, 0x48, 0x74, 0x25, 0x85, 0x4c, 0x7f, 0xc0, 0x0f,
                                 0x00, 0xbf, 0xed, 0xcb, 0xd0, 0x9b, 0x24, 0x00, 0x14, 0x2d, 0x40,
                                 0xa1, 0x4f, 0x20, 0x64, 0xef, 0x31, 0xdf, 0xaa, 0x90, 0x3b, 0x91,
                                 0xd1, 0xfa, 0xea, 0x70, 0x93, 0xd8, 0x35, 0x96, 0x6e, 0xfd};
static const uint8_t fuzz_x[] = {0xd1, 0x23, 0x2c, 0x8e, 0x86, 0x93, 0xd0, 0x23, 0x68, 0x97, 0x6c,
                                 0x17, 0x4e, 0x20, 0x88, 0x85, 0x1b, 0x83, 0x65, 0xd0, 0xd7, 0x9a,
                                 0x9e, 0xee, 0x70, 0x9c, 0x6a, 0x05, 0xa2, 0xfa, 0xd5, 0x39};
static const uint8_t fuzz_share_p[] = {
    0x04, 0xef, 0x3b, 0xd0, 0x51, 0xbf, 0x78, 0xa2, 0x23, 0x4e, 0xc0, 0xdf, 0x19,
    0x7f, 0x78, 0x28, 0x06, 0x0f, 0xe9, 0x85, 0x65, 0x03, 0x57, 0x9b, 0xb1, 0x73,
    0x30, 0x09, 0x04, 0x2c, 0x15, 0xc0, 0xc1, 0xde, 0x12, 0x77, 0x27, 0xf4, 0x18,
    0xb5, 0x96, 0x6a, 0xfa, 0xdf, 0xdd, 0x95, 0xa6, 0xe4, 0x59, 0x1d, 0x17, 0x10,
    0x56, 0xb3, 0x33, 0xda, 0xb9, 0x7a, 0x79, 0xc7, 0x19, 0x3e, 0x34, 0x17, 0x27};
static const uint8_t fuzz_y[] = {0x71, 0x7a, 0x72, 0x34, 0x8a, 0x18, 0x20, 0x85, 0x10, 0x9c, 0x8d,
                                 0x39, 0x17, 0xd6, 0xc4, 0x3d, 0x59, 0xb2, 0x24, 0xdc, 0x6a, 0x7f,
                                 0xc4, 0xf0, 0x48, 0x32, 0x32, 0xfa, 0x65, 0x16, 0xd8, 0xb3};
static const uint8_t fuzz_share_v[] = {
    0x04, 0xc0, 0xf6, 0x5d, 0xa0, 0xd1, 0x19, 0x27, 0xbd, 0xf5, 0xd5, 0x60, 0xc6,
    0x9e, 0x1d, 0x7d, 0x93, 0x9a, 0x05, 0xb0, 0xe8, 0x82, 0x91, 0x88, 0x7d, 0x67,
    0x9f, 0xca, 0xde, 0xa7, 0x58, 0x10, 0xfb, 0x5c, 0xc1, 0xca, 0x74, 0x94, 0xdb,
    0x39, 0xe8, 0x2f, 0xf2, 0xf5, 0x06, 0x65, 0x25, 0x5d, 0x76, 0x17, 0x3e, 0x09,
    0x98, 0x6a, 0xb4, 0x67, 0x42, 0xc7, 0x98, 0xa9, 0xa6, 0x84, 0x37, 0xb0, 0x48};
static const uint8_t fuzz_confirm_p[] = {
    0x92, 0x6c, 0xc7, 0x13, 0x50, 0x4b, 0x9b, 0x4d, 0x76, 0xc9, 0x16, 0x2d, 0xed, 0x04, 0xb5, 0x49,
    0x3e, 0x89, 0x10, 0x9f, 0x6d, 0x89, 0x46, 0x2c, 0xd3, 0x3a, 0xdc, 0x46, 0xfd, 0xa2, 0x75, 0x27};
static const uint8_t fuzz_confirm_v[] = {
    0x97, 0x47, 0xbc, 0xc4, 0xf8, 0xfe, 0x9f, 0x63, 0xde, 0xfe, 0xe5, 0x3a, 0xc9, 0xb0, 0x78, 0x76,
    0xd9, 0x07, 0xd5, 0x50, 0x47, 0xe6, 0xff, 0x2d, 0xef, 0x2e, 0x75, 0x29, 0x08, 0x9d, 0x3e, 0x68};
static const uint8_t fuzz_k_shared[] = {
    0x0c, 0x5f, 0x8c, 0xcd, 0x14, 0x13, 0x42, 0x3a, 0x54, 0xf6, 0xc1, 0xfb, 0x26, 0xff, 0x01, 0x53,
    0x4a, 0x87, 0xf8, 0x93, 0x77, 0x9c, 0x6e, 0x68, 0x66, 0x6d, 0x77, 0x2b, 0xfd, 0x91, 0xf3, 0xe7};

static const struct spake2plus_identities fuzz_identities = {
    .context = (const uint8_t *)fuzz_context,
    .context_length = sizeof(fuzz_context) - 1,
    .prover = (const uint8_t *)"client",
    .prover_length = 6,
    .verifier = (const uint8_t *)"server",
    .verifier_length = 6,
};

/* A refusal's reason: non-empty and terminated within the buffer. */
static void fuzz_check_reason(const char *error)
{
    FUZZ_CHECK(memchr(error, '\0', FUZZ_ERROR_SIZE) != NULL);
    FUZZ_CHECK(error[0] != '\0');
}

/* True when the bytes are exactly expected. */
static bool fuzz_equal(const uint8_t *bytes, size_t length, const uint8_t *expected,
                       size_t expected_length)
{
    return length == expected_length && memcmp(bytes, expected, length) == 0;
}

/* A completed session holds the vector's key. */
static void fuzz_check_key(const struct spake2plus *session)
{
    uint8_t key[SPAKE2PLUS_KEY_SIZE];
    char error[FUZZ_ERROR_SIZE] = "";
    FUZZ_CHECK(spake2plus_shared_key(session, key, sizeof(key), error, sizeof(error)) == 0);
    FUZZ_CHECK(memcmp(key, fuzz_k_shared, sizeof(key)) == 0);
}

/* The doorbell's side: share is shareP, confirm is confirmP. */
static void fuzz_verifier(const uint8_t *share, size_t share_length, const uint8_t *confirm,
                          size_t confirm_length)
{
    uint8_t share_v[SPAKE2PLUS_POINT_SIZE], confirm_v[SPAKE2PLUS_CONFIRM_SIZE];
    char error[FUZZ_ERROR_SIZE] = "";
    struct spake2plus *verifier;

    verifier = spake2plus_verifier_new(&fuzz_identities, fuzz_w0, fuzz_l, error, sizeof(error));
    FUZZ_CHECK(verifier != NULL);
    FUZZ_CHECK(spake2plus_set_ephemeral(verifier, fuzz_y, error, sizeof(error)) == 0);
    if (spake2plus_verifier_respond(verifier, share, share_length, share_v, sizeof(share_v),
                                    confirm_v, sizeof(confirm_v), error, sizeof(error)) != 0) {
        fuzz_check_reason(error);
        goto out;
    }
    FUZZ_CHECK(share_length == SPAKE2PLUS_POINT_SIZE);
    if (spake2plus_verifier_finish(verifier, confirm, confirm_length, error, sizeof(error)) != 0) {
        fuzz_check_reason(error);
        goto out;
    }
    FUZZ_CHECK(fuzz_equal(share, share_length, fuzz_share_p, sizeof(fuzz_share_p)));
    FUZZ_CHECK(fuzz_equal(confirm, confirm_length, fuzz_confirm_p, sizeof(fuzz_confirm_p)));
    fuzz_check_key(verifier);
out:
    spake2plus_free(verifier);
}

/* The hub's side: share is shareV, confirm is confirmV. */
static void fuzz_prover(const uint8_t *share, size_t share_length, const uint8_t *confirm,
                        size_t confirm_length)
{
    uint8_t share_p[SPAKE2PLUS_POINT_SIZE], confirm_p[SPAKE2PLUS_CONFIRM_SIZE];
    char error[FUZZ_ERROR_SIZE] = "";
    struct spake2plus *prover;

    prover = spake2plus_prover_new(&fuzz_identities, fuzz_w0, fuzz_w1, error, sizeof(error));
    FUZZ_CHECK(prover != NULL);
    FUZZ_CHECK(spake2plus_set_ephemeral(prover, fuzz_x, error, sizeof(error)) == 0);
    FUZZ_CHECK(spake2plus_prover_share(prover, share_p, sizeof(share_p), error, sizeof(error)) ==
               0);
    FUZZ_CHECK(memcmp(share_p, fuzz_share_p, sizeof(share_p)) == 0);
    if (spake2plus_prover_confirm(prover, share, share_length, confirm, confirm_length, confirm_p,
                                  sizeof(confirm_p), error, sizeof(error)) != 0) {
        fuzz_check_reason(error);
        goto out;
    }
    FUZZ_CHECK(fuzz_equal(share, share_length, fuzz_share_v, sizeof(fuzz_share_v)));
    FUZZ_CHECK(fuzz_equal(confirm, confirm_length, fuzz_confirm_v, sizeof(fuzz_confirm_v)));
    FUZZ_CHECK(memcmp(confirm_p, fuzz_confirm_p, sizeof(confirm_p)) == 0);
    fuzz_check_key(prover);
out:
    spake2plus_free(prover);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t share_length;
    const uint8_t *share, *confirm;

    if (size == 0) {
        fuzz_verifier(NULL, 0, NULL, 0);
        fuzz_prover(NULL, 0, NULL, 0);
        return 0;
    }
    share_length = data[0] < size - 1 ? data[0] : size - 1;
    share = data + 1;
    confirm = share + share_length;
    fuzz_verifier(share, share_length, confirm, size - 1 - share_length);
    fuzz_prover(share, share_length, confirm, size - 1 - share_length);
    return 0;
}
