/*
 * setup_code.h - the doorbell's 8-digit pairing setup code and the SPAKE2+
 * values derived from it (RFC 9383 section 3.2):
 *
 *   w0s || w1s = Argon2id(len(code) || code || len(idProver) || idProver
 *                         || len(idVerifier) || idVerifier, salt), 80 bytes
 *   w0 = w0s mod p, w1 = w1s mod p, L = w1*P
 *
 * where len() is 8 bytes little-endian, idProver is empty (the hub is not
 * known when the code is made) and idVerifier is the doorbell's identity.
 * The doorbell keeps only a record (salt, Argon2id parameters, w0, L),
 * never the code nor w1; it sends salt and parameters to the hub, which
 * derives w0 and w1 from the code the user typed (setup_code_derive()).
 * docs/protocol.md, "Pairing: SPAKE2+", states the parameters.
 *
 * Threads: any; no state. Ownership: the caller's buffers only; the
 * functions wipe the secrets they hold on the stack before returning.
 */
#ifndef DOORSTEP_SETUP_CODE_H
#define DOORSTEP_SETUP_CODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/spake2plus.h"

#define SETUP_CODE_DIGITS    8
#define SETUP_CODE_SIZE      (SETUP_CODE_DIGITS + 1) /* with the NUL */
#define SETUP_CODE_SALT_SIZE 16
/* Each of w0s and w1s: ceil(log2(p)) + 64 bits = 40 bytes for P-256, so the
 * reduction modulo p has a bias of at most 2^-64 (RFC 9383 section 3.2). */
#define SETUP_CODE_HALF_SIZE 40

/* Argon2id's costs: passes over the memory, KiB of memory, lanes. */
struct setup_code_parameters {
    uint32_t time_cost;
    uint32_t memory_kib;
    uint32_t parallelism;
};

/* The costs new records get: 3 passes over 32 MiB in one lane. */
#define SETUP_CODE_TIME_COST   3
#define SETUP_CODE_MEMORY_KIB  32768
#define SETUP_CODE_PARALLELISM 1

/* The bounds the hub accepts from a doorbell (the parameters come from the
 * network: a hostile doorbell must not make the hub allocate gigabytes). */
#define SETUP_CODE_TIME_COST_MAX   16
#define SETUP_CODE_MEMORY_KIB_MIN  8
#define SETUP_CODE_MEMORY_KIB_MAX  262144 /* 256 MiB */
#define SETUP_CODE_PARALLELISM_MAX 4

/* What a doorbell stores in place of its setup code. */
struct setup_code_record {
    uint8_t salt[SETUP_CODE_SALT_SIZE];
    struct setup_code_parameters parameters;
    uint8_t w0[SPAKE2PLUS_SCALAR_SIZE];
    uint8_t l[SPAKE2PLUS_POINT_SIZE];
};

/* The default parameters (SETUP_CODE_TIME_COST, ...). */
struct setup_code_parameters setup_code_default_parameters(void);

/* Make a fresh code: 8 decimal digits, uniform over the 10^8 codes minus the
 * trivial ones (setup_code_wellformed()), from getrandom(2), NUL-terminated
 * into code (code_size >= SETUP_CODE_SIZE). Returns 0 or -1 with the reason. */
int setup_code_generate(char *code, size_t code_size, char *error, size_t error_size);

/* True if code is exactly 8 ASCII digits and not one of the codes Matter
 * refuses as trivial: 00000000, 11111111, ..., 99999999, 12345678 and
 * 87654321. Reads at most 9 bytes; NULL is false. */
bool setup_code_wellformed(const char *code);

/* Check parameters received from a doorbell against the bounds above.
 * Returns 0 or -1 with the reason. */
int setup_code_check_parameters(const struct setup_code_parameters *parameters, char *error,
                                size_t error_size);

/* Derive w0 and w1 (SPAKE2PLUS_SCALAR_SIZE bytes each) from a well-formed
 * code, the record's salt and parameters and the doorbell's identity
 * (verifier_identity, at most SPAKE2PLUS_IDENTITY_MAX bytes). Takes about
 * a second on a Pi Zero 2 W with the default parameters. Returns 0, or -1
 * with the reason (w0 and w1 then zeroed). */
int setup_code_derive(const char *code, const uint8_t *salt,
                      const struct setup_code_parameters *parameters,
                      const uint8_t *verifier_identity, size_t verifier_identity_length,
                      uint8_t *w0, uint8_t *w1, char *error, size_t error_size);

/* Where Argon2id's working memory comes from: libargon2's allocate_cbk and
 * free_cbk (the hub maps and unmaps it so the memory goes back to the
 * kernel at once: appliance/accounts/password.h). */
struct setup_code_memory {
    int (*allocate)(uint8_t **memory, size_t bytes);
    void (*release)(uint8_t *memory, size_t bytes);
};

/* setup_code_derive() with memory from memory's callbacks (NULL: libargon2's
 * own malloc). */
int setup_code_derive_with(const char *code, const uint8_t *salt,
                           const struct setup_code_parameters *parameters,
                           const uint8_t *verifier_identity, size_t verifier_identity_length,
                           const struct setup_code_memory *memory, uint8_t *w0, uint8_t *w1,
                           char *error, size_t error_size);

/* Make the doorbell's record for code: a random salt, the given parameters,
 * w0 and L = w1*P (w1 is wiped). Returns 0, or -1 with the reason. */
int setup_code_make_record(const char *code, const struct setup_code_parameters *parameters,
                           const uint8_t *verifier_identity, size_t verifier_identity_length,
                           struct setup_code_record *record, char *error, size_t error_size);

#endif
