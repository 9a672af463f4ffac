/*
 * test_spake2plus.c - SPAKE2+ (common/spake2plus.c) against RFC 9383's
 * Appendix C vectors for P256-SHA256-HKDF-SHA256-HMAC-SHA256, both roles and
 * every intermediate (shareP, shareV, Z, V, TT, K_main, K_confirmP,
 * K_confirmV, confirmP, confirmV, K_shared, and L from w1); the constant
 * points M and N against the RFC's compressed forms; and the refusals:
 * malformed shares (wrong length, compressed, off the curve, coordinates
 * past the field, the share that cancels the mask), wrong confirmations,
 * calls out of order, and a failed session refusing everything after.
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

#include <mbedtls/ecp.h>

#include "common/spake2plus.h"

#define TEST_ERROR_SIZE 160

/* RFC 9383, Appendix C, SPAKE2+-P256-SHA256-HKDF-SHA256-HMAC-SHA256. */
static const char test_context[] = "SPAKE2+-P256-SHA256-HKDF-SHA256-HMAC-SHA256 Test Vectors";
static const char test_prover[] = "client";
static const char test_verifier[] = "server";
static const char test_w0[] = "bb8e1bbcf3c48f62c08db243652ae55d3e5586053fca77102994f23ad95491b3";
static const char test_w1[] = "7e945f34d78785b8a3ef44d0df5a1a97d6b3b460409a345ca7830387a74b1dba";
static const char test_l[] = "04eb7c9db3d9a9eb1f8adab81b5794c1f13ae3e225efbe91ea487425854c7fc00f"
                             "00bfedcbd09b2400142d40a14f2064ef31dfaa903b91d1faea7093d835966efd";
static const char test_x[] = "d1232c8e8693d02368976c174e2088851b8365d0d79a9eee709c6a05a2fad539";
static const char test_share_p[] =
    "04ef3bd051bf78a2234ec0df197f7828060fe9856503579bb1733009042c15c0c1"
    "de127727f418b5966afadfdd95a6e4591d171056b333dab97a79c7193e341727";
static const char test_y[] = "717a72348a182085109c8d3917d6c43d59b224dc6a7fc4f0483232fa6516d8b3";
static const char test_share_v[] =
    "04c0f65da0d11927bdf5d560c69e1d7d939a05b0e88291887d679fcadea75810fb"
    "5cc1ca7494db39e82ff2f50665255d76173e09986ab46742c798a9a68437b048";
static const char test_z[] = "04bbfce7dd7f277819c8da21544afb7964705569bdf12fb92aa388059408d50091"
                             "a0c5f1d3127f56813b5337f9e4e67e2ca633117a4fbd559946ab474356c41839";
static const char test_v[] = "0458bf27c6bca011c9ce1930e8984a797a3419797b936629a5a937cf2f11c8b951"
                             "4b82b993da8a46e664f23db7c01edc87faa530db01c2ee405230b18997f16b68";
static const char test_tt[] =
    "38000000000000005350414b45322b2d503235362d5348413235362d484b44462d5348413235362d484d41432d"
    "534841323536205465737420566563746f72730600000000000000636c69656e74060000000000000073657276"
    "6572410000000000000004886e2f97ace46e55ba9dd7242579f2993b64e16ef3dcab95afd497333d8fa12f5ff3"
    "55163e43ce224e0b0e65ff02ac8e5c7be09419c785e0ca547d55a12e2d20410000000000000004d8bbd6c639c6"
    "2937b04d997f38c3770719c629d7014d49a24b4f98baa1292b4907d60aa6bfade45008a636337f5168c64d9bd3"
    "6034808cd564490b1e656edbe7410000000000000004ef3bd051bf78a2234ec0df197f7828060fe9856503579b"
    "b1733009042c15c0c1de127727f418b5966afadfdd95a6e4591d171056b333dab97a79c7193e34172741000000"
    "0000000004c0f65da0d11927bdf5d560c69e1d7d939a05b0e88291887d679fcadea75810fb5cc1ca7494db39e8"
    "2ff2f50665255d76173e09986ab46742c798a9a68437b048410000000000000004bbfce7dd7f277819c8da2154"
    "4afb7964705569bdf12fb92aa388059408d50091a0c5f1d3127f56813b5337f9e4e67e2ca633117a4fbd559946"
    "ab474356c4183941000000000000000458bf27c6bca011c9ce1930e8984a797a3419797b936629a5a937cf2f11"
    "c8b9514b82b993da8a46e664f23db7c01edc87faa530db01c2ee405230b18997f16b682000000000000000bb8e"
    "1bbcf3c48f62c08db243652ae55d3e5586053fca77102994f23ad95491b3";
static const char test_k_main[] =
    "4c59e1ccf2cfb961aa31bd9434478a1089b56cd11542f53d3576fb6c2a438a29";
static const char test_k_confirm_p[] =
    "871ae3f7b78445e34438fb284504240239031c39d80ac23eb5ab9be5ad6db58a";
static const char test_k_confirm_v[] =
    "ccd53c7c1fa37b64a462b40db8be101cedcf838950162902054e644b400f1680";
