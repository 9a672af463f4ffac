/*
 * known_device.h - the "known device" cookie: proof that a browser logged in
 * to an account successfully before. The login limiter (login_limiter.h)
 * does not hold the account-wide failure count against a known device, so
 * an attacker guessing from elsewhere cannot lock the owner out of their own
 * browser.
 *
 * The cookie value is "<user id>.<issued, s since the epoch>.<MAC>", the MAC
 * an HMAC-SHA256 of the first two fields under a random key that the hub
 * creates once and keeps in hub_settings ('known_device_key'). It is valid
 * for the user it names, for KNOWN_DEVICE_LIFETIME_MS. It grants nothing by
 * itself: it only chooses which failure counters a login is checked against.
 *
 * Any thread may call these with its own SQLite connection; the key lives in
 * the database and SQLite's locking protects its one-time creation.
 */
#ifndef DOORSTEP_KNOWN_DEVICE_H
#define DOORSTEP_KNOWN_DEVICE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KNOWN_DEVICE_COOKIE      "__Host-doorstep_device"
#define KNOWN_DEVICE_VALUE_MAX   96 /* "<id>.<seconds>.<43 base64url characters>" */
#define KNOWN_DEVICE_LIFETIME_MS (365LL * 24 * 60 * 60 * 1000)

/* Write a fresh cookie value for user_id into out (at least
 * KNOWN_DEVICE_VALUE_MAX bytes). 0, or -1 on a database or crypto failure
 * (logged). */
int known_device_issue(sqlite3 *db, int64_t user_id, int64_t now_ms, char *out, size_t out_size);

/* True if value (may be NULL) is a cookie this hub issued for user_id and it
 * is less than KNOWN_DEVICE_LIFETIME_MS old. The MAC is compared in constant
 * time. False on any failure. */
bool known_device_check(sqlite3 *db, const char *value, int64_t user_id, int64_t now_ms);

#endif
