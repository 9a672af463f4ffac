/*
 * random_bytes.h - cryptographically secure random bytes from the kernel
 * (getrandom(2)) and the base64url tokens the accounts code hands out
 * (session cookies, CSRF tokens, the one-time setup token, invites): making
 * them, checking their shape, comparing them in constant time, and the
 * SHA-256 the database keeps instead of a token.
 *
 * Any thread may call these; they keep no state and need no lock.
 */
#ifndef DOORSTEP_RANDOM_BYTES_H
#define DOORSTEP_RANDOM_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Random bytes behind every token, and the token's text length: base64url of
 * 32 bytes without padding is 43 characters. */
#define RANDOM_BYTES_TOKEN_BYTES  32
#define RANDOM_BYTES_TOKEN_LENGTH 43
#define RANDOM_BYTES_TOKEN_SIZE   (RANDOM_BYTES_TOKEN_LENGTH + 1)
#define RANDOM_BYTES_TOKEN_HASH   32 /* bytes of a token's SHA-256 */

/* Fill buffer with length random bytes; blocks only until the kernel pool is
 * initialised at boot. Returns 0, or -1 (logged) if getrandom(2) fails. */
int random_bytes_fill(void *buffer, size_t length);

/* Encode length bytes as base64url without padding into out (NUL-terminated).
 * Returns the text length, or -1 if out_size is too small. */
int random_bytes_base64url(const uint8_t *data, size_t length, char *out, size_t out_size);

/* Make a fresh token: 32 random bytes as 43 base64url characters into out
 * (at least RANDOM_BYTES_TOKEN_SIZE bytes). Returns 0 or -1. */
int random_bytes_token(char *out, size_t out_size);

/* True if text has the shape of a token from random_bytes_token(): exactly 43
 * characters of [A-Za-z0-9_-]. Reads at most 44 bytes of text; NULL is false. */
bool random_bytes_token_wellformed(const char *text);

/* Compare two tokens in time that does not depend on where they differ.
 * False unless both are well-formed (random_bytes_token_wellformed()) and
 * equal; the shape check itself is not secret. */
bool random_bytes_token_equal(const char *a, const char *b);

/* SHA-256 of a token's text into hash_out: what a table keeps in place of
 * the token (sessions, invites), so a copy of the database hands out
 * nothing. Returns 0, or -1 (logged). */
int random_bytes_token_hash(const char *token, uint8_t hash_out[RANDOM_BYTES_TOKEN_HASH]);

#endif
