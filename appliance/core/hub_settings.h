/*
 * hub_settings.h - the hub settings a household changes from the web UI:
 * the recordings' storage budget and free-space floor, and the indoor chime
 * (on/off, ALSA output, volume). Each starts as the config file or flag
 * says (core/config.h) and is replaced by the value saved from the UI or
 * the API, kept in the hub_settings table: a value set in the UI wins, at
 * start and from then on. A key never set in the UI follows the config.
 *
 * The checks here are the only ones: config_set() and the settings routes
 * both call them, so the file and the API accept the same values.
 *
 * Threads: created by main() before the server starts; then read by any
 * thread (the retention thread each pass, the routes) and written by the
 * settings routes, all under hub_settings.lock, which guards `values` and
 * is held only to copy them (never across I/O or another lock).
 */
#ifndef DOORSTEP_HUB_SETTINGS_H
#define DOORSTEP_HUB_SETTINGS_H

#include <sqlite3.h>
#include <stddef.h>

#include "core/config.h"

#define HUB_SETTINGS_DEVICE_MAX       256 /* an ALSA PCM name, NUL included */
#define HUB_SETTINGS_VOLUME_MAX       100 /* percent */
#define HUB_SETTINGS_FROM_UI_BUDGET   0x1u
#define HUB_SETTINGS_FROM_UI_MIN_FREE 0x2u
#define HUB_SETTINGS_FROM_UI_CHIME    0x4u /* enabled, device and volume, saved together */

struct hub_settings_values {
    long long storage_budget; /* bytes all recordings may use; 0 = no budget */
    long long min_free;       /* bytes to keep free; -1 = 5 % of the disk, at most 2 GiB */
    int chime_enabled;
    char chime_device[HUB_SETTINGS_DEVICE_MAX]; /* ALSA PCM; "default" when never named */
    int chime_volume;                           /* 0..100 percent of the ding-dong */
    unsigned from_ui;                           /* HUB_SETTINGS_FROM_UI_* set in the UI */
};

struct hub_settings;

/*
 * The config's values overlaid with the rows of hub_settings (db: the
 * caller's connection). A stored value that no longer passes the checks is
 * logged and ignored. NULL on allocation failure; free with
 * hub_settings_free().
 */
struct hub_settings *hub_settings_create(const struct config *config, sqlite3 *db);

/* Free (NULL is a no-op). */
void hub_settings_free(struct hub_settings *settings);

/* Copy the current values (any thread). */
void hub_settings_get(struct hub_settings *settings, struct hub_settings_values *out);

/*
 * Save the storage limits (db: the caller's connection) and make them the
 * current ones. The caller has checked them (hub_settings_check_storage).
 * 0, or -1 on a database error (nothing changed).
 */
int hub_settings_set_storage(struct hub_settings *settings, sqlite3 *db, long long budget,
                             long long min_free);

/* Save the chime's settings and make them the current ones. 0 or -1. */
int hub_settings_set_chime(struct hub_settings *settings, sqlite3 *db, int enabled,
                           const char *device, int volume);

/*
 * The checks. 0 when valid, else -1 with a sentence in error.
 * Storage: budget >= 0 (0 = none), min_free >= -1 (-1 = automatic); when
 * disk_bytes > 0 (the recordings' filesystem size) neither may exceed it.
 */
int hub_settings_check_storage(long long budget, long long min_free, long long disk_bytes,
                               char *error, size_t error_size);

/* An ALSA PCM name: 1..255 bytes of letters, digits and _-.:,=@ (no spaces,
 * quotes, braces or slashes, so it cannot smuggle configuration in), and
 * not ALSA's file or tee plugin (which would write a file). */
int hub_settings_check_device(const char *device, char *error, size_t error_size);

/* A volume: 0..100. */
int hub_settings_check_volume(long long volume, char *error, size_t error_size);

/* A byte count as the config file writes it: digits with an optional K, M,
 * G or T (powers of 1024). 0, or -1 with a sentence naming key. */
int hub_settings_parse_bytes(const char *key, const char *value, long long *out, char *error,
                             size_t error_size);

#endif
