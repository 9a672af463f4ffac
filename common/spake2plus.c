/*
 * spake2plus.c - SPAKE2+ P256-SHA256-HKDF-SHA256-HMAC-SHA256 (RFC 9383) on
 * mbedTLS 2.28 (see spake2plus.h).
 *
 * Threads: one session per thread at a time; no shared state (the constant
 * points M and N are read-only). Ownership: a session owns its mbedTLS
 * group, numbers, points and CTR_DRBG, and a copy of the context and
 * identities; spake2plus_free() zeroises and releases them.
 *
 * Scalar multiplications by secrets (x, y, w0, w1) go through
 * mbedtls_ecp_mul(), which runs in constant time with randomised
 * coordinates; the additions and the subtraction of w0*M or w0*N go through
 * mbedtls_ecp_muladd() with the public scalar 1.
 */
#include "common/spake2plus.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/bignum.h>
#include <mbedtls/constant_time.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>

#include "common/error_text.h"
#include "common/system_random.h"

/* RFC 9383 section 4, P-256: M and N (given there compressed,
 * 02886e2f...a12f and 03d8bbd6...2b49), here uncompressed as they enter the
 * transcript (and as the RFC's transcript of Appendix C shows them). */
static const uint8_t spake2plus_point_m[SPAKE2PLUS_POINT_SIZE] = {
    0x04, 0x88, 0x6e, 0x2f, 0x97, 0xac, 0xe4, 0x6e, 0x55, 0xba, 0x9d, 0xd7, 0x24,
    0x25, 0x79, 0xf2, 0x99, 0x3b, 0x64, 0xe1, 0x6e, 0xf3, 0xdc, 0xab, 0x95, 0xaf,
    0xd4, 0x97, 0x33, 0x3d, 0x8f, 0xa1, 0x2f, 0x5f, 0xf3, 0x55, 0x16, 0x3e, 0x43,
    0xce, 0x22, 0x4e, 0x0b, 0x0e, 0x65, 0xff, 0x02, 0xac, 0x8e, 0x5c, 0x7b, 0xe0,
    0x94, 0x19, 0xc7, 0x85, 0xe0, 0xca, 0x54, 0x7d, 0x55, 0xa1, 0x2e, 0x2d, 0x20};
static const uint8_t spake2plus_point_n[SPAKE2PLUS_POINT_SIZE] = {
    0x04, 0xd8, 0xbb, 0xd6, 0xc6, 0x39, 0xc6, 0x29, 0x37, 0xb0, 0x4d, 0x99, 0x7f,
    0x38, 0xc3, 0x77, 0x07, 0x19, 0xc6, 0x29, 0xd7, 0x01, 0x4d, 0x49, 0xa2, 0x4b,
    0x4f, 0x98, 0xba, 0xa1, 0x29, 0x2b, 0x49, 0x07, 0xd6, 0x0a, 0xa6, 0xbf, 0xad,
    0xe4, 0x50, 0x08, 0xa6, 0x36, 0x33, 0x7f, 0x51, 0x68, 0xc6, 0x4d, 0x9b, 0xd3,
    0x60, 0x34, 0x80, 0x8c, 0xd5, 0x64, 0x49, 0x0b, 0x1e, 0x65, 0x6e, 0xdb, 0xe7};

static const char spake2plus_info_confirmation[] = "ConfirmationKeys";
static const char spake2plus_info_shared[] = "SharedKey";
static const char spake2plus_personalization[] = "doorstep spake2plus";

enum spake2plus_state {
    SPAKE2PLUS_PROVER_START,      /* next: spake2plus_prover_share() */
    SPAKE2PLUS_PROVER_SHARED,     /* next: spake2plus_prover_confirm() */
    SPAKE2PLUS_VERIFIER_START,    /* next: spake2plus_verifier_respond() */
    SPAKE2PLUS_VERIFIER_ANSWERED, /* next: spake2plus_verifier_finish() */
    SPAKE2PLUS_DONE,              /* K_shared may be read */
    SPAKE2PLUS_FAILED,            /* refuses everything */
};

struct spake2plus {
    enum spake2plus_state state;
    bool prover;
    bool ephemeral_fixed; /* spake2plus_set_ephemeral() chose x or y */
    mbedtls_ecp_group group;
    mbedtls_ctr_drbg_context random;
    mbedtls_mpi w0, w1;    /* w1: prover only */
    mbedtls_mpi ephemeral; /* x (prover) or y (verifier) */
    mbedtls_ecp_point l;   /* verifier only */
    uint8_t context[SPAKE2PLUS_CONTEXT_MAX];
    size_t context_length;
    uint8_t prover_identity[SPAKE2PLUS_IDENTITY_MAX];
    size_t prover_identity_length;
    uint8_t verifier_identity[SPAKE2PLUS_IDENTITY_MAX];
    size_t verifier_identity_length;
    uint8_t share_p[SPAKE2PLUS_POINT_SIZE];
    uint8_t share_v[SPAKE2PLUS_POINT_SIZE];
    uint8_t expected_confirm_p[SPAKE2PLUS_CONFIRM_SIZE]; /* verifier: what the prover must send */
    uint8_t k_shared[SPAKE2PLUS_KEY_SIZE];
    struct spake2plus_trace *trace; /* tests only; NULL otherwise */
};

