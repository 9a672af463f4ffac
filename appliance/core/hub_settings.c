/*
 * hub_settings.c - the settings the web UI changes, over the config's
 * defaults, kept in the hub_settings table (see hub_settings.h). Any
 * thread; hub_settings.lock guards the current values.
 */
#define LOG_MODULE "settings"

#include "core/hub_settings.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error_text.h"
#include "common/log.h"
#include "common/mutex.h"

#define HUB_SETTINGS_VALUE_MAX 320

struct hub_settings {
    pthread_mutex_t lock; /* hub_settings.lock: guards values */
    struct hub_settings_values values;
};

int hub_settings_parse_bytes(const char *key, const char *value, long long *out, char *error,
                             size_t error_size)
{
    char *end = NULL;
    long long number;
    int shift = 0;

    if (value[0] < '0' || value[0] > '9')
        goto bad;
    number = strtoll(value, &end, 10);
    switch (*end) {
    case 'K':
    case 'k':
        shift = 10;
        break;
    case 'M':
    case 'm':
        shift = 20;
        break;
    case 'G':
    case 'g':
        shift = 30;
        break;
    case 'T':
    case 't':
        shift = 40;
        break;
    default:
        break;
    }
    if (shift != 0)
        end++;
    if (*end != '\0' || number < 0 || number > (LLONG_MAX >> shift))
        goto bad;
    *out = number << shift;
    return 0;
bad:
    error_text_set(error, error_size, "%s: expected a size like 500G, 800M or 1048576", key);
    return -1;
}

int hub_settings_check_storage(long long budget, long long min_free, long long disk_bytes,
                               char *error, size_t error_size)
{
    if (budget < 0) {
        error_text_set(error, error_size, "the storage budget must be 0 (none) or more bytes");
        return -1;
    }
    if (min_free < -1) {
        error_text_set(error, error_size,
                       "the minimum free space must be -1 (automatic), 0 or "
                       "more bytes");
        return -1;
    }
    if (disk_bytes > 0 && budget > disk_bytes) {
        error_text_set(error, error_size,
                       "the storage budget (%lld bytes) is larger than the recordings disk "
                       "(%lld bytes)",
                       budget, disk_bytes);
        return -1;
    }
    if (disk_bytes > 0 && min_free > disk_bytes) {
        error_text_set(error, error_size,
                       "the minimum free space (%lld bytes) is larger than the recordings disk "
                       "(%lld bytes)",
                       min_free, disk_bytes);
        return -1;
    }
    return 0;
}

int hub_settings_check_device(const char *device, char *error, size_t error_size)
{
    size_t length = strlen(device);
    size_t plugin = strcspn(device, ":");

    /* ALSA's own "file" and "tee" PCMs take a file name as an argument
     * (file:NAME,raw): an output name must not write files. */
    if ((plugin == 4 && (strncmp(device, "file", 4) == 0)) ||
        (plugin == 3 && strncmp(device, "tee", 3) == 0)) {
        error_text_set(error, error_size,
                       "the chime output cannot be ALSA's file or tee plugin; name one in "
                       "alsa_config instead");
        return -1;
    }

    if (length == 0 || length >= HUB_SETTINGS_DEVICE_MAX ||
        strspn(device, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:,=@") !=
            length) {
        error_text_set(error, error_size,
                       "the chime output must be an ALSA device name of 1 to %d letters, digits "
                       "or _-.:,=@ (like default, plughw:1,0 or sysdefault:CARD=PCH)",
                       HUB_SETTINGS_DEVICE_MAX - 1);
        return -1;
    }
    return 0;
}

int hub_settings_check_volume(long long volume, char *error, size_t error_size)
{
    if (volume < 0 || volume > HUB_SETTINGS_VOLUME_MAX) {
        error_text_set(error, error_size, "the chime volume must be 0 to %d %%",
                       HUB_SETTINGS_VOLUME_MAX);
        return -1;
    }
    return 0;
}

/* The stored text of key into value; 1 found, 0 none or error. */
static int hub_settings_read(sqlite3 *db, const char *key, char *value, size_t value_size)
{
    sqlite3_stmt *statement = NULL;
    int found = 0;

    if (sqlite3_prepare_v2(db, "SELECT value FROM hub_settings WHERE key = ?1", -1, &statement,
                           NULL) != SQLITE_OK) {
        log_error("reading setting %s: %s", key, sqlite3_errmsg(db));
        return 0;
    }
    sqlite3_bind_text(statement, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(statement) == SQLITE_ROW) {
        snprintf(value, value_size, "%s", (const char *)sqlite3_column_text(statement, 0));
        found = 1;
    }
    sqlite3_finalize(statement);
    return found;
}

/* A stored whole number of key into *out; 1 found and parsed, else 0. */
static int hub_settings_read_number(sqlite3 *db, const char *key, long long *out)
{
    char text[HUB_SETTINGS_VALUE_MAX];
    char *end = NULL;
    long long number;

    if (!hub_settings_read(db, key, text, sizeof(text)))
        return 0;
    number = strtoll(text, &end, 10);
    if (text[0] == '\0' || *end != '\0') {
        log_warn("ignoring the stored setting %s = '%s'", key, text);
        return 0;
    }
    *out = number;
    return 1;
}

/* Write the rows of keys[i] = values[i] in one transaction. 0 or -1. */
static int hub_settings_write(sqlite3 *db, const char *const *keys, const char *const *values,
                              int count)
{
    sqlite3_stmt *statement = NULL;
    int rc = -1;

    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        goto out;
    if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO hub_settings (key, value) VALUES (?1, ?2)",
                           -1, &statement, NULL) != SQLITE_OK)
        goto out;
    for (int i = 0; i < count; i++) {
        sqlite3_bind_text(statement, 1, keys[i], -1, SQLITE_STATIC);
        sqlite3_bind_text(statement, 2, values[i], -1, SQLITE_STATIC);
        if (sqlite3_step(statement) != SQLITE_DONE)
            goto out;
        sqlite3_reset(statement);
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        goto out;
    rc = 0;
out:
    if (rc != 0) {
        log_error("saving settings: %s", sqlite3_errmsg(db));
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    }
    sqlite3_finalize(statement);
    return rc;
}

