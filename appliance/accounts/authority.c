/*
 * authority.c - ending open connections whose authority is gone (see
 * authority.h).
 *
 * Threads: the authority thread (authority_thread) polls the database and
 * runs the close callbacks; civetweb worker threads register and unregister
 * connections. authority->lock guards the list, next_handle, in_callback,
 * changed and stopping; authority->callback_done is signalled when a
 * callback returns. The entries are owned by the list and freed by
 * authority_unregister() or authority_stop().
 */
#define LOG_MODULE "accounts"

#include "accounts/authority.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts/sessions.h"
#include "accounts/users.h"
#include "common/clock.h"
#include "common/link_protocol.h"
#include "common/log.h"
#include "common/mutex.h"
#include "storage/database.h"

/* Revalidate at least this often even when nothing changed (sessions expire
 * with time, not with a write). */
#define AUTHORITY_IDLE_CHECK_MS 5000

struct authority_entry {
    struct authority_entry *next;
    uint64_t handle;
    enum authority_kind kind;
    int64_t user_id;
    char role[8];
    char session_token[AUTHORITY_TOKEN_MAX];
    char device_id[LINK_DEVICE_ID_MAX]; /* "" for none */
    uint64_t grants_signature;          /* event feed of a viewer: its grants when opened */
    authority_close_callback close;
    void *context;
    bool closing; /* the callback ran or runs: never again */
};

struct authority {
    pthread_mutex_t lock;
    pthread_cond_t wake;          /* the thread waits on it between polls */
    pthread_cond_t callback_done; /* a close callback returned */
    struct authority_entry *entries;
    uint64_t next_handle;
    uint64_t in_callback; /* handle whose callback runs now, 0 if none */
    uint64_t closed_count;
    bool changed, stopping;
    pthread_t thread;
};

/* users_list_devices callback: fold a device id into an FNV-1a hash. */
static int authority_hash_device(const char *device_id, void *context)
{
    uint64_t *hash = context;

    for (const unsigned char *p = (const unsigned char *)device_id; *p != '\0'; p++)
        *hash = (*hash ^ *p) * 1099511628211ULL;
    *hash = (*hash ^ 0xffu) * 1099511628211ULL; /* separator */
    return 0;
}

/* A hash of the doorbells granted to user_id (viewers); 0 on error. */
static uint64_t authority_grants_signature(sqlite3 *db, int64_t user_id)
{
    uint64_t hash = 14695981039346656037ULL;

    if (db == NULL || users_list_devices(db, user_id, authority_hash_device, &hash) != USERS_OK)
        return 0;
    return hash;
}

/* The USERS_RIGHT_* a connection of kind needs on its doorbell (the event
 * feed needs only the grant). */
static unsigned authority_needed_right(enum authority_kind kind)
{
    switch (kind) {
    case AUTHORITY_LIVE_VIEW:
        return USERS_RIGHT_LIVE;
    case AUTHORITY_PLAYBACK:
        return USERS_RIGHT_RECORDINGS;
    case AUTHORITY_TALK:
        return USERS_RIGHT_TALK;
    default:
        return 0;
    }
}

/* Does entry still hold its authority? NULL if so, else why not. A database
 * error in the session lookup keeps the connection until the next check; a
 * failing permission check closes it (users_device_rights fails closed). */
static const char *authority_revoked_reason(sqlite3 *db, const struct authority_entry *entry)
{
    struct session session;
    enum session_status status =
        session_lookup(db, entry->session_token, database_now_ms(), &session);

    if (status == SESSION_ERROR)
        return NULL;
    if (status != SESSION_OK || session.user.id != entry->user_id)
        return "the session ended (logout, password change, removal or expiry)";
    if (strcmp(session.user.role, entry->role) != 0)
        return "the user's role changed";
    if (entry->device_id[0] != '\0') {
        int rights = users_device_rights(db, &session.user, entry->device_id);
        unsigned needed = authority_needed_right(entry->kind);
        if (rights < 0)
            return "the doorbell is no longer granted";
        if (((unsigned)rights & needed) != needed)
            return entry->kind == AUTHORITY_TALK       ? "the talk right was withdrawn"
                   : entry->kind == AUTHORITY_PLAYBACK ? "the recordings right was withdrawn"
                                                       : "the live right was withdrawn";
    }
    if (entry->kind == AUTHORITY_EVENT_FEED && !users_is_admin(&session.user) &&
        authority_grants_signature(db, entry->user_id) != entry->grants_signature)
        return "the user's doorbell grants changed";
    return NULL;
}

