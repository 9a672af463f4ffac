/*
 * reply_stock.h - the stock quick replies ("We'll be right there", ...):
 * spoken by espeak-ng at build time (scripts/make-stock-replies.sh) into
 * WAV files in the replies directory, and imported by the hub at start
 * through the same decoder and encoder as an upload (reply_audio.h).
 *
 * Main thread, before the server starts; its own SQLite connection.
 */
#ifndef DOORSTEP_REPLY_STOCK_H
#define DOORSTEP_REPLY_STOCK_H

#include <sqlite3.h>

/* Import each stock reply whose WAV is in replies_dir and that the database
 * does not hold yet (a deleted stock reply comes back at the next start only
 * if its file is still there). Returns how many were imported, or -1 on a
 * database error; a missing file is logged and skipped. */
int reply_stock_import(sqlite3 *db, const char *replies_dir, const char *data_dir);

#endif