/* The keys of one run, kept on the stack and wiped by the caller. */
struct spake2plus_keys {
    uint8_t k_main[SPAKE2PLUS_KEY_SIZE];
    uint8_t k_confirm[2 * SPAKE2PLUS_KEY_SIZE]; /* K_confirmP || K_confirmV */
    uint8_t confirm_p[SPAKE2PLUS_CONFIRM_SIZE];
    uint8_t confirm_v[SPAKE2PLUS_CONFIRM_SIZE];
    uint8_t k_shared[SPAKE2PLUS_KEY_SIZE];
};

/* Copy an identity or context of at most max bytes; false when too long. */
static bool spake2plus_copy_string(uint8_t *to, size_t *to_length, const uint8_t *from,
                                   size_t length, size_t max)
{
    if (length > max || (length > 0 && from == NULL))
        return false;
    if (length > 0)
        memcpy(to, from, length);
    *to_length = length;
    return true;
}

/* Read a scalar of SPAKE2PLUS_SCALAR_SIZE big-endian bytes that must lie in
 * [1, p-1]. Returns 0, or -1 with the reason (what names the value). */
static int spake2plus_read_scalar(const mbedtls_ecp_group *group, mbedtls_mpi *to,
                                  const uint8_t *bytes, const char *what, char *error,
                                  size_t error_size)
{
    if (bytes == NULL || mbedtls_mpi_read_binary(to, bytes, SPAKE2PLUS_SCALAR_SIZE) != 0) {
        error_text_set(error, error_size, "%s: cannot read", what);
        return -1;
    }
    if (mbedtls_mpi_cmp_int(to, 0) == 0 || mbedtls_mpi_cmp_mpi(to, &group->N) >= 0) {
        error_text_set(error, error_size, "%s: not in [1, p-1]", what);
        return -1;
    }
    return 0;
}

/* Read a point sent by the peer (or stored): exactly SPAKE2PLUS_POINT_SIZE
 * bytes, uncompressed, on the curve, not the identity (P-256's cofactor is
 * 1, so this is membership of the prime-order group). Returns 0 or -1. */
static int spake2plus_read_point(const mbedtls_ecp_group *group, mbedtls_ecp_point *to,
                                 const uint8_t *bytes, size_t length, const char *what, char *error,
                                 size_t error_size)
{
    if (bytes == NULL || length != SPAKE2PLUS_POINT_SIZE) {
        error_text_set(error, error_size, "%s: wrong length (%zu bytes, want %d)", what,
                       bytes == NULL ? (size_t)0 : length, SPAKE2PLUS_POINT_SIZE);
        return -1;
    }
    if (bytes[0] != 0x04) {
        error_text_set(error, error_size, "%s: not an uncompressed point", what);
        return -1;
    }
    if (mbedtls_ecp_point_read_binary(group, to, bytes, length) != 0) {
        error_text_set(error, error_size, "%s: not a point", what);
        return -1;
    }
    if (mbedtls_ecp_is_zero(to) || mbedtls_ecp_check_pubkey(group, to) != 0) {
        error_text_set(error, error_size, "%s: not on the curve or the identity", what);
        return -1;
    }
    return 0;
}

/* Write a point uncompressed into SPAKE2PLUS_POINT_SIZE bytes. 0 or -1. */
static int spake2plus_write_point(const mbedtls_ecp_group *group, const mbedtls_ecp_point *point,
                                  uint8_t *to)
{
    size_t written = 0;
    if (mbedtls_ecp_is_zero((mbedtls_ecp_point *)point))
        return -1;
    if (mbedtls_ecp_point_write_binary(group, point, MBEDTLS_ECP_PF_UNCOMPRESSED, &written, to,
                                       SPAKE2PLUS_POINT_SIZE) != 0 ||
        written != SPAKE2PLUS_POINT_SIZE)
        return -1;
    return 0;
}

/* result = scalar * base + w0 * mask (the share: base P, mask M or N).
 * Returns 0 or an mbedTLS error. */