static const char test_confirm_p[] =
    "926cc713504b9b4d76c9162ded04b5493e89109f6d89462cd33adc46fda27527";
static const char test_confirm_v[] =
    "9747bcc4f8fe9f63defee53ac9b07876d907d55047e6ff2def2e7529089d3e68";
static const char test_k_shared[] =
    "0c5f8ccd1413423a54f6c1fb26ff01534a87f893779c6e68666d772bfd91f3e7";
/* RFC 9383 section 4: M and N for P-256, compressed. */
static const char test_m_compressed[] =
    "02886e2f97ace46e55ba9dd7242579f2993b64e16ef3dcab95afd497333d8fa12f";
static const char test_n_compressed[] =
    "03d8bbd6c639c62937b04d997f38c3770719c629d7014d49a24b4f98baa1292b49";

/* Decode hex (even length, lower case) into out; returns the byte count. */
static size_t test_unhex(const char *hex, uint8_t *out, size_t out_size)
{
    size_t length = strlen(hex) / 2, i;
    assert_true(length <= out_size);
    for (i = 0; i < length; i++) {
        unsigned int byte;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &byte), 1);
        out[i] = (uint8_t)byte;
    }
    return length;
}

/* Compare bytes with the vector's hex, naming the value on a mismatch. */
static void test_expect_hex(const char *name, const uint8_t *bytes, size_t length, const char *hex)
{
    uint8_t expected[SPAKE2PLUS_TRANSCRIPT_MAX];
    size_t expected_length = test_unhex(hex, expected, sizeof(expected));
    if (expected_length != length || memcmp(expected, bytes, length) != 0) {
        size_t i;
        printf("%s differs from RFC 9383; got ", name);
        for (i = 0; i < length; i++)
            printf("%02x", bytes[i]);
        printf("\n");
        fail();
    }
}

static const struct spake2plus_identities test_identities = {
    .context = (const uint8_t *)test_context,
    .context_length = sizeof(test_context) - 1,
    .prover = (const uint8_t *)test_prover,
    .prover_length = sizeof(test_prover) - 1,
    .verifier = (const uint8_t *)test_verifier,
    .verifier_length = sizeof(test_verifier) - 1,
};

/* A prover session of the vector with x fixed, traced into trace. */
static struct spake2plus *test_prover_new(struct spake2plus_trace *trace)
{
    uint8_t w0[SPAKE2PLUS_SCALAR_SIZE], w1[SPAKE2PLUS_SCALAR_SIZE], x[SPAKE2PLUS_SCALAR_SIZE];
    char error[TEST_ERROR_SIZE] = "";
    struct spake2plus *prover;

    test_unhex(test_w0, w0, sizeof(w0));
    test_unhex(test_w1, w1, sizeof(w1));
    test_unhex(test_x, x, sizeof(x));
    prover = spake2plus_prover_new(&test_identities, w0, w1, error, sizeof(error));
    assert_non_null(prover);
    spake2plus_set_trace(prover, trace);
    assert_int_equal(spake2plus_set_ephemeral(prover, x, error, sizeof(error)), 0);
    return prover;
}

/* A verifier session of the vector with y fixed, traced into trace. */
static struct spake2plus *test_verifier_new(struct spake2plus_trace *trace)
{
    uint8_t w0[SPAKE2PLUS_SCALAR_SIZE], l[SPAKE2PLUS_POINT_SIZE], y[SPAKE2PLUS_SCALAR_SIZE];
    char error[TEST_ERROR_SIZE] = "";
    struct spake2plus *verifier;

    test_unhex(test_w0, w0, sizeof(w0));
    test_unhex(test_l, l, sizeof(l));
    test_unhex(test_y, y, sizeof(y));
    verifier = spake2plus_verifier_new(&test_identities, w0, l, error, sizeof(error));
    assert_non_null(verifier);
    spake2plus_set_trace(verifier, trace);
    assert_int_equal(spake2plus_set_ephemeral(verifier, y, error, sizeof(error)), 0);
    return verifier;
}

/* Every value both roles compute, against the vector. */
static void test_expect_trace(const struct spake2plus_trace *trace)
{
    test_expect_hex("shareP", trace->share_p, SPAKE2PLUS_POINT_SIZE, test_share_p);
    test_expect_hex("shareV", trace->share_v, SPAKE2PLUS_POINT_SIZE, test_share_v);
    test_expect_hex("Z", trace->z, SPAKE2PLUS_POINT_SIZE, test_z);
    test_expect_hex("V", trace->v, SPAKE2PLUS_POINT_SIZE, test_v);
    test_expect_hex("TT", trace->transcript, trace->transcript_length, test_tt);
    test_expect_hex("K_main", trace->k_main, SPAKE2PLUS_KEY_SIZE, test_k_main);
    test_expect_hex("K_confirmP", trace->k_confirm_p, SPAKE2PLUS_KEY_SIZE, test_k_confirm_p);
    test_expect_hex("K_confirmV", trace->k_confirm_v, SPAKE2PLUS_KEY_SIZE, test_k_confirm_v);
    test_expect_hex("confirmP", trace->confirm_p, SPAKE2PLUS_CONFIRM_SIZE, test_confirm_p);
    test_expect_hex("confirmV", trace->confirm_v, SPAKE2PLUS_CONFIRM_SIZE, test_confirm_v);
    test_expect_hex("K_shared", trace->k_shared, SPAKE2PLUS_KEY_SIZE, test_k_shared);
}

