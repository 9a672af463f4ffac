/*
 * routes.h - the hub's request handlers, one file per area:
 * routes_session.c (/auth/...), routes_devices.c and routes_users.c (/api/v1),
 * static_files.c (the web UI). Shared helpers for them live here too.
 * All run on civetweb worker threads, after the gate.
 */
#ifndef DOORSTEP_ROUTES_H
#define DOORSTEP_ROUTES_H

#include <cjson/cJSON.h>

#include "accounts/users.h"
#include "devices/device_pairing.h"
#include "http/http_request.h"

/* /auth/session, /auth/login, /auth/logout, /auth/setup. */
int routes_session_dispatch(struct http_request *request);

/* /api/v1/me/sessions... and /api/v1/users/{id}/sessions... (routes_session.c) */
int routes_session_list_mine(struct http_request *request);
int routes_session_end_mine(struct http_request *request);
int routes_session_end_others(struct http_request *request);
int routes_session_list_user(struct http_request *request);
int routes_session_end_user(struct http_request *request);

/* GET /api/v1/audit and /api/v1/audit.csv (routes_audit.c) */
int routes_audit_list(struct http_request *request);
int routes_audit_csv(struct http_request *request);

/* {"id","username","role"}; caller deletes. */
cJSON *routes_user_json(const struct user *user);

/* Answer a users_* failure with the matching status and error code. */
int routes_users_status_response(struct http_request *request, enum users_status status,
                                 const char *reason);

/* /api/v1/devices... */
int routes_devices_list(struct http_request *request);
int routes_devices_add(struct http_request *request);
int routes_devices_get(struct http_request *request);
int routes_devices_delete(struct http_request *request);
int routes_devices_snapshot(struct http_request *request);
int routes_devices_request_snapshot(struct http_request *request);
int routes_devices_set_video(struct http_request *request);

/* The API's DEVICE object for a stored doorbell with its live state; caller
 * deletes (NULL if out of memory). */
struct device_record;
cJSON *routes_devices_json(struct hub *hub, const struct device_record *record);

/* /api/v1/pairing... (routes_pairing.c); the waiting list, the status of a
 * result and an audited pairing serve the CLI's pairing socket too. */
int routes_pairing_list(struct http_request *request);
int routes_pairing_pair(struct http_request *request);
cJSON *routes_pairing_waiting_json(struct hub *hub);
int routes_pairing_status(enum device_pairing_result result);
enum device_pairing_result routes_pairing_run(struct hub *hub, sqlite3 *db, int64_t user_id,
                                              const char *username, const char *from,
                                              const char *device_id, const char *code,
                                              const char *name, struct device_record *device,
                                              char *reason, size_t reason_size);

/* /api/v1/devices/{id}/recordings */
int routes_recordings_list(struct http_request *request);
int routes_previews_get(struct http_request *request);    /* routes_previews.c */
int routes_playback_stream(struct http_request *request); /* .../playback (routes_playback.c) */
int routes_export_download(struct http_request *request); /* .../export (routes_export.c) */

/* A non-negative integer query parameter (ms since the epoch, counts);
 * *out = fallback when absent. 0, or -1 when malformed. */
int routes_query_int64(struct http_request *request, const char *name, int64_t fallback,
                       int64_t *out);

/* /api/v1/devices/{id}/events... (routes_events.c) */
int routes_events_list(struct http_request *request);
int routes_events_get(struct http_request *request);
int routes_events_snapshot(struct http_request *request);
int routes_events_star(struct http_request *request);
int routes_events_mode_get(struct http_request *request);
int routes_events_mode_put(struct http_request *request);
int routes_events_settings_get(struct http_request *request);
int routes_events_settings_put(struct http_request *request);

/* /api/v1/devices/{id}/motion (routes_motion.c) */
int routes_motion_get(struct http_request *request);
int routes_motion_put(struct http_request *request);

/* GET /api/v1/discovery: doorbells in pairing mode heard over mDNS (routes_discovery.c) */
int routes_discovery_list(struct http_request *request);

/* /api/v1/detection: the person detector's pool (routes_detection.c) */
int routes_detection_get(struct http_request *request);

/* /api/v1/storage and /api/v1/devices/{id}/recording-settings (routes_storage.c) */
int routes_storage_get(struct http_request *request);
int routes_storage_settings_get(struct http_request *request);
int routes_storage_settings_put(struct http_request *request);

/* /api/v1/settings/storage and /api/v1/settings/chime (routes_settings.c) */
int routes_settings_storage_get(struct http_request *request);
int routes_settings_storage_put(struct http_request *request);
int routes_settings_chime_get(struct http_request *request);
int routes_settings_chime_put(struct http_request *request);
int routes_settings_chime_test(struct http_request *request);

/* /api/v1/notifications/... (routes_notify.c) */
int routes_notify_targets_list(struct http_request *request);
int routes_notify_targets_add(struct http_request *request);
int routes_notify_targets_get(struct http_request *request);
int routes_notify_targets_update(struct http_request *request);
int routes_notify_targets_delete(struct http_request *request);
int routes_notify_targets_test(struct http_request *request);
int routes_notify_deliveries(struct http_request *request);

/* /api/v1/replies... and /api/v1/devices/{id}/{replies,auto-reply} (routes_replies.c) */
int routes_replies_list(struct http_request *request);
int routes_replies_upload(struct http_request *request);
int routes_replies_rename(struct http_request *request);
int routes_replies_delete(struct http_request *request);
int routes_replies_play(struct http_request *request);
int routes_replies_auto_get(struct http_request *request);
int routes_replies_auto_put(struct http_request *request);

/* /api/v1/me and /api/v1/users... */
int routes_users_me(struct http_request *request);
int routes_users_list(struct http_request *request);
int routes_users_add(struct http_request *request);
int routes_users_delete(struct http_request *request);
int routes_users_update(struct http_request *request);
int routes_users_set_password(struct http_request *request);
int routes_users_me_password(struct http_request *request);

/* {"live","recordings","export","talk"} booleans for a USERS_RIGHT_* mask;
 * caller deletes. */
cJSON *routes_rights_json(unsigned rights);

/* A grant as {"device_id", "live", "recordings", "export", "talk"}; caller
 * deletes. */
cJSON *routes_grant_json(const struct users_grant *grant);

/* Parse a JSON array of grants into grants (USERS_GRANTS_MAX of room);
 * absent rights are false. 0; -1 malformed; -2 an unknown doorbell.
 * *problem gets a static text for the 400. */
int routes_grants_parse(sqlite3 *db, const cJSON *array, struct users_grant *grants, size_t *count,
                        const char **problem);

/* routes_grants_parse() into a new array (*grants_out, USERS_GRANTS_MAX of
 * room, the caller frees it, also on failure), sending the 400 (or 500) on
 * failure. 0, or the status sent. */
int routes_grants_read(struct http_request *request, const cJSON *array,
                       struct users_grant **grants_out, size_t *count);

/* /api/v1/invites... (routes_invites.c), and POST /auth/invite, the public
 * use of an invite link (called from routes_session_dispatch). */
int routes_invites_list(struct http_request *request);
int routes_invites_create(struct http_request *request);
int routes_invites_withdraw(struct http_request *request);
int routes_invites_accept(struct http_request *request);

/* Start a session for user: set the cookie and answer {user, csrf_token}
 * with status (routes_session.c; also after an invite is used). */
int routes_session_start(struct http_request *request, const struct user *user, int status);

/* GET/HEAD of a file under www_dir; index.html for "/". */
int static_files_serve(struct http_request *request);

#endif
