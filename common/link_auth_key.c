/*
 * link_auth_key.c - ECDSA P-256 authentication of paired doorbells on the
 * device link (see link_auth_key.h), on mbedTLS's ECDSA and SHA-256.
 * Pure functions; any thread; mbedTLS contexts live on the stack and are
 * freed before returning.
 */
#include "common/link_auth_key.h"

#include <string.h>

#include <mbedtls/bignum.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/sha256.h>

#include "common/error_text.h"
#include "common/system_random.h"

int link_auth_key_digest(const uint8_t nonce[LINK_NONCE_SIZE],
                         const uint8_t binding[LINK_AUTH_KEY_BINDING_SIZE], const char *device_id,
                         uint8_t digest[LINK_AUTH_KEY_DIGEST_SIZE])
{
    mbedtls_sha256_context sha;
    int result = -1;

    mbedtls_sha256_init(&sha);
    if (mbedtls_sha256_starts_ret(&sha, 0) != 0 ||
        mbedtls_sha256_update_ret(&sha, (const unsigned char *)LINK_AUTH_KEY_CONTEXT,
                                  sizeof(LINK_AUTH_KEY_CONTEXT) - 1) != 0 ||
        mbedtls_sha256_update_ret(&sha, nonce, LINK_NONCE_SIZE) != 0 ||
        mbedtls_sha256_update_ret(&sha, binding, LINK_AUTH_KEY_BINDING_SIZE) != 0 ||
        mbedtls_sha256_update_ret(&sha, (const unsigned char *)device_id, strlen(device_id)) != 0 ||
        mbedtls_sha256_finish_ret(&sha, digest) != 0)
        goto out;
    result = 0;
out:
    mbedtls_sha256_free(&sha);
    return result;
}

int link_auth_key_sign(const mbedtls_ecp_keypair *key,
                       const uint8_t digest[LINK_AUTH_KEY_DIGEST_SIZE],
                       uint8_t signature[LINK_AUTH_KEY_SIGNATURE_SIZE])
{
    mbedtls_ecp_group group;
    mbedtls_mpi r, s;
    int result = -1;

    mbedtls_ecp_group_init(&group);
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    if (mbedtls_ecp_group_load(&group, MBEDTLS_ECP_DP_SECP256R1) != 0 ||
        mbedtls_ecdsa_sign(&group, &r, &s, &key->d, digest, LINK_AUTH_KEY_DIGEST_SIZE,
                           system_random_callback, NULL) != 0 ||
        mbedtls_mpi_write_binary(&r, signature, 32) != 0 ||
        mbedtls_mpi_write_binary(&s, signature + 32, 32) != 0)
        goto out;
    result = 0;
out:
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
    mbedtls_ecp_group_free(&group);
    return result;
}

/* Load group and point; 0 if the point is valid on P-256. */
static int link_auth_key_load(mbedtls_ecp_group *group, mbedtls_ecp_point *point,
                              const uint8_t public_key[LINK_AUTH_KEY_PUBLIC_KEY_SIZE])
{
    if (public_key[0] != 0x04 || mbedtls_ecp_group_load(group, MBEDTLS_ECP_DP_SECP256R1) != 0 ||
        mbedtls_ecp_point_read_binary(group, point, public_key, LINK_AUTH_KEY_PUBLIC_KEY_SIZE) !=
            0 ||
        mbedtls_ecp_check_pubkey(group, point) != 0)
        return -1;
    return 0;
}

int link_auth_key_check_public(const uint8_t public_key[LINK_AUTH_KEY_PUBLIC_KEY_SIZE])
{
    mbedtls_ecp_group group;
    mbedtls_ecp_point point;
    int result;

    mbedtls_ecp_group_init(&group);
    mbedtls_ecp_point_init(&point);
    result = link_auth_key_load(&group, &point, public_key);
    mbedtls_ecp_point_free(&point);
    mbedtls_ecp_group_free(&group);
    return result;
}

int link_auth_key_verify(const uint8_t public_key[LINK_AUTH_KEY_PUBLIC_KEY_SIZE],
                         const uint8_t digest[LINK_AUTH_KEY_DIGEST_SIZE],
                         const uint8_t signature[LINK_AUTH_KEY_SIGNATURE_SIZE])
{
    mbedtls_ecp_group group;
    mbedtls_ecp_point point;
    mbedtls_mpi r, s;
    int result = -1;

    mbedtls_ecp_group_init(&group);
    mbedtls_ecp_point_init(&point);
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    if (link_auth_key_load(&group, &point, public_key) != 0 ||
        mbedtls_mpi_read_binary(&r, signature, 32) != 0 ||
        mbedtls_mpi_read_binary(&s, signature + 32, 32) != 0 ||
        mbedtls_ecdsa_verify(&group, digest, LINK_AUTH_KEY_DIGEST_SIZE, &point, &r, &s) != 0)
        goto out;
    result = 0;
out:
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
    mbedtls_ecp_point_free(&point);
    mbedtls_ecp_group_free(&group);
    return result;
}

int link_auth_key_parse(const cJSON *json, uint8_t signature[LINK_AUTH_KEY_SIGNATURE_SIZE],
                        char *error, size_t error_size)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(json, "signature");

    if (!cJSON_IsString(item) ||
        link_hex_decode(item->valuestring, signature, LINK_AUTH_KEY_SIGNATURE_SIZE) != 0) {
        error_text_set(error, error_size, "signature: must be 128 hex digits");
        return -1;
    }
    return 0;
}

cJSON *link_auth_key_build(const uint8_t signature[LINK_AUTH_KEY_SIGNATURE_SIZE])
{
    char hex[2 * LINK_AUTH_KEY_SIGNATURE_SIZE + 1];
    cJSON *json = cJSON_CreateObject();

    link_hex_encode(signature, LINK_AUTH_KEY_SIGNATURE_SIZE, hex);
    if (json == NULL || cJSON_AddStringToObject(json, "signature", hex) == NULL) {
        cJSON_Delete(json);
        return NULL;
    }
    return json;
}
