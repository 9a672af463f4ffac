/*
 * routes_session.c - /auth/...: session state, login, logout and the one-time
 * first-admin setup. These run before a session exists, so instead of the
 * CSRF token they require a same-origin request with a JSON body (a form or
 * cross-site fetch cannot produce both). Also the /api/v1 routes on
 * sessions (behind the gate): one's own sessions (list, sign one out, sign
 * out everywhere else) and an admin's view of a user's sessions. Every
 * sign-out tells the authority thread, which closes that session's open
 * WebSockets and streams, and is audited. civetweb worker threads.
 */
#define LOG_MODULE "auth"

#include "http/routes.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts/audit.h"
#include "accounts/authority.h"
#include "accounts/known_device.h"
#include "accounts/login_limiter.h"
#include "accounts/sessions.h"
#include "accounts/setup_token.h"
#include "accounts/users.h"
#include "civetweb.h"
#include "common/clock.h"
#include "common/log.h"
#include "core/hub.h"
#include "http/http_gate.h"
#include "storage/database.h"
#include "storage/database_reserve.h"

#define SESSION_COOKIE_MAX_AGE_S (SESSION_ABSOLUTE_LIFETIME_MS / 1000)

/* {"id","username","role"} for a user. Caller deletes. */
cJSON *routes_user_json(const struct user *user)
{
    cJSON *json = cJSON_CreateObject();
    cJSON_AddNumberToObject(json, "id", (double)user->id);
    cJSON_AddStringToObject(json, "username", user->username);
    cJSON_AddStringToObject(json, "role", user->role);
    return json;
}

/* Start a session for user, set the cookie and answer {user, csrf_token}. */
int routes_session_start(struct http_request *request, const struct user *user, int status)
{
    char token[SESSION_TOKEN_SIZE], csrf[SESSION_TOKEN_SIZE];
    char device[KNOWN_DEVICE_VALUE_MAX];
    char cookie[512];
    int length;
    const char *agent = mg_get_header(request->connection, "User-Agent");
    cJSON *body;
    char *text;

    sqlite3 *db = database_thread_connection();

    if (session_create(db, user->id, request->remote_address, agent ? agent : "", database_now_ms(),
                       token, csrf) != 0) {
        /* A full disk is no server fault: say so, and the released reserve
         * (database_reserve.h) lets the next try through. */
        if (db != NULL && database_reserve_note(sqlite3_extended_errcode(db)))
            return http_send_error(request, 503, "storage_full",
                                   "the hub's disk is full: the session cannot be saved; "
                                   "try again in a moment");
        return http_send_error(request, 500, "internal", "cannot create a session");
    }
    length = snprintf(cookie, sizeof(cookie),
                      "Set-Cookie: %s=%s; Path=/; Secure; HttpOnly; SameSite=Strict; "
                      "Max-Age=%lld\r\n",
                      HTTP_SESSION_COOKIE, token, (long long)SESSION_COOKIE_MAX_AGE_S);
    /* This browser is now a known device of the user (login_limiter.h). */
    if (known_device_issue(db, user->id, database_now_ms(), device, sizeof(device)) == 0)
        snprintf(cookie + length, sizeof(cookie) - (size_t)length,
                 "Set-Cookie: %s=%s; Path=/; Secure; HttpOnly; SameSite=Strict; "
                 "Max-Age=%lld\r\n",
                 KNOWN_DEVICE_COOKIE, device, (long long)(KNOWN_DEVICE_LIFETIME_MS / 1000));

    body = cJSON_CreateObject();
    cJSON_AddItemToObject(body, "user", routes_user_json(user));
    cJSON_AddStringToObject(body, "csrf_token", csrf);
    text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    if (text == NULL)
        return http_send_error(request, 500, "internal", "out of memory");
    http_response_begin(request->connection, status, "application/json", (long long)strlen(text));
    mg_response_header_add_lines(request->connection, cookie);
    mg_response_header_send(request->connection);
    mg_write(request->connection, text, strlen(text));
    cJSON_free(text);
    return status;
}

