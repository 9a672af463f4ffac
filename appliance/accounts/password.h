/*
 * password.h - password hashing for hub accounts: argon2id with the OWASP
 * parameters (m=19456 KiB, t=2, p=1, 16-byte salt, 32-byte hash) in PHC
 * encoded form, verification, a dummy verification for unknown users, and
 * the password policy.
 *
 * Any thread may call these. Each hash or verification needs 19 MiB and tens
 * of milliseconds, so a process-wide counting semaphore lets at most
 * PASSWORD_MAX_CONCURRENT of them run at once; further callers block on it.
 * The semaphore is the only shared state.
 */
#ifndef DOORSTEP_PASSWORD_H
#define DOORSTEP_PASSWORD_H

#include <stddef.h>
#include <stdint.h>

#define PASSWORD_MIN_BYTES      10
#define PASSWORD_MAX_BYTES      256
#define PASSWORD_MAX_CONCURRENT 2

/* Enough for "$argon2id$v=19$m=19456,t=2,p=1$<22 salt>$<43 hash>" (97) + NUL. */
#define PASSWORD_HASH_SIZE 128

enum password_result {
    PASSWORD_ERROR = -1, /* malformed stored hash, out of memory (logged) */
    PASSWORD_MATCH = 0,
    PASSWORD_MISMATCH = 1,
};

enum password_policy {
    PASSWORD_POLICY_OK = 0,
    PASSWORD_POLICY_TOO_SHORT, /* fewer than PASSWORD_MIN_BYTES bytes */
    PASSWORD_POLICY_TOO_LONG,  /* more than PASSWORD_MAX_BYTES bytes */
    PASSWORD_POLICY_NOT_UTF8,  /* not valid UTF-8 */
};

/* Hash password with a fresh random salt into encoded_out (at least
 * PASSWORD_HASH_SIZE bytes). Blocks while two other hashes run.
 * Returns 0, or -1 (logged) on failure with encoded_out set to "". */
int password_hash(const char *password, char *encoded_out, size_t encoded_size);

/* Check password against an encoded argon2id hash from password_hash().
 * Blocks while two other hashes run. */
enum password_result password_verify(const char *encoded, const char *password);

/* Spend the same time as password_verify() against a fixed dummy hash and
 * discard the result: used when the user does not exist so that the answer
 * takes as long as for a real user with a wrong password. */
void password_verify_dummy(const char *password);

/* libargon2's allocate_cbk and free_cbk for any Argon2id the hub runs: the
 * working block is a fresh anonymous mapping, unmapped (back to the kernel)
 * as soon as the hash is done. ARGON2_OK or ARGON2_MEMORY_ALLOCATION_ERROR. */
int password_memory_allocate(uint8_t **memory, size_t bytes);
void password_memory_free(uint8_t *memory, size_t bytes);

/* Check the policy: PASSWORD_MIN_BYTES..PASSWORD_MAX_BYTES bytes of valid
 * UTF-8. NULL is PASSWORD_POLICY_TOO_SHORT. */
enum password_policy password_policy_check(const char *password);

/* Human text for a policy result ("password must be at least 10 bytes"). */
const char *password_policy_message(enum password_policy result);

#endif
