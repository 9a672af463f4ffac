/*
 * sessions.h - browser sessions of logged-in users, kept in the sessions
 * table. The cookie carries a random 32-byte token (43 base64url
 * characters); the database stores only its SHA-256, so a copy of the
 * database does not hand out live sessions. Each session also has its own
 * random CSRF token. A session lives at most 30 days and ends after 7 days
 * without use; last use is written at most once a minute.
 *
 * Any thread may call these with its own SQLite connection; the database is
 * the only shared state and SQLite's locking protects it. Every function
 * that depends on the time takes now_ms (database_now_ms() in production) so
 * that tests can move time.
 */
#ifndef DOORSTEP_SESSIONS_H
#define DOORSTEP_SESSIONS_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "accounts/random_bytes.h"
#include "accounts/users.h"

#define SESSION_TOKEN_SIZE           RANDOM_BYTES_TOKEN_SIZE /* 43 characters + NUL */
#define SESSION_ABSOLUTE_LIFETIME_MS (30LL * 24 * 60 * 60 * 1000)
#define SESSION_IDLE_TIMEOUT_MS      (7LL * 24 * 60 * 60 * 1000)
#define SESSION_TOUCH_INTERVAL_MS    (60LL * 1000)
#define SESSION_MAX_PER_USER         32 /* older sessions are ended beyond this */
#define SESSION_REMOTE_ADDRESS_MAX   64 /* longer values are cut */
#define SESSION_USER_AGENT_MAX       256

struct session {
    struct user user;                    /* whose session it is */
    char csrf_token[SESSION_TOKEN_SIZE]; /* expected X-CSRF-Token value */
    int64_t created_at;                  /* ms since the epoch */
    int64_t expires_at;                  /* ms since the epoch, after sliding */
};

#define SESSION_ID_SIZE    17 /* 16 hex characters + NUL */
#define SESSION_DEVICE_MAX 64 /* "Firefox on Android" */

/* One session as its user sees it in the list of their sessions. */
struct session_info {
    char id[SESSION_ID_SIZE]; /* hex of the first 8 bytes of SHA-256(token hash): stable, opaque */
    int64_t created_at, last_seen_at, expires_at; /* ms since the epoch */
    char remote_address[SESSION_REMOTE_ADDRESS_MAX + 1];
    char user_agent[SESSION_USER_AGENT_MAX + 1];
    bool current; /* the session of the token the caller passed */
};

/* Called once per session; return non-zero to stop. */
typedef int (*session_info_callback)(const struct session_info *session, void *data);

enum session_status {
    SESSION_ERROR = -1, /* database failure (logged) */
    SESSION_OK = 0,
    SESSION_NOT_FOUND = 1, /* malformed, unknown, expired, or the user is gone */
};

/*
 * Start a session for user_id. Writes the cookie token and the CSRF token
 * (each SESSION_TOKEN_SIZE bytes, owned by the caller) and returns 0; -1 on
 * failure (logged), e.g. when the user does not exist. remote_address and
 * user_agent (NULL = "") are stored for the user's information, cut to
 * their maximum lengths. Beyond SESSION_MAX_PER_USER sessions the oldest of
 * that user end.
 */
int session_create(sqlite3 *db, int64_t user_id, const char *remote_address, const char *user_agent,
                   int64_t now_ms, char token_out[SESSION_TOKEN_SIZE],
                   char csrf_out[SESSION_TOKEN_SIZE]);

/*
 * Find the live session for a cookie token and fill *session_out. Malformed
 * tokens are refused without touching the database. An expired session is
 * deleted and reported as SESSION_NOT_FOUND. A session last seen a minute or
 * more ago gets last_seen_at = now and its idle expiry pushed forward (never
 * past the absolute lifetime).
 */
enum session_status session_lookup(sqlite3 *db, const char *token, int64_t now_ms,
                                   struct session *session_out);

/* True if candidate (an X-CSRF-Token header, may be NULL) equals the
 * session's CSRF token; compared in constant time. */
bool session_csrf_matches(const struct session *session, const char *candidate);

/* End the session of a cookie token (logout). Unknown or malformed tokens
 * are not an error. 0, or -1 on a database failure (logged). */
int session_delete(sqlite3 *db, const char *token);

/* End every session of a user. 0, or -1 on a database failure (logged). */
int session_delete_for_user(sqlite3 *db, int64_t user_id);

/*
 * Call callback for each live session of user_id, newest first. current_token
 * (a cookie value, may be NULL) marks its session current. Returns how many,
 * or -1 on a database failure (logged).
 */
int session_list_for_user(sqlite3 *db, int64_t user_id, const char *current_token, int64_t now_ms,
                          session_info_callback callback, void *data);

/* End the session of user_id whose id (struct session_info) is id. 1 if it
 * was ended, 0 if the user has no such session, -1 on a database failure. */
int session_delete_by_id(sqlite3 *db, int64_t user_id, const char *id);

/* End every session of user_id but the one of keep_token (a cookie value).
 * Returns how many ended, or -1 on a database failure (logged). */
int session_delete_others(sqlite3 *db, int64_t user_id, const char *keep_token);

/* A readable "browser on system" for a User-Agent header (NULL = ""), e.g.
 * "Firefox on Android", "Chrome on Linux", "Safari on iOS"; "Unknown device"
 * when nothing is recognised. Writes at most size bytes into out. */
void session_describe_agent(const char *user_agent, char *out, size_t size);

/* Delete sessions that expired at or before now_ms. Returns how many, or -1
 * on a database failure (logged). */
int session_purge_expired(sqlite3 *db, int64_t now_ms);

#endif
