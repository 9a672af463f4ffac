/*
 * pair_protocol.c - the /pair/v1 messages (see pair_protocol.h): their field
 * tables, walked by the device link's generic parser and builder
 * (link_fields.h), hex fields turned into bytes, the SPAKE2+ identities and
 * the key-exchange MACs.
 *
 * Each message has a wire struct (the hex text the table reads and writes)
 * and the public struct (bytes); the parse and build functions convert
 * between them. Pure functions on constant tables; any thread. Builders
 * return trees the caller deletes.
 */
#include "common/pair_protocol.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>

#include "common/error_text.h"
#include "common/link_fields.h"

#define PAIR_HEX_SIZE(bytes)   (2 * (bytes) + 1)
#define PAIR_DEVICE_KEY_DOMAIN "doorstep-pair-device-key-v1"
#define PAIR_HUB_INFO_DOMAIN   "doorstep-pair-hub-info-v1"

/* ---- wire structs ----------------------------------------------------------- */

struct pair_wire_argon2 {
    uint32_t passes, memory_kib, lanes;
};

struct pair_wire_hello {
    int protocol;
    char device_id[PAIR_DEVICE_ID_SIZE];
    char model[PAIR_MODEL_SIZE];
    char firmware[LINK_TEXT_MAX];
    char salt[PAIR_HEX_SIZE(SETUP_CODE_SALT_SIZE)];
    const cJSON *argon2;
};

struct pair_wire_share_p {
    char share_p[PAIR_HEX_SIZE(SPAKE2PLUS_POINT_SIZE)];
};

struct pair_wire_share_v {
    char share_v[PAIR_HEX_SIZE(SPAKE2PLUS_POINT_SIZE)];
    char confirm_v[PAIR_HEX_SIZE(SPAKE2PLUS_CONFIRM_SIZE)];
};

struct pair_wire_confirm_p {
    char confirm_p[PAIR_HEX_SIZE(SPAKE2PLUS_CONFIRM_SIZE)];
};

struct pair_wire_device_key {
    char public_key[PAIR_HEX_SIZE(PAIR_PUBLIC_KEY_SIZE)];
    char mac[PAIR_HEX_SIZE(PAIR_MAC_SIZE)];
};

struct pair_wire_hub_info {
    char device_id[PAIR_DEVICE_ID_SIZE];
    char name[PAIR_NAME_SIZE];
    char hub_key_sha256[PAIR_HEX_SIZE(PAIR_HASH_SIZE)];
    char url[PAIR_URL_SIZE];
    char mac[PAIR_HEX_SIZE(PAIR_MAC_SIZE)];
};

static_assert(sizeof(struct pair_wire_hub_info) <= LINK_LAYOUT_MAX_STRUCT_SIZE,
              "builder copy too small");

/* 1 if text is exactly 2 * bytes hex digits. */
static int pair_hex_is_valid(const char *text, size_t bytes)
{
    uint8_t scratch[PAIR_PUBLIC_KEY_SIZE];

    assert(bytes <= sizeof(scratch));
    return link_hex_decode(text, scratch, bytes) == 0;
}

/* Decode a hex member already checked by its layout; 0 or -1 with reason. */
static int pair_hex_field(const char *text, const char *field, uint8_t *out, size_t bytes,
                          char *error, size_t error_size)
{
    if (link_hex_decode(text, out, bytes) != 0)
        return link_field_error(error, error_size, field, "wrong length or not hex");
    return 0;
}

int pair_device_id_is_valid(const char *text)
{
    if (text == NULL || strnlen(text, PAIR_DEVICE_ID_SIZE) != PAIR_DEVICE_ID_LENGTH)
        return 0;
    for (size_t i = 0; i < PAIR_DEVICE_ID_LENGTH; i++)
        if (!((text[i] >= '0' && text[i] <= '9') || (text[i] >= 'a' && text[i] <= 'f')))
            return 0;
    return 1;
}

/* 1 if url is a printable-ASCII wss:// URL that fits. */
static int pair_url_is_valid(const char *url)
{
    size_t length = strnlen(url, PAIR_URL_SIZE);

    if (length >= PAIR_URL_SIZE || strncmp(url, "wss://", 6) != 0 || length <= 6)
        return 0;
    for (size_t i = 0; i < length; i++)
        if (url[i] <= 0x20 || url[i] >= 0x7f)
            return 0;
    return 1;
}

/* ---- hello ------------------------------------------------------------------ */

