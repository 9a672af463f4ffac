/*
 * pairing_store.c - the doorbell's pairing files (see pairing_store.h).
 * Callers serialise; no state of its own. JSON with cJSON; every tree is
 * freed before returning; secrets on the stack are wiped.
 */
#define LOG_MODULE "pairing"

#include "pairing/pairing_store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <mbedtls/platform_util.h>

#include "common/error_text.h"
#include "common/link_protocol.h"
#include "common/private_file.h"
#include "common/system_random.h"

#define PAIRING_STORE_RECORD_MAX 1024

long pairing_store_read_file(const char *dir, const char *name, char *buffer, size_t size)
{
    char path[PAIRING_STORE_PATH_MAX];
    ssize_t length;
    int fd;

    if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
        return -1;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? -2 : -1;
    length = read(fd, buffer, size - 1);
    close(fd);
    if (length < 0)
        return -1;
    buffer[length] = '\0';
    return (long)length;
}

/* Read a hex member of exactly size bytes; 0 or -1. */
static int pairing_store_hex(const cJSON *json, const char *key, uint8_t *out, size_t size)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(json, key);

    return cJSON_IsString(item) && link_hex_decode(item->valuestring, out, size) == 0 ? 0 : -1;
}

/* Read a whole number member in [0, 2^32); 0 or -1. */
static int pairing_store_uint32(const cJSON *json, const char *key, uint32_t *out)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(json, key);

    if (!cJSON_IsNumber(item) || item->valuedouble < 0 || item->valuedouble > 4294967295.0 ||
        item->valuedouble != (double)(uint32_t)item->valuedouble)
        return -1;
    *out = (uint32_t)item->valuedouble;
    return 0;
}

/* Parse the pairing-record text into record; 0 or -1 with the reason. */
static int pairing_store_parse_record(const char *text, struct setup_code_record *record,
                                      char *error, size_t error_size)
{
    cJSON *json = cJSON_Parse(text);
    const cJSON *argon2 = cJSON_GetObjectItemCaseSensitive(json, "argon2");
    int result = -1;

    if (json == NULL || !cJSON_IsObject(argon2) ||
        pairing_store_hex(json, "salt", record->salt, sizeof(record->salt)) != 0 ||
        pairing_store_hex(json, "w0", record->w0, sizeof(record->w0)) != 0 ||
        pairing_store_hex(json, "l", record->l, sizeof(record->l)) != 0 ||
        pairing_store_uint32(argon2, "passes", &record->parameters.time_cost) != 0 ||
        pairing_store_uint32(argon2, "memory_kib", &record->parameters.memory_kib) != 0 ||
        pairing_store_uint32(argon2, "lanes", &record->parameters.parallelism) != 0) {
        error_text_set(error, error_size, "pairing-record is not valid");
        goto out;
    }
    result = setup_code_check_parameters(&record->parameters, error, error_size);
out:
    cJSON_Delete(json);
    return result;
}

/* Write the record as JSON; 0 or -1 with the reason. */
static int pairing_store_write_record(const char *dir, const struct setup_code_record *record,
                                      char *error, size_t error_size)
{
    char salt[2 * SETUP_CODE_SALT_SIZE + 1], w0[2 * SPAKE2PLUS_SCALAR_SIZE + 1];
    char l[2 * SPAKE2PLUS_POINT_SIZE + 1], text[PAIRING_STORE_RECORD_MAX];
    int length, result;

    link_hex_encode(record->salt, sizeof(record->salt), salt);
    link_hex_encode(record->w0, sizeof(record->w0), w0);
    link_hex_encode(record->l, sizeof(record->l), l);
    length = snprintf(text, sizeof(text),
                      "{\"salt\":\"%s\",\"argon2\":{\"passes\":%u,\"memory_kib\":%u,"
                      "\"lanes\":%u},\"w0\":\"%s\",\"l\":\"%s\"}\n",
                      salt, record->parameters.time_cost, record->parameters.memory_kib,
                      record->parameters.parallelism, w0, l);
    result = private_file_write(dir, "pairing-record", text, (size_t)length, error, error_size);
    mbedtls_platform_zeroize(text, sizeof(text));
    mbedtls_platform_zeroize(w0, sizeof(w0));
    return result;
}

/* Make a new identity: id, code, record; device-id written last. */
static int pairing_store_create(const char *dir, const struct setup_code_parameters *parameters,
                                struct pairing_identity *identity, char *error, size_t error_size)
{
    char verifier[PAIR_IDENTITY_SIZE], line[SETUP_CODE_SIZE + 1], id_line[PAIR_DEVICE_ID_SIZE + 1];
    uint8_t id_bytes[PAIR_DEVICE_ID_LENGTH / 2];
    int result = -1;

