/*
 * discovery_txt.c - parsing and checking the TXT records of Doorstep's mDNS
 * services (see discovery_txt.h). Any thread; no state.
 */
#include "common/discovery_txt.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "common/error_text.h"

#define DISCOVERY_TXT_KEY_MAX 9 /* keys longer than RFC 6763's advice are skipped */

/* The keys this module knows; their bit in the "seen" mask. */
enum discovery_txt_key {
    DISCOVERY_KEY_VERSION = 1 << 0,
    DISCOVERY_KEY_ID = 1 << 1,
    DISCOVERY_KEY_PK = 1 << 2,
    DISCOVERY_KEY_MODEL = 1 << 3,
};

/* 1 when text is exactly `length` lowercase hex digits, else 0. */
int discovery_txt_is_hex(const char *text, size_t length)
{
    size_t i;

    for (i = 0; i < length; i++)
        if (!((text[i] >= '0' && text[i] <= '9') || (text[i] >= 'a' && text[i] <= 'f')))
            return 0;
    return text[length] == '\0';
}

/* 1 when bytes [value, value + size) are all printable ASCII, else 0. */
static int discovery_txt_is_printable(const uint8_t *value, size_t size)
{
    for (size_t i = 0; i < size; i++)
        if (value[i] < 0x20 || value[i] > 0x7e)
            return 0;
    return 1;
}

/* Which known key a key of key_size bytes is (ASCII, case-insensitive as
 * RFC 6763 6.4 says), or 0 for an unknown one. */
static int discovery_txt_key_of(const uint8_t *key, size_t key_size)
{
    static const struct {
        const char *name;
        int bit;
    } keys[] = {
        {"v", DISCOVERY_KEY_VERSION},
        {"id", DISCOVERY_KEY_ID},
        {"pk", DISCOVERY_KEY_PK},
        {"model", DISCOVERY_KEY_MODEL},
    };

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strlen(keys[i].name) == key_size &&
            strncasecmp(keys[i].name, (const char *)key, key_size) == 0)
            return keys[i].bit;
    return 0;
}

/* Check and store one known key's value into *out; 0 or -1 with a reason. */
static int discovery_txt_take_value(int key, const uint8_t *value, size_t size,
                                    struct discovery_txt *out, char *error, size_t error_size)
{
    char text[DISCOVERY_MODEL_MAX + 1];

    if (key == DISCOVERY_KEY_MODEL) {
        if (size == 0 || size > DISCOVERY_MODEL_MAX || !discovery_txt_is_printable(value, size)) {
            error_text_set(error, error_size, "model is not 1 to %d printable characters",
                           DISCOVERY_MODEL_MAX);
            return -1;
        }
        memcpy(out->model, value, size);
        out->model[size] = '\0';
        return 0;
    }
    if (size >= sizeof(text) || memchr(value, '\0', size) != NULL) {
        error_text_set(error, error_size, "a value is too long or holds a NUL");
        return -1;
    }
    memcpy(text, value, size);
    text[size] = '\0';
    switch (key) {
    case DISCOVERY_KEY_VERSION:
        if (strcmp(text, "1") != 0) {
            error_text_set(error, error_size, "unknown version");
            return -1;
        }
        out->version = DISCOVERY_VERSION;
        return 0;
    case DISCOVERY_KEY_ID:
        if (!discovery_txt_is_hex(text, DISCOVERY_ID_LENGTH)) {
            error_text_set(error, error_size, "id is not %d lowercase hex digits",
                           DISCOVERY_ID_LENGTH);
            return -1;
        }
        memcpy(out->id, text, DISCOVERY_ID_LENGTH + 1);
        return 0;
    default: /* DISCOVERY_KEY_PK */
        if (!discovery_txt_is_hex(text, DISCOVERY_PK_LENGTH)) {
            error_text_set(error, error_size, "pk is not %d lowercase hex digits",
                           DISCOVERY_PK_LENGTH);
            return -1;
        }
        memcpy(out->pk, text, DISCOVERY_PK_LENGTH + 1);
        return 0;
    }
}