/* Run the close callback of handle, unless it is gone or already closing. */
static void authority_close(struct authority *authority, uint64_t handle, const char *reason)
{
    struct authority_entry *entry;
    authority_close_callback close = NULL;
    void *context = NULL;
    int64_t user_id = 0;
    enum authority_kind kind = AUTHORITY_LIVE_VIEW;

    pthread_mutex_lock(&authority->lock);
    for (entry = authority->entries; entry != NULL; entry = entry->next)
        if (entry->handle == handle && !entry->closing) {
            entry->closing = true;
            authority->in_callback = handle;
            authority->closed_count++;
            close = entry->close;
            context = entry->context;
            user_id = entry->user_id;
            kind = entry->kind;
            break;
        }
    pthread_mutex_unlock(&authority->lock);
    if (close == NULL)
        return;
    log_info("closing a %s of user %lld: %s",
             kind == AUTHORITY_LIVE_VIEW    ? "live view"
             : kind == AUTHORITY_EVENT_FEED ? "event feed"
             : kind == AUTHORITY_TALK       ? "talk"
                                            : "playback",
             (long long)user_id, reason);
    close(context, reason);
    pthread_mutex_lock(&authority->lock);
    authority->in_callback = 0;
    pthread_cond_broadcast(&authority->callback_done);
    pthread_mutex_unlock(&authority->lock);
}

/* Check every registered connection against the database; close the ones
 * that lost their authority. Authority thread. */
static void authority_revalidate(struct authority *authority, sqlite3 *db)
{
    struct authority_entry *copies = NULL;
    size_t count = 0, used = 0;

    pthread_mutex_lock(&authority->lock);
    for (struct authority_entry *entry = authority->entries; entry != NULL; entry = entry->next)
        if (!entry->closing)
            count++;
    if (count > 0)
        copies = calloc(count, sizeof(*copies));
    for (struct authority_entry *entry = authority->entries;
         entry != NULL && copies != NULL && used < count; entry = entry->next)
        if (!entry->closing)
            copies[used++] = *entry;
    pthread_mutex_unlock(&authority->lock);
    if (count > 0 && copies == NULL) {
        log_error("out of memory checking open connections");
        return;
    }
    for (size_t i = 0; i < used; i++) {
        const char *reason = authority_revoked_reason(db, &copies[i]);
        if (reason != NULL)
            authority_close(authority, copies[i].handle, reason);
    }
    free(copies);
}

/* PRAGMA data_version through a statement prepared once per connection:
 * the thread reads it ten times a second, and parsing it each time cost as
 * much as recording a doorbell. -1 on error (the statement is dropped and
 * prepared again next time). */
static int64_t authority_data_version(sqlite3 *db, sqlite3_stmt **statement)
{
    int64_t version = -1;

    if (*statement == NULL &&
        sqlite3_prepare_v3(db, "PRAGMA data_version", -1, SQLITE_PREPARE_PERSISTENT, statement,
                           NULL) != SQLITE_OK) {
        *statement = NULL;
        return -1;
    }
    if (sqlite3_step(*statement) == SQLITE_ROW)
        version = sqlite3_column_int64(*statement, 0);
    if (sqlite3_reset(*statement) != SQLITE_OK) {
        sqlite3_finalize(*statement);
        *statement = NULL;
    }
    return version;
}

/* The authority thread: while connections are registered, wait up to
 * AUTHORITY_POLL_MS for a change notice, look at data_version, revalidate
 * when anything changed. With none registered there is nothing to end, so
 * it sleeps until authority_register() (which also asks for a check). */
static void *authority_thread(void *data)
{
    struct authority *authority = data;
    sqlite3 *db = database_thread_connection();
    sqlite3_stmt *version_statement = NULL;
    int64_t last_version = -1, last_check_ms = 0;

    pthread_setname_np(pthread_self(), "authority");
    for (;;) {
        struct timespec deadline;
        bool changed;
        int64_t version, now_ms;

        clock_deadline_ms(CLOCK_MONOTONIC, AUTHORITY_POLL_MS, &deadline);
        pthread_mutex_lock(&authority->lock);
        while (!authority->changed && !authority->stopping) {
            if (authority->entries == NULL) {
                pthread_cond_wait(&authority->wake, &authority->lock);
                continue;
            }
            if (pthread_cond_timedwait(&authority->wake, &authority->lock, &deadline) == ETIMEDOUT)
                break;
        }
        changed = authority->changed;
        authority->changed = false;
        if (authority->stopping) {
            pthread_mutex_unlock(&authority->lock);
            break;
        }
        pthread_mutex_unlock(&authority->lock);
        if (db == NULL && (db = database_thread_connection()) == NULL)
            continue;
        version = authority_data_version(db, &version_statement);
        now_ms = clock_monotonic_ms();
        if (!changed && version == last_version && now_ms - last_check_ms < AUTHORITY_IDLE_CHECK_MS)
            continue;
        last_version = version;
        last_check_ms = now_ms;
        authority_revalidate(authority, db);
    }
    sqlite3_finalize(version_statement);
    return NULL;
}

