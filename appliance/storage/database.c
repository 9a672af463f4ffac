/*
 * database.c - opening the hub's SQLite database and migrating its schema
 * (see database.h).
 *
 * The main thread opens the database first and applies migrations; after
 * that every thread uses its own connection from database_thread_connection(),
 * until it exits or calls database_thread_release().
 * database_path is written once before any other thread starts and only read
 * afterwards, so it needs no lock.
 */
#define LOG_MODULE "database"

#include "storage/database.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/error_text.h"
#include "common/clock.h"
#include "common/log.h"
#include "storage/migrations.h"

#define DATABASE_BUSY_TIMEOUT_MS 5000

static char database_path[4096];
static pthread_key_t database_thread_key;
static pthread_once_t database_thread_key_once = PTHREAD_ONCE_INIT;

int64_t database_now_ms(void)
{
    return clock_realtime_ms();
}

int database_latest_version(void)
{
    return database_migration_count > 0 ? database_migrations[database_migration_count - 1].version
                                        : 0;
}

int64_t database_pragma_integer(sqlite3 *db, const char *pragma)
{
    sqlite3_stmt *statement = NULL;
    int64_t value = -1;

    assert(db != NULL && pragma != NULL);
    if (sqlite3_prepare_v2(db, pragma, -1, &statement, NULL) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW)
        value = sqlite3_column_int64(statement, 0);
    sqlite3_finalize(statement);
    return value;
}

int database_schema_version(sqlite3 *db)
{
    return (int)database_pragma_integer(db, "PRAGMA user_version");
}

/* Run one SQL text that returns no rows; on failure copy SQLite's reason. */
static int database_exec(sqlite3 *db, const char *sql, char *error, size_t error_size)
{
    char *message = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &message) == SQLITE_OK)
        return 0;
    error_text_set(error, error_size, "%s", message ? message : sqlite3_errmsg(db));
    sqlite3_free(message);
    return -1;
}

/*
 * Apply every embedded migration newer than the database's user_version, all
 * in one IMMEDIATE transaction: either the schema reaches the newest version
 * or it stays exactly as it was. A database newer than this binary is refused
 * rather than guessed at.
 */
static int database_migrate(sqlite3 *db, char *error, size_t error_size)
{
    char reason[512] = "";
    char pragma[64];
    int current = database_schema_version(db);
    int latest = database_latest_version();

    if (current < 0) {
        error_text_set(error, error_size, "cannot read schema version: %s", sqlite3_errmsg(db));
        return -1;
    }
    if (current > latest) {
        error_text_set(error, error_size,
                       "database schema version %d is newer than this doorstepd (%d); refusing to "
                       "downgrade",
                       current, latest);
        return -1;
    }
    if (current == latest)
        return 0;

    if (database_exec(db, "BEGIN IMMEDIATE", reason, sizeof(reason)) != 0)
        goto fail;
    for (int i = 0; i < database_migration_count; i++) {
        const struct database_migration *migration = &database_migrations[i];
        if (migration->version <= current)
            continue;
        if (database_exec(db, migration->sql, reason, sizeof(reason)) != 0) {
            error_text_set(error, error_size, "migration %s failed: %s", migration->name, reason);
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
        log_info("applied migration %s", migration->name);
    }
    snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", latest);
    if (database_exec(db, pragma, reason, sizeof(reason)) != 0 ||
        database_exec(db, "COMMIT", reason, sizeof(reason)) != 0) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        goto fail;
    }
    log_info("database schema at version %d (was %d)", latest, current);
    return 0;

fail:
    error_text_set(error, error_size, "migration failed: %s", reason);
    return -1;
}

