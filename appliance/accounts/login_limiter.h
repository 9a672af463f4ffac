/*
 * login_limiter.h - in-memory brute-force protection for /auth/login.
 *
 * Three counters limit failed logins, so that an attacker on one address can
 * neither lock the owner out elsewhere nor get more than a handful of
 * guesses per hour at an account however many addresses they use:
 *
 *   pair     (username, address): 5 failures within 15 min lock that pair
 *            only, for 30 s, doubling with every further failure to 15 min.
 *   address  every username from one address: 20 failures per hour.
 *   account  one username from every client that is not a known device
 *            (known_device.h): 10 failures per hour.
 *
 * A client with a valid known-device cookie for the account is checked
 * against the pair and address counters only, and its failures do not count
 * against the account: the owner on their own browser is never locked out by
 * an attacker elsewhere. Usernames are lower-cased (ASCII).
 *
 * An attempt is reserved under the lock before the password is hashed
 * (login_limiter_begin) and settled after (login_limiter_fail / _succeed /
 * _release), and reserved attempts count like failures: however many
 * requests race, at most as many are hashed as failures remain.
 *
 * Thread-safe: all state is one fixed table of LOGIN_LIMITER_SLOTS entries
 * guarded by the module's own mutex, so memory stays bounded however many
 * usernames a flood invents: when the table is full the least recently used
 * entry that is neither locked out nor reserved is reused.
 *
 * now_ms may come from any millisecond clock that does not jump backwards
 * (CLOCK_MONOTONIC is best); all calls must use the same clock.
 */
#ifndef DOORSTEP_LOGIN_LIMITER_H
#define DOORSTEP_LOGIN_LIMITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOGIN_LIMITER_SLOTS             4096
#define LOGIN_LIMITER_PAIR_THRESHOLD    5
#define LOGIN_LIMITER_PAIR_WINDOW_MS    (15LL * 60 * 1000)
#define LOGIN_LIMITER_FIRST_LOCKOUT_MS  (30LL * 1000)
#define LOGIN_LIMITER_MAX_LOCKOUT_MS    (15LL * 60 * 1000)
#define LOGIN_LIMITER_ADDRESS_THRESHOLD 20
#define LOGIN_LIMITER_ACCOUNT_THRESHOLD 10
#define LOGIN_LIMITER_HOUR_MS           (60LL * 60 * 1000)
#define LOGIN_LIMITER_NAME_MAX          64 /* longer addresses or usernames are cut */

enum login_limiter_result {
    LOGIN_LIMITER_ALLOWED = 0,
    LOGIN_LIMITER_BLOCKED = 1,
};

/* One reserved attempt, on the caller's stack between begin and settle. */
struct login_limiter_attempt {
    char address[LOGIN_LIMITER_NAME_MAX + 1];
    char username[LOGIN_LIMITER_NAME_MAX + 1];
    bool known_device;
    bool reserved; /* true from an allowed begin until it is settled */
};

/*
 * May username from address (either may be NULL or "" to skip its
 * counters) try a password now? If allowed, the attempt is reserved and
 * *attempt must be settled exactly once with login_limiter_fail(),
 * login_limiter_succeed() or login_limiter_release(). When blocked,
 * *retry_after_s (may be NULL) gets the whole seconds until an attempt may
 * be allowed again (at least 1) and there is nothing to settle.
 */
enum login_limiter_result login_limiter_begin(const char *address, const char *username,
                                              bool known_device, int64_t now_ms, int *retry_after_s,
                                              struct login_limiter_attempt *attempt);

/* The password was wrong: count a failure on every counter of the attempt. */
void login_limiter_fail(struct login_limiter_attempt *attempt, int64_t now_ms);

/* The login succeeded: forget the pair's failures and lockouts. The address
 * and account counters keep theirs (others may be guessing). */
void login_limiter_succeed(struct login_limiter_attempt *attempt, int64_t now_ms);

/* Nothing was learnt (a database error): drop the reservation uncounted. */
void login_limiter_release(struct login_limiter_attempt *attempt, int64_t now_ms);

/* Forget everything (tests; an admin's "unlock all"). */
void login_limiter_reset(void);

/* Number of table entries in use; never more than LOGIN_LIMITER_SLOTS. */
size_t login_limiter_entry_count(void);

#endif