static int spake2plus_masked_share(struct spake2plus *session, mbedtls_ecp_point *result,
                                   const mbedtls_mpi *scalar, const uint8_t *mask_bytes)
{
    mbedtls_ecp_point product, mask, masked;
    mbedtls_mpi one;
    int status;

    mbedtls_ecp_point_init(&product);
    mbedtls_ecp_point_init(&mask);
    mbedtls_ecp_point_init(&masked);
    mbedtls_mpi_init(&one);
    status = mbedtls_mpi_lset(&one, 1);
    if (status == 0)
        status = mbedtls_ecp_point_read_binary(&session->group, &mask, mask_bytes,
                                               SPAKE2PLUS_POINT_SIZE);
    if (status == 0)
        status = mbedtls_ecp_mul(&session->group, &product, scalar, &session->group.G,
                                 mbedtls_ctr_drbg_random, &session->random);
    if (status == 0)
        status = mbedtls_ecp_mul(&session->group, &masked, &session->w0, &mask,
                                 mbedtls_ctr_drbg_random, &session->random);
    if (status == 0)
        status = mbedtls_ecp_muladd(&session->group, result, &one, &product, &one, &masked);
    mbedtls_ecp_point_free(&product);
    mbedtls_ecp_point_free(&mask);
    mbedtls_ecp_point_free(&masked);
    mbedtls_mpi_free(&one);
    return status;
}

/* result = share - w0 * mask: the peer's share with the password's mask
 * removed. Returns 0 or an mbedTLS error; the result may be the identity
 * (the caller refuses it). */
static int spake2plus_unmask(struct spake2plus *session, mbedtls_ecp_point *result,
                             const mbedtls_ecp_point *share, const uint8_t *mask_bytes)
{
    mbedtls_ecp_point mask, masked;
    mbedtls_mpi one;
    int status;

    mbedtls_ecp_point_init(&mask);
    mbedtls_ecp_point_init(&masked);
    mbedtls_mpi_init(&one);
    status = mbedtls_mpi_lset(&one, 1);
    if (status == 0)
        status = mbedtls_ecp_point_read_binary(&session->group, &mask, mask_bytes,
                                               SPAKE2PLUS_POINT_SIZE);
    if (status == 0)
        status = mbedtls_ecp_mul(&session->group, &masked, &session->w0, &mask,
                                 mbedtls_ctr_drbg_random, &session->random);
    /* Negate: (x, y) -> (x, p - y); w0*mask is never the identity. */
    if (status == 0)
        status = mbedtls_mpi_sub_mpi(&masked.Y, &session->group.P, &masked.Y);
    if (status == 0)
        status = mbedtls_ecp_muladd(&session->group, result, &one, share, &one, &masked);
    mbedtls_ecp_point_free(&mask);
    mbedtls_ecp_point_free(&masked);
    mbedtls_mpi_free(&one);
    return status;
}

/* Append len(data) as 8 little-endian bytes, then data, to the transcript
 * (bounded by SPAKE2PLUS_TRANSCRIPT_MAX, which the identities' caps keep). */
static void spake2plus_transcript_add(uint8_t *transcript, size_t *length, const uint8_t *data,
                                      size_t data_length)
{
    uint64_t value = data_length;
    int i;

    for (i = 0; i < 8; i++)
        transcript[(*length)++] = (uint8_t)(value >> (8 * i));
    if (data_length > 0)
        memcpy(transcript + *length, data, data_length);
    *length += data_length;
}

/* From Z and V (both computed by the caller): the transcript TT, K_main,
 * K_confirmP || K_confirmV, both confirmations and K_shared into keys
 * (wiped by the caller). Records them in the trace if one is attached.
 * Returns 0, or -1 with the reason. */
static int spake2plus_derive_keys(struct spake2plus *session, const uint8_t *z, const uint8_t *v,
                                  struct spake2plus_keys *keys, char *error, size_t error_size)
{
    const mbedtls_md_info_t *sha256 = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    uint8_t transcript[SPAKE2PLUS_TRANSCRIPT_MAX];
    uint8_t w0[SPAKE2PLUS_SCALAR_SIZE];
    size_t length = 0;
    int result = -1;

    if (sha256 == NULL || mbedtls_mpi_write_binary(&session->w0, w0, sizeof(w0)) != 0) {
        error_text_set(error, error_size, "SHA-256 or w0 unavailable");
        goto out;
    }
    spake2plus_transcript_add(transcript, &length, session->context, session->context_length);
    spake2plus_transcript_add(transcript, &length, session->prover_identity,
                              session->prover_identity_length);
    spake2plus_transcript_add(transcript, &length, session->verifier_identity,
                              session->verifier_identity_length);
    spake2plus_transcript_add(transcript, &length, spake2plus_point_m, SPAKE2PLUS_POINT_SIZE);
    spake2plus_transcript_add(transcript, &length, spake2plus_point_n, SPAKE2PLUS_POINT_SIZE);
    spake2plus_transcript_add(transcript, &length, session->share_p, SPAKE2PLUS_POINT_SIZE);
    spake2plus_transcript_add(transcript, &length, session->share_v, SPAKE2PLUS_POINT_SIZE);
    spake2plus_transcript_add(transcript, &length, z, SPAKE2PLUS_POINT_SIZE);
    spake2plus_transcript_add(transcript, &length, v, SPAKE2PLUS_POINT_SIZE);
    spake2plus_transcript_add(transcript, &length, w0, sizeof(w0));

