/*
 * database_reserve.h - room kept for the database when its disk fills up.
 *
 * A file `<database>-reserve` holds allocated blocks next to the database.
 * When the database cannot write (SQLITE_FULL), or its filesystem has next
 * to nothing left, the file is deleted: its blocks become free space that
 * SQLite can use, so the emergency purge (which must write to delete
 * anything) and the hub's other writes go on at 0 bytes free. It is made
 * again once the filesystem has room for it with plenty to spare.
 *
 * Any thread. The state (released or not, the last SQLITE_FULL) is kept
 * under one lock; database_reserve_init() runs once, at start, before the
 * other threads.
 */
#ifndef DOORSTEP_DATABASE_RESERVE_H
#define DOORSTEP_DATABASE_RESERVE_H

#include <sqlite3.h>
#include <stdint.h>

#define DATABASE_RESERVE_MAX_BYTES (8LL << 20) /* on a large filesystem */
#define DATABASE_RESERVE_SHARE     16          /* at most 1/16 of a small one */
#define DATABASE_RESERVE_LOW_BYTES (256 << 10) /* below this much free: release */
#define DATABASE_FULL_RECENT_MS    10000       /* a SQLITE_FULL this recent: "database full" */

/* Remember the database's path and make the reserve if it is missing and
 * there is room. Main thread, once, before the other threads start. */
void database_reserve_init(const char *database_path);

/* Any thread: a statement failed with rc (an extended or primary result
 * code). Notes SQLITE_FULL and releases the reserve so that the next try
 * can succeed. Returns 1 when rc was SQLITE_FULL, else 0. */
int database_reserve_note(int rc);

/* Delete the reserve now (its blocks become free space). 1 when it was in
 * place, 0 when it was already gone. */
int database_reserve_release(void);

/* Retention thread, once a second: release the reserve when the database's
 * filesystem is nearly full; make it again when there is room to spare. */
void database_reserve_tend(void);

/* Is the database short of space: a SQLITE_FULL in the last
 * DATABASE_FULL_RECENT_MS, or the reserve released for want of room? */
int database_reserve_full(int64_t now_ms);

/* Free bytes on the database's filesystem, or -1. */
long long database_reserve_free_bytes(void);

#endif
