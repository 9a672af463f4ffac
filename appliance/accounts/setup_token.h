/*
 * setup_token.h - the one-time token that authorises creating the first
 * admin from the web UI. Generated at start when no admin exists, printed in
 * the log as a link and written to <data_dir>/setup-token (mode 0600);
 * consumed (memory wiped, file removed) once the first admin exists.
 *
 * Any thread may call these: the token lives in process memory guarded by
 * the module's own mutex.
 */
#ifndef DOORSTEP_SETUP_TOKEN_H
#define DOORSTEP_SETUP_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#include "accounts/random_bytes.h"

#define SETUP_TOKEN_SIZE      RANDOM_BYTES_TOKEN_SIZE /* 43 characters + NUL */
#define SETUP_TOKEN_FILE_NAME "setup-token"

/* Make a new token (replacing any earlier one), write it with a newline to
 * <data_dir>/setup-token with mode 0600 (refusing to follow a symlink) and
 * copy it into token_out (at least SETUP_TOKEN_SIZE bytes, caller-owned).
 * Returns 0, or -1 (logged); either way an earlier token is no longer valid,
 * and after -1 none is active. */
int setup_token_generate(const char *data_dir, char *token_out, size_t token_size);

/* True if a token is active and token (may be NULL) equals it; compared in
 * constant time. */
bool setup_token_check(const char *token);

/* True while a generated token has not been consumed. */
bool setup_token_active(void);

/* Forget the token (memory wiped) and remove its file. Safe to call when
 * there is none. */
void setup_token_consume(void);

#endif
