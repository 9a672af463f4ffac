/*
 * routes_users.c - /api/v1/me and the admin's user management: list, add
 * (with the doorbells a viewer may see), delete. civetweb worker threads.
 */
#define LOG_MODULE "auth"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts/audit.h"
#include "accounts/sessions.h"
#include "http/routes.h"
#include "storage/database.h"

int routes_users_me(struct http_request *request)
{
    cJSON *json = routes_user_json(&request->auth.user);
    int status = http_send_json(request, 200, json);
    cJSON_Delete(json);
    return status;
}

/* users_list_devices callback: append a device id to a JSON array. */
static int routes_users_add_device_id(const char *device_id, void *data)
{
    cJSON_AddItemToArray(data, cJSON_CreateString(device_id));
    return 0;
}

/* users_list callback: append one user with their doorbells. */
static int routes_users_add_one(const struct user *user, void *data)
{
    cJSON *json = routes_user_json(user);
    cJSON *devices = cJSON_AddArrayToObject(json, "devices");
    users_list_devices(database_thread_connection(), user->id, routes_users_add_device_id, devices);
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

int routes_users_add(struct http_request *request)
{
    cJSON *body = http_read_json(request, 16384);
    const char *username, *password, *role;
    const cJSON *devices, *device;
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
    if (username == NULL || password == NULL || role == NULL ||
        (devices != NULL && !cJSON_IsArray(devices))) {
        cJSON_Delete(body);
        return http_send_error(request, 400, "bad_request",
                               "username, password, role (and optionally devices[]) are needed");
    }
    memset(&user, 0, sizeof(user));
    status = users_create(database_thread_connection(), username, password, role, &user.id, reason,
                          sizeof(reason));
    if (status != USERS_OK) {
        cJSON_Delete(body);
        return routes_users_status_response(request, status, reason);
    }
    cJSON_ArrayForEach(device, devices)
    {
        if (cJSON_IsString(device))
            users_grant_device(database_thread_connection(), user.id, device->valuestring);
    }
    users_find_by_id(database_thread_connection(), user.id, &user);
    audit_record(database_thread_connection(), request->auth.user.id, request->auth.user.username,
                 "user_add", user.username, user.role, request->remote_address);
    cJSON_Delete(body);
    body = routes_user_json(&user);
    result = http_send_json(request, 201, body);
    cJSON_Delete(body);
    return result;
}

int routes_users_delete(struct http_request *request)
{
    char *end = NULL;
    long long id = strtoll(request->params[0], &end, 10);
    enum users_status status;

    if (*request->params[0] == '\0' || *end != '\0' || id <= 0)
        return http_send_error(request, 404, "not_found", "no such user");
    status = users_delete(database_thread_connection(), id);
    if (status != USERS_OK)
        return routes_users_status_response(request, status, "");
    audit_record(database_thread_connection(), request->auth.user.id, request->auth.user.username,
                 "user_delete", request->params[0], "", request->remote_address);
    return http_send_empty(request, 204, NULL);
}