    if (mbedtls_md(sha256, transcript, length, keys->k_main) != 0 ||
        mbedtls_hkdf(sha256, NULL, 0, keys->k_main, sizeof(keys->k_main),
                     (const uint8_t *)spake2plus_info_confirmation,
                     sizeof(spake2plus_info_confirmation) - 1, keys->k_confirm,
                     sizeof(keys->k_confirm)) != 0 ||
        mbedtls_hkdf(sha256, NULL, 0, keys->k_main, sizeof(keys->k_main),
                     (const uint8_t *)spake2plus_info_shared, sizeof(spake2plus_info_shared) - 1,
                     keys->k_shared, sizeof(keys->k_shared)) != 0 ||
        mbedtls_md_hmac(sha256, keys->k_confirm, SPAKE2PLUS_KEY_SIZE, session->share_v,
                        SPAKE2PLUS_POINT_SIZE, keys->confirm_p) != 0 ||
        mbedtls_md_hmac(sha256, keys->k_confirm + SPAKE2PLUS_KEY_SIZE, SPAKE2PLUS_KEY_SIZE,
                        session->share_p, SPAKE2PLUS_POINT_SIZE, keys->confirm_v) != 0) {
        error_text_set(error, error_size, "key derivation failed");
        goto out;
    }
    if (session->trace != NULL) {
        struct spake2plus_trace *trace = session->trace;
        memcpy(trace->z, z, SPAKE2PLUS_POINT_SIZE);
        memcpy(trace->v, v, SPAKE2PLUS_POINT_SIZE);
        memcpy(trace->transcript, transcript, length);
        trace->transcript_length = length;
        memcpy(trace->k_main, keys->k_main, SPAKE2PLUS_KEY_SIZE);
        memcpy(trace->k_confirm_p, keys->k_confirm, SPAKE2PLUS_KEY_SIZE);
        memcpy(trace->k_confirm_v, keys->k_confirm + SPAKE2PLUS_KEY_SIZE, SPAKE2PLUS_KEY_SIZE);
        memcpy(trace->confirm_p, keys->confirm_p, SPAKE2PLUS_CONFIRM_SIZE);
        memcpy(trace->confirm_v, keys->confirm_v, SPAKE2PLUS_CONFIRM_SIZE);
        memcpy(trace->k_shared, keys->k_shared, SPAKE2PLUS_KEY_SIZE);
    }
    result = 0;
out:
    mbedtls_platform_zeroize(transcript, sizeof(transcript));
    mbedtls_platform_zeroize(w0, sizeof(w0));
    return result;
}

/* Z = scalar * unmasked and V = scalar2 * other, both written uncompressed;
 * then the keys. The prover passes (x, Y - w0*N) and (w1, Y - w0*N); the
 * verifier (y, X - w0*M) and (y, L). Returns 0 or -1 with the reason. */
static int spake2plus_shared_points(struct spake2plus *session, const mbedtls_mpi *z_scalar,
                                    const mbedtls_ecp_point *z_base, const mbedtls_mpi *v_scalar,
                                    const mbedtls_ecp_point *v_base, struct spake2plus_keys *keys,
                                    char *error, size_t error_size)
{
    mbedtls_ecp_point z, v;
    uint8_t z_bytes[SPAKE2PLUS_POINT_SIZE], v_bytes[SPAKE2PLUS_POINT_SIZE];
    int result = -1;

    mbedtls_ecp_point_init(&z);
    mbedtls_ecp_point_init(&v);
    if (mbedtls_ecp_mul(&session->group, &z, z_scalar, z_base, mbedtls_ctr_drbg_random,
                        &session->random) != 0 ||
        mbedtls_ecp_mul(&session->group, &v, v_scalar, v_base, mbedtls_ctr_drbg_random,
                        &session->random) != 0 ||
        spake2plus_write_point(&session->group, &z, z_bytes) != 0 ||
        spake2plus_write_point(&session->group, &v, v_bytes) != 0) {
        error_text_set(error, error_size, "cannot compute Z and V");
        goto out;
    }
    result = spake2plus_derive_keys(session, z_bytes, v_bytes, keys, error, error_size);
out:
    mbedtls_ecp_point_free(&z);
    mbedtls_ecp_point_free(&v);
    mbedtls_platform_zeroize(z_bytes, sizeof(z_bytes));
    mbedtls_platform_zeroize(v_bytes, sizeof(v_bytes));
    return result;
}

