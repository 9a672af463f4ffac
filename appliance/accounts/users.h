/*
 * users.h - hub accounts in the users table: creating (including the
 * one-time first admin), authenticating, listing, deleting, changing
 * passwords and roles (users.c), which doorbells a viewer may see
 * (user_devices.c), speak through (user_talk.c) and the rights each grant
 * carries (user_grants.c).
 *
 * Any thread may call these with its own SQLite connection
 * (database_thread_connection()); all shared state lives in the database,
 * whose transactions (BEGIN IMMEDIATE where a check must stay true until the
 * write) provide the locking. Password hashing is capped by password.h.
 */
#ifndef DOORSTEP_USERS_H
#define DOORSTEP_USERS_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define USERS_USERNAME_MAX  64
#define USERS_ROLE_ADMIN    "admin"
#define USERS_ROLE_VIEWER   "viewer"
#define USERS_GRANTS_MAX    256 /* doorbells one request may grant */
#define USERS_DEVICE_ID_MAX 64  /* a doorbell id, NUL included */

/* The rights a viewer's grant of a doorbell carries (user_grants.c); an
 * admin holds all of them on every doorbell. */
#define USERS_RIGHT_LIVE       0x1u /* live view, snapshots of now */
#define USERS_RIGHT_RECORDINGS 0x2u /* timeline, recordings, playback, events */
#define USERS_RIGHT_EXPORT     0x4u /* MP4 clips */
#define USERS_RIGHT_TALK       0x8u /* talk-back, quick replies */
#define USERS_RIGHTS_ALL       0xfu
#define USERS_RIGHTS_VIEW      (USERS_RIGHT_LIVE | USERS_RIGHT_RECORDINGS | USERS_RIGHT_EXPORT)
#define USERS_RIGHTS_TEXT_MAX  32 /* "live,recordings,export,talk" */

/* One doorbell grant of a user: the doorbell and its rights bits. */
struct users_grant {
    char device_id[USERS_DEVICE_ID_MAX];
    unsigned rights;
};

struct user {
    int64_t id;
    char username[USERS_USERNAME_MAX + 1];
    char role[8]; /* "admin" or "viewer" */
};

enum users_status {
    USERS_ERROR = -1, /* database or hashing failure (logged) */
    USERS_OK = 0,
    USERS_INVALID_USERNAME = 1, /* not 1..64 of [A-Za-z0-9._@-] */
    USERS_INVALID_PASSWORD = 2, /* fails password_policy_check() */
    USERS_INVALID_ROLE = 3,     /* not "admin" or "viewer" */
    USERS_USERNAME_TAKEN = 4,   /* another user has it (case-insensitively) */
    USERS_ALREADY_SET_UP = 5,   /* first-admin setup after an admin exists */
    USERS_NOT_FOUND = 6,        /* no such user (or device, when granting) */
    USERS_LAST_ADMIN = 7,       /* refusing to delete the only admin */
    USERS_BAD_CREDENTIALS = 8,  /* unknown user or wrong password: same answer */
    USERS_NOT_GRANTED = 9,      /* talk on a doorbell the user may not see */
};

/* Called once per row by users_list(); return nonzero to stop early. */
typedef int (*users_list_callback)(const struct user *user, void *context);

/* Called once per device id by users_list_devices(); nonzero stops early. */
typedef int (*users_device_callback)(const char *device_id, void *context);

/* Called once per grant by users_list_grants(); nonzero stops early. */
typedef int (*users_grant_callback)(const struct users_grant *grant, void *context);

/* True if username is 1..64 characters of [A-Za-z0-9._@-]. */
bool users_username_valid(const char *username);

/* True if role is "admin" or "viewer". */
bool users_role_valid(const char *role);

/* True if user holds the admin role. */
bool users_is_admin(const struct user *user);

/*
 * Create a user after checking username, role and password policy; the
 * password is stored only as an argon2id hash. On USERS_OK *id_out (may be
 * NULL) is the new id; otherwise error (may be NULL) gets a human reason.
 */
enum users_status users_create(sqlite3 *db, const char *username, const char *password,
                               const char *role, int64_t *id_out, char *error, size_t error_size);

/*
 * Create the first admin, only while no admin exists. The check and the
 * insert are one BEGIN IMMEDIATE transaction, so of two racing setup
 * requests exactly one succeeds; the other gets USERS_ALREADY_SET_UP.
 */
enum users_status users_create_first_admin(sqlite3 *db, const char *username, const char *password,
                                           int64_t *id_out, char *error, size_t error_size);

/* Number of users, or -1 on a database error (logged). */
int64_t users_count(sqlite3 *db);

/* Number of admins, or -1 on a database error (logged). */
int64_t users_count_admins(sqlite3 *db);

/*
 * Check a login. USERS_OK fills *user_out; an unknown user and a wrong
 * password both give USERS_BAD_CREDENTIALS after one argon2id verification
 * each, so neither the answer nor its timing tells them apart. USERS_ERROR
 * on database failure or a corrupt stored hash.
 */
enum users_status users_authenticate(sqlite3 *db, const char *username, const char *password,
                                     struct user *user_out);

/* Look a user up by id: USERS_OK (fills *user_out), USERS_NOT_FOUND or USERS_ERROR. */
enum users_status users_find_by_id(sqlite3 *db, int64_t id, struct user *user_out);

/* Look a user up by name (case-insensitively), like users_find_by_id(). */
enum users_status users_find_by_username(sqlite3 *db, const char *username, struct user *user_out);

