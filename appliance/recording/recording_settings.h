/*
 * recording_settings.h - per-doorbell recording settings (table
 * recording_settings): mode, retention days per class, pre- and post-roll.
 * A doorbell without a row has the defaults. Any thread, with its own
 * connection; no state of its own.
 */
#ifndef DOORSTEP_RECORDING_SETTINGS_H
#define DOORSTEP_RECORDING_SETTINGS_H

#include <sqlite3.h>

#include "recording/recorder.h"

#define RECORDING_DEFAULT_CONTINUOUS_DAYS 7
#define RECORDING_DEFAULT_EVENT_DAYS      30
#define RECORDING_DEFAULT_PRE_ROLL        5
#define RECORDING_DEFAULT_POST_ROLL       10

struct recording_settings {
    struct recorder_settings recorder; /* mode, pre-roll, post-roll */
    int continuous_days;               /* 1..3650 */
    int event_days;                    /* 1..3650 */
};

void recording_settings_defaults(struct recording_settings *settings);

/* The doorbell's settings, or the defaults when it has no row. 0 or -1 (logged). */
int recording_settings_load(sqlite3 *db, const char *device_id, struct recording_settings *out);

/* Insert or replace the doorbell's row. Values must be in range (see
 * recording_settings_valid). 0 or -1 (logged). */
int recording_settings_save(sqlite3 *db, const char *device_id,
                            const struct recording_settings *settings);

/* NULL when every field is in range, else which one is not. */
const char *recording_settings_invalid(const struct recording_settings *settings);

const char *recording_mode_name(enum recorder_mode mode);

/* "continuous" | "events" | "off". 0, or -1 for anything else. */
int recording_mode_parse(const char *name, enum recorder_mode *out);

#endif