/* Draw x or y uniformly in [1, p-1] unless a test fixed it. 0 or -1. */
static int spake2plus_draw_ephemeral(struct spake2plus *session, char *error, size_t error_size)
{
    if (session->ephemeral_fixed)
        return 0;
    if (mbedtls_ecp_gen_privkey(&session->group, &session->ephemeral, mbedtls_ctr_drbg_random,
                                &session->random) != 0) {
        error_text_set(error, error_size, "cannot draw a random scalar");
        return -1;
    }
    return 0;
}

/* The part of both constructors: allocate, copy the strings, load P-256 and
 * seed the generator. Returns the session in its role's first state, or
 * NULL with the reason. */
static struct spake2plus *spake2plus_new(const struct spake2plus_identities *identities,
                                         bool prover, char *error, size_t error_size)
{
    struct spake2plus *session;

    if (identities == NULL) {
        error_text_set(error, error_size, "no identities");
        return NULL;
    }
    session = calloc(1, sizeof(*session));
    if (session == NULL) {
        error_text_set(error, error_size, "out of memory");
        return NULL;
    }
    session->prover = prover;
    session->state = prover ? SPAKE2PLUS_PROVER_START : SPAKE2PLUS_VERIFIER_START;
    mbedtls_ecp_group_init(&session->group);
    mbedtls_ctr_drbg_init(&session->random);
    mbedtls_mpi_init(&session->w0);
    mbedtls_mpi_init(&session->w1);
    mbedtls_mpi_init(&session->ephemeral);
    mbedtls_ecp_point_init(&session->l);
    if (!spake2plus_copy_string(session->context, &session->context_length, identities->context,
                                identities->context_length, SPAKE2PLUS_CONTEXT_MAX) ||
        !spake2plus_copy_string(session->prover_identity, &session->prover_identity_length,
                                identities->prover, identities->prover_length,
                                SPAKE2PLUS_IDENTITY_MAX) ||
        !spake2plus_copy_string(session->verifier_identity, &session->verifier_identity_length,
                                identities->verifier, identities->verifier_length,
                                SPAKE2PLUS_IDENTITY_MAX)) {
        error_text_set(error, error_size, "context or identity too long (at most %d bytes)",
                       SPAKE2PLUS_IDENTITY_MAX);
        goto fail;
    }
    if (mbedtls_ecp_group_load(&session->group, MBEDTLS_ECP_DP_SECP256R1) != 0) {
        error_text_set(error, error_size, "cannot load P-256");
        goto fail;
    }
    if (mbedtls_ctr_drbg_seed(&session->random, system_random_callback, NULL,
                              (const uint8_t *)spake2plus_personalization,
                              sizeof(spake2plus_personalization) - 1) != 0) {
        error_text_set(error, error_size, "cannot seed the random generator");
        goto fail;
    }
    return session;
fail:
    spake2plus_free(session);
    return NULL;
}

/* See spake2plus.h. */
struct spake2plus *spake2plus_prover_new(const struct spake2plus_identities *identities,
                                         const uint8_t *w0, const uint8_t *w1, char *error,
                                         size_t error_size)
{
    struct spake2plus *session = spake2plus_new(identities, true, error, error_size);

    if (session == NULL)
        return NULL;
    if (spake2plus_read_scalar(&session->group, &session->w0, w0, "w0", error, error_size) != 0 ||
        spake2plus_read_scalar(&session->group, &session->w1, w1, "w1", error, error_size) != 0)
        goto fail;
    return session;
fail:
    spake2plus_free(session);
    return NULL;
}

/* See spake2plus.h. */
struct spake2plus *spake2plus_verifier_new(const struct spake2plus_identities *identities,
                                           const uint8_t *w0, const uint8_t *l, char *error,
                                           size_t error_size)
{
    struct spake2plus *session = spake2plus_new(identities, false, error, error_size);

    if (session == NULL)
        return NULL;
    if (spake2plus_read_scalar(&session->group, &session->w0, w0, "w0", error, error_size) != 0 ||
        spake2plus_read_point(&session->group, &session->l, l, SPAKE2PLUS_POINT_SIZE, "L", error,
                              error_size) != 0)
        goto fail;
    return session;
fail:
    spake2plus_free(session);
    return NULL;
}

