/*
 * database.h - the hub's SQLite database: opening in WAL mode, applying the
 * numbered migrations of db/migrations/ (embedded at build time), and a
 * per-thread connection for request handlers.
 *
 * SQLite connections are not shared between threads: every thread that needs
 * the database calls database_thread_connection(), which opens (once) and
 * returns that thread's own connection; it is closed when the thread exits,
 * or earlier by database_thread_release() (the HTTP server's worker threads
 * release theirs when a connection ends, so an idle worker holds none).
 * WAL mode lets those connections read concurrently while one writes.
 */
#ifndef DOORSTEP_DATABASE_H
#define DOORSTEP_DATABASE_H

#include <sqlite3.h>
#include <stdint.h>
#include <stddef.h>

/*
 * Open (creating if needed) the database at path, set WAL, foreign keys and a
 * busy timeout, and apply pending migrations in one transaction. A failed
 * migration rolls back and leaves the old schema intact. 0 ok, -1 with reason.
 */
int database_open(const char *path, sqlite3 **db_out, char *error, size_t error_size);

/* Close a connection opened by database_open(); NULL is fine. */
void database_close(sqlite3 *db);

/* Remember which file database_thread_connection() opens. Call once at start. */
void database_set_path(const char *path);

/* This thread's connection (opened on first use, migrations already applied
 * by the main thread). NULL on failure (logged). Never close it yourself. */
sqlite3 *database_thread_connection(void);

/* Close this thread's connection if it has one; the next
 * database_thread_connection() opens a new one. Call only when nothing of
 * the connection (no statement) is in use. Each connection holds its own
 * page cache and schema (about 150 KB once used), so threads that serve
 * requests in turn must not keep one each. */
void database_thread_release(void);

/* Prepare one statement of sql on db, logging a failure with the SQL text.
 * 0, or -1 with *statement NULL. The caller finalizes *statement. */
int database_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **statement);

/* The integer a one-value pragma statement such as "PRAGMA data_version"
 * answers, or -1 when it fails. */
int64_t database_pragma_integer(sqlite3 *db, const char *pragma);

/* Schema version currently applied (PRAGMA user_version). */
int database_schema_version(sqlite3 *db);

/* Newest migration compiled into this binary. */
int database_latest_version(void);

/* Milliseconds since the Unix epoch (the unit of every time column). */
int64_t database_now_ms(void);

#endif
