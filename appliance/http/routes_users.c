/*
 * routes_users.c - /api/v1/me (and changing one's own password) and the
 * admin's user management: list, add (with the doorbells a viewer may see
 * and the rights on each: "grants"), change role, grants or password, sign
 * out everywhere, delete. The grant JSON helpers serve routes_invites.c too. Every change that can
 * take authority away tells the authority thread (authority.h), which closes the user's open live
 * views, event feeds and playbacks. civetweb worker threads.
 */
#define LOG_MODULE "auth"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts/audit.h"
#include "accounts/authority.h"
#include "accounts/sessions.h"
#include "core/hub.h"
#include "devices/device_store.h"
#include "http/routes.h"
#include "storage/database.h"

/* users_list_devices callback: append a device id to a JSON array. */
static int routes_users_add_device_id(const char *device_id, void *data)
{
    cJSON_AddItemToArray(data, cJSON_CreateString(device_id));
    return 0;
}

struct routes_users_talk_context {
    struct http_request *request;
    cJSON *array;
};

/* device_store_list callback: add the doorbells the caller may talk to. */
static int routes_users_add_talk_device(const struct device_record *record, void *data)
{
    struct routes_users_talk_context *context = data;

    if (users_can_talk_to_device(database_thread_connection(), &context->request->auth.user,
                                 record->id))
        cJSON_AddItemToArray(context->array, cJSON_CreateString(record->id));
    return 0;
}

cJSON *routes_rights_json(unsigned rights)
{
    cJSON *json = cJSON_CreateObject();

    for (unsigned bit = USERS_RIGHT_LIVE; bit <= USERS_RIGHT_TALK; bit <<= 1)
        cJSON_AddBoolToObject(json, users_right_name(bit), (rights & bit) != 0);
    return json;
}

cJSON *routes_grant_json(const struct users_grant *grant)
{
    cJSON *json = routes_rights_json(grant->rights);

    cJSON_AddStringToObject(json, "device_id", grant->device_id);
    return json;
}

/* users_grant_callback: append a grant to a JSON array. */
static int routes_users_add_grant(const struct users_grant *grant, void *data)
{
    cJSON_AddItemToArray(data, routes_grant_json(grant));
    return 0;
}

int routes_grants_parse(sqlite3 *db, const cJSON *array, struct users_grant *grants, size_t *count,
                        const char **problem)
{
    const cJSON *item;

    *count = 0;
    *problem = "grants is an array of {device_id, live, recordings, export, talk}";
    if (!cJSON_IsArray(array) || cJSON_GetArraySize(array) > USERS_GRANTS_MAX)
        return -1;
    cJSON_ArrayForEach(item, array)
    {
        const char *device_id = http_json_string(item, "device_id");
        struct users_grant *grant = &grants[*count];
        if (!cJSON_IsObject(item) || device_id == NULL ||
            strlen(device_id) >= sizeof(grant->device_id))
            return -1;
        memset(grant, 0, sizeof(*grant));
        snprintf(grant->device_id, sizeof(grant->device_id), "%s", device_id);
        for (unsigned bit = USERS_RIGHT_LIVE; bit <= USERS_RIGHT_TALK; bit <<= 1) {
            const cJSON *flag = cJSON_GetObjectItemCaseSensitive(item, users_right_name(bit));
            if (flag != NULL && !cJSON_IsBool(flag))
                return -1;
            if (cJSON_IsTrue(flag))
                grant->rights |= bit;
        }
        for (size_t i = 0; i < *count; i++)
            if (strcmp(grants[i].device_id, grant->device_id) == 0) {
                *problem = "a doorbell is granted twice";
                return -1;
            }
        if (!users_device_exists(db, grant->device_id)) {
            *problem = "no such doorbell";
            return -2;
        }
        (*count)++;
    }
    return 0;
}

int routes_grants_read(struct http_request *request, const cJSON *array,
                       struct users_grant **grants_out, size_t *count)
{
    const char *problem = NULL;
    int parsed;

    *count = 0;
    *grants_out = calloc(USERS_GRANTS_MAX, sizeof(**grants_out));
    if (*grants_out == NULL)
        return http_send_error(request, 500, "internal", "out of memory");
    parsed = routes_grants_parse(database_thread_connection(), array, *grants_out, count, &problem);
    if (parsed != 0)
        return http_send_error(request, 400, parsed == -2 ? "unknown_device" : "bad_request",
                               problem);
    return 0;
}

/* device_store_list callback: every doorbell with every right (an admin's
 * "grants" in /me). */