/* Overlay the stored rows on values (the config's). */
static void hub_settings_load(sqlite3 *db, struct hub_settings_values *values)
{
    char device[HUB_SETTINGS_DEVICE_MAX];
    long long budget = values->storage_budget, min_free = values->min_free;
    long long enabled, volume;
    int have_budget = hub_settings_read_number(db, "storage_budget", &budget);
    int have_min_free = hub_settings_read_number(db, "min_free", &min_free);

    if ((have_budget || have_min_free) &&
        hub_settings_check_storage(budget, min_free, 0, NULL, 0) == 0) {
        values->storage_budget = budget;
        values->min_free = min_free;
        values->from_ui |= (have_budget ? HUB_SETTINGS_FROM_UI_BUDGET : 0) |
                           (have_min_free ? HUB_SETTINGS_FROM_UI_MIN_FREE : 0);
    }
    if (hub_settings_read_number(db, "chime_enabled", &enabled) &&
        hub_settings_read_number(db, "chime_volume", &volume) &&
        hub_settings_read(db, "chime_device", device, sizeof(device)) &&
        hub_settings_check_device(device, NULL, 0) == 0 &&
        hub_settings_check_volume(volume, NULL, 0) == 0) {
        values->chime_enabled = enabled != 0;
        values->chime_volume = (int)volume;
        snprintf(values->chime_device, sizeof(values->chime_device), "%s", device);
        values->from_ui |= HUB_SETTINGS_FROM_UI_CHIME;
    }
}

struct hub_settings *hub_settings_create(const struct config *config, sqlite3 *db)
{
    struct hub_settings *settings = calloc(1, sizeof(*settings));

    if (settings == NULL)
        return NULL;
    mutex_init_checked(&settings->lock);
    settings->values.storage_budget = config->storage_budget;
    settings->values.min_free = config->min_free;
    settings->values.chime_enabled = config->chime_device[0] != '\0';
    snprintf(settings->values.chime_device, sizeof(settings->values.chime_device), "%s",
             config->chime_device[0] != '\0' ? config->chime_device : "default");
    settings->values.chime_volume = HUB_SETTINGS_VOLUME_MAX;
    if (db != NULL)
        hub_settings_load(db, &settings->values);
    return settings;
}

void hub_settings_free(struct hub_settings *settings)
{
    if (settings == NULL)
        return;
    pthread_mutex_destroy(&settings->lock);
    free(settings);
}

void hub_settings_get(struct hub_settings *settings, struct hub_settings_values *out)
{
    pthread_mutex_lock(&settings->lock);
    *out = settings->values;
    pthread_mutex_unlock(&settings->lock);
}

int hub_settings_set_storage(struct hub_settings *settings, sqlite3 *db, long long budget,
                             long long min_free)
{
    static const char *const keys[] = {"storage_budget", "min_free"};
    char budget_text[32], min_free_text[32];
    const char *values[] = {budget_text, min_free_text};

    snprintf(budget_text, sizeof(budget_text), "%lld", budget);
    snprintf(min_free_text, sizeof(min_free_text), "%lld", min_free);
    if (hub_settings_write(db, keys, values, 2) != 0)
        return -1;
    pthread_mutex_lock(&settings->lock);
    settings->values.storage_budget = budget;
    settings->values.min_free = min_free;
    settings->values.from_ui |= HUB_SETTINGS_FROM_UI_BUDGET | HUB_SETTINGS_FROM_UI_MIN_FREE;
    pthread_mutex_unlock(&settings->lock);
    return 0;
}

int hub_settings_set_chime(struct hub_settings *settings, sqlite3 *db, int enabled,
                           const char *device, int volume)
{
    static const char *const keys[] = {"chime_enabled", "chime_device", "chime_volume"};
    char enabled_text[4], volume_text[16];
    const char *values[] = {enabled_text, device, volume_text};

    snprintf(enabled_text, sizeof(enabled_text), "%d", enabled != 0);
    snprintf(volume_text, sizeof(volume_text), "%d", volume);
    if (hub_settings_write(db, keys, values, 3) != 0)
        return -1;
    pthread_mutex_lock(&settings->lock);
    settings->values.chime_enabled = enabled != 0;
    snprintf(settings->values.chime_device, sizeof(settings->values.chime_device), "%s", device);
    settings->values.chime_volume = volume;
    settings->values.from_ui |= HUB_SETTINGS_FROM_UI_CHIME;
    pthread_mutex_unlock(&settings->lock);
    return 0;
}
