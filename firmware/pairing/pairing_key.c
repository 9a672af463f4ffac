/*
 * pairing_key.c - the doorbell's ECDSA P-256 key (see pairing_key.h) on
 * mbedTLS's ECP and PK (PEM) modules. Every PEM buffer is wiped after use.
 */
#include "pairing/pairing_key.h"

#include <string.h>

#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>

#include "common/error_text.h"
#include "common/private_file.h"
#include "common/system_random.h"
#include "pairing/pairing_store.h"

#define PAIRING_KEY_FILE    "device-key.pem"
#define PAIRING_KEY_PEM_MAX 1024

int pairing_key_generate(mbedtls_ecp_keypair *key, uint8_t public_key[PAIR_PUBLIC_KEY_SIZE],
                         char *error, size_t error_size)
{
    size_t length = 0;

    if (mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, key, system_random_callback, NULL) != 0 ||
        mbedtls_ecp_point_write_binary(&key->grp, &key->Q, MBEDTLS_ECP_PF_UNCOMPRESSED, &length,
                                       public_key, PAIR_PUBLIC_KEY_SIZE) != 0 ||
        length != PAIR_PUBLIC_KEY_SIZE) {
        error_text_set(error, error_size, "cannot make an ECDSA P-256 key");
        return -1;
    }
    return 0;
}

int pairing_key_save(const char *dir, const mbedtls_ecp_keypair *key, char *error,
                     size_t error_size)
{
    unsigned char pem[PAIRING_KEY_PEM_MAX];
    mbedtls_pk_context pk;
    int result = -1;

    mbedtls_pk_init(&pk);
    if (mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0 ||
        mbedtls_ecp_copy(&mbedtls_pk_ec(pk)->Q, &key->Q) != 0 ||
        mbedtls_mpi_copy(&mbedtls_pk_ec(pk)->d, &key->d) != 0 ||
        mbedtls_ecp_group_load(&mbedtls_pk_ec(pk)->grp, MBEDTLS_ECP_DP_SECP256R1) != 0 ||
        mbedtls_pk_write_key_pem(&pk, pem, sizeof(pem)) != 0) {
        error_text_set(error, error_size, "cannot write the device key as PEM");
        goto out;
    }
    result = private_file_write(dir, PAIRING_KEY_FILE, pem, strlen((const char *)pem), error,
                                error_size);
out:
    mbedtls_platform_zeroize(pem, sizeof(pem));
    mbedtls_pk_free(&pk);
    return result;
}

int pairing_key_load(const char *dir, mbedtls_ecp_keypair *key, char *error, size_t error_size)
{
    char pem[PAIRING_KEY_PEM_MAX];
    long length = pairing_store_read_file(dir, PAIRING_KEY_FILE, pem, sizeof(pem));
    mbedtls_pk_context pk;
    int result = -1;

    mbedtls_pk_init(&pk);
    if (length <= 0 ||
        mbedtls_pk_parse_key(&pk, (const unsigned char *)pem, (size_t)length + 1, NULL, 0) != 0 ||
        mbedtls_pk_get_type(&pk) != MBEDTLS_PK_ECKEY ||
        mbedtls_pk_ec(pk)->grp.id != MBEDTLS_ECP_DP_SECP256R1 ||
        mbedtls_ecp_group_load(&key->grp, MBEDTLS_ECP_DP_SECP256R1) != 0 ||
        mbedtls_ecp_copy(&key->Q, &mbedtls_pk_ec(pk)->Q) != 0 ||
        mbedtls_mpi_copy(&key->d, &mbedtls_pk_ec(pk)->d) != 0) {
        error_text_set(error, error_size, "%s/%s is missing or not a P-256 key", dir,
                       PAIRING_KEY_FILE);
        goto out;
    }
    result = 0;
out:
    mbedtls_platform_zeroize(pem, sizeof(pem));
    mbedtls_pk_free(&pk);
    return result;
}