/* GET /auth/session: is anyone logged in, and does the hub still need setup? */
static int routes_session_state(struct http_request *request)
{
    cJSON *body = cJSON_CreateObject();
    int64_t admins = users_count_admins(database_thread_connection());

    http_gate_authenticate(request);
    cJSON_AddBoolToObject(body, "authenticated", request->auth.authenticated);
    cJSON_AddBoolToObject(body, "setup_required", admins == 0);
    if (request->auth.authenticated) {
        cJSON_AddItemToObject(body, "user", routes_user_json(&request->auth.user));
        cJSON_AddStringToObject(body, "csrf_token", request->auth.csrf_token);
    }
    http_send_json(request, 200, body);
    cJSON_Delete(body);
    return 200;
}

/* True if the request carries a known-device cookie for username. */
static bool routes_session_known_device(struct http_request *request, const char *username)
{
    char value[KNOWN_DEVICE_VALUE_MAX];
    struct user user;
    sqlite3 *db = database_thread_connection();

    if (http_get_cookie(request->connection, KNOWN_DEVICE_COOKIE, value, sizeof(value)) != 0 ||
        users_find_by_username(db, username, &user) != USERS_OK)
        return false;
    return known_device_check(db, value, user.id, database_now_ms());
}

/* Answer 429 with Retry-After for a login the limiter refused. */
static int routes_session_rate_limited(struct http_request *request, const char *username,
                                       int retry_after)
{
    audit_record(database_thread_connection(), 0, username, "login_blocked", "", "",
                 request->remote_address);
    return http_send_rate_limited(request, "too many failed logins; try again later", retry_after);
}

/* POST /auth/login {"username","password"}. The attempt is reserved with
 * the limiter before the password is hashed and settled after. */
static int routes_session_login(struct http_request *request)
{
    cJSON *body = http_read_json(request, 4096);
    const char *username, *password;
    struct login_limiter_attempt attempt;
    struct user user;
    enum users_status status;
    int retry_after = 0;
    int result;

    if (body == NULL)
        return 400;
    username = http_json_string(body, "username");
    password = http_json_string(body, "password");
    if (username == NULL || password == NULL) {
        cJSON_Delete(body);
        return http_send_error(request, 400, "bad_request", "username and password are needed");
    }
    if (login_limiter_begin(request->remote_address, username,
                            routes_session_known_device(request, username), clock_monotonic_ms(),
                            &retry_after, &attempt) == LOGIN_LIMITER_BLOCKED) {
        result = routes_session_rate_limited(request, username, retry_after);
        cJSON_Delete(body);
        return result;
    }
    status = users_authenticate(database_thread_connection(), username, password, &user);
    if (status == USERS_ERROR) {
        login_limiter_release(&attempt, clock_monotonic_ms());
        cJSON_Delete(body);
        return http_send_error(request, 500, "internal", "cannot check the password");
    }
    if (status != USERS_OK) {
        login_limiter_fail(&attempt, clock_monotonic_ms());
        log_info("wrong password for \"%s\" from %s",
                 users_username_valid(username) ? username : "(not a valid username)",
                 request->remote_address);
        audit_record(database_thread_connection(), 0, username, "login_failed", "", "",
                     request->remote_address);
        cJSON_Delete(body);
        return http_send_error(request, 401, "invalid_credentials", "wrong username or password");
    }
    login_limiter_succeed(&attempt, clock_monotonic_ms());
    audit_record(database_thread_connection(), user.id, user.username, "login", "", "",
                 request->remote_address);
    result = routes_session_start(request, &user, 200);
    cJSON_Delete(body);
    return result;
}

/* POST /auth/logout: needs the session and its CSRF token. */
static int routes_session_logout(struct http_request *request)
{
    static const char clear[] = "Set-Cookie: " HTTP_SESSION_COOKIE
                                "=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0\r\n";

    http_gate_authenticate(request);
    if (!request->auth.authenticated)
        return http_send_empty(request, 204, clear);
    if (!http_gate_csrf_valid(request))
        return http_send_error(request, 403, "csrf", "missing or wrong X-CSRF-Token");
    session_delete(database_thread_connection(), request->auth.session_token);
    authority_changed(request->hub->authority);
    audit_record(database_thread_connection(), request->auth.user.id, request->auth.user.username,
                 "logout", "", "", request->remote_address);
    return http_send_empty(request, 204, clear);
}

