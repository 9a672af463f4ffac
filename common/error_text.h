/*
 * error_text.h - the one way modules write a human-readable failure reason
 * into a caller's buffer ("char *error, size_t error_size" parameters).
 * Pure function; any thread.
 */
#ifndef DOORSTEP_ERROR_TEXT_H
#define DOORSTEP_ERROR_TEXT_H

#include <stddef.h>

/* snprintf into error, which may be NULL (then nothing is written); the text
 * is cut to error_size - 1 bytes and always NUL-terminated. */
void error_text_set(char *error, size_t error_size, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

#endif
