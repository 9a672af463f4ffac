/*
 * invites.h - one-time invites (the invites and invite_grants tables): an
 * admin makes one with a role and doorbell grants and hands out its link;
 * whoever opens the link first picks a username and password and becomes
 * that user. The link carries a random 32-byte token; only its SHA-256 is
 * stored. An invite lasts INVITES_LIFETIME_MS, is used once, and an admin
 * may withdraw it before.
 *
 * Any thread may call these with its own SQLite connection; the database is
 * the only shared state (single use is one conditional UPDATE).
 */
#ifndef DOORSTEP_INVITES_H
#define DOORSTEP_INVITES_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "accounts/random_bytes.h"
#include "accounts/users.h"

#define INVITES_LIFETIME_MS (7LL * 24 * 3600 * 1000)
#define INVITES_NOTE_MAX    200 /* bytes of the admin's note */
#define INVITES_TOKEN_SIZE  RANDOM_BYTES_TOKEN_SIZE

enum invites_status {
    INVITES_ERROR = -1, /* database failure (logged) */
    INVITES_OK = 0,
    INVITES_UNKNOWN = 1,   /* no invite has that token (or it is malformed) */
    INVITES_USED = 2,      /* already used */
    INVITES_EXPIRED = 3,   /* older than INVITES_LIFETIME_MS */
    INVITES_WITHDRAWN = 4, /* an admin withdrew it */
    INVITES_ACCOUNT = 5,   /* the account could not be made: see *account_status */
    INVITES_INVALID = 6,   /* a bad role, note or doorbell when creating */
};

/* One invite as listed (never its token). */
struct invite {
    int64_t id;
    char role[8];
    char note[INVITES_NOTE_MAX + 1];
    int64_t created_by; /* 0 if that admin is gone */
    int64_t created_at, expires_at;
    int64_t used_at, used_by; /* 0 until used */
    int64_t withdrawn_at;     /* 0 unless withdrawn */
};

/* Called once per invite by invites_list(); nonzero stops early. */
typedef int (*invites_callback)(const struct invite *invite, void *context);

/*
 * Make an invite for role with grants (count of them; a viewer's doorbells
 * and rights) and note, by admin created_by, valid from now_ms for
 * INVITES_LIFETIME_MS. token_out (INVITES_TOKEN_SIZE bytes) gets the token
 * for the link, shown only now; *id_out (may be NULL) the id.
 * INVITES_INVALID for a bad role or note or an unknown doorbell.
 */
enum invites_status invites_create(sqlite3 *db, int64_t created_by, const char *role,
                                   const struct users_grant *grants, size_t count, const char *note,
                                   int64_t now_ms, char *token_out, int64_t *id_out);

/* Call callback for every invite, newest first. INVITES_OK or INVITES_ERROR. */
enum invites_status invites_list(sqlite3 *db, invites_callback callback, void *context);

/* Call callback for every grant of invite_id. INVITES_OK or INVITES_ERROR. */
enum invites_status invites_list_grants(sqlite3 *db, int64_t invite_id,
                                        users_grant_callback callback, void *context);

/* Withdraw an unused invite at now_ms. INVITES_OK (also when it was
 * withdrawn before), INVITES_UNKNOWN, INVITES_USED or INVITES_ERROR. */
enum invites_status invites_withdraw(sqlite3 *db, int64_t id, int64_t now_ms);

/*
 * Use the invite named by token at now_ms: create username with password,
 * the invite's role and grants, and mark the invite used, so a token works
 * once. INVITES_OK fills *user_out. INVITES_UNKNOWN, _USED, _EXPIRED,
 * _WITHDRAWN say why the token is refused; INVITES_ACCOUNT when the
 * username or password is refused (then *account_status and error say why,
 * and the invite stays usable).
 */
enum invites_status invites_accept(sqlite3 *db, const char *token, const char *username,
                                   const char *password, int64_t now_ms, struct user *user_out,
                                   enum users_status *account_status, char *error,
                                   size_t error_size);

/* A short human text for a refused token (INVITES_UNKNOWN... _WITHDRAWN). */
const char *invites_status_message(enum invites_status status);

#endif