int routes_users_status_response(struct http_request *request, enum users_status status,
                                 const char *reason)
{
    switch (status) {
    case USERS_INVALID_USERNAME:
    case USERS_INVALID_PASSWORD:
    case USERS_INVALID_ROLE:
        return http_send_error(request, 400, "invalid", reason[0] ? reason : "invalid input");
    case USERS_USERNAME_TAKEN:
        return http_send_error(request, 409, "username_taken", "that username is taken");
    case USERS_ALREADY_SET_UP:
        return http_send_error(request, 409, "already_set_up", "the hub already has an admin");
    case USERS_NOT_FOUND:
        return http_send_error(request, 404, "not_found", "no such user");
    case USERS_LAST_ADMIN:
        return http_send_error(request, 409, "last_admin", "the last admin cannot be removed");
    case USERS_NOT_GRANTED:
        return http_send_error(request, 400, "bad_request",
                               "talk_devices must be a subset of the user's devices");
    default:
        return http_send_error(request, 500, "internal", "database error");
    }
}

/* POST /auth/setup {"token","username","password"}: the first admin, once. */
static int routes_session_setup(struct http_request *request)
{
    cJSON *body;
    const char *token, *username, *password;
    char reason[256] = "";
    struct user user;
    enum users_status status;
    int result;

    if (users_count_admins(database_thread_connection()) != 0)
        return http_send_error(request, 409, "already_set_up", "the hub already has an admin");
    body = http_read_json(request, 4096);
    if (body == NULL)
        return 400;
    token = http_json_string(body, "token");
    username = http_json_string(body, "username");
    password = http_json_string(body, "password");
    if (token == NULL || username == NULL || password == NULL) {
        cJSON_Delete(body);
        return http_send_error(request, 400, "bad_request",
                               "token, username and password are needed");
    }
    if (!setup_token_check(token)) {
        log_warn("setup attempt with a wrong token from %s", request->remote_address);
        cJSON_Delete(body);
        return http_send_error(request, 403, "invalid_token",
                               "the setup link is wrong or was already used");
    }
    memset(&user, 0, sizeof(user));
    status = users_create_first_admin(database_thread_connection(), username, password, &user.id,
                                      reason, sizeof(reason));
    if (status != USERS_OK) {
        cJSON_Delete(body);
        return routes_users_status_response(request, status, reason);
    }
    setup_token_consume();
    users_find_by_id(database_thread_connection(), user.id, &user);
    log_info("first admin '%s' created from %s; setup is closed", user.username,
             request->remote_address);
    audit_record(database_thread_connection(), user.id, user.username, "setup_admin", "", "",
                 request->remote_address);
    result = routes_session_start(request, &user, 201);
    cJSON_Delete(body);
    return result;
}

int routes_session_dispatch(struct http_request *request)
{
    int is_post = strcmp(request->method, "POST") == 0;

    if (strcmp(request->path, "/auth/session") == 0) {
        if (strcmp(request->method, "GET") != 0 && strcmp(request->method, "HEAD") != 0)
            return http_send_error(request, 405, "method_not_allowed", "use GET");
        return routes_session_state(request);
    }
    if (strcmp(request->path, "/auth/login") != 0 && strcmp(request->path, "/auth/logout") != 0 &&
        strcmp(request->path, "/auth/setup") != 0 && strcmp(request->path, "/auth/invite") != 0)
        return http_send_error(request, 404, "not_found", "no such path");
    if (!is_post)
        return http_send_error(request, 405, "method_not_allowed", "use POST");
    if (strcmp(request->path, "/auth/logout") == 0)
        return routes_session_logout(request);
    if (!http_gate_same_origin(request->connection)) {
        log_warn("refused %s from %s: not a same-origin request", request->path,
                 request->remote_address);
        return http_send_error(request, 403, "origin", "cross-origin requests are refused");
    }
    if (strcmp(request->path, "/auth/login") == 0)
        return routes_session_login(request);
    if (strcmp(request->path, "/auth/invite") == 0)
        return routes_invites_accept(request);
    return routes_session_setup(request);
}

/* session_list_for_user callback: one session as JSON. */
static int routes_session_add_info(const struct session_info *info, void *data)
{
    char device[SESSION_DEVICE_MAX];
    cJSON *item = cJSON_CreateObject();

    session_describe_agent(info->user_agent, device, sizeof(device));
    cJSON_AddStringToObject(item, "id", info->id);
    cJSON_AddNumberToObject(item, "created_at", (double)info->created_at);
    cJSON_AddNumberToObject(item, "last_seen_at", (double)info->last_seen_at);
    cJSON_AddNumberToObject(item, "expires_at", (double)info->expires_at);
    cJSON_AddStringToObject(item, "address", info->remote_address);
    cJSON_AddStringToObject(item, "device", device);
    cJSON_AddStringToObject(item, "user_agent", info->user_agent);
    cJSON_AddBoolToObject(item, "current", info->current);
    cJSON_AddItemToArray(data, item);
    return 0;
}