/* Rules of argon2 {passes, memory_kib, lanes}: setup_code.h's bounds. */
static int pair_check_argon2(const void *in, char *error, size_t error_size)
{
    const struct pair_wire_argon2 *argon2 = in;
    struct setup_code_parameters parameters = {argon2->passes, argon2->memory_kib, argon2->lanes};

    if (setup_code_check_parameters(&parameters, error, error_size) != 0) {
        link_field_error(error, error_size, "argon2", "parameters out of bounds");
        return -1;
    }
    return 0;
}

static const struct link_field pair_argon2_fields[] = {
    LINK_REQUIRED(pair_wire_argon2, passes, LINK_FIELD_UINT32, 0, 0),
    LINK_REQUIRED(pair_wire_argon2, memory_kib, LINK_FIELD_UINT32, 0, 0),
    LINK_REQUIRED(pair_wire_argon2, lanes, LINK_FIELD_UINT32, 0, 0),
};

static const struct link_layout pair_argon2_layout = {
    pair_argon2_fields, LINK_COUNT(pair_argon2_fields), sizeof(struct pair_wire_argon2),
    pair_check_argon2, NULL};

/* Rules of PAIR_HELLO's top level; 0 or -1 with reason. */
static int pair_check_hello(const void *in, char *error, size_t error_size)
{
    const struct pair_wire_hello *hello = in;

    if (hello->protocol != PAIR_PROTOCOL_VERSION)
        return link_field_error(error, error_size, "protocol", "unsupported");
    if (!pair_device_id_is_valid(hello->device_id))
        return link_field_error(error, error_size, "device_id", "must be 12 lowercase hex digits");
    if (!link_text_is_safe(hello->model, sizeof(hello->model)))
        return link_field_error(error, error_size, "model", "not printable UTF-8");
    if (!link_text_is_safe(hello->firmware, sizeof(hello->firmware)))
        return link_field_error(error, error_size, "firmware", "not printable UTF-8");
    if (!pair_hex_is_valid(hello->salt, SETUP_CODE_SALT_SIZE))
        return link_field_error(error, error_size, "salt", "must be 32 hex digits");
    return 0;
}

static const struct link_field pair_hello_fields[] = {
    LINK_REQUIRED(pair_wire_hello, protocol, LINK_FIELD_INT, 0, 255),
    LINK_REQUIRED(pair_wire_hello, device_id, LINK_FIELD_TEXT, 0, 0),
    LINK_REQUIRED(pair_wire_hello, model, LINK_FIELD_TEXT, 0, 0),
    LINK_REQUIRED(pair_wire_hello, firmware, LINK_FIELD_TEXT, 0, 0),
    LINK_REQUIRED(pair_wire_hello, salt, LINK_FIELD_TEXT, 0, 0),
    LINK_REQUIRED(pair_wire_hello, argon2, LINK_FIELD_OBJECT, 0, 0),
};

static const struct link_layout pair_hello_layout = {
    pair_hello_fields, LINK_COUNT(pair_hello_fields), sizeof(struct pair_wire_hello),
    pair_check_hello, NULL};

int pair_parse_hello(const cJSON *json, struct pair_hello *out, char *error, size_t error_size)
{
    struct pair_wire_hello wire;
    struct pair_wire_argon2 argon2;

    assert(out != NULL);
    memset(out, 0, sizeof(*out));
    if (link_layout_parse(&pair_hello_layout, json, &wire, error, error_size) != 0)
        return -1;
    if (link_layout_parse(&pair_argon2_layout, wire.argon2, &argon2, error, error_size) != 0)
        return -1;
    out->protocol = wire.protocol;
    memcpy(out->device_id, wire.device_id, sizeof(out->device_id));
    memcpy(out->model, wire.model, sizeof(out->model));
    memcpy(out->firmware, wire.firmware, sizeof(out->firmware));
    out->parameters.time_cost = argon2.passes;
    out->parameters.memory_kib = argon2.memory_kib;
    out->parameters.parallelism = argon2.lanes;
    return pair_hex_field(wire.salt, "salt", out->salt, sizeof(out->salt), error, error_size);
}

