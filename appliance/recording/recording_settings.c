/*
 * recording_settings.c - the recording_settings table (see
 * recording_settings.h). The CHECK constraints in 0003_events_retention.sql
 * and recording_settings_invalid() state the same ranges.
 */
#define LOG_MODULE "recording"

#include "recording/recording_settings.h"

#include <string.h>

#include "common/log.h"

static const char *const recording_mode_names[] = {
    [RECORDER_CONTINUOUS] = "continuous",
    [RECORDER_EVENTS] = "events",
    [RECORDER_OFF] = "off",
};

void recording_settings_defaults(struct recording_settings *settings)
{
    memset(settings, 0, sizeof(*settings));
    settings->recorder.mode = RECORDER_CONTINUOUS;
    settings->recorder.pre_roll_seconds = RECORDING_DEFAULT_PRE_ROLL;
    settings->recorder.post_roll_seconds = RECORDING_DEFAULT_POST_ROLL;
    settings->continuous_days = RECORDING_DEFAULT_CONTINUOUS_DAYS;
    settings->event_days = RECORDING_DEFAULT_EVENT_DAYS;
}

const char *recording_mode_name(enum recorder_mode mode)
{
    return (unsigned)mode < sizeof(recording_mode_names) / sizeof(recording_mode_names[0])
               ? recording_mode_names[mode]
               : "?";
}

int recording_mode_parse(const char *name, enum recorder_mode *out)
{
    for (unsigned i = 0; i < sizeof(recording_mode_names) / sizeof(recording_mode_names[0]); i++)
        if (name != NULL && strcmp(name, recording_mode_names[i]) == 0) {
            *out = (enum recorder_mode)i;
            return 0;
        }
    return -1;
}

const char *recording_settings_invalid(const struct recording_settings *settings)
{
    if ((unsigned)settings->recorder.mode > RECORDER_OFF)
        return "mode";
    if (settings->continuous_days < 1 || settings->continuous_days > 3650)
        return "continuous_days";
    if (settings->event_days < 1 || settings->event_days > 3650)
        return "event_days";
    if (settings->recorder.pre_roll_seconds < 0 || settings->recorder.pre_roll_seconds > 30)
        return "pre_roll_seconds";
    if (settings->recorder.post_roll_seconds < 0 || settings->recorder.post_roll_seconds > 300)
        return "post_roll_seconds";
    return NULL;
}

int recording_settings_load(sqlite3 *db, const char *device_id, struct recording_settings *out)
{
    sqlite3_stmt *statement = NULL;
    int step, rc = -1;

    recording_settings_defaults(out);
    if (sqlite3_prepare_v2(db,
                           "SELECT mode, continuous_days, event_days, pre_roll_seconds, "
                           "post_roll_seconds FROM recording_settings WHERE device_id = ?",
                           -1, &statement, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_text(statement, 1, device_id, -1, SQLITE_STATIC);
    step = sqlite3_step(statement);
    if (step == SQLITE_ROW) {
        if (recording_mode_parse((const char *)sqlite3_column_text(statement, 0),
                                 &out->recorder.mode) != 0)
            goto out;
        out->continuous_days = sqlite3_column_int(statement, 1);
        out->event_days = sqlite3_column_int(statement, 2);
        out->recorder.pre_roll_seconds = sqlite3_column_int(statement, 3);
        out->recorder.post_roll_seconds = sqlite3_column_int(statement, 4);
    } else if (step != SQLITE_DONE) {
        goto out;
    }
    rc = 0;
out:
    if (rc != 0) {
        log_error("recording settings of %s: %s", device_id, sqlite3_errmsg(db));
        recording_settings_defaults(out);
    }
    sqlite3_finalize(statement);
    return rc;
}

int recording_settings_save(sqlite3 *db, const char *device_id,
                            const struct recording_settings *settings)
{
    sqlite3_stmt *statement = NULL;
    int rc = -1;

    if (recording_settings_invalid(settings) != NULL)
        return -1;
    if (sqlite3_prepare_v2(db,
                           "INSERT OR REPLACE INTO recording_settings (device_id, mode, "
                           "continuous_days, event_days, pre_roll_seconds, post_roll_seconds) "
                           "VALUES (?, ?, ?, ?, ?, ?)",
                           -1, &statement, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_text(statement, 1, device_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 2, recording_mode_name(settings->recorder.mode), -1,
                      SQLITE_STATIC);
    sqlite3_bind_int(statement, 3, settings->continuous_days);
    sqlite3_bind_int(statement, 4, settings->event_days);
    sqlite3_bind_int(statement, 5, settings->recorder.pre_roll_seconds);
    sqlite3_bind_int(statement, 6, settings->recorder.post_roll_seconds);
    if (sqlite3_step(statement) == SQLITE_DONE)
        rc = 0;
out:
    if (rc != 0)
        log_error("saving the recording settings of %s: %s", device_id, sqlite3_errmsg(db));
    sqlite3_finalize(statement);
    return rc;
}
