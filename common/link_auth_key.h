/*
 * link_auth_key.h - device-link authentication of a paired doorbell
 * (docs/protocol.md, "Authentication with a device key"): the doorbell signs
 * the hub's CHALLENGE nonce bound to the TLS session with the ECDSA P-256
 * key it made when it paired; the hub verifies with the public key it
 * stored, and stores nothing secret.
 *
 *   digest    = SHA-256("doorstep-link-v2" || nonce (32) || binding (32) || device_id)
 *   signature = ECDSA P-256 over digest, r || s, 32 bytes each big-endian
 *
 * binding is 32 bytes of RFC 5705 keying material exported from the TLS
 * session by each side, so a relay that terminates TLS on both sides gets
 * a signature that the hub's session refuses.
 *
 * Pure functions (the signer draws from getrandom(2)); any thread.
 */
#ifndef DOORSTEP_LINK_AUTH_KEY_H
#define DOORSTEP_LINK_AUTH_KEY_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <mbedtls/ecp.h>

#include "common/link_protocol.h"

#define LINK_AUTH_KEY_BINDING_SIZE    32
#define LINK_AUTH_KEY_DIGEST_SIZE     32
#define LINK_AUTH_KEY_SIGNATURE_SIZE  64
#define LINK_AUTH_KEY_PUBLIC_KEY_SIZE 65 /* 0x04 || x || y */
#define LINK_AUTH_KEY_CONTEXT         "doorstep-link-v2"

/* The digest a doorbell signs; 0 or -1. */
int link_auth_key_digest(const uint8_t nonce[LINK_NONCE_SIZE],
                         const uint8_t binding[LINK_AUTH_KEY_BINDING_SIZE], const char *device_id,
                         uint8_t digest[LINK_AUTH_KEY_DIGEST_SIZE]);

/* Sign digest with key (a P-256 key pair), r || s into signature. 0 or -1. */
int link_auth_key_sign(const mbedtls_ecp_keypair *key,
                       const uint8_t digest[LINK_AUTH_KEY_DIGEST_SIZE],
                       uint8_t signature[LINK_AUTH_KEY_SIGNATURE_SIZE]);

/* Verify signature over digest with the uncompressed public key. 0 when it
 * matches; -1 otherwise (also for a key that is not a P-256 point). */
int link_auth_key_verify(const uint8_t public_key[LINK_AUTH_KEY_PUBLIC_KEY_SIZE],
                         const uint8_t digest[LINK_AUTH_KEY_DIGEST_SIZE],
                         const uint8_t signature[LINK_AUTH_KEY_SIGNATURE_SIZE]);

/* 0 if public_key is an uncompressed point on P-256 (not the identity). */
int link_auth_key_check_public(const uint8_t public_key[LINK_AUTH_KEY_PUBLIC_KEY_SIZE]);

/* AUTH {"signature": 128 hex}: parse (0, or -1 with reason) and build (NULL
 * if out of memory). */
int link_auth_key_parse(const cJSON *json, uint8_t signature[LINK_AUTH_KEY_SIGNATURE_SIZE],
                        char *error, size_t error_size);
cJSON *link_auth_key_build(const uint8_t signature[LINK_AUTH_KEY_SIGNATURE_SIZE]);

#endif