static int routes_users_add_admin_grant(const struct device_record *record, void *data)
{
    struct users_grant grant;

    memset(&grant, 0, sizeof(grant));
    snprintf(grant.device_id, sizeof(grant.device_id), "%s", record->id);
    grant.rights = USERS_RIGHTS_ALL;
    return routes_users_add_grant(&grant, data);
}

/* GET /api/v1/me: the caller, with "grants" (each doorbell they may see and
 * their rights on it; every doorbell with every right for an admin),
 * "talk_devices" (the doorbells they may speak through now) and "can_talk"
 * (any). */
int routes_users_me(struct http_request *request)
{
    cJSON *json = routes_user_json(&request->auth.user);
    struct routes_users_talk_context context = {request,
                                                cJSON_AddArrayToObject(json, "talk_devices")};
    cJSON *grants = cJSON_AddArrayToObject(json, "grants");
    int status;

    if (users_is_admin(&request->auth.user))
        device_store_list(database_thread_connection(), routes_users_add_admin_grant, grants);
    else
        users_list_grants(database_thread_connection(), request->auth.user.id,
                          routes_users_add_grant, grants);
    device_store_list(database_thread_connection(), routes_users_add_talk_device, &context);
    cJSON_AddBoolToObject(json, "can_talk", cJSON_GetArraySize(context.array) > 0);
    status = http_send_json(request, 200, json);
    cJSON_Delete(json);
    return status;
}

/* Add "grants" ({device_id, live, recordings, export, talk} each) and the
 * older "devices" and "talk_devices" (the viewer's grants) to a user
 * object. */
static void routes_users_add_grants(cJSON *json, int64_t user_id)
{
    users_list_grants(database_thread_connection(), user_id, routes_users_add_grant,
                      cJSON_AddArrayToObject(json, "grants"));
    users_list_devices(database_thread_connection(), user_id, routes_users_add_device_id,
                       cJSON_AddArrayToObject(json, "devices"));
    users_list_talk_devices(database_thread_connection(), user_id, routes_users_add_device_id,
                            cJSON_AddArrayToObject(json, "talk_devices"));
}

/* users_list callback: append one user with their doorbells. */
static int routes_users_add_one(const struct user *user, void *data)
{
    cJSON *json = routes_user_json(user);
    routes_users_add_grants(json, user->id);
    cJSON_AddItemToArray(data, json);
    return 0;
}

int routes_users_list(struct http_request *request)
{
    cJSON *body = cJSON_CreateObject();
    cJSON *users = cJSON_AddArrayToObject(body, "users");
    int status;

    if (users_list(database_thread_connection(), routes_users_add_one, users) != USERS_OK)
        status = http_send_error(request, 500, "internal", "database error");
    else
        status = http_send_json(request, 200, body);
    cJSON_Delete(body);
    return status;
}

/* Audit a change of username's grants (detail: the grants as JSON). */
static void routes_users_audit_grants(struct http_request *request, const char *username,
                                      const cJSON *grants)
{
    char *text = cJSON_PrintUnformatted(grants);

    audit_record(database_thread_connection(), request->auth.user.id, request->auth.user.username,
                 "user_grants", username, text != NULL ? text : "", request->remote_address);
    cJSON_free(text);
}

/* POST /api/v1/users {"username","password","role","grants"?: [...],
 * "devices"?: [ids]}: add a user (a viewer with those doorbell grants);
 * an unknown doorbell is refused (400) before anything is made. */
int routes_users_add(struct http_request *request)
{
    cJSON *body = http_read_json(request, 32768);
    const char *username, *password, *role;
    const cJSON *devices, *device, *grants_json;
    struct users_grant *grants = NULL;
    size_t grant_count = 0;
    char reason[256] = "";
    struct user user;
    enum users_status status;
    int result;

    if (body == NULL)
        return 400;
    username = http_json_string(body, "username");
    password = http_json_string(body, "password");
    role = http_json_string(body, "role");
    devices = cJSON_GetObjectItemCaseSensitive(body, "devices");
    grants_json = cJSON_GetObjectItemCaseSensitive(body, "grants");
    if (username == NULL || password == NULL || role == NULL ||
        (devices != NULL && !cJSON_IsArray(devices))) {
        result = http_send_error(request, 400, "bad_request",
                                 "username, password, role (and optionally grants[]) are needed");
        goto out;
    }
    if (grants_json != NULL &&
        (result = routes_grants_read(request, grants_json, &grants, &grant_count)) != 0)
        goto out;
    memset(&user, 0, sizeof(user));
    status = users_create(database_thread_connection(), username, password, role, &user.id, reason,
                          sizeof(reason));
    if (status != USERS_OK) {
        result = routes_users_status_response(request, status, reason);
        goto out;
    }
    cJSON_ArrayForEach(device, devices)
    {
        if (cJSON_IsString(device))
            users_grant_device(database_thread_connection(), user.id, device->valuestring);
    }
    if (grants != NULL)
        users_set_grants(database_thread_connection(), user.id, grants, grant_count);
    users_find_by_id(database_thread_connection(), user.id, &user);
    audit_record(database_thread_connection(), request->auth.user.id, request->auth.user.username,
                 "user_add", user.username, user.role, request->remote_address);
    if (grants_json != NULL || devices != NULL) {
        cJSON *now = cJSON_CreateArray();
        users_list_grants(database_thread_connection(), user.id, routes_users_add_grant, now);
        routes_users_audit_grants(request, user.username, now);
        cJSON_Delete(now);
    }
    cJSON_Delete(body);
    body = routes_user_json(&user);
    routes_users_add_grants(body, user.id);
    result = http_send_json(request, 201, body);
out:
    free(grants);
    cJSON_Delete(body);
    return result;
}