/* The prover (the hub's role) replays the vector: its shareP, then on the
 * RFC's shareV and confirmV every intermediate and its confirmP. */
static void test_prover_vector(void **state)
{
    static struct spake2plus_trace trace;
    uint8_t share_p[SPAKE2PLUS_POINT_SIZE], share_v[SPAKE2PLUS_POINT_SIZE];
    uint8_t confirm_v[SPAKE2PLUS_CONFIRM_SIZE], confirm_p[SPAKE2PLUS_CONFIRM_SIZE];
    uint8_t key[SPAKE2PLUS_KEY_SIZE];
    char error[TEST_ERROR_SIZE] = "";
    struct spake2plus *prover;
    (void)state;

    memset(&trace, 0, sizeof(trace));
    prover = test_prover_new(&trace);
    assert_int_equal(spake2plus_shared_key(prover, key, sizeof(key), error, sizeof(error)), -1);
    assert_int_equal(
        spake2plus_prover_share(prover, share_p, sizeof(share_p), error, sizeof(error)), 0);
    test_expect_hex("shareP (sent)", share_p, sizeof(share_p), test_share_p);
    test_unhex(test_share_v, share_v, sizeof(share_v));
    test_unhex(test_confirm_v, confirm_v, sizeof(confirm_v));
    assert_int_equal(spake2plus_prover_confirm(prover, share_v, sizeof(share_v), confirm_v,
                                               sizeof(confirm_v), confirm_p, sizeof(confirm_p),
                                               error, sizeof(error)),
                     0);
    test_expect_hex("confirmP (sent)", confirm_p, sizeof(confirm_p), test_confirm_p);
    test_expect_trace(&trace);
    assert_int_equal(spake2plus_shared_key(prover, key, sizeof(key), error, sizeof(error)), 0);
    test_expect_hex("K_shared (prover)", key, sizeof(key), test_k_shared);
    spake2plus_free(prover);
}

/* The verifier (the doorbell's role) replays the vector from w0 and L
 * only: on the RFC's shareP its shareV, confirmV and every intermediate,
 * then it accepts the RFC's confirmP. */
static void test_verifier_vector(void **state)
{
    static struct spake2plus_trace trace;
    uint8_t share_p[SPAKE2PLUS_POINT_SIZE], share_v[SPAKE2PLUS_POINT_SIZE];
    uint8_t confirm_v[SPAKE2PLUS_CONFIRM_SIZE], confirm_p[SPAKE2PLUS_CONFIRM_SIZE];
    uint8_t key[SPAKE2PLUS_KEY_SIZE];
    char error[TEST_ERROR_SIZE] = "";
    struct spake2plus *verifier;
    (void)state;

    memset(&trace, 0, sizeof(trace));
    verifier = test_verifier_new(&trace);
    test_unhex(test_share_p, share_p, sizeof(share_p));
    assert_int_equal(spake2plus_verifier_respond(verifier, share_p, sizeof(share_p), share_v,
                                                 sizeof(share_v), confirm_v, sizeof(confirm_v),
                                                 error, sizeof(error)),
                     0);
    test_expect_hex("shareV (sent)", share_v, sizeof(share_v), test_share_v);
    test_expect_hex("confirmV (sent)", confirm_v, sizeof(confirm_v), test_confirm_v);
    test_expect_trace(&trace);
    /* No key before the prover confirmed. */
    assert_int_equal(spake2plus_shared_key(verifier, key, sizeof(key), error, sizeof(error)), -1);
    test_unhex(test_confirm_p, confirm_p, sizeof(confirm_p));
    assert_int_equal(
        spake2plus_verifier_finish(verifier, confirm_p, sizeof(confirm_p), error, sizeof(error)),
        0);
    assert_int_equal(spake2plus_shared_key(verifier, key, sizeof(key), error, sizeof(error)), 0);
    test_expect_hex("K_shared (verifier)", key, sizeof(key), test_k_shared);
    spake2plus_free(verifier);
}

/* L = w1*P as the vector has it; and the reduction of a 40-byte half: the
 * vector's w0 with 8 zero bytes in front stays w0, and p + w0 reduces to w0. */
