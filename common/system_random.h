/*
 * system_random.h - random bytes from the kernel (getrandom(2)) for the code
 * both programs share: the seed of the SPAKE2+ random generator and the
 * pairing setup code (common/spake2plus.c, common/setup_code.c).
 *
 * Threads: any; no state, no lock. Ownership: the caller's buffers only.
 */
#ifndef DOORSTEP_SYSTEM_RANDOM_H
#define DOORSTEP_SYSTEM_RANDOM_H

#include <stddef.h>

/* Fill buffer with length bytes from getrandom(2) (blocking only until the
 * kernel's pool is initialised at boot). Returns 0, or -1 with the reason in
 * error. */
int system_random_fill(void *buffer, size_t length, char *error, size_t error_size);

/* The same, in the shape of mbedTLS's entropy and RNG callbacks
 * (f_entropy/f_rng): context is unused. Returns 0 or -1. */
int system_random_callback(void *context, unsigned char *buffer, size_t length);

#endif