/* The {id} route parameter as a user id; 0 if it is not a positive number. */
static int64_t routes_users_param_id(const struct http_request *request)
{
    char *end = NULL;
    long long id = strtoll(request->params[0], &end, 10);

    if (*request->params[0] == '\0' || *end != '\0' || id <= 0)
        return 0;
    return id;
}

int routes_users_delete(struct http_request *request)
{
    int64_t id = routes_users_param_id(request);
    enum users_status status;

    if (id == 0)
        return http_send_error(request, 404, "not_found", "no such user");
    status = users_delete(database_thread_connection(), id);
    if (status != USERS_OK)
        return routes_users_status_response(request, status, "");
    authority_changed(request->hub->authority);
    audit_record(database_thread_connection(), request->auth.user.id, request->auth.user.username,
                 "user_delete", request->params[0], "", request->remote_address);
    return http_send_empty(request, 204, NULL);
}

/* Collect the strings of array (NULL: none) into ids (at most
 * USERS_GRANTS_MAX); 0, or -1 if it is not an array of strings or too long. */
static int routes_users_id_list(const cJSON *array, const char **ids, size_t *count)
{
    const cJSON *item;

    *count = 0;
    if (array == NULL)
        return 0;
    if (!cJSON_IsArray(array) || cJSON_GetArraySize(array) > USERS_GRANTS_MAX)
        return -1;
    cJSON_ArrayForEach(item, array)
    {
        if (!cJSON_IsString(item))
            return -1;
        ids[(*count)++] = item->valuestring;
    }
    return 0;
}

/* PUT or PATCH /api/v1/users/{id} {"role"?, "grants"?: [{device_id, live,
 * recordings, export, talk}], "devices"?: [ids], "talk_devices"?: [ids]}:
 * change a user's role and/or replace all their doorbell grants (grants;
 * or the older devices and talk_devices, a subset of them). An unknown
 * doorbell is 400, demoting the last admin 409. Answers the user as it now
 * is. Audited. */