cJSON *pair_build_hello(const struct pair_hello *hello)
{
    struct pair_wire_argon2 argon2 = {hello->parameters.time_cost, hello->parameters.memory_kib,
                                      hello->parameters.parallelism};
    struct pair_wire_hello wire = {.protocol = hello->protocol};
    cJSON *json = NULL;

    if (!link_text_fits(hello->device_id, sizeof(wire.device_id)) ||
        !link_text_fits(hello->model, sizeof(wire.model)) ||
        !link_text_fits(hello->firmware, sizeof(wire.firmware)))
        return NULL;
    memcpy(wire.device_id, hello->device_id, sizeof(wire.device_id));
    memcpy(wire.model, hello->model, sizeof(wire.model));
    memcpy(wire.firmware, hello->firmware, sizeof(wire.firmware));
    link_hex_encode(hello->salt, sizeof(hello->salt), wire.salt);
    wire.argon2 = link_layout_build(&pair_argon2_layout, &argon2);
    if (wire.argon2 == NULL)
        return NULL;
    json = link_layout_build(&pair_hello_layout, &wire);
    cJSON_Delete((cJSON *)wire.argon2);
    return json;
}

/* ---- the SPAKE2+ messages --------------------------------------------------- */

/* Rules of PAIR_SHARE_P; 0 or -1 with reason. */
static int pair_check_share_p(const void *in, char *error, size_t error_size)
{
    const struct pair_wire_share_p *wire = in;

    if (!pair_hex_is_valid(wire->share_p, SPAKE2PLUS_POINT_SIZE))
        return link_field_error(error, error_size, "share_p", "must be 130 hex digits");
    return 0;
}

static const struct link_field pair_share_p_fields[] = {
    LINK_REQUIRED(pair_wire_share_p, share_p, LINK_FIELD_TEXT, 0, 0),
};

static const struct link_layout pair_share_p_layout = {
    pair_share_p_fields, LINK_COUNT(pair_share_p_fields), sizeof(struct pair_wire_share_p),
    pair_check_share_p, NULL};

int pair_parse_share_p(const cJSON *json, struct pair_share_p *out, char *error, size_t error_size)
{
    struct pair_wire_share_p wire;

    memset(out, 0, sizeof(*out));
    if (link_layout_parse(&pair_share_p_layout, json, &wire, error, error_size) != 0)
        return -1;
    return pair_hex_field(wire.share_p, "share_p", out->share_p, sizeof(out->share_p), error,
                          error_size);
}

cJSON *pair_build_share_p(const struct pair_share_p *share_p)
{
    struct pair_wire_share_p wire;

    link_hex_encode(share_p->share_p, sizeof(share_p->share_p), wire.share_p);
    return link_layout_build(&pair_share_p_layout, &wire);
}

/* Rules of PAIR_SHARE_V; 0 or -1 with reason. */
static int pair_check_share_v(const void *in, char *error, size_t error_size)
{
    const struct pair_wire_share_v *wire = in;

    if (!pair_hex_is_valid(wire->share_v, SPAKE2PLUS_POINT_SIZE))
        return link_field_error(error, error_size, "share_v", "must be 130 hex digits");
    if (!pair_hex_is_valid(wire->confirm_v, SPAKE2PLUS_CONFIRM_SIZE))
        return link_field_error(error, error_size, "confirm_v", "must be 64 hex digits");
    return 0;
}

static const struct link_field pair_share_v_fields[] = {
    LINK_REQUIRED(pair_wire_share_v, share_v, LINK_FIELD_TEXT, 0, 0),
    LINK_REQUIRED(pair_wire_share_v, confirm_v, LINK_FIELD_TEXT, 0, 0),
};

static const struct link_layout pair_share_v_layout = {
    pair_share_v_fields, LINK_COUNT(pair_share_v_fields), sizeof(struct pair_wire_share_v),
    pair_check_share_v, NULL};

int pair_parse_share_v(const cJSON *json, struct pair_share_v *out, char *error, size_t error_size)
{
    struct pair_wire_share_v wire;

    memset(out, 0, sizeof(*out));
    if (link_layout_parse(&pair_share_v_layout, json, &wire, error, error_size) != 0)
        return -1;
    if (pair_hex_field(wire.share_v, "share_v", out->share_v, sizeof(out->share_v), error,
                       error_size) != 0)
        return -1;
    return pair_hex_field(wire.confirm_v, "confirm_v", out->confirm_v, sizeof(out->confirm_v),
                          error, error_size);
}

cJSON *pair_build_share_v(const struct pair_share_v *share_v)
{
    struct pair_wire_share_v wire;

    link_hex_encode(share_v->share_v, sizeof(share_v->share_v), wire.share_v);
    link_hex_encode(share_v->confirm_v, sizeof(share_v->confirm_v), wire.confirm_v);
    return link_layout_build(&pair_share_v_layout, &wire);
}