/* Call callback for every user in id order. The struct passed is only valid
 * during the call. USERS_OK (also when stopped early) or USERS_ERROR. */
enum users_status users_list(sqlite3 *db, users_list_callback callback, void *context);

/* Call callback for every device id granted to user_id, in id order. The
 * string is only valid during the call. USERS_OK or USERS_ERROR. */
enum users_status users_list_devices(sqlite3 *db, int64_t user_id, users_device_callback callback,
                                     void *context);

/* Delete a user with their sessions and device grants. Refuses the last
 * admin with USERS_LAST_ADMIN; USERS_NOT_FOUND if there is no such user. */
enum users_status users_delete(sqlite3 *db, int64_t user_id);

/* Replace a user's password (policy-checked) and end all their sessions, in
 * one transaction. USERS_OK, USERS_INVALID_PASSWORD, USERS_NOT_FOUND or
 * USERS_ERROR; error (may be NULL) gets a human reason. */
enum users_status users_set_password(sqlite3 *db, int64_t user_id, const char *password,
                                     char *error, size_t error_size);

/* Change a user's role ("admin" or "viewer"). Refuses to demote the last
 * admin (USERS_LAST_ADMIN); USERS_INVALID_ROLE, USERS_NOT_FOUND or
 * USERS_ERROR otherwise. Setting the role a user has is USERS_OK. */
enum users_status users_set_role(sqlite3 *db, int64_t user_id, const char *role);

/* Replace a user's doorbell grants with device_ids (count of them, at most
 * USERS_GRANTS_MAX), in one transaction (user_devices.c); a grant that stays
 * keeps its talk right. USERS_NOT_FOUND if the user or one of the doorbells
 * does not exist (nothing changes). */
enum users_status users_set_devices(sqlite3 *db, int64_t user_id, const char *const *device_ids,
                                    size_t count);

/* Let a viewer see a doorbell. Idempotent. USERS_NOT_FOUND if the user or
 * the device does not exist. */
enum users_status users_grant_device(sqlite3 *db, int64_t user_id, const char *device_id);

/* Withdraw a grant. Idempotent: USERS_OK also when there was none. */
enum users_status users_revoke_device(sqlite3 *db, int64_t user_id, const char *device_id);

/* May user see device_id? Only user->id is used: the user's current row is
 * read, so a removed user or a changed role counts at once. The doorbell
 * must exist (and not be revoked); then admins always, viewers only with a
 * grant. A database error answers false (logged): failing closed. */
bool users_can_see_device(sqlite3 *db, const struct user *user, const char *device_id);

/* May user speak through device_id (talk WebSocket)? As
 * users_can_see_device, but a viewer's grant must carry the talk right.
 * Fails closed. */
bool users_can_talk_to_device(sqlite3 *db, const struct user *user, const char *device_id);

/* Call callback for every device id on which user_id holds the talk right
 * (as a viewer's grant), in id order. USERS_OK or USERS_ERROR. */
enum users_status users_list_talk_devices(sqlite3 *db, int64_t user_id,
                                          users_device_callback callback, void *context);

/* Give user_id the talk right on exactly device_ids (count of them), in one
 * transaction: each must be one of the user's granted doorbells, else
 * USERS_NOT_GRANTED and nothing changes. USERS_NOT_FOUND without the user. */
enum users_status users_set_talk_devices(sqlite3 *db, int64_t user_id,
                                         const char *const *device_ids, size_t count);

/* The rights user holds on device_id now (user_grants.c): -1 if the user
 * may not see it at all (no such user or doorbell, no grant, a database
 * error: failing closed), else a nonzero USERS_RIGHT_* mask; every right for
 * an admin. Only user->id is used: the current row is read. */
int users_device_rights(sqlite3 *db, const struct user *user, const char *device_id);

/* True if device_id names a doorbell that exists and is not revoked. */
bool users_device_exists(sqlite3 *db, const char *device_id);

/* Call callback for every grant of user_id (with at least one right), in
 * device id order. The struct is only valid during the call. USERS_OK or
 * USERS_ERROR. */
enum users_status users_list_grants(sqlite3 *db, int64_t user_id, users_grant_callback callback,
                                    void *context);

/* Replace all of user_id's grants with grants (count of them, at most
 * USERS_GRANTS_MAX), in one transaction; a grant whose rights are 0 is
 * left out. USERS_NOT_FOUND if the user or one of the doorbells does not
 * exist (nothing changes). */
enum users_status users_set_grants(sqlite3 *db, int64_t user_id, const struct users_grant *grants,
                                   size_t count);

/* Add the rights add and take the rights remove on one doorbell grant of
 * user_id, in one transaction; a grant left with no right is deleted.
 * *rights_out (may be NULL) gets the rights the grant now holds.
 * USERS_NOT_FOUND without the user or the doorbell. */
enum users_status users_change_grant(sqlite3 *db, int64_t user_id, const char *device_id,
                                     unsigned add, unsigned remove, unsigned *rights_out);

/* The USERS_RIGHT_* bit named "live", "recordings", "export" or "talk"; 0
 * for anything else. */
unsigned users_right_from_name(const char *name);

/* The name of one USERS_RIGHT_* bit ("?" for anything else). */
const char *users_right_name(unsigned right);

/* rights as "live,recordings,..." ("none" for 0) into out. */
void users_rights_text(unsigned rights, char *out, size_t out_size);

#endif