int routes_users_update(struct http_request *request)
{
    int64_t id = routes_users_param_id(request);
    cJSON *body = NULL, *answer = NULL;
    const cJSON *devices, *talk_devices, *grants_json;
    const char *role, *ids[USERS_GRANTS_MAX], *talk_ids[USERS_GRANTS_MAX];
    struct users_grant *grants = NULL;
    size_t count = 0, talk_count = 0, grant_count = 0;
    enum users_status status;
    struct user user;
    int result;

    if (id == 0)
        return http_send_error(request, 404, "not_found", "no such user");
    body = http_read_json(request, 32768);
    if (body == NULL)
        return 400;
    role = http_json_string(body, "role");
    devices = cJSON_GetObjectItemCaseSensitive(body, "devices");
    talk_devices = cJSON_GetObjectItemCaseSensitive(body, "talk_devices");
    grants_json = cJSON_GetObjectItemCaseSensitive(body, "grants");
    if ((role == NULL && cJSON_GetObjectItemCaseSensitive(body, "role") != NULL) ||
        (role == NULL && devices == NULL && talk_devices == NULL && grants_json == NULL)) {
        result = http_send_error(request, 400, "bad_request",
                                 "role (a string) and/or grants (an array) are needed");
        goto out;
    }
    if (grants_json != NULL &&
        (result = routes_grants_read(request, grants_json, &grants, &grant_count)) != 0)
        goto out;
    if (routes_users_id_list(devices, ids, &count) != 0 ||
        routes_users_id_list(talk_devices, talk_ids, &talk_count) != 0) {
        result = http_send_error(request, 400, "bad_request",
                                 "devices and talk_devices hold doorbell ids");
        goto out;
    }
    /* With both lists, the subset rule is checked before anything is
     * written, so a refused request changes nothing. */
    for (size_t i = 0; devices != NULL && i < talk_count; i++) {
        size_t j = 0;
        while (j < count && strcmp(ids[j], talk_ids[i]) != 0)
            j++;
        if (j == count) {
            result = routes_users_status_response(request, USERS_NOT_GRANTED, "");
            goto out;
        }
    }
    status = role != NULL ? users_set_role(database_thread_connection(), id, role) : USERS_OK;
    if (status == USERS_OK && devices != NULL)
        status = users_set_devices(database_thread_connection(), id, ids, count);
    if (status == USERS_OK && talk_devices != NULL)
        status = users_set_talk_devices(database_thread_connection(), id, talk_ids, talk_count);
    if (status == USERS_OK && grants != NULL)
        status = users_set_grants(database_thread_connection(), id, grants, grant_count);
    authority_changed(request->hub->authority);
    if (status == USERS_OK)
        status = users_find_by_id(database_thread_connection(), id, &user);
    if (status != USERS_OK) {
        result = routes_users_status_response(request, status, "");
        goto out;
    }
    audit_record(database_thread_connection(), request->auth.user.id, request->auth.user.username,
                 "user_update", user.username, user.role, request->remote_address);
    if (talk_devices != NULL) {
        char *text = cJSON_PrintUnformatted(talk_devices);
        audit_record(database_thread_connection(), request->auth.user.id,
                     request->auth.user.username, "talk_grant", user.username,
                     text != NULL ? text : "", request->remote_address);
        cJSON_free(text);
    }
    answer = routes_user_json(&user);
    routes_users_add_grants(answer, user.id);
    if (grants != NULL || devices != NULL)
        routes_users_audit_grants(request, user.username,
                                  cJSON_GetObjectItemCaseSensitive(answer, "grants"));
    result = http_send_json(request, 200, answer);
out:
    free(grants);
    cJSON_Delete(answer);
    cJSON_Delete(body);
    return result;
}

/* Set user_id's password from body's "password" and answer 204; the user's
 * sessions end (users_set_password) and so do their open connections. */
static int routes_users_password_reply(struct http_request *request, int64_t user_id,
                                       const cJSON *body, const char *action)
{
    const char *password = http_json_string(body, "password");
    char reason[256] = "";
    enum users_status status;

    if (password == NULL)
        return http_send_error(request, 400, "bad_request", "password is needed");
    status =
        users_set_password(database_thread_connection(), user_id, password, reason, sizeof(reason));
    if (status != USERS_OK)
        return routes_users_status_response(request, status, reason);
    authority_changed(request->hub->authority);
    audit_record(database_thread_connection(), request->auth.user.id, request->auth.user.username,
                 action, "", "", request->remote_address);
    return http_send_empty(request, 204, NULL);
}

/* PUT /api/v1/users/{id}/password {"password"}: an admin sets a password. */
int routes_users_set_password(struct http_request *request)
{
    int64_t id = routes_users_param_id(request);
    cJSON *body;
    int result;

    if (id == 0)
        return http_send_error(request, 404, "not_found", "no such user");
    body = http_read_json(request, 4096);
    if (body == NULL)
        return 400;
    result = routes_users_password_reply(request, id, body, "user_password");
    cJSON_Delete(body);
    return result;
}

/* POST /api/v1/me/password {"current_password","password"}: change one's own
 * password. Every session of the user ends, this one too. */
int routes_users_me_password(struct http_request *request)
{
    cJSON *body = http_read_json(request, 4096);
    const char *current;
    struct user checked;
    enum users_status status;
    int result;

    if (body == NULL)
        return 400;
    current = http_json_string(body, "current_password");
    if (current == NULL) {
        cJSON_Delete(body);
        return http_send_error(request, 400, "bad_request", "current_password is needed");
    }
    status = users_authenticate(database_thread_connection(), request->auth.user.username, current,
                                &checked);
    if (status != USERS_OK || checked.id != request->auth.user.id) {
        cJSON_Delete(body);
        return status == USERS_ERROR
                   ? http_send_error(request, 500, "internal", "cannot check the password")
                   : http_send_error(request, 403, "wrong_password",
                                     "the current password is wrong");
    }
    result = routes_users_password_reply(request, request->auth.user.id, body, "password_change");
    cJSON_Delete(body);
    return result;
}