/* See spake2plus.h. */
void spake2plus_free(struct spake2plus *session)
{
    if (session == NULL)
        return;
    mbedtls_ecp_group_free(&session->group);
    mbedtls_ctr_drbg_free(&session->random); /* zeroises its state */
    mbedtls_mpi_free(&session->w0);          /* mbedtls_mpi_free zeroises the limbs */
    mbedtls_mpi_free(&session->w1);
    mbedtls_mpi_free(&session->ephemeral);
    mbedtls_ecp_point_free(&session->l);
    mbedtls_platform_zeroize(session, sizeof(*session));
    free(session);
}

/* See spake2plus.h. */
void spake2plus_set_trace(struct spake2plus *session, struct spake2plus_trace *trace)
{
    session->trace = trace;
}

/* See spake2plus.h. */
int spake2plus_set_ephemeral(struct spake2plus *session, const uint8_t *scalar, char *error,
                             size_t error_size)
{
    if (session->state != SPAKE2PLUS_PROVER_START && session->state != SPAKE2PLUS_VERIFIER_START) {
        error_text_set(error, error_size, "the ephemeral scalar is fixed before the first message");
        return -1;
    }
    if (spake2plus_read_scalar(&session->group, &session->ephemeral, scalar, "ephemeral scalar",
                               error, error_size) != 0)
        return -1;
    session->ephemeral_fixed = true;
    return 0;
}

/* Refuse a call out of order (and fail the session). 0 when state is the
 * expected one. */
static int spake2plus_expect(struct spake2plus *session, enum spake2plus_state expected,
                             const char *step, char *error, size_t error_size)
{
    if (session->state == expected)
        return 0;
    error_text_set(error, error_size, "%s: %s", step,
                   session->state == SPAKE2PLUS_FAILED ? "the session already failed"
                                                       : "out of order");
    session->state = SPAKE2PLUS_FAILED;
    return -1;
}

/* See spake2plus.h. */
int spake2plus_prover_share(struct spake2plus *session, uint8_t *share_p, size_t share_p_size,
                            char *error, size_t error_size)
{
    mbedtls_ecp_point x_point;
    int result = -1;

    mbedtls_ecp_point_init(&x_point);
    if (spake2plus_expect(session, SPAKE2PLUS_PROVER_START, "prover share", error, error_size) != 0)
        goto out;
    if (share_p == NULL || share_p_size < SPAKE2PLUS_POINT_SIZE) {
        error_text_set(error, error_size, "prover share: buffer too small");
        goto fail;
    }
    if (spake2plus_draw_ephemeral(session, error, error_size) != 0)
        goto fail;
    if (spake2plus_masked_share(session, &x_point, &session->ephemeral, spake2plus_point_m) != 0 ||
        spake2plus_write_point(&session->group, &x_point, session->share_p) != 0) {
        error_text_set(error, error_size, "prover share: cannot compute X");
        goto fail;
    }
    memcpy(share_p, session->share_p, SPAKE2PLUS_POINT_SIZE);
    if (session->trace != NULL)
        memcpy(session->trace->share_p, session->share_p, SPAKE2PLUS_POINT_SIZE);
    session->state = SPAKE2PLUS_PROVER_SHARED;
    result = 0;
    goto out;
fail:
    session->state = SPAKE2PLUS_FAILED;
out:
    mbedtls_ecp_point_free(&x_point);
    return result;
}