/* Rules of PAIR_CONFIRM_P; 0 or -1 with reason. */
static int pair_check_confirm_p(const void *in, char *error, size_t error_size)
{
    const struct pair_wire_confirm_p *wire = in;

    if (!pair_hex_is_valid(wire->confirm_p, SPAKE2PLUS_CONFIRM_SIZE))
        return link_field_error(error, error_size, "confirm_p", "must be 64 hex digits");
    return 0;
}

static const struct link_field pair_confirm_p_fields[] = {
    LINK_REQUIRED(pair_wire_confirm_p, confirm_p, LINK_FIELD_TEXT, 0, 0),
};

static const struct link_layout pair_confirm_p_layout = {
    pair_confirm_p_fields, LINK_COUNT(pair_confirm_p_fields), sizeof(struct pair_wire_confirm_p),
    pair_check_confirm_p, NULL};

int pair_parse_confirm_p(const cJSON *json, struct pair_confirm_p *out, char *error,
                         size_t error_size)
{
    struct pair_wire_confirm_p wire;

    memset(out, 0, sizeof(*out));
    if (link_layout_parse(&pair_confirm_p_layout, json, &wire, error, error_size) != 0)
        return -1;
    return pair_hex_field(wire.confirm_p, "confirm_p", out->confirm_p, sizeof(out->confirm_p),
                          error, error_size);
}

cJSON *pair_build_confirm_p(const struct pair_confirm_p *confirm_p)
{
    struct pair_wire_confirm_p wire;

    link_hex_encode(confirm_p->confirm_p, sizeof(confirm_p->confirm_p), wire.confirm_p);
    return link_layout_build(&pair_confirm_p_layout, &wire);
}

/* ---- the key exchange ------------------------------------------------------- */

/* Rules of PAIR_DEVICE_KEY: an uncompressed point and a MAC. */
static int pair_check_device_key(const void *in, char *error, size_t error_size)
{
    const struct pair_wire_device_key *wire = in;

    if (!pair_hex_is_valid(wire->public_key, PAIR_PUBLIC_KEY_SIZE) ||
        strncmp(wire->public_key, "04", 2) != 0)
        return link_field_error(error, error_size, "public_key",
                                "must be 130 hex digits of an uncompressed point");
    if (!pair_hex_is_valid(wire->mac, PAIR_MAC_SIZE))
        return link_field_error(error, error_size, "mac", "must be 64 hex digits");
    return 0;
}

static const struct link_field pair_device_key_fields[] = {
    LINK_REQUIRED(pair_wire_device_key, public_key, LINK_FIELD_TEXT, 0, 0),
    LINK_REQUIRED(pair_wire_device_key, mac, LINK_FIELD_TEXT, 0, 0),
};

static const struct link_layout pair_device_key_layout = {
    pair_device_key_fields, LINK_COUNT(pair_device_key_fields), sizeof(struct pair_wire_device_key),
    pair_check_device_key, NULL};

int pair_parse_device_key(const cJSON *json, struct pair_device_key *out, char *error,
                          size_t error_size)
{
    struct pair_wire_device_key wire;

    memset(out, 0, sizeof(*out));
    if (link_layout_parse(&pair_device_key_layout, json, &wire, error, error_size) != 0)
        return -1;
    if (pair_hex_field(wire.public_key, "public_key", out->public_key, sizeof(out->public_key),
                       error, error_size) != 0)
        return -1;
    return pair_hex_field(wire.mac, "mac", out->mac, sizeof(out->mac), error, error_size);
}

cJSON *pair_build_device_key(const struct pair_device_key *device_key)
{
    struct pair_wire_device_key wire;

    link_hex_encode(device_key->public_key, sizeof(device_key->public_key), wire.public_key);
    link_hex_encode(device_key->mac, sizeof(device_key->mac), wire.mac);
    return link_layout_build(&pair_device_key_layout, &wire);
}

/* Rules of PAIR_HUB_INFO; 0 or -1 with reason. */
static int pair_check_hub_info(const void *in, char *error, size_t error_size)
{
    const struct pair_wire_hub_info *wire = in;

    if (!pair_device_id_is_valid(wire->device_id))
        return link_field_error(error, error_size, "device_id", "must be 12 lowercase hex digits");
    if (!link_text_is_safe(wire->name, sizeof(wire->name)))
        return link_field_error(error, error_size, "name", "not printable UTF-8");
    if (!pair_hex_is_valid(wire->hub_key_sha256, PAIR_HASH_SIZE))
        return link_field_error(error, error_size, "hub_key_sha256", "must be 64 hex digits");
    if (!pair_url_is_valid(wire->url))
        return link_field_error(error, error_size, "url", "must be a printable wss:// URL");
    if (!pair_hex_is_valid(wire->mac, PAIR_MAC_SIZE))
        return link_field_error(error, error_size, "mac", "must be 64 hex digits");
    return 0;
}

