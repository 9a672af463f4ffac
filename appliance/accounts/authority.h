/*
 * authority.h - the registry of open long-lived connections (live view,
 * talk and event feed WebSockets, playback streams) with the user, session and
 * doorbell each was opened with, and the thread that ends them when that
 * authority is gone: logout, password change, user removal, role change, a
 * doorbell grant withdrawn or the right the connection needs (live for a
 * live view, recordings for a playback, talk for talk-back), or the session
 * expiring.
 *
 * Changes may come from any connection to the database, the hub's own or
 * the `doorstep` CLI's, so the authority thread does not rely on being told:
 * every AUTHORITY_POLL_MS it reads PRAGMA data_version, and when the
 * database changed (or authority_changed() was called) it checks every
 * registered connection against the database as it is now and calls the
 * close callback of those no longer allowed, once each.
 *
 * Threads: authority_register/unregister from civetweb worker threads; the
 * close callbacks run on the authority thread and must not block for long
 * (they ask the connection's own thread to close it). a->lock guards the
 * list; it is never held while a callback runs, and authority_unregister()
 * waits for a callback of that connection in progress, so after it returns
 * the callback never runs again.
 */
#ifndef DOORSTEP_AUTHORITY_H
#define DOORSTEP_AUTHORITY_H

#include <stdint.h>

#define AUTHORITY_POLL_MS      100  /* how often the database is looked at */
#define AUTHORITY_CLOSE_CODE   1008 /* WebSocket close code: policy violation */
#define AUTHORITY_CLOSE_REASON "access withdrawn"
#define AUTHORITY_TOKEN_MAX    64

struct authority;

enum authority_kind {
    AUTHORITY_LIVE_VIEW = 0,
    AUTHORITY_EVENT_FEED = 1,
    AUTHORITY_PLAYBACK = 2,
    AUTHORITY_TALK = 3, /* needs the talk right on the doorbell, not only the grant */
};

/* Called once, on the authority thread, when a connection lost its
 * authority; reason is a static string for logs. */
typedef void (*authority_close_callback)(void *context, const char *reason);

/* What a connection was opened with. device_id NULL or "" for none. */
struct authority_grant {
    enum authority_kind kind;
    int64_t user_id;
    const char *role;
    const char *session_token; /* the session cookie's value */
    const char *device_id;
};

/* Start the registry and its thread. NULL on failure (logged). The thread
 * uses its own database connection (database_thread_connection()). */
struct authority *authority_start(void);

/* Stop the thread and free the registry. Every connection must have been
 * unregistered (the HTTP server stopped). NULL is fine. */
void authority_stop(struct authority *authority);

/* Register an open connection. Returns its handle (never 0), or 0 when
 * authority is NULL or memory ran out (then nothing will close it: the
 * caller should refuse the connection). Any thread. */
uint64_t authority_register(struct authority *authority, const struct authority_grant *grant,
                            authority_close_callback close, void *context);

/* Forget a connection; waits for its close callback if it is running right
 * now. Handle 0 is ignored. Any thread but the authority thread. */
void authority_unregister(struct authority *authority, uint64_t handle);

/* Something about accounts or grants changed: check now instead of at the
 * next poll. Any thread; never blocks for long. NULL is fine. */
void authority_changed(struct authority *authority);

/* Connections closed since start, for logs and tests. */
uint64_t authority_closed_count(struct authority *authority);

#endif