static void test_registration_values(void **state)
{
    static const char order[] = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
    uint8_t w1[SPAKE2PLUS_SCALAR_SIZE], l[SPAKE2PLUS_POINT_SIZE];
    uint8_t half[40], scalar[SPAKE2PLUS_SCALAR_SIZE], p[SPAKE2PLUS_SCALAR_SIZE];
    char error[TEST_ERROR_SIZE] = "";
    int i, carry = 0;
    (void)state;

    test_unhex(test_w1, w1, sizeof(w1));
    assert_int_equal(spake2plus_compute_l(w1, l, sizeof(l), error, sizeof(error)), 0);
    test_expect_hex("L", l, sizeof(l), test_l);

    memset(half, 0, sizeof(half));
    test_unhex(test_w0, half + 8, 32);
    assert_int_equal(spake2plus_reduce_scalar(half, sizeof(half), scalar, error, sizeof(error)), 0);
    test_expect_hex("w0 mod p", scalar, sizeof(scalar), test_w0);
    /* half = p + w0 (p and w0 below 2^256: the sum fits in 40 bytes). */
    test_unhex(order, p, sizeof(p));
    for (i = 31; i >= 0; i--) {
        int sum = half[8 + i] + p[i] + carry;
        half[8 + i] = (uint8_t)sum;
        carry = sum >> 8;
    }
    half[7] = (uint8_t)carry;
    assert_int_equal(spake2plus_reduce_scalar(half, sizeof(half), scalar, error, sizeof(error)), 0);
    test_expect_hex("(p + w0) mod p", scalar, sizeof(scalar), test_w0);
    /* p itself reduces to zero, which the protocol cannot use. */
    memset(half, 0, sizeof(half));
    memcpy(half + 8, p, sizeof(p));
    assert_int_equal(spake2plus_reduce_scalar(half, sizeof(half), scalar, error, sizeof(error)),
                     -1);
    assert_non_null(strstr(error, "zero"));
}

/* The M and N in the transcript are the RFC's: uncompressed forms of the
 * compressed points of section 4 (same x, y of the parity the prefix says)
 * and on the curve. */
static void test_points_m_and_n(void **state)
{
    static struct spake2plus_trace trace;
    uint8_t share_p[SPAKE2PLUS_POINT_SIZE], share_v[SPAKE2PLUS_POINT_SIZE];
    uint8_t confirm_v[SPAKE2PLUS_CONFIRM_SIZE];
    uint8_t compressed[33];
    char error[TEST_ERROR_SIZE] = "";
    const char *expected[2] = {test_m_compressed, test_n_compressed};
    struct spake2plus *verifier;
    mbedtls_ecp_group group;
    mbedtls_ecp_point point;
    size_t offset;
    int i;
    (void)state;

    memset(&trace, 0, sizeof(trace));
    verifier = test_verifier_new(&trace);
    test_unhex(test_share_p, share_p, sizeof(share_p));
    assert_int_equal(spake2plus_verifier_respond(verifier, share_p, sizeof(share_p), share_v,
                                                 sizeof(share_v), confirm_v, sizeof(confirm_v),
                                                 error, sizeof(error)),
                     0);
    mbedtls_ecp_group_init(&group);
    mbedtls_ecp_point_init(&point);
    assert_int_equal(mbedtls_ecp_group_load(&group, MBEDTLS_ECP_DP_SECP256R1), 0);
    /* M follows the context and both identities, N follows M. */
    offset =
        8 + sizeof(test_context) - 1 + 8 + sizeof(test_prover) - 1 + 8 + sizeof(test_verifier) - 1;
    for (i = 0; i < 2; i++) {
        const uint8_t *uncompressed = trace.transcript + offset + 8;
        test_unhex(expected[i], compressed, sizeof(compressed));
        assert_int_equal(trace.transcript[offset], SPAKE2PLUS_POINT_SIZE);
        assert_int_equal(uncompressed[0], 0x04);
        assert_memory_equal(uncompressed + 1, compressed + 1, 32);
        assert_int_equal(compressed[0], 0x02 | (uncompressed[64] & 1));
        assert_int_equal(
            mbedtls_ecp_point_read_binary(&group, &point, uncompressed, SPAKE2PLUS_POINT_SIZE), 0);
        assert_int_equal(mbedtls_ecp_check_pubkey(&group, &point), 0);
        offset += 8 + SPAKE2PLUS_POINT_SIZE;
    }
    mbedtls_ecp_point_free(&point);
    mbedtls_ecp_group_free(&group);
    spake2plus_free(verifier);
}

/* A verifier refuses shareP (respond returns -1 with a reason containing
 * reason_part) and refuses everything after. */
static void test_expect_share_refused(const uint8_t *share, size_t length, const char *reason_part)
{
    uint8_t share_v[SPAKE2PLUS_POINT_SIZE], confirm_v[SPAKE2PLUS_CONFIRM_SIZE];
    uint8_t confirm_p[SPAKE2PLUS_CONFIRM_SIZE] = {0};
    uint8_t key[SPAKE2PLUS_KEY_SIZE];
    char error[TEST_ERROR_SIZE] = "";
    struct spake2plus *verifier = test_verifier_new(NULL);

    assert_int_equal(spake2plus_verifier_respond(verifier, share, length, share_v, sizeof(share_v),
                                                 confirm_v, sizeof(confirm_v), error,
                                                 sizeof(error)),
                     -1);
    if (strstr(error, reason_part) == NULL) {
        printf("reason \"%s\" does not say \"%s\"\n", error, reason_part);
        fail();
    }
    assert_int_equal(
        spake2plus_verifier_finish(verifier, confirm_p, sizeof(confirm_p), error, sizeof(error)),
        -1);
    assert_non_null(strstr(error, "already failed"));
    assert_int_equal(spake2plus_shared_key(verifier, key, sizeof(key), error, sizeof(error)), -1);
    spake2plus_free(verifier);
}

