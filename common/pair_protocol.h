/*
 * pair_protocol.h - the pairing exchange on wss://HUB/pair/v1
 * (docs/protocol.md, "Pairing exchange"): the typed views of its six JSON
 * messages, which travel in device-link frames (link_protocol.h, the same
 * header, codec and field tables), the identities and context both sides
 * give SPAKE2+, and the MACs that bind the key exchange after it to the
 * SPAKE2+ key.
 *
 *   doorbell -> hub   PAIR_HELLO       device_id, model, firmware, salt, argon2
 *   hub -> doorbell   PAIR_SHARE_P     share_p
 *   doorbell -> hub   PAIR_SHARE_V     share_v, confirm_v
 *   hub -> doorbell   PAIR_CONFIRM_P   confirm_p
 *   doorbell -> hub   PAIR_DEVICE_KEY  public_key, mac
 *   hub -> doorbell   PAIR_HUB_INFO    device_id, name, hub_key_sha256, url, mac
 *   either            ERROR            code (PAIR_ERROR_CODE_*), reason
 *
 * Pure functions: no globals, no I/O; any thread. Parsers fill the caller's
 * struct (nothing borrowed survives them); builders return a cJSON tree the
 * caller deletes.
 */
#ifndef DOORSTEP_PAIR_PROTOCOL_H
#define DOORSTEP_PAIR_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/link_protocol.h"
#include "common/setup_code.h"
#include "common/spake2plus.h"

#define PAIR_WEBSOCKET_PATH   "/pair/v1"
#define PAIR_PROTOCOL_VERSION 1
#define PAIR_CONTEXT          "Doorstep pairing v1"
#define PAIR_PROVER_PREFIX    "doorstep-hub:"
#define PAIR_VERIFIER_PREFIX  "doorstep-bell:"
#define PAIR_KEY_INFO         "Doorstep pairing v1 key exchange"

#define PAIR_DEVICE_ID_LENGTH 12 /* lowercase hex digits */
#define PAIR_DEVICE_ID_SIZE   (PAIR_DEVICE_ID_LENGTH + 1)
#define PAIR_MODEL_SIZE       33 /* 32 characters and the NUL */
#define PAIR_NAME_SIZE        LINK_TEXT_MAX
#define PAIR_URL_SIZE         256
#define PAIR_HASH_SIZE        32 /* SHA-256 */
#define PAIR_PUBLIC_KEY_SIZE  65 /* uncompressed P-256 point */
#define PAIR_MAC_SIZE         32
#define PAIR_KEY_SIZE         32 /* K_mac */
#define PAIR_IDENTITY_SIZE    (sizeof(PAIR_PROVER_PREFIX) + 2 * PAIR_HASH_SIZE)

/* ERROR codes on /pair/v1 (besides the link's protocol_error and timeout). */
#define PAIR_ERROR_CODE_WRONG_CODE     "wrong_code"     /* a confirmation did not match */
#define PAIR_ERROR_CODE_PAIRING_CLOSED "pairing_closed" /* the doorbell's pairing mode is shut */
#define PAIR_ERROR_CODE_BUSY           "busy"           /* another attempt is running */
#define PAIR_ERROR_CODE_PROTOCOL       LINK_ERROR_CODE_PROTOCOL
#define PAIR_ERROR_CODE_TIMEOUT        LINK_ERROR_CODE_TIMEOUT

struct pair_hello {
    int protocol; /* PAIR_PROTOCOL_VERSION */
    char device_id[PAIR_DEVICE_ID_SIZE];
    char model[PAIR_MODEL_SIZE];
    char firmware[LINK_TEXT_MAX];
    uint8_t salt[SETUP_CODE_SALT_SIZE];
    struct setup_code_parameters parameters; /* bounded by setup_code_check_parameters() */
};

struct pair_share_p {
    uint8_t share_p[SPAKE2PLUS_POINT_SIZE];
};

struct pair_share_v {
    uint8_t share_v[SPAKE2PLUS_POINT_SIZE];
    uint8_t confirm_v[SPAKE2PLUS_CONFIRM_SIZE];
};

struct pair_confirm_p {
    uint8_t confirm_p[SPAKE2PLUS_CONFIRM_SIZE];
};

