/*
 * http_routes.c - the table of every /api/v1 route. The gate has run before
 * any of these (session + CSRF); the flags add role and per-doorbell checks.
 * A new route is added here and nowhere else.
 */
#include "http/http_router.h"
#include "http/routes.h"

const struct http_route http_api_routes[] = {
    {"GET", "/api/v1/me", routes_users_me, 0},
    {"POST", "/api/v1/me/password", routes_users_me_password, 0},
    {"GET", "/api/v1/devices", routes_devices_list, 0},
    {"POST", "/api/v1/devices", routes_devices_add, HTTP_ROUTE_ADMIN},
    {"GET", "/api/v1/devices/{id}", routes_devices_get, HTTP_ROUTE_DEVICE},
    {"DELETE", "/api/v1/devices/{id}", routes_devices_delete, HTTP_ROUTE_ADMIN | HTTP_ROUTE_DEVICE},
    {"GET", "/api/v1/devices/{id}/snapshot.jpg", routes_devices_snapshot, HTTP_ROUTE_DEVICE},
    {"POST", "/api/v1/devices/{id}/snapshot", routes_devices_request_snapshot, HTTP_ROUTE_DEVICE},
    {"POST", "/api/v1/devices/{id}/video", routes_devices_set_video,
     HTTP_ROUTE_ADMIN | HTTP_ROUTE_DEVICE},
    {"GET", "/api/v1/devices/{id}/recordings", routes_recordings_list, HTTP_ROUTE_DEVICE},
    {"GET", "/api/v1/devices/{id}/playback", routes_playback_stream,
     HTTP_ROUTE_DEVICE | HTTP_ROUTE_NO_HEAD},
    {"GET", "/api/v1/devices/{id}/export", routes_export_download,
     HTTP_ROUTE_DEVICE | HTTP_ROUTE_NO_HEAD},
    {"GET", "/api/v1/devices/{id}/recording-settings", routes_storage_settings_get,
     HTTP_ROUTE_DEVICE},
    {"PUT", "/api/v1/devices/{id}/recording-settings", routes_storage_settings_put,
     HTTP_ROUTE_ADMIN | HTTP_ROUTE_DEVICE},
    {"GET", "/api/v1/devices/{id}/events", routes_events_list, HTTP_ROUTE_DEVICE},
    {"GET", "/api/v1/devices/{id}/events/{event}", routes_events_get, HTTP_ROUTE_DEVICE},
    {"GET", "/api/v1/devices/{id}/events/{event}/snapshot.jpg", routes_events_snapshot,
     HTTP_ROUTE_DEVICE},
    {"POST", "/api/v1/devices/{id}/events/{event}/star", routes_events_star, HTTP_ROUTE_DEVICE},
    {"GET", "/api/v1/devices/{id}/motion", routes_motion_get, HTTP_ROUTE_DEVICE},
    {"PUT", "/api/v1/devices/{id}/motion", routes_motion_put, HTTP_ROUTE_ADMIN | HTTP_ROUTE_DEVICE},
    {"GET", "/api/v1/devices/{id}/event-settings", routes_events_settings_get, HTTP_ROUTE_DEVICE},
    {"PUT", "/api/v1/devices/{id}/event-settings", routes_events_settings_put,
     HTTP_ROUTE_ADMIN | HTTP_ROUTE_DEVICE},
    {"GET", "/api/v1/mode", routes_events_mode_get, 0},
    {"PUT", "/api/v1/mode", routes_events_mode_put, HTTP_ROUTE_ADMIN},
    {"GET", "/api/v1/storage", routes_storage_get, HTTP_ROUTE_ADMIN},
    {"GET", "/api/v1/notifications/targets", routes_notify_targets_list, HTTP_ROUTE_ADMIN},
    {"POST", "/api/v1/notifications/targets", routes_notify_targets_add, HTTP_ROUTE_ADMIN},
    {"GET", "/api/v1/notifications/targets/{id}", routes_notify_targets_get, HTTP_ROUTE_ADMIN},
    {"PUT", "/api/v1/notifications/targets/{id}", routes_notify_targets_update, HTTP_ROUTE_ADMIN},
    {"DELETE", "/api/v1/notifications/targets/{id}", routes_notify_targets_delete,
     HTTP_ROUTE_ADMIN},
    {"POST", "/api/v1/notifications/targets/{id}/test", routes_notify_targets_test,
     HTTP_ROUTE_ADMIN},
    {"GET", "/api/v1/notifications/deliveries", routes_notify_deliveries, HTTP_ROUTE_ADMIN},
    {"GET", "/api/v1/users", routes_users_list, HTTP_ROUTE_ADMIN},
    {"POST", "/api/v1/users", routes_users_add, HTTP_ROUTE_ADMIN},
    {"PUT", "/api/v1/users/{id}", routes_users_update, HTTP_ROUTE_ADMIN},
    {"PATCH", "/api/v1/users/{id}", routes_users_update, HTTP_ROUTE_ADMIN},
    {"DELETE", "/api/v1/users/{id}", routes_users_delete, HTTP_ROUTE_ADMIN},
    {"PUT", "/api/v1/users/{id}/password", routes_users_set_password, HTTP_ROUTE_ADMIN},
};

const size_t http_api_route_count = sizeof(http_api_routes) / sizeof(http_api_routes[0]);
