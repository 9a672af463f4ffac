/*
 * reply_stock.c - importing the stock quick replies (see reply_stock.h).
 * The table below and scripts/make-stock-replies.sh name the same files.
 */
#define LOG_MODULE "replies"

#include "replies/reply_stock.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/byte_buffer.h"
#include "common/log.h"
#include "common/reply_clip.h"
#include "replies/reply_audio.h"
#include "replies/reply_store.h"

struct reply_stock_entry {
    const char *file; /* in the replies directory */
    const char *name; /* as the UI shows it */
};

static const struct reply_stock_entry reply_stock_entries[] = {
    {"right-there.wav", "We'll be right there"},
    {"leave-package.wav", "Please leave the package at the door"},
    {"no-soliciting.wav", "No soliciting, thank you"},
};

/* Read a whole file of at most REPLY_AUDIO_MAX_UPLOAD bytes into out. 0 or -1. */
static int reply_stock_read(const char *path, struct byte_buffer *out)
{
    uint8_t chunk[8192];
    size_t got;
    FILE *file = fopen(path, "rbe");
    int rc = -1;

    if (file == NULL)
        return -1;
    while ((got = fread(chunk, 1, sizeof(chunk), file)) > 0)
        if (byte_buffer_add(out, chunk, got) != BYTE_BUFFER_OK)
            goto out;
    rc = ferror(file) ? -1 : 0;
out:
    fclose(file);
    return rc;
}

/* See reply_stock.h. */
int reply_stock_import(sqlite3 *db, const char *replies_dir, const char *data_dir)
{
    int imported = 0;

    for (size_t i = 0; i < sizeof(reply_stock_entries) / sizeof(reply_stock_entries[0]); i++) {
        const struct reply_stock_entry *entry = &reply_stock_entries[i];
        struct byte_buffer file, clip;
        char path[REPLY_PATH_MAX], error[128];
        int duration_ms = 0, exists = reply_store_stock_exists(db, entry->name);
        int64_t id = 0;

        if (exists < 0)
            return -1;
        if (exists)
            continue;
        byte_buffer_init(&file, REPLY_AUDIO_MAX_UPLOAD);
        byte_buffer_init(&clip, REPLY_CLIP_MAX_BYTES);
        snprintf(path, sizeof(path), "%s/%s", replies_dir, entry->file);
        if (reply_stock_read(path, &file) != 0) {
            log_warn("stock reply %s not found in %s", entry->file, replies_dir);
        } else if (reply_audio_transcode(byte_buffer_data(&file), byte_buffer_length(&file), &clip,
                                         &duration_ms, error, sizeof(error)) != REPLY_AUDIO_OK) {
            log_warn("stock reply %s refused: %s", entry->file, error);
        } else if (reply_store_add(db, entry->name, duration_ms, 1, 0, &id) != 0 ||
                   reply_store_write_file(data_dir, id, byte_buffer_data(&clip),
                                          byte_buffer_length(&clip)) != 0) {
            if (id > 0)
                reply_store_delete(db, id);
            log_warn("stock reply %s not imported", entry->file);
        } else {
            log_info("imported stock reply \"%s\" (%d ms)", entry->name, duration_ms);
            imported++;
        }
        byte_buffer_free(&file);
        byte_buffer_free(&clip);
    }
    return imported;
}