struct pair_device_key {
    uint8_t public_key[PAIR_PUBLIC_KEY_SIZE]; /* 0x04 || x || y */
    uint8_t mac[PAIR_MAC_SIZE];
};

struct pair_hub_info {
    char device_id[PAIR_DEVICE_ID_SIZE]; /* the id the hub adopted: the doorbell's own */
    char name[PAIR_NAME_SIZE];           /* printable UTF-8, may be empty */
    uint8_t hub_key_sha256[PAIR_HASH_SIZE];
    char url[PAIR_URL_SIZE]; /* wss://..., printable ASCII */
    uint8_t mac[PAIR_MAC_SIZE];
};

/* 1 if text is exactly PAIR_DEVICE_ID_LENGTH lowercase hex digits. */
int pair_device_id_is_valid(const char *text);

/* Parsers: 0, or -1 with a reason naming the field (never quoting input). */
int pair_parse_hello(const cJSON *json, struct pair_hello *out, char *error, size_t error_size);
int pair_parse_share_p(const cJSON *json, struct pair_share_p *out, char *error, size_t error_size);
int pair_parse_share_v(const cJSON *json, struct pair_share_v *out, char *error, size_t error_size);
int pair_parse_confirm_p(const cJSON *json, struct pair_confirm_p *out, char *error,
                         size_t error_size);
int pair_parse_device_key(const cJSON *json, struct pair_device_key *out, char *error,
                          size_t error_size);
int pair_parse_hub_info(const cJSON *json, struct pair_hub_info *out, char *error,
                        size_t error_size);

/* Builders: a new tree the caller deletes, or NULL when out of memory or a
 * field is outside what the parser accepts. */
cJSON *pair_build_hello(const struct pair_hello *hello);
cJSON *pair_build_share_p(const struct pair_share_p *share_p);
cJSON *pair_build_share_v(const struct pair_share_v *share_v);
cJSON *pair_build_confirm_p(const struct pair_confirm_p *confirm_p);
cJSON *pair_build_device_key(const struct pair_device_key *device_key);
cJSON *pair_build_hub_info(const struct pair_hub_info *hub_info);

/* Decode one /pair/v1 frame of the expected type (or an ERROR, which fills
 * error_out and returns 1): 0 with the message's JSON tree in *json_out
 * (caller deletes), 1 for an ERROR, -1 with the reason otherwise. */
int pair_message_decode(const uint8_t *data, size_t size, uint8_t expected_type, cJSON **json_out,
                        struct link_error *error_out, char *error, size_t error_size);

/* The SPAKE2+ identities: "doorstep-hub:" + hex SHA-256 of the hub's TLS
 * public key, and "doorstep-bell:" + device id, NUL-terminated into out
 * (out_size >= PAIR_IDENTITY_SIZE). Return the length, or -1 if it does not
 * fit or the id is not valid. */
int pair_prover_identity(const uint8_t hub_key_sha256[PAIR_HASH_SIZE], char *out, size_t out_size);
int pair_verifier_identity(const char *device_id, char *out, size_t out_size);

/* Fill identities from the two identity strings (which must outlive it) and
 * PAIR_CONTEXT. */
void pair_identities(struct spake2plus_identities *identities, const char *prover,
                     const char *verifier);

/* K_mac = HKDF-SHA256(no salt, K_shared, PAIR_KEY_INFO), 32 bytes. 0 or -1. */
int pair_mac_key(const uint8_t shared_key[SPAKE2PLUS_KEY_SIZE], uint8_t mac_key[PAIR_KEY_SIZE]);

/* The MACs of PAIR_DEVICE_KEY and PAIR_HUB_INFO (docs/protocol.md gives the
 * exact byte strings); write mac_out, return 0 or -1. */
int pair_device_key_mac(const uint8_t mac_key[PAIR_KEY_SIZE],
                        const uint8_t public_key[PAIR_PUBLIC_KEY_SIZE],
                        uint8_t mac_out[PAIR_MAC_SIZE]);
int pair_hub_info_mac(const uint8_t mac_key[PAIR_KEY_SIZE], const struct pair_hub_info *hub_info,
                      uint8_t mac_out[PAIR_MAC_SIZE]);

/* Check a received MAC against the expected one in constant time: true if
 * equal. */
bool pair_mac_matches(const uint8_t expected[PAIR_MAC_SIZE], const uint8_t received[PAIR_MAC_SIZE]);

#endif
