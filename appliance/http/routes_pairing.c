/*
 * routes_pairing.c - /api/v1/pairing: the doorbells waiting to pair and
 * pairing one with its setup code (docs/api.md, "Pairing"). Admins only
 * (http_routes.c). Every attempt is audited: pair_attempt, then pair_ok or
 * pair_fail, with the doorbell's id and address.
 *
 * Threads: civetweb worker threads; a POST blocks its worker for the
 * exchange (at most DEVICE_PAIRING_TIMEOUT_MS).
 */
#include <stdio.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#include "accounts/audit.h"
#include "common/link_protocol.h"
#include "core/hub.h"
#include "devices/device_pairing.h"
#include "http/routes.h"
#include "storage/database.h"

int routes_pairing_list(struct http_request *request)
{
    struct device_pairing_waiting waiting[DEVICE_PAIRING_MAX_WAITING];
    int count = device_pairing_list(request->hub->pairing, waiting, DEVICE_PAIRING_MAX_WAITING);
    int64_t now = database_now_ms();
    cJSON *json = cJSON_CreateObject();
    cJSON *array = json != NULL ? cJSON_AddArrayToObject(json, "waiting") : NULL;
    int status;

    if (array == NULL) {
        cJSON_Delete(json);
        return http_send_error(request, 500, "internal", "out of memory");
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
    status = http_send_json(request, 200, json);
    cJSON_Delete(json);
    return status;
}

/* The HTTP status of a pairing result. */
static int routes_pairing_status(enum device_pairing_result result)
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

int routes_pairing_pair(struct http_request *request)
{
    cJSON *body = http_read_json(request, 4096);
    const char *device_id = request->params[0];
    struct device_record device;
    char address[DEVICE_PAIRING_ADDRESS_MAX] = "", reason[192], detail[256], code[64];
    uint8_t hub_key[PAIR_HASH_SIZE];
    enum device_pairing_result result;
    const char *typed, *name;
    sqlite3 *db = database_thread_connection();
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
    if (link_hex_decode(request->hub->certificate.key_sha256, hub_key, sizeof(hub_key)) != 0) {
        cJSON_Delete(body);
        return http_send_error(request, 500, "internal", "the hub's key fingerprint is unknown");
    }
    audit_record(db, request->auth.user.id, request->auth.user.username, "pair_attempt", device_id,
                 "", request->remote_address);
    result = device_pairing_pair(request->hub->pairing, db, device_id, code, name, hub_key, &device,
                                 address, reason, sizeof(reason));
    mbedtls_platform_zeroize(code, sizeof(code));
    cJSON_Delete(body);
    snprintf(detail, sizeof(detail), "doorbell %s: %s%s%s", address[0] ? address : "-",
             device_pairing_result_name(result), reason[0] ? ": " : "", reason);
    audit_record(db, request->auth.user.id, request->auth.user.username,
                 result == DEVICE_PAIRING_OK ? "pair_ok" : "pair_fail", device_id, detail,
                 request->remote_address);
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
