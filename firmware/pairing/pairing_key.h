/*
 * pairing_key.h - the doorbell's own ECDSA P-256 key, made when it pairs:
 * the private key stays in the state directory (device-key.pem, 0600,
 * written atomically), the public half goes to the hub in PAIR_DEVICE_KEY,
 * and the link signs the hub's challenge with it (common/link_auth_key.h).
 *
 * Threads: any; no state. Ownership: the caller's key pair (init it with
 * mbedtls_ecp_keypair_init, free it with mbedtls_ecp_keypair_free).
 */
#ifndef DOORSTEP_PAIRING_KEY_H
#define DOORSTEP_PAIRING_KEY_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/ecp.h>

#include "common/pair_protocol.h"

/* Make a new key pair from getrandom(2) into key; its public half,
 * uncompressed, into public_key. 0 or -1 with the reason. */
int pairing_key_generate(mbedtls_ecp_keypair *key, uint8_t public_key[PAIR_PUBLIC_KEY_SIZE],
                         char *error, size_t error_size);

/* Write key to dir/device-key.pem (PEM, 0600, atomic). 0 or -1 with reason. */
int pairing_key_save(const char *dir, const mbedtls_ecp_keypair *key, char *error,
                     size_t error_size);

/* Read dir/device-key.pem into key (a P-256 key pair). 0 or -1 with reason. */
int pairing_key_load(const char *dir, mbedtls_ecp_keypair *key, char *error, size_t error_size);

#endif