    memset(identity, 0, sizeof(*identity));
    if (system_random_fill(id_bytes, sizeof(id_bytes), error, error_size) != 0)
        return -1;
    link_hex_encode(id_bytes, sizeof(id_bytes), identity->device_id);
    if (pair_verifier_identity(identity->device_id, verifier, sizeof(verifier)) < 0 ||
        setup_code_generate(identity->setup_code, sizeof(identity->setup_code), error,
                            error_size) != 0 ||
        setup_code_make_record(identity->setup_code, parameters, (const uint8_t *)verifier,
                               strlen(verifier), &identity->record, error, error_size) != 0)
        goto out;
    snprintf(line, sizeof(line), "%s\n", identity->setup_code);
    if (private_file_write(dir, "setup-code", line, strlen(line), error, error_size) != 0 ||
        pairing_store_write_record(dir, &identity->record, error, error_size) != 0)
        goto out;
    snprintf(id_line, sizeof(id_line), "%s\n", identity->device_id);
    if (private_file_write(dir, "device-id", id_line, strlen(id_line), error, error_size) != 0)
        goto out;
    result = 0;
out:
    mbedtls_platform_zeroize(line, sizeof(line));
    return result;
}

int pairing_store_load(const char *dir, const struct setup_code_parameters *parameters,
                       struct pairing_identity *identity, int *created, char *error,
                       size_t error_size)
{
    char text[PAIRING_STORE_RECORD_MAX];
    long length;

    *created = 0;
    memset(identity, 0, sizeof(*identity));
    length = pairing_store_read_file(dir, "device-id", text, sizeof(text));
    if (length == -2) {
        *created = 1;
        return pairing_store_create(dir, parameters, identity, error, error_size);
    }
    text[strcspn(text, "\r\n")] = '\0';
    if (length < 0 || !pair_device_id_is_valid(text)) {
        error_text_set(error, error_size, "%s/device-id is not 12 lowercase hex digits", dir);
        return -1;
    }
    memcpy(identity->device_id, text, sizeof(identity->device_id));
    length = pairing_store_read_file(dir, "pairing-record", text, sizeof(text));
    if (length < 0) {
        error_text_set(error, error_size, "cannot read %s/pairing-record", dir);
        return -1;
    }
    if (pairing_store_parse_record(text, &identity->record, error, error_size) != 0)
        return -1;
    length = pairing_store_read_file(dir, "setup-code", text, sizeof(text));
    text[length > 0 ? strcspn(text, "\r\n") : 0] = '\0';
    if (length > 0 && setup_code_wellformed(text))
        memcpy(identity->setup_code, text, sizeof(identity->setup_code));
    mbedtls_platform_zeroize(text, sizeof(text));
    return 0;
}

int pairing_store_reset(const char *dir, const struct setup_code_parameters *parameters,
                        struct pairing_identity *identity, char *error, size_t error_size)
{
    static const char *const files[] = {"device-id", "hub.json", "device-key.pem", "setup-code",
                                        "pairing-record"};
    char path[PAIRING_STORE_PATH_MAX];

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        if (snprintf(path, sizeof(path), "%s/%s", dir, files[i]) >= (int)sizeof(path))
            continue;
        if (unlink(path) != 0 && errno != ENOENT) {
            error_text_set(error, error_size, "cannot remove %s: %s", path, strerror(errno));
            return -1;
        }
    }
    return pairing_store_create(dir, parameters, identity, error, error_size);
}

int pairing_store_read_hub(const char *dir, struct pairing_hub *hub, char *error, size_t error_size)
{
    char text[PAIRING_STORE_RECORD_MAX];
    const cJSON *url, *hash;
    uint8_t digest[PAIR_HASH_SIZE];
    long length = pairing_store_read_file(dir, "hub.json", text, sizeof(text));
    cJSON *json;
    int result = -1;

    memset(hub, 0, sizeof(*hub));
    if (length == -2)
        return 1;
    json = length >= 0 ? cJSON_Parse(text) : NULL;
    url = cJSON_GetObjectItemCaseSensitive(json, "url");
    hash = cJSON_GetObjectItemCaseSensitive(json, "hub_key_sha256");
    if (!cJSON_IsString(url) || !cJSON_IsString(hash) ||
        strncmp(url->valuestring, "wss://", 6) != 0 ||
        strlen(url->valuestring) >= sizeof(hub->url) ||
        link_hex_decode(hash->valuestring, digest, sizeof(digest)) != 0) {
        error_text_set(error, error_size, "%s/hub.json is not valid", dir);
        goto out;
    }
    snprintf(hub->url, sizeof(hub->url), "%s", url->valuestring);
    link_hex_encode(digest, sizeof(digest), hub->hub_key_sha256);
    result = 0;
out:
    cJSON_Delete(json);
    return result;
}

int pairing_store_write_hub(const char *dir, const struct pairing_hub *hub, char *error,
                            size_t error_size)
{
    cJSON *json = cJSON_CreateObject();
    char *text = NULL;
    int result = -1;

    if (json == NULL || cJSON_AddStringToObject(json, "url", hub->url) == NULL ||
        cJSON_AddStringToObject(json, "hub_key_sha256", hub->hub_key_sha256) == NULL ||
        (text = cJSON_PrintUnformatted(json)) == NULL) {
        error_text_set(error, error_size, "out of memory");
        goto out;
    }
    result = private_file_write(dir, "hub.json", text, strlen(text), error, error_size);
out:
    cJSON_free(text);
    cJSON_Delete(json);
    return result;
}