static const struct link_field pair_hub_info_fields[] = {
    LINK_REQUIRED(pair_wire_hub_info, device_id, LINK_FIELD_TEXT, 0, 0),
    LINK_REQUIRED(pair_wire_hub_info, name, LINK_FIELD_TEXT, 0, 0),
    LINK_REQUIRED(pair_wire_hub_info, hub_key_sha256, LINK_FIELD_TEXT, 0, 0),
    LINK_REQUIRED(pair_wire_hub_info, url, LINK_FIELD_TEXT, 0, 0),
    LINK_REQUIRED(pair_wire_hub_info, mac, LINK_FIELD_TEXT, 0, 0),
};

static const struct link_layout pair_hub_info_layout = {
    pair_hub_info_fields, LINK_COUNT(pair_hub_info_fields), sizeof(struct pair_wire_hub_info),
    pair_check_hub_info, NULL};

int pair_parse_hub_info(const cJSON *json, struct pair_hub_info *out, char *error,
                        size_t error_size)
{
    struct pair_wire_hub_info wire;

    memset(out, 0, sizeof(*out));
    if (link_layout_parse(&pair_hub_info_layout, json, &wire, error, error_size) != 0)
        return -1;
    memcpy(out->device_id, wire.device_id, sizeof(out->device_id));
    memcpy(out->name, wire.name, sizeof(out->name));
    memcpy(out->url, wire.url, sizeof(out->url));
    if (pair_hex_field(wire.hub_key_sha256, "hub_key_sha256", out->hub_key_sha256,
                       sizeof(out->hub_key_sha256), error, error_size) != 0)
        return -1;
    return pair_hex_field(wire.mac, "mac", out->mac, sizeof(out->mac), error, error_size);
}

cJSON *pair_build_hub_info(const struct pair_hub_info *hub_info)
{
    struct pair_wire_hub_info wire;

    if (!link_text_fits(hub_info->device_id, sizeof(wire.device_id)) ||
        !link_text_fits(hub_info->name, sizeof(wire.name)) ||
        !link_text_fits(hub_info->url, sizeof(wire.url)))
        return NULL;
    memcpy(wire.device_id, hub_info->device_id, sizeof(wire.device_id));
    memcpy(wire.name, hub_info->name, sizeof(wire.name));
    memcpy(wire.url, hub_info->url, sizeof(wire.url));
    link_hex_encode(hub_info->hub_key_sha256, sizeof(hub_info->hub_key_sha256),
                    wire.hub_key_sha256);
    link_hex_encode(hub_info->mac, sizeof(hub_info->mac), wire.mac);
    return link_layout_build(&pair_hub_info_layout, &wire);
}

/* ---- framing ---------------------------------------------------------------- */

int pair_message_decode(const uint8_t *data, size_t size, uint8_t expected_type, cJSON **json_out,
                        struct link_error *error_out, char *error, size_t error_size)
{
    struct link_message message;
    int result = -1;

    *json_out = NULL;
    memset(error_out, 0, sizeof(*error_out));
    if (link_message_decode(data, size, &message, error, error_size) != 0)
        return -1;
    if (message.header.type == LINK_ERROR) {
        if (link_parse_error(message.json, error_out, error, error_size) == 0)
            result = 1;
        goto out;
    }
    if (message.header.type != expected_type) {
        error_text_set(error, error_size, "expected %s, got %s", link_type_name(expected_type),
                       link_type_name(message.header.type));
        goto out;
    }
    *json_out = message.json;
    message.json = NULL;
    result = 0;
out:
    link_message_clear(&message);
    return result;
}

/* ---- identities and MACs ---------------------------------------------------- */

int pair_prover_identity(const uint8_t hub_key_sha256[PAIR_HASH_SIZE], char *out, size_t out_size)
{
    char hex[PAIR_HEX_SIZE(PAIR_HASH_SIZE)];
    int length;

    link_hex_encode(hub_key_sha256, PAIR_HASH_SIZE, hex);
    length = snprintf(out, out_size, "%s%s", PAIR_PROVER_PREFIX, hex);
    return length < 0 || (size_t)length >= out_size ? -1 : length;
}