/* The same for a prover given shareV (with the vector's confirmV). */
static void test_expect_share_v_refused(const uint8_t *share, size_t length,
                                        const char *reason_part)
{
    uint8_t share_p[SPAKE2PLUS_POINT_SIZE], confirm_v[SPAKE2PLUS_CONFIRM_SIZE];
    uint8_t confirm_p[SPAKE2PLUS_CONFIRM_SIZE], untouched[SPAKE2PLUS_CONFIRM_SIZE];
    char error[TEST_ERROR_SIZE] = "";
    struct spake2plus *prover = test_prover_new(NULL);

    assert_int_equal(
        spake2plus_prover_share(prover, share_p, sizeof(share_p), error, sizeof(error)), 0);
    test_unhex(test_confirm_v, confirm_v, sizeof(confirm_v));
    memset(confirm_p, 0xa5, sizeof(confirm_p));
    memset(untouched, 0xa5, sizeof(untouched));
    assert_int_equal(spake2plus_prover_confirm(prover, share, length, confirm_v, sizeof(confirm_v),
                                               confirm_p, sizeof(confirm_p), error, sizeof(error)),
                     -1);
    if (strstr(error, reason_part) == NULL) {
        printf("reason \"%s\" does not say \"%s\"\n", error, reason_part);
        fail();
    }
    assert_memory_equal(confirm_p, untouched, sizeof(confirm_p));
    spake2plus_free(prover);
}

/* w0*M (or w0*N) of the vector, uncompressed into out: the share that
 * leaves nothing once the mask is taken off. */
static void test_mask_point(const char *compressed_hex, uint8_t *out)
{
    mbedtls_ecp_group group;
    mbedtls_ecp_point mask, product;
    mbedtls_mpi w0, y;
    uint8_t raw[SPAKE2PLUS_SCALAR_SIZE], compressed[33];
    size_t written = 0;

    mbedtls_ecp_group_init(&group);
    mbedtls_ecp_point_init(&mask);
    mbedtls_ecp_point_init(&product);
    mbedtls_mpi_init(&w0);
    mbedtls_mpi_init(&y);
    assert_int_equal(mbedtls_ecp_group_load(&group, MBEDTLS_ECP_DP_SECP256R1), 0);
    /* Decompress: y = (x^3 - 3x + b)^((q+1)/4) mod q (q = 3 mod 4), then pick the parity. */
    test_unhex(compressed_hex, compressed, sizeof(compressed));
    {
        mbedtls_mpi rhs, exponent, t;
        mbedtls_mpi_init(&rhs);
        mbedtls_mpi_init(&exponent);
        mbedtls_mpi_init(&t);
        assert_int_equal(mbedtls_mpi_read_binary(&mask.X, compressed + 1, 32), 0);
        assert_int_equal(mbedtls_mpi_mul_mpi(&t, &mask.X, &mask.X), 0);
        assert_int_equal(mbedtls_mpi_sub_int(&t, &t, 3), 0);
        assert_int_equal(mbedtls_mpi_mul_mpi(&rhs, &t, &mask.X), 0);
        assert_int_equal(mbedtls_mpi_add_mpi(&rhs, &rhs, &group.B), 0);
        assert_int_equal(mbedtls_mpi_mod_mpi(&rhs, &rhs, &group.P), 0);
        assert_int_equal(mbedtls_mpi_add_int(&exponent, &group.P, 1), 0);
        assert_int_equal(mbedtls_mpi_shift_r(&exponent, 2), 0);
        assert_int_equal(mbedtls_mpi_exp_mod(&y, &rhs, &exponent, &group.P, NULL), 0);
        if ((int)mbedtls_mpi_get_bit(&y, 0) != (compressed[0] & 1))
            assert_int_equal(mbedtls_mpi_sub_mpi(&y, &group.P, &y), 0);
        assert_int_equal(mbedtls_mpi_copy(&mask.Y, &y), 0);
        assert_int_equal(mbedtls_mpi_lset(&mask.Z, 1), 0);
        mbedtls_mpi_free(&rhs);
        mbedtls_mpi_free(&exponent);
        mbedtls_mpi_free(&t);
    }
    assert_int_equal(mbedtls_ecp_check_pubkey(&group, &mask), 0);
    test_unhex(test_w0, raw, sizeof(raw));
    assert_int_equal(mbedtls_mpi_read_binary(&w0, raw, sizeof(raw)), 0);
    assert_int_equal(mbedtls_ecp_mul(&group, &product, &w0, &mask, NULL, NULL), 0);
    assert_int_equal(mbedtls_ecp_point_write_binary(&group, &product, MBEDTLS_ECP_PF_UNCOMPRESSED,
                                                    &written, out, SPAKE2PLUS_POINT_SIZE),
                     0);
    assert_int_equal(written, SPAKE2PLUS_POINT_SIZE);
    mbedtls_mpi_free(&w0);
    mbedtls_mpi_free(&y);
    mbedtls_ecp_point_free(&mask);
    mbedtls_ecp_point_free(&product);
    mbedtls_ecp_group_free(&group);
}

