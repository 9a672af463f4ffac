/*
 * login_limiter.h - in-memory brute-force protection for /auth/login (and
 * /auth/setup). Failed attempts are counted per client IP and per username
 * (lower-cased). After LOGIN_LIMITER_THRESHOLD failures within
 * LOGIN_LIMITER_WINDOW_MS for either key, attempts are refused for a lockout
 * that starts at 30 s and doubles with every further failure after it, up
 * to 15 min. A success clears both keys; 15 quiet minutes forgive a key.
 *
 * Thread-safe: all state is one fixed table of LOGIN_LIMITER_SLOTS entries
 * guarded by the module's own mutex, so memory stays bounded however many
 * usernames a flood invents: when the table is full the least recently used
 * entry that is not locked out is reused (a locked one only if all are).
 *
 * now_ms may come from any millisecond clock that does not jump backwards
 * (CLOCK_MONOTONIC is best); all calls must use the same clock.
 */
#ifndef DOORSTEP_LOGIN_LIMITER_H
#define DOORSTEP_LOGIN_LIMITER_H

#include <stddef.h>
#include <stdint.h>

#define LOGIN_LIMITER_SLOTS            1024
#define LOGIN_LIMITER_THRESHOLD        5
#define LOGIN_LIMITER_WINDOW_MS        (15LL * 60 * 1000)
#define LOGIN_LIMITER_FIRST_LOCKOUT_MS (30LL * 1000)
#define LOGIN_LIMITER_MAX_LOCKOUT_MS   (15LL * 60 * 1000)
#define LOGIN_LIMITER_KEY_MAX          64 /* longer IPs or usernames are cut */

enum login_limiter_result {
    LOGIN_LIMITER_ALLOWED = 0,
    LOGIN_LIMITER_BLOCKED = 1,
};

/* May a login for username from ip be attempted now? Either may be NULL or
 * "" to skip that key. When blocked, *retry_after_s (may be NULL) gets the
 * whole seconds until the later of the two lockouts ends (at least 1). */
enum login_limiter_result login_limiter_check(const char *ip, const char *username, int64_t now_ms,
                                              int *retry_after_s);

/* Count a failed attempt against ip and username (NULL or "" skips one).
 * Failures during a lockout are not counted: they were never tried. */
void login_limiter_record_failure(const char *ip, const char *username, int64_t now_ms);

/* A login succeeded: forget the failures and lockouts of ip and username. */
void login_limiter_record_success(const char *ip, const char *username);

/* Forget everything (tests; an admin's "unlock all"). */
void login_limiter_reset(void);

/* Number of table entries in use; never more than LOGIN_LIMITER_SLOTS. */
size_t login_limiter_entry_count(void);

#endif
