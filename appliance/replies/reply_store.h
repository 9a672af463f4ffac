/*
 * reply_store.h - the quick_replies and auto_replies tables and the reply
 * files (data_dir/replies/<id>.reply, the clip form of common/reply_clip.h).
 *
 * Any thread, with its own SQLite connection; bound parameters only; no
 * state of its own. A file is written whole to a temporary name and renamed,
 * so a reader sees the old clip or the new one, never half of one.
 */
#ifndef DOORSTEP_REPLY_STORE_H
#define DOORSTEP_REPLY_STORE_H

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "common/byte_buffer.h"

#define REPLY_NAME_MAX    65 /* 1..64 bytes and the NUL */
#define REPLY_LIST_MAX    64 /* replies the hub keeps at most */
#define REPLY_PATH_MAX    4200
#define REPLY_DELAY_MAX_S 600
#define REPLY_MODE_COUNT  3

struct reply_row {
    int64_t id;
    char name[REPLY_NAME_MAX];
    int duration_ms;
    int stock;
    int64_t created_by; /* user id, 0 for stock replies */
    int64_t created_at; /* ms since the epoch */
    int64_t version;    /* grows when the audio changes */
};

/* The modes ("home", "away", "disarmed") in a fixed order. */
extern const char *const reply_store_modes[REPLY_MODE_COUNT];

/* Every reply, oldest first, into rows (at most max). Returns the count, or -1. */
int reply_store_list(sqlite3 *db, struct reply_row *rows, int max);

/* One reply: 1 found (*out filled), 0 none, -1 error. */
int reply_store_get(sqlite3 *db, int64_t id, struct reply_row *out);

/* 1 if a stock reply of this name exists, 0 if not, -1 on error. */
int reply_store_stock_exists(sqlite3 *db, const char *name);

/* Insert a reply row; *id_out gets its id. 0 or -1. */
int reply_store_add(sqlite3 *db, const char *name, int duration_ms, int stock, int64_t created_by,
                    int64_t *id_out);

/* Rename: 1 done, 0 no such reply, -1 error. */
int reply_store_rename(sqlite3 *db, int64_t id, const char *name);

/* Delete the row (and its auto-reply rules): 1 done, 0 none, -1 error. */
int reply_store_delete(sqlite3 *db, int64_t id);

/* data_dir/replies/<id>.reply into out. */
void reply_store_path(const char *data_dir, int64_t id, char *out, size_t size);

/* Write a clip as reply id's file (directory made if needed). 0 or -1. */
int reply_store_write_file(const char *data_dir, int64_t id, const uint8_t *clip, size_t size);

/* Read reply id's file into clip (reset first; capped by its maximum) and
 * check it is a clip. 0, or -1 when missing, too big or damaged. */
int reply_store_read_file(const char *data_dir, int64_t id, struct byte_buffer *clip);

/* Remove reply id's file (a missing file is fine). */
void reply_store_remove_file(const char *data_dir, int64_t id);

/* The auto-reply of a doorbell in a mode: 1 found (*reply_id, *delay_s), 0 none, -1 error. */
int reply_store_get_auto(sqlite3 *db, const char *device_id, const char *mode, int64_t *reply_id,
                         int *delay_s);

/* Set (reply_id > 0) or clear (reply_id 0) the auto-reply of a doorbell in a mode. 0 or -1. */
int reply_store_set_auto(sqlite3 *db, const char *device_id, const char *mode, int64_t reply_id,
                         int delay_s);

/* A reply as the API shows it (docs/api.md); caller deletes. */
cJSON *reply_store_json(const struct reply_row *row);

#endif
