/*
 * routes_invites.c - invites: an admin makes a one-time invite link
 * (POST /api/v1/invites), lists them without their tokens (GET) and
 * withdraws one (DELETE /api/v1/invites/{id}); the invited person uses the
 * link without a session (POST /auth/invite, rate-limited like a login),
 * picks a username and password, gets the invite's role and grants, and is
 * logged in. Every step is audited. civetweb worker threads.
 */
#define LOG_MODULE "auth"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#include "accounts/audit.h"
#include "accounts/invites.h"
#include "accounts/login_limiter.h"
#include "common/clock.h"
#include "common/log.h"
#include "core/hub.h"
#include "http/routes.h"
#include "storage/database.h"

/* users_grant_callback: append a grant to a JSON array. */
static int routes_invites_add_grant(const struct users_grant *grant, void *data)
{
    cJSON_AddItemToArray(data, routes_grant_json(grant));
    return 0;
}

/* The state of an invite for the list: "open", "used", "withdrawn" or
 * "expired". */
static const char *routes_invites_state(const struct invite *invite, int64_t now_ms)
{
    if (invite->used_at != 0)
        return "used";
    if (invite->withdrawn_at != 0)
        return "withdrawn";
    if (invite->expires_at <= now_ms)
        return "expired";
    return "open";
}

/* invites_callback: append one invite (without any token). */
static int routes_invites_add_one(const struct invite *invite, void *data)
{
    cJSON *json = cJSON_CreateObject();

    cJSON_AddNumberToObject(json, "id", (double)invite->id);
    cJSON_AddStringToObject(json, "role", invite->role);
    cJSON_AddStringToObject(json, "note", invite->note);
    cJSON_AddStringToObject(json, "state", routes_invites_state(invite, database_now_ms()));
    cJSON_AddNumberToObject(json, "created_at", (double)invite->created_at);
    cJSON_AddNumberToObject(json, "expires_at", (double)invite->expires_at);
    if (invite->used_by != 0)
        cJSON_AddNumberToObject(json, "used_by", (double)invite->used_by);
    invites_list_grants(database_thread_connection(), invite->id, routes_invites_add_grant,
                        cJSON_AddArrayToObject(json, "grants"));
    cJSON_AddItemToArray(data, json);
    return 0;
}

/* GET /api/v1/invites: {"invites": [{id, role, note, state, created_at,
 * expires_at, used_by?, grants}]}, newest first. */
int routes_invites_list(struct http_request *request)
{
    cJSON *body = cJSON_CreateObject();
    int status;

    if (invites_list(database_thread_connection(), routes_invites_add_one,
                     cJSON_AddArrayToObject(body, "invites")) != INVITES_OK)
        status = http_send_error(request, 500, "internal", "database error");
    else
        status = http_send_json(request, 200, body);
    cJSON_Delete(body);
    return status;
}

/* POST /api/v1/invites {"role", "grants"?: [...], "note"?}: 201 {id, role,
 * note, expires_at, grants, token, link}. The token is shown only now. */
int routes_invites_create(struct http_request *request)
{
    cJSON *body = http_read_json(request, 32768), *answer = NULL;
    struct users_grant *grants = NULL;
    const char *role, *note;
    const cJSON *grants_json;
    char token[INVITES_TOKEN_SIZE], link[sizeof(request->hub->public_url) + 64];
    size_t count = 0;
    int64_t id = 0, now_ms = database_now_ms();
    enum invites_status status;
    int result;

    if (body == NULL)
        return 400;
    role = http_json_string(body, "role");
    note = http_json_string(body, "note");
    grants_json = cJSON_GetObjectItemCaseSensitive(body, "grants");
    if (role == NULL || !users_role_valid(role) ||
        (note == NULL && cJSON_GetObjectItemCaseSensitive(body, "note") != NULL) ||
        (note != NULL && strlen(note) > INVITES_NOTE_MAX)) {
        result = http_send_error(request, 400, "bad_request",
                                 "role (admin or viewer), optionally grants[] and a note of at "
                                 "most 200 bytes");
        goto out;
    }
    if (grants_json != NULL &&
        (result = routes_grants_read(request, grants_json, &grants, &count)) != 0)
        goto out;
    status = invites_create(database_thread_connection(), request->auth.user.id, role, grants,
                            count, note != NULL ? note : "", now_ms, token, &id);
    if (status != INVITES_OK) {
        result = status == INVITES_INVALID
                     ? http_send_error(request, 400, "unknown_device", "no such doorbell")
                     : http_send_error(request, 500, "internal", "cannot make the invite");
        goto out;
    }
    snprintf(link, sizeof(link), "%s/#/invite/%s", request->hub->public_url, token);
    answer = cJSON_CreateObject();
    cJSON_AddNumberToObject(answer, "id", (double)id);
    cJSON_AddStringToObject(answer, "role", role);
    cJSON_AddStringToObject(answer, "note", note != NULL ? note : "");
    cJSON_AddNumberToObject(answer, "expires_at", (double)(now_ms + INVITES_LIFETIME_MS));
    invites_list_grants(database_thread_connection(), id, routes_invites_add_grant,
                        cJSON_AddArrayToObject(answer, "grants"));
    cJSON_AddStringToObject(answer, "token", token);
    cJSON_AddStringToObject(answer, "link", link);
    {
        char detail[64];
        snprintf(detail, sizeof(detail), "invite %lld as %s", (long long)id, role);
        audit_record(database_thread_connection(), request->auth.user.id,
                     request->auth.user.username, "invite_create", note != NULL ? note : "", detail,
                     request->remote_address);
    }
    result = http_send_json(request, 201, answer);
out:
    mbedtls_platform_zeroize(token, sizeof(token));
    mbedtls_platform_zeroize(link, sizeof(link));
    free(grants);
    cJSON_Delete(answer);
    cJSON_Delete(body);
    return result;
}