/* Malformed shares are refused by both roles, each with its reason. */
static void test_malformed_shares(void **state)
{
    static const char field[] = "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff";
    uint8_t good[SPAKE2PLUS_POINT_SIZE], bad[SPAKE2PLUS_POINT_SIZE + 1];
    (void)state;

    test_unhex(test_share_p, good, sizeof(good));
    test_expect_share_refused(good, 0, "wrong length");
    test_expect_share_refused(NULL, SPAKE2PLUS_POINT_SIZE, "wrong length");
    test_expect_share_refused(good, SPAKE2PLUS_POINT_SIZE - 1, "wrong length");
    memcpy(bad, good, sizeof(good));
    bad[SPAKE2PLUS_POINT_SIZE] = 0;
    test_expect_share_refused(bad, SPAKE2PLUS_POINT_SIZE + 1, "wrong length");
    /* The identity has no 65-byte encoding: its one-byte form (0x00) is the
     * wrong length, and 65 zero bytes are not an uncompressed point. */
    memset(bad, 0, sizeof(bad));
    test_expect_share_refused(bad, 1, "wrong length");
    test_expect_share_refused(bad, SPAKE2PLUS_POINT_SIZE, "not an uncompressed point");
    /* Compressed (33 bytes) and a compressed prefix on 65 bytes. */
    test_unhex(test_m_compressed, bad, sizeof(bad));
    test_expect_share_refused(bad, 33, "wrong length");
    memcpy(bad, good, sizeof(good));
    bad[0] = 0x02;
    test_expect_share_refused(bad, SPAKE2PLUS_POINT_SIZE, "not an uncompressed point");
    /* Off the curve: one bit of y flipped. */
    memcpy(bad, good, sizeof(good));
    bad[SPAKE2PLUS_POINT_SIZE - 1] ^= 1;
    test_expect_share_refused(bad, SPAKE2PLUS_POINT_SIZE, "not on the curve");
    test_expect_share_v_refused(bad, SPAKE2PLUS_POINT_SIZE, "not on the curve");
    /* A coordinate equal to the field prime (x = q, y = 0). */
    memset(bad, 0, sizeof(bad));
    bad[0] = 0x04;
    test_unhex(field, bad + 1, 32);
    test_expect_share_refused(bad, SPAKE2PLUS_POINT_SIZE, "not on the curve");
    /* The prover refuses a wrong length too. */
    test_expect_share_v_refused(good, SPAKE2PLUS_POINT_SIZE - 1, "wrong length");
    test_expect_share_v_refused(NULL, 0, "wrong length");
    /* X = w0*M (and Y = w0*N): on the curve, but nothing is left once the
     * mask is taken off, and Z would be the identity. */
    test_mask_point(test_m_compressed, bad);
    test_expect_share_refused(bad, SPAKE2PLUS_POINT_SIZE, "cancels the mask");
    test_mask_point(test_n_compressed, bad);
    test_expect_share_v_refused(bad, SPAKE2PLUS_POINT_SIZE, "cancels the mask");
}

/* A confirmation one bit off, or of the wrong length, fails the session
 * and yields no key; so does a second try on the same session. */