/* See spake2plus.h. */
int spake2plus_verifier_respond(struct spake2plus *session, const uint8_t *share_p,
                                size_t share_p_length, uint8_t *share_v, size_t share_v_size,
                                uint8_t *confirm_v, size_t confirm_v_size, char *error,
                                size_t error_size)
{
    mbedtls_ecp_point x_point, y_point, unmasked;
    struct spake2plus_keys keys;
    int result = -1;

    mbedtls_ecp_point_init(&x_point);
    mbedtls_ecp_point_init(&y_point);
    mbedtls_ecp_point_init(&unmasked);
    memset(&keys, 0, sizeof(keys));
    if (spake2plus_expect(session, SPAKE2PLUS_VERIFIER_START, "verifier answer", error,
                          error_size) != 0)
        goto out;
    if (share_v == NULL || share_v_size < SPAKE2PLUS_POINT_SIZE || confirm_v == NULL ||
        confirm_v_size < SPAKE2PLUS_CONFIRM_SIZE) {
        error_text_set(error, error_size, "verifier answer: buffer too small");
        goto fail;
    }
    if (spake2plus_read_point(&session->group, &x_point, share_p, share_p_length, "shareP", error,
                              error_size) != 0)
        goto fail;
    memcpy(session->share_p, share_p, SPAKE2PLUS_POINT_SIZE);
    if (spake2plus_unmask(session, &unmasked, &x_point, spake2plus_point_m) != 0 ||
        mbedtls_ecp_is_zero(&unmasked)) {
        error_text_set(error, error_size, "shareP: cancels the mask");
        goto fail;
    }
    if (spake2plus_draw_ephemeral(session, error, error_size) != 0)
        goto fail;
    if (spake2plus_masked_share(session, &y_point, &session->ephemeral, spake2plus_point_n) != 0 ||
        spake2plus_write_point(&session->group, &y_point, session->share_v) != 0) {
        error_text_set(error, error_size, "verifier answer: cannot compute Y");
        goto fail;
    }
    if (session->trace != NULL) {
        memcpy(session->trace->share_p, session->share_p, SPAKE2PLUS_POINT_SIZE);
        memcpy(session->trace->share_v, session->share_v, SPAKE2PLUS_POINT_SIZE);
    }
    if (spake2plus_shared_points(session, &session->ephemeral, &unmasked, &session->ephemeral,
                                 &session->l, &keys, error, error_size) != 0)
        goto fail;
    memcpy(share_v, session->share_v, SPAKE2PLUS_POINT_SIZE);
    memcpy(confirm_v, keys.confirm_v, SPAKE2PLUS_CONFIRM_SIZE);
    memcpy(session->expected_confirm_p, keys.confirm_p, SPAKE2PLUS_CONFIRM_SIZE);
    memcpy(session->k_shared, keys.k_shared, SPAKE2PLUS_KEY_SIZE);
    session->state = SPAKE2PLUS_VERIFIER_ANSWERED;
    result = 0;
    goto out;
fail:
    session->state = SPAKE2PLUS_FAILED;
out:
    /* y is used once: a second answer would need a new session anyway. */
    mbedtls_mpi_free(&session->ephemeral);
    mbedtls_ecp_point_free(&x_point);
    mbedtls_ecp_point_free(&y_point);
    mbedtls_ecp_point_free(&unmasked);
    mbedtls_platform_zeroize(&keys, sizeof(keys));
    return result;
}

/* See spake2plus.h. */
int spake2plus_prover_confirm(struct spake2plus *session, const uint8_t *share_v,
                              size_t share_v_length, const uint8_t *confirm_v,
                              size_t confirm_v_length, uint8_t *confirm_p, size_t confirm_p_size,
                              char *error, size_t error_size)
{
    mbedtls_ecp_point y_point, unmasked;
    struct spake2plus_keys keys;
    int result = -1;

    mbedtls_ecp_point_init(&y_point);
    mbedtls_ecp_point_init(&unmasked);
    memset(&keys, 0, sizeof(keys));
    if (spake2plus_expect(session, SPAKE2PLUS_PROVER_SHARED, "prover confirmation", error,
                          error_size) != 0)
        goto out;
    if (confirm_p == NULL || confirm_p_size < SPAKE2PLUS_CONFIRM_SIZE) {
        error_text_set(error, error_size, "prover confirmation: buffer too small");
        goto fail;
    }
    if (spake2plus_read_point(&session->group, &y_point, share_v, share_v_length, "shareV", error,
                              error_size) != 0)
        goto fail;
    if (confirm_v == NULL || confirm_v_length != SPAKE2PLUS_CONFIRM_SIZE) {
        error_text_set(error, error_size, "confirmV: wrong length (want %d bytes)",
                       SPAKE2PLUS_CONFIRM_SIZE);
        goto fail;
    }
    memcpy(session->share_v, share_v, SPAKE2PLUS_POINT_SIZE);
    if (session->trace != NULL)
        memcpy(session->trace->share_v, session->share_v, SPAKE2PLUS_POINT_SIZE);
    if (spake2plus_unmask(session, &unmasked, &y_point, spake2plus_point_n) != 0 ||
        mbedtls_ecp_is_zero(&unmasked)) {
        error_text_set(error, error_size, "shareV: cancels the mask");
        goto fail;
    }
    if (spake2plus_shared_points(session, &session->ephemeral, &unmasked, &session->w1, &unmasked,
                                 &keys, error, error_size) != 0)
        goto fail;
    if (mbedtls_ct_memcmp(keys.confirm_v, confirm_v, SPAKE2PLUS_CONFIRM_SIZE) != 0) {
        error_text_set(error, error_size, "confirmV does not match: wrong setup code");
        goto fail;
    }
    memcpy(confirm_p, keys.confirm_p, SPAKE2PLUS_CONFIRM_SIZE);
    memcpy(session->k_shared, keys.k_shared, SPAKE2PLUS_KEY_SIZE);
    session->state = SPAKE2PLUS_DONE;
    result = 0;
    goto out;
fail:
    session->state = SPAKE2PLUS_FAILED;
out:
    mbedtls_mpi_free(&session->ephemeral);
    mbedtls_ecp_point_free(&y_point);
    mbedtls_ecp_point_free(&unmasked);
    mbedtls_platform_zeroize(&keys, sizeof(keys));
    return result;
}