int pair_verifier_identity(const char *device_id, char *out, size_t out_size)
{
    int length;

    if (!pair_device_id_is_valid(device_id))
        return -1;
    length = snprintf(out, out_size, "%s%s", PAIR_VERIFIER_PREFIX, device_id);
    return length < 0 || (size_t)length >= out_size ? -1 : length;
}

void pair_identities(struct spake2plus_identities *identities, const char *prover,
                     const char *verifier)
{
    identities->context = (const uint8_t *)PAIR_CONTEXT;
    identities->context_length = sizeof(PAIR_CONTEXT) - 1;
    identities->prover = (const uint8_t *)prover;
    identities->prover_length = strlen(prover);
    identities->verifier = (const uint8_t *)verifier;
    identities->verifier_length = strlen(verifier);
}

int pair_mac_key(const uint8_t shared_key[SPAKE2PLUS_KEY_SIZE], uint8_t mac_key[PAIR_KEY_SIZE])
{
    const mbedtls_md_info_t *sha256 = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);

    return mbedtls_hkdf(sha256, NULL, 0, shared_key, SPAKE2PLUS_KEY_SIZE,
                        (const unsigned char *)PAIR_KEY_INFO, sizeof(PAIR_KEY_INFO) - 1, mac_key,
                        PAIR_KEY_SIZE) == 0
               ? 0
               : -1;
}

/* Feed a 2-byte big-endian length and then the text into the HMAC. */
static int pair_mac_text(mbedtls_md_context_t *md, const char *text)
{
    size_t length = strlen(text);
    uint8_t prefix[2] = {(uint8_t)(length >> 8), (uint8_t)length};

    if (length > 0xffff)
        return -1;
    if (mbedtls_md_hmac_update(md, prefix, sizeof(prefix)) != 0)
        return -1;
    return mbedtls_md_hmac_update(md, (const unsigned char *)text, length) == 0 ? 0 : -1;
}

/* Start an HMAC-SHA256 with mac_key and feed the domain string. 0 or -1;
 * the caller frees md either way. */
static int pair_mac_start(mbedtls_md_context_t *md, const uint8_t mac_key[PAIR_KEY_SIZE],
                          const char *domain)
{
    mbedtls_md_init(md);
    if (mbedtls_md_setup(md, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 1) != 0 ||
        mbedtls_md_hmac_starts(md, mac_key, PAIR_KEY_SIZE) != 0)
        return -1;
    return mbedtls_md_hmac_update(md, (const unsigned char *)domain, strlen(domain)) == 0 ? 0 : -1;
}

int pair_device_key_mac(const uint8_t mac_key[PAIR_KEY_SIZE],
                        const uint8_t public_key[PAIR_PUBLIC_KEY_SIZE],
                        uint8_t mac_out[PAIR_MAC_SIZE])
{
    mbedtls_md_context_t md;
    int result = -1;

    if (pair_mac_start(&md, mac_key, PAIR_DEVICE_KEY_DOMAIN) != 0 ||
        mbedtls_md_hmac_update(&md, public_key, PAIR_PUBLIC_KEY_SIZE) != 0 ||
        mbedtls_md_hmac_finish(&md, mac_out) != 0)
        goto out;
    result = 0;
out:
    mbedtls_md_free(&md);
    return result;
}

int pair_hub_info_mac(const uint8_t mac_key[PAIR_KEY_SIZE], const struct pair_hub_info *hub_info,
                      uint8_t mac_out[PAIR_MAC_SIZE])
{
    mbedtls_md_context_t md;
    int result = -1;

    if (pair_mac_start(&md, mac_key, PAIR_HUB_INFO_DOMAIN) != 0 ||
        pair_mac_text(&md, hub_info->device_id) != 0 || pair_mac_text(&md, hub_info->name) != 0 ||
        mbedtls_md_hmac_update(&md, hub_info->hub_key_sha256, PAIR_HASH_SIZE) != 0 ||
        pair_mac_text(&md, hub_info->url) != 0 || mbedtls_md_hmac_finish(&md, mac_out) != 0)
        goto out;
    result = 0;
out:
    mbedtls_md_free(&md);
    return result;
}

bool pair_mac_matches(const uint8_t expected[PAIR_MAC_SIZE], const uint8_t received[PAIR_MAC_SIZE])
{
    return link_constant_time_compare(expected, received, PAIR_MAC_SIZE) == 0;
}