/* Parse a TXT record of the given kind; 0, or -1 with a reason and *out
 * zeroed (see discovery_txt.h). */
int discovery_txt_parse(const uint8_t *data, size_t size, enum discovery_txt_kind kind,
                        struct discovery_txt *out, char *error, size_t error_size)
{
    int seen = 0, strings = 0, needed;
    size_t offset = 0;

    memset(out, 0, sizeof(*out));
    if (data == NULL || size == 0 || size > DISCOVERY_TXT_RECORD_MAX) {
        error_text_set(error, error_size, "the record is empty or longer than %d bytes",
                       DISCOVERY_TXT_RECORD_MAX);
        goto fail;
    }
    while (offset < size) {
        size_t length = data[offset++];
        const uint8_t *item = data + offset, *equals;
        size_t key_size;
        int key;

        if (length > size - offset) {
            error_text_set(error, error_size, "a string runs past the end of the record");
            goto fail;
        }
        offset += length;
        if (++strings > DISCOVERY_TXT_STRINGS_MAX) {
            error_text_set(error, error_size, "more than %d strings", DISCOVERY_TXT_STRINGS_MAX);
            goto fail;
        }
        if (length == 0) /* the empty record of a service without TXT data */
            continue;
        equals = memchr(item, '=', length);
        key_size = equals != NULL ? (size_t)(equals - item) : length;
        if (key_size == 0) {
            error_text_set(error, error_size, "a string has no key");
            goto fail;
        }
        if (key_size > DISCOVERY_TXT_KEY_MAX || !discovery_txt_is_printable(item, key_size))
            continue; /* not one of ours */
        key = discovery_txt_key_of(item, key_size);
        if (key == 0)
            continue; /* unknown keys are for later versions */
        if (seen & key) {
            error_text_set(error, error_size, "a key appears twice");
            goto fail;
        }
        seen |= key;
        if (equals == NULL) {
            error_text_set(error, error_size, "a known key has no value");
            goto fail;
        }
        if (discovery_txt_take_value(key, equals + 1, length - key_size - 1, out, error,
                                     error_size) != 0)
            goto fail;
    }
    needed = DISCOVERY_KEY_VERSION | DISCOVERY_KEY_ID |
             (kind == DISCOVERY_TXT_HUB ? DISCOVERY_KEY_PK : DISCOVERY_KEY_MODEL);
    if ((seen & needed) != needed) {
        error_text_set(error, error_size, "a required key is missing");
        goto fail;
    }
    if (seen & ~needed) {
        error_text_set(error, error_size, "a key of the other service type");
        goto fail;
    }
    return 0;

fail:
    memset(out, 0, sizeof(*out));
    return -1;
}

/* Copy a name as printable ASCII; 0, or -1 when empty or too long. */
int discovery_txt_clean_name(const char *name, size_t size, size_t max_length, char *out,
                             size_t out_size)
{
    size_t i;

    if (out_size == 0)
        return -1;
    out[0] = '\0';
    if (name == NULL || size == 0 || size > max_length || size >= out_size)
        return -1;
    for (i = 0; i < size; i++) {
        unsigned char byte = (unsigned char)name[i];
        out[i] = byte >= 0x20 && byte <= 0x7e ? (char)byte : '?';
    }
    out[i] = '\0';
    return 0;
}

/* 1 when pk is the prefix of the 64-hex pin, else 0. */
int discovery_txt_pk_matches_pin(const char *pk, const char *pin)
{
    if (pk == NULL || pin == NULL || !discovery_txt_is_hex(pk, DISCOVERY_PK_LENGTH) ||
        strlen(pin) != DISCOVERY_KEY_SHA256_HEX)
        return 0;
    for (size_t i = 0; i < DISCOVERY_KEY_SHA256_HEX; i++)
        if (!isxdigit((unsigned char)pin[i]))
            return 0;
    return strncasecmp(pk, pin, DISCOVERY_PK_LENGTH) == 0;
}
