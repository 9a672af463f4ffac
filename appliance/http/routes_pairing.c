/*
 * routes_pairing.c - /api/v1/pairing: the doorbells waiting to pair and
 * pairing one with its setup code (docs/api.md, "Pairing"). Admins only
 * (http_routes.c). Every attempt is audited: pair_attempt, then pair_ok or
 * pair_fail, with the doorbell's id and address.
 *
 * Threads: civetweb worker threads; a POST blocks its worker for the
 * exchange (at most DEVICE_PAIRING_TIMEOUT_MS).
 */
#define LOG_MODULE "pair"

#include <stdio.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#include "accounts/audit.h"
#include "common/error_text.h"
#include "common/log.h"
#include "common/link_protocol.h"
#include "core/hub.h"
#include "devices/device_pairing.h"
#include "http/routes.h"
#include "storage/database.h"

/* The waiting doorbells as {"waiting": [...]}; NULL when out of memory.
 * Also the pairing socket's answer to `waiting` (pair_socket.c). */
cJSON *routes_pairing_waiting_json(struct hub *hub)
{
    struct device_pairing_waiting waiting[DEVICE_PAIRING_MAX_WAITING];
    int count = device_pairing_list(hub->pairing, waiting, DEVICE_PAIRING_MAX_WAITING);
    int64_t now = database_now_ms();
    cJSON *json = cJSON_CreateObject();
    cJSON *array = json != NULL ? cJSON_AddArrayToObject(json, "waiting") : NULL;

    if (array == NULL) {
        cJSON_Delete(json);
        return NULL;
    }
    for (int i = 0; i < count; i++) {
        cJSON *item = cJSON_CreateObject();
        if (item == NULL || !cJSON_AddItemToArray(array, item)) {
            cJSON_Delete(item);
            break;
        }
        cJSON_AddStringToObject(item, "device_id", waiting[i].device_id);
        cJSON_AddStringToObject(item, "model", waiting[i].model);
        cJSON_AddStringToObject(item, "firmware", waiting[i].firmware);
        cJSON_AddStringToObject(item, "address", waiting[i].address);
        cJSON_AddNumberToObject(item, "since_ms", (double)(now - waiting[i].since_ms));
    }
    return json;
}

int routes_pairing_list(struct http_request *request)
{
    cJSON *json = routes_pairing_waiting_json(request->hub);
    int status;

    if (json == NULL)
        return http_send_error(request, 500, "internal", "out of memory");
    status = http_send_json(request, 200, json);
    cJSON_Delete(json);
    return status;
}

/* The HTTP status of a pairing result (the pairing socket answers it too). */
int routes_pairing_status(enum device_pairing_result result)
{
    switch (result) {
    case DEVICE_PAIRING_OK:
        return 201;
    case DEVICE_PAIRING_NOT_WAITING:
        return 404;
    case DEVICE_PAIRING_BUSY:
    case DEVICE_PAIRING_CLOSED:
        return 409;
    case DEVICE_PAIRING_WRONG_CODE:
        return 403;
    case DEVICE_PAIRING_TIMEOUT:
        return 504;
    default:
        return 400;
    }
}

/*
 * Pair device_id with code for who (user id and name, from where), audited:
 * pair_attempt, then pair_ok or pair_fail with the doorbell's address and the
 * outcome. Fills device on success and reason otherwise. The caller wipes
 * code. Any worker thread, with its own db connection.
 */
enum device_pairing_result routes_pairing_run(struct hub *hub, sqlite3 *db, int64_t user_id,
                                              const char *username, const char *from,
                                              const char *device_id, const char *code,
                                              const char *name, struct device_record *device,
                                              char *reason, size_t reason_size)
{
    char address[DEVICE_PAIRING_ADDRESS_MAX] = "", detail[256];
    uint8_t hub_key[PAIR_HASH_SIZE];
    enum device_pairing_result result;

    reason[0] = '\0';
    if (link_hex_decode(hub->certificate.key_sha256, hub_key, sizeof(hub_key)) != 0) {
        error_text_set(reason, reason_size, "the hub's key fingerprint is unknown");
        return DEVICE_PAIRING_FAILED;
    }
    audit_record(db, user_id, username, "pair_attempt", device_id, "", from);
    result = device_pairing_pair(hub->pairing, db, device_id, code, name, hub_key, device, address,
                                 reason, reason_size);
    snprintf(detail, sizeof(detail), "doorbell %s: %s%s%s", address[0] ? address : "-",
             device_pairing_result_name(result), reason[0] ? ": " : "", reason);
    audit_record(db, user_id, username, result == DEVICE_PAIRING_OK ? "pair_ok" : "pair_fail",
                 device_id, detail, from);
    if (result == DEVICE_PAIRING_OK)
        log_info("doorbell %s paired as \"%s\" by %s", device_id, device->name, username);
    else
        log_info("pairing doorbell %s failed (%s)", device_id, detail);
    return result;
}

int routes_pairing_pair(struct http_request *request)
{
    cJSON *body = http_read_json(request, 4096);
    const char *device_id = request->params[0];
    struct device_record device;
    char reason[192], code[64];
    enum device_pairing_result result;
    const char *typed, *name;
    cJSON *json;
    int status;

    if (body == NULL)
        return 400;
    typed = http_json_string(body, "code");
    name = http_json_string(body, "name");
    if (typed == NULL || strlen(typed) >= sizeof(code)) {
        cJSON_Delete(body);
        return http_send_error(request, 400, "invalid", "the setup code is needed");
    }
    snprintf(code, sizeof(code), "%s", typed);
    if (name == NULL || name[0] == '\0')
        name = "Doorbell";
    result = routes_pairing_run(request->hub, database_thread_connection(), request->auth.user.id,
                                request->auth.user.username, request->remote_address, device_id,
                                code, name, &device, reason, sizeof(reason));
    mbedtls_platform_zeroize(code, sizeof(code));
    cJSON_Delete(body);
    status = routes_pairing_status(result);
    if (result != DEVICE_PAIRING_OK)
        return http_send_error(request, status, device_pairing_result_name(result), reason);
    json = routes_devices_json(request->hub, &device);
    if (json == NULL)
        return http_send_error(request, 500, "internal", "out of memory");
    status = http_send_json(request, 201, json);
    cJSON_Delete(json);
    return status;
}