/* Open one connection with the settings every connection needs. */
static int database_connect(const char *path, sqlite3 **db_out, char *error, size_t error_size)
{
    sqlite3 *db = NULL;
    char reason[256] = "";
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;

    *db_out = NULL;
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        error_text_set(error, error_size, "cannot open %s: %s", path,
                       db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return -1;
    }
    sqlite3_busy_timeout(db, DATABASE_BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(db, 1);
    /* WAL: readers never block the writer; NORMAL sync is crash-safe in WAL
     * (a power cut may lose the last transactions, never corrupt). */
    if (database_exec(db, "PRAGMA journal_mode = WAL", reason, sizeof(reason)) != 0 ||
        database_exec(db, "PRAGMA synchronous = NORMAL", reason, sizeof(reason)) != 0 ||
        database_exec(db, "PRAGMA foreign_keys = ON", reason, sizeof(reason)) != 0) {
        error_text_set(error, error_size, "cannot configure %s: %s", path, reason);
        sqlite3_close(db);
        return -1;
    }
    *db_out = db;
    return 0;
}

/*
 * Make the database file exist with mode 0600 (creating it empty if need
 * be) and take group and other access from an existing one and from its
 * -wal and -shm. SQLite gives the -wal and -shm it creates the mode of the
 * database file, so all three stay 0600 whatever the umask. 0, or -1 with
 * the reason in error.
 */
static int database_secure_files(const char *path, char *error, size_t error_size)
{
    static const char *const suffixes[] = {"-wal", "-shm"};
    char side[sizeof(database_path) + 8];
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

    if (fd < 0) {
        error_text_set(error, error_size, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (fchmod(fd, 0600) != 0) {
        error_text_set(error, error_size, "cannot make %s private: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    close(fd);
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        if (snprintf(side, sizeof(side), "%s%s", path, suffixes[i]) >= (int)sizeof(side))
            continue;
        if (chmod(side, 0600) != 0 && errno != ENOENT) {
            error_text_set(error, error_size, "cannot make %s private: %s", side, strerror(errno));
            return -1;
        }
    }
    return 0;
}

int database_open(const char *path, sqlite3 **db_out, char *error, size_t error_size)
{
    sqlite3 *db = NULL;

    assert(path != NULL && db_out != NULL);
    *db_out = NULL;
    if (strcmp(path, ":memory:") != 0 && database_secure_files(path, error, error_size) != 0)
        return -1;
    if (database_connect(path, &db, error, error_size) != 0)
        return -1;
    if (database_migrate(db, error, error_size) != 0) {
        sqlite3_close(db);
        *db_out = NULL;
        return -1;
    }
    *db_out = db;
    return 0;
}

void database_close(sqlite3 *db)
{
    if (db != NULL && sqlite3_close(db) != SQLITE_OK)
        log_warn("closing database: %s", sqlite3_errmsg(db));
}

/* pthread key destructor: closes the exiting thread's connection. */
static void database_thread_close(void *connection)
{
    database_close(connection);
}

static void database_thread_key_create(void)
{
    int rc = pthread_key_create(&database_thread_key, database_thread_close);
    assert(rc == 0);
    (void)rc;
}

void database_set_path(const char *path)
{
    snprintf(database_path, sizeof(database_path), "%s", path);
}

sqlite3 *database_thread_connection(void)
{
    sqlite3 *db;
    char error[512];

    pthread_once(&database_thread_key_once, database_thread_key_create);
    db = pthread_getspecific(database_thread_key);
    if (db != NULL)
        return db;
    assert(database_path[0] != '\0');
    if (database_connect(database_path, &db, error, sizeof(error)) != 0) {
        log_error("%s", error);
        return NULL;
    }
    pthread_setspecific(database_thread_key, db);
    return db;
}

void database_thread_release(void)
{
    sqlite3 *db;

    pthread_once(&database_thread_key_once, database_thread_key_create);
    db = pthread_getspecific(database_thread_key);
    if (db == NULL)
        return;
    pthread_setspecific(database_thread_key, NULL);
    database_close(db);
}

int database_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **statement)
{
    if (sqlite3_prepare_v2(db, sql, -1, statement, NULL) != SQLITE_OK) {
        log_error("preparing \"%s\": %s", sql, sqlite3_errmsg(db));
        *statement = NULL;
        return -1;
    }
    return 0;
}
