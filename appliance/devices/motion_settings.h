/*
 * motion_settings.h - a doorbell's motion detection settings in the
 * database (table motion_settings): the normalised JSON of
 * common/motion_config.h, read for GET /api/v1/devices/{id}/motion and for
 * the set_motion command sent to a doorbell whenever it connects, written
 * by PUT. Any thread, with its own SQLite connection; no shared state.
 */
#ifndef DOORSTEP_MOTION_SETTINGS_H
#define DOORSTEP_MOTION_SETTINGS_H

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "common/motion_config.h"

/* The saved settings of a doorbell into *config (the defaults if it has
 * none). 0, or -1 on a database error or a stored config the parser
 * refuses (then *config holds the defaults). */
int motion_settings_load(sqlite3 *db, const char *device_id, struct motion_config *config);

/* 1 if device_id has saved settings, 0 if it runs on the defaults, -1 on a
 * database error. */
int motion_settings_exists(sqlite3 *db, const char *device_id);

/* Store config (normalised JSON) for device_id, replacing what was there. 0 or -1. */
int motion_settings_save(sqlite3 *db, const char *device_id, const struct motion_config *config);

/* The set_motion command with a doorbell's saved settings (the defaults
 * when none or unreadable: the doorbell must not keep stale ones); the
 * caller deletes it. NULL if out of memory. */
cJSON *motion_settings_command(sqlite3 *db, const char *device_id);

#endif
