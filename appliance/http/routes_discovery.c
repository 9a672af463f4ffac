/*
 * routes_discovery.c - GET /api/v1/discovery: the doorbells announcing
 * pairing mode on the local network (discovery/hub_discovery.h), for the
 * admin's "Add doorbell". Admin only (the route table says so).
 *
 * Civetweb worker threads; the list is copied out under the mDNS module's
 * lock, the JSON built and freed here.
 */
#include <stdlib.h>

#include "core/hub.h"
#include "discovery/hub_discovery.h"
#include "http/routes.h"

/* {"mdns": bool, "doorbells": [{"device_id","model","address","port","seen_ms"}]} */
int routes_discovery_list(struct http_request *request)
{
    struct hub_discovery_doorbell *doorbells = calloc(MDNS_SERVICE_FOUND_MAX, sizeof(*doorbells));
    cJSON *body = cJSON_CreateObject(), *list;
    int count, code;

    if (doorbells == NULL || body == NULL) {
        code = http_send_error(request, 500, "internal", "out of memory");
        goto out;
    }
    count = hub_discovery_list(request->hub->discovery, doorbells, MDNS_SERVICE_FOUND_MAX);
    cJSON_AddBoolToObject(body, "mdns", request->hub->discovery != NULL);
    list = cJSON_AddArrayToObject(body, "doorbells");
    for (int i = 0; i < count; i++) {
        cJSON *item = cJSON_CreateObject();
        cJSON_AddStringToObject(item, "device_id", doorbells[i].device_id);
        cJSON_AddStringToObject(item, "model", doorbells[i].model);
        cJSON_AddStringToObject(item, "address", doorbells[i].address);
        cJSON_AddNumberToObject(item, "port", doorbells[i].port);
        cJSON_AddNumberToObject(item, "seen_ms", (double)doorbells[i].seen_ms);
        cJSON_AddItemToArray(list, item);
    }
    code = http_send_json(request, 200, body);
out:
    cJSON_Delete(body);
    free(doorbells);
    return code;
}