static void test_wrong_confirmations(void **state)
{
    uint8_t share_p[SPAKE2PLUS_POINT_SIZE], share_v[SPAKE2PLUS_POINT_SIZE];
    uint8_t confirm_v[SPAKE2PLUS_CONFIRM_SIZE], confirm_p[SPAKE2PLUS_CONFIRM_SIZE];
    uint8_t key[SPAKE2PLUS_KEY_SIZE];
    char error[TEST_ERROR_SIZE] = "";
    struct spake2plus *prover, *verifier;
    (void)state;

    /* The prover gets a confirmV one bit off. */
    prover = test_prover_new(NULL);
    assert_int_equal(
        spake2plus_prover_share(prover, share_p, sizeof(share_p), error, sizeof(error)), 0);
    test_unhex(test_share_v, share_v, sizeof(share_v));
    test_unhex(test_confirm_v, confirm_v, sizeof(confirm_v));
    confirm_v[31] ^= 0x80;
    assert_int_equal(spake2plus_prover_confirm(prover, share_v, sizeof(share_v), confirm_v,
                                               sizeof(confirm_v), confirm_p, sizeof(confirm_p),
                                               error, sizeof(error)),
                     -1);
    assert_non_null(strstr(error, "confirmV does not match"));
    assert_int_equal(spake2plus_shared_key(prover, key, sizeof(key), error, sizeof(error)), -1);
    confirm_v[31] ^= 0x80; /* the right one now comes too late */
    assert_int_equal(spake2plus_prover_confirm(prover, share_v, sizeof(share_v), confirm_v,
                                               sizeof(confirm_v), confirm_p, sizeof(confirm_p),
                                               error, sizeof(error)),
                     -1);
    assert_non_null(strstr(error, "already failed"));
    spake2plus_free(prover);

    /* The prover gets a short confirmV. */
    prover = test_prover_new(NULL);
    assert_int_equal(
        spake2plus_prover_share(prover, share_p, sizeof(share_p), error, sizeof(error)), 0);
    assert_int_equal(spake2plus_prover_confirm(prover, share_v, sizeof(share_v), confirm_v,
                                               sizeof(confirm_v) - 1, confirm_p, sizeof(confirm_p),
                                               error, sizeof(error)),
                     -1);
    assert_non_null(strstr(error, "wrong length"));
    spake2plus_free(prover);

    /* The verifier gets a confirmP one bit off, then the right one. */
    verifier = test_verifier_new(NULL);
    test_unhex(test_share_p, share_p, sizeof(share_p));
    assert_int_equal(spake2plus_verifier_respond(verifier, share_p, sizeof(share_p), share_v,
                                                 sizeof(share_v), confirm_v, sizeof(confirm_v),
                                                 error, sizeof(error)),
                     0);
    test_unhex(test_confirm_p, confirm_p, sizeof(confirm_p));
    confirm_p[0] ^= 1;
    assert_int_equal(
        spake2plus_verifier_finish(verifier, confirm_p, sizeof(confirm_p), error, sizeof(error)),
        -1);
    assert_non_null(strstr(error, "confirmP does not match"));
    confirm_p[0] ^= 1;
    assert_int_equal(
        spake2plus_verifier_finish(verifier, confirm_p, sizeof(confirm_p), error, sizeof(error)),
        -1);
    assert_int_equal(spake2plus_shared_key(verifier, key, sizeof(key), error, sizeof(error)), -1);
    spake2plus_free(verifier);

    /* The verifier gets a long confirmP. */
    verifier = test_verifier_new(NULL);
    assert_int_equal(spake2plus_verifier_respond(verifier, share_p, sizeof(share_p), share_v,
                                                 sizeof(share_v), confirm_v, sizeof(confirm_v),
                                                 error, sizeof(error)),
                     0);
    assert_int_equal(spake2plus_verifier_finish(verifier, confirm_p, sizeof(confirm_p) + 0 - 1,
                                                error, sizeof(error)),
                     -1);
    assert_non_null(strstr(error, "wrong length"));
    spake2plus_free(verifier);
}

/* Steps out of order fail the session; bad records and identities are
 * refused at creation. */
static void test_order_and_creation(void **state)
{
    uint8_t share_p[SPAKE2PLUS_POINT_SIZE], share_v[SPAKE2PLUS_POINT_SIZE];
    uint8_t confirm_v[SPAKE2PLUS_CONFIRM_SIZE], confirm_p[SPAKE2PLUS_CONFIRM_SIZE];
    uint8_t w0[SPAKE2PLUS_SCALAR_SIZE], l[SPAKE2PLUS_POINT_SIZE], zero[SPAKE2PLUS_SCALAR_SIZE];
    uint8_t long_identity[SPAKE2PLUS_IDENTITY_MAX + 1];
    struct spake2plus_identities identities = test_identities;
    char error[TEST_ERROR_SIZE] = "";
    struct spake2plus *prover, *verifier;
    (void)state;

    /* A prover asked to confirm before it shared. */
    prover = test_prover_new(NULL);
    test_unhex(test_share_v, share_v, sizeof(share_v));
    test_unhex(test_confirm_v, confirm_v, sizeof(confirm_v));
    assert_int_equal(spake2plus_prover_confirm(prover, share_v, sizeof(share_v), confirm_v,
                                               sizeof(confirm_v), confirm_p, sizeof(confirm_p),
                                               error, sizeof(error)),
                     -1);
    assert_non_null(strstr(error, "out of order"));
    assert_int_equal(
        spake2plus_prover_share(prover, share_p, sizeof(share_p), error, sizeof(error)), -1);
    spake2plus_free(prover);

    /* x is fixed before shareP or not at all. */
    prover = test_prover_new(NULL);
    assert_int_equal(
        spake2plus_prover_share(prover, share_p, sizeof(share_p), error, sizeof(error)), 0);
    test_unhex(test_x, zero, sizeof(zero));
    assert_int_equal(spake2plus_set_ephemeral(prover, zero, error, sizeof(error)), -1);
    spake2plus_free(prover);

    /* A verifier asked to finish before it answered; a prover used as a verifier. */
    verifier = test_verifier_new(NULL);
    test_unhex(test_confirm_p, confirm_p, sizeof(confirm_p));
    assert_int_equal(
        spake2plus_verifier_finish(verifier, confirm_p, sizeof(confirm_p), error, sizeof(error)),
        -1);
    assert_non_null(strstr(error, "out of order"));
    spake2plus_free(verifier);
    prover = test_prover_new(NULL);
    test_unhex(test_share_p, share_p, sizeof(share_p));
    assert_int_equal(spake2plus_verifier_respond(prover, share_p, sizeof(share_p), share_v,
                                                 sizeof(share_v), confirm_v, sizeof(confirm_v),
                                                 error, sizeof(error)),
                     -1);
    spake2plus_free(prover);

    /* Records: w0 of zero or not below p, L off the curve; a long identity. */
    test_unhex(test_w0, w0, sizeof(w0));
    test_unhex(test_l, l, sizeof(l));
    memset(zero, 0, sizeof(zero));
    assert_null(spake2plus_verifier_new(&test_identities, zero, l, error, sizeof(error)));
    assert_non_null(strstr(error, "w0"));
    memset(zero, 0xff, sizeof(zero));
    assert_null(spake2plus_prover_new(&test_identities, w0, zero, error, sizeof(error)));
    assert_non_null(strstr(error, "w1"));
    l[SPAKE2PLUS_POINT_SIZE - 1] ^= 1;
    assert_null(spake2plus_verifier_new(&test_identities, w0, l, error, sizeof(error)));
    assert_non_null(strstr(error, "L"));
    memset(long_identity, 'a', sizeof(long_identity));
    identities.verifier = long_identity;
    identities.verifier_length = sizeof(long_identity);
    assert_null(spake2plus_prover_new(&identities, w0, w0, error, sizeof(error)));
    assert_non_null(strstr(error, "too long"));
}