/* DELETE /api/v1/invites/{id}: withdraw an unused invite. 204; 404 unknown;
 * 409 already used. */
int routes_invites_withdraw(struct http_request *request)
{
    char *end = NULL;
    long long id = strtoll(request->params[0], &end, 10);
    enum invites_status status;

    if (request->params[0][0] == '\0' || *end != '\0' || id <= 0)
        return http_send_error(request, 404, "not_found", "no such invite");
    status = invites_withdraw(database_thread_connection(), id, database_now_ms());
    if (status == INVITES_UNKNOWN)
        return http_send_error(request, 404, "not_found", "no such invite");
    if (status == INVITES_USED)
        return http_send_error(request, 409, "invite_used", "this invite was already used");
    if (status != INVITES_OK)
        return http_send_error(request, 500, "internal", "database error");
    audit_record(database_thread_connection(), request->auth.user.id, request->auth.user.username,
                 "invite_withdraw", request->params[0], "", request->remote_address);
    return http_send_empty(request, 204, NULL);
}

/* The answer for a refused invite token: 403 unknown, 410 used, expired or
 * withdrawn, each with its own error code. */
static int routes_invites_refuse_token(struct http_request *request, enum invites_status status)
{
    const char *code = status == INVITES_USED        ? "invite_used"
                       : status == INVITES_EXPIRED   ? "invite_expired"
                       : status == INVITES_WITHDRAWN ? "invite_withdrawn"
                                                     : "invalid_invite";

    return http_send_error(request, status == INVITES_UNKNOWN ? 403 : 410, code,
                           invites_status_message(status));
}

/* POST /auth/invite {"token","username","password"}: use an invite link.
 * Same-origin (checked by routes_session_dispatch); rate-limited by the
 * login limiter (a wrong token counts as a failed login). 201 with a
 * session as a login answers. */
int routes_invites_accept(struct http_request *request)
{
    cJSON *body = http_read_json(request, 4096);
    const char *token, *username, *password;
    struct login_limiter_attempt attempt;
    enum users_status account = USERS_OK;
    enum invites_status status;
    char reason[256] = "";
    struct user user;
    int retry_after = 0, result;

    if (body == NULL)
        return 400;
    token = http_json_string(body, "token");
    username = http_json_string(body, "username");
    password = http_json_string(body, "password");
    if (token == NULL || username == NULL || password == NULL) {
        result =
            http_send_error(request, 400, "bad_request", "token, username and password are needed");
        goto out;
    }
    if (login_limiter_begin(request->remote_address, "", false, clock_monotonic_ms(), &retry_after,
                            &attempt) == LOGIN_LIMITER_BLOCKED) {
        audit_record(database_thread_connection(), 0, username, "invite_blocked", "", "",
                     request->remote_address);
        result = http_send_rate_limited(request, "too many failed attempts; try again later",
                                        retry_after);
        goto out;
    }
    memset(&user, 0, sizeof(user));
    status = invites_accept(database_thread_connection(), token, username, password,
                            database_now_ms(), &user, &account, reason, sizeof(reason));
    if (status == INVITES_OK) {
        login_limiter_succeed(&attempt, clock_monotonic_ms());
        log_info("invite used from %s: new %s \"%s\"", request->remote_address, user.role,
                 user.username);
        audit_record(database_thread_connection(), user.id, user.username, "invite_accept", "",
                     user.role, request->remote_address);
        result = routes_session_start(request, &user, 201);
    } else if (status == INVITES_ACCOUNT) {
        login_limiter_release(&attempt, clock_monotonic_ms());
        result = routes_users_status_response(request, account, reason);
    } else if (status == INVITES_ERROR) {
        login_limiter_release(&attempt, clock_monotonic_ms());
        result = http_send_error(request, 500, "internal", "database error");
    } else {
        login_limiter_fail(&attempt, clock_monotonic_ms());
        log_warn("refused an invite token from %s: %s", request->remote_address,
                 invites_status_message(status));
        audit_record(database_thread_connection(), 0, username, "invite_refused", "",
                     invites_status_message(status), request->remote_address);
        result = routes_invites_refuse_token(request, status);
    }
out:
    cJSON_Delete(body);
    return result;
}