struct authority *authority_start(void)
{
    struct authority *authority = calloc(1, sizeof(*authority));
    pthread_condattr_t attributes;

    if (authority == NULL) {
        log_error("out of memory starting the authority thread");
        return NULL;
    }
    mutex_init_checked(&authority->lock);
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_cond_init(&authority->wake, &attributes);
    pthread_condattr_destroy(&attributes);
    pthread_cond_init(&authority->callback_done, NULL);
    authority->next_handle = 1;
    if (pthread_create(&authority->thread, NULL, authority_thread, authority) != 0) {
        log_error("cannot start the authority thread");
        pthread_cond_destroy(&authority->callback_done);
        pthread_cond_destroy(&authority->wake);
        pthread_mutex_destroy(&authority->lock);
        free(authority);
        return NULL;
    }
    return authority;
}

void authority_stop(struct authority *authority)
{
    if (authority == NULL)
        return;
    pthread_mutex_lock(&authority->lock);
    authority->stopping = true;
    pthread_cond_signal(&authority->wake);
    pthread_mutex_unlock(&authority->lock);
    pthread_join(authority->thread, NULL);
    while (authority->entries != NULL) {
        struct authority_entry *entry = authority->entries;
        authority->entries = entry->next;
        free(entry);
    }
    pthread_cond_destroy(&authority->callback_done);
    pthread_cond_destroy(&authority->wake);
    pthread_mutex_destroy(&authority->lock);
    free(authority);
}

uint64_t authority_register(struct authority *authority, const struct authority_grant *grant,
                            authority_close_callback close, void *context)
{
    struct authority_entry *entry;
    uint64_t handle;

    if (authority == NULL || grant == NULL || close == NULL)
        return 0;
    entry = calloc(1, sizeof(*entry));
    if (entry == NULL)
        return 0;
    entry->kind = grant->kind;
    entry->user_id = grant->user_id;
    snprintf(entry->role, sizeof(entry->role), "%s", grant->role ? grant->role : "");
    snprintf(entry->session_token, sizeof(entry->session_token), "%s",
             grant->session_token ? grant->session_token : "");
    snprintf(entry->device_id, sizeof(entry->device_id), "%s",
             grant->device_id ? grant->device_id : "");
    if (grant->kind == AUTHORITY_EVENT_FEED)
        entry->grants_signature =
            authority_grants_signature(database_thread_connection(), grant->user_id);
    entry->close = close;
    entry->context = context;
    pthread_mutex_lock(&authority->lock);
    handle = authority->next_handle++;
    entry->handle = handle;
    entry->next = authority->entries;
    authority->entries = entry;
    /* Check it once: a change between the gate and now is not missed. */
    authority->changed = true;
    pthread_cond_signal(&authority->wake);
    pthread_mutex_unlock(&authority->lock);
    return handle;
}

void authority_unregister(struct authority *authority, uint64_t handle)
{
    struct authority_entry **at;

    if (authority == NULL || handle == 0)
        return;
    pthread_mutex_lock(&authority->lock);
    while (authority->in_callback == handle)
        pthread_cond_wait(&authority->callback_done, &authority->lock);
    for (at = &authority->entries; *at != NULL; at = &(*at)->next)
        if ((*at)->handle == handle) {
            struct authority_entry *entry = *at;
            *at = entry->next;
            free(entry);
            break;
        }
    pthread_mutex_unlock(&authority->lock);
}

void authority_changed(struct authority *authority)
{
    if (authority == NULL)
        return;
    pthread_mutex_lock(&authority->lock);
    authority->changed = true;
    pthread_cond_signal(&authority->wake);
    pthread_mutex_unlock(&authority->lock);
}

uint64_t authority_closed_count(struct authority *authority)
{
    uint64_t count;

    if (authority == NULL)
        return 0;
    pthread_mutex_lock(&authority->lock);
    count = authority->closed_count;
    pthread_mutex_unlock(&authority->lock);
    return count;
}