/* See spake2plus.h. */
int spake2plus_verifier_finish(struct spake2plus *session, const uint8_t *confirm_p,
                               size_t confirm_p_length, char *error, size_t error_size)
{
    if (spake2plus_expect(session, SPAKE2PLUS_VERIFIER_ANSWERED, "verifier finish", error,
                          error_size) != 0)
        return -1;
    if (confirm_p == NULL || confirm_p_length != SPAKE2PLUS_CONFIRM_SIZE) {
        error_text_set(error, error_size, "confirmP: wrong length (want %d bytes)",
                       SPAKE2PLUS_CONFIRM_SIZE);
        goto fail;
    }
    if (mbedtls_ct_memcmp(session->expected_confirm_p, confirm_p, SPAKE2PLUS_CONFIRM_SIZE) != 0) {
        error_text_set(error, error_size, "confirmP does not match: wrong setup code");
        goto fail;
    }
    mbedtls_platform_zeroize(session->expected_confirm_p, sizeof(session->expected_confirm_p));
    session->state = SPAKE2PLUS_DONE;
    return 0;
fail:
    mbedtls_platform_zeroize(session->expected_confirm_p, sizeof(session->expected_confirm_p));
    mbedtls_platform_zeroize(session->k_shared, sizeof(session->k_shared));
    session->state = SPAKE2PLUS_FAILED;
    return -1;
}

/* See spake2plus.h. */
int spake2plus_shared_key(const struct spake2plus *session, uint8_t *key, size_t key_size,
                          char *error, size_t error_size)
{
    if (session->state != SPAKE2PLUS_DONE) {
        error_text_set(error, error_size, "the key exists only after both confirmations");
        return -1;
    }
    if (key == NULL || key_size < SPAKE2PLUS_KEY_SIZE) {
        error_text_set(error, error_size, "key buffer too small");
        return -1;
    }
    memcpy(key, session->k_shared, SPAKE2PLUS_KEY_SIZE);
    return 0;
}

/* See spake2plus.h. Uses a throwaway generator for the multiplication's
 * blinding. */
int spake2plus_compute_l(const uint8_t *w1, uint8_t *l, size_t l_size, char *error,
                         size_t error_size)
{
    struct spake2plus_identities none = {0};
    struct spake2plus *session = NULL;
    mbedtls_ecp_point point;
    int result = -1;

    mbedtls_ecp_point_init(&point);
    if (l == NULL || l_size < SPAKE2PLUS_POINT_SIZE) {
        error_text_set(error, error_size, "L buffer too small");
        goto out;
    }
    session = spake2plus_new(&none, true, error, error_size);
    if (session == NULL)
        goto out;
    if (spake2plus_read_scalar(&session->group, &session->w1, w1, "w1", error, error_size) != 0)
        goto out;
    if (mbedtls_ecp_mul(&session->group, &point, &session->w1, &session->group.G,
                        mbedtls_ctr_drbg_random, &session->random) != 0 ||
        spake2plus_write_point(&session->group, &point, l) != 0) {
        error_text_set(error, error_size, "cannot compute L");
        goto out;
    }
    result = 0;
out:
    mbedtls_ecp_point_free(&point);
    spake2plus_free(session);
    return result;
}

/* See spake2plus.h. */
int spake2plus_reduce_scalar(const uint8_t *half, size_t half_length, uint8_t *scalar, char *error,
                             size_t error_size)
{
    mbedtls_ecp_group group;
    mbedtls_mpi value, reduced;
    int result = -1;

    mbedtls_ecp_group_init(&group);
    mbedtls_mpi_init(&value);
    mbedtls_mpi_init(&reduced);
    if (half == NULL || scalar == NULL || half_length == 0) {
        error_text_set(error, error_size, "nothing to reduce");
        goto out;
    }
    if (mbedtls_ecp_group_load(&group, MBEDTLS_ECP_DP_SECP256R1) != 0 ||
        mbedtls_mpi_read_binary(&value, half, half_length) != 0 ||
        mbedtls_mpi_mod_mpi(&reduced, &value, &group.N) != 0 ||
        mbedtls_mpi_write_binary(&reduced, scalar, SPAKE2PLUS_SCALAR_SIZE) != 0) {
        error_text_set(error, error_size, "cannot reduce modulo p");
        goto out;
    }
    if (mbedtls_mpi_cmp_int(&reduced, 0) == 0) {
        mbedtls_platform_zeroize(scalar, SPAKE2PLUS_SCALAR_SIZE);
        error_text_set(error, error_size, "the scalar reduces to zero");
        goto out;
    }
    result = 0;
out:
    mbedtls_ecp_group_free(&group);
    mbedtls_mpi_free(&value);
    mbedtls_mpi_free(&reduced);
    return result;
}