/* Answer {"sessions": [...]} for user_id's live sessions. */
static int routes_session_send_list(struct http_request *request, int64_t user_id)
{
    cJSON *body = cJSON_CreateObject();
    cJSON *array = cJSON_AddArrayToObject(body, "sessions");
    int status;

    if (session_list_for_user(database_thread_connection(), user_id, request->auth.session_token,
                              database_now_ms(), routes_session_add_info, array) < 0)
        status = http_send_error(request, 500, "internal", "database error");
    else
        status = http_send_json(request, 200, body);
    cJSON_Delete(body);
    return status;
}

/* GET /api/v1/me/sessions: the caller's sessions, this one "current". */
int routes_session_list_mine(struct http_request *request)
{
    return routes_session_send_list(request, request->auth.user.id);
}

/* DELETE /api/v1/me/sessions/{id}: sign one of one's sessions out; its open
 * live views and event feeds close at once (authority.h). */
int routes_session_end_mine(struct http_request *request)
{
    sqlite3 *db = database_thread_connection();
    int ended = session_delete_by_id(db, request->auth.user.id, request->params[0]);

    if (ended < 0)
        return http_send_error(request, 500, "internal", "database error");
    if (ended == 0)
        return http_send_error(request, 404, "not_found", "no such session");
    authority_changed(request->hub->authority);
    audit_record(db, request->auth.user.id, request->auth.user.username, "session_end",
                 request->params[0], "", request->remote_address);
    return http_send_empty(request, 204, NULL);
}

/* POST /api/v1/me/sessions/revoke-others: sign out everywhere but here.
 * Answers {"ended": N}. */
int routes_session_end_others(struct http_request *request)
{
    sqlite3 *db = database_thread_connection();
    int ended = session_delete_others(db, request->auth.user.id, request->auth.session_token);
    char detail[32];
    cJSON *body;
    int status;

    if (ended < 0)
        return http_send_error(request, 500, "internal", "database error");
    authority_changed(request->hub->authority);
    snprintf(detail, sizeof(detail), "ended=%d", ended);
    audit_record(db, request->auth.user.id, request->auth.user.username, "sessions_end_others", "",
                 detail, request->remote_address);
    body = cJSON_CreateObject();
    cJSON_AddNumberToObject(body, "ended", ended);
    status = http_send_json(request, 200, body);
    cJSON_Delete(body);
    return status;
}

/* The {id} parameter as an existing user; 0 and a 404 sent otherwise. */
static int routes_session_param_user(struct http_request *request, struct user *user)
{
    char *end = NULL;
    long long id = strtoll(request->params[0], &end, 10);

    if (request->params[0][0] == '\0' || *end != '\0' || id <= 0 ||
        users_find_by_id(database_thread_connection(), id, user) != USERS_OK) {
        http_send_error(request, 404, "not_found", "no such user");
        return 0;
    }
    return 1;
}

/* GET /api/v1/users/{id}/sessions (admin): that user's sessions. */
int routes_session_list_user(struct http_request *request)
{
    struct user user;

    if (!routes_session_param_user(request, &user))
        return 404;
    return routes_session_send_list(request, user.id);
}

/* POST /api/v1/users/{id}/sessions/revoke (admin): sign that user out
 * everywhere (the admin's own session too, when it is theirs). Answers
 * {"ended": N}. */
int routes_session_end_user(struct http_request *request)
{
    sqlite3 *db = database_thread_connection();
    struct user user;
    int ended;
    char detail[32];
    cJSON *body;
    int status;

    if (!routes_session_param_user(request, &user))
        return 404;
    ended = session_delete_others(db, user.id, NULL);
    if (ended < 0)
        return http_send_error(request, 500, "internal", "database error");
    authority_changed(request->hub->authority);
    snprintf(detail, sizeof(detail), "ended=%d", ended);
    audit_record(db, request->auth.user.id, request->auth.user.username, "user_sessions_end",
                 user.username, detail, request->remote_address);
    body = cJSON_CreateObject();
    cJSON_AddNumberToObject(body, "ended", ended);
    status = http_send_json(request, 200, body);
    cJSON_Delete(body);
    return status;
}