/* Thread CPU time in milliseconds. */
static double test_cpu_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return (double)now.tv_sec * 1e3 + (double)now.tv_nsec / 1e6;
}

/* With random x and y (no fixed scalars) both roles agree on K_shared, a
 * key other than the vector's; the CPU each role spends is printed. */
static void test_random_handshake(void **state)
{
    uint8_t w0[SPAKE2PLUS_SCALAR_SIZE], w1[SPAKE2PLUS_SCALAR_SIZE], l[SPAKE2PLUS_POINT_SIZE];
    uint8_t share_p[SPAKE2PLUS_POINT_SIZE], share_v[SPAKE2PLUS_POINT_SIZE];
    uint8_t confirm_v[SPAKE2PLUS_CONFIRM_SIZE], confirm_p[SPAKE2PLUS_CONFIRM_SIZE];
    uint8_t hub_key[SPAKE2PLUS_KEY_SIZE], doorbell_key[SPAKE2PLUS_KEY_SIZE];
    uint8_t vector_key[SPAKE2PLUS_KEY_SIZE];
    char error[TEST_ERROR_SIZE] = "";
    struct spake2plus *prover, *verifier;
    double prover_ms = 0, verifier_ms = 0, start;
    (void)state;

    test_unhex(test_w0, w0, sizeof(w0));
    test_unhex(test_w1, w1, sizeof(w1));
    test_unhex(test_l, l, sizeof(l));
    test_unhex(test_k_shared, vector_key, sizeof(vector_key));
    start = test_cpu_ms();
    prover = spake2plus_prover_new(&test_identities, w0, w1, error, sizeof(error));
    assert_non_null(prover);
    assert_int_equal(
        spake2plus_prover_share(prover, share_p, sizeof(share_p), error, sizeof(error)), 0);
    prover_ms += test_cpu_ms() - start;
    start = test_cpu_ms();
    verifier = spake2plus_verifier_new(&test_identities, w0, l, error, sizeof(error));
    assert_non_null(verifier);
    assert_int_equal(spake2plus_verifier_respond(verifier, share_p, sizeof(share_p), share_v,
                                                 sizeof(share_v), confirm_v, sizeof(confirm_v),
                                                 error, sizeof(error)),
                     0);
    verifier_ms += test_cpu_ms() - start;
    start = test_cpu_ms();
    assert_int_equal(spake2plus_prover_confirm(prover, share_v, sizeof(share_v), confirm_v,
                                               sizeof(confirm_v), confirm_p, sizeof(confirm_p),
                                               error, sizeof(error)),
                     0);
    prover_ms += test_cpu_ms() - start;
    start = test_cpu_ms();
    assert_int_equal(
        spake2plus_verifier_finish(verifier, confirm_p, sizeof(confirm_p), error, sizeof(error)),
        0);
    verifier_ms += test_cpu_ms() - start;
    printf("handshake CPU: prover %.1f ms, verifier %.1f ms\n", prover_ms, verifier_ms);
    assert_int_equal(spake2plus_shared_key(prover, hub_key, sizeof(hub_key), error, sizeof(error)),
                     0);
    assert_int_equal(
        spake2plus_shared_key(verifier, doorbell_key, sizeof(doorbell_key), error, sizeof(error)),
        0);
    assert_memory_equal(hub_key, doorbell_key, sizeof(hub_key));
    assert_memory_not_equal(hub_key, vector_key, sizeof(hub_key));
    spake2plus_free(prover);
    spake2plus_free(verifier);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prover_vector),       cmocka_unit_test(test_verifier_vector),
        cmocka_unit_test(test_registration_values), cmocka_unit_test(test_points_m_and_n),
        cmocka_unit_test(test_malformed_shares),    cmocka_unit_test(test_wrong_confirmations),
        cmocka_unit_test(test_order_and_creation),  cmocka_unit_test(test_random_handshake),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
